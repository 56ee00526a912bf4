//! Alcatel-Lucent OXE / OXO Connect CSTA Phase II over TCP: BER, ROSE, ACSE, 2-byte framing.
//!
//! Layers, bottom up: [`ber`] (TLV reader and writer), [`rose`] and [`acse`] (the APDUs),
//! [`types`], [`events`], [`services`] and [`private_data`] (CSTA Phase II content by opcode
//! and tag), [`requests`] (ready-made requests for the adapter), [`framing`] (the hello byte
//! and the 2-byte length framing as `tokio_util` codecs) and [`fuzz`] (entry points shared by
//! the fuzz targets and the corpus-replay tests).
//!
//! ```
//! use ctigw_codecs::csta_ber::{Pdu, requests};
//! use ctigw_codecs::{WireDecode, WireEncode};
//! let buf = requests::monitor_start(1, "24103").to_wire().unwrap();
//! assert_eq!(&buf[..], &[0xa1, 0x0f, 0x02, 0x01, 0x01, 0x02, 0x01, 0x47, 0x30, 0x07, 0x80, 0x05, b'2', b'4', b'1', b'0', b'3']);
//! assert_eq!(Pdu::decode(&buf).unwrap(), requests::monitor_start(1, "24103"));
//! ```

pub mod acse;
pub mod ber;
pub mod common;
pub mod events;
pub mod framing;
pub mod fuzz;
pub mod private_data;
pub mod requests;
pub mod rose;
pub mod services;
pub mod types;

pub use acse::{Aare, Aarq, Abort, AcseApdu, Release};
pub use ber::{ErrorKind, PduError};
pub use events::{CstaEvent, EventReport};
pub use framing::{CstaCodec, CstaFrameCodec, Frame, FrameError, Role};
pub use rose::{Invoke, Reject, ReturnError, ReturnResult, RoseApdu};
pub use services::{Argument, ResultValue, UniversalFailure, opcode};
pub use types::{ConnectionId, DeviceId, EventCause, LocalConnectionState, MonitorCrossRefId};

use crate::wire::{WireDecode, WireEncode};
use bytes::BytesMut;
use serde::Serialize;
use std::convert::Infallible;

/// The one-byte hello that opens the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Hello {
    /// `'B'` (0x42), sent by the CTI client.
    Client,
    /// `'P'` (0x50), the PBX's answer.
    Pbx,
}

impl Hello {
    /// The byte on the wire.
    pub fn byte(self) -> u8 {
        match self {
            Hello::Client => b'B',
            Hello::Pbx => b'P',
        }
    }
    /// The hello a byte stands for, if any.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            b'B' => Some(Hello::Client),
            b'P' => Some(Hello::Pbx),
            _ => None,
        }
    }
}

/// Everything that travels on an OXE/OXO CSTA link: the hello byte (only seen through the
/// framing codec), a ROSE APDU or an ACSE APDU.
// Events are the common case and are moved once from decoder to adapter; boxing them
// would cost an allocation per event for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Pdu {
    /// The one-byte hello that opens the link.
    Hello {
        /// Which side said it.
        hello: Hello,
    },
    /// A ROSE APDU: invoke, result, error or reject.
    Rose(RoseApdu),
    /// An ACSE APDU: association request, response, release or abort.
    Acse(AcseApdu),
}

/// A [`Pdu::Hello`] is one byte with no BER around it: only the framing codec, which knows
/// the link's first byte from the rest, reads one; here a lone byte is an error like any
/// other value that is not a ROSE or ACSE APDU.
impl WireDecode<'_> for Pdu {
    type Error = PduError;

    /// Decodes one BER value (a frame without its 2-byte length) into a PDU.
    fn decode(data: &[u8]) -> Result<Pdu, PduError> {
        let t = ber::read_single(data, "pdu")?;
        match t.tag.class {
            ber::Class::Context => RoseApdu::decode(&t).map(Pdu::Rose),
            ber::Class::Application => AcseApdu::decode(&t).map(Pdu::Acse),
            _ => Err(PduError::new(
                0,
                "pdu",
                ErrorKind::Invalid("neither a ROSE nor an ACSE APDU"),
            )),
        }
    }
}

impl WireEncode for Pdu {
    type Error = Infallible;

    /// Appends the BER encoding of a PDU (no frame length; the hello is its single byte).
    fn encode(&self, buf: &mut BytesMut) -> Result<(), Infallible> {
        let mut w = ber::Writer::new(buf);
        match self {
            Pdu::Hello { hello } => w.raw(&[hello.byte()]),
            Pdu::Rose(r) => r.encode(&mut w),
            Pdu::Acse(a) => a.encode(&mut w),
        }
        Ok(())
    }
}

/// Decodes one BER value into a PDU: [`WireDecode::decode`] for the callers that name it.
pub fn decode_pdu(data: &[u8]) -> Result<Pdu, PduError> {
    <Pdu as WireDecode>::decode(data)
}

/// Appends the BER encoding of a PDU: [`WireEncode::encode`], which cannot fail for a PDU.
pub fn encode_pdu(pdu: &Pdu, buf: &mut BytesMut) {
    match WireEncode::encode(pdu, buf) {
        Ok(()) => {}
        Err(never) => match never {},
    }
}

impl Pdu {
    /// The event report, when this PDU is a cSTAEventReport invoke.
    pub fn event_report(&self) -> Option<&EventReport> {
        match self {
            Pdu::Rose(RoseApdu::Invoke(Invoke {
                argument: Argument::CstaEventReport(r),
                ..
            })) => Some(r),
            _ => None,
        }
    }
}
