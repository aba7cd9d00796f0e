//! Serving HTTP, or HTTPS with `--tls-cert`/`--tls-key`: the accept loop with its limits (open
//! connections, the time to send a request head, the time a kept-alive connection may idle),
//! and the graceful shutdown.
//!
//! hyper's own header timeout also runs while a kept-alive connection waits for its next
//! request, so it cannot tell a slow head from an idle connection; each connection here has
//! a watchdog that does, from what the connection reads and writes and from which requests
//! are being answered.

use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use crate::config::Limits;

/// How a request reached ecsd, for links in documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheme(pub &'static str);

/// The TLS side of a listener, from PEM files: a certificate chain and its private key.
pub fn tls_acceptor(cert: &Path, key: &Path) -> anyhow::Result<TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .with_context(|| format!("reading the certificates in {}", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("{} holds no PEM certificate", cert.display());
    }
    let private_key =
        PrivateKeyDer::from_pem_file(key).with_context(|| format!("reading the private key in {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, private_key)
        .with_context(|| format!("using the certificate {} with the key {}", cert.display(), key.display()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the requests in flight
/// finish. Beyond `limits.max_connections` open connections, new ones wait in the listen
/// backlog until one closes.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    let scheme = Scheme(if tls.is_some() { "https" } else { "http" });
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            app: app.clone(),
            builder: builder.clone(),
            limits,
            tls: tls.clone(),
            scheme,
            watcher: graceful.watcher(),
        };
        tokio::spawn(async move {
            connection.run(stream).await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// An error of `accept`: one about the connection itself is nothing to wait for; any other
/// (say, out of file descriptors) gets a pause before the next accept, so the loop does not spin.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(error.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::warn!(%error, "accepting a connection failed; pausing");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

struct Connection {
    app: axum::Router,
    builder: auto::Builder<TokioExecutor>,
    limits: Limits,
    tls: Option<TlsAcceptor>,
    scheme: Scheme,
    watcher: hyper_util::server::graceful::Watcher,
}

impl Connection {
    async fn run(self, stream: TcpStream) {
        let activity = Arc::new(Activity::new());
        match self.tls.clone() {
            None => self.serve(Watched { inner: stream, activity: Arc::clone(&activity) }, activity).await,
            Some(acceptor) => {
                // The handshake counts as part of the first request's head.
                let watched = Watched { inner: stream, activity: Arc::clone(&activity) };
                match tokio::time::timeout(self.limits.header_read_timeout, acceptor.accept(watched)).await {
                    Ok(Ok(stream)) => self.serve(stream, activity).await,
                    Ok(Err(error)) => tracing::debug!(%error, "TLS handshake failed"),
                    Err(_) => tracing::debug!("TLS handshake timed out"),
                }
            }
        }
    }

    async fn serve<S>(self, stream: S, activity: Arc<Activity>)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (app, scheme, busy) = (self.app, self.scheme, Arc::clone(&activity));
        let service = hyper::service::service_fn(move |mut request: hyper::Request<hyper::body::Incoming>| {
            let answering = Answering::begin(Arc::clone(&busy));
            request.extensions_mut().insert(scheme);
            let app = app.clone();
            async move {
                let response = app.oneshot(request).await;
                drop(answering);
                response
            }
        });
        let connection = self.builder.serve_connection(TokioIo::new(stream), service).into_owned();
        let served = self.watcher.watch(connection);
        tokio::select! {
            // The connection first: a request already in the socket buffer is read (and so
            // being answered) before the watchdog is asked whether the connection idled. When
            // the runtime was busy for longer than a timeout, both are ready at once, and an
            // unbiased choice would cut a connection whose client had sent its request in time.
            biased;
            outcome = served => {
                if let Err(error) = outcome {
                    tracing::debug!(%error, "connection ended with an error");
                }
            }
            () = watchdog(&activity, self.limits) => tracing::debug!("connection closed by its watchdog"),
        }
    }
}

/// Completes when the connection has owed a request head (since it opened, or since the first
/// byte of its next one) for longer than the header read timeout, or has idled (no request being answered, nothing read or written) for longer
/// than the idle timeout. A connection whose request is being answered is never cut.
async fn watchdog(activity: &Activity, limits: Limits) {
    loop {
        let now = Instant::now();
        match activity.deadline(limits) {
            Some(deadline) if deadline <= now => return,
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            // Answering: look again later (a long settle may take minutes).
            None => tokio::time::sleep(limits.header_read_timeout.min(limits.idle_timeout)).await,
        }
    }
}

/// What a connection is doing, as its watchdog needs to know.
struct Activity {
    phase: Mutex<Phase>,
}

struct Phase {
    /// Requests being answered (more than one only on HTTP/2).
    answering: usize,
    /// Since when the connection owes a request head: from when it opened, then from the first
    /// byte of each next head while nothing is being answered.
    head_since: Option<Instant>,
    /// When the connection last read or wrote anything, or finished an answer.
    active_at: Instant,
}

impl Activity {
    fn new() -> Self {
        let now = Instant::now();
        Activity { phase: Mutex::new(Phase { answering: 0, head_since: Some(now), active_at: now }) }
    }

    fn update(&self, change: impl FnOnce(&mut Phase)) {
        if let Ok(mut phase) = self.phase.lock() {
            change(&mut phase);
        }
    }

    fn read(&self) {
        self.update(|phase| {
            let now = Instant::now();
            if phase.answering == 0 && phase.head_since.is_none() {
                phase.head_since = Some(now);
            }
            phase.active_at = now;
        });
    }

    fn wrote(&self) {
        self.update(|phase| phase.active_at = Instant::now());
    }

    fn deadline(&self, limits: Limits) -> Option<Instant> {
        let phase = self.phase.lock().ok()?;
        if phase.answering > 0 {
            return None;
        }
        Some(match phase.head_since {
            Some(since) => since + limits.header_read_timeout,
            None => phase.active_at + limits.idle_timeout,
        })
    }
}

/// A request being answered, from its complete head to its response.
struct Answering(Arc<Activity>);

impl Answering {
    fn begin(activity: Arc<Activity>) -> Self {
        activity.update(|phase| {
            phase.answering += 1;
            phase.head_since = None;
        });
        Answering(activity)
    }
}

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.update(|phase| {
            phase.answering = phase.answering.saturating_sub(1);
            phase.active_at = Instant::now();
        });
    }
}

/// A stream that tells its [`Activity`] when it reads or writes.
struct Watched<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.read();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(written)) if written > 0) {
            self.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
