//! A [`StockChecker`] that asks a back office over HTTP, with the starter kit's
//! `checkAvailableStock` contract.
//!
//! Request: `POST <url>` with `content-type: application/json`, an optional
//! `authorization: Bearer <token>`, and the validated request as the body:
//! `{"cart_id":"42","items":[{"item_id":7,"sku":"24-MB01","qty":2}]}` (`qty` is
//! always a JSON number; `item_id` is left out when Commerce sent none, and
//! `cart_id` for Commerce's native add-to-cart payload, which names no cart:
//! `{"items":[{"sku":"24-MB01","qty":2}]}`).
//!
//! Answer: HTTP 2xx with `{"success": true}` (available) or
//! `{"success": false, "message": "…"}` (unavailable; the message is shown to
//! the shopper, [`DEFAULT_UNAVAILABLE_MESSAGE`] when absent). Anything else (a
//! non-2xx status, a timeout, a connection failure, a body that is not that
//! JSON) is a [`CheckerError`] naming the URL (without query or credentials)
//! and the problem.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Url;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::checker::{CheckerError, StockChecker, StockVerdict, root_cause, shown_url};

use crate::request::CheckStockRequest;
/// Timeouts of an outbound client (connect, whole request), as
/// [`HttpStockChecker::new`] and [`client`] take them.
pub use commerce_kit_core::http::ClientTimeouts;
/// The outbound client the HTTP checker uses (rustls, both timeouts, a
/// `commerce-kit/<version>` user agent), for checkers of your own that call a
/// back office; its error converts into a [`CheckerError`].
pub use commerce_kit_core::http::client;

/// Shown to the shopper when the back office says "unavailable" without a message.
pub const DEFAULT_UNAVAILABLE_MESSAGE: &str = "Some of the requested products are not available";

/// Checks stock by POSTing the request to a back-office URL.
pub struct HttpStockChecker {
    client: reqwest::Client,
    url: Url,
    shown: String,
    token: Option<SecretString>,
    timeouts: ClientTimeouts,
}

impl std::fmt::Debug for HttpStockChecker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpStockChecker")
            .field("url", &self.shown)
            .field("token", &self.token.as_ref().map(|_| "<hidden>"))
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

#[derive(Deserialize)]
struct Answer {
    success: Option<bool>,
    #[serde(default)]
    message: Option<String>,
}

impl HttpStockChecker {
    /// A checker for `url` (http or https) with an optional bearer token.
    pub fn new(url: &str, token: Option<SecretString>, timeouts: ClientTimeouts) -> Result<Self, CheckerError> {
        let parsed = Url::parse(url).map_err(|e| CheckerError::new(format!("invalid back-office URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(CheckerError::new(format!(
                "invalid back-office URL: expected http(s)://host/path, got scheme '{}'",
                parsed.scheme()
            )));
        }
        let client = client(timeouts)?;
        Ok(Self {
            client,
            shown: shown_url(&parsed),
            url: parsed,
            token,
            timeouts,
        })
    }

    /// The URL as shown in logs and errors (no credentials, no query).
    pub fn shown_url(&self) -> &str {
        &self.shown
    }

    fn transport_error(&self, err: &reqwest::Error) -> CheckerError {
        if err.is_timeout() {
            return CheckerError::new(format!(
                "back office at {} did not answer within {} ms",
                self.shown,
                self.timeouts.request.as_millis()
            ));
        }
        let what = if err.is_connect() {
            "cannot be reached"
        } else {
            "request failed"
        };
        CheckerError::new(format!("back office at {} {what}: {}", self.shown, root_cause(err)))
    }
}

#[async_trait]
impl StockChecker for HttpStockChecker {
    async fn check(&self, request: &CheckStockRequest) -> Result<StockVerdict, CheckerError> {
        let body = serde_json::to_vec(request).map_err(|e| CheckerError::new(format!("cannot encode request: {e}")))?;
        let mut call = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "application/json")
            .body(body);
        if let Some(token) = &self.token {
            call = call.bearer_auth(token.expose_secret());
        }
        let response = call.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(CheckerError::new(format!(
                "back office at {} answered HTTP {}",
                self.shown,
                status.as_u16()
            )));
        }
        let bytes = response.bytes().await.map_err(|e| self.transport_error(&e))?;
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|e| {
            CheckerError::new(format!(
                "back office at {} answered invalid JSON ({}); expected {{\"success\": true|false, \"message\": \"…\"}}",
                self.shown,
                commerce_kit_core::body::json_error(&e)
            ))
        })?;
        match answer.success {
            Some(true) => Ok(StockVerdict::Available),
            Some(false) => Ok(StockVerdict::unavailable(
                answer
                    .message
                    .filter(|m| !m.trim().is_empty())
                    .unwrap_or_else(|| DEFAULT_UNAVAILABLE_MESSAGE.to_owned()),
            )),
            None => Err(CheckerError::new(format!(
                "back office at {} answered JSON without a boolean \"success\" field",
                self.shown
            ))),
        }
    }

    fn name(&self) -> &str {
        "http"
    }
}

/// Default timeouts of the back-office client: connect 1 s, whole request 2.5 s
/// (under the 3 s check deadline, itself under Commerce's 5 s hook timeout).
pub fn default_timeouts() -> ClientTimeouts {
    ClientTimeouts {
        connect: Duration::from_millis(1000),
        request: Duration::from_millis(2500),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_shown_without_secrets() {
        let c = HttpStockChecker::new(
            "https://user:pw@erp.example:8443/stock/check?key=abc",
            None,
            default_timeouts(),
        )
        .expect("valid");
        assert_eq!(c.shown_url(), "https://erp.example:8443/stock/check");
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("pw") && !dbg.contains("abc"), "{dbg}");

        let err = HttpStockChecker::new("ftp://erp.example/x", None, default_timeouts()).expect_err("must fail");
        assert_eq!(
            err.to_string(),
            "invalid back-office URL: expected http(s)://host/path, got scheme 'ftp'"
        );
        let err = HttpStockChecker::new("not a url", None, default_timeouts()).expect_err("must fail");
        assert_eq!(err.to_string(), "invalid back-office URL: relative URL without a base");
    }
}
