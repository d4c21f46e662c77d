//! The [`EventHandler`] trait integrators implement, its context and its result.
//!
//! A handler receives one [`CloudEvent`] (with its `data`) and an
//! [`EventContext`], and answers a [`HandlerResult`]: an HTTP status and a JSON
//! body, exactly like the starter kit's event handler actions
//! (`{"statusCode":200,"body":{"success":true,"message":…}}`). The status decides
//! what happens next: 2xx is success; 429 and 5xx (except 505) are retried
//! (by Adobe I/O Events, or by the local-bus loop); any other status drops the
//! event (the local-bus loop parks it in its dead-letter list).
//!
//! ```
//! use std::sync::Arc;
//! use commerce_kit_events::cloudevent::CloudEvent;
//! use commerce_kit_events::handler::{handler_fn, EventContext, EventHandler, HandlerResult};
//! use http::StatusCode;
//!
//! let handler: Arc<dyn EventHandler> = handler_fn(|event: CloudEvent, ctx: EventContext| async move {
//!     match ctx.payload(&event).get("sku").and_then(|v| v.as_str()) {
//!         Some(sku) => HandlerResult::success(format!("product {sku} synced")),
//!         None => HandlerResult::error(StatusCode::BAD_REQUEST, "missing sku"),
//!     }
//! });
//! # let _ = handler;
//! ```

use std::future::Future;
use std::sync::Arc;

use http::StatusCode;
use serde_json::{Value, json};

use crate::cloudevent::CloudEvent;
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
    /// used if it is an object, else `data`.
    pub fn payload<'a>(&self, event: &'a CloudEvent) -> &'a Value {
        let value = event.data.get("value").filter(|v| v.is_object() || v.is_array());
        match self.route.as_ref().map(|r| r.origin) {
            Some(Origin::Commerce) => value.unwrap_or(&Value::Null),
            Some(Origin::BackOffice) => &event.data,
            None => value.unwrap_or(&event.data),
        }
    }
}

/// A handler's answer: an HTTP status and a JSON body.
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

    /// `status` with `{"success":false,"error":message}`.
    ///
    /// Use 4xx for events that must not be retried (bad data), 5xx or 429 for
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

/// Handles one event. Object-safe: hold it as `Arc<dyn EventHandler>`.
///
/// The handler runs with a deadline (`EVENTS_HANDLER_TIMEOUT_MS`, 8 s by
/// default: Adobe gives up on a webhook after 10 s); past it the event is
/// answered 503 and retried. A panic is answered 500 (retried) and the server
/// keeps serving. Handlers should be idempotent: delivery is at least once.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// Handles `event`; the status of the result decides success, retry or drop.
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> HandlerResult;
}

#[async_trait::async_trait]
impl<T: EventHandler + ?Sized> EventHandler for Arc<T> {
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> HandlerResult {
        (**self).handle(event, ctx).await
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
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> HandlerResult {
        (self.0)(event, ctx).await
    }
}

/// Wraps an async closure `(CloudEvent, EventContext) -> HandlerResult` as a handler.
pub fn handler_fn<F, Fut>(f: F) -> Arc<dyn EventHandler>
where
    F: Fn(CloudEvent, EventContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
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

    #[tokio::test]
    async fn closures_are_handlers() {
        let h = handler_fn(|event: CloudEvent, ctx: EventContext| async move {
            HandlerResult::success(format!("{} {}", event.event_type, ctx.event_id))
        });
        let r = h
            .handle(CloudEvent::new("i", "s", "t", Value::Null), EventContext::new("e"))
            .await;
        assert_eq!(r, HandlerResult::success("t e"));
    }
}
