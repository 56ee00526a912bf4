//! What can go wrong decoding or encoding AMI: per-message errors (the stream goes on) and
//! encode refusals.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use thiserror::Error;

/// A message that could not be decoded. The codec has already skipped to the next blank line,
/// so the next item is the next message. Offsets count bytes from the start of the stream.
#[derive(Debug, Clone, PartialEq, Eq, Error, serde::Serialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum MessageError {
    #[error("line at byte {offset} exceeds the line-length limit of {limit} bytes")]
    LineTooLong { limit: usize, offset: u64 },
    #[error("message at byte {offset} exceeds the message-size limit of {limit} bytes")]
    MessageTooLong { limit: usize, offset: u64 },
    #[error("message at byte {offset} exceeds the header-count limit of {limit} lines")]
    TooManyHeaders { limit: usize, offset: u64 },
    #[error("line at byte {offset} is not `Key: value` (no colon): {line:?}")]
    MissingColon { line: String, offset: u64 },
    #[error("line at byte {offset} has an empty key: {line:?}")]
    EmptyKey { line: String, offset: u64 },
    #[error("carriage return inside a line at byte {offset}")]
    BareCr { offset: u64 },
    #[error("expected the banner `Asterisk Call Manager/<version>`, got {line:?}")]
    MissingBanner { line: String },
    #[error("stream ended inside a message starting at byte {offset}")]
    Truncated { offset: u64 },
    /// Only from [`crate::WireDecode`]: the input holds more than the one message.
    #[error("bytes after the message, from byte {offset}")]
    Trailing { offset: u64 },
}

impl MessageError {
    /// Byte offset in the stream the error refers to, when it has one.
    pub fn offset(&self) -> Option<u64> {
        match self {
            MessageError::LineTooLong { offset, .. }
            | MessageError::MessageTooLong { offset, .. }
            | MessageError::TooManyHeaders { offset, .. }
            | MessageError::MissingColon { offset, .. }
            | MessageError::EmptyKey { offset, .. }
            | MessageError::BareCr { offset }
            | MessageError::Truncated { offset }
            | MessageError::Trailing { offset } => Some(*offset),
            MessageError::MissingBanner { .. } => None,
        }
    }
}

/// Why a message or action was not encoded. Nothing is written when encoding fails.
#[derive(Debug, Error)]
pub enum EncodeError {
    #[error("value of {key:?} contains CR or LF (header injection)")]
    LineBreakInValue { key: String },
    #[error("invalid key {key:?}: empty, contains a colon, CR/LF or surrounding whitespace")]
    InvalidKey { key: String },
    #[error("message has no field")]
    Empty,
    #[error("command output on a message that is not `Response: Follows`")]
    OutputWithoutFollows,
    #[error("command output line ends with `--END COMMAND--`")]
    EndCommandInOutput,
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Shortens a line for an error message: at most 80 characters, lossy UTF-8.
pub(crate) fn excerpt(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}...", s.get(..i).unwrap_or_default()),
        None => s.into_owned(),
    }
}
