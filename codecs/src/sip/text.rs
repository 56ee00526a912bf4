//! Low-level SIP grammar pieces shared by the parsers (RFC 3261 §25.1): token characters, linear
//! white space, quoted strings, `;name=value` parameters and comma splitting outside quotes and
//! angle brackets. Header values reach these functions already unfolded (continuation lines
//! joined with one space), so LWS here is only SP and HTAB.

use std::fmt;

/// `token` characters: alphanumerics and `-.!%*_+`'~`.
pub(crate) fn is_token_char(b: u8) -> bool {
    TOKEN.get(b as usize).copied().unwrap_or(false)
}

const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        i += 1;
    }
    t
};

/// True for a non-empty run of token characters.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_char)
}

pub(crate) fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Byte index of the first `b` (ASCII) in `s`: a plain loop, cheaper than `str::find` on the
/// short pieces a SIP parser looks at.
pub(crate) fn find_b(s: &str, b: u8) -> Option<usize> {
    s.bytes().position(|c| c == b)
}

/// `s` without leading and trailing SP / HTAB.
pub(crate) fn trim_lws(s: &str) -> &str {
    let b = s.as_bytes();
    let start = b.iter().position(|&c| !is_ws(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|&c| !is_ws(c)).map_or(start, |e| e + 1);
    s.get(start..end).unwrap_or_default()
}

/// One `;name[=value]` parameter of a header, a URI or a `tel:` number. A quoted value is kept
/// unescaped with `quoted` set, and quoted again on output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Param {
    /// The parameter name as received.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The value, unescaped; `None` for a flag parameter.
    pub value: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    /// Whether the value was (and is written) quoted.
    pub quoted: bool,
}

impl Param {
    /// A parameter with a token value (`branch=z9hG4bK...`).
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Param {
            name: name.into(),
            value: Some(value.into()),
            quoted: false,
        }
    }

    /// A parameter without value (`lr`, `rport`).
    pub fn flag(name: impl Into<String>) -> Self {
        Param {
            name: name.into(),
            value: None,
            quoted: false,
        }
    }

    /// A parameter whose value is written as a quoted string (`realm="example.com"`).
    pub fn quoted(name: impl Into<String>, value: impl Into<String>) -> Self {
        Param {
            name: name.into(),
            value: Some(value.into()),
            quoted: true,
        }
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        match &self.value {
            Some(v) if self.quoted => {
                f.write_str("=")?;
                write_quoted(f, v)
            }
            Some(v) => write!(f, "={v}"),
            None => Ok(()),
        }
    }
}

/// Writes `s` as a quoted string, escaping `"` and `\`.
pub(crate) fn write_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('"')
}

/// Looks a parameter up by name, ASCII-case-insensitively.
pub(crate) fn find_param<'a>(params: &'a [Param], name: &str) -> Option<&'a Param> {
    params.iter().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// A cursor over one (unfolded) header value.
pub(crate) struct Cursor<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }

    pub(crate) fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or_default()
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }

    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(crate) fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_ws) {
            self.pos += 1;
        }
    }

    /// The longest prefix of ASCII bytes accepted by `f` (never splits a UTF-8 character, since
    /// `f` only sees single bytes and non-ASCII bytes are all ≥ 0x80).
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii() && f(b)) {
            self.pos += 1;
        }
        self.s.get(start..self.pos).unwrap_or_default()
    }

    pub(crate) fn token(&mut self) -> &'a str {
        self.take_while(is_token_char)
    }

    /// A quoted string starting at the cursor (which must be on `"`), unescaped.
    /// Builds the string only when `KEEP` (the same checks either way).
    pub(crate) fn quoted_k<const KEEP: bool>(&mut self) -> Result<String, String> {
        if !self.eat(b'"') {
            return Err("expected a quoted string".into());
        }
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e)) if e != '\r' && e != '\n' => {
                        if KEEP {
                            out.push(e)
                        }
                    }
                    _ => return Err("bad escape in a quoted string".into()),
                },
                c => {
                    if KEEP {
                        out.push(c)
                    }
                }
            }
        }
        Err("unterminated quoted string".into())
    }

    /// `*( LWS ";" LWS name [ LWS "=" LWS value ] )`: header parameters, where a value is a
    /// token, a quoted string or an IPv6 reference. Stops before anything else (a comma, the
    /// end).
    /// Builds the parameters only when `KEEP` (the same checks either way).
    pub(crate) fn header_params_k<const KEEP: bool>(&mut self) -> Result<Vec<Param>, String> {
        let mut params = Vec::new();
        loop {
            self.skip_ws();
            if !self.eat(b';') {
                return Ok(params);
            }
            self.skip_ws();
            let name = self.token();
            if name.is_empty() {
                return Err(format!("empty parameter before {:?}", excerpt(self.rest())));
            }
            self.skip_ws();
            let mut param = Param::flag(own::<KEEP>(name));
            if self.eat(b'=') {
                self.skip_ws();
                match self.peek() {
                    Some(b'"') => {
                        param.value = Some(self.quoted_k::<KEEP>()?);
                        param.quoted = true;
                    }
                    Some(b'[') => {
                        let v = self.take_while(|b| b != b']');
                        if !self.eat(b']') {
                            return Err(format!("unterminated IPv6 reference in {name}"));
                        }
                        if KEEP {
                            param.value = Some(format!("{v}]"));
                        }
                    }
                    _ => {
                        let v = self.token();
                        if v.is_empty() {
                            return Err(format!("parameter {name} has an empty value"));
                        }
                        param.value = Some(own::<KEEP>(v));
                    }
                }
            }
            if KEEP {
                params.push(param);
            }
        }
    }
}

/// `s` as an owned string when `KEEP`, an empty (unallocated) one else: lets one parser serve
/// both building a typed value and only checking the text.
pub(crate) fn own<const KEEP: bool>(s: &str) -> String {
    if KEEP { s.to_string() } else { String::new() }
}

/// Splits a header value at the commas that separate list elements (outside quoted strings
/// and `<...>`), trimming each element. Empty elements are kept (callers decide).
pub(crate) fn split_commas(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let _ = for_each_comma(s, |e| {
        out.push(e);
        Ok::<(), ()>(())
    });
    out
}

/// [`split_commas`] without the vector: calls `f` on each trimmed element, in order, and stops
/// at its first error.
pub(crate) fn for_each_comma<'a, E>(
    s: &'a str,
    mut f: impl FnMut(&'a str) -> Result<(), E>,
) -> Result<(), E> {
    let bytes = s.as_bytes();
    let (mut start, mut quoted, mut angle, mut i) = (0, false, false, 0);
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' if quoted => i += 1,
            b'"' if !angle => quoted = !quoted,
            b'<' if !quoted => angle = true,
            b'>' if !quoted => angle = false,
            b',' if !quoted && !angle => {
                f(s.get(start..i).unwrap_or_default().trim())?;
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    f(s.get(start..).unwrap_or_default().trim())
}

/// Shortens text for an error message: at most 60 characters.
pub(crate) fn excerpt(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((i, _)) => format!("{}...", s.get(..i).unwrap_or_default()),
        None => s.to_string(),
    }
}

/// Lossy, shortened text of raw bytes for an error message.
pub(crate) fn excerpt_bytes(b: &[u8]) -> String {
    excerpt(&String::from_utf8_lossy(b))
}
