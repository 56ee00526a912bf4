//! The harness the integration tests share: paths to the fixtures and real captures, the
//! built `ctigw` binary run as a decoder, a daemon started from a configuration text, and a
//! gateway-under-test whose event feed is waited on by predicate with everything seen kept
//! for the failure message. Each test file includes it with `mod common;` and uses what it
//! needs, hence the `dead_code` allowance.
#![allow(dead_code)]

use ctigw::config;
use ctigw::daemon::{self, Running};
use ctigw::engine::Feed;
use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// How long a test waits for an event before failing with what it saw.
pub const EVENT_WAIT: Duration = Duration::from_secs(10);

/// A path inside the repository.
pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A file under `fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    repo_path("fixtures").join(rel)
}

/// A real capture under `fixtures/real/` (`oxe/delivered.hex`, `ami/...`).
pub fn real_capture(rel: &str) -> PathBuf {
    fixture("real").join(rel)
}

/// What `ctigw decode` printed: one JSON value per stdout line, stderr, and success.
pub struct Decoded {
    pub lines: Vec<Value>,
    pub stderr: String,
    pub ok: bool,
}

/// Runs the built binary's `decode --codec CODEC` on `file` (or on `stdin` when `None`).
pub fn ctigw_decode(codec: &str, file: Option<&Path>, stdin: &[u8]) -> Decoded {
    let path = file
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "-".into());
    let mut child = Command::new(env!("CARGO_BIN_EXE_ctigw"))
        .args(["decode", "--codec", codec, &path])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // a decoder that fails early may close its stdin first: that is its answer, not ours
    let _ = child.stdin.take().unwrap().write_all(stdin);
    let out = child.wait_with_output().unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    Decoded {
        lines,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        ok: out.status.success(),
    }
}

/// Parses `text` as a configuration file and starts the daemon from it.
pub async fn start_daemon(text: &str) -> Running {
    let cfg = config::parse(text, Path::new("(test)")).unwrap_or_else(|e| panic!("{e}"));
    daemon::start(&cfg).await.unwrap()
}

/// A running gateway connected to a simulated PBX `S`, with its event feed.
pub struct Gw<S> {
    pub sim: S,
    pub running: Running,
    pub feed: Feed,
    /// Every event received so far, in order.
    pub seen: Vec<Value>,
}

impl<S> Gw<S> {
    /// Subscribes to the engine and waits until every one of `devices` is monitored.
    pub async fn attach(sim: S, running: Running, devices: &[&str]) -> Self {
        let (_snap, feed) = running.engine.subscribe().await.unwrap();
        let mut gw = Gw {
            sim,
            running,
            feed,
            seen: Vec::new(),
        };
        for d in devices {
            gw.wait(&format!("{d} monitored"), |e| {
                e["event"] == "device.updated"
                    && e["device"]["id"] == *d
                    && e["device"]["monitored"] == true
            })
            .await;
        }
        gw
    }

    /// Waits for an event matching `pred` (events before it are kept in `seen`).
    pub async fn wait(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + EVENT_WAIT;
        loop {
            let d = match tokio::time::timeout_at(deadline, self.feed.rx.recv()).await {
                Ok(Ok(d)) => d,
                Ok(Err(e)) => panic!("feed: {e}"),
                Err(_) => panic!(
                    "timed out waiting for {what}; events seen:\n{}",
                    self.seen
                        .iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
            };
            let v: Value = serde_json::from_slice(&d.frame).unwrap();
            self.seen.push(v.clone());
            if pred(&v) {
                return v;
            }
        }
    }

    /// Waits for a `event` whose call matches `pred`; returns the call.
    pub async fn call_event(&mut self, event: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let e = event.to_string();
        self.wait(event, move |v| v["event"] == e && pred(&v["call"]))
            .await["call"]
            .clone()
    }

    /// No event matching `pred` within `d`.
    pub async fn quiet(&mut self, d: Duration, pred: impl Fn(&Value) -> bool) {
        let deadline = tokio::time::Instant::now() + d;
        while let Ok(Ok(ev)) = tokio::time::timeout_at(deadline, self.feed.rx.recv()).await {
            let v: Value = serde_json::from_slice(&ev.frame).unwrap();
            assert!(!pred(&v), "unexpected event {v}");
            self.seen.push(v);
        }
    }
}

/// The state of `dev`'s connection in a call as the API sends it.
pub fn state(call: &Value, dev: &str) -> Option<String> {
    call["connections"]
        .as_array()?
        .iter()
        .find(|c| c["device"] == dev)
        .and_then(|c| c["state"].as_str().map(str::to_string))
}

/// True when `dev`'s connection in `call` is in state `st`.
pub fn has(call: &Value, dev: &str, st: &str) -> bool {
    state(call, dev).as_deref() == Some(st)
}
