//! The simulated OXE's switch, without I/O: calls between extensions and outside numbers
//! (through a trunk), monitors with a licence limit, CSTA Phase II requests in, the event
//! reports an OXE would send each monitor out, with OXE's habits: 4-byte dynamic device ids
//! in connections, extensions as `[4]` implicitPrivate, outside numbers as `[2]`
//! implicitPublic with the outside-line prefix, an ALE private data block with the event
//! time on every event.
//!
//! CCD agents and timer 384 (PROTOCOLS.md section 2): when the distant party of an agent's
//! call hangs up, with `timer_384_zero` the agent's own connectionCleared follows at once;
//! without it only the distant party's connectionCleared is sent and the agent's connection
//! stays `connected` (no callCleared) until the agent or the gateway clears it.

use ctigw_codecs::csta_ber::events::*;
use ctigw_codecs::csta_ber::private_data::{PrivateData, UtcTime};
use ctigw_codecs::csta_ber::rose::{OperationResult, ReturnResult};
use ctigw_codecs::csta_ber::services::*;
use ctigw_codecs::csta_ber::types::*;
use ctigw_codecs::csta_ber::{
    Argument, CstaEvent, EventCause as C, EventReport, Invoke, Pdu, ReturnError, RoseApdu,
    UniversalFailure,
};
use std::collections::{BTreeMap, HashMap, HashSet};

use LocalConnectionState as L;

/// What the simulated switch is.
#[derive(Debug, Clone)]
pub struct SwitchConfig {
    /// The extensions of the switch (monitorable; any other number is outside).
    pub extensions: Vec<String>,
    /// CSTA monitor licences: MonitorStart beyond this fails `overallMonitorLimitExceeded`.
    pub monitor_limit: usize,
    /// OXE system timer 384 set to 0: a CCD agent is freed as soon as the caller hangs up.
    pub timer_384_zero: bool,
    /// CCD agents: (extension, agent id), logged on and ready at start.
    pub agents: Vec<(String, String)>,
    /// Event time: `Some(unix s)` for reproducible transcripts (one second per event), else
    /// the wall clock.
    pub fixed_clock: Option<i64>,
}

impl Default for SwitchConfig {
    fn default() -> Self {
        SwitchConfig {
            extensions: (24101..=24110).map(|n| n.to_string()).collect(),
            monitor_limit: 100,
            timer_384_zero: true,
            agents: vec![("24110".into(), "4001".into())],
            fixed_clock: None,
        }
    }
}

#[derive(Debug, Clone)]
struct Party {
    device: String,
    state: L,
    dynid: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Call {
    parties: Vec<Party>,
    calling: String,
    called: String,
    /// distributed to a CCD agent
    agent: Option<String>,
}

type Failure = UniversalFailure;

fn op_err(e: OperationError) -> Failure {
    UniversalFailure::OperationErrors(e)
}
fn state_err(e: StateError) -> Failure {
    UniversalFailure::StateErrors(e)
}

/// The switch.
pub struct Switch {
    pub cfg: SwitchConfig,
    calls: BTreeMap<u16, Call>,
    next_call: u16,
    monitors: BTreeMap<String, Vec<u8>>,
    next_xref: u32,
    next_trunk: u8,
    next_invoke: i64,
    forwards: HashMap<String, String>,
    dnd: HashSet<String>,
    agents: HashMap<String, (String, i64)>,
    out: Vec<Pdu>,
    clock: i64,
}

impl Switch {
    pub fn new(cfg: SwitchConfig) -> Self {
        let agents = cfg
            .agents
            .iter()
            .map(|(d, a)| (d.clone(), (a.clone(), 7)))
            .collect();
        Switch {
            clock: cfg.fixed_clock.unwrap_or(0),
            cfg,
            calls: BTreeMap::new(),
            next_call: 0x2b00,
            monitors: BTreeMap::new(),
            next_xref: 0x0135_f300,
            next_trunk: 0,
            next_invoke: 0x2a00,
            forwards: HashMap::new(),
            dnd: HashSet::new(),
            agents,
            out: Vec::new(),
        }
    }

    pub fn is_extension(&self, n: &str) -> bool {
        self.cfg.extensions.iter().any(|e| e == n)
    }

    /// The PDUs produced so far (to send to the client, in order).
    pub fn take(&mut self) -> Vec<Pdu> {
        std::mem::take(&mut self.out)
    }

    /// Calls in progress (callID, parties).
    pub fn calls(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.calls
            .iter()
            .map(|(id, c)| {
                (
                    format!("{id:04x}"),
                    c.parties
                        .iter()
                        .map(|p| (p.device.clone(), p.state.to_string()))
                        .collect(),
                )
            })
            .collect()
    }

    pub fn monitored(&self) -> Vec<String> {
        self.monitors.keys().cloned().collect()
    }

