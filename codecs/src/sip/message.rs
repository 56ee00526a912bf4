//! A SIP message: start line, ordered headers, body. Parsing (with the checks that make a
//! message acceptable: start line, required and single-valued headers, the typed headers),
//! typed accessors, builders for requests and responses, and encoding.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use std::fmt::{self, Write as _};

use bytes::{BufMut, BytesMut};

use super::error::{EncodeError, MessageError};
use super::header::{
    Auth, CSeq, ContentDisposition, Header, MediaType, Method, NameAddr, Via, check_date,
    full_name, same_name,
};
use super::text::{excerpt, excerpt_bytes, find_b, is_token, split_commas, trim_lws};
use super::uri::Uri;
use crate::wire::{WireDecode, WireEncode};

/// The first line of a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum StartLine {
    /// `METHOD Request-URI SIP/2.0`.
    Request { method: Method, uri: Uri },
    /// `SIP/2.0 code reason`.
    Response { code: u16, reason: String },
}

/// A SIP request or response. Headers keep their order, their names as written (compact or
/// not, any case) and their values unfolded and trimmed; look them up with the accessors, which
/// match names case-insensitively and expand compact forms.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Message {
    pub start: StartLine,
    pub headers: Vec<Header>,
    #[serde(serialize_with = "body_as_text")]
    pub body: Vec<u8>,
}

fn body_as_text<S: serde::Serializer>(body: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(body))
}

/// Index just past the blank line that ends the header section (CRLF or LF-only), if complete.
pub(crate) fn head_end(data: &[u8]) -> Option<usize> {
    let mut pos = 0;
    for nl in memchr::memchr_iter(b'\n', data) {
        let line = data.get(pos..nl).unwrap_or_default();
        pos = nl + 1;
        if line.is_empty() || line == b"\r" {
            return Some(pos);
        }
    }
    None
}

/// Lines of a header section: (offset, content without its CR LF).
fn lines(head: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let rest = head.get(pos..)?;
        if rest.is_empty() {
            return None;
        }
        let nl = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
        let raw = rest.get(..nl).unwrap_or_default();
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let at = pos;
        pos += nl + 1;
        Some((at, line))
    })
}

/// A line as text: no CR in it, valid UTF-8. `whole` is the header section as text when it all
/// is valid UTF-8 (checked once), so each line is only sliced out of it.
fn text<'a>(
    line: &'a [u8],
    at: usize,
    whole: Option<&'a str>,
    no_bare_cr: bool,
) -> Result<&'a str, MessageError> {
    if let Some(i) = (!no_bare_cr).then(|| memchr::memchr(b'\r', line)).flatten() {
        return Err(MessageError::BareCr {
            offset: (at + i) as u64,
        });
    }
    if let Some(s) = whole.and_then(|w| w.get(at..at + line.len())) {
        return Ok(s);
    }
    std::str::from_utf8(line).map_err(|e| MessageError::Utf8 {
        offset: (at + e.valid_up_to()) as u64,
    })
}

