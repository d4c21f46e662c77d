//! The CloudEvents HTTP binding's **binary content mode**: the event's
//! attributes travel as `ce-<name>` headers and the body is its `data`
//! (CloudEvents HTTP Protocol Binding 1.0.2, §3.1).
//!
//! - A request is in binary mode when it carries `ce-specversion` and its
//!   `Content-Type` is not a structured CloudEvents type
//!   (`application/cloudevents+json`, `application/cloudevents-batch+json`):
//!   the content type decides, as the binding says.
//! - Each `ce-<name>` header is the attribute `<name>` (lowercase letters and
//!   digits as the spec says, and `_`, which Adobe's own `event_id` and
//!   `recipient_client_id` use); its value is percent-decoded as UTF-8. A
//!   repeated header is refused: an attribute has one value.
//! - `Content-Type` is the `datacontenttype`; the body is the data. The
//!   consumer's handlers take JSON data, so the body must be JSON (a JSON
//!   media type: `application/json`, `text/json` or any `+json`; or no
//!   `Content-Type`); an empty body is an event without data. Other media
//!   types are answered 415.
//!
//! The event is then exactly the structured-mode object with the same
//! attributes and data, and takes the same path (CloudEvent checks,
//! recipient check, dispatch). Signatures are checked before, over the raw
//! body, in both modes.

use commerce_kit_core::body::{BodyError, parse_json};
use http::{HeaderMap, StatusCode};
use serde_json::{Map, Value};

/// Prefix of attribute headers.
const PREFIX: &str = "ce-";

/// Why a binary-mode request is not an event. `Display` is the client-facing message.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BinaryError {
    /// A `ce-` header does not name an attribute.
    #[error(
        "invalid CloudEvent: header '{0}' does not name a CloudEvents attribute (lowercase letters, digits and '_' \
         after 'ce-')"
    )]
    BadName(String),
    /// A `ce-` header appears twice.
    #[error("invalid CloudEvent: header '{0}' appears more than once")]
    Repeated(String),
    /// A `ce-` header value is not percent-encoded UTF-8.
    #[error("invalid CloudEvent: header '{0}' is not percent-encoded UTF-8 text")]
    BadValue(String),
    /// The data is not of a JSON media type.
    #[error(
        "unsupported data content type '{0}' in binary mode: this consumer's handlers take JSON data \
         (send application/json, or the event in structured mode)"
    )]
    MediaType(String),
    /// The body is not JSON.
    #[error(transparent)]
    Body(#[from] BodyError),
}

impl BinaryError {
    /// The HTTP status of the refusal.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            BinaryError::MediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            BinaryError::Body(e) => e.status(),
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// The media type of `Content-Type`, lowercased, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
}

/// True when the request is a binary-mode CloudEvent.
pub(crate) fn is_binary(headers: &HeaderMap) -> bool {
    let structured = media_type(headers).is_some_and(|t| t.starts_with("application/cloudevents"));
    headers.contains_key("ce-specversion") && !structured
}

/// The structured-mode object of a binary-mode request.
pub(crate) fn event(headers: &HeaderMap, body: &[u8]) -> Result<Value, BinaryError> {
    let mut object = Map::new();
    for (name, value) in headers {
        let Some(attribute) = name.as_str().strip_prefix(PREFIX) else {
            continue;
        };
        let valid_name = !attribute.is_empty()
            && attribute
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid_name {
            return Err(BinaryError::BadName(name.as_str().to_owned()));
        }
        if headers.get_all(name).iter().nth(1).is_some() {
            return Err(BinaryError::Repeated(name.as_str().to_owned()));
        }
        // `datacontenttype` travels as Content-Type in this mode.
        if attribute == "datacontenttype" {
            continue;
        }
        let text = value
            .to_str()
            .ok()
            .and_then(|v| percent_encoding::percent_decode_str(v).decode_utf8().ok())
            .ok_or_else(|| BinaryError::BadValue(name.as_str().to_owned()))?;
        object.insert(attribute.to_owned(), Value::String(text.into_owned()));
    }
    let media = media_type(headers);
    if let Some(media) = &media {
        let json = media == "application/json" || media == "text/json" || media.ends_with("+json");
        if !json {
            return Err(BinaryError::MediaType(media.clone()));
        }
        object.insert("datacontenttype".to_owned(), Value::String(media.clone()));
    }
    if !body.iter().all(u8::is_ascii_whitespace) {
        object.insert("data".to_owned(), parse_json(body)?);
    }
    Ok(Value::Object(object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().expect("header value"));
        }
        map
    }

    #[test]
    fn the_content_type_decides_the_mode() {
        assert!(is_binary(&headers(&[("ce-specversion", "1.0")])));
        assert!(is_binary(&headers(&[
            ("ce-specversion", "1.0"),
            ("content-type", "application/json")
        ])));
        assert!(!is_binary(&headers(&[
            ("ce-specversion", "1.0"),
            ("content-type", "application/cloudevents+json; charset=utf-8")
        ])));
        assert!(!is_binary(&headers(&[("content-type", "application/json")])));
    }

    #[test]
    fn headers_become_attributes_and_the_body_data() {
        let h = headers(&[
            ("ce-specversion", "1.0"),
            ("ce-id", "e-1"),
            ("ce-source", "urn:uuid:p"),
            ("ce-type", "be-observer.customer_update"),
            ("ce-subject", "caf%C3%A9%20%22x%22"),
            ("ce-recipientclientid", "client-1"),
            ("content-type", "Application/JSON; charset=utf-8"),
            ("x-other", "ignored"),
        ]);
        assert_eq!(
            event(&h, br#"{"id": 4}"#).expect("event"),
            json!({"specversion": "1.0", "id": "e-1", "source": "urn:uuid:p", "type": "be-observer.customer_update",
                   "subject": "café \"x\"", "recipientclientid": "client-1", "datacontenttype": "application/json",
                   "data": {"id": 4}})
        );
        assert_eq!(
            event(&headers(&[("ce-specversion", "1.0")]), b"").expect("no data"),
            json!({"specversion": "1.0"})
        );
    }

    #[test]
    fn what_is_refused_and_how() {
        let cases: Vec<(HeaderMap, &[u8], u16, &str)> = vec![
            (
                headers(&[("ce-specversion", "1.0"), ("ce-id", "a"), ("ce-id", "b")]),
                b"{}",
                400,
                "invalid CloudEvent: header 'ce-id' appears more than once",
            ),
            (
                headers(&[("ce-specversion", "1.0"), ("ce-my-ext", "a")]),
                b"{}",
                400,
                "invalid CloudEvent: header 'ce-my-ext' does not name a CloudEvents attribute (lowercase letters, digits and '_' after 'ce-')",
            ),
            (
                headers(&[("ce-specversion", "1.0"), ("ce-id", "%FF%FE")]),
                b"{}",
                400,
                "invalid CloudEvent: header 'ce-id' is not percent-encoded UTF-8 text",
            ),
            (
                headers(&[("ce-specversion", "1.0"), ("content-type", "application/xml")]),
                b"<a/>",
                415,
                "unsupported data content type 'application/xml' in binary mode: this consumer's handlers take JSON data (send application/json, or the event in structured mode)",
            ),
            (
                headers(&[("ce-specversion", "1.0"), ("content-type", "application/json")]),
                b"{\"a\": }",
                400,
                "invalid JSON at line 1 column 7: expected value",
            ),
        ];
        for (h, body, status, message) in cases {
            let err = event(&h, body).expect_err("refused");
            assert_eq!((err.status().as_u16(), err.to_string().as_str()), (status, message));
        }
    }
}
