//! The example app over real HTTP, against a loopback fake back office.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

type Asked = Arc<Mutex<Vec<String>>>;

async fn stock(State(asked): State<Asked>, Path(sku): Path<String>) -> Response {
    asked.lock().expect("lock").push(sku.clone());
    match sku.as_str() {
        "24-MB01" => axum::Json(json!({"sku": sku, "salable_qty": 3})).into_response(),
        "A/B 1" => axum::Json(json!({"sku": sku, "salable_qty": 1})).into_response(),
        "BROKEN" => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, "db down").into_response(),
        "GARBLED" => axum::Json(json!({"sku": sku, "qty": "lots"})).into_response(),
        _ => axum::http::StatusCode::NOT_FOUND.into_response(),
    }
}

async fn spawn(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn check(addr: SocketAddr, items: Value) -> Value {
    reqwest::Client::new()
        .post(format!("http://{addr}/webhook/check-stock"))
        .json(&json!({"data": {"cart_id": 1, "items": items}}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn custom_checker_asks_the_back_office_and_sits_next_to_the_apps_routes() {
    let asked = Asked::default();
    let office = spawn(
        Router::new()
            .route("/stock/{sku}", get(stock))
            .with_state(asked.clone()),
    )
    .await;
    let app = spawn(example_custom_stock_checker::app(&format!("http://{office}/")).expect("app")).await;

    let home = reqwest::get(format!("http://{app}/"))
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert_eq!(home, "my shop integration");

    assert_eq!(
        check(
            app,
            json!([{"sku": "24-MB01", "qty": "2.0000"}, {"sku": "A/B 1", "qty": 1}])
        )
        .await,
        json!({"op": "success"})
    );
    assert_eq!(
        check(
            app,
            json!([{"sku": "24-MB01", "qty": 2}, {"sku": "NOPE", "qty": 1}, {"sku": "24-MB01", "qty": 2}])
        )
        .await,
        json!({"op": "exception", "message": "Sorry, only 3 left of 24-MB01, only 0 left of NOPE"})
    );
    assert_eq!(
        check(app, json!([{"sku": "BROKEN", "qty": 1}])).await,
        json!({"op": "exception", "message": commerce_kit_webhook::error::CHECKER_FAILED_MESSAGE})
    );
    let mut seen = asked.lock().expect("lock").clone();
    seen.sort();
    assert_eq!(seen, vec!["24-MB01", "24-MB01", "A/B 1", "BROKEN", "NOPE"]);
}

#[tokio::test]
async fn the_checkers_failures_carry_their_detail_for_the_log() {
    use commerce_kit_webhook::{CartItem, CheckStockRequest, Quantity, StockChecker};
    use example_custom_stock_checker::BackOfficeStock;

    let office = spawn(
        Router::new()
            .route("/stock/{sku}", get(stock))
            .with_state(Asked::default()),
    )
    .await;
    let cart = |sku: &str| CheckStockRequest::new(1, vec![CartItem::new(sku, Quantity::new(1.0).expect("qty"))]);
    let checker = BackOfficeStock::new(&format!("http://{office}/?token=s3cret")).expect("checker");
    let err = checker.check(&cart("BROKEN")).await.expect_err("500");
    assert_eq!(
        err.to_string(),
        format!("HTTP request to http://{office}/stock/BROKEN answered 500 Internal Server Error")
    );
    let err = checker.check(&cart("GARBLED")).await.expect_err("no salable_qty");
    assert!(
        err.to_string().starts_with(&format!(
            "HTTP request to http://{office}/stock/GARBLED answered a body that could not be decoded: missing field `salable_qty`"
        )),
        "{err}"
    );
    // Nothing listens on a freshly released port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let err = BackOfficeStock::new(&format!("http://{closed}"))
        .expect("checker")
        .check(&cart("24-MB01"))
        .await
        .expect_err("refused");
    assert!(
        err.to_string().starts_with(&format!(
            "HTTP request to http://{closed}/stock/24-MB01 could not connect: "
        )),
        "{err}"
    );
    assert!(!err.to_string().contains("s3cret"), "{err}");
    let err = BackOfficeStock::new("mailto:erp@example.com").err().expect("no path");
    assert_eq!(err.to_string(), "bad back-office URL: it cannot have a path");
    let err = BackOfficeStock::new("not a url").err().expect("not a URL");
    assert_eq!(err.to_string(), "bad back-office URL: relative URL without a base");
}
