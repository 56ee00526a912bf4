//! The configuration file (TOML): reading it, checking every key, and reporting all errors at
//! once with the file, the key path and the reason, before any link is opened.
//!
//! The file is walked by hand rather than through serde's derive so that one run reports
//! every problem (serde stops at the first) and unknown keys are named, not ignored.

pub use crate::api::tls::TlsFiles;
use crate::model::{DeviceId, DialPlan};
use crate::pbx::contract::LinkSpec;
use crate::pbx::registry::{self, LinkTable};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use toml::{Table, Value};

/// Ports below this need a capability the systemd unit does not grant.
const PRIVILEGED_PORTS: u16 = 1024;

/// Largest device range one entry may expand to.
const MAX_RANGE: u64 = 10_000;

/// One problem in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// Dotted key path (`link[1].address`), or `line L, column C` for syntax errors.
    pub key: String,
    pub reason: String,
}

/// Every problem in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    pub file: PathBuf,
    pub errors: Vec<ConfigError>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} error(s):",
            self.file.display(),
            self.errors.len()
        )?;
        for e in &self.errors {
            writeln!(f, "  {}: {}: {}", self.file.display(), e.key, e.reason)?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// How clients authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthConfig {
    /// No token needed: refused unless the API listens on loopback only.
    None,
    /// Fixed tokens, each with a user and its devices (`None`: all devices).
    Tokens(Vec<TokenEntry>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEntry {
    pub token: String,
    pub user: String,
    pub devices: Option<Vec<DeviceId>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiSection {
    pub listen: SocketAddr,
    pub auth: AuthConfig,
    pub allowed_origins: Option<Vec<String>>,
    pub client_queue: usize,
    pub replay_buffer: usize,
    pub write_timeout: Duration,
}

// ---- [limits] (issue 10): caps on what clients may take ----

/// `[limits]`: caps on connections, deadlines and command rates of the API side.
#[derive(Debug, Clone, PartialEq)]
pub struct LimitsSection {
    pub max_connections: usize,
    pub max_connections_per_address: usize,
    pub max_unauthenticated: usize,
    pub request_head_timeout: Duration,
    pub auth_timeout: Duration,
    pub commands_per_second: u32,
    pub command_burst: u32,
    /// How long a client may stay more than `[api] client_queue` events behind.
    pub client_lag: Duration,
}

fn parse_limits<'a>(w: &mut Walker<'a>, empty: &'a Table) -> LimitsSection {
    let t = w.table("limits").unwrap_or(empty);
    let mut l = w.child("limits", t);
    let max_connections = l.int("max_connections", 1, 1_000_000).unwrap_or(20_000) as usize;
    let max_connections_per_address = l
        .int("max_connections_per_address", 1, 1_000_000)
        .unwrap_or(20_000) as usize;
    let max_unauthenticated = l.int("max_unauthenticated", 1, 1_000_000).unwrap_or(1_000) as usize;
    let request_head_timeout = duration_ms(&mut l, "request_head_timeout_ms", 10_000);
    let auth_timeout = duration_ms(&mut l, "auth_timeout_ms", 10_000);
    let commands_per_second = l.int("commands_per_second", 1, 100_000).unwrap_or(20) as u32;
    let command_burst = l.int("command_burst", 1, 100_000).unwrap_or(40) as u32;
    let client_lag = duration_ms(&mut l, "client_lag_ms", 2_000);
    l.finish();
    LimitsSection {
        max_connections,
        max_connections_per_address,
        max_unauthenticated,
        request_head_timeout,
        auth_timeout,
        commands_per_second,
        command_burst,
        client_lag,
    }
}

// ---- end of [limits] ----

// ---- [tls] (issue 11): the listener's certificate ----

/// `[tls]`: both files required, relative paths taken from the configuration file's folder;
/// the files are read and checked now, so `check-config` reports a bad pair.
fn parse_tls<'a>(w: &mut Walker<'a>, file: &Path) -> Option<TlsFiles> {
    let t = w.table("tls")?;
    let mut tw = w.child("tls", t);
    let base = file.parent().unwrap_or(Path::new(""));
    let cert = tw.required_string("cert").map(|c| base.join(c));
    let key = tw.required_string("key").map(|k| base.join(k));
    tw.finish();
    let files = TlsFiles {
        cert: cert?,
        key: key?,
    };
    if let Err(e) = crate::api::tls::load(&files) {
        let k = if e.file() == Some(files.key.as_path()) {
            "tls.key"
        } else {
            "tls.cert"
        };
        w.errors.push(ConfigError {
            key: k.into(),
            reason: e.to_string(),
        });
    }
    Some(files)
}

/// Plain HTTP would carry tokens in clear and browsers refuse `ws://` from an `https://`
/// CRM page: it is served only on loopback.
fn check_plain_http(w: &mut Walker, listen: Option<SocketAddr>, tls: &Option<TlsFiles>) {
    if let (Some(l), None) = (listen, tls)
        && !l.ip().is_loopback()
    {
        w.errors.push(ConfigError {
            key: "api.listen".into(),
            reason: format!(
                "plain HTTP is only served on a loopback address, not {}: off this host tokens \
                 would cross the network in clear and a CRM page served over https:// cannot \
                 open ws://; add a [tls] section with cert and key, or listen on 127.0.0.1",
                l.ip()
            ),
        });
    }
}

// ---- end of [tls] ----

#[derive(Debug, Clone)]
pub struct LinkConfig {
    pub name: String,
    /// The dialect's canonical name (the file may have used an alias).
    pub dialect: String,
    /// `host:port` of the PBX's CTI server (not used by dialects without a wire).
    pub address: Option<String>,
    pub devices: Vec<DeviceId>,
    /// Keys of the dialect's own, verbatim: what a reload compares.
    pub options: Table,
    /// The same keys parsed and checked once by the dialect: what starts the link.
    pub spec: Arc<dyn LinkSpec>,
}

/// Two links are the same when their tables are: the spec is parsed from them.
impl PartialEq for LinkConfig {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.dialect == other.dialect
            && self.address == other.address
            && self.devices == other.devices
            && self.options == other.options
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub api: ApiSection,
    /// `[tls]`: the listener's certificate and key; `None`: plain HTTP (loopback only).
    pub tls: Option<TlsFiles>,
    pub limits: LimitsSection,
    pub command_timeout: Duration,
    /// Release a blocked agent's connection after this long (OXE timer 384); `None`: never.
    pub blocked_agent_release: Option<Duration>,
    pub dialplan: DialPlan,
    pub log_level: String,
    pub log_format: LogFormat,
    pub links: Vec<LinkConfig>,
}

/// Walks a TOML table, collecting errors under a key path.
struct Walker<'a> {
    errors: &'a mut Vec<ConfigError>,
    path: String,
    table: &'a Table,
    seen: Vec<&'static str>,
}

