//! IMS bearer authentication of check-stock calls: hooks that Commerce
//! authenticates with Adobe Developer Console OAuth instead of (or besides)
//! its RSA signature.
//!
//! # What Commerce sends
//!
//! Since Commerce Webhooks 1.13.0 a hook may hold the credentials of a
//! Developer Console "OAuth Server-to-Server" credential: the
//! `developerConsoleOauth` element of a hook in `webhooks.xml` (children
//! `clientId`, `clientSecret`, `orgId`), or `developer_console_oauth`
//! (`client_id`, `client_secret`, `org_id`) in the body of
//! `POST /V1/webhooks/subscribe`. Commerce then obtains an IMS access token
//! for that credential, reuses it until it expires, and adds two headers to
//! every call of the hook: `Authorization: Bearer <access token>` and
//! `x-gw-ims-org-id: <org id>`.
//! Sources: AdobeDocs/commerce-extensibility, `src/pages/webhooks/release-notes.md`
//! (1.13.0), `xml-schema.md` (the `developerConsoleOauth` element), `api.md`
//! (subscribe a webhook) and `tutorial/best-practices.md` (secure webhook
//! communication using OAuth credentials).
//!
//! # What an IMS access token is
//!
//! A JWT (three base64url parts) signed with RS256:
//!
//! - its header names the algorithm (`alg`: `RS256`), the signing key (`kid`)
//!   and a certificate file name (`x5u`, a bare name such as
//!   `ims_na1-key-at-1.cer`, not a URL). The key is looked up by `kid` in
//!   IMS's published key set; `x5u` is not used here. (Commerce's own
//!   `Magento\AdobeIms\Model\TokenReader` in magento/magento2 instead fetches
//!   the certificate named by `x5u` under a configured certificate path.)
//! - its claims have no `exp`: `type` is `access_token`, `client_id` is the
//!   client id of the credential the token was issued to, `created_at` is
//!   when it was issued and `expires_in` how long it lives, both in
//!   milliseconds and both sent as strings of digits; the token expires at
//!   their sum. Source: adobe/aio-lib-ims, `e2e/e2e.js` (asserts exactly these
//!   claims on a token IMS issued for client credentials) and `src/ims.js`
//!   (the expiry is `created_at + expires_in`; `_validateToken` reads the
//!   token's `type` and `client_id` and asks IMS's `/ims/validate_token/v1`,
//!   the online check this module replaces with a local one).
//! - IMS publishes its public signing keys as a JWK Set at `/ims/keys` on its
//!   host: the `jwks_uri` of `https://ims-na1.adobelogin.com/ims/.well-known/openid-configuration`,
//!   signing algorithm RS256 (Adobe Developer Console documentation, "User
//!   Authentication Credentials API Reference"). Adobe's adobe/da-admin
//!   (`src/utils/auth.js`, "IMS offline token validation") verifies access
//!   tokens against that set, then checks `type` and `created_at + expires_in`
//!   against the clock in milliseconds; it waits 30 s before fetching the set
//!   again for an unknown key and keeps a set at most 24 h. The production
//!   IMS host is `https://ims-na1.adobelogin.com` (aio-lib-ims's `prod`
//!   endpoint).
//!
//! # What is checked, in order
//!
//! 1. `Authorization` is present once and is `Bearer <token>` (scheme in any case);
//! 2. the token is a JWT of at most [`MAX_TOKEN_BYTES`] whose header says
//!    `RS256` and names a `kid`;
//! 3. the key set at `<IMS base URL>/ims/keys` has that `kid`, and the
//!    signature over `header.payload` verifies with it;
//! 4. only then the claims: `type` is `access_token`; `created_at` and
//!    `expires_in` are whole milliseconds (strings, as IMS sends them, or
//!    numbers); now is before `created_at + expires_in` + [`CLOCK_SKEW`] and
//!    `created_at` is not more than [`CLOCK_SKEW`] ahead of now; `client_id`
//!    is the configured client id;
//! 5. `x-gw-ims-org-id` equals the configured org id. The header is not
//!    covered by the token's signature (Commerce adds it beside the token), so
//!    this is a consistency check of the hook's configuration; the token's
//!    `client_id` is what ties the call to the credential.
//!
//! Every failure is a [`ImsAuthFailure`] whose `Display` is the message
//! answered with HTTP 401; no message and no log line contains the token or
//! any part of it, nor the client or org id it was compared with.
//!
//! # Keys
//!
//! The key set is fetched on first use and kept for the key TTL
//! ([`DEFAULT_KEY_TTL`], at most [`MAX_KEY_TTL`]); one fetch runs at a time
//! and callers waiting for it use its result. A fetch has one attempt bounded
//! by the fetch timeout ([`DEFAULT_FETCH_TIMEOUT`]), no retries. A `kid`
//! missing from a fresh set triggers at most one fetch per refetch interval
//! ([`DEFAULT_REFETCH_INTERVAL`]), so tokens naming random keys cannot make
//! every call a fetch. When a fetch fails, the last good set keeps serving
//! until it is [`MAX_STALE`] old (a warning is logged), and the next attempt
//! waits [`RETRY_AFTER_FAILURE`] (or the refetch interval, if shorter).
//! Without any usable set the call is refused with
//! `cannot verify IMS token: IMS keys unavailable`: a key host that is down
//! or stalls costs a call at most the fetch timeout, never an open door.
//!
//! ```
//! use commerce_kit_webhook::ims_auth::ImsTokenVerifier;
//!
//! let verifier = ImsTokenVerifier::builder("my-client-id", "12345@AdobeOrg").build().unwrap();
//! assert_eq!(verifier.keys_url(), "https://ims-na1.adobelogin.com/ims/keys");
//! ```
//!
//! With the `test-util` feature, `TestImsToken` mints tokens signed with
//! commerce-kit's fixed test key, `test_key_set()` is the matching key set and
//! `serve_test_key_set()` serves it on loopback.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use commerce_kit_core::http::{ClientTimeouts, client};
use commerce_kit_core::signature::RsaPublicKey;
use http::HeaderMap;
use reqwest::Url;
use serde_json::Value;

