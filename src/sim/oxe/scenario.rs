//! Scripted scenarios for the simulated OXE: what the phones and outside callers do, step by
//! step (the gateway's own requests come over the link). Each scenario names its calls by tag
//! so later steps can act on them.

use super::switch::Switch;
use std::collections::HashMap;

/// One thing a phone, an outside caller or the PBX does.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// `from` dials `to`; the call is known as `tag` from now on.
    Dial {
        tag: &'static str,
        from: String,
        to: String,
    },
    Answer {
        tag: &'static str,
        dev: String,
    },
    Hangup {
        tag: &'static str,
        dev: String,
    },
    Hold {
        tag: &'static str,
        dev: String,
    },
    Retrieve {
        tag: &'static str,
        dev: String,
    },
    /// `dev` holds `tag` and dials `to` (the consultation call is `new`).
    Consult {
        tag: &'static str,
        dev: String,
        to: String,
        new: &'static str,
    },
    Transfer {
        held: &'static str,
        active: &'static str,
        dev: String,
    },
    Conference {
        held: &'static str,
        active: &'static str,
        dev: String,
    },
    Deflect {
        tag: &'static str,
        dev: String,
        to: String,
    },
    /// Immediate forwarding on (`Some`) or off, set from the phone.
    Forward {
        dev: String,
        to: Option<String>,
    },
    /// A CCD agent changes state from the set (loggedOn 0, loggedOff 1, notReady 2, ready 3,
    /// workNotReady 4, workReady 5).
    Agent {
        dev: String,
        state: i64,
    },
    /// The PBX restarts (the server drops the link and refuses connections for a while).
    Reset,
}

/// The scenarios the simulator knows, by name.
pub const NAMES: &[&str] = &[
    "inbound",
    "internal",
    "hold",
    "transfer",
    "conference",
    "forward",
    "trunk",
    "ccd-timer384-zero",
    "ccd-timer384",
    "reset",
];

/// An outside caller as the PBX shows it: outside-line prefix `0` + national number.
pub const CALLER: &str = "00612345678";
/// An outside number dialled from an extension.
pub const OUTSIDE: &str = "00123456789";

/// The steps of a scenario for devices `a`, `b`, `c` (extensions) and `agent` (a CCD agent),
/// each with the pause before it (seconds at pace 1).
pub fn steps(name: &str, a: &str, b: &str, c: &str, agent: &str) -> Option<Vec<(f64, Step)>> {
    use Step::*;
    let s = |x: &str| x.to_string();
    Some(match name {
        "inbound" => vec![
            (
                0.5,
                Dial {
                    tag: "c1",
                    from: s(CALLER),
                    to: s(a),
                },
            ),
            (
                1.5,
                Answer {
                    tag: "c1",
                    dev: s(a),
                },
            ),
            (
                2.0,
                Hangup {
                    tag: "c1",
                    dev: s(CALLER),
                },
            ),
        ],
        "internal" => vec![
            (
                0.5,
                Dial {
                    tag: "c1",
                    from: s(a),
                    to: s(b),
                },
            ),
            (
                1.5,
                Answer {
                    tag: "c1",
                    dev: s(b),
                },
            ),
            (
                2.0,
                Hangup {
                    tag: "c1",
                    dev: s(a),
                },
            ),
        ],
        "hold" => vec![
            (
                0.5,
                Dial {
                    tag: "c1",
                    from: s(CALLER),
                    to: s(a),
                },
            ),
            (
                1.0,
                Answer {
                    tag: "c1",
                    dev: s(a),
                },
            ),
            (
                1.5,
                Hold {
                    tag: "c1",
                    dev: s(a),
                },
            ),
            (
                1.5,
                Retrieve {
                    tag: "c1",
                    dev: s(a),
                },
            ),
            (
                1.5,
                Hangup {
                    tag: "c1",
                    dev: s(a),
                },
            ),
        ],
        "transfer" => vec![
            (
                0.5,
                Dial {
                    tag: "c1",
                    from: s(CALLER),
                    to: s(a),
                },
            ),
            (
                1.0,
                Answer {
                    tag: "c1",
                    dev: s(a),
                },
            ),
            (
                1.5,
                Consult {
                    tag: "c1",
                    dev: s(a),
                    to: s(b),
                    new: "c2",
                },
            ),
            (
                1.0,
                Answer {
                    tag: "c2",
                    dev: s(b),
                },
            ),
            (
                1.5,
                Transfer {
                    held: "c1",
                    active: "c2",
                    dev: s(a),
                },
            ),
            (
                2.0,
                Hangup {
                    tag: "c1",
                    dev: s(CALLER),
                },
            ),
        ],
        "conference" => vec![
            (
                0.5,
                Dial {
                    tag: "c1",
                    from: s(CALLER),
                    to: s(a),
                },
            ),
            (
                1.0,
                Answer {
                    tag: "c1",
                    dev: s(a),
                },
            ),
            (
                1.0,
                Consult {
                    tag: "c1",
                    dev: s(a),
                    to: s(b),
                    new: "c2",
                },
            ),
            (
                1.0,
                Answer {
                    tag: "c2",
                    dev: s(b),
                },
            ),
            (
                1.5,
                Conference {
                    held: "c1",
                    active: "c2",
                    dev: s(a),
                },
            ),
            (
                2.0,
                Hangup {
                    tag: "c1",
                    dev: s(b),
                },
            ),
            (
                1.0,
                Hangup {
                    tag: "c1",
                    dev: s(a),
                },
            ),
        ],
        "forward" => vec![
            (
                0.5,
                Forward {
                    dev: s(b),
                    to: Some(s(c)),
                },
            ),
            (
                0.5,
                Dial {
                    tag: "c1",
                    from: s(a),
                    to: s(b),
                },
            ),
            (
                1.5,
                Answer {
                    tag: "c1",
                    dev: s(c),
                },
            ),
            (
                1.5,
                Hangup {
                    tag: "c1",
                    dev: s(c),
                },
            ),
            (
                0.5,
                Forward {
                    dev: s(b),
                    to: None,
                },
            ),
        ],
        "trunk" => vec![
            (
                0.5,
                Dial {
                    tag: "c1",
                    from: s(a),
                    to: s(OUTSIDE),
                },
            ),
            (
                1.5,
                Answer {
                    tag: "c1",
                    dev: s(OUTSIDE),
                },
            ),
            (
                2.0,
                Hangup {
                    tag: "c1",
                    dev: s(a),
                },
            ),
        ],
        "ccd-timer384-zero" | "ccd-timer384" => vec![
            (
                0.2,
                Agent {
                    dev: s(agent),
                    state: 3,
                },
            ),
            (
                0.5,
                Dial {
                    tag: "c1",
                    from: s(CALLER),
                    to: s(agent),
                },
            ),
            (
                1.0,
                Answer {
                    tag: "c1",
                    dev: s(agent),
                },
            ),
            (
                2.0,
                Hangup {
                    tag: "c1",
                    dev: s(CALLER),
                },
            ),
        ],
        "reset" => vec![
            (
                0.5,
                Dial {
                    tag: "c1",
                    from: s(CALLER),
                    to: s(a),
                },
            ),
            (
                1.0,
                Answer {
                    tag: "c1",
                    dev: s(a),
                },
            ),
            (1.0, Reset),
        ],
        _ => return None,
    })
}

