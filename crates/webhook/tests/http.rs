//! The check-stock flow over real HTTP on 127.0.0.1:0, served as the binaries
//! serve it (`direct_app`), driven by reqwest; and `server::app(router(…))`,
//! the router form, answering the same.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use commerce_kit_core::body::DEFAULT_BODY_LIMIT;
use commerce_kit_core::server;
use commerce_kit_core::signature::{RsaSigner, TEST_PUBLIC_KEY_A};
use commerce_kit_webhook::error::{CHECKER_FAILED_MESSAGE, CHECKER_PANIC_MESSAGE, CHECKER_TIMEOUT_MESSAGE};
use commerce_kit_webhook::http_checker::{DEFAULT_UNAVAILABLE_MESSAGE, HttpStockChecker};
use commerce_kit_webhook::inventory::{Inventory, InventoryChecker};
use commerce_kit_webhook::signature::{CommerceSignatureVerifier, SIGNATURE_HEADER, sign_body};
use commerce_kit_webhook::{
    CHECK_STOCK_PATH, CheckStockRequest, CheckStockService, CheckerError, StockChecker, StockVerdict, checker_fn,
    direct_app, router,
};
use serde_json::{Value, json};

const CART: &str = r#"{"data":{"cart_id":"42","items":[{"item_id":7,"sku":"24-MB01","qty":"2.0000"},{"item_id":8,"sku":"24-WB02","qty":1}]}}"#;

/// Serves `service` like the binaries do; the server lives until the test ends.
async fn serve(service: CheckStockService) -> SocketAddr {
    serve_app(direct_app(service, Router::new())).await
}

/// Serves `routes` in the router form (`server::app`).
async fn serve_router(routes: Router) -> SocketAddr {
    serve_app(server::app(routes)).await
}

use common::serve_app;

fn demo() -> CheckStockService {
    CheckStockService::new(InventoryChecker::demo())
}

async fn post(addr: SocketAddr, body: impl Into<reqwest::Body>) -> (u16, Value) {
    post_with(addr, body, &[]).await
}

async fn post_with(addr: SocketAddr, body: impl Into<reqwest::Body>, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("http://{addr}{CHECK_STOCK_PATH}"))
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("application/json"));
    (status, resp.json().await.expect("JSON body"))
}

fn exception(message: &str) -> Value {
    json!({"op": "exception", "message": message})
}

#[tokio::test]
async fn available_cart_answers_success() {
    let addr = serve(demo()).await;
    assert_eq!(post(addr, CART).await, (200, json!({"op": "success"})));
    // An empty cart has nothing to check.
    let empty = r#"{"data":{"cart_id":1,"items":[]}}"#;
    assert_eq!(post(addr, empty).await, (200, json!({"op": "success"})));
}

#[tokio::test]
async fn short_stock_answers_an_exception_naming_every_short_sku() {
    let addr = serve(demo()).await;
    let body = r#"{"data":{"cart_id":1,"items":[
        {"sku":"24-WB02","qty":"4.0000"},{"sku":"24-UG06","qty":1},{"sku":"24-MB01","qty":1},
        {"sku":"NOPE","qty":2},{"sku":"24-WB02","qty":2}]}}"#;
    assert_eq!(
        post(addr, body).await,
        (
            200,
            exception(
                "Not enough stock: 24-WB02 (requested 6, available 5), 24-UG06 (requested 1, available 0), \
                 NOPE (requested 2, available 0)"
            )
        )
    );
}

