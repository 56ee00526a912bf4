//! The state invariants of issue 9 (`ctigw::engine::invariants`) after every event, on every
//! dialect: every fixture transcript (`fixtures/{oxe,asterisk,cucm,openscape}/*.txt`) and
//! every real capture (`fixtures/real/**`) replays through `ctigw::tools::replay`, and the
//! engine's state and each event it emits are checked after each adapter event.

use ctigw::engine::invariants::EventChecker;
use ctigw::engine::{EngineConfig, Sequenced};
use ctigw::model::DialPlan;
use ctigw::tools::replay;
use serde_json::Value;
use std::path::{Path, PathBuf};

mod common;

/// Inputs known to break an invariant because of their adapter, each with the reason (none
/// since the Asterisk adapter's issue-9 fixes); they are still replayed, must break nothing
/// else, and the test fails once one keeps every invariant, so the list cannot go stale.
const ASTERISK_KNOWN: &[(&str, &str)] = &[];

/// The dialect that replays the files of a fixture folder.
fn dialect_of(path: &Path) -> Option<&'static str> {
    let s = path.to_string_lossy();
    let d = if s.contains("/oxe") {
        "oxe"
    } else if s.contains("/cucm/") {
        "uacsta"
    } else if s.contains("/openscape/") {
        "csta-xml-tcp"
    } else if s.contains("/asterisk") || s.contains("/ami/") {
        "asterisk"
    } else {
        return None;
    };
    Some(d)
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Replays one input, checking the invariants after every adapter event; returns the first
/// violation.
fn replay_checked(path: &Path, dialect: &str) -> Result<usize, String> {
    let input = ctigw::tools::read_input(path).map_err(|e| e.to_string())?;
    let plan = DialPlan::default();
    let mut cfg = EngineConfig {
        dialplan: plan.clone(),
        ..EngineConfig::default()
    };
    let chunks = if replay::is_transcript(&input) {
        let t = replay::parse_transcript(&String::from_utf8_lossy(&input))?;
        cfg.blocked_release_after = t.blocked_release_after;
        t.from_pbx
    } else {
        vec![input]
    };
    let mut r = replay::replayer(dialect, &plan).map_err(|e| e.to_string())?;
    let mut checker = EventChecker::for_adapters();
    let mut first: Option<String> = None;
    let mut steps = 0;
    replay::run_observed(
        r.as_mut(),
        &chunks,
        cfg,
        &mut |engine, events: &[Sequenced]| {
            steps += 1;
            if first.is_some() {
                return;
            }
            for ev in events {
                if let Err(e) = checker.check(ev) {
                    first = Some(format!("after adapter event {steps}: {e}"));
                    return;
                }
            }
            if let Err(e) = engine.check_invariants() {
                first = Some(format!("after adapter event {steps}: {e}"));
            }
        },
    );
    match first {
        Some(e) => Err(e),
        None => Ok(steps),
    }
}

