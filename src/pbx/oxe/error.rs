//! Why an OXE/OXO session ended: the typed error the [`Session`](super::session::Session)
//! reports as the link's `Down` reason and bases its reconnect decision on.

use ctigw_codecs::csta_ber::FrameError;
use std::time::Duration;
use thiserror::Error;

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
