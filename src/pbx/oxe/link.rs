//! The OXE/OXO link task: connect, hello `B`/`P`, AARQ/AARE, MonitorStart per device,
//! SnapshotDevice per monitored device, then events, commands and keep-alives; on any loss,
//! report the link down and reconnect with backoff and jitter, re-monitor and resynchronise.
//!
//! Keep-alives: the PBX's SystemStatus (opcode 52) invokes are answered at once with a
//! ReturnResult echoing the invokeID. We send our own every `keepalive_secs`; two in a row
//! without an answer and the link is declared dead. A SystemStatus from the PBX whose value is
//! `initializing` or `disabled` is taken as a PBX restart (an assumption: no capture shows
//! one): the session is closed and opened again, which re-monitors and resynchronises.

use super::commands::{self, Planned};
use super::invoke::{Invokes, Purpose};
use super::mapping::{Mapper, call_ref};
use super::options::Options;
use crate::model::{CommandError, CommandOutcome, DeviceId, ErrorCode, LinkState, PbxEvent};
use crate::pbx::backoff::Backoff;
use crate::pbx::contract::{AdapterRequest, LinkSink};
use ctigw_codecs::csta_ber::acse::{AssociateResult, ResultSourceDiagnostic};
use ctigw_codecs::csta_ber::rose::{InvokeProblem, RejectProblem};
use ctigw_codecs::csta_ber::services::SystemStatus;
use ctigw_codecs::csta_ber::{
    Aarq, AcseApdu, Argument, CstaCodec, FrameError, Hello, Invoke, Pdu, Reject, Release,
    ResultValue, RoseApdu, requests,
};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::time::Duration;
use thiserror::Error;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::Framed;

/// What one OXE/OXO link needs.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// `host:port` of the PBX's CSTA server (port 2555 on OXE).
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
    #[error("the PBX did not answer {what} within {timeout:?}")]
    NoAnswer {
        what: &'static str,
        timeout: Duration,
    },
    #[error("association refused by the PBX: {reason}")]
    Refused { reason: String },
    #[error("link framing lost: {0}")]
    Framing(#[from] FrameError),
    #[error("the PBX closed the connection")]
    Closed,
    #[error("two keep-alives in a row unanswered: the link is dead")]
    KeepAliveLost,
    #[error("the PBX released the association")]
    Released,
    #[error("the PBX aborted the association")]
    Aborted,
    #[error("the PBX is restarting (systemStatus {0})")]
    PbxRestart(String),
    #[error("every invokeID is in use: the PBX stopped answering")]
    InvokeIdsExhausted,
}

enum End {
    /// The engine went away: stop for good.
    EngineGone,
    /// The session ended; `up_for` is how long it had been associated.
    Lost {
        error: LinkError,
        up_for: Option<Duration>,
    },
}

type Link = Framed<TcpStream, CstaCodec>;

