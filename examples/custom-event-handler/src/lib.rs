//! A custom [`EventHandler`] that keeps an ERP's stock in step with the back
//! office's `be-observer.catalog_stock_update` events, and an axum app that
//! mounts the events endpoint (`GET|POST /events`) next to its own routes.
//!
//! The event's data is the back office's list of per-source quantities,
//! `[{"sku","source","quantity","outOfStock"}, …]`. The handler adds them up
//! per SKU and sends each total to the ERP (yours) as
//! `PUT {base}/stock/{sku}` with `{"sku":…,"quantity":…,"in_stock":…}`.
//!
//! What the handler answers decides what happens to the event:
//! - 200 when the ERP took every SKU;
//! - 400 when the event's data is not a stock update (the typed payload names
//!   the field), or the ERP refused a record (4xx): sending it again would not
//!   help, so it is not retried;
//! - 503 when the ERP failed (5xx) or could not be reached (`?` on the
//!   `reqwest` error): Adobe I/O Events (or the local-bus loop) delivers the
//!   event again later. Writes are `PUT`s of totals, so a redelivery after a
//!   partial failure is harmless.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use commerce_kit_events::{
    CloudEvent, Consumer, Delivery, DeliveryOptions, EventContext, EventHandler, HandlerError, HandlerResult,
    MemoryStore, async_trait,
};
use serde::{Deserialize, Serialize};

/// The event this handler is registered for.
pub const STOCK_UPDATE: &str = "be-observer.catalog_stock_update";

/// One source's quantity of a SKU, as the back office sends it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SourceQuantity {
    sku: String,
    quantity: f64,
    #[serde(default)]
    out_of_stock: bool,
}

/// What the ERP receives for one SKU.
#[derive(Debug, PartialEq, Serialize)]
struct ErpStock<'a> {
    sku: &'a str,
    quantity: f64,
    in_stock: bool,
}

/// Sums the sources per SKU, in first-seen order. A source flagged out of
/// stock adds nothing.
fn totals(sources: &[SourceQuantity]) -> Vec<ErpStock<'_>> {
    let mut totals: Vec<ErpStock<'_>> = Vec::new();
    for source in sources {
        let quantity = if source.out_of_stock { 0.0 } else { source.quantity };
        match totals.iter_mut().find(|t| t.sku == source.sku) {
            Some(total) => total.quantity += quantity,
            None => totals.push(ErpStock {
                sku: &source.sku,
                quantity,
                in_stock: false,
            }),
        }
    }
    for total in &mut totals {
        total.in_stock = total.quantity > 0.0;
    }
    totals
}

/// Pushes stock totals to the ERP's REST API.
pub struct ErpStockSync {
    client: reqwest::Client,
    base: reqwest::Url,
}

impl ErpStockSync {
    /// A handler for the ERP at `base` (e.g. `http://erp.internal:9000`).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let base = reqwest::Url::parse(base).map_err(|e| anyhow::anyhow!("bad ERP URL {base:?}: {e}"))?;
        if base.cannot_be_a_base() {
            anyhow::bail!("bad ERP URL {base}: it cannot have a path");
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(500))
            .timeout(Duration::from_secs(2))
            .build()?;
        Ok(Self { client, base })
    }

    /// Sends one total; on failure, the error answered for the whole event.
    async fn put(&self, stock: &ErpStock<'_>) -> Result<(), HandlerError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| HandlerError::internal("ERP URL cannot have a path"))?
            .pop_if_empty()
            .extend(["stock", stock.sku]);
        // Unreachable or too slow: 503, retried (the message shows no query string).
        let response = self.client.put(url).json(stock).send().await?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status if status.is_client_error() => Err(HandlerError::rejected(format!(
                "ERP refused the stock of {} (HTTP {status})",
                stock.sku
            ))),
            status => Err(HandlerError::retryable(format!(
                "ERP failed on the stock of {} (HTTP {status})",
                stock.sku
            ))),
        }
    }
}

#[async_trait]
impl EventHandler for ErpStockSync {
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> Result<HandlerResult, HandlerError> {
        // Not a list of source quantities: 400 naming the field, e.g.
        // "invalid parameter 'data[0].quantity': invalid type: string \"two\", expected f64".
        let sources: Vec<SourceQuantity> = ctx.payload_as(&event)?;
        let totals = totals(&sources);
        for stock in &totals {
            self.put(stock).await?;
        }
        let skus: Vec<&str> = totals.iter().map(|t| t.sku).collect();
        Ok(HandlerResult::success(format!(
            "stock of {} SKU(s) sent to the ERP: {}",
            skus.len(),
            skus.join(", ")
        )))
    }
}

/// Your own app: your routes, plus `GET|POST /events` from commerce-kit with
/// [`ErpStockSync`] registered for [`STOCK_UPDATE`].
///
/// Deliveries are not signature-checked here ([`DeliveryOptions::unsigned`],
/// which logs a warning); in production use [`DeliveryOptions::adobe`] with
/// your project's client id so only Adobe I/O Events can post, and give the
/// consumer a shared [`StateStore`](commerce_kit_events::StateStore) (Redis)
/// when several replicas run, so a redelivery handled by one is known to the
/// others.
pub fn app(erp: &str) -> anyhow::Result<Router> {
    let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
        .on(STOCK_UPDATE, ErpStockSync::new(erp)?)
        .build()?;
    let delivery = Delivery::new(consumer, DeliveryOptions::unsigned());
    Ok(Router::new()
        .route("/", get(|| async { "my ERP integration" }))
        .merge(commerce_kit_events::router(delivery)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_add_sources_per_sku_and_ignore_out_of_stock_ones() {
        let sources: Vec<SourceQuantity> = serde_json::from_value(serde_json::json!([
            {"sku": "A", "source": "default", "quantity": 5, "outOfStock": true},
            {"sku": "B", "source": "default", "quantity": 0},
            {"sku": "A", "source": "store-2", "quantity": 3, "outOfStock": false},
            {"sku": "A", "source": "store-3", "quantity": 1.5}
        ]))
        .expect("sources");
        assert_eq!(
            totals(&sources),
            vec![
                ErpStock {
                    sku: "A",
                    quantity: 4.5,
                    in_stock: true
                },
                ErpStock {
                    sku: "B",
                    quantity: 0.0,
                    in_stock: false
                },
            ]
        );
    }

    #[test]
    fn an_erp_url_must_be_a_url() {
        let err = ErpStockSync::new("not a url").err().expect("refused");
        assert!(err.to_string().starts_with("bad ERP URL \"not a url\""), "{err}");
        assert!(ErpStockSync::new("mailto:erp@example.com").is_err());
    }
}
