//! One encode/decode vocabulary for every codec of the crate, after hickory-dns's
//! `BinEncodable`/`BinDecodable` pairing: a wire type implements [`WireEncode`] to append
//! itself to a buffer and [`WireDecode`] to read itself from a byte slice that holds exactly
//! one of it. Each codec keeps its own typed errors (the associated `Error` types), so a
//! caller matching on a SIP or AMI error keeps doing so; generic code (round-trip tests,
//! benches, tools) needs only these two traits.
//!
//! The framing codecs (`tokio_util::codec` Decoder/Encoder pairs) stay the way to split a
//! stream; these traits are the unit below them: one PDU, one message, one document.

use bytes::BytesMut;

/// A value with a wire form that can be appended to a buffer.
pub trait WireEncode {
    /// Why a value was not encoded; [`std::convert::Infallible`] where every value encodes.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Appends the wire form of `self` to `out`. On error nothing is appended.
    fn encode(&self, out: &mut BytesMut) -> Result<(), Self::Error>;

    /// The wire form of `self` in a buffer of its own.
    fn to_wire(&self) -> Result<BytesMut, Self::Error> {
        let mut out = BytesMut::new();
        self.encode(&mut out)?;
        Ok(out)
    }
}

/// A value that can be read from a byte slice holding exactly its wire form.
pub trait WireDecode<'a>: Sized {
    /// Why the bytes are not a value of this type; offsets count from the start of `input`.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Reads one value from `input`.
    fn decode(input: &'a [u8]) -> Result<Self, Self::Error>;
}
