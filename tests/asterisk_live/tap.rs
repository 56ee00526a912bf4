//! The test's own AMI connection to the live Asterisk: logs in, waits for `FullyBooted`, sends
//! actions (Originate, Hangup, QueuePause) and waits for their responses, and keeps every byte
//! Asterisk sent (the raw stream recorded as a fixture) and every event it decoded (to check
//! what really happened on the PBX, e.g. the DTMF a command played).

use bytes::BytesMut;
use ctigw_codecs::ami::{Action, AmiCodec, Message};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio_util::codec::Decoder;

/// Event classes the tap asks for: the gateway's (`call,agent`) plus DTMF and system events.
const EVENTS: &str = "call,agent,dtmf,system";

pub struct Tap {
    writer: OwnedWriteHalf,
    rx: mpsc::UnboundedReceiver<Message>,
    /// Every event received, in order.
    pub events: Vec<Message>,
    next_id: u32,
}

impl Tap {
    /// Connects (retrying while Asterisk starts), logs in and waits for `FullyBooted`. Every
    /// byte received is appended to `raw`.
    pub async fn connect(port: u16, user: &str, secret: &str, raw: Arc<Mutex<Vec<u8>>>) -> Tap {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let stream = loop {
            match TcpStream::connect(("127.0.0.1", port)).await {
                Ok(s) => break s,
                Err(e) if tokio::time::Instant::now() > deadline => {
                    panic!("AMI on port {port} did not open within 60 s: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        let (mut reader, writer) = stream.into_split();
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut codec = AmiCodec::client();
            let mut buf = BytesMut::with_capacity(64 * 1024);
            loop {
                let before = buf.len();
                match reader.read_buf(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                raw.lock()
                    .expect("raw buffer")
                    .extend_from_slice(&buf[before..]);
                while let Ok(Some(item)) = codec.decode(&mut buf) {
                    if let Ok(m) = item
                        && tx.send(m).is_err()
                    {
                        return;
                    }
                }
            }
        });
        let mut tap = Tap {
            writer,
            rx,
            events: Vec::new(),
            next_id: 0,
        };
        let r = tap
            .action(
                Action::new("Login")
                    .field("Username", user)
                    .field("Secret", secret)
                    .field("Events", EVENTS),
            )
            .await;
        assert!(r.is_success(), "AMI login refused: {r:?}");
        tap.event(|m| m.event() == Some("FullyBooted"), 60).await;
        tap
    }

    /// Sends an action and returns its response (events meanwhile are kept).
    pub async fn action(&mut self, action: Action) -> Message {
        self.next_id += 1;
        let id = format!("tap-{}", self.next_id);
        let mut buf = BytesMut::new();
        action
            .id(id.clone())
            .encode(&mut buf)
            .expect("encode an action");
        self.writer.write_all(&buf).await.expect("write to AMI");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let m = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no AMI response to {id}"))
                .expect("AMI connection closed");
            if m.is_response() && m.action_id() == Some(id.as_str()) {
                return m;
            }
            if m.is_event() {
                self.events.push(m);
            }
        }
    }

    /// Waits up to `secs` for an event matching `pred` (looking at those already received first
    /// is the caller's business: this only looks at new ones).
    pub async fn event(&mut self, pred: impl Fn(&Message) -> bool, secs: u64) -> Message {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let m = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| panic!("no matching AMI event within {secs} s"))
                .expect("AMI connection closed");
            if m.is_event() {
                self.events.push(m.clone());
                if pred(&m) {
                    return m;
                }
            }
        }
    }

    /// Returns the first event from index `from` on (already received or not) matching `pred`,
    /// waiting up to `secs` for it.
    pub async fn saw(
        &mut self,
        from: usize,
        pred: impl Fn(&Message) -> bool,
        secs: u64,
    ) -> Message {
        self.drain();
        if let Some(m) = self.events[from..].iter().find(|m| pred(m)) {
            return m.clone();
        }
        self.event(pred, secs).await
    }

    /// Takes in what arrived without waiting.
    pub fn drain(&mut self) {
        while let Ok(m) = self.rx.try_recv() {
            if m.is_event() {
                self.events.push(m);
            }
        }
    }

    /// A phone call placed the way a user's phone would: `Local/<from>@phones` rings its
    /// handset, which answers after a second, then the call to `to` is dialled in `internal`.
    pub async fn originate(&mut self, from: &str, name: &str, to: &str) {
        let r = self
            .action(
                Action::new("Originate")
                    .field("Channel", format!("Local/{from}@phones"))
                    .field("Context", "internal")
                    .field("Exten", to)
                    .field("Priority", "1")
                    .field("CallerID", format!("\"{name}\" <{from}>"))
                    .field("Timeout", "30000")
                    .field("Async", "true"),
            )
            .await;
        assert!(r.is_success(), "Originate refused: {r:?}");
    }

    /// Hangs up every channel whose name matches the regular expression (as AMI takes it).
    pub async fn hangup_matching(&mut self, regex: &str) {
        // "no such channel" is fine: it may be gone already
        let _ = self
            .action(Action::new("Hangup").field("Channel", format!("/{regex}/")))
            .await;
    }
}
