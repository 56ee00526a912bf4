//! Property tests for the CSTA BER codec: generated PDUs (ROSE invoke/result/error/reject,
//! events, requests, ACSE) encode then decode to the same value; arbitrary and mutated bytes
//! never panic and stay symmetric; framing gives the same PDUs whatever the read boundaries.

use bytes::BytesMut;
use ctigw_codecs::csta_ber::acse::*;
use ctigw_codecs::csta_ber::common::{Digits, RawTlv};
use ctigw_codecs::csta_ber::events::*;
use ctigw_codecs::csta_ber::private_data::{PrivateData, PrivateItem, UtcTime};
use ctigw_codecs::csta_ber::rose::*;
use ctigw_codecs::csta_ber::services::*;
use ctigw_codecs::csta_ber::types::*;
use ctigw_codecs::csta_ber::{CstaCodec, Pdu, decode_pdu, encode_pdu, fuzz, requests};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

fn digits() -> impl Strategy<Value = Digits> + Clone {
    "[0-9*#]{0,14}".prop_map(|s| Digits::from(s.as_str()))
}

fn number() -> impl Strategy<Value = String> {
    "[0-9]{1,12}"
}

fn device_id() -> impl Strategy<Value = DeviceId> + Clone {
    prop_oneof![
        digits().prop_map(DeviceId::DialingNumber),
        any::<i64>().prop_map(DeviceId::DeviceNumber),
        digits().prop_map(DeviceId::ImplicitPublic),
        (0u32..6, digits()).prop_map(|(ton, digits)| DeviceId::ExplicitPublic { ton, digits }),
        digits().prop_map(DeviceId::ImplicitPrivate),
        (0u32..7, digits()).prop_map(|(ton, digits)| DeviceId::ExplicitPrivate { ton, digits }),
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(DeviceId::Other),
    ]
}

fn app_device<const N: u32>() -> impl Strategy<Value = AppDevice<N>> + Clone {
    prop_oneof![
        4 => device_id().prop_map(|d| AppDevice(DeviceRef::DeviceIdentifier(d))),
        1 => Just(AppDevice(DeviceRef::NotKnown)),
        1 => Just(AppDevice(DeviceRef::NotRequired)),
    ]
}

fn connection() -> impl Strategy<Value = ConnectionId> {
    let device = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..6).prop_map(LocalDeviceId::DynamicId),
        digits().prop_map(|d| LocalDeviceId::StaticId(DeviceId::DialingNumber(d))),
        any::<i64>().prop_map(|n| LocalDeviceId::StaticId(DeviceId::DeviceNumber(n))),
    ];
    (
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..4)),
        proptest::option::of(device),
    )
        .prop_map(|(call, device)| ConnectionId {
            call,
            device,
            unknown: vec![],
        })
}

fn lcs() -> impl Strategy<Value = LocalConnectionState> {
    (0i64..9).prop_map(LocalConnectionState::from_code)
}

fn cause() -> impl Strategy<Value = EventCause> {
    (-1i64..70).prop_map(EventCause::from_code)
}

fn opt<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    proptest::option::of(s)
}

fn endpoint() -> impl Strategy<Value = Endpoint> {
    prop_oneof![
        device_id().prop_map(Endpoint::Device),
        Just(Endpoint::NotKnown),
    ]
}

fn connection_list() -> impl Strategy<Value = ConnectionList> {
    let item = prop_oneof![
        connection().prop_map(ConnectionListItem::Connection),
        (opt(connection()), opt(connection()), opt(endpoint())).prop_map(|(n, o, e)| {
            ConnectionListItem::Item(ConnectionListEntry {
                new_connection: n,
                old_connection: o,
                endpoint: e,
                unknown: vec![],
            })
        }),
        // the OXE form
        (opt(connection()), opt(device_id())).prop_map(|(c, d)| ConnectionListItem::Party(
            ConnectionParty {
                connection: c,
                endpoint: d,
                unknown: vec![],
            }
        )),
    ];
    proptest::collection::vec(item, 0..3).prop_map(ConnectionList)
}

/// Two optional fields of one type fill in order: a second one only with a first one.
fn pair<T: std::fmt::Debug + Clone>(
    s: impl Strategy<Value = T> + Clone,
) -> impl Strategy<Value = (Option<T>, Option<T>)> {
    (opt(s.clone()), opt(s)).prop_map(|(a, b)| if a.is_none() { (b, None) } else { (a, b) })
}

