//! SIP header fields: names (case-insensitive, compact forms), the raw ordered header list, and
//! the typed values the codec checks and the uaCSTA client reads: methods, name-addr / addr-spec
//! (`From`, `To`, `Contact`, `Route`), `Via`, `CSeq`, media types, `Content-Disposition`, and
//! authentication challenges and credentials (`WWW-Authenticate`, `Authorization`, ...).
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use std::fmt;

use super::text::{
    Cursor, Param, excerpt, find_b, find_param, for_each_comma, is_token, own, split_commas,
    write_quoted,
};
use super::uri::{Uri, split_hostport};

/// Compact header names (RFC 3261 §7.3.3 and later RFCs) and their full forms.
pub const COMPACT_FORMS: [(char, &str); 15] = [
    ('i', "Call-ID"),
    ('f', "From"),
    ('t', "To"),
    ('m', "Contact"),
    ('l', "Content-Length"),
    ('c', "Content-Type"),
    ('v', "Via"),
    ('k', "Supported"),
    ('s', "Subject"),
    ('e', "Content-Encoding"),
    ('o', "Event"),
    ('r', "Refer-To"),
    ('u', "Allow-Events"),
    ('x', "Session-Expires"),
    ('b', "Referred-By"),
];

/// The full name of a compact header name (`i` → `Call-ID`); any other name unchanged.
pub fn full_name(name: &str) -> &str {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        let c = c.to_ascii_lowercase();
        if let Some((_, full)) = COMPACT_FORMS.iter().find(|(k, _)| *k == c) {
            return full;
        }
    }
    name
}

/// True when two header names designate the same header: case-insensitive, compact forms
/// expanded.
pub fn same_name(a: &str, b: &str) -> bool {
    full_name(a).eq_ignore_ascii_case(full_name(b))
}

/// One header field as received (name as written, value unfolded and trimmed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// A SIP method. Methods are case-sensitive; anything that is a token is a valid method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Options,
    Register,
    Info,
    Update,
    Prack,
    Subscribe,
    Notify,
    Refer,
    Message,
    Publish,
    /// An extension method (any other token).
    Extension(String),
}

