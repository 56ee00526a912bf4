//! The AMI codec against real Asterisk captures from `fixtures/real/ami/`
//! (public bytes, provenance in their README): counts, banner, and the same messages
//! whatever the read size and with LF-only line endings.

use std::collections::BTreeMap;
use std::path::PathBuf;

use ctigw_codecs::ami::fuzz::decode_chunked;
use ctigw_codecs::ami::{AmiCodec, Correlated, Correlator, Item, Message};

fn capture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/real/ami/")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ok_messages(items: Vec<Item>) -> Vec<Message> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| item.unwrap_or_else(|e| panic!("item {i}: {e}")))
        .collect()
}

fn lf_only(data: &[u8]) -> Vec<u8> {
    String::from_utf8(data.to_vec())
        .expect("captures are ASCII")
        .replace("\r\n", "\n")
        .into_bytes()
}

/// Same items for every read size 1..=64 and for the LF-only version.
fn assert_split_invariant(data: &[u8], client: bool, expected: &[Item]) {
    let codec = || {
        if client {
            AmiCodec::client()
        } else {
            AmiCodec::server()
        }
    };
    for chunk in 1..=64 {
        assert_eq!(
            decode_chunked(codec(), data, chunk),
            expected,
            "chunk size {chunk}"
        );
    }
    let lf = lf_only(data);
    assert_eq!(decode_chunked(codec(), &lf, 0), expected, "LF-only");
    assert_eq!(
        decode_chunked(codec(), &lf, 7),
        expected,
        "LF-only, 7-byte reads"
    );
}

#[test]
fn chan_sip_basic_call() {
    let data = capture("chan-sip-basic-call.ami");
    let items = AmiCodec::server().decode_all(&data);
    assert_split_invariant(&data, false, &items);
    let msgs = ok_messages(items);
    assert_eq!(
        msgs.len(),
        49,
        "the README's 49 blank-line-delimited events"
    );
    assert!(msgs.iter().all(Message::is_event));

    let mut by_name: BTreeMap<&str, usize> = BTreeMap::new();
    for m in &msgs {
        *by_name.entry(m.event().unwrap()).or_default() += 1;
    }
    let expected: BTreeMap<&str, usize> = [
        ("BridgeCreate", 1),
        ("BridgeDestroy", 1),
        ("BridgeEnter", 2),
        ("BridgeLeave", 2),
        ("DeviceStateChange", 5),
        ("DialBegin", 1),
        ("Hangup", 2),
        ("HangupRequest", 1),
        ("NewCallerid", 1),
        ("NewConnectedLine", 1),
        ("Newchannel", 2),
        ("Newexten", 23),
        ("Newstate", 4),
        ("SoftHangupRequest", 1),
        ("SuccessfulAuth", 1),
        ("UserEvent", 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(by_name, expected);

    // The upstream fixture was concatenated without a blank line in two places, so two of the
    // 49 messages carry a second `Event:` header: a `DialEnd` (with its `Dest*` fields) inside
    // a `Newexten`, and a second `Newexten`. Framing is by blank line, as on the wire; the
    // extra events are kept as repeated fields, nothing is lost.
    let doubled: Vec<Vec<&str>> = msgs
        .iter()
        .map(|m| m.get_all("Event").collect::<Vec<_>>())
        .filter(|e| e.len() > 1)
        .collect();
    assert_eq!(
        doubled,
        vec![vec!["Newexten", "DialEnd"], vec!["Newexten", "Newexten"]]
    );
    assert_eq!(
        msgs.iter()
            .map(|m| m.get_all("event").count())
            .sum::<usize>(),
        51
    );

    let first_channel = msgs
        .iter()
        .find(|m| m.event() == Some("Newchannel"))
        .unwrap();
    assert_eq!(first_channel.get("channel"), Some("SIP/9170-12-0000003c"));
    assert_eq!(first_channel.get("CallerIDName"), Some("Bud Heller"));
    assert_eq!(first_channel.get("AccountCode"), Some(""));
    assert_eq!(
        first_channel.get_all("ChanVariable").collect::<Vec<_>>(),
        ["realm=", "SIPDOMAIN=", "SIPCALLID="]
    );
    let hangup = msgs
        .iter()
        .rev()
        .find(|m| m.event() == Some("Hangup"))
        .unwrap();
    assert_eq!(
        (hangup.get("Cause"), hangup.get("Cause-txt")),
        (Some("16"), Some("Normal Clearing"))
    );
}

#[test]
fn local_channels_basic_call() {
    let data = capture("local-channels-basic-call.ami");
    let mut codec = AmiCodec::client();
    let items = codec.decode_all(&data);
    assert_eq!(codec.version(), Some("13.0.0"));
    assert_split_invariant(&data, true, &items);
    let msgs = ok_messages(items);
    assert_eq!(msgs.len(), 100);

    let login = &msgs[0];
    assert!(login.is_success());
    assert_eq!(login.action_id(), Some("login"));
    assert_eq!(login.get("Message"), Some("Authentication accepted"));
    assert_eq!(msgs[1].event(), Some("FullyBooted"));
    assert_eq!(msgs.iter().filter(|m| m.is_response()).count(), 4);
    assert_eq!(msgs.iter().filter(|m| m.is_event()).count(), 96);
    assert_eq!(
        msgs.iter().filter(|m| m.event() == Some("VarSet")).count(),
        27
    );
    let last = msgs.last().unwrap();
    assert_eq!(
        (last.response(), last.action_id()),
        (Some("Goodbye"), Some("bye"))
    );

    // `OriginateResponse` is an event even though it carries a `Response` field.
    let orig = msgs
        .iter()
        .find(|m| m.event() == Some("OriginateResponse"))
        .unwrap();
    assert!(orig.is_event() && !orig.is_response());
    assert_eq!(orig.get("Response"), Some("Success"));

    // Correlate as the adapter will: login, a1 (Originate), h1 (Hangup: an event list), bye.
    let mut c = Correlator::new();
    for id in ["login", "a1", "h1", "bye"] {
        c.register(id);
    }
    let mut responses = Vec::new();
    let mut lists = Vec::new();
    let mut events = 0;
    for m in msgs {
        match c.receive(m) {
            Some(Correlated::Response { action_id, .. }) => responses.push(action_id),
            Some(Correlated::List(l)) => lists.push(l),
            Some(Correlated::Event(_)) => events += 1,
            Some(Correlated::Unmatched(m)) => panic!("unmatched {m:?}"),
            None => {}
        }
    }
    assert_eq!(responses, ["login", "a1", "bye"]);
    assert_eq!(lists.len(), 1);
    let list = &lists[0];
    assert_eq!(list.action_id, "h1");
    assert_eq!(list.items.len(), 1);
    assert_eq!(list.items[0].event(), Some("ChannelHungup"));
    assert_eq!(list.complete.event(), Some("ChannelsHungupListComplete"));
    assert_eq!(list.list_items(), Some(1));
    assert_eq!(events, 96 - 2);
    assert!(c.is_empty());
}

#[test]
fn captures_serialise_as_json_lines() {
    let data = capture("chan-sip-basic-call.ami");
    let msgs = ok_messages(AmiCodec::server().decode_all(&data));
    let line = serde_json::to_string(&msgs[1]).unwrap();
    assert!(
        line.starts_with(r#"{"Event":"Newchannel","Privilege":"call,all","#),
        "{line}"
    );
    assert!(
        line.contains(r#""ChanVariable":["realm=","SIPDOMAIN=","SIPCALLID="]"#),
        "{line}"
    );
}
