//! Back office → Commerce over real HTTP on loopback: CommerceHandler runs its
//! calls through commerce-api's CommerceClient (OAuth 1.0a) against its fake
//! Commerce, which verifies every signature with its own implementation.

mod common;

use std::sync::Arc;
use std::time::Duration;

use commerce_kit_commerce_api::testing::{FakeAuth, FakeCommerce, FakeReply};
use commerce_kit_commerce_api::{ClientTimeouts, CommerceAuth, CommerceClient, CommerceConfig};
use commerce_kit_core::http::is_retryable;
use commerce_kit_events::{CloudEvent, Consumer, EventContext, MemoryStore};
use commerce_kit_sync::{BackOfficeEvent, CommerceHandler};
use http::StatusCode;
use serde_json::{Value, json};

const KEYS: (&str, &str, &str, &str) = ("ck-1", "cs-1", "at-1", "ats-1");

async fn setup(timeouts: Option<ClientTimeouts>) -> (FakeCommerce, Consumer) {
    let fake = FakeCommerce::start(FakeAuth::oauth1(KEYS.0, KEYS.1, KEYS.2, KEYS.3))
        .await
        .expect("fake Commerce");
    let auth = CommerceAuth::oauth1_from_parts(KEYS.0, KEYS.1, KEYS.2, KEYS.3).expect("auth");
    let mut config = CommerceConfig::from_parts(&fake.base_url(), Some("default"), auth).expect("config");
    if let Some(timeouts) = timeouts {
        config = config.with_timeouts(timeouts);
    }
    let handler = CommerceHandler::new(CommerceClient::new(config).expect("client"));
    let mut builder = Consumer::builder(Arc::new(MemoryStore::new()));
    for route in CommerceHandler::routes() {
        builder = builder.on(route, handler.clone());
    }
    (fake, builder.build().expect("known keys"))
}

fn event(id: &str, ty: &str, data: Value) -> CloudEvent {
    CloudEvent::new(id, "urn:erp", ty, data)
}

#[tokio::test]
async fn each_kit_sample_reaches_commerce_as_the_kits_call() {
    let (fake, consumer) = setup(None).await;
    for (i, kind) in BackOfficeEvent::ALL.into_iter().enumerate() {
        let id = format!("bo-{i}");
        let out = consumer
            .dispatch(
                event(&id, kind.code(), common::kit_sample(kind)),
                EventContext::new(&id),
            )
            .await;
        assert_eq!(out.status, StatusCode::OK, "{}: {}", kind.code(), out.body);

        let want = common::expected(kind);
        let calls = fake.calls();
        assert_eq!(calls.len(), i + 1, "{}: one call per event", kind.code());
        let got = &calls[i];
        assert_eq!(got.method, want.method.as_str(), "{}", kind.code());
        // PaaS: <base>/rest/<store>/V1/…
        assert_eq!(got.path, format!("/rest/default{}", want.path), "{}", kind.code());
        assert_eq!(got.raw_query, None, "{}", kind.code());
        assert_eq!(got.json(), want.body, "{}", kind.code());
        assert!(got.auth.is_valid(), "{}: {:?}", kind.code(), got.auth);
        if want.body.is_null() {
            assert!(got.body.is_empty(), "{}: no body", kind.code());
        } else {
            assert_eq!(got.header("content-type"), Some("application/json"), "{}", kind.code());
        }
    }
}

#[tokio::test]
async fn a_sku_with_reserved_characters_stays_one_signed_segment() {
    let (fake, consumer) = setup(None).await;
    let out = consumer
        .dispatch(
            event(
                "s1",
                "be-observer.catalog_product_delete",
                json!({"sku": "MB/01 blue?"}),
            ),
            EventContext::new("s1"),
        )
        .await;
    assert_eq!(out.status, StatusCode::OK, "{}", out.body);
    let call = &fake.calls()[0];
    assert_eq!(call.path, "/rest/default/V1/products/MB%2F01%20blue%3F");
    assert!(call.auth.is_valid(), "{:?}", call.auth);
}

/// Commerce's answer over HTTP → what the consumer answers for the event.
#[tokio::test]
async fn commerce_answers_decide_retry_or_drop() {
    let cases: Vec<(FakeReply, StatusCode, &str)> = vec![
        (
            FakeReply::json(
                400,
                json!({"message": "The \"%1\" attribute value is empty. Set the attribute and try again.", "parameters": ["name"]}),
            ),
            StatusCode::BAD_REQUEST,
            r#"Commerce refused POST /V1/products (400): The "name" attribute value is empty. Set the attribute and try again."#,
        ),
        (
            FakeReply::json(
                404,
                json!({"message": "The product that was requested doesn't exist. Verify the product and try again."}),
            ),
            StatusCode::BAD_REQUEST,
            "Commerce refused POST /V1/products (404): The product that was requested doesn't exist. Verify the product and try again.",
        ),
        (
            FakeReply::json(
                500,
                json!({"message": "Internal Error. Details are available in Magento log file. Report ID: webapi-1"}),
            ),
            StatusCode::BAD_GATEWAY,
            "Commerce failed POST /V1/products (500): Internal Error. Details are available in Magento log file. Report ID: webapi-1",
        ),
        (
            FakeReply::html(503, "<html><body>Maintenance</body></html>"),
            StatusCode::BAD_GATEWAY,
            "Commerce failed POST /V1/products (503): non-JSON body (text/html): Maintenance",
        ),
        (
            FakeReply::empty(502),
            StatusCode::BAD_GATEWAY,
            "Commerce failed POST /V1/products (502): empty body",
        ),
    ];
    let (fake, consumer) = setup(None).await;
    for (i, (reply, status, message)) in cases.into_iter().enumerate() {
        fake.push_reply(reply);
        let id = format!("st-{i}");
        let sample = common::kit_sample(BackOfficeEvent::ProductCreate);
        let out = consumer
            .dispatch(
                event(&id, "be-observer.catalog_product_create", sample),
                EventContext::new(&id),
            )
            .await;
        assert_eq!(out.status, status, "{message}: {}", out.body);
        assert_eq!(out.body["error"], message);
        assert_eq!(is_retryable(out.status), status != StatusCode::BAD_REQUEST, "{message}");
    }
    assert_eq!(fake.call_count(), 5);
}

#[tokio::test]
async fn a_commerce_that_never_answers_is_retried_within_the_client_timeout() {
    let timeouts = ClientTimeouts {
        connect: Duration::from_millis(500),
        request: Duration::from_millis(300),
    };
    let (fake, consumer) = setup(Some(timeouts)).await;
    fake.push_reply(FakeReply::never());
    let started = std::time::Instant::now();
    let out = consumer
        .dispatch(
            event("t1", "be-observer.customer_delete", json!({"id": 15})),
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
        "Commerce unavailable for DELETE /V1/customers/15: no answer within 300 ms"
    );
}

#[tokio::test]
async fn a_200_that_is_not_json_is_dropped_naming_it() {
    let (fake, consumer) = setup(None).await;
    fake.push_reply(FakeReply::html(200, "<html>storefront</html>"));
    let out = consumer
        .dispatch(
            event("h1", "be-observer.customer_group_delete", json!({"id": 19})),
            EventContext::new("h1"),
        )
        .await;
    assert_eq!(out.status, StatusCode::BAD_REQUEST, "{}", out.body);
    let error = out.body["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with("Commerce refused DELETE /V1/customerGroups/19: Commerce answered DELETE"),
        "{error}"
    );
    assert!(error.contains("unexpected body"), "{error}");
}
