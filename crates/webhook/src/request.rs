//! The check-stock call: the path Commerce calls ([`CHECK_STOCK_PATH`]) and
//! what a stock checker is asked ([`CheckStockRequest`]).
//!
//! Two body shapes are accepted ([`validate`](crate::validate) tells them apart):
//!
//! - the starter kit's contract, `{"data":{"cart_id":…,"items":[{"item_id":…,"sku":…,"qty":…}]}}`
//!   ([`kit_body_schema`]);
//! - Commerce's native payload for `observer.checkout_cart_product_add_before`:
//!   the product and the buy request, `{"eventName":"checkout_cart_product_add_before",
//!   "data":{"product":{"sku":…},"info":{"qty":…}}}`, or without the `data`
//!   wrapper as a hook's `fields` send it (`{"product":{"sku":…},"info":{"qty":…}}`)
//!   ([`native_body_schema`]). It becomes a one-item request without a cart id.
//!
//! Ids are numbers or strings; `qty` is a number or a numeric string (Commerce
//! sends decimal strings such as `"2.0000"`, `"1"`); unknown fields are tolerated.
//!
//! The types deserialize leniently and serialize canonically (`qty` as a JSON
//! number), which is what the HTTP back-office checker posts:
//!
//! ```
//! use commerce_kit_webhook::CheckStockRequest;
//!
//! let req: CheckStockRequest = serde_json::from_str(
//!     r#"{"cart_id":"42","items":[{"item_id":7,"sku":"24-MB01","qty":"2.0000","name":"Bag"}]}"#,
//! ).unwrap();
//! assert_eq!(req.items[0].qty.get(), 2.0);
//! assert_eq!(
//!     serde_json::to_string(&req).unwrap(),
//!     r#"{"cart_id":"42","items":[{"item_id":7,"sku":"24-MB01","qty":2}]}"#
//! );
//! ```
//!
//! The JSON Schema is generated on demand: [`json_schema()`].

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The path Commerce calls (the starter kit's action name).
pub const CHECK_STOCK_PATH: &str = "/webhook/check-stock";

/// The longest `sku` accepted, in bytes: 256. Commerce keeps a product's SKU
/// in `catalog_product_entity.sku`, a `varchar(64)`: at most 64 characters,
/// each at most 4 bytes in MySQL's `utf8mb4`, so 256 bytes hold every SKU
/// Commerce can store, whatever its script, and a longer one cannot name a
/// product. Counting bytes, not characters, costs one comparison. A longer
/// `sku` is refused as `invalid parameter 'data.items[0].sku': expected a
/// string of at most 256 bytes`, so it is never echoed back to the shopper.
pub const MAX_SKU_BYTES: usize = 256;

/// The JSON Schema (draft 2020-12) of [`CheckStockRequest`], what a stock
/// checker is asked (and what the HTTP checker posts), generated on each call.
///
/// ```
/// let schema = commerce_kit_webhook::request::json_schema();
/// assert_eq!(schema["title"], "CheckStockRequest");
/// assert_eq!(schema["required"], serde_json::json!(["items"]));
/// ```
pub fn json_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(CheckStockRequest)).unwrap_or_default()
}

/// The JSON Schema of the starter kit's body, `{"data":{"cart_id":…,"items":[…]}}`.
///
/// ```
/// let schema = commerce_kit_webhook::request::kit_body_schema();
/// assert_eq!(schema["required"], serde_json::json!(["data"]));
/// assert_eq!(schema["$defs"]["KitData"]["required"], serde_json::json!(["cart_id", "items"]));
/// ```
pub fn kit_body_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(KitBody)).unwrap_or_default()
}

/// The JSON Schema of Commerce's native `observer.checkout_cart_product_add_before`
/// payload, with the `data` wrapper (the default payload) or without it (a
/// hook's `fields`); only what check-stock reads is described, other fields
/// are allowed.
///
/// ```
/// let schema = commerce_kit_webhook::request::native_body_schema();
/// assert_eq!(schema["anyOf"].as_array().map(Vec::len), Some(2));
/// assert_eq!(schema["$defs"]["NativeProduct"]["required"], serde_json::json!(["sku"]));
/// ```
pub fn native_body_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(NativeBody)).unwrap_or_default()
}

