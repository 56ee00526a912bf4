//! The Asterisk dialect: a link to the Asterisk Manager Interface (AMI, TCP 5038), in the
//! sans-IO shape quinn-proto gives (a protocol state machine driven by a thin I/O task):
//!
//! - [`normalise`]: the [`Mapper`], sans-IO, AMI messages → model events (also `ctigw replay`);
//! - [`commands`]: model commands → AMI actions, or a clear `not_supported`;
//! - [`options`]: the link's own configuration keys ([`Options`]);
//! - [`session`]: the [`Session`](session::Session), sans-IO: login (plain or MD5 challenge)
//!   asking only for the event classes needed, resynchronisation from `CoreShowChannels` and
//!   `DeviceStateList`, `Ping` keep-alive, exactly one result per command, reconnect decisions;
//! - `link`: the tokio task moving bytes and time between the socket and the session;
//! - `error`: why a session ended (`LinkError`).

pub mod commands;
pub(crate) mod dialect;
mod error;
mod link;
pub mod normalise;
pub mod options;
pub(crate) mod session;
#[cfg(test)]
mod session_tests;

pub use link::run;
pub use normalise::Mapper;
pub use options::Options;
