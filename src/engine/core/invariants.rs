//! The state invariants that must hold after every event, on every dialect (issue 9):
//! [`Engine::check_invariants`] on the engine's state, [`EventChecker`] on the events it
//! emits. The property tests and the replay of every fixture and real capture run both
//! after each step; they are cheap enough for a debug endpoint.
//!
//! - a cleared call shows every leg it had when it ended (the user's own included), each
//!   `null`, and no monitored leg whose Rainbow status is anything but `releasing`;
//! - a leg's Rainbow status agrees with its state and initiator flag;
//! - at most one initiator per call, and the calling party's leg is it when it is in the call
//!   (none at all for a call only seen ringing at a device of ours);
//! - `answeredAt` appears only once a called party (a leg other than the initiator's) is
//!   connected;
//! - the figures `/healthz`, `/metrics`, `/v1/agents` and `/v1/calls` show agree: as many
//!   agents shown `blocked` as the engine counts blocked, as many calls listed as active;
//! - every cause is a documented name ([`super::causes`]).

use super::causes;
use super::rainbow::{RainbowStatus, leg_status};
use super::{ApiEvent, Engine, Sequenced};
use crate::model::{AgentState, Call, CallId, ConnectionState, DeviceId};
use std::collections::HashSet;

impl Engine {
    /// Checks the engine's state; returns what is wrong.
    pub fn check_invariants(&self) -> Result<(), String> {
        for (r, id) in &self.refs {
            let Some(call) = self.calls.get(id) else {
                return Err(format!(
                    "reference {r} points to call {id}, which does not exist"
                ));
            };
            if call.link != r.link {
                return Err(format!(
                    "reference {r} points to call {id} of link {}",
                    call.link
                ));
            }
        }
        for (id, call) in &self.calls {
            if !self.refs.values().any(|v| v == id) {
                return Err(format!("call {id} has no PBX reference"));
            }
            if !call.connections.iter().any(|c| c.monitored) {
                return Err(format!("call {id} is kept with no monitored connection"));
            }
            for (i, c) in call.connections.iter().enumerate() {
                if c.state == ConnectionState::Null {
                    return Err(format!(
                        "call {id} keeps a null connection for {}",
                        c.device
                    ));
                }
                if c.id != format!("{id}/{}", c.device) {
                    return Err(format!("connection {} is in call {id}", c.id));
                }
                if call.connections[..i].iter().any(|o| o.device == c.device) {
                    return Err(format!(
                        "device {} has two connections in call {id}",
                        c.device
                    ));
                }
                if c.monitored != self.devices.contains_key(&c.device) {
                    return Err(format!("connection {} monitored flag is wrong", c.id));
                }
            }
            check_call(call)?;
        }
        self.check_counts()
    }

    /// The API's views agree: `/healthz` and `/metrics` count `blocked_agents()` and
    /// `active_calls()`, `/v1/agents` and `/v1/calls` list the snapshot.
    fn check_counts(&self) -> Result<(), String> {
        let snap = self.snapshot();
        if snap.calls.len() != self.active_calls() {
            return Err(format!(
                "{} calls listed, {} counted active",
                snap.calls.len(),
                self.active_calls()
            ));
        }
        let shown: HashSet<&DeviceId> = snap
            .agents
            .iter()
            .filter(|a| a.state == AgentState::Blocked)
            .map(|a| &a.device)
            .collect();
        let counted: HashSet<&DeviceId> = self.blocked.keys().collect();
        if shown != counted {
            return Err(format!(
                "agents shown blocked {shown:?}, counted blocked {counted:?} ({} for /metrics)",
                self.blocked_agents()
            ));
        }
        Ok(())
    }
}

