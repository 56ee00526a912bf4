//! Starting and stopping the whole gateway from a configuration: engine, one adapter task per
//! link, the API listener, systemd readiness and watchdog, and SIGHUP reloads.

use crate::api::auth::{Authenticator, OpenAccess, Reloadable, StaticTokens};
use crate::api::metrics::ApiMetrics;
use crate::api::tls::CertStore;
use crate::api::{self, ApiConfig, AppState};
use crate::config::{AuthConfig, Config, LinkConfig};
use crate::engine::{self, Engine, EngineConfig, EngineHandle, FanoutConfig};
use crate::model::{DeviceId, LinkId};
use crate::pbx::contract::{AdapterRequest, LinkStart};
use anyhow::Context;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Depth of each adapter's request queue.
const ADAPTER_QUEUE: usize = 256;

/// A running gateway.
pub struct Running {
    /// Where the API listens (the real port when 0 was asked for).
    pub addr: SocketAddr,
    pub engine: EngineHandle,
    pub auth: Arc<Reloadable>,
    /// The certificate the listener presents (`None`: plain HTTP).
    pub tls: Option<Arc<CertStore>>,
    stop: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Applies the `[tls]` of a reloaded configuration: new connections get the new
    /// certificate, open ones keep theirs. A bad file keeps the running certificate (the
    /// store logs which file). Returns what needs a restart instead, if anything.
    pub fn reload_tls(&self, next: &Config) -> Option<&'static str> {
        match (&self.tls, &next.tls) {
            (Some(store), Some(files)) => {
                let _ = store.reload(files);
                None
            }
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => Some("tls (on or off)"),
        }
    }

    /// Stops accepting, ends the links and waits for the server to finish.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        match tokio::time::timeout(Duration::from_secs(5), self.server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => tracing::warn!("API server ended with an error: {e}"),
            Ok(Err(e)) => tracing::warn!("API server task failed: {e}"),
            Err(_) => tracing::warn!("API server did not stop within 5 s"),
        }
        // Stopping the engine drops every adapter's request queue: each adapter then ends its
        // session the way its protocol wants (release, BYE, StopApplicationSession) and
        // returns. Give them a moment together, then abort what is left.
        let mut tasks = self.tasks.into_iter();
        if let Some(engine) = tasks.next() {
            engine.abort();
            let _ = engine.await;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        for mut t in tasks {
            if tokio::time::timeout_at(deadline, &mut t).await.is_err() {
                tracing::warn!("an adapter did not end its session within 3 s; stopping it");
                t.abort();
            }
        }
    }
}

/// The authenticator a configuration asks for.
pub fn authenticator(cfg: &Config) -> Arc<dyn Authenticator> {
    match &cfg.api.auth {
        AuthConfig::None => Arc::new(OpenAccess),
        AuthConfig::Tokens(t) => Arc::new(StaticTokens::new(
            t.iter()
                .map(|e| (e.token.clone(), e.user.clone(), e.devices.clone())),
        )),
    }
}

