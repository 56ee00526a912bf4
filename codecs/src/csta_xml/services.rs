//! ECMA-323 services the gateway requests (monitoring, snapshot, call control, forwarding,
//! do-not-disturb, agent state), their positive responses, and the negative response
//! `CSTAErrorCode` with its named cause.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use serde::Serialize;

use super::device::DeviceId;
use super::error::MessageError;
use super::types::{
    AgentState, AutoOriginate, ConnectionId, ForwardingType, LocalConnectionState, MonitorType,
    ReqAgentState,
};
use super::xml::{El, Opaque, Writer, XmlValue, xml_enum, xml_struct};

// ---- Monitoring -------------------------------------------------------------------------

xml_struct! {
    /// What MonitorStart watches: a device (the usual case) or a call.
    pub struct MonitorObject {
        device_object: Option<DeviceId> = "deviceObject",
        call_object: Option<ConnectionId> = "callObject",
    }
}

xml_struct! {
    /// Start monitoring a device; the filter, when any, is kept in `extensions`.
    pub struct MonitorStart {
        monitor_object: MonitorObject = "monitorObject",
        monitor_type: Option<MonitorType> = "monitorType",
    }
}

xml_struct! {
    /// The monitor is running: events carry this `monitorCrossRefID`.
    pub struct MonitorStartResponse {
        monitor_cross_ref_id: String = "monitorCrossRefID",
    }
}

xml_struct! {
    pub struct MonitorStop {
        monitor_cross_ref_id: String = "monitorCrossRefID",
    }
}

xml_struct! {
    pub struct MonitorStopResponse {}
}

// ---- Snapshot ---------------------------------------------------------------------------

xml_struct! {
    /// The calls at a device.
    pub struct SnapshotDevice {
        snapshot_object: DeviceId = "snapshotObject",
    }
}

xml_struct! {
    /// `compoundCallState`: the states of the call's connections.
    pub struct CompoundCallState {
        states: Vec<LocalConnectionState> = "localConnectionState",
    }
}

xml_struct! {
    /// ECMA-323 CallState as snapshots report it.
    pub struct LocalCallState {
        compound_call_state: Option<CompoundCallState> = "compoundCallState",
        simple_call_state: Option<String> = "simpleCallState",
    }
}

xml_struct! {
    /// One call at the device: its connection and the connection's state.
    pub struct SnapshotDeviceResponseInfo {
        connection_identifier: ConnectionId = "connectionIdentifier",
        local_call_state: Option<LocalCallState> = "localCallState",
    }
}

impl SnapshotDeviceResponseInfo {
    /// The device's connection state (the first `localConnectionState`).
    pub fn state(&self) -> Option<LocalConnectionState> {
        self.local_call_state
            .as_ref()?
            .compound_call_state
            .as_ref()?
            .states
            .first()
            .copied()
    }
}

xml_struct! {
    pub struct SnapshotDeviceData {
        items: Vec<SnapshotDeviceResponseInfo> = "snapshotDeviceResponseInfo",
    }
}

xml_struct! {
    /// Either the data itself or a cross reference to snapshot events that will follow.
    pub struct CrossRefIdOrSnapshotData {
        service_cross_ref_id: Option<String> = "serviceCrossRefID",
        snapshot_data: Option<SnapshotDeviceData> = "snapshotData",
    }
}

xml_struct! {
    pub struct SnapshotDeviceResponse {
        cross_ref_id_or_snapshot_data: Option<CrossRefIdOrSnapshotData> = "crossRefIDorSnapshotData",
    }
}

impl SnapshotDeviceResponse {
    /// The calls at the device (empty when the answer was a cross reference).
    pub fn calls(&self) -> &[SnapshotDeviceResponseInfo] {
        self.cross_ref_id_or_snapshot_data
            .as_ref()
            .and_then(|c| c.snapshot_data.as_ref())
            .map_or(&[], |d| d.items.as_slice())
    }
}

// ---- Call control -----------------------------------------------------------------------

xml_struct! {
    /// Dial from `callingDevice` to `calledDirectoryNumber`.
    pub struct MakeCall {
        calling_device: DeviceId = "callingDevice",
        called_directory_number: DeviceId = "calledDirectoryNumber",
        account_code: Option<String> = "accountCode",
        auto_originate: Option<AutoOriginate> = "autoOriginate",
    }
}

