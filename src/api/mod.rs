//! The API the CRM side sees, version 1: WebSocket JSON at `/v1/ws`, the same commands as
//! REST under `/v1/`, `/healthz`, `/metrics`, and the web page at `/`. The message envelope
//! is fixed by DESIGN.md and documented in `docs/api.md`.

pub mod auth;
pub mod limits;
pub mod metrics;
mod rest;
pub mod tls;
pub mod ws;

use crate::engine::EngineHandle;
use crate::model::{CommandError, ErrorCode};
use auth::Authenticator;
use axum::Router;
use axum::extract::{ConnectInfo, Query, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use metrics::ApiMetrics;
use serde::Deserialize;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

/// Every command op the API accepts (besides the session ops auth, subscribe, resume, ping).
pub const COMMAND_OPS: &[&str] = &[
    "makeCall",
    "answer",
    "hangup",
    "hold",
    "retrieve",
    "consult",
    "transfer",
    "conference",
    "alternate",
    "deflect",
    "singleStepTransfer",
    "sendDigits",
    "setForward",
    "cancelForward",
    "setDnd",
    "setAgentState",
];

/// API settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Origins allowed to open the WebSocket (`None`: any). Browsers send `Origin`; a page
    /// from another site must not drive our users' phones.
    pub allowed_origins: Option<Vec<String>>,
    /// A write to a client that takes longer than this closes it with 4008.
    pub write_timeout: Duration,
    /// How long a client may take to send its auth message.
    pub auth_timeout: Duration,
    /// Largest message a client may send.
    pub max_message_bytes: usize,
    /// Upper bound on waiting for a command's result (the engine's own timeout is shorter).
    pub command_guard: Duration,
    /// Caps on connections and command rates.
    pub limits: limits::Limits,
}

/// The error code of a command refused because its user is over the command rate.
pub const RATE_LIMITED: &str = "rate_limited";

/// Read buffer of a WebSocket session: small, since clients send little.
const WS_READ_BUFFER: usize = 4 * 1024;
/// Write buffer of a WebSocket session: frames are gathered up to this before a write.
const WS_WRITE_BUFFER: usize = 16 * 1024;

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            allowed_origins: None,
            write_timeout: Duration::from_secs(10),
            auth_timeout: Duration::from_secs(10),
            max_message_bytes: 64 * 1024,
            command_guard: Duration::from_secs(30),
            limits: limits::Limits::default(),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub engine: EngineHandle,
    pub auth: Arc<dyn Authenticator>,
    pub metrics: Arc<ApiMetrics>,
    pub cfg: Arc<ApiConfig>,
}

/// `{"code": "...", "message": "..."}` for a command error.
pub fn error_json(e: &CommandError) -> serde_json::Value {
    json!({"code": e.code, "message": e.message})
}

/// The HTTP status for an error code (REST).
pub fn http_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::BadRequest => StatusCode::BAD_REQUEST,
        ErrorCode::DeviceNotAllowed => StatusCode::FORBIDDEN,
        ErrorCode::UnknownDevice | ErrorCode::UnknownCall => StatusCode::NOT_FOUND,
        ErrorCode::InvalidState => StatusCode::CONFLICT,
        ErrorCode::NotSupported => StatusCode::NOT_IMPLEMENTED,
        ErrorCode::PbxRejected => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::LinkDown | ErrorCode::Busy | ErrorCode::ResourceLimit => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(crate::web::routes())
        .route("/v1/ws", get(ws_upgrade))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .merge(rest::routes())
        .with_state(state)
}

#[derive(Deserialize)]
struct WsQuery {
    access_token: Option<String>,
}