#[test]
fn every_fixture_and_real_capture_keeps_the_invariants_after_every_event() {
    let mut inputs = Vec::new();
    for d in ["oxe", "asterisk", "cucm", "openscape"] {
        let mut v = Vec::new();
        files(&common::fixture(d), &mut v);
        inputs.extend(
            v.into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "txt")),
        );
    }
    let mut real = Vec::new();
    files(&common::real_capture(""), &mut real);
    inputs.extend(
        real.into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "hex" || e == "ami")),
    );
    let mut failures = Vec::new();
    let mut known_seen = Vec::new();
    let mut checked = 0;
    let mut events = 0;
    for p in &inputs {
        let Some(dialect) = dialect_of(p) else {
            continue;
        };
        let name = p.to_string_lossy().to_string();
        let known = ASTERISK_KNOWN.iter().find(|(f, _)| name.ends_with(f));
        match (replay_checked(p, dialect), known) {
            (Ok(steps), None) => {
                // (a capture of a lone MonitorStart result or keep-alive maps to no event)
                events += steps;
                checked += 1;
            }
            (Ok(_), Some((f, _))) => failures.push(format!(
                "{name}: listed as a known Asterisk violation ({f}) but keeps every invariant now: drop it from ASTERISK_KNOWN"
            )),
            (Err(e), Some((_, why))) => known_seen.push(format!("{name}: {e} [{why}]")),
            (Err(e), None) => failures.push(format!("{name} ({dialect}): {e}")),
        }
    }
    for k in &known_seen {
        eprintln!("known (adapter being fixed): {k}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // every folder was found and replayed
    assert!(checked >= 60, "only {checked} inputs checked");
    assert!(events >= 400, "only {events} adapter events checked");
}

/// The rule for `call.cleared` (docs/api.md): every leg the call had when it ended, the
/// user's own included, each `null`, monitored ones `releasing`; on every dialect's transfer
/// and conference.
#[test]
fn cleared_calls_show_every_leg_null_and_releasing_on_every_dialect() {
    for (dir, dialect) in [
        ("oxe", "oxe"),
        ("cucm", "uacsta"),
        ("openscape", "csta-xml-tcp"),
    ] {
        for f in ["consult-transfer.txt", "conference.txt"] {
            let text = std::fs::read_to_string(common::fixture(dir).join(f)).unwrap();
            let (res, _) = replay::run_transcript(dialect, &text, &DialPlan::default()).unwrap();
            let cleared: Vec<&Value> = res
                .events
                .iter()
                .filter(|e| e["event"] == "call.cleared")
                .collect();
            assert_eq!(cleared.len(), 2, "{dir}/{f}: {cleared:#?}");
            for e in cleared {
                let legs = e["call"]["connections"].as_array().unwrap();
                assert!(
                    legs.iter().any(|l| l["monitored"] == true),
                    "{dir}/{f}: a cleared call without the user's leg: {e}"
                );
                for l in legs {
                    assert_eq!(l["state"], "null", "{dir}/{f}: {e}");
                    if l["monitored"] == true {
                        assert_eq!(l["rainbowStatus"], "releasing", "{dir}/{f}: {e}");
                    } else {
                        assert!(l.get("rainbowStatus").is_none(), "{dir}/{f}: {e}");
                    }
                }
            }
        }
    }
}

/// The `call.cleared` frames docs/api.md shows for an OXE conference are what the replay of
/// that fixture produces today, key for key.
#[test]
fn the_documented_cleared_frames_are_what_the_replay_produces() {
    let doc = std::fs::read_to_string(common::repo_path("docs/api.md")).unwrap();
    let marker = "<!-- replay: oxe fixtures/oxe/conference.txt -->";
    let block = doc
        .split(marker)
        .nth(1)
        .expect("the replay example in docs/api.md");
    let frames: Vec<Value> = block
        .lines()
        .skip_while(|l| !l.starts_with("```json"))
        .skip(1)
        .take_while(|l| !l.starts_with("```"))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(frames.len(), 2);
    let text = std::fs::read_to_string(common::fixture("oxe/conference.txt")).unwrap();
    let (res, _) = replay::run_transcript("oxe", &text, &DialPlan::default()).unwrap();
    let produced: Vec<&Value> = res
        .events
        .iter()
        .filter(|e| e["event"] == "call.cleared")
        .collect();
    assert_eq!(produced.len(), 2);
    for (doc, made) in frames.iter().zip(produced) {
        assert_eq!(doc, made, "docs/api.md is out of date");
    }
}

/// Every cause the gateway may send is listed in docs/api.md's "causes", and the list names
/// no cause the gateway does not know.
#[test]
fn the_documented_causes_are_the_gateways() {
    let doc = std::fs::read_to_string(common::repo_path("docs/api.md")).unwrap();
    let section = doc
        .split("### causes")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .expect("a causes section");
    let listed: Vec<&str> = section
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| w.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect();
    for c in ctigw::engine::causes::documented() {
        assert!(listed.contains(&c), "cause {c} is not in docs/api.md");
    }
    for c in &listed {
        if ["cause", "other", "pbxCause"].contains(c) {
            continue;
        }
        assert!(
            ctigw::engine::causes::is_documented(c),
            "docs/api.md lists {c}, which the gateway does not know"
        );
    }
    assert!(listed.len() > 90);
}

/// The OXE demo's ghost: an agent blocked behind a gone caller (timer 384 > 0) whom the PBX
/// then reports `ready` stays shown `blocked` as long as its set is held, so `/v1/agents`
/// (the snapshot) and `/healthz` / `/metrics` (`blocked_agents()`) agree; once the agent
/// hangs up it is free, and the next lone call blocks it again with a new `agent.blocked`.
#[test]
fn a_blocked_agent_reported_ready_stays_blocked_and_every_view_agrees() {
    use ctigw::engine::{ApiEvent, Engine, Output};
    use ctigw::model::*;
    use std::time::{Duration, Instant};
    const AGENT: &str = "24110";
    const CALLER: &str = "00612345678";
    let link = LinkId::new("oxe1");
    let mut e = Engine::new(EngineConfig::default());
    e.add_link(link.clone(), "oxe", &[(DeviceId::new(AGENT), None)]);
    let mut now = Instant::now();
    let mut checker = EventChecker::for_adapters();
    let mut blocked_events = 0;
    let mut step = |e: &mut Engine, ev: Option<PbxEvent>, now: Instant| {
        match ev {
            Some(ev) => e.on_pbx_event(&link, ev, now),
            None => e.tick(now),
        }
        for o in e.drain().collect::<Vec<_>>() {
            if let Output::Event(ev) = o {
                checker.check(&ev).unwrap();
                if matches!(
                    &ev.event,
                    ApiEvent::Agent {
                        event: "agent.blocked",
                        ..
                    }
                ) {
                    blocked_events += 1;
                }
            }
        }
        e.check_invariants().unwrap();
    };
    let agent = |state| PbxEvent::Agent {
        device: DeviceId::new(AGENT),
        agent_id: "4001".into(),
        state,
        reason: None,
    };
    let shown = |e: &Engine| {
        e.snapshot()
            .agents
            .iter()
            .find(|a| a.device.as_str() == AGENT)
            .map(|a| a.state)
    };
    step(&mut e, Some(PbxEvent::Link(LinkState::Up)), now);
    step(
        &mut e,
        Some(PbxEvent::Monitor {
            device: DeviceId::new(AGENT),
            result: Ok(()),
        }),
        now,
    );
    step(&mut e, Some(agent(AgentState::Ready)), now);
    for (round, call) in ["2c01", "2c02"].into_iter().enumerate() {
        let answered = CallEvent::new(call, CallEventKind::Established)
            .with(CALLER, ConnectionState::Connected)
            .with(AGENT, ConnectionState::Connected)
            .parties(Some(CALLER), Some(AGENT));
        step(&mut e, Some(PbxEvent::Call(answered)), now);
        let gone = CallEvent::new(call, CallEventKind::ConnectionCleared)
            .with(CALLER, ConnectionState::Null)
            .cause("normalClearing");
        step(&mut e, Some(PbxEvent::Call(gone)), now);
        now += Duration::from_secs(3);
        step(&mut e, None, now);
        assert_eq!(shown(&e), Some(AgentState::Blocked), "round {round}");
        assert_eq!(e.blocked_agents(), 1);
        // the PBX's CCD says the agent is ready again: the set is still held
        step(&mut e, Some(agent(AgentState::Ready)), now);
        assert_eq!(shown(&e), Some(AgentState::Blocked), "round {round}");
        assert_eq!(e.blocked_agents(), 1);
        assert_eq!(e.active_calls(), 1);
        // the agent hangs up: free, back to the state the PBX last reported
        let hung_up = CallEvent::new(call, CallEventKind::ConnectionCleared)
            .with(AGENT, ConnectionState::Null)
            .cause("normalClearing");
        step(&mut e, Some(PbxEvent::Call(hung_up)), now);
        assert_eq!(shown(&e), Some(AgentState::Ready), "round {round}");
        assert_eq!(e.blocked_agents(), 0);
        assert_eq!(e.active_calls(), 0);
    }
    assert_eq!(blocked_events, 2, "each lone call raises its agent.blocked");
}
