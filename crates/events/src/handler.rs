//! The [`EventHandler`] trait integrators implement, its context and its result.
//!
//! A handler receives one [`CloudEvent`] (with its `data`) and an
//! [`EventContext`], and returns `Result<HandlerResult, HandlerError>`:
//! - `Ok(`[`HandlerResult`]`)`: an HTTP status and a JSON body, exactly like
//!   the starter kit's event handler actions
//!   (`{"statusCode":200,"body":{"success":true,"message":…}}`);
//! - `Err(`[`HandlerError`]`)`: a status and a message, answered in the kit's
//!   failure shape `{"success":false,"error":…}`; `?` converts the errors
//!   handlers meet (HTTP calls, JSON, I/O; see [`HandlerError`]).
//!
//! The status decides what happens next: 2xx is success; 429 and 5xx (except
//! 505) are retried (by Adobe I/O Events, or by the local-bus loop); any other
//! status drops the event (the local-bus loop parks it in its dead-letter list).
//!
//! ```
//! use commerce_kit_events::{handler_fn, CloudEvent, EventContext, EventHandler, HandlerError, HandlerResult};
//! use std::sync::Arc;
//!
//! let handler: Arc<dyn EventHandler> = handler_fn(|event: CloudEvent, ctx: EventContext| async move {
//!     let sku = ctx
//!         .payload(&event)
//!         .get("sku")
//!         .and_then(|v| v.as_str())
//!         .ok_or_else(|| HandlerError::rejected("missing sku"))?;
//!     Ok(HandlerResult::success(format!("product {sku} synced")))
//! });
//! # let _ = handler;
//! ```

use std::any::Any;
use std::future::Future;
use std::sync::Arc;

use http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::cloudevent::CloudEvent;
use crate::error::HandlerError;
use crate::routing::{Origin, Route};

/// Where an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliverySource {
    /// Delivered over HTTP to `POST /events` (Adobe I/O Events webhook).
    Http,
    /// Read from the embedded local bus at this offset.
    LocalBus {
        /// The event's offset in the journal.
        offset: u64,
    },
    /// Dispatched directly through the library (tests, custom transports).
    Direct,
}

/// What a handler knows about the event besides the event itself.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EventContext {
    /// The id that stays stable across redeliveries: the dedupe key. Over HTTP:
    /// the signed body's `eventid` (or deprecated `event_id`), else the
    /// `x-adobe-event-id` header, else the CloudEvent `id`.
    pub event_id: String,
    /// How many times this event was delivered before (`x-adobe-retry-count`, or
    /// the local loop's attempt number); `None` when unknown or first delivery
    /// over HTTP.
    pub retry_count: Option<u32>,
    /// The starter kit route of the event (e.g. `product-commerce/created`),
    /// when a built-in routing rule matched it.
    pub route: Option<Route>,
    /// Where the event came from.
    pub source: DeliverySource,
}

impl EventContext {
    /// A context for `event_id` with no retry count, no route and [`DeliverySource::Direct`].
    pub fn new(event_id: impl Into<String>) -> Self {
        Self {
            event_id: event_id.into(),
            retry_count: None,
            route: None,
            source: DeliverySource::Direct,
        }
    }

