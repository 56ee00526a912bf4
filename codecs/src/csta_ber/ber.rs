//! BER primitives: a zero-copy TLV reader and a definite-length TLV writer, with errors that
//! name the byte offset within the PDU and the element being read.
//!
//! The reader never allocates from a length field: every length is checked against the bytes
//! that remain before anything is sliced, nesting is bounded by [`MAX_DEPTH`], and indefinite
//! lengths are accepted on constructed elements (the end-of-contents octets are found by walking
//! the nested elements). The writer emits definite lengths in their minimal form.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use bytes::{BufMut, BytesMut};
use serde::Serialize;
use std::fmt;
use thiserror::Error;

/// Deepest nesting of constructed elements the reader accepts.
pub const MAX_DEPTH: u8 = 32;

/// Tag class (the two top bits of the identifier octet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Class {
    Universal,
    Application,
    Context,
    Private,
}

/// A BER tag: class, constructed bit and tag number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag {
    pub class: Class,
    pub constructed: bool,
    pub number: u32,
}

impl Tag {
    pub const fn new(class: Class, constructed: bool, number: u32) -> Self {
        Tag {
            class,
            constructed,
            number,
        }
    }
    pub const fn universal(number: u32) -> Self {
        Tag::new(Class::Universal, false, number)
    }
    pub const fn context(number: u32) -> Self {
        Tag::new(Class::Context, false, number)
    }
    pub const fn context_c(number: u32) -> Self {
        Tag::new(Class::Context, true, number)
    }
    pub const fn application(number: u32) -> Self {
        Tag::new(Class::Application, false, number)
    }
    pub const fn application_c(number: u32) -> Self {
        Tag::new(Class::Application, true, number)
    }
    /// Same class and number, constructed bit set.
    pub const fn constructed(self) -> Self {
        Tag {
            constructed: true,
            ..self
        }
    }

    pub const BOOLEAN: Tag = Tag::universal(1);
    pub const INTEGER: Tag = Tag::universal(2);
    pub const BIT_STRING: Tag = Tag::universal(3);
    pub const OCTET_STRING: Tag = Tag::universal(4);
    pub const NULL: Tag = Tag::universal(5);
    pub const OID: Tag = Tag::universal(6);
    pub const EXTERNAL: Tag = Tag::new(Class::Universal, true, 8);
    pub const ENUMERATED: Tag = Tag::universal(10);
    pub const SEQUENCE: Tag = Tag::new(Class::Universal, true, 16);
    pub const IA5_STRING: Tag = Tag::universal(22);
    pub const UTC_TIME: Tag = Tag::universal(23);
    pub const GENERALIZED_TIME: Tag = Tag::universal(24);

    /// True for context-specific tags, whatever the constructed bit.
    pub fn is_context(self, number: u32) -> bool {
        self.class == Class::Context && self.number == number
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = if self.constructed {
            " (constructed)"
        } else {
            ""
        };
        match self.class {
            Class::Universal => {
                let name = match self.number {
                    1 => "BOOLEAN",
                    2 => "INTEGER",
                    3 => "BIT STRING",
                    4 => "OCTET STRING",
                    5 => "NULL",
                    6 => "OBJECT IDENTIFIER",
                    8 => "EXTERNAL",
                    10 => "ENUMERATED",
                    16 => "SEQUENCE",
                    17 => "SET",
                    22 => "IA5String",
                    23 => "UTCTime",
                    24 => "GeneralizedTime",
                    _ => return write!(f, "[UNIVERSAL {}]{c}", self.number),
                };
                write!(f, "{name}{c}")
            }
            Class::Application => write!(f, "[APPLICATION {}]{c}", self.number),
            Class::Context => write!(f, "[{}]{c}", self.number),
            Class::Private => write!(f, "[PRIVATE {}]{c}", self.number),
        }
    }
}

