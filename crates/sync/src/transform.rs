//! Back office → Commerce: the 13 `be-observer.*` events as [`CommerceCall`]s.
//!
//! Each function is pure: the kit's camelCase payload (the types of
//! [`commerce_kit_model::catalog::payload`], which accept exactly the starter
//! kit's samples and `schema.json` rules) in, the Commerce call out, with the
//! field mapping of the starter kit's legacy-layout handler
//! (`actions/<entity>/external/<op>/transformer.js` for the body,
//! `sender.js` and the entity's `commerce-*-api-client.js` for method and
//! path). [`transform`] picks the function by event and deserializes the
//! payload first.
//!
//! | event | call | body (from the payload) |
//! |---|---|---|
//! | `be-observer.catalog_product_create` | `POST /V1/products` | `{product:{sku, name, price, attribute_set_id:4, custom_attributes:[{attribute_code:"description", value:description}]}}` (`price` left out when absent) |
//! | `be-observer.catalog_product_update` | `PUT /V1/products/{sku}` | as create |
//! | `be-observer.catalog_product_delete` | `DELETE /V1/products/{sku}` | none |
//! | `be-observer.customer_create` | `POST /V1/customers` | `{customer:{email, firstname:name, lastname}}` |
//! | `be-observer.customer_update` | `PUT /V1/customers/{id}` | `{customer:{id, firstname:name, lastname, email}}` |
//! | `be-observer.customer_delete` | `DELETE /V1/customers/{id}` | none |
//! | `be-observer.customer_group_create` | `POST /V1/customerGroups` | `{group:{code:name, tax_class_id:taxClassId}}` |
//! | `be-observer.customer_group_update` | `PUT /V1/customerGroups/{id}` | `{group:{id, code:name, tax_class_id:taxClassId}}` |
//! | `be-observer.customer_group_delete` | `DELETE /V1/customerGroups/{id}` | none |
//! | `be-observer.sales_order_status_update` | `POST /V1/orders/{id}/comments` | `{statusHistory:{comment:"Order status changed to <status>", is_customer_notified:notifyCustomer?1:0, is_visible_on_front:1}}` |
//! | `be-observer.sales_order_shipment_create` | `POST /V1/order/{orderId}/ship` | `{items:[{order_item_id, qty}], tracks:[{track_number, title, carrier_code}], comment:{comment, is_visible_on_front:0/1}, extension_attributes:{source_code:stockSourceCode}}` |
//! | `be-observer.sales_order_shipment_update` | `POST /V1/shipment` | `{entity:{entity_id:id, order_id, items:[{entity_id, order_item_id, qty}], tracks:[{entity_id, order_id, track_number, title, carrier_code}], comments:[{entity_id, is_customer_notified:0/1, comment, is_visible_on_front:0/1}], extension_attributes:{source_code}}}` |
//! | `be-observer.catalog_stock_update` | `POST /V1/inventory/source-items` | `{sourceItems:[{sku, source_code:source, quantity, status:outOfStock?0:1}]}` |
//!
//! Numbers are written as JavaScript's `JSON.stringify` writes them (the kit
//! forwards the back office's numbers as they came): a whole number without
//! a fraction (`66`, not `66.0`), any other as it is (`99.99`).
//!
//! Beyond the kit's schemas, a payload that would make a call Commerce cannot
//! take is refused here, before any call, with a 400 naming the field (the
//! kit would send it and fail on Commerce's answer):
//! - an id (`id`, `orderId`, `orderItemId`, `entityId`) or a `taxClassId`
//!   that is not a positive whole number up to 2^53 − 1 (`15.5`, `0`, `-3`);
//! - an empty `sku` (it is a path segment), `status` or stock `source`;
//! - a shipment `qty` that is not above 0;
//! - a stock update with no item.
//!
//! ```
//! use commerce_kit_sync::transform::{transform, BackOfficeEvent};
//! use serde_json::json;
//!
//! let call = transform(
//!     BackOfficeEvent::StockUpdate,
//!     &json!([{"sku": "SKU-EXT-0001", "source": "default", "quantity": 66, "outOfStock": false}]),
//! )?;
//! assert_eq!(call.to_string(), "POST /V1/inventory/source-items");
//! assert_eq!(
//!     call.body,
//!     json!({"sourceItems": [{"sku": "SKU-EXT-0001", "source_code": "default", "quantity": 66, "status": 1}]})
//! );
//!
//! let refused = transform(BackOfficeEvent::CustomerDelete, &json!({"id": 15.5})).unwrap_err();
//! assert_eq!(refused.to_string(), "invalid parameter 'data.id': expected a positive whole number, got 15.5");
//! # Ok::<(), commerce_kit_sync::PayloadError>(())
//! ```

