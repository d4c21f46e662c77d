//! The `ingestion-webhook` binary as a child process: real flags and env,
//! the listening line, SIGTERM, restarts, and kill -9 losing nothing that was
//! acknowledged.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use commerce_kit_events::bus::LocalBus;
use commerce_kit_ingestion::testing::{FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeAdobe};
use commerce_kit_tests::{Server, run_to_exit};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_ingestion-webhook");
const EVENT: &str = "be-observer.catalog_product_create";

/// Starts the binary on a free port in `cwd` (kept by the test: restarts reuse its data).
fn start(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Server {
    let mut all = vec!["--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    Server::start_in(BIN, &all, env, cwd)
}

fn webhook(server: &Server) -> String {
    server.url("/ingestion/webhook")
}

fn product(uid: &str) -> Value {
    json!({"data": {"uid": uid, "event": EVENT, "value": {
        "sku": "PRODUCT_SKU", "name": "Product SKU", "price": 1, "description": "Product SKU description"
    }}})
}

fn success() -> Value {
    json!({"type": EVENT, "response": {"success": true, "message": "Event published successfully"}})
}

async fn post(client: &reqwest::Client, url: &str, body: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = client.post(url).json(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("json"))
}

async fn stored_ids(data_dir: &Path) -> Vec<String> {
    let bus = LocalBus::open(data_dir).expect("reopen the bus");
    let records = bus.read(0, usize::MAX).await.expect("read");
    for (i, r) in records.iter().enumerate() {
        assert_eq!(r.offset, i as u64, "offsets are contiguous");
    }
    assert_eq!(records.len() as u64, bus.head());
    records.into_iter().map(|r| r.event.id).collect()
}

#[tokio::test]
async fn serves_with_env_configuration_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = start(
        dir.path(),
        &[
            ("INGESTION_AUTH", "api-key"),
            ("INGESTION_API_KEYS", "bin-key-old,bin-key-new"),
        ],
        &[],
    );
    let client = reqwest::Client::new();
    let health = client.get(server.url("/health")).send().await.expect("health");
    assert_eq!(health.status(), 200);
    assert_eq!(
        post(
            &client,
            &webhook(&server),
            &product("b1"),
            &[("x-api-key", "bin-key-new")]
        )
        .await,
        (200, success())
    );
    assert_eq!(
        post(&client, &webhook(&server), &product("b2"), &[]).await,
        (
            401,
            json!({"error": "missing credentials: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'"})
        )
    );
    assert_eq!(
        post(
            &client,
            &webhook(&server),
            &json!({"data": {}}),
            &[("authorization", "Bearer bin-key-old")]
        )
        .await,
        (
            400,
            json!({"error": "missing parameter(s) 'data.uid,data.event,data.value'"})
        )
    );
    let (status, logs) = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(logs.contains("received SIGTERM") && logs.contains("stopped"), "{logs}");
    assert!(
        logs.contains("ingestion request handled") && logs.contains("outcome=\"stored\""),
        "{logs}"
    );
    assert!(
        !logs.contains("Product SKU description"),
        "bodies are never logged:\n{logs}"
    );
    assert!(!logs.contains("bin-key"), "keys are never logged:\n{logs}");
    // Default DATA_DIR is ./data under the working directory.
    assert_eq!(stored_ids(&dir.path().join("data")).await, ["b1"]);
}

#[tokio::test]
async fn hmac_rotation_logs_each_request_still_signed_with_the_previous_secret() {
    let dir = tempfile::tempdir().expect("tmp");
    let server = start(
        dir.path(),
        &[
            ("INGESTION_AUTH", "hmac"),
            ("INGESTION_HMAC_SECRET", "bin-hmac-new"),
            ("INGESTION_HMAC_PREVIOUS_SECRET", "bin-hmac-old"),
        ],
        &[],
    );
    let client = reqwest::Client::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let mut answers = Vec::new();
    for (uid, secret) in [
        ("h-new", "bin-hmac-new"),
        ("h-old", "bin-hmac-old"),
        ("h-bad", "bin-hmac-x"),
    ] {
        let body = serde_json::to_vec(&product(uid)).expect("json");
        let mut req = client
            .post(webhook(&server))
            .header("content-type", "application/json")
            .header("x-request-id", format!("req-{uid}"));
        for (name, value) in commerce_kit_ingestion::auth::sign_request(secret.as_bytes(), now, &body) {
            req = req.header(name, value);
        }
        answers.push(req.body(body).send().await.expect("send").status().as_u16());
    }
    assert_eq!(answers, [200, 200, 401]);
    let (status, logs) = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    let previous: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("request signed with the previous HMAC secret"))
        .collect();
    assert_eq!(previous.len(), 1, "{logs}");
    assert!(
        previous[0].contains(" INFO ") && previous[0].contains("req-h-old"),
        "{}",
        previous[0]
    );
    assert!(!logs.contains("bin-hmac"), "secrets are never logged:\n{logs}");
    assert_eq!(stored_ids(&dir.path().join("data")).await, ["h-new", "h-old"]);
}

