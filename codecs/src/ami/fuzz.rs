//! Fuzz entry points for the AMI codec, shared by the `fuzz/` targets and the stable
//! corpus-replay tests.

use bytes::BytesMut;
use tokio_util::codec::Decoder;

use super::codec::{AmiCodec, Item, Limits};

/// Decodes `data` fed in chunks of `chunk` bytes (0 = all at once), end of stream included.
pub fn decode_chunked(mut codec: AmiCodec, data: &[u8], chunk: usize) -> Vec<Item> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let step = if chunk == 0 { data.len().max(1) } else { chunk };
    for piece in data.chunks(step) {
        buf.extend_from_slice(piece);
        while let Ok(Some(item)) = codec.decode(&mut buf) {
            out.push(item);
        }
    }
    while let Ok(Some(item)) = codec.decode_eof(&mut buf) {
        out.push(item);
    }
    out
}

/// Splits arbitrary bytes through the client codec whole and at a few chunk sizes, asserting
/// the same items each time; then re-encodes every decoded message and decodes it again,
/// asserting equality. Panics (on purpose) only when one of those properties fails.
pub fn frame(data: &[u8]) {
    let whole = decode_chunked(AmiCodec::client(), data, 0);
    let first = data.first().copied().unwrap_or(0) as usize;
    for chunk in [1, 2, 3 + first % 61, data.len() / 2 + 1] {
        let split = decode_chunked(AmiCodec::client(), data, chunk);
        assert_eq!(split, whole, "chunk size {chunk} gave different items");
    }
    // The server codec (no banner) must not panic either.
    let _ = decode_chunked(AmiCodec::server(), data, 0);
    for msg in whole.iter().flatten() {
        let bytes = msg.to_bytes().expect("a decoded message re-encodes");
        let again = decode_chunked(
            AmiCodec::server().with_limits(Limits::unlimited()),
            &bytes,
            0,
        );
        assert_eq!(
            again,
            vec![Ok(msg.clone())],
            "re-encoded as {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}