    /// A PBX restart: every call and every monitor is gone.
    pub fn reset(&mut self) {
        self.calls.clear();
        self.monitors.clear();
    }

    /// The client's association ended: its monitors end with it (calls go on).
    pub fn association_lost(&mut self) {
        self.monitors.clear();
    }

    fn invoke_id(&mut self) -> i64 {
        self.next_invoke = if self.next_invoke >= 0x7fff {
            0x2a00
        } else {
            self.next_invoke + 1
        };
        self.next_invoke
    }

    /// The PBX's keep-alive (SystemStatus normal).
    pub fn keep_alive(&mut self) -> Pdu {
        let id = self.invoke_id();
        ctigw_codecs::csta_ber::requests::system_status(id, SystemStatus::Normal)
    }

    fn dynid(&mut self, device: &str) -> Vec<u8> {
        match self.cfg.extensions.iter().position(|e| e == device) {
            Some(i) => vec![0x08, 0xb0u8.wrapping_add(i as u8), 0x01, 0x00],
            None => {
                self.next_trunk = self.next_trunk.wrapping_add(1);
                vec![0x0b, 0xff, 0x01, self.next_trunk]
            }
        }
    }

    fn device<const N: u32>(&self, number: &str) -> AppDevice<N> {
        if self.is_extension(number) {
            AppDevice::device(DeviceId::ImplicitPrivate(number.into()))
        } else {
            AppDevice::device(DeviceId::ImplicitPublic(number.into()))
        }
    }

    fn conn(call: u16, p: &Party) -> ConnectionId {
        ConnectionId::dynamic(&call.to_be_bytes(), &p.dynid)
    }

    fn party(&self, call: u16, dev: &str) -> Option<&Party> {
        self.calls
            .get(&call)?
            .parties
            .iter()
            .find(|p| p.device == dev)
    }

    fn state(&self, call: u16, dev: &str) -> Option<L> {
        self.party(call, dev).map(|p| p.state)
    }

    fn set(&mut self, call: u16, dev: &str, state: L) {
        let dynid = self
            .party(call, dev)
            .map(|p| p.dynid.clone())
            .unwrap_or_else(|| self.dynid(dev));
        if let Some(c) = self.calls.get_mut(&call) {
            match c.parties.iter_mut().find(|p| p.device == dev) {
                Some(p) => p.state = state,
                None => c.parties.push(Party {
                    device: dev.to_string(),
                    state,
                    dynid,
                }),
            }
            c.parties.retain(|p| p.state != L::Null);
        }
    }

    fn time(&mut self) -> PrivateData {
        let secs = match self.cfg.fixed_clock {
            Some(_) => {
                self.clock += 1;
                self.clock
            }
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0),
        };
        PrivateData {
            timestamp: Some(UtcTime::parse(&utc_time(secs))),
            security_other: vec![],
            items: vec![],
            unknown: vec![],
        }
    }

    /// Sends `make(lci)` to the monitor of every device in `concerned`, each with its own
    /// state in `call` (null when it left).
    fn report(&mut self, call: u16, concerned: &[String], make: impl Fn(L) -> CstaEvent) {
        let mut seen = HashSet::new();
        for dev in concerned {
            if !seen.insert(dev.clone()) {
                continue;
            }
            let Some(xref) = self.monitors.get(dev).cloned() else {
                continue;
            };
            let lci = self.state(call, dev).unwrap_or(L::Null);
            let mut r = EventReport::new(&xref, make(lci));
            r.private_data = Some(self.time());
            let id = self.invoke_id();
            self.out.push(Pdu::Rose(RoseApdu::Invoke(Invoke::new(
                id,
                Argument::CstaEventReport(r),
            ))));
        }
    }

    fn devices_of(&self, call: u16) -> Vec<String> {
        self.calls
            .get(&call)
            .map(|c| c.parties.iter().map(|p| p.device.clone()).collect())
            .unwrap_or_default()
    }

    /// `from` dials `to`; returns the callID.
    pub fn originate(&mut self, from: &str, to: &str) -> u16 {
        self.next_call = self.next_call.wrapping_add(1).max(1);
        let id = self.next_call;
        self.calls.insert(
            id,
            Call {
                parties: vec![],
                calling: from.into(),
                called: to.into(),
                agent: None,
            },
        );
        let from_s = from.to_string();
        if self.is_extension(from) {
            self.set(id, from, L::Initiated);
            let p = self.party(id, from).cloned();
            if let Some(p) = p {
                self.report(id, std::slice::from_ref(&from_s), |lci| {
                    CstaEvent::ServiceInitiated(ServiceInitiatedEvent {
                        initiated_connection: Self::conn(id, &p),
                        local_connection_info: Some(lci),
                        cause: Some(C::NewCall),
                        unknown: vec![],
                    })
                });
            }
            self.set(id, from, L::Connected);
            let p = self.party(id, from).cloned();
            let (calling, called) = (self.device(from), self.device(to));
            if let Some(p) = p {
                self.report(id, &[from_s], |lci| {
                    CstaEvent::Originated(OriginatedEvent {
                        originated_connection: Self::conn(id, &p),
                        calling_device: Some(calling.clone()),
                        called_device: Some(called.clone()),
                        local_connection_info: Some(lci),
                        cause: Some(C::NewCall),
                        unknown: vec![],
                    })
                });
            }
        } else {
            // from a trunk: the outside caller is there already
            self.set(id, from, L::Connected);
        }
        self.route(id, to, C::NewCall);
        id
    }

