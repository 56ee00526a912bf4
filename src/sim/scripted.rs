//! A simulated PBX at the adapter interface: a small switch with calls between monitored
//! extensions and outside numbers, acting on every command the engine sends and, when asked,
//! playing a scripted scenario loop (ring, answer, hold, consult, transfer, hang up) so a
//! newcomer sees live calls at once. It stands in for a dialect until the wire simulators
//! (`sim::oxe`, ...) take over, and drives API tests without any wire protocol.

use crate::model::{
    AgentState, CallEvent, CallEventKind, CommandError, CommandOutcome, ConnectionState, DeviceId,
    ErrorCode, Forward, LinkState, PbxCommand, PbxEvent, SnapshotCall,
};
use crate::pbx::contract::{AdapterRequest, LinkSink};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

use ConnectionState as S;

#[derive(Debug, Clone)]
struct SimCall {
    /// Parties in order of joining, with their states.
    parties: Vec<(String, ConnectionState)>,
    calling: String,
    called: String,
}

/// The simulated switch: calls by reference, and the devices it serves.
pub struct Switch {
    devices: Vec<DeviceId>,
    calls: BTreeMap<String, SimCall>,
    next_ref: u32,
    forwards: BTreeMap<DeviceId, Vec<Forward>>,
    out: Vec<PbxEvent>,
}

impl Switch {
    pub fn new(devices: Vec<DeviceId>) -> Self {
        Switch {
            devices,
            calls: BTreeMap::new(),
            next_ref: 0x2b00,
            forwards: BTreeMap::new(),
            out: Vec::new(),
        }
    }

    fn is_ours(&self, n: &str) -> bool {
        self.devices.iter().any(|d| d.as_str() == n)
    }

    fn new_ref(&mut self) -> String {
        self.next_ref = self.next_ref.wrapping_add(1);
        format!("{:04x}", self.next_ref)
    }

    fn event(
        &mut self,
        call: &str,
        kind: CallEventKind,
        updates: &[(&str, ConnectionState)],
        cause: &str,
    ) {
        let Some(c) = self.calls.get_mut(call) else {
            return;
        };
        for (dev, st) in updates {
            match c.parties.iter_mut().find(|(d, _)| d == dev) {
                Some(p) => p.1 = *st,
                None => c.parties.push((dev.to_string(), *st)),
            }
        }
        c.parties.retain(|(_, s)| *s != S::Null);
        let mut ev = CallEvent::new(call, kind)
            .parties(Some(&c.calling), Some(&c.called))
            .cause(cause);
        for (dev, st) in updates {
            ev = ev.with(dev, *st);
        }
        self.out.push(PbxEvent::Call(ev));
        if c.parties.len() < 2 && kind == CallEventKind::ConnectionCleared {
            // a call with one party left is over on this switch
            self.calls.remove(call);
            self.out.push(PbxEvent::CallCleared {
                call: call.to_string(),
                cause: Some(cause.to_string()),
                time: None,
            });
        }
    }

    fn state_of(&self, call: &str, dev: &str) -> Option<ConnectionState> {
        self.calls
            .get(call)?
            .parties
            .iter()
            .find(|(d, _)| d == dev)
            .map(|(_, s)| *s)
    }

    /// `from` dials `to`; returns the new call's reference.
    pub fn originate(&mut self, from: &str, to: &str) -> String {
        let r = self.new_ref();
        self.calls.insert(
            r.clone(),
            SimCall {
                parties: vec![],
                calling: from.into(),
                called: to.into(),
            },
        );
        if self.is_ours(from) {
            self.event(
                &r,
                CallEventKind::ServiceInitiated,
                &[(from, S::Initiated)],
                "newCall",
            );
            self.event(
                &r,
                CallEventKind::Originated,
                &[(from, S::Connected)],
                "newCall",
            );
        }
        let target = self
            .forwards
            .get(&DeviceId::new(to))
            .and_then(|f| f.first())
            .map(|f| f.destination.clone());
        let to = match target {
            Some(dest) => {
                self.event(&r, CallEventKind::Diverted, &[], "callForwardImmediate");
                if let Some(c) = self.calls.get_mut(&r) {
                    c.called = dest.clone();
                }
                dest
            }
            None => to.to_string(),
        };
        if !self.is_ours(&to) {
            // the call leaves on a trunk; the far end rings, nobody has answered yet
            self.event(
                &r,
                CallEventKind::NetworkReached,
                &[(from, S::Connected)],
                "newCall",
            );
        }
        self.event(
            &r,
            CallEventKind::Delivered,
            &[(from, S::Connected), (&to, S::Alerting)],
            "newCall",
        );
        r
    }

