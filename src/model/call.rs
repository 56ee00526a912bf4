//! Calls, their connections (one per party) and the parties' numbers.

use super::ids::{CallId, DeviceId, LinkId};
use serde::{Deserialize, Serialize};

/// CSTA local connection state of one party's leg of a call (ECMA-269 / ECMA-218 numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionState {
    Null,
    Initiated,
    Alerting,
    Connected,
    Held,
    Queued,
    Fail,
}

impl ConnectionState {
    pub const ALL: [ConnectionState; 7] = [
        ConnectionState::Null,
        ConnectionState::Initiated,
        ConnectionState::Alerting,
        ConnectionState::Connected,
        ConnectionState::Held,
        ConnectionState::Queued,
        ConnectionState::Fail,
    ];

    /// The CSTA LocalConnectionState number (null 0 ... fail 6).
    pub fn csta_value(self) -> u8 {
        self as u8
    }

    pub fn from_csta_value(v: i64) -> Option<Self> {
        usize::try_from(v)
            .ok()
            .and_then(|i| Self::ALL.get(i).copied())
    }
}

/// Which way a call goes, seen from the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From outside the site to a device of ours.
    Inbound,
    /// From a device of ours to outside.
    Outbound,
    /// Between two devices of the site.
    Internal,
}

/// A party's number as the PBX gave it, and what the dialling plan could derive from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Party {
    /// The number exactly as received from the PBX (`00789616004`, `24103`).
    pub number: String,
    /// E.164 form (`+33789616004`) when the dialling plan allows; `None` for extensions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e164: Option<String>,
    /// Display name when the PBX sends one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// True when the number is a device of this site (an extension).
    pub internal: bool,
}

/// A normalised cause, named after CSTA EventCause where one applies (`newCall`,
/// `normalClearing`, `busy`, `noAnswer`, `transfer`, ...). Adapters map their own causes.
pub type Cause = String;

/// One party's leg of a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// `<callId>/<device>`: stable for as long as the party is in the call.
    pub id: String,
    pub device: DeviceId,
    pub state: ConnectionState,
    /// True when the device is one the gateway monitors (its users act on this leg).
    pub monitored: bool,
    /// True for the party that placed the call.
    pub initiator: bool,
    /// True while an answer request for this leg is on its way to the PBX.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub answering: bool,
}

/// A call: the parties and their connections, as one object however many monitored devices
/// see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Call {
    pub id: CallId,
    pub link: LinkId,
    /// The PBX's current reference for the call (changes on re-keying; informative only).
    pub pbx_call_id: String,
    pub direction: Direction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calling: Option<Party>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub called: Option<Party>,
    pub connections: Vec<Connection>,
    /// Unix time in milliseconds when the gateway (or the PBX's event time) first saw the call.
    pub started_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<u64>,
    /// True once three or more parties have been connected together.
    pub conference: bool,
    /// The cause of the last change.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<Cause>,
}

impl Call {
    pub fn connection(&self, device: &DeviceId) -> Option<&Connection> {
        self.connections.iter().find(|c| &c.device == device)
    }

    pub fn connection_mut(&mut self, device: &DeviceId) -> Option<&mut Connection> {
        self.connections.iter_mut().find(|c| &c.device == device)
    }

    /// The monitored devices that take part in this call.
    pub fn monitored_devices(&self) -> impl Iterator<Item = &DeviceId> {
        self.connections
            .iter()
            .filter(|c| c.monitored)
            .map(|c| &c.device)
    }

    /// The party at the other end, seen from `device`: the first other connection.
    pub fn remote_of(&self, device: &DeviceId) -> Option<&Connection> {
        self.connections.iter().find(|c| &c.device != device)
    }
}
