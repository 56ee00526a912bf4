//! Commands: what a client asks for ([`Command`], by gateway call id), what an adapter is
//! asked to do ([`PbxCommand`], by PBX call reference), and how each one ends.

use super::agent::AgentState;
use super::device::ForwardKind;
use super::ids::{CallId, CallRef, DeviceId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A call-control request from a client, addressed with the gateway's ids. `device` is always
/// the user's own device: the one whose leg the command acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Command {
    MakeCall {
        device: DeviceId,
        to: String,
    },
    Answer {
        device: DeviceId,
        call_id: CallId,
    },
    Hangup {
        device: DeviceId,
        call_id: CallId,
    },
    Hold {
        device: DeviceId,
        call_id: CallId,
    },
    Retrieve {
        device: DeviceId,
        call_id: CallId,
    },
    /// Put `call_id` on hold and call `to` (consultation call).
    Consult {
        device: DeviceId,
        call_id: CallId,
        to: String,
    },
    /// Transfer the held call to the party of the active call.
    Transfer {
        device: DeviceId,
        held_call_id: CallId,
        active_call_id: CallId,
    },
    Conference {
        device: DeviceId,
        held_call_id: CallId,
        active_call_id: CallId,
    },
    /// Hold the active call and retrieve the held one in one step.
    Alternate {
        device: DeviceId,
        held_call_id: CallId,
        active_call_id: CallId,
    },
    /// Send a ringing call elsewhere.
    Deflect {
        device: DeviceId,
        call_id: CallId,
        to: String,
    },
    SingleStepTransfer {
        device: DeviceId,
        call_id: CallId,
        to: String,
    },
    SendDigits {
        device: DeviceId,
        call_id: CallId,
        digits: String,
    },
    SetForward {
        device: DeviceId,
        kind: ForwardKind,
        to: String,
    },
    CancelForward {
        device: DeviceId,
        kind: Option<ForwardKind>,
    },
    SetDnd {
        device: DeviceId,
        enabled: bool,
    },
    SetAgentState {
        device: DeviceId,
        state: AgentState,
        #[serde(default)]
        agent_id: Option<String>,
        #[serde(default)]
        reason: Option<String>,
    },
}

impl Command {
    /// The device the command acts for (used for routing and authorisation).
    pub fn device(&self) -> &DeviceId {
        match self {
            Command::MakeCall { device, .. }
            | Command::Answer { device, .. }
            | Command::Hangup { device, .. }
            | Command::Hold { device, .. }
            | Command::Retrieve { device, .. }
            | Command::Consult { device, .. }
            | Command::Transfer { device, .. }
            | Command::Conference { device, .. }
            | Command::Alternate { device, .. }
            | Command::Deflect { device, .. }
            | Command::SingleStepTransfer { device, .. }
            | Command::SendDigits { device, .. }
            | Command::SetForward { device, .. }
            | Command::CancelForward { device, .. }
            | Command::SetDnd { device, .. }
            | Command::SetAgentState { device, .. } => device,
        }
    }

    /// The operation name as it appears on the API (`makeCall`, `hold`, ...).
    pub fn op(&self) -> &'static str {
        match self {
            Command::MakeCall { .. } => "makeCall",
            Command::Answer { .. } => "answer",
            Command::Hangup { .. } => "hangup",
            Command::Hold { .. } => "hold",
            Command::Retrieve { .. } => "retrieve",
            Command::Consult { .. } => "consult",
            Command::Transfer { .. } => "transfer",
            Command::Conference { .. } => "conference",
            Command::Alternate { .. } => "alternate",
            Command::Deflect { .. } => "deflect",
            Command::SingleStepTransfer { .. } => "singleStepTransfer",
            Command::SendDigits { .. } => "sendDigits",
            Command::SetForward { .. } => "setForward",
            Command::CancelForward { .. } => "cancelForward",
            Command::SetDnd { .. } => "setDnd",
            Command::SetAgentState { .. } => "setAgentState",
        }
    }
}

