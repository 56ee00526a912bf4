//! Property tests for the CSTA XML codec: generated messages encode then decode to the same
//! value in every edition; arbitrary bytes and mutated valid documents never panic and stay
//! symmetric; the TCP framing gives the same messages whatever the read boundaries.

use bytes::BytesMut;
use ctigw_codecs::csta_xml::*;
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

fn trimmed(s: String) -> String {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
        .to_string()
}

/// Text as decoding gives it back: no surrounding XML whitespace.
fn text() -> impl Strategy<Value = String> + Clone {
    prop_oneof![
        "[a-zA-Z0-9+#*:;@<>&'\" .=\r\n-]{0,20}".prop_map(trimmed),
        "\\PC{0,12}".prop_map(trimmed),
    ]
}

fn device_id() -> impl Strategy<Value = DeviceId> + Clone {
    prop_oneof![
        "\\+?[0-9]{1,15}".prop_map(|n| DeviceId::new(format!("tel:{n}"))),
        "[a-z0-9.+]{1,10}".prop_map(|u| DeviceId::new(format!("sip:{u}@example.com"))),
        "[0-9]{1,8}".prop_map(DeviceId::new),
        "[0-9]{4,13}".prop_map(|n| DeviceId::new(format!("N<{n}>;noa=nk"))),
        ("[0-9]{4,13}", "[0-9]{3,6}")
            .prop_map(|(n, l)| DeviceId::new(format!("N<{n}>Line{l};displayNumber={n}"))),
        text().prop_map(DeviceId::new),
    ]
}

fn device() -> impl Strategy<Value = Device> + Clone {
    prop_oneof![
        device_id().prop_map(Device::Plain),
        device_id().prop_map(Device::DeviceIdentifier),
        device_id().prop_map(Device::ImplicitPublic),
        device_id().prop_map(Device::Other),
        device_id().prop_map(Device::NumberDialed),
        Just(Device::NotKnown),
        Just(Device::Restricted),
        Just(Device::NotRequired),
        Just(Device::NotSpecified),
    ]
}

fn opaque() -> impl Strategy<Value = Vec<Opaque>> + Clone {
    proptest::collection::vec(
        ("[a-z]{1,6}", "[a-zA-Z0-9 ]{0,8}").prop_map(|(name, t)| Opaque {
            raw: format!("<v:{name} xmlns:v=\"urn:vendor\">{t}</v:{name}>"),
            name,
        }),
        0..2,
    )
}

fn conn() -> impl Strategy<Value = ConnectionId> + Clone {
    (
        proptest::option::of(text()),
        proptest::option::of(device_id()),
        opaque(),
    )
        .prop_map(|(call_id, device_id, extensions)| ConnectionId {
            call_id,
            device_id,
            extensions,
        })
}

fn pick<T: Copy + std::fmt::Debug + 'static>(
    all: &'static [T],
) -> impl Strategy<Value = T> + Clone {
    proptest::sample::select(all)
}

fn state() -> impl Strategy<Value = Option<LocalConnectionState>> + Clone {
    proptest::option::of(pick(LocalConnectionState::ALL))
}

