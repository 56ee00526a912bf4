//! `ctigw-load`: the load harness (docs/performance.md). It starts a `ctigw` binary with a
//! generated configuration whose one Asterisk link points at the harness's own fake AMI
//! server on loopback, connects N WebSocket clients (each on its own device) plus watch-all
//! and supervisor clients, then steps the PBX event rate up until p99 latency passes the
//! limit, a frame is dropped or a client is closed, and prints one table row per step:
//! throughput, p50/p99/max latency (PBX event written -> frame read), drops, close codes,
//! the daemon's CPU and peak RSS; and, before the run, memory per idle client.
//! `--hostile` keeps idle TCP connections, slowloris heads and unauthenticated sessions open
//! during the steps. Loopback only, bounded in clients, steps and time.

mod ami;
mod clients;
mod procstat;

use anyhow::Context;
use clap::Parser;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

#[derive(Parser, Debug)]
#[command(about = "Load harness for ctigw: fake AMI PBX in, WebSocket clients out")]
struct Args {
    /// The ctigw binary to measure.
    #[arg(long, default_value = "target/release/ctigw")]
    ctigw: String,
    /// WebSocket clients, each subscribed to its own device.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Clients following every device.
    #[arg(long, default_value_t = 1)]
    watch_all: usize,
    /// Supervisor clients, each following the first `--supervised` devices.
    #[arg(long, default_value_t = 0)]
    supervisors: usize,
    #[arg(long, default_value_t = 50)]
    supervised: usize,
    /// Devices configured (at least `--clients`, at least 2).
    #[arg(long, default_value_t = 0)]
    devices: usize,
    /// PBX event rates to step through, events/s.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "100,200,500,1000,2000,5000,10000,20000,50000,100000"
    )]
    rates: Vec<u64>,
    /// Seconds per step.
    #[arg(long, default_value_t = 5)]
    step_secs: u64,
    /// A step fails when p99 exceeds this (ms).
    #[arg(long, default_value_t = 10.0)]
    p99_ms: f64,
    /// Keep stepping after a failed step.
    #[arg(long)]
    keep_going: bool,
    /// Mix in hostile connections (idle TCP, slowloris heads, unauthenticated sessions).
    #[arg(long)]
    hostile: bool,
    /// Hostile connections of each kind.
    #[arg(long, default_value_t = 200)]
    hostile_count: usize,
}

