//! `GET|POST /events` over real HTTP: challenge, validationUrl, digital
//! signatures against a loopback fake key host, recipient client id, batches,
//! dedupe, loop guard, handler panics and body errors.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use commerce_kit_core::server;
use commerce_kit_core::signature::RsaSigner;
use commerce_kit_core::state::MemoryStore;
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::consumer::{Consumer, ConsumerBuilder};
use commerce_kit_events::delivery::{Delivery, DeliveryOptions, SignatureVerifier, ValidationPolicy, router};
use commerce_kit_events::handler::{EventContext, HandlerResult, handler_fn};
use commerce_kit_events::test_util::{AdobeSigner, FakeKeyHost, TEST_KEY_PATH_A, TEST_KEY_PATH_B};
use common::post;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

const CLIENT_ID: &str = "4f8a1c2e-client";

struct Server {
    url: String,
    calls: Arc<AtomicUsize>,
}

/// A consumer whose fallback handler counts calls, answers per `data.answer`
/// (a status code), and panics when `data.explode` is true.
fn builder() -> (ConsumerBuilder, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let handler = handler_fn(move |e: CloudEvent, ctx: EventContext| {
        let c = c.clone();
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            let payload = ctx.payload(&e);
            if payload.get("explode") == Some(&Value::Bool(true)) {
                panic!("handler bug");
            }
            match payload.get("answer").and_then(Value::as_u64) {
                Some(code) => Ok(HandlerResult::error(
                    StatusCode::from_u16(code as u16).expect("status"),
                    format!("answered {code}"),
                )),
                None => Ok(HandlerResult::success(format!("handled {}", ctx.event_id))),
            }
        }
    });
    (Consumer::builder(Arc::new(MemoryStore::new())).fallback(handler), calls)
}

async fn start(options: DeliveryOptions) -> Server {
    let (b, calls) = builder();
    start_with(b.build().expect("consumer"), options, calls).await
}

async fn start_with(consumer: Consumer, options: DeliveryOptions, calls: Arc<AtomicUsize>) -> Server {
    let addr = server::spawn_loopback(server::app(router(Delivery::new(consumer, options))))
        .await
        .expect("serve on loopback");
    Server {
        url: format!("http://{addr}/events"),
        calls,
    }
}

fn verified(keys: &FakeKeyHost) -> DeliveryOptions {
    DeliveryOptions::verified(
        SignatureVerifier::new(keys.base_url(), Duration::from_secs(3600)).expect("verifier"),
        Some(CLIENT_ID.to_owned()),
    )
}

/// A Commerce-style delivery body for a customer delete (routes without timestamps).
fn event(id: &str, recipient: Option<&str>, value: Value) -> Value {
    let mut e = json!({
        "specversion": "1.0", "id": format!("cloud-{id}"), "source": "urn:uuid:commerce-provider",
        "type": "com.adobe.commerce.observer.customer_delete_commit_after",
        "datacontenttype": "application/json", "time": "2025-07-17T15:48:42.436Z",
        "eventid": id, "event_id": id,
        "data": {"key": "k", "value": value}
    });
    if let Some(r) = recipient {
        e["recipientclientid"] = json!(r);
        e["recipient_client_id"] = json!(r);
    }
    e
}

async fn post_signed(url: &str, signer: &AdobeSigner, body: &Value) -> (StatusCode, Value) {
    let bytes = serde_json::to_vec(body).expect("json");
    post(url, signer.headers(&bytes), bytes).await
}

#[tokio::test]
async fn valid_signature_1_is_accepted_and_the_event_handled() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let s = start(verified(&keys)).await;
    let (status, body) = post_signed(
        &s.url,
        &AdobeSigner::test_keys(),
        &event("e1", Some(CLIENT_ID), json!({"id": 1})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"type": "com.adobe.commerce.observer.customer_delete_commit_after",
            "response": {"success": true, "message": "handled e1"}})
    );
    assert_eq!(s.calls.load(Ordering::SeqCst), 1);
    assert_eq!(keys.fetches(TEST_KEY_PATH_A), 1);
    assert_eq!(keys.fetches(TEST_KEY_PATH_B), 0, "signature 1 sufficed");
}

