//! Sans-IO wire codecs for the PBX computer-telephony protocols ctigw speaks: bytes in, typed
//! PDUs out, and back. No sockets, no runtime: framing is exposed as `tokio_util::codec`
//! Decoder/Encoder pairs, which only need `bytes`.
//!
//! One module per wire format. Conventions every module follows:
//! - a framing codec whose `Decoder::Item` is `Result<Pdu, PduError>`: a frame that is
//!   well delimited but does not decode is reported as an item and the stream goes on; the
//!   `Decoder::Error` is kept for faults that lose the frame boundary (or I/O);
//! - PDU types derive `serde::Serialize` so `ctigw decode` can print them as JSON lines;
//! - `encode(decode(x)) == x` for everything we encode (round-trip property tests);
//! - a `fuzz` submodule with the entry points the `fuzz/` targets and the stable corpus-replay
//!   tests both call;
//! - the unit types (a BER PDU, a CSTA XML document, a SIP or AMI message) implement
//!   [`WireEncode`] and [`WireDecode`], the one encode/decode vocabulary of the crate;
//! - errors name what was wrong and at which byte offset; no panic on any input.
#![warn(missing_docs)]

pub mod ami;
pub mod csta_ber;
pub mod csta_xml;
pub mod hex;
pub mod sip;
pub mod wire;

pub use wire::{WireDecode, WireEncode};
