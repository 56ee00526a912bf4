//! The `sim` dialect as it registers in [`crate::pbx::registry`]: the scripted switch of
//! [`super::scripted`], simulated at the adapter interface, with no wire, codec or replay.
//!
//! ```toml
//! [[link]]
//! name = "lab"
//! dialect = "sim"
//! devices = ["24101-24104"]
//! script = true     # play the demo scenario loop
//! pace = 1.0        # scale of its pauses: above 0, up to 100 (1.0 = human speed)
//! ```

use crate::pbx::contract::{BoxFuture, LinkSpec, LinkStart};
use crate::pbx::registry::{DemoPbx, Dialect, LinkTable, OptionErrors};
use toml::Value;

/// A switch simulated at the adapter interface.
pub(crate) static SIM: Dialect = Dialect {
    name: "sim",
    aliases: &[],
    description: "a switch simulated inside the gateway (no wire protocol)",
    needs_address: false,
    parse,
    replayer: None,
    codec: None,
    demo,
};

const KEYS: &[&str] = &["script", "pace"];

/// The checked options of one simulated link.
#[derive(Debug, Clone, PartialEq)]
struct SimLink {
    script: bool,
    pace: f64,
}

impl LinkSpec for SimLink {
    fn run(&self, start: LinkStart) -> BoxFuture<'static, ()> {
        Box::pin(super::scripted::run(
            start.sink,
            start.devices,
            start.requests,
            self.script,
            self.pace,
        ))
    }
}

fn parse(t: &LinkTable<'_>) -> Result<Box<dyn LinkSpec>, OptionErrors> {
    let mut errs = Vec::new();
    let mut link = SimLink {
        script: true,
        pace: 1.0,
    };
    match t.options.get("script") {
        None => {}
        Some(Value::Boolean(b)) => link.script = *b,
        Some(v) => errs.push((
            "script".into(),
            format!("expected true or false, found {}", v.type_str()),
        )),
    }
    match t.options.get("pace") {
        None => {}
        Some(Value::Float(f)) if *f > 0.0 && *f <= 100.0 => link.pace = *f,
        Some(Value::Integer(i)) if (1..=100).contains(i) => link.pace = *i as f64,
        Some(v) => errs.push((
            "pace".into(),
            format!("expected a number above 0 and up to 100 (1.0 = human speed), found {v}"),
        )),
    }
    for k in t.options.keys() {
        if !KEYS.contains(&k.as_str()) {
            errs.push((
                k.clone(),
                format!("unknown key (expected one of: {})", KEYS.join(", ")),
            ));
        }
    }
    if errs.is_empty() {
        Ok(Box::new(link))
    } else {
        Err(errs)
    }
}

fn demo() -> BoxFuture<'static, anyhow::Result<DemoPbx>> {
    Box::pin(async {
        Ok(DemoPbx {
            banner: None,
            link: format!("dialect = \"{}\"\ndevices = [\"24101-24104\"]", SIM.name),
            keep: Box::new(()),
            world: None,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DeviceId;
    use toml::Table;

    #[test]
    fn script_and_pace_are_checked() {
        let devices = [DeviceId::new("1")];
        let ok: Table = "script = false\npace = 4".parse().unwrap();
        let t = LinkTable {
            address: None,
            devices: &devices,
            options: &ok,
        };
        let spec = format!("{:?}", parse(&t).unwrap());
        assert!(
            spec.contains("script: false") && spec.contains("pace: 4.0"),
            "{spec}"
        );
        let bad: Table = "script = 1\npace = 0".parse().unwrap();
        let t = LinkTable { options: &bad, ..t };
        let keys: Vec<String> = parse(&t).unwrap_err().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["script", "pace"]);
    }
}
