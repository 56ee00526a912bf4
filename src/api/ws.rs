//! One WebSocket client session of API v1: hello, authentication, subscribe / resume with
//! snapshot or replay, live events for the client's devices only (the engine's router
//! queues nothing else for it), and commands with exactly one result each.
//!
//! The session wakes for its own events, takes everything queued at once and writes it as a
//! batch (several frames, one flush). It re-checks its token whenever the configuration
//! is reloaded and closes with 4003 once the token is no longer valid.

use super::auth::{AuthError, Principal};
use super::{AppState, error_json};
use crate::api::metrics::ApiMetrics;
use crate::engine::{Delivered, DeviceFilter, Feed, FeedError, FeedRx, Resumed, Snapshot};
use crate::model::{Command, CommandError, DeviceId, ErrorCode};
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tracing::Instrument;

/// API v1 close codes.
pub mod close {
    pub const NO_TOKEN: u16 = 4001;
    pub const BAD_TOKEN: u16 = 4002;
    pub const EXPIRED: u16 = 4003;
    pub const PROTOCOL: u16 = 4004;
    pub const TOO_SLOW: u16 = 4008;
    /// RFC 6455: a message over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// RFC 6455: a text message that is not UTF-8.
    pub const INVALID_DATA: u16 = 1007;
    /// RFC 6455: a frame breaking the framing rules (reserved opcode or bits, unmasked).
    pub const PROTOCOL_ERROR: u16 = 1002;
}

/// Commands a client may have in flight at once.
const MAX_IN_FLIGHT: usize = 32;

type Tx = SplitSink<WebSocket, Message>;

struct Session {
    st: AppState,
    tx: Tx,
    principal: Option<Principal>,
    filter: Option<DeviceFilter>,
    feed: Option<FeedRx>,
    /// The token the principal came from (re-checked on reload).
    token: Option<String>,
    /// Held until the session authenticates.
    unauth: Option<super::limits::UnauthPermit>,
    /// The last seq delivered (or covered by a snapshot): never send older or equal again.
    last_seq: u64,
    results: mpsc::Sender<String>,
    in_flight: usize,
}

/// Why the session ends.
enum End {
    /// The client went away or the socket failed: nothing more can be written.
    Gone,
    /// Close with this code and reason.
    Close(u16, String),
}

