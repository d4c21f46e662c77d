//! Hostile check-stock bodies over real HTTP on 127.0.0.1:0, served as the
//! binaries serve it (`direct_app`), with and without the express scanner:
//! invalid JSON hidden in fields the fast paths skip, huge SKUs, huge
//! quantities and huge checker messages, each with its exact answer.

mod common;

use std::net::SocketAddr;

use commerce_kit_webhook::error::MAX_MESSAGE_BYTES;
use commerce_kit_webhook::inventory::InventoryChecker;
use commerce_kit_webhook::{CHECK_STOCK_PATH, CheckStockService, MAX_SKU_BYTES, StockVerdict, checker_fn};
use serde_json::{Value, json};

async fn serve(service: CheckStockService) -> SocketAddr {
    common::serve(service, true).await
}

/// The demo inventory, served with the express scanner (as the binaries do) and without it.
async fn both_demo_servers() -> [SocketAddr; 2] {
    [
        serve(CheckStockService::new(InventoryChecker::demo())).await,
        serve(CheckStockService::new(InventoryChecker::demo()).with_express(false)).await,
    ]
}

async fn post(addr: SocketAddr, body: Vec<u8>) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("http://{addr}{CHECK_STOCK_PATH}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    (resp.status().as_u16(), resp.json().await.expect("JSON body"))
}

fn exception(message: &str) -> Value {
    json!({"op": "exception", "message": message})
}

fn shown(body: &[u8]) -> String {
    String::from_utf8_lossy(&body[..body.len().min(120)]).into_owned()
}

#[tokio::test]
async fn invalid_json_in_skipped_fields_is_invalid_json_on_every_path() {
    let mut deep = br#"{"data":{"cart_id":"42","items":[{"sku":"24-MB01","qty":1}]},"meta":"#.to_vec();
    deep.extend(b"[".repeat(100_000));
    deep.extend(b"]".repeat(100_000));
    deep.push(b'}');
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            br#"{"data":{"cart_id":"42","items":[{"sku":"24-MB01","qty":1}]},"meta":1e400}"#.to_vec(),
            "invalid JSON at line 1 column 73: number out of range",
        ),
        (
            b"{\"data\":{\"cart_id\":\"42\",\"items\":[{\"sku\":\"24-MB01\",\"qty\":1}]},\"meta\":\"\xff\"}".to_vec(),
            "invalid JSON at line 1 column 70: invalid unicode code point",
        ),
        (
            br#"{"data":{"cart_id":"42","items":[{"sku":"24-MB01","qty":1,"name":"\ud800"}]}}"#.to_vec(),
            "invalid JSON at line 1 column 73: unexpected end of hex escape",
        ),
        (deep, "invalid JSON at line 1 column 195: recursion limit exceeded"),
        // The same bodies with valid values where the invalid ones were: accepted.
        (
            br#"{"data":{"cart_id":"42","items":[{"sku":"24-MB01","qty":1}]},"meta":1e308}"#.to_vec(),
            "",
        ),
        (
            br#"{"data":{"cart_id":"42","items":[{"sku":"24-MB01","qty":1,"name":"\ud83d\ude80"}]}}"#.to_vec(),
            "",
        ),
    ];
    for addr in both_demo_servers().await {
        for (body, expected) in &cases {
            let want = if expected.is_empty() {
                json!({"op": "success"})
            } else {
                exception(expected)
            };
            assert_eq!(post(addr, body.clone()).await, (200, want), "{}", shown(body));
        }
    }
}

#[tokio::test]
async fn a_sku_longer_than_the_bound_is_refused_not_echoed() {
    assert_eq!(MAX_SKU_BYTES, 256);
    let cart = |sku: &str| {
        serde_json::to_vec(&json!({"data": {"cart_id": "42", "items": [
            {"sku": "24-MB01", "qty": 1}, {"sku": sku, "qty": 1}
        ]}}))
        .expect("serialize")
    };
    let at_bound = "S".repeat(256);
    for addr in both_demo_servers().await {
        let (status, answer) = post(addr, cart(&"S".repeat(200_000))).await;
        assert_eq!(
            (status, &answer),
            (
                200,
                &exception("invalid parameter 'data.items[1].sku': expected a string of at most 256 bytes")
            )
        );
        assert_eq!(
            post(addr, cart(&"é".repeat(129))).await,
            (
                200,
                exception("invalid parameter 'data.items[1].sku': expected a string of at most 256 bytes")
            )
        );
        assert_eq!(
            post(addr, cart(&at_bound)).await,
            (
                200,
                exception(&format!("Not enough stock: {at_bound} (requested 1, available 0)"))
            )
        );
    }
}

