//! Asterisk Manager Interface: banner, `Key: value` message framing, actions and events.
//!
//! - [`AmiCodec`]: `tokio_util::codec` framing (banner, messages ended by a blank line, CRLF or
//!   LF-only, legacy `Response: Follows` output, limits with recovery at the next blank line).
//! - [`Message`]: ordered fields with repeats, case-insensitive lookup, kind helpers.
//! - [`Action`] / [`ActionIdGen`]: outgoing actions, injection-safe encoding, unique ids.
//! - [`Correlator`]: sans-IO matching of responses and event lists to their actions.
//!
//! The parser is hand-written (a line state machine; newline search through nom 8's
//! memchr-backed `FindSubstring`): AMI is line-oriented with no nesting, and a scanner that
//! consumes each complete line once is simpler and faster over a streaming buffer than nom
//! combinators that would re-parse a message each time more bytes arrive.

pub mod action;
pub mod codec;
pub mod correlate;
pub mod error;
pub mod fuzz;
pub mod message;

pub use action::{Action, ActionIdGen};
pub use codec::{AmiCodec, BANNER_PREFIX, Item, Limits};
pub use correlate::{Correlated, Correlator, EventList, Pending};
pub use error::{EncodeError, MessageError};
pub use message::{END_COMMAND, EventListMark, Message, MessageKind};
