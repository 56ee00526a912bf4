//! Ready-made requests and answers for the OXE adapter, each a complete [`Pdu`] for a given
//! invokeID: MonitorStart/Stop, SnapshotDevice, MakeCall, AnswerCall, ClearConnection,
//! HoldCall, RetrieveCall, ConsultationCall, TransferCall, ConferenceCall, AlternateCall,
//! DivertCall (deflect), SetFeature (forwarding, do-not-disturb), QueryDevice, SystemStatus and
//! the ReturnResult that answers the PBX's SystemStatus keep-alive.
//!
//! Device numbers go out as `dialingNumber [0] IMPLICIT` (what the working OXE client in
//! `session-open.txt` sends); called numbers inside a CalledDeviceID as `[0]` too.

use super::Pdu;
use super::common::Digits;
use super::rose::{Invoke, OperationResult, ReturnResult, RoseApdu};
use super::services::*;
use super::types::*;

fn invoke(invoke_id: i64, argument: Argument) -> Pdu {
    Pdu::Rose(RoseApdu::Invoke(Invoke::new(invoke_id, argument)))
}

fn called(number: &str) -> CalledDeviceId {
    AppDevice::device(DeviceId::dialing(number))
}

/// MonitorStart on a device: `A1 .. 02 01 id 02 01 47 30 .. 80 len digits`.
pub fn monitor_start(invoke_id: i64, device: &str) -> Pdu {
    invoke(
        invoke_id,
        Argument::MonitorStart(MonitorStartArg {
            monitor_object: MonitorObject::Device(DeviceId::dialing(device)),
            monitor_filter: None,
            monitor_type: None,
            unknown: vec![],
        }),
    )
}

/// MonitorStop for a cross reference returned by MonitorStart.
pub fn monitor_stop(invoke_id: i64, cross_ref: &MonitorCrossRefId) -> Pdu {
    invoke(
        invoke_id,
        Argument::MonitorStop(MonitorStopArg::new(cross_ref.clone())),
    )
}

/// SnapshotDevice on a device (bare DeviceID argument).
pub fn snapshot_device(invoke_id: i64, device: &str) -> Pdu {
    invoke(
        invoke_id,
        Argument::SnapshotDevice(SnapshotDeviceArg::new(DeviceId::dialing(device))),
    )
}

/// MakeCall from `calling` to `called_number`.
pub fn make_call(invoke_id: i64, calling: &str, called_number: &str) -> Pdu {
    invoke(
        invoke_id,
        Argument::MakeCall(MakeCallArg {
            calling_device: DeviceId::dialing(calling),
            called_directory_number: called(called_number),
            unknown: vec![],
        }),
    )
}

/// AnswerCall on an alerting connection.
pub fn answer_call(invoke_id: i64, connection: &ConnectionId) -> Pdu {
    invoke(
        invoke_id,
        Argument::AnswerCall(ConnectionArg::new(connection.clone())),
    )
}

/// ClearConnection (hang up one party).
pub fn clear_connection(invoke_id: i64, connection: &ConnectionId) -> Pdu {
    invoke(
        invoke_id,
        Argument::ClearConnection(ConnectionArg::new(connection.clone())),
    )
}

/// HoldCall.
pub fn hold_call(invoke_id: i64, connection: &ConnectionId) -> Pdu {
    invoke(
        invoke_id,
        Argument::HoldCall(HoldCallArg {
            call_to_be_held: connection.clone(),
            connection_reservation: None,
            unknown: vec![],
        }),
    )
}

/// RetrieveCall.
pub fn retrieve_call(invoke_id: i64, connection: &ConnectionId) -> Pdu {
    invoke(
        invoke_id,
        Argument::RetrieveCall(ConnectionArg::new(connection.clone())),
    )
}

/// ConsultationCall: hold `existing` and call `called_number`.
pub fn consultation_call(invoke_id: i64, existing: &ConnectionId, called_number: &str) -> Pdu {
    invoke(
        invoke_id,
        Argument::ConsultationCall(ConsultationCallArg {
            existing_call: existing.clone(),
            called_directory_number: called(called_number),
            unknown: vec![],
        }),
    )
}

fn both(held: &ConnectionId, active: &ConnectionId) -> ConnectionDetails {
    ConnectionDetails::BothCalls(CallPair {
        held_call: held.clone(),
        active_call: active.clone(),
        unknown: vec![],
    })
}

/// TransferCall between the held and the active call.
pub fn transfer_call(invoke_id: i64, held: &ConnectionId, active: &ConnectionId) -> Pdu {
    invoke(invoke_id, Argument::TransferCall(both(held, active)))
}

/// ConferenceCall joining the held and the active call.
pub fn conference_call(invoke_id: i64, held: &ConnectionId, active: &ConnectionId) -> Pdu {
    invoke(invoke_id, Argument::ConferenceCall(both(held, active)))
}

