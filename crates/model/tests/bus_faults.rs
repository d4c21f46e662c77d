//! The local bus under storage faults: a damaged journal is refused at open
//! (saying where and what to do), a page damaged while it runs fails reads
//! as damaged and shows in its health, and a full disk refuses appends
//! without losing any until space is back, then recovers on its own.

use std::path::Path;
use std::time::{Duration, Instant};

use commerce_kit_core::server::Probe;
use commerce_kit_model::bus::{BusError, FILE_NAME, LocalBus, RECOVERY_MAX_WAIT};
use commerce_kit_model::cloudevent::CloudEvent;
use commerce_kit_model::testing::{SmallDisk, damage_page, damage_value};
use serde_json::json;

/// An event whose value holds `MARK-<i>` (six digits), found in the file to damage it.
fn marked(i: u64, pad: usize) -> CloudEvent {
    let mut event = CloudEvent::new(
        format!("uid-{i}"),
        "urn:uuid:00000000-0000-4000-8000-000000000001",
        "be-observer.catalog_product_update",
        json!({"sku": format!("MARK-{i:06}"), "pad": "x".repeat(pad)}),
    );
    event.time = Some("2026-12-05T01:02:03.456Z".to_owned());
    event
}

async fn fill(bus: &LocalBus, events: u64, pad: usize) {
    for i in 0..events {
        assert_eq!(bus.append(&marked(i, pad)).await.expect("append"), i);
    }
}

fn needle(i: u64) -> Vec<u8> {
    format!("MARK-{i:06}").into_bytes()
}

fn damaged_detail(err: &BusError) -> &str {
    match err {
        BusError::Damaged { detail, .. } => detail,
        other => panic!("expected a damaged journal, got: {other}"),
    }
}

/// What every damaged-journal message tells the operator to do.
fn assert_says_what_to_do(message: &str, file: &Path) {
    let path = file.display();
    assert!(
        message.starts_with(&format!("local bus {path} is damaged: ")),
        "{message}"
    );
    for part in [
        "Stop every process using it, then restore the file from a backup",
        &format!("`mv {path} {path}.damaged`"),
        "starting empty loses the events not yet delivered, the dead letters, the consumers' positions and the idempotency keys",
    ] {
        assert!(message.contains(part), "missing {part:?} in: {message}");
    }
}

#[tokio::test]
async fn a_damaged_event_is_refused_at_open_saying_where_reading_stops() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let bus = LocalBus::open(dir.path()).expect("open");
        fill(&bus, 3000, 0).await;
    }
    let file = dir.path().join(FILE_NAME);
    damage_value(&file, &needle(1500));

    let err = LocalBus::open(dir.path()).expect_err("a damaged journal must be refused");
    let detail = damaged_detail(&err);
    assert!(detail.starts_with("its integrity check failed ("), "{detail}");
    assert!(
        detail.contains(
            "; 1500 events read back, then reading stops after offset 1499: the event at offset 1500 is not the JSON the bus wrote"
        ),
        "{detail}"
    );
    assert_says_what_to_do(&err.to_string(), &file);

    // Refused again on the next start: the check does not "fix" the file by dropping data.
    let again = LocalBus::open(dir.path()).expect_err("still damaged");
    assert_eq!(damaged_detail(&again), detail);
}

#[tokio::test]
async fn a_damaged_page_is_refused_at_open() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let bus = LocalBus::open(dir.path()).expect("open");
        fill(&bus, 3000, 0).await;
    }
    let file = dir.path().join(FILE_NAME);
    damage_page(&file, &needle(1500));

    let err = LocalBus::open(dir.path()).expect_err("a damaged journal must be refused");
    // Where depends on the page: the storage library names it (e.g. "page r0.81").
    let detail = damaged_detail(&err);
    assert!(detail.contains("page"), "{detail}");
    assert_says_what_to_do(&err.to_string(), &file);
}

#[tokio::test]
async fn a_journal_closed_cleanly_passes_the_check_with_every_event() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let bus = LocalBus::open(dir.path()).expect("open");
        fill(&bus, 500, 0).await;
        bus.ack("c", 200).await.expect("ack");
    }
    let bus = LocalBus::open(dir.path()).expect("a sound journal opens");
    assert_eq!(bus.head(), 500);
    assert_eq!(bus.acked("c").await.expect("acked"), 200);
    assert_eq!(bus.read(499, 1).await.expect("read")[0].event, marked(499, 0));
    assert!(bus.health().is_ok());
}

