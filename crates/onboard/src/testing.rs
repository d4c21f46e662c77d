//! Loopback fakes for onboarding tests (feature `test-util`): the I/O
//! Management API and Commerce's eventing and webhook REST endpoints. Both
//! keep state (what was created is listed afterwards), check what they
//! receive with their own code (auth headers, required fields, references
//! to existing objects), record every request, and can be told to fail one
//! call with the error body of the real service.
//!
//! - [`FakeIoManagement`]: providers, event metadata (samples listed under
//!   `_embedded.sample_event.sample_payload`), registrations; every list is
//!   paged ([`FakeIoManagement::set_page_size`], 2 by default) with an
//!   absolute `_links.next.href`; errors as `{"reason", "message"}` (the
//!   API), or `{"error_code", "message"}` (the gateway's 401/403).
//! - [`FakeCommerceEventing`]: `GET|POST /V1/eventing/eventProvider`, `PUT
//!   /V1/eventing/updateConfiguration`, `GET /V1/eventing/getEventSubscriptions`,
//!   `POST /V1/eventing/eventSubscribe`, `PUT /V1/eventing/eventSubscribe/{name}`
//!   (fields merged, as Commerce documents), `GET /V1/webhooks/list`, `POST
//!   /V1/webhooks/subscribe`, under PaaS's `/rest/<store>/`; IMS bearer and
//!   `x-api-key` checked; errors as Commerce's `{"message", "parameters"}`.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

/// One request a fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Query, if any.
    pub query: Option<String>,
    /// Headers.
    pub headers: HeaderMap,
    /// Body as JSON (`Null` if none or not JSON).
    pub body: Value,
    /// Status answered.
    pub status: u16,
}

