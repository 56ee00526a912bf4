//! The `[[link]]` keys of the `uacsta` and `csta-xml-tcp` dialects, checked all at once (the
//! configuration reports every problem with its key).
//!
//! ```toml
//! [[link]]
//! name = "openscape"
//! dialect = "csta-xml-tcp"         # or "uacsta" (SIP)
//! address = "192.0.2.20:1040"
//! devices = ["4000-4019"]
//! edition = "ed4"                  # ed3 | ed4 | ed6: the namespace we write (uacsta: ed3)
//! application_id = "ctigw"         # ECMA-354 applicationID (csta-xml-tcp)
//! session_duration_secs = 180      # ECMA-354 requested session duration
//! keepalive_secs = 0               # ResetApplicationSessionTimer every N s; 0 = a third of the session
//! request_timeout_ms = 5000
//! connect_timeout_ms = 5000
//! reconnect_min_ms = 500
//! reconnect_max_ms = 30000
//! disabled_services = []           # API ops answered NotSupported without asking the PBX
//! max_monitors = 0
//! # uacsta only
//! transport = "tcp"                # "tls" is not available in this build
//! username = "ctigw"               # SIP user (From, digest)
//! password = "secret"              # digest password, when the gateway challenges
//! domain = "cucm.example.com"      # SIP domain (default: the address's host)
//! dialog_refresh_secs = 600        # re-INVITE period
//! dialog_per_line = false          # one SIP dialog per monitored line (Cisco's gateway: true)
//! ```

use ctigw_codecs::csta_xml::Edition;
use std::time::Duration;
use toml::{Table, Value};

/// The checked options of one CSTA XML link.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub edition: Edition,
    pub application_id: String,
    pub session_duration: Duration,
    /// Period of ResetApplicationSessionTimer (always below the session duration).
    pub keepalive: Duration,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
    pub disabled_services: Vec<String>,
    pub max_monitors: Option<usize>,
    pub username: String,
    pub password: Option<String>,
    pub domain: Option<String>,
    pub dialog_refresh: Duration,
    pub dialog_per_line: bool,
}

impl Options {
    pub fn defaults(dialect: &str) -> Self {
        let sip = dialect == "uacsta";
        Options {
            edition: if sip { Edition::Ed3 } else { Edition::Ed4 },
            application_id: "ctigw".into(),
            session_duration: Duration::from_secs(180),
            keepalive: Duration::from_secs(60),
            request_timeout: Duration::from_millis(5000),
            connect_timeout: Duration::from_millis(5000),
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
            disabled_services: Vec::new(),
            max_monitors: None,
            username: "ctigw".into(),
            password: None,
            domain: None,
            dialog_refresh: Duration::from_secs(600),
            dialog_per_line: false,
        }
    }
}

const COMMON: &[&str] = &[
    "edition",
    "request_timeout_ms",
    "connect_timeout_ms",
    "reconnect_min_ms",
    "reconnect_max_ms",
    "disabled_services",
    "max_monitors",
];
const TCP_ONLY: &[&str] = &["application_id", "session_duration_secs", "keepalive_secs"];
const SIP_ONLY: &[&str] = &[
    "transport",
    "username",
    "password",
    "domain",
    "dialog_refresh_secs",
    "dialog_per_line",
];

type Errors = Vec<(String, String)>;

fn int(options: &Table, k: &str, min: i64, max: i64, errs: &mut Errors) -> Option<u64> {
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
}

fn string(options: &Table, k: &str, errs: &mut Errors) -> Option<String> {
    match options.get(k)? {
        Value::String(s) if !s.is_empty() && !s.chars().any(char::is_control) => Some(s.clone()),
        Value::String(_) => {
            errs.push((
                k.into(),
                "must not be empty or hold control characters".into(),
            ));
            None
        }
        v => {
            errs.push((
                k.into(),
                format!("expected a string, found {}", v.type_str()),
            ));
            None
        }
    }
}

