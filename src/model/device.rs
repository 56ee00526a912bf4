//! Devices (directory numbers the gateway monitors) with their forwarding and do-not-disturb.

use super::ids::{DeviceId, LinkId};
use serde::{Deserialize, Serialize};

/// Forwarding types, after CSTA ForwardingType.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ForwardKind {
    Immediate,
    Busy,
    NoAnswer,
    BusyOrNoAnswer,
}

/// One active forwarding of a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Forward {
    pub kind: ForwardKind,
    pub destination: String,
}

/// Phone presence of a device, derived by the engine from its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Presence {
    /// Not monitored: nothing is known.
    Unknown,
    Idle,
    Ringing,
    Busy,
    /// The PBX says the phone is not reachable (not registered, unplugged).
    Offline,
}

/// A monitored device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub id: DeviceId,
    pub link: LinkId,
    /// Display name from the configuration, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// True while the PBX is monitoring the device for us.
    pub monitored: bool,
    /// Why the device is not monitored (link down, `overallMonitorLimitExceeded`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor_error: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub forwards: Vec<Forward>,
    pub dnd: bool,
    /// False while the PBX reports the phone unreachable (not registered).
    pub online: bool,
    /// Phone presence derived from the device's calls and reachability.
    pub presence: Presence,
}

impl Device {
    pub fn new(id: DeviceId, link: LinkId, name: Option<String>) -> Self {
        Device {
            id,
            link,
            name,
            monitored: false,
            monitor_error: None,
            forwards: Vec::new(),
            dnd: false,
            online: true,
            presence: Presence::Unknown,
        }
    }
}
