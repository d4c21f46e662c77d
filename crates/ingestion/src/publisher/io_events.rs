//! Publishing to the Adobe I/O Events ingress.
//!
//! `POST {IO_EVENTS_INGRESS_URL}` with `x-api-key: <client id>`,
//! `Authorization: Bearer <IMS token>`, `Content-Type: application/cloudevents+json`
//! and the CloudEvent as the body. Outcomes:
//!
//! | ingress answer | what we do |
//! |---|---|
//! | 200 (any 2xx but 204) | success |
//! | 204 | success; nothing is registered for the event yet (logged at info) |
//! | 401 | drop the cached IMS token, fetch a new one, try again once; a second 401 is final (502) |
//! | 429 | wait `Retry-After` (seconds or HTTP date; backoff when absent) and retry; beyond the budget → 503 |
//! | 5xx except 505 | retry with exponential backoff and jitter; beyond the budget → 502 |
//! | other 4xx, 505 | final: 502 |
//! | connection error / timeout | retry; beyond the budget → 503 |
//!
//! Every retry happens within one total budget per event (default 15 s), so the
//! back office gets an answer in bounded time.
//!
//! Two transports give the same requests and outcomes:
//! [`IoEventsPublisher::with_ingress_client`] (what the ingestion webhook
//! uses) sends through the dedicated [`IngressClient`], with the URI and the
//! constant headers prepared once; [`IoEventsPublisher::new`] sends through
//! any `reqwest::Client`.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use bytes::Bytes;
use commerce_kit_core::http::is_retryable;
use commerce_kit_model::cloudevent::CloudEvent;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use reqwest::Url;
use secrecy::ExposeSecret;
use tokio::time::Instant;

use super::ims::{AccessToken, ImsError, ImsTokenProvider};
use super::ingress_client::{IngressClient, IngressClientError, error_chain};
use super::{Delivery, EventPublisher, PublishError};
use commerce_kit_core::http::without_url;

/// Default total time spent on one event, retries included.
pub const DEFAULT_RETRY_BUDGET: Duration = Duration::from_secs(15);

/// The CloudEvents JSON media type the ingress expects.
pub const CLOUDEVENTS_JSON: &str = "application/cloudevents+json";

/// Settings of the ingress client.
#[derive(Debug, Clone)]
pub struct IoEventsOptions {
    /// The ingress URL (`https://eventsingress.adobe.io`).
    pub ingress_url: Url,
    /// `OAUTH_ORG_ID`, sent as `x-ims-org-id` when set.
    pub org_id: Option<String>,
    /// Total time per event, retries included.
    pub retry_budget: Duration,
    /// First backoff delay.
    pub min_backoff: Duration,
    /// Largest backoff delay.
    pub max_backoff: Duration,
    /// Longest single attempt.
    pub attempt_timeout: Duration,
}

impl IoEventsOptions {
    /// Defaults for `ingress_url`: 15 s budget, backoff 100 ms → 2 s, 10 s per attempt.
    pub fn new(ingress_url: Url) -> Self {
        Self {
            ingress_url,
            org_id: None,
            retry_budget: DEFAULT_RETRY_BUDGET,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(10),
        }
    }
}

/// The `User-Agent` of the ingress requests (the same as [`commerce_kit_core::http::client`]'s).
const USER_AGENT_VALUE: &str = concat!("commerce-kit/", env!("CARGO_PKG_VERSION"));

/// Publishes CloudEvents to Adobe I/O Events with a cached IMS token.
#[derive(Debug)]
pub struct IoEventsPublisher {
    transport: Transport,
    ims: ImsTokenProvider,
    options: IoEventsOptions,
}

#[derive(Debug)]
enum Transport {
    Reqwest(reqwest::Client),
    Dedicated(Box<Dedicated>),
}

/// The dedicated client with what every request shares, prepared once.
struct Dedicated {
    client: IngressClient,
    uri: Uri,
    /// `x-api-key`, `authorization` (a placeholder replaced by each request's
    /// token), `content-type`, `accept`, `x-ims-org-id` (when set), `user-agent`.
    headers: HeaderMap,
}

impl std::fmt::Debug for Dedicated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dedicated")
            .field("client", &self.client)
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

/// What the ingress answered to one attempt.
struct Answer {
    status: StatusCode,
    retry_after: Option<Duration>,
    /// The start of the body (for logs), read only for non-2xx answers by the dedicated client.
    detail: String,
}

/// The last retryable failure, to explain why the budget ran out.
enum Failure {
    Throttled,
    ServerError(StatusCode),
    Unreachable(String),
    Ims(ImsError),
}

/// Registers the publisher's series at 0, so a dashboard shows 0 rather than no data.
fn register_metrics() {
    metrics::counter!("commerce_kit_publisher_attempts_total", "publisher" => "io_events").increment(0);
    metrics::counter!("commerce_kit_publisher_retries_total", "publisher" => "io_events").increment(0);
}

