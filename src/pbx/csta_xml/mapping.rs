//! The sans-IO heart of the CSTA XML adapters, shared by both transports (uaCSTA over SIP,
//! CSTA XML over TCP): ECMA-323 events → model [`PbxEvent`]s, SnapshotDevice responses →
//! [`PbxEvent::Snapshot`], and the connection identifiers requests need. No socket, no clock.
//!
//! What it knows, and from where:
//! - which device a `monitorCrossRefID` belongs to (MonitorStart responses on a live link; on
//!   a replayed capture, inferred from the first event of each cross reference, see
//!   [`Mapper::inferring`]);
//! - per call (the `callID` text as the PBX wrote it, e.g. `FF000100000000`), the parties and
//!   their states, and the `deviceID` the PBX used for each party's connection (requests must
//!   echo it verbatim: OpenScape writes `N<+4989...>;noa=...`, Cisco `tel:`/`sip:` URIs);
//! - the forwarding list of each device (the PBX reports one change at a time).
//!
//! Device identifiers in any form become the number in them (`tel:+3312345` → `+3312345`,
//! `N<3021061290002>;noa=nk` → `3021061290002`, `sip:24103@cucm` → `24103`); an identifier
//! without a number (`sip:alice@example.com`) stays as written.
//!
//! The monitored device's own state (`localConnectionInfo`) is added to an event that does not
//! already name that device, as in the OXE mapping. Transfers and conferences name their old
//! calls in `merged` and keep the surviving call (the call of the new connections the PBX
//! lists, else the primary old call).

use crate::model::{
    AgentState, CallEvent, CallEventKind, ConnectionState, ConnectionUpdate, DeviceId, DialPlan,
    Forward, ForwardKind, PbxEvent, SnapshotCall,
};
use crate::pbx::csta_calls::{HasParties, Parties, forget_unlisted};
use ctigw_codecs::csta_xml::{
    ConnectionId, ConnectionList, Device, DeviceId as XmlDevice, EventCause, ForwardingType,
    LocalConnectionState, Message, SnapshotDeviceResponse,
};
use std::collections::HashMap;

use ConnectionState as S;

/// Most calls the mapping remembers (least recently touched forgotten first).
const MAX_CALLS: usize = 4096;
/// Most monitors remembered when inferring them from a capture.
const MAX_MONITORS: usize = 100_000;

/// The number an identifier stands for: its dialable number, the user of a SIP URI, or the
/// identifier as written.
pub fn number_of(d: &XmlDevice) -> Option<String> {
    if let Some(n) = d.number() {
        return Some(n.to_string());
    }
    if let Some(u) = d.sip_user().filter(|u| !u.is_empty()) {
        return Some(u.to_string());
    }
    let raw = d.raw().trim();
    (!raw.is_empty()).then(|| raw.to_string())
}

fn dev(d: &Device) -> Option<String> {
    d.device_id().and_then(number_of)
}

fn opt_dev(d: &Option<Device>) -> Option<String> {
    d.as_ref().and_then(dev)
}

