//! Handlers that fail with `?` and handlers of typed payloads, over real HTTP
//! on loopback: what `POST /events` answers for each kind of error (retried
//! 429/5xx or dropped 4xx), with the messages integrators and Adobe see.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::Path;
use commerce_kit_events::catalog::payload::ProductCreate;
use commerce_kit_events::{
    CloudEvent, Consumer, Delivery, DeliveryOptions, EventContext, HandlerError, HandlerResult, MemoryStore,
    handler_fn, router, typed_handler,
};
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

async fn spawn(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// An upstream answering `/status/{code}` with that code, and `/slow` after 2 s.
async fn upstream() -> SocketAddr {
    spawn(
        axum::Router::new()
            .route(
                "/status/{code}",
                axum::routing::get(|Path(code): Path<u16>| async move { StatusCode::from_u16(code).expect("status") }),
            )
            .route(
                "/slow",
                axum::routing::get(|| async {
                    tokio::time::sleep(Duration::from_secs(2)).await;
                    "late"
                }),
            ),
    )
    .await
}

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The delivered shape of a stock line (`data` of `be-observer.catalog_stock_update`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockLine {
    sku: String,
    quantity: f64,
    #[serde(default)]
    out_of_stock: bool,
}

/// A Commerce product delete (`data.value`).
#[derive(Debug, Deserialize)]
struct DeletedProduct {
    sku: String,
}

struct App {
    events: String,
    calls: Arc<AtomicUsize>,
}

/// The app: an upstream-calling handler per customer event, typed handlers for
/// products and stock, unsigned deliveries (explicitly).
async fn app() -> App {
    let calls = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    // customer updates GET `data.url` and require a 2xx
    let c = calls.clone();
    let call_upstream = handler_fn(move |e: CloudEvent, ctx: EventContext| {
        let (client, c) = (client.clone(), c.clone());
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            let url = ctx.payload(&e)["url"]
                .as_str()
                .ok_or_else(|| HandlerError::rejected("missing url"))?
                .to_owned();
            client.get(url).send().await?.error_for_status()?;
            Ok(HandlerResult::success("upstream agreed"))
        }
    });
    // customer deletes parse a JSON document carried as text
    let c = calls.clone();
    let parse_json = handler_fn(move |e: CloudEvent, _ctx: EventContext| {
        let c = c.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            let doc: Vec<u32> = serde_json::from_str(e.data["doc"].as_str().unwrap_or(""))?;
            Ok(HandlerResult::success(format!("{} ids", doc.len())))
        }
    });
    let c = calls.clone();
    let stock = typed_handler(move |lines: Vec<StockLine>, _e: CloudEvent, _ctx: EventContext| {
        c.fetch_add(1, Ordering::SeqCst);
        async move {
            let total: f64 = lines.iter().filter(|l| !l.out_of_stock).map(|l| l.quantity).sum();
            Ok(HandlerResult::success(format!("{} {total}", lines[0].sku)))
        }
    });
    let c = calls.clone();
    let created = typed_handler(move |p: ProductCreate, _e: CloudEvent, _ctx: EventContext| {
        c.fetch_add(1, Ordering::SeqCst);
        async move { Ok(HandlerResult::success(format!("product {} created", p.sku))) }
    });
    let c = calls.clone();
    let deleted = handler_fn(move |e: CloudEvent, ctx: EventContext| {
        let c = c.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            let product: DeletedProduct = ctx.payload_as(&e)?;
            Ok(HandlerResult::success(format!("product {} deleted", product.sku)))
        }
    });
    let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
        .on("customer-backoffice/updated", call_upstream)
        .on("be-observer.customer_delete", parse_json)
        .on("stock-backoffice/updated", stock)
        .on("product-backoffice/created", created)
        .on("product-commerce/deleted", deleted)
        .build()
        .expect("known keys");
    let addr = spawn(router(Delivery::new(consumer, DeliveryOptions::unsigned()))).await;
    App {
        events: format!("http://{addr}/events"),
        calls,
    }
}

fn event(id: &str, ty: &str, data: Value) -> Value {
    json!({"specversion": "1.0", "id": id, "source": "urn:uuid:s", "type": ty, "data": data})
}

async fn deliver(app: &App, event: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(&app.events)
        .json(event)
        .send()
        .await
        .expect("request");
    (response.status().as_u16(), response.json().await.expect("JSON body"))
}

