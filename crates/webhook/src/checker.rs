//! The [`StockChecker`] trait: the one thing an integrator plugs in.
//!
//! A checker answers [`StockVerdict::Available`], [`StockVerdict::Unavailable`]
//! with a message the shopper sees, or a [`CheckerError`] (logged; the shopper
//! sees a generic message). The service runs it with a deadline and a panic guard.
//!
//! ```
//! use commerce_kit_webhook::{async_trait, CheckStockRequest, CheckerError, StockChecker, StockVerdict};
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
//! A checker's failures are [`CheckerError`]s, and the errors a checker
//! usually meets (`reqwest`, `std::io`, `serde_json`, a `tokio` timeout, a
//! joined task) convert into one, so its body can use `?`:
//!
//! ```
//! use commerce_kit_webhook::{async_trait, CheckStockRequest, CheckerError, StockChecker, StockVerdict};
//!
//! /// Reads the SKUs on sale from a file on every call.
//! struct OnSaleFile(std::path::PathBuf);
//!
//! #[async_trait]
//! impl StockChecker for OnSaleFile {
//!     async fn check(&self, request: &CheckStockRequest) -> Result<StockVerdict, CheckerError> {
//!         let text = tokio::fs::read_to_string(&self.0).await?; // std::io::Error
//!         let on_sale: Vec<String> = serde_json::from_str(&text)?; // serde_json::Error
//!         Ok(match request.items.iter().find(|item| !on_sale.contains(&item.sku)) {
//!             Some(item) => StockVerdict::unavailable(format!("{} is not sold here", item.sku)),
//!             None => StockVerdict::Available,
//!         })
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
//!
//! `Arc<T>` and `Box<T>` of a checker (`T` may be `dyn StockChecker`) are
//! checkers as well, which forward every call to `T`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;

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
/// The message is for the logs (operators), never shown to the shopper, who
/// gets a generic message; keep secrets out of it.
///
/// The errors a checker usually meets convert into it with `From`, so `?`
/// works in [`StockChecker::check`]: [`reqwest::Error`] (its URL shown without
/// credentials, query or fragment), [`std::io::Error`], [`serde_json::Error`],
/// [`tokio::time::error::Elapsed`], [`tokio::task::JoinError`], the HTTP client
/// builder's [`ClientBuildError`](commerce_kit_core::http::ClientBuildError),
/// and a plain `String` or `&str` message. Each becomes a message naming what
/// failed and why:
///
/// ```
/// use commerce_kit_webhook::CheckerError;
///
/// fn read_limits() -> Result<u32, CheckerError> {
///     let text = std::fs::read_to_string("/no/such/limits.json")?;
///     let limit: u32 = serde_json::from_str(&text)?;
///     Ok(limit)
/// }
///
/// let err = read_limits().unwrap_err();
/// assert!(err.to_string().starts_with("I/O error: "), "{err}");
///
/// let json: Result<u32, CheckerError> = serde_json::from_str("\"x\"").map_err(CheckerError::from);
/// assert_eq!(
///     json.unwrap_err().to_string(),
///     "unexpected JSON: invalid type: string \"x\", expected u32 at line 1 column 3"
/// );
///
/// let sku = None::<&str>.ok_or("the cart names no SKU");
/// assert_eq!(sku.map_err(CheckerError::from).unwrap_err(), CheckerError::new("the cart names no SKU"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CheckerError(pub String);

impl CheckerError {
    /// An error with an operator-facing message.
    pub fn new(message: impl Into<String>) -> Self {
        CheckerError(message.into())
    }
}

