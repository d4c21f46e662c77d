//! HTTP server scaffolding shared by every binary (and usable by integrators).
//!
//! - [`app`] wraps a flow's routes with `GET /health` (liveness: the process
//!   serves), JSON 404/405, request ids, a per-request tracing span and a
//!   panic guard. `GET /ready` (readiness: it can do its work now) comes from
//!   a [`Readiness`] merged into the routes.
//! - [`bind`] and [`serve`] bind an address (port 0 allowed), log
//!   `listening on http://IP:PORT`, and shut down gracefully: in-flight
//!   requests finish, bounded by a grace period. Slow clients are cut off:
//!   headers (and the next request on an idle connection) and bodies each get
//!   [`ServeOptions::read_timeout`].
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use commerce_kit_core::server;
//!
//! # async fn run() -> std::io::Result<()> {
//! let routes = Router::new().route("/hello", get(|| async { "hi" }));
//! let listener = server::bind("127.0.0.1:0".parse().unwrap()).await?;
//! server::serve(listener, server::app(routes), server::shutdown_signal(), std::time::Duration::from_secs(30)).await
//! # }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::Request;
use axum::response::Response;
use axum::routing::get;
use http::Method;
use tokio::net::TcpListener;
use tower::Service;

mod deadline_body;
mod direct;
mod fallback;
mod panic_guard;
mod ready;
mod request_id;
mod serve;

pub use deadline_body::{BodyTimeout, DeadlineBody};
pub use direct::{DirectFuture, DirectRoute, HandlerService};
pub use fallback::{health, method_not_allowed, not_found, panic_text};
pub use panic_guard::{PanicGuard, PanicGuardFuture, PanicGuardLayer};
pub use ready::{Probe, Readiness};
pub use request_id::{
    REQUEST_ID_HEADER, RequestContextFuture, RequestContextLayer, RequestContextService, RequestId, RequestIdFuture,
    RequestIdLayer, RequestIdService, RequestSpanFuture, RequestSpanService, request_span,
};
pub use serve::{DEFAULT_READ_TIMEOUT, ServeOptions, serve, serve_with};

/// Tracing target of the `listening on http://IP:PORT` line. The binaries'
/// logging setup keeps it at info whatever the log level: scripts, tests and operators wait for that line.
pub const LISTENING_TARGET: &str = "commerce_kit::listening";

/// What [`serve`] serves: an infallible, cloneable HTTP service whose futures
/// are `Send`. A `Router` is one, as are [`app`]'s and [`app_direct`]'s results.
pub trait HttpApp:
    Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + 'static
{
}

impl<S> HttpApp for S where
    S: Service<Request, Response = Response, Error = Infallible, Future: Send> + Clone + Send + 'static
{
}

/// Adds `GET /health`, JSON 404/405 fallbacks, request ids, tracing spans and a
/// panic guard (a panicking handler answers 500 JSON; the server keeps serving).
pub fn app(routes: Router) -> Router {
    // One `layer` call (axum boxes each one per route), request context outermost.
    with_fallbacks(routes).layer(
        tower::ServiceBuilder::new()
            .layer(RequestContextLayer)
            .layer(PanicGuardLayer),
    )
}

/// An [`app`] whose one hot route (`method` `path`) is served by `handler`
/// without going through the router (see [`DirectRoute`]); `routes` should
/// hold the same route too, so that other methods on its path answer 405.
///
/// Every other request behaves as in [`app`]. The direct route's requests get
/// a request id (taken or generated, echoed) and the panic guard, but no
/// `request` span ([`RequestIdLayer`]): the handler names the id in its own
/// log lines. On check-stock, the span cost about 13% of the instructions of a
/// whole request.
///
/// ```
/// use axum::{Router, extract::Request, response::{IntoResponse, Response}, routing::post};
/// use commerce_kit_core::server;
/// use http::Method;
///
/// async fn hello(_: Request) -> Response {
///     "hi".into_response()
/// }
/// let app = server::app_direct(Router::new().route("/hello", post(hello)), Method::POST, "/hello", hello);
/// ```
pub fn app_direct<H, Fut>(routes: Router, method: Method, path: &'static str, handler: H) -> impl HttpApp
where
    H: Fn(Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Response> + Send + 'static,
{
    let direct = tower::ServiceBuilder::new()
        .layer(RequestIdLayer)
        .layer(PanicGuardLayer)
        .service(HandlerService::new(handler));
    // Layered inside the router (as `app` does), so the request context sees the matched route.
    let rest = with_fallbacks(routes).layer(
        tower::ServiceBuilder::new()
            .layer(RequestContextLayer)
            .layer(PanicGuardLayer),
    );
    DirectRoute::new(method, path, direct, rest)
}

/// `routes` plus `GET /health` and the JSON 404/405 fallbacks.
fn with_fallbacks(routes: Router) -> Router {
    routes
        .route("/health", get(health))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

/// Binds a TCP listener; port 0 picks a free port (see [`TcpListener::local_addr`]).
pub async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}

/// Serves `app` on an ephemeral loopback port (`127.0.0.1:0`) in a spawned
/// task that lives as long as the runtime, and returns the address it listens
/// on: what the crates' HTTP tests do before they send real requests (feature
/// `test-util`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// use commerce_kit_core::server;
///
/// let addr = server::spawn_loopback(server::app(axum::Router::new())).await?;
/// assert!(addr.ip().is_loopback() && addr.port() != 0);
/// # Ok(()) }
/// ```
#[cfg(feature = "test-util")]
pub async fn spawn_loopback(app: impl HttpApp) -> io::Result<SocketAddr> {
    let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(serve(
        listener,
        app,
        std::future::pending(),
        std::time::Duration::from_secs(1),
    ));
    Ok(addr)
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {err}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                term.recv().await;
            }
            Err(err) => {
                tracing::error!("cannot listen for SIGTERM: {err}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("received SIGINT"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}
