//! Engine commands → CSTA Phase II requests, and the PBX's answers → command results with
//! stable error codes whose messages name the PBX's cause.
//!
//! Services without a Phase II request on OXE/OXO are `NotSupported` without asking the PBX:
//! single-step transfer and send digits (Phase II has neither; OXE offers them only through
//! Phase III, which this link does not speak). A service the PBX rejects as unknown (ROSE
//! Reject `unrecognizedOperation`) is `NotSupported` too: that is how an OXO without a
//! service answers.
//!
//! Agent state (CCD agents): no capture of an OXE agent request exists. We send SetFeature
//! with the `requestedAgentState [3]` alternative of SetDeviceFeature (ECMA-180/218 order:
//! msgWaitingOn 0, doNotDisturb 1, forward 2, requestedAgentState 3), carrying, as we
//! **assume** it, `[3] IMPLICIT SEQUENCE { ENUMERATED state, agentID [10] OPTIONAL }` with
//! state loggedOn 0, loggedOff 1, notReady 2, ready 3, workNotReady 4, workReady 5 (the order
//! of the agent events). The simulated OXE accepts exactly this shape; check it against a real
//! CCD before relying on it.

use super::mapping::{Mapper, forwarding_types};
use super::options::Options;
use crate::model::{AgentState, CommandError, ErrorCode, PbxCommand};
use ctigw_codecs::csta_ber::ber::{Tag, Writer};
use ctigw_codecs::csta_ber::common::RawTlv;
use ctigw_codecs::csta_ber::rose::{InvokeProblem, RejectProblem};
use ctigw_codecs::csta_ber::services::{
    ErrorParameter, OperationError, SetDeviceFeature, SetFeatureArg, StateError,
};
use ctigw_codecs::csta_ber::{
    Argument, ConnectionId, DeviceId as CstaDevice, Invoke, Pdu, Reject, ReturnError, RoseApdu,
    UniversalFailure, requests,
};

/// One request of a command, before its invokeID is allocated.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The CSTA service name (`makeCall`, `setFeature`, ...).
    pub op: &'static str,
    pub pdu: Pdu,
}

/// Sets the invokeID of a planned request.
pub fn with_invoke_id(mut pdu: Pdu, id: i64) -> Pdu {
    if let Pdu::Rose(RoseApdu::Invoke(i)) = &mut pdu {
        i.invoke_id = id;
    }
    pdu
}

fn not_supported(what: &str, why: &str) -> CommandError {
    CommandError::new(ErrorCode::NotSupported, format!("{what}: {why}"))
}

fn conn(m: &Mapper, call: &str, device: &str) -> Result<ConnectionId, CommandError> {
    m.connection(call, device).ok_or_else(|| {
        CommandError::new(
            ErrorCode::UnknownCall,
            format!("\"{call}\" is not an OXE call reference (expected the callID in hex)"),
        )
    })
}

