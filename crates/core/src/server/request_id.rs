//! Request ids and the per-request tracing span.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::extract::Request;
use http::HeaderValue;
use pin_project_lite::pin_project;
use tower::{Layer, Service};
use tracing::instrument::Instrumented;
use tracing::{Instrument, Span};

/// The header carrying the request id, read from the client or generated.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request id of the current request, stored in request extensions.
///
/// ```
/// use axum::{Extension, Router, routing::get};
/// use commerce_kit_core::server::RequestId;
///
/// let routes: Router = Router::new().route("/who", get(|Extension(id): Extension<RequestId>| async move {
///     id.to_string()
/// }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub Arc<str>);

impl std::fmt::Display for RequestId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A client-supplied id is kept only when it is short and printable (no log injection).
fn acceptable(value: &HeaderValue) -> Option<&str> {
    let s = value.to_str().ok()?;
    let ok = !s.is_empty() && s.len() <= 128 && s.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(s)
}

/// A fresh id: a random per-process prefix plus a counter (unique, cheap, and
/// sortable per process), e.g. `1c04ee249e81-42`.
fn generate() -> Arc<str> {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_owned());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut digits = itoa::Buffer::new();
    let digits = digits.format(n);
    let mut id = String::with_capacity(prefix.len() + 1 + digits.len());
    id.push_str(prefix);
    id.push('-');
    id.push_str(digits);
    Arc::from(id)
}

/// The request's id and the header value echoing it: the client's when
/// acceptable (the header value is reused as is), else a generated one.
fn request_id(headers: &http::HeaderMap) -> (Arc<str>, Option<HeaderValue>) {
    if let Some(given) = headers.get(REQUEST_ID_HEADER)
        && let Some(text) = acceptable(given)
    {
        return (Arc::from(text), Some(given.clone()));
    }
    let id = generate();
    let value = HeaderValue::from_str(&id).ok();
    (id, value)
}

/// The `request` span a request runs in (`request{id=… method=… path=…}` in
/// the logs), as [`RequestContextLayer`] opens it. Public for handlers served
/// without that layer that open the same span themselves.
pub fn request_span(id: &str, method: &http::Method, path: &str) -> Span {
    tracing::info_span!("request", id = %id, method = %method, path = %path)
}

/// Logs the status and latency at debug level, in the request span, and
/// counts the request in `commerce_kit_http_requests_total{route,status}` and
/// `commerce_kit_http_request_duration_seconds{route}` (the route as matched,
/// e.g. `/events`, `unmatched` for 404s: bounded label values).
fn log_response(span: &Span, route: &str, status: http::StatusCode, started: Instant) {
    let elapsed = started.elapsed();
    tracing::debug!(
        parent: span,
        status = status.as_u16(),
        elapsed_us = elapsed.as_micros() as u64,
        "response"
    );
    crate::telemetry::http_request(route, status, elapsed);
}

/// Middleware: [`RequestIdLayer`] (takes `x-request-id` from the request or
/// generates one, stores it as [`RequestId`], echoes it on the response), then
/// runs the request inside a `request` span carrying the id, method and path
/// ([`request_span`]), and logs the status and latency at debug. A tower layer
/// rather than `axum::middleware::from_fn`, which clones the service and boxes
/// a future per request.
///
/// ```
/// use axum::{Router, routing::get};
/// use commerce_kit_core::server::RequestContextLayer;
///
/// let app: Router = Router::new().route("/", get(|| async { "hi" })).layer(RequestContextLayer);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestContextLayer;

impl<S> Layer<S> for RequestContextLayer {
    type Service = RequestContextService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestIdService {
            inner: RequestSpanService { inner },
        }
    }
}

/// The service of [`RequestContextLayer`].
pub type RequestContextService<S> = RequestIdService<RequestSpanService<S>>;

/// The response future of [`RequestContextService`].
pub type RequestContextFuture<F> = RequestIdFuture<RequestSpanFuture<F>>;

