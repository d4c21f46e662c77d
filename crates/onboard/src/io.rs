//! A client of Adobe's I/O Management API (the part of it onboarding needs).
//!
//! Every request carries `Authorization: Bearer <IMS token>`, `x-api-key:
//! <client id>`, `Accept: application/hal+json` (and `x-ims-org-id` when the
//! org is configured, as Adobe's Node SDK sends it). A 401 drops the cached
//! token and the call is sent once more with a new one.
//!
//! Paths (Adobe's `aio-lib-events` and the Events API guides):
//!
//! | what | call |
//! |---|---|
//! | providers of the org | `GET {base}{consumer}/providers` |
//! | create / update a provider | `POST {base}{consumer}/{project}/{workspace}/providers`, `PUT …/providers/{id}` |
//! | event metadata of a provider | `GET {base}providers/{id}/eventmetadata` |
//! | create / update event metadata | `POST …/providers/{id}/eventmetadata`, `PUT …/eventmetadata/{code}` |
//! | registrations of the workspace | `GET {base}{consumer}/{project}/{workspace}/registrations` |
//! | create / update a registration | `POST …/registrations`, `PUT …/registrations/{registration_id}` |
//!
//! Lists are HAL: items under `_embedded.<name>`; a further page is
//! `_links.next.href`, a URL that is followed (the starter kit passed the
//! link object itself as the URL, so its second page never loaded). A next
//! link to another origin is refused: the bearer token goes to Adobe's API
//! only.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use commerce_kit_commerce_api::encode_segment;
use commerce_kit_core::http::without_url;
use commerce_kit_core::ims::{ImsError, ImsTokenProvider};
use http::{HeaderValue, Method, StatusCode};
use reqwest::Url;
use serde_json::Value;

/// The starter kit's `IO_MANAGEMENT_BASE_URL` default.
pub const DEFAULT_BASE_URL: &str = "https://api.adobe.io/events/";

/// At most this many pages are read from one list.
const MAX_PAGES: usize = 500;

/// The Developer Console ids of the project's workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    /// `IO_CONSUMER_ID` (`project.org.id` of the workspace file).
    pub consumer_id: String,
    /// `IO_PROJECT_ID` (`project.id`).
    pub project_id: String,
    /// `IO_WORKSPACE_ID` (`project.workspace.id`).
    pub workspace_id: String,
}

/// A call to the I/O Management API failed. `Display` is the call and Adobe's own message.
#[derive(Debug, Clone, thiserror::Error)]
pub enum IoError {
    /// Adobe answered with an error status.
    #[error("Adobe I/O answered {call} with HTTP {status}: {message}")]
    Status {
        /// `METHOD /path`.
        call: String,
        /// HTTP status.
        status: u16,
        /// Adobe's message (`reason`, `message`, `error_code` of its body), or what the body was.
        message: String,
    },
    /// No answer.
    #[error("Adobe I/O is unreachable for {call}: {detail}")]
    Transport {
        /// `METHOD /path`.
        call: String,
        /// What went wrong.
        detail: String,
    },
    /// A 2xx answer that is not what the API documents.
    #[error("Adobe I/O answered {call} with an unexpected body: {detail}")]
    Unexpected {
        /// `METHOD /path`.
        call: String,
        /// What is wrong.
        detail: String,
    },
    /// No IMS token.
    #[error("no IMS token for the I/O Management API: {0}")]
    Ims(#[from] ImsError),
}

impl IoError {
    /// The HTTP status Adobe answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            IoError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// Adobe's message from an error body: `reason` and `message` (the I/O
/// Management API), `error_code` and `message` (the API gateway), or
/// `error_description`; otherwise the start of the body.
pub fn adobe_message(body: &[u8]) -> String {
    if body.iter().all(u8::is_ascii_whitespace) {
        return "empty body".to_owned();
    }
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        let text = |k: &str| match map.get(k) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let parts: Vec<String> = [
            text("reason"),
            text("error_code"),
            text("message")
                .or_else(|| text("error_description"))
                .or_else(|| text("error")),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !parts.is_empty() {
            return parts.join(": ");
        }
    }
    let text = String::from_utf8_lossy(body);
    let mut excerpt: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if excerpt.chars().count() > 200 {
        excerpt = excerpt.chars().take(200).collect::<String>() + "…";
    }
    excerpt
}

/// The I/O Management API client.
#[derive(Clone)]
pub struct IoManagement {
    http: reqwest::Client,
    base: Url,
    workspace: Workspace,
    ims: Arc<ImsTokenProvider>,
    api_key: HeaderValue,
    org_id: Option<HeaderValue>,
}

impl fmt::Debug for IoManagement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoManagement")
            .field("base", &self.base.as_str())
            .field("workspace", &self.workspace)
            .field("ims", &self.ims)
            .finish_non_exhaustive()
    }
}

