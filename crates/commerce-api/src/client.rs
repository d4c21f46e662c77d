//! [`CommerceClient`]: one pooled HTTP client, auth per request, typed calls.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use commerce_kit_core::http::without_url;
use commerce_kit_core::http::{ClientBuildError, ClientTimeouts};
use commerce_kit_core::ims::{AccessToken, ImsTokenProvider};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use reqwest::Url;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::config::{CommerceAuth, CommerceConfig, Endpoint};
use crate::error::{CommerceError, CommerceMessage};
use crate::model::{ShipOrder, SourceItem, StatusHistory};
use crate::oauth1::{OAuth1Credentials, OAuth1Signer, encode_into};
use crate::search::SearchCriteria;

/// The header that picks the store view on Commerce SaaS.
pub const STORE_HEADER: &str = "store";
/// The IMS client id header.
pub const API_KEY_HEADER: &str = "x-api-key";

enum Auth {
    OAuth1(OAuth1Signer),
    Ims {
        provider: Arc<ImsTokenProvider>,
        api_key: HeaderValue,
    },
}

struct Inner {
    http: reqwest::Client,
    endpoint: Endpoint,
    store_header: Option<HeaderValue>,
    auth: Auth,
    timeouts: ClientTimeouts,
    max_retry_after: Duration,
}

/// A client of Commerce's REST API. Cheap to clone (shared connection pool).
///
/// Every call is signed (OAuth 1.0a, a fresh nonce each attempt) or carries an
/// IMS bearer and `x-api-key`. The client itself retries only where the
/// request was certainly not processed:
/// - **401 with IMS**: the token is invalidated, a new one fetched and the
///   call sent once more; a second 401 is returned.
/// - **429** with a `Retry-After` of at most
///   [`max_retry_after`](CommerceConfig::max_retry_after) (default 5 s): the
///   client waits it out and sends the call once more; a longer wait, a 429
///   without `Retry-After` or a second 429 is returned as a retryable
///   [`CommerceError`] carrying the wait.
///
/// Everything else (5xx, timeouts, transport errors) is returned at once,
/// classified by [`CommerceError::disposition`], for the caller's own retry
/// policy: a POST that timed out may have been applied.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use commerce_kit_commerce_api::{CommerceAuth, CommerceClient, CommerceConfig};
/// use commerce_kit_commerce_api::model::SourceItem;
///
/// let auth = CommerceAuth::oauth1_from_parts("ck", "cs", "at", "ats")?;
/// let client = CommerceClient::new(CommerceConfig::from_parts("https://shop.example.com/", None, auth)?)?;
/// client
///     .save_source_items(&[SourceItem { sku: "24-MB01".into(), source_code: "default".into(), quantity: 5.0, status: 1 }])
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct CommerceClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for CommerceClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let auth: &dyn fmt::Debug = match &self.inner.auth {
            Auth::OAuth1(signer) => signer,
            Auth::Ims { provider, .. } => provider,
        };
        f.debug_struct("CommerceClient")
            .field("endpoint", &self.inner.endpoint)
            .field("auth", auth)
            .field("timeouts", &self.inner.timeouts)
            .finish_non_exhaustive()
    }
}

impl CommerceClient {
    /// A client with its own pooled `reqwest::Client` (rustls, the configured timeouts).
    pub fn new(config: CommerceConfig) -> Result<Self, ClientBuildError> {
        let http = commerce_kit_core::http::client(config.timeouts)?;
        Ok(Self::with_http_client(config, http))
    }

    /// A client sending through `http` (e.g. one shared with the IMS provider);
    /// `http` should have the configured timeouts.
    pub fn with_http_client(config: CommerceConfig, http: reqwest::Client) -> Self {
        let store_header = match &config.endpoint {
            Endpoint::Saas { store, .. } => HeaderValue::from_str(store).ok(),
            Endpoint::Paas { .. } => None,
        };
        let auth = match &config.auth {
            CommerceAuth::OAuth1 {
                consumer_key,
                consumer_secret,
                access_token,
                access_token_secret,
            } => Auth::OAuth1(OAuth1Signer::new(OAuth1Credentials {
                consumer_key: consumer_key.clone(),
                consumer_secret: consumer_secret.clone(),
                access_token: access_token.clone(),
                access_token_secret: access_token_secret.clone(),
            })),
            CommerceAuth::Ims { provider, api_key } => Auth::Ims {
                provider: provider.clone(),
                api_key: HeaderValue::from_str(api_key).unwrap_or_else(|_| HeaderValue::from_static("")),
            },
        };
        Self {
            inner: Arc::new(Inner {
                http,
                endpoint: config.endpoint,
                store_header,
                auth,
                timeouts: config.timeouts,
                max_retry_after: config.max_retry_after,
            }),
        }
    }

