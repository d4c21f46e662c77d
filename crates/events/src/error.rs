//! [`HandlerError`]: why a handler failed, and whether the event is retried.
//!
//! A handler returns `Result<HandlerResult, HandlerError>`, so `?` works on
//! the errors handlers meet: each conversion picks the status answered for the
//! event, and the status decides what happens next, as for any answer:
//!
//! | error | status | retried |
//! |---|---|---|
//! | [`HandlerError::retryable`] | 503 | yes |
//! | [`HandlerError::rejected`] | 400 | no: dropped (local bus: dead letter) |
//! | [`HandlerError::new`]`(status, …)` | `status` | when 429 or 5xx except 505 |
//! | `reqwest::Error`: connect failure, timeout, other transport failure | 503 | yes |
//! | `reqwest::Error` from `error_for_status()`: 429 | 429 | yes |
//! | `reqwest::Error` from `error_for_status()`: other 4xx | 400 | no |
//! | `reqwest::Error` from `error_for_status()`: 5xx; an undecodable answer; a redirect loop | 502 | yes |
//! | `reqwest::Error` building the request | 500 | yes |
//! | `serde_json::Error` (bad JSON, or JSON of another shape) | 400 | no |
//! | `serde_json::Error` reading from I/O, `std::io::Error` | 503 | yes |
//! | `serde_path_to_error::Error<serde_json::Error>` | 400 | no |
//!
//! The message is what the consumer answers (`{"error":"<message>"}`) and
//! logs: the conversions never copy a URL's query or credentials into it
//! (they may hold tokens); a URL is shown as `scheme://host[:port]/path`.
//!
//! ```
//! use commerce_kit_events::HandlerError;
//! use http::StatusCode;
//!
//! let down = HandlerError::retryable("ERP is down");
//! assert_eq!((down.status(), down.is_retryable()), (StatusCode::SERVICE_UNAVAILABLE, true));
//!
//! let bad = HandlerError::rejected("product without a sku");
//! assert_eq!((bad.status(), bad.is_retryable()), (StatusCode::BAD_REQUEST, false));
//! assert_eq!(bad.to_string(), "product without a sku");
//!
//! let parsed: Result<Vec<u32>, _> = serde_json::from_str("{\"a\":1}");
//! let err = HandlerError::from(parsed.unwrap_err());
//! assert_eq!(err.status(), StatusCode::BAD_REQUEST);
//! assert_eq!(err.message(), "invalid JSON data: invalid type: map, expected a sequence at line 1 column 0");
//! ```

use commerce_kit_core::http::is_retryable;
use http::StatusCode;

/// A handler failure: the status answered for the event and a client-facing
/// message (no secrets). 429 and 5xx (except 505) are retried; any other
/// status drops the event. See the [module docs](self) for the conversions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct HandlerError {
    status: StatusCode,
    message: String,
}

impl HandlerError {
    /// `status` with `message`. A status that is not an error (1xx to 3xx)
    /// is answered 500, so a failure is never taken for a success.
    ///
    /// ```
    /// use commerce_kit_events::HandlerError;
    /// use http::StatusCode;
    ///
    /// let gone = HandlerError::new(StatusCode::UNPROCESSABLE_ENTITY, "the ERP refused the record");
    /// assert!(!gone.is_retryable());
    /// let busy = HandlerError::new(StatusCode::TOO_MANY_REQUESTS, "slow down");
    /// assert!(busy.is_retryable());
    /// assert_eq!(HandlerError::new(StatusCode::OK, "odd").status(), StatusCode::INTERNAL_SERVER_ERROR);
    /// ```
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let status = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        Self {
            status,
            message: message.into(),
        }
    }

    /// 503: a transient failure (a system down, a lock held); the event is
    /// delivered again later.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// 400: the event cannot be handled (bad data, a refused record); sending
    /// it again would not help, so it is dropped (the local bus parks it as a
    /// dead letter).
    pub fn rejected(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 500: something unexpected (retried, like any 5xx).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// An upstream system failed with `status`: propagated when it is a 4xx or
    /// 5xx (so 5xx and 429 are retried and other 4xx dropped); `None`
    /// (network error, timeout) or any other status → 500.
    pub fn upstream(status: Option<u16>, message: impl Into<String>) -> Self {
        let status = status
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Self::new(status, message)
    }

    /// The status answered for the event.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The message answered (`{"error":"<message>"}`) and logged.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// True when the event is delivered again (429, 5xx except 505).
    pub fn is_retryable(&self) -> bool {
        is_retryable(self.status)
    }

    /// The same error with `context: ` before its message (the status is kept).
    ///
    /// ```
    /// use commerce_kit_events::HandlerError;
    ///
    /// let err = HandlerError::retryable("connection reset").context("ERP stock of A");
    /// assert_eq!(err.to_string(), "ERP stock of A: connection reset");
    /// assert!(err.is_retryable());
    /// ```
    pub fn context(mut self, context: impl std::fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// A payload that does not deserialize into the handler's type: 400 naming
    /// the field by its full path under `prefix` (`data` or `data.value`), worded
    /// like the consumer's other 400s: `missing parameter(s) 'data.sku'`, or
    /// `invalid parameter 'data.items[0].qty': invalid type: …`.
    pub(crate) fn invalid_payload(prefix: &str, err: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let path = err.path().to_string();
        let full = |tail: &str| join_path(prefix, tail);
        let inner = err.inner().to_string();
        if let Some(field) = inner
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            let parent = if path == "." { String::new() } else { path };
            let missing = if parent.is_empty() {
                full(field)
            } else {
                full(&format!("{parent}.{field}"))
            };
            return Self::rejected(format!("missing parameter(s) '{missing}'"));
        }
        let at = if path == "." { full("") } else { full(&path) };
        if at.is_empty() {
            Self::rejected(format!("invalid data: {inner}"))
        } else {
            Self::rejected(format!("invalid parameter '{at}': {inner}"))
        }
    }
}

