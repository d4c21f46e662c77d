//! The consumer's dispatch: handler resolution, result shapes, dedupe, loop
//! guard, deadline and panic guard (service level, no socket).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use commerce_kit_core::state::{MemoryStore, StateStore};
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::consumer::{Consumer, Outcome};
use commerce_kit_events::handler::{EventContext, EventHandler, HandlerResult, handler_fn};
use commerce_kit_events::{ConsumerBuildError, HandlerError};
use http::StatusCode;
use serde_json::{Value, json};

const PRODUCT_SAVE: &str = "com.adobe.commerce.observer.catalog_product_save_commit_after";
const SAME: &str = "2025-06-20 15:32:20";

fn product_save(id: &str, ty: &str, created: &str, updated: &str) -> CloudEvent {
    CloudEvent::new(
        id,
        "urn:uuid:commerce",
        ty,
        json!({"key": "k", "value": {"sku": "24-MB01", "name": "Bag", "description": "d",
            "created_at": created, "updated_at": updated}}),
    )
}

/// A handler that counts calls and answers with a fixed result.
fn counting(result: HandlerResult) -> (Arc<dyn EventHandler>, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let h = handler_fn(move |_e: CloudEvent, _ctx: EventContext| {
        let c = c.clone();
        let result = result.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            Ok(result)
        }
    });
    (h, calls)
}

fn named(label: &'static str) -> Arc<dyn EventHandler> {
    handler_fn(move |_e: CloudEvent, _c: EventContext| async move { Ok(HandlerResult::success(label)) })
}

fn store() -> Arc<dyn StateStore> {
    Arc::new(MemoryStore::new())
}

async fn dispatch(consumer: &Consumer, event: CloudEvent) -> commerce_kit_events::consumer::Dispatched {
    let ctx = EventContext::new(event.event_id().to_owned());
    consumer.dispatch(event, ctx).await
}

#[tokio::test]
async fn success_wraps_the_handler_body_with_the_event_type() {
    let consumer = Consumer::builder(store())
        .on("product-commerce/created", named("created"))
        .on("product-commerce/updated", named("updated"))
        .build()
        .expect("known keys");
    let ty = "com.adobe.commerce.acme.observer.catalog_product_save_commit_after";
    let d = dispatch(&consumer, product_save("e1", ty, SAME, SAME)).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(
        d.body,
        json!({"type": ty, "response": {"success": true, "message": "created"}})
    );
    assert_eq!(d.outcome, Outcome::Handled);
    assert_eq!(d.handler.as_deref(), Some("product-commerce/created"));
    let d = dispatch(&consumer, product_save("e2", ty, SAME, "2025-06-21 00:00:00")).await;
    assert_eq!(d.body["response"]["message"], "updated");
}

#[tokio::test]
async fn handler_status_is_propagated_and_errors_have_the_error_shape() {
    for (status, retryable) in [
        (StatusCode::NOT_FOUND, false),
        (StatusCode::BAD_GATEWAY, true),
        (StatusCode::TOO_MANY_REQUESTS, true),
        (StatusCode::HTTP_VERSION_NOT_SUPPORTED, false),
    ] {
        let (h, _) = counting(HandlerResult::error(status, "back office said no"));
        let consumer = Consumer::builder(store())
            .on("be-observer.customer_create", h)
            .build()
            .expect("known keys");
        let d = dispatch(
            &consumer,
            CloudEvent::new("x", "s", "be-observer.customer_create", json!({"email": "a@b.c"})),
        )
        .await;
        assert_eq!(d.status, status);
        assert_eq!(d.body, json!({"error": "back office said no"}));
        assert_eq!(d.outcome, Outcome::HandlerFailed);
        assert_eq!(d.is_retryable(), retryable, "{status}");
    }
    // a 2xx other than 200 is a success and is propagated
    let (h, _) = counting(HandlerResult::new(
        StatusCode::ACCEPTED,
        json!({"success": true, "message": "queued"}),
    ));
    let consumer = Consumer::builder(store())
        .on("be-observer.customer_create", h)
        .build()
        .expect("known keys");
    let d = dispatch(
        &consumer,
        CloudEvent::new("y", "s", "be-observer.customer_create", json!({})),
    )
    .await;
    assert_eq!(d.status, StatusCode::ACCEPTED);
    assert_eq!(
        d.body,
        json!({"type": "be-observer.customer_create", "response": {"success": true, "message": "queued"}})
    );
}

