//! The Asterisk link's own configuration keys (`[[link]]` with `dialect = "asterisk"`): login,
//! the dialplan context for calls we place, how each device maps to its channel, which phone
//! models take answer/hold by SIP NOTIFY, queues, and timers. Checked all at once, each
//! problem named by key, like the rest of the configuration.

use crate::model::DeviceId;
use std::collections::BTreeMap;
use std::time::Duration;
use toml::{Table, Value};

/// How to log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// `Secret` in clear (only on a trusted network or through a tunnel).
    Plain,
    /// `Challenge` then `Key = md5(challenge + secret)`.
    Md5,
}

/// A phone model that answers and holds on a SIP NOTIFY (an "action URI").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyModel {
    /// `Event` header of the NOTIFY (`ACTION-URI` on Yealink, `talk`/`hold` elsewhere).
    pub event: String,
    /// Body that answers, holds and resumes (`key=OK`, `key=F_HOLD`).
    pub answer: String,
    pub hold: String,
    pub retrieve: String,
}

/// The checked options of one Asterisk link.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    pub username: String,
    pub secret: String,
    pub auth: AuthKind,
    /// Dialplan context where calls we originate, redirect and transfer are dialled.
    pub context: String,
    /// Event classes asked for at login (`call,agent`).
    pub events: String,
    /// Channel (technology/resource) of each device, e.g. `101` → `PJSIP/101`.
    pub channels: BTreeMap<DeviceId, String>,
    /// Model of each device that has one configured.
    pub phone_models: BTreeMap<DeviceId, String>,
    /// Models that take answer/hold by NOTIFY, by name.
    pub notify_models: BTreeMap<String, NotifyModel>,
    /// Queues an agent joins on log-on and leaves on log-off.
    pub queues: Vec<String>,
    pub ping_interval: Duration,
    /// How long an action may wait for its response before the link is judged dead (Ping) or
    /// the command fails.
    pub response_timeout: Duration,
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
}

/// The name the daemon and the configuration checks use.
pub type AsteriskOptions = Options;

impl Options {
    /// Options for tests and the demo: plain login, `PJSIP/{ext}` channels.
    pub fn simple(username: &str, secret: &str, devices: &[DeviceId]) -> Self {
        Options {
            username: username.into(),
            secret: secret.into(),
            auth: AuthKind::Md5,
            context: "from-internal".into(),
            events: "call,agent".into(),
            channels: devices
                .iter()
                .map(|d| (d.clone(), format!("PJSIP/{d}")))
                .collect(),
            phone_models: BTreeMap::new(),
            notify_models: default_models(),
            queues: Vec::new(),
            ping_interval: Duration::from_secs(20),
            response_timeout: Duration::from_secs(8),
            reconnect_min: Duration::from_millis(500),
            reconnect_max: Duration::from_secs(30),
        }
    }

    /// The channel of a device (technology/resource).
    pub fn channel_of(&self, device: &DeviceId) -> Option<&str> {
        self.channels.get(device).map(String::as_str)
    }

    /// The NOTIFY model of a device, when it has one that supports action URIs.
    pub fn notify_model(&self, device: &DeviceId) -> Option<(&str, &NotifyModel)> {
        let name = self.phone_models.get(device)?;
        self.notify_models.get(name).map(|m| (name.as_str(), m))
    }
}

/// Built-in models: Yealink's action URI (`Event: ACTION-URI`, `key=OK`, `key=F_HOLD`).
pub fn default_models() -> BTreeMap<String, NotifyModel> {
    BTreeMap::from([(
        "yealink".to_string(),
        NotifyModel {
            event: "ACTION-URI".into(),
            answer: "key=OK".into(),
            hold: "key=F_HOLD".into(),
            retrieve: "key=F_HOLD".into(),
        },
    )])
}

const KEYS: &[&str] = &[
    "username",
    "secret",
    "auth",
    "context",
    "events",
    "channel_template",
    "channels",
    "phone_models",
    "notify_models",
    "queues",
    "ping_interval_ms",
    "response_timeout_ms",
    "reconnect_min_ms",
    "reconnect_max_ms",
];

fn string(t: &Table, k: &str, errs: &mut Vec<(String, String)>) -> Option<String> {
    match t.get(k)? {
        Value::String(s) => Some(s.clone()),
        v => {
            errs.push((
                k.into(),
                format!("expected a string, found {}", v.type_str()),
            ));
            None
        }
    }
}

fn millis(t: &Table, k: &str, default: u64, errs: &mut Vec<(String, String)>) -> Duration {
    match t.get(k) {
        None => Duration::from_millis(default),
        Some(Value::Integer(i)) if (10..=3_600_000).contains(i) => Duration::from_millis(*i as u64),
        Some(v) => {
            errs.push((
                k.into(),
                format!("expected milliseconds from 10 to 3600000, found {v}"),
            ));
            Duration::from_millis(default)
        }
    }
}

fn no_line_break(k: &str, v: &str, errs: &mut Vec<(String, String)>) {
    if v.contains(['\r', '\n']) {
        errs.push((k.into(), "must not contain a line break".into()));
    }
}

