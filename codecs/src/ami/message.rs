//! One AMI message (event, response or action): its ordered `Key: value` fields and, for a
//! legacy `Response: Follows`, the command output lines.
//!
//! Storage is compact and owned: every key, value and output line is appended to one `String`
//! and the message keeps `(start, end)` spans into it, so a decoded message costs two
//! allocations whatever its field count. Keys are compared ASCII-case-insensitively; repeated
//! keys (`ChanVariable`, `Variable`, `Output`) keep their order.

use std::fmt;

use bytes::{BufMut, BytesMut};
use serde::ser::{SerializeMap, SerializeSeq};

use super::error::EncodeError;

/// Marker ending the command output of a legacy `Response: Follows`.
pub const END_COMMAND: &str = "--END COMMAND--";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Field {
    key: (usize, usize),
    value: (usize, usize),
}

/// What a message is, decided by its first key (`Event`, `Response` or `Action`). An event may
/// also carry a `Response` field (`OriginateResponse` does): only the first key counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    /// Has an `Event` field.
    Event,
    /// Has a `Response` field.
    Response,
    /// Has an `Action` field.
    Action,
    /// None of the three.
    Other,
}

/// The `EventList` field of a response or event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventListMark {
    /// `EventList: start` on the response that opens a list.
    Start,
    /// `EventList: Complete` on the closing `...Complete` event.
    Complete,
    /// `EventList: Cancelled`.
    Cancelled,
}

/// An AMI message: ordered fields, case-insensitive lookup, and the command output of a
/// `Response: Follows`.
#[derive(Clone, Default)]
pub struct Message {
    text: String,
    fields: Vec<Field>,
    output: Vec<(usize, usize)>,
}

/// True when `key: value` is the first line of a legacy `Response: Follows`.
pub(crate) fn is_follows_line(key: &str, value: &str) -> bool {
    key.eq_ignore_ascii_case("Response") && value.trim().eq_ignore_ascii_case("Follows")
}

impl Message {
    /// An empty message; add fields with [`Message::push`] or [`Message::with`].
    pub fn new() -> Self {
        Self::default()
    }

    /// A message with room for `fields` fields and `bytes` bytes of keys and values.
    pub fn with_capacity(fields: usize, bytes: usize) -> Self {
        Message {
            text: String::with_capacity(bytes),
            fields: Vec::with_capacity(fields),
            output: Vec::new(),
        }
    }

    /// Builds a message from `(key, value)` pairs, in order.
    pub fn from_fields<K: AsRef<str>, V: AsRef<str>>(
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        let mut m = Message::new();
        for (k, v) in fields {
            m.push(k.as_ref(), v.as_ref());
        }
        m
    }

    /// Appends a field (builder style).
    pub fn with(mut self, key: &str, value: &str) -> Self {
        self.push(key, value);
        self
    }

    /// Appends a field. Nothing is checked here; [`Message::encode`] rejects what cannot go on
    /// the wire (CR or LF anywhere, a colon in a key, ...).
    pub fn push(&mut self, key: &str, value: &str) {
        let k0 = self.text.len();
        self.text.push_str(key);
        let k1 = self.text.len();
        self.text.push_str(value);
        let v1 = self.text.len();
        self.fields.push(Field {
            key: (k0, k1),
            value: (k1, v1),
        });
    }

    /// Appends a line of legacy command output (only meaningful on a `Response: Follows`).
    pub fn push_output_line(&mut self, line: &str) {
        let s = self.text.len();
        self.text.push_str(line);
        self.output.push((s, self.text.len()));
    }

    /// Appends a field from raw wire bytes: UTF-8 when it is, otherwise read as Latin-1 (what
    /// older Asterisk configurations send for caller names).
    pub(crate) fn push_raw(&mut self, key: &[u8], value: &[u8]) {
        let k0 = self.text.len();
        push_lossless(&mut self.text, key);
        let k1 = self.text.len();
        push_lossless(&mut self.text, value);
        let v1 = self.text.len();
        self.fields.push(Field {
            key: (k0, k1),
            value: (k1, v1),
        });
    }

    pub(crate) fn push_output_raw(&mut self, line: &[u8]) {
        let s = self.text.len();
        push_lossless(&mut self.text, line);
        self.output.push((s, self.text.len()));
    }

    fn span(&self, (s, e): (usize, usize)) -> &str {
        self.text.get(s..e).unwrap_or("")
    }

