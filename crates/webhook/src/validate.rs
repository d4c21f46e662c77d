//! The check-stock validator: a parsed JSON body in, a [`CheckStockRequest`] or a
//! [`ValidationError`] whose `Display` is the exact client-facing message out
//! ([`validate`]); or raw bytes in, a request or a [`RejectedBody`] out
//! ([`validate_body`]).
//!
//! Order of the checks (the first failing step answers):
//!
//! 1. the body is a JSON object;
//! 2. the shape: Commerce's native payload when `product` or `info` is a key
//!    of the body or of its `data`, the starter kit's otherwise; both at once
//!    is refused. A native payload's `eventName`, when present, must be
//!    `checkout_cart_product_add_before` (the hook this endpoint serves;
//!    `observer.` in front is accepted too), and the rest is checked as
//!    [`native`] describes;
//!
//! then, for the starter kit's shape:
//!
//! 1. its required parameters `data.cart_id` and `data.items`
//!    (missing = absent or `""`; `null`, `0` and `false` are present);
//! 2. `data.cart_id` is a string or a number;
//! 3. `data.items` is an array (an empty array is valid: nothing to check);
//! 4. every item's required `sku` and `qty`, all missing ones listed at once;
//! 5. the first item field of the wrong type, in document order: the item is an
//!    object, `item_id` (optional) a string or a number, `sku` a string of at
//!    most [`MAX_SKU_BYTES`] (256) bytes, `qty` a positive finite number or
//!    numeric string (`"1e400"` is beyond f64's range: refused).
//!
//! ```
//! use commerce_kit_webhook::validate::validate;
//! use serde_json::json;
//!
//! let err = validate(json!({})).unwrap_err();
//! assert_eq!(err.to_string(), "missing parameter(s) 'data.cart_id,data.items'");
//!
//! let err = validate(json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": 0}]}})).unwrap_err();
//! assert_eq!(err.to_string(), "invalid parameter 'data.items[0].qty': expected a positive number");
//!
//! let ok = validate(json!({"data": {"cart_id": "7", "items": [{"sku": "A", "qty": "2.0000"}]}})).unwrap();
//! assert_eq!(ok.items[0].qty.get(), 2.0);
//! ```

use commerce_kit_core::body::{BodyError, parse_json};
use commerce_kit_core::params::{self, MissingParameters};
use serde_json::{Map, Value};

use crate::request::{CartItem, CheckStockRequest, Id, MAX_SKU_BYTES, Quantity};

mod express;
mod fast;
pub mod native;

/// The starter kit's required parameters of check-stock, in its order.
pub const REQUIRED: &[&str] = &["data.cart_id", "data.items"];

/// Required fields of each item.
const ITEM_REQUIRED: &[&str] = &["sku", "qty"];

/// What a too long `sku` should have been ([`MAX_SKU_BYTES`]).
const SKU_EXPECTED: &str = "a string of at most 256 bytes";

/// Why a check-stock body is not acceptable. `Display` is the exact client-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// The body is JSON, but not an object.
    #[error("invalid request body: expected a JSON object")]
    NotAnObject,
    /// The body has both the starter kit's keys and Commerce's native ones.
    #[error(
        "invalid request body: both the starter kit's shape (data.cart_id, data.items) and Commerce's native \
         shape (product, info) are present; send one"
    )]
    MixedShapes,
    /// `eventName` names another hook.
    #[error(
        "invalid parameter 'eventName': expected \"checkout_cart_product_add_before\" (this endpoint checks stock \
         before add-to-cart)"
    )]
    OtherEvent,
    /// Required parameters are absent or `""`.
    #[error(transparent)]
    Missing(#[from] MissingParameters),
    /// A parameter is present with the wrong type or value.
    #[error("invalid parameter '{path}': expected {expected}")]
    Invalid {
        /// Dotted path of the parameter, e.g. `data.items[1].qty`.
        path: String,
        /// What was expected, e.g. `a positive number`.
        expected: &'static str,
    },
}

impl ValidationError {
    fn invalid(path: String, expected: &'static str) -> Self {
        ValidationError::Invalid { path, expected }
    }
}

