//! Engine commands → ECMA-323 requests, and the PBX's answers → command results with stable
//! error codes whose messages name the PBX's cause (`CSTAErrorCode`).
//!
//! Every API operation has an ECMA-323 service, so nothing is refused up front except what
//! the link's `disabled_services` names. A cancelled forwarding of no particular kind cancels
//! immediate, busy and no-answer forwarding (three requests, one result). Agent states map to
//! `requestedAgentState` (ready, notReady, loggedOff, workingAfterCall); `busy` and `blocked`
//! are states a PBX reports, not ones a client can ask for: `NotSupported`.

use super::mapping::{Mapper, forwarding_types};
use super::options::Options;
use crate::model::{AgentState, CommandError, ErrorCode, ForwardKind, PbxCommand};
use ctigw_codecs::csta_xml::{CstaErrorCode, ErrorCategory, Message, ReqAgentState, requests};

/// One request of a command.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The ECMA-323 service name (`MakeCall`, `SetForwarding`, ...).
    pub op: &'static str,
    pub msg: Message,
}

fn not_supported(what: &str, why: &str) -> CommandError {
    CommandError::new(ErrorCode::NotSupported, format!("{what}: {why}"))
}

/// The requests that carry out `cmd`.
pub fn plan(cmd: &PbxCommand, m: &Mapper, opts: &Options) -> Result<Vec<Planned>, CommandError> {
    use PbxCommand as C;
    let op = cmd.op();
    if opts.disabled_services.iter().any(|s| s == op) {
        return Err(not_supported(
            op,
            "disabled for this link (options.disabled_services)",
        ));
    }
    let one = |op: &'static str, msg: Message| Ok(vec![Planned { op, msg }]);
    let c = |call: &crate::model::CallRef, device: &crate::model::DeviceId| {
        m.connection(&call.pbx, device.as_str())
    };
    match cmd {
        C::MakeCall { device, to } => one(
            "MakeCall",
            requests::make_call(device.as_str(), to.as_str()),
        ),
        C::Answer { device, call } => one("AnswerCall", requests::answer_call(&c(call, device))),
        C::Hangup { device, call } => one(
            "ClearConnection",
            requests::clear_connection(&c(call, device)),
        ),
        C::Hold { device, call } => one("HoldCall", requests::hold_call(&c(call, device))),
        C::Retrieve { device, call } => {
            one("RetrieveCall", requests::retrieve_call(&c(call, device)))
        }
        C::Consult { device, call, to } => one(
            "ConsultationCall",
            requests::consultation_call(&c(call, device), to.as_str()),
        ),
        C::Transfer {
            device,
            held,
            active,
        } => one(
            "TransferCall",
            requests::transfer_call(&c(held, device), &c(active, device)),
        ),
        C::Conference {
            device,
            held,
            active,
        } => one(
            "ConferenceCall",
            requests::conference_call(&c(held, device), &c(active, device)),
        ),
        C::Alternate {
            device,
            held,
            active,
        } => one(
            "AlternateCall",
            requests::alternate_call(&c(held, device), &c(active, device)),
        ),
        C::Deflect { device, call, to } => one(
            "DeflectCall",
            requests::deflect_call(&c(call, device), to.as_str()),
        ),
        C::SingleStepTransfer { device, call, to } => one(
            "SingleStepTransferCall",
            requests::single_step_transfer_call(&c(call, device), to.as_str()),
        ),
        C::SendDigits {
            device,
            call,
            digits,
        } => {
            if digits.is_empty()
                || !digits
                    .chars()
                    .all(|ch| ch.is_ascii_digit() || "*#ABCD".contains(ch))
            {
                return Err(CommandError::new(
                    ErrorCode::BadRequest,
                    format!("\"{digits}\" is not a string of DTMF digits (0-9 * # A-D)"),
                ));
            }
            one(
                "GenerateDigits",
                requests::generate_digits(&c(call, device), digits),
            )
        }
        C::SetForward { device, kind, to } => Ok(forwarding_types(*kind)
            .into_iter()
            .map(|t| Planned {
                op: "SetForwarding",
                msg: requests::set_forwarding(device.as_str(), t, Some(to.as_str().into())),
            })
            .collect()),
        C::CancelForward { device, kind } => {
            let kinds = match kind {
                Some(k) => vec![*k],
                None => vec![
                    ForwardKind::Immediate,
                    ForwardKind::Busy,
                    ForwardKind::NoAnswer,
                ],
            };
            Ok(kinds
                .into_iter()
                .flat_map(forwarding_types)
                .map(|t| Planned {
                    op: "SetForwarding",
                    msg: requests::set_forwarding(device.as_str(), t, None),
                })
                .collect())
        }
        C::SetDnd { device, enabled } => one(
            "SetDoNotDisturb",
            requests::set_do_not_disturb(device.as_str(), *enabled),
        ),
        C::SetAgentState {
            device,
            agent_id,
            state,
            ..
        } => {
            let s = match state {
                AgentState::Ready => ReqAgentState::Ready,
                AgentState::NotReady => ReqAgentState::NotReady,
                AgentState::LoggedOff => ReqAgentState::LoggedOff,
                AgentState::WorkingAfterCall => ReqAgentState::WorkingAfterCall,
                AgentState::Busy | AgentState::Blocked => {
                    return Err(not_supported(
                        "setAgentState",
                        &format!("{state:?} is a state the PBX reports, not one to request"),
                    ));
                }
            };
            one(
                "SetAgentState",
                requests::set_agent_state(device.as_str(), s, agent_id.as_deref()),
            )
        }
        C::Snapshot { device } => one("SnapshotDevice", requests::snapshot_device(device.as_str())),
    }
}