use commerce_kit_model::catalog::payload::{
    CustomerCreate, CustomerGroupCreate, CustomerGroupUpdate, CustomerUpdate, DeleteById, OrderStatusUpdate,
    ProductCreate, ProductDelete, ProductUpdate, ShipmentCreate, ShipmentUpdate, StockUpdateItem,
};
use commerce_kit_model::routing::{Origin, parse_event_code};
use http::Method;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::call::CommerceCall;
use crate::error::PayloadError;

/// Where a back-office event's payload sits in the CloudEvent: its `data`.
const AT: &str = "data";

/// Largest integer a JSON number carries exactly through JavaScript (2^53 − 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// The 13 back-office events of the starter kit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackOfficeEvent {
    /// `be-observer.catalog_product_create`
    ProductCreate,
    /// `be-observer.catalog_product_update`
    ProductUpdate,
    /// `be-observer.catalog_product_delete`
    ProductDelete,
    /// `be-observer.customer_create`
    CustomerCreate,
    /// `be-observer.customer_update`
    CustomerUpdate,
    /// `be-observer.customer_delete`
    CustomerDelete,
    /// `be-observer.customer_group_create`
    CustomerGroupCreate,
    /// `be-observer.customer_group_update`
    CustomerGroupUpdate,
    /// `be-observer.customer_group_delete`
    CustomerGroupDelete,
    /// `be-observer.sales_order_status_update`
    OrderStatusUpdate,
    /// `be-observer.sales_order_shipment_create`
    ShipmentCreate,
    /// `be-observer.sales_order_shipment_update`
    ShipmentUpdate,
    /// `be-observer.catalog_stock_update`
    StockUpdate,
}

use BackOfficeEvent as E;

/// (event, code, route, the kit's handler directory)
const TABLE: [(BackOfficeEvent, &str, &str, &str); 13] = [
    (
        E::ProductCreate,
        "be-observer.catalog_product_create",
        "product-backoffice/created",
        "actions/product/external/created",
    ),
    (
        E::ProductUpdate,
        "be-observer.catalog_product_update",
        "product-backoffice/updated",
        "actions/product/external/updated",
    ),
    (
        E::ProductDelete,
        "be-observer.catalog_product_delete",
        "product-backoffice/deleted",
        "actions/product/external/deleted",
    ),
    (
        E::CustomerCreate,
        "be-observer.customer_create",
        "customer-backoffice/created",
        "actions/customer/external/created",
    ),
    (
        E::CustomerUpdate,
        "be-observer.customer_update",
        "customer-backoffice/updated",
        "actions/customer/external/updated",
    ),
    (
        E::CustomerDelete,
        "be-observer.customer_delete",
        "customer-backoffice/deleted",
        "actions/customer/external/deleted",
    ),
    (
        E::CustomerGroupCreate,
        "be-observer.customer_group_create",
        "customer-backoffice/group-created",
        "actions/customer/external/group-created",
    ),
    (
        E::CustomerGroupUpdate,
        "be-observer.customer_group_update",
        "customer-backoffice/group-updated",
        "actions/customer/external/group-updated",
    ),
    (
        E::CustomerGroupDelete,
        "be-observer.customer_group_delete",
        "customer-backoffice/group-deleted",
        "actions/customer/external/group-deleted",
    ),
    (
        E::OrderStatusUpdate,
        "be-observer.sales_order_status_update",
        "order-backoffice/updated",
        "actions/order/external/updated",
    ),
    (
        E::ShipmentCreate,
        "be-observer.sales_order_shipment_create",
        "order-backoffice/shipment-created",
        "actions/order/external/shipment-created",
    ),
    (
        E::ShipmentUpdate,
        "be-observer.sales_order_shipment_update",
        "order-backoffice/shipment-updated",
        "actions/order/external/shipment-updated",
    ),
    (
        E::StockUpdate,
        "be-observer.catalog_stock_update",
        "stock-backoffice/updated",
        "actions/stock/external/updated",
    ),
];

