//! Building blocks shared by the ROSE, ACSE and CSTA types: opaque elements kept as received,
//! digit strings, bit strings, named ENUMERATED values and the SEQUENCE decoding pattern
//! (fields recognised by tag in order, anything unknown kept opaque).
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use super::ber::{Class, PduError, Reader, Result, Tag, Tlv, Writer};
use serde::{Serialize, Serializer};
use std::fmt;

/// An element kept exactly as received (unknown tags, unknown fields, unknown CHOICE
/// alternatives). Re-encoded byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTlv {
    pub tag: Tag,
    /// The whole element, header included.
    pub bytes: Vec<u8>,
}

impl RawTlv {
    pub fn from_tlv(t: &Tlv<'_>) -> Self {
        RawTlv {
            tag: t.tag,
            bytes: t.raw.to_vec(),
        }
    }

    /// Builds an element from a tag and content octets (definite length).
    pub fn new(tag: Tag, content: &[u8]) -> Self {
        let mut buf = bytes::BytesMut::new();
        Writer::new(&mut buf).primitive(tag, content);
        RawTlv {
            tag,
            bytes: buf.to_vec(),
        }
    }

    pub fn encode(&self, w: &mut Writer<'_>) {
        w.raw(&self.bytes);
    }
}

impl Serialize for RawTlv {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("RawTlv", 2)?;
        st.serialize_field("tag", &self.tag.to_string())?;
        st.serialize_field("bytes", &crate::hex::to_hex(&self.bytes).replace(' ', ""))?;
        st.end()
    }
}

/// A digit string (IA5String / NumberDigits), kept as bytes; printed as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Digits(pub Vec<u8>);

impl Digits {
    /// The digits as text when they are valid UTF-8 (they are ASCII on every PBX seen).
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }
}

impl From<&str> for Digits {
    fn from(s: &str) -> Self {
        Digits(s.as_bytes().to_vec())
    }
}

impl fmt::Display for Digits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl Serialize for Digits {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&String::from_utf8_lossy(&self.0))
    }
}

/// A BIT STRING: number of unused bits in the last octet, and the octets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BitString {
    pub unused_bits: u8,
    #[serde(serialize_with = "crate::hex::serialize")]
    pub bits: Vec<u8>,
}

impl BitString {
    pub fn decode(t: &Tlv<'_>, what: &str) -> Result<Self> {
        let (unused_bits, bits) = t.bit_string(what)?;
        Ok(BitString {
            unused_bits,
            bits: bits.to_vec(),
        })
    }

    pub fn encode(&self, tag: Tag, w: &mut Writer<'_>) {
        w.bit_string(tag, self.unused_bits, &self.bits);
    }

    /// Bit `n` (0 = most significant bit of the first octet).
    pub fn bit(&self, n: usize) -> bool {
        self.bits
            .get(n / 8)
            .is_some_and(|b| b & (0x80 >> (n % 8)) != 0)
    }
}