/// The span part of [`RequestContextLayer`]: runs the request in its
/// [`request_span`], with the [`RequestId`] an outer [`RequestIdService`]
/// stored (`-` without one).
#[derive(Debug, Clone)]
pub struct RequestSpanService<S> {
    inner: S,
}

impl<S, B> Service<Request> for RequestSpanService<S>
where
    S: Service<Request, Response = http::Response<B>>,
{
    type Response = http::Response<B>;
    type Error = S::Error;
    type Future = RequestSpanFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let id = req.extensions().get::<RequestId>().map_or("-", |id| &*id.0);
        let span = request_span(id, req.method(), req.uri().path());
        let route = req
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map_or_else(|| Arc::from("unmatched"), |m| Arc::from(m.as_str()));
        let started = Instant::now();
        let inner = span.in_scope(|| self.inner.call(req));
        RequestSpanFuture {
            inner: inner.instrument(span),
            route,
            started,
        }
    }
}

pin_project! {
    /// The response future of [`RequestSpanService`].
    pub struct RequestSpanFuture<F> {
        #[pin]
        inner: Instrumented<F>,
        route: Arc<str>,
        started: Instant,
    }
}

impl<F, B, E> Future for RequestSpanFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let resp = ready!(this.inner.as_mut().poll(cx))?;
        log_response(this.inner.span(), this.route, resp.status(), *this.started);
        Poll::Ready(Ok(resp))
    }
}

/// Middleware: the request id (the client's `x-request-id` when acceptable,
/// else a generated one), stored as [`RequestId`] and echoed on the response.
/// [`RequestContextLayer`] is this plus the `request` span.
///
/// For a hot route whose handler logs the id itself: creating, entering and
/// closing a span costs about as much as the rest of a check-stock request's
/// logging (see `server::app_direct`).
///
/// ```
/// use axum::{Extension, Router, routing::get};
/// use commerce_kit_core::server::{RequestId, RequestIdLayer};
///
/// let app: Router = Router::new()
///     .route("/", get(|Extension(id): Extension<RequestId>| async move { id.to_string() }))
///     .layer(RequestIdLayer);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestIdLayer;

impl<S> Layer<S> for RequestIdLayer {
    type Service = RequestIdService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestIdService { inner }
    }
}

/// The service of [`RequestIdLayer`].
#[derive(Debug, Clone)]
pub struct RequestIdService<S> {
    inner: S,
}

impl<S, B> Service<Request> for RequestIdService<S>
where
    S: Service<Request, Response = http::Response<B>>,
{
    type Response = http::Response<B>;
    type Error = S::Error;
    type Future = RequestIdFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let (id, echo) = request_id(req.headers());
        req.extensions_mut().insert(RequestId(id));
        RequestIdFuture {
            inner: self.inner.call(req),
            echo,
        }
    }
}

pin_project! {
    /// The response future of [`RequestIdService`].
    pub struct RequestIdFuture<F> {
        #[pin]
        inner: F,
        echo: Option<HeaderValue>,
    }
}

impl<F, B, E> Future for RequestIdFuture<F>
where
    F: Future<Output = Result<http::Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut resp = ready!(this.inner.poll(cx))?;
        if let Some(value) = this.echo.take() {
            resp.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        Poll::Ready(Ok(resp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        let (prefix, counter) = a.split_once('-').expect("prefix-counter");
        assert_eq!(prefix.len(), 12);
        assert!(counter.parse::<u64>().is_ok(), "{a}");
        assert_eq!(b.split_once('-').map(|(p, _)| p), Some(prefix));
        assert!(acceptable(&HeaderValue::from_str(&a).expect("ascii")).is_some());
    }

    #[test]
    fn hostile_ids_are_replaced() {
        assert!(acceptable(&HeaderValue::from_static("abc-123")).is_some());
        assert!(acceptable(&HeaderValue::from_static("")).is_none());
        assert!(acceptable(&HeaderValue::from_static("a b")).is_none());
        let long = "x".repeat(129);
        assert!(acceptable(&HeaderValue::from_str(&long).expect("ascii")).is_none());
    }
}
