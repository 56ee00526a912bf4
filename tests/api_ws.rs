//! The API v1 end to end over real sockets: hello, subscribe, snapshot, events, commands with
//! one result each, resume after a disconnect with nothing lost or duplicated, a slow client
//! closed with 4008 while another keeps receiving, authentication, protocol errors, REST,
//! health and metrics.

use ctigw::api::auth::{Authenticator, OpenAccess, StaticTokens};
use ctigw::api::metrics::ApiMetrics;
use ctigw::api::{self, ApiConfig, AppState};
use ctigw::engine::{self, Engine, EngineConfig, EngineHandle, FanoutConfig};
use ctigw::model::*;
use ctigw::pbx::contract::LinkSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const SIM_DEVICES: [&str; 3] = ["24101", "24102", "24103"];
const RAW_DEVICES: [&str; 2] = ["30001", "30002"];

/// A gateway with two links: `sim` (the simulated switch, answering commands) and `raw`
/// (events injected by the test through its sink).
struct Server {
    addr: SocketAddr,
    raw: LinkSink,
    _engine: EngineHandle,
}

async fn server(fanout: FanoutConfig, auth: Arc<dyn Authenticator>, cfg: ApiConfig) -> Server {
    let mut engine = Engine::new(EngineConfig {
        call_id_prefix: "t".into(),
        command_timeout: Duration::from_secs(2),
        ..Default::default()
    });
    let sim = LinkId::new("sim");
    let raw = LinkId::new("raw");
    engine.add_link(
        sim.clone(),
        "sim",
        &SIM_DEVICES
            .iter()
            .map(|d| (DeviceId::new(d), None))
            .collect::<Vec<_>>(),
    );
    engine.add_link(
        raw.clone(),
        "raw",
        &RAW_DEVICES
            .iter()
            .map(|d| (DeviceId::new(d), None))
            .collect::<Vec<_>>(),
    );
    let (sim_tx, sim_rx) = mpsc::channel(64);
    let (raw_tx, _raw_rx) = mpsc::channel(64);
    std::mem::forget(_raw_rx);
    let adapters = HashMap::from([(sim.clone(), sim_tx), (raw.clone(), raw_tx)]);
    let (handle, _task) = engine::spawn(engine, adapters, fanout);
    tokio::spawn(ctigw::sim::scripted::run(
        handle.link_sink(sim),
        SIM_DEVICES.iter().map(|d| DeviceId::new(d)).collect(),
        sim_rx,
        false,
        1.0,
    ));
    let raw_sink = handle.link_sink(raw);
    raw_sink.send(PbxEvent::Link(LinkState::Up)).await;
    for d in RAW_DEVICES {
        raw_sink
            .send(PbxEvent::Monitor {
                device: DeviceId::new(d),
                result: Ok(()),
            })
            .await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState {
        engine: handle.clone(),
        auth,
        metrics: Arc::new(ApiMetrics::default()),
        cfg: Arc::new(cfg),
    };
    tokio::spawn(api::serve(listener, state, std::future::pending()));
    Server {
        addr,
        raw: raw_sink,
        _engine: handle,
    }
}

async fn open_server() -> Server {
    server(
        FanoutConfig::default(),
        Arc::new(OpenAccess),
        ApiConfig::default(),
    )
    .await
}

async fn connect(addr: SocketAddr, query: &str) -> Ws {
    let (ws, _) = connect_async(format!("ws://{addr}/v1/ws{query}"))
        .await
        .expect("connect");
    ws
}

async fn recv(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message in time")
            .expect("stream open")
            .expect("ws ok");
        match m {
            Message::Text(t) => return serde_json::from_str(t.as_str()).expect("JSON"),
            Message::Close(f) => panic!("closed: {f:?}"),
            _ => continue,
        }
    }
}

/// Reads until a close frame; returns its code.
async fn close_code(ws: &mut Ws) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("close in time")
        {
            Some(Ok(Message::Close(Some(f)))) => return f.code.into(),
            Some(Ok(Message::Close(None))) | None => return 1005,
            Some(Ok(_)) => continue,
            // abnormal closure, as RFC 6455 names it for a connection lost without a close frame
            Some(Err(_)) => return 1006,
        }
    }
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::Text(v.to_string().into())).await.unwrap();
}

/// Reads until a message matches; returns it and what came before.
async fn until(ws: &mut Ws, pred: impl Fn(&Value) -> bool) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    loop {
        let m = recv(ws).await;
        if pred(&m) {
            return (m, before);
        }
        before.push(m);
    }
}