impl IoManagement {
    /// A client of the API at `base_url` (`https://api.adobe.io/events/`; a
    /// missing trailing `/` is added), authenticated by `ims` (whose client id
    /// is the `x-api-key`). Errors name the setting.
    pub fn new(
        http: reqwest::Client,
        base_url: &str,
        workspace: Workspace,
        ims: Arc<ImsTokenProvider>,
        org_id: Option<&str>,
    ) -> Result<Self, String> {
        let mut base = Url::parse(base_url.trim())
            .map_err(|e| format!("IO_MANAGEMENT_BASE_URL: invalid URL {base_url:?}: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(format!(
                "IO_MANAGEMENT_BASE_URL: {base_url:?} must be an http(s) URL with a host"
            ));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(format!(
                "IO_MANAGEMENT_BASE_URL: {base_url:?} must not have a query or fragment"
            ));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        for (name, value) in [
            ("IO_CONSUMER_ID", &workspace.consumer_id),
            ("IO_PROJECT_ID", &workspace.project_id),
            ("IO_WORKSPACE_ID", &workspace.workspace_id),
        ] {
            if value.trim().is_empty() {
                return Err(format!("{name}: required (see the Developer Console workspace file)"));
            }
        }
        let api_key = HeaderValue::from_str(ims.client_id())
            .map_err(|_| "OAUTH_CLIENT_ID: not a valid header value".to_owned())?;
        let org_id = match org_id.map(str::trim).filter(|o| !o.is_empty()) {
            Some(org) => {
                Some(HeaderValue::from_str(org).map_err(|_| "OAUTH_ORG_ID: not a valid header value".to_owned())?)
            }
            None => None,
        };
        Ok(Self {
            http,
            base,
            workspace,
            ims,
            api_key,
            org_id,
        })
    }

    /// The workspace ids.
    pub fn workspace(&self) -> &Workspace {
        &self.workspace
    }

    /// The client id (sent as `client_id` of new registrations).
    pub fn client_id(&self) -> &str {
        self.ims.client_id()
    }

    fn url(&self, segments: &[&str]) -> Url {
        let relative: Vec<String> = segments.iter().map(|s| encode_segment(s)).collect();
        self.base
            .join(&relative.join("/"))
            .unwrap_or_else(|_| self.base.clone())
    }

    fn scoped(&self, more: &[&str]) -> Url {
        let mut segments = vec![
            self.workspace.consumer_id.as_str(),
            self.workspace.project_id.as_str(),
            self.workspace.workspace_id.as_str(),
        ];
        segments.extend_from_slice(more);
        self.url(&segments)
    }

    /// `METHOD /path?query` of a URL, as reports show it.
    pub fn call_text(method: &Method, url: &Url) -> String {
        match url.query() {
            Some(q) => format!("{method} {}?{q}", url.path()),
            None => format!("{method} {}", url.path()),
        }
    }

    /// The call that lists the org's providers (first page).
    pub fn list_providers_call(&self) -> String {
        Self::call_text(&Method::GET, &self.url(&[&self.workspace.consumer_id, "providers"]))
    }

    /// The call that lists a provider's event metadata (first page).
    pub fn list_metadata_call(&self, provider_id: &str) -> String {
        Self::call_text(&Method::GET, &self.url(&["providers", provider_id, "eventmetadata"]))
    }

    /// The call that lists the workspace's registrations (first page).
    pub fn list_registrations_call(&self) -> String {
        Self::call_text(&Method::GET, &self.scoped(&["registrations"]))
    }

