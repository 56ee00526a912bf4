//! The public real OXE frames in `fixtures/real/oxe-public/` (provenance in its README): every
//! frame decodes with nothing left in an `unknown` field, re-encodes byte for byte, and gives
//! the parties the standard defines: the conference and transfer connection lists with their
//! endpoints, Diverted's new destination in the OXE's `[APPLICATION 3]` form, the monitor
//! filter of a MonitorStart result.

use bytes::BytesMut;
use ctigw_codecs::csta_ber::events::{self, CstaEvent};
use ctigw_codecs::csta_ber::private_data::PrivateItem;
use ctigw_codecs::csta_ber::rose::{OperationResult, RejectProblem};
use ctigw_codecs::csta_ber::services::{Argument, ResultValue};
use ctigw_codecs::csta_ber::types::{
    ConnectionList, ConnectionListEntry, ConnectionListItem, ConnectionParty, DeviceId, DeviceRef,
    Endpoint, LocalDeviceId,
};
use ctigw_codecs::csta_ber::*;
use ctigw_codecs::hex::parse_hex_text;
use std::path::PathBuf;
use tokio_util::codec::Decoder;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/real/oxe-public")
}

/// The one frame of a file: (BER bytes, decoded PDU), checked to re-encode byte for byte.
fn frame(name: &str) -> (Vec<u8>, Pdu) {
    let text = std::fs::read_to_string(dir().join(name)).expect("fixture present");
    let bytes = parse_hex_text(&text).expect("fixture is hex");
    let mut codec = CstaFrameCodec::new(Role::Observer);
    let mut buf = BytesMut::from(&bytes[..]);
    let Some(Frame::Ber(ber)) = codec.decode(&mut buf).expect("framing") else {
        panic!("{name}: no BER frame")
    };
    assert!(buf.is_empty(), "{name}: one frame per file");
    let pdu = decode_pdu(&ber).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut again = BytesMut::new();
    encode_pdu(&pdu, &mut again);
    assert_eq!(&again[..], &ber[..], "{name}: re-encoding differs");
    (ber.to_vec(), pdu)
}

fn event(name: &str) -> EventReport {
    let (_, pdu) = frame(name);
    let Pdu::Rose(RoseApdu::Invoke(inv)) = pdu else {
        panic!("{name}: not an invoke")
    };
    let Argument::CstaEventReport(rep) = inv.argument else {
        panic!("{name}: not an event report")
    };
    rep
}

fn dynamic(c: &ConnectionId) -> &[u8] {
    match &c.device {
        Some(LocalDeviceId::DynamicId(b)) => b,
        other => panic!("expected a dynamic device id, got {other:?}"),
    }
}

/// (call number, dynamic device id, endpoint number) of each entry of an OXE list.
fn parties(list: &ConnectionList) -> Vec<(u64, Vec<u8>, String)> {
    list.0
        .iter()
        .map(|item| {
            let ConnectionListItem::Party(p) = item else {
                panic!("not the OXE form: {item:?}")
            };
            let c = p.connection.as_ref().expect("connection");
            let DeviceId::DialingNumber(d) = p.endpoint.as_ref().expect("endpoint") else {
                panic!("endpoint not a dialing number: {:?}", p.endpoint)
            };
            (
                c.call_number().expect("call"),
                dynamic(c).to_vec(),
                d.to_string(),
            )
        })
        .collect()
}

