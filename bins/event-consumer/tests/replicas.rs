//! Two `event-consumer` processes sharing a real Redis (`REDIS_URL`, default
//! `redis://127.0.0.1:6379`), as two replicas behind one I/O Events
//! registration: the same signed delivery sent to both at the same moment is
//! handled once (an atomic claim), loop-guard fingerprints are shared, and the
//! claim of a replica killed while handling expires so a redelivery is handled.
//! FAILS when Redis is unreachable: start it with `redis-server --daemonize yes`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::test_util::{AdobeSigner, FakeKeyHost};
use commerce_kit_tests::Server;
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_event-consumer");
const CLIENT_ID: &str = "replica-client";
/// The handler deadline of both replicas; a claim outlives it by 5 s.
const HANDLER_TIMEOUT_MS: u64 = 1000;

/// A back office counting deliveries per event id; ids in `stall` never get an answer.
#[derive(Default)]
struct BackOffice {
    calls: Mutex<HashMap<String, usize>>,
    stall: Mutex<Vec<String>>,
}

impl BackOffice {
    fn calls(&self, id: &str) -> usize {
        self.calls.lock().expect("lock").get(id).copied().unwrap_or(0)
    }
}

async fn receive(State(office): State<Arc<BackOffice>>, body: String) -> StatusCode {
    let event = CloudEvent::from_json(body.as_bytes()).expect("a CloudEvent");
    *office.calls.lock().expect("lock").entry(event.id.clone()).or_default() += 1;
    if office.stall.lock().expect("lock").contains(&event.id) {
        std::future::pending::<()>().await;
    }
    // long enough for a simultaneous delivery to find the claim taken
    tokio::time::sleep(Duration::from_millis(300)).await;
    StatusCode::OK
}

async fn start_back_office() -> (Arc<BackOffice>, String) {
    let office = Arc::new(BackOffice::default());
    let app = Router::new().route("/events", post(receive)).with_state(office.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/events", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (office, url)
}

fn redis_url() -> String {
    std::env::var("REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned())
}

fn replica(keys: &FakeKeyHost, forward_url: &str) -> Server {
    let timeout = HANDLER_TIMEOUT_MS.to_string();
    Server::start(
        EXE,
        &["--listen", "127.0.0.1:0"],
        &[
            ("REDIS_URL", &redis_url()),
            ("OAUTH_CLIENT_ID", CLIENT_ID),
            ("IO_EVENTS_KEY_BASE_URL", keys.base_url()),
            ("EVENTS_FORWARD_URL", forward_url),
            ("EVENTS_HANDLER_TIMEOUT_MS", &timeout),
        ],
    )
}

/// A unique id per run: Redis keeps marks across test runs.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{name}-{}-{nanos}", std::process::id())
}

fn delivery(id: &str, event_type: &str, value: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "specversion": "1.0", "id": id, "source": "urn:uuid:p", "type": event_type,
        "recipientclientid": CLIENT_ID, "data": {"value": value}
    }))
    .expect("json")
}

