//! The OXE/OXO link's protocol state machine, sans-IO: hello and ACSE association, a
//! MonitorStart per device then a SnapshotDevice per monitored device (resynchronisation),
//! ROSE invokeIDs with their deadlines and exactly one `CommandResult` per request,
//! keep-alives (SystemStatus both ways), and the reconnect decision with backoff. No socket,
//! no clock, no tokio: bytes, requests and the current time come in through `handle_*`,
//! bytes, engine events and I/O actions go out through `poll_*`.
//!
//! Keep-alives: the PBX's SystemStatus (opcode 52) invokes are answered at once with a
//! ReturnResult echoing the invokeID. We send our own every `keepalive` period; two in a row
//! without an answer and the link is declared dead. A SystemStatus from the PBX whose value is
//! `initializing` or `disabled` is taken as a PBX restart (an assumption: no capture shows
//! one): the session is closed and opened again, which re-monitors and resynchronises.

use super::commands::{self, Planned};
use super::error::LinkError;
use super::invoke::{Invokes, Purpose};
use super::link::LinkSettings;
use super::mapping::{Mapper, call_ref};
use super::options::Options;
use crate::model::{
    CommandError, CommandOutcome, DeviceId, ErrorCode, LinkState, PbxCommand, PbxEvent,
};
use crate::pbx::STABLE_AFTER;
use crate::pbx::backoff::Backoff;
use crate::pbx::command_group::CommandGroup;
use crate::pbx::contract::AdapterRequest;
use bytes::{Bytes, BytesMut};
use ctigw_codecs::csta_ber::acse::{AssociateResult, ResultSourceDiagnostic};
use ctigw_codecs::csta_ber::rose::{InvokeProblem, RejectProblem};
use ctigw_codecs::csta_ber::services::SystemStatus;
use ctigw_codecs::csta_ber::{
    Aarq, AcseApdu, Argument, CstaCodec, Hello, Invoke, Pdu, Reject, Release, ResultValue,
    RoseApdu, requests,
};
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use tokio_util::codec::{Decoder, Encoder};

/// Most invokes waiting for the PBX at once before a command is refused as `busy`.
const MAX_OUTSTANDING: usize = 30_000;

/// I/O the link task must perform for the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Open a TCP connection to `address` within `timeout`; then call
    /// [`Session::handle_connected`], or [`Session::handle_closed`] with
    /// [`LinkError::Connect`] / [`LinkError::ConnectTimeout`].
    Connect { address: String, timeout: Duration },
    /// Close the connection, after writing what [`Session::poll_transmit`] returned before.
    Close,
}

/// Where the session stands.
#[derive(Debug)]
enum State {
    /// Waiting for the link task to open the TCP connection.
    Connecting,
    /// Connected, hello sent: waiting for the PBX's hello, then (AARQ sent) for the AARE.
    Associating { deadline: Instant, hello: bool },
    /// Associated: monitors, events, commands, keep-alives.
    Up {
        since: Instant,
        next_keepalive: Option<Instant>,
    },
    /// Between two sessions: reconnect at `until`; requests meanwhile fail with `reason`.
    Waiting { until: Instant, reason: String },
}

/// The OXE/OXO CSTA session of one link, across reconnections (the [`Mapper`]'s call table
/// and the backoff outlive each TCP connection; everything else starts afresh).
///
/// Call order, as for quinn-proto's `Connection`:
///
/// 1. [`Session::new`] queues `Link(Connecting)` and an [`Action::Connect`].
/// 2. After any `handle_*` call, drain the outputs: [`poll_event`](Self::poll_event) until
///    `None` (to the engine), [`poll_transmit`](Self::poll_transmit) until `None` (write each
///    to the socket, in order), then [`poll_action`](Self::poll_action) until `None` (perform
///    each; a `Close` comes after the bytes that had to go out before it). Then ask
///    [`poll_timeout`](Self::poll_timeout) for the next deadline.
/// 3. Feed what happens: [`handle_connected`](Self::handle_connected) once the TCP connection
///    an `Action::Connect` asked for is open, [`handle_closed`](Self::handle_closed) if it
///    could not be opened or the connection ends (read EOF, read or write error),
///    [`handle_bytes`](Self::handle_bytes) for every read, [`handle_request`](Self::handle_request)
///    for every engine request (at any time: queued while associating, refused with `link_down`
///    between sessions), and [`handle_timeout`](Self::handle_timeout) when the deadline
///    `poll_timeout` gave has passed (calling it early is harmless).
/// 4. Go to 2. Every `now` must be monotonic.
pub(crate) struct Session {
    settings: LinkSettings,
    mapper: Mapper,
    backoff: Backoff,
    state: State,
    codec: CstaCodec,
    rx: BytesMut,
    tx: BytesMut,
    events: VecDeque<PbxEvent>,
    actions: VecDeque<Action>,
    invokes: Invokes,
    groups: HashMap<u64, CommandGroup>,
    /// Requests that arrived while connecting or associating, handled once associated.
    queued: VecDeque<AdapterRequest>,
    unanswered_keep_alives: u32,
}

