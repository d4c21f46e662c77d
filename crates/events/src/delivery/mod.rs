//! The Adobe I/O Events webhook endpoint: `GET /events` (challenge) and
//! `POST /events` (validationUrl, one CloudEvent, or a batch array).
//!
//! The flow is [`Delivery::get`] / [`Delivery::post`]: plain async functions from
//! headers and raw body bytes to a [`DeliveryResponse`]; [`router`] is the axum
//! adapter.
//!
//! `POST /events`, in order:
//! 1. read the body (limit `EVENTS_BODY_LIMIT_BYTES`, 2.5 MiB by default: Adobe
//!    batches are up to 2 MB) and keep the raw bytes;
//! 2. unless the options are [`DeliveryOptions::unsigned`]: the digital
//!    signatures over the raw bytes, before anything is parsed ([`signature`]);
//!    failure → 401 (503 when Adobe's key host is unreachable), except for an
//!    unsigned `{"validationUrl":…}` request (Adobe does not sign them): a body
//!    of at most 4 KiB that fails the check is parsed to recognise one;
//! 3. parse: a request in the CloudEvents HTTP binding's binary content mode
//!    (`ce-*` headers, the body as data; [`binary`]) is one event; otherwise
//!    the body is structured: an object is one event (or `{"validationUrl":…}` → GET it, see
//!    [`validation`]; 200 when confirmed), an array is a batch of at most
//!    [`DeliveryOptions::batch_limit`] events (20 by default, Adobe's largest
//!    batch): a longer one is answered 413 before any event is dispatched,
//!    and its events past the limit are only counted, never built;
//! 4. per event, when a client id is configured: `recipientclientid` (or the
//!    deprecated `recipient_client_id`) must equal it, else 401 for that event;
//! 5. dispatch each event ([`crate::consumer::Consumer::dispatch`]); a batch's
//!    events are dispatched concurrently, at most [`BATCH_CONCURRENCY`] at a
//!    time (Adobe does not guarantee order, and a batch must finish within
//!    Adobe's 10 s).
//!
//! A batch answers the **worst** status of its events so that Adobe retries
//! what failed: any retryable status (429, 5xx except 505) beats any other
//! failure, which beats success; among equals the first event's status wins.
//! Events of a retried batch that had succeeded are answered as duplicates
//! (dedupe), so only the failed ones run again. The body lists every event:
//! `{"results":[{"index":0,"id":"…","type":"…","status":200,"body":{…}},…]}`.
//!
//! # Memory per request
//!
//! One `POST /events` holds at most:
//! - the raw body, ≤ `body_limit` (2.5 MiB by default);
//! - its parsed events: at most `batch_limit` + 1 of them are built (past the
//!   limit the rest is only counted), as `serde_json::Value`s, which take
//!   about 10 times their JSON size for ordinary events (measured: 20,000
//!   minimal events, 1.4 MB of JSON, are 14 MB of `Value`s), 14 times for
//!   empty objects or arrays, 28 times for bare numbers, and at worst about
//!   90 times for one-member objects (`[{"a":0},…]`: a B-tree node each).
//!   So ≤ 90 × `body_limit` ≈ 225 MiB for a pathological 2.5 MiB body of a
//!   single event (the same as before batches were limited), typically
//!   ≈ 10 × the body;
//! - for at most [`BATCH_CONCURRENCY`] (20) events at once, one dispatch's
//!   state: the handler's future and what it allocates, the dedupe and
//!   loop-guard keys (small: ids are at most 256 bytes);
//! - the answer: one entry per event, ≤ `batch_limit` entries.
//!
//! Bound: `body_limit` × (1 + parse overhead, 10 typical, 90 worst) + 20 ×
//! per-event handler state. Before the batch limit, a 2 MB batch of 20,000
//! minimal events was 20,000 concurrent dispatches and a 4.6 MB answer
//! (15 → 140 MiB of RSS); now it is refused with 413 after 21 events were
//! built. Lower `EVENTS_BODY_LIMIT_BYTES` to lower the worst case.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use commerce_kit_core::body::BodyError;
use futures_util::StreamExt;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::cloudevent::CloudEvent;
use crate::consumer::{Consumer, Dispatched};
use crate::handler::{DeliverySource, EventContext};

mod binary;
mod parse;
mod router;
pub mod signature;
pub mod validation;

pub use router::router;
pub use signature::{BadBaseUrl, SignatureFailure, SignatureVerifier};
pub use validation::ValidationPolicy;

