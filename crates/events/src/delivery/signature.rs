//! Adobe I/O Events digital signatures: RSA-SHA256 (PKCS#1 v1.5) over the raw
//! request body, with public keys fetched from Adobe's key host and cached.
//!
//! Each delivery carries `x-adobe-digital-signature-1` and `-2` (base64) and
//! `x-adobe-public-key1-path` and `-2-path`. The key of signature N is the PEM at
//! `<key base URL><path N>` (default base `https://static.adobeioevents.com`).
//! The delivery is authentic when **either** signature verifies. A path that
//! would resolve to another host (or another scheme or port) is rejected
//! before anything is fetched.
//!
//! Keys are cached per URL for at most the cache TTL (24 h by default and at
//! most), one fetch at a time (concurrent first deliveries share one fetch).
//! A fetch has a per-attempt timeout (1.5 s), up to 3 attempts for transient
//! failures (network, timeout, 429, 5xx) and an overall budget of 3 s. A key
//! that cannot be fetched for a transient reason makes the delivery answer 503
//! (Adobe retries it); a missing or malformed key answers 401.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use commerce_kit_core::http::{ClientTimeouts, client};
use commerce_kit_core::signature::RsaPublicKey;
use http::HeaderMap;
use reqwest::Url;

/// The default key host of Adobe I/O Events.
pub const DEFAULT_KEY_BASE_URL: &str = "https://static.adobeioevents.com";
/// The longest time a public key may be cached (Adobe's recommendation).
pub const MAX_KEY_CACHE_TTL: Duration = Duration::from_secs(24 * 3600);

/// Header names of signature N (1 or 2) and its key path.
pub const SIGNATURE_HEADERS: [(&str, &str); 2] = [
    ("x-adobe-digital-signature-1", "x-adobe-public-key1-path"),
    ("x-adobe-digital-signature-2", "x-adobe-public-key2-path"),
];

/// How long a failed (non-transient) key fetch is remembered, so bogus paths do
/// not turn every delivery into a fetch.
const NEGATIVE_TTL: Duration = Duration::from_secs(60);
/// Cached entries at most (Adobe uses two live keys).
const MAX_ENTRIES: usize = 64;
/// Largest accepted key document.
const MAX_KEY_BYTES: usize = 16 * 1024;

/// Why a delivery's signatures were not accepted. `Display` is the client-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureFailure {
    /// Neither signature header is present.
    #[error(
        "missing I/O Events digital signature: expected header x-adobe-digital-signature-1 or x-adobe-digital-signature-2"
    )]
    Missing,
    /// No signature verified; one reason per signature present.
    #[error("invalid I/O Events digital signature: {}", .0.join("; "))]
    Invalid(Vec<String>),
    /// No signature verified and a key could not be fetched for a transient reason.
    #[error("cannot fetch the I/O Events public key to verify the signature ({0}); retry later")]
    KeyUnavailable(String),
}

impl SignatureFailure {
    /// 401 for missing/invalid signatures, 503 when a key is temporarily unavailable.
    pub fn status(&self) -> http::StatusCode {
        match self {
            SignatureFailure::KeyUnavailable(_) => http::StatusCode::SERVICE_UNAVAILABLE,
            _ => http::StatusCode::UNAUTHORIZED,
        }
    }
}

/// A key fetch failed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FetchError {
    message: String,
    transient: bool,
}

#[derive(Clone)]
enum Cached {
    Key(RsaPublicKey),
    Failed(String),
}

struct Entry {
    value: Cached,
    until: Instant,
}

/// Verifies I/O Events signatures with cached public keys.
pub struct SignatureVerifier {
    base: Url,
    ttl: Duration,
    client: reqwest::Client,
    cache: RwLock<HashMap<String, Entry>>,
    fetch_lock: tokio::sync::Mutex<()>,
    fetches: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for SignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignatureVerifier")
            .field("base", &self.base.as_str())
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// The key base URL is not an absolute http(s) URL without path, query or credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "key base URL '{0}' must be an absolute https:// (or http://) URL with a host and no path, query or credentials"
)]
pub struct BadBaseUrl(pub String);

