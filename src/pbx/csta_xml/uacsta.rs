//! The uaCSTA link (ECMA TR/87: CSTA XML in SIP; Cisco CUCM through its IM and Presence CTI
//! gateway, Cisco CME 8+), as a SIP user agent over TCP (TLS is not available in this build):
//!
//! - one dialog per link, or one per monitored line with `dialog_per_line = true` (Cisco's
//!   gateway requires it): INVITE with a RequestSystemStatus body (`application/csta+xml`,
//!   `Content-Disposition: signal;handling=required`), 200 OK with `normal`, ACK;
//! - a 401/407 challenge is answered once per request with Digest credentials
//!   (`ctigw_codecs::sip::digest`), which later INVITEs carry too (nonce count incremented);
//! - requests go as INFO in the dialog of their line, each its own transaction (new CSeq,
//!   branch `z9hG4bK...`), answered in the 200 OK body; a SIP error status fails the request;
//! - events arrive as INFO, are answered 200 OK at once and routed by `monitorCrossRefID`;
//! - each dialog is refreshed by re-INVITE every `dialog_refresh_secs` (default 10 minutes);
//! - BYE on every dialog when the engine goes away; on any loss the link reconnects with
//!   backoff, re-monitors and resynchronises by snapshot, as the TCP link does.
//!
//! Request-URI and To of a dialog: `sip:<line>@<domain>` per line, else
//! `sip:<username>@<domain>`; From: `sip:<username>@<domain>`. Retransmission timers do not
//! apply over TCP (RFC 3261 §17.1.1.2: timer A is not started on a reliable transport); the
//! request timeout covers a transaction that is never answered.

use super::options::Options;
use super::session::Session;
use crate::model::{CommandError, DeviceId, ErrorCode, LinkState, PbxEvent};
use crate::pbx::backoff::Backoff;
use crate::pbx::contract::{AdapterRequest, LinkSink};
use ctigw_codecs::csta_xml::{Message as Csta, SystemStatusValue, requests};
use ctigw_codecs::sip::{
    Auth, BRANCH_MAGIC, CSTA_XML, ContentDisposition, EncodeError, FrameError, Message, Method,
    SipCodec, Uri, digest,
};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::time::Duration;
use thiserror::Error;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::Framed;

