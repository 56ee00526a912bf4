//! The simulated switch behind both CSTA XML simulators: devices, monitors (with a licence
//! limit), calls and their connections, forwarding, do-not-disturb and agents; requests in,
//! responses and ECMA-323 events (one per monitor that sees the change) out.

use ctigw_codecs::csta_xml::*;
use std::collections::{BTreeMap, HashMap, HashSet};

/// How the switch writes device identifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceForm {
    /// `24101`
    Plain,
    /// `tel:24101` (Cisco's gateway)
    Tel,
    /// `N<24101>;noa=nk` (the vendor form of OpenScape captures)
    Vendor,
}

#[derive(Debug, Clone)]
pub struct SwitchConfig {
    /// Monitors beyond this many are refused with `overallMonitorLimitExceeded`.
    pub monitor_limit: usize,
    pub form: DeviceForm,
    /// Extension length (numbers of this length are internal).
    pub extension_len: usize,
    /// Services the switch answers with `serviceNotSupported` (element names).
    pub unsupported: Vec<String>,
}

impl Default for SwitchConfig {
    fn default() -> Self {
        SwitchConfig {
            monitor_limit: 100,
            form: DeviceForm::Plain,
            extension_len: 5,
            unsupported: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
struct SimCall {
    parties: Vec<(String, LocalConnectionState)>,
    calling: String,
    called: String,
}

/// The switch.
#[derive(Debug)]
pub struct Switch {
    pub cfg: SwitchConfig,
    calls: BTreeMap<String, SimCall>,
    next_call: u32,
    monitors: BTreeMap<String, String>,
    next_xref: u32,
    forwards: HashMap<String, String>,
    dnd: HashSet<String>,
    out: Vec<(String, Message)>,
}

type R = Result<Message, CstaErrorCode>;

fn op_err(v: &str) -> CstaErrorCode {
    CstaErrorCode::new(ErrorCategory::Operation, v)
}

fn state_err(v: &str) -> CstaErrorCode {
    CstaErrorCode::new(ErrorCategory::StateIncompatibility, v)
}

impl Switch {
    pub fn new(cfg: SwitchConfig) -> Self {
        Switch {
            cfg,
            calls: BTreeMap::new(),
            next_call: 0x100,
            monitors: BTreeMap::new(),
            next_xref: 1,
            forwards: HashMap::new(),
            dnd: HashSet::new(),
            out: Vec::new(),
        }
    }

    fn is_ext(&self, d: &str) -> bool {
        d.len() == self.cfg.extension_len && d.bytes().all(|b| b.is_ascii_digit())
    }

    /// A device as the switch writes it.
    pub fn form(&self, d: &str) -> String {
        if !self.is_ext(d) {
            return match self.cfg.form {
                DeviceForm::Tel => format!("tel:{d}"),
                DeviceForm::Vendor => format!("N<{d}>;noa=unknown"),
                DeviceForm::Plain => d.to_string(),
            };
        }
        match self.cfg.form {
            DeviceForm::Plain => d.to_string(),
            DeviceForm::Tel => format!("tel:{d}"),
            DeviceForm::Vendor => format!("N<{d}>Line{d};displayNumber={d}"),
        }
    }

    fn dev(&self, d: &str) -> Device {
        Device::id(self.form(d))
    }

    fn conn(&self, call: &str, d: &str) -> ConnectionId {
        ConnectionId::new(call, self.form(d))
    }

    /// Events produced since the last call, with the cross reference of their monitor.
    pub fn take(&mut self) -> Vec<(String, Message)> {
        std::mem::take(&mut self.out)
    }

    /// Calls in progress: (callID, [(device, state)]).
    pub fn calls(&self) -> Vec<(String, Vec<(String, String)>)> {
        self.calls
            .iter()
            .map(|(k, c)| {
                let p = c
                    .parties
                    .iter()
                    .map(|(d, s)| (d.clone(), s.as_str().to_string()))
                    .collect();
                (k.clone(), p)
            })
            .collect()
    }

    pub fn monitor_count(&self) -> usize {
        self.monitors.len()
    }

    /// The client went away: its monitors with it (calls stay up).
    pub fn session_lost(&mut self) {
        self.monitors.clear();
    }

    /// A restart: calls and monitors gone.
    pub fn reset(&mut self) {
        self.monitors.clear();
        self.calls.clear();
    }

    fn state(&self, call: &str, d: &str) -> Option<LocalConnectionState> {
        self.calls
            .get(call)?
            .parties
            .iter()
            .find(|(x, _)| x == d)
            .map(|(_, s)| *s)
    }

    fn set(&mut self, call: &str, d: &str, s: LocalConnectionState) {
        if let Some(c) = self.calls.get_mut(call) {
            match c.parties.iter_mut().find(|(x, _)| x == d) {
                Some(p) => p.1 = s,
                None => c.parties.push((d.to_string(), s)),
            }
            c.parties.retain(|(_, s)| *s != LocalConnectionState::Null);
        }
    }

    /// Sends `make(lci)` to every monitor of `devices`, with that device's state in `call`.
    fn tell(
        &mut self,
        call: &str,
        devices: &[String],
        make: impl Fn(Option<LocalConnectionState>) -> Message,
    ) {
        let mut told = HashSet::new();
        for d in devices {
            if !told.insert(d.clone()) {
                continue;
            }
            let lci = self.state(call, d).or(Some(LocalConnectionState::Null));
            let xrefs: Vec<String> = self
                .monitors
                .iter()
                .filter(|(_, m)| *m == d)
                .map(|(x, _)| x.clone())
                .collect();
            for x in xrefs {
                let mut msg = make(lci);
                set_xref(&mut msg, &x);
                self.out.push((x, msg));
            }
        }
    }

    fn parties(&self, call: &str) -> Vec<String> {
        self.calls
            .get(call)
            .map(|c| c.parties.iter().map(|(d, _)| d.clone()).collect())
            .unwrap_or_default()
    }

    fn tell_device(&mut self, d: &str, msg: Message) {
        let xrefs: Vec<String> = self
            .monitors
            .iter()
            .filter(|(_, m)| *m == d)
            .map(|(x, _)| x.clone())
            .collect();
        for x in xrefs {
            let mut m = msg.clone();
            set_xref(&mut m, &x);
            self.out.push((x, m));
        }
    }

    // ---- what phones and callers do --------------------------------------------------

    /// `from` dials `to`; returns the callID.
    pub fn originate(&mut self, from: &str, to: &str) -> String {
        use LocalConnectionState as L;
        let id = format!("{:04X}", self.next_call);
        self.next_call += 1;
        let inside = self.is_ext(from);
        self.calls.insert(
            id.clone(),
            SimCall {
                parties: vec![(
                    from.to_string(),
                    if inside { L::Initiated } else { L::Connected },
                )],
                calling: from.to_string(),
                called: to.to_string(),
            },
        );
        if inside {
            let c = self.conn(&id, from);
            let (fd, td) = (self.dev(from), self.dev(to));
            self.tell(&id, &[from.to_string()], |lci| {
                ServiceInitiatedEvent {
                    initiated_connection: c.clone(),
                    initiating_device: Some(fd.clone()),
                    local_connection_info: lci,
                    cause: Some(EventCause::NewCall),
                    ..Default::default()
                }
                .into()
            });
            self.set(&id, from, L::Connected);
            self.tell(&id, &[from.to_string()], |lci| {
                OriginatedEvent {
                    originated_connection: c.clone(),
                    calling_device: fd.clone(),
                    called_device: td.clone(),
                    local_connection_info: lci,
                    cause: Some(EventCause::NewCall),
                    ..Default::default()
                }
                .into()
            });
        }
        self.deliver(&id, to, None);
        id
    }

    /// Offers `call` to `to` (following immediate forwarding once).
    fn deliver(&mut self, id: &str, to: &str, redirected_from: Option<&str>) {
        use LocalConnectionState as L;
        let Some(c) = self.calls.get(id).cloned() else {
            return;
        };
        if !self.is_ext(to) {
            self.set(id, to, L::Alerting);
            let conn = self.conn(id, to);
            let (cd, td) = (self.dev(&c.calling), self.dev(to));
            let iface = self.dev("trunk1");
            let mut ds = self.parties(id);
            ds.retain(|d| d != to);
            self.tell(id, &ds, |lci| {
                NetworkReachedEvent {
                    outbound_connection: conn.clone(),
                    network_interface_used: iface.clone(),
                    calling_device: cd.clone(),
                    called_device: td.clone(),
                    local_connection_info: lci,
                    cause: Some(EventCause::NormalClearing),
                    ..Default::default()
                }
                .into()
            });
            return;
        }
        if redirected_from.is_none()
            && let Some(fwd) = self.forwards.get(to).cloned()
        {
            // forwarded at once: the call is diverted before it rings
            self.set(id, to, L::Alerting);
            let conn = self.conn(id, to);
            let (dd, nd) = (self.dev(to), self.dev(&fwd));
            let mut ds = self.parties(id);
            self.set(id, to, L::Null);
            ds.retain(|_| true);
            self.tell(id, &ds, |lci| {
                DivertedEvent {
                    connection: conn.clone(),
                    diverting_device: dd.clone(),
                    new_destination: nd.clone(),
                    local_connection_info: lci,
                    cause: Some(EventCause::CallForwardImmediate),
                    ..Default::default()
                }
                .into()
            });
            return self.deliver(id, &fwd, Some(to));
        }
        self.set(id, to, L::Alerting);
        let conn = self.conn(id, to);
        let (ad, cd, kd) = (self.dev(to), self.dev(&c.calling), self.dev(&c.called));
        let last = redirected_from.map(|r| self.dev(r));
        let ds = self.parties(id);
        self.tell(id, &ds, |lci| {
            DeliveredEvent {
                connection: conn.clone(),
                alerting_device: ad.clone(),
                calling_device: cd.clone(),
                called_device: kd.clone(),
                last_redirection_device: last.clone(),
                local_connection_info: lci,
                cause: Some(if last.is_some() {
                    EventCause::Redirected
                } else {
                    EventCause::NewCall
                }),
                ..Default::default()
            }
            .into()
        });
    }

    pub fn answer(&mut self, id: &str, dev: &str) -> Result<(), CstaErrorCode> {
        use LocalConnectionState as L;
        let c = self
            .calls
            .get(id)
            .cloned()
            .ok_or_else(|| op_err("invalidCallID"))?;
        if !matches!(self.state(id, dev), Some(L::Alerting | L::Queued)) {
            return Err(state_err("invalidConnectionState"));
        }
        self.set(id, dev, L::Connected);
        let conn = self.conn(id, dev);
        let (ad, cd, kd) = (self.dev(dev), self.dev(&c.calling), self.dev(&c.called));
        let ds = self.parties(id);
        self.tell(id, &ds, |lci| {
            EstablishedEvent {
                established_connection: conn.clone(),
                answering_device: ad.clone(),
                calling_device: cd.clone(),
                called_device: kd.clone(),
                local_connection_info: lci,
                cause: Some(EventCause::NewCall),
                ..Default::default()
            }
            .into()
        });
        Ok(())
    }

    pub fn clear(&mut self, id: &str, dev: &str) -> Result<(), CstaErrorCode> {
        if self.state(id, dev).is_none() {
            return Err(op_err("invalidConnectionID"));
        }
        let mut ds = self.parties(id);
        self.set(id, dev, LocalConnectionState::Null);
        let conn = self.conn(id, dev);
        let rd = self.dev(dev);
        self.tell(id, &ds, |lci| {
            ConnectionClearedEvent {
                dropped_connection: conn.clone(),
                releasing_device: rd.clone(),
                local_connection_info: lci,
                cause: Some(EventCause::NormalClearing),
                ..Default::default()
            }
            .into()
        });
        if self.parties(id).len() < 2 {
            // the last party: the whole call ends
            for d in self.parties(id) {
                self.set(id, &d, LocalConnectionState::Null);
            }
            ds.dedup();
            let cc = ConnectionId {
                call_id: Some(id.to_string()),
                ..Default::default()
            };
            self.tell(id, &ds, |_| {
                CallClearedEvent {
                    cleared_call: cc.clone(),
                    cause: Some(EventCause::NormalClearing),
                    ..Default::default()
                }
                .into()
            });
            self.calls.remove(id);
        }
        Ok(())
    }

    pub fn hold(&mut self, id: &str, dev: &str) -> Result<(), CstaErrorCode> {
        use LocalConnectionState as L;
        if self.state(id, dev) != Some(L::Connected) {
            return Err(state_err("invalidConnectionState"));
        }
        self.set(id, dev, L::Hold);
        let (conn, hd, ds) = (self.conn(id, dev), self.dev(dev), self.parties(id));
        self.tell(id, &ds, |lci| {
            HeldEvent {
                held_connection: conn.clone(),
                holding_device: hd.clone(),
                local_connection_info: lci,
                cause: Some(EventCause::Normal),
                ..Default::default()
            }
            .into()
        });
        Ok(())
    }

    pub fn retrieve(&mut self, id: &str, dev: &str) -> Result<(), CstaErrorCode> {
        use LocalConnectionState as L;
        if self.state(id, dev) != Some(L::Hold) {
            return Err(state_err("invalidConnectionState"));
        }
        self.set(id, dev, L::Connected);
        let (conn, rd, ds) = (self.conn(id, dev), self.dev(dev), self.parties(id));
        self.tell(id, &ds, |lci| {
            RetrievedEvent {
                retrieved_connection: conn.clone(),
                retrieving_device: rd.clone(),
                local_connection_info: lci,
                cause: Some(EventCause::Normal),
                ..Default::default()
            }
            .into()
        });
        Ok(())
    }

    pub fn consult(&mut self, id: &str, dev: &str, to: &str) -> Result<String, CstaErrorCode> {
        self.hold(id, dev)?;
        Ok(self.originate(dev, to))
    }

    /// Transfer (the held call survives; `dev` leaves) or conference (everyone in the held call).
    pub fn join(
        &mut self,
        held: &str,
        active: &str,
        dev: &str,
        conference: bool,
    ) -> Result<String, CstaErrorCode> {
        use LocalConnectionState as L;
        if self.state(held, dev).is_none() || self.state(active, dev).is_none() {
            return Err(op_err("invalidConnectionID"));
        }
        let moved: Vec<String> = self
            .parties(active)
            .into_iter()
            .filter(|d| d != dev)
            .collect();
        let all: Vec<String> = self
            .parties(held)
            .into_iter()
            .chain(self.parties(active))
            .collect();
        for d in &moved {
            let s = self.state(active, d).unwrap_or(L::Connected);
            self.set(held, d, s);
        }
        self.calls.remove(active);
        self.set(held, dev, if conference { L::Connected } else { L::Null });
        for d in self.parties(held) {
            if self.state(held, &d) == Some(L::Hold) {
                self.set(held, &d, L::Connected);
            }
        }
        let items: Vec<ConnectionListItem> = moved
            .iter()
            .map(|d| ConnectionListItem {
                new_connection: Some(self.conn(held, d)),
                old_connection: Some(self.conn(active, d)),
                ..Default::default()
            })
            .collect();
        let list = ConnectionList {
            items,
            extensions: vec![],
        };
        let (p, s, dd) = (self.conn(held, dev), self.conn(active, dev), self.dev(dev));
        let other = self.dev(moved.first().map(String::as_str).unwrap_or(""));
        self.tell(held, &all, |lci| {
            if conference {
                ConferencedEvent {
                    primary_old_call: p.clone(),
                    secondary_old_call: Some(s.clone()),
                    conferencing_device: dd.clone(),
                    added_party: other.clone(),
                    conference_connections: Some(list.clone()),
                    local_connection_info: lci,
                    cause: Some(EventCause::Conference),
                    ..Default::default()
                }
                .into()
            } else {
                TransferedEvent {
                    primary_old_call: p.clone(),
                    secondary_old_call: Some(s.clone()),
                    transferring_device: dd.clone(),
                    transferred_to_device: other.clone(),
                    transferred_connections: Some(list.clone()),
                    local_connection_info: lci,
                    cause: Some(EventCause::Transfer),
                    ..Default::default()
                }
                .into()
            }
        });
        if self.parties(held).len() < 2 {
            let only = self.parties(held);
            for d in only {
                self.clear(held, &d)?;
            }
        }
        Ok(held.to_string())
    }

    pub fn deflect(&mut self, id: &str, dev: &str, to: &str) -> Result<(), CstaErrorCode> {
        if self.state(id, dev) != Some(LocalConnectionState::Alerting) {
            return Err(state_err("invalidConnectionState"));
        }
        let (conn, dd, nd, ds) = (
            self.conn(id, dev),
            self.dev(dev),
            self.dev(to),
            self.parties(id),
        );
        self.set(id, dev, LocalConnectionState::Null);
        self.tell(id, &ds, |lci| {
            DivertedEvent {
                connection: conn.clone(),
                diverting_device: dd.clone(),
                new_destination: nd.clone(),
                local_connection_info: lci,
                cause: Some(EventCause::Redirected),
                ..Default::default()
            }
            .into()
        });
        self.deliver(id, to, Some(dev));
        Ok(())
    }

    pub fn forward(&mut self, dev: &str, to: Option<&str>, kind: ForwardingType) {
        match to {
            Some(t) => self.forwards.insert(dev.to_string(), t.to_string()),
            None => self.forwards.remove(dev),
        };
        let msg = ForwardingEvent {
            device: self.dev(dev),
            forwarding_type: Some(kind),
            forward_status: to.is_some(),
            forward_to: to.map(|t| DeviceId::new(self.form(t))),
            ..Default::default()
        };
        self.tell_device(dev, msg.into());
    }

    pub fn set_dnd(&mut self, dev: &str, on: bool) {
        if on {
            self.dnd.insert(dev.to_string());
        } else {
            self.dnd.remove(dev);
        }
        let msg = DoNotDisturbEvent {
            device: self.dev(dev),
            do_not_disturb_on: on,
            ..Default::default()
        };
        self.tell_device(dev, msg.into());
    }

    /// OXE scenario agent codes: loggedOn 0, loggedOff 1, notReady 2, ready 3, workNotReady 4,
    /// workReady 5.
    pub fn agent(&mut self, dev: &str, state: i64) {
        let ad = self.dev(dev);
        let id = Some(dev.to_string());
        let msg: Message = match state {
            0 => AgentLoggedOnEvent {
                agent_device: ad,
                agent_id: id,
                ..Default::default()
            }
            .into(),
            1 => AgentLoggedOffEvent {
                agent_device: ad,
                agent_id: id,
                ..Default::default()
            }
            .into(),
            2 => AgentNotReadyEvent {
                agent_device: ad,
                agent_id: id,
                ..Default::default()
            }
            .into(),
            4 => AgentWorkingAfterCallEvent {
                agent_device: ad,
                agent_id: id,
                ..Default::default()
            }
            .into(),
            _ => AgentReadyEvent {
                agent_device: ad,
                agent_id: id,
                ..Default::default()
            }
            .into(),
        };
        self.tell_device(dev, msg);
    }

    fn snapshot(&self, dev: &str) -> Message {
        let items = self
            .calls
            .iter()
            .filter_map(|(id, c)| {
                let (_, s) = c.parties.iter().find(|(d, _)| d == dev)?;
                Some(SnapshotDeviceResponseInfo {
                    connection_identifier: self.conn(id, dev),
                    local_call_state: Some(LocalCallState {
                        compound_call_state: Some(CompoundCallState {
                            states: vec![*s],
                            extensions: vec![],
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
            })
            .collect();
        SnapshotDeviceResponse {
            cross_ref_id_or_snapshot_data: Some(CrossRefIdOrSnapshotData {
                snapshot_data: Some(SnapshotDeviceData {
                    items,
                    extensions: vec![],
                }),
                ..Default::default()
            }),
            ..Default::default()
        }
        .into()
    }

    // ---- requests from the client ----------------------------------------------------

    /// The switch's own reading of a device identifier (a dialable number, else the user of
    /// a SIP URI, else the identifier as written), kept apart from the gateway's mapping so
    /// that a misreading on one side fails the other side's tests.
    fn num(&self, d: &DeviceId) -> String {
        match (d.number(), d.sip_user()) {
            (Some(n), _) => n.to_string(),
            (None, Some(user)) if !user.is_empty() => user.to_string(),
            _ => d.raw().trim().to_string(),
        }
    }

    fn cid(&self, c: &ConnectionId) -> Result<(String, String), CstaErrorCode> {
        let call = c.call_id.clone().ok_or_else(|| op_err("invalidCallID"))?;
        let dev = c
            .device_id
            .as_ref()
            .map(|d| self.num(d))
            .unwrap_or_default();
        if !self.calls.contains_key(&call) {
            return Err(op_err("invalidCallID"));
        }
        if self.state(&call, &dev).is_none() {
            return Err(op_err("invalidConnectionID"));
        }
        Ok((call, dev))
    }

    /// Answers one request (events it causes are queued for [`Switch::take`]).
    pub fn on_request(&mut self, msg: &Message) -> Message {
        if self.cfg.unsupported.iter().any(|u| u == msg.element_name()) {
            return CstaErrorCode::new(ErrorCategory::Operation, "serviceNotSupported").into();
        }
        match self.request(msg) {
            Ok(m) => m,
            Err(e) => e.into(),
        }
    }

    fn request(&mut self, msg: &Message) -> R {
        use Message as M;
        Ok(match msg {
            M::MonitorStart(m) => {
                let d = m
                    .monitor_object
                    .device_object
                    .as_ref()
                    .map(|d| self.num(d))
                    .unwrap_or_default();
                if !self.is_ext(&d) {
                    return Err(op_err("invalidMonitorObject"));
                }
                if self.monitors.len() >= self.cfg.monitor_limit {
                    return Err(CstaErrorCode::new(
                        ErrorCategory::SystemResourceAvailability,
                        "overallMonitorLimitExceeded",
                    ));
                }
                let x = format!("{}", self.next_xref);
                self.next_xref += 1;
                self.monitors.insert(x.clone(), d);
                MonitorStartResponse {
                    monitor_cross_ref_id: x,
                    extensions: vec![],
                }
                .into()
            }
            M::MonitorStop(m) => {
                self.monitors.remove(m.monitor_cross_ref_id.trim());
                MonitorStopResponse::default().into()
            }
            M::SnapshotDevice(s) => self.snapshot(&self.num(&s.snapshot_object)),
            M::MakeCall(m) => {
                let from = self.num(&m.calling_device);
                let to = self.num(&m.called_directory_number);
                if !self.is_ext(&from) {
                    return Err(op_err("invalidCallingDevice"));
                }
                if to.is_empty() {
                    return Err(op_err("invalidDestination"));
                }
                let id = self.originate(&from, &to);
                MakeCallResponse {
                    calling_device: self.conn(&id, &from),
                    extensions: vec![],
                }
                .into()
            }
            M::AnswerCall(a) => {
                let (c, d) = self.cid(&a.call_to_be_answered)?;
                self.answer(&c, &d)?;
                AnswerCallResponse::default().into()
            }
            M::ClearConnection(a) => {
                let (c, d) = self.cid(&a.connection_to_be_cleared)?;
                self.clear(&c, &d)?;
                ClearConnectionResponse::default().into()
            }
            M::HoldCall(a) => {
                let (c, d) = self.cid(&a.call_to_be_held)?;
                self.hold(&c, &d)?;
                HoldCallResponse::default().into()
            }
            M::RetrieveCall(a) => {
                let (c, d) = self.cid(&a.call_to_be_retrieved)?;
                self.retrieve(&c, &d)?;
                RetrieveCallResponse::default().into()
            }
            M::ConsultationCall(a) => {
                let (c, d) = self.cid(&a.existing_call)?;
                let to = self.num(&a.consulted_device);
                let n = self.consult(&c, &d, &to)?;
                ConsultationCallResponse {
                    initiated_call: self.conn(&n, &d),
                    extensions: vec![],
                }
                .into()
            }
            M::TransferCall(a) => {
                let (h, d) = self.cid(&a.held_call)?;
                let (x, _) = self.cid(&a.active_call)?;
                let s = self.join(&h, &x, &d, false)?;
                TransferCallResponse {
                    transferred_call: Some(ConnectionId {
                        call_id: Some(s),
                        ..Default::default()
                    }),
                    extensions: vec![],
                }
                .into()
            }
            M::ConferenceCall(a) => {
                let (h, d) = self.cid(&a.held_call)?;
                let (x, _) = self.cid(&a.active_call)?;
                let s = self.join(&h, &x, &d, true)?;
                ConferenceCallResponse {
                    conference_call: Some(self.conn(&s, &d)),
                    extensions: vec![],
                }
                .into()
            }
            M::AlternateCall(a) => {
                let (h, d) = self.cid(&a.held_call)?;
                let (x, _) = self.cid(&a.active_call)?;
                self.hold(&x, &d)?;
                self.retrieve(&h, &d)?;
                AlternateCallResponse::default().into()
            }
            M::DeflectCall(a) => {
                let (c, d) = self.cid(&a.call_to_be_diverted)?;
                let to = self.num(&a.new_destination);
                self.deflect(&c, &d, &to)?;
                DeflectCallResponse::default().into()
            }
            M::SingleStepTransferCall(a) => {
                let (c, d) = self.cid(&a.active_call)?;
                let to = self.num(&a.transferred_to);
                if self.state(&c, &d) != Some(LocalConnectionState::Connected) {
                    return Err(state_err("invalidConnectionState"));
                }
                // the transferring party leaves, the target is offered the call
                self.clear_keep(&c, &d);
                self.deliver(&c, &to, Some(&d));
                SingleStepTransferCallResponse {
                    transferred_call: Some(ConnectionId {
                        call_id: Some(c),
                        ..Default::default()
                    }),
                    extensions: vec![],
                }
                .into()
            }
            M::GenerateDigits(a) => {
                let _ = self.cid(&a.connection_to_send_digits)?;
                GenerateDigitsResponse::default().into()
            }
            M::SetForwarding(f) => {
                let d = self.num(&f.device);
                let to = f.forward_dn.as_ref().map(|t| self.num(t));
                let kind = f
                    .forwarding_type
                    .unwrap_or(ForwardingType::ForwardImmediate);
                if kind == ForwardingType::ForwardImmediate || !f.activate_forward {
                    self.forward(&d, to.as_deref().filter(|_| f.activate_forward), kind);
                } else {
                    let msg = ForwardingEvent {
                        device: self.dev(&d),
                        forwarding_type: Some(kind),
                        forward_status: true,
                        forward_to: to.map(|t| DeviceId::new(self.form(&t))),
                        ..Default::default()
                    };
                    self.tell_device(&d, msg.into());
                }
                SetForwardingResponse::default().into()
            }
            M::SetDoNotDisturb(s) => {
                let d = self.num(&s.device);
                self.set_dnd(&d, s.do_not_disturb_on);
                SetDoNotDisturbResponse::default().into()
            }
            M::SetAgentState(s) => {
                let d = self.num(&s.device);
                let code = match s.requested_agent_state {
                    ReqAgentState::LoggedOn => 0,
                    ReqAgentState::LoggedOff => 1,
                    ReqAgentState::NotReady => 2,
                    ReqAgentState::Ready => 3,
                    ReqAgentState::WorkingAfterCall => 4,
                };
                self.agent(&d, code);
                SetAgentStateResponse::default().into()
            }
            M::RequestSystemStatus(_) => RequestSystemStatusResponse {
                system_status: SystemStatusValue::Normal,
                extensions: vec![],
            }
            .into(),
            M::SystemStatus(_) => SystemStatusResponse::default().into(),
            M::GetCstaFeatures(_) => GetCstaFeaturesResponse::default().into(),
            other => {
                tracing::debug!(
                    request = other.element_name(),
                    "simulated switch: not a service it offers"
                );
                return Err(op_err("serviceNotSupported"));
            }
        })
    }

    /// `dev` leaves the call without ending it (single-step transfer).
    fn clear_keep(&mut self, id: &str, dev: &str) {
        let ds = self.parties(id);
        self.set(id, dev, LocalConnectionState::Null);
        let (conn, rd) = (self.conn(id, dev), self.dev(dev));
        self.tell(id, &ds, |lci| {
            ConnectionClearedEvent {
                dropped_connection: conn.clone(),
                releasing_device: rd.clone(),
                local_connection_info: lci,
                cause: Some(EventCause::SingleStepTransfer),
                ..Default::default()
            }
            .into()
        });
    }
}

/// Sets an event's `monitorCrossRefID`.
fn set_xref(m: &mut Message, x: &str) {
    use Message as M;
    let x = x.to_string();
    match m {
        M::OriginatedEvent(e) => e.monitor_cross_ref_id = x,
        M::ServiceInitiatedEvent(e) => e.monitor_cross_ref_id = x,
        M::DeliveredEvent(e) => e.monitor_cross_ref_id = x,
        M::EstablishedEvent(e) => e.monitor_cross_ref_id = x,
        M::HeldEvent(e) => e.monitor_cross_ref_id = x,
        M::RetrievedEvent(e) => e.monitor_cross_ref_id = x,
        M::ConnectionClearedEvent(e) => e.monitor_cross_ref_id = x,
        M::CallClearedEvent(e) => e.monitor_cross_ref_id = x,
        M::DivertedEvent(e) => e.monitor_cross_ref_id = x,
        M::FailedEvent(e) => e.monitor_cross_ref_id = x,
        M::QueuedEvent(e) => e.monitor_cross_ref_id = x,
        M::NetworkReachedEvent(e) => e.monitor_cross_ref_id = x,
        M::TransferedEvent(e) => e.monitor_cross_ref_id = x,
        M::ConferencedEvent(e) => e.monitor_cross_ref_id = x,
        M::AgentLoggedOnEvent(e) => e.monitor_cross_ref_id = x,
        M::AgentLoggedOffEvent(e) => e.monitor_cross_ref_id = x,
        M::AgentReadyEvent(e) => e.monitor_cross_ref_id = x,
        M::AgentNotReadyEvent(e) => e.monitor_cross_ref_id = x,
        M::AgentWorkingAfterCallEvent(e) => e.monitor_cross_ref_id = x,
        M::AgentBusyEvent(e) => e.monitor_cross_ref_id = x,
        M::DoNotDisturbEvent(e) => e.monitor_cross_ref_id = x,
        M::ForwardingEvent(e) => e.monitor_cross_ref_id = x,
        _ => {}
    }
}
