//! [`CheckStockService`]: the check-stock flow as a plain async function from
//! (headers, raw body) to a typed answer.
//!
//! Steps: read the body (size-limited) → authenticate the call (when a
//! credential is configured, see below) → parse JSON → validate → run the
//! checker with a deadline and a panic guard → answer. A checker that answers
//! from memory ([`StockChecker::check_now`]) is asked inline, still under the
//! panic guard; the others run in a task of their own, aborted at the deadline.
//!
//! Authentication depends on what is configured:
//!
//! | configured | a call is accepted when | refused with 401 |
//! |---|---|---|
//! | nothing | always | never |
//! | signature key ([`with_signature_verifier`](CheckStockService::with_signature_verifier)) | its `x-adobe-commerce-webhook-signature` verifies | the signature's failure |
//! | IMS ([`with_ims_verifier`](CheckStockService::with_ims_verifier)) | its IMS access token and `x-gw-ims-org-id` pass ([`ims_auth`](crate::ims_auth)) | the IMS failure |
//! | both | **either** passes (the signature is tried first, without a network call) | both failures, `"<signature failure>; <IMS failure>"` |
//!
//! "Either" lets hooks move from the signature to IMS one at a time: Commerce
//! signs every hook once the Admin's digital signature is on, and adds the
//! IMS headers only to hooks with `developerConsoleOauth`. IMS's key host
//! being down or slow refuses IMS-only calls with
//! `cannot verify IMS token: IMS keys unavailable` after at most the key
//! fetch timeout, capped at the deadline; a signed call is still accepted.
//! Time spent fetching IMS's keys comes out of the checker's deadline, so the
//! whole call still ends within it.
//!
//! Guarantees: every call that reaches the flow is answered HTTP 200 with an op
//! body (`{"op":"success"}` or `{"op":"exception","message":…}`), except a
//! refused credential (HTTP 401 `{"error":…}`, see [`Refusal`]). Checker errors,
//! timeouts and panics answer a generic message; their details go to the log.
//! One log line per call: `outcome`, `reason`, `items`, `elapsed_us`, Commerce's
//! `x-adobe-commerce-request-id` as `commerce_request_id` when sent, and `detail`
//! (the message answered) for exceptions. The request id comes from the
//! request's span (`server::app`), or, served without one
//! ([`handle_unspanned`](CheckStockService::handle_unspanned), as the binaries
//! do), as a `request_id` field.
//!
//! ```
//! use commerce_kit_webhook::{CheckStockService, InventoryChecker, Operation};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let service = CheckStockService::new(InventoryChecker::demo());
//! let headers = http::HeaderMap::new();
//! let ok = service.check(&headers, br#"{"data":{"cart_id":1,"items":[{"sku":"24-MB01","qty":1}]}}"#).await;
//! assert_eq!(ok.unwrap(), Operation::success());
//! let no = service.check(&headers, br#"{"data":{}}"#).await.unwrap_err();
//! assert_eq!(no.to_string(), "missing parameter(s) 'data.cart_id,data.items'");
//! # }
//! ```

use commerce_kit_core::server::panic_text;
use commerce_kit_core::telemetry;
use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::response::{IntoResponse, Response};
use commerce_kit_core::body::{DEFAULT_BODY_LIMIT, read_limited};
use commerce_kit_core::http::error_response;
use commerce_kit_core::op::Operation;
use commerce_kit_core::redact::RedactedHeaders;
use commerce_kit_core::server::{RequestId, request_span};
use http::{HeaderMap, Method, Request, StatusCode};
use tracing::Instrument;

use crate::checker::{CheckerError, StockChecker, StockVerdict};
use crate::error::CheckStockError;
use crate::ims_auth::{ImsAuthFailure, ImsTokenVerifier};
use crate::request::{CHECK_STOCK_PATH, CheckStockRequest};
use crate::response::operation_response;
use crate::signature::{CommerceSignatureVerifier, SignatureFailure};
use crate::validate::validate_body_with;

/// Default checker deadline: 3 s, under the starter kit's 5 s Commerce hook timeout.
pub const DEFAULT_DEADLINE: Duration = Duration::from_millis(3000);

