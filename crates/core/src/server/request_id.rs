//! Request ids and the per-request tracing span.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use tracing::Instrument;

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

fn generate() -> String {
    // A random per-process prefix plus a counter: unique, cheap, and sortable per process.
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let prefix = PREFIX.get_or_init(|| uuid::Uuid::new_v4().simple().to_string()[..12].to_owned());
    format!("{prefix}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// Middleware: takes `x-request-id` from the request (or generates one), stores
/// it as [`RequestId`], runs the request inside a `request` span carrying the id,
/// method and path, and echoes the id on the response.
pub async fn request_context(mut req: Request, next: Next) -> Response {
    let id: Arc<str> = match req.headers().get(REQUEST_ID_HEADER).and_then(acceptable) {
        Some(given) => Arc::from(given),
        None => Arc::from(generate()),
    };
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", id = %id, method = %req.method(), path = %req.uri().path());
    let started = std::time::Instant::now();
    let mut resp = next.run(req).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::debug!(
            status = resp.status().as_u16(),
            elapsed_us = started.elapsed().as_micros() as u64,
            "response"
        );
    });
    if let Ok(value) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
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
