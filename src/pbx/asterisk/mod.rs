//! The Asterisk dialect: a link to the Asterisk Manager Interface (AMI, TCP 5038).
//!
//! - [`normalise`]: sans-IO, AMI messages → model events (also `ctigw replay`);
//! - [`commands`]: model commands → AMI actions, or a clear `not_supported`;
//! - [`options`]: the link's own configuration keys;
//! - this module: the link task: connect, log in (plain or MD5 challenge) asking only for the
//!   event classes needed, resynchronise from `CoreShowChannels` and `DeviceStateList`, keep
//!   alive with `Ping`, execute commands with exactly one result each, reconnect with backoff.
//!
//! The socket is read by its own task into an unbounded queue, so Asterisk never sees a slow
//! reader (it drops clients that do not read within `writetimeout`), whatever the engine does.

pub mod commands;
pub mod normalise;
pub mod options;

use crate::engine::{AdapterRequest, LinkSink};
use crate::model::{CommandError, DeviceId, ErrorCode, LinkState, PbxEvent};
use crate::pbx::backoff::Backoff;
use ctigw_codecs::ami::{Action, ActionIdGen, AmiCodec, Correlated, Correlator, Message};
use futures_util::{SinkExt, StreamExt};
use normalise::{DeviceMap, Normaliser};
use options::{AsteriskOptions, AuthKind};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite};

/// Why a session ended.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot connect to {address}: {source}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    #[error("connecting to {address} timed out after {secs} s")]
    ConnectTimeout { address: String, secs: u64 },
    #[error("login refused by Asterisk: {0}")]
    LoginRefused(String),
    #[error("no answer to {action} within {secs} s")]
    NoAnswer { action: String, secs: u64 },
    #[error("Asterisk closed the connection: {0}")]
    Closed(String),
    #[error("cannot send {action}: {reason}")]
    Send { action: String, reason: String },
    #[error("the engine has stopped")]
    EngineGone,
}

enum Read {
    Msg(Message),
    Closed(String),
}

/// One command in flight: its token and how many of its actions are still unanswered.
struct InFlight {
    token: u64,
    remaining: usize,
    outcome: crate::model::CommandOutcome,
    error: Option<CommandError>,
    sent: Instant,
    op: &'static str,
}

fn op_name(c: &crate::model::PbxCommand) -> &'static str {
    use crate::model::PbxCommand as P;
    match c {
        P::MakeCall { .. } => "makeCall",
        P::Answer { .. } => "answer",
        P::Hangup { .. } => "hangup",
        P::Hold { .. } => "hold",
        P::Retrieve { .. } => "retrieve",
        P::Consult { .. } => "consult",
        P::Transfer { .. } => "transfer",
        P::Conference { .. } => "conference",
        P::Alternate { .. } => "alternate",
        P::Deflect { .. } => "deflect",
        P::SingleStepTransfer { .. } => "singleStepTransfer",
        P::SendDigits { .. } => "sendDigits",
        P::SetForward { .. } => "setForward",
        P::CancelForward { .. } => "cancelForward",
        P::SetDnd { .. } => "setDnd",
        P::SetAgentState { .. } => "setAgentState",
        P::Snapshot { .. } => "snapshot",
    }
}

/// One connection to Asterisk.
struct Session<'a> {
    address: &'a str,
    devices: &'a [DeviceId],
    opts: &'a AsteriskOptions,
    sink: &'a LinkSink,
    norm: &'a mut Normaliser,
    writer: FramedWrite<OwnedWriteHalf, AmiCodec>,
    reads: mpsc::UnboundedReceiver<Read>,
    ids: ActionIdGen,
    correlator: Correlator,
    /// ActionID → token of the command it belongs to.
    actions: HashMap<String, u64>,
    inflight: HashMap<u64, InFlight>,
    channel_ids: u64,
}

