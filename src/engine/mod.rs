//! The engine task: owns the [`Engine`] state machine, takes adapter events and client
//! requests from one queue, sends requests to adapters, and fans numbered events out to
//! clients through the per-device router of [`fanout`], with a replay buffer for `resume`.
//!
//! Nothing here waits on a client or an adapter: requests to adapters are `try_send`, events
//! to clients go to bounded per-session queues that a slow client is cut off from (and is
//! told so).

mod core;
mod fanout;

pub use fanout::{FeedError, FeedRx};

pub use core::rainbow;
pub use core::{
    ApiEvent, CommandReply, Engine, EngineConfig, EngineCounters, Output, Sequenced, Snapshot,
};
pub use core::{causes, invariants};

use crate::model::{Command, CommandError, DeviceId, ErrorCode, LinkId, PbxEvent};
use crate::pbx::contract::{AdapterRequest, BoxFuture, EventInbox, LinkSink};
use serde::Serialize;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// An event ready to deliver: the numbered event and its frame text, serialised once for
/// every client.
#[derive(Debug)]
pub struct Delivered {
    pub event: Arc<Sequenced>,
    /// The JSON text of the `event` message, shared by every client (cloning it is a
    /// reference count, and it is known to be UTF-8 so no client checks it again).
    pub text: axum::extract::ws::Utf8Bytes,
    /// The same bytes as `text` (shared, not copied).
    pub frame: bytes::Bytes,
    /// When the engine produced it.
    at: Instant,
}

impl Delivered {
    fn new(event: Arc<Sequenced>) -> Self {
        Self::at(event, Instant::now())
    }

    fn at(event: Arc<Sequenced>, at: Instant) -> Self {
        #[derive(Serialize)]
        struct Frame<'a> {
            r#type: &'static str,
            #[serde(flatten)]
            ev: &'a Sequenced,
        }
        let frame = serde_json::to_string(&Frame {
            r#type: "event",
            ev: &event,
        })
        .unwrap_or_else(|e| {
            tracing::error!(seq = event.seq, "cannot serialise event: {e}");
            format!(r#"{{"type":"event","seq":{},"event":"error"}}"#, event.seq)
        });
        let text = axum::extract::ws::Utf8Bytes::from(frame);
        Delivered {
            event,
            frame: bytes::Bytes::from(text.clone()),
            text,
            at,
        }
    }

    /// True when a client following `filter` should get this event.
    pub fn concerns(&self, filter: &DeviceFilter) -> bool {
        match filter {
            DeviceFilter::All => true,
            DeviceFilter::Only(set) => {
                self.event.devices.is_empty() || self.event.devices.iter().any(|d| set.contains(d))
            }
        }
    }
}

/// Which devices a client follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceFilter {
    All,
    Only(std::collections::HashSet<DeviceId>),
}

impl DeviceFilter {
    pub fn allows(&self, d: &DeviceId) -> bool {
        match self {
            DeviceFilter::All => true,
            DeviceFilter::Only(s) => s.contains(d),
        }
    }

    /// The part of a snapshot this filter shows.
    pub fn filter_snapshot(&self, s: &Snapshot) -> Snapshot {
        match self {
            DeviceFilter::All => s.clone(),
            DeviceFilter::Only(_) => Snapshot {
                seq: s.seq,
                links: s.links.clone(),
                devices: s
                    .devices
                    .iter()
                    .filter(|d| self.allows(&d.id))
                    .cloned()
                    .collect(),
                calls: s
                    .calls
                    .iter()
                    .filter(|c| {
                        c.connections
                            .iter()
                            .any(|k| k.monitored && self.allows(&k.device))
                    })
                    .cloned()
                    .collect(),
                agents: s
                    .agents
                    .iter()
                    .filter(|a| self.allows(&a.device))
                    .cloned()
                    .collect(),
            },
        }
    }
}

/// A live feed: the events after `snapshot.seq` (or after the replayed ones) that concern
/// the devices it was opened for.
pub struct Feed {
    pub rx: FeedRx,
}

/// What `resume` found.
pub enum Resumed {
    /// The buffer still held everything after `lastSeq`: these, then the feed.
    Replay(Vec<Arc<Delivered>>, Feed),
    /// Too old (or from another run): a fresh snapshot, then the feed.
    Snapshot(Box<Snapshot>, Feed),
}

/// Figures for `/metrics` and `/healthz`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub seq: u64,
    pub active_calls: usize,
    pub pending_commands: usize,
    #[serde(skip)]
    pub counters: EngineCounters,
    pub links: Vec<crate::model::Link>,
    pub devices_monitored: usize,
    pub devices_total: usize,
    pub agents_blocked: usize,
    /// Client feeds registered with the fan-out router.
    pub feeds: usize,
}

