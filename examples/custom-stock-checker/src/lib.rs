//! A custom [`StockChecker`] that asks a back office's REST API, and an axum
//! app that mounts the check-stock route next to its own routes.
//!
//! The back office (yours) answers `GET {base}/stock/{sku}` with
//! `{"sku": "24-MB01", "salable_qty": 3}`, or 404 for an unknown SKU.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use commerce_kit_webhook::http_checker::{ClientTimeouts, client};
use commerce_kit_webhook::{
    CheckStockRequest, CheckStockService, CheckerError, StockChecker, StockVerdict, async_trait, router,
};
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
        let base = reqwest::Url::parse(base).map_err(|e| format!("bad back-office URL: {e}"))?;
        if base.cannot_be_a_base() {
            return Err(CheckerError::new("bad back-office URL: it cannot have a path"));
        }
        let timeouts = ClientTimeouts {
            connect: Duration::from_millis(500),
            request: Duration::from_millis(1500),
        };
        Ok(Self {
            client: client(timeouts)?,
            base,
        })
    }

    /// Salable quantity of one SKU; an unknown SKU (404) has none.
    ///
    /// Every failure goes up with `?`: a connection or a timeout, a status
    /// other than 2xx and 404, a body that is not a stock record. The shopper
    /// gets a generic message; the log names the URL (without its query or
    /// credentials) and what went wrong, e.g. `HTTP request to
    /// http://erp.internal:9000/stock/24-MB01 answered 500 Internal Server Error`.
    async fn salable(&self, sku: &str) -> Result<f64, CheckerError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| "bad back-office URL: it cannot have a path")?
            .pop_if_empty()
            .extend(["stock", sku]);
        let response = self.client.get(url).send().await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(0.0);
        }
        let stock: Stock = response.error_for_status()?.json().await?;
        Ok(stock.salable_qty)
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
    let service = CheckStockService::new(checker).with_deadline(Duration::from_secs(2));
    Ok(Router::new()
        .route("/", get(|| async { "my shop integration" }))
        .route("/version", get(|| async { env!("CARGO_PKG_VERSION") }))
        .merge(router(service)))
}
