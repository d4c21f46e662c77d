//! The ingestion flow: authenticate → validate → publish → respond, as a plain
//! async function of (headers, raw body bytes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Json;
use axum::response::{IntoResponse, Response};
use commerce_kit_core::body::{DEFAULT_BODY_LIMIT, parse_json};
use commerce_kit_core::state::{MemoryStore, StateStore};
use commerce_kit_model::catalog::{Catalog, ValueError};
use commerce_kit_model::cloudevent::CloudEvent;
use http::HeaderMap;
use serde::Serialize;

use crate::auth::{Authenticator, NoAuth};
use crate::error::IngestionError;
use crate::payload::IngestionEvent;
use crate::publisher::{Delivery, EventPublisher};

/// The success message of the starter kit.
pub const SUCCESS_MESSAGE: &str = "Event published successfully";

/// CloudEvent `source` used when no I/O Events provider is configured.
pub const LOCAL_SOURCE: &str = "urn:commerce-kit:ingestion";

/// Default time a published `uid` is remembered (a repeat is acknowledged, not re-published).
pub const DEFAULT_IDEMPOTENCY_TTL: Duration = Duration::from_secs(24 * 3600);

const DONE: &[u8] = b"done";
const PENDING: &[u8] = b"pending";

/// An accepted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The event code.
    pub event: String,
    /// The back office's uid.
    pub uid: String,
    /// What happened to it.
    pub outcome: AcceptOutcome,
}

/// How an accepted event was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AcceptOutcome {
    /// Published now.
    Published(Delivery),
    /// Already published earlier (same event code and uid): acknowledged again, not re-published.
    Duplicate,
}

#[derive(Serialize)]
struct SuccessBody<'a> {
    #[serde(rename = "type")]
    event: &'a str,
    response: SuccessResponse,
}

#[derive(Serialize)]
struct SuccessResponse {
    success: bool,
    message: &'static str,
}

impl Accepted {
    /// The response body: `{"type":"<event>","response":{"success":true,"message":"Event published successfully"}}`.
    pub fn body(&self) -> serde_json::Value {
        serde_json::to_value(self.wire()).unwrap_or_default()
    }

    fn wire(&self) -> SuccessBody<'_> {
        SuccessBody {
            event: &self.event,
            response: SuccessResponse {
                success: true,
                message: SUCCESS_MESSAGE,
            },
        }
    }
}

/// What follows the event code in the success body (the test
/// `success_bodies_are_what_serde_writes` checks it against [`SuccessBody`]).
const SUCCESS_TAIL: &[u8] = b",\"response\":{\"success\":true,\"message\":\"Event published successfully\"}}";

impl IntoResponse for Accepted {
    /// The [`body`](Self::body) as `application/json`, written directly (the
    /// same bytes as serializing [`SuccessBody`]).
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(12 + self.event.len() + SUCCESS_TAIL.len());
        body.extend_from_slice(b"{\"type\":");
        if serde_json::to_writer(&mut body, &self.event).is_err() {
            return Json(self.wire()).into_response(); // unreachable: a String always serializes
        }
        body.extend_from_slice(SUCCESS_TAIL);
        (
            [(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/json"),
            )],
            bytes::Bytes::from(body),
        )
            .into_response()
    }
}

/// The ingestion webhook service. Cheap to clone.
#[derive(Clone)]
pub struct IngestionService {
    inner: Arc<Inner>,
}

struct Inner {
    authenticator: Arc<dyn Authenticator>,
    catalog: Arc<Catalog>,
    publisher: Arc<dyn EventPublisher>,
    idempotency: Arc<dyn StateStore>,
    idempotency_ttl: Duration,
    pending_ttl: Duration,
    source: String,
    body_limit: usize,
}

impl std::fmt::Debug for IngestionService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestionService")
            .field("authenticator", &self.inner.authenticator.name())
            .field("publisher", &self.inner.publisher.name())
            .field("events", &self.inner.catalog.len())
            .field("source", &self.inner.source)
            .finish_non_exhaustive()
    }
}

/// Builds an [`IngestionService`]; every setting but the publisher has a default.
///
/// ```
/// use std::sync::Arc;
/// use commerce_kit_ingestion::{IngestionService, auth::ApiKeyAuth, publisher::LocalBusPublisher};
/// use commerce_kit_model::bus::LocalBus;
///
/// let dir = tempfile::tempdir().unwrap();
/// let bus = LocalBus::open(dir.path()).unwrap();
/// let service = IngestionService::builder(Arc::new(LocalBusPublisher::new(bus)))
///     .authenticator(Arc::new(ApiKeyAuth::new(["k1".into()])))
///     .build();
/// let app = commerce_kit_ingestion::router(service);
/// # let _ = app;
/// ```
pub struct IngestionServiceBuilder {
    inner: Inner,
}

