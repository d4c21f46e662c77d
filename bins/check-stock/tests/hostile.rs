//! The `check-stock` binary as a child process, sent hostile bodies over a
//! real socket: invalid JSON hidden in fields the fast paths skip, a 200 KB
//! SKU, quantities near and past f64's range, a SKU forging a log line. Each
//! gets its exact answer, and the log stays one line per record.

use commerce_kit_tests::Server;
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_check-stock");

fn post_all(server: &Server, bodies: &[Vec<u8>]) -> Vec<(u16, Value)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut answers = Vec::new();
        for body in bodies {
            let resp = client
                .post(server.url("/webhook/check-stock"))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .expect("request");
            answers.push((resp.status().as_u16(), resp.json().await.expect("JSON body")));
        }
        answers
    })
}

fn exception(message: &str) -> (u16, Value) {
    (200, json!({"op": "exception", "message": message}))
}

#[test]
fn hostile_bodies_get_exact_answers_and_cannot_forge_log_lines() {
    let mut server = Server::start(EXE, &["--listen", "127.0.0.1:0"], &[]);
    let mut deep = br#"{"data":{"cart_id":"42","items":[{"sku":"24-MB01","qty":1}]},"meta":"#.to_vec();
    deep.extend(b"[".repeat(100_000));
    deep.extend(b"]".repeat(100_000));
    deep.push(b'}');
    let json = |v: Value| serde_json::to_vec(&v).expect("serialize");
    let forged_sku = "S\n2026-12-01T00:00:00.000000Z ERROR FORGED";
    let cases: Vec<(Vec<u8>, (u16, Value))> = vec![
        (
            br#"{"data":{"cart_id":"42","items":[{"sku":"24-MB01","qty":1}]},"meta":1e400}"#.to_vec(),
            exception("invalid JSON at line 1 column 73: number out of range"),
        ),
        (
            b"{\"data\":{\"cart_id\":\"42\",\"items\":[{\"sku\":\"24-MB01\",\"qty\":1}]},\"meta\":\"\xff\"}".to_vec(),
            exception("invalid JSON at line 1 column 70: invalid unicode code point"),
        ),
        (
            br#"{"data":{"cart_id":"42","items":[{"sku":"24-MB01","qty":1,"name":"\ud800"}]}}"#.to_vec(),
            exception("invalid JSON at line 1 column 73: unexpected end of hex escape"),
        ),
        (
            deep,
            exception("invalid JSON at line 1 column 195: recursion limit exceeded"),
        ),
        (
            json(json!({"data": {"cart_id": "42", "items": [{"sku": "S".repeat(200_000), "qty": 1}]}})),
            exception("invalid parameter 'data.items[0].sku': expected a string of at most 256 bytes"),
        ),
        (
            json(json!({"data": {"cart_id": "42", "items": [
                {"sku": "A", "qty": "1e308"}, {"sku": "A", "qty": "1e308"}, {"sku": "B", "qty": "1e308"}
            ]}})),
            exception(
                "Not enough stock: A (requested more than 1.7976931348623157e308, available 0), \
                 B (requested 1e308, available 0)",
            ),
        ),
        (
            json(json!({"data": {"cart_id": "42", "items": [{"sku": "A", "qty": "1e400"}]}})),
            exception("invalid parameter 'data.items[0].qty': expected a positive number"),
        ),
        (
            json(json!({"data": {"cart_id": "42", "items": [{"sku": forged_sku, "qty": 1}]}})),
            exception(&format!("Not enough stock: {forged_sku} (requested 1, available 0)")),
        ),
    ];
    let bodies: Vec<Vec<u8>> = cases.iter().map(|(body, _)| body.clone()).collect();
    let answers = post_all(&server, &bodies);
    for ((body, want), got) in cases.iter().zip(&answers) {
        let shown = String::from_utf8_lossy(&body[..body.len().min(100)]).into_owned();
        assert_eq!(got, want, "{shown}");
    }
    server.wait_for("detail=Not enough stock: S\\n2026-12-01T00:00:00.000000Z ERROR FORGED (requested 1, available 0)");
    let (status, logs) = server.terminate();
    assert_eq!(status.code(), Some(0), "{logs}");
    assert!(!logs.lines().any(|line| line.starts_with("2026-12-01T")), "{logs}");
    // The 200 KB SKU is neither answered nor logged.
    assert!(logs.len() < 20_000, "{} bytes of logs", logs.len());
}