/// A type that can appear as a field of a SEQUENCE, recognised by its tag.
pub trait Field: Sized {
    /// True when an element with this tag is a value of this type.
    fn matches(tag: Tag) -> bool;
    fn decode(t: &Tlv<'_>) -> Result<Self>;
    fn encode(&self, w: &mut Writer<'_>);
}

impl Field for bool {
    fn matches(tag: Tag) -> bool {
        tag == Tag::BOOLEAN
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        t.boolean("BOOLEAN")
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.boolean(Tag::BOOLEAN, *self);
    }
}

impl Field for i64 {
    fn matches(tag: Tag) -> bool {
        tag == Tag::INTEGER
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        t.integer("INTEGER")
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.integer(Tag::INTEGER, *self);
    }
}

/// IA5String digits (universal tag 22), e.g. `forwardDN` in a ForwardParameter.
impl Field for Digits {
    fn matches(tag: Tag) -> bool {
        tag == Tag::IA5_STRING
    }
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        Ok(Digits(t.octets("IA5String")?.to_vec()))
    }
    fn encode(&self, w: &mut Writer<'_>) {
        w.primitive(Tag::IA5_STRING, &self.0);
    }
}

/// Reads the elements of a constructed value: `on_field` returns `Ok(true)` when it took the
/// element; the others are collected as opaque.
pub fn read_fields<'a>(
    t: &Tlv<'a>,
    what: &str,
    on_field: impl FnMut(&Tlv<'a>) -> Result<bool>,
) -> Result<Vec<RawTlv>> {
    read_fields_named(t, what, |_| None, on_field)
}

/// As [`read_fields`]; when an element's header is bad, `name_of` names the field its tag
/// would have filled, so the error says `connectionCleared.cause` rather than just
/// `connectionCleared`.
pub fn read_fields_named<'a>(
    t: &Tlv<'a>,
    what: &str,
    name_of: impl Fn(Tag) -> Option<&'static str>,
    mut on_field: impl FnMut(&Tlv<'a>) -> Result<bool>,
) -> Result<Vec<RawTlv>> {
    let mut r = t.reader(what)?;
    let mut unknown = Vec::new();
    loop {
        let el = match r.next("") {
            Ok(Some(el)) => el,
            Ok(None) => break,
            Err(e) => {
                let field = r.peek_tag().and_then(&name_of);
                let e = match field {
                    Some(f) => PduError {
                        context: f.to_string(),
                        ..e
                    },
                    None => e,
                };
                return Err(e.within(what));
            }
        };
        if !on_field(&el).map_err(|e| e.within(what))? {
            unknown.push(RawTlv::from_tlv(&el));
        }
    }
    Ok(unknown)
}

/// Error for a mandatory field that never came.
pub fn missing(t: &Tlv<'_>, outer: &str, field: &str) -> PduError {
    PduError::new(t.offset, field, super::ber::ErrorKind::Missing).within(outer)
}

/// Declares an ENUMERATED (or INTEGER with named values) type: named variants, `Other(code)`
/// for values outside the list, serialised as the ECMA name (or the number when unnamed).
macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal => $ecma:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $variant,)*
            /// A value outside the known list, kept as its number.
            Other(i64),
        }

        impl $name {
            /// The named value for `code`, or `Other(code)`.
            pub fn from_code(code: i64) -> Self {
                match code {
                    $($code => Self::$variant,)*
                    other => Self::Other(other),
                }
            }
            /// The number on the wire.
            pub fn code(self) -> i64 {
                match self {
                    $(Self::$variant => $code,)*
                    Self::Other(c) => c,
                }
            }
            /// The ECMA name, when the value is a known one.
            pub fn name(self) -> Option<&'static str> {
                match self {
                    $(Self::$variant => Some($ecma),)*
                    Self::Other(_) => None,
                }
            }
            /// Every named value (for tests and generators).
            pub const ALL: &'static [$name] = &[$(Self::$variant,)*];
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                match self.name() {
                    Some(n) => s.serialize_str(n),
                    None => s.serialize_i64(self.code()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{n} ({})", self.code()),
                    None => write!(f, "{}", self.code()),
                }
            }
        }
    };
}
pub(crate) use named_enum;

