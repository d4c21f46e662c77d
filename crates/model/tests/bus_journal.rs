//! The local bus: ordering, durability across restarts and crashes, acks,
//! dead letters, locking, group commit.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use commerce_kit_model::bus::{BusError, BusRecord, FILE_NAME, LocalBus};
use commerce_kit_model::cloudevent::CloudEvent;
use serde_json::json;

fn event(i: u64) -> CloudEvent {
    let mut event = CloudEvent::new(
        format!("uid-{i}"),
        "urn:uuid:00000000-0000-4000-8000-000000000001",
        "be-observer.catalog_product_update",
        json!({"sku": format!("SKU-{i}"), "name": "n", "price": i, "description": "d"}),
    );
    event.time = Some("2026-01-02T03:04:05.678Z".to_owned());
    event
}

#[tokio::test]
async fn appends_get_consecutive_offsets_and_read_back_in_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let bus = LocalBus::open(dir.path()).expect("open");
    assert_eq!(bus.head(), 0);
    assert!(bus.read(0, 10).await.expect("read").is_empty());
    for i in 0..5 {
        assert_eq!(bus.append(&event(i)).await.expect("append"), i);
    }
    assert_eq!(bus.head(), 5);
    let all = bus.read(0, 100).await.expect("read");
    assert_eq!(all.len(), 5);
    for (i, rec) in all.iter().enumerate() {
        assert_eq!(rec, &BusRecord::new(i as u64, event(i as u64)));
    }
    let middle = bus.read(2, 2).await.expect("read");
    assert_eq!(middle.iter().map(|r| r.offset).collect::<Vec<_>>(), vec![2, 3]);
    assert!(bus.read(5, 10).await.expect("read").is_empty());
    assert!(bus.read(2, 0).await.expect("read").is_empty());
    assert_eq!(bus.path(), dir.path().join(FILE_NAME));
}

