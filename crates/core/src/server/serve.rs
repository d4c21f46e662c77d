//! The accept loop: HTTP/1.1 connections served with read and write
//! timeouts and a graceful, bounded shutdown.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;

use super::{DeadlineBody, HttpApp, LISTENING_TARGET};

/// Default [`ServeOptions::read_timeout`]: 30 s.
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How [`serve_with`] treats connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// On shutdown, how long in-flight requests may take to finish.
    pub grace: Duration,
    /// How long a client may take to send a request's headers (counted from
    /// the first byte of a new connection, or from the end of the previous
    /// response on a kept-alive one, so idle connections close after it), and
    /// separately how long it may leave a body stalled. Past it the connection
    /// is closed (headers) or the request answered 408 (body).
    ///
    /// It is the write timeout too: when a response cannot be written for
    /// this long (the client stopped reading and the kernel's buffers are
    /// full), the connection is reset, which frees its buffers at once. A
    /// client that keeps reading, however slowly, is not cut off.
    pub read_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            grace: Duration::from_secs(30),
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight
/// requests finish for at most `grace`; reads time out after
/// [`DEFAULT_READ_TIMEOUT`]. See [`serve_with`].
pub async fn serve<S, F>(listener: TcpListener, app: S, shutdown: F, grace: Duration) -> io::Result<()>
where
    S: HttpApp,
    F: Future<Output = ()> + Send + 'static,
{
    let options = ServeOptions {
        grace,
        ..ServeOptions::default()
    };
    serve_with(listener, app, shutdown, options).await
}

/// Serves `app` over HTTP/1.1 on `listener` until `shutdown` resolves.
///
/// Logs `listening on http://IP:PORT` once the socket is ready (at info, under
/// [`LISTENING_TARGET`], so that it is printed even with `LOG_LEVEL=warn`).
/// Every connection gets `TCP_NODELAY`, the read timeouts of `options` and a
/// write timeout of the same length ([`ServeOptions::read_timeout`]); every
/// request body is a [`DeadlineBody`]. On shutdown the listener closes,
/// idle connections close, and in-flight requests get `options.grace` to finish.
pub async fn serve_with<S, F>(listener: TcpListener, app: S, shutdown: F, options: ServeOptions) -> io::Result<()>
where
    S: HttpApp,
    F: Future<Output = ()> + Send + 'static,
{
    let addr = listener.local_addr()?;
    tracing::info!(target: LISTENING_TARGET, "listening on http://{addr}");
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // The header timer costs a timer registration per request (about 2% of
    // check-stock's throughput); writing each response as one flat buffer
    // instead of vectored writes gains it back (bench/check-stock.sh, A/B in
    // alternating rounds). Every response here is small JSON.
    http.timer(TokioTimer::new())
        .header_read_timeout(options.read_timeout)
        .keep_alive(true)
        .writev(false);
    tokio::pin!(shutdown);
    loop {
        let tcp = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(err) => {
                    accept_failed(err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!("cannot set TCP_NODELAY: {err}");
        }
        let app = app.clone();
        let read_timeout = options.read_timeout;
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            let mut app = app.clone();
            app.call(request.map(|body| Body::new(DeadlineBody::new(body, read_timeout))))
        });
        let io = TokioIo::new(WriteDeadline::new(tcp, read_timeout));
        let connection = graceful.watch(http.serve_connection(io, service));
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!("connection ended with an error: {err}");
            }
        });
    }
    drop(listener);
    tracing::info!(
        "shutting down: finishing in-flight requests (grace {}s)",
        options.grace.as_secs()
    );
    tokio::select! {
        () = graceful.shutdown() => {
            tracing::info!("stopped");
        }
        () = tokio::time::sleep(options.grace) => {
            tracing::warn!("grace period of {}s elapsed; closing remaining connections", options.grace.as_secs());
        }
    }
    Ok(())
}

/// A connection whose writes fail once they have made no progress for
/// `timeout`. Like [`DeadlineBody`], the clock starts only when a write has
/// to wait (the kernel's send buffer is full), so writes that complete at once
/// (the common case) cost no timer; any progress stops it.
struct WriteDeadline {
    inner: TcpStream,
    timeout: Duration,
    /// Boxed so that the connection stays `Unpin`; allocated only on a stall.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl WriteDeadline {
    fn new(inner: TcpStream, timeout: Duration) -> Self {
        Self {
            inner,
            timeout,
            stalled: None,
        }
    }

    /// After a write returned: `Ready` is progress and stops the clock;
    /// `Pending` starts it, or fails once it ran out.
    fn judge<T>(&mut self, polled: Poll<io::Result<T>>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let timeout = self.timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        if stalled.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        // Reset rather than close: a graceful close would keep the unsent bytes
        // queued in the kernel for a client that does not read.
        #[allow(deprecated)] // SO_LINGER 0 does not block on drop; a positive linger would
        if let Err(err) = self.inner.set_linger(Some(Duration::ZERO)) {
            tracing::debug!("cannot set SO_LINGER: {err}");
        }
        tracing::debug!(
            "response not written within {} s (the client stopped reading): connection reset",
            timeout.as_secs()
        );
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("response not written within {} s", timeout.as_secs()),
        )))
    }
}

impl AsyncRead for WriteDeadline {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteDeadline {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.judge(polled, cx)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.judge(polled, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.judge(polled, cx)
    }
}

/// After a failed accept: go on at once when only that connection failed,
/// else (out of file descriptors, …) log it and pause a second.
async fn accept_failed(err: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(err.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!("accepting a connection failed: {err}; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}