#[tokio::test]
async fn huge_quantities_are_printed_compactly_and_out_of_range_ones_refused() {
    let body = |items: Value| serde_json::to_vec(&json!({"data": {"cart_id": 1, "items": items}})).expect("serialize");
    for addr in both_demo_servers().await {
        assert_eq!(
            post(
                addr,
                body(json!([{"sku": "A", "qty": "1e308"}, {"sku": "A", "qty": "1e308"}, {"sku": "B", "qty": "1e308"}]))
            )
            .await,
            (
                200,
                exception(
                    "Not enough stock: A (requested more than 1.7976931348623157e308, available 0), \
                     B (requested 1e308, available 0)"
                )
            )
        );
        assert_eq!(
            post(
                addr,
                body(json!([{"sku": "24-MB01", "qty": 1e20}, {"sku": "C", "qty": "0.00000025"}]))
            )
            .await,
            (
                200,
                exception(
                    "Not enough stock: 24-MB01 (requested 1e20, available 100), C (requested 2.5e-7, available 0)"
                )
            )
        );
        for qty in [json!("1e400"), json!("-1e400"), json!("1e-400")] {
            assert_eq!(
                post(addr, body(json!([{"sku": "A", "qty": qty}]))).await,
                (
                    200,
                    exception("invalid parameter 'data.items[0].qty': expected a positive number")
                ),
                "qty {qty}"
            );
        }
        let raw = br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":1e400}]}}"#.to_vec();
        assert_eq!(
            post(addr, raw).await,
            (200, exception("invalid JSON at line 1 column 52: number out of range"))
        );
    }
}

#[tokio::test]
async fn long_messages_are_cut_with_an_ellipsis() {
    assert_eq!(MAX_MESSAGE_BYTES, 1024);
    // The inventory's message for 100 unknown SKUs: about 4 KB.
    let items: Vec<Value> = (0..100)
        .map(|n| json!({"sku": format!("UNKNOWN-{n:03}"), "qty": 1}))
        .collect();
    let body = serde_json::to_vec(&json!({"data": {"cart_id": 1, "items": items}})).expect("serialize");
    let full: String = (0..100)
        .map(|n| format!("UNKNOWN-{n:03} (requested 1, available 0)"))
        .collect::<Vec<_>>()
        .join(", ");
    let full = format!("Not enough stock: {full}");
    assert!(full.len() > 4000);
    let cut = format!("{}…", &full[..1021]);
    assert_eq!(cut.len(), 1024);
    for addr in both_demo_servers().await {
        assert_eq!(post(addr, body.clone()).await, (200, exception(&cut)));
    }

    // A checker's own message (a back office's, say), cut at a character boundary.
    let checker = checker_fn(|_request| async move { Ok(StockVerdict::unavailable("ü".repeat(100_000))) });
    let addr = serve(CheckStockService::new(checker)).await;
    let body = br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":1}]}}"#.to_vec();
    let (status, answer) = post(addr, body).await;
    assert_eq!((status, answer), (200, exception(&format!("{}…", "ü".repeat(510)))));

    // A message at the bound is answered whole.
    let exact = "x".repeat(1024);
    let answered = exact.clone();
    let checker = checker_fn(move |_request| {
        let message = answered.clone();
        async move { Ok(StockVerdict::unavailable(message)) }
    });
    let addr = serve(CheckStockService::new(checker)).await;
    let body = br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":1}]}}"#.to_vec();
    assert_eq!(post(addr, body).await, (200, exception(&exact)));
}