fn parse_start_line(line: &str) -> Result<StartLine, MessageError> {
    let start_err = |reason: &str| MessageError::StartLine {
        reason: reason.into(),
        line: excerpt(line),
        offset: 0,
    };
    let is_version = |v: &str| v.eq_ignore_ascii_case("SIP/2.0");
    if line
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        let (version, rest) = line.split_once(' ').unwrap_or((line, ""));
        if !is_version(version) {
            return Err(MessageError::Version {
                version: excerpt(version),
                offset: 0,
            });
        }
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let ok = code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit());
        let n = code.parse::<u16>().unwrap_or(0);
        if !ok || !(100..=699).contains(&n) {
            return Err(MessageError::StatusCode {
                code: excerpt(code),
                offset: (version.len() + 1) as u64,
            });
        }
        if reason.chars().any(|c| c.is_control() && c != '\t') {
            return Err(start_err("control character in the reason phrase"));
        }
        return Ok(StartLine::Response {
            code: n,
            reason: reason.to_string(),
        });
    }
    let parts: Vec<&str> = line.split(' ').collect();
    let [method, uri, version] = parts.as_slice() else {
        return Err(start_err(
            "a request line is `METHOD SP Request-URI SP SIP/2.0`, single spaces",
        ));
    };
    if method.is_empty() || uri.is_empty() || version.is_empty() {
        return Err(start_err(
            "a request line is `METHOD SP Request-URI SP SIP/2.0`, single spaces",
        ));
    }
    let Some(method) = Method::parse(method) else {
        return Err(start_err("the method is not a token"));
    };
    if !is_version(version) {
        return Err(MessageError::Version {
            version: excerpt(version),
            offset: (line.len() - version.len()) as u64,
        });
    }
    let uri_at = (method.as_str().len() + 1) as u64;
    let uri = Uri::parse(uri).map_err(|reason| MessageError::RequestUri {
        reason,
        offset: uri_at,
    })?;
    if uri.as_sip().is_some_and(|u| !u.headers.is_empty()) {
        return Err(MessageError::RequestUri {
            reason: "headers (`?...`) are not allowed in a Request-URI".into(),
            offset: uri_at,
        });
    }
    Ok(StartLine::Request { method, uri })
}

/// Parses a header section (start line to blank line). Returns the start line, the headers
/// and each header's offset.
fn parse_head(head: &[u8]) -> Result<(StartLine, Vec<Header>, Vec<usize>), MessageError> {
    let mut it = lines(head);
    let Some((_, first)) = it.next() else {
        return Err(MessageError::NoHeaderEnd { offset: 0 });
    };
    let whole = std::str::from_utf8(head).ok();
    // Every CR ends a line (CR LF): then no line holds a bare CR and `text` need not look.
    let no_bare_cr = memchr::memchr_iter(b'\r', head).all(|i| head.get(i + 1) == Some(&b'\n'));
    let start = parse_start_line(text(first, 0, whole, no_bare_cr)?)?;
    let mut headers: Vec<Header> = Vec::with_capacity(16);
    let mut offsets = Vec::with_capacity(16);
    for (at, line) in it {
        if line.is_empty() {
            break;
        }
        let line = text(line, at, whole, no_bare_cr)?;
        if line.starts_with([' ', '\t']) {
            let Some(last) = headers.last_mut() else {
                return Err(MessageError::HeaderLine {
                    reason: "continuation line before any header".into(),
                    line: excerpt(line),
                    offset: at as u64,
                });
            };
            let more = trim_lws(line);
            if !more.is_empty() {
                if !last.value.is_empty() {
                    last.value.push(' ');
                }
                last.value.push_str(more);
            }
            continue;
        }
        let Some((name, value)) = find_b(line, b':').map(|i| {
            (
                line.get(..i).unwrap_or_default(),
                line.get(i + 1..).unwrap_or_default(),
            )
        }) else {
            return Err(MessageError::HeaderLine {
                reason: "no colon".into(),
                line: excerpt(line),
                offset: at as u64,
            });
        };
        let name = name.trim_end_matches([' ', '\t']);
        if !is_token(name) {
            return Err(MessageError::HeaderLine {
                reason: "header name is not a token".into(),
                line: excerpt(line),
                offset: at as u64,
            });
        }
        headers.push(Header {
            name: name.to_string(),
            value: trim_lws(value).to_string(),
        });
        offsets.push(at);
    }
    Ok((start, headers, offsets))
}

/// Headers that may appear once only.
const SINGLE: [&str; 8] = [
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Max-Forwards",
    "Content-Length",
    "Content-Type",
    "Expires",
];

/// Headers every message must have.
const REQUIRED: [&str; 4] = ["From", "To", "Call-ID", "CSeq"];

fn digits<T>(v: &str, max: Option<T>) -> Result<T, String>
where
    T: std::str::FromStr + PartialOrd + fmt::Display,
{
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{:?} is not a number", excerpt(v)));
    }
    let n = v
        .parse::<T>()
        .map_err(|_| format!("{} is out of range", excerpt(v)))?;
    match max {
        Some(m) if n > m => Err(format!("{n} is over {m}")),
        _ => Ok(n),
    }
}

