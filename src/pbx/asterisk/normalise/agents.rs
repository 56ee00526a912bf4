//! Agents: queue membership, pause and in-call state of each queue member interface, turned
//! into agent states for the device it stands for.

use super::Mapper;
use crate::model::{AgentState, DeviceId, PbxEvent};
use ctigw_codecs::ami::Message;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct AgentInfo {
    pub(super) device: Option<DeviceId>,
    pub(super) queues: BTreeSet<String>,
    pub(super) paused: bool,
    pub(super) reason: Option<String>,
    pub(super) in_call: bool,
    pub(super) last: Option<AgentState>,
}

/// The pause reason `setAgentState workingAfterCall` sets (`commands.rs`), read back as that
/// state: `wrapup`, or `wrapup:<reason>` when the command gave one.
pub(super) fn is_wrapup(reason: &str) -> bool {
    let r = reason.trim();
    r.eq_ignore_ascii_case(WRAPUP)
        || r.get(..WRAPUP.len() + 1)
            .is_some_and(|p| p.eq_ignore_ascii_case(&format!("{WRAPUP}:")))
}

/// The pause reason of wrap-up.
pub(crate) const WRAPUP: &str = "wrapup";

impl Mapper {
    pub(super) fn queue_member(&mut self, name: &str, m: &Message, out: &mut Vec<PbxEvent>) {
        let Some(iface) = m.get("Interface").or_else(|| m.get("Location")) else {
            return;
        };
        let iface = iface.to_string();
        let a = self.agents.entry(iface.clone()).or_default();
        let queue = m.get("Queue").map(str::to_string);
        if name == "QueueMemberRemoved" {
            if let Some(q) = &queue {
                a.queues.remove(q);
            } else {
                a.queues.clear();
            }
        } else if let Some(q) = queue {
            a.queues.insert(q);
        }
        if let Some(p) = m.get("Paused") {
            a.paused = p.trim() == "1" || p.trim().eq_ignore_ascii_case("true");
            a.reason = m
                .get("PausedReason")
                .or_else(|| m.get("Reason"))
                .map(str::trim)
                .filter(|r| !r.is_empty() && a.paused)
                .map(str::to_string);
        }
        if let Some(ic) = m.get("InCall") {
            a.in_call = ic.trim() == "1";
        }
        self.agent_changed(&iface, out);
    }

    pub(super) fn agent_changed(&mut self, iface: &str, out: &mut Vec<PbxEvent>) {
        let device = self.map.device_for_interface(iface);
        let Some(a) = self.agents.get_mut(iface) else {
            return;
        };
        let Some(device) = device.or_else(|| a.device.clone()) else {
            tracing::debug!(interface = %iface, "queue member is not a configured device");
            return;
        };
        a.device = Some(device.clone());
        let state = if a.queues.is_empty() {
            AgentState::LoggedOff
        } else if a.paused && a.reason.as_deref().is_some_and(is_wrapup) {
            AgentState::WorkingAfterCall
        } else if a.paused {
            AgentState::NotReady
        } else if a.in_call {
            AgentState::Busy
        } else {
            AgentState::Ready
        };
        if a.last == Some(state)
            && !matches!(state, AgentState::NotReady | AgentState::WorkingAfterCall)
        {
            return;
        }
        a.last = Some(state);
        let reason = match state {
            AgentState::NotReady => a.reason.clone(),
            // `wrapup:<reason>`: the reason the command gave
            AgentState::WorkingAfterCall => a
                .reason
                .as_deref()
                .and_then(|r| r.split_once(':'))
                .map(|(_, r)| r.to_string())
                .filter(|r| !r.is_empty()),
            _ => None,
        };
        if self.map.learning && self.announced_devices.insert(device.clone()) {
            out.push(PbxEvent::Monitor {
                device: device.clone(),
                result: Ok(()),
            });
        }
        out.push(PbxEvent::Agent {
            device,
            agent_id: iface.to_string(),
            state,
            reason,
        });
    }

    /// How many queues the agent on `device` is a member of, when it is known as an agent.
    pub fn agent_queue_count(&self, device: &DeviceId) -> Option<usize> {
        self.agents
            .values()
            .find(|a| a.device.as_ref() == Some(device))
            .map(|a| a.queues.len())
    }

    /// The queue member interface of a device, when it is an agent.
    pub fn interface_of(&self, device: &DeviceId) -> Option<String> {
        self.agents
            .iter()
            .find(|(_, a)| a.device.as_ref() == Some(device))
            .map(|(i, _)| i.clone())
    }
}