/// Default body limit of `POST /events`: 2.5 MiB (Adobe batches are at most 2 MB).
pub const DEFAULT_EVENTS_BODY_LIMIT: usize = 2_621_440;
/// Default [`DeliveryOptions::batch_limit`]: 20 events, the most Adobe I/O Events puts in one batch.
pub const DEFAULT_EVENTS_BATCH_LIMIT: usize = 20;
/// At most this many events of one batch are handled at the same time: Adobe's
/// largest batch (20) runs wholly concurrently, as the 10 s delivery deadline
/// needs, and a larger [`DeliveryOptions::batch_limit`] does not raise it.
pub const BATCH_CONCURRENCY: usize = 20;
/// Longest accepted `challenge` value, in characters.
const MAX_CHALLENGE_LEN: usize = 1024;
/// Largest unsigned body still parsed to recognise a `{"validationUrl":…}` request.
const MAX_UNSIGNED_VALIDATION_BODY: usize = 4096;

/// Signature and recipient checks.
#[derive(Debug)]
pub struct Verification {
    /// The signature verifier (key host and cache).
    pub verifier: SignatureVerifier,
    /// The expected `recipientclientid`; `None` skips the recipient check.
    pub client_id: Option<String>,
}

/// Options of the delivery endpoint.
///
/// Deliveries are verified unless you say otherwise: the constructors are
/// [`DeliveryOptions::adobe`] (Adobe's key host) and
/// [`DeliveryOptions::verified`] (any [`SignatureVerifier`]), and accepting
/// unsigned deliveries takes an explicit [`DeliveryOptions::unsigned`] (the
/// [`Delivery`] then warns at start-up).
///
/// ```
/// use commerce_kit_events::DeliveryOptions;
///
/// let options = DeliveryOptions::adobe("4f8a1c2e-client-id")?.with_body_limit(1 << 20);
/// assert!(options.is_verified());
/// let v = options.verification().unwrap();
/// assert_eq!(v.verifier.base_url(), "https://static.adobeioevents.com");
/// assert_eq!(v.client_id.as_deref(), Some("4f8a1c2e-client-id"));
///
/// // development only, or with mTLS in front
/// assert!(!DeliveryOptions::unsigned().is_verified());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct DeliveryOptions {
    /// `None` only through [`DeliveryOptions::unsigned`].
    verification: Option<Verification>,
    /// Which `validationUrl`s are fetched.
    pub validation: ValidationPolicy,
    /// Largest accepted body in bytes.
    pub body_limit: usize,
    /// Most events accepted in one batch (default [`DEFAULT_EVENTS_BATCH_LIMIT`]);
    /// a longer batch is answered 413 before any of its events is dispatched.
    pub batch_limit: usize,
}

impl DeliveryOptions {
    /// Every delivery must carry a valid I/O Events signature checked with
    /// `verifier`; with a `client_id`, every event's `recipientclientid` must
    /// equal it (without one, the [`Delivery`] warns that it is not checked).
    pub fn verified(verifier: SignatureVerifier, client_id: Option<String>) -> Self {
        Self::with(Some(Verification { verifier, client_id }))
    }

    /// [`verified`](Self::verified) against Adobe's key host
    /// ([`DEFAULT_KEY_BASE_URL`](signature::DEFAULT_KEY_BASE_URL), keys cached
    /// 24 h), for the project whose client id is `client_id`.
    pub fn adobe(client_id: impl Into<String>) -> Result<Self, BadBaseUrl> {
        let verifier = SignatureVerifier::new(signature::DEFAULT_KEY_BASE_URL, signature::MAX_KEY_CACHE_TTL)?;
        Ok(Self::verified(verifier, Some(client_id.into())))
    }

    /// Accepts deliveries without checking signatures: anyone who can reach
    /// `POST /events` can inject events. For development, or behind mTLS; the
    /// [`Delivery`] logs a warning when it is built with these options.
    pub fn unsigned() -> Self {
        Self::with(None)
    }

    fn with(verification: Option<Verification>) -> Self {
        Self {
            verification,
            validation: ValidationPolicy::default(),
            body_limit: DEFAULT_EVENTS_BODY_LIMIT,
            batch_limit: DEFAULT_EVENTS_BATCH_LIMIT,
        }
    }

    /// The same options with this `validationUrl` policy.
    pub fn with_validation(mut self, validation: ValidationPolicy) -> Self {
        self.validation = validation;
        self
    }