fn call_of(c: &ConnectionId) -> Option<String> {
    c.call_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn conn_dev(c: &ConnectionId) -> Option<String> {
    c.device_id.as_ref().and_then(number_of)
}

/// The callID an event is about (for logs).
pub fn event_call(msg: &Message) -> Option<&str> {
    use Message as M;
    let c = match msg {
        M::ServiceInitiatedEvent(e) => &e.initiated_connection,
        M::OriginatedEvent(e) => &e.originated_connection,
        M::NetworkReachedEvent(e) => &e.outbound_connection,
        M::DeliveredEvent(e) => &e.connection,
        M::EstablishedEvent(e) => &e.established_connection,
        M::QueuedEvent(e) => &e.queued_connection,
        M::HeldEvent(e) => &e.held_connection,
        M::RetrievedEvent(e) => &e.retrieved_connection,
        M::ConnectionClearedEvent(e) => &e.dropped_connection,
        M::CallClearedEvent(e) => &e.cleared_call,
        M::FailedEvent(e) => &e.failed_connection,
        M::DivertedEvent(e) => &e.connection,
        M::TransferedEvent(e) => &e.primary_old_call,
        M::ConferencedEvent(e) => &e.primary_old_call,
        _ => return None,
    };
    c.call_id.as_deref()
}

pub fn state_of(s: LocalConnectionState) -> ConnectionState {
    match s {
        LocalConnectionState::Null => S::Null,
        LocalConnectionState::Initiated => S::Initiated,
        LocalConnectionState::Alerting => S::Alerting,
        LocalConnectionState::Connected => S::Connected,
        LocalConnectionState::Hold => S::Held,
        LocalConnectionState::Queued => S::Queued,
        LocalConnectionState::Fail => S::Fail,
    }
}

fn cause_name(c: Option<EventCause>) -> Option<String> {
    c.map(|c| c.as_str().to_string())
}

#[derive(Debug, Default, Clone)]
struct CallState {
    parties: Parties,
    /// number → deviceID as the PBX wrote it in this call's connections
    raw: HashMap<String, String>,
    touched: u64,
    last: Option<CallEventKind>,
}

impl HasParties for CallState {
    fn parties(&self) -> &Parties {
        &self.parties
    }
    fn parties_mut(&mut self) -> &mut Parties {
        &mut self.parties
    }
}

impl CallState {
    fn set(&mut self, device: &str, state: ConnectionState) {
        self.parties.set(device, state);
    }

    fn state(&self, device: &str) -> Option<ConnectionState> {
        self.parties.state(device)
    }
}

/// The mapping state of one link.
#[derive(Debug, Default)]
pub struct Mapper {
    monitors: HashMap<String, String>,
    calls: HashMap<String, CallState>,
    forwards: HashMap<String, Vec<Forward>>,
    clock: u64,
    infer: Option<DialPlan>,
}

impl Mapper {
    pub fn new() -> Self {
        Mapper::default()
    }

    /// A mapper for captures without MonitorStart requests: the monitored device of an unknown
    /// cross reference is inferred from the first event naming an extension whose own state
    /// the event reports, and announced with `PbxEvent::Monitor`.
    pub fn inferring(plan: DialPlan) -> Self {
        Mapper {
            infer: Some(plan),
            ..Mapper::default()
        }
    }

    pub fn monitor_started(&mut self, device: &str, cross_ref: &str) {
        self.monitors
            .insert(cross_ref.trim().to_string(), device.to_string());
    }

    /// A new session: the PBX forgot every monitor.
    pub fn monitors_lost(&mut self) {
        self.monitors.clear();
    }

    pub fn monitored_device(&self, cross_ref: &str) -> Option<&str> {
        self.monitors.get(cross_ref.trim()).map(String::as_str)
    }

    pub fn calls_remembered(&self) -> usize {
        self.calls.len()
    }

    /// The connection of `device` in `call` for a request: the deviceID the PBX used for it
    /// when known, else the number as given.
    pub fn connection(&self, call: &str, device: &str) -> ConnectionId {
        let raw = self
            .calls
            .get(call)
            .and_then(|c| c.raw.get(device))
            .cloned()
            .unwrap_or_else(|| device.to_string());
        ConnectionId::new(call, raw)
    }

    /// Remembers a connection a response names (MakeCall, ConsultationCall) for `device`.
    pub fn learn_connection(&mut self, c: &ConnectionId, device: &str) -> Option<String> {
        let call = call_of(c)?;
        self.clock += 1;
        let clock = self.clock;
        let cs = self.call_mut(&call);
        cs.touched = clock;
        if let Some(raw) = &c.device_id {
            cs.raw.insert(device.to_string(), raw.raw().to_string());
        }
        Some(call)
    }

    fn call_mut(&mut self, call: &str) -> &mut CallState {
        if !self.calls.contains_key(call)
            && self.calls.len() >= MAX_CALLS
            && let Some(oldest) = self
                .calls
                .iter()
                .min_by_key(|(_, c)| c.touched)
                .map(|(k, _)| k.clone())
        {
            tracing::debug!(pbx_call = %oldest, "call table full: forgetting the oldest call");
            self.calls.remove(&oldest);
        }
        self.calls.entry(call.to_string()).or_default()
    }

    /// The number a connection stands for (the device the event names, else the connection's
    /// own deviceID), remembering the connection's deviceID for requests.
    fn resolve(&mut self, c: &ConnectionId, named: Option<String>) -> Option<String> {
        let n = named.or_else(|| conn_dev(c))?;
        if let (Some(call), Some(raw)) = (call_of(c), &c.device_id)
            && conn_dev(c).as_deref() == Some(n.as_str())
        {
            self.call_mut(&call)
                .raw
                .insert(n.clone(), raw.raw().to_string());
        }
        Some(n)
    }

    /// Maps one document from the PBX. Requests and responses give nothing.
    pub fn on_message(&mut self, msg: &Message) -> Vec<PbxEvent> {
        let Some(xref) = msg.monitor_cross_ref_id() else {
            return Vec::new();
        };
        let xref = xref.trim().to_string();
        let mut out = Vec::new();
        let mut monitored = self.monitored_device(&xref).map(str::to_string);
        if monitored.is_none()
            && self.monitors.len() < MAX_MONITORS
            && let Some(plan) = &self.infer
            && let Some(d) = infer_monitored(msg, plan)
        {
            self.monitors.insert(xref.clone(), d.clone());
            out.push(PbxEvent::Monitor {
                device: DeviceId::new(&d),
                result: Ok(()),
            });
            monitored = Some(d);
        }
        self.clock += 1;
        let m = monitored.as_deref();
        let mut lci = None;
        let mut cause = None;
        let mut call_ev: Option<CallEvent> = None;
        let mut joined = false;
        use Message as M;
        match msg {
            M::CallClearedEvent(e) => {
                if let Some(call) = call_of(&e.cleared_call) {
                    self.calls.remove(&call);
                    out.push(PbxEvent::CallCleared {
                        call,
                        cause: cause_name(e.cause),
                        time: None,
                    });
                }
            }
            M::ServiceInitiatedEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                let d = self.resolve(
                    &e.initiated_connection,
                    opt_dev(&e.initiating_device).or_else(|| m.map(str::to_string)),
                );
                call_ev = ev(
                    &e.initiated_connection,
                    CallEventKind::ServiceInitiated,
                    d.map(|d| vec![(d, S::Initiated)]).unwrap_or_default(),
                );
            }
            M::OriginatedEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                let calling = dev(&e.calling_device);
                let d = self.resolve(&e.originated_connection, calling.clone());
                call_ev = ev(
                    &e.originated_connection,
                    CallEventKind::Originated,
                    d.map(|d| vec![(d, S::Connected)]).unwrap_or_default(),
                )
                .map(|c| c.parties(calling.as_deref(), dev(&e.called_device).as_deref()));
            }
            M::NetworkReachedEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                let called = dev(&e.called_device);
                let d = self.resolve(&e.outbound_connection, called.clone());
                call_ev = ev(
                    &e.outbound_connection,
                    CallEventKind::NetworkReached,
                    d.map(|d| vec![(d, S::Alerting)]).unwrap_or_default(),
                )
                .map(|c| c.parties(dev(&e.calling_device).as_deref(), called.as_deref()));
            }
            M::DeliveredEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                let calling = dev(&e.calling_device);
                let alerting = self.resolve(&e.connection, dev(&e.alerting_device));
                let mut ups = Vec::new();
                if let Some(c) = &calling
                    && alerting.as_ref() != Some(c)
                {
                    ups.push((c.clone(), S::Connected));
                }
                if let Some(a) = &alerting {
                    ups.push((a.clone(), S::Alerting));
                }
                call_ev = ev(&e.connection, CallEventKind::Delivered, ups)
                    .map(|c| c.parties(calling.as_deref(), dev(&e.called_device).as_deref()));
            }
            M::EstablishedEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                let calling = dev(&e.calling_device);
                let answering = self.resolve(&e.established_connection, dev(&e.answering_device));
                let mut ups = Vec::new();
                if let Some(c) = &calling
                    && answering.as_ref() != Some(c)
                {
                    ups.push((c.clone(), S::Connected));
                }
                if let Some(a) = &answering {
                    ups.push((a.clone(), S::Connected));
                }
                call_ev = ev(&e.established_connection, CallEventKind::Established, ups)
                    .map(|c| c.parties(calling.as_deref(), dev(&e.called_device).as_deref()));
            }
            M::QueuedEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                let calling = dev(&e.calling_device);
                let queue = self.resolve(&e.queued_connection, dev(&e.queue));
                let mut ups = Vec::new();
                if let Some(c) = &calling {
                    ups.push((c.clone(), S::Connected));
                }
                if let Some(q) = queue
                    && Some(&q) != calling.as_ref()
                {
                    ups.push((q, S::Queued));
                }
                call_ev = ev(&e.queued_connection, CallEventKind::Queued, ups)
                    .map(|c| c.parties(calling.as_deref(), dev(&e.called_device).as_deref()));
            }
            M::HeldEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                let d = self.resolve(&e.held_connection, dev(&e.holding_device));
                call_ev = ev(
                    &e.held_connection,
                    CallEventKind::Held,
                    d.map(|d| vec![(d, S::Held)]).unwrap_or_default(),
                );
            }
            M::RetrievedEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                let d = self.resolve(&e.retrieved_connection, dev(&e.retrieving_device));
                call_ev = ev(
                    &e.retrieved_connection,
                    CallEventKind::Retrieved,
                    d.map(|d| vec![(d, S::Connected)]).unwrap_or_default(),
                );
            }
            M::ConnectionClearedEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                let d = self.resolve(&e.dropped_connection, dev(&e.releasing_device));
                call_ev = ev(
                    &e.dropped_connection,
                    CallEventKind::ConnectionCleared,
                    d.map(|d| vec![(d, S::Null)]).unwrap_or_default(),
                );
            }
            M::FailedEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                let d = self.resolve(&e.failed_connection, dev(&e.failing_device));
                call_ev = ev(
                    &e.failed_connection,
                    CallEventKind::Failed,
                    d.map(|d| vec![(d, S::Fail)]).unwrap_or_default(),
                )
                .map(|c| {
                    c.parties(
                        opt_dev(&e.calling_device).as_deref(),
                        dev(&e.called_device).as_deref(),
                    )
                });
            }
            M::DivertedEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                // the diverting device leaves; the new destination's Delivered follows
                let d = self.resolve(&e.connection, dev(&e.diverting_device));
                call_ev = ev(
                    &e.connection,
                    CallEventKind::Diverted,
                    d.map(|d| vec![(d, S::Null)]).unwrap_or_default(),
                )
                .map(|c| c.parties(None, dev(&e.new_destination).as_deref()));
            }
            M::TransferedEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                joined = true;
                let leaving = dev(&e.transferring_device).or_else(|| m.map(str::to_string));
                call_ev = self.join(
                    &e.primary_old_call,
                    e.secondary_old_call.as_ref(),
                    e.transferred_connections.as_ref(),
                    leaving.as_deref(),
                    false,
                );
            }
            M::ConferencedEvent(e) => {
                (lci, cause) = (e.local_connection_info, e.cause);
                joined = true;
                let conferencing = dev(&e.conferencing_device).or_else(|| m.map(str::to_string));
                call_ev = self.join(
                    &e.primary_old_call,
                    e.secondary_old_call.as_ref(),
                    e.conference_connections.as_ref(),
                    conferencing.as_deref(),
                    true,
                );
            }
            M::DoNotDisturbEvent(e) => {
                if let Some(d) = dev(&e.device).or_else(|| m.map(str::to_string)) {
                    out.push(PbxEvent::Dnd {
                        device: DeviceId::new(&d),
                        enabled: e.do_not_disturb_on,
                    });
                }
            }
            M::ForwardingEvent(e) => {
                if let Some(d) = dev(&e.device).or_else(|| m.map(str::to_string)) {
                    let list = self.forwards.entry(d.clone()).or_default();
                    if let Some(kind) = e.forwarding_type.and_then(forward_kind) {
                        list.retain(|f| f.kind != kind);
                        if e.forward_status {
                            list.push(Forward {
                                kind,
                                destination: e
                                    .forward_to
                                    .as_ref()
                                    .and_then(number_of)
                                    .unwrap_or_default(),
                            });
                        }
                    } else if !e.forward_status {
                        list.clear();
                    }
                    out.push(PbxEvent::Forwarding {
                        device: DeviceId::new(&d),
                        forwards: list.clone(),
                    });
                }
            }
            M::AgentLoggedOnEvent(a) => {
                out.extend(agent(&a.agent_device, &a.agent_id, m, AgentState::Ready))
            }
            M::AgentLoggedOffEvent(a) => out.extend(agent(
                &a.agent_device,
                &a.agent_id,
                m,
                AgentState::LoggedOff,
            )),
            M::AgentReadyEvent(a) => {
                out.extend(agent(&a.agent_device, &a.agent_id, m, AgentState::Ready))
            }
            M::AgentNotReadyEvent(a) => {
                out.extend(agent(&a.agent_device, &a.agent_id, m, AgentState::NotReady))
            }
            M::AgentWorkingAfterCallEvent(a) => out.extend(agent(
                &a.agent_device,
                &a.agent_id,
                m,
                AgentState::WorkingAfterCall,
            )),
            M::AgentBusyEvent(a) => {
                out.extend(agent(&a.agent_device, &a.agent_id, m, AgentState::Busy))
            }
            other => tracing::debug!(
                event = other.element_name(),
                "event not used by the call model"
            ),
        }
        let Some(mut ce) = call_ev else { return out };
        let lci = lci.map(state_of);
        if let (Some(m), Some(st)) = (m, lci)
            && !joined
            && !ce.connections.iter().any(|u| u.device.as_str() == m)
        {
            let in_call = self
                .calls
                .get(&ce.call)
                .is_some_and(|c| c.state(m).is_some());
            if in_call || st != S::Null {
                ce.connections.push(ConnectionUpdate {
                    device: DeviceId::new(m),
                    state: st,
                });
            }
        }
        let clock = self.clock;
        let cs = self.call_mut(&ce.call);
        cs.touched = clock;
        // the same event reported to each monitored party: tell it once
        let redundant = cs.last == Some(ce.kind)
            && !ce.connections.is_empty()
            && ce
                .connections
                .iter()
                .all(|u| cs.state(u.device.as_str()) == (u.state != S::Null).then_some(u.state))
            && ce.merged.iter().all(|m| !self.calls.contains_key(m));
        if redundant {
            return out;
        }
        let cs = self.call_mut(&ce.call);
        cs.last = Some(ce.kind);
        if joined {
            cs.parties.clear();
        }
        for u in &ce.connections {
            cs.set(u.device.as_str(), u.state);
        }
        if cs.parties.is_empty() {
            self.calls.remove(&ce.call);
        }
        for merged in &ce.merged {
            self.calls.remove(merged);
        }
        ce.cause = cause_name(cause);
        out.push(PbxEvent::Call(ce));
        out
    }

    /// Transfer or conference: the surviving call takes the parties of both old calls; the
    /// transferring device leaves (transfer) or stays (conference).
    fn join(
        &mut self,
        primary: &ConnectionId,
        secondary: Option<&ConnectionId>,
        list: Option<&ConnectionList>,
        actor: Option<&str>,
        conference: bool,
    ) -> Option<CallEvent> {
        let primary_call = call_of(primary)?;
        let secondary_call = secondary.and_then(call_of);
        let mut survivor = primary_call.clone();
        let mut listed: Vec<(String, Option<String>)> = Vec::new();
        for it in list.map(|l| l.items.as_slice()).unwrap_or_default() {
            let Some(n) = &it.new_connection else {
                continue;
            };
            if let Some(c) = call_of(n) {
                survivor = c;
            }
            let d = conn_dev(n)
                .or_else(|| it.endpoint.as_ref().and_then(number_of))
                .or_else(|| it.old_connection.as_ref().and_then(conn_dev));
            if let Some(d) = d {
                listed.push((d, n.device_id.as_ref().map(|r| r.raw().to_string())));
            }
        }
        let mut merged: Vec<String> = [Some(primary_call.clone()), secondary_call.clone()]
            .into_iter()
            .flatten()
            .filter(|c| c != &survivor)
            .collect();
        merged.dedup();
        let mut parties: Vec<(String, ConnectionState)> = Vec::new();
        let mut raw: HashMap<String, String> = HashMap::new();
        for c in [
            Some(&primary_call),
            secondary_call.as_ref(),
            Some(&survivor),
        ]
        .into_iter()
        .flatten()
        {
            if let Some(cs) = self.calls.get(c) {
                for (d, s) in &cs.parties {
                    if !parties.iter().any(|(x, _)| x == d) {
                        let s = match s {
                            S::Alerting | S::Queued => *s,
                            _ => S::Connected,
                        };
                        parties.push((d.clone(), s));
                    }
                }
                raw.extend(cs.raw.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        for (d, r) in &listed {
            if !parties.iter().any(|(x, _)| x == d) {
                parties.push((d.clone(), S::Connected));
            }
            if let Some(r) = r {
                raw.insert(d.clone(), r.clone());
            }
        }
        let kind = if conference {
            CallEventKind::Conferenced
        } else {
            CallEventKind::Transferred
        };
        let mut ce = CallEvent::new(&survivor, kind);
        ce.merged = merged;
        let actor_state = if conference { S::Connected } else { S::Null };
        for (d, s) in &parties {
            let s = if Some(d.as_str()) == actor {
                actor_state
            } else {
                *s
            };
            ce = ce.with(d, s);
        }
        if let Some(a) = actor
            && !parties.iter().any(|(d, _)| d == a)
        {
            ce = ce.with(a, actor_state);
        }
        self.call_mut(&survivor).raw.extend(raw);
        Some(ce)
    }

    /// A SnapshotDevice response for `device` as the engine's resynchronisation event.
    pub fn snapshot(&mut self, device: &str, resp: &SnapshotDeviceResponse) -> PbxEvent {
        let mut calls = Vec::new();
        for info in resp.calls() {
            let Some(call) = call_of(&info.connection_identifier) else {
                continue;
            };
            let state = info.state().map(state_of).unwrap_or(S::Connected);
            self.learn_connection(&info.connection_identifier, device);
            self.call_mut(&call).set(device, state);
            calls.push(SnapshotCall {
                call,
                connections: vec![ConnectionUpdate {
                    device: DeviceId::new(device),
                    state,
                }],
            });
        }
        let listed: Vec<&str> = calls.iter().map(|c| c.call.as_str()).collect();
        let monitors = &self.monitors;
        forget_unlisted(&mut self.calls, device, &listed, |d| {
            monitors.values().any(|m| m == d)
        });
        PbxEvent::Snapshot {
            device: DeviceId::new(device),
            calls,
        }
    }
}

fn ev(
    c: &ConnectionId,
    kind: CallEventKind,
    ups: Vec<(String, ConnectionState)>,
) -> Option<CallEvent> {
    let call = call_of(c)?;
    let mut e = CallEvent::new(&call, kind);
    for (d, s) in ups {
        e = e.with(&d, s);
    }
    Some(e)
}

fn forward_kind(t: ForwardingType) -> Option<ForwardKind> {
    use ForwardingType as F;
    Some(match t {
        F::ForwardImmediate | F::ForwardImmInt | F::ForwardImmExt => ForwardKind::Immediate,
        F::ForwardBusy | F::ForwardBusyInt | F::ForwardBusyExt => ForwardKind::Busy,
        F::ForwardNoAns | F::ForwardNoAnsInt | F::ForwardNoAnsExt => ForwardKind::NoAnswer,
        F::ForwardDnd => return None,
    })
}

/// The ECMA-323 forwarding types that carry out a model forwarding kind.
pub fn forwarding_types(kind: ForwardKind) -> Vec<ForwardingType> {
    use ForwardingType as F;
    match kind {
        ForwardKind::Immediate => vec![F::ForwardImmediate],
        ForwardKind::Busy => vec![F::ForwardBusy],
        ForwardKind::NoAnswer => vec![F::ForwardNoAns],
        ForwardKind::BusyOrNoAnswer => vec![F::ForwardBusy, F::ForwardNoAns],
    }
}

fn agent(
    device: &Device,
    agent_id: &Option<String>,
    m: Option<&str>,
    state: AgentState,
) -> Option<PbxEvent> {
    let d = dev(device).or_else(|| m.map(str::to_string))?;
    let agent_id = agent_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| d.clone());
    Some(PbxEvent::Agent {
        device: DeviceId::new(&d),
        agent_id,
        state,
        reason: None,
    })
}

/// The device a capture's event reports its own state for. Only extensions qualify.
fn infer_monitored(msg: &Message, plan: &DialPlan) -> Option<String> {
    use Message as M;
    let ext = |d: Option<String>| d.filter(|n| plan.is_extension(n));
    match msg {
        M::ServiceInitiatedEvent(e) => ext(conn_dev(&e.initiated_connection)),
        M::OriginatedEvent(e) => ext(dev(&e.calling_device)),
        M::DeliveredEvent(e) => {
            if e.local_connection_info == Some(LocalConnectionState::Alerting) {
                ext(dev(&e.alerting_device))
            } else {
                ext(dev(&e.calling_device)).or_else(|| ext(dev(&e.alerting_device)))
            }
        }
        M::EstablishedEvent(e) => {
            ext(dev(&e.answering_device)).or_else(|| ext(dev(&e.calling_device)))
        }
        M::HeldEvent(e) => ext(dev(&e.holding_device)),
        M::RetrievedEvent(e) => ext(dev(&e.retrieving_device)),
        M::ConnectionClearedEvent(e) => ext(dev(&e.releasing_device)),
        M::FailedEvent(e) => ext(dev(&e.failing_device)),
        M::DivertedEvent(e) => ext(dev(&e.diverting_device)),
        M::TransferedEvent(e) => ext(dev(&e.transferring_device)),
        M::ConferencedEvent(e) => ext(dev(&e.conferencing_device)),
        M::AgentLoggedOnEvent(a) => ext(dev(&a.agent_device)),
        M::AgentLoggedOffEvent(a) => ext(dev(&a.agent_device)),
        M::AgentReadyEvent(a) => ext(dev(&a.agent_device)),
        M::AgentNotReadyEvent(a) => ext(dev(&a.agent_device)),
        M::AgentWorkingAfterCallEvent(a) => ext(dev(&a.agent_device)),
        M::AgentBusyEvent(a) => ext(dev(&a.agent_device)),
        M::DoNotDisturbEvent(e) => ext(dev(&e.device)),
        M::ForwardingEvent(e) => ext(dev(&e.device)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: &str = "http://www.ecma-international.org/standards/ecma-323/csta/ed3";

    fn doc(body: &str) -> Message {
        Message::decode(body.replace("NS", NS).as_bytes()).unwrap()
    }

    #[test]
    fn delivered_in_vendor_forms_and_cleared() {
        let mut m = Mapper::new();
        m.monitor_started("7001", "11");
        let d = doc(
            r#"<DeliveredEvent xmlns="NS"><monitorCrossRefID>11</monitorCrossRefID><connection><callID>FF01</callID><deviceID>N&lt;7001&gt;Line7001;displayNumber=7001</deviceID></connection><alertingDevice><deviceIdentifier>N&lt;7001&gt;Line7001;displayNumber=7001</deviceIdentifier></alertingDevice><callingDevice><deviceIdentifier>tel:+33612345678</deviceIdentifier></callingDevice><calledDevice><deviceIdentifier>tel:7001</deviceIdentifier></calledDevice><localConnectionInfo>alerting</localConnectionInfo><cause>newCall</cause></DeliveredEvent>"#,
        );
        let evs = m.on_message(&d);
        let PbxEvent::Call(ce) = &evs[0] else {
            panic!("{evs:?}")
        };
        assert_eq!(ce.call, "FF01");
        assert_eq!(ce.calling.as_deref(), Some("+33612345678"));
        assert_eq!(ce.connections.len(), 2);
        assert_eq!(ce.connections[1].device.as_str(), "7001");
        assert_eq!(ce.cause.as_deref(), Some("newCall"));
        // requests echo the PBX's own form of the device
        let c = m.connection("FF01", "7001");
        assert_eq!(
            c.device_id.unwrap().raw(),
            "N<7001>Line7001;displayNumber=7001"
        );
        // told once even when a second monitor reports it
        assert!(m.on_message(&d).is_empty());
        let cc = doc(
            r#"<CallClearedEvent xmlns="NS"><monitorCrossRefID>11</monitorCrossRefID><clearedCall><callID>FF01</callID></clearedCall><cause>normalClearing</cause></CallClearedEvent>"#,
        );
        assert!(
            matches!(&m.on_message(&cc)[0], PbxEvent::CallCleared { call, .. } if call == "FF01")
        );
        assert_eq!(m.calls_remembered(), 0);
    }

    #[test]
    fn transfer_merges_calls() {
        let mut m = Mapper::new();
        m.monitor_started("7001", "1");
        for x in [
            r#"<EstablishedEvent xmlns="NS"><monitorCrossRefID>1</monitorCrossRefID><establishedConnection><callID>A</callID><deviceID>7001</deviceID></establishedConnection><answeringDevice><deviceIdentifier>7001</deviceIdentifier></answeringDevice><callingDevice><deviceIdentifier>+3361</deviceIdentifier></callingDevice><calledDevice><deviceIdentifier>7001</deviceIdentifier></calledDevice></EstablishedEvent>"#,
            r#"<EstablishedEvent xmlns="NS"><monitorCrossRefID>1</monitorCrossRefID><establishedConnection><callID>B</callID><deviceID>7002</deviceID></establishedConnection><answeringDevice><deviceIdentifier>7002</deviceIdentifier></answeringDevice><callingDevice><deviceIdentifier>7001</deviceIdentifier></callingDevice><calledDevice><deviceIdentifier>7002</deviceIdentifier></calledDevice></EstablishedEvent>"#,
        ] {
            m.on_message(&doc(x));
        }
        let t = doc(
            r#"<TransferedEvent xmlns="NS"><monitorCrossRefID>1</monitorCrossRefID><primaryOldCall><callID>A</callID><deviceID>7001</deviceID></primaryOldCall><secondaryOldCall><callID>B</callID><deviceID>7001</deviceID></secondaryOldCall><transferringDevice><deviceIdentifier>7001</deviceIdentifier></transferringDevice><transferredToDevice><deviceIdentifier>7002</deviceIdentifier></transferredToDevice><transferredConnections><connectionListItem><newConnection><callID>A</callID><deviceID>7002</deviceID></newConnection><oldConnection><callID>B</callID><deviceID>7002</deviceID></oldConnection></connectionListItem></transferredConnections><localConnectionInfo>null</localConnectionInfo><cause>transfer</cause></TransferedEvent>"#,
        );
        let evs = m.on_message(&t);
        let PbxEvent::Call(ce) = &evs[0] else {
            panic!()
        };
        assert_eq!(ce.call, "A");
        assert_eq!(ce.merged, vec!["B".to_string()]);
        let states: Vec<(&str, ConnectionState)> = ce
            .connections
            .iter()
            .map(|u| (u.device.as_str(), u.state))
            .collect();
        assert_eq!(
            states,
            [
                ("+3361", S::Connected),
                ("7001", S::Null),
                ("7002", S::Connected)
            ]
        );
    }

    #[test]
    fn inference_and_garbage() {
        let plan = DialPlan::default();
        let mut m = Mapper::inferring(plan);
        let d = doc(
            r#"<HeldEvent xmlns="NS"><monitorCrossRefID>9</monitorCrossRefID><heldConnection><callID>C</callID><deviceID>sip:24101@cucm</deviceID></heldConnection><holdingDevice><deviceIdentifier>sip:24101@cucm</deviceIdentifier></holdingDevice></HeldEvent>"#,
        );
        let evs = m.on_message(&d);
        assert!(
            matches!(&evs[0], PbxEvent::Monitor { device, .. } if device.as_str() == "24101"),
            "{evs:?}"
        );
        // an event without a callID gives nothing, and never panics
        let d = doc(
            r#"<HeldEvent xmlns="NS"><monitorCrossRefID>9</monitorCrossRefID><heldConnection/><holdingDevice/></HeldEvent>"#,
        );
        assert!(m.on_message(&d).is_empty());
    }
}
