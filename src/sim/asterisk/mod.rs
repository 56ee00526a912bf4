//! A simulated Asterisk: an AMI server over real TCP that sends the banner, logs clients in
//! (plain or MD5 challenge), honours the event classes they ask for, answers the actions the
//! gateway sends (Ping, CoreShowChannels, DeviceStateList, Originate, Hangup, Atxfer,
//! BlindTransfer, Redirect, Bridge, QueuePause/Add/Remove, PlayDTMF, PJSIPNotify, Logoff) and
//! plays scenarios with the event order of PROTOCOLS.md section 4: Newchannel first, Hangup
//! last, DialBegin/DialEnd pairs, BridgeLeave before Hangup, VarSet/Newexten noise.
//!
//! Scenarios: basic internal call, inbound trunk call, outbound Originate, hold, blind
//! transfer, attended transfer through Local channels, queue call to an agent, caller
//! abandoning in the queue; and [`SimAsterisk::drop_clients`] cuts every connection in the
//! middle of whatever is going on (the reconnect test). Uniqueids are deterministic
//! (`1700000000.N`), so a recorded scenario is a stable fixture.
//!
//! [`switch`] holds the simulated switch (channels and the events each change produces),
//! [`scenario`] the calls it plays, [`server`] the AMI side (login, event classes, actions).
//! Like a real Asterisk, the simulator knows nothing of the gateway: it speaks only
//! `ctigw_codecs::ami`.

mod scenario;
mod server;
mod switch;

pub use scenario::Scenario;

use ctigw_codecs::ami::Message;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switch::Pbx;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};

/// The AMI version the banner announces.
pub const VERSION: &str = "9.0.0";

/// What the simulated Asterisk accepts at login.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub username: String,
    pub secret: String,
    /// Seconds between scenario steps are multiplied by this (tests use ~0.02).
    pub pace: f64,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            username: "ctigw".into(),
            secret: "secret".into(),
            pace: 1.0,
        }
    }
}

struct Shared {
    pbx: Mutex<Pbx>,
    events: broadcast::Sender<Message>,
    /// Bumped to cut every client connection.
    cut: watch::Sender<u64>,
    cfg: SimConfig,
    /// Everything broadcast, in order (for recording fixtures).
    log: Mutex<Vec<Message>>,
}

/// A running simulated Asterisk.
#[derive(Clone)]
pub struct SimAsterisk {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl SimAsterisk {
    /// Listens on `bind` (port 0 for any) and serves clients until dropped with the runtime.
    pub async fn start(bind: SocketAddr, cfg: SimConfig) -> std::io::Result<SimAsterisk> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let (events, _) = broadcast::channel(4096);
        let (cut, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            pbx: Mutex::new(Pbx::default()),
            events,
            cut,
            cfg,
            log: Mutex::new(Vec::new()),
        });
        let s = shared.clone();
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        let s = s.clone();
                        tokio::spawn(async move {
                            if let Err(e) = server::serve(stream, s).await {
                                tracing::debug!(%peer, "simulated Asterisk client ended: {e}");
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!("simulated Asterisk cannot accept: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(SimAsterisk { addr, shared })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts every client connection (they reconnect on their own).
    pub fn drop_clients(&self) {
        self.shared.cut.send_modify(|n| *n += 1);
    }

    /// Number of live channels.
    pub fn channel_count(&self) -> usize {
        self.shared.pbx.lock().map(|p| p.chans.len()).unwrap_or(0)
    }

    /// Every event broadcast so far (and forgets them).
    pub fn take_log(&self) -> Vec<Message> {
        self.shared
            .log
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }

    /// Applies a change to the switch and sends the events it produced.
    fn step<R>(&self, f: impl FnOnce(&mut Pbx) -> R) -> R {
        let (r, evs) = match self.shared.pbx.lock() {
            Ok(mut p) => {
                let r = f(&mut p);
                (r, p.take())
            }
            Err(poisoned) => {
                let mut p = poisoned.into_inner();
                let r = f(&mut p);
                (r, p.take())
            }
        };
        if let Ok(mut log) = self.shared.log.lock() {
            log.extend(evs.iter().cloned());
        }
        for e in evs {
            let _ = self.shared.events.send(e);
        }
        r
    }

    async fn pause(&self, secs: f64) {
        tokio::time::sleep(Duration::from_secs_f64(
            (secs * self.shared.cfg.pace).max(0.001),
        ))
        .await;
    }
}
