//! Logs at debug level never contain request bodies, bearer tokens, signatures
//! or back-office credentials, and carry one line per request with the outcome.
//! (Its own test binary: it installs the global tracing subscriber.)

mod common;

use std::sync::Arc;

use commerce_kit_webhook::http_checker::HttpStockChecker;
use commerce_kit_webhook::inventory::InventoryChecker;
use commerce_kit_webhook::{CHECK_STOCK_PATH, CheckStockService};
use common::serve;

const BODY_MARKER: &str = "shopper-private-note-7Q";
const COMMERCE_TOKEN: &str = "ims-bearer-S3CRET";
const BACK_OFFICE_TOKEN: &str = "back-office-T0KEN";
const URL_SECRET: &str = "q-s3cret-in-url";

#[tokio::test]
async fn logs_carry_outcomes_but_never_bodies_or_secrets() {
    let captured = common::captured_logs("debug");

    let demo_checker = Arc::new(InventoryChecker::demo());
    let demo = serve(CheckStockService::new(demo_checker.clone()), false).await;
    let direct_demo = serve(CheckStockService::new(demo_checker), true).await;
    // A back office that does not exist: the checker error is logged with its URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let failing = Arc::new(
        HttpStockChecker::new(
            &format!("http://{closed}/stock?key={URL_SECRET}"),
            Some(BACK_OFFICE_TOKEN.to_owned().into()),
            commerce_kit_core::http::ClientTimeouts::default(),
        )
        .expect("checker"),
    );
    let broken = serve(CheckStockService::new(failing.clone()), false).await;
    let direct_broken = serve(CheckStockService::new(failing), true).await;

    let client = reqwest::Client::new();
    let ok = format!(r#"{{"data":{{"cart_id":1,"note":"{BODY_MARKER}","items":[{{"sku":"24-MB01","qty":1}}]}}}}"#);
    let invalid = format!(r#"{{"data":{{"cart_id":1,"note":"{BODY_MARKER}","items":5}}}}"#);
    let not_json = format!("{BODY_MARKER} is not JSON");
    let requests = [
        (demo, &ok, "log-test-1"),
        (demo, &invalid, "log-test-1"),
        (demo, &not_json, "log-test-1"),
        (broken, &ok, "log-test-1"),
        (direct_demo, &ok, "log-test-2"),
        (direct_demo, &invalid, "log-test-3"),
        (direct_broken, &ok, "log-test-4"),
    ];
    for (addr, body, request_id) in requests {
        let resp = client
            .post(format!("http://{addr}{CHECK_STOCK_PATH}"))
            .header("authorization", format!("Bearer {COMMERCE_TOKEN}"))
            .header("x-adobe-commerce-webhook-signature", "c2lnbmF0dXJlLXZhbHVl")
            .header("x-request-id", request_id)
            .header("x-adobe-commerce-request-id", "cm-77")
            .body(body.clone())
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 200);
    }

    let logs = captured.text();
    for secret in [
        BODY_MARKER,
        COMMERCE_TOKEN,
        BACK_OFFICE_TOKEN,
        URL_SECRET,
        "c2lnbmF0dXJlLXZhbHVl",
    ] {
        assert!(!logs.contains(secret), "logs leak {secret:?}:\n{logs}");
    }
    // What the logs do say: one line per request with the outcome, in the request span.
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("check-stock") && l.contains("outcome="))
        .collect();
    assert_eq!(lines.len(), 7, "{logs}");
    assert!(
        lines[0].contains("outcome=\"success\"") && lines[0].contains("items=1"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("id=log-test-1"), "{}", lines[0]);
    assert!(lines[0].contains("commerce_request_id=\"cm-77\""), "{}", lines[0]);
    assert!(lines[1].contains("reason=\"invalid_request\""), "{}", lines[1]);
    assert!(lines[2].contains("reason=\"invalid_json\""), "{}", lines[2]);
    assert!(lines[3].contains("reason=\"checker_error\""), "{}", lines[3]);
    // Served directly (no request span), the lines name the request id themselves.
    assert!(
        lines[4].contains("check-stock request_id=\"log-test-2\" outcome=\"success\"")
            && lines[4].contains("commerce_request_id=\"cm-77\"")
            && !lines[4].contains("request{"),
        "{}",
        lines[4]
    );
    assert!(
        lines[5].contains("request_id=\"log-test-3\" outcome=\"exception\" reason=\"invalid_request\""),
        "{}",
        lines[5]
    );
    assert!(
        lines[6].contains("request_id=\"log-test-4\" outcome=\"exception\" reason=\"checker_error\""),
        "{}",
        lines[6]
    );
    // ...and an asynchronous checker runs in a request span of its own.
    let checker_error = logs
        .lines()
        .find(|l| l.contains("stock checker failed") && l.contains("log-test-4"))
        .unwrap_or_else(|| panic!("no checker error line for log-test-4:\n{logs}"));
    assert!(
        checker_error.contains("request{id=log-test-4 method=POST path=/webhook/check-stock}"),
        "{checker_error}"
    );
    assert!(
        logs.contains(&format!("back office at http://{closed}/stock cannot be reached")),
        "{logs}"
    );
    // Headers appear at debug, redacted.
    assert!(logs.contains("authorization: <hidden>"), "{logs}");
    assert!(logs.contains("x-adobe-commerce-webhook-signature: <hidden>"), "{logs}");
}