/// What one uaCSTA link needs.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// `host:port` of the gateway's SIP listener (TCP).
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
    #[error("the gateway did not answer the INVITE within {0:?}")]
    NoAnswer(Duration),
    #[error("the gateway refused the dialog: {0}")]
    Refused(String),
    #[error("authentication failed: {0}")]
    Auth(String),
    #[error("SIP framing lost: {0}")]
    Framing(#[from] FrameError),
    #[error("cannot encode a SIP message: {0}")]
    Encode(#[from] EncodeError),
    #[error("the gateway closed the connection")]
    Closed,
    #[error("the gateway ended the dialog (BYE)")]
    Bye,
    #[error("the gateway's system status is {0}")]
    NotNormal(String),
    #[error("every request identifier is in use: the gateway stopped answering")]
    IdsExhausted,
}

type Link = Framed<TcpStream, SipCodec>;

enum End {
    EngineGone,
    Lost {
        error: LinkError,
        up_for: Option<Duration>,
    },
}

/// Runs one uaCSTA link until the engine goes away.
pub async fn run(
    sink: LinkSink,
    settings: LinkSettings,
    mut requests: mpsc::Receiver<AdapterRequest>,
) {
    let opts = settings.options.clone();
    let mut backoff = Backoff::new(opts.reconnect_min, opts.reconnect_max);
    let mut core = Session::new(opts, settings.devices.clone(), "uaCSTA gateway");
    let mut seq = 0u64;
    loop {
        if !sink.send(PbxEvent::Link(LinkState::Connecting)).await {
            return;
        }
        seq += 1;
        let mut s = SipSession::new(&settings, seq);
        let end = s.run(&sink, &mut core, &mut requests).await;
        core.handle_closed();
        for ev in core.events.drain(..) {
            if !sink.send(ev).await {
                return;
            }
        }
        match end {
            End::EngineGone => return,
            End::Lost { error, up_for } => {
                let reason = error.to_string();
                if !crate::pbx::wait_to_reconnect(
                    &sink,
                    &mut requests,
                    &mut backoff,
                    "uaCSTA",
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

/// One SIP dialog (a line's, or the link's).
struct Dialog {
    call_id: String,
    local_tag: String,
    remote_tag: Option<String>,
    /// Request-URI: the remote target (Contact of the 200 OK), at first the To URI
    target: String,
    to_uri: String,
    cseq: u32,
    up: bool,
}

/// The SIP side of one connection: the INVITE dialogs (one per device), their CSeqs and auth.
struct SipSession<'a> {
    settings: &'a LinkSettings,
    domain: String,
    local_host: String,
    seed: u64,
    counter: u64,
    dialogs: Vec<Dialog>,
    /// line → dialog index
    lines: HashMap<String, usize>,
    /// (Call-ID, CSeq) of an INFO → the core's request id
    infos: HashMap<(String, u32), u16>,
    /// (Call-ID, CSeq) of an INVITE → (dialog index, tries)
    /// (with the time by which the gateway must have answered)
    invites: HashMap<(String, u32), (usize, u32, Instant)>,
    challenge: Option<(Auth, bool)>,
    nc: u32,
    /// A second handle on the socket, for the BYEs sent when the task is dropped (the daemon
    /// aborts adapter tasks on shutdown: no await is possible then).
    #[cfg(unix)]
    bye_socket: Option<std::net::TcpStream>,
    byes_sent: bool,
}

impl Drop for SipSession<'_> {
    fn drop(&mut self) {
        #[cfg(unix)]
        if !self.byes_sent
            && let Some(mut sock) = self.bye_socket.take()
        {
            use std::io::Write;
            let mut bytes = bytes::BytesMut::new();
            for d in 0..self.dialogs.len() {
                if self.dialogs[d].up
                    && let Ok(m) = self.base(Method::Bye, d)
                {
                    let _ = m.encode(&mut bytes);
                }
            }
            // best effort on a non-blocking socket: the gateway may be gone already
            let _ = sock.write(&bytes);
        }
    }
}

impl<'a> SipSession<'a> {
    fn new(settings: &'a LinkSettings, seq: u64) -> Self {
        let host = settings
            .address
            .rsplit_once(':')
            .map_or(settings.address.as_str(), |(h, _)| h);
        let domain = settings
            .options
            .domain
            .clone()
            .unwrap_or_else(|| host.to_string());
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7)
            ^ seq.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        SipSession {
            settings,
            domain,
            local_host: "127.0.0.1".into(),
            seed,
            counter: 0,
            dialogs: Vec::new(),
            lines: HashMap::new(),
            infos: HashMap::new(),
            invites: HashMap::new(),
            challenge: None,
            nc: 0,
            #[cfg(unix)]
            bye_socket: None,
            byes_sent: false,
        }
    }

    fn opts(&self) -> &Options {
        &self.settings.options
    }

    fn token(&mut self) -> String {
        self.counter += 1;
        let mut x = self.seed ^ self.counter.wrapping_mul(0x2545_f491_4f6c_dd1d);
        x ^= x >> 29;
        format!("{:x}{:x}", x, self.counter)
    }

    fn our_uri(&self) -> String {
        format!("sip:{}@{}", self.opts().username, self.domain)
    }

    fn base(&mut self, method: Method, d: usize) -> Result<Message, LinkError> {
        let branch = format!("{BRANCH_MAGIC}{}", self.token());
        let from = self.our_uri();
        let local = self.local_host.clone();
        let username = self.opts().username.clone();
        let Some(dl) = self.dialogs.get_mut(d) else {
            return Err(LinkError::Refused("no such dialog".into()));
        };
        dl.cseq += 1;
        let uri = Uri::parse(&dl.target).map_err(LinkError::Refused)?;
        let to = match &dl.remote_tag {
            Some(t) => format!("<{}>;tag={t}", dl.to_uri),
            None => format!("<{}>", dl.to_uri),
        };
        Ok(Message::request(method.clone(), uri)
            .with_header("Via", format!("SIP/2.0/TCP {local};branch={branch}"))
            .with_header("Max-Forwards", 70)
            .with_header("From", format!("<{from}>;tag={}", dl.local_tag))
            .with_header("To", to)
            .with_header("Call-ID", &dl.call_id)
            .with_header("CSeq", format!("{} {}", dl.cseq, method))
            .with_header("Contact", format!("<sip:{username}@{local};transport=tcp>"))
            .with_header("User-Agent", "ctigw"))
    }

    fn authorize(&mut self, m: &mut Message, method: &str) -> Result<(), LinkError> {
        let Some((ch, proxy)) = self.challenge.clone() else {
            return Ok(());
        };
        let Some(pw) = self.opts().password.clone() else {
            return Err(LinkError::Auth(
                "the gateway asks for credentials and options.password is not set".into(),
            ));
        };
        self.nc += 1;
        let cnonce = self.token();
        let uri = m.request_uri().map(|u| u.to_string()).unwrap_or_default();
        let user = self.opts().username.clone();
        let a = digest::authorize(&ch, &user, &pw, method, &uri, &cnonce, self.nc)
            .map_err(|e| LinkError::Auth(e.to_string()))?;
        m.set_header(
            if proxy {
                "Proxy-Authorization"
            } else {
                "Authorization"
            },
            a,
        );
        Ok(())
    }

    async fn invite(&mut self, link: &mut Link, d: usize, tries: u32) -> Result<(), LinkError> {
        let mut m = self.base(Method::Invite, d)?;
        self.authorize(&mut m, "INVITE")?;
        let body = requests::request_system_status().to_xml(self.opts().edition);
        let m = m
            .with_header("Content-Disposition", ContentDisposition::csta_signal())
            .with_body(CSTA_XML, body.to_vec());
        let key = (self.dialogs[d].call_id.clone(), self.dialogs[d].cseq);
        let by = Instant::now() + self.opts().request_timeout;
        self.invites.insert(key, (d, tries, by));
        tracing::debug!(call_id = %self.dialogs[d].call_id, "INVITE sent");
        link.send(m).await?;
        Ok(())
    }

    async fn ack(&mut self, link: &mut Link, d: usize, cseq: u32) -> Result<(), LinkError> {
        let mut m = self.base(Method::Ack, d)?;
        self.dialogs[d].cseq -= 1; // ACK reuses the INVITE's number
        m.set_header("CSeq", format!("{cseq} ACK"));
        m.remove_header("Contact");
        link.send(m).await?;
        Ok(())
    }

    async fn open(&mut self) -> Result<Link, LinkError> {
        let address = self.settings.address.clone();
        let timeout = self.opts().connect_timeout;
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(&address)).await {
            Err(_) => return Err(LinkError::ConnectTimeout { address, timeout }),
            Ok(Err(source)) => return Err(LinkError::Connect { address, source }),
            Ok(Ok(s)) => s,
        };
        let _ = stream.set_nodelay(true);
        if let Ok(a) = stream.local_addr() {
            self.local_host = format!("{}:{}", a.ip(), a.port());
        }
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            self.bye_socket = stream
                .as_fd()
                .try_clone_to_owned()
                .ok()
                .map(std::net::TcpStream::from);
        }
        let mut link = Framed::new(stream, SipCodec::new());
        let lines: Vec<Option<String>> = if self.opts().dialog_per_line {
            self.settings
                .devices
                .iter()
                .map(|d| Some(d.to_string()))
                .collect()
        } else {
            vec![None]
        };
        for line in lines {
            let user = line.clone().unwrap_or_else(|| self.opts().username.clone());
            let to_uri = format!("sip:{user}@{}", self.domain);
            let call_id = format!("{}@ctigw", self.token());
            let local_tag = self.token();
            self.dialogs.push(Dialog {
                call_id,
                local_tag,
                remote_tag: None,
                target: to_uri.clone(),
                to_uri,
                cseq: 0,
                up: false,
            });
            let d = self.dialogs.len() - 1;
            if let Some(l) = line {
                self.lines.insert(l, d);
            }
            self.invite(&mut link, d, 0).await?;
            let wait = self.opts().request_timeout;
            let deadline = Instant::now() + wait;
            while !self.dialogs[d].up {
                let m = match tokio::time::timeout_at(deadline, link.next()).await {
                    Err(_) => return Err(LinkError::NoAnswer(wait)),
                    Ok(None) => return Err(LinkError::Closed),
                    Ok(Some(Err(e))) => return Err(e.into()),
                    Ok(Some(Ok(Err(e)))) => {
                        tracing::warn!("bad SIP message from the gateway (skipped): {e}");
                        continue;
                    }
                    Ok(Some(Ok(Ok(m)))) => m,
                };
                if m.is_request() {
                    self.answer_request(&mut link, &m, None).await?;
                } else {
                    self.invite_response(&mut link, &m).await?;
                }
            }
        }
        Ok(link)
    }

    /// A response to one of our INVITEs (first or refresh).
    async fn invite_response(&mut self, link: &mut Link, m: &Message) -> Result<(), LinkError> {
        let (Some(cid), Some(cseq), Some(code)) = (m.call_id(), m.cseq(), m.status()) else {
            return Ok(());
        };
        let key = (cid.to_string(), cseq.seq);
        let Some(&(d, tries, _)) = self.invites.get(&key) else {
            return Ok(());
        };
        if code < 200 {
            return Ok(());
        }
        self.invites.remove(&key);
        match code {
            200..=299 => {
                if let Some(t) = m.to().and_then(|t| t.tag().map(str::to_string)) {
                    self.dialogs[d].remote_tag = Some(t);
                }
                if let Some(c) = m.contacts().first() {
                    self.dialogs[d].target = c.uri.to_string();
                }
                self.ack(link, d, cseq.seq).await?;
                if m.is_csta()
                    && let Ok(Csta::RequestSystemStatusResponse(r)) = Csta::decode(&m.body)
                    && !matches!(
                        r.system_status,
                        SystemStatusValue::Normal | SystemStatusValue::Enabled
                    )
                {
                    return Err(LinkError::NotNormal(r.system_status.to_string()));
                }
                if !self.dialogs[d].up {
                    tracing::info!(call_id = %cid, "uaCSTA dialog established");
                } else {
                    tracing::debug!(call_id = %cid, "uaCSTA dialog refreshed");
                }
                self.dialogs[d].up = true;
                Ok(())
            }
            401 | 407 if tries == 0 => {
                let proxy = code == 407;
                let ch = if proxy {
                    m.proxy_authenticate()
                } else {
                    m.www_authenticate()
                };
                let Some(ch) = ch.into_iter().find(Auth::is_digest) else {
                    return Err(LinkError::Auth(format!(
                        "{code} without a Digest challenge"
                    )));
                };
                tracing::info!(
                    realm = ch.realm().unwrap_or("-"),
                    "challenged by the gateway: answering with Digest"
                );
                self.challenge = Some((ch, proxy));
                self.nc = 0;
                self.ack(link, d, cseq.seq).await?;
                self.invite(link, d, tries + 1).await
            }
            401 | 407 => Err(LinkError::Auth(format!("credentials refused ({code})"))),
            403 if self.challenge.is_some() => Err(LinkError::Auth(
                "credentials refused (403 Forbidden): check options.username and password".into(),
            )),
            _ => {
                let _ = self.ack(link, d, cseq.seq).await;
                Err(LinkError::Refused(format!("INVITE answered {code}")))
            }
        }
    }

    /// A request from the gateway: INFO (an event, or anything CSTA) answered 200 OK.
    async fn answer_request(
        &mut self,
        link: &mut Link,
        m: &Message,
        core: Option<&mut Session>,
    ) -> Result<(), LinkError> {
        let method = m.method().cloned();
        let tag = self
            .dialogs
            .iter()
            .find(|d| Some(d.call_id.as_str()) == m.call_id())
            .map(|d| d.local_tag.clone());
        match method {
            Some(Method::Ack) => return Ok(()),
            Some(Method::Bye) => {
                self.byes_sent = true;
                link.send(Message::response_to(m, 200, "", tag.as_deref()))
                    .await?;
                return Err(LinkError::Bye);
            }
            Some(Method::Info) if tag.is_some() => {
                link.send(Message::response_to(m, 200, "", tag.as_deref()))
                    .await?;
                if m.is_csta() && !m.body.is_empty() {
                    match Csta::decode(&m.body) {
                        Ok(doc) if doc.is_event() => {
                            if let Some(core) = core {
                                core.handle_event(&doc);
                            }
                        }
                        Ok(doc) => tracing::debug!(
                            message = doc.element_name(),
                            "CSTA request from the gateway ignored"
                        ),
                        Err(e) => {
                            tracing::warn!("undecodable CSTA body from the gateway (skipped): {e}")
                        }
                    }
                }
            }
            Some(Method::Info) => {
                link.send(Message::response_to(m, 481, "", None)).await?;
            }
            Some(Method::Options) => {
                link.send(Message::response_to(m, 200, "", tag.as_deref()))
                    .await?
            }
            _ => {
                link.send(Message::response_to(m, 405, "", tag.as_deref()))
                    .await?
            }
        }
        Ok(())
    }

    async fn flush(&mut self, link: &mut Link, core: &mut Session) -> Result<(), LinkError> {
        let out: Vec<_> = core.out.drain(..).collect();
        for o in out {
            let d = o
                .device
                .as_ref()
                .and_then(|dev| self.lines.get(dev).copied())
                .unwrap_or(0);
            let m = self.base(Method::Info, d)?;
            let body = o.msg.to_xml(self.opts().edition);
            let m = m
                .with_header("Content-Disposition", ContentDisposition::csta_signal())
                .with_body(CSTA_XML, body.to_vec());
            self.infos.insert(
                (self.dialogs[d].call_id.clone(), self.dialogs[d].cseq),
                o.id,
            );
            tracing::debug!(id = o.id, request = o.msg.element_name(), "INFO sent");
            link.feed(m).await?;
        }
        SinkExt::<Message>::flush(link).await?;
        Ok(())
    }

    async fn run(
        &mut self,
        sink: &LinkSink,
        core: &mut Session,
        requests: &mut mpsc::Receiver<AdapterRequest>,
    ) -> End {
        let mut link = match self.open().await {
            Ok(l) => l,
            Err(error) => {
                return End::Lost {
                    error,
                    up_for: None,
                };
            }
        };
        let up_since = Instant::now();
        let lost = |error| End::Lost {
            error,
            up_for: Some(up_since.elapsed()),
        };
        if !sink.send(PbxEvent::Link(LinkState::Up)).await {
            return End::EngineGone;
        }
        if core.handle_session_up(std::time::Instant::now()).is_err() {
            return lost(LinkError::IdsExhausted);
        }
        let period = self.opts().dialog_refresh;
        let mut refresh = tokio::time::interval_at(Instant::now() + period, period);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if let Err(e) = self.flush(&mut link, core).await {
                return lost(e);
            }
            for ev in core.events.drain(..) {
                if !sink.send(ev).await {
                    return End::EngineGone;
                }
            }
            let deadline = core
                .poll_timeout()
                .map(Instant::from_std)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            // a refresh the gateway never answers: the dialog is gone
            let invite_by = self.invites.values().map(|(_, _, by)| *by).min();
            tokio::select! {
                _ = sleep_opt(invite_by) => {
                    let wait = self.opts().request_timeout;
                    return lost(LinkError::NoAnswer(wait));
                },
                m = link.next() => match m {
                    None => return lost(LinkError::Closed),
                    Some(Err(e)) => return lost(e.into()),
                    Some(Ok(Err(e))) => tracing::warn!("bad SIP message from the gateway (skipped): {e}"),
                    Some(Ok(Ok(m))) => {
                        let r = if m.is_request() {
                            self.answer_request(&mut link, &m, Some(core)).await
                        } else if m.cseq().is_some_and(|c| c.method == Method::Invite) {
                            self.invite_response(&mut link, &m).await
                        } else {
                            self.info_response(&m, core);
                            Ok(())
                        };
                        if let Err(e) = r {
                            return lost(e);
                        }
                    }
                },
                req = requests.recv() => match req {
                    None => {
                        self.byes_sent = true;
                        for d in 0..self.dialogs.len() {
                            if let Ok(m) = self.base(Method::Bye, d) {
                                let _ = link.send(m).await;
                            }
                        }
                        return End::EngineGone;
                    }
                    Some(r) => core.handle_request(std::time::Instant::now(), r),
                },
                _ = refresh.tick() => {
                    for d in 0..self.dialogs.len() {
                        if let Err(e) = self.invite(&mut link, d, 0).await {
                            return lost(e);
                        }
                    }
                },
                _ = tokio::time::sleep_until(deadline) => core.handle_timeout(std::time::Instant::now()),
            }
        }
    }

    /// The answer to one of our INFO requests: the CSTA response in a 200 OK body.
    fn info_response(&mut self, m: &Message, core: &mut Session) {
        let (Some(cid), Some(cseq), Some(code)) = (m.call_id(), m.cseq(), m.status()) else {
            return;
        };
        if code < 200 {
            return;
        }
        let Some(id) = self.infos.remove(&(cid.to_string(), cseq.seq)) else {
            return;
        };
        let now = std::time::Instant::now();
        if !(200..300).contains(&code) {
            let e = CommandError::new(
                ErrorCode::PbxRejected,
                format!("the gateway answered the INFO with SIP {code}"),
            );
            core.handle_failure(id, e);
            return;
        }
        match Csta::decode(&m.body) {
            Ok(doc) => {
                core.handle_response(id, &doc, now);
            }
            Err(e) => core.handle_failure(
                id,
                CommandError::new(
                    ErrorCode::Internal,
                    format!("the gateway's answer does not decode: {e}"),
                ),
            ),
        }
    }
}

async fn sleep_opt(t: Option<Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