    pub fn answer(&mut self, call: &str, dev: &str) -> Result<(), CommandError> {
        match self.state_of(call, dev) {
            Some(S::Alerting) | Some(S::Queued) => {
                self.event(
                    call,
                    CallEventKind::Established,
                    &[(dev, S::Connected)],
                    "normal",
                );
                Ok(())
            }
            Some(_) => Err(CommandError::new(
                ErrorCode::InvalidState,
                format!("{dev} is not ringing in call {call}"),
            )),
            None => Err(no_call(call, dev)),
        }
    }

    pub fn clear(&mut self, call: &str, dev: &str) -> Result<(), CommandError> {
        if self.state_of(call, dev).is_none() {
            return Err(no_call(call, dev));
        }
        self.event(
            call,
            CallEventKind::ConnectionCleared,
            &[(dev, S::Null)],
            "normalClearing",
        );
        Ok(())
    }

    pub fn hold(&mut self, call: &str, dev: &str) -> Result<(), CommandError> {
        match self.state_of(call, dev) {
            Some(S::Connected) => {
                self.event(call, CallEventKind::Held, &[(dev, S::Held)], "normal");
                Ok(())
            }
            Some(_) => Err(CommandError::new(
                ErrorCode::InvalidState,
                format!("{dev} is not connected in call {call}"),
            )),
            None => Err(no_call(call, dev)),
        }
    }

    pub fn retrieve(&mut self, call: &str, dev: &str) -> Result<(), CommandError> {
        match self.state_of(call, dev) {
            Some(S::Held) => {
                self.event(
                    call,
                    CallEventKind::Retrieved,
                    &[(dev, S::Connected)],
                    "normal",
                );
                Ok(())
            }
            Some(_) => Err(CommandError::new(
                ErrorCode::InvalidState,
                format!("{dev} has not held call {call}"),
            )),
            None => Err(no_call(call, dev)),
        }
    }

    /// `dev` holds `call` and dials `to`; returns the consultation call's reference.
    pub fn consult(&mut self, call: &str, dev: &str, to: &str) -> Result<String, CommandError> {
        if self.state_of(call, dev) == Some(S::Connected) {
            self.event(call, CallEventKind::Held, &[(dev, S::Held)], "consultation");
        } else if self.state_of(call, dev) != Some(S::Held) {
            return Err(no_call(call, dev));
        }
        Ok(self.originate(dev, to))
    }

    /// `dev` joins the far parties of `held` and `active` and leaves (transfer) or stays
    /// (conference). The held call survives; the active one merges into it.
    pub fn join(
        &mut self,
        held: &str,
        active: &str,
        dev: &str,
        conference: bool,
    ) -> Result<(), CommandError> {
        if self.state_of(held, dev).is_none() {
            return Err(no_call(held, dev));
        }
        let Some(act) = self.calls.remove(active) else {
            return Err(no_call(active, dev));
        };
        let Some(h) = self.calls.get_mut(held) else {
            return Err(no_call(held, dev));
        };
        let mut updates: Vec<(String, ConnectionState)> = Vec::new();
        for (d, s) in act.parties {
            if d != dev {
                updates.push((
                    d.clone(),
                    if s == S::Alerting {
                        S::Alerting
                    } else {
                        S::Connected
                    },
                ));
            }
        }
        for (d, s) in h.parties.clone() {
            if d != dev {
                updates.push((d, if s == S::Held { S::Connected } else { s }));
            }
        }
        updates.push((
            dev.to_string(),
            if conference { S::Connected } else { S::Null },
        ));
        for (d, s) in &updates {
            match h.parties.iter_mut().find(|(x, _)| x == d) {
                Some(p) => p.1 = *s,
                None => h.parties.push((d.clone(), *s)),
            }
        }
        h.parties.retain(|(_, s)| *s != S::Null);
        let kind = if conference {
            CallEventKind::Conferenced
        } else {
            CallEventKind::Transferred
        };
        let mut ev = CallEvent::new(held, kind)
            .parties(Some(&h.calling), None)
            .cause(if conference { "conference" } else { "transfer" });
        ev.merged.push(active.to_string());
        for (d, s) in &updates {
            ev = ev.with(d, *s);
        }
        self.out.push(PbxEvent::Call(ev));
        Ok(())
    }

    pub fn snapshot(&self, dev: &DeviceId) -> PbxEvent {
        let calls = self
            .calls
            .iter()
            .filter(|(_, c)| c.parties.iter().any(|(d, _)| d == dev.as_str()))
            .map(|(r, c)| SnapshotCall {
                call: r.clone(),
                connections: c
                    .parties
                    .iter()
                    .map(|(d, s)| crate::model::ConnectionUpdate {
                        device: DeviceId::new(d),
                        state: *s,
                    })
                    .collect(),
            })
            .collect();
        PbxEvent::Snapshot {
            device: dev.clone(),
            calls,
        }
    }