impl IngestionServiceBuilder {
    /// Who may post (default: [`NoAuth`]).
    pub fn authenticator(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.inner.authenticator = authenticator;
        self
    }

    /// The event catalog (default: [`Catalog::builtin`]).
    pub fn catalog(mut self, catalog: Arc<Catalog>) -> Self {
        self.inner.catalog = catalog;
        self
    }

    /// Where published uids are remembered (default: an in-process [`MemoryStore`]).
    pub fn idempotency_store(mut self, store: Arc<dyn StateStore>) -> Self {
        self.inner.idempotency = store;
        self
    }

    /// How long a published uid is remembered (default 24 h).
    pub fn idempotency_ttl(mut self, ttl: Duration) -> Self {
        self.inner.idempotency_ttl = ttl;
        self
    }

    /// How long an in-progress publish blocks a concurrent duplicate (default 60 s;
    /// set it above the publisher's retry budget).
    pub fn pending_ttl(mut self, ttl: Duration) -> Self {
        self.inner.pending_ttl = ttl;
        self
    }

    /// The CloudEvent `source` (`urn:uuid:<provider id>` for I/O Events; default [`LOCAL_SOURCE`]).
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.inner.source = source.into();
        self
    }

    /// The largest accepted body in bytes (default [`DEFAULT_BODY_LIMIT`]).
    pub fn body_limit(mut self, limit: usize) -> Self {
        self.inner.body_limit = limit;
        self
    }

    /// The service.
    pub fn build(self) -> IngestionService {
        IngestionService {
            inner: Arc::new(self.inner),
        }
    }
}

impl IngestionService {
    /// A builder publishing with `publisher`.
    pub fn builder(publisher: Arc<dyn EventPublisher>) -> IngestionServiceBuilder {
        IngestionServiceBuilder {
            inner: Inner {
                authenticator: Arc::new(NoAuth),
                catalog: Arc::new(Catalog::builtin()),
                publisher,
                idempotency: Arc::new(MemoryStore::new()),
                idempotency_ttl: DEFAULT_IDEMPOTENCY_TTL,
                pending_ttl: Duration::from_secs(60),
                source: LOCAL_SOURCE.to_owned(),
                body_limit: DEFAULT_BODY_LIMIT,
            },
        }
    }

    /// The largest accepted body in bytes.
    pub fn body_limit(&self) -> usize {
        self.inner.body_limit
    }

    /// The catalog events are validated against.
    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    /// The publisher's name (`local-bus`, `io-events`, …).
    pub fn publisher_name(&self) -> &'static str {
        self.inner.publisher.name()
    }

    /// The authenticator's name (`none`, `api-key`, `hmac`, …).
    pub fn authenticator_name(&self) -> &'static str {
        self.inner.authenticator.name()
    }

    /// Handles one request: authenticate → validate → publish → respond, and
    /// logs one line with the outcome and duration.
    pub async fn handle(&self, headers: &HeaderMap, body: &[u8]) -> Result<Accepted, IngestionError> {
        let started = Instant::now();
        let result = self.process(headers, body).await;
        log_outcome(&result, started);
        result
    }

    async fn process(&self, headers: &HeaderMap, body: &[u8]) -> Result<Accepted, IngestionError> {
        let inner = &self.inner;
        inner.authenticator.authenticate(headers, body).await?;
        let IngestionEvent { uid, event, value } = match IngestionEvent::from_body_fast(body) {
            Some(parsed) => parsed,
            None => IngestionEvent::from_json(parse_json(body)?)?,
        };
        inner.catalog.validate(&event, &value)?;

        let key = format!("ingestion:{event}:{uid}");
        let claimed = match inner.idempotency.put_if_absent(&key, PENDING, inner.pending_ttl).await {
            Ok(true) => true,
            Ok(false) => match inner.idempotency.get(&key).await {
                Ok(Some(v)) if v == DONE => {
                    return Ok(Accepted {
                        event,
                        uid,
                        outcome: AcceptOutcome::Duplicate,
                    });
                }
                Ok(Some(_)) => return Err(IngestionError::InFlight { uid, event }),
                // Expired between the two calls: publish (at worst a duplicate the consumer dedupes).
                Ok(None) => false,
                Err(err) => {
                    tracing::warn!(error = %err, "idempotency store read failed; publishing anyway");
                    false
                }
            },
            Err(err) => {
                tracing::warn!(error = %err, "idempotency store unavailable; publishing without duplicate check");
                false
            }
        };

        let cloud_event = CloudEvent::new(uid, inner.source.clone(), event, value);
        let published = inner.publisher.publish(&cloud_event).await;
        let CloudEvent {
            id: uid,
            event_type: event,
            ..
        } = cloud_event;
        match published {
            Ok(delivery) => {
                if let Err(err) = inner.idempotency.put(&key, DONE, inner.idempotency_ttl).await {
                    tracing::warn!(error = %err, "published, but the uid could not be remembered");
                }
                Ok(Accepted {
                    event,
                    uid,
                    outcome: AcceptOutcome::Published(delivery),
                })
            }
            Err(err) => {
                if claimed && let Err(e) = inner.idempotency.delete(&key).await {
                    tracing::warn!(error = %e, "could not release the in-progress mark of a failed publish");
                }
                Err(err.into())
            }
        }
    }
}