enum Input {
    Pbx {
        link: LinkId,
        event: PbxEvent,
    },
    Command {
        cmd: Command,
        reply: oneshot::Sender<Result<CommandReply, CommandError>>,
    },
    Subscribe {
        filter: DeviceFilter,
        reply: oneshot::Sender<(Box<Snapshot>, Feed)>,
    },
    Resume {
        last_seq: u64,
        filter: DeviceFilter,
        reply: oneshot::Sender<Resumed>,
    },
    Snapshot {
        reply: oneshot::Sender<Box<Snapshot>>,
    },
    Status {
        reply: oneshot::Sender<Status>,
    },
}

/// How clients and adapters reach the engine task. Cheap to clone.
#[derive(Clone)]
pub struct EngineHandle {
    tx: mpsc::Sender<Input>,
}

fn gone() -> CommandError {
    CommandError::new(ErrorCode::Internal, "the engine has stopped")
}

impl EngineHandle {
    /// Sends a client command; resolves with its one result.
    pub async fn command(&self, cmd: Command) -> Result<CommandReply, CommandError> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Input::Command { cmd, reply })
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    /// A snapshot and the feed of every event after it.
    pub async fn subscribe(&self) -> Option<(Box<Snapshot>, Feed)> {
        self.subscribe_to(DeviceFilter::All).await
    }

    /// A snapshot and the feed of the events after it that concern `filter`'s devices
    /// (events concerning no device in particular included).
    pub async fn subscribe_to(&self, filter: DeviceFilter) -> Option<(Box<Snapshot>, Feed)> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Input::Subscribe { filter, reply })
            .await
            .ok()?;
        rx.await.ok()
    }

    /// The events after `last_seq` if the replay buffer still holds them, else a snapshot;
    /// then the feed, for every device.
    pub async fn resume(&self, last_seq: u64) -> Option<Resumed> {
        self.resume_to(last_seq, DeviceFilter::All).await
    }

    /// [`EngineHandle::resume`] for `filter`'s devices (the replayed events are not
    /// filtered: the caller filters them).
    pub async fn resume_to(&self, last_seq: u64, filter: DeviceFilter) -> Option<Resumed> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Input::Resume {
                last_seq,
                filter,
                reply,
            })
            .await
            .ok()?;
        rx.await.ok()
    }

    pub async fn snapshot(&self) -> Option<Box<Snapshot>> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Input::Snapshot { reply }).await.ok()?;
        rx.await.ok()
    }

    pub async fn status(&self) -> Option<Status> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(Input::Status { reply }).await.ok()?;
        rx.await.ok()
    }

    /// The sender an adapter uses for its link's events.
    pub fn link_sink(&self, link: LinkId) -> LinkSink {
        LinkSink::new(link, Arc::new(Inbox(self.tx.clone())))
    }
}

/// The engine's input queue as the adapters see it.
struct Inbox(mpsc::Sender<Input>);

impl EventInbox for Inbox {
    fn deliver(&self, link: LinkId, event: PbxEvent) -> BoxFuture<'_, bool> {
        Box::pin(async move { self.0.send(Input::Pbx { link, event }).await.is_ok() })
    }
}

/// Sizes of the engine's queues.
#[derive(Debug, Clone, Copy)]
pub struct FanoutConfig {
    /// How many events a client may fall behind for longer than `client_lag` before it is
    /// closed with 4008 (four times as many close it at once).
    pub client_queue: usize,
    /// How long a client may stay more than `client_queue` events behind.
    pub client_lag: Duration,
    /// How many past events `resume` can replay.
    pub replay_buffer: usize,
    /// Depth of the engine's input queue.
    pub input_queue: usize,
}

impl Default for FanoutConfig {
    fn default() -> Self {
        FanoutConfig {
            client_queue: 1024,
            client_lag: Duration::from_secs(2),
            replay_buffer: 8192,
            input_queue: 4096,
        }
    }
}

/// The engine task's state besides the engine itself.
struct Driver {
    engine: Engine,
    router: fanout::Router,
    replay: VecDeque<Arc<Delivered>>,
    replay_cap: usize,
    adapters: HashMap<LinkId, mpsc::Sender<AdapterRequest>>,
    replies: HashMap<u64, oneshot::Sender<Result<CommandReply, CommandError>>>,
}

/// Starts the engine task. `adapters` maps each link to its adapter's request queue.
pub fn spawn(
    engine: Engine,
    adapters: HashMap<LinkId, mpsc::Sender<AdapterRequest>>,
    cfg: FanoutConfig,
) -> (EngineHandle, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(cfg.input_queue);
    let rule = fanout::LagRule {
        lag_events: cfg.client_queue.max(1),
        lag_time: cfg.client_lag,
        hard_events: cfg.client_queue.max(1).saturating_mul(4),
    };
    let driver = Driver {
        engine,
        router: fanout::Router::new(rule),
        replay: VecDeque::with_capacity(cfg.replay_buffer),
        replay_cap: cfg.replay_buffer,
        adapters,
        replies: HashMap::new(),
    };
    let task = tokio::spawn(driver.run(rx));
    (EngineHandle { tx }, task)
}