impl Method {
    const KNOWN: [(&'static str, Method); 14] = [
        ("INVITE", Method::Invite),
        ("ACK", Method::Ack),
        ("BYE", Method::Bye),
        ("CANCEL", Method::Cancel),
        ("OPTIONS", Method::Options),
        ("REGISTER", Method::Register),
        ("INFO", Method::Info),
        ("UPDATE", Method::Update),
        ("PRACK", Method::Prack),
        ("SUBSCRIBE", Method::Subscribe),
        ("NOTIFY", Method::Notify),
        ("REFER", Method::Refer),
        ("MESSAGE", Method::Message),
        ("PUBLISH", Method::Publish),
    ];

    /// The method named by a token; `None` when `s` is not a token.
    pub fn parse(s: &str) -> Option<Method> {
        if !is_token(s) {
            return None;
        }
        Some(
            Self::KNOWN
                .iter()
                .find(|(n, _)| *n == s)
                .map(|(_, m)| m.clone())
                .unwrap_or_else(|| Method::Extension(s.to_string())),
        )
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Extension(s) => s,
            m => Self::KNOWN
                .iter()
                .find(|(_, k)| k == m)
                .map(|(n, _)| *n)
                .unwrap_or_default(),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Method {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `name-addr` or `addr-spec` with header parameters: `"Bob" <sip:bob@biloxi.com>;tag=a6c85cf`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NameAddr {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    pub uri: Uri,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
}

impl NameAddr {
    pub fn new(uri: Uri) -> Self {
        NameAddr {
            display: None,
            uri,
            params: Vec::new(),
        }
    }

    pub fn with_display(mut self, display: impl Into<String>) -> Self {
        self.display = Some(display.into());
        self
    }

    pub fn with_param(mut self, param: Param) -> Self {
        self.params.push(param);
        self
    }

    /// The `tag` parameter (From/To).
    pub fn tag(&self) -> Option<&str> {
        self.param("tag")
    }

    /// A header parameter's value by name (`None` for a flag or when absent).
    pub fn param(&self, name: &str) -> Option<&str> {
        find_param(&self.params, name).and_then(|p| p.value.as_deref())
    }

    /// Parses one name-addr or addr-spec with its parameters (the whole value).
    pub fn parse(s: &str) -> Result<NameAddr, String> {
        Self::parse_k::<true>(s)
    }

    /// Checks what [`NameAddr::parse`] checks, building nothing.
    pub(crate) fn check(s: &str) -> Result<(), String> {
        Self::parse_k::<false>(s).map(drop)
    }

    fn parse_k<const KEEP: bool>(s: &str) -> Result<NameAddr, String> {
        let mut c = Cursor::new(s);
        let na = Self::parse_at::<KEEP>(&mut c)?;
        c.skip_ws();
        if !c.at_end() {
            return Err(format!(
                "unexpected {:?} after the address",
                excerpt(c.rest())
            ));
        }
        Ok(na)
    }

    fn parse_at<const KEEP: bool>(c: &mut Cursor<'_>) -> Result<NameAddr, String> {
        c.skip_ws();
        let rest = c.rest();
        let display;
        if c.peek() == Some(b'"') {
            display = Some(c.quoted_k::<KEEP>()?);
            c.skip_ws();
            if c.peek() != Some(b'<') {
                return Err("a quoted display name must be followed by <URI>".into());
            }
        } else if let Some(lt) = rest
            .get(..find_b(rest, b',').unwrap_or(rest.len()))
            .and_then(|seg| find_b(seg, b'<'))
        {
            let name = rest.get(..lt).unwrap_or_default().trim_end();
            if !name.split([' ', '\t']).all(|w| w.is_empty() || is_token(w)) {
                return Err(format!(
                    "display name {:?} is neither tokens nor a quoted string",
                    excerpt(name)
                ));
            }
            display = (!name.is_empty()).then(|| own::<KEEP>(name));
            c.take_while(|b| b != b'<');
        } else {
            display = None;
        }
        let uri = if c.eat(b'<') {
            let inner = c.take_while(|b| b != b'>');
            if !c.eat(b'>') {
                return Err("unterminated <URI>".into());
            }
            Uri::parse_k::<KEEP>(inner)?
        } else {
            let spec = c.take_while(|b| !matches!(b, b';' | b' ' | b'\t' | b','));
            if spec.contains('?') {
                return Err("an addr-spec with URI headers must be enclosed in <>".into());
            }
            if c.peek().is_some_and(|b| !b.is_ascii()) {
                return Err(format!("bad address {:?}", excerpt(c.rest())));
            }
            Uri::parse_k::<KEEP>(spec)?
        };
        let params = c.header_params_k::<KEEP>()?;
        Ok(NameAddr {
            display,
            uri,
            params,
        })
    }

    /// Parses a comma-separated list (Contact, Route, Record-Route).
    pub fn parse_list(s: &str) -> Result<Vec<NameAddr>, String> {
        Self::parse_list_k::<true>(s)
    }

    /// Checks what [`NameAddr::parse_list`] checks, building nothing.
    pub(crate) fn check_list(s: &str) -> Result<(), String> {
        Self::parse_list_k::<false>(s).map(drop)
    }

    fn parse_list_k<const KEEP: bool>(s: &str) -> Result<Vec<NameAddr>, String> {
        let mut c = Cursor::new(s);
        let mut out = Vec::new();
        loop {
            let na = Self::parse_at::<KEEP>(&mut c)?;
            if KEEP {
                out.push(na);
            }
            c.skip_ws();
            if c.at_end() {
                return Ok(out);
            }
            if !c.eat(b',') {
                return Err(format!(
                    "unexpected {:?} after an address",
                    excerpt(c.rest())
                ));
            }
        }
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write_quoted(f, d)?;
            f.write_str(" ")?;
        }
        write!(f, "<{}>", self.uri)?;
        for p in &self.params {
            write!(f, ";{p}")?;
        }
        Ok(())
    }
}

/// One `Via` value: `SIP/2.0/TCP host:port;branch=z9hG4bK...;received=...;rport=...`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Via {
    /// `UDP`, `TCP`, `TLS`, `SCTP`, `WS`... as received.
    pub transport: String,
    pub host: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
}

/// The RFC 3261 branch prefix.
pub const BRANCH_MAGIC: &str = "z9hG4bK";

impl Via {
    pub fn new(transport: impl Into<String>, host: impl Into<String>, port: Option<u16>) -> Self {
        Via {
            transport: transport.into(),
            host: host.into(),
            port,
            params: Vec::new(),
        }
    }

    pub fn with_param(mut self, param: Param) -> Self {
        self.params.push(param);
        self
    }

    /// Adds `;branch=...`.
    pub fn with_branch(self, branch: impl Into<String>) -> Self {
        self.with_param(Param::new("branch", branch))
    }

    pub fn branch(&self) -> Option<&str> {
        find_param(&self.params, "branch").and_then(|p| p.value.as_deref())
    }

    pub fn received(&self) -> Option<&str> {
        find_param(&self.params, "received").and_then(|p| p.value.as_deref())
    }

    /// `None` without `rport`, `Some(None)` for a bare `rport`, `Some(Some(port))` when filled.
    pub fn rport(&self) -> Option<Option<u16>> {
        find_param(&self.params, "rport").map(|p| p.value.as_deref().and_then(|v| v.parse().ok()))
    }

    /// Parses every value of a Via header (a comma-separated list).
    pub fn parse_list(s: &str) -> Result<Vec<Via>, String> {
        split_commas(s).into_iter().map(Via::parse).collect()
    }

    /// Parses one Via value.
    pub fn parse(s: &str) -> Result<Via, String> {
        Self::parse_k::<true>(s)
    }

    /// Checks what [`Via::parse_list`] checks, building nothing.
    pub(crate) fn check_list(s: &str) -> Result<(), String> {
        for_each_comma(s, |v| Self::parse_k::<false>(v).map(drop))
    }

    fn parse_k<const KEEP: bool>(s: &str) -> Result<Via, String> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let mut parts = [""; 3];
        for (i, part) in parts.iter_mut().enumerate() {
            if i > 0 {
                c.skip_ws();
                if !c.eat(b'/') {
                    return Err(format!("bad sent-protocol in {:?}", excerpt(s)));
                }
                c.skip_ws();
            }
            *part = c.token();
        }
        let [name, version, transport] = parts;
        if !name.eq_ignore_ascii_case("SIP") || version != "2.0" {
            return Err(format!("unsupported protocol {name}/{version}"));
        }
        if transport.is_empty() {
            return Err("empty transport".into());
        }
        c.skip_ws();
        let sent_by = c.take_while(|b| !matches!(b, b';' | b' ' | b'\t' | b','));
        let (host, port) = split_hostport(sent_by)?;
        let params = c.header_params_k::<KEEP>()?;
        c.skip_ws();
        if !c.at_end() {
            return Err(format!("unexpected {:?}", excerpt(c.rest())));
        }
        Ok(Via {
            transport: own::<KEEP>(transport),
            host: own::<KEEP>(host),
            port,
            params,
        })
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        for p in &self.params {
            write!(f, ";{p}")?;
        }
        Ok(())
    }
}

/// `CSeq: 4711 INVITE`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    pub fn parse(s: &str) -> Result<CSeq, String> {
        let s = s.trim();
        let split = s
            .find([' ', '\t'])
            .ok_or_else(|| format!("expected `number method`, got {:?}", excerpt(s)))?;
        let (num, method) = (s.get(..split).unwrap_or_default(), s.get(split..));
        let method = method.unwrap_or_default().trim();
        if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("sequence number {num:?} is not a number"));
        }
        let seq = num
            .parse::<u32>()
            .map_err(|_| format!("sequence number {} is over 2**32-1", excerpt(num)))?;
        let method = Method::parse(method).ok_or_else(|| format!("bad method {method:?}"))?;
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// `type/subtype;params` (`Content-Type`, also `Accept` elements).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MediaType {
    pub kind: String,
    pub subtype: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
}

