//! Property tests of the engine: random adapter event sequences (and commands with their
//! results) must keep the engine's invariants, and a client that applies the events after a
//! snapshot must end with the same state as the engine.

use ctigw::engine::invariants::EventChecker;
use ctigw::engine::rainbow::{RainbowStatus, leg_status};
use ctigw::engine::{ApiEvent, Engine, EngineConfig, Output, Sequenced, Snapshot};
use ctigw::model::*;
use proptest::prelude::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

const DEVICES: [&str; 4] = ["24101", "24102", "24103", "24104"];
const OTHERS: [&str; 3] = ["00612345678", "0123456789", "24199"];
const CALLS: [&str; 5] = ["2b01", "2b02", "2b03", "2b04", "2b05"];

fn device() -> impl Strategy<Value = String> {
    prop_oneof![3 => prop::sample::select(&DEVICES[..]), 1 => prop::sample::select(&OTHERS[..])]
        .prop_map(str::to_string)
}

fn state() -> impl Strategy<Value = ConnectionState> {
    prop::sample::select(&ConnectionState::ALL[..])
}

fn kind() -> impl Strategy<Value = CallEventKind> {
    use CallEventKind::*;
    prop::sample::select(vec![
        ServiceInitiated,
        Originated,
        NetworkReached,
        Delivered,
        Queued,
        Established,
        Held,
        Retrieved,
        Diverted,
        Failed,
        ConnectionCleared,
        Transferred,
        Conferenced,
        Updated,
    ])
}

