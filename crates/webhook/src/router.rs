//! The axum adapter: `POST /webhook/check-stock` (the starter kit's action name).
//!
//! Only the flow's route: no fallback, no `/health` (wrap it with
//! [`server::app`], or merge it into your own app).
//!
//! ```
//! use axum::{Router, routing::get};
//! use commerce_kit_webhook::{CheckStockService, InventoryChecker, router};
//!
//! let service = CheckStockService::new(InventoryChecker::demo());
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "my shop integration" }))
//!     .merge(router(service));
//! ```

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::routing::post;
use commerce_kit_core::server;
use http::Method;

use crate::request::CHECK_STOCK_PATH;
use crate::service::CheckStockService;

/// `POST /webhook/check-stock` served by `service`.
pub fn router(service: impl Into<Arc<CheckStockService>>) -> Router {
    Router::new()
        .route(CHECK_STOCK_PATH, post(check_stock))
        .with_state(service.into())
}

/// A complete app, ready for [`server::serve`]: `POST /webhook/check-stock`
/// served directly, without the router's per-request work (see
/// [`server::app_direct`]), and `others` (other flows' routes) plus
/// `GET /health` and the JSON 404/405 fallbacks, all with request ids, spans
/// and the panic guard. Answers exactly as `server::app(router(service).merge(others))`;
/// check-stock requests get no `request` span, their log lines name the
/// request id as a `request_id` field instead (see
/// [`CheckStockService::handle_unspanned`]).
///
/// ```no_run
/// use axum::Router;
/// use commerce_kit_webhook::{CheckStockService, InventoryChecker, direct_app, server};
///
/// # async fn run() -> std::io::Result<()> {
/// let service = CheckStockService::new(InventoryChecker::demo());
/// let listener = server::bind("127.0.0.1:0".parse().unwrap()).await?;
/// let app = direct_app(service, Router::new());
/// server::serve(listener, app, server::shutdown_signal(), std::time::Duration::from_secs(30)).await
/// # }
/// ```
pub fn direct_app(service: impl Into<Arc<CheckStockService>>, others: Router) -> impl server::HttpApp {
    let service = service.into();
    let routes = router(Arc::clone(&service)).merge(others);
    let handler = move |request: Request| {
        let service = Arc::clone(&service);
        async move { service.handle_unspanned(request).await }
    };
    server::app_direct(routes, Method::POST, CHECK_STOCK_PATH, handler)
}

async fn check_stock(State(service): State<Arc<CheckStockService>>, request: Request) -> Response {
    service.handle(request).await
}