/// The uaCSTA body type.
pub const CSTA_XML: &str = "application/csta+xml";

impl MediaType {
    pub fn parse(s: &str) -> Result<MediaType, String> {
        Self::parse_k::<true>(s)
    }

    /// Checks what [`MediaType::parse`] checks, building nothing.
    pub(crate) fn check(s: &str) -> Result<(), String> {
        Self::parse_k::<false>(s).map(drop)
    }

    fn parse_k<const KEEP: bool>(s: &str) -> Result<MediaType, String> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let kind = c.token();
        c.skip_ws();
        if kind.is_empty() || !c.eat(b'/') {
            return Err(format!("expected type/subtype, got {:?}", excerpt(s)));
        }
        c.skip_ws();
        let subtype = c.token();
        if subtype.is_empty() {
            return Err(format!("empty subtype in {:?}", excerpt(s)));
        }
        let params = c.header_params_k::<KEEP>()?;
        c.skip_ws();
        if !c.at_end() {
            return Err(format!("unexpected {:?}", excerpt(c.rest())));
        }
        Ok(MediaType {
            kind: own::<KEEP>(kind),
            subtype: own::<KEEP>(subtype),
            params,
        })
    }

    /// `type/subtype` compared case-insensitively with `essence` (`application/csta+xml`).
    pub fn is(&self, essence: &str) -> bool {
        essence.split_once('/').is_some_and(|(k, s)| {
            self.kind.eq_ignore_ascii_case(k) && self.subtype.eq_ignore_ascii_case(s)
        })
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        find_param(&self.params, name).and_then(|p| p.value.as_deref())
    }
}

