//! The `check-stock` binary as a child process: listening line, the route,
//! health, JSON 404/405, SIGHUP reload, signatures, config errors, logs, and a
//! clean exit on SIGTERM.

use commerce_kit_core::signature::{RsaSigner, TEST_PUBLIC_KEY_A};
use commerce_kit_tests::{Server, run_to_exit};
use commerce_kit_webhook::signature::{SIGNATURE_HEADER, sign_body};
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_check-stock");

fn post(server: &Server, body: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut req = reqwest::Client::new()
            .post(server.url("/webhook/check-stock"))
            .header("content-type", "application/json")
            .body(body.to_owned());
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let resp = req.send().await.expect("request");
        (resp.status().as_u16(), resp.json().await.expect("JSON body"))
    })
}

fn get(server: &Server, path: &str) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let resp = reqwest::get(server.url(path)).await.expect("request");
        (resp.status().as_u16(), resp.json().await.expect("JSON body"))
    })
}

fn cart(sku: &str, qty: u32) -> String {
    format!(r#"{{"data":{{"cart_id":"42","items":[{{"item_id":1,"sku":"{sku}","qty":"{qty}.0000"}}]}}}}"#)
}

#[test]
fn serves_the_route_health_and_json_errors_then_exits_cleanly_on_sigterm() {
    let server = Server::start(EXE, &["--listen", "127.0.0.1:0"], &[]);
    assert_eq!(post(&server, &cart("24-MB01", 2), &[]), (200, json!({"op": "success"})));
    assert_eq!(
        post(&server, &cart("24-UG06", 1), &[]),
        (
            200,
            json!({"op": "exception", "message": "Not enough stock: 24-UG06 (requested 1, available 0)"})
        )
    );
    assert_eq!(
        post(&server, "{}", &[]),
        (
            200,
            json!({"op": "exception", "message": "missing parameter(s) 'data.cart_id,data.items'"})
        )
    );
    assert_eq!(get(&server, "/health"), (200, json!({"status": "ok"})));
    assert_eq!(
        get(&server, "/webhook/check-stock"),
        (405, json!({"error": "method GET not allowed on /webhook/check-stock"}))
    );
    assert_eq!(get(&server, "/nope"), (404, json!({"error": "no route for GET /nope"})));

    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    assert!(logs.contains("using the built-in demo inventory"), "{logs}");
    assert!(logs.contains("received SIGTERM") && logs.contains("stopped"), "{logs}");
    // One line per call, naming its request id (the route is served without a span).
    let outcomes: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(" check-stock request_id=\""))
        .collect();
    assert_eq!(outcomes.len(), 3, "{logs}");
    assert!(outcomes.iter().all(|l| l.contains(" outcome=")), "{outcomes:#?}");
}

#[test]
fn sighup_reloads_the_inventory_and_a_bad_file_keeps_the_previous_one() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("inventory.json");
    std::fs::write(&file, r#"{"A": 2}"#).expect("write");
    let path = file.to_str().expect("utf-8 path");
    let mut server = Server::start(EXE, &["--listen", "127.0.0.1:0", "--inventory", path], &[]);
    let short = json!({"op": "exception", "message": "Not enough stock: A (requested 3, available 2)"});
    assert_eq!(post(&server, &cart("A", 3), &[]), (200, short));

    std::fs::write(&file, r#"{"A": 5, "B": 1}"#).expect("write");
    server.signal("HUP");
    let line = server.wait_for("SIGHUP:");
    assert!(
        line.contains(&format!("SIGHUP: inventory reloaded from {path}: 2 SKUs")),
        "{line}"
    );
    assert_eq!(post(&server, &cart("A", 3), &[]), (200, json!({"op": "success"})));

    std::fs::write(&file, r#"{"A": "lots"}"#).expect("write");
    server.signal("HUP");
    let line = server.wait_for("SIGHUP: reload failed");
    assert!(line.contains("ERROR"), "{line}");
    assert!(
        line.contains(&format!(
            r#"inventory file {path}: SKU "A": expected a number >= 0, found "lots"; keeping the previous inventory"#
        )),
        "{line}"
    );
    assert_eq!(post(&server, &cart("A", 5), &[]), (200, json!({"op": "success"})));

    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
}

/// A call signed with test key A is answered; an unsigned one is refused.
fn assert_signatures_required(server: &Server, body: &str) {
    let signature = sign_body(&RsaSigner::test_key_a(), body.as_bytes());
    assert_eq!(
        post(server, body, &[(SIGNATURE_HEADER, &signature)]),
        (200, json!({"op": "success"}))
    );
    assert_eq!(
        post(server, body, &[]),
        (
            401,
            json!({"error": "missing x-adobe-commerce-webhook-signature header"})
        )
    );
}

#[test]
fn a_configured_public_key_makes_signatures_mandatory() {
    let dir = tempfile::tempdir().expect("dir");
    let key = dir.path().join("commerce.pub.pem");
    std::fs::write(&key, TEST_PUBLIC_KEY_A).expect("write");
    let server = Server::start(
        EXE,
        &["--listen", "127.0.0.1:0"],
        &[("COMMERCE_WEBHOOK_PUBLIC_KEY_FILE", key.to_str().expect("path"))],
    );
    let body = cart("24-MB01", 1);
    assert_signatures_required(&server, &body);
    let forged = sign_body(&RsaSigner::test_key_b(), body.as_bytes());
    assert_eq!(
        post(&server, &body, &[(SIGNATURE_HEADER, &forged)]),
        (
            401,
            json!({"error": "invalid x-adobe-commerce-webhook-signature: signature does not match"})
        )
    );
    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0));
    assert!(logs.contains("signature_verification=true"), "{logs}");
    let rejected: Vec<&str> = logs.lines().filter(|l| l.contains("outcome=\"rejected\"")).collect();
    assert_eq!(rejected.len(), 2, "{logs}");
    assert!(rejected[0].contains(" WARN ") && rejected[0].contains("reason=\"signature_missing\""));
    assert!(rejected[1].contains(" WARN ") && rejected[1].contains("reason=\"signature_invalid\""));
}