/// What a stock checker is asked: the items to check, and the cart when the
/// call names one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct CheckStockRequest {
    /// The quote (cart) id: always set by the starter kit's shape; `None` for
    /// Commerce's native add-to-cart payload, which names no cart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart_id: Option<Id>,
    /// The items being added; may be empty (nothing to check). One item for a
    /// native call.
    pub items: Vec<CartItem>,
}

impl CheckStockRequest {
    /// A request for `cart_id` with `items`.
    pub fn new(cart_id: impl Into<Id>, items: Vec<CartItem>) -> Self {
        Self {
            cart_id: Some(cart_id.into()),
            items,
        }
    }

    /// A request that names no cart (Commerce's native add-to-cart call).
    pub fn without_cart(items: Vec<CartItem>) -> Self {
        Self { cart_id: None, items }
    }
}

/// The starter kit's body (schema only: [`kit_body_schema`]).
#[derive(JsonSchema)]
#[allow(dead_code)]
struct KitBody {
    data: KitData,
}

/// The starter kit's `data`.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct KitData {
    /// The quote (cart) id.
    cart_id: Id,
    /// The items being added; may be empty.
    items: Vec<CartItem>,
}

/// Commerce's native add-to-cart payload (schema only: [`native_body_schema`]).
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum NativeBody {
    /// The default payload: the event name and the observer's arguments under `data`.
    Wrapped {
        /// `checkout_cart_product_add_before` when present.
        #[serde(rename = "eventName", default)]
        event_name: Option<String>,
        /// The observer's arguments.
        data: NativeData,
    },
    /// What a hook with `fields` (`product.sku` ← `data.product.sku`, `info.qty` ← `data.info.qty`) sends.
    Fields(NativeData),
}

/// The product being added and the shopper's buy request.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct NativeData {
    /// The product (the parent product for a configurable one).
    product: NativeProduct,
    /// The buy request.
    info: BuyRequest,
}

/// The fields of the product check-stock reads.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct NativeProduct {
    /// The product SKU (at most 256 bytes).
    sku: String,
}

/// The fields of the buy request check-stock reads.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct BuyRequest {
    /// The requested quantity.
    qty: Quantity,
}

/// One cart line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct CartItem {
    /// The quote item id; absent or `null` for an item not saved yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_id: Option<Id>,
    /// The product SKU.
    pub sku: String,
    /// The requested quantity (positive, finite).
    pub qty: Quantity,
}

impl CartItem {
    /// An item without an item id.
    pub fn new(sku: impl Into<String>, qty: Quantity) -> Self {
        Self {
            item_id: None,
            sku: sku.into(),
            qty,
        }
    }

    /// Sets the item id.
    pub fn with_item_id(mut self, id: impl Into<Id>) -> Self {
        self.item_id = Some(id.into());
        self
    }
}

/// A cart or item id: a JSON number (`42`) or a string (`"42"`, masked ids).
/// Serialized back in the form it came in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Id {
    /// A numeric id.
    Number(serde_json::Number),
    /// A string id.
    Text(String),
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Id::Number(n) => fmt::Display::fmt(n, f),
            Id::Text(s) => f.write_str(s),
        }
    }
}

impl From<&str> for Id {
    fn from(s: &str) -> Self {
        Id::Text(s.to_owned())
    }
}

impl From<String> for Id {
    fn from(s: String) -> Self {
        Id::Text(s)
    }
}

impl From<u64> for Id {
    fn from(n: u64) -> Self {
        Id::Number(n.into())
    }
}

/// A requested quantity: positive and finite. Accepts a JSON number or a
/// numeric string (`"2.0000"`); serializes as a number (`2`, `1.5`).
///
/// ```
/// use commerce_kit_webhook::Quantity;
///
/// assert_eq!(Quantity::new(2.0).map(Quantity::get), Some(2.0));
/// assert!(Quantity::new(0.0).is_none());
/// assert!(Quantity::new(f64::NAN).is_none());
/// assert_eq!(Quantity::parse(" 2.0000 ").map(Quantity::get), Some(2.0));
/// assert!(Quantity::parse("two").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Quantity(f64);

impl Quantity {
    /// `Some` when `value` is positive and finite.
    pub fn new(value: f64) -> Option<Self> {
        (value.is_finite() && value > 0.0).then_some(Self(value))
    }

    /// Parses a numeric string (surrounding spaces allowed); `Some` when positive and finite.
    pub fn parse(text: &str) -> Option<Self> {
        text.trim().parse::<f64>().ok().and_then(Self::new)
    }

    /// The value.
    pub fn get(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_amount(self.0, f)
    }
}

