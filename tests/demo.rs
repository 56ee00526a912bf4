//! The README's first command: `ctigw demo` prints where to look, and a WebSocket client
//! connected there receives `hello`, a `snapshot` and then live call events from the simulated
//! PBX, with no configuration and no sign-on.

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_prints_its_url_and_serves_live_calls() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ctigw"))
        .args(["demo", "--listen", "127.0.0.1:0", "--plain-http"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // read the URL, then close stdout as an impatient reader would: the daemon must go on
    let url = tokio::task::spawn_blocking(move || {
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.split("live view at ").nth(1) {
                return rest.split_whitespace().next().unwrap().to_string();
            }
        }
        panic!("the demo never printed its URL");
    })
    .await
    .unwrap();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with('/'),
        "{url}"
    );
    let ws_url = format!("{}v1/ws", url.replacen("http://", "ws://", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async(&ws_url).await.unwrap();
    let mut next = async || -> Value {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(15), ws.next())
                .await
                .expect("message in time")
                .unwrap()
                .unwrap();
            if let Message::Text(t) = m {
                return serde_json::from_str(t.as_str()).unwrap();
            }
        }
    };
    let hello = next().await;
    assert_eq!(hello["type"], "hello");
    assert_eq!(hello["protocol"], 1);
    ws.send(Message::Text(
        r#"{"op":"subscribe","id":1,"devices":"*"}"#.into(),
    ))
    .await
    .unwrap();
    let mut got_snapshot = false;
    let mut call_events = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while call_events < 3 {
        let m = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("live call events within seconds")
            .unwrap()
            .unwrap();
        let Message::Text(t) = m else { continue };
        let v: Value = serde_json::from_str(t.as_str()).unwrap();
        match v["type"].as_str() {
            Some("snapshot") => {
                got_snapshot = true;
                assert!(!v["devices"].as_array().unwrap().is_empty());
                // the link may still be connecting at this instant: call events below show it up
            }
            Some("event") if v["event"].as_str().unwrap_or("").starts_with("call.") => {
                assert!(got_snapshot, "events come after the snapshot");
                assert!(v["call"]["connections"].is_array());
                call_events += 1;
            }
            _ => {}
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
