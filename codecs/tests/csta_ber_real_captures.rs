//! The real OXE captures in `fixtures/real/oxe/` (public bytes, provenance in each file): every field the independent decoder printed beside each frame, the ALE event
//! time, byte-identical re-encoding, and the session-open AARQ and MonitorStart.

use bytes::BytesMut;
use ctigw_codecs::csta_ber::acse::{
    CSTA_APPLICATION_CONTEXT, CSTA_USER_INFORMATION_OID, ExternalEncoding,
};
use ctigw_codecs::csta_ber::events::CstaEvent;
use ctigw_codecs::csta_ber::private_data::PrivateItem;
use ctigw_codecs::csta_ber::services::{Argument, MonitorObject};
use ctigw_codecs::csta_ber::types::{AppDevice, DeviceId, DeviceRef, LocalDeviceId};
use ctigw_codecs::csta_ber::*;
use ctigw_codecs::hex::parse_hex_text;
use std::path::PathBuf;
use tokio_util::codec::Decoder;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/real/oxe")
}

fn read(name: &str) -> Vec<u8> {
    let text = std::fs::read_to_string(dir().join(name)).expect("capture present");
    parse_hex_text(&text).expect("capture is hex")
}

/// Frames a whole capture and returns (BER bytes, decoded PDU) for each frame.
fn frames(bytes: &[u8]) -> Vec<(Vec<u8>, Pdu)> {
    let mut raw = CstaFrameCodec::new(Role::Observer);
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(f) = raw.decode(&mut buf).expect("framing") {
        match f {
            Frame::Hello(h) => out.push((vec![h.byte()], Pdu::Hello { hello: h })),
            Frame::Ber(b) => out.push((
                b.to_vec(),
                decode_pdu(&b).unwrap_or_else(|e| panic!("decode: {e}")),
            )),
        }
    }
    assert!(buf.is_empty(), "bytes left after the last frame");
    out
}

fn single_event(name: &str) -> (Vec<u8>, Invoke, EventReport) {
    let mut f = frames(&read(name));
    assert_eq!(f.len(), 1, "{name}: one frame");
    let (ber, pdu) = f.remove(0);
    // Byte-identical re-encoding.
    let mut again = BytesMut::new();
    encode_pdu(&pdu, &mut again);
    assert_eq!(&again[..], &ber[..], "{name}: re-encoding differs");
    let Pdu::Rose(RoseApdu::Invoke(inv)) = pdu else {
        panic!("{name}: not an invoke")
    };
    let Argument::CstaEventReport(rep) = inv.argument.clone() else {
        panic!("{name}: not an event report")
    };
    (ber, inv, rep)
}

fn digits<const N: u32>(d: &Option<AppDevice<N>>) -> String {
    d.as_ref()
        .and_then(|d| d.digits())
        .map(|d| d.to_string())
        .expect("device with digits")
}

fn dynamic(c: &ConnectionId) -> Vec<u8> {
    match &c.device {
        Some(LocalDeviceId::DynamicId(b)) => b.clone(),
        other => panic!("expected a dynamic device id, got {other:?}"),
    }
}

fn check_private(rep: &EventReport, time: &str, items: usize) {
    let pd = rep.private_data.as_ref().expect("ALE private data");
    let ts = pd.timestamp.as_ref().expect("timestamp");
    assert_eq!(ts.raw, time);
    assert!(ts.unix_seconds.is_some());
    assert_eq!(pd.items.len(), items);
    for i in &pd.items {
        let PrivateItem::Oid { oid, .. } = i else {
            panic!("opaque item {i:?}")
        };
        assert!(oid.starts_with("1.3.12.1206."), "{oid}");
    }
}

#[test]
fn connection_cleared() {
    let (_, inv, rep) = single_event("connection-cleared-1.hex");
    assert_eq!(inv.invoke_id, 0x2a30);
    assert_eq!(rep.cross_ref_identifier.as_u64(), Some(20312835));
    let CstaEvent::ConnectionCleared(e) = &rep.event else {
        panic!("{:?}", rep.event)
    };
    assert_eq!(e.dropped_connection.call_number(), Some(11138));
    assert_eq!(
        e.dropped_connection.call.as_deref(),
        Some(&[0x2b, 0x82][..])
    );
    // The decoder printed ConnectionDevice = 24103 (its own mapping of the dynamic id).
    assert_eq!(dynamic(&e.dropped_connection), vec![0x08, 0xb3, 0x01, 0x00]);
    assert_eq!(digits(&e.releasing_device), "24103");
    assert!(matches!(
        e.releasing_device.as_ref().unwrap().0,
        DeviceRef::DeviceIdentifier(DeviceId::ImplicitPrivate(_))
    ));
    assert_eq!(e.local_connection_info, Some(LocalConnectionState::Null));
    assert_eq!(e.cause, Some(EventCause::NormalClearing));
    assert_eq!(e.cause.unwrap().code(), 48);
    check_private(&rep, "250301160827Z", 1);
    assert_eq!(
        rep.private_data
            .as_ref()
            .unwrap()
            .timestamp
            .as_ref()
            .unwrap()
            .unix_seconds,
        Some(1_740_845_307)
    );
}

