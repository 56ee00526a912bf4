//! Engine + fan-out benchmark: adapter events in, through the engine, out as WebSocket frames
//! to N subscribed clients on loopback. Criterion measures throughput (events per second
//! delivered to every client); a latency probe then prints the median and p99 time from an
//! event handed to the engine to its frame read by a client (an upper bound of "frame
//! written").

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ctigw::api::auth::OpenAccess;
use ctigw::api::metrics::ApiMetrics;
use ctigw::api::{self, ApiConfig, AppState};
use ctigw::engine::{self, Engine, EngineConfig, FanoutConfig};
use ctigw::model::*;
use ctigw::pbx::contract::LinkSink;
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

const DEVICES: usize = 50;

struct Setup {
    sink: LinkSink,
    /// Per client: the highest seq received.
    received: Vec<Arc<AtomicU64>>,
    /// Receive instants of probe events, by seq (latency run only).
    probes: Arc<std::sync::Mutex<Vec<(u64, Instant)>>>,
    /// Inputs sent so far: the event generator's index.
    sent: AtomicU64,
    engine: ctigw::engine::EngineHandle,
    /// Woken whenever a client records a frame.
    progress: Arc<tokio::sync::Notify>,
}

async fn setup(clients: usize) -> Setup {
    let mut engine = Engine::new(EngineConfig::default());
    let link = LinkId::new("bench");
    let devices: Vec<(DeviceId, Option<String>)> = (0..DEVICES)
        .map(|i| (DeviceId::new(&format!("{}", 24000 + i)), None))
        .collect();
    engine.add_link(link.clone(), "bench", &devices);
    let (tx, rx) = mpsc::channel(16);
    std::mem::forget(rx);
    let fanout = FanoutConfig {
        client_queue: 65_536,
        replay_buffer: 8192,
        input_queue: 65_536,
        ..FanoutConfig::default()
    };
    let (handle, _) = engine::spawn(engine, HashMap::from([(link.clone(), tx)]), fanout);
    let sink = handle.link_sink(link);
    sink.send(PbxEvent::Link(LinkState::Up)).await;
    for (d, _) in &devices {
        sink.send(PbxEvent::Monitor {
            device: d.clone(),
            result: Ok(()),
        })
        .await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let state = AppState {
        engine: handle.clone(),
        auth: Arc::new(OpenAccess),
        metrics: Arc::new(ApiMetrics::default()),
        cfg: Arc::new(ApiConfig::default()),
    };
    tokio::spawn(api::serve(listener, state, std::future::pending()));
    let probes = Arc::new(std::sync::Mutex::new(Vec::new()));
    let progress = Arc::new(tokio::sync::Notify::new());
    let mut received = Vec::new();
    for c in 0..clients {
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/v1/ws"))
            .await
            .unwrap();
        ws.next().await.unwrap().unwrap();
        ws.send(Message::Text(
            r#"{"op":"subscribe","id":1,"devices":"*"}"#.into(),
        ))
        .await
        .unwrap();
        ws.next().await.unwrap().unwrap();
        let last = Arc::new(AtomicU64::new(0));
        received.push(last.clone());
        let probes = probes.clone();
        let progress = progress.clone();
        tokio::spawn(async move {
            while let Some(Ok(m)) = ws.next().await {
                if let Message::Text(t) = m {
                    // cheap seq extraction: frames start {"type":"event","seq":N,
                    let s = t.as_str();
                    if let Some(rest) = s.strip_prefix(r#"{"type":"event","seq":"#) {
                        let n: u64 = rest
                            .split(',')
                            .next()
                            .and_then(|x| x.parse().ok())
                            .unwrap_or(0);
                        last.store(n, Ordering::Release);
                        if c == 0 && s.contains("\"probe\"") {
                            probes.lock().unwrap().push((n, Instant::now()));
                        }
                        progress.notify_waiters();
                    }
                }
            }
        });
    }
    Setup {
        sink,
        received,
        probes,
        sent: AtomicU64::new(0),
        engine: handle,
        progress,
    }
}

/// One realistic event of a stream where every device takes calls in turn: each call rings
/// (delivered), is answered (established) and ends (connection cleared), three events per call
/// and at most one live call per device.
fn event(i: u64, cause: &str) -> PbxEvent {
    let n = DEVICES as u64;
    let dev = format!("{}", 24000 + i % n);
    let call = format!("{}-{}", i % n, i / (3 * n));
    let ev = match (i / n) % 3 {
        0 => CallEvent::new(&call, CallEventKind::Delivered)
            .with(&dev, ConnectionState::Alerting)
            .with("00612345678", ConnectionState::Connected)
            .parties(Some("00612345678"), Some(&dev)),
        1 => {
            CallEvent::new(&call, CallEventKind::Established).with(&dev, ConnectionState::Connected)
        }
        _ => CallEvent::new(&call, CallEventKind::ConnectionCleared)
            .with(&dev, ConnectionState::Null),
    };
    PbxEvent::Call(ev.cause(cause))
}

/// Waits, without spinning, until `done` holds.
async fn wait_until(s: &Setup, done: impl Fn() -> bool) {
    loop {
        let n = s.progress.notified();
        tokio::pin!(n);
        n.as_mut().enable();
        if done() {
            return;
        }
        let _ = tokio::time::timeout(Duration::from_millis(50), n).await;
    }
}

async fn wait_all(s: &Setup, target: u64) {
    wait_until(s, || {
        s.received
            .iter()
            .all(|r| r.load(Ordering::Acquire) >= target)
    })
    .await;
}

fn fanout(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("engine_fanout");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(1));
    const BATCH: u64 = 2000;
    for clients in [1usize, 10, 100] {
        let s = rt.block_on(setup(clients));
        group.throughput(Throughput::Elements(BATCH));
        group.bench_with_input(
            BenchmarkId::new("events_to_clients", clients),
            &clients,
            |b, _| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            let base = s.sent.fetch_add(BATCH, Ordering::Relaxed);
                            for i in 0..BATCH {
                                s.sink.send(event(base + i, "normal")).await;
                            }
                            // the engine's seq once it has taken the batch; every client must get there
                            let target = s.engine.status().await.unwrap().seq;
                            wait_all(&s, target).await;
                        }
                        start.elapsed()
                    })
                })
            },
        );
        // latency probe: one event at a time, at a modest rate, as in a live contact centre
        rt.block_on(async {
            let mut lat = Vec::new();
            for _ in 0..500u64 {
                s.probes.lock().unwrap().clear();
                let i = s.sent.fetch_add(1, Ordering::Relaxed);
                let t0 = Instant::now();
                s.sink.send(event(i, "probe")).await;
                wait_until(&s, || !s.probes.lock().unwrap().is_empty() || t0.elapsed() > Duration::from_secs(5)).await;
                let got = s.probes.lock().unwrap().first().map(|(_, t)| *t).expect("probe delivered");
                lat.push(got.duration_since(t0));
                // let every client drain before the next probe
                let target = s.engine.status().await.unwrap().seq;
                wait_all(&s, target).await;
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            lat.sort();
            let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize];
            eprintln!("engine_fanout latency, {clients} client(s): median {:?}, p99 {:?}, max {:?} (event in → frame read by client 0)", p(0.5), p(0.99), lat[lat.len() - 1]);
        });
    }
    group.finish();
}

