//! [`BackOfficeClient`]: POSTs JSON to the back office.

use std::time::Duration;

use commerce_kit_core::http::{ClientTimeouts, is_retryable};
use commerce_kit_events::HandlerError;
use http::StatusCode;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::contract::BackOfficeRequest;

/// Longest back-office reason kept in an error message.
const MAX_REASON: usize = 200;

/// Where the back office is and how to reach it.
///
/// ```
/// use commerce_kit_sync::backoffice::BackOfficeOptions;
///
/// let options = BackOfficeOptions::parse("https://erp.example/commerce/")?.with_token("s3cret");
/// assert_eq!(options.base_url.as_str(), "https://erp.example/commerce/");
/// assert!(!format!("{options:?}").contains("s3cret"));
///
/// let err = BackOfficeOptions::parse("ftp://erp.example").unwrap_err();
/// assert_eq!(err.to_string(), "invalid back-office base URL 'ftp://erp.example': expected http or https");
/// # Ok::<(), commerce_kit_sync::backoffice::BackOfficeConfigError>(())
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BackOfficeOptions {
    /// The base URL; request paths are appended to it (`<base>/product/created`).
    /// Suggested setting: `BACKOFFICE_BASE_URL`.
    pub base_url: Url,
    /// Sent as `Authorization: Bearer <token>` when set (`BACKOFFICE_TOKEN`).
    pub token: Option<SecretString>,
    /// Connect and whole-request limits (default 2 s / 5 s: under the
    /// consumer's 8 s handler deadline, so a slow back office is answered
    /// as a retryable timeout rather than cut by the deadline).
    pub timeouts: ClientTimeouts,
}

impl BackOfficeOptions {
    /// `base_url` with no token and the default timeouts. The URL must be
    /// `http` or `https`, without query, fragment or credentials.
    pub fn new(base_url: Url) -> Result<Self, BackOfficeConfigError> {
        let refuse = |reason: &str| BackOfficeConfigError::BaseUrl {
            url: base_url.to_string(),
            reason: reason.to_owned(),
        };
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(refuse("expected http or https"));
        }
        if base_url.cannot_be_a_base() || base_url.host_str().is_none() {
            return Err(refuse("expected an absolute URL with a host"));
        }
        if base_url.query().is_some() || base_url.fragment().is_some() {
            return Err(refuse("a base URL takes no query or fragment"));
        }
        if !base_url.username().is_empty() || base_url.password().is_some() {
            return Err(refuse("credentials go in the token, not the URL"));
        }
        Ok(Self {
            base_url,
            token: None,
            timeouts: ClientTimeouts {
                connect: Duration::from_secs(2),
                request: Duration::from_secs(5),
            },
        })
    }

    /// [`new`](Self::new) from text.
    pub fn parse(base_url: &str) -> Result<Self, BackOfficeConfigError> {
        let url = Url::parse(base_url).map_err(|e| BackOfficeConfigError::BaseUrl {
            url: base_url.to_owned(),
            reason: e.to_string(),
        })?;
        // report the URL as given, not as normalized by the parser
        Self::new(url).map_err(|e| match e {
            BackOfficeConfigError::BaseUrl { reason, .. } => BackOfficeConfigError::BaseUrl {
                url: base_url.to_owned(),
                reason,
            },
            other => other,
        })
    }

    /// The same options with a bearer token.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(SecretString::from(token.into()));
        self
    }

    /// The same options with other timeouts.
    pub fn with_timeouts(mut self, timeouts: ClientTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }
}

/// The back office cannot be configured. The URL is shown; a token never is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackOfficeConfigError {
    /// The base URL is unusable.
    #[error("invalid back-office base URL '{url}': {reason}")]
    BaseUrl {
        /// The URL as given.
        url: String,
        /// Why.
        reason: String,
    },
    /// The HTTP client could not be built (TLS set-up).
    #[error("back-office HTTP client could not be built: {0}")]
    Client(String),
}

/// What the back office answered with a 2xx.
#[derive(Debug, Clone, PartialEq)]
pub struct BackOfficeAnswer {
    /// The status (2xx).
    pub status: StatusCode,
    /// The JSON body; `null` when empty or not JSON.
    pub body: Value,
}

/// A request to the back office failed. URLs are shown as
/// `scheme://host[:port]/path`; the token never appears.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BackOfficeError {
    /// It answered a status other than 2xx.
    #[error("back office {url} answered {}{}", status.as_u16(), reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Status {
        /// The URL posted to.
        url: String,
        /// Its status.
        status: StatusCode,
        /// Its body's `error` or `message` string, when it has one (shortened).
        reason: Option<String>,
    },
    /// No answer within the request timeout.
    #[error("back office {url} did not answer within {} ms", after.as_millis())]
    Timeout {
        /// The URL posted to.
        url: String,
        /// The request timeout.
        after: Duration,
    },
    /// No connection, or it broke before an answer.
    #[error("back office {url} could not be reached: {reason}")]
    Unreachable {
        /// The URL posted to.
        url: String,
        /// The innermost cause (names no URL).
        reason: String,
    },
}

