//! The harness's PBX: a minimal AMI server on loopback speaking `ctigw_codecs::ami`. It
//! logs the gateway in, answers the actions it sends at start-up (empty channel and device
//! lists), then writes call events at the rate it is told, remembering when each was written
//! so the clients can measure the latency to the frame they read.

use bytes::BytesMut;
use ctigw_codecs::ami::{AmiCodec, Message};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::codec::Framed;

/// A written PBX event: its call and phase (0 the call appears, 1 it is cleared).
pub type Key = (u64, u8);

/// What the PBX side shares with the clients.
pub struct Pbx {
    /// When each event was written.
    pub sent: Mutex<HashMap<Key, Instant>>,
    /// Events written so far.
    pub written: AtomicU64,
    /// Frames the clients should have read for them (each event once per client following
    /// its device).
    pub expected: AtomicU64,
    /// How many clients follow each device (by index).
    pub followers: Vec<u64>,
}

/// Events per second to write (0: pause).
pub type Rate = watch::Receiver<u64>;

/// Serves one gateway connection at a time on `listener`, writing events on `devices` in
/// turn at the rate `rate` says.
pub async fn serve(listener: TcpListener, devices: Vec<String>, pbx: Arc<Pbx>, rate: Rate) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        if let Err(e) = session(stream, &devices, &pbx, rate.clone()).await {
            eprintln!("ctigw-load: AMI session ended: {e}");
        }
    }
}

fn reply(m: &Message, text: &str) -> Message {
    let mut r = Message::new()
        .with("Response", "Success")
        .with("Message", text);
    if let Some(id) = m.get("ActionID") {
        r.push("ActionID", id);
    }
    r
}

fn answers(m: &Message) -> Vec<Message> {
    let action = m.action().unwrap_or("").to_ascii_lowercase();
    let id = m.get("ActionID").unwrap_or("");
    match action.as_str() {
        "login" => vec![
            reply(m, "Authentication accepted"),
            Message::new()
                .with("Event", "FullyBooted")
                .with("Privilege", "system,all")
                .with("Status", "Fully Booted"),
        ],
        "ping" => vec![reply(m, "").with("Ping", "Pong")],
        "coreshowchannels" => vec![
            reply(m, "Channels will follow").with("EventList", "start"),
            Message::new()
                .with("Event", "CoreShowChannelsComplete")
                .with("ActionID", id)
                .with("EventList", "Complete")
                .with("ListItems", "0"),
        ],
        "devicestatelist" => vec![
            reply(m, "Device State Changes will follow").with("EventList", "start"),
            Message::new()
                .with("Event", "DeviceStateListComplete")
                .with("ActionID", id)
                .with("EventList", "Complete")
                .with("ListItems", "0"),
        ],
        _ => vec![reply(m, "ok")],
    }
}

fn channel_event(name: &str, dev: &str, call: u64, state: &str, desc: &str) -> Message {
    let uid = format!("1800000000.{call}");
    Message::new()
        .with("Event", name)
        .with("Privilege", "call,all")
        .with("Channel", &format!("PJSIP/{dev}-{call:08x}"))
        .with("ChannelState", state)
        .with("ChannelStateDesc", desc)
        .with("CallerIDNum", dev)
        .with("CallerIDName", "load")
        .with("ConnectedLineNum", "<unknown>")
        .with("ConnectedLineName", "<unknown>")
        .with("Language", "en")
        .with("AccountCode", "")
        .with("Context", "from-internal")
        .with("Exten", "0612345678")
        .with("Priority", "1")
        .with("Uniqueid", &uid)
        .with("Linkedid", &uid)
}

async fn session(
    stream: tokio::net::TcpStream,
    devices: &[String],
    pbx: &Pbx,
    mut rate: Rate,
) -> anyhow::Result<()> {
    let mut framed = Framed::new(stream, AmiCodec::server());
    let mut banner = BytesMut::new();
    AmiCodec::encode_banner("9.0.0", &mut banner)?;
    tokio::io::AsyncWriteExt::write_all(framed.get_mut(), &banner).await?;
    // calls open per device: device index -> call number
    let mut open: Vec<Option<u64>> = vec![None; devices.len()];
    let mut next_call = 1u64;
    let mut next_dev = 0usize;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut started = Instant::now();
    let mut done = 0u64;
    let mut current = *rate.borrow();
    loop {
        tokio::select! {
            m = framed.next() => match m {
                None => return Ok(()),
                Some(Err(e)) => return Err(e.into()),
                Some(Ok(Err(_))) => {}
                Some(Ok(Ok(m))) => {
                    for r in answers(&m) {
                        framed.feed(r).await?;
                    }
                    SinkExt::<Message>::flush(&mut framed).await?;
                }
            },
            r = rate.changed() => {
                if r.is_err() {
                    return Ok(());
                }
                current = *rate.borrow();
                started = Instant::now();
                done = 0;
            }
            _ = tick.tick(), if current > 0 && !devices.is_empty() => {
                let due = (started.elapsed().as_secs_f64() * current as f64) as u64;
                let mut batch = 0;
                while done < due && batch < 10_000 {
                    let i = next_dev;
                    next_dev = (next_dev + 1) % devices.len();
                    let dev = &devices[i];
                    let (msg, key) = match open[i].take() {
                        None => {
                            let c = next_call;
                            next_call += 1;
                            open[i] = Some(c);
                            (channel_event("Newchannel", dev, c, "4", "Ring"), (c, 0))
                        }
                        Some(c) => {
                            let mut m = channel_event("Hangup", dev, c, "6", "Up");
                            m.push("Cause", "16");
                            m.push("Cause-txt", "Normal Clearing");
                            (m, (c, 1))
                        }
                    };
                    if let Ok(mut s) = pbx.sent.lock() {
                        s.insert(key, Instant::now());
                    }
                    framed.feed(msg).await?;
                    pbx.expected.fetch_add(pbx.followers[i], Ordering::Relaxed);
                    done += 1;
                    batch += 1;
                }
                if batch > 0 {
                    SinkExt::<Message>::flush(&mut framed).await?;
                    pbx.written.fetch_add(batch, Ordering::Relaxed);
                }
            }
        }
    }
}