async fn post_signed(http: &reqwest::Client, server: &Server, body: &[u8]) -> (u16, Value) {
    let r = http
        .post(server.url("/events"))
        .headers(AdobeSigner::test_keys().headers(body))
        .body(body.to_vec())
        .send()
        .await
        .expect("post");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_handle_a_simultaneous_delivery_once_and_share_fingerprints() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let (office, forward_url) = start_back_office().await;
    let (a, b) = (replica(&keys, &forward_url), replica(&keys, &forward_url));
    let http = reqwest::Client::new();

    // the same signed delivery to both at the same moment, ten times over
    for round in 0..10 {
        let id = unique(&format!("both-{round}"));
        let body = delivery(
            &id,
            "com.adobe.commerce.observer.catalog_product_delete_commit_after",
            json!({"sku": id}),
        );
        let (ra, rb) = tokio::join!(post_signed(&http, &a, &body), post_signed(&http, &b, &body));
        let mut statuses = [ra.0, rb.0];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 503],
            "one replica handles it, the other answers retry-later: {ra:?} {rb:?}"
        );
        let busy = if ra.0 == 503 { &ra.1 } else { &rb.1 };
        assert_eq!(
            busy,
            &json!({"error": format!("event '{id}' is being handled by another delivery; retry later")})
        );
        assert_eq!(office.calls(&id), 1, "round {round}: handled once");
        // Adobe's retry of the refused copy finds the event handled
        let loser = if ra.0 == 503 { &a } else { &b };
        let (status, again) = post_signed(&http, loser, &body).await;
        assert_eq!(status, 200, "{again}");
        assert_eq!(office.calls(&id), 1, "round {round}: the retry is not handled again");
    }

    // a Commerce change handled by A; its echo from the back office reaches B and is discarded
    let sku = unique("LOOP");
    let fields = json!({"sku": sku, "name": "Bag", "description": "d",
        "created_at": "2026-12-01 10:00:00", "updated_at": "2026-12-05 10:00:00"});
    let save = unique("save");
    let (status, answer) = post_signed(
        &http,
        &a,
        &delivery(
            &save,
            "com.adobe.commerce.observer.catalog_product_save_commit_after",
            fields.clone(),
        ),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(office.calls(&save), 1);
    let echo = unique("echo");
    let body = serde_json::to_vec(&json!({
        "specversion": "1.0", "id": echo, "source": "urn:uuid:b", "type": "be-observer.catalog_product_update",
        "recipientclientid": CLIENT_ID, "data": {"sku": sku, "name": "Bag", "description": "d", "price": 3}
    }))
    .expect("json");
    let (status, answer) = post_signed(&http, &b, &body).await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        answer["response"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("event discarded to prevent an infinite loop")),
        "{answer}"
    );
    assert_eq!(office.calls(&echo), 0, "the echo is not forwarded");

    for server in [a, b] {
        let (exit, _) = server.terminate();
        assert!(exit.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_claim_of_a_replica_killed_while_handling_expires_and_the_redelivery_is_handled() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let (office, forward_url) = start_back_office().await;
    let (a, b) = (replica(&keys, &forward_url), replica(&keys, &forward_url));
    let http = reqwest::Client::new();
    let id = unique("stalled");
    office.stall.lock().expect("lock").push(id.clone());
    let body = delivery(
        &id,
        "com.adobe.commerce.observer.catalog_product_delete_commit_after",
        json!({"sku": id}),
    );

    // A takes the claim and hangs in the back office; A is killed
    let hung = {
        let (http, url, body) = (http.clone(), a.url("/events"), body.clone());
        tokio::spawn(async move {
            http.post(url)
                .headers(AdobeSigner::test_keys().headers(&body))
                .body(body)
                .send()
                .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while office.calls(&id) == 0 {
        assert!(Instant::now() < deadline, "A never called the back office");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let claimed_at = Instant::now();
    let _ = a.kill9();
    assert!(hung.await.expect("task").is_err(), "A died without answering");
    office.stall.lock().expect("lock").clear();

    // Adobe redelivers to B: refused while A's claim lives, handled once it expired
    let (status, answer) = post_signed(&http, &b, &body).await;
    assert_eq!(status, 503, "{answer}");
    let claim_ttl = Duration::from_millis(HANDLER_TIMEOUT_MS) + Duration::from_secs(5);
    let handled = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let (status, answer) = post_signed(&http, &b, &body).await;
        if status == 200 {
            break claimed_at.elapsed();
        }
        assert_eq!(status, 503, "{answer}");
        assert!(
            claimed_at.elapsed() < claim_ttl + Duration::from_secs(5),
            "the claim never expired"
        );
    };
    assert!(
        handled + Duration::from_millis(300) >= claim_ttl,
        "handled after {handled:?}, before the claim expired"
    );
    assert_eq!(office.calls(&id), 2, "A's call that hung, then B's");
    let (exit, _) = b.terminate();
    assert!(exit.success());
}
