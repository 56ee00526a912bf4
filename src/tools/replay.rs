//! `ctigw replay`: feeds what a PBX sent (raw bytes, hex text, or a fixture transcript)
//! through the dialect's codec and event mapping and the engine, and prints the normalised
//! events as JSON lines, then a summary of the calls seen.
//!
//! Transcript format (`fixtures/**`), one item a line:
//! - `# ...` comment; blank lines are ignored; `#! key = value` sets an engine setting for
//!   the replay (`blocked_agent_release_secs`);
//! - `< 00 5b a1 ...` bytes the PBX sent, in hex; `<t text` a text line the PBX sent (CRLF
//!   is appended; `<t` alone is an empty line);
//! - `> ...` / `>t ...` what the gateway sent (not replayed; documents the dialogue);
//! - `= {json}` an event the replay must produce, in order: every key given must match
//!   (a subset of the emitted event; `call.id` is never compared).

use crate::engine::{ApiEvent, Engine, EngineConfig, Output, Sequenced};
use crate::model::{Call, DialPlan, LinkId, PbxEvent};
use crate::pbx::contract::Replayer;
use crate::pbx::registry;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

/// The replayer for a dialect name (canonical or alias).
pub fn replayer(dialect: &str, plan: &DialPlan) -> anyhow::Result<Box<dyn Replayer>> {
    match registry::find(dialect).and_then(|d| d.replayer) {
        Some(make) => Ok(make(plan)),
        None => anyhow::bail!(
            "unknown dialect \"{dialect}\" (one of: {})",
            registry::replay_names().join(", ")
        ),
    }
}

/// The canonical name a dialect name stands for (the name itself when unknown).
fn canonical(dialect: &str) -> &str {
    registry::find(dialect).map_or(dialect, |d| d.name)
}

/// A parsed transcript.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Transcript {
    /// What the PBX sent, chunk by chunk in order.
    pub from_pbx: Vec<Vec<u8>>,
    /// Expected events, in order.
    pub expected: Vec<Value>,
    /// Engine settings the transcript asks for (`#! blocked_agent_release_secs = 10`).
    pub blocked_release_after: Option<Duration>,
}

/// True when the input is a transcript rather than a bare capture.
pub fn is_transcript(input: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(input) else {
        return false;
    };
    text.lines()
        .any(|l| l.starts_with("< ") || l.starts_with("<t") || l.starts_with("= "))
}

/// Parses a transcript; errors name the line.
pub fn parse_transcript(text: &str) -> Result<Transcript, String> {
    let mut t = Transcript::default();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if let Some(setting) = line.strip_prefix("#!") {
            let (k, v) = setting
                .split_once('=')
                .ok_or_else(|| format!("line {n}: a setting is `#! key = value`"))?;
            match (k.trim(), v.trim().parse::<u64>()) {
                ("blocked_agent_release_secs", Ok(secs)) => {
                    t.blocked_release_after = Some(Duration::from_secs(secs))
                }
                ("blocked_agent_release_secs", Err(_)) => {
                    return Err(format!(
                        "line {n}: blocked_agent_release_secs must be whole seconds"
                    ));
                }
                (other, _) => {
                    return Err(format!(
                        "line {n}: unknown setting \"{other}\" (known: blocked_agent_release_secs)"
                    ));
                }
            }
            continue;
        }
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with('>') {
            continue;
        }
        if let Some(rest) = line.strip_prefix("<t") {
            let text = rest.strip_prefix(' ').unwrap_or(rest);
            let mut bytes = text.as_bytes().to_vec();
            bytes.extend_from_slice(b"\r\n");
            t.from_pbx.push(bytes);
        } else if let Some(rest) = line.strip_prefix("< ") {
            let bytes =
                ctigw_codecs::hex::parse_hex_text(rest).map_err(|e| format!("line {n}: {e}"))?;
            t.from_pbx.push(bytes);
        } else if let Some(rest) = line.strip_prefix("= ") {
            let v: Value = serde_json::from_str(rest)
                .map_err(|e| format!("line {n}: expected event is not JSON: {e}"))?;
            t.expected.push(v);
        } else {
            return Err(format!(
                "line {n}: does not start with #, <, <t, >, >t or ="
            ));
        }
    }
    Ok(t)
}