/// A request to one adapter, with the engine's ids resolved to the PBX's. Numbers to dial have
/// already been through the dialling plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum PbxCommand {
    MakeCall {
        device: DeviceId,
        to: String,
    },
    Answer {
        device: DeviceId,
        call: CallRef,
    },
    Hangup {
        device: DeviceId,
        call: CallRef,
    },
    Hold {
        device: DeviceId,
        call: CallRef,
    },
    Retrieve {
        device: DeviceId,
        call: CallRef,
    },
    Consult {
        device: DeviceId,
        call: CallRef,
        to: String,
    },
    Transfer {
        device: DeviceId,
        held: CallRef,
        active: CallRef,
    },
    Conference {
        device: DeviceId,
        held: CallRef,
        active: CallRef,
    },
    Alternate {
        device: DeviceId,
        held: CallRef,
        active: CallRef,
    },
    Deflect {
        device: DeviceId,
        call: CallRef,
        to: String,
    },
    SingleStepTransfer {
        device: DeviceId,
        call: CallRef,
        to: String,
    },
    SendDigits {
        device: DeviceId,
        call: CallRef,
        digits: String,
    },
    SetForward {
        device: DeviceId,
        kind: ForwardKind,
        to: String,
    },
    CancelForward {
        device: DeviceId,
        kind: Option<ForwardKind>,
    },
    SetDnd {
        device: DeviceId,
        enabled: bool,
    },
    SetAgentState {
        device: DeviceId,
        agent_id: Option<String>,
        state: AgentState,
        reason: Option<String>,
    },
    /// Ask the PBX for the calls of a device (resynchronisation, blocked-agent check).
    Snapshot {
        device: DeviceId,
    },
}

impl PbxCommand {
    /// The device the command acts for (logs, spans, per-device limits).
    pub fn device(&self) -> &DeviceId {
        match self {
            PbxCommand::MakeCall { device, .. }
            | PbxCommand::Answer { device, .. }
            | PbxCommand::Hangup { device, .. }
            | PbxCommand::Hold { device, .. }
            | PbxCommand::Retrieve { device, .. }
            | PbxCommand::Consult { device, .. }
            | PbxCommand::Transfer { device, .. }
            | PbxCommand::Conference { device, .. }
            | PbxCommand::Alternate { device, .. }
            | PbxCommand::Deflect { device, .. }
            | PbxCommand::SingleStepTransfer { device, .. }
            | PbxCommand::SendDigits { device, .. }
            | PbxCommand::SetForward { device, .. }
            | PbxCommand::CancelForward { device, .. }
            | PbxCommand::SetDnd { device, .. }
            | PbxCommand::SetAgentState { device, .. }
            | PbxCommand::Snapshot { device } => device,
        }
    }

    /// The API operation name (`makeCall`, `hold`, ..., `snapshot` for the engine's own
    /// resynchronisation), as `disabled_services` and the logs name it.
    pub fn op(&self) -> &'static str {
        match self {
            PbxCommand::MakeCall { .. } => "makeCall",
            PbxCommand::Answer { .. } => "answer",
            PbxCommand::Hangup { .. } => "hangup",
            PbxCommand::Hold { .. } => "hold",
            PbxCommand::Retrieve { .. } => "retrieve",
            PbxCommand::Consult { .. } => "consult",
            PbxCommand::Transfer { .. } => "transfer",
            PbxCommand::Conference { .. } => "conference",
            PbxCommand::Alternate { .. } => "alternate",
            PbxCommand::Deflect { .. } => "deflect",
            PbxCommand::SingleStepTransfer { .. } => "singleStepTransfer",
            PbxCommand::SendDigits { .. } => "sendDigits",
            PbxCommand::SetForward { .. } => "setForward",
            PbxCommand::CancelForward { .. } => "cancelForward",
            PbxCommand::SetDnd { .. } => "setDnd",
            PbxCommand::SetAgentState { .. } => "setAgentState",
            PbxCommand::Snapshot { .. } => "snapshot",
        }
    }
}

/// What a successful command produced.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommandOutcome {
    /// The PBX reference of a call the command created (make call, consult); the link is
    /// implied, as in [`super::CallEvent::call`].
    pub call: Option<String>,
}

/// Stable error codes of the API (`{"code": "...", "message": "..."}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The request itself is malformed (missing field, bad value).
    BadRequest,
    /// The client may not act on this device.
    DeviceNotAllowed,
    /// No configured link owns this device.
    UnknownDevice,
    /// The call id is not a live call, or the device is not in it.
    UnknownCall,
    /// The call or connection is not in a state where the operation applies.
    InvalidState,
    /// The PBX or the device cannot do this operation.
    NotSupported,
    /// The link that owns the device is down.
    LinkDown,
    /// The link's request queue is full.
    Busy,
    /// The PBX did not answer in time.
    Timeout,
    /// The PBX refused the request; the message carries its named cause.
    PbxRejected,
    /// The PBX lacks licences or resources (e.g. `overallMonitorLimitExceeded`).
    ResourceLimit,
    /// Anything else; the message says what.
    Internal,
}

/// Why a command failed: a stable code and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct CommandError {
    pub code: ErrorCode,
    pub message: String,
}

impl CommandError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CommandError {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.code, self.message)
    }
}