/// The (lowercase, full) names of the headers [`validate`] checks.
const CHECKED: [&str; 19] = [
    "via",
    "from",
    "to",
    "contact",
    "route",
    "record-route",
    "call-id",
    "cseq",
    "max-forwards",
    "content-length",
    "expires",
    "min-expires",
    "content-type",
    "content-disposition",
    "www-authenticate",
    "proxy-authenticate",
    "authorization",
    "proxy-authorization",
    "date",
];

/// Checks the headers this codec interprets. Returns the Content-Length, if any.
fn validate(
    start: &StartLine,
    headers: &[Header],
    offsets: &[usize],
) -> Result<Option<usize>, MessageError> {
    let mut seen = [false; SINGLE.len()];
    let mut length = None;
    for (h, &at) in headers.iter().zip(offsets) {
        let full = full_name(&h.name);
        let err = |reason: String| MessageError::Header {
            name: full.to_string(),
            reason,
            offset: at as u64,
        };
        // Lengths first: most names are compared with one integer test.
        let key = CHECKED
            .iter()
            .copied()
            .find(|k| k.len() == full.len() && k.eq_ignore_ascii_case(full))
            .unwrap_or_default();
        if key.is_empty() {
            continue;
        }
        if let Some(i) = SINGLE
            .iter()
            .position(|s| s.len() == key.len() && s.eq_ignore_ascii_case(key))
        {
            if let Some(s) = seen.get_mut(i) {
                if *s {
                    return Err(MessageError::DuplicateHeader {
                        name: SINGLE.get(i).copied().unwrap_or_default().to_string(),
                        offset: at as u64,
                    });
                }
                *s = true;
            }
        }
        let v = h.value.as_str();
        match key {
            "via" => {
                Via::check_list(v).map_err(err)?;
            }
            "from" | "to" => {
                NameAddr::check(v).map_err(err)?;
            }
            "contact" if v != "*" => {
                NameAddr::check_list(v).map_err(err)?;
            }
            "route" | "record-route" => {
                NameAddr::check_list(v).map_err(err)?;
            }
            "call-id" if v.is_empty() || v.contains([' ', '\t']) => {
                return Err(err(format!("{:?} is not a Call-ID", excerpt(v))));
            }
            "cseq" => {
                let cseq = CSeq::parse(v).map_err(err)?;
                if let StartLine::Request { method, .. } = start {
                    if *method != cseq.method {
                        return Err(MessageError::CSeqMismatch {
                            method: method.to_string(),
                            cseq: cseq.method.to_string(),
                            offset: at as u64,
                        });
                    }
                }
            }
            "max-forwards" => {
                digits::<u8>(v, None).map_err(err)?;
            }
            "content-length" => {
                length = Some(digits::<usize>(v, None).map_err(err)?);
            }
            "expires" | "min-expires" => {
                digits::<u32>(v, None).map_err(err)?;
            }
            "content-type" => {
                MediaType::check(v).map_err(err)?;
            }
            "content-disposition" => {
                ContentDisposition::check(v).map_err(err)?;
            }
            "www-authenticate" | "proxy-authenticate" | "authorization" | "proxy-authorization" => {
                Auth::check(v).map_err(err)?;
            }
            "date" => check_date(v).map_err(err)?,
            _ => {}
        }
    }
    for name in REQUIRED {
        let present = SINGLE
            .iter()
            .position(|s| *s == name)
            .and_then(|j| seen.get(j))
            .is_some_and(|s| *s);
        if !present {
            return Err(MessageError::MissingHeader {
                name: name.to_string(),
                offset: 0,
            });
        }
    }
    Ok(length)
}

