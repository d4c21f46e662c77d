//! The local-bus loop handling events concurrently: per-key order, the
//! concurrency reached, a failing key that does not hold back the others, and
//! the dead-letter admin API over real HTTP.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commerce_kit_core::state::MemoryStore;
use commerce_kit_events::bus::LocalBus;
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::consumer::Consumer;
use commerce_kit_events::handler::{EventContext, EventHandler, HandlerResult, handler_fn};
use commerce_kit_events::local::{DEFAULT_CONSUMER_NAME, LocalOptions, spawn_local};
use commerce_kit_events::{ConsumerService, Delivery, DeliveryOptions};
use http::StatusCode;
use serde_json::{Value, json};

/// The product update of `sku` number `seq` (its position among that sku's events).
fn update(sku: &str, seq: u64) -> CloudEvent {
    CloudEvent::new(
        format!("{sku}-{seq}"),
        "urn:uuid:backoffice",
        "be-observer.catalog_product_update",
        json!({"sku": sku, "name": "n", "price": seq, "description": "d"}),
    )
}

/// What a fake back office saw, in the order the calls started.
#[derive(Default)]
struct Office {
    calls: Mutex<Vec<(String, u64)>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

impl Office {
    fn calls(&self) -> Vec<(String, u64)> {
        self.calls.lock().expect("lock").clone()
    }

    /// The seqs each sku was called with, in call order.
    fn per_key(&self) -> HashMap<String, Vec<u64>> {
        let mut map: HashMap<String, Vec<u64>> = HashMap::new();
        for (sku, seq) in self.calls() {
            map.entry(sku).or_default().push(seq);
        }
        map
    }
}

/// A handler calling the "back office": `latency(sku, seq)` per call; a sku in
/// `failing` answers 503 while the switch is on.
fn office_handler(
    office: Arc<Office>,
    latency: fn(&str, u64) -> Duration,
    failing: Arc<Mutex<Option<String>>>,
) -> Arc<dyn EventHandler> {
    handler_fn(move |e: CloudEvent, ctx: EventContext| {
        let (office, failing) = (office.clone(), failing.clone());
        async move {
            let payload = ctx.payload(&e);
            let sku = payload["sku"].as_str().unwrap_or_default().to_owned();
            let seq = payload["price"].as_u64().unwrap_or_default();
            if failing.lock().expect("lock").as_deref() == Some(sku.as_str()) {
                office.calls.lock().expect("lock").push((sku.clone(), seq));
                return Ok(HandlerResult::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("{sku} is locked in the ERP"),
                ));
            }
            let now = office.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            office.max_in_flight.fetch_max(now, Ordering::SeqCst);
            office.calls.lock().expect("lock").push((sku.clone(), seq));
            tokio::time::sleep(latency(&sku, seq)).await;
            office.in_flight.fetch_sub(1, Ordering::SeqCst);
            Ok(HandlerResult::success(format!("{sku} {seq}")))
        }
    })
}

fn consumer(handler: Arc<dyn EventHandler>) -> Consumer {
    Consumer::builder(Arc::new(MemoryStore::new()))
        .fallback(handler)
        .build()
        .expect("consumer")
}

async fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn wait_acked(bus: &LocalBus, n: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let acked = bus.acked(DEFAULT_CONSUMER_NAME).await.expect("acked");
        if acked >= n {
            assert_eq!(acked, n, "acked past the head");
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: acked {acked} < {n}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_keys_keep_their_order_and_reach_the_concurrency() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    // 40 skus, 10 updates each, interleaved; a few skus in a row share a key
    let mut appended = 0;
    for seq in 0..10u64 {
        for k in 0..40 {
            let sku = format!("SKU-{:02}", (k * 7 + seq as usize) % 40);
            bus.append(&update(&sku, seq)).await.expect("append");
            appended += 1;
        }
    }
    let office = Arc::new(Office::default());
    // latency varies by sku and seq: later events of one key would overtake
    // earlier ones if order were not kept
    fn latency(sku: &str, seq: u64) -> Duration {
        let n: u64 = sku[4..].parse().unwrap_or(0);
        Duration::from_millis(1 + (n * 13 + (10 - seq) * 7) % 25)
    }
    let handler = office_handler(office.clone(), latency, Arc::default());
    let options = LocalOptions {
        concurrency: 8,
        ..LocalOptions::default()
    };
    let handle = spawn_local(consumer(handler), bus.clone(), options);
    wait_acked(&bus, appended).await;
    handle.shutdown().await;
    let per_key = office.per_key();
    assert_eq!(per_key.len(), 40);
    for (sku, seqs) in &per_key {
        assert_eq!(
            seqs,
            &(0..10).collect::<Vec<_>>(),
            "{sku}: handled out of order or not once each"
        );
    }
    assert_eq!(
        office.max_in_flight.load(Ordering::SeqCst),
        8,
        "the concurrency is reached, never passed"
    );
    assert!(bus.dead_letters(DEFAULT_CONSUMER_NAME).await.expect("dl").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_key_waits_alone_is_dead_lettered_then_replayed_over_the_admin_api_in_order() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    // LOCKED-0 fails (3 attempts, ~0.3 s of backoff); the others flow meanwhile
    bus.append(&update("LOCKED", 0)).await.expect("append");
    for seq in 0..5 {
        bus.append(&update("FREE-A", seq)).await.expect("append");
        bus.append(&update("FREE-B", seq)).await.expect("append");
    }
    bus.append(&update("LOCKED", 1)).await.expect("append");
    let office = Arc::new(Office::default());
    let failing = Arc::new(Mutex::new(Some("LOCKED".to_owned())));
    fn latency(_: &str, _: u64) -> Duration {
        Duration::from_millis(5)
    }
    let handler = office_handler(office.clone(), latency, failing.clone());
    let options = LocalOptions {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(200),
        concurrency: 4,
        ..LocalOptions::default()
    };
    let token = "admin-token-of-the-test-0123456789";
    let delivery = Delivery::new(consumer(handler), DeliveryOptions::unsigned());
    let service = ConsumerService::new(delivery, Some(bus.clone()), options).with_admin_token(token.into());
    let handle = service.spawn_local().expect("a bus");
    let addr = commerce_kit_core::server::spawn_loopback(commerce_kit_core::server::app(service.router()))
        .await
        .expect("serve");

    // every FREE event is handled while LOCKED-0 is still being retried
    wait_until("the free keys", 10, || {
        office.calls().iter().filter(|(s, _)| s != "LOCKED").count() == 10
    })
    .await;
    let locked: Vec<u64> = office
        .calls()
        .iter()
        .filter(|(s, _)| s == "LOCKED")
        .map(|(_, q)| *q)
        .collect();
    assert!(
        locked.len() < 3,
        "the free keys did not wait for the retries: {locked:?}"
    );
    assert!(!locked.contains(&1), "LOCKED-1 waits behind LOCKED-0");
    assert_eq!(
        bus.acked(DEFAULT_CONSUMER_NAME).await.expect("acked"),
        0,
        "the watermark waits on LOCKED-0"
    );

    // LOCKED-0 is dead-lettered after 3 attempts; then LOCKED-1 goes (and fails too: the switch is on)
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while bus.dead_letters(DEFAULT_CONSUMER_NAME).await.expect("dl").len() < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for two dead letters"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    wait_acked(&bus, 12).await;
    let locked: Vec<u64> = office
        .calls()
        .iter()
        .filter(|(s, _)| s == "LOCKED")
        .map(|(_, q)| *q)
        .collect();
    assert_eq!(
        locked,
        vec![0, 0, 0, 1, 1, 1],
        "LOCKED-1 only after LOCKED-0 was given up"
    );

    // the ERP is fixed; the operator replays both, oldest first, over HTTP
    *failing.lock().expect("lock") = None;
    let http = reqwest::Client::new();
    let base = format!("http://{addr}/admin/dead-letters");
    let list: Value = http
        .get(&base)
        .bearer_auth(token)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    let offsets: Vec<u64> = list["dead_letters"]
        .as_array()
        .expect("array")
        .iter()
        .map(|l| l["offset"].as_u64().expect("offset"))
        .collect();
    assert_eq!(offsets, vec![0, 11]);
    assert_eq!(list["consumer"], DEFAULT_CONSUMER_NAME);
    assert!(
        list["dead_letters"][0]["reason"]
            .as_str()
            .expect("reason")
            .starts_with("gave up after 3 attempts: {\"error\":\"LOCKED is locked in the ERP\",\"status\":503}")
    );
    for (offset, new_offset) in [(0, 12), (11, 13)] {
        let r = http
            .post(format!("{base}/{offset}/replay"))
            .bearer_auth(token)
            .send()
            .await
            .expect("replay");
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.expect("json");
        assert_eq!(body["replayed"], offset);
        assert_eq!(body["offset"], new_offset);
        assert_eq!(body["event_id"], format!("LOCKED-{}", if offset == 0 { 0 } else { 1 }));
    }
    wait_acked(&bus, 14).await;
    handle.shutdown().await;
    let locked: Vec<u64> = office
        .calls()
        .iter()
        .filter(|(s, _)| s == "LOCKED")
        .map(|(_, q)| *q)
        .collect();
    assert_eq!(locked, vec![0, 0, 0, 1, 1, 1, 0, 1], "replayed in order, each once");
    assert!(bus.dead_letters(DEFAULT_CONSUMER_NAME).await.expect("dl").is_empty());
}

#[tokio::test]
async fn the_admin_api_refuses_bad_requests_precisely() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    for seq in 0..3 {
        bus.append(&update("A", seq)).await.expect("append");
    }
    let records = bus.read(0, 3).await.expect("read");
    bus.park(DEFAULT_CONSUMER_NAME, &records[1], "ERP said 400")
        .await
        .expect("park");
    let token = "admin-token-of-the-test-0123456789";
    let app = commerce_kit_events::admin::router(bus.clone(), DEFAULT_CONSUMER_NAME, token.into());
    let addr = commerce_kit_core::server::spawn_loopback(commerce_kit_core::server::app(app))
        .await
        .expect("serve");
    let http = reqwest::Client::new();
    let url = |path: &str| format!("http://{addr}/admin/dead-letters{path}");
    let expect = |status: u16, error: &str| (status, json!({"error": error}));
    let cases: Vec<(reqwest::RequestBuilder, (u16, Value))> = vec![
        (
            http.get(url("")),
            expect(
                401,
                "missing Authorization header: send 'Authorization: Bearer <ADMIN_TOKEN>'",
            ),
        ),
        (
            http.get(url("")).header("authorization", format!("Basic {token}")),
            expect(401, "the Authorization header is not 'Bearer <token>'"),
        ),
        (
            http.get(url("")).bearer_auth("wrong-token-0123456789"),
            expect(401, "invalid admin token"),
        ),
        (
            http.post(url("/1/replay")).bearer_auth(&token[..token.len() - 1]),
            expect(401, "invalid admin token"),
        ),
        (
            http.get(url("/abc")).bearer_auth(token),
            expect(
                400,
                "invalid offset \"abc\": expected a journal offset (a non-negative integer)",
            ),
        ),
        (
            http.post(url("/-1/replay")).bearer_auth(token),
            expect(
                400,
                "invalid offset \"-1\": expected a journal offset (a non-negative integer)",
            ),
        ),
        (
            http.get(url("/0")).bearer_auth(token),
            expect(404, "consumer 'events-consumer' has no dead letter at offset 0"),
        ),
        (
            http.get(url("/99")).bearer_auth(token),
            expect(404, "no event at offset 99: the journal's offsets are below 3"),
        ),
        (
            http.post(url("/99/replay")).bearer_auth(token),
            expect(404, "no event at offset 99: the journal's offsets are below 3"),
        ),
        (
            http.post(url("/2/replay")).bearer_auth(token),
            expect(
                409,
                "the event at offset 2 is not a dead letter of consumer 'events-consumer': it was handled, is being \
                 handled, or was already replayed or discarded (GET /admin/dead-letters lists the letters)",
            ),
        ),
        (
            http.delete(url("/0")).bearer_auth(token),
            expect(
                409,
                "the event at offset 0 is not a dead letter of consumer 'events-consumer': it was handled, is being \
                 handled, or was already replayed or discarded (GET /admin/dead-letters lists the letters)",
            ),
        ),
    ];
    for (request, (status, body)) in cases {
        let r = request.send().await.expect("request");
        let www = r.headers().get("www-authenticate").cloned();
        assert_eq!(
            (r.status().as_u16(), r.json::<Value>().await.expect("json")),
            (status, body.clone())
        );
        assert_eq!(www.is_some(), status == 401, "WWW-Authenticate only on 401: {body}");
    }
    // the letter is untouched by the refused calls; show, then discard it
    let shown: Value = http
        .get(url("/1"))
        .bearer_auth(token)
        .send()
        .await
        .expect("show")
        .json()
        .await
        .expect("json");
    assert_eq!(
        (shown["offset"].as_u64(), shown["reason"].as_str()),
        (Some(1), Some("ERP said 400"))
    );
    assert_eq!(shown["event"]["id"], "A-1");
    let r = http.delete(url("/1")).bearer_auth(token).send().await.expect("discard");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.expect("json"),
        json!({"discarded": 1, "event_id": "A-1"})
    );
    assert!(bus.dead_letters(DEFAULT_CONSUMER_NAME).await.expect("dl").is_empty());
    assert_eq!(bus.head(), 3, "a discard appends nothing");
}
