//! Where accepted events go: the [`EventPublisher`] trait, the embedded
//! [`LocalBusPublisher`] and the Adobe [`IoEventsPublisher`].

use commerce_kit_model::cloudevent::CloudEvent;

pub mod ims;
pub mod ingress_client;
pub mod io_events;
mod local;

pub use ingress_client::IngressClient;
pub use io_events::{IoEventsOptions, IoEventsPublisher};
pub use local::LocalBusPublisher;

/// What a successful publish did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The ingress accepted the event (HTTP 200) and it has registrations.
    Accepted,
    /// The ingress accepted the event (HTTP 204) but nothing is registered for it yet.
    NoRegistrations,
    /// The event is durable in the local bus at this offset.
    Stored {
        /// The journal offset.
        offset: u64,
    },
    /// The same event (type and id) was already in the local bus, stored at
    /// this offset, e.g. by a process that has restarted since: not stored again.
    AlreadyStored {
        /// The journal offset of the earlier copy.
        offset: u64,
    },
}

/// A publish failed; the back office gets a non-2xx so it retries. `Display` is
/// the client-facing message (never a secret; details go to the logs).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// The upstream refused the event or our credentials (a final answer,
    /// or failures until the retry budget ran out). → 502
    #[error("{0}")]
    Rejected(String),
    /// The upstream could not be reached, was throttling us, or the local bus
    /// could not store the event, within the retry budget. → 503
    #[error("{0}")]
    Unavailable(String),
    /// A bug on our side. → 500
    #[error("{0}")]
    Internal(String),
}

/// Publishes one CloudEvent. Object-safe: hold it as `Arc<dyn EventPublisher>`.
///
/// Return `Ok` only once the event is safe (durable, or acknowledged upstream):
/// the back office is told 200 and will not send it again.
#[async_trait::async_trait]
pub trait EventPublisher: Send + Sync + 'static {
    /// Publishes `event`.
    async fn publish(&self, event: &CloudEvent) -> Result<Delivery, PublishError>;

    /// A short name for logs (`local-bus`, `io-events`, …).
    fn name(&self) -> &'static str {
        "custom"
    }
}