    /// Replaces the OAuth 1.0a signer's nonce source and clock (tests); no
    /// effect with IMS. Call before cloning the client.
    pub fn map_oauth1_signer(mut self, f: impl FnOnce(OAuth1Signer) -> OAuth1Signer) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner)
            && let Auth::OAuth1(signer) = &mut inner.auth
        {
            *signer = f(signer.clone());
        }
        self
    }

    /// Where the API is.
    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }

    /// `oauth1` or `ims`.
    pub fn auth_kind(&self) -> &'static str {
        match self.inner.auth {
            Auth::OAuth1(_) => "oauth1",
            Auth::Ims { .. } => "ims",
        }
    }

    /// The full URL of `path` (relative to `…/V1/`; a leading `/` or `/V1/`
    /// is accepted, as Adobe's docs write paths) with `query` percent-encoded
    /// per RFC 3986 (what is sent is what is signed). Path segments must
    /// already be encoded: build them with [`encode_segment`].
    pub fn url_for(&self, path: &str, query: &[(String, String)]) -> Result<Url, CommerceError> {
        let relative = relative_path(path)?;
        let mut url = self
            .inner
            .endpoint
            .api_base()
            .join(relative)
            .map_err(|e| CommerceError::InvalidRequest(format!("path '{relative}': {e}")))?;
        if !url.path().starts_with(self.inner.endpoint.api_base().path()) {
            return Err(CommerceError::InvalidRequest(format!(
                "path '{relative}' leaves the API base"
            )));
        }
        if query.is_empty() {
            url.set_query(None);
        } else {
            let mut text = String::new();
            for (i, (name, value)) in query.iter().enumerate() {
                if i > 0 {
                    text.push('&');
                }
                encode_into(name, &mut text);
                text.push('=');
                encode_into(value, &mut text);
            }
            url.set_query(Some(&text));
        }
        Ok(url)
    }

    /// Any call: `path` relative to `…/V1/` (see [`url_for`](Self::url_for)),
    /// `query` unencoded pairs, `body` sent as JSON. Returns the answer's JSON
    /// (`Value::Null` for an empty body).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<Value, CommerceError> {
        self.send_json(method, path, query, body).await
    }

    /// [`request`](Self::request) with a typed body and answer.
    pub async fn send_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&B>,
    ) -> Result<T, CommerceError> {
        let body = match body {
            Some(body) => Some(Bytes::from(
                serde_json::to_vec(body).map_err(|e| CommerceError::InvalidRequest(format!("body: {e}")))?,
            )),
            None => None,
        };
        let shown = format!("/V1/{}", relative_path(path)?);
        let (status, bytes) = self.execute(&method, path, query, body).await?;
        let parsed = if bytes.iter().all(u8::is_ascii_whitespace) {
            serde_json::from_value(Value::Null)
        } else {
            serde_json::from_slice(&bytes)
        };
        parsed.map_err(|e| CommerceError::Decode {
            status: status.as_u16(),
            method: method.to_string(),
            path: shown,
            detail: e.to_string(),
        })
    }

    /// Sends one call (with the in-client retries described on [`CommerceClient`])
    /// and returns the 2xx status and body.
    pub async fn execute(
        &self,
        method: &Method,
        path: &str,
        query: &[(String, String)],
        body: Option<Bytes>,
    ) -> Result<(StatusCode, Bytes), CommerceError> {
        let url = self.url_for(path, query)?;
        let shown = format!("/V1/{}", relative_path(path)?);
        let mut reauthenticated = false;
        let mut waited = false;
        loop {
            let (request, token) = self.build(method, &url, body.clone()).await?;
            let response = match request.send().await {
                Ok(response) => response,
                Err(err) => return Err(self.transport_error(method, &shown, &err)),
            };
            let status = response.status();
            if status.is_success() {
                let bytes = response
                    .bytes()
                    .await
                    .map_err(|err| self.transport_error(method, &shown, &err))?;
                tracing::debug!(method = %method, path = %shown, status = status.as_u16(), "Commerce call done");
                return Ok((status, bytes));
            }
            if status == StatusCode::UNAUTHORIZED
                && !reauthenticated
                && let (Auth::Ims { provider, .. }, Some(token)) = (&self.inner.auth, &token)
            {
                tracing::warn!(method = %method, path = %shown, "Commerce refused the IMS token (HTTP 401): fetching a new one and trying once more");
                provider.invalidate(token);
                reauthenticated = true;
                continue;
            }
            let retry_after = retry_after(response.headers());
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = response
                .bytes()
                .await
                .map_err(|err| self.transport_error(method, &shown, &err))?;
            if status == StatusCode::TOO_MANY_REQUESTS
                && !waited
                && let Some(wait) = retry_after.filter(|wait| *wait <= self.inner.max_retry_after)
            {
                tracing::warn!(method = %method, path = %shown, wait_ms = wait.as_millis() as u64, "Commerce is throttling (HTTP 429): waiting as Retry-After asks, then trying once more");
                tokio::time::sleep(wait).await;
                waited = true;
                continue;
            }
            let error = CommerceError::Status {
                status: status.as_u16(),
                method: method.to_string(),
                path: shown,
                message: Box::new(CommerceMessage::from_body(content_type.as_deref(), &bytes)),
                retry_after,
            };
            tracing::warn!(status = status.as_u16(), retryable = error.is_retryable(), error = %error, "Commerce call failed");
            return Err(error);
        }
    }

    async fn build(
        &self,
        method: &Method,
        url: &Url,
        body: Option<Bytes>,
    ) -> Result<(reqwest::RequestBuilder, Option<AccessToken>), CommerceError> {
        let mut headers = HeaderMap::with_capacity(5);
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(store) = &self.inner.store_header {
            headers.insert(STORE_HEADER, store.clone());
        }
        let token = match &self.inner.auth {
            Auth::OAuth1(signer) => {
                let value = signer.authorization_header(method, url).ok_or_else(|| {
                    CommerceError::InvalidRequest("the OAuth header is not a valid header value".into())
                })?;
                headers.insert(AUTHORIZATION, value);
                None
            }
            Auth::Ims { provider, api_key } => {
                let token = provider.token().await?;
                let bearer = token
                    .bearer_header()
                    .cloned()
                    .ok_or_else(|| CommerceError::InvalidRequest("the IMS token cannot be sent as a header".into()))?;
                headers.insert(AUTHORIZATION, bearer);
                headers.insert(API_KEY_HEADER, api_key.clone());
                Some(token)
            }
        };
        let mut request = self.inner.http.request(method.clone(), url.clone()).headers(headers);
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body);
        }
        Ok((request, token))
    }

    fn transport_error(&self, method: &Method, path: &str, err: &reqwest::Error) -> CommerceError {
        if err.is_timeout() {
            CommerceError::Timeout {
                method: method.to_string(),
                path: path.to_owned(),
                timeout: self.inner.timeouts.request,
            }
        } else {
            CommerceError::Transport {
                method: method.to_string(),
                path: path.to_owned(),
                detail: without_url(err),
            }
        }
    }

    // ---- typed calls ----

    /// `POST /V1/products` with `{"product": product}`: creates (or, for an
    /// existing SKU, saves) a product. Returns the saved product.
    pub async fn create_product(&self, product: &impl Serialize) -> Result<Value, CommerceError> {
        self.send_json(Method::POST, "products", &[], Some(&json!({ "product": product })))
            .await
    }

    /// `PUT /V1/products/{sku}` with `{"product": product}`. Returns the saved product.
    pub async fn update_product(&self, sku: &str, product: &impl Serialize) -> Result<Value, CommerceError> {
        let path = format!("products/{}", encode_segment(sku));
        self.send_json(Method::PUT, &path, &[], Some(&json!({ "product": product })))
            .await
    }

    /// `DELETE /V1/products/{sku}`. Returns Commerce's answer (`true`).
    pub async fn delete_product(&self, sku: &str) -> Result<bool, CommerceError> {
        let path = format!("products/{}", encode_segment(sku));
        self.send_json::<Value, bool>(Method::DELETE, &path, &[], None).await
    }

    /// `GET /V1/products/{sku}`.
    pub async fn get_product(&self, sku: &str) -> Result<Value, CommerceError> {
        let path = format!("products/{}", encode_segment(sku));
        self.request(Method::GET, &path, &[], None).await
    }

    /// `GET /V1/products?searchCriteria…`: `{"items": [...], "search_criteria": …, "total_count": n}`.
    pub async fn search_products(&self, criteria: &SearchCriteria) -> Result<Value, CommerceError> {
        self.search("products", criteria).await
    }

    /// `GET /V1/{path}?searchCriteria…` for any list endpoint.
    pub async fn search(&self, path: &str, criteria: &SearchCriteria) -> Result<Value, CommerceError> {
        self.request(Method::GET, path, &criteria.to_query(), None).await
    }

    /// `POST /V1/customers` with `{"customer": customer}`. Returns the customer.
    pub async fn create_customer(&self, customer: &impl Serialize) -> Result<Value, CommerceError> {
        self.send_json(Method::POST, "customers", &[], Some(&json!({ "customer": customer })))
            .await
    }

    /// `PUT /V1/customers/{id}` with `{"customer": customer}`. Returns the customer.
    pub async fn update_customer(
        &self,
        id: impl fmt::Display,
        customer: &impl Serialize,
    ) -> Result<Value, CommerceError> {
        let path = format!("customers/{}", encode_segment(&id.to_string()));
        self.send_json(Method::PUT, &path, &[], Some(&json!({ "customer": customer })))
            .await
    }

    /// `DELETE /V1/customers/{id}`.
    pub async fn delete_customer(&self, id: impl fmt::Display) -> Result<bool, CommerceError> {
        let path = format!("customers/{}", encode_segment(&id.to_string()));
        self.send_json::<Value, bool>(Method::DELETE, &path, &[], None).await
    }

    /// `POST /V1/customerGroups` with `{"group": group}`. Returns the group.
    pub async fn create_customer_group(&self, group: &impl Serialize) -> Result<Value, CommerceError> {
        self.send_json(Method::POST, "customerGroups", &[], Some(&json!({ "group": group })))
            .await
    }

    /// `PUT /V1/customerGroups/{id}` with `{"group": group}`. Returns the group.
    pub async fn update_customer_group(
        &self,
        id: impl fmt::Display,
        group: &impl Serialize,
    ) -> Result<Value, CommerceError> {
        let path = format!("customerGroups/{}", encode_segment(&id.to_string()));
        self.send_json(Method::PUT, &path, &[], Some(&json!({ "group": group })))
            .await
    }

    /// `DELETE /V1/customerGroups/{id}`.
    pub async fn delete_customer_group(&self, id: impl fmt::Display) -> Result<bool, CommerceError> {
        let path = format!("customerGroups/{}", encode_segment(&id.to_string()));
        self.send_json::<Value, bool>(Method::DELETE, &path, &[], None).await
    }

    /// `POST /V1/orders/{id}/comments` with `{"statusHistory": …}`.
    pub async fn add_order_comment(
        &self,
        order_id: impl fmt::Display,
        comment: &StatusHistory,
    ) -> Result<Value, CommerceError> {
        let path = format!("orders/{}/comments", encode_segment(&order_id.to_string()));
        self.send_json(Method::POST, &path, &[], Some(&json!({ "statusHistory": comment })))
            .await
    }

    /// `POST /V1/order/{id}/ship`: creates a shipment. Returns its id.
    pub async fn ship_order(&self, order_id: impl fmt::Display, ship: &ShipOrder) -> Result<Value, CommerceError> {
        let path = format!("order/{}/ship", encode_segment(&order_id.to_string()));
        self.send_json(Method::POST, &path, &[], Some(ship)).await
    }

    /// `POST /V1/shipment` with `{"entity": shipment}`: saves a shipment
    /// (what the starter kit's shipment update uses). Returns the shipment.
    pub async fn save_shipment(&self, shipment: &impl Serialize) -> Result<Value, CommerceError> {
        self.send_json(Method::POST, "shipment", &[], Some(&json!({ "entity": shipment })))
            .await
    }

    /// `POST /V1/inventory/source-items` with `{"sourceItems": [...]}`.
    pub async fn save_source_items(&self, items: &[SourceItem]) -> Result<Value, CommerceError> {
        self.send_json(
            Method::POST,
            "inventory/source-items",
            &[],
            Some(&json!({ "sourceItems": items })),
        )
        .await
    }
}