/// What must hold of any call the API sends: legs, initiator, Rainbow status, cause.
pub fn check_call(call: &Call) -> Result<(), String> {
    let id = &call.id;
    let initiators: Vec<&DeviceId> = call
        .connections
        .iter()
        .filter(|c| c.initiator)
        .map(|c| &c.device)
        .collect();
    if initiators.len() > 1 {
        return Err(format!(
            "call {id} has {} initiators: {initiators:?}",
            initiators.len()
        ));
    }
    if let Some(calling) = &call.calling
        && let Some(c) = call
            .connections
            .iter()
            .find(|c| c.device.as_str() == calling.number)
        && !c.initiator
    {
        return Err(format!(
            "call {id}: the calling party {} is in the call but not its initiator",
            calling.number
        ));
    }
    for c in &call.connections {
        let status = leg_status(call, &c.device);
        if !c.monitored {
            if status.is_some() {
                return Err(format!("unmonitored leg {} has a Rainbow status", c.id));
            }
            continue;
        }
        let Some(status) = status else {
            return Err(format!("monitored leg {} has no Rainbow status", c.id));
        };
        // no far leg that has answered, rings, waits or failed (`initiated` far legs aside)
        let alone = call
            .connections
            .iter()
            .all(|o| o.device == c.device || o.state == ConnectionState::Initiated);
        use ConnectionState as S;
        use RainbowStatus as R;
        let agrees = match (c.state, status) {
            (S::Null, R::Releasing) | (S::Initiated, R::Dialing) => true,
            (S::Alerting, R::IncomingCall) => !c.answering,
            (S::Alerting, R::Answering) => c.answering,
            (S::Queued, R::QueuedIncoming) | (S::Held, R::Held) | (S::Fail, R::Error) => true,
            (S::Connected, R::Connecting) => c.initiator && alone,
            (S::Connected, R::Active) => !(c.initiator && alone),
            (S::Connected, R::RingingOutgoing | R::QueuedOutgoing | R::PutOnHold | R::Error) => {
                !alone
            }
            _ => false,
        };
        if !agrees {
            return Err(format!(
                "leg {} is {:?} (initiator {}) but its Rainbow status is {}",
                c.id,
                c.state,
                c.initiator,
                status.name()
            ));
        }
    }
    if let Some(cause) = &call.cause
        && !causes::is_documented(cause)
    {
        // sent as `other` with `pbxCause`: allowed, but only in that form
        let (sent, raw) = causes::api_cause(cause);
        if sent != "other" || raw != Some(cause.as_str()) {
            return Err(format!("call {id}: cause {cause} is sent as {sent}"));
        }
    }
    Ok(())
}

/// Checks the events an engine emits, in order: what [`check_call`] says of every call they
/// carry, plus what only the event stream shows (a cleared call's legs, when a call was first
/// answered).
#[derive(Debug, Default)]
pub struct EventChecker {
    answered: HashSet<CallId>,
    /// Also check what only a truthful adapter can keep (see [`EventChecker::for_adapters`]).
    adapters: bool,
}

impl EventChecker {
    pub fn new() -> Self {
        Self::default()
    }

    /// A checker that also holds the adapter to what the engine cannot correct: a leg is
    /// `initiated` (Rainbow `dialing`) only when it is the party placing the call. Random
    /// adapter input (the property tests) breaks this; a real PBX's events must not.
    pub fn for_adapters() -> Self {
        EventChecker {
            adapters: true,
            ..Self::default()
        }
    }

    /// Checks one event; returns what is wrong with it.
    pub fn check(&mut self, ev: &Sequenced) -> Result<(), String> {
        let what = |e: String| format!("{} #{}: {e}", ev.event.name(), ev.seq);
        match &ev.event {
            ApiEvent::Call { call, .. } => {
                check_call(call).map_err(what)?;
                if self.adapters
                    && let Some(c) = call
                        .connections
                        .iter()
                        .find(|c| c.state == ConnectionState::Initiated && !c.initiator)
                {
                    return Err(what(format!(
                        "leg {} is initiated (Rainbow dialing) but is not the call's initiator",
                        c.id
                    )));
                }
                if call
                    .connections
                    .iter()
                    .any(|c| c.state == ConnectionState::Null)
                {
                    return Err(what(format!("call {} shows a null leg", call.id)));
                }
                self.check_answered(call).map_err(what)
            }
            ApiEvent::CallCleared { call, .. } => {
                check_call(call).map_err(what)?;
                if call.ended_at.is_none() {
                    return Err(what(format!("call {} has no endedAt", call.id)));
                }
                if let Some(c) = call
                    .connections
                    .iter()
                    .find(|c| c.state != ConnectionState::Null)
                {
                    return Err(what(format!(
                        "cleared call keeps leg {} {:?}",
                        c.id, c.state
                    )));
                }
                if !call.connections.iter().any(|c| c.monitored) {
                    return Err(what(format!(
                        "cleared call {} shows none of the legs of ours it had",
                        call.id
                    )));
                }
                // the devices told of the end see their own leg in it
                if let Some(d) = ev.devices.iter().find(|d| call.connection(d).is_none()) {
                    return Err(what(format!(
                        "cleared call {} is sent to {d} without {d}'s own leg",
                        call.id
                    )));
                }
                // (its legs are all null now: whether it was answered showed before)
                self.answered.remove(&call.id);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The first event that shows a call answered shows a called party connected.
    fn check_answered(&mut self, call: &Call) -> Result<(), String> {
        if call.answered_at.is_none() || self.answered.contains(&call.id) {
            return Ok(());
        }
        self.answered.insert(call.id.clone());
        let called_up = call.connections.iter().any(|c| {
            !c.initiator && matches!(c.state, ConnectionState::Connected | ConnectionState::Held)
        });
        if called_up {
            Ok(())
        } else {
            Err(format!(
                "call {} is first shown answered with no called party connected",
                call.id
            ))
        }
    }
}
