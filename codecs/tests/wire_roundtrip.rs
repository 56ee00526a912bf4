//! The one encode/decode vocabulary, generically: for a value of each of the four codecs
//! (a CSTA BER PDU, a CSTA XML document, a SIP message, an AMI message), decoding its
//! `WireEncode` bytes through `WireDecode` gives the value back and re-encodes to the same
//! bytes; every strict prefix of those bytes is refused with the codec's typed error or
//! decodes to something else, never a panic.

use bytes::BytesMut;
use ctigw_codecs::csta_ber::{self, ConnectionId, requests};
use ctigw_codecs::{WireDecode, WireEncode, ami, csta_xml, sip};
use std::fmt::Debug;

/// The round trip every wire type promises; returns the encoded bytes.
fn round_trip<T>(value: &T) -> BytesMut
where
    T: WireEncode + for<'a> WireDecode<'a> + PartialEq + Debug,
{
    let bytes = value.to_wire().unwrap_or_else(|e| panic!("{value:?}: {e}"));
    assert!(!bytes.is_empty(), "{value:?} encoded to nothing");
    let back = T::decode(&bytes).unwrap_or_else(|e| panic!("{value:?}: {e}"));
    assert_eq!(&back, value);
    let mut again = BytesMut::new();
    back.encode(&mut again).unwrap();
    assert_eq!(again, bytes, "re-encoding changed the bytes");
    for cut in 0..bytes.len() {
        if let Ok(other) = T::decode(&bytes[..cut]) {
            assert_ne!(
                &other, value,
                "a {cut}-byte prefix decoded to the whole value"
            );
        }
    }
    bytes
}

#[test]
fn csta_ber_pdus() {
    let conn = ConnectionId::dynamic(b"\x00\x01", b"24103");
    for pdu in [
        requests::monitor_start(1, "24103"),
        requests::make_call(2, "24103", "0612345678"),
        requests::hold_call(3, &conn),
        requests::system_status_result(4),
    ] {
        let bytes = round_trip(&pdu);
        // the free functions callers still use are the same encoding
        let mut free = BytesMut::new();
        csta_ber::encode_pdu(&pdu, &mut free);
        assert_eq!(free, bytes);
        assert_eq!(csta_ber::decode_pdu(&bytes).unwrap(), pdu);
    }
    assert!(
        csta_ber::Pdu::decode(&[0x05, 0x00]).is_err(),
        "a NULL is no APDU"
    );
}

fn delivered_info() -> sip::Message {
    let raw = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/cucm/delivered-info.sip"
    ))
    .unwrap();
    sip::Message::parse(&raw).unwrap()
}

#[test]
fn csta_xml_documents() {
    let body = delivered_info().body;
    let delivered = csta_xml::Decoded::decode(&body).unwrap();
    assert_eq!(delivered.edition, Some(csta_xml::Edition::Ed3));
    round_trip(&delivered);
    for edition in csta_xml::Edition::ALL {
        round_trip(&csta_xml::Decoded {
            edition: Some(edition),
            message: csta_xml::requests::request_system_status(),
        });
    }
    assert!(csta_xml::Decoded::decode(b"<notClosed>").is_err());
}

#[test]
fn sip_messages() {
    let info = delivered_info();
    assert!(info.is_csta());
    round_trip(&info);
    round_trip(&sip::Message::response_to(&info, 200, "OK", None));
    assert!(matches!(
        sip::Message::decode(b"INVITE sip:a@b SIP/2.0\r\n"),
        Err(sip::MessageError::NoHeaderEnd { .. })
    ));
}

#[test]
fn ami_messages() {
    let login = ami::Message::new()
        .with("Action", "Login")
        .with("ActionID", "1")
        .with("Username", "ctigw");
    let bytes = round_trip(&login);
    assert_eq!(
        &bytes[..],
        b"Action: Login\r\nActionID: 1\r\nUsername: ctigw\r\n\r\n"
    );
    round_trip(
        &ami::Message::new()
            .with("Event", "Hold")
            .with("Channel", "PJSIP/101-00000011"),
    );
    // one message and nothing else
    let mut two = bytes.to_vec();
    two.extend_from_slice(b"Action: Ping\r\n\r\n");
    assert_eq!(
        ami::Message::decode(&two),
        Err(ami::MessageError::Trailing {
            offset: bytes.len() as u64
        })
    );
    assert_eq!(
        ami::Message::decode(b""),
        Err(ami::MessageError::Truncated { offset: 0 })
    );
}
