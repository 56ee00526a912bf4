//! The `uacsta` and `csta-xml-tcp` dialects as they register in [`crate::pbx::registry`]: one
//! CSTA XML mapping over two transports, each with its own codec (SIP carrying CSTA XML, and
//! CSTA XML with the 8-byte TCP header) and its own face of one simulator.

use super::options::{self, Options};
use crate::model::DialPlan;
use crate::pbx::contract::{BoxFuture, LinkSpec, LinkStart, Replayer};
use crate::pbx::registry::{self, Codec, DemoPbx, Dialect, LinkTable, OptionErrors};
use anyhow::Context;
use serde_json::json;
use std::io::Write;

/// uaCSTA: CSTA XML in SIP (Cisco CUCM through its CTI gateway, Cisco CME).
pub(crate) static UACSTA: Dialect = Dialect {
    name: "uacsta",
    aliases: &["cucm", "cme"],
    description: "Cisco CUCM / CME: uaCSTA, CSTA XML carried in SIP over TCP",
    needs_address: true,
    parse: parse_uacsta,
    replayer: Some(replayer_uacsta),
    codec: Some(&SIP),
    demo: demo_uacsta,
};

/// CSTA XML over TCP with an ECMA-354 application session (Unify OpenScape).
pub(crate) static CSTA_XML_TCP: Dialect = Dialect {
    name: "csta-xml-tcp",
    aliases: &["openscape", "openscape-voice", "openscape-business"],
    description: "Unify OpenScape Voice / Business: CSTA XML over TCP",
    needs_address: true,
    parse: parse_tcp,
    replayer: Some(replayer_tcp),
    codec: Some(&CSTA_XML),
    demo: demo_tcp,
};

/// SIP messages, with a CSTA XML body decoded alongside.
pub(crate) static SIP: Codec = Codec {
    name: "sip",
    description: "SIP messages, CSTA XML bodies decoded (uaCSTA)",
    decode: decode_sip,
};

/// CSTA XML frames with the 8-byte TCP header, or one bare document.
pub(crate) static CSTA_XML: Codec = Codec {
    name: "csta-xml",
    description: "CSTA XML over TCP frames, or one bare CSTA XML document",
    decode: decode_csta_xml,
};

/// Parsed options of one uaCSTA link.
#[derive(Debug)]
struct UaCstaLink(Options);

impl LinkSpec for UaCstaLink {
    fn run(&self, start: LinkStart) -> BoxFuture<'static, ()> {
        let settings = super::uacsta::LinkSettings {
            address: start.address,
            devices: start.devices,
            options: self.0.clone(),
        };
        Box::pin(super::uacsta::run(start.sink, settings, start.requests))
    }
}

/// Parsed options of one CSTA XML over TCP link.
#[derive(Debug)]
struct TcpLink(Options);

impl LinkSpec for TcpLink {
    fn run(&self, start: LinkStart) -> BoxFuture<'static, ()> {
        let settings = super::tcp::LinkSettings {
            address: start.address,
            devices: start.devices,
            options: self.0.clone(),
        };
        Box::pin(super::tcp::run(start.sink, settings, start.requests))
    }
}

fn parse_uacsta(t: &LinkTable<'_>) -> Result<Box<dyn LinkSpec>, OptionErrors> {
    registry::spec(options::parse(UACSTA.name, t.options), UaCstaLink)
}

fn parse_tcp(t: &LinkTable<'_>) -> Result<Box<dyn LinkSpec>, OptionErrors> {
    registry::spec(options::parse(CSTA_XML_TCP.name, t.options), TcpLink)
}

fn replayer_uacsta(plan: &DialPlan) -> Box<dyn Replayer> {
    Box::new(super::UaCstaReplayer::new(plan))
}

fn replayer_tcp(plan: &DialPlan) -> Box<dyn Replayer> {
    Box::new(super::TcpReplayer::new(plan))
}

fn decode_sip(input: &[u8], out: &mut dyn Write) -> anyhow::Result<(usize, usize)> {
    Ok(crate::tools::decode::run(
        crate::tools::csta_xml_decode::SipCstaDecoder::default(),
        input,
        out,
    )?)
}

fn decode_csta_xml(input: &[u8], out: &mut dyn Write) -> anyhow::Result<(usize, usize)> {
    use crate::tools::csta_xml_decode::{bare_document, is_tcp_framed};
    if is_tcp_framed(input) {
        return Ok(crate::tools::decode::run(
            ctigw_codecs::csta_xml::CstaXmlCodec::new(),
            input,
            out,
        )?);
    }
    // one bare document
    match bare_document(input) {
        Ok(d) => {
            writeln!(out, "{}", json!({"offset": 0, "pdu": d}))?;
            Ok((1, 0))
        }
        Err(e) => {
            writeln!(out, "{}", json!({"offset": 0, "error": e}))?;
            Ok((0, 1))
        }
    }
}

fn demo_uacsta() -> BoxFuture<'static, anyhow::Result<DemoPbx>> {
    Box::pin(demo(true, "CUCM (uaCSTA: CSTA XML in SIP)"))
}

fn demo_tcp() -> BoxFuture<'static, anyhow::Result<DemoPbx>> {
    Box::pin(demo(false, "OpenScape (CSTA XML over TCP)"))
}

/// The simulated CSTA XML PBX plays its scenario loop on loopback behind the chosen front.
async fn demo(sip: bool, what: &'static str) -> anyhow::Result<DemoPbx> {
    let (sim, link) = crate::sim::csta_xml::demo(sip)
        .await
        .context("cannot start the simulated CSTA XML PBX")?;
    Ok(DemoPbx {
        banner: Some(format!("simulated {what} on {}", sim.addr)),
        link,
        keep: Box::new(sim),
        world: None,
    })
}
