//! AMI framing as a `tokio_util::codec` Decoder/Encoder: the banner line, then `Key: value`
//! messages ended by a blank line, with limits and recovery at the next blank line.
//!
//! Hand-written line scanner (the newline search is nom's memchr-backed `FindSubstring`): a
//! line-oriented state machine is shorter and faster here than nom combinators over a
//! streaming buffer. Each complete line is consumed once and appended to the message being
//! built, so a message is never re-scanned however it is split across reads, and the buffer
//! never holds more than one partial line (at most `max_line` bytes).

use bytes::{Buf, BytesMut};
use nom::FindSubstring;
use tokio_util::codec::{Decoder, Encoder};

use super::action::Action;
use super::error::{EncodeError, MessageError, excerpt};
use super::message::{END_COMMAND, Message};
use crate::wire::{WireDecode, WireEncode};

/// The banner prefix; the version after the `/` is not matched (it moved from 1.x to 9.x and on).
pub const BANNER_PREFIX: &str = "Asterisk Call Manager";

/// Decoding limits. Exceeding one yields a [`MessageError`] naming it, then the codec skips to
/// the next blank line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    /// Longest line, terminator excluded (bytes). Default 16 KiB.
    pub max_line: usize,
    /// Most `Key: value` lines (plus command output lines) in one message. Default 4096.
    pub max_headers: usize,
    /// Largest message, line terminators and the closing blank line included. Default 1 MiB.
    pub max_message: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 16 * 1024,
            max_headers: 4096,
            max_message: 1024 * 1024,
        }
    }
}

impl Limits {
    /// No practical limit (for re-decoding trusted bytes in tests and tools).
    pub fn unlimited() -> Self {
        Limits {
            max_line: usize::MAX,
            max_headers: usize::MAX,
            max_message: usize::MAX,
        }
    }
}

/// One decoded item: a message, or why the bytes up to the next blank line were not one.
pub type Item = Result<Message, MessageError>;

#[derive(Debug, Clone)]
struct Partial {
    msg: Message,
    /// Stream offset of the first line.
    start: u64,
    /// Bytes consumed so far, terminators included.
    len: usize,
    /// Header and output lines so far.
    lines: usize,
    /// A legacy `Response: Follows`: ends at `--END COMMAND--`, not at a blank line.
    follows: bool,
    /// In a `Follows`, still reading `Key: value` headers (before the first output line).
    follows_headers: bool,
    /// The first error in this message; the rest of it is skipped.
    error: Option<MessageError>,
}

#[derive(Debug, Clone)]
enum Mode {
    /// Waiting for `Asterisk Call Manager/<version>`.
    Banner,
    /// Between messages (blank lines are skipped).
    Idle,
    Message(Box<Partial>),
    /// Skipping to the next blank line after an error. `partial_nonblank`: bytes of the current
    /// line already dropped were not all CR.
    Discard {
        partial_nonblank: bool,
    },
}

/// The AMI framing codec. A client codec ([`AmiCodec::client`]) expects the banner first and
/// exposes its version; a server codec ([`AmiCodec::server`], for a simulated Asterisk) reads
/// actions without one. Encodes [`Message`]s and [`Action`]s.
#[derive(Debug, Clone)]
pub struct AmiCodec {
    limits: Limits,
    mode: Mode,
    version: Option<String>,
    /// Stream offset of the first byte still in the caller's buffer.
    offset: u64,
}

impl Default for AmiCodec {
    fn default() -> Self {
        Self::server()
    }
}

fn find_lf(data: &[u8]) -> Option<usize> {
    data.find_substring(&b"\n"[..])
}

/// The line without its trailing CRs (CRLF, LF-only and stray CRs before LF all tolerated).
fn trim_cr(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && line.get(end - 1) == Some(&b'\r') {
        end -= 1;
    }
    line.get(..end).unwrap_or_default()
}

