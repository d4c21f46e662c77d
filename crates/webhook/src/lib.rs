//! The check-stock synchronous Commerce webhook.
//!
//! Adobe Commerce calls `POST /webhook/check-stock` before add-to-cart and
//! blocks the shopper until it answers. This crate validates the call, asks a
//! [`StockChecker`] whether the items are in stock, and answers in Commerce's
//! format, within a deadline, whatever the checker does.
//!
//! The crate root holds what an integrator uses, so one `use` line is enough:
//!
//! - the checker side: [`StockChecker`] (implemented with [`async_trait`](macro@async_trait)),
//!   [`StockVerdict`], [`CheckerError`] (the common errors convert into it, so
//!   `?` works in a checker), [`checker_fn`] for closures, and the built-in
//!   [`InventoryChecker`] and [`HttpStockChecker`];
//! - the request: [`CheckStockRequest`], [`CartItem`], [`Id`], [`Quantity`];
//! - the service and its serving: [`CheckStockService`], [`router()`],
//!   [`direct_app`], [`CHECK_STOCK_PATH`], and commerce-kit's [`server`]
//!   (`server::app` adds `/health`, request ids and JSON 404/405;
//!   `server::bind` and `server::serve` run an app);
//! - the answers: [`Operation`], [`CheckStockError`];
//! - signatures: [`CommerceSignatureVerifier`] (and, with the `test-util`
//!   feature, `sign_body` to sign a body as Commerce does).
//!
//! The modules hold the rest:
//!
//! - [`request`]: payload types with JSON Schema, and the path Commerce calls;
//! - [`validate`](mod@validate): the starter kit's checks plus precise messages;
//! - [`checker`]: the [`StockChecker`] trait, its error and the [`checker_fn`] closure adapter;
//! - [`inventory`]: the file-backed checker (the embedded default) and the demo inventory;
//! - [`http_checker`]: a checker that asks a back office over HTTP;
//! - [`signature`]: Commerce webhook signature verification (and a `test-util` signer);
//! - [`service`]: [`CheckStockService`], the flow; [`router`](mod@router): its axum route;
//! - [`error`]: [`CheckStockError`], every non-success answer in one place.
//!
//! ```
//! use commerce_kit_webhook::{CheckStockService, StockVerdict, checker_fn, router, server};
//!
//! let checker = checker_fn(|request| async move {
//!     Ok(if request.items.iter().all(|item| item.qty.get() <= 5.0) {
//!         StockVerdict::Available
//!     } else {
//!         StockVerdict::unavailable("At most 5 of each product")
//!     })
//! });
//! let app = server::app(router(CheckStockService::new(checker)));
//! # let _ = app;
//! ```
#![deny(missing_docs)]

pub mod checker;
pub mod error;
pub mod http_checker;
pub mod ims_auth;
pub mod inventory;
pub mod request;
mod response;
pub mod router;
pub mod service;
pub mod signature;
pub mod validate;

/// The attribute a [`StockChecker`] impl needs (`#[async_trait]`), the same
/// version the trait is declared with.
pub use async_trait::async_trait;
pub use checker::{CheckerError, FnChecker, StockChecker, StockVerdict, checker_fn};
/// The operation a check-stock call answers (`{"op":"success"}`, `{"op":"exception",…}`).
pub use commerce_kit_core::op::Operation;
/// Serving: `app` (health, request ids, JSON 404/405, panic guard), `bind`,
/// `serve`, `shutdown_signal`, … (commerce-kit-core's server module).
pub use commerce_kit_core::server;
pub use error::CheckStockError;
pub use http_checker::HttpStockChecker;
pub use ims_auth::{ImsAuthFailure, ImsTokenVerifier};
pub use inventory::InventoryChecker;
pub use request::{CHECK_STOCK_PATH, CartItem, CheckStockRequest, Id, MAX_SKU_BYTES, Quantity};
pub use router::{direct_app, router};
pub use service::{CheckStockService, Refusal};
pub use signature::CommerceSignatureVerifier;
#[cfg(feature = "test-util")]
pub use signature::sign_body;
