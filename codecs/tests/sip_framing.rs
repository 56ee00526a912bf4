//! SIP stream framing: arbitrary split points, coalesced messages, CRLF keep-alives, and every
//! way a Content-Length can be wrong, missing or too large.

use bytes::BytesMut;
use ctigw_codecs::sip::fuzz::decode_chunked;
use ctigw_codecs::sip::{FrameError, KeepAlive, Limits, Message, MessageError, SipCodec};
use tokio_util::codec::{Decoder, Encoder};

fn info(n: u32, body: &str) -> String {
    format!(
        "INFO sip:cti@gw SIP/2.0\r\nVia: SIP/2.0/TCP 10.0.0.5;branch=z9hG4bK{n}\r\nFrom: <sip:a@gw>;tag=1\r\nTo: <sip:cti@gw>;tag=2\r\nCall-ID: c\r\nCSeq: {n} INFO\r\nContent-Type: application/csta+xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn ok(n: u32) -> String {
    format!(
        "SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP 10.0.0.5;branch=z9hG4bK{n}\r\nFrom: <sip:a@gw>;tag=1\r\nTo: <sip:cti@gw>;tag=2\r\nCall-ID: c\r\nCSeq: {n} INFO\r\nl: 0\r\n\r\n"
    )
}

fn stream() -> String {
    format!(
        "{}\r\n\r\n{}{}\r\n{}",
        info(
            1,
            "<MonitorStart><monitorObject>tel:24103</monitorObject></MonitorStart>"
        ),
        ok(1),
        info(2, "<CallClearedEvent/>"),
        ok(2)
    )
}

#[test]
fn any_split_gives_the_same_messages() {
    let data = stream();
    let (whole, failed) = decode_chunked(SipCodec::new(), data.as_bytes(), 0);
    assert!(!failed);
    assert_eq!(whole.len(), 4);
    assert!(whole.iter().all(Result::is_ok));
    for chunk in 1..40 {
        assert_eq!(
            decode_chunked(SipCodec::new(), data.as_bytes(), chunk),
            (whole.clone(), false)
        );
    }
    // Every two-piece split.
    for at in 0..data.len() {
        let mut codec = SipCodec::new();
        let mut buf = BytesMut::from(&data.as_bytes()[..at]);
        let mut got = Vec::new();
        while let Some(item) = codec.decode(&mut buf).unwrap() {
            got.push(item);
        }
        buf.extend_from_slice(&data.as_bytes()[at..]);
        while let Some(item) = codec.decode_eof(&mut buf).unwrap() {
            got.push(item);
        }
        assert_eq!(got, whole, "split at {at}");
    }
}

#[test]
fn keep_alives_are_skipped_and_pings_counted() {
    let mut codec = SipCodec::new();
    let mut buf = BytesMut::from("\r\n\r\n\r\n\r\n");
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert_eq!(codec.take_pings(), 2);
    buf.extend_from_slice(b"\r\n");
    buf.extend_from_slice(ok(1).as_bytes());
    assert!(codec.decode(&mut buf).unwrap().unwrap().is_ok());
    assert_eq!(codec.take_pings(), 0);
    let mut out = BytesMut::new();
    codec.encode(KeepAlive::Ping, &mut out).unwrap();
    codec.encode(KeepAlive::Pong, &mut out).unwrap();
    assert_eq!(&out[..], b"\r\n\r\n\r\n");
}

#[test]
fn missing_content_length_is_fatal_on_a_stream() {
    let data = ok(1).replace("l: 0\r\n", "");
    let (items, fatal) = SipCodec::new().decode_all(data.as_bytes());
    assert!(items.is_empty());
    assert!(
        matches!(fatal, Some(FrameError::MissingContentLength { offset: 0 })),
        "{fatal:?}"
    );
}

#[test]
fn unreadable_or_conflicting_content_length_is_fatal() {
    for (cl, want) in [("-1", "Bad"), ("12abc", "Bad"), ("", "Bad")] {
        let data = ok(1).replace("l: 0", &format!("l: {cl}"));
        let (_, fatal) = SipCodec::new().decode_all(data.as_bytes());
        assert!(
            matches!(fatal, Some(FrameError::BadContentLength { .. })),
            "{cl} {want} {fatal:?}"
        );
    }
    let data = ok(1).replace("l: 0\r\n", "l: 0\r\nContent-Length: 5\r\n");
    let (_, fatal) = SipCodec::new().decode_all(data.as_bytes());
    assert!(
        matches!(fatal, Some(FrameError::ConflictingContentLength { .. })),
        "{fatal:?}"
    );
    // The same value twice frames, then is refused as a duplicate (boundary known).
    let data = ok(1).replace("l: 0\r\n", "l: 0\r\nContent-Length: 0\r\n");
    let (items, fatal) = SipCodec::new().decode_all(data.as_bytes());
    assert!(fatal.is_none());
    assert!(
        matches!(items[0], Err(MessageError::DuplicateHeader { .. })),
        "{items:?}"
    );
}

#[test]
fn oversized_content_length_is_fatal_before_reading_the_body() {
    let data = ok(1).replace("l: 0", "l: 99999999999999999999999");
    let (_, fatal) = SipCodec::new().decode_all(data.as_bytes());
    assert!(
        matches!(fatal, Some(FrameError::BodyTooLong { .. })),
        "{fatal:?}"
    );
    let limits = Limits {
        max_body: 10,
        ..Limits::default()
    };
    let data = info(1, "<far-more-than-ten-bytes/>");
    let (_, fatal) = SipCodec::new()
        .with_limits(limits)
        .decode_all(data.as_bytes());
    assert!(
        matches!(fatal, Some(FrameError::BodyTooLong { limit: 10, .. })),
        "{fatal:?}"
    );
}

#[test]
fn header_limits_are_fatal() {
    let limits = Limits {
        max_head: 64,
        ..Limits::default()
    };
    let (_, fatal) = SipCodec::new()
        .with_limits(limits)
        .decode_all(ok(1).as_bytes());
    assert!(
        matches!(fatal, Some(FrameError::HeaderTooLong { limit: 64, .. })),
        "{fatal:?}"
    );
    let limits = Limits {
        max_headers: 3,
        ..Limits::default()
    };
    let (_, fatal) = SipCodec::new()
        .with_limits(limits)
        .decode_all(ok(1).as_bytes());
    assert!(
        matches!(fatal, Some(FrameError::TooManyHeaders { limit: 3, .. })),
        "{fatal:?}"
    );
    // A header section that never ends is refused once over the limit, not buffered forever.
    let mut codec = SipCodec::new().with_limits(Limits {
        max_head: 1000,
        ..Limits::default()
    });
    let mut buf = BytesMut::from("OPTIONS sip:x SIP/2.0\r\n");
    assert!(codec.decode(&mut buf).unwrap().is_none());
    buf.extend_from_slice(&[b'a'; 1000]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(FrameError::HeaderTooLong { .. })
    ));
    assert!(codec.failed());
}

