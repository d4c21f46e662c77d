//! Fakes for tests (feature `test-util`): [`FakeBackOffice`], a back office on
//! a loopback port that records every request, and [`RecordingCommerce`], a
//! [`CommerceApi`] that records every call and answers as scripted.
//!
//! ```
//! use commerce_kit_sync::backoffice::{BackOfficeClient, BackOfficeOptions};
//! use commerce_kit_sync::testing::FakeBackOffice;
//! use http::StatusCode;
//! use serde_json::json;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let erp = FakeBackOffice::start().await.unwrap();
//! erp.answer(StatusCode::UNPROCESSABLE_ENTITY, json!({"error": "unknown sku"}));
//! let client = BackOfficeClient::new(BackOfficeOptions::parse(&erp.base_url()).unwrap()).unwrap();
//! let err = client.post("product/updated", &json!({"sku": "X"}), "evt-1").await.unwrap_err();
//! assert!(err.to_string().ends_with("answered 422: unknown sku"));
//! let seen = erp.requests();
//! assert_eq!((seen[0].path.as_str(), &seen[0].body), ("/product/updated", &json!({"sku": "X"})));
//! assert_eq!(seen[0].header("idempotency-key"), Some("evt-1"));
//! # });
//! ```

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, Uri};
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::call::CommerceCall;
use crate::commerce::{CommerceApi, CommerceCallError};

/// One request the fake back office received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The path and query, e.g. `/product/created`.
    pub path: String,
    /// Every header received.
    pub headers: HeaderMap,
    /// The body as JSON (`null` when empty or not JSON).
    pub body: Value,
    /// The body as received.
    pub raw: Bytes,
}

impl RecordedRequest {
    /// A header's value, when present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Debug, Clone)]
struct Answer {
    status: StatusCode,
    body: Value,
    delay: Duration,
}

#[derive(Debug)]
struct Shared {
    requests: Mutex<Vec<RecordedRequest>>,
    answer: Mutex<Answer>,
}

/// A back office on `127.0.0.1:<ephemeral port>`: records every request, then
/// answers (after an optional delay) with the status and JSON body set by
/// [`answer`](Self::answer) (`200 {"ok":true}` by default). Stopped when dropped.
#[derive(Debug)]
pub struct FakeBackOffice {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl FakeBackOffice {
    /// Binds an ephemeral loopback port and serves.
    pub async fn start() -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            requests: Mutex::new(Vec::new()),
            answer: Mutex::new(Answer {
                status: StatusCode::OK,
                body: serde_json::json!({"ok": true}),
                delay: Duration::ZERO,
            }),
        });
        let app = Router::new().fallback(record).with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!("fake back office stopped: {err}");
            }
        });
        Ok(Self { addr, shared, task })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Answer every later request with `status` and `body`.
    pub fn answer(&self, status: StatusCode, body: Value) {
        let mut answer = self.shared.answer.lock().unwrap_or_else(PoisonError::into_inner);
        answer.status = status;
        answer.body = body;
    }

    /// Wait `delay` before answering each later request.
    pub fn delay(&self, delay: Duration) {
        self.shared.answer.lock().unwrap_or_else(PoisonError::into_inner).delay = delay;
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared
            .requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Drop for FakeBackOffice {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    let path = uri
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_else(|| uri.path().to_owned());
    shared
        .requests
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(RecordedRequest {
            method,
            path,
            headers,
            body,
            raw,
        });
    let answer = shared.answer.lock().unwrap_or_else(PoisonError::into_inner).clone();
    if !answer.delay.is_zero() {
        tokio::time::sleep(answer.delay).await;
    }
    (answer.status, axum::Json(answer.body)).into_response()
}

/// A [`CommerceApi`] that records every call and answers from a script:
/// each call takes the next scripted answer, or `Ok(true)` when none is left.
#[derive(Debug, Default)]
pub struct RecordingCommerce {
    calls: Mutex<Vec<CommerceCall>>,
    answers: Mutex<VecDeque<Result<Value, CommerceCallError>>>,
}

impl RecordingCommerce {
    /// A fake that answers `Ok(true)` to everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues the answer of a later call.
    pub fn then(&self, answer: Result<Value, CommerceCallError>) -> &Self {
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push_back(answer);
        self
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<CommerceCall> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

#[async_trait::async_trait]
impl CommerceApi for RecordingCommerce {
    async fn call(&self, call: &CommerceCall) -> Result<Value, CommerceCallError> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(call.clone());
        self.answers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front()
            .unwrap_or(Ok(Value::Bool(true)))
    }
}
