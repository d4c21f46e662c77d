//! Commerce → back office over real HTTP on loopback: for each of the kit's
//! sample Commerce events, the exact request the back office receives; then
//! how the back office's answers are classified.

use std::sync::Arc;
use std::time::Duration;

use commerce_kit_core::http::{ClientTimeouts, is_retryable};
use commerce_kit_events::{CloudEvent, Consumer, EventContext, MemoryStore};
use commerce_kit_sync::backoffice::{BackOfficeClient, BackOfficeHandler, BackOfficeOptions};
use commerce_kit_sync::testing::FakeBackOffice;
use http::{Method, StatusCode};
use serde_json::{Value, json};

const TIME: &str = "2024-08-05T10:03:50Z";

fn sample(event: &str) -> Value {
    let text = match event {
        "catalog_product_save_commit_after" => {
            include_str!("fixtures/commerce/observer.catalog_product_save_commit_after.json")
        }
        "catalog_product_delete_commit_after" => {
            include_str!("fixtures/commerce/observer.catalog_product_delete_commit_after.json")
        }
        "customer_save_commit_after" => include_str!("fixtures/commerce/observer.customer_save_commit_after.json"),
        "customer_delete_commit_after" => include_str!("fixtures/commerce/observer.customer_delete_commit_after.json"),
        "customer_group_save_commit_after" => {
            include_str!("fixtures/commerce/observer.customer_group_save_commit_after.json")
        }
        "customer_group_delete_commit_after" => {
            include_str!("fixtures/commerce/observer.customer_group_delete_commit_after.json")
        }
        "sales_order_save_commit_after" => {
            include_str!("fixtures/commerce/observer.sales_order_save_commit_after.json")
        }
        "cataloginventory_stock_item_save_commit_after" => {
            include_str!("fixtures/commerce/observer.cataloginventory_stock_item_save_commit_after.json")
        }
        other => panic!("no sample for {other}"),
    };
    serde_json::from_str(text).expect("fixture is JSON")
}

/// The CloudEvent I/O Events delivers for a Commerce event with this value.
fn commerce_event(id: &str, event_type: &str, value: Value) -> CloudEvent {
    let mut e = CloudEvent::new(
        id,
        "urn:uuid:commerce-provider",
        event_type,
        json!({"key": "k", "value": value, "_metadata": {"commerceEdition": "Open Source", "storeId": "1"}}),
    );
    e.time = Some(TIME.to_owned());
    e
}

fn consumer(handler: BackOfficeHandler) -> Consumer {
    let mut builder = Consumer::builder(Arc::new(MemoryStore::new()));
    for route in BackOfficeHandler::routes() {
        builder = builder.on(route, handler.clone());
    }
    builder.build().expect("every route is a known key")
}

fn handler(base_url: &str, token: Option<&str>, timeouts: Option<ClientTimeouts>) -> BackOfficeHandler {
    let mut options = BackOfficeOptions::parse(base_url).expect("base url");
    if let Some(token) = token {
        options = options.with_token(token);
    }
    if let Some(timeouts) = timeouts {
        options = options.with_timeouts(timeouts);
    }
    BackOfficeHandler::new(BackOfficeClient::new(options).expect("client"))
}

