//! The dedicated ingress client (`IoEventsPublisher::with_ingress_client`, what
//! the ingestion webhook uses) against the loopback fake of IMS and the
//! ingress: it sends what the reqwest transport sends and maps answers the
//! same; plus what only it has (per-attempt timeout, TLS, header checks).
//! The protocol scenarios of `io_events_http.rs` run on both transports.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use commerce_kit_core::http::{ClientTimeouts, client};
use commerce_kit_ingestion::IngestionService;
use commerce_kit_ingestion::publisher::ims::{ImsCredentials, ImsTokenProvider};
use commerce_kit_ingestion::publisher::ingress_client::IngressClientError;
use commerce_kit_ingestion::publisher::{IngressClient, IoEventsOptions, IoEventsPublisher};
use commerce_kit_ingestion::testing::{FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeAdobe, FakeResponse};
use common::adobe::*;
use common::*;
use reqwest::Url;
use secrecy::SecretString;
use serde_json::{Value, json};

/// The headers the ingress received, as (name, value) text, in a stable order.
fn header_set(headers: &http::HeaderMap) -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().expect("ascii").to_owned()))
        .collect();
    all.sort();
    all
}

#[tokio::test]
async fn both_transports_send_the_same_request() {
    let value = json!({"sku": "S1", "name": "Product", "price": 1, "description": "d"});
    let mut seen = Vec::new();
    for transport in BOTH {
        let s = setup(transport).await;
        let (status, body) = s.server.post(&request("same_1", EVENT, value.clone()), &[]).await;
        assert_eq!((status, body), (200, success(EVENT)), "{transport:?}");
        let sent = s.fake.ingress_requests();
        assert_eq!(sent.len(), 1, "{transport:?}");
        let r = &sent[0];
        assert_eq!(r.answered, 200);
        let mut headers = header_set(&r.headers);
        let port = s.fake.addr().port().to_string();
        for (name, value) in &mut headers {
            if name == "host" {
                assert_eq!(*value, format!("127.0.0.1:{port}"), "{transport:?}");
                *value = "127.0.0.1:<fake port>".to_owned();
            }
        }
        let mut body = r.body.clone();
        let time = body["time"].as_str().expect("time").to_owned();
        assert!(time.ends_with('Z') && time.len() == 24, "{time}");
        body["time"] = Value::Null;
        seen.push((headers, body));
    }
    let (headers, body) = &seen[0];
    let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "accept",
            "authorization",
            "content-length",
            "content-type",
            "host",
            "user-agent",
            "x-api-key",
            "x-ims-org-id"
        ]
    );
    let h = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(h("accept"), Some("application/json"));
    assert_eq!(h("authorization"), Some("Bearer fake-ims-token-1"));
    assert_eq!(h("content-type"), Some("application/cloudevents+json"));
    assert_eq!(
        h("user-agent"),
        Some(concat!("commerce-kit/", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(h("x-api-key"), Some(FAKE_CLIENT_ID));
    assert_eq!(h("x-ims-org-id"), Some(ORG));
    assert_eq!(
        *body,
        json!({
            "specversion": "1.0", "id": "same_1", "source": format!("urn:uuid:{PROVIDER}"),
            "type": EVENT, "datacontenttype": "application/json", "time": null, "data": value,
        })
    );
    assert_eq!(seen[0], seen[1], "the dedicated client sends what reqwest sends");
}

#[tokio::test]
async fn answers_map_to_the_same_outcomes_on_both_transports() {
    for transport in BOTH {
        let s = setup_with(transport, Duration::from_secs(2), FAKE_CLIENT_SECRET, None).await;
        // 204: a success, not retried.
        s.fake.push_ingress_response(FakeResponse::status(204));
        assert_eq!(s.server.post(&product("o1"), &[]).await, (200, success(EVENT)));
        // 5xx then 200: retried to success, the same event every time.
        s.fake.push_ingress_response(FakeResponse::status(503));
        s.fake
            .push_ingress_response(FakeResponse::status(502).body("bad gateway"));
        assert_eq!(s.server.post(&product("o2"), &[]).await, (200, success(EVENT)));
        // Other 4xx: final.
        s.fake
            .push_ingress_response(FakeResponse::status(400).body("event code not registered for provider"));
        assert_eq!(
            s.server.post(&product("o3"), &[]).await,
            (502, error("Adobe I/O Events rejected the event (HTTP 400)"))
        );
        // 505: final too.
        s.fake.push_ingress_response(FakeResponse::status(505));
        assert_eq!(
            s.server.post(&product("o4"), &[]).await,
            (502, error("Adobe I/O Events rejected the event (HTTP 505)"))
        );
        let answered: Vec<(u16, Value)> = s
            .fake
            .ingress_requests()
            .iter()
            .map(|r| (r.answered, r.body["id"].clone()))
            .collect();
        assert_eq!(
            answered,
            [
                (204, json!("o1")),
                (503, json!("o2")),
                (502, json!("o2")),
                (200, json!("o2")),
                (400, json!("o3")),
                (505, json!("o4")),
            ],
            "{transport:?}"
        );
    }
}

#[tokio::test]
async fn an_ingress_that_never_answers_times_out_per_attempt() {
    // Accepts connections, reads nothing, answers nothing.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = Url::parse(&format!("http://{}", silent.local_addr().expect("addr"))).expect("url");
    let accepted = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = silent.accept().await {
            held.push(tcp);
        }
    });
    let fake = FakeAdobe::start().await.expect("fake");
    let mut options = IoEventsOptions::new(url);
    options.retry_budget = Duration::from_secs(1);
    options.attempt_timeout = Duration::from_millis(300);
    let publisher = Arc::new(publisher(Transport::Dedicated, ims(&fake), options));
    let server = Server::start(IngestionService::builder(publisher).build()).await;
    let started = Instant::now();
    let (status, body) = server.post(&product("s1"), &[]).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        body,
        error("Adobe I/O Events is unreachable within the 1 s retry budget: operation timed out")
    );
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_millis(1500),
        "attempts of 300 ms within the 1 s budget: {elapsed:?}"
    );
    accepted.abort();
}

