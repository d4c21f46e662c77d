//! Size-limited body reading and JSON parsing with precise, client-facing errors.
//!
//! The raw bytes are kept (signatures are computed over them), so reading and
//! parsing are two steps:
//!
//! ```
//! use commerce_kit_core::body::{parse_json, BodyError};
//!
//! assert_eq!(parse_json(b"").unwrap_err().to_string(), "request body is empty");
//! assert_eq!(
//!     parse_json(b"{\"data\": }").unwrap_err().to_string(),
//!     "invalid JSON at line 1 column 10: expected value"
//! );
//! assert!(matches!(parse_json(b"{}"), Ok(serde_json::Value::Object(_))));
//! ```

use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::Value;

use crate::server::BodyTimeout;

/// Default body limit: 256 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

/// Why a request body could not be read or parsed. `Display` is the client-facing message.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body is longer than the configured limit.
    #[error("request body is larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The connection failed while the body was read.
    #[error("request body could not be read: {0}")]
    Read(String),
    /// The client stopped sending the body (see [`DeadlineBody`](crate::server::DeadlineBody)).
    #[error("request body not received within {secs} s")]
    TimedOut {
        /// The time the body was given, in seconds.
        secs: u64,
    },
    /// The body is empty (or only white space).
    #[error("request body is empty")]
    Empty,
    /// The body is not valid JSON.
    #[error("invalid JSON at line {line} column {column}: {reason}")]
    InvalidJson {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser expected or found.
        reason: String,
    },
}

impl BodyError {
    /// The HTTP status a JSON API answers with for this error (413, 408 or 400).
    pub fn status(&self) -> http::StatusCode {
        match self {
            BodyError::TooLarge { .. } => http::StatusCode::PAYLOAD_TOO_LARGE,
            BodyError::TimedOut { .. } => http::StatusCode::REQUEST_TIMEOUT,
            _ => http::StatusCode::BAD_REQUEST,
        }
    }
}

/// Reads a whole body, failing fast with [`BodyError::TooLarge`] past `limit` bytes.
///
/// A `Content-Length` above the limit is rejected before anything is read. A
/// body that times out ([`BodyTimeout`], from a [`DeadlineBody`](crate::server::DeadlineBody)
/// anywhere in its error chain) is [`BodyError::TimedOut`].
pub async fn read_limited<B>(body: B, limit: usize) -> Result<Bytes, BodyError>
where
    B: http_body::Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if let Some(exact) = http_body::Body::size_hint(&body).exact()
        && exact > limit as u64
    {
        return Err(BodyError::TooLarge { limit });
    }
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge { limit }),
        Err(err) => {
            let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err.as_ref());
            while let Some(current) = source {
                if let Some(timeout) = current.downcast_ref::<BodyTimeout>() {
                    return Err(BodyError::TimedOut {
                        secs: timeout.after.as_secs(),
                    });
                }
                source = current.source();
            }
            Err(BodyError::Read(err.to_string()))
        }
    }
}

/// Parses JSON bytes into a [`Value`], naming line and column on failure.
pub fn parse_json(bytes: &[u8]) -> Result<Value, BodyError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(BodyError::Empty);
    }
    serde_json::from_slice(bytes).map_err(|err| json_error(&err))
}

/// Converts a serde_json error into [`BodyError::InvalidJson`] without the
/// "at line … column …" suffix duplicated in `reason`.
pub fn json_error(err: &serde_json::Error) -> BodyError {
    let full = err.to_string();
    let suffix = format!(" at line {} column {}", err.line(), err.column());
    let reason = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
    BodyError::InvalidJson {
        line: err.line(),
        column: err.column(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::Full;

    #[test]
    fn json_messages_are_precise() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "request body is empty"),
            (b"  \n\t", "request body is empty"),
            (b"{", "invalid JSON at line 1 column 1: EOF while parsing an object"),
            (b"{\"a\":1,}", "invalid JSON at line 1 column 8: trailing comma"),
            (
                b"{\n  \"a\": 1,\n  \"b\": }",
                "invalid JSON at line 3 column 8: expected value",
            ),
            (b"{} x", "invalid JSON at line 1 column 4: trailing characters"),
            (b"\xff", "invalid JSON at line 1 column 1: expected value"),
        ];
        for (input, expected) in cases {
            let got = parse_json(input).expect_err("must fail").to_string();
            assert_eq!(&got, expected, "input {:?}", String::from_utf8_lossy(input));
        }
    }

    #[tokio::test]
    async fn limit_is_enforced_and_exact_fit_passes() {
        let ok = read_limited(Full::new(Bytes::from(vec![b'a'; 10])), 10)
            .await
            .expect("fits");
        assert_eq!(ok.len(), 10);
        let err = read_limited(Full::new(Bytes::from(vec![b'a'; 11])), 10)
            .await
            .expect_err("too big");
        assert_eq!(err.to_string(), "request body is larger than the limit of 10 bytes");
        assert_eq!(err.status(), http::StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn limit_applies_to_streamed_bodies_without_length() {
        use futures_util::stream;
        use http_body_util::StreamBody;
        let chunks = (0..5).map(|_| Ok::<_, std::io::Error>(http_body::Frame::data(Bytes::from_static(b"abcd"))));
        let body = StreamBody::new(stream::iter(chunks));
        let err = read_limited(body, 16).await.expect_err("20 bytes > 16");
        assert!(matches!(err, BodyError::TooLarge { limit: 16 }));
    }
}
