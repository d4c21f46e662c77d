//! Publishing to Adobe I/O Events, against a loopback fake of IMS and the
//! ingress that speaks their protocol and records what it received. Every
//! scenario runs on both transports of `IoEventsPublisher`: the dedicated
//! ingress client (what the binaries use) and reqwest.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use commerce_kit_ingestion::testing::{FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeResponse};
use common::adobe::*;
use common::*;
use reqwest::Url;
use serde_json::{Value, json};

#[tokio::test]
async fn publishes_a_cloudevent_with_an_ims_token() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup(transport).await;
        let value =
            json!({"sku": "PRODUCT_SKU", "name": "Product SKU", "price": 1, "description": "Product SKU description"});
        let (status, body) = s.server.post(&request("event_uid_1", EVENT, value.clone()), &[]).await;
        assert_eq!((status, body), (200, success(EVENT)));

        let tokens = s.fake.token_requests();
        assert_eq!(tokens.len(), 1);
        let t = &tokens[0];
        assert_eq!(t.content_type.as_deref(), Some("application/x-www-form-urlencoded"));
        assert_eq!(t.field("grant_type"), Some("client_credentials"));
        assert_eq!(t.field("client_id"), Some(FAKE_CLIENT_ID));
        assert_eq!(t.field("client_secret"), Some(FAKE_CLIENT_SECRET));
        assert_eq!(t.field("scope"), Some("adobeio_api"));

        let sent = s.fake.ingress_requests();
        assert_eq!(sent.len(), 1);
        let r = &sent[0];
        assert_eq!(r.answered, 200);
        let h = |name: &str| r.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        assert_eq!(h("x-api-key").as_deref(), Some(FAKE_CLIENT_ID));
        assert_eq!(h("authorization").as_deref(), Some("Bearer fake-ims-token-1"));
        assert_eq!(h("content-type").as_deref(), Some("application/cloudevents+json"));
        assert_eq!(h("x-ims-org-id").as_deref(), Some("0123456789ABCDEF@AdobeOrg"));
        let ce = &r.body;
        assert_eq!(ce["specversion"], "1.0");
        assert_eq!(ce["id"], "event_uid_1", "id = data.uid");
        assert_eq!(ce["source"], format!("urn:uuid:{PROVIDER}"));
        assert_eq!(ce["type"], EVENT);
        assert_eq!(ce["datacontenttype"], "application/json");
        assert_eq!(ce["data"], value, "data = value, unwrapped");
        let time = ce["time"].as_str().expect("time");
        assert!(time.ends_with('Z') && time.len() == 24, "{time}");
        let keys: Vec<&String> = ce.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 7, "no other attributes: {keys:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_publishes_share_one_token_request() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup(transport).await;
        s.fake.set_ims_delay(Duration::from_millis(300));
        let server = Arc::new(s.server);
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let server = server.clone();
                tokio::spawn(async move { server.post(&product(&format!("c{i}")), &[]).await })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.expect("join"), (200, success(EVENT)));
        }
        assert_eq!(s.fake.token_request_count(), 1, "single-flight token fetch");
        assert_eq!(s.publisher.ims().fetches(), 1);
        assert_eq!(s.fake.ingress_request_count(), 50);
        let connections = s.fake.connection_count();
        assert!(
            connections <= 51,
            "at most one connection per concurrent publish: {connections}"
        );
    }
}

#[tokio::test]
async fn a_token_is_refreshed_ten_minutes_before_it_expires() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup(transport).await;
        s.fake.set_token_lifetime(601); // usable for 1 s with the 10-minute margin
        assert_eq!(s.server.post(&product("e1"), &[]).await.0, 200);
        assert_eq!(s.server.post(&product("e2"), &[]).await.0, 200);
        assert_eq!(s.fake.token_request_count(), 1, "still fresh");
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(s.server.post(&product("e3"), &[]).await.0, 200);
        assert_eq!(s.fake.token_request_count(), 2, "refreshed after expiry minus margin");
        let auths: Vec<String> = s
            .fake
            .ingress_requests()
            .iter()
            .map(|r| r.headers["authorization"].to_str().expect("ascii").to_owned())
            .collect();
        assert_eq!(
            auths,
            [
                "Bearer fake-ims-token-1",
                "Bearer fake-ims-token-1",
                "Bearer fake-ims-token-2"
            ]
        );
    }
}