/// The body of a line with every trailing `--END COMMAND--` removed, and whether there was one.
fn strip_end_command(mut line: &[u8]) -> (&[u8], bool) {
    let mut found = false;
    while let Some(rest) = line.strip_suffix(END_COMMAND.as_bytes()) {
        line = rest;
        found = true;
    }
    (line, found)
}

fn banner_version(line: &[u8]) -> Option<String> {
    let rest = line.strip_prefix(BANNER_PREFIX.as_bytes())?;
    let slash = rest.iter().position(|&b| b == b'/')?;
    let version = rest.get(slash + 1..)?.trim_ascii();
    Some(String::from_utf8_lossy(version).into_owned())
}

/// Parses `Key: value` into `msg`. The key is trimmed, the value loses its leading whitespace.
fn parse_header(line: &[u8], offset: u64, msg: &mut Message) -> Result<(), MessageError> {
    if let Some(i) = line.iter().position(|&b| b == b'\r') {
        return Err(MessageError::BareCr {
            offset: offset + i as u64,
        });
    }
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return Err(MessageError::MissingColon {
            line: excerpt(line),
            offset,
        });
    };
    let key = line.get(..colon).unwrap_or_default().trim_ascii();
    if key.is_empty() {
        return Err(MessageError::EmptyKey {
            line: excerpt(line),
            offset,
        });
    }
    let value = line.get(colon + 1..).unwrap_or_default().trim_ascii_start();
    msg.push_raw(key, value);
    Ok(())
}

/// In a `Response: Follows`, a header line has a key with no whitespace at all; anything else
/// is command output.
fn follows_header(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = line.iter().position(|&b| b == b':')?;
    let key = line.get(..colon)?;
    if key.is_empty() || key.iter().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    Some((key, line.get(colon + 1..)?.trim_ascii_start()))
}

impl AmiCodec {
    /// A client-side codec: the first line must be the banner.
    pub fn client() -> Self {
        AmiCodec {
            limits: Limits::default(),
            mode: Mode::Banner,
            version: None,
            offset: 0,
        }
    }