    /// Offers `call` to `to` (forwarding and DND applied).
    fn route(&mut self, id: u16, to: &str, cause: C) {
        let mut to = to.to_string();
        if let Some(dest) = self.forwards.get(&to).cloned()
            && dest != to
        {
            // the forwarding device is offered the call and diverts it at once
            let dynid = self.dynid(&to);
            let p = Party {
                device: to.clone(),
                state: L::Null,
                dynid,
            };
            let (div, new) = (self.device(&to), self.device(&dest));
            self.report(id, std::slice::from_ref(&to), |lci| {
                CstaEvent::Diverted(DivertedEvent {
                    connection: Some(Self::conn(id, &p)),
                    diverting_device: Some(div.clone()),
                    new_destination: Some(new.clone()),
                    new_destination_subject: None,
                    local_connection_info: Some(lci),
                    cause: Some(C::CallForwardAlways),
                    unknown: vec![],
                })
            });
            if let Some(c) = self.calls.get_mut(&id) {
                c.called = dest.clone();
            }
            to = dest;
        }
        let Some(c) = self.calls.get(&id).cloned() else {
            return;
        };
        if self.dnd.contains(&to) || self.state(id, &to).is_some() {
            let p = Party {
                device: to.clone(),
                state: L::Fail,
                dynid: self.dynid(&to),
            };
            let mut concerned = self.devices_of(id);
            concerned.push(to.clone());
            let (failing, called) = (self.device(&to), self.device(&c.called));
            self.report(id, &concerned, |lci| {
                CstaEvent::Failed(FailedEvent {
                    failed_connection: Self::conn(id, &p),
                    failing_device: Some(failing.clone()),
                    called_device: Some(called.clone()),
                    local_connection_info: Some(lci),
                    cause: Some(C::DoNotDisturb),
                    unknown: vec![],
                })
            });
            return;
        }
        if !self.is_extension(&to) {
            self.set(id, &to, L::Alerting);
            let Some(p) = self.party(id, &to).cloned() else {
                return;
            };
            let called = self.device(&to);
            let concerned = self.devices_of(id);
            self.report(id, &concerned, |lci| {
                CstaEvent::NetworkReached(NetworkReachedEvent {
                    connection: Self::conn(id, &p),
                    trunk_used: None,
                    called_device: Some(called.clone()),
                    local_connection_info: Some(lci),
                    cause: Some(C::NewCall),
                    unknown: vec![],
                })
            });
            return;
        }
        if self.agents.get(&to).is_some_and(|(_, s)| *s == 7)
            && let Some(call) = self.calls.get_mut(&id)
        {
            call.agent = Some(to.clone());
        }
        self.set(id, &to, L::Alerting);
        let Some(p) = self.party(id, &to).cloned() else {
            return;
        };
        let (alerting, calling, called) = (
            self.device(&to),
            self.device(&c.calling),
            self.device(&c.called),
        );
        let concerned = self.devices_of(id);
        let cause = if self.calls.get(&id).is_some_and(|c| c.agent.is_some()) {
            C::Distributed
        } else {
            cause
        };
        self.report(id, &concerned, |lci| {
            CstaEvent::Delivered(DeliveredEvent {
                connection: Self::conn(id, &p),
                alerting_device: Some(alerting.clone()),
                calling_device: Some(calling.clone()),
                called_device: Some(called.clone()),
                last_redirection_device: Some(AppDevice(DeviceRef::NotRequired)),
                local_connection_info: Some(lci),
                cause: Some(cause),
                unknown: vec![],
            })
        });
    }

