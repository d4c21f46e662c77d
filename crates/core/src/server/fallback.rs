//! Health, JSON 404/405 and the panic response.

use std::any::Any;

use axum::Json;
use axum::extract::OriginalUri;
use axum::response::{IntoResponse, Response};
use http::{Method, StatusCode};
use serde_json::json;

use crate::http::error_response;

/// `GET /health` → 200 `{"status":"ok"}`.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Unknown route → 404 `{"error":"no route for GET /path"}`.
pub async fn not_found(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    error_response(StatusCode::NOT_FOUND, format!("no route for {method} {}", uri.path()))
}

/// Known route, wrong method → 405 `{"error":"method GET not allowed on /path"}`.
pub async fn method_not_allowed(method: Method, OriginalUri(uri): OriginalUri) -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("method {method} not allowed on {}", uri.path()),
    )
}

/// The message of a caught panic (`panic!("…")` payloads are a `&str` or a
/// `String`), or `non-string panic payload`.
///
/// ```
/// let caught = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
/// assert_eq!(commerce_kit_core::server::panic_text(&*caught), "boom 1");
/// ```
pub fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

/// A handler panicked: log it (the panic text may be internal, so it is not sent) and answer 500.
pub(crate) fn panic_response(payload: Box<dyn Any + Send + 'static>) -> http::Response<axum::body::Body> {
    let detail = panic_text(&*payload);
    tracing::error!(panic = %detail, "handler panicked; answered 500");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}
