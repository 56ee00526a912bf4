//! What an operator meets on a first install (issue 13): the gateway's own page may open the
//! WebSocket whatever `allowed_origins` says, `GET /v1/calls/{id}`, the REST 401 text, and
//! `/favicon.ico` (with docs/api.md quoting the 401 as sent), `check-config`'s range and port
//! messages, each against a daemon started from a configuration text.

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
    // a DNS name is not trusted as the gateway's own even when Host and Origin agree: a page
    // whose name was rebound to this address would send exactly that
    let rebound = upgrade(addr, "rebound.example:8080", "http://rebound.example:8080").await;
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
    let localhost = format!("localhost:{}", addr.port());
    let named = upgrade(addr, &localhost, &format!("http://{localhost}")).await;
    assert!(named.starts_with("HTTP/1.1 101"), "{named}");
    gw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_serves_one_call_a_clear_401_and_a_favicon() {
    let gw = common::start_daemon(CONFIG).await;
    let addr = gw.addr;
    let anon = get(addr, "/v1/calls", None).await;
    assert!(anon.starts_with("HTTP/1.1 401"), "{anon}");
    assert!(anon.contains("Authorization: Bearer TOKEN"), "{anon}");
    assert!(!anon.contains("auth message"), "{anon}");
    // docs/api.md quotes the body as the daemon sends it
    let message = serde_json::from_str::<serde_json::Value>(anon.split("\r\n\r\n").nth(1).unwrap())
        .unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    let api_md = std::fs::read_to_string(common::repo_path("docs/api.md")).unwrap();
    assert!(
        api_md.contains(&message),
        "docs/api.md does not quote: {message}"
    );
    let body = r#"{"device":"24101","to":"24102"}"#;
    let made = raw(
        addr,
        format!(
            "POST /v1/calls HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(made.starts_with("HTTP/1.1 201"), "{made}");
    let json: serde_json::Value =
        serde_json::from_str(made.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    let id = json["callId"].as_str().unwrap().to_string();
    let one = get(addr, &format!("/v1/calls/{id}"), Some(TOKEN)).await;
    assert!(one.starts_with("HTTP/1.1 200"), "{one}");
    let v: serde_json::Value = serde_json::from_str(one.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(v["call"]["id"], id.as_str(), "{v}");
    let none = get(addr, "/v1/calls/no-such-call", Some(TOKEN)).await;
    assert!(none.starts_with("HTTP/1.1 404"), "{none}");
    assert!(none.contains("unknown_call"), "{none}");
    let icon = get(addr, "/favicon.ico", None).await;
    assert!(icon.starts_with("HTTP/1.1 200"), "{icon}");
    assert!(
        icon.contains("image/svg+xml") && icon.contains("<svg"),
        "{icon}"
    );
    gw.shutdown().await;
}

#[test]
fn check_config_names_uneven_ranges_and_privileged_ports() {
    let text = CONFIG
        .replace("127.0.0.1:0", "0.0.0.0:80")
        .replace("24101-24102", "24100-2420");
    let e = ctigw::config::parse(&text, std::path::Path::new("t.toml")).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("api.listen: port 80 is below 1024"), "{msg}");
    assert!(msg.contains("CAP_NET_BIND_SERVICE"), "{msg}");
    assert!(msg.contains("same number of digits (5 and 4)"), "{msg}");
    assert!(!msg.contains("backwards"), "{msg}");
}
