//! Fuzz entry points for the SIP codec, shared by the `fuzz/` targets and the stable
//! corpus-replay tests.

use bytes::BytesMut;
use tokio_util::codec::Decoder;

use super::codec::{Item, Limits, SipCodec};
use super::message::Message;

/// Decodes `data` fed in chunks of `chunk` bytes (0 = all at once), end of stream included.
/// Returns the items and whether a fatal framing error stopped the stream.
pub fn decode_chunked(mut codec: SipCodec, data: &[u8], chunk: usize) -> (Vec<Item>, bool) {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let step = if chunk == 0 { data.len().max(1) } else { chunk };
    for piece in data.chunks(step) {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(item)) => out.push(item),
                Ok(None) => break,
                Err(_) => return (out, true),
            }
        }
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(item)) => out.push(item),
            Ok(None) => return (out, false),
            Err(_) => return (out, true),
        }
    }
}

/// Arbitrary bytes through the stream codec whole and at a few read sizes, asserting the same
/// items each time (up to a fatal error, which may come earlier on a split read only if the
/// whole read also failed); then every decoded message re-encoded and decoded again, asserting
/// equality. Panics (on purpose) only when one of those properties fails.
pub fn frame(data: &[u8]) {
    let (whole, whole_failed) = decode_chunked(SipCodec::new(), data, 0);
    let first = data.first().copied().unwrap_or(0) as usize;
    for chunk in [1, 2, 3 + first % 61, data.len() / 2 + 1] {
        let (split, failed) = decode_chunked(SipCodec::new(), data, chunk);
        assert_eq!(
            failed, whole_failed,
            "chunk size {chunk}: fatal error differs"
        );
        assert_eq!(split, whole, "chunk size {chunk} gave different items");
    }
    for msg in whole.iter().flatten() {
        let bytes = msg.to_bytes().expect("a decoded message re-encodes");
        let codec = SipCodec::new().with_limits(Limits::unlimited());
        let (again, failed) = decode_chunked(codec, &bytes, 0);
        assert!(!failed, "re-encoded message fails framing");
        assert_eq!(
            again,
            vec![Ok(msg.clone())],
            "re-encoded as {:?}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

/// Arbitrary bytes through [`Message::parse`] (datagram semantics); a message that parses is
/// encoded, parsed again and must encode to the same bytes.
pub fn message(data: &[u8]) {
    let Ok(msg) = Message::parse(data) else {
        return;
    };
    let bytes = msg.to_bytes().expect("a parsed message re-encodes");
    let again = Message::parse(&bytes).expect("a re-encoded message parses");
    assert_eq!(again.to_bytes().ok(), Some(bytes), "encoding is not stable");
    assert_eq!(again.start, msg.start);
    assert_eq!(again.body, msg.body);
}
