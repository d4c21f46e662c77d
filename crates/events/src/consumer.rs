//! The consumer: resolves an event's handler, then dedupe → loop guard →
//! handler (with a deadline and a panic guard) → status and body.
//!
//! The same [`Consumer::dispatch`] serves HTTP deliveries (`POST /events`) and
//! the local bus loop.
//!
//! ## Registering handlers
//!
//! [`ConsumerBuilder::on`] takes a key and a handler. The key is either
//! - a **route name** of the starter kit's rules (`product-commerce/created`,
//!   `customer-backoffice/group-updated`, …; see [`crate::routing`]), or
//! - an **event code** the rules know, with or without prefix
//!   (`be-observer.catalog_product_create`,
//!   `com.adobe.commerce.observer.catalog_product_save_commit_after`; prefixes
//!   in keys and deliveries are ignored).
//!
//! [`ConsumerBuilder::build`] refuses any other key with a
//! [`ConsumerBuildError`] naming it (and the likely intended key): a mistyped
//! key would otherwise match nothing, and its events would all be answered
//! 400, which Adobe never retries. Events outside the rules (your own catalog,
//! other Commerce events) are registered with [`ConsumerBuilder::on_custom`],
//! or declared with [`ConsumerBuilder::known_event_codes`] /
//! [`ConsumerBuilder::catalog`] before `on`.
//!
//! For each event the consumer looks for, in order: a handler for the exact
//! event type, for its unprefixed code, for its route name, then the fallback
//! handler ([`ConsumerBuilder::fallback`], only for events the routing rules
//! know). Nothing found → 400 (`unsupported event type '…'` when no rule knows
//! the type; `no handler registered for route '…' (event type '…')` otherwise).
//!
//! ```
//! use commerce_kit_events::{handler_fn, Consumer, HandlerResult, MemoryStore};
//! use std::sync::Arc;
//!
//! let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
//!     .on("product-commerce/created", handler_fn(|_e, _c| async { Ok(HandlerResult::success("created")) }))
//!     .on("be-observer.catalog_stock_update", handler_fn(|_e, _c| async { Ok(HandlerResult::success("stock")) }))
//!     .on_custom("com.acme.erp.invoice_paid", handler_fn(|_e, _c| async { Ok(HandlerResult::success("paid")) }))
//!     .build()?;
//! # let _ = consumer;
//! # Ok::<(), commerce_kit_events::ConsumerBuildError>(())
//! ```
//!
//! ## Responses
//!
//! | case | status | body |
//! |---|---|---|
//! | handler success | handler's (2xx) | `{"type":"<event type>","response":<handler body>}` |
//! | handler error ([`HandlerError`]) | its status | `{"error":"<its message>"}` |
//! | handler failure (`Ok` with a non-2xx result) | handler's | `{"error":"<handler body.error>"}` |
//! | already handled (same event id) | 200 | `{"type":…,"response":{"success":true,"message":"event '<id>' was already handled; not handled again"}}` |
//! | loop guard match | 200 | `{"type":…,"response":{"success":true,"message":"event discarded to prevent an infinite loop (<key>)"}}` |
//! | same id being handled by another delivery | 503 | `{"error":"event '<id>' is being handled by another delivery; retry later"}` |
//! | unknown type / no handler / routing field missing | 400 | `{"error":…}` |
//! | handler deadline passed | 503 | `{"error":"handler for '<type>' did not finish within <ms> ms"}` |
//! | handler panicked | 500 | `{"error":"handler for '<type>' panicked"}` |
//! | state store unreachable | 503 | `{"error":"state store unavailable: …"}` |

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use commerce_kit_core::http::is_retryable;
use commerce_kit_core::state::{StateError, StateStore};
use futures_util::FutureExt as _;
use http::StatusCode;
use serde_json::{Value, json};
use tracing::Instrument as _;

use crate::catalog::Catalog;
use crate::cloudevent::CloudEvent;
use crate::dedupe::{Claim, DEFAULT_DEDUPE_TTL, Dedupe};
use crate::error::HandlerError;
use crate::handler::{EventContext, EventHandler, HandlerResult, into_shared};
use crate::keys::{KnownCodes, handler_key};
use crate::loop_guard::{DEFAULT_LOOP_GUARD_TTL, LoopGuard, LoopGuardRule};
use crate::routing::{self, RouteError};

pub use crate::keys::{ConsumerBuildError, UnknownKey};

/// Default handler deadline: 8 s, under Adobe's 10 s webhook timeout.
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(8);

