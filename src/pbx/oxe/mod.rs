//! The Alcatel-Lucent OXE / OXO Connect adapter: CSTA Phase II over TCP (ASN.1 BER, ROSE,
//! ACSE, 2-byte framing; codec in `ctigw_codecs::csta_ber`).
//!
//! - [`mapping`]: sans-IO events → model (also behind `ctigw replay --dialect oxe`);
//! - `connection_list`: the parties a Conferenced/Transferred list or a Diverted event names;
//! - [`commands`]: engine commands → requests, answers → results with named errors;
//! - [`invoke`]: invokeIDs, unique among the outstanding, with deadlines;
//! - [`options`]: the dialect's `[[link]]` keys (`oxo = true` is OXO Connect: same adapter);
//! - [`session`]: the sans-IO protocol state machine (hello, AARQ/AARE, monitors,
//!   snapshots, keep-alives, commands, reconnect decision with backoff), driven by explicit
//!   time;
//! - [`error`]: [`LinkError`], why a session ended;
//! - [`link`]: the thin tokio task that moves bytes, requests and time into the session.

pub mod commands;
mod connection_list;
pub(crate) mod dialect;
pub mod error;
pub mod invoke;
pub mod link;
pub mod mapping;
pub mod options;
pub(crate) mod session;
#[cfg(test)]
mod tests;

pub use error::LinkError;
pub use link::run;
pub use mapping::Mapper;
pub use options::Options;
pub(crate) use session::Session;

use crate::model::{DialPlan, PbxEvent};
use crate::pbx::contract::Replayer;
use bytes::BytesMut;
use ctigw_codecs::csta_ber::{CstaCodec, Pdu, RoseApdu};
use tokio_util::codec::Decoder;

/// `ctigw replay --dialect oxe`: what an OXE sent (with or without the hello, any split) →
/// model events through [`Mapper`], inferring monitored devices from the events.
pub struct OxeReplayer {
    codec: CstaCodec,
    buf: BytesMut,
    mapper: Mapper,
    broken: bool,
}

impl OxeReplayer {
    pub fn new(plan: &DialPlan) -> Self {
        OxeReplayer {
            codec: CstaCodec::observer(),
            buf: BytesMut::new(),
            mapper: Mapper::inferring(plan.clone()),
            broken: false,
        }
    }
}

impl Replayer for OxeReplayer {
    fn feed(&mut self, bytes: &[u8]) -> Vec<Result<PbxEvent, String>> {
        let mut out = Vec::new();
        if self.broken {
            return out;
        }
        self.buf.extend_from_slice(bytes);
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(None) => break,
                Ok(Some(Ok(pdu))) => {
                    if let Some(r) = pdu.event_report() {
                        out.extend(self.mapper.on_event(r).into_iter().map(Ok));
                    } else if let Pdu::Rose(RoseApdu::Reject(r)) = &pdu {
                        out.push(Err(format!("the PBX rejected an invoke: {:?}", r.problem)));
                    }
                }
                Ok(Some(Err(e))) => out.push(Err(format!("undecodable frame: {e}"))),
                Err(e) => {
                    out.push(Err(format!("framing lost: {e}")));
                    self.broken = true;
                    break;
                }
            }
        }
        out
    }

    fn finish(&mut self) -> Vec<Result<PbxEvent, String>> {
        if !self.buf.is_empty() && !self.broken {
            let n = self.buf.len();
            self.buf.clear();
            return vec![Err(format!(
                "{n} byte(s) of an incomplete frame at the end"
            ))];
        }
        Vec::new()
    }
}
