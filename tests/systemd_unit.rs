//! Checks the shipped systemd unit: a static reading of `systemd/ctigw.service` for every
//! setting the daemon relies on (notify, watchdog, checked reload, hardening), and, where
//! `systemd-analyze` is installed, systemd's own `verify` of the unit pointed at the built
//! binary. Also checks that the example configuration passes `ctigw check-config`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

const UNIT: &str = "systemd/ctigw.service";
const SYSUSERS: &str = "systemd/ctigw.sysusers.conf";
const INSTALLED_BIN: &str = "/usr/local/bin/ctigw";

mod common;

fn repo_file(rel: &str) -> PathBuf {
    common::repo_path(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo_file(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

/// A unit file as section → key → values (a key may be given several times, in order).
type Unit = BTreeMap<String, BTreeMap<String, Vec<String>>>;

/// Parses systemd's INI-like syntax: `[Section]`, `Key=Value`, `#`/`;` comments, and
/// backslash continuation lines.
fn parse_unit(text: &str) -> Unit {
    let mut unit = Unit::new();
    let mut section = String::new();
    let mut pending = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with(';'))
        {
            continue;
        }
        if let Some(cont) = line.strip_suffix('\\') {
            pending.push_str(cont);
            pending.push(' ');
            continue;
        }
        let line = format!("{pending}{line}");
        pending.clear();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            unit.entry(section.clone()).or_default();
            continue;
        }
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("{UNIT}: line without '=': {raw:?}"));
        assert!(!section.is_empty(), "{UNIT}: {k} before any [Section]");
        unit.entry(section.clone())
            .or_default()
            .entry(k.trim().to_string())
            .or_default()
            .push(v.trim().to_string());
    }
    assert!(
        pending.is_empty(),
        "{UNIT}: ends inside a continuation line"
    );
    unit
}

fn values<'a>(unit: &'a Unit, section: &str, key: &str) -> &'a [String] {
    unit.get(section)
        .and_then(|s| s.get(key))
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The one value of `key` (the last one, as systemd takes for single-valued settings).
fn value<'a>(unit: &'a Unit, section: &str, key: &str) -> &'a str {
    values(unit, section, key)
        .last()
        .unwrap_or_else(|| panic!("{UNIT}: [{section}] {key}= is missing"))
}

