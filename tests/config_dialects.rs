//! The dialect names of `[[link]] dialect`, `ctigw demo --pbx` and `ctigw replay --dialect`
//! come from one registry: every name and product alias is accepted everywhere, resolves to
//! its canonical dialect, an unknown name is refused with the accepted ones listed, and each
//! dialect reports its own unknown keys with file, key path and reason.

use ctigw::config::parse;
use ctigw::model::DialPlan;
use ctigw::pbx::registry::{self, DIALECTS};
use ctigw::tools::replay;
use std::path::Path;
use std::process::Command;

fn link_file(dialect: &str, extra: &str) -> String {
    // the one required key a dialect has of its own: the Asterisk login
    let login = match registry::find(dialect) {
        Some(d) if d.name == "asterisk" => "username = \"u\"\nsecret = \"s\"\n",
        _ => "",
    };
    format!(
        "[api]\nauth = \"none\"\n[[link]]\nname = \"l\"\ndialect = \"{dialect}\"\naddress = \"192.0.2.1:2555\"\ndevices = [\"101\"]\n{login}{extra}\n"
    )
}

#[test]
fn every_name_and_alias_is_a_link_dialect_stored_canonical() {
    for d in DIALECTS {
        for name in d.names() {
            let text = link_file(name, "");
            let c = parse(&text, Path::new("d.toml")).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(c.links[0].dialect, d.name, "{name}");
        }
    }
}

#[test]
fn an_unknown_dialect_lists_every_accepted_name() {
    let e = parse(&link_file("nortel", ""), Path::new("/etc/ctigw/x.toml")).unwrap_err();
    let text = e.to_string();
    assert!(
        text.contains("/etc/ctigw/x.toml: link[0].dialect: \"nortel\" is not one of: "),
        "{text}"
    );
    for n in registry::names() {
        assert!(text.contains(n), "{n} missing from {text}");
    }
    for alias in [
        "oxo",
        "cucm",
        "cme",
        "openscape",
        "openscape-voice",
        "openscape-business",
    ] {
        assert!(registry::names().contains(&alias), "{alias}");
    }
}

#[test]
fn each_dialect_names_its_unknown_keys_with_file_and_path() {
    for d in DIALECTS {
        let text = link_file(d.name, "colour = \"blue\"");
        let e = parse(&text, Path::new("/etc/ctigw/k.toml")).unwrap_err();
        let hit = e.errors.iter().find(|x| x.key == "link[0].colour");
        assert!(
            hit.is_some_and(|x| x.reason.starts_with("unknown key (expected one of: ")),
            "{}: {e}",
            d.name
        );
        assert!(
            e.to_string()
                .contains("/etc/ctigw/k.toml: link[0].colour: unknown key"),
            "{e}"
        );
    }
}

#[test]
fn a_dialect_with_a_wire_needs_an_address() {
    for d in DIALECTS {
        let text = link_file(d.name, "").replace("address = \"192.0.2.1:2555\"\n", "");
        let r = parse(&text, Path::new("a.toml"));
        let missing = r
            .as_ref()
            .err()
            .is_some_and(|e| e.errors.iter().any(|x| x.key == "link[0].address"));
        assert_eq!(missing, d.needs_address, "{}: {r:?}", d.name);
    }
}

#[test]
fn replay_takes_aliases_and_refuses_dialects_without_a_wire() {
    let plan = DialPlan::default();
    for d in registry::replayable() {
        for name in d.names() {
            assert!(replay::replayer(name, &plan).is_ok(), "{name}");
        }
    }
    let e = replay::replayer("sim", &plan)
        .err()
        .expect("sim has no wire");
    let text = e.to_string();
    for n in registry::replay_names() {
        assert!(text.contains(n), "{n} missing from {text}");
    }
}

#[test]
fn the_command_line_accepts_every_alias_and_lists_the_names() {
    let bin = env!("CARGO_BIN_EXE_ctigw");
    // an alias is parsed (the missing capture is the error, not the name)
    for d in registry::replayable() {
        for name in d.names() {
            let out = Command::new(bin)
                .args(["replay", "--dialect", name, "/nonexistent/capture.hex"])
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name}: {err}");
            assert!(
                err.contains("cannot read /nonexistent/capture.hex"),
                "{name}: {err}"
            );
        }
    }
    let out = Command::new(bin)
        .args(["demo", "--pbx", "nortel"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    for n in registry::names() {
        assert!(err.contains(n), "{n} missing from {err}");
    }
}