/// Percent-encodes one path segment (a SKU, an id): everything but RFC 3986's
/// unreserved characters, `/` included, so `A/B 1` stays one segment (`A%2FB%201`).
///
/// ```
/// assert_eq!(commerce_kit_commerce_api::encode_segment("MH01 XS/Black"), "MH01%20XS%2FBlack");
/// ```
pub fn encode_segment(segment: &str) -> String {
    crate::oauth1::percent_encode(segment)
}

fn relative_path(path: &str) -> Result<&str, CommerceError> {
    let trimmed = path.trim_start_matches('/');
    let relative = trimmed.strip_prefix("V1/").unwrap_or(trimmed);
    if relative.is_empty() {
        return Err(CommerceError::InvalidRequest("empty path".into()));
    }
    if relative.contains(['?', '#']) {
        return Err(CommerceError::InvalidRequest(format!(
            "path '{relative}' must not hold a query or fragment: pass the query separately"
        )));
    }
    if relative.split('/').any(|segment| segment == ".." || segment == ".") {
        return Err(CommerceError::InvalidRequest(format!(
            "path '{relative}' has a dot segment"
        )));
    }
    Ok(relative)
}

use commerce_kit_core::http::retry_after;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(relative_path("/V1/products").ok(), Some("products"));
        assert_eq!(relative_path("V1/products").ok(), Some("products"));
        assert_eq!(relative_path("products/x").ok(), Some("products/x"));
        assert!(relative_path("/").is_err());
        assert!(relative_path("products?x=1").is_err());
        assert!(relative_path("products/../../admin").is_err());
    }
}
