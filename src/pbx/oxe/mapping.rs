//! The sans-IO heart of the OXE/OXO adapter: CSTA Phase II event reports → model
//! [`PbxEvent`]s, snapshot results → [`PbxEvent::Snapshot`], and the connection ids commands
//! need. No socket and no clock: the link task and `ctigw replay` drive it the same way.
//!
//! What it knows, and from where:
//! - which device a monitor's `crossRefIdentifier` belongs to (from MonitorStart results on a
//!   live link; on a replayed capture without them, inferred from the first event of each
//!   cross reference, see [`Mapper::inferring`]);
//! - per call (the CSTA callID as lower-case hex, e.g. `2b91`), the parties and their states,
//!   and which 4-byte dynamic device id stands for which number. OXE names connections by
//!   dynamic ids (`83 04 08 b3 01 00`), not numbers: a connection is mapped to the number the
//!   event names (alerting/calling/answering/releasing/holding/retrieving device) and
//!   remembered, so that later events and commands about the same connection agree;
//! - the forwarding list of each device (the PBX reports one change at a time).
//!
//! State of the monitored device: CSTA's `localConnectionInfo` is the state of the monitored
//! device's own connection after the event; when the event does not already name that device,
//! the mapping adds it (so a distant party's connectionCleared with `connected` tells us the
//! agent's set is still busy: the timer-384 case).

use crate::model::{
    AgentState, CallEvent, CallEventKind, ConnectionState, ConnectionUpdate, DeviceId, DialPlan,
    Forward, ForwardKind, PbxEvent, SnapshotCall,
};
use crate::pbx::csta_calls::{HasParties, Parties, forget_unlisted};
use ctigw_codecs::csta_ber::events::AgentEvent;
use ctigw_codecs::csta_ber::services::{LocalCallState, SnapshotDeviceResult};
use ctigw_codecs::csta_ber::types::{AppDevice, ConnectionList, ForwardingType, LocalDeviceId};
use ctigw_codecs::csta_ber::{
    ConnectionId, CstaEvent, DeviceId as CstaDevice, EventCause, EventReport, LocalConnectionState,
    MonitorCrossRefId,
};
use std::collections::HashMap;

use ConnectionState as S;

/// Most calls the mapping remembers; beyond this the least recently touched are forgotten
/// (a PBX that never clears its calls must not make us grow without bound).
const MAX_CALLS: usize = 4096;

