//! The CSTA-XML-over-TCP link (Unify OpenScape Voice / Business): connect, ECMA-354
//! StartApplicationSession with the protocol versions we speak (the PBX picks one, which
//! decides the namespace we write), MonitorStart per device then SnapshotDevice, events,
//! commands; ResetApplicationSessionTimer well before the session duration runs out; on any
//! loss, report the link down and reconnect with backoff and jitter, re-monitor, resynchronise.
//!
//! Frames carry an 8-byte header with a four-digit invokeID: ours run 1..9998, unique among
//! the outstanding; the PBX's unsolicited events use 9999 (or anything: events are told by
//! their `monitorCrossRefID`, not their invokeID). A SystemStatus request from the PBX is
//! answered with the same invokeID; `disabled` or `initializing` is taken as a restart.

use super::options::Options;
use super::session::{Purpose, Session};
use crate::model::{DeviceId, LinkState, PbxEvent};
use crate::pbx::backoff::Backoff;
use crate::pbx::contract::{AdapterRequest, LinkSink};
use ctigw_codecs::csta_xml::{
    CstaXmlCodec, Edition, FrameError, Message, SystemStatusValue, requests,
};
use futures_util::{SinkExt, StreamExt};
use std::time::Duration;
use thiserror::Error;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::Framed;

/// What one CSTA XML TCP link needs.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// `host:port` of the PBX's CSTA XML server.
    pub address: String,
    pub devices: Vec<DeviceId>,
    pub options: Options,
}

