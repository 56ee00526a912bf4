//! A simulated OXE speaking CSTA Phase II over real TCP from the PBX side: hello `P`, AARE,
//! MonitorStart with a licence limit (`overallMonitorLimitExceeded` beyond it), SystemStatus
//! keep-alives both ways, SnapshotDevice, the call-control and feature requests, and scripted
//! scenarios (see [`scenario`]). Drives `ctigw demo`, the integration tests and fixtures.
//!
//! One client at a time (a new connection replaces the old one). The switch outlives
//! connections: cutting the link leaves calls up (the gateway must resynchronise); a reset
//! drops calls and monitors and refuses connections for a while, like a restarting PBX.

pub mod scenario;
pub mod switch;
pub(crate) mod world;

pub use scenario::{Player, Step};
pub use switch::{Switch, SwitchConfig};

use ctigw_codecs::csta_ber::acse::{
    Aare, AssociateResult, ResultSourceDiagnostic, ServiceUserDiagnostic,
};
use ctigw_codecs::csta_ber::{AcseApdu, Argument, CstaCodec, Hello, Pdu, Release, RoseApdu};
use futures_util::{SinkExt, StreamExt};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::codec::Framed;

/// How the simulated OXE behaves.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub switch: SwitchConfig,
    /// The PBX's SystemStatus keep-alive period (OXE: 30 s).
    pub keepalive: Option<Duration>,
    /// Refuse associations (AARE rejected-permanent, authentication-failure).
    pub refuse_association: bool,
    /// How long a reset keeps the PBX unreachable.
    pub reset_downtime: Duration,
    /// Scale of the scenario pauses (1.0 = as written, 0.05 for tests).
    pub pace: f64,
    /// Play the demo loop (every scenario in turn) forever.
    pub demo_loop: bool,
    /// The extensions scenarios use as A, B, C and the CCD agent.
    pub cast: [String; 4],
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            switch: SwitchConfig::default(),
            keepalive: Some(Duration::from_secs(30)),
            refuse_association: false,
            reset_downtime: Duration::from_millis(500),
            pace: 1.0,
            demo_loop: false,
            cast: [
                "24101".into(),
                "24102".into(),
                "24103".into(),
                "24110".into(),
            ],
        }
    }
}

/// Calls in progress: (callID, [(device, state)]).
pub type CallList = Vec<(String, Vec<(String, String)>)>;

/// What a test or the demo can ask of the running simulator.
pub enum Control {
    /// Queue a named scenario.
    Scenario(String),
    /// Drop the client's TCP connection (calls stay up).
    Cut,
    /// Restart the PBX: connection dropped, calls and monitors gone, unreachable a while.
    Reset,
    /// Change the monitor licence count.
    MonitorLimit(usize),
    /// Change timer 384 (true = 0: agents freed at once).
    Timer384Zero(bool),
    /// Act on the switch directly (a phone going off hook, say).
    Act(Box<dyn FnOnce(&mut Switch) + Send>),
    /// Calls in progress, as (callID, [(device, state)]).
    Calls(oneshot::Sender<CallList>),
    /// True once no scenario step is left to play.
    Idle(oneshot::Sender<bool>),
}

/// A running simulated OXE.
#[derive(Clone)]
pub struct SimOxe {
    pub addr: SocketAddr,
    ctl: mpsc::Sender<Control>,
}

impl SimOxe {
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