#[tokio::test]
async fn resolution_order_exact_type_then_code_then_route_then_fallback() {
    let prefixed = "com.adobe.commerce.p1.observer.catalog_product_save_commit_after";
    let all = Consumer::builder(store())
        .on(prefixed, named("exact"))
        .on("product-commerce/created", named("route"))
        .fallback(named("fallback"))
        .build()
        .expect("known keys");
    // a prefixed key is stored unprefixed: it matches any prefix
    let d = dispatch(&all, product_save("1", prefixed, SAME, SAME)).await;
    assert_eq!(
        (d.body["response"]["message"].as_str(), d.handler.as_deref()),
        (Some("exact"), Some(PRODUCT_SAVE))
    );
    let d = dispatch(&all, product_save("2", PRODUCT_SAVE, SAME, SAME)).await;
    assert_eq!(d.body["response"]["message"], "exact");

    let routed = Consumer::builder(store())
        .on("product-commerce/created", named("route"))
        .fallback(named("fallback"))
        .build()
        .expect("known keys");
    let d = dispatch(&routed, product_save("3", prefixed, SAME, SAME)).await;
    assert_eq!(d.body["response"]["message"], "route");
    let d = dispatch(&routed, product_save("4", prefixed, SAME, "2026-01-01 00:00:00")).await;
    assert_eq!(d.body["response"]["message"], "fallback");
    assert_eq!(d.handler.as_deref(), Some("product-commerce/updated (fallback)"));

    // a handler by event code wins even when the routing rule could not route (no timestamps)
    let by_code = Consumer::builder(store())
        .on(PRODUCT_SAVE, named("code"))
        .build()
        .expect("known keys");
    let e = CloudEvent::new("5", "s", PRODUCT_SAVE, json!({"value": {"sku": "A"}}));
    assert_eq!(dispatch(&by_code, e).await.body["response"]["message"], "code");

    // custom event types work when registered by exact type (declared known)
    let custom = Consumer::builder(store())
        .on_custom("com.acme.erp.invoice_paid", named("invoice"))
        .build()
        .expect("declared custom type");
    let e = CloudEvent::new("6", "s", "com.acme.erp.invoice_paid", json!({}));
    assert_eq!(dispatch(&custom, e).await.status, StatusCode::OK);
}

#[tokio::test]
async fn unroutable_events_are_400_with_exact_messages() {
    let consumer = Consumer::builder(store())
        .on("product-commerce/created", named("c"))
        .build()
        .expect("known keys");
    let cases = [
        (
            CloudEvent::new("1", "s", "be-observer.unheard_of", json!({})),
            "unsupported event type 'be-observer.unheard_of'",
        ),
        (
            CloudEvent::new("2", "s", "com.example.other", json!({})),
            "unsupported event type 'com.example.other'",
        ),
        (
            CloudEvent::new("3", "s", PRODUCT_SAVE, json!({"value": {"created_at": SAME}})),
            "cannot route event type 'com.adobe.commerce.observer.catalog_product_save_commit_after': missing parameter(s) 'data.value.updated_at'",
        ),
        (
            CloudEvent::new(
                "4",
                "s",
                PRODUCT_SAVE,
                json!({"value": {"created_at": SAME, "updated_at": "soon"}}),
            ),
            "cannot route event type 'com.adobe.commerce.observer.catalog_product_save_commit_after': invalid parameter 'data.value.updated_at': expected a date-time 'YYYY-MM-DD HH:MM:SS', got \"soon\"",
        ),
        (
            product_save("5", PRODUCT_SAVE, SAME, "2025-07-01 10:00:00"),
            "no handler registered for route 'product-commerce/updated' (event type 'com.adobe.commerce.observer.catalog_product_save_commit_after')",
        ),
    ];
    for (event, message) in cases {
        let d = dispatch(&consumer, event).await;
        assert_eq!(d.status, StatusCode::BAD_REQUEST);
        assert_eq!(d.body, json!({ "error": message }));
        assert_eq!(d.outcome, Outcome::Unroutable);
    }
    // the fallback does not make unknown types routable
    let with_fallback = Consumer::builder(store())
        .fallback(named("f"))
        .build()
        .expect("known keys");
    let d = dispatch(
        &with_fallback,
        CloudEvent::new("6", "s", "be-observer.unheard_of", json!({})),
    )
    .await;
    assert_eq!(
        d.body,
        json!({"error": "unsupported event type 'be-observer.unheard_of'"})
    );
}

