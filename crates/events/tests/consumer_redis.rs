//! Two consumer replicas sharing dedupe marks and loop-guard fingerprints
//! through a real Redis (`REDIS_URL`, default `redis://127.0.0.1:6379`).
//! FAILS when Redis is unreachable: start it with `redis-server --daemonize yes`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use commerce_kit_core::state::{DEFAULT_REDIS_URL, RedisStore, StateStore};
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::consumer::{Consumer, Outcome};
use commerce_kit_events::handler::{EventContext, EventHandler, HandlerResult, handler_fn};
use serde_json::json;

async fn redis(prefix: &str) -> Arc<dyn StateStore> {
    let url = std::env::var("REDIS_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned());
    let store = RedisStore::connect_with_prefix(&url, prefix).await.unwrap_or_else(|e| {
        panic!("Redis is not reachable at {url} ({e}): start it with `redis-server --daemonize yes`")
    });
    if let Err(e) = store.get("probe").await {
        panic!("Redis at {url} does not answer ({e}): start it with `redis-server --daemonize yes`");
    }
    Arc::new(store)
}

fn slow_counting() -> (Arc<dyn EventHandler>, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let h = handler_fn(move |_e: CloudEvent, _x: EventContext| {
        let c = c.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(150)).await;
            Ok(HandlerResult::success("ok"))
        }
    });
    (h, calls)
}

/// Two consumers over the same Redis (a fresh key prefix), both with the same
/// slow counting handler: two replicas of one deployment.
async fn two_replicas() -> (Consumer, Consumer, Arc<AtomicUsize>) {
    let prefix = format!("ck-test-{}:", uuid::Uuid::new_v4().simple());
    let (h, calls) = slow_counting();
    let replica = |store| Consumer::builder(store).fallback(h.clone()).build().expect("consumer");
    (replica(redis(&prefix).await), replica(redis(&prefix).await), calls)
}

#[tokio::test]
async fn replicas_handle_a_redelivered_event_once() {
    let (replica_a, replica_b, calls) = two_replicas().await;
    let event = CloudEvent::new("r-1", "s", "be-observer.customer_delete", json!({"id": 1}));
    // the same event reaches both replicas at once (Adobe retry racing the first attempt)
    let (a, b) = tokio::join!(
        replica_a.dispatch(event.clone(), EventContext::new("r-1")),
        replica_b.dispatch(event.clone(), EventContext::new("r-1")),
    );
    let mut outcomes = [a.outcome, b.outcome];
    outcomes.sort_by_key(|o| o.as_str());
    assert_eq!(outcomes, [Outcome::Handled, Outcome::InProgress]);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // later redeliveries to either replica are duplicates
    for replica in [&replica_a, &replica_b] {
        let d = replica.dispatch(event.clone(), EventContext::new("r-1")).await;
        assert_eq!(d.outcome, Outcome::Duplicate);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_loop_guard_works_across_replicas() {
    let (replica_a, replica_b, calls) = two_replicas().await;
    let update = CloudEvent::new(
        "bo",
        "s",
        "be-observer.catalog_product_update",
        json!({"sku": "S-9", "name": "N", "description": "D"}),
    );
    assert_eq!(
        replica_a.dispatch(update, EventContext::new("bo")).await.outcome,
        Outcome::Handled
    );
    let echo = CloudEvent::new(
        "c",
        "s",
        "com.adobe.commerce.observer.catalog_product_save_commit_after",
        json!({"value": {"sku": "S-9", "name": "N", "description": "D",
            "created_at": "2025-01-01 00:00:00", "updated_at": "2025-01-02 00:00:00"}}),
    );
    assert_eq!(
        replica_b.dispatch(echo, EventContext::new("c")).await.outcome,
        Outcome::LoopDiscarded
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
