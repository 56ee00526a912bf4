//! The engine's state machine, without I/O: applies adapter events to calls, devices, agents
//! and links, validates and routes commands, runs deadlines, and numbers every change it
//! emits. The async driver in `engine::mod` feeds it and delivers what it produces.

mod blocked;
mod calls;
pub mod causes;
mod commands;
pub mod invariants;
mod links;
mod output;
pub mod rainbow;
mod timers;

pub use output::{ApiEvent, CommandReply, Output, Sequenced, Snapshot};

use crate::model::{
    Agent, Call, CallId, CallRef, Device, DeviceId, DialPlan, Link, LinkId, Party, PbxEvent,
};
use commands::Pending;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

/// Engine settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    pub dialplan: DialPlan,
    /// How long a command may wait for its PBX answer.
    pub command_timeout: Duration,
    /// Prefix of call ids, unique per start (the boot time in seconds, base 36).
    pub call_id_prefix: String,
    /// The first `seq` is this plus one. The daemon starts from its start time (Unix ms ×
    /// 1000) so that a client resuming with a `lastSeq` of an earlier run gets a snapshot,
    /// never a replay of unrelated events.
    pub seq_start: u64,
    /// Release a blocked agent's connection after this long (`None`: never; the default).
    pub blocked_release_after: Option<Duration>,
    /// How long an agent's leg must stay up alone after the caller left before the agent is
    /// shown blocked.
    pub blocked_settle: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            dialplan: DialPlan::default(),
            command_timeout: Duration::from_secs(10),
            call_id_prefix: "c".into(),
            seq_start: 0,
            blocked_release_after: None,
            blocked_settle: Duration::from_secs(2),
        }
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineCounters {
    pub pbx_events: u64,
    pub api_events: u64,
    pub commands_ok: u64,
    pub commands_failed: u64,
    pub commands_timed_out: u64,
    pub calls_cleared_by_resync: u64,
    pub agents_blocked: u64,
    pub agents_blocked_released: u64,
}

