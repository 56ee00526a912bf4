//! Hostile clients against the API over real sockets: each case gets its close code or HTTP
//! status (oversized, non-UTF-8 and malformed frames, malformed or repeated Origin headers,
//! connection caps, slowloris heads, too many unauthenticated sessions, command floods, a
//! token revoked by reload), and a well-behaved client is still served afterwards.

use ctigw::api::auth::{Authenticator, Reloadable, StaticTokens};
use ctigw::api::limits::Limits;
use ctigw::api::metrics::ApiMetrics;
use ctigw::api::{self, ApiConfig, AppState};
use ctigw::engine::{self, Engine, EngineConfig, FanoutConfig};
use ctigw::model::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const GOOD: &str = "good-token-0123456789abcdef";
const OTHER: &str = "other-token-0123456789abcdef";
const DEVICES: [&str; 2] = ["30001", "30002"];

struct Server {
    addr: SocketAddr,
    auth: Arc<Reloadable>,
}

fn tokens(list: &[&str]) -> Arc<dyn Authenticator> {
    Arc::new(StaticTokens::new(
        list.iter()
            .map(|t| (t.to_string(), format!("user-{}", &t[..4]), None)),
    ))
}

async fn server(limits: Limits) -> Server {
    let mut engine = Engine::new(EngineConfig {
        call_id_prefix: "h".into(),
        command_timeout: Duration::from_secs(1),
        ..Default::default()
    });
    let raw = LinkId::new("raw");
    engine.add_link(
        raw.clone(),
        "raw",
        &DEVICES
            .iter()
            .map(|d| (DeviceId::new(d), None))
            .collect::<Vec<_>>(),
    );
    let (raw_tx, raw_rx) = mpsc::channel(64);
    std::mem::forget(raw_rx);
    let (handle, _task) = engine::spawn(
        engine,
        HashMap::from([(raw.clone(), raw_tx)]),
        FanoutConfig::default(),
    );
    let sink = handle.link_sink(raw);
    sink.send(PbxEvent::Link(LinkState::Up)).await;
    let auth = Arc::new(Reloadable::new(tokens(&[GOOD, OTHER])));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = AppState {
        engine: handle,
        auth: auth.clone(),
        metrics: Arc::new(ApiMetrics::default()),
        cfg: Arc::new(ApiConfig {
            allowed_origins: Some(vec!["https://crm.example".into()]),
            auth_timeout: Duration::from_secs(5),
            limits,
            ..ApiConfig::default()
        }),
    };
    tokio::spawn(api::serve(listener, state, std::future::pending()));
    Server { addr, auth }
}

async fn connect(addr: SocketAddr, token: &str) -> Ws {
    let url = format!("ws://{addr}/v1/ws?access_token={token}");
    let (ws, _) = tokio::time::timeout(Duration::from_secs(5), connect_async(url))
        .await
        .expect("connect in time")
        .expect("upgrade accepted");
    ws
}

async fn recv(ws: &mut Ws) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("no error");
        if let Message::Text(t) = m {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

async fn close_code(ws: &mut Ws) -> u16 {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(f))))) => return f.code.into(),
            Ok(Some(Ok(Message::Close(None)))) | Ok(None) => panic!("closed without a code"),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(e))) => panic!("socket error instead of a close frame: {e}"),
            Err(_) => panic!("no close in time"),
        }
    }
}

/// A well-behaved client: hello, subscribe, snapshot.
async fn still_served(addr: SocketAddr) {
    let mut ws = connect(addr, GOOD).await;
    assert_eq!(recv(&mut ws).await["type"], "hello");
    ws.send(Message::text(
        json!({"op": "subscribe", "id": 1, "devices": [DEVICES[0]]}).to_string(),
    ))
    .await
    .unwrap();
    let snap = recv(&mut ws).await;
    assert_eq!(snap["type"], "snapshot", "{snap}");
    assert_eq!(snap["devices"].as_array().unwrap().len(), 1);
}

/// Opens a WebSocket by hand (so frames can break the rules) and reads the server's hello.
async fn raw_ws(addr: SocketAddr, token: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /v1/ws?access_token={token} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        s.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{:?}",
        String::from_utf8_lossy(&head)
    );
    let (op, payload) = read_frame(&mut s).await;
    assert_eq!(op, 1);
    assert!(String::from_utf8_lossy(&payload).contains("hello"));
    s
}

