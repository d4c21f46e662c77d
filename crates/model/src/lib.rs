//! What the commerce-kit flows share, without the consumer: the
//! [CloudEvent](cloudevent) envelope, the [event catalog](catalog) (codes,
//! sample payloads and their JSON Schemas), [route names](routing) and the
//! embedded durable [bus].
//!
//! The ingestion webhook builds CloudEvents, validates them against the
//! catalog and appends them to the bus; the events consumer reads them back
//! and routes them. Both depend on this crate; neither depends on the other.
#![deny(missing_docs)]

pub mod bus;
pub mod catalog;
pub mod cloudevent;
pub mod routing;
#[cfg(feature = "test-util")]
pub mod testing;

pub use bus::{BusError, LocalBus};
pub use catalog::{Catalog, CatalogError, CatalogMode, ValueError};
pub use cloudevent::CloudEvent;
