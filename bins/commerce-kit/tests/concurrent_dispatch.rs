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
use axum::extract::{ConnectInfo, State};
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
    /// The client address of each call: one per connection.
    peers: Mutex<HashSet<std::net::SocketAddr>>,
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

async fn receive(
    State(office): State<Arc<BackOffice>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    office.peers.lock().expect("lock").insert(peer);
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
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
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
    // pooled connections: at most one per concurrent call, per process (two processes)
    let connections = office.peers.lock().expect("lock").len();
    assert!(
        connections <= 2 * CONCURRENCY,
        "{connections} connections for {} calls: the forwarding handler does not reuse them",
        calls.len()
    );
    println!(
        "{total} events over {KEYS} keys, concurrency {CONCURRENCY}: {connections} connections; killed after {at_kill} calls, \
         {redelivered} redelivered (bound {WINDOW}), max in flight {max}"
    );
}

/// A back office refusing one sku with 400 until told otherwise.
#[derive(Default)]
struct Refusing {
    refuse: Mutex<Option<String>>,
    accepted: Mutex<Vec<String>>,
}

async fn refusing_receive(State(office): State<Arc<Refusing>>, body: String) -> (StatusCode, String) {
    let event = CloudEvent::from_json(body.as_bytes()).expect("a CloudEvent");
    let sku = event.data["sku"].as_str().unwrap_or_default().to_owned();
    if office.refuse.lock().expect("lock").as_deref() == Some(sku.as_str()) {
        return (
            StatusCode::BAD_REQUEST,
            format!(r#"{{"error":"unknown product {sku}"}}"#),
        );
    }
    office.accepted.lock().expect("lock").push(event.id);
    (StatusCode::OK, "{}".to_owned())
}

/// Runs the CLI to its exit (off the async runtime).
async fn cli(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let env: Vec<(String, String)> = env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (status, out, err) = commerce_kit_tests::run_to_exit(EXE, &args, &env);
        (status.code(), out, err)
    })
    .await
    .expect("cli task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_lists_replays_and_discards_dead_letters_of_a_running_serve() {
    let office = Arc::new(Refusing::default());
    *office.refuse.lock().expect("lock") = Some("SKU-BAD".to_owned());
    let app = Router::new()
        .route("/events", post(refusing_receive))
        .with_state(office.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let forward_url = format!("http://{}/events", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir().expect("temp dir");
    let token = "cli-admin-token-0123456789abcdef";
    let server = Server::start_in(
        EXE,
        &["serve", "--listen", "127.0.0.1:0"],
        &[("EVENTS_FORWARD_URL", forward_url.as_str()), ("ADMIN_TOKEN", token)],
        dir.path(),
    );
    let http = reqwest::Client::new();
    for (uid, sku) in [("u-good", "SKU-OK"), ("u-bad", "SKU-BAD")] {
        let body = json!({"data": {"uid": uid, "event": "be-observer.catalog_product_update",
            "value": {"sku": sku, "name": "n", "description": "d", "price": 1}}});
        let r = http
            .post(server.url("/ingestion/webhook"))
            .json(&body)
            .send()
            .await
            .expect("ingest");
        assert_eq!(r.status(), 200);
    }
    let url = server.url("");
    let env = [("ADMIN_TOKEN", token)];
    let deadline = Instant::now() + Duration::from_secs(20);
    let listed = loop {
        let (status, out, err) = cli(&["dead-letters", "--url", &url, "list"], &env).await;
        assert_eq!(status, Some(0), "{out}{err}");
        if !out.is_empty() {
            break out;
        }
        assert!(Instant::now() < deadline, "no dead letter within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let letter: serde_json::Value = serde_json::from_str(listed.trim()).expect("one JSON line");
    assert_eq!(letter["event"]["id"], "u-bad");
    assert_eq!(
        letter["reason"],
        r#"not retryable: {"error":"forwarding target answered 400: unknown product SKU-BAD","status":400}"#
    );
    let offset = letter["offset"].as_u64().expect("offset").to_string();

    // refusals: no such letter, a wrong token, no token
    let (status, out, _) = cli(&["dead-letters", "--url", &url, "discard", "999"], &env).await;
    assert_eq!(status, Some(1));
    assert_eq!(
        out,
        format!(
            "{url}/admin/dead-letters/999 answered 404 Not Found: no event at offset 999: the journal's offsets are below 2\n"
        )
    );
    let (status, out, _) = cli(
        &["dead-letters", "--url", &url, "show", &offset],
        &[("ADMIN_TOKEN", "not-the-token-0123456789")],
    )
    .await;
    assert_eq!(status, Some(1));
    assert_eq!(
        out,
        format!("{url}/admin/dead-letters/{offset} answered 401 Unauthorized: invalid admin token\n")
    );
    let (status, _, err) = cli(&["dead-letters", "--url", &url, "list"], &[]).await;
    assert_eq!(status, Some(2));
    assert_eq!(
        err,
        "error: invalid configuration: --admin-token (ADMIN_TOKEN): is needed with --url (the server's ADMIN_TOKEN)\n"
    );

    // the back office is fixed: replay, and the same event id arrives
    *office.refuse.lock().expect("lock") = None;
    let (status, out, err) = cli(&["dead-letters", "--url", &url, "replay", &offset], &env).await;
    assert_eq!(status, Some(0), "{err}");
    assert_eq!(
        out,
        format!("{{\"event_id\":\"u-bad\",\"offset\":2,\"replayed\":{offset}}}\n")
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while !office.accepted.lock().expect("lock").contains(&"u-bad".to_owned()) {
        assert!(Instant::now() < deadline, "the replay never arrived");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, out, _) = cli(&["dead-letters", "--url", &url, "list"], &env).await;
    assert_eq!((status, out.as_str()), (Some(0), ""));
    let (exit, logs) = server.terminate();
    assert_eq!(exit.code(), Some(0), "{logs}");
    assert!(!logs.contains(token), "the admin token reached the logs");

    // stopped: the same tool works on the journal itself
    let data = dir.path().join("data");
    let data = data.to_str().expect("utf-8 path");
    let (status, out, err) = cli(&["dead-letters", "--data-dir", data, "list"], &[]).await;
    assert_eq!((status, out.as_str()), (Some(0), ""), "{err}");
    let (status, out, _) = cli(&["dead-letters", "--data-dir", data, "replay", "0"], &[]).await;
    assert_eq!(status, Some(1));
    assert!(
        out.ends_with("consumer 'events-consumer' has no dead letter at offset 0\n"),
        "{out}"
    );
}