fn event() -> impl Strategy<Value = CstaEvent> {
    prop_oneof![
        (
            connection(),
            opt(app_device()),
            opt(app_device()),
            opt(app_device()),
            opt(app_device()),
            opt(lcs()),
            opt(cause())
        )
            .prop_map(
                |(c, a, ca, cd, r, l, x)| CstaEvent::Delivered(DeliveredEvent {
                    connection: c,
                    alerting_device: a,
                    calling_device: ca,
                    called_device: cd,
                    last_redirection_device: r,
                    local_connection_info: l,
                    cause: x,
                    unknown: vec![]
                })
            ),
        (
            connection(),
            opt(app_device()),
            opt(app_device()),
            opt(app_device()),
            opt(app_device()),
            opt(lcs()),
            opt(cause())
        )
            .prop_map(
                |(c, a, ca, cd, r, l, x)| CstaEvent::Established(EstablishedEvent {
                    established_connection: c,
                    answering_device: a,
                    calling_device: ca,
                    called_device: cd,
                    last_redirection_device: r,
                    local_connection_info: l,
                    cause: x,
                    unknown: vec![]
                })
            ),
        (connection(), opt(app_device()), opt(lcs()), opt(cause())).prop_map(|(c, d, l, x)| {
            CstaEvent::ConnectionCleared(ConnectionClearedEvent {
                dropped_connection: c,
                releasing_device: d,
                local_connection_info: l,
                cause: x,
                unknown: vec![],
            })
        }),
        (connection(), opt(app_device()), opt(lcs()), opt(cause())).prop_map(|(c, d, l, x)| {
            CstaEvent::Held(HeldEvent {
                held_connection: c,
                holding_device: d,
                local_connection_info: l,
                cause: x,
                unknown: vec![],
            })
        }),
        (
            connection(),
            opt(app_device()),
            opt(app_device()),
            opt(lcs()),
            opt(cause())
        )
            .prop_map(|(c, a, b, l, x)| {
                CstaEvent::Originated(OriginatedEvent {
                    originated_connection: c,
                    calling_device: a,
                    called_device: b,
                    local_connection_info: l,
                    cause: x,
                    unknown: vec![],
                })
            }),
        (
            connection(),
            opt(connection()),
            pair(app_device()),
            opt(connection_list()),
            opt(lcs()),
            opt(cause())
        )
            .prop_map(|(p, s, (a, b), list, l, x)| CstaEvent::Transferred(
                TransferredEvent {
                    primary_old_call: p,
                    secondary_old_call: s,
                    transferring_device: a,
                    transferred_device: b,
                    transferred_connections: list,
                    local_connection_info: l,
                    cause: x,
                    unknown: vec![],
                }
            )),
        (
            connection(),
            opt(connection()),
            pair(app_device()),
            opt(connection_list()),
            opt(lcs()),
            opt(cause())
        )
            .prop_map(|(p, s, (a, b), list, l, x)| CstaEvent::Conferenced(
                ConferencedEvent {
                    primary_old_call: p,
                    secondary_old_call: s,
                    conferencing_device: a,
                    added_party: b,
                    conference_connections: list,
                    local_connection_info: l,
                    cause: x,
                    unknown: vec![],
                }
            )),
        (
            opt(connection()),
            pair(app_device()),
            opt(app_device()),
            opt(lcs()),
            opt(cause())
        )
            .prop_map(
                |(c, (d, subject), n, l, x)| CstaEvent::Diverted(DivertedEvent {
                    connection: c,
                    diverting_device: d,
                    new_destination: n,
                    // the OXE's second SubjectDeviceID
                    new_destination_subject: subject,
                    local_connection_info: l,
                    cause: x,
                    unknown: vec![],
                })
            ),
        (connection(), opt(lcs()), opt(cause())).prop_map(|(c, l, x)| CstaEvent::CallCleared(
            CallClearedEvent {
                cleared_call: c,
                local_connection_info: l,
                cause: x,
                unknown: vec![]
            }
        )),
        (opt(app_device()), opt(any::<bool>())).prop_map(|(d, on)| CstaEvent::DoNotDisturb(
            DoNotDisturbEvent {
                device: d,
                do_not_disturb_on: on,
                unknown: vec![]
            }
        )),
        (opt(app_device()), (0i64..14), opt(digits())).prop_map(
            |(d, t, dn)| CstaEvent::Forwarding(ForwardingEvent {
                device: d,
                forwarding_information: Some(ForwardParameter {
                    forwarding_type: ForwardingType::from_code(t),
                    forward_dn: dn,
                    forward_device: None,
                    unknown: vec![]
                }),
                unknown: vec![]
            })
        ),
        (
            0usize..6,
            opt(app_device()),
            opt(digits()),
            opt(device_id())
        )
            .prop_map(|(k, d, id, g)| {
                let e = AgentEvent {
                    agent_device: d,
                    agent_id: id.map(AgentId),
                    agent_group: g,
                    password: None,
                    unknown: vec![],
                };
                match k {
                    0 => CstaEvent::AgentLoggedOn(e),
                    1 => CstaEvent::AgentLoggedOff(e),
                    2 => CstaEvent::AgentNotReady(e),
                    3 => CstaEvent::AgentReady(e),
                    4 => CstaEvent::AgentWorkingAfterCall(e),
                    _ => CstaEvent::AgentWorkReady(e),
                }
            }),
        // An event tag nobody knows: kept whole.
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(|b| {
            let inner = RawTlv::new(ctigw_codecs::csta_ber::ber::Tag::context(20), &b);
            let mut content = inner.bytes.clone();
            content.insert(0, 0xb4); // [20] constructed around it
            content.insert(1, inner.bytes.len() as u8);
            let mut raw = vec![0xa1, content.len() as u8];
            raw.extend_from_slice(&content);
            CstaEvent::Unknown(RawTlv {
                tag: ctigw_codecs::csta_ber::ber::Tag::context_c(1),
                bytes: raw,
            })
        }),
    ]
}

