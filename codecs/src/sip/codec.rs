//! SIP framing over a stream transport (TCP, TLS) as a `tokio_util::codec` Decoder/Encoder:
//! messages delimited by their Content-Length, CRLF keep-alives between them, limits, and the
//! checks that keep a wrong Content-Length from merging or splitting messages.
//!
//! What a stream lets us check about Content-Length (RFC 3261 §18.3 makes it mandatory here):
//! - missing, unreadable, several different values, or over [`Limits::max_body`]: the boundary
//!   is unknown, so it is a fatal [`FrameError`];
//! - **too short**: the rest of the body is taken for the next message, whose "start line" is
//!   then not one, a fatal [`FrameError::NotAStartLine`] (the next start line is always checked
//!   as soon as its line is complete, before anything is buffered behind it);
//! - **too long**: the declared body would swallow the next message. When the body is not a
//!   type that may legitimately carry SIP (`message/*`, `multipart/*`), every line of it is
//!   checked as it arrives: a line that ends with a SIP start line (`SIP/2.0 NNN ...`, or
//!   `TOKEN SP scheme:... SP SIP/2.0`, possibly glued to a body without a final line break)
//!   ends the message there with [`MessageError::BodyOverrun`] and decoding resumes at that
//!   start line. An XML, SDP or text body
//!   never has such a line; a wrong length that lands elsewhere is caught by the rule above or,
//!   at end of stream, as [`MessageError::Truncated`];
//! - whether a body matches its Content-Type is left to the caller.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use super::error::{EncodeError, FrameError, MessageError};
use super::message::{Message, first_line_excerpt};
use super::text::is_token_char;

/// Decoding limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Limits {
    /// Largest header section, start line and blank line included (bytes). Default 64 KiB.
    pub max_head: usize,
    /// Most header lines (continuation lines not counted). Default 256.
    pub max_headers: usize,
    /// Largest body (bytes). Default 1 MiB.
    pub max_body: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 64 * 1024,
            max_headers: 256,
            max_body: 1024 * 1024,
        }
    }
}

impl Limits {
    /// No practical limit (for re-decoding trusted bytes in tests and tools).
    pub fn unlimited() -> Self {
        Limits {
            max_head: usize::MAX,
            max_headers: usize::MAX,
            max_body: usize::MAX,
        }
    }
}

/// One decoded item: a message, or why the delimited bytes were not an acceptable one.
pub type Item = Result<Message, MessageError>;

/// RFC 5626 §3.5.1 keep-alives on a stream: the client's ping is a double CRLF, the server's
/// pong a single CRLF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepAlive {
    /// The client ping: a double CRLF.
    Ping,
    /// The server pong: a single CRLF.
    Pong,
}

#[derive(Debug, Clone, Copy)]
enum State {
    /// Between messages, skipping CRLF keep-alives.
    Idle,
    /// Reading a header section; `scanned` bytes of it checked, `lines` header lines seen.
    Head { scanned: usize, lines: usize },
    /// Header section of `head_len` bytes read; waiting for `declared` body bytes. Body lines
    /// before `scanned` were checked for an embedded start line (when `check`).
    Body {
        head_len: usize,
        declared: usize,
        check: bool,
        scanned: usize,
    },
    /// A fatal error happened: everything is discarded.
    Failed,
}

/// The SIP stream codec. Decodes [`Item`]s; encodes [`Message`]s and [`KeepAlive`]s.
#[derive(Debug, Clone)]
pub struct SipCodec {
    limits: Limits,
    state: State,
    /// Stream offset of the first byte still in the caller's buffer.
    offset: u64,
    /// Consecutive blank lines between messages.
    blank_run: u32,
    pings: u32,
    /// The caller's buffer holds the rest of the input (a file, a datagram): see
    /// [`SipCodec::whole_input`].
    whole_input: bool,
}

impl Default for SipCodec {
    fn default() -> Self {
        Self::new()
    }
}