impl Message {
    /// Parses one message from a buffer that holds it (datagram semantics): the header section
    /// must end with a blank line; with a Content-Length the body is that many bytes (a shorter
    /// buffer is [`MessageError::Truncated`], extra bytes are ignored as RFC 3261 §18.3 says for
    /// UDP); without one the body is the rest of the buffer.
    pub fn parse(data: &[u8]) -> Result<Message, MessageError> {
        let end = head_end(data).ok_or(MessageError::NoHeaderEnd { offset: 0 })?;
        let (head, rest) = data.split_at(end);
        let (mut msg, length) = Self::parse_head_checked(head)?;
        let body = match length {
            Some(declared) => rest.get(..declared).ok_or(MessageError::Truncated {
                declared,
                available: rest.len(),
                offset: 0,
            })?,
            None => rest,
        };
        msg.body = body.to_vec();
        Ok(msg)
    }

    /// Parses a header section (through its blank line) into a message with an empty body.
    pub(crate) fn parse_head_only(head: &[u8]) -> Result<Message, MessageError> {
        Self::parse_head_checked(head).map(|(m, _)| m)
    }

    /// [`Message::parse_head_only`] with the Content-Length it checked (the one
    /// [`Message::content_length`] reads: validation allows one only, all digits).
    fn parse_head_checked(head: &[u8]) -> Result<(Message, Option<usize>), MessageError> {
        let (start, headers, offsets) = parse_head(head)?;
        let length = validate(&start, &headers, &offsets)?;
        let msg = Message {
            start,
            headers,
            body: Vec::new(),
        };
        Ok((msg, length))
    }

    // ---- builders ----