#[tokio::test]
async fn https_ingress_urls_go_through_tls() {
    // The fake speaks plain HTTP: a TLS client cannot get an answer from it.
    let fake = FakeAdobe::start().await.expect("fake");
    let https = Url::parse(&format!("https://{}", fake.addr())).expect("url");
    let mut options = IoEventsOptions::new(https);
    options.retry_budget = Duration::from_secs(1);
    let publisher = Arc::new(publisher(Transport::Dedicated, ims(&fake), options));
    let server = Server::start(IngestionService::builder(publisher).build()).await;
    let (status, body) = server.post(&product("tls1"), &[]).await;
    assert_eq!(status, 503, "{body}");
    let message = body["error"].as_str().expect("message");
    assert!(
        message.starts_with("Adobe I/O Events is unreachable within the 1 s retry budget: "),
        "{message}"
    );
    assert_eq!(
        fake.ingress_request_count(),
        0,
        "no HTTP request reached the plain-text server"
    );
}

#[tokio::test]
async fn a_token_that_cannot_be_a_header_is_never_sent_nor_shown() {
    for transport in BOTH {
        let fake_token = "fake-ims-token\u{1}secret";
        let s = setup_with(transport, Duration::from_secs(1), FAKE_CLIENT_SECRET, None).await;
        s.fake.push_ims_response(
            FakeResponse::status(200)
                .header("content-type", "application/json")
                .body(&json!({"access_token": fake_token, "expires_in": 3600}).to_string()),
        );
        let (status, body) = s.server.post(&product("h1"), &[]).await;
        assert_eq!(status, 503, "{transport:?}: {body}");
        let message = body["error"].as_str().expect("message");
        assert!(
            message.starts_with("Adobe I/O Events is unreachable within the 1 s retry budget: "),
            "{transport:?}: {message}"
        );
        assert!(!message.contains("secret"), "{transport:?}: {message}");
        assert_eq!(s.fake.ingress_request_count(), 0, "{transport:?}");
    }
}

#[tokio::test]
async fn invalid_constant_headers_are_refused_up_front() {
    let fake = FakeAdobe::start().await.expect("fake");
    let ingress = || IngressClient::new(Duration::from_secs(2)).expect("client");
    let bad_id = ImsTokenProvider::new(
        client(ClientTimeouts::default()).expect("client"),
        &fake.url(),
        ImsCredentials {
            client_id: "bad\nid".into(),
            client_secret: SecretString::from(FAKE_CLIENT_SECRET),
            scopes: "adobeio_api".into(),
        },
    );
    let err = IoEventsPublisher::with_ingress_client(ingress(), bad_id, IoEventsOptions::new(fake.url()))
        .expect_err("bad client id");
    assert_eq!(err, IngressClientError::Header("x-api-key"));

    let mut options = IoEventsOptions::new(fake.url());
    options.org_id = Some("org\r\nx-injected: 1".into());
    let err = IoEventsPublisher::with_ingress_client(ingress(), ims(&fake), options).expect_err("bad org");
    assert_eq!(err, IngressClientError::Header("x-ims-org-id"));
    assert_eq!(err.to_string(), "invalid value for the x-ims-org-id header");
}
