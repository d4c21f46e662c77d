//! CommerceHandler behind the consumer: back-office events reach the
//! CommerceApi as the right calls; Commerce's answers decide retry or drop.

use std::sync::Arc;
use std::time::Duration;

use commerce_kit_events::{CloudEvent, Consumer, EventContext, EventHandler, MemoryStore};
use commerce_kit_sync::testing::RecordingCommerce;
use commerce_kit_sync::{BackOfficeEvent, CommerceCallError, CommerceHandler};
use http::{Method, StatusCode};
use serde_json::{Value, json};

fn consumer(commerce: Arc<RecordingCommerce>) -> Consumer {
    let handler = CommerceHandler::shared(commerce);
    let mut builder = Consumer::builder(Arc::new(MemoryStore::new()));
    for route in CommerceHandler::routes() {
        builder = builder.on(route, handler.clone());
    }
    builder.build().expect("every route is a known key")
}

fn event(id: &str, event_type: &str, data: Value) -> CloudEvent {
    CloudEvent::new(id, "urn:erp", event_type, data)
}

#[tokio::test]
async fn the_consumer_routes_each_backoffice_event_to_its_call() {
    let commerce = Arc::new(RecordingCommerce::new());
    let consumer = consumer(commerce.clone());
    let cases = [
        (
            "be-observer.catalog_product_delete",
            json!({"sku": "SKU-EXT-0001"}),
            Method::DELETE,
            "/V1/products/SKU-EXT-0001",
        ),
        // a prefixed (App Management namespace) type routes the same way
        (
            "my_app.be-observer.customer_group_update",
            json!({"id": 19, "name": "Backoffice Group", "taxClassId": 2}),
            Method::PUT,
            "/V1/customerGroups/19",
        ),
        (
            "be-observer.catalog_stock_update",
            json!([{"sku": "S", "source": "default", "quantity": 1, "outOfStock": false}]),
            Method::POST,
            "/V1/inventory/source-items",
        ),
    ];
    for (i, (ty, data, method, path)) in cases.iter().enumerate() {
        let id = format!("evt-{i}");
        let out = consumer
            .dispatch(event(&id, ty, data.clone()), EventContext::new(&id))
            .await;
        assert_eq!(out.status, StatusCode::OK, "{ty}: {}", out.body);
        let calls = commerce.calls();
        let last = calls.last().expect("a call");
        assert_eq!((&last.method, last.path.as_str()), (method, *path), "{ty}");
    }
    assert_eq!(commerce.calls().len(), cases.len());
}

#[tokio::test]
async fn success_names_the_event_and_the_call() {
    let commerce = Arc::new(RecordingCommerce::new());
    let handler = CommerceHandler::shared(commerce.clone());
    let out = handler
        .handle(
            event("e1", "be-observer.customer_delete", json!({"id": 15})),
            EventContext::new("e1"),
        )
        .await
        .expect("handled");
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(
        out.body,
        json!({"success": true, "message": "be-observer.customer_delete: DELETE /V1/customers/15 done"})
    );
    assert_eq!(commerce.calls().len(), 1);
}

