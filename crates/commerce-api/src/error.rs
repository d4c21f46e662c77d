//! What can go wrong on a call to Commerce, and what a caller should do about it.
//!
//! Commerce answers a refused request with a JSON body
//! `{"message": "…%1…", "parameters": [...]}` (positional `%1`, `%2`, … counted
//! from 1) or `{"message": "…%fieldName…", "parameters": {"fieldName": …}}`
//! (named), sometimes with `errors` (more messages of the same shape) and, in
//! developer mode, a `trace`. [`CommerceMessage`] keeps the message and the
//! parameters and renders them substituted; a body that is not such JSON (an
//! HTML error page from a proxy, an empty body) becomes a short description of
//! what came back instead, never a panic.
//!
//! [`CommerceError::disposition`] is the status table the handlers use:
//!
//! | outcome | disposition |
//! |---|---|
//! | 400, 404, 409, 422 and every other 4xx Commerce refuses with | [`Disposition::Drop`] (dead letter with Commerce's message) |
//! | 401 / 403 (after the client's own one token refresh with IMS) | [`Disposition::Drop`]: the credentials or the integration's ACL need fixing |
//! | 408, 429 (with `Retry-After` when sent), 5xx except 505 | [`Disposition::Retry`] |
//! | timeout, connection failure | [`Disposition::Retry`] |
//! | IMS token request failed | as IMS's own error says ([`ImsError::is_retryable`]) |
//! | 2xx with a body that is not the expected JSON, a request that cannot be built | [`Disposition::Drop`] |

use std::fmt;
use std::time::Duration;

use commerce_kit_core::ims::ImsError;
use serde_json::Value;

/// What a caller should do with an event whose call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Try again later; `after` is the wait Commerce asked for (`Retry-After`), if any.
    Retry {
        /// Commerce's `Retry-After`, when it sent one.
        after: Option<Duration>,
    },
    /// Trying again will not help: drop it (to the dead letters) with the error's message.
    Drop,
}

/// The parameters of a Commerce error message.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Parameters {
    /// None were sent.
    #[default]
    None,
    /// `[...]`: substituted for `%1`, `%2`, ….
    Positional(Vec<Value>),
    /// `{...}`: substituted for `%name`.
    Named(serde_json::Map<String, Value>),
}

/// Commerce's error body, kept as sent, or a description of a body that was not one.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CommerceMessage {
    /// Commerce's `message` template (`None` when the body was not Commerce's JSON).
    pub message: Option<String>,
    /// Commerce's `parameters`.
    pub parameters: Parameters,
    /// Further `errors[]` entries, each rendered.
    pub errors: Vec<String>,
    /// What the body was when it was not Commerce's JSON: `empty body`,
    /// `non-JSON body (text/html): <the start of its text>`.
    pub unparsed: Option<String>,
}

/// How much of a non-JSON body an error keeps.
const EXCERPT_CHARS: usize = 160;

impl CommerceMessage {
    /// Reads an error body (never fails: anything but Commerce's JSON is described).
    pub fn from_body(content_type: Option<&str>, body: &[u8]) -> Self {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Self {
                unparsed: Some("empty body".to_owned()),
                ..Self::default()
            };
        }
        if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body)
            && let Some(Value::String(message)) = map.get("message")
        {
            let errors = match map.get("errors") {
                Some(Value::Array(items)) => items
                    .iter()
                    .filter_map(|item| {
                        let message = item.get("message")?.as_str()?;
                        Some(render(message, &parameters_of(item.get("parameters"))))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            return Self {
                message: Some(message.clone()),
                parameters: parameters_of(map.get("parameters")),
                errors,
                unparsed: None,
            };
        }
        let text = String::from_utf8_lossy(body);
        let text = if looks_like_html(content_type, &text) {
            strip_tags(&text)
        } else {
            text.into_owned()
        };
        let mut excerpt: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if excerpt.chars().count() > EXCERPT_CHARS {
            excerpt = excerpt.chars().take(EXCERPT_CHARS).collect::<String>() + "…";
        }
        let kind = content_type
            .map(|ct| ct.split(';').next().unwrap_or(ct).trim().to_owned())
            .unwrap_or_else(|| "no content type".to_owned());
        Self {
            unparsed: Some(format!("non-JSON body ({kind}): {excerpt}")),
            ..Self::default()
        }
    }

    /// The message with its parameters substituted (`%1` → the first
    /// positional parameter, `%name` → the named one), followed by any further
    /// `errors`; or the description of a body that was not Commerce's JSON.
    pub fn rendered(&self) -> String {
        match &self.message {
            Some(message) => {
                let mut text = render(message, &self.parameters);
                for error in &self.errors {
                    if *error != text {
                        text.push_str("; ");
                        text.push_str(error);
                    }
                }
                text
            }
            None => self.unparsed.clone().unwrap_or_default(),
        }
    }
}

impl fmt::Display for CommerceMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered())
    }
}

