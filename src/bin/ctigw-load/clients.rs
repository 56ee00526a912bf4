//! The harness's WebSocket clients: each subscribes (to one device, to a set as a supervisor
//! would, or to every device), then reads frames, taking the latency of the first frame of
//! each (call, phase) it sees from the time the PBX side wrote that event.

use crate::ami::{Key, Pbx};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// What every client reports into.
#[derive(Default)]
pub struct Report {
    /// Latencies in microseconds, since the last reset.
    pub latencies: Mutex<Vec<u32>>,
    /// (call, phase) pairs seen, summed over clients, since the last reset.
    pub seen: AtomicU64,
    pub frames: AtomicU64,
    /// Close codes received (or 0 for an error / end without code).
    pub closes: Mutex<Vec<u16>>,
    pub ready: AtomicU64,
}

/// What a client follows.
#[derive(Clone)]
pub enum Follow {
    All,
    Devices(Vec<String>),
}

pub async fn run(addr: SocketAddr, follow: Follow, pbx: Arc<Pbx>, report: Arc<Report>) {
    let url = format!("ws://{addr}/v1/ws");
    let mut ws = match tokio_tungstenite::connect_async(url).await {
        Ok((ws, _)) => ws,
        Err(e) => {
            eprintln!("ctigw-load: client cannot connect: {e}");
            report.closes.lock().unwrap().push(0);
            return;
        }
    };
    let devices = match &follow {
        Follow::All => json!("*"),
        Follow::Devices(d) => json!(d),
    };
    let sub = json!({"op": "subscribe", "id": 1, "devices": devices}).to_string();
    if ws.send(Message::text(sub)).await.is_err() {
        report.closes.lock().unwrap().push(0);
        return;
    }
    let mut subscribed = false;
    let mut seen: HashSet<Key> = HashSet::new();
    while let Some(m) = ws.next().await {
        let text = match m {
            Ok(Message::Text(t)) => t,
            Ok(Message::Close(f)) => {
                report
                    .closes
                    .lock()
                    .unwrap()
                    .push(f.map(|f| f.code.into()).unwrap_or(0));
                return;
            }
            Ok(_) => continue,
            Err(_) => {
                report.closes.lock().unwrap().push(0);
                return;
            }
        };
        let at = Instant::now();
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        match v["type"].as_str() {
            Some("snapshot") if !subscribed => {
                subscribed = true;
                report.ready.fetch_add(1, Ordering::Relaxed);
            }
            Some("event") => {
                report.frames.fetch_add(1, Ordering::Relaxed);
                let Some(call) = v["call"]["pbxCallId"]
                    .as_str()
                    .and_then(|c| c.rsplit('.').next())
                    .and_then(|n| n.parse::<u64>().ok())
                else {
                    continue;
                };
                let phase = u8::from(v["event"] == "call.cleared");
                let key = (call, phase);
                if seen.len() > 500_000 {
                    seen.clear();
                }
                if seen.insert(key) {
                    report.seen.fetch_add(1, Ordering::Relaxed);
                    let sent = pbx.sent.lock().unwrap().get(&key).copied();
                    if let Some(s) = sent {
                        let us = at.saturating_duration_since(s).as_micros();
                        report
                            .latencies
                            .lock()
                            .unwrap()
                            .push(us.min(u32::MAX as u128) as u32);
                    }
                }
            }
            _ => {}
        }
    }
    report.closes.lock().unwrap().push(0);
}
