//! The local-bus consumption loop against a real on-disk journal: order,
//! retries, dead letters, shutdown and restart from the acknowledged offset.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use commerce_kit_core::state::MemoryStore;
use commerce_kit_events::bus::{FILE_NAME, LocalBus};
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::consumer::Consumer;
use commerce_kit_events::handler::{DeliverySource, EventContext, EventHandler, HandlerResult, handler_fn};
use commerce_kit_events::local::{DEFAULT_CONSUMER_NAME, LocalOptions, spawn_local};
use commerce_kit_model::testing::damage_value;
use http::StatusCode;
use serde_json::{Value, json};

/// What a handler saw: (event id, retry count, offset).
type Seen = Arc<Mutex<Vec<(String, Option<u32>, u64)>>>;

/// Records every call; answers `data.fail_times` failures with `data.status` first.
fn recording() -> (Arc<dyn EventHandler>, Seen) {
    let seen: Seen = Arc::default();
    let s = seen.clone();
    let h = handler_fn(move |e: CloudEvent, ctx: EventContext| {
        let s = s.clone();
        async move {
            let offset = match ctx.source {
                DeliverySource::LocalBus { offset } => offset,
                other => panic!("unexpected source {other:?}"),
            };
            s.lock()
                .expect("lock")
                .push((ctx.event_id.clone(), ctx.retry_count, offset));
            let fail_times = e.data.get("fail_times").and_then(Value::as_u64).unwrap_or(0);
            let status = e.data.get("status").and_then(Value::as_u64).unwrap_or(503) as u16;
            if u64::from(ctx.retry_count.unwrap_or(0)) < fail_times {
                Ok(HandlerResult::error(
                    StatusCode::from_u16(status).expect("status"),
                    format!("failing with {status}"),
                ))
            } else {
                Ok(HandlerResult::success("ok"))
            }
        }
    });
    (h, seen)
}

fn consumer(handler: Arc<dyn EventHandler>) -> Consumer {
    Consumer::builder(Arc::new(MemoryStore::new()))
        .fallback(handler)
        .build()
        .expect("consumer")
}

fn fast() -> LocalOptions {
    LocalOptions {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(50),
        ..LocalOptions::default()
    }
}

fn ev(id: &str, data: Value) -> CloudEvent {
    CloudEvent::new(id, "urn:uuid:backoffice", "be-observer.customer_update", data)
}

async fn wait_acked(bus: &LocalBus, name: &str, n: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let acked = bus.acked(name).await.expect("acked");
        if acked >= n {
            assert_eq!(acked, n, "acked past the expected offset");
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: acked {acked} < {n}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn ids(seen: &Seen) -> Vec<String> {
    seen.lock().expect("lock").iter().map(|(id, _, _)| id.clone()).collect()
}

#[tokio::test]
async fn events_are_dispatched_in_order_and_acknowledged() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    for i in 0..5 {
        bus.append(&ev(&format!("e{i}"), json!({}))).await.expect("append");
    }
    let (h, seen) = recording();
    let handle = spawn_local(consumer(h), bus.clone(), fast());
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 5).await;
    // events appended while the loop runs are picked up
    for i in 5..8 {
        bus.append(&ev(&format!("e{i}"), json!({}))).await.expect("append");
    }
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 8).await;
    handle.shutdown().await;
    assert_eq!(ids(&seen), (0..8).map(|i| format!("e{i}")).collect::<Vec<_>>());
    let offsets: Vec<u64> = seen.lock().expect("lock").iter().map(|(_, _, o)| *o).collect();
    assert_eq!(offsets, (0..8).collect::<Vec<_>>());
    assert!(bus.dead_letters(DEFAULT_CONSUMER_NAME).await.expect("dl").is_empty());
}

#[tokio::test]
async fn a_retryable_failure_is_retried_then_succeeds_and_later_events_wait() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    bus.append(&ev("flaky", json!({"fail_times": 2, "status": 503})))
        .await
        .expect("append");
    bus.append(&ev("after", json!({}))).await.expect("append");
    let (h, seen) = recording();
    let handle = spawn_local(consumer(h), bus.clone(), fast());
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 2).await;
    handle.shutdown().await;
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![
            ("flaky".to_owned(), None, 0),
            ("flaky".to_owned(), Some(1), 0),
            ("flaky".to_owned(), Some(2), 0),
            ("after".to_owned(), None, 1),
        ]
    );
    assert!(bus.dead_letters(DEFAULT_CONSUMER_NAME).await.expect("dl").is_empty());
}

