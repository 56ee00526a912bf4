//! The simulated OXE's outside world for the demo pages: a tap between the gateway and the
//! switch that decodes every CSTA PDU the gateway writes (the wire evidence the browser tests
//! check), and the switch hooks that play an outside caller and the simulated parties.

use super::{Control, SimOxe, Switch};
use crate::pbx::contract::BoxFuture;
use crate::sim::world::{DemoWorld, SwitchCalls};
use bytes::BytesMut;
use ctigw_codecs::csta_ber::CstaCodec;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::Decoder;

/// Most PDUs the wire log keeps (the oldest go first).
const WIRE_LOG_MAX: usize = 4000;

/// The PDUs the gateway wrote to the PBX, decoded, oldest first.
#[derive(Clone, Default)]
pub(crate) struct WireLog(Arc<Mutex<Vec<Value>>>);

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
pub(crate) async fn wire_tap(pbx: SocketAddr) -> std::io::Result<(SocketAddr, WireLog)> {
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

/// The simulated OXE and the log of its tap.
pub(crate) struct OxeWorld {
    pub(crate) sim: SimOxe,
    pub(crate) wire: WireLog,
}

impl OxeWorld {
    /// Runs `f` on every call of the switch in which `device` is in one of `states`.
    async fn act_on(
        &self,
        device: String,
        states: &'static [&'static str],
        f: fn(&mut Switch, u16, &str),
    ) -> Result<(), String> {
        let calls = self.sim.calls().await;
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
            return Err(format!("{device} is in no such call"));
        }
        tracing::info!(device = %device, calls = ?ids, "demo: simulated party acts");
        self.sim
            .control(Control::Act(Box::new(move |sw| {
                for id in ids {
                    f(sw, id, &device);
                }
            })))
            .await;
        Ok(())
    }
}

impl DemoWorld for OxeWorld {
    fn call(&self, from: String, to: String) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            tracing::info!(from = %from, to = %to, "demo: simulated call");
            self.sim
                .control(Control::Act(Box::new(move |sw| {
                    sw.originate(&from, &to);
                })))
                .await;
        })
    }

    fn answer(&self, device: String) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(self.act_on(device, &["alerting"], |sw, id, dev| {
            let _ = sw.answer(id, dev);
        }))
    }

    fn hangup(&self, device: String) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(self.act_on(
            device,
            &["alerting", "connected", "hold", "initiated", "queued"],
            |sw, id, dev| {
                let _ = sw.clear(id, dev);
            },
        ))
    }

    fn calls(&self) -> BoxFuture<'_, SwitchCalls> {
        Box::pin(self.sim.calls())
    }

    fn wire(&self) -> Vec<Value> {
        self.wire.all()
    }
}