/// The id Commerce puts on every webhook call (also in Commerce's webhook logs).
const COMMERCE_REQUEST_ID: &str = "x-adobe-commerce-request-id";

/// Why [`CheckStockService::check`] did not answer `{"op":"success"}`.
/// `Display` is the message answered.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The flow's own answer: an exception op (HTTP 200), or a missing or
    /// invalid Commerce signature (HTTP 401) when the signature key is the
    /// only credential configured.
    #[error(transparent)]
    Flow(#[from] CheckStockError),
    /// Only IMS authentication is configured and the call's IMS token (or
    /// org header) was not accepted: HTTP 401.
    #[error(transparent)]
    Ims(ImsAuthFailure),
    /// Both credentials are configured and neither was accepted: HTTP 401
    /// naming both failures, the signature's first.
    #[error("{signature}; {ims}")]
    Neither {
        /// Why the Commerce signature was not accepted.
        signature: SignatureFailure,
        /// Why the IMS token was not accepted.
        ims: ImsAuthFailure,
    },
}

impl Refusal {
    /// The HTTP status: 401 for refused credentials, 200 (with an exception op) otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::Flow(err) => err.status(),
            Refusal::Ims(_) | Refusal::Neither { .. } => StatusCode::UNAUTHORIZED,
        }
    }

    /// `rejected` (credentials refused, 401) or `exception` (an exception op
    /// answered 200): the outcome of logs and metrics.
    pub fn outcome(&self) -> &'static str {
        if self.status() == StatusCode::UNAUTHORIZED {
            "rejected"
        } else {
            "exception"
        }
    }

    /// Short reason category for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::Flow(err) => err.reason(),
            Refusal::Ims(failure) => failure.reason(),
            Refusal::Neither { .. } => "unauthenticated",
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Flow(err) => err.into_response(),
            other => error_response(other.status(), other.to_string()),
        }
    }
}

/// The credentials a [`CheckStockService`] requires (see the [module docs](self)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authentication {
    /// None: every call is answered.
    Open,
    /// A valid Commerce signature.
    Signature,
    /// A valid IMS access token and org header.
    ImsToken,
    /// Either of the two.
    SignatureOrImsToken,
}

/// The check-stock flow: a checker plus its deadline, body limit and optional
/// authentication (Commerce signature, IMS token, or either).
pub struct CheckStockService {
    checker: Arc<dyn StockChecker>,
    deadline: Duration,
    body_limit: usize,
    verifier: Option<CommerceSignatureVerifier>,
    ims: Option<ImsTokenVerifier>,
    /// Whether bodies go through the express scanner first (see [`with_express`](Self::with_express)).
    express: bool,
    /// Handles of the hot path's series, taken once (see [`Telemetry`]).
    telemetry: Telemetry,
}

/// The check-stock series, through the `metrics` facade (no-ops until a
/// recorder is installed: the binaries install a Prometheus one before they
/// build the service):
///
/// - `commerce_kit_check_stock_requests_total{outcome,reason}`: `success` /
///   `available`, `exception` / the reason (`out_of_stock`,
///   `invalid_parameter`, `checker_timeout`, …), `rejected` / the
///   authentication failure;
/// - `commerce_kit_check_stock_duration_seconds`: the whole call;
/// - `commerce_kit_check_stock_checker_duration_seconds`: the stock checker's
///   part, for checkers that wait (an HTTP back office, your async checker);
///   an inline answer (the inventory file) is part of the call's duration.
///
/// The success counter and the histograms are resolved once, at construction,
/// so the hot path does not look them up per call.
#[derive(Clone)]
struct Telemetry {
    available: metrics::Counter,
    duration: Arc<telemetry::Histogram>,
    checker: Arc<telemetry::Histogram>,
}

impl Telemetry {
    fn new() -> Self {
        Self {
            available: metrics::counter!(
                "commerce_kit_check_stock_requests_total",
                "outcome" => "success",
                "reason" => "available"
            ),
            duration: telemetry::histogram("commerce_kit_check_stock_duration_seconds", None),
            checker: telemetry::histogram("commerce_kit_check_stock_checker_duration_seconds", None),
        }
    }

