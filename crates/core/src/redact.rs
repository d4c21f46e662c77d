//! Rendering headers and JSON for logs without leaking secrets.
//!
//! A header or JSON key is sensitive when it is `authorization`,
//! `proxy-authorization`, `cookie`, `set-cookie`, `x-api-key`, a signature
//! header, or when its name contains `secret`, `token`, `password` or
//! `signature` (case-insensitive). Sensitive values render as `<hidden>`.
//!
//! ```
//! use commerce_kit_core::redact::{redact_json, is_sensitive};
//! use serde_json::json;
//!
//! assert!(is_sensitive("Authorization"));
//! assert!(is_sensitive("OAUTH_CLIENT_SECRET"));
//! assert!(!is_sensitive("content-type"));
//! assert_eq!(
//!     redact_json(&json!({"user": "a", "auth": {"access_token": "xyz"}})),
//!     json!({"user": "a", "auth": {"access_token": "<hidden>"}})
//! );
//! ```

use std::fmt;

use http::HeaderMap;
use serde_json::Value;

/// What a sensitive value is replaced with.
pub const HIDDEN: &str = "<hidden>";

const EXACT: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-adobe-commerce-webhook-signature",
    "x-adobe-signature",
];

const CONTAINS: &[&str] = &[
    "secret",
    "token",
    "password",
    "signature",
    "passwd",
    "api_key",
    "apikey",
];

/// True when a header or key name holds a secret and must not be logged.
pub fn is_sensitive(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    EXACT.contains(&lower.as_str()) || CONTAINS.iter().any(|needle| lower.contains(needle))
}

/// A copy of `value` with every sensitive key's value replaced by `"<hidden>"`, at any depth.
pub fn redact_json(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if is_sensitive(k) {
                        Value::String(HIDDEN.into())
                    } else {
                        redact_json(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_json).collect()),
        other => other.clone(),
    }
}

/// `Display`/`Debug` adapter that prints headers as `name: value` pairs with secrets hidden.
///
/// ```
/// use commerce_kit_core::redact::RedactedHeaders;
/// let mut h = http::HeaderMap::new();
/// h.insert("x-api-key", "k-123".parse().unwrap());
/// h.insert("accept", "application/json".parse().unwrap());
/// let shown = RedactedHeaders(&h).to_string();
/// assert!(shown.contains("x-api-key: <hidden>"));
/// assert!(shown.contains("accept: application/json"));
/// assert!(!shown.contains("k-123"));
/// ```
pub struct RedactedHeaders<'a>(pub &'a HeaderMap);

impl fmt::Display for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (name, value)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            let shown = if is_sensitive(name.as_str()) {
                HIDDEN
            } else {
                value.to_str().unwrap_or("<binary>")
            };
            write!(f, "{}: {}", name.as_str(), shown)?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sensitive_names_table() {
        let sensitive = [
            "authorization",
            "Authorization",
            "PROXY-AUTHORIZATION",
            "cookie",
            "x-api-key",
            "X-Adobe-Commerce-Webhook-Signature",
            "x-adobe-digital-signature-1",
            "x-adobe-signature",
            "x-commerce-kit-signature",
            "client_secret",
            "OAUTH_CLIENT_SECRET",
            "access_token",
            "refreshToken",
            "password",
            "db_passwd",
            "api_key",
        ];
        for name in sensitive {
            assert!(is_sensitive(name), "{name} must be hidden");
        }
        let harmless = [
            "content-type",
            "x-request-id",
            "sku",
            "x-adobe-event-id",
            "user-agent",
            "x-adobe-public-key1-path",
        ];
        for name in harmless {
            assert!(!is_sensitive(name), "{name} must be shown");
        }
    }

    #[test]
    fn json_redaction_reaches_nested_arrays() {
        let input = json!({
            "client_id": "id",
            "client_secret": {"nested": "s"},
            "list": [{"password": "p", "ok": 1}, "plain"],
        });
        let out = redact_json(&input);
        assert_eq!(
            out,
            json!({"client_id": "id", "client_secret": "<hidden>", "list": [{"password": "<hidden>", "ok": 1}, "plain"]})
        );
        let text = out.to_string();
        assert!(!text.contains("\"s\"") && !text.contains("\"p\""), "{text}");
    }

    #[test]
    fn headers_render_without_secret_values() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer abc.def".parse().expect("header"));
        h.insert("x-adobe-commerce-webhook-signature", "c2ln".parse().expect("header"));
        h.insert("x-request-id", "r1".parse().expect("header"));
        let shown = format!("{:?}", RedactedHeaders(&h));
        assert!(!shown.contains("abc.def") && !shown.contains("c2ln"), "{shown}");
        assert!(shown.contains("x-request-id: r1"), "{shown}");
    }
}