/// The only holder of call state.
pub struct Engine {
    cfg: EngineConfig,
    seq: u64,
    next_call: u64,
    next_token: u64,
    links: BTreeMap<LinkId, Link>,
    devices: BTreeMap<DeviceId, Device>,
    calls: BTreeMap<CallId, Call>,
    refs: HashMap<CallRef, CallId>,
    /// Call refs a command result named before any event did, with when to forget them.
    reserved: HashMap<CallRef, (CallId, Instant)>,
    agents: BTreeMap<DeviceId, Agent>,
    pending: HashMap<u64, Pending>,
    /// Agents blocked behind a gone caller, by device.
    blocked: HashMap<DeviceId, blocked::Blocked>,
    /// Agents left alone on their leg, with the call and when to call them blocked.
    suspects: HashMap<DeviceId, (CallId, Instant)>,
    /// Agents already told about timer 384 (the hint is logged once per agent).
    hinted: HashSet<DeviceId>,
    /// Links whose devices are learnt from their monitor events (replay), not configured.
    learning: Vec<LinkId>,
    out: Vec<Output>,
    pub counters: EngineCounters,
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Engine {
    pub fn new(cfg: EngineConfig) -> Self {
        Engine {
            seq: cfg.seq_start,
            cfg,
            next_call: 0,
            next_token: 0,
            links: BTreeMap::new(),
            devices: BTreeMap::new(),
            calls: BTreeMap::new(),
            refs: HashMap::new(),
            reserved: HashMap::new(),
            agents: BTreeMap::new(),
            pending: HashMap::new(),
            learning: Vec::new(),
            blocked: HashMap::new(),
            suspects: HashMap::new(),
            hinted: HashSet::new(),
            out: Vec::new(),
            counters: EngineCounters::default(),
        }
    }

    pub fn seq(&self) -> u64 {
        self.seq
    }

    pub fn drain(&mut self) -> std::vec::Drain<'_, Output> {
        self.out.drain(..)
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            seq: self.seq,
            links: self.links.values().cloned().collect(),
            devices: self.devices.values().cloned().collect(),
            calls: self.calls.values().cloned().collect(),
            agents: self.agents.values().cloned().collect(),
        }
    }

    pub fn link_of(&self, device: &DeviceId) -> Option<&LinkId> {
        self.devices.get(device).map(|d| &d.link)
    }

    pub fn links(&self) -> impl Iterator<Item = &Link> {
        self.links.values()
    }

    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    pub fn pending_commands(&self) -> usize {
        self.pending.len()
    }

    fn new_call_id(&mut self) -> CallId {
        self.next_call += 1;
        CallId::new(&format!("{}-{}", self.cfg.call_id_prefix, self.next_call))
    }

    fn is_internal(&self, number: &str) -> bool {
        self.devices.contains_key(&DeviceId::new(number)) || self.cfg.dialplan.is_extension(number)
    }

    fn party(&self, number: &str, name: Option<String>) -> Party {
        Party {
            number: number.to_string(),
            e164: self.cfg.dialplan.to_e164(number),
            name,
            internal: self.is_internal(number),
        }
    }

    // ----- adapter events -------------------------------------------------------------------

    /// Applies one adapter event.
    pub fn on_pbx_event(&mut self, link: &LinkId, event: PbxEvent, now: Instant) {
        self.counters.pbx_events += 1;
        self.apply_pbx_event(link, event, now);
        self.free_blocked(now);
    }

    fn apply_pbx_event(&mut self, link: &LinkId, event: PbxEvent, now: Instant) {
        match event {
            PbxEvent::Link(state) => self.on_link(link, state),
            PbxEvent::Monitor { device, result } => {
                if !self.devices.contains_key(&device) && self.learning.contains(link) {
                    self.devices.insert(
                        device.clone(),
                        Device::new(device.clone(), link.clone(), None),
                    );
                    // a device learnt after it appeared in a call: its legs are ours now
                    for call in self.calls.values_mut() {
                        if let Some(c) = call.connection_mut(&device) {
                            c.monitored = true;
                        }
                    }
                }
                let Some(d) = self.devices.get_mut(&device) else {
                    tracing::warn!(%link, %device, "monitor result for a device not in the configuration");
                    return;
                };
                match result {
                    Ok(()) => {
                        d.monitored = true;
                        d.monitor_error = None;
                    }
                    Err(e) => {
                        tracing::error!(%link, %device, code = ?e.code, "monitor refused by the PBX: {}", e.message);
                        d.monitored = false;
                        d.monitor_error = Some(e.message);
                    }
                }
                self.refresh_device(&device, true);
            }
            PbxEvent::Call(ev) => self.on_call_event(link, ev, now),
            PbxEvent::CallCleared { call, cause, time } => {
                let r = CallRef::new(link, &call);
                match self.refs.get(&r).cloned() {
                    Some(id) => self.clear_call(
                        &id,
                        cause.or_else(|| Some("normalClearing".into())),
                        time,
                        &[],
                    ),
                    None => {
                        tracing::debug!(%link, pbx_call = %call, "callCleared for a call we do not hold")
                    }
                }
            }
            PbxEvent::Snapshot { device, calls } => {
                self.on_snapshot(link, &device, calls, now);
                self.confirm_blocked(&device);
            }
            PbxEvent::Agent {
                device,
                agent_id,
                state,
                reason,
            } => {
                if self.agent_state_while_blocked(&device, state) {
                    return;
                }
                let groups = self
                    .agents
                    .get(&device)
                    .map(|a| a.groups.clone())
                    .unwrap_or_default();
                let agent = Agent {
                    id: agent_id,
                    device: device.clone(),
                    state,
                    reason,
                    groups,
                };
                if self.agents.get(&device) != Some(&agent) {
                    self.agents.insert(device.clone(), agent.clone());
                    self.emit(
                        ApiEvent::Agent {
                            event: "agent.updated",
                            agent,
                        },
                        vec![device],
                    );
                }
            }
            PbxEvent::AgentGroups { device, groups } => {
                if let Some(a) = self.agents.get_mut(&device)
                    && a.groups != groups
                {
                    a.groups = groups;
                    let agent = a.clone();
                    self.emit(
                        ApiEvent::Agent {
                            event: "agent.updated",
                            agent,
                        },
                        vec![device],
                    );
                }
            }
            PbxEvent::Forwarding { device, forwards } => {
                if let Some(d) = self.devices.get_mut(&device)
                    && d.forwards != forwards
                {
                    d.forwards = forwards;
                    self.refresh_device(&device, true);
                }
            }
            PbxEvent::Dnd { device, enabled } => {
                if let Some(d) = self.devices.get_mut(&device)
                    && d.dnd != enabled
                {
                    d.dnd = enabled;
                    self.refresh_device(&device, true);
                }
            }
            PbxEvent::DeviceOnline { device, online } => {
                if let Some(d) = self.devices.get_mut(&device)
                    && d.online != online
                {
                    d.online = online;
                    if !online {
                        tracing::warn!(%link, %device, "the PBX reports the phone unreachable");
                    }
                    self.refresh_device(&device, true);
                }
            }
            PbxEvent::CommandResult { token, result } => {
                self.on_command_result(link, token, result, now)
            }
        }
    }
}
