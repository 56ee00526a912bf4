//! SIP message parsing: compact forms, folding, LF-only input, repeated and multi-valued
//! headers, name-addr, URIs (`sip:`, `sips:`, IPv6, `tel:`), typed headers, builders, and the
//! Digest helper against the RFC 2617 and RFC 7616 examples.

use ctigw_codecs::sip::digest::{self, Algorithm, DigestInput};
use ctigw_codecs::sip::{
    Auth, ContentDisposition, Message, MessageError, Method, NameAddr, Param, SipUri, Uri, Via,
};

const INFO: &str = "INFO sip:cti@gw.example.com;transport=tcp SIP/2.0\r\n\
v: SIP/2.0/TCP 10.0.0.5:5060;branch=z9hG4bK776asdhds;rport\r\n\
f: \"CTI client\" <sip:ctigw@10.0.0.5>;tag=1928301774\r\n\
t: <sip:cti@gw.example.com>;tag=a6c85cf\r\n\
i: a84b4c76e66710@10.0.0.5\r\n\
CSeq: 314159 INFO\r\n\
m: <sip:ctigw@10.0.0.5:5060;transport=tcp>\r\n\
c: application/csta+xml\r\n\
Content-Disposition: signal;handling=required\r\n\
k: timer, 100rel\r\n\
Supported: replaces\r\n\
l: 17\r\n\
\r\n\
<MakeCall/>\r\n\r\n\r\n";

#[test]
fn compact_forms() {
    let m = Message::parse(INFO.as_bytes()).unwrap();
    assert_eq!(m.method(), Some(&Method::Info));
    assert_eq!(m.call_id(), Some("a84b4c76e66710@10.0.0.5"));
    assert_eq!(m.from().unwrap().tag(), Some("1928301774"));
    assert_eq!(m.from().unwrap().display.as_deref(), Some("CTI client"));
    assert_eq!(m.to().unwrap().tag(), Some("a6c85cf"));
    assert!(m.is_csta());
    assert_eq!(m.content_length(), Some(17));
    assert_eq!(m.body, b"<MakeCall/>\r\n\r\n\r\n");
    let via = m.top_via().unwrap();
    assert_eq!((via.transport.as_str(), via.port), ("TCP", Some(5060)));
    assert_eq!(via.branch(), Some("z9hG4bK776asdhds"));
    assert_eq!(via.rport(), Some(None));
    assert_eq!(m.contacts().len(), 1);
    assert_eq!(
        m.header_values("Supported"),
        ["timer", "100rel", "replaces"]
    );
    assert_eq!(m.header("K"), Some("timer, 100rel"));
    let cd = m.content_disposition().unwrap();
    assert_eq!(
        (cd.disposition.as_str(), cd.handling()),
        ("signal", Some("required"))
    );
    let json = serde_json::to_string(&m).unwrap();
    assert!(json.contains("\"method\":\"INFO\""), "{json}");
}

#[test]
fn lf_only_and_folding() {
    let text = "SIP/2.0 200 OK\nVia: SIP/2.0/TCP 10.0.0.5;branch=z9hG4bK1,\n SIP/2.0/UDP 10.0.0.6\n\t;branch=z9hG4bK2\nFrom: <sip:a@b>;tag=1\nTo: <sip:c@d>\n  ;tag=2\nCall-ID: x\nCSeq: 1\n INVITE\nContent-Length: 2\n\nok";
    let m = Message::parse(text.as_bytes()).unwrap();
    assert_eq!(m.status(), Some(200));
    let vias = m.vias();
    assert_eq!(vias.len(), 2);
    assert_eq!(vias[1].branch(), Some("z9hG4bK2"));
    assert_eq!(m.to().unwrap().tag(), Some("2"));
    assert_eq!(m.cseq().unwrap().method, Method::Invite);
    assert_eq!(m.body, b"ok");
}