#[tokio::test]
async fn no_registrations_204_is_a_success() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup(transport).await;
        s.fake.push_ingress_response(FakeResponse::status(204));
        assert_eq!(s.server.post(&product("n1"), &[]).await, (200, success(EVENT)));
        assert_eq!(s.fake.ingress_request_count(), 1, "not retried");
        assert_eq!(s.server.post(&product("n1"), &[]).await.0, 200);
        assert_eq!(s.fake.ingress_request_count(), 1, "and remembered as published");
    }
}

#[tokio::test]
async fn throttling_429_waits_for_retry_after_then_succeeds() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup(transport).await;
        s.fake.push_ingress_response(
            FakeResponse::status(429)
                .header("retry-after", "1")
                .body("Too Many Requests"),
        );
        let started = Instant::now();
        assert_eq!(s.server.post(&product("t1"), &[]).await, (200, success(EVENT)));
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "waited {:?}",
            started.elapsed()
        );
        let answered: Vec<u16> = s.fake.ingress_requests().iter().map(|r| r.answered).collect();
        assert_eq!(answered, [429, 200]);
    }
}

#[tokio::test]
async fn throttling_beyond_the_budget_is_503() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup_with(transport, Duration::from_secs(2), FAKE_CLIENT_SECRET, None).await;
        s.fake
            .push_ingress_response(FakeResponse::status(429).header("retry-after", "60"));
        let started = Instant::now();
        assert_eq!(
            s.server.post(&product("t2"), &[]).await,
            (
                503,
                error("Adobe I/O Events is throttling requests (HTTP 429) within the 2 s retry budget; retry later")
            )
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "gave up at once: Retry-After exceeds the budget"
        );
        assert_eq!(s.fake.ingress_request_count(), 1);
        // The failed uid is not remembered: a retry publishes.
        assert_eq!(s.server.post(&product("t2"), &[]).await.0, 200);
    }
}

#[tokio::test]
async fn persistent_server_errors_are_retried_then_502() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup_with(transport, Duration::from_secs(2), FAKE_CLIENT_SECRET, None).await;
        for _ in 0..100 {
            s.fake.push_ingress_response(FakeResponse::status(500).body("boom"));
        }
        let started = Instant::now();
        assert_eq!(
            s.server.post(&product("p1"), &[]).await,
            (
                502,
                error("Adobe I/O Events failed (HTTP 500) on every attempt within the 2 s retry budget")
            )
        );
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_millis(2500),
            "bounded by the budget: {elapsed:?}"
        );
        let attempts = s.fake.ingress_request_count();
        assert!(attempts >= 3, "retried with backoff: {attempts} attempt(s)");
        assert_eq!(s.fake.token_request_count(), 1, "the token is reused across retries");
    }
}

#[tokio::test]
async fn a_transient_server_error_is_retried_to_success() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup(transport).await;
        s.fake.push_ingress_response(FakeResponse::status(503));
        s.fake.push_ingress_response(FakeResponse::status(502));
        assert_eq!(s.server.post(&product("r1"), &[]).await, (200, success(EVENT)));
        let answered: Vec<u16> = s.fake.ingress_requests().iter().map(|r| r.answered).collect();
        assert_eq!(answered, [503, 502, 200]);
        let ids: Vec<Value> = s.fake.ingress_requests().iter().map(|r| r.body["id"].clone()).collect();
        assert_eq!(
            ids,
            [json!("r1"), json!("r1"), json!("r1")],
            "every attempt is the same event"
        );
    }
}

#[tokio::test]
async fn an_unreachable_ingress_is_503() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        // A port nothing listens on.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = Url::parse(&format!("http://{}", closed.local_addr().expect("addr"))).expect("url");
        drop(closed);
        let s = setup_with(transport, Duration::from_secs(1), FAKE_CLIENT_SECRET, Some(url)).await;
        let (status, body) = s.server.post(&product("u1"), &[]).await;
        assert_eq!(status, 503);
        let message = body["error"].as_str().expect("message");
        assert!(
            message.starts_with("Adobe I/O Events is unreachable within the 1 s retry budget: ")
                && message.contains("Connection refused"),
            "{message}"
        );
    }
}

#[tokio::test]
async fn other_client_errors_are_final_502() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup(transport).await;
        s.fake
            .push_ingress_response(FakeResponse::status(400).body("event code not registered for provider"));
        assert_eq!(
            s.server.post(&product("x1"), &[]).await,
            (502, error("Adobe I/O Events rejected the event (HTTP 400)"))
        );
        assert_eq!(s.fake.ingress_request_count(), 1, "not retried");
    }
}

