//! The axum adapter: `GET /events` and `POST /events`.

use std::collections::HashMap;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use commerce_kit_core::body::read_limited;
use commerce_kit_core::http::error_response;
use http::{HeaderMap, StatusCode, header};

use super::{Delivery, DeliveryResponse, ResponseBody, body_error};

/// `GET|POST /events` over `delivery`. No fallback and no `/health`: wrap it
/// with `commerce_kit_core::server::app` (binaries do), or merge it into your app.
///
/// ```
/// use std::sync::Arc;
/// use commerce_kit_events::{router, Consumer, Delivery, DeliveryOptions, MemoryStore};
///
/// let consumer = Consumer::builder(Arc::new(MemoryStore::new())).build()?;
/// let options = DeliveryOptions::adobe("4f8a1c2e-client-id")?;
/// let app: axum::Router = router(Delivery::new(consumer, options));
/// # let _ = app;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn router(delivery: Delivery) -> Router {
    Router::new()
        .route("/events", get(get_events).post(post_events))
        .with_state(delivery)
}

async fn get_events(
    State(delivery): State<Delivery>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    match query {
        Ok(Query(params)) => delivery
            .get(params.get("challenge").map(String::as_str), &headers)
            .into_response(),
        Err(e) => error_response(
            StatusCode::BAD_REQUEST,
            format!("invalid query string: {}", e.body_text()),
        ),
    }
}

async fn post_events(State(delivery): State<Delivery>, headers: HeaderMap, body: Body) -> Response {
    match read_limited(body, delivery.options().body_limit).await {
        Ok(bytes) => delivery.post(&headers, bytes).await.into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "events delivery body rejected");
            body_error(&e).into_response()
        }
    }
}

impl IntoResponse for DeliveryResponse {
    fn into_response(self) -> Response {
        match self.body {
            ResponseBody::Json(v) => (self.status, axum::Json(v)).into_response(),
            ResponseBody::Text(t) => (
                self.status,
                [
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                ],
                t,
            )
                .into_response(),
        }
    }
}