#[test]
fn delivered() {
    let (_, _, rep) = single_event("delivered.hex");
    assert_eq!(rep.cross_ref_identifier.as_u64(), Some(20618243));
    let CstaEvent::Delivered(e) = &rep.event else {
        panic!("{:?}", rep.event)
    };
    assert_eq!(e.connection.call_number(), Some(11153));
    assert_eq!(dynamic(&e.connection), vec![0x09, 0x16, 0x01, 0x00]);
    assert_eq!(digits(&e.alerting_device), "24650");
    assert_eq!(digits(&e.calling_device), "24105");
    assert_eq!(digits(&e.called_device), "24640");
    // `64 02 88 00`: lastRedirectionDevice [APPLICATION 4] holding notRequired [8].
    assert_eq!(
        e.last_redirection_device.as_ref().unwrap().0,
        DeviceRef::NotRequired
    );
    assert_eq!(
        e.local_connection_info,
        Some(LocalConnectionState::Connected)
    );
    assert_eq!(e.cause, Some(EventCause::NewCall));
    check_private(&rep, "250301160942Z", 1);
}

#[test]
fn established() {
    let (_, _, rep) = single_event("established.hex");
    assert_eq!(rep.cross_ref_identifier.as_u64(), Some(20312835));
    let CstaEvent::Established(e) = &rep.event else {
        panic!("{:?}", rep.event)
    };
    assert_eq!(e.established_connection.call_number(), Some(10958));
    assert_eq!(
        dynamic(&e.established_connection),
        vec![0x0b, 0xff, 0x01, 0x04]
    );
    // External numbers come as implicitPublic [2] with the outside-line prefix; the
    // independent decoder printed them without their first digit ("00238221815" for
    // answeringDevice, "0238221815" for calledDevice).
    let answering = digits(&e.answering_device);
    assert_eq!(answering, "000238221815");
    assert_eq!(&answering[1..], "00238221815");
    assert!(matches!(
        e.answering_device.as_ref().unwrap().0,
        DeviceRef::DeviceIdentifier(DeviceId::ImplicitPublic(_))
    ));
    assert_eq!(digits(&e.calling_device), "24103");
    let called = digits(&e.called_device);
    assert_eq!(called, "00238221815");
    assert_eq!(&called[1..], "0238221815");
    assert_eq!(
        e.last_redirection_device.as_ref().unwrap().0,
        DeviceRef::NotRequired
    );
    assert_eq!(
        e.local_connection_info,
        Some(LocalConnectionState::Connected)
    );
    assert_eq!(e.cause, Some(EventCause::NetworkSignal));
    check_private(&rep, "250301154152Z", 2);
}

#[test]
fn held() {
    let (_, _, rep) = single_event("held.hex");
    assert_eq!(rep.cross_ref_identifier.as_u64(), Some(30565635));
    let CstaEvent::Held(e) = &rep.event else {
        panic!("{:?}", rep.event)
    };
    assert_eq!(e.held_connection.call_number(), Some(10968));
    assert_eq!(dynamic(&e.held_connection), vec![0x08, 0xb4, 0x01, 0x00]);
    assert_eq!(digits(&e.holding_device), "24104");
    assert_eq!(e.local_connection_info, Some(LocalConnectionState::Hold));
    assert_eq!(e.cause, Some(EventCause::Consultation));
    assert_eq!(e.cause.unwrap().code(), 37);
    check_private(&rep, "250301154359Z", 1);
}

#[test]
fn originated() {
    let (_, _, rep) = single_event("originated.hex");
    assert_eq!(rep.cross_ref_identifier.as_u64(), Some(20618243));
    let CstaEvent::Originated(e) = &rep.event else {
        panic!("{:?}", rep.event)
    };
    assert_eq!(e.originated_connection.call_number(), Some(11113));
    assert_eq!(
        dynamic(&e.originated_connection),
        vec![0x08, 0xb5, 0x01, 0x00]
    );
    assert_eq!(digits(&e.calling_device), "24105");
    let called = digits(&e.called_device);
    assert_eq!(called, "00659732122");
    assert_eq!(&called[1..], "0659732122");
    assert_eq!(
        e.local_connection_info,
        Some(LocalConnectionState::Connected)
    );
    assert_eq!(e.cause, Some(EventCause::NewCall));
    check_private(&rep, "250301160139Z", 1);
}

#[test]
fn retrieved() {
    let (_, _, rep) = single_event("retrieved.hex");
    assert_eq!(rep.cross_ref_identifier.as_u64(), Some(18192642));
    let CstaEvent::Retrieved(e) = &rep.event else {
        panic!("{:?}", rep.event)
    };
    assert_eq!(e.retrieved_connection.call_number(), Some(11717));
    assert_eq!(
        dynamic(&e.retrieved_connection),
        vec![0x02, 0x62, 0x01, 0x04]
    );
    assert_eq!(digits(&e.retrieving_device), "75302");
    assert_eq!(
        e.local_connection_info,
        Some(LocalConnectionState::Connected)
    );
    // The decoder printed "DecodeCause = -1 ()": no cause in the frame.
    assert_eq!(e.cause, None);
    check_private(&rep, "250301173255Z", 1);
}