/// The requests that carry out `cmd` (one for most; two for "busy or no answer"
/// forwarding; three for cancelling every forwarding).
pub fn plan(cmd: &PbxCommand, m: &Mapper, opts: &Options) -> Result<Vec<Planned>, CommandError> {
    use PbxCommand as C;
    let op = cmd.op();
    if opts.disabled_services.iter().any(|s| s == op) {
        return Err(not_supported(
            op,
            &format!(
                "disabled for this link (options.disabled_services{})",
                if opts.oxo { ", OXO" } else { "" }
            ),
        ));
    }
    let one = |op: &'static str, pdu: Pdu| Ok(vec![Planned { op, pdu }]);
    match cmd {
        // On OXO, the calling set rings first and answers by itself after about 5 s (the
        // PBX's MakeCall auto-answer); nothing to do here but let the events tell.
        C::MakeCall { device, to } => one("makeCall", requests::make_call(0, device.as_str(), to)),
        C::Answer { device, call } => one(
            "answerCall",
            requests::answer_call(0, &conn(m, &call.pbx, device.as_str())?),
        ),
        C::Hangup { device, call } => one(
            "clearConnection",
            requests::clear_connection(0, &conn(m, &call.pbx, device.as_str())?),
        ),
        C::Hold { device, call } => one(
            "holdCall",
            requests::hold_call(0, &conn(m, &call.pbx, device.as_str())?),
        ),
        C::Retrieve { device, call } => one(
            "retrieveCall",
            requests::retrieve_call(0, &conn(m, &call.pbx, device.as_str())?),
        ),
        C::Consult { device, call, to } => one(
            "consultationCall",
            requests::consultation_call(0, &conn(m, &call.pbx, device.as_str())?, to),
        ),
        C::Transfer {
            device,
            held,
            active,
        } => one(
            "transferCall",
            requests::transfer_call(
                0,
                &conn(m, &held.pbx, device.as_str())?,
                &conn(m, &active.pbx, device.as_str())?,
            ),
        ),
        C::Conference {
            device,
            held,
            active,
        } => one(
            "conferenceCall",
            requests::conference_call(
                0,
                &conn(m, &held.pbx, device.as_str())?,
                &conn(m, &active.pbx, device.as_str())?,
            ),
        ),
        C::Alternate {
            device,
            held,
            active,
        } => one(
            "alternateCall",
            requests::alternate_call(
                0,
                &conn(m, &held.pbx, device.as_str())?,
                &conn(m, &active.pbx, device.as_str())?,
            ),
        ),
        C::Deflect { device, call, to } => one(
            "divertCall",
            requests::deflect_call(0, &conn(m, &call.pbx, device.as_str())?, to),
        ),
        C::SingleStepTransfer { .. } => Err(not_supported(
            "singleStepTransfer",
            "CSTA Phase II (OXE/OXO) has no single-step transfer service; use consult then transfer",
        )),
        C::SendDigits { .. } => Err(not_supported(
            "sendDigits",
            "CSTA Phase II (OXE/OXO) has no service to send DTMF digits on a call",
        )),
        C::SetForward { device, kind, to } => Ok(forwarding_types(*kind, true)
            .into_iter()
            .map(|t| Planned {
                op: "setFeature",
                pdu: requests::set_forwarding(0, device.as_str(), t, Some(to)),
            })
            .collect()),
        C::CancelForward { device, kind } => {
            let kinds = match kind {
                Some(k) => vec![*k],
                None => vec![
                    crate::model::ForwardKind::Immediate,
                    crate::model::ForwardKind::Busy,
                    crate::model::ForwardKind::NoAnswer,
                ],
            };
            Ok(kinds
                .into_iter()
                .flat_map(|k| forwarding_types(k, false))
                .map(|t| Planned {
                    op: "setFeature",
                    pdu: requests::set_forwarding(0, device.as_str(), t, None),
                })
                .collect())
        }
        C::SetDnd { device, enabled } => one(
            "setFeature",
            requests::set_do_not_disturb(0, device.as_str(), *enabled),
        ),
        C::SetAgentState {
            device,
            agent_id,
            state,
            ..
        } => {
            let code = match state {
                AgentState::Ready => 3,
                AgentState::NotReady => 2,
                AgentState::LoggedOff => 1,
                AgentState::WorkingAfterCall => 4,
                AgentState::Busy | AgentState::Blocked => {
                    return Err(CommandError::new(
                        ErrorCode::BadRequest,
                        "busy and blocked are reported states, they cannot be set",
                    ));
                }
            };
            one(
                "setFeature",
                agent_state_request(device.as_str(), agent_id.as_deref(), code),
            )
        }
        C::Snapshot { device } => one(
            "snapshotDevice",
            requests::snapshot_device(0, device.as_str()),
        ),
    }
}

/// SetFeature requestedAgentState (shape assumed, see the module documentation).
pub fn agent_state_request(device: &str, agent_id: Option<&str>, state: i64) -> Pdu {
    let mut buf = bytes::BytesMut::new();
    {
        let mut w = Writer::new(&mut buf);
        w.constructed(Tag::context_c(3), |w| {
            w.integer(Tag::ENUMERATED, state);
            if let Some(a) = agent_id {
                w.primitive(Tag::context(10), a.as_bytes());
            }
        });
    }
    let raw = RawTlv {
        tag: Tag::context_c(3),
        bytes: buf.to_vec(),
    };
    Pdu::Rose(RoseApdu::Invoke(Invoke::new(
        0,
        Argument::SetFeature(SetFeatureArg {
            device: CstaDevice::dialing(device),
            feature: SetDeviceFeature::Unknown(raw),
            unknown: vec![],
        }),
    )))
}

/// The requested agent state of a SetFeature built by [`agent_state_request`]: (state code,
/// agent id). For the simulator.
pub fn parse_agent_state_request(raw: &RawTlv) -> Option<(i64, Option<String>)> {
    let t = ctigw_codecs::csta_ber::ber::read_single(&raw.bytes, "requestedAgentState").ok()?;
    let mut r = t.reader("requestedAgentState").ok()?;
    let mut state = None;
    let mut agent = None;
    while let Ok(Some(el)) = r.next("requestedAgentState") {
        if el.tag == Tag::ENUMERATED {
            state = el.integer("state").ok();
        } else if el.tag == Tag::context(10) {
            agent = el
                .octets("agentID")
                .ok()
                .map(|b| String::from_utf8_lossy(b).into_owned());
        }
    }
    Some((state?, agent))
}

