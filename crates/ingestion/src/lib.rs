//! The ingestion webhook: back offices `POST /ingestion/webhook` with
//! `{"data": {"uid": …, "event": …, "value": …}}`; each request is
//! authenticated → validated → published → answered.
//!
//! - [`auth`]: the [`Authenticator`](auth::Authenticator) trait; no auth, API
//!   keys, or HMAC signatures ([`auth::sign_request`] signs for back offices).
//! - [`payload`]: the required parameters, with the starter kit's messages.
//! - Validation against the [event catalog](commerce_kit_model::catalog).
//! - [`publisher`]: the [`EventPublisher`](publisher::EventPublisher) trait;
//!   Adobe I/O Events (cached IMS token, retries) or the embedded durable bus.
//! - [`IngestionService`]: the flow as a plain async function (built with
//!   [`IngestionService::builder`]); [`router`]: the axum adapter.
//!
//! A 200 (`{"type":"<event>","response":{"success":true,"message":"Event published successfully"}}`)
//! is sent only once the event is durable in the local bus or acknowledged by
//! the I/O Events ingress. Errors answer `{"error":"<message>"}`: 400 invalid,
//! 401 unauthenticated, 413 too large, 502 upstream refused or failed, 503
//! upstream unreachable or throttling (retry later), 500 only for a bug.
#![deny(missing_docs)]

pub mod auth;
pub mod error;
mod json;
pub mod payload;
pub mod publisher;
mod router;
mod service;
#[cfg(feature = "test-util")]
pub mod testing;

pub use auth::{ApiKeyAuth, AuthError, Authenticator, HmacAuth, NoAuth, auth_fn, sign_request};
pub use error::IngestionError;
pub use publisher::ims::{ImsCredentials, ImsTokenProvider};
pub use publisher::{
    Delivery, EventPublisher, IngressClient, IoEventsOptions, IoEventsPublisher, LocalBusPublisher, PublishError,
};
pub use router::{WEBHOOK_PATH, router};
pub use service::{
    AcceptOutcome, Accepted, DEFAULT_IDEMPOTENCY_TTL, IngestionService, IngestionServiceBuilder, LOCAL_SOURCE,
    SUCCESS_MESSAGE,
};

/// Re-exported so integrators implement [`Authenticator`] and [`EventPublisher`]
/// with the same macro version.
pub use async_trait::async_trait;
/// The CloudEvent envelope and the event catalog ingestion validates against
/// and publishes (from `commerce-kit-model`).
pub use commerce_kit_model::{Catalog, CloudEvent, LocalBus};
