//! Agents: queue membership, pause and in-call state of each queue member interface, turned
//! into agent states for the device it stands for.

use super::Mapper;
use crate::model::{AgentState, DeviceId, PbxEvent};
use ctigw_codecs::ami::Message;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct AgentInfo {
    pub(super) device: Option<DeviceId>,
    pub(super) queues: BTreeSet<String>,
    pub(super) paused: bool,
    pub(super) reason: Option<String>,
    pub(super) in_call: bool,
    pub(super) last: Option<AgentState>,
    /// The groups the engine was last told (`AgentGroups`).
    pub(super) last_groups: Option<Vec<String>>,
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
            device: device.clone(),
            agent_id: iface.to_string(),
            state,
            reason,
        });
        self.groups_changed(iface, &device, out);
    }

    /// Tells the engine the agent's queues when they changed since it was last told.
    fn groups_changed(&mut self, iface: &str, device: &DeviceId, out: &mut Vec<PbxEvent>) {
        let Some(a) = self.agents.get_mut(iface) else {
            return;
        };
        let groups: Vec<String> = a.queues.iter().cloned().collect();
        if a.last_groups.as_ref() == Some(&groups) {
            return;
        }
        a.last_groups = Some(groups.clone());
        out.push(PbxEvent::AgentGroups {
            device: device.clone(),
            groups,
        });
    }

    /// Takes the items of a `QueueStatus` list (at login and after every reconnect): the
    /// queue members and their state as Asterisk holds them now, static members included.
    /// Members no longer listed are logged off. Returns the agent events that changed.
    pub fn queue_status(&mut self, items: &[Message]) -> Vec<PbxEvent> {
        let mut listed: BTreeMap<String, AgentInfo> = BTreeMap::new();
        for m in items.iter().filter(|m| m.event() == Some("QueueMember")) {
            *self.stats.used.entry("QueueMember".into()).or_default() += 1;
            let Some(iface) = m
                .get("Location")
                .or_else(|| m.get("Interface"))
                .map(str::trim)
                .filter(|i| !i.is_empty())
            else {
                continue;
            };
            let a = listed.entry(iface.to_string()).or_default();
            if let Some(q) = m.get("Queue").map(str::trim).filter(|q| !q.is_empty()) {
                a.queues.insert(q.to_string());
            }
            let paused = m
                .get("Paused")
                .is_some_and(|p| p.trim() == "1" || p.trim().eq_ignore_ascii_case("true"));
            a.paused |= paused;
            if paused && a.reason.is_none() {
                a.reason = m
                    .get("PausedReason")
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_string);
            }
            a.in_call |= m.get("InCall").is_some_and(|v| v.trim() == "1");
        }
        let mut out = Vec::new();
        let known: Vec<String> = self.agents.keys().cloned().collect();
        for iface in known {
            if !listed.contains_key(&iface)
                && let Some(a) = self.agents.get_mut(&iface)
            {
                a.queues.clear();
                a.paused = false;
                a.reason = None;
                a.in_call = false;
                self.agent_changed(&iface, &mut out);
            }
        }
        for (iface, now) in listed {
            let a = self.agents.entry(iface.clone()).or_default();
            a.queues = now.queues;
            a.paused = now.paused;
            a.reason = now.reason;
            a.in_call = now.in_call;
            self.agent_changed(&iface, &mut out);
        }
        out
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
