//! Hostile deliveries to `GET|POST /events` over real HTTP on loopback: huge
//! batches, batches past the limit, unbounded or control-character ids,
//! wrong-typed attributes, long challenges, unsigned junk when signatures
//! are verified. Every answer is asserted exactly.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use commerce_kit_core::server;
use commerce_kit_core::state::MemoryStore;
use commerce_kit_events::cloudevent::CloudEvent;
use commerce_kit_events::consumer::Consumer;
use commerce_kit_events::delivery::{BATCH_CONCURRENCY, Delivery, DeliveryOptions, SignatureVerifier, router};
use commerce_kit_events::handler::{EventContext, HandlerResult, handler_fn};
use commerce_kit_events::test_util::{AdobeSigner, FakeKeyHost};
use common::post;
use http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

const CLIENT_ID: &str = "4f8a1c2e-client";

struct Server {
    url: String,
    calls: Arc<AtomicUsize>,
    /// Most handlers running at the same time.
    peak: Arc<AtomicUsize>,
}

/// A server whose fallback handler counts calls and the peak of concurrent
/// calls; each call takes `hold`.
async fn start(options: DeliveryOptions, hold: Duration) -> Server {
    let calls = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let running = Arc::new(AtomicUsize::new(0));
    let (c, p) = (calls.clone(), peak.clone());
    let handler = handler_fn(move |_e: CloudEvent, ctx: EventContext| {
        let (c, p, r) = (c.clone(), p.clone(), running.clone());
        async move {
            c.fetch_add(1, Ordering::SeqCst);
            let now = r.fetch_add(1, Ordering::SeqCst) + 1;
            p.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(hold).await;
            r.fetch_sub(1, Ordering::SeqCst);
            Ok(HandlerResult::success(format!("handled {}", ctx.event_id)))
        }
    });
    let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
        .fallback(handler)
        .build()
        .expect("consumer");
    let addr = server::spawn_loopback(server::app(router(Delivery::new(consumer, options))))
        .await
        .expect("serve on loopback");
    Server {
        url: format!("http://{addr}/events"),
        calls,
        peak,
    }
}

fn minimal(i: usize) -> String {
    format!(r#"{{"specversion":"1.0","id":"{i}","source":"s","type":"be-observer.catalog_product_delete"}}"#)
}

/// `[e0,e1,…]` of `n` minimal events.
fn batch(n: usize) -> String {
    let events: Vec<String> = (0..n).map(minimal).collect();
    format!("[{}]", events.join(","))
}

#[tokio::test]
async fn a_2_mb_batch_of_20000_events_is_413_before_any_event_is_dispatched() {
    let s = start(DeliveryOptions::unsigned(), Duration::ZERO).await;
    let body = batch(20_000);
    assert!(body.len() > 1_800_000 && body.len() < 2_621_440, "{}", body.len());
    let (status, resp) = post(&s.url, HeaderMap::new(), body).await;
    assert_eq!(
        (status, resp),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "invalid delivery: a batch of 20000 events is larger than the limit of 20 events per delivery"})
        )
    );
    // 21 (one past the limit) is refused too, whatever the elements are
    let (status, resp) = post(
        &s.url,
        HeaderMap::new(),
        format!("[{}, 1]", batch(20).trim_matches(['[', ']'])),
    )
    .await;
    assert_eq!(
        (status, resp),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "invalid delivery: a batch of 21 events is larger than the limit of 20 events per delivery"})
        )
    );
    assert_eq!(s.calls.load(Ordering::SeqCst), 0, "nothing dispatched");
    // Adobe's largest batch is handled whole
    let (status, resp) = post(&s.url, HeaderMap::new(), batch(20)).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    assert_eq!(resp["results"].as_array().map(Vec::len), Some(20));
    assert_eq!(s.calls.load(Ordering::SeqCst), 20);
}