/// How a dispatch ended, for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The handler succeeded.
    Handled,
    /// The handler returned an error, or a failure status.
    HandlerFailed,
    /// The event id was already handled; the handler was not called.
    Duplicate,
    /// Another delivery of the same id is in progress.
    InProgress,
    /// The loop guard discarded the event.
    LoopDiscarded,
    /// No handler (unknown type, no registration, or a routing field missing).
    Unroutable,
    /// The handler passed its deadline.
    TimedOut,
    /// The handler panicked.
    Panicked,
    /// The state store failed.
    StoreUnavailable,
}

impl Outcome {
    /// A short lowercase name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Handled => "handled",
            Outcome::HandlerFailed => "handler_failed",
            Outcome::Duplicate => "duplicate",
            Outcome::InProgress => "in_progress",
            Outcome::LoopDiscarded => "loop_discarded",
            Outcome::Unroutable => "unroutable",
            Outcome::TimedOut => "timed_out",
            Outcome::Panicked => "panicked",
            Outcome::StoreUnavailable => "store_unavailable",
        }
    }
}

/// The result of dispatching one event.
#[derive(Debug, Clone, PartialEq)]
pub struct Dispatched {
    /// Status for the caller (Adobe retries 429/5xx except 505; drops the rest).
    pub status: StatusCode,
    /// JSON body (see the module table).
    pub body: Value,
    /// What happened.
    pub outcome: Outcome,
    /// The handler key that matched (route name or event code), if any.
    pub handler: Option<String>,
    /// Time spent.
    pub elapsed: Duration,
}

impl Dispatched {
    /// True for a 2xx status.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// True when the status asks for a redelivery (429, 5xx except 505).
    pub fn is_retryable(&self) -> bool {
        is_retryable(self.status)
    }

    /// The `error` message of a failure body (empty for successes).
    pub fn error_message(&self) -> &str {
        self.body.get("error").and_then(Value::as_str).unwrap_or("")
    }
}

/// Builds a [`Consumer`]; see the module docs.
pub struct ConsumerBuilder {
    handlers: HashMap<String, Arc<dyn EventHandler>>,
    /// Keys registered with `on`, as given, checked by `build`.
    checked_keys: Vec<String>,
    known: KnownCodes,
    fallback: Option<Arc<dyn EventHandler>>,
    store: Arc<dyn StateStore>,
    loop_guard_store: Option<Arc<dyn StateStore>>,
    dedupe_ttl: Duration,
    loop_guard_rules: Vec<LoopGuardRule>,
    loop_guard_ttl: Duration,
    handler_timeout: Duration,
}

impl std::fmt::Debug for ConsumerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keys: Vec<_> = self.handlers.keys().collect();
        keys.sort();
        f.debug_struct("ConsumerBuilder")
            .field("handlers", &keys)
            .field("fallback", &self.fallback.is_some())
            .field("dedupe_ttl", &self.dedupe_ttl)
            .field("loop_guard_rules", &self.loop_guard_rules.len())
            .field("handler_timeout", &self.handler_timeout)
            .finish_non_exhaustive()
    }
}

impl ConsumerBuilder {
    /// Registers `handler` for a route name or an event code the routing rules
    /// know (replacing any previous one); [`build`](Self::build) refuses any
    /// other key. `handler` is any [`EventHandler`]: your own type, an
    /// `Arc<dyn EventHandler>`, [`handler_fn`](crate::handler::handler_fn), …
    pub fn on(mut self, key: impl AsRef<str>, handler: impl EventHandler) -> Self {
        let key = key.as_ref();
        self.handlers.insert(handler_key(key), into_shared(handler));
        if !self.checked_keys.iter().any(|k| k == key) {
            self.checked_keys.push(key.to_owned());
        }
        self
    }

    /// Registers `handler` for an event type outside the routing rules (your
    /// own catalog's codes, other Commerce events), declaring it known. Matched
    /// by exact type, or, for `be-observer.*` and Commerce observer codes, with
    /// any prefix.
    pub fn on_custom(mut self, event_code: impl AsRef<str>, handler: impl EventHandler) -> Self {
        let code = event_code.as_ref();
        self.known.add(code);
        self.handlers.insert(handler_key(code), into_shared(handler));
        self
    }

