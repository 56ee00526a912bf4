//! TLS for the API listener (HTTPS and WSS): loading and checking the certificate chain and
//! key files of `[tls]`, the server configuration (TLS 1.2 and 1.3 only, `ring` provider), a
//! certificate store that SIGHUP reloads without touching open connections, the listener that
//! runs handshakes beside the accept loop, and the self-signed certificate of `ctigw demo`.

use axum::serve::Listener;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Handshakes in progress at once; past this, new connections wait in the accept backlog.
const MAX_HANDSHAKES: usize = 1024;

/// Why a certificate or key could not be used. Each names the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a PEM certificate chain: {reason}")]
    BadCert { path: PathBuf, reason: String },
    #[error("{path}: holds no certificate (expected -----BEGIN CERTIFICATE-----)")]
    NoCert { path: PathBuf },
    #[error("{path}: no usable private key (PEM PKCS#8, PKCS#1 or SEC1): {reason}")]
    BadKey { path: PathBuf, reason: String },
    #[error("{key}: this key does not match the certificate in {cert}: {reason}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("TLS settings refused: {0}")]
    Config(String),
    #[error("cannot generate a certificate: {0}")]
    Generate(String),
}

impl TlsError {
    /// The file the error is about, when it is about one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            TlsError::Read { path, .. }
            | TlsError::BadCert { path, .. }
            | TlsError::NoCert { path }
            | TlsError::BadKey { path, .. } => Some(path),
            TlsError::Mismatch { key, .. } => Some(key),
            TlsError::Config(_) | TlsError::Generate(_) => None,
        }
    }
}

/// The two files of `[tls]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain, the server's certificate first.
    pub cert: PathBuf,
    /// PEM private key of that certificate.
    pub key: PathBuf,
}