    pub fn answer(&mut self, id: u16, dev: &str) -> Result<(), Failure> {
        match self.state(id, dev) {
            Some(L::Alerting) | Some(L::Queued) => {}
            Some(_) => return Err(state_err(StateError::NoCallToAnswer)),
            None => return Err(op_err(OperationError::InvalidCallIdentifier)),
        }
        self.set(id, dev, L::Connected);
        let Some(c) = self.calls.get(&id).cloned() else {
            return Ok(());
        };
        let Some(p) = self.party(id, dev).cloned() else {
            return Ok(());
        };
        let (ans, calling, called) = (
            self.device(dev),
            self.device(&c.calling),
            self.device(&c.called),
        );
        let cause = if self.is_extension(dev) {
            C::NewCall
        } else {
            C::NetworkSignal
        };
        let concerned = self.devices_of(id);
        self.report(id, &concerned, |lci| {
            CstaEvent::Established(EstablishedEvent {
                established_connection: Self::conn(id, &p),
                answering_device: Some(ans.clone()),
                calling_device: Some(calling.clone()),
                called_device: Some(called.clone()),
                last_redirection_device: Some(AppDevice(DeviceRef::NotRequired)),
                local_connection_info: Some(lci),
                cause: Some(cause),
                unknown: vec![],
            })
        });
        if let Some((agent, _)) = self.agents.get(dev).cloned()
            && self.calls.get(&id).and_then(|c| c.agent.as_deref()) == Some(dev)
        {
            let _ = agent; // busy on a distributed call: CCD reports no state change here
        }
        Ok(())
    }

    fn cleared(&mut self, id: u16, dev: &str, concerned: &[String], cause: C) {
        let Some(p) = self.party(id, dev).cloned() else {
            return;
        };
        self.set(id, dev, L::Null);
        let rel = self.device(dev);
        self.report(id, concerned, |lci| {
            CstaEvent::ConnectionCleared(ConnectionClearedEvent {
                dropped_connection: Self::conn(id, &p),
                releasing_device: Some(rel.clone()),
                local_connection_info: Some(lci),
                cause: Some(cause),
                unknown: vec![],
            })
        });
    }

    /// `dev` hangs up (ClearConnection or the set going on hook).
    pub fn clear(&mut self, id: u16, dev: &str) -> Result<(), Failure> {
        if self.state(id, dev).is_none() {
            return Err(if self.calls.contains_key(&id) {
                state_err(StateError::NoConnectionToClear)
            } else {
                op_err(OperationError::InvalidCallIdentifier)
            });
        }
        let concerned = self.devices_of(id);
        self.cleared(id, dev, &concerned, C::NormalClearing);
        let left = self.devices_of(id);
        if left.len() >= 2 {
            return Ok(());
        }
        let agent = self.calls.get(&id).and_then(|c| c.agent.clone());
        if let Some(last) = left.first() {
            if agent.as_deref() == Some(last.as_str()) && !self.cfg.timer_384_zero {
                // timer 384 > 0: the agent's set stays busy, no callCleared
                return Ok(());
            }
            self.cleared(id, &last.clone(), &concerned, C::NormalClearing);
        }
        self.call_cleared(id, &concerned);
        Ok(())
    }

    fn call_cleared(&mut self, id: u16, concerned: &[String]) {
        let p = Party {
            device: String::new(),
            state: L::Null,
            dynid: vec![0, 0, 0, 0],
        };
        self.report(id, concerned, |lci| {
            CstaEvent::CallCleared(CallClearedEvent {
                cleared_call: ConnectionId {
                    call: Some(id.to_be_bytes().to_vec()),
                    device: None,
                    unknown: vec![],
                },
                local_connection_info: Some(lci),
                cause: Some(C::NormalClearing),
                unknown: vec![],
            })
        });
        let _ = p;
        self.calls.remove(&id);
    }

    /// `dev` puts call `id` on hold; `cause` is the Held event's (none for a plain hold, as the
    /// real OXE's Retrieved carries none; `consultation` when a consultation call follows).
    pub fn hold(&mut self, id: u16, dev: &str, cause: Option<C>) -> Result<(), Failure> {
        match self.state(id, dev) {
            Some(L::Connected) => {}
            Some(_) => return Err(state_err(StateError::NoActiveCall)),
            None => return Err(op_err(OperationError::InvalidCallIdentifier)),
        }
        self.set(id, dev, L::Hold);
        let Some(p) = self.party(id, dev).cloned() else {
            return Ok(());
        };
        let holding = self.device(dev);
        let concerned = self.devices_of(id);
        self.report(id, &concerned, |lci| {
            CstaEvent::Held(HeldEvent {
                held_connection: Self::conn(id, &p),
                holding_device: Some(holding.clone()),
                local_connection_info: Some(lci),
                cause,
                unknown: vec![],
            })
        });
        Ok(())
    }

    pub fn retrieve(&mut self, id: u16, dev: &str) -> Result<(), Failure> {
        match self.state(id, dev) {
            Some(L::Hold) => {}
            Some(_) => return Err(state_err(StateError::NoHeldCall)),
            None => return Err(op_err(OperationError::InvalidCallIdentifier)),
        }
        self.set(id, dev, L::Connected);
        let Some(p) = self.party(id, dev).cloned() else {
            return Ok(());
        };
        let retrieving = self.device(dev);
        let concerned = self.devices_of(id);
        self.report(id, &concerned, |lci| {
            CstaEvent::Retrieved(RetrievedEvent {
                retrieved_connection: Self::conn(id, &p),
                retrieving_device: Some(retrieving.clone()),
                local_connection_info: Some(lci),
                cause: None,
                unknown: vec![],
            })
        });
        Ok(())
    }