#[test]
fn extension_method_and_repeated_headers() {
    let text = "X-CSTA sip:gw SIP/2.0\r\nFrom: sip:a@b;tag=1\r\nTo: sip:c@d\r\nCall-ID: 1\r\nCSeq: 2 X-CSTA\r\nRoute: <sip:p1;lr>\r\nRoute: <sip:p2;lr>, <sip:p3;lr>\r\nContent-Length: 0\r\n\r\n";
    let m = Message::parse(text.as_bytes()).unwrap();
    assert_eq!(m.method(), Some(&Method::Extension("X-CSTA".into())));
    let routes: Vec<String> = m.routes().iter().map(|r| r.uri.to_string()).collect();
    assert_eq!(routes, ["sip:p1;lr", "sip:p2;lr", "sip:p3;lr"]);
}

#[test]
fn sip_uris() {
    let u = Uri::parse(
        "sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=x&priority=urgent",
    )
    .unwrap();
    let s = u.as_sip().unwrap();
    assert!(s.secure);
    assert_eq!(s.user.as_deref(), Some("alice"));
    assert_eq!(s.password.as_deref(), Some("secret"));
    assert_eq!(s.host, "[2001:db8::1]");
    assert_eq!(s.port, Some(5061));
    assert_eq!(s.param("transport"), Some(Some("tcp")));
    assert_eq!(s.param("lr"), Some(None));
    assert_eq!(s.headers.len(), 2);
    assert_eq!(Uri::parse(&u.to_string()).unwrap(), u);
    assert_eq!(
        Uri::parse("sip:%61lice@h").unwrap().user().as_deref(),
        Some("alice")
    );
    for bad in [
        "sip:",
        "sip:@host",
        "sip:a@h:99999",
        "sip:a@[zz]",
        "sip:a b@h",
        "1sip:x",
    ] {
        assert!(Uri::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn tel_uris() {
    let u = Uri::parse("tel:+33-1-23-45-67-89").unwrap();
    let t = u.as_tel().unwrap();
    assert!(t.is_global());
    assert_eq!(t.digits(), "+33123456789");
    let local = Uri::parse("tel:7042;phone-context=example.com").unwrap();
    let t = local.as_tel().unwrap();
    assert!(!t.is_global());
    assert_eq!(t.phone_context(), Some("example.com"));
    let local = Uri::parse("tel:(01)23.45;phone-context=+33;ext=12").unwrap();
    assert_eq!(local.as_tel().unwrap().digits(), "012345");
    assert_eq!(local.to_string(), "tel:(01)23.45;phone-context=+33;ext=12");
    for bad in ["tel:", "tel:+", "tel:12 34", "tel:+33x", "tel:1;=x"] {
        assert!(Uri::parse(bad).is_err(), "{bad}");
    }
    // In a name-addr and as a Request-URI.
    let text = "INVITE tel:+33123456789 SIP/2.0\r\nFrom: <tel:24103>;tag=1\r\nTo: tel:+33123456789\r\nCall-ID: 1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
    let m = Message::parse(text.as_bytes()).unwrap();
    assert_eq!(m.from().unwrap().uri.user().as_deref(), Some("24103"));
    assert!(m.request_uri().unwrap().as_tel().is_some());
}

#[test]
fn name_addr_forms() {
    let na = NameAddr::parse("\"Bob\" <sip:bob@biloxi.com>;tag=a6c85cf").unwrap();
    assert_eq!(na.display.as_deref(), Some("Bob"));
    assert_eq!(na.tag(), Some("a6c85cf"));
    let na = NameAddr::parse("Bob Smith <sip:bob@biloxi.com>").unwrap();
    assert_eq!(na.display.as_deref(), Some("Bob Smith"));
    let na = NameAddr::parse("sip:bob@biloxi.com;tag=1").unwrap();
    assert_eq!(na.tag(), Some("1"));
    assert_eq!(na.uri.as_sip().unwrap().params, vec![]);
    let na = NameAddr::parse("\"a \\\"quoted\\\\ name\" <sip:x@y>").unwrap();
    assert_eq!(na.display.as_deref(), Some("a \"quoted\\ name"));
    assert_eq!(NameAddr::parse(&na.to_string()).unwrap(), na);
    for bad in [
        "\"open <sip:x@y>",
        "< sip:x@y >",
        "a,b <sip:x@y>",
        "sip:x@y?h=v",
        "<sip:x@y",
    ] {
        assert!(NameAddr::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn via_and_auth_headers() {
    let v = Via::parse("SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKx;received=192.0.2.9;rport=5070")
        .unwrap();
    assert_eq!(v.received(), Some("192.0.2.9"));
    assert_eq!(v.rport(), Some(Some(5070)));
    assert_eq!(Via::parse(&v.to_string()).unwrap(), v);
    assert!(Via::parse("SIP/2.0/UDP host;;branch=x").is_err());
    assert!(Via::parse("SIP/3.0/UDP host").is_err());

    let c = Auth::parse(
        "Digest realm=\"atlanta.com\", domain=\"sip:ss1.carrier.com\", qop=\"auth,auth-int\", \
         nonce=\"f84f1cec41e6cbe5aea9c8e88d359\", opaque=\"\", stale=FALSE, algorithm=MD5",
    )
    .unwrap();
    assert!(c.is_digest());
    assert_eq!(c.realm(), Some("atlanta.com"));
    assert_eq!(c.qop_options(), ["auth", "auth-int"]);
    assert_eq!(c.opaque(), Some(""));
    assert!(!c.stale());
    assert_eq!(Auth::parse(&c.to_string()).unwrap(), c);
}

#[test]
fn errors_name_what_and_where() {
    let text = b"OPTIONS sip:a@b SIP/2.0\r\nFrom: sip:a@b;tag=1\r\nTo: sip:c@d\r\nCall-ID: 1\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 256\r\nContent-Length: 0\r\n\r\n";
    let e = Message::parse(text).unwrap_err();
    assert!(
        matches!(&e, MessageError::Header { name, offset: 88, .. } if name == "Max-Forwards"),
        "{e:?}"
    );
    let e = Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nno colon here\r\n\r\n").unwrap_err();
    assert!(
        matches!(e, MessageError::HeaderLine { offset: 25, .. }),
        "{e:?}"
    );
    let e = Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\nX: \xff\r\n\r\n").unwrap_err();
    assert!(matches!(e, MessageError::Utf8 { offset: 28 }), "{e:?}");
    assert!(matches!(
        Message::parse(b"OPTIONS sip:a@b SIP/2.0\r\n").unwrap_err(),
        MessageError::NoHeaderEnd { .. }
    ));
}

#[test]
fn builders_encode_and_reparse() {
    let uri = Uri::Sip(
        SipUri::new(Some("cti"), "gw.example.com").with_param(Param::new("transport", "tcp")),
    );
    let req = Message::request(Method::Invite, uri)
        .with_header(
            "Via",
            Via::new("TCP", "10.0.0.5", Some(5060)).with_branch("z9hG4bK1"),
        )
        .with_header("Max-Forwards", 70)
        .with_header(
            "From",
            NameAddr::new(Uri::parse("sip:ctigw@10.0.0.5").unwrap())
                .with_param(Param::new("tag", "abc")),
        )
        .with_header(
            "To",
            NameAddr::new(Uri::parse("sip:cti@gw.example.com").unwrap()),
        )
        .with_header("Call-ID", "c1@10.0.0.5")
        .with_header("CSeq", "1 INVITE")
        .with_header("Content-Disposition", ContentDisposition::csta_signal())
        .with_body("application/csta+xml", "<RequestSystemStatus/>");
    let bytes = req.to_bytes().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(
        text.starts_with("INVITE sip:cti@gw.example.com;transport=tcp SIP/2.0\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\nContent-Length: 22\r\n\r\n<RequestSystemStatus/>"),
        "{text}"
    );
    let back = Message::parse(&bytes).unwrap();
    assert_eq!(back, req);

    let ok = Message::response_to(&back, 200, "", Some("gw1"));
    let ok = ok.with_body("application/csta+xml", "<RequestSystemStatusResponse/>");
    let parsed = Message::parse(&ok.to_bytes().unwrap()).unwrap();
    assert_eq!(parsed, ok);
    assert_eq!(parsed.to().unwrap().tag(), Some("gw1"));
    assert_eq!(parsed.cseq().unwrap().method, Method::Invite);
    assert_eq!(parsed.status(), Some(200));

    let injected = Message::response(200, "OK").with_header("X", "a\r\nInjected: 1");
    assert!(injected.to_bytes().is_err());
}

#[test]
fn hashes_match_their_test_vectors() {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    assert_eq!(hex(&digest::md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(
        hex(&digest::md5(
            b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
        )),
        "57edf4a22be3c955ac49da2e2107b67a"
    );
    assert_eq!(
        hex(&digest::sha256(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex(&digest::sha256(
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        )),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
}

#[test]
fn digest_rfc2617_example() {
    // RFC 2617 §3.5.
    let input = DigestInput {
        algorithm: Algorithm::Md5,
        username: "Mufasa",
        realm: "testrealm@host.com",
        password: "Circle Of Life",
        nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        method: "GET",
        uri: "/dir/index.html",
        qop: Some("auth"),
        cnonce: "0a4f113b",
        nc: 1,
    };
    assert_eq!(digest::response(&input), "6629fae49393a05397450978507c4ef1");
}

#[test]
fn digest_rfc7616_sha256_example() {
    let input = DigestInput {
        algorithm: Algorithm::Sha256,
        username: "Mufasa",
        realm: "http-auth@example.org",
        password: "Circle of Life",
        nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
        method: "GET",
        uri: "/dir/index.html",
        qop: Some("auth"),
        cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        nc: 1,
    };
    assert_eq!(
        digest::response(&input),
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
    );
    let md5 = DigestInput {
        algorithm: Algorithm::Md5,
        ..input
    };
    assert_eq!(digest::response(&md5), "8ca523f5e9506fed4657c9700eebdbec");
}

#[test]
fn authorize_answers_a_401() {
    let text = "SIP/2.0 401 Unauthorized\r\nVia: SIP/2.0/TCP 10.0.0.5;branch=z9hG4bK1\r\nFrom: <sip:ctigw@gw>;tag=1\r\nTo: <sip:cti@gw>;tag=2\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nWWW-Authenticate: Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"\r\nContent-Length: 0\r\n\r\n";
    let m = Message::parse(text.as_bytes()).unwrap();
    let challenge = &m.www_authenticate()[0];
    let creds = digest::authorize(
        challenge,
        "Mufasa",
        "Circle Of Life",
        "GET",
        "/dir/index.html",
        "0a4f113b",
        1,
    )
    .unwrap();
    assert_eq!(
        creds.param("response"),
        Some("6629fae49393a05397450978507c4ef1")
    );
    assert_eq!(creds.param("nc"), Some("00000001"));
    assert_eq!(creds.opaque(), Some("5ccc069c403ebaf9f0171e9517f40e41"));
    // It goes back in a request and reads back the same.
    let again = Auth::parse(&creds.to_string()).unwrap();
    assert_eq!(again, creds);
    let basic = Auth::parse("Basic realm=\"x\"").unwrap();
    assert!(digest::authorize(&basic, "u", "p", "INVITE", "sip:x", "c", 1).is_err());
}

#[test]
fn content_length_with_leading_zeros_encodes_back_as_received() {
    // The decoder accepts `Content-Length: 063`; the encoder must not turn it into `63`, or
    // the message re-encoded would decode to a different one.
    let body = "<CallClearedEvent/>";
    let text = format!(
        "INFO sip:cti@gw SIP/2.0\r\nFrom: <sip:a@gw>;tag=1\r\nTo: <sip:cti@gw>\r\nCall-ID: c\r\nCSeq: 1 INFO\r\nContent-Length: 0{}\r\n\r\n{body}",
        body.len()
    );
    let m = Message::parse(text.as_bytes()).unwrap();
    assert_eq!(m.content_length(), Some(body.len()));
    assert_eq!(m.to_bytes().unwrap(), text.as_bytes());
    // A stored value that does not state the body's length is still replaced.
    let mut wrong = m.clone();
    wrong.body.push(b' ');
    let bytes = String::from_utf8(wrong.to_bytes().unwrap()).unwrap();
    assert!(bytes.contains("\r\nContent-Length: 20\r\n"), "{bytes}");
}