/// The crypto provider of the whole API side.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Parses a PEM chain and key and checks that they belong together.
fn certified_key(
    cert_pem: &[u8],
    key_pem: &[u8],
    cert_path: &Path,
    key_path: &Path,
) -> Result<CertifiedKey, TlsError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCert {
            path: cert_path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(TlsError::NoCert {
            path: cert_path.to_path_buf(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::BadKey {
        path: key_path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let signer = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| TlsError::BadKey {
            path: key_path.to_path_buf(),
            reason: e.to_string(),
        })?;
    let ck = CertifiedKey::new(chain, signer);
    ck.keys_match().map_err(|e| TlsError::Mismatch {
        cert: cert_path.to_path_buf(),
        key: key_path.to_path_buf(),
        reason: e.to_string(),
    })?;
    Ok(ck)
}

/// Reads and checks the files: both readable, both parseable, the key that of the certificate.
pub fn load(files: &TlsFiles) -> Result<CertifiedKey, TlsError> {
    let cert = read(&files.cert)?;
    let key = read(&files.key)?;
    certified_key(&cert, &key, &files.cert, &files.key)
}

/// The certificate the server presents, replaced whole on reload: a handshake takes the one
/// current when it starts, and open connections keep theirs.
#[derive(Debug)]
pub struct CertStore {
    current: RwLock<Arc<CertifiedKey>>,
}

impl CertStore {
    /// A store holding the certificate of `files`.
    pub fn from_files(files: &TlsFiles) -> Result<Self, TlsError> {
        Ok(Self::from_key(load(files)?))
    }

    /// A store holding a certificate and key given as PEM text (the demo's own).
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, TlsError> {
        let here = Path::new("(generated)");
        Ok(Self::from_key(certified_key(
            cert_pem.as_bytes(),
            key_pem.as_bytes(),
            here,
            here,
        )?))
    }

    fn from_key(ck: CertifiedKey) -> Self {
        CertStore {
            current: RwLock::new(Arc::new(ck)),
        }
    }

    /// Loads `files` and, when they are good, presents them to new connections from now on.
    /// When they are not, the running certificate stays and the error says which file.
    pub fn reload(&self, files: &TlsFiles) -> Result<(), TlsError> {
        match load(files) {
            Ok(ck) => {
                let fp = fingerprint(&ck.cert[0]);
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(ck);
                tracing::info!(cert = %files.cert.display(), fingerprint = %fp, "TLS certificate reloaded");
                Ok(())
            }
            Err(e) => {
                let file = e.file().unwrap_or(&files.cert);
                tracing::error!(file = %file.display(), "TLS reload refused, keeping the running certificate: {e}");
                Err(e)
            }
        }
    }

    /// SHA-256 fingerprint of the certificate presented now.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.current().cert[0])
    }

    fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// `AB:CD:...`: the SHA-256 of a certificate's DER, as browsers show it.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, cert.as_ref());
    d.as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The server configuration: TLS 1.2 and 1.3 only, HTTP/1.1, the store's certificate.
pub fn server_config(store: Arc<CertStore>) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let mut cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_cert_resolver(store);
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, as (certificate PEM, key PEM).
pub fn self_signed_localhost() -> Result<(String, String), TlsError> {
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .map_err(|e| TlsError::Generate(e.to_string()))?;
    Ok((ck.cert.pem(), ck.signing_key.serialize_pem()))
}

type Handshake<L> = Option<(
    Deadlined<TlsStream<<L as Listener>::Io>>,
    <L as Listener>::Addr,
)>;

/// Wraps a listener: each accepted connection's handshake runs in its own task (a slow client
/// holds up nobody), bounded by `handshake_timeout`; `accept` returns finished ones.
pub(crate) struct TlsListener<L: Listener> {
    inner: L,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Handshake<L>>,
    timeout: Duration,
}

impl<L: Listener> TlsListener<L> {
    pub(crate) fn new(inner: L, cfg: Arc<rustls::ServerConfig>, timeout: Duration) -> Self {
        TlsListener {
            inner,
            acceptor: TlsAcceptor::from(cfg),
            handshakes: JoinSet::new(),
            timeout,
        }
    }
}

impl<L> Listener for TlsListener<L>
where
    L: Listener,
    L::Addr: std::fmt::Display,
{
    type Io = Deadlined<TlsStream<L::Io>>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(conn)) = done {
                        return conn;
                    }
                }
                (io, peer) = self.inner.accept(), if self.handshakes.len() < MAX_HANDSHAKES => {
                    let acceptor = self.acceptor.clone();
                    let timeout = self.timeout;
                    self.handshakes.spawn(async move {
                        match tokio::time::timeout(timeout, acceptor.accept(io)).await {
                            Ok(Ok(tls)) => Some((Deadlined::new(tls, timeout), peer)),
                            Ok(Err(e)) => {
                                tracing::debug!(%peer, "TLS handshake failed: {e}");
                                None
                            }
                            Err(_) => {
                                tracing::debug!(%peer, "TLS handshake not finished in time");
                                None
                            }
                        }
                    });
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A connection that must send its first request head within a deadline counted from the end
/// of its handshake: reading fails once it has passed, until the server first writes.
pub(crate) struct Deadlined<S> {
    inner: S,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> Deadlined<S> {
    fn new(inner: S, after: Duration) -> Self {
        Deadlined {
            inner,
            deadline: Some(Box::pin(tokio::time::sleep(after))),
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Deadlined<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if let Some(d) = self.deadline.as_mut()
            && d.as_mut().poll(cx).is_ready()
        {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "no complete request head in time",
            )));
        }
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Deadlined<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.deadline = None;
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_of_another_certificate_is_refused_naming_both_files() {
        let (cert, _) = self_signed_localhost().unwrap();
        let (_, other_key) = self_signed_localhost().unwrap();
        let e = certified_key(
            cert.as_bytes(),
            other_key.as_bytes(),
            Path::new("/c.pem"),
            Path::new("/k.pem"),
        )
        .unwrap_err();
        assert!(matches!(e, TlsError::Mismatch { .. }), "{e}");
        let msg = e.to_string();
        assert!(msg.contains("/c.pem") && msg.contains("/k.pem"), "{msg}");
    }

    #[test]
    fn garbage_is_refused_and_a_generated_pair_is_taken() {
        let (cert, key) = self_signed_localhost().unwrap();
        assert!(CertStore::from_pem(&cert, &key).is_ok());
        assert!(matches!(
            CertStore::from_pem("not pem", &key),
            Err(TlsError::NoCert { .. })
        ));
        assert!(matches!(
            CertStore::from_pem(&cert, &cert),
            Err(TlsError::BadKey { .. })
        ));
        let fp = CertStore::from_pem(&cert, &key).unwrap().fingerprint();
        assert_eq!(fp.len(), 32 * 3 - 1, "{fp}");
    }
}
