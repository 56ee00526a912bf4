//! The sans-IO session of one Asterisk link: login (MD5 challenge or plain) asking only for the
//! event classes needed, the initial resynchronisation (`CoreShowChannels`, then
//! `DeviceStateList`), action ids and their time-outs giving exactly one `CommandResult` per
//! request, keep-alive `Ping` and its miss detection, and the reconnect decision with backoff.
//! No sockets and no clock: bytes, requests and the time come in through `handle_*`, what must
//! go out leaves through `poll_*`; [`super::link`] is the thin task that moves them.

use super::commands::{self, Plan};
use super::error::LinkError;
use super::normalise::{DeviceMap, Mapper};
use super::options::{AuthKind, Options};
use crate::model::{CommandError, CommandOutcome, DeviceId, ErrorCode, LinkState, PbxEvent};
use crate::pbx::STABLE_AFTER;
use crate::pbx::backoff::Backoff;
use crate::pbx::contract::AdapterRequest;
use bytes::{Bytes, BytesMut};
use ctigw_codecs::ami::{Action, ActionIdGen, AmiCodec, Correlated, Correlator, Message};
use std::collections::{HashMap, VecDeque};
use std::time::Instant;
use tokio_util::codec::Decoder;

/// What the link task must do with its connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkAction {
    /// Open a connection to Asterisk, then call [`Session::handle_connected`] (or
    /// [`Session::handle_closed`] with why it failed).
    Connect,
    /// Drop the connection: the session has ended and will ask to connect again later.
    Close,
}

/// The session-level action being waited for, one at a time, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Challenge,
    Login,
    Channels,
    DeviceStates,
    Queues,
}

impl Step {
    fn action(self) -> &'static str {
        match self {
            Step::Challenge => "Challenge",
            Step::Login => "Login",
            Step::Channels => "CoreShowChannels",
            Step::DeviceStates => "DeviceStateList",
            Step::Queues => "QueueStatus",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No connection; the next attempt is at `retry_at`.
    Down { retry_at: Instant },
    /// [`LinkAction::Connect`] given, waiting for the connection.
    Connecting,
    /// Connected: logging in and resynchronising (one [`Step`] outstanding).
    Setup,
    /// Logged in and resynchronised.
    Up,
}

/// One command in flight: how many of its actions are still unanswered.
struct InFlight {
    remaining: usize,
    outcome: CommandOutcome,
    error: Option<CommandError>,
    deadline: Instant,
    op: &'static str,
}

/// The state of one Asterisk link across its connections. The [`Mapper`] (and so the calls it
/// reported) outlives each connection; action ids, the correlator and the codec start afresh.
///
/// # Call order
///
/// As quinn-proto's `Connection`, the session is driven by its owner in a loop:
///
/// 1. feed what happened, each with the current `now`: [`handle_connected`](Self::handle_connected)
///    or [`handle_closed`](Self::handle_closed) after a connect attempt or when the connection
///    ends, [`handle_bytes`](Self::handle_bytes) for what was read,
///    [`handle_request`](Self::handle_request) for each engine command, and
///    [`handle_timeout`](Self::handle_timeout) once the instant given by `poll_timeout` is reached;
/// 2. then drain, until each returns `None`: [`poll_action`](Self::poll_action) (connect or
///    close), [`poll_event`](Self::poll_event) (for the engine),
///    [`poll_transmit`](Self::poll_transmit) (bytes to write);
/// 3. then ask [`poll_timeout`](Self::poll_timeout) again (any `handle_*` call may change it)
///    and wait for whichever comes first: bytes, a request, or that instant.
///
/// A new session starts by asking to connect ([`LinkAction::Connect`]).
pub(crate) struct Session {
    /// "Asterisk at host:port", for messages.
    pbx: String,
    devices: Vec<DeviceId>,
    opts: Options,
    mapper: Mapper,
    backoff: Backoff,
    phase: Phase,
    codec: AmiCodec,
    inbuf: BytesMut,
    outbuf: BytesMut,
    ids: ActionIdGen,
    correlator: Correlator,
    /// The session-level action outstanding during setup, its id and deadline.
    step: Option<(Step, String, Instant)>,
    /// Messages that arrived during setup and belong to nobody: handled once up.
    early: Vec<Message>,
    /// ActionID → token of the command it belongs to.
    actions: HashMap<String, u64>,
    inflight: HashMap<u64, InFlight>,
    /// Requests that arrived while connecting: executed once up, refused if the attempt fails.
    queued: VecDeque<AdapterRequest>,
    /// The `Ping` outstanding, with when it was sent.
    ping: Option<(String, Instant)>,
    next_ping: Option<Instant>,
    up_since: Option<Instant>,
    /// The `QueueStatus` sent again after `FullyBooted`, while its list is awaited.
    queue_refresh: Option<String>,
    banner_logged: bool,
    /// Why the last session ended (the `Down` reason).
    last_error: Option<LinkError>,
    /// Unique `ChannelId`s for originated calls: a prefix fixed per process, and a counter.
    channel_prefix: u64,
    channel_ids: u64,
    events: VecDeque<PbxEvent>,
    /// During setup: `Up`, the monitors, the snapshots and the agents, told to the engine
    /// together once resynchronised, so that no client sees the link up with the calls or
    /// queue members not loaded yet.
    held_back: Option<Vec<PbxEvent>>,
    link_actions: VecDeque<LinkAction>,
}

impl Session {
    /// A session for the link to `address`, asking at once to connect.
    pub(crate) fn new(
        address: &str,
        devices: Vec<DeviceId>,
        opts: Options,
        backoff: Backoff,
        channel_prefix: u64,
    ) -> Self {
        let mapper = Mapper::new(DeviceMap::configured(opts.channels.iter()));
        let mut s = Session {
            pbx: format!("Asterisk at {address}"),
            devices,
            opts,
            mapper,
            backoff,
            phase: Phase::Connecting,
            codec: AmiCodec::client(),
            inbuf: BytesMut::new(),
            outbuf: BytesMut::new(),
            ids: ActionIdGen::new("ctigw"),
            correlator: Correlator::new(),
            step: None,
            early: Vec::new(),
            actions: HashMap::new(),
            inflight: HashMap::new(),
            queued: VecDeque::new(),
            ping: None,
            next_ping: None,
            up_since: None,
            queue_refresh: None,
            banner_logged: false,
            last_error: None,
            channel_prefix,
            channel_ids: 0,
            events: VecDeque::new(),
            held_back: None,
            link_actions: VecDeque::new(),
        };
        s.events.push_back(PbxEvent::Link(LinkState::Connecting));
        s.link_actions.push_back(LinkAction::Connect);
        s
    }