impl BackOfficeEvent {
    /// All 13, in the catalog's order.
    pub const ALL: [BackOfficeEvent; 13] = [
        E::ProductCreate,
        E::ProductUpdate,
        E::ProductDelete,
        E::CustomerCreate,
        E::CustomerUpdate,
        E::CustomerDelete,
        E::CustomerGroupCreate,
        E::CustomerGroupUpdate,
        E::CustomerGroupDelete,
        E::OrderStatusUpdate,
        E::ShipmentCreate,
        E::ShipmentUpdate,
        E::StockUpdate,
    ];

    fn row(self) -> &'static (BackOfficeEvent, &'static str, &'static str, &'static str) {
        // every variant has its row: TABLE lists the 13 in ALL's order (tested)
        &TABLE[self as usize]
    }

    /// The unprefixed event code, e.g. `be-observer.catalog_product_create`.
    pub fn code(self) -> &'static str {
        self.row().1
    }

    /// The starter kit's route, e.g. `product-backoffice/created` (a handler key
    /// of the consumer).
    pub fn route(self) -> &'static str {
        self.row().2
    }

    /// The directory of the kit's legacy-layout handler this mapping follows,
    /// e.g. `actions/product/external/created`.
    pub fn kit_handler(self) -> &'static str {
        self.row().3
    }

    /// The event of a delivered type, with or without a prefix
    /// (`be-observer.customer_create`, `my_app.be-observer.customer_create`).
    ///
    /// ```
    /// use commerce_kit_sync::transform::BackOfficeEvent;
    /// assert_eq!(BackOfficeEvent::from_event_type("acme.be-observer.customer_create"), Some(BackOfficeEvent::CustomerCreate));
    /// assert_eq!(BackOfficeEvent::from_event_type("com.adobe.commerce.observer.customer_save_commit_after"), None);
    /// ```
    pub fn from_event_type(event_type: &str) -> Option<Self> {
        let code = parse_event_code(event_type).filter(|c| c.origin == Origin::BackOffice)?;
        let canonical = code.canonical();
        TABLE.iter().find(|row| row.1 == canonical).map(|row| row.0)
    }

    /// The event of a route name (`order-backoffice/shipment-created`).
    pub fn from_route(route: &str) -> Option<Self> {
        TABLE.iter().find(|row| row.2 == route).map(|row| row.0)
    }
}

/// Deserializes `payload` (a back-office event's `data`) as `event`'s type and
/// maps it to its Commerce call; see the [module docs](self).
pub fn transform(event: BackOfficeEvent, payload: &Value) -> Result<CommerceCall, PayloadError> {
    match event {
        E::ProductCreate => product_create(&typed(payload)?),
        E::ProductUpdate => product_update(&typed(payload)?),
        E::ProductDelete => product_delete(&typed(payload)?),
        E::CustomerCreate => customer_create(&typed(payload)?),
        E::CustomerUpdate => customer_update(&typed(payload)?),
        E::CustomerDelete => customer_delete(&typed(payload)?),
        E::CustomerGroupCreate => customer_group_create(&typed(payload)?),
        E::CustomerGroupUpdate => customer_group_update(&typed(payload)?),
        E::CustomerGroupDelete => customer_group_delete(&typed(payload)?),
        E::OrderStatusUpdate => order_status_update(&typed(payload)?),
        E::ShipmentCreate => shipment_create(&typed(payload)?),
        E::ShipmentUpdate => shipment_update(&typed(payload)?),
        E::StockUpdate => stock_update(&typed::<Vec<StockUpdateItem>>(payload)?),
    }
}