#[tokio::test]
async fn events_acks_and_offsets_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let bus = LocalBus::open(dir.path()).expect("open");
        for i in 0..3 {
            bus.append(&event(i)).await.expect("append");
        }
        bus.ack("c1", 2).await.expect("ack");
    }
    let bus = LocalBus::open(dir.path()).expect("reopen after the last handle was dropped");
    assert_eq!(bus.head(), 3);
    assert_eq!(bus.acked("c1").await.expect("acked"), 2);
    assert_eq!(bus.acked("never").await.expect("acked"), 0);
    assert_eq!(bus.append(&event(3)).await.expect("append"), 3, "offsets continue");
    let all = bus.read(0, 10).await.expect("read");
    assert_eq!(
        all.iter().map(|r| r.event.id.clone()).collect::<Vec<_>>(),
        ["uid-0", "uid-1", "uid-2", "uid-3"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_are_group_committed_with_unique_offsets() {
    let dir = tempfile::tempdir().expect("tmp");
    let bus = LocalBus::open(dir.path()).expect("open");
    let n = 400u64;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let bus = bus.clone();
            tokio::spawn(async move { (i, bus.append(&event(i)).await.expect("append")) })
        })
        .collect();
    let mut offsets = Vec::new();
    let mut by_offset = std::collections::HashMap::new();
    for t in tasks {
        let (i, offset) = t.await.expect("join");
        offsets.push(offset);
        by_offset.insert(offset, i);
    }
    offsets.sort_unstable();
    assert_eq!(offsets, (0..n).collect::<Vec<_>>());
    let records = bus.read(0, n as usize).await.expect("read");
    for rec in &records {
        assert_eq!(
            rec.event.id,
            format!("uid-{}", by_offset[&rec.offset]),
            "offset {} holds its own event",
            rec.offset
        );
    }
    assert!(
        bus.commits() < n / 2,
        "{} commits for {n} concurrent appends: no group commit",
        bus.commits()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acks_and_dead_letters_committed_alongside_concurrent_appends() {
    let dir = tempfile::tempdir().expect("tmp");
    let bus = LocalBus::open(dir.path()).expect("open");
    for i in 0..10 {
        bus.append(&event(i)).await.expect("append");
    }
    let first = bus.read(0, 10).await.expect("read");
    let appends: Vec<_> = (10..210)
        .map(|i| {
            let bus = bus.clone();
            tokio::spawn(async move { bus.append(&event(i)).await.expect("append") })
        })
        .collect();
    let consumers: Vec<_> = (0..10usize)
        .map(|i| {
            let (bus, rec) = (bus.clone(), first[i].clone());
            tokio::spawn(async move {
                let name = format!("c{i}");
                if i % 2 == 0 {
                    bus.ack(&name, rec.offset + 1).await.expect("ack");
                } else {
                    bus.dead_letter(&name, &rec, "parked").await.expect("dead letter");
                }
            })
        })
        .collect();
    for t in appends {
        t.await.expect("join");
    }
    for t in consumers {
        t.await.expect("join");
    }
    assert_eq!(bus.head(), 210);
    for i in 0..10u64 {
        let name = format!("c{i}");
        assert_eq!(bus.acked(&name).await.expect("acked"), i + 1);
        assert_eq!(bus.dead_letters(&name).await.expect("dead").len(), (i % 2) as usize);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keyed_appends_store_each_key_once_even_across_restarts() {
    let dir = tempfile::tempdir().expect("dir");
    {
        let bus = LocalBus::open(dir.path()).expect("open");
        bus.append(&event(0)).await.expect("unkeyed append");
        let first = bus.append_once("k/1", &event(1)).await.expect("append");
        assert_eq!((first.offset, first.duplicate), (1, false));
        // Many concurrent appends of one key (same batch or not): exactly one is stored.
        let mut tasks = Vec::new();
        for _ in 0..32 {
            let bus = bus.clone();
            tasks.push(tokio::spawn(async move { bus.append_once("k/2", &event(2)).await }));
        }
        let mut stored = Vec::new();
        for task in tasks {
            let appended = task.await.expect("join").expect("append");
            assert_eq!(appended.offset, 2, "every caller learns the one offset");
            if !appended.duplicate {
                stored.push(appended.offset);
            }
        }
        assert_eq!(stored, vec![2], "exactly one caller stored it");
        assert_eq!(bus.head(), 3);
    }
    let bus = LocalBus::open(dir.path()).expect("reopen");
    let again = bus.append_once("k/1", &event(1)).await.expect("append after restart");
    assert_eq!((again.offset, again.duplicate), (1, true));
    let new = bus.append_once("k/3", &event(3)).await.expect("new key");
    assert_eq!((new.offset, new.duplicate), (3, false));
    let ids: Vec<String> = bus
        .read(0, 10)
        .await
        .expect("read")
        .into_iter()
        .map(|r| r.event.id)
        .collect();
    assert_eq!(ids, vec![event(0).id, event(1).id, event(2).id, event(3).id]);
}

#[tokio::test]
async fn acks_move_forward_only_and_never_past_the_head() {
    let dir = tempfile::tempdir().expect("tmp");
    let bus = LocalBus::open(dir.path()).expect("open");
    for i in 0..3 {
        bus.append(&event(i)).await.expect("append");
    }
    bus.ack("c", 3).await.expect("ack to head");
    bus.ack("c", 1).await.expect("older ack is a no-op");
    assert_eq!(bus.acked("c").await.expect("acked"), 3);
    let err = bus.ack("c", 4).await.expect_err("must fail");
    assert!(matches!(err, BusError::AckBeyondHead { next: 4, head: 3, .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "local bus {}: consumer 'c' cannot ack up to 4: only 3 event(s) exist",
            dir.path().join(FILE_NAME).display()
        )
    );
    assert_eq!(bus.acked("c").await.expect("acked"), 3);
    assert_eq!(bus.acked("other").await.expect("acked"), 0, "acks are per consumer");
}

#[tokio::test]
async fn dead_letters_park_the_event_ack_past_it_and_persist() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let bus = LocalBus::open(dir.path()).expect("open");
        for i in 0..4 {
            bus.append(&event(i)).await.expect("append");
        }
        let records = bus.read(0, 4).await.expect("read");
        bus.dead_letter("c", &records[1], "handler answered 400: bad sku")
            .await
            .expect("park 1");
        assert_eq!(bus.acked("c").await.expect("acked"), 2);
        bus.dead_letter("c", &records[3], "handler answered 404")
            .await
            .expect("park 3");
        assert_eq!(bus.acked("c").await.expect("acked"), 4);
        bus.dead_letter("other", &records[0], "x")
            .await
            .expect("park for another consumer");
        let beyond = BusRecord::new(9, event(9));
        assert!(matches!(
            bus.dead_letter("c", &beyond, "r").await.expect_err("must fail"),
            BusError::AckBeyondHead { next: 10, head: 4, .. }
        ));
    }
    let bus = LocalBus::open(dir.path()).expect("reopen");
    let dead = bus.dead_letters("c").await.expect("list");
    assert_eq!(
        dead.iter().map(|d| d.offset).collect::<Vec<_>>(),
        vec![1, 3],
        "oldest first"
    );
    assert_eq!(dead[0].event, event(1));
    assert_eq!(dead[0].reason, "handler answered 400: bad sku");
    assert!(
        time::OffsetDateTime::parse(&dead[0].at, &time::format_description::well_known::Rfc3339).is_ok(),
        "{}",
        dead[0].at
    );
    assert_eq!(bus.dead_letters("other").await.expect("list").len(), 1);
    assert!(bus.dead_letters("nobody").await.expect("list").is_empty());
    assert_eq!(bus.acked("c").await.expect("acked"), 4);
}

#[tokio::test]
async fn parked_letters_leave_the_ack_alone_and_replay_or_discard_once_across_restarts() {
    let dir = tempfile::tempdir().expect("tmp");
    {
        let bus = LocalBus::open(dir.path()).expect("open");
        for i in 0..3 {
            bus.append(&event(i)).await.expect("append");
        }
        let records = bus.read(0, 10).await.expect("read");
        bus.park("c", &records[1], "first reason").await.expect("park");
        // parking again (a redelivery after a crash) replaces the entry
        bus.park("c", &records[1], "second reason").await.expect("park again");
        bus.park("c", &records[2], "kept").await.expect("park 2");
        assert_eq!(bus.acked("c").await.expect("acked"), 0, "park does not acknowledge");
        let letters = bus.dead_letters("c").await.expect("letters");
        assert_eq!(
            letters
                .iter()
                .map(|l| (l.offset, l.reason.as_str()))
                .collect::<Vec<_>>(),
            vec![(1, "second reason"), (2, "kept")]
        );
        let one = bus.dead_letter_at("c", 1).await.expect("show").expect("present");
        assert_eq!(one.event, event(1));
        assert_eq!(bus.dead_letter_at("c", 0).await.expect("show"), None);
        assert_eq!(bus.dead_letter_at("other", 1).await.expect("show"), None);
    }
    let bus = LocalBus::open(dir.path()).expect("reopen");
    let replayed = bus.replay("c", 1).await.expect("replay");
    assert_eq!((replayed.offset, bus.head()), (3, 4));
    assert_eq!(
        (
            replayed.letter.offset,
            replayed.letter.reason.as_str(),
            replayed.letter.event.clone()
        ),
        (1, "second reason", event(1))
    );
    let replayed = bus.read(3, 10).await.expect("read");
    assert_eq!(replayed.len(), 1);
    assert_eq!(replayed[0].event, event(1), "the same event: same id, same data");
    let origin = replayed[0].replay.clone().expect("marked as a replay");
    assert_eq!((origin.consumer.as_str(), origin.of), ("c", 1));
    assert!(replayed[0].is_for("c"));
    assert!(!replayed[0].is_for("other"), "a replay is for its consumer alone");
    assert!(bus.read(0, 1).await.expect("read")[0].is_for("other"));
    match bus.replay("c", 1).await {
        Err(err @ BusError::NotDead { offset: 1, .. }) => {
            assert!(
                err.to_string().ends_with("consumer 'c' has no dead letter at offset 1"),
                "{err}"
            )
        }
        other => panic!("expected NotDead, got {other:?}"),
    }
    assert!(matches!(
        bus.discard("c", 0).await,
        Err(BusError::NotDead { offset: 0, .. })
    ));
    let gone = bus.discard("c", 2).await.expect("discard");
    assert_eq!(
        (gone.offset, gone.reason.as_str(), gone.event.id.as_str()),
        (2, "kept", "uid-2")
    );
    assert!(bus.dead_letters("c").await.expect("letters").is_empty());
    drop(bus);
    // the replay entry survives a restart with its marker
    let bus = LocalBus::open(dir.path()).expect("reopen");
    let again = bus.read(3, 10).await.expect("read");
    assert_eq!(again, replayed);
}

#[tokio::test]
async fn subscribers_see_the_head_after_each_commit() {
    let dir = tempfile::tempdir().expect("tmp");
    let bus = LocalBus::open(dir.path()).expect("open");
    let mut rx = bus.subscribe();
    assert_eq!(*rx.borrow_and_update(), 0);
    bus.append(&event(0)).await.expect("append");
    tokio::time::timeout(Duration::from_secs(5), rx.changed())
        .await
        .expect("notified")
        .expect("sender alive");
    assert_eq!(*rx.borrow_and_update(), 1);
}

#[tokio::test]
async fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().expect("tmp");
    let _bus = LocalBus::open(dir.path()).expect("open");
    let err = LocalBus::open(dir.path()).expect_err("must fail");
    assert_eq!(
        err.to_string(),
        format!(
            "local bus {}: already open by another process (file locked); stop that process or use another DATA_DIR",
            dir.path().join(FILE_NAME).display()
        )
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_journal_is_an_open_error_naming_it() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(
        dir.path().join(FILE_NAME),
        b"definitely not a redb file, just some text here....".repeat(100),
    )
    .expect("write");
    let err = LocalBus::open(dir.path()).expect_err("must fail");
    let msg = err.to_string();
    assert!(matches!(err, BusError::Open { .. }), "{msg}");
    assert!(
        msg.starts_with(&format!(
            "local bus {}: cannot open: ",
            dir.path().join(FILE_NAME).display()
        )),
        "{msg}"
    );
}

#[tokio::test]
async fn an_uncreatable_directory_is_an_open_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").expect("write");
    let err = LocalBus::open(&file.join("sub")).expect_err("must fail");
    assert!(matches!(err, BusError::Open { .. }), "{err}");
    assert!(err.to_string().contains("cannot create directory"), "{err}");
}

// ---------------------------------------------------------------------------
// Child-process tests: the test binary re-runs itself with BUS_CHILD_DIR set,
// and the child test below plays the role of another process.

const CHILD_ENV: &str = "BUS_CHILD_DIR";
const CHILD_MODE: &str = "BUS_CHILD_MODE";

/// Not a real test on its own: does nothing unless started by a parent test.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn child_process_role() {
    let Ok(dir) = std::env::var(CHILD_ENV) else { return };
    let bus = LocalBus::open(Path::new(&dir)).expect("child open");
    match std::env::var(CHILD_MODE).as_deref() {
        Ok("hold") => {
            println!("\nbus-child-ready");
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Ok("append") => {
            // Appends forever from 16 concurrent writers; prints each offset
            // once append() returned Ok, i.e. once it is claimed durable.
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            for w in 0..16u64 {
                let bus = bus.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    for i in 0.. {
                        let id = w * 1_000_000 + i;
                        let offset = bus.append(&event(id)).await.expect("append");
                        if tx.send(format!("{offset} uid-{id}")).is_err() {
                            return;
                        }
                    }
                });
            }
            while let Some(line) = rx.recv().await {
                println!("{line}");
            }
        }
        other => panic!("unknown child mode {other:?}"),
    }
}