/// Checks the dialect's keys of a link (every key of the `[[link]]` table besides name,
/// dialect, address and devices). Errors are `(key, reason)`.
pub fn parse(dialect: &str, options: &Table) -> Result<Options, Errors> {
    let sip = dialect == "uacsta";
    let mut o = Options::defaults(dialect);
    let mut errs = Vec::new();
    if let Some(e) = string(options, "edition", &mut errs) {
        match e.as_str() {
            "ed3" => o.edition = Edition::Ed3,
            "ed4" => o.edition = Edition::Ed4,
            "ed6" => o.edition = Edition::Ed6,
            other => errs.push((
                "edition".into(),
                format!("\"{other}\" is not one of: ed3, ed4, ed6"),
            )),
        }
    }
    if let Some(v) = string(options, "application_id", &mut errs) {
        o.application_id = v;
    }
    if let Some(v) = int(options, "session_duration_secs", 10, 86_400, &mut errs) {
        o.session_duration = Duration::from_secs(v);
    }
    o.keepalive = o.session_duration / 3;
    if let Some(v) = int(options, "keepalive_secs", 0, 86_400, &mut errs) {
        if v > 0 {
            o.keepalive = Duration::from_secs(v);
        }
        if v > 0 && Duration::from_secs(v) >= o.session_duration {
            errs.push((
                "keepalive_secs".into(),
                "must be below session_duration_secs (the session would expire first)".into(),
            ));
        }
    }
    if let Some(v) = int(options, "request_timeout_ms", 100, 600_000, &mut errs) {
        o.request_timeout = Duration::from_millis(v);
    }
    if let Some(v) = int(options, "connect_timeout_ms", 100, 600_000, &mut errs) {
        o.connect_timeout = Duration::from_millis(v);
    }
    if let Some(v) = int(options, "reconnect_min_ms", 10, 600_000, &mut errs) {
        o.reconnect_min = Duration::from_millis(v);
    }
    if let Some(v) = int(options, "reconnect_max_ms", 10, 3_600_000, &mut errs) {
        o.reconnect_max = Duration::from_millis(v);
    }
    if o.reconnect_max < o.reconnect_min {
        errs.push((
            "reconnect_max_ms".into(),
            "must not be below reconnect_min_ms".into(),
        ));
    }
    if let Some(v) = int(options, "max_monitors", 0, 100_000, &mut errs) {
        o.max_monitors = (v > 0).then_some(v as usize);
    }
    if let Some(t) = string(options, "transport", &mut errs) {
        match t.as_str() {
            "tcp" => {}
            "tls" => errs.push((
                "transport".into(),
                "\"tls\" is not available in this build (SIP over TCP only)".into(),
            )),
            other => errs.push((
                "transport".into(),
                format!("\"{other}\" is not one of: tcp, tls"),
            )),
        }
    }
    if let Some(v) = string(options, "username", &mut errs) {
        o.username = v;
    }
    o.password = string(options, "password", &mut errs);
    o.domain = string(options, "domain", &mut errs);
    if let Some(v) = int(options, "dialog_refresh_secs", 1, 86_400, &mut errs) {
        o.dialog_refresh = Duration::from_secs(v);
    }
    match options.get("dialog_per_line") {
        None => {}
        Some(Value::Boolean(b)) => o.dialog_per_line = *b,
        Some(v) => errs.push((
            "dialog_per_line".into(),
            format!("expected true or false, found {}", v.type_str()),
        )),
    }
    match options.get("disabled_services") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, it) in items.iter().enumerate() {
                match it.as_str() {
                    Some(s) if crate::pbx::oxe::options::OPS.contains(&s) => {
                        o.disabled_services.push(s.to_string())
                    }
                    Some(s) => errs.push((
                        format!("disabled_services[{i}]"),
                        format!(
                            "\"{s}\" is not one of: {}",
                            crate::pbx::oxe::options::OPS.join(", ")
                        ),
                    )),
                    None => errs.push((
                        format!("disabled_services[{i}]"),
                        format!("expected a string, found {}", it.type_str()),
                    )),
                }
            }
        }
        Some(v) => errs.push((
            "disabled_services".into(),
            format!("expected an array of strings, found {}", v.type_str()),
        )),
    }
    let own = if sip { SIP_ONLY } else { TCP_ONLY };
    for k in options.keys() {
        let k = k.as_str();
        if COMMON.contains(&k) || own.contains(&k) {
            continue;
        }
        let mut expected: Vec<&str> = COMMON.to_vec();
        expected.extend_from_slice(own);
        let why = if SIP_ONLY.contains(&k) || TCP_ONLY.contains(&k) {
            format!("not a key of dialect {dialect}")
        } else {
            format!("unknown key (expected one of: {})", expected.join(", "))
        };
        errs.push((k.to_string(), why));
    }
    if errs.is_empty() { Ok(o) } else { Err(errs) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let t: Table = "edition = \"ed6\"\nsession_duration_secs = 60"
            .parse()
            .unwrap();
        let o = parse("csta-xml-tcp", &t).unwrap();
        assert_eq!(o.edition, Edition::Ed6);
        assert_eq!(o.keepalive, Duration::from_secs(20));
        let o = parse("uacsta", &Table::new()).unwrap();
        assert_eq!(o.edition, Edition::Ed3);
        assert_eq!(o.dialog_refresh, Duration::from_secs(600));
        let t: Table = "edition = \"ed5\"\ntransport = \"tls\"\nbogus = 1\ndialog_per_line = 1"
            .parse()
            .unwrap();
        let e = parse("uacsta", &t).unwrap_err();
        let keys: Vec<&str> = e.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["edition", "transport", "dialog_per_line", "bogus"]);
        let t: Table = "dialog_per_line = true".parse().unwrap();
        let e = parse("csta-xml-tcp", &t).unwrap_err();
        assert!(e[0].1.contains("not a key of dialect"));
    }
}