/// What was wrong with the input.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ErrorKind {
    #[error("empty input")]
    Empty,
    #[error("truncated {0}")]
    Truncated(&'static str),
    #[error("length {len} exceeds remaining {remaining}")]
    LengthExceedsRemaining { len: usize, remaining: usize },
    #[error("length field of {0} octets not supported")]
    LengthTooLong(u8),
    #[error("indefinite length on a primitive element")]
    IndefinitePrimitive,
    #[error("missing end-of-contents octets")]
    MissingEndOfContents,
    #[error("tag [UNIVERSAL 0] is reserved for end-of-contents")]
    ReservedTag,
    #[error("tag number too large")]
    TagTooLarge,
    #[error("nesting deeper than {0} levels")]
    TooDeep(u8),
    #[error("expected {expected}, found {found}")]
    UnexpectedTag { expected: Tag, found: Tag },
    #[error("missing element")]
    Missing,
    #[error("{0} trailing bytes")]
    Trailing(usize),
    #[error("{0}")]
    Invalid(&'static str),
}

/// A PDU that could not be decoded: the byte offset within the PDU (the BER value, not
/// counting the 2-byte frame length), the element being read (a dotted path such as
/// `connectionCleared.cause`) and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("at offset {offset} in {context}: {kind}")]
pub struct PduError {
    pub offset: usize,
    pub context: String,
    pub kind: ErrorKind,
}

impl PduError {
    pub fn new(offset: usize, what: &str, kind: ErrorKind) -> Self {
        PduError {
            offset,
            context: what.to_string(),
            kind,
        }
    }

    /// Prefixes the element path with an enclosing element's name (`cause` becomes
    /// `connectionCleared.cause`). Only runs on the error path.
    pub fn within(mut self, outer: &str) -> Self {
        self.context = if self.context.is_empty() {
            outer.to_string()
        } else {
            format!("{outer}.{}", self.context)
        };
        self
    }
}

pub type Result<T> = std::result::Result<T, PduError>;

/// One decoded TLV, borrowing from the input.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: Tag,
    /// Offset of the identifier octet within the PDU.
    pub offset: usize,
    /// Offset of the first content octet within the PDU.
    pub value_offset: usize,
    /// Content octets (without end-of-contents for indefinite lengths).
    pub value: &'a [u8],
    /// The whole element as received, header included.
    pub raw: &'a [u8],
    depth: u8,
}

impl<'a> Tlv<'a> {
    fn err(&self, what: &str, kind: ErrorKind) -> PduError {
        PduError::new(self.value_offset, what, kind)
    }

    /// Fails unless the tag is `tag`.
    pub fn expect_tag(&self, tag: Tag, what: &str) -> Result<()> {
        if self.tag == tag {
            Ok(())
        } else {
            Err(PduError::new(
                self.offset,
                what,
                ErrorKind::UnexpectedTag {
                    expected: tag,
                    found: self.tag,
                },
            ))
        }
    }

