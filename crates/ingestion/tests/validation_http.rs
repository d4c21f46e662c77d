//! The flow over real HTTP with the local bus: every catalog event accepted
//! with its sample, every validation message exact, nothing stored on refusal,
//! repeated uids acknowledged without a second publish.

mod common;

use commerce_kit_model::catalog::Catalog;
use common::*;
use serde_json::{Value, json};

#[tokio::test]
async fn every_catalog_event_is_accepted_with_its_sample_and_stored_as_a_cloudevent() {
    let setup = LocalSetup::new();
    let server = Server::start(setup.builder().build()).await;
    let catalog = Catalog::builtin();
    for (i, event) in catalog.events().iter().enumerate() {
        let uid = format!("uid-{i}");
        let (status, body) = server
            .post(&request(&uid, event.code(), event.sample().clone()), &[])
            .await;
        assert_eq!((status, body), (200, success(event.code())), "{}", event.code());
    }
    let stored = setup.bus.read(0, 100).await.expect("read");
    assert_eq!(stored.len(), catalog.len());
    for (i, (record, event)) in stored.iter().zip(catalog.events()).enumerate() {
        let ce = &record.event;
        assert_eq!(record.offset, i as u64);
        assert_eq!(ce.id, format!("uid-{i}"), "CloudEvent id is the uid");
        assert_eq!(ce.event_type, event.code());
        assert_eq!(&ce.data, event.sample());
        assert_eq!(ce.source, "urn:commerce-kit:ingestion");
        assert_eq!(ce.specversion, "1.0");
        assert_eq!(ce.datacontenttype.as_deref(), Some("application/json"));
        assert!(ce.time.is_some());
    }
}

#[tokio::test]
async fn the_starter_kit_documented_example_works_verbatim() {
    let setup = LocalSetup::new();
    let server = Server::start(setup.builder().build()).await;
    let body = r#"{
  "data": {
    "uid": "event_uid_1",
    "event": "be-observer.catalog_product_create",
    "value": {
      "sku": "PRODUCT_SKU",
      "name": "Product SKU",
      "price": 1,
      "description": "Product SKU description"
    }
  }
}"#;
    let resp = server
        .client
        .post(server.url())
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("send");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    assert_eq!(
        resp.text().await.expect("text"),
        r#"{"type":"be-observer.catalog_product_create","response":{"success":true,"message":"Event published successfully"}}"#
    );
}

#[tokio::test]
async fn bad_requests_get_400_with_exact_messages_and_nothing_is_stored() {
    let setup = LocalSetup::new();
    let server = Server::start(setup.builder().build()).await;
    let p = "be-observer.catalog_product_create";
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "missing parameter(s) 'data.uid,data.event,data.value'"),
        (
            json!({"data": []}),
            "missing parameter(s) 'data.uid,data.event,data.value'",
        ),
        (
            json!({"data": {"event": p, "value": {}}}),
            "missing parameter(s) 'data.uid'",
        ),
        (
            json!({"data": {"uid": "u", "value": {}}}),
            "missing parameter(s) 'data.event'",
        ),
        (
            json!({"data": {"uid": "u", "event": p}}),
            "missing parameter(s) 'data.value'",
        ),
        (
            json!({"data": {"uid": "", "event": "", "value": ""}}),
            "missing parameter(s) 'data.uid,data.event,data.value'",
        ),
        (
            json!({"data": {"uid": "u", "event": p, "value": ""}}),
            "missing parameter(s) 'data.value'",
        ),
        (
            json!({"data": {"uid": true, "event": p, "value": {}}}),
            "invalid parameter 'data.uid': expected a string or a number, found a boolean",
        ),
        (
            json!({"data": {"uid": "u", "event": ["x"], "value": {}}}),
            "invalid parameter 'data.event': expected a string, found an array",
        ),
        (
            request("u", "be-observer.catalog_product_rename", json!({})),
            "unknown event 'be-observer.catalog_product_rename'",
        ),
        (
            request(
                "u",
                p,
                json!({"sku": "A", "name": "n", "description": "d", "price": "1"}),
            ),
            r#"invalid value for event 'be-observer.catalog_product_create' at '/price': "1" is not of type "number""#,
        ),
        (
            request("u", p, json!({"name": "n", "description": "d"})),
            r#"invalid value for event 'be-observer.catalog_product_create' at '/': "sku" is a required property"#,
        ),
        (
            request("u", p, Value::Null),
            r#"invalid value for event 'be-observer.catalog_product_create' at '/': null is not of type "object""#,
        ),
        (
            request(
                "u",
                "be-observer.catalog_stock_update",
                json!([{"sku": "A", "source": "s", "quantity": 1}]),
            ),
            r#"invalid value for event 'be-observer.catalog_stock_update' at '/0': "outOfStock" is a required property"#,
        ),
    ];
    for (body, message) in cases {
        assert_eq!(server.post(&body, &[]).await, (400, error(message)), "{body}");
    }
    let raw: Vec<(&str, &str)> = vec![
        ("", "request body is empty"),
        (
            "{\"data\": {",
            "invalid JSON at line 1 column 10: EOF while parsing an object",
        ),
        (
            "{\"data\": {\"uid\": 'x'}}",
            "invalid JSON at line 1 column 18: expected value",
        ),
        ("[1, 2]", "missing parameter(s) 'data.uid,data.event,data.value'"),
    ];
    for (body, message) in raw {
        assert_eq!(server.post_raw(body, &[]).await, (400, error(message)), "{body:?}");
    }
    assert_eq!(setup.bus.head(), 0, "nothing refused was stored");
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let setup = LocalSetup::new();
    let server = Server::start(setup.builder().body_limit(1024).build()).await;
    let big = request(
        "u",
        "be-observer.catalog_product_create",
        json!({"sku": "A", "name": "n", "description": "x".repeat(2000)}),
    );
    assert_eq!(
        server.post(&big, &[]).await,
        (413, error("request body is larger than the limit of 1024 bytes"))
    );
    let fits = request("u", "be-observer.catalog_product_delete", json!({"sku": "A"}));
    assert_eq!(server.post(&fits, &[]).await.0, 200);
    assert_eq!(setup.bus.head(), 1);
}

