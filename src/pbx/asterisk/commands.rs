//! Model commands as AMI actions: what each [`PbxCommand`] becomes on Asterisk, or why it
//! cannot be done there (`not_supported`, with the reason). Pure: the `Session` sends the
//! actions and turns their responses into the command's one result.

use super::normalise::{Mapper, WRAPUP};
use super::options::Options;
use crate::model::{
    AgentState, CommandError, CommandOutcome, DeviceId, ErrorCode, PbxCommand, PbxEvent,
};
use ctigw_codecs::ami::Action;

/// What to do for one command.
#[derive(Debug)]
pub enum Plan {
    /// Send these actions (in order); the command succeeds when every one succeeds.
    Actions {
        actions: Vec<Action>,
        outcome: CommandOutcome,
    },
    /// Answer at once, after handing these events to the engine.
    Done {
        events: Vec<PbxEvent>,
        result: Result<CommandOutcome, CommandError>,
    },
}

fn not_supported(msg: impl Into<String>) -> CommandError {
    CommandError::new(ErrorCode::NotSupported, msg)
}

fn no_channel(device: &DeviceId, call: &str) -> CommandError {
    CommandError::new(
        ErrorCode::InvalidState,
        format!("device {device} has no channel in call {call} on Asterisk"),
    )
}

fn no_peer(device: &DeviceId, call: &str) -> CommandError {
    CommandError::new(
        ErrorCode::InvalidState,
        format!("call {call} has no other party than device {device} on Asterisk"),
    )
}

fn actions(actions: Vec<Action>) -> Result<Plan, CommandError> {
    Ok(Plan::Actions {
        actions,
        outcome: CommandOutcome::default(),
    })
}

fn my_channel(n: &mut Mapper, call: &str, device: &DeviceId) -> Result<String, CommandError> {
    n.channels_of(call, device)
        .into_iter()
        .next()
        .ok_or_else(|| no_channel(device, call))
}

/// A NOTIFY the phone of `device` acts on (answer, hold), when its model supports one.
fn notify(
    opts: &Options,
    device: &DeviceId,
    op: &str,
    body: impl Fn(&super::options::NotifyModel) -> String,
) -> Result<Plan, CommandError> {
    let Some((_, model)) = opts.notify_model(device) else {
        return Err(not_supported(format!(
            "{op} is not supported by device {device}: Asterisk has no {op} action, and the \
             device's phone model is not one that takes a SIP NOTIFY action URI \
             (phone_models / notify_models in the link options)"
        )));
    };
    let channel = opts.channel_of(device).unwrap_or_default();
    let (tech, resource) = channel.split_once('/').unwrap_or(("PJSIP", channel));
    let action = if tech.eq_ignore_ascii_case("SIP") {
        Action::new("SIPnotify").field("Channel", resource)
    } else {
        Action::new("PJSIPNotify").field("Endpoint", resource)
    };
    actions(vec![
        action
            .field("Variable", format!("Event={}", model.event))
            .field("Variable", "Content-Type=message/sipfrag")
            .field("Variable", format!("Content={}", body(model))),
    ])
}