/// The outcome name of an accepted request (log field and metric label).
fn accepted_outcome(outcome: AcceptOutcome) -> &'static str {
    match outcome {
        AcceptOutcome::Published(Delivery::Accepted) => "published",
        AcceptOutcome::Published(Delivery::NoRegistrations) => "published_no_registrations",
        AcceptOutcome::Published(Delivery::Stored { .. }) => "stored",
        AcceptOutcome::Published(Delivery::AlreadyStored { .. }) => "duplicate_stored",
        AcceptOutcome::Duplicate => "duplicate",
    }
}

/// One info line per request (warn/error for server-side failures); never the
/// body; and the request in `commerce_kit_ingestion_requests_total{outcome,status}`
/// and `commerce_kit_ingestion_request_duration_seconds`.
pub(crate) fn log_outcome(result: &Result<Accepted, IngestionError>, started: Instant) {
    let elapsed = started.elapsed();
    let elapsed_us = elapsed.as_micros() as u64;
    let (outcome, status) = match result {
        Ok(accepted) => (accepted_outcome(accepted.outcome), http::StatusCode::OK),
        Err(err) => (err.outcome(), err.status()),
    };
    metrics::counter!(
        "commerce_kit_ingestion_requests_total",
        "outcome" => outcome,
        "status" => commerce_kit_core::telemetry::status_label(status)
    )
    .increment(1);
    static DURATION: std::sync::OnceLock<std::sync::Arc<commerce_kit_core::telemetry::Histogram>> =
        std::sync::OnceLock::new();
    DURATION
        .get_or_init(|| {
            commerce_kit_core::telemetry::histogram("commerce_kit_ingestion_request_duration_seconds", None)
        })
        .record(elapsed);
    match result {
        Ok(accepted) => {
            let offset = match accepted.outcome {
                AcceptOutcome::Published(Delivery::Stored { offset } | Delivery::AlreadyStored { offset }) => {
                    Some(offset)
                }
                _ => None,
            };
            tracing::info!(
                status = 200,
                outcome,
                event = %accepted.event,
                uid = %accepted.uid,
                offset,
                elapsed_us,
                "ingestion request handled"
            );
        }
        Err(err) => {
            let status = err.status().as_u16();
            // A schema failure's reason may quote the payload: log where, not what.
            let error = match err {
                IngestionError::Catalog(ValueError::Invalid { event, pointer, .. }) => {
                    format!("invalid value for event '{event}' at '{pointer}'")
                }
                other => other.to_string(),
            };
            if status >= 500 {
                tracing::warn!(
                    status,
                    outcome = err.outcome(),
                    error,
                    elapsed_us,
                    "ingestion request failed"
                );
            } else {
                tracing::info!(
                    status,
                    outcome = err.outcome(),
                    error,
                    elapsed_us,
                    "ingestion request refused"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn success_bodies_are_what_serde_writes() {
        for event in [
            "be-observer.catalog_product_create",
            "",
            "q\"uote\\back\u{1}slash",
            "é✓",
        ] {
            let accepted = Accepted {
                event: event.to_owned(),
                uid: "u".to_owned(),
                outcome: AcceptOutcome::Duplicate,
            };
            let expected = Json(accepted.wire()).into_response();
            let (expected_parts, expected_body) = expected.into_parts();
            let (parts, body) = accepted.clone().into_response().into_parts();
            assert_eq!(parts.status, expected_parts.status);
            assert_eq!(parts.headers, expected_parts.headers, "{event}");
            let body = axum::body::to_bytes(body, 1024).await.expect("body");
            let expected_body = axum::body::to_bytes(expected_body, 1024).await.expect("body");
            assert_eq!(body, expected_body, "{event}");
            assert_eq!(
                serde_json::from_slice::<serde_json::Value>(&body).expect("json"),
                accepted.body()
            );
        }
    }
}