    /// Number of fields (output lines not counted).
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True when the message has no field.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields in wire order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.fields
            .iter()
            .map(|f| (self.span(f.key), self.span(f.value)))
    }

    /// The first value of `key` (ASCII case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// Every value of `key` (ASCII case-insensitive), in wire order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    }

    /// True when the message has `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// What the message is, by its first key.
    pub fn kind(&self) -> MessageKind {
        match self.fields().next() {
            Some((k, _)) if k.eq_ignore_ascii_case("Event") => MessageKind::Event,
            Some((k, _)) if k.eq_ignore_ascii_case("Response") => MessageKind::Response,
            Some((k, _)) if k.eq_ignore_ascii_case("Action") => MessageKind::Action,
            _ => MessageKind::Other,
        }
    }

    /// True for an event.
    pub fn is_event(&self) -> bool {
        self.kind() == MessageKind::Event
    }

    /// True for a response.
    pub fn is_response(&self) -> bool {
        self.kind() == MessageKind::Response
    }

    /// True for an action.
    pub fn is_action(&self) -> bool {
        self.kind() == MessageKind::Action
    }

    fn first_value_if(&self, kind: MessageKind) -> Option<&str> {
        if self.kind() == kind {
            self.fields().next().map(|(_, v)| v)
        } else {
            None
        }
    }

    /// The event name (`Newchannel`, `Hangup`, ...) when the message is an event.
    pub fn event(&self) -> Option<&str> {
        self.first_value_if(MessageKind::Event)
    }

    /// The response status (`Success`, `Error`, `Follows`, `Goodbye`) when it is a response.
    pub fn response(&self) -> Option<&str> {
        self.first_value_if(MessageKind::Response)
    }

    /// The action name when the message is an action (as a simulated Asterisk receives it).
    pub fn action(&self) -> Option<&str> {
        self.first_value_if(MessageKind::Action)
    }

    /// The `ActionID` field.
    pub fn action_id(&self) -> Option<&str> {
        self.get("ActionID")
    }

    /// True for `Response: Error`.
    pub fn is_error(&self) -> bool {
        self.response()
            .is_some_and(|r| r.trim().eq_ignore_ascii_case("Error"))
    }

    /// True for `Response: Success`.
    pub fn is_success(&self) -> bool {
        self.response()
            .is_some_and(|r| r.trim().eq_ignore_ascii_case("Success"))
    }

    /// True for a legacy `Response: Follows` (command output ended by `--END COMMAND--`).
    pub fn is_follows(&self) -> bool {
        self.fields()
            .next()
            .is_some_and(|(k, v)| is_follows_line(k, v))
    }

    /// The `EventList` mark, when present and recognised.
    pub fn event_list(&self) -> Option<EventListMark> {
        let v = self.get("EventList")?.trim();
        if v.eq_ignore_ascii_case("start") {
            Some(EventListMark::Start)
        } else if v.eq_ignore_ascii_case("Complete") {
            Some(EventListMark::Complete)
        } else if v.eq_ignore_ascii_case("Cancelled") {
            Some(EventListMark::Cancelled)
        } else {
            None
        }
    }

    /// Command output: the body lines of a `Response: Follows`, otherwise the `Output` fields
    /// (how Asterisk 14+ returns `Command` output).
    pub fn output(&self) -> Vec<&str> {
        if self.output.is_empty() {
            self.get_all("Output").collect()
        } else {
            self.output.iter().map(|&s| self.span(s)).collect()
        }
    }

    /// The body lines of a legacy `Response: Follows` only.
    pub fn follows_output(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.output.iter().map(|&s| self.span(s))
    }

    /// Writes the message: `Key: value` lines with CRLF, the command output and
    /// `--END COMMAND--` for a `Response: Follows`, then a blank line. On error nothing is
    /// left in `dst`.
    pub fn encode(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        let start = dst.len();
        let r = self.encode_inner(dst);
        if r.is_err() {
            dst.truncate(start);
        }
        r
    }

    fn encode_inner(&self, dst: &mut BytesMut) -> Result<(), EncodeError> {
        if self.fields.is_empty() {
            return Err(EncodeError::Empty);
        }
        let follows = self.is_follows();
        if !follows && !self.output.is_empty() {
            return Err(EncodeError::OutputWithoutFollows);
        }
        dst.reserve(self.text.len() + self.fields.len() * 4 + 4);
        for (k, v) in self.fields() {
            check_key(k, follows)?;
            check_value(k, v)?;
            put_field(dst, k, v);
        }
        if follows {
            for line in self.follows_output() {
                if line.contains(['\r', '\n']) {
                    return Err(EncodeError::LineBreakInValue {
                        key: "output".into(),
                    });
                }
                if line.ends_with(END_COMMAND) {
                    return Err(EncodeError::EndCommandInOutput);
                }
                dst.put_slice(line.as_bytes());
                dst.put_slice(b"\r\n");
            }
            dst.put_slice(END_COMMAND.as_bytes());
            dst.put_slice(b"\r\n");
        }
        dst.put_slice(b"\r\n");
        Ok(())
    }

    /// The encoded bytes (see [`Message::encode`]).
    pub fn to_bytes(&self) -> Result<BytesMut, EncodeError> {
        let mut b = BytesMut::new();
        self.encode(&mut b)?;
        Ok(b)
    }
}