/// (event, value, expected path, entity, action)
fn cases() -> Vec<(&'static str, Value, &'static str, &'static str, &'static str)> {
    let with_updated_at = |event: &str, updated_at: &str| {
        let mut v = sample(event);
        v["updated_at"] = json!(updated_at);
        v
    };
    vec![
        // the kit's samples as they are
        (
            "catalog_product_save_commit_after",
            sample("catalog_product_save_commit_after"),
            "/erp/product/updated",
            "product",
            "updated",
        ),
        (
            "catalog_product_delete_commit_after",
            sample("catalog_product_delete_commit_after"),
            "/erp/product/deleted",
            "product",
            "deleted",
        ),
        (
            "customer_save_commit_after",
            sample("customer_save_commit_after"),
            "/erp/customer/updated",
            "customer",
            "updated",
        ),
        (
            "customer_delete_commit_after",
            sample("customer_delete_commit_after"),
            "/erp/customer/deleted",
            "customer",
            "deleted",
        ),
        (
            "customer_group_save_commit_after",
            sample("customer_group_save_commit_after"),
            "/erp/customer-group/updated",
            "customer-group",
            "updated",
        ),
        (
            "customer_group_delete_commit_after",
            sample("customer_group_delete_commit_after"),
            "/erp/customer-group/deleted",
            "customer-group",
            "deleted",
        ),
        (
            "sales_order_save_commit_after",
            sample("sales_order_save_commit_after"),
            "/erp/order/created",
            "order",
            "created",
        ),
        (
            "cataloginventory_stock_item_save_commit_after",
            sample("cataloginventory_stock_item_save_commit_after"),
            "/erp/stock/updated",
            "stock",
            "updated",
        ),
        // the other side of each created/updated split
        (
            "catalog_product_save_commit_after",
            with_updated_at("catalog_product_save_commit_after", "2024-06-12 16:31:43"),
            "/erp/product/created",
            "product",
            "created",
        ),
        (
            "customer_save_commit_after",
            with_updated_at("customer_save_commit_after", "2024-06-12 16:31:43"),
            "/erp/customer/created",
            "customer",
            "created",
        ),
        (
            "sales_order_save_commit_after",
            with_updated_at("sales_order_save_commit_after", "2024-08-05 14:40:00"),
            "/erp/order/updated",
            "order",
            "updated",
        ),
    ]
}

#[tokio::test]
async fn each_commerce_event_reaches_the_back_office_as_the_contract_says() {
    let erp = FakeBackOffice::start().await.expect("fake back office");
    erp.answer(StatusCode::ACCEPTED, json!({"queued": true}));
    let consumer = consumer(handler(&format!("{}/erp/", erp.base_url()), Some("erp-token"), None));
    let cases = cases();
    for (i, (event, value, path, entity, action)) in cases.iter().enumerate() {
        let id = format!("3f1c-{i}");
        // with an event prefix, as the old kit's EVENT_PREFIX produces
        let ty = format!("com.adobe.commerce.acme.observer.{event}");
        let out = consumer
            .dispatch(commerce_event(&id, &ty, value.clone()), EventContext::new(&id))
            .await;
        assert_eq!(out.status, StatusCode::OK, "{event}: {}", out.body);
        let route = match *entity {
            "customer-group" => format!("customer-commerce/group-{action}"),
            other => format!("{other}-commerce/{action}"),
        };
        assert_eq!(out.body["type"], ty, "{event}");
        assert_eq!(
            out.body["response"]["message"],
            format!("{route} sent to {}{path}: 202", erp.base_url()),
            "{event}"
        );

        let seen = erp.requests();
        assert_eq!(seen.len(), i + 1, "{event}: one request per event");
        let req = &seen[i];
        assert_eq!(req.method, Method::POST, "{event}");
        assert_eq!(req.path, *path, "{event}");
        assert_eq!(
            req.body,
            json!({
                "entity": entity,
                "action": action,
                "eventId": id,
                "eventType": format!("com.adobe.commerce.observer.{event}"),
                "occurredAt": TIME,
                "data": value,
            }),
            "{event}"
        );
        assert_eq!(req.header("content-type"), Some("application/json"), "{event}");
        assert_eq!(req.header("accept"), Some("application/json"), "{event}");
        assert_eq!(req.header("idempotency-key"), Some(id.as_str()), "{event}");
        assert_eq!(req.header("x-event-type"), Some(ty.as_str()), "{event}");
        assert_eq!(req.header("authorization"), Some("Bearer erp-token"), "{event}");
        assert!(
            req.header("user-agent")
                .is_some_and(|ua| ua.starts_with("commerce-kit-sync/")),
            "{event}"
        );
        // the body on the wire is the JSON above, nothing else
        assert_eq!(serde_json::from_slice::<Value>(&req.raw).ok().as_ref(), Some(&req.body));
    }
}