#[tokio::test]
async fn dropped_and_exhausted_events_are_dead_lettered_and_the_rest_continue() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    bus.append(&ev("bad-data", json!({"fail_times": 99, "status": 422})))
        .await
        .expect("append");
    bus.append(&ev("always-down", json!({"fail_times": 99, "status": 502})))
        .await
        .expect("append");
    bus.append(&CloudEvent::new("unknown", "s", "be-observer.nobody_knows", json!({})))
        .await
        .expect("append");
    bus.append(&ev("fine", json!({}))).await.expect("append");
    let (h, seen) = recording();
    let handle = spawn_local(consumer(h), bus.clone(), fast());
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 4).await;
    handle.shutdown().await;
    assert_eq!(
        ids(&seen),
        vec!["bad-data", "always-down", "always-down", "always-down", "fine"]
    );
    let dead = bus.dead_letters(DEFAULT_CONSUMER_NAME).await.expect("dl");
    let summary: Vec<(u64, &str, &str)> = dead
        .iter()
        .map(|d| (d.offset, d.event.id.as_str(), d.reason.as_str()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                0,
                "bad-data",
                r#"not retryable: {"error":"failing with 422","status":422}"#
            ),
            (
                1,
                "always-down",
                r#"gave up after 3 attempts: {"error":"failing with 502","status":502}"#
            ),
            (
                2,
                "unknown",
                r#"not retryable: {"error":"unsupported event type 'be-observer.nobody_knows'","status":400}"#
            ),
        ]
    );
    for d in &dead {
        assert!(
            time::OffsetDateTime::parse(&d.at, &time::format_description::well_known::Rfc3339).is_ok(),
            "{}",
            d.at
        );
    }
}

#[tokio::test]
async fn a_damaged_event_stops_the_loop_before_it_and_is_reported_never_skipped() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    // 3,000 events of 4 KiB: more than the journal's page cache, so the
    // early ones are read from the file again, damage included.
    for i in 0..3000 {
        let data = json!({"sku": format!("MARK-{i:06}"), "pad": "x".repeat(4000)});
        bus.append(&ev(&format!("e{i}"), data)).await.expect("append");
    }
    damage_value(&dir.path().join(FILE_NAME), b"MARK-000100");
    let (h, seen) = recording();
    let handle = spawn_local(consumer(h), bus.clone(), fast());
    // The first read batch (0..64) is handled; the second holds the damage.
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 64).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while bus.health().read_errors < 3 {
        assert!(tokio::time::Instant::now() < deadline, "{:?}", bus.health());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let health = bus.health();
    let read = health.read.expect("the failing read is reported");
    assert!(read.failures >= 3, "{read:?}");
    assert!(
        read.reason.starts_with("reading events from offset 64: local bus "),
        "{}",
        read.reason
    );
    assert!(
        read.reason
            .contains("is damaged: the event at offset 100 is not the JSON the bus wrote"),
        "{}",
        read.reason
    );
    handle.shutdown().await;
    assert_eq!(ids(&seen), (0..64).map(|i| format!("e{i}")).collect::<Vec<_>>());
    assert_eq!(
        bus.acked(DEFAULT_CONSUMER_NAME).await.expect("acked"),
        64,
        "nothing skipped"
    );
    assert!(bus.dead_letters(DEFAULT_CONSUMER_NAME).await.expect("dl").is_empty());
}

#[tokio::test]
async fn a_restart_resumes_from_the_acknowledged_offset() {
    let dir = tempfile::tempdir().expect("dir");
    let (h, seen) = recording();
    {
        let bus = LocalBus::open(dir.path()).expect("open");
        for i in 0..3 {
            bus.append(&ev(&format!("r{i}"), json!({}))).await.expect("append");
        }
        let handle = spawn_local(consumer(h.clone()), bus.clone(), fast());
        wait_acked(&bus, DEFAULT_CONSUMER_NAME, 3).await;
        handle.shutdown().await;
        // appended while no consumer runs
        for i in 3..6 {
            bus.append(&ev(&format!("r{i}"), json!({}))).await.expect("append");
        }
    }
    // the process "restarts": a new bus handle on the same directory, a fresh
    // consumer (its in-memory dedupe is empty, so only the offset prevents re-handling)
    let bus = LocalBus::open(dir.path()).expect("reopen");
    assert_eq!(bus.acked(DEFAULT_CONSUMER_NAME).await.expect("acked"), 3);
    let handle = spawn_local(consumer(h), bus.clone(), fast());
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 6).await;
    handle.shutdown().await;
    assert_eq!(
        ids(&seen),
        (0..6).map(|i| format!("r{i}")).collect::<Vec<_>>(),
        "each exactly once"
    );
}

