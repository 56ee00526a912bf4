//! What the API side admits: caps on connections (total, per address, WebSocket sessions not
//! yet authenticated), a deadline for a new connection's first request head, and a command
//! rate per user. The listener here wraps the TCP listener so a refused connection costs
//! nothing but its accept.

use axum::serve::Listener;
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// The limits (from `[limits]` in the configuration).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open TCP connections at once.
    pub max_connections: usize,
    /// Open TCP connections from one IP address.
    pub max_connections_per_address: usize,
    /// WebSocket sessions that have not authenticated yet.
    pub max_unauthenticated: usize,
    /// Time a new connection has to send a complete request head.
    pub request_head_timeout: Duration,
    /// Commands per second per user (sustained), and the burst allowed above it.
    pub commands_per_second: f64,
    pub command_burst: f64,
    /// Largest client message before authentication.
    pub max_unauthenticated_message: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 20_000,
            max_connections_per_address: 20_000,
            max_unauthenticated: 1_000,
            request_head_timeout: Duration::from_secs(10),
            commands_per_second: 20.0,
            command_burst: 40.0,
            max_unauthenticated_message: 4096,
        }
    }
}

#[derive(Default)]
struct Counts {
    per_address: HashMap<IpAddr, usize>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Shared admission state: connection counts and per-user command buckets.
#[derive(Default)]
pub struct Admission {
    open: AtomicUsize,
    unauthenticated: AtomicUsize,
    counts: Mutex<Counts>,
    buckets: Mutex<HashMap<String, Bucket>>,
    refused: AtomicUsize,
}

impl std::fmt::Debug for Admission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Admission")
            .field("open", &self.open())
            .field("refused", &self.refused())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Admission {
    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Connections and sessions refused by a cap so far.
    pub fn refused(&self) -> usize {
        self.refused.load(Ordering::Relaxed)
    }

    fn admit(self: &Arc<Self>, limits: &Limits, ip: IpAddr) -> Option<ConnPermit> {
        if self.open.fetch_add(1, Ordering::AcqRel) >= limits.max_connections {
            self.open.fetch_sub(1, Ordering::AcqRel);
            self.refused.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        let mut c = lock(&self.counts);
        let n = c.per_address.entry(ip).or_default();
        if *n >= limits.max_connections_per_address {
            drop(c);
            self.open.fetch_sub(1, Ordering::AcqRel);
            self.refused.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *n += 1;
        Some(ConnPermit {
            adm: self.clone(),
            ip,
        })
    }

    /// A place among the unauthenticated WebSocket sessions, if one is free.
    pub(crate) fn unauthenticated(self: &Arc<Self>, limits: &Limits) -> Option<UnauthPermit> {
        if self.unauthenticated.fetch_add(1, Ordering::AcqRel) >= limits.max_unauthenticated {
            self.unauthenticated.fetch_sub(1, Ordering::AcqRel);
            self.refused.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        Some(UnauthPermit { adm: self.clone() })
    }

    /// Takes one command from `user`'s bucket; false when the user is over the rate.
    pub(crate) fn command(&self, limits: &Limits, user: &str, now: Instant) -> bool {
        let mut b = lock(&self.buckets);
        let bucket = b.entry(user.to_string()).or_insert(Bucket {
            tokens: limits.command_burst,
            at: now,
        });
        let dt = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens =
            (bucket.tokens + dt * limits.commands_per_second).min(limits.command_burst.max(1.0));
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// One open connection's place under the caps; given back when the connection ends.
pub(crate) struct ConnPermit {
    adm: Arc<Admission>,
    ip: IpAddr,
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let mut c = lock(&self.adm.counts);
        if let Some(n) = c.per_address.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.per_address.remove(&self.ip);
            }
        }
        drop(c);
        self.adm.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One unauthenticated session's place; given back on authentication or close.
pub(crate) struct UnauthPermit {
    adm: Arc<Admission>,
}

impl Drop for UnauthPermit {
    fn drop(&mut self) {
        self.adm.unauthenticated.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The TCP listener with the connection caps applied.
pub(crate) struct CappedListener {
    inner: TcpListener,
    adm: Arc<Admission>,
    limits: Limits,
}

impl CappedListener {
    pub(crate) fn new(inner: TcpListener, adm: Arc<Admission>, limits: Limits) -> Self {
        CappedListener { inner, adm, limits }
    }
}

impl Listener for CappedListener {
    type Io = Conn;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Conn, SocketAddr) {
        loop {
            let (tcp, peer) = match self.inner.accept().await {
                Ok(x) => x,
                Err(e) => {
                    // out of descriptors and the like: give the process a moment
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match self.adm.admit(&self.limits, peer.ip()) {
                Some(permit) => {
                    let _ = tcp.set_nodelay(true);
                    let deadline = Box::pin(tokio::time::sleep(self.limits.request_head_timeout));
                    return (
                        Conn {
                            tcp,
                            _permit: permit,
                            head_deadline: Some(deadline),
                        },
                        peer,
                    );
                }
                None => {
                    tracing::debug!(%peer, "connection refused: over the connection caps");
                    drop(tcp);
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// An admitted connection. Until the server first writes to it (the answer to its first
/// request head), reading fails once the head deadline has passed.
pub(crate) struct Conn {
    tcp: TcpStream,
    _permit: ConnPermit,
    head_deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl AsyncRead for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if let Some(d) = self.head_deadline.as_mut()
            && d.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no complete request head in time",
            )));
        }
        Pin::new(&mut self.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.tcp).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.head_deadline = None;
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.tcp).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.head_deadline = None;
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.tcp).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_rate_is_per_user_with_a_burst() {
        let adm = Admission::default();
        let limits = Limits {
            commands_per_second: 2.0,
            command_burst: 3.0,
            ..Limits::default()
        };
        let t = Instant::now();
        let ok = (0..5).filter(|_| adm.command(&limits, "a", t)).count();
        assert_eq!(ok, 3, "the burst, then refused");
        assert!(
            adm.command(&limits, "b", t),
            "another user has its own bucket"
        );
        assert!(adm.command(&limits, "a", t + Duration::from_millis(600)));
        assert!(!adm.command(&limits, "a", t + Duration::from_millis(600)));
    }

    #[test]
    fn caps_count_per_address_and_give_back_on_drop() {
        let adm = Arc::new(Admission::default());
        let limits = Limits {
            max_connections: 3,
            max_connections_per_address: 2,
            ..Limits::default()
        };
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        let b: IpAddr = "127.0.0.2".parse().unwrap();
        let p1 = adm.admit(&limits, a).unwrap();
        let _p2 = adm.admit(&limits, a).unwrap();
        assert!(adm.admit(&limits, a).is_none(), "third from one address");
        let _p3 = adm.admit(&limits, b).unwrap();
        assert!(adm.admit(&limits, b).is_none(), "over the total");
        drop(p1);
        assert!(adm.admit(&limits, a).is_some());
        assert_eq!(adm.refused(), 2);
    }
}
