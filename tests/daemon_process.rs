//! The daemon as systemd runs it: `ctigw run` tells the notify socket READY=1 once it listens,
//! feeds the watchdog while its engine answers, reloads tokens on SIGHUP (refusing a broken
//! file and keeping the running configuration), and stops cleanly on SIGTERM.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixDatagram;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(port: u16, token: &str) -> String {
    format!(
        r#"
[api]
listen = "127.0.0.1:{port}"
auth = "tokens"
[[api.tokens]]
token = "{token}"
user = "ops"

[[link]]
name = "lab"
dialect = "sim"
devices = ["24101-24103"]
script = false
"#
    )
}

fn get(port: u16, path: &str, token: &str) -> u16 {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
        return 0;
    };
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(child.id().to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

/// Reads notify messages until one contains `what`.
fn wait_notify(sock: &UnixDatagram, what: &str, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        if let Ok(n) = sock.recv(&mut buf) {
            let m = String::from_utf8_lossy(&buf[..n]).to_string();
            let hit = m.contains(what);
            seen.push(m);
            if hit {
                return seen;
            }
        }
    }
    panic!("no {what} within {within:?}; got {seen:?}");
}

#[test]
fn notify_watchdog_reload_and_stop() {
    let dir = std::env::temp_dir().join(format!("ctigw-proc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sock_path = dir.join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let port = free_port();
    let cfg = dir.join("ctigw.toml");
    let old = "old-token-0123456789abcdef";
    let new = "new-token-0123456789abcdef";
    std::fs::write(&cfg, config(port, old)).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_ctigw"))
        .args(["run", "--config"])
        .arg(&cfg)
        .env("NOTIFY_SOCKET", &sock_path)
        .env("WATCHDOG_USEC", "400000")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let seen = wait_notify(&sock, "READY=1", Duration::from_secs(20));
    assert!(seen.iter().any(|m| m.contains("READY=1")));
    // ready means listening
    assert_eq!(get(port, "/v1/calls", old), 200);
    assert_eq!(get(port, "/v1/calls", new), 401);
    // the watchdog is fed at half the interval while the engine answers
    wait_notify(&sock, "WATCHDOG=1", Duration::from_secs(3));
    wait_notify(&sock, "WATCHDOG=1", Duration::from_secs(3));

    // SIGHUP with a new token: the old one stops working, the new one works
    std::fs::write(&cfg, config(port, new)).unwrap();
    signal(&child, "HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    while get(port, "/v1/calls", new) != 200 {
        assert!(
            Instant::now() < deadline,
            "reload did not take the new token"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(get(port, "/v1/calls", old), 401);

    // a broken file is refused and the running configuration kept
    std::fs::write(&cfg, "[api\nlisten = 1\n").unwrap();
    signal(&child, "HUP");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        get(port, "/v1/calls", new),
        200,
        "still serving with the last good configuration"
    );

    // SIGTERM: STOPPING=1, clean exit
    signal(&child, "TERM");
    wait_notify(&sock, "STOPPING=1", Duration::from_secs(10));
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not stop within 10 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(status.success(), "exit status {status:?}; log:\n{err}");
    assert!(
        err.contains("reload refused, keeping the running configuration"),
        "{err}"
    );
    assert!(
        err.contains("line 1"),
        "the refused reload names where the file is broken: {err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