impl Session<'_> {
    async fn emit(&self, ev: PbxEvent) -> Result<(), SessionError> {
        if self.sink.send(ev).await {
            Ok(())
        } else {
            Err(SessionError::EngineGone)
        }
    }

    async fn send(&mut self, action: Action) -> Result<String, SessionError> {
        let id = self.ids.next_id();
        let action = action.id(id.clone());
        let name = action.name().to_string();
        self.writer
            .send(&action)
            .await
            .map_err(|e| SessionError::Send {
                action: name,
                reason: e.to_string(),
            })?;
        Ok(id)
    }

    /// Sends an action and waits for its response (or list), keeping other messages.
    async fn request(
        &mut self,
        action: Action,
        list: bool,
        early: &mut Vec<Message>,
    ) -> Result<Correlated, SessionError> {
        let name = action.name().to_string();
        let id = self.send(action).await?;
        if list {
            self.correlator.register_list(id.clone());
        } else {
            self.correlator.register(id.clone());
        }
        let deadline = tokio::time::Instant::now() + self.opts.response_timeout;
        loop {
            let read = tokio::time::timeout_at(deadline, self.reads.recv()).await;
            let msg = match read {
                Err(_) => {
                    self.correlator.cancel(&id);
                    return Err(SessionError::NoAnswer {
                        action: name,
                        secs: self.opts.response_timeout.as_secs(),
                    });
                }
                Ok(None) => return Err(SessionError::Closed("reader stopped".into())),
                Ok(Some(Read::Closed(r))) => return Err(SessionError::Closed(r)),
                Ok(Some(Read::Msg(m))) => m,
            };
            match self.correlator.receive(msg) {
                Some(c @ Correlated::Response { .. }) | Some(c @ Correlated::List(_))
                    if correlated_id(&c) == Some(id.as_str()) =>
                {
                    return Ok(c);
                }
                Some(other) => {
                    if let Some(m) = uncorrelated(other) {
                        early.push(m);
                    }
                }
                None => {}
            }
        }
    }

    async fn login(&mut self, early: &mut Vec<Message>) -> Result<(), SessionError> {
        let mut login = Action::new("Login").field("Username", self.opts.username.as_str());
        match self.opts.auth {
            AuthKind::Plain => login = login.field("Secret", self.opts.secret.as_str()),
            AuthKind::Md5 => {
                let r = self
                    .request(
                        Action::new("Challenge").field("AuthType", "MD5"),
                        false,
                        early,
                    )
                    .await?;
                let Correlated::Response { response, .. } = r else {
                    return Err(SessionError::LoginRefused("no challenge".into()));
                };
                let Some(challenge) = response.get("Challenge").filter(|_| !response.is_error())
                else {
                    return Err(SessionError::LoginRefused(format!(
                        "MD5 challenge refused: {}",
                        response.get("Message").unwrap_or("no message")
                    )));
                };
                let key = login_key(challenge.trim(), &self.opts.secret);
                login = login.field("AuthType", "MD5").field("Key", key);
            }
        }
        login = login.field("Events", self.opts.events.as_str());
        match self.request(login, false, early).await? {
            Correlated::Response { response, .. } if response.is_success() => Ok(()),
            Correlated::Response { response, .. } => Err(SessionError::LoginRefused(
                response.get("Message").unwrap_or("no message").to_string(),
            )),
            _ => Err(SessionError::LoginRefused("unexpected answer".into())),
        }
    }

    /// `CoreShowChannels` → snapshots and corrections; `DeviceStateList` → monitor errors for
    /// devices Asterisk does not know.
    async fn resync(&mut self, early: &mut Vec<Message>) -> Result<(), SessionError> {
        self.norm.begin_resync();
        let items = match self
            .request(Action::new("CoreShowChannels"), true, early)
            .await?
        {
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
        let events = self.norm.finish_resync(&items, self.devices);
        tracing::info!(
            channels = items.len(),
            "resynchronised from CoreShowChannels"
        );
        for ev in events {
            self.emit(ev).await?;
        }
        if let Correlated::List(l) = self
            .request(Action::new("DeviceStateList"), true, early)
            .await?
        {
            for m in &l.items {
                self.norm.on_message(m);
            }
            for d in self.devices {
                let Some(ch) = self.opts.channel_of(d) else {
                    continue;
                };
                if let Some(state) = self.norm.device_states.get(ch)
                    && state.eq_ignore_ascii_case("INVALID")
                {
                    self.emit(PbxEvent::Monitor {
                        device: d.clone(),
                        result: Err(CommandError::new(
                            ErrorCode::PbxRejected,
                            format!("Asterisk reports {ch} as INVALID: no such endpoint"),
                        )),
                    })
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn on_message(&mut self, msg: Message) -> Result<(), SessionError> {
        match self.correlator.receive(msg) {
            None => Ok(()),
            Some(Correlated::Response {
                action_id,
                response,
            }) => {
                if response.is_error() {
                    let text = response.get("Message").unwrap_or("no message").to_string();
                    self.action_done(&action_id, Some(text)).await
                } else {
                    self.action_done(&action_id, None).await
                }
            }
            Some(Correlated::List(l)) => self.action_done(&l.action_id, None).await,
            Some(other) => {
                if let Some(m) = uncorrelated(other) {
                    for ev in self.norm.on_message(&m) {
                        self.emit(ev).await?;
                    }
                }
                Ok(())
            }
        }
    }

    async fn action_done(&mut self, id: &str, error: Option<String>) -> Result<(), SessionError> {
        let Some(token) = self.actions.remove(id) else {
            return Ok(());
        };
        let Some(f) = self.inflight.get_mut(&token) else {
            return Ok(());
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
            self.emit(PbxEvent::CommandResult { token, result }).await?;
        }
        Ok(())
    }

    async fn on_request(&mut self, r: AdapterRequest) -> Result<(), SessionError> {
        let op = op_name(&r.command);
        let span = tracing::debug_span!("command", token = r.token, op);
        let _g = span.enter();
        self.channel_ids += 1;
        let channel_id = format!(
            "ctigw-{}.{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
            self.channel_ids
        );
        drop(_g);
        match commands::plan(&r.command, self.norm, self.opts, &channel_id) {
            Err(e) => {
                tracing::info!(token = r.token, op, code = ?e.code, "command not executed: {}", e.message);
                self.emit(PbxEvent::CommandResult {
                    token: r.token,
                    result: Err(e),
                })
                .await
            }
            Ok(commands::Plan::Done { events, result }) => {
                for ev in events {
                    self.emit(ev).await?;
                }
                self.emit(PbxEvent::CommandResult {
                    token: r.token,
                    result,
                })
                .await
            }
            Ok(commands::Plan::Actions { actions, outcome }) => {
                if actions.is_empty() {
                    return self
                        .emit(PbxEvent::CommandResult {
                            token: r.token,
                            result: Ok(outcome),
                        })
                        .await;
                }
                self.inflight.insert(
                    r.token,
                    InFlight {
                        token: r.token,
                        remaining: actions.len(),
                        outcome,
                        error: None,
                        sent: Instant::now(),
                        op,
                    },
                );
                for a in actions {
                    let id = match self.send(a).await {
                        Ok(id) => id,
                        Err(e) => {
                            self.inflight.remove(&r.token);
                            self.emit(PbxEvent::CommandResult {
                                token: r.token,
                                result: Err(CommandError::new(ErrorCode::LinkDown, e.to_string())),
                            })
                            .await?;
                            return Err(e);
                        }
                    };
                    self.correlator.register(id.clone());
                    self.actions.insert(id, r.token);
                }
                Ok(())
            }
        }
    }

    /// Commands whose actions went unanswered too long.
    async fn expire(&mut self) -> Result<(), SessionError> {
        let limit = self.opts.response_timeout;
        let late: Vec<u64> = self
            .inflight
            .values()
            .filter(|f| f.sent.elapsed() > limit)
            .map(|f| f.token)
            .collect();
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
                self.emit(PbxEvent::CommandResult {
                    token,
                    result: Err(CommandError::new(
                        ErrorCode::Timeout,
                        format!(
                            "{}: Asterisk gave no answer within {} s",
                            f.op,
                            limit.as_secs()
                        ),
                    )),
                })
                .await?;
            }
        }
        Ok(())
    }

    /// Fails what is still in flight (the link is going down).
    async fn abandon(&mut self, reason: &str) {
        let tokens: Vec<u64> = self.inflight.keys().copied().collect();
        for token in tokens {
            if let Some(f) = self.inflight.remove(&token) {
                let _ = self
                    .sink
                    .send(PbxEvent::CommandResult {
                        token,
                        result: Err(CommandError::new(
                            ErrorCode::LinkDown,
                            format!("{}: link to Asterisk lost: {reason}", f.op),
                        )),
                    })
                    .await;
            }
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

async fn connect(address: &str, timeout: Duration) -> Result<TcpStream, SessionError> {
    match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
        Err(_) => Err(SessionError::ConnectTimeout {
            address: address.into(),
            secs: timeout.as_secs(),
        }),
        Ok(Err(source)) => Err(SessionError::Connect {
            address: address.into(),
            source,
        }),
        Ok(Ok(s)) => Ok(s),
    }
}

/// Runs one session until it ends; `up` is set once logged in.
async fn session(
    address: &str,
    devices: &[DeviceId],
    opts: &AsteriskOptions,
    sink: &LinkSink,
    norm: &mut Normaliser,
    requests: &mut mpsc::Receiver<AdapterRequest>,
    up: &mut Option<Instant>,
) -> Result<(), SessionError> {
    let stream = connect(address, opts.response_timeout).await?;
    let _ = stream.set_nodelay(true);
    let (rd, wr) = stream.into_split();
    let (tx, reads) = mpsc::unbounded_channel();
    let span = tracing::Span::current();
    let reader = tokio::spawn(tracing::Instrument::instrument(
        async move {
            let mut framed = FramedRead::new(rd, AmiCodec::client());
            let mut banner_logged = false;
            loop {
                match framed.next().await {
                    Some(Ok(Ok(m))) => {
                        if !banner_logged && let Some(v) = framed.decoder().version() {
                            tracing::info!(version = %v, "AMI banner");
                            banner_logged = true;
                        }
                        if tx.send(Read::Msg(m)).is_err() {
                            return;
                        }
                    }
                    Some(Ok(Err(e))) => {
                        // the codec has skipped to the next message: the stream goes on
                        tracing::warn!("undecodable AMI message: {e}");
                    }
                    Some(Err(e)) => {
                        let _ = tx.send(Read::Closed(e.to_string()));
                        return;
                    }
                    None => {
                        let _ = tx.send(Read::Closed("end of stream".into()));
                        return;
                    }
                }
            }
        },
        span,
    ));
    let mut s = Session {
        address,
        devices,
        opts,
        sink,
        norm,
        writer: FramedWrite::new(wr, AmiCodec::client()),
        reads,
        ids: ActionIdGen::new("ctigw"),
        correlator: Correlator::new(),
        actions: HashMap::new(),
        inflight: HashMap::new(),
        channel_ids: 0,
    };
    let result = run_session(&mut s, requests, up).await;
    if let Err(e) = &result {
        s.abandon(&e.to_string()).await;
    }
    reader.abort();
    result
}

async fn run_session(
    s: &mut Session<'_>,
    requests: &mut mpsc::Receiver<AdapterRequest>,
    up: &mut Option<Instant>,
) -> Result<(), SessionError> {
    let mut early = Vec::new();
    s.login(&mut early).await?;
    tracing::info!(address = %s.address, user = %s.opts.username, "logged in to Asterisk");
    *up = Some(Instant::now());
    s.emit(PbxEvent::Link(LinkState::Up)).await?;
    for d in s.devices {
        s.emit(PbxEvent::Monitor {
            device: d.clone(),
            result: Ok(()),
        })
        .await?;
    }
    s.resync(&mut early).await?;
    for m in std::mem::take(&mut early) {
        s.on_message(m).await?;
    }
    let mut ping = tokio::time::interval(s.opts.ping_interval);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await;
    let mut ping_out: Option<(String, Instant)> = None;
    let mut sweep = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            read = s.reads.recv() => match read {
                Some(Read::Msg(m)) => {
                    if let Some((id, _)) = &ping_out
                        && m.is_response()
                        && m.action_id() == Some(id.as_str())
                    {
                        ping_out = None;
                        continue;
                    }
                    s.on_message(m).await?
                }
                Some(Read::Closed(r)) => return Err(SessionError::Closed(r)),
                None => return Err(SessionError::Closed("reader stopped".into())),
            },
            req = requests.recv() => match req {
                Some(r) => s.on_request(r).await?,
                None => return Err(SessionError::EngineGone),
            },
            _ = ping.tick() => {
                if let Some((_, at)) = &ping_out
                    && at.elapsed() > s.opts.response_timeout
                {
                    return Err(SessionError::NoAnswer { action: "Ping".into(), secs: s.opts.response_timeout.as_secs() });
                }
                if ping_out.is_none() {
                    let id = s.send(Action::new("Ping")).await?;
                    ping_out = Some((id, Instant::now()));
                }
            }
            _ = sweep.tick() => {
                s.expire().await?;
                if let Some((_, at)) = &ping_out
                    && at.elapsed() > s.opts.response_timeout
                {
                    return Err(SessionError::NoAnswer { action: "Ping".into(), secs: s.opts.response_timeout.as_secs() });
                }
            }
        }
    }
}

/// The link task of one Asterisk link: runs sessions until the engine stops, reconnecting
/// with backoff; while down, every command is answered `link_down` at once.
pub async fn run(
    address: String,
    devices: Vec<DeviceId>,
    opts: AsteriskOptions,
    sink: LinkSink,
    mut requests: mpsc::Receiver<AdapterRequest>,
) {
    let mut backoff = Backoff::new(opts.reconnect_min, opts.reconnect_max);
    let mut norm = Normaliser::new(DeviceMap::configured(opts.channels.iter()));
    loop {
        if !sink.send(PbxEvent::Link(LinkState::Connecting)).await {
            return;
        }
        let mut up = None;
        let reason = match session(
            &address,
            &devices,
            &opts,
            &sink,
            &mut norm,
            &mut requests,
            &mut up,
        )
        .await
        {
            Err(SessionError::EngineGone) => return,
            Err(e) => e.to_string(),
            Ok(()) => "session ended".to_string(),
        };
        let up_for = up.map(|t| t.elapsed());
        let pbx = format!("Asterisk at {address}");
        if !crate::pbx::wait_to_reconnect(&sink, &mut requests, &mut backoff, &pbx, &reason, up_for)
            .await
        {
            return;
        }
    }
}