    /// Executes one request from the engine; the result event goes out with the others.
    pub fn execute(&mut self, req: AdapterRequest) {
        let r: Result<CommandOutcome, CommandError> = match req.command {
            PbxCommand::MakeCall { device, to } => {
                let call = self.originate(device.as_str(), &to);
                Ok(CommandOutcome { call: Some(call) })
            }
            PbxCommand::Answer { device, call } => self
                .answer(&call.pbx, device.as_str())
                .map(|_| CommandOutcome::default()),
            PbxCommand::Hangup { device, call } => self
                .clear(&call.pbx, device.as_str())
                .map(|_| CommandOutcome::default()),
            PbxCommand::Hold { device, call } => self
                .hold(&call.pbx, device.as_str())
                .map(|_| CommandOutcome::default()),
            PbxCommand::Retrieve { device, call } => self
                .retrieve(&call.pbx, device.as_str())
                .map(|_| CommandOutcome::default()),
            PbxCommand::Consult { device, call, to } => self
                .consult(&call.pbx, device.as_str(), &to)
                .map(|c| CommandOutcome { call: Some(c) }),
            PbxCommand::Transfer {
                device,
                held,
                active,
            } => self
                .join(&held.pbx, &active.pbx, device.as_str(), false)
                .map(|_| CommandOutcome::default()),
            PbxCommand::Conference {
                device,
                held,
                active,
            } => self
                .join(&held.pbx, &active.pbx, device.as_str(), true)
                .map(|_| CommandOutcome::default()),
            PbxCommand::Alternate {
                device,
                held,
                active,
            } => self
                .hold(&active.pbx, device.as_str())
                .and_then(|_| self.retrieve(&held.pbx, device.as_str()))
                .map(|_| CommandOutcome::default()),
            PbxCommand::Deflect { device, call, to }
            | PbxCommand::SingleStepTransfer { device, call, to } => {
                // the far party is cleared from this call and re-offered to `to`
                let far = match self.calls.get(&*call.pbx) {
                    Some(c) => c
                        .parties
                        .iter()
                        .find(|(d, _)| d != device.as_str())
                        .map(|(d, _)| d.clone()),
                    None => return self.done(req.token, Err(no_call(&call.pbx, device.as_str()))),
                };
                let r = self.clear(&call.pbx, device.as_str());
                if r.is_ok()
                    && let Some(far) = far
                {
                    self.originate(&far, &to);
                }
                r.map(|_| CommandOutcome::default())
            }
            PbxCommand::SendDigits {
                device,
                call,
                digits: _,
            } => match self.state_of(&call.pbx, device.as_str()) {
                Some(S::Connected) => Ok(CommandOutcome::default()),
                _ => Err(no_call(&call.pbx, device.as_str())),
            },
            PbxCommand::SetForward { device, kind, to } => {
                let f = self.forwards.entry(device.clone()).or_default();
                f.retain(|x| x.kind != kind);
                f.push(Forward {
                    kind,
                    destination: to,
                });
                let forwards = f.clone();
                self.out.push(PbxEvent::Forwarding { device, forwards });
                Ok(CommandOutcome::default())
            }
            PbxCommand::CancelForward { device, kind } => {
                let f = self.forwards.entry(device.clone()).or_default();
                f.retain(|x| kind.is_some_and(|k| x.kind != k));
                let forwards = f.clone();
                self.out.push(PbxEvent::Forwarding { device, forwards });
                Ok(CommandOutcome::default())
            }
            PbxCommand::SetDnd { device, enabled } => {
                self.out.push(PbxEvent::Dnd { device, enabled });
                Ok(CommandOutcome::default())
            }
            PbxCommand::SetAgentState {
                device,
                agent_id,
                state,
                reason,
            } => {
                let agent_id = agent_id.unwrap_or_else(|| format!("a{device}"));
                self.out.push(PbxEvent::Agent {
                    device,
                    agent_id,
                    state,
                    reason,
                });
                Ok(CommandOutcome::default())
            }
            PbxCommand::Snapshot { device } => {
                let s = self.snapshot(&device);
                self.out.push(s);
                Ok(CommandOutcome::default())
            }
        };
        self.done(req.token, r);
    }

    fn done(&mut self, token: u64, result: Result<CommandOutcome, CommandError>) {
        self.out.push(PbxEvent::CommandResult { token, result });
    }

    pub fn take(&mut self) -> Vec<PbxEvent> {
        std::mem::take(&mut self.out)
    }

