//! The Rainbow call status of a monitored leg: a CRM-side view of a call, derived from the
//! CSTA states of the call's legs when the engine's output is serialised, so that the
//! PBX-neutral model never names it.
//!
//! Keys and names are those of the Rainbow Node SDK's `Call.Status` (PROTOCOLS.md section 6).
//! [`ApiCall`] is a call as the API sends it: the model's fields in the model's order, with a
//! `rainbowStatus` on every monitored connection.

use crate::model::{Call, CallId, Connection, ConnectionState, DeviceId, Direction, LinkId, Party};
use serde::{Deserialize, Serialize, Serializer};

/// Rainbow's call status, serialised as its string key (`incomingCall`, `active`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RainbowStatus {
    #[serde(rename = "Unknown")]
    Unknown,
    Dialing,
    QueuedIncoming,
    IncomingCall,
    RingingOutgoing,
    Active,
    Held,
    PutOnHold,
    Releasing,
    Answering,
    #[serde(rename = "queuedOutGoing")]
    QueuedOutgoing,
    Error,
    Connecting,
}

impl RainbowStatus {
    pub const ALL: [RainbowStatus; 13] = [
        RainbowStatus::Unknown,
        RainbowStatus::Dialing,
        RainbowStatus::QueuedIncoming,
        RainbowStatus::IncomingCall,
        RainbowStatus::RingingOutgoing,
        RainbowStatus::Active,
        RainbowStatus::Held,
        RainbowStatus::PutOnHold,
        RainbowStatus::Releasing,
        RainbowStatus::Answering,
        RainbowStatus::QueuedOutgoing,
        RainbowStatus::Error,
        RainbowStatus::Connecting,
    ];

    /// The numeric key Rainbow uses (0 Unknown ... 12 connecting).
    pub fn key(self) -> u8 {
        self as u8
    }

    /// The string key Rainbow uses.
    pub fn name(self) -> &'static str {
        match self {
            RainbowStatus::Unknown => "Unknown",
            RainbowStatus::Dialing => "dialing",
            RainbowStatus::QueuedIncoming => "queuedIncoming",
            RainbowStatus::IncomingCall => "incomingCall",
            RainbowStatus::RingingOutgoing => "ringingOutgoing",
            RainbowStatus::Active => "active",
            RainbowStatus::Held => "held",
            RainbowStatus::PutOnHold => "putOnHold",
            RainbowStatus::Releasing => "releasing",
            RainbowStatus::Answering => "answering",
            RainbowStatus::QueuedOutgoing => "queuedOutGoing",
            RainbowStatus::Error => "error",
            RainbowStatus::Connecting => "connecting",
        }
    }
}

/// The Rainbow status of `local` (a monitored device's leg) given the other legs of the call.
///
/// - own leg initiated: `dialing`; alerting: `incomingCall` (`answering` once an answer is
///   on its way); queued: `queuedIncoming`; held by us: `held`; failed: `error`; cleared:
///   `releasing`;
/// - own leg connected, by the far end's state: alerting → `ringingOutgoing`, queued →
///   `queuedOutGoing`, held (we were put on hold) → `putOnHold`, failed → `error`,
///   connected → `active`; no far end reported: `connecting` if we placed the call, `active`
///   if we answered it.
pub fn rainbow_status(local: &Connection, others: &[&Connection]) -> RainbowStatus {
    use ConnectionState as S;
    match local.state {
        S::Null => RainbowStatus::Releasing,
        S::Initiated => RainbowStatus::Dialing,
        S::Alerting if local.answering => RainbowStatus::Answering,
        S::Alerting => RainbowStatus::IncomingCall,
        S::Queued => RainbowStatus::QueuedIncoming,
        S::Held => RainbowStatus::Held,
        S::Fail => RainbowStatus::Error,
        S::Connected => {
            let far = |s: S| others.iter().any(|c| c.state == s);
            if far(S::Connected) {
                RainbowStatus::Active
            } else if far(S::Alerting) {
                RainbowStatus::RingingOutgoing
            } else if far(S::Queued) {
                RainbowStatus::QueuedOutgoing
            } else if far(S::Held) {
                RainbowStatus::PutOnHold
            } else if far(S::Fail) {
                RainbowStatus::Error
            } else if local.initiator {
                RainbowStatus::Connecting
            } else {
                RainbowStatus::Active
            }
        }
    }
}