    /// The part of `data` the starter kit hands to its handlers: `data.value`
    /// for Commerce events (whose data is `{"key":…,"value":{…},"_metadata":…}`),
    /// `data` itself for back-office events (the ingestion webhook publishes the
    /// back office's `value` as `data`). When no route is known, `data.value` is
    /// used if it is an object or an array, else `data`.
    pub fn payload<'a>(&self, event: &'a CloudEvent) -> &'a Value {
        self.located_payload(event).0
    }

    /// The [payload](Self::payload) and its path in the event (`data.value` or `data`).
    fn located_payload<'a>(&self, event: &'a CloudEvent) -> (&'a Value, &'static str) {
        let value = event.data.get("value").filter(|v| v.is_object() || v.is_array());
        match (self.route.as_ref().map(|r| r.origin), value) {
            (Some(Origin::Commerce), value) => (value.unwrap_or(&Value::Null), "data.value"),
            (Some(Origin::BackOffice), _) => (&event.data, "data"),
            (None, Some(value)) => (value, "data.value"),
            (None, None) => (&event.data, "data"),
        }
    }

    /// The [payload](Self::payload) deserialized into `T`. A payload of another
    /// shape is a 400 [`HandlerError`] (dropped, not retried) naming the field
    /// by its path in the event, worded like the consumer's other 400s:
    /// `missing parameter(s) 'data.sku'`, or `invalid parameter
    /// 'data.value.qty': invalid type: string "two", expected u32`.
    ///
    /// ```
    /// use commerce_kit_events::{CloudEvent, EventContext, HandlerError};
    /// use serde::Deserialize;
    /// use serde_json::json;
    ///
    /// #[derive(Deserialize)]
    /// struct Stock {
    ///     sku: String,
    ///     quantity: f64,
    /// }
    ///
    /// let ctx = EventContext::new("evt-1");
    /// let good = CloudEvent::new("1", "s", "com.acme.stock", json!({"sku": "A", "quantity": 2}));
    /// let stock: Stock = ctx.payload_as(&good)?;
    /// assert_eq!((stock.sku.as_str(), stock.quantity), ("A", 2.0));
    ///
    /// let bad = CloudEvent::new("2", "s", "com.acme.stock", json!({"sku": "A", "quantity": "lots"}));
    /// let err = ctx.payload_as::<Stock>(&bad).err().unwrap();
    /// assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
    /// assert_eq!(err.message(), "invalid parameter 'data.quantity': invalid type: string \"lots\", expected f64");
    /// # Ok::<(), HandlerError>(())
    /// ```
    pub fn payload_as<T: DeserializeOwned>(&self, event: &CloudEvent) -> Result<T, HandlerError> {
        let (payload, path) = self.located_payload(event);
        serde_path_to_error::deserialize(payload).map_err(|err| HandlerError::invalid_payload(path, &err))
    }
}

/// A handler's answer: an HTTP status and a JSON body.
///
/// Successes are `Ok(HandlerResult::success(…))` (or any 2xx with
/// [`HandlerResult::new`]); failures are best returned as `Err(`[`HandlerError`]`)`,
/// which is answered as [`HandlerResult::error`] would be.
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerResult {
    /// The status propagated to the caller (Adobe I/O Events or the local loop).
    pub status: StatusCode,
    /// The JSON body, `{"success":true,"message":…}` or `{"success":false,"error":…}` by convention.
    pub body: Value,
}

impl HandlerResult {
    /// 200 `{"success":true,"message":message}`.
    pub fn success(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::OK,
            body: json!({"success": true, "message": message.into()}),
        }
    }

    /// `status` with `{"success":false,"error":message}`: what an
    /// `Err(HandlerError::new(status, message))` is answered.
    ///
    /// 4xx for events that must not be retried (bad data), 5xx or 429 for
    /// transient failures that should be delivered again.
    pub fn error(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            body: json!({"success": false, "error": message.into()}),
        }
    }

    /// Any status and body.
    pub fn new(status: StatusCode, body: Value) -> Self {
        Self { status, body }
    }

    /// True for a 2xx status.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }

    /// The failure message of the body: its `error` string, else its `message`
    /// string, else `handler answered <status>`.
    pub fn error_message(&self) -> String {
        ["error", "message"]
            .iter()
            .find_map(|k| self.body.get(*k).and_then(Value::as_str))
            .map(str::to_owned)
            .unwrap_or_else(|| format!("handler answered {}", self.status))
    }
}

impl From<HandlerError> for HandlerResult {
    /// The wire answer of a failure: its status with `{"success":false,"error":<message>}`.
    fn from(err: HandlerError) -> Self {
        Self::error(err.status(), err.message())
    }
}

