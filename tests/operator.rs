//! What an operator meets on a first install (issue 13): the gateway's own page may open the
//! WebSocket whatever `allowed_origins` says, `GET /v1/calls/{id}`, the REST 401 text, and
//! `/favicon.ico`, each against a daemon started from a configuration text.

mod common;

use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "operator-token-0123456789";

const CONFIG: &str = r#"
[api]
listen = "127.0.0.1:0"
allowed_origins = ["https://contoso.crm4.dynamics.com"]
[[api.tokens]]
token = "operator-token-0123456789"
user = "op"
[[link]]
name = "lab"
dialect = "sim"
devices = ["24101-24102"]
script = false
"#;

/// Sends a raw HTTP/1.1 request and returns the whole answer as text.
async fn raw(addr: SocketAddr, req: String) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(n)) => {
                buf.extend_from_slice(&chunk[..n]);
                // a WebSocket upgrade stays open: its head is all we need
                if buf.starts_with(b"HTTP/1.1 101") && buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

async fn upgrade(addr: SocketAddr, host: &str, origin: &str) -> String {
    raw(
        addr,
        format!(
            "GET /v1/ws HTTP/1.1\r\nHost: {host}\r\nOrigin: {origin}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ),
    )
    .await
}

async fn get(addr: SocketAddr, path: &str, token: Option<&str>) -> String {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    raw(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateways_own_origin_is_always_allowed() {
    let gw = common::start_daemon(CONFIG).await;
    let addr = gw.addr;
    let own = upgrade(addr, &addr.to_string(), &format!("http://{addr}")).await;
    assert!(own.starts_with("HTTP/1.1 101"), "{own}");
    let crm = upgrade(addr, &addr.to_string(), "https://contoso.crm4.dynamics.com").await;
    assert!(crm.starts_with("HTTP/1.1 101"), "{crm}");
    let other = upgrade(addr, &addr.to_string(), "http://evil.example").await;
    assert!(other.starts_with("HTTP/1.1 403"), "{other}");
    // an origin naming another host than the one asked is not the gateway's own
    let elsewhere = upgrade(addr, "gw.example:8080", &format!("http://{addr}")).await;
    assert!(elsewhere.starts_with("HTTP/1.1 403"), "{elsewhere}");
    gw.shutdown().await;
}