impl fmt::Display for MediaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.kind, self.subtype)?;
        for p in &self.params {
            write!(f, ";{p}")?;
        }
        Ok(())
    }
}

/// `Content-Disposition: signal;handling=required`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContentDisposition {
    pub disposition: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Param>,
}

impl ContentDisposition {
    pub fn new(disposition: impl Into<String>) -> Self {
        ContentDisposition {
            disposition: disposition.into(),
            params: Vec::new(),
        }
    }

    /// The uaCSTA disposition: `signal;handling=required`.
    pub fn csta_signal() -> Self {
        ContentDisposition {
            disposition: "signal".into(),
            params: vec![Param::new("handling", "required")],
        }
    }

    pub fn handling(&self) -> Option<&str> {
        find_param(&self.params, "handling").and_then(|p| p.value.as_deref())
    }

    pub fn parse(s: &str) -> Result<ContentDisposition, String> {
        Self::parse_k::<true>(s)
    }

    /// Checks what [`ContentDisposition::parse`] checks, building nothing.
    pub(crate) fn check(s: &str) -> Result<(), String> {
        Self::parse_k::<false>(s).map(drop)
    }

    fn parse_k<const KEEP: bool>(s: &str) -> Result<ContentDisposition, String> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let d = c.token();
        if d.is_empty() {
            return Err(format!("bad disposition {:?}", excerpt(s)));
        }
        let params = c.header_params_k::<KEEP>()?;
        c.skip_ws();
        if !c.at_end() {
            return Err(format!("unexpected {:?}", excerpt(c.rest())));
        }
        Ok(ContentDisposition {
            disposition: own::<KEEP>(d),
            params,
        })
    }
}