    /// Declares event codes outside the routing rules known, so
    /// [`on`](Self::on) accepts them as keys.
    pub fn known_event_codes<I>(mut self, codes: I) -> Self
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        for code in codes {
            self.known.add(code.as_ref());
        }
        self
    }

    /// Declares every event code of `catalog` known (e.g. the ingestion
    /// webhook's catalog with your own `be-observer.*` events).
    pub fn catalog(self, catalog: &Catalog) -> Self {
        self.known_event_codes(catalog.events().iter().map(|e| e.code()))
    }

    /// The handler for routed events that have no handler of their own.
    pub fn fallback(mut self, handler: impl EventHandler) -> Self {
        self.fallback = Some(into_shared(handler));
        self
    }

    /// How long a successfully handled event id is remembered (default 24 h).
    pub fn dedupe_ttl(mut self, ttl: Duration) -> Self {
        self.dedupe_ttl = ttl;
        self
    }

    /// Loop guard rules (default [`LoopGuardRule::starter_kit`]; empty disables the guard).
    pub fn loop_guard_rules(mut self, rules: Vec<LoopGuardRule>) -> Self {
        self.loop_guard_rules = rules;
        self
    }

    /// A separate store for loop-guard fingerprints (default: the consumer's store).
    ///
    /// Useful with bounded in-memory stores: when a full [`MemoryStore`](commerce_kit_core::state::MemoryStore)
    /// evicts the entries closest to expiry, 60 s fingerprints sharing it with 24 h
    /// dedupe marks would be evicted first; a store of their own keeps them.
    pub fn loop_guard_store(mut self, store: Arc<dyn StateStore>) -> Self {
        self.loop_guard_store = Some(store);
        self
    }

    /// How long a loop-guard fingerprint lives (default 60 s).
    pub fn loop_guard_ttl(mut self, ttl: Duration) -> Self {
        self.loop_guard_ttl = ttl;
        self
    }

    /// The handler deadline (default 8 s).
    pub fn handler_timeout(mut self, timeout: Duration) -> Self {
        self.handler_timeout = timeout;
        self
    }

    /// The consumer, once every key registered with [`on`](Self::on) is known:
    /// a route name, an event code of the routing rules (any prefix), or a
    /// code declared with [`known_event_codes`](Self::known_event_codes) or
    /// [`catalog`](Self::catalog). The error names every unknown key.
    pub fn build(self) -> Result<Consumer, ConsumerBuildError> {
        self.known.check(self.checked_keys.iter().map(String::as_str))?;
        // A claim must outlive the handler it protects (which is cut at its
        // deadline); the margin covers the store round trips after it. A claim
        // left by a process that died frees itself this long after it was taken.
        let claim_ttl = self.handler_timeout + CLAIM_MARGIN;
        Ok(Consumer {
            inner: Arc::new(Inner {
                handlers: self.handlers,
                fallback: self.fallback,
                dedupe: Dedupe::new(self.store.clone(), self.dedupe_ttl, claim_ttl),
                loop_guard: LoopGuard::new(
                    self.loop_guard_rules,
                    self.loop_guard_store.unwrap_or(self.store),
                    self.loop_guard_ttl,
                ),
                handler_timeout: self.handler_timeout,
            }),
        })
    }
}

/// How long a dedupe claim outlives the handler deadline: the claim of a
/// process that died while handling an event expires after deadline + margin,
/// and another replica's redelivery is then handled.
pub const CLAIM_MARGIN: Duration = Duration::from_secs(5);

/// Routes events to handlers with dedupe and the loop guard. Cheap to clone.
#[derive(Clone)]
pub struct Consumer {
    inner: Arc<Inner>,
}

struct Inner {
    handlers: HashMap<String, Arc<dyn EventHandler>>,
    fallback: Option<Arc<dyn EventHandler>>,
    dedupe: Dedupe,
    loop_guard: LoopGuard,
    handler_timeout: Duration,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut keys: Vec<_> = self.inner.handlers.keys().collect();
        keys.sort();
        f.debug_struct("Consumer")
            .field("handlers", &keys)
            .field("fallback", &self.inner.fallback.is_some())
            .field("handler_timeout", &self.inner.handler_timeout)
            .finish_non_exhaustive()
    }
}

/// A resolved handler and the name it matched under.
struct Target {
    handler: Arc<dyn EventHandler>,
    key: String,
}

fn store_unavailable(err: &StateError) -> (StatusCode, Value, Outcome) {
    tracing::error!(error = %err, "state store unavailable; answering 503 so the event is retried");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        json!({"error": format!("state store unavailable: {err}")}),
        Outcome::StoreUnavailable,
    )
}