    /// A reader over the contents of a constructed element.
    pub fn reader(&self, what: &str) -> Result<Reader<'a>> {
        if !self.tag.constructed {
            return Err(PduError::new(
                self.offset,
                what,
                ErrorKind::Invalid("primitive element where constructed expected"),
            ));
        }
        let depth = self.depth + 1;
        if depth > MAX_DEPTH {
            return Err(self.err(what, ErrorKind::TooDeep(MAX_DEPTH)));
        }
        Ok(Reader {
            data: self.value,
            pos: 0,
            base: self.value_offset,
            depth,
        })
    }

    fn primitive(&self, what: &str) -> Result<&'a [u8]> {
        if self.tag.constructed {
            return Err(PduError::new(
                self.offset,
                what,
                ErrorKind::Invalid("constructed element where primitive expected"),
            ));
        }
        Ok(self.value)
    }

    /// INTEGER or ENUMERATED content (up to 8 octets, two's complement).
    pub fn integer(&self, what: &str) -> Result<i64> {
        let v = self.primitive(what)?;
        if v.is_empty() {
            return Err(self.err(what, ErrorKind::Invalid("empty integer")));
        }
        if v.len() > 8 {
            return Err(self.err(what, ErrorKind::Invalid("integer longer than 8 octets")));
        }
        let mut n: i64 = if v.first().is_some_and(|b| b & 0x80 != 0) {
            -1
        } else {
            0
        };
        for &b in v {
            n = (n << 8) | i64::from(b);
        }
        Ok(n)
    }

    pub fn boolean(&self, what: &str) -> Result<bool> {
        match self.primitive(what)? {
            [b] => Ok(*b != 0),
            _ => Err(self.err(what, ErrorKind::Invalid("BOOLEAN must be one octet"))),
        }
    }

    pub fn null(&self, what: &str) -> Result<()> {
        if self.primitive(what)?.is_empty() {
            Ok(())
        } else {
            Err(self.err(what, ErrorKind::Invalid("NULL with content")))
        }
    }

    /// Primitive string content (OCTET STRING, IA5String and implicitly tagged strings).
    pub fn octets(&self, what: &str) -> Result<&'a [u8]> {
        self.primitive(what)
    }

    /// OBJECT IDENTIFIER content as a dotted string.
    pub fn oid(&self, what: &str) -> Result<String> {
        decode_oid(self.primitive(what)?).map_err(|k| self.err(what, k))
    }

    /// BIT STRING content: (unused bits, octets).
    pub fn bit_string(&self, what: &str) -> Result<(u8, &'a [u8])> {
        match self.primitive(what)? {
            [unused, rest @ ..] if *unused < 8 && (!rest.is_empty() || *unused == 0) => {
                Ok((*unused, rest))
            }
            _ => Err(self.err(what, ErrorKind::Invalid("bad BIT STRING"))),
        }
    }
}

/// Decodes OID content octets into dotted form.
pub fn decode_oid(v: &[u8]) -> std::result::Result<String, ErrorKind> {
    if v.is_empty() {
        return Err(ErrorKind::Invalid("empty OBJECT IDENTIFIER"));
    }
    let mut arcs: Vec<u64> = Vec::with_capacity(v.len() + 1);
    let mut acc: u64 = 0;
    let mut in_arc = false;
    for &b in v {
        if acc > (u64::MAX >> 7) {
            return Err(ErrorKind::Invalid("OBJECT IDENTIFIER arc too large"));
        }
        acc = (acc << 7) | u64::from(b & 0x7f);
        in_arc = true;
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                let (first, second) = match acc {
                    0..=39 => (0, acc),
                    40..=79 => (1, acc - 40),
                    _ => (2, acc - 80),
                };
                arcs.push(first);
                arcs.push(second);
            } else {
                arcs.push(acc);
            }
            acc = 0;
            in_arc = false;
        }
    }
    if in_arc {
        return Err(ErrorKind::Invalid("truncated OBJECT IDENTIFIER arc"));
    }
    let mut s = String::with_capacity(arcs.len() * 4);
    for (i, a) in arcs.iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str(&a.to_string());
    }
    Ok(s)
}

/// Encodes a dotted OID into content octets; `None` if the text is not a valid OID.
pub fn encode_oid(dotted: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u64> = dotted
        .split('.')
        .map(|p| p.parse::<u64>().ok())
        .collect::<Option<_>>()?;
    let (&a0, rest) = arcs.split_first()?;
    let (&a1, rest) = rest.split_first()?;
    if a0 > 2 || (a0 < 2 && a1 > 39) {
        return None;
    }
    let first = (a0 * 40).checked_add(a1)?;
    let mut out = Vec::with_capacity(arcs.len() + 2);
    let mut push_arc = |mut v: u64| {
        let mut tmp = [0u8; 10];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                break;
            }
        }
        let last = tmp.len() - 1;
        for (j, b) in tmp.iter().enumerate().skip(i) {
            out.push(if j == last { *b } else { b | 0x80 });
        }
    };
    push_arc(first);
    for &a in rest {
        push_arc(a);
    }
    Some(out)
}