    /// Waits until every queued scenario step has been played.
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

/// Binds and starts the simulator task.
pub async fn spawn(bind: SocketAddr, cfg: SimConfig) -> std::io::Result<SimOxe> {
    let listener = TcpListener::bind(bind).await?;
    let addr = listener.local_addr()?;
    let (ctl, rx) = mpsc::channel(64);
    tokio::spawn(serve(listener, cfg, rx));
    tracing::info!(%addr, "simulated OXE listening");
    Ok(SimOxe { addr, ctl })
}

type Conn = Framed<TcpStream, CstaCodec>;

/// [`scenario::steps`] or [`scenario::demo_steps`].
type StepsOf = fn(&str, &str, &str, &str, &str) -> Option<Vec<(f64, Step)>>;

struct Server {
    cfg: SimConfig,
    sw: Switch,
    player: Player,
    queue: VecDeque<(f64, Step)>,
    next_step: Instant,
    demo_index: usize,
    unanswered: u32,
    down_until: Option<Instant>,
}

async fn serve(listener: TcpListener, cfg: SimConfig, mut ctl: mpsc::Receiver<Control>) {
    let mut s = Server {
        sw: Switch::new(cfg.switch.clone()),
        cfg,
        player: Player::default(),
        queue: VecDeque::new(),
        next_step: Instant::now(),
        demo_index: 0,
        unanswered: 0,
        down_until: None,
    };
    let mut conn: Option<Conn> = None;
    let ka = s.cfg.keepalive.unwrap_or(Duration::from_secs(3600));
    let mut keepalive = tokio::time::interval_at(Instant::now() + ka, ka);
    loop {
        if s.queue.is_empty() && s.cfg.demo_loop {
            let names = scenario::NAMES;
            let name = names[s.demo_index % names.len()];
            s.demo_index += 1;
            // the reset scenario would interrupt the demo: skip it in the loop
            if name != "reset" {
                s.enqueue_demo(name);
                if let Some(f) = s.queue.front_mut() {
                    f.0 += 2.0;
                }
            }
        }
        let step_at = s.next_step;
        tokio::select! {
            acc = listener.accept() => {
                let Ok((stream, peer)) = acc else { continue };
                if s.down_until.is_some_and(|t| Instant::now() < t) {
                    tracing::debug!(%peer, "simulated OXE restarting: connection refused");
                    drop(stream);
                    continue;
                }
                let _ = stream.set_nodelay(true);
                if conn.is_some() {
                    s.sw.association_lost();
                }
                tracing::info!(%peer, "simulated OXE: client connected");
                conn = Some(Framed::new(stream, CstaCodec::server()));
                s.unanswered = 0;
            }
            frame = next(&mut conn) => {
                let keep = match frame {
                    Some(Ok(Ok(pdu))) => s.on_pdu(pdu),
                    Some(Ok(Err(e))) => {
                        tracing::warn!("simulated OXE: undecodable PDU: {e}");
                        Vec::new()
                    }
                    _ => {
                        tracing::info!("simulated OXE: client gone");
                        s.sw.association_lost();
                        conn = None;
                        continue;
                    }
                };
                send(&mut conn, keep).await;
                let evs = s.sw.take();
                send(&mut conn, evs).await;
            }
            c = ctl.recv() => {
                let Some(c) = c else { return };
                match c {
                    Control::Scenario(n) => s.enqueue(&n),
                    Control::Cut => {
                        conn = None;
                        s.sw.association_lost();
                    }
                    Control::Reset => {
                        conn = None;
                        s.reset();
                    }
                    Control::MonitorLimit(n) => s.sw.cfg.monitor_limit = n,
                    Control::Timer384Zero(z) => s.sw.cfg.timer_384_zero = z,
                    Control::Act(f) => f(&mut s.sw),
                    Control::Calls(tx) => drop(tx.send(s.sw.calls())),
                    Control::Idle(tx) => drop(tx.send(s.queue.is_empty())),
                }
                let evs = s.sw.take();
                send(&mut conn, evs).await;
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
                let evs = s.sw.take();
                send(&mut conn, evs).await;
            }
            _ = keepalive.tick(), if s.cfg.keepalive.is_some() && conn.is_some() => {
                s.unanswered += 1;
                if s.unanswered > 2 {
                    tracing::warn!("simulated OXE: two keep-alives unanswered, dropping the link");
                    conn = None;
                    s.sw.association_lost();
                    continue;
                }
                let ka = s.sw.keep_alive();
                send(&mut conn, vec![ka]).await;
            }
        }
    }
}

async fn next(
    conn: &mut Option<Conn>,
) -> Option<Result<Result<Pdu, ctigw_codecs::csta_ber::PduError>, ctigw_codecs::csta_ber::FrameError>>
{
    match conn {
        Some(c) => c.next().await,
        None => std::future::pending().await,
    }
}

async fn send(conn: &mut Option<Conn>, pdus: Vec<Pdu>) {
    let Some(c) = conn else { return };
    for p in pdus {
        if c.feed(p).await.is_err() {
            *conn = None;
            return;
        }
    }
    if SinkExt::<Pdu>::flush(c).await.is_err() {
        *conn = None;
    }
}

impl Server {
    fn enqueue(&mut self, name: &str) {
        self.enqueue_steps(name, scenario::steps);
    }

