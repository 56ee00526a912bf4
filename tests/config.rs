//! Configuration checking: a good file loads; a broken file yields every error at once, each
//! with the file, the key path and the reason; `ctigw check-config` prints them and fails.

use ctigw::config::{AuthConfig, parse};
use std::path::Path;
use std::process::Command;

const GOOD: &str = r#"
[api]
listen = "127.0.0.1:9443"
auth = "tokens"
allowed_origins = ["https://contoso.crm4.dynamics.com"]
[[api.tokens]]
token = "0123456789abcdef0123"
user = "alice"
devices = ["24101", "24110-24112"]

[dialplan]
country_code = "33"
outside_line_prefix = "0"
extension_lengths = [5]

[[link]]
name = "lab"
dialect = "sim"
devices = ["24101-24104"]
"#;

#[test]
fn a_good_file_loads_with_ranges_expanded() {
    let c = parse(GOOD, Path::new("good.toml")).expect("valid");
    assert_eq!(c.api.listen.port(), 9443);
    let AuthConfig::Tokens(t) = &c.api.auth else {
        panic!("tokens")
    };
    let devs: Vec<&str> = t[0]
        .devices
        .as_ref()
        .unwrap()
        .iter()
        .map(|d| d.as_str())
        .collect();
    assert_eq!(devs, vec!["24101", "24110", "24111", "24112"]);
    assert_eq!(c.links[0].devices.len(), 4);
    assert_eq!(c.dialplan.international_prefix, "00");
}

const BROKEN: &str = r#"
[api]
listen = "localhost"
auth = "none-please"
client_queue = 3
tokenz = 1

[dialplan]
country_code = "+33"
extension_lengths = [5, "six"]

[log]
format = "xml"

[[link]]
name = "oxe 1"
dialect = "nortel"
devices = ["24103", "24 10", "24199-24100"]

[[link]]
name = "b"
dialect = "sim"
devices = ["24103"]
colour = "blue"
"#;

#[test]
fn a_broken_file_yields_all_its_errors_with_key_paths() {
    let e = parse(BROKEN, Path::new("/etc/ctigw/broken.toml")).unwrap_err();
    let keys: Vec<&str> = e.errors.iter().map(|x| x.key.as_str()).collect();
    for k in [
        "api.listen",
        "api.auth",
        "api.client_queue",
        "api.tokenz",
        "dialplan.country_code",
        "dialplan.extension_lengths[1]",
        "log.format",
        "link[0].name",
        "link[0].dialect",
        "link[0].devices[1]",
        "link[0].devices[2]",
        "link[1].colour",
    ] {
        assert!(keys.contains(&k), "missing an error for {k}; got {keys:?}");
    }
    let text = e.to_string();
    assert!(
        text.contains("/etc/ctigw/broken.toml: api.listen: \"localhost\" is not an address:port"),
        "{text}"
    );
    assert!(text.contains("runs backwards"), "{text}");
    assert!(text.contains("unknown key"), "{text}");
}

#[test]
fn duplicates_across_links_and_unsafe_auth_are_refused() {
    let t = r#"
[api]
listen = "0.0.0.0:8080"
auth = "none"
[[link]]
name = "a"
dialect = "sim"
devices = ["100-102"]
[[link]]
name = "a"
dialect = "sim"
devices = ["102"]
"#;
    let e = parse(t, Path::new("x.toml")).unwrap_err();
    let msgs: Vec<String> = e
        .errors
        .iter()
        .map(|x| format!("{}: {}", x.key, x.reason))
        .collect();
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("api.auth") && m.contains("loopback")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("link[1].name") && m.contains("earlier link")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.starts_with("link[1].devices") && m.contains("102")),
        "{msgs:?}"
    );
}

#[test]
fn syntax_errors_give_line_and_column_and_missing_links_are_named() {
    let e = parse(
        "[api]\nlisten = \"127.0.0.1:1\"\nauth = \n",
        Path::new("s.toml"),
    )
    .unwrap_err();
    assert_eq!(e.errors.len(), 1);
    assert!(e.errors[0].key.starts_with("line 3"), "{:?}", e.errors);
    let e = parse("[api]\nauth = \"none\"\n", Path::new("n.toml")).unwrap_err();
    assert!(
        e.errors
            .iter()
            .any(|x| x.key == "link" && x.reason.contains("at least one")),
        "{:?}",
        e.errors
    );
}

#[test]
fn check_config_command_reports_and_fails() {
    let dir = std::env::temp_dir().join(format!("ctigw-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, BROKEN).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ctigw"))
        .arg("check-config")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().filter(|l| l.contains("bad.toml: ")).count() >= 12,
        "{err}"
    );
    let good = dir.join("good.toml");
    std::fs::write(&good, GOOD).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ctigw"))
        .arg("check-config")
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok (1 link(s), 4 device(s))"));
    let out = Command::new(env!("CARGO_BIN_EXE_ctigw"))
        .arg("check-config")
        .arg(dir.join("missing.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
    let _ = std::fs::remove_dir_all(&dir);
}
