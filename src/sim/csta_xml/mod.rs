//! Simulated CSTA XML PBXs over real TCP, from the PBX side, on one simulated switch
//! ([`switch`]):
//!
//! - an OpenScape-like CSTA XML server ([`Front::OpenScape`]): 8-byte header frames, ECMA-354
//!   StartApplicationSession / ResetApplicationSessionTimer / StopApplicationSession (a
//!   session not reset within its duration is dropped), MonitorStart with a licence limit,
//!   SnapshotDevice, the call-control and feature services, events with invokeID 9999;
//! - the SIP side of a uaCSTA gateway, as CUCM's IM and Presence CTI gateway ([`Front::UaCsta`]):
//!   accepts an INVITE carrying RequestSystemStatus (challenging the first one with a 401
//!   Digest when a password is set), answers `normal` in the 200 OK, takes requests as INFO
//!   and answers them in the 200 OK body, sends events as INFO in the dialog that started the
//!   monitor, accepts re-INVITE (counted) and BYE.
//!
//! Scenarios are the simulated OXE's ([`crate::sim::oxe::scenario`]): the same names and steps,
//! played on this switch. One client connection at a time; cutting it keeps calls up (the
//! gateway must resynchronise), a reset drops calls and monitors and refuses connections a while.

pub mod gateway;
pub mod switch;

pub use switch::{DeviceForm, Switch, SwitchConfig};

use crate::sim::oxe::scenario::{self, Step};
use bytes::BytesMut;
use ctigw_codecs::csta_xml::{CstaXmlCodec, Message, TcpMessage};
use futures_util::{SinkExt, StreamExt};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::codec::Framed;

/// Which PBX the simulator plays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Front {
    OpenScape,
    /// `password: Some` challenges the first INVITE of each connection (user `username`).
    UaCsta {
        username: String,
        password: Option<String>,
    },
}

/// How the simulator behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub front: Front,
    pub switch: SwitchConfig,
    pub reset_downtime: Duration,
    /// Scale of the scenario pauses (1.0 = as written).
    pub pace: f64,
    pub demo_loop: bool,
    /// The extensions scenarios use as A, B, C and the agent.
    pub cast: [String; 4],
    /// OpenScape: the session duration granted (the client must reset it before).
    pub session_duration: u32,
}

impl SimConfig {
    pub fn openscape() -> Self {
        SimConfig {
            front: Front::OpenScape,
            switch: SwitchConfig {
                form: DeviceForm::Vendor,
                ..SwitchConfig::default()
            },
            reset_downtime: Duration::from_millis(500),
            pace: 1.0,
            demo_loop: false,
            cast: [
                "24101".into(),
                "24102".into(),
                "24103".into(),
                "24110".into(),
            ],
            session_duration: 180,
        }
    }

    /// Cisco's gateway: `tel:` identifiers, no agent services.
    pub fn cucm(password: Option<&str>) -> Self {
        SimConfig {
            front: Front::UaCsta {
                username: "ctigw".into(),
                password: password.map(str::to_string),
            },
            switch: SwitchConfig {
                form: DeviceForm::Tel,
                unsupported: vec!["SetAgentState".into()],
                ..SwitchConfig::default()
            },
            ..SimConfig::openscape()
        }
    }
}

/// Calls in progress: (callID, [(device, state)]).
pub type CallList = Vec<(String, Vec<(String, String)>)>;

/// Counters a test can read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub connections: u32,
    pub sessions: u32,
    pub session_resets: u32,
    pub session_stops: u32,
    pub invites: u32,
    pub reinvites: u32,
    pub challenges: u32,
    pub auth_failures: u32,
    pub byes: u32,
    pub dialogs: usize,
    pub monitors: usize,
}

pub enum Control {
    Scenario(String),
    /// Drop the client's connection (calls stay up).
    Cut,
    /// Restart: connection dropped, calls and monitors gone, unreachable a while.
    Reset,
    MonitorLimit(usize),
    Act(Box<dyn FnOnce(&mut Switch) + Send>),
    Calls(oneshot::Sender<CallList>),
    Idle(oneshot::Sender<bool>),
    Stats(oneshot::Sender<Stats>),
}

/// A running simulator.
#[derive(Clone)]
pub struct SimCsta {
    pub addr: SocketAddr,
    ctl: mpsc::Sender<Control>,
}

impl SimCsta {
    pub async fn control(&self, c: Control) {
        let _ = self.ctl.send(c).await;
    }

    pub async fn scenario(&self, name: &str) {
        self.control(Control::Scenario(name.to_string())).await;
    }

    pub async fn calls(&self) -> CallList {
        let (tx, rx) = oneshot::channel();
        self.control(Control::Calls(tx)).await;
        rx.await.unwrap_or_default()
    }

