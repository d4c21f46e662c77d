//! The events consumer: verified deliveries from Adobe I/O Events and events
//! from the embedded bus, routed to [`EventHandler`]s with dedupe and the
//! infinite-loop guard. The CloudEvent envelope, the catalog, route names and
//! the bus come from `commerce-kit-model` and are re-exported here.
//!
//! What an integrator uses is re-exported here: write an [`EventHandler`]
//! (or a closure with [`handler_fn`], or one of a typed payload with
//! [`typed_handler`]), register it on a [`Consumer`], and serve it with
//! [`router`] over a [`Delivery`] (verified deliveries unless
//! [`DeliveryOptions::unsigned`] says otherwise).
//!
//! ```
//! use commerce_kit_events::{
//!     async_trait, router, CloudEvent, Consumer, Delivery, DeliveryOptions, EventContext, EventHandler,
//!     HandlerError, HandlerResult, MemoryStore,
//! };
//! use std::sync::Arc;
//!
//! struct Deleted;
//!
//! #[async_trait]
//! impl EventHandler for Deleted {
//!     async fn handle(&self, event: CloudEvent, ctx: EventContext) -> Result<HandlerResult, HandlerError> {
//!         let sku = ctx.payload(&event)["sku"].as_str().ok_or_else(|| HandlerError::rejected("missing sku"))?;
//!         Ok(HandlerResult::success(format!("product {sku} deleted")))
//!     }
//! }
//!
//! let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
//!     .on("product-commerce/deleted", Deleted)
//!     .build()?;
//! let app: axum::Router = router(Delivery::new(consumer, DeliveryOptions::adobe("client-id")?));
//! # let _ = app;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules import one way (none imports a module that imports it back):
//! `service` → `delivery`, `local` → `consumer` → `dedupe`, `loop_guard`,
//! handler keys, `handler` → `error`; the handlers (`handlers`, `pipeline`,
//! `typed`) → `handler`, `error`.
#![deny(missing_docs)]

pub mod admin;
pub mod consumer;
pub mod dedupe;
pub mod delivery;
pub mod error;
pub mod handler;
pub mod handlers;
pub mod journal;
mod keys;
pub mod local;
pub mod loop_guard;
pub mod ordering;
pub mod pipeline;
pub mod service;
#[cfg(feature = "test-util")]
pub mod test_util;
pub mod typed;

pub use async_trait::async_trait;
/// Serving: `app` (health, request ids, JSON 404/405, panic guard), `bind`,
/// `serve`, `shutdown_signal`, … (commerce-kit-core's server module).
pub use commerce_kit_core::server;
pub use commerce_kit_core::state::{MemoryStore, StateStore};
pub use commerce_kit_model::{bus, catalog, cloudevent, routing};

pub use cloudevent::CloudEvent;
pub use consumer::ConsumerBuildError;
pub use consumer::{Consumer, ConsumerBuilder};
pub use delivery::{Delivery, DeliveryOptions, SignatureVerifier, router};
pub use error::HandlerError;
pub use handler::{DeliverySource, EventContext, EventHandler, HandlerResult, handler_fn};
pub use routing::Route;
pub use service::ConsumerService;
#[cfg(feature = "test-util")]
pub use test_util::{AdobeSigner, FakeKeyHost};
pub use typed::typed_handler;
