//! HMAC-SHA256 request signing for back offices.
//!
//! A back office signs each request with a secret it shares with us
//! (`INGESTION_HMAC_SECRET`) and sends two headers:
//!
//! | header | value |
//! |---|---|
//! | `x-commerce-kit-timestamp` | the current time in unix seconds, e.g. `1767225600` |
//! | `x-commerce-kit-signature` | `sha256=` + lower-case hex of HMAC-SHA256(secret, `"<timestamp>.<raw body>"`) |
//!
//! The signed message is the timestamp header's exact text, a dot, then the
//! body bytes exactly as sent (sign the bytes you send; do not re-serialize).
//! Requests whose timestamp is more than the replay window (default 5
//! minutes) away from the server's clock are refused, so a captured request
//! cannot be replayed later. Hex digits are accepted in either case.
//!
//! To rotate the secret without refusing anyone, configure the new one as the
//! secret and the old one as the previous secret
//! (`INGESTION_HMAC_PREVIOUS_SECRET`, [`HmacAuth::with_previous_secret`]); both
//! verify, and each request still signed with the old one is logged at info.
//! Once no such line appears, remove the previous secret.
//!
//! In a shell:
//!
//! ```text
//! ts=$(date +%s)
//! sig=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$SECRET" -hex | sed 's/^.* //')
//! curl -H "x-commerce-kit-timestamp: $ts" -H "x-commerce-kit-signature: sha256=$sig" …
//! ```
//!
//! In Rust, [`sign_request`]:
//!
//! ```
//! use commerce_kit_ingestion::auth::{sign_request, HmacAuth, Authenticator};
//! use secrecy::SecretString;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let body = br#"{"data":{"uid":"1","event":"be-observer.catalog_product_delete","value":{"sku":"A"}}}"#;
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
//! let mut headers = http::HeaderMap::new();
//! for (name, value) in sign_request(b"s3cret", now, body) {
//!     headers.insert(name, value.parse().unwrap());
//! }
//! let auth = HmacAuth::new(SecretString::from("s3cret"));
//! assert!(auth.authenticate(&headers, body).await.is_ok());
//! assert!(auth.authenticate(&headers, b"tampered").await.is_err());
//! # });
//! ```

use std::time::Duration;

use commerce_kit_core::signature::{constant_time_eq, hmac_sha256};
use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};

use super::{AuthError, Authenticator};

/// Header carrying the signing time (unix seconds).
pub const TIMESTAMP_HEADER: &str = "x-commerce-kit-timestamp";
/// Header carrying `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-commerce-kit-signature";
/// Default replay window.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(300);

const PREFIX: &str = "sha256=";

/// The two headers that sign `body` at `timestamp` (unix seconds) with `secret`.
pub fn sign_request(secret: &[u8], timestamp: i64, body: &[u8]) -> [(&'static str, String); 2] {
    let ts = timestamp.to_string();
    let signature = hex::encode(hmac_sha256(secret, &message(&ts, body)));
    [
        (TIMESTAMP_HEADER, ts),
        (SIGNATURE_HEADER, format!("{PREFIX}{signature}")),
    ]
}

fn message(timestamp: &str, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(timestamp.len() + 1 + body.len());
    m.extend_from_slice(timestamp.as_bytes());
    m.push(b'.');
    m.extend_from_slice(body);
    m
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Verifies [`sign_request`]'s headers. See the [module docs](self) for the scheme.
pub struct HmacAuth {
    secret: SecretString,
    previous: Option<SecretString>,
    window: Duration,
    now: fn() -> i64,
}

impl std::fmt::Debug for HmacAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacAuth")
            .field("window", &self.window)
            .field("previous_secret", &self.previous.is_some())
            .finish_non_exhaustive()
    }
}

impl HmacAuth {
    /// Verifies with `secret` and the default ±5 minute window.
    pub fn new(secret: SecretString) -> Self {
        Self {
            secret,
            previous: None,
            window: DEFAULT_WINDOW,
            now: unix_now,
        }
    }

    /// Also accepts signatures made with `previous`, while back offices move
    /// to the current secret (see [rotation](self)).
    ///
    /// ```
    /// use commerce_kit_ingestion::auth::{sign_request, HmacAuth, Authenticator};
    /// use secrecy::SecretString;
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let auth = HmacAuth::new(SecretString::from("new")).with_previous_secret(SecretString::from("old"));
    /// let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    /// for secret in [&b"new"[..], b"old"] {
    ///     let mut headers = http::HeaderMap::new();
    ///     for (name, value) in sign_request(secret, now, b"{}") {
    ///         headers.insert(name, value.parse().unwrap());
    ///     }
    ///     assert!(auth.authenticate(&headers, b"{}").await.is_ok());
    /// }
    /// # });
    /// ```
    pub fn with_previous_secret(mut self, previous: SecretString) -> Self {
        self.previous = Some(previous);
        self
    }

    /// Sets the replay window.
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// Replaces the clock (unix seconds), for tests.
    pub fn with_clock(mut self, now: fn() -> i64) -> Self {
        self.now = now;
        self
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<&'h str, AuthError> {
    let value = headers.get(name).ok_or(AuthError::MissingHeader(name))?;
    let text = value.to_str().map_err(|_| match name {
        TIMESTAMP_HEADER => AuthError::MalformedTimestamp,
        _ => AuthError::MalformedSignature,
    })?;
    Ok(text.trim())
}

#[async_trait::async_trait]
impl Authenticator for HmacAuth {
    async fn authenticate(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), AuthError> {
        let ts_text = header(headers, TIMESTAMP_HEADER)?;
        let sig_text = header(headers, SIGNATURE_HEADER)?;
        if ts_text.is_empty() || ts_text.len() > 18 || !ts_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AuthError::MalformedTimestamp);
        }
        let ts: i64 = ts_text.parse().map_err(|_| AuthError::MalformedTimestamp)?;
        let given = sig_text
            .strip_prefix(PREFIX)
            .and_then(|hex_sig| hex::decode(hex_sig).ok())
            .filter(|raw| raw.len() == 32)
            .ok_or(AuthError::MalformedSignature)?;
        let skew = (self.now)().abs_diff(ts);
        if skew > self.window.as_secs() {
            return Err(AuthError::StaleTimestamp {
                skew_secs: skew,
                window_secs: self.window.as_secs(),
            });
        }
        let message = message(ts_text, body);
        let signed_with =
            |secret: &SecretString| constant_time_eq(&hmac_sha256(secret.expose_secret().as_bytes(), &message), &given);
        if signed_with(&self.secret) {
            return Ok(());
        }
        match &self.previous {
            Some(previous) if signed_with(previous) => {
                tracing::info!(
                    "request signed with the previous HMAC secret (INGESTION_HMAC_PREVIOUS_SECRET); \
                     the back office should move to the current one"
                );
                Ok(())
            }
            _ => Err(AuthError::BadSignature),
        }
    }

    fn name(&self) -> &'static str {
        "hmac"
    }
}
