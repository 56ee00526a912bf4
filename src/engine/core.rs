//! The engine's state machine, without I/O: applies adapter events to calls, devices, agents
//! and links, validates and routes commands, runs deadlines, and numbers every change it
//! emits. The async driver in `engine::mod` feeds it and delivers what it produces.

use crate::model::{
    Agent, AgentState, Call, CallEvent, CallEventKind, CallId, CallRef, Command, CommandError,
    CommandOutcome, Connection, ConnectionState, ConnectionUpdate, Device, DeviceId, DialPlan,
    Direction, ErrorCode, Link, LinkId, LinkState, LinkStatus, Party, PbxCommand, PbxEvent,
    Presence, SnapshotCall, rainbow_status,
};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

mod blocked;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A change the engine emits, before numbering.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ApiEvent {
    /// `call.<kind>`: the whole call after the change.
    Call {
        event: &'static str,
        call: Call,
    },
    /// `call.cleared`: the call has ended; its connections are shown `null`.
    CallCleared {
        event: &'static str,
        call: Call,
    },
    Device {
        event: &'static str,
        device: Device,
    },
    Agent {
        event: &'static str,
        agent: Agent,
    },
    Link {
        event: &'static str,
        link: Link,
    },
}

impl ApiEvent {
    pub fn name(&self) -> &'static str {
        match self {
            ApiEvent::Call { event, .. }
            | ApiEvent::CallCleared { event, .. }
            | ApiEvent::Device { event, .. }
            | ApiEvent::Agent { event, .. }
            | ApiEvent::Link { event, .. } => event,
        }
    }
}

/// A numbered event with the devices it concerns (empty: every client).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sequenced {
    pub seq: u64,
    #[serde(skip)]
    pub devices: Vec<DeviceId>,
    #[serde(flatten)]
    pub event: ApiEvent,
}

/// The whole state at one `seq`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    pub seq: u64,
    pub links: Vec<Link>,
    pub devices: Vec<Device>,
    pub calls: Vec<Call>,
    pub agents: Vec<Agent>,
}

impl Snapshot {
    /// What a client following all devices holds after applying `ev` (the API contract; used
    /// by tests and by the Rainbow bridge side to mirror state).
    pub fn apply(&mut self, ev: &Sequenced) {
        self.seq = ev.seq;
        match &ev.event {
            ApiEvent::Call { call, .. } => match self.calls.iter_mut().find(|c| c.id == call.id) {
                Some(c) => *c = call.clone(),
                None => self.calls.push(call.clone()),
            },
            ApiEvent::CallCleared { call, .. } => self.calls.retain(|c| c.id != call.id),
            ApiEvent::Device { device, .. } => {
                match self.devices.iter_mut().find(|d| d.id == device.id) {
                    Some(d) => *d = device.clone(),
                    None => self.devices.push(device.clone()),
                }
            }
            ApiEvent::Agent { agent, .. } => {
                match self.agents.iter_mut().find(|a| a.device == agent.device) {
                    Some(a) => *a = agent.clone(),
                    None => self.agents.push(agent.clone()),
                }
            }
            ApiEvent::Link { link, .. } => match self.links.iter_mut().find(|l| l.id == link.id) {
                Some(l) => *l = link.clone(),
                None => self.links.push(link.clone()),
            },
        }
    }

    /// Sorted copy, for comparing two snapshots regardless of order.
    pub fn normalised(&self) -> Snapshot {
        let mut s = self.clone();
        s.calls.sort_by(|a, b| a.id.cmp(&b.id));
        s.devices.sort_by(|a, b| a.id.cmp(&b.id));
        s.agents.sort_by(|a, b| a.device.cmp(&b.device));
        s.links.sort_by(|a, b| a.id.cmp(&b.id));
        s
    }
}

/// What a successful command returns to the client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommandReply {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call_id: Option<CallId>,
}

