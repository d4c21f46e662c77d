//! The example app over real HTTP: CloudEvents posted to `/events` as Adobe I/O
//! Events delivers them, against a loopback fake ERP that records what it got.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::put;
use serde_json::{Value, json};

type Received = Arc<Mutex<Vec<(String, Value)>>>;

async fn stock(
    State(received): State<Received>,
    Path(sku): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> StatusCode {
    received.lock().expect("lock").push((sku.clone(), body));
    match sku.as_str() {
        "BROKEN" => StatusCode::INTERNAL_SERVER_ERROR,
        "REFUSED" => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::NO_CONTENT,
    }
}

async fn spawn(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

fn stock_event(id: &str, data: Value) -> Value {
    json!({
        "specversion": "1.0",
        "id": id,
        "source": "urn:uuid:3b1b7d8c-5f2e-4b8a-9c1d-2e3f4a5b6c7d",
        "type": "be-observer.catalog_stock_update",
        "datacontenttype": "application/json",
        "time": "2026-11-22T10:00:00.000Z",
        "data": data
    })
}

async fn deliver(app: SocketAddr, event: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{app}/events"))
        .json(event)
        .send()
        .await
        .expect("request");
    (response.status().as_u16(), response.json().await.expect("JSON body"))
}

fn taken(received: &Received) -> Vec<(String, Value)> {
    std::mem::take(&mut *received.lock().expect("lock"))
}

#[tokio::test]
async fn stock_events_reach_the_erp_as_totals_and_failures_map_to_retry_or_drop() {
    let received = Received::default();
    let erp = spawn(
        Router::new()
            .route("/stock/{sku}", put(stock))
            .with_state(received.clone()),
    )
    .await;
    let app = spawn(example_custom_event_handler::app(&format!("http://{erp}")).expect("app")).await;

    let home = reqwest::get(format!("http://{app}/"))
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert_eq!(home, "my ERP integration");

    // The catalog's sample: two sources of one SKU, one of them out of stock.
    let sample = json!([
        {"sku": "sku-rojo-25", "source": "default", "quantity": 0, "outOfStock": true},
        {"sku": "sku-rojo-25", "source": "test", "quantity": 66, "outOfStock": false}
    ]);
    let event = stock_event("evt-1", sample);
    assert_eq!(
        deliver(app, &event).await,
        (
            200,
            json!({"type": "be-observer.catalog_stock_update", "response": {
                "success": true, "message": "stock of 1 SKU(s) sent to the ERP: sku-rojo-25"}})
        )
    );
    assert_eq!(
        taken(&received),
        vec![(
            "sku-rojo-25".to_owned(),
            json!({"sku": "sku-rojo-25", "quantity": 66.0, "in_stock": true})
        )]
    );

    // Adobe redelivers the same event: answered as handled, the ERP is not called again.
    assert_eq!(
        deliver(app, &event).await,
        (
            200,
            json!({"type": "be-observer.catalog_stock_update", "response": {
                "success": true, "message": "event 'evt-1' was already handled; not handled again"}})
        )
    );
    assert!(taken(&received).is_empty());

    // Data that is not a stock update: 400 (not retried) naming the field, nothing sent.
    let not_stock = [
        (
            stock_event("evt-2", json!({"sku": "A", "quantity": 1})),
            "invalid parameter 'data': invalid type: map, expected a sequence",
        ),
        (
            stock_event(
                "evt-3",
                json!([{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": "two"}]),
            ),
            "invalid parameter 'data[1].quantity': invalid type: string \"two\", expected f64",
        ),
        (
            stock_event("evt-4", json!([{"quantity": 1}])),
            "missing parameter(s) 'data[0].sku'",
        ),
    ];
    for (event, message) in not_stock {
        assert_eq!(deliver(app, &event).await, (400, json!({ "error": message })));
        assert!(taken(&received).is_empty());
    }

    // The ERP fails: 503, so Adobe delivers it again. It refuses the record: 400, dropped.
    let failures = [
        (
            "BROKEN",
            503,
            "ERP failed on the stock of BROKEN (HTTP 500 Internal Server Error)",
        ),
        (
            "REFUSED",
            400,
            "ERP refused the stock of REFUSED (HTTP 422 Unprocessable Entity)",
        ),
    ];
    for (sku, status, message) in failures {
        let event = stock_event(&format!("evt-{sku}"), json!([{"sku": sku, "quantity": 2}]));
        assert_eq!(deliver(app, &event).await, (status, json!({"error": message})));
        assert_eq!(taken(&received).len(), 1, "{sku}: the ERP was asked once");
    }

    // An event type nobody handles.
    let mut other = stock_event("evt-5", json!({}));
    other["type"] = json!("be-observer.catalog_product_create");
    assert_eq!(
        deliver(app, &other).await,
        (
            400,
            json!({"error": "no handler registered for route 'product-backoffice/created' \
                             (event type 'be-observer.catalog_product_create')"})
        )
    );
    assert!(taken(&received).is_empty());
}

#[tokio::test]
async fn an_unreachable_erp_is_retried_later() {
    // A port nothing listens on: bind, note it, close it.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = closed.local_addr().expect("addr");
    drop(closed);
    let app = spawn(example_custom_event_handler::app(&format!("http://{addr}")).expect("app")).await;
    let (status, body) = deliver(app, &stock_event("evt-9", json!([{"sku": "A", "quantity": 1}]))).await;
    assert_eq!(status, 503, "{body}");
    // `?` on the reqwest error: the URL it failed on, then the OS's reason
    assert!(
        body["error"]
            .as_str()
            .expect("error")
            .starts_with(&format!("could not connect to http://{addr}/stock/A: ")),
        "{body}"
    );
}