impl BackOfficeError {
    /// True when posting again may succeed: no answer, 429, 5xx (except 505),
    /// or a status that is neither success nor error (a 3xx: answered 502).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => {
                is_retryable(*status) || !(status.is_client_error() || status.is_server_error())
            }
            Self::Timeout { .. } | Self::Unreachable { .. } => true,
        }
    }

    /// The status answered, if any.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl From<BackOfficeError> for HandlerError {
    /// An answered 4xx or 5xx keeps its status (so 429 and 5xx are retried,
    /// any other 4xx dropped), any other answered status is 502; no answer is
    /// 503 (retried). The message is the error's `Display`.
    fn from(err: BackOfficeError) -> Self {
        let message = err.to_string();
        match err.status() {
            Some(s) if s.is_client_error() || s.is_server_error() => HandlerError::new(s, message),
            Some(_) => HandlerError::new(StatusCode::BAD_GATEWAY, message),
            None => HandlerError::retryable(message),
        }
    }
}

/// POSTs JSON to the back office over one pooled connection set.
///
/// Every request carries `content-type: application/json`, `accept:
/// application/json`, `idempotency-key`, and `authorization: Bearer …` when a
/// token is set. Redirects are not followed (a redirected POST would lose its
/// body or its token): a 3xx is an error. Cloning is cheap and shares the pool.
///
/// ```no_run
/// use commerce_kit_sync::backoffice::{BackOfficeClient, BackOfficeOptions};
/// use serde_json::json;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = BackOfficeClient::new(BackOfficeOptions::parse("https://erp.example/commerce")?.with_token("t"))?;
/// // POST https://erp.example/commerce/invoices/paid
/// let answer = client.post("invoices/paid", &json!({"invoice": 42}), "invoice-42-paid").await?;
/// assert!(answer.status.is_success());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BackOfficeClient {
    client: reqwest::Client,
    base_url: Url,
    token: Option<SecretString>,
    timeout: Duration,
}

impl BackOfficeClient {
    /// A client for `options`.
    pub fn new(options: BackOfficeOptions) -> Result<Self, BackOfficeConfigError> {
        let client = reqwest::Client::builder()
            .connect_timeout(options.timeouts.connect)
            .timeout(options.timeouts.request)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("commerce-kit-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BackOfficeConfigError::Client(e.to_string()))?;
        Ok(Self {
            client,
            base_url: options.base_url,
            token: options.token,
            timeout: options.timeouts.request,
        })
    }

    /// The URL of `path` (relative, `/`-separated; each segment is
    /// percent-encoded as needed) under the base URL.
    ///
    /// ```
    /// use commerce_kit_sync::backoffice::{BackOfficeClient, BackOfficeOptions};
    /// let client = BackOfficeClient::new(BackOfficeOptions::parse("http://erp.local:8080/api")?)?;
    /// assert_eq!(client.url_for("customer-group/deleted").as_str(), "http://erp.local:8080/api/customer-group/deleted");
    /// let client = BackOfficeClient::new(BackOfficeOptions::parse("http://erp.local:8080/api/")?)?;
    /// assert_eq!(client.url_for("/stock/updated").as_str(), "http://erp.local:8080/api/stock/updated");
    /// # Ok::<(), commerce_kit_sync::backoffice::BackOfficeConfigError>(())
    /// ```
    pub fn url_for(&self, path: &str) -> Url {
        let mut url = self.base_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend(path.split('/').filter(|s| !s.is_empty()));
        }
        url
    }

    /// Sends a contract request ([`BackOfficeRequest`]): its path, body and
    /// idempotency key, plus `x-event-type`.
    pub async fn send(&self, request: &BackOfficeRequest) -> Result<BackOfficeAnswer, BackOfficeError> {
        self.post_with(
            &request.path,
            &request.body,
            &request.idempotency_key,
            &[("x-event-type", request.event_type.as_str())],
        )
        .await
    }

    /// POSTs `body` to `path` with `idempotency-key: <idempotency_key>`.
    pub async fn post(
        &self,
        path: &str,
        body: &Value,
        idempotency_key: &str,
    ) -> Result<BackOfficeAnswer, BackOfficeError> {
        self.post_with(path, body, idempotency_key, &[]).await
    }

