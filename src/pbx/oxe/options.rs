//! The `[[link]]` keys of the `oxe` and `oxo` dialects, checked all at once (the
//! configuration reports every problem with its key).
//!
//! ```toml
//! [[link]]
//! name = "oxe1"
//! dialect = "oxe"              # or "oxo" (same adapter, OXO defaults)
//! address = "192.0.2.10:2555"
//! devices = ["24100-24119"]
//! keepalive_secs = 30          # our own SystemStatus every N s of the link; 0 = never
//! request_timeout_ms = 5000    # an invoke without answer by then fails with `timeout`
//! connect_timeout_ms = 5000
//! reconnect_min_ms = 500       # backoff with full jitter between these bounds
//! reconnect_max_ms = 30000
//! oxo = false                  # OXO Connect differences (default true for dialect "oxo")
//! disabled_services = []      # API ops answered NotSupported without asking the PBX
//! max_monitors = 0             # 0 = no limit; devices beyond it are refused locally
//! ```

use std::time::Duration;
use toml::{Table, Value};

/// The checked options of one OXE/OXO link.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub keepalive: Option<Duration>,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    pub oxo: bool,
    /// API operation names (`conference`, `setAgentState`, ...).
    pub disabled_services: Vec<String>,
    pub max_monitors: Option<usize>,
}

impl Options {
    pub fn defaults(dialect: &str) -> Self {
        let oxo = dialect == "oxo";
        Options {
            keepalive: Some(Duration::from_secs(30)),
            request_timeout: Duration::from_millis(5000),
            connect_timeout: Duration::from_millis(5000),
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
            oxo,
            // OXO Connect has no CCD agents on the CSTA link
            disabled_services: if oxo {
                vec!["setAgentState".into()]
            } else {
                Vec::new()
            },
            max_monitors: None,
        }
    }
}

/// The API operations `disabled_services` may name.
pub const OPS: &[&str] = &[
    "makeCall",
    "answer",
    "hangup",
    "hold",
    "retrieve",
    "consult",
    "transfer",
    "conference",
    "alternate",
    "deflect",
    "singleStepTransfer",
    "sendDigits",
    "setForward",
    "cancelForward",
    "setDnd",
    "setAgentState",
];

const KEYS: &[&str] = &[
    "keepalive_secs",
    "request_timeout_ms",
    "connect_timeout_ms",
    "reconnect_min_ms",
    "reconnect_max_ms",
    "oxo",
    "disabled_services",
    "max_monitors",
];

/// Checks the dialect's keys of a link (`options` holds every key of the `[[link]]` table
/// besides name, dialect, address and devices). Errors are `(key, reason)`.
pub fn parse(dialect: &str, options: &Table) -> Result<Options, Vec<(String, String)>> {
    let mut o = Options::defaults(dialect);
    let mut errs = Vec::new();
    let int = |k: &str, min: i64, max: i64, errs: &mut Vec<(String, String)>| -> Option<u64> {
        match options.get(k)? {
            Value::Integer(i) if (min..=max).contains(i) => Some(*i as u64),
            Value::Integer(i) => {
                errs.push((k.into(), format!("{i} is out of range {min}..={max}")));
                None
            }
            v => {
                errs.push((
                    k.into(),
                    format!("expected an integer, found {}", v.type_str()),
                ));
                None
            }
        }
    };
    if let Some(v) = int("keepalive_secs", 0, 3600, &mut errs) {
        o.keepalive = (v > 0).then(|| Duration::from_secs(v));
    }
    if let Some(v) = int("request_timeout_ms", 100, 600_000, &mut errs) {
        o.request_timeout = Duration::from_millis(v);
    }
    if let Some(v) = int("connect_timeout_ms", 100, 600_000, &mut errs) {
        o.connect_timeout = Duration::from_millis(v);
    }
    if let Some(v) = int("reconnect_min_ms", 10, 600_000, &mut errs) {
        o.reconnect_min = Duration::from_millis(v);
    }
    if let Some(v) = int("reconnect_max_ms", 10, 3_600_000, &mut errs) {
        o.reconnect_max = Duration::from_millis(v);
    }
    if o.reconnect_max < o.reconnect_min {
        errs.push((
            "reconnect_max_ms".into(),
            "must not be below reconnect_min_ms".into(),
        ));
    }
    if let Some(v) = int("max_monitors", 0, 100_000, &mut errs) {
        o.max_monitors = (v > 0).then_some(v as usize);
    }
    match options.get("oxo") {
        None => {}
        Some(Value::Boolean(b)) if *b != o.oxo => {
            let d = Options::defaults(if *b { "oxo" } else { "oxe" });
            o.oxo = *b;
            o.disabled_services = d.disabled_services;
        }
        Some(Value::Boolean(_)) => {}
        Some(v) => errs.push((
            "oxo".into(),
            format!("expected true or false, found {}", v.type_str()),
        )),
    }
    match options.get("disabled_services") {
        None => {}
        Some(Value::Array(items)) => {
            let mut list = Vec::new();
            for (i, it) in items.iter().enumerate() {
                match it.as_str() {
                    Some(s) if OPS.contains(&s) => list.push(s.to_string()),
                    Some(s) => errs.push((
                        format!("disabled_services[{i}]"),
                        format!("\"{s}\" is not one of: {}", OPS.join(", ")),
                    )),
                    None => errs.push((
                        format!("disabled_services[{i}]"),
                        format!("expected a string, found {}", it.type_str()),
                    )),
                }
            }
            o.disabled_services = list;
        }
        Some(v) => errs.push((
            "disabled_services".into(),
            format!("expected an array of strings, found {}", v.type_str()),
        )),
    }
    for k in options.keys() {
        if !KEYS.contains(&k.as_str()) {
            errs.push((
                k.clone(),
                format!("unknown key (expected one of: {})", KEYS.join(", ")),
            ));
        }
    }
    if errs.is_empty() { Ok(o) } else { Err(errs) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let t: Table = "keepalive_secs = 0\noxo = true".parse().unwrap();
        let o = parse("oxe", &t).unwrap();
        assert!(o.keepalive.is_none() && o.oxo);
        assert_eq!(o.disabled_services, vec!["setAgentState".to_string()]);
        let t: Table = "keepalive_secs = \"x\"\nbogus = 1\ndisabled_services = [\"fly\"]"
            .parse()
            .unwrap();
        let e = parse("oxe", &t).unwrap_err();
        let keys: Vec<&str> = e.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["keepalive_secs", "disabled_services[0]", "bogus"]);
    }
}
