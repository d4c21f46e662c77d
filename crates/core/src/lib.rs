//! Shared building blocks of commerce-kit.
//!
//! Every flow (the check-stock webhook, the ingestion webhook and the events
//! consumer) is built from the same small pieces, kept here so each crate only
//! holds its own flow:
//!
//! - [`op`]: the operations Adobe Commerce accepts in a synchronous webhook response.
//! - [`params`]: the starter kit's required-parameter check and its exact message.
//! - [`body`]: size-limited body reading and JSON parsing with precise errors.
//! - [`redact`]: rendering headers and JSON for logs without leaking secrets.
//! - [`signature`]: RSA-SHA256 and HMAC-SHA256 verification, constant-time compares.
//! - [`state`]: the [`StateStore`] trait with in-memory and Redis stores.
//! - [`http`]: JSON error bodies and the outbound HTTP client builder.
//! - [`ims`]: Adobe IMS server-to-server tokens, cached and shared by every Adobe API client.
//! - [`server`]: binding, request ids, health, JSON 404/405, graceful shutdown.
#![deny(missing_docs)]

pub mod body;
pub mod http;
pub mod ims;
pub mod op;
pub mod params;
pub mod redact;
pub mod server;
pub mod signature;
pub mod state;
pub mod telemetry;

/// The state store every flow shares (dedupe, loop guard, idempotency).
pub use state::{MemoryStore, StateStore};

/// Re-exported so integrators implement our traits with the same macro version.
pub use async_trait::async_trait;
/// Re-exported so integrators hold secrets the same way the crates do.
pub use secrecy;