/// `prefix` + `tail` as a dotted path (`data` + `items[0].qty` → `data.items[0].qty`; `data` + `[1]` → `data[1]`).
fn join_path(prefix: &str, tail: &str) -> String {
    match (prefix.is_empty(), tail.is_empty()) {
        (_, true) => prefix.to_owned(),
        (true, false) => tail.to_owned(),
        (false, false) if tail.starts_with('[') => format!("{prefix}{tail}"),
        (false, false) => format!("{prefix}.{tail}"),
    }
}

pub(crate) use commerce_kit_core::http::{root_cause, shown_url};

impl From<reqwest::Error> for HandlerError {
    fn from(err: reqwest::Error) -> Self {
        let url = err.url().map(shown_url).unwrap_or_else(|| "the upstream".to_owned());
        if let Some(status) = err.status() {
            let message = format!("{url} answered {status}");
            return if status == StatusCode::TOO_MANY_REQUESTS {
                Self::new(status, message)
            } else if status.is_client_error() {
                Self::rejected(message)
            } else {
                Self::new(StatusCode::BAD_GATEWAY, message)
            };
        }
        // reqwest's own Display shows the whole URL, query included: only the
        // innermost cause (which names no URL) is kept.
        let err = err.without_url();
        if err.is_timeout() {
            Self::retryable(format!("request to {url} timed out"))
        } else if err.is_connect() {
            Self::retryable(format!("could not connect to {url}: {}", root_cause(&err)))
        } else if err.is_builder() {
            Self::internal(format!("request to {url} could not be built: {}", root_cause(&err)))
        } else if err.is_decode() {
            Self::new(
                StatusCode::BAD_GATEWAY,
                format!("the answer of {url} could not be decoded: {}", root_cause(&err)),
            )
        } else if err.is_redirect() {
            Self::new(StatusCode::BAD_GATEWAY, format!("{url} redirected too many times"))
        } else {
            Self::retryable(format!("request to {url} failed: {}", root_cause(&err)))
        }
    }
}

impl From<serde_json::Error> for HandlerError {
    fn from(err: serde_json::Error) -> Self {
        use serde_json::error::Category;
        match err.classify() {
            Category::Io => Self::retryable(format!("cannot read JSON: {err}")),
            Category::Syntax | Category::Eof => Self::rejected(format!("invalid JSON: {err}")),
            Category::Data => Self::rejected(format!("invalid JSON data: {err}")),
        }
    }
}

impl From<serde_path_to_error::Error<serde_json::Error>> for HandlerError {
    fn from(err: serde_path_to_error::Error<serde_json::Error>) -> Self {
        if err.inner().is_io() {
            return Self::from(err.into_inner());
        }
        Self::invalid_payload("", &err)
    }
}

