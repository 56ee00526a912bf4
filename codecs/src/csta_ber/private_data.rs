//! The `[APPLICATION 30]` block OXE appends to its events (CSTACommonArguments shape:
//! `[0]` security data holding the event time as a UTCTime, `[1]` a list of private data
//! items, each `SEQUENCE { OID, value }` under ALE's 1.3.12.1206.x arcs). The OIDs' meanings
//! are not public, so values are kept as opaque bytes. Decoding this block never fails: what
//! does not fit is kept as received.

use super::ber::{Result, Tag, Tlv, Writer};
use super::common::{Field, RawTlv};
use serde::Serialize;

/// The `[APPLICATION 30]` tag of a private data element.
pub const PRIVATE_DATA: Tag = Tag::application_c(30);

/// The whole `[APPLICATION 30]` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrivateData {
    /// The event time from `[0] { UTCTime }`.
    pub timestamp: Option<UtcTime>,
    /// Other elements inside `[0]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub security_other: Vec<RawTlv>,
    /// The `[1]` list of (OID, value) items.
    pub items: Vec<PrivateItem>,
    /// Other elements of the block.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

/// A UTCTime (`YYMMDDhhmm[ss]Z` or with a `+hhmm`/`-hhmm` offset): the text as received and,
/// when it parses, seconds since the Unix epoch (years 50..99 are 19xx, 00..49 are 20xx).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UtcTime {
    /// The time as received.
    pub raw: String,
    /// Seconds since the Unix epoch, when the text is a time we read.
    pub unix_seconds: Option<i64>,
}

impl UtcTime {
    /// Reads `raw`, keeping it whatever it holds.
    pub fn parse(raw: &str) -> Self {
        UtcTime {
            raw: raw.to_string(),
            unix_seconds: parse_utc_time(raw),
        }
    }
}

/// One private data item.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum PrivateItem {
    /// `SEQUENCE { OBJECT IDENTIFIER, value... }`: the OID and the encoded value element(s).
    Oid {
        /// The dotted object identifier naming the vendor data.
        oid: String,
        #[serde(serialize_with = "crate::hex::serialize")]
        /// The encoded value element(s), as received.
        value: Vec<u8>,
    },
    /// Anything else, kept as received.
    Unknown(RawTlv),
}

fn two(s: &[u8], i: usize) -> Option<i64> {
    let a = *s.get(i)?;
    let b = *s.get(i + 1)?;
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some(i64::from(a - b'0') * 10 + i64::from(b - b'0'))
    } else {
        None
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses a UTCTime into seconds since the Unix epoch.
pub fn parse_utc_time(raw: &str) -> Option<i64> {
    let s = raw.as_bytes();
    let yy = two(s, 0)?;
    let (mo, d, h, mi) = (two(s, 2)?, two(s, 4)?, two(s, 6)?, two(s, 8)?);
    let (sec, rest) = match two(s, 10) {
        Some(v) => (v, s.get(12..)?),
        None => (0, s.get(10..)?),
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let offset = match rest {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), ..] if rest.len() == 5 => {
            let oh = two(rest, 1)?;
            let om = two(rest, 3)?;
            let o = oh * 3600 + om * 60;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    let year = if yy < 50 { 2000 + yy } else { 1900 + yy };
    Some(days_from_civil(year, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

impl Field for PrivateData {
    fn matches(tag: Tag) -> bool {
        tag == PRIVATE_DATA
    }

    /// Never fails on content it does not understand; only a malformed TLV structure (which
    /// the enclosing reader would already have refused) can make it fail.
    fn decode(t: &Tlv<'_>) -> Result<Self> {
        let mut pd = PrivateData {
            timestamp: None,
            security_other: vec![],
            items: vec![],
            unknown: vec![],
        };
        let mut r = t.reader("privateData")?;
        while let Some(el) = r.next("privateData")? {
            if el.tag == Tag::context_c(0) && pd.timestamp.is_none() && pd.security_other.is_empty()
            {
                let mut sr = el.reader("security")?;
                while let Some(s) = sr.next("security")? {
                    let text = (s.tag == Tag::UTC_TIME)
                        .then(|| std::str::from_utf8(s.value).ok())
                        .flatten();
                    match text {
                        Some(txt) if pd.timestamp.is_none() && txt.is_ascii() => {
                            pd.timestamp = Some(UtcTime::parse(txt))
                        }
                        _ => pd.security_other.push(RawTlv::from_tlv(&s)),
                    }
                }
            } else if el.tag == Tag::context_c(1) && pd.items.is_empty() {
                let mut ir = el.reader("privateData.items")?;
                while let Some(item) = ir.next("privateData.items")? {
                    pd.items.push(decode_item(&item));
                }
            } else {
                pd.unknown.push(RawTlv::from_tlv(&el));
            }
        }
        Ok(pd)
    }

    fn encode(&self, w: &mut Writer<'_>) {
        w.constructed(PRIVATE_DATA, |w| {
            if self.timestamp.is_some() || !self.security_other.is_empty() {
                w.constructed(Tag::context_c(0), |w| {
                    if let Some(ts) = &self.timestamp {
                        w.primitive(Tag::UTC_TIME, ts.raw.as_bytes());
                    }
                    for u in &self.security_other {
                        u.encode(w);
                    }
                });
            }
            if !self.items.is_empty() {
                w.constructed(Tag::context_c(1), |w| {
                    for item in &self.items {
                        match item {
                            PrivateItem::Oid { oid, value } => w.constructed(Tag::SEQUENCE, |w| {
                                w.oid(Tag::OID, oid);
                                w.raw(value);
                            }),
                            PrivateItem::Unknown(raw) => raw.encode(w),
                        }
                    }
                });
            }
            for u in &self.unknown {
                u.encode(w);
            }
        });
    }
}

fn decode_item(item: &Tlv<'_>) -> PrivateItem {
    let unknown = || PrivateItem::Unknown(RawTlv::from_tlv(item));
    if item.tag != Tag::SEQUENCE {
        return unknown();
    }
    let Ok(mut r) = item.reader("privateItem") else {
        return unknown();
    };
    let Ok(Some(o)) = r.next("oid") else {
        return unknown();
    };
    if o.tag != Tag::OID {
        return unknown();
    }
    let Ok(oid) = o.oid("oid") else {
        return unknown();
    };
    // The value is everything after the OID; it must itself be well-formed TLVs so that a
    // re-encoding reads back the same way.
    let start = o.raw.len();
    let value = item.value.get(start..).unwrap_or_default();
    let mut vr = super::ber::Reader::new(value);
    loop {
        match vr.next("value") {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => return unknown(),
        }
    }
    PrivateItem::Oid {
        oid,
        value: value.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_times_parse() {
        assert_eq!(parse_utc_time("700101000000Z"), Some(0));
        assert_eq!(parse_utc_time("250301160827Z"), Some(1_740_845_307));
        assert_eq!(parse_utc_time("2503011608Z"), Some(1_740_845_280));
        assert_eq!(
            parse_utc_time("250301160827+0100"),
            Some(1_740_845_307 - 3600)
        );
        assert_eq!(parse_utc_time("251301160827Z"), None);
        assert_eq!(parse_utc_time("garbage"), None);
    }
}