xml_struct! {
    /// The calling device's new connection.
    pub struct MakeCallResponse {
        calling_device: ConnectionId = "callingDevice",
    }
}

xml_struct! {
    pub struct AnswerCall {
        call_to_be_answered: ConnectionId = "callToBeAnswered",
    }
}

xml_struct! {
    pub struct ClearConnection {
        connection_to_be_cleared: ConnectionId = "connectionToBeCleared",
    }
}

xml_struct! {
    pub struct ClearCall {
        call_to_be_cleared: ConnectionId = "callToBeCleared",
    }
}

xml_struct! {
    pub struct HoldCall {
        call_to_be_held: ConnectionId = "callToBeHeld",
    }
}

xml_struct! {
    pub struct RetrieveCall {
        call_to_be_retrieved: ConnectionId = "callToBeRetrieved",
    }
}

xml_struct! {
    /// Hold `existingCall` and call `consultedDevice`.
    pub struct ConsultationCall {
        existing_call: ConnectionId = "existingCall",
        consulted_device: DeviceId = "consultedDevice",
    }
}

xml_struct! {
    pub struct ConsultationCallResponse {
        initiated_call: ConnectionId = "initiatedCall",
    }
}

xml_struct! {
    pub struct TransferCall {
        held_call: ConnectionId = "heldCall",
        active_call: ConnectionId = "activeCall",
    }
}

xml_struct! {
    pub struct TransferCallResponse {
        transferred_call: Option<ConnectionId> = "transferredCall",
    }
}

xml_struct! {
    pub struct ConferenceCall {
        held_call: ConnectionId = "heldCall",
        active_call: ConnectionId = "activeCall",
    }
}

xml_struct! {
    pub struct ConferenceCallResponse {
        conference_call: Option<ConnectionId> = "conferenceCall",
    }
}

xml_struct! {
    pub struct AlternateCall {
        held_call: ConnectionId = "heldCall",
        active_call: ConnectionId = "activeCall",
    }
}

xml_struct! {
    /// Send a ringing (or queued) call elsewhere.
    pub struct DeflectCall {
        call_to_be_diverted: ConnectionId = "callToBeDiverted",
        new_destination: DeviceId = "newDestination",
    }
}

xml_struct! {
    pub struct SingleStepTransferCall {
        active_call: ConnectionId = "activeCall",
        transferred_to: DeviceId = "transferredTo",
    }
}

xml_struct! {
    pub struct SingleStepTransferCallResponse {
        transferred_call: Option<ConnectionId> = "transferredCall",
    }
}

xml_struct! {
    /// Send DTMF digits on a connection.
    pub struct GenerateDigits {
        connection_to_send_digits: ConnectionId = "connectionToSendDigits",
        characters_to_send: String = "charactersToSend",
    }
}

// ---- Features ---------------------------------------------------------------------------

xml_struct! {
    pub struct SetForwarding {
        device: DeviceId = "device",
        forwarding_type: Option<ForwardingType> = "forwardingType",
        activate_forward: bool = "activateForward",
        forward_dn: Option<DeviceId> = "forwardDN",
        ring_count: Option<u32> = "ringCount",
    }
}

xml_struct! {
    pub struct GetForwarding {
        device: DeviceId = "device",
    }
}

xml_struct! {
    pub struct ForwardListItem {
        forwarding_type: ForwardingType = "forwardingType",
        forward_status: bool = "forwardStatus",
        forward_dn: Option<DeviceId> = "forwardDN",
    }
}

xml_struct! {
    pub struct ForwardingList {
        items: Vec<ForwardListItem> = "forwardListItem",
    }
}

xml_struct! {
    pub struct GetForwardingResponse {
        forwarding_list: Option<ForwardingList> = "forwardingList",
    }
}

xml_struct! {
    pub struct SetDoNotDisturb {
        device: DeviceId = "device",
        do_not_disturb_on: bool = "doNotDisturbOn",
    }
}

xml_struct! {
    pub struct GetDoNotDisturb {
        device: DeviceId = "device",
    }
}

xml_struct! {
    pub struct GetDoNotDisturbResponse {
        do_not_disturb_on: bool = "doNotDisturbOn",
    }
}