impl Session {
    /// A session that starts by connecting (reconnect delays jittered from the clock).
    pub(crate) fn new(settings: LinkSettings) -> Self {
        let backoff = Backoff::new(
            settings.options.reconnect_min,
            settings.options.reconnect_max,
        );
        Self::with_backoff(settings, backoff)
    }

    /// The same with a given backoff (a seeded one makes the reconnect delays reproducible).
    pub(crate) fn with_backoff(settings: LinkSettings, backoff: Backoff) -> Self {
        let mut s = Session {
            settings,
            mapper: Mapper::new(),
            backoff,
            state: State::Connecting,
            codec: CstaCodec::client(),
            rx: BytesMut::new(),
            tx: BytesMut::new(),
            events: VecDeque::new(),
            actions: VecDeque::new(),
            invokes: Invokes::default(),
            groups: HashMap::new(),
            queued: VecDeque::new(),
            unanswered_keep_alives: 0,
        };
        s.connect();
        s
    }

    fn opts(&self) -> &Options {
        &self.settings.options
    }

    /// Whether the association is up.
    #[cfg(test)]
    pub(crate) fn is_up(&self) -> bool {
        matches!(self.state, State::Up { .. })
    }

    /// Calls the mapper remembers.
    #[cfg(test)]
    pub(crate) fn calls_remembered(&self) -> usize {
        self.mapper.calls_remembered()
    }

    // ---- outputs -------------------------------------------------------------------------

    /// The next model event for the engine.
    pub(crate) fn poll_event(&mut self) -> Option<PbxEvent> {
        self.events.pop_front()
    }