/// The engine state machine alone: apply an event, number it, serialise its frame once.
fn engine_core(c: &mut Criterion) {
    let mut engine = Engine::new(EngineConfig::default());
    let link = LinkId::new("bench");
    let devices: Vec<(DeviceId, Option<String>)> = (0..DEVICES)
        .map(|i| (DeviceId::new(&format!("{}", 24000 + i)), None))
        .collect();
    engine.add_link(link.clone(), "bench", &devices);
    let now = Instant::now();
    engine.on_pbx_event(&link, PbxEvent::Link(LinkState::Up), now);
    for (d, _) in &devices {
        engine.on_pbx_event(
            &link,
            PbxEvent::Monitor {
                device: d.clone(),
                result: Ok(()),
            },
            now,
        );
    }
    engine.drain().for_each(drop);
    let mut i = 0u64;
    let mut group = c.benchmark_group("engine_core");
    group.throughput(Throughput::Elements(1));
    group.bench_function("apply_and_serialise", |b| {
        b.iter(|| {
            i += 1;
            engine.on_pbx_event(&link, event(i, "normal"), now);
            for o in engine.drain() {
                if let engine::Output::Event(e) = o {
                    std::hint::black_box(serde_json::to_vec(&*e).unwrap());
                }
            }
        })
    });
    group.finish();
}

criterion_group!(benches, engine_core, fanout);
criterion_main!(benches);
