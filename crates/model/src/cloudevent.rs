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

/// A CloudEvent in the JSON event format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CloudEvent {
    /// Always `"1.0"`.
    pub specversion: String,
    /// Unique per `source`; the ingestion webhook uses the back office's `uid`.
    pub id: String,
    /// `urn:uuid:<provider id>` for I/O Events providers.
    pub source: String,
    /// The event code, e.g. `be-observer.catalog_product_create`.
    #[serde(rename = "type")]
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
        let event: CloudEvent = serde_json::from_slice(bytes).map_err(|e| CloudEventError::Malformed(e.to_string()))?;
        event.validate()?;
        Ok(event)
    }

    /// Converts and validates one event from a parsed JSON value.
    pub fn from_value(value: Value) -> Result<Self, CloudEventError> {
        let event: CloudEvent = serde_json::from_value(value).map_err(|e| CloudEventError::Malformed(e.to_string()))?;
        event.validate()?;
        Ok(event)
    }

    /// Checks the required attributes: `specversion` 1.0 and non-empty `id`, `source`, `type`.
    pub fn validate(&self) -> Result<(), CloudEventError> {
        if self.specversion != SPEC_VERSION {
            return Err(CloudEventError::SpecVersion(self.specversion.clone()));
        }
        for (name, value) in [("id", &self.id), ("source", &self.source), ("type", &self.event_type)] {
            if value.is_empty() {
                return Err(CloudEventError::Missing(name));
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
                "invalid CloudEvent: invalid type: integer `5`, expected a string",
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
        }
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
