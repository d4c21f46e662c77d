//! Back office → Commerce: the [`CommerceApi`] seam and [`CommerceHandler`].
//!
//! [`CommerceApi`] is what executes a [`CommerceCall`]: one method, object-safe,
//! so a REST client plugs in with one small `impl`, and tests use a recording
//! fake. commerce-api's `CommerceClient` (OAuth 1.0a or IMS, PaaS or SaaS)
//! implements it here. Its error,
//! [`CommerceCallError`], says whether trying again could help.
//!
//! [`CommerceHandler`] is the reference handler of the 13 back-office routes:
//! it reads the event's payload, [transforms](crate::transform) it and runs
//! the call. What the consumer answers for the event:
//!
//! | outcome | answered | what happens to the event |
//! |---|---|---|
//! | Commerce accepted the call | 200 `{"success":true,"message":"<code>: <METHOD> <path> done"}` | done |
//! | payload not of the event's shape, or refused by the transformer | 400 naming the field | dropped (dead letter) |
//! | Commerce refused it (400, 404, … : not retryable) | 400 `Commerce refused <METHOD> <path> (<status>): <Commerce's message>` | dropped (dead letter) |
//! | Commerce answered 429 | 429 | retried |
//! | Commerce answered 5xx | 502 `Commerce failed <METHOD> <path> (<status>): …` | retried |
//! | no answer: timeout, connection failure | 503 `Commerce unavailable for <METHOD> <path>: …` | retried |
//!
//! ```
//! use commerce_kit_sync::{async_trait, CommerceApi, CommerceCall, CommerceCallError, CommerceHandler};
//! use commerce_kit_events::{CloudEvent, EventContext, EventHandler};
//! use http::StatusCode;
//! use serde_json::{json, Value};
//!
//! /// A Commerce that knows no product.
//! struct NoProducts;
//!
//! #[async_trait]
//! impl CommerceApi for NoProducts {
//!     async fn call(&self, call: &CommerceCall) -> Result<Value, CommerceCallError> {
//!         Err(CommerceCallError::from_response(
//!             StatusCode::NOT_FOUND,
//!             br#"{"message":"The product that was requested doesn't exist. Verify the product and try again."}"#,
//!         ))
//!     }
//! }
//!
//! # tokio_test(async {
//! let handler = CommerceHandler::new(NoProducts);
//! let event = CloudEvent::new("e1", "erp", "be-observer.catalog_product_delete", json!({"sku": "SKU-1"}));
//! let err = handler.handle(event, EventContext::new("e1")).await.unwrap_err();
//! assert_eq!(err.status(), StatusCode::BAD_REQUEST); // dropped, not retried
//! assert_eq!(
//!     err.message(),
//!     "Commerce refused DELETE /V1/products/SKU-1 (404): The product that was requested doesn't exist. Verify the product and try again."
//! );
//! # });
//! # fn tokio_test(f: impl std::future::Future<Output = ()>) {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

use std::sync::Arc;
use std::time::Duration;

use commerce_kit_commerce_api::{CommerceClient, CommerceError};
use commerce_kit_core::http::is_retryable;
use commerce_kit_events::{CloudEvent, EventContext, EventHandler, HandlerError, HandlerResult, routing};
use http::StatusCode;
use serde_json::Value;

use crate::call::CommerceCall;
use crate::error::PayloadError;
use crate::transform::{BackOfficeEvent, transform};

/// Longest Commerce message kept in an error (Commerce may echo the input).
const MAX_MESSAGE: usize = 500;

/// Executes [`CommerceCall`]s against a Commerce instance. Object-safe: hold it
/// as `Arc<dyn CommerceApi>`.
///
/// An implementation sends `call.method` to `<REST root><call.path_and_query()>`
/// (the path is already percent-encoded), with `call.body` as JSON unless it is
/// `null`, authenticates, and returns Commerce's decoded answer (any JSON; `null`
/// for an empty body). A failure is a [`CommerceCallError`] that says whether
/// trying again could help: [`CommerceCallError::from_response`] classifies an
/// error answer, [`CommerceCallError::unavailable`] a call that got none.
#[async_trait::async_trait]
pub trait CommerceApi: Send + Sync + 'static {
    /// Runs `call` and returns Commerce's JSON answer.
    async fn call(&self, call: &CommerceCall) -> Result<Value, CommerceCallError>;
}

