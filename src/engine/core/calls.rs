//! Calls: resolving a PBX call reference to a gateway call, applying call events and
//! snapshots (resynchronisation) to the call model, clearing calls, and the pure helpers
//! that name events, update connections, derive a direction.

use super::{ApiEvent, Engine, unix_ms};
use crate::model::{
    Call, CallEvent, CallEventKind, CallId, CallRef, Connection, ConnectionState, ConnectionUpdate,
    DeviceId, Direction, LinkId, SnapshotCall,
};
use std::time::Instant;

impl Engine {
    pub(super) fn resolve_or_create(
        &mut self,
        link: &LinkId,
        pbx: &str,
        time: Option<u64>,
    ) -> CallId {
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

    pub(super) fn on_call_event(&mut self, link: &LinkId, ev: CallEvent, now: Instant) {
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

    pub(super) fn apply_call_event(&mut self, link: &LinkId, ev: CallEvent, now: Instant) {
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
                            // the surviving call keeps its own initiator
                            call.connections.push(Connection {
                                id: format!("{}/{}", id, conn.device),
                                initiator: false,
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
        // the legs as they were before this change: a call it ends is shown with them all
        let prior = call.connections.clone();
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
        settle_initiator(call);
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
        // answered means a called party answered: a leg other than the caller's is talking
        let called_answered = call.connections.iter().any(|c| {
            !c.initiator && matches!(c.state, ConnectionState::Connected | ConnectionState::Held)
        });
        if call.answered_at.is_none()
            && called_answered
            && (ev.kind == CallEventKind::Established || settled && connected >= 2)
        {
            call.answered_at = Some(ev.time.unwrap_or_else(unix_ms));
        }
        if ev.kind == CallEventKind::Conferenced || settled && connected >= 3 {
            call.conference = true;
        }
        call.direction = direction_of(call, is_internal);

        let still_seen = call.connections.iter().any(|c| c.monitored);
        if !still_seen && created {
            // an event about a call none of our devices is in: nothing to show
            self.calls.remove(&id);
            self.refs.retain(|_, v| v != &id);
            return;
        }
        if !still_seen {
            // the last monitored leg has just gone: the devices it was on see the end, with
            // every leg the call had before this change (the one that just left included)
            call.connections = ended_legs(&prior, &call.connections);
            settle_initiator(call);
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
    pub(super) fn clear_call(
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

    pub(super) fn on_snapshot(
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
}

/// The legs a call that has just ended is shown with: those it had before the change that
/// ended it, in their order (with their latest state when still there), then any the change
/// added. `clear_call` marks them all `null`.
fn ended_legs(prior: &[Connection], now: &[Connection]) -> Vec<Connection> {
    let mut legs: Vec<Connection> = prior
        .iter()
        .map(|p| {
            now.iter()
                .find(|c| c.device == p.device)
                .unwrap_or(p)
                .clone()
        })
        .collect();
    for c in now {
        if !legs.iter().any(|l| l.device == c.device) {
            legs.push(c.clone());
        }
    }
    legs
}

/// One initiator per call at most: the calling party's leg when the PBX named it and it is
/// in the call, else the first leg marked so.
fn settle_initiator(call: &mut Call) {
    let calling = call
        .calling
        .as_ref()
        .map(|p| DeviceId::new(&p.number))
        .filter(|d| call.connections.iter().any(|c| &c.device == d));
    let mut seen = false;
    for c in &mut call.connections {
        c.initiator = match &calling {
            Some(d) => &c.device == d,
            None => c.initiator && !seen,
        };
        seen |= c.initiator;
    }
}

pub(super) fn call_event_name(kind: CallEventKind) -> &'static str {
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

pub(super) fn apply_update(
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
            answering: false,
        }),
    }
}

/// Inbound when the caller is outside the site; outbound when one of ours calls outside;
/// internal otherwise. Without a calling number, the initiating leg decides.
pub(super) fn direction_of(call: &Call, is_internal: impl Fn(&str) -> bool) -> Direction {
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