// No JWT crate: an IMS token needs base64url, one JSON header, one RS256
// verification (the kit's `RsaPublicKey`, aws-lc backed) and claims that are
// not the registered ones (`created_at`/`expires_in` in milliseconds as
// strings, no `exp`), which a JWT crate's validation would have to be turned
// off for. The code below is smaller than that configuration and pulls in no
// second RSA stack.

/// Adobe IMS's production host, the default base URL of the key set.
pub const DEFAULT_IMS_BASE_URL: &str = "https://ims-na1.adobelogin.com";
/// Where IMS publishes its signing keys (a JWK Set), under its base URL.
pub const KEYS_PATH: &str = "/ims/keys";
/// The header Commerce puts the credential's org id in.
pub const ORG_ID_HEADER: &str = "x-gw-ims-org-id";
/// How long a fetched key set is used before it is fetched again: 1 h.
pub const DEFAULT_KEY_TTL: Duration = Duration::from_secs(3600);
/// The longest key TTL accepted: 24 h.
pub const MAX_KEY_TTL: Duration = Duration::from_secs(24 * 3600);
/// Time one key-set fetch may take (connect, send, read): 1 s.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_millis(1000);
/// Least time between two fetches caused by an unknown `kid`: 30 s.
pub const DEFAULT_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// Least time between a failed fetch and the next attempt: 5 s (or the
/// refetch interval, if shorter).
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(5);
/// How long the last good key set keeps serving while fetches fail: 24 h.
pub const MAX_STALE: Duration = Duration::from_secs(24 * 3600);
/// Clock difference tolerated on `created_at` and on the expiry: 60 s.
pub const CLOCK_SKEW: Duration = Duration::from_secs(60);
/// The longest bearer token accepted, in bytes (IMS tokens are 1–2 KB).
pub const MAX_TOKEN_BYTES: usize = 8192;
/// The largest key-set document read.
const MAX_KEY_SET_BYTES: usize = 64 * 1024;
/// At most this many keys of a key set are used.
const MAX_KEYS: usize = 32;
/// The smallest RSA key accepted, in bits.
const MIN_KEY_BITS: usize = 2048;
/// The `type` claim of an access token.
const ACCESS_TOKEN_TYPE: &str = "access_token";

/// base64url as JWTs use it (RFC 7515: no padding), also accepting padding.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What is wrong with the token itself. Never carries token material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenProblem {
    /// Not a JWT, or a part of it does not decode; says which.
    #[error("not a JWT ({0})")]
    Malformed(&'static str),
    /// The header's `alg` is not `RS256`.
    #[error("alg is not RS256")]
    Algorithm,
    /// The header has no `kid`.
    #[error("header has no kid")]
    NoKeyId,
    /// IMS's key set has no key with the token's `kid`.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify with the key named by `kid`.
    #[error("signature does not match")]
    BadSignature,
    /// A claim the check needs is absent.
    #[error("missing claim {0}")]
    MissingClaim(&'static str),
    /// `type` is not `access_token`.
    #[error("type is not access_token")]
    NotAccessToken,
    /// `created_at` or `expires_in` is not a whole number of milliseconds.
    #[error("{0} is not a whole number of milliseconds")]
    BadTime(&'static str),
    /// Now is past `created_at + expires_in` (beyond the clock skew).
    #[error("expired")]
    Expired,
    /// `created_at` is ahead of now (beyond the clock skew).
    #[error("created_at is in the future")]
    NotYetValid,
    /// `client_id` is not the configured client id.
    #[error("client_id does not match")]
    ClientIdMismatch,
}

/// Why a call's IMS authentication failed: each answers HTTP 401 with
/// `{"error": <Display>}`. Carries no token material and no configured id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ImsAuthFailure {
    /// No `Authorization` header.
    #[error("missing Authorization header")]
    MissingAuthorization,
    /// `Authorization` is not one `Bearer <token>` value.
    #[error("invalid Authorization header: expected 'Bearer <IMS access token>'")]
    NotBearer,
    /// The token is not a valid IMS access token for this client.
    #[error("invalid IMS token: {0}")]
    Token(TokenProblem),
    /// IMS's key set could not be fetched (and none is cached).
    #[error("cannot verify IMS token: IMS keys unavailable")]
    KeysUnavailable,
    /// No `x-gw-ims-org-id` header.
    #[error("missing x-gw-ims-org-id header")]
    MissingOrgId,
    /// `x-gw-ims-org-id` is not the configured org id.
    #[error("x-gw-ims-org-id does not match")]
    OrgIdMismatch,
}

impl ImsAuthFailure {
    /// Short reason category for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            ImsAuthFailure::MissingAuthorization => "ims_authorization_missing",
            ImsAuthFailure::NotBearer => "ims_authorization_invalid",
            ImsAuthFailure::Token(TokenProblem::Expired) => "ims_token_expired",
            ImsAuthFailure::Token(TokenProblem::UnknownKey) => "ims_unknown_key",
            ImsAuthFailure::Token(TokenProblem::ClientIdMismatch) => "ims_client_id_mismatch",
            ImsAuthFailure::Token(_) => "ims_token_invalid",
            ImsAuthFailure::KeysUnavailable => "ims_keys_unavailable",
            ImsAuthFailure::MissingOrgId => "ims_org_id_missing",
            ImsAuthFailure::OrgIdMismatch => "ims_org_id_mismatch",
        }
    }
}