#[tokio::test]
async fn every_bad_input_answers_200_with_the_exact_message() {
    let addr = serve(demo().with_body_limit(4096)).await;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"".to_vec(), "request body is empty"),
        (b"  \n".to_vec(), "request body is empty"),
        (
            br#"{"data": }"#.to_vec(),
            "invalid JSON at line 1 column 10: expected value",
        ),
        (
            b"{\"data\":".to_vec(),
            "invalid JSON at line 1 column 8: EOF while parsing a value",
        ),
        (b"[1,2]".to_vec(), "invalid request body: expected a JSON object"),
        (b"\"text\"".to_vec(), "invalid request body: expected a JSON object"),
        (b"null".to_vec(), "invalid request body: expected a JSON object"),
        (b"{}".to_vec(), "missing parameter(s) 'data.cart_id,data.items'"),
        (
            br#"{"data":{"cart_id":"","items":[]}}"#.to_vec(),
            "missing parameter(s) 'data.cart_id'",
        ),
        (
            br#"{"data":{"cart_id":1,"items":{}}}"#.to_vec(),
            "invalid parameter 'data.items': expected an array",
        ),
        (
            br#"{"data":{"cart_id":1,"items":[{"qty":1}]}}"#.to_vec(),
            "missing parameter(s) 'data.items[0].sku'",
        ),
        (
            br#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":1},{"sku":"B","qty":"0"}]}}"#.to_vec(),
            "invalid parameter 'data.items[1].qty': expected a positive number",
        ),
        (vec![b' '; 4097], "request body is larger than the limit of 4096 bytes"),
    ];
    for (body, expected) in cases {
        let shown = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        assert_eq!(post(addr, body).await, (200, exception(expected)), "body {shown:?}");
    }
}

#[tokio::test]
async fn default_body_limit_applies_and_the_server_keeps_serving() {
    let addr = serve(demo()).await;
    let mut big = br#"{"data":{"cart_id":1,"items":[]},"pad":""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', DEFAULT_BODY_LIMIT));
    big.extend(b"\"}");
    assert_eq!(
        post(addr, big).await,
        (200, exception("request body is larger than the limit of 262144 bytes"))
    );
    assert_eq!(post(addr, CART).await, (200, json!({"op": "success"})));
}

struct Failing;

#[commerce_kit_core::async_trait]
impl StockChecker for Failing {
    async fn check(&self, _: &CheckStockRequest) -> Result<StockVerdict, CheckerError> {
        Err(CheckerError::new("ERP connection pool exhausted at db-7.internal"))
    }
}

#[tokio::test]
async fn checker_error_answers_a_generic_exception_without_internals() {
    let addr = serve(CheckStockService::new(Arc::new(Failing))).await;
    let (status, body) = post(addr, CART).await;
    assert_eq!((status, &body), (200, &exception(CHECKER_FAILED_MESSAGE)));
    assert!(!body.to_string().contains("db-7"), "{body}");
}

#[tokio::test]
async fn checker_deadline_answers_a_timeout_exception_and_aborts_the_checker() {
    let finished = Arc::new(AtomicBool::new(false));
    let flag = finished.clone();
    let slow = checker_fn(move |_| {
        let flag = flag.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(800)).await;
            flag.store(true, Ordering::SeqCst);
            Ok(StockVerdict::Available)
        }
    });
    let addr = serve(CheckStockService::new(Arc::new(slow)).with_deadline(Duration::from_millis(100))).await;
    let started = Instant::now();
    assert_eq!(post(addr, CART).await, (200, exception(CHECKER_TIMEOUT_MESSAGE)));
    assert!(
        started.elapsed() < Duration::from_millis(800),
        "answered before the checker finished"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(!finished.load(Ordering::SeqCst), "the timed-out checker kept running");
}

#[tokio::test]
async fn checker_panic_answers_a_generic_exception_and_the_server_keeps_serving() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let fragile = checker_fn(move |request| {
        counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if request.items.iter().any(|i| i.sku == "BOOM") {
                panic!("index out of bounds in secret_module.rs");
            }
            Ok(StockVerdict::Available)
        }
    });
    let addr = serve(CheckStockService::new(Arc::new(fragile))).await;
    let boom = r#"{"data":{"cart_id":1,"items":[{"sku":"BOOM","qty":1}]}}"#;
    for _ in 0..3 {
        let (status, body) = post(addr, boom).await;
        assert_eq!((status, &body), (200, &exception(CHECKER_PANIC_MESSAGE)));
        assert!(!body.to_string().contains("secret_module"), "{body}");
        assert_eq!(post(addr, CART).await, (200, json!({"op": "success"})));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 6);
}

/// Answers inline through `check_now` (no task of its own) except for `LATER`,
/// which it leaves to `check`.
struct Immediate;

#[commerce_kit_core::async_trait]
impl StockChecker for Immediate {
    async fn check(&self, _: &CheckStockRequest) -> Result<StockVerdict, CheckerError> {
        Ok(StockVerdict::unavailable("answered by check"))
    }

