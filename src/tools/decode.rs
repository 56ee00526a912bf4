//! `ctigw decode`: splits a capture into frames with the codec's own framing and prints each
//! decoded PDU as one JSON line; a frame that does not decode prints an error line with its
//! offset and decoding goes on with the next frame. The codecs are those the dialects
//! register in [`crate::pbx::registry`].

use crate::pbx::registry;
use bytes::BytesMut;
use serde::Serialize;
use serde_json::json;
use std::fmt::Display;
use std::io::Write;
use tokio_util::codec::Decoder;

/// Runs a framing decoder whose items are `Result<Pdu, PduError>` over `input`, writing one
/// JSON line per frame. Returns (frames decoded, frames in error).
pub fn run<D, P, E>(
    mut dec: D,
    input: &[u8],
    out: &mut dyn Write,
) -> std::io::Result<(usize, usize)>
where
    D: Decoder<Item = Result<P, E>>,
    D::Error: Display,
    P: Serialize,
    E: Display,
{
    let mut buf = BytesMut::from(input);
    let total = input.len();
    let (mut ok, mut bad) = (0, 0);
    loop {
        let offset = total - buf.len();
        let item = match dec.decode(&mut buf) {
            Ok(Some(i)) => i,
            Ok(None) => match dec.decode_eof(&mut buf) {
                Ok(Some(i)) => i,
                Ok(None) => {
                    if !buf.is_empty() {
                        bad += 1;
                        let line = json!({"offset": offset, "error": format!("truncated frame: {} byte(s) left at the end", buf.len())});
                        writeln!(out, "{line}")?;
                    }
                    break;
                }
                Err(e) => {
                    bad += 1;
                    writeln!(
                        out,
                        "{}",
                        json!({"offset": offset, "error": format!("at end of input: {e}")})
                    )?;
                    break;
                }
            },
            Err(e) => {
                // the frame boundary is lost: nothing after this can be trusted
                bad += 1;
                writeln!(
                    out,
                    "{}",
                    json!({"offset": offset, "error": format!("framing lost: {e}; stopping")})
                )?;
                break;
            }
        };
        match item {
            Ok(pdu) => {
                ok += 1;
                writeln!(out, "{}", json!({"offset": offset, "pdu": pdu}))?;
            }
            Err(e) => {
                bad += 1;
                writeln!(out, "{}", json!({"offset": offset, "error": e.to_string()}))?;
            }
        }
    }
    Ok((ok, bad))
}

/// `ctigw decode --codec NAME`: the codec's framing over `input`.
pub fn decode(codec: &str, input: &[u8], out: &mut dyn Write) -> anyhow::Result<(usize, usize)> {
    match registry::codec(codec) {
        Some(c) => (c.decode)(input, out),
        None => anyhow::bail!(
            "unknown codec \"{codec}\" (one of: {})",
            codec_names().join(", ")
        ),
    }
}

/// The names `--codec` takes.
pub fn codec_names() -> Vec<&'static str> {
    registry::codecs().iter().map(|c| c.name).collect()
}
