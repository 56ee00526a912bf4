//! The engineer's tools built into the binary: `decode` (frames of a capture as JSON lines)
//! and `replay` (a capture through codec, adapter and engine, as normalised events).

pub mod csta_xml_decode;
pub mod decode;
pub mod replay;

use std::io::Read;
use std::path::Path;

/// The exit status of `decode` and `replay` when a frame failed to decode or nothing
/// decoded at all, so that a script can tell (a usage or I/O error is 2, as for clap).
pub const EXIT_DECODE_ERRORS: u8 = 3;

/// Reads a capture: a file, or standard input for `-`, in any of the forms both tools read.
pub fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let raw = if path.as_os_str() == "-" {
        let mut v = Vec::new();
        std::io::stdin().read_to_end(&mut v)?;
        v
    } else {
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?
    };
    capture_bytes(raw).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Turns what was read into the bytes to work on. Hex text (whitespace and `#` comment lines
/// ignored) becomes bytes; a text capture's leading `#` comment lines (the header of the
/// fixtures' `.sip` files) are dropped; a transcript (`<`, `<t`, `=` lines) is kept as it is,
/// for the tools to read with [`replay::parse_transcript`]; anything else is raw bytes.
pub fn capture_bytes(raw: Vec<u8>) -> anyhow::Result<Vec<u8>> {
    if ctigw_codecs::hex::looks_like_hex_text(&raw) {
        let text = String::from_utf8_lossy(&raw);
        return ctigw_codecs::hex::parse_hex_text(&text).map_err(|e| anyhow::anyhow!("{e}"));
    }
    if replay::is_transcript(&raw) {
        return Ok(raw);
    }
    Ok(strip_comment_header(raw))
}

/// Drops the `#` lines at the very start of a capture (with their line ends).
fn strip_comment_header(raw: Vec<u8>) -> Vec<u8> {
    let mut at = 0;
    while raw[at..].starts_with(b"#") {
        match raw[at..].iter().position(|&b| b == b'\n') {
            Some(nl) => at += nl + 1,
            None => at = raw.len(),
        }
    }
    if at == 0 { raw } else { raw[at..].to_vec() }
}

/// The bytes `decode` splits into frames: what the PBX sent, in order, when the input is a
/// transcript; the capture itself otherwise.
pub fn pbx_bytes(input: &[u8]) -> anyhow::Result<Vec<u8>> {
    if !replay::is_transcript(input) {
        return Ok(input.to_vec());
    }
    let t = replay::parse_transcript(&String::from_utf8_lossy(input))
        .map_err(|e| anyhow::anyhow!("transcript: {e}"))?;
    Ok(t.from_pbx.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leading_comment_header_is_dropped_and_the_rest_kept() {
        let raw = b"# RFC 4475\r\n# ---\r\nOPTIONS sip:a@b SIP/2.0\r\n# not a header\r\n".to_vec();
        let out = capture_bytes(raw).unwrap();
        assert_eq!(out, b"OPTIONS sip:a@b SIP/2.0\r\n# not a header\r\n");
        assert_eq!(capture_bytes(b"# only\n".to_vec()).unwrap(), b"");
        assert_eq!(
            capture_bytes(b"# c\n00 ff\n".to_vec()).unwrap(),
            [0x00, 0xff]
        );
    }

    #[test]
    fn a_transcript_gives_what_the_pbx_sent_in_order() {
        let t = b"# title\n> 01 02\n< 0a 0b\n<t Event: x\n= {\"event\":\"x\"}\n".to_vec();
        let kept = capture_bytes(t).unwrap();
        assert_eq!(pbx_bytes(&kept).unwrap(), b"\x0a\x0bEvent: x\r\n");
        assert_eq!(pbx_bytes(b"raw").unwrap(), b"raw");
    }
}