impl From<TokenProblem> for ImsAuthFailure {
    fn from(problem: TokenProblem) -> Self {
        ImsAuthFailure::Token(problem)
    }
}

/// An [`ImsTokenVerifier`] setting is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImsConfigError {
    /// The client id is empty.
    #[error("the IMS client id is empty")]
    EmptyClientId,
    /// The org id is empty.
    #[error("the IMS org id is empty")]
    EmptyOrgId,
    /// The base URL is not a plain http(s) URL.
    #[error("IMS base URL {0:?} must be an absolute http(s) URL with a host and no query, fragment or credentials")]
    BadBaseUrl(String),
    /// A duration that must be positive is zero.
    #[error("the {0} must be greater than 0")]
    Zero(&'static str),
    /// The key TTL is above [`MAX_KEY_TTL`].
    #[error("the key TTL must be at most 24 h")]
    TtlTooLong,
    /// The HTTP client could not be built.
    #[error("{0}")]
    Client(String),
}

/// Settings of an [`ImsTokenVerifier`]; [`build`](Self::build) checks them.
#[derive(Debug, Clone)]
pub struct ImsTokenVerifierBuilder {
    client_id: String,
    org_id: String,
    base_url: String,
    key_ttl: Duration,
    fetch_timeout: Duration,
    refetch_interval: Duration,
}

impl ImsTokenVerifierBuilder {
    /// IMS's base URL (default [`DEFAULT_IMS_BASE_URL`]); keys are read from
    /// `<base URL>/ims/keys`. A path prefix is kept (for a proxy).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// How long a key set is used before it is fetched again (default
    /// [`DEFAULT_KEY_TTL`], at most [`MAX_KEY_TTL`]).
    pub fn key_ttl(mut self, ttl: Duration) -> Self {
        self.key_ttl = ttl;
        self
    }

    /// Time one fetch of the key set may take (default [`DEFAULT_FETCH_TIMEOUT`]).
    /// Keep it well under check-stock's deadline.
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.fetch_timeout = timeout;
        self
    }

    /// Least time between two fetches caused by an unknown `kid` (default
    /// [`DEFAULT_REFETCH_INTERVAL`]).
    pub fn refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// Checks the settings and builds the verifier (nothing is fetched yet).
    pub fn build(self) -> Result<ImsTokenVerifier, ImsConfigError> {
        let client_id = self.client_id.trim().to_owned();
        let org_id = self.org_id.trim().to_owned();
        if client_id.is_empty() {
            return Err(ImsConfigError::EmptyClientId);
        }
        if org_id.is_empty() {
            return Err(ImsConfigError::EmptyOrgId);
        }
        for (value, name) in [
            (self.key_ttl, "key TTL"),
            (self.fetch_timeout, "key fetch timeout"),
            (self.refetch_interval, "key refetch interval"),
        ] {
            if value.is_zero() {
                return Err(ImsConfigError::Zero(name));
            }
        }
        if self.key_ttl > MAX_KEY_TTL {
            return Err(ImsConfigError::TtlTooLong);
        }
        let url = keys_url(&self.base_url)?;
        let http = client(ClientTimeouts {
            connect: self.fetch_timeout,
            request: self.fetch_timeout,
        })
        .map_err(|e| ImsConfigError::Client(e.to_string()))?;
        Ok(ImsTokenVerifier {
            client_id,
            org_id,
            keys: KeyCache {
                url,
                http,
                ttl: self.key_ttl,
                fetch_timeout: self.fetch_timeout,
                refetch_interval: self.refetch_interval,
                state: RwLock::new(KeyState::default()),
                fetch_lock: tokio::sync::Mutex::new(()),
                fetches: AtomicU64::new(0),
            },
        })
    }
}

/// `<base>/ims/keys`, or why `base` is refused.
fn keys_url(base: &str) -> Result<Url, ImsConfigError> {
    let bad = || ImsConfigError::BadBaseUrl(base.to_owned());
    let parsed = Url::parse(base.trim()).map_err(|_| bad())?;
    let plain = matches!(parsed.scheme(), "http" | "https")
        && parsed.host_str().is_some()
        && parsed.query().is_none()
        && parsed.fragment().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none();
    if !plain {
        return Err(bad());
    }
    let joined = format!("{}{KEYS_PATH}", parsed.as_str().trim_end_matches('/'));
    Url::parse(&joined).map_err(|_| bad())
}

/// Verifies the IMS access token of a call (see the [module docs](self)):
/// signature against IMS's published keys, type, expiry, client id, and the
/// org header.
pub struct ImsTokenVerifier {
    client_id: String,
    org_id: String,
    keys: KeyCache,
}

impl std::fmt::Debug for ImsTokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImsTokenVerifier")
            .field("client_id", &self.client_id)
            .field("org_id", &self.org_id)
            .field("keys_url", &self.keys.url.as_str())
            .field("key_ttl", &self.keys.ttl)
            .field("fetch_timeout", &self.keys.fetch_timeout)
            .finish_non_exhaustive()
    }
}

