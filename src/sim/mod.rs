//! Simulated PBXs, for the demo, the integration tests and the load benchmarks. The wire
//! simulators speak a real protocol from the PBX side over TCP; `scripted` simulates a switch
//! at the adapter interface (the `sim` dialect, [`dialect`]).
//!
//! [`demo`] starts the simulator of any registered dialect for `ctigw demo`.

pub mod asterisk;
pub mod csta_xml;
pub(crate) mod dialect;
pub mod oxe;
pub mod scripted;
pub mod world;

use crate::config::{self, Config};
use crate::pbx::registry::{self, DemoPbx};
use std::net::SocketAddr;
use std::path::Path;

/// `ctigw demo --pbx NAME`: starts the simulator of the dialect `pbx` names (canonical or
/// alias) and the configuration of a gateway listening on `listen` with one link to it.
pub async fn demo(pbx: &str, listen: SocketAddr) -> anyhow::Result<(Config, DemoPbx)> {
    let dialect = registry::find(pbx)
        .ok_or_else(|| anyhow::anyhow!("unknown PBX {}", registry::unknown(pbx)))?;
    let sim = (dialect.demo)().await?;
    let text = format!(
        "[api]\nlisten = \"{listen}\"\nauth = \"none\"\n[[link]]\nname = \"demo\"\n{}\n",
        sim.link
    );
    // the embedded text is fixed; a failure here is a bug worth a loud message
    let cfg = config::parse(&text, Path::new("(demo)"))
        .map_err(|e| anyhow::anyhow!("built-in demo configuration is invalid: {e}"))?;
    Ok((cfg, sim))
}