async fn ws_upgrade(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<WsQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(r) = check_origins(&headers, st.cfg.allowed_origins.as_deref(), peer) {
        return r;
    }
    // a token in the query is checked right after `hello`: only sessions that will
    // authenticate by message take a place among the unauthenticated
    let unauth = if st.auth.anonymous().is_some() || q.access_token.is_some() {
        None
    } else {
        match st.metrics.admission.unauthenticated(&st.cfg.limits) {
            Some(p) => Some(p),
            None => {
                tracing::warn!(%peer, "WebSocket refused: too many unauthenticated sessions");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(header::RETRY_AFTER, "5")],
                    "too many connections waiting to authenticate\n",
                )
                    .into_response();
            }
        }
    };
    let max = st.cfg.max_message_bytes;
    upgrade
        .read_buffer_size(WS_READ_BUFFER)
        .write_buffer_size(WS_WRITE_BUFFER)
        .max_write_buffer_size(max.max(WS_WRITE_BUFFER) * 4)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| ws::run(socket, st, q.access_token, peer.to_string(), unauth))
}

/// Every `Origin` header must be well-formed (visible ASCII) and, when a list is configured,
/// on it or the gateway's own (its authority is the request's `Host`: the gateway's own pages).
#[allow(clippy::result_large_err)]
fn check_origins(
    headers: &HeaderMap,
    allowed: Option<&[String]>,
    peer: SocketAddr,
) -> Result<(), Response> {
    for value in headers.get_all(header::ORIGIN) {
        let Some(o) = value
            .to_str()
            .ok()
            .filter(|o| !o.is_empty() && o.bytes().all(|b| b.is_ascii_graphic()))
        else {
            tracing::warn!(%peer, "WebSocket refused: malformed Origin header");
            return Err((StatusCode::BAD_REQUEST, "malformed Origin header\n").into_response());
        };
        // the gateway's own page: Origin authority = Host. Only for an address or `localhost`:
        // a DNS name could be rebound to this host by any web page (name it in
        // `allowed_origins` instead)
        let own = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .zip(o.split_once("://").map(|(_, authority)| authority))
            .is_some_and(|(host, authority)| {
                host.eq_ignore_ascii_case(authority) && host_is_literal(host)
            });
        if let Some(allowed) = allowed
            && !own
            && !allowed.iter().any(|a| a == o)
        {
            tracing::warn!(%peer, origin = o, "WebSocket refused: origin not allowed");
            return Err(
                (StatusCode::FORBIDDEN, format!("origin {o} is not allowed")).into_response(),
            );
        }
    }
    Ok(())
}

/// Whether a `Host` header names an IP address or `localhost` (with or without a port).
fn host_is_literal(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => {
            return v6
                .split(']')
                .next()
                .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok());
        }
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<std::net::Ipv4Addr>().is_ok()
}

async fn healthz(State(st): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), st.engine.status()).await {
        Ok(Some(s)) => {
            let down: Vec<&str> = s
                .links
                .iter()
                .filter(|l| l.status != crate::model::LinkStatus::Up)
                .map(|l| l.id.as_str())
                .collect();
            let status = if down.is_empty() { "ok" } else { "degraded" };
            let body = json!({"status": status, "linksDown": down, "engine": s});
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"status": "engine not answering"})),
        )
            .into_response(),
    }
}

async fn metrics_text(State(st): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), st.engine.status()).await {
        Ok(Some(s)) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            metrics::render(&st.metrics, &s),
        )
            .into_response(),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "engine not answering\n").into_response(),
    }
}

/// Serves plain HTTP until `shutdown` resolves (loopback only: the configuration check
/// refuses plain HTTP elsewhere).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.cfg.limits.clone();
    let adm = state.metrics.admission.clone();
    let listener = limits::CappedListener::new(listener, adm, limits).tap_io(|_| {});
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Serves HTTPS (and WSS) until `shutdown` resolves: the connection caps apply to TCP
/// connections before their handshake, the head deadline again after it.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    state: AppState,
    tls: Arc<rustls::ServerConfig>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = state.cfg.limits.clone();
    let adm = state.metrics.admission.clone();
    let handshake_timeout = limits.request_head_timeout;
    let capped = limits::CappedListener::new(listener, adm, limits);
    let listener = tls::TlsListener::new(capped, tls, handshake_timeout).tap_io(|_| {});
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
