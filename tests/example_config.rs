//! `examples/ctigw.toml` documents every dialect: each commented `[[link]]` block, uncommented,
//! parses with the rest of the file, and lists exactly the keys its dialect's parser accepts
//! (asked from the registry), so the example cannot go stale when a dialect gains a key.

mod common;

use ctigw::config;
use ctigw::pbx::registry;
use std::collections::BTreeSet;

/// The example with every commented `# [[link]]` block (that line and the `# ` lines under
/// it) uncommented.
fn uncommented(text: &str) -> String {
    let mut out = String::new();
    let mut in_block = false;
    for line in text.lines() {
        if line == "# [[link]]" {
            in_block = true;
        } else if !line.starts_with("# ") {
            in_block = false;
        }
        match line.strip_prefix("# ") {
            Some(rest) if in_block => out.push_str(rest),
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

#[test]
fn every_dialect_has_a_block_with_every_key_it_accepts() {
    let text = std::fs::read_to_string(common::repo_path("examples/ctigw.toml")).unwrap();
    // the file as shipped runs, read as installed: beside the certificate and key its [tls]
    // names (generated here)
    let dir = std::env::temp_dir().join(format!("ctigw-example-keys-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("tls")).unwrap();
    let pair = rcgen::generate_simple_self_signed(vec!["gateway.example".to_string()]).unwrap();
    std::fs::write(dir.join("tls/fullchain.pem"), pair.cert.pem()).unwrap();
    std::fs::write(
        dir.join("tls/privkey.pem"),
        pair.signing_key.serialize_pem(),
    )
    .unwrap();
    let installed = dir.join("ctigw.toml");
    config::parse(&text, &installed).unwrap_or_else(|e| panic!("{e}"));
    let all = uncommented(&text);
    assert_ne!(all, text, "no commented block found");
    let parsed = config::parse(&all, &installed);
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = parsed.unwrap_or_else(|e| panic!("the uncommented blocks do not parse:\n{e}"));
    for d in registry::DIALECTS {
        let link = cfg
            .links
            .iter()
            .find(|l| l.dialect == d.name)
            .unwrap_or_else(|| panic!("examples/ctigw.toml has no [[link]] block for {}", d.name));
        let documented: BTreeSet<String> = link.options.keys().cloned().collect();
        let accepted: BTreeSet<String> = registry::keys(d).into_iter().collect();
        assert!(
            !accepted.is_empty(),
            "{}: the registry names no key",
            d.name
        );
        assert_eq!(
            documented, accepted,
            "{}: the example's keys (left) differ from the dialect's (right)",
            d.name
        );
    }
}

#[test]
fn uncommenting_stops_at_the_end_of_a_block() {
    let text = "# [[link]]\n# name = \"a\"\n\n# a note\n";
    assert_eq!(uncommented(text), "[[link]]\nname = \"a\"\n\n# a note\n");
}
