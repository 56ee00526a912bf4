//! PBX adapters, one per dialect: each owns its link (connect, associate or log in, keep
//! alive, monitor, reconnect with backoff, resynchronise by snapshot), maps its PDUs to model
//! [`PbxEvent`](crate::model::PbxEvent)s and executes [`PbxCommand`](crate::model::PbxCommand)s.
//!
//! Each adapter folder registers its dialects in [`registry`] (its `dialect.rs`); the types
//! of the contract are in [`contract`]. The contract every adapter keeps with the engine:
//! - it reports `PbxEvent::Link` on every change (`Connecting`, `Up`, `Down { reason }`),
//!   `PbxEvent::Monitor` for every configured device after each (re)connect (the error names
//!   the PBX's cause, e.g. `overallMonitorLimitExceeded`), and then a `PbxEvent::Snapshot` per
//!   device so the engine clears calls that ended while the link was down;
//! - every `AdapterRequest` gets exactly one `PbxEvent::CommandResult` with its token:
//!   success, or a `CommandError` whose code is stable and whose message names the PBX's
//!   cause; a command the dialect or device cannot do is `ErrorCode::NotSupported`;
//! - it never blocks its socket reader on the engine for long (Asterisk drops slow readers):
//!   the engine's input queue is deep, and the adapter reads into its own buffer;
//! - logs carry the link, the device and the PBX call id in their span or fields.
//!
//! The sans-IO part of each adapter (PDU → events) also implements
//! [`Replayer`](contract::Replayer) so `ctigw replay` and the fixture tests run
//! captures through exactly the code the live link uses.

pub mod asterisk;
pub mod backoff;
pub(crate) mod command_group;
pub mod contract;
pub mod csta_calls;
pub mod csta_xml;
pub mod oxe;
pub mod registry;

use crate::model::{CommandError, ErrorCode, LinkState, PbxEvent};
use crate::pbx::contract::{AdapterRequest, LinkSink};
use std::time::Duration;
use tokio::sync::mpsc;

/// A session that stayed up this long was healthy: the next reconnect starts from the
/// shortest backoff delay again.
pub const STABLE_AFTER: Duration = Duration::from_secs(30);

/// What every adapter does between two sessions: tell the engine the link is down and why,
/// wait the backoff delay (from the shortest again if the last session stayed up for
/// [`STABLE_AFTER`]), and answer every request that arrives meanwhile with `link_down`
/// naming the reason. Returns false when the engine has gone and the adapter should stop.
pub async fn wait_to_reconnect(
    sink: &LinkSink,
    requests: &mut mpsc::Receiver<AdapterRequest>,
    backoff: &mut backoff::Backoff,
    pbx: &str,
    reason: &str,
    up_for: Option<Duration>,
) -> bool {
    tracing::warn!("{pbx} link down: {reason}");
    if !sink
        .send(PbxEvent::Link(LinkState::Down {
            reason: reason.to_string(),
        }))
        .await
    {
        return false;
    }
    if up_for.is_some_and(|d| d >= STABLE_AFTER) {
        backoff.reset();
    }
    let delay = backoff.next_delay();
    tracing::info!(
        ?delay,
        attempt = backoff.attempts(),
        "reconnecting to the {pbx} after a pause"
    );
    let until = tokio::time::Instant::now() + delay;
    loop {
        tokio::select! {
            _ = tokio::time::sleep_until(until) => return true,
            r = requests.recv() => match r {
                None => return false,
                Some(r) => {
                    let e = CommandError::new(ErrorCode::LinkDown, format!("the {pbx} link is down ({reason}); reconnecting"));
                    if !sink.send(PbxEvent::CommandResult { token: r.token, result: Err(e) }).await {
                        return false;
                    }
                }
            }
        }
    }
}