fn parameters_of(value: Option<&Value>) -> Parameters {
    match value {
        Some(Value::Array(items)) => Parameters::Positional(items.clone()),
        Some(Value::Object(map)) => Parameters::Named(map.clone()),
        _ => Parameters::None,
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Substitutes Commerce's placeholders the way its phrase renderer does:
/// `%1`… for positional parameters, `%name` for named ones, in one pass (a
/// substituted value is never substituted again; the longest name wins).
pub fn render(message: &str, parameters: &Parameters) -> String {
    if matches!(parameters, Parameters::None) {
        return message.to_owned();
    }
    let mut out = String::with_capacity(message.len() + 32);
    let mut rest = message;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let replaced = match parameters {
            Parameters::Positional(values) => {
                let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                after[..digits]
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| values.get(i))
                    .map(|v| (text_of(v), digits))
            }
            Parameters::Named(map) => map
                .iter()
                .filter(|(name, _)| !name.is_empty() && after.starts_with(name.as_str()))
                .max_by_key(|(name, _)| name.len())
                .map(|(name, v)| (text_of(v), name.len())),
            Parameters::None => None,
        };
        match replaced {
            Some((text, used)) => {
                out.push_str(&text);
                rest = &after[used..];
            }
            None => {
                out.push('%');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn looks_like_html(content_type: Option<&str>, text: &str) -> bool {
    content_type.is_some_and(|ct| ct.contains("html")) || text.trim_start().starts_with('<')
}

fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// A call to Commerce failed. Carries no secret: no header, no credential,
/// no query string.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommerceError {
    /// Commerce (or a proxy in front of it) answered with a non-2xx status.
    #[error("Commerce answered {method} {path} with HTTP {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Method of the call.
        method: String,
        /// Path of the call (under the API base, no query).
        path: String,
        /// Commerce's message and parameters, or what the body was.
        message: Box<CommerceMessage>,
        /// `Retry-After`, when sent (429, 503).
        retry_after: Option<Duration>,
    },
    /// No full answer within the request timeout.
    #[error("Commerce did not answer {method} {path} within {timeout:?}")]
    Timeout {
        /// Method of the call.
        method: String,
        /// Path of the call.
        path: String,
        /// The request timeout that ran out.
        timeout: Duration,
    },
    /// Commerce could not be reached (connection refused or reset, DNS, TLS).
    #[error("Commerce is unreachable for {method} {path}: {detail}")]
    Transport {
        /// Method of the call.
        method: String,
        /// Path of the call.
        path: String,
        /// What failed (no URL).
        detail: String,
    },
    /// An IMS token could not be had.
    #[error("no IMS token for Commerce: {0}")]
    Ims(#[from] ImsError),
    /// Commerce answered 2xx with a body that is not the JSON expected.
    #[error("Commerce answered {method} {path} with HTTP {status} and an unexpected body: {detail}")]
    Decode {
        /// HTTP status.
        status: u16,
        /// Method of the call.
        method: String,
        /// Path of the call.
        path: String,
        /// What did not parse.
        detail: String,
    },
    /// The request could not be built (body not serializable, a header value
    /// a request cannot carry, a path outside the API).
    #[error("invalid Commerce request: {0}")]
    InvalidRequest(String),
}

impl CommerceError {
    /// What to do about it (the table in the [module docs](self)).
    pub fn disposition(&self) -> Disposition {
        match self {
            CommerceError::Status {
                status, retry_after, ..
            } => {
                let status = *status;
                if status == 408 || status == 429 || ((500..600).contains(&status) && status != 505) {
                    Disposition::Retry { after: *retry_after }
                } else {
                    Disposition::Drop
                }
            }
            CommerceError::Timeout { .. } | CommerceError::Transport { .. } => Disposition::Retry { after: None },
            CommerceError::Ims(err) if err.is_retryable() => Disposition::Retry { after: None },
            CommerceError::Ims(_) | CommerceError::Decode { .. } | CommerceError::InvalidRequest(_) => {
                Disposition::Drop
            }
        }
    }

    /// True when trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.disposition(), Disposition::Retry { .. })
    }

    /// The HTTP status Commerce answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            CommerceError::Status { status, .. } | CommerceError::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Commerce's own message, rendered with its parameters, when it sent one.
    pub fn commerce_message(&self) -> Option<String> {
        match self {
            CommerceError::Status { message, .. } if message.message.is_some() => Some(message.rendered()),
            _ => None,
        }
    }

    /// `Retry-After` from Commerce, when sent.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            CommerceError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn status(code: u16, retry_after: Option<Duration>) -> CommerceError {
        CommerceError::Status {
            status: code,
            method: "POST".into(),
            path: "/V1/products".into(),
            message: Box::default(),
            retry_after,
        }
    }

    #[test]
    fn the_status_table() {
        for code in [400u16, 401, 403, 404, 405, 409, 413, 422, 505] {
            assert_eq!(status(code, None).disposition(), Disposition::Drop, "{code}");
            assert!(!status(code, None).is_retryable(), "{code}");
        }
        for code in [408u16, 429, 500, 502, 503, 504] {
            assert!(status(code, None).is_retryable(), "{code}");
        }
        assert_eq!(
            status(429, Some(Duration::from_secs(7))).disposition(),
            Disposition::Retry {
                after: Some(Duration::from_secs(7))
            }
        );
        let timeout = CommerceError::Timeout {
            method: "GET".into(),
            path: "/V1/x".into(),
            timeout: Duration::from_secs(1),
        };
        assert!(timeout.is_retryable());
        assert!(CommerceError::Ims(ImsError::Failed(503)).is_retryable());
        assert!(
            !CommerceError::Ims(ImsError::Rejected {
                status: 400,
                code: None
            })
            .is_retryable()
        );
        assert!(!CommerceError::InvalidRequest("x".into()).is_retryable());
    }

    #[test]
    fn positional_and_named_parameters_are_substituted() {
        let body = json!({"message": "The \"%1\" attribute value is empty. Set %2 and %10.", "parameters": ["sku", "it", "a", "b", "c", "d", "e", "f", "g", "ten"]});
        let msg = CommerceMessage::from_body(Some("application/json"), body.to_string().as_bytes());
        assert_eq!(
            msg.message.as_deref(),
            Some("The \"%1\" attribute value is empty. Set %2 and %10.")
        );
        assert_eq!(msg.rendered(), "The \"sku\" attribute value is empty. Set it and ten.");

        let body = json!({"message": "No such entity with %fieldName = %fieldValue, %fieldName2 = %fieldValue2", "parameters": {"fieldName": "sku", "fieldValue": "24-MB01", "fieldName2": "store", "fieldValue2": 1}});
        let msg = CommerceMessage::from_body(None, body.to_string().as_bytes());
        assert_eq!(msg.rendered(), "No such entity with sku = 24-MB01, store = 1");
        assert!(matches!(msg.parameters, Parameters::Named(ref m) if m.len() == 4));
    }

    #[test]
    fn a_substituted_value_is_not_substituted_again_and_unknown_placeholders_stay() {
        let params = Parameters::Positional(vec![json!("%2"), json!("x")]);
        assert_eq!(render("a %1 b %3 c 100%", &params), "a %2 b %3 c 100%");
        assert_eq!(render("50% off", &Parameters::None), "50% off");
    }

    #[test]
    fn further_errors_are_appended() {
        let body = json!({"message": "Validation failed", "errors": [{"message": "%1 is required", "parameters": ["name"]}, {"message": "price must be >= %min", "parameters": {"min": 0}}]});
        let msg = CommerceMessage::from_body(None, body.to_string().as_bytes());
        assert_eq!(
            msg.rendered(),
            "Validation failed; name is required; price must be >= 0"
        );
    }

    #[test]
    fn html_empty_and_odd_bodies_are_described() {
        let html = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad   Gateway</h1></body></html>";
        let msg = CommerceMessage::from_body(Some("text/html; charset=utf-8"), html);
        assert_eq!(msg.message, None);
        assert_eq!(msg.rendered(), "non-JSON body (text/html): 502 Bad Gateway Bad Gateway");
        assert_eq!(CommerceMessage::from_body(None, b"").rendered(), "empty body");
        assert_eq!(CommerceMessage::from_body(None, b" \n").rendered(), "empty body");
        assert_eq!(
            CommerceMessage::from_body(Some("application/json"), br#"{"error":"x"}"#).rendered(),
            r#"non-JSON body (application/json): {"error":"x"}"#
        );
        let long = "y".repeat(1000);
        let rendered = CommerceMessage::from_body(Some("text/plain"), long.as_bytes()).rendered();
        assert!(rendered.chars().count() < 200 && rendered.ends_with('…'), "{rendered}");
        let invalid = CommerceMessage::from_body(None, &[0xff, 0xfe, b'a']);
        assert!(invalid.rendered().starts_with("non-JSON body (no content type): "));
    }

    #[test]
    fn display_names_the_call_and_commerce_s_message() {
        let err = CommerceError::Status {
            status: 400,
            method: "PUT".into(),
            path: "/V1/products/24-MB01".into(),
            message: Box::new(CommerceMessage::from_body(
                None,
                br#"{"message":"Invalid value of \"%1\" provided for the %2 field.","parameters":["-5","price"]}"#,
            )),
            retry_after: None,
        };
        assert_eq!(
            err.to_string(),
            "Commerce answered PUT /V1/products/24-MB01 with HTTP 400: Invalid value of \"-5\" provided for the price field."
        );
        assert_eq!(
            err.commerce_message().as_deref(),
            Some("Invalid value of \"-5\" provided for the price field.")
        );
        assert_eq!(err.status(), Some(400));
    }
}
