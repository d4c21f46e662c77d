//! The CloudEvents 1.0 envelope (JSON format), as Adobe I/O Events publishes
//! and delivers it.
//!
//! Unknown attributes (extensions such as Adobe's `eventid` and
//! `recipientclientid`) are kept and serialized back unchanged.
//!
//! ```
//! use commerce_kit_model::cloudevent::CloudEvent;
//! use serde_json::json;
//!
//! let event = CloudEvent::new(
//!     "event_uid_1",
//!     "urn:uuid:3b1b7d8c-0000-4000-8000-000000000001",
//!     "be-observer.catalog_product_create",
//!     json!({"sku": "24-MB01"}),
//! );
//! assert_eq!(event.specversion, "1.0");
//! assert_eq!(event.datacontenttype.as_deref(), Some("application/json"));
//!
//! let parsed = CloudEvent::from_json(&serde_json::to_vec(&event).unwrap()).unwrap();
//! assert_eq!(parsed, event);
//! ```

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The only CloudEvents spec version accepted and produced.
pub const SPEC_VERSION: &str = "1.0";

/// Longest accepted event id, in bytes: the CloudEvent `id` (and the `eventid`
/// / `event_id` extensions that dedupe uses), and the ingestion webhook's
/// `uid`, which becomes that `id`.
///
/// Ids become dedupe, idempotency and journal keys, log fields and parts of
/// answers, so they must stay small. Adobe's ids are UUIDs (36 bytes) and back
/// offices use document numbers or short composite keys; 256 bytes leaves
/// room for any of those and matches the cap already put on the
/// `x-adobe-event-id` header.
pub const MAX_ID_LEN: usize = 256;

/// Why an id is refused; `Display` is the end of a client-facing message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Longer than [`MAX_ID_LEN`] bytes.
    #[error("longer than the limit of {MAX_ID_LEN} bytes ({len} bytes)")]
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Holds a control character (C0, DEL or C1), which would corrupt log lines and keys.
    #[error("control characters are not allowed (U+{code:04X} at byte {at})")]
    Control {
        /// The character's code point.
        code: u32,
        /// Its byte offset.
        at: usize,
    },
}

/// Checks an event id against [`MAX_ID_LEN`] and for control characters.
///
/// ```
/// use commerce_kit_model::cloudevent::{IdError, check_id};
///
/// assert_eq!(check_id("erp-1001"), Ok(()));
/// assert_eq!(check_id(&"a".repeat(257)), Err(IdError::TooLong { len: 257 }));
/// assert_eq!(check_id("a\nb"), Err(IdError::Control { code: 10, at: 1 }));
/// ```
pub fn check_id(id: &str) -> Result<(), IdError> {
    if id.len() > MAX_ID_LEN {
        return Err(IdError::TooLong { len: id.len() });
    }
    match id.char_indices().find(|(_, c)| c.is_control()) {
        Some((at, c)) => Err(IdError::Control { code: c as u32, at }),
        None => Ok(()),
    }
}

/// The attributes with a fixed JSON type: required strings, then optional strings.
const STRING_ATTRIBUTES: [(&str, bool); 8] = [
    ("specversion", true),
    ("id", true),
    ("source", true),
    ("type", true),
    ("datacontenttype", false),
    ("time", false),
    ("subject", false),
    ("dataschema", false),
];

/// A CloudEvent in the JSON event format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CloudEvent {
    /// Always `"1.0"`.
    #[schemars(extend("const" = "1.0"))]
    pub specversion: String,
    /// Unique per `source`; the ingestion webhook uses the back office's `uid`.
    #[schemars(length(min = 1))]
    pub id: String,
    /// `urn:uuid:<provider id>` for I/O Events providers.
    #[schemars(length(min = 1))]
    pub source: String,
    /// The event code, e.g. `be-observer.catalog_product_create`.
    #[serde(rename = "type")]
    #[schemars(length(min = 1))]
    pub event_type: String,
    /// Media type of `data`; I/O Events supports `application/json` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datacontenttype: Option<String>,
    /// RFC 3339 time of the occurrence, kept verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Optional subject of the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Optional schema URI of `data`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataschema: Option<String>,
    /// The payload (`null` when absent).
    #[serde(default)]
    pub data: Value,
    /// Extension attributes (e.g. `eventid`, `recipientclientid`), kept as received.
    #[serde(flatten)]
    pub extensions: Map<String, Value>,
}

