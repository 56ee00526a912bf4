//! The AMI streams recorded from the real Asterisk builds of the live tests
//! (`fixtures/real/asterisk-<version>/`), replayed as `ctigw replay --dialect asterisk` runs
//! them: what issue 9 found wrong stays right on the real bytes of both versions — one
//! initiator, the caller; the called party named while it rings; answered only when the called
//! side answers; the Dial's cause; a queue call internal with the queue as what was called.

use ctigw::model::{Call, DialPlan, Direction};
use ctigw::pbx::asterisk::normalise::AmiReplay;
use ctigw::tools::replay::{self, ReplayResult};
use serde_json::Value;

const VERSIONS: &[&str] = &["16.30.1", "22.10.1"];

/// Replays one scenario's stream with the lab's numbering (3-digit extensions and queues).
fn replay_stream(version: &str, scenario: &str) -> ReplayResult {
    let path = format!(
        "{}/fixtures/real/asterisk-{version}/{scenario}.ami",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let plan = DialPlan {
        extension_lengths: vec![3],
        ..DialPlan::default()
    };
    let mut r = AmiReplay::new();
    let res = replay::run(&mut r, std::slice::from_ref(&bytes), &plan);
    assert!(
        res.errors.is_empty(),
        "{version} {scenario}: {:?}",
        res.errors
    );
    res
}

/// The events of `call`.
fn events_of<'a>(res: &'a ReplayResult, call: &Call) -> Vec<&'a Value> {
    res.events
        .iter()
        .filter(|e| e["call"]["id"] == call.id.as_str())
        .collect()
}

fn only_call(res: &ReplayResult, what: &str) -> Call {
    assert_eq!(res.calls.len(), 1, "{what}: one call: {:#?}", res.calls);
    res.calls.values().next().cloned().expect("a call")
}

fn conns(e: &Value) -> Vec<&Value> {
    e["call"]["connections"]
        .as_array()
        .map(|a| a.iter().collect())
        .unwrap_or_default()
}

/// In every event of `call`: the caller is the one initiator while it is in the call, and the
/// callee is never initiated.
fn one_initiator(events: &[&Value], caller: &str, callee: &str, what: &str) {
    for e in events {
        let initiators: Vec<&Value> = conns(e)
            .into_iter()
            .filter(|c| c["initiator"] == true)
            .collect();
        let caller_in = conns(e).iter().any(|c| c["device"] == caller);
        if e["event"] == "call.cleared" {
            // a cleared call shows every leg it had (docs/api.md): the caller's, if any, is
            // still the one initiator
            assert!(initiators.len() <= 1, "{what}: one initiator: {e}");
            if let Some(i) = initiators.first() {
                assert_eq!(i["device"], caller, "{what}: {e}");
            }
        } else if caller_in {
            assert_eq!(initiators.len(), 1, "{what}: one initiator: {e}");
            assert_eq!(initiators[0]["device"], caller, "{what}: {e}");
        } else {
            assert!(initiators.is_empty(), "{what}: {e}");
        }
        assert!(
            !conns(e)
                .iter()
                .any(|c| c["device"] == callee && c["state"] == "initiated"),
            "{what}: {callee} never dials: {e}"
        );
    }
}

#[test]
fn basic_calls_have_the_caller_as_initiator_and_are_answered_by_the_callee() {
    for v in VERSIONS {
        let res = replay_stream(v, "basic");
        assert_eq!(res.calls.len(), 2, "{v}: the phone's call and the makeCall");
        for (callee, call) in [("102", 0), ("103", 1)] {
            let mut calls: Vec<&Call> = res.calls.values().collect();
            calls.sort_by_key(|c| c.started_at);
            let c = calls[call];
            let what = format!("{v} basic 101 -> {callee}");
            assert_eq!(c.calling.as_ref().map(|p| p.number.as_str()), Some("101"));
            assert_eq!(c.called.as_ref().map(|p| p.number.as_str()), Some(callee));
            assert_eq!(c.direction, Direction::Internal, "{what}");
            assert!(c.answered_at.is_some(), "{what}: answered");
            let evs = events_of(&res, c);
            one_initiator(&evs, "101", callee, &what);
            // answered only once the callee is connected
            let first_answered = evs
                .iter()
                .find(|e| e["call"]["answeredAt"].is_u64())
                .expect("answered");
            assert!(
                conns(first_answered)
                    .iter()
                    .any(|x| x["device"] == callee && x["state"] == "connected"),
                "{what}: {first_answered}"
            );
        }
    }
}

#[test]
fn a_missed_call_is_not_answered_and_ends_cancelled() {
    for v in VERSIONS {
        let res = replay_stream(v, "missed");
        let c = only_call(&res, "missed");
        let what = format!("{v} missed");
        assert!(c.answered_at.is_none(), "{what}: not answered: {c:?}");
        assert_eq!(c.cause.as_deref(), Some("callCancelled"), "{what}");
        let evs = events_of(&res, &c);
        one_initiator(&evs, "101", "201", &what);
        for e in &evs {
            if conns(e)
                .iter()
                .any(|x| x["device"] == "201" && x["state"] == "alerting")
            {
                assert_eq!(e["call"]["called"]["number"], "201", "{what}: {e}");
            }
        }
    }
}

#[test]
fn a_busy_call_fails_busy() {
    for v in VERSIONS {
        let res = replay_stream(v, "busy");
        let c = only_call(&res, "busy");
        let what = format!("{v} busy");
        assert!(c.answered_at.is_none(), "{what}");
        assert_eq!(c.cause.as_deref(), Some("busy"), "{what}");
        assert!(
            events_of(&res, &c)
                .iter()
                .any(|e| e["event"] == "call.failed"
                    && conns(e)
                        .iter()
                        .any(|x| x["device"] == "300" && x["state"] == "fail")),
            "{what}: 300 fails"
        );
    }
}

#[test]
fn a_queue_call_stays_internal_with_the_queue_called() {
    for (scenario, queue, agent, answered) in [
        ("queue-answered", "500", "103", true),
        ("queue-abandoned", "501", "202", false),
    ] {
        for v in VERSIONS {
            let res = replay_stream(v, scenario);
            let c = only_call(&res, scenario);
            let what = format!("{v} {scenario}");
            assert_eq!(c.answered_at.is_some(), answered, "{what}");
            let evs = events_of(&res, &c);
            one_initiator(&evs, "104", agent, &what);
            for e in &evs {
                assert_eq!(e["call"]["direction"], "internal", "{what}: {e}");
                assert!(
                    conns(e)
                        .iter()
                        .all(|x| x["device"] == "104" || x["device"] == agent),
                    "{what}: the queue is no party: {e}"
                );
            }
            assert!(
                evs.iter()
                    .any(|e| e["event"] == "call.queued" && e["call"]["called"]["number"] == queue),
                "{what}: queued, the queue called"
            );
            if !answered {
                assert_eq!(c.cause.as_deref(), Some("abandoned"), "{what}");
            }
        }
    }
}
