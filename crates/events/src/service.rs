//! [`ConsumerService`]: what a binary needs from the events consumer: the
//! `GET|POST /events` router and the local-bus loop.
//!
//! ```no_run
//! # async fn run(bus: commerce_kit_events::bus::LocalBus) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use commerce_kit_core::server;
//! use commerce_kit_events::local::LocalOptions;
//! use commerce_kit_events::{Consumer, ConsumerService, Delivery, DeliveryOptions, MemoryStore};
//!
//! let consumer = Consumer::builder(Arc::new(MemoryStore::new())).build()?;
//! let delivery = Delivery::new(consumer, DeliveryOptions::adobe("4f8a1c2e-client-id")?);
//! let events = ConsumerService::new(delivery, Some(bus), LocalOptions::default());
//! let local = events.spawn_local(); // None without a bus
//! let listener = server::bind("127.0.0.1:8080".parse()?).await?;
//! server::serve(listener, server::app(events.router()), server::shutdown_signal(), std::time::Duration::from_secs(30)).await?;
//! if let Some(local) = local {
//!     local.shutdown().await; // finishes the events in progress, then stops
//! }
//! # Ok(()) }
//! ```

use secrecy::SecretString;

use crate::bus::LocalBus;
use crate::consumer::Consumer;
use crate::delivery::{Delivery, router};
use crate::local::{LocalConsumerHandle, LocalOptions, spawn_local};

/// The events consumer: the delivery endpoint and, when given, the local bus it consumes.
#[derive(Debug, Clone)]
pub struct ConsumerService {
    delivery: Delivery,
    bus: Option<LocalBus>,
    local: LocalOptions,
    admin_token: Option<SecretString>,
}

impl ConsumerService {
    /// Assembles a service; `bus` is consumed by [`spawn_local`](Self::spawn_local).
    pub fn new(delivery: Delivery, bus: Option<LocalBus>, local: LocalOptions) -> Self {
        Self {
            delivery,
            bus,
            local,
            admin_token: None,
        }
    }

    /// Serves the dead-letter admin API ([`crate::admin`]) guarded by `token`
    /// (only with a local bus).
    pub fn with_admin_token(mut self, token: SecretString) -> Self {
        self.admin_token = Some(token);
        self
    }

    /// `GET|POST /events`, and the dead-letter admin API when a token and a bus were given.
    pub fn router(&self) -> axum::Router {
        let events = router(self.delivery.clone());
        match (&self.bus, &self.admin_token) {
            (Some(bus), Some(token)) => events.merge(crate::admin::router(
                bus.clone(),
                &self.local.consumer_name,
                token.clone(),
            )),
            _ => events,
        }
    }

    /// True when [`router`](Self::router) serves the admin API.
    pub fn serves_admin(&self) -> bool {
        self.bus.is_some() && self.admin_token.is_some()
    }

    /// The webhook endpoint.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }

    /// The consumer (dispatch) shared by HTTP and the local bus.
    pub fn consumer(&self) -> &Consumer {
        self.delivery.consumer()
    }

    /// The local-bus loop's options.
    pub fn local_options(&self) -> &LocalOptions {
        &self.local
    }

    /// Starts consuming the local bus, when one was given; stop it with
    /// [`LocalConsumerHandle::shutdown`] after the server stops.
    pub fn spawn_local(&self) -> Option<LocalConsumerHandle> {
        let bus = self.bus.clone()?;
        Some(spawn_local(self.consumer().clone(), bus, self.local.clone()))
    }
}