/// Sequential reader over a run of TLVs.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
    depth: u8,
}

impl<'a> Reader<'a> {
    /// A reader over a whole PDU (offsets start at 0).
    pub fn new(data: &'a [u8]) -> Self {
        Reader {
            data,
            pos: 0,
            base: 0,
            depth: 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// Offset of the next element within the PDU.
    pub fn offset(&self) -> usize {
        self.base + self.pos
    }

    fn err(&self, at: usize, what: &str, kind: ErrorKind) -> PduError {
        PduError::new(self.base + at, what, kind)
    }

    /// Reads the tag at `pos`; returns the tag and the position after it.
    fn read_tag(&self, mut pos: usize, what: &str) -> Result<(Tag, usize)> {
        let start = pos;
        let Some(&b) = self.data.get(pos) else {
            return Err(self.err(start, what, ErrorKind::Truncated("tag")));
        };
        pos += 1;
        let class = match b >> 6 {
            0 => Class::Universal,
            1 => Class::Application,
            2 => Class::Context,
            _ => Class::Private,
        };
        let constructed = b & 0x20 != 0;
        let mut number = u32::from(b & 0x1f);
        if number == 0x1f {
            number = 0;
            let mut count = 0;
            loop {
                let Some(&nb) = self.data.get(pos) else {
                    return Err(self.err(start, what, ErrorKind::Truncated("tag")));
                };
                pos += 1;
                count += 1;
                if count > 4 || number > (u32::MAX >> 7) {
                    return Err(self.err(start, what, ErrorKind::TagTooLarge));
                }
                number = (number << 7) | u32::from(nb & 0x7f);
                if nb & 0x80 == 0 {
                    break;
                }
            }
        }
        Ok((
            Tag {
                class,
                constructed,
                number,
            },
            pos,
        ))
    }

    /// Reads one TLV at `pos` (relative to this reader's data), returning it and the position
    /// after it. `depth` is the nesting level of the element.
    fn read_at(&self, pos: usize, depth: u8, what: &str) -> Result<(Tlv<'a>, usize)> {
        let start = pos;
        let (tag, mut pos) = self.read_tag(pos, what)?;
        if tag.class == Class::Universal && tag.number == 0 {
            // `00 00` ends an indefinite-length encoding (the loop below consumes it before
            // reading an element); anywhere else tag [UNIVERSAL 0] is reserved by X.690, and
            // keeping it as an opaque element would turn into end-of-contents as soon as it
            // sits inside an indefinite-length parent.
            return Err(self.err(start, what, ErrorKind::ReservedTag));
        }
        let Some(&lb) = self.data.get(pos) else {
            return Err(self.err(start, what, ErrorKind::Truncated("length")));
        };
        pos += 1;
        if lb == 0x80 {
            if !tag.constructed {
                return Err(self.err(start, what, ErrorKind::IndefinitePrimitive));
            }
            if depth + 1 > MAX_DEPTH {
                return Err(self.err(start, what, ErrorKind::TooDeep(MAX_DEPTH)));
            }
            let value_start = pos;
            loop {
                match self.data.get(pos..pos + 2) {
                    Some([0, 0]) => break,
                    Some(_) => {
                        let (_, next) = self.read_at(pos, depth + 1, what)?;
                        pos = next;
                    }
                    None => return Err(self.err(start, what, ErrorKind::MissingEndOfContents)),
                }
            }
            let value = self.data.get(value_start..pos).unwrap_or_default();
            let end = pos + 2;
            let raw = self.data.get(start..end).unwrap_or_default();
            let tlv = Tlv {
                tag,
                offset: self.base + start,
                value_offset: self.base + value_start,
                value,
                raw,
                depth,
            };
            return Ok((tlv, end));
        }
        let len = if lb < 0x80 {
            usize::from(lb)
        } else {
            let n = lb & 0x7f;
            if n > 4 {
                return Err(self.err(start, what, ErrorKind::LengthTooLong(n)));
            }
            let Some(lbytes) = self.data.get(pos..pos + usize::from(n)) else {
                return Err(self.err(start, what, ErrorKind::Truncated("length")));
            };
            pos += usize::from(n);
            lbytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b))
        };
        let remaining = self.data.len() - pos;
        if len > remaining {
            return Err(self.err(
                start,
                what,
                ErrorKind::LengthExceedsRemaining { len, remaining },
            ));
        }
        let value = self.data.get(pos..pos + len).unwrap_or_default();
        let raw = self.data.get(start..pos + len).unwrap_or_default();
        let tlv = Tlv {
            tag,
            offset: self.base + start,
            value_offset: self.base + pos,
            value,
            raw,
            depth,
        };
        Ok((tlv, pos + len))
    }