    /// Queues a scenario as the demo loop plays it ([`scenario::demo_steps`]).
    fn enqueue_demo(&mut self, name: &str) {
        self.enqueue_steps(name, scenario::demo_steps);
    }

    fn enqueue_steps(&mut self, name: &str, steps: StepsOf) {
        let [a, b, c, agent] = &self.cfg.cast;
        match steps(name, a, b, c, agent) {
            Some(steps) => {
                let was_empty = self.queue.is_empty();
                self.queue.extend(steps);
                if was_empty && let Some((pause, _)) = self.queue.front() {
                    self.next_step = Instant::now()
                        + Duration::from_secs_f64((pause * self.cfg.pace).max(0.001));
                }
                if name == "ccd-timer384" {
                    self.sw.cfg.timer_384_zero = false;
                } else if name == "ccd-timer384-zero" {
                    self.sw.cfg.timer_384_zero = true;
                }
            }
            None => tracing::warn!(name, "simulated OXE: no such scenario"),
        }
    }

    fn reset(&mut self) {
        tracing::info!("simulated OXE: restarting (calls and monitors dropped)");
        self.sw.reset();
        self.down_until = Some(Instant::now() + self.cfg.reset_downtime);
    }

    /// Answers one PDU from the client.
    fn on_pdu(&mut self, pdu: Pdu) -> Vec<Pdu> {
        match pdu {
            Pdu::Hello { .. } => vec![Pdu::Hello { hello: Hello::Pbx }],
            Pdu::Acse(AcseApdu::Aarq(_)) => {
                let (result, diag) = if self.cfg.refuse_association {
                    (
                        AssociateResult::RejectedPermanent,
                        ServiceUserDiagnostic::AuthenticationFailure,
                    )
                } else {
                    (AssociateResult::Accepted, ServiceUserDiagnostic::Null)
                };
                vec![Pdu::Acse(AcseApdu::Aare(aare(result, diag)))]
            }
            Pdu::Acse(AcseApdu::Rlrq(_)) => {
                vec![Pdu::Acse(AcseApdu::Rlre(Release::normal()))]
            }
            Pdu::Acse(_) => Vec::new(),
            Pdu::Rose(RoseApdu::Invoke(inv)) => {
                if let Argument::SystemStatus(_) = inv.argument {
                    // the client's keep-alive: proves it alive too
                    self.unanswered = 0;
                }
                self.sw.on_invoke(&inv);
                Vec::new()
            }
            Pdu::Rose(RoseApdu::ReturnResult(_)) => {
                // the answer to our keep-alive (or to nothing we track)
                self.unanswered = 0;
                Vec::new()
            }
            Pdu::Rose(_) => Vec::new(),
        }
    }
}

fn aare(result: AssociateResult, diag: ServiceUserDiagnostic) -> Aare {
    Aare {
        protocol_version: None,
        application_context_name: Some(
            ctigw_codecs::csta_ber::acse::CSTA_APPLICATION_CONTEXT.to_string(),
        ),
        result: Some(result),
        result_source_diagnostic: Some(ResultSourceDiagnostic::AcseServiceUser(diag)),
        responder_acse_requirements: None,
        mechanism_name: None,
        user_information: vec![],
        other: vec![],
    }
}
