//! Fuzzing entry points, shared by the `fuzz/` targets (libFuzzer) and the stable
//! corpus-replay test: decode, and when decoding succeeds, re-encode and decode again and
//! assert the two values are equal (symmetry). They panic only when that property breaks.

use super::acse::AcseApdu;
use super::ber::{Writer, read_single};
use super::framing::CstaCodec;
use super::{Pdu, decode_pdu, encode_pdu};
use bytes::BytesMut;
use tokio_util::codec::Decoder;

/// Re-encodes a decoded PDU and checks it decodes back to the same value.
fn check_symmetric(p: &Pdu) {
    if matches!(p, Pdu::Hello { .. }) {
        return;
    }
    let mut buf = BytesMut::new();
    encode_pdu(p, &mut buf);
    match decode_pdu(&buf) {
        Ok(again) => assert_eq!(
            &again,
            p,
            "re-encoded PDU decodes differently: {}",
            crate::hex::to_hex(&buf)
        ),
        Err(e) => panic!(
            "re-encoded PDU does not decode ({e}): {}",
            crate::hex::to_hex(&buf)
        ),
    }
}

/// One BER value as a PDU.
pub fn pdu(data: &[u8]) {
    if let Ok(p) = decode_pdu(data) {
        check_symmetric(&p);
    }
}

/// A byte stream through the framing codec (observer role), whole and byte by byte: both
/// readings must give the same items; every decoded PDU must be symmetric.
pub fn frame(data: &[u8]) {
    let whole = run_codec(data, data.len().max(1));
    let split = run_codec(data, 1 + data.first().map_or(0, |b| usize::from(*b % 7)));
    assert_eq!(whole, split, "framing depends on read boundaries");
    for p in whole.iter().flatten().flatten() {
        check_symmetric(p);
    }
}

type Items = Vec<Option<Result<Pdu, super::PduError>>>;

fn run_codec(data: &[u8], chunk: usize) -> Items {
    let mut codec = CstaCodec::observer();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for piece in data.chunks(chunk) {
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

/// One BER value as an ACSE APDU.
pub fn acse(data: &[u8]) {
    let Ok(t) = read_single(data, "acse") else {
        return;
    };
    let Ok(a) = AcseApdu::decode(&t) else { return };
    let mut buf = BytesMut::new();
    a.encode(&mut Writer::new(&mut buf));
    let again = read_single(&buf, "acse").and_then(|t| AcseApdu::decode(&t));
    match again {
        Ok(b) => assert_eq!(
            a,
            b,
            "re-encoded ACSE APDU decodes differently: {}",
            crate::hex::to_hex(&buf)
        ),
        Err(e) => panic!(
            "re-encoded ACSE APDU does not decode ({e}): {}",
            crate::hex::to_hex(&buf)
        ),
    }
}
