//! Commerce's native payload for `observer.checkout_cart_product_add_before`:
//! the product being added and the shopper's buy request, as one item to
//! check (the sku from `product.sku`, the quantity from `info.qty`).
//!
//! Commerce sends `{"eventName":"checkout_cart_product_add_before","data":{"product":{…},"info":{…}}}`
//! by default, and only the selected paths, without the `data` wrapper, when
//! the hook lists `fields` (`product.sku` ← `data.product.sku`, `info.qty` ←
//! `data.info.qty`). Messages name the paths as they arrived:
//!
//! 1. `product` and `info`, when present, are objects;
//! 2. the required `product.sku` and `info.qty` (absent or `""`), all at once:
//!    `missing parameter(s) 'data.product.sku,data.info.qty'`;
//! 3. `product.sku` is a string of at most 256 bytes, `info.qty` a positive
//!    finite number or numeric string.
//!
//! For a configurable product, `product` is the parent product Commerce
//! added (its sku); the chosen child is only named by entity id in the buy
//! request (`info.selected_configurable_option`), so a checker keyed by child
//! skus needs a hook field that carries the child's sku.
//!
//! ```
//! use commerce_kit_webhook::validate::validate;
//! use serde_json::json;
//!
//! let req = validate(json!({
//!     "eventName": "checkout_cart_product_add_before",
//!     "data": {"product": {"sku": "24-MB01", "type_id": "simple"}, "info": {"qty": "2"}}
//! })).unwrap();
//! assert_eq!((req.cart_id, req.items[0].sku.as_str(), req.items[0].qty.get()), (None, "24-MB01", 2.0));
//!
//! let err = validate(json!({"product": {"sku": "24-MB01"}})).unwrap_err();
//! assert_eq!(err.to_string(), "missing parameter(s) 'info.qty'");
//! ```

use commerce_kit_core::params::MissingParameters;
use serde_json::{Map, Value};

use super::{ValidationError, quantity, sku};
use crate::request::{CartItem, CheckStockRequest};

/// The hook's event name in Commerce's payload.
pub const EVENT_NAME: &str = "checkout_cart_product_add_before";

/// Which contract a body follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// The starter kit's `{"data":{"cart_id","items"}}`.
    Kit,
    /// Commerce's native payload; `wrapped` when under `data`.
    Native { wrapped: bool },
    /// Keys of both.
    Mixed,
}

/// True for `checkout_cart_product_add_before` (or with `observer.` in front).
pub(crate) fn is_add_to_cart(name: &Value) -> bool {
    name.as_str()
        .is_some_and(|n| n.strip_prefix("observer.").unwrap_or(n) == EVENT_NAME)
}

fn has_native_keys(object: &Map<String, Value>) -> bool {
    object.contains_key("product") || object.contains_key("info")
}

/// Tells the shapes apart by their keys: `product` or `info` in the body or
/// in its `data` is native; `cart_id` or `items` in `data` is the kit's.
pub(crate) fn shape(root: &Map<String, Value>) -> Shape {
    let data = root.get("data").and_then(Value::as_object);
    let kit = data.is_some_and(|d| d.contains_key("cart_id") || d.contains_key("items"));
    let native_root = has_native_keys(root);
    let native_data = data.is_some_and(has_native_keys);
    match (kit, native_root || native_data) {
        (true, true) => Shape::Mixed,
        (false, true) => Shape::Native { wrapped: !native_root },
        _ => Shape::Kit,
    }
}

/// Validates a native body (see the module docs).
pub(crate) fn validate(mut root: Map<String, Value>, wrapped: bool) -> Result<CheckStockRequest, ValidationError> {
    let (prefix, mut payload) = if wrapped {
        match root.remove("data") {
            Some(Value::Object(data)) => ("data.", data),
            _ => ("data.", Map::new()),
        }
    } else {
        ("", root)
    };
    let path = |name: &str| format!("{prefix}{name}");
    let product = payload.remove("product");
    let info = payload.remove("info");
    let sku_value = field(product.as_ref(), "sku");
    let qty_value = field(info.as_ref(), "qty");

    for (name, value) in [("product", &product), ("info", &info)] {
        if value.as_ref().is_some_and(|v| !v.is_object()) {
            return Err(ValidationError::invalid(path(name), "an object"));
        }
    }
    let mut missing = Vec::new();
    if is_missing(sku_value) {
        missing.push(path("product.sku"));
    }
    if is_missing(qty_value) {
        missing.push(path("info.qty"));
    }
    let (Some(sku_value), Some(qty_value)) = (sku_value, qty_value) else {
        return Err(MissingParameters(missing).into());
    };
    if !missing.is_empty() {
        return Err(MissingParameters(missing).into());
    }
    let sku = sku(sku_value.clone()).map_err(|expected| ValidationError::invalid(path("product.sku"), expected))?;
    let Some(qty) = quantity(qty_value) else {
        return Err(ValidationError::invalid(path("info.qty"), "a positive number"));
    };
    Ok(CheckStockRequest::without_cart(vec![CartItem::new(sku, qty)]))
}

/// `object.name` when `object` is an object holding it.
fn field<'v>(object: Option<&'v Value>, name: &str) -> Option<&'v Value> {
    object.and_then(Value::as_object).and_then(|o| o.get(name))
}

/// Core's semantics: absent or `""` is missing; `null`, `0` and `false` are present.
fn is_missing(value: Option<&Value>) -> bool {
    match value {
        None => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}
