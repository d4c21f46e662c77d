//! The thin axum adapter: `POST /ingestion/webhook`.

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use commerce_kit_core::body::read_limited;
use http::HeaderMap;

use crate::error::IngestionError;
use crate::service::{IngestionService, log_outcome};

/// The route path, as the starter kit's action name.
pub const WEBHOOK_PATH: &str = "/ingestion/webhook";

/// `POST /ingestion/webhook` only (no fallback, no health: wrap it with
/// [`commerce_kit_core::server::app`] or mount it in your own app).
pub fn router(service: IngestionService) -> Router {
    Router::new().route(WEBHOOK_PATH, post(webhook)).with_state(service)
}

async fn webhook(State(service): State<IngestionService>, headers: HeaderMap, body: Body) -> Response {
    let started = Instant::now();
    let bytes = match read_limited(body, service.body_limit()).await {
        Ok(bytes) => bytes,
        Err(err) => {
            let result = Err(IngestionError::Body(err));
            log_outcome(&result, started);
            return result.into_response();
        }
    };
    service.handle(&headers, &bytes).await.into_response()
}
