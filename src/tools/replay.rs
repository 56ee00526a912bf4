//! `ctigw replay`: feeds what a PBX sent (raw bytes, hex text, or a fixture transcript)
//! through the dialect's codec and event mapping and the engine, and prints the normalised
//! events as JSON lines, then a summary of the calls seen.
//!
//! Transcript format (`fixtures/**`), one item a line:
//! - `# ...` comment; blank lines are ignored;
//! - `< 00 5b a1 ...` bytes the PBX sent, in hex; `<t text` a text line the PBX sent (CRLF
//!   is appended; `<t` alone is an empty line);
//! - `> ...` / `>t ...` what the gateway sent (not replayed; documents the dialogue);
//! - `= {json}` an event the replay must produce, in order: every key given must match
//!   (a subset of the emitted event; `call.id` is never compared).

use crate::engine::{ApiEvent, Engine, EngineConfig, Output, Sequenced};
use crate::model::{Call, DialPlan, LinkId, PbxEvent};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

/// A dialect's sans-IO reading of a PBX's byte stream, for replay: bytes in, model events out.
pub trait Replayer {
    /// Feeds the next bytes the PBX sent (any split); returns the events they complete, or
    /// a description of what could not be decoded (replay goes on).
    fn feed(&mut self, bytes: &[u8]) -> Vec<Result<PbxEvent, String>>;
    /// End of input: what is left over, if anything, as an error.
    fn finish(&mut self) -> Vec<Result<PbxEvent, String>> {
        Vec::new()
    }
}

/// The dialects `replay` knows.
pub const DIALECTS: &[&str] = &["oxe", "asterisk", "uacsta", "csta-xml-tcp"];

/// The replayer for a dialect name.
pub fn replayer(dialect: &str, _plan: &DialPlan) -> anyhow::Result<Box<dyn Replayer>> {
    match dialect {
        "oxe" => Ok(Box::new(crate::pbx::oxe::OxeReplayer::new(_plan))),
        "asterisk" => Ok(Box::new(crate::pbx::asterisk::normalise::AmiReplay::new())),
        "uacsta" | "csta-xml-tcp" => {
            anyhow::bail!("dialect {dialect} is not available in this build yet")
        }
        other => anyhow::bail!(
            "unknown dialect \"{other}\" (one of: {})",
            DIALECTS.join(", ")
        ),
    }
}

/// A parsed transcript.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Transcript {
    /// What the PBX sent, chunk by chunk in order.
    pub from_pbx: Vec<Vec<u8>>,
    /// Expected events, in order.
    pub expected: Vec<Value>,
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
}

/// Runs chunks through a replayer and an engine that learns devices from the monitors the
/// capture shows.
pub fn run(replayer: &mut dyn Replayer, chunks: &[Vec<u8>], plan: &DialPlan) -> ReplayResult {
    let link = LinkId::new("replay");
    let mut engine = Engine::new(EngineConfig {
        dialplan: plan.clone(),
        call_id_prefix: "r".into(),
        ..EngineConfig::default()
    });
    engine.learn_devices(&link, "replay");
    let mut res = ReplayResult::default();
    let now = Instant::now();
    let mut outputs: Vec<Result<PbxEvent, String>> = Vec::new();
    for c in chunks {
        outputs.extend(replayer.feed(c));
    }
    outputs.extend(replayer.finish());
    for o in outputs {
        match o {
            Ok(ev) => engine.on_pbx_event(&link, ev, now),
            Err(e) => res.errors.push(e),
        }
        for out in engine.drain() {
            if let Output::Event(ev) = out {
                record(&mut res, &ev);
            }
        }
    }
    res
}

fn record(res: &mut ReplayResult, ev: &Sequenced) {
    if let ApiEvent::Call { call, .. } | ApiEvent::CallCleared { call, .. } = &ev.event {
        res.calls.insert(call.id.to_string(), call.clone());
    }
    let mut v = serde_json::to_value(ev).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("type".into(), json!("event"));
    }
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
                "parties": c.connections.iter().map(|k| k.device.as_str()).collect::<Vec<_>>(),
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

/// `ctigw replay`: reads the input, runs it, writes JSON lines.
pub fn replay(
    dialect: &str,
    input: &[u8],
    plan: &DialPlan,
    out: &mut dyn Write,
) -> anyhow::Result<ReplayResult> {
    let mut r = replayer(dialect, plan)?;
    let chunks = if is_transcript(input) {
        parse_transcript(&String::from_utf8_lossy(input))
            .map_err(|e| anyhow::anyhow!("transcript: {e}"))?
            .from_pbx
    } else {
        vec![input.to_vec()]
    };
    let res = run(r.as_mut(), &chunks, plan);
    for e in &res.events {
        writeln!(out, "{e}")?;
    }
    for e in &res.errors {
        writeln!(out, "{}", json!({"error": e}))?;
    }
    writeln!(out, "{}", summary(&res))?;
    Ok(res)
}
