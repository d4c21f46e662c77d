//! `commerce-kit serve` with the reference sync handlers, end to end over real
//! processes and loopback HTTP:
//! - back office → Commerce: each of the starter kit's 13 sample payloads
//!   POSTed to the ingestion webhook goes through the local durable bus to
//!   `CommerceHandler` and reaches commerce-api's fake Commerce as the kit's
//!   call, its OAuth 1.0a signature verified by the fake's own implementation
//!   (and, with IMS, one token for the whole run);
//! - Commerce → back office: a Commerce event POSTed to `/events` reaches the
//!   fake back office under the documented contract;
//! - a Commerce refusal lands in the dead letters with Commerce's message;
//! - a `kill -9` in the middle of a batch loses nothing acknowledged;
//! - the loop guard discards Commerce's echo of a back-office write, not a
//!   real change made in Commerce afterwards;
//! - a malformed setting stops `serve` with exit code 2, naming it.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use commerce_kit_commerce_api::testing::{FakeAuth, FakeCommerce, FakeReply, RecordedCall};
use commerce_kit_ingestion::testing::{FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeAdobe};
use commerce_kit_sync::testing::FakeBackOffice;
use commerce_kit_tests::{Server, run_to_exit};
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_commerce-kit");
const KEYS: (&str, &str, &str, &str) = ("e2e-ck", "e2e-cs", "e2e-at", "e2e-ats");
const ADMIN_TOKEN: &str = "e2e-admin-token-0123456789";