    /// The call that creates a provider (for plans).
    pub fn create_provider_call(&self) -> String {
        Self::call_text(&Method::POST, &self.scoped(&["providers"]))
    }

    /// The call that updates a provider.
    pub fn update_provider_call(&self, id: &str) -> String {
        Self::call_text(&Method::PUT, &self.scoped(&["providers", id]))
    }

    /// The call that creates event metadata.
    pub fn create_metadata_call(&self, provider_id: &str) -> String {
        Self::call_text(
            &Method::POST,
            &self.scoped(&["providers", provider_id, "eventmetadata"]),
        )
    }

    /// The call that updates event metadata.
    pub fn update_metadata_call(&self, provider_id: &str, code: &str) -> String {
        Self::call_text(
            &Method::PUT,
            &self.scoped(&["providers", provider_id, "eventmetadata", code]),
        )
    }

    /// The call that creates a registration.
    pub fn create_registration_call(&self) -> String {
        Self::call_text(&Method::POST, &self.scoped(&["registrations"]))
    }

    /// The call that updates a registration.
    pub fn update_registration_call(&self, registration_id: &str) -> String {
        Self::call_text(&Method::PUT, &self.scoped(&["registrations", registration_id]))
    }

    async fn send(&self, method: Method, url: Url, body: Option<&Value>) -> Result<Value, IoError> {
        let call = Self::call_text(&method, &url);
        let mut reauthenticated = false;
        loop {
            let token = self.ims.token().await?;
            let bearer = token.bearer_header().cloned().ok_or_else(|| IoError::Unexpected {
                call: call.clone(),
                detail: "the IMS token cannot be sent as a header".into(),
            })?;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(http::header::AUTHORIZATION, bearer)
                .header("x-api-key", self.api_key.clone())
                .header(http::header::ACCEPT, "application/hal+json");
            if let Some(org) = &self.org_id {
                request = request.header("x-ims-org-id", org.clone());
            }
            if let Some(body) = body {
                request = request
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(serde_json::to_vec(body).unwrap_or_default());
            }
            let response = request.send().await.map_err(|e| IoError::Transport {
                call: call.clone(),
                detail: without_url(&e),
            })?;
            let status = response.status();
            let bytes = response.bytes().await.map_err(|e| IoError::Transport {
                call: call.clone(),
                detail: without_url(&e),
            })?;
            if status == StatusCode::UNAUTHORIZED && !reauthenticated {
                tracing::warn!(call = %call, "Adobe I/O refused the IMS token (HTTP 401): fetching a new one and trying once more");
                self.ims.invalidate(&token);
                reauthenticated = true;
                continue;
            }
            if !status.is_success() {
                return Err(IoError::Status {
                    call,
                    status: status.as_u16(),
                    message: adobe_message(&bytes),
                });
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return serde_json::from_slice(&bytes).map_err(|e| IoError::Unexpected {
                call,
                detail: format!("not JSON: {e}"),
            });
        }
    }

    /// Every item of a HAL list, following `_links.next.href` page after page.
    async fn list(&self, first: Url, embedded: &str) -> Result<Vec<Value>, IoError> {
        let mut items = Vec::new();
        let mut next = Some(first);
        let mut seen = HashSet::new();
        while let Some(url) = next.take() {
            let call = Self::call_text(&Method::GET, &url);
            if !seen.insert(url.to_string()) {
                return Err(IoError::Unexpected {
                    call,
                    detail: "its _links.next points to a page already read".into(),
                });
            }
            if seen.len() > MAX_PAGES {
                return Err(IoError::Unexpected {
                    call,
                    detail: format!("more than {MAX_PAGES} pages"),
                });
            }
            let page = self.send(Method::GET, url.clone(), None).await?;
            match page.pointer(&format!("/_embedded/{embedded}")) {
                Some(Value::Array(list)) => items.extend(list.iter().cloned()),
                None | Some(Value::Null) => {}
                Some(_) => {
                    return Err(IoError::Unexpected {
                        call,
                        detail: format!("_embedded.{embedded} is not an array"),
                    });
                }
            }
            if let Some(href) = page.pointer("/_links/next/href").and_then(Value::as_str) {
                let target = url.join(href).map_err(|e| IoError::Unexpected {
                    call: call.clone(),
                    detail: format!("_links.next.href {href:?} is not a URL: {e}"),
                })?;
                if target.origin() != self.base.origin() {
                    return Err(IoError::Unexpected {
                        call,
                        detail: format!(
                            "_links.next.href leads to another host ({}); not followed",
                            target.origin().ascii_serialization()
                        ),
                    });
                }
                next = Some(target);
            }
        }
        Ok(items)
    }

    /// The org's providers (every page).
    pub async fn providers(&self) -> Result<Vec<Value>, IoError> {
        self.list(self.url(&[&self.workspace.consumer_id, "providers"]), "providers")
            .await
    }

    /// Creates a provider; returns Adobe's provider.
    pub async fn create_provider(&self, body: &Value) -> Result<Value, IoError> {
        let created = self.send(Method::POST, self.scoped(&["providers"]), Some(body)).await?;
        if created.get("id").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(IoError::Unexpected {
                call: self.create_provider_call(),
                detail: "the created provider has no id".into(),
            });
        }
        Ok(created)
    }