/// AlternateCall: put the active call on hold and retrieve the held one.
pub fn alternate_call(invoke_id: i64, held: &ConnectionId, active: &ConnectionId) -> Pdu {
    invoke(invoke_id, Argument::AlternateCall(both(held, active)))
}

/// DivertCall deflect: send an alerting call to `destination`.
pub fn deflect_call(invoke_id: i64, connection: &ConnectionId, destination: &str) -> Pdu {
    invoke(
        invoke_id,
        Argument::DivertCall(DivertCallArg::Deflect(DeflectArg {
            call_to_be_diverted: connection.clone(),
            new_destination: called(destination),
            unknown: vec![],
        })),
    )
}

/// SetFeature forwarding: `forwarding_type` with an optional destination.
pub fn set_forwarding(
    invoke_id: i64,
    device: &str,
    forwarding_type: ForwardingType,
    destination: Option<&str>,
) -> Pdu {
    invoke(
        invoke_id,
        Argument::SetFeature(SetFeatureArg {
            device: DeviceId::dialing(device),
            feature: SetDeviceFeature::Forward(ForwardParameter {
                forwarding_type,
                forward_dn: destination.map(Digits::from),
                forward_device: None,
                unknown: vec![],
            }),
            unknown: vec![],
        }),
    )
}

/// SetFeature do-not-disturb on or off.
pub fn set_do_not_disturb(invoke_id: i64, device: &str, on: bool) -> Pdu {
    invoke(
        invoke_id,
        Argument::SetFeature(SetFeatureArg {
            device: DeviceId::dialing(device),
            feature: SetDeviceFeature::DoNotDisturb(on),
            unknown: vec![],
        }),
    )
}

/// QueryDevice for a feature (forwarding, do-not-disturb, ...).
pub fn query_device(invoke_id: i64, device: &str, feature: QueryDeviceFeature) -> Pdu {
    invoke(
        invoke_id,
        Argument::QueryDevice(QueryDeviceArg {
            device: DeviceId::dialing(device),
            feature,
            unknown: vec![],
        }),
    )
}

/// SystemStatus request (the client's own keep-alive): `0a 01 <status>`.
pub fn system_status(invoke_id: i64, status: SystemStatus) -> Pdu {
    invoke(
        invoke_id,
        Argument::SystemStatus(SystemStatusArg::new(status)),
    )
}

/// The ReturnResult answering a SystemStatus invoke: `A2 0A 02 01 id 30 05 02 01 34 05 00`.
pub fn system_status_result(invoke_id: i64) -> Pdu {
    Pdu::Rose(RoseApdu::ReturnResult(ReturnResult {
        invoke_id,
        result: Some(OperationResult {
            opcode: opcode::SYSTEM_STATUS,
            value: Some(ResultValue::Null),
            unknown: vec![],
        }),
        unknown: vec![],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csta_ber::{decode_pdu, encode_pdu};
    use bytes::BytesMut;

    fn enc(p: &Pdu) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode_pdu(p, &mut b);
        b.to_vec()
    }

    #[test]
    fn every_request_round_trips() {
        let c = ConnectionId::dynamic(&[0x2b, 0x82], &[0x08, 0xb3, 0x01, 0x00]);
        let d = ConnectionId::dynamic(&[0x2b, 0x83], &[0x08, 0xb4, 0x01, 0x00]);
        let all = [
            monitor_start(1, "24103"),
            monitor_stop(2, &MonitorCrossRefId(vec![1, 0x35, 0xf3, 3])),
            snapshot_device(3, "24103"),
            make_call(4, "24103", "00238221815"),
            answer_call(5, &c),
            clear_connection(6, &c),
            hold_call(7, &c),
            retrieve_call(8, &c),
            consultation_call(9, &c, "24104"),
            transfer_call(10, &c, &d),
            conference_call(11, &c, &d),
            alternate_call(12, &c, &d),
            deflect_call(13, &c, "24105"),
            set_forwarding(
                14,
                "24103",
                ForwardingType::ForwardImmediateOn,
                Some("24104"),
            ),
            set_do_not_disturb(15, "24103", true),
            query_device(16, "24103", QueryDeviceFeature::Forward),
            system_status(17, SystemStatus::Normal),
            system_status_result(18),
        ];
        for p in all {
            assert_eq!(decode_pdu(&enc(&p)).unwrap(), p, "{p:?}");
        }
    }

    #[test]
    fn keep_alive_shapes() {
        assert_eq!(
            enc(&system_status(5, SystemStatus::Normal)),
            vec![
                0xa1, 0x09, 0x02, 0x01, 0x05, 0x02, 0x01, 0x34, 0x0a, 0x01, 0x02
            ]
        );
        assert_eq!(
            enc(&system_status_result(5)),
            vec![
                0xa2, 0x0a, 0x02, 0x01, 0x05, 0x30, 0x05, 0x02, 0x01, 0x34, 0x05, 0x00
            ]
        );
    }
}