impl ImsTokenVerifier {
    /// Settings for tokens issued to `client_id` and calls naming `org_id` in
    /// `x-gw-ims-org-id`: the Developer Console credential the hook's
    /// `developerConsoleOauth` holds.
    pub fn builder(client_id: impl Into<String>, org_id: impl Into<String>) -> ImsTokenVerifierBuilder {
        ImsTokenVerifierBuilder {
            client_id: client_id.into(),
            org_id: org_id.into(),
            base_url: DEFAULT_IMS_BASE_URL.to_owned(),
            key_ttl: DEFAULT_KEY_TTL,
            fetch_timeout: DEFAULT_FETCH_TIMEOUT,
            refetch_interval: DEFAULT_REFETCH_INTERVAL,
        }
    }

    /// The client id tokens must be issued to.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The org id `x-gw-ims-org-id` must carry.
    pub fn org_id(&self) -> &str {
        &self.org_id
    }

    /// Where the key set is fetched from.
    pub fn keys_url(&self) -> &str {
        self.keys.url.as_str()
    }

    /// Time one fetch of the key set may take.
    pub fn fetch_timeout(&self) -> Duration {
        self.keys.fetch_timeout
    }

    /// How many key-set fetches were started so far (for tests and metrics).
    pub fn fetch_count(&self) -> u64 {
        self.keys.fetches.load(Ordering::Relaxed)
    }

    /// Checks the call's `Authorization` and `x-gw-ims-org-id` headers.
    pub async fn verify(&self, headers: &HeaderMap) -> Result<(), ImsAuthFailure> {
        self.verify_at(headers, now_ms()).await
    }