#[tokio::test]
async fn valid_signature_2_alone_suffices() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let s = start(verified(&keys)).await;
    // only signature 2 present
    let only_two = AdobeSigner::new(None, Some((RsaSigner::test_key_b(), TEST_KEY_PATH_B.to_owned())));
    let (status, body) = post_signed(&s.url, &only_two, &event("e2", Some(CLIENT_ID), json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // signature 1 wrong (signed with B but pointing at key A), signature 2 right
    let one_wrong = AdobeSigner::new(
        Some((RsaSigner::test_key_b(), TEST_KEY_PATH_A.to_owned())),
        Some((RsaSigner::test_key_b(), TEST_KEY_PATH_B.to_owned())),
    );
    let (status, body) = post_signed(&s.url, &one_wrong, &event("e3", Some(CLIENT_ID), json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn both_signatures_invalid_is_401_with_the_reasons() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let s = start(verified(&keys)).await;
    let swapped = AdobeSigner::new(
        Some((RsaSigner::test_key_b(), TEST_KEY_PATH_A.to_owned())),
        Some((RsaSigner::test_key_a(), TEST_KEY_PATH_B.to_owned())),
    );
    let (status, body) = post_signed(&s.url, &swapped, &event("e4", Some(CLIENT_ID), json!({}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "invalid I/O Events digital signature: signature 1: signature does not match; signature 2: signature does not match"})
    );
    // a body altered after signing
    let bytes = serde_json::to_vec(&event("e5", Some(CLIENT_ID), json!({}))).expect("json");
    let headers = AdobeSigner::test_keys().headers(&bytes);
    let mut tampered = bytes.clone();
    tampered.push(b' ');
    let (status, _) = post(&s.url, headers.clone(), tampered).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // not base64
    let mut garbage = headers;
    garbage.insert("x-adobe-digital-signature-1", "***".parse().expect("hv"));
    garbage.remove("x-adobe-digital-signature-2");
    let (status, body) = post(&s.url, garbage, bytes).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "invalid I/O Events digital signature: signature 1: signature is not valid base64"})
    );
    assert_eq!(s.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn missing_signatures_and_missing_key_paths_are_401() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let s = start(verified(&keys)).await;
    let bytes = serde_json::to_vec(&event("e6", Some(CLIENT_ID), json!({}))).expect("json");
    let (status, body) = post(&s.url, HeaderMap::new(), bytes.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "missing I/O Events digital signature: expected header x-adobe-digital-signature-1 or x-adobe-digital-signature-2"})
    );
    let mut no_path = AdobeSigner::test_keys().headers(&bytes);
    no_path.remove("x-adobe-public-key1-path");
    no_path.remove("x-adobe-digital-signature-2");
    let (status, body) = post(&s.url, no_path, bytes).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "invalid I/O Events digital signature: signature 1: header x-adobe-public-key1-path is missing"})
    );
    assert_eq!(keys.total_fetches(), 0);
}