/// Why raw body bytes are not a check-stock request ([`validate_body`]).
/// `Display` is the exact client-facing message; the service answers it as
/// `CheckStockError::Body` or `CheckStockError::Invalid` (it converts with `From`).
#[derive(Debug, thiserror::Error)]
pub enum RejectedBody {
    /// The body is empty or not JSON.
    #[error(transparent)]
    Body(#[from] BodyError),
    /// The JSON does not match the check-stock contract.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// Parses and validates raw body bytes: an empty body or invalid JSON is a
/// [`RejectedBody::Body`], the rest a [`RejectedBody::Invalid`].
///
/// A well-formed body of the usual shape (plain strings and integers) takes an
/// express byte scanner, any other well-formed body a typed fast path, both
/// skipping the JSON tree; anything else goes through [`parse_json`] and
/// [`validate`], which explain the problem. All give the same result for every
/// body the faster ones accept, and they accept nothing serde_json refuses:
/// invalid JSON anywhere, even in a field they skip (`1e400`, invalid UTF-8, a
/// lone surrogate, nesting past serde_json's 128 levels), is left to the
/// precise path, which names it. ([`validate_body_with`] can leave the express
/// scanner out.)
///
/// ```
/// use commerce_kit_webhook::validate::validate_body;
///
/// let ok = validate_body(br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":"2.0000"}]}}"#).unwrap();
/// assert_eq!(ok.items[0].sku, "A");
/// let err = validate_body(br#"{"data": }"#).unwrap_err();
/// assert_eq!(err.to_string(), "invalid JSON at line 1 column 10: expected value");
/// ```
#[inline]
pub fn validate_body(bytes: &[u8]) -> Result<CheckStockRequest, RejectedBody> {
    validate_body_with(bytes, true)
}

/// [`validate_body`], with the express byte scanner (`express: true`, what
/// [`validate_body`] does) or without it (`false`: the typed fast path and the
/// precise path only). Same result either way; only the speed differs, which
/// is what `false` is for: measuring what the express scanner is worth
/// (`CheckStockService::with_express(false)` serves check-stock that way).
///
/// ```
/// use commerce_kit_webhook::validate::{validate_body, validate_body_with};
///
/// let body = br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":"2.0000"}]}}"#;
/// assert_eq!(validate_body_with(body, false).unwrap(), validate_body(body).unwrap());
/// ```
pub fn validate_body_with(bytes: &[u8], express: bool) -> Result<CheckStockRequest, RejectedBody> {
    // The express scanner is called here, and only here.
    if express && let Some(request) = express::parse(bytes) {
        return Ok(request);
    }
    if let Some(request) = fast::parse(bytes) {
        return Ok(request);
    }
    Ok(validate(parse_json(bytes)?)?)
}

/// Validates a whole parsed check-stock body (`{"data":{…}}`), consuming it so
/// strings move into the result instead of being copied.
pub fn validate(body: Value) -> Result<CheckStockRequest, ValidationError> {
    let Value::Object(root) = body else {
        return Err(ValidationError::NotAnObject);
    };
    match native::shape(&root) {
        native::Shape::Native { wrapped } => {
            if root.get("eventName").is_some_and(|name| !native::is_add_to_cart(name)) {
                return Err(ValidationError::OtherEvent);
            }
            native::validate(root, wrapped)
        }
        native::Shape::Mixed => Err(ValidationError::MixedShapes),
        native::Shape::Kit => validate_kit(Value::Object(root)),
    }
}

/// The starter kit's shape.
fn validate_kit(body: Value) -> Result<CheckStockRequest, ValidationError> {
    params::require(&body, REQUIRED)?;
    let Value::Object(mut root) = body else {
        return Err(ValidationError::NotAnObject);
    };
    // `require` succeeded, so `data` is an object holding both keys.
    let mut data = match root.remove("data") {
        Some(Value::Object(data)) => data,
        _ => return Err(MissingParameters(REQUIRED.iter().map(|p| (*p).to_owned()).collect()).into()),
    };
    let cart_id = match data.remove("cart_id") {
        Some(Value::String(s)) => Id::Text(s),
        Some(Value::Number(n)) => Id::Number(n),
        _ => return Err(ValidationError::invalid("data.cart_id".into(), "a string or a number")),
    };
    let raw_items = match data.remove("items") {
        Some(Value::Array(items)) => items,
        _ => return Err(ValidationError::invalid("data.items".into(), "an array")),
    };
    let items = validate_items(raw_items)?;
    Ok(CheckStockRequest::new(cart_id, items))
}

fn validate_items(raw_items: Vec<Value>) -> Result<Vec<CartItem>, ValidationError> {
    let mut items = Vec::with_capacity(raw_items.len());
    let mut missing: Vec<String> = Vec::new();
    let mut first_invalid: Option<ValidationError> = None;
    for (index, raw) in raw_items.into_iter().enumerate() {
        if !raw.is_object() {
            first_invalid.get_or_insert_with(|| ValidationError::invalid(format!("data.items[{index}]"), "an object"));
            continue;
        }
        // Core's semantics: absent or "" is missing; null, 0, false are present.
        let absent = params::missing(&raw, ITEM_REQUIRED);
        if !absent.is_empty() {
            missing.extend(absent.iter().map(|name| format!("data.items[{index}].{name}")));
            continue;
        }
        if !missing.is_empty() || first_invalid.is_some() {
            continue;
        }
        let Value::Object(fields) = raw else { continue };
        match item(index, fields) {
            Ok(item) => items.push(item),
            Err(err) => first_invalid = Some(err),
        }
    }
    if !missing.is_empty() {
        return Err(MissingParameters(missing).into());
    }
    match first_invalid {
        Some(err) => Err(err),
        None => Ok(items),
    }
}

/// One item whose required fields are present: its first type error, or the typed item.
fn item(index: usize, mut fields: Map<String, Value>) -> Result<CartItem, ValidationError> {
    let item_id = match fields.remove("item_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(Id::Text(s)),
        Some(Value::Number(n)) => Some(Id::Number(n)),
        Some(_) => {
            return Err(ValidationError::invalid(
                format!("data.items[{index}].item_id"),
                "a string or a number",
            ));
        }
    };
    let sku = match fields.remove("sku") {
        Some(value) => {
            sku(value).map_err(|expected| ValidationError::invalid(format!("data.items[{index}].sku"), expected))?
        }
        None => return Err(ValidationError::invalid(format!("data.items[{index}].sku"), "a string")),
    };
    let Some(qty) = fields.get("qty").and_then(quantity) else {
        return Err(ValidationError::invalid(
            format!("data.items[{index}].qty"),
            "a positive number",
        ));
    };
    Ok(CartItem { item_id, sku, qty })
}

/// A present `sku`: the string, or what it should have been.
fn sku(value: Value) -> Result<String, &'static str> {
    match value {
        Value::String(s) if s.len() > MAX_SKU_BYTES => Err(SKU_EXPECTED),
        Value::String(s) => Ok(s),
        _ => Err("a string"),
    }
}

/// A present `qty`: a positive finite number or numeric string.
fn quantity(value: &Value) -> Option<Quantity> {
    match value {
        Value::Number(n) => n.as_f64().and_then(Quantity::new),
        Value::String(s) => Quantity::parse(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(body: Value) -> String {
        validate(body).expect_err("must be rejected").to_string()
    }

    #[test]
    fn every_message_is_exact() {
        let cases: Vec<(Value, &str)> = vec![
            (json!([]), "invalid request body: expected a JSON object"),
            (json!("text"), "invalid request body: expected a JSON object"),
            (json!(null), "invalid request body: expected a JSON object"),
            (json!(12), "invalid request body: expected a JSON object"),
            (json!({}), "missing parameter(s) 'data.cart_id,data.items'"),
            (json!({"data": null}), "missing parameter(s) 'data.cart_id,data.items'"),
            (json!({"data": []}), "missing parameter(s) 'data.cart_id,data.items'"),
            (json!({"data": {"items": []}}), "missing parameter(s) 'data.cart_id'"),
            (
                json!({"data": {"cart_id": "", "items": []}}),
                "missing parameter(s) 'data.cart_id'",
            ),
            (json!({"data": {"cart_id": 1}}), "missing parameter(s) 'data.items'"),
            (
                json!({"data": {"cart_id": 1, "items": ""}}),
                "missing parameter(s) 'data.items'",
            ),
            (
                json!({"data": {"cart_id": null, "items": []}}),
                "invalid parameter 'data.cart_id': expected a string or a number",
            ),
            (
                json!({"data": {"cart_id": true, "items": []}}),
                "invalid parameter 'data.cart_id': expected a string or a number",
            ),
            (
                json!({"data": {"cart_id": {"id": 1}, "items": []}}),
                "invalid parameter 'data.cart_id': expected a string or a number",
            ),
            (
                json!({"data": {"cart_id": 1, "items": {}}}),
                "invalid parameter 'data.items': expected an array",
            ),
            (
                json!({"data": {"cart_id": 1, "items": null}}),
                "invalid parameter 'data.items': expected an array",
            ),
            (
                json!({"data": {"cart_id": 1, "items": 0}}),
                "invalid parameter 'data.items': expected an array",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"qty": 1}]}}),
                "missing parameter(s) 'data.items[0].sku'",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "", "qty": 1}]}}),
                "missing parameter(s) 'data.items[0].sku'",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": 1}, {}]}}),
                "missing parameter(s) 'data.items[1].sku,data.items[1].qty'",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A"}, {"sku": "B", "qty": 0}, {"qty": ""}]}}),
                "missing parameter(s) 'data.items[0].qty,data.items[2].sku,data.items[2].qty'",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [1]}}),
                "invalid parameter 'data.items[0]': expected an object",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": 1}, [], {"sku": 5, "qty": 1}]}}),
                "invalid parameter 'data.items[1]': expected an object",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": 5, "qty": 1}]}}),
                "invalid parameter 'data.items[0].sku': expected a string",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": null, "qty": 1}]}}),
                "invalid parameter 'data.items[0].sku': expected a string",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": 1}, {"sku": "S".repeat(257), "qty": 1}]}}),
                "invalid parameter 'data.items[1].sku': expected a string of at most 256 bytes",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "é".repeat(129), "qty": 1}]}}),
                "invalid parameter 'data.items[0].sku': expected a string of at most 256 bytes",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": "1e400"}]}}),
                "invalid parameter 'data.items[0].qty': expected a positive number",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": 1, "item_id": [1]}]}}),
                "invalid parameter 'data.items[0].item_id': expected a string or a number",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": "abc"}]}}),
                "invalid parameter 'data.items[1].qty': expected a positive number",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": 0}]}}),
                "invalid parameter 'data.items[0].qty': expected a positive number",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": -2}]}}),
                "invalid parameter 'data.items[0].qty': expected a positive number",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": "-2.0000"}]}}),
                "invalid parameter 'data.items[0].qty': expected a positive number",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": "NaN"}]}}),
                "invalid parameter 'data.items[0].qty': expected a positive number",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": "inf"}]}}),
                "invalid parameter 'data.items[0].qty': expected a positive number",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": null}]}}),
                "invalid parameter 'data.items[0].qty': expected a positive number",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": false}]}}),
                "invalid parameter 'data.items[0].qty': expected a positive number",
            ),
            (
                json!({"data": {"cart_id": 1, "items": [{"sku": "A", "qty": [1]}]}}),
                "invalid parameter 'data.items[0].qty': expected a positive number",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(msg(input.clone()), expected, "input {input}");
        }
    }

    #[test]
    fn the_sku_bound_is_the_one_the_message_names() {
        assert_eq!(SKU_EXPECTED, format!("a string of at most {MAX_SKU_BYTES} bytes"));
        let at_bound = json!({"data": {"cart_id": 1, "items": [{"sku": "é".repeat(128), "qty": 1}]}});
        let bytes = serde_json::to_vec(&at_bound).expect("serialize");
        assert_eq!(
            validate(at_bound).expect("256 bytes are accepted").items[0].sku.len(),
            256
        );
        assert_eq!(express::parse(&bytes), fast::parse(&bytes));
        assert!(fast::parse(&bytes).is_some());
        for sku in ["S".repeat(257), "é".repeat(129)] {
            let body = serde_json::to_vec(&json!({"data": {"cart_id": 1, "items": [{"sku": sku, "qty": 1}]}}))
                .expect("serialize");
            assert!(express::parse(&body).is_none());
            assert!(fast::parse(&body).is_none());
        }
    }

    #[test]
    fn missing_items_beat_type_errors_anywhere() {
        let body = json!({"data": {"cart_id": 1, "items": [{"sku": 1, "qty": 1}, {"sku": "B"}]}});
        assert_eq!(msg(body), "missing parameter(s) 'data.items[1].qty'");
        let body = json!({"data": {"cart_id": 1, "items": [7, {"sku": "B"}]}});
        assert_eq!(msg(body), "missing parameter(s) 'data.items[1].qty'");
    }

    #[test]
    fn accepted_shapes() {
        let req = validate(json!({"data": {"cart_id": "q-1", "items": []}})).expect("empty items");
        assert_eq!(req.cart_id, Some(Id::from("q-1")));
        assert!(req.items.is_empty());

        let req = validate(json!({
            "eventName": "x",
            "data": {"cart_id": 0, "extra": 1, "items": [
                {"item_id": 5, "sku": "A", "qty": "2.0000", "name": "n"},
                {"item_id": "", "sku": "B", "qty": 0.5},
                {"item_id": null, "sku": " ", "qty": " 3 "},
                {"sku": "C", "qty": 1e2}
            ]}
        }))
        .expect("valid");
        assert_eq!(req.cart_id, Some(Id::from(0u64)));
        let got: Vec<(Option<Id>, &str, f64)> = req
            .items
            .iter()
            .map(|i| (i.item_id.clone(), i.sku.as_str(), i.qty.get()))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some(Id::from(5u64)), "A", 2.0),
                (None, "B", 0.5),
                (None, " ", 3.0),
                (None, "C", 100.0)
            ]
        );
    }

    /// The precise path on bytes (JSON errors included), for comparisons.
    fn precise(bytes: &[u8]) -> Result<CheckStockRequest, String> {
        parse_json(bytes)
            .map_err(|e| e.to_string())
            .and_then(|v| validate(v).map_err(|e| e.to_string()))
    }

    #[test]
    fn fast_path_takes_well_formed_bodies_and_declines_the_rest() {
        let accepted: &[&[u8]] = &[
            br#"{"data":{"cart_id":"42","items":[{"item_id":7,"sku":"24-MB01","qty":"2.0000"}]}}"#,
            br#" {"eventName":"x","data":{"items":[],"cart_id":0,"extra":[1,{"a":null}]}} "#,
            br#"{"data":{"cart_id":-1.5,"items":[{"sku":"A\u0042","qty":1e2,"item_id":null},{"sku":"C","qty":3,"item_id":""}]}}"#,
            br#"{"data":{"cart_id":1,"items":[{"s\u006bu":"A","qty":" 3 "}]}}"#,
        ];
        for body in accepted {
            let fast = fast::parse(body);
            assert!(fast.is_some(), "{}", String::from_utf8_lossy(body));
            assert_eq!(fast.map(Ok), Some(precise(body)), "{}", String::from_utf8_lossy(body));
        }
        let declined: &[&[u8]] = &[
            b"",
            b"[]",
            br#"[{"cart_id":1,"items":[]}]"#,
            br#"{"data":[1,[]]}"#,
            br#"{"data":{"cart_id":1,"items":[["A",1]]}}"#,
            br#"{"data":{"cart_id":1,"items":[]},"data":{"cart_id":2,"items":[]}}"#,
            br#"{"data":{"cart_id":1,"cart_id":2,"items":[]}}"#,
            br#"{"data":{"cart_id":1,"items":[{"sku":"A","sku":"B","qty":1}]}}"#,
            br#"{"data":{"cart_id":"","items":[]}}"#,
            br#"{"data":{"cart_id":null,"items":[]}}"#,
            br#"{"data":{"cart_id":1,"items":[{"sku":"","qty":1}]}}"#,
            br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":0}]}}"#,
            br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":1,"item_id":true}]}}"#,
            br#"{"data":{"cart_id":1,"items":[]}} x"#,
            br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":1e999}]}}"#,
        ];
        for body in declined {
            assert!(fast::parse(body).is_none(), "{}", String::from_utf8_lossy(body));
            assert!(express::parse(body).is_none(), "{}", String::from_utf8_lossy(body));
        }
        // Duplicates are declined by the fast path; the precise path keeps the last value.
        let dup = br#"{"data":{"cart_id":1,"items":[{"sku":"A","sku":"B","qty":1}]}}"#;
        assert_eq!(validate_body(dup).expect("valid").items[0].sku, "B");
    }

    #[test]
    fn express_path_takes_the_usual_shape_and_leaves_the_rest_to_the_fast_path() {
        let usual: &[&[u8]] = &[
            br#"{"data":{"cart_id":"42","items":[{"item_id":1,"sku":"24-MB01","qty":"2.0000"},{"item_id":2,"sku":"24-MB04","qty":"1.0000"}]}}"#,
            b" {\n \"eventName\" : \"x\", \"data\": {\"items\" : [ ] ,\"cart_id\":0, \"extra\": null, \"f\": true} }\r\n",
            b"{\"data\":{\"cart_id\":7,\"items\":[{\"sku\":\"\xc3\xa9t\xc3\xa9\",\"qty\":3,\"item_id\":\"\"},{\"item_id\":null,\"sku\":\" \",\"qty\":\" 3 \",\"name\":\"n\"}]}}",
            br#"{"data":{"cart_id":"q","items":[{"sku":"A","qty":"1e2","price":-1.5e3,"sale":false}]},"n":12345678901234567890}"#,
        ];
        for body in usual {
            let express = express::parse(body);
            assert!(express.is_some(), "{}", String::from_utf8_lossy(body));
            assert_eq!(express, fast::parse(body), "{}", String::from_utf8_lossy(body));
        }
        // Left to the fast path, which accepts them.
        let unusual: &[&[u8]] = &[
            br#"{"data":{"cart_id":"a\/b","items":[]}}"#,
            br#"{"data":{"cart_id":-1,"items":[]}}"#,
            br#"{"data":{"cart_id":1.5,"items":[]}}"#,
            br#"{"data":{"cart_id":18446744073709551615,"items":[]}}"#,
            br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":2.5}]}}"#,
            br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":1,"item_id":-3}]}}"#,
            br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":1,"options":{"color":"red"}}]}}"#,
            br#"{"data":{"cart_id":1,"items":[],"quote":[1,2]}}"#,
            br#"{"d\u0061ta":{"cart_id":1,"items":[]}}"#,
        ];
        for body in unusual {
            assert!(express::parse(body).is_none(), "{}", String::from_utf8_lossy(body));
            assert!(fast::parse(body).is_some(), "{}", String::from_utf8_lossy(body));
        }
        // Invalid JSON is never accepted.
        let invalid: &[&[u8]] = &[
            br#"{"data":{"cart_id":1,"items":[],}}"#,
            br#"{"data":{"cart_id":01,"items":[]}}"#,
            br#"{"data":{"cart_id":1.,"items":[]}}"#,
            br#"{"data":{"cart_id":1,"items":[]},"x":tru}"#,
            br#"{"data":{"cart_id":1,"items":[]},"x":-}"#,
            br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":1},]}}"#,
            b"{\"data\":{\"cart_id\":\"a\tb\",\"items\":[]}}",
            b"{\"data\":{\"cart_id\":\"\xff\",\"items\":[]}}",
            br#"{"data":{"cart_id":1,"items":[]}"#,
            br#"{"data":{"cart_id":1 "items":[]}}"#,
        ];
        for body in invalid {
            assert!(express::parse(body).is_none(), "{}", String::from_utf8_lossy(body));
            assert!(precise(body).is_err(), "{}", String::from_utf8_lossy(body));
        }
    }

    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn scalar() -> impl Strategy<Value = Value> {
            prop_oneof![
                Just(json!(null)),
                Just(json!("")),
                Just(json!(" ")),
                Just(json!("A")),
                Just(json!("2.0000")),
                Just(json!("-1")),
                Just(json!("abc")),
                Just(json!("1e3")),
                Just(json!(true)),
                Just(json!(0)),
                Just(json!(1)),
                Just(json!(-2)),
                Just(json!(0.5)),
                Just(json!(18446744073709551615u64)),
                Just(json!("L".repeat(MAX_SKU_BYTES))),
                Just(json!("L".repeat(MAX_SKU_BYTES + 1))),
                Just(json!([])),
                Just(json!({})),
            ]
        }

        fn item() -> impl Strategy<Value = Value> {
            let field = |name: &'static str| proptest::option::weighted(0.8, scalar()).prop_map(move |v| (name, v));
            let valid = (0u32..4, 1u32..50, proptest::bool::ANY).prop_map(|(sku, qty, text)| {
                let qty = if text { json!(format!("{qty}.0000")) } else { json!(qty) };
                json!({"item_id": sku, "sku": format!("S{sku}"), "qty": qty})
            });
            prop_oneof![
                4 => valid,
                4 => (field("item_id"), field("sku"), field("qty"), proptest::bool::ANY).prop_map(
                    |(a, b, c, extra)| {
                        let mut m = serde_json::Map::new();
                        for (k, v) in [a, b, c] {
                            if let Some(v) = v {
                                m.insert(k.to_owned(), v);
                            }
                        }
                        if extra {
                            m.insert("name".into(), json!({"x": [1]}));
                        }
                        Value::Object(m)
                    }
                ),
                1 => scalar(),
            ]
        }

        fn body() -> impl Strategy<Value = Value> {
            let items = prop_oneof![
                4 => proptest::collection::vec(item(), 0..5).prop_map(Value::Array),
                1 => scalar(),
            ];
            let data = (
                proptest::option::weighted(0.9, scalar()),
                proptest::option::weighted(0.9, items),
            )
                .prop_map(|(cart_id, items)| {
                    let mut m = serde_json::Map::new();
                    if let Some(c) = cart_id {
                        m.insert("cart_id".into(), c);
                    }
                    if let Some(i) = items {
                        m.insert("items".into(), i);
                    }
                    Value::Object(m)
                });
            prop_oneof![
                8 => data.prop_map(|d| json!({"data": d, "eventName": "e"})),
                1 => scalar(),
                1 => Just(json!({"other": 1})),
            ]
        }

        /// Raw JSON text for a field the paths ignore: some invalid (out of
        /// range numbers, invalid UTF-8, lone surrogates, control characters,
        /// bad escapes and literals, nesting around serde_json's recursion
        /// limit of 128), some valid and close to those.
        fn ignored_fragment() -> impl Strategy<Value = Vec<u8>> {
            let fixed: Vec<&'static [u8]> = vec![
                b"1e400",
                b"-1e400",
                b"1E+400",
                b"1e308",
                b"1.7976931348623157e308",
                b"1.7976931348623159e308",
                b"17976931348623159e292",
                b"1e-400",
                b"-0.0e-5000",
                b"1.5e3",
                b"-12",
                b"0.5",
                b"\"\xff\"",
                b"\"\xc3\"",
                b"\"\xed\xa0\x80\"",
                b"\"\xc3\xa9\"",
                b"\"\\ud800\"",
                b"\"\\udc00\"",
                b"\"\\ud800\\u0041\"",
                b"\"\\ud83d\\ude80\"",
                b"\"a\tb\"",
                b"\"a\\tb\"",
                b"\"\\x41\"",
                b"tru",
                b"nul",
                b"NaN",
                b"Infinity",
                b"{\"\xff\":1}",
                b"{\"\\ud800\":1}",
                b"{\"k\":[1e999]}",
                b"[1,{\"a\":\"\\udfff\"}]",
                b"{\"k\":1,}",
            ];
            let long_integer = (290usize..330).prop_map(|n| {
                let mut digits = vec![b'9'; n];
                digits[0] = b'1';
                digits
            });
            let nested =
                (prop_oneof![110usize..135, Just(100_000usize)], proptest::bool::ANY).prop_map(|(depth, objects)| {
                    let (open, close): (&[u8], &[u8]) = if objects { (b"{\"a\":", b"}") } else { (b"[", b"]") };
                    let mut text = open.repeat(depth);
                    text.extend_from_slice(b"0");
                    text.extend(close.repeat(depth));
                    text
                });
            prop_oneof![
                3 => proptest::sample::select(fixed).prop_map(<[u8]>::to_vec),
                1 => long_integer,
                1 => nested,
            ]
        }

        /// `value` serialized, with `fragment` as the value of an ignored key
        /// `"meta"` in the envelope, in `data`, or in the first item (where
        /// there is one), chosen by `place`.
        fn with_fragment(value: &Value, place: u8, fragment: &[u8]) -> Vec<u8> {
            const MARK: &str = "\u{1}fragment\u{1}";
            let mut value = value.clone();
            let put = |target: Option<&mut Value>| match target {
                Some(Value::Object(map)) => {
                    map.insert("meta".into(), json!(MARK));
                    true
                }
                _ => false,
            };
            let placed = match place % 3 {
                0 => false,
                1 => put(value.get_mut("data")),
                _ => put(value.pointer_mut("/data/items/0")),
            };
            if !placed {
                put(Some(&mut value));
            }
            let text = serde_json::to_vec(&value).expect("serialize");
            let mark = serde_json::to_vec(MARK).expect("serialize");
            match text.windows(mark.len()).position(|w| w == mark.as_slice()) {
                Some(at) => [&text[..at], fragment, &text[at + mark.len()..]].concat(),
                None => text,
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            /// The fast path accepts exactly the bodies the precise path accepts
            /// (for bodies without duplicate keys), with the same result, and
            /// the express path a part of them, with the same result too.
            #[test]
            fn fast_and_precise_paths_agree(value in body()) {
                let bytes = serde_json::to_vec(&value).expect("serialize");
                let fast = fast::parse(&bytes);
                let precise = precise(&bytes);
                // The express path accepts a subset of what the fast path accepts, identically.
                if let Some(express) = express::parse(&bytes) {
                    prop_assert_eq!(Some(express), fast.clone());
                }
                match (&fast, &precise) {
                    (Some(f), Ok(p)) => prop_assert_eq!(f, p),
                    (None, Err(_)) => {}
                    _ => prop_assert!(false, "fast {:?} vs precise {:?} on {}", fast, precise, value),
                }
                prop_assert_eq!(validate_body_with(&bytes, false).map_err(|e| e.to_string()), precise.clone());
                prop_assert_eq!(validate_body(&bytes).map_err(|e| e.to_string()), precise);
            }

            /// Invalid JSON in a field no path uses is invalid JSON for every
            /// path: express, fast and precise give one verdict on every body.
            #[test]
            fn every_path_gives_one_verdict_on_fragments_in_ignored_fields(
                value in body(),
                place in 0u8..3,
                fragment in ignored_fragment(),
            ) {
                let bytes = with_fragment(&value, place, &fragment);
                let shown = String::from_utf8_lossy(&bytes[..bytes.len().min(300)]).into_owned();
                let precise = precise(&bytes);
                let fast = fast::parse(&bytes);
                let express = express::parse(&bytes);
                if let Some(express) = express {
                    prop_assert_eq!(Some(express), fast.clone(), "{}", shown);
                }
                match (&fast, &precise) {
                    (Some(f), Ok(p)) => prop_assert_eq!(f, p, "{}", shown),
                    (None, _) => {}
                    (Some(_), Err(e)) => prop_assert!(false, "fast accepted what the precise path refuses ({}): {}", e, shown),
                }
                if serde_json::from_slice::<Value>(&bytes).is_err() {
                    prop_assert!(precise.as_ref().is_err_and(|e| e.starts_with("invalid JSON at line ")), "{:?}", precise);
                }
                prop_assert_eq!(validate_body_with(&bytes, false).map_err(|e| e.to_string()), precise.clone(), "{}", shown);
                prop_assert_eq!(validate_body(&bytes).map_err(|e| e.to_string()), precise, "{}", shown);
            }
        }
    }
}
