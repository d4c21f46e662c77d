//! Loopback fakes of Adobe IMS and the I/O Events ingress, speaking their
//! protocol, for tests and benchmarks (feature `test-util`).
//!
//! One server plays both: `POST /ims/token/v3` (form `grant_type`,
//! `client_id`, `client_secret`, `scope`; answers `{"access_token", "token_type",
//! "expires_in"}` or 401 `{"error":"invalid_client"}`) and `POST /` (the ingress:
//! checks `x-api-key`, the bearer token — it must be one IMS issued and not
//! revoked — and the content type; answers 200 `OK`). Scripted answers can be
//! queued for either endpoint; every request is recorded. `GET /stats` returns
//! `{"token_requests":N,"ingress_requests":M}`.

use std::collections::{HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode};
use reqwest::Url;
use serde_json::{Value, json};

use crate::json::{KeyIn, Skip};

/// The client id the fake accepts by default.
pub const FAKE_CLIENT_ID: &str = "fake-client-id";
/// The client secret the fake accepts by default.
pub const FAKE_CLIENT_SECRET: &str = "fake-client-secret";

/// A scripted answer.
#[derive(Debug, Clone)]
pub struct FakeResponse {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body text.
    pub body: String,
}

impl FakeResponse {
    /// A response with `status` and an empty body.
    pub fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: &str) -> Self {
        self.body = body.to_owned();
        self
    }
}

/// One request received by the fake IMS.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// The `Content-Type` header.
    pub content_type: Option<String>,
    /// The form fields, in order.
    pub form: Vec<(String, String)>,
}

impl TokenRequest {
    /// A form field's value.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// One request received by the fake ingress.
#[derive(Debug, Clone)]
pub struct IngressRequest {
    /// All headers.
    pub headers: HeaderMap,
    /// The body as JSON (`Value::Null` if it was not JSON).
    pub body: Value,
    /// The status the fake answered.
    pub answered: u16,
}

#[derive(Default)]
struct Inner {
    token_requests: Vec<TokenRequest>,
    ingress_requests: Vec<IngressRequest>,
    ims_script: VecDeque<FakeResponse>,
    ingress_script: VecDeque<FakeResponse>,
    issued: HashSet<String>,
}

struct Shared {
    inner: Mutex<Inner>,
    client_id: String,
    client_secret: String,
    token_lifetime_secs: AtomicU64,
    ims_delay_ms: AtomicU64,
    token_count: AtomicU64,
    ingress_count: AtomicU64,
    connections: AtomicU64,
    record: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The running fake (stops when dropped).
pub struct FakeAdobe {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeAdobe {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeAdobe {
    /// Starts on `127.0.0.1:0`, accepting [`FAKE_CLIENT_ID`] / [`FAKE_CLIENT_SECRET`],
    /// recording every request.
    pub async fn start() -> std::io::Result<FakeAdobe> {
        Self::start_with(
            "127.0.0.1:0".parse().unwrap_or(SocketAddr::from(([127, 0, 0, 1], 0))),
            true,
        )
        .await
    }

    /// Starts on `addr`; with `record = false` only counts requests (benchmarks).
    pub async fn start_with(addr: SocketAddr, record: bool) -> std::io::Result<FakeAdobe> {
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner::default()),
            client_id: FAKE_CLIENT_ID.to_owned(),
            client_secret: FAKE_CLIENT_SECRET.to_owned(),
            token_lifetime_secs: AtomicU64::new(86_399),
            ims_delay_ms: AtomicU64::new(0),
            token_count: AtomicU64::new(0),
            ingress_count: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            record,
        });
        let app = Router::new()
            .route("/ims/token/v3", post(token))
            .route("/", post(ingress))
            .route("/stats", get(stats))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let counter = shared.clone();
        let listener = axum::serve::ListenerExt::tap_io(listener, move |_tcp| {
            counter.connections.fetch_add(1, Ordering::Relaxed);
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeAdobe { addr, shared, task })
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (use it as both IMS base URL and ingress URL).
    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr))
            .unwrap_or_else(|_| Url::parse("http://127.0.0.1/").expect("static"))
    }