    /// The same options with this body limit (bytes).
    pub fn with_body_limit(mut self, body_limit: usize) -> Self {
        self.body_limit = body_limit;
        self
    }

    /// The same options with this batch limit (events per delivery).
    pub fn with_batch_limit(mut self, batch_limit: usize) -> Self {
        self.batch_limit = batch_limit;
        self
    }

    /// The signature and recipient checks; `None` when built with [`unsigned`](Self::unsigned).
    pub fn verification(&self) -> Option<&Verification> {
        self.verification.as_ref()
    }

    /// True unless built with [`unsigned`](Self::unsigned).
    pub fn is_verified(&self) -> bool {
        self.verification.is_some()
    }
}

/// A response body: JSON, or plain text (the challenge).
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseBody {
    /// `application/json`.
    Json(Value),
    /// `text/plain; charset=utf-8`.
    Text(String),
}

/// What the endpoint answers.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// Body.
    pub body: ResponseBody,
}

impl DeliveryResponse {
    fn json(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body: ResponseBody::Json(body),
        }
    }

    fn error(status: StatusCode, message: impl std::fmt::Display) -> Self {
        Self::json(status, json!({"error": message.to_string()}))
    }
}

/// The webhook endpoint: a [`Consumer`] plus delivery checks. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Delivery {
    consumer: Consumer,
    options: Arc<DeliveryOptions>,
}

/// Severity of a status for batch aggregation: retryable > other failure > success.
fn severity(status: StatusCode) -> u8 {
    if status.is_success() {
        0
    } else if commerce_kit_core::http::is_retryable(status) {
        2
    } else {
        1
    }
}

impl Delivery {
    /// The endpoint over `consumer` with `options`.
    pub fn new(consumer: Consumer, options: DeliveryOptions) -> Self {
        if let Some(v) = &options.verification {
            if v.client_id.is_none() {
                tracing::warn!(
                    "I/O Events signatures are verified but no client id is set: recipientclientid is not checked (set OAUTH_CLIENT_ID)"
                );
            }
        } else {
            tracing::warn!(
                "I/O Events signatures are NOT verified: anyone who can reach POST /events can inject events (set OAUTH_CLIENT_ID, or EVENTS_VERIFY_SIGNATURES=true)"
            );
        }
        Self {
            consumer,
            options: Arc::new(options),
        }
    }

    /// The consumer behind the endpoint (shared with the local-bus loop).
    pub fn consumer(&self) -> &Consumer {
        &self.consumer
    }

    /// The options.
    pub fn options(&self) -> &DeliveryOptions {
        &self.options
    }

    /// `GET /events?challenge=X`: 200 with X as `text/plain`, or
    /// `{"challenge":"X"}` when the client accepts JSON (`Accept` names
    /// `application/json`) and not `text/plain` first.
    pub fn get(&self, challenge: Option<&str>, headers: &HeaderMap) -> DeliveryResponse {
        let Some(challenge) = challenge.filter(|c| !c.is_empty()) else {
            return DeliveryResponse::error(StatusCode::BAD_REQUEST, "missing query parameter 'challenge'");
        };
        // Counted in characters, as the message says (at most 4 KiB of UTF-8).
        if challenge.len() > 4 * MAX_CHALLENGE_LEN
            || challenge.chars().count() > MAX_CHALLENGE_LEN
            || challenge.chars().any(char::is_control)
        {
            return DeliveryResponse::error(
                StatusCode::BAD_REQUEST,
                format!(
                    "invalid query parameter 'challenge': expected at most {MAX_CHALLENGE_LEN} printable characters"
                ),
            );
        }
        let accept = headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let json_at = accept.find("application/json");
        let text_at = accept.find("text/plain");
        let wants_json = match (json_at, text_at) {
            (Some(j), Some(t)) => j < t,
            (Some(_), None) => true,
            _ => false,
        };
        tracing::info!(
            format = if wants_json { "json" } else { "text" },
            "answered I/O Events challenge"
        );
        if wants_json {
            DeliveryResponse::json(StatusCode::OK, json!({ "challenge": challenge }))
        } else {
            DeliveryResponse {
                status: StatusCode::OK,
                body: ResponseBody::Text(challenge.to_owned()),
            }
        }
    }

