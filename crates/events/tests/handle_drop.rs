//! Dropping the local-bus loop's handle leaves the loop running (events keep
//! being handled), without spinning: once nobody can ask it to stop, its
//! stop signal must not wake it up again and again. Alone in its test binary,
//! so the process's CPU time is the loop's.

use std::sync::Arc;
use std::time::Duration;

use commerce_kit_core::state::MemoryStore;
use commerce_kit_events::bus::LocalBus;
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::consumer::Consumer;
use commerce_kit_events::handler::{EventContext, HandlerResult, handler_fn};
use commerce_kit_events::local::{DEFAULT_CONSUMER_NAME, LocalOptions, spawn_local};
use serde_json::json;

/// This process's user + system CPU time, in clock ticks (`/proc/self/stat`).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // fields after the command name (which is in parentheses and may hold spaces)
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_handle_leaves_the_loop_running_and_idle() {
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("open");
    let handler = handler_fn(|_e: CloudEvent, _c: EventContext| async { Ok(HandlerResult::success("ok")) });
    let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
        .fallback(handler)
        .build()
        .expect("consumer");
    drop(spawn_local(consumer, bus.clone(), LocalOptions::default()));

    for i in 0..3 {
        let event = CloudEvent::new(format!("e{i}"), "s", "be-observer.customer_delete", json!({"id": i}));
        bus.append(&event).await.expect("append");
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while bus.acked(DEFAULT_CONSUMER_NAME).await.expect("acked") < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the loop stopped with its handle"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // idle: the process should use next to no CPU
    let before = cpu_ticks();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let used = cpu_ticks() - before;
    assert!(used < 30, "{used} CPU ticks in 1 s of idling: the loop spins");
}