    /// Holds `id` (cause consultation) and calls `to`; returns the consultation callID.
    pub fn consult(&mut self, id: u16, dev: &str, to: &str) -> Result<u16, Failure> {
        if self.state(id, dev) == Some(L::Connected) {
            self.hold(id, dev, Some(C::Consultation))?;
        } else if self.state(id, dev) != Some(L::Hold) {
            return Err(op_err(OperationError::InvalidCallIdentifier));
        }
        Ok(self.originate(dev, to))
    }

    /// Transfer (`conference = false`: `dev` leaves) or conference of the held and the active
    /// call of `dev`; the held call survives.
    pub fn join(
        &mut self,
        held: u16,
        active: u16,
        dev: &str,
        conference: bool,
    ) -> Result<(), Failure> {
        if self.state(held, dev) != Some(L::Hold) {
            return Err(state_err(StateError::NoHeldCall));
        }
        if self.state(active, dev).is_none() {
            return Err(state_err(StateError::NoActiveCall));
        }
        let (Some(h), Some(a)) = (
            self.calls.get(&held).cloned(),
            self.calls.get(&active).cloned(),
        ) else {
            return Err(op_err(OperationError::InvalidCallIdentifier));
        };
        let (Some(dev_h), Some(dev_a)) = (
            self.party(held, dev).cloned(),
            self.party(active, dev).cloned(),
        ) else {
            return Err(op_err(OperationError::InvalidConnectionIdentifier));
        };
        let mut concerned: Vec<String> = h.parties.iter().map(|p| p.device.clone()).collect();
        concerned.extend(a.parties.iter().map(|p| p.device.clone()));
        let mut list = Vec::new();
        let mut added = None;
        for p in a.parties.iter().filter(|p| p.device != dev) {
            added.get_or_insert_with(|| p.device.clone());
            list.push(ConnectionListItem::Item(ConnectionListEntry {
                new_connection: Some(Self::conn(held, p)),
                old_connection: Some(Self::conn(active, p)),
                endpoint: None,
                unknown: vec![],
            }));
        }
        for p in h.parties.iter().filter(|p| p.device != dev) {
            list.push(ConnectionListItem::Item(ConnectionListEntry {
                new_connection: Some(Self::conn(held, p)),
                old_connection: Some(Self::conn(held, p)),
                endpoint: None,
                unknown: vec![],
            }));
        }
        // the new state of the switch: one call (`held`) with everyone
        self.calls.remove(&active);
        if let Some(c) = self.calls.get_mut(&held) {
            for p in a.parties.iter().filter(|p| p.device != dev) {
                c.parties.push(p.clone());
            }
            for p in &mut c.parties {
                if p.state == L::Hold {
                    p.state = L::Connected;
                }
            }
            if !conference {
                c.parties.retain(|p| p.device != dev);
            }
            if c.agent.is_none() {
                c.agent = a.agent.clone();
            }
        }
        let actor = self.device(dev);
        let added_dev = added.map(|d| self.device::<3>(&d));
        let conn_list = ConnectionList(list);
        self.report(held, &concerned, |lci| {
            if conference {
                CstaEvent::Conferenced(ConferencedEvent {
                    primary_old_call: Self::conn(held, &dev_h),
                    secondary_old_call: Some(Self::conn(active, &dev_a)),
                    conferencing_device: Some(actor.clone()),
                    added_party: added_dev.clone(),
                    conference_connections: Some(conn_list.clone()),
                    local_connection_info: Some(lci),
                    cause: Some(C::KeyConference),
                    unknown: vec![],
                })
            } else {
                CstaEvent::Transferred(TransferredEvent {
                    primary_old_call: Self::conn(held, &dev_h),
                    secondary_old_call: Some(Self::conn(active, &dev_a)),
                    transferring_device: Some(actor.clone()),
                    transferred_device: added_dev.clone(),
                    transferred_connections: Some(conn_list.clone()),
                    local_connection_info: Some(lci),
                    cause: Some(C::Transfer),
                    unknown: vec![],
                })
            }
        });
        if self.devices_of(held).len() < 2 {
            let concerned = self.devices_of(held);
            self.call_cleared(held, &concerned);
        }
        Ok(())
    }