/// Writes an amount compactly: whole amounts without a trailing `.0` (`2`,
/// `1.5`); from 1e15 up and below 1e-6 in the shortest form that reads back
/// as the same `f64`, with an exponent (`1e308`, `1.7976931348623157e308`,
/// `2.5e-7`) rather than up to 309 digits; an amount past `f64::MAX` (a sum
/// of huge quantities) as `more than 1.7976931348623157e308`, never `inf`.
pub(crate) fn fmt_amount(value: f64, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let magnitude = value.abs();
    if magnitude.is_infinite() {
        let sign = if value < 0.0 { "-" } else { "" };
        write!(f, "more than {sign}{:e}", f64::MAX)
    } else if magnitude >= 1e15 || (magnitude < 1e-6 && magnitude != 0.0) {
        write!(f, "{value:e}")
    } else if value.fract() == 0.0 {
        write!(f, "{}", value as i64)
    } else {
        write!(f, "{value}")
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.fract() == 0.0 && self.0 < 9.0e15 {
            serializer.serialize_u64(self.0 as u64)
        } else {
            serializer.serialize_f64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw<'a> {
            Number(f64),
            Text(Cow<'a, str>),
        }
        let parsed = match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Quantity::new(n),
            Raw::Text(s) => Quantity::parse(&s),
        };
        parsed.ok_or_else(|| serde::de::Error::custom("expected a positive number"))
    }
}

impl JsonSchema for Quantity {
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Quantity").into()
    }

    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A positive quantity: a number or a numeric string such as \"2.0000\".",
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0},
                {"type": "string", "pattern": "^\\s*[+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?\\s*$"}
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quantities_serialize_as_numbers_without_needless_decimals() {
        let q = |v: f64| serde_json::to_string(&Quantity::new(v).expect("positive")).expect("serialize");
        assert_eq!(q(2.0), "2");
        assert_eq!(q(1.5), "1.5");
        assert_eq!(q(1e20), "1e+20");
    }

    #[test]
    fn amounts_print_compactly() {
        struct Shown(f64);
        impl fmt::Display for Shown {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt_amount(self.0, f)
            }
        }
        let shown = |v: f64| Shown(v).to_string();
        assert_eq!(shown(2.0), "2");
        assert_eq!(shown(1.5), "1.5");
        assert_eq!(shown(0.0), "0");
        assert_eq!(shown(0.000001), "0.000001");
        assert_eq!(shown(999_999_999_999_999.0), "999999999999999");
        assert_eq!(shown(1e15), "1e15");
        assert_eq!(shown(1e308), "1e308");
        assert_eq!(shown(f64::MAX), "1.7976931348623157e308");
        assert_eq!(shown(2.5e-7), "2.5e-7");
        assert_eq!(shown(5e-324), "5e-324");
        assert_eq!(shown(f64::INFINITY), "more than 1.7976931348623157e308");
        assert_eq!(
            Quantity::parse("1e308").map(|q| q.to_string()).as_deref(),
            Some("1e308")
        );
        assert!(Quantity::parse("1e400").is_none());
        assert!(Quantity::parse("-1e400").is_none());
    }

    #[test]
    fn lenient_deserialization_and_unknown_fields() {
        let req: CheckStockRequest = serde_json::from_value(json!({
            "cart_id": 12, "extra": true,
            "items": [{"sku": "A", "qty": 1, "item_id": "x9"}, {"sku": "B", "qty": "0.5", "item_id": null}]
        }))
        .expect("valid");
        assert_eq!(req.cart_id, Some(Id::from(12u64)));
        assert_eq!(req.items[0].item_id, Some(Id::from("x9")));
        assert_eq!(req.items[1].item_id, None);
        assert_eq!(req.items[1].qty.get(), 0.5);
        let bad = serde_json::from_value::<CartItem>(json!({"sku": "A", "qty": "-1"})).expect_err("must fail");
        assert_eq!(bad.to_string(), "expected a positive number");
    }

    #[test]
    fn schema_describes_the_contract() {
        let schema = serde_json::to_value(schemars::schema_for!(CheckStockRequest)).expect("schema");
        assert_eq!(schema["required"], json!(["items"]));
        let item = &schema["$defs"]["CartItem"];
        assert_eq!(item["required"], json!(["sku", "qty"]));
        assert_eq!(schema["$defs"]["Quantity"]["anyOf"][0]["type"], "number");
    }
}
