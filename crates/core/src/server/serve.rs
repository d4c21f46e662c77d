//! The accept loop: HTTP/1.1 connections served with read timeouts and a
//! graceful, bounded shutdown.

use std::future::Future;
use std::io;
use std::time::Duration;

use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

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
/// Every connection gets `TCP_NODELAY` and the read timeouts of `options`;
/// every request body is a [`DeadlineBody`]. On shutdown the listener closes,
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
        let connection = graceful.watch(http.serve_connection(TokioIo::new(tcp), service));
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