impl Recorded {
    /// `METHOD /path`.
    pub fn call(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// True for anything but GET.
    pub fn is_write(&self) -> bool {
        self.method != "GET"
    }
}

#[derive(Debug, Clone)]
struct ScriptedFailure {
    method: String,
    path_contains: String,
    status: u16,
    body: Value,
}

fn respond(status: u16, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    header(headers, "authorization").and_then(|v| v.strip_prefix("Bearer "))
}

fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn str_of<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

type Accept = Arc<dyn Fn(&str) -> bool + Send + Sync>;

// ---------------------------------------------------------------------------
// The I/O Management API
// ---------------------------------------------------------------------------

#[derive(Default)]
struct IoState {
    providers: Vec<Value>,
    metadata: HashMap<String, Vec<Value>>,
    registrations: Vec<Value>,
    requests: Vec<Recorded>,
    failures: VecDeque<ScriptedFailure>,
    next_id: u64,
    page_size: usize,
}

struct IoShared {
    consumer: String,
    project: String,
    workspace: String,
    api_key: String,
    accept: Accept,
    addr: Mutex<Option<SocketAddr>>,
    state: Mutex<IoState>,
}

impl IoShared {
    fn lock(&self) -> MutexGuard<'_, IoState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The fake I/O Management API (stops when dropped).
pub struct FakeIoManagement {
    addr: SocketAddr,
    shared: Arc<IoShared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeIoManagement {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeIoManagement {
    /// Starts on `127.0.0.1:0` for this workspace; requests need `x-api-key:
    /// api_key` and a bearer token `accept` approves.
    pub async fn start(
        consumer: &str,
        project: &str,
        workspace: &str,
        api_key: &str,
        accept: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> std::io::Result<FakeIoManagement> {
        let shared = Arc::new(IoShared {
            consumer: consumer.to_owned(),
            project: project.to_owned(),
            workspace: workspace.to_owned(),
            api_key: api_key.to_owned(),
            accept: Arc::new(accept),
            addr: Mutex::new(None),
            state: Mutex::new(IoState {
                page_size: 2,
                ..IoState::default()
            }),
        });
        let app = Router::new().fallback(io_handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        *shared.addr.lock().unwrap_or_else(|p| p.into_inner()) = Some(addr);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeIoManagement { addr, shared, task })
    }

    /// `http://127.0.0.1:<port>/events/` (the `IO_MANAGEMENT_BASE_URL`).
    pub fn base_url(&self) -> String {
        format!("http://{}/events/", self.addr)
    }

    /// Items per page of every list.
    pub fn set_page_size(&self, size: usize) {
        self.shared.lock().page_size = size.max(1);
    }

    /// Adds a provider that already exists (another team's, or Adobe's); returns its id.
    pub fn seed_provider(&self, label: &str, extra: Value) -> String {
        let mut state = self.shared.lock();
        state.next_id += 1;
        let id = format!("seeded-{}", state.next_id);
        let mut provider = json!({"id": id, "label": label, "publisher": "someone@AdobeOrg"});
        if let (Some(map), Value::Object(extra)) = (provider.as_object_mut(), extra) {
            map.extend(extra);
        }
        state.providers.push(provider);
        id
    }

    /// The next `method` call whose path contains `path_contains` is answered
    /// `status` with `body` (once).
    pub fn fail_once(&self, method: &str, path_contains: &str, status: u16, body: Value) {
        self.shared.lock().failures.push_back(ScriptedFailure {
            method: method.to_owned(),
            path_contains: path_contains.to_owned(),
            status,
            body,
        });
    }

    /// Every request, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// The writes (non-GET requests), in order.
    pub fn writes(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(Recorded::is_write).collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// The providers now.
    pub fn providers(&self) -> Vec<Value> {
        self.shared.lock().providers.clone()
    }

    /// A provider's event metadata now (as stored: `sample_event_template` base64).
    pub fn metadata(&self, provider_id: &str) -> Vec<Value> {
        self.shared
            .lock()
            .metadata
            .get(provider_id)
            .cloned()
            .unwrap_or_default()
    }

    /// Replaces a stored event's sample template (someone edited it in the console).
    pub fn set_sample(&self, provider_id: &str, code: &str, sample: &Value) {
        let encoded = base64::engine::general_purpose::STANDARD.encode(sample.to_string());
        let mut state = self.shared.lock();
        if let Some(list) = state.metadata.get_mut(provider_id)
            && let Some(event) = list.iter_mut().find(|e| str_of(e, "event_code") == Some(code))
        {
            event["sample_event_template"] = json!(encoded);
        }
    }

    /// The registrations now.
    pub fn registrations(&self) -> Vec<Value> {
        self.shared.lock().registrations.clone()
    }
}

fn io_error(status: u16, reason: &str, message: impl Into<String>) -> (u16, Value) {
    (status, json!({"reason": reason, "message": message.into()}))
}

async fn io_handle(State(shared): State<Arc<IoShared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 4 * 1024 * 1024).await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let (status, answer) = io_answer(&shared, &method, &path, query.as_deref(), &parts.headers, &body, &bytes);
    shared.lock().requests.push(Recorded {
        method,
        path,
        query,
        headers: parts.headers,
        body,
        status,
    });
    respond(status, &answer)
}

fn page(shared: &IoShared, state: &IoState, path: &str, query: Option<&str>, key: &str, items: &[Value]) -> Value {
    let number: usize = query
        .and_then(|q| q.split('&').find_map(|p| p.strip_prefix("page=")))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let size = state.page_size;
    let slice: Vec<Value> = items.iter().skip(number * size).take(size).cloned().collect();
    let addr = shared
        .addr
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .map(|a| a.to_string())
        .unwrap_or_default();
    let mut links = json!({"self": {"href": format!("http://{addr}{path}?page={number}")}});
    if (number + 1) * size < items.len() {
        links["next"] = json!({"href": format!("http://{addr}{path}?page={}", number + 1)});
    }
    json!({"_embedded": {key: slice}, "_links": links})
}

fn metadata_view(shared: &IoShared, provider_id: &str, stored: &Value) -> Value {
    let mut view = stored.clone();
    let addr = shared
        .addr
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .map(|a| a.to_string())
        .unwrap_or_default();
    let code = str_of(stored, "event_code").unwrap_or_default().to_owned();
    if let Some(map) = view.as_object_mut() {
        let template = map.remove("sample_event_template");
        let base = format!("http://{addr}/events/providers/{provider_id}/eventmetadata/{code}");
        map.insert(
            "_links".into(),
            json!({"self": {"href": base}, "rel:sample_event": {"href": format!("{base}/sample_event")}}),
        );
        if let Some(Value::String(t)) = template {
            map.insert(
                "_embedded".into(),
                json!({"sample_event": {"format": "json", "sample_payload": t}}),
            );
        }
    }
    view
}

fn io_answer(
    shared: &IoShared,
    method: &str,
    path: &str,
    query: Option<&str>,
    headers: &HeaderMap,
    body: &Value,
    raw: &[u8],
) -> (u16, Value) {
    // The gateway's checks first, with its own body shape.
    if header(headers, "x-api-key") != Some(shared.api_key.as_str()) {
        return (403, json!({"error_code": "403003", "message": "Api Key is invalid"}));
    }
    if !bearer(headers).is_some_and(|t| (shared.accept)(t)) {
        return (
            401,
            json!({"error_code": "401013", "message": "Oauth token is not valid"}),
        );
    }
    if header(headers, "accept") != Some("application/hal+json") {
        return io_error(406, "Not Acceptable", "Accept must be application/hal+json");
    }
    if method != "GET" && header(headers, "content-type") != Some("application/json") {
        return io_error(415, "Unsupported Media Type", "Content-Type must be application/json");
    }
    if method != "GET" && !body.is_object() {
        return io_error(
            400,
            "Bad Request",
            format!("the body is not a JSON object ({} bytes)", raw.len()),
        );
    }
    let mut state = shared.lock();
    if let Some(at) = state
        .failures
        .iter()
        .position(|f| f.method == method && path.contains(&f.path_contains))
        && let Some(failure) = state.failures.remove(at)
    {
        return (failure.status, failure.body);
    }
    let segments: Vec<String> = path.trim_start_matches('/').split('/').map(decode).collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let scoped = |c: &str, p: &str, w: &str| c == shared.consumer && p == shared.project && w == shared.workspace;
    match (method, seg.as_slice()) {
        ("GET", ["events", c, "providers"]) if *c == shared.consumer => {
            let items = state.providers.clone();
            (200, page(shared, &state, path, query, "providers", &items))
        }
        ("POST", ["events", c, p, w, "providers"]) if scoped(c, p, w) => {
            let Some(label) = str_of(body, "label") else {
                return io_error(400, "Bad Request", "label is required");
            };
            if state.providers.iter().any(|x| str_of(x, "label") == Some(label)) {
                return io_error(409, "Conflict", format!("a provider labelled '{label}' already exists"));
            }
            if body.get("provider_metadata").is_some() != body.get("instance_id").is_some() {
                return io_error(400, "Bad Request", "provider_metadata and instance_id go together");
            }
            state.next_id += 1;
            let id = format!("prov-{}", state.next_id);
            let mut provider = body.clone();
            provider["id"] = json!(id);
            state.providers.push(provider.clone());
            (200, provider)
        }
        ("PUT", ["events", c, p, w, "providers", id]) if scoped(c, p, w) => {
            let Some(label) = str_of(body, "label").map(str::to_owned) else {
                return io_error(400, "Bad Request", "label is required");
            };
            let Some(provider) = state.providers.iter_mut().find(|x| str_of(x, "id") == Some(*id)) else {
                return io_error(404, "Not Found", format!("no provider {id}"));
            };
            provider["label"] = json!(label);
            for key in ["description", "docs_url"] {
                if let Some(v) = body.get(key) {
                    provider[key] = v.clone();
                }
            }
            (200, provider.clone())
        }
        ("GET", ["events", "providers", id, "eventmetadata"]) => {
            if !state.providers.iter().any(|x| str_of(x, "id") == Some(*id)) {
                return io_error(404, "Not Found", format!("no provider {id}"));
            }
            let items: Vec<Value> = state
                .metadata
                .get(*id)
                .map(|list| list.iter().map(|m| metadata_view(shared, id, m)).collect())
                .unwrap_or_default();
            (200, page(shared, &state, path, query, "eventmetadata", &items))
        }
        ("GET", ["events", "providers", id, "eventmetadata", code, "sample_event"]) => {
            match state
                .metadata
                .get(*id)
                .and_then(|l| l.iter().find(|m| str_of(m, "event_code") == Some(*code)))
                .and_then(|m| str_of(m, "sample_event_template"))
            {
                Some(t) => (200, json!({"format": "json", "sample_payload": t})),
                None => io_error(404, "Not Found", "no sample event"),
            }
        }
        ("POST", ["events", c, p, w, "providers", id, "eventmetadata"]) if scoped(c, p, w) => {
            if !state.providers.iter().any(|x| str_of(x, "id") == Some(*id)) {
                return io_error(404, "Not Found", format!("no provider {id}"));
            }
            let (Some(code), Some(_), Some(_)) = (
                str_of(body, "event_code"),
                str_of(body, "label"),
                str_of(body, "description"),
            ) else {
                return io_error(400, "Bad Request", "event_code, label and description are required");
            };
            if let Err(message) = check_template(body) {
                return io_error(400, "Bad Request", message);
            }
            let list = state.metadata.entry((*id).to_owned()).or_default();
            if list.iter().any(|m| str_of(m, "event_code") == Some(code)) {
                return io_error(409, "Conflict", format!("event metadata '{code}' already exists"));
            }
            list.push(body.clone());
            (200, body.clone())
        }
        ("PUT", ["events", c, p, w, "providers", id, "eventmetadata", code]) if scoped(c, p, w) => {
            if let Err(message) = check_template(body) {
                return io_error(400, "Bad Request", message);
            }
            let Some(stored) = state
                .metadata
                .get_mut(*id)
                .and_then(|l| l.iter_mut().find(|m| str_of(m, "event_code") == Some(*code)))
            else {
                return io_error(404, "Not Found", format!("no event metadata '{code}'"));
            };
            for key in ["label", "description", "sample_event_template"] {
                if let Some(v) = body.get(key) {
                    stored[key] = v.clone();
                }
            }
            (200, stored.clone())
        }
        ("GET", ["events", c, p, w, "registrations"]) if scoped(c, p, w) => {
            let items = state.registrations.clone();
            (200, page(shared, &state, path, query, "registrations", &items))
        }
        ("POST", ["events", c, p, w, "registrations"]) if scoped(c, p, w) => {
            if str_of(body, "client_id") != Some(shared.api_key.as_str()) {
                return io_error(
                    400,
                    "Bad Request",
                    "client_id must be the workspace credential's client id",
                );
            }
            if let Err(message) = check_registration(&state, body) {
                return io_error(400, "Bad Request", message);
            }
            let name = str_of(body, "name").unwrap_or_default();
            if state.registrations.iter().any(|r| str_of(r, "name") == Some(name)) {
                return io_error(409, "Conflict", format!("a registration named '{name}' already exists"));
            }
            state.next_id += 1;
            let mut created = body.clone();
            created["registration_id"] = json!(format!("reg-{}", state.next_id));
            created["id"] = json!(state.next_id);
            created["enabled"] = json!(true);
            state.registrations.push(created.clone());
            (200, created)
        }
        ("PUT", ["events", c, p, w, "registrations", id]) if scoped(c, p, w) => {
            if let Err(message) = check_registration(&state, body) {
                return io_error(400, "Bad Request", message);
            }
            let Some(stored) = state
                .registrations
                .iter_mut()
                .find(|r| str_of(r, "registration_id") == Some(*id))
            else {
                return io_error(404, "Not Found", format!("no registration {id}"));
            };
            for key in [
                "name",
                "description",
                "delivery_type",
                "webhook_url",
                "events_of_interest",
            ] {
                if let Some(v) = body.get(key) {
                    stored[key] = v.clone();
                }
            }
            (200, stored.clone())
        }
        _ => io_error(404, "Not Found", format!("no route {method} {path}")),
    }
}

fn check_template(body: &Value) -> Result<(), String> {
    match body.get("sample_event_template") {
        None => Ok(()),
        Some(Value::String(t)) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(t)
                .map_err(|_| "sample_event_template is not base64".to_owned())?;
            serde_json::from_slice::<Value>(&bytes)
                .map(|_| ())
                .map_err(|_| "sample_event_template is not base64 of JSON".to_owned())
        }
        Some(_) => Err("sample_event_template must be a string".to_owned()),
    }
}

fn check_registration(state: &IoState, body: &Value) -> Result<(), String> {
    let name = str_of(body, "name").ok_or("name is required")?;
    let delivery = str_of(body, "delivery_type").ok_or("delivery_type is required")?;
    match delivery {
        "webhook" | "webhook_batch" => {
            let url = str_of(body, "webhook_url").ok_or("webhook_url is required for webhook delivery")?;
            if !url.starts_with("https://") && !url.starts_with("http://") {
                return Err(format!("webhook_url '{url}' is not a URL"));
            }
        }
        "journal" => {
            if body.get("webhook_url").is_some() {
                return Err("a journal registration takes no webhook_url".into());
            }
        }
        other => {
            return Err(format!(
                "delivery_type '{other}' is not one of webhook, webhook_batch, journal"
            ));
        }
    }
    let events = body
        .get("events_of_interest")
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
        .ok_or(format!("registration '{name}': events_of_interest is required"))?;
    for event in events {
        let (Some(provider), Some(code)) = (str_of(event, "provider_id"), str_of(event, "event_code")) else {
            return Err("each event of interest needs provider_id and event_code".into());
        };
        let Some(p) = state.providers.iter().find(|p| str_of(p, "id") == Some(provider)) else {
            return Err(format!("provider '{provider}' does not exist"));
        };
        // Commerce registers its own events' metadata; custom providers' must exist.
        if p.get("instance_id").is_none()
            && !state
                .metadata
                .get(provider)
                .is_some_and(|l| l.iter().any(|m| str_of(m, "event_code") == Some(code)))
        {
            return Err(format!("event code '{code}' is not defined for provider '{provider}'"));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Commerce eventing and webhooks
// ---------------------------------------------------------------------------

#[derive(Default)]
struct CommerceState {
    config: Option<Value>,
    providers: Vec<Value>,
    subscriptions: Vec<Value>,
    webhooks: Vec<Value>,
    requests: Vec<Recorded>,
    failures: VecDeque<ScriptedFailure>,
    next_id: u64,
}

struct CommerceShared {
    api_key: String,
    accept: Accept,
    state: Mutex<CommerceState>,
}

impl CommerceShared {
    fn lock(&self) -> MutexGuard<'_, CommerceState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The fake Commerce (eventing and webhooks), stops when dropped.
pub struct FakeCommerceEventing {
    addr: SocketAddr,
    shared: Arc<CommerceShared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeCommerceEventing {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeCommerceEventing {
    /// Starts on `127.0.0.1:0`; requests need `x-api-key: api_key` and a bearer `accept` approves.
    pub async fn start(
        api_key: &str,
        accept: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> std::io::Result<FakeCommerceEventing> {
        let shared = Arc::new(CommerceShared {
            api_key: api_key.to_owned(),
            accept: Arc::new(accept),
            state: Mutex::new(CommerceState::default()),
        });
        let app = Router::new().fallback(commerce_handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeCommerceEventing { addr, shared, task })
    }

    /// `http://127.0.0.1:<port>/` (a PaaS `COMMERCE_BASE_URL`).
    pub fn base_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// See [`FakeIoManagement::fail_once`].
    pub fn fail_once(&self, method: &str, path_contains: &str, status: u16, body: Value) {
        self.shared.lock().failures.push_back(ScriptedFailure {
            method: method.to_owned(),
            path_contains: path_contains.to_owned(),
            status,
            body,
        });
    }

    /// Every request, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// The writes, in order.
    pub fn writes(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(Recorded::is_write).collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// The eventing configuration last written (unmasked).
    pub fn config(&self) -> Option<Value> {
        self.shared.lock().config.clone()
    }

    /// Subscriptions now.
    pub fn subscriptions(&self) -> Vec<Value> {
        self.shared.lock().subscriptions.clone()
    }

    /// Webhooks now.
    pub fn webhooks(&self) -> Vec<Value> {
        self.shared.lock().webhooks.clone()
    }

    /// Commerce-side event providers now (unmasked).
    pub fn event_providers(&self) -> Vec<Value> {
        self.shared.lock().providers.clone()
    }
}

fn commerce_error(status: u16, message: &str, parameters: Value) -> (u16, Value) {
    (status, json!({"message": message, "parameters": parameters}))
}

async fn commerce_handle(State(shared): State<Arc<CommerceShared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 4 * 1024 * 1024).await.unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let (status, answer) = commerce_answer(&shared, &method, &path, &parts.headers, &body);
    shared.lock().requests.push(Recorded {
        method,
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        status,
    });
    respond(status, &answer)
}

fn masked(provider: &Value) -> Value {
    let mut view = provider.clone();
    if view
        .get("workspace_configuration")
        .and_then(Value::as_str)
        .is_some_and(|w| !w.is_empty())
    {
        view["workspace_configuration"] = json!("******");
    }
    view
}

fn commerce_answer(
    shared: &CommerceShared,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: &Value,
) -> (u16, Value) {
    if header(headers, "x-api-key") != Some(shared.api_key.as_str())
        || !bearer(headers).is_some_and(|t| (shared.accept)(t))
    {
        return commerce_error(
            401,
            "The consumer isn't authorized to access %resources.",
            json!({"resources": "Magento_AdobeIoEventsClient"}),
        );
    }
    let Some(rest) = path
        .strip_prefix("/rest/")
        .and_then(|r| r.split_once("/V1/"))
        .map(|(_, r)| r)
    else {
        return commerce_error(404, "Request does not match any route.", Value::Null);
    };
    let segments: Vec<String> = rest.split('/').map(decode).collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let mut state = shared.lock();
    if let Some(at) = state
        .failures
        .iter()
        .position(|f| f.method == method && path.contains(&f.path_contains))
        && let Some(failure) = state.failures.remove(at)
    {
        return (failure.status, failure.body);
    }
    match (method, seg.as_slice()) {
        ("GET", ["eventing", "eventProvider"]) => {
            let mut list: Vec<Value> = Vec::new();
            if let Some(config) = &state.config {
                // The default provider: no "id".
                list.push(masked(&json!({
                    "provider_id": config.get("provider_id").cloned().unwrap_or(json!("")),
                    "instance_id": config.get("instance_id").cloned().unwrap_or(json!("")),
                    "workspace_configuration": config.get("workspace_configuration").cloned().unwrap_or(json!("")),
                })));
            }
            list.extend(state.providers.iter().map(masked));
            (200, Value::Array(list))
        }
        ("PUT", ["eventing", "updateConfiguration"]) => {
            let Some(config) = body.get("config").filter(|c| c.is_object()) else {
                return commerce_error(
                    400,
                    "\"%fieldName\" is required. Enter and try again.",
                    json!({"fieldName": "config"}),
                );
            };
            for key in ["merchant_id", "environment_id"] {
                if let Some(v) = config.get(key).and_then(Value::as_str)
                    && !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                {
                    return commerce_error(
                        400,
                        "%1 can contain only alphanumeric characters and underscores.",
                        json!([key]),
                    );
                }
            }
            if let Some(w) = config.get("workspace_configuration").and_then(Value::as_str)
                && serde_json::from_str::<Value>(w).is_err()
            {
                return commerce_error(400, "The workspace configuration is not valid JSON.", Value::Null);
            }
            state.config = Some(config.clone());
            (200, Value::Bool(true))
        }
        ("POST", ["eventing", "eventProvider"]) => {
            let Some(provider) = body.get("eventProvider") else {
                return commerce_error(
                    400,
                    "\"%fieldName\" is required. Enter and try again.",
                    json!({"fieldName": "eventProvider"}),
                );
            };
            let (Some(provider_id), Some(_)) = (str_of(provider, "provider_id"), str_of(provider, "instance_id"))
            else {
                return commerce_error(400, "Provider ID and instance ID are required.", Value::Null);
            };
            if state
                .providers
                .iter()
                .any(|p| str_of(p, "provider_id") == Some(provider_id))
            {
                return commerce_error(
                    400,
                    "Event provider with ID \"%1\" already exists.",
                    json!([provider_id]),
                );
            }
            state.next_id += 1;
            let mut stored = provider.clone();
            stored["id"] = json!(state.next_id.to_string());
            state.providers.push(stored.clone());
            (200, masked(&stored))
        }
        ("GET", ["eventing", "getEventSubscriptions"]) => (200, Value::Array(state.subscriptions.clone())),
        ("POST", ["eventing", "eventSubscribe"]) => {
            let Some(event) = body.get("event") else {
                return commerce_error(
                    400,
                    "\"%fieldName\" is required. Enter and try again.",
                    json!({"fieldName": "event"}),
                );
            };
            let Some(name) = str_of(event, "name") else {
                return commerce_error(400, "Event name is required.", Value::Null);
            };
            if state.subscriptions.iter().any(|s| str_of(s, "name") == Some(name)) {
                return commerce_error(
                    400,
                    "An event subscription with the name \"%1\" already exists.",
                    json!([name]),
                );
            }
            if let Some(provider) = str_of(event, "provider_id")
                && !state
                    .providers
                    .iter()
                    .any(|p| str_of(p, "provider_id") == Some(provider))
                && state.config.as_ref().and_then(|c| str_of(c, "provider_id")) != Some(provider)
            {
                return commerce_error(
                    400,
                    "Event provider with ID \"%1\" is not configured.",
                    json!([provider]),
                );
            }
            state.subscriptions.push(event.clone());
            (200, Value::Bool(true))
        }
        ("PUT", ["eventing", "eventSubscribe", name]) => {
            let Some(update) = body.get("event") else {
                return commerce_error(
                    400,
                    "\"%fieldName\" is required. Enter and try again.",
                    json!({"fieldName": "event"}),
                );
            };
            let Some(stored) = state
                .subscriptions
                .iter_mut()
                .find(|s| str_of(s, "name") == Some(*name))
            else {
                return commerce_error(404, "The \"%1\" event is not subscribed.", json!([name]));
            };
            // Fields are merged with the existing ones (Commerce's documented behaviour).
            let mut fields: Vec<Value> = stored
                .get("fields")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for field in update
                .get("fields")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                fields.retain(|f| f.get("name") != field.get("name"));
                fields.push(field);
            }
            stored["fields"] = Value::Array(fields);
            for key in ["parent", "provider_id", "rules", "priority", "destination"] {
                if let Some(v) = update.get(key) {
                    stored[key] = v.clone();
                }
            }
            (200, Value::Bool(true))
        }
        ("GET", ["webhooks", "list"]) => {
            let list: Vec<Value> = state
                .webhooks
                .iter()
                .map(|w| {
                    let mut view = w.clone();
                    if view.get("developer_console_oauth").is_some() {
                        view["developer_console_oauth"]["client_secret"] = json!("******");
                    }
                    view
                })
                .collect();
            (200, Value::Array(list))
        }
        ("POST", ["webhooks", "subscribe"]) => {
            let Some(webhook) = body.get("webhook").filter(|w| w.is_object()) else {
                return commerce_error(
                    400,
                    "\"%fieldName\" is required. Enter and try again.",
                    json!({"fieldName": "webhook"}),
                );
            };
            for key in ["webhook_method", "webhook_type", "batch_name", "hook_name", "url"] {
                if str_of(webhook, key).is_none() {
                    return commerce_error(
                        400,
                        "\"%fieldName\" is required. Enter and try again.",
                        json!({"fieldName": key}),
                    );
                }
            }
            let key = |w: &Value| {
                ["webhook_method", "webhook_type", "batch_name", "hook_name"]
                    .map(|k| str_of(w, k).unwrap_or_default().to_owned())
            };
            let wanted = key(webhook);
            state.webhooks.retain(|w| key(w) != wanted);
            state.webhooks.push(webhook.clone());
            (200, webhook.clone())
        }
        _ => commerce_error(404, "Request does not match any route.", Value::Null),
    }
}
