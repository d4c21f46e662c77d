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
//! - 400 when the event's data is not a stock update, or the ERP refused a
//!   record (4xx): sending it again would not help, so it is not retried;
//! - 503 when the ERP failed (5xx) or could not be reached: Adobe I/O Events
//!   (or the local-bus loop) delivers the event again later. Writes are `PUT`s of
//!   totals, so a redelivery after a partial failure is harmless.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use commerce_kit_core::async_trait;
use commerce_kit_core::http::{ClientTimeouts, client};
use commerce_kit_core::state::MemoryStore;
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::consumer::Consumer;
use commerce_kit_events::delivery::{Delivery, DeliveryOptions};
use commerce_kit_events::handler::{EventContext, EventHandler, HandlerResult};
use http::StatusCode;
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
        let timeouts = ClientTimeouts {
            connect: Duration::from_millis(500),
            request: Duration::from_secs(2),
        };
        Ok(Self {
            client: client(timeouts)?,
            base,
        })
    }

    /// Sends one total; on failure, the result to answer for the whole event.
    async fn put(&self, stock: &ErpStock<'_>) -> Result<(), HandlerResult> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|_| HandlerResult::error(StatusCode::INTERNAL_SERVER_ERROR, "ERP URL cannot have a path"))?
            .pop_if_empty()
            .extend(["stock", stock.sku]);
        let response = self.client.put(url).json(stock).send().await.map_err(|e| {
            HandlerResult::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("ERP unreachable for {}: {e}", stock.sku),
            )
        })?;
        match response.status() {
            status if status.is_success() => Ok(()),
            status if status.is_client_error() => Err(HandlerResult::error(
                StatusCode::BAD_REQUEST,
                format!("ERP refused the stock of {} (HTTP {status})", stock.sku),
            )),
            status => Err(HandlerResult::error(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("ERP failed on the stock of {} (HTTP {status})", stock.sku),
            )),
        }
    }
}

#[async_trait]
impl EventHandler for ErpStockSync {
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> HandlerResult {
        let sources: Vec<SourceQuantity> = match serde_json::from_value(ctx.payload(&event).clone()) {
            Ok(sources) => sources,
            Err(e) => {
                return HandlerResult::error(
                    StatusCode::BAD_REQUEST,
                    format!("event {} is not a stock update: {e}", ctx.event_id),
                );
            }
        };
        let totals = totals(&sources);
        for stock in &totals {
            if let Err(failure) = self.put(stock).await {
                return failure;
            }
        }
        let skus: Vec<&str> = totals.iter().map(|t| t.sku).collect();
        HandlerResult::success(format!(
            "stock of {} SKU(s) sent to the ERP: {}",
            skus.len(),
            skus.join(", ")
        ))
    }
}

/// Your own app: your routes, plus `GET|POST /events` from commerce-kit with
/// [`ErpStockSync`] registered for [`STOCK_UPDATE`].
///
/// Deliveries are not signature-checked here ([`DeliveryOptions::default`]);
/// in production set [`DeliveryOptions::verification`] so only Adobe I/O
/// Events can post, and give the consumer a shared
/// [`StateStore`](commerce_kit_core::state::StateStore) (Redis) when several
/// replicas run, so a redelivery handled by one is known to the others.
pub fn app(erp: &str) -> anyhow::Result<Router> {
    let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
        .on(STOCK_UPDATE, Arc::new(ErpStockSync::new(erp)?))
        .build();
    let delivery = Delivery::new(consumer, DeliveryOptions::default());
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