fn cause() -> impl Strategy<Value = Option<EventCause>> + Clone {
    proptest::option::of(pick(EventCause::ALL))
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (
            text(),
            conn(),
            device(),
            device(),
            device(),
            proptest::option::of(device()),
            state(),
            cause(),
            opaque()
        )
            .prop_map(|(m, c, a, cg, cd, l, s, ca, x)| Message::DeliveredEvent(
                DeliveredEvent {
                    monitor_cross_ref_id: m,
                    connection: c,
                    alerting_device: a,
                    calling_device: cg,
                    called_device: cd,
                    last_redirection_device: l,
                    local_connection_info: s,
                    cause: ca,
                    extensions: x,
                }
            )),
        (
            text(),
            conn(),
            device(),
            device(),
            device(),
            state(),
            cause()
        )
            .prop_map(|(m, c, a, cg, cd, s, ca)| Message::EstablishedEvent(
                EstablishedEvent {
                    monitor_cross_ref_id: m,
                    established_connection: c,
                    answering_device: a,
                    calling_device: cg,
                    called_device: cd,
                    local_connection_info: s,
                    cause: ca,
                    ..Default::default()
                }
            )),
        (text(), conn(), device(), state(), cause()).prop_map(|(m, c, r, s, ca)| {
            Message::ConnectionClearedEvent(ConnectionClearedEvent {
                monitor_cross_ref_id: m,
                dropped_connection: c,
                releasing_device: r,
                local_connection_info: s,
                cause: ca,
                extensions: vec![],
            })
        }),
        (
            text(),
            conn(),
            proptest::option::of(conn()),
            device(),
            device(),
            proptest::collection::vec(
                (proptest::option::of(conn()), proptest::option::of(conn())),
                0..3
            ),
        )
            .prop_map(|(m, p, s, t, to, items)| Message::TransferedEvent(
                TransferedEvent {
                    monitor_cross_ref_id: m,
                    primary_old_call: p,
                    secondary_old_call: s,
                    transferring_device: t,
                    transferred_to_device: to,
                    transferred_connections: Some(ConnectionList {
                        items: items
                            .into_iter()
                            .map(|(n, o)| ConnectionListItem {
                                new_connection: n,
                                old_connection: o,
                                ..Default::default()
                            })
                            .collect(),
                        extensions: vec![],
                    }),
                    ..Default::default()
                }
            )),
        (
            device_id(),
            device_id(),
            proptest::option::of(text()),
            proptest::option::of(pick(AutoOriginate::ALL))
        )
            .prop_map(|(a, b, acc, auto)| Message::MakeCall(MakeCall {
                calling_device: a,
                called_directory_number: b,
                account_code: acc,
                auto_originate: auto,
                extensions: vec![],
            })),
        proptest::collection::vec(
            (
                conn(),
                proptest::collection::vec(pick(LocalConnectionState::ALL), 0..3)
            ),
            0..4
        )
        .prop_map(
            |calls| Message::SnapshotDeviceResponse(SnapshotDeviceResponse {
                cross_ref_id_or_snapshot_data: Some(CrossRefIdOrSnapshotData {
                    snapshot_data: Some(SnapshotDeviceData {
                        items: calls
                            .into_iter()
                            .map(|(c, states)| SnapshotDeviceResponseInfo {
                                connection_identifier: c,
                                local_call_state: Some(LocalCallState {
                                    compound_call_state: Some(CompoundCallState {
                                        states,
                                        extensions: vec![],
                                    }),
                                    ..Default::default()
                                }),
                                extensions: vec![],
                            })
                            .collect(),
                        extensions: vec![],
                    }),
                    ..Default::default()
                }),
                extensions: vec![],
            })
        ),
        (pick(ErrorCategory::ALL), text(), opaque()).prop_map(|(c, v, x)| Message::CstaErrorCode(
            CstaErrorCode {
                category: c,
                value: v,
                extensions: x
            }
        )),
        (
            text(),
            proptest::collection::vec(text(), 0..3),
            proptest::option::of(any::<u32>())
        )
            .prop_map(|(id, versions, d)| Message::StartApplicationSession(
                StartApplicationSession {
                    application_info: ApplicationInfo {
                        application_id: id,
                        extensions: vec![]
                    },
                    requested_protocol_versions: ProtocolVersions {
                        versions,
                        extensions: vec![]
                    },
                    requested_session_duration: d,
                    extensions: vec![],
                }
            )),
        (
            device_id(),
            proptest::option::of(pick(ForwardingType::ALL)),
            any::<bool>(),
            proptest::option::of(device_id()),
            proptest::option::of(any::<u32>())
        )
            .prop_map(|(d, t, a, to, r)| Message::SetForwarding(SetForwarding {
                device: d,
                forwarding_type: t,
                activate_forward: a,
                forward_dn: to,
                ring_count: r,
                extensions: vec![],
            })),
        proptest::collection::vec(
            (
                "[a-z][a-zA-Z]{0,8}",
                proptest::collection::vec("[a-z][a-zA-Z]{0,8}", 0..4)
            ),
            0..3
        )
        .prop_map(
            |groups| Message::GetCstaFeaturesResponse(GetCstaFeaturesResponse {
                supported_services: Some(FeatureList {
                    groups: groups
                        .into_iter()
                        .map(|(group, items)| FeatureGroup { group, items })
                        .collect(),
                }),
                ..Default::default()
            })
        ),
        (
            text(),
            device(),
            any::<bool>(),
            proptest::option::of(device_id())
        )
            .prop_map(|(m, d, on, to)| {
                Message::ForwardingEvent(ForwardingEvent {
                    monitor_cross_ref_id: m,
                    device: d,
                    forwarding_type: Some(ForwardingType::ForwardBusy),
                    forward_status: on,
                    forward_to: to,
                    extensions: vec![],
                })
            }),
        (text(), device(), proptest::option::of(text())).prop_map(|(m, d, a)| {
            Message::AgentReadyEvent(AgentReadyEvent {
                monitor_cross_ref_id: m,
                agent_device: d,
                agent_id: a,
                ..Default::default()
            })
        }),
        (pick(SystemStatusValue::ALL)).prop_map(|s| Message::SystemStatus(SystemStatus {
            system_status: s,
            extensions: vec![],
        })),
        (conn(), text()).prop_map(|(c, d)| requests::generate_digits(&c, &d)),
    ]
}