    /// [`verify`](Self::verify) with the clock at `now_ms` (ms since the epoch).
    async fn verify_at(&self, headers: &HeaderMap, now_ms: u64) -> Result<(), ImsAuthFailure> {
        let token = bearer(headers)?;
        let jwt = Jwt::parse(token)?;
        let key = self.keys.key(&jwt.kid).await?;
        key.verify(jwt.signed.as_bytes(), &jwt.signature)
            .map_err(|_| TokenProblem::BadSignature)?;
        let claims = jwt.claims()?;
        check_claims(&claims, &self.client_id, now_ms)?;
        check_org(headers, &self.org_id)
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The token of the one `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Result<&str, ImsAuthFailure> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next().ok_or(ImsAuthFailure::MissingAuthorization)?;
    if values.next().is_some() {
        return Err(ImsAuthFailure::NotBearer);
    }
    let text = value.to_str().map_err(|_| ImsAuthFailure::NotBearer)?.trim();
    let (scheme, token) = text.split_once(' ').ok_or(ImsAuthFailure::NotBearer)?;
    let token = token.trim_start();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.contains(char::is_whitespace) {
        return Err(ImsAuthFailure::NotBearer);
    }
    Ok(token)
}

fn check_org(headers: &HeaderMap, org_id: &str) -> Result<(), ImsAuthFailure> {
    let mut values = headers.get_all(ORG_ID_HEADER).iter();
    let value = values.next().ok_or(ImsAuthFailure::MissingOrgId)?;
    let sent = value.to_str().map_err(|_| ImsAuthFailure::OrgIdMismatch)?.trim();
    if values.next().is_some() || sent != org_id {
        return Err(ImsAuthFailure::OrgIdMismatch);
    }
    Ok(())
}

/// A token split and decoded as far as is needed to find its key.
struct Jwt<'t> {
    /// `header.payload`, the signed text.
    signed: &'t str,
    payload: &'t str,
    signature: Vec<u8>,
    kid: String,
}

impl<'t> Jwt<'t> {
    fn parse(token: &'t str) -> Result<Self, TokenProblem> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenProblem::Malformed("longer than 8192 bytes"));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenProblem::Malformed("expected three dot-separated parts"));
        };
        let signed = &token[..header.len() + 1 + payload.len()];
        let header: Value = BASE64URL
            .decode(header)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .filter(Value::is_object)
            .ok_or(TokenProblem::Malformed("header is not base64url JSON"))?;
        let signature = BASE64URL
            .decode(signature)
            .map_err(|_| TokenProblem::Malformed("signature is not base64url"))?;
        if header.get("alg").and_then(Value::as_str) != Some("RS256") {
            return Err(TokenProblem::Algorithm);
        }
        let kid = match header.get("kid").and_then(Value::as_str) {
            Some(kid) if !kid.is_empty() => kid.to_owned(),
            _ => return Err(TokenProblem::NoKeyId),
        };
        Ok(Self {
            signed,
            payload,
            signature,
            kid,
        })
    }

    /// The claims; read only after the signature verified.
    fn claims(&self) -> Result<serde_json::Map<String, Value>, TokenProblem> {
        BASE64URL
            .decode(self.payload)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or(TokenProblem::Malformed("claims are not a base64url JSON object"))
    }
}

fn check_claims(claims: &serde_json::Map<String, Value>, client_id: &str, now_ms: u64) -> Result<(), TokenProblem> {
    match claims.get("type") {
        None | Some(Value::Null) => return Err(TokenProblem::MissingClaim("type")),
        Some(Value::String(kind)) if kind == ACCESS_TOKEN_TYPE => {}
        Some(_) => return Err(TokenProblem::NotAccessToken),
    }
    let created_at = millis(claims, "created_at")?;
    let expires_in = millis(claims, "expires_in")?;
    let expires_at = created_at
        .checked_add(expires_in)
        .ok_or(TokenProblem::BadTime("expires_in"))?;
    let skew = CLOCK_SKEW.as_millis() as u64;
    if now_ms >= expires_at.saturating_add(skew) {
        return Err(TokenProblem::Expired);
    }
    if created_at > now_ms.saturating_add(skew) {
        return Err(TokenProblem::NotYetValid);
    }
    match claims.get("client_id") {
        None | Some(Value::Null) => Err(TokenProblem::MissingClaim("client_id")),
        Some(Value::String(id)) if id == client_id => Ok(()),
        Some(_) => Err(TokenProblem::ClientIdMismatch),
    }
}

/// A millisecond claim: a string of digits (as IMS sends it) or a whole number.
fn millis(claims: &serde_json::Map<String, Value>, name: &'static str) -> Result<u64, TokenProblem> {
    match claims.get(name) {
        None | Some(Value::Null) => Err(TokenProblem::MissingClaim(name)),
        Some(Value::String(text)) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) => {
            text.parse().map_err(|_| TokenProblem::BadTime(name))
        }
        Some(Value::Number(number)) => number.as_u64().ok_or(TokenProblem::BadTime(name)),
        Some(_) => Err(TokenProblem::BadTime(name)),
    }
}

/// IMS's key set, fetched on demand and cached (see "Keys" in the module docs).
struct KeyCache {
    url: Url,
    http: reqwest::Client,
    ttl: Duration,
    fetch_timeout: Duration,
    refetch_interval: Duration,
    state: RwLock<KeyState>,
    /// One fetch at a time.
    fetch_lock: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

#[derive(Default)]
struct KeyState {
    set: Option<KeySet>,
    /// When the last fetch started; set before it runs, so a fetch cut short
    /// (its caller's deadline) still counts as an attempt.
    last_attempt: Option<Instant>,
    /// When the last fetch ended (not set by a fetch cut short).
    last_finished: Option<Instant>,
    /// Whether the last fetch failed (or has not finished).
    last_failed: bool,
}

struct KeySet {
    keys: HashMap<String, Arc<RsaPublicKey>>,
    fetched: Instant,
}

impl KeyCache {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, KeyState> {
        self.state.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, KeyState> {
        self.state.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The key from a set younger than the TTL, if it has it.
    fn fresh_key(&self, kid: &str, now: Instant) -> Option<Arc<RsaPublicKey>> {
        let state = self.read();
        let set = state
            .set
            .as_ref()
            .filter(|set| now.duration_since(set.fetched) < self.ttl)?;
        set.keys.get(kid).cloned()
    }

    /// The key named `kid`, fetching the set when it is missing, old, or lacks
    /// `kid` (within the limits described in the module docs).
    async fn key(&self, kid: &str) -> Result<Arc<RsaPublicKey>, ImsAuthFailure> {
        let asked = Instant::now();
        if let Some(key) = self.fresh_key(kid, asked) {
            return Ok(key);
        }
        let _one_fetch = self.fetch_lock.lock().await;
        let now = Instant::now();
        if let Some(key) = self.fresh_key(kid, now) {
            return Ok(key);
        }
        if self.may_fetch(asked, now) {
            self.refresh().await;
        }
        let state = self.read();
        match state
            .set
            .as_ref()
            .filter(|set| Instant::now().duration_since(set.fetched) < MAX_STALE)
        {
            Some(set) => set
                .keys
                .get(kid)
                .cloned()
                .ok_or(ImsAuthFailure::Token(TokenProblem::UnknownKey)),
            None => Err(ImsAuthFailure::KeysUnavailable),
        }
    }

    /// Whether a fetch may start now (the fetch lock is held).
    fn may_fetch(&self, asked: Instant, now: Instant) -> bool {
        let state = self.read();
        let Some(last) = state.last_attempt else {
            return true;
        };
        if last >= asked || state.last_finished.is_some_and(|finished| finished >= asked) {
            // A fetch ran while this caller waited for the lock: use its result.
            return false;
        }
        let since = now.duration_since(last);
        let fresh = state
            .set
            .as_ref()
            .is_some_and(|set| now.duration_since(set.fetched) < self.ttl);
        if state.last_failed {
            since >= RETRY_AFTER_FAILURE.min(self.refetch_interval)
        } else if fresh {
            // The set is fresh but lacks the kid: at most one fetch per interval.
            since >= self.refetch_interval
        } else {
            true
        }
    }

    async fn refresh(&self) {
        {
            let mut state = self.write();
            state.last_attempt = Some(Instant::now());
            state.last_failed = true;
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let fetched = match tokio::time::timeout(self.fetch_timeout, self.fetch()).await {
            Ok(result) => result,
            Err(_) => Err(format!("no answer within {} ms", self.fetch_timeout.as_millis())),
        };
        self.write().last_finished = Some(Instant::now());
        match fetched {
            Ok(keys) => {
                let mut state = self.write();
                state.set = Some(KeySet {
                    keys,
                    fetched: Instant::now(),
                });
                state.last_failed = false;
            }
            Err(error) => {
                let stale = self.read().set.as_ref().map(|set| set.fetched.elapsed().as_secs());
                match stale {
                    Some(age_secs) => tracing::warn!(
                        url = %self.url,
                        error = %error,
                        age_secs,
                        "IMS public keys could not be fetched; still using the key set fetched before (used for at most 24 h)"
                    ),
                    None => tracing::warn!(
                        url = %self.url,
                        error = %error,
                        "IMS public keys could not be fetched; IMS-authenticated check-stock calls are refused until they can"
                    ),
                }
            }
        }
    }

    async fn fetch(&self) -> Result<HashMap<String, Arc<RsaPublicKey>>, String> {
        let mut response = self
            .http
            .get(self.url.clone())
            .header(http::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("request failed: {}", error_chain(&e)))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("answered {status}"));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("body could not be read: {}", error_chain(&e)))?
        {
            if body.len() + chunk.len() > MAX_KEY_SET_BYTES {
                return Err(format!("key set is larger than {MAX_KEY_SET_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        parse_key_set(&body)
    }
}

/// The usable keys of a JWK Set: RSA keys with a `kid`, meant for signatures
/// (`use` absent or `sig`) with RS256 (`alg` absent or `RS256`), of 2048 bits
/// or more. Other entries are skipped; a set with none is an error.
fn parse_key_set(body: &[u8]) -> Result<HashMap<String, Arc<RsaPublicKey>>, String> {
    let document: Value = serde_json::from_slice(body).map_err(|e| format!("key set is not JSON: {e}"))?;
    let entries = document
        .get("keys")
        .and_then(Value::as_array)
        .ok_or("key set has no \"keys\" array")?;
    let mut keys = HashMap::new();
    for entry in entries.iter().take(MAX_KEYS) {
        let text = |name: &str| entry.get(name).and_then(Value::as_str);
        let usable = text("kty") == Some("RSA")
            && matches!(text("use"), None | Some("sig"))
            && matches!(text("alg"), None | Some("RS256"));
        let (Some(kid), Some(n), Some(e)) = (text("kid"), text("n"), text("e")) else {
            continue;
        };
        if !usable {
            continue;
        }
        match rsa_key(n, e) {
            Ok(key) => {
                keys.insert(kid.to_owned(), Arc::new(key));
            }
            Err(why) => tracing::warn!(kid, why, "IMS key set: key skipped"),
        }
    }
    if keys.is_empty() {
        return Err("key set has no usable RSA signing key".to_owned());
    }
    Ok(keys)
}

/// An RS256 verification key from a JWK's modulus and exponent (base64url).
fn rsa_key(n: &str, e: &str) -> Result<RsaPublicKey, &'static str> {
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    use rsa::traits::PublicKeyParts;

    let n = BASE64URL.decode(n).map_err(|_| "n is not base64url")?;
    let e = BASE64URL.decode(e).map_err(|_| "e is not base64url")?;
    let key = rsa::RsaPublicKey::new(rsa::BigUint::from_bytes_be(&n), rsa::BigUint::from_bytes_be(&e))
        .map_err(|_| "not a valid RSA public key")?;
    if key.size() * 8 < MIN_KEY_BITS {
        return Err("smaller than 2048 bits");
    }
    let pem = key.to_public_key_pem(LineEnding::LF).map_err(|_| "cannot be encoded")?;
    RsaPublicKey::from_pem(&pem).map_err(|_| "cannot be loaded")
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(feature = "test-util")]
pub use testing::{TEST_IMS_KEY_ID, TestImsToken, serve_test_key_set, test_key_set};

/// Minting IMS-like tokens for tests (feature `test-util`).
#[cfg(feature = "test-util")]
mod testing {
    use std::net::SocketAddr;

    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use commerce_kit_core::signature::{RsaSigner, TEST_PUBLIC_KEY_A};
    use serde_json::{Value, json};

    use super::{ACCESS_TOKEN_TYPE, KEYS_PATH, now_ms};

    /// The `kid` of [`RsaSigner::test_key_a`] in [`test_key_set`].
    pub const TEST_IMS_KEY_ID: &str = "commerce-kit-test-key-a";

    /// An IMS-shaped access token to sign for tests: header `alg`, `kid` and
    /// `x5u`; claims `type`, `client_id`, `created_at` and `expires_in` (the
    /// last two as strings of milliseconds, as IMS sends them).
    ///
    /// ```
    /// use commerce_kit_core::signature::RsaSigner;
    /// use commerce_kit_webhook::ims_auth::TestImsToken;
    ///
    /// let token = TestImsToken::new("my-client-id").sign(&RsaSigner::test_key_a());
    /// assert_eq!(token.split('.').count(), 3);
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct TestImsToken {
        /// Header `kid` (default [`TEST_IMS_KEY_ID`]).
        pub kid: String,
        /// Claim `type` (default `access_token`).
        pub token_type: String,
        /// Claim `client_id`.
        pub client_id: String,
        /// Claim `created_at`, ms since the epoch (default now).
        pub created_at_ms: u64,
        /// Claim `expires_in`, ms (default 24 h).
        pub expires_in_ms: u64,
    }

    impl TestImsToken {
        /// A token for `client_id`, issued now, valid for 24 h, named with [`TEST_IMS_KEY_ID`].
        pub fn new(client_id: impl Into<String>) -> Self {
            Self {
                kid: TEST_IMS_KEY_ID.to_owned(),
                token_type: ACCESS_TOKEN_TYPE.to_owned(),
                client_id: client_id.into(),
                created_at_ms: now_ms(),
                expires_in_ms: 24 * 3600 * 1000,
            }
        }

        /// The signed token (`header.claims.signature`, RS256 with `signer`).
        pub fn sign(&self, signer: &RsaSigner) -> String {
            let header = json!({"alg": "RS256", "x5u": format!("{}.cer", self.kid), "kid": self.kid});
            let claims = json!({
                "id": "commerce-kit-test-token",
                "type": self.token_type,
                "client_id": self.client_id,
                "as": "ims-na1",
                "created_at": self.created_at_ms.to_string(),
                "expires_in": self.expires_in_ms.to_string(),
            });
            let signed = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            );
            let signature = URL_SAFE_NO_PAD.encode(signer.sign(signed.as_bytes()));
            format!("{signed}.{signature}")
        }
    }