    /// Whether the session is logged in and resynchronised.
    #[cfg(test)]
    pub(crate) fn is_up(&self) -> bool {
        self.phase == Phase::Up
    }

    /// Why the last session ended, if one did.
    #[cfg(test)]
    pub(crate) fn last_error(&self) -> Option<&LinkError> {
        self.last_error.as_ref()
    }

    /// How long a connect attempt may take.
    pub(crate) fn connect_timeout(&self) -> std::time::Duration {
        self.opts.response_timeout
    }

    // ----- what comes in ----------------------------------------------------------------------

    /// The connection asked by [`LinkAction::Connect`] is open: log in.
    pub(crate) fn handle_connected(&mut self, now: Instant) {
        if self.phase != Phase::Connecting {
            return;
        }
        self.codec = AmiCodec::client();
        self.inbuf.clear();
        self.outbuf.clear();
        self.ids = ActionIdGen::new("ctigw");
        self.correlator = Correlator::new();
        self.banner_logged = false;
        self.early.clear();
        self.phase = Phase::Setup;
        match self.opts.auth {
            AuthKind::Md5 => {
                let challenge = Action::new("Challenge").field("AuthType", "MD5");
                self.send_step(Step::Challenge, challenge, now);
            }
            AuthKind::Plain => {
                let login = self
                    .login_action()
                    .field("Secret", self.opts.secret.as_str());
                self.send_step(Step::Login, self.with_events(login), now);
            }
        }
    }

    /// The connection ended, or the attempt to open it failed.
    pub(crate) fn handle_closed(&mut self, now: Instant, why: LinkError) {
        self.fail(now, why);
    }

    /// Bytes read from the connection.
    pub(crate) fn handle_bytes(&mut self, now: Instant, bytes: &[u8]) {
        if !matches!(self.phase, Phase::Setup | Phase::Up) {
            return;
        }
        self.inbuf.extend_from_slice(bytes);
        loop {
            match self.codec.decode(&mut self.inbuf) {
                Ok(Some(Ok(m))) => {
                    if !self.banner_logged
                        && let Some(v) = self.codec.version()
                    {
                        tracing::info!(version = %v, "AMI banner");
                        self.banner_logged = true;
                    }
                    self.on_message(now, m);
                    if !matches!(self.phase, Phase::Setup | Phase::Up) {
                        return;
                    }
                }
                // the codec has skipped to the next message: the stream goes on
                Ok(Some(Err(e))) => tracing::warn!("undecodable AMI message: {e}"),
                Ok(None) => return,
                Err(e) => {
                    self.fail(now, LinkError::Closed(e.to_string()));
                    return;
                }
            }
        }
    }