impl IoEventsPublisher {
    /// A publisher using the general-purpose `client` for the ingress and `ims` for tokens.
    pub fn new(client: reqwest::Client, ims: ImsTokenProvider, options: IoEventsOptions) -> Self {
        register_metrics();
        Self {
            transport: Transport::Reqwest(client),
            ims,
            options,
        }
    }

    /// A publisher using the dedicated `client` for the ingress (less work per
    /// event than [`new`](Self::new), same requests and outcomes) and `ims` for
    /// tokens. Fails if the ingress URL is not a valid request target or the
    /// client id or org id cannot be sent as a header.
    pub fn with_ingress_client(
        client: IngressClient,
        ims: ImsTokenProvider,
        options: IoEventsOptions,
    ) -> Result<Self, IngressClientError> {
        let uri = Uri::try_from(options.ingress_url.as_str()).map_err(|e| IngressClientError::Url(e.to_string()))?;
        let mut headers = HeaderMap::with_capacity(6);
        headers.insert(
            HeaderName::from_static("x-api-key"),
            HeaderValue::try_from(ims.client_id()).map_err(|_| IngressClientError::Header("x-api-key"))?,
        );
        headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(CLOUDEVENTS_JSON));
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(org) = &options.org_id {
            headers.insert(
                HeaderName::from_static("x-ims-org-id"),
                HeaderValue::try_from(org.as_str()).map_err(|_| IngressClientError::Header("x-ims-org-id"))?,
            );
        }
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        register_metrics();
        Ok(Self {
            transport: Transport::Dedicated(Box::new(Dedicated { client, uri, headers })),
            ims,
            options,
        })
    }

    /// The token provider (its [`fetches`](ImsTokenProvider::fetches) count is useful in benchmarks).
    pub fn ims(&self) -> &ImsTokenProvider {
        &self.ims
    }

    /// The ingress URL.
    pub fn ingress_url(&self) -> &Url {
        &self.options.ingress_url
    }

    fn give_up(&self, failure: Failure, attempts: u32, started: Instant) -> PublishError {
        let budget = format!("within the {} retry budget", secs(self.options.retry_budget));
        tracing::warn!(
            attempts,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "giving up publishing to Adobe I/O Events"
        );
        match failure {
            Failure::Throttled => PublishError::Unavailable(format!(
                "Adobe I/O Events is throttling requests (HTTP 429) {budget}; retry later"
            )),
            Failure::ServerError(status) => PublishError::Rejected(format!(
                "Adobe I/O Events failed (HTTP {}) on every attempt {budget}",
                status.as_u16()
            )),
            Failure::Unreachable(reason) => {
                PublishError::Unavailable(format!("Adobe I/O Events is unreachable {budget}: {reason}"))
            }
            Failure::Ims(err @ ImsError::Failed(_)) => {
                PublishError::Rejected(format!("{err} on every attempt {budget}"))
            }
            Failure::Ims(err) => PublishError::Unavailable(format!("{err} ({budget})")),
        }
    }
}

/// `15 s`, `1.5 s`.
fn secs(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{} s", d.as_secs())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

/// The start of a body (for logs): lossy UTF-8, cut to 300 characters.
fn detail_text(body: &[u8]) -> String {
    String::from_utf8_lossy(body).chars().take(300).collect()
}

/// Reads at most a few KiB of a response body (for logs, when `keep`),
/// draining it so the connection can be reused; the text is cut to 300
/// characters. Either transport's body: hyper's, or reqwest's as an `http` one.
async fn read_incoming<B>(mut body: B, keep: bool) -> String
where
    B: hyper::body::Body + Unpin,
    B::Data: AsRef<[u8]>,
{
    let mut kept = Vec::new();
    let mut total = 0usize;
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(chunk) = frame.into_data() else { continue };
        let chunk = chunk.as_ref();
        total += chunk.len();
        if keep && kept.len() < 4096 {
            kept.extend_from_slice(&chunk[..chunk.len().min(4096 - kept.len())]);
        }
        if total > 64 * 1024 {
            break; // not worth draining: let this connection go
        }
    }
    detail_text(&kept)
}

impl Dedicated {
    /// One POST of `body` with `token`, bounded by `timeout` (sending and reading the answer).
    async fn attempt(&self, token: &AccessToken, body: &Bytes, timeout: Duration) -> Result<Answer, String> {
        let Some(bearer) = token.bearer_header() else {
            return Err("builder error: the IMS token is not a valid header value".to_owned());
        };
        let mut request = http::Request::new(Full::new(body.clone()));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = self.uri.clone();
        let headers = request.headers_mut();
        *headers = self.headers.clone();
        headers.insert(AUTHORIZATION, bearer.clone());
        let exchange = async {
            let response = self.client.send(request).await.map_err(|e| error_chain(&e))?;
            let status = response.status();
            let retry_after = retry_after(response.headers());
            // Read the (short) body so the connection goes back to the pool.
            let detail = read_incoming(response.into_body(), !status.is_success()).await;
            Ok(Answer {
                status,
                retry_after,
                detail,
            })
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| Err("operation timed out".to_owned()))
    }
}

