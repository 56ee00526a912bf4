//! The transport-neutral session of a CSTA XML link, sans-IO: request identifiers (unique
//! among the outstanding, with deadlines), monitors started per device then resynchronised by
//! SnapshotDevice, commands planned into requests, answers turned into exactly one result per
//! command, events through the [`Mapper`]. The TCP link numbers requests with the header's
//! invokeID; the uaCSTA link sends each as an INFO and hands the 200 OK's body back with the
//! same identifier.

use super::commands::{self, Planned, csta_error};
use super::mapping::Mapper;
use super::options::Options;
use crate::model::{CommandError, CommandOutcome, DeviceId, ErrorCode, PbxCommand, PbxEvent};
use crate::pbx::command_group::CommandGroup;
use crate::pbx::contract::AdapterRequest;
use ctigw_codecs::csta_xml::{Message, requests};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Largest identifier (the TCP header's four digits; 9999 is left to the switch).
const MAX_ID: u16 = 9998;

/// What a request was for.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    Monitor {
        device: String,
    },
    Snapshot {
        device: String,
        token: Option<u64>,
    },
    Command {
        token: u64,
        op: &'static str,
        device: String,
    },
    /// ResetApplicationSessionTimer (TCP) or another session-level request.
    KeepAlive,
}

/// A request ready to go out: its identifier, the device it concerns (uaCSTA routes it to
/// that line's dialog), the document.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: u16,
    pub device: Option<String>,
    pub msg: Message,
}

/// The session state of one CSTA XML link. The mapper (and its call table) outlives sessions;
/// the rest starts afresh with [`Session::handle_session_up`].
///
/// Call order (the transport task, `tcp.rs` or `uacsta.rs`, owns the socket and the
/// transport's own session: ECMA-354 application session or SIP dialogs):
///
/// 1. [`handle_session_up`](Self::handle_session_up) once the transport session is up: it
///    queues a MonitorStart per device (each followed by a SnapshotDevice once answered).
/// 2. Feed what comes in: [`handle_event`](Self::handle_event) for every event document,
///    [`handle_response`](Self::handle_response) for every answer to one of our requests (by
///    its identifier), [`handle_failure`](Self::handle_failure) when the transport could not
///    deliver a request, [`handle_request`](Self::handle_request) for every engine request,
///    [`handle_timeout`](Self::handle_timeout) once [`poll_timeout`](Self::poll_timeout) has
///    passed.
/// 3. After each, send what [`poll_transmit`](Self::poll_transmit) gives (or drain
///    [`Session::out`]) and hand [`poll_event`](Self::poll_event)'s events to the engine.
/// 4. When the transport session ends, [`handle_closed`](Self::handle_closed): every
///    command still waiting gets its one result; the task decides when to reconnect.
pub struct Session {
    pub mapper: Mapper,
    pub opts: Options,
    devices: Vec<DeviceId>,
    pending: HashMap<u16, (Purpose, Instant)>,
    groups: HashMap<u64, CommandGroup>,
    next_id: u16,
    /// Requests to send, in order.
    pub out: Vec<Outgoing>,
    /// Events for the engine, in order.
    pub events: Vec<PbxEvent>,
    pub keepalive_misses: u32,
    /// Name of the PBX in messages ("OpenScape", "uaCSTA gateway").
    pbx: &'static str,
}

impl Session {
    pub fn new(opts: Options, devices: Vec<DeviceId>, pbx: &'static str) -> Self {
        Session {
            mapper: Mapper::new(),
            opts,
            devices,
            pending: HashMap::new(),
            groups: HashMap::new(),
            next_id: 1,
            out: Vec::new(),
            events: Vec::new(),
            keepalive_misses: 0,
            pbx,
        }
    }

    /// The next event for the engine (the same as draining [`Session::events`] in order).
    pub fn poll_event(&mut self) -> Option<PbxEvent> {
        (!self.events.is_empty()).then(|| self.events.remove(0))
    }