    /// Updates a provider.
    pub async fn update_provider(&self, id: &str, body: &Value) -> Result<Value, IoError> {
        self.send(Method::PUT, self.scoped(&["providers", id]), Some(body))
            .await
    }

    /// A provider's event metadata (every page).
    pub async fn event_metadata(&self, provider_id: &str) -> Result<Vec<Value>, IoError> {
        self.list(self.url(&["providers", provider_id, "eventmetadata"]), "eventmetadata")
            .await
    }

    /// Reads a link the API gave (e.g. `rel:sample_event`), same origin only.
    pub async fn follow(&self, href: &str) -> Result<Value, IoError> {
        let url = self.base.join(href).map_err(|e| IoError::Unexpected {
            call: format!("GET {href}"),
            detail: e.to_string(),
        })?;
        if url.origin() != self.base.origin() {
            return Err(IoError::Unexpected {
                call: Self::call_text(&Method::GET, &url),
                detail: "a link to another host; not followed".into(),
            });
        }
        self.send(Method::GET, url, None).await
    }

    /// Creates event metadata.
    pub async fn create_event_metadata(&self, provider_id: &str, body: &Value) -> Result<Value, IoError> {
        self.send(
            Method::POST,
            self.scoped(&["providers", provider_id, "eventmetadata"]),
            Some(body),
        )
        .await
    }

    /// Updates event metadata.
    pub async fn update_event_metadata(&self, provider_id: &str, code: &str, body: &Value) -> Result<Value, IoError> {
        self.send(
            Method::PUT,
            self.scoped(&["providers", provider_id, "eventmetadata", code]),
            Some(body),
        )
        .await
    }

    /// The workspace's registrations (every page).
    pub async fn registrations(&self) -> Result<Vec<Value>, IoError> {
        self.list(self.scoped(&["registrations"]), "registrations").await
    }

    /// Creates a registration.
    pub async fn create_registration(&self, body: &Value) -> Result<Value, IoError> {
        self.send(Method::POST, self.scoped(&["registrations"]), Some(body))
            .await
    }

    /// Updates a registration.
    pub async fn update_registration(&self, registration_id: &str, body: &Value) -> Result<Value, IoError> {
        self.send(
            Method::PUT,
            self.scoped(&["registrations", registration_id]),
            Some(body),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adobe_messages_are_read_from_each_body_shape() {
        assert_eq!(
            adobe_message(br#"{"reason":"Invalid data","message":"label is required"}"#),
            "Invalid data: label is required"
        );
        assert_eq!(
            adobe_message(br#"{"error_code":"403003","message":"Api Key is invalid"}"#),
            "403003: Api Key is invalid"
        );
        assert_eq!(
            adobe_message(b"<html><body>Bad gateway</body></html>"),
            "<html><body>Bad gateway</body></html>"
        );
        assert_eq!(adobe_message(b" "), "empty body");
    }
}