fn spawn_child(dir: &Path, mode: &str) -> std::process::Child {
    Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", "child_process_role", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, dir)
        .env(CHILD_MODE, mode)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn child")
}

#[test]
fn another_process_holding_the_bus_locks_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut child = spawn_child(dir.path(), "hold");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let ready = lines.find_map(|l| l.ok().filter(|l| l.contains("bus-child-ready")));
    assert!(ready.is_some(), "child never opened the bus");
    let err = LocalBus::open(dir.path()).expect_err("must fail");
    assert!(matches!(err, BusError::Locked { .. }), "{err}");
    child.kill().expect("kill");
    child.wait().expect("wait");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let bus = LocalBus::open(dir.path()).expect("free once the holder is gone");
        assert_eq!(bus.head(), 0);
    });
}

#[test]
fn kill_9_loses_nothing_that_append_acknowledged() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut child = spawn_child(dir.path(), "append");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut acknowledged = Vec::new();
    for line in stdout.lines() {
        let line = line.expect("line");
        let Some((offset, id)) = line.split_once(' ') else {
            continue;
        };
        let Ok(offset) = offset.parse::<u64>() else { continue };
        acknowledged.push((offset, id.to_owned()));
        if acknowledged.len() == 2_000 {
            // SIGKILL while the writers are still appending.
            child.kill().expect("kill -9");
            break;
        }
    }
    child.wait().expect("wait");
    assert_eq!(acknowledged.len(), 2_000, "child stopped early");
    let rt = tokio::runtime::Runtime::new().expect("rt");
    rt.block_on(async {
        let bus = LocalBus::open(dir.path()).expect("reopen after kill -9");
        let head = bus.head();
        let stored = bus.read(0, head as usize).await.expect("read");
        assert_eq!(stored.len() as u64, head, "no holes below the head");
        for (i, rec) in stored.iter().enumerate() {
            assert_eq!(rec.offset, i as u64);
        }
        for (offset, id) in &acknowledged {
            let rec = stored
                .get(*offset as usize)
                .unwrap_or_else(|| panic!("acknowledged offset {offset} lost (head {head})"));
            assert_eq!(&rec.event.id, id, "offset {offset}");
        }
        // New appends continue after everything that survived.
        assert_eq!(bus.append(&event(0)).await.expect("append"), head);
    });
}