#[tokio::test]
async fn shutdown_interrupts_a_retry_wait_and_the_event_is_redelivered_after_restart() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    bus.append(&ev("stuck", json!({"fail_times": 1, "status": 503})))
        .await
        .expect("append");
    let (h, seen) = recording();
    let slow_retry = LocalOptions {
        initial_backoff: Duration::from_secs(30),
        max_backoff: Duration::from_secs(30),
        ..fast()
    };
    let handle = spawn_local(consumer(h.clone()), bus.clone(), slow_retry);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while seen.lock().expect("lock").is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "first attempt never ran");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let started = std::time::Instant::now();
    handle.shutdown().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "shutdown waited for the backoff"
    );
    assert_eq!(
        bus.acked(DEFAULT_CONSUMER_NAME).await.expect("acked"),
        0,
        "not acknowledged"
    );
    // next start: delivered again (attempts restart at 1: the handler fails the
    // first attempt of each run), then retried and handled
    let handle = spawn_local(consumer(h), bus.clone(), fast());
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 1).await;
    handle.shutdown().await;
    assert_eq!(
        *seen.lock().expect("lock"),
        vec![
            ("stuck".to_owned(), None, 0),
            ("stuck".to_owned(), None, 0),
            ("stuck".to_owned(), Some(1), 0),
        ]
    );
}

#[tokio::test]
async fn an_idle_loop_stops_promptly() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    let (h, _) = recording();
    let handle = spawn_local(consumer(h), bus.clone(), fast());
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!handle.is_finished());
    tokio::time::timeout(Duration::from_secs(2), handle.shutdown())
        .await
        .expect("stopped in time");
}

#[tokio::test]
async fn acknowledgements_are_grouped_by_the_ack_interval() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    for i in 0..200 {
        bus.append(&ev(&format!("e{i}"), json!({}))).await.expect("append");
    }
    let commits_before = bus.commits();
    let (h, seen) = recording();
    let options = LocalOptions {
        read_batch: 64,
        // the 200 in-memory handlings take a few ms: all of them are finished
        // when the first acknowledgement is due
        ack_interval: Duration::from_millis(500),
        ..fast()
    };
    let started = std::time::Instant::now();
    let handle = spawn_local(consumer(h), bus.clone(), options);
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 200).await;
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "not written before the interval"
    );
    handle.shutdown().await;
    assert_eq!(seen.lock().expect("lock").len(), 200, "each event handled once");
    // one durable acknowledgement for the 200 events, not one per event or per read
    assert_eq!(bus.commits() - commits_before, 1);
}

#[tokio::test]
async fn a_retry_wait_does_not_hold_back_the_acknowledgement_of_earlier_events() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    bus.append(&ev("ok-0", json!({}))).await.expect("append");
    bus.append(&ev("ok-1", json!({}))).await.expect("append");
    bus.append(&ev("stuck", json!({"fail_times": 1, "status": 503})))
        .await
        .expect("append");
    let (h, seen) = recording();
    let slow_retry = LocalOptions {
        initial_backoff: Duration::from_secs(30),
        max_backoff: Duration::from_secs(30),
        ..fast()
    };
    // the three events come in one read batch; the third waits 30 s to retry
    let handle = spawn_local(consumer(h.clone()), bus.clone(), slow_retry);
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 2).await;
    assert_eq!(ids(&seen), ["ok-0", "ok-1", "stuck"]);
    handle.shutdown().await;
    assert_eq!(bus.acked(DEFAULT_CONSUMER_NAME).await.expect("acked"), 2);
    // after a restart only the unacknowledged event is delivered again
    let handle = spawn_local(consumer(h), bus.clone(), fast());
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 3).await;
    handle.shutdown().await;
    assert_eq!(ids(&seen), ["ok-0", "ok-1", "stuck", "stuck", "stuck"]);
}

