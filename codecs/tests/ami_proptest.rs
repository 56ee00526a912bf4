//! Property tests for the AMI codec: encode→decode identity, no panic on arbitrary bytes,
//! read-size independence, and recovery after a limit violation.

use bytes::BytesMut;
use ctigw_codecs::ami::fuzz::{decode_chunked, frame};
use ctigw_codecs::ami::{AmiCodec, Limits, Message, MessageError};
use proptest::prelude::*;

fn key() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_-]{0,15}"
}

/// Any text without CR/LF that does not start with whitespace (the decoder drops leading
/// whitespace of a value, as Asterisk does).
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[!-~][ -~]{0,40}",
        "[^\r\n\t\x0c ][^\r\n]{0,20}",
    ]
}

fn message() -> impl Strategy<Value = Message> {
    let first = prop_oneof![
        value().prop_map(|v| ("Event".to_string(), v)),
        prop_oneof![Just("Success"), Just("Error"), Just("Goodbye")]
            .prop_map(|v| ("Response".to_string(), v.to_string())),
        value().prop_map(|v| ("Action".to_string(), v)),
        (key(), value()),
    ];
    (first, proptest::collection::vec((key(), value()), 0..24))
        .prop_map(|((k, v), rest)| {
            let mut m = Message::new();
            m.push(&k, &v);
            for (k, v) in &rest {
                m.push(k, v);
            }
            m
        })
        .prop_filter("not a Follows", |m| !m.is_follows())
}

/// A legacy `Response: Follows` with headers and command output (the first output line is not
/// `Key: value`-shaped, otherwise it would be a header).
fn follows() -> impl Strategy<Value = Message> {
    (
        proptest::collection::vec((key(), value()), 0..4),
        proptest::collection::vec(
            prop_oneof![Just(String::new()), " [^\r\n]{0,30}", "[^\r\n:]{1,30}"],
            0..8,
        ),
    )
        .prop_map(|(headers, lines)| {
            let mut m = Message::new()
                .with("Response", "Follows")
                .with("Privilege", "Command");
            for (k, v) in &headers {
                m.push(k, v);
            }
            for l in &lines {
                m.push_output_line(l);
            }
            m
        })
        .prop_filter("output must not end with the marker", |m| {
            m.follows_output().all(|l| !l.ends_with("--END COMMAND--"))
                && m.fields().all(|(_, v)| !v.ends_with("--END COMMAND--"))
        })
}

fn encode_all(msgs: &[Message]) -> Vec<u8> {
    let mut b = BytesMut::new();
    for m in msgs {
        m.encode(&mut b).expect("generated messages encode");
    }
    b.to_vec()
}

fn oks(msgs: &[Message]) -> Vec<Result<Message, MessageError>> {
    msgs.iter().cloned().map(Ok).collect()
}

/// Byte soup biased towards AMI structure.
fn ami_ish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b": ".to_vec()),
        Just(b"Event".to_vec()),
        Just(b"Response: Follows\r\n".to_vec()),
        Just(b"--END COMMAND--".to_vec()),
        Just(b"Asterisk Call Manager/1.0\r\n".to_vec()),
        Just(b"ActionID: x\r\n".to_vec()),
        Just(b"EventList: start\r\n".to_vec()),
        "[ -~]{0,12}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..6),
    ];
    proptest::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_identity(msgs in proptest::collection::vec(prop_oneof![4 => message(), 1 => follows()], 0..12)) {
        let bytes = encode_all(&msgs);
        prop_assert_eq!(AmiCodec::server().decode_all(&bytes), oks(&msgs));
    }

    #[test]
    fn lf_only_decodes_the_same(msgs in proptest::collection::vec(message(), 0..8)) {
        let bytes = String::from_utf8(encode_all(&msgs)).unwrap().replace("\r\n", "\n");
        prop_assert_eq!(AmiCodec::server().decode_all(bytes.as_bytes()), oks(&msgs));
    }

    #[test]
    fn split_points_do_not_matter(
        msgs in proptest::collection::vec(prop_oneof![4 => message(), 1 => follows()], 1..8),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
    ) {
        let bytes = encode_all(&msgs);
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut codec = AmiCodec::server();
        let mut buf = BytesMut::new();
        let mut items = Vec::new();
        let mut last = 0;
        for p in points.into_iter().chain([bytes.len()]) {
            buf.extend_from_slice(&bytes[last..p]);
            last = p;
            while let Some(item) = tokio_util::codec::Decoder::decode(&mut codec, &mut buf).unwrap() {
                items.push(item);
            }
        }
        while let Some(item) = tokio_util::codec::Decoder::decode_eof(&mut codec, &mut buf).unwrap() {
            items.push(item);
        }
        prop_assert_eq!(items, oks(&msgs));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..1500)) {
        frame(&data);
    }

    #[test]
    fn ami_shaped_bytes_never_panic(data in ami_ish()) {
        frame(&data);
        let tight = Limits { max_line: 16, max_headers: 3, max_message: 64 };
        let whole = decode_chunked(AmiCodec::client().with_limits(tight), &data, 0);
        for chunk in [1, 5] {
            prop_assert_eq!(&decode_chunked(AmiCodec::client().with_limits(tight), &data, chunk), &whole);
        }
    }

    #[test]
    fn limit_violations_recover_at_the_next_blank_line(
        before in proptest::collection::vec(message(), 0..3),
        after in proptest::collection::vec(message(), 1..3),
        which in 0..3usize,
        chunk in 0..40usize,
    ) {
        let limits = Limits { max_line: 200, max_headers: 30, max_message: 4000 };
        let bad = match which {
            0 => format!("Event: Long\r\nX: {}\r\n\r\n", "y".repeat(400)),
            1 => format!("Event: Many\r\n{}\r\n", "K: v\r\n".repeat(40)),
            _ => format!("Event: Big\r\n{}\r\n", format!("K: {}\r\n", "z".repeat(180)).repeat(28)),
        };
        let mut bytes = encode_all(&before);
        bytes.extend_from_slice(bad.as_bytes());
        bytes.extend_from_slice(&encode_all(&after));
        let items = decode_chunked(AmiCodec::server().with_limits(limits), &bytes, chunk);
        prop_assert_eq!(items.len(), before.len() + 1 + after.len(), "{:?}", items);
        prop_assert_eq!(&items[..before.len()], &oks(&before)[..]);
        let err = items[before.len()].clone().unwrap_err();
        let expected = match which {
            0 => matches!(err, MessageError::LineTooLong { limit: 200, .. }),
            1 => matches!(err, MessageError::TooManyHeaders { limit: 30, .. }),
            _ => matches!(err, MessageError::MessageTooLong { limit: 4000, .. }),
        };
        prop_assert!(expected, "{:?}", err);
        prop_assert_eq!(&items[before.len() + 1..], &oks(&after)[..]);
    }
}
