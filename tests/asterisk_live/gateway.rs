//! The gateway under test and a WebSocket client of it: starts the daemon (the library's own
//! entry, as the other daemon tests do) with one Asterisk `[[link]]`, connects to `/v1/ws`,
//! subscribes to every device once the link is up, sends commands and keeps every event, plus
//! the call and agent lists those events describe.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// The devices of the link: phones 101-105, ringing-only 201-202, busy 300.
pub const DEVICES: &[&str] = &["101", "102", "103", "104", "105", "201", "202", "300"];

fn config(ami_port: u16, secret: &str) -> String {
    format!(
        r#"
[api]
listen = "127.0.0.1:0"
auth = "none"
[engine]
command_timeout_ms = 8000
# the lab's numbering: 3-digit extensions and queues (500, 501) are inside the site
[dialplan]
extension_lengths = [3]
[[link]]
name = "ast"
dialect = "asterisk"
address = "127.0.0.1:{ami_port}"
devices = ["101-105", "201-202", "300"]
username = "ctigw"
secret = "{secret}"
auth = "md5"
context = "internal"
channel_template = "Local/{{ext}}@phones"
queues = ["sales"]
ping_interval_ms = 1000
response_timeout_ms = 3000
reconnect_min_ms = 100
reconnect_max_ms = 500
"#
    )
}

pub struct Gateway {
    running: Option<ctigw::daemon::Running>,
    cfg: ctigw::config::Config,
    pub ws: Ws,
}

impl Gateway {
    /// Starts the daemon and connects a client once the link is up and every device monitored.
    pub async fn start(ami_port: u16, secret: &str) -> Gateway {
        let cfg = ctigw::config::parse(&config(ami_port, secret), Path::new("(live test)"))
            .unwrap_or_else(|e| panic!("{e}"));
        let running = ctigw::daemon::start(&cfg).await.expect("daemon start");
        let ws = Ws::connect_ready(running.addr).await;
        Gateway {
            running: Some(running),
            cfg,
            ws,
        }
    }

    /// Stops the daemon (the client's connection ends with it).
    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
    }

    /// Stops the daemon and starts a new one on the same configuration, with a new client.
    pub async fn restart(&mut self) {
        self.stop().await;
        let running = ctigw::daemon::start(&self.cfg)
            .await
            .expect("daemon restart");
        self.ws = Ws::connect_ready(running.addr).await;
        self.running = Some(running);
    }
}

type Stream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket client subscribed to every device.
pub struct Ws {
    stream: Stream,
    next_id: u64,
    /// The snapshot the subscription started from.
    pub snapshot: Value,
    /// Every event since, in order (the whole `event` message).
    pub events: Vec<Value>,
    /// Calls in progress by id, as the events describe them.
    pub calls: BTreeMap<String, Value>,
    /// Agents by id.
    pub agents: BTreeMap<String, Value>,
}

impl Ws {
    async fn open(addr: std::net::SocketAddr) -> Stream {
        let (mut stream, _) = connect_async(format!("ws://{addr}/v1/ws"))
            .await
            .expect("WebSocket connect");
        let hello = next_json(&mut stream, Duration::from_secs(5))
            .await
            .expect("hello");
        assert_eq!(hello["type"], "hello", "{hello}");
        stream
    }

