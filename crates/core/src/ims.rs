//! Adobe IMS OAuth server-to-server tokens, cached in memory.
//!
//! `POST {IMS_BASE_URL}/ims/token/v3` with the form fields `grant_type=client_credentials`,
//! `client_id`, `client_secret` and `scope`; the answer's `access_token` is reused
//! until 10 minutes before its `expires_in` runs out (or half its lifetime, for
//! tokens shorter than that). Concurrent callers share one refresh
//! (single-flight): N publishes waiting on an expired token cause one request.
//! [`ImsTokenProvider::invalidate`] drops a token the ingress refused, once.
//!
//! Shared by every client of an Adobe API that takes an IMS bearer: the
//! ingestion webhook's I/O Events publisher and the Commerce REST client
//! (`commerce-kit-commerce-api`). `commerce_kit_ingestion::publisher::ims`
//! re-exports this module.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use http::HeaderValue;

use crate::http::without_url;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use tokio::time::Instant;

/// Refresh this long before a token expires (aio-lib-ims uses the same 10 minutes).
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(600);

/// The path of the token endpoint under the IMS base URL.
pub const TOKEN_PATH: &str = "/ims/token/v3";

/// OAuth server-to-server credentials.
#[derive(Clone)]
pub struct ImsCredentials {
    /// `OAUTH_CLIENT_ID` (also sent as `x-api-key`).
    pub client_id: String,
    /// `OAUTH_CLIENT_SECRET`.
    pub client_secret: SecretString,
    /// Comma-separated scopes, e.g. `adobeio_api`.
    pub scopes: String,
}

impl std::fmt::Debug for ImsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImsCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<hidden>")
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// A token fetch failed. Carries no secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImsError {
    /// IMS answered 4xx: the credentials or scopes are wrong. Not retried.
    #[error("Adobe IMS refused the integration's credentials (HTTP {status}{})", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Rejected {
        /// HTTP status.
        status: u16,
        /// IMS's `error` code, e.g. `invalid_client`.
        code: Option<String>,
    },
    /// IMS answered 5xx or 429. Retried within the budget.
    #[error("Adobe IMS failed (HTTP {0})")]
    Failed(u16),
    /// IMS could not be reached (connection, timeout). Retried within the budget.
    #[error("Adobe IMS is unreachable: {0}")]
    Unreachable(String),
    /// IMS answered 200 without a usable token.
    #[error("Adobe IMS answered without a usable token: {0}")]
    Malformed(String),
}

impl ImsError {
    /// True when trying again may help.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ImsError::Failed(_) | ImsError::Unreachable(_))
    }
}

/// A cached access token and the cache generation it came from. Cheap to
/// clone (shared), as every publish takes one.
#[derive(Clone)]
pub struct AccessToken {
    inner: Arc<TokenInner>,
}

struct TokenInner {
    secret: SecretString,
    /// `Bearer <token>`, built once and marked sensitive; `None` if the token
    /// cannot be an HTTP header value.
    bearer: Option<HeaderValue>,
    generation: u64,
}

impl AccessToken {
    fn new(secret: SecretString, generation: u64) -> Self {
        let bearer = HeaderValue::try_from(format!("Bearer {}", secret.expose_secret()))
            .ok()
            .map(|mut value| {
                value.set_sensitive(true);
                value
            });
        Self {
            inner: Arc::new(TokenInner {
                secret,
                bearer,
                generation,
            }),
        }
    }

    /// The bearer token.
    pub fn secret(&self) -> &SecretString {
        &self.inner.secret
    }

    /// The `Authorization` header value (`Bearer <token>`, marked sensitive),
    /// or `None` when the token holds characters a header cannot carry.
    pub fn bearer_header(&self) -> Option<&HeaderValue> {
        self.inner.bearer.as_ref()
    }

    fn generation(&self) -> u64 {
        self.inner.generation
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccessToken(<hidden>, generation {})", self.inner.generation)
    }
}

struct Cached {
    token: AccessToken,
    refresh_at: Instant,
}

/// Fetches and caches IMS tokens.
pub struct ImsTokenProvider {
    client: reqwest::Client,
    token_url: Url,
    credentials: ImsCredentials,
    margin: Duration,
    cache: RwLock<Option<Cached>>,
    refresh: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
    generation: AtomicU64,
}

impl std::fmt::Debug for ImsTokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImsTokenProvider")
            .field("token_url", &self.token_url.as_str())
            .field("credentials", &self.credentials)
            .field("fetches", &self.fetches())
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    expires_in: Option<serde_json::Value>,
}