    /// A server-side codec (simulated Asterisk), or for streams that start after the banner.
    pub fn server() -> Self {
        AmiCodec {
            limits: Limits::default(),
            mode: Mode::Idle,
            version: None,
            offset: 0,
        }
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The version from the banner (`13.0.0` for `Asterisk Call Manager/13.0.0`), once read.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// True while a client codec is still waiting for the banner line.
    pub fn awaiting_banner(&self) -> bool {
        matches!(self.mode, Mode::Banner)
    }

    /// Bytes consumed from the stream so far.
    pub fn stream_offset(&self) -> u64 {
        self.offset
    }

    /// Writes the banner a simulated Asterisk sends first: `Asterisk Call Manager/<version>\r\n`.
    pub fn encode_banner(version: &str, dst: &mut BytesMut) -> Result<(), EncodeError> {
        if version.contains(['\r', '\n']) {
            return Err(EncodeError::LineBreakInValue {
                key: "banner".into(),
            });
        }
        dst.extend_from_slice(BANNER_PREFIX.as_bytes());
        dst.extend_from_slice(b"/");
        dst.extend_from_slice(version.as_bytes());
        dst.extend_from_slice(b"\r\n");
        Ok(())
    }

    /// Decodes a whole byte stream (end of stream included): every message and error in order.
    pub fn decode_all(&mut self, data: &[u8]) -> Vec<Item> {
        let mut buf = BytesMut::from(data);
        let mut out = Vec::new();
        while let Ok(Some(item)) = self.decode(&mut buf) {
            out.push(item);
        }
        while let Ok(Some(item)) = self.decode_eof(&mut buf) {
            out.push(item);
        }
        out
    }

    fn step(&mut self, data: &[u8], pos: &mut usize) -> Option<Item> {
        loop {
            let rest = data.get(*pos..).unwrap_or_default();
            let line_offset = self.offset + *pos as u64;
            let Some(nl) = find_lf(rest) else {
                return self.partial_line(rest, line_offset, pos, data.len());
            };
            let raw = rest.get(..nl).unwrap_or_default();
            if matches!(self.mode, Mode::Banner) {
                self.mode = Mode::Idle;
                if raw.len() <= self.limits.max_line {
                    let content = trim_cr(raw);
                    if let Some(v) = banner_version(content) {
                        self.version = Some(v);
                        *pos += nl + 1;
                        continue;
                    }
                    // Not consumed: the line is read again as the start of a message.
                    return Some(Err(MessageError::MissingBanner {
                        line: excerpt(content),
                    }));
                }
            }
            *pos += nl + 1;
            if let Some(item) = self.line(raw, line_offset) {
                return Some(item);
            }
        }
    }

    /// No LF in `rest`: keep it for later, unless it is already over the line limit.
    fn partial_line(
        &mut self,
        rest: &[u8],
        line_offset: u64,
        pos: &mut usize,
        end: usize,
    ) -> Option<Item> {
        let nonblank = || rest.iter().any(|&b| b != b'\r');
        match &mut self.mode {
            Mode::Discard { partial_nonblank } => {
                *partial_nonblank |= nonblank();
                *pos = end;
                None
            }
            _ if rest.len() > self.limits.max_line => {
                self.mode = Mode::Discard {
                    partial_nonblank: nonblank(),
                };
                *pos = end;
                Some(Err(MessageError::LineTooLong {
                    limit: self.limits.max_line,
                    offset: line_offset,
                }))
            }
            _ => None,
        }
    }

    fn fail(&mut self, error: MessageError, line_blank: bool) -> Option<Item> {
        self.mode = if line_blank {
            Mode::Idle
        } else {
            Mode::Discard {
                partial_nonblank: false,
            }
        };
        Some(Err(error))
    }

    fn finish(&mut self) -> Option<Item> {
        match std::mem::replace(&mut self.mode, Mode::Idle) {
            Mode::Message(p) => Some(match p.error {
                Some(e) => Err(e),
                None => Ok(p.msg),
            }),
            _ => None,
        }
    }

    /// One complete line (without its LF).
    fn line(&mut self, raw: &[u8], offset: u64) -> Option<Item> {
        let content = trim_cr(raw);
        if let Mode::Discard { partial_nonblank } = self.mode {
            let blank = !partial_nonblank && content.is_empty();
            self.mode = if blank {
                Mode::Idle
            } else {
                Mode::Discard {
                    partial_nonblank: false,
                }
            };
            return None;
        }
        let limits = self.limits;
        if raw.len() > limits.max_line {
            return self.fail(
                MessageError::LineTooLong {
                    limit: limits.max_line,
                    offset,
                },
                content.is_empty(),
            );
        }
        if matches!(self.mode, Mode::Idle | Mode::Banner) {
            if content.is_empty() {
                return None;
            }
            self.mode = Mode::Message(Box::new(Partial {
                msg: Message::with_capacity(24, 512),
                start: offset,
                len: 0,
                lines: 0,
                follows: false,
                follows_headers: true,
                error: None,
            }));
        }
        let Mode::Message(p) = &mut self.mode else {
            return None;
        };
        p.len = p.len.saturating_add(raw.len() + 1);
        if p.len > limits.max_message {
            let start = p.start;
            return self.fail(
                MessageError::MessageTooLong {
                    limit: limits.max_message,
                    offset: start,
                },
                content.is_empty(),
            );
        }
        if !p.follows {
            if content.is_empty() {
                return self.finish();
            }
            p.lines += 1;
            if p.lines > limits.max_headers {
                let start = p.start;
                return self.fail(
                    MessageError::TooManyHeaders {
                        limit: limits.max_headers,
                        offset: start,
                    },
                    false,
                );
            }
            if p.error.is_none() {
                match parse_header(content, offset, &mut p.msg) {
                    Ok(()) => {
                        if p.lines == 1 && p.msg.is_follows() {
                            p.follows = true;
                        }
                    }
                    Err(e) => p.error = Some(e),
                }
            }
            return None;
        }
        let (body, done) = strip_end_command(content);
        if !done || !body.is_empty() {
            p.lines += 1;
            if p.lines > limits.max_headers {
                let start = p.start;
                return self.fail(
                    MessageError::TooManyHeaders {
                        limit: limits.max_headers,
                        offset: start,
                    },
                    content.is_empty(),
                );
            }
            if p.error.is_none() {
                if let Some(i) = body.iter().position(|&b| b == b'\r') {
                    p.error = Some(MessageError::BareCr {
                        offset: offset + i as u64,
                    });
                } else if let Some((k, v)) = follows_header(body).filter(|_| p.follows_headers) {
                    p.msg.push_raw(k, v);
                } else {
                    p.follows_headers = false;
                    p.msg.push_output_raw(body);
                }
            }
        }
        if done { self.finish() } else { None }
    }
}

impl Decoder for AmiCodec {
    type Item = Item;
    type Error = std::io::Error;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Item>, std::io::Error> {
        let mut pos = 0;
        let item = self.step(&buf[..], &mut pos);
        buf.advance(pos.min(buf.len()));
        self.offset += pos as u64;
        Ok(item)
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Item>, std::io::Error> {
        if let Some(item) = self.decode(buf)? {
            return Ok(Some(item));
        }
        let item = match std::mem::replace(&mut self.mode, Mode::Idle) {
            Mode::Message(p) => Some(Err(MessageError::Truncated { offset: p.start })),
            Mode::Discard { .. } => None,
            Mode::Idle | Mode::Banner => {
                if buf.iter().any(|&b| b != b'\r') {
                    Some(Err(MessageError::Truncated {
                        offset: self.offset,
                    }))
                } else {
                    None
                }
            }
        };
        self.offset += buf.len() as u64;
        buf.clear();
        Ok(item)
    }
}

impl WireDecode<'_> for Message {
    type Error = MessageError;