xml_struct! {
    pub struct SetAgentState {
        device: DeviceId = "device",
        requested_agent_state: ReqAgentState = "requestedAgentState",
        agent_id: Option<String> = "agentID",
        password: Option<String> = "password",
        group: Option<DeviceId> = "group",
    }
}

xml_struct! {
    pub struct GetAgentState {
        device: DeviceId = "device",
    }
}

xml_struct! {
    pub struct AgentInfoItem {
        acd_group: Option<DeviceId> = "acdGroup",
        agent_state: Option<AgentState> = "agentState",
    }
}

xml_struct! {
    pub struct AgentInfoList {
        items: Vec<AgentInfoItem> = "agentInfoItem",
    }
}

xml_struct! {
    pub struct AgentStateEntry {
        agent_id: Option<String> = "agentID",
        logged_on_state: Option<bool> = "loggedOnState",
        agent_info: Option<AgentInfoList> = "agentInfo",
    }
}

xml_struct! {
    pub struct AgentStateList {
        entries: Vec<AgentStateEntry> = "agentStateEntry",
    }
}

xml_struct! {
    /// The agents at the device; older senders give a single `agentState` directly.
    pub struct GetAgentStateResponse {
        agent_state: Option<AgentState> = "agentState",
        agent_state_list: Option<AgentStateList> = "agentStateList",
    }
}

macro_rules! empty_responses {
    ($($name:ident),* $(,)?) => {
        $(
            xml_struct! {
                /// Positive response without content.
                pub struct $name {}
            }
        )*
    };
}

empty_responses!(
    AnswerCallResponse,
    ClearConnectionResponse,
    ClearCallResponse,
    HoldCallResponse,
    RetrieveCallResponse,
    AlternateCallResponse,
    DeflectCallResponse,
    GenerateDigitsResponse,
    SetForwardingResponse,
    SetDoNotDisturbResponse,
    SetAgentStateResponse,
);

// ---- Negative response ------------------------------------------------------------------

xml_enum! {
    /// The class of a CSTA error: the element inside `CSTAErrorCode`.
    pub enum ErrorCategory {
        Operation = "operation",
        Security = "security",
        StateIncompatibility = "stateIncompatibility",
        SystemResourceAvailability = "systemResourceAvailability",
        SubscribedResourceAvailability = "subscribedResourceAvailability",
        PerformanceManagement = "performanceManagement",
        PrivateData = "privateData",
        Unspecified = "unspecified",
    }
}

/// Negative response to any service: `<CSTAErrorCode><operation>invalidCallingDevice</operation>`.
/// `value` is the ECMA-323 name within the category (`generic`, `invalidCallingDevice`,
/// `noActiveCall`, `serviceBusy`, `objectMonitorLimitExceeded` ...), kept as received.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct CstaErrorCode {
    /// The error category (`operation`, `security`, `stateIncompatibility` ...).
    pub category: ErrorCategory,
    /// The ECMA-323 name within the category.
    pub value: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// Elements inside the error we do not interpret, kept as received.
    pub extensions: Vec<Opaque>,
}

impl CstaErrorCode {
    /// An error code of `category` named `value`.
    pub fn new(category: ErrorCategory, value: impl Into<String>) -> Self {
        CstaErrorCode {
            category,
            value: value.into(),
            extensions: Vec::new(),
        }
    }
}

impl std::fmt::Display for CstaErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.category, self.value)
    }
}

impl XmlValue for CstaErrorCode {
    fn decode(el: El<'_>) -> Result<Self, MessageError> {
        let mut found = None;
        let mut extensions = Vec::new();
        for c in el.children() {
            if found.is_none() && c.is_ours() {
                if let Some(cat) = ErrorCategory::from_name(c.name()) {
                    found = Some((cat, c.text().to_string()));
                    continue;
                }
            }
            extensions.push(c.opaque());
        }
        let (category, value) =
            found.ok_or_else(|| el.missing("operation|security|stateIncompatibility|..."))?;
        Ok(CstaErrorCode {
            category,
            value,
            extensions,
        })
    }
    fn encode(&self, name: &str, w: &mut Writer<'_>) {
        w.open(name);
        w.leaf(self.category.as_str(), &self.value);
        for x in &self.extensions {
            w.raw(&x.raw);
        }
        w.close(name);
    }
}