impl IoEventsPublisher {
    /// One POST through the general-purpose client.
    async fn attempt_reqwest(
        &self,
        client: &reqwest::Client,
        token: &AccessToken,
        body: &Bytes,
        timeout: Duration,
    ) -> Result<Answer, String> {
        let mut request = client
            .post(self.options.ingress_url.clone())
            .timeout(timeout)
            .header("x-api-key", self.ims.client_id())
            .bearer_auth(token.secret().expose_secret())
            .header(CONTENT_TYPE, CLOUDEVENTS_JSON)
            .header(ACCEPT, "application/json")
            .body(body.clone());
        if let Some(org) = &self.options.org_id {
            request = request.header("x-ims-org-id", org);
        }
        let response = request.send().await.map_err(|err| without_url(&err))?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        // Read the (short) body so the connection goes back to the pool.
        let detail = read_incoming(http::Response::<reqwest::Body>::from(response).into_body(), true).await;
        Ok(Answer {
            status,
            retry_after,
            detail,
        })
    }
}

pub use commerce_kit_core::http::{parse_retry_after, retry_after};

#[async_trait::async_trait]
impl EventPublisher for IoEventsPublisher {
    async fn publish(&self, event: &CloudEvent) -> Result<Delivery, PublishError> {
        let mut encoded = Vec::with_capacity(512);
        serde_json::to_writer(&mut encoded, event).map_err(|e| {
            tracing::error!(error = %e, "CloudEvent could not be serialized");
            PublishError::Internal("internal error: the event could not be encoded".into())
        })?;
        let body = Bytes::from(encoded);
        let started = Instant::now();
        let deadline = started + self.options.retry_budget;
        let mut backoff = ExponentialBuilder::default()
            .with_min_delay(self.options.min_backoff)
            .with_max_delay(self.options.max_backoff)
            .with_jitter()
            .without_max_times()
            .build();
        let mut refreshed_after_401 = false;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            metrics::counter!("commerce_kit_publisher_attempts_total", "publisher" => "io_events").increment(1);
            if attempts > 1 {
                metrics::counter!("commerce_kit_publisher_retries_total", "publisher" => "io_events").increment(1);
            }
            let (failure, wait) = match self.ims.token().await {
                Err(err) if err.is_retryable() => (Failure::Ims(err), None),
                Err(err) => return Err(PublishError::Rejected(err.to_string())),
                Ok(token) => {
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    let timeout = remaining
                        .min(self.options.attempt_timeout)
                        .max(Duration::from_millis(1));
                    let answer = match &self.transport {
                        Transport::Dedicated(dedicated) => dedicated.attempt(&token, &body, timeout).await,
                        Transport::Reqwest(client) => self.attempt_reqwest(client, &token, &body, timeout).await,
                    };
                    match answer {
                        Err(reason) => (Failure::Unreachable(reason), None),
                        Ok(Answer {
                            status,
                            retry_after,
                            detail,
                        }) => match status {
                            StatusCode::NO_CONTENT => {
                                tracing::info!(
                                    event_type = %event.event_type,
                                    "I/O Events accepted the event but has no registrations for it (HTTP 204)"
                                );
                                return Ok(Delivery::NoRegistrations);
                            }
                            s if s.is_success() => return Ok(Delivery::Accepted),
                            StatusCode::UNAUTHORIZED if !refreshed_after_401 => {
                                tracing::warn!("I/O Events refused the IMS token (HTTP 401); fetching a new one");
                                refreshed_after_401 = true;
                                self.ims.invalidate(&token);
                                continue;
                            }
                            StatusCode::UNAUTHORIZED => {
                                return Err(PublishError::Rejected(
                                    "Adobe I/O Events refused a freshly issued IMS token (HTTP 401); \
                                         check the credentials' I/O Events access"
                                        .into(),
                                ));
                            }
                            StatusCode::TOO_MANY_REQUESTS => (Failure::Throttled, retry_after),
                            s if is_retryable(s) => (Failure::ServerError(s), None),
                            s => {
                                tracing::warn!(
                                    status = s.as_u16(),
                                    body = %detail,
                                    event_type = %event.event_type,
                                    "I/O Events rejected the event"
                                );
                                return Err(PublishError::Rejected(format!(
                                    "Adobe I/O Events rejected the event (HTTP {})",
                                    s.as_u16()
                                )));
                            }
                        },
                    }
                }
            };
            let delay = wait.unwrap_or_else(|| backoff.next().unwrap_or(self.options.max_backoff));
            // Note: a Retry-After longer than what is left of the budget ends the attempts now.
            if Instant::now() + delay >= deadline {
                return Err(self.give_up(failure, attempts, started));
            }
            tracing::debug!(
                attempt = attempts,
                delay_ms = delay.as_millis() as u64,
                "retrying the publish"
            );
            tokio::time::sleep(delay).await;
        }
    }

    fn name(&self) -> &'static str {
        "io-events"
    }
}