    fn record(&self, result: &Result<Operation, Refusal>, elapsed: Duration) {
        self.duration.record(elapsed);
        match result {
            Ok(_) => self.available.increment(1),
            Err(err) => {
                metrics::counter!(
                    "commerce_kit_check_stock_requests_total",
                    "outcome" => err.outcome(),
                    "reason" => err.reason()
                )
                .increment(1);
            }
        }
    }
}

impl std::fmt::Debug for CheckStockService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckStockService")
            .field("checker", &self.checker.name())
            .field("deadline", &self.deadline)
            .field("body_limit", &self.body_limit)
            .field("signature_verification", &self.verifier.is_some())
            .field("ims_authentication", &self.ims.is_some())
            .field("express", &self.express)
            .finish()
    }
}

impl CheckStockService {
    /// A service with [`DEFAULT_DEADLINE`], [`DEFAULT_BODY_LIMIT`] and no authentication.
    ///
    /// Takes any [`StockChecker`]: your own struct, a built-in checker, a
    /// [`checker_fn`](crate::checker::checker_fn) closure, or a checker already
    /// shared as `Arc<T>` / `Arc<dyn StockChecker>` (an `Arc<dyn StockChecker>`
    /// is kept as it is, not wrapped in a second `Arc`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use commerce_kit_webhook::{CheckStockService, InventoryChecker, StockChecker};
    ///
    /// let service = CheckStockService::new(InventoryChecker::demo());
    /// assert_eq!(service.checker().name(), "inventory");
    ///
    /// let shared: Arc<dyn StockChecker> = Arc::new(InventoryChecker::demo());
    /// let service = CheckStockService::new(Arc::clone(&shared));
    /// assert!(Arc::ptr_eq(service.checker(), &shared));
    /// ```
    pub fn new<C: StockChecker + 'static>(checker: C) -> Self {
        Self {
            checker: shared(checker),
            deadline: DEFAULT_DEADLINE,
            body_limit: DEFAULT_BODY_LIMIT,
            verifier: None,
            ims: None,
            express: true,
            telemetry: Telemetry::new(),
        }
    }

    /// Sets how long the checker may take before the call answers a timeout exception.
    pub fn with_deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Sets the largest accepted body, in bytes.
    pub fn with_body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }

    /// Requires a valid Commerce signature on every call (or, with
    /// [`with_ims_verifier`](Self::with_ims_verifier) too, either credential).
    pub fn with_signature_verifier(mut self, verifier: CommerceSignatureVerifier) -> Self {
        self.verifier = Some(verifier);
        self
    }

    /// Requires a valid IMS access token (`Authorization: Bearer`) and
    /// `x-gw-ims-org-id` on every call (or, with
    /// [`with_signature_verifier`](Self::with_signature_verifier) too, either
    /// credential): hooks with `developerConsoleOauth`. See [`ims_auth`](crate::ims_auth).
    ///
    /// ```
    /// use commerce_kit_webhook::service::Authentication;
    /// use commerce_kit_webhook::{CheckStockService, ImsTokenVerifier, InventoryChecker};
    ///
    /// let ims = ImsTokenVerifier::builder("my-client-id", "12345@AdobeOrg").build().unwrap();
    /// let service = CheckStockService::new(InventoryChecker::demo()).with_ims_verifier(ims);
    /// assert_eq!(service.authentication(), Authentication::ImsToken);
    /// ```
    pub fn with_ims_verifier(mut self, verifier: ImsTokenVerifier) -> Self {
        self.ims = Some(verifier);
        self
    }

    /// Whether bodies go through the express byte scanner before the typed
    /// fast path (`true`, the default). `false` leaves it out, for measuring
    /// what it is worth; answers are the same either way (see
    /// [`validate_body_with`]). The choice is one branch on a field, per call.
    pub fn with_express(mut self, express: bool) -> Self {
        self.express = express;
        self
    }

    /// Whether bodies go through the express byte scanner (see [`with_express`](Self::with_express)).
    pub fn express(&self) -> bool {
        self.express
    }

    /// The checker.
    pub fn checker(&self) -> &Arc<dyn StockChecker> {
        &self.checker
    }

    /// The checker deadline.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// Whether a Commerce signature key is configured (alone, every call
    /// must carry a valid signature; see [`authentication`](Self::authentication)).
    pub fn signature_verification(&self) -> bool {
        self.verifier.is_some()
    }

    /// Whether IMS authentication is configured.
    pub fn ims_authentication(&self) -> bool {
        self.ims.is_some()
    }

    /// The credentials a call must carry.
    pub fn authentication(&self) -> Authentication {
        match (&self.verifier, &self.ims) {
            (None, None) => Authentication::Open,
            (Some(_), None) => Authentication::Signature,
            (None, Some(_)) => Authentication::ImsToken,
            (Some(_), Some(_)) => Authentication::SignatureOrImsToken,
        }
    }

    /// The flow on an already-read body, authentication included:
    /// `Ok(success)` or the reason it is not.
    pub async fn check(&self, headers: &HeaderMap, raw_body: &[u8]) -> Result<Operation, Refusal> {
        self.decide(headers, raw_body, None).await.0
    }

    /// The whole HTTP exchange: reads the body within the limit, runs the flow,
    /// logs one line, and builds the response. Expects to run inside the
    /// request's tracing span (as `server::app` provides), which names the
    /// request id on every line.
    pub async fn handle<B>(&self, request: Request<B>) -> Response
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        self.exchange(request, None).await
    }

    /// [`handle`](Self::handle) for a request served without a `request` span
    /// (`server::app_direct`, as the router module's `direct_app` does): the
    /// outcome line and the checker error lines name the request id themselves
    /// (`request_id`, from the request's [`RequestId`]), and an asynchronous
    /// checker runs in a `request{id,method,path}` span of its own, so whatever
    /// it logs carries the id too.
    pub async fn handle_unspanned<B>(&self, request: Request<B>) -> Response
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let id = request.extensions().get::<RequestId>().cloned();
        self.exchange(request, Some(Unspanned { id })).await
    }

    async fn exchange<B>(&self, request: Request<B>, unspanned: Option<Unspanned>) -> Response
    where
        B: http_body::Body,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let started = Instant::now();
        let (parts, body) = request.into_parts();
        let request_id = unspanned.as_ref().and_then(Unspanned::id);
        tracing::debug!(request_id, headers = %RedactedHeaders(&parts.headers), "check-stock request");
        let (result, items) = match read_limited(body, self.body_limit).await {
            Ok(bytes) => self.decide(&parts.headers, &bytes, unspanned.as_ref()).await,
            Err(err) => (Err(Refusal::Flow(err.into())), 0),
        };
        let commerce_id = parts
            .headers
            .get(COMMERCE_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .filter(|id| id.len() <= 128);
        let elapsed = started.elapsed();
        self.telemetry.record(&result, elapsed);
        log_outcome(&result, items, request_id, commerce_id, elapsed);
        match result {
            Ok(op) => operation_response(&op),
            Err(err) => err.into_response(),
        }
    }

    /// The flow; also returns the number of items for the log line.
    async fn decide(
        &self,
        headers: &HeaderMap,
        raw_body: &[u8],
        unspanned: Option<&Unspanned>,
    ) -> (Result<Operation, Refusal>, usize) {
        let started = Instant::now();
        if let Err(refusal) = self.authenticate(headers, raw_body).await {
            return (Err(refusal), 0);
        }
        // Fetching IMS's keys may have taken a while: the checker gets what is
        // left of the deadline, so the call as a whole still ends within it.
        let deadline = match self.ims {
            Some(_) => self.deadline.saturating_sub(started.elapsed()),
            None => self.deadline,
        };
        let request = match validate_body_with(raw_body, self.express) {
            Ok(request) => request,
            Err(err) => return (Err(CheckStockError::from(err).into()), 0),
        };
        let items = request.items.len();
        let verdict = match self.check_now(&request, unspanned.and_then(Unspanned::id)) {
            Some(verdict) => verdict,
            // Without the request's span, the checker gets one of its own.
            None => {
                // Only a checker that waits (a back office) is timed: an
                // inline answer is part of the call's own duration.
                let checking = Instant::now();
                let verdict = match unspanned {
                    Some(unspanned) => self.run_checker(request, deadline).instrument(unspanned.span()).await,
                    None => self.run_checker(request, deadline).await,
                };
                self.telemetry.checker.record(checking.elapsed());
                verdict
            }
        };
        let result = match verdict {
            Ok(StockVerdict::Available) => Ok(Operation::success()),
            Ok(StockVerdict::Unavailable { message }) => Err(CheckStockError::Unavailable(message).into()),
            Err(err) => Err(err.into()),
        };
        (result, items)
    }

    /// The configured credentials, as the table in the module docs says.
    async fn authenticate(&self, headers: &HeaderMap, raw_body: &[u8]) -> Result<(), Refusal> {
        let signature = self
            .verifier
            .as_ref()
            .map(|verifier| verifier.verify(headers, raw_body));
        match (signature, &self.ims) {
            (None, None) | (Some(Ok(())), _) => Ok(()),
            (Some(Err(failure)), None) => Err(Refusal::Flow(failure.into())),
            (None, Some(ims)) => self.verify_ims(ims, headers).await.map_err(Refusal::Ims),
            (Some(Err(signature)), Some(ims)) => self
                .verify_ims(ims, headers)
                .await
                .map_err(|ims| Refusal::Neither { signature, ims }),
        }
    }

    /// IMS verification, never longer than the deadline (the key fetch has
    /// its own, shorter, timeout; this is the backstop).
    async fn verify_ims(&self, ims: &ImsTokenVerifier, headers: &HeaderMap) -> Result<(), ImsAuthFailure> {
        tokio::time::timeout(self.deadline, ims.verify(headers))
            .await
            .unwrap_or(Err(ImsAuthFailure::KeysUnavailable))
    }

    /// The checker's immediate answer ([`StockChecker::check_now`]), if it has
    /// one, under the same panic guard as [`run_checker`](Self::run_checker).
    /// `request_id` names the request on error lines logged outside its span.
    fn check_now(
        &self,
        request: &CheckStockRequest,
        request_id: Option<&str>,
    ) -> Option<Result<StockVerdict, CheckStockError>> {
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.checker.check_now(request))) {
            Ok(None) => None,
            Ok(Some(Ok(verdict))) => Some(Ok(verdict)),
            Ok(Some(Err(err))) => Some(Err(self.checker_failed(err, request_id))),
            Err(panic) => Some(Err(self.checker_panicked(panic_text(&*panic), request_id))),
        }
    }

    /// Runs the checker in its own task: a panic there is caught, and the
    /// deadline (what is left of [`deadline`](Self::deadline)) aborts it.
    async fn run_checker(
        &self,
        request: CheckStockRequest,
        deadline: Duration,
    ) -> Result<StockVerdict, CheckStockError> {
        let checker = Arc::clone(&self.checker);
        let mut task = tokio::spawn(async move { checker.check(&request).await }.in_current_span());
        match tokio::time::timeout(deadline, &mut task).await {
            Ok(Ok(Ok(verdict))) => Ok(verdict),
            Ok(Ok(Err(err))) => Err(self.checker_failed(err, None)),
            Ok(Err(join)) => {
                let detail = if join.is_panic() {
                    panic_text(&*join.into_panic())
                } else {
                    "checker task was cancelled".to_owned()
                };
                Err(self.checker_panicked(detail, None))
            }
            Err(_) => {
                task.abort();
                tracing::error!(
                    checker = self.checker.name(),
                    deadline_ms = self.deadline.as_millis() as u64,
                    "stock checker missed its deadline; answered a timeout exception \
                     (raise --stock-check-timeout-ms or speed up the back office)"
                );
                Err(CheckStockError::Timeout(self.deadline))
            }
        }
    }

    fn checker_failed(&self, err: CheckerError, request_id: Option<&str>) -> CheckStockError {
        tracing::error!(request_id, checker = self.checker.name(), error = %err, "stock checker failed");
        CheckStockError::Checker(err)
    }

    fn checker_panicked(&self, detail: String, request_id: Option<&str>) -> CheckStockError {
        tracing::error!(request_id, checker = self.checker.name(), panic = %detail, "stock checker panicked");
        CheckStockError::Panicked(detail)
    }

    /// On every SIGHUP, calls the checker's [`reload`](StockChecker::reload)
    /// (off the async threads) and logs the result; a failed reload is logged as
    /// an error and the checker keeps its previous state. The handler is
    /// installed before this returns, so a SIGHUP can no longer kill the process.
    #[cfg(unix)]
    pub fn reload_on_sighup(&self) -> std::io::Result<tokio::task::JoinHandle<()>> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangups = signal(SignalKind::hangup())?;
        let checker = Arc::clone(&self.checker);
        Ok(tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                let reloading = Arc::clone(&checker);
                match tokio::task::spawn_blocking(move || reloading.reload()).await {
                    Ok(Ok(Some(summary))) => tracing::info!("SIGHUP: {summary}"),
                    Ok(Ok(None)) => tracing::info!(
                        checker = checker.name(),
                        "SIGHUP: nothing to reload (no inventory file configured)"
                    ),
                    Ok(Err(err)) => tracing::error!("SIGHUP: reload failed: {err}"),
                    Err(join) => tracing::error!("SIGHUP: reload panicked: {join}"),
                }
            }
        }))
    }
}