/// Runs one OXE/OXO link until the engine goes away.
pub async fn run(
    sink: LinkSink,
    settings: LinkSettings,
    mut requests: mpsc::Receiver<AdapterRequest>,
) {
    let opts = &settings.options;
    let mut backoff = Backoff::new(opts.reconnect_min, opts.reconnect_max);
    let mut mapper = Mapper::new();
    loop {
        if !sink.send(PbxEvent::Link(LinkState::Connecting)).await {
            return;
        }
        let mut s = Session::new(&sink, &settings, &mut mapper);
        let end = s.run(&mut requests).await;
        let ended = s.abandon().await;
        if !ended {
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
                    "OXE",
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

/// A command in flight: how many of its invokes are still unanswered, and how it is going.
struct Group {
    remaining: usize,
    outcome: CommandOutcome,
    error: Option<CommandError>,
}

struct Session<'a> {
    sink: &'a LinkSink,
    settings: &'a LinkSettings,
    mapper: &'a mut Mapper,
    invokes: Invokes,
    groups: HashMap<u64, Group>,
    unanswered_keep_alives: u32,
    engine_gone: bool,
}

fn to_std(d: tokio::time::Instant) -> std::time::Instant {
    d.into_std()
}

impl<'a> Session<'a> {
    fn new(sink: &'a LinkSink, settings: &'a LinkSettings, mapper: &'a mut Mapper) -> Self {
        Session {
            sink,
            settings,
            mapper,
            invokes: Invokes::default(),
            groups: HashMap::new(),
            unanswered_keep_alives: 0,
            engine_gone: false,
        }
    }

    fn opts(&self) -> &Options {
        &self.settings.options
    }

    async fn emit(&mut self, ev: PbxEvent) {
        if !self.sink.send(ev).await {
            self.engine_gone = true;
        }
    }

    async fn result(&mut self, token: u64, result: Result<CommandOutcome, CommandError>) {
        self.emit(PbxEvent::CommandResult { token, result }).await;
    }

    /// The session is over: every command still waiting gets its one result. Returns false
    /// when the engine is gone.
    async fn abandon(&mut self) -> bool {
        let _ = self.invokes.drain();
        let tokens: Vec<u64> = self.groups.drain().map(|(t, _)| t).collect();
        for token in tokens {
            let e = CommandError::new(
                ErrorCode::LinkDown,
                "the OXE link went down before the PBX answered",
            );
            self.result(token, Err(e)).await;
        }
        !self.engine_gone
    }

    async fn run(&mut self, requests: &mut mpsc::Receiver<AdapterRequest>) -> End {
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
        self.mapper.monitors_lost();
        self.emit(PbxEvent::Link(LinkState::Up)).await;
        let lost = |error| End::Lost {
            error,
            up_for: Some(up_since.elapsed()),
        };
        if let Err(e) = self.start_monitors(&mut link).await {
            return lost(e);
        }
        let keepalive = self.opts().keepalive;
        let mut tick = tokio::time::interval_at(
            Instant::now() + keepalive.unwrap_or(Duration::from_secs(3600)),
            keepalive.unwrap_or(Duration::from_secs(3600)),
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if self.engine_gone {
                return End::EngineGone;
            }
            let deadline = self
                .invokes
                .next_deadline()
                .map(Instant::from_std)
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                frame = link.next() => match frame {
                    None => return lost(LinkError::Closed),
                    Some(Err(e)) => return lost(LinkError::Framing(e)),
                    Some(Ok(Err(e))) => {
                        tracing::warn!("undecodable PDU from the PBX (skipped): {e}");
                    }
                    Some(Ok(Ok(pdu))) => {
                        if let Err(e) = self.on_pdu(&mut link, pdu).await {
                            return lost(e);
                        }
                    }
                },
                req = requests.recv() => match req {
                    None => return End::EngineGone,
                    Some(r) => {
                        if let Err(e) = self.on_request(&mut link, r).await {
                            return lost(e);
                        }
                    }
                },
                _ = tick.tick(), if keepalive.is_some() => {
                    let Some(period) = keepalive else { continue };
                    let id = self.invokes.allocate(Purpose::KeepAlive, to_std(Instant::now()), period);
                    let Some(id) = id else { return lost(LinkError::InvokeIdsExhausted) };
                    if let Err(e) = link.send(requests::system_status(id, SystemStatus::Normal)).await {
                        return lost(e.into());
                    }
                },
                _ = tokio::time::sleep_until(deadline) => {
                    if let Err(e) = self.expire().await {
                        return lost(e);
                    }
                },
            }
        }
    }

    /// TCP, hello, AARQ/AARE.
    async fn open(&mut self) -> Result<Link, LinkError> {
        let address = self.settings.address.clone();
        let timeout = self.opts().connect_timeout;
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(&address)).await {
            Err(_) => return Err(LinkError::ConnectTimeout { address, timeout }),
            Ok(Err(source)) => return Err(LinkError::Connect { address, source }),
            Ok(Ok(s)) => s,
        };
        let _ = stream.set_nodelay(true);
        let mut link = Framed::new(stream, CstaCodec::client());
        link.send(Pdu::Hello {
            hello: Hello::Client,
        })
        .await?;
        let wait = self.opts().request_timeout;
        let deadline = Instant::now() + wait;
        let mut hello = false;
        loop {
            let next = tokio::time::timeout_at(deadline, link.next()).await;
            let pdu = match next {
                Err(_) => {
                    return Err(LinkError::NoAnswer {
                        what: if hello { "the AARQ" } else { "the hello" },
                        timeout: wait,
                    });
                }
                Ok(None) => return Err(LinkError::Closed),
                Ok(Some(Err(e))) => return Err(e.into()),
                Ok(Some(Ok(Err(e)))) => {
                    tracing::warn!("undecodable PDU while associating (skipped): {e}");
                    continue;
                }
                Ok(Some(Ok(Ok(p)))) => p,
            };
            match pdu {
                Pdu::Hello { .. } => {
                    hello = true;
                    link.send(Pdu::Acse(AcseApdu::Aarq(Aarq::oxe_default())))
                        .await?;
                }
                Pdu::Acse(AcseApdu::Aare(aare)) => {
                    return match aare.result {
                        Some(AssociateResult::Accepted) | None => {
                            tracing::info!(address = %self.settings.address, "CSTA association accepted");
                            Ok(link)
                        }
                        Some(r) => {
                            let why = match &aare.result_source_diagnostic {
                                Some(ResultSourceDiagnostic::AcseServiceUser(d)) => d.to_string(),
                                Some(ResultSourceDiagnostic::AcseServiceProvider(d)) => {
                                    d.to_string()
                                }
                                _ => "no diagnostic".into(),
                            };
                            Err(LinkError::Refused {
                                reason: format!("{r}: {why}"),
                            })
                        }
                    };
                }
                Pdu::Acse(AcseApdu::Abrt(_)) => return Err(LinkError::Aborted),
                Pdu::Rose(RoseApdu::Invoke(Invoke {
                    invoke_id,
                    argument: Argument::SystemStatus(_),
                    ..
                })) => {
                    link.send(requests::system_status_result(invoke_id)).await?;
                }
                other => tracing::debug!("ignored while associating: {other:?}"),
            }
        }
    }

    async fn start_monitors(&mut self, link: &mut Link) -> Result<(), LinkError> {
        let devices = self.settings.devices.clone();
        let max = self.opts().max_monitors.unwrap_or(usize::MAX);
        for (i, d) in devices.iter().enumerate() {
            if i >= max {
                let e = CommandError::new(
                    ErrorCode::ResourceLimit,
                    format!(
                        "not monitored: options.max_monitors = {max} (the PBX's licences or virtual terminals)"
                    ),
                );
                self.emit(PbxEvent::Monitor {
                    device: d.clone(),
                    result: Err(e),
                })
                .await;
                continue;
            }
            let purpose = Purpose::Monitor {
                device: d.to_string(),
            };
            let id = self.allocate(purpose)?;
            link.send(requests::monitor_start(id, d.as_str())).await?;
        }
        Ok(())
    }

    fn allocate(&mut self, purpose: Purpose) -> Result<i64, LinkError> {
        let t = self.opts().request_timeout;
        self.invokes
            .allocate(purpose, to_std(Instant::now()), t)
            .ok_or(LinkError::InvokeIdsExhausted)
    }

    async fn on_request(&mut self, link: &mut Link, r: AdapterRequest) -> Result<(), LinkError> {
        let span = tracing::debug_span!("command", token = r.token, op = r.command.op());
        let _g = span.enter();
        let planned: Vec<Planned> = match commands::plan(&r.command, self.mapper, self.opts()) {
            Ok(p) => p,
            Err(e) => {
                drop(_g);
                self.result(r.token, Err(e)).await;
                return Ok(());
            }
        };
        let device = r.command.device().to_string();
        if self.invokes.len() + planned.len() > 30_000 {
            drop(_g);
            let e = CommandError::new(ErrorCode::Busy, "too many requests waiting for the PBX");
            self.result(r.token, Err(e)).await;
            return Ok(());
        }
        self.groups.insert(
            r.token,
            Group {
                remaining: planned.len(),
                outcome: CommandOutcome::default(),
                error: None,
            },
        );
        drop(_g);
        for p in planned {
            let purpose = match (&r.command, p.op) {
                (crate::model::PbxCommand::Snapshot { device }, _) => Purpose::Snapshot {
                    device: device.to_string(),
                    token: Some(r.token),
                },
                _ => Purpose::Command {
                    token: r.token,
                    op: p.op,
                    device: device.clone(),
                },
            };
            let id = self.allocate(purpose)?;
            tracing::debug!(invoke_id = id, op = p.op, %device, "request sent");
            link.send(commands::with_invoke_id(p.pdu, id)).await?;
        }
        Ok(())
    }

    /// One answer (or failure) for an invoke of a command group.
    async fn group_done(&mut self, token: u64, r: Result<Option<String>, CommandError>) {
        let Some(g) = self.groups.get_mut(&token) else {
            return;
        };
        g.remaining = g.remaining.saturating_sub(1);
        match r {
            Ok(Some(call)) => g.outcome.call = Some(call),
            Ok(None) => {}
            Err(e) => {
                if g.error.is_none() {
                    g.error = Some(e);
                }
            }
        }
        if g.remaining == 0
            && let Some(g) = self.groups.remove(&token)
        {
            let result = match g.error {
                Some(e) => Err(e),
                None => Ok(g.outcome),
            };
            self.result(token, result).await;
        }
    }

    async fn expire(&mut self) -> Result<(), LinkError> {
        for (id, o) in self.invokes.expired(to_std(Instant::now())) {
            let timeout = self.opts().request_timeout;
            match o.purpose {
                Purpose::KeepAlive => {
                    self.unanswered_keep_alives += 1;
                    tracing::warn!(
                        invoke_id = id,
                        unanswered = self.unanswered_keep_alives,
                        "keep-alive unanswered"
                    );
                    if self.unanswered_keep_alives >= 2 {
                        return Err(LinkError::KeepAliveLost);
                    }
                }
                Purpose::Monitor { device } => {
                    let e = CommandError::new(
                        ErrorCode::Timeout,
                        format!("monitorStart unanswered within {timeout:?}"),
                    );
                    self.emit(PbxEvent::Monitor {
                        device: DeviceId::new(&device),
                        result: Err(e),
                    })
                    .await;
                }
                Purpose::Snapshot { device, token } => {
                    tracing::warn!(%device, "snapshotDevice unanswered within {timeout:?}");
                    if let Some(t) = token {
                        let e = CommandError::new(
                            ErrorCode::Timeout,
                            format!("snapshotDevice unanswered within {timeout:?}"),
                        );
                        self.group_done(t, Err(e)).await;
                    }
                }
                Purpose::Command { token, op, .. } => {
                    let e = CommandError::new(
                        ErrorCode::Timeout,
                        format!("{op} unanswered by the PBX within {timeout:?}"),
                    );
                    self.group_done(token, Err(e)).await;
                }
            }
        }
        Ok(())
    }

    async fn on_pdu(&mut self, link: &mut Link, pdu: Pdu) -> Result<(), LinkError> {
        match pdu {
            Pdu::Hello { .. } => {}
            Pdu::Acse(AcseApdu::Rlrq(_)) => {
                let _ = link
                    .send(Pdu::Acse(AcseApdu::Rlre(Release::normal())))
                    .await;
                return Err(LinkError::Released);
            }
            Pdu::Acse(AcseApdu::Abrt(_)) => return Err(LinkError::Aborted),
            Pdu::Acse(other) => tracing::debug!("ACSE APDU ignored: {other:?}"),
            Pdu::Rose(RoseApdu::Invoke(inv)) => {
                let id = inv.invoke_id;
                match &inv.argument {
                    Argument::CstaEventReport(report) => {
                        let m = self
                            .mapper
                            .monitored_device(&report.cross_ref_identifier)
                            .unwrap_or("?")
                            .to_string();
                        let call = report.event.connection().and_then(call_ref);
                        tracing::debug!(device = %m, pbx_call = call.as_deref().unwrap_or("-"), event = report.event.name(), "event");
                        for ev in self.mapper.on_event(report) {
                            self.emit(ev).await;
                        }
                    }
                    Argument::SystemStatus(s) => {
                        link.send(requests::system_status_result(id)).await?;
                        if matches!(
                            s.system_status,
                            SystemStatus::Initializing | SystemStatus::Disabled
                        ) {
                            return Err(LinkError::PbxRestart(s.system_status.to_string()));
                        }
                    }
                    other => {
                        tracing::debug!(
                            opcode = other.opcode(),
                            "invoke from the PBX not handled: rejected"
                        );
                        link.send(Pdu::Rose(RoseApdu::Reject(Reject {
                            invoke_id: Some(id),
                            problem: RejectProblem::Invoke(InvokeProblem::UnrecognizedOperation),
                            unknown: vec![],
                        })))
                        .await?;
                    }
                }
            }
            Pdu::Rose(RoseApdu::ReturnResult(rr)) => {
                let Some(o) = self.invokes.complete(rr.invoke_id) else {
                    tracing::debug!(
                        invoke_id = rr.invoke_id,
                        "result for no outstanding invoke (timed out?)"
                    );
                    return Ok(());
                };
                let value = rr.result.as_ref().and_then(|r| r.value.as_ref());
                match o.purpose {
                    Purpose::KeepAlive => self.unanswered_keep_alives = 0,
                    Purpose::Monitor { device } => match value {
                        Some(ResultValue::MonitorStart(m)) => {
                            self.mapper
                                .monitor_started(&device, &m.cross_ref_identifier);
                            tracing::info!(%device, "monitor started");
                            self.emit(PbxEvent::Monitor {
                                device: DeviceId::new(&device),
                                result: Ok(()),
                            })
                            .await;
                            let id = self.allocate(Purpose::Snapshot {
                                device: device.clone(),
                                token: None,
                            })?;
                            link.send(requests::snapshot_device(id, &device)).await?;
                        }
                        _ => {
                            let e = CommandError::new(
                                ErrorCode::Internal,
                                "monitorStart result without a cross reference",
                            );
                            self.emit(PbxEvent::Monitor {
                                device: DeviceId::new(&device),
                                result: Err(e),
                            })
                            .await;
                        }
                    },
                    Purpose::Snapshot { device, token } => match value {
                        Some(ResultValue::SnapshotDevice(s)) => {
                            let ev = self.mapper.snapshot(&device, s);
                            self.emit(ev).await;
                            if let Some(t) = token {
                                self.group_done(t, Ok(None)).await;
                            }
                        }
                        _ => {
                            tracing::warn!(%device, "snapshotDevice result without data");
                            if let Some(t) = token {
                                let e = CommandError::new(
                                    ErrorCode::Internal,
                                    "snapshotDevice result without data",
                                );
                                self.group_done(t, Err(e)).await;
                            }
                        }
                    },
                    Purpose::Command { token, device, .. } => {
                        let call = match value {
                            Some(ResultValue::Connection(c)) => {
                                self.mapper.learn_connection(&c.connection, &device);
                                call_ref(&c.connection)
                            }
                            _ => None,
                        };
                        self.group_done(token, Ok(call)).await;
                    }
                }
            }
            Pdu::Rose(RoseApdu::ReturnError(re)) => {
                let Some(o) = self.invokes.complete(re.invoke_id) else {
                    return Ok(());
                };
                self.failed(o.purpose, |op| commands::return_error(op, &re))
                    .await;
            }
            Pdu::Rose(RoseApdu::Reject(rj)) => {
                let Some(o) = rj.invoke_id.and_then(|id| self.invokes.complete(id)) else {
                    tracing::warn!("the PBX rejected a PDU: {:?}", rj.problem);
                    return Ok(());
                };
                self.failed(o.purpose, |op| commands::reject(op, &rj)).await;
            }
        }
        Ok(())
    }

    async fn failed(&mut self, purpose: Purpose, err: impl Fn(&str) -> CommandError) {
        match purpose {
            Purpose::KeepAlive => {
                // an answer all the same: the link is alive
                self.unanswered_keep_alives = 0;
            }
            Purpose::Monitor { device } => {
                let e = err("monitorStart");
                tracing::error!(%device, code = ?e.code, "monitor refused: {}", e.message);
                self.emit(PbxEvent::Monitor {
                    device: DeviceId::new(&device),
                    result: Err(e),
                })
                .await;
            }
            Purpose::Snapshot { device, token } => {
                let e = err("snapshotDevice");
                tracing::warn!(%device, "{}", e.message);
                if let Some(t) = token {
                    self.group_done(t, Err(e)).await;
                }
            }
            Purpose::Command { token, op, .. } => {
                let e = err(op);
                self.group_done(token, Err(e)).await;
            }
        }
    }
}