    pub fn live_calls(&self) -> Vec<String> {
        self.calls.keys().cloned().collect()
    }
}

fn no_call(call: &str, dev: &str) -> CommandError {
    CommandError::new(
        ErrorCode::UnknownCall,
        format!("device {dev} is not in call {call} on the simulated PBX"),
    )
}

/// Runs a simulated PBX link until the engine goes away. With `script`, plays the demo
/// scenario loop; `pace` scales its pauses (1.0 = human speed).
pub async fn run(
    sink: LinkSink,
    devices: Vec<DeviceId>,
    mut requests: mpsc::Receiver<AdapterRequest>,
    script: bool,
    pace: f64,
) {
    let link = sink.link().clone();
    let mut sw = Switch::new(devices.clone());
    let mut out = vec![PbxEvent::Link(LinkState::Up)];
    for d in &devices {
        out.push(PbxEvent::Monitor {
            device: d.clone(),
            result: Ok(()),
        });
    }
    if let Some(agent) = devices.get(1) {
        out.push(PbxEvent::Agent {
            device: agent.clone(),
            agent_id: "4001".into(),
            state: AgentState::Ready,
            reason: None,
        });
    }
    for ev in out {
        if !sink.send(ev).await {
            return;
        }
    }
    let mut step = 0usize;
    let mut script_calls: Vec<String> = Vec::new();
    let pause = |secs: f64| Duration::from_secs_f64((secs * pace).max(0.001));
    let mut next = tokio::time::Instant::now() + pause(1.0);
    loop {
        tokio::select! {
            req = requests.recv() => match req {
                Some(r) => sw.execute(r),
                None => return,
            },
            _ = tokio::time::sleep_until(next), if script && devices.len() >= 2 => {
                let wait = play(&mut sw, &devices, step, &mut script_calls);
                step = (step + 1) % SCRIPT_STEPS;
                next = tokio::time::Instant::now() + pause(wait);
            }
        }
        for ev in sw.take() {
            if !sink.send(ev).await {
                tracing::debug!(%link, "engine gone; simulated PBX stops");
                return;
            }
        }
    }
}

const SCRIPT_STEPS: usize = 14;

/// One step of the demo scenario; returns the pause before the next one (seconds). Steps
/// tolerate a user having acted on the calls meanwhile: operations on vanished calls fail
/// quietly.
fn play(sw: &mut Switch, devs: &[DeviceId], step: usize, calls: &mut Vec<String>) -> f64 {
    let a = devs[0].as_str();
    let b = devs[1].as_str();
    let c = devs.get(2).map(|d| d.as_str()).unwrap_or(b);
    let first = calls.first().cloned().unwrap_or_default();
    let second = calls.get(1).cloned().unwrap_or_default();
    match step {
        0 => {
            calls.clear();
            // clean up anything a user left behind, so the loop restarts from idle
            for r in sw.live_calls() {
                let parties: Vec<String> = sw
                    .calls
                    .get(&r)
                    .map(|c| c.parties.iter().map(|(d, _)| d.clone()).collect())
                    .unwrap_or_default();
                if let Some(p) = parties.first() {
                    let _ = sw.clear(&r, p);
                }
            }
            // an outside caller (outside-line prefix 0 + national number) rings A
            calls.push(sw.originate("00612345678", a));
            2.5
        }
        1 => {
            let _ = sw.answer(&first, a);
            3.0
        }
        2 => {
            let _ = sw.hold(&first, a);
            2.0
        }
        3 => {
            let _ = sw.retrieve(&first, a);
            2.0
        }
        4 => {
            if let Ok(r) = sw.consult(&first, a, b) {
                calls.push(r);
            }
            2.0
        }
        5 => {
            let _ = sw.answer(&second, b);
            2.0
        }
        6 => {
            let _ = sw.join(&first, &second, a, false);
            3.0
        }
        7 => {
            let _ = sw.clear(&first, "00612345678");
            2.0
        }
        8 => {
            // internal call B → C, not answered: C's phone rings, then B gives up
            calls.push(sw.originate(b, c));
            3.0
        }
        9 => {
            let third = calls.get(2).cloned().unwrap_or_default();
            let _ = sw.clear(&third, b);
            1.5
        }
        10 => {
            // A calls out; the far end answers
            calls.push(sw.originate(a, "0123456789"));
            2.5
        }
        11 => {
            let out = calls.get(3).cloned().unwrap_or_default();
            let _ = sw.answer(&out, "0123456789");
            3.0
        }
        12 => {
            let out = calls.get(3).cloned().unwrap_or_default();
            let _ = sw.clear(&out, a);
            2.0
        }
        _ => 2.0,
    }
}
