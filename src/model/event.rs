//! What adapters tell the engine: link state, monitor results, call events with the new
//! state of each connection they touch, agent and device changes, snapshots, command results.

use super::agent::AgentState;
use super::call::{Cause, ConnectionState};
use super::command::{CommandError, CommandOutcome};
use super::device::Forward;
use super::ids::DeviceId;
use serde::Serialize;

/// The kind of a call event, after the CSTA call-control events; the API names events
/// `call.<kind>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum CallEventKind {
    ServiceInitiated,
    Originated,
    NetworkReached,
    Delivered,
    Queued,
    Established,
    Held,
    Retrieved,
    Diverted,
    Failed,
    ConnectionCleared,
    Transferred,
    Conferenced,
    /// A party's details changed (number, name) without a state change.
    Updated,
}

impl CallEventKind {
    pub fn name(self) -> &'static str {
        match self {
            CallEventKind::ServiceInitiated => "serviceInitiated",
            CallEventKind::Originated => "originated",
            CallEventKind::NetworkReached => "networkReached",
            CallEventKind::Delivered => "delivered",
            CallEventKind::Queued => "queued",
            CallEventKind::Established => "established",
            CallEventKind::Held => "held",
            CallEventKind::Retrieved => "retrieved",
            CallEventKind::Diverted => "diverted",
            CallEventKind::Failed => "failed",
            CallEventKind::ConnectionCleared => "connectionCleared",
            CallEventKind::Transferred => "transferred",
            CallEventKind::Conferenced => "conferenced",
            CallEventKind::Updated => "updated",
        }
    }
}

/// The new state of one party's connection. `Null` removes the party from the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionUpdate {
    pub device: DeviceId,
    pub state: ConnectionState,
}

/// A change to one call, as the adapter understood it from its protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallEvent {
    /// The PBX's reference of the call (see [`super::CallRef`]; the link is implied).
    pub call: String,
    pub kind: CallEventKind,
    /// Connections whose state this event sets, in the order the PBX reported them.
    pub connections: Vec<ConnectionUpdate>,
    /// The calling party's number as received, when the event carries it.
    pub calling: Option<String>,
    pub calling_name: Option<String>,
    /// The called party's number as received, when the event carries it.
    pub called: Option<String>,
    pub cause: Option<Cause>,
    /// Calls whose parties this call absorbs (transfer, conference): their connections move
    /// into this call and the old references end. The gateway keeps the surviving call's id.
    pub merged: Vec<String>,
    /// PBX event time (Unix ms), when the PBX stamps its events.
    pub time: Option<u64>,
}

impl CallEvent {
    pub fn new(call: &str, kind: CallEventKind) -> Self {
        CallEvent {
            call: call.to_string(),
            kind,
            connections: Vec::new(),
            calling: None,
            calling_name: None,
            called: None,
            cause: None,
            merged: Vec::new(),
            time: None,
        }
    }

    pub fn with(mut self, device: &str, state: ConnectionState) -> Self {
        self.connections.push(ConnectionUpdate {
            device: DeviceId::new(device),
            state,
        });
        self
    }

    pub fn parties(mut self, calling: Option<&str>, called: Option<&str>) -> Self {
        self.calling = calling.map(str::to_string);
        self.called = called.map(str::to_string);
        self
    }

    pub fn cause(mut self, cause: &str) -> Self {
        self.cause = Some(cause.to_string());
        self
    }
}

/// A call in progress on a device, as the PBX reports it when asked (snapshot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotCall {
    pub call: String,
    /// The connections the PBX lists for the call (at least the device's own).
    pub connections: Vec<ConnectionUpdate>,
}

/// The state of a PBX link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum LinkState {
    Connecting,
    Up,
    Down { reason: String },
}

/// Everything an adapter tells the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PbxEvent {
    Link(LinkState),
    /// A monitor on the device started (Ok) or was refused (the error names the PBX cause).
    Monitor {
        device: DeviceId,
        result: Result<(), CommandError>,
    },
    Call(CallEvent),
    /// The PBX ended the whole call.
    CallCleared {
        call: String,
        cause: Option<Cause>,
        time: Option<u64>,
    },
    /// The PBX's truth for one device: calls on the device not listed here ended while we
    /// could not see them (the engine clears them with cause `resynchronised`).
    Snapshot {
        device: DeviceId,
        calls: Vec<SnapshotCall>,
    },
    Agent {
        device: DeviceId,
        agent_id: String,
        state: AgentState,
        reason: Option<String>,
    },
    /// The ACD groups (queues) the agent on `device` belongs to, when the PBX lists them
    /// apart from its state (Asterisk's queue membership); kept across `Agent` updates.
    AgentGroups {
        device: DeviceId,
        groups: Vec<String>,
    },
    Forwarding {
        device: DeviceId,
        forwards: Vec<Forward>,
    },
    Dnd {
        device: DeviceId,
        enabled: bool,
    },
    /// Whether the device's phone is reachable (registered) as the PBX sees it.
    DeviceOnline {
        device: DeviceId,
        online: bool,
    },
    /// The end of a command the engine sent with this token: exactly one per command.
    CommandResult {
        token: u64,
        result: Result<CommandOutcome, CommandError>,
    },
}
