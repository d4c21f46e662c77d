//! `commerce-kit serve` as a child process: listening line (at any log level),
//! the check-stock route, health, JSON 404/405, and a clean exit on SIGTERM.

use commerce_kit_tests::{Server, post_unsigned_then_signed, run_to_exit};
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_commerce-kit");

async fn call(method: reqwest::Method, url: String, body: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .request(method, url)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("request");
    (resp.status().as_u16(), resp.json().await.expect("JSON body"))
}

#[test]
fn serve_runs_check_stock_on_one_port_and_stops_on_sigterm() {
    let server = Server::start(EXE, &["serve", "--listen", "127.0.0.1:0"], &[]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        use reqwest::Method;
        let route = server.url("/webhook/check-stock");
        let ok = r#"{"data":{"cart_id":"42","items":[{"item_id":1,"sku":"24-MB01","qty":"2.0000"}]}}"#;
        assert_eq!(
            call(Method::POST, route.clone(), ok).await,
            (200, json!({"op": "success"}))
        );
        let short = r#"{"data":{"cart_id":"42","items":[{"sku":"24-WB02","qty":6},{"sku":"24-UG06","qty":1}]}}"#;
        assert_eq!(
            call(Method::POST, route.clone(), short).await,
            (
                200,
                json!({"op": "exception", "message":
                    "Not enough stock: 24-WB02 (requested 6, available 5), 24-UG06 (requested 1, available 0)"})
            )
        );
        assert_eq!(
            call(Method::POST, route.clone(), r#"{"data": }"#).await,
            (
                200,
                json!({"op": "exception", "message": "invalid JSON at line 1 column 10: expected value"})
            )
        );
        assert_eq!(
            call(Method::GET, server.url("/health"), "").await,
            (200, json!({"status": "ok"}))
        );
        assert_eq!(
            call(Method::PUT, route, "").await,
            (405, json!({"error": "method PUT not allowed on /webhook/check-stock"}))
        );
        assert_eq!(
            call(Method::POST, server.url("/webhook/unknown"), "{}").await,
            (404, json!({"error": "no route for POST /webhook/unknown"}))
        );
    });
    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    assert!(logs.contains("using the built-in demo inventory"), "{logs}");
    assert!(logs.contains("received SIGTERM") && logs.contains("stopped"), "{logs}");
}

#[test]
fn the_listening_line_is_printed_at_any_log_level() {
    // Server::start waits for the listening line, so it is the check.
    let server = Server::start(EXE, &["serve", "--listen", "127.0.0.1:0"], &[("LOG_LEVEL", "warn")]);
    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    // The level still applies to everything else: warnings only.
    assert!(logs.contains("using the built-in demo inventory"), "{logs}");
    assert!(!logs.contains("check-stock ready"), "{logs}");
    assert!(!logs.contains("received SIGTERM"), "{logs}");
}

#[test]
fn without_a_subcommand_it_prints_usage_and_exits_2() {
    let (status, _stdout, stderr) = run_to_exit(EXE, &[], &[]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("Usage: commerce-kit <COMMAND>"), "{stderr}");
    assert!(stderr.contains("serve"), "{stderr}");
}

#[test]
fn serve_reports_a_bad_setting_in_one_line() {
    let (status, _stdout, stderr) = run_to_exit(EXE, &["serve", "--stock-check-timeout-ms", "0"], &[]);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: invalid configuration: --stock-check-timeout-ms (STOCK_CHECK_TIMEOUT_MS): must be greater than 0"
    );
}

/// The README's I/O Events registration on `serve`: setting only the project's
/// client id (what the consumer needs) turns signature checks on for
/// `POST /events` and leaves ingestion on the local bus, instead of stopping
/// the server with "I/O Events publishing is partly configured".
#[tokio::test]
async fn serve_with_only_the_consumers_client_id_verifies_signed_deliveries() {
    use commerce_kit_events::test_util::FakeKeyHost;
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let server = Server::start(
        EXE,
        &["serve", "--listen", "127.0.0.1:0"],
        &[
            ("OAUTH_CLIENT_ID", "client-1"),
            ("IO_EVENTS_KEY_BASE_URL", keys.base_url()),
        ],
    );
    let body = serde_json::to_vec(&json!({"specversion": "1.0", "id": "s-1", "source": "urn:uuid:p",
        "type": "com.adobe.commerce.observer.catalog_product_delete_commit_after",
        "recipientclientid": "client-1", "data": {"value": {"sku": "24-MB01"}}}))
    .expect("json");
    let (unsigned, signed) = post_unsigned_then_signed(&server, &body).await;
    assert_eq!(unsigned.status(), 401);
    assert_eq!(signed.status(), 200);
    assert_eq!(
        signed.json::<Value>().await.expect("json")["response"]["success"],
        json!(true)
    );
    assert_eq!(keys.total_fetches(), 1);
    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    assert!(logs.contains("ingestion publishes to the local durable bus"), "{logs}");
    assert!(
        logs.lines()
            .any(|l| l.contains("events consumer ready") && l.contains("verify_signatures=true")),
        "{logs}"
    );
}
