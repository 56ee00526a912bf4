//! `ctigw decode --codec csta-xml|sip` through the built binary on fixtures: a CSTA XML over
//! TCP capture (hex of 8-byte header frames) and a uaCSTA INFO message, one JSON line per
//! frame; a bare document decodes too, and a broken frame is an error line.

mod common;

use common::fixture;
use serde_json::Value;
use std::path::Path;

fn run(codec: &str, file: Option<&Path>, stdin: &[u8]) -> Vec<Value> {
    let d = common::ctigw_decode(codec, file, stdin);
    assert!(d.ok, "decode failed: {}", d.stderr);
    d.lines
}

#[test]
fn csta_xml_tcp_capture() {
    let lines = run(
        "csta-xml",
        Some(&fixture("openscape/inbound-capture.hex")),
        b"",
    );
    assert!(lines.len() >= 8, "{lines:?}");
    assert!(lines.iter().all(|l| l.get("error").is_none()), "{lines:?}");
    assert_eq!(lines[0]["offset"], 0);
    assert_eq!(
        lines[0]["pdu"]["message"]["message"],
        "StartApplicationSessionPosResponse"
    );
    let delivered = lines
        .iter()
        .find(|l| l["pdu"]["message"]["message"] == "DeliveredEvent")
        .expect("a DeliveredEvent");
    assert_eq!(delivered["pdu"]["invokeId"], 9999);
    let alerting = &delivered["pdu"]["message"]["alertingDevice"];
    assert!(alerting.to_string().contains("24101"), "{alerting}");
}

#[test]
fn sip_message_with_csta_body() {
    let lines = run("sip", Some(&fixture("cucm/delivered-info.sip")), b"");
    assert_eq!(lines.len(), 1, "{lines:?}");
    let l = &lines[0];
    assert_eq!(l["offset"], 0);
    assert_eq!(l["pdu"]["start"]["method"], "INFO");
    assert_eq!(l["pdu"]["csta"]["Ok"]["message"], "DeliveredEvent");
}

#[test]
fn bare_document_and_a_broken_one() {
    let doc = br#"<MakeCall xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3"><callingDevice>tel:+3312345</callingDevice><calledDirectoryNumber>tel:+3367890</calledDirectoryNumber></MakeCall>"#;
    let lines = run("csta-xml", None, doc);
    assert_eq!(lines[0]["pdu"]["message"]["message"], "MakeCall");
    assert_eq!(lines[0]["pdu"]["edition"], "ed3");
    let broken = common::ctigw_decode("csta-xml", None, b"<MakeCall><callingDevice>");
    assert!(!broken.ok, "a broken document fails the run (exit 3)");
    let lines = broken.lines;
    assert!(lines[0]["error"].is_string(), "{lines:?}");
}
