//! The starter kit's handler structure as an optional helper:
//! validate → transform → pre-process → send → post-process.
//!
//! Implement [`Pipeline::send`] (the one required method) and override the
//! other steps when needed; wrap it with [`pipeline`] to get an
//! [`EventHandler`]. The steps see the event's payload (`data.value` for
//! Commerce events, `data` for back-office events; see [`EventContext::payload`]).
//!
//! - validation failure → 400 `{"success":false,"error":<message>}` (not retried);
//! - a step's [`HandlerError`] → its status (`?` converts HTTP, JSON and I/O
//!   errors; [`HandlerError::upstream`] propagates an upstream status);
//! - success → post-process's result (default 200 `{"success":true,"message":"event '<type>' processed"}`).
//!
//! ```
//! use commerce_kit_events::pipeline::{pipeline, Pipeline};
//! use commerce_kit_events::{async_trait, EventContext, HandlerError};
//! use serde_json::{json, Value};
//!
//! struct CreateProductInErp;
//!
//! #[async_trait]
//! impl Pipeline for CreateProductInErp {
//!     fn validate(&self, payload: &Value, _ctx: &EventContext) -> Result<(), String> {
//!         payload.get("sku").and_then(Value::as_str).map(|_| ()).ok_or_else(|| "missing sku".to_owned())
//!     }
//!     fn transform(&self, payload: Value, _ctx: &EventContext) -> Result<Value, HandlerError> {
//!         Ok(json!({"code": payload["sku"], "title": payload["name"]}))
//!     }
//!     async fn send(&self, data: Value, _ctx: &EventContext) -> Result<Value, HandlerError> {
//!         // POST `data` to the ERP here: `?` on its reqwest errors, or
//!         // HandlerError::upstream(status, message) for a failure status.
//!         Ok(data)
//!     }
//! }
//!
//! let handler = pipeline(CreateProductInErp);
//! # let _ = handler;
//! ```

use std::sync::Arc;

use serde_json::Value;

use crate::cloudevent::CloudEvent;
use crate::error::HandlerError;
use crate::handler::{EventContext, EventHandler, HandlerResult};

/// The five steps of a starter kit handler; only [`Pipeline::send`] is required.
#[async_trait::async_trait]
pub trait Pipeline: Send + Sync + 'static {
    /// Checks the payload; `Err(message)` answers 400. Default: accepts everything.
    fn validate(&self, payload: &Value, ctx: &EventContext) -> Result<(), String> {
        let _ = (payload, ctx);
        Ok(())
    }

    /// Maps the payload to what the target system expects. Default: unchanged.
    fn transform(&self, payload: Value, ctx: &EventContext) -> Result<Value, HandlerError> {
        let _ = ctx;
        Ok(payload)
    }

    /// Runs before sending (look-ups, enrichment). Default: unchanged.
    async fn pre_process(&self, data: Value, ctx: &EventContext) -> Result<Value, HandlerError> {
        let _ = ctx;
        Ok(data)
    }

    /// Sends the data to the target system; returns its answer.
    async fn send(&self, data: Value, ctx: &EventContext) -> Result<Value, HandlerError>;

    /// Runs after a successful send and builds the result. Default: 200
    /// `{"success":true,"message":"event '<type>' processed"}`.
    async fn post_process(
        &self,
        event_type: &str,
        response: Value,
        ctx: &EventContext,
    ) -> Result<HandlerResult, HandlerError> {
        let _ = (response, ctx);
        Ok(HandlerResult::success(format!("event '{event_type}' processed")))
    }
}

/// A [`Pipeline`] as an [`EventHandler`].
#[derive(Debug)]
pub struct PipelineHandler<P>(pub P);

#[async_trait::async_trait]
impl<P: Pipeline> EventHandler for PipelineHandler<P> {
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> Result<HandlerResult, HandlerError> {
        let p = &self.0;
        let payload = ctx.payload(&event).clone();
        p.validate(&payload, &ctx).map_err(HandlerError::rejected)?;
        let data = p.transform(payload, &ctx)?;
        let data = p.pre_process(data, &ctx).await?;
        let response = p.send(data, &ctx).await?;
        p.post_process(&event.event_type, response, &ctx).await
    }
}