#[test]
fn every_capture_file_decodes_and_serialises() {
    let mut count = 0;
    for entry in std::fs::read_dir(dir()).expect("capture dir") {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for (_, pdu) in frames(&parse_hex_text(&text).unwrap()) {
            let json = serde_json::to_string(&pdu).unwrap();
            assert!(!json.is_empty());
            count += 1;
        }
    }
    assert!(count >= 9, "{count} frames");
}

#[test]
fn json_names_follow_ecma() {
    let (_, _, rep) = single_event("connection-cleared-1.hex");
    let json = serde_json::to_value(&rep).unwrap();
    assert_eq!(json["crossRefIdentifier"], "0135f303");
    let cc = &json["eventSpecificInfo"]["connectionCleared"];
    assert_eq!(cc["droppedConnection"]["call"], "2b82");
    assert_eq!(cc["droppedConnection"]["device"]["dynamicId"], "08b30100");
    assert_eq!(
        cc["releasingDevice"]["deviceIdentifier"]["implicitPrivate"],
        "24103"
    );
    assert_eq!(cc["cause"], "normalClearing");
    assert_eq!(cc["localConnectionInfo"], "null");
    assert_eq!(json["privateData"]["timestamp"]["raw"], "250301160827Z");
}

#[test]
fn session_open() {
    let f = frames(&read("session-open.txt"));
    assert_eq!(f.len(), 3, "hello, AARQ, MonitorStart");
    assert_eq!(
        f[0].1,
        Pdu::Hello {
            hello: Hello::Client
        }
    );

    // AARQ: decodes, re-encodes byte-identically, and equals the ready-made one.
    let (aarq_bytes, aarq) = &f[1];
    let Pdu::Acse(AcseApdu::Aarq(a)) = aarq else {
        panic!("{aarq:?}")
    };
    assert_eq!(
        a.application_context_name.as_deref(),
        Some(CSTA_APPLICATION_CONTEXT)
    );
    assert_eq!(a.protocol_version.as_ref().unwrap().bits, vec![0x80]);
    assert_eq!(a.user_information.len(), 1);
    let ui = &a.user_information[0];
    assert_eq!(
        ui.direct_reference.as_deref(),
        Some(CSTA_USER_INFORMATION_OID)
    );
    let ExternalEncoding::Csta(c) = &ui.encoding else {
        panic!("{:?}", ui.encoding)
    };
    assert_eq!(c.versions(), vec![1, 2]);
    assert_eq!(c.functionality.len(), 2);
    assert_eq!(c.functionality[0].items.len(), 4);
    assert_eq!(c.functionality[1].items.len(), 2);
    let mut again = BytesMut::new();
    encode_pdu(aarq, &mut again);
    assert_eq!(&again[..], &aarq_bytes[..]);
    assert_eq!(aarq, &Pdu::Acse(AcseApdu::Aarq(Aarq::oxe_default())));

    // MonitorStart on 24103, and the encoder's bytes identical to the capture (with framing).
    let (ms_bytes, ms) = &f[2];
    let Pdu::Rose(RoseApdu::Invoke(inv)) = ms else {
        panic!("{ms:?}")
    };
    assert_eq!(inv.invoke_id, 1);
    assert_eq!(inv.opcode(), 71);
    let Argument::MonitorStart(arg) = &inv.argument else {
        panic!()
    };
    assert_eq!(
        arg.monitor_object,
        MonitorObject::Device(DeviceId::dialing("24103"))
    );
    let mut framed = BytesMut::new();
    let mut codec = CstaCodec::client();
    tokio_util::codec::Encoder::encode(
        &mut codec,
        &requests::monitor_start(1, "24103"),
        &mut framed,
    )
    .unwrap();
    assert_eq!(
        &framed[..],
        &parse_hex_text("00 11 A1 0F 02 01 01 02 01 47 30 07 80 05 32 34 31 30 33").unwrap()[..]
    );
    assert_eq!(&framed[2..], &ms_bytes[..]);

    // The AARQ encoder, framed, is the capture's step 2.
    let mut framed = BytesMut::new();
    tokio_util::codec::Encoder::encode(
        &mut codec,
        &Pdu::Acse(AcseApdu::Aarq(Aarq::oxe_default())),
        &mut framed,
    )
    .unwrap();
    assert_eq!(&framed[2..], &aarq_bytes[..]);
    assert_eq!(&framed[..2], &[0x00, 0x46]);
}

#[test]
fn errors_name_offset_and_element() {
    // connection-cleared with the cause's length byte bumped to 9.
    let mut b = read("connection-cleared-1.hex");
    let pos = b.windows(3).position(|w| w == [0x0a, 0x01, 0x30]).unwrap();
    b[pos + 1] = 9;
    let e = decode_pdu(&b[2..]).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "at offset {} in invoke.cSTAEventReport.eventSpecificInfo.connectionCleared.cause: length 9 exceeds remaining 1",
            pos - 2
        )
    );
}
