//! The built-in catalog: the starter kit's back-office events with its sample
//! payloads (`scripts/onboarding/config/events.json`) and schemas generated
//! from [`payload`](super::payload) types.
//!
//! The samples are the kit's values of August 2024 (commit `a6a24a9`), except
//! shipment create's: the kit replaced that event's `comments` array with one
//! `comment` object (schema in commit `6deb24b`, sample in `06f4b45`), so its
//! sample is the one of the kit's last legacy tree (`095b573`).
//! `tests/catalog_parity.rs` checks every event against that tree's samples
//! and `schema.json` files.

use schemars::JsonSchema;
use serde_json::{Value, json};

use super::payload::*;

/// The provider key of back-office events in the starter kit's `events.json`.
pub const BACKOFFICE: &str = "backoffice";

/// (entity, event code, sample `value`, schema of `value`).
pub(super) fn entries() -> Vec<(&'static str, &'static str, Value, Value)> {
    vec![
        (
            "product",
            "be-observer.catalog_product_create",
            json!({"sku": "POSTBUSTER_TEST", "name": "PostBusterTest", "price": 0.0, "description": "Post Buster Test"}),
            schema::<ProductCreate>(),
        ),
        (
            "product",
            "be-observer.catalog_product_update",
            json!({"sku": "POSTBUSTER_TEST", "name": "PostBusterTest", "price": 99.99, "description": "Post Buster Test"}),
            schema::<ProductUpdate>(),
        ),
        (
            "product",
            "be-observer.catalog_product_delete",
            json!({"sku": "POSTBUSTER_TEST"}),
            schema::<ProductDelete>(),
        ),
        (
            "customer",
            "be-observer.customer_create",
            json!({"name": "PostBusterUpd", "lastname": "TestUpd", "email": "postbuster@testupd.com"}),
            schema::<CustomerCreate>(),
        ),
        (
            "customer",
            "be-observer.customer_update",
            json!({"id": 15, "name": "PostBusterUpd", "lastname": "TestUpd", "email": "postbuster@testupd.com"}),
            schema::<CustomerUpdate>(),
        ),
        (
            "customer",
            "be-observer.customer_delete",
            json!({"id": 15}),
            schema::<DeleteById>(),
        ),
        (
            "customer-group",
            "be-observer.customer_group_create",
            json!({"name": "PostBuster", "taxClassId": 3}),
            schema::<CustomerGroupCreate>(),
        ),
        (
            "customer-group",
            "be-observer.customer_group_update",
            json!({"id": 9, "name": "PostBuster", "taxClassId": 3}),
            schema::<CustomerGroupUpdate>(),
        ),
        (
            "customer-group",
            "be-observer.customer_group_delete",
            json!({"id": 9}),
            schema::<DeleteById>(),
        ),
        (
            "order",
            "be-observer.sales_order_status_update",
            json!({"id": 1, "status": "shipped", "notifyCustomer": false}),
            schema::<OrderStatusUpdate>(),
        ),
        (
            "order",
            "be-observer.sales_order_shipment_create",
            json!({
                "orderId": 8,
                "items": [{"orderItemId": 8, "qty": 1}],
                "tracks": [{"trackNumber": "Custom Value", "title": "Custom Title", "carrierCode": "custom"}],
                "comment": {"comment": "Order Shipped in Backoffice", "visibleOnFront": true},
                "stockSourceCode": "default"
            }),
            schema::<ShipmentCreate>(),
        ),
        (
            "order",
            "be-observer.sales_order_shipment_update",
            json!({
                "id": 33,
                "orderId": 8,
                "items": [{"entityId": 19, "orderItemId": 8, "qty": 1}],
                "tracks": [{"entityId": 19, "trackNumber": "Custom Value Upd", "title": "Custom Title Upd", "carrierCode": "custom"}],
                "comments": [{"entityId": 19, "notifyCustomer": false, "comment": "Order Shipped from API Upd", "visibleOnFront": true}],
                "stockSourceCode": "default"
            }),
            schema::<ShipmentUpdate>(),
        ),
        (
            "stock",
            "be-observer.catalog_stock_update",
            json!([
                {"sku": "sku-rojo-25", "source": "default", "quantity": 0, "outOfStock": true},
                {"sku": "sku-rojo-25", "source": "test", "quantity": 66, "outOfStock": false}
            ]),
            schema::<Vec<StockUpdateItem>>(),
        ),
    ]
}

fn schema<T: JsonSchema>() -> Value {
    schemars::schema_for!(T).to_value()
}