impl Driver {
    async fn run(mut self, mut rx: mpsc::Receiver<Input>) {
        self.flush();
        loop {
            let deadline = self.engine.next_deadline();
            let input = tokio::select! {
                input = rx.recv() => match input {
                    Some(i) => i,
                    None => break,
                },
                _ = sleep_until(deadline) => {
                    self.engine.tick(Instant::now());
                    self.flush();
                    continue;
                }
            };
            self.handle(input);
            // take what is already queued before delivering, to batch under load
            for _ in 0..64 {
                match rx.try_recv() {
                    Ok(i) => self.handle(i),
                    Err(_) => break,
                }
            }
        }
        tracing::info!("engine stopped: every handle dropped");
    }

    fn handle(&mut self, input: Input) {
        let now = Instant::now();
        match input {
            Input::Pbx { link, event } => {
                let span = tracing::debug_span!("pbx_event", %link);
                let _g = span.enter();
                self.engine.on_pbx_event(&link, event, now);
            }
            Input::Command { cmd, reply } => {
                let device = cmd.device().clone();
                let op = cmd.op();
                match self.engine.command(cmd, now) {
                    Ok(token) => {
                        tracing::debug!(%device, op, token, "command sent");
                        self.replies.insert(token, reply);
                    }
                    Err(e) => {
                        tracing::info!(%device, op, code = ?e.code, "command refused: {}", e.message);
                        let _ = reply.send(Err(e));
                    }
                }
            }
            Input::Subscribe { filter, reply } => {
                self.flush();
                let seq = self.engine.seq();
                let feed = Feed {
                    rx: self.router.register(filter, seq),
                };
                let _ = reply.send((Box::new(self.engine.snapshot()), feed));
            }
            Input::Resume {
                last_seq,
                filter,
                reply,
            } => {
                self.flush();
                let seq = self.engine.seq();
                let feed = Feed {
                    rx: self.router.register(filter, seq),
                };
                let oldest = self.replay.front().map(|d| d.event.seq).unwrap_or(seq + 1);
                let r = if last_seq <= seq && last_seq + 1 >= oldest {
                    Resumed::Replay(
                        self.replay
                            .iter()
                            .filter(|d| d.event.seq > last_seq)
                            .cloned()
                            .collect(),
                        feed,
                    )
                } else {
                    Resumed::Snapshot(Box::new(self.engine.snapshot()), feed)
                };
                let _ = reply.send(r);
            }
            Input::Snapshot { reply } => {
                self.flush();
                let _ = reply.send(Box::new(self.engine.snapshot()));
            }
            Input::Status { reply } => {
                let snap = self.engine.snapshot();
                let _ = reply.send(Status {
                    seq: self.engine.seq(),
                    active_calls: self.engine.active_calls(),
                    pending_commands: self.engine.pending_commands(),
                    counters: self.engine.counters.clone(),
                    links: snap.links,
                    devices_monitored: snap.devices.iter().filter(|d| d.monitored).count(),
                    devices_total: snap.devices.len(),
                    agents_blocked: self.engine.blocked_agents(),
                    feeds: self.router.sessions(),
                });
            }
        }
        self.flush();
    }

    /// Delivers what the engine produced.
    fn flush(&mut self) {
        loop {
            let outputs: Vec<Output> = self.engine.drain().collect();
            if outputs.is_empty() {
                return;
            }
            for out in outputs {
                match out {
                    Output::Event(ev) => {
                        let d = Arc::new(Delivered::new(ev));
                        if self.replay.len() == self.replay_cap {
                            self.replay.pop_front();
                        }
                        if self.replay_cap > 0 {
                            self.replay.push_back(d.clone());
                        }
                        self.router.deliver(&d);
                    }
                    Output::Request {
                        link,
                        token,
                        command,
                    } => {
                        let sent = match self.adapters.get(&link) {
                            None => Err(CommandError::new(
                                ErrorCode::LinkDown,
                                format!("link {link} has no adapter running"),
                            )),
                            Some(tx) => tx.try_send(AdapterRequest { token, command }).map_err(
                                |e| match e {
                                    mpsc::error::TrySendError::Full(_) => CommandError::new(
                                        ErrorCode::Busy,
                                        format!("link {link} has too many requests in flight"),
                                    ),
                                    mpsc::error::TrySendError::Closed(_) => CommandError::new(
                                        ErrorCode::LinkDown,
                                        format!("the adapter of link {link} has stopped"),
                                    ),
                                },
                            ),
                        };
                        if let Err(e) = sent {
                            self.engine.request_not_sent(token, e);
                        }
                    }
                    Output::Done { token, result } => {
                        // internal requests (snapshots) have no waiting client
                        if let Some(reply) = self.replies.remove(&token) {
                            let _ = reply.send(result);
                        }
                    }
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}