    /// Reads the one message `input` holds (no banner; blank lines after it are allowed),
    /// with the default [`Limits`].
    fn decode(input: &[u8]) -> Result<Message, MessageError> {
        let mut codec = AmiCodec::server();
        let mut buf = BytesMut::from(input);
        let first = match codec.decode(&mut buf) {
            Ok(Some(item)) => Some(item),
            _ => codec.decode_eof(&mut buf).ok().flatten(),
        };
        let message = first.unwrap_or(Err(MessageError::Truncated { offset: 0 }))?;
        if let Some(extra) = buf.iter().position(|b| !b.is_ascii_whitespace()) {
            return Err(MessageError::Trailing {
                offset: (input.len() - buf.len() + extra) as u64,
            });
        }
        Ok(message)
    }
}

impl WireEncode for Message {
    type Error = EncodeError;

    /// [`Message::encode`]: `Key: value` lines, the command output, a blank line.
    fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        Message::encode(self, out)
    }
}

impl Encoder<&Message> for AmiCodec {
    type Error = EncodeError;

    fn encode(&mut self, item: &Message, dst: &mut BytesMut) -> Result<(), EncodeError> {
        item.encode(dst)
    }
}

impl Encoder<Message> for AmiCodec {
    type Error = EncodeError;

    fn encode(&mut self, item: Message, dst: &mut BytesMut) -> Result<(), EncodeError> {
        item.encode(dst)
    }
}

impl Encoder<&Action> for AmiCodec {
    type Error = EncodeError;

    fn encode(&mut self, item: &Action, dst: &mut BytesMut) -> Result<(), EncodeError> {
        item.encode(dst)
    }
}

impl Encoder<Action> for AmiCodec {
    type Error = EncodeError;