/// What the driver must do after feeding the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Deliver to clients.
    Event(Arc<Sequenced>),
    /// Send a request to a link's adapter.
    Request {
        link: LinkId,
        token: u64,
        command: PbxCommand,
    },
    /// A command has ended (exactly once per token).
    Done {
        token: u64,
        result: Result<CommandReply, CommandError>,
    },
}

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

struct Pending {
    op: &'static str,
    link: LinkId,
    deadline: Instant,
    /// The connection marked `answering` by this command.
    answering: Option<(CallId, DeviceId)>,
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

    /// Declares a link and the devices it owns (from the configuration). Devices start
    /// unmonitored until the adapter reports its monitors.
    pub fn add_link(&mut self, id: LinkId, dialect: &str, devices: &[(DeviceId, Option<String>)]) {
        let link = Link {
            id: id.clone(),
            dialect: dialect.to_string(),
            status: LinkStatus::Connecting,
            since: unix_ms(),
            reason: None,
        };
        self.links.insert(id.clone(), link.clone());
        self.emit(
            ApiEvent::Link {
                event: "link.updated",
                link,
            },
            Vec::new(),
        );
        for (dev, name) in devices {
            let d = Device::new(dev.clone(), id.clone(), name.clone());
            self.devices.insert(dev.clone(), d.clone());
            self.emit(
                ApiEvent::Device {
                    event: "device.updated",
                    device: d,
                },
                vec![dev.clone()],
            );
        }
    }