#[test]
fn every_public_frame_decodes_whole() {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("fixture dir")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".hex"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 13, "{names:?}");
    for name in &names {
        let (_, pdu) = frame(name);
        // Every unknown element is serialised under an `unknown` key (empty lists are not).
        let json = serde_json::to_string(&pdu).unwrap();
        assert!(!json.contains("\"unknown\""), "{name}: {json}");
        if let Pdu::Rose(RoseApdu::Invoke(inv)) = &pdu {
            if let Argument::CstaEventReport(rep) = &inv.argument {
                let pd = rep.private_data.as_ref().expect("ALE private data");
                assert!(pd.timestamp.is_some(), "{name}");
                for i in &pd.items {
                    assert!(
                        matches!(i, PrivateItem::Oid { oid, .. } if oid.starts_with("1.3.12.1206.")),
                        "{name}: {i:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn conferenced_lists_every_party_with_the_added_outside_number() {
    let rep = event("conferenced.hex");
    assert_eq!(rep.cross_ref_identifier.as_u64(), Some(20312835));
    let CstaEvent::Conferenced(e) = &rep.event else {
        panic!("{:?}", rep.event)
    };
    assert_eq!(e.primary_old_call.call_number(), Some(11130));
    assert_eq!(
        e.secondary_old_call.as_ref().unwrap().call_number(),
        Some(11134)
    );
    assert_eq!(
        e.conferencing_device
            .as_ref()
            .unwrap()
            .digits()
            .unwrap()
            .to_string(),
        "24103"
    );
    // addedParty is an implicitPublic [2] number
    assert_eq!(
        e.added_party.as_ref().unwrap().0,
        DeviceRef::DeviceIdentifier(DeviceId::ImplicitPublic("0017".into()))
    );
    let list = e.conference_connections.as_ref().expect("conference list");
    assert!(list.is_oxe_form());
    assert_eq!(
        parties(list),
        vec![
            (11138, vec![0x08, 0xb3, 0x01, 0x00], "24103".to_string()),
            (11138, vec![0x0b, 0xfe, 0x01, 0x04], "0017".to_string()),
            (
                11138,
                vec![0x0b, 0xfd, 0x01, 0x04],
                "00789616004".to_string()
            ),
        ]
    );
    assert_eq!(
        e.local_connection_info,
        Some(LocalConnectionState::Connected)
    );
    assert_eq!(e.cause, None);
    let json = serde_json::to_value(&rep).unwrap();
    let first = &json["eventSpecificInfo"]["conferenced"]["conferenceConnections"][2]["party"];
    assert_eq!(first["endpoint"]["dialingNumber"], "00789616004");
    assert_eq!(first["connection"]["call"], "2b82");
}

#[test]
fn transferred_lists_the_party_the_call_went_to() {
    let rep = event("transferred.hex");
    let CstaEvent::Transferred(e) = &rep.event else {
        panic!("{:?}", rep.event)
    };
    assert_eq!(e.primary_old_call.call_number(), Some(11717));
    assert_eq!(e.secondary_old_call, None);
    assert_eq!(
        e.transferring_device
            .as_ref()
            .unwrap()
            .digits()
            .unwrap()
            .to_string(),
        "75302"
    );
    assert_eq!(
        e.transferred_device
            .as_ref()
            .unwrap()
            .digits()
            .unwrap()
            .to_string(),
        "000605937978"
    );
    let list = e.transferred_connections.as_ref().expect("transfer list");
    assert_eq!(
        parties(list),
        vec![
            (
                11726,
                vec![0x02, 0x62, 0x01, 0x04],
                "000605937978".to_string()
            ),
            (11726, vec![0x08, 0xcd, 0x01, 0x00], "24153".to_string()),
        ]
    );
    // the accessors the adapter uses
    let first = &list.0[0];
    assert_eq!(first.connection().unwrap().call_number(), Some(11726));
    assert_eq!(
        first.endpoint().unwrap().digits().unwrap().to_string(),
        "000605937978"
    );
    assert_eq!(first.old_connection(), None);
}

#[test]
fn diverted_new_destination_in_the_oxe_subject_form() {
    for (name, call, from, to) in [
        ("diverted.hex", 18166, "24002", "24640"),
        ("diverted-2.hex", 18183, "24005", "24760"),
    ] {
        let rep = event(name);
        let CstaEvent::Diverted(e) = &rep.event else {
            panic!("{name}: {:?}", rep.event)
        };
        assert_eq!(
            e.connection.as_ref().unwrap().call_number(),
            Some(call),
            "{name}"
        );
        assert_eq!(
            e.diverting_device
                .as_ref()
                .unwrap()
                .digits()
                .unwrap()
                .to_string(),
            from
        );
        // [APPLICATION 3], not the standard's CalledDeviceID [APPLICATION 2]
        assert_eq!(e.new_destination, None, "{name}");
        assert!(e.new_destination_subject.is_some(), "{name}");
        assert_eq!(e.destination_digits().unwrap().to_string(), to, "{name}");
        assert_eq!(e.local_connection_info, Some(LocalConnectionState::Null));
        assert_eq!(e.cause, Some(EventCause::Redirected));
    }
}

#[test]
fn network_reached_service_initiated_and_cleared() {
    let rep = event("network-reached.hex");
    let CstaEvent::NetworkReached(e) = &rep.event else {
        panic!("{:?}", rep.event)
    };
    assert_eq!(e.connection.call_number(), Some(11107));
    assert_eq!(e.trunk_used.as_ref().unwrap().0, DeviceRef::NotKnown);
    assert_eq!(
        e.called_device
            .as_ref()
            .unwrap()
            .digits()
            .unwrap()
            .to_string(),
        "00659732122"
    );
    assert_eq!(e.cause, Some(EventCause::NewCall));

    let rep = event("service-initiated.hex");
    let CstaEvent::ServiceInitiated(e) = &rep.event else {
        panic!("{:?}", rep.event)
    };
    assert_eq!(e.initiated_connection.call_number(), Some(11723));
    assert_eq!(
        e.local_connection_info,
        Some(LocalConnectionState::Initiated)
    );

    for (name, call, dev) in [
        ("connection-cleared-2.hex", 0x4347, "24151"),
        ("oxe2015-connection-cleared.hex", 0x58, "3001"),
    ] {
        let rep = event(name);
        let CstaEvent::ConnectionCleared(e) = &rep.event else {
            panic!("{name}: {:?}", rep.event)
        };
        assert_eq!(e.dropped_connection.call_number(), Some(call), "{name}");
        assert_eq!(
            e.releasing_device
                .as_ref()
                .unwrap()
                .digits()
                .unwrap()
                .to_string(),
            dev
        );
        assert_eq!(e.cause, Some(EventCause::NormalClearing));
    }
}

#[test]
fn the_2015_oxe_delivered_and_established() {
    for (name, state) in [
        ("oxe2015-delivered.hex", LocalConnectionState::Alerting),
        ("oxe2015-established.hex", LocalConnectionState::Connected),
    ] {
        let rep = event(name);
        assert_eq!(rep.cross_ref_identifier.0, vec![0x01, 0x42, 0xf9, 0x00]);
        let (conn, calling, called, lci) = match &rep.event {
            CstaEvent::Delivered(e) => (
                &e.connection,
                &e.calling_device,
                &e.called_device,
                e.local_connection_info,
            ),
            CstaEvent::Established(e) => (
                &e.established_connection,
                &e.calling_device,
                &e.called_device,
                e.local_connection_info,
            ),
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(conn.call_number(), Some(0x58));
        assert_eq!(
            calling.as_ref().unwrap().digits().unwrap().to_string(),
            "3331"
        );
        assert_eq!(
            called.as_ref().unwrap().digits().unwrap().to_string(),
            "3001"
        );
        assert_eq!(lci, Some(state));
    }
}

#[test]
fn monitor_start_result_system_status_and_reject() {
    let (_, pdu) = frame("oxe2015-monitor-start-result.hex");
    let Pdu::Rose(RoseApdu::ReturnResult(rr)) = pdu else {
        panic!("{pdu:?}")
    };
    let Some(OperationResult {
        value: Some(ResultValue::MonitorStart(r)),
        ..
    }) = &rr.result
    else {
        panic!("{:?}", rr.result)
    };
    assert_eq!(r.cross_ref_identifier.as_u64(), Some(0x0142f900));
    let f = r.monitor_filter.as_ref().expect("filter");
    let voice = f.voice_unit.as_ref().expect("[5] voice-unit filter");
    assert_eq!((voice.0.unused_bits, voice.0.bits.clone()), (1, vec![0x6e]));
    assert_eq!(f.feature.as_ref().unwrap().0.bits, vec![0x7f]);

    let (_, pdu) = frame("oxe2015-system-status.hex");
    let Pdu::Rose(RoseApdu::Invoke(inv)) = pdu else {
        panic!("{pdu:?}")
    };
    assert_eq!((inv.invoke_id, inv.opcode()), (0x1fc8, 52));

    let (_, pdu) = frame("oxe2015-reject.hex");
    let Pdu::Rose(RoseApdu::Reject(rj)) = pdu else {
        panic!("{pdu:?}")
    };
    assert_eq!(rj.invoke_id, None);
    assert!(
        matches!(rj.problem, RejectProblem::General(_)),
        "{:?}",
        rj.problem
    );
}

fn encode_list(list: &ConnectionList) -> Vec<u8> {
    let ev = CstaEvent::Transferred(events::TransferredEvent {
        primary_old_call: ConnectionId::dynamic(&[0, 1], &[1, 2, 3, 4]),
        secondary_old_call: None,
        transferring_device: None,
        transferred_device: None,
        transferred_connections: Some(list.clone()),
        local_connection_info: None,
        cause: None,
        unknown: vec![],
    });
    let pdu = Pdu::Rose(RoseApdu::Invoke(Invoke::new(
        1,
        Argument::CstaEventReport(EventReport::new(&[1, 2, 3, 4], ev)),
    )));
    let mut buf = BytesMut::new();
    encode_pdu(&pdu, &mut buf);
    let again = decode_pdu(&buf).expect("decodes");
    assert_eq!(again, pdu, "value round trip");
    buf.to_vec()
}

#[test]
fn connection_list_forms_encode_as_their_kind() {
    let party = ConnectionListItem::Party(ConnectionParty {
        connection: Some(ConnectionId::dynamic(&[0x2d, 0xce], &[8, 0xcd, 1, 0])),
        endpoint: Some(DeviceId::dialing("24153")),
        unknown: vec![],
    });
    let entry = ConnectionListItem::Item(ConnectionListEntry {
        new_connection: Some(ConnectionId::dynamic(&[0, 2], &[1, 1, 1, 1])),
        old_connection: None,
        endpoint: Some(Endpoint::NotKnown),
        unknown: vec![],
    });
    let find = |b: &[u8], pat: &[u8]| b.windows(pat.len()).any(|w| w == pat);
    // the OXE form: plain SEQUENCE OF [3] SEQUENCE { ConnectionID, DeviceID }
    let b = encode_list(&ConnectionList(vec![party.clone()]));
    assert!(
        b.ends_with(&[
            0x30, 0x17, 0xa3, 0x15, 0x30, 0x13, 0x6b, 0x0a, 0x82, 0x02, 0x2d, 0xce, 0x83, 0x04,
            0x08, 0xcd, 0x01, 0x00, 0x80, 0x05, b'2', b'4', b'1', b'5', b'3'
        ]),
        "{b:02x?}"
    );
    // the standard form: [APPLICATION 12], endpoint [2] holding NULL
    let b = encode_list(&ConnectionList(vec![entry.clone()]));
    assert!(
        find(&b, &[0x6c, 0x14, 0x30, 0x12, 0xa0, 0x0c, 0x6b]),
        "{b:02x?}"
    );
    assert!(b.ends_with(&[0xa2, 0x02, 0x05, 0x00]), "{b:02x?}");
    // mixed and empty lists stay under [APPLICATION 12]
    let b = encode_list(&ConnectionList(vec![entry, party]));
    assert!(find(&b, &[0x6c, 0x2b, 0x30, 0x12]), "{b:02x?}");
    let b = encode_list(&ConnectionList(vec![]));
    assert!(b.ends_with(&[0x6c, 0x00]), "{b:02x?}");
}

#[test]
fn a_plain_sequence_that_is_no_oxe_list_is_refused_not_guessed() {
    // transferred.hex with its list's first [3] entry retagged [4]: no longer the OXE form.
    let text = std::fs::read_to_string(dir().join("transferred.hex")).unwrap();
    let mut b = parse_hex_text(&text).unwrap();
    let pos = b.windows(3).position(|w| w == [0x30, 0x35, 0xa3]).unwrap();
    b[pos + 2] = 0xa4;
    let e = decode_pdu(&b[2..]).unwrap_err();
    assert!(e.to_string().contains("connectionList"), "{e}");
}

#[test]
fn the_fuzz_checks_hold_on_every_public_frame() {
    for entry in std::fs::read_dir(dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "hex") {
            continue;
        }
        let bytes = parse_hex_text(&std::fs::read_to_string(&path).unwrap()).unwrap();
        // the same checks the fuzz targets make: decode, re-encode, decode to the same value,
        // and framing independent of read boundaries
        fuzz::frame(&bytes);
        fuzz::pdu(&bytes[2..]);
    }
}
