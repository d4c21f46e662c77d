//! The ingestion request body: `{"data": {"uid": …, "event": …, "value": …}}`.

use commerce_kit_core::params::{MissingParameters, lookup, require};
use serde_json::Value;

/// The required parameters, in the starter kit's order.
pub const REQUIRED: [&str; 3] = ["data.uid", "data.event", "data.value"];

/// A validated ingestion request (before the catalog check).
#[derive(Debug, Clone, PartialEq)]
pub struct IngestionEvent {
    /// The back office's id of this event; becomes the CloudEvent `id`, so a
    /// retried delivery is recognisably the same event.
    pub uid: String,
    /// The event code, e.g. `be-observer.catalog_product_create`.
    pub event: String,
    /// The payload; becomes the CloudEvent `data`.
    pub value: Value,
}

/// Why the body is not an ingestion request. `Display` is the client-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Some of `data.uid`, `data.event`, `data.value` are absent or `""`.
    #[error(transparent)]
    Missing(#[from] MissingParameters),
    /// A parameter has the wrong JSON type.
    #[error("invalid parameter '{name}': expected {expected}, found {found}")]
    WrongType {
        /// The parameter path, e.g. `data.event`.
        name: &'static str,
        /// What is accepted.
        expected: &'static str,
        /// The JSON type received.
        found: &'static str,
    },
}

impl IngestionEvent {
    /// Checks the required parameters (starter-kit semantics: absent or `""` is
    /// missing) and their types: `uid` a string or number, `event` a string,
    /// `value` any JSON (the catalog's schema checks it).
    pub fn from_json(mut body: Value) -> Result<Self, PayloadError> {
        require(&body, &REQUIRED)?;
        let uid = match lookup(&body, "data.uid") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            other => return Err(wrong("data.uid", "a string or a number", other)),
        };
        let event = match lookup(&body, "data.event") {
            Some(Value::String(s)) => s.clone(),
            other => return Err(wrong("data.event", "a string", other)),
        };
        // `require` proved data.value exists, so `data` is an object holding it.
        let value = body
            .get_mut("data")
            .and_then(Value::as_object_mut)
            .and_then(|data| data.remove("value"))
            .unwrap_or(Value::Null);
        Ok(IngestionEvent { uid, event, value })
    }
}

fn wrong(name: &'static str, expected: &'static str, found: Option<&Value>) -> PayloadError {
    PayloadError::WrongType {
        name,
        expected,
        found: match found {
            None | Some(Value::Null) => "null",
            Some(Value::Bool(_)) => "a boolean",
            Some(Value::Number(_)) => "a number",
            Some(Value::String(_)) => "a string",
            Some(Value::Array(_)) => "an array",
            Some(Value::Object(_)) => "an object",
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameters_and_types() {
        let ok = IngestionEvent::from_json(json!({"data": {"uid": 7, "event": "e", "value": [1]}})).expect("ok");
        assert_eq!(
            ok,
            IngestionEvent {
                uid: "7".into(),
                event: "e".into(),
                value: json!([1])
            }
        );
        let cases = [
            (json!({}), "missing parameter(s) 'data.uid,data.event,data.value'"),
            (
                json!({"data": {"uid": "", "event": "e", "value": 1}}),
                "missing parameter(s) 'data.uid'",
            ),
            (
                json!({"data": {"uid": "u", "event": "", "value": ""}}),
                "missing parameter(s) 'data.event,data.value'",
            ),
            (
                json!({"data": {"uid": null, "event": "e", "value": 1}}),
                "invalid parameter 'data.uid': expected a string or a number, found null",
            ),
            (
                json!({"data": {"uid": {"a": 1}, "event": "e", "value": 1}}),
                "invalid parameter 'data.uid': expected a string or a number, found an object",
            ),
            (
                json!({"data": {"uid": "u", "event": 5, "value": 1}}),
                "invalid parameter 'data.event': expected a string, found a number",
            ),
            (
                json!({"data": {"uid": "u", "event": false, "value": 1}}),
                "invalid parameter 'data.event': expected a string, found a boolean",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                IngestionEvent::from_json(input.clone()).expect_err("bad").to_string(),
                expected,
                "{input}"
            );
        }
        // null and 0 are present values; the schema judges them.
        assert_eq!(
            IngestionEvent::from_json(json!({"data": {"uid": "u", "event": "e", "value": null}}))
                .expect("ok")
                .value,
            Value::Null
        );
    }
}