#[tokio::test]
async fn the_context_carries_id_retry_count_and_route() {
    let seen = Arc::new(std::sync::Mutex::new(None));
    let s = seen.clone();
    let consumer = Consumer::builder(store())
        .fallback(handler_fn(move |e: CloudEvent, ctx: EventContext| {
            let s = s.clone();
            async move {
                let payload = ctx.payload(&e).clone();
                *s.lock().expect("lock") = Some((ctx, payload));
                Ok(HandlerResult::success("ok"))
            }
        }))
        .build()
        .expect("known keys");
    let mut e = CloudEvent::new(
        "cloud-id",
        "s",
        "com.adobe.commerce.x.observer.catalog_product_delete_commit_after",
        json!({"value": {"sku": "Z"}}),
    );
    e.extensions.insert("eventid".into(), json!("adobe-id"));
    let mut ctx = EventContext::new(e.event_id().to_owned());
    ctx.retry_count = Some(3);
    assert_eq!(consumer.dispatch(e, ctx).await.status, StatusCode::OK);
    let (ctx, payload) = seen.lock().expect("lock").take().expect("handler ran");
    assert_eq!(ctx.event_id, "adobe-id");
    assert_eq!(ctx.retry_count, Some(3));
    let route = ctx.route.expect("routed");
    assert_eq!(route.name, "product-commerce/deleted");
    assert_eq!(route.prefix.as_deref(), Some("x"));
    assert_eq!(payload, json!({"sku": "Z"}));
}

#[tokio::test]
async fn a_handled_event_id_is_not_handled_twice_but_a_failed_one_is_retried() {
    let (ok, ok_calls) = counting(HandlerResult::success("done"));
    let consumer = Consumer::builder(store())
        .on("be-observer.customer_delete", ok)
        .build()
        .expect("known keys");
    let event = CloudEvent::new("dup-1", "s", "be-observer.customer_delete", json!({"id": 1}));
    let first = dispatch(&consumer, event.clone()).await;
    assert_eq!(first.outcome, Outcome::Handled);
    let second = dispatch(&consumer, event.clone()).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(second.outcome, Outcome::Duplicate);
    assert_eq!(
        second.body,
        json!({"type": "be-observer.customer_delete", "response": {"success": true,
            "message": "event 'dup-1' was already handled; not handled again"}})
    );
    assert_eq!(ok_calls.load(Ordering::SeqCst), 1);

    // the same id under another event type is another event
    let (other, other_calls) = counting(HandlerResult::success("x"));
    let consumer2 = Consumer::builder(store())
        .on("be-observer.customer_delete", other.clone())
        .on("be-observer.customer_update", other)
        .build()
        .expect("known keys");
    dispatch(&consumer2, event.clone()).await;
    let mut same_id = event.clone();
    same_id.event_type = "be-observer.customer_update".into();
    assert_eq!(dispatch(&consumer2, same_id).await.outcome, Outcome::Handled);
    assert_eq!(other_calls.load(Ordering::SeqCst), 2);

    // a failure does not mark the id
    let flaky_calls = Arc::new(AtomicUsize::new(0));
    let c = flaky_calls.clone();
    let flaky = handler_fn(move |_e: CloudEvent, _x: EventContext| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                Ok(HandlerResult::error(StatusCode::SERVICE_UNAVAILABLE, "erp down"))
            } else {
                Ok(HandlerResult::success("erp back"))
            }
        }
    });
    let consumer3 = Consumer::builder(store())
        .on("be-observer.customer_delete", flaky)
        .build()
        .expect("known keys");
    assert_eq!(
        dispatch(&consumer3, event.clone()).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(dispatch(&consumer3, event.clone()).await.outcome, Outcome::Handled);
    assert_eq!(dispatch(&consumer3, event).await.outcome, Outcome::Duplicate);
    assert_eq!(flaky_calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn concurrent_deliveries_of_one_id_run_the_handler_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let slow = handler_fn(move |_e: CloudEvent, _x: EventContext| {
        let c = c.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(200)).await;
            Ok(HandlerResult::success("slow"))
        }
    });
    let consumer = Consumer::builder(store())
        .on("be-observer.customer_update", slow)
        .build()
        .expect("known keys");
    let event = CloudEvent::new("same", "s", "be-observer.customer_update", json!({"email": "x@y.z"}));
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (c, e) = (consumer.clone(), event.clone());
        tasks.push(tokio::spawn(async move { dispatch(&c, e).await }));
    }
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.expect("join"));
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let handled = outcomes.iter().filter(|d| d.outcome == Outcome::Handled).count();
    let busy: Vec<_> = outcomes.iter().filter(|d| d.outcome == Outcome::InProgress).collect();
    assert_eq!(handled, 1);
    assert_eq!(busy.len(), 7);
    for d in busy {
        assert_eq!(d.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            d.body,
            json!({"error": "event 'same' is being handled by another delivery; retry later"})
        );
    }
    assert_eq!(dispatch(&consumer, event).await.outcome, Outcome::Duplicate);
}

