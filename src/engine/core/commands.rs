//! Client commands: validating them against the call state, resolving them into adapter
//! requests, and ending each one exactly once (result, failure, link down or time-out).

use super::{ApiEvent, CommandReply, Engine, Output};
use crate::model::{
    AgentState, CallId, CallRef, Command, CommandError, CommandOutcome, ConnectionState, DeviceId,
    ErrorCode, LinkId, LinkStatus, PbxCommand,
};
use std::time::{Duration, Instant};

/// A request sent to an adapter, waiting for its result.
pub(super) struct Pending {
    pub(super) op: &'static str,
    pub(super) link: LinkId,
    pub(super) deadline: Instant,
    /// The connection marked `answering` by this command.
    pub(super) answering: Option<(CallId, DeviceId)>,
}

impl Engine {
    pub(super) fn live_ref(
        &self,
        call_id: &CallId,
        device: &DeviceId,
    ) -> Result<(CallRef, ConnectionState), CommandError> {
        let call = self.calls.get(call_id).ok_or_else(|| {
            CommandError::new(
                ErrorCode::UnknownCall,
                format!("no call {call_id} in progress"),
            )
        })?;
        let conn = call.connection(device).ok_or_else(|| {
            CommandError::new(
                ErrorCode::UnknownCall,
                format!("device {device} is not in call {call_id}"),
            )
        })?;
        Ok((CallRef::new(&call.link, &call.pbx_call_id), conn.state))
    }

    pub(super) fn dial(&self, to: &str) -> Result<String, CommandError> {
        self.cfg
            .dialplan
            .to_dial(to)
            .map_err(|e| CommandError::new(ErrorCode::BadRequest, e.to_string()))
    }

    pub(super) fn expect(
        state: ConnectionState,
        allowed: &[ConnectionState],
        what: &str,
        call: &CallId,
    ) -> Result<(), CommandError> {
        if allowed.contains(&state) {
            Ok(())
        } else {
            let names: Vec<String> = allowed
                .iter()
                .map(|s| format!("{s:?}").to_lowercase())
                .collect();
            Err(CommandError::new(
                ErrorCode::InvalidState,
                format!(
                    "cannot {what} call {call}: the connection is {}, it must be {}",
                    format!("{state:?}").to_lowercase(),
                    names.join(" or ")
                ),
            ))
        }
    }

    /// Validates a client command, resolves it for its adapter and queues the request. Returns
    /// the token whose [`Output::Done`] will carry the result, or the error at once.
    pub fn command(&mut self, cmd: Command, now: Instant) -> Result<u64, CommandError> {
        let r = self.validate_and_send(cmd, now);
        if r.is_err() {
            self.counters.commands_failed += 1;
        }
        r
    }