    /// A command from the engine: executed when up, queued while connecting, refused with
    /// `link_down` while waiting to reconnect.
    pub(crate) fn handle_request(&mut self, now: Instant, r: AdapterRequest) {
        match self.phase {
            Phase::Up => self.execute(now, r),
            Phase::Connecting | Phase::Setup => self.queued.push_back(r),
            Phase::Down { .. } => self.refuse(r),
        }
    }

    /// The instant from [`poll_timeout`](Self::poll_timeout) has come (or passed).
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        match self.phase {
            Phase::Down { retry_at } if now >= retry_at => {
                // a retry is not announced: the link stays `Down` for the engine until it is
                // up again, and a failed attempt is told once, by its `Down` (issue 9 item 10)
                self.phase = Phase::Connecting;
                self.link_actions.push_back(LinkAction::Connect);
            }
            Phase::Setup => {
                if let Some((step, id, deadline)) = &self.step
                    && now >= *deadline
                {
                    let action = step.action().to_string();
                    self.correlator.cancel(id);
                    self.fail(now, self.no_answer(action));
                }
            }
            Phase::Up => {
                self.expire(now);
                if let Some((_, sent)) = &self.ping
                    && now >= *sent + self.opts.response_timeout
                {
                    self.fail(now, self.no_answer("Ping".into()));
                    return;
                }
                if let Some(at) = self.next_ping
                    && now >= at
                {
                    if self.ping.is_none()
                        && let Some(id) = self.send(Action::new("Ping"), now)
                    {
                        self.ping = Some((id, now));
                    }
                    self.next_ping = Some(now + self.opts.ping_interval);
                }
            }
            _ => {}
        }
    }

    // ----- what goes out ----------------------------------------------------------------------

    /// What the link task must do with its connection.
    pub(crate) fn poll_action(&mut self) -> Option<LinkAction> {
        self.link_actions.pop_front()
    }

    /// The next event for the engine.
    pub(crate) fn poll_event(&mut self) -> Option<PbxEvent> {
        self.events.pop_front()
    }

