//! The axum adapter: `POST /webhook/check-stock` (the starter kit's action name).
//!
//! Only the flow's route: no fallback, no `/health` (wrap it with
//! [`commerce_kit_core::server::app`], or merge it into your own app).
//!
//! ```
//! use std::sync::Arc;
//! use axum::{Router, routing::get};
//! use commerce_kit_webhook::{CheckStockService, inventory::InventoryChecker, router};
//!
//! let service = CheckStockService::new(Arc::new(InventoryChecker::demo()));
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "my shop integration" }))
//!     .merge(router(service));
//! ```

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::post;

use crate::service::CheckStockService;

/// The path Commerce calls.
pub const CHECK_STOCK_PATH: &str = "/webhook/check-stock";

/// `POST /webhook/check-stock` served by `service`.
pub fn router(service: CheckStockService) -> Router {
    Router::new()
        .route(CHECK_STOCK_PATH, post(check_stock))
        .with_state(Arc::new(service))
}

async fn check_stock(State(service): State<Arc<CheckStockService>>, request: Request) -> Response {
    service.handle(request).await
}