impl<'a> Walker<'a> {
    fn key(&self, k: &str) -> String {
        if self.path.is_empty() {
            k.to_string()
        } else {
            format!("{}.{k}", self.path)
        }
    }

    fn err(&mut self, k: &str, reason: impl Into<String>) {
        let key = self.key(k);
        self.errors.push(ConfigError {
            key,
            reason: reason.into(),
        });
    }

    fn get(&mut self, k: &'static str) -> Option<&'a Value> {
        self.seen.push(k);
        self.table.get(k)
    }

    fn string(&mut self, k: &'static str) -> Option<String> {
        match self.get(k)? {
            Value::String(s) => Some(s.clone()),
            other => {
                self.err(k, format!("expected a string, found {}", other.type_str()));
                None
            }
        }
    }

    fn required_string(&mut self, k: &'static str) -> Option<String> {
        if self.table.get(k).is_none() {
            self.seen.push(k);
            self.err(k, "missing (required)");
            return None;
        }
        self.string(k)
    }

    fn int(&mut self, k: &'static str, min: i64, max: i64) -> Option<i64> {
        match self.get(k)? {
            Value::Integer(i) if (min..=max).contains(i) => Some(*i),
            Value::Integer(i) => {
                self.err(k, format!("{i} is out of range {min}..={max}"));
                None
            }
            other => {
                self.err(
                    k,
                    format!("expected an integer, found {}", other.type_str()),
                );
                None
            }
        }
    }

    fn strings(&mut self, k: &'static str) -> Option<Vec<String>> {
        match self.get(k)? {
            Value::Array(items) => {
                let mut out = Vec::new();
                for (i, v) in items.iter().enumerate() {
                    match v {
                        Value::String(s) => out.push(s.clone()),
                        other => self.err(
                            &format!("{k}[{i}]"),
                            format!("expected a string, found {}", other.type_str()),
                        ),
                    }
                }
                Some(out)
            }
            other => {
                self.err(
                    k,
                    format!("expected an array of strings, found {}", other.type_str()),
                );
                None
            }
        }
    }

    fn table(&mut self, k: &'static str) -> Option<&'a Table> {
        match self.get(k)? {
            Value::Table(t) => Some(t),
            other => {
                self.err(k, format!("expected a table, found {}", other.type_str()));
                None
            }
        }
    }

    fn child<'b>(&'b mut self, k: &str, table: &'a Table) -> Walker<'b>
    where
        'a: 'b,
    {
        let path = self.key(k);
        Walker {
            errors: self.errors,
            path,
            table,
            seen: Vec::new(),
        }
    }

    /// Reports keys nobody asked for (typos, keys from another version).
    fn finish(self) {
        for k in self.table.keys() {
            if !self.seen.contains(&k.as_str()) {
                let key = if self.path.is_empty() {
                    k.clone()
                } else {
                    format!("{}.{k}", self.path)
                };
                self.errors.push(ConfigError {
                    key,
                    reason: format!("unknown key (expected one of: {})", self.seen.join(", ")),
                });
            }
        }
    }
}

/// Expands `24100-24119` into its devices; single numbers pass through.
fn expand_devices(w: &mut Walker, entries: Vec<String>) -> Vec<DeviceId> {
    let mut out = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let e = e.trim();
        let key = format!("devices[{i}]");
        if let Some((a, b)) = e.split_once('-') {
            let (a, b) = (a.trim(), b.trim());
            match (a.parse::<u64>(), b.parse::<u64>()) {
                (Ok(x), Ok(y)) if a.len() == b.len() && x <= y && y - x < MAX_RANGE => {
                    for n in x..=y {
                        out.push(DeviceId::new(&format!("{n:0width$}", width = a.len())));
                    }
                }
                (Ok(_), Ok(_)) if a.len() != b.len() => w.err(
                    &key,
                    format!(
                        "range \"{e}\": both ends must have the same number of digits ({} and {})",
                        a.len(),
                        b.len()
                    ),
                ),
                (Ok(x), Ok(y)) if x > y => w.err(&key, format!("range \"{e}\" runs backwards")),
                (Ok(_), Ok(_)) => w.err(
                    &key,
                    format!("range \"{e}\" is larger than {MAX_RANGE} devices"),
                ),
                _ => w.err(
                    &key,
                    format!("\"{e}\" is neither a number nor a range like 24100-24199"),
                ),
            }
        } else if e.is_empty()
            || !e.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '+' | '*' | '#' | '/' | '_' | '.')
            })
        {
            w.err(&key, format!("\"{e}\" is not a directory number"));
        } else {
            out.push(DeviceId::new(e));
        }
    }
    out
}