#[tokio::test]
async fn the_batch_limit_is_configurable() {
    let s = start(DeliveryOptions::unsigned().with_batch_limit(3), Duration::ZERO).await;
    let (status, resp) = post(&s.url, HeaderMap::new(), batch(4)).await;
    assert_eq!(
        (status, resp),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "invalid delivery: a batch of 4 events is larger than the limit of 3 events per delivery"})
        )
    );
    let (status, _) = post(&s.url, HeaderMap::new(), batch(3)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.calls.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn at_most_batch_concurrency_events_of_a_batch_are_handled_at_once() {
    assert_eq!(BATCH_CONCURRENCY, 20);
    let s = start(
        DeliveryOptions::unsigned().with_batch_limit(60),
        Duration::from_millis(100),
    )
    .await;
    let (status, resp) = post(&s.url, HeaderMap::new(), batch(60)).await;
    assert_eq!(status, StatusCode::OK, "{resp}");
    let results = resp["results"].as_array().expect("results");
    assert_eq!(results.len(), 60);
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["index"], i, "in order");
        assert_eq!(r["id"], i.to_string());
    }
    assert_eq!(s.calls.load(Ordering::SeqCst), 60);
    assert_eq!(s.peak.load(Ordering::SeqCst), BATCH_CONCURRENCY, "bounded, and used");
}