/// Checks the options of an Asterisk link; errors are `(key, reason)`, the key relative to
/// the link (`channels.101`).
pub fn parse(t: &Table, devices: &[DeviceId]) -> Result<Options, Vec<(String, String)>> {
    let mut errs = Vec::new();
    for k in t.keys() {
        if !KEYS.contains(&k.as_str()) {
            errs.push((
                k.clone(),
                format!("unknown key (expected one of: {})", KEYS.join(", ")),
            ));
        }
    }
    let username = string(t, "username", &mut errs).unwrap_or_default();
    if username.is_empty() && !t.contains_key("username") {
        errs.push((
            "username".into(),
            "missing (required: the AMI user of manager.conf)".into(),
        ));
    }
    let secret = string(t, "secret", &mut errs).unwrap_or_default();
    if !t.contains_key("secret") {
        errs.push((
            "secret".into(),
            "missing (required: the AMI user's secret)".into(),
        ));
    }
    no_line_break("username", &username, &mut errs);
    no_line_break("secret", &secret, &mut errs);
    let auth = match string(t, "auth", &mut errs).as_deref() {
        None | Some("md5") => AuthKind::Md5,
        Some("plain") => AuthKind::Plain,
        Some(o) => {
            errs.push(("auth".into(), format!("\"{o}\" is not one of: md5, plain")));
            AuthKind::Md5
        }
    };
    let context = string(t, "context", &mut errs).unwrap_or_else(|| "from-internal".into());
    no_line_break("context", &context, &mut errs);
    let events = string(t, "events", &mut errs).unwrap_or_else(|| "call,agent".into());
    no_line_break("events", &events, &mut errs);
    let template = string(t, "channel_template", &mut errs).unwrap_or_else(|| "PJSIP/{ext}".into());
    if !template.contains("{ext}") || !template.contains('/') {
        errs.push((
            "channel_template".into(),
            format!("\"{template}\" must look like TECH/resource with {{ext}}, e.g. PJSIP/{{ext}}"),
        ));
    }
    let mut channels: BTreeMap<DeviceId, String> = devices
        .iter()
        .map(|d| (d.clone(), template.replace("{ext}", d.as_str())))
        .collect();
    match t.get("channels") {
        None => {}
        Some(Value::Table(m)) => {
            for (dev, v) in m {
                let key = format!("channels.{dev}");
                let d = DeviceId::new(dev);
                match v {
                    Value::String(s) if s.contains('/') && !s.contains(['\r', '\n', ' ']) => {
                        if !devices.contains(&d) {
                            errs.push((key, format!("{dev} is not in this link's devices")));
                        } else {
                            channels.insert(d, s.clone());
                        }
                    }
                    other => errs.push((
                        key,
                        format!("expected a channel such as \"PJSIP/{dev}\", found {other}"),
                    )),
                }
            }
        }
        Some(v) => errs.push((
            "channels".into(),
            format!(
                "expected a table such as {{ \"101\" = \"PJSIP/101\" }}, found {}",
                v.type_str()
            ),
        )),
    }
    let mut notify_models = default_models();
    match t.get("notify_models") {
        None => {}
        Some(Value::Table(m)) => {
            for (name, v) in m {
                let key = format!("notify_models.{name}");
                let Value::Table(mt) = v else {
                    errs.push((
                        key,
                        "expected a table with event, answer, hold, retrieve".into(),
                    ));
                    continue;
                };
                let mut get = |f: &str| match mt.get(f) {
                    Some(Value::String(s)) if !s.contains(['\r', '\n']) => s.clone(),
                    _ => {
                        errs.push((
                            format!("{key}.{f}"),
                            "missing or not a one-line string".into(),
                        ));
                        String::new()
                    }
                };
                let model = NotifyModel {
                    event: get("event"),
                    answer: get("answer"),
                    hold: get("hold"),
                    retrieve: get("retrieve"),
                };
                notify_models.insert(name.clone(), model);
            }
        }
        Some(v) => errs.push((
            "notify_models".into(),
            format!("expected a table, found {}", v.type_str()),
        )),
    }
    let mut phone_models = BTreeMap::new();
    match t.get("phone_models") {
        None => {}
        Some(Value::Table(m)) => {
            for (dev, v) in m {
                let key = format!("phone_models.{dev}");
                match v {
                    Value::String(s) if devices.contains(&DeviceId::new(dev)) => {
                        phone_models.insert(DeviceId::new(dev), s.clone());
                    }
                    Value::String(_) => {
                        errs.push((key, format!("{dev} is not in this link's devices")))
                    }
                    other => errs.push((key, format!("expected a model name, found {other}"))),
                }
            }
        }
        Some(v) => errs.push((
            "phone_models".into(),
            format!("expected a table, found {}", v.type_str()),
        )),
    }
    let queues = match t.get("queues") {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v.as_str() {
                Some(s) if !s.is_empty() && !s.contains(['\r', '\n']) => Some(s.to_string()),
                _ => {
                    errs.push((format!("queues[{i}]"), "expected a queue name".into()));
                    None
                }
            })
            .collect(),
        Some(v) => {
            errs.push((
                "queues".into(),
                format!("expected an array of queue names, found {}", v.type_str()),
            ));
            Vec::new()
        }
    };
    let ping_interval = millis(t, "ping_interval_ms", 20_000, &mut errs);
    let response_timeout = millis(t, "response_timeout_ms", 8_000, &mut errs);
    let reconnect_min = millis(t, "reconnect_min_ms", 500, &mut errs);
    let reconnect_max = millis(t, "reconnect_max_ms", 30_000, &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Options {
        username,
        secret,
        auth,
        context,
        events,
        channels,
        phone_models,
        notify_models,
        queues,
        ping_interval,
        response_timeout,
        reconnect_min,
        reconnect_max,
    })
}

/// The errors only (for the configuration check).
pub fn check(t: &Table, devices: &[DeviceId]) -> Vec<(String, String)> {
    parse(t, devices).err().unwrap_or_default()
}
