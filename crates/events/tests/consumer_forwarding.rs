//! The forwarding handler against a loopback fake back office that records
//! what it received; the logging handler's result.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use commerce_kit_core::http::ClientTimeouts;
use commerce_kit_core::secrecy::SecretString;
use commerce_kit_core::state::MemoryStore;
use commerce_kit_events::HandlerError;
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::consumer::Consumer;
use commerce_kit_events::handler::{EventContext, EventHandler};
use commerce_kit_events::handlers::{ForwardingHandler, ForwardingOptions, LoggingHandler};
use http::StatusCode;
use serde_json::{Value, json};

#[derive(Clone, Default)]
struct BackOffice {
    received: Arc<Mutex<Vec<(HeaderMap, Value)>>>,
}

/// Answers per the `x-answer` rule in the event's data: `status` and optional `body`, `delay_ms`.
async fn receive(
    State(bo): State<BackOffice>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let json: Value = serde_json::from_slice(&body).expect("the forwarded body is JSON");
    bo.received.lock().expect("lock").push((headers, json.clone()));
    let answer = &json["data"]["answer"];
    if let Some(ms) = answer["delay_ms"].as_u64() {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let status = StatusCode::from_u16(answer["status"].as_u64().unwrap_or(200) as u16).expect("status");
    let body = answer.get("body").cloned().unwrap_or(json!({"ok": true}));
    (status, axum::Json(body)).into_response()
}

async fn back_office() -> (String, BackOffice) {
    let bo = BackOffice::default();
    let app = axum::Router::new()
        .route("/erp/events", post(receive))
        .with_state(bo.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/erp/events"), bo)
}

fn forwarding(url: &str, token: Option<&str>, request_ms: u64) -> ForwardingHandler {
    let mut options = ForwardingOptions::new(format!("{url}?tenant=secret-tenant").parse().expect("url"));
    options.token = token.map(|t| SecretString::from(t.to_owned()));
    options.timeouts = ClientTimeouts {
        connect: Duration::from_secs(1),
        request: Duration::from_millis(request_ms),
    };
    ForwardingHandler::new(options).expect("client")
}

fn ev(id: &str, answer: Value) -> CloudEvent {
    let mut e = CloudEvent::new(
        id,
        "urn:uuid:commerce",
        "com.adobe.commerce.observer.catalog_product_delete_commit_after",
        json!({"value": {"sku": "24-MB01"}, "answer": answer}),
    );
    e.extensions.insert("eventid".into(), json!(format!("adobe-{id}")));
    e
}

#[tokio::test]
async fn the_event_is_posted_as_received_with_token_and_idempotency_key() {
    let (url, bo) = back_office().await;
    let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
        .fallback(Arc::new(forwarding(&url, Some("bo-token-123"), 2000)))
        .build()
        .expect("consumer");
    let event = ev("f1", json!({"status": 202}));
    let d = consumer
        .dispatch(event.clone(), EventContext::new(event.event_id().to_owned()))
        .await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(
        d.body,
        json!({"type": event.event_type, "response": {"success": true,
            "message": format!("event forwarded to {url}: 202")}})
    );
    let received = bo.received.lock().expect("lock");
    assert_eq!(received.len(), 1);
    let (headers, body) = &received[0];
    assert_eq!(body, &serde_json::to_value(&event).expect("json"));
    assert_eq!(headers["authorization"], "Bearer bo-token-123");
    assert_eq!(headers["idempotency-key"], "adobe-f1");
    assert_eq!(headers["content-type"], "application/cloudevents+json");
    assert_eq!(headers["x-event-type"], event.event_type.as_str());
}

#[tokio::test]
async fn upstream_statuses_are_mapped() {
    let (url, _bo) = back_office().await;
    let h = forwarding(&url, None, 300);
    let cases = [
        (
            json!({"status": 503, "body": {"error": "maintenance"}}),
            StatusCode::SERVICE_UNAVAILABLE,
            "forwarding target answered 503: maintenance".to_owned(),
        ),
        (
            json!({"status": 404, "body": {"message": "no such product"}}),
            StatusCode::NOT_FOUND,
            "forwarding target answered 404: no such product".to_owned(),
        ),
        (
            json!({"status": 429, "body": "slow down"}),
            StatusCode::TOO_MANY_REQUESTS,
            "forwarding target answered 429".to_owned(),
        ),
        (
            json!({"status": 302}),
            StatusCode::BAD_GATEWAY,
            "forwarding target answered 302".to_owned(),
        ),
        (
            json!({"status": 200, "delay_ms": 1000}),
            StatusCode::GATEWAY_TIMEOUT,
            format!("forwarding target {url} did not answer within 300 ms"),
        ),
    ];
    for (answer, status, message) in cases {
        let r = h.handle(ev("m", answer.clone()), EventContext::new("m")).await;
        assert_eq!(r, Err(HandlerError::new(status, message)), "{answer}");
    }
    // nothing listens: 502, and the message shows no query string (it may carry secrets)
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}/erp/events", l.local_addr().expect("addr"))
    };
    let r = forwarding(&dead, None, 500)
        .handle(ev("d", json!({})), EventContext::new("d"))
        .await;
    assert_eq!(
        r,
        Err(HandlerError::new(
            StatusCode::BAD_GATEWAY,
            format!("forwarding target {dead} could not be reached")
        ))
    );
}

#[tokio::test]
async fn the_logging_handler_succeeds() {
    let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
        .fallback(Arc::new(LoggingHandler))
        .build()
        .expect("consumer");
    let e = CloudEvent::new(
        "l1",
        "s",
        "be-observer.catalog_stock_update",
        json!([{"sku": "A", "quantity": 1}]),
    );
    let d = consumer.dispatch(e, EventContext::new("l1")).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(
        d.body,
        json!({"type": "be-observer.catalog_stock_update",
            "response": {"success": true, "message": "event 'be-observer.catalog_stock_update' logged"}})
    );
}