    /// Bytes to write to the connection.
    pub(crate) fn poll_transmit(&mut self) -> Option<Bytes> {
        (!self.outbuf.is_empty()).then(|| self.outbuf.split().freeze())
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Down { retry_at } => Some(retry_at),
            Phase::Connecting => None,
            Phase::Setup => self.step.as_ref().map(|(_, _, d)| *d),
            Phase::Up => {
                let ping_deadline = self
                    .ping
                    .as_ref()
                    .map(|(_, sent)| *sent + self.opts.response_timeout);
                [ping_deadline, self.next_ping]
                    .into_iter()
                    .flatten()
                    .chain(self.inflight.values().map(|f| f.deadline))
                    .min()
            }
        }
    }

    // ----- the steps --------------------------------------------------------------------------

    fn login_action(&self) -> Action {
        Action::new("Login").field("Username", self.opts.username.as_str())
    }

    fn with_events(&self, login: Action) -> Action {
        login.field("Events", self.opts.events.as_str())
    }

    fn no_answer(&self, action: String) -> LinkError {
        LinkError::NoAnswer {
            action,
            secs: self.opts.response_timeout.as_secs(),
        }
    }

    /// Encodes an action with a fresh id; `None` (and the session failed) if it cannot be.
    fn send(&mut self, action: Action, now: Instant) -> Option<String> {
        let id = self.ids.next_id();
        let action = action.id(id.clone());
        match action.encode(&mut self.outbuf) {
            Ok(()) => Some(id),
            Err(e) => {
                let name = action.name().to_string();
                self.fail(
                    now,
                    LinkError::Send {
                        action: name,
                        reason: e.to_string(),
                    },
                );
                None
            }
        }
    }

    fn send_step(&mut self, step: Step, action: Action, now: Instant) {
        if let Some(id) = self.send(action, now) {
            if matches!(step, Step::Channels | Step::DeviceStates | Step::Queues) {
                self.correlator.register_list(id.clone());
            } else {
                self.correlator.register(id.clone());
            }
            self.step = Some((step, id, now + self.opts.response_timeout));
        }
    }

    fn on_message(&mut self, now: Instant, m: Message) {
        if self.phase == Phase::Up {
            if let Some((id, _)) = &self.ping
                && m.is_response()
                && m.action_id() == Some(id.as_str())
            {
                self.ping = None;
                return;
            }
            self.on_up_message(now, m);
            return;
        }
        match self.correlator.receive(m) {
            Some(c @ (Correlated::Response { .. } | Correlated::List(_)))
                if correlated_id(&c).is_some_and(|id| {
                    self.step.as_ref().is_some_and(|(_, mine, _)| mine == id)
                }) =>
            {
                if let Some((step, _, _)) = self.step.take() {
                    self.step_answered(now, step, c);
                }
            }
            Some(other) => {
                if let Some(m) = uncorrelated(other) {
                    self.early.push(m);
                }
            }
            None => {}
        }
    }

    fn step_answered(&mut self, now: Instant, step: Step, answer: Correlated) {
        match step {
            Step::Challenge => {
                let Correlated::Response { response, .. } = answer else {
                    return self.fail(now, LinkError::LoginRefused("no challenge".into()));
                };
                let Some(challenge) = response.get("Challenge").filter(|_| !response.is_error())
                else {
                    let why = format!(
                        "MD5 challenge refused: {}",
                        response.get("Message").unwrap_or("no message")
                    );
                    return self.fail(now, LinkError::LoginRefused(why));
                };
                let key = login_key(challenge.trim(), &self.opts.secret);
                let login = self
                    .login_action()
                    .field("AuthType", "MD5")
                    .field("Key", key);
                self.send_step(Step::Login, self.with_events(login), now);
            }
            Step::Login => match answer {
                Correlated::Response { response, .. } if response.is_success() => {
                    self.logged_in(now)
                }
                Correlated::Response { response, .. } => {
                    let why = response.get("Message").unwrap_or("no message").to_string();
                    self.fail(now, LinkError::LoginRefused(why))
                }
                _ => self.fail(now, LinkError::LoginRefused("unexpected answer".into())),
            },
            Step::Channels => {
                let items = match answer {
                    Correlated::List(l) => l.items,
                    Correlated::Response { response, .. } => {
                        tracing::warn!(
                            "CoreShowChannels refused ({}): starting without the calls in progress",
                            response.get("Message").unwrap_or("no message")
                        );
                        Vec::new()
                    }
                    _ => Vec::new(),
                };
                let events = self.mapper.finish_resync(&items, &self.devices);
                tracing::info!(
                    channels = items.len(),
                    "resynchronised from CoreShowChannels"
                );
                self.setup_events(events);
                self.send_step(Step::DeviceStates, Action::new("DeviceStateList"), now);
            }
            Step::DeviceStates => {
                if let Correlated::List(l) = answer {
                    for m in &l.items {
                        self.mapper.on_message(m);
                    }
                    self.invalid_devices();
                }
                self.send_step(Step::Queues, Action::new("QueueStatus"), now);
            }
            Step::Queues => {
                // queue members (static ones too) and their state as Asterisk holds them now
                match answer {
                    Correlated::List(l) => {
                        let events = self.mapper.queue_status(&l.items);
                        self.setup_events(events);
                    }
                    Correlated::Response { response, .. } => tracing::warn!(
                        "QueueStatus refused ({}): agents known from their next event only",
                        response.get("Message").unwrap_or("no message")
                    ),
                    _ => {}
                }
                self.resynchronised(now);
            }
        }
    }

    fn logged_in(&mut self, now: Instant) {
        tracing::info!(pbx = %self.pbx, user = %self.opts.username, "logged in to Asterisk");
        self.up_since = Some(now);
        let mut held = vec![PbxEvent::Link(LinkState::Up)];
        for d in &self.devices {
            held.push(PbxEvent::Monitor {
                device: d.clone(),
                result: Ok(()),
            });
        }
        self.held_back = Some(held);
        self.mapper.begin_resync();
        self.send_step(Step::Channels, Action::new("CoreShowChannels"), now);
    }

    /// Devices Asterisk reports `INVALID` get a monitor error.
    /// Events found during setup: held back until resynchronised.
    fn setup_events(&mut self, events: Vec<PbxEvent>) {
        match self.held_back.as_mut() {
            Some(held) => held.extend(events),
            None => self.events.extend(events),
        }
    }

    fn invalid_devices(&mut self) {
        for d in self.devices.clone() {
            let Some(ch) = self.opts.channel_of(&d).map(str::to_string) else {
                continue;
            };
            if self
                .mapper
                .device_states
                .get(&ch)
                .is_some_and(|s| s.eq_ignore_ascii_case("INVALID"))
            {
                self.setup_events(vec![PbxEvent::Monitor {
                    device: d.clone(),
                    result: Err(CommandError::new(
                        ErrorCode::PbxRejected,
                        format!("Asterisk reports {ch} as INVALID: no such endpoint"),
                    )),
                }]);
            }
        }
    }

    fn resynchronised(&mut self, now: Instant) {
        self.phase = Phase::Up;
        if let Some(held) = self.held_back.take() {
            self.events.extend(held);
        }
        self.next_ping = Some(now + self.opts.ping_interval);
        for m in std::mem::take(&mut self.early) {
            self.on_up_message(now, m);
        }
        while self.phase == Phase::Up
            && let Some(r) = self.queued.pop_front()
        {
            self.execute(now, r);
        }
    }

    /// A message once up: an answer to a command's action, or an event for the mapper.
    fn on_up_message(&mut self, now: Instant, m: Message) {
        if m.event() == Some("FullyBooted") {
            // an Asterisk still starting may answer the login before its queues are loaded:
            // list the queue members again once it says it is fully booted
            if let Some(id) = self.send(Action::new("QueueStatus"), now) {
                self.correlator.register_list(id.clone());
                self.queue_refresh = Some(id);
            }
        }
        match self.correlator.receive(m) {
            None => {}
            Some(Correlated::List(l)) if self.queue_refresh.as_deref() == Some(&l.action_id) => {
                self.queue_refresh = None;
                let events = self.mapper.queue_status(&l.items);
                self.events.extend(events);
            }
            Some(Correlated::Response { action_id, .. })
                if self.queue_refresh.as_deref() == Some(&action_id) =>
            {
                self.queue_refresh = None;
            }
            Some(Correlated::Response {
                action_id,
                response,
            }) => {
                let error = response
                    .is_error()
                    .then(|| response.get("Message").unwrap_or("no message").to_string());
                self.action_done(&action_id, error);
            }
            Some(Correlated::List(l)) => self.action_done(&l.action_id, None),
            Some(other) => {
                if let Some(m) = uncorrelated(other) {
                    let events = self.mapper.on_message(&m);
                    self.events.extend(events);
                }
            }
        }
    }

    fn action_done(&mut self, id: &str, error: Option<String>) {
        let Some(token) = self.actions.remove(id) else {
            return;
        };
        let Some(f) = self.inflight.get_mut(&token) else {
            return;
        };
        f.remaining = f.remaining.saturating_sub(1);
        if let Some(text) = error
            && f.error.is_none()
        {
            f.error = Some(CommandError::new(
                ErrorCode::PbxRejected,
                format!("{}: Asterisk refused: {text}", f.op),
            ));
        }
        if f.remaining == 0
            && let Some(f) = self.inflight.remove(&token)
        {
            let result = match f.error {
                Some(e) => Err(e),
                None => Ok(f.outcome),
            };
            self.events
                .push_back(PbxEvent::CommandResult { token, result });
        }
    }

    fn execute(&mut self, now: Instant, r: AdapterRequest) {
        let op = r.command.op();
        self.channel_ids += 1;
        let channel_id = format!("ctigw-{}.{}", self.channel_prefix, self.channel_ids);
        let token = r.token;
        match commands::plan(&r.command, &mut self.mapper, &self.opts, &channel_id) {
            Err(e) => {
                tracing::info!(token, op, code = ?e.code, "command not executed: {}", e.message);
                self.events.push_back(PbxEvent::CommandResult {
                    token,
                    result: Err(e),
                });
            }
            Ok(Plan::Done { events, result }) => {
                self.events.extend(events);
                self.events
                    .push_back(PbxEvent::CommandResult { token, result });
            }
            Ok(Plan::Actions { actions, outcome }) => {
                if actions.is_empty() {
                    self.events.push_back(PbxEvent::CommandResult {
                        token,
                        result: Ok(outcome),
                    });
                    return;
                }
                self.inflight.insert(
                    token,
                    InFlight {
                        remaining: actions.len(),
                        outcome,
                        error: None,
                        deadline: now + self.opts.response_timeout,
                        op,
                    },
                );
                for a in actions {
                    // a failed send ends the session, which answers the command `link_down`
                    let Some(id) = self.send(a, now) else {
                        return;
                    };
                    self.correlator.register(id.clone());
                    self.actions.insert(id, token);
                }
            }
        }
    }

    /// Commands whose actions went unanswered too long: one `timeout` result each.
    fn expire(&mut self, now: Instant) {
        let mut late: Vec<u64> = self
            .inflight
            .iter()
            .filter(|(_, f)| now >= f.deadline)
            .map(|(t, _)| *t)
            .collect();
        late.sort_unstable();
        for token in late {
            let ids: Vec<String> = self
                .actions
                .iter()
                .filter(|(_, t)| **t == token)
                .map(|(i, _)| i.clone())
                .collect();
            for id in ids {
                self.actions.remove(&id);
                self.correlator.cancel(&id);
            }
            if let Some(f) = self.inflight.remove(&token) {
                self.events.push_back(PbxEvent::CommandResult {
                    token,
                    result: Err(CommandError::new(
                        ErrorCode::Timeout,
                        format!(
                            "{}: Asterisk gave no answer within {} s",
                            f.op,
                            self.opts.response_timeout.as_secs()
                        ),
                    )),
                });
            }
        }
    }

    fn refuse(&mut self, r: AdapterRequest) {
        let reason = self
            .last_error
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| "not connected".into());
        let e = CommandError::new(
            ErrorCode::LinkDown,
            format!("the {} link is down ({reason}); reconnecting", self.pbx),
        );
        self.events.push_back(PbxEvent::CommandResult {
            token: r.token,
            result: Err(e),
        });
    }

    /// The session ends: what is in flight fails `link_down`, the engine is told the link is
    /// down and why, and the next attempt is scheduled after the backoff delay.
    fn fail(&mut self, now: Instant, why: LinkError) {
        if matches!(self.phase, Phase::Down { .. }) {
            return;
        }
        let reason = why.to_string();
        let mut tokens: Vec<u64> = self.inflight.keys().copied().collect();
        tokens.sort_unstable();
        for token in tokens {
            if let Some(f) = self.inflight.remove(&token) {
                self.events.push_back(PbxEvent::CommandResult {
                    token,
                    result: Err(CommandError::new(
                        ErrorCode::LinkDown,
                        format!("{}: link to Asterisk lost: {reason}", f.op),
                    )),
                });
            }
        }
        self.actions.clear();
        self.queue_refresh = None;
        // a setup that did not finish announced nothing
        self.held_back = None;
        self.correlator = Correlator::new();
        self.step = None;
        self.ping = None;
        self.next_ping = None;
        self.outbuf.clear();
        self.inbuf.clear();
        tracing::warn!("{} link down: {reason}", self.pbx);
        self.events.push_back(PbxEvent::Link(LinkState::Down {
            reason: reason.clone(),
        }));
        // a session that logged in and resynchronised (or was up for STABLE_AFTER) retries
        // after the shortest delay the first time after it drops (a PBX restart, even a second
        // one soon after); attempts that fail after that back off (issue 9 item 9)
        let was_up = self.phase == Phase::Up;
        if self
            .up_since
            .take()
            .is_some_and(|t| was_up || now.saturating_duration_since(t) >= STABLE_AFTER)
        {
            self.backoff.reset();
        }
        let delay = self.backoff.next_delay();
        tracing::info!(
            ?delay,
            attempt = self.backoff.attempts(),
            "reconnecting to the {} after a pause",
            self.pbx
        );
        self.phase = Phase::Down {
            retry_at: now + delay,
        };
        self.last_error = Some(why);
        self.link_actions.push_back(LinkAction::Close);
        while let Some(r) = self.queued.pop_front() {
            self.refuse(r);
        }
    }
}

/// The `Key` of an MD5 login: lower-case hex of `md5(challenge + secret)`.
fn login_key(challenge: &str, secret: &str) -> String {
    use md5::Digest as _;
    md5::Md5::digest(format!("{challenge}{secret}").as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn correlated_id(c: &Correlated) -> Option<&str> {
    match c {
        Correlated::Response { action_id, .. } => Some(action_id),
        Correlated::List(l) => Some(&l.action_id),
        _ => None,
    }
}

fn uncorrelated(c: Correlated) -> Option<Message> {
    match c {
        Correlated::Event(m) | Correlated::Unmatched(m) => Some(m),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::login_key;

    #[test]
    fn md5_login_key_is_hex_of_challenge_then_secret() {
        // md5("123456789secret"), computed independently
        assert_eq!(
            login_key("123456789", "secret"),
            "7ccde16e862dfe7681297713e9e9cadb"
        );
    }
}