/// Commerce's answer → what the consumer answers for the event.
#[tokio::test]
async fn commerce_answers_decide_retry_or_drop() {
    let cases: Vec<(CommerceCallError, StatusCode, bool, &str)> = vec![
        (
            CommerceCallError::from_response(
                StatusCode::BAD_REQUEST,
                br#"{"message":"The \"%1\" attribute value is empty. Set the attribute and try again.","parameters":["name"]}"#,
            ),
            StatusCode::BAD_REQUEST,
            false,
            r#"Commerce refused POST /V1/products (400): The "name" attribute value is empty. Set the attribute and try again."#,
        ),
        (
            CommerceCallError::from_response(
                StatusCode::NOT_FOUND,
                br#"{"message":"No such entity with %fieldName = %fieldValue","parameters":{"fieldName":"sku","fieldValue":"A"}}"#,
            ),
            StatusCode::BAD_REQUEST,
            false,
            "Commerce refused POST /V1/products (404): No such entity with sku = A",
        ),
        (
            CommerceCallError::from_response(StatusCode::INTERNAL_SERVER_ERROR, b"<html>Fatal error</html>"),
            StatusCode::BAD_GATEWAY,
            true,
            "Commerce failed POST /V1/products (500): Commerce answered 500 Internal Server Error",
        ),
        (
            CommerceCallError::from_response(StatusCode::SERVICE_UNAVAILABLE, b""),
            StatusCode::BAD_GATEWAY,
            true,
            "Commerce failed POST /V1/products (503): Commerce answered 503 Service Unavailable",
        ),
        (
            CommerceCallError::from_response(StatusCode::TOO_MANY_REQUESTS, br#"{"message":"Too many requests"}"#),
            StatusCode::TOO_MANY_REQUESTS,
            true,
            "Commerce throttled POST /V1/products (429): Too many requests",
        ),
        (
            CommerceCallError::timed_out(Duration::from_secs(5)),
            StatusCode::SERVICE_UNAVAILABLE,
            true,
            "Commerce unavailable for POST /V1/products: no answer within 5000 ms",
        ),
        (
            CommerceCallError::unavailable("Connection refused (os error 111)"),
            StatusCode::SERVICE_UNAVAILABLE,
            true,
            "Commerce unavailable for POST /V1/products: Connection refused (os error 111)",
        ),
    ];
    for (i, (answer, status, retried, message)) in cases.into_iter().enumerate() {
        let commerce = Arc::new(RecordingCommerce::new());
        commerce.then(Err(answer));
        let consumer = consumer(commerce.clone());
        let id = format!("evt-{i}");
        let sample = json!({"sku": "A", "name": "", "price": 1, "description": "d"});
        let out = consumer
            .dispatch(
                event(&id, "be-observer.catalog_product_create", sample),
                EventContext::new(&id),
            )
            .await;
        assert_eq!(out.status, status, "{message}");
        assert_eq!(commerce_kit_core::http::is_retryable(out.status), retried, "{message}");
        assert_eq!(out.body["error"], message);
        assert_eq!(commerce.calls().len(), 1, "{message}");
    }
}

/// A payload the ingestion schema accepts but that no valid call can be made
/// of: answered 400 (dropped to the dead letters) and Commerce is never called.
#[tokio::test]
async fn semantically_refused_payloads_never_reach_commerce() {
    let commerce = Arc::new(RecordingCommerce::new());
    let consumer = consumer(commerce.clone());
    let cases = [
        (
            "be-observer.customer_delete",
            json!({"id": 15.5}),
            "invalid parameter 'data.id': expected a positive whole number, got 15.5",
        ),
        (
            "be-observer.catalog_stock_update",
            json!([]),
            "invalid parameter 'data': expected at least one stock item, got []",
        ),
        // not of the event's shape at all (the consumer's own wording)
        (
            "be-observer.catalog_product_update",
            json!({"sku": "A", "name": "n", "description": "d"}),
            "missing parameter(s) 'data.price'",
        ),
    ];
    let catalog = commerce_kit_model::catalog::Catalog::builtin();
    for (i, (ty, data, message)) in cases.iter().enumerate() {
        let schema_ok = catalog.validate(ty, data).is_ok();
        assert_eq!(schema_ok, i < 2, "{ty}: schema verdict");
        let id = format!("bad-{i}");
        let out = consumer
            .dispatch(event(&id, ty, data.clone()), EventContext::new(&id))
            .await;
        assert_eq!(out.status, StatusCode::BAD_REQUEST, "{ty}");
        assert_eq!(out.body["error"], *message, "{ty}");
    }
    assert!(commerce.calls().is_empty());
}

#[tokio::test]
async fn direct_dispatch_without_a_route_reads_data_not_data_value() {
    // a back-office payload that happens to have a `value` field: the payload is `data`
    let commerce = Arc::new(RecordingCommerce::new());
    let handler = CommerceHandler::shared(commerce.clone());
    let data = json!({"sku": "A", "name": "N", "description": "D", "value": {"sku": "WRONG"}});
    handler
        .handle(
            event("d1", "be-observer.catalog_product_create", data),
            EventContext::new("d1"),
        )
        .await
        .expect("handled");
    assert_eq!(commerce.calls()[0].body["product"]["sku"], "A");

    let err = handler
        .handle(
            event(
                "d2",
                "com.adobe.commerce.observer.catalog_product_delete_commit_after",
                json!({"value": {}}),
            ),
            EventContext::new("d2"),
        )
        .await
        .expect_err("not a back-office event");
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        err.message(),
        "unsupported event type 'com.adobe.commerce.observer.catalog_product_delete_commit_after'"
    );
    assert_eq!(commerce.calls().len(), 1);
}

#[test]
fn routes_are_the_thirteen_backoffice_routes() {
    let routes: Vec<&str> = CommerceHandler::routes().collect();
    assert_eq!(routes.len(), 13);
    let expected: Vec<&str> = commerce_kit_model::routing::route_names()
        .into_iter()
        .filter(|r| r.contains("-backoffice/"))
        .collect();
    assert_eq!(routes, expected);
    assert_eq!(BackOfficeEvent::ALL.len(), 13);
}
