//! The asynchronous registration check: Adobe POSTs `{"validationUrl":…}` and
//! the endpoint must GET that URL (within 5 minutes; we do it at once).
//!
//! Only `https` URLs on `adobe.io` (or a subdomain, e.g. `csm.adobe.io`) are
//! fetched, with a 5 s bound. For tests, a policy can also allow plain `http`
//! on a loopback address.

use std::net::IpAddr;
use std::time::Duration;

use commerce_kit_core::http::{ClientTimeouts, client};
use reqwest::Url;

/// Which validation URLs may be fetched and how long a fetch may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidationPolicy {
    /// Also accept `http://127.0.0.1…`/`http://[::1]…`/`http://localhost…` (tests only).
    pub allow_loopback_http: bool,
    /// Bound of the GET (connect + response).
    pub timeout: Duration,
}

impl Default for ValidationPolicy {
    fn default() -> Self {
        Self {
            allow_loopback_http: false,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The validation URL could not be used. `Display` is the client-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    /// `validationUrl` is not a string.
    #[error("invalid parameter 'validationUrl': expected a string")]
    NotAString,
    /// The URL is not one we fetch.
    #[error("validationUrl '{0}' is not an https URL on adobe.io")]
    NotAllowed(String),
    /// The GET failed or answered non-2xx.
    #[error("validationUrl could not be confirmed: {0}")]
    Failed(String),
}

impl ValidationError {
    /// 400 for a bad URL, 502 when Adobe's side did not confirm.
    pub fn status(&self) -> http::StatusCode {
        match self {
            ValidationError::Failed(_) => http::StatusCode::BAD_GATEWAY,
            _ => http::StatusCode::BAD_REQUEST,
        }
    }
}

fn allowed(url: &Url, policy: &ValidationPolicy) -> bool {
    if !url.username().is_empty() || url.password().is_some() {
        return false;
    }
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let adobe = url.scheme() == "https" && (host == "adobe.io" || host.ends_with(".adobe.io"));
    let loopback = policy.allow_loopback_http
        && url.scheme() == "http"
        && (host == "localhost"
            || host
                .trim_matches(|c| c == '[' || c == ']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| ip.is_loopback()));
    adobe || loopback
}

/// Checks `raw` against the policy and GETs it.
pub async fn confirm(raw: &serde_json::Value, policy: &ValidationPolicy) -> Result<(), ValidationError> {
    let text = raw.as_str().ok_or(ValidationError::NotAString)?;
    let url = Url::parse(text)
        .ok()
        .filter(|u| allowed(u, policy))
        .ok_or_else(|| ValidationError::NotAllowed(text.to_owned()))?;
    let timeouts = ClientTimeouts {
        connect: policy.timeout.min(Duration::from_secs(2)),
        request: policy.timeout,
    };
    let http = client(timeouts).map_err(|e| ValidationError::Failed(e.to_string()))?;
    let host = url.host_str().unwrap_or_default().to_owned();
    let resp = http.get(url).send().await.map_err(|e| {
        let why = if e.is_timeout() {
            format!("no answer from {host} within {} ms", policy.timeout.as_millis())
        } else {
            format!("{host} could not be reached")
        };
        ValidationError::Failed(why)
    })?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(ValidationError::Failed(format!("{host} answered {}", resp.status())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_adobe_https_unless_loopback_is_allowed() {
        let strict = ValidationPolicy::default();
        let loose = ValidationPolicy {
            allow_loopback_http: true,
            ..strict
        };
        let cases = [
            (
                "https://csm.adobe.io/csm/registrations/validate?id=1&challenge=2",
                true,
                true,
            ),
            ("https://adobe.io/x", true, true),
            ("http://csm.adobe.io/x", false, false),
            ("https://csm.adobe.io.evil.example/x", false, false),
            ("https://evil.example/?h=adobe.io", false, false),
            ("https://user:pw@csm.adobe.io/x", false, false),
            ("http://127.0.0.1:8080/validate", false, true),
            ("http://[::1]:8080/validate", false, true),
            ("http://localhost/validate", false, true),
            ("http://10.0.0.1/validate", false, false),
        ];
        for (raw, strict_ok, loose_ok) in cases {
            let url = Url::parse(raw).expect("url");
            assert_eq!(allowed(&url, &strict), strict_ok, "{raw}");
            assert_eq!(allowed(&url, &loose), loose_ok, "{raw}");
        }
    }
}
