//! Publishing to the embedded durable bus.

use commerce_kit_model::bus::{BusError, LocalBus};
use commerce_kit_model::cloudevent::CloudEvent;

use super::{Delivery, EventPublisher, PublishError};

/// Appends events to a [`LocalBus`]; `Ok` only once the append is fsync'd.
///
/// Appends are idempotent on (event type, id): the ingestion webhook sets the
/// id to the back office's `uid`, so a back office that retries an event the
/// bus already holds (even across a crash or restart) gets
/// [`Delivery::AlreadyStored`] and the event is not stored twice.
#[derive(Debug, Clone)]
pub struct LocalBusPublisher {
    bus: LocalBus,
}

impl LocalBusPublisher {
    /// Publishes into `bus` (which the events consumer may share).
    pub fn new(bus: LocalBus) -> Self {
        Self { bus }
    }

    /// The bus.
    pub fn bus(&self) -> &LocalBus {
        &self.bus
    }
}

#[async_trait::async_trait]
impl EventPublisher for LocalBusPublisher {
    async fn publish(&self, event: &CloudEvent) -> Result<Delivery, PublishError> {
        let key = format!("{}/{}", event.event_type, event.id);
        match self.bus.append_once(&key, event).await {
            Ok(appended) if appended.duplicate => Ok(Delivery::AlreadyStored {
                offset: appended.offset,
            }),
            Ok(appended) => Ok(Delivery::Stored {
                offset: appended.offset,
            }),
            Err(err @ BusError::Encode { .. }) => {
                tracing::error!(error = %err, "event could not be encoded for the local bus");
                Err(PublishError::Internal(
                    "internal error: the event could not be encoded".into(),
                ))
            }
            Err(err @ BusError::Unavailable { .. }) => {
                // The bus logs the failed write and each retry once; a line per
                // refused request would flood the log of a full disk.
                tracing::debug!(error = %err, "event refused: the local bus is not writable for now");
                Err(PublishError::Unavailable(
                    "the event could not be stored durably: the journal is not writable for now; retry later".into(),
                ))
            }
            Err(err) => {
                tracing::error!(error = %err, "event could not be stored in the local bus");
                Err(PublishError::Unavailable(
                    "the event could not be stored durably; retry later".into(),
                ))
            }
        }
    }

    fn name(&self) -> &'static str {
        "local-bus"
    }
}
