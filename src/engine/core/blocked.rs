//! The OXE "timer 384" blocked agent (PROTOCOLS.md section 2): a contact-centre agent whose
//! distant party hung up while the agent's own connection stayed up, with no call cleared.
//! The engine shows the agent `blocked`, confirms it with a snapshot of the agent's device,
//! and, when a grace period is configured, releases the agent's connection itself.
//!
//! Not OXE-specific in shape: any dialect whose PBX leaves an agent's leg up behind a gone
//! caller gets the same treatment.

use super::{ApiEvent, Engine};
use crate::model::{Agent, AgentState, CallId, ConnectionState, DeviceId, PbxCommand};
use std::time::Instant;

/// One blocked agent.
#[derive(Debug, Clone)]
pub(super) struct Blocked {
    pub call: CallId,
    pub since: Instant,
    /// The agent's state before it was blocked, restored once it is free.
    pub before: AgentState,
    /// The PBX confirmed, by snapshot, that the agent's leg is still up.
    pub confirmed: bool,
    /// When the gateway releases the leg (grace period configured), until it has.
    pub release_at: Option<Instant>,
}

impl Engine {
    /// The agent device left alone with its leg up in `call_id`, if any.
    fn lone_agent(&self, call_id: &CallId) -> Option<DeviceId> {
        let call = self.calls.get(call_id)?;
        let [only] = call.connections.as_slice() else {
            return None;
        };
        let agent = self.agents.get(&only.device)?;
        let up = matches!(
            only.state,
            ConnectionState::Connected | ConnectionState::Fail
        );
        (up && !matches!(agent.state, AgentState::LoggedOff | AgentState::Blocked))
            .then(|| only.device.clone())
    }

    /// After a party left `call_id`: an agent whose own leg stays up alone is a suspect; it is
    /// blocked if that still holds when the settle time is over (with timer 384 = 0 the PBX
    /// clears the agent's leg right after the caller's, and nothing is shown).
    pub(super) fn detect_blocked(&mut self, call_id: &CallId, now: Instant) {
        if let Some(device) = self.lone_agent(call_id)
            && !self.blocked.contains_key(&device)
        {
            self.suspects
                .insert(device, (call_id.clone(), now + self.cfg.blocked_settle));
        }
    }

    /// Suspects whose settle time is over and who are still alone in their call are blocked.
    fn block_due_suspects(&mut self, now: Instant) {
        let due: Vec<(DeviceId, CallId)> = self
            .suspects
            .iter()
            .filter(|(_, (_, t))| *t <= now)
            .map(|(d, (c, _))| (d.clone(), c.clone()))
            .collect();
        for (device, call_id) in due {
            self.suspects.remove(&device);
            if self.lone_agent(&call_id).as_ref() != Some(&device) {
                continue;
            }
            let Some(call) = self.calls.get(&call_id) else {
                continue;
            };
            let link = call.link.clone();
            let (agent_id, before) = match self.agents.get(&device) {
                Some(a) => (a.id.clone(), a.state),
                None => continue,
            };
            tracing::warn!(%link, %device, call = %call_id, "agent {agent_id} blocked: the distant party hung up but the agent's set stays busy");
            if self.hinted.insert(device.clone()) {
                tracing::warn!(%link, %device, "hint: set OXE system timer 384 to 0 (system/timers) so the PBX frees CCD agents when the caller hangs up");
            }
            self.counters.agents_blocked += 1;
            let release_at = self.cfg.blocked_release_after.map(|g| now + g);
            self.blocked.insert(
                device.clone(),
                Blocked {
                    call: call_id.clone(),
                    since: now,
                    before,
                    confirmed: false,
                    release_at,
                },
            );
            let reason =
                "distant party hung up; agent's set still busy (OXE timer 384)".to_string();
            self.set_agent_state(&device, AgentState::Blocked, Some(reason), "agent.blocked");
            // confirm with the PBX's own view of the device
            self.send(link, "snapshot", PbxCommand::Snapshot { device }, None, now);
        }
    }