/// A request that failed: the message names the URL without credentials,
/// query or fragment, and the cause (the innermost error's text, which never
/// repeats the URL).
///
/// ```
/// use commerce_kit_webhook::CheckerError;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// // A port nothing listens on.
/// let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
/// let asked = async {
///     let response = reqwest::get(format!("http://user:pw@{closed}/stock/A?key=s3cret")).await?;
///     Ok::<_, CheckerError>(response.status())
/// };
/// let message = asked.await.unwrap_err().to_string();
/// assert!(message.starts_with(&format!("HTTP request to http://{closed}/stock/A could not connect: ")), "{message}");
/// assert!(!message.contains("s3cret") && !message.contains("pw"), "{message}");
/// # }
/// ```
///
/// A status turned into an error (`error_for_status`) reads
/// `HTTP request to http://erp.example/stock/A answered 503 Service Unavailable`;
/// a timeout, `HTTP request to … timed out`; a body that `json()` could not
/// decode, `HTTP request to … answered a body that could not be decoded: …`.
impl From<reqwest::Error> for CheckerError {
    fn from(err: reqwest::Error) -> Self {
        let target = match err.url() {
            Some(url) => format!("HTTP request to {}", shown_url(url)),
            None => "HTTP request".to_owned(),
        };
        let what = if err.is_timeout() {
            "timed out".to_owned()
        } else if let (true, Some(status)) = (err.is_status(), err.status()) {
            format!("answered {status}")
        } else if err.is_connect() {
            format!("could not connect: {}", root_cause(&err))
        } else if err.is_decode() {
            format!("answered a body that could not be decoded: {}", root_cause(&err))
        } else if err.is_builder() {
            format!("could not be built: {}", root_cause(&err))
        } else if err.is_redirect() {
            format!("failed on a redirect: {}", root_cause(&err))
        } else {
            format!("failed: {}", root_cause(&err))
        };
        CheckerError(format!("{target} {what}"))
    }
}

/// `I/O error: <the error>`.
///
/// ```
/// use commerce_kit_webhook::CheckerError;
///
/// let err = CheckerError::from(std::io::Error::other("disk on fire"));
/// assert_eq!(err.to_string(), "I/O error: disk on fire");
/// ```
impl From<std::io::Error> for CheckerError {
    fn from(err: std::io::Error) -> Self {
        CheckerError(format!("I/O error: {err}"))
    }
}

/// `invalid JSON: …` for a syntax error or a truncated text, `unexpected
/// JSON: …` for well-formed JSON of the wrong shape (or a value that cannot
/// be serialized), `JSON I/O error: …` when a reader or writer failed.
///
/// ```
/// use commerce_kit_webhook::CheckerError;
///
/// let syntax = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
/// assert_eq!(CheckerError::from(syntax).to_string(), "invalid JSON: EOF while parsing an object at line 1 column 1");
/// ```
impl From<serde_json::Error> for CheckerError {
    fn from(err: serde_json::Error) -> Self {
        use serde_json::error::Category;
        let what = match err.classify() {
            Category::Syntax | Category::Eof => "invalid JSON",
            Category::Data => "unexpected JSON",
            Category::Io => "JSON I/O error",
        };
        CheckerError(format!("{what}: {err}"))
    }
}

/// `timed out`, for a [`tokio::time::timeout`] of the checker's own (the
/// service's deadline needs none).
///
/// ```
/// use std::time::Duration;
/// use commerce_kit_webhook::CheckerError;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let slow = async {
///     tokio::time::timeout(Duration::from_millis(1), std::future::pending::<()>()).await?;
///     Ok::<_, CheckerError>(())
/// };
/// assert_eq!(slow.await, Err(CheckerError::new("timed out")));
/// # }
/// ```
impl From<tokio::time::error::Elapsed> for CheckerError {
    fn from(_: tokio::time::error::Elapsed) -> Self {
        CheckerError::new("timed out")
    }
}

/// `background task failed: <the task panicked / was cancelled…>`, for a task
/// the checker spawned (`tokio::task::spawn_blocking` around a blocking client,
/// say).
///
/// ```
/// use commerce_kit_webhook::CheckerError;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let joined = async {
///     let task = tokio::spawn(std::future::pending::<()>());
///     task.abort();
///     task.await?;
///     Ok::<_, CheckerError>(())
/// };
/// let message = joined.await.unwrap_err().to_string();
/// assert!(message.starts_with("background task failed: ") && message.ends_with("was cancelled"), "{message}");
/// # }
/// ```
impl From<tokio::task::JoinError> for CheckerError {
    fn from(err: tokio::task::JoinError) -> Self {
        CheckerError(format!("background task failed: {err}"))
    }
}