fn typed<T: DeserializeOwned>(payload: &Value) -> Result<T, PayloadError> {
    serde_path_to_error::deserialize(payload).map_err(|e| PayloadError::from_serde(AT, &e))
}

/// `POST /V1/products` (kit: `product/external/created`).
pub fn product_create(p: &ProductCreate) -> Result<CommerceCall, PayloadError> {
    let sku = sku(&p.sku)?;
    Ok(CommerceCall::new(Method::POST, &["products"]).with_body(product_body(sku, &p.name, p.price, &p.description)))
}

/// `PUT /V1/products/{sku}` (kit: `product/external/updated`).
pub fn product_update(p: &ProductUpdate) -> Result<CommerceCall, PayloadError> {
    let sku = sku(&p.sku)?;
    Ok(
        CommerceCall::new(Method::PUT, &["products", sku]).with_body(product_body(
            sku,
            &p.name,
            Some(p.price),
            &p.description,
        )),
    )
}

/// `DELETE /V1/products/{sku}` (kit: `product/external/deleted`).
pub fn product_delete(p: &ProductDelete) -> Result<CommerceCall, PayloadError> {
    Ok(CommerceCall::new(Method::DELETE, &["products", sku(&p.sku)?]))
}

fn product_body(sku: &str, name: &str, price: Option<f64>, description: &str) -> Value {
    let mut product = json!({
        "sku": sku,
        "name": name,
        "attribute_set_id": 4,
        "custom_attributes": [{"attribute_code": "description", "value": description}],
    });
    // the kit copies `price` as it is: an absent price is left out of the JSON
    if let (Some(price), Some(map)) = (price, product.as_object_mut()) {
        map.insert("price".into(), js_number(price));
    }
    json!({ "product": product })
}

/// `POST /V1/customers` (kit: `customer/external/created`).
pub fn customer_create(c: &CustomerCreate) -> Result<CommerceCall, PayloadError> {
    Ok(CommerceCall::new(Method::POST, &["customers"]).with_body(json!({
        "customer": {"email": c.email, "firstname": c.name, "lastname": c.lastname}
    })))
}

/// `PUT /V1/customers/{id}` (kit: `customer/external/updated`).
pub fn customer_update(c: &CustomerUpdate) -> Result<CommerceCall, PayloadError> {
    let id = whole_id("data.id", c.id)?;
    Ok(
        CommerceCall::new(Method::PUT, &["customers", &id.to_string()]).with_body(json!({
            "customer": {"id": id, "firstname": c.name, "lastname": c.lastname, "email": c.email}
        })),
    )
}

/// `DELETE /V1/customers/{id}` (kit: `customer/external/deleted`).
pub fn customer_delete(c: &DeleteById) -> Result<CommerceCall, PayloadError> {
    let id = whole_id("data.id", c.id)?;
    Ok(CommerceCall::new(Method::DELETE, &["customers", &id.to_string()]))
}

/// `POST /V1/customerGroups` (kit: `customer/external/group-created`).
pub fn customer_group_create(g: &CustomerGroupCreate) -> Result<CommerceCall, PayloadError> {
    let tax_class_id = whole_id("data.taxClassId", g.tax_class_id)?;
    Ok(CommerceCall::new(Method::POST, &["customerGroups"]).with_body(json!({
        "group": {"code": g.name, "tax_class_id": tax_class_id}
    })))
}

/// `PUT /V1/customerGroups/{id}` (kit: `customer/external/group-updated`).
pub fn customer_group_update(g: &CustomerGroupUpdate) -> Result<CommerceCall, PayloadError> {
    let id = whole_id("data.id", g.id)?;
    let tax_class_id = whole_id("data.taxClassId", g.tax_class_id)?;
    Ok(
        CommerceCall::new(Method::PUT, &["customerGroups", &id.to_string()]).with_body(json!({
            "group": {"id": id, "code": g.name, "tax_class_id": tax_class_id}
        })),
    )
}

/// `DELETE /V1/customerGroups/{id}` (kit: `customer/external/group-deleted`).
pub fn customer_group_delete(g: &DeleteById) -> Result<CommerceCall, PayloadError> {
    let id = whole_id("data.id", g.id)?;
    Ok(CommerceCall::new(Method::DELETE, &["customerGroups", &id.to_string()]))
}