fn is_result(id: u64) -> impl Fn(&Value) -> bool {
    move |m| m["type"] == "result" && m["id"] == id
}

async fn hello_and_subscribe(ws: &mut Ws, devices: Value) -> Value {
    let hello = recv(ws).await;
    assert_eq!(
        hello,
        json!({"type": "hello", "protocol": 1, "server": concat!("ctigw/", env!("CARGO_PKG_VERSION"))})
    );
    send(ws, json!({"op": "subscribe", "id": 1, "devices": devices})).await;
    let snap = recv(ws).await;
    assert_eq!(snap["type"], "snapshot", "{snap}");
    assert_eq!(snap["id"], 1);
    snap
}

/// An inbound call on the raw link; returns nothing, the events tell.
async fn raw_call(raw: &LinkSink, call: &str, dev: &str, st: ConnectionState) {
    let ev = CallEvent::new(call, CallEventKind::Delivered)
        .with(dev, st)
        .with("00612345678", ConnectionState::Connected)
        .parties(Some("00612345678"), Some(dev));
    assert!(raw.send(PbxEvent::Call(ev)).await);
}

#[tokio::test]
async fn subscribe_snapshot_events_and_commands() {
    let s = open_server().await;
    let mut ws = connect(s.addr, "").await;
    let snap = hello_and_subscribe(&mut ws, json!("*")).await;
    assert_eq!(snap["devices"].as_array().unwrap().len(), 5, "{snap}");
    assert!(snap["seq"].as_u64().unwrap() > 0);
    assert_eq!(snap["calls"], json!([]));
    let links: Vec<&str> = snap["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(links, vec!["raw", "sim"]);

    // click to dial: one result with the call id, then the call's events carry that id
    send(
        &mut ws,
        json!({"op": "makeCall", "id": 2, "device": "24101", "to": "24102"}),
    )
    .await;
    let (res, mut seen) = until(&mut ws, is_result(2)).await;
    assert_eq!(res["ok"], true, "{res}");
    let call_id = res["callId"].as_str().unwrap().to_string();
    // the PBX may report the call before or after the result: look on both sides
    let delivered = match seen.iter().position(|m| m["event"] == "call.delivered") {
        Some(i) => seen.remove(i),
        None => until(&mut ws, |m| m["event"] == "call.delivered").await.0,
    };
    assert_eq!(delivered["call"]["id"], call_id.as_str());
    assert_eq!(delivered["call"]["direction"], "internal");
    let conns = delivered["call"]["connections"].as_array().unwrap();
    let status: HashMap<&str, &str> = conns
        .iter()
        .map(|c| {
            (
                c["device"].as_str().unwrap(),
                c["rainbowStatus"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(status["24101"], "ringingOutgoing");
    assert_eq!(status["24102"], "incomingCall");

    // answer from the called device
    send(
        &mut ws,
        json!({"op": "answer", "id": 3, "device": "24102", "callId": call_id}),
    )
    .await;
    let (res, mut seen) = until(&mut ws, is_result(3)).await;
    assert_eq!(res, json!({"type": "result", "id": 3, "ok": true}));
    let est = match seen.iter().position(|m| m["event"] == "call.established") {
        Some(i) => seen.remove(i),
        None => until(&mut ws, |m| m["event"] == "call.established").await.0,
    };
    assert!(
        est["call"]["connections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["rainbowStatus"] == "active"),
        "{est}"
    );

    // errors: each command still gets exactly one result
    send(
        &mut ws,
        json!({"op": "hold", "id": 4, "device": "24103", "callId": call_id}),
    )
    .await;
    let (res, _) = until(&mut ws, is_result(4)).await;
    assert_eq!(res["ok"], false);
    assert_eq!(res["error"]["code"], "unknown_call");
    send(
        &mut ws,
        json!({"op": "teleport", "id": 5, "device": "24101"}),
    )
    .await;
    let (res, _) = until(&mut ws, is_result(5)).await;
    assert_eq!(res["error"]["code"], "bad_request");
    assert!(
        res["error"]["message"]
            .as_str()
            .unwrap()
            .contains("teleport")
    );
    send(
        &mut ws,
        json!({"op": "makeCall", "id": "s-6", "device": "24101"}),
    )
    .await;
    let (res, _) = until(&mut ws, |m| m["type"] == "result" && m["id"] == "s-6").await;
    assert_eq!(res["error"]["code"], "bad_request");
    assert!(
        res["error"]["message"].as_str().unwrap().contains("to"),
        "{res}"
    );
    send(
        &mut ws,
        json!({"op": "makeCall", "id": 7, "device": "99999", "to": "1"}),
    )
    .await;
    let (res, _) = until(&mut ws, is_result(7)).await;
    assert_eq!(res["error"]["code"], "unknown_device");

    // hang up: the call is cleared with every connection null and its Rainbow "releasing"
    send(
        &mut ws,
        json!({"op": "hangup", "id": 8, "device": "24101", "callId": call_id}),
    )
    .await;
    let (res, seen) = until(&mut ws, is_result(8)).await;
    assert_eq!(res["ok"], true);
    let cleared = seen
        .iter()
        .find(|m| m["event"] == "call.cleared")
        .expect("call.cleared before the result");
    assert_eq!(cleared["call"]["id"], call_id.as_str());
    let legs = cleared["call"]["connections"].as_array().unwrap();
    assert!(
        legs.iter()
            .filter(|c| c["monitored"] == true)
            .all(|c| c["rainbowStatus"] == "releasing"),
        "{cleared}"
    );
}

#[tokio::test]
async fn filtered_subscription_sees_only_its_devices() {
    let s = open_server().await;
    let mut ws = connect(s.addr, "").await;
    let snap = hello_and_subscribe(&mut ws, json!(["30002"])).await;
    assert_eq!(snap["devices"].as_array().unwrap().len(), 1);
    raw_call(&s.raw, "a1", "30001", ConnectionState::Alerting).await;
    raw_call(&s.raw, "a2", "30002", ConnectionState::Alerting).await;
    let (ev, before) = until(&mut ws, |m| m["type"] == "event" && m["call"].is_object()).await;
    assert_eq!(ev["call"]["pbxCallId"], "a2");
    assert!(
        before.iter().all(|m| m["call"].is_null()),
        "nothing about 30001's call: {before:?}"
    );
    // the 30001 call ends and a 30002 call is transferred away: the 30002 client sees only
    // its own call's end
    let ev =
        CallEvent::new("a1", CallEventKind::ConnectionCleared).with("30001", ConnectionState::Null);
    s.raw.send(PbxEvent::Call(ev)).await;
    let ev =
        CallEvent::new("a2", CallEventKind::ConnectionCleared).with("30002", ConnectionState::Null);
    s.raw.send(PbxEvent::Call(ev)).await;
    let (end, before) = until(&mut ws, |m| m["event"] == "call.cleared").await;
    assert_eq!(
        end["call"]["pbxCallId"], "a2",
        "only its own call's end: {end}"
    );
    assert!(before.iter().all(|m| m["call"].is_null()), "{before:?}");
    // unknown device in a subscription is refused by name
    send(
        &mut ws,
        json!({"op": "subscribe", "id": 9, "devices": ["30002", "77777"]}),
    )
    .await;
    let (res, _) = until(&mut ws, is_result(9)).await;
    assert_eq!(res["error"]["code"], "unknown_device");
    assert!(res["error"]["message"].as_str().unwrap().contains("77777"));
}

/// Seq numbers and frames of every event a client received.
fn events(msgs: &[Value]) -> Vec<(u64, Value)> {
    msgs.iter()
        .filter(|m| m["type"] == "event")
        .map(|m| (m["seq"].as_u64().unwrap(), m.clone()))
        .collect()
}

#[tokio::test]
async fn resume_after_disconnect_loses_and_duplicates_nothing() {
    let s = open_server().await;
    let mut watcher = connect(s.addr, "").await;
    let snap_w = hello_and_subscribe(&mut watcher, json!("*")).await;
    let mut client = connect(s.addr, "").await;
    hello_and_subscribe(&mut client, json!("*")).await;

    raw_call(&s.raw, "b1", "30001", ConnectionState::Alerting).await;
    let (first, _) = until(&mut client, |m| m["event"] == "call.delivered").await;
    let last_seen = first["seq"].as_u64().unwrap();
    drop(client);

    // events while the client is away
    for (i, st) in [
        ConnectionState::Connected,
        ConnectionState::Held,
        ConnectionState::Connected,
    ]
    .iter()
    .enumerate()
    {
        let ev = CallEvent::new(
            "b1",
            [
                CallEventKind::Established,
                CallEventKind::Held,
                CallEventKind::Retrieved,
            ][i],
        )
        .with("30001", *st);
        s.raw.send(PbxEvent::Call(ev)).await;
    }
    raw_call(&s.raw, "b2", "30002", ConnectionState::Alerting).await;
    let (last, all_w) = until(&mut watcher, |m| m["call"]["pbxCallId"] == "b2").await;
    let end_seq = last["seq"].as_u64().unwrap();

    let mut client = connect(s.addr, "").await;
    assert_eq!(recv(&mut client).await["type"], "hello");
    send(
        &mut client,
        json!({"op": "resume", "id": 2, "lastSeq": last_seen}),
    )
    .await;
    let res = recv(&mut client).await;
    assert_eq!(res["type"], "result", "{res}");
    assert_eq!(res["resumed"], true);
    assert_eq!(res["fromSeq"], last_seen + 1);
    let mut got = Vec::new();
    while got.last().map(|(s, _): &(u64, Value)| *s) != Some(end_seq) {
        got.push({
            let m = recv(&mut client).await;
            (m["seq"].as_u64().unwrap(), m)
        });
    }
    let mut w_all = all_w;
    w_all.push(last);
    let expected: Vec<(u64, Value)> = events(&w_all)
        .into_iter()
        .filter(|(s, _)| *s > last_seen)
        .collect();
    assert_eq!(
        got, expected,
        "the resumed client gets exactly what the watcher got after its last seq"
    );
    for w in got.windows(2) {
        assert_eq!(w[1].0, w[0].0 + 1, "no gap, no duplicate");
    }
    assert!(snap_w["seq"].as_u64().unwrap() < last_seen);

    // a lastSeq from the future (another run) gets a fresh snapshot
    send(
        &mut client,
        json!({"op": "resume", "id": 3, "lastSeq": end_seq + 1000}),
    )
    .await;
    let (snap, _) = until(&mut client, |m| m["type"] == "snapshot").await;
    assert_eq!(snap["id"], 3);
    assert_eq!(snap["calls"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_client_is_closed_with_4008_and_others_keep_receiving() {
    let fanout = FanoutConfig {
        client_queue: 256,
        replay_buffer: 64,
        ..FanoutConfig::default()
    };
    let s = server(
        fanout,
        Arc::new(OpenAccess),
        ApiConfig {
            write_timeout: Duration::from_secs(60),
            ..ApiConfig::default()
        },
    )
    .await;
    let mut fast = connect(s.addr, "").await;
    hello_and_subscribe(&mut fast, json!("*")).await;
    let mut slow = connect(s.addr, "").await;
    hello_and_subscribe(&mut slow, json!("*")).await;

    // the fast client reads everything on its own task
    let (seen_tx, mut seen_rx) = tokio::sync::watch::channel(0u64);
    let fast_task = tokio::spawn(async move {
        let mut last = 0u64;
        let mut count = 0u64;
        loop {
            let m = recv(&mut fast).await;
            if m["type"] == "event" {
                let seq = m["seq"].as_u64().unwrap();
                assert!(seq > last, "fast client: seq went from {last} to {seq}");
                last = seq;
                count += 1;
                let _ = seen_tx.send(seq);
            }
            if m["call"]["pbxCallId"] == "stop" {
                return count;
            }
        }
    });
    // the slow client does not read while we push far more than its queue and the socket
    // buffers hold; each batch waits for the fast client so only the slow one lags
    let padding = "x".repeat(400);
    let mut last_seq = 0;
    // each call makes 4 events (delivered, ringing, cleared, idle): 40 calls stay well
    // within the 256-event queue for a client that reads
    for batch in 0..150 {
        for i in 0..40 {
            let ev = CallEvent::new(&format!("p{batch}-{i}"), CallEventKind::Delivered)
                .with("30001", ConnectionState::Alerting)
                .parties(Some(&format!("0061234{i:04}")), Some("30001"))
                .cause(&padding);
            s.raw.send(PbxEvent::Call(ev)).await;
            s.raw
                .send(PbxEvent::CallCleared {
                    call: format!("p{batch}-{i}"),
                    cause: None,
                    time: None,
                })
                .await;
        }
        let target = {
            let snap = s._engine.status().await.unwrap();
            snap.seq
        };
        while *seen_rx.borrow_and_update() < target {
            tokio::time::timeout(Duration::from_secs(10), seen_rx.changed())
                .await
                .expect("fast client keeps up")
                .unwrap();
        }
        last_seq = target;
    }
    raw_call(&s.raw, "stop", "30002", ConnectionState::Alerting).await;
    let fast_count = tokio::time::timeout(Duration::from_secs(20), fast_task)
        .await
        .expect("fast client finishes")
        .unwrap();
    assert!(
        fast_count >= 24_000,
        "the fast client got every event: {fast_count}"
    );
    assert!(last_seq > 24_000);

    // now the slow one reads: what was buffered, then the close 4008 naming where to resume
    let mut last_slow = 0u64;
    let code = loop {
        match tokio::time::timeout(Duration::from_secs(20), slow.next())
            .await
            .expect("data or close in time")
        {
            Some(Ok(Message::Text(t))) => {
                let m: Value = serde_json::from_str(t.as_str()).unwrap();
                if let Some(seq) = m["seq"].as_u64() {
                    last_slow = seq;
                }
            }
            Some(Ok(Message::Close(Some(f)))) => {
                assert!(
                    f.reason.as_str().contains("resume from seq"),
                    "{}",
                    f.reason
                );
                break u16::from(f.code);
            }
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(code, 4008);
    assert!(last_slow < last_seq, "the slow client was behind");

    // and it can come back with resume: too far behind for the replay buffer, so a snapshot
    let mut back = connect(s.addr, "").await;
    assert_eq!(recv(&mut back).await["type"], "hello");
    send(
        &mut back,
        json!({"op": "resume", "id": 1, "lastSeq": last_slow}),
    )
    .await;
    let (snap, _) = until(&mut back, |m| m["type"] == "snapshot").await;
    assert_eq!(
        snap["calls"].as_array().unwrap().len(),
        1,
        "only the 'stop' call is live"
    );
    let metrics = reqwest_get(s.addr, "/metrics").await;
    assert!(
        metrics.contains("ctigw_ws_closed_slow_total 1"),
        "{metrics}"
    );
}

/// A minimal HTTP/1.1 client (no extra dependency): returns the body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        ));
    } else {
        req.push_str("\r\n");
    }
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    // chunked bodies: keep it simple, strip chunk size lines
    let body = if text
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body.lines()
            .filter(|l| !l.chars().all(|c| c.is_ascii_hexdigit()) || l.is_empty())
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        body
    };
    (status, body)
}

async fn reqwest_get(addr: SocketAddr, path: &str) -> String {
    http(addr, "GET", path, &[], None).await.1
}

#[tokio::test]
async fn rest_commands_views_health_and_metrics() {
    let s = open_server().await;
    let (status, body) = http(
        s.addr,
        "POST",
        "/v1/calls",
        &[],
        Some(r#"{"device":"24101","to":"+33 1 23 45 67 89"}"#),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let call_id = v["callId"].as_str().unwrap().to_string();
    let (status, body) = http(s.addr, "GET", "/v1/calls", &[], None).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    let call = &v["calls"][0];
    assert_eq!(call["id"], call_id.as_str());
    assert_eq!(call["direction"], "outbound");
    // the number was dialled through the plan: outside line 0 + national 0123456789
    assert_eq!(call["called"]["number"], "00123456789");
    assert_eq!(call["called"]["e164"], "+33123456789");
    let (status, body) = http(
        s.addr,
        "POST",
        &format!("/v1/calls/{call_id}/hold"),
        &[],
        Some(r#"{"device":"24101"}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(
        s.addr,
        "POST",
        &format!("/v1/calls/{call_id}/hold"),
        &[],
        Some(r#"{"device":"24101"}"#),
    )
    .await;
    assert_eq!(
        status, 409,
        "holding a held call is a state conflict: {body}"
    );
    let (status, body) = http(s.addr, "POST", "/v1/calls", &[], Some("{not json")).await;
    assert_eq!(status, 400);
    assert!(body.contains("bad_request"));
    let (status, _) = http(s.addr, "POST", "/v1/calls/x/fly", &[], Some("{}")).await;
    assert_eq!(status, 400);
    let (status, body) = http(
        s.addr,
        "POST",
        "/v1/devices/24102/dnd",
        &[],
        Some(r#"{"enabled":true}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = http(s.addr, "GET", "/v1/devices", &[], None).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    let d = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "24102")
        .unwrap();
    assert_eq!(d["dnd"], true);

    let (status, body) = http(s.addr, "GET", "/healthz", &[], None).await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["status"], "ok");
    let (status, body) = http(s.addr, "GET", "/metrics", &[], None).await;
    assert_eq!(status, 200);
    assert!(
        body.contains("ctigw_link_up{link=\"sim\",dialect=\"sim\"} 1"),
        "{body}"
    );
    assert!(body.contains("ctigw_calls_active 1"), "{body}");
    assert!(
        body.contains("ctigw_commands_total{result=\"ok\"} 3"),
        "{body}"
    );
    let (status, body) = http(s.addr, "GET", "/", &[], None).await;
    assert_eq!(status, 200);
    assert!(body.contains("/v1/ws"));
}

#[tokio::test]
async fn authentication_and_device_rights() {
    let tokens = StaticTokens::new([
        (
            "alice-token-0123456789".to_string(),
            "alice".to_string(),
            Some(vec![DeviceId::new("24101")]),
        ),
        (
            "admin-token-0123456789".to_string(),
            "admin".to_string(),
            None,
        ),
    ]);
    let s = server(
        FanoutConfig::default(),
        Arc::new(tokens),
        ApiConfig {
            auth_timeout: Duration::from_millis(500),
            ..ApiConfig::default()
        },
    )
    .await;

    // no token: an op before auth is refused with 4001
    let mut ws = connect(s.addr, "").await;
    assert_eq!(recv(&mut ws).await["type"], "hello");
    send(&mut ws, json!({"op": "subscribe", "id": 1, "devices": "*"})).await;
    assert_eq!(close_code(&mut ws).await, 4001);
    // no token and silence: 4001 after the auth timeout
    let mut ws = connect(s.addr, "").await;
    assert_eq!(recv(&mut ws).await["type"], "hello");
    assert_eq!(close_code(&mut ws).await, 4001);
    // bad token: 4002
    let mut ws = connect(s.addr, "?access_token=nope").await;
    assert_eq!(close_code(&mut ws).await, 4002);
    // auth message, then only alice's device
    let mut ws = connect(s.addr, "").await;
    assert_eq!(recv(&mut ws).await["type"], "hello");
    send(
        &mut ws,
        json!({"op": "auth", "id": 1, "token": "alice-token-0123456789"}),
    )
    .await;
    assert_eq!(recv(&mut ws).await["ok"], true);
    send(
        &mut ws,
        json!({"op": "subscribe", "id": 2, "devices": ["24101", "24102"]}),
    )
    .await;
    let res = recv(&mut ws).await;
    assert_eq!(res["error"]["code"], "device_not_allowed");
    assert!(res["error"]["message"].as_str().unwrap().contains("24102"));
    send(&mut ws, json!({"op": "subscribe", "id": 3, "devices": "*"})).await;
    let snap = recv(&mut ws).await;
    let devs: Vec<&str> = snap["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(devs, vec!["24101"]);
    send(
        &mut ws,
        json!({"op": "makeCall", "id": 4, "device": "24102", "to": "24101"}),
    )
    .await;
    let (res, _) = until(&mut ws, is_result(4)).await;
    assert_eq!(res["error"]["code"], "device_not_allowed");
    // REST with and without bearer
    let (status, _) = http(s.addr, "GET", "/v1/calls", &[], None).await;
    assert_eq!(status, 401);
    let (status, body) = http(
        s.addr,
        "GET",
        "/v1/devices",
        &[("Authorization", "Bearer alice-token-0123456789")],
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("24101") && !body.contains("24102"), "{body}");
}

#[tokio::test]
async fn protocol_errors_close_with_4004() {
    let s = open_server().await;
    for bad in [
        Message::Text("{not json".into()),
        Message::Text("[1,2]".into()),
        Message::Text(r#"{"id":1}"#.into()),
        Message::Binary(vec![1, 2, 3].into()),
    ] {
        let mut ws = connect(s.addr, "").await;
        assert_eq!(recv(&mut ws).await["type"], "hello");
        ws.send(bad.clone()).await.unwrap();
        assert_eq!(close_code(&mut ws).await, 4004, "for {bad:?}");
    }
    // a command without an id cannot get its result: protocol error
    let mut ws = connect(s.addr, "").await;
    assert_eq!(recv(&mut ws).await["type"], "hello");
    send(
        &mut ws,
        json!({"op": "makeCall", "device": "24101", "to": "24102"}),
    )
    .await;
    assert_eq!(close_code(&mut ws).await, 4004);
    // an oversized message is refused, and the server survives it
    let mut ws = connect(s.addr, "").await;
    assert_eq!(recv(&mut ws).await["type"], "hello");
    let _ = ws.send(Message::Text("x".repeat(200_000).into())).await;
    assert_eq!(close_code(&mut ws).await, 1009, "message too big");
    let mut ws = connect(s.addr, "").await;
    hello_and_subscribe(&mut ws, json!("*")).await;
}
