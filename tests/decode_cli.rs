//! `ctigw decode --codec csta-ber` through the built binary on the real OXE captures
//! (`fixtures/real/oxe/`): one JSON line per frame with its offset and
//! the decoded PDU; a broken frame is an error line and decoding goes on.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};

fn capture(name: &str) -> PathBuf {
    common::real_capture("oxe").join(name)
}

fn run(file: Option<&Path>, input: &[u8]) -> (Vec<Value>, String) {
    let d = common::ctigw_decode("csta-ber", file, input);
    assert!(d.ok, "decode failed: {}", d.stderr);
    (d.lines, d.stderr)
}

fn decode(file: &Path) -> (Vec<Value>, String) {
    run(Some(file), b"")
}

fn event(line: &Value) -> &Value {
    &line["pdu"]["invoke"]["argument"]["cSTAEventReport"]["eventSpecificInfo"]
}

#[test]
fn csta_ber_real_delivered_frame() {
    let (lines, err) = decode(&capture("delivered.hex"));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(err.contains("1 frame(s) decoded, 0 in error"), "{err}");
    assert_eq!(lines[0]["offset"], 0);
    let d = &event(&lines[0])["delivered"];
    assert_eq!(
        d["alertingDevice"]["deviceIdentifier"]["implicitPrivate"],
        "24650"
    );
    assert_eq!(
        d["callingDevice"]["deviceIdentifier"]["implicitPrivate"],
        "24105"
    );
    assert_eq!(d["cause"], "newCall");
    assert_eq!(d["localConnectionInfo"], "connected");
}

#[test]
fn csta_ber_every_real_capture_decodes() {
    for (file, name) in [
        ("connection-cleared-1.hex", "connectionCleared"),
        ("established.hex", "established"),
        ("held.hex", "held"),
        ("originated.hex", "originated"),
        ("retrieved.hex", "retrieved"),
    ] {
        let (lines, err) = decode(&capture(file));
        assert_eq!(lines.len(), 1, "{file}: {lines:?} {err}");
        assert!(event(&lines[0]).get(name).is_some(), "{file}: {}", lines[0]);
    }
}

#[test]
fn csta_ber_session_open_hello_aarq_monitor_start() {
    let (lines, _) = decode(&capture("session-open.txt"));
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert_eq!(lines[0]["pdu"]["hello"], "client");
    assert_eq!(
        lines[1]["pdu"]["aarq"]["applicationContextName"],
        "1.3.12.0.180"
    );
    assert_eq!(lines[2]["offset"], 1 + 2 + 0x46);
    let m = &lines[2]["pdu"]["invoke"]["argument"]["monitorStart"];
    assert_eq!(m["monitorObject"]["device"]["dialingNumber"], "24103");
}

#[test]
fn csta_ber_bad_frame_reported_with_offset_then_next_frame() {
    let good = ctigw::tools::read_input(&capture("held.hex")).unwrap();
    // a well-framed value that is not a PDU, then a real frame
    let mut input = vec![0x00, 0x03, 0x30, 0x01, 0xff];
    input.extend(&good);
    let d = common::ctigw_decode("csta-ber", None, &input);
    assert!(
        !d.ok,
        "a frame in error fails the run (exit 3): {}",
        d.stderr
    );
    let (lines, err) = (d.lines, d.stderr);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["offset"], 0);
    assert!(lines[0]["error"].is_string());
    assert_eq!(lines[1]["offset"], 5);
    assert!(event(&lines[1]).get("held").is_some());
    assert!(err.contains("1 frame(s) decoded, 1 in error"), "{err}");
}
