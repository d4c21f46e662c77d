//! The `value` of each built-in back-office event, as Rust types.
//!
//! The built-in catalog's JSON Schemas are generated from these types
//! (schemars), following the starter kit's `schema.json` files: the same
//! required fields and types, extra fields allowed where the kit allows them
//! (create/update) and refused where it refuses them (delete, shipments).
//! Handlers can deserialize an event's `data` into them.
//!
//! The two shipment events differ in shape, as in the kit: shipment create
//! carries one `comment` object (`{comment, visibleOnFront}`), shipment update
//! a `comments` array whose entries also have `entityId` and `notifyCustomer`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `be-observer.catalog_product_create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProductCreate {
    /// Product SKU.
    pub sku: String,
    /// Product name.
    pub name: String,
    /// Price (optional, a number when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "f64")]
    pub price: Option<f64>,
    /// Description.
    pub description: String,
}

/// `be-observer.catalog_product_update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProductUpdate {
    /// Product SKU.
    pub sku: String,
    /// Product name.
    pub name: String,
    /// Price.
    pub price: f64,
    /// Description.
    pub description: String,
}

/// `be-observer.catalog_product_delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductDelete {
    /// SKU of the product to delete.
    pub sku: String,
}

/// `be-observer.customer_create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CustomerCreate {
    /// First name.
    pub name: String,
    /// Last name.
    pub lastname: String,
    /// E-mail address.
    pub email: String,
}

/// `be-observer.customer_update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CustomerUpdate {
    /// Commerce customer id.
    pub id: f64,
    /// First name.
    pub name: String,
    /// Last name.
    pub lastname: String,
    /// E-mail address.
    pub email: String,
}

/// `be-observer.customer_delete` and `be-observer.customer_group_delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteById {
    /// Commerce id of the entity to delete.
    pub id: f64,
}

/// `be-observer.customer_group_create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CustomerGroupCreate {
    /// Group name.
    pub name: String,
    /// Tax class id.
    #[serde(rename = "taxClassId")]
    pub tax_class_id: f64,
}

/// `be-observer.customer_group_update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CustomerGroupUpdate {
    /// Commerce group id.
    pub id: f64,
    /// Group name.
    pub name: String,
    /// Tax class id.
    #[serde(rename = "taxClassId")]
    pub tax_class_id: f64,
}

/// `be-observer.sales_order_status_update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OrderStatusUpdate {
    /// Commerce order id.
    pub id: i64,
    /// New status, e.g. `shipped`.
    pub status: String,
    /// Whether Commerce notifies the customer.
    #[serde(rename = "notifyCustomer", default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub notify_customer: Option<bool>,
}

/// One shipped order item (shipment create).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ShipmentItem {
    /// Order item id.
    pub order_item_id: f64,
    /// Quantity shipped.
    pub qty: f64,
}

/// One tracking number (shipment create).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ShipmentTrack {
    /// Tracking number.
    pub track_number: String,
    /// Carrier title.
    pub title: String,
    /// Carrier code, e.g. `custom`.
    pub carrier_code: String,
}

/// The shipment's comment (shipment create): one object, not an array, and
/// without `notifyCustomer`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ShipmentComment {
    /// Comment text.
    pub comment: String,
    /// Whether the comment shows on the storefront.
    pub visible_on_front: bool,
}

/// `be-observer.sales_order_shipment_create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ShipmentCreate {
    /// Commerce order id.
    pub order_id: f64,
    /// Items shipped.
    pub items: Vec<ShipmentItem>,
    /// Tracking numbers.
    pub tracks: Vec<ShipmentTrack>,
    /// The comment (one object).
    pub comment: ShipmentComment,
    /// Inventory source code, e.g. `default`.
    pub stock_source_code: String,
}

/// One shipped order item (shipment update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ShipmentItemUpdate {
    /// Shipment item entity id.
    pub entity_id: f64,
    /// Order item id.
    pub order_item_id: f64,
    /// Quantity shipped.
    pub qty: f64,
}

/// One tracking number (shipment update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ShipmentTrackUpdate {
    /// Track entity id.
    pub entity_id: f64,
    /// Tracking number.
    pub track_number: String,
    /// Carrier title.
    pub title: String,
    /// Carrier code.
    pub carrier_code: String,
}

/// One shipment comment (shipment update).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ShipmentCommentUpdate {
    /// Comment entity id.
    pub entity_id: f64,
    /// Whether the customer is notified.
    pub notify_customer: bool,
    /// Comment text.
    pub comment: String,
    /// Whether the comment shows on the storefront.
    pub visible_on_front: bool,
}

/// `be-observer.sales_order_shipment_update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ShipmentUpdate {
    /// Shipment id.
    pub id: f64,
    /// Commerce order id.
    pub order_id: f64,
    /// Items shipped.
    pub items: Vec<ShipmentItemUpdate>,
    /// Tracking numbers.
    pub tracks: Vec<ShipmentTrackUpdate>,
    /// Comments.
    pub comments: Vec<ShipmentCommentUpdate>,
    /// Inventory source code.
    pub stock_source_code: String,
}

/// One source item of `be-observer.catalog_stock_update`, whose value is an
/// array of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StockUpdateItem {
    /// Product SKU.
    pub sku: String,
    /// Inventory source code.
    pub source: String,
    /// Quantity at that source.
    pub quantity: f64,
    /// Whether the item is out of stock at that source.
    #[serde(rename = "outOfStock")]
    pub out_of_stock: bool,
}