/// Where a SIP start line begins in `line` (CR LF removed), if it ends with one: the line may
/// begin with the tail of a body that has no final line break (`...</CallClearedEvent>SIP/2.0
/// 200 OK`). Used to spot a message inside a declared body.
fn start_in_line(line: &[u8]) -> Option<usize> {
    let tag = b"SIP/2.0 ";
    if let Some(at) = line.windows(tag.len()).position(|w| w == tag) {
        let rest = line.get(at + tag.len()..).unwrap_or_default();
        let code_ok = rest
            .get(..3)
            .is_some_and(|c| c.iter().all(u8::is_ascii_digit));
        if code_ok && matches!(rest.get(3), None | Some(b' ')) {
            return Some(at);
        }
    }
    let rest = line.strip_suffix(b" SIP/2.0")?;
    let sp = rest.iter().rposition(|&b| b == b' ')?;
    let uri = rest.get(sp + 1..).unwrap_or_default();
    let before = rest.get(..sp).unwrap_or_default();
    let method_len = before
        .iter()
        .rev()
        .take_while(|&&b| is_token_char(b))
        .count();
    let ok = method_len > 0
        && uri.first().is_some_and(u8::is_ascii_alphabetic)
        && uri.contains(&b':')
        && !uri.contains(&b'\t');
    ok.then(|| sp - method_len)
}

/// Loose shape of a start line, to tell a message (even a malformed one, reported as an item)
/// from bytes that are not SIP at all (lost sync, fatal).
fn plausible_start_line(line: &[u8]) -> bool {
    let line = line.trim_ascii_end();
    let sip = |w: &[u8]| w.get(..4).is_some_and(|p| p.eq_ignore_ascii_case(b"SIP/"));
    if sip(line) {
        return true;
    }
    let last = line.rsplit(|&b| b == b' ').next().unwrap_or_default();
    line.first().is_some_and(|&b| is_token_char(b)) && line.contains(&b' ') && sip(last)
}

/// Content-Length and whether the body may be checked for an embedded message, from a complete
/// header section.
fn frame_info(head: &[u8], offset: u64, limits: &Limits) -> Result<(usize, bool), FrameError> {
    #[derive(PartialEq)]
    enum Kind {
        Length,
        Type,
        Other,
    }
    let mut fields: Vec<(Kind, Vec<u8>)> = Vec::new();
    for line in head.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
            if let Some((_, v)) = fields.last_mut() {
                v.push(b' ');
                v.extend_from_slice(line);
            }
            continue;
        }
        let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
        let name = line.get(..colon).unwrap_or_default().trim_ascii_end();
        let kind = if name.eq_ignore_ascii_case(b"content-length")
            || name.eq_ignore_ascii_case(b"l")
        {
            Kind::Length
        } else if name.eq_ignore_ascii_case(b"content-type") || name.eq_ignore_ascii_case(b"c") {
            Kind::Type
        } else {
            Kind::Other
        };
        if kind != Kind::Other {
            fields.push((kind, line.get(colon + 1..).unwrap_or_default().to_vec()));
        } else {
            fields.push((kind, Vec::new()));
        }
    }
    let mut length: Option<usize> = None;
    let mut check = true;
    for (kind, value) in &fields {
        let v = value.trim_ascii();
        match kind {
            Kind::Length => {
                let text = String::from_utf8_lossy(v);
                if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
                    return Err(FrameError::BadContentLength {
                        value: text.into_owned(),
                        offset,
                    });
                }
                let n = text.parse::<usize>().unwrap_or(usize::MAX);
                if n > limits.max_body {
                    return Err(FrameError::BodyTooLong {
                        declared: text.into_owned(),
                        limit: limits.max_body,
                        offset,
                    });
                }
                if length.is_some_and(|l| l != n) {
                    return Err(FrameError::ConflictingContentLength { offset });
                }
                length = Some(n);
            }
            Kind::Type => {
                let lower = v.to_ascii_lowercase();
                if lower.starts_with(b"message/") || lower.starts_with(b"multipart/") {
                    check = false;
                }
            }
            Kind::Other => {}
        }
    }
    let length = length.ok_or(FrameError::MissingContentLength { offset })?;
    Ok((length, check))
}

impl SipCodec {
    /// A stream codec with the default limits.
    pub fn new() -> Self {
        SipCodec {
            limits: Limits::default(),
            state: State::Idle,
            offset: 0,
            blank_run: 0,
            pings: 0,
            whole_input: false,
        }
    }