/// What a replay produced.
#[derive(Debug, Default)]
pub struct ReplayResult {
    /// Every event the engine emitted, as the API would send it (`type` is `event`).
    pub events: Vec<Value>,
    /// Lines that could not be decoded.
    pub errors: Vec<String>,
    /// The last state of every call seen, by call id.
    pub calls: BTreeMap<String, Call>,
    /// Every party each call had at some point, by call id, in order of appearance.
    pub parties: BTreeMap<String, Vec<String>>,
}

/// Runs chunks through a replayer and an engine that learns devices from the monitors the
/// capture shows, with the engine's default settings.
pub fn run(replayer: &mut dyn Replayer, chunks: &[Vec<u8>], plan: &DialPlan) -> ReplayResult {
    let cfg = EngineConfig {
        dialplan: plan.clone(),
        ..EngineConfig::default()
    };
    run_with(replayer, chunks, cfg)
}

/// The PBX's own time stamp of an event, when it carries one (Unix ms).
fn event_time(ev: &PbxEvent) -> Option<u64> {
    match ev {
        PbxEvent::Call(c) => c.time,
        PbxEvent::CallCleared { time, .. } => *time,
        _ => None,
    }
}

/// As [`run`], with the engine settings given (e.g. a blocked-agent release period). The
/// engine's clock follows the PBX's time stamps, so its timers (the blocked-agent settle and
/// release times) fire in replay as they would have live.
pub fn run_with(
    replayer: &mut dyn Replayer,
    chunks: &[Vec<u8>],
    cfg: EngineConfig,
) -> ReplayResult {
    run_observed_as("replay", replayer, chunks, cfg, &mut |_, _| {})
}

/// As [`run_with`], the replay link reporting `dialect` (a canonical name) as its dialect.
pub fn run_as(
    dialect: &str,
    replayer: &mut dyn Replayer,
    chunks: &[Vec<u8>],
    cfg: EngineConfig,
) -> ReplayResult {
    run_observed_as(dialect, replayer, chunks, cfg, &mut |_, _| {})
}

/// As [`run_with`], calling `observe` after every adapter event with the engine and the
/// events that one produced (the invariant checks of `tests/invariants.rs`).
pub fn run_observed(
    replayer: &mut dyn Replayer,
    chunks: &[Vec<u8>],
    cfg: EngineConfig,
    observe: &mut dyn FnMut(&Engine, &[Sequenced]),
) -> ReplayResult {
    run_observed_as("replay", replayer, chunks, cfg, observe)
}

/// [`run_observed`] with the replay link reporting `dialect` as its dialect.
pub fn run_observed_as(
    dialect: &str,
    replayer: &mut dyn Replayer,
    chunks: &[Vec<u8>],
    cfg: EngineConfig,
    observe: &mut dyn FnMut(&Engine, &[Sequenced]),
) -> ReplayResult {
    let link = LinkId::new("replay");
    let mut engine = Engine::new(EngineConfig {
        call_id_prefix: "r".into(),
        ..cfg
    });
    engine.learn_devices(&link, dialect);
    let mut res = ReplayResult::default();
    let start = Instant::now();
    let mut now = start;
    let mut first_stamp: Option<u64> = None;
    let mut outputs: Vec<Result<PbxEvent, String>> = Vec::new();
    for c in chunks {
        outputs.extend(replayer.feed(c));
    }
    outputs.extend(replayer.finish());
    for o in outputs {
        match o {
            Ok(ev) => {
                if let Some(t) = event_time(&ev) {
                    let base = *first_stamp.get_or_insert(t);
                    let at = start + Duration::from_millis(t.saturating_sub(base));
                    // fire every timer due before this event at its own deadline, as live
                    for _ in 0..10_000 {
                        match engine.next_deadline() {
                            Some(d) if d > now && d <= at => {
                                now = d;
                                engine.tick(now);
                            }
                            _ => break,
                        }
                    }
                    if at > now {
                        now = at;
                        engine.tick(now);
                    }
                }
                engine.on_pbx_event(&link, ev, now);
            }
            Err(e) => res.errors.push(e),
        }
        let mut emitted = Vec::new();
        for out in engine.drain() {
            if let Output::Event(ev) = out {
                record(&mut res, &ev);
                emitted.push(Sequenced::clone(&ev));
            }
        }
        observe(&engine, &emitted);
    }
    res
}

