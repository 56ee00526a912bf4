//! Ready-made requests for the adapter: every service the gateway sends, built from device
//! identifiers and connections, with the optional parts left out.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use super::device::DeviceId;
use super::services::*;
use super::session::*;
use super::types::*;
use super::{Edition, Message};

fn conn(c: &ConnectionId) -> ConnectionId {
    c.clone()
}

/// ECMA-354 session start offering `editions` (first preferred), with the requested
/// session duration in seconds.
pub fn start_application_session(
    application_id: &str,
    editions: &[Edition],
    duration_secs: Option<u32>,
) -> Message {
    StartApplicationSession {
        application_info: ApplicationInfo {
            application_id: application_id.to_string(),
            extensions: Vec::new(),
        },
        requested_protocol_versions: ProtocolVersions {
            versions: editions.iter().map(|e| e.namespace().to_string()).collect(),
            extensions: Vec::new(),
        },
        requested_session_duration: duration_secs,
        extensions: Vec::new(),
    }
    .into()
}

/// Session keep-alive.
pub fn reset_application_session_timer(session_id: &str, duration_secs: Option<u32>) -> Message {
    ResetApplicationSessionTimer {
        session_id: session_id.to_string(),
        requested_session_duration: duration_secs,
        extensions: Vec::new(),
    }
    .into()
}

/// Session end with the defined reason `normal`.
pub fn stop_application_session(session_id: &str) -> Message {
    StopApplicationSession {
        session_id: session_id.to_string(),
        session_end_reason: Some(SessionEndReason {
            defined_end_reason: Some("normal".to_string()),
            ..Default::default()
        }),
        extensions: Vec::new(),
    }
    .into()
}

pub fn request_system_status() -> Message {
    RequestSystemStatus::default().into()
}

/// Our answer to the switch's SystemStatus.
pub fn system_status_response() -> Message {
    SystemStatusResponse::default().into()
}

/// Our answer to RequestSystemStatus from the switch.
pub fn request_system_status_response(status: SystemStatusValue) -> Message {
    RequestSystemStatusResponse {
        system_status: status,
        extensions: Vec::new(),
    }
    .into()
}

pub fn get_csta_features() -> Message {
    GetCstaFeatures::default().into()
}

/// Monitor a device.
pub fn monitor_start(device: impl Into<DeviceId>) -> Message {
    MonitorStart {
        monitor_object: MonitorObject {
            device_object: Some(device.into()),
            ..Default::default()
        },
        ..Default::default()
    }
    .into()
}

pub fn monitor_stop(monitor_cross_ref_id: &str) -> Message {
    MonitorStop {
        monitor_cross_ref_id: monitor_cross_ref_id.to_string(),
        extensions: Vec::new(),
    }
    .into()
}

pub fn snapshot_device(device: impl Into<DeviceId>) -> Message {
    SnapshotDevice {
        snapshot_object: device.into(),
        extensions: Vec::new(),
    }
    .into()
}

/// Dial `called` from `calling` without prompting (`autoOriginate doNotPrompt`).
pub fn make_call(calling: impl Into<DeviceId>, called: impl Into<DeviceId>) -> Message {
    MakeCall {
        calling_device: calling.into(),
        called_directory_number: called.into(),
        account_code: None,
        auto_originate: Some(AutoOriginate::DoNotPrompt),
        extensions: Vec::new(),
    }
    .into()
}

pub fn answer_call(connection: &ConnectionId) -> Message {
    AnswerCall {
        call_to_be_answered: conn(connection),
        extensions: Vec::new(),
    }
    .into()
}

pub fn clear_connection(connection: &ConnectionId) -> Message {
    ClearConnection {
        connection_to_be_cleared: conn(connection),
        extensions: Vec::new(),
    }
    .into()
}

pub fn clear_call(connection: &ConnectionId) -> Message {
    ClearCall {
        call_to_be_cleared: conn(connection),
        extensions: Vec::new(),
    }
    .into()
}

pub fn hold_call(connection: &ConnectionId) -> Message {
    HoldCall {
        call_to_be_held: conn(connection),
        extensions: Vec::new(),
    }
    .into()
}

pub fn retrieve_call(connection: &ConnectionId) -> Message {
    RetrieveCall {
        call_to_be_retrieved: conn(connection),
        extensions: Vec::new(),
    }
    .into()
}

pub fn consultation_call(existing: &ConnectionId, consulted: impl Into<DeviceId>) -> Message {
    ConsultationCall {
        existing_call: conn(existing),
        consulted_device: consulted.into(),
        extensions: Vec::new(),
    }
    .into()
}

pub fn transfer_call(held: &ConnectionId, active: &ConnectionId) -> Message {
    TransferCall {
        held_call: conn(held),
        active_call: conn(active),
        extensions: Vec::new(),
    }
    .into()
}

pub fn conference_call(held: &ConnectionId, active: &ConnectionId) -> Message {
    ConferenceCall {
        held_call: conn(held),
        active_call: conn(active),
        extensions: Vec::new(),
    }
    .into()
}

pub fn alternate_call(held: &ConnectionId, active: &ConnectionId) -> Message {
    AlternateCall {
        held_call: conn(held),
        active_call: conn(active),
        extensions: Vec::new(),
    }
    .into()
}

pub fn deflect_call(connection: &ConnectionId, to: impl Into<DeviceId>) -> Message {
    DeflectCall {
        call_to_be_diverted: conn(connection),
        new_destination: to.into(),
        extensions: Vec::new(),
    }
    .into()
}

pub fn single_step_transfer_call(active: &ConnectionId, to: impl Into<DeviceId>) -> Message {
    SingleStepTransferCall {
        active_call: conn(active),
        transferred_to: to.into(),
        extensions: Vec::new(),
    }
    .into()
}

pub fn generate_digits(connection: &ConnectionId, digits: &str) -> Message {
    GenerateDigits {
        connection_to_send_digits: conn(connection),
        characters_to_send: digits.to_string(),
        extensions: Vec::new(),
    }
    .into()
}

/// Switch forwarding of `kind` on (to `to`) or off (`to` = `None`).
pub fn set_forwarding(
    device: impl Into<DeviceId>,
    kind: ForwardingType,
    to: Option<DeviceId>,
) -> Message {
    SetForwarding {
        device: device.into(),
        forwarding_type: Some(kind),
        activate_forward: to.is_some(),
        forward_dn: to,
        ..Default::default()
    }
    .into()
}

pub fn get_forwarding(device: impl Into<DeviceId>) -> Message {
    GetForwarding {
        device: device.into(),
        extensions: Vec::new(),
    }
    .into()
}

pub fn set_do_not_disturb(device: impl Into<DeviceId>, on: bool) -> Message {
    SetDoNotDisturb {
        device: device.into(),
        do_not_disturb_on: on,
        extensions: Vec::new(),
    }
    .into()
}

pub fn get_do_not_disturb(device: impl Into<DeviceId>) -> Message {
    GetDoNotDisturb {
        device: device.into(),
        extensions: Vec::new(),
    }
    .into()
}

/// Ask for an agent state at a device; `agent_id` is needed to log on.
pub fn set_agent_state(
    device: impl Into<DeviceId>,
    state: ReqAgentState,
    agent_id: Option<&str>,
) -> Message {
    SetAgentState {
        device: device.into(),
        requested_agent_state: state,
        agent_id: agent_id.map(str::to_string),
        ..Default::default()
    }
    .into()
}

pub fn get_agent_state(device: impl Into<DeviceId>) -> Message {
    GetAgentState {
        device: device.into(),
        extensions: Vec::new(),
    }
    .into()
}