const MAX_CLIENTS: usize = 20_000;

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.clients + args.watch_all + args.supervisors <= MAX_CLIENTS,
        "at most {MAX_CLIENTS} clients"
    );
    let n_dev = args.devices.max(args.clients).max(args.supervised).max(2);
    anyhow::ensure!(n_dev <= 90_000, "at most 90000 devices");
    let devices: Vec<String> = (0..n_dev).map(|i| format!("{}", 10_000 + i)).collect();
    let mut followers = vec![args.watch_all as u64; n_dev];
    for f in followers.iter_mut().take(args.clients) {
        *f += 1;
    }
    for f in followers.iter_mut().take(args.supervised) {
        *f += args.supervisors as u64;
    }

    // the PBX side
    let ami_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let ami_addr = ami_listener.local_addr()?;
    let pbx = Arc::new(ami::Pbx {
        sent: Default::default(),
        written: Default::default(),
        expected: Default::default(),
        followers,
    });
    let (rate_tx, rate_rx) = tokio::sync::watch::channel(0u64);
    tokio::spawn(ami::serve(
        ami_listener,
        devices.clone(),
        pbx.clone(),
        rate_rx,
    ));

    // the daemon
    let port = free_port()?;
    let api: SocketAddr = ([127, 0, 0, 1], port).into();
    let dir = std::env::temp_dir().join(format!("ctigw-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let cfg_path = dir.join("ctigw.toml");
    let last = &devices[n_dev - 1];
    std::fs::write(
        &cfg_path,
        format!(
            r#"[api]
listen = "{api}"
auth = "none"
client_queue = 1024

[log]
level = "warn"

[[link]]
name = "load"
dialect = "asterisk"
address = "{ami_addr}"
devices = ["10000-{last}"]
username = "load"
secret = "load"
auth = "plain"
"#
        ),
    )?;
    let mut child = tokio::process::Command::new(&args.ctigw)
        .arg("run")
        .arg("--config")
        .arg(&cfg_path)
        .stdout(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", args.ctigw))?;
    let pid = child.id().context("no pid")?;
    // wait for the API
    let t0 = Instant::now();
    while tokio::net::TcpStream::connect(api).await.is_err() {
        anyhow::ensure!(
            t0.elapsed() < Duration::from_secs(20),
            "ctigw did not listen"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss0 = procstat::rss_kib(pid);

    // clients
    let report = Arc::new(clients::Report::default());
    let mut follows = Vec::new();
    for d in devices.iter().take(args.clients) {
        follows.push(clients::Follow::Devices(vec![d.clone()]));
    }
    for _ in 0..args.supervisors {
        follows.push(clients::Follow::Devices(
            devices.iter().take(args.supervised).cloned().collect(),
        ));
    }
    for _ in 0..args.watch_all {
        follows.push(clients::Follow::All);
    }
    let total = follows.len() as u64;
    let t_conn = Instant::now();
    for (i, f) in follows.into_iter().enumerate() {
        tokio::spawn(clients::run(api, f, pbx.clone(), report.clone()));
        if i % 200 == 199 {
            // let the accept queue drain
            while report.ready.load(Ordering::Relaxed) + 50 < i as u64 {
                tokio::time::sleep(Duration::from_millis(5)).await;
                if t_conn.elapsed() > Duration::from_secs(120) {
                    break;
                }
            }
        }
    }
    while report.ready.load(Ordering::Relaxed) < total {
        if t_conn.elapsed() > Duration::from_secs(180) {
            eprintln!(
                "ctigw-load: only {} of {total} clients subscribed",
                report.ready.load(Ordering::Relaxed)
            );
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss1 = procstat::rss_kib(pid);
    println!(
        "ctigw-load: {} clients subscribed in {:.1} s ({} per device, {} watching all, {} supervisors), {n_dev} devices",
        report.ready.load(Ordering::Relaxed),
        t_conn.elapsed().as_secs_f64(),
        args.clients,
        args.watch_all,
        args.supervisors
    );
    println!(
        "ctigw-load: daemon RSS {rss0} KiB before clients, {rss1} KiB with them idle: {:.1} KiB per idle client",
        if total > 0 {
            (rss1 as f64 - rss0 as f64) / total as f64
        } else {
            0.0
        }
    );

    let mut hostile = Vec::new();
    if args.hostile {
        hostile = open_hostile(api, args.hostile_count).await;
        let rss2 = procstat::rss_kib(pid);
        println!(
            "ctigw-load: {} hostile connections open (idle TCP, slowloris heads, unauthenticated upgrades); RSS {rss2} KiB",
            hostile.len()
        );
    }

    println!();
    println!(
        "| events/s asked | events/s written | frames/s read | p50 ms | p99 ms | max ms | dropped | closes | CPU % | peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for &rate in &args.rates {
        report.latencies.lock().unwrap().clear();
        report.seen.store(0, Ordering::Relaxed);
        report.frames.store(0, Ordering::Relaxed);
        pbx.expected.store(0, Ordering::Relaxed);
        let w0 = pbx.written.load(Ordering::Relaxed);
        let cpu0 = procstat::cpu_ticks(pid);
        let t = Instant::now();
        rate_tx.send_replace(rate);
        tokio::time::sleep(Duration::from_secs(args.step_secs)).await;
        rate_tx.send_replace(0);
        let secs = t.elapsed().as_secs_f64();
        let cpu1 = procstat::cpu_ticks(pid);
        let written = pbx.written.load(Ordering::Relaxed) - w0;
        // let the last frames arrive
        let expected = pbx.expected.load(Ordering::Relaxed);
        let t_drain = Instant::now();
        while report.seen.load(Ordering::Relaxed) < expected
            && t_drain.elapsed() < Duration::from_secs(5)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let seen = report.seen.load(Ordering::Relaxed);
        let frames = report.frames.load(Ordering::Relaxed);
        let mut lat = std::mem::take(&mut *report.latencies.lock().unwrap());
        lat.sort_unstable();
        let closes = report.closes.lock().unwrap().clone();
        let dropped = expected.saturating_sub(seen);
        let cpu = procstat::ticks_to_percent(cpu1.saturating_sub(cpu0), secs);
        let peak = procstat::peak_rss_kib(pid) as f64 / 1024.0;
        let p99 = pct(&lat, 0.99);
        let close_text = if closes.is_empty() {
            "none".to_string()
        } else {
            summarise(&closes)
        };
        println!(
            "| {rate} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {dropped} | {close_text} | {cpu:.0} | {peak:.0} |",
            written as f64 / secs,
            frames as f64 / secs,
            pct(&lat, 0.5),
            p99,
            pct(&lat, 1.0),
        );
        pbx.sent.lock().unwrap().clear();
        if !args.keep_going && (p99 > args.p99_ms || dropped > 0 || !closes.is_empty()) {
            println!("ctigw-load: stopped at {rate} events/s (p99, drops or closes)");
            break;
        }
    }
    drop(hostile);
    let _ = child.kill().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn summarise(codes: &[u16]) -> String {
    let mut m = std::collections::BTreeMap::new();
    for c in codes {
        *m.entry(*c).or_insert(0) += 1;
    }
    m.iter()
        .map(|(c, n)| format!("{n}x{c}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Idle TCP connections, slowloris request heads and unauthenticated upgrades, a third each.
async fn open_hostile(api: SocketAddr, n: usize) -> Vec<tokio::net::TcpStream> {
    let mut out = Vec::new();
    for i in 0..n * 3 {
        let Ok(mut s) = tokio::net::TcpStream::connect(api).await else {
            continue;
        };
        match i % 3 {
            0 => {}
            1 => {
                let _ = s.write_all(b"GET /v1/ws HTTP/1.1\r\nHost: x\r\n").await;
            }
            _ => {
                let req = "GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
                let _ = s.write_all(req.as_bytes()).await;
            }
        }
        out.push(s);
    }
    out
}
