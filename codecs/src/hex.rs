//! Reading captures written as hex text: whitespace-separated byte pairs, `#` comment lines.
//!
//! Telephony engineers paste traces from Wireshark or a PBX log; the `decode` and `replay`
//! tools and the tests read them through this one function.

use thiserror::Error;

/// A hex capture that could not be read, with the line and column of the first bad character.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("line {line}, column {column}: {reason}")]
pub struct HexError {
    /// The 1-based line of the text.
    pub line: usize,
    /// The 1-based column within the line.
    pub column: usize,
    /// What is wrong there.
    pub reason: &'static str,
}

/// Parses hex text: pairs of hex digits, separated or not by whitespace; `#` starts a comment
/// that runs to the end of the line. An odd digit count within a line is an error.
pub fn parse_hex_text(text: &str) -> Result<Vec<u8>, HexError> {
    let mut out = Vec::with_capacity(text.len() / 3);
    for (ln, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("");
        let mut high: Option<(u8, usize)> = None;
        for (col, ch) in line.char_indices() {
            if ch.is_ascii_whitespace() {
                continue;
            }
            let Some(v) = ch.to_digit(16) else {
                return Err(HexError {
                    line: ln + 1,
                    column: col + 1,
                    reason: "not a hex digit",
                });
            };
            match high.take() {
                None => high = Some((v as u8, col)),
                Some((h, _)) => out.push(h << 4 | v as u8),
            }
        }
        if let Some((_, col)) = high {
            return Err(HexError {
                line: ln + 1,
                column: col + 1,
                reason: "odd number of hex digits",
            });
        }
    }
    Ok(out)
}

/// True when the input looks like hex text rather than raw bytes: printable ASCII only and
/// every non-comment character a hex digit or whitespace.
pub fn looks_like_hex_text(input: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(input) else {
        return false;
    };
    let mut digits = 0usize;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        for ch in line.chars() {
            if ch.is_ascii_hexdigit() {
                digits += 1;
            } else if !ch.is_ascii_whitespace() {
                return false;
            }
        }
    }
    digits > 0
}

/// Formats bytes as lowercase hex pairs separated by spaces.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Serde helper: serialises a byte field as a hex string in JSON output
/// (`#[serde(serialize_with = "crate::hex::serialize")]`).
pub fn serialize<S: serde::Serializer, T: AsRef<[u8]>>(bytes: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_hex(bytes.as_ref()).replace(' ', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_and_whitespace_are_ignored() {
        let t = "# title\n00 5b a1\n# more\nA1 0f # trailing\n";
        assert_eq!(
            parse_hex_text(t).unwrap(),
            vec![0x00, 0x5b, 0xa1, 0xa1, 0x0f]
        );
        assert!(looks_like_hex_text(t.as_bytes()));
    }

    #[test]
    fn bad_digit_is_located() {
        let e = parse_hex_text("00 11\n22 zz\n").unwrap_err();
        assert_eq!((e.line, e.column), (2, 4));
        let e = parse_hex_text("00 1\n").unwrap_err();
        assert_eq!(e.reason, "odd number of hex digits");
    }

    #[test]
    fn raw_ami_text_is_not_hex() {
        assert!(!looks_like_hex_text(b"Event: Newchannel\r\n"));
        assert!(!looks_like_hex_text(&[0x00, 0x5b, 0xa1]));
    }
}