/// `POST /V1/orders/{id}/comments` (kit: `order/external/updated`). As in the
/// kit, the new status is written as a comment; the order's status itself is
/// left to Commerce.
pub fn order_status_update(o: &OrderStatusUpdate) -> Result<CommerceCall, PayloadError> {
    let id = match u64::try_from(o.id) {
        Ok(id) if id >= 1 => id,
        _ => {
            return Err(PayloadError::invalid(
                "data.id",
                format!("expected a positive whole number, got {}", o.id),
            ));
        }
    };
    let status = non_empty("data.status", &o.status)?;
    Ok(
        CommerceCall::new(Method::POST, &["orders", &id.to_string(), "comments"]).with_body(json!({
            "statusHistory": {
                "comment": format!("Order status changed to {status}"),
                "is_customer_notified": flag(o.notify_customer.unwrap_or(false)),
                "is_visible_on_front": 1,
            }
        })),
    )
}

/// `POST /V1/order/{orderId}/ship` (kit: `order/external/shipment-created`).
pub fn shipment_create(s: &ShipmentCreate) -> Result<CommerceCall, PayloadError> {
    let order_id = whole_id("data.orderId", s.order_id)?;
    let mut items = Vec::with_capacity(s.items.len());
    for (i, item) in s.items.iter().enumerate() {
        items.push(json!({
            "order_item_id": whole_id(&format!("data.items[{i}].orderItemId"), item.order_item_id)?,
            "qty": positive(&format!("data.items[{i}].qty"), item.qty)?,
        }));
    }
    let tracks: Vec<Value> = s
        .tracks
        .iter()
        .map(|t| json!({"track_number": t.track_number, "title": t.title, "carrier_code": t.carrier_code}))
        .collect();
    Ok(
        CommerceCall::new(Method::POST, &["order", &order_id.to_string(), "ship"]).with_body(json!({
            "items": items,
            "tracks": tracks,
            "comment": {
                "comment": s.comment.comment,
                "is_visible_on_front": flag(s.comment.visible_on_front),
            },
            "extension_attributes": {"source_code": s.stock_source_code},
        })),
    )
}

/// `POST /V1/shipment` (kit: `order/external/shipment-updated`).
pub fn shipment_update(s: &ShipmentUpdate) -> Result<CommerceCall, PayloadError> {
    let id = whole_id("data.id", s.id)?;
    let order_id = whole_id("data.orderId", s.order_id)?;
    let mut items = Vec::with_capacity(s.items.len());
    for (i, item) in s.items.iter().enumerate() {
        items.push(json!({
            "entity_id": whole_id(&format!("data.items[{i}].entityId"), item.entity_id)?,
            "order_item_id": whole_id(&format!("data.items[{i}].orderItemId"), item.order_item_id)?,
            "qty": positive(&format!("data.items[{i}].qty"), item.qty)?,
        }));
    }
    let mut tracks = Vec::with_capacity(s.tracks.len());
    for (i, t) in s.tracks.iter().enumerate() {
        tracks.push(json!({
            "entity_id": whole_id(&format!("data.tracks[{i}].entityId"), t.entity_id)?,
            "order_id": order_id,
            "track_number": t.track_number,
            "title": t.title,
            "carrier_code": t.carrier_code,
        }));
    }
    let mut comments = Vec::with_capacity(s.comments.len());
    for (i, c) in s.comments.iter().enumerate() {
        comments.push(json!({
            "entity_id": whole_id(&format!("data.comments[{i}].entityId"), c.entity_id)?,
            "is_customer_notified": flag(c.notify_customer),
            "comment": c.comment,
            "is_visible_on_front": flag(c.visible_on_front),
        }));
    }
    Ok(CommerceCall::new(Method::POST, &["shipment"]).with_body(json!({
        "entity": {
            "entity_id": id,
            "order_id": order_id,
            "items": items,
            "tracks": tracks,
            "comments": comments,
            "extension_attributes": {"source_code": s.stock_source_code},
        }
    })))
}

