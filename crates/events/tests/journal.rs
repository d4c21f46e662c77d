//! The Journaling API puller against a loopback fake of the API (and of IMS's
//! token endpoint): pages stored in the local bus and handled there, `Link`
//! following, 204 with `retry-after`, 429/500 then recovery, one
//! re-authentication on 401, malformed pages that never move the position,
//! and a restart from the stored position.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use commerce_kit_core::ims::{ImsCredentials, ImsTokenProvider};
use commerce_kit_core::state::MemoryStore;
use commerce_kit_events::bus::LocalBus;
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::consumer::Consumer;
use commerce_kit_events::handler::{EventContext, HandlerResult, handler_fn};
use commerce_kit_events::journal::{DEFAULT_CURSOR_NAME, JournalOptions, spawn_journal};
use commerce_kit_events::local::{DEFAULT_CONSUMER_NAME, LocalOptions, spawn_local};
use commerce_kit_events::test_util::{FakeJournal, JournalFault};
use serde_json::{Value, json};

const CLIENT_ID: &str = "journal-client";
const ORG: &str = "ORG1@AdobeOrg";

fn event(i: usize) -> Value {
    json!({"specversion": "1.0", "id": format!("ev-{i}"), "source": "urn:uuid:commerce",
        "type": "com.adobe.commerce.observer.catalog_product_delete_commit_after",
        "data": {"value": {"sku": format!("SKU-{i}")}}})
}

/// A fake journal of `n` events, `page_size` per page.
async fn start_fake(n: usize, page_size: usize, retry_after_on_end: Option<&'static str>) -> (FakeJournal, String) {
    let events = (0..n).map(|i| (format!("pos-{i}"), event(i))).collect();
    let fake = FakeJournal::start(events, page_size, retry_after_on_end, (CLIENT_ID, "s3cret", ORG))
        .await
        .expect("fake journal");
    let base = fake.base_url().to_owned();
    (fake, base)
}

fn ims(base: &str) -> Arc<ImsTokenProvider> {
    let credentials = ImsCredentials {
        client_id: CLIENT_ID.to_owned(),
        client_secret: "s3cret".into(),
        scopes: "adobeio_api".to_owned(),
    };
    Arc::new(ImsTokenProvider::new(
        reqwest::Client::new(),
        &reqwest::Url::parse(base).expect("url"),
        credentials,
    ))
}

fn options(base: &str) -> JournalOptions {
    let mut o = JournalOptions::new(reqwest::Url::parse(&format!("{base}/journal")).expect("url"));
    o.org_id = Some(ORG.to_owned());
    o.idle_wait = Duration::from_millis(100);
    o.min_backoff = Duration::from_millis(50);
    o.max_backoff = Duration::from_millis(200);
    o
}

type Handled = Arc<Mutex<Vec<String>>>;

fn consumer() -> (Consumer, Handled) {
    let handled: Handled = Arc::default();
    let h = handled.clone();
    let handler = handler_fn(move |e: CloudEvent, _ctx: EventContext| {
        let h = h.clone();
        async move {
            h.lock().expect("lock").push(e.id.clone());
            Ok(HandlerResult::success("ok"))
        }
    });
    let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
        .fallback(handler)
        .build()
        .expect("consumer");
    (consumer, handled)
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        if Instant::now() >= deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort_by_key(|id| id.trim_start_matches("ev-").parse::<usize>().unwrap_or(usize::MAX));
    v
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("ev-{i}")).collect()
}