#[async_trait::async_trait]
impl<T: CommerceApi + ?Sized> CommerceApi for Arc<T> {
    async fn call(&self, call: &CommerceCall) -> Result<Value, CommerceCallError> {
        (**self).call(call).await
    }
}

/// A Commerce call failed. `Display` is the message (Commerce's own message for
/// an error answer, with its `%1` / `%name` placeholders filled in).
///
/// ```
/// use commerce_kit_sync::CommerceCallError;
/// use http::StatusCode;
///
/// let refused = CommerceCallError::from_response(
///     StatusCode::BAD_REQUEST,
///     br#"{"message":"The \"%1\" attribute value is empty. Set the attribute and try again.","parameters":["sku"]}"#,
/// );
/// assert!(!refused.is_retryable());
/// assert_eq!(refused.to_string(), r#"The "sku" attribute value is empty. Set the attribute and try again."#);
///
/// let down = CommerceCallError::from_response(StatusCode::SERVICE_UNAVAILABLE, b"<html>maintenance</html>");
/// assert!(down.is_retryable());
/// assert_eq!(down.to_string(), "Commerce answered 503 Service Unavailable");
///
/// let timeout = CommerceCallError::timed_out(std::time::Duration::from_secs(5));
/// assert!(timeout.is_retryable());
/// assert_eq!(timeout.status(), None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CommerceCallError {
    status: Option<StatusCode>,
    retryable: bool,
    message: String,
}

impl CommerceCallError {
    /// A failure as the executor classified it: `status` when Commerce
    /// answered, whether trying again may help, and the message.
    pub fn new(status: Option<StatusCode>, retryable: bool, message: impl Into<String>) -> Self {
        Self {
            status,
            retryable,
            message: shorten(message.into()),
        }
    }

    /// Commerce answered `status` with `message`; retryable when the status is
    /// (429, 5xx except 505), final otherwise (400, 401, 403, 404, 409, …).
    pub fn from_status(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status: Some(status),
            retryable: is_retryable(status),
            message: shorten(message.into()),
        }
    }

    /// Commerce answered `status` with `body`: the message is Commerce's
    /// `message` with its `parameters` filled in (a list fills `%1`, `%2`, …;
    /// an object fills `%name`), or `Commerce answered <status>` when the body
    /// has none (HTML, empty). Retryable as for [`from_status`](Self::from_status).
    pub fn from_response(status: StatusCode, body: &[u8]) -> Self {
        let message = commerce_message(body).unwrap_or_else(|| format!("Commerce answered {status}"));
        Self::from_status(status, message)
    }

    /// A final failure whatever the status (e.g. an answer that can never be
    /// used); `status` when Commerce answered one.
    pub fn refused(status: Option<StatusCode>, message: impl Into<String>) -> Self {
        Self {
            status,
            retryable: false,
            message: shorten(message.into()),
        }
    }

    /// No usable answer (connection refused or reset, DNS, TLS): retryable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self {
            status: None,
            retryable: true,
            message: shorten(message.into()),
        }
    }

    /// No answer within `after`: retryable.
    pub fn timed_out(after: Duration) -> Self {
        Self::unavailable(format!("no answer within {} ms", after.as_millis()))
    }

    /// The status Commerce answered, if it answered.
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }

    /// True when the same call may succeed later.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }

    /// The message (also the `Display`).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The handler error for this failure of `call`: see the
    /// [module docs](self) for the table.
    pub fn into_handler_error(self, call: &CommerceCall) -> HandlerError {
        let shown = format!("{} {}", call.method, call.path);
        match (self.retryable, self.status) {
            (false, Some(status)) => HandlerError::rejected(format!(
                "Commerce refused {shown} ({}): {}",
                status.as_u16(),
                self.message
            )),
            (false, None) => HandlerError::rejected(format!("Commerce refused {shown}: {}", self.message)),
            (true, Some(StatusCode::TOO_MANY_REQUESTS)) => HandlerError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Commerce throttled {shown} (429): {}", self.message),
            ),
            (true, Some(status)) => HandlerError::new(
                StatusCode::BAD_GATEWAY,
                format!("Commerce failed {shown} ({}): {}", status.as_u16(), self.message),
            ),
            (true, None) => HandlerError::retryable(format!("Commerce unavailable for {shown}: {}", self.message)),
        }
    }
}

