//! The two real AMI captures (`fixtures/real/ami/`) through the codec, the
//! Asterisk normaliser and the engine, as `ctigw replay` runs them: each is exactly one call
//! with the right parties and ending, and every message is accounted for.

use ctigw::model::{DialPlan, Direction, PbxEvent};
use ctigw::pbx::asterisk::normalise::AmiReplay;
use ctigw::pbx::contract::Replayer;
use ctigw::tools::replay;
use serde_json::Value;

fn capture(name: &str) -> Vec<u8> {
    let path = format!("{}/fixtures/real/ami/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn cleared(res: &replay::ReplayResult) -> Vec<&Value> {
    res.events
        .iter()
        .filter(|e| e["event"] == "call.cleared")
        .collect()
}

#[test]
fn chan_sip_basic_call_is_one_call_9170_to_9898() {
    let bytes = capture("chan-sip-basic-call.ami");
    let mut r = AmiReplay::new();
    let res = replay::run(&mut r, std::slice::from_ref(&bytes), &DialPlan::default());
    assert!(res.errors.is_empty(), "{:?}", res.errors);
    assert_eq!(res.calls.len(), 1, "exactly one call: {:#?}", res.calls);
    let call = res.calls.values().next().unwrap();
    let calling = call.calling.as_ref().expect("calling party");
    assert_eq!(calling.number, "9170");
    assert_eq!(calling.name.as_deref(), Some("Bud Heller"));
    assert_eq!(
        call.called.as_ref().map(|p| p.number.as_str()),
        Some("9898")
    );
    assert!(call.answered_at.is_some(), "answered");
    assert!(call.ended_at.is_some(), "cleared");
    assert_eq!(call.cause.as_deref(), Some("normalClearing"));
    assert_eq!(
        call.pbx_call_id, "1598887681.60",
        "the Linkedid is the call reference"
    );
    // ringing, then answered, then cleared, in that order
    let expected: Vec<Value> = [
        r#"{"event":"call.serviceInitiated","call":{"calling":{"number":"9170"}}}"#,
        r#"{"event":"call.delivered","call":{"connections":[{"device":"9170"},{"device":"9898","state":"alerting"}]}}"#,
        r#"{"event":"call.established","call":{"connections":[{"device":"9170"},{"device":"9898","state":"connected"}]}}"#,
        r#"{"event":"call.established","call":{"connections":[{"device":"9170","state":"connected"},{"device":"9898","state":"connected"}]}}"#,
        r#"{"event":"call.connectionCleared","call":{"connections":[{"device":"9170","state":"connected"}],"cause":"normalClearing"}}"#,
        r#"{"event":"call.cleared","call":{"cause":"normalClearing"}}"#,
    ]
    .iter()
    .map(|s| serde_json::from_str(s).unwrap())
    .collect();
    replay::check(&expected, &res.events).unwrap();
    assert_eq!(cleared(&res).len(), 1);

    // every one of the 49 framed messages is accounted for, none unknown
    let mut r = AmiReplay::new();
    let _ = r.feed(&bytes);
    let _ = r.finish();
    let stats = &r.normaliser.stats;
    assert_eq!(stats.total(), 49, "{stats:#?}");
    assert!(
        stats.unknown.is_empty(),
        "unknown events: {:?}",
        stats.unknown
    );
    // two messages were concatenated upstream without a blank line (a DialEnd and a
    // Newexten hide inside the Newexten before them): counted, and the call is still right
    assert_eq!(stats.glued, 2);
    assert_eq!(stats.used.get("Hangup"), Some(&2));
    assert_eq!(stats.used.get("DialBegin"), Some(&1));
    assert_eq!(
        stats.used.get("DialEnd"),
        None,
        "the DialEnd is the glued one"
    );
    assert_eq!(
        stats.ignored.get("Newexten"),
        Some(&23),
        "24 minus the one glued"
    );
}

#[test]
fn local_channels_are_one_call_101_to_102_not_four_parties() {
    let bytes = capture("local-channels-basic-call.ami");
    let mut r = AmiReplay::new();
    let res = replay::run(&mut r, std::slice::from_ref(&bytes), &DialPlan::default());
    assert!(res.errors.is_empty(), "{:?}", res.errors);
    assert_eq!(res.calls.len(), 1, "exactly one call: {:#?}", res.calls);
    let call = res.calls.values().next().unwrap();
    assert_eq!(
        call.calling.as_ref().map(|p| p.number.as_str()),
        Some("101")
    );
    assert_eq!(
        call.calling.as_ref().and_then(|p| p.name.as_deref()),
        Some("Alice")
    );
    assert_eq!(call.called.as_ref().map(|p| p.number.as_str()), Some("102"));
    assert_eq!(call.direction, Direction::Internal);
    assert!(call.answered_at.is_some() && call.ended_at.is_some());
    assert_eq!(call.cause.as_deref(), Some("normalClearing"));
    // no event ever shows a party other than 101 and 102
    for e in &res.events {
        if let Some(conns) = e["call"]["connections"].as_array() {
            for c in conns {
                let d = c["device"].as_str().unwrap_or_default();
                assert!(d == "101" || d == "102", "phantom party {d} in {e}");
            }
        }
    }
    let both_connected: Value = serde_json::from_str(
        r#"{"event":"call.established","call":{"connections":[{"device":"101","state":"connected"},{"device":"102","state":"connected"}]}}"#,
    )
    .unwrap();
    replay::check(&[both_connected], &res.events).unwrap();
    assert_eq!(cleared(&res).len(), 1);

    let mut r = AmiReplay::new();
    let evs = r.feed(&bytes);
    let _ = r.finish();
    let stats = &r.normaliser.stats;
    assert!(
        stats.unknown.is_empty(),
        "unknown events: {:?}",
        stats.unknown
    );
    assert_eq!(stats.glued, 0);
    // the banner is not a message; the login, originate and hangup responses are
    let framed = String::from_utf8_lossy(&bytes)
        .split("\r\n\r\n")
        .filter(|m| !m.trim().is_empty())
        .count();
    assert_eq!(stats.total(), framed, "{stats:#?}");
    let monitors: Vec<String> = evs
        .iter()
        .filter_map(|e| match e {
            Ok(PbxEvent::Monitor { device, .. }) => Some(device.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(monitors, ["101", "102"]);
}

#[test]
fn any_split_of_the_stream_gives_the_same_events() {
    let bytes = capture("chan-sip-basic-call.ami");
    let whole = {
        let mut r = AmiReplay::new();
        let mut v = r.feed(&bytes);
        v.extend(r.finish());
        format!("{v:?}")
    };
    for size in [1usize, 7, 64, 500] {
        let mut r = AmiReplay::new();
        let mut v = Vec::new();
        for chunk in bytes.chunks(size) {
            v.extend(r.feed(chunk));
        }
        v.extend(r.finish());
        assert_eq!(format!("{v:?}"), whole, "chunks of {size}");
    }
}
