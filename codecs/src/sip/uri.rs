//! SIP URIs: `sip:`/`sips:` (RFC 3261 §19.1: user, password, host including IPv6 references,
//! port, parameters, headers), `tel:` (RFC 3966: global and local numbers, visual separators,
//! `phone-context`), and any other scheme kept opaque.
//!
//! Escapes (`%XX`) are kept as received: `user` is the raw user part; [`unescape`] decodes it.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use std::fmt;

use super::text::{Param, excerpt, find_b, find_param, own};

/// A URI as it appears in a Request-URI or a name-addr.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "scheme", rename_all = "lowercase")]
pub enum Uri {
    /// `sip:` or `sips:` (see [`SipUri::secure`]).
    Sip(SipUri),
    /// `tel:`.
    Tel(TelUri),
    /// Any other scheme (`http:`, `urn:`, `isbn:`...), kept opaque.
    Other(OtherUri),
}

/// A `sip:` or `sips:` URI.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SipUri {
    /// `sips:` rather than `sip:`.
    pub secure: bool,
    /// The user part as received (escapes kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// A host name, an IPv4 address or an IPv6 reference in brackets (`[2001:db8::1]`).
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
    /// `?name=value&...` headers, raw.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
}

/// A `tel:` URI (RFC 3966).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TelUri {
    /// The number as received, visual separators included (`+33-1-23-45-67-89`, `24103`).
    pub number: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
}

/// A URI of a scheme this codec does not interpret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OtherUri {
    pub scheme: String,
    /// Everything after the colon.
    pub rest: String,
}

impl SipUri {
    /// `sip:user@host`.
    pub fn new(user: Option<&str>, host: impl Into<String>) -> Self {
        SipUri {
            secure: false,
            user: user.map(str::to_string),
            password: None,
            host: host.into(),
            port: None,
            params: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    pub fn with_param(mut self, param: Param) -> Self {
        self.params.push(param);
        self
    }

    /// A URI parameter by name (`transport`, `user`, `lr`...): `Some(None)` for a flag.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name).map(|p| p.value.as_deref())
    }
}

impl TelUri {
    /// A global number starts with `+`.
    pub fn is_global(&self) -> bool {
        self.number.starts_with('+')
    }

    /// The number without visual separators (`-`, `.`, `(`, `)`), `+` kept.
    pub fn digits(&self) -> String {
        self.number
            .chars()
            .filter(|c| !matches!(c, '-' | '.' | '(' | ')'))
            .collect()
    }

    /// The `phone-context` of a local number.
    pub fn phone_context(&self) -> Option<&str> {
        find_param(&self.params, "phone-context").and_then(|p| p.value.as_deref())
    }

    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name).map(|p| p.value.as_deref())
    }
}

impl Uri {
    /// Parses a URI with no surrounding whitespace or angle brackets.
    pub fn parse(s: &str) -> Result<Uri, String> {
        Self::parse_k::<true>(s)
    }

    /// [`Uri::parse`] that only builds the parts when `KEEP` (the same checks either way).
    pub(crate) fn parse_k<const KEEP: bool>(s: &str) -> Result<Uri, String> {
        let colon = find_b(s, b':').ok_or_else(|| format!("no scheme in {:?}", excerpt(s)))?;
        let (scheme, rest) = (s.get(..colon).unwrap_or_default(), s.get(colon + 1..));
        let rest = rest.unwrap_or_default();
        let mut sb = scheme.bytes();
        if !sb.next().is_some_and(|b| b.is_ascii_alphabetic())
            || !sb.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return Err(format!("bad URI scheme in {:?}", excerpt(s)));
        }
        if let Some(bad) = s.bytes().find(|&b| NOT_IN_URI[b as usize]) {
            return Err(format!(
                "character {:?} in URI {:?}",
                bad as char,
                excerpt(s)
            ));
        }
        if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
            parse_sip::<KEEP>(scheme.eq_ignore_ascii_case("sips"), rest).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            parse_tel::<KEEP>(rest).map(Uri::Tel)
        } else if rest.is_empty() {
            Err(format!("empty {scheme}: URI"))
        } else {
            Ok(Uri::Other(OtherUri {
                scheme: own::<KEEP>(scheme),
                rest: own::<KEEP>(rest),
            }))
        }
    }

    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    pub fn as_tel(&self) -> Option<&TelUri> {
        match self {
            Uri::Tel(u) => Some(u),
            _ => None,
        }
    }

    /// The user part of a SIP URI or the number of a `tel:` URI (unescaped, separators kept):
    /// what a PBX calls the directory number.
    pub fn user(&self) -> Option<String> {
        match self {
            Uri::Sip(u) => u.user.as_deref().map(unescape),
            Uri::Tel(t) => Some(t.number.clone()),
            Uri::Other(_) => None,
        }
    }
}

