//! Events: the event catalog, the CloudEvent envelope, the embedded durable
//! bus, and the events consumer.
#![deny(missing_docs)]

pub mod cloudevent;