    async fn post_with(
        &self,
        path: &str,
        body: &Value,
        idempotency_key: &str,
        extra: &[(&str, &str)],
    ) -> Result<BackOfficeAnswer, BackOfficeError> {
        let url = self.url_for(path);
        let shown = shown(&url);
        let mut request = self
            .client
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .header("idempotency-key", idempotency_key)
            .body(body.to_string());
        for (name, value) in extra {
            request = request.header(*name, *value);
        }
        if let Some(token) = &self.token {
            request = request.bearer_auth(token.expose_secret());
        }
        let response = request.send().await.map_err(|e| self.transport_error(&shown, &e))?;
        let status = response.status();
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => return Err(self.transport_error(&shown, &e)),
        };
        if status.is_success() {
            let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            return Ok(BackOfficeAnswer { status, body });
        }
        Err(BackOfficeError::Status {
            url: shown,
            status,
            reason: reason(&bytes),
        })
    }

    fn transport_error(&self, shown: &str, err: &reqwest::Error) -> BackOfficeError {
        if err.is_timeout() {
            BackOfficeError::Timeout {
                url: shown.to_owned(),
                after: self.timeout,
            }
        } else {
            BackOfficeError::Unreachable {
                url: shown.to_owned(),
                reason: root_cause(err),
            }
        }
    }
}

pub(super) use commerce_kit_core::http::{root_cause, shown_url as shown};

/// A back-office failure body's `error` (or `message`) string, shortened.
fn reason(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let text = v
        .get("error")
        .and_then(Value::as_str)
        .or_else(|| v.get("message").and_then(Value::as_str))?;
    let mut cut: String = text.chars().take(MAX_REASON).collect();
    if text.chars().count() > MAX_REASON {
        cut.push('…');
    }
    Some(cut)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        for (url, reason) in [
            ("http://h/api?x=1", "a base URL takes no query or fragment"),
            ("http://u:p@h/api", "credentials go in the token, not the URL"),
            ("mailto:a@b", "expected http or https"),
            ("not a url", "relative URL without a base"),
        ] {
            let err = BackOfficeOptions::parse(url).expect_err(url);
            assert_eq!(
                err.to_string(),
                format!("invalid back-office base URL '{url}': {reason}")
            );
        }
    }

    #[test]
    fn the_token_never_shows_in_debug() {
        let options = BackOfficeOptions::parse("https://erp.example/api")
            .expect("url")
            .with_token("tok-8f2a");
        let client = BackOfficeClient::new(options.clone()).expect("client");
        for shown in [format!("{options:?}"), format!("{client:?}")] {
            assert!(!shown.contains("tok-8f2a"), "{shown}");
            assert!(shown.contains("erp.example"), "{shown}");
        }
    }

    #[test]
    fn errors_classify_and_convert() {
        let status = |s: u16, reason: Option<&str>| BackOfficeError::Status {
            url: "http://h/p".into(),
            status: StatusCode::from_u16(s).expect("status"),
            reason: reason.map(str::to_owned),
        };
        let cases = [
            (
                status(400, Some("bad sku")),
                400,
                false,
                "back office http://h/p answered 400: bad sku",
            ),
            (status(404, None), 404, false, "back office http://h/p answered 404"),
            (status(429, None), 429, true, "back office http://h/p answered 429"),
            (
                status(500, Some("db down")),
                500,
                true,
                "back office http://h/p answered 500: db down",
            ),
            (status(302, None), 502, true, "back office http://h/p answered 302"),
            (
                BackOfficeError::Timeout {
                    url: "http://h/p".into(),
                    after: Duration::from_millis(300),
                },
                503,
                true,
                "back office http://h/p did not answer within 300 ms",
            ),
        ];
        for (err, handler_status, retryable, message) in cases {
            assert_eq!(err.to_string(), message);
            assert_eq!(err.is_retryable(), retryable, "{message}");
            let h = HandlerError::from(err);
            assert_eq!(h.status().as_u16(), handler_status, "{message}");
            assert_eq!(h.is_retryable(), retryable, "{message}");
        }
        assert!(status(302, None).is_retryable());
        assert!(!status(505, None).is_retryable());
    }

    #[test]
    fn reasons_are_read_and_cut() {
        assert_eq!(reason(br#"{"error":"e","message":"m"}"#).as_deref(), Some("e"));
        assert_eq!(reason(br#"{"message":"m"}"#).as_deref(), Some("m"));
        assert_eq!(reason(b"<html>"), None);
        let long = format!(r#"{{"error":"{}"}}"#, "y".repeat(500));
        assert_eq!(reason(long.as_bytes()).map(|r| r.chars().count()), Some(MAX_REASON + 1));
    }
}