pub(crate) async fn run(
    socket: WebSocket,
    st: AppState,
    query_token: Option<String>,
    peer: String,
    unauth: Option<super::limits::UnauthPermit>,
) {
    let span = tracing::info_span!("ws", %peer, user = tracing::field::Empty);
    ApiMetrics::inc(&st.metrics.ws_sessions_total);
    st.metrics
        .ws_connected
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (tx, mut rx) = socket.split();
    let (results, mut results_rx) = mpsc::channel::<String>(MAX_IN_FLIGHT);
    let mut s = Session {
        st: st.clone(),
        tx,
        principal: None,
        filter: None,
        feed: None,
        token: None,
        unauth,
        last_seq: 0,
        results,
        in_flight: 0,
    };
    let end = async {
        let hello = json!({"type": "hello", "protocol": 1, "server": concat!("ctigw/", env!("CARGO_PKG_VERSION"))});
        s.send_text(hello.to_string()).await?;
        s.principal = match &query_token {
            Some(t) => Some(s.st.auth.authenticate(t).map_err(auth_end)?),
            None => s.st.auth.anonymous(),
        };
        s.token = query_token;
        if let Some(p) = &s.principal {
            span.record("user", p.user.as_str());
            s.unauth = None;
        }
        s.serve(&mut rx, &mut results_rx, &span).await
    }
    .instrument(span.clone())
    .await;
    let end = match end {
        Ok(()) => End::Gone,
        Err(e) => e,
    };
    if let End::Close(code, reason) = end {
        if code == close::TOO_SLOW {
            ApiMetrics::inc(&st.metrics.ws_closed_slow_total);
        } else if code == close::PROTOCOL {
            ApiMetrics::inc(&st.metrics.ws_protocol_errors_total);
        } else if (4001..=4003).contains(&code) {
            ApiMetrics::inc(&st.metrics.auth_failures_total);
        }
        tracing::info!(parent: &span, code, "closing client: {reason}");
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from(truncate(&reason, 120)),
        };
        let sent = tokio::time::timeout(
            Duration::from_secs(2),
            s.tx.send(Message::Close(Some(frame))),
        )
        .await;
        if let Ok(Ok(())) = sent {
            // closing handshake: let the client read our close frame and answer it, so it
            // sees the code rather than a reset caused by unread data
            let _ = tokio::time::timeout(Duration::from_secs(2), async {
                while let Some(Ok(m)) = rx.next().await {
                    if matches!(m, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
    }
    st.metrics
        .ws_connected
        .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
}

fn truncate(s: &str, max: usize) -> String {
    // close reasons are limited to 123 bytes
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn filter_of(f: &Option<DeviceFilter>) -> DeviceFilter {
    f.clone().unwrap_or(DeviceFilter::All)
}

fn auth_end(e: AuthError) -> End {
    End::Close(e.close_code(), e.to_string())
}

async fn next_events(
    feed: &mut Option<FeedRx>,
    out: &mut Vec<Arc<Delivered>>,
) -> Result<(), FeedError> {
    match feed {
        Some(rx) => rx.recv_batch(out).await,
        None => std::future::pending().await,
    }
}

async fn reloaded(w: &mut Option<watch::Receiver<u64>>) {
    match w {
        Some(rx) => {
            if rx.changed().await.is_err() {
                *w = None;
                std::future::pending::<()>().await
            }
        }
        None => std::future::pending().await,
    }
}

/// The close code for an error reading the socket, if it deserves one.
fn read_error_close(e: axum::Error, max: usize) -> End {
    use tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
    let inner = e.into_inner();
    let Some(ws) = inner.downcast_ref::<WsError>() else {
        tracing::debug!("read error: {inner}");
        return End::Gone;
    };
    match ws {
        WsError::Capacity(CapacityError::MessageTooLong { .. })
        | WsError::Capacity(CapacityError::TooManyHeaders) => {
            End::Close(close::TOO_BIG, format!("message larger than {max} bytes"))
        }
        WsError::Utf8(_) => End::Close(
            close::INVALID_DATA,
            "text message is not valid UTF-8".into(),
        ),
        WsError::Protocol(
            ProtocolError::ResetWithoutClosingHandshake | ProtocolError::SendAfterClosing,
        ) => End::Gone,
        WsError::Protocol(p) => {
            End::Close(close::PROTOCOL_ERROR, format!("protocol violation: {p}"))
        }
        other => {
            tracing::debug!("read error: {other}");
            End::Gone
        }
    }
}

impl Session {
    async fn send_text(&mut self, text: String) -> Result<(), End> {
        self.send(Message::Text(Utf8Bytes::from(text))).await
    }

    async fn send(&mut self, msg: Message) -> Result<(), End> {
        match tokio::time::timeout(self.st.cfg.write_timeout, self.tx.send(msg)).await {
            Ok(Ok(())) => {
                ApiMetrics::inc(&self.st.metrics.frames_sent_total);
                Ok(())
            }
            Ok(Err(_)) => Err(End::Gone),
            Err(_) => Err(End::Close(
                close::TOO_SLOW,
                "too slow: a write did not complete in time".into(),
            )),
        }
    }

    /// Writes the events of `batch` this session has not seen yet (and, when `filter` is
    /// set, that concern its devices), then flushes once.
    async fn deliver(&mut self, batch: &[Arc<Delivered>], filter: bool) -> Result<(), End> {
        let write = async {
            let mut n = 0u64;
            for d in batch {
                if d.event.seq <= self.last_seq {
                    continue;
                }
                self.last_seq = d.event.seq;
                if filter
                    && let Some(f) = &self.filter
                    && !d.concerns(f)
                {
                    continue;
                }
                self.tx.feed(Message::Text(d.text.clone())).await?;
                n += 1;
            }
            self.tx.flush().await?;
            Ok::<u64, axum::Error>(n)
        };
        match tokio::time::timeout(self.st.cfg.write_timeout, write).await {
            Ok(Ok(n)) => {
                self.st
                    .metrics
                    .frames_sent_total
                    .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            Ok(Err(_)) => Err(End::Gone),
            Err(_) => Err(End::Close(
                close::TOO_SLOW,
                "too slow: a write did not complete in time".into(),
            )),
        }
    }

    /// Closes with 4003 when the reloaded configuration no longer accepts this session's
    /// token.
    fn recheck(&mut self) -> Result<(), End> {
        if self.principal.is_none() {
            return Ok(());
        }
        let still = match &self.token {
            Some(t) => self.st.auth.authenticate(t).map(|_| ()),
            None => self
                .st
                .auth
                .anonymous()
                .map(|_| ())
                .ok_or(AuthError::Missing),
        };
        match still {
            Ok(()) => Ok(()),
            Err(e) => Err(End::Close(
                close::EXPIRED,
                format!("access revoked by a configuration reload: {e}"),
            )),
        }
    }

    async fn serve(
        &mut self,
        rx: &mut SplitStream<WebSocket>,
        results: &mut mpsc::Receiver<String>,
        span: &tracing::Span,
    ) -> Result<(), End> {
        let auth_deadline = tokio::time::sleep(self.st.cfg.auth_timeout);
        tokio::pin!(auth_deadline);
        let mut reload = self.st.auth.generation();
        let mut batch: Vec<Arc<Delivered>> = Vec::new();
        loop {
            tokio::select! {
                biased;
                msg = rx.next() => {
                    let msg = match msg {
                        None => return Err(End::Gone),
                        Some(Err(e)) => return Err(read_error_close(e, self.st.cfg.max_message_bytes)),
                        Some(Ok(m)) => m,
                    };
                    match msg {
                        Message::Text(t) => {
                            let limit = self.st.cfg.limits.max_unauthenticated_message;
                            if self.principal.is_none() && t.len() > limit {
                                return Err(End::Close(close::TOO_BIG, format!("message larger than {limit} bytes before authentication")));
                            }
                            self.on_text(t.as_str(), span).await?
                        }
                        Message::Binary(_) => return Err(End::Close(close::PROTOCOL, "binary frames are not part of the protocol: send JSON text".into())),
                        Message::Close(_) => return Err(End::Gone),
                        Message::Ping(_) | Message::Pong(_) => {}
                    }
                }
                Some(text) = results.recv() => {
                    self.in_flight = self.in_flight.saturating_sub(1);
                    self.send_text(text).await?;
                }
                ev = next_events(&mut self.feed, &mut batch) => match ev {
                    Ok(()) => {
                        let r = self.deliver(&batch, false).await;
                        batch.clear();
                        if batch.capacity() > 256 {
                            batch = Vec::new();
                        }
                        r?
                    }
                    Err(FeedError::Lagged { behind, .. }) => {
                        return Err(End::Close(close::TOO_SLOW, format!("too slow: {behind} events behind; reconnect and resume from seq {}", self.last_seq)));
                    }
                    Err(FeedError::Closed) => return Err(End::Close(1012, "server is stopping".into())),
                },
                _ = reloaded(&mut reload) => self.recheck()?,
                _ = &mut auth_deadline, if self.principal.is_none() => {
                    return Err(End::Close(close::NO_TOKEN, "no auth message within the time allowed".into()));
                }
            }
        }
    }

    async fn on_text(&mut self, text: &str, span: &tracing::Span) -> Result<(), End> {
        let v: Value = serde_json::from_str(text)
            .map_err(|e| End::Close(close::PROTOCOL, format!("message is not JSON: {e}")))?;
        let Some(obj) = v.as_object() else {
            return Err(End::Close(
                close::PROTOCOL,
                "message is not a JSON object".into(),
            ));
        };
        let Some(op) = obj.get("op").and_then(Value::as_str) else {
            return Err(End::Close(
                close::PROTOCOL,
                "message has no \"op\" string".into(),
            ));
        };
        let id = obj.get("id").cloned().unwrap_or(Value::Null);
        if op == "auth" {
            let Some(token) = obj.get("token").and_then(Value::as_str) else {
                return Err(End::Close(
                    close::NO_TOKEN,
                    "auth message without a \"token\" string".into(),
                ));
            };
            let p = self.st.auth.authenticate(token).map_err(auth_end)?;
            span.record("user", p.user.as_str());
            self.principal = Some(p);
            self.token = Some(token.to_string());
            self.unauth = None;
            return self
                .send_text(json!({"type": "result", "id": id, "ok": true}).to_string())
                .await;
        }
        let Some(principal) = self.principal.clone() else {
            return Err(End::Close(
                close::NO_TOKEN,
                format!("\"{op}\" before authentication: send an auth message first"),
            ));
        };
        if id.is_null() || !(id.is_u64() || id.is_string()) {
            return Err(End::Close(
                close::PROTOCOL,
                format!("\"{op}\" needs an \"id\" (a non-negative integer or a string)"),
            ));
        }
        match op {
            "subscribe" => self.subscribe(id, obj.get("devices"), &principal).await,
            "resume" => {
                let Some(last) = obj.get("lastSeq").and_then(Value::as_u64) else {
                    return self
                        .result_err(
                            &id,
                            CommandError::new(
                                ErrorCode::BadRequest,
                                "resume needs \"lastSeq\", a non-negative integer",
                            ),
                        )
                        .await;
                };
                self.resume(id, last, obj.get("devices"), &principal).await
            }
            "ping" => {
                self.send_text(json!({"type": "result", "id": id, "ok": true}).to_string())
                    .await
            }
            _ => {
                let cmd: Command = match serde_json::from_value(v.clone()) {
                    Ok(c) => c,
                    Err(e) => {
                        let known = super::COMMAND_OPS.contains(&op);
                        let msg = if known {
                            format!("{op}: {e}")
                        } else {
                            format!("unknown op \"{op}\"")
                        };
                        return self
                            .result_err(&id, CommandError::new(ErrorCode::BadRequest, msg))
                            .await;
                    }
                };
                if !principal.may_use(cmd.device()) {
                    let e = CommandError::new(
                        ErrorCode::DeviceNotAllowed,
                        format!(
                            "user {} may not use device {}",
                            principal.user,
                            cmd.device()
                        ),
                    );
                    return self.result_err(&id, e).await;
                }
                if !self.st.metrics.admission.command(
                    &self.st.cfg.limits,
                    &principal.user,
                    std::time::Instant::now(),
                ) {
                    ApiMetrics::inc(&self.st.metrics.commands_rate_limited_total);
                    let per_s = self.st.cfg.limits.commands_per_second;
                    let msg = format!(
                        "user {} is over {per_s} commands per second",
                        principal.user
                    );
                    return self
                        .send_text(json!({"type": "result", "id": id, "ok": false, "error": {"code": super::RATE_LIMITED, "message": msg}}).to_string())
                        .await;
                }
                if self.in_flight >= MAX_IN_FLIGHT {
                    let e = CommandError::new(
                        ErrorCode::Busy,
                        format!("more than {MAX_IN_FLIGHT} commands in flight on this connection"),
                    );
                    return self.result_err(&id, e).await;
                }
                self.in_flight += 1;
                let engine = self.st.engine.clone();
                let results = self.results.clone();
                let timeout = self.st.cfg.command_guard;
                tokio::spawn(async move {
                    let r = match tokio::time::timeout(timeout, engine.command(cmd)).await {
                        Ok(r) => r,
                        Err(_) => Err(CommandError::new(ErrorCode::Timeout, "no result in time")),
                    };
                    let text = match r {
                        Ok(reply) => {
                            let mut o = json!({"type": "result", "id": id, "ok": true});
                            if let Some(c) = reply.call_id {
                                o["callId"] = json!(c);
                            }
                            o.to_string()
                        }
                        Err(e) => json!({"type": "result", "id": id, "ok": false, "error": error_json(&e)}).to_string(),
                    };
                    let _ = results.send(text).await;
                });
                Ok(())
            }
        }
    }

    async fn result_err(&mut self, id: &Value, e: CommandError) -> Result<(), End> {
        self.send_text(
            json!({"type": "result", "id": id, "ok": false, "error": error_json(&e)}).to_string(),
        )
        .await
    }

    /// Works out the device filter a subscribe / resume asks for, within what the user may see.
    fn filter_for(
        &self,
        devices: Option<&Value>,
        principal: &Principal,
    ) -> Result<DeviceFilter, CommandError> {
        match devices {
            None => Ok(principal.scope.clone()),
            Some(Value::String(s)) if s == "*" => Ok(principal.scope.clone()),
            Some(Value::Array(items)) => {
                let mut set = HashSet::new();
                let mut denied = Vec::new();
                for it in items {
                    let Some(s) = it.as_str() else {
                        return Err(CommandError::new(
                            ErrorCode::BadRequest,
                            "\"devices\" must be \"*\" or an array of strings",
                        ));
                    };
                    let d = DeviceId::new(s);
                    if !principal.may_use(&d) {
                        denied.push(s.to_string());
                    }
                    set.insert(d);
                }
                if !denied.is_empty() {
                    return Err(CommandError::new(
                        ErrorCode::DeviceNotAllowed,
                        format!("user {} may not see: {}", principal.user, denied.join(", ")),
                    ));
                }
                Ok(DeviceFilter::Only(set))
            }
            Some(_) => Err(CommandError::new(
                ErrorCode::BadRequest,
                "\"devices\" must be \"*\" or an array of strings",
            )),
        }
    }

    async fn send_snapshot(
        &mut self,
        id: &Value,
        snap: &Snapshot,
        filter: &DeviceFilter,
    ) -> Result<(), End> {
        let s = filter.filter_snapshot(snap);
        let msg = json!({
            "type": "snapshot", "id": id, "seq": s.seq,
            "links": s.links, "devices": s.devices, "calls": s.api_calls(), "agents": s.agents,
        });
        self.last_seq = s.seq;
        self.send_text(msg.to_string()).await
    }

    async fn subscribe(
        &mut self,
        id: Value,
        devices: Option<&Value>,
        principal: &Principal,
    ) -> Result<(), End> {
        let filter = match self.filter_for(devices, principal) {
            Ok(f) => f,
            Err(e) => return self.result_err(&id, e).await,
        };
        let Some((snap, Feed { rx })) = self.st.engine.subscribe_to(filter.clone()).await else {
            return Err(End::Close(1012, "server is stopping".into()));
        };
        if let DeviceFilter::Only(set) = &filter {
            let unknown: Vec<&str> = set
                .iter()
                .filter(|d| !snap.devices.iter().any(|x| &x.id == *d))
                .map(|d| d.as_str())
                .collect();
            if !unknown.is_empty() {
                let e = CommandError::new(
                    ErrorCode::UnknownDevice,
                    format!("not configured: {}", unknown.join(", ")),
                );
                return self.result_err(&id, e).await;
            }
        }
        self.feed = Some(rx);
        self.send_snapshot(&id, &snap, &filter).await?;
        self.filter = Some(filter);
        Ok(())
    }

    async fn resume(
        &mut self,
        id: Value,
        last_seq: u64,
        devices: Option<&Value>,
        principal: &Principal,
    ) -> Result<(), End> {
        let filter = match self.filter_for(devices, principal) {
            Ok(f) => f,
            Err(e) => return self.result_err(&id, e).await,
        };
        match self.st.engine.resume_to(last_seq, filter.clone()).await {
            None => Err(End::Close(1012, "server is stopping".into())),
            Some(Resumed::Snapshot(snap, Feed { rx })) => {
                self.feed = Some(rx);
                self.send_snapshot(&id, &snap, &filter).await?;
                self.filter = Some(filter);
                Ok(())
            }
            Some(Resumed::Replay(events, Feed { rx })) => {
                self.feed = Some(rx);
                self.filter = Some(filter);
                let n = events
                    .iter()
                    .filter(|d| d.concerns(&filter_of(&self.filter)))
                    .count();
                self.last_seq = last_seq;
                self.send_text(json!({"type": "result", "id": id, "ok": true, "resumed": true, "fromSeq": last_seq + 1, "replayed": n}).to_string()).await?;
                self.deliver(&events, true).await
            }
        }
    }
}