impl fmt::Display for ContentDisposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.disposition)?;
        for p in &self.params {
            write!(f, ";{p}")?;
        }
        Ok(())
    }
}

/// An authentication challenge (`WWW-Authenticate`, `Proxy-Authenticate`) or credentials
/// (`Authorization`, `Proxy-Authorization`): a scheme and comma-separated `name=value`
/// parameters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Auth {
    /// `Digest` for everything SIP uses.
    pub scheme: String,
    pub params: Vec<Param>,
}

impl Auth {
    pub fn param(&self, name: &str) -> Option<&str> {
        find_param(&self.params, name).and_then(|p| p.value.as_deref())
    }

    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    pub fn realm(&self) -> Option<&str> {
        self.param("realm")
    }

    pub fn nonce(&self) -> Option<&str> {
        self.param("nonce")
    }

    pub fn opaque(&self) -> Option<&str> {
        self.param("opaque")
    }

    pub fn algorithm(&self) -> Option<&str> {
        self.param("algorithm")
    }

    /// The `qop` options of a challenge (`qop="auth,auth-int"`), trimmed.
    pub fn qop_options(&self) -> Vec<&str> {
        self.param("qop")
            .map(|q| {
                q.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `stale=true` on a challenge: the nonce expired, the password was right.
    pub fn stale(&self) -> bool {
        self.param("stale")
            .is_some_and(|s| s.eq_ignore_ascii_case("true"))
    }

    pub fn parse(s: &str) -> Result<Auth, String> {
        Self::parse_k::<true>(s)
    }

    /// Checks what [`Auth::parse`] checks, building nothing.
    pub(crate) fn check(s: &str) -> Result<(), String> {
        Self::parse_k::<false>(s).map(drop)
    }

    fn parse_k<const KEEP: bool>(s: &str) -> Result<Auth, String> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let scheme = c.token();
        if scheme.is_empty() {
            return Err(format!("no authentication scheme in {:?}", excerpt(s)));
        }
        let mut params = Vec::new();
        let mut seen = 0usize;
        loop {
            c.skip_ws();
            if c.at_end() {
                break;
            }
            if seen > 0 && !c.eat(b',') {
                return Err(format!("expected `,` before {:?}", excerpt(c.rest())));
            }
            c.skip_ws();
            let name = c.token();
            c.skip_ws();
            if name.is_empty() || !c.eat(b'=') {
                return Err(format!("bad auth parameter at {:?}", excerpt(c.rest())));
            }
            c.skip_ws();
            let param = if c.peek() == Some(b'"') {
                Param::quoted(own::<KEEP>(name), c.quoted_k::<KEEP>()?)
            } else {
                let v = c.token();
                if v.is_empty() {
                    return Err(format!("auth parameter {name} has an empty value"));
                }
                Param::new(own::<KEEP>(name), own::<KEEP>(v))
            };
            seen += 1;
            if KEEP {
                params.push(param);
            }
        }
        Ok(Auth {
            scheme: own::<KEEP>(scheme),
            params,
        })
    }
}

impl fmt::Display for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        for (i, p) in self.params.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            p.fmt(f)?;
        }
        Ok(())
    }
}

/// Checks a `Date` value has the RFC 1123 shape SIP requires, in GMT
/// (`Sat, 13 Nov 2010 23:29:00 GMT`).
pub(crate) fn check_date(s: &str) -> Result<(), String> {
    let w: Vec<&str> = s.split_ascii_whitespace().collect();
    let ok = match w.as_slice() {
        [wkday, day, month, year, time, zone] => {
            wkday.len() == 4
                && wkday.ends_with(',')
                && day.len() == 2
                && month.len() == 3
                && year.len() == 4
                && time.len() == 8
                && *zone == "GMT"
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("not an RFC 1123 date in GMT: {:?}", excerpt(s)))
    }
}