    pub(super) fn validate_and_send(
        &mut self,
        cmd: Command,
        now: Instant,
    ) -> Result<u64, CommandError> {
        use ConnectionState as S;
        let device = cmd.device().clone();
        let link = self
            .devices
            .get(&device)
            .map(|d| d.link.clone())
            .ok_or_else(|| {
                CommandError::new(
                    ErrorCode::UnknownDevice,
                    format!("device {device} is not configured on any link"),
                )
            })?;
        match self.links.get(&link).map(|l| l.status) {
            Some(LinkStatus::Up) => {}
            _ => {
                return Err(CommandError::new(
                    ErrorCode::LinkDown,
                    format!("link {link}, which owns device {device}, is not up"),
                ));
            }
        }
        let mut answering = None;
        let op = cmd.op();
        let pbx = match cmd {
            Command::MakeCall { device, to } => PbxCommand::MakeCall {
                device,
                to: self.dial(&to)?,
            },
            Command::Answer { device, call_id } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Alerting, S::Queued], "answer", &call_id)?;
                answering = Some((call_id, device.clone()));
                PbxCommand::Answer { device, call }
            }
            Command::Hangup { device, call_id } => {
                let (call, _) = self.live_ref(&call_id, &device)?;
                PbxCommand::Hangup { device, call }
            }
            Command::Hold { device, call_id } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Connected], "hold", &call_id)?;
                PbxCommand::Hold { device, call }
            }
            Command::Retrieve { device, call_id } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Held], "retrieve", &call_id)?;
                PbxCommand::Retrieve { device, call }
            }
            Command::Consult {
                device,
                call_id,
                to,
            } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Connected, S::Held], "consult from", &call_id)?;
                PbxCommand::Consult {
                    device,
                    call,
                    to: self.dial(&to)?,
                }
            }
            Command::Transfer {
                device,
                held_call_id,
                active_call_id,
            }
            | Command::Conference {
                device,
                held_call_id,
                active_call_id,
            }
            | Command::Alternate {
                device,
                held_call_id,
                active_call_id,
            } => {
                let (held, hs) = self.live_ref(&held_call_id, &device)?;
                let (active, as_) = self.live_ref(&active_call_id, &device)?;
                Self::expect(hs, &[S::Held], op, &held_call_id)?;
                Self::expect(
                    as_,
                    &[S::Connected, S::Initiated, S::Alerting],
                    op,
                    &active_call_id,
                )?;
                match op {
                    "transfer" => PbxCommand::Transfer {
                        device,
                        held,
                        active,
                    },
                    "conference" => PbxCommand::Conference {
                        device,
                        held,
                        active,
                    },
                    _ => PbxCommand::Alternate {
                        device,
                        held,
                        active,
                    },
                }
            }
            Command::Deflect {
                device,
                call_id,
                to,
            } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Alerting, S::Queued], "deflect", &call_id)?;
                PbxCommand::Deflect {
                    device,
                    call,
                    to: self.dial(&to)?,
                }
            }
            Command::SingleStepTransfer {
                device,
                call_id,
                to,
            } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Connected, S::Held], "transfer", &call_id)?;
                PbxCommand::SingleStepTransfer {
                    device,
                    call,
                    to: self.dial(&to)?,
                }
            }
            Command::SendDigits {
                device,
                call_id,
                digits,
            } => {
                let (call, st) = self.live_ref(&call_id, &device)?;
                Self::expect(st, &[S::Connected], "send digits on", &call_id)?;
                if digits.is_empty()
                    || !digits
                        .chars()
                        .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D'))
                {
                    return Err(CommandError::new(
                        ErrorCode::BadRequest,
                        format!("digits \"{digits}\" must be 0-9, *, # or A-D"),
                    ));
                }
                PbxCommand::SendDigits {
                    device,
                    call,
                    digits,
                }
            }
            Command::SetForward { device, kind, to } => PbxCommand::SetForward {
                device,
                kind,
                to: self.dial(&to)?,
            },
            Command::CancelForward { device, kind } => PbxCommand::CancelForward { device, kind },
            Command::SetDnd { device, enabled } => PbxCommand::SetDnd { device, enabled },
            Command::SetAgentState {
                device,
                state,
                agent_id,
                reason,
            } => {
                if matches!(state, AgentState::Busy | AgentState::Blocked) {
                    return Err(CommandError::new(
                        ErrorCode::BadRequest,
                        "busy and blocked are reported states, they cannot be set",
                    ));
                }
                let agent_id = agent_id.or_else(|| self.agents.get(&device).map(|a| a.id.clone()));
                PbxCommand::SetAgentState {
                    device,
                    agent_id,
                    state,
                    reason,
                }
            }
        };
        Ok(self.send(link, op, pbx, answering, now))
    }

    /// Queues a request of the engine's own (snapshot, blocked-agent release).
    pub(super) fn send(
        &mut self,
        link: LinkId,
        op: &'static str,
        command: PbxCommand,
        answering: Option<(CallId, DeviceId)>,
        now: Instant,
    ) -> u64 {
        self.next_token += 1;
        let token = self.next_token;
        if let Some((call_id, device)) = &answering {
            self.set_answering(call_id, device, true);
        }
        self.pending.insert(
            token,
            Pending {
                op,
                link: link.clone(),
                deadline: now + self.cfg.command_timeout,
                answering,
            },
        );
        self.out.push(Output::Request {
            link,
            token,
            command,
        });
        token
    }

    /// The adapter could not take the request at all (queue full, link gone).
    pub fn request_not_sent(&mut self, token: u64, err: CommandError) {
        self.finish(token, Err(err));
    }

    pub(super) fn on_command_result(
        &mut self,
        link: &LinkId,
        token: u64,
        result: Result<CommandOutcome, CommandError>,
        now: Instant,
    ) {
        if !self.pending.contains_key(&token) {
            tracing::debug!(%link, token, "result for a command that already ended (timed out?)");
            return;
        }
        let result = result.map(|o| {
            let call_id =
                o.call
                    .map(|pbx| CallRef::new(link, &pbx))
                    .map(|r| match self.refs.get(&r) {
                        Some(id) => id.clone(),
                        None => {
                            let id = self.new_call_id();
                            self.reserved
                                .insert(r, (id.clone(), now + Duration::from_secs(60)));
                            id
                        }
                    });
            CommandReply { call_id }
        });
        self.finish(token, result);
    }

    pub(super) fn finish(&mut self, token: u64, result: Result<CommandReply, CommandError>) {
        let Some(p) = self.pending.remove(&token) else {
            return;
        };
        match &result {
            Ok(_) => self.counters.commands_ok += 1,
            Err(e) => {
                self.counters.commands_failed += 1;
                tracing::info!(link = %p.link, token, op = p.op, code = ?e.code, "command failed: {}", e.message);
            }
        }
        if result.is_err()
            && let Some((call_id, device)) = &p.answering
        {
            // the answer failed: the leg rings again
            self.set_answering(call_id, device, false);
        }
        self.out.push(Output::Done { token, result });
    }

    /// Marks a ringing leg as being answered (or not any more) and tells its clients.
    pub(super) fn set_answering(&mut self, call_id: &CallId, device: &DeviceId, on: bool) {
        let Some(call) = self.calls.get_mut(call_id) else {
            return;
        };
        let Some(conn) = call.connection_mut(device) else {
            return;
        };
        if conn.answering == on {
            return;
        }
        conn.answering = on;
        let snapshot = call.clone();
        let devs = snapshot.monitored_devices().cloned().collect();
        self.emit(
            ApiEvent::Call {
                event: "call.updated",
                call: snapshot,
            },
            devs,
        );
    }
}
