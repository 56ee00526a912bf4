//! The Rainbow call status of a monitored leg, derived from the CSTA states of the call's legs.
//!
//! Keys and names are those of the Rainbow Node SDK's `Call.Status` (PROTOCOLS.md section 6).

use super::call::{Connection, ConnectionState};
use serde::{Deserialize, Serialize};

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