    /// `POST /events` with the raw body bytes (already read within the limit).
    pub async fn post(&self, headers: &HeaderMap, body: Bytes) -> DeliveryResponse {
        let started = Instant::now();
        let response = self.post_inner(headers, body).await;
        let (events, outcome, event_type, event_id) = match &response.1 {
            Some(s) => (
                s.events,
                s.outcome.as_str(),
                s.event_type.as_deref(),
                s.event_id.as_deref(),
            ),
            None => (0, "rejected", None, None),
        };
        let response = response.0;
        tracing::info!(
            status = response.status.as_u16(),
            events,
            outcome,
            event_type = event_type.unwrap_or("-"),
            event_id = event_id.unwrap_or("-"),
            error = error_text(&response),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "events delivery"
        );
        response
    }

    async fn post_inner(&self, headers: &HeaderMap, body: Bytes) -> (DeliveryResponse, Option<Summary>) {
        if let Some(v) = &self.options.verification
            && let Err(failure) = v.verifier.verify(headers, &body).await
        {
            // Adobe does not sign its validationUrl requests: recognise a small one.
            if body.len() <= MAX_UNSIGNED_VALIDATION_BODY
                && let Ok(parse::Parsed::Object(object)) = parse::parse(&body, 0)
                && let Some(url) = validation_url(&object)
            {
                return (self.validate_registration(url).await, None);
            }
            tracing::warn!(reason = %failure, "rejected an I/O Events delivery");
            return (DeliveryResponse::error(failure.status(), failure), None);
        }
        if binary::is_binary(headers) {
            return match binary::event(headers, &body) {
                Ok(item) => self.single(item, headers).await,
                Err(e) => (DeliveryResponse::error(e.status(), e), None),
            };
        }
        let limit = self.options.batch_limit;
        let parsed = match parse::parse(&body, limit) {
            Ok(v) => v,
            Err(e) => return (DeliveryResponse::error(e.status(), e), None),
        };
        drop(body);
        if let parse::Parsed::Object(object) = &parsed
            && let Some(url) = validation_url(object)
        {
            return (self.validate_registration(url).await, None);
        }
        match parsed {
            parse::Parsed::Batch(items) => self.batch(items).await,
            parse::Parsed::TooMany { count } => (
                DeliveryResponse::error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!(
                        "invalid delivery: a batch of {count} events is larger than the limit of {limit} events per delivery"
                    ),
                ),
                Some(Summary {
                    events: count,
                    outcome: "rejected".into(),
                    event_type: None,
                    event_id: None,
                }),
            ),
            parse::Parsed::Object(item) => self.single(item, headers).await,
            parse::Parsed::Other => (
                DeliveryResponse::error(
                    StatusCode::BAD_REQUEST,
                    "invalid delivery: expected a CloudEvent object or an array of CloudEvents",
                ),
                None,
            ),
        }
    }

    /// One event delivered on its own (structured or binary mode).
    async fn single(&self, item: Value, headers: &HeaderMap) -> (DeliveryResponse, Option<Summary>) {
        let header_id = header(headers, "x-adobe-event-id");
        let retry_count = header(headers, "x-adobe-retry-count").and_then(|v| v.parse().ok());
        let (id, ty) = describe(&item);
        let event_id = id.or_else(|| header_id.map(str::to_owned));
        let (status, body, outcome) = match self.one(item, header_id, retry_count).await {
            Ok(d) => {
                tracing::debug!(handler = d.handler.as_deref().unwrap_or("-"), "dispatched");
                (d.status, d.body, d.outcome.as_str())
            }
            Err(rejected) => (rejected.status, rejected.body, "rejected"),
        };
        let summary = Summary {
            events: 1,
            outcome: outcome.into(),
            event_type: ty,
            event_id,
        };
        (DeliveryResponse::json(status, body), Some(summary))
    }

    async fn validate_registration(&self, url: &Value) -> DeliveryResponse {
        match validation::confirm(url, &self.options.validation).await {
            Ok(()) => {
                tracing::info!("I/O Events registration confirmed through validationUrl");
                DeliveryResponse::json(
                    StatusCode::OK,
                    json!({"success": true, "message": "registration validated through validationUrl"}),
                )
            }
            Err(e) => {
                tracing::warn!(error = %e, "I/O Events validationUrl not confirmed");
                DeliveryResponse::error(e.status(), e)
            }
        }
    }

    /// One event: CloudEvent checks, recipient check, dispatch.
    async fn one(
        &self,
        item: Value,
        header_id: Option<&str>,
        retry_count: Option<u32>,
    ) -> Result<Dispatched, Rejected> {
        let event = CloudEvent::from_value(item).map_err(|e| Rejected::new(StatusCode::BAD_REQUEST, e))?;
        if let Some(expected) = self.options.verification.as_ref().and_then(|v| v.client_id.as_deref()) {
            match event.recipient_client_id() {
                None => {
                    return Err(Rejected::new(
                        StatusCode::UNAUTHORIZED,
                        "missing recipientclientid: the event does not name the client id it was delivered for",
                    ));
                }
                Some(got) if got != expected => {
                    return Err(Rejected::new(
                        StatusCode::UNAUTHORIZED,
                        format!("recipientclientid '{got}' does not match this consumer's client id (OAUTH_CLIENT_ID)"),
                    ));
                }
                Some(_) => {}
            }
        }
        // The dedupe id comes from the signed body first (Adobe's `eventid`, or the
        // deprecated `event_id`): the `x-adobe-event-id` header is not signed, so
        // trusting it first would let a replayed delivery with a new header dodge dedupe.
        let signed_id = event
            .extension_str("eventid")
            .or_else(|| event.extension_str("event_id"));
        let id = signed_id.or(header_id).unwrap_or(&event.id);
        let mut ctx = EventContext::new(id.to_owned());
        ctx.retry_count = retry_count;
        ctx.source = DeliverySource::Http;
        Ok(self.consumer.dispatch(event, ctx).await)
    }

    async fn batch(&self, items: Vec<Value>) -> (DeliveryResponse, Option<Summary>) {
        if items.is_empty() {
            return (
                DeliveryResponse::error(StatusCode::BAD_REQUEST, "invalid delivery: empty batch"),
                None,
            );
        }
        let count = items.len();
        let described: Vec<(Option<String>, Option<String>)> = items.iter().map(describe).collect();
        // In order, at most BATCH_CONCURRENCY at once; an event's JSON is released as it is dispatched.
        let results: Vec<_> = futures_util::stream::iter(items)
            .map(|item| self.one(item, None, None))
            .buffered(BATCH_CONCURRENCY)
            .collect()
            .await;
        let mut worst = StatusCode::OK;
        let mut entries = Vec::with_capacity(count);
        let mut handled = 0;
        for (index, (result, (id, ty))) in results.into_iter().zip(described).enumerate() {
            let (status, body) = match result {
                Ok(d) => {
                    if d.is_success() {
                        handled += 1;
                    }
                    (d.status, d.body)
                }
                Err(r) => (r.status, r.body),
            };
            if severity(status) > severity(worst) {
                worst = status;
            }
            entries.push(json!({"index": index, "id": id, "type": ty, "status": status.as_u16(), "body": body}));
        }
        let summary = Summary {
            events: count,
            outcome: format!("batch {handled}/{count} ok"),
            event_type: None,
            event_id: None,
        };
        (
            DeliveryResponse::json(worst, json!({ "results": entries })),
            Some(summary),
        )
    }
}