#[derive(Debug, Clone)]
enum Step {
    Pbx(PbxEvent),
    Command(Command),
    /// Answer the n-th outstanding request (modulo) with success or failure.
    Result(usize, bool, Option<&'static str>),
    /// Let time pass (command time-outs).
    Wait(u64),
}

fn pbx_event() -> impl Strategy<Value = PbxEvent> {
    let call_event = (
        prop::sample::select(&CALLS[..]),
        kind(),
        prop::collection::vec((device(), state()), 0..4),
        prop::option::of(device()),
        prop::option::of(device()),
        prop::collection::vec(prop::sample::select(&CALLS[..]), 0..2),
    )
        .prop_map(|(call, kind, conns, calling, called, merged)| {
            let mut ev = CallEvent::new(call, kind).parties(calling.as_deref(), called.as_deref());
            for (d, s) in conns {
                ev = ev.with(&d, s);
            }
            ev.merged = merged.into_iter().map(str::to_string).collect();
            PbxEvent::Call(ev)
        });
    let snapshot = (
        prop::sample::select(&DEVICES[..]),
        prop::collection::vec((prop::sample::select(&CALLS[..]), device(), state()), 0..3),
    )
        .prop_map(|(d, calls)| PbxEvent::Snapshot {
            device: DeviceId::new(d),
            calls: calls
                .into_iter()
                .map(|(c, other, st)| SnapshotCall {
                    call: c.to_string(),
                    connections: vec![
                        ConnectionUpdate {
                            device: DeviceId::new(d),
                            state: ConnectionState::Connected,
                        },
                        ConnectionUpdate {
                            device: DeviceId::new(&other),
                            state: st,
                        },
                    ],
                })
                .collect(),
        });
    prop_oneof![
        10 => call_event,
        2 => prop::sample::select(&CALLS[..]).prop_map(|c| PbxEvent::CallCleared { call: c.into(), cause: None, time: None }),
        1 => snapshot,
        1 => (prop::sample::select(&DEVICES[..]), any::<bool>()).prop_map(|(d, ok)| PbxEvent::Monitor {
            device: DeviceId::new(d),
            result: if ok { Ok(()) } else { Err(CommandError::new(ErrorCode::ResourceLimit, "overallMonitorLimitExceeded")) },
        }),
        1 => prop_oneof![Just(LinkState::Up), Just(LinkState::Down { reason: "cut".into() })].prop_map(PbxEvent::Link),
        1 => (prop::sample::select(&DEVICES[..]), prop::sample::select(vec![AgentState::Ready, AgentState::NotReady, AgentState::LoggedOff]))
            .prop_map(|(d, s)| PbxEvent::Agent { device: DeviceId::new(d), agent_id: format!("a{d}"), state: s, reason: None }),
        1 => (prop::sample::select(&DEVICES[..]), any::<bool>()).prop_map(|(d, on)| PbxEvent::Dnd { device: DeviceId::new(d), enabled: on }),
        1 => (prop::sample::select(&DEVICES[..]), any::<bool>()).prop_map(|(d, online)| PbxEvent::DeviceOnline { device: DeviceId::new(d), online }),
    ]
}

fn command() -> impl Strategy<Value = Command> {
    let dev = prop::sample::select(&DEVICES[..]).prop_map(DeviceId::new);
    // call ids as the engine numbers them: c-1 ... c-6
    let call = (1u32..7).prop_map(|n| CallId::new(&format!("c-{n}")));
    prop_oneof![
        (dev.clone(), device()).prop_map(|(device, to)| Command::MakeCall { device, to }),
        (dev.clone(), call.clone())
            .prop_map(|(device, call_id)| Command::Answer { device, call_id }),
        (dev.clone(), call.clone())
            .prop_map(|(device, call_id)| Command::Hangup { device, call_id }),
        (dev.clone(), call.clone()).prop_map(|(device, call_id)| Command::Hold { device, call_id }),
        (dev.clone(), call.clone(), call).prop_map(|(device, held_call_id, active_call_id)| {
            Command::Transfer {
                device,
                held_call_id,
                active_call_id,
            }
        }),
        (dev, any::<bool>()).prop_map(|(device, enabled)| Command::SetDnd { device, enabled }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        12 => pbx_event().prop_map(Step::Pbx),
        2 => command().prop_map(Step::Command),
        2 => (0usize..8, any::<bool>(), prop::option::of(prop::sample::select(&CALLS[..]))).prop_map(|(i, ok, c)| Step::Result(i, ok, c)),
        1 => (1u64..15).prop_map(Step::Wait),
    ]
}

struct Harness {
    engine: Engine,
    link: LinkId,
    now: Instant,
    events: Vec<Arc<Sequenced>>,
    outstanding: Vec<u64>,
    done: Vec<u64>,
    checker: EventChecker,
    /// The first event that broke an invariant, with what it broke.
    violation: Option<String>,
}

impl Harness {
    fn new() -> Self {
        let mut engine = Engine::new(EngineConfig {
            command_timeout: Duration::from_secs(10),
            call_id_prefix: "c".into(),
            ..Default::default()
        });
        let link = LinkId::new("L");
        let devs: Vec<(DeviceId, Option<String>)> =
            DEVICES.iter().map(|d| (DeviceId::new(d), None)).collect();
        engine.add_link(link.clone(), "sim", &devs);
        let mut h = Harness {
            engine,
            link,
            now: Instant::now(),
            events: Vec::new(),
            outstanding: Vec::new(),
            done: Vec::new(),
            checker: EventChecker::new(),
            violation: None,
        };
        h.apply(&Step::Pbx(PbxEvent::Link(LinkState::Up)));
        h
    }

    fn collect(&mut self) {
        for o in self.engine.drain().collect::<Vec<_>>() {
            match o {
                Output::Event(e) => {
                    if let Err(v) = self.checker.check(&e)
                        && self.violation.is_none()
                    {
                        self.violation = Some(v);
                    }
                    self.events.push(e)
                }
                Output::Request { token, .. } => self.outstanding.push(token),
                Output::Done { token, .. } => {
                    assert!(!self.done.contains(&token), "command {token} ended twice");
                    self.done.push(token);
                    self.outstanding.retain(|t| *t != token);
                }
            }
        }
    }

    fn apply(&mut self, s: &Step) {
        match s {
            Step::Pbx(ev) => self.engine.on_pbx_event(&self.link, ev.clone(), self.now),
            Step::Command(c) => {
                let _ = self.engine.command(c.clone(), self.now);
            }
            Step::Result(i, ok, call) => {
                if !self.outstanding.is_empty() {
                    let token = self.outstanding[i % self.outstanding.len()];
                    let result = if *ok {
                        Ok(CommandOutcome {
                            call: call.map(str::to_string),
                        })
                    } else {
                        Err(CommandError::new(
                            ErrorCode::PbxRejected,
                            "invalidCallIdentifier",
                        ))
                    };
                    self.engine.on_pbx_event(
                        &self.link,
                        PbxEvent::CommandResult { token, result },
                        self.now,
                    );
                }
            }
            Step::Wait(secs) => {
                self.now += Duration::from_secs(*secs);
                self.engine.tick(self.now);
            }
        }
        self.collect();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold_and_snapshot_plus_events_equals_final_state(steps in prop::collection::vec(step(), 1..60), cut in 0usize..60) {
        let mut h = Harness::new();
        let mut mirror: Option<(Snapshot, usize)> = None;
        for (i, s) in steps.iter().enumerate() {
            if i == cut.min(steps.len() - 1) {
                mirror = Some((h.engine.snapshot(), h.events.len()));
            }
            h.apply(s);
            if let Err(e) = h.engine.check_invariants() {
                prop_assert!(false, "after step {i} {s:?}: {e}");
            }
            if let Some(v) = h.violation.take() {
                prop_assert!(false, "after step {i} {s:?}: {v}");
            }
        }
        // call events always name the devices they concern: an empty list would go to every
        // client, whatever devices it follows
        for e in &h.events {
            if matches!(e.event, ApiEvent::Call { .. } | ApiEvent::CallCleared { .. }) {
                prop_assert!(!e.devices.is_empty(), "{} #{} concerns no device", e.event.name(), e.seq);
            }
        }
        // seq is strictly increasing by one: never repeats, never goes back
        for w in h.events.windows(2) {
            prop_assert_eq!(w[1].seq, w[0].seq + 1);
        }
        prop_assert_eq!(h.events.last().map(|e| e.seq).unwrap_or(0), h.engine.seq());
        // a cleared call leaves no connection behind
        let end = h.engine.snapshot();
        for e in &h.events {
            if let ApiEvent::CallCleared { call, .. } = &e.event {
                let later_alive = h.events.iter().any(|x| x.seq > e.seq && matches!(&x.event, ApiEvent::Call { call: c, .. } if c.id == call.id));
                if !later_alive {
                    prop_assert!(end.calls.iter().all(|c| c.id != call.id), "cleared call {} still present", call.id);
                }
                prop_assert!(call.connections.iter().all(|c| c.state == ConnectionState::Null));
            }
        }
        // devices not in any call are not busy
        for d in &end.devices {
            let in_call = end.calls.iter().any(|c| c.connection(&d.id).is_some());
            if !in_call && d.monitored {
                let want = if d.online { Presence::Idle } else { Presence::Offline };
                prop_assert_eq!(d.presence, want, "device {} presence", d.id);
            }
        }
        // snapshot + later events = final state
        let (mut snap, from) = mirror.expect("a snapshot was taken");
        for e in &h.events[from..] {
            snap.apply(e);
        }
        prop_assert_eq!(snap.normalised(), end.normalised());
        // every command that was sent ended exactly once or is still pending
        prop_assert_eq!(h.engine.pending_commands(), h.outstanding.len());
    }

    #[test]
    fn every_command_ends_exactly_once_even_if_the_pbx_never_answers(cmds in prop::collection::vec(command(), 1..20)) {
        let mut h = Harness::new();
        // calls so that call-addressed commands can pass validation
        for (i, c) in CALLS.iter().enumerate() {
            let ev = CallEvent::new(c, CallEventKind::Delivered).with(DEVICES[i % 4], ConnectionState::Alerting).with("00612345678", ConnectionState::Connected);
            h.apply(&Step::Pbx(PbxEvent::Call(ev)));
        }
        let mut sent = 0;
        let mut refused = 0;
        for c in &cmds {
            match h.engine.command(c.clone(), h.now) {
                Ok(_) => sent += 1,
                Err(_) => refused += 1,
            }
            h.collect();
        }
        prop_assert_eq!(sent + refused, cmds.len());
        h.apply(&Step::Wait(11));
        prop_assert_eq!(h.done.len(), sent, "every sent command timed out exactly once");
        prop_assert_eq!(h.engine.pending_commands(), 0);
    }
}

#[test]
fn one_call_seen_from_two_devices_is_one_call() {
    let mut h = Harness::new();
    let ev = CallEvent::new("2b01", CallEventKind::Delivered)
        .with("24101", ConnectionState::Connected)
        .with("24102", ConnectionState::Alerting)
        .parties(Some("24101"), Some("24102"));
    h.apply(&Step::Pbx(PbxEvent::Call(ev)));
    // the same call reported again from the other device's monitor
    let ev = CallEvent::new("2b01", CallEventKind::Established)
        .with("24102", ConnectionState::Connected);
    h.apply(&Step::Pbx(PbxEvent::Call(ev)));
    let s = h.engine.snapshot();
    assert_eq!(s.calls.len(), 1);
    let call = &s.calls[0];
    assert_eq!(call.direction, Direction::Internal);
    assert_eq!(call.connections.len(), 2);
    for c in &call.connections {
        assert_eq!(c.state, ConnectionState::Connected);
        assert_eq!(leg_status(call, &c.device), Some(RainbowStatus::Active));
    }
    assert!(call.answered_at.is_some());
}

#[test]
fn transfer_merges_calls_and_keeps_the_surviving_id() {
    let mut h = Harness::new();
    let inbound = CallEvent::new("2b01", CallEventKind::Established)
        .with("00612345678", ConnectionState::Connected)
        .with("24101", ConnectionState::Connected)
        .parties(Some("00612345678"), Some("24101"));
    h.apply(&Step::Pbx(PbxEvent::Call(inbound)));
    h.apply(&Step::Pbx(PbxEvent::Call(
        CallEvent::new("2b01", CallEventKind::Held).with("24101", ConnectionState::Held),
    )));
    let consult = CallEvent::new("2b02", CallEventKind::Established)
        .with("24101", ConnectionState::Connected)
        .with("24102", ConnectionState::Connected)
        .parties(Some("24101"), Some("24102"));
    h.apply(&Step::Pbx(PbxEvent::Call(consult)));
    let first_id = h
        .engine
        .snapshot()
        .calls
        .iter()
        .find(|c| c.pbx_call_id == "2b01")
        .map(|c| c.id.clone())
        .expect("call 2b01");
    let mut t = CallEvent::new("2b01", CallEventKind::Transferred)
        .with("24101", ConnectionState::Null)
        .with("24102", ConnectionState::Connected)
        .with("00612345678", ConnectionState::Connected);
    t.merged.push("2b02".into());
    h.apply(&Step::Pbx(PbxEvent::Call(t)));
    let s = h.engine.snapshot();
    assert_eq!(s.calls.len(), 1, "{:#?}", s.calls);
    let c = &s.calls[0];
    assert_eq!(c.id, first_id);
    assert_eq!(c.direction, Direction::Inbound);
    let devs: Vec<&str> = c.connections.iter().map(|k| k.device.as_str()).collect();
    assert_eq!(devs, vec!["00612345678", "24102"]);
    assert_eq!(
        c.calling.as_ref().and_then(|p| p.e164.as_deref()),
        Some("+33612345678")
    );
    let names: Vec<&str> = h.events.iter().map(|e| e.event.name()).collect();
    assert!(names.contains(&"call.transferred"));
    assert!(
        names.contains(&"call.cleared"),
        "the consultation call ends: {names:?}"
    );
    h.engine.check_invariants().unwrap();
}

#[test]
fn snapshot_clears_calls_that_ended_while_away() {
    let mut h = Harness::new();
    let ev = CallEvent::new("2b01", CallEventKind::Established)
        .with("24101", ConnectionState::Connected)
        .with("0123456789", ConnectionState::Connected);
    h.apply(&Step::Pbx(PbxEvent::Call(ev)));
    h.apply(&Step::Pbx(PbxEvent::Link(LinkState::Down {
        reason: "cut".into(),
    })));
    h.apply(&Step::Pbx(PbxEvent::Link(LinkState::Up)));
    h.apply(&Step::Pbx(PbxEvent::Snapshot {
        device: DeviceId::new("24101"),
        calls: vec![],
    }));
    assert!(h.engine.snapshot().calls.is_empty());
    let cleared = h.events.iter().rev().find_map(|e| match &e.event {
        ApiEvent::CallCleared { call, .. } => Some(call.clone()),
        _ => None,
    });
    assert_eq!(
        cleared.and_then(|c| c.cause).as_deref(),
        Some("resynchronised")
    );
    assert_eq!(h.engine.counters.calls_cleared_by_resync, 1);
}

#[test]
fn commands_are_validated_before_they_reach_the_pbx() {
    let mut h = Harness::new();
    let ev = CallEvent::new("2b01", CallEventKind::Delivered)
        .with("24101", ConnectionState::Alerting)
        .with("00612345678", ConnectionState::Connected);
    h.apply(&Step::Pbx(PbxEvent::Call(ev)));
    let id = h.engine.snapshot().calls[0].id.clone();
    let e = h
        .engine
        .command(
            Command::Hold {
                device: DeviceId::new("24101"),
                call_id: id.clone(),
            },
            h.now,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidState);
    assert!(e.message.contains("alerting"), "{}", e.message);
    let e = h
        .engine
        .command(
            Command::Answer {
                device: DeviceId::new("24102"),
                call_id: id.clone(),
            },
            h.now,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::UnknownCall);
    let e = h
        .engine
        .command(
            Command::MakeCall {
                device: DeviceId::new("99999"),
                to: "1".into(),
            },
            h.now,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::UnknownDevice);
    let e = h
        .engine
        .command(
            Command::MakeCall {
                device: DeviceId::new("24101"),
                to: "call me".into(),
            },
            h.now,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::BadRequest);
    // answering marks the leg `answering` until the PBX reports it connected
    h.engine
        .command(
            Command::Answer {
                device: DeviceId::new("24101"),
                call_id: id,
            },
            h.now,
        )
        .unwrap();
    h.collect();
    let c = &h.engine.snapshot().calls[0];
    assert_eq!(
        leg_status(c, &DeviceId::new("24101")),
        Some(RainbowStatus::Answering)
    );
    // link down: the command waiting on it ends with link_down
    h.apply(&Step::Pbx(PbxEvent::Link(LinkState::Down {
        reason: "cut".into(),
    })));
    assert_eq!(h.done.len(), 1);
    assert_eq!(h.engine.pending_commands(), 0);
    let e = h
        .engine
        .command(
            Command::SetDnd {
                device: DeviceId::new("24101"),
                enabled: true,
            },
            h.now,
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::LinkDown);
}

#[test]
fn make_call_result_before_events_gives_the_same_call_id() {
    let mut h = Harness::new();
    let token = h
        .engine
        .command(
            Command::MakeCall {
                device: DeviceId::new("24101"),
                to: "+33 1 23 45 67 89".into(),
            },
            h.now,
        )
        .unwrap();
    h.collect();
    h.engine.on_pbx_event(
        &h.link.clone(),
        PbxEvent::CommandResult {
            token,
            result: Ok(CommandOutcome {
                call: Some("2b09".into()),
            }),
        },
        h.now,
    );
    let mut reply_id = None;
    for o in h.engine.drain().collect::<Vec<_>>() {
        if let Output::Done { result: Ok(r), .. } = o {
            reply_id = r.call_id;
        }
    }
    let ev = CallEvent::new("2b09", CallEventKind::Originated)
        .with("24101", ConnectionState::Connected)
        .parties(Some("24101"), Some("00123456789"));
    h.apply(&Step::Pbx(PbxEvent::Call(ev)));
    let call = &h.engine.snapshot().calls[0];
    assert_eq!(Some(call.id.clone()), reply_id);
    assert_eq!(call.direction, Direction::Outbound);
    assert_eq!(
        call.called.as_ref().and_then(|p| p.e164.as_deref()),
        Some("+33123456789")
    );
}