#[tokio::test]
async fn a_page_damaged_while_open_fails_reads_as_damaged_and_health_reports_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let bus = LocalBus::open(dir.path()).expect("open");
    // 3,000 events of 4 KiB: far more than the bus's 8 MiB page cache, so
    // the first events are read from the file again, damage included.
    fill(&bus, 3000, 4000).await;
    assert_eq!(bus.read(0, 1).await.expect("read").len(), 1);
    assert!(bus.health().is_ok());

    let file = dir.path().join(FILE_NAME);
    damage_value(&file, &needle(100));

    let err = bus
        .read(64, 64)
        .await
        .expect_err("the damaged event must fail the read");
    let detail = damaged_detail(&err);
    assert!(
        detail.starts_with("the event at offset 100 is not the JSON the bus wrote: "),
        "{detail}"
    );
    assert_says_what_to_do(&err.to_string(), &file);

    let health = bus.health();
    let read = health.read.as_ref().expect("reads are failing");
    assert_eq!(read.failures, 1);
    assert!(
        read.reason.starts_with("reading events from offset 64: local bus "),
        "{}",
        read.reason
    );
    assert_eq!((health.write, health.read_errors), (None, 1));
    match bus.probe() {
        Probe::Failing { reason, detail } => {
            assert!(reason.starts_with("the journal cannot be read since "), "{reason}");
            assert!(reason.contains("is damaged"), "{reason}");
            assert_eq!(detail["read_errors"], 1);
            assert_eq!(detail["head"], 3000);
        }
        ready => panic!("expected failing, got {ready:?}"),
    }

    // Appends go on (the damage is behind the head), and a read elsewhere ends the read failure.
    assert_eq!(bus.append(&marked(3000, 0)).await.expect("append"), 3000);
    assert_eq!(bus.read(3000, 1).await.expect("read").len(), 1);
    assert!(bus.health().is_ok());
    assert_eq!(bus.health().read_errors, 1, "the count stays");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_refuses_appends_without_losing_any_and_recovers_once_space_is_back() {
    let disk = match SmallDisk::mount("64m") {
        Ok(disk) => disk,
        Err(reason) => {
            eprintln!("SKIPPED a_full_disk_refuses_appends…: needs to mount a tmpfs (run as root): {reason}");
            return;
        }
    };
    let filler = disk.fill("filler", 60 * 1024 * 1024);
    let data = disk.path().join("data");
    let bus = LocalBus::open(&data).expect("open");

    let mut stored = 0u64;
    let first_error = loop {
        match bus.append(&marked(stored, 200)).await {
            Ok(offset) => {
                assert_eq!(offset, stored);
                stored += 1;
            }
            Err(err) => break err,
        }
        assert!(stored < 100_000, "the disk never filled up");
    };
    assert!(stored > 100, "only {stored} events fitted");
    let message = first_error.to_string();
    assert!(message.contains("No space left on device"), "{message}");
    assert!(
        matches!(
            first_error,
            BusError::Storage {
                operation: "commit",
                ..
            }
        ),
        "{first_error:?}"
    );

    // Refused at once while broken, saying since when and why.
    let refused = bus
        .append(&marked(stored, 200))
        .await
        .expect_err("refused while the disk is full");
    match &refused {
        BusError::Unavailable { since, reason, .. } => {
            assert!(reason.contains("No space left on device"), "{reason}");
            assert_eq!(Some(since), bus.health().write.as_ref().map(|w| &w.since));
        }
        other => panic!("expected Unavailable, got {other}"),
    }
    let health = bus.health();
    assert!(health.write.is_some() && health.read.is_none());
    assert!(
        matches!(bus.probe(), Probe::Failing { ref reason, .. } if reason.starts_with("the journal cannot be written since "))
    );
    // What was stored can still be read.
    assert_eq!(bus.read(0, 1).await.expect("read while full")[0].event, marked(0, 200));

    // Its own retry (after a second) fails too while the disk is still full.
    let deadline = Instant::now() + Duration::from_secs(5);
    while bus.health().write_errors < 2 {
        assert!(Instant::now() < deadline, "no retry within 5 s: {:?}", bus.health());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(bus.health().write.is_some_and(|w| w.failures >= 2));
    assert!(matches!(
        bus.append(&marked(stored, 200)).await,
        Err(BusError::Unavailable { .. })
    ));

    // Space comes back: the bus recovers without a request, within its longest wait.
    std::fs::remove_file(&filler).expect("free space");
    let deadline = Instant::now() + RECOVERY_MAX_WAIT + Duration::from_secs(3);
    while !bus.health().is_ok() {
        assert!(
            Instant::now() < deadline,
            "not writable {RECOVERY_MAX_WAIT:?} after space came back: {:?}",
            bus.health()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(matches!(bus.probe(), Probe::Ready { .. }));

    // The next append takes the next offset: nothing refused was stored, nothing stored was lost.
    assert_eq!(
        bus.append(&marked(stored, 200)).await.expect("append after recovery"),
        stored
    );
    let all = bus.read(0, usize::MAX).await.expect("read all");
    assert_eq!(all.len() as u64, stored + 1);
    for (i, record) in all.iter().enumerate() {
        assert_eq!(record.event, marked(i as u64, 200), "offset {i}");
    }
    drop(bus);
    let reopened = LocalBus::open(&data).expect("reopen after recovery");
    assert_eq!(reopened.head(), stored + 1);
}