    /// The next element, or `None` at the end of the contents.
    pub fn next(&mut self, what: &str) -> Result<Option<Tlv<'a>>> {
        if self.is_empty() {
            return Ok(None);
        }
        let (tlv, next) = self.read_at(self.pos, self.depth, what)?;
        self.pos = next;
        Ok(Some(tlv))
    }

    /// The next element, which must be there.
    pub fn read(&mut self, what: &str) -> Result<Tlv<'a>> {
        match self.next(what)? {
            Some(t) => Ok(t),
            None => Err(self.err(self.pos, what, ErrorKind::Missing)),
        }
    }

    /// The tag of the next element, if there is one and it parses.
    pub fn peek_tag(&self) -> Option<Tag> {
        if self.is_empty() {
            return None;
        }
        self.read_tag(self.pos, "").ok().map(|(t, _)| t)
    }

    /// The next element, which must carry `tag`.
    pub fn expect(&mut self, tag: Tag, what: &str) -> Result<Tlv<'a>> {
        let at = self.pos;
        let t = self.read(what)?;
        if t.tag != tag {
            return Err(self.err(
                at,
                what,
                ErrorKind::UnexpectedTag {
                    expected: tag,
                    found: t.tag,
                },
            ));
        }
        Ok(t)
    }

    /// The next element if it carries `tag`; otherwise nothing is consumed.
    pub fn optional(&mut self, tag: Tag, what: &str) -> Result<Option<Tlv<'a>>> {
        if self.peek_tag() == Some(tag) {
            self.next(what)
        } else {
            Ok(None)
        }
    }

    /// Fails if anything is left.
    pub fn finish(&self, what: &str) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(self.err(
                self.pos,
                what,
                ErrorKind::Trailing(self.data.len() - self.pos),
            ))
        }
    }
}

/// Reads exactly one TLV covering the whole input.
pub fn read_single<'a>(data: &'a [u8], what: &str) -> Result<Tlv<'a>> {
    if data.is_empty() {
        return Err(PduError::new(0, what, ErrorKind::Empty));
    }
    let mut r = Reader::new(data);
    let t = r.read(what)?;
    r.finish(what)?;
    Ok(t)
}

/// Appends TLVs with definite, minimal lengths to a buffer.
pub struct Writer<'a> {
    buf: &'a mut BytesMut,
}

impl<'a> Writer<'a> {
    pub fn new(buf: &'a mut BytesMut) -> Self {
        Writer { buf }
    }