    /// Declares a link whose devices are not configured but learnt: every device the
    /// adapter reports a monitor for joins the link (`ctigw replay` of a capture).
    pub fn learn_devices(&mut self, id: &LinkId, dialect: &str) {
        self.add_link(id.clone(), dialect, &[]);
        self.learning.push(id.clone());
        self.on_link(id, LinkState::Up);
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

    fn emit(&mut self, event: ApiEvent, devices: Vec<DeviceId>) {
        self.seq += 1;
        self.counters.api_events += 1;
        self.out.push(Output::Event(Arc::new(Sequenced {
            seq: self.seq,
            devices,
            event,
        })));
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
                let agent = Agent {
                    id: agent_id,
                    device: device.clone(),
                    state,
                    reason,
                    groups: Vec::new(),
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

    fn on_link(&mut self, link: &LinkId, state: LinkState) {
        let Some(l) = self.links.get_mut(link) else {
            tracing::warn!(%link, "state change for an unknown link");
            return;
        };
        let (status, reason) = match state {
            LinkState::Connecting => (LinkStatus::Connecting, None),
            LinkState::Up => (LinkStatus::Up, None),
            LinkState::Down { reason } => (LinkStatus::Down, Some(reason)),
        };
        if l.status == status && l.reason == reason {
            return;
        }
        l.status = status;
        l.reason = reason;
        l.since = unix_ms();
        let snapshot = l.clone();
        self.emit(
            ApiEvent::Link {
                event: "link.updated",
                link: snapshot,
            },
            Vec::new(),
        );
        if status != LinkStatus::Up {
            // monitors die with the link; calls stay until the resync tells their fate
            let devs: Vec<DeviceId> = self
                .devices
                .values()
                .filter(|d| &d.link == link)
                .map(|d| d.id.clone())
                .collect();
            for dev in devs {
                if let Some(d) = self.devices.get_mut(&dev)
                    && d.monitored
                {
                    d.monitored = false;
                    self.refresh_device(&dev, true);
                }
            }
            // commands waiting on this link will not be answered
            let lost: Vec<u64> = self
                .pending
                .iter()
                .filter(|(_, p)| &p.link == link)
                .map(|(t, _)| *t)
                .collect();
            for token in lost {
                self.finish(
                    token,
                    Err(CommandError::new(
                        ErrorCode::LinkDown,
                        format!("link {link} went down"),
                    )),
                );
            }
        }
    }

    fn resolve_or_create(&mut self, link: &LinkId, pbx: &str, time: Option<u64>) -> CallId {
        let r = CallRef::new(link, pbx);
        if let Some(id) = self.refs.get(&r) {
            return id.clone();
        }
        let id = match self.reserved.remove(&r) {
            Some((id, _)) => id,
            None => self.new_call_id(),
        };
        self.refs.insert(r, id.clone());
        self.calls.insert(
            id.clone(),
            Call {
                id: id.clone(),
                link: link.clone(),
                pbx_call_id: pbx.to_string(),
                direction: Direction::Internal,
                calling: None,
                called: None,
                connections: Vec::new(),
                started_at: time.unwrap_or_else(unix_ms),
                answered_at: None,
                ended_at: None,
                conference: false,
                cause: None,
            },
        );
        id
    }

    fn on_call_event(&mut self, link: &LinkId, ev: CallEvent, now: Instant) {
        let party_left = ev
            .connections
            .iter()
            .any(|u| u.state == ConnectionState::Null);
        let call = ev.call.clone();
        self.apply_call_event(link, ev, now);
        if party_left && let Some(id) = self.refs.get(&CallRef::new(link, &call)).cloned() {
            self.detect_blocked(&id, now);
        }
    }

    fn apply_call_event(&mut self, link: &LinkId, ev: CallEvent, now: Instant) {
        let _ = now;
        let id = self.resolve_or_create(link, &ev.call, ev.time);
        let mut before: Vec<DeviceId> = self
            .calls
            .get(&id)
            .map(|c| c.monitored_devices().cloned().collect())
            .unwrap_or_default();

        // calls this one absorbs (transfer, conference): their parties move here
        for m in &ev.merged {
            let r = CallRef::new(link, m);
            match self.refs.get(&r) {
                Some(other) if other != &id => {}
                _ => continue,
            }
            let Some(other) = self.refs.remove(&r) else {
                continue;
            };
            if let Some(mut old) = self.calls.remove(&other) {
                // the devices that saw the old call must see it end (a filtered client too)
                let devs: Vec<DeviceId> = old.monitored_devices().cloned().collect();
                before.extend(devs.iter().cloned());
                if let Some(call) = self.calls.get_mut(&id) {
                    for conn in &old.connections {
                        if call.connection(&conn.device).is_none() {
                            call.connections.push(Connection {
                                id: format!("{}/{}", id, conn.device),
                                ..conn.clone()
                            });
                        }
                    }
                }
                self.refs.retain(|_, v| v != &other);
                old.ended_at = Some(ev.time.unwrap_or_else(unix_ms));
                old.cause = Some(format!("mergedInto:{id}"));
                for c in &mut old.connections {
                    c.state = ConnectionState::Null;
                }
                self.emit(
                    ApiEvent::CallCleared {
                        event: "call.cleared",
                        call: old,
                    },
                    devs,
                );
            }
        }

        let monitored: Vec<bool> = ev
            .connections
            .iter()
            .map(|u| self.devices.contains_key(&u.device))
            .collect();
        let calling = ev
            .calling
            .as_deref()
            .map(|n| self.party(n, ev.calling_name.clone()));
        let called = ev.called.as_deref().map(|n| self.party(n, None));
        let (devices, plan) = (&self.devices, &self.cfg.dialplan);
        let is_internal = |n: &str| devices.contains_key(&DeviceId::new(n)) || plan.is_extension(n);
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let created = call.connections.is_empty() && before.is_empty();
        if calling.is_some() {
            call.calling = calling;
        }
        if called.is_some() {
            call.called = called;
        }
        let originating = matches!(
            ev.kind,
            CallEventKind::Originated | CallEventKind::ServiceInitiated
        );
        for (u, is_monitored) in ev.connections.iter().zip(monitored) {
            apply_update(call, &id, u, is_monitored, originating);
        }
        if let Some(calling) = &call.calling {
            let dev = DeviceId::new(&calling.number);
            for c in &mut call.connections {
                if c.device == dev {
                    c.initiator = true;
                }
            }
        }
        if ev.cause.is_some() {
            call.cause = ev.cause.clone();
        }
        let connected = call
            .connections
            .iter()
            .filter(|c| c.state == ConnectionState::Connected || c.state == ConnectionState::Held)
            .count();
        // answered when the PBX says so, or when a resynchronised or re-keyed call shows two
        // parties talking; a trunk reported connected at network-reached is not an answer
        let settled = matches!(
            ev.kind,
            CallEventKind::Updated
                | CallEventKind::Retrieved
                | CallEventKind::Transferred
                | CallEventKind::Conferenced
        );
        if call.answered_at.is_none()
            && (ev.kind == CallEventKind::Established || settled && connected >= 2)
        {
            call.answered_at = Some(ev.time.unwrap_or_else(unix_ms));
        }
        if ev.kind == CallEventKind::Conferenced || settled && connected >= 3 {
            call.conference = true;
        }
        call.direction = direction_of(call, is_internal);
        refresh_rainbow(call);

        let still_seen = call.connections.iter().any(|c| c.monitored);
        if !still_seen && created {
            // an event about a call none of our devices is in: nothing to show
            self.calls.remove(&id);
            self.refs.retain(|_, v| v != &id);
            return;
        }
        if !still_seen {
            // the last monitored leg has just gone: the devices it was on see the end
            self.clear_call(
                &id,
                ev.cause.or_else(|| Some("normalClearing".into())),
                ev.time,
                &before,
            );
            before.sort();
            before.dedup();
            for d in before {
                self.refresh_device(&d, false);
            }
            return;
        }
        let snapshot = call.clone();
        let mut devs: Vec<DeviceId> = snapshot.monitored_devices().cloned().collect();
        devs.extend(before);
        devs.sort();
        devs.dedup();
        self.emit(
            ApiEvent::Call {
                event: call_event_name(ev.kind),
                call: snapshot,
            },
            devs.clone(),
        );
        for d in devs {
            self.refresh_device(&d, false);
        }
    }

    /// Ends a call. `seen_by` adds devices that were in the call before the change that ended
    /// it (their legs are already gone from it) so their clients are told.
    fn clear_call(
        &mut self,
        id: &CallId,
        cause: Option<String>,
        time: Option<u64>,
        seen_by: &[DeviceId],
    ) {
        let Some(mut call) = self.calls.remove(id) else {
            return;
        };
        self.refs.retain(|_, v| v != id);
        call.ended_at = Some(time.unwrap_or_else(unix_ms));
        if cause.is_some() {
            call.cause = cause;
        }
        for c in &mut call.connections {
            c.state = ConnectionState::Null;
            c.answering = false;
        }
        refresh_rainbow(&mut call);
        let mut devs: Vec<DeviceId> = call.monitored_devices().cloned().collect();
        devs.extend(seen_by.iter().cloned());
        devs.sort();
        devs.dedup();
        self.emit(
            ApiEvent::CallCleared {
                event: "call.cleared",
                call,
            },
            devs.clone(),
        );
        for d in devs {
            self.refresh_device(&d, false);
        }
    }

    fn on_snapshot(
        &mut self,
        link: &LinkId,
        device: &DeviceId,
        listed: Vec<SnapshotCall>,
        now: Instant,
    ) {
        // calls the device was in that the PBX no longer lists ended while we were away
        let listed_refs: Vec<CallRef> =
            listed.iter().map(|c| CallRef::new(link, &c.call)).collect();
        let stale: Vec<CallId> = self
            .calls
            .values()
            .filter(|c| &c.link == link && c.connection(device).is_some())
            .filter(|c| !listed_refs.iter().any(|r| self.refs.get(r) == Some(&c.id)))
            .map(|c| c.id.clone())
            .collect();
        for id in stale {
            self.counters.calls_cleared_by_resync += 1;
            tracing::info!(%link, %device, call = %id, "call no longer on the PBX after resynchronisation");
            let mut ev =
                CallEvent::new("", CallEventKind::ConnectionCleared).cause("resynchronised");
            ev.connections.push(ConnectionUpdate {
                device: device.clone(),
                state: ConnectionState::Null,
            });
            if let Some(pbx) = self.calls.get(&id).map(|c| c.pbx_call_id.clone()) {
                ev.call = pbx;
                self.on_call_event(link, ev, now);
            }
        }
        for sc in listed {
            let r = CallRef::new(link, &sc.call);
            let changed = match self.refs.get(&r).and_then(|id| self.calls.get(id)) {
                Some(call) => sc
                    .connections
                    .iter()
                    .any(|u| call.connection(&u.device).map(|c| c.state) != Some(u.state)),
                None => true,
            };
            if changed {
                let mut ev = CallEvent::new(&sc.call, CallEventKind::Updated);
                ev.connections = sc.connections;
                self.on_call_event(link, ev, now);
            }
        }
    }

    /// Recomputes a device's presence; emits `device.updated` when it changed or `force`.
    fn refresh_device(&mut self, dev: &DeviceId, force: bool) {
        let presence = {
            let Some(d) = self.devices.get(dev) else {
                return;
            };
            if !d.monitored {
                Presence::Unknown
            } else if !d.online {
                Presence::Offline
            } else {
                let mut p = Presence::Idle;
                for c in self.calls.values() {
                    if let Some(conn) = c.connection(dev) {
                        match conn.state {
                            ConnectionState::Alerting | ConnectionState::Queued
                                if p == Presence::Idle =>
                            {
                                p = Presence::Ringing
                            }
                            ConnectionState::Initiated
                            | ConnectionState::Connected
                            | ConnectionState::Held
                            | ConnectionState::Fail => p = Presence::Busy,
                            _ => {}
                        }
                    }
                }
                p
            }
        };
        let Some(d) = self.devices.get_mut(dev) else {
            return;
        };
        if d.presence != presence || force {
            d.presence = presence;
            let snapshot = d.clone();
            self.emit(
                ApiEvent::Device {
                    event: "device.updated",
                    device: snapshot,
                },
                vec![dev.clone()],
            );
        }
    }

    // ----- commands --------------------------------------------------------------------------

    fn live_ref(
        &self,
        call_id: &CallId,
        device: &DeviceId,
    ) -> Result<(CallRef, ConnectionState), CommandError> {
        let call = self.calls.get(call_id).ok_or_else(|| {
            CommandError::new(
                ErrorCode::UnknownCall,
                format!("no call {call_id} in progress"),
            )
        })?;
        let conn = call.connection(device).ok_or_else(|| {
            CommandError::new(
                ErrorCode::UnknownCall,
                format!("device {device} is not in call {call_id}"),
            )
        })?;
        Ok((CallRef::new(&call.link, &call.pbx_call_id), conn.state))
    }

    fn dial(&self, to: &str) -> Result<String, CommandError> {
        self.cfg
            .dialplan
            .to_dial(to)
            .map_err(|e| CommandError::new(ErrorCode::BadRequest, e.to_string()))
    }

    fn expect(
        state: ConnectionState,
        allowed: &[ConnectionState],
        what: &str,
        call: &CallId,
    ) -> Result<(), CommandError> {
        if allowed.contains(&state) {
            Ok(())
        } else {
            let names: Vec<String> = allowed
                .iter()
                .map(|s| format!("{s:?}").to_lowercase())
                .collect();
            Err(CommandError::new(
                ErrorCode::InvalidState,
                format!(
                    "cannot {what} call {call}: the connection is {}, it must be {}",
                    format!("{state:?}").to_lowercase(),
                    names.join(" or ")
                ),
            ))
        }
    }

    /// Validates a client command, resolves it for its adapter and queues the request. Returns
    /// the token whose [`Output::Done`] will carry the result, or the error at once.
    pub fn command(&mut self, cmd: Command, now: Instant) -> Result<u64, CommandError> {
        let r = self.validate_and_send(cmd, now);
        if r.is_err() {
            self.counters.commands_failed += 1;
        }
        r
    }

    fn validate_and_send(&mut self, cmd: Command, now: Instant) -> Result<u64, CommandError> {
        use ConnectionState as S;
        let device = cmd.device().clone();
        let link = self
            .devices
            .get(&device)
            .map(|d| d.link.clone())
            .ok_or_else(|| {
                CommandError::new(
                    ErrorCode::UnknownDevice,
                    format!("device {device} is not configured on any link"),
                )
            })?;
        match self.links.get(&link).map(|l| l.status) {
            Some(LinkStatus::Up) => {}
            _ => {
                return Err(CommandError::new(
                    ErrorCode::LinkDown,
                    format!("link {link}, which owns device {device}, is not up"),
                ));
            }
        }
        let mut answering = None;
        let op = cmd.op();
        let pbx = match cmd {
            Command::MakeCall { device, to } => PbxCommand::MakeCall {
                device,
                to: self.dial(&to)?,
            },
            Command::Answer { device, call_id } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Alerting, S::Queued], "answer", &call_id)?;
                answering = Some((call_id, device.clone()));
                PbxCommand::Answer { device, call }
            }
            Command::Hangup { device, call_id } => {
                let (call, _) = self.live_ref(&call_id, &device)?;
                PbxCommand::Hangup { device, call }
            }
            Command::Hold { device, call_id } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Connected], "hold", &call_id)?;
                PbxCommand::Hold { device, call }
            }
            Command::Retrieve { device, call_id } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Held], "retrieve", &call_id)?;
                PbxCommand::Retrieve { device, call }
            }
            Command::Consult {
                device,
                call_id,
                to,
            } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Connected, S::Held], "consult from", &call_id)?;
                PbxCommand::Consult {
                    device,
                    call,
                    to: self.dial(&to)?,
                }
            }
            Command::Transfer {
                device,
                held_call_id,
                active_call_id,
            }
            | Command::Conference {
                device,
                held_call_id,
                active_call_id,
            }
            | Command::Alternate {
                device,
                held_call_id,
                active_call_id,
            } => {
                let (held, hs) = self.live_ref(&held_call_id, &device)?;
                let (active, as_) = self.live_ref(&active_call_id, &device)?;
                Self::expect(hs, &[S::Held], op, &held_call_id)?;
                Self::expect(
                    as_,
                    &[S::Connected, S::Initiated, S::Alerting],
                    op,
                    &active_call_id,
                )?;
                match op {
                    "transfer" => PbxCommand::Transfer {
                        device,
                        held,
                        active,
                    },
                    "conference" => PbxCommand::Conference {
                        device,
                        held,
                        active,
                    },
                    _ => PbxCommand::Alternate {
                        device,
                        held,
                        active,
                    },
                }
            }
            Command::Deflect {
                device,
                call_id,
                to,
            } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Alerting, S::Queued], "deflect", &call_id)?;
                PbxCommand::Deflect {
                    device,
                    call,
                    to: self.dial(&to)?,
                }
            }
            Command::SingleStepTransfer {
                device,
                call_id,
                to,
            } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Connected, S::Held], "transfer", &call_id)?;
                PbxCommand::SingleStepTransfer {
                    device,
                    call,
                    to: self.dial(&to)?,
                }
            }
            Command::SendDigits {
                device,
                call_id,
                digits,
            } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Connected], "send digits on", &call_id)?;
                if digits.is_empty()
                    || !digits
                        .chars()
                        .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D'))
                {
                    return Err(CommandError::new(
                        ErrorCode::BadRequest,
                        format!("digits \"{digits}\" must be 0-9, *, # or A-D"),
                    ));
                }
                PbxCommand::SendDigits {
                    device,
                    call,
                    digits,
                }
            }
            Command::SetForward { device, kind, to } => PbxCommand::SetForward {
                device,
                kind,
                to: self.dial(&to)?,
            },
            Command::CancelForward { device, kind } => PbxCommand::CancelForward { device, kind },
            Command::SetDnd { device, enabled } => PbxCommand::SetDnd { device, enabled },
            Command::SetAgentState {
                device,
                state,
                agent_id,
                reason,
            } => {
                if matches!(state, AgentState::Busy | AgentState::Blocked) {
                    return Err(CommandError::new(
                        ErrorCode::BadRequest,
                        "busy and blocked are reported states, they cannot be set",
                    ));
                }
                let agent_id = agent_id.or_else(|| self.agents.get(&device).map(|a| a.id.clone()));
                PbxCommand::SetAgentState {
                    device,
                    agent_id,
                    state,
                    reason,
                }
            }
        };
        Ok(self.send(link, op, pbx, answering, now))
    }

    /// Queues a request of the engine's own (snapshot, blocked-agent release).
    fn send(
        &mut self,
        link: LinkId,
        op: &'static str,
        command: PbxCommand,
        answering: Option<(CallId, DeviceId)>,
        now: Instant,
    ) -> u64 {
        self.next_token += 1;
        let token = self.next_token;
        if let Some((call_id, device)) = &answering {
            self.set_answering(call_id, device, true);
        }
        self.pending.insert(
            token,
            Pending {
                op,
                link: link.clone(),
                deadline: now + self.cfg.command_timeout,
                answering,
            },
        );
        self.out.push(Output::Request {
            link,
            token,
            command,
        });
        token
    }

    /// The adapter could not take the request at all (queue full, link gone).
    pub fn request_not_sent(&mut self, token: u64, err: CommandError) {
        self.finish(token, Err(err));
    }

    fn on_command_result(
        &mut self,
        link: &LinkId,
        token: u64,
        result: Result<CommandOutcome, CommandError>,
        now: Instant,
    ) {
        if !self.pending.contains_key(&token) {
            tracing::debug!(%link, token, "result for a command that already ended (timed out?)");
            return;
        }
        let result = result.map(|o| {
            let call_id =
                o.call
                    .map(|pbx| CallRef::new(link, &pbx))
                    .map(|r| match self.refs.get(&r) {
                        Some(id) => id.clone(),
                        None => {
                            let id = self.new_call_id();
                            self.reserved
                                .insert(r, (id.clone(), now + Duration::from_secs(60)));
                            id
                        }
                    });
            CommandReply { call_id }
        });
        self.finish(token, result);
    }

    fn finish(&mut self, token: u64, result: Result<CommandReply, CommandError>) {
        let Some(p) = self.pending.remove(&token) else {
            return;
        };
        match &result {
            Ok(_) => self.counters.commands_ok += 1,
            Err(e) => {
                self.counters.commands_failed += 1;
                tracing::info!(link = %p.link, token, op = p.op, code = ?e.code, "command failed: {}", e.message);
            }
        }
        if result.is_err()
            && let Some((call_id, device)) = &p.answering
        {
            // the answer failed: the leg rings again
            self.set_answering(call_id, device, false);
        }
        self.out.push(Output::Done { token, result });
    }

    /// Marks a ringing leg as being answered (or not any more) and tells its clients.
    fn set_answering(&mut self, call_id: &CallId, device: &DeviceId, on: bool) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let Some(conn) = call.connection_mut(device) else {
            return;
        };
        if conn.answering == on {
            return;
        }
        conn.answering = on;
        refresh_rainbow(call);
        let snapshot = call.clone();
        let devs = snapshot.monitored_devices().cloned().collect();
        self.emit(
            ApiEvent::Call {
                event: "call.updated",
                call: snapshot,
            },
            devs,
        );
    }

    /// Checks the engine's internal consistency; returns what is wrong. Used by the property
    /// tests after every step, and cheap enough for a debug endpoint.
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
        }
        Ok(())
    }

    // ----- timers ----------------------------------------------------------------------------

    /// The next instant [`Engine::tick`] has work to do, if any.
    pub fn next_deadline(&self) -> Option<Instant> {
        let p = self.pending.values().map(|p| p.deadline);
        let r = self.reserved.values().map(|(_, t)| *t);
        p.chain(r).chain(self.next_blocked_deadline()).min()
    }

    /// Runs what is due at `now`: command time-outs, forgotten reservations.
    pub fn tick(&mut self, now: Instant) {
        let expired: Vec<(u64, &'static str, LinkId)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(t, p)| (*t, p.op, p.link.clone()))
            .collect();
        for (token, op, link) in expired {
            self.counters.commands_timed_out += 1;
            let secs = self.cfg.command_timeout.as_secs_f32();
            self.finish(
                token,
                Err(CommandError::new(
                    ErrorCode::Timeout,
                    format!("{op}: link {link} gave no answer within {secs} s"),
                )),
            );
        }
        self.reserved.retain(|_, (_, t)| *t > now);
        self.blocked_timers(now);
    }
}