/// The error code for a universal failure.
pub fn failure_code(f: &UniversalFailure) -> ErrorCode {
    use UniversalFailure as U;
    match f {
        U::OperationErrors(e) => match e {
            OperationError::InvalidCallIdentifier | OperationError::InvalidConnectionIdentifier => {
                ErrorCode::UnknownCall
            }
            OperationError::RequestIncompatibleWithObject => ErrorCode::InvalidState,
            OperationError::InvalidCalledDevice
            | OperationError::InvalidCallingDevice
            | OperationError::InvalidDestination
            | OperationError::InvalidForwardingDestination
            | OperationError::ValueOutOfRange => ErrorCode::BadRequest,
            OperationError::InvalidFeature => ErrorCode::NotSupported,
            _ => ErrorCode::PbxRejected,
        },
        U::StateErrors(StateError::InvalidConnectionId) => ErrorCode::UnknownCall,
        U::StateErrors(_) => ErrorCode::InvalidState,
        U::SystemResourceErrors(
            ctigw_codecs::csta_ber::services::SystemResourceError::OverallMonitorLimitExceeded
            | ctigw_codecs::csta_ber::services::SystemResourceError::ConferenceMemberLimitExceeded,
        ) => ErrorCode::ResourceLimit,
        U::SystemResourceErrors(_) => ErrorCode::PbxRejected,
        U::SubscribedResourceAvailabilityErrors(_) | U::PerformanceErrors(_) => {
            ErrorCode::ResourceLimit
        }
        U::SecurityErrors(_) | U::UnspecifiedErrors => ErrorCode::PbxRejected,
    }
}

/// A ReturnError as a command error: `"<op> refused by the PBX: systemResourceErrors:
/// overallMonitorLimitExceeded (7)"`.
pub fn return_error(op: &str, e: &ReturnError) -> CommandError {
    match &e.parameter {
        Some(ErrorParameter::UniversalFailure(f)) => CommandError::new(
            failure_code(f),
            format!("{op} refused by the PBX: {}", f.describe()),
        ),
        Some(ErrorParameter::Other(raw)) => CommandError::new(
            ErrorCode::PbxRejected,
            format!(
                "{op} refused by the PBX: error {} ({} bytes of parameter)",
                e.error_value,
                raw.bytes.len()
            ),
        ),
        None => CommandError::new(
            ErrorCode::PbxRejected,
            format!("{op} refused by the PBX: error {}", e.error_value),
        ),
    }
}

/// A ROSE Reject of one of our invokes as a command error.
pub fn reject(op: &str, r: &Reject) -> CommandError {
    let (code, what) = match &r.problem {
        RejectProblem::Invoke(InvokeProblem::UnrecognizedOperation) => {
            (ErrorCode::NotSupported, "unrecognizedOperation".to_string())
        }
        RejectProblem::Invoke(p) => (ErrorCode::PbxRejected, p.to_string()),
        RejectProblem::General(p) => (ErrorCode::PbxRejected, p.to_string()),
        RejectProblem::ReturnResult(p) => (ErrorCode::PbxRejected, p.to_string()),
        RejectProblem::ReturnError(p) => (ErrorCode::PbxRejected, p.to_string()),
        RejectProblem::Unknown(_) => (ErrorCode::PbxRejected, "unknown problem".to_string()),
    };
    CommandError::new(code, format!("{op} rejected by the PBX: {what}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctigw_codecs::csta_ber::services::SystemResourceError;

    #[test]
    fn named_errors() {
        let f = UniversalFailure::SystemResourceErrors(
            SystemResourceError::OverallMonitorLimitExceeded,
        );
        assert_eq!(failure_code(&f), ErrorCode::ResourceLimit);
        let e = ReturnError {
            invoke_id: 1,
            error_value: 1,
            parameter: Some(ErrorParameter::UniversalFailure(f)),
            unknown: vec![],
        };
        let ce = return_error("monitorStart", &e);
        assert!(ce.message.contains("overallMonitorLimitExceeded"), "{ce}");
    }

    #[test]
    fn agent_state_round_trip() {
        let pdu = agent_state_request("24120", Some("4001"), 2);
        let Pdu::Rose(RoseApdu::Invoke(Invoke {
            argument:
                Argument::SetFeature(SetFeatureArg {
                    feature: SetDeviceFeature::Unknown(raw),
                    ..
                }),
            ..
        })) = pdu
        else {
            panic!("not a setFeature");
        };
        assert_eq!(
            parse_agent_state_request(&raw),
            Some((2, Some("4001".into())))
        );
    }
}
