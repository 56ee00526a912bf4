//! The OXE/OXO link task: a thin tokio loop around the sans-IO [`Session`]. It opens and
//! closes the TCP connection when the session asks, moves the bytes read, the engine's
//! requests and the time in, and the bytes to write and the model events out. Every
//! protocol decision (association, monitors, resync, invokes, keep-alives, reconnect
//! backoff) is the session's.

use super::Session;
use super::options::Options;
use super::session::Action;
use crate::model::DeviceId;
use crate::pbx::contract::{AdapterRequest, LinkSink};
use bytes::BytesMut;
use ctigw_codecs::csta_ber::FrameError;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

pub use super::error::LinkError;

/// What one OXE/OXO link needs.
#[derive(Debug, Clone)]
pub struct LinkSettings {
    /// `host:port` of the PBX's CSTA server (port 2555 on OXE).
    pub address: String,
    pub devices: Vec<DeviceId>,
    pub options: Options,
}

fn now() -> std::time::Instant {
    Instant::now().into_std()
}

/// Runs one OXE/OXO link until the engine goes away.
pub async fn run(
    sink: LinkSink,
    settings: LinkSettings,
    mut requests: mpsc::Receiver<AdapterRequest>,
) {
    let mut session = Session::new(settings);
    let mut stream: Option<TcpStream> = None;
    let mut buf = BytesMut::with_capacity(8192);
    loop {
        while let Some(ev) = session.poll_event() {
            if !sink.send(ev).await {
                return;
            }
        }
        while let Some(bytes) = session.poll_transmit() {
            let Some(s) = stream.as_mut() else { continue };
            if let Err(e) = s.write_all(&bytes).await {
                stream = None;
                session.handle_closed(now(), LinkError::Framing(FrameError::Io(e)));
            }
        }
        if let Some(action) = session.poll_action() {
            match action {
                Action::Connect { address, timeout } => {
                    stream = None;
                    match tokio::time::timeout(timeout, TcpStream::connect(&address)).await {
                        Err(_) => session
                            .handle_closed(now(), LinkError::ConnectTimeout { address, timeout }),
                        Ok(Err(source)) => {
                            session.handle_closed(now(), LinkError::Connect { address, source })
                        }
                        Ok(Ok(s)) => {
                            let _ = s.set_nodelay(true);
                            stream = Some(s);
                            buf.clear();
                            session.handle_connected(now());
                        }
                    }
                }
                Action::Close => stream = None,
            }
            // what the action produced goes out before anything new comes in
            continue;
        }
        let deadline = session.poll_timeout().map(Instant::from_std);
        tokio::select! {
            r = async { stream.as_mut()?.read_buf(&mut buf).await.into() }, if stream.is_some() => {
                let r: Option<std::io::Result<usize>> = r;
                match r {
                    None | Some(Ok(0)) => {
                        stream = None;
                        session.handle_closed(now(), LinkError::Closed);
                    }
                    Some(Err(e)) => {
                        stream = None;
                        session.handle_closed(now(), LinkError::Framing(FrameError::Io(e)));
                    }
                    Some(Ok(_)) => {
                        session.handle_bytes(now(), &buf);
                        buf.clear();
                    }
                }
            }
            r = requests.recv() => match r {
                None => return,
                Some(r) => session.handle_request(now(), r),
            },
            _ = async { tokio::time::sleep_until(deadline?).await; Some(()) }, if deadline.is_some() => {
                session.handle_timeout(now());
            }
        }
    }
}
