//! Fuzz entry points for the CSTA XML codec, shared by the `fuzz/` targets and the stable
//! corpus-replay tests: decode, and when decoding succeeds, re-encode in every edition and
//! decode again, asserting the same value (symmetry). They panic only when that breaks.

use bytes::BytesMut;
use tokio_util::codec::Decoder;

use super::framing::{CstaXmlCodec, TcpMessage, TcpMessageError};
use super::{Edition, Limits, Message};

/// Re-encodes a decoded message in each edition and checks it decodes back to the same value.
pub fn check_symmetric(m: &Message) {
    for edition in Edition::ALL {
        let xml = m.to_xml(edition);
        // Escaping and the namespace declarations added to opaque copies can make the
        // re-encoded document larger than the original: no size limit on the way back.
        let limits = Limits {
            max_size: usize::MAX,
            ..Limits::default()
        };
        match Message::decode_with(&xml, &limits).map(|d| d.message) {
            Ok(again) => assert_eq!(
                &again,
                m,
                "re-encoded message decodes differently: {}",
                String::from_utf8_lossy(&xml)
            ),
            Err(e) => panic!(
                "re-encoded message does not decode ({e}): {}",
                String::from_utf8_lossy(&xml)
            ),
        }
    }
}

/// One XML document.
pub fn document(data: &[u8]) {
    if let Ok(m) = Message::decode(data) {
        check_symmetric(&m);
    }
}

type Items = Vec<Option<Result<TcpMessage, TcpMessageError>>>;

fn run_codec(data: &[u8], chunk: usize) -> Items {
    let mut codec = CstaXmlCodec::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in data.chunks(chunk.max(1)) {
        buf.extend_from_slice(piece);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(item)) => out.push(Some(item)),
                Ok(None) => break,
                Err(_) => {
                    out.push(None);
                    return out;
                }
            }
        }
    }
    out
}

/// A byte stream through the TCP framing codec, whole and in small reads: both readings must
/// give the same items; every decoded message must be symmetric.
pub fn tcp_frame(data: &[u8]) {
    let whole = run_codec(data, data.len());
    let split = run_codec(data, 1 + data.first().map_or(0, |b| usize::from(*b % 13)));
    assert_eq!(whole, split, "framing depends on read boundaries");
    for m in whole.iter().flatten().flatten() {
        check_symmetric(&m.message);
    }
}
