//! What the `/events` delivery test binaries share.
#![allow(dead_code)]

use http::{HeaderMap, StatusCode};
use serde_json::Value;

/// POSTs `body` with `headers` to `url`; returns the status and the body as
/// JSON (or as a JSON string when it is not JSON).
pub async fn post(url: &str, headers: HeaderMap, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
    let resp = reqwest::Client::new()
        .post(url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("send");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}