    /// A request with no headers yet.
    pub fn request(method: Method, uri: Uri) -> Message {
        Message {
            start: StartLine::Request { method, uri },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A response with no headers yet; an empty `reason` is replaced by the standard phrase.
    pub fn response(code: u16, reason: &str) -> Message {
        let reason = if reason.is_empty() {
            reason_phrase(code)
        } else {
            reason
        };
        Message {
            start: StartLine::Response {
                code,
                reason: reason.to_string(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A response to `request` (RFC 3261 §8.2.6): its Via, Record-Route, From, To, Call-ID and
    /// CSeq headers copied in order, `to_tag` added to To when it has none, Content-Length 0.
    pub fn response_to(
        request: &Message,
        code: u16,
        reason: &str,
        to_tag: Option<&str>,
    ) -> Message {
        let mut resp = Message::response(code, reason);
        for h in &request.headers {
            let full = full_name(&h.name);
            let copy = ["Via", "Record-Route", "From", "To", "Call-ID", "CSeq"]
                .iter()
                .any(|n| n.eq_ignore_ascii_case(full));
            if !copy {
                continue;
            }
            let mut value = h.value.clone();
            if full.eq_ignore_ascii_case("To") {
                if let Some(tag) = to_tag {
                    if NameAddr::parse(&value).is_ok_and(|na| na.tag().is_none()) {
                        value = format!("{value};tag={tag}");
                    }
                }
            }
            resp.headers.push(Header {
                name: full.to_string(),
                value,
            });
        }
        resp.set_header("Content-Length", "0");
        resp
    }

    /// Appends a header (builder style).
    pub fn with_header(mut self, name: &str, value: impl fmt::Display) -> Self {
        self.push_header(name, value);
        self
    }

    /// Appends a header.
    pub fn push_header(&mut self, name: &str, value: impl fmt::Display) {
        self.headers.push(Header {
            name: name.to_string(),
            value: value.to_string(),
        });
    }

    /// Replaces every `name` header by one with `value` (at the first one's place, or at the
    /// end).
    pub fn set_header(&mut self, name: &str, value: impl fmt::Display) {
        let value = value.to_string();
        match self.headers.iter().position(|h| same_name(&h.name, name)) {
            Some(i) => {
                if let Some(h) = self.headers.get_mut(i) {
                    h.value = value;
                }
                let mut n = 0;
                self.headers.retain(|h| {
                    n += 1;
                    n - 1 <= i || !same_name(&h.name, name)
                });
            }
            None => self.push_header(name, value),
        }
    }

    /// Removes every `name` header.
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|h| !same_name(&h.name, name));
    }

    /// Sets the body with its Content-Type (or none for an empty body) and Content-Length.
    pub fn with_body(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        if self.body.is_empty() {
            self.remove_header("Content-Type");
        } else {
            self.set_header("Content-Type", content_type);
        }
        self.set_header("Content-Length", self.body.len());
        self
    }

    // ---- accessors ----

    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    pub fn method(&self) -> Option<&Method> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    pub fn request_uri(&self) -> Option<&Uri> {
        match &self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// The status code of a response.
    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { code, .. } => Some(*code),
            StartLine::Request { .. } => None,
        }
    }

    /// The first `name` header's value (case-insensitive, compact forms expanded).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| same_name(&h.name, name))
            .map(|h| h.value.as_str())
    }

    /// Every `name` header's value, in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |h| same_name(&h.name, name))
            .map(|h| h.value.as_str())
    }

    /// Every element of a list header (`Supported`, `Allow`, `Require`...), repeated headers
    /// and comma-separated values alike, in order; empty elements dropped.
    pub fn header_values<'a>(&'a self, name: &'a str) -> Vec<&'a str> {
        self.headers_named(name)
            .flat_map(split_commas)
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub fn call_id(&self) -> Option<&str> {
        self.header("Call-ID")
    }

    pub fn from(&self) -> Option<NameAddr> {
        self.header("From").and_then(|v| NameAddr::parse(v).ok())
    }

    pub fn to(&self) -> Option<NameAddr> {
        self.header("To").and_then(|v| NameAddr::parse(v).ok())
    }

    pub fn cseq(&self) -> Option<CSeq> {
        self.header("CSeq").and_then(|v| CSeq::parse(v).ok())
    }

    /// Every Via value, topmost first.
    pub fn vias(&self) -> Vec<Via> {
        self.headers_named("Via")
            .filter_map(|v| Via::parse_list(v).ok())
            .flatten()
            .collect()
    }

    pub fn top_via(&self) -> Option<Via> {
        self.vias().into_iter().next()
    }

    /// Every Contact address (`*` yields none).
    pub fn contacts(&self) -> Vec<NameAddr> {
        self.name_addrs("Contact")
    }

    pub fn record_routes(&self) -> Vec<NameAddr> {
        self.name_addrs("Record-Route")
    }

    pub fn routes(&self) -> Vec<NameAddr> {
        self.name_addrs("Route")
    }

    fn name_addrs(&self, name: &str) -> Vec<NameAddr> {
        self.headers_named(name)
            .filter_map(|v| NameAddr::parse_list(v).ok())
            .flatten()
            .collect()
    }

    pub fn max_forwards(&self) -> Option<u8> {
        self.header("Max-Forwards").and_then(|v| v.parse().ok())
    }

    pub fn expires(&self) -> Option<u32> {
        self.header("Expires").and_then(|v| v.parse().ok())
    }

    pub fn content_length(&self) -> Option<usize> {
        self.header("Content-Length").and_then(|v| v.parse().ok())
    }

    pub fn content_type(&self) -> Option<MediaType> {
        self.header("Content-Type")
            .and_then(|v| MediaType::parse(v).ok())
    }

    pub fn content_disposition(&self) -> Option<ContentDisposition> {
        self.header("Content-Disposition")
            .and_then(|v| ContentDisposition::parse(v).ok())
    }

    /// `WWW-Authenticate` challenges (401).
    pub fn www_authenticate(&self) -> Vec<Auth> {
        self.auths("WWW-Authenticate")
    }

    /// `Proxy-Authenticate` challenges (407).
    pub fn proxy_authenticate(&self) -> Vec<Auth> {
        self.auths("Proxy-Authenticate")
    }

    pub fn authorization(&self) -> Vec<Auth> {
        self.auths("Authorization")
    }

    pub fn proxy_authorization(&self) -> Vec<Auth> {
        self.auths("Proxy-Authorization")
    }

    fn auths(&self, name: &str) -> Vec<Auth> {
        self.headers_named(name)
            .filter_map(|v| Auth::parse(v).ok())
            .collect()
    }

    /// True when the body is `application/csta+xml`.
    pub fn is_csta(&self) -> bool {
        self.content_type()
            .is_some_and(|t| t.is(super::header::CSTA_XML))
    }

    // ---- encoding ----

    /// Writes the message. The Content-Length header is written with the body's real length
    /// (in place, or appended when missing; a stored value that already states that length,
    /// leading zeros included, is kept as is); every other header as stored.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let mut line = String::with_capacity(128);
        match &self.start {
            StartLine::Request { method, uri } => {
                let uri = uri.to_string();
                for field in [method.as_str(), uri.as_str()] {
                    if field.is_empty()
                        || field.chars().any(|c| c.is_whitespace() || c.is_control())
                    {
                        return Err(EncodeError::BadStartLine {
                            field: field.to_string(),
                        });
                    }
                }
                if !is_token(method.as_str()) {
                    return Err(EncodeError::BadStartLine {
                        field: method.to_string(),
                    });
                }
                let _ = write!(line, "{method} {uri} SIP/2.0\r\n");
            }
            StartLine::Response { code, reason } => {
                if reason.contains(['\r', '\n']) || !(100..=699).contains(code) {
                    return Err(EncodeError::BadStartLine {
                        field: format!("{code} {reason}"),
                    });
                }
                let _ = write!(line, "SIP/2.0 {code} {reason}\r\n");
            }
        }
        for h in &self.headers {
            if !is_token(&h.name) {
                return Err(EncodeError::BadHeaderName {
                    name: h.name.clone(),
                });
            }
            if h.value.contains(['\r', '\n']) {
                return Err(EncodeError::LineBreakInValue {
                    name: h.name.clone(),
                });
            }
        }
        dst.reserve(line.len() + 32 * self.headers.len() + self.body.len() + 24);
        dst.put_slice(line.as_bytes());
        let mut length_written = false;
        for h in &self.headers {
            dst.put_slice(h.name.as_bytes());
            dst.put_slice(b": ");
            if same_name(&h.name, "Content-Length") {
                if length_written {
                    // A second Content-Length would make the message ambiguous: drop it.
                    dst.truncate(dst.len() - h.name.len() - 2);
                    continue;
                }
                length_written = true;
                // The value as stored when it already states the body's length (`063` stays
                // `063`, so a decoded message encodes back to itself); the real length else.
                let v = h.value.as_str();
                let stored_ok = !v.is_empty()
                    && v.bytes().all(|b| b.is_ascii_digit())
                    && v.parse::<usize>().ok() == Some(self.body.len());
                if stored_ok {
                    dst.put_slice(v.as_bytes());
                } else {
                    dst.put_slice(self.body.len().to_string().as_bytes());
                }
            } else {
                dst.put_slice(h.value.as_bytes());
            }
            dst.put_slice(b"\r\n");
        }
        if !length_written {
            dst.put_slice(format!("Content-Length: {}\r\n", self.body.len()).as_bytes());
        }
        dst.put_slice(b"\r\n");
        dst.put_slice(&self.body);
        Ok(())
    }

    /// The encoded message as bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let mut buf = BytesMut::new();
        self.encode(&mut buf)?;
        Ok(buf.to_vec())
    }
}

/// The standard reason phrase for a status code (`Unknown` when there is none).
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        420 => "Bad Extension",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        603 => "Decline",
        _ => "Unknown",
    }
}

/// Lossy excerpt of a raw start line, for framing errors.
pub(crate) fn first_line_excerpt(data: &[u8]) -> String {
    let end = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let line = data.get(..end).unwrap_or_default();
    excerpt_bytes(line.strip_suffix(b"\r").unwrap_or(line))
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_bytes() {
            Ok(b) => f.write_str(&String::from_utf8_lossy(&b)),
            Err(e) => write!(f, "<unencodable message: {e}>"),
        }
    }
}

impl WireDecode<'_> for Message {
    type Error = MessageError;

    /// [`Message::parse`]: one message with datagram semantics.
    fn decode(input: &[u8]) -> Result<Message, MessageError> {
        Message::parse(input)
    }
}

impl WireEncode for Message {
    type Error = EncodeError;

    /// [`Message::encode`]: start line, headers with a true Content-Length, body.
    fn encode(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        Message::encode(self, out)
    }
}