/// A 256-entry table of the bytes that are alphanumeric or in `extra` (and, when `non_ascii`,
/// every byte ≥ 0x80): one load per byte instead of a scan of `extra`.
/// Bytes a URI never holds: controls, SP, DEL, `<`, `>`, `"`.
const NOT_IN_URI: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b <= b' ' || b == 0x7f || b == b'<' || b == b'>' || b == b'"';
        i += 1;
    }
    t
};

const fn class(extra: &[u8], non_ascii: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric() || (non_ascii && !b.is_ascii());
        i += 1;
    }
    let mut j = 0;
    while j < extra.len() {
        t[extra[j] as usize] = true;
        j += 1;
    }
    t
}

/// `!is_ascii || unreserved || "&=+$,;?/"`: the user part.
const USER: [bool; 256] = class(b"-_.!~*'()%&=+$,;?/", true);
/// `!is_ascii || unreserved || "&=+$,"`: the password.
const PASSWORD: [bool; 256] = class(b"-_.!~*'()%&=+$,", true);
/// `!is_ascii || unreserved || "[]/:&+$"`: URI parameter names and values.
const PARAM: [bool; 256] = class(b"-_.!~*'()%[]/:&+$", true);

fn in_class(t: &[bool; 256], s: &str) -> bool {
    s.bytes().all(|b| t[b as usize])
}

fn parse_sip<const KEEP: bool>(secure: bool, rest: &str) -> Result<SipUri, String> {
    let (userinfo, hostpart) = match find_b(rest, b'@') {
        Some(at) => (rest.get(..at), rest.get(at + 1..).unwrap_or_default()),
        None => (None, rest),
    };
    let (mut user, mut password) = (None, None);
    if let Some(ui) = userinfo {
        let (u, p) = match find_b(ui, b':') {
            Some(c) => (ui.get(..c).unwrap_or_default(), ui.get(c + 1..)),
            None => (ui, None),
        };
        if u.is_empty() {
            return Err("empty user part before @".into());
        }
        if !in_class(&USER, u) {
            return Err(format!("bad character in user part {:?}", excerpt(u)));
        }
        if let Some(p) = p {
            if !in_class(&PASSWORD, p) {
                return Err("bad character in password".into());
            }
            password = Some(own::<KEEP>(p));
        }
        user = Some(own::<KEEP>(u));
    }
    // host [":" port] then ";params" then "?headers"
    let end = hostpart
        .bytes()
        .position(|b| b == b';' || b == b'?')
        .unwrap_or(hostpart.len());
    let hostport = hostpart.get(..end).unwrap_or_default();
    let (host, port) = split_hostport(hostport)?;
    let mut tail = hostpart.get(end..).unwrap_or_default();
    let mut params = Vec::new();
    while let Some(r) = tail.strip_prefix(';') {
        let end = r
            .bytes()
            .position(|b| b == b';' || b == b'?')
            .unwrap_or(r.len());
        let p = r.get(..end).unwrap_or_default();
        tail = r.get(end..).unwrap_or_default();
        let (name, value) = match find_b(p, b'=') {
            Some(eq) => (p.get(..eq).unwrap_or_default(), p.get(eq + 1..)),
            None => (p, None),
        };
        let ok = |s: &str| in_class(&PARAM, s);
        if name.is_empty() || !ok(name) || value.is_some_and(|v| v.is_empty() || !ok(v)) {
            return Err(format!("bad URI parameter {:?}", excerpt(p)));
        }
        if KEEP {
            params.push(Param {
                name: name.to_string(),
                value: value.map(str::to_string),
                quoted: false,
            });
        }
    }
    let mut headers = Vec::new();
    if let Some(h) = tail.strip_prefix('?') {
        for hv in h.split('&') {
            let Some((n, v)) = hv.split_once('=') else {
                return Err(format!("URI header without `=`: {:?}", excerpt(hv)));
            };
            if n.is_empty() {
                return Err("empty URI header name".into());
            }
            if KEEP {
                headers.push((n.to_string(), v.to_string()));
            }
        }
    }
    Ok(SipUri {
        secure,
        user,
        password,
        host: own::<KEEP>(host),
        port,
        params,
        headers,
    })
}

