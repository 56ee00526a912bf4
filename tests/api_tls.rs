//! The API over TLS: a certificate issued by a generated CA carries `hello` over `wss://` to a
//! client trusting that CA; an expired certificate is refused by the client; TLS 1.1 is
//! refused and TLS 1.2 accepted; `ctigw run` reloads its certificate on SIGHUP with open
//! connections kept, and refuses a broken key naming the file; the configuration check
//! refuses plain HTTP off loopback and a key that is not the certificate's; `ctigw demo`
//! serves HTTPS with the certificate whose fingerprint it prints.

use futures_util::{SinkExt, StreamExt};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, RootCertStore};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

type Wss = WebSocketStream<MaybeTlsStream<TcpStream>>;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A throwaway folder for one test's files.
fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ctigw-tls-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A generated certificate authority.
struct Ca {
    issuer: Issuer<'static, KeyPair>,
    der: CertificateDer<'static>,
}

fn new_ca(name: &str) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    Ca {
        der: cert.der().clone(),
        issuer: Issuer::new(p, key),
    }
}

/// A server certificate for localhost and 127.0.0.1 issued by `ca`: (chain PEM, key PEM, DER).
fn server_cert(ca: &Ca, expired: bool) -> (String, String, CertificateDer<'static>) {
    let mut p = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    if expired {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &ca.issuer).unwrap();
    (cert.pem(), key.serialize_pem(), cert.der().clone())
}

fn write_pair(dir: &Path, cert: &str, key: &str) {
    std::fs::write(dir.join("cert.pem"), cert).unwrap();
    std::fs::write(dir.join("key.pem"), key).unwrap();
}

fn config(port: u16) -> String {
    format!(
        r#"
[api]
listen = "127.0.0.1:{port}"
auth = "none"

[tls]
cert = "cert.pem"
key = "key.pem"

[[link]]
name = "lab"
dialect = "sim"
devices = ["24101-24103"]
script = false
"#
    )
}

