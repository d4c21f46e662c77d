//! Local bus retention: only events every consumer acknowledged and older than
//! the cutoff go, with their idempotency keys; offsets, acks and dead letters
//! survive it, and so does a restart.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use commerce_kit_model::bus::{HeldBack, LocalBus, Pruned};
use commerce_kit_model::cloudevent::CloudEvent;
use serde_json::json;

fn event(i: u64) -> CloudEvent {
    let mut event = CloudEvent::new(
        format!("uid-{i}"),
        "urn:uuid:00000000-0000-4000-8000-000000000001",
        "be-observer.catalog_product_update",
        json!({"sku": format!("SKU-{i}")}),
    );
    event.time = Some("2026-01-02T03:04:05.678Z".to_owned());
    event
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
}

async fn offsets(bus: &LocalBus) -> Vec<u64> {
    bus.read(0, 1000)
        .await
        .expect("read")
        .iter()
        .map(|r| r.offset)
        .collect()
}

/// Appends events `range` and returns the second before the first append and
/// the second after the last one.
async fn append(bus: &LocalBus, range: std::ops::Range<u64>) -> (u64, u64) {
    let before = unix_now();
    for i in range {
        bus.append_once(&format!("key-{i}"), &event(i)).await.expect("append");
    }
    (before, unix_now() + 1)
}

#[tokio::test]
async fn without_a_consumer_nothing_goes() {
    let dir = tempfile::tempdir().expect("tmp");
    let bus = LocalBus::open(dir.path()).expect("open");
    let (_, after) = append(&bus, 0..4).await;
    let pruned = bus.prune_before(after + 3600).await.expect("prune");
    assert_eq!(
        pruned,
        Pruned {
            events: 0,
            keys: 0,
            first_kept: 0,
            held_back: None
        }
    );
    assert_eq!(offsets(&bus).await, [0, 1, 2, 3]);
}

#[tokio::test]
async fn acknowledged_old_events_go_with_their_keys_and_the_rest_stays() {
    let dir = tempfile::tempdir().expect("tmp");
    let bus = LocalBus::open(dir.path()).expect("open");
    let (before, after) = append(&bus, 0..6).await;
    bus.ack("handler", 4).await.expect("ack");

    // Appended after the cutoff: too young, nothing goes.
    assert_eq!(bus.prune_before(before).await.expect("prune").events, 0);
    assert_eq!(offsets(&bus).await, [0, 1, 2, 3, 4, 5]);

    // Old enough: what the consumer acknowledged goes, what it has not stays.
    let pruned = bus.prune_before(after).await.expect("prune");
    assert_eq!(
        pruned,
        Pruned {
            events: 4,
            keys: 4,
            first_kept: 4,
            held_back: Some(HeldBack {
                consumer: "handler".into(),
                acked: 4,
                aged: 6
            })
        }
    );
    assert_eq!(offsets(&bus).await, [4, 5]);
    assert_eq!(bus.head(), 6);
    assert_eq!(bus.acked("handler").await.expect("acked"), 4);
    // A consumer reading from the start gets what is left.
    assert_eq!(bus.read(0, 10).await.expect("read")[0].event, event(4));

    // A removed event's key no longer stops a repeat; a kept one's still does.
    let again = bus.append_once("key-1", &event(1)).await.expect("append");
    assert_eq!((again.offset, again.duplicate), (6, false));
    let kept = bus.append_once("key-5", &event(5)).await.expect("append");
    assert_eq!((kept.offset, kept.duplicate), (5, true));

    // Running it again removes nothing more.
    let pruned = bus.prune_before(unix_now() + 1).await.expect("prune");
    assert_eq!((pruned.events, pruned.keys, pruned.first_kept), (0, 0, 4));
}

#[tokio::test]
async fn the_slowest_consumer_sets_the_boundary_and_new_offsets_never_reuse_old_ones() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let bus = LocalBus::open(dir.path()).expect("open");
        let (_, after) = append(&bus, 0..5).await;
        bus.ack("fast", 5).await.expect("ack");
        bus.ack("slow", 2).await.expect("ack");
        let pruned = bus.prune_before(after).await.expect("prune");
        assert_eq!(
            (pruned.events, pruned.held_back),
            (
                2,
                Some(HeldBack {
                    consumer: "slow".into(),
                    acked: 2,
                    aged: 5
                })
            )
        );
        bus.ack("slow", 5).await.expect("ack");
        let pruned = bus.prune_before(after).await.expect("prune");
        assert_eq!((pruned.events, pruned.first_kept, pruned.held_back), (3, 5, None));
        assert!(offsets(&bus).await.is_empty());
    }
    // After a restart the next offset follows the removed ones.
    let bus = LocalBus::open(dir.path()).expect("reopen");
    assert_eq!(bus.head(), 5);
    assert_eq!(bus.append(&event(9)).await.expect("append"), 5);
    assert_eq!(offsets(&bus).await, [5]);
    assert_eq!(bus.acked("slow").await.expect("acked"), 5);
}

#[tokio::test]
async fn dead_letters_outlive_their_events() {
    let dir = tempfile::tempdir().expect("tmp");
    let bus = LocalBus::open(dir.path()).expect("open");
    let (_, after) = append(&bus, 0..3).await;
    let records = bus.read(0, 3).await.expect("read");
    bus.ack("c", 1).await.expect("ack");
    bus.dead_letter("c", &records[1], "HTTP 400: bad data")
        .await
        .expect("dead letter");
    bus.ack("c", 3).await.expect("ack");
    assert_eq!(bus.prune_before(after).await.expect("prune").events, 3);
    let letters = bus.dead_letters("c").await.expect("dead letters");
    assert_eq!(letters.len(), 1);
    assert_eq!((letters[0].offset, &letters[0].event), (1, &event(1)));
}

#[tokio::test]
async fn prune_by_age_keeps_recent_events() {
    let dir = tempfile::tempdir().expect("tmp");
    let bus = LocalBus::open(dir.path()).expect("open");
    append(&bus, 0..3).await;
    bus.ack("c", 3).await.expect("ack");
    // Everything was appended within the last hour.
    assert_eq!(
        bus.prune(Duration::from_secs(3600)).await.expect("prune"),
        Pruned {
            events: 0,
            keys: 0,
            first_kept: 0,
            held_back: None
        }
    );
    assert_eq!(offsets(&bus).await, [0, 1, 2]);
}
