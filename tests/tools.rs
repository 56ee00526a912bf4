//! The engineer's tools: `ctigw decode` frames a capture and prints one JSON line per PDU (an
//! undecodable frame is an error line with its offset, and decoding goes on); the `replay`
//! plumbing reads transcripts, runs a dialect's events through the engine, prints JSON lines
//! and a call summary, and checks expectations.

use ctigw::model::{CallEvent, CallEventKind, ConnectionState, DeviceId, DialPlan, PbxEvent};
use ctigw::pbx::contract::Replayer;
use ctigw::tools::replay;
mod common;

use common::real_capture as capture;
use serde_json::Value;
use std::process::Command;

fn decode(codec: &str, file: &std::path::Path) -> (Vec<Value>, String, bool) {
    let d = common::ctigw_decode(codec, Some(file), b"");
    (d.lines, d.stderr, d.ok)
}

#[test]
fn decode_ami_real_capture_prints_every_message() {
    let (lines, err, ok) = decode("ami", &capture("ami/chan-sip-basic-call.ami"));
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 49, "49 messages framed by blank lines");
    assert!(
        lines.iter().all(|l| l.get("pdu").is_some()),
        "no error line"
    );
    assert_eq!(lines[0]["pdu"]["Event"], "DeviceStateChange");
    assert_eq!(lines[0]["offset"], 0);
    let offsets: Vec<u64> = lines
        .iter()
        .map(|l| l["offset"].as_u64().unwrap())
        .collect();
    assert!(offsets.windows(2).all(|w| w[0] < w[1]), "offsets increase");
    assert!(err.contains("49 frame(s) decoded, 0 in error"), "{err}");
}

#[test]
fn decode_reports_a_bad_frame_with_its_offset_and_goes_on() {
    let dir = std::env::temp_dir().join(format!("ctigw-tools-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.ami");
    std::fs::write(
        &f,
        "Event: One\r\nA: 1\r\n\r\nthis line has no colon\r\n\r\nEvent: Two\r\n\r\n",
    )
    .unwrap();
    let (lines, err, ok) = decode("ami", &f);
    assert!(!ok, "a frame in error fails the run (exit 3): {err}");
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["pdu"]["Event"], "One");
    assert!(
        lines[1]["error"].as_str().unwrap().contains("colon"),
        "{:?}",
        lines[1]
    );
    assert_eq!(
        lines[1]["offset"], 20,
        "\"Event: One\\r\\nA: 1\\r\\n\\r\\n\" is 20 bytes"
    );
    assert_eq!(lines[2]["pdu"]["Event"], "Two");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unknown_codec_and_missing_file_are_clear_errors() {
    let out = Command::new(env!("CARGO_BIN_EXE_ctigw"))
        .args(["decode", "--codec", "ami", "/nonexistent/x.hex"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/x.hex"));
    let out = Command::new(env!("CARGO_BIN_EXE_ctigw"))
        .args(["decode", "--codec", "morse", "-"])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn transcripts_parse_and_name_bad_lines() {
    let t = "# what this exercises\n< 00 02 a1 00\n> 00 01 42\n<t Event: X\n<t\n= {\"event\":\"call.delivered\"}\n";
    let p = replay::parse_transcript(t).unwrap();
    assert_eq!(
        p.from_pbx,
        vec![
            vec![0x00, 0x02, 0xa1, 0x00],
            b"Event: X\r\n".to_vec(),
            b"\r\n".to_vec()
        ]
    );
    assert_eq!(p.expected.len(), 1);
    assert!(replay::is_transcript(t.as_bytes()));
    assert!(!replay::is_transcript(b"00 5b a1 59"));
    let e = replay::parse_transcript("< 00 zz\n").unwrap_err();
    assert!(e.starts_with("line 1"), "{e}");
    let e = replay::parse_transcript("# ok\nhello\n").unwrap_err();
    assert!(e.starts_with("line 2"), "{e}");
    let p = replay::parse_transcript("#! blocked_agent_release_secs = 10\n< 00\n").unwrap();
    assert_eq!(
        p.blocked_release_after,
        Some(std::time::Duration::from_secs(10))
    );
    let e = replay::parse_transcript("# x\n#! colour = blue\n").unwrap_err();
    assert!(e.starts_with("line 2") && e.contains("colour"), "{e}");
    let e = replay::parse_transcript("= {not json\n").unwrap_err();
    assert!(e.contains("not JSON"), "{e}");
}

/// A stand-in dialect: each chunk is `call,device,state` text.
struct Csv;

impl Replayer for Csv {
    fn feed(&mut self, bytes: &[u8]) -> Vec<Result<PbxEvent, String>> {
        let text = String::from_utf8_lossy(bytes);
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let f: Vec<&str> = l.trim().split(',').collect();
                match f.as_slice() {
                    ["monitor", dev] => Ok(PbxEvent::Monitor {
                        device: DeviceId::new(dev),
                        result: Ok(()),
                    }),
                    [call, dev, st] => {
                        let state = match *st {
                            "alerting" => ConnectionState::Alerting,
                            "connected" => ConnectionState::Connected,
                            "null" => ConnectionState::Null,
                            _ => return Err(format!("bad state {st}")),
                        };
                        let kind = if state == ConnectionState::Null {
                            CallEventKind::ConnectionCleared
                        } else {
                            CallEventKind::Delivered
                        };
                        Ok(PbxEvent::Call(
                            CallEvent::new(call, kind)
                                .with(dev, state)
                                .parties(Some("00612345678"), Some(dev)),
                        ))
                    }
                    _ => Err(format!("cannot read \"{l}\"")),
                }
            })
            .collect()
    }
}

#[test]
fn replay_runs_events_through_the_engine_and_summarises_calls() {
    let chunks = vec![
        b"monitor,24103\n".to_vec(),
        b"7,24103,alerting\n".to_vec(),
        b"7,24103,purple\n7,24103,connected\n".to_vec(),
        b"7,24103,null\n".to_vec(),
    ];
    let res = replay::run(&mut Csv, &chunks, &DialPlan::default());
    assert_eq!(res.errors, vec!["bad state purple".to_string()]);
    let names: Vec<&str> = res
        .events
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert!(
        names.contains(&"call.delivered") && names.contains(&"call.cleared"),
        "{names:?}"
    );
    assert!(
        res.events
            .iter()
            .all(|e| e["type"] == "event" && e["seq"].as_u64().is_some())
    );
    let s = replay::summary(&res);
    let calls = s["summary"]["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["direction"], "inbound");
    assert_eq!(calls[0]["calling"], "00612345678");
    assert_eq!(calls[0]["ended"], true);
    assert_eq!(
        calls[0]["parties"],
        serde_json::json!(["24103"]),
        "everyone who was in the call, though it ended empty"
    );
    // expectations: subset match, in order; call ids are not compared
    let want: Vec<Value> = vec![
        serde_json::json!({"event": "call.delivered", "call": {"calling": {"e164": "+33612345678"}}}),
        serde_json::json!({"event": "call.cleared"}),
    ];
    replay::check(&want, &res.events).unwrap();
    let wrong_order: Vec<Value> = want.iter().rev().cloned().collect();
    assert!(replay::check(&wrong_order, &res.events).is_err());
    assert!(
        replay::check(&[serde_json::json!({"event": "call.held"})], &res.events)
            .unwrap_err()
            .contains("call.held")
    );
}