pub(crate) fn put_field(dst: &mut BytesMut, k: &str, v: &str) {
    dst.put_slice(k.as_bytes());
    dst.put_slice(b": ");
    dst.put_slice(v.as_bytes());
    dst.put_slice(b"\r\n");
}

/// A key must survive the trip: not empty, no colon, no CR/LF, no surrounding whitespace (the
/// decoder trims it), and in a `Response: Follows` no whitespace at all (the decoder tells
/// headers from output by that).
pub(crate) fn check_key(k: &str, follows: bool) -> Result<(), EncodeError> {
    let bad = k.is_empty()
        || k.contains([':', '\r', '\n'])
        || k.trim_matches(|c: char| c.is_ascii_whitespace()) != k
        || (follows && k.bytes().any(|b| b.is_ascii_whitespace()));
    if bad {
        Err(EncodeError::InvalidKey { key: k.to_string() })
    } else {
        Ok(())
    }
}

/// A value must not contain CR or LF: it would end the line and let the rest be read as
/// another field (header injection).
pub(crate) fn check_value(k: &str, v: &str) -> Result<(), EncodeError> {
    if v.contains(['\r', '\n']) {
        Err(EncodeError::LineBreakInValue { key: k.to_string() })
    } else {
        Ok(())
    }
}

/// Appends bytes as text: UTF-8 when valid, otherwise each byte as the Latin-1 character.
fn push_lossless(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.extend(bytes.iter().map(|&b| char::from(b))),
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.fields.len() == other.fields.len()
            && self.output.len() == other.output.len()
            && self.fields().eq(other.fields())
            && self.follows_output().eq(other.follows_output())
    }
}

impl Eq for Message {}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        for field in self.fields() {
            l.entry(&field);
        }
        for line in self.follows_output() {
            l.entry(&("(output)", line));
        }
        l.finish()
    }
}

/// Serialises as a JSON-style map in wire order; a repeated key becomes one entry holding the
/// array of its values (at the place of its first occurrence), so no key is lost or
/// duplicated. `Response: Follows` output lines appear under `Output`.
impl serde::Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Values<'a>(Vec<&'a str>);
        impl serde::Serialize for Values<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut seq = s.serialize_seq(Some(self.0.len()))?;
                for v in &self.0 {
                    seq.serialize_element(v)?;
                }
                seq.end()
            }
        }
        let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
        for (k, v) in self.fields() {
            match groups.iter_mut().find(|(gk, _)| gk.eq_ignore_ascii_case(k)) {
                Some((_, vs)) => vs.push(v),
                None => groups.push((k, vec![v])),
            }
        }
        if !self.output.is_empty() {
            let lines: Vec<&str> = self.follows_output().collect();
            match groups
                .iter_mut()
                .find(|(gk, _)| gk.eq_ignore_ascii_case("Output"))
            {
                Some((_, vs)) => vs.extend(lines),
                None => groups.push(("Output", lines)),
            }
        }
        let mut map = s.serialize_map(Some(groups.len()))?;
        for (k, vs) in &groups {
            match vs.as_slice() {
                [one] if !k.eq_ignore_ascii_case("Output") || self.output.is_empty() => {
                    map.serialize_entry(k, one)?
                }
                _ => map.serialize_entry(k, &Values(vs.clone()))?,
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_case_insensitive_and_keeps_repeats() {
        let m = Message::new()
            .with("Event", "Newchannel")
            .with("ChanVariable", "a=1")
            .with("Uniqueid", "1.2")
            .with("chanvariable", "b=2");
        assert_eq!(m.get("UNIQUEID"), Some("1.2"));
        assert_eq!(
            m.get_all("ChanVariable").collect::<Vec<_>>(),
            ["a=1", "b=2"]
        );
        assert_eq!(m.event(), Some("Newchannel"));
        assert!(m.is_event() && !m.is_response());
        assert_eq!(m.get("Missing"), None);
    }

    #[test]
    fn encodes_crlf_and_rejects_injection() {
        let m = Message::new()
            .with("Response", "Success")
            .with("ActionID", "7");
        assert_eq!(
            &m.to_bytes().unwrap()[..],
            b"Response: Success\r\nActionID: 7\r\n\r\n"
        );
        let bad = Message::new()
            .with("Action", "Ping")
            .with("ActionID", "1\r\nAction: Hangup");
        let mut b = BytesMut::from(&b"keep"[..]);
        assert!(matches!(
            bad.encode(&mut b),
            Err(EncodeError::LineBreakInValue { .. })
        ));
        assert_eq!(&b[..], b"keep");
    }

    #[test]
    fn serialises_as_ordered_map() {
        let m = Message::new()
            .with("Event", "X")
            .with("Variable", "a=1")
            .with("Foo", "f")
            .with("Variable", "b=2");
        let j = serde_json::to_string(&m).unwrap();
        assert_eq!(j, r#"{"Event":"X","Variable":["a=1","b=2"],"Foo":"f"}"#);
    }
}