/// Why a session ended.
#[derive(Debug, Error)]
pub enum LinkError {
    #[error("cannot connect to {address}: {source}")]
    Connect {
        address: String,
        source: std::io::Error,
    },
    #[error("no TCP connection to {address} within {timeout:?}")]
    ConnectTimeout { address: String, timeout: Duration },
    #[error("the PBX did not answer StartApplicationSession within {0:?}")]
    NoAnswer(Duration),
    #[error("application session refused by the PBX: {0}")]
    Refused(String),
    #[error("link framing lost: {0}")]
    Framing(#[from] FrameError),
    #[error("the PBX closed the connection")]
    Closed,
    #[error("two session keep-alives in a row unanswered: the link is dead")]
    KeepAliveLost,
    #[error("the PBX refused to extend the application session: {0}")]
    SessionExpired(String),
    #[error("the PBX ended the application session")]
    Stopped,
    #[error("the PBX is restarting (systemStatus {0})")]
    PbxRestart(String),
    #[error("every invokeID is in use: the PBX stopped answering")]
    InvokeIdsExhausted,
}

type Link = Framed<TcpStream, CstaXmlCodec>;

enum End {
    EngineGone,
    Lost {
        error: LinkError,
        up_for: Option<Duration>,
    },
}

/// Runs one CSTA XML TCP link until the engine goes away.
pub async fn run(
    sink: LinkSink,
    settings: LinkSettings,
    mut requests: mpsc::Receiver<AdapterRequest>,
) {
    let opts = settings.options.clone();
    let mut backoff = Backoff::new(opts.reconnect_min, opts.reconnect_max);
    let mut core = Session::new(opts, settings.devices.clone(), "OpenScape");
    loop {
        if !sink.send(PbxEvent::Link(LinkState::Connecting)).await {
            return;
        }
        let end = session(&sink, &settings, &mut core, &mut requests).await;
        core.handle_closed();
        if !flush_events(&sink, &mut core).await {
            return;
        }
        match end {
            End::EngineGone => return,
            End::Lost { error, up_for } => {
                let reason = error.to_string();
                if !crate::pbx::wait_to_reconnect(
                    &sink,
                    &mut requests,
                    &mut backoff,
                    "OpenScape",
                    &reason,
                    up_for,
                )
                .await
                {
                    return;
                }
            }
        }
    }
}

async fn flush_events(sink: &LinkSink, core: &mut Session) -> bool {
    for ev in core.events.drain(..) {
        if !sink.send(ev).await {
            return false;
        }
    }
    true
}

async fn flush(link: &mut Link, core: &mut Session) -> Result<(), LinkError> {
    if core.out.is_empty() {
        return Ok(());
    }
    for o in core.out.drain(..) {
        tracing::debug!(
            invoke_id = o.id,
            request = o.msg.element_name(),
            "request sent"
        );
        link.feed((o.id, &o.msg)).await?;
    }
    SinkExt::<(u16, &Message)>::flush(link).await?;
    Ok(())
}

/// TCP and the application session; returns the link, the session id and its duration.
async fn open(
    settings: &LinkSettings,
    core: &mut Session,
) -> Result<(Link, String, Duration), LinkError> {
    let opts = &settings.options;
    let address = settings.address.clone();
    let timeout = opts.connect_timeout;
    let stream = match tokio::time::timeout(timeout, TcpStream::connect(&address)).await {
        Err(_) => return Err(LinkError::ConnectTimeout { address, timeout }),
        Ok(Err(source)) => return Err(LinkError::Connect { address, source }),
        Ok(Ok(s)) => s,
    };
    let _ = stream.set_nodelay(true);
    let mut link = Framed::new(stream, CstaXmlCodec::new().with_edition(opts.edition));
    // the edition we prefer first, then the others
    let mut editions = vec![opts.edition];
    editions.extend(Edition::ALL.into_iter().filter(|e| *e != opts.edition));
    let id = core.allocate_id().ok_or(LinkError::InvokeIdsExhausted)?;
    let duration = opts.session_duration.as_secs() as u32;
    let start =
        requests::start_application_session(&opts.application_id, &editions, Some(duration));
    link.send((id, &start)).await?;
    let deadline = Instant::now() + opts.request_timeout;
    loop {
        let next = tokio::time::timeout_at(deadline, link.next()).await;
        let msg = match next {
            Err(_) => return Err(LinkError::NoAnswer(opts.request_timeout)),
            Ok(None) => return Err(LinkError::Closed),
            Ok(Some(Err(e))) => return Err(e.into()),
            Ok(Some(Ok(Err(e)))) => {
                tracing::warn!("undecodable frame while opening the session (skipped): {e}");
                continue;
            }
            Ok(Some(Ok(Ok(m)))) => m,
        };
        match msg.message {
            Message::StartApplicationSessionPosResponse(r) => {
                let edition = Edition::from_namespace(r.actual_protocol_version.trim())
                    .unwrap_or(opts.edition);
                link.codec_mut().set_edition(edition);
                let actual = r
                    .actual_session_duration
                    .map(|s| Duration::from_secs(s.into()))
                    .unwrap_or(opts.session_duration);
                tracing::info!(session = %r.session_id, ?edition, ?actual, "application session started");
                return Ok((link, r.session_id, actual));
            }
            Message::StartApplicationSessionNegResponse(r) => {
                let why = r
                    .error_code
                    .defined_error
                    .or(r.error_code.application_error)
                    .unwrap_or_else(|| "no error code".into());
                return Err(LinkError::Refused(why));
            }
            Message::SystemStatus(_) => {
                link.send((msg.invoke_id, &requests::system_status_response()))
                    .await?;
            }
            other => tracing::debug!(
                message = other.element_name(),
                "ignored while opening the session"
            ),
        }
    }
}

async fn session(
    sink: &LinkSink,
    settings: &LinkSettings,
    core: &mut Session,
    requests: &mut mpsc::Receiver<AdapterRequest>,
) -> End {
    let (mut link, session_id, duration) = match open(settings, core).await {
        Ok(x) => x,
        Err(error) => {
            return End::Lost {
                error,
                up_for: None,
            };
        }
    };
    let mut stop = StopOnDrop::new(&link, &session_id, link.codec().edition());
    let up_since = Instant::now();
    let lost = |error| End::Lost {
        error,
        up_for: Some(up_since.elapsed()),
    };
    if !sink.send(PbxEvent::Link(LinkState::Up)).await {
        return End::EngineGone;
    }
    if core.handle_session_up(std::time::Instant::now()).is_err() {
        return lost(LinkError::InvokeIdsExhausted);
    }
    // keep the session alive well before it runs out
    let mut period = settings.options.keepalive;
    if period >= duration {
        period = duration / 2;
    }
    let period = period.max(Duration::from_millis(100));
    let secs = duration.as_secs().clamp(1, u32::MAX as u64) as u32;
    let mut tick = tokio::time::interval_at(Instant::now() + period, period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if let Err(e) = flush(&mut link, core).await {
            return lost(e);
        }
        if !flush_events(sink, core).await {
            return End::EngineGone;
        }
        if core.keepalive_misses >= 2 {
            return lost(LinkError::KeepAliveLost);
        }
        let deadline = core
            .poll_timeout()
            .map(Instant::from_std)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            frame = link.next() => match frame {
                None => return lost(LinkError::Closed),
                Some(Err(e)) => return lost(LinkError::Framing(e)),
                Some(Ok(Err(e))) => tracing::warn!("undecodable frame from the PBX (skipped): {e}"),
                Some(Ok(Ok(m))) => {
                    let now = std::time::Instant::now();
                    match &m.message {
                        msg if msg.is_event() => core.handle_event(msg),
                        Message::SystemStatus(s) => {
                            if let Err(e) = link.send((m.invoke_id, &requests::system_status_response())).await {
                                return lost(e.into());
                            }
                            if matches!(s.system_status, SystemStatusValue::Initializing | SystemStatusValue::Disabled) {
                                return lost(LinkError::PbxRestart(s.system_status.to_string()));
                            }
                        }
                        Message::StopApplicationSession(_) => {
                            stop.armed = false;
                            let _ = link.send((m.invoke_id, &Message::StopApplicationSessionPosResponse(Default::default()))).await;
                            return lost(LinkError::Stopped);
                        }
                        Message::ResetApplicationSessionTimerNegResponse(r) => {
                            let why = r.error_code.defined_error.clone().unwrap_or_else(|| "no error code".into());
                            return lost(LinkError::SessionExpired(why));
                        }
                        msg => {
                            if let Some(Purpose::KeepAlive) = core.handle_response(m.invoke_id, msg, now) {
                                tracing::trace!("session timer reset");
                            }
                        }
                    }
                }
            },
            req = requests.recv() => match req {
                None => {
                    stop.armed = false;
                    let msg = requests::stop_application_session(&session_id);
                    let _ = link.send((core.allocate_id().unwrap_or(1), &msg)).await;
                    return End::EngineGone;
                }
                Some(r) => core.handle_request(std::time::Instant::now(), r),
            },
            _ = tick.tick() => {
                if core.keep_alive(&session_id, secs, std::time::Instant::now()).is_none() {
                    return lost(LinkError::InvokeIdsExhausted);
                }
            },
            _ = tokio::time::sleep_until(deadline) => core.handle_timeout(std::time::Instant::now()),
        }
    }
}

/// StopApplicationSession written straight to the socket when the session's future is
/// dropped (the daemon aborts adapter tasks on shutdown: no await is possible then). Best
/// effort: the PBX may be gone already.
struct StopOnDrop {
    #[cfg(unix)]
    socket: Option<std::net::TcpStream>,
    frame: bytes::BytesMut,
    armed: bool,
}

impl StopOnDrop {
    fn new(link: &Link, session_id: &str, edition: Edition) -> Self {
        use tokio_util::codec::Encoder;
        let mut frame = bytes::BytesMut::new();
        let msg = requests::stop_application_session(session_id);
        let _ = CstaXmlCodec::new()
            .with_edition(edition)
            .encode((9998, &msg), &mut frame);
        #[cfg(unix)]
        let socket = {
            use std::os::fd::AsFd;
            link.get_ref()
                .as_fd()
                .try_clone_to_owned()
                .ok()
                .map(std::net::TcpStream::from)
        };
        StopOnDrop {
            #[cfg(unix)]
            socket,
            frame,
            armed: true,
        }
    }
}

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        #[cfg(unix)]
        if self.armed
            && let Some(mut s) = self.socket.take()
        {
            use std::io::Write;
            let _ = s.write(&self.frame);
        }
    }
}
