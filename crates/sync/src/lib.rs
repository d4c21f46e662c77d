//! Reference sync handlers between Adobe Commerce and a back office, after the
//! per-entity handlers of Adobe's Commerce integration starter kit.
//!
//! Two directions, each usable whole or in pieces:
//!
//! - **Back office → Commerce** (the 13 `be-observer.*` events):
//!   [`transform`](transform::transform) turns the kit's camelCase payload into
//!   a [`CommerceCall`] (method, `/V1/…` path, query, JSON body) with the kit's
//!   field mappings; [`CommerceHandler`] is the `EventHandler` that transforms
//!   and runs the call through a [`CommerceApi`], the one-method seam a Commerce
//!   REST client implements.
//! - **Commerce → back office** (the 8 Commerce events, 11 routes with the
//!   kit's created/updated split): [`back_office_request`](backoffice::back_office_request)
//!   maps an event to a request of the documented JSON contract (see
//!   [`backoffice`]); [`BackOfficeClient`](backoffice::BackOfficeClient) POSTs
//!   it (one pooled client, idempotency key = event id, optional bearer
//!   token); [`BackOfficeHandler`](backoffice::BackOfficeHandler) is the
//!   `EventHandler` doing both.
//!
//! Every payload the kit's schemas accept is mapped; a payload that passes the
//! schema but cannot make a valid call (an id of `15.5`, an empty SKU) is
//! refused with a 400 naming the field ([`PayloadError`]), so it is dropped to
//! the dead letters instead of being retried.
//!
//! ## Wiring
//!
//! ```
//! use commerce_kit_commerce_api::{CommerceAuth, CommerceClient, CommerceConfig};
//! use commerce_kit_sync::backoffice::{BackOfficeClient, BackOfficeHandler, BackOfficeOptions};
//! use commerce_kit_sync::CommerceHandler;
//! use commerce_kit_events::{Consumer, MemoryStore};
//! use std::sync::Arc;
//!
//! // commerce-api's client implements CommerceApi (any other implementation fits too)
//! let auth = CommerceAuth::oauth1_from_parts("consumer-key", "consumer-secret", "access-token", "access-token-secret")?;
//! let commerce = CommerceClient::new(CommerceConfig::from_parts("https://shop.example", Some("default"), auth)?)?;
//! let to_commerce = CommerceHandler::new(commerce);
//! let to_back_office = BackOfficeHandler::new(BackOfficeClient::new(BackOfficeOptions::parse("https://erp.example/commerce")?)?);
//!
//! let mut builder = Consumer::builder(Arc::new(MemoryStore::new()));
//! for route in CommerceHandler::routes() {
//!     builder = builder.on(route, to_commerce.clone());
//! }
//! for route in BackOfficeHandler::routes() {
//!     builder = builder.on(route, to_back_office.clone());
//! }
//! let consumer = builder.build()?;
//! # let _ = consumer;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Reusing pieces
//!
//! A transformer alone (no I/O):
//!
//! ```
//! use commerce_kit_sync::transform::shipment_create;
//! use commerce_kit_model::catalog::payload::ShipmentCreate;
//! use serde_json::json;
//!
//! let shipment: ShipmentCreate = serde_json::from_value(json!({
//!     "orderId": 8,
//!     "items": [{"orderItemId": 8, "qty": 1}],
//!     "tracks": [{"trackNumber": "1Z999", "title": "UPS", "carrierCode": "ups"}],
//!     "comment": {"comment": "Shipped", "visibleOnFront": true},
//!     "stockSourceCode": "default"
//! }))?;
//! let call = shipment_create(&shipment)?;
//! assert_eq!(call.to_string(), "POST /V1/order/8/ship");
//! assert_eq!(call.body["items"], json!([{"order_item_id": 8, "qty": 1}]));
//! assert_eq!(call.body["comment"], json!({"comment": "Shipped", "is_visible_on_front": 1}));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A reference handler wrapped by your own (here: skip one SKU, delegate the rest):
//!
//! ```
//! use commerce_kit_sync::{async_trait, CommerceHandler};
//! use commerce_kit_events::{CloudEvent, EventContext, EventHandler, HandlerError, HandlerResult};
//!
//! struct SkipGiftCards(CommerceHandler);
//!
//! #[async_trait]
//! impl EventHandler for SkipGiftCards {
//!     async fn handle(&self, event: CloudEvent, ctx: EventContext) -> Result<HandlerResult, HandlerError> {
//!         if event.data.get("sku").and_then(|s| s.as_str()) == Some("GIFT-CARD") {
//!             return Ok(HandlerResult::success("gift cards are managed in Commerce"));
//!         }
//!         self.0.handle(event, ctx).await
//!     }
//! }
//! ```
//!
//! Another Commerce client plugged in: one `impl` of [`CommerceApi`], mapping
//! its errors with [`CommerceCallError`]'s constructors (this one uses
//! `reqwest` with a bearer token; commerce-api's `CommerceClient` has its
//! `impl` in this crate, keeping that client's own retry classification):
//!
//! ```
//! use commerce_kit_sync::{async_trait, CommerceApi, CommerceCall, CommerceCallError};
//! use serde_json::Value;
//!
//! struct Bearer { http: reqwest::Client, rest_root: String, token: String }
//!
//! #[async_trait]
//! impl CommerceApi for Bearer {
//!     async fn call(&self, call: &CommerceCall) -> Result<Value, CommerceCallError> {
//!         let url = format!("{}{}", self.rest_root, call.path_and_query());
//!         let mut request = self.http.request(call.method.clone(), url).bearer_auth(&self.token);
//!         if call.has_body() {
//!             request = request.json(&call.body);
//!         }
//!         let response = request.send().await.map_err(|e| CommerceCallError::unavailable(e.without_url().to_string()))?;
//!         let status = response.status();
//!         let body = response.bytes().await.map_err(|e| CommerceCallError::unavailable(e.without_url().to_string()))?;
//!         if !status.is_success() {
//!             return Err(CommerceCallError::from_response(status, &body));
//!         }
//!         Ok(serde_json::from_slice(&body).unwrap_or(Value::Null))
//!     }
//! }
//! ```
//!
//! ## Sources
//!
//! Every back-office mapping follows the starter kit's legacy layout
//! (adobe/commerce-integration-starter-kit at `095b573e98`, the last tree
//! before the App Management migration); the table in [`transform`] gives each
//! event's call and body, [`BackOfficeEvent::kit_handler`](transform::BackOfficeEvent::kit_handler)
//! the kit directory it was checked against, and `tests/fixtures/README.md`
//! the files and history read.
#![deny(missing_docs)]

pub mod backoffice;
pub mod call;
pub mod commerce;
mod error;
#[cfg(feature = "test-util")]
pub mod testing;
pub mod transform;

pub use async_trait::async_trait;
pub use call::CommerceCall;
pub use commerce::{CommerceApi, CommerceCallError, CommerceHandler, execute};
pub use error::PayloadError;
pub use transform::BackOfficeEvent;