impl ImsTokenProvider {
    /// A provider posting to `{ims_base_url}/ims/token/v3`.
    pub fn new(client: reqwest::Client, ims_base_url: &Url, credentials: ImsCredentials) -> Self {
        let base = ims_base_url.as_str().trim_end_matches('/');
        let token_url = Url::parse(&format!("{base}{TOKEN_PATH}")).unwrap_or_else(|_| ims_base_url.clone());
        // Present from the start, so a dashboard shows 0 rather than no data.
        for result in ["ok", "error"] {
            metrics::counter!("commerce_kit_ims_token_requests_total", "result" => result).increment(0);
        }
        Self {
            client,
            token_url,
            credentials,
            margin: DEFAULT_REFRESH_MARGIN,
            cache: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
            generation: AtomicU64::new(0),
        }
    }

    /// Sets how long before expiry a token is refreshed.
    pub fn with_refresh_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The token endpoint.
    pub fn token_url(&self) -> &Url {
        &self.token_url
    }

    /// The client id (sent as `x-api-key` to Adobe APIs).
    pub fn client_id(&self) -> &str {
        &self.credentials.client_id
    }

    /// Token requests sent to IMS since start-up.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn cached(&self) -> Option<AccessToken> {
        let guard = self.cache.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        guard
            .as_ref()
            .filter(|c| Instant::now() < c.refresh_at)
            .map(|c| c.token.clone())
    }

    /// A valid token: the cached one, or a fresh one (one request for all concurrent callers).
    pub async fn token(&self) -> Result<AccessToken, ImsError> {
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        let _single_flight = self.refresh.lock().await;
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        let fetched = self.fetch().await;
        metrics::counter!(
            "commerce_kit_ims_token_requests_total",
            "result" => if fetched.is_ok() { "ok" } else { "error" }
        )
        .increment(1);
        let (secret, lifetime) = fetched?;
        let token = AccessToken::new(secret, self.generation.fetch_add(1, Ordering::Relaxed) + 1);
        let keep = if lifetime > self.margin {
            lifetime - self.margin
        } else {
            lifetime / 2
        };
        let mut guard = self.cache.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = Some(Cached {
            token: token.clone(),
            refresh_at: Instant::now() + keep,
        });
        tracing::info!(
            expires_in_secs = lifetime.as_secs(),
            "obtained an Adobe IMS access token"
        );
        Ok(token)
    }

    /// Forgets `token` if it is still the cached one (the ingress refused it),
    /// so the next [`token`](Self::token) fetches a new one. Concurrent
    /// invalidations of the same token cause a single refresh.
    pub fn invalidate(&self, token: &AccessToken) {
        let mut guard = self.cache.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if guard
            .as_ref()
            .is_some_and(|c| c.token.generation() == token.generation())
        {
            *guard = None;
        }
    }

    async fn fetch(&self) -> Result<(SecretString, Duration), ImsError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.credentials.client_id.as_str()),
            ("client_secret", self.credentials.client_secret.expose_secret()),
            ("scope", self.credentials.scopes.as_str()),
        ];
        let response = self
            .client
            .post(self.token_url.clone())
            .header(http::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| ImsError::Unreachable(without_url(&e)))?;
        let status = response.status();
        if status.is_client_error() && status != http::StatusCode::TOO_MANY_REQUESTS {
            let code = response.json::<serde_json::Value>().await.ok().and_then(|v| {
                v.get("error")
                    .and_then(|e| e.as_str())
                    .map(|s| s.chars().take(64).collect())
            });
            tracing::error!(status = status.as_u16(), code = ?code, url = %self.token_url, "Adobe IMS refused the token request");
            return Err(ImsError::Rejected {
                status: status.as_u16(),
                code,
            });
        }
        if !status.is_success() {
            tracing::warn!(status = status.as_u16(), url = %self.token_url, "Adobe IMS token request failed");
            return Err(ImsError::Failed(status.as_u16()));
        }
        let body: TokenResponse = response
            .json()
            .await
            .map_err(|e| ImsError::Malformed(format!("invalid JSON: {}", without_url(&e))))?;
        let token = body
            .access_token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ImsError::Malformed("no access_token".into()))?;
        let secs = match body.expires_in {
            Some(serde_json::Value::Number(n)) => n.as_u64(),
            Some(serde_json::Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| ImsError::Malformed("no numeric expires_in".into()))?;
        Ok((SecretString::from(token), Duration::from_secs(secs)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bearer_header_is_built_once_sensitive_and_shared() {
        let token = AccessToken::new(SecretString::from("tok-123"), 7);
        let header = token.bearer_header().expect("valid");
        assert_eq!(header, "Bearer tok-123");
        assert!(header.is_sensitive(), "never printed by http's Debug");
        let copy = token.clone();
        assert!(Arc::ptr_eq(&token.inner, &copy.inner), "clones share the token");
        assert_eq!(copy.secret().expose_secret(), "tok-123");
        assert_eq!(format!("{copy:?}"), "AccessToken(<hidden>, generation 7)");
    }

    #[test]
    fn a_token_that_cannot_be_a_header_has_no_bearer_header() {
        let token = AccessToken::new(SecretString::from("bad\ntoken"), 1);
        assert!(token.bearer_header().is_none());
        assert_eq!(token.secret().expose_secret(), "bad\ntoken");
    }
}