/// Wraps a [`Pipeline`] as a shareable handler.
pub fn pipeline<P: Pipeline>(p: P) -> Arc<dyn EventHandler> {
    Arc::new(PipelineHandler(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;
    use serde_json::json;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder {
        steps: Mutex<Vec<String>>,
        fail_send: Option<Option<u16>>,
    }

    #[async_trait::async_trait]
    impl Pipeline for Recorder {
        fn validate(&self, payload: &Value, _ctx: &EventContext) -> Result<(), String> {
            self.steps.lock().expect("lock").push("validate".into());
            match payload.get("sku") {
                Some(_) => Ok(()),
                None => Err("sku is required".into()),
            }
        }
        fn transform(&self, payload: Value, _ctx: &EventContext) -> Result<Value, HandlerError> {
            self.steps.lock().expect("lock").push("transform".into());
            Ok(json!({"code": payload["sku"]}))
        }
        async fn pre_process(&self, data: Value, _ctx: &EventContext) -> Result<Value, HandlerError> {
            self.steps.lock().expect("lock").push(format!("pre {data}"));
            Ok(data)
        }
        async fn send(&self, data: Value, _ctx: &EventContext) -> Result<Value, HandlerError> {
            self.steps.lock().expect("lock").push(format!("send {data}"));
            match self.fail_send {
                Some(status) => Err(HandlerError::upstream(status, "ERP said no")),
                None => Ok(json!({"ok": true})),
            }
        }
    }

    fn event(data: Value) -> (CloudEvent, EventContext) {
        let e = CloudEvent::new("1", "s", "be-observer.catalog_product_create", data);
        let mut ctx = EventContext::new("1");
        ctx.route = crate::routing::route(&e.event_type, &e.data).ok();
        (e, ctx)
    }

    #[tokio::test]
    async fn steps_run_in_order_and_default_post_process_succeeds() {
        let h = PipelineHandler(Recorder::default());
        let (e, ctx) = event(json!({"sku": "A"}));
        let r = h.handle(e, ctx).await;
        assert_eq!(
            r,
            Ok(HandlerResult::success(
                "event 'be-observer.catalog_product_create' processed"
            ))
        );
        assert_eq!(
            *h.0.steps.lock().expect("lock"),
            vec!["validate", "transform", r#"pre {"code":"A"}"#, r#"send {"code":"A"}"#]
        );
    }

    #[tokio::test]
    async fn validation_failure_is_400_and_stops() {
        let h = PipelineHandler(Recorder::default());
        let (e, ctx) = event(json!({"name": "x"}));
        let r = h.handle(e, ctx).await;
        assert_eq!(r, Err(HandlerError::new(StatusCode::BAD_REQUEST, "sku is required")));
        assert_eq!(*h.0.steps.lock().expect("lock"), vec!["validate"]);
    }

    #[tokio::test]
    async fn send_failure_propagates_upstream_status_or_500() {
        for (upstream, expected) in [
            (Some(503), StatusCode::SERVICE_UNAVAILABLE),
            (Some(404), StatusCode::NOT_FOUND),
            (Some(429), StatusCode::TOO_MANY_REQUESTS),
            (Some(302), StatusCode::INTERNAL_SERVER_ERROR),
            (Some(1000), StatusCode::INTERNAL_SERVER_ERROR),
            (None, StatusCode::INTERNAL_SERVER_ERROR),
        ] {
            let h = PipelineHandler(Recorder {
                fail_send: Some(upstream),
                ..Recorder::default()
            });
            let (e, ctx) = event(json!({"sku": "A"}));
            assert_eq!(
                h.handle(e, ctx).await,
                Err(HandlerError::new(expected, "ERP said no")),
                "{upstream:?}"
            );
        }
    }
}
