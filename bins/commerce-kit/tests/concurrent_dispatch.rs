//! `commerce-kit serve` on the embedded bus with a slow back office: events are
//! forwarded concurrently (up to `EVENTS_CONCURRENCY`), each product's updates
//! in journal order; a `kill -9` under load loses nothing acknowledged,
//! redelivers at most `EVENTS_WINDOW` events, and keeps each key's order
//! across the restart.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_tests::Server;
use serde_json::json;

const EXE: &str = env!("CARGO_BIN_EXE_commerce-kit");
const CONCURRENCY: usize = 16;
const WINDOW: usize = 200;
const KEYS: usize = 30;
const PER_KEY: usize = 40;

/// A back office taking 20 ms per event, recording (sku, seq, event id) in arrival order.
#[derive(Default)]
struct BackOffice {
    calls: Mutex<Vec<(String, u64, String)>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

/// Counts a call in flight until dropped (also when the server drops the call
/// because the client's connection closed).
struct InFlight(Arc<BackOffice>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn receive(State(office): State<Arc<BackOffice>>, headers: HeaderMap, body: String) -> StatusCode {
    let now = office.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    office.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let _in_flight = InFlight(office.clone());
    let event = CloudEvent::from_json(body.as_bytes()).expect("a CloudEvent");
    assert_eq!(
        headers.get("idempotency-key").and_then(|v| v.to_str().ok()),
        Some(event.id.as_str())
    );
    let sku = event.data["sku"].as_str().expect("sku").to_owned();
    let seq = event.data["price"].as_u64().expect("seq");
    office.calls.lock().expect("lock").push((sku, seq, event.id.clone()));
    tokio::time::sleep(Duration::from_millis(20)).await;
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

fn start(dir: &std::path::Path, forward_url: &str) -> Server {
    Server::start_in(
        EXE,
        &["serve", "--listen", "127.0.0.1:0"],
        &[
            ("EVENTS_FORWARD_URL", forward_url),
            ("EVENTS_CONCURRENCY", &CONCURRENCY.to_string()),
            ("EVENTS_WINDOW", &WINDOW.to_string()),
            ("LOG_LEVEL", "warn"),
        ],
        dir,
    )
}

/// Posts every key's updates in order (one task per key, keys side by side).
async fn ingest_all(server: &Server) {
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for k in 0..KEYS {
        let (client, url) = (client.clone(), server.url("/ingestion/webhook"));
        tasks.push(tokio::spawn(async move {
            for seq in 0..PER_KEY {
                let body = json!({"data": {
                    "uid": format!("k{k}-s{seq}"),
                    "event": "be-observer.catalog_product_update",
                    "value": {"sku": format!("SKU-{k:02}"), "name": "n", "description": "d", "price": seq}
                }});
                let r = client.post(&url).json(&body).send().await.expect("ingest");
                assert_eq!(r.status(), 200, "k{k}-s{seq}: {}", r.text().await.unwrap_or_default());
            }
        }));
    }
    for t in tasks {
        t.await.expect("ingest task");
    }
}

async fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_back_office_gets_concurrent_ordered_events_and_kill_9_loses_none() {
    let (office, forward_url) = start_back_office().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let total = KEYS * PER_KEY;

    let server = start(dir.path(), &forward_url);
    ingest_all(&server).await;
    // kill -9 in the middle of the handling
    wait_until("a third handled", 60, || {
        office.calls.lock().expect("lock").len() >= total / 3
    })
    .await;
    let max_before = office.max_in_flight.load(Ordering::SeqCst);
    let _ = server.kill9();
    // the killed process's last requests finish at the back office
    wait_until("the killed process's calls to end", 5, || {
        office.in_flight.load(Ordering::SeqCst) == 0
    })
    .await;
    office.max_in_flight.store(0, Ordering::SeqCst);
    let at_kill = office.calls.lock().expect("lock").len();
    assert!(at_kill < total, "killed before the end ({at_kill} of {total})");

    let server = start(dir.path(), &forward_url);
    let unique = |office: &BackOffice| {
        office
            .calls
            .lock()
            .expect("lock")
            .iter()
            .map(|(_, _, id)| id.clone())
            .collect::<HashSet<_>>()
            .len()
    };
    wait_until("every event handled", 60, || unique(&office) == total).await;
    // give a wrong extra delivery time to show up
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");

    let calls = office.calls.lock().expect("lock").clone();
    // 0 lost: every accepted event reached the back office
    assert_eq!(unique(&office), total);
    // redelivered: within the window, and only events at or after each key's last delivery before the kill
    let redelivered = calls.len() - total;
    assert!(
        redelivered <= WINDOW,
        "{redelivered} redeliveries > EVENTS_WINDOW {WINDOW}"
    );
    // per-key order, across the restart: before the kill each key got 0..=m in
    // order, after it s..PER_KEY in order, with s <= m + 1 (nothing skipped);
    // the overlap s..=m is what was handed over again
    let mut per_key: HashMap<&str, (Vec<u64>, Vec<u64>)> = HashMap::new();
    for (i, (sku, seq, _)) in calls.iter().enumerate() {
        let runs = per_key.entry(sku).or_default();
        if i < at_kill { &mut runs.0 } else { &mut runs.1 }.push(*seq);
    }
    assert_eq!(per_key.len(), KEYS);
    for (sku, (before, after)) in &per_key {
        let from = after.first().copied().unwrap_or(PER_KEY as u64);
        assert_eq!(
            before,
            &(0..before.len() as u64).collect::<Vec<_>>(),
            "{sku} before the kill"
        );
        assert_eq!(
            after,
            &(from..PER_KEY as u64).collect::<Vec<_>>(),
            "{sku} after the restart"
        );
        assert!(
            from <= before.len() as u64,
            "{sku}: events skipped between {before:?} and {after:?}"
        );
    }
    let max = office.max_in_flight.load(Ordering::SeqCst);
    assert_eq!(
        (max_before, max),
        (CONCURRENCY, CONCURRENCY),
        "the back office saw the configured concurrency, before the kill and after the restart"
    );
    println!(
        "{total} events over {KEYS} keys, concurrency {CONCURRENCY}: killed after {at_kill} calls, \
         {redelivered} redelivered (bound {WINDOW}), max in flight {max}"
    );
}