#[tokio::test]
async fn long_and_control_character_event_ids_are_400_naming_the_attribute_and_the_limit() {
    let s = start(DeliveryOptions::unsigned(), Duration::ZERO).await;
    let long = "x".repeat(300_000);
    let cases = [
        (
            json!({"specversion": "1.0", "id": long, "source": "s", "type": "be-observer.catalog_product_delete"}),
            "invalid CloudEvent: attribute 'id': longer than the limit of 256 bytes (300000 bytes)",
        ),
        (
            json!({"specversion": "1.0", "id": "evt\r\n1", "source": "s", "type": "be-observer.catalog_product_delete"}),
            "invalid CloudEvent: attribute 'id': control characters are not allowed (U+000D at byte 3)",
        ),
        (
            json!({"specversion": "1.0", "id": "1", "eventid": "a".repeat(257), "source": "s",
                "type": "be-observer.catalog_product_delete"}),
            "invalid CloudEvent: attribute 'eventid': longer than the limit of 256 bytes (257 bytes)",
        ),
        (
            json!({"specversion": "1.0", "id": 5, "source": "s", "type": "be-observer.catalog_product_delete"}),
            "invalid CloudEvent: attribute 'id': expected a string, found a number",
        ),
        (
            json!({"specversion": "1.0", "id": "1", "source": "s", "type": "be-observer.catalog_product_delete",
                "time": 1_700_000_000}),
            "invalid CloudEvent: attribute 'time': expected a string or null, found a number",
        ),
    ];
    for (event, message) in &cases {
        let (status, resp) = post(&s.url, HeaderMap::new(), serde_json::to_vec(event).expect("json")).await;
        assert_eq!((status, resp), (StatusCode::BAD_REQUEST, json!({ "error": message })));
    }
    // in a batch, the refused event is answered in its entry and the others are handled
    let ok = serde_json::from_str::<Value>(&minimal(7)).expect("json");
    let mixed = json!([ok, cases[1].0]);
    let (status, resp) = post(&s.url, HeaderMap::new(), serde_json::to_vec(&mixed).expect("json")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        resp["results"][1],
        json!({"index": 1, "id": "evt\r\n1", "type": "be-observer.catalog_product_delete", "status": 400,
            "body": {"error": "invalid CloudEvent: attribute 'id': control characters are not allowed (U+000D at byte 3)"}})
    );
    // exactly 256 bytes is an id
    let at_limit = json!({"specversion": "1.0", "id": "é".repeat(128), "source": "s",
        "type": "be-observer.catalog_product_delete"});
    let (status, _) = post(&s.url, HeaderMap::new(), serde_json::to_vec(&at_limit).expect("json")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn the_challenge_limit_counts_characters_as_its_message_says() {
    let s = start(DeliveryOptions::unsigned(), Duration::ZERO).await;
    let http = reqwest::Client::new();
    let get = |challenge: String| {
        let http = http.clone();
        let url = s.url.clone();
        async move {
            let encoded: String = challenge
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() {
                        char::from(b).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            let resp = http
                .get(format!("{url}?challenge={encoded}"))
                .send()
                .await
                .expect("get");
            (resp.status(), resp.text().await.expect("body"))
        }
    };
    let refused = r#"{"error":"invalid query parameter 'challenge': expected at most 1024 printable characters"}"#;
    // 1024 two-byte characters (2048 bytes) are 1024 characters: answered
    let wide = "é".repeat(1024);
    assert_eq!(get(wide.clone()).await, (StatusCode::OK, wide));
    assert_eq!(
        get("é".repeat(1025)).await,
        (StatusCode::BAD_REQUEST, refused.to_owned())
    );
    assert_eq!(
        get("a".repeat(1025)).await,
        (StatusCode::BAD_REQUEST, refused.to_owned())
    );
    assert_eq!(
        get("ab\u{7}c".to_owned()).await,
        (StatusCode::BAD_REQUEST, refused.to_owned())
    );
    assert_eq!(get("a".repeat(1024)).await, (StatusCode::OK, "a".repeat(1024)));
}

fn verified(keys: &FakeKeyHost) -> DeliveryOptions {
    DeliveryOptions::verified(
        SignatureVerifier::new(keys.base_url(), Duration::from_secs(3600)).expect("verifier"),
        Some(CLIENT_ID.to_owned()),
    )
}

#[tokio::test]
async fn with_verification_the_signature_is_checked_before_the_body_is_parsed() {
    let keys = FakeKeyHost::with_test_keys().await.expect("keys");
    let s = start(verified(&keys), Duration::ZERO).await;
    let missing = json!({"error": "missing I/O Events digital signature: expected header x-adobe-digital-signature-1 or x-adobe-digital-signature-2"});
    // not JSON, a huge batch, a wrong-typed event: unsigned, all are 401, not 400 or 413
    for body in [
        b"{\"a\": }".to_vec(),
        batch(20_000).into_bytes(),
        br#"{"specversion":"1.0","id":5}"#.to_vec(),
    ] {
        let (status, resp) = post(&s.url, HeaderMap::new(), body).await;
        assert_eq!((status, resp), (StatusCode::UNAUTHORIZED, missing.clone()));
    }
    // an unsigned validationUrl request is only recognised when small (Adobe's are)
    let padded =
        json!({"validationUrl": "https://csm.adobe.io/csm/registrations/validate?id=1", "pad": "a".repeat(5000)});
    let (status, resp) = post(&s.url, HeaderMap::new(), serde_json::to_vec(&padded).expect("json")).await;
    assert_eq!((status, resp), (StatusCode::UNAUTHORIZED, missing.clone()));
    let not_adobe = json!({"validationUrl": "https://evil.example/validate"});
    let (status, resp) = post(&s.url, HeaderMap::new(), serde_json::to_vec(&not_adobe).expect("json")).await;
    assert_eq!(
        (status, resp),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "validationUrl 'https://evil.example/validate' is not an https URL on adobe.io"})
        )
    );
    assert_eq!(keys.total_fetches(), 0, "no key fetched for unsigned bodies");
    // signed with the key of another body: the signature's reason, not the JSON error
    let signer = AdobeSigner::test_keys();
    let headers = signer.headers(b"another body");
    let (status, resp) = post(&s.url, headers, b"{\"a\": }".to_vec()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let reason = resp["error"].as_str().expect("error").to_owned();
    assert!(reason.starts_with("invalid I/O Events digital signature: "), "{reason}");
    // correctly signed, the body is then parsed and judged
    let body = b"{\"a\": }".to_vec();
    let (status, resp) = post(&s.url, signer.headers(&body), body).await;
    assert_eq!(
        (status, resp),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid JSON at line 1 column 7: expected value"})
        )
    );
    let body = batch(21).into_bytes();
    let (status, resp) = post(&s.url, signer.headers(&body), body).await;
    assert_eq!(
        (status, resp),
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            json!({"error": "invalid delivery: a batch of 21 events is larger than the limit of 20 events per delivery"})
        )
    );
    assert_eq!(s.calls.load(Ordering::SeqCst), 0);
}