#[test]
fn adobe_s_name_for_the_public_key_is_honoured_too() {
    // Adobe's documentation calls it COMMERCE_WEBHOOKS_PUBLIC_KEY; a configuration
    // copied from there must not leave the endpoint open.
    let server = Server::start(
        EXE,
        &["--listen", "127.0.0.1:0"],
        &[("COMMERCE_WEBHOOKS_PUBLIC_KEY", TEST_PUBLIC_KEY_A)],
    );
    let body = cart("24-MB01", 1);
    assert_signatures_required(&server, &body);
    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    assert!(logs.contains("signature_verification=true"), "{logs}");
    assert!(!logs.contains("signatures are NOT verified"), "{logs}");
}

#[test]
fn without_a_public_key_unsigned_calls_pass_and_startup_warns() {
    let server = Server::start(EXE, &["--listen", "127.0.0.1:0"], &[]);
    assert_eq!(post(&server, &cart("24-MB01", 1), &[]), (200, json!({"op": "success"})));
    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    let warning: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("check-stock signatures are NOT verified"))
        .collect();
    assert_eq!(warning.len(), 1, "{logs}");
    assert!(warning[0].contains(" WARN "), "{}", warning[0]);
    assert!(warning[0].contains("COMMERCE_WEBHOOK_PUBLIC_KEY"), "{}", warning[0]);
    assert!(logs.contains("signature_verification=false"), "{logs}");
}

#[test]
fn without_the_express_scanner_the_answers_are_the_same() {
    let bodies = [
        cart("24-MB01", 2),
        cart("24-UG06", 1),
        r#"{"data":{"cart_id":-1,"items":[{"sku":"24-MB\u0030\u0031","qty":2.5}]}}"#.to_owned(),
        r#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":0}]}}"#.to_owned(),
        "{}".to_owned(),
        "{".to_owned(),
    ];
    let express = Server::start(EXE, &["--listen", "127.0.0.1:0"], &[]);
    let without = Server::start(EXE, &["--listen", "127.0.0.1:0", "--no-express-scanner"], &[]);
    for body in &bodies {
        assert_eq!(post(&without, body, &[]), post(&express, body, &[]), "{body}");
    }
    assert_eq!(
        post(&without, &cart("24-MB01", 2), &[]),
        (200, json!({"op": "success"}))
    );
    let (status, logs) = without.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    assert!(
        logs.contains("without the express scanner (--no-express-scanner"),
        "{logs}"
    );
    let (status, logs) = express.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    assert!(!logs.contains("express scanner"), "{logs}");
    // A benchmarking switch: not offered in --help.
    let (status, help, _) = run_to_exit(EXE, &["--help"], &[]);
    assert!(status.success());
    assert!(!help.contains("express"), "{help}");
}

