//! The binary as an operator runs it (issue 13): `decode` and `replay` exit 3 when a frame
//! failed or nothing decoded and read every capture form (transcripts, `#` headers), replay
//! events name the real dialect, `demo --listen` takes host names and off loopback prints a
//! token, logs carry no ANSI colour off a terminal, and the man pages and completions name
//! every subcommand.

mod common;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_ctigw");

/// The subcommands as clap lists them in `--help`.
fn subcommands() -> Vec<String> {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let list: Vec<String> = help
        .split("Commands:")
        .nth(1)
        .unwrap()
        .split("Options:")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|w| *w != "help")
        .map(str::to_string)
        .collect();
    for c in [
        "run",
        "demo",
        "check-config",
        "decode",
        "replay",
        "completions",
        "man",
    ] {
        assert!(
            list.iter().any(|l| l == c),
            "{c} missing from --help: {list:?}"
        );
    }
    list
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("ctigw-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn decode_exits_3_when_nothing_decodes_and_0_on_a_clean_capture() {
    let empty = common::ctigw_decode("ami", None, b"");
    assert!(!empty.ok, "nothing decoded must fail: {}", empty.stderr);
    let out = Command::new(BIN)
        .args(["decode", "--codec", "csta-ber", "-"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let clean = common::ctigw_decode("ami", None, b"Event: One\r\nA: 1\r\n\r\n");
    assert!(clean.ok, "{}", clean.stderr);
    assert_eq!(clean.lines.len(), 1);
}

#[test]
fn decode_reads_a_transcript_as_replay_does() {
    let f = common::fixture("asterisk/basic-internal-call.txt");
    let d = common::ctigw_decode("ami", Some(&f), b"");
    assert!(d.ok, "{}", d.stderr);
    assert!(d.lines.len() > 5, "{:?}", d.lines);
    assert_eq!(d.lines[0]["pdu"]["Event"], "Newchannel");
    assert!(
        d.lines.iter().all(|l| l.get("pdu").is_some()),
        "{:?}",
        d.lines
    );
}

#[test]
fn decode_reads_the_rfc4475_fixtures_with_their_comment_header() {
    let dir = common::fixture("sip/rfc4475");
    let mut valid = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if !bytes.starts_with(b"# ") || !String::from_utf8_lossy(&bytes).contains("# expect: valid")
        {
            continue;
        }
        // a datagram without Content-Length: decode frames a stream, which needs one
        // (RFC 3261 §18.3), so this one is an error line there, rightly
        if path.file_stem().is_some_and(|n| n == "inv2543") {
            continue;
        }
        let d = common::ctigw_decode("sip", Some(&path), b"");
        assert!(d.ok, "{}: {}", path.display(), d.stderr);
        assert!(
            d.lines.iter().all(|l| l.get("pdu").is_some()),
            "{}: {:?}",
            path.display(),
            d.lines
        );
        valid += 1;
    }
    assert!(valid >= 20, "only {valid} valid fixtures found");
}

#[test]
fn replay_names_the_dialect_and_exits_by_outcome() {
    let f = common::fixture("asterisk/basic-internal-call.txt");
    let out = Command::new(BIN)
        .args(["replay", "--dialect", "freepbx"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let link = lines
        .iter()
        .find(|l| l["event"] == "link.updated")
        .expect("a link event");
    assert_eq!(link["link"]["dialect"], "asterisk", "{link}");
    let dir = temp_dir("replay");
    let junk = dir.join("junk.ami");
    std::fs::write(&junk, "this line has no colon\r\n\r\n").unwrap();
    let out = Command::new(BIN)
        .args(["replay", "--dialect", "asterisk"])
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_argument_in_help_is_described() {
    for sub in subcommands() {
        let out = Command::new(BIN).args([&sub, "--help"]).output().unwrap();
        let help = String::from_utf8(out.stdout).unwrap();
        for section in ["Arguments:", "Options:"] {
            let Some(body) = help.split(section).nth(1) else {
                continue;
            };
            let lines: Vec<&str> = body.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let l = line.trim_start();
                // arguments are indented two spaces (six for a long flag without a short one)
                let indent = line.len() - l.len();
                if indent > 6 || !(l.starts_with('<') || l.starts_with('-')) {
                    continue;
                }
                // the description follows on the line after two spaces, or on the next line
                let same_line = l.trim_end().contains("  ");
                let next = lines.get(i + 1).map(|n| n.trim_start()).unwrap_or("");
                let next_line =
                    !next.is_empty() && !next.starts_with('-') && !next.starts_with('<');
                assert!(
                    same_line || next_line,
                    "{sub}: undescribed argument: {line}"
                );
            }
        }
    }
}

#[test]
fn completions_and_man_pages_name_every_subcommand() {
    let subs = subcommands();
    let out = Command::new(BIN)
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let bash = String::from_utf8(out.stdout).unwrap();
    for s in &subs {
        assert!(bash.contains(s.as_str()), "bash completion lacks {s}");
    }
    let dir = temp_dir("man");
    let st = Command::new(BIN).arg("man").arg(&dir).status().unwrap();
    assert!(st.success());
    let page = std::fs::read_to_string(dir.join("ctigw.1")).unwrap();
    assert!(page.starts_with(".ie") || page.contains(".TH"), "not roff");
    for s in &subs {
        let roff = s.replace('-', "\\-");
        assert!(page.contains(&roff), "ctigw.1 does not name {s}");
        assert!(dir.join(format!("ctigw-{s}.1")).exists(), "no page for {s}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts `ctigw demo --listen LISTEN`, waits for its banner, and returns what it printed on
/// stdout up to then and what it logged on stderr.
fn demo(listen: &str) -> (String, String) {
    let mut child = Command::new(BIN)
        .args(["demo", "--pbx", "sim", "--listen", listen])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(60)) {
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("press Ctrl-C") {
            break;
        }
    }
    let _ = child.kill();
    let mut err = String::new();
    let _ = child.stderr.take().unwrap().read_to_string(&mut err);
    let _ = child.wait();
    assert!(
        seen.contains("live view at http://") || seen.contains("live view at https://"),
        "{listen}: {seen}\n{err}"
    );
    (seen, err)
}

#[test]
fn demo_listens_on_host_names_and_off_loopback_with_a_token() {
    let (out, err) = demo("localhost:0");
    assert!(!out.contains("token"), "{out}");
    assert!(
        !err.contains('\u{1b}'),
        "ANSI escape in piped logs: {err:?}"
    );
    assert!(err.contains("INFO"), "the logs went somewhere else: {err}");
    let (out, _) = demo("0.0.0.0:0");
    let token = out
        .split("need this token: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no token printed: {out}"));
    assert_eq!(token.len(), 48, "{token}");
    assert!(out.contains(&format!("access_token={token}")), "{out}");
}
