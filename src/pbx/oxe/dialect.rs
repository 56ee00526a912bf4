//! The `oxe` and `oxo` dialects as they register in [`crate::pbx::registry`]: Alcatel-Lucent
//! OXE and OXO Connect share this adapter, its codec (CSTA Phase II BER) and its simulator;
//! `oxo` differs only in its option defaults (see [`super::options`]).

use super::link::LinkSettings;
use super::options::{self, Options};
use crate::model::DialPlan;
use crate::pbx::contract::{BoxFuture, LinkSpec, LinkStart, Replayer};
use crate::pbx::registry::{self, Codec, DemoPbx, Dialect, LinkTable, OptionErrors};
use anyhow::Context;
use std::io::Write;

/// Alcatel-Lucent OmniPCX Enterprise.
pub(crate) static OXE: Dialect = Dialect {
    name: "oxe",
    aliases: &["omnipcx-enterprise"],
    description: "Alcatel-Lucent OXE: CSTA Phase II (ASN.1 BER) over TCP",
    needs_address: true,
    parse: parse_oxe,
    replayer: Some(replayer),
    codec: Some(&CSTA_BER),
    demo: demo_oxe,
};

/// Alcatel-Lucent OXO Connect: the OXE adapter with OXO defaults.
pub(crate) static OXO: Dialect = Dialect {
    name: "oxo",
    aliases: &["oxo-connect"],
    description: "Alcatel-Lucent OXO Connect: the OXE protocol with OXO defaults",
    needs_address: true,
    parse: parse_oxo,
    replayer: Some(replayer),
    codec: Some(&CSTA_BER),
    demo: demo_oxo,
};

/// CSTA Phase II BER with its 2-byte framing (shared by `oxe` and `oxo`).
pub(crate) static CSTA_BER: Codec = Codec {
    name: "csta-ber",
    description: "CSTA Phase II ASN.1 BER frames (OXE, OXO Connect)",
    decode: decode_csta_ber,
};

/// Parsed options of one OXE/OXO link.
#[derive(Debug)]
struct OxeLink(Options);

impl LinkSpec for OxeLink {
    fn run(&self, start: LinkStart) -> BoxFuture<'static, ()> {
        let settings = LinkSettings {
            address: start.address,
            devices: start.devices,
            options: self.0.clone(),
        };
        Box::pin(super::run(start.sink, settings, start.requests))
    }
}

fn parse_oxe(t: &LinkTable<'_>) -> Result<Box<dyn LinkSpec>, OptionErrors> {
    registry::spec(options::parse(OXE.name, t.options), OxeLink)
}

fn parse_oxo(t: &LinkTable<'_>) -> Result<Box<dyn LinkSpec>, OptionErrors> {
    registry::spec(options::parse(OXO.name, t.options), OxeLink)
}

fn replayer(plan: &DialPlan) -> Box<dyn Replayer> {
    Box::new(super::OxeReplayer::new(plan))
}

fn decode_csta_ber(input: &[u8], out: &mut dyn Write) -> anyhow::Result<(usize, usize)> {
    Ok(crate::tools::decode::run(
        ctigw_codecs::csta_ber::CstaCodec::observer(),
        input,
        out,
    )?)
}

fn demo_oxe() -> BoxFuture<'static, anyhow::Result<DemoPbx>> {
    Box::pin(demo(OXE.name))
}

fn demo_oxo() -> BoxFuture<'static, anyhow::Result<DemoPbx>> {
    Box::pin(demo(OXO.name))
}

/// The simulated OXE plays its scenario loop on loopback; the link connects to it over TCP
/// through a tap that records what the gateway writes (`/demo/wire`).
async fn demo(dialect: &'static str) -> anyhow::Result<DemoPbx> {
    let sim = crate::sim::oxe::spawn(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        crate::sim::oxe::SimConfig {
            demo_loop: true,
            ..Default::default()
        },
    )
    .await
    .context("cannot start the simulated OXE")?;
    let (tap, wire) = crate::sim::oxe::world::wire_tap(sim.addr)
        .await
        .context("cannot start the demo's wire tap")?;
    let world = crate::sim::oxe::world::OxeWorld {
        sim: sim.clone(),
        wire,
    };
    Ok(DemoPbx {
        banner: Some(format!(
            "simulated OXE (CSTA Phase II over TCP) on {}",
            sim.addr
        )),
        link: format!(
            "dialect = \"{dialect}\"\naddress = \"{tap}\"\ndevices = [\"24101-24104\", \"24110\"]\nreconnect_min_ms = 200"
        ),
        keep: Box::new(sim),
        world: Some(std::sync::Arc::new(world)),
    })
}
