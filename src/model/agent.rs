//! Contact-centre agents and their states, including the gateway's own `blocked` state.

use super::ids::DeviceId;
use serde::{Deserialize, Serialize};

/// An agent's state. `Blocked` is the gateway's diagnosis (not a PBX state): the agent's set
/// stays busy after the distant party hung up (OXE timer 384, PROTOCOLS.md section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AgentState {
    LoggedOff,
    Ready,
    NotReady,
    WorkingAfterCall,
    Busy,
    Blocked,
}

/// An agent as seen on one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    /// The agent's id on the PBX (CCD agent number, Asterisk queue member interface, ...).
    pub id: String,
    /// The device the agent is logged on to.
    pub device: DeviceId,
    pub state: AgentState,
    /// Not-ready reason code, when the PBX gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// ACD groups / queues the agent belongs to, when known.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub groups: Vec<String>,
}