/// The Commerce REST client of `commerce-kit-commerce-api` (OAuth 1.0a or IMS,
/// PaaS or SaaS) runs the calls: its `request` takes the `/V1/…` path as it
/// is, and its error classification is kept.
#[async_trait::async_trait]
impl CommerceApi for CommerceClient {
    async fn call(&self, call: &CommerceCall) -> Result<Value, CommerceCallError> {
        let body = call.has_body().then_some(&call.body);
        self.request(call.method.clone(), &call.path, &call.query, body)
            .await
            .map_err(CommerceCallError::from)
    }
}

impl From<CommerceError> for CommerceCallError {
    /// Keeps the client's verdict ([`CommerceError::is_retryable`]: 408, 429,
    /// 5xx except 505, timeouts, transport and transient IMS failures are
    /// retried) and, for an error answer, Commerce's rendered message (or what
    /// the body was: `empty body`, `non-JSON body (text/html): …`).
    fn from(err: CommerceError) -> Self {
        let retryable = err.is_retryable();
        let (status, message) = match &err {
            CommerceError::Status { status, message, .. } => (StatusCode::from_u16(*status).ok(), message.rendered()),
            CommerceError::Timeout { timeout, .. } => (None, format!("no answer within {} ms", timeout.as_millis())),
            CommerceError::Transport { detail, .. } => (None, detail.clone()),
            // a 2xx whose body is not JSON (a proxy's or a storefront's page):
            // final, and named as such rather than as a refusal with status 200
            other => (None, other.to_string()),
        };
        Self::new(status, retryable, message)
    }
}

/// Commerce's error `message` with its parameters filled in.
fn commerce_message(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let mut message = v.get("message")?.as_str()?.to_owned();
    match v.get("parameters") {
        Some(Value::Array(list)) => {
            // from the highest index down, so %1 does not eat the start of %10
            for (i, p) in list.iter().enumerate().rev() {
                message = message.replace(&format!("%{}", i + 1), &parameter_text(p));
            }
        }
        Some(Value::Object(named)) => {
            let mut names: Vec<&String> = named.keys().collect();
            // longest name first, so %id does not eat the start of %idx
            names.sort_by_key(|n| std::cmp::Reverse(n.len()));
            for name in names {
                if let Some(p) = named.get(name) {
                    message = message.replace(&format!("%{name}"), &parameter_text(p));
                }
            }
        }
        _ => {}
    }
    Some(message)
}

fn parameter_text(p: &Value) -> String {
    match p {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn shorten(message: String) -> String {
    if message.chars().count() <= MAX_MESSAGE {
        message
    } else {
        let mut cut: String = message.chars().take(MAX_MESSAGE).collect();
        cut.push('…');
        cut
    }
}

/// The reference handler of the 13 back-office routes: payload →
/// [`CommerceCall`] → [`CommerceApi`]. Register it on each of
/// [`CommerceHandler::routes`]; see the [module docs](self) for its answers.
///
/// To add behaviour around it (a loop-guard fingerprint, a metric, a
/// different transformation for one event), wrap it in an `EventHandler` of
/// your own and call its [`handle`](EventHandler::handle), or use
/// [`transform`](crate::transform::transform) and [`execute`] directly.
#[derive(Clone)]
pub struct CommerceHandler {
    api: Arc<dyn CommerceApi>,
}

impl std::fmt::Debug for CommerceHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommerceHandler(..)")
    }
}

impl CommerceHandler {
    /// A handler running its calls through `api`.
    pub fn new(api: impl CommerceApi) -> Self {
        Self::shared(Arc::new(api))
    }

    /// A handler over an already shared client.
    pub fn shared(api: Arc<dyn CommerceApi>) -> Self {
        Self { api }
    }

    /// The 13 route names it handles (`product-backoffice/created`, …).
    pub fn routes() -> impl Iterator<Item = &'static str> {
        BackOfficeEvent::ALL.into_iter().map(BackOfficeEvent::route)
    }
}