    /// Connects and subscribes to every device once the link is up and the devices monitored.
    pub async fn connect_ready(addr: std::net::SocketAddr) -> Ws {
        let mut ws = Ws {
            stream: Ws::open(addr).await,
            next_id: 0,
            snapshot: Value::Null,
            events: Vec::new(),
            calls: BTreeMap::new(),
            agents: BTreeMap::new(),
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let snap = ws.subscribe().await;
            let up = snap["links"]
                .as_array()
                .is_some_and(|l| l.iter().all(|l| l["status"] == "up"));
            let monitored = snap["devices"]
                .as_array()
                .is_some_and(|d| d.iter().all(|d| d["monitored"] == true));
            if up && monitored {
                return ws;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the Asterisk link did not come up: {snap}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Subscribes again to every device: a fresh snapshot replaces the lists.
    pub async fn subscribe(&mut self) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"op": "subscribe", "id": id, "devices": "*"}))
            .await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let v = self.read(deadline).await.expect("snapshot");
            if v["type"] == "snapshot" && v["id"] == id {
                self.calls = list(&v["calls"]);
                self.agents = list(&v["agents"]);
                self.snapshot = v.clone();
                return v;
            }
            if v["type"] == "result" && v["id"] == id {
                panic!("subscribe refused: {v}");
            }
        }
    }

    async fn send(&mut self, v: Value) {
        self.stream
            .send(WsMessage::text(v.to_string()))
            .await
            .expect("WebSocket send");
    }

    /// Reads one server message, applying events to the lists; `None` at the deadline.
    async fn read(&mut self, deadline: tokio::time::Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let v = next_json(&mut self.stream, left).await?;
        if v["type"] == "event" {
            let name = v["event"].as_str().unwrap_or_default();
            if let Some(id) = v["call"]["id"].as_str() {
                if name == "call.cleared" {
                    self.calls.remove(id);
                } else {
                    self.calls.insert(id.to_string(), v["call"].clone());
                }
            }
            if let Some(id) = v["agent"]["id"].as_str() {
                self.agents.insert(id.to_string(), v["agent"].clone());
            }
            self.events.push(v.clone());
        }
        Some(v)
    }

    /// Sends a command (its `id` added) and returns its `result`.
    pub async fn command(&mut self, mut cmd: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        cmd["id"] = json!(id);
        self.send(cmd.clone()).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let v = self
                .read(deadline)
                .await
                .unwrap_or_else(|| panic!("no result for {cmd}"));
            if v["type"] == "result" && v["id"] == id {
                return v;
            }
        }
    }

    /// Sends a command that must succeed.
    pub async fn ok(&mut self, cmd: Value) -> Value {
        let r = self.command(cmd.clone()).await;
        assert_eq!(
            r["ok"], true,
            "{cmd} failed: {r}\nevents: {:#?}",
            self.events
        );
        r
    }

    /// Index of the next event, to wait for something from there on.
    pub fn mark(&self) -> usize {
        self.events.len()
    }

    /// Waits up to `secs` for an event from `from` on (already received or not) matching
    /// `pred`, and returns it.
    pub async fn wait(&mut self, from: usize, secs: u64, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut i = from;
        loop {
            while i < self.events.len() {
                if pred(&self.events[i]) {
                    return self.events[i].clone();
                }
                i += 1;
            }
            if self.read(deadline).await.is_none() {
                panic!(
                    "no matching event within {secs} s; events from there: {:#?}",
                    &self.events[from..]
                );
            }
        }
    }

    /// Waits until the call list is empty.
    pub async fn wait_no_calls(&mut self, secs: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while !self.calls.is_empty() {
            if self.read(deadline).await.is_none() {
                panic!("calls left after {secs} s: {:#?}", self.calls);
            }
        }
    }

    /// Reads whatever arrives for `ms` milliseconds.
    pub async fn settle(&mut self, ms: u64) {
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        while self.read(deadline).await.is_some() {}
    }
}

fn list(v: &Value) -> BTreeMap<String, Value> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| Some((x["id"].as_str()?.to_string(), x.clone())))
                .collect()
        })
        .unwrap_or_default()
}

async fn next_json(stream: &mut Stream, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let msg = tokio::time::timeout_at(deadline, stream.next())
            .await
            .ok()??;
        match msg.expect("WebSocket read") {
            WsMessage::Text(t) => return Some(serde_json::from_str(&t).expect("JSON message")),
            WsMessage::Close(_) => return None,
            _ => {}
        }
    }
}