impl From<std::io::Error> for HandlerError {
    fn from(err: std::io::Error) -> Self {
        Self::retryable(format!("I/O error: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructors_pick_the_status() {
        assert_eq!(HandlerError::retryable("m").status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(HandlerError::rejected("m").status(), StatusCode::BAD_REQUEST);
        assert_eq!(HandlerError::internal("m").status(), StatusCode::INTERNAL_SERVER_ERROR);
        for (upstream, expected) in [
            (Some(503), StatusCode::SERVICE_UNAVAILABLE),
            (Some(404), StatusCode::NOT_FOUND),
            (Some(429), StatusCode::TOO_MANY_REQUESTS),
            (Some(302), StatusCode::INTERNAL_SERVER_ERROR),
            (Some(200), StatusCode::INTERNAL_SERVER_ERROR),
            (Some(1000), StatusCode::INTERNAL_SERVER_ERROR),
            (None, StatusCode::INTERNAL_SERVER_ERROR),
        ] {
            assert_eq!(HandlerError::upstream(upstream, "m").status(), expected, "{upstream:?}");
        }
        assert!(!HandlerError::new(StatusCode::HTTP_VERSION_NOT_SUPPORTED, "m").is_retryable());
        assert!(HandlerError::new(StatusCode::BAD_GATEWAY, "m").is_retryable());
    }

    #[test]
    fn json_errors_are_400_naming_what_failed() {
        let syntax = serde_json::from_str::<serde_json::Value>("{nope").expect_err("syntax");
        let e = HandlerError::from(syntax);
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(e.message(), "invalid JSON: key must be a string at line 1 column 2");
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let from_reader = serde_json::from_reader::<_, serde_json::Value>(FailingReader(Some(io))).expect_err("io");
        let e = HandlerError::from(from_reader);
        assert!(e.is_retryable(), "{e}");
        let e = HandlerError::from(std::io::Error::other("disk on fire"));
        assert_eq!(
            (e.status(), e.message()),
            (StatusCode::SERVICE_UNAVAILABLE, "I/O error: disk on fire")
        );
    }

    struct FailingReader(Option<std::io::Error>);

    impl std::io::Read for FailingReader {
        fn read(&mut self, _buf: &mut [u8]) -> std::io::Result<usize> {
            Err(self.0.take().unwrap_or_else(|| std::io::Error::other("again")))
        }
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Item {
        sku: String,
        qty: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Order {
        id: String,
        items: Vec<Item>,
    }

    fn typed<T: serde::de::DeserializeOwned + std::fmt::Debug>(prefix: &str, v: serde_json::Value) -> HandlerError {
        let err = serde_path_to_error::deserialize::<_, T>(&v).expect_err("mismatch");
        HandlerError::invalid_payload(prefix, &err)
    }

    #[test]
    fn payload_errors_name_the_field_by_its_path() {
        use serde_json::json;
        let cases = [
            (
                "data",
                json!({"id": "o1", "items": [{"sku": "A", "qty": "two"}]}),
                "invalid parameter 'data.items[0].qty': invalid type: string \"two\", expected u32",
            ),
            (
                "data.value",
                json!({"id": "o1", "items": [{"qty": 1}]}),
                "missing parameter(s) 'data.value.items[0].sku'",
            ),
            ("data", json!({"items": []}), "missing parameter(s) 'data.id'"),
            (
                "data",
                json!("text"),
                "invalid parameter 'data': invalid type: string \"text\", expected struct Order",
            ),
            // a struct may come as a sequence of its fields
            (
                "data",
                json!([1]),
                "invalid parameter 'data[0]': invalid type: integer `1`, expected a string",
            ),
            (
                "",
                json!({"id": 5, "items": []}),
                "invalid parameter 'id': invalid type: integer `5`, expected a string",
            ),
            ("", json!({"items": []}), "missing parameter(s) 'id'"),
            (
                "",
                json!(null),
                "invalid data: invalid type: null, expected struct Order",
            ),
        ];
        for (prefix, value, expected) in cases {
            let e = typed::<Order>(prefix, value.clone());
            assert_eq!(e.status(), StatusCode::BAD_REQUEST);
            assert_eq!(e.message(), expected, "{prefix} {value}");
        }
        // the From conversion has no prefix
        let err = serde_path_to_error::deserialize::<_, Order>(&json!({"items": 1})).expect_err("mismatch");
        assert_eq!(
            HandlerError::from(err).message(),
            "invalid parameter 'items': invalid type: integer `1`, expected a sequence"
        );
    }
}