#[tokio::test]
async fn upstream_failures_raised_with_question_mark_are_retried_or_dropped_by_kind() {
    let app = app().await;
    let up = upstream().await;
    let closed = closed_port();
    let cases = [
        // unreachable, answering 5xx or 429, too slow: retried
        (
            format!("http://127.0.0.1:{closed}/erp?token=s3cret"),
            503,
            format!("could not connect to http://127.0.0.1:{closed}/erp: "),
        ),
        (
            format!("http://{up}/status/500?token=s3cret"),
            502,
            format!("http://{up}/status/500 answered 500 Internal Server Error"),
        ),
        (
            format!("http://{up}/status/429?token=s3cret"),
            429,
            format!("http://{up}/status/429 answered 429 Too Many Requests"),
        ),
        (
            format!("http://user:pw@{up}/slow?token=s3cret"),
            503,
            format!("request to http://{up}/slow timed out"),
        ),
        // refused by the upstream: dropped
        (
            format!("http://{up}/status/404?token=s3cret"),
            400,
            format!("http://{up}/status/404 answered 404 Not Found"),
        ),
    ];
    for (i, (url, status, message)) in cases.iter().enumerate() {
        let e = event(&format!("u{i}"), "be-observer.customer_update", json!({"url": url}));
        let (got, body) = deliver(&app, &e).await;
        assert_eq!(got, *status, "{url}: {body}");
        let error = body["error"].as_str().expect("error");
        if status == &503 && i == 0 {
            // the OS's reason follows (e.g. "Connection refused (os error 111)")
            assert!(
                error.starts_with(message.as_str()) && error.len() > message.len(),
                "{error}"
            );
        } else {
            assert_eq!(body, json!({ "error": message }), "{url}");
        }
        assert!(
            !error.contains("s3cret") && !error.contains("pw@"),
            "a secret in {error}"
        );
    }
    // a retried error released the event: its redelivery runs the handler again
    let again = event(
        "u1",
        "be-observer.customer_update",
        json!({"url": format!("http://{up}/status/204")}),
    );
    assert_eq!(
        deliver(&app, &again).await,
        (
            200,
            json!({"type": "be-observer.customer_update", "response": {"success": true, "message": "upstream agreed"}})
        )
    );
    assert_eq!(app.calls.load(Ordering::SeqCst), 6);
}

#[tokio::test]
async fn a_json_error_raised_with_question_mark_is_dropped_with_400() {
    let app = app().await;
    let e = event("j1", "be-observer.customer_delete", json!({"doc": "{\"ids\": [1]}"}));
    assert_eq!(
        deliver(&app, &e).await,
        (
            400,
            json!({"error": "invalid JSON data: invalid type: map, expected a sequence at line 1 column 0"})
        )
    );
    let e = event("j2", "be-observer.customer_delete", json!({"doc": "[1, 2"}));
    assert_eq!(
        deliver(&app, &e).await,
        (
            400,
            json!({"error": "invalid JSON: EOF while parsing a list at line 1 column 5"})
        )
    );
    let e = event("j3", "be-observer.customer_delete", json!({"doc": "[1, 2]"}));
    assert_eq!(deliver(&app, &e).await.0, 200);
}

#[tokio::test]
async fn a_typed_payload_that_does_not_match_is_400_naming_the_field() {
    let app = app().await;
    let cases = [
        (
            event(
                "t1",
                "be-observer.catalog_stock_update",
                json!([{"sku": "A", "quantity": 2}, {"sku": "A", "quantity": "lots"}]),
            ),
            "invalid parameter 'data[1].quantity': invalid type: string \"lots\", expected f64",
        ),
        (
            event(
                "t2",
                "be-observer.catalog_stock_update",
                json!({"sku": "A", "quantity": 2}),
            ),
            "invalid parameter 'data': invalid type: map, expected a sequence",
        ),
        (
            event(
                "t3",
                "be-observer.catalog_product_create",
                json!({"sku": "A", "name": "Bag"}),
            ),
            "missing parameter(s) 'data.description'",
        ),
        (
            event(
                "t4",
                "com.adobe.commerce.acme.observer.catalog_product_delete_commit_after",
                json!({"key": "k", "value": {"sku": 24}}),
            ),
            "invalid parameter 'data.value.sku': invalid type: integer `24`, expected a string",
        ),
    ];
    for (e, message) in cases {
        assert_eq!(deliver(&app, &e).await, (400, json!({ "error": message })), "{e}");
    }
    // the typed adapters' closures were not called; a payload_as handler runs
    // until its `?` (one call)
    assert_eq!(app.calls.load(Ordering::SeqCst), 1);
    let ok = [
        (
            event(
                "t5",
                "be-observer.catalog_stock_update",
                json!([{"sku": "A", "quantity": 2}, {"sku": "A", "quantity": 5, "outOfStock": true}]),
            ),
            "A 2",
        ),
        (
            event(
                "t6",
                "be-observer.catalog_product_create",
                json!({"sku": "A", "name": "Bag", "description": "d"}),
            ),
            "product A created",
        ),
        (
            event(
                "t7",
                "com.adobe.commerce.observer.catalog_product_delete_commit_after",
                json!({"key": "k", "value": {"sku": "B"}}),
            ),
            "product B deleted",
        ),
    ];
    for (e, message) in ok {
        let (status, body) = deliver(&app, &e).await;
        assert_eq!((status, &body["response"]["message"]), (200, &json!(message)), "{body}");
    }
}