/// Realistic documents to mutate.
fn seeds() -> Vec<Vec<u8>> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus/csta_xml_document");
    let mut v: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    v.push(
        requests::make_call("tel:+3312345", "tel:+3367890")
            .to_xml(Edition::Ed3)
            .to_vec(),
    );
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn generated_messages_round_trip(m in message()) {
        for edition in Edition::ALL {
            let xml = m.to_xml(edition);
            let back = Message::decode(&xml);
            prop_assert_eq!(back.as_ref(), Ok(&m), "{}", String::from_utf8_lossy(&xml));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        fuzz::document(&data);
        fuzz::tcp_frame(&data);
    }

    #[test]
    fn xmlish_text_never_panics(s in "[<>/a-zA-Z:=\"' &;#x0-9!?\\[\\]-]{0,200}") {
        fuzz::document(s.as_bytes());
    }

    #[test]
    fn mutated_documents_never_panic(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..6),
    ) {
        let seeds = seeds();
        let mut doc = seeds[which.index(seeds.len())].clone();
        for (at, byte, op) in edits {
            if doc.is_empty() {
                break;
            }
            let i = at.index(doc.len());
            match op {
                0 => doc[i] = byte,
                1 => { doc.remove(i); }
                2 => doc.insert(i, byte),
                _ => doc.truncate(i),
            }
        }
        fuzz::document(&doc);
    }

    #[test]
    fn framing_ignores_read_boundaries(
        ms in proptest::collection::vec(message(), 1..4),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        edition in proptest::sample::select(&Edition::ALL[..]),
    ) {
        let mut codec = CstaXmlCodec::new().with_edition(edition);
        let mut wire = BytesMut::new();
        for (i, m) in ms.iter().enumerate() {
            codec.encode((i as u16 + 1, m), &mut wire).unwrap();
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
        points.push(wire.len());
        points.sort_unstable();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut from = 0;
        for p in points {
            buf.extend_from_slice(&wire[from..p]);
            from = p;
            while let Some(item) = codec.decode(&mut buf).unwrap() {
                got.push(item.unwrap());
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got.len(), ms.len());
        for (i, (g, m)) in got.iter().zip(&ms).enumerate() {
            prop_assert_eq!(g.invoke_id as usize, i + 1);
            prop_assert_eq!(&g.message, m);
        }
        fuzz::tcp_frame(&wire);
    }
}

#[test]
fn bad_xml_in_a_frame_is_an_item_and_the_stream_goes_on() {
    let mut codec = CstaXmlCodec::new();
    let mut wire = BytesMut::new();
    let mut frames = CstaXmlFrameCodec::new();
    frames
        .encode(
            TcpFrame {
                invoke_id: 3,
                xml: bytes::Bytes::from_static(b"<MakeCall><oops></MakeCall>"),
            },
            &mut wire,
        )
        .unwrap();
    codec
        .encode((4, &requests::monitor_start("24103")), &mut wire)
        .unwrap();
    let first = codec.decode(&mut wire).unwrap().unwrap();
    let err = first.unwrap_err();
    assert_eq!(err.invoke_id, 3);
    assert!(matches!(err.error.kind, ErrorKind::Malformed { .. }));
    let second = codec.decode(&mut wire).unwrap().unwrap().unwrap();
    assert_eq!(second.invoke_id, 4);
    assert_eq!(second.message, requests::monitor_start("24103"));
    assert_eq!(codec.decode(&mut wire).unwrap(), None);

    // A header that loses the boundary is fatal.
    let mut bad = BytesMut::from(&b"\x00\x00\x00\x20abcd<x/>"[..]);
    assert!(matches!(
        codec.decode(&mut bad),
        Err(FrameError::BadInvokeId { .. })
    ));
    let mut short = BytesMut::from(&b"\x00\x00\x00\x040001"[..]);
    assert!(matches!(
        codec.decode(&mut short),
        Err(FrameError::TooShort { len: 4 })
    ));
    let mut codec = CstaXmlCodec::new().with_max_frame(64);
    let mut big = BytesMut::from(&b"\x00\x00\x01\x000001"[..]);
    assert!(matches!(
        codec.decode(&mut big),
        Err(FrameError::Oversize { len: 256, max: 64 })
    ));
    // Encoding refuses what the header cannot carry, writing nothing.
    let mut out = BytesMut::new();
    assert!(
        codec
            .encode((10_000, &requests::get_csta_features()), &mut out)
            .is_err()
    );
    let huge = requests::generate_digits(&ConnectionId::new("1", "2"), &"1".repeat(100));
    assert!(codec.encode((1, &huge), &mut out).is_err());
    assert!(out.is_empty());
}

#[test]
fn framed_make_call_bytes() {
    let mut codec = CstaXmlCodec::new();
    let mut out = BytesMut::new();
    let m = requests::make_call("tel:+3312345", "tel:+3367890");
    codec.encode((17, &m), &mut out).unwrap();
    let xml = m.to_xml(Edition::Ed3);
    let len = 8 + xml.len();
    assert_eq!(&out[..2], &[0, 0]);
    assert_eq!(&out[2..4], &(len as u16).to_be_bytes());
    assert_eq!(&out[4..8], b"0017");
    assert_eq!(&out[8..], &xml[..]);
}