    /// Blocked agents whose call ended, who left it, or who got company again are free.
    pub(super) fn free_blocked(&mut self, now: Instant) {
        let stale: Vec<DeviceId> = self
            .suspects
            .iter()
            .filter(|(d, (c, _))| self.lone_agent(c).as_ref() != Some(*d))
            .map(|(d, _)| d.clone())
            .collect();
        for d in stale {
            self.suspects.remove(&d);
        }
        if self.blocked.is_empty() {
            return;
        }
        let freed: Vec<DeviceId> = self
            .blocked
            .iter()
            .filter(|(dev, b)| match self.calls.get(&b.call) {
                None => true,
                Some(c) => c.connection(dev).is_none() || c.connections.len() > 1,
            })
            .map(|(d, _)| d.clone())
            .collect();
        for dev in freed {
            if let Some(b) = self.blocked.remove(&dev) {
                let secs = now.saturating_duration_since(b.since).as_secs();
                tracing::info!(%dev, call = %b.call, "agent free again after {secs} s blocked");
                // after-call work is what a CCD agent goes to once the call ends; the PBX's
                // own agent events correct this if it thinks otherwise
                let next = if b.before == AgentState::Busy {
                    AgentState::WorkingAfterCall
                } else {
                    b.before
                };
                self.set_agent_state(&dev, next, None, "agent.updated");
            }
        }
    }

    /// A snapshot of a blocked agent's device arrived: it confirms the block when the call is
    /// still there (a vanished call has already freed the agent through the resync).
    pub(super) fn confirm_blocked(&mut self, device: &DeviceId) {
        if let Some(b) = self.blocked.get_mut(device)
            && !b.confirmed
            && self
                .calls
                .get(&b.call)
                .is_some_and(|c| c.connection(device).is_some())
        {
            b.confirmed = true;
            tracing::info!(%device, call = %b.call, "blocked agent confirmed by snapshot");
        }
    }

    /// Runs the blocked-agent timers: suspects to block, blocked agents to release.
    pub(super) fn blocked_timers(&mut self, now: Instant) {
        self.block_due_suspects(now);
        self.release_due_blocked(now);
    }

    /// Releases the legs of blocked agents whose grace period is over.
    fn release_due_blocked(&mut self, now: Instant) {
        let due: Vec<(DeviceId, CallId)> = self
            .blocked
            .iter()
            .filter(|(_, b)| b.release_at.is_some_and(|t| t <= now))
            .map(|(d, b)| (d.clone(), b.call.clone()))
            .collect();
        for (dev, call_id) in due {
            let Some(call) = self.calls.get(&call_id) else {
                continue;
            };
            let call_ref = crate::model::CallRef::new(&call.link, &call.pbx_call_id);
            let link = call.link.clone();
            let Some(b) = self.blocked.get_mut(&dev) else {
                continue;
            };
            b.release_at = None;
            let secs = now.saturating_duration_since(b.since).as_secs();
            tracing::warn!(%link, %dev, call = %call_id, "releasing blocked agent after {secs} s: clearing its connection (set OXE timer 384 to 0 to avoid this)");
            self.counters.agents_blocked_released += 1;
            let reason = format!("released by ctigw after {secs} s blocked");
            self.set_agent_state(&dev, AgentState::Blocked, Some(reason), "agent.released");
            self.send(
                link,
                "release blocked agent",
                PbxCommand::Hangup {
                    device: dev,
                    call: call_ref,
                },
                None,
                now,
            );
        }
    }

    pub(super) fn next_blocked_deadline(&self) -> Option<Instant> {
        let release = self.blocked.values().filter_map(|b| b.release_at);
        release.chain(self.suspects.values().map(|(_, t)| *t)).min()
    }

    fn set_agent_state(
        &mut self,
        device: &DeviceId,
        state: AgentState,
        reason: Option<String>,
        event: &'static str,
    ) {
        let Some(a) = self.agents.get_mut(device) else {
            return;
        };
        a.state = state;
        a.reason = reason;
        let agent: Agent = a.clone();
        self.emit(ApiEvent::Agent { event, agent }, vec![device.clone()]);
    }

    /// The PBX reports `state` for an agent the gateway shows blocked. The agent stays shown
    /// `blocked` while its set is held by the gone caller's call, whatever the PBX's agent
    /// state (the state is kept to go back to once the set is free), so that `/v1/agents`,
    /// `/healthz` and `/metrics` agree; logging off ends the block. True when handled.
    pub(super) fn agent_state_while_blocked(
        &mut self,
        device: &DeviceId,
        state: AgentState,
    ) -> bool {
        if state == AgentState::LoggedOff {
            self.suspects.remove(device);
            if let Some(b) = self.blocked.remove(device) {
                tracing::info!(%device, call = %b.call, "blocked agent logged off");
            }
            return false;
        }
        match self.blocked.get_mut(device) {
            Some(b) => {
                tracing::debug!(%device, call = %b.call, ?state, "agent state kept for when the blocked set is free");
                b.before = state;
                true
            }
            None => false,
        }
    }

    /// Agents currently blocked (for `/metrics`).
    pub fn blocked_agents(&self) -> usize {
        self.blocked.len()
    }
}
