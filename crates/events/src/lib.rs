//! Events: the event catalog, the CloudEvent envelope, the embedded durable
//! bus, and the events consumer.
#![deny(missing_docs)]

pub mod consumer;
pub mod dedupe;
pub mod delivery;
pub mod handler;
pub mod handlers;
pub mod local;
pub mod loop_guard;
pub mod pipeline;
pub mod service;
#[cfg(feature = "test-util")]
pub mod test_util;

pub use commerce_kit_model::{bus, catalog, cloudevent, routing};
pub use delivery::router;
pub use service::ConsumerService;
