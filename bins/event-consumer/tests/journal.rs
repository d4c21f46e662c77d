//! `event-consumer` pulling the I/O Events journal (no public endpoint): the
//! events reach the handler (here, forwarded to a loopback back office); after
//! a `kill -9` the next process resumes from the stored position and loses
//! nothing; a malformed page is logged with what is wrong and skipped over
//! never.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::test_util::{FakeJournal, JournalFault};
use commerce_kit_tests::Server;
use serde_json::json;

const EXE: &str = env!("CARGO_BIN_EXE_event-consumer");
const TOTAL: usize = 300;

async fn receive(State(ids): State<Arc<Mutex<Vec<String>>>>, body: String) -> StatusCode {
    let event = CloudEvent::from_json(body.as_bytes()).expect("a CloudEvent");
    tokio::time::sleep(Duration::from_millis(10)).await;
    ids.lock().expect("lock").push(event.id);
    StatusCode::OK
}

fn start(dir: &std::path::Path, journal: &FakeJournal, forward: &str) -> Server {
    let url = journal.journal_url();
    Server::start_in(
        EXE,
        &["--listen", "127.0.0.1:0"],
        &[
            ("IO_EVENTS_JOURNAL_URL", url.as_str()),
            ("IO_EVENTS_JOURNAL_LIMIT", "20"),
            ("IO_EVENTS_JOURNAL_IDLE_SECS", "1"),
            ("OAUTH_CLIENT_ID", "journal-client"),
            ("OAUTH_CLIENT_SECRET", "journal-s3cret-value"),
            ("OAUTH_ORG_ID", "ORG1@AdobeOrg"),
            ("IMS_BASE_URL", journal.base_url()),
            ("EVENTS_FORWARD_URL", forward),
            ("EVENTS_CONCURRENCY", "8"),
        ],
        dir,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_is_consumed_and_a_kill_9_resumes_from_the_stored_position() {
    let events = (0..TOTAL)
        .map(|i| {
            let event = json!({"specversion": "1.0", "id": format!("j-{i}"), "source": "urn:uuid:commerce",
                "type": "com.adobe.commerce.observer.catalog_product_delete_commit_after",
                "data": {"value": {"sku": format!("SKU-{}", i % 25)}}});
            (format!("pos-{i}"), event)
        })
        .collect();
    let journal = FakeJournal::start(
        events,
        20,
        Some("1"),
        ("journal-client", "journal-s3cret-value", "ORG1@AdobeOrg"),
    )
    .await
    .expect("fake journal");
    let ids: Arc<Mutex<Vec<String>>> = Arc::default();
    let app = Router::new().route("/events", post(receive)).with_state(ids.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let forward = format!("http://{}/events", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let dir = tempfile::tempdir().expect("dir");

    let mut server = start(dir.path(), &journal, &forward);
    server.wait_for("events are pulled from the I/O Events journal into the local bus");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ids.lock().expect("lock").len() < TOTAL / 3 {
        assert!(Instant::now() < deadline, "the journal was not consumed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let logs = server.kill9();
    assert!(!logs.contains("journal-s3cret-value"), "the secret reached the logs");
    let requests_before = journal.requests().len();

    // the next process meets a malformed page first, then the journal as it is
    journal.push_faults([JournalFault::Body("<html>maintenance</html>")]);
    let mut server = start(dir.path(), &journal, &forward);
    let refused = server.wait_for("journal puller: request failed");
    assert!(
        refused.contains("answered a page that is not what the Journaling API sends: expected value"),
        "{refused}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let seen: HashSet<String> = ids.lock().expect("lock").iter().cloned().collect();
        if seen.len() == TOTAL {
            break;
        }
        assert!(Instant::now() < deadline, "{} of {TOTAL} events handled", seen.len());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let scrape = reqwest::get(server.url("/metrics"))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    let value = |series: &str| {
        scrape
            .lines()
            .find(|l| l.starts_with(series))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{scrape}"))
    };
    assert_eq!(
        value("commerce_kit_journal_requests_total{outcome=\"failed\"}"),
        1.0,
        "the malformed page"
    );
    assert!(value("commerce_kit_journal_requests_total{outcome=\"events\"}") >= 1.0);
    assert!(value("commerce_kit_journal_events_total") >= 1.0);
    let (exit, logs) = server.terminate();
    assert_eq!(exit.code(), Some(0), "{logs}");

    let requests = journal.requests();
    let first_after = &requests[requests_before].0;
    assert!(
        first_after.starts_with("/journal?since=pos-"),
        "the second process resumed from the stored position, not the journal's start: {first_after}"
    );
    let again = &requests[requests_before + 1].0;
    assert_eq!(again, first_after, "after the malformed page, the same request again");
    let all = ids.lock().expect("lock").clone();
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), TOTAL, "nothing lost");
    // what the kill handed over again: at most the window (EVENTS_WINDOW, 10,000)
    assert!(all.len() - TOTAL <= 10_000, "{} redelivered", all.len() - TOTAL);
    println!(
        "journal: {TOTAL} events, {} redelivered after the kill",
        all.len() - TOTAL
    );
}