/// The answer of a handler's [`HandlerError`]: its status and `{"error":<message>}`.
fn handler_error(event_type: &str, err: HandlerError) -> (StatusCode, Value, Outcome) {
    tracing::debug!(
        event_type = %event_type,
        status = err.status().as_u16(),
        retryable = err.is_retryable(),
        error = %err,
        "event handler returned an error"
    );
    (err.status(), json!({"error": err.message()}), Outcome::HandlerFailed)
}

impl Consumer {
    /// A builder with the defaults: no handlers, dedupe 24 h, the starter kit's
    /// loop guard rules with 60 s fingerprints, an 8 s handler deadline.
    pub fn builder(store: Arc<dyn StateStore>) -> ConsumerBuilder {
        ConsumerBuilder {
            handlers: HashMap::new(),
            checked_keys: Vec::new(),
            known: KnownCodes::default(),
            fallback: None,
            store,
            loop_guard_store: None,
            dedupe_ttl: DEFAULT_DEDUPE_TTL,
            loop_guard_rules: LoopGuardRule::starter_kit(),
            loop_guard_ttl: DEFAULT_LOOP_GUARD_TTL,
            handler_timeout: DEFAULT_HANDLER_TIMEOUT,
        }
    }

    /// The handler deadline.
    pub fn handler_timeout(&self) -> Duration {
        self.inner.handler_timeout
    }

    /// Finds the handler of `event` and fills `ctx.route`.
    fn resolve(&self, event: &CloudEvent, ctx: &mut EventContext) -> Result<Target, String> {
        let routed = routing::route(&event.event_type, &event.data);
        if let Ok(route) = &routed {
            ctx.route = Some(route.clone());
        }
        let exact = [event.event_type.clone(), handler_key(&event.event_type)];
        for key in exact {
            if let Some(handler) = self.inner.handlers.get(&key) {
                return Ok(Target {
                    handler: handler.clone(),
                    key,
                });
            }
        }
        let route = routed.map_err(|e| match e {
            RouteError::Unknown(_) => e.to_string(),
            other => format!("cannot route event type '{}': {other}", event.event_type),
        })?;
        if let Some(handler) = self.inner.handlers.get(route.name) {
            return Ok(Target {
                handler: handler.clone(),
                key: route.name.to_owned(),
            });
        }
        match &self.inner.fallback {
            Some(handler) => Ok(Target {
                handler: handler.clone(),
                key: format!("{} (fallback)", route.name),
            }),
            None => Err(format!(
                "no handler registered for route '{}' (event type '{}')",
                route.name, event.event_type
            )),
        }
    }