#[test]
fn body_shorter_than_declared_at_eof_is_truncated() {
    let data = info(1, "<CallClearedEvent/>");
    let cut = &data[..data.len() - 5];
    let (items, fatal) = SipCodec::new().decode_all(cut.as_bytes());
    assert!(fatal.is_none());
    assert!(
        matches!(
            items.as_slice(),
            [Err(MessageError::Truncated {
                declared: 19,
                available: 14,
                offset: 0
            })]
        ),
        "{items:?}"
    );
    let (items, _) = SipCodec::new().decode_all(&data.as_bytes()[..30]);
    assert!(
        matches!(items.as_slice(), [Err(MessageError::NoHeaderEnd { .. })]),
        "{items:?}"
    );
}

#[test]
fn content_length_too_long_does_not_swallow_the_next_message() {
    // Declares 40 more bytes than its body: the next message's start line is inside.
    let first = info(1, "<CallClearedEvent/>").replace("Content-Length: 19", "Content-Length: 59");
    let data = format!("{first}{}{}", ok(1), ok(2));
    let (items, fatal) = SipCodec::new().decode_all(data.as_bytes());
    assert!(fatal.is_none(), "{fatal:?}");
    assert_eq!(items.len(), 3, "{items:?}");
    let next = (first.len()) as u64;
    assert!(
        matches!(items[0], Err(MessageError::BodyOverrun { declared: 59, next: n, offset: 0 }) if n == next),
        "{:?}",
        items[0]
    );
    assert_eq!(items[1].as_ref().unwrap().status(), Some(200));
    assert_eq!(items[2].as_ref().unwrap().cseq().unwrap().seq, 2);
    // Found as soon as the embedded start line is complete, without waiting for the rest.
    let mut codec = SipCodec::new();
    let mut buf = BytesMut::from(format!("{first}SIP/2.0 200 OK\r\n").as_str());
    assert!(matches!(
        codec.decode(&mut buf).unwrap(),
        Some(Err(MessageError::BodyOverrun { .. }))
    ));
}

