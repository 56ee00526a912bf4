//! The link task of one Asterisk link: a thin tokio loop that opens and drops the TCP
//! connection when the [`Session`] asks, moves bytes, engine requests and the time into it, and
//! its events to the engine. Everything that decides lives in the session.
//!
//! The socket is read by its own task into an unbounded queue, so Asterisk never sees a slow
//! reader (it drops clients that do not read within `writetimeout`), whatever the engine does.

use super::error::LinkError;
use super::options::Options;
use super::session::{LinkAction, Session};
use crate::model::DeviceId;
use crate::pbx::backoff::Backoff;
use crate::pbx::contract::{AdapterRequest, LinkSink};
use bytes::Bytes;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What the reader task hands over.
enum Read {
    Bytes(Bytes),
    Closed(String),
}

/// The open connection: its write half and its reader task.
struct Conn {
    writer: OwnedWriteHalf,
    reads: mpsc::UnboundedReceiver<Read>,
    reader: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

async fn connect(address: &str, timeout: Duration) -> Result<Conn, LinkError> {
    let stream = match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
        Err(_) => {
            return Err(LinkError::ConnectTimeout {
                address: address.into(),
                secs: timeout.as_secs(),
            });
        }
        Ok(Err(e)) => {
            return Err(LinkError::Connect {
                address: address.into(),
                reason: e.to_string(),
            });
        }
        Ok(Ok(s)) => s,
    };
    let _ = stream.set_nodelay(true);
    let (mut rd, writer) = stream.into_split();
    let (tx, reads) = mpsc::unbounded_channel();
    let span = tracing::Span::current();
    let reader = tokio::spawn(tracing::Instrument::instrument(
        async move {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match rd.read(&mut buf).await {
                    Ok(0) => {
                        let _ = tx.send(Read::Closed("end of stream".into()));
                        return;
                    }
                    Ok(n) => {
                        if tx
                            .send(Read::Bytes(Bytes::copy_from_slice(&buf[..n])))
                            .is_err()
                        {
                            return;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Read::Closed(e.to_string()));
                        return;
                    }
                }
            }
        },
        span,
    ));
    Ok(Conn {
        writer,
        reads,
        reader,
    })
}

/// Runs the link until the engine stops: connects, logs in, resynchronises, keeps alive and
/// reconnects with backoff as the session decides; while down, every command is answered
/// `link_down` at once.
pub async fn run(
    address: String,
    devices: Vec<DeviceId>,
    opts: Options,
    sink: LinkSink,
    mut requests: mpsc::Receiver<AdapterRequest>,
) {
    let backoff = Backoff::new(opts.reconnect_min, opts.reconnect_max);
    let prefix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut s = Session::new(&address, devices, opts, backoff, prefix);
    let mut conn: Option<Conn> = None;
    loop {
        // drain what the session wants done, until it has nothing more
        loop {
            let mut busy = false;
            while let Some(a) = s.poll_action() {
                busy = true;
                match a {
                    LinkAction::Close => conn = None,
                    LinkAction::Connect => match connect(&address, s.connect_timeout()).await {
                        Ok(c) => {
                            conn = Some(c);
                            s.handle_connected(Instant::now());
                        }
                        Err(e) => s.handle_closed(Instant::now(), e),
                    },
                }
            }
            while let Some(ev) = s.poll_event() {
                busy = true;
                if !sink.send(ev).await {
                    return;
                }
            }
            while let Some(bytes) = s.poll_transmit() {
                busy = true;
                if let Some(c) = conn.as_mut()
                    && let Err(e) = c.writer.write_all(&bytes).await
                {
                    let why = LinkError::Closed(format!("write failed: {e}"));
                    s.handle_closed(Instant::now(), why);
                }
            }
            if !busy {
                break;
            }
        }
        let deadline = s.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            read = async {
                match conn.as_mut() {
                    Some(c) => c.reads.recv().await,
                    None => std::future::pending().await,
                }
            } => match read {
                Some(Read::Bytes(b)) => s.handle_bytes(Instant::now(), &b),
                Some(Read::Closed(r)) => s.handle_closed(Instant::now(), LinkError::Closed(r)),
                None => s.handle_closed(Instant::now(), LinkError::Closed("reader stopped".into())),
            },
            req = requests.recv() => match req {
                Some(r) => s.handle_request(Instant::now(), r),
                None => return,
            },
            _ = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            } => s.handle_timeout(Instant::now()),
        }
    }
}