/// Handles one event. Object-safe: hold it as `Arc<dyn EventHandler>`.
///
/// The handler runs with a deadline (`EVENTS_HANDLER_TIMEOUT_MS`, 8 s by
/// default: Adobe gives up on a webhook after 10 s); past it the event is
/// answered 503 and retried. A panic is answered 500 (retried) and the server
/// keeps serving. Handlers should be idempotent: delivery is at least once.
///
/// ```
/// use commerce_kit_events::{async_trait, CloudEvent, EventContext, EventHandler, HandlerError, HandlerResult};
///
/// struct DeleteCustomer {
///     erp: reqwest::Client,
/// }
///
/// #[async_trait]
/// impl EventHandler for DeleteCustomer {
///     async fn handle(&self, event: CloudEvent, ctx: EventContext) -> Result<HandlerResult, HandlerError> {
///         let id = ctx.payload(&event)["id"].as_u64().ok_or_else(|| HandlerError::rejected("customer without an id"))?;
///         // unreachable ERP → 503 (retried); an ERP 5xx → 502 (retried); an ERP 4xx → 400 (dropped)
///         self.erp
///             .delete(format!("http://erp.internal/customers/{id}"))
///             .send()
///             .await?
///             .error_for_status()?;
///         Ok(HandlerResult::success(format!("customer {id} deleted")))
///     }
/// }
/// ```
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Handles `event`. `Ok` with a 2xx result is a success; an `Err` (or an
    /// `Ok` with a failure status) is retried or dropped by its status.
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> Result<HandlerResult, HandlerError>;
}

#[async_trait::async_trait]
impl<T: EventHandler + ?Sized> EventHandler for Arc<T> {
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> Result<HandlerResult, HandlerError> {
        (**self).handle(event, ctx).await
    }
}

/// `handler` as a shared trait object; an `Arc<dyn EventHandler>` is kept as is
/// (not wrapped in a second `Arc`).
pub(crate) fn into_shared<H: EventHandler>(handler: H) -> Arc<dyn EventHandler> {
    let mut slot = Some(handler);
    let already = (&mut slot as &mut dyn Any)
        .downcast_mut::<Option<Arc<dyn EventHandler>>>()
        .and_then(Option::take);
    match (already, slot) {
        (Some(shared), _) => shared,
        (None, Some(handler)) => Arc::new(handler),
        (None, None) => unreachable!("the slot is only emptied when it held an Arc<dyn EventHandler>"),
    }
}

/// A closure as an [`EventHandler`]; see [`handler_fn`].
pub struct FnHandler<F>(F);

impl<F> std::fmt::Debug for FnHandler<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnHandler(..)")
    }
}

