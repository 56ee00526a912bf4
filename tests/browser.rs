//! Runs the browser tests of the CIF channel page (`tests/browser/`, Node's test runner driving
//! Debian's headless Chromium through `playwright-core`) as part of `cargo test --workspace`,
//! against this build's `ctigw demo`. Skipped, with a line saying why, where `node` or
//! `/usr/bin/chromium` is missing; `.ci/run` installs both.

use std::path::Path;
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

fn have_node() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn cif_page_in_headless_chromium() {
    if !have_node() {
        println!("skipped: node is not installed (the CIF page's browser tests need it)");
        return;
    }
    if !Path::new(CHROMIUM).exists() {
        println!("skipped: {CHROMIUM} is not installed (apt-get install chromium chromium-driver)");
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests").join("browser");
    if !dir.join("node_modules").join("playwright-core").exists() {
        let st = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm runs");
        assert!(st.success(), "npm ci in tests/browser failed");
    }
    let out = Command::new("node")
        .args(["--test", "--test-concurrency=1", "tests/browser/"])
        .current_dir(root)
        .env("CTIGW_BIN", env!("CARGO_BIN_EXE_ctigw"))
        .env("CHROMIUM", CHROMIUM)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // the summary lines, so `cargo test -- --nocapture` shows what ran
    for line in stdout.lines().filter(|l| {
        l.starts_with("ok ")
            || l.starts_with("not ok ")
            || l.starts_with("# tests")
            || l.starts_with("# pass")
            || l.starts_with("# fail")
    }) {
        println!("{line}");
    }
    assert!(
        out.status.success(),
        "browser tests failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("# fail 0"),
        "no test summary from node:\n{stdout}"
    );
}
