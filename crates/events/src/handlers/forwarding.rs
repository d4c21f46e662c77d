//! A handler that POSTs each event to a configured URL.

use commerce_kit_core::http::{ClientBuildError, ClientTimeouts, client};
use http::StatusCode;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::cloudevent::CloudEvent;
use crate::error::{HandlerError, shown_url};
use crate::handler::{EventContext, EventHandler, HandlerResult};

/// Where and how [`ForwardingHandler`] POSTs.
#[derive(Debug, Clone)]
pub struct ForwardingOptions {
    /// The target URL (a back office's endpoint, or a Commerce-side service).
    pub url: Url,
    /// Sent as `Authorization: Bearer <token>` when set.
    pub token: Option<SecretString>,
    /// Connect and whole-request limits (default 2 s / 5 s: under the 8 s handler deadline).
    pub timeouts: ClientTimeouts,
}

impl ForwardingOptions {
    /// `url` with no token and the default timeouts.
    pub fn new(url: Url) -> Self {
        Self {
            url,
            token: None,
            timeouts: ClientTimeouts {
                connect: std::time::Duration::from_secs(2),
                request: std::time::Duration::from_secs(5),
            },
        }
    }
}

/// POSTs the CloudEvent (JSON, exactly as received) to a URL and maps the answer.
///
/// Request: `content-type: application/cloudevents+json`, `idempotency-key:
/// <event id>` (stable across redeliveries, so the target can dedupe),
/// `x-event-type`, and `authorization: Bearer …` when a token is set.
///
/// Answer mapping:
/// - 2xx → 200 `{"success":true,"message":"event forwarded to <origin><path>: <status>"}`;
/// - 4xx/5xx → the same status (so 429/5xx are retried and other 4xx dropped)
///   with `{"success":false,"error":"forwarding target answered <status>[: <its error or message>]"}`;
/// - other statuses → 502; timeout → 504; connection failure → 502 (retried).
#[derive(Debug, Clone)]
pub struct ForwardingHandler {
    options: ForwardingOptions,
    client: reqwest::Client,
    /// `scheme://host[:port]/path`: the URL without query or credentials, for messages.
    shown: String,
}

impl ForwardingHandler {
    /// A handler for `options`.
    pub fn new(options: ForwardingOptions) -> Result<Self, ClientBuildError> {
        let client = client(options.timeouts)?;
        let shown = shown_url(&options.url);
        Ok(Self { options, client, shown })
    }
}

/// The `error` or `message` string of a JSON body, shortened.
fn upstream_reason(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let text = ["error", "message"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))?;
    Some(text.chars().take(200).collect())
}

#[async_trait::async_trait]
impl EventHandler for ForwardingHandler {
    async fn handle(&self, event: CloudEvent, ctx: EventContext) -> Result<HandlerResult, HandlerError> {
        let body =
            serde_json::to_vec(&event).map_err(|e| HandlerError::internal(format!("cannot encode event: {e}")))?;
        let mut request = self
            .client
            .post(self.options.url.clone())
            .header(http::header::CONTENT_TYPE, "application/cloudevents+json")
            .header("idempotency-key", ctx.event_id.as_str())
            .header("x-event-type", event.event_type.as_str())
            .body(body);
        if let Some(token) = &self.options.token {
            request = request.bearer_auth(token.expose_secret());
        }
        let resp = request.send().await.map_err(|e| {
            if e.is_timeout() {
                tracing::warn!(target_url = %self.shown, "forwarding timed out");
                HandlerError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    format!(
                        "forwarding target {} did not answer within {} ms",
                        self.shown,
                        self.options.timeouts.request.as_millis()
                    ),
                )
            } else {
                tracing::warn!(target_url = %self.shown, error = %HandlerError::from(e), "forwarding failed");
                HandlerError::new(
                    StatusCode::BAD_GATEWAY,
                    format!("forwarding target {} could not be reached", self.shown),
                )
            }
        })?;
        let status = resp.status();
        let bytes = resp.bytes().await.unwrap_or_default();
        if status.is_success() {
            return Ok(HandlerResult::success(format!(
                "event forwarded to {}: {}",
                self.shown,
                status.as_u16()
            )));
        }
        // 4xx and 5xx are propagated; any other status is a bad gateway.
        let mapped = if status.is_client_error() || status.is_server_error() {
            status
        } else {
            StatusCode::BAD_GATEWAY
        };
        let message = match upstream_reason(&bytes) {
            Some(reason) => format!("forwarding target answered {}: {reason}", status.as_u16()),
            None => format!("forwarding target answered {}", status.as_u16()),
        };
        Err(HandlerError::new(mapped, message))
    }
}