fn record(res: &mut ReplayResult, ev: &Sequenced) {
    if let ApiEvent::Call { call, .. } | ApiEvent::CallCleared { call, .. } = &ev.event {
        res.calls.insert(call.id.to_string(), call.clone());
        let seen = res.parties.entry(call.id.to_string()).or_default();
        for c in &call.connections {
            if !seen.iter().any(|d| d == c.device.as_str()) {
                seen.push(c.device.to_string());
            }
        }
    }
    // `type` first, as the API sends it
    let mut v = serde_json::Map::new();
    v.insert("type".into(), json!("event"));
    if let Ok(Value::Object(m)) = serde_json::to_value(ev) {
        v.extend(m);
    }
    let v = Value::Object(v);
    res.events.push(v);
}

/// The summary line printed after the events.
pub fn summary(res: &ReplayResult) -> Value {
    let calls: Vec<Value> = res
        .calls
        .values()
        .map(|c| {
            json!({
                "callId": c.id, "direction": c.direction,
                "calling": c.calling.as_ref().map(|p| &p.number), "called": c.called.as_ref().map(|p| &p.number),
                "parties": res.parties.get(c.id.as_str()),
                "answered": c.answered_at.is_some(), "ended": c.ended_at.is_some(), "cause": c.cause,
            })
        })
        .collect();
    json!({"summary": {"events": res.events.len(), "errors": res.errors.len(), "calls": calls}})
}

/// True when `actual` has every key of `expected` with an equal value (recursively; arrays
/// element by element). `call.id` values are not compared: they depend on the run.
pub fn matches(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .all(|(k, ev)| a.get(k).is_some_and(|av| matches(ev, av))),
        (Value::Array(e), Value::Array(a)) => {
            e.len() == a.len() && e.iter().zip(a).all(|(x, y)| matches(x, y))
        }
        _ => expected == actual,
    }
}

/// Checks a replay against a transcript's expectations: every expected event must appear, in
/// order (other events may come between). Returns what went wrong.
pub fn check(expected: &[Value], events: &[Value]) -> Result<(), String> {
    let mut it = events.iter();
    for (i, e) in expected.iter().enumerate() {
        if !it.by_ref().any(|a| matches(e, a)) {
            return Err(format!(
                "expected event #{} not found (in order): {e}",
                i + 1
            ));
        }
    }
    Ok(())
}

/// Replays a transcript through a dialect with the settings it asks for.
pub fn run_transcript(
    dialect: &str,
    text: &str,
    plan: &DialPlan,
) -> Result<(ReplayResult, Transcript), String> {
    let t = parse_transcript(text)?;
    let mut r = replayer(dialect, plan).map_err(|e| e.to_string())?;
    let cfg = EngineConfig {
        dialplan: plan.clone(),
        blocked_release_after: t.blocked_release_after,
        ..EngineConfig::default()
    };
    Ok((run_as(canonical(dialect), r.as_mut(), &t.from_pbx, cfg), t))
}

/// `ctigw replay`: reads the input, runs it, writes JSON lines. `cfg` carries the dialling
/// plan and blocked-agent settings (from `--config`); a transcript's own `#!` settings win.
pub fn replay(
    dialect: &str,
    input: &[u8],
    cfg: EngineConfig,
    out: &mut dyn Write,
) -> anyhow::Result<ReplayResult> {
    let mut r = replayer(dialect, &cfg.dialplan)?;
    let (chunks, cfg) = if is_transcript(input) {
        let t = parse_transcript(&String::from_utf8_lossy(input))
            .map_err(|e| anyhow::anyhow!("transcript: {e}"))?;
        let release = t.blocked_release_after.or(cfg.blocked_release_after);
        (
            t.from_pbx,
            EngineConfig {
                blocked_release_after: release,
                ..cfg
            },
        )
    } else {
        (vec![input.to_vec()], cfg)
    };
    let res = run_as(canonical(dialect), r.as_mut(), &chunks, cfg);
    for e in &res.events {
        writeln!(out, "{e}")?;
    }
    for e in &res.errors {
        writeln!(out, "{}", json!({"error": e}))?;
    }
    writeln!(out, "{}", summary(&res))?;
    Ok(res)
}
