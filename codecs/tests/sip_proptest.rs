//! Property tests for the SIP codec: built messages encode and decode back identically (as one
//! message, through the stream codec at any read size), URIs and typed headers print and parse
//! back, and arbitrary bytes never panic.

use ctigw_codecs::sip::fuzz::{decode_chunked, frame, message as message_entry};
use ctigw_codecs::sip::{
    ContentDisposition, Message, Method, NameAddr, Param, SipCodec, SipUri, TelUri, Uri, Via,
};
use proptest::prelude::*;

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9.!%*_+`'~-]{0,12}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9]{0,6}){0,2}",
        "(25[0-5]|1[0-9]{2}|[0-9]{1,2})(\\.[0-9]{1,3}){3}",
        Just("[2001:db8::1]".to_string()),
    ]
}

fn uri_param() -> impl Strategy<Value = Param> {
    (
        "[a-z][a-z0-9-]{0,8}",
        proptest::option::of("[A-Za-z0-9._~-]{1,10}"),
    )
        .prop_map(|(n, v)| Param {
            name: n,
            value: v,
            quoted: false,
        })
}

fn uri() -> impl Strategy<Value = Uri> {
    let sip = (
        any::<bool>(),
        proptest::option::of("[A-Za-z0-9._~+-]{1,12}"),
        host(),
        proptest::option::of(1u16..),
        proptest::collection::vec(uri_param(), 0..3),
    )
        .prop_map(|(secure, user, host, port, params)| {
            Uri::Sip(SipUri {
                secure,
                user,
                password: None,
                host,
                port,
                params,
                headers: Vec::new(),
            })
        });
    let tel = (
        prop_oneof!["\\+[0-9]{1,3}(-[0-9]{2,4}){0,4}", "[0-9*#]{1,8}"],
        proptest::option::of("[a-z]{1,8}\\.com"),
    )
        .prop_map(|(number, ctx)| {
            Uri::Tel(TelUri {
                number,
                params: ctx
                    .map(|c| vec![Param::new("phone-context", c)])
                    .unwrap_or_default(),
            })
        });
    prop_oneof![3 => sip, 1 => tel]
}

fn header_param() -> impl Strategy<Value = Param> {
    prop_oneof![
        (token(), token()).prop_map(|(n, v)| Param::new(n, v)),
        token().prop_map(Param::flag),
        (token(), "[ -~]{0,12}").prop_map(|(n, v)| Param::quoted(n, v)),
    ]
}

fn name_addr() -> impl Strategy<Value = NameAddr> {
    (
        proptest::option::of("[ -~]{0,16}"),
        uri(),
        proptest::collection::vec(header_param(), 0..3),
    )
        .prop_map(|(display, uri, params)| NameAddr {
            display,
            uri,
            params,
        })
}

fn via() -> impl Strategy<Value = Via> {
    (
        prop_oneof![Just("UDP"), Just("TCP"), Just("TLS"), Just("WS")],
        host(),
        proptest::option::of(1u16..),
        token(),
    )
        .prop_map(|(t, h, p, b)| Via::new(t, h, p).with_branch(format!("z9hG4bK{b}")))
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Invite),
        Just(Method::Ack),
        Just(Method::Info),
        Just(Method::Bye),
        token().prop_map(|t| Method::parse(&t).unwrap()),
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[!-~]([ -~]{0,30}[!-~])?",
        "[^\r\n\t ]{1,10}"
    ]
}

fn message() -> impl Strategy<Value = Message> {
    let start = prop_oneof![
        (method(), uri()).prop_map(|(m, u)| (Some((m, u)), 0u16)),
        (100u16..700).prop_map(|c| (None, c)),
    ];
    (
        start,
        proptest::collection::vec(via(), 1..3),
        name_addr(),
        name_addr(),
        token(),
        0u32..u32::MAX,
        proptest::collection::vec(("X-[A-Za-z0-9-]{1,10}", value()), 0..4),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
        any::<bool>(),
    )
        .prop_map(
            |(start, vias, from, to, call_id, seq, extra, body, compact)| {
                let (mut msg, cseq_method) = match start {
                    (Some((m, u)), _) => (Message::request(m.clone(), u), m),
                    (None, code) => (Message::response(code, ""), Method::Invite),
                };
                let n =
                    |long: &'static str, short: &'static str| if compact { short } else { long };
                for v in vias {
                    msg.push_header(n("Via", "v"), v);
                }
                msg.push_header(n("From", "f"), from);
                msg.push_header(n("To", "t"), to);
                msg.push_header(n("Call-ID", "i"), call_id);
                msg.push_header("CSeq", format!("{seq} {cseq_method}"));
                msg.push_header("Content-Disposition", ContentDisposition::csta_signal());
                for (k, v) in extra {
                    msg.push_header(&k, v);
                }
                msg.with_body("application/csta+xml", body.unwrap_or_default())
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn built_messages_round_trip(msg in message()) {
        let bytes = msg.to_bytes().unwrap();
        let parsed = Message::parse(&bytes);
        prop_assert_eq!(parsed.as_ref(), Ok(&msg), "{}", String::from_utf8_lossy(&bytes));
        let (items, failed) = decode_chunked(SipCodec::new(), &bytes, 0);
        prop_assert!(!failed);
        prop_assert_eq!(items, vec![Ok(msg)]);
    }

    #[test]
    fn streams_decode_alike_at_any_read_size(msgs in proptest::collection::vec(message(), 1..4), chunk in 1usize..64, pings in 0usize..3) {
        let mut data = Vec::new();
        for m in &msgs {
            data.extend_from_slice(&b"\r\n\r\n".repeat(pings));
            data.extend_from_slice(&m.to_bytes().unwrap());
        }
        let (items, failed) = decode_chunked(SipCodec::new(), &data, chunk);
        prop_assert!(!failed);
        let want: Vec<_> = msgs.into_iter().map(Ok).collect();
        prop_assert_eq!(items, want);
    }

    #[test]
    fn uris_print_and_parse_back(u in uri()) {
        prop_assert_eq!(Uri::parse(&u.to_string()), Ok(u));
    }

    #[test]
    fn name_addrs_print_and_parse_back(na in name_addr()) {
        prop_assert_eq!(NameAddr::parse(&na.to_string()), Ok(na));
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..400)) {
        frame(&data);
        message_entry(&data);
    }

    #[test]
    fn mutated_messages_never_panic(msg in message(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = msg.to_bytes().unwrap();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        frame(&bytes);
        message_entry(&bytes);
    }
}