#[tokio::test]
async fn loop_guard_discards_the_echo_and_lets_a_changed_payload_through() {
    let (h, calls) = counting(HandlerResult::success("synced"));
    let consumer = Consumer::builder(store()).fallback(h).build().expect("known keys");
    // a back-office update, as the ingestion webhook publishes it (data = value)
    let update = CloudEvent::new(
        "bo-1",
        "urn:uuid:backoffice",
        "be-observer.catalog_product_update",
        json!({"sku": "24-MB01", "name": "Bag", "description": "d", "price": 12}),
    );
    assert_eq!(dispatch(&consumer, update).await.outcome, Outcome::Handled);
    // Commerce echoes the write (prefixed type, data.value shape, other key order)
    let echo = product_save(
        "c-1",
        "com.adobe.commerce.acme.observer.catalog_product_save_commit_after",
        SAME,
        "2025-06-20 15:40:00",
    );
    let d = dispatch(&consumer, echo.clone()).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.outcome, Outcome::LoopDiscarded);
    assert_eq!(
        d.body,
        json!({"type": "com.adobe.commerce.acme.observer.catalog_product_save_commit_after",
            "response": {"success": true, "message": "event discarded to prevent an infinite loop (loop:product:sku=24-MB01)"}})
    );
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    // a genuinely changed product goes through
    let mut changed = product_save("c-2", PRODUCT_SAVE, SAME, "2025-06-20 15:41:00");
    changed.data["value"]["description"] = json!("new text");
    assert_eq!(dispatch(&consumer, changed).await.outcome, Outcome::Handled);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// A back-office product update and the Commerce save event that echoes it.
fn back_office_update() -> CloudEvent {
    CloudEvent::new(
        "a",
        "s",
        "be-observer.catalog_product_update",
        json!({"sku": "S", "name": "N", "description": "D"}),
    )
}

fn commerce_echo() -> CloudEvent {
    CloudEvent::new(
        "b",
        "s",
        PRODUCT_SAVE,
        json!({"value": {"sku": "S", "name": "N", "description": "D", "created_at": SAME, "updated_at": SAME}}),
    )
}