fn client(
    roots: &[&CertificateDer<'static>],
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<ClientConfig> {
    let mut store = RootCertStore::empty();
    for r in roots {
        store.add((*r).clone()).unwrap();
    }
    let mut cfg = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    // every connection a full handshake: a resumed session shows the certificate it began with
    cfg.resumption = rustls::client::Resumption::disabled();
    Arc::new(cfg)
}

async fn wss(
    port: u16,
    cfg: Arc<ClientConfig>,
) -> Result<Wss, tokio_tungstenite::tungstenite::Error> {
    let url = format!("wss://127.0.0.1:{port}/v1/ws");
    tokio_tungstenite::connect_async_tls_with_config(url, None, false, Some(Connector::Rustls(cfg)))
        .await
        .map(|(ws, _)| ws)
}

async fn next_json(ws: &mut Wss) -> Value {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message in time")
            .expect("the connection open")
            .expect("a frame");
        if let Message::Text(t) = m {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

/// The certificate the server presented on this connection.
fn peer_cert(ws: &Wss) -> CertificateDer<'static> {
    let MaybeTlsStream::Rustls(tls) = ws.get_ref() else {
        panic!("not a TLS connection")
    };
    tls.get_ref().1.peer_certificates().unwrap()[0]
        .clone()
        .into_owned()
}

async fn start(dir: &Path) -> ctigw::daemon::Running {
    start_with(dir, "").await
}

/// Starts the daemon from the test configuration with `extra` appended.
async fn start_with(dir: &Path, extra: &str) -> ctigw::daemon::Running {
    let file = dir.join("ctigw.toml");
    std::fs::write(&file, config(0) + extra).unwrap();
    let cfg = ctigw::config::load(&file).unwrap_or_else(|e| panic!("{e}"));
    ctigw::daemon::start(&cfg).await.unwrap()
}

#[tokio::test]
async fn a_client_trusting_the_ca_gets_hello_over_wss() {
    let dir = temp_dir("hello");
    let ca = new_ca("ctigw test CA");
    let (cert, key, der) = server_cert(&ca, false);
    write_pair(&dir, &cert, &key);
    let running = start(&dir).await;
    let port = running.addr.port();

    let mut ws = wss(port, client(&[&ca.der], rustls::DEFAULT_VERSIONS))
        .await
        .unwrap();
    let hello = next_json(&mut ws).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    assert_eq!(peer_cert(&ws), der);

    // a client that trusts another CA is refused
    let other = new_ca("another CA");
    let e = wss(port, client(&[&other.der], rustls::DEFAULT_VERSIONS))
        .await
        .expect_err("a certificate from an unknown CA must be refused");
    assert!(e.to_string().contains("UnknownIssuer"), "{e}");
    running.shutdown().await;
}

#[tokio::test]
async fn an_expired_certificate_is_refused_by_the_client() {
    let dir = temp_dir("expired");
    let ca = new_ca("ctigw test CA");
    let (cert, key, _) = server_cert(&ca, true);
    write_pair(&dir, &cert, &key);
    let running = start(&dir).await;
    let e = wss(
        running.addr.port(),
        client(&[&ca.der], rustls::DEFAULT_VERSIONS),
    )
    .await
    .expect_err("an expired certificate must be refused");
    assert!(e.to_string().contains("certificate expired"), "{e}");
    running.shutdown().await;
}

/// A TLS ClientHello offering at most `version` (0x0302: TLS 1.1, 0x0303: TLS 1.2), with
/// ECDHE suites and the extensions a TLS 1.2 server needs to pick one.
fn client_hello(version: [u8; 2]) -> Vec<u8> {
    fn ext(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
        out.extend_from_slice(&kind.to_be_bytes());
        out.extend_from_slice(&(data.len() as u16).to_be_bytes());
        out.extend_from_slice(data);
    }
    let mut body = Vec::new();
    body.extend_from_slice(&version);
    body.extend_from_slice(&[0x42; 32]); // random
    body.push(0); // no session id
    let suites: &[u16] = &[0xc02b, 0xc02c, 0xc02f, 0xc030, 0xc009, 0xc013];
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut exts = Vec::new();
    ext(&mut exts, 0x000a, &[0, 4, 0x00, 0x1d, 0x00, 0x17]); // groups: x25519, P-256
    ext(&mut exts, 0x000b, &[1, 0]); // point formats: uncompressed
    ext(
        &mut exts,
        0x000d,
        &[0, 6, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01],
    ); // signature algorithms
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    let mut hs = vec![1u8]; // ClientHello
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// What the server at `port` answers to `hello`, up to 5 s or its close.
async fn answer_to(port: u16, hello: Vec<u8>) -> Vec<u8> {
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s.write_all(&hello).unwrap();
        let mut out = vec![0u8; 4096];
        let n = s.read(&mut out).unwrap_or(0);
        out.truncate(n);
        out
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn tls_1_1_is_refused_and_tls_1_2_accepted() {
    let dir = temp_dir("versions");
    let ca = new_ca("ctigw test CA");
    let (cert, key, _) = server_cert(&ca, false);
    write_pair(&dir, &cert, &key);
    let running = start(&dir).await;
    let port = running.addr.port();

    // the same hello offering TLS 1.2 gets a ServerHello (handshake record, type 2) ...
    let answer = answer_to(port, client_hello([0x03, 0x03])).await;
    assert_eq!(
        (answer.first(), answer.get(5)),
        (Some(&0x16), Some(&2)),
        "{answer:02x?}"
    );
    // ... offering at most TLS 1.1 it gets a fatal alert: protocol_version (70)
    let answer = answer_to(port, client_hello([0x03, 0x02])).await;
    assert_eq!(answer.first(), Some(&0x15), "{answer:02x?}");
    assert_eq!(answer.get(5..7), Some(&[2u8, 70][..]), "{answer:02x?}");

    let mut ws = wss(port, client(&[&ca.der], &[&rustls::version::TLS12]))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    let MaybeTlsStream::Rustls(tls) = ws.get_ref() else {
        panic!("not TLS")
    };
    assert_eq!(
        tls.get_ref().1.protocol_version(),
        Some(rustls::ProtocolVersion::TLSv1_2)
    );
    running.shutdown().await;
}

#[tokio::test]
async fn a_stalled_handshake_holds_up_nobody_and_a_silent_client_is_closed() {
    let dir = temp_dir("stalled");
    let ca = new_ca("ctigw test CA");
    let (cert, key, _) = server_cert(&ca, false);
    write_pair(&dir, &cert, &key);
    let running = start_with(&dir, "[limits]\nrequest_head_timeout_ms = 2000\n").await;
    let port = running.addr.port();
    let trust = client(&[&ca.der], rustls::DEFAULT_VERSIONS);

    // a TCP connection that never starts its handshake; a client behind it is served while
    // it is still open (a listener doing one handshake at a time would serve it only after
    // the stalled one's deadline had closed it)
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut ws = wss(port, trust.clone()).await.unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    let mut buf = [0u8; 16];
    assert!(
        matches!(stalled.try_read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "the stalled connection is still open"
    );
    // and is closed once the deadline passes
    let n = tokio::time::timeout(
        Duration::from_secs(10),
        tokio::io::AsyncReadExt::read(&mut stalled, &mut buf),
    )
    .await
    .expect("the stalled handshake is closed");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");

    // a client that completes the handshake, then sends no request, is closed too
    let connector = tokio_rustls::TlsConnector::from(trust);
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let mut silent = connector.connect(name, tcp).await.unwrap();
    let started = Instant::now();
    let n = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(&mut silent, &mut buf),
    )
    .await
    .expect("a silent client is closed after the head deadline");
    assert!(matches!(n, Ok(0) | Err(_)), "{n:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "closed before its deadline"
    );
    running.shutdown().await;
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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops the child when the test ends, however it ends.
struct Reap(Child);

impl Drop for Reap {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Keeps every stderr line of `child` for the test to look at.
fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let log = Arc::new(Mutex::new(String::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = log.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let mut l = sink.lock().unwrap();
            l.push_str(&line);
            l.push('\n');
        }
    });
    log
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_swaps_the_certificate_and_keeps_open_connections() {
    let dir = temp_dir("reload");
    let ca = new_ca("ctigw test CA");
    let (cert_a, key_a, der_a) = server_cert(&ca, false);
    let (cert_b, key_b, der_b) = server_cert(&ca, false);
    write_pair(&dir, &cert_a, &key_a);
    let port = free_port();
    let file = dir.join("ctigw.toml");
    std::fs::write(&file, config(port)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ctigw"))
        .args(["run", "--config"])
        .arg(&file)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = collect_stderr(&mut child);
    let child = Reap(child);
    let trust = client(&[&ca.der], rustls::DEFAULT_VERSIONS);

    let deadline = Instant::now() + Duration::from_secs(20);
    let mut open = loop {
        match wss(port, trust.clone()).await {
            Ok(ws) => break ws,
            Err(e) => {
                assert!(Instant::now() < deadline, "ctigw run never served TLS: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    assert_eq!(next_json(&mut open).await["type"], "hello");
    assert_eq!(peer_cert(&open), der_a);

    // a new certificate, then SIGHUP: new connections get it
    write_pair(&dir, &cert_b, &key_b);
    signal(&child.0, "HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ws = wss(port, trust.clone()).await.unwrap();
        if peer_cert(&ws) == der_b {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not swap the certificate"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // the connection opened before still works
    open.send(Message::Text(r#"{"op":"ping","id":7}"#.into()))
        .await
        .unwrap();
    let pong = next_json(&mut open).await;
    assert_eq!(
        (pong["type"].as_str(), pong["id"].as_i64()),
        (Some("result"), Some(7)),
        "{pong}"
    );

    // a broken key file: refused, named in the log, the running certificate kept
    std::fs::write(dir.join("key.pem"), "-----BEGIN PRIVATE KEY-----\nbroken\n").unwrap();
    signal(&child.0, "HUP");
    let key_path = dir.join("key.pem").display().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !log.lock().unwrap().contains("reload refused") {
        assert!(
            Instant::now() < deadline,
            "no refusal logged:\n{}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = log.lock().unwrap().clone();
    let line = text
        .lines()
        .skip_while(|l| !l.contains("reload refused"))
        .take(4)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        line.contains("tls.key") && line.contains(&key_path),
        "{line}"
    );
    let ws = wss(port, trust.clone()).await.unwrap();
    assert_eq!(peer_cert(&ws), der_b, "the running certificate is kept");
    // no secret in the logs: no key material
    assert!(!text.contains("PRIVATE KEY"), "{text}");
}

#[test]
fn the_check_refuses_plain_http_off_loopback_and_a_foreign_key() {
    let dir = temp_dir("check");
    let ca = new_ca("ctigw test CA");
    let (cert, _, _) = server_cert(&ca, false);
    let (_, other_key, _) = server_cert(&ca, false);
    write_pair(&dir, &cert, &other_key);
    let check = |text: &str| {
        let file = dir.join("ctigw.toml");
        std::fs::write(&file, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_ctigw"))
            .arg("check-config")
            .arg(&file)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let link = "[[link]]\nname = \"lab\"\ndialect = \"sim\"\ndevices = [\"100\"]\n";
    let tokens = "[[api.tokens]]\ntoken = \"0123456789abcdef0123\"\nuser = \"u\"\n";

    let (ok, err) = check(&format!("[api]\nlisten = \"0.0.0.0:8443\"\n{tokens}{link}"));
    assert!(!ok);
    assert!(
        err.contains("api.listen: plain HTTP is only served on a loopback address")
            && err.contains("[tls]"),
        "{err}"
    );
    let (ok, err) = check(&format!(
        "[api]\nlisten = \"127.0.0.1:8080\"\nauth = \"none\"\n{link}"
    ));
    assert!(ok, "plain HTTP on loopback is fine: {err}");

    let tls = "[tls]\ncert = \"cert.pem\"\nkey = \"key.pem\"\n";
    let (ok, err) = check(&format!(
        "[api]\nlisten = \"0.0.0.0:8443\"\n{tokens}{tls}{link}"
    ));
    assert!(!ok);
    let key = dir.join("key.pem").display().to_string();
    assert!(
        err.contains("tls.key: ") && err.contains(&key) && err.contains("does not match"),
        "{err}"
    );

    let (ok, err) = check(&format!(
        "[api]\nlisten = \"0.0.0.0:8443\"\n{tokens}[tls]\ncert = \"missing.pem\"\n{link}"
    ));
    assert!(!ok);
    assert!(err.contains("tls.key: missing (required)"), "{err}");

    let (ok, err) = check(&format!(
        "[api]\nlisten = \"0.0.0.0:8443\"\n{tokens}[tls]\ncert = \"missing.pem\"\nkey = \"key.pem\"\n{link}"
    ));
    assert!(!ok);
    assert!(
        err.contains("tls.cert: cannot read") && err.contains("missing.pem"),
        "{err}"
    );

    let (ok, err) = check(&format!(
        "[api]\nlisten = \"0.0.0.0:8443\"\n{tokens}{tls}colour = 1\n{link}"
    ));
    assert!(!ok);
    assert!(err.contains("tls.colour: unknown key"), "{err}");

    let (cert, key, _) = server_cert(&ca, false);
    write_pair(&dir, &cert, &key);
    let (ok, err) = check(&format!(
        "[api]\nlisten = \"0.0.0.0:8443\"\n{tokens}{tls}{link}"
    ));
    assert!(ok, "{err}");
}

/// Accepts any certificate and keeps it: the test then compares it with the printed
/// fingerprint, as a person would before trusting a self-signed certificate.
#[derive(Debug)]
struct Record(Mutex<Option<CertificateDer<'static>>>);

impl rustls::client::danger::ServerCertVerifier for Record {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        *self.0.lock().unwrap() = Some(end_entity.clone().into_owned());
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &provider().signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_https_with_the_certificate_it_prints() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ctigw"))
        .args(["demo", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _reap = Reap(child);
    let (fingerprint, url) = tokio::task::spawn_blocking(move || {
        let mut fp = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if let Some(rest) = line.split("SHA-256 fingerprint ").nth(1) {
                fp = Some(rest.trim().to_string());
            }
            if let Some(rest) = line.split("live view at ").nth(1) {
                return (fp, rest.split_whitespace().next().unwrap().to_string());
            }
        }
        panic!("the demo never printed its URL");
    })
    .await
    .unwrap();
    let fingerprint = fingerprint.expect("the fingerprint is printed before the URL");
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    let seen = Arc::new(Record(Mutex::new(None)));
    let cfg = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(seen.clone())
        .with_no_client_auth();
    let ws_url = format!("{}v1/ws", url.replacen("https://", "wss://", 1));
    let (mut ws, _) = tokio_tungstenite::connect_async_tls_with_config(
        ws_url,
        None,
        false,
        Some(Connector::Rustls(Arc::new(cfg))),
    )
    .await
    .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "hello");
    let cert = seen.0.lock().unwrap().clone().unwrap();
    assert_eq!(ctigw::api::tls::fingerprint(&cert), fingerprint);
}
