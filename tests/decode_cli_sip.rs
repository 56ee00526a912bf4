//! `ctigw decode --codec sip` through the built binary on RFC 4475 `inv2543`, a message
//! without Content-Length: the tool holds its whole input, so the message takes the rest of
//! it as its body (datagram semantics) instead of failing as a live stream must.

mod common;

use common::fixture;

/// The message of an RFC 4475 fixture: what follows its `# ---` comment header.
fn rfc4475_message(name: &str) -> Vec<u8> {
    let raw = std::fs::read(fixture(&format!("sip/rfc4475/{name}.sip"))).unwrap();
    let marker = b"# ---";
    let at = raw
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("a `# ---` line");
    let rest = &raw[at + marker.len()..];
    let start = rest.iter().position(|&b| b == b'\n').unwrap() + 1;
    rest[start..].to_vec()
}

fn assert_inv2543(d: &common::Decoded) {
    assert!(d.ok, "decode failed: {}", d.stderr);
    assert_eq!(d.lines.len(), 1, "{:?}", d.lines);
    let line = &d.lines[0];
    assert!(line.get("error").is_none(), "{line}");
    assert_eq!(line["offset"], 0);
    let pdu = line["pdu"].to_string();
    assert!(pdu.contains("inv2543.1717@ift.client.example.com"), "{pdu}");
    assert!(pdu.contains("INVITE"), "{pdu}");
    assert!(
        d.stderr.contains("1 frame(s) decoded, 0 in error"),
        "{}",
        d.stderr
    );
}

#[test]
fn inv2543_without_content_length_decodes_from_stdin() {
    let msg = rfc4475_message("inv2543");
    assert!(!String::from_utf8_lossy(&msg).contains("Content-Length"));
    assert_inv2543(&common::ctigw_decode("sip", None, &msg));
}

#[test]
fn inv2543_without_content_length_decodes_from_a_file() {
    let dir = std::env::temp_dir().join(format!("ctigw-decode-sip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("inv2543.sip");
    std::fs::write(&path, rfc4475_message("inv2543")).unwrap();
    let d = common::ctigw_decode("sip", Some(&path), b"");
    let _ = std::fs::remove_dir_all(&dir);
    assert_inv2543(&d);
}

#[test]
fn two_messages_with_content_length_still_split() {
    // whole-input semantics only apply to a message with no Content-Length: framed
    // messages in one input are still split one by one
    let one = b"OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:b@example.com>;tag=1\r\nTo: <sip:a@example.com>\r\nMax-Forwards: 70\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
    let mut input = one.to_vec();
    input.extend_from_slice(one);
    let d = common::ctigw_decode("sip", None, &input);
    assert!(d.ok, "{}", d.stderr);
    assert_eq!(d.lines.len(), 2, "{:?}", d.lines);
    assert_eq!(d.lines[1]["offset"], one.len());
}