#[tokio::test]
async fn a_repeated_uid_is_acknowledged_again_without_a_second_publish() {
    let setup = LocalSetup::new();
    let server = Server::start(setup.builder().build()).await;
    let event = "be-observer.catalog_product_create";
    assert_eq!(server.post(&product("same"), &[]).await, (200, success(event)));
    assert_eq!(
        server.post(&product("same"), &[]).await,
        (200, success(event)),
        "same body again"
    );
    assert_eq!(setup.bus.head(), 1, "published once");
    // The same uid under another event code is another event.
    let delete = request("same", "be-observer.catalog_product_delete", json!({"sku": "A"}));
    assert_eq!(server.post(&delete, &[]).await.0, 200);
    assert_eq!(setup.bus.head(), 2);
    // A refused request does not mark its uid: the corrected retry is published.
    let bad = request("fixme", event, json!({"sku": "A"}));
    assert_eq!(server.post(&bad, &[]).await.0, 400);
    assert_eq!(server.post(&product("fixme"), &[]).await.0, 200);
    assert_eq!(setup.bus.head(), 3);
    // Numeric uids are accepted and become string ids.
    let numeric = json!({"data": {"uid": 42, "event": "be-observer.customer_delete", "value": {"id": 15}}});
    assert_eq!(server.post(&numeric, &[]).await.0, 200);
    let last = setup.bus.read(3, 1).await.expect("read");
    assert_eq!(last[0].event.id, "42");
}

#[tokio::test]
async fn concurrent_duplicates_publish_once() {
    let setup = LocalSetup::new();
    let server = std::sync::Arc::new(Server::start(setup.builder().build()).await);
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let server = server.clone();
            tokio::spawn(async move { server.post(&product("dup"), &[]).await })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        let (status, body) = t.await.expect("join");
        if status == 503 {
            assert_eq!(
                body,
                error(
                    "event 'dup' of type 'be-observer.catalog_product_create' is being published by another request; retry shortly"
                )
            );
        } else {
            assert_eq!((status, body), (200, success("be-observer.catalog_product_create")));
        }
        statuses.push(status);
    }
    assert!(statuses.contains(&200));
    assert_eq!(setup.bus.head(), 1, "exactly one publish: {statuses:?}");
    assert_eq!(
        server.post(&product("dup"), &[]).await.0,
        200,
        "later repeats are acknowledged"
    );
}

#[tokio::test]
async fn other_methods_are_405() {
    let setup = LocalSetup::new();
    let server = Server::start(setup.builder().build()).await;
    let resp = server.client.get(server.url()).send().await.expect("send");
    assert_eq!(resp.status(), 405);
    assert_eq!(
        resp.json::<Value>().await.expect("json"),
        error("method GET not allowed on /ingestion/webhook")
    );
}