#[tokio::test]
async fn an_ingress_401_refreshes_the_token_once_then_succeeds() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup(transport).await;
        assert_eq!(s.server.post(&product("a1"), &[]).await.0, 200);
        s.fake.revoke_tokens(); // Adobe no longer accepts fake-ims-token-1
        assert_eq!(s.server.post(&product("a2"), &[]).await, (200, success(EVENT)));
        assert_eq!(s.fake.token_request_count(), 2);
        let seen: Vec<(String, u16)> = s
            .fake
            .ingress_requests()
            .iter()
            .map(|r| {
                (
                    r.headers["authorization"].to_str().expect("ascii").to_owned(),
                    r.answered,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("Bearer fake-ims-token-1".to_owned(), 200),
                ("Bearer fake-ims-token-1".to_owned(), 401),
                ("Bearer fake-ims-token-2".to_owned(), 200),
            ]
        );
    }
}

#[tokio::test]
async fn a_second_401_after_a_refresh_is_final() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup(transport).await;
        s.fake.push_ingress_response(FakeResponse::status(401));
        s.fake.push_ingress_response(FakeResponse::status(401));
        assert_eq!(
            s.server.post(&product("a3"), &[]).await,
            (
                502,
                error(
                    "Adobe I/O Events refused a freshly issued IMS token (HTTP 401); check the credentials' I/O Events access"
                )
            )
        );
        assert_eq!(s.fake.token_request_count(), 2, "exactly one refresh");
        assert_eq!(s.fake.ingress_request_count(), 2);
    }
}

#[tokio::test]
async fn wrong_credentials_are_502_without_leaking_them() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup_with(transport, Duration::from_secs(2), "not-the-secret", None).await;
        let (status, body) = s.server.post(&product("w1"), &[]).await;
        assert_eq!(
            (status, &body),
            (
                502,
                &error("Adobe IMS refused the integration's credentials (HTTP 401 invalid_client)")
            )
        );
        assert!(!body.to_string().contains("not-the-secret"));
        assert_eq!(s.fake.token_request_count(), 1, "a refusal is not retried");
        assert_eq!(s.fake.ingress_request_count(), 0);
    }
}

#[tokio::test]
async fn ims_outages_are_retried_within_the_budget() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup(transport).await;
        s.fake.push_ims_response(FakeResponse::status(503));
        assert_eq!(s.server.post(&product("i1"), &[]).await, (200, success(EVENT)));
        assert_eq!(s.fake.token_request_count(), 2);

        let s = setup_with(transport, Duration::from_secs(1), FAKE_CLIENT_SECRET, None).await;
        for _ in 0..100 {
            s.fake.push_ims_response(FakeResponse::status(500));
        }
        assert_eq!(
            s.server.post(&product("i2"), &[]).await,
            (
                502,
                error("Adobe IMS failed (HTTP 500) on every attempt within the 1 s retry budget")
            )
        );
        assert_eq!(s.fake.ingress_request_count(), 0);
    }
}

#[tokio::test]
async fn connections_to_the_ingress_are_reused() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup(transport).await;
        for i in 0..5 {
            assert_eq!(s.server.post(&product(&format!("k{i}")), &[]).await.0, 200);
        }
        // A body too long to arrive with the headers: it must be drained for reuse.
        s.fake
            .push_ingress_response(FakeResponse::status(503).body(&"try again later. ".repeat(2000)));
        assert_eq!(s.server.post(&product("k5"), &[]).await.0, 200);
        assert_eq!(s.fake.ingress_request_count(), 7);
        // reqwest: one pooled connection for the token request and every
        // publish, retries included. Dedicated: one for the token request (the
        // general client), one pooled for every publish, retries included.
        let expected = match transport {
            Transport::Reqwest => 1,
            Transport::Dedicated => 2,
        };
        assert_eq!(s.fake.connection_count(), expected, "{transport:?}");
    }
}

#[tokio::test]
async fn a_repeated_uid_reaches_the_ingress_once() {
    for transport in BOTH {
        eprintln!("transport: {transport:?}");
        let s = setup(transport).await;
        assert_eq!(s.server.post(&product("d1"), &[]).await, (200, success(EVENT)));
        assert_eq!(s.server.post(&product("d1"), &[]).await, (200, success(EVENT)));
        assert_eq!(s.fake.ingress_request_count(), 1);
    }
}