    /// Lifetime (`expires_in`, seconds) of tokens issued from now on (default 86399).
    pub fn set_token_lifetime(&self, secs: u64) {
        self.shared.token_lifetime_secs.store(secs, Ordering::Relaxed);
    }

    /// Delay before IMS answers (to let concurrent callers pile up).
    pub fn set_ims_delay(&self, delay: Duration) {
        self.shared
            .ims_delay_ms
            .store(delay.as_millis() as u64, Ordering::Relaxed);
    }

    /// Queues an answer for the next token request (instead of a token).
    pub fn push_ims_response(&self, response: FakeResponse) {
        self.shared.lock().ims_script.push_back(response);
    }

    /// Queues an answer for the next ingress request (instead of 200).
    pub fn push_ingress_response(&self, response: FakeResponse) {
        self.shared.lock().ingress_script.push_back(response);
    }

    /// Makes every token issued so far invalid for the ingress (401), as when
    /// Adobe revokes or expires them.
    pub fn revoke_tokens(&self) {
        self.shared.lock().issued.clear();
    }

    /// Number of token requests received.
    pub fn token_request_count(&self) -> u64 {
        self.shared.token_count.load(Ordering::Relaxed)
    }

    /// Number of ingress requests received.
    pub fn ingress_request_count(&self) -> u64 {
        self.shared.ingress_count.load(Ordering::Relaxed)
    }

    /// TCP connections accepted (IMS and ingress together).
    pub fn connection_count(&self) -> u64 {
        self.shared.connections.load(Ordering::Relaxed)
    }

    /// The recorded token requests.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.shared.lock().token_requests.clone()
    }

    /// The recorded ingress requests.
    pub fn ingress_requests(&self) -> Vec<IngressRequest> {
        self.shared.lock().ingress_requests.clone()
    }
}

fn scripted(r: FakeResponse) -> Response {
    let mut resp = (
        StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        r.body,
    )
        .into_response();
    for (k, v) in r.headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(k.as_bytes()),
            http::HeaderValue::from_str(&v),
        ) {
            resp.headers_mut().insert(name, value);
        }
    }
    resp
}

/// Decodes `application/x-www-form-urlencoded` pairs.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut parts = pair.splitn(2, |b| *b == b'=');
            let key = decode(parts.next().unwrap_or_default());
            let value = decode(parts.next().unwrap_or_default());
            (key, value)
        })
        .collect()
}

fn decode(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < raw.len() => {
                match std::str::from_utf8(&raw[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let n = s.token_count.fetch_add(1, Ordering::Relaxed) + 1;
    let delay = s.ims_delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let request = TokenRequest {
        content_type: headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        form: form_pairs(&body),
    };
    let valid = request.field("grant_type") == Some("client_credentials")
        && request.field("client_id") == Some(s.client_id.as_str())
        && request.field("client_secret") == Some(s.client_secret.as_str())
        && request.field("scope").is_some_and(|v| !v.is_empty())
        && request.content_type.as_deref() == Some("application/x-www-form-urlencoded");
    let mut inner = s.lock();
    if s.record {
        inner.token_requests.push(request);
    }
    if let Some(r) = inner.ims_script.pop_front() {
        return scripted(r);
    }
    if !valid {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": "invalid_client", "error_description": "invalid client_id parameter"})),
        )
            .into_response();
    }
    let access_token = format!("fake-ims-token-{n}");
    inner.issued.insert(access_token.clone());
    let expires_in = s.token_lifetime_secs.load(Ordering::Relaxed);
    axum::Json(json!({"access_token": access_token, "token_type": "bearer", "expires_in": expires_in})).into_response()
}

/// The `specversion` of a JSON object, read without building the document:
/// the other members are checked like a full parse and skipped. As with a
/// parsed `Value`, the last of duplicate members wins; anything but an object
/// has no `specversion`.
struct SpecVersion(Option<Value>);

impl<'de> serde::Deserialize<'de> for SpecVersion {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = SpecVersion;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<SpecVersion, A::Error> {
                let mut found = None;
                while let Some(key) = map.next_key_seed(KeyIn(&["specversion"]))? {
                    if key.is_some() {
                        found = Some(map.next_value::<Value>()?);
                    } else {
                        map.next_value::<Skip>()?;
                    }
                }
                Ok(SpecVersion(found))
            }
        }
        deserializer.deserialize_map(Members)
    }
}

