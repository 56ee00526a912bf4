//! The one list of PBX dialects. Each dialect describes itself once, in its adapter's folder
//! (`dialect.rs`), as a [`Dialect`] value: its names, how to parse its `[[link]]` options, how
//! to start its link, its replayer for `ctigw replay`, its codec for `ctigw decode` and its
//! simulator for `ctigw demo`. The configuration, the daemon, the command line and the tools
//! read this list and name no dialect themselves; adding a dialect is one line in
//! [`DIALECTS`].

use crate::model::{DeviceId, DialPlan};
use crate::pbx::contract::{BoxFuture, LinkSpec, Replayer};
use std::io::Write;
use toml::Table;

/// Problems found in a dialect's keys: `(key relative to the link, reason)`.
pub type OptionErrors = Vec<(String, String)>;

/// Decodes a capture with a codec's own framing, one JSON line per frame on the writer;
/// returns (frames decoded, frames in error).
pub type DecodeFn = fn(&[u8], &mut dyn Write) -> anyhow::Result<(usize, usize)>;

/// Builds a dialect's replayer for a dialling plan.
pub type ReplayerFn = fn(&DialPlan) -> Box<dyn Replayer>;

/// What a dialect's options parser reads from one `[[link]]` table.
#[derive(Debug, Clone, Copy)]
pub struct LinkTable<'a> {
    /// `address`, when given (already checked as `host:port`).
    pub address: Option<&'a str>,
    /// `devices`, expanded.
    pub devices: &'a [DeviceId],
    /// Every key of the table besides `name`, `dialect`, `address` and `devices`.
    pub options: &'a Table,
}

/// A codec `ctigw decode --codec NAME` can split and print a capture with.
#[derive(Debug)]
pub struct Codec {
    /// The name `--codec` takes.
    pub name: &'static str,
    /// One line for `--help`.
    pub description: &'static str,
    /// Decodes a capture (see [`DecodeFn`]).
    pub decode: DecodeFn,
}

/// A simulated PBX started for `ctigw demo`.
pub struct DemoPbx {
    /// A line telling the person who started the demo what runs where.
    pub banner: Option<String>,
    /// The `[[link]]` keys (after `name`) that connect the gateway to it.
    pub link: String,
    /// The simulator and anything it needs; the demo keeps it until it ends.
    pub keep: Box<dyn Send>,
    /// The simulator's outside world for the demo pages (`/demo/...`), when it offers one.
    pub world: Option<std::sync::Arc<dyn crate::sim::world::DemoWorld>>,
}

/// One PBX dialect, as it registers itself.
pub struct Dialect {
    /// The canonical name: what the configuration stores and the engine reports.
    pub name: &'static str,
    /// Product names accepted wherever the canonical name is.
    pub aliases: &'static [&'static str],
    /// One line for `--help`.
    pub description: &'static str,
    /// Whether a `[[link]]` of this dialect must give `address`.
    pub needs_address: bool,
    /// Parses and checks the dialect's keys of one `[[link]]`, once: the result starts the link.
    pub parse: fn(&LinkTable<'_>) -> Result<Box<dyn LinkSpec>, OptionErrors>,
    /// The sans-IO reading of what the PBX sends, for `ctigw replay` (none without a wire).
    pub replayer: Option<ReplayerFn>,
    /// The codec of its wire, for `ctigw decode` (shared when two dialects speak one).
    pub codec: Option<&'static Codec>,
    /// Starts its simulator on loopback for `ctigw demo`.
    pub demo: fn() -> BoxFuture<'static, anyhow::Result<DemoPbx>>,
}

impl Dialect {
    /// Its canonical name and its aliases.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }
}

impl std::fmt::Debug for Dialect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialect")
            .field("name", &self.name)
            .field("aliases", &self.aliases)
            .finish_non_exhaustive()
    }
}

/// Every dialect this build knows, one line each.
pub static DIALECTS: &[&Dialect] = &[
    &crate::pbx::oxe::dialect::OXE,
    &crate::pbx::oxe::dialect::OXO,
    &crate::pbx::asterisk::dialect::ASTERISK,
    &crate::pbx::csta_xml::dialect::UACSTA,
    &crate::pbx::csta_xml::dialect::CSTA_XML_TCP,
    &crate::sim::dialect::SIM,
];

/// The dialect a name (canonical or alias) stands for.
pub fn find(name: &str) -> Option<&'static Dialect> {
    DIALECTS
        .iter()
        .copied()
        .find(|d| d.names().any(|n| n == name))
}

/// Every accepted name, canonical names each followed by their aliases, in registry order.
pub fn names() -> Vec<&'static str> {
    DIALECTS.iter().flat_map(|d| d.names()).collect()
}