    /// The bytes to write next on the connection (everything pending, coalesced).
    pub(crate) fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.tx.is_empty()).then(|| self.tx.split().freeze())
    }

    /// The next I/O the link task must perform.
    pub(crate) fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next (`None`: only when
    /// something else happens).
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            State::Connecting => None,
            State::Associating { deadline, .. } => Some(*deadline),
            State::Waiting { until, .. } => Some(*until),
            State::Up { next_keepalive, .. } => {
                match (self.invokes.next_deadline(), *next_keepalive) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
        }
    }

    // ---- inputs --------------------------------------------------------------------------

    /// The TCP connection asked for by [`Action::Connect`] is open: say hello.
    pub(crate) fn handle_connected(&mut self, now: Instant) {
        if !matches!(self.state, State::Connecting) {
            return;
        }
        self.codec = CstaCodec::client();
        self.rx.clear();
        self.tx.clear();
        self.state = State::Associating {
            deadline: now + self.opts().request_timeout,
            hello: false,
        };
        if let Err(e) = self.send(Pdu::Hello {
            hello: Hello::Client,
        }) {
            self.lost(now, e, true);
        }
    }

    /// The connection could not be opened, or it ended (`error` says how).
    pub(crate) fn handle_closed(&mut self, now: Instant, error: LinkError) {
        if matches!(self.state, State::Waiting { .. }) {
            return;
        }
        self.lost(now, error, false);
    }

    /// Bytes read from the connection.
    pub(crate) fn handle_bytes(&mut self, now: Instant, bytes: &[u8]) {
        if !matches!(self.state, State::Associating { .. } | State::Up { .. }) {
            return;
        }
        self.rx.extend_from_slice(bytes);
        loop {
            let pdu = match self.codec.decode(&mut self.rx) {
                Ok(None) => return,
                Err(e) => return self.lost(now, LinkError::Framing(e), true),
                Ok(Some(Err(e))) => {
                    tracing::warn!("undecodable PDU from the PBX (skipped): {e}");
                    continue;
                }
                Ok(Some(Ok(pdu))) => pdu,
            };
            let r = match self.state {
                State::Associating { .. } => self.on_associating(now, pdu),
                State::Up { .. } => self.on_pdu(now, pdu),
                _ => return,
            };
            if let Err(e) = r {
                return self.lost(now, e, true);
            }
        }
    }

    /// A request from the engine: it gets exactly one `CommandResult`, now or later.
    pub(crate) fn handle_request(&mut self, now: Instant, r: AdapterRequest) {
        match &self.state {
            State::Waiting { reason, .. } => {
                let e = link_down(reason);
                self.result(r.token, Err(e));
            }
            State::Connecting | State::Associating { .. } => self.queued.push_back(r),
            State::Up { .. } => {
                if let Err(e) = self.on_request(now, r) {
                    self.lost(now, e, true);
                }
            }
        }
    }

    /// Deadlines that have passed: invokes timed out, keep-alive due, association not
    /// answered, reconnect delay over.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Connecting => {}
            State::Waiting { until, .. } => {
                if now >= until {
                    self.connect();
                }
            }
            State::Associating { deadline, hello } => {
                if now >= deadline {
                    let e = LinkError::NoAnswer {
                        what: if hello { "the AARQ" } else { "the hello" },
                        timeout: self.opts().request_timeout,
                    };
                    self.lost(now, e, true);
                }
            }
            State::Up { .. } => {
                if let Err(e) = self.expire(now) {
                    return self.lost(now, e, true);
                }
                if let Err(e) = self.keep_alive(now) {
                    self.lost(now, e, true);
                }
            }
        }
    }

    // ---- session life --------------------------------------------------------------------

    fn connect(&mut self) {
        self.state = State::Connecting;
        self.events.push_back(PbxEvent::Link(LinkState::Connecting));
        self.actions.push_back(Action::Connect {
            address: self.settings.address.clone(),
            timeout: self.opts().connect_timeout,
        });
    }

    /// The session is over: every command still waiting gets its one result, the engine
    /// hears why, and the reconnect waits the backoff delay (from the shortest again if the
    /// session had stayed up for [`STABLE_AFTER`]).
    fn lost(&mut self, now: Instant, error: LinkError, close: bool) {
        let up_for = match self.state {
            State::Up { since, .. } => Some(now.saturating_duration_since(since)),
            _ => None,
        };
        let _ = self.invokes.drain();
        let tokens: Vec<u64> = self.groups.drain().map(|(t, _)| t).collect();
        for token in tokens {
            let e = CommandError::new(
                ErrorCode::LinkDown,
                "the OXE link went down before the PBX answered",
            );
            self.result(token, Err(e));
        }
        self.unanswered_keep_alives = 0;
        if close {
            self.actions.push_back(Action::Close);
        }
        let reason = error.to_string();
        tracing::warn!("OXE link down: {reason}");
        self.events.push_back(PbxEvent::Link(LinkState::Down {
            reason: reason.clone(),
        }));
        if up_for.is_some_and(|d| d >= STABLE_AFTER) {
            self.backoff.reset();
        }
        let delay = self.backoff.next_delay();
        tracing::info!(
            ?delay,
            attempt = self.backoff.attempts(),
            "reconnecting to the OXE after a pause"
        );
        while let Some(r) = self.queued.pop_front() {
            self.result(r.token, Err(link_down(&reason)));
        }
        self.state = State::Waiting {
            until: now + delay,
            reason,
        };
    }

    fn send(&mut self, pdu: Pdu) -> Result<(), LinkError> {
        self.codec.encode(pdu, &mut self.tx)?;
        Ok(())
    }

    fn result(&mut self, token: u64, result: Result<CommandOutcome, CommandError>) {
        self.events
            .push_back(PbxEvent::CommandResult { token, result });
    }

    fn allocate(&mut self, now: Instant, purpose: Purpose) -> Result<i64, LinkError> {
        let t = self.opts().request_timeout;
        self.invokes
            .allocate(purpose, now, t)
            .ok_or(LinkError::InvokeIdsExhausted)
    }

    /// Hello, then AARQ/AARE.
    fn on_associating(&mut self, now: Instant, pdu: Pdu) -> Result<(), LinkError> {
        match pdu {
            Pdu::Hello { .. } => {
                if let State::Associating { hello, .. } = &mut self.state {
                    *hello = true;
                }
                self.send(Pdu::Acse(AcseApdu::Aarq(Aarq::oxe_default())))?;
            }
            Pdu::Acse(AcseApdu::Aare(aare)) => match aare.result {
                Some(AssociateResult::Accepted) | None => {
                    tracing::info!(address = %self.settings.address, "CSTA association accepted");
                    self.associated(now)?;
                }
                Some(r) => {
                    let why = match &aare.result_source_diagnostic {
                        Some(ResultSourceDiagnostic::AcseServiceUser(d)) => d.to_string(),
                        Some(ResultSourceDiagnostic::AcseServiceProvider(d)) => d.to_string(),
                        _ => "no diagnostic".into(),
                    };
                    return Err(LinkError::Refused {
                        reason: format!("{r}: {why}"),
                    });
                }
            },
            Pdu::Acse(AcseApdu::Abrt(_)) => return Err(LinkError::Aborted),
            Pdu::Rose(RoseApdu::Invoke(Invoke {
                invoke_id,
                argument: Argument::SystemStatus(_),
                ..
            })) => {
                self.send(requests::system_status_result(invoke_id))?;
            }
            other => tracing::debug!("ignored while associating: {other:?}"),
        }
        Ok(())
    }

    /// The association is up: monitors (each followed by a snapshot once started), then the
    /// requests that waited.
    fn associated(&mut self, now: Instant) -> Result<(), LinkError> {
        self.mapper.monitors_lost();
        self.events.push_back(PbxEvent::Link(LinkState::Up));
        self.state = State::Up {
            since: now,
            next_keepalive: self.opts().keepalive.map(|p| now + p),
        };
        self.start_monitors(now)?;
        while let Some(r) = self.queued.pop_front() {
            self.on_request(now, r)?;
        }
        Ok(())
    }

    fn start_monitors(&mut self, now: Instant) -> Result<(), LinkError> {
        let devices = self.settings.devices.clone();
        let max = self.opts().max_monitors.unwrap_or(usize::MAX);
        for (i, d) in devices.iter().enumerate() {
            if i >= max {
                let e = CommandError::new(
                    ErrorCode::ResourceLimit,
                    format!(
                        "not monitored: options.max_monitors = {max} (the PBX's licences or virtual terminals)"
                    ),
                );
                self.events.push_back(PbxEvent::Monitor {
                    device: d.clone(),
                    result: Err(e),
                });
                continue;
            }
            let purpose = Purpose::Monitor {
                device: d.to_string(),
            };
            let id = self.allocate(now, purpose)?;
            self.send(requests::monitor_start(id, d.as_str()))?;
        }
        Ok(())
    }

    /// Our keep-alive, when due.
    fn keep_alive(&mut self, now: Instant) -> Result<(), LinkError> {
        let (State::Up { next_keepalive, .. }, Some(period)) =
            (&mut self.state, self.settings.options.keepalive)
        else {
            return Ok(());
        };
        if next_keepalive.is_none_or(|t| t > now) {
            return Ok(());
        }
        *next_keepalive = Some(now + period);
        let id = self
            .invokes
            .allocate(Purpose::KeepAlive, now, period)
            .ok_or(LinkError::InvokeIdsExhausted)?;
        self.send(requests::system_status(id, SystemStatus::Normal))
    }

    fn on_request(&mut self, now: Instant, r: AdapterRequest) -> Result<(), LinkError> {
        let span = tracing::debug_span!("command", token = r.token, op = r.command.op());
        let _g = span.enter();
        let planned: Vec<Planned> = match commands::plan(&r.command, &self.mapper, self.opts()) {
            Ok(p) => p,
            Err(e) => {
                self.result(r.token, Err(e));
                return Ok(());
            }
        };
        let device = r.command.device().to_string();
        if self.invokes.len() + planned.len() > MAX_OUTSTANDING {
            let e = CommandError::new(ErrorCode::Busy, "too many requests waiting for the PBX");
            self.result(r.token, Err(e));
            return Ok(());
        }
        self.groups
            .insert(r.token, CommandGroup::new(planned.len()));
        for p in planned {
            let purpose = match &r.command {
                PbxCommand::Snapshot { device } => Purpose::Snapshot {
                    device: device.to_string(),
                    token: Some(r.token),
                },
                _ => Purpose::Command {
                    token: r.token,
                    op: p.op,
                    device: device.clone(),
                },
            };
            let id = self.allocate(now, purpose)?;
            tracing::debug!(invoke_id = id, op = p.op, %device, "request sent");
            self.send(commands::with_invoke_id(p.pdu, id))?;
        }
        Ok(())
    }

    /// One answer (or failure) for an invoke of a command group.
    fn group_done(&mut self, token: u64, r: Result<Option<String>, CommandError>) {
        let Some(g) = self.groups.get_mut(&token) else {
            return;
        };
        if g.answered(r)
            && let Some(g) = self.groups.remove(&token)
        {
            self.result(token, g.result());
        }
    }

    fn expire(&mut self, now: Instant) -> Result<(), LinkError> {
        for (id, o) in self.invokes.expired(now) {
            let timeout = self.opts().request_timeout;
            match o.purpose {
                Purpose::KeepAlive => {
                    self.unanswered_keep_alives += 1;
                    tracing::warn!(
                        invoke_id = id,
                        unanswered = self.unanswered_keep_alives,
                        "keep-alive unanswered"
                    );
                    if self.unanswered_keep_alives >= 2 {
                        return Err(LinkError::KeepAliveLost);
                    }
                }
                Purpose::Monitor { device } => {
                    let e = CommandError::new(
                        ErrorCode::Timeout,
                        format!("monitorStart unanswered within {timeout:?}"),
                    );
                    self.events.push_back(PbxEvent::Monitor {
                        device: DeviceId::new(&device),
                        result: Err(e),
                    });
                }
                Purpose::Snapshot { device, token } => {
                    tracing::warn!(%device, "snapshotDevice unanswered within {timeout:?}");
                    if let Some(t) = token {
                        let e = CommandError::new(
                            ErrorCode::Timeout,
                            format!("snapshotDevice unanswered within {timeout:?}"),
                        );
                        self.group_done(t, Err(e));
                    }
                }
                Purpose::Command { token, op, .. } => {
                    let e = CommandError::new(
                        ErrorCode::Timeout,
                        format!("{op} unanswered by the PBX within {timeout:?}"),
                    );
                    self.group_done(token, Err(e));
                }
            }
        }
        Ok(())
    }

    fn on_pdu(&mut self, now: Instant, pdu: Pdu) -> Result<(), LinkError> {
        match pdu {
            Pdu::Hello { .. } => {}
            Pdu::Acse(AcseApdu::Rlrq(_)) => {
                let _ = self.send(Pdu::Acse(AcseApdu::Rlre(Release::normal())));
                return Err(LinkError::Released);
            }
            Pdu::Acse(AcseApdu::Abrt(_)) => return Err(LinkError::Aborted),
            Pdu::Acse(other) => tracing::debug!("ACSE APDU ignored: {other:?}"),
            Pdu::Rose(RoseApdu::Invoke(inv)) => {
                let id = inv.invoke_id;
                match &inv.argument {
                    Argument::CstaEventReport(report) => {
                        let m = self
                            .mapper
                            .monitored_device(&report.cross_ref_identifier)
                            .unwrap_or("?")
                            .to_string();
                        let call = report.event.connection().and_then(call_ref);
                        tracing::debug!(device = %m, pbx_call = call.as_deref().unwrap_or("-"), event = report.event.name(), "event");
                        let evs = self.mapper.on_event(report);
                        self.events.extend(evs);
                    }
                    Argument::SystemStatus(s) => {
                        self.send(requests::system_status_result(id))?;
                        if matches!(
                            s.system_status,
                            SystemStatus::Initializing | SystemStatus::Disabled
                        ) {
                            return Err(LinkError::PbxRestart(s.system_status.to_string()));
                        }
                    }
                    other => {
                        tracing::debug!(
                            opcode = other.opcode(),
                            "invoke from the PBX not handled: rejected"
                        );
                        self.send(Pdu::Rose(RoseApdu::Reject(Reject {
                            invoke_id: Some(id),
                            problem: RejectProblem::Invoke(InvokeProblem::UnrecognizedOperation),
                            unknown: vec![],
                        })))?;
                    }
                }
            }
            Pdu::Rose(RoseApdu::ReturnResult(rr)) => {
                let Some(o) = self.invokes.complete(rr.invoke_id) else {
                    tracing::debug!(
                        invoke_id = rr.invoke_id,
                        "result for no outstanding invoke (timed out?)"
                    );
                    return Ok(());
                };
                let value = rr.result.as_ref().and_then(|r| r.value.as_ref());
                match o.purpose {
                    Purpose::KeepAlive => self.unanswered_keep_alives = 0,
                    Purpose::Monitor { device } => match value {
                        Some(ResultValue::MonitorStart(m)) => {
                            self.mapper
                                .monitor_started(&device, &m.cross_ref_identifier);
                            tracing::info!(%device, "monitor started");
                            self.events.push_back(PbxEvent::Monitor {
                                device: DeviceId::new(&device),
                                result: Ok(()),
                            });
                            let id = self.allocate(
                                now,
                                Purpose::Snapshot {
                                    device: device.clone(),
                                    token: None,
                                },
                            )?;
                            self.send(requests::snapshot_device(id, &device))?;
                        }
                        _ => {
                            let e = CommandError::new(
                                ErrorCode::Internal,
                                "monitorStart result without a cross reference",
                            );
                            self.events.push_back(PbxEvent::Monitor {
                                device: DeviceId::new(&device),
                                result: Err(e),
                            });
                        }
                    },
                    Purpose::Snapshot { device, token } => match value {
                        Some(ResultValue::SnapshotDevice(s)) => {
                            let ev = self.mapper.snapshot(&device, s);
                            self.events.push_back(ev);
                            if let Some(t) = token {
                                self.group_done(t, Ok(None));
                            }
                        }
                        _ => {
                            tracing::warn!(%device, "snapshotDevice result without data");
                            if let Some(t) = token {
                                let e = CommandError::new(
                                    ErrorCode::Internal,
                                    "snapshotDevice result without data",
                                );
                                self.group_done(t, Err(e));
                            }
                        }
                    },
                    Purpose::Command { token, device, .. } => {
                        let call = match value {
                            Some(ResultValue::Connection(c)) => {
                                self.mapper.learn_connection(&c.connection, &device);
                                call_ref(&c.connection)
                            }
                            _ => None,
                        };
                        self.group_done(token, Ok(call));
                    }
                }
            }
            Pdu::Rose(RoseApdu::ReturnError(re)) => {
                let Some(o) = self.invokes.complete(re.invoke_id) else {
                    return Ok(());
                };
                self.failed(o.purpose, |op| commands::return_error(op, &re));
            }
            Pdu::Rose(RoseApdu::Reject(rj)) => {
                let Some(o) = rj.invoke_id.and_then(|id| self.invokes.complete(id)) else {
                    tracing::warn!("the PBX rejected a PDU: {:?}", rj.problem);
                    return Ok(());
                };
                self.failed(o.purpose, |op| commands::reject(op, &rj));
            }
        }
        Ok(())
    }

    fn failed(&mut self, purpose: Purpose, err: impl Fn(&str) -> CommandError) {
        match purpose {
            Purpose::KeepAlive => {
                // an answer all the same: the link is alive
                self.unanswered_keep_alives = 0;
            }
            Purpose::Monitor { device } => {
                let e = err("monitorStart");
                tracing::error!(%device, code = ?e.code, "monitor refused: {}", e.message);
                self.events.push_back(PbxEvent::Monitor {
                    device: DeviceId::new(&device),
                    result: Err(e),
                });
            }
            Purpose::Snapshot { device, token } => {
                let e = err("snapshotDevice");
                tracing::warn!(%device, "{}", e.message);
                if let Some(t) = token {
                    self.group_done(t, Err(e));
                }
            }
            Purpose::Command { token, op, .. } => {
                let e = err(op);
                self.group_done(token, Err(e));
            }
        }
    }
}

/// The error of a request made while the link is down.
fn link_down(reason: &str) -> CommandError {
    CommandError::new(
        ErrorCode::LinkDown,
        format!("the OXE link is down ({reason}); reconnecting"),
    )
}