fn call_event_name(kind: CallEventKind) -> &'static str {
    match kind {
        CallEventKind::ServiceInitiated => "call.serviceInitiated",
        CallEventKind::Originated => "call.originated",
        CallEventKind::NetworkReached => "call.networkReached",
        CallEventKind::Delivered => "call.delivered",
        CallEventKind::Queued => "call.queued",
        CallEventKind::Established => "call.established",
        CallEventKind::Held => "call.held",
        CallEventKind::Retrieved => "call.retrieved",
        CallEventKind::Diverted => "call.diverted",
        CallEventKind::Failed => "call.failed",
        CallEventKind::ConnectionCleared => "call.connectionCleared",
        CallEventKind::Transferred => "call.transferred",
        CallEventKind::Conferenced => "call.conferenced",
        CallEventKind::Updated => "call.updated",
    }
}

fn apply_update(
    call: &mut Call,
    id: &CallId,
    u: &ConnectionUpdate,
    monitored: bool,
    originating: bool,
) {
    if u.state == ConnectionState::Null {
        call.connections.retain(|c| c.device != u.device);
        return;
    }
    match call.connection_mut(&u.device) {
        Some(c) => {
            if c.state != u.state {
                c.answering = false;
            }
            c.state = u.state;
            c.monitored = monitored;
        }
        None => call.connections.push(Connection {
            id: format!("{}/{}", id, u.device),
            device: u.device.clone(),
            state: u.state,
            monitored,
            initiator: originating
                && (u.state == ConnectionState::Initiated || call.connections.is_empty()),
            rainbow_status: None,
            answering: false,
        }),
    }
}

