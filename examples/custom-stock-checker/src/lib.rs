//! A custom [`StockChecker`] that asks a back office's REST API, and an axum
//! app that mounts the check-stock route next to its own routes.
//!
//! The back office (yours) answers `GET {base}/stock/{sku}` with
//! `{"sku": "24-MB01", "salable_qty": 3}`, or 404 for an unknown SKU.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use commerce_kit_core::async_trait;
use commerce_kit_core::http::{ClientTimeouts, client};
use commerce_kit_webhook::{CheckStockRequest, CheckStockService, CheckerError, StockChecker, StockVerdict, router};
use futures_util::future::try_join_all;
use serde::Deserialize;

/// Asks the back office for each SKU's salable quantity, concurrently.
pub struct BackOfficeStock {
    client: reqwest::Client,
    base: reqwest::Url,
}

#[derive(Deserialize)]
struct Stock {
    salable_qty: f64,
}

impl BackOfficeStock {
    /// A checker for the back office at `base` (e.g. `http://erp.internal:9000`).
    pub fn new(base: &str) -> Result<Self, CheckerError> {
        let base = reqwest::Url::parse(base).map_err(|e| CheckerError::new(format!("bad back-office URL: {e}")))?;
        let timeouts = ClientTimeouts {
            connect: Duration::from_millis(500),
            request: Duration::from_millis(1500),
        };
        let client = client(timeouts).map_err(|e| CheckerError::new(e.to_string()))?;
        Ok(Self { client, base })
    }

    /// Salable quantity of one SKU; an unknown SKU (404) has none.
    async fn salable(&self, sku: &str) -> Result<f64, CheckerError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| CheckerError::new("back-office URL cannot have a path"))?
            .pop_if_empty()
            .extend(["stock", sku]);
        let response = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| CheckerError::new(format!("back office unreachable for {sku}: {e}")))?;
        match response.status() {
            reqwest::StatusCode::NOT_FOUND => Ok(0.0),
            status if status.is_success() => response
                .json::<Stock>()
                .await
                .map(|stock| stock.salable_qty)
                .map_err(|e| CheckerError::new(format!("back office sent a bad stock record for {sku}: {e}"))),
            status => Err(CheckerError::new(format!(
                "back office answered HTTP {status} for {sku}"
            ))),
        }
    }
}

#[async_trait]
impl StockChecker for BackOfficeStock {
    async fn check(&self, request: &CheckStockRequest) -> Result<StockVerdict, CheckerError> {
        // Sum the quantities per SKU, keeping the cart's order.
        let mut wanted: Vec<(&str, f64)> = Vec::new();
        for item in &request.items {
            match wanted.iter_mut().find(|(sku, _)| *sku == item.sku) {
                Some((_, qty)) => *qty += item.qty.get(),
                None => wanted.push((&item.sku, item.qty.get())),
            }
        }
        let salable = try_join_all(wanted.iter().map(|(sku, _)| self.salable(sku))).await?;
        let short: Vec<String> = wanted
            .iter()
            .zip(salable)
            .filter(|((_, qty), available)| qty > available)
            .map(|((sku, _), available)| format!("only {available} left of {sku}"))
            .collect();
        if short.is_empty() {
            Ok(StockVerdict::Available)
        } else {
            Ok(StockVerdict::unavailable(format!("Sorry, {}", short.join(", "))))
        }
    }

    fn name(&self) -> &str {
        "back-office-rest"
    }
}

/// Your own app: your routes, plus `POST /webhook/check-stock` from commerce-kit.
pub fn app(back_office: &str) -> Result<Router, CheckerError> {
    let checker = BackOfficeStock::new(back_office)?;
    let service = CheckStockService::new(Arc::new(checker)).with_deadline(Duration::from_secs(2));
    Ok(Router::new()
        .route("/", get(|| async { "my shop integration" }))
        .route("/version", get(|| async { env!("CARGO_PKG_VERSION") }))
        .merge(router(service)))
}