#[tokio::test]
async fn the_loop_removes_handled_events_past_the_retention_and_keeps_the_rest() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    for i in 0..3 {
        bus.append(&ev(&format!("old{i}"), json!({}))).await.expect("append");
    }
    // The last event fails for good after the others: parked, so acknowledged too.
    bus.append(&ev("bad", json!({"fail_times": 99, "status": 400})))
        .await
        .expect("append");
    let (h, _seen) = recording();
    let options = LocalOptions {
        retention: Some(Duration::ZERO),
        prune_every: Duration::from_millis(50),
        ..fast()
    };
    let handle = spawn_local(consumer(h), bus.clone(), options);
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 4).await;
    // With no retention, events go once their second has passed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !bus.read(0, 10).await.expect("read").is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "acknowledged events were not removed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    handle.shutdown().await;
    assert_eq!(bus.head(), 4);
    assert_eq!(bus.dead_letters(DEFAULT_CONSUMER_NAME).await.expect("dl").len(), 1);
}

#[tokio::test]
async fn without_retention_every_event_is_kept() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    for i in 0..3 {
        bus.append(&ev(&format!("e{i}"), json!({}))).await.expect("append");
    }
    let (h, _seen) = recording();
    let options = LocalOptions {
        retention: None,
        ..fast()
    };
    let handle = spawn_local(consumer(h), bus.clone(), options);
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 3).await;
    // Long enough for a zero retention to have removed them (the test above).
    tokio::time::sleep(Duration::from_millis(1100)).await;
    handle.shutdown().await;
    assert_eq!(bus.read(0, 10).await.expect("read").len(), 3);
}

/// A URL on a loopback port nothing listens on, with a secret in its query.
fn closed_port_url() -> (String, u16) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    (format!("http://127.0.0.1:{port}/erp/stock?token=s3cret"), port)
}

#[tokio::test]
async fn errors_raised_with_question_mark_are_retried_or_dead_lettered_by_their_kind() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    bus.append(&ev("erp-down", json!({"call_erp": true})))
        .await
        .expect("append");
    bus.append(&ev("bad-qty", json!({"qty": "many"})))
        .await
        .expect("append");
    bus.append(&ev("fine", json!({"qty": 2}))).await.expect("append");
    let (erp, port) = closed_port_url();
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let s = seen.clone();
    let h = handler_fn(move |e: CloudEvent, ctx: EventContext| {
        let (s, erp) = (s.clone(), erp.clone());
        async move {
            s.lock().expect("lock").push(ctx.event_id.clone());
            if e.data["call_erp"] == json!(true) {
                // a connect error: retryable (503)
                reqwest::Client::new().get(&erp).send().await?;
            }
            // a JSON error: not retryable (400)
            let qty: u32 = serde_json::from_value(e.data["qty"].clone())?;
            Ok(HandlerResult::success(format!("{qty} noted")))
        }
    });
    let handle = spawn_local(consumer(h), bus.clone(), fast());
    wait_acked(&bus, DEFAULT_CONSUMER_NAME, 3).await;
    handle.shutdown().await;
    assert_eq!(
        *seen.lock().expect("lock"),
        ["erp-down", "erp-down", "erp-down", "bad-qty", "fine"],
        "the connect error was retried (3 attempts), the JSON error was not"
    );
    let dead = bus.dead_letters(DEFAULT_CONSUMER_NAME).await.expect("dl");
    assert_eq!(dead.len(), 2);
    assert_eq!((dead[0].offset, dead[0].event.id.as_str()), (0, "erp-down"));
    let prefix =
        format!(r#"gave up after 3 attempts: {{"error":"could not connect to http://127.0.0.1:{port}/erp/stock: "#);
    assert!(
        dead[0].reason.starts_with(&prefix) && dead[0].reason.ends_with(r#"","status":503}"#),
        "{}",
        dead[0].reason
    );
    assert!(!dead[0].reason.contains("s3cret"), "{}", dead[0].reason);
    assert_eq!(
        (dead[1].offset, dead[1].event.id.as_str(), dead[1].reason.as_str()),
        (
            1,
            "bad-qty",
            r#"not retryable: {"error":"invalid JSON data: invalid type: string \"many\", expected u32","status":400}"#
        )
    );
}