async fn read_frame(s: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut h = [0u8; 2];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut h))
        .await
        .expect("a frame in time")
        .unwrap();
    let op = h[0] & 0x0f;
    let len = match h[1] & 0x7f {
        126 => {
            let mut l = [0u8; 2];
            s.read_exact(&mut l).await.unwrap();
            u16::from_be_bytes(l) as usize
        }
        127 => {
            let mut l = [0u8; 8];
            s.read_exact(&mut l).await.unwrap();
            u64::from_be_bytes(l) as usize
        }
        n => n as usize,
    };
    let mut p = vec![0u8; len];
    s.read_exact(&mut p).await.unwrap();
    (op, p)
}

/// Writes one frame; `masked` false breaks the client-must-mask rule.
async fn write_frame(s: &mut TcpStream, first: u8, payload: &[u8], masked: bool) {
    let mut f = vec![first];
    let m = if masked { 0x80 } else { 0 };
    assert!(payload.len() < 126);
    f.push(m | payload.len() as u8);
    let key = [0x12u8, 0x34, 0x56, 0x78];
    if masked {
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        f.extend_from_slice(payload);
    }
    s.write_all(&f).await.unwrap();
}

async fn raw_close_code(s: &mut TcpStream) -> u16 {
    loop {
        let (op, p) = read_frame(s).await;
        if op == 8 {
            assert!(p.len() >= 2, "close frame with a code");
            return u16::from_be_bytes([p[0], p[1]]);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_get_their_rfc_close_codes() {
    let s = server(Limits::default()).await;

    // a message over 64 KiB: 1009
    let mut ws = connect(s.addr, GOOD).await;
    recv(&mut ws).await;
    let big = format!(r#"{{"op":"ping","id":1,"pad":"{}"}}"#, "x".repeat(70_000));
    let _ = ws.send(Message::text(big)).await;
    assert_eq!(close_code(&mut ws).await, 1009);

    // a text frame that is not UTF-8: 1007
    let mut raw = raw_ws(s.addr, GOOD).await;
    write_frame(&mut raw, 0x81, &[b'{', 0xff, 0xfe, b'}'], true).await;
    assert_eq!(raw_close_code(&mut raw).await, 1007);

    // a reserved opcode: 1002
    let mut raw = raw_ws(s.addr, GOOD).await;
    write_frame(&mut raw, 0x83, b"{}", true).await;
    assert_eq!(raw_close_code(&mut raw).await, 1002);

    // an unmasked client frame: 1002
    let mut raw = raw_ws(s.addr, GOOD).await;
    write_frame(&mut raw, 0x81, b"{}", false).await;
    assert_eq!(raw_close_code(&mut raw).await, 1002);

    // before authentication, anything over 4 KiB: 1009
    let url = format!("ws://{}/v1/ws", s.addr);
    let (mut ws, _) = connect_async(url).await.unwrap();
    recv(&mut ws).await;
    let big = format!(r#"{{"op":"auth","token":"{}"}}"#, "y".repeat(5000));
    ws.send(Message::text(big)).await.unwrap();
    assert_eq!(close_code(&mut ws).await, 1009);

    still_served(s.addr).await;
}

/// Sends an upgrade request with the given extra header lines; returns the status line.
async fn upgrade_status(addr: SocketAddr, extra: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "GET /v1/ws?access_token={GOOD} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    )
    .into_bytes();
    req.extend_from_slice(extra);
    req.extend_from_slice(b"\r\n");
    s.write_all(&req).await.unwrap();
    let mut buf = vec![0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf))
        .await
        .expect("an answer in time")
        .unwrap();
    let text = String::from_utf8_lossy(&buf[..n]).to_string();
    text.lines().next().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_origin_header_is_checked_and_a_malformed_one_refused() {
    let s = server(Limits::default()).await;
    let ok = upgrade_status(s.addr, b"Origin: https://crm.example\r\n").await;
    assert!(ok.contains(" 101 "), "{ok}");
    let second = upgrade_status(
        s.addr,
        b"Origin: https://crm.example\r\nOrigin: https://evil.example\r\n",
    )
    .await;
    assert!(second.contains(" 403 "), "{second}");
    let non_ascii = upgrade_status(s.addr, b"Origin: https://cr\xc3\xa9.example\r\n").await;
    assert!(non_ascii.contains(" 400 "), "{non_ascii}");
    let empty = upgrade_status(s.addr, b"Origin: \r\n").await;
    assert!(empty.contains(" 400 "), "{empty}");
    still_served(s.addr).await;
}

/// True when the server closes `s` (EOF or reset) within `within`, having sent nothing.
async fn closed_silently(s: &mut TcpStream, within: Duration) -> bool {
    let mut b = [0u8; 64];
    match tokio::time::timeout(within, s.read(&mut b)).await {
        Ok(Ok(0)) | Ok(Err(_)) => true,
        Ok(Ok(_)) | Err(_) => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_caps_and_slowloris_heads_are_refused() {
    let s = server(Limits {
        max_connections_per_address: 4,
        request_head_timeout: Duration::from_millis(400),
        ..Limits::default()
    })
    .await;
    // four idle connections take every place of 127.0.0.1
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(TcpStream::connect(s.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut fifth = TcpStream::connect(s.addr).await.unwrap();
    assert!(
        closed_silently(&mut fifth, Duration::from_millis(300)).await,
        "a fifth connection from one address is closed at once"
    );
    // a slowloris head: one byte, then nothing; closed once the head deadline passes
    idle[0].write_all(b"G").await.unwrap();
    for c in &mut idle {
        assert!(
            closed_silently(c, Duration::from_secs(3)).await,
            "no request head within the deadline: closed"
        );
    }
    // the places are free again
    tokio::time::sleep(Duration::from_millis(50)).await;
    still_served(s.addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_unauthenticated_sessions_get_503() {
    let s = server(Limits {
        max_unauthenticated: 2,
        ..Limits::default()
    })
    .await;
    let url = format!("ws://{}/v1/ws", s.addr);
    let (mut a, _) = connect_async(url.clone()).await.unwrap();
    let (_b, _) = connect_async(url.clone()).await.unwrap();
    recv(&mut a).await;
    match connect_async(url.clone()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 503),
        other => panic!("expected HTTP 503, got {:?}", other.map(|_| ())),
    }
    // one authenticates: a place is free again
    a.send(Message::text(
        json!({"op": "auth", "token": GOOD}).to_string(),
    ))
    .await
    .unwrap();
    assert_eq!(recv(&mut a).await["ok"], true);
    let (_c, _) = connect_async(url).await.expect("a free place after auth");
    still_served(s.addr).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_flood_gets_rate_limited_results() {
    let s = server(Limits {
        commands_per_second: 1.0,
        command_burst: 3.0,
        ..Limits::default()
    })
    .await;
    let mut ws = connect(s.addr, GOOD).await;
    recv(&mut ws).await;
    for id in 1..=10u64 {
        let cmd = json!({"op": "setDnd", "id": id, "device": DEVICES[0], "enabled": true});
        ws.send(Message::text(cmd.to_string())).await.unwrap();
    }
    let mut limited = 0;
    let mut other = 0;
    while limited + other < 10 {
        let m = recv(&mut ws).await;
        if m["type"] != "result" {
            continue;
        }
        if m["error"]["code"] == "rate_limited" {
            limited += 1;
        } else {
            other += 1;
        }
    }
    assert_eq!(other, 3, "the burst went through");
    assert_eq!(limited, 7);
    // another user has its own budget
    let mut ws2 = connect(s.addr, OTHER).await;
    recv(&mut ws2).await;
    let cmd = json!({"op": "setDnd", "id": 1, "device": DEVICES[0], "enabled": true});
    ws2.send(Message::text(cmd.to_string())).await.unwrap();
    let r = recv(&mut ws2).await;
    assert_ne!(r["error"]["code"], "rate_limited", "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_by_reload_closes_its_sessions_with_4003() {
    let s = server(Limits::default()).await;
    let mut revoked = connect(s.addr, OTHER).await;
    recv(&mut revoked).await;
    let mut kept = connect(s.addr, GOOD).await;
    recv(&mut kept).await;
    s.auth.replace(tokens(&[GOOD]));
    assert_eq!(close_code(&mut revoked).await, 4003);
    kept.send(Message::text(json!({"op": "ping", "id": 7}).to_string()))
        .await
        .unwrap();
    let r = recv(&mut kept).await;
    assert_eq!(r["id"], 7);
    assert_eq!(r["ok"], true);
    still_served(s.addr).await;
}
