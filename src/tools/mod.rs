//! The engineer's tools built into the binary: `decode` (frames of a capture as JSON lines)
//! and `replay` (a capture through codec, adapter and engine, as normalised events).

pub mod csta_xml_decode;
pub mod decode;
pub mod replay;

use std::io::Read;
use std::path::Path;

/// Reads a capture: a file, or standard input for `-`. Hex text (whitespace and `#` comment
/// lines ignored) is turned into bytes; anything else is taken as raw bytes.
pub fn read_input(path: &Path) -> anyhow::Result<Vec<u8>> {
    let raw = if path.as_os_str() == "-" {
        let mut v = Vec::new();
        std::io::stdin().read_to_end(&mut v)?;
        v
    } else {
        std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?
    };
    if ctigw_codecs::hex::looks_like_hex_text(&raw) {
        let text = String::from_utf8_lossy(&raw);
        return ctigw_codecs::hex::parse_hex_text(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    Ok(raw)
}