fn private_data() -> impl Strategy<Value = PrivateData> {
    let time = (0u32..100, 1u32..13, 1u32..29, 0u32..24, 0u32..60, 0u32..60).prop_map(
        |(y, mo, d, h, mi, s)| UtcTime::parse(&format!("{y:02}{mo:02}{d:02}{h:02}{mi:02}{s:02}Z")),
    );
    let item = (1u32..2000, proptest::collection::vec(any::<u8>(), 0..10)).prop_map(|(arc, v)| {
        let mut value = vec![0x04, v.len() as u8];
        value.extend_from_slice(&v);
        PrivateItem::Oid {
            oid: format!("1.3.12.1206.{arc}"),
            value,
        }
    });
    (opt(time), proptest::collection::vec(item, 0..3)).prop_map(|(timestamp, items)| PrivateData {
        timestamp,
        security_other: vec![],
        items,
        unknown: vec![],
    })
}

fn event_report() -> impl Strategy<Value = Pdu> {
    (
        any::<u16>(),
        proptest::collection::vec(any::<u8>(), 0..5),
        event(),
        opt(private_data()),
    )
        .prop_map(|(id, xref, ev, pd)| {
            let mut r = EventReport::new(&xref, ev);
            r.private_data = pd;
            Pdu::Rose(RoseApdu::Invoke(Invoke::new(
                i64::from(id),
                Argument::CstaEventReport(r),
            )))
        })
}

fn request() -> impl Strategy<Value = Pdu> {
    (
        any::<i32>(),
        number(),
        number(),
        connection(),
        connection(),
        0usize..18,
        0i64..14,
        any::<bool>(),
    )
        .prop_map(|(id, a, b, c, d, k, t, on)| {
            let id = i64::from(id);
            match k {
                0 => requests::monitor_start(id, &a),
                1 => requests::monitor_stop(id, &MonitorCrossRefId(a.into_bytes())),
                2 => requests::snapshot_device(id, &a),
                3 => requests::make_call(id, &a, &b),
                4 => requests::answer_call(id, &c),
                5 => requests::clear_connection(id, &c),
                6 => requests::hold_call(id, &c),
                7 => requests::retrieve_call(id, &c),
                8 => requests::consultation_call(id, &c, &b),
                9 => requests::transfer_call(id, &c, &d),
                10 => requests::conference_call(id, &c, &d),
                11 => requests::alternate_call(id, &c, &d),
                12 => requests::deflect_call(id, &c, &b),
                13 => requests::set_forwarding(
                    id,
                    &a,
                    ForwardingType::from_code(t),
                    on.then_some(b.as_str()),
                ),
                14 => requests::set_do_not_disturb(id, &a, on),
                15 => requests::query_device(id, &a, QueryDeviceFeature::from_code(t % 6)),
                16 => requests::system_status(id, SystemStatus::from_code(t % 8)),
                _ => requests::system_status_result(id),
            }
        })
}

