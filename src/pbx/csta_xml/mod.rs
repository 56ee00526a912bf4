//! The CSTA XML adapters (ECMA-323 ed3/ed4/ed6; codec in `ctigw_codecs::csta_xml`), one
//! mapping for two transports:
//!
//! - `csta-xml-tcp` ([`tcp`]): CSTA XML over TCP with the 8-byte header and an ECMA-354
//!   application session (Unify OpenScape Voice, OpenScape Business);
//! - `uacsta` ([`uacsta`]): uaCSTA, CSTA XML carried in SIP INFO within an INVITE dialog
//!   (ECMA TR/87; Cisco CUCM through its IM and Presence CTI gateway, Cisco CME 8+).
//!
//! Modules: [`mapping`] (sans-IO events → model, also behind `ctigw replay`), [`commands`]
//! (engine commands → requests, `CSTAErrorCode` → named errors), [`session`] (the
//! transport-neutral session: request ids, monitors, snapshots, one result per command),
//! [`options`] (the dialects' `[[link]]` keys).

pub mod commands;
pub(crate) mod dialect;
pub mod mapping;
pub mod options;
pub mod session;
pub mod tcp;
pub mod uacsta;

pub use mapping::Mapper;
pub use options::Options;
pub use session::Session;

use crate::model::{DialPlan, PbxEvent};
use crate::pbx::contract::Replayer;
use bytes::BytesMut;
use ctigw_codecs::csta_xml::{CstaXmlCodec, Message};
use ctigw_codecs::sip::SipCodec;
use tokio_util::codec::Decoder;

/// `ctigw replay --dialect csta-xml-tcp`: what an OpenScape sent (8-byte header frames, any
/// split) → model events, inferring monitored devices from the events.
pub struct TcpReplayer {
    codec: CstaXmlCodec,
    buf: BytesMut,
    mapper: Mapper,
    broken: bool,
}

impl TcpReplayer {
    pub fn new(plan: &DialPlan) -> Self {
        TcpReplayer {
            codec: CstaXmlCodec::new(),
            buf: BytesMut::new(),
            mapper: Mapper::inferring(plan.clone()),
            broken: false,
        }
    }
}

fn map(mapper: &mut Mapper, msg: &Message, out: &mut Vec<Result<PbxEvent, String>>) {
    match msg {
        Message::CstaErrorCode(e) => out.push(Err(format!("the PBX refused a request: {e}"))),
        m if m.is_event() => out.extend(mapper.on_message(m).into_iter().map(Ok)),
        _ => {}
    }
}

impl Replayer for TcpReplayer {
    fn feed(&mut self, bytes: &[u8]) -> Vec<Result<PbxEvent, String>> {
        let mut out = Vec::new();
        if self.broken {
            return out;
        }
        self.buf.extend_from_slice(bytes);
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(None) => break,
                Ok(Some(Ok(m))) => map(&mut self.mapper, &m.message, &mut out),
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

/// `ctigw replay --dialect uacsta`: what a uaCSTA gateway sent (SIP messages over TCP) → the
/// CSTA XML bodies of its INFO requests and responses → model events.
pub struct UaCstaReplayer {
    codec: SipCodec,
    buf: BytesMut,
    mapper: Mapper,
    broken: bool,
}

impl UaCstaReplayer {
    pub fn new(plan: &DialPlan) -> Self {
        UaCstaReplayer {
            codec: SipCodec::new(),
            buf: BytesMut::new(),
            mapper: Mapper::inferring(plan.clone()),
            broken: false,
        }
    }
}

impl Replayer for UaCstaReplayer {
    fn feed(&mut self, bytes: &[u8]) -> Vec<Result<PbxEvent, String>> {
        let mut out = Vec::new();
        if self.broken {
            return out;
        }
        self.buf.extend_from_slice(bytes);
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(None) => break,
                Ok(Some(Ok(sip))) => {
                    if sip.body.is_empty() || !sip.is_csta() {
                        continue;
                    }
                    match Message::decode(&sip.body) {
                        Ok(m) => map(&mut self.mapper, &m, &mut out),
                        Err(e) => out.push(Err(format!("undecodable CSTA body: {e}"))),
                    }
                }
                Ok(Some(Err(e))) => out.push(Err(format!("undecodable SIP message: {e}"))),
                Err(e) => {
                    out.push(Err(format!("SIP framing lost: {e}")));
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
                "{n} byte(s) of an incomplete SIP message at the end"
            ))];
        }
        Vec::new()
    }
}