/// Runs `call` through `api`, mapping a failure to the [`HandlerError`] of the
/// [module docs](self)' table.
pub async fn execute(api: &dyn CommerceApi, call: &CommerceCall) -> Result<Value, HandlerError> {
    api.call(call).await.map_err(|e| e.into_handler_error(call))
}

#[async_trait::async_trait]
impl EventHandler for CommerceHandler {
    async fn handle(&self, event: CloudEvent, mut ctx: EventContext) -> Result<HandlerResult, HandlerError> {
        if ctx.route.is_none() {
            // dispatched directly: route it so the payload is read from `data`
            ctx.route = routing::route(&event.event_type, &event.data).ok();
        }
        let kind = ctx
            .route
            .as_ref()
            .and_then(|r| BackOfficeEvent::from_route(r.name))
            .ok_or_else(|| PayloadError::Unsupported(event.event_type.clone()))?;
        let call = transform(kind, ctx.payload(&event))?;
        execute(self.api.as_ref(), &call).await?;
        Ok(HandlerResult::success(format!("{}: {call} done", kind.code())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commerce_messages_fill_their_parameters() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (br#"{"message":"a %1 b %2","parameters":["x", 3]}"#, Some("a x b 3")),
            (br#"{"message":"%1 and %10","parameters":["1","2","3","4","5","6","7","8","9","ten"]}"#, Some("1 and ten")),
            (br#"{"message":"No such entity with %fieldName = %fieldValue","parameters":{"fieldName":"id","fieldValue":15}}"#, Some("No such entity with id = 15")),
            (br#"{"message":"plain"}"#, Some("plain")),
            (br#"{"error":"not commerce"}"#, None),
            (b"<html>", None),
            (b"", None),
        ];
        for (body, expected) in cases {
            assert_eq!(
                commerce_message(body).as_deref(),
                *expected,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn errors_map_to_handler_statuses() {
        let call = CommerceCall::new(http::Method::POST, &["products"]);
        let cases = [
            (
                CommerceCallError::from_status(StatusCode::BAD_REQUEST, "bad"),
                StatusCode::BAD_REQUEST,
                "Commerce refused POST /V1/products (400): bad",
            ),
            (
                CommerceCallError::from_status(StatusCode::NOT_FOUND, "gone"),
                StatusCode::BAD_REQUEST,
                "Commerce refused POST /V1/products (404): gone",
            ),
            (
                CommerceCallError::from_status(StatusCode::UNAUTHORIZED, "auth"),
                StatusCode::BAD_REQUEST,
                "Commerce refused POST /V1/products (401): auth",
            ),
            (
                CommerceCallError::refused(None, "HTML answer"),
                StatusCode::BAD_REQUEST,
                "Commerce refused POST /V1/products: HTML answer",
            ),
            (
                CommerceCallError::from_status(StatusCode::TOO_MANY_REQUESTS, "slow"),
                StatusCode::TOO_MANY_REQUESTS,
                "Commerce throttled POST /V1/products (429): slow",
            ),
            (
                CommerceCallError::from_status(StatusCode::INTERNAL_SERVER_ERROR, "boom"),
                StatusCode::BAD_GATEWAY,
                "Commerce failed POST /V1/products (500): boom",
            ),
            (
                CommerceCallError::timed_out(Duration::from_millis(1500)),
                StatusCode::SERVICE_UNAVAILABLE,
                "Commerce unavailable for POST /V1/products: no answer within 1500 ms",
            ),
            (
                CommerceCallError::unavailable("connection refused"),
                StatusCode::SERVICE_UNAVAILABLE,
                "Commerce unavailable for POST /V1/products: connection refused",
            ),
        ];
        for (err, status, message) in cases {
            let retryable = err.is_retryable();
            let h = err.into_handler_error(&call);
            assert_eq!((h.status(), h.message()), (status, message));
            assert_eq!(h.is_retryable(), retryable, "{message}");
        }
    }

    #[test]
    fn long_messages_are_cut() {
        let e = CommerceCallError::from_status(StatusCode::BAD_REQUEST, "x".repeat(2000));
        assert_eq!(e.message().chars().count(), MAX_MESSAGE + 1);
        assert!(e.message().ends_with('…'));
    }
}