    /// Sends an alerting call on to `to`.
    pub fn deflect(&mut self, id: u16, dev: &str, to: &str) -> Result<(), Failure> {
        if self.state(id, dev) != Some(L::Alerting) {
            return Err(state_err(StateError::InvalidObjectState));
        }
        let Some(p) = self.party(id, dev).cloned() else {
            return Err(op_err(OperationError::InvalidConnectionIdentifier));
        };
        let concerned = self.devices_of(id);
        self.set(id, dev, L::Null);
        let (div, new) = (self.device(dev), self.device(to));
        self.report(id, &concerned, |lci| {
            CstaEvent::Diverted(DivertedEvent {
                connection: Some(Self::conn(id, &p)),
                diverting_device: Some(div.clone()),
                new_destination: Some(new.clone()),
                new_destination_subject: None,
                local_connection_info: Some(lci),
                cause: Some(C::Redirected),
                unknown: vec![],
            })
        });
        if let Some(c) = self.calls.get_mut(&id) {
            c.called = to.to_string();
        }
        self.route(id, to, C::Redirected);
        Ok(())
    }

    pub fn set_forward(&mut self, dev: &str, t: ForwardingType, dn: Option<String>) {
        let on = matches!(t, ForwardingType::ForwardImmediateOn);
        match (t, dn.clone()) {
            (ForwardingType::ForwardImmediateOn, Some(d)) => {
                self.forwards.insert(dev.to_string(), d);
            }
            (ForwardingType::ForwardImmediateOff, _) => {
                self.forwards.remove(dev);
            }
            _ => {}
        }
        let d = self.device(dev);
        let p = ForwardParameter {
            forwarding_type: t,
            forward_dn: if on {
                dn.map(|s| s.as_str().into())
            } else {
                None
            },
            forward_device: None,
            unknown: vec![],
        };
        self.feature(
            dev,
            CstaEvent::Forwarding(ForwardingEvent {
                device: Some(d),
                forwarding_information: Some(p),
                unknown: vec![],
            }),
        );
    }

    pub fn set_dnd(&mut self, dev: &str, on: bool) {
        if on {
            self.dnd.insert(dev.to_string());
        } else {
            self.dnd.remove(dev);
        }
        let d = self.device(dev);
        self.feature(
            dev,
            CstaEvent::DoNotDisturb(DoNotDisturbEvent {
                device: Some(d),
                do_not_disturb_on: Some(on),
                unknown: vec![],
            }),
        );
    }

    /// A CCD agent changes state (loggedOn 0, loggedOff 1, notReady 2, ready 3,
    /// workNotReady 4, workReady 5).
    pub fn agent_state(
        &mut self,
        dev: &str,
        agent: Option<String>,
        state: i64,
    ) -> Result<(), Failure> {
        let id = match (self.agents.get(dev), agent) {
            (_, Some(a)) => a,
            (Some((a, _)), None) => a.clone(),
            (None, None) => return Err(op_err(OperationError::InvalidDeviceIdentifier)),
        };
        let (tag_state, ev) = match state {
            0 => (7, 0),
            1 => (5, 1),
            2 => (6, 2),
            3 => (7, 3),
            4 => (8, 4),
            5 => (9, 5),
            _ => return Err(op_err(OperationError::ValueOutOfRange)),
        };
        self.agents.insert(dev.to_string(), (id.clone(), tag_state));
        let body = AgentEvent {
            agent_device: Some(self.device(dev)),
            agent_id: Some(AgentId(id.as_str().into())),
            agent_group: None,
            password: None,
            unknown: vec![],
        };
        let e = match ev {
            0 => CstaEvent::AgentLoggedOn(body),
            1 => CstaEvent::AgentLoggedOff(body),
            2 => CstaEvent::AgentNotReady(body),
            3 => CstaEvent::AgentReady(body),
            4 => CstaEvent::AgentWorkingAfterCall(body),
            _ => CstaEvent::AgentWorkReady(body),
        };
        self.feature(dev, e);
        Ok(())
    }

    fn feature(&mut self, dev: &str, e: CstaEvent) {
        let Some(xref) = self.monitors.get(dev).cloned() else {
            return;
        };
        let mut r = EventReport::new(&xref, e);
        r.private_data = Some(self.time());
        let id = self.invoke_id();
        self.out.push(Pdu::Rose(RoseApdu::Invoke(Invoke::new(
            id,
            Argument::CstaEventReport(r),
        ))));
    }

    fn snapshot(&self, dev: &str) -> SnapshotDeviceResult {
        let data = self
            .calls
            .iter()
            .filter_map(|(id, c)| {
                let p = c.parties.iter().find(|p| p.device == dev)?;
                Some(SnapshotDeviceResponseInfo {
                    device_on_call: None,
                    call_identifier: Self::conn(*id, p),
                    local_connection_state: Some(p.state),
                    local_call_state: None,
                    unknown: vec![],
                })
            })
            .collect();
        SnapshotDeviceResult {
            snapshot_data: data,
            in_sequence: false,
            unknown: vec![],
        }
    }

