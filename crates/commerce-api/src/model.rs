//! Request bodies of the calls whose shape the client fixes (field names as
//! Commerce's REST schema spells them). Products, customers and customer
//! groups are free-form JSON objects (`serde_json::Value` or your own
//! `Serialize` type): the client only wraps them in their envelope.

use serde::{Deserialize, Serialize};

/// One `sourceItems[]` entry of `POST /V1/inventory/source-items`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceItem {
    /// The product's SKU.
    pub sku: String,
    /// The inventory source (`default` on a single-source store).
    pub source_code: String,
    /// Quantity on hand at that source.
    pub quantity: f64,
    /// 1 in stock, 0 out of stock.
    pub status: u8,
}

/// `statusHistory` of `POST /V1/orders/{id}/comments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusHistory {
    /// The comment text.
    pub comment: String,
    /// 1 when the customer was notified.
    pub is_customer_notified: u8,
    /// 1 when the comment shows on the storefront.
    pub is_visible_on_front: u8,
    /// An order status to set along with the comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// One shipped line of `POST /V1/order/{id}/ship`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipItem {
    /// The order item's id.
    pub order_item_id: u64,
    /// Quantity shipped.
    pub qty: f64,
}

/// A tracking number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipTrack {
    /// Tracking number.
    pub track_number: String,
    /// Carrier title.
    pub title: String,
    /// Carrier code (`custom`, `ups`, …).
    pub carrier_code: String,
}

/// The comment of `POST /V1/order/{id}/ship`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipComment {
    /// The comment text.
    pub comment: String,
    /// 1 when the comment shows on the storefront.
    pub is_visible_on_front: u8,
}

/// The body of `POST /V1/order/{id}/ship` (Commerce's `salesShipOrderV1`).
///
/// Adobe's inventory tutorial puts the source of a multi-source shipment in
/// `arguments.extension_attributes.source_code`
/// ([`ShipOrder::with_source_code`]); the starter kit's transformer sends a
/// top-level `extension_attributes.source_code`, which is not a parameter of
/// that endpoint.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ShipOrder {
    /// Lines shipped (all remaining lines when empty).
    #[serde(default)]
    pub items: Vec<ShipItem>,
    /// Send the shipment e-mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<bool>,
    /// Add the comment to the e-mail.
    #[serde(rename = "appendComment", skip_serializing_if = "Option::is_none")]
    pub append_comment: Option<bool>,
    /// A comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<ShipComment>,
    /// Tracking numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tracks: Vec<ShipTrack>,
    /// `{"extension_attributes": {"source_code": …}}` and other arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<serde_json::Value>,
}

impl ShipOrder {
    /// Ships from inventory source `code` (multi-source inventory).
    pub fn with_source_code(mut self, code: impl Into<String>) -> Self {
        self.arguments = Some(serde_json::json!({"extension_attributes": {"source_code": code.into()}}));
        self
    }
}