    fn check_now(&self, request: &CheckStockRequest) -> Option<Result<StockVerdict, CheckerError>> {
        match request.items.first().map(|item| item.sku.as_str()) {
            Some("BOOM") => panic!("index out of bounds in secret_module.rs"),
            Some("FAIL") => Some(Err(CheckerError::new("ERP connection pool exhausted at db-7.internal"))),
            Some("LATER") => None,
            _ => Some(Ok(StockVerdict::Available)),
        }
    }
}

#[tokio::test]
async fn inline_answers_are_guarded_like_checks() {
    let addr = serve(CheckStockService::new(Arc::new(Immediate))).await;
    let cart = |sku: &str| format!(r#"{{"data":{{"cart_id":1,"items":[{{"sku":"{sku}","qty":1}}]}}}}"#);
    for _ in 0..2 {
        let (status, body) = post(addr, cart("BOOM")).await;
        assert_eq!((status, &body), (200, &exception(CHECKER_PANIC_MESSAGE)));
        assert!(!body.to_string().contains("secret_module"), "{body}");
        let (status, body) = post(addr, cart("FAIL")).await;
        assert_eq!((status, &body), (200, &exception(CHECKER_FAILED_MESSAGE)));
        assert!(!body.to_string().contains("db-7"), "{body}");
        assert_eq!(post(addr, cart("LATER")).await, (200, exception("answered by check")));
        assert_eq!(post(addr, cart("24-MB01")).await, (200, json!({"op": "success"})));
    }
}

#[tokio::test]
async fn new_takes_a_bare_checker_an_arc_or_a_box_and_each_answers_alike() {
    let arc_dyn: Arc<dyn StockChecker> = Arc::new(Immediate);
    let kept = CheckStockService::new(Arc::clone(&arc_dyn));
    // An Arc<dyn StockChecker> is held as it is, not wrapped in a second Arc.
    assert!(Arc::ptr_eq(kept.checker(), &arc_dyn));
    let boxed: Box<dyn StockChecker> = Box::new(Immediate);
    let services = [
        ("bare struct", CheckStockService::new(Immediate)),
        ("Arc<T>", CheckStockService::new(Arc::new(Immediate))),
        ("Arc<dyn StockChecker>", kept),
        ("Box<dyn StockChecker>", CheckStockService::new(boxed)),
        (
            "checker_fn",
            CheckStockService::new(checker_fn(|_| async { Ok(StockVerdict::Available) })),
        ),
    ];
    let cart = |sku: &str| format!(r#"{{"data":{{"cart_id":1,"items":[{{"sku":"{sku}","qty":1}}]}}}}"#);
    for (form, service) in services {
        let closure = form == "checker_fn";
        assert_eq!(
            service.checker().name(),
            if closure { "closure" } else { "custom" },
            "{form}"
        );
        let addr = serve(service).await;
        assert_eq!(
            post(addr, cart("24-MB01")).await,
            (200, json!({"op": "success"})),
            "{form}"
        );
        if closure {
            continue;
        }
        // `check_now` and `check` both reach the checker through the wrapper.
        assert_eq!(
            post(addr, cart("FAIL")).await,
            (200, exception(CHECKER_FAILED_MESSAGE)),
            "{form}"
        );
        assert_eq!(
            post(addr, cart("LATER")).await,
            (200, exception("answered by check")),
            "{form}"
        );
    }
}

#[tokio::test]
async fn without_the_express_scanner_every_answer_is_the_same() {
    let express = serve(demo().with_body_limit(1024)).await;
    let without = demo().with_body_limit(1024).with_express(false);
    assert!(!without.express() && demo().express());
    let without = serve(without).await;
    let bodies: Vec<String> = vec![
        CART.to_owned(),
        r#"{"data":{"cart_id":1,"items":[{"sku":"24-MB01","qty":1000}]}}"#.to_owned(),
        r#"{"data":{"cart_id":-1.5,"items":[{"sku":"24-MB\u0030\u0031","qty":1e0,"item_id":null}]}}"#.to_owned(),
        r#"{"data":{"cart_id":1,"items":[{"sku":"A","sku":"B","qty":1}]}}"#.to_owned(),
        r#"{"data":{"cart_id":"","items":[]}}"#.to_owned(),
        r#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":0}]}}"#.to_owned(),
        "{}".to_owned(),
        "{".to_owned(),
        String::new(),
        format!(r#"{{"data":{{"cart_id":1,"items":[],"pad":"{}"}}}}"#, "x".repeat(2048)),
    ];
    for body in bodies {
        let answer = post(express, body.clone()).await;
        assert_eq!(post(without, body.clone()).await, answer, "{body:.60}");
    }
    assert_eq!(post(without, CART).await, (200, json!({"op": "success"})));
}

#[tokio::test]
async fn signatures_are_required_when_a_key_is_configured() {
    let verifier = CommerceSignatureVerifier::from_pem(TEST_PUBLIC_KEY_A).expect("key");
    let addr = serve(demo().with_signature_verifier(verifier)).await;
    // Escaped slash: a re-serializing verifier would sign different bytes.
    let body = r#"{"data":{"cart_id":"a\/b","items":[{"sku":"24-MB01","qty":1}]}}"#;
    let good = sign_body(&RsaSigner::test_key_a(), body.as_bytes());
    assert_eq!(
        post_with(addr, body, &[(SIGNATURE_HEADER, &good)]).await,
        (200, json!({"op": "success"}))
    );

    let other_key = sign_body(&RsaSigner::test_key_b(), body.as_bytes());
    let invalid = json!({"error": "invalid x-adobe-commerce-webhook-signature: signature does not match"});
    assert_eq!(
        post_with(addr, body, &[(SIGNATURE_HEADER, &other_key)]).await,
        (401, invalid.clone())
    );
    // A valid signature of another body.
    let tampered = body.replace("\"qty\":1", "\"qty\":2");
    assert_eq!(
        post_with(addr, tampered, &[(SIGNATURE_HEADER, &good)]).await,
        (401, invalid)
    );
    assert_eq!(
        post_with(addr, body, &[(SIGNATURE_HEADER, "not base64!")]).await,
        (
            401,
            json!({"error": "invalid x-adobe-commerce-webhook-signature: signature is not valid base64"})
        )
    );
    let missing = json!({"error": "missing x-adobe-commerce-webhook-signature header"});
    assert_eq!(post(addr, body).await, (401, missing.clone()));
    // Checked before the body is even parsed: an unsigned bad body is still a 401.
    assert_eq!(post(addr, "{").await, (401, missing));
}

#[tokio::test]
async fn without_a_key_signatures_are_not_checked() {
    let addr = serve(demo()).await;
    assert_eq!(
        post_with(addr, CART, &[(SIGNATURE_HEADER, "garbage")]).await,
        (200, json!({"op": "success"}))
    );
}

#[tokio::test]
async fn wrapped_like_the_binaries_health_404_and_405_are_json() {
    let addr = serve(demo()).await;
    let client = reqwest::Client::new();
    let resp = client
        .get(format!("http://{addr}/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<Value>().await.expect("json"), json!({"status": "ok"}));
    let resp = client
        .get(format!("http://{addr}{CHECK_STOCK_PATH}"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 405);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"error": "method GET not allowed on /webhook/check-stock"})
    );
    let resp = client
        .post(format!("http://{addr}/webhook/nope"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 404);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        json!({"error": "no route for POST /webhook/nope"})
    );
}

// ---- the HTTP back-office checker against a loopback fake back office ----

#[derive(Debug, Clone)]
struct Received {
    path: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Value,
}

#[derive(Clone, Default)]
struct BackOffice {
    received: Arc<Mutex<Vec<Received>>>,
}

impl BackOffice {
    async fn start() -> (Self, SocketAddr) {
        let office = BackOffice::default();
        let app = Router::new()
            .route("/stock/{mode}", axum::routing::post(back_office))
            .with_state(office.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        (office, addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

async fn back_office(
    State(office): State<BackOffice>,
    axum::extract::Path(mode): axum::extract::Path<String>,
    headers: http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    office.received.lock().expect("lock").push(Received {
        path: format!("/stock/{mode}"),
        authorization: header("authorization"),
        content_type: header("content-type"),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
    });
    match mode.as_str() {
        "ok" => axum::Json(json!({"success": true, "message": "ok"})).into_response(),
        "short" => axum::Json(json!({"success": false, "message": "Only 1 left of 24-MB01"})).into_response(),
        "short-silent" => axum::Json(json!({"success": false})).into_response(),
        "no-success" => axum::Json(json!({"message": "hello"})).into_response(),
        "garbage" => "<html>oops</html>".into_response(),
        "down" => (http::StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response(),
        _ => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            axum::Json(json!({"success": true})).into_response()
        }
    }
}

fn http_checker(addr: SocketAddr, mode: &str) -> HttpStockChecker {
    let timeouts = commerce_kit_core::http::ClientTimeouts {
        connect: Duration::from_millis(500),
        request: Duration::from_millis(300),
    };
    HttpStockChecker::new(
        &format!("http://{addr}/stock/{mode}?api_key=hunter2"),
        Some("tok-123".to_owned().into()),
        timeouts,
    )
    .expect("checker")
}

#[tokio::test]
async fn back_office_checker_posts_the_validated_request_and_maps_the_answer() {
    let (office, office_addr) = BackOffice::start().await;
    let cases = [
        ("ok", json!({"op": "success"})),
        ("short", exception("Only 1 left of 24-MB01")),
        ("short-silent", exception(DEFAULT_UNAVAILABLE_MESSAGE)),
        ("no-success", exception(CHECKER_FAILED_MESSAGE)),
        ("garbage", exception(CHECKER_FAILED_MESSAGE)),
        ("down", exception(CHECKER_FAILED_MESSAGE)),
        ("slow", exception(CHECKER_FAILED_MESSAGE)),
    ];
    for (mode, expected) in &cases {
        let addr = serve(CheckStockService::new(Arc::new(http_checker(office_addr, mode)))).await;
        assert_eq!(post(addr, CART).await, (200, expected.clone()), "mode {mode}");
    }
    let received = office.received();
    assert_eq!(received.len(), cases.len());
    for (got, (mode, _)) in received.iter().zip(cases.iter()) {
        assert_eq!(got.path, format!("/stock/{mode}"));
        assert_eq!(got.authorization.as_deref(), Some("Bearer tok-123"));
        assert_eq!(got.content_type.as_deref(), Some("application/json"));
        assert_eq!(
            got.body,
            json!({"cart_id": "42", "items": [
                {"item_id": 7, "sku": "24-MB01", "qty": 2},
                {"item_id": 8, "sku": "24-WB02", "qty": 1}
            ]})
        );
    }
}

#[tokio::test]
async fn back_office_failures_are_explained_to_operators_without_secrets() {
    let (_office, office_addr) = BackOffice::start().await;
    let request: CheckStockRequest = serde_json::from_value(json!({"cart_id": 1, "items": []})).expect("request");
    let shown = format!("http://{office_addr}/stock");
    let cases = [
        ("down", format!("back office at {shown}/down answered HTTP 503")),
        (
            "garbage",
            format!(
                "back office at {shown}/garbage answered invalid JSON (invalid JSON at line 1 column 1: expected \
                 value); expected {{\"success\": true|false, \"message\": \"…\"}}"
            ),
        ),
        (
            "no-success",
            format!("back office at {shown}/no-success answered JSON without a boolean \"success\" field"),
        ),
        (
            "slow",
            format!("back office at {shown}/slow did not answer within 300 ms"),
        ),
    ];
    for (mode, expected) in cases {
        let err = http_checker(office_addr, mode)
            .check(&request)
            .await
            .expect_err("must fail");
        assert_eq!(err.to_string(), expected);
        assert!(!err.to_string().contains("hunter2") && !err.to_string().contains("tok-123"));
    }

    // Nothing listens on a freshly released port.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let err = http_checker(closed, "ok").check(&request).await.expect_err("refused");
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("back office at http://{closed}/stock/ok cannot be reached: ")),
        "{text}"
    );
    assert!(text.contains("refused"), "{text}");
}

#[tokio::test]
async fn mounted_next_to_an_integrators_own_routes() {
    let inventory = InventoryChecker::new(Inventory::from_pairs([("A", 1.0)]));
    let routes = Router::new()
        .route("/mine", axum::routing::get(|| async { "mine" }))
        .merge(router(CheckStockService::new(Arc::new(inventory))));
    let addr = serve_router(routes).await;
    let mine = reqwest::get(format!("http://{addr}/mine"))
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert_eq!(mine, "mine");
    let body = r#"{"data":{"cart_id":1,"items":[{"sku":"A","qty":2}]}}"#;
    assert_eq!(
        post(addr, body).await,
        (200, exception("Not enough stock: A (requested 2, available 1)"))
    );
}

#[tokio::test]
async fn direct_app_and_the_router_form_answer_the_same() {
    let direct = serve(demo().with_body_limit(1024)).await;
    let routed = serve_router(router(demo().with_body_limit(1024))).await;
    let client = reqwest::Client::new();
    let big = format!(r#"{{"data":{{"cart_id":1,"items":[],"pad":"{}"}}}}"#, "x".repeat(2048));
    let cases: Vec<(reqwest::Method, &str, String)> = vec![
        (reqwest::Method::POST, CHECK_STOCK_PATH, CART.to_owned()),
        (
            reqwest::Method::POST,
            CHECK_STOCK_PATH,
            r#"{"data":{"cart_id":1,"items":[{"sku":"24-MB01","qty":1000}]}}"#.to_owned(),
        ),
        (reqwest::Method::POST, CHECK_STOCK_PATH, "{}".to_owned()),
        (reqwest::Method::POST, CHECK_STOCK_PATH, "{".to_owned()),
        (reqwest::Method::POST, CHECK_STOCK_PATH, String::new()),
        (reqwest::Method::POST, CHECK_STOCK_PATH, big),
        (reqwest::Method::POST, "/webhook/check-stock?store=1", CART.to_owned()),
        (reqwest::Method::PUT, CHECK_STOCK_PATH, CART.to_owned()),
        (reqwest::Method::GET, CHECK_STOCK_PATH, String::new()),
        (reqwest::Method::POST, "/webhook/check-stock/", CART.to_owned()),
        (reqwest::Method::GET, "/health", String::new()),
    ];
    for (method, path, body) in cases {
        let mut answers = Vec::new();
        for addr in [direct, routed] {
            let resp = client
                .request(method.clone(), format!("http://{addr}{path}"))
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await
                .expect("request");
            assert!(resp.headers().contains_key("x-request-id"), "{method} {path}");
            let content_type = resp.headers().get("content-type").cloned();
            answers.push((resp.status(), content_type, resp.text().await.expect("body")));
        }
        assert_eq!(answers[0], answers[1], "{method} {path} {body:.40}");
    }
}

/// Commerce's default payload for `observer.checkout_cart_product_add_before`
/// (the observer's two arguments under `data`: the buy request and the
/// product; values are strings, as Commerce sends them), for `sku` and `qty`.
fn native_default(sku: &str, qty: &str) -> Value {
    json!({
        "subject": [],
        "eventName": "checkout_cart_product_add_before",
        "data": {
            "info": {"uenc": "aHR0cHM6Ly9zaG9w", "product": "31", "selected_configurable_option": "",
                     "related_product": "", "item": "31", "form_key": "k3Y", "qty": qty},
            "product": {"store_id": "1", "entity_id": "31", "attribute_set_id": "4", "type_id": "simple",
                        "sku": sku, "has_options": "0", "name": "Joust Duffle Bag",
                        "created_at": "2026-03-02 10:11:12", "quantity_and_stock_status": {"is_in_stock": true, "qty": 100}}
        }
    })
}

#[tokio::test]
async fn commerces_native_payload_is_one_item_to_check_with_or_without_the_data_wrapper() {
    let addr = serve(demo()).await;
    // The default payload (no `fields` on the hook).
    assert_eq!(
        post(addr, native_default("24-MB01", "2").to_string()).await,
        (200, json!({"op": "success"}))
    );
    assert_eq!(
        post(addr, native_default("24-WB02", "6.0000").to_string()).await,
        (200, exception("Not enough stock: 24-WB02 (requested 6, available 5)"))
    );
    // What a hook with fields `product.sku` ← `data.product.sku`, `info.qty` ← `data.info.qty` sends.
    let fields = json!({"product": {"sku": "24-UG06"}, "info": {"qty": 1}});
    assert_eq!(
        post(addr, fields.to_string()).await,
        (200, exception("Not enough stock: 24-UG06 (requested 1, available 0)"))
    );
    // The hook's name with its `observer.` prefix is the same hook.
    let mut prefixed = native_default("24-MB04", "1");
    prefixed["eventName"] = json!("observer.checkout_cart_product_add_before");
    assert_eq!(post(addr, prefixed.to_string()).await, (200, json!({"op": "success"})));
}

#[tokio::test]
async fn bad_native_payloads_answer_the_exact_message_naming_the_native_path() {
    let addr = serve(demo()).await;
    let without = |path: &[&str]| {
        let mut body = native_default("24-MB01", "1");
        let (last, parents) = path.split_last().expect("a path");
        let mut at = &mut body;
        for key in parents {
            at = &mut at[*key];
        }
        at.as_object_mut().expect("object").remove(*last);
        body
    };
    let with = |path: &[&str], value: Value| {
        let mut body = native_default("24-MB01", "1");
        let mut at = &mut body;
        for key in path {
            at = &mut at[*key];
        }
        *at = value;
        body
    };
    let cases: Vec<(Value, &str)> = vec![
        // A product but no buy request.
        (without(&["data", "info"]), "missing parameter(s) 'data.info.qty'"),
        (
            without(&["data", "info", "qty"]),
            "missing parameter(s) 'data.info.qty'",
        ),
        (
            with(&["data", "info", "qty"], json!("")),
            "missing parameter(s) 'data.info.qty'",
        ),
        (
            with(&["data", "info", "qty"], json!("0")),
            "invalid parameter 'data.info.qty': expected a positive number",
        ),
        (
            with(&["data", "info", "qty"], json!(-2)),
            "invalid parameter 'data.info.qty': expected a positive number",
        ),
        (
            with(&["data", "info", "qty"], json!("two")),
            "invalid parameter 'data.info.qty': expected a positive number",
        ),
        (
            with(&["data", "info", "qty"], json!("1e400")),
            "invalid parameter 'data.info.qty': expected a positive number",
        ),
        (
            with(&["data", "info"], json!(3)),
            "invalid parameter 'data.info': expected an object",
        ),
        (
            with(&["data", "product", "sku"], json!("")),
            "missing parameter(s) 'data.product.sku'",
        ),
        (without(&["data", "product"]), "missing parameter(s) 'data.product.sku'"),
        (
            with(&["data", "product", "sku"], json!(17)),
            "invalid parameter 'data.product.sku': expected a string",
        ),
        (
            with(&["data", "product", "sku"], json!("S".repeat(257))),
            "invalid parameter 'data.product.sku': expected a string of at most 256 bytes",
        ),
        (
            with(&["data", "product"], json!("24-MB01")),
            "invalid parameter 'data.product': expected an object",
        ),
        (
            json!({"data": {"product": {"name": "no sku"}, "info": {}}}),
            "missing parameter(s) 'data.product.sku,data.info.qty'",
        ),
        // Unwrapped (a hook's fields): the paths have no `data.` in front.
        (
            json!({"product": {"sku": "24-MB01"}}),
            "missing parameter(s) 'info.qty'",
        ),
        (
            json!({"product": {"sku": "24-MB01"}, "info": {"qty": 0}}),
            "invalid parameter 'info.qty': expected a positive number",
        ),
        // Another hook's payload.
        (
            with(&["eventName"], json!("sales_quote_item_set_product")),
            "invalid parameter 'eventName': expected \"checkout_cart_product_add_before\" (this endpoint checks stock before add-to-cart)",
        ),
        (
            with(&["eventName"], json!(7)),
            "invalid parameter 'eventName': expected \"checkout_cart_product_add_before\" (this endpoint checks stock before add-to-cart)",
        ),
        // Both shapes at once.
        (
            json!({"data": {"cart_id": 1, "items": [{"sku": "24-MB01", "qty": 1}], "product": {"sku": "24-MB01"}, "info": {"qty": 1}}}),
            "invalid request body: both the starter kit's shape (data.cart_id, data.items) and Commerce's native shape (product, info) are present; send one",
        ),
        (
            json!({"data": {"cart_id": 1, "items": []}, "info": 1}),
            "invalid request body: both the starter kit's shape (data.cart_id, data.items) and Commerce's native shape (product, info) are present; send one",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(
            post(addr, body.to_string()).await,
            (200, exception(expected)),
            "body {body}"
        );
    }
    // The server keeps serving the kit's shape.
    assert_eq!(post(addr, CART).await, (200, json!({"op": "success"})));
}