fn return_result() -> impl Strategy<Value = Pdu> {
    let snapshot_item = (opt(app_device()), connection(), opt(lcs())).prop_map(|(d, c, l)| {
        SnapshotDeviceResponseInfo {
            device_on_call: d,
            call_identifier: c,
            local_connection_state: l,
            local_call_state: None,
            unknown: vec![],
        }
    });
    let value = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..5).prop_map(|x| (
            opcode::MONITOR_START,
            Some(ResultValue::MonitorStart(MonitorStartResult {
                cross_ref_identifier: MonitorCrossRefId(x),
                monitor_filter: None,
                unknown: vec![]
            }))
        )),
        (
            proptest::collection::vec(snapshot_item, 0..3),
            any::<bool>()
        )
            .prop_map(|(items, in_sequence)| (
                opcode::SNAPSHOT_DEVICE,
                Some(ResultValue::SnapshotDevice(SnapshotDeviceResult {
                    snapshot_data: items,
                    in_sequence,
                    unknown: vec![]
                }))
            )),
        (connection(), any::<bool>()).prop_map(|(c, s)| (
            opcode::MAKE_CALL,
            Some(ResultValue::Connection(ConnectionResult {
                connection: c,
                in_sequence: s,
                unknown: vec![]
            }))
        )),
        (opt(connection()), opt(connection_list())).prop_map(|(c, l)| (
            opcode::TRANSFER_CALL,
            Some(ResultValue::TransferCall(TransferCallResult {
                transferred_call: c,
                connections: l,
                unknown: vec![]
            }))
        )),
        any::<bool>().prop_map(|b| (
            opcode::QUERY_DEVICE,
            Some(ResultValue::QueryDevice(QueryDeviceResult::DoNotDisturb(b)))
        )),
        Just((opcode::SYSTEM_STATUS, Some(ResultValue::Null))),
        Just((opcode::MONITOR_STOP, None)),
    ];
    (any::<i32>(), opt(value)).prop_map(|(id, v)| {
        Pdu::Rose(RoseApdu::ReturnResult(ReturnResult {
            invoke_id: i64::from(id),
            result: v.map(|(opcode, value)| OperationResult {
                opcode,
                value,
                unknown: vec![],
            }),
            unknown: vec![],
        }))
    })
}

fn return_error() -> impl Strategy<Value = Pdu> {
    let failure = (1u32..8, 0i64..12).prop_map(|(k, v)| match k {
        1 => UniversalFailure::OperationErrors(OperationError::from_code(v)),
        2 => UniversalFailure::StateErrors(StateError::from_code(v)),
        3 => UniversalFailure::SystemResourceErrors(SystemResourceError::from_code(v)),
        4 => UniversalFailure::SubscribedResourceAvailabilityErrors(
            SubscribedResourceError::from_code(v),
        ),
        5 => UniversalFailure::PerformanceErrors(PerformanceError::from_code(v)),
        6 => UniversalFailure::SecurityErrors(SecurityError::from_code(v)),
        _ => UniversalFailure::UnspecifiedErrors,
    });
    (any::<i32>(), 0i64..3, opt(failure)).prop_map(|(id, ev, f)| {
        Pdu::Rose(RoseApdu::ReturnError(ReturnError {
            invoke_id: i64::from(id),
            error_value: ev,
            parameter: f.map(ErrorParameter::UniversalFailure),
            unknown: vec![],
        }))
    })
}

fn reject() -> impl Strategy<Value = Pdu> {
    (opt(any::<i32>()), 0u32..4, 0i64..9).prop_map(|(id, k, v)| {
        let problem = match k {
            0 => RejectProblem::General(GeneralProblem::from_code(v)),
            1 => RejectProblem::Invoke(InvokeProblem::from_code(v)),
            2 => RejectProblem::ReturnResult(ReturnResultProblem::from_code(v)),
            _ => RejectProblem::ReturnError(ReturnErrorProblem::from_code(v)),
        };
        Pdu::Rose(RoseApdu::Reject(Reject {
            invoke_id: id.map(i64::from),
            problem,
            unknown: vec![],
        }))
    })
}

