//! Who may post events: the [`Authenticator`] trait and its built-ins.
//!
//! - [`NoAuth`]: anyone (the starter kit's default; a warning is logged at start-up).
//! - [`ApiKeyAuth`]: `Authorization: Bearer <key>` or `x-api-key: <key>`, compared
//!   in constant time against one or more keys (several keys allow rotation).
//! - [`HmacAuth`]: an HMAC-SHA256 signature of the timestamp and the raw body,
//!   with a replay window. See [`hmac`] for the scheme and [`sign_request`].
//!
//! Authentication runs on the raw bytes, before the body is parsed.

use std::sync::Arc;

use http::HeaderMap;

mod api_key;
pub mod hmac;

pub use api_key::ApiKeyAuth;
pub use hmac::{HmacAuth, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign_request};

/// Why a request was refused. `Display` is the client-facing message (401);
/// it names what was wrong and never echoes a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No credentials at all.
    #[error("missing credentials: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'")]
    MissingApiKey,
    /// `Authorization` is present but not `Bearer <key>`.
    #[error("malformed Authorization header: expected 'Bearer <key>'")]
    MalformedAuthorization,
    /// The key matches none of the configured keys.
    #[error("invalid API key")]
    InvalidApiKey,
    /// A required header is absent.
    #[error("missing header '{0}'")]
    MissingHeader(&'static str),
    /// The timestamp header is not unix seconds.
    #[error("invalid header 'x-commerce-kit-timestamp': expected unix seconds")]
    MalformedTimestamp,
    /// The timestamp is outside the replay window.
    #[error("stale timestamp: {skew_secs} s away from server time, outside the ±{window_secs} s window")]
    StaleTimestamp {
        /// Distance between the request's timestamp and now, in seconds.
        skew_secs: u64,
        /// The accepted window, in seconds.
        window_secs: u64,
    },
    /// The signature header is not `sha256=<64 hex digits>`.
    #[error("invalid header 'x-commerce-kit-signature': expected 'sha256=<hex HMAC-SHA256>'")]
    MalformedSignature,
    /// The signature does not match the timestamp and body.
    #[error("bad signature: it does not match the timestamp and body")]
    BadSignature,
    /// Refused by a custom authenticator, with its message.
    #[error("{0}")]
    Refused(String),
}

/// Decides whether a request may post events. Object-safe: hold it as
/// `Arc<dyn Authenticator>`.
///
/// ```
/// use commerce_kit_ingestion::auth::{AuthError, Authenticator, auth_fn};
///
/// // Only requests from the ERP's gateway, which adds this header.
/// let auth = auth_fn(|headers, _body| match headers.get("x-gateway") {
///     Some(v) if v == "erp" => Ok(()),
///     _ => Err(AuthError::Refused("requests must come through the ERP gateway".into())),
/// });
/// # let _ = auth;
/// ```
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// Accepts or refuses a request from its headers and raw body bytes.
    async fn authenticate(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), AuthError>;

    /// A short name for logs (`none`, `api-key`, `hmac`, …).
    fn name(&self) -> &'static str {
        "custom"
    }
}

/// Accepts every request.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAuth;

#[async_trait::async_trait]
impl Authenticator for NoAuth {
    async fn authenticate(&self, _headers: &HeaderMap, _body: &[u8]) -> Result<(), AuthError> {
        Ok(())
    }

    fn name(&self) -> &'static str {
        "none"
    }
}

/// An [`Authenticator`] from a synchronous closure (see [`auth_fn`]).
pub struct FnAuth<F>(F);

#[async_trait::async_trait]
impl<F> Authenticator for FnAuth<F>
where
    F: Fn(&HeaderMap, &[u8]) -> Result<(), AuthError> + Send + Sync + 'static,
{
    async fn authenticate(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), AuthError> {
        (self.0)(headers, body)
    }
}

/// Wraps a closure `(headers, raw body) -> Result<(), AuthError>` as an authenticator.
pub fn auth_fn<F>(f: F) -> Arc<dyn Authenticator>
where
    F: Fn(&HeaderMap, &[u8]) -> Result<(), AuthError> + Send + Sync + 'static,
{
    Arc::new(FnAuth(f))
}