#[tokio::test]
async fn events_survive_a_restart_in_order() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("bus");
    let data_arg = data.to_str().expect("utf8");
    let client = reqwest::Client::new();
    for batch in [["r1", "r2", "r3"].as_slice(), ["r4", "r5"].as_slice()] {
        let server = start(dir.path(), &[], &["--data-dir", data_arg]);
        for uid in batch {
            assert_eq!(
                post(&client, &webhook(&server), &product(uid), &[]).await,
                (200, success())
            );
        }
        assert!(server.terminate().0.success());
    }
    assert_eq!(stored_ids(&data).await, ["r1", "r2", "r3", "r4", "r5"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_loses_nothing_that_was_acknowledged() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("bus");
    let server = start(dir.path(), &[("DATA_DIR", data.to_str().expect("utf8"))], &[]);
    let url = webhook(&server);
    let acked: Arc<Mutex<Vec<Vec<String>>>> = Arc::new(Mutex::new(vec![Vec::new(); 8]));
    let mut writers = Vec::new();
    for w in 0..8usize {
        let (url, acked) = (url.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            for i in 0.. {
                let uid = format!("w{w}-{i}");
                match client.post(&url).json(&product(&uid)).send().await {
                    Ok(resp) if resp.status() == 200 => acked.lock().expect("acked")[w].push(uid),
                    // The server died mid-request: not acknowledged, the back office would retry.
                    _ => return,
                }
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while acked.lock().expect("acked").iter().map(Vec::len).sum::<usize>() < 400 {
        assert!(Instant::now() < deadline, "too slow");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill9(); // SIGKILL, writers still posting
    for w in writers {
        w.await.expect("writer");
    }
    let stored = stored_ids(&data).await;
    let position: std::collections::HashMap<&str, usize> =
        stored.iter().enumerate().map(|(i, id)| (id.as_str(), i)).collect();
    let acked = acked.lock().expect("acked").clone();
    let total: usize = acked.iter().map(Vec::len).sum();
    assert!(total >= 400);
    for writer in &acked {
        let mut last = None;
        for uid in writer {
            let at = *position
                .get(uid.as_str())
                .unwrap_or_else(|| panic!("acknowledged event {uid} was lost"));
            assert!(last < Some(at), "{uid} stored out of order");
            last = Some(at);
        }
    }
}

#[test]
fn configuration_errors_exit_2_with_one_line() {
    let (status, _, stderr) = run_to_exit(BIN, &[], &[("INGESTION_AUTH", "hmac")]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(
        stderr,
        "error: invalid configuration: --ingestion-hmac-secret (INGESTION_HMAC_SECRET): required when INGESTION_AUTH=hmac\n"
    );
    let (status, _, stderr) = run_to_exit(
        BIN,
        &[],
        &[("OAUTH_CLIENT_ID", "abc"), ("OAUTH_CLIENT_SECRET", "very-secret")],
    );
    assert_eq!(status.code(), Some(2));
    assert_eq!(
        stderr,
        "error: invalid configuration: Adobe I/O Events publishing is partly configured: missing IO_EVENTS_PROVIDER_ID \
         (--io-events-provider-id); set OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET and IO_EVENTS_PROVIDER_ID to publish to \
         I/O Events, or leave OAUTH_CLIENT_SECRET and IO_EVENTS_PROVIDER_ID unset to use the local bus\n"
    );
}

#[tokio::test]
async fn publishes_to_io_events_when_configured() {
    let fake = FakeAdobe::start().await.expect("fake");
    let url = fake.url().to_string();
    let dir = tempfile::tempdir().expect("tmp");
    let server = start(
        dir.path(),
        &[
            ("OAUTH_CLIENT_ID", FAKE_CLIENT_ID),
            ("OAUTH_CLIENT_SECRET", FAKE_CLIENT_SECRET),
            ("IO_EVENTS_PROVIDER_ID", "3b1b7d8c-5f2e-4b8a-9c1d-2e3f4a5b6c7d"),
            ("IMS_BASE_URL", &url),
            ("IO_EVENTS_INGRESS_URL", &url),
        ],
        &[],
    );
    let client = reqwest::Client::new();
    for uid in ["io-1", "io-2"] {
        assert_eq!(
            post(&client, &webhook(&server), &product(uid), &[]).await,
            (200, success())
        );
    }
    assert_eq!(fake.token_request_count(), 1);
    assert_eq!(fake.ingress_request_count(), 2);
    let (status, logs) = server.terminate();
    assert!(status.success(), "exit status {status:?}");
    assert!(logs.contains("ingestion publishes to Adobe I/O Events"), "{logs}");
    assert!(
        !logs.contains(FAKE_CLIENT_SECRET) && !logs.contains("fake-ims-token"),
        "{logs}"
    );
    assert!(!dir.path().join("data").exists(), "no local bus for I/O Events");
}