#[tokio::test]
async fn pages_are_followed_stored_and_handled_and_a_restart_resumes_from_the_stored_position() {
    let (fake, base) = start_fake(10, 4, Some("1")).await;
    let dir = tempfile::tempdir().expect("dir");
    let (consumer, handled) = consumer();
    {
        let bus = LocalBus::open(dir.path()).expect("bus");
        let local = spawn_local(consumer.clone(), bus.clone(), LocalOptions::default());
        let puller = spawn_journal(reqwest::Client::new(), ims(&base), bus.clone(), options(&base));
        wait_until("10 events handled", || handled.lock().expect("lock").len() == 10).await;
        // the end of the journal: a 204 with retry-after: 1 → the next request waits a second
        wait_until("two requests past the end", || fake.requests().len() >= 5).await;
        puller.shutdown().await;
        local.shutdown().await;
        assert_eq!(
            bus.cursor(DEFAULT_CURSOR_NAME).await.expect("cursor").as_deref(),
            Some("pos-9")
        );
        assert_eq!(bus.head(), 10);
    }
    assert_eq!(sorted(&handled.lock().expect("lock")), ids(0..10));
    let requests = fake.requests();
    let paths: Vec<&str> = requests.iter().map(|(p, _)| p.as_str()).take(4).collect();
    assert_eq!(
        paths,
        vec![
            "/journal",
            "/journal/next?after=pos-3",
            "/journal/next?after=pos-7",
            "/journal/next?after=pos-9"
        ],
        "the first page from the start, then the Link rel=next of each page"
    );
    let gap = requests[4].1 - requests[3].1;
    assert!(
        gap >= Duration::from_millis(950),
        "retry-after: 1 was not honoured: {gap:?}"
    );
    assert_eq!(fake.problems(), Vec::<String>::new());
    assert_eq!(fake.tokens(), ["tok-1"], "one IMS token for the run");

    // a restart on the same bus (new process: new fake journal with more events) resumes at pos-9
    let (fake2, base2) = start_fake(14, 4, Some("1")).await;
    let bus = LocalBus::open(dir.path()).expect("bus");
    let local = spawn_local(consumer, bus.clone(), LocalOptions::default());
    let puller = spawn_journal(reqwest::Client::new(), ims(&base2), bus.clone(), options(&base2));
    wait_until("14 events handled", || handled.lock().expect("lock").len() == 14).await;
    puller.shutdown().await;
    local.shutdown().await;
    assert_eq!(
        fake2.requests()[0].0,
        "/journal?since=pos-9",
        "resumed from the stored position"
    );
    assert_eq!(
        sorted(&handled.lock().expect("lock")),
        ids(0..14),
        "nothing handled twice"
    );
}

#[tokio::test]
async fn throttling_errors_and_an_expired_token_are_recovered_from() {
    let (fake, base) = start_fake(6, 3, None).await;
    fake.push_faults([
        JournalFault::Status(429, Some("1")),
        JournalFault::Status(500, None),
        JournalFault::Status(503, None),
        JournalFault::Pass,
        JournalFault::Revoke,
    ]);
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("bus");
    let (consumer, handled) = consumer();
    let local = spawn_local(consumer, bus.clone(), LocalOptions::default());
    let puller = spawn_journal(reqwest::Client::new(), ims(&base), bus.clone(), options(&base));
    wait_until("every event", || handled.lock().expect("lock").len() == 6).await;
    puller.shutdown().await;
    local.shutdown().await;
    assert_eq!(
        fake.tokens(),
        ["tok-1", "revoked-elsewhere", "tok-3"],
        "one re-authentication"
    );
    let requests = fake.requests();
    assert!(
        requests[1].1 - requests[0].1 >= Duration::from_millis(950),
        "429's retry-after: 1"
    );
    let paths: Vec<&str> = requests.iter().map(|(p, _)| p.as_str()).take(6).collect();
    assert_eq!(
        paths,
        [
            "/journal",
            "/journal",
            "/journal",
            "/journal",
            "/journal/next?after=pos-2",
            "/journal/next?after=pos-2"
        ],
        "429, 500, 503 then the first page, each the same request; 401, then the same request with the new token"
    );
    assert_eq!(sorted(&handled.lock().expect("lock")), ids(0..6));
}

#[tokio::test]
async fn malformed_pages_are_refused_and_never_move_the_position() {
    let (fake, base) = start_fake(4, 2, None).await;
    fake.push_faults([
        JournalFault::Body("<html>maintenance</html>"),
        JournalFault::Body(r#"{"events":[{"position":"pos-0","event":{"id":"no-type"}}]}"#),
        JournalFault::Body(r#"{"events":[{"position":"","event":{}}]}"#),
        JournalFault::Body(r#"{"_page":{"last":"pos-3"}}"#),
    ]);
    let dir = tempfile::tempdir().expect("dir");
    let bus = LocalBus::open(dir.path()).expect("bus");
    let (consumer, handled) = consumer();
    let local = spawn_local(consumer, bus.clone(), LocalOptions::default());
    let puller = spawn_journal(reqwest::Client::new(), ims(&base), bus.clone(), options(&base));
    wait_until("every event handled", || handled.lock().expect("lock").len() == 4).await;
    puller.shutdown().await;
    local.shutdown().await;
    assert_eq!(
        sorted(&handled.lock().expect("lock")),
        ids(0..4),
        "the journal resumed where it was"
    );
    let requests: Vec<String> = fake.requests().into_iter().map(|(p, _)| p).collect();
    assert_eq!(
        requests[..5],
        ["/journal"; 5].map(str::to_owned),
        "the same request until a good page"
    );
    assert_eq!(
        bus.cursor(DEFAULT_CURSOR_NAME).await.expect("cursor").as_deref(),
        Some("pos-3")
    );
    assert_eq!(bus.acked(DEFAULT_CONSUMER_NAME).await.expect("acked"), 4);
}
