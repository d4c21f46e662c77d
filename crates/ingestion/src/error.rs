//! The ingestion webhook's one error type and its status mapping.

use axum::response::{IntoResponse, Response};
use commerce_kit_core::body::BodyError;
use commerce_kit_core::http::error_response;
use commerce_kit_model::catalog::ValueError;
use http::StatusCode;

use crate::auth::AuthError;
use crate::payload::PayloadError;
use crate::publisher::PublishError;

/// Why an ingestion request failed. `Display` is the exact client-facing
/// message (`{"error": "<message>"}`); [`status`](Self::status) is the one place
/// statuses are decided.
#[derive(Debug, thiserror::Error)]
pub enum IngestionError {
    /// Authentication failed. → 401
    #[error(transparent)]
    Unauthorized(#[from] AuthError),
    /// The body is too large (413), empty or not JSON (400).
    #[error(transparent)]
    Body(#[from] BodyError),
    /// Required parameters missing or of the wrong type. → 400
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// Unknown event, or a value that fails the event's schema. → 400
    #[error(transparent)]
    Catalog(#[from] ValueError),
    /// The same `uid` is being published right now by another request. → 503
    #[error("event '{uid}' of type '{event}' is being published by another request; retry shortly")]
    InFlight {
        /// The event's uid.
        uid: String,
        /// The event code.
        event: String,
    },
    /// Publishing failed. → 502, 503, or 500 for a bug
    #[error(transparent)]
    Publish(#[from] PublishError),
}

impl IngestionError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            IngestionError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            IngestionError::Body(err) => err.status(),
            IngestionError::Payload(_) | IngestionError::Catalog(_) => StatusCode::BAD_REQUEST,
            IngestionError::InFlight { .. } => StatusCode::SERVICE_UNAVAILABLE,
            IngestionError::Publish(PublishError::Rejected(_)) => StatusCode::BAD_GATEWAY,
            IngestionError::Publish(PublishError::Unavailable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            IngestionError::Publish(PublishError::Internal(_)) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A short label for logs and metrics.
    pub fn outcome(&self) -> &'static str {
        match self {
            IngestionError::Unauthorized(_) => "unauthorized",
            IngestionError::Body(BodyError::TooLarge { .. }) => "too_large",
            IngestionError::Body(BodyError::TimedOut { .. }) => "body_timeout",
            IngestionError::Body(_) => "bad_body",
            IngestionError::Payload(_) => "invalid_payload",
            IngestionError::Catalog(ValueError::UnknownEvent(_)) => "unknown_event",
            IngestionError::Catalog(_) => "invalid_value",
            IngestionError::InFlight { .. } => "in_flight",
            IngestionError::Publish(PublishError::Rejected(_)) => "upstream_rejected",
            IngestionError::Publish(PublishError::Unavailable(_)) => "upstream_unavailable",
            IngestionError::Publish(PublishError::Internal(_)) => "internal_error",
        }
    }
}

impl IntoResponse for IngestionError {
    fn into_response(self) -> Response {
        error_response(self.status(), self.to_string())
    }
}