/// The steps of a scenario as the demo loop plays it: as [`steps`], and in `ccd-timer384`
/// the agent, whose set the PBX left busy (timer 384 > 0), notices the silent line and hangs
/// up after a while (long enough for the gateway to show the agent blocked), so the loop
/// leaves no call behind and never grows.
pub fn demo_steps(name: &str, a: &str, b: &str, c: &str, agent: &str) -> Option<Vec<(f64, Step)>> {
    let mut v = steps(name, a, b, c, agent)?;
    if name == "ccd-timer384" {
        v.push((
            6.0,
            Step::Hangup {
                tag: "c1",
                dev: agent.to_string(),
            },
        ));
    }
    Some(v)
}

/// Plays steps on a switch, keeping the calls' tags.
#[derive(Debug, Default)]
pub struct Player {
    calls: HashMap<&'static str, u16>,
}

impl Player {
    /// Plays one step; a step on a call that has vanished (a user acted meanwhile) does
    /// nothing. Returns true for [`Step::Reset`], which the server carries out.
    pub fn play(&mut self, sw: &mut Switch, step: &Step) -> bool {
        let id = |t: &str| self.calls.get(t).copied().unwrap_or(0);
        match step {
            Step::Dial { tag, from, to } => {
                let c = sw.originate(from, to);
                self.calls.insert(tag, c);
            }
            Step::Answer { tag, dev } => {
                let _ = sw.answer(id(tag), dev);
            }
            Step::Hangup { tag, dev } => {
                let _ = sw.clear(id(tag), dev);
            }
            Step::Hold { tag, dev } => {
                let _ = sw.hold(id(tag), dev, None);
            }
            Step::Retrieve { tag, dev } => {
                let _ = sw.retrieve(id(tag), dev);
            }
            Step::Consult { tag, dev, to, new } => {
                if let Ok(c) = sw.consult(id(tag), dev, to) {
                    self.calls.insert(new, c);
                }
            }
            Step::Transfer { held, active, dev } => {
                let _ = sw.join(id(held), id(active), dev, false);
            }
            Step::Conference { held, active, dev } => {
                let _ = sw.join(id(held), id(active), dev, true);
            }
            Step::Deflect { tag, dev, to } => {
                let _ = sw.deflect(id(tag), dev, to);
            }
            Step::Forward { dev, to } => {
                use ctigw_codecs::csta_ber::types::ForwardingType as F;
                match to {
                    Some(t) => sw.set_forward(dev, F::ForwardImmediateOn, Some(t.clone())),
                    None => sw.set_forward(dev, F::ForwardImmediateOff, None),
                }
            }
            Step::Agent { dev, state } => {
                let _ = sw.agent_state(dev, None, *state);
            }
            Step::Reset => return true,
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::oxe::SwitchConfig;

    /// The demo loop, played on the switch as the server plays it: after every scenario no
    /// call is left (the timer-384 one included), over several rounds.
    #[test]
    fn the_demo_loop_leaves_no_call_behind() {
        let mut sw = Switch::new(SwitchConfig::default());
        let mut player = Player::default();
        for round in 0..4 {
            for name in NAMES.iter().filter(|n| **n != "reset") {
                if *name == "ccd-timer384" {
                    sw.cfg.timer_384_zero = false;
                } else if *name == "ccd-timer384-zero" {
                    sw.cfg.timer_384_zero = true;
                }
                let steps = demo_steps(name, "24101", "24102", "24103", "24110").unwrap();
                let mut most = 0;
                for (_, step) in &steps {
                    player.play(&mut sw, step);
                    most = most.max(sw.calls().len());
                    let _ = sw.take();
                }
                assert!(most >= 1, "round {round}, {name}: no call was made");
                assert!(
                    sw.calls().is_empty(),
                    "round {round}, {name} left calls behind: {:?}",
                    sw.calls()
                );
            }
        }
    }
}
