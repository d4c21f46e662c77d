//! Test helpers (feature `test-util`): sign deliveries as Adobe I/O Events does
//! and serve the public keys from a loopback fake key host, so integrators can
//! test their consumer end to end with signature verification on.
//!
//! ```
//! use commerce_kit_events::test_util::{AdobeSigner, FakeKeyHost};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let keys = FakeKeyHost::with_test_keys().await.unwrap();
//! // point IO_EVENTS_KEY_BASE_URL (or SignatureVerifier::new) at keys.base_url()
//! let body = br#"{"specversion":"1.0","id":"1","source":"s","type":"be-observer.customer_create","data":{}}"#;
//! let headers = AdobeSigner::test_keys().headers(body);
//! assert!(headers.contains_key("x-adobe-digital-signature-1"));
//! assert_eq!(keys.total_fetches(), 0);
//! # });
//! ```

mod journal;

pub use journal::{FakeJournal, JournalFault};

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use commerce_kit_core::signature::{RsaSigner, TEST_PUBLIC_KEY_A, TEST_PUBLIC_KEY_B};
use http::{HeaderMap, HeaderValue, StatusCode};

/// Key path of [`RsaSigner::test_key_a`] on the fake key host.
pub const TEST_KEY_PATH_A: &str = "/prod/keys/pub-key-test-a.pem";
/// Key path of [`RsaSigner::test_key_b`] on the fake key host.
pub const TEST_KEY_PATH_B: &str = "/prod/keys/pub-key-test-b.pem";

/// Produces the signature headers of an I/O Events delivery.
#[derive(Debug, Clone)]
pub struct AdobeSigner {
    one: Option<(RsaSigner, String)>,
    two: Option<(RsaSigner, String)>,
}

impl AdobeSigner {
    /// Signature 1 with test key A at [`TEST_KEY_PATH_A`], signature 2 with test
    /// key B at [`TEST_KEY_PATH_B`].
    pub fn test_keys() -> Self {
        Self::new(
            Some((RsaSigner::test_key_a(), TEST_KEY_PATH_A.to_owned())),
            Some((RsaSigner::test_key_b(), TEST_KEY_PATH_B.to_owned())),
        )
    }

    /// Any keys and paths; `None` leaves that signature's headers out.
    pub fn new(one: Option<(RsaSigner, String)>, two: Option<(RsaSigner, String)>) -> Self {
        Self { one, two }
    }

    /// `content-type`, `x-adobe-digital-signature-N` (base64 RSA-SHA256 of
    /// `body`) and `x-adobe-publicN-path` headers, as Adobe sends them.
    pub fn headers(&self, body: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let pairs = [
            (&self.one, "x-adobe-digital-signature-1", "x-adobe-public-key1-path"),
            (&self.two, "x-adobe-digital-signature-2", "x-adobe-public-key2-path"),
        ];
        for (entry, sig_name, path_name) in pairs {
            if let Some((signer, path)) = entry {
                let sig = signer.sign_base64(body);
                if let (Ok(sig), Ok(path)) = (HeaderValue::from_str(&sig), HeaderValue::from_str(path)) {
                    headers.insert(sig_name, sig);
                    headers.insert(path_name, path);
                }
            }
        }
        headers
    }
}

#[derive(Clone, Default)]
struct Keys {
    pems: Arc<HashMap<String, String>>,
    fetches: Arc<Mutex<HashMap<String, u64>>>,
}

/// A loopback HTTP server serving PEM public keys by path and counting fetches.
/// Stops when dropped.
#[derive(Debug)]
pub struct FakeKeyHost {
    base_url: String,
    keys: KeysHandle,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct KeysHandle(Keys);

impl std::fmt::Debug for KeysHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(..)")
    }
}

impl FakeKeyHost {
    /// Serves the test public keys A and B at [`TEST_KEY_PATH_A`] and [`TEST_KEY_PATH_B`].
    pub async fn with_test_keys() -> std::io::Result<Self> {
        Self::start(vec![
            (TEST_KEY_PATH_A.to_owned(), TEST_PUBLIC_KEY_A.to_owned()),
            (TEST_KEY_PATH_B.to_owned(), TEST_PUBLIC_KEY_B.to_owned()),
        ])
        .await
    }

    /// Serves `(path, PEM)` pairs on `127.0.0.1:<free port>`; other paths answer 404.
    pub async fn start(keys: Vec<(String, String)>) -> std::io::Result<Self> {
        let keys = Keys {
            pems: Arc::new(keys.into_iter().collect()),
            fetches: Arc::default(),
        };
        let app = Router::new().route("/{*path}", get(serve_key)).with_state(keys.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::error!("fake key host stopped: {err}");
            }
        });
        Ok(Self {
            base_url,
            keys: KeysHandle(keys),
            task,
        })
    }

    /// `http://127.0.0.1:<port>`: use it as `IO_EVENTS_KEY_BASE_URL`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// How many times `path` was requested.
    pub fn fetches(&self, path: &str) -> u64 {
        let fetches = self.keys.0.fetches.lock().unwrap_or_else(|p| p.into_inner());
        fetches.get(path).copied().unwrap_or(0)
    }

    /// How many key requests were received in total.
    pub fn total_fetches(&self) -> u64 {
        let fetches = self.keys.0.fetches.lock().unwrap_or_else(|p| p.into_inner());
        fetches.values().sum()
    }
}

impl Drop for FakeKeyHost {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve_key(State(keys): State<Keys>, Path(path): Path<String>) -> axum::response::Response {
    let path = format!("/{path}");
    {
        let mut fetches = keys.fetches.lock().unwrap_or_else(|p| p.into_inner());
        *fetches.entry(path.clone()).or_default() += 1;
    }
    match keys.pems.get(&path) {
        Some(pem) => (StatusCode::OK, pem.clone()).into_response(),
        None => (StatusCode::NOT_FOUND, "no such key").into_response(),
    }
}