/// The kit's sample payload of each back-office event, and the call its
/// handler makes for it (method, path under `/rest/<store>`, JSON body; `null`
/// for no body). Written here from the kit's handlers, independently of the
/// sync crate's own expectations.
fn kit_calls() -> Vec<(&'static str, Value, &'static str, &'static str, Value)> {
    let sample = |code: &str| -> Value {
        let path = format!(
            "{}/../../crates/model/tests/fixtures/starter_kit/{code}.sample.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).expect("fixture is JSON")
    };
    let description = "This is a sample product created externally";
    let product = |price: Value| {
        json!({"product": {
            "sku": "SKU-EXT-0001",
            "name": "Product Created Externally",
            "price": price,
            "attribute_set_id": 4,
            "custom_attributes": [{"attribute_code": "description", "value": description}],
        }})
    };
    let rows: Vec<(&str, &str, &str, Value)> = vec![
        (
            "be-observer.catalog_product_create",
            "POST",
            "/V1/products",
            product(json!(0)),
        ),
        (
            "be-observer.catalog_product_update",
            "PUT",
            "/V1/products/SKU-EXT-0001",
            product(json!(99.99)),
        ),
        (
            "be-observer.catalog_product_delete",
            "DELETE",
            "/V1/products/SKU-EXT-0001",
            Value::Null,
        ),
        (
            "be-observer.customer_create",
            "POST",
            "/V1/customers",
            json!({"customer": {"email": "jane.doe@fakedomain.com", "firstname": "Jane", "lastname": "Doe"}}),
        ),
        (
            "be-observer.customer_update",
            "PUT",
            "/V1/customers/15",
            json!({"customer": {"id": 15, "firstname": "Jane", "lastname": "Doe", "email": "jane.doe@fakedomain.com"}}),
        ),
        ("be-observer.customer_delete", "DELETE", "/V1/customers/15", Value::Null),
        (
            "be-observer.customer_group_create",
            "POST",
            "/V1/customerGroups",
            json!({"group": {"code": "Backoffice Group", "tax_class_id": 3}}),
        ),
        (
            "be-observer.customer_group_update",
            "PUT",
            "/V1/customerGroups/19",
            json!({"group": {"id": 19, "code": "Backoffice Group", "tax_class_id": 2}}),
        ),
        (
            "be-observer.customer_group_delete",
            "DELETE",
            "/V1/customerGroups/19",
            Value::Null,
        ),
        (
            "be-observer.sales_order_status_update",
            "POST",
            "/V1/orders/1/comments",
            json!({"statusHistory": {
                "comment": "Order status changed to shipped",
                "is_customer_notified": 0,
                "is_visible_on_front": 1,
            }}),
        ),
        (
            "be-observer.sales_order_shipment_create",
            "POST",
            "/V1/order/8/ship",
            json!({
                "items": [{"order_item_id": 8, "qty": 1}],
                "tracks": [{"track_number": "Custom Value", "title": "Custom Title", "carrier_code": "custom"}],
                "comment": {"comment": "Order Shipped in Backoffice", "is_visible_on_front": 1},
                "extension_attributes": {"source_code": "default"},
            }),
        ),
        (
            "be-observer.sales_order_shipment_update",
            "POST",
            "/V1/shipment",
            json!({"entity": {
                "entity_id": 33,
                "order_id": 8,
                "items": [{"entity_id": 19, "order_item_id": 8, "qty": 1}],
                "tracks": [{
                    "entity_id": 19,
                    "order_id": 8,
                    "track_number": "Custom Value Upd",
                    "title": "Custom Title Upd",
                    "carrier_code": "custom",
                }],
                "comments": [{
                    "entity_id": 19,
                    "is_customer_notified": 0,
                    "comment": "Order Shipment Updated in Backoffice",
                    "is_visible_on_front": 1,
                }],
                "extension_attributes": {"source_code": "default"},
            }}),
        ),
        (
            "be-observer.catalog_stock_update",
            "POST",
            "/V1/inventory/source-items",
            json!({"sourceItems": [{"sku": "SKU-EXT-0001", "source_code": "default", "quantity": 66, "status": 1}]}),
        ),
    ];
    rows.into_iter()
        .map(|(code, method, path, body)| (code, sample(code), method, path, body))
        .collect()
}

/// The OAuth 1.0a connection to `fake` (store `default`).
fn oauth1_env(fake: &FakeCommerce) -> Vec<(&'static str, String)> {
    vec![
        ("COMMERCE_BASE_URL", fake.base_url()),
        ("COMMERCE_STORE_CODE", "default".to_owned()),
        ("COMMERCE_CONSUMER_KEY", KEYS.0.to_owned()),
        ("COMMERCE_CONSUMER_SECRET", KEYS.1.to_owned()),
        ("COMMERCE_ACCESS_TOKEN", KEYS.2.to_owned()),
        ("COMMERCE_ACCESS_TOKEN_SECRET", KEYS.3.to_owned()),
    ]
}

async fn fake_commerce() -> FakeCommerce {
    FakeCommerce::start(FakeAuth::oauth1(KEYS.0, KEYS.1, KEYS.2, KEYS.3))
        .await
        .expect("fake Commerce")
}

fn serve_in(dir: &std::path::Path, env: &[(&'static str, String)]) -> Server {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start_in(EXE, &["serve", "--listen", "127.0.0.1:0"], &env, dir)
}

async fn ingest(client: &reqwest::Client, server: &Server, uid: &str, event: &str, value: &Value) {
    let body = json!({"data": {"uid": uid, "event": event, "value": value}});
    let response = client
        .post(server.url("/ingestion/webhook"))
        .json(&body)
        .send()
        .await
        .expect("POST /ingestion/webhook");
    let status = response.status();
    assert_eq!(status, 200, "{uid}: {}", response.text().await.unwrap_or_default());
}

async fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `path` relative to the store's REST root, e.g. `/V1/products`.
fn rest_path(call: &RecordedCall) -> &str {
    call.path
        .strip_prefix("/rest/default")
        .unwrap_or_else(|| panic!("not under /rest/default: {}", call.path))
}

/// The Commerce event I/O Events would deliver for a product saved in Commerce.
fn commerce_product_saved(id: &str, sku: &str, name: &str, description: &str) -> Value {
    json!({
        "specversion": "1.0",
        "id": id,
        "source": "urn:uuid:commerce-provider",
        "type": "com.adobe.commerce.observer.catalog_product_save_commit_after",
        "datacontenttype": "application/json",
        "time": "2024-08-05T10:03:50Z",
        "data": {
            "key": "k",
            "value": {
                "id": 2,
                "sku": sku,
                "name": name,
                "description": description,
                "created_at": "2024-06-12 16:31:43",
                "updated_at": "2024-08-05 10:03:49"
            },
            "_metadata": {"commerceEdition": "Adobe Commerce", "storeId": "1"}
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kit_sample_posted_to_ingestion_reaches_commerce_as_the_kits_call() {
    let fake = fake_commerce().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut server = serve_in(dir.path(), &oauth1_env(&fake));
    let line = server.wait_for("back-office events are written to Commerce");
    assert!(line.contains("auth=\"oauth1\""), "{line}");
    assert!(line.contains("platform=\"paas\""), "{line}");
    assert!(line.contains("product-backoffice/created"), "{line}");
    assert!(line.contains("stock-backoffice/updated"), "{line}");
    // the back office is not configured: Commerce's events stay with the fallback
    let line = server.wait_for("Commerce events go to the fallback handler");
    assert!(line.contains("handler=\"logging\""), "{line}");
    let logs = server.logs();
    assert!(
        !logs.contains(KEYS.1) && !logs.contains(KEYS.2) && !logs.contains(KEYS.3),
        "{logs}"
    );

    let client = reqwest::Client::new();
    let cases = kit_calls();
    assert_eq!(cases.len(), 13);
    for (i, (code, sample, ..)) in cases.iter().enumerate() {
        ingest(&client, &server, &format!("kit-{i}"), code, sample).await;
    }
    wait_until("13 calls at Commerce", 30, || fake.call_count() >= 13).await;
    // time for a call that should not be there to show up
    tokio::time::sleep(Duration::from_millis(300)).await;
    let calls = fake.calls();
    assert_eq!(calls.len(), 13, "one call per event: {calls:#?}");

    let mut by_call: HashMap<(String, String), &RecordedCall> = HashMap::new();
    for call in &calls {
        assert!(call.auth.is_valid(), "{} {}: {:?}", call.method, call.path, call.auth);
        assert_eq!(call.answered, Some(200));
        let key = (call.method.clone(), rest_path(call).to_owned());
        assert!(
            by_call.insert(key, call).is_none(),
            "twice: {} {}",
            call.method,
            call.path
        );
    }
    for (code, _, method, path, body) in &cases {
        let call = by_call
            .get(&((*method).to_owned(), (*path).to_owned()))
            .unwrap_or_else(|| panic!("{code}: no {method} {path} at Commerce; got {:?}", by_call.keys()));
        assert_eq!(call.raw_query, None, "{code}");
        if body.is_null() {
            assert!(call.body.is_empty(), "{code}: no body expected");
        } else {
            assert_eq!(call.json(), *body, "{code}");
            assert_eq!(call.header("content-type"), Some("application/json"), "{code}");
        }
        assert!(
            call.header("authorization").is_some_and(|a| a.starts_with("OAuth ")),
            "{code}"
        );
    }
    // create, update and delete of one SKU share an ordering key: journal order
    let product_calls: Vec<&str> = calls
        .iter()
        .filter(|c| rest_path(c).starts_with("/V1/products"))
        .map(|c| c.method.as_str())
        .collect();
    assert_eq!(product_calls, ["POST", "PUT", "DELETE"]);

    // each handled by the Commerce handler under its back-office route
    server.wait_for_nth("local bus event", 13);
    let logs = server.logs();
    let handled: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("local bus event") && l.contains("outcome=\"handled\""))
        .collect();
    assert_eq!(handled.len(), 13, "{logs}");
    assert!(handled.iter().all(|l| l.contains("-backoffice/")), "{logs}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_ims_every_call_carries_the_bearer_and_one_token_serves_the_run() {
    let ims = FakeAdobe::start().await.expect("fake IMS");
    let fake = FakeCommerce::start(FakeAuth::ims(FAKE_CLIENT_ID, |token| {
        token.starts_with("fake-ims-token-")
    }))
    .await
    .expect("fake Commerce");
    let env = vec![
        ("COMMERCE_BASE_URL", fake.base_url()),
        ("COMMERCE_IMS_CLIENT_ID", FAKE_CLIENT_ID.to_owned()),
        ("COMMERCE_IMS_CLIENT_SECRET", FAKE_CLIENT_SECRET.to_owned()),
        ("IMS_BASE_URL", ims.url().to_string()),
    ];
    let dir = tempfile::tempdir().expect("dir");
    let mut server = serve_in(dir.path(), &env);
    let line = server.wait_for("back-office events are written to Commerce");
    assert!(line.contains("auth=\"ims\""), "{line}");
    assert!(!server.logs().contains(FAKE_CLIENT_SECRET));

    let client = reqwest::Client::new();
    for i in 0..20 {
        let value = json!({"sku": format!("SKU-IMS-{i}"), "name": "n", "description": "d", "price": 1});
        ingest(
            &client,
            &server,
            &format!("ims-{i}"),
            "be-observer.catalog_product_update",
            &value,
        )
        .await;
    }
    wait_until("20 calls at Commerce", 30, || fake.call_count() >= 20).await;
    let calls = fake.calls();
    for call in &calls {
        assert!(call.auth.is_valid(), "{}: {:?}", call.path, call.auth);
        assert_eq!(call.header("x-api-key"), Some(FAKE_CLIENT_ID));
        assert_eq!(call.method, "PUT");
        // PaaS with IMS: the default store
        assert!(call.path.starts_with("/rest/all/V1/products/SKU-IMS-"), "{}", call.path);
    }
    let skus: HashSet<String> = calls.iter().map(|c| c.path.clone()).collect();
    assert_eq!(skus.len(), 20);
    assert_eq!(ims.token_request_count(), 1, "one IMS token for the whole run");
    let token_request = &ims.token_requests()[0];
    assert_eq!(
        token_request.field("scope"),
        Some("openid,additional_info.projectedProductContext")
    );
    assert_eq!(token_request.field("client_id"), Some(FAKE_CLIENT_ID));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commerce_event_reaches_the_back_office_under_the_contract() {
    let office = FakeBackOffice::start().await.expect("fake back office");
    let env = vec![
        ("BACKOFFICE_BASE_URL", format!("{}/commerce", office.base_url())),
        ("BACKOFFICE_TOKEN", "bo-token-e2e".to_owned()),
    ];
    let dir = tempfile::tempdir().expect("dir");
    let mut server = serve_in(dir.path(), &env);
    let line = server.wait_for("Commerce events are POSTed to the back office");
    assert!(line.contains("product-commerce/created"), "{line}");
    assert!(line.contains("stock-commerce/updated"), "{line}");
    assert!(!line.contains("bo-token-e2e"), "{line}");
    let line = server.wait_for("back-office events go to the fallback handler");
    assert!(line.contains("handler=\"logging\""), "{line}");

    let event = commerce_product_saved("c-evt-1", "24-MB01", "Joust Duffle Bag", "Sporty bag");
    let response = reqwest::Client::new()
        .post(server.url("/events"))
        .json(&event)
        .send()
        .await
        .expect("POST /events");
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap_or_default());

    let requests = office.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/commerce/product/updated");
    assert_eq!(request.header("idempotency-key"), Some("c-evt-1"));
    assert_eq!(request.header("authorization"), Some("Bearer bo-token-e2e"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(
        request.header("x-event-type"),
        Some("com.adobe.commerce.observer.catalog_product_save_commit_after")
    );
    assert_eq!(
        request.body,
        json!({
            "entity": "product",
            "action": "updated",
            "eventId": "c-evt-1",
            "eventType": "com.adobe.commerce.observer.catalog_product_save_commit_after",
            "occurredAt": "2024-08-05T10:03:50Z",
            "data": event["data"]["value"],
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commerce_refusal_is_dead_lettered_with_commerces_message() {
    let fake = fake_commerce().await;
    fake.push_reply(FakeReply::json(
        400,
        json!({"message": "The \"%1\" attribute value is empty. Set the attribute and try again.", "parameters": ["name"]}),
    ));
    let mut env = oauth1_env(&fake);
    env.push(("ADMIN_TOKEN", ADMIN_TOKEN.to_owned()));
    let dir = tempfile::tempdir().expect("dir");
    let mut server = serve_in(dir.path(), &env);
    let client = reqwest::Client::new();
    let value = json!({"sku": "SKU-REFUSED", "name": "Bag", "description": "d", "price": 3});
    ingest(
        &client,
        &server,
        "refused-1",
        "be-observer.catalog_product_create",
        &value,
    )
    .await;
    server.wait_for("parked in the dead-letter list");

    let list: Value = client
        .get(server.url("/admin/dead-letters"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("GET /admin/dead-letters")
        .json()
        .await
        .expect("JSON");
    let letters = list["dead_letters"].as_array().expect("dead_letters");
    assert_eq!(letters.len(), 1, "{list}");
    // the reason is the handler's answer: its status and Commerce's message, parameter filled in
    let reason = letters[0]["reason"].as_str().expect("reason");
    let (verdict, answer) = reason.split_once(": ").unwrap_or_else(|| panic!("{reason}"));
    assert_eq!(verdict, "not retryable", "{reason}");
    let answer: Value = serde_json::from_str(answer).unwrap_or_else(|e| panic!("{reason}: {e}"));
    assert_eq!(answer["status"], 400, "{reason}");
    assert_eq!(
        answer["error"],
        "Commerce refused POST /V1/products (400): The \"name\" attribute value is empty. Set the attribute and try again."
    );
    assert_eq!(letters[0]["event"]["id"], "refused-1", "{list}");
    // a refusal is not retried
    assert_eq!(fake.call_count(), 1);
    assert_eq!(fake.calls()[0].answered, Some(400));
    assert!(fake.calls()[0].auth.is_valid());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_a_batch_loses_nothing_acknowledged() {
    const EVENTS: usize = 240;
    const WINDOW: usize = 64;
    let fake = fake_commerce().await;
    // a Commerce taking 100 ms per call, so the kill lands mid-batch
    for _ in 0..EVENTS * 2 {
        fake.push_reply(FakeReply::json(200, json!({})).with_delay(Duration::from_millis(100)));
    }
    let mut env = oauth1_env(&fake);
    env.extend([
        ("EVENTS_CONCURRENCY", "8".to_owned()),
        ("EVENTS_WINDOW", WINDOW.to_string()),
        ("LOG_LEVEL", "warn".to_owned()),
    ]);
    let dir = tempfile::tempdir().expect("dir");
    let server = serve_in(dir.path(), &env);
    let client = reqwest::Client::new();
    // 24 products, 10 updates each (one poster per product, in order); the name carries the event's index
    let mut posters = Vec::new();
    for k in 0..24 {
        let (client, url) = (client.clone(), server.url("/ingestion/webhook"));
        posters.push(tokio::spawn(async move {
            for i in (k..EVENTS).step_by(24) {
                let value = json!({"sku": format!("SKU-K9-{k:02}"), "name": format!("n{i}"), "description": "d", "price": 1});
                let body = json!({"data": {"uid": format!("k9-{i}"), "event": "be-observer.catalog_product_update", "value": value}});
                let r = client.post(&url).json(&body).send().await.expect("ingest");
                assert_eq!(r.status(), 200, "k9-{i}");
            }
        }));
    }
    for poster in posters {
        poster.await.expect("poster");
    }
    wait_until("a third at Commerce", 60, || fake.call_count() >= EVENTS / 3).await;
    let _ = server.kill9();
    let at_kill = fake.call_count();
    assert!(at_kill < EVENTS, "killed before the end ({at_kill} of {EVENTS})");

    let _server = serve_in(dir.path(), &env);
    // every acknowledged event reaches Commerce
    let index =
        |c: &RecordedCall| -> Option<u64> { c.json()["product"]["name"].as_str()?.strip_prefix('n')?.parse().ok() };
    let seen = |fake: &FakeCommerce| -> HashSet<u64> {
        fake.calls()
            .iter()
            .filter(|c| c.auth.is_valid() && c.answered == Some(200))
            .filter_map(index)
            .collect()
    };
    wait_until("every event at Commerce", 90, || seen(&fake).len() == EVENTS).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen_now = seen(&fake);
    assert_eq!(seen_now, (0..EVENTS as u64).collect::<HashSet<_>>());
    // what was in flight at the kill is handed over again, at most a window's worth
    let calls = fake.calls();
    assert!(calls.iter().all(|c| c.auth.is_valid()), "every signature verified");
    let again = calls.len() - EVENTS;
    assert!(again <= WINDOW, "{again} calls made twice (window {WINDOW})");
    // each product's updates reached Commerce in journal order on each side of the kill
    let mut last: HashMap<String, u64> = HashMap::new();
    let mut backwards = 0;
    for c in &calls {
        let body = c.json();
        let (Some(sku), Some(i)) = (body["product"]["sku"].as_str(), index(c)) else {
            continue;
        };
        if let Some(prev) = last.insert(sku.to_owned(), i)
            && i < prev
        {
            backwards += 1;
        }
    }
    // a key goes back at most once: the restart hands over its unacknowledged tail again
    assert!(backwards <= 24, "{backwards} keys went backwards");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_echo_of_a_back_office_write_is_discarded_and_a_real_commerce_change_is_not() {
    let fake = fake_commerce().await;
    let office = FakeBackOffice::start().await.expect("fake back office");
    let mut env = oauth1_env(&fake);
    env.push(("BACKOFFICE_BASE_URL", office.base_url()));
    let dir = tempfile::tempdir().expect("dir");
    let mut server = serve_in(dir.path(), &env);
    let client = reqwest::Client::new();

    // 1. the back office updates a product: written to Commerce
    let value = json!({"sku": "SKU-LOOP-1", "name": "Loop Bag", "description": "A bag", "price": 12.5});
    ingest(&client, &server, "loop-1", "be-observer.catalog_product_update", &value).await;
    let line = server.wait_for("local bus event");
    assert!(line.contains("outcome=\"handled\""), "{line}");
    let calls = fake.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        (calls[0].method.as_str(), calls[0].path.as_str()),
        ("PUT", "/rest/default/V1/products/SKU-LOOP-1")
    );

    // 2. Commerce echoes the write as its save event: discarded, not sent to the back office
    let echo = commerce_product_saved("loop-echo-1", "SKU-LOOP-1", "Loop Bag", "A bag");
    let response = client
        .post(server.url("/events"))
        .json(&echo)
        .send()
        .await
        .expect("POST /events");
    assert_eq!(response.status(), 200);
    let body = response.text().await.expect("body");
    assert!(
        body.contains("event discarded to prevent an infinite loop (loop:product:sku=SKU-LOOP-1)"),
        "{body}"
    );
    assert!(office.requests().is_empty(), "{:#?}", office.requests());

    // 3. a real change made in Commerce afterwards (another name) reaches the back office
    let change = commerce_product_saved("loop-change-1", "SKU-LOOP-1", "Loop Bag (renamed)", "A bag");
    let response = client
        .post(server.url("/events"))
        .json(&change)
        .send()
        .await
        .expect("POST /events");
    assert_eq!(response.status(), 200);
    let body = response.text().await.expect("body");
    assert!(!body.contains("discarded"), "{body}");
    let requests = office.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].path, "/product/updated");
    assert_eq!(requests[0].body["eventId"], "loop-change-1");
    assert_eq!(requests[0].body["data"]["name"], "Loop Bag (renamed)");
    // and nothing more went to Commerce
    assert_eq!(fake.call_count(), 1);
}

#[test]
fn malformed_sync_settings_stop_serve_naming_the_setting() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[
                ("COMMERCE_BASE_URL", "shop.example.com"),
                ("COMMERCE_CONSUMER_KEY", "ck"),
                ("COMMERCE_CONSUMER_SECRET", "cs-s3cret"),
                ("COMMERCE_ACCESS_TOKEN", "at-s3cret"),
                ("COMMERCE_ACCESS_TOKEN_SECRET", "ats-s3cret"),
            ],
            "error: invalid configuration: --commerce-base-url (COMMERCE_BASE_URL): 'shop.example.com' is not an absolute URL",
        ),
        (
            &[
                ("COMMERCE_BASE_URL", "https://shop.example.com/"),
                ("COMMERCE_CONSUMER_KEY", "ck"),
                ("COMMERCE_CONSUMER_SECRET", "cs-s3cret"),
            ],
            "error: invalid configuration: --commerce-access-token (COMMERCE_ACCESS_TOKEN): required for OAuth 1.0a, but empty",
        ),
        (
            &[("COMMERCE_BASE_URL", "https://shop.example.com/")],
            "error: invalid configuration: --commerce-base-url (COMMERCE_BASE_URL): is set but Commerce has no credentials",
        ),
        (
            &[
                ("BACKOFFICE_BASE_URL", "erp.example"),
                ("BACKOFFICE_TOKEN", "bo-s3cret"),
            ],
            "error: invalid configuration: --backoffice-base-url (BACKOFFICE_BASE_URL): invalid back-office base URL 'erp.example'",
        ),
        (
            &[
                ("BACKOFFICE_BASE_URL", "https://erp.example"),
                ("BACKOFFICE_TIMEOUT_MS", "soon"),
            ],
            // a value clap cannot parse: named by its flag, as every other setting's
            "error: invalid configuration: invalid value 'soon' for '--backoffice-timeout-ms <MS>'",
        ),
    ];
    for (env, expected) in cases {
        let (status, stdout, stderr) = run_to_exit(EXE, &["serve", "--listen", "127.0.0.1:0"], env);
        assert_eq!(status.code(), Some(2), "{env:?}: {stdout}\n{stderr}");
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
        assert!(!stderr.contains("s3cret") && !stdout.contains("s3cret"), "{stderr}");
    }
}