#[test]
fn content_length_too_short_is_lost_sync() {
    let first = info(1, "<CallClearedEvent/>").replace("Content-Length: 19", "Content-Length: 10");
    let data = format!("{first}{}", ok(1));
    let (items, fatal) = SipCodec::new().decode_all(data.as_bytes());
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].as_ref().unwrap().body, b"<CallClear");
    assert!(
        matches!(fatal, Some(FrameError::NotAStartLine { .. })),
        "{fatal:?}"
    );
}

#[test]
fn a_sipfrag_body_may_carry_a_start_line() {
    let frag = "SIP/2.0 200 OK\r\n";
    let notify = format!(
        "NOTIFY sip:a@gw SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nFrom: <sip:b@gw>;tag=1\r\nTo: <sip:a@gw>;tag=2\r\nCall-ID: c\r\nCSeq: 3 NOTIFY\r\nEvent: refer\r\nContent-Type: message/sipfrag;version=2.0\r\nContent-Length: {}\r\n\r\n{frag}",
        frag.len()
    );
    let (items, fatal) = SipCodec::new().decode_all(notify.as_bytes());
    assert!(fatal.is_none());
    assert_eq!(items[0].as_ref().unwrap().body, frag.as_bytes());
}

#[test]
fn malformed_message_is_an_item_and_the_stream_goes_on() {
    let bad = ok(1).replace("CSeq: 1 INFO", "CSeq: x INFO");
    let data = format!("{bad}{}", ok(2));
    let (items, fatal) = SipCodec::new().decode_all(data.as_bytes());
    assert!(fatal.is_none());
    assert!(matches!(&items[0], Err(MessageError::Header { name, .. }) if name == "CSeq"));
    assert!(items[1].is_ok());
    // Offsets count from the start of the stream.
    let data = format!("{}{bad}", ok(2));
    let (items, _) = SipCodec::new().decode_all(data.as_bytes());
    let e = items[1].as_ref().unwrap_err();
    assert!(e.offset() > ok(2).len() as u64, "{e:?}");
}

#[test]
fn garbage_is_fatal() {
    let (_, fatal) = SipCodec::new().decode_all(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n");
    assert!(
        matches!(fatal, Some(FrameError::NotAStartLine { .. })),
        "{fatal:?}"
    );
}

#[test]
fn encoder_writes_what_the_decoder_reads() {
    let m = Message::parse(info(7, "<x/>").as_bytes()).unwrap();
    let mut codec = SipCodec::new();
    let mut out = BytesMut::new();
    codec.encode(&m, &mut out).unwrap();
    codec.encode(m.clone(), &mut out).unwrap();
    let (items, fatal) = SipCodec::new().decode_all(&out);
    assert!(fatal.is_none());
    assert_eq!(items, vec![Ok(m.clone()), Ok(m)]);
}