/// An event refused before dispatch.
struct Rejected {
    status: StatusCode,
    body: Value,
}

impl Rejected {
    fn new(status: StatusCode, message: impl std::fmt::Display) -> Self {
        Self {
            status,
            body: json!({"error": message.to_string()}),
        }
    }
}

struct Summary {
    events: usize,
    outcome: String,
    event_type: Option<String>,
    event_id: Option<String>,
}

/// The URL of a `{"validationUrl":…}` request (an object without `specversion`).
fn validation_url(object: &Value) -> Option<&Value> {
    object
        .get("validationUrl")
        .filter(|_| object.get("specversion").is_none())
}

/// The stable id (`eventid`, `event_id`, `id`) and `type` of a raw event, for logs and batch results.
fn describe(item: &Value) -> (Option<String>, Option<String>) {
    let s = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
    (s("eventid").or_else(|| s("event_id")).or_else(|| s("id")), s("type"))
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 256)
}

fn error_text(response: &DeliveryResponse) -> &str {
    match &response.body {
        ResponseBody::Json(v) => v.get("error").and_then(Value::as_str).unwrap_or(""),
        ResponseBody::Text(_) => "",
    }
}

/// Maps a body read failure to the endpoint's response (413 or 400).
pub fn body_error(err: &BodyError) -> DeliveryResponse {
    DeliveryResponse::error(err.status(), err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_retryable_above_final_failures_above_success() {
        let s = |c: u16| severity(StatusCode::from_u16(c).expect("code"));
        assert!(s(503) > s(400));
        assert!(s(429) > s(404));
        assert!(s(400) > s(200));
        assert_eq!(s(505), s(400), "505 is final");
        assert_eq!(s(201), s(200));
    }
}