    fn encode(&mut self, item: Action, dst: &mut BytesMut) -> Result<(), EncodeError> {
        item.encode(dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msgs(items: &[Item]) -> Vec<&Message> {
        items.iter().filter_map(|i| i.as_ref().ok()).collect()
    }

    #[test]
    fn banner_then_messages() {
        let mut c = AmiCodec::client();
        let items = c
            .decode_all(b"Asterisk Call Manager/9.9.9\r\nResponse: Success\r\nActionID: 1\r\n\r\n");
        assert_eq!(c.version(), Some("9.9.9"));
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].as_ref().unwrap().response(), Some("Success"));
    }

    #[test]
    fn missing_banner_is_reported_and_the_line_kept() {
        let items = AmiCodec::client().decode_all(b"Event: X\r\n\r\n");
        assert!(matches!(items[0], Err(MessageError::MissingBanner { .. })));
        assert_eq!(items[1].as_ref().unwrap().event(), Some("X"));
    }

    #[test]
    fn lf_only_and_mixed() {
        let items = AmiCodec::server().decode_all(b"Event: A\nX: 1\r\n\nEvent: B\r\n\r\n");
        let m = msgs(&items);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].get("x"), Some("1"));
    }

    #[test]
    fn no_colon_is_an_item_error_and_the_stream_goes_on() {
        let items = AmiCodec::server()
            .decode_all(b"Event: A\r\nbogus line\r\nY: 1\r\n\r\nEvent: B\r\n\r\n");
        assert_eq!(items.len(), 2);
        match &items[0] {
            Err(MessageError::MissingColon { line, offset }) => {
                assert_eq!(line, "bogus line");
                assert_eq!(*offset, 10);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(items[1].as_ref().unwrap().event(), Some("B"));
    }

    #[test]
    fn follows_output() {
        let data = b"Response: Follows\r\nPrivilege: Command\r\nActionID: c1\r\nName: x\r\n  line two: y\r\n\r\nlast--END COMMAND--\r\n\r\nEvent: Z\r\n\r\n";
        let items = AmiCodec::server().decode_all(data);
        let m = msgs(&items);
        assert_eq!(m.len(), 2);
        assert!(m[0].is_follows());
        assert_eq!(m[0].action_id(), Some("c1"));
        assert_eq!(m[0].get("Name"), Some("x"));
        assert_eq!(m[0].output(), ["  line two: y", "", "last"]);
        let again = AmiCodec::server().decode_all(&m[0].to_bytes().unwrap());
        assert_eq!(again, vec![Ok(m[0].clone())]);
    }

    #[test]
    fn output_fields() {
        let items =
            AmiCodec::server().decode_all(b"Response: Success\r\nOutput: a\r\nOutput: b\r\n\r\n");
        assert_eq!(msgs(&items)[0].output(), ["a", "b"]);
    }

    #[test]
    fn limits_recover_at_next_blank_line() {
        let limits = Limits {
            max_line: 20,
            max_headers: 3,
            max_message: 60,
        };
        let data = b"Event: A\r\nK: 0123456789012345678901234\r\nZ: 1\r\n\r\nEvent: B\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\nEvent: C\r\n\r\n";
        let items = AmiCodec::server().with_limits(limits).decode_all(data);
        assert_eq!(items.len(), 3, "{items:?}");
        assert_eq!(
            items[0],
            Err(MessageError::LineTooLong {
                limit: 20,
                offset: 10
            })
        );
        assert!(matches!(
            items[1],
            Err(MessageError::TooManyHeaders { limit: 3, .. })
        ));
        assert_eq!(items[2].as_ref().unwrap().event(), Some("C"));
        assert!(
            items[0]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("line-length limit of 20 bytes")
        );
    }

    #[test]
    fn truncated_at_eof() {
        let items = AmiCodec::server().decode_all(b"Event: A\r\n\r\nEvent: B\r\n");
        assert_eq!(items[1], Err(MessageError::Truncated { offset: 12 }));
    }

    #[test]
    fn latin1_values_are_kept() {
        let items = AmiCodec::server().decode_all(b"Event: A\r\nCallerIDName: M\xfcller\r\n\r\n");
        assert_eq!(msgs(&items)[0].get("CallerIDName"), Some("Müller"));
    }
}