/// A JSON document is not a valid CloudEvent. `Display` is the client-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudEventError {
    /// Not JSON, or an attribute has the wrong type.
    #[error("invalid CloudEvent: {0}")]
    Malformed(String),
    /// A required attribute is absent or empty.
    #[error("invalid CloudEvent: missing attribute '{0}'")]
    Missing(&'static str),
    /// `specversion` is not `1.0`.
    #[error("invalid CloudEvent: unsupported specversion '{0}' (expected '1.0')")]
    SpecVersion(String),
    /// An attribute has the wrong JSON type.
    #[error("invalid CloudEvent: attribute '{attribute}': expected {expected}, found {found}")]
    WrongType {
        /// The attribute, e.g. `id`.
        attribute: &'static str,
        /// What is accepted.
        expected: &'static str,
        /// The JSON type received.
        found: &'static str,
    },
    /// `id` (or the `eventid` / `event_id` extension) is too long or holds a control character.
    #[error("invalid CloudEvent: attribute '{attribute}': {problem}")]
    InvalidId {
        /// `id`, `eventid` or `event_id`.
        attribute: &'static str,
        /// What is wrong with it.
        problem: IdError,
    },
}

impl CloudEvent {
    /// A new event with `specversion` 1.0, `datacontenttype` `application/json`
    /// and `time` set to now (UTC, RFC 3339).
    pub fn new(id: impl Into<String>, source: impl Into<String>, event_type: impl Into<String>, data: Value) -> Self {
        Self {
            specversion: SPEC_VERSION.to_owned(),
            id: id.into(),
            source: source.into(),
            event_type: event_type.into(),
            datacontenttype: Some("application/json".to_owned()),
            time: Some(now_rfc3339()),
            subject: None,
            dataschema: None,
            data,
            extensions: Map::new(),
        }
    }

    /// Parses and validates one event from JSON bytes.
    pub fn from_json(bytes: &[u8]) -> Result<Self, CloudEventError> {
        let event: CloudEvent = match serde_json::from_slice(bytes) {
            Ok(event) => event,
            // Name the attribute when one has the wrong type (the error path only parses twice).
            Err(e) => {
                let typed = serde_json::from_slice::<Value>(bytes).ok().map(|v| attribute_types(&v));
                return Err(match typed {
                    Some(Err(wrong)) => wrong,
                    _ => CloudEventError::Malformed(e.to_string()),
                });
            }
        };
        event.validate()?;
        Ok(event)
    }

    /// Converts and validates one event from a parsed JSON value.
    pub fn from_value(value: Value) -> Result<Self, CloudEventError> {
        attribute_types(&value)?;
        let event: CloudEvent = serde_json::from_value(value).map_err(|e| CloudEventError::Malformed(e.to_string()))?;
        event.validate()?;
        Ok(event)
    }

    /// Checks the required attributes: `specversion` 1.0 and non-empty `id`,
    /// `source`, `type`; and the ids (`id`, and the `eventid` / `event_id`
    /// extensions when they are strings) with [`check_id`].
    pub fn validate(&self) -> Result<(), CloudEventError> {
        if self.specversion != SPEC_VERSION {
            return Err(CloudEventError::SpecVersion(self.specversion.clone()));
        }
        for (name, value) in [("id", &self.id), ("source", &self.source), ("type", &self.event_type)] {
            if value.is_empty() {
                return Err(CloudEventError::Missing(name));
            }
        }
        let ids = [
            ("id", Some(self.id.as_str())),
            ("eventid", self.extension_str("eventid")),
            ("event_id", self.extension_str("event_id")),
        ];
        for (attribute, id) in ids {
            if let Some(id) = id {
                check_id(id).map_err(|problem| CloudEventError::InvalidId { attribute, problem })?;
            }
        }
        Ok(())
    }

    /// The id that stays stable across Adobe's redeliveries: the `eventid`
    /// extension (or deprecated `event_id`) when present, else `id`.
    pub fn event_id(&self) -> &str {
        self.extension_str("eventid")
            .or_else(|| self.extension_str("event_id"))
            .unwrap_or(&self.id)
    }

    /// The `recipientclientid` extension, or the deprecated `recipient_client_id`.
    pub fn recipient_client_id(&self) -> Option<&str> {
        self.extension_str("recipientclientid")
            .or_else(|| self.extension_str("recipient_client_id"))
    }

    /// A string extension attribute.
    pub fn extension_str(&self, name: &str) -> Option<&str> {
        self.extensions.get(name).and_then(Value::as_str)
    }
}

