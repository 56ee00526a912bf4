//! What `ctigw demo` adds to the pages: the host page that plays Dynamics 365 (`/demo/crm.html`,
//! an in-memory contact table and the `Microsoft.CIFramework` contract, for newcomers and the
//! browser tests), a tap that decodes every CSTA PDU the gateway writes to the simulated OXE
//! (`GET /demo/wire`: the wire evidence the browser tests check; `GET /demo/calls`: the
//! switch's own view), and hooks that play the
//! outside world on the simulated switch. The host page's CIF library stand-in is served where
//! Dynamics serves the real one, `/webresources/Widget/msdyn_ciLibrary.js`. The hooks play the
//! outside world on the simulated switch (`POST /demo/call`, `/demo/answer`, `/demo/hangup`).
//! None of it exists outside the demo: the hooks answer 404 until [`install`] is called.

use crate::sim::oxe::{Control, SimOxe};
use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::BytesMut;
use ctigw_codecs::csta_ber::CstaCodec;
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Decoder;

/// Most PDUs the wire log keeps (the oldest go first).
const WIRE_LOG_MAX: usize = 4000;

/// The PDUs the gateway wrote to the PBX, decoded, oldest first.
#[derive(Clone, Default)]
pub struct WireLog(Arc<Mutex<Vec<Value>>>);

impl WireLog {
    fn push(&self, pdu: Value) {
        let mut log = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if log.len() >= WIRE_LOG_MAX {
            log.remove(0);
        }
        log.push(pdu);
    }

    fn all(&self) -> Vec<Value> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Listens on loopback and relays each connection to `pbx`, decoding what the gateway sends
/// with the CSTA codec into the returned log. Point the gateway's link at the returned address.
pub async fn wire_tap(pbx: SocketAddr) -> std::io::Result<(SocketAddr, WireLog)> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    let log = WireLog::default();
    let out = log.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                match TcpStream::connect(pbx).await {
                    Ok(server) => relay(client, server, log).await,
                    Err(e) => tracing::warn!(%pbx, "demo wire tap: cannot reach the PBX: {e}"),
                }
            });
        }
    });
    Ok((addr, out))
}

async fn relay(client: TcpStream, server: TcpStream, log: WireLog) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let down = tokio::spawn(async move { tokio::io::copy(&mut sr, &mut cw).await });
    let mut codec = CstaCodec::server();
    let mut pending = BytesMut::new();
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match cr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if sw.write_all(&buf[..n]).await.is_err() {
            break;
        }
        pending.extend_from_slice(&buf[..n]);
        loop {
            match codec.decode(&mut pending) {
                Ok(Some(Ok(pdu))) => {
                    let v = serde_json::to_value(&pdu).unwrap_or(Value::Null);
                    tracing::debug!(pdu = %v, "demo wire tap: gateway -> PBX");
                    log.push(v);
                }
                Ok(Some(Err(e))) => log.push(json!({"error": e.to_string()})),
                Ok(None) => break,
                Err(e) => {
                    // framing lost: keep relaying, stop decoding this connection
                    log.push(json!({"error": format!("framing lost: {e}")}));
                    pending.clear();
                    codec = CstaCodec::server();
                    break;
                }
            }
        }
    }
    let _ = sw.shutdown().await;
    down.abort();
}

struct Demo {
    sim: SimOxe,
    wire: WireLog,
}

static DEMO: OnceLock<Demo> = OnceLock::new();

/// Turns the demo hooks on, for the simulated OXE `sim` whose wire `wire` records.
pub fn install(sim: SimOxe, wire: WireLog) {
    let _ = DEMO.set(Demo { sim, wire });
}

pub(crate) fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/demo/", get(|| async { host_file("crm.html") }))
        .route("/demo/crm.html", get(|| async { host_file("crm.html") }))
        .route("/demo/crm.js", get(|| async { host_file("crm.js") }))
        .route(
            "/webresources/Widget/msdyn_ciLibrary.js",
            get(|| async { host_file("msdyn_ciLibrary.js") }),
        )
        .route("/demo/wire", get(wire))
        .route("/demo/calls", get(calls))
        .route("/demo/call", post(call))
        .route("/demo/answer", post(answer))
        .route("/demo/hangup", post(hangup))
}

fn not_demo() -> Response {
    (StatusCode::NOT_FOUND, "only in ctigw demo\n").into_response()
}

fn host_file(name: &str) -> Response {
    if !super::page_config().demo {
        return not_demo();
    }
    super::asset_response(name)
}

async fn wire() -> Response {
    match DEMO.get() {
        Some(d) => axum::Json(d.wire.all()).into_response(),
        None => not_demo(),
    }
}

/// The calls on the simulated switch: `[[callId, [[device, state], ...]], ...]`.
async fn calls() -> Response {
    match DEMO.get() {
        Some(d) => axum::Json(d.sim.calls().await).into_response(),
        None => not_demo(),
    }
}

#[derive(Deserialize)]
struct CallBody {
    from: String,
    to: String,
}

#[derive(Deserialize)]
struct DeviceBody {
    device: String,
}

/// An outside caller (or any number) dials `to` on the simulated switch.
async fn call(axum::Json(b): axum::Json<CallBody>) -> Response {
    let Some(d) = DEMO.get() else {
        return not_demo();
    };
    tracing::info!(from = %b.from, to = %b.to, "demo: simulated call");
    d.sim
        .control(Control::Act(Box::new(move |sw| {
            sw.originate(&b.from, &b.to);
        })))
        .await;
    axum::Json(json!({"ok": true})).into_response()
}

/// The first call in which `device` rings is answered by that party.
async fn answer(axum::Json(b): axum::Json<DeviceBody>) -> Response {
    act_on(b.device, &["alerting"], |sw, id, dev| {
        let _ = sw.answer(id, dev);
    })
    .await
}

/// `device` leaves its calls (an outside party hanging up).
async fn hangup(axum::Json(b): axum::Json<DeviceBody>) -> Response {
    act_on(
        b.device,
        &["alerting", "connected", "hold", "initiated", "queued"],
        |sw, id, dev| {
            let _ = sw.clear(id, dev);
        },
    )
    .await
}

async fn act_on(
    device: String,
    states: &'static [&'static str],
    f: fn(&mut crate::sim::oxe::Switch, u16, &str),
) -> Response {
    let Some(d) = DEMO.get() else {
        return not_demo();
    };
    let calls = d.sim.calls().await;
    let ids: Vec<u16> = calls
        .iter()
        .filter(|(_, parties)| {
            parties
                .iter()
                .any(|(dev, st)| *dev == device && states.iter().any(|s| st.starts_with(s)))
        })
        .filter_map(|(id, _)| u16::from_str_radix(id, 16).ok())
        .collect();
    if ids.is_empty() {
        return (
            StatusCode::CONFLICT,
            axum::Json(json!({"ok": false, "error": format!("{device} is in no such call")})),
        )
            .into_response();
    }
    tracing::info!(device = %device, calls = ?ids, "demo: simulated party acts");
    d.sim
        .control(Control::Act(Box::new(move |sw| {
            for id in ids {
                f(sw, id, &device);
            }
        })))
        .await;
    axum::Json(json!({"ok": true})).into_response()
}