#[tokio::test]
async fn loop_guard_fingerprints_expire_after_their_ttl() {
    let (h, calls) = counting(HandlerResult::success("synced"));
    let consumer = Consumer::builder(store())
        .fallback(h)
        .loop_guard_ttl(Duration::from_millis(300))
        .build()
        .expect("known keys");
    let update = back_office_update();
    dispatch(&consumer, update).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let echo = commerce_echo();
    assert_eq!(dispatch(&consumer, echo).await.outcome, Outcome::Handled);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_failed_handling_stores_no_fingerprint() {
    let (bad, _) = counting(HandlerResult::error(StatusCode::BAD_GATEWAY, "down"));
    let (good, good_calls) = counting(HandlerResult::success("ok"));
    let consumer = Consumer::builder(store())
        .on("be-observer.catalog_product_update", bad)
        .fallback(good)
        .build()
        .expect("known keys");
    let update = back_office_update();
    assert_eq!(dispatch(&consumer, update).await.status, StatusCode::BAD_GATEWAY);
    let echo = commerce_echo();
    assert_eq!(dispatch(&consumer, echo).await.outcome, Outcome::Handled);
    assert_eq!(good_calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_handler_past_its_deadline_is_answered_503_and_can_be_retried() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let sleepy = handler_fn(move |_e: CloudEvent, _x: EventContext| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            Ok(HandlerResult::success("eventually"))
        }
    });
    let consumer = Consumer::builder(store())
        .on("be-observer.customer_create", sleepy)
        .handler_timeout(Duration::from_millis(100))
        .build()
        .expect("known keys");
    let e = CloudEvent::new("t1", "s", "be-observer.customer_create", json!({}));
    let d = dispatch(&consumer, e.clone()).await;
    assert_eq!(d.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(d.outcome, Outcome::TimedOut);
    assert_eq!(
        d.body,
        json!({"error": "handler for 'be-observer.customer_create' did not finish within 100 ms"})
    );
    assert!(d.elapsed < Duration::from_secs(2), "{:?}", d.elapsed);
    assert_eq!(
        dispatch(&consumer, e).await.outcome,
        Outcome::Handled,
        "the claim was released"
    );
}

#[tokio::test]
async fn a_panicking_handler_is_answered_500_and_the_consumer_keeps_working() {
    let boom = handler_fn(|e: CloudEvent, _x: EventContext| async move {
        if e.data["explode"] == Value::Bool(true) {
            panic!("handler bug with secret detail");
        }
        Ok(HandlerResult::success("fine"))
    });
    let consumer = Consumer::builder(store())
        .on("be-observer.customer_create", boom)
        .build()
        .expect("known keys");
    let bad = CloudEvent::new("p1", "s", "be-observer.customer_create", json!({"explode": true}));
    let d = dispatch(&consumer, bad).await;
    assert_eq!(d.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(d.outcome, Outcome::Panicked);
    assert_eq!(
        d.body,
        json!({"error": "handler for 'be-observer.customer_create' panicked"})
    );
    let good = CloudEvent::new("p2", "s", "be-observer.customer_create", json!({}));
    assert_eq!(dispatch(&consumer, good).await.outcome, Outcome::Handled);
}

#[tokio::test]
async fn fingerprints_in_their_own_store_survive_a_full_dedupe_store() {
    let (h, calls) = counting(HandlerResult::success("synced"));
    // a tiny dedupe store that will be full of marks
    let consumer = Consumer::builder(Arc::new(MemoryStore::with_max_entries(4)))
        .loop_guard_store(Arc::new(MemoryStore::new()))
        .fallback(h)
        .build()
        .expect("known keys");
    assert_eq!(
        dispatch(&consumer, back_office_update()).await.outcome,
        Outcome::Handled
    );
    for i in 0..10 {
        let e = CloudEvent::new(
            format!("other-{i}"),
            "s",
            "be-observer.customer_delete",
            json!({"id": i}),
        );
        assert_eq!(dispatch(&consumer, e).await.outcome, Outcome::Handled);
    }
    assert_eq!(
        dispatch(&consumer, commerce_echo()).await.outcome,
        Outcome::LoopDiscarded
    );
    assert_eq!(calls.load(Ordering::SeqCst), 11);
}

/// The valid keys as the build error lists them (sorted).
const VALID_KEYS: &str = "a handler key is a route name (customer-backoffice/created, customer-backoffice/deleted, \
customer-backoffice/group-created, customer-backoffice/group-deleted, customer-backoffice/group-updated, \
customer-backoffice/updated, customer-commerce/created, customer-commerce/deleted, customer-commerce/group-deleted, \
customer-commerce/group-updated, customer-commerce/updated, order-backoffice/shipment-created, \
order-backoffice/shipment-updated, order-backoffice/updated, order-commerce/created, order-commerce/updated, \
product-backoffice/created, product-backoffice/deleted, product-backoffice/updated, product-commerce/created, \
product-commerce/deleted, product-commerce/updated, stock-backoffice/updated, stock-commerce/updated) \
or an event code, with any prefix (be-observer.catalog_product_create, be-observer.catalog_product_delete, \
be-observer.catalog_product_update, be-observer.catalog_stock_update, be-observer.customer_create, \
be-observer.customer_delete, be-observer.customer_group_create, be-observer.customer_group_delete, \
be-observer.customer_group_update, be-observer.customer_update, be-observer.sales_order_shipment_create, \
be-observer.sales_order_shipment_update, be-observer.sales_order_status_update, \
com.adobe.commerce.observer.catalog_product_delete_commit_after, com.adobe.commerce.observer.catalog_product_save_commit_after, \
com.adobe.commerce.observer.cataloginventory_stock_item_save_commit_after, com.adobe.commerce.observer.customer_delete_commit_after, \
com.adobe.commerce.observer.customer_group_delete_commit_after, com.adobe.commerce.observer.customer_group_save_commit_after, \
com.adobe.commerce.observer.customer_save_commit_after, com.adobe.commerce.observer.sales_order_save_commit_after); \
register other event types with ConsumerBuilder::on_custom or ConsumerBuilder::known_event_codes";

#[test]
fn a_mistyped_key_is_a_build_error_naming_it_and_the_valid_keys() {
    let err = Consumer::builder(store())
        .on("product-commerce/updated", named("fine"))
        .on("product-comerce/created", named("typo"))
        .build()
        .expect_err("a key that matches nothing");
    assert_eq!(
        err.to_string(),
        format!(
            "unknown handler key 'product-comerce/created' (did you mean 'product-commerce/created'?): {VALID_KEYS}"
        )
    );
    let ConsumerBuildError::UnknownKeys {
        keys,
        route_names,
        event_codes,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!(keys.len(), 1);
    assert_eq!(route_names.len(), 24);
    assert_eq!(event_codes.len(), 21);
}

#[tokio::test]
async fn every_unknown_key_is_named_and_custom_codes_are_declared_explicitly() {
    let err = Consumer::builder(store())
        .on("com.acme.erp.invoice_paid", named("custom"))
        .on("be-observer.catalog_stock_updte", named("typo"))
        .on("be-observer.catalog_stock_update", named("fine"))
        .build()
        .expect_err("two unknown keys");
    assert_eq!(
        err.to_string(),
        format!(
            "unknown handler keys 'com.acme.erp.invoice_paid', 'be-observer.catalog_stock_updte' \
             (did you mean 'be-observer.catalog_stock_update'?): {VALID_KEYS}"
        )
    );
    // declared known: by list, with any prefix on either side …
    Consumer::builder(store())
        .known_event_codes(["com.acme.erp.invoice_paid", "acme.be-observer.warehouse_moved"])
        .on("com.acme.erp.invoice_paid", named("custom"))
        .on("be-observer.warehouse_moved", named("moved"))
        .build()
        .expect("declared");
    // … or through a catalog with events of its own
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("events.json");
    std::fs::write(
        &path,
        r#"{"warehouse": {"backoffice": {"be-observer.warehouse_moved": {"sampleEventTemplate": {"id": "w1"}}}}}"#,
    )
    .expect("write");
    let catalog =
        commerce_kit_events::catalog::Catalog::load(Some(&path), commerce_kit_events::catalog::CatalogMode::Extend)
            .expect("catalog");
    let consumer = Consumer::builder(store())
        .catalog(&catalog)
        .on("be-observer.warehouse_moved", named("moved"))
        .build()
        .expect("in the catalog");
    let e = CloudEvent::new("w1", "s", "acme.be-observer.warehouse_moved", json!({"id": "w1"}));
    let d = dispatch(&consumer, e).await;
    assert_eq!(d.body["response"]["message"], "moved");
}

#[tokio::test]
async fn a_handler_error_is_answered_with_its_status_and_the_event_can_be_handled_again() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let h = handler_fn(move |e: CloudEvent, ctx: EventContext| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                return Err(HandlerError::retryable("ERP is down"));
            }
            let email = ctx.payload(&e)["email"]
                .as_str()
                .ok_or_else(|| HandlerError::rejected("customer without an email"))?;
            Ok(HandlerResult::success(format!("customer {email} created")))
        }
    });
    let consumer = Consumer::builder(store())
        .on("customer-backoffice/created", h)
        .build()
        .expect("known keys");
    let event = CloudEvent::new("h1", "s", "be-observer.customer_create", json!({"email": "a@b.c"}));
    let d = dispatch(&consumer, event.clone()).await;
    assert_eq!(
        (d.status, &d.body, d.outcome),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"error": "ERP is down"}),
            Outcome::HandlerFailed
        )
    );
    assert!(d.is_retryable());
    // the error released the claim: the redelivery runs the handler
    let d = dispatch(&consumer, event).await;
    assert_eq!(
        d.body,
        json!({"type": "be-observer.customer_create", "response": {"success": true, "message": "customer a@b.c created"}})
    );
    let d = dispatch(
        &consumer,
        CloudEvent::new("h2", "s", "be-observer.customer_create", json!({})),
    )
    .await;
    assert_eq!(
        (d.status, &d.body, d.is_retryable()),
        (
            StatusCode::BAD_REQUEST,
            &json!({"error": "customer without an email"}),
            false
        )
    );
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}