/// The Rainbow status of `device`'s leg in `call`: `None` when the device has no leg there
/// or is not monitored.
pub fn leg_status(call: &Call, device: &DeviceId) -> Option<RainbowStatus> {
    let local = call.connection(device)?;
    local.monitored.then(|| {
        let others: Vec<&Connection> = call
            .connections
            .iter()
            .filter(|o| o.device != local.device)
            .collect();
        rainbow_status(local, &others)
    })
}

/// A call as the API sends it: the model's call, each monitored leg with its Rainbow status.
#[derive(Debug, Clone, Copy)]
pub struct ApiCall<'a>(pub &'a Call);

/// Calls as the API sends them (a snapshot's `calls`).
#[derive(Debug, Clone, Copy)]
pub struct ApiCalls<'a>(pub &'a [Call]);

/// The wire form of a call: the model's fields, in its order, with the same omissions.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CallOut<'a> {
    id: &'a CallId,
    link: &'a LinkId,
    pbx_call_id: &'a str,
    direction: Direction,
    #[serde(skip_serializing_if = "Option::is_none")]
    calling: &'a Option<Party>,
    #[serde(skip_serializing_if = "Option::is_none")]
    called: &'a Option<Party>,
    connections: Vec<LegOut<'a>>,
    started_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    answered_at: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ended_at: Option<u64>,
    conference: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a str>,
    /// The PBX's own cause when `cause` is `other` (not a documented name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pbx_cause: Option<&'a str>,
}

/// The wire form of a connection: the model's fields with `rainbowStatus` before `answering`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LegOut<'a> {
    id: &'a str,
    device: &'a DeviceId,
    state: ConnectionState,
    monitored: bool,
    initiator: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    rainbow_status: Option<RainbowStatus>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    answering: bool,
}

impl Serialize for ApiCall<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let call = self.0;
        // exhaustive on purpose: a field added to the model must be added here too
        let Call {
            id,
            link,
            pbx_call_id,
            direction,
            calling,
            called,
            connections,
            started_at,
            answered_at,
            ended_at,
            conference,
            cause,
        } = call;
        let connections = connections
            .iter()
            .map(|c| {
                let Connection {
                    id,
                    device,
                    state,
                    monitored,
                    initiator,
                    answering,
                } = c;
                LegOut {
                    id,
                    device,
                    state: *state,
                    monitored: *monitored,
                    initiator: *initiator,
                    rainbow_status: leg_status(call, device),
                    answering: *answering,
                }
            })
            .collect();
        CallOut {
            id,
            link,
            pbx_call_id,
            direction: *direction,
            calling,
            called,
            connections,
            started_at: *started_at,
            answered_at: *answered_at,
            ended_at: *ended_at,
            conference: *conference,
            cause: cause.as_deref().map(|c| super::causes::api_cause(c).0),
            pbx_cause: cause.as_deref().and_then(|c| super::causes::api_cause(c).1),
        }
        .serialize(s)
    }
}

impl Serialize for ApiCalls<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(ApiCall))
    }
}

/// `serialize_with` for a call field of the engine's output.
pub(crate) fn serialize_call<S: Serializer>(call: &Call, s: S) -> Result<S::Ok, S::Error> {
    ApiCall(call).serialize(s)
}

/// `serialize_with` for the calls of a snapshot.
pub(crate) fn serialize_calls<S: Serializer>(calls: &[Call], s: S) -> Result<S::Ok, S::Error> {
    ApiCalls(calls).serialize(s)
}
