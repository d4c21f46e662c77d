//! The check-stock synchronous Commerce webhook.
//!
//! Adobe Commerce calls `POST /webhook/check-stock` before add-to-cart and
//! blocks the shopper until it answers. This crate validates the call, asks a
//! [`StockChecker`] whether the items are in stock, and answers in Commerce's
//! format, within a deadline, whatever the checker does:
//!
//! - [`request`]: payload types ([`CheckStockRequest`], [`CartItem`]) with JSON Schema;
//! - [`validate`](mod@validate): the starter kit's checks plus precise messages;
//! - [`checker`]: the [`StockChecker`] trait and the [`checker_fn`] closure adapter;
//! - [`inventory`]: the file-backed checker (the embedded default) and the demo inventory;
//! - [`http_checker`]: a checker that asks a back office over HTTP;
//! - [`signature`]: Commerce webhook signature verification (and a `test-util` signer);
//! - [`service`]: [`CheckStockService`], the flow; [`router()`]: its axum route;
//! - [`error`]: [`CheckStockError`], every non-success answer in one place.
//!
//! ```
//! use std::sync::Arc;
//! use commerce_kit_webhook::{CheckStockService, StockVerdict, checker_fn, router};
//!
//! let checker = checker_fn(|request| async move {
//!     Ok(if request.items.iter().all(|item| item.qty.get() <= 5.0) {
//!         StockVerdict::Available
//!     } else {
//!         StockVerdict::unavailable("At most 5 of each product")
//!     })
//! });
//! let app = commerce_kit_core::server::app(router(CheckStockService::new(Arc::new(checker))));
//! # let _ = app;
//! ```
#![deny(missing_docs)]

pub mod checker;
pub mod error;
pub mod http_checker;
pub mod inventory;
pub mod request;
pub mod router;
pub mod service;
pub mod signature;
pub mod validate;

pub use checker::{CheckerError, FnChecker, StockChecker, StockVerdict, checker_fn};
pub use error::CheckStockError;
pub use request::{CartItem, CheckStockRequest, Id, Quantity};
pub use router::{CHECK_STOCK_PATH, direct_app, router};
pub use service::CheckStockService;
