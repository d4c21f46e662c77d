//! The starter kit's required-parameter check.
//!
//! A required parameter is a dotted path (`data.cart_id`; `items[0].sku` indexes
//! arrays). It is *missing* when the path does not resolve or resolves to `""`;
//! `null`, `0` and `false` are present (later type checks reject them with their
//! own message). The error lists only the missing paths, in the order required:
//!
//! ```
//! use commerce_kit_core::params::require;
//! use serde_json::json;
//!
//! let err = require(&json!({}), &["data.cart_id", "data.items"]).unwrap_err();
//! assert_eq!(err.to_string(), "missing parameter(s) 'data.cart_id,data.items'");
//!
//! let err = require(&json!({"data": {"cart_id": "", "items": null}}), &["data.cart_id", "data.items"])
//!     .unwrap_err();
//! assert_eq!(err.to_string(), "missing parameter(s) 'data.cart_id'");
//!
//! assert!(require(&json!({"data": {"cart_id": 0, "items": []}}), &["data.cart_id", "data.items"]).is_ok());
//! ```

use serde_json::Value;

/// Some required parameters are missing; `Display` is the client-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("missing parameter(s) '{}'", .0.join(","))]
pub struct MissingParameters(pub Vec<String>);

/// Resolves a dotted path (with optional `[index]` suffixes) inside a JSON value.
///
/// ```
/// use commerce_kit_core::params::lookup;
/// use serde_json::json;
///
/// let v = json!({"data": {"items": [{"sku": "A"}]}});
/// assert_eq!(lookup(&v, "data.items[0].sku"), Some(&json!("A")));
/// assert_eq!(lookup(&v, "data.items[1].sku"), None);
/// ```
pub fn lookup<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut current = value;
    for segment in path.split('.') {
        let (name, mut indexes) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        if !name.is_empty() {
            current = current.as_object()?.get(name)?;
        }
        while let Some(rest) = indexes.strip_prefix('[') {
            let close = rest.find(']')?;
            let index: usize = rest[..close].parse().ok()?;
            current = current.as_array()?.get(index)?;
            indexes = &rest[close + 1..];
        }
    }
    Some(current)
}

/// True when `path` is missing from `value`: it does not resolve, or it is `""`.
pub fn is_missing(value: &Value, path: &str) -> bool {
    match lookup(value, path) {
        None => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

/// The required paths that are missing, in the order given.
pub fn missing<'p>(value: &Value, required: &[&'p str]) -> Vec<&'p str> {
    required
        .iter()
        .copied()
        .filter(|path| is_missing(value, path))
        .collect()
}

/// Checks that every required path is present.
pub fn require(value: &Value, required: &[&str]) -> Result<(), MissingParameters> {
    let absent = missing(value, required);
    if absent.is_empty() {
        Ok(())
    } else {
        Err(MissingParameters(absent.into_iter().map(str::to_owned).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const REQ: &[&str] = &["data.uid", "data.event", "data.value"];

    #[test]
    fn starter_kit_semantics_table() {
        let cases = [
            (json!({}), Some("missing parameter(s) 'data.uid,data.event,data.value'")),
            (
                json!({"data": null}),
                Some("missing parameter(s) 'data.uid,data.event,data.value'"),
            ),
            (
                json!({"data": "text"}),
                Some("missing parameter(s) 'data.uid,data.event,data.value'"),
            ),
            (
                json!({"data": {"uid": "", "event": "e", "value": {}}}),
                Some("missing parameter(s) 'data.uid'"),
            ),
            (
                json!({"data": {"uid": "u", "value": 1}}),
                Some("missing parameter(s) 'data.event'"),
            ),
            (
                json!({"data": {"uid": "u", "event": "e"}}),
                Some("missing parameter(s) 'data.value'"),
            ),
            (
                json!({"data": {"uid": "u", "event": "", "value": ""}}),
                Some("missing parameter(s) 'data.event,data.value'"),
            ),
            // null, 0, false, empty containers are present
            (json!({"data": {"uid": null, "event": 0, "value": false}}), None),
            (json!({"data": {"uid": 0, "event": "e", "value": []}}), None),
            (json!({"data": {"uid": "u", "event": "e", "value": {}}}), None),
            // a string with only spaces is present (the kit compares to "" only)
            (json!({"data": {"uid": " ", "event": "e", "value": {}}}), None),
        ];
        for (input, expected) in cases {
            let got = require(&input, REQ).err().map(|e| e.to_string());
            assert_eq!(got.as_deref(), expected, "input {input}");
        }
    }

    #[test]
    fn lookup_indexes_arrays_and_rejects_bad_paths() {
        let v = json!({"a": {"b": [[1, 2], {"c": ""}]}});
        assert_eq!(lookup(&v, "a.b[0][1]"), Some(&json!(2)));
        assert_eq!(lookup(&v, "a.b[1].c"), Some(&json!("")));
        assert!(is_missing(&v, "a.b[1].c"));
        assert_eq!(lookup(&v, "a.b[x]"), None);
        assert_eq!(lookup(&v, "a.b[0"), None);
        assert_eq!(lookup(&v, "a.b.c"), None);
        assert_eq!(lookup(&json!([5]), "[0]"), Some(&json!(5)));
    }

    #[test]
    fn order_follows_the_required_list_not_the_input() {
        let err = require(&json!({"z": 1}), &["b", "a", "z", "c"]).unwrap_err();
        assert_eq!(err.0, vec!["b", "a", "c"]);
    }
}