/// `checker` as the service holds it: an `Arc<dyn StockChecker>` as it is,
/// anything else in a new `Arc`.
fn shared<C: StockChecker + 'static>(checker: C) -> Arc<dyn StockChecker> {
    match (&checker as &dyn Any).downcast_ref::<Arc<dyn StockChecker>>() {
        Some(shared) => Arc::clone(shared),
        None => Arc::new(checker),
    }
}

/// A request served without its `request` span (see
/// [`handle_unspanned`](CheckStockService::handle_unspanned)).
struct Unspanned {
    id: Option<RequestId>,
}

impl Unspanned {
    fn id(&self) -> Option<&str> {
        self.id.as_ref().map(|id| &*id.0)
    }

    /// The span `server::app` would have given the request.
    fn span(&self) -> tracing::Span {
        request_span(self.id().unwrap_or("-"), &Method::POST, CHECK_STOCK_PATH)
    }
}

fn log_outcome(
    result: &Result<Operation, Refusal>,
    items: usize,
    request_id: Option<&str>,
    commerce_request_id: Option<&str>,
    elapsed: Duration,
) {
    let elapsed_us = elapsed.as_micros() as u64;
    match result {
        Ok(_) => tracing::info!(
            request_id,
            outcome = "success",
            items,
            elapsed_us,
            commerce_request_id,
            "check-stock"
        ),
        Err(err) if err.status() == StatusCode::UNAUTHORIZED => {
            let what = match err {
                Refusal::Flow(_) => {
                    "Commerce signature check failed (check COMMERCE_WEBHOOK_PUBLIC_KEY matches the Admin's key)"
                }
                Refusal::Ims(ImsAuthFailure::KeysUnavailable)
                | Refusal::Neither {
                    ims: ImsAuthFailure::KeysUnavailable,
                    ..
                } => "authentication failed (IMS's public keys could not be fetched: see the warning about them)",
                _ => {
                    "authentication failed (an IMS-authenticated hook's developerConsoleOauth credential must be \
                     the one COMMERCE_WEBHOOK_IMS_CLIENT_ID and COMMERCE_WEBHOOK_IMS_ORG_ID name)"
                }
            };
            tracing::warn!(
                request_id,
                outcome = err.outcome(),
                reason = err.reason(),
                status = 401,
                elapsed_us,
                commerce_request_id,
                error = %err,
                "check-stock: {what}"
            )
        }
        Err(err) => tracing::info!(
            request_id,
            outcome = err.outcome(),
            reason = err.reason(),
            items,
            elapsed_us,
            commerce_request_id,
            detail = %err,
            "check-stock"
        ),
    }
}