/// True for a JSON object whose `specversion` is `"1.0"`.
fn is_cloudevent(body: &[u8]) -> bool {
    matches!(
        serde_json::from_slice::<SpecVersion>(body),
        Ok(SpecVersion(Some(Value::String(v)))) if v == "1.0"
    )
}

async fn ingress(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    s.ingress_count.fetch_add(1, Ordering::Relaxed);
    let bearer = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let mut inner = s.lock();
    let response = if let Some(r) = inner.ingress_script.pop_front() {
        scripted(r)
    } else if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(s.client_id.as_str()) {
        (StatusCode::FORBIDDEN, "missing or wrong x-api-key").into_response()
    } else if !bearer.is_some_and(|t| inner.issued.contains(t)) {
        (StatusCode::UNAUTHORIZED, "invalid token").into_response()
    } else if headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
        != Some("application/cloudevents+json")
    {
        (StatusCode::BAD_REQUEST, "expected application/cloudevents+json").into_response()
    } else if is_cloudevent(&body) {
        (StatusCode::OK, "OK").into_response()
    } else {
        (StatusCode::BAD_REQUEST, "not a CloudEvent").into_response()
    };
    if s.record {
        inner.ingress_requests.push(IngressRequest {
            headers,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            answered: response.status().as_u16(),
        });
    }
    response
}

async fn stats(State(s): State<Arc<Shared>>) -> Response {
    axum::Json(json!({
        "token_requests": s.token_count.load(Ordering::Relaxed),
        "ingress_requests": s.ingress_count.load(Ordering::Relaxed),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cloudevent_check_matches_a_full_parse() {
        let full = |body: &[u8]| {
            serde_json::from_slice::<Value>(body).is_ok_and(|v| v.get("specversion") == Some(&json!("1.0")))
        };
        let cases: &[&str] = &[
            r#"{"specversion":"1.0","id":"1","data":{"a":[1,2,{"b":null}]}}"#,
            r#"{"id":"1","specversion":"1.0"}"#,
            r#"{"spec\u0076ersion":"1.0"}"#,
            r#"{"specversion":"1.0","specversion":"0.3"}"#,
            r#"{"specversion":"0.3","specversion":"1.0"}"#,
            r#"{"specversion":"0.3"}"#,
            r#"{"specversion":1.0}"#,
            r#"{"specversion":null}"#,
            r#"{"specversion":["1.0"]}"#,
            r#"{"data":{"specversion":"1.0"}}"#,
            r#"["1.0"]"#,
            r#""1.0""#,
            r#"{}"#,
            r#"{"specversion":"1.0"} trailing"#,
            r#"{"specversion":"1.0","data":}"#,
            r#"{"specversion":"1.0","data":"\ud800"}"#,
            r#"{"spec\ud800":1,"specversion":"1.0"}"#,
            r#"{"specversion":"1.0","data":{"k\ud800":1}}"#,
            r#"{"specversion":"1.0","n":1e400}"#,
            r#"{"specversion":"1.0","n":-0,"m":18446744073709551616,"x":[[[[true,false,null]]]]}"#,
            r#"{"specversion":"1.0","data":"\u00e9\n\"q\""}"#,
            "",
            "not json",
        ];
        for case in cases {
            assert_eq!(is_cloudevent(case.as_bytes()), full(case.as_bytes()), "{case}");
        }
        assert!(is_cloudevent(cases[0].as_bytes()));
    }
}