#[test]
fn a_stalled_body_gets_the_exception_op_after_the_read_timeout() {
    use std::io::{Read, Write};
    let server = Server::start(EXE, &["--listen", "127.0.0.1:0"], &[("READ_TIMEOUT_SECS", "1")]);
    let mut tcp = std::net::TcpStream::connect(server.addr).expect("connect");
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    tcp.write_all(
        b"POST /webhook/check-stock HTTP/1.1\r\nhost: x\r\ncontent-length: 80\r\nconnection: close\r\n\r\n{\"data\":",
    )
    .expect("write");
    let started = std::time::Instant::now();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).expect("answered before 5 s");
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(
        answer.ends_with(r#"{"op":"exception","message":"request body not received within 1 s"}"#),
        "{answer}"
    );
    // Others are served all along.
    assert_eq!(post(&server, &cart("24-MB01", 1), &[]), (200, json!({"op": "success"})));
    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    assert!(logs.contains(r#"reason="body_timeout""#), "{logs}");
}

#[test]
fn logs_never_contain_bodies_or_tokens_even_at_debug() {
    let server = Server::start(EXE, &["--listen", "127.0.0.1:0"], &[("LOG_LEVEL", "debug")]);
    let marker = "private-gift-message-XY";
    let body = format!(r#"{{"data":{{"cart_id":"42","gift":"{marker}","items":[{{"sku":"24-MB01","qty":1}}]}}}}"#);
    let auth = "Bearer ims-token-ABC123";
    assert_eq!(
        post(&server, &body, &[("authorization", auth)]),
        (200, json!({"op": "success"}))
    );
    assert_eq!(post(&server, &format!("{marker}{{"), &[("authorization", auth)]).0, 200);
    let (_, logs) = server.terminate();
    assert!(!logs.contains(marker), "{logs}");
    assert!(!logs.contains("ims-token-ABC123"), "{logs}");
    assert!(logs.contains("authorization: <hidden>"), "{logs}");
    assert!(logs.contains("outcome=\"success\""), "{logs}");
}

#[test]
fn invalid_settings_exit_2_with_one_line_naming_the_setting() {
    let dir = tempfile::tempdir().expect("dir");
    let missing = dir.path().join("nope.json");
    let missing = missing.to_str().expect("path");
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a str)>, String);
    let cases: Vec<Case> = vec![
        (
            vec!["--inventory", missing],
            vec![],
            format!(
                "error: invalid configuration: --inventory (INVENTORY_FILE): inventory file {missing}: cannot read it: \
                 No such file or directory (os error 2)"
            ),
        ),
        (
            vec![],
            vec![("COMMERCE_WEBHOOK_PUBLIC_KEY", "not a key")],
            "error: invalid configuration: --commerce-webhook-public-key (COMMERCE_WEBHOOK_PUBLIC_KEY): not an RSA \
             public key in PEM format (expected '-----BEGIN PUBLIC KEY-----'): "
                .to_owned(),
        ),
        (
            vec![],
            vec![("COMMERCE_WEBHOOKS_PUBLIC_KEY", "not a key")],
            "error: invalid configuration: --commerce-webhooks-public-key (COMMERCE_WEBHOOKS_PUBLIC_KEY): not an RSA \
             public key in PEM format (expected '-----BEGIN PUBLIC KEY-----'): "
                .to_owned(),
        ),
        (
            vec![],
            vec![
                ("COMMERCE_WEBHOOK_PUBLIC_KEY", TEST_PUBLIC_KEY_A),
                ("COMMERCE_WEBHOOKS_PUBLIC_KEY", TEST_PUBLIC_KEY_A),
            ],
            "error: invalid configuration: set either --commerce-webhook-public-key (COMMERCE_WEBHOOK_PUBLIC_KEY) or \
             --commerce-webhooks-public-key (COMMERCE_WEBHOOKS_PUBLIC_KEY), not both"
                .to_owned(),
        ),
        (
            vec!["--commerce-webhook-public-key-file", missing],
            vec![("COMMERCE_WEBHOOKS_PUBLIC_KEY", TEST_PUBLIC_KEY_A)],
            "error: invalid configuration: set either --commerce-webhooks-public-key (COMMERCE_WEBHOOKS_PUBLIC_KEY) or \
             --commerce-webhook-public-key-file (COMMERCE_WEBHOOK_PUBLIC_KEY_FILE), not both"
                .to_owned(),
        ),
        (
            vec!["--read-timeout-secs", "0"],
            vec![],
            "error: invalid configuration: --read-timeout-secs (READ_TIMEOUT_SECS): must be greater than 0".to_owned(),
        ),
        (
            vec!["--stock-check-timeout-ms", "0"],
            vec![],
            "error: invalid configuration: --stock-check-timeout-ms (STOCK_CHECK_TIMEOUT_MS): must be greater than 0"
                .to_owned(),
        ),
        (
            vec!["--inventory", missing, "--stock-checker-url", "http://127.0.0.1:1/stock"],
            vec![],
            "error: invalid configuration: set either --inventory (INVENTORY_FILE) or --stock-checker-url \
             (STOCK_CHECKER_URL), not both"
                .to_owned(),
        ),
        (
            vec!["--stock-checker-url", "ftp://erp/stock"],
            vec![],
            "error: invalid configuration: --stock-checker-url (STOCK_CHECKER_URL): invalid back-office URL: \
             expected http(s)://host/path, got scheme 'ftp'"
                .to_owned(),
        ),
        (
            vec![],
            vec![("STOCK_CHECKER_TOKEN", "t")],
            "error: invalid configuration: --stock-checker-token (STOCK_CHECKER_TOKEN): is set but \
             --stock-checker-url (STOCK_CHECKER_URL) is not"
                .to_owned(),
        ),
    ];
    for (args, env, expected) in cases {
        let mut all = vec!["--listen", "127.0.0.1:0"];
        all.extend(args);
        let (status, _stdout, stderr) = run_to_exit(EXE, &all, &env);
        assert_eq!(status.code(), Some(2), "{all:?}: {stderr}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(
            lines[0].starts_with(&expected),
            "{all:?}\n got: {}\nwant: {expected}",
            lines[0]
        );
    }
}
