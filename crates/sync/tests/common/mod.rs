//! What the tests share: the kit's back-office samples and the calls its
//! handlers make for them (see tests/fixtures/README.md).
#![allow(dead_code)]

use commerce_kit_sync::CommerceCall;
use commerce_kit_sync::transform::BackOfficeEvent;
use http::Method;
use serde_json::{Value, json};

/// The kit's sample of `event`, as the catalog's parity fixtures record it.
pub fn kit_sample(event: BackOfficeEvent) -> Value {
    let text = match event {
        BackOfficeEvent::ProductCreate => {
            include_str!("../../../model/tests/fixtures/starter_kit/be-observer.catalog_product_create.sample.json")
        }
        BackOfficeEvent::ProductUpdate => {
            include_str!("../../../model/tests/fixtures/starter_kit/be-observer.catalog_product_update.sample.json")
        }
        BackOfficeEvent::ProductDelete => {
            include_str!("../../../model/tests/fixtures/starter_kit/be-observer.catalog_product_delete.sample.json")
        }
        BackOfficeEvent::CustomerCreate => {
            include_str!("../../../model/tests/fixtures/starter_kit/be-observer.customer_create.sample.json")
        }
        BackOfficeEvent::CustomerUpdate => {
            include_str!("../../../model/tests/fixtures/starter_kit/be-observer.customer_update.sample.json")
        }
        BackOfficeEvent::CustomerDelete => {
            include_str!("../../../model/tests/fixtures/starter_kit/be-observer.customer_delete.sample.json")
        }
        BackOfficeEvent::CustomerGroupCreate => {
            include_str!("../../../model/tests/fixtures/starter_kit/be-observer.customer_group_create.sample.json")
        }
        BackOfficeEvent::CustomerGroupUpdate => {
            include_str!("../../../model/tests/fixtures/starter_kit/be-observer.customer_group_update.sample.json")
        }
        BackOfficeEvent::CustomerGroupDelete => {
            include_str!("../../../model/tests/fixtures/starter_kit/be-observer.customer_group_delete.sample.json")
        }
        BackOfficeEvent::OrderStatusUpdate => {
            include_str!("../../../model/tests/fixtures/starter_kit/be-observer.sales_order_status_update.sample.json")
        }
        BackOfficeEvent::ShipmentCreate => {
            include_str!(
                "../../../model/tests/fixtures/starter_kit/be-observer.sales_order_shipment_create.sample.json"
            )
        }
        BackOfficeEvent::ShipmentUpdate => {
            include_str!(
                "../../../model/tests/fixtures/starter_kit/be-observer.sales_order_shipment_update.sample.json"
            )
        }
        BackOfficeEvent::StockUpdate => {
            include_str!("../../../model/tests/fixtures/starter_kit/be-observer.catalog_stock_update.sample.json")
        }
        other => panic!("no sample for {other:?}"),
    };
    serde_json::from_str(text).expect("fixture is JSON")
}

pub fn call(method: Method, path: &str, body: Value) -> CommerceCall {
    CommerceCall {
        method,
        path: path.to_owned(),
        query: Vec::new(),
        body,
    }
}

/// The call the kit's handler makes for its own sample (see tests/fixtures/README.md).
pub fn expected(event: BackOfficeEvent) -> CommerceCall {
    use BackOfficeEvent as E;
    let description = "This is a sample product created externally";
    match event {
        E::ProductCreate => call(
            Method::POST,
            "/V1/products",
            json!({"product": {
                "sku": "SKU-EXT-0001",
                "name": "Product Created Externally",
                "price": 0,
                "attribute_set_id": 4,
                "custom_attributes": [{"attribute_code": "description", "value": description}],
            }}),
        ),
        E::ProductUpdate => call(
            Method::PUT,
            "/V1/products/SKU-EXT-0001",
            json!({"product": {
                "sku": "SKU-EXT-0001",
                "name": "Product Created Externally",
                "price": 99.99,
                "attribute_set_id": 4,
                "custom_attributes": [{"attribute_code": "description", "value": description}],
            }}),
        ),
        E::ProductDelete => call(Method::DELETE, "/V1/products/SKU-EXT-0001", Value::Null),
        E::CustomerCreate => call(
            Method::POST,
            "/V1/customers",
            json!({"customer": {"email": "jane.doe@fakedomain.com", "firstname": "Jane", "lastname": "Doe"}}),
        ),
        E::CustomerUpdate => call(
            Method::PUT,
            "/V1/customers/15",
            json!({"customer": {"id": 15, "firstname": "Jane", "lastname": "Doe", "email": "jane.doe@fakedomain.com"}}),
        ),
        E::CustomerDelete => call(Method::DELETE, "/V1/customers/15", Value::Null),
        E::CustomerGroupCreate => call(
            Method::POST,
            "/V1/customerGroups",
            json!({"group": {"code": "Backoffice Group", "tax_class_id": 3}}),
        ),
        E::CustomerGroupUpdate => call(
            Method::PUT,
            "/V1/customerGroups/19",
            json!({"group": {"id": 19, "code": "Backoffice Group", "tax_class_id": 2}}),
        ),
        E::CustomerGroupDelete => call(Method::DELETE, "/V1/customerGroups/19", Value::Null),
        E::OrderStatusUpdate => call(
            Method::POST,
            "/V1/orders/1/comments",
            json!({"statusHistory": {
                "comment": "Order status changed to shipped",
                "is_customer_notified": 0,
                "is_visible_on_front": 1,
            }}),
        ),
        E::ShipmentCreate => call(
            Method::POST,
            "/V1/order/8/ship",
            json!({
                "items": [{"order_item_id": 8, "qty": 1}],
                "tracks": [{"track_number": "Custom Value", "title": "Custom Title", "carrier_code": "custom"}],
                "comment": {"comment": "Order Shipped in Backoffice", "is_visible_on_front": 1},
                "extension_attributes": {"source_code": "default"},
            }),
        ),
        E::ShipmentUpdate => call(
            Method::POST,
            "/V1/shipment",
            json!({"entity": {
                "entity_id": 33,
                "order_id": 8,
                "items": [{"entity_id": 19, "order_item_id": 8, "qty": 1}],
                "tracks": [{
                    "entity_id": 19,
                    "order_id": 8,
                    "track_number": "Custom Value Upd",
                    "title": "Custom Title Upd",
                    "carrier_code": "custom",
                }],
                "comments": [{
                    "entity_id": 19,
                    "is_customer_notified": 0,
                    "comment": "Order Shipment Updated in Backoffice",
                    "is_visible_on_front": 1,
                }],
                "extension_attributes": {"source_code": "default"},
            }}),
        ),
        E::StockUpdate => call(
            Method::POST,
            "/V1/inventory/source-items",
            json!({"sourceItems": [{"sku": "SKU-EXT-0001", "source_code": "default", "quantity": 66, "status": 1}]}),
        ),
        other => panic!("no expectation for {other:?}"),
    }
}
