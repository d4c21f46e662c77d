//! The HTTP 200 answer carrying a Commerce operation, shared by the service
//! (success) and the errors (exception ops).

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use commerce_kit_core::op::Operation;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, StatusCode};

const SUCCESS_BODY: &[u8] = br#"{"op":"success"}"#;

/// HTTP 200 with the operation as JSON.
pub(crate) fn operation_response(op: &Operation) -> Response {
    let body = match op {
        Operation::Success => Body::from(SUCCESS_BODY),
        other => match serde_json::to_vec(other) {
            Ok(bytes) => Body::from(bytes),
            Err(_) => Body::from(&br#"{"op":"exception"}"#[..]),
        },
    };
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}