#[tokio::test]
async fn commerce_types_are_kept_and_no_token_means_no_authorization() {
    let erp = FakeBackOffice::start().await.expect("fake back office");
    let consumer = consumer(handler(&erp.base_url(), None, None));
    let value = sample("customer_group_delete_commit_after");
    // Commerce sends these ids as strings in this event: they stay strings
    assert_eq!(value["customer_group_id"], "18");
    let out = consumer
        .dispatch(
            commerce_event(
                "g1",
                "com.adobe.commerce.observer.customer_group_delete_commit_after",
                value.clone(),
            ),
            EventContext::new("g1"),
        )
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    let req = &erp.requests()[0];
    assert_eq!(req.path, "/customer-group/deleted");
    assert_eq!(req.body["data"], value);
    assert_eq!(req.header("authorization"), None);
}

#[tokio::test]
async fn a_redelivered_event_carries_the_same_idempotency_key() {
    let erp = FakeBackOffice::start().await.expect("fake back office");
    erp.answer(StatusCode::SERVICE_UNAVAILABLE, json!({"error": "maintenance"}));
    let h = handler(&erp.base_url(), None, None);
    let event = commerce_event(
        "same-id",
        "com.adobe.commerce.observer.catalog_product_delete_commit_after",
        sample("catalog_product_delete_commit_after"),
    );
    use commerce_kit_events::EventHandler;
    for _ in 0..2 {
        let err = h
            .handle(event.clone(), EventContext::new("same-id"))
            .await
            .expect_err("503");
        assert!(err.is_retryable());
    }
    let keys: Vec<Option<String>> = erp
        .requests()
        .iter()
        .map(|r| r.header("idempotency-key").map(str::to_owned))
        .collect();
    assert_eq!(keys, vec![Some("same-id".to_owned()), Some("same-id".to_owned())]);
}

/// The back office's answer → what the consumer answers for the event.
#[tokio::test]
async fn back_office_answers_decide_retry_or_drop() {
    let erp = FakeBackOffice::start().await.expect("fake back office");
    let h = handler(&erp.base_url(), None, None);
    let url = format!("{}/product/deleted", erp.base_url());
    let cases: Vec<(StatusCode, Value, StatusCode, String)> = vec![
        (StatusCode::OK, json!({}), StatusCode::OK, String::new()),
        (StatusCode::NO_CONTENT, Value::Null, StatusCode::OK, String::new()),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "SKU 24-MB01 is not managed here"}),
            StatusCode::BAD_REQUEST,
            format!("back office {url} answered 400: SKU 24-MB01 is not managed here"),
        ),
        (
            StatusCode::NOT_FOUND,
            json!({"message": "no such product"}),
            StatusCode::NOT_FOUND,
            format!("back office {url} answered 404: no such product"),
        ),
        (
            StatusCode::CONFLICT,
            json!({"detail": "no error field"}),
            StatusCode::CONFLICT,
            format!("back office {url} answered 409"),
        ),
        (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": "slow down"}),
            StatusCode::TOO_MANY_REQUESTS,
            format!("back office {url} answered 429: slow down"),
        ),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "database down"}),
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("back office {url} answered 500: database down"),
        ),
        (
            StatusCode::BAD_GATEWAY,
            json!("upstream"),
            StatusCode::BAD_GATEWAY,
            format!("back office {url} answered 502"),
        ),
        (
            StatusCode::FOUND,
            json!({}),
            StatusCode::BAD_GATEWAY,
            format!("back office {url} answered 302"),
        ),
    ];
    let consumer = consumer(h);
    for (i, (answer, body, status, message)) in cases.into_iter().enumerate() {
        erp.answer(answer, body);
        let id = format!("s-{i}");
        let out = consumer
            .dispatch(
                commerce_event(
                    &id,
                    "com.adobe.commerce.observer.catalog_product_delete_commit_after",
                    sample("catalog_product_delete_commit_after"),
                ),
                EventContext::new(&id),
            )
            .await;
        assert_eq!(out.status, status, "back office {answer}: {}", out.body);
        if status == StatusCode::OK {
            assert_eq!(out.body["response"]["success"], true);
        } else {
            assert_eq!(out.body["error"], message, "back office {answer}");
        }
        let expected_retry = matches!(answer.as_u16(), 429 | 500 | 502 | 302);
        assert_eq!(is_retryable(out.status), expected_retry, "back office {answer}");
    }
    assert_eq!(erp.requests().len(), 9);
}

