//! A loopback fake of the I/O Events Journaling API, with IMS's token
//! endpoint beside it, for tests of journal consumers.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};

/// An answer the fake gives to one request instead of the page, in order.
#[derive(Debug, Clone)]
pub enum JournalFault {
    /// This status with a small JSON body, and `retry-after` when given.
    Status(u16, Option<&'static str>),
    /// 200 with this body (a malformed page).
    Body(&'static str),
    /// Answer normally.
    Pass,
    /// The token is revoked (IMS issued another one): 401.
    Revoke,
}

/// What the fake holds and saw.
#[derive(Debug, Default)]
struct Journal {
    events: Mutex<Vec<(String, Value)>>,
    page_size: usize,
    faults: Mutex<VecDeque<JournalFault>>,
    tokens: Mutex<Vec<String>>,
    requests: Mutex<Vec<(String, Instant)>>,
    problems: Mutex<Vec<String>>,
    retry_after_on_end: Option<&'static str>,
    client_id: String,
    client_secret: String,
    org_id: String,
}

/// The fake: `POST /ims/token/v3` (client credentials: issues `tok-1`,
/// `tok-2`, …; the newest is the valid one), `GET /journal` (the first page,
/// or `?since=<position>`) and `GET /journal/next?after=<position>` (the
/// `Link: rel="next"` it hands out, so a client must follow links rather than
/// build URLs). Pages are `{"events":[{"position","event"}],"_page":{"last","count"}}`;
/// past the end, 204 (with `retry-after` when configured). Each request's
/// bearer must be the newest token; `x-api-key` and `x-ims-org-id` are checked
/// and mismatches recorded in [`problems`](Self::problems).
#[derive(Debug, Clone)]
pub struct FakeJournal {
    state: Arc<Journal>,
    base_url: String,
}

impl FakeJournal {
    /// Starts on an ephemeral loopback port, with `events` as (position,
    /// CloudEvent JSON), `page_size` per page, and the credentials it accepts.
    pub async fn start(
        events: Vec<(String, Value)>,
        page_size: usize,
        retry_after_on_end: Option<&'static str>,
        (client_id, client_secret, org_id): (&str, &str, &str),
    ) -> std::io::Result<Self> {
        let state = Arc::new(Journal {
            events: Mutex::new(events),
            page_size: page_size.max(1),
            retry_after_on_end,
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            org_id: org_id.to_owned(),
            ..Journal::default()
        });
        let app = Router::new()
            .route("/ims/token/v3", post(token))
            .route("/journal", get(page))
            .route("/journal/next", get(page))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Self { state, base_url })
    }

    /// `http://127.0.0.1:PORT` (IMS's base URL too).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The journal endpoint, `<base>/journal`.
    pub fn journal_url(&self) -> String {
        format!("{}/journal", self.base_url)
    }

    /// Queues answers given instead of pages, one per request.
    pub fn push_faults(&self, faults: impl IntoIterator<Item = JournalFault>) {
        self.state.faults.lock().expect("lock").extend(faults);
    }

    /// Appends events to the journal.
    pub fn append(&self, events: impl IntoIterator<Item = (String, Value)>) {
        self.state.events.lock().expect("lock").extend(events);
    }

    /// Every journal request's path and query, in order, with when it came.
    pub fn requests(&self) -> Vec<(String, Instant)> {
        self.state.requests.lock().expect("lock").clone()
    }

    /// The tokens IMS issued (and revocations), in order.
    pub fn tokens(&self) -> Vec<String> {
        self.state.tokens.lock().expect("lock").clone()
    }

    /// Header problems seen (`x-api-key`, `x-ims-org-id`); empty when all were right.
    pub fn problems(&self) -> Vec<String> {
        self.state.problems.lock().expect("lock").clone()
    }
}

async fn token(State(fake): State<Arc<Journal>>, body: String) -> Response {
    // the client credentials sent here need no decoding
    let form: Vec<(&str, &str)> = body.split('&').filter_map(|kv| kv.split_once('=')).collect();
    let field = |name: &str| form.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    if field("grant_type") != Some("client_credentials")
        || field("client_id") != Some(fake.client_id.as_str())
        || field("client_secret") != Some(fake.client_secret.as_str())
    {
        return (StatusCode::UNAUTHORIZED, "{\"error\":\"invalid_client\"}").into_response();
    }
    let mut tokens = fake.tokens.lock().expect("lock");
    let token = format!("tok-{}", tokens.len() + 1);
    tokens.push(token.clone());
    axum::Json(json!({"access_token": token, "token_type": "bearer", "expires_in": 86_400_000})).into_response()
}

async fn page(
    State(fake): State<Arc<Journal>>,
    headers: HeaderMap,
    uri: http::Uri,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    fake.requests
        .lock()
        .expect("lock")
        .push((uri.to_string(), Instant::now()));
    let valid = fake.tokens.lock().expect("lock").last().cloned();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer.is_none() || bearer != valid.as_deref() {
        return (StatusCode::UNAUTHORIZED, "{\"error\":\"invalid token\"}").into_response();
    }
    for (name, want) in [("x-api-key", &fake.client_id), ("x-ims-org-id", &fake.org_id)] {
        if headers.get(name).and_then(|v| v.to_str().ok()) != Some(want.as_str()) {
            fake.problems
                .lock()
                .expect("lock")
                .push(format!("{name} missing or wrong"));
        }
    }
    let fault = fake.faults.lock().expect("lock").pop_front();
    match fault {
        None | Some(JournalFault::Pass) => {}
        Some(JournalFault::Revoke) => {
            fake.tokens.lock().expect("lock").push("revoked-elsewhere".to_owned());
            return (StatusCode::UNAUTHORIZED, "{\"error\":\"token revoked\"}").into_response();
        }
        Some(JournalFault::Status(code, retry_after)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut r = (status, "{\"error\":\"busy\"}").into_response();
            if let Some(value) = retry_after.and_then(|v| v.parse().ok()) {
                r.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return r;
        }
        Some(JournalFault::Body(body)) => return (StatusCode::OK, body).into_response(),
    }
    let events = fake.events.lock().expect("lock").clone();
    let after = query
        .iter()
        .find(|(k, _)| k == "since" || k == "after")
        .map(|(_, v)| v.clone());
    let start = match after {
        None => 0,
        Some(position) => match events.iter().position(|(p, _)| *p == position) {
            Some(i) => i + 1,
            None => return (StatusCode::BAD_REQUEST, "{\"error\":\"unknown position\"}").into_response(),
        },
    };
    if start >= events.len() {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Some(value) = fake.retry_after_on_end.and_then(|v| v.parse().ok()) {
            r.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return r;
    }
    let page: Vec<Value> = events[start..]
        .iter()
        .take(fake.page_size)
        .map(|(p, e)| json!({"position": p, "event": e}))
        .collect();
    let last = page
        .last()
        .and_then(|e| e["position"].as_str())
        .unwrap_or_default()
        .to_owned();
    let count = page.len();
    let mut r = axum::Json(json!({"events": page, "_page": {"last": last, "count": count}})).into_response();
    let link = format!("</journal/next?after={last}>; rel=\"next\", </journal?latest=true>; rel=\"latest\"");
    if let Ok(value) = link.parse() {
        r.headers_mut().insert(header::LINK, value);
    }
    r
}