/// Plans a command. `channel_id` is a fresh id for a channel we originate.
pub fn plan(
    cmd: &PbxCommand,
    n: &mut Mapper,
    opts: &Options,
    channel_id: &str,
) -> Result<Plan, CommandError> {
    let ctx = opts.context.as_str();
    match cmd {
        PbxCommand::MakeCall { device, to } => {
            let channel = opts.channel_of(device).ok_or_else(|| {
                CommandError::new(
                    ErrorCode::UnknownDevice,
                    format!("device {device} has no channel configured on this Asterisk link"),
                )
            })?;
            // the user's own phone rings first; when it answers, Asterisk dials `to` from `ctx`
            let action = Action::new("Originate")
                .field("Channel", channel)
                .field("Context", ctx)
                .field("Exten", to.as_str())
                .field("Priority", "1")
                .field("CallerID", format!("<{device}>"))
                .field("Async", "true")
                .field("ChannelId", channel_id);
            Ok(Plan::Actions {
                actions: vec![action],
                // the first channel's Uniqueid is the call's Linkedid
                outcome: CommandOutcome {
                    call: Some(channel_id.to_string()),
                },
            })
        }
        PbxCommand::Answer { device, .. } => notify(opts, device, "answer", |m| m.answer.clone()),
        PbxCommand::Hold { device, .. } => notify(opts, device, "hold", |m| m.hold.clone()),
        PbxCommand::Retrieve { device, .. } => {
            notify(opts, device, "retrieve", |m| m.retrieve.clone())
        }
        PbxCommand::Hangup { device, call } => {
            let ch = my_channel(n, &call.pbx, device)?;
            actions(vec![
                Action::new("Hangup")
                    .field("Channel", ch)
                    .field("Cause", "16"),
            ])
        }
        PbxCommand::Consult { device, call, to } => {
            let ch = my_channel(n, &call.pbx, device)?;
            actions(vec![
                Action::new("Atxfer")
                    .field("Channel", ch)
                    .field("Exten", to.as_str())
                    .field("Context", ctx),
            ])
        }
        PbxCommand::Transfer {
            device,
            held,
            active,
        } => {
            // join the two other parties, then leave both calls
            let held_peer = n
                .other_channel(&held.pbx, device)
                .ok_or_else(|| no_peer(device, &held.pbx))?;
            let active_peer = n
                .other_channel(&active.pbx, device)
                .ok_or_else(|| no_peer(device, &active.pbx))?;
            let mine_held = my_channel(n, &held.pbx, device)?;
            let mine_active = my_channel(n, &active.pbx, device)?;
            actions(vec![
                Action::new("Bridge")
                    .field("Channel1", held_peer)
                    .field("Channel2", active_peer)
                    .field("Tone", "no"),
                Action::new("Hangup").field("Channel", mine_held),
                Action::new("Hangup").field("Channel", mine_active),
            ])
        }
        PbxCommand::SingleStepTransfer { device, call, to } => {
            let ch = my_channel(n, &call.pbx, device)?;
            actions(vec![
                Action::new("BlindTransfer")
                    .field("Channel", ch)
                    .field("Exten", to.as_str())
                    .field("Context", ctx),
            ])
        }
        PbxCommand::Deflect { device, call, to } => {
            // the caller's channel is sent elsewhere; the ringing leg ends with it
            let peer = n
                .other_channel(&call.pbx, device)
                .ok_or_else(|| no_peer(device, &call.pbx))?;
            actions(vec![
                Action::new("Redirect")
                    .field("Channel", peer)
                    .field("Exten", to.as_str())
                    .field("Context", ctx)
                    .field("Priority", "1"),
            ])
        }
        PbxCommand::SendDigits {
            device,
            call,
            digits,
        } => {
            let peer = n
                .other_channel(&call.pbx, device)
                .ok_or_else(|| no_peer(device, &call.pbx))?;
            actions(
                digits
                    .chars()
                    .map(|d| {
                        Action::new("PlayDTMF")
                            .field("Channel", peer.as_str())
                            .field("Digit", d.to_string())
                    })
                    .collect(),
            )
        }
        PbxCommand::SetAgentState {
            device,
            agent_id,
            state,
            reason,
        } => {
            let iface = agent_id
                .clone()
                .or_else(|| n.interface_of(device))
                .or_else(|| opts.channel_of(device).map(str::to_string))
                .ok_or_else(|| {
                    CommandError::new(
                        ErrorCode::BadRequest,
                        format!("device {device} is not a queue member"),
                    )
                })?;
            let member = n.agent_queue_count(device).unwrap_or(0) > 0;
            let pause = |paused: bool, reason: Option<&str>| {
                let a = Action::new("QueuePause")
                    .field("Interface", iface.as_str())
                    .field("Paused", if paused { "true" } else { "false" });
                match reason {
                    Some(r) => a.field("Reason", r),
                    None => a,
                }
            };
            let per_queue = |name: &str| -> Result<Vec<Action>, CommandError> {
                if opts.queues.is_empty() {
                    return Err(CommandError::new(
                        ErrorCode::NotSupported,
                        format!(
                            "logging device {device} on or off needs the queues to join: set \
                             queues in the link options"
                        ),
                    ));
                }
                Ok(opts
                    .queues
                    .iter()
                    .map(|q| {
                        Action::new(name)
                            .field("Queue", q.as_str())
                            .field("Interface", iface.as_str())
                    })
                    .collect())
            };
            match state {
                AgentState::Ready if !member && !opts.queues.is_empty() => {
                    actions(per_queue("QueueAdd")?)
                }
                AgentState::Ready => actions(vec![pause(false, None)]),
                AgentState::NotReady => actions(vec![pause(true, reason.as_deref())]),
                AgentState::WorkingAfterCall => {
                    // read back as workingAfterCall by the pause reason (normalise::agents)
                    let r = match reason.as_deref() {
                        Some(r) => format!("{WRAPUP}:{r}"),
                        None => WRAPUP.to_string(),
                    };
                    actions(vec![pause(true, Some(&r))])
                }
                AgentState::LoggedOff => actions(per_queue("QueueRemove")?),
                AgentState::Busy | AgentState::Blocked => Err(CommandError::new(
                    ErrorCode::BadRequest,
                    "busy and blocked are reported states, they cannot be set",
                )),
            }
        }
        PbxCommand::Snapshot { device } => Ok(Plan::Done {
            events: vec![n.snapshot_of(device)],
            result: Ok(CommandOutcome::default()),
        }),
        PbxCommand::Conference { .. } => Err(not_supported(
            "conference is not supported on Asterisk links: AMI has no conference action for \
             two existing calls (a ConfBridge must be set up in the dialplan)",
        )),
        PbxCommand::Alternate { .. } => Err(not_supported(
            "alternate is not supported on Asterisk links: it needs hold and retrieve on the \
             phone, which AMI cannot do",
        )),
        PbxCommand::SetForward { .. } | PbxCommand::CancelForward { .. } => Err(not_supported(
            "forwarding is not supported on Asterisk links: Asterisk has no forwarding of its \
             own (it lives in the phones or the dialplan)",
        )),
        PbxCommand::SetDnd { .. } => Err(not_supported(
            "do not disturb is not supported on Asterisk links: Asterisk has no DND of its own \
             (it lives in the phones or the dialplan)",
        )),
    }
}