fn call_id_prefix() -> String {
    // base 36 of the start time: call ids stay unique across restarts (history, CRM logs)
    let mut n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut s = Vec::new();
    while n > 0 {
        s.push(digits[(n % 36) as usize]);
        n /= 36;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_else(|_| "c".into())
}

/// Starts a link's adapter from the options its dialect parsed when the file was read.
fn spawn_adapter(
    link: &LinkConfig,
    engine: &EngineHandle,
    requests: mpsc::Receiver<AdapterRequest>,
) -> JoinHandle<()> {
    use tracing::Instrument;
    let id = LinkId::new(&link.name);
    let span = tracing::info_span!("link", link = %id, dialect = %link.dialect);
    let start = LinkStart {
        sink: engine.link_sink(id),
        requests,
        address: link.address.clone().unwrap_or_default(),
        devices: link.devices.clone(),
    };
    tokio::spawn(link.spec.run(start).instrument(span))
}

/// Starts everything a configuration describes. Returns once the listener is bound and every
/// link's adapter has started.
pub async fn start(cfg: &Config) -> anyhow::Result<Running> {
    start_with_tls(cfg, None).await
}

/// [`start`], with `tls` (the demo's own certificate) taking the place of `[tls]` when given.
pub async fn start_with_tls(cfg: &Config, tls: Option<Arc<CertStore>>) -> anyhow::Result<Running> {
    let tls = match (tls, &cfg.tls) {
        (Some(store), _) => Some(store),
        (None, Some(files)) => Some(Arc::new(CertStore::from_files(files)?)),
        (None, None) => None,
    };
    let mut engine = Engine::new(EngineConfig {
        dialplan: cfg.dialplan.clone(),
        command_timeout: cfg.command_timeout,
        call_id_prefix: call_id_prefix(),
        blocked_release_after: cfg.blocked_agent_release,
        seq_start: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64 * 1000)
            .unwrap_or(0),
        ..EngineConfig::default()
    });
    let mut adapters = HashMap::new();
    let mut receivers = Vec::new();
    for l in &cfg.links {
        let id = LinkId::new(&l.name);
        let devices: Vec<(DeviceId, Option<String>)> =
            l.devices.iter().map(|d| (d.clone(), None)).collect();
        engine.add_link(id.clone(), &l.dialect, &devices);
        let (tx, rx) = mpsc::channel(ADAPTER_QUEUE);
        adapters.insert(id, tx);
        receivers.push(rx);
    }
    let fanout = FanoutConfig {
        client_queue: cfg.api.client_queue,
        client_lag: cfg.limits.client_lag,
        replay_buffer: cfg.api.replay_buffer,
        ..FanoutConfig::default()
    };
    let listener = tokio::net::TcpListener::bind(cfg.api.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cfg.api.listen))?;
    let addr = listener.local_addr()?;
    let (handle, engine_task) = engine::spawn(engine, adapters, fanout);
    let mut tasks = vec![engine_task];
    for (l, rx) in cfg.links.iter().zip(receivers) {
        tasks.push(spawn_adapter(l, &handle, rx));
    }
    let auth = Arc::new(Reloadable::new(authenticator(cfg)));
    let state = AppState {
        engine: handle.clone(),
        auth: auth.clone(),
        metrics: Arc::new(ApiMetrics::default()),
        cfg: Arc::new(ApiConfig {
            allowed_origins: cfg.api.allowed_origins.clone(),
            write_timeout: cfg.api.write_timeout,
            auth_timeout: cfg.limits.auth_timeout,
            limits: api::limits::Limits {
                max_connections: cfg.limits.max_connections,
                max_connections_per_address: cfg.limits.max_connections_per_address,
                max_unauthenticated: cfg.limits.max_unauthenticated,
                request_head_timeout: cfg.limits.request_head_timeout,
                commands_per_second: f64::from(cfg.limits.commands_per_second),
                command_burst: f64::from(cfg.limits.command_burst),
                ..api::limits::Limits::default()
            },
            ..ApiConfig::default()
        }),
    };
    let (stop, mut stopped) = watch::channel(false);
    let shutdown = async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    let server = match &tls {
        Some(store) => {
            let server_cfg = api::tls::server_config(store.clone())?;
            tokio::spawn(api::serve_tls(listener, state, server_cfg, shutdown))
        }
        None => tokio::spawn(api::serve(listener, state, shutdown)),
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!(%addr, scheme, links = cfg.links.len(), "ctigw is up");
    Ok(Running {
        addr,
        engine: handle,
        auth,
        tls,
        stop,
        server,
        tasks,
    })
}

/// Tells systemd we are ready and keeps its watchdog fed while the engine answers.
pub fn notify_systemd(engine: &EngineHandle) {
    if let Err(e) = sd_notify::notify(&[sd_notify::NotifyState::Ready]) {
        tracing::debug!("sd_notify READY: {e}");
    }
    if let Some(interval) = sd_notify::watchdog_enabled() {
        let engine = engine.clone();
        let half = interval / 2;
        tracing::info!(
            ?interval,
            "systemd watchdog enabled; pinging every {:?}",
            half
        );
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(half).await;
                // only a live engine feeds the watchdog: a stuck engine gets the service restarted
                match tokio::time::timeout(half, engine.status()).await {
                    Ok(Some(_)) => {
                        let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
                    }
                    _ => tracing::error!("engine did not answer the watchdog check"),
                }
            }
        });
    }
}

pub fn notify_stopping() {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
}
