//! The ingestion request body: `{"data": {"uid": …, "event": …, "value": …}}`.

use commerce_kit_core::params::{MissingParameters, lookup, require};
use commerce_kit_model::cloudevent::{IdError, check_id};
use serde_json::Value;

use crate::json::{KeyIn, Skip};

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
    /// `data.uid` is longer than [`MAX_ID_LEN`](commerce_kit_model::cloudevent::MAX_ID_LEN)
    /// bytes or holds a control character: it becomes the CloudEvent `id` and a journal key.
    #[error("invalid parameter '{name}': {problem}")]
    InvalidId {
        /// The parameter path, `data.uid`.
        name: &'static str,
        /// What is wrong with it.
        problem: IdError,
    },
}

/// The JSON Schema (draft 2020-12) of the ingestion request body for
/// `catalog`: the envelope, and for each event code the schema its `value`
/// is validated with (the catalog's own, so the two cannot disagree).
///
/// ```
/// use commerce_kit_model::catalog::Catalog;
///
/// let schema = commerce_kit_ingestion::payload::json_schema(&Catalog::builtin());
/// assert_eq!(schema["properties"]["data"]["required"], serde_json::json!(["uid", "event", "value"]));
/// assert_eq!(schema["oneOf"].as_array().map(Vec::len), Some(Catalog::builtin().len()));
/// ```
pub fn json_schema(catalog: &commerce_kit_model::catalog::Catalog) -> Value {
    let per_event: Vec<Value> = catalog
        .events()
        .iter()
        .map(|event| {
            let mut data = serde_json::json!({"properties": {"event": {"const": event.code()}}});
            if let Some(schema) = event.schema() {
                // An embedded resource of its own, so its `#/$defs/…` references
                // resolve inside it.
                let mut schema = schema.clone();
                if let Some(object) = schema.as_object_mut() {
                    object
                        .entry("$id")
                        .or_insert_with(|| format!("urn:commerce-kit:event:{}", event.code()).into());
                }
                data["properties"]["value"] = schema;
            }
            serde_json::json!({"properties": {"data": data}})
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "IngestionRequest",
        "description": "POST /ingestion/webhook: a back-office event; `uid` becomes the CloudEvent id.",
        "type": "object",
        "required": ["data"],
        "properties": {"data": {
            "type": "object",
            "required": ["uid", "event", "value"],
            "properties": {
                "uid": {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 256}, {"type": "number"}]},
                "event": {"type": "string", "minLength": 1},
                "value": true
            }
        }},
        "oneOf": per_event
    })
}

impl IngestionEvent {
    /// Checks the required parameters (starter-kit semantics: absent or `""` is
    /// missing) and their types: `uid` a string or number, `event` a string,
    /// `value` any JSON (the catalog's schema checks it). The `uid` must pass
    /// [`check_id`]: at most 256 bytes, no control characters.
    pub fn from_json(mut body: Value) -> Result<Self, PayloadError> {
        require(&body, &REQUIRED)?;
        let uid = match lookup(&body, "data.uid") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            other => return Err(wrong("data.uid", "a string or a number", other)),
        };
        check_id(&uid).map_err(|problem| PayloadError::InvalidId {
            name: "data.uid",
            problem,
        })?;
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

impl IngestionEvent {
    /// Reads a well-formed ingestion request straight from the body bytes,
    /// building only `data.value` as a `Value`. Returns `None` for anything
    /// else (invalid JSON, a missing, empty or mistyped parameter, a number
    /// `uid`, a repeated member on the way to the parameters): the caller then
    /// takes the full path, [`parse_json`](commerce_kit_core::body::parse_json)
    /// then [`from_json`](Self::from_json), for the exact error or result.
    /// When it returns `Some`, it is what that path returns.
    pub fn from_body_fast(body: &[u8]) -> Option<Self> {
        let Request(event) = serde_json::from_slice::<Request>(body).ok()?;
        let event = event?;
        let unusable = event.uid.is_empty()
            || event.event.is_empty()
            || event.value.as_str() == Some("")
            || check_id(&event.uid).is_err();
        (!unusable).then_some(event)
    }
}

/// The top level of a fast-path request: `data` once, other members skipped;
/// `None` inside when `data` is absent or not a complete request.
struct Request(Option<IngestionEvent>);

impl<'de> serde::Deserialize<'de> for Request {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Top;
        impl<'de> serde::de::Visitor<'de> for Top {
            type Value = Request;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an ingestion request")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Request, A::Error> {
                let mut data = None;
                while let Some(key) = map.next_key_seed(KeyIn(&["data"]))? {
                    match key {
                        Some(_) if data.is_some() => return Err(serde::de::Error::custom("repeated data")),
                        Some(_) => data = Some(map.next_value::<Data>()?.0),
                        None => {
                            map.next_value::<Skip>()?;
                        }
                    }
                }
                Ok(Request(data.flatten()))
            }
        }
        deserializer.deserialize_map(Top)
    }
}