impl SignatureVerifier {
    /// A verifier fetching keys under `base` (e.g. `https://static.adobeioevents.com`)
    /// and caching them for `ttl` (capped at 24 h).
    pub fn new(base: &str, ttl: Duration) -> Result<Self, BadBaseUrl> {
        let bad = || BadBaseUrl(base.to_owned());
        let url = Url::parse(base.trim_end_matches('/')).map_err(|_| bad())?;
        let plain = matches!(url.scheme(), "https" | "http")
            && url.host_str().is_some()
            && url.path() == "/"
            && url.query().is_none()
            && url.username().is_empty()
            && url.password().is_none();
        if !plain {
            return Err(bad());
        }
        let timeouts = ClientTimeouts {
            connect: Duration::from_secs(1),
            request: Duration::from_millis(1500),
        };
        let client = client(timeouts).map_err(|_| bad())?;
        Ok(Self {
            base: url,
            ttl: ttl.min(MAX_KEY_CACHE_TTL),
            client,
            cache: RwLock::new(HashMap::new()),
            fetch_lock: tokio::sync::Mutex::new(()),
            fetches: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// The key base URL.
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// How many key fetches were attempted so far (for tests and metrics).
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The key URL of a path header, or why it is refused.
    pub fn key_url(&self, path: &str) -> Result<Url, String> {
        let refuse = || format!("public key path '{path}' is not a path on {}", self.base_url());
        if !path.starts_with('/') || path.chars().any(|c| c.is_control() || c == '\\') {
            return Err(refuse());
        }
        let url = Url::parse(&format!("{}{path}", self.base_url())).map_err(|_| refuse())?;
        let same_origin = url.scheme() == self.base.scheme()
            && url.host_str() == self.base.host_str()
            && url.port_or_known_default() == self.base.port_or_known_default()
            && url.username().is_empty()
            && url.password().is_none();
        if same_origin { Ok(url) } else { Err(refuse()) }
    }

    /// Verifies `body` against the signature headers: Ok when either signature verifies.
    pub async fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), SignatureFailure> {
        let mut reasons = Vec::new();
        let mut transient = None;
        let mut present = 0;
        for (n, (sig_header, path_header)) in SIGNATURE_HEADERS.iter().enumerate() {
            let n = n + 1;
            let Some(signature) = header(headers, sig_header) else {
                continue;
            };
            present += 1;
            let Some(path) = header(headers, path_header) else {
                reasons.push(format!("signature {n}: header {path_header} is missing"));
                continue;
            };
            let url = match self.key_url(path) {
                Ok(url) => url,
                Err(why) => {
                    reasons.push(format!("signature {n}: {why}"));
                    continue;
                }
            };
            match self.key(&url).await {
                Ok(key) => match key.verify_base64(body, signature) {
                    Ok(()) => return Ok(()),
                    Err(e) => reasons.push(format!("signature {n}: {e}")),
                },
                Err(e) if e.transient => {
                    transient.get_or_insert(e.message.clone());
                    reasons.push(format!("signature {n}: {}", e.message));
                }
                Err(e) => reasons.push(format!("signature {n}: {}", e.message)),
            }
        }
        if present == 0 {
            return Err(SignatureFailure::Missing);
        }
        match transient {
            Some(message) => Err(SignatureFailure::KeyUnavailable(message)),
            None => Err(SignatureFailure::Invalid(reasons)),
        }
    }

    fn cached(&self, url: &str) -> Option<Cached> {
        let cache = self.cache.read().unwrap_or_else(|p| p.into_inner());
        cache
            .get(url)
            .filter(|e| e.until > Instant::now())
            .map(|e| e.value.clone())
    }

    async fn key(&self, url: &Url) -> Result<RsaPublicKey, FetchError> {
        let permanent = |message: String| FetchError {
            message,
            transient: false,
        };
        if let Some(hit) = self.cached(url.as_str()) {
            return match hit {
                Cached::Key(k) => Ok(k),
                Cached::Failed(m) => Err(permanent(m)),
            };
        }
        // Single flight: one fetch at a time; waiters re-check the cache.
        let _guard = self.fetch_lock.lock().await;
        if let Some(hit) = self.cached(url.as_str()) {
            return match hit {
                Cached::Key(k) => Ok(k),
                Cached::Failed(m) => Err(permanent(m)),
            };
        }
        let attempt = || self.fetch_once(url);
        let retried = attempt
            .retry(
                ExponentialBuilder::default()
                    .with_min_delay(Duration::from_millis(100))
                    .with_max_delay(Duration::from_millis(400))
                    .with_max_times(2),
            )
            .when(|e: &FetchError| e.transient);
        let result = match tokio::time::timeout(Duration::from_secs(3), retried).await {
            Ok(result) => result,
            Err(_) => Err(FetchError {
                message: format!("fetching {url} took longer than 3 s"),
                transient: true,
            }),
        };
        match &result {
            Ok(key) => self.store(url.as_str(), Cached::Key(key.clone()), self.ttl),
            Err(e) if !e.transient => self.store(url.as_str(), Cached::Failed(e.message.clone()), NEGATIVE_TTL),
            Err(e) => tracing::warn!(url = %url, error = %e.message, "cannot fetch I/O Events public key"),
        }
        result
    }

    fn store(&self, url: &str, value: Cached, ttl: Duration) {
        let now = Instant::now();
        let mut cache = self.cache.write().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_ENTRIES {
            cache.retain(|_, e| e.until > now);
        }
        if cache.len() >= MAX_ENTRIES
            && let Some(oldest) = cache.iter().min_by_key(|(_, e)| e.until).map(|(k, _)| k.clone())
        {
            cache.remove(&oldest);
        }
        cache.insert(
            url.to_owned(),
            Entry {
                value,
                until: now + ttl,
            },
        );
    }

    async fn fetch_once(&self, url: &Url) -> Result<RsaPublicKey, FetchError> {
        self.fetches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let transient = |message: String| FetchError {
            message,
            transient: true,
        };
        let resp = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| transient(format!("public key {url} could not be fetched: {}", error_chain(&e))))?;
        let status = resp.status();
        if !status.is_success() {
            let message = format!("public key {url} answered {status}");
            return Err(FetchError {
                transient: commerce_kit_core::http::is_retryable(status),
                message,
            });
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| transient(format!("public key {url} could not be read: {}", error_chain(&e))))?;
        if body.len() > MAX_KEY_BYTES {
            return Err(FetchError {
                message: format!("public key {url} is larger than {MAX_KEY_BYTES} bytes"),
                transient: false,
            });
        }
        let text = String::from_utf8_lossy(&body);
        RsaPublicKey::from_pem(&text).map_err(|e| FetchError {
            message: format!("public key {url} is not usable: {e}"),
            transient: false,
        })
    }
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// An error with its sources, on one line.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_paths_must_stay_on_the_base_origin() {
        let v = SignatureVerifier::new("https://static.adobeioevents.com/", MAX_KEY_CACHE_TTL).expect("base");
        assert_eq!(
            v.key_url("/prod/keys/pub-key-x.pem").expect("ok").as_str(),
            "https://static.adobeioevents.com/prod/keys/pub-key-x.pem"
        );
        for bad in [
            "https://evil.example/k.pem",
            "prod/keys/k.pem",
            ".evil.example/k.pem",
            "@evil.example/k.pem",
            ":8443/k.pem",
            "",
            "/a\\b",
        ] {
            assert_eq!(
                v.key_url(bad).expect_err("must fail"),
                format!("public key path '{bad}' is not a path on https://static.adobeioevents.com"),
                "{bad}"
            );
        }
        // '//host' after the base is still a path on the base host
        assert_eq!(
            v.key_url("//evil.example/k.pem").expect("path").host_str(),
            Some("static.adobeioevents.com")
        );
    }

    #[test]
    fn base_urls_are_checked() {
        for bad in [
            "ftp://x",
            "not a url",
            "https://h/path",
            "https://u:p@h",
            "https://h/?q=1",
        ] {
            assert!(SignatureVerifier::new(bad, MAX_KEY_CACHE_TTL).is_err(), "{bad}");
        }
        assert!(SignatureVerifier::new("http://127.0.0.1:9", MAX_KEY_CACHE_TTL).is_ok());
        let v = SignatureVerifier::new("http://127.0.0.1:9", Duration::from_secs(999_999)).expect("ok");
        assert_eq!(v.ttl, MAX_KEY_CACHE_TTL, "capped at 24 h");
    }
}
