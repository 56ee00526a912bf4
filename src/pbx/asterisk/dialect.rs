//! The `asterisk` dialect as it registers in [`crate::pbx::registry`]: Asterisk (and the
//! PBXs built on it) through the Asterisk Manager Interface, its AMI codec and its simulator.

use super::options::{self, AsteriskOptions};
use crate::model::DialPlan;
use crate::pbx::contract::{BoxFuture, LinkSpec, LinkStart, Replayer};
use crate::pbx::registry::{self, Codec, DemoPbx, Dialect, LinkTable, OptionErrors};
use anyhow::Context;
use std::io::Write;

/// Asterisk through AMI.
pub(crate) static ASTERISK: Dialect = Dialect {
    name: "asterisk",
    aliases: &["freepbx"],
    description: "Asterisk: the Asterisk Manager Interface (AMI) over TCP",
    needs_address: true,
    parse,
    replayer: Some(replayer),
    codec: Some(&AMI),
    demo,
};

/// AMI messages (`Key: value` lines ending in a blank line).
pub(crate) static AMI: Codec = Codec {
    name: "ami",
    description: "Asterisk Manager Interface messages (Asterisk)",
    decode: decode_ami,
};

/// Parsed options of one Asterisk link.
#[derive(Debug)]
struct AsteriskLink(AsteriskOptions);

impl LinkSpec for AsteriskLink {
    fn run(&self, start: LinkStart) -> BoxFuture<'static, ()> {
        Box::pin(super::run(
            start.address,
            start.devices,
            self.0.clone(),
            start.sink,
            start.requests,
        ))
    }
}

fn parse(t: &LinkTable<'_>) -> Result<Box<dyn LinkSpec>, OptionErrors> {
    registry::spec(options::parse(t.options, t.devices), AsteriskLink)
}

fn replayer(_plan: &DialPlan) -> Box<dyn Replayer> {
    Box::new(super::normalise::AmiReplay::new())
}

/// A capture that starts with the banner is read as the client reads it, one without as
/// what a client sends.
fn decode_ami(input: &[u8], out: &mut dyn Write) -> anyhow::Result<(usize, usize)> {
    use ctigw_codecs::ami::{AmiCodec, BANNER_PREFIX};
    let dec = if input.starts_with(BANNER_PREFIX.as_bytes()) {
        AmiCodec::client()
    } else {
        AmiCodec::server()
    };
    Ok(crate::tools::decode::run(dec, input, out)?)
}

/// Keeps the simulated Asterisk and stops its scenario loop when the demo ends.
struct DemoRun {
    _sim: crate::sim::asterisk::SimAsterisk,
    scenarios: tokio::task::JoinHandle<()>,
}

impl Drop for DemoRun {
    fn drop(&mut self) {
        self.scenarios.abort();
    }
}

/// The simulated Asterisk on loopback plays its scenarios in a loop; the link logs in to it.
fn demo() -> BoxFuture<'static, anyhow::Result<DemoPbx>> {
    Box::pin(async {
        use crate::sim::asterisk::{SimAsterisk, SimConfig};
        let sim = SimAsterisk::start(
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            SimConfig::default(),
        )
        .await
        .context("cannot start the simulated Asterisk")?;
        let link = format!(
            r#"dialect = "{}"
address = "{}"
devices = ["101", "102", "103"]
username = "ctigw"
secret = "secret"
phone_models = {{ "103" = "yealink" }}
queues = ["sales"]
reconnect_min_ms = 200"#,
            ASTERISK.name,
            sim.addr()
        );
        let player = sim.clone();
        let scenarios = tokio::spawn(async move { player.demo_loop().await });
        Ok(DemoPbx {
            banner: Some(format!(
                "simulated Asterisk (AMI over TCP) on {}",
                sim.addr()
            )),
            link,
            keep: Box::new(DemoRun {
                _sim: sim,
                scenarios,
            }),
            world: None,
        })
    })
}
