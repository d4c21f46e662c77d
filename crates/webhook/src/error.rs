//! Every way a check-stock call can end other than `{"op":"success"}`, and the
//! one place each maps to its HTTP answer.
//!
//! | variant | HTTP | body |
//! |---|---|---|
//! | [`Body`](CheckStockError::Body), [`Invalid`](CheckStockError::Invalid) | 200 | `{"op":"exception","message":<the precise problem>}` |
//! | [`Unavailable`](CheckStockError::Unavailable) | 200 | `{"op":"exception","message":<the checker's message>}` |
//! | [`Checker`](CheckStockError::Checker), [`Timeout`](CheckStockError::Timeout), [`Panicked`](CheckStockError::Panicked) | 200 | `{"op":"exception","message":<a generic message>}` (details only in the log) |
//! | [`Signature`](CheckStockError::Signature) | 401 | `{"error":"missing …"}` / `{"error":"invalid …"}` |
//!
//! An exception's message is at most [`MAX_MESSAGE_BYTES`] (1024) bytes: a
//! longer one is cut and ends with `…` ([`bounded_message`]).

use std::time::Duration;

use axum::response::{IntoResponse, Response};
use commerce_kit_core::body::BodyError;
use commerce_kit_core::http::error_response;
use commerce_kit_core::op::Operation;
use http::StatusCode;

use crate::checker::CheckerError;
use crate::response::operation_response;
use crate::signature::SignatureFailure;
use crate::validate::{RejectedBody, ValidationError};

/// Shopper-facing message when the checker failed.
pub const CHECKER_FAILED_MESSAGE: &str = "Stock could not be checked right now. Please try again later.";
/// Shopper-facing message when the checker missed its deadline.
pub const CHECKER_TIMEOUT_MESSAGE: &str = "Stock check took too long. Please try again later.";
/// Shopper-facing message when the checker panicked.
pub const CHECKER_PANIC_MESSAGE: &str =
    "Stock could not be checked because of an internal error. Please try again later.";

/// The longest message answered in an exception op, in bytes: 1024. A longer
/// one (a checker's message naming hundreds of SKUs, a back office's answer)
/// is cut at the last character boundary that leaves room for `…`, which
/// ends it, so the message is at most 1024 bytes in all. Commerce shows it to
/// the shopper, who has no use for more, and a client's text cannot make the
/// answer (or the log line, which holds the same message) grow with it.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// The ellipsis that ends a cut message.
const ELLIPSIS: &str = "…";

/// `message` as answered: unchanged up to [`MAX_MESSAGE_BYTES`], else cut with `…`.
///
/// ```
/// use commerce_kit_webhook::error::{MAX_MESSAGE_BYTES, bounded_message};
///
/// assert_eq!(bounded_message("Not enough stock: A"), "Not enough stock: A");
/// let long = "é".repeat(600);
/// let cut = bounded_message(&long);
/// assert!(cut.len() <= MAX_MESSAGE_BYTES && cut.ends_with('…'));
/// assert_eq!(cut, format!("{}…", "é".repeat(510)));
/// ```
pub fn bounded_message(message: &str) -> std::borrow::Cow<'_, str> {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message.into();
    }
    let mut end = MAX_MESSAGE_BYTES - ELLIPSIS.len();
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{ELLIPSIS}", &message[..end]).into()
}

/// Why a check-stock call did not answer `{"op":"success"}`.
/// `Display` is the exact message the client receives.
#[derive(Debug, thiserror::Error)]
pub enum CheckStockError {
    /// The body could not be read or is not JSON (too large, empty, invalid).
    #[error(transparent)]
    Body(#[from] BodyError),
    /// The JSON does not match the check-stock contract.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The checker says some items are not available. Shown (and answered)
    /// through [`bounded_message`]: at most [`MAX_MESSAGE_BYTES`].
    #[error("{}", bounded_message(.0))]
    Unavailable(String),
    /// The checker failed; the detail is logged, not sent.
    #[error("{CHECKER_FAILED_MESSAGE}")]
    Checker(#[source] CheckerError),
    /// The checker did not answer within the deadline.
    #[error("{CHECKER_TIMEOUT_MESSAGE}")]
    Timeout(Duration),
    /// The checker panicked; the panic text is logged, not sent.
    #[error("{CHECKER_PANIC_MESSAGE}")]
    Panicked(String),
    /// The Commerce signature is missing or wrong (only when a key is configured).
    #[error(transparent)]
    Signature(#[from] SignatureFailure),
}

impl CheckStockError {
    /// The HTTP status: 401 for signature failures, 200 (with an exception op) otherwise.
    pub fn status(&self) -> StatusCode {
        match self {
            CheckStockError::Signature(_) => StatusCode::UNAUTHORIZED,
            _ => StatusCode::OK,
        }
    }

    /// Short reason category for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            CheckStockError::Body(BodyError::TooLarge { .. }) => "body_too_large",
            CheckStockError::Body(BodyError::Empty) => "empty_body",
            CheckStockError::Body(BodyError::InvalidJson { .. }) => "invalid_json",
            CheckStockError::Body(BodyError::Read(_)) => "body_read_failed",
            CheckStockError::Body(BodyError::TimedOut { .. }) => "body_timeout",
            CheckStockError::Invalid(_) => "invalid_request",
            CheckStockError::Unavailable(_) => "out_of_stock",
            CheckStockError::Checker(_) => "checker_error",
            CheckStockError::Timeout(_) => "checker_timeout",
            CheckStockError::Panicked(_) => "checker_panic",
            CheckStockError::Signature(SignatureFailure::Missing) => "signature_missing",
            CheckStockError::Signature(SignatureFailure::Invalid(_)) => "signature_invalid",
        }
    }

    /// The Commerce operation answered with HTTP 200, or `None` for a 401.
    pub fn operation(&self) -> Option<Operation> {
        match self {
            CheckStockError::Signature(_) => None,
            other => Some(Operation::exception(bounded_message(&other.to_string()).into_owned())),
        }
    }
}

impl From<RejectedBody> for CheckStockError {
    fn from(rejected: RejectedBody) -> Self {
        match rejected {
            RejectedBody::Body(err) => CheckStockError::Body(err),
            RejectedBody::Invalid(err) => CheckStockError::Invalid(err),
        }
    }
}

impl IntoResponse for CheckStockError {
    fn into_response(self) -> Response {
        match self.operation() {
            Some(op) => operation_response(&op),
            None => error_response(self.status(), self.to_string()),
        }
    }
}