    pub async fn stats(&self) -> Stats {
        let (tx, rx) = oneshot::channel();
        self.control(Control::Stats(tx)).await;
        rx.await.unwrap_or_default()
    }

    pub async fn wait_idle(&self) {
        loop {
            let (tx, rx) = oneshot::channel();
            self.control(Control::Idle(tx)).await;
            if rx.await.unwrap_or(true) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Binds and starts the simulator.
pub async fn spawn(bind: SocketAddr, cfg: SimConfig) -> std::io::Result<SimCsta> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let (ctl, rx) = mpsc::channel(64);
    tracing::info!(%addr, front = ?cfg.front, "simulated CSTA XML PBX listening");
    tokio::spawn(serve(listener, cfg, rx));
    Ok(SimCsta { addr, ctl })
}

/// Plays scenario steps, keeping the calls' tags.
#[derive(Debug, Default)]
pub struct Player {
    calls: HashMap<&'static str, String>,
}

impl Player {
    /// Plays one step; returns true for a reset, which the server carries out.
    pub fn play(&mut self, sw: &mut Switch, step: &Step) -> bool {
        let id = |t: &str| self.calls.get(t).cloned().unwrap_or_default();
        match step {
            Step::Dial { tag, from, to } => {
                let c = sw.originate(from, to);
                self.calls.insert(tag, c);
            }
            Step::Answer { tag, dev } => drop(sw.answer(&id(tag), dev)),
            Step::Hangup { tag, dev } => drop(sw.clear(&id(tag), dev)),
            Step::Hold { tag, dev } => drop(sw.hold(&id(tag), dev)),
            Step::Retrieve { tag, dev } => drop(sw.retrieve(&id(tag), dev)),
            Step::Consult { tag, dev, to, new } => {
                if let Ok(c) = sw.consult(&id(tag), dev, to) {
                    self.calls.insert(new, c);
                }
            }
            Step::Transfer { held, active, dev } => {
                drop(sw.join(&id(held), &id(active), dev, false))
            }
            Step::Conference { held, active, dev } => {
                drop(sw.join(&id(held), &id(active), dev, true))
            }
            Step::Deflect { tag, dev, to } => drop(sw.deflect(&id(tag), dev, to)),
            Step::Forward { dev, to } => sw.forward(
                dev,
                to.as_deref(),
                ctigw_codecs::csta_xml::ForwardingType::ForwardImmediate,
            ),
            Step::Agent { dev, state } => sw.agent(dev, *state),
            Step::Reset => return true,
        }
        false
    }
}

enum Conn {
    Tcp(Framed<TcpStream, CstaXmlCodec>),
    Sip(gateway::SipConn),
}

pub(crate) struct Server {
    pub(crate) cfg: SimConfig,
    pub(crate) sw: Switch,
    player: Player,
    queue: VecDeque<(f64, Step)>,
    next_step: Instant,
    demo_index: usize,
    down_until: Option<Instant>,
    pub(crate) stats: Stats,
    /// OpenScape: the session and when it expires unless reset.
    session: Option<(String, Instant)>,
}

async fn serve(listener: TcpListener, cfg: SimConfig, mut ctl: mpsc::Receiver<Control>) {
    let mut s = Server {
        sw: Switch::new(cfg.switch.clone()),
        cfg,
        player: Player::default(),
        queue: VecDeque::new(),
        next_step: Instant::now(),
        demo_index: 0,
        down_until: None,
        stats: Stats::default(),
        session: None,
    };
    let mut conn: Option<Conn> = None;
    loop {
        if s.queue.is_empty() && s.cfg.demo_loop {
            let name = scenario::NAMES[s.demo_index % scenario::NAMES.len()];
            s.demo_index += 1;
            if name != "reset" {
                s.enqueue(name);
                if let Some(f) = s.queue.front_mut() {
                    f.0 += 2.0;
                }
            }
        }
        let step_at = s.next_step;
        let expiry = s.session.as_ref().map(|(_, t)| *t);
        tokio::select! {
            acc = listener.accept() => {
                let Ok((stream, peer)) = acc else { continue };
                if s.down_until.is_some_and(|t| Instant::now() < t) {
                    drop(stream);
                    continue;
                }
                let _ = stream.set_nodelay(true);
                s.sw.session_lost();
                s.session = None;
                s.stats.connections += 1;
                tracing::info!(%peer, "simulated CSTA XML PBX: client connected");
                conn = Some(match s.cfg.front {
                    Front::OpenScape => Conn::Tcp(Framed::new(stream, CstaXmlCodec::new())),
                    Front::UaCsta { .. } => Conn::Sip(gateway::SipConn::new(stream, s.cfg.cast[0].clone())),
                });
            }
            input = next(&mut conn) => {
                match input {
                    None => {
                        tracing::info!("simulated CSTA XML PBX: client gone");
                        s.sw.session_lost();
                        s.session = None;
                        conn = None;
                        continue;
                    }
                    Some(Input::Tcp(m)) => {
                        let replies = s.on_tcp(*m);
                        if let Some(Conn::Tcp(c)) = &mut conn
                            && send_tcp(c, replies).await.is_err()
                        {
                            conn = None;
                        }
                    }
                    Some(Input::Sip(m)) => {
                        if let Some(Conn::Sip(c)) = &mut conn
                            && c.on_message(&mut s, m).await.is_err()
                        {
                            conn = None;
                        }
                    }
                }
                flush_events(&mut s, &mut conn).await;
            }
            c = ctl.recv() => {
                let Some(c) = c else { return };
                match c {
                    Control::Scenario(n) => s.enqueue(&n),
                    Control::Cut => {
                        conn = None;
                        s.sw.session_lost();
                        s.session = None;
                    }
                    Control::Reset => {
                        conn = None;
                        s.reset();
                    }
                    Control::MonitorLimit(n) => s.sw.cfg.monitor_limit = n,
                    Control::Act(f) => f(&mut s.sw),
                    Control::Calls(tx) => drop(tx.send(s.sw.calls())),
                    Control::Idle(tx) => drop(tx.send(s.queue.is_empty())),
                    Control::Stats(tx) => {
                        let mut st = s.stats.clone();
                        st.monitors = s.sw.monitor_count();
                        if let Some(Conn::Sip(c)) = &conn {
                            st.dialogs = c.dialogs();
                        }
                        drop(tx.send(st));
                    }
                }
                flush_events(&mut s, &mut conn).await;
            }
            _ = tokio::time::sleep_until(step_at), if !s.queue.is_empty() => {
                if let Some((_, step)) = s.queue.pop_front() {
                    if s.player.play(&mut s.sw, &step) {
                        conn = None;
                        s.reset();
                    }
                    if let Some((pause, _)) = s.queue.front() {
                        s.next_step = Instant::now() + Duration::from_secs_f64((pause * s.cfg.pace).max(0.001));
                    }
                }
                flush_events(&mut s, &mut conn).await;
            }
            _ = sleep_opt(expiry) => {
                tracing::warn!("simulated OpenScape: application session expired, dropping the client");
                conn = None;
                s.sw.session_lost();
                s.session = None;
            }
        }
    }
}

async fn sleep_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

enum Input {
    Tcp(Box<TcpMessage>),
    Sip(ctigw_codecs::sip::Message),
}

async fn next(conn: &mut Option<Conn>) -> Option<Input> {
    loop {
        match conn {
            None => return std::future::pending().await,
            Some(Conn::Tcp(c)) => match c.next().await {
                Some(Ok(Ok(m))) => return Some(Input::Tcp(Box::new(m))),
                Some(Ok(Err(e))) => tracing::warn!("simulated OpenScape: undecodable frame: {e}"),
                _ => return None,
            },
            Some(Conn::Sip(c)) => match c.next().await {
                Some(Ok(Ok(m))) => return Some(Input::Sip(m)),
                Some(Ok(Err(e))) => {
                    tracing::warn!("simulated uaCSTA gateway: bad SIP message: {e}")
                }
                _ => return None,
            },
        }
    }
}

async fn send_tcp(
    c: &mut Framed<TcpStream, CstaXmlCodec>,
    msgs: Vec<(u16, Message)>,
) -> Result<(), ()> {
    for (id, m) in &msgs {
        c.feed((*id, m)).await.map_err(|_| ())?;
    }
    SinkExt::<(u16, &Message)>::flush(c).await.map_err(|_| ())
}

async fn flush_events(s: &mut Server, conn: &mut Option<Conn>) {
    let evs = s.sw.take();
    if evs.is_empty() {
        return;
    }
    let ok = match conn {
        None => true,
        Some(Conn::Tcp(c)) => send_tcp(c, evs.into_iter().map(|(_, m)| (9999, m)).collect())
            .await
            .is_ok(),
        Some(Conn::Sip(c)) => c.send_events(evs).await.is_ok(),
    };
    if !ok {
        *conn = None;
    }
}

impl Server {
    fn enqueue(&mut self, name: &str) {
        let [a, b, c, agent] = &self.cfg.cast;
        match scenario::steps(name, a, b, c, agent) {
            Some(steps) => {
                let was_empty = self.queue.is_empty();
                self.queue.extend(steps);
                if was_empty && let Some((pause, _)) = self.queue.front() {
                    self.next_step = Instant::now()
                        + Duration::from_secs_f64((pause * self.cfg.pace).max(0.001));
                }
            }
            None => tracing::warn!(name, "simulated CSTA XML PBX: no such scenario"),
        }
    }

    fn reset(&mut self) {
        tracing::info!("simulated CSTA XML PBX: restarting (calls and monitors dropped)");
        self.sw.reset();
        self.session = None;
        self.down_until = Some(Instant::now() + self.cfg.reset_downtime);
    }

    /// OpenScape: one frame from the client → the frames to answer with.
    fn on_tcp(&mut self, m: TcpMessage) -> Vec<(u16, Message)> {
        use Message as M;
        let id = m.invoke_id;
        let dur = self.cfg.session_duration;
        let reply: Message = match &m.message {
            M::StartApplicationSession(r) => {
                let version = r
                    .requested_protocol_versions
                    .versions
                    .iter()
                    .find(|v| v.contains("ed4") || v.contains("ed3") || v.contains("ed6"))
                    .cloned();
                match version {
                    Some(v) => {
                        self.stats.sessions += 1;
                        let sid = format!("sim-session-{}", self.stats.sessions);
                        let granted = r.requested_session_duration.unwrap_or(dur).min(dur);
                        self.session = Some((
                            sid.clone(),
                            Instant::now() + Duration::from_secs(granted.into()),
                        ));
                        ctigw_codecs::csta_xml::StartApplicationSessionPosResponse {
                            session_id: sid,
                            actual_protocol_version: v,
                            actual_session_duration: Some(granted),
                            extensions: vec![],
                        }
                        .into()
                    }
                    None => ctigw_codecs::csta_xml::StartApplicationSessionNegResponse {
                        error_code: ctigw_codecs::csta_xml::SessionErrorCode {
                            defined_error: Some("noProtocolVersionSupported".into()),
                            ..Default::default()
                        },
                        extensions: vec![],
                    }
                    .into(),
                }
            }
            M::ResetApplicationSessionTimer(r) => match &mut self.session {
                Some((sid, until)) if sid.as_str() == r.session_id.trim() => {
                    self.stats.session_resets += 1;
                    let granted = r.requested_session_duration.unwrap_or(dur).min(dur);
                    *until = Instant::now() + Duration::from_secs(granted.into());
                    ctigw_codecs::csta_xml::ResetApplicationSessionTimerPosResponse {
                        actual_session_duration: Some(granted),
                        extensions: vec![],
                    }
                    .into()
                }
                _ => ctigw_codecs::csta_xml::ResetApplicationSessionTimerNegResponse {
                    error_code: ctigw_codecs::csta_xml::SessionErrorCode {
                        defined_error: Some("invalidSessionID".into()),
                        ..Default::default()
                    },
                    extensions: vec![],
                }
                .into(),
            },
            M::StopApplicationSession(_) => {
                self.stats.session_stops += 1;
                self.session = None;
                self.sw.session_lost();
                ctigw_codecs::csta_xml::StopApplicationSessionPosResponse::default().into()
            }
            M::SystemStatusResponse(_) => return Vec::new(),
            other if self.session.is_none() => {
                tracing::warn!(
                    request = other.element_name(),
                    "simulated OpenScape: request outside a session"
                );
                ctigw_codecs::csta_xml::CstaErrorCode::new(
                    ctigw_codecs::csta_xml::ErrorCategory::Security,
                    "requestNotAllowed",
                )
                .into()
            }
            other => self.sw.on_request(other),
        };
        vec![(id, reply)]
    }
}

/// A document as bytes, for SIP bodies.
pub(crate) fn xml(m: &Message) -> BytesMut {
    m.to_xml(ctigw_codecs::csta_xml::Edition::Ed3)
}

/// `ctigw demo --pbx cucm|openscape`: starts the simulator on loopback playing its scenario
/// loop and returns it with the `[[link]]` keys (after `name`) that connect a gateway to it.
pub async fn demo(cucm: bool) -> std::io::Result<(SimCsta, String)> {
    let cfg = SimConfig {
        demo_loop: true,
        ..if cucm {
            SimConfig::cucm(Some("demo"))
        } else {
            SimConfig::openscape()
        }
    };
    let sim = spawn(SocketAddr::from(([127, 0, 0, 1], 0)), cfg).await?;
    let dialect = if cucm {
        "dialect = \"uacsta\"\nusername = \"ctigw\"\npassword = \"demo\"\ndomain = \"cucm.example.com\"\ndialog_per_line = true"
    } else {
        "dialect = \"csta-xml-tcp\"\nedition = \"ed4\""
    };
    let link = format!(
        "{dialect}\naddress = \"{}\"\ndevices = [\"24101-24104\", \"24110\"]\nreconnect_min_ms = 200",
        sim.addr
    );
    Ok((sim, link))
}
