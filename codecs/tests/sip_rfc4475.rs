//! The SIP torture tests of RFC 4475 (and the IPv6 ones of RFC 5118) as fixtures under
//! `fixtures/sip/`: valid messages parse, invalid ones are rejected with the error kind the
//! fixture names, and every fixture goes through the stream codec without a panic.

use std::path::PathBuf;

use ctigw_codecs::sip::{FrameError, Message, SipCodec};

struct Fixture {
    name: String,
    expect: String,
    message: Vec<u8>,
}

fn fixtures(dir: &str) -> Vec<Fixture> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/sip")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sip"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            let sep = b"# ---\n";
            let at = data
                .windows(sep.len())
                .position(|w| w == sep)
                .unwrap_or_else(|| panic!("{}: no `# ---` line", p.display()));
            let head = String::from_utf8(data[..at].to_vec()).unwrap();
            let expect = head
                .lines()
                .find_map(|l| l.strip_prefix("# expect: "))
                .unwrap_or_else(|| panic!("{}: no `# expect:` line", p.display()))
                .to_string();
            assert!(
                head.starts_with("# RFC "),
                "{}: no source line",
                p.display()
            );
            Fixture {
                name: p.file_stem().unwrap().to_string_lossy().into_owned(),
                expect,
                message: data[at + sep.len()..].to_vec(),
            }
        })
        .collect()
}

fn check(dir: &str, min: usize) {
    let all = fixtures(dir);
    assert!(all.len() >= min, "only {} fixtures in {dir}", all.len());
    for f in &all {
        let parsed = Message::parse(&f.message);
        let mut words = f.expect.split_whitespace();
        match words.next() {
            Some("valid") => {
                if let Err(e) = &parsed {
                    panic!("{}: should parse, got {e}", f.name);
                }
            }
            Some("invalid") => {
                let kind = words.next().expect("invalid <kind>");
                let e = match parsed {
                    Ok(m) => panic!("{}: should be rejected, parsed {m:?}", f.name),
                    Err(e) => e,
                };
                let json = serde_json::to_value(&e).unwrap();
                assert_eq!(json["error"], kind, "{}: wrong error kind: {e}", f.name);
                assert!(!e.to_string().is_empty());
            }
            other => panic!("{}: bad expect {other:?}", f.name),
        }
        // Through the stream codec, whole: never a panic.
        let _ = SipCodec::new().decode_all(&f.message);
    }
}

#[test]
fn rfc4475_fixtures() {
    check("rfc4475", 40);
}

#[test]
fn rfc5118_fixtures() {
    check("rfc5118", 2);
}

#[test]
fn wsinv_reads_through_the_torture() {
    let f = fixtures("rfc4475")
        .into_iter()
        .find(|f| f.name == "wsinv")
        .unwrap();
    let m = Message::parse(&f.message).unwrap();
    assert_eq!(m.to().unwrap().tag(), Some("1918181833n"));
    let from = m.from().unwrap();
    assert_eq!(from.display.as_deref(), Some("J Rosenberg \\\""));
    assert_eq!(from.tag(), Some("98asjd8"));
    assert_eq!(m.max_forwards(), Some(68));
    assert_eq!(m.cseq().unwrap().seq, 9);
    let vias = m.vias();
    assert_eq!(vias.len(), 3);
    assert_eq!(vias[1].transport, "TCP");
    assert_eq!(vias[1].branch(), Some("z9hG4bK9ikj8"));
    assert_eq!(vias[2].host, "192.168.255.111");
    assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
    assert_eq!(m.header("Subject"), Some(""));
    assert_eq!(
        m.header("newfangledheader"),
        Some("newfangled value continued newfangled value")
    );
    let contact = &m.contacts()[0];
    assert_eq!(contact.display.as_deref(), Some("Quoted string \"\""));
    assert_eq!(contact.param("newparam"), Some("newvalue"));
    assert_eq!(contact.param("q"), Some("0.33"));
    assert_eq!(m.body.len(), m.content_length().unwrap());
}

#[test]
fn dblreq_is_two_messages_on_a_stream() {
    let f = fixtures("rfc4475")
        .into_iter()
        .find(|f| f.name == "dblreq")
        .unwrap();
    let (items, fatal) = SipCodec::new().decode_all(&f.message);
    assert!(fatal.is_none(), "{fatal:?}");
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[1].as_ref().unwrap().method().unwrap().as_str(),
        "INVITE"
    );
}

#[test]
fn inv2543_without_content_length_is_one_datagram() {
    let f = fixtures("rfc4475")
        .into_iter()
        .find(|f| f.name == "inv2543")
        .unwrap();
    // RFC 2543 style: no Content-Length, no Via branch, no From tag, no Max-Forwards
    let m = Message::parse(&f.message).unwrap();
    assert_eq!(m.content_length(), None);
    assert_eq!(m.max_forwards(), None);
    assert_eq!(m.top_via().unwrap().branch(), None);
    assert_eq!(m.from().unwrap().tag(), None);
    assert_eq!(m.cseq().unwrap().seq, 56);
    assert!(m.body.starts_with(b"v=0\r\n"), "{:?}", m.body);
    assert!(m.body.ends_with(b"a=rtpmap:31 LPC\r\n"), "{:?}", m.body);
    assert_eq!(m.to().unwrap().param("user"), Some("phone"));

    // Given as the whole input (a datagram, a file), the stream codec takes the rest as the
    // body, the same message as the datagram parser.
    let (items, fatal) = SipCodec::new().whole_input().decode_all(&f.message);
    assert!(fatal.is_none(), "{fatal:?}");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap(), &m);

    // On a live stream a missing Content-Length stays fatal: the body's end is unknowable.
    let (items, fatal) = SipCodec::new().decode_all(&f.message);
    assert!(items.is_empty());
    assert!(
        matches!(fatal, Some(FrameError::MissingContentLength { offset: 0 })),
        "{fatal:?}"
    );
    // and whole-input mode still frames a message with a Content-Length by it: what follows
    // is the next message, not body
    let mut two = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:c@d>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n".to_vec();
    two.extend_from_slice(&f.message);
    let (items, fatal) = SipCodec::new().whole_input().decode_all(&two);
    assert!(fatal.is_none(), "{fatal:?}");
    assert_eq!(items.len(), 2);
    assert_eq!(items[1].as_ref().unwrap(), &m);
}