fn acse() -> impl Strategy<Value = Pdu> {
    prop_oneof![
        (any::<bool>(), proptest::collection::vec(any::<u8>(), 1..4)).prop_map(|(keep_ui, v)| {
            let mut a = Aarq::oxe_default();
            if !keep_ui {
                a.user_information.clear();
            }
            if let Some(ExternalEncoding::Csta(c)) =
                a.user_information.first_mut().map(|e| &mut e.encoding)
            {
                c.csta_version.bits = v;
                c.csta_version.unused_bits = 0;
            }
            Pdu::Acse(AcseApdu::Aarq(a))
        }),
        (0i64..3, 0u32..3, 0i64..15).prop_map(|(r, k, d)| {
            let diag = match k {
                0 => None,
                1 => Some(ResultSourceDiagnostic::AcseServiceUser(
                    ServiceUserDiagnostic::from_code(d),
                )),
                _ => Some(ResultSourceDiagnostic::AcseServiceProvider(
                    ServiceProviderDiagnostic::from_code(d % 3),
                )),
            };
            Pdu::Acse(AcseApdu::Aare(Aare {
                protocol_version: None,
                application_context_name: Some(CSTA_APPLICATION_CONTEXT.to_string()),
                result: Some(AssociateResult::from_code(r)),
                result_source_diagnostic: diag,
                responder_acse_requirements: None,
                mechanism_name: None,
                user_information: vec![],
                other: vec![],
            }))
        }),
        (opt(0i64..31), any::<bool>()).prop_map(|(r, req)| {
            let rel = Release {
                reason: r.map(ReleaseReason::from_code),
                user_information: vec![],
                other: vec![],
            };
            Pdu::Acse(if req {
                AcseApdu::Rlrq(rel)
            } else {
                AcseApdu::Rlre(rel)
            })
        }),
        (opt(0i64..2), opt(1i64..7)).prop_map(|(s, d)| Pdu::Acse(AcseApdu::Abrt(Abort {
            abort_source: s.map(AbortSource::from_code),
            abort_diagnostic: d.map(AbortDiagnostic::from_code),
            user_information: vec![],
            other: vec![]
        }))),
    ]
}

fn any_pdu() -> impl Strategy<Value = Pdu> {
    prop_oneof![
        event_report(),
        request(),
        return_result(),
        return_error(),
        reject(),
        acse()
    ]
}

fn encode(p: &Pdu) -> Vec<u8> {
    let mut b = BytesMut::new();
    encode_pdu(p, &mut b);
    b.to_vec()
}

fn capture_frames() -> Vec<Vec<u8>> {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/real/oxe");
    let mut v = Vec::new();
    for name in [
        "connection-cleared-1.hex",
        "delivered.hex",
        "established.hex",
        "held.hex",
        "originated.hex",
        "retrieved.hex",
    ] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        let b = ctigw_codecs::hex::parse_hex_text(&text).unwrap();
        v.push(b[2..].to_vec());
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_pdus_round_trip(p in any_pdu()) {
        let bytes = encode(&p);
        let back = decode_pdu(&bytes);
        prop_assert_eq!(back.as_ref(), Ok(&p), "bytes {}", ctigw_codecs::hex::to_hex(&bytes));
        // And encoding is stable.
        prop_assert_eq!(encode(&back.unwrap()), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        fuzz::pdu(&data);
        fuzz::acse(&data);
        fuzz::frame(&data);
    }

    #[test]
    fn mutated_captures_never_panic(which in 0usize..6, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)) {
        let frames = capture_frames();
        let mut f = frames[which].clone();
        for (pos, b) in edits {
            let n = f.len();
            f[pos % n] = b;
        }
        fuzz::pdu(&f);
        let mut framed = (f.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&f);
        fuzz::frame(&framed);
    }

    #[test]
    fn framing_ignores_read_boundaries(pdus in proptest::collection::vec(any_pdu(), 1..5), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let mut stream = BytesMut::new();
        let mut enc = CstaCodec::server();
        enc.encode(&Pdu::Hello { hello: ctigw_codecs::csta_ber::Hello::Pbx }, &mut stream).unwrap();
        for p in &pdus {
            enc.encode(p, &mut stream).unwrap();
        }
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        points.push(stream.len());
        points.sort_unstable();
        let mut dec = CstaCodec::client();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut last = 0;
        for p in points {
            buf.extend_from_slice(&stream[last..p]);
            last = p;
            while let Some(item) = dec.decode(&mut buf).unwrap() {
                got.push(item.unwrap());
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got.len(), pdus.len() + 1);
        prop_assert_eq!(&got[1..], &pdus[..]);
    }
}