/// The HTTP client builder's error, as is.
///
/// ```
/// use commerce_kit_webhook::CheckerError;
/// use commerce_kit_webhook::http_checker::{client, default_timeouts};
///
/// fn build() -> Result<reqwest::Client, CheckerError> {
///     Ok(client(default_timeouts())?)
/// }
/// assert!(build().is_ok());
/// ```
impl From<commerce_kit_core::http::ClientBuildError> for CheckerError {
    fn from(err: commerce_kit_core::http::ClientBuildError) -> Self {
        CheckerError(err.to_string())
    }
}

/// The message, as is.
impl From<String> for CheckerError {
    fn from(message: String) -> Self {
        CheckerError(message)
    }
}

/// The message, as is.
impl From<&str> for CheckerError {
    fn from(message: &str) -> Self {
        CheckerError(message.to_owned())
    }
}

pub(crate) use commerce_kit_core::http::{root_cause, shown_url};

/// Decides whether the items of a cart are in stock.
///
/// Object-safe (`Arc<dyn StockChecker>`), `Send + Sync`; one required method.
/// Implement it with `#[async_trait]` (re-exported as
/// `commerce_kit_webhook::async_trait`). `Arc<T>` and `Box<T>` of a checker
/// are checkers too.
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

/// The boxed future [`StockChecker::check`] returns (what `#[async_trait]` makes of it).
type CheckFuture<'a> = Pin<Box<dyn Future<Output = Result<StockVerdict, CheckerError>> + Send + 'a>>;

/// Forwards every method to the pointee, without boxing `check`'s future again.
macro_rules! forward_stock_checker {
    ($pointer:ident) => {
        impl<T: StockChecker + ?Sized> StockChecker for $pointer<T> {
            fn check<'life0, 'life1, 'async_trait>(
                &'life0 self,
                request: &'life1 CheckStockRequest,
            ) -> CheckFuture<'async_trait>
            where
                'life0: 'async_trait,
                'life1: 'async_trait,
                Self: 'async_trait,
            {
                (**self).check(request)
            }

            fn check_now(&self, request: &CheckStockRequest) -> Option<Result<StockVerdict, CheckerError>> {
                (**self).check_now(request)
            }

            fn name(&self) -> &str {
                (**self).name()
            }

            fn reload(&self) -> Result<Option<String>, CheckerError> {
                (**self).reload()
            }
        }
    };
}

forward_stock_checker!(Arc);
forward_stock_checker!(Box);

impl<F> std::fmt::Debug for FnChecker<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnChecker(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers differently from every default, so forwarding shows.
    struct Distinct;

    #[async_trait]
    impl StockChecker for Distinct {
        async fn check(&self, _: &CheckStockRequest) -> Result<StockVerdict, CheckerError> {
            Ok(StockVerdict::unavailable("checked"))
        }

        fn check_now(&self, _: &CheckStockRequest) -> Option<Result<StockVerdict, CheckerError>> {
            Some(Err(CheckerError::new("now")))
        }

        fn name(&self) -> &str {
            "distinct"
        }

        fn reload(&self) -> Result<Option<String>, CheckerError> {
            Ok(Some("reloaded".to_owned()))
        }
    }

    async fn answers(checker: &dyn StockChecker) -> (String, StockVerdict, CheckerError, Option<String>) {
        let request = CheckStockRequest::new(1, Vec::new());
        (
            checker.name().to_owned(),
            checker.check(&request).await.expect("verdict"),
            checker.check_now(&request).expect("inline").expect_err("error"),
            checker.reload().expect("reload"),
        )
    }

    #[tokio::test]
    async fn arc_and_box_forward_every_method() {
        let direct = answers(&Distinct).await;
        assert_eq!(
            direct,
            (
                "distinct".to_owned(),
                StockVerdict::unavailable("checked"),
                CheckerError::new("now"),
                Some("reloaded".to_owned())
            )
        );
        let arc_dyn: Arc<dyn StockChecker> = Arc::new(Distinct);
        let box_dyn: Box<dyn StockChecker> = Box::new(Distinct);
        assert_eq!(answers(&Arc::new(Distinct)).await, direct);
        assert_eq!(answers(&arc_dyn).await, direct);
        assert_eq!(answers(&Box::new(Distinct)).await, direct);
        assert_eq!(answers(&box_dyn).await, direct);
        assert_eq!(answers(&Arc::new(Arc::clone(&arc_dyn))).await, direct);
    }
}
