//! Handlers of a typed payload: [`typed_handler`] deserializes the event's
//! payload ([`EventContext::payload`]: `data.value` for Commerce events, `data`
//! for back-office events) into `T` before calling the closure.
//!
//! A payload that does not match `T` is answered 400 (dropped, not retried)
//! without calling the closure, naming the field by its path in the event:
//! `missing parameter(s) 'data.sku'`, or `invalid parameter 'data[0].quantity':
//! invalid type: string "many", expected f64`. Inside a handler of your own,
//! [`EventContext::payload_as`] does the same.
//!
//! ```
//! use commerce_kit_events::catalog::payload::ProductCreate;
//! use commerce_kit_events::{typed_handler, Consumer, HandlerError, HandlerResult, MemoryStore};
//! use std::sync::Arc;
//!
//! let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
//!     .on(
//!         "product-backoffice/created",
//!         typed_handler(|product: ProductCreate, _event, _ctx| async move {
//!             if product.name.is_empty() {
//!                 return Err(HandlerError::rejected(format!("product {} has no name", product.sku)));
//!             }
//!             Ok(HandlerResult::success(format!("product {} created", product.sku)))
//!         }),
//!     )
//!     .build()
//!     .expect("known keys");
//! # let _ = consumer;
//! ```

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::DeserializeOwned;

use crate::cloudevent::CloudEvent;
use crate::error::HandlerError;
use crate::handler::{EventContext, EventHandler, HandlerResult};

/// A closure of a typed payload as an [`EventHandler`]; see [`typed_handler`].
pub struct TypedHandler<T, F> {
    f: F,
    payload: PhantomData<fn() -> T>,
}

impl<T, F> std::fmt::Debug for TypedHandler<T, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypedHandler<{}>(..)", std::any::type_name::<T>())
    }
}

#[async_trait::async_trait]
impl<T, F, Fut> EventHandler for TypedHandler<T, F>
where
    T: DeserializeOwned + Send + 'static,
    F: Fn(T, CloudEvent, EventContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<HandlerResult, HandlerError>> + Send + 'static,
{
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> Result<HandlerResult, HandlerError> {
        let payload = ctx.payload_as::<T>(&event)?;
        (self.f)(payload, event, ctx).await
    }
}

/// Wraps an async closure `(T, CloudEvent, EventContext) -> Result<HandlerResult,
/// HandlerError>` whose first argument is the payload deserialized into `T`;
/// see the [module docs](self).
pub fn typed_handler<T, F, Fut>(f: F) -> Arc<dyn EventHandler>
where
    T: DeserializeOwned + Send + 'static,
    F: Fn(T, CloudEvent, EventContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<HandlerResult, HandlerError>> + Send + 'static,
{
    Arc::new(TypedHandler {
        f,
        payload: PhantomData,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, serde::Deserialize)]
    struct Line {
        sku: String,
        quantity: f64,
    }

    #[tokio::test]
    async fn the_closure_gets_the_typed_payload_or_is_not_called() {
        let h = typed_handler(|lines: Vec<Line>, _e: CloudEvent, ctx: EventContext| async move {
            let total: f64 = lines.iter().map(|l| l.quantity).sum();
            Ok(HandlerResult::success(format!(
                "{} {} {total}",
                ctx.event_id, lines[0].sku
            )))
        });
        let mut ctx = EventContext::new("e1");
        let good = CloudEvent::new(
            "1",
            "s",
            "be-observer.catalog_stock_update",
            json!([{"sku": "A", "quantity": 1}, {"sku": "A", "quantity": 2.5}]),
        );
        ctx.route = crate::routing::route(&good.event_type, &good.data).ok();
        assert_eq!(
            h.handle(good, ctx.clone()).await,
            Ok(HandlerResult::success("e1 A 3.5"))
        );
        let bad = CloudEvent::new(
            "2",
            "s",
            "be-observer.catalog_stock_update",
            json!([{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": "many"}]),
        );
        assert_eq!(
            h.handle(bad, ctx).await,
            Err(HandlerError::rejected(
                "invalid parameter 'data[1].quantity': invalid type: string \"many\", expected f64"
            ))
        );
    }
}