#[async_trait::async_trait]
impl<F, Fut> EventHandler for FnHandler<F>
where
    F: Fn(CloudEvent, EventContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<HandlerResult, HandlerError>> + Send + 'static,
{
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> Result<HandlerResult, HandlerError> {
        (self.0)(event, ctx).await
    }
}

/// Wraps an async closure `(CloudEvent, EventContext) -> Result<HandlerResult,
/// HandlerError>` as a handler; `?` works inside it.
pub fn handler_fn<F, Fut>(f: F) -> Arc<dyn EventHandler>
where
    F: Fn(CloudEvent, EventContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<HandlerResult, HandlerError>> + Send + 'static,
{
    Arc::new(FnHandler(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_have_the_starter_kit_shapes() {
        let ok = HandlerResult::success("done");
        assert_eq!(ok.status, StatusCode::OK);
        assert_eq!(ok.body, json!({"success": true, "message": "done"}));
        assert!(ok.is_success());
        let err = HandlerResult::error(StatusCode::NOT_FOUND, "no such sku");
        assert_eq!(err.status, StatusCode::NOT_FOUND);
        assert_eq!(err.body, json!({"success": false, "error": "no such sku"}));
        assert_eq!(err.error_message(), "no such sku");
        assert!(!err.is_success());
        let odd = HandlerResult::new(StatusCode::BAD_GATEWAY, json!([1]));
        assert_eq!(odd.error_message(), "handler answered 502 Bad Gateway");
        let msg = HandlerResult::new(StatusCode::BAD_REQUEST, json!({"message": "m"}));
        assert_eq!(msg.error_message(), "m");
    }

    #[test]
    fn payload_follows_the_origin() {
        let commerce = CloudEvent::new(
            "1",
            "s",
            "com.adobe.commerce.observer.catalog_product_delete_commit_after",
            json!({"key": "k", "value": {"sku": "A"}}),
        );
        let mut ctx = EventContext::new("1");
        ctx.route = crate::routing::route(&commerce.event_type, &commerce.data).ok();
        assert_eq!(ctx.payload(&commerce), &json!({"sku": "A"}));
        let back = CloudEvent::new("2", "s", "be-observer.catalog_product_delete", json!({"sku": "B"}));
        ctx.route = crate::routing::route(&back.event_type, &back.data).ok();
        assert_eq!(ctx.payload(&back), &json!({"sku": "B"}));
        ctx.route = None;
        assert_eq!(ctx.payload(&back), &json!({"sku": "B"}));
        assert_eq!(ctx.payload(&commerce), &json!({"sku": "A"}));
    }

    #[test]
    fn payload_as_reports_paths_under_the_payload() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Product {
            sku: String,
        }
        let commerce = CloudEvent::new(
            "1",
            "s",
            "com.adobe.commerce.observer.catalog_product_delete_commit_after",
            json!({"key": "k", "value": {"sku": 7}}),
        );
        let mut ctx = EventContext::new("1");
        ctx.route = crate::routing::route(&commerce.event_type, &commerce.data).ok();
        let err = ctx.payload_as::<Product>(&commerce).expect_err("mismatch");
        assert_eq!(
            err,
            HandlerError::rejected("invalid parameter 'data.value.sku': invalid type: integer `7`, expected a string")
        );
        // a Commerce event without data.value: the whole payload is missing
        let empty = CloudEvent::new("2", "s", commerce.event_type.clone(), json!({"key": "k"}));
        assert_eq!(
            ctx.payload_as::<Product>(&empty).expect_err("mismatch"),
            HandlerError::rejected("invalid parameter 'data.value': invalid type: null, expected struct Product")
        );
        let back = CloudEvent::new("3", "s", "be-observer.catalog_product_delete", json!({}));
        ctx.route = crate::routing::route(&back.event_type, &back.data).ok();
        assert_eq!(
            ctx.payload_as::<Product>(&back).expect_err("mismatch"),
            HandlerError::rejected("missing parameter(s) 'data.sku'")
        );
        ctx.route = None;
        let ok: Product = ctx
            .payload_as(&CloudEvent::new("4", "s", "t", json!({"value": {"sku": "A"}})))
            .expect("typed");
        assert_eq!(ok.sku, "A");
    }

    #[test]
    fn a_handler_error_answers_the_kit_failure_shape() {
        let r = HandlerResult::from(HandlerError::retryable("ERP down"));
        assert_eq!(r, HandlerResult::error(StatusCode::SERVICE_UNAVAILABLE, "ERP down"));
        assert_eq!(r.body, json!({"success": false, "error": "ERP down"}));
    }

    #[test]
    fn a_shared_handler_is_not_wrapped_again() {
        let h = handler_fn(|_e: CloudEvent, _c: EventContext| async { Ok(HandlerResult::success("x")) });
        let shared = into_shared(h.clone());
        assert!(Arc::ptr_eq(&h, &shared));
    }

    #[tokio::test]
    async fn closures_are_handlers() {
        let h = handler_fn(|event: CloudEvent, ctx: EventContext| async move {
            if event.data.is_null() {
                return Err(HandlerError::rejected("no data"));
            }
            Ok(HandlerResult::success(format!("{} {}", event.event_type, ctx.event_id)))
        });
        let r = h
            .handle(CloudEvent::new("i", "s", "t", json!({})), EventContext::new("e"))
            .await;
        assert_eq!(r, Ok(HandlerResult::success("t e")));
        let r = h
            .handle(CloudEvent::new("i", "s", "t", Value::Null), EventContext::new("e"))
            .await;
        assert_eq!(r, Err(HandlerError::rejected("no data")));
    }
}