/// The dialects `ctigw replay` can run.
pub fn replayable() -> impl Iterator<Item = &'static Dialect> {
    DIALECTS.iter().copied().filter(|d| d.replayer.is_some())
}

/// Every accepted name of the dialects `ctigw replay` can run.
pub fn replay_names() -> Vec<&'static str> {
    replayable().flat_map(|d| d.names()).collect()
}

/// The reason given for a name no dialect answers to.
pub fn unknown(name: &str) -> String {
    format!("\"{name}\" is not one of: {}", names().join(", "))
}

/// The codecs of every dialect, each once, in registry order.
pub fn codecs() -> Vec<&'static Codec> {
    let mut out: Vec<&'static Codec> = Vec::new();
    for c in DIALECTS.iter().filter_map(|d| d.codec) {
        if !out.iter().any(|o| o.name == c.name) {
            out.push(c);
        }
    }
    out
}

/// The codec `ctigw decode --codec NAME` means.
pub fn codec(name: &str) -> Option<&'static Codec> {
    codecs().into_iter().find(|c| c.name == name)
}

/// The `[[link]]` keys a dialect accepts besides `name`, `dialect`, `address` and `devices`,
/// as its own parser lists them when it refuses a key it does not know: asked, not copied, so
/// the documentation checked against it cannot drift from what the parser takes.
pub fn keys(d: &Dialect) -> Vec<String> {
    const PROBE: &str = "ctigw-probe-no-such-key";
    const LIST: &str = "unknown key (expected one of: ";
    let mut options = Table::new();
    options.insert(PROBE.into(), toml::Value::Boolean(true));
    let devices = [DeviceId::new("101")];
    let table = LinkTable {
        address: Some("192.0.2.1:1"),
        devices: &devices,
        options: &options,
    };
    let Err(errs) = (d.parse)(&table) else {
        return Vec::new();
    };
    errs.iter()
        .find(|(k, _)| k == PROBE)
        .and_then(|(_, reason)| reason.strip_prefix(LIST)?.strip_suffix(')'))
        .map(|list| list.split(", ").map(str::to_string).collect())
        .unwrap_or_default()
}

/// Turns a dialect's `Result<Options, OptionErrors>` into a started-later link spec.
pub(crate) fn spec<T, S>(
    parsed: Result<T, OptionErrors>,
    wrap: impl FnOnce(T) -> S,
) -> Result<Box<dyn LinkSpec>, OptionErrors>
where
    S: LinkSpec + 'static,
{
    parsed.map(|o| Box::new(wrap(o)) as Box<dyn LinkSpec>)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_across_the_registry() {
        let all = names();
        for (i, n) in all.iter().enumerate() {
            assert!(!all[..i].contains(n), "{n} is registered twice");
        }
        let codecs: Vec<&str> = codecs().iter().map(|c| c.name).collect();
        for (i, n) in codecs.iter().enumerate() {
            assert!(!codecs[..i].contains(n), "codec {n} is registered twice");
        }
    }

    #[test]
    fn every_alias_resolves_to_its_dialect() {
        for d in DIALECTS {
            for n in d.names() {
                assert_eq!(find(n).map(|f| f.name), Some(d.name), "{n}");
            }
        }
        assert!(find("nortel").is_none());
        assert!(unknown("nortel").contains(&names().join(", ")));
    }

    #[test]
    fn every_dialect_names_the_keys_it_accepts() {
        for d in DIALECTS {
            let keys = keys(d);
            assert!(!keys.is_empty(), "{}: no keys", d.name);
            // each named key is taken: alone it draws no "unknown key" error
            for k in &keys {
                let mut options = Table::new();
                options.insert(k.clone(), toml::Value::Boolean(true));
                let devices = [DeviceId::new("101")];
                let table = LinkTable {
                    address: Some("192.0.2.1:1"),
                    devices: &devices,
                    options: &options,
                };
                if let Err(errs) = (d.parse)(&table) {
                    assert!(
                        !errs
                            .iter()
                            .any(|(e, r)| e == k && r.starts_with("unknown key")),
                        "{}: {k}: {errs:?}",
                        d.name
                    );
                }
            }
        }
        assert!(keys(find("asterisk").unwrap()).contains(&"channel_template".to_string()));
    }

    #[test]
    fn each_dialect_rejects_an_unknown_key_by_name() {
        let options: Table = "colour = \"blue\"".parse().unwrap();
        let devices = [DeviceId::new("101")];
        for d in DIALECTS {
            let table = LinkTable {
                address: Some("192.0.2.1:1"),
                devices: &devices,
                options: &options,
            };
            let errs = (d.parse)(&table).expect_err(d.name);
            let hit = errs.iter().find(|(k, _)| k == "colour");
            assert!(
                hit.is_some_and(|(_, r)| r.starts_with("unknown key")),
                "{}: {errs:?}",
                d.name
            );
        }
    }
}