/// A negative response as a command error: the category decides the code, the message names
/// the PBX's cause.
pub fn csta_error(op: &str, e: &CstaErrorCode) -> CommandError {
    let v = e.value.trim();
    let code = match e.category {
        ErrorCategory::StateIncompatibility => ErrorCode::InvalidState,
        ErrorCategory::SystemResourceAvailability
        | ErrorCategory::SubscribedResourceAvailability
        | ErrorCategory::PerformanceManagement => ErrorCode::ResourceLimit,
        ErrorCategory::Operation if v == "invalidConnectionID" || v == "invalidCallID" => {
            ErrorCode::UnknownCall
        }
        _ => ErrorCode::PbxRejected,
    };
    let code = if matches!(v, "serviceNotSupported" | "requestIncompatibleWithObject")
        || (e.category == ErrorCategory::SubscribedResourceAvailability
            && v == "serviceNotSubscribed")
    {
        ErrorCode::NotSupported
    } else {
        code
    };
    CommandError::new(code, format!("{op} refused by the PBX: {}", e))
}

/// The call a positive response names (MakeCall, ConsultationCall, transfer/conference).
pub fn response_connection(msg: &Message) -> Option<&ctigw_codecs::csta_xml::ConnectionId> {
    match msg {
        Message::MakeCallResponse(r) => Some(&r.calling_device),
        Message::ConsultationCallResponse(r) => Some(&r.initiated_call),
        Message::TransferCallResponse(r) => r.transferred_call.as_ref(),
        Message::ConferenceCallResponse(r) => r.conference_call.as_ref(),
        Message::SingleStepTransferCallResponse(r) => r.transferred_call.as_ref(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CallRef, DeviceId, LinkId};

    #[test]
    fn every_command_plans_and_errors_are_named() {
        let m = Mapper::new();
        let o = Options::defaults("csta-xml-tcp");
        let d = DeviceId::new("24101");
        let call = CallRef::new(&LinkId::new("l"), "FF01");
        let p = plan(
            &PbxCommand::Hold {
                device: d.clone(),
                call: call.clone(),
            },
            &m,
            &o,
        )
        .unwrap();
        assert_eq!(p[0].op, "HoldCall");
        let p = plan(
            &PbxCommand::CancelForward {
                device: d.clone(),
                kind: None,
            },
            &m,
            &o,
        )
        .unwrap();
        assert_eq!(p.len(), 3);
        let e = plan(
            &PbxCommand::SetAgentState {
                device: d.clone(),
                agent_id: None,
                state: AgentState::Blocked,
                reason: None,
            },
            &m,
            &o,
        )
        .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotSupported);
        let e = csta_error(
            "HoldCall",
            &CstaErrorCode::new(
                ErrorCategory::StateIncompatibility,
                "invalidConnectionState",
            ),
        );
        assert_eq!(e.code, ErrorCode::InvalidState);
        assert!(e.message.contains("invalidConnectionState"));
        let e = csta_error(
            "MonitorStart",
            &CstaErrorCode::new(
                ErrorCategory::SystemResourceAvailability,
                "overallMonitorLimitExceeded",
            ),
        );
        assert_eq!(e.code, ErrorCode::ResourceLimit);
    }
}