/// Inbound when the caller is outside the site; outbound when one of ours calls outside;
/// internal otherwise. Without a calling number, the initiating leg decides.
fn direction_of(call: &Call, is_internal: impl Fn(&str) -> bool) -> Direction {
    let external_leg = call
        .connections
        .iter()
        .any(|c| !c.monitored && !is_internal(c.device.as_str()));
    match (&call.calling, &call.called) {
        (Some(a), _) if !a.internal => Direction::Inbound,
        (Some(_), Some(b)) if !b.internal => Direction::Outbound,
        (Some(_), _) if external_leg => Direction::Outbound,
        (Some(_), _) => Direction::Internal,
        (None, _) => match call.connections.iter().find(|c| c.initiator) {
            Some(c) if !c.monitored && !is_internal(c.device.as_str()) => Direction::Inbound,
            Some(_) if external_leg => Direction::Outbound,
            Some(_) => Direction::Internal,
            None if external_leg => Direction::Inbound,
            None => Direction::Internal,
        },
    }
}

fn refresh_rainbow(call: &mut Call) {
    let statuses: Vec<Option<_>> = call
        .connections
        .iter()
        .map(|c| {
            c.monitored.then(|| {
                let others: Vec<&Connection> = call
                    .connections
                    .iter()
                    .filter(|o| o.device != c.device)
                    .collect();
                rainbow_status(c, &others)
            })
        })
        .collect();
    for (c, s) in call.connections.iter_mut().zip(statuses) {
        c.rainbow_status = s;
    }
}
