//! `commerce-kit serve` under storage faults, over real HTTP: `/health` is
//! liveness and `/ready` readiness; a damaged journal is refused at start
//! with what to do; a full disk answers 503 and fails `/ready` with the
//! reason, loses nothing, and ingestion recovers on its own once space is
//! back.

use std::time::{Duration, Instant};

use commerce_kit_events::bus::{FILE_NAME, LocalBus};
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_model::testing::{SmallDisk, damage_value};
use commerce_kit_tests::{Server, run_to_exit};
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_commerce-kit");

fn product(i: usize, pad: usize) -> Value {
    json!({"data": {
        "uid": format!("full-{i}"),
        "event": "be-observer.catalog_product_update",
        "value": {"sku": format!("SKU-{i}"), "name": "n", "description": "d".repeat(pad), "price": i}
    }})
}

async fn get(client: &reqwest::Client, server: &Server, path: &str) -> (u16, Value) {
    let resp = client.get(server.url(path)).send().await.expect("GET");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("JSON body"))
}

#[tokio::test]
async fn health_is_liveness_and_ready_reports_the_journal() {
    let server = Server::start(EXE, &["serve", "--listen", "127.0.0.1:0"], &[]);
    let client = reqwest::Client::new();
    assert_eq!(get(&client, &server, "/health").await, (200, json!({"status": "ok"})));
    assert_eq!(
        get(&client, &server, "/ready").await,
        (
            200,
            json!({"status": "ready", "checks": {"journal": {
                "status": "ok", "head": 0, "write_errors": 0, "read_errors": 0
            }}})
        )
    );
}

#[tokio::test]
async fn a_damaged_journal_is_refused_at_start_saying_where_and_what_to_do() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    {
        let bus = LocalBus::open(&data).expect("open");
        for i in 0..3000 {
            let event = CloudEvent::new(
                format!("uid-{i}"),
                "urn:uuid:p",
                "be-observer.catalog_product_update",
                json!({"sku": format!("MARK-{i:06}")}),
            );
            bus.append(&event).await.expect("append");
        }
    }
    let file = data.join(FILE_NAME);
    damage_value(&file, b"MARK-001500");

    let data_dir = data.display().to_string();
    let (status, stdout, stderr) = run_to_exit(
        EXE,
        &["serve", "--listen", "127.0.0.1:0"],
        &[("DATA_DIR", data_dir.as_str())],
    );
    assert_eq!(status.code(), Some(2), "stdout:\n{stdout}\nstderr:\n{stderr}");
    let error = stderr
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line:\n{stderr}"));
    let path = file.display();
    assert!(
        error.starts_with(&format!(
            "error: local bus {path} is damaged: its integrity check failed ("
        )),
        "{error}"
    );
    for part in [
        "1500 events read back, then reading stops after offset 1499: the event at offset 1500 is not the JSON the bus wrote",
        "restore the file from a backup",
        &format!("`mv {path} {path}.damaged`"),
        "starting empty loses the events not yet delivered",
    ] {
        assert!(error.contains(part), "missing {part:?} in {error}");
    }
    assert!(!error.contains("invalid configuration"), "{error}");
    assert!(!stdout.contains("listening on"), "it must not serve: {stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_503_fails_ready_and_ingestion_recovers_once_space_is_back() {
    let disk = match SmallDisk::mount("64m") {
        Ok(disk) => disk,
        Err(reason) => {
            eprintln!("SKIPPED a_full_disk_answers_503…: needs to mount a tmpfs (run as root): {reason}");
            return;
        }
    };
    let filler = disk.fill("filler", 60 * 1024 * 1024);
    let data_dir = disk.path().join("data").display().to_string();
    let mut server = Server::start(
        EXE,
        &["serve", "--listen", "127.0.0.1:0"],
        &[("DATA_DIR", data_dir.as_str())],
    );
    let client = reqwest::Client::new();
    let post = |i: usize| {
        client
            .post(server.url("/ingestion/webhook"))
            .json(&product(i, 1500))
            .send()
    };

    // Accepted until the disk is full; then 503, and never a 200 for what was not stored.
    let mut accepted = 0;
    let refused = loop {
        let resp = post(accepted).await.expect("ingestion request");
        if resp.status() != 200 {
            break resp;
        }
        accepted += 1;
        assert!(accepted < 20_000, "the disk never filled up");
    };
    assert!(accepted > 50, "only {accepted} events fitted");
    assert_eq!(refused.status(), 503);
    let body: Value = refused.json().await.expect("JSON error");
    assert!(body.to_string().contains("could not be stored durably"), "{body}");
    // Refused at once while the disk stays full.
    let again = post(accepted).await.expect("ingestion request");
    assert_eq!(again.status(), 503);
    let body: Value = again.json().await.expect("JSON error");
    assert!(
        body.to_string()
            .contains("the journal is not writable for now; retry later"),
        "{body}"
    );

    let (status, ready) = get(&client, &server, "/ready").await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["status"], "not ready");
    let journal = &ready["checks"]["journal"];
    assert_eq!(journal["status"], "failing");
    let reason = journal["reason"].as_str().expect("reason");
    assert!(reason.starts_with("the journal cannot be written since "), "{reason}");
    assert!(reason.contains("No space left on device"), "{reason}");
    assert_eq!(journal["head"], accepted);
    assert_eq!(
        get(&client, &server, "/health").await,
        (200, json!({"status": "ok"})),
        "still alive"
    );

    // Space comes back: ready again without a restart or a request to ingestion.
    std::fs::remove_file(&filler).expect("free space");
    let deadline = Instant::now() + Duration::from_secs(12);
    loop {
        let (status, ready) = get(&client, &server, "/ready").await;
        if status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not ready 12 s after space came back: {ready}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let resp = post(accepted).await.expect("ingestion request");
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(status, 200, "accepted again: {text}\n{}", server.logs());
    accepted += 1;

    // Every accepted event reached the consumer, once, at the offset it was
    // stored at; nothing else did. (Each event is a product of its own, so
    // they are handled side by side and their log lines come in any order.)
    server.wait_for_nth("local bus event", accepted);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let logs = server.logs();
    let mut delivered: Vec<(usize, String)> = logs
        .lines()
        .filter(|l| l.contains("local bus event"))
        .map(|l| {
            let field = |name: &str| {
                l.split(' ')
                    .find_map(|f| f.strip_prefix(name))
                    .unwrap_or_default()
                    .to_owned()
            };
            (field("offset=").parse().unwrap_or(usize::MAX), field("event_id="))
        })
        .collect();
    delivered.sort();
    let expected: Vec<(usize, String)> = (0..accepted).map(|i| (i, format!("full-{i}"))).collect();
    assert_eq!(delivered, expected, "{logs}");
    // One error for the failed write, not one per refused request.
    assert_eq!(logs.matches("local bus commit failed").count(), 1, "{logs}");
    assert!(
        logs.contains("local bus: the journal is writable again; appends resume"),
        "{logs}"
    );
}