/// Declares a SEQUENCE type decoded by tag: each element goes to the first still-empty field
/// whose type recognises its tag (so two fields of one type fill in order), anything else is
/// kept in `unknown` and re-encoded after the known fields. `req` fields must be present.
macro_rules! sequence_type {
    ($(#[$m:meta])* $name:ident = $ecma:literal { $($(#[$fm:meta])* $field:ident : $ty:ty = $fname:literal, $req:ident;)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        pub struct $name {
            $($(#[$fm])* #[serde(rename = $fname)] pub $field: $crate::csta_ber::common::field_ty!($req, $ty),)*
            /// Elements this decoder does not know, kept as received.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub unknown: Vec<$crate::csta_ber::common::RawTlv>,
        }

        impl $name {
            /// The ECMA name of this type, used in error paths.
            pub const ECMA_NAME: &'static str = $ecma;

            #[allow(clippy::redundant_closure_call)]
            pub(crate) fn decode_contents(t: &$crate::csta_ber::ber::Tlv<'_>) -> $crate::csta_ber::ber::Result<Self> {
                use $crate::csta_ber::common::Field as _;
                $(let mut $field: Option<$ty> = None;)*
                let name_of = |tag: $crate::csta_ber::ber::Tag| -> Option<&'static str> {
                    $(if <$ty>::matches(tag) { return Some($fname); })*
                    let _ = tag;
                    None
                };
                let unknown = $crate::csta_ber::common::read_fields_named(t, $ecma, name_of, |el| {
                    $(
                        if $field.is_none() && <$ty>::matches(el.tag) {
                            $field = Some(<$ty>::decode(el).map_err(|e| e.within($fname))?);
                            return Ok(true);
                        }
                    )*
                    Ok(false)
                })?;
                Ok($name {
                    $($field: $crate::csta_ber::common::field_take!($req, $field, t, $ecma, $fname),)*
                    unknown,
                })
            }

            pub(crate) fn encode_contents(&self, w: &mut $crate::csta_ber::ber::Writer<'_>) {
                use $crate::csta_ber::common::Field as _;
                $($crate::csta_ber::common::field_put!($req, &self.$field, w);)*
                for u in &self.unknown {
                    u.encode(w);
                }
            }
        }
    };
}
pub(crate) use sequence_type;

macro_rules! field_ty {
    (req, $ty:ty) => { $ty };
    (opt, $ty:ty) => { Option<$ty> };
}
pub(crate) use field_ty;

macro_rules! field_take {
    (req, $v:ident, $t:ident, $ecma:literal, $fname:literal) => {
        match $v {
            Some(v) => v,
            None => return Err($crate::csta_ber::common::missing($t, $ecma, $fname)),
        }
    };
    (opt, $v:ident, $t:ident, $ecma:literal, $fname:literal) => {
        $v
    };
}
pub(crate) use field_take;

macro_rules! field_put {
    (req, $v:expr, $w:ident) => {
        $v.encode($w)
    };
    (opt, $v:expr, $w:ident) => {
        if let Some(v) = $v {
            v.encode($w)
        }
    };
}
pub(crate) use field_put;

/// Implements [`Field`] for a `sequence_type!` carried under a fixed tag.
macro_rules! sequence_field {
    ($name:ident, $tag:expr) => {
        impl $crate::csta_ber::common::Field for $name {
            fn matches(tag: $crate::csta_ber::ber::Tag) -> bool {
                tag == $tag
            }
            fn decode(t: &$crate::csta_ber::ber::Tlv<'_>) -> $crate::csta_ber::ber::Result<Self> {
                $name::decode_contents(t)
            }
            fn encode(&self, w: &mut $crate::csta_ber::ber::Writer<'_>) {
                w.constructed($tag, |w| self.encode_contents(w));
            }
        }
    };
}
pub(crate) use sequence_field;

/// Reads an ENUMERATED / INTEGER into a named enum.
pub fn enum_from<T>(t: &Tlv<'_>, what: &str, from: fn(i64) -> T) -> Result<T> {
    t.integer(what).map(from)
}

/// Reads a single element that must fill the whole constructed value `t`.
pub fn single_inner<'a>(t: &Tlv<'a>, what: &str) -> Result<Tlv<'a>> {
    let mut r: Reader<'a> = t.reader(what)?;
    let inner = r.read(what)?;
    r.finish(what)?;
    Ok(inner)
}

/// True for a context-specific tag `[n]`, primitive or constructed.
pub fn is_ctx(tag: Tag, n: u32) -> bool {
    tag.class == Class::Context && tag.number == n
}