/// `POST /V1/inventory/source-items` (kit: `stock/external/updated`): one
/// source item per entry, in order.
pub fn stock_update(items: &[StockUpdateItem]) -> Result<CommerceCall, PayloadError> {
    if items.is_empty() {
        return Err(PayloadError::invalid(
            "data",
            "expected at least one stock item, got []",
        ));
    }
    let mut source_items = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        source_items.push(json!({
            "sku": sku_at(&format!("data[{i}].sku"), &item.sku)?,
            "source_code": non_empty(&format!("data[{i}].source"), &item.source)?,
            "quantity": js_number(item.quantity),
            "status": flag(!item.out_of_stock),
        }));
    }
    Ok(CommerceCall::new(Method::POST, &["inventory", "source-items"])
        .with_body(json!({ "sourceItems": source_items })))
}

/// 1 or 0, as the kit writes Commerce's boolean flags.
fn flag(on: bool) -> u8 {
    u8::from(on)
}

/// A number as `JSON.stringify` writes it: a whole number without fraction.
fn js_number(x: f64) -> Value {
    if x.fract() == 0.0 && x.abs() <= MAX_SAFE_INTEGER {
        // exact: |x| ≤ 2^53 − 1 and whole
        #[allow(clippy::cast_possible_truncation)]
        Value::from(x as i64)
    } else {
        Value::from(x)
    }
}

fn whole_id(path: &str, x: f64) -> Result<u64, PayloadError> {
    if x.fract() == 0.0 && (1.0..=MAX_SAFE_INTEGER).contains(&x) {
        // exact: 1 ≤ x ≤ 2^53 − 1 and whole
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(x as u64)
    } else {
        Err(PayloadError::invalid(
            path,
            format!("expected a positive whole number, got {x}"),
        ))
    }
}

fn positive(path: &str, x: f64) -> Result<Value, PayloadError> {
    if x > 0.0 {
        Ok(js_number(x))
    } else {
        Err(PayloadError::invalid(
            path,
            format!("expected a number above 0, got {x}"),
        ))
    }
}

fn non_empty<'a>(path: &str, s: &'a str) -> Result<&'a str, PayloadError> {
    if s.is_empty() {
        Err(PayloadError::missing([path]))
    } else {
        Ok(s)
    }
}

fn sku(s: &str) -> Result<&str, PayloadError> {
    sku_at("data.sku", s)
}

fn sku_at<'a>(path: &str, s: &'a str) -> Result<&'a str, PayloadError> {
    non_empty(path, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_all_order_and_consistent_with_routing() {
        for (i, event) in BackOfficeEvent::ALL.iter().enumerate() {
            assert_eq!(TABLE[i].0, *event);
            assert_eq!(*event as usize, i);
            let route = commerce_kit_model::routing::route(event.code(), &json!({})).expect("routed");
            assert_eq!(route.name, event.route(), "{event:?}");
            assert_eq!(BackOfficeEvent::from_route(event.route()), Some(*event));
            assert_eq!(BackOfficeEvent::from_event_type(event.code()), Some(*event));
            assert!(event.kit_handler().starts_with("actions/"));
        }
        assert_eq!(BackOfficeEvent::from_route("product-commerce/created"), None);
        assert_eq!(BackOfficeEvent::from_event_type("be-observer.nope"), None);
    }

    #[test]
    fn numbers_are_written_as_javascript_does() {
        assert_eq!(js_number(66.0), json!(66));
        assert_eq!(js_number(0.0), json!(0));
        assert_eq!(js_number(-2.0), json!(-2));
        assert_eq!(js_number(99.99), json!(99.99));
        assert_eq!(js_number(1e300), json!(1e300));
        assert_eq!(whole_id("p", 15.0), Ok(15));
        for bad in [15.5, 0.0, -3.0, 1e16, f64::INFINITY] {
            assert!(whole_id("p", bad).is_err(), "{bad}");
        }
        assert_eq!(
            positive("data.items[0].qty", 0.0).map_err(|e| e.to_string()),
            Err("invalid parameter 'data.items[0].qty': expected a number above 0, got 0".to_owned())
        );
    }
}