    /// Datagram semantics for a message without Content-Length: the buffer given to the codec
    /// holds the rest of the input, so such a message's body is everything after its header
    /// section (RFC 3261 §18.3 and §20.14 make Content-Length optional on datagram transports
    /// only; RFC 4475 §3.4.1 `inv2543` is such a message, which a tolerant parser accepts).
    /// Off by default: on a live stream a missing Content-Length stays a fatal framing error.
    pub fn whole_input(mut self) -> Self {
        self.whole_input = true;
        self
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

    /// Bytes consumed from the stream so far.
    pub fn stream_offset(&self) -> u64 {
        self.offset
    }

    /// Double-CRLF pings received since the last call (a server answers each with a
    /// [`KeepAlive::Pong`]). Single CRLFs (pongs) are skipped silently.
    pub fn take_pings(&mut self) -> u32 {
        std::mem::take(&mut self.pings)
    }

    /// True after a fatal [`FrameError`]: the codec discards everything from then on.
    pub fn failed(&self) -> bool {
        matches!(self.state, State::Failed)
    }

    /// Decodes a whole byte stream (end of stream included): every item in order, then the
    /// fatal error that stopped decoding, if any.
    pub fn decode_all(&mut self, data: &[u8]) -> (Vec<Item>, Option<FrameError>) {
        let mut buf = BytesMut::from(data);
        let mut out = Vec::new();
        loop {
            match self.decode(&mut buf) {
                Ok(Some(item)) => out.push(item),
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
        loop {
            match self.decode_eof(&mut buf) {
                Ok(Some(item)) => out.push(item),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    fn consume(&mut self, buf: &mut BytesMut, n: usize) {
        let n = n.min(buf.len());
        buf.advance(n);
        self.offset += n as u64;
    }

    fn fail(&mut self, buf: &mut BytesMut, e: FrameError) -> Result<Option<Item>, FrameError> {
        self.state = State::Failed;
        let n = buf.len();
        self.consume(buf, n);
        Err(e)
    }

    /// The first body line at or after `*scanned` (and complete before the body's end) that is
    /// a start line.
    fn embedded_start(buf: &[u8], end: usize, scanned: &mut usize) -> Option<usize> {
        let limit = end.min(buf.len());
        while *scanned < limit {
            let p = *scanned;
            let rest = buf.get(p..limit)?;
            let nl = rest.iter().position(|&b| b == b'\n')?;
            let line = rest.get(..nl).unwrap_or_default();
            if let Some(at) = start_in_line(line.strip_suffix(b"\r").unwrap_or(line)) {
                return Some(p + at);
            }
            *scanned = p + nl + 1;
        }
        None
    }
}

impl Decoder for SipCodec {
    type Item = Item;
    type Error = FrameError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Item>, FrameError> {
        loop {
            match self.state {
                State::Failed => {
                    let n = buf.len();
                    self.consume(buf, n);
                    return Ok(None);
                }
                State::Idle => {
                    let n = buf
                        .iter()
                        .take_while(|&&b| b == b'\r' || b == b'\n')
                        .count();
                    for &b in buf.get(..n).unwrap_or_default() {
                        if b == b'\n' {
                            self.blank_run += 1;
                            if self.blank_run == 2 {
                                self.pings = self.pings.saturating_add(1);
                                self.blank_run = 0;
                            }
                        }
                    }
                    self.consume(buf, n);
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    self.blank_run = 0;
                    self.state = State::Head {
                        scanned: 0,
                        lines: 0,
                    };
                }
                State::Head { scanned, lines } => {
                    let (mut pos, mut lines) = (scanned, lines);
                    let head_len = loop {
                        let Some(nl) = buf
                            .get(pos..)
                            .and_then(|r| r.iter().position(|&b| b == b'\n'))
                        else {
                            if buf.len() > self.limits.max_head {
                                let e = FrameError::HeaderTooLong {
                                    limit: self.limits.max_head,
                                    offset: self.offset,
                                };
                                return self.fail(buf, e);
                            }
                            self.state = State::Head {
                                scanned: pos,
                                lines,
                            };
                            return Ok(None);
                        };
                        let raw = buf.get(pos..pos + nl).unwrap_or_default();
                        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
                        if pos == 0 && !plausible_start_line(line) {
                            let e = FrameError::NotAStartLine {
                                line: first_line_excerpt(buf),
                                offset: self.offset,
                            };
                            return self.fail(buf, e);
                        }
                        let blank = line.is_empty();
                        let header =
                            !blank && pos > 0 && !matches!(line.first(), Some(b' ' | b'\t'));
                        pos += nl + 1;
                        if pos > self.limits.max_head {
                            let e = FrameError::HeaderTooLong {
                                limit: self.limits.max_head,
                                offset: self.offset,
                            };
                            return self.fail(buf, e);
                        }
                        if blank {
                            break pos;
                        }
                        if header {
                            lines += 1;
                            if lines > self.limits.max_headers {
                                let e = FrameError::TooManyHeaders {
                                    limit: self.limits.max_headers,
                                    offset: self.offset,
                                };
                                return self.fail(buf, e);
                            }
                        }
                    };
                    let info = frame_info(
                        buf.get(..head_len).unwrap_or_default(),
                        self.offset,
                        &self.limits,
                    );
                    let (declared, check) = match info {
                        Ok(i) => i,
                        Err(FrameError::MissingContentLength { .. })
                            if self.whole_input
                                && buf.len() - head_len.min(buf.len()) <= self.limits.max_body =>
                        {
                            (buf.len() - head_len.min(buf.len()), false)
                        }
                        Err(e) => return self.fail(buf, e),
                    };
                    self.state = State::Body {
                        head_len,
                        declared,
                        check,
                        scanned: head_len,
                    };
                }
                State::Body {
                    head_len,
                    declared,
                    check,
                    scanned,
                } => {
                    let end = head_len + declared;
                    let mut scanned = scanned;
                    if check {
                        if let Some(at) = Self::embedded_start(buf, end, &mut scanned) {
                            let err = MessageError::BodyOverrun {
                                declared,
                                next: self.offset + at as u64,
                                offset: self.offset,
                            };
                            self.consume(buf, at);
                            self.state = State::Idle;
                            return Ok(Some(Err(err)));
                        }
                    }
                    if buf.len() < end {
                        self.state = State::Body {
                            head_len,
                            declared,
                            check,
                            scanned,
                        };
                        return Ok(None);
                    }
                    let head = buf.get(..head_len).unwrap_or_default();
                    let item = match Message::parse_head_only(head) {
                        Ok(mut m) => {
                            m.body = buf.get(head_len..end).unwrap_or_default().to_vec();
                            Ok(m)
                        }
                        Err(e) => Err(e.shifted(self.offset)),
                    };
                    self.consume(buf, end);
                    self.state = State::Idle;
                    return Ok(Some(item));
                }
            }
        }
    }

    fn decode_eof(&mut self, buf: &mut BytesMut) -> Result<Option<Item>, FrameError> {
        if let Some(item) = self.decode(buf)? {
            return Ok(Some(item));
        }
        if buf.is_empty() {
            return Ok(None);
        }
        let offset = self.offset;
        let item = match self.state {
            State::Body {
                head_len, declared, ..
            } => MessageError::Truncated {
                declared,
                available: buf.len().saturating_sub(head_len),
                offset,
            },
            _ => MessageError::NoHeaderEnd { offset },
        };
        let n = buf.len();
        self.consume(buf, n);
        self.state = State::Idle;
        Ok(Some(Err(item)))
    }
}

impl Encoder<&Message> for SipCodec {
    type Error = EncodeError;

    fn encode(&mut self, msg: &Message, dst: &mut BytesMut) -> Result<(), EncodeError> {
        msg.encode(dst)
    }
}

impl Encoder<Message> for SipCodec {
    type Error = EncodeError;

    fn encode(&mut self, msg: Message, dst: &mut BytesMut) -> Result<(), EncodeError> {
        msg.encode(dst)
    }
}

impl Encoder<KeepAlive> for SipCodec {
    type Error = EncodeError;

    fn encode(&mut self, k: KeepAlive, dst: &mut BytesMut) -> Result<(), EncodeError> {
        dst.put_slice(match k {
            KeepAlive::Ping => b"\r\n\r\n",
            KeepAlive::Pong => b"\r\n",
        });
        Ok(())
    }
}