    /// The JWK Set IMS would publish for [`RsaSigner::test_key_a`], under [`TEST_IMS_KEY_ID`].
    pub fn test_key_set() -> Value {
        use rsa::pkcs8::DecodePublicKey;
        use rsa::traits::PublicKeyParts;

        let key =
            rsa::RsaPublicKey::from_public_key_pem(TEST_PUBLIC_KEY_A.trim()).expect("the bundled test key parses");
        json!({"keys": [{
            "kty": "RSA",
            "use": "sig",
            "alg": "RS256",
            "kid": TEST_IMS_KEY_ID,
            "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
            "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        }]})
    }

    /// Serves [`test_key_set`] at `GET /ims/keys` on 127.0.0.1 until the
    /// runtime ends; returns the base URL to give the verifier
    /// (`http://127.0.0.1:PORT`).
    pub async fn serve_test_key_set() -> std::io::Result<String> {
        let set = test_key_set();
        let routes = axum::Router::new().route(
            KEYS_PATH,
            axum::routing::get(move || {
                let set = set.clone();
                async move { axum::Json(set) }
            }),
        );
        let addr: SocketAddr =
            commerce_kit_core::server::spawn_loopback(commerce_kit_core::server::app(routes)).await?;
        Ok(format!("http://{addr}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLIENT: &str = "client-1";
    const NOW: u64 = 1_800_000_000_000;

    fn claims(value: Value) -> serde_json::Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn good() -> Value {
        serde_json::json!({"type": "access_token", "client_id": CLIENT,
            "created_at": (NOW - 1000).to_string(), "expires_in": "86400000"})
    }

    fn with(key: &str, value: Value) -> serde_json::Map<String, Value> {
        let mut map = claims(good());
        map.insert(key.to_owned(), value);
        map
    }

    #[test]
    fn claims_are_checked_with_exact_reasons() {
        assert_eq!(check_claims(&claims(good()), CLIENT, NOW), Ok(()));
        assert_eq!(
            check_claims(&claims(good()), "client-2", NOW),
            Err(TokenProblem::ClientIdMismatch)
        );
        assert_eq!(
            check_claims(&with("type", "refresh_token".into()), CLIENT, NOW),
            Err(TokenProblem::NotAccessToken)
        );
        let mut no_type = claims(good());
        no_type.remove("type");
        assert_eq!(
            check_claims(&no_type, CLIENT, NOW),
            Err(TokenProblem::MissingClaim("type"))
        );
        let mut no_client = claims(good());
        no_client.remove("client_id");
        assert_eq!(
            check_claims(&no_client, CLIENT, NOW),
            Err(TokenProblem::MissingClaim("client_id"))
        );
        assert_eq!(
            check_claims(&with("created_at", "12x".into()), CLIENT, NOW),
            Err(TokenProblem::BadTime("created_at"))
        );
        assert_eq!(
            check_claims(&with("expires_in", (-5).into()), CLIENT, NOW),
            Err(TokenProblem::BadTime("expires_in"))
        );
        assert_eq!(
            check_claims(&with("expires_in", u64::MAX.to_string().into()), CLIENT, NOW),
            Err(TokenProblem::BadTime("expires_in"))
        );
        // Numbers are accepted as well as IMS's strings.
        assert_eq!(
            check_claims(&with("expires_in", 86_400_000.into()), CLIENT, NOW),
            Ok(())
        );
    }

    #[test]
    fn expiry_and_issue_time_allow_the_clock_skew_and_no_more() {
        let skew = CLOCK_SKEW.as_millis() as u64;
        let issued = |created_at: u64, expires_in: u64| {
            let mut map = claims(good());
            map.insert("created_at".into(), created_at.to_string().into());
            map.insert("expires_in".into(), expires_in.to_string().into());
            check_claims(&map, CLIENT, NOW)
        };
        // Expired 1 ms ago: still inside the skew. Expired a skew ago: refused.
        assert_eq!(issued(NOW - 10_001, 10_000), Ok(()));
        assert_eq!(issued(NOW - 10_000 - skew, 10_000), Err(TokenProblem::Expired));
        assert_eq!(issued(NOW - 10_000 - skew + 1, 10_000), Ok(()));
        // Issued a little ahead of our clock: fine; far ahead: refused.
        assert_eq!(issued(NOW + skew, 10_000), Ok(()));
        assert_eq!(issued(NOW + skew + 1, 10_000), Err(TokenProblem::NotYetValid));
    }

    #[test]
    fn bearer_header_forms() {
        let headers = |values: &[&str]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append(http::header::AUTHORIZATION, v.parse().expect("header"));
            }
            h
        };
        assert_eq!(bearer(&headers(&["Bearer abc.def.ghi"])), Ok("abc.def.ghi"));
        assert_eq!(bearer(&headers(&["bearer  abc"])), Ok("abc"));
        assert_eq!(bearer(&HeaderMap::new()), Err(ImsAuthFailure::MissingAuthorization));
        for bad in ["Basic abc", "Bearer", "Bearer ", "Bearer a b", "abc"] {
            assert_eq!(bearer(&headers(&[bad])), Err(ImsAuthFailure::NotBearer), "{bad}");
        }
        assert_eq!(
            bearer(&headers(&["Bearer a", "Bearer b"])),
            Err(ImsAuthFailure::NotBearer)
        );
    }

    #[test]
    fn malformed_tokens_are_told_apart() {
        let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let header = b64(r#"{"alg":"RS256","kid":"k"}"#);
        let parse = |t: &str| Jwt::parse(t).map(|jwt| jwt.kid);
        assert_eq!(parse(&format!("{header}.e30.c2ln")), Ok("k".to_owned()));
        assert_eq!(
            parse("a.b"),
            Err(TokenProblem::Malformed("expected three dot-separated parts"))
        );
        assert_eq!(
            parse("a.b.c.d"),
            Err(TokenProblem::Malformed("expected three dot-separated parts"))
        );
        assert_eq!(
            parse("%%%.e30.c2ln"),
            Err(TokenProblem::Malformed("header is not base64url JSON"))
        );
        assert_eq!(
            parse(&format!("{}.e30.c2ln", b64("[1]"))),
            Err(TokenProblem::Malformed("header is not base64url JSON"))
        );
        assert_eq!(
            parse(&format!("{header}.e30.%%%")),
            Err(TokenProblem::Malformed("signature is not base64url"))
        );
        assert_eq!(
            parse(&format!("{}.e30.c2ln", b64(r#"{"alg":"HS256","kid":"k"}"#))),
            Err(TokenProblem::Algorithm)
        );
        assert_eq!(
            parse(&format!("{}.e30.c2ln", b64(r#"{"alg":"none"}"#))),
            Err(TokenProblem::Algorithm)
        );
        assert_eq!(
            parse(&format!("{}.e30.c2ln", b64(r#"{"alg":"RS256","x5u":"k.cer"}"#))),
            Err(TokenProblem::NoKeyId)
        );
        let long = format!("{header}.{}.c2ln", "A".repeat(MAX_TOKEN_BYTES));
        assert_eq!(parse(&long), Err(TokenProblem::Malformed("longer than 8192 bytes")));
    }

    #[test]
    fn base_urls_are_checked_and_keys_live_under_them() {
        assert_eq!(
            keys_url("https://ims-na1.adobelogin.com").map(String::from),
            Ok("https://ims-na1.adobelogin.com/ims/keys".to_owned())
        );
        assert_eq!(
            keys_url("http://127.0.0.1:9/proxy/").map(String::from),
            Ok("http://127.0.0.1:9/proxy/ims/keys".to_owned())
        );
        for bad in [
            "ims-na1.adobelogin.com",
            "ftp://ims",
            "https://ims?x=1",
            "https://u:p@ims",
            "https://ims#f",
        ] {
            assert_eq!(
                keys_url(bad).map(String::from),
                Err(ImsConfigError::BadBaseUrl(bad.to_owned())),
                "{bad}"
            );
        }
    }

    #[test]
    fn builder_refuses_empty_ids_and_bad_durations() {
        let err = |b: ImsTokenVerifierBuilder| b.build().expect_err("refused").to_string();
        assert_eq!(err(ImsTokenVerifier::builder(" ", "org")), "the IMS client id is empty");
        assert_eq!(err(ImsTokenVerifier::builder("c", "")), "the IMS org id is empty");
        assert_eq!(
            err(ImsTokenVerifier::builder("c", "o").fetch_timeout(Duration::ZERO)),
            "the key fetch timeout must be greater than 0"
        );
        assert_eq!(
            err(ImsTokenVerifier::builder("c", "o").key_ttl(MAX_KEY_TTL + Duration::from_secs(1))),
            "the key TTL must be at most 24 h"
        );
    }

    #[test]
    fn key_sets_keep_usable_rsa_keys_only() {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        // A 2048-bit modulus (top bit set, odd) and e = 65537 make a key `rsa` accepts.
        let mut modulus = vec![0xC1u8; 256];
        modulus[255] = 0x01;
        let n = b64(&modulus);
        let e = b64(&[1, 0, 1]);
        let set = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "good", "n": n, "e": e, "alg": "RS256", "use": "sig"},
            {"kty": "RSA", "kid": "no-alg", "n": n, "e": e},
            {"kty": "RSA", "kid": "enc", "n": n, "e": e, "use": "enc"},
            {"kty": "RSA", "kid": "ps256", "n": n, "e": e, "alg": "PS256"},
            {"kty": "EC", "kid": "ec", "crv": "P-256", "x": "AA", "y": "AA"},
            {"kty": "RSA", "kid": "small", "n": b64(&[0xC1; 128]), "e": e},
            {"kty": "RSA", "n": n, "e": e},
        ]});
        let keys = parse_key_set(set.to_string().as_bytes()).expect("usable keys");
        let mut kids: Vec<&str> = keys.keys().map(String::as_str).collect();
        kids.sort_unstable();
        assert_eq!(kids, ["good", "no-alg"]);
        assert_eq!(
            parse_key_set(br#"{"keys":[]}"#).err().as_deref(),
            Some("key set has no usable RSA signing key")
        );
        assert_eq!(
            parse_key_set(br#"{"k":1}"#).err().as_deref(),
            Some("key set has no \"keys\" array")
        );
        assert!(
            parse_key_set(b"<html>")
                .expect_err("not JSON")
                .starts_with("key set is not JSON: ")
        );
    }
}