    /// The next request to send (the same as draining [`Session::out`] in order).
    pub fn poll_transmit(&mut self) -> Option<Outgoing> {
        (!self.out.is_empty()).then(|| self.out.remove(0))
    }

    pub fn devices(&self) -> &[DeviceId] {
        &self.devices
    }

    pub fn outstanding(&self) -> usize {
        self.pending.len()
    }

    /// A fresh identifier, unique among the outstanding; `None` when all are in use.
    pub fn allocate_id(&mut self) -> Option<u16> {
        for _ in 0..MAX_ID {
            let id = self.next_id;
            self.next_id = if id >= MAX_ID { 1 } else { id + 1 };
            if !self.pending.contains_key(&id) {
                return Some(id);
            }
        }
        None
    }

    /// Queues a request; `None` when every identifier is in use.
    pub fn send(
        &mut self,
        purpose: Purpose,
        device: Option<String>,
        msg: Message,
        now: Instant,
    ) -> Option<u16> {
        let id = self.allocate_id()?;
        self.pending
            .insert(id, (purpose, now + self.opts.request_timeout));
        self.out.push(Outgoing { id, device, msg });
        Some(id)
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.values().map(|(_, d)| *d).min()
    }

    /// A session is up: every monitor is gone on the PBX side; start one per device.
    pub fn handle_session_up(&mut self, now: Instant) -> Result<(), &'static str> {
        self.mapper.monitors_lost();
        self.keepalive_misses = 0;
        let max = self.opts.max_monitors.unwrap_or(usize::MAX);
        for (i, d) in self.devices.clone().iter().enumerate() {
            if i >= max {
                let e = CommandError::new(
                    ErrorCode::ResourceLimit,
                    format!("not monitored: options.max_monitors = {max}"),
                );
                self.events.push(PbxEvent::Monitor {
                    device: d.clone(),
                    result: Err(e),
                });
                continue;
            }
            self.send(
                Purpose::Monitor {
                    device: d.to_string(),
                },
                Some(d.to_string()),
                requests::monitor_start(d.as_str()),
                now,
            )
            .ok_or("every request identifier is in use")?;
        }
        Ok(())
    }

    /// Sends a keep-alive (ResetApplicationSessionTimer for `session_id`).
    pub fn keep_alive(&mut self, session_id: &str, duration: u32, now: Instant) -> Option<u16> {
        self.send(
            Purpose::KeepAlive,
            None,
            requests::reset_application_session_timer(session_id, Some(duration)),
            now,
        )
    }

    fn result(&mut self, token: u64, result: Result<CommandOutcome, CommandError>) {
        self.events.push(PbxEvent::CommandResult { token, result });
    }

    /// A command from the engine: its requests queued, or its one result at once.
    pub fn handle_request(&mut self, now: Instant, r: AdapterRequest) {
        let op = r.command.op();
        let device = r.command.device().to_string();
        let span = tracing::debug_span!("command", token = r.token, op, %device);
        let _g = span.enter();
        let planned: Vec<Planned> = match commands::plan(&r.command, &self.mapper, &self.opts) {
            Ok(p) => p,
            Err(e) => return self.result(r.token, Err(e)),
        };
        if self.pending.len() + planned.len() > MAX_ID as usize - 10 {
            let e = CommandError::new(ErrorCode::Busy, "too many requests waiting for the PBX");
            return self.result(r.token, Err(e));
        }
        self.groups
            .insert(r.token, CommandGroup::new(planned.len()));
        for p in planned {
            let purpose = match &r.command {
                PbxCommand::Snapshot { device } => Purpose::Snapshot {
                    device: device.to_string(),
                    token: Some(r.token),
                },
                _ => Purpose::Command {
                    token: r.token,
                    op: p.op,
                    device: device.clone(),
                },
            };
            if self
                .send(purpose, Some(device.clone()), p.msg, now)
                .is_none()
            {
                self.group_done(
                    r.token,
                    Err(CommandError::new(
                        ErrorCode::Busy,
                        "every request identifier is in use",
                    )),
                );
            } else {
                tracing::debug!(op = p.op, "request queued");
            }
        }
    }

    fn group_done(&mut self, token: u64, r: Result<Option<String>, CommandError>) {
        let Some(g) = self.groups.get_mut(&token) else {
            return;
        };
        if g.answered(r)
            && let Some(g) = self.groups.remove(&token)
        {
            self.result(token, g.result());
        }
    }

    /// An event from the PBX.
    pub fn handle_event(&mut self, msg: &Message) {
        let xref = msg.monitor_cross_ref_id().unwrap_or("-");
        let device = self
            .mapper
            .monitored_device(xref)
            .unwrap_or("?")
            .to_string();
        let pbx_call = super::mapping::event_call(msg).unwrap_or("-");
        tracing::debug!(%device, pbx_call, event = msg.element_name(), "event");
        let evs = self.mapper.on_message(msg);
        self.events.extend(evs);
    }

    /// The answer to request `id` (positive or `CSTAErrorCode`). Returns the purpose it
    /// answered, `None` for an answer to nothing outstanding (timed out, say).
    pub fn handle_response(&mut self, id: u16, msg: &Message, now: Instant) -> Option<Purpose> {
        let Some((purpose, _)) = self.pending.remove(&id) else {
            tracing::debug!(
                id,
                answer = msg.element_name(),
                "answer to no outstanding request"
            );
            return None;
        };
        let refused = match msg {
            Message::CstaErrorCode(e) => Some(e.clone()),
            _ => None,
        };
        match purpose.clone() {
            Purpose::KeepAlive => self.keepalive_misses = 0,
            Purpose::Monitor { device } => match (msg, refused) {
                (Message::MonitorStartResponse(r), _) => {
                    self.mapper
                        .monitor_started(&device, &r.monitor_cross_ref_id);
                    tracing::info!(%device, cross_ref = %r.monitor_cross_ref_id, "monitor started");
                    self.events.push(PbxEvent::Monitor {
                        device: DeviceId::new(&device),
                        result: Ok(()),
                    });
                    let snap = requests::snapshot_device(device.as_str());
                    let p = Purpose::Snapshot {
                        device: device.clone(),
                        token: None,
                    };
                    if self.send(p, Some(device.clone()), snap, now).is_none() {
                        tracing::warn!(%device, "no identifier left for the snapshot");
                    }
                }
                (_, Some(e)) => {
                    let e = csta_error("MonitorStart", &e);
                    tracing::error!(%device, code = ?e.code, "monitor refused: {}", e.message);
                    self.events.push(PbxEvent::Monitor {
                        device: DeviceId::new(&device),
                        result: Err(e),
                    });
                }
                (other, None) => {
                    let e = CommandError::new(
                        ErrorCode::Internal,
                        format!("MonitorStart answered by {}", other.element_name()),
                    );
                    self.events.push(PbxEvent::Monitor {
                        device: DeviceId::new(&device),
                        result: Err(e),
                    });
                }
            },
            Purpose::Snapshot { device, token } => match (msg, refused) {
                (Message::SnapshotDeviceResponse(r), _) => {
                    let ev = self.mapper.snapshot(&device, r);
                    self.events.push(ev);
                    if let Some(t) = token {
                        self.group_done(t, Ok(None));
                    }
                }
                (other, e) => {
                    let e = match e {
                        Some(e) => csta_error("SnapshotDevice", &e),
                        None => CommandError::new(
                            ErrorCode::Internal,
                            format!("SnapshotDevice answered by {}", other.element_name()),
                        ),
                    };
                    tracing::warn!(%device, "{}", e.message);
                    if let Some(t) = token {
                        self.group_done(t, Err(e));
                    }
                }
            },
            Purpose::Command { token, op, device } => {
                if let Some(e) = refused {
                    self.group_done(token, Err(csta_error(op, &e)));
                } else {
                    let call = commands::response_connection(msg)
                        .and_then(|c| self.mapper.learn_connection(c, &device));
                    self.group_done(token, Ok(call));
                }
            }
        }
        Some(purpose)
    }

    /// A request that could not be sent or was refused below CSTA (SIP error status).
    pub fn handle_failure(&mut self, id: u16, why: CommandError) {
        let Some((purpose, _)) = self.pending.remove(&id) else {
            return;
        };
        self.fail(purpose, why);
    }

    fn fail(&mut self, purpose: Purpose, e: CommandError) {
        match purpose {
            Purpose::KeepAlive => self.keepalive_misses += 1,
            Purpose::Monitor { device } => self.events.push(PbxEvent::Monitor {
                device: DeviceId::new(&device),
                result: Err(e),
            }),
            Purpose::Snapshot { device, token } => {
                tracing::warn!(%device, "snapshot failed: {}", e.message);
                if let Some(t) = token {
                    self.group_done(t, Err(e));
                }
            }
            Purpose::Command { token, .. } => self.group_done(token, Err(e)),
        }
    }

    /// Requests past their deadline fail with `timeout`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<u16> = self
            .pending
            .iter()
            .filter(|(_, (_, d))| *d <= now)
            .map(|(id, _)| *id)
            .collect();
        let t: Duration = self.opts.request_timeout;
        for id in due {
            if let Some((p, _)) = self.pending.remove(&id) {
                let what = match &p {
                    Purpose::Monitor { .. } => "MonitorStart",
                    Purpose::Snapshot { .. } => "SnapshotDevice",
                    Purpose::Command { op, .. } => op,
                    Purpose::KeepAlive => "ResetApplicationSessionTimer",
                };
                tracing::warn!(id, what, "unanswered by the {} within {t:?}", self.pbx);
                let e = CommandError::new(
                    ErrorCode::Timeout,
                    format!("{what} unanswered by the {} within {t:?}", self.pbx),
                );
                self.fail(p, e);
            }
        }
    }

    /// The session is over: every command still waiting gets its one result.
    pub fn handle_closed(&mut self) {
        self.pending.clear();
        self.out.clear();
        let tokens: Vec<u64> = self.groups.drain().map(|(t, _)| t).collect();
        for token in tokens {
            let e = CommandError::new(
                ErrorCode::LinkDown,
                format!("the {} link went down before the PBX answered", self.pbx),
            );
            self.result(token, Err(e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LinkId;
    use ctigw_codecs::csta_xml::{CstaErrorCode, ErrorCategory, MonitorStartResponse};

    #[test]
    fn monitor_then_snapshot_and_one_result_per_command() {
        let now = Instant::now();
        let mut c = Session::new(
            Options::defaults("csta-xml-tcp"),
            vec![DeviceId::new("24101"), DeviceId::new("24102")],
            "OpenScape",
        );
        c.handle_session_up(now).unwrap();
        assert_eq!(c.out.len(), 2);
        let ids: Vec<u16> = c.out.drain(..).map(|o| o.id).collect();
        let ok = Message::MonitorStartResponse(MonitorStartResponse {
            monitor_cross_ref_id: "7".into(),
            extensions: vec![],
        });
        c.handle_response(ids[0], &ok, now);
        assert!(matches!(c.out[0].msg, Message::SnapshotDevice(_)));
        let refused = Message::CstaErrorCode(CstaErrorCode::new(
            ErrorCategory::SystemResourceAvailability,
            "overallMonitorLimitExceeded",
        ));
        c.handle_response(ids[1], &refused, now);
        let PbxEvent::Monitor { result: Err(e), .. } = &c.events[1] else {
            panic!()
        };
        assert!(e.message.contains("overallMonitorLimitExceeded"));
        // a command that times out gets exactly one result
        c.events.clear();
        let call = crate::model::CallRef::new(&LinkId::new("l"), "X");
        c.handle_request(
            now,
            AdapterRequest {
                token: 5,
                command: PbxCommand::Hold {
                    device: DeviceId::new("24101"),
                    call,
                },
            },
        );
        c.handle_timeout(now + Duration::from_secs(60));
        c.handle_closed();
        let results = c
            .events
            .iter()
            .filter(|e| matches!(e, PbxEvent::CommandResult { token: 5, .. }))
            .count();
        assert_eq!(results, 1);
    }
}
