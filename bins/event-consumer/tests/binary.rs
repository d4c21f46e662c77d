//! The `event-consumer` binary as a child process: start on port 0, answer a
//! challenge, handle a (signed) delivery, exit cleanly on SIGTERM; list dead letters.

use commerce_kit_events::test_util::FakeKeyHost;
use commerce_kit_tests::{Server, post_unsigned_then_signed, run_to_exit};
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_event-consumer");

fn event(id: &str, recipient: Option<&str>) -> Vec<u8> {
    let mut e = json!({"specversion": "1.0", "id": id, "source": "urn:uuid:p",
        "type": "com.adobe.commerce.observer.catalog_product_delete_commit_after",
        "data": {"value": {"sku": "24-MB01", "api_token": "tok-do-not-log"}}});
    if let Some(r) = recipient {
        e["recipientclientid"] = json!(r);
    }
    serde_json::to_vec(&e).expect("json")
}

#[tokio::test]
async fn starts_answers_a_challenge_handles_an_event_and_exits_on_sigterm() {
    let server = Server::start(EXE, &["--listen", "127.0.0.1:0"], &[]);
    let http = reqwest::Client::new();
    let challenge = http
        .get(server.url("/events?challenge=ab12"))
        .send()
        .await
        .expect("get");
    assert_eq!(challenge.status(), 200);
    assert_eq!(challenge.text().await.expect("text"), "ab12");
    let resp = http
        .post(server.url("/events"))
        .header("content-type", "application/json")
        .body(event("e-1", None))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"type": "com.adobe.commerce.observer.catalog_product_delete_commit_after",
            "response": {"success": true,
                "message": "event 'com.adobe.commerce.observer.catalog_product_delete_commit_after' logged"}})
    );
    let health = http.get(server.url("/health")).send().await.expect("health");
    assert_eq!(health.status(), 200);
    let (exit, all) = server.terminate();
    assert!(exit.success(), "{exit:?}");
    assert!(all.contains("events consumer ready on GET|POST /events"), "{all}");
    assert!(
        all.lines()
            .any(|l| l.contains("event received") && l.contains("request{id=")),
        "the handler's log line carries the request id: {all}"
    );
    assert!(all.contains("sku=24-MB01"), "{all}");
    assert!(
        !all.contains("tok-do-not-log"),
        "a payload value reached the logs: {all}"
    );
    assert!(all.contains("received SIGTERM"), "{all}");
}

#[tokio::test]
async fn with_a_client_id_deliveries_must_be_signed() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let server = Server::start(
        EXE,
        &[
            "--listen",
            "127.0.0.1:0",
            "--events-client-id",
            "client-1",
            "--io-events-key-base-url",
            keys.base_url(),
        ],
        &[],
    );
    let (unsigned, signed) = post_unsigned_then_signed(&server, &event("s-1", Some("client-1"))).await;
    assert_eq!(unsigned.status(), 401);
    assert_eq!(signed.status(), 200);
    assert_eq!(keys.total_fetches(), 1);
    let (exit, _) = server.terminate();
    assert!(exit.success());
}

#[test]
fn a_bad_setting_exits_2_with_one_line() {
    let (status, _, stderr) = run_to_exit(EXE, &["--listen", "127.0.0.1:0", "--events-dedupe-ttl-secs", "0"], &[]);
    assert_eq!(status.code(), Some(2));
    assert_eq!(
        stderr,
        "error: invalid configuration: --events-dedupe-ttl-secs (EVENTS_DEDUPE_TTL_SECS): must be greater than 0\n"
    );
}

#[tokio::test]
async fn dead_letters_are_listed_as_json_lines() {
    use commerce_kit_events::bus::LocalBus;
    use commerce_kit_events::cloudevent::CloudEvent;
    let data = tempfile::tempdir().expect("dir");
    {
        let bus = LocalBus::open(data.path()).expect("open");
        let e = CloudEvent::new("dl-1", "s", "be-observer.nope", json!({"sku": "A"}));
        bus.append(&e).await.expect("append");
        let record = bus.read(0, 1).await.expect("read").remove(0);
        bus.dead_letter("events-consumer", &record, "not retryable: {\"status\":400}")
            .await
            .expect("dead letter");
    }
    let (status, text, stderr) = run_to_exit(
        EXE,
        &["dead-letters", "--data-dir", data.path().to_str().expect("utf8")],
        &[],
    );
    assert!(status.success(), "{stderr}");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["offset"], 0);
    assert_eq!(lines[0]["reason"], "not retryable: {\"status\":400}");
    assert_eq!(lines[0]["event"]["id"], "dl-1");
    assert!(lines[0]["at"].as_str().is_some_and(|t| t.ends_with('Z')));
}
