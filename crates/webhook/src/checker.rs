//! The [`StockChecker`] trait: the one thing an integrator plugs in.
//!
//! A checker answers [`StockVerdict::Available`], [`StockVerdict::Unavailable`]
//! with a message the shopper sees, or a [`CheckerError`] (logged; the shopper
//! sees a generic message). The service runs it with a deadline and a panic guard.
//!
//! ```
//! use commerce_kit_webhook::{CheckStockRequest, CheckerError, StockChecker, StockVerdict};
//! use commerce_kit_core::async_trait;
//!
//! struct NoBags;
//!
//! #[async_trait]
//! impl StockChecker for NoBags {
//!     async fn check(&self, request: &CheckStockRequest) -> Result<StockVerdict, CheckerError> {
//!         match request.items.iter().find(|item| item.sku.ends_with("-MB01")) {
//!             Some(item) => Ok(StockVerdict::unavailable(format!("{} is sold out", item.sku))),
//!             None => Ok(StockVerdict::Available),
//!         }
//!     }
//! }
//! ```
//!
//! A closure works too, through [`checker_fn`]:
//!
//! ```
//! use commerce_kit_webhook::{checker_fn, StockChecker, StockVerdict};
//!
//! let checker = checker_fn(|request| async move {
//!     if request.items.len() > 10 {
//!         Ok(StockVerdict::unavailable("At most 10 different products per order"))
//!     } else {
//!         Ok(StockVerdict::Available)
//!     }
//! });
//! let _shared: std::sync::Arc<dyn StockChecker> = std::sync::Arc::new(checker);
//! ```

use std::future::Future;

use commerce_kit_core::async_trait;

use crate::request::CheckStockRequest;

/// What a checker decided about a cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockVerdict {
    /// Every item can be added: Commerce carries on (`{"op":"success"}`).
    Available,
    /// Something is short: Commerce aborts and shows `message` to the shopper.
    Unavailable {
        /// Shopper-facing explanation, e.g. `24-MB01: requested 3, available 2`.
        message: String,
    },
}

impl StockVerdict {
    /// [`StockVerdict::Unavailable`] with a shopper-facing message.
    pub fn unavailable(message: impl Into<String>) -> Self {
        StockVerdict::Unavailable {
            message: message.into(),
        }
    }
}

/// A checker could not decide (back office down, bad answer, …).
///
/// The message is for the logs (operators), never shown to the shopper; keep
/// secrets out of it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CheckerError(pub String);

impl CheckerError {
    /// An error with an operator-facing message.
    pub fn new(message: impl Into<String>) -> Self {
        CheckerError(message.into())
    }
}

/// Decides whether the items of a cart are in stock.
///
/// Object-safe (`Arc<dyn StockChecker>`), `Send + Sync`; one required method.
#[async_trait]
pub trait StockChecker: Send + Sync {
    /// Checks the whole request.
    async fn check(&self, request: &CheckStockRequest) -> Result<StockVerdict, CheckerError>;

    /// Answers at once, without waiting for anything, when the checker can (an
    /// in-memory lookup such as the inventory checker's); `None`, the default,
    /// means "call [`check`](StockChecker::check)".
    ///
    /// The service tries this first and, on `Some`, answers without giving the
    /// checker a task and a deadline of its own (a panic here is still caught).
    /// So it must never block or do I/O: a checker that talks to anything
    /// answers `None` and does its work in `check`.
    fn check_now(&self, request: &CheckStockRequest) -> Option<Result<StockVerdict, CheckerError>> {
        let _ = request;
        None
    }

    /// Short name for logs (e.g. `inventory`, `http`). Defaults to `custom`.
    fn name(&self) -> &str {
        "custom"
    }

    /// Re-reads the checker's source (called on SIGHUP). `Ok(Some(summary))`
    /// after a reload, `Ok(None)` when there is nothing to reload (the default).
    /// On error the checker must keep its previous state.
    fn reload(&self) -> Result<Option<String>, CheckerError> {
        Ok(None)
    }
}

/// A [`StockChecker`] made from an async closure; see [`checker_fn`].
pub struct FnChecker<F> {
    f: F,
}

/// Turns `Fn(CheckStockRequest) -> impl Future<Output = Result<StockVerdict, CheckerError>>`
/// into a [`StockChecker`]. The closure receives its own copy of the request.
pub fn checker_fn<F, Fut>(f: F) -> FnChecker<F>
where
    F: Fn(CheckStockRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Result<StockVerdict, CheckerError>> + Send,
{
    FnChecker { f }
}

#[async_trait]
impl<F, Fut> StockChecker for FnChecker<F>
where
    F: Fn(CheckStockRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Result<StockVerdict, CheckerError>> + Send,
{
    async fn check(&self, request: &CheckStockRequest) -> Result<StockVerdict, CheckerError> {
        (self.f)(request.clone()).await
    }

    fn name(&self) -> &str {
        "closure"
    }
}

impl<F> std::fmt::Debug for FnChecker<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnChecker(..)")
    }
}