/// The CSTA callID as the model's call reference: lower-case hex (`2b91`).
pub fn call_ref(c: &ConnectionId) -> Option<String> {
    c.call.as_ref().map(|b| hex(b))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Parses a call reference back into callID bytes.
pub fn call_bytes(call: &str) -> Option<Vec<u8>> {
    if call.is_empty() || call.len() % 2 != 0 || call.len() > 16 {
        return None;
    }
    (0..call.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(call.get(i..i + 2)?, 16).ok())
        .collect()
}

fn state_of(s: LocalConnectionState) -> Option<ConnectionState> {
    Some(match s {
        LocalConnectionState::Null => S::Null,
        LocalConnectionState::Initiated => S::Initiated,
        LocalConnectionState::Alerting => S::Alerting,
        LocalConnectionState::Connected => S::Connected,
        LocalConnectionState::Hold => S::Held,
        LocalConnectionState::Queued => S::Queued,
        LocalConnectionState::Fail => S::Fail,
        LocalConnectionState::Other(_) => return None,
    })
}

/// An EventCause as the model's cause name (`newCall`, `normalClearing`, `cause99`).
pub fn cause_name(c: EventCause) -> String {
    match c.name() {
        Some(n) => n.to_string(),
        None => format!("cause{}", c.code()),
    }
}

fn digits_of<const N: u32>(d: &Option<AppDevice<N>>) -> Option<String> {
    d.as_ref()
        .and_then(|d| d.digits())
        .and_then(|d| d.as_str())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn dynamic_id(c: &ConnectionId) -> Option<&[u8]> {
    match &c.device {
        Some(LocalDeviceId::DynamicId(d)) => Some(d),
        _ => None,
    }
}

fn static_number(c: &ConnectionId) -> Option<String> {
    match &c.device {
        Some(LocalDeviceId::StaticId(d)) => d.digits().and_then(|d| d.as_str()).map(str::to_string),
        _ => None,
    }
}

#[derive(Debug, Default, Clone)]
struct CallState {
    parties: Parties,
    /// dynamic device id → number
    dynamic: HashMap<Vec<u8>, String>,
    touched: u64,
    /// the kind of the last event told for this call
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

    fn dynamic_of(&self, device: &str) -> Option<&[u8]> {
        self.dynamic
            .iter()
            .find(|(_, d)| d.as_str() == device)
            .map(|(k, _)| k.as_slice())
    }
}

/// The mapping state of one link (reset on each new association, except the call table,
/// which resynchronisation by snapshot corrects).
#[derive(Debug, Default)]
pub struct Mapper {
    monitors: HashMap<Vec<u8>, String>,
    calls: HashMap<String, CallState>,
    forwards: HashMap<String, Vec<Forward>>,
    clock: u64,
    /// `Some(plan)`: replay of a capture: learn unknown cross references from the events
    /// (and announce the device with a `Monitor` event) when the device is an extension.
    infer: Option<DialPlan>,
}

impl Mapper {
    pub fn new() -> Self {
        Mapper::default()
    }

    /// A mapper for captures, which lack the MonitorStart results: the monitored device of an
    /// unknown cross reference is inferred from the first event that names it (the device
    /// whose own state the event reports), and announced with `PbxEvent::Monitor`.
    pub fn inferring(plan: DialPlan) -> Self {
        Mapper {
            infer: Some(plan),
            ..Mapper::default()
        }
    }

    /// A MonitorStart for `device` succeeded with this cross reference.
    pub fn monitor_started(&mut self, device: &str, cross_ref: &MonitorCrossRefId) {
        self.monitors
            .insert(cross_ref.0.clone(), device.to_string());
    }

    /// A new association: the PBX forgot every monitor.
    pub fn monitors_lost(&mut self) {
        self.monitors.clear();
    }

    /// The device a cross reference belongs to.
    pub fn monitored_device(&self, cross_ref: &MonitorCrossRefId) -> Option<&str> {
        self.monitors.get(&cross_ref.0).map(String::as_str)
    }

    /// Number of calls remembered (for tests and metrics).
    pub fn calls_remembered(&self) -> usize {
        self.calls.len()
    }

    /// The ConnectionID of `device` in `call`, for a request: the dynamic id the PBX used for
    /// it when known, otherwise the device's number as a static id.
    pub fn connection(&self, call: &str, device: &str) -> Option<ConnectionId> {
        let bytes = call_bytes(call)?;
        let dev = match self.calls.get(call).and_then(|c| c.dynamic_of(device)) {
            Some(d) => LocalDeviceId::DynamicId(d.to_vec()),
            None => LocalDeviceId::StaticId(CstaDevice::dialing(device)),
        };
        Some(ConnectionId {
            call: Some(bytes),
            device: Some(dev),
            unknown: vec![],
        })
    }

    /// Remembers which device a connection stands for (make call / consultation results).
    pub fn learn_connection(&mut self, c: &ConnectionId, device: &str) {
        let Some(call) = call_ref(c) else { return };
        self.clock += 1;
        let clock = self.clock;
        let cs = self.call_mut(&call);
        cs.touched = clock;
        if let Some(d) = dynamic_id(c) {
            cs.dynamic.insert(d.to_vec(), device.to_string());
        }
    }

    fn call_mut(&mut self, call: &str) -> &mut CallState {
        if !self.calls.contains_key(call) && self.calls.len() >= MAX_CALLS {
            // forget the least recently touched call
            if let Some(oldest) = self
                .calls
                .iter()
                .min_by_key(|(_, c)| c.touched)
                .map(|(k, _)| k.clone())
            {
                tracing::debug!(pbx_call = %oldest, "call table full: forgetting the oldest call");
                self.calls.remove(&oldest);
            }
        }
        self.calls.entry(call.to_string()).or_default()
    }

    /// The number a connection stands for: what the PBX already told us about this
    /// connection, else the number the event names (remembered from now on), else a static
    /// id's digits.
    fn resolve(&mut self, c: &ConnectionId, named: Option<String>) -> Option<String> {
        let call = call_ref(c)?;
        let dynamic = dynamic_id(c).map(<[u8]>::to_vec);
        let known = dynamic
            .as_ref()
            .and_then(|d| self.calls.get(&call).and_then(|cs| cs.dynamic.get(d)))
            .cloned();
        if let Some(k) = known {
            return Some(k);
        }
        let n = named.or_else(|| static_number(c))?;
        if let Some(d) = dynamic {
            self.call_mut(&call).dynamic.insert(d, n.clone());
        }
        Some(n)
    }

    /// Maps one event report. `Err` only describes an event that could not be used (no
    /// call id, say); the caller logs it and goes on.
    pub fn on_event(&mut self, report: &EventReport) -> Vec<PbxEvent> {
        let time = report
            .private_data
            .as_ref()
            .and_then(|p| p.timestamp.as_ref())
            .and_then(|t| t.unix_seconds)
            .and_then(|s| u64::try_from(s).ok())
            .map(|s| s * 1000);
        let mut out = Vec::new();
        let mut monitored = self
            .monitored_device(&report.cross_ref_identifier)
            .map(str::to_string);
        if monitored.is_none()
            && let Some(plan) = &self.infer
            && let Some(dev) = infer_monitored(&report.event, plan)
        {
            self.monitors
                .insert(report.cross_ref_identifier.0.clone(), dev.clone());
            out.push(PbxEvent::Monitor {
                device: DeviceId::new(&dev),
                result: Ok(()),
            });
            monitored = Some(dev);
        }
        self.clock += 1;
        let m = monitored.as_deref();
        let ev = &report.event;
        let lci = ev.local_connection_info().and_then(state_of);
        let cause = ev.cause().map(cause_name);
        use CstaEvent as E;
        let mut call_ev: Option<CallEvent> = None;
        match ev {
            E::CallCleared(e) => {
                if let Some(call) = call_ref(&e.cleared_call) {
                    self.calls.remove(&call);
                    out.push(PbxEvent::CallCleared {
                        call,
                        cause: cause.clone(),
                        time,
                    });
                }
            }
            E::ServiceInitiated(e) => {
                let dev = self.resolve(&e.initiated_connection, m.map(str::to_string));
                call_ev = self.call_event(
                    &e.initiated_connection,
                    CallEventKind::ServiceInitiated,
                    dev.map(|d| vec![(d, S::Initiated)]).unwrap_or_default(),
                );
            }
            E::Originated(e) => {
                let calling = digits_of(&e.calling_device);
                let dev = self.resolve(&e.originated_connection, calling.clone());
                call_ev = self
                    .call_event(
                        &e.originated_connection,
                        CallEventKind::Originated,
                        dev.map(|d| vec![(d, S::Connected)]).unwrap_or_default(),
                    )
                    .map(|c| c.parties(calling.as_deref(), digits_of(&e.called_device).as_deref()));
            }
            E::NetworkReached(e) => {
                // the call left the switch on a trunk: the outside party is reached but has
                // not answered (Established says when it does)
                let called = digits_of(&e.called_device);
                let dev = self.resolve(&e.connection, called.clone());
                call_ev = self
                    .call_event(
                        &e.connection,
                        CallEventKind::NetworkReached,
                        dev.map(|d| vec![(d, S::Alerting)]).unwrap_or_default(),
                    )
                    .map(|c| c.parties(None, called.as_deref()));
            }
            E::Delivered(e) => {
                let calling = digits_of(&e.calling_device);
                let alerting = self.resolve(&e.connection, digits_of(&e.alerting_device));
                let mut ups = Vec::new();
                if let Some(c) = &calling
                    && alerting.as_ref() != Some(c)
                {
                    ups.push((c.clone(), S::Connected));
                }
                if let Some(a) = &alerting {
                    ups.push((a.clone(), S::Alerting));
                }
                call_ev = self
                    .call_event(&e.connection, CallEventKind::Delivered, ups)
                    .map(|c| c.parties(calling.as_deref(), digits_of(&e.called_device).as_deref()));
            }
            E::Established(e) => {
                let calling = digits_of(&e.calling_device);
                let answering =
                    self.resolve(&e.established_connection, digits_of(&e.answering_device));
                let mut ups = Vec::new();
                if let Some(c) = &calling
                    && answering.as_ref() != Some(c)
                {
                    ups.push((c.clone(), S::Connected));
                }
                if let Some(a) = &answering {
                    ups.push((a.clone(), S::Connected));
                }
                call_ev = self
                    .call_event(&e.established_connection, CallEventKind::Established, ups)
                    .map(|c| c.parties(calling.as_deref(), digits_of(&e.called_device).as_deref()));
            }
            E::Queued(e) => {
                let calling = digits_of(&e.calling_device);
                let queue = self.resolve(&e.queued_connection, digits_of(&e.queue));
                let mut ups = Vec::new();
                if let Some(c) = &calling {
                    ups.push((c.clone(), S::Connected));
                }
                if let Some(q) = queue
                    && Some(&q) != calling.as_ref()
                {
                    ups.push((q, S::Queued));
                }
                call_ev = self
                    .call_event(&e.queued_connection, CallEventKind::Queued, ups)
                    .map(|c| c.parties(calling.as_deref(), digits_of(&e.called_device).as_deref()));
            }
            E::Held(e) => {
                let dev = self.resolve(&e.held_connection, digits_of(&e.holding_device));
                call_ev = self.call_event(
                    &e.held_connection,
                    CallEventKind::Held,
                    dev.map(|d| vec![(d, S::Held)]).unwrap_or_default(),
                );
            }
            E::Retrieved(e) => {
                let dev = self.resolve(&e.retrieved_connection, digits_of(&e.retrieving_device));
                call_ev = self.call_event(
                    &e.retrieved_connection,
                    CallEventKind::Retrieved,
                    dev.map(|d| vec![(d, S::Connected)]).unwrap_or_default(),
                );
            }
            E::ConnectionCleared(e) => {
                let dev = self.resolve(&e.dropped_connection, digits_of(&e.releasing_device));
                call_ev = self.call_event(
                    &e.dropped_connection,
                    CallEventKind::ConnectionCleared,
                    dev.map(|d| vec![(d, S::Null)]).unwrap_or_default(),
                );
            }
            E::Failed(e) => {
                let dev = self.resolve(&e.failed_connection, digits_of(&e.failing_device));
                call_ev = self
                    .call_event(
                        &e.failed_connection,
                        CallEventKind::Failed,
                        dev.map(|d| vec![(d, S::Fail)]).unwrap_or_default(),
                    )
                    .map(|c| c.parties(None, digits_of(&e.called_device).as_deref()));
            }
            E::Diverted(e) => {
                // the diverting device leaves the call; the new destination is offered it
                // (its Delivered follows on its own monitor)
                if let Some(conn) = &e.connection {
                    let dev = self.resolve(conn, digits_of(&e.diverting_device));
                    call_ev = self
                        .call_event(
                            conn,
                            CallEventKind::Diverted,
                            dev.map(|d| vec![(d, S::Null)]).unwrap_or_default(),
                        )
                        .map(|c| {
                            let to = super::connection_list::diverted_destination(e);
                            c.parties(None, to.as_deref())
                        });
                }
            }
            E::Transferred(e) => {
                let leaving = digits_of(&e.transferring_device).or_else(|| m.map(str::to_string));
                call_ev = self.join(
                    &e.primary_old_call,
                    e.secondary_old_call.as_ref(),
                    e.transferred_connections.as_ref(),
                    leaving.as_deref(),
                    false,
                );
            }
            E::Conferenced(e) => {
                let conferencing =
                    digits_of(&e.conferencing_device).or_else(|| m.map(str::to_string));
                call_ev = self.join(
                    &e.primary_old_call,
                    e.secondary_old_call.as_ref(),
                    e.conference_connections.as_ref(),
                    conferencing.as_deref(),
                    true,
                );
            }
            E::DoNotDisturb(e) => {
                if let Some(dev) = digits_of(&e.device).or_else(|| m.map(str::to_string)) {
                    out.push(PbxEvent::Dnd {
                        device: DeviceId::new(&dev),
                        enabled: e.do_not_disturb_on.unwrap_or(false),
                    });
                }
            }
            E::Forwarding(e) => {
                if let (Some(dev), Some(fp)) = (
                    digits_of(&e.device).or_else(|| m.map(str::to_string)),
                    &e.forwarding_information,
                ) {
                    let (kind, on) = forward_kind(fp.forwarding_type);
                    let list = self.forwards.entry(dev.clone()).or_default();
                    if let Some(kind) = kind {
                        list.retain(|f| f.kind != kind);
                        if on {
                            list.push(Forward {
                                kind,
                                destination: fp
                                    .forward_dn
                                    .as_ref()
                                    .map(|d| d.to_string())
                                    .unwrap_or_default(),
                            });
                        }
                    }
                    out.push(PbxEvent::Forwarding {
                        device: DeviceId::new(&dev),
                        forwards: list.clone(),
                    });
                }
            }
            E::AgentLoggedOn(a) => out.extend(agent(a, m, AgentState::Ready)),
            E::AgentLoggedOff(a) => out.extend(agent(a, m, AgentState::LoggedOff)),
            E::AgentNotReady(a) => out.extend(agent(a, m, AgentState::NotReady)),
            E::AgentReady(a) => out.extend(agent(a, m, AgentState::Ready)),
            E::AgentWorkingAfterCall(a) | E::AgentWorkReady(a) => {
                out.extend(agent(a, m, AgentState::WorkingAfterCall))
            }
            E::CallInformation(_)
            | E::MessageWaiting(_)
            | E::BackInService(_)
            | E::OutOfService(_)
            | E::Unknown(_) => {
                tracing::debug!(event = ev.name(), "event not used by the call model");
            }
        }
        if let Some(mut ce) = call_ev {
            // the monitored device's own state, when the event did not already set it
            if let (Some(m), Some(st)) = (m, lci)
                && !matches!(ev, E::Transferred(_) | E::Conferenced(_))
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
            let joined = !ce.merged.is_empty()
                || matches!(
                    ce.kind,
                    CallEventKind::Transferred | CallEventKind::Conferenced
                );
            let cs = self.call_mut(&ce.call);
            cs.touched = clock;
            // the same event reported to each monitored party of the call: tell it once
            let redundant = cs.last == Some(ce.kind)
                && !ce.connections.is_empty()
                && ce.connections.iter().all(|u| {
                    cs.state(u.device.as_str()) == (u.state != S::Null).then_some(u.state)
                })
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
            ce.cause = cause;
            ce.time = time;
            out.push(PbxEvent::Call(ce));
        }
        out
    }

    fn call_event(
        &mut self,
        c: &ConnectionId,
        kind: CallEventKind,
        ups: Vec<(String, ConnectionState)>,
    ) -> Option<CallEvent> {
        let call = call_ref(c)?;
        let mut ev = CallEvent::new(&call, kind);
        for (d, s) in ups {
            ev = ev.with(&d, s);
        }
        Some(ev)
    }

    /// Transfer or conference: the surviving call (the new connections' call when the PBX
    /// lists them, else the primary old call) takes the parties of both old calls; the
    /// transferring device leaves (transfer) or stays connected (conference).
    fn join(
        &mut self,
        primary: &ConnectionId,
        secondary: Option<&ConnectionId>,
        list: Option<&ConnectionList>,
        actor: Option<&str>,
        conference: bool,
    ) -> Option<CallEvent> {
        let primary_call = call_ref(primary)?;
        let secondary_call = secondary.and_then(call_ref);
        let mut survivor = primary_call.clone();
        let mut listed: Vec<(Option<String>, ConnectionId)> = Vec::new();
        for p in super::connection_list::listed_parties(list) {
            let n = p.new;
            if let Some(c) = call_ref(n) {
                survivor = c;
            }
            // the number the PBX names wins (an OXE trunk connection keeps its dynamic id when
            // a transfer puts a new party at its end); else the old connection tells which
            // device the new one stands for
            let dev = p
                .number
                .or_else(|| {
                    let o = p.old?;
                    let oc = call_ref(o)?;
                    let d = dynamic_id(o)?;
                    self.calls.get(&oc)?.dynamic.get(d).cloned()
                })
                .or_else(|| {
                    let d = dynamic_id(n)?;
                    [Some(&primary_call), secondary_call.as_ref()]
                        .into_iter()
                        .flatten()
                        .find_map(|c| self.calls.get(c)?.dynamic.get(d).cloned())
                })
                .or_else(|| static_number(n));
            listed.push((dev, n.clone()));
        }
        let mut merged: Vec<String> = [Some(primary_call.clone()), secondary_call.clone()]
            .into_iter()
            .flatten()
            .filter(|c| c != &survivor)
            .collect();
        merged.dedup();
        // parties of the old calls, each once, with its state in the joined call
        let mut parties: Vec<(String, ConnectionState)> = Vec::new();
        let mut dynamic: HashMap<Vec<u8>, String> = HashMap::new();
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
                for (k, v) in &cs.dynamic {
                    dynamic.insert(k.clone(), v.clone());
                }
            }
        }
        for (dev, conn) in &listed {
            if let Some(d) = dev {
                if !parties.iter().any(|(x, _)| x == d) {
                    parties.push((d.clone(), S::Connected));
                }
                if let Some(dy) = dynamic_id(conn) {
                    dynamic.insert(dy.to_vec(), d.clone());
                }
            }
        }
        let mut ev = CallEvent::new(
            &survivor,
            if conference {
                CallEventKind::Conferenced
            } else {
                CallEventKind::Transferred
            },
        );
        ev.merged = merged;
        for (d, s) in &parties {
            let s = if Some(d.as_str()) == actor {
                if conference { S::Connected } else { S::Null }
            } else {
                *s
            };
            ev = ev.with(d, s);
        }
        if let Some(a) = actor
            && !parties.iter().any(|(d, _)| d == a)
        {
            ev = ev.with(a, if conference { S::Connected } else { S::Null });
        }
        self.call_mut(&survivor).dynamic.extend(dynamic);
        Some(ev)
    }

    /// A SnapshotDevice result for `device` as the engine's resynchronisation event.
    pub fn snapshot(&mut self, device: &str, result: &SnapshotDeviceResult) -> PbxEvent {
        let mut calls = Vec::new();
        for info in &result.snapshot_data {
            let Some(call) = call_ref(&info.call_identifier) else {
                continue;
            };
            let state = info
                .local_connection_state
                .and_then(state_of)
                .or_else(|| match &info.local_call_state {
                    Some(LocalCallState::CompoundCallState(v)) => {
                        v.first().copied().and_then(state_of)
                    }
                    _ => None,
                })
                .unwrap_or(S::Connected);
            self.learn_connection(&info.call_identifier, device);
            self.call_mut(&call).set(device, state);
            calls.push(SnapshotCall {
                call,
                connections: vec![ConnectionUpdate {
                    device: DeviceId::new(device),
                    state,
                }],
            });
        }
        // calls the PBX no longer lists for this device: forget the device in them
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

fn forward_kind(t: ForwardingType) -> (Option<ForwardKind>, bool) {
    use ForwardingType as F;
    match t {
        F::ForwardImmediateOn => (Some(ForwardKind::Immediate), true),
        F::ForwardImmediateOff => (Some(ForwardKind::Immediate), false),
        F::ForwardBusyOn | F::ForwardBusyIntOn | F::ForwardBusyExtOn => {
            (Some(ForwardKind::Busy), true)
        }
        F::ForwardBusyOff | F::ForwardBusyIntOff | F::ForwardBusyExtOff => {
            (Some(ForwardKind::Busy), false)
        }
        F::ForwardNoAnsOn | F::ForwardNoAnsIntOn | F::ForwardNoAnsExtOn => {
            (Some(ForwardKind::NoAnswer), true)
        }
        F::ForwardNoAnsOff | F::ForwardNoAnsIntOff | F::ForwardNoAnsExtOff => {
            (Some(ForwardKind::NoAnswer), false)
        }
        F::Other(_) => (None, false),
    }
}

/// The CSTA forwarding types that set (`on`) or cancel a model forwarding kind.
pub fn forwarding_types(kind: ForwardKind, on: bool) -> Vec<ForwardingType> {
    use ForwardingType as F;
    match (kind, on) {
        (ForwardKind::Immediate, true) => vec![F::ForwardImmediateOn],
        (ForwardKind::Immediate, false) => vec![F::ForwardImmediateOff],
        (ForwardKind::Busy, true) => vec![F::ForwardBusyOn],
        (ForwardKind::Busy, false) => vec![F::ForwardBusyOff],
        (ForwardKind::NoAnswer, true) => vec![F::ForwardNoAnsOn],
        (ForwardKind::NoAnswer, false) => vec![F::ForwardNoAnsOff],
        (ForwardKind::BusyOrNoAnswer, true) => vec![F::ForwardBusyOn, F::ForwardNoAnsOn],
        (ForwardKind::BusyOrNoAnswer, false) => vec![F::ForwardBusyOff, F::ForwardNoAnsOff],
    }
}

fn agent(a: &AgentEvent, m: Option<&str>, state: AgentState) -> Option<PbxEvent> {
    let device = digits_of(&a.agent_device).or_else(|| m.map(str::to_string))?;
    let agent_id = a
        .agent_id
        .as_ref()
        .map(|i| i.0.to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| device.clone());
    Some(PbxEvent::Agent {
        device: DeviceId::new(&device),
        agent_id,
        state,
        reason: None,
    })
}

/// The device a capture's event reports its own state for (replay without MonitorStart
/// results). Only extensions of the dialling plan qualify.
fn infer_monitored(ev: &CstaEvent, plan: &DialPlan) -> Option<String> {
    use CstaEvent as E;
    let lci = ev.local_connection_info();
    let ext = |d: Option<String>| d.filter(|n| plan.is_extension(n));
    match ev {
        E::Originated(e) => ext(digits_of(&e.calling_device)),
        E::Delivered(e) => {
            if lci == Some(LocalConnectionState::Alerting) {
                ext(digits_of(&e.alerting_device))
            } else {
                ext(digits_of(&e.calling_device)).or_else(|| ext(digits_of(&e.alerting_device)))
            }
        }
        E::Established(e) => {
            let (a, c) = (
                ext(digits_of(&e.answering_device)),
                ext(digits_of(&e.calling_device)),
            );
            a.or(c)
        }
        E::Held(e) => ext(digits_of(&e.holding_device)),
        E::Retrieved(e) => ext(digits_of(&e.retrieving_device)),
        E::ConnectionCleared(e) if lci == Some(LocalConnectionState::Null) => {
            ext(digits_of(&e.releasing_device))
        }
        E::Failed(e) => ext(digits_of(&e.failing_device)),
        E::Diverted(e) => ext(digits_of(&e.diverting_device)),
        E::Transferred(e) => ext(digits_of(&e.transferring_device)),
        E::Conferenced(e) => ext(digits_of(&e.conferencing_device)),
        E::AgentLoggedOn(a)
        | E::AgentLoggedOff(a)
        | E::AgentNotReady(a)
        | E::AgentReady(a)
        | E::AgentWorkingAfterCall(a)
        | E::AgentWorkReady(a) => ext(digits_of(&a.agent_device)),
        E::DoNotDisturb(e) => ext(digits_of(&e.device)),
        E::Forwarding(e) => ext(digits_of(&e.device)),
        _ => None,
    }
}