    /// Dispatches one event: resolve → dedupe claim → loop guard → handler.
    ///
    /// The work runs on its own task, so dedupe bookkeeping completes even if
    /// the caller (an HTTP request whose client went away) is dropped.
    pub async fn dispatch(&self, event: CloudEvent, mut ctx: EventContext) -> Dispatched {
        let started = Instant::now();
        let target = match self.resolve(&event, &mut ctx) {
            Ok(target) => target,
            Err(message) => {
                record(None, Outcome::Unroutable, started.elapsed());
                return Dispatched {
                    status: StatusCode::BAD_REQUEST,
                    body: json!({ "error": message }),
                    outcome: Outcome::Unroutable,
                    handler: None,
                    elapsed: started.elapsed(),
                };
            }
        };
        let key = target.key.clone();
        let this = self.clone();
        // The task keeps the caller's span (the request id of an HTTP delivery) for the handler's logs.
        let work = async move { this.run(event, ctx, target.handler).await };
        let task = tokio::spawn(work.instrument(tracing::Span::current()));
        let (status, body, outcome) = match task.await {
            Ok(done) => done,
            Err(err) => {
                tracing::error!(error = %err, "dispatch task failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": "internal error while dispatching the event"}),
                    Outcome::Panicked,
                )
            }
        };
        let elapsed = started.elapsed();
        record(Some(&key), outcome, elapsed);
        Dispatched {
            status,
            body,
            outcome,
            handler: Some(key),
            elapsed,
        }
    }

    async fn run(
        &self,
        event: CloudEvent,
        ctx: EventContext,
        handler: Arc<dyn EventHandler>,
    ) -> (StatusCode, Value, Outcome) {
        let inner = &self.inner;
        let event_type = event.event_type.clone();
        let dedupe_key = Dedupe::key(&event_type, &ctx.event_id);
        match inner.dedupe.claim(&dedupe_key).await {
            Ok(Claim::Acquired) => {}
            Ok(Claim::AlreadyHandled) => {
                let message = format!("event '{}' was already handled; not handled again", ctx.event_id);
                return (
                    StatusCode::OK,
                    json!({"type": event_type, "response": {"success": true, "message": message}}),
                    Outcome::Duplicate,
                );
            }
            Ok(Claim::InProgress) => {
                let message = format!(
                    "event '{}' is being handled by another delivery; retry later",
                    ctx.event_id
                );
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({ "error": message }),
                    Outcome::InProgress,
                );
            }
            Err(err) => return store_unavailable(&err),
        }

        let fingerprint = inner.loop_guard.fingerprint(&event);
        if let Some(fp) = &fingerprint {
            match inner.loop_guard.is_echo(fp).await {
                Ok(true) => {
                    if let Err(err) = inner.dedupe.complete(&dedupe_key).await {
                        tracing::warn!(error = %err, "cannot mark a discarded echo as handled");
                    }
                    let message = format!("event discarded to prevent an infinite loop ({})", fp.key);
                    return (
                        StatusCode::OK,
                        json!({"type": event_type, "response": {"success": true, "message": message}}),
                        Outcome::LoopDiscarded,
                    );
                }
                Ok(false) => {}
                Err(err) => {
                    self.release(&dedupe_key).await;
                    return store_unavailable(&err);
                }
            }
        }

        let timeout = inner.handler_timeout;
        let call = AssertUnwindSafe(handler.handle(event, ctx)).catch_unwind();
        let result = match tokio::time::timeout(timeout, call).await {
            Ok(Ok(result)) => result,
            Ok(Err(panic)) => {
                let detail = commerce_kit_core::server::panic_text(&*panic);
                tracing::error!(event_type = %event_type, panic = %detail, "event handler panicked; answered 500");
                self.release(&dedupe_key).await;
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({"error": format!("handler for '{event_type}' panicked")}),
                    Outcome::Panicked,
                );
            }
            Err(_) => {
                tracing::warn!(
                    event_type = %event_type,
                    timeout_ms = timeout.as_millis() as u64,
                    "event handler passed its deadline; answered 503 (raise EVENTS_HANDLER_TIMEOUT_MS if it needs longer)"
                );
                self.release(&dedupe_key).await;
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    json!({"error": format!("handler for '{event_type}' did not finish within {} ms", timeout.as_millis())}),
                    Outcome::TimedOut,
                );
            }
        };

        let result = match result {
            Ok(result) if result.is_success() => result,
            Ok(failure) => {
                self.release(&dedupe_key).await;
                return (
                    failure.status,
                    json!({"error": failure.error_message()}),
                    Outcome::HandlerFailed,
                );
            }
            Err(err) => {
                self.release(&dedupe_key).await;
                return handler_error(&event_type, err);
            }
        };
        // The handler succeeded: bookkeeping failures are logged, never turned
        // into a failure (which would make Adobe deliver the event again).
        if let Err(err) = inner.dedupe.complete(&dedupe_key).await {
            tracing::warn!(error = %err, "event handled but its dedupe mark could not be stored");
        }
        if let Some(fp) = &fingerprint
            && let Err(err) = inner.loop_guard.record(fp).await
        {
            tracing::warn!(error = %err, "event handled but its loop-guard fingerprint could not be stored");
        }
        let HandlerResult { status, body } = result;
        (status, json!({"type": event_type, "response": body}), Outcome::Handled)
    }

    async fn release(&self, key: &str) {
        if let Err(err) = self.inner.dedupe.release(key).await {
            tracing::warn!(error = %err, "cannot release a dedupe claim; a redelivery waits for it to expire");
        }
    }
}

/// `commerce_kit_events_handled_total{handler,outcome}` and
/// `commerce_kit_events_handler_duration_seconds{handler}`: the handler key
/// (the route name; `-` when nothing was routable) is a bounded label.
fn record(handler: Option<&str>, outcome: Outcome, elapsed: std::time::Duration) {
    let handler = handler.unwrap_or("-").to_owned();
    metrics::counter!(
        "commerce_kit_events_handled_total",
        "handler" => handler.clone(),
        "outcome" => outcome.as_str()
    )
    .increment(1);
    commerce_kit_core::telemetry::histogram(
        "commerce_kit_events_handler_duration_seconds",
        Some(("handler", &handler)),
    )
    .record(elapsed);
}
