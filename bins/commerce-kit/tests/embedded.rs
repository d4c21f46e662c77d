//! End to end on the embedded default: `commerce-kit serve` with no Adobe
//! account. A back office POSTs to the ingestion webhook; the event goes
//! through the local durable bus to the consumer, whose forwarding handler
//! POSTs it to a loopback fake back office. Across a `kill -9` and a restart,
//! nothing acknowledged is lost and nothing is handled twice.
//!
//! (The products here are all different, so they are handled side by side and
//! may reach the back office in any order; per-key order and concurrency under
//! a kill -9 are `concurrent_dispatch.rs`'s.)

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_tests::Server;
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_commerce-kit");

/// A back office that records every event it accepted, and can be told to fail (503).
#[derive(Default)]
struct BackOffice {
    failing: AtomicBool,
    attempts: AtomicUsize,
    accepted: Mutex<Vec<CloudEvent>>,
}

async fn receive(State(office): State<Arc<BackOffice>>, headers: HeaderMap, body: String) -> StatusCode {
    office.attempts.fetch_add(1, Ordering::SeqCst);
    assert_eq!(
        headers.get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/cloudevents+json")
    );
    if office.failing.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let event = CloudEvent::from_json(body.as_bytes()).expect("the consumer forwards a valid CloudEvent");
    assert_eq!(
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()),
        Some(event.id.as_str()),
        "idempotency key is the event id"
    );
    office.accepted.lock().expect("lock").push(event);
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

fn product(i: usize) -> Value {
    json!({"data": {
        "uid": format!("e2e-{i}"),
        "event": "be-observer.catalog_product_update",
        "value": {"sku": format!("SKU-{i}"), "name": format!("Product {i}"), "description": "d", "price": i}
    }})
}

async fn ingest(client: &reqwest::Client, server: &Server, i: usize) {
    let resp = client
        .post(server.url("/ingestion/webhook"))
        .json(&product(i))
        .send()
        .await
        .expect("ingestion request");
    assert_eq!(resp.status(), 200, "event {i} accepted");
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"type": "be-observer.catalog_product_update",
               "response": {"success": true, "message": "Event published successfully"}})
    );
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn accepted_ids(office: &BackOffice) -> Vec<String> {
    office
        .accepted
        .lock()
        .expect("lock")
        .iter()
        .map(|e| e.id.clone())
        .collect()
}

fn start(dir: &std::path::Path, forward_url: &str) -> Server {
    Server::start_in(
        EXE,
        &["serve", "--listen", "127.0.0.1:0"],
        &[
            ("EVENTS_FORWARD_URL", forward_url),
            ("EVENTS_LOCAL_RETRY_INITIAL_MS", "20"),
            ("EVENTS_LOCAL_RETRY_MAX_MS", "100"),
            ("EVENTS_LOCAL_MAX_ATTEMPTS", "100000"),
        ],
        dir,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingestion_to_handler_survives_kill_9_without_loss_or_double_handling() {
    let (office, forward_url) = start_back_office().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let client = reqwest::Client::new();

    // 1. Accepted events reach the handler, in order, as CloudEvents with id = uid and data = value.
    let server = start(dir.path(), &forward_url);
    for i in 0..10 {
        ingest(&client, &server, i).await;
    }
    wait_until("10 events handled", || {
        office.accepted.lock().expect("lock").len() == 10
    })
    .await;
    {
        // each event is a product of its own: they are handled side by side,
        // so they may arrive in any order (per-product order: concurrent_dispatch.rs)
        let mut accepted = office.accepted.lock().expect("lock").clone();
        accepted.sort_by_key(|e| e.id.trim_start_matches("e2e-").parse::<usize>().unwrap_or(usize::MAX));
        for (i, event) in accepted.iter().enumerate() {
            assert_eq!(event.id, format!("e2e-{i}"));
            assert_eq!(event.event_type, "be-observer.catalog_product_update");
            assert_eq!(event.data, product(i)["data"]["value"]);
        }
    }

    // 2. The back office goes down: events are still accepted (durable in the bus),
    //    the consumer keeps retrying the first one. Then the process crashes.
    office.failing.store(true, Ordering::SeqCst);
    let attempts_before = office.attempts.load(Ordering::SeqCst);
    for i in 10..20 {
        ingest(&client, &server, i).await;
    }
    wait_until("the consumer retrying", || {
        office.attempts.load(Ordering::SeqCst) >= attempts_before + 3
    })
    .await;
    let logs = server.kill9();
    assert!(logs.contains("listening on http://"), "{logs}");

    // 3. Restart on the same data with the back office healthy again: the 10
    //    pending events are handled, then new ones; none of the first 10 again.
    office.failing.store(false, Ordering::SeqCst);
    let mut server = start(dir.path(), &forward_url);
    for i in 20..25 {
        ingest(&client, &server, i).await;
    }
    wait_until("25 events handled", || {
        office.accepted.lock().expect("lock").len() >= 25
    })
    .await;
    // Give a wrongly redelivered event time to show up before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let ids = accepted_ids(&office);
    let mut sorted = ids.clone();
    sorted.sort_by_key(|id| id.trim_start_matches("e2e-").parse::<usize>().unwrap_or(usize::MAX));
    let expected: Vec<String> = (0..25).map(|i| format!("e2e-{i}")).collect();
    assert_eq!(sorted, expected, "every accepted event handled exactly once");
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for id in &ids {
        *counts.entry(id).or_default() += 1;
    }
    assert!(counts.values().all(|&n| n == 1), "{counts:?}");

    // 4. A repeated uid is acknowledged again without a second publish or handling.
    ingest(&client, &server, 3).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(accepted_ids(&office).len(), 25);

    server.wait_for("local bus consumer started");
    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    assert!(logs.contains("local bus consumer stopped"), "{logs}");
}
