//! HTTP helpers shared by the flows: JSON error bodies, retry classification
//! and the outbound client builder.
//!
//! ```
//! use commerce_kit_core::http::{error_response, is_retryable};
//! use http::{HeaderMap, StatusCode};
//!
//! let resp = error_response(StatusCode::BAD_REQUEST, "unknown event 'x'");
//! assert_eq!(resp.status(), 400);
//! assert!(is_retryable(StatusCode::TOO_MANY_REQUESTS));
//! assert!(is_retryable(StatusCode::BAD_GATEWAY));
//! assert!(!is_retryable(StatusCode::HTTP_VERSION_NOT_SUPPORTED));
//! assert!(!is_retryable(StatusCode::NOT_FOUND));
//! ```

use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};

/// The `{"error":"…"}` body every JSON API of the kit answers failures with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// Client-facing message; never contains secrets.
    pub error: String,
}

impl ErrorBody {
    /// Wraps a message.
    pub fn new(error: impl Into<String>) -> Self {
        Self { error: error.into() }
    }
}

/// A response with `status` and body `{"error": message}`.
pub fn error_response(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(ErrorBody::new(message))).into_response()
}

/// The retry rule of Adobe I/O Events (and ours for upstream calls): 429 and
/// every 5xx except 505 are worth retrying; every other status is final.
pub fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || (status.is_server_error() && status != StatusCode::HTTP_VERSION_NOT_SUPPORTED)
}

/// Timeouts of an outbound HTTP client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientTimeouts {
    /// TCP + TLS connection set-up limit.
    pub connect: Duration,
    /// Whole-request limit (connect, send, receive the full body).
    pub request: Duration,
}

impl Default for ClientTimeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(10),
        }
    }
}

/// An outbound client could not be built (TLS set-up failed).
#[derive(Debug, thiserror::Error)]
#[error("HTTP client could not be built: {0}")]
pub struct ClientBuildError(String);

/// A `reqwest` client with rustls, both timeouts set, and a `commerce-kit/<version>` user agent.
pub fn client(timeouts: ClientTimeouts) -> Result<reqwest::Client, ClientBuildError> {
    reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .user_agent(concat!("commerce-kit/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| ClientBuildError(e.to_string()))
}

/// `scheme://host[:port]/path` of a URL, as it may appear in logs and error
/// messages: no credentials, query or fragment.
///
/// ```
/// use commerce_kit_core::http::shown_url;
///
/// let url = reqwest::Url::parse("https://user:pw@erp.example:8443/api/stock?token=s#f").unwrap();
/// assert_eq!(shown_url(&url), "https://erp.example:8443/api/stock");
/// assert_eq!(shown_url(&reqwest::Url::parse("http://[::1]/x").unwrap()), "http://[::1]/x");
/// ```
pub fn shown_url(url: &reqwest::Url) -> String {
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!(
        "{}://{}{port}{}",
        url.scheme(),
        url.host_str().unwrap_or(""),
        url.path()
    )
}

/// The innermost source of an error: the specific reason (e.g. `Connection
/// refused (os error 111)`), which, unlike reqwest's own message, never
/// repeats the URL.
pub fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

/// A reqwest error's message with its URL left out and its causes appended
/// (kept short for client messages).
pub fn without_url(err: &reqwest::Error) -> String {
    let mut text = err.to_string();
    if let Some(url) = err.url() {
        text = text.replace(&format!(" ({url})"), "").replace(url.as_str(), "<url>");
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A response's `Retry-After` (delta-seconds or an HTTP date; a date in the
/// past is zero), if it has a valid one.
///
/// ```
/// use commerce_kit_core::http::retry_after;
/// use http::{HeaderMap, HeaderValue, header::RETRY_AFTER};
/// use std::time::Duration;
///
/// let mut headers = HeaderMap::new();
/// assert_eq!(retry_after(&headers), None);
/// headers.insert(RETRY_AFTER, HeaderValue::from_static("3"));
/// assert_eq!(retry_after(&headers), Some(Duration::from_secs(3)));
/// headers.insert(RETRY_AFTER, HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"));
/// assert_eq!(retry_after(&headers), Some(Duration::ZERO));
/// headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
/// assert_eq!(retry_after(&headers), None);
/// ```
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after(headers.get(http::header::RETRY_AFTER)?.to_str().ok()?)
}

/// A `Retry-After` value: delta-seconds or an HTTP date (a date in the past is zero).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_credentials_query_or_fragment() {
        let url = reqwest::Url::parse("https://user:pw@erp.example:8443/stock/24-MB01?key=abc#top").expect("url");
        assert_eq!(shown_url(&url), "https://erp.example:8443/stock/24-MB01");
        let url = reqwest::Url::parse("http://[::1]/x").expect("url");
        assert_eq!(shown_url(&url), "http://[::1]/x");
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0 "), Some(Duration::ZERO));
        let in_5 = std::time::SystemTime::now() + Duration::from_secs(5);
        let got = parse_retry_after(&httpdate::fmt_http_date(in_5)).expect("date");
        assert!(
            got <= Duration::from_secs(5) && got >= Duration::from_secs(3),
            "{got:?}"
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "past date"
        );
        assert_eq!(parse_retry_after("soon"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn retry_rule_table() {
        for code in [429u16, 500, 501, 502, 503, 504, 506, 507, 511, 599] {
            assert!(is_retryable(StatusCode::from_u16(code).expect("code")), "{code}");
        }
        for code in [200u16, 204, 301, 400, 401, 403, 404, 409, 413, 422, 505] {
            assert!(!is_retryable(StatusCode::from_u16(code).expect("code")), "{code}");
        }
    }

    #[tokio::test]
    async fn error_response_has_json_body() {
        let resp = error_response(StatusCode::UNAUTHORIZED, "bad signature");
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            resp.headers()
                .get(http::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
        let body = axum::body::to_bytes(resp.into_body(), 1024).await.expect("body");
        assert_eq!(&body[..], br#"{"error":"bad signature"}"#);
    }
}