    fn tag(&mut self, tag: Tag) {
        let class = match tag.class {
            Class::Universal => 0x00,
            Class::Application => 0x40,
            Class::Context => 0x80,
            Class::Private => 0xc0,
        };
        let cons = if tag.constructed { 0x20 } else { 0 };
        if tag.number < 0x1f {
            self.buf.put_u8(class | cons | tag.number as u8);
        } else {
            self.buf.put_u8(class | cons | 0x1f);
            let mut tmp = [0u8; 5];
            let mut i = tmp.len();
            let mut n = tag.number;
            loop {
                i -= 1;
                tmp[i] = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    break;
                }
            }
            let last = tmp.len() - 1;
            for (j, b) in tmp.iter().enumerate().skip(i) {
                self.buf.put_u8(if j == last { *b } else { b | 0x80 });
            }
        }
    }

    fn length(&mut self, len: usize) {
        if len < 0x80 {
            self.buf.put_u8(len as u8);
        } else {
            let bytes = (len as u64).to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            self.buf.put_u8(0x80 | (8 - skip) as u8);
            self.buf.put_slice(&bytes[skip..]);
        }
    }

    /// A primitive element.
    pub fn primitive(&mut self, tag: Tag, content: &[u8]) {
        self.tag(tag);
        self.length(content.len());
        self.buf.put_slice(content);
    }

    /// A constructed element whose contents `f` writes.
    pub fn constructed(&mut self, tag: Tag, f: impl FnOnce(&mut Writer<'_>)) {
        self.tag(tag);
        let len_pos = self.buf.len();
        self.buf.put_u8(0);
        let start = self.buf.len();
        f(&mut Writer { buf: self.buf });
        let len = self.buf.len() - start;
        if len < 0x80 {
            self.buf[len_pos] = len as u8;
        } else {
            let bytes = (len as u64).to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            let n = 8 - skip;
            let end = self.buf.len();
            self.buf.resize(end + n, 0);
            self.buf.copy_within(start..end, start + n);
            self.buf[len_pos] = 0x80 | n as u8;
            self.buf[len_pos + 1..len_pos + 1 + n].copy_from_slice(&bytes[skip..]);
        }
    }

    /// Bytes already encoded (opaque elements kept as received).
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.put_slice(bytes);
    }

    /// INTEGER or ENUMERATED content in minimal two's complement, under `tag`.
    pub fn integer(&mut self, tag: Tag, v: i64) {
        let bytes = v.to_be_bytes();
        let mut start = 0;
        while start < 7 {
            let b = bytes[start];
            let next = bytes[start + 1];
            if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
                start += 1;
            } else {
                break;
            }
        }
        self.primitive(tag, &bytes[start..]);
    }

    pub fn boolean(&mut self, tag: Tag, v: bool) {
        self.primitive(tag, &[if v { 0xff } else { 0 }]);
    }

    pub fn null(&mut self, tag: Tag) {
        self.primitive(tag, &[]);
    }

    /// OBJECT IDENTIFIER from dotted text; an invalid OID is written as empty content (the
    /// types that carry OIDs only hold ones that were decoded or validated).
    pub fn oid(&mut self, tag: Tag, dotted: &str) {
        let content = encode_oid(dotted).unwrap_or_default();
        self.primitive(tag, &content);
    }

    pub fn bit_string(&mut self, tag: Tag, unused: u8, bits: &[u8]) {
        self.tag(tag);
        self.length(bits.len() + 1);
        self.buf.put_u8(unused);
        self.buf.put_slice(bits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_and_reports_offsets() {
        // SEQUENCE { INTEGER 5, [APPLICATION 14] 3 }
        let data = [0x30, 0x06, 0x02, 0x01, 0x05, 0x4e, 0x01, 0x03];
        let t = read_single(&data, "seq").unwrap();
        let mut r = t.reader("seq").unwrap();
        assert_eq!(
            r.expect(Tag::INTEGER, "n").unwrap().integer("n").unwrap(),
            5
        );
        let s = r.read("state").unwrap();
        assert_eq!(s.tag, Tag::application(14));
        assert_eq!(s.value_offset, 7);
        assert!(r.next("x").unwrap().is_none());
    }

    #[test]
    fn length_beyond_input_is_an_error_with_offset() {
        let data = [0x30, 0x05, 0x0a, 0x09, 0x01, 0x02, 0x03];
        let t = read_single(&data, "seq").unwrap();
        let mut r = t.reader("seq").unwrap();
        let e = r.read("cause").unwrap_err().within("connectionCleared");
        assert_eq!(
            e.to_string(),
            "at offset 2 in connectionCleared.cause: length 9 exceeds remaining 3"
        );
    }

    #[test]
    fn indefinite_length_and_multibyte_tags() {
        // [APPLICATION 30] indefinite { [31] 01, [200] 02 } EOC
        let data = [
            0x7e, 0x80, 0x9f, 0x1f, 0x01, 0xaa, 0x9f, 0x81, 0x48, 0x01, 0xbb, 0x00, 0x00,
        ];
        let t = read_single(&data, "x").unwrap();
        assert_eq!(t.value.len(), 9);
        let mut r = t.reader("x").unwrap();
        assert_eq!(r.read("a").unwrap().tag, Tag::context(31));
        assert_eq!(r.read("b").unwrap().tag, Tag::context(200));
        let mut buf = BytesMut::new();
        Writer::new(&mut buf).primitive(Tag::context(200), &[0xbb]);
        assert_eq!(&buf[..], &[0x9f, 0x81, 0x48, 0x01, 0xbb]);
    }

    #[test]
    fn universal_zero_tag_is_refused_outside_end_of_contents() {
        // SEQUENCE { INTEGER 5, 00 00 }: definite length, so `00 00` is not end-of-contents.
        let data = [0x30, 0x05, 0x02, 0x01, 0x05, 0x00, 0x00];
        let t = read_single(&data, "seq").unwrap();
        let mut r = t.reader("seq").unwrap();
        r.read("n").unwrap();
        let e = r.read("x").unwrap_err();
        assert_eq!(e.offset, 5);
        assert_eq!(e.kind, ErrorKind::ReservedTag);
        // The long form of the same tag, and a constructed one, too.
        for bad in [&[0x1f, 0x00, 0x00][..], &[0x20, 0x00], &[0x00, 0x01, 0x00]] {
            let e = read_single(bad, "x").unwrap_err();
            assert_eq!(
                (e.offset, e.kind),
                (0, ErrorKind::ReservedTag),
                "{bad:02x?}"
            );
        }
        // Inside an indefinite length, `00 00` still ends the contents.
        let data = [0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00];
        assert_eq!(
            read_single(&data, "seq").unwrap().value,
            &[0x02, 0x01, 0x05]
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let mut data = Vec::new();
        for _ in 0..40 {
            data.extend_from_slice(&[0x30, 0x80]);
        }
        for _ in 0..40 {
            data.extend_from_slice(&[0, 0]);
        }
        let e = read_single(&data, "deep").unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooDeep(MAX_DEPTH));
    }

    #[test]
    fn writer_uses_minimal_lengths_and_integers() {
        let mut buf = BytesMut::new();
        let mut w = Writer::new(&mut buf);
        w.constructed(Tag::SEQUENCE, |w| {
            w.primitive(Tag::OCTET_STRING, &[0u8; 200])
        });
        assert_eq!(&buf[..5], &[0x30, 0x81, 0xcb, 0x04, 0x81]);
        for v in [0i64, 127, 128, -1, -128, -129, 0x2a30, i64::MAX, i64::MIN] {
            let mut b = BytesMut::new();
            Writer::new(&mut b).integer(Tag::INTEGER, v);
            assert_eq!(read_single(&b, "i").unwrap().integer("i").unwrap(), v);
        }
        let mut b = BytesMut::new();
        Writer::new(&mut b).integer(Tag::INTEGER, 128);
        assert_eq!(&b[..], &[0x02, 0x02, 0x00, 0x80]);
    }

    #[test]
    fn oids_round_trip() {
        for s in [
            "1.3.12.0.180",
            "1.3.12.0.218.200",
            "1.3.12.1206.521",
            "2.999.3",
        ] {
            let enc = encode_oid(s).unwrap();
            assert_eq!(decode_oid(&enc).unwrap(), s);
        }
        assert_eq!(
            encode_oid("1.3.12.0.218.200").unwrap(),
            vec![0x2b, 0x0c, 0x00, 0x81, 0x5a, 0x81, 0x48]
        );
    }
}