/// `data` of a fast-path request: string `uid`, string `event`, any `value`,
/// each at most once; other members skipped.
struct Data(Option<IngestionEvent>);

impl<'de> serde::Deserialize<'de> for Data {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = Data;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("the data object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Data, A::Error> {
                let repeated = || serde::de::Error::custom("repeated member");
                let (mut uid, mut event, mut value) = (None, None, None);
                while let Some(key) = map.next_key_seed(KeyIn(&["uid", "event", "value"]))? {
                    match key {
                        Some(0) if uid.is_some() => return Err(repeated()),
                        Some(0) => uid = Some(map.next_value::<String>()?),
                        Some(1) if event.is_some() => return Err(repeated()),
                        Some(1) => event = Some(map.next_value::<String>()?),
                        Some(_) if value.is_some() => return Err(repeated()),
                        Some(_) => value = Some(map.next_value::<Value>()?),
                        None => {
                            map.next_value::<Skip>()?;
                        }
                    }
                }
                Ok(Data(match (uid, event, value) {
                    (Some(uid), Some(event), Some(value)) => Some(IngestionEvent { uid, event, value }),
                    _ => None,
                }))
            }
        }
        deserializer.deserialize_map(Members)
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
    use commerce_kit_core::body::parse_json;
    use proptest::prelude::*;
    use serde_json::json;

    /// The full path's answer, as the service computes it without the fast path.
    fn full(body: &[u8]) -> Option<IngestionEvent> {
        IngestionEvent::from_json(parse_json(body).ok()?).ok()
    }

    #[test]
    fn the_fast_path_reads_ordinary_requests() {
        let body = br#"{"data":{"uid":"bench-1-2-3","event":"be-observer.catalog_product_create",
            "value":{"sku":"SKU-1","name":"Bench product","price":9.99,"description":"benchmark product"}}}"#;
        let fast = IngestionEvent::from_body_fast(body).expect("fast path");
        assert_eq!(Some(&fast), full(body).as_ref());
        assert_eq!(fast.value["price"], json!(9.99));
        let spaced = b" {\n \"extra\": [1, {\"data\": 2}],\n \"d\\u0061ta\": {\"value\": null, \"event\": \"e\", \"uid\": \" \", \"x\": 1}\n} ";
        assert_eq!(
            IngestionEvent::from_body_fast(spaced),
            Some(IngestionEvent {
                uid: " ".into(),
                event: "e".into(),
                value: Value::Null
            })
        );
        assert_eq!(IngestionEvent::from_body_fast(spaced), full(spaced));
    }

    #[test]
    fn anything_unusual_takes_the_full_path() {
        let cases: &[&[u8]] = &[
            b"",
            b"{",
            br#"{"data":{"uid":7,"event":"e","value":1}}"#,
            br#"{"data":{"uid":"","event":"e","value":1}}"#,
            br#"{"data":{"uid":"u","event":"","value":1}}"#,
            br#"{"data":{"uid":"u","event":"e","value":""}}"#,
            br#"{"data":{"uid":"u","event":"e"}}"#,
            br#"{"data":{"uid":"u","uid":"v","event":"e","value":1}}"#,
            br#"{"data":{"uid":"u","event":"e","value":1},"data":{"uid":"v","event":"e","value":1}}"#,
            br#"{"data":"text"}"#,
            br#"[{"data":{"uid":"u","event":"e","value":1}}]"#,
            br#"{"data":{"uid":"u","event":"e","value":1},"x":"\ud800"}"#,
            br#"{"data":{"uid":"u","event":"e","value":1}} trailing"#,
            br#"{"data":{"uid":"u\u0001","event":"e","value":1}}"#,
        ];
        for case in cases {
            assert_eq!(
                IngestionEvent::from_body_fast(case),
                None,
                "{}",
                String::from_utf8_lossy(case)
            );
        }
    }

    /// A JSON text built member by member, so that keys can repeat and be escaped.
    fn member(key: &str, value: &str, escape_key: bool) -> String {
        let key = if escape_key {
            key.chars().map(|c| format!("\\u{:04x}", c as u32)).collect()
        } else {
            key.to_owned()
        };
        format!("\"{key}\":{value}")
    }

    fn scalar() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("\"\"".to_owned()),
            Just("\"u-1\"".to_owned()),
            Just("\" \"".to_owned()),
            Just("\"\\u00e9\\n\"".to_owned()),
            Just("\"\\ud800\"".to_owned()),
            Just("7".to_owned()),
            Just("-0".to_owned()),
            Just("1e400".to_owned()),
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("[1,{\"a\":\"b\"}]".to_owned()),
            Just("{\"sku\":\"S\",\"price\":9.99}".to_owned()),
            Just("{\"uid\":\"nested\"}".to_owned()),
            Just("[1,]".to_owned()),
        ]
    }

    fn data_object() -> impl Strategy<Value = String> {
        let names = prop_oneof![Just("uid"), Just("event"), Just("value"), Just("other")];
        prop::collection::vec((names, scalar(), any::<bool>()), 0..6).prop_map(|members| {
            let body: Vec<String> = members.iter().map(|(k, v, esc)| member(k, v, *esc)).collect();
            format!("{{{}}}", body.join(","))
        })
    }

    proptest! {
        #[test]
        fn the_fast_path_agrees_with_the_full_path(
            top in prop::collection::vec(
                (prop_oneof![Just("data"), Just("other")], prop_oneof![data_object(), scalar()], any::<bool>()),
                0..4,
            ),
            array in any::<bool>(),
        ) {
            let members: Vec<String> = top.iter().map(|(k, v, esc)| member(k, v, *esc)).collect();
            let mut text = format!("{{{}}}", members.join(","));
            if array {
                text = format!("[{text}]");
            }
            if let Some(fast) = IngestionEvent::from_body_fast(text.as_bytes()) {
                prop_assert_eq!(Some(fast), full(text.as_bytes()), "{}", text);
            }
        }

        #[test]
        fn well_formed_requests_always_take_the_fast_path(
            uid in "[a-z0-9 -]{1,12}",
            event in "[a-z._]{1,20}",
            value in data_object(),
            extra in any::<bool>(),
        ) {
            let extra = if extra { r#","meta":{"data":[1,2]}"# } else { "" };
            let text = format!(
                r#"{{"data":{{"uid":{},"event":{},"value":{value}}}{extra}}}"#,
                json!(uid),
                json!(event)
            );
            let valid_value = serde_json::from_str::<Value>(&value).is_ok();
            let fast = IngestionEvent::from_body_fast(text.as_bytes());
            prop_assert_eq!(fast.is_some(), valid_value, "{}", text);
            if let Some(fast) = fast {
                prop_assert_eq!(Some(fast), full(text.as_bytes()), "{}", text);
            }
        }
    }

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
            (
                json!({"data": {"uid": "u".repeat(257), "event": "e", "value": 1}}),
                "invalid parameter 'data.uid': longer than the limit of 256 bytes (257 bytes)",
            ),
            (
                json!({"data": {"uid": "erp\u{7f}1", "event": "e", "value": 1}}),
                "invalid parameter 'data.uid': control characters are not allowed (U+007F at byte 3)",
            ),
            (
                json!({"data": {"uid": "\n", "event": "e", "value": 1}}),
                "invalid parameter 'data.uid': control characters are not allowed (U+000A at byte 0)",
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