/// `host [":" port]`: a host name or IPv4 address, or an IPv6 reference in brackets.
pub(crate) fn split_hostport(s: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = if s.starts_with('[') {
        let close = find_b(s, b']').ok_or("unterminated IPv6 reference")?;
        let inner = s.get(1..close).unwrap_or_default();
        if inner.is_empty()
            || !inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(format!("bad IPv6 reference {:?}", excerpt(s)));
        }
        let rest = s.get(close + 1..).unwrap_or_default();
        (s.get(..close + 1).unwrap_or_default(), rest)
    } else {
        let end = find_b(s, b':').unwrap_or(s.len());
        let host = s.get(..end).unwrap_or_default();
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
        {
            return Err(format!("bad host {:?}", excerpt(s)));
        }
        (host, s.get(end..).unwrap_or_default())
    };
    let port = match port.strip_prefix(':') {
        Some(p) => {
            if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("bad port {p:?}"));
            }
            Some(
                p.parse::<u16>()
                    .map_err(|_| format!("port {p} out of range"))?,
            )
        }
        None if port.is_empty() => None,
        None => return Err(format!("junk after host: {:?}", excerpt(port))),
    };
    Ok((host, port))
}

fn parse_tel<const KEEP: bool>(rest: &str) -> Result<TelUri, String> {
    let end = find_b(rest, b';').unwrap_or(rest.len());
    let number = rest.get(..end).unwrap_or_default();
    let visual = |b: u8| matches!(b, b'-' | b'.' | b'(' | b')');
    let ok = if let Some(g) = number.strip_prefix('+') {
        g.bytes().any(|b| b.is_ascii_digit()) && g.bytes().all(|b| b.is_ascii_digit() || visual(b))
    } else {
        number
            .bytes()
            .any(|b| b.is_ascii_hexdigit() || b == b'*' || b == b'#')
            && number
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b'*' || b == b'#' || visual(b))
    };
    if !ok {
        return Err(format!("bad telephone number {:?}", excerpt(number)));
    }
    let mut params = Vec::new();
    let mut tail = rest.get(end..).unwrap_or_default();
    while let Some(r) = tail.strip_prefix(';') {
        let end = find_b(r, b';').unwrap_or(r.len());
        let p = r.get(..end).unwrap_or_default();
        tail = r.get(end..).unwrap_or_default();
        let (name, value) = match p.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (p, None),
        };
        let name_ok =
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        let value_ok = |v: &str| !v.is_empty() && in_class(&PARAM, v);
        if !name_ok || value.is_some_and(|v| !value_ok(v)) {
            return Err(format!("bad tel: parameter {:?}", excerpt(p)));
        }
        if KEEP {
            params.push(Param {
                name: name.to_string(),
                value: value.map(str::to_string),
                quoted: false,
            });
        }
    }
    Ok(TelUri {
        number: own::<KEEP>(number),
        params,
    })
}

/// Decodes `%XX` escapes (invalid escapes are kept as they are; invalid UTF-8 is replaced).
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |j: usize| b.get(j).and_then(|&h| (h as char).to_digit(16));
        match (c, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(u) = &self.user {
            f.write_str(u)?;
            if let Some(p) = &self.password {
                write!(f, ":{p}")?;
            }
            f.write_str("@")?;
        }
        f.write_str(&self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        for p in &self.params {
            write!(f, ";{p}")?;
        }
        for (i, (n, v)) in self.headers.iter().enumerate() {
            write!(f, "{}{n}={v}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

impl fmt::Display for TelUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tel:{}", self.number)?;
        for p in &self.params {
            write!(f, ";{p}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => u.fmt(f),
            Uri::Tel(t) => t.fmt(f),
            Uri::Other(o) => write!(f, "{}:{}", o.scheme, o.rest),
        }
    }
}

impl std::str::FromStr for Uri {
    type Err = String;
    fn from_str(s: &str) -> Result<Uri, String> {
        Uri::parse(s)
    }
}