#[tokio::test]
async fn a_key_path_on_another_host_is_rejected_without_fetching() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    // an attacker-controlled key host that would happily serve key A
    let evil = FakeKeyHost::with_test_keys().await.expect("evil keys");
    let s = start(verified(&keys)).await;
    let evil_path = format!("{}{TEST_KEY_PATH_A}", evil.base_url());
    let at_trick = format!("@{}{TEST_KEY_PATH_A}", evil.base_url().trim_start_matches("http://"));
    for path in [evil_path, at_trick] {
        let signer = AdobeSigner::new(Some((RsaSigner::test_key_a(), path.clone())), None);
        let (status, body) = post_signed(&s.url, &signer, &event("e7", Some(CLIENT_ID), json!({}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            body,
            json!({"error": format!(
                "invalid I/O Events digital signature: signature 1: public key path '{path}' is not a path on {}",
                keys.base_url()
            )})
        );
    }
    assert_eq!(evil.total_fetches(), 0);
    assert_eq!(keys.total_fetches(), 0);
    assert_eq!(s.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn keys_are_fetched_once_for_many_events() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let s = start(verified(&keys)).await;
    let signer = AdobeSigner::test_keys();
    // concurrent first deliveries share one fetch
    let mut tasks = Vec::new();
    // (signing is slow in debug builds: ~0.2 s per event, so the counts stay small)
    for i in 0..10 {
        let (url, signer) = (s.url.clone(), signer.clone());
        tasks.push(tokio::spawn(async move {
            post_signed(&url, &signer, &event(&format!("c{i}"), Some(CLIENT_ID), json!({}))).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.expect("join").0, StatusCode::OK);
    }
    for i in 0..10 {
        let (status, _) = post_signed(&s.url, &signer, &event(&format!("s{i}"), Some(CLIENT_ID), json!({}))).await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(s.calls.load(Ordering::SeqCst), 20);
    assert_eq!(keys.fetches(TEST_KEY_PATH_A), 1);
    assert_eq!(keys.total_fetches(), 1);
}

#[tokio::test]
async fn an_unknown_key_is_401_and_an_unreachable_key_host_is_503() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let s = start(verified(&keys)).await;
    let unknown = AdobeSigner::new(Some((RsaSigner::test_key_a(), "/prod/keys/nope.pem".to_owned())), None);
    let (status, body) = post_signed(&s.url, &unknown, &event("e8", Some(CLIENT_ID), json!({}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": format!(
            "invalid I/O Events digital signature: signature 1: public key {}/prod/keys/nope.pem answered 404 Not Found",
            keys.base_url()
        )})
    );

    // a key host that is down: nothing listens on the port any more
    let dead_base = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    let s2 = start(DeliveryOptions::verified(
        SignatureVerifier::new(&dead_base, Duration::from_secs(60)).expect("verifier"),
        Some(CLIENT_ID.to_owned()),
    ))
    .await;
    let (status, body) = post_signed(
        &s2.url,
        &AdobeSigner::test_keys(),
        &event("e9", Some(CLIENT_ID), json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let message = body["error"].as_str().expect("error");
    assert!(
        message.starts_with(&format!(
            "cannot fetch the I/O Events public key to verify the signature (public key {dead_base}{TEST_KEY_PATH_A} could not be fetched: "
        )),
        "{message}"
    );
    assert!(message.ends_with("); retry later"), "{message}");
}

#[tokio::test]
async fn the_recipient_client_id_must_match() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let s = start(verified(&keys)).await;
    let signer = AdobeSigner::test_keys();
    let (status, body) = post_signed(&s.url, &signer, &event("r1", Some("someone-else"), json!({}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "recipientclientid 'someone-else' does not match this consumer's client id (OAUTH_CLIENT_ID)"})
    );
    let (status, body) = post_signed(&s.url, &signer, &event("r2", None, json!({}))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "missing recipientclientid: the event does not name the client id it was delivered for"})
    );
    // the deprecated field alone is accepted; the new one wins when both exist
    let mut deprecated = event("r3", None, json!({}));
    deprecated["recipient_client_id"] = json!(CLIENT_ID);
    assert_eq!(post_signed(&s.url, &signer, &deprecated).await.0, StatusCode::OK);
    let mut both = event("r4", Some(CLIENT_ID), json!({}));
    both["recipient_client_id"] = json!("stale");
    assert_eq!(post_signed(&s.url, &signer, &both).await.0, StatusCode::OK);
    assert_eq!(s.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unsigned_delivery_is_refused_unless_unsigned_is_chosen_explicitly() {
    let bytes = serde_json::to_vec(&event("u0", Some(CLIENT_ID), json!({}))).expect("json");
    let missing = json!({"error": "missing I/O Events digital signature: expected header x-adobe-digital-signature-1 or x-adobe-digital-signature-2"});
    // Adobe's key host: refused before any key is fetched (no network needed)
    let adobe = start(DeliveryOptions::adobe(CLIENT_ID).expect("options")).await;
    let (status, body) = post(&adobe.url, HeaderMap::new(), bytes.clone()).await;
    assert_eq!((status, &body), (StatusCode::UNAUTHORIZED, &missing));
    assert_eq!(adobe.calls.load(Ordering::SeqCst), 0);
    // any other verifier
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let own = start(verified(&keys)).await;
    let (status, body) = post(&own.url, HeaderMap::new(), bytes.clone()).await;
    assert_eq!((status, &body), (StatusCode::UNAUTHORIZED, &missing));
    assert_eq!(own.calls.load(Ordering::SeqCst), 0);
    assert_eq!(keys.total_fetches(), 0);
    // the same delivery signed is handled
    let (status, _) = post(&own.url, AdobeSigner::test_keys().headers(&bytes), bytes).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(own.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn without_verification_unsigned_deliveries_are_accepted() {
    let s = start(DeliveryOptions::unsigned()).await;
    let bytes = serde_json::to_vec(&event("u1", None, json!({}))).expect("json");
    let (status, _) = post(&s.url, HeaderMap::new(), bytes).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn challenge_is_answered_as_text_or_json() {
    let s = start(DeliveryOptions::unsigned()).await;
    let http = reqwest::Client::new();
    let text = http
        .get(format!("{}?challenge=8ec8d794-e0ab-42df-9017-e3dada8e84f7", s.url))
        .send()
        .await
        .expect("get");
    assert_eq!(text.status(), StatusCode::OK);
    assert_eq!(
        text.headers()["content-type"].to_str().expect("ascii"),
        "text/plain; charset=utf-8"
    );
    assert_eq!(text.text().await.expect("body"), "8ec8d794-e0ab-42df-9017-e3dada8e84f7");

    let as_json = http
        .get(format!("{}?challenge=abc-123", s.url))
        .header("accept", "application/json")
        .send()
        .await
        .expect("get");
    assert_eq!(as_json.status(), StatusCode::OK);
    assert_eq!(
        as_json.headers()["content-type"].to_str().expect("ascii"),
        "application/json"
    );
    assert_eq!(
        as_json.json::<Value>().await.expect("json"),
        json!({"challenge": "abc-123"})
    );

    let prefers_text = http
        .get(format!("{}?challenge=x", s.url))
        .header("accept", "text/plain, application/json")
        .send()
        .await
        .expect("get");
    assert_eq!(prefers_text.text().await.expect("body"), "x");

    let missing = http.get(&s.url).send().await.expect("get");
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        missing.json::<Value>().await.expect("json"),
        json!({"error": "missing query parameter 'challenge'"})
    );
    let long = http
        .get(format!("{}?challenge={}", s.url, "a".repeat(1025)))
        .send()
        .await
        .expect("get");
    assert_eq!(long.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        long.json::<Value>().await.expect("json"),
        json!({"error": "invalid query parameter 'challenge': expected at most 1024 printable characters"})
    );
    assert_eq!(s.calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn validation_url_is_fetched_when_allowed() {
    // a fake Adobe CSM that records the validation GET
    let hits = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let h = hits.clone();
    let csm = axum::Router::new().route(
        "/csm/registrations/validate",
        axum::routing::get(move |uri: axum::http::Uri| {
            let h = h.clone();
            async move {
                h.lock().expect("lock").push(uri.query().unwrap_or("").to_owned());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let csm_addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, csm).await });

    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let mut options = verified(&keys);
    options.validation = ValidationPolicy {
        allow_loopback_http: true,
        timeout: Duration::from_secs(2),
    };
    let s = start(options).await;
    let url = format!("http://{csm_addr}/csm/registrations/validate?id=reg-1&challenge=ch-1");
    let body = serde_json::to_vec(&json!({ "validationUrl": url })).expect("json");
    let (status, resp) = post(&s.url, HeaderMap::new(), body).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(
        resp,
        json!({"success": true, "message": "registration validated through validationUrl"})
    );
    assert_eq!(*hits.lock().expect("lock"), vec!["id=reg-1&challenge=ch-1".to_owned()]);

    // a URL answering 404
    let bad = format!("http://{csm_addr}/elsewhere");
    let (status, resp) = post(
        &s.url,
        HeaderMap::new(),
        serde_json::to_vec(&json!({"validationUrl": bad})).expect("json"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(
        resp,
        json!({"error": "validationUrl could not be confirmed: 127.0.0.1 answered 404 Not Found"})
    );
    assert_eq!(keys.total_fetches(), 0);
}

#[tokio::test]
async fn validation_url_outside_adobe_is_refused_by_default() {
    let s = start(DeliveryOptions::unsigned()).await;
    for (raw, message) in [
        (
            json!("http://127.0.0.1:1/validate"),
            "validationUrl 'http://127.0.0.1:1/validate' is not an https URL on adobe.io",
        ),
        (
            json!("https://evil.example/validate"),
            "validationUrl 'https://evil.example/validate' is not an https URL on adobe.io",
        ),
        (json!(42), "invalid parameter 'validationUrl': expected a string"),
    ] {
        let body = serde_json::to_vec(&json!({ "validationUrl": raw })).expect("json");
        let (status, resp) = post(&s.url, HeaderMap::new(), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(resp, json!({ "error": message }));
    }
}

#[tokio::test]
async fn a_batch_answers_the_worst_status_and_lists_every_event() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let s = start(verified(&keys)).await;
    let signer = AdobeSigner::test_keys();
    let batch = json!([
        event("b1", Some(CLIENT_ID), json!({})),
        event("b2", Some(CLIENT_ID), json!({"answer": 404})),
        event("b3", Some(CLIENT_ID), json!({"answer": 503})),
        event("b4", Some("intruder"), json!({})),
        {"specversion": "1.0", "id": "b5", "source": "s"},
    ]);
    let (status, body) = post_signed(&s.url, &signer, &batch).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "retryable beats everything: {body}"
    );
    let ty = "com.adobe.commerce.observer.customer_delete_commit_after";
    assert_eq!(
        body,
        json!({"results": [
            {"index": 0, "id": "b1", "type": ty, "status": 200,
             "body": {"type": ty, "response": {"success": true, "message": "handled b1"}}},
            {"index": 1, "id": "b2", "type": ty, "status": 404, "body": {"error": "answered 404"}},
            {"index": 2, "id": "b3", "type": ty, "status": 503, "body": {"error": "answered 503"}},
            {"index": 3, "id": "b4", "type": ty, "status": 401,
             "body": {"error": "recipientclientid 'intruder' does not match this consumer's client id (OAUTH_CLIENT_ID)"}},
            {"index": 4, "id": "b5", "type": null, "status": 400,
             "body": {"error": "invalid CloudEvent: missing field `type`"}},
        ]})
    );
    assert_eq!(s.calls.load(Ordering::SeqCst), 3);

    // the retried batch: the handled event is a duplicate, only the failed ones run again
    let (status, body) = post_signed(&s.url, &signer, &batch).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body["results"][0]["body"]["response"]["message"],
        "event 'b1' was already handled; not handled again"
    );
    assert_eq!(s.calls.load(Ordering::SeqCst), 5);

    // without retryable failures a final failure wins over success
    let final_only = json!([
        event("f1", Some(CLIENT_ID), json!({})),
        event("f2", Some(CLIENT_ID), json!({"answer": 422}))
    ]);
    let (status, _) = post_signed(&s.url, &signer, &final_only).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let all_ok = json!([
        event("o1", Some(CLIENT_ID), json!({})),
        event("o2", Some(CLIENT_ID), json!({}))
    ]);
    let (status, body) = post_signed(&s.url, &signer, &all_ok).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["results"].as_array().map(Vec::len), Some(2));

    let (status, body) = post_signed(&s.url, &signer, &json!([])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, json!({"error": "invalid delivery: empty batch"}));
}

#[tokio::test]
async fn a_redelivered_event_id_is_not_handled_twice() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let s = start(verified(&keys)).await;
    let signer = AdobeSigner::test_keys();
    let body = serde_json::to_vec(&event("dup", Some(CLIENT_ID), json!({}))).expect("json");
    let mut headers = signer.headers(&body);
    headers.insert("x-adobe-event-id", "dup".parse().expect("hv"));
    let (first, _) = post(&s.url, headers.clone(), body.clone()).await;
    assert_eq!(first, StatusCode::OK);
    headers.insert("x-adobe-retry-count", "1".parse().expect("hv"));
    let (second, resp) = post(&s.url, headers.clone(), body.clone()).await;
    assert_eq!(second, StatusCode::OK);
    let duplicate = json!({"type": "com.adobe.commerce.observer.customer_delete_commit_after",
        "response": {"success": true, "message": "event 'dup' was already handled; not handled again"}});
    assert_eq!(resp, duplicate);
    // a replay with another (unsigned) x-adobe-event-id header is still the signed body's event
    headers.insert("x-adobe-event-id", "forged-new-id".parse().expect("hv"));
    let (third, resp) = post(&s.url, headers, body).await;
    assert_eq!((third, resp), (StatusCode::OK, duplicate));
    assert_eq!(s.calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_loop_guard_discards_an_echo_over_http() {
    let s = start(DeliveryOptions::unsigned()).await;
    let update = json!({"specversion": "1.0", "id": "bo-1", "source": "urn:uuid:backoffice",
        "type": "be-observer.catalog_product_update",
        "data": {"sku": "24-MB01", "name": "Bag", "description": "d", "price": 3}});
    let (status, _) = post(&s.url, HeaderMap::new(), serde_json::to_vec(&update).expect("json")).await;
    assert_eq!(status, StatusCode::OK);
    let echo = json!({"specversion": "1.0", "id": "c-1", "source": "urn:uuid:commerce",
        "type": "com.adobe.commerce.shop1.observer.catalog_product_save_commit_after",
        "data": {"value": {"description": "d", "name": "Bag", "sku": "24-MB01",
            "created_at": "2025-01-01 00:00:00", "updated_at": "2025-06-01 00:00:00"}}});
    let (status, body) = post(&s.url, HeaderMap::new(), serde_json::to_vec(&echo).expect("json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["response"]["message"],
        "event discarded to prevent an infinite loop (loop:product:sku=24-MB01)"
    );
    let mut changed = echo.clone();
    changed["id"] = json!("c-2");
    changed["data"]["value"]["name"] = json!("Bag v2");
    let (status, body) = post(&s.url, HeaderMap::new(), serde_json::to_vec(&changed).expect("json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["response"]["message"], "handled c-2");
    assert_eq!(s.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_handler_panic_is_500_and_the_server_keeps_serving() {
    let s = start(DeliveryOptions::unsigned()).await;
    let boom = serde_json::to_vec(&event("p1", None, json!({"explode": true}))).expect("json");
    let (status, body) = post(&s.url, HeaderMap::new(), boom).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        json!({"error": "handler for 'com.adobe.commerce.observer.customer_delete_commit_after' panicked"})
    );
    let fine = serde_json::to_vec(&event("p2", None, json!({}))).expect("json");
    let (status, _) = post(&s.url, HeaderMap::new(), fine).await;
    assert_eq!(status, StatusCode::OK);
    let health = reqwest::get(s.url.replace("/events", "/health")).await.expect("health");
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn bad_bodies_have_exact_messages() {
    let (b, calls) = builder();
    let s = start_with(
        b.build().expect("consumer"),
        DeliveryOptions::unsigned().with_body_limit(64),
        calls,
    )
    .await;
    let cases: Vec<(Vec<u8>, StatusCode, &str)> = vec![
        (b"".to_vec(), StatusCode::BAD_REQUEST, "request body is empty"),
        (
            b"{\"a\": }".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid JSON at line 1 column 7: expected value",
        ),
        (
            b"\"text\"".to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid delivery: expected a CloudEvent object or an array of CloudEvents",
        ),
        (
            br#"{"specversion":"0.3","id":"1","source":"s","type":"t"}"#.to_vec(),
            StatusCode::BAD_REQUEST,
            "invalid CloudEvent: unsupported specversion '0.3' (expected '1.0')",
        ),
        (
            vec![b' '; 65],
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body is larger than the limit of 64 bytes",
        ),
    ];
    for (body, status, message) in cases {
        let (got, resp) = post(&s.url, HeaderMap::new(), body).await;
        assert_eq!((got, resp), (status, json!({ "error": message })));
    }
    assert_eq!(s.calls.load(Ordering::SeqCst), 0);
}

/// A consumer whose handler records every event it receives.
fn recording() -> (Consumer, Arc<std::sync::Mutex<Vec<CloudEvent>>>) {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let handler = handler_fn(move |e: CloudEvent, ctx: EventContext| {
        let s = s.clone();
        async move {
            s.lock().expect("lock").push(e);
            Ok(HandlerResult::success(format!("handled {}", ctx.event_id)))
        }
    });
    let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
        .fallback(handler)
        .build()
        .expect("consumer");
    (consumer, seen)
}

#[tokio::test]
async fn binary_and_structured_content_modes_are_handled_alike() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let signer = AdobeSigner::test_keys();
    let structured = event("b1", Some(CLIENT_ID), json!({"id": 7, "note": "café"}));

    // Structured mode: the whole event is the (signed) body.
    let (consumer, seen_structured) = recording();
    let s = start_with(consumer, verified(&keys), Arc::default()).await;
    let answer_structured = post_signed(&s.url, &signer, &structured).await;

    // Binary mode: the attributes as ce-* headers (percent-encoded where needed),
    // the data as the (signed) body, its media type as Content-Type.
    let data = serde_json::to_vec(&structured["data"]).expect("json");
    let mut headers = signer.headers(&data);
    for (name, value) in structured.as_object().expect("object") {
        if name == "data" || name == "datacontenttype" {
            continue;
        }
        let text = value.as_str().expect("string attribute");
        let encoded: String = text
            .bytes()
            .map(|b| match b {
                b' ' | b'"' | b'%' | 0x80.. => format!("%{b:02X}"),
                b => (b as char).to_string(),
            })
            .collect();
        headers.insert(
            http::HeaderName::from_bytes(format!("ce-{name}").as_bytes()).expect("name"),
            encoded.parse().expect("value"),
        );
    }
    headers.insert(
        http::header::CONTENT_TYPE,
        "application/json; charset=utf-8".parse().expect("ct"),
    );
    let (consumer, seen_binary) = recording();
    let b = start_with(consumer, verified(&keys), Arc::default()).await;
    let answer_binary = post(&b.url, headers.clone(), data.clone()).await;

    assert_eq!(answer_structured.0, StatusCode::OK, "{}", answer_structured.1);
    assert_eq!(answer_binary, answer_structured, "the same answer in both modes");
    let (structured_events, binary_events) = (
        seen_structured.lock().expect("lock").clone(),
        seen_binary.lock().expect("lock").clone(),
    );
    assert_eq!(structured_events.len(), 1);
    assert_eq!(binary_events, structured_events, "the handler sees the same CloudEvent");

    // The signature covers the body in binary mode too: other data is refused.
    let (status, body) = post(&b.url, headers.clone(), br#"{"key":"k","value":{"id":8}}"#.to_vec()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    // The recipient check applies to binary mode too.
    headers.insert("ce-recipientclientid", "someone-else".parse().expect("value"));
    let (status, body) = post(&b.url, headers, data).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(
        body,
        json!({"error": "recipientclientid 'someone-else' does not match this consumer's client id (OAUTH_CLIENT_ID)"})
    );
    assert_eq!(seen_binary.lock().expect("lock").len(), 1);
}

#[tokio::test]
async fn bad_binary_mode_requests_have_exact_answers() {
    let s = start(DeliveryOptions::unsigned()).await;
    let base = |extra: &[(&'static str, &str)]| {
        let mut h = HeaderMap::new();
        for (name, value) in [
            ("ce-specversion", "1.0"),
            ("ce-id", "bin-1"),
            ("ce-source", "urn:uuid:p"),
            ("ce-type", "com.adobe.commerce.observer.customer_delete_commit_after"),
        ] {
            h.insert(name, value.parse().expect("value"));
        }
        for (name, value) in extra {
            h.append(*name, value.parse().expect("value"));
        }
        h
    };
    let cases: Vec<(HeaderMap, &[u8], StatusCode, Value)> = vec![
        (
            base(&[("content-type", "text/plain")]),
            b"hello",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({"error": "unsupported data content type 'text/plain' in binary mode: this consumer's handlers take JSON data (send application/json, or the event in structured mode)"}),
        ),
        (
            base(&[("ce-id", "again")]),
            b"{}",
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid CloudEvent: header 'ce-id' appears more than once"}),
        ),
        (
            base(&[("content-type", "application/json")]),
            b"{\"key\": }",
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid JSON at line 1 column 9: expected value"}),
        ),
        (
            {
                let mut h = base(&[]);
                h.remove("ce-source");
                h
            },
            b"{}",
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid CloudEvent: missing field `source`"}),
        ),
    ];
    for (headers, body, status, expected) in cases {
        assert_eq!(post(&s.url, headers, body.to_vec()).await, (status, expected));
    }
    assert_eq!(s.calls.load(Ordering::SeqCst), 0, "nothing was dispatched");
    // A well-formed one is handled.
    let (status, body) = post(
        &s.url,
        base(&[("content-type", "application/json")]),
        br#"{"key":"k","value":{"id":1}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(s.calls.load(Ordering::SeqCst), 1);
}
