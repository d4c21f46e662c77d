//! Commerce → back office: the JSON contract, [`BackOfficeClient`] and
//! [`BackOfficeHandler`].
//!
//! The starter kit leaves the back-office side of its 8 Commerce events to the
//! integrator (its Commerce-side `sender.js` files are stubs, its transformers
//! pass Commerce's `data.value` through unchanged). This module fixes one
//! contract so a back office can be written against it:
//!
//! **Request.** `POST <BACKOFFICE_BASE_URL>/<entity>/<action>` for each route:
//!
//! | Commerce event (`com.adobe.commerce[.<prefix>].observer.…`) | route | request |
//! |---|---|---|
//! | `catalog_product_save_commit_after`, `created_at == updated_at` | `product-commerce/created` | `POST <base>/product/created` |
//! | `catalog_product_save_commit_after`, otherwise | `product-commerce/updated` | `POST <base>/product/updated` |
//! | `catalog_product_delete_commit_after` | `product-commerce/deleted` | `POST <base>/product/deleted` |
//! | `customer_save_commit_after`, `created_at == updated_at` | `customer-commerce/created` | `POST <base>/customer/created` |
//! | `customer_save_commit_after`, otherwise | `customer-commerce/updated` | `POST <base>/customer/updated` |
//! | `customer_delete_commit_after` | `customer-commerce/deleted` | `POST <base>/customer/deleted` |
//! | `customer_group_save_commit_after` (needs `customer_group_code`) | `customer-commerce/group-updated` | `POST <base>/customer-group/updated` |
//! | `customer_group_delete_commit_after` (needs `customer_group_code`) | `customer-commerce/group-deleted` | `POST <base>/customer-group/deleted` |
//! | `sales_order_save_commit_after`, `created_at == updated_at` | `order-commerce/created` | `POST <base>/order/created` |
//! | `sales_order_save_commit_after`, otherwise | `order-commerce/updated` | `POST <base>/order/updated` |
//! | `cataloginventory_stock_item_save_commit_after` | `stock-commerce/updated` | `POST <base>/stock/updated` |
//!
//! The created/updated split is the kit's rule (timestamps compared as
//! date-times, [`routing`](commerce_kit_events::routing)); there is no
//! "group created" in the kit: a new group arrives as `customer-group/updated`.
//!
//! **Headers.** `content-type: application/json`; `accept: application/json`;
//! `idempotency-key: <event id>` (the id I/O Events keeps across redeliveries,
//! or the local bus's event id: the same event always carries the same key, so
//! the back office can answer a repeat without applying it twice);
//! `x-event-type: <event type as delivered>`; `authorization: Bearer <token>`
//! when `BACKOFFICE_TOKEN` is set; `user-agent: commerce-kit-sync/<version>`.
//!
//! **Body.**
//!
//! ```json
//! {
//!   "entity": "product",
//!   "action": "updated",
//!   "eventId": "5c1e5e7e-…",
//!   "eventType": "com.adobe.commerce.observer.catalog_product_save_commit_after",
//!   "occurredAt": "2024-08-05T10:03:50Z",
//!   "data": {"id": 2, "sku": "24-MB01", "name": "Joust Duffle Bag", "…": "…"}
//! }
//! ```
//!
//! - `entity`, `action`: as in the path (`customer-group` for groups);
//! - `eventId`: as the `idempotency-key` header;
//! - `eventType`: the event code without any prefix;
//! - `occurredAt`: the CloudEvent's `time`, `null` when it has none;
//! - `data`: Commerce's `data.value` exactly as delivered (the fields the
//!   subscription selects; Commerce's types kept, e.g. ids as strings in some
//!   events).
//!
//! **Answers.** 2xx: done. 4xx other than 429: the event is dropped (a dead
//! letter on the local bus) with the body's `error` or `message` string in the
//! reason, so answer 4xx only for events that can never succeed. 429 and 5xx
//! (not 505): the event is delivered again later. Redirects are not followed.
//!
//! ```
//! use commerce_kit_sync::backoffice::{BackOfficeClient, BackOfficeHandler, BackOfficeOptions};
//! use commerce_kit_events::{Consumer, MemoryStore};
//! use std::sync::Arc;
//!
//! let client = BackOfficeClient::new(BackOfficeOptions::parse("https://erp.example/commerce")?.with_token("t"))?;
//! let handler = BackOfficeHandler::new(client);
//! let mut builder = Consumer::builder(Arc::new(MemoryStore::new()));
//! for route in BackOfficeHandler::routes() {
//!     builder = builder.on(route, handler.clone());
//! }
//! let consumer = builder.build()?;
//! # let _ = consumer;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client;
mod contract;
mod handler;

pub use client::{BackOfficeAnswer, BackOfficeClient, BackOfficeConfigError, BackOfficeError, BackOfficeOptions};
pub use contract::{BackOfficeRequest, CommerceRoute, back_office_request};
pub use handler::BackOfficeHandler;