fn duration_ms(w: &mut Walker, k: &'static str, default_ms: u64) -> Duration {
    Duration::from_millis(
        w.int(k, 1, 3_600_000)
            .map(|v| v as u64)
            .unwrap_or(default_ms),
    )
}

/// Parses and checks a configuration text. `file` is used in messages only.
pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigErrors> {
    let fail = |errors| ConfigErrors {
        file: file.to_path_buf(),
        errors,
    };
    let root: Table = match text.parse::<Table>() {
        Ok(t) => t,
        Err(e) => {
            let key = match e.span() {
                Some(span) => {
                    let before = &text[..span.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let col = before
                        .rsplit('\n')
                        .next()
                        .map(|l| l.chars().count())
                        .unwrap_or(0)
                        + 1;
                    format!("line {line}, column {col}")
                }
                None => "syntax".into(),
            };
            return Err(fail(vec![ConfigError {
                key,
                reason: e.message().to_string(),
            }]));
        }
    };
    let mut errors = Vec::new();
    let mut w = Walker {
        errors: &mut errors,
        path: String::new(),
        table: &root,
        seen: Vec::new(),
    };

    // [api]
    let empty = Table::new();
    let api_t = w.table("api").unwrap_or(&empty);
    let mut a = w.child("api", api_t);
    let listen = match a.string("listen") {
        Some(s) => match s.parse::<SocketAddr>() {
            Ok(addr) if (1..PRIVILEGED_PORTS).contains(&addr.port()) => {
                a.err(
                    "listen",
                    format!(
                        "port {} is below {PRIVILEGED_PORTS}: the systemd unit runs without the capability to bind it (CAP_NET_BIND_SERVICE); use a port such as 8443, or a reverse proxy on {}",
                        addr.port(),
                        addr.port()
                    ),
                );
                None
            }
            Ok(addr) => Some(addr),
            Err(_) => {
                a.err(
                    "listen",
                    format!("\"{s}\" is not an address:port such as 127.0.0.1:8443"),
                );
                None
            }
        },
        None => Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
    };
    let auth_kind = a.string("auth").unwrap_or_else(|| "tokens".into());
    let mut tokens = Vec::new();
    if let Some(v) = a.get("tokens") {
        match v {
            Value::Array(items) => {
                for (i, it) in items.iter().enumerate() {
                    let Value::Table(t) = it else {
                        a.err(&format!("tokens[{i}]"), "expected a table ([[api.tokens]])");
                        continue;
                    };
                    let mut tw = a.child(&format!("tokens[{i}]"), t);
                    let token = tw.required_string("token");
                    let user = tw.required_string("user");
                    if let Some(tok) = &token
                        && tok.len() < 16
                    {
                        tw.err("token", "too short: use at least 16 random characters");
                    }
                    let devices = tw.strings("devices").map(|d| expand_devices(&mut tw, d));
                    tw.finish();
                    if let (Some(token), Some(user)) = (token, user) {
                        tokens.push(TokenEntry {
                            token,
                            user,
                            devices,
                        });
                    }
                }
            }
            other => a.err(
                "tokens",
                format!(
                    "expected an array of tables ([[api.tokens]]), found {}",
                    other.type_str()
                ),
            ),
        }
    }
    let auth = match auth_kind.as_str() {
        "none" => {
            if let Some(l) = listen
                && !l.ip().is_loopback()
            {
                a.err(
                    "auth",
                    format!(
                        "\"none\" is only allowed when api.listen is a loopback address, not {}",
                        l.ip()
                    ),
                );
            }
            AuthConfig::None
        }
        "tokens" => {
            if tokens.is_empty() {
                a.err(
                    "tokens",
                    "auth = \"tokens\" needs at least one [[api.tokens]] entry",
                );
            }
            AuthConfig::Tokens(tokens)
        }
        other => {
            a.err("auth", format!("\"{other}\" is not one of: none, tokens"));
            AuthConfig::None
        }
    };
    let allowed_origins = a.strings("allowed_origins");
    if let Some(origins) = &allowed_origins {
        for (i, o) in origins.iter().enumerate() {
            if !(o.starts_with("https://") || o.starts_with("http://")) {
                a.err(
                    &format!("allowed_origins[{i}]"),
                    format!("\"{o}\" is not an origin such as https://contoso.crm4.dynamics.com"),
                );
            }
        }
    }
    let client_queue = a.int("client_queue", 16, 1_000_000).unwrap_or(1024) as usize;
    let replay_buffer = a.int("replay_buffer", 0, 10_000_000).unwrap_or(8192) as usize;
    let write_timeout = duration_ms(&mut a, "write_timeout_ms", 10_000);
    a.finish();

    let limits = parse_limits(&mut w, &empty);
    let tls = parse_tls(&mut w, file);
    check_plain_http(&mut w, listen, &tls);

    // [engine]
    let engine_t = w.table("engine").unwrap_or(&empty);
    let mut e = w.child("engine", engine_t);
    let command_timeout = duration_ms(&mut e, "command_timeout_ms", 10_000);
    let blocked_agent_release = match e.int("blocked_agent_release_secs", 0, 86_400) {
        None | Some(0) => None,
        Some(s) => Some(Duration::from_secs(s as u64)),
    };
    e.finish();

    // [dialplan]
    let dp_t = w.table("dialplan").unwrap_or(&empty);
    let mut d = w.child("dialplan", dp_t);
    let def = DialPlan::default();
    let digits = |d: &mut Walker, k: &'static str, default: String, may_be_empty: bool| -> String {
        match d.string(k) {
            Some(s) if (may_be_empty || !s.is_empty()) && s.chars().all(|c| c.is_ascii_digit()) => {
                s
            }
            Some(s) => {
                d.err(
                    k,
                    format!(
                        "\"{s}\" must be digits only{}",
                        if may_be_empty { "" } else { " and not empty" }
                    ),
                );
                default
            }
            None => default,
        }
    };
    let mut dialplan = DialPlan {
        country_code: digits(&mut d, "country_code", def.country_code.clone(), false),
        outside_line_prefix: digits(
            &mut d,
            "outside_line_prefix",
            def.outside_line_prefix.clone(),
            true,
        ),
        national_prefix: digits(&mut d, "national_prefix", def.national_prefix.clone(), true),
        international_prefix: digits(
            &mut d,
            "international_prefix",
            def.international_prefix.clone(),
            false,
        ),
        extension_lengths: def.extension_lengths.clone(),
        national_number_length: d
            .int("national_number_length", 0, 15)
            .map(|v| v as usize)
            .unwrap_or(def.national_number_length),
    };
    if let Some(Value::Array(items)) = d.get("extension_lengths") {
        let mut lens = Vec::new();
        for (i, v) in items.iter().enumerate() {
            match v.as_integer() {
                Some(n) if (1..=12).contains(&n) => lens.push(n as usize),
                _ => d.err(
                    &format!("extension_lengths[{i}]"),
                    "expected an integer from 1 to 12",
                ),
            }
        }
        dialplan.extension_lengths = lens;
    } else if let Some(v) = dp_t.get("extension_lengths") {
        d.err(
            "extension_lengths",
            format!("expected an array of integers, found {}", v.type_str()),
        );
    }
    d.finish();

    // [log]
    let log_t = w.table("log").unwrap_or(&empty);
    let mut l = w.child("log", log_t);
    let log_level = l.string("level").unwrap_or_else(|| "info".into());
    if tracing_subscriber::EnvFilter::try_new(&log_level).is_err() {
        l.err(
            "level",
            format!("\"{log_level}\" is not a level or filter such as info or ctigw=debug,info"),
        );
    }
    let log_format = match l.string("format").as_deref() {
        None | Some("human") => LogFormat::Human,
        Some("json") => LogFormat::Json,
        Some(other) => {
            l.err("format", format!("\"{other}\" is not one of: human, json"));
            LogFormat::Human
        }
    };
    l.finish();

    // [[link]]
    let mut links = Vec::new();
    match w.get("link") {
        None => w.err(
            "link",
            "no [[link]] configured: the gateway needs at least one PBX link",
        ),
        Some(Value::Array(items)) => {
            for (i, it) in items.iter().enumerate() {
                let Value::Table(t) = it else {
                    w.err(&format!("link[{i}]"), "expected a table ([[link]])");
                    continue;
                };
                let mut lw = w.child(&format!("link[{i}]"), t);
                let name = lw.required_string("name");
                if let Some(n) = &name
                    && (n.is_empty()
                        || !n
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                {
                    lw.err("name", format!("\"{n}\" must be letters, digits, - or _"));
                }
                let dialect = lw.required_string("dialect").and_then(|dl| {
                    let found = registry::find(&dl);
                    if found.is_none() {
                        lw.err("dialect", registry::unknown(&dl));
                    }
                    found
                });
                let address = lw.string("address");
                if let Some(addr) = &address {
                    let ok = addr.rsplit_once(':').is_some_and(|(h, p)| {
                        !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0)
                    });
                    if !ok {
                        lw.err(
                            "address",
                            format!("\"{addr}\" is not host:port such as 192.0.2.10:2555"),
                        );
                    }
                } else if dialect.is_some_and(|d| d.needs_address) {
                    lw.seen.push("address");
                    lw.err("address", "missing (required for this dialect)");
                }
                let devices = match lw.strings("devices") {
                    Some(list) => expand_devices(&mut lw, list),
                    None => {
                        lw.seen.push("devices");
                        lw.err("devices", "missing: list the directory numbers to monitor");
                        Vec::new()
                    }
                };
                // the dialect checks its own keys, once: what it parsed starts the link
                let mut options = Table::new();
                for (k, v) in t {
                    if !["name", "dialect", "address", "devices"].contains(&k.as_str()) {
                        options.insert(k.clone(), v.clone());
                    }
                }
                let spec = dialect.and_then(|d| {
                    let table = LinkTable {
                        address: address.as_deref(),
                        devices: &devices,
                        options: &options,
                    };
                    match (d.parse)(&table) {
                        Ok(spec) => Some(spec),
                        Err(errs) => {
                            for (k, reason) in errs {
                                lw.err(&k, reason);
                            }
                            None
                        }
                    }
                });
                if let (Some(name), Some(dialect), Some(spec)) = (name, dialect, spec) {
                    links.push(LinkConfig {
                        name,
                        dialect: dialect.name.to_string(),
                        address,
                        devices,
                        options,
                        spec: Arc::from(spec),
                    });
                }
            }
        }
        Some(other) => w.err(
            "link",
            format!(
                "expected an array of tables ([[link]]), found {}",
                other.type_str()
            ),
        ),
    }
    w.finish();

    // across links: names and devices unique
    for (i, l) in links.iter().enumerate() {
        if links[..i].iter().any(|o| o.name == l.name) {
            errors.push(ConfigError {
                key: format!("link[{i}].name"),
                reason: format!("\"{}\" is used by an earlier link", l.name),
            });
        }
        for d in &l.devices {
            if let Some(o) = links[..i].iter().find(|o| o.devices.contains(d)) {
                errors.push(ConfigError {
                    key: format!("link[{i}].devices"),
                    reason: format!("device {d} is already on link {}", o.name),
                });
                break;
            }
        }
    }

    if !errors.is_empty() {
        return Err(fail(errors));
    }
    let listen = listen.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
    Ok(Config {
        api: ApiSection {
            listen,
            auth,
            allowed_origins,
            client_queue,
            replay_buffer,
            write_timeout,
        },
        tls,
        limits,
        command_timeout,
        blocked_agent_release,
        dialplan,
        log_level,
        log_format,
        links,
    })
}

/// Reads and checks a configuration file.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, path),
        Err(e) => Err(ConfigErrors {
            file: path.to_path_buf(),
            errors: vec![ConfigError {
                key: "(file)".into(),
                reason: format!("cannot read: {e}"),
            }],
        }),
    }
}