    /// Finds the call and device a request's ConnectionID names.
    fn locate(&self, c: &ConnectionId) -> Result<(u16, String), Failure> {
        let id = c
            .call
            .as_ref()
            .filter(|b| b.len() == 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or(op_err(OperationError::InvalidCallIdentifier))?;
        let call = self
            .calls
            .get(&id)
            .ok_or(op_err(OperationError::InvalidCallIdentifier))?;
        let p = match &c.device {
            Some(LocalDeviceId::DynamicId(d)) => call.parties.iter().find(|p| &p.dynid == d),
            Some(LocalDeviceId::StaticId(d)) => {
                let n = d.digits().and_then(|x| x.as_str()).unwrap_or("");
                call.parties.iter().find(|p| p.device == n)
            }
            None => None,
        }
        .ok_or(op_err(OperationError::InvalidConnectionIdentifier))?;
        Ok((id, p.device.clone()))
    }

    fn result(&mut self, invoke_id: i64, opcode: i64, value: ResultValue) {
        self.out
            .push(Pdu::Rose(RoseApdu::ReturnResult(ReturnResult {
                invoke_id,
                result: Some(OperationResult {
                    opcode,
                    value: Some(value),
                    unknown: vec![],
                }),
                unknown: vec![],
            })));
    }

    fn error(&mut self, invoke_id: i64, f: Failure) {
        self.out.push(Pdu::Rose(RoseApdu::ReturnError(ReturnError {
            invoke_id,
            error_value: 1,
            parameter: Some(ErrorParameter::UniversalFailure(f)),
            unknown: vec![],
        })));
    }

    /// One request from the client: its answer first, then the events it causes.
    pub fn on_invoke(&mut self, inv: &Invoke) {
        let id = inv.invoke_id;
        let op = inv.opcode();
        // events go after the answer: build them aside
        let before = std::mem::take(&mut self.out);
        let r: Result<Option<ResultValue>, Failure> = self.execute(&inv.argument);
        let events = std::mem::replace(&mut self.out, before);
        match r {
            Ok(v) => self.result(id, op, v.unwrap_or(ResultValue::Null)),
            Err(f) => self.error(id, f),
        }
        self.out.extend(events);
    }

    fn execute(&mut self, arg: &Argument) -> Result<Option<ResultValue>, Failure> {
        use Argument as A;
        let number = |d: &DeviceId| {
            d.digits()
                .and_then(|x| x.as_str())
                .unwrap_or("")
                .to_string()
        };
        match arg {
            A::MonitorStart(m) => {
                let MonitorObject::Device(d) = &m.monitor_object else {
                    return Err(op_err(OperationError::InvalidObjectType));
                };
                let dev = number(d);
                if !self.is_extension(&dev) {
                    return Err(op_err(OperationError::InvalidDeviceIdentifier));
                }
                if let Some(x) = self.monitors.get(&dev) {
                    return Ok(Some(ResultValue::MonitorStart(MonitorStartResult {
                        cross_ref_identifier: MonitorCrossRefId(x.clone()),
                        monitor_filter: None,
                        unknown: vec![],
                    })));
                }
                if self.monitors.len() >= self.cfg.monitor_limit {
                    return Err(UniversalFailure::SystemResourceErrors(
                        SystemResourceError::OverallMonitorLimitExceeded,
                    ));
                }
                self.next_xref = self.next_xref.wrapping_add(0x100);
                let x = self.next_xref.to_be_bytes().to_vec();
                self.monitors.insert(dev, x.clone());
                Ok(Some(ResultValue::MonitorStart(MonitorStartResult {
                    cross_ref_identifier: MonitorCrossRefId(x),
                    monitor_filter: None,
                    unknown: vec![],
                })))
            }
            A::MonitorStop(m) => {
                self.monitors.retain(|_, x| x != &m.cross_ref_identifier.0);
                Ok(None)
            }
            A::SnapshotDevice(s) => {
                let dev = number(&s.snapshot_object);
                Ok(Some(ResultValue::SnapshotDevice(self.snapshot(&dev))))
            }
            A::SystemStatus(_) => Ok(None),
            A::MakeCall(m) => {
                let from = number(&m.calling_device);
                let to = m
                    .called_directory_number
                    .digits()
                    .and_then(|d| d.as_str())
                    .unwrap_or("")
                    .to_string();
                if !self.is_extension(&from) {
                    return Err(op_err(OperationError::InvalidCallingDevice));
                }
                if to.is_empty() {
                    return Err(op_err(OperationError::InvalidCalledDevice));
                }
                let id = self.originate(&from, &to);
                let p = self.party(id, &from).cloned();
                Ok(p.map(|p| ResultValue::Connection(ConnectionResult::new(Self::conn(id, &p)))))
            }
            A::AnswerCall(c) => {
                let (id, dev) = self.locate(&c.connection)?;
                self.answer(id, &dev).map(|_| None)
            }
            A::ClearConnection(c) => {
                let (id, dev) = self.locate(&c.connection)?;
                self.clear(id, &dev).map(|_| None)
            }
            A::ClearCall(c) => {
                let (id, _) = self.locate(&c.connection)?;
                let concerned = self.devices_of(id);
                for d in concerned.clone() {
                    self.cleared(id, &d, &concerned, C::NormalClearing);
                }
                self.call_cleared(id, &concerned);
                Ok(None)
            }
            A::HoldCall(h) => {
                let (id, dev) = self.locate(&h.call_to_be_held)?;
                self.hold(id, &dev, None).map(|_| None)
            }
            A::RetrieveCall(c) => {
                let (id, dev) = self.locate(&c.connection)?;
                self.retrieve(id, &dev).map(|_| None)
            }
            A::ConsultationCall(c) => {
                let (id, dev) = self.locate(&c.existing_call)?;
                let to = c
                    .called_directory_number
                    .digits()
                    .and_then(|d| d.as_str())
                    .unwrap_or("")
                    .to_string();
                let new = self.consult(id, &dev, &to)?;
                let p = self.party(new, &dev).cloned();
                Ok(p.map(|p| ResultValue::Connection(ConnectionResult::new(Self::conn(new, &p)))))
            }
            A::TransferCall(d) | A::ConferenceCall(d) | A::AlternateCall(d) => {
                let (ConnectionDetails::BothCalls(pair) | ConnectionDetails::Sequence(pair)) = d
                else {
                    return Err(op_err(OperationError::ValueOutOfRange));
                };
                let (held, dev) = self.locate(&pair.held_call)?;
                let (active, dev2) = self.locate(&pair.active_call)?;
                if dev != dev2 {
                    return Err(op_err(OperationError::RequestIncompatibleWithObject));
                }
                match arg {
                    A::TransferCall(_) => self.join(held, active, &dev, false).map(|_| None),
                    A::ConferenceCall(_) => self.join(held, active, &dev, true).map(|_| None),
                    _ => {
                        self.hold(active, &dev, Some(C::Alternate))?;
                        self.retrieve(held, &dev).map(|_| None)
                    }
                }
            }
            A::DivertCall(DivertCallArg::Deflect(d)) => {
                let (id, dev) = self.locate(&d.call_to_be_diverted)?;
                let to = d
                    .new_destination
                    .digits()
                    .and_then(|x| x.as_str())
                    .unwrap_or("")
                    .to_string();
                self.deflect(id, &dev, &to).map(|_| None)
            }
            A::SetFeature(s) => {
                let dev = number(&s.device);
                if !self.is_extension(&dev) {
                    return Err(op_err(OperationError::InvalidDeviceIdentifier));
                }
                match &s.feature {
                    SetDeviceFeature::DoNotDisturb(on) => self.set_dnd(&dev, *on),
                    SetDeviceFeature::Forward(f) => self.set_forward(
                        &dev,
                        f.forwarding_type,
                        f.forward_dn.as_ref().map(|d| d.to_string()),
                    ),
                    SetDeviceFeature::Unknown(raw) => {
                        let Some((state, agent)) = requested_agent_state(raw) else {
                            return Err(op_err(OperationError::InvalidFeature));
                        };
                        self.agent_state(&dev, agent, state)?;
                    }
                    SetDeviceFeature::MsgWaitingOn(_) => {}
                }
                Ok(None)
            }
            _ => Err(op_err(OperationError::RequestIncompatibleWithObject)),
        }
    }
}

/// `YYMMDDhhmmssZ` for Unix seconds.
fn utc_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // civil from days (Howard Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{:02}{:02}{:02}{:02}{:02}{:02}Z",
        y.rem_euclid(100),
        m,
        d,
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// The switch's own reading of the OXE's private `requestedAgentState` feature (a SEQUENCE of
/// the ENUMERATED state and, for a CCD agent, the `[10]` agent id), written apart from the
/// gateway's encoder so that a misreading on one side fails the other side's tests.
fn requested_agent_state(
    raw: &ctigw_codecs::csta_ber::common::RawTlv,
) -> Option<(i64, Option<String>)> {
    use ctigw_codecs::csta_ber::ber::{Tag, read_single};
    let seq = read_single(&raw.bytes, "requestedAgentState").ok()?;
    let mut items = seq.reader("requestedAgentState").ok()?;
    let (mut state, mut agent) = (None, None);
    while let Some(item) = items.next("requestedAgentState").ok()? {
        match item.tag {
            t if t == Tag::ENUMERATED => state = Some(item.integer("agentState").ok()?),
            t if t == Tag::context(10) => {
                agent = Some(String::from_utf8_lossy(item.octets("agentID").ok()?).into_owned())
            }
            _ => {}
        }
    }
    Some((state?, agent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_time_matches_the_codec() {
        let s = utc_time(1_740_845_382);
        assert_eq!(s, "250301160942Z");
        assert_eq!(
            ctigw_codecs::csta_ber::private_data::parse_utc_time(&s),
            Some(1_740_845_382)
        );
    }
}