/// The attributes of a fixed type have it: the required ones are strings, the
/// optional ones strings or `null`. Other values (not an object, a missing
/// attribute) are left to the deserializer's message.
fn attribute_types(value: &Value) -> Result<(), CloudEventError> {
    let Some(object) = value.as_object() else {
        return Ok(());
    };
    for (attribute, required) in STRING_ATTRIBUTES {
        let found = match object.get(attribute) {
            None | Some(Value::String(_)) => continue,
            Some(Value::Null) if !required => continue,
            Some(Value::Null) => "null",
            Some(Value::Bool(_)) => "a boolean",
            Some(Value::Number(_)) => "a number",
            Some(Value::Array(_)) => "an array",
            Some(Value::Object(_)) => "an object",
        };
        let expected = if required { "a string" } else { "a string or null" };
        return Err(CloudEventError::WrongType {
            attribute,
            expected,
            found,
        });
    }
    Ok(())
}

/// Now, UTC, RFC 3339 with milliseconds (e.g. `2026-11-22T07:22:09.123Z`).
pub fn now_rfc3339() -> String {
    rfc3339_millis(time::OffsetDateTime::now_utc())
}

/// `at` (taken as UTC) as `YYYY-MM-DDTHH:MM:SS.mmmZ`. Written digit by digit
/// (one small allocation, no format description to interpret: this runs for
/// every published event); years outside 0000-9999 go through `time`'s formatter.
fn rfc3339_millis(at: time::OffsetDateTime) -> String {
    let (year, month, day) = at.to_calendar_date();
    let Ok(year) = u16::try_from(year) else {
        return rfc3339_millis_slow(at);
    };
    if year > 9999 {
        return rfc3339_millis_slow(at);
    }
    let mut out = [0u8; 24];
    let mut put = |at: usize, value: u16, width: usize| {
        let mut v = value;
        for i in (at..at + width).rev() {
            out[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year, 4);
    put(5, u8::from(month).into(), 2);
    put(8, day.into(), 2);
    put(11, at.hour().into(), 2);
    put(14, at.minute().into(), 2);
    put(17, at.second().into(), 2);
    put(20, at.millisecond(), 3);
    for (i, sep) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (23, b'Z'),
    ] {
        out[i] = sep;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

fn rfc3339_millis_slow(at: time::OffsetDateTime) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.format(&fmt).unwrap_or_else(|_| at.unix_timestamp().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn adobe_delivery_parses_with_extensions_kept() {
        let raw = json!({
            "specversion": "1.0", "id": "a1", "source": "urn:uuid:p",
            "type": "com.adobe.commerce.observer.catalog_product_save_commit_after",
            "datacontenttype": "application/json", "time": "2025-07-17T15:48:42.436Z",
            "eventid": "e1", "event_id": "e1", "recipient_client_id": "old", "recipientclientid": "new",
            "data": {"key": "k", "value": {"sku": "A"}}
        });
        let ev = CloudEvent::from_value(raw.clone()).expect("valid");
        assert_eq!(ev.event_id(), "e1");
        assert_eq!(ev.recipient_client_id(), Some("new"));
        assert_eq!(ev.data["value"]["sku"], "A");
        assert_eq!(
            serde_json::to_value(&ev).expect("ser"),
            raw,
            "round trip keeps every attribute"
        );
    }

    #[test]
    fn fallbacks_for_ids() {
        let mut ev = CloudEvent::new("id-1", "s", "t", Value::Null);
        assert_eq!(ev.event_id(), "id-1");
        assert_eq!(ev.recipient_client_id(), None);
        ev.extensions.insert("event_id".into(), json!("dep"));
        ev.extensions.insert("recipient_client_id".into(), json!("c"));
        assert_eq!(ev.event_id(), "dep");
        assert_eq!(ev.recipient_client_id(), Some("c"));
    }

    #[test]
    fn invalid_events_have_precise_messages() {
        let cases = [
            (
                json!({"id": "1", "source": "s", "type": "t"}),
                "invalid CloudEvent: missing field `specversion`",
            ),
            (
                json!({"specversion": "0.3", "id": "1", "source": "s", "type": "t"}),
                "invalid CloudEvent: unsupported specversion '0.3' (expected '1.0')",
            ),
            (
                json!({"specversion": "1.0", "id": "", "source": "s", "type": "t"}),
                "invalid CloudEvent: missing attribute 'id'",
            ),
            (
                json!({"specversion": "1.0", "id": "1", "source": "", "type": "t"}),
                "invalid CloudEvent: missing attribute 'source'",
            ),
            (
                json!({"specversion": "1.0", "id": "1", "source": "s", "type": ""}),
                "invalid CloudEvent: missing attribute 'type'",
            ),
            (
                json!({"specversion": "1.0", "id": 5, "source": "s", "type": "t"}),
                "invalid CloudEvent: attribute 'id': expected a string, found a number",
            ),
            (
                json!({"specversion": 1, "id": "1", "source": "s", "type": "t"}),
                "invalid CloudEvent: attribute 'specversion': expected a string, found a number",
            ),
            (
                json!({"specversion": "1.0", "id": "1", "source": null, "type": "t"}),
                "invalid CloudEvent: attribute 'source': expected a string, found null",
            ),
            (
                json!({"specversion": "1.0", "id": "1", "source": "s", "type": ["t"]}),
                "invalid CloudEvent: attribute 'type': expected a string, found an array",
            ),
            (
                json!({"specversion": "1.0", "id": "1", "source": "s", "type": "t", "time": true}),
                "invalid CloudEvent: attribute 'time': expected a string or null, found a boolean",
            ),
            (
                json!({"specversion": "1.0", "id": "1", "source": "s", "type": "t", "subject": {}}),
                "invalid CloudEvent: attribute 'subject': expected a string or null, found an object",
            ),
            (
                json!({"specversion": "1.0", "id": "a".repeat(257), "source": "s", "type": "t"}),
                "invalid CloudEvent: attribute 'id': longer than the limit of 256 bytes (257 bytes)",
            ),
            (
                json!({"specversion": "1.0", "id": "ab\u{0}", "source": "s", "type": "t"}),
                "invalid CloudEvent: attribute 'id': control characters are not allowed (U+0000 at byte 2)",
            ),
            (
                json!({"specversion": "1.0", "id": "1", "source": "s", "type": "t", "eventid": "\u{85}x"}),
                "invalid CloudEvent: attribute 'eventid': control characters are not allowed (U+0085 at byte 0)",
            ),
            (
                json!({"specversion": "1.0", "id": "1", "source": "s", "type": "t", "event_id": "é".repeat(129)}),
                "invalid CloudEvent: attribute 'event_id': longer than the limit of 256 bytes (258 bytes)",
            ),
            (
                json!([1]),
                "invalid CloudEvent: invalid type: sequence, expected struct CloudEvent",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                CloudEvent::from_value(input.clone()).unwrap_err().to_string(),
                expected,
                "{input}"
            );
            if !expected.contains("attribute '") {
                continue; // from_json's other messages add the position
            }
            let bytes = serde_json::to_vec(&input).expect("json");
            assert_eq!(
                CloudEvent::from_json(&bytes).unwrap_err().to_string(),
                expected,
                "from_json {input}"
            );
        }
        // at the limit, and printable non-ASCII, is fine
        let ok = json!({"specversion": "1.0", "id": "é".repeat(128), "source": "s", "type": "t", "time": null});
        assert!(CloudEvent::from_value(ok).is_ok());
    }

    #[test]
    fn millisecond_timestamps_match_the_time_formatter() {
        let mut instants = vec![
            time::macros::datetime!(0000-01-01 00:00:00.000 UTC),
            time::macros::datetime!(1970-01-01 00:00:00.000 UTC),
            time::macros::datetime!(2000-02-29 23:59:59.999 UTC),
            time::macros::datetime!(2026-11-22 07:22:09.123456789 UTC),
            time::macros::datetime!(9999-12-31 23:59:59.999999999 UTC),
        ];
        // Every 7 h 13 min 7.001 s over 400 years: every month, day, hour, minute, second and many milliseconds.
        let mut at = time::macros::datetime!(1900-01-01 00:00:00 UTC);
        let end = time::macros::datetime!(2300-01-01 00:00:00 UTC);
        let step = time::Duration::milliseconds(((7 * 60 + 13) * 60 + 7) * 1000 + 1);
        while at < end {
            instants.push(at);
            at += step;
        }
        assert!(instants.len() > 480_000);
        for at in instants {
            let fast = rfc3339_millis(at);
            assert_eq!(fast, rfc3339_millis_slow(at), "{at}");
            assert_eq!(fast.len(), 24);
        }
    }

    #[test]
    fn new_sets_time_in_rfc3339_utc() {
        let ev = CloudEvent::new("i", "s", "t", json!({}));
        let t = ev.time.expect("time set");
        assert!(
            time::OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).is_ok(),
            "{t}"
        );
        assert!(t.ends_with('Z'));
    }
}