#[test]
fn unit_declares_what_the_daemon_relies_on() {
    let unit = parse_unit(&read(UNIT));
    let svc = "Service";

    // readiness and watchdog: src/daemon.rs sends READY=1 and WATCHDOG=1 every WatchdogSec/2
    assert_eq!(value(&unit, svc, "Type"), "notify");
    let watchdog: u64 = value(&unit, svc, "WatchdogSec")
        .parse()
        .expect("WatchdogSec in plain seconds");
    assert_eq!(watchdog, 30, "WatchdogSec");
    assert_eq!(value(&unit, svc, "Restart"), "on-failure");
    assert_eq!(
        value(&unit, svc, "ExecStart"),
        "/usr/local/bin/ctigw run --config /etc/ctigw/ctigw.toml"
    );

    // reload: validate first, then SIGHUP; check-config must come before the signal
    let reload = values(&unit, svc, "ExecReload");
    let check = reload
        .iter()
        .position(|r| r.contains("check-config") && r.contains("/etc/ctigw/ctigw.toml"))
        .expect("an ExecReload= running ctigw check-config on /etc/ctigw/ctigw.toml");
    let hup = reload
        .iter()
        .position(|r| r.contains("-HUP") && r.contains("$MAINPID"))
        .expect("an ExecReload= sending HUP to $MAINPID");
    assert!(
        check < hup,
        "ExecReload: check-config must run before the HUP"
    );

    // who it runs as
    let dynamic = values(&unit, svc, "DynamicUser").iter().any(|v| v == "yes");
    if !dynamic {
        assert_eq!(value(&unit, svc, "User"), "ctigw");
        assert_eq!(value(&unit, svc, "Group"), "ctigw");
        let sysusers = read(SYSUSERS);
        assert!(
            sysusers.lines().any(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() >= 2 && f[0] == "u" && f[1] == "ctigw"
            }),
            "{SYSUSERS} must create the ctigw user"
        );
    }
    assert_eq!(value(&unit, svc, "StateDirectory"), "ctigw");
    assert_eq!(value(&unit, svc, "ConfigurationDirectory"), "ctigw");

    // hardening
    let expected = [
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("NoNewPrivileges", "yes"),
        ("CapabilityBoundingSet", ""),
        ("AmbientCapabilities", ""),
        ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
        ("SystemCallFilter", "@system-service"),
        ("SystemCallArchitectures", "native"),
        ("MemoryDenyWriteExecute", "yes"),
        ("LockPersonality", "yes"),
        ("RestrictRealtime", "yes"),
        ("RestrictNamespaces", "yes"),
        ("RestrictSUIDSGID", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("ProtectClock", "yes"),
        ("ProtectHostname", "yes"),
        ("UMask", "0077"),
        ("LimitNOFILE", "65536"),
        ("MemoryMax", "1G"),
        ("TasksMax", "256"),
    ];
    let mut missing = Vec::new();
    for (k, v) in expected {
        match values(&unit, svc, k) {
            [] => missing.push(format!("{k}= is missing")),
            vals => {
                // an empty assignment resets a setting: for the empty ones every assignment
                // must be empty; list settings accumulate (SystemCallFilter= may be given
                // again to subtract groups), so one of their assignments must match; for the
                // others the last one wins
                let ok = if v.is_empty() {
                    vals.iter().all(String::is_empty)
                } else if ["SystemCallFilter", "RestrictAddressFamilies"].contains(&k) {
                    vals.iter().any(|x| x == v)
                } else {
                    vals.last().is_some_and(|x| x == v)
                };
                if !ok {
                    missing.push(format!("{k}={v} expected, found {vals:?}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "{UNIT}:\n  {}", missing.join("\n  "));

    assert!(
        values(&unit, "Install", "WantedBy")
            .iter()
            .any(|v| v.split_whitespace().any(|t| t == "multi-user.target")),
        "[Install] WantedBy=multi-user.target"
    );
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!("ctigw-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap_or_else(|e| panic!("cannot create {p:?}: {e}"));
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// `systemd-analyze verify` on the unit, with ExecStart/ExecReload pointed at a copy of the
/// built binary (verify refuses a unit whose command does not exist). Verify exits 0 even
/// when it warns about unknown keys or bad values, so its output must be empty of anything
/// about our unit.
#[test]
fn systemd_analyze_verify_accepts_the_unit() {
    let Some(analyze) = on_path("systemd-analyze") else {
        eprintln!(
            "systemd-analyze not found on PATH: verify part SKIPPED (install Debian's `systemd` \
             package to run it); the static checks of {UNIT} still ran"
        );
        return;
    };
    let dir = TempDir::new("unit");
    let bin = dir.0.join("ctigw");
    std::fs::copy(env!("CARGO_BIN_EXE_ctigw"), &bin).expect("copy the built ctigw");
    let text = read(UNIT);
    assert!(text.contains(INSTALLED_BIN), "{UNIT} runs {INSTALLED_BIN}");
    let unit_path = dir.0.join("ctigw.service");
    std::fs::write(
        &unit_path,
        text.replace(INSTALLED_BIN, bin.to_str().expect("UTF-8 temp path")),
    )
    .expect("write the unit copy");

    let out = Command::new(&analyze)
        .arg("verify")
        .arg(&unit_path)
        .current_dir(&dir.0)
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .expect("run systemd-analyze");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let about_us: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| l.contains("ctigw"))
        .collect();
    let other: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| !l.contains("ctigw") && !l.trim().is_empty())
        .collect();
    if !other.is_empty() {
        // lines about the host's own units are not ours to fix
        eprintln!(
            "systemd-analyze verify said, about other units:\n  {}",
            other.join("\n  ")
        );
    }
    assert!(
        out.status.success() && about_us.is_empty(),
        "systemd-analyze verify {UNIT} failed ({}):\n{}",
        out.status,
        about_us.join("\n")
    );
    eprintln!("systemd-analyze verify {UNIT}: clean");
}

#[test]
fn example_configuration_passes_check_config() {
    // as installed: the file beside the certificate and key its [tls] names (generated here)
    let dir = std::env::temp_dir().join(format!("ctigw-example-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tls")).unwrap();
    let pair = rcgen::generate_simple_self_signed(vec!["gateway.example".to_string()]).unwrap();
    std::fs::write(dir.join("tls/fullchain.pem"), pair.cert.pem()).unwrap();
    std::fs::write(
        dir.join("tls/privkey.pem"),
        pair.signing_key.serialize_pem(),
    )
    .unwrap();
    std::fs::copy(repo_file("examples/ctigw.toml"), dir.join("ctigw.toml")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ctigw"))
        .arg("check-config")
        .arg(dir.join("ctigw.toml"))
        .output()
        .expect("run ctigw check-config");
    assert!(
        out.status.success(),
        "ctigw check-config examples/ctigw.toml failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