#[tokio::test]
async fn a_back_office_that_does_not_answer_in_time_is_retried() {
    let erp = FakeBackOffice::start().await.expect("fake back office");
    erp.delay(Duration::from_secs(5));
    let timeouts = ClientTimeouts {
        connect: Duration::from_millis(500),
        request: Duration::from_millis(300),
    };
    let consumer = consumer(handler(&erp.base_url(), None, Some(timeouts)));
    let started = std::time::Instant::now();
    let out = consumer
        .dispatch(
            commerce_event(
                "t1",
                "com.adobe.commerce.observer.customer_delete_commit_after",
                sample("customer_delete_commit_after"),
            ),
            EventContext::new("t1"),
        )
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "bounded by the request timeout"
    );
    assert_eq!(out.status, StatusCode::SERVICE_UNAVAILABLE, "{}", out.body);
    assert_eq!(
        out.body["error"],
        format!(
            "back office {}/customer/deleted did not answer within 300 ms",
            erp.base_url()
        )
    );
    assert_eq!(erp.requests().len(), 1);
}

#[tokio::test]
async fn an_unreachable_back_office_is_retried() {
    // a port that was just free: nothing listens there
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let base = format!("http://127.0.0.1:{port}/erp");
    let consumer = consumer(handler(&base, Some("secret-token"), None));
    let out = consumer
        .dispatch(
            commerce_event(
                "u1",
                "com.adobe.commerce.observer.customer_delete_commit_after",
                sample("customer_delete_commit_after"),
            ),
            EventContext::new("u1"),
        )
        .await;
    assert_eq!(out.status, StatusCode::SERVICE_UNAVAILABLE, "{}", out.body);
    let error = out.body["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(&format!("back office {base}/customer/deleted could not be reached: ")),
        "{error}"
    );
    assert!(!error.contains("secret-token"), "{error}");
}

#[tokio::test]
async fn unmappable_commerce_events_are_dropped_without_a_request() {
    let erp = FakeBackOffice::start().await.expect("fake back office");
    let consumer = consumer(handler(&erp.base_url(), None, None));
    let mut group = sample("customer_group_save_commit_after");
    group.as_object_mut().map(|m| m.remove("customer_group_code"));
    let cases = [
        (
            "com.adobe.commerce.observer.customer_group_save_commit_after",
            json!({"value": group}),
            "missing parameter(s) 'data.value.customer_group_code'",
        ),
        (
            "com.adobe.commerce.observer.catalog_product_delete_commit_after",
            json!({"value": "not an object"}),
            "invalid parameter 'data.value': expected an object, got a string",
        ),
    ];
    for (i, (ty, data, message)) in cases.into_iter().enumerate() {
        let id = format!("x-{i}");
        let out = consumer
            .dispatch(CloudEvent::new(&id, "urn:commerce", ty, data), EventContext::new(&id))
            .await;
        assert_eq!(out.status, StatusCode::BAD_REQUEST, "{ty}");
        assert_eq!(out.body["error"], message, "{ty}");
    }
    assert!(erp.requests().is_empty());
}
