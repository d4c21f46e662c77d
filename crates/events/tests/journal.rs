//! The Journaling API puller against a loopback fake of the API (and of IMS's
//! token endpoint): pages stored in the local bus and handled there, `Link`
//! following, 204 with `retry-after`, 429/500 then recovery, one
//! re-authentication on 401, malformed pages that never move the position,
//! and a restart from the stored position.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use commerce_kit_core::ims::{ImsCredentials, ImsTokenProvider};
use commerce_kit_core::state::MemoryStore;
use commerce_kit_events::bus::LocalBus;
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::consumer::Consumer;
use commerce_kit_events::handler::{EventContext, HandlerResult, handler_fn};
use commerce_kit_events::journal::{DEFAULT_CURSOR_NAME, JournalOptions, spawn_journal};
use commerce_kit_events::local::{DEFAULT_CONSUMER_NAME, LocalOptions, spawn_local};
use serde_json::{Value, json};

const CLIENT_ID: &str = "journal-client";
const ORG: &str = "ORG1@AdobeOrg";

/// An answer the fake gives instead of the next page, once.
#[derive(Clone)]
enum Fault {
    Status(u16, Option<&'static str>),
    Body(&'static str),
    /// Answer normally.
    Pass,
    /// The token is revoked (IMS issued another): 401.
    Revoke,
}

#[derive(Default)]
struct Fake {
    /// The journal: (position, event).
    events: Vec<(String, Value)>,
    page_size: usize,
    faults: Mutex<VecDeque<Fault>>,
    /// Tokens IMS issued; the last one is the valid one.
    tokens: Mutex<Vec<String>>,
    /// Every journal request: (path and query, when).
    requests: Mutex<Vec<(String, Instant)>>,
    /// Header problems seen (must stay empty).
    problems: Mutex<Vec<String>>,
    retry_after_on_end: Option<&'static str>,
}

async fn token(State(fake): State<Arc<Fake>>, body: String) -> Response {
    // the values sent here need no decoding
    let form: Vec<(&str, &str)> = body.split('&').filter_map(|kv| kv.split_once('=')).collect();
    let field = |name: &str| form.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some("s3cret") {
        return (StatusCode::UNAUTHORIZED, "{\"error\":\"invalid_client\"}").into_response();
    }
    let mut tokens = fake.tokens.lock().expect("lock");
    let token = format!("tok-{}", tokens.len() + 1);
    tokens.push(token.clone());
    axum::Json(json!({"access_token": token, "token_type": "bearer", "expires_in": 86_400_000})).into_response()
}

/// `GET /journal?since=…` (first page) and `GET /journal/next?after=…` (the
/// `Link` the fake hands out: a path the client must follow, not rebuild).
async fn journal(
    State(fake): State<Arc<Fake>>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    fake.requests
        .lock()
        .expect("lock")
        .push((uri.to_string(), Instant::now()));
    let valid = fake.tokens.lock().expect("lock").last().cloned();
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    if auth.is_none() || auth.map(|a| a.trim_start_matches("Bearer ")) != valid.as_deref() {
        return (StatusCode::UNAUTHORIZED, "{\"error\":\"invalid token\"}").into_response();
    }
    for (name, want) in [("x-api-key", CLIENT_ID), ("x-ims-org-id", ORG)] {
        if headers.get(name).and_then(|v| v.to_str().ok()) != Some(want) {
            fake.problems
                .lock()
                .expect("lock")
                .push(format!("{name} missing or wrong"));
        }
    }
    let fault = fake.faults.lock().expect("lock").pop_front();
    if let Some(fault) = fault.filter(|f| !matches!(f, Fault::Pass)) {
        return match fault {
            Fault::Pass => unreachable!("filtered out"),
            Fault::Revoke => {
                fake.tokens.lock().expect("lock").push("revoked-elsewhere".to_owned());
                (StatusCode::UNAUTHORIZED, "{\"error\":\"token revoked\"}").into_response()
            }
            Fault::Status(code, retry_after) => {
                let mut r = (StatusCode::from_u16(code).expect("status"), "{\"error\":\"busy\"}").into_response();
                if let Some(after) = retry_after {
                    r.headers_mut()
                        .insert(header::RETRY_AFTER, after.parse().expect("header"));
                }
                r
            }
            Fault::Body(body) => (StatusCode::OK, body).into_response(),
        };
    }
    let after = q
        .iter()
        .find(|(k, _)| k == "since" || k == "after")
        .map(|(_, v)| v.clone());
    let start = match after {
        None => 0,
        Some(pos) => match fake.events.iter().position(|(p, _)| *p == pos) {
            Some(i) => i + 1,
            None => return (StatusCode::BAD_REQUEST, "{\"error\":\"unknown position\"}").into_response(),
        },
    };
    if start >= fake.events.len() {
        let mut r = StatusCode::NO_CONTENT.into_response();
        if let Some(after) = fake.retry_after_on_end {
            r.headers_mut()
                .insert(header::RETRY_AFTER, after.parse().expect("header"));
        }
        return r;
    }
    let page: Vec<Value> = fake.events[start..]
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
    r.headers_mut().insert(
        header::LINK,
        format!("</journal/next?after={last}>; rel=\"next\", </journal?latest=true>; rel=\"latest\"")
            .parse()
            .expect("link"),
    );
    r
}

fn event(i: usize) -> Value {
    json!({"specversion": "1.0", "id": format!("ev-{i}"), "source": "urn:uuid:commerce",
        "type": "com.adobe.commerce.observer.catalog_product_delete_commit_after",
        "data": {"value": {"sku": format!("SKU-{i}")}}})
}

async fn start_fake(fake: Fake) -> (Arc<Fake>, String) {
    let fake = Arc::new(fake);
    let app = Router::new()
        .route("/ims/token/v3", post(token))
        .route("/journal", get(journal))
        .route("/journal/next", get(journal))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (fake, base)
}

fn fake_with(n: usize, page_size: usize) -> Fake {
    Fake {
        events: (0..n).map(|i| (format!("pos-{i}"), event(i))).collect(),
        page_size,
        ..Fake::default()
    }
}

fn ims(base: &str) -> Arc<ImsTokenProvider> {
    let credentials = ImsCredentials {
        client_id: CLIENT_ID.to_owned(),
        client_secret: "s3cret".into(),
        scopes: "adobeio_api".to_owned(),
    };
    Arc::new(ImsTokenProvider::new(
        reqwest::Client::new(),
        &reqwest::Url::parse(base).expect("url"),
        credentials,
    ))
}

fn options(base: &str) -> JournalOptions {
    let mut o = JournalOptions::new(reqwest::Url::parse(&format!("{base}/journal")).expect("url"));
    o.org_id = Some(ORG.to_owned());
    o.idle_wait = Duration::from_millis(100);
    o.min_backoff = Duration::from_millis(50);
    o.max_backoff = Duration::from_millis(200);
    o
}

type Handled = Arc<Mutex<Vec<String>>>;

fn consumer() -> (Consumer, Handled) {
    let handled: Handled = Arc::default();
    let h = handled.clone();
    let handler = handler_fn(move |e: CloudEvent, _ctx: EventContext| {
        let h = h.clone();
        async move {
            h.lock().expect("lock").push(e.id.clone());
            Ok(HandlerResult::success("ok"))
        }
    });
    let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
        .fallback(handler)
        .build()
        .expect("consumer");
    (consumer, handled)
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        if Instant::now() >= deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort_by_key(|id| id.trim_start_matches("ev-").parse::<usize>().unwrap_or(usize::MAX));
    v
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("ev-{i}")).collect()
}

#[tokio::test]
async fn pages_are_followed_stored_and_handled_and_a_restart_resumes_from_the_stored_position() {
    let mut fake = fake_with(10, 4);
    fake.retry_after_on_end = Some("1");
    let (fake, base) = start_fake(fake).await;
    let dir = tempfile::tempdir().expect("dir");
    let (consumer, handled) = consumer();
    {
        let bus = LocalBus::open(dir.path()).expect("bus");
        let local = spawn_local(consumer.clone(), bus.clone(), LocalOptions::default());
        let puller = spawn_journal(reqwest::Client::new(), ims(&base), bus.clone(), options(&base));
        wait_until("10 events handled", || handled.lock().expect("lock").len() == 10).await;
        // the end of the journal: a 204 with retry-after: 1 → the next request waits a second
        wait_until("two requests past the end", || {
            fake.requests.lock().expect("lock").len() >= 5
        })
        .await;
        puller.shutdown().await;
        local.shutdown().await;
        assert_eq!(
            bus.cursor(DEFAULT_CURSOR_NAME).await.expect("cursor").as_deref(),
            Some("pos-9")
        );
        assert_eq!(bus.head(), 10);
    }
    assert_eq!(sorted(&handled.lock().expect("lock")), ids(0..10));
    let requests = fake.requests.lock().expect("lock").clone();
    let paths: Vec<&str> = requests.iter().map(|(p, _)| p.as_str()).take(4).collect();
    assert_eq!(
        paths,
        vec![
            "/journal",
            "/journal/next?after=pos-3",
            "/journal/next?after=pos-7",
            "/journal/next?after=pos-9"
        ],
        "the first page from the start, then the Link rel=next of each page"
    );
    let gap = requests[4].1 - requests[3].1;
    assert!(
        gap >= Duration::from_millis(950),
        "retry-after: 1 was not honoured: {gap:?}"
    );
    assert!(
        fake.problems.lock().expect("lock").is_empty(),
        "{:?}",
        fake.problems.lock()
    );
    assert_eq!(fake.tokens.lock().expect("lock").len(), 1, "one IMS token for the run");

    // a restart on the same bus (new process: new fake journal with more events) resumes at pos-9
    let mut more = fake_with(14, 4);
    more.retry_after_on_end = Some("1");
    let (fake2, base2) = start_fake(more).await;
    let bus = LocalBus::open(dir.path()).expect("bus");
    let local = spawn_local(consumer, bus.clone(), LocalOptions::default());
    let puller = spawn_journal(reqwest::Client::new(), ims(&base2), bus.clone(), options(&base2));
    wait_until("14 events handled", || handled.lock().expect("lock").len() == 14).await;
    puller.shutdown().await;
    local.shutdown().await;
    assert_eq!(
        fake2.requests.lock().expect("lock")[0].0,
        "/journal?since=pos-9",
        "resumed from the stored position"
    );
    assert_eq!(
        sorted(&handled.lock().expect("lock")),
        ids(0..14),
        "nothing handled twice"
    );
}

#[tokio::test]
async fn throttling_errors_and_an_expired_token_are_recovered_from() {
    let fake = fake_with(6, 3);
    fake.faults.lock().expect("lock").extend([
        Fault::Status(429, Some("1")),
        Fault::Status(500, None),
        Fault::Status(503, None),
        Fault::Pass,
        Fault::Revoke,
    ]);
    let (fake, base) = start_fake(fake).await;
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("bus");
    let (consumer, handled) = consumer();
    let local = spawn_local(consumer, bus.clone(), LocalOptions::default());
    let puller = spawn_journal(reqwest::Client::new(), ims(&base), bus.clone(), options(&base));
    wait_until("every event", || handled.lock().expect("lock").len() == 6).await;
    puller.shutdown().await;
    local.shutdown().await;
    let tokens = fake.tokens.lock().expect("lock").clone();
    assert_eq!(tokens, ["tok-1", "revoked-elsewhere", "tok-3"], "one re-authentication");
    let requests = fake.requests.lock().expect("lock").clone();
    assert!(
        requests[1].1 - requests[0].1 >= Duration::from_millis(950),
        "429's retry-after: 1"
    );
    let paths: Vec<&str> = requests.iter().map(|(p, _)| p.as_str()).take(6).collect();
    assert_eq!(
        paths,
        [
            "/journal",
            "/journal",
            "/journal",
            "/journal",
            "/journal/next?after=pos-2",
            "/journal/next?after=pos-2"
        ],
        "429, 500, 503 then the first page, each the same request; 401, then the same request with the new token"
    );
    assert_eq!(sorted(&handled.lock().expect("lock")), ids(0..6));
}

#[tokio::test]
async fn malformed_pages_are_refused_and_never_move_the_position() {
    let fake = fake_with(4, 2);
    fake.faults.lock().expect("lock").extend([
        Fault::Body("<html>maintenance</html>"),
        Fault::Body(r#"{"events":[{"position":"pos-0","event":{"id":"no-type"}}]}"#),
        Fault::Body(r#"{"events":[{"position":"","event":{}}]}"#),
        Fault::Body(r#"{"_page":{"last":"pos-3"}}"#),
    ]);
    let (fake, base) = start_fake(fake).await;
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("bus");
    let (consumer, handled) = consumer();
    let local = spawn_local(consumer, bus.clone(), LocalOptions::default());
    let puller = spawn_journal(reqwest::Client::new(), ims(&base), bus.clone(), options(&base));
    wait_until("every event handled", || handled.lock().expect("lock").len() == 4).await;
    puller.shutdown().await;
    local.shutdown().await;
    assert_eq!(
        sorted(&handled.lock().expect("lock")),
        ids(0..4),
        "the journal resumed where it was"
    );
    let requests: Vec<String> = fake
        .requests
        .lock()
        .expect("lock")
        .iter()
        .map(|(p, _)| p.clone())
        .collect();
    assert_eq!(
        requests[..5],
        ["/journal"; 5].map(str::to_owned),
        "the same request until a good page"
    );
    assert_eq!(
        bus.cursor(DEFAULT_CURSOR_NAME).await.expect("cursor").as_deref(),
        Some("pos-3")
    );
    assert_eq!(bus.acked(DEFAULT_CONSUMER_NAME).await.expect("acked"), 4);
}
