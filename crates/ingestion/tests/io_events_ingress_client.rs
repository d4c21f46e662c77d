//! The dedicated ingress client (`IoEventsPublisher::with_ingress_client`, what
//! the ingestion webhook uses) against the loopback fake of IMS and the
//! ingress: the same requests and outcomes as the reqwest transport of
//! `io_events_http.rs`. Scenarios that compare the two run them on both.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use commerce_kit_core::http::{ClientTimeouts, client};
use commerce_kit_ingestion::IngestionService;
use commerce_kit_ingestion::publisher::ims::{ImsCredentials, ImsTokenProvider};
use commerce_kit_ingestion::publisher::ingress_client::IngressClientError;
use commerce_kit_ingestion::publisher::{IngressClient, IoEventsOptions, IoEventsPublisher};
use commerce_kit_ingestion::testing::{FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeAdobe, FakeResponse};
use common::*;
use reqwest::Url;
use secrecy::SecretString;
use serde_json::{Value, json};

const PROVIDER: &str = "3b1b7d8c-5f2e-4b8a-9c1d-2e3f4a5b6c7d";
const EVENT: &str = "be-observer.catalog_product_create";
const ORG: &str = "0123456789ABCDEF@AdobeOrg";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Transport {
    Dedicated,
    Reqwest,
}

const BOTH: [Transport; 2] = [Transport::Dedicated, Transport::Reqwest];

struct Setup {
    fake: FakeAdobe,
    publisher: Arc<IoEventsPublisher>,
    server: Server,
}

fn ims(fake: &FakeAdobe) -> ImsTokenProvider {
    ImsTokenProvider::new(
        client(ClientTimeouts::default()).expect("client"),
        &fake.url(),
        ImsCredentials {
            client_id: FAKE_CLIENT_ID.into(),
            client_secret: SecretString::from(FAKE_CLIENT_SECRET),
            scopes: "adobeio_api".into(),
        },
    )
}

fn publisher(transport: Transport, ims: ImsTokenProvider, options: IoEventsOptions) -> IoEventsPublisher {
    match transport {
        Transport::Dedicated => IoEventsPublisher::with_ingress_client(
            IngressClient::new(Duration::from_secs(2)).expect("ingress client"),
            ims,
            options,
        )
        .expect("publisher"),
        Transport::Reqwest => IoEventsPublisher::new(client(ClientTimeouts::default()).expect("client"), ims, options),
    }
}

async fn setup_with(transport: Transport, budget: Duration, ingress: Option<Url>) -> Setup {
    let fake = FakeAdobe::start().await.expect("fake");
    let mut options = IoEventsOptions::new(ingress.unwrap_or_else(|| fake.url()));
    options.retry_budget = budget;
    options.org_id = Some(ORG.into());
    let publisher = Arc::new(publisher(transport, ims(&fake), options));
    let service = IngestionService::builder(publisher.clone())
        .source(format!("urn:uuid:{PROVIDER}"))
        .build();
    let server = Server::start(service).await;
    Setup {
        fake,
        publisher,
        server,
    }
}

async fn setup(transport: Transport) -> Setup {
    setup_with(transport, Duration::from_secs(5), None).await
}

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
        let s = setup_with(transport, Duration::from_secs(2), None).await;
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
async fn throttling_honours_retry_after_and_the_budget() {
    let s = setup(Transport::Dedicated).await;
    s.fake.push_ingress_response(
        FakeResponse::status(429)
            .header("retry-after", "1")
            .body("Too Many Requests"),
    );
    let started = Instant::now();
    assert_eq!(s.server.post(&product("t1"), &[]).await, (200, success(EVENT)));
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());

    let s = setup_with(Transport::Dedicated, Duration::from_secs(2), None).await;
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
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(s.fake.ingress_request_count(), 1);
}

#[tokio::test]
async fn persistent_server_errors_end_with_502_within_the_budget() {
    let s = setup_with(Transport::Dedicated, Duration::from_secs(2), None).await;
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
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert!(s.fake.ingress_request_count() >= 3);
    assert_eq!(s.fake.token_request_count(), 1);
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once() {
    let s = setup(Transport::Dedicated).await;
    assert_eq!(s.server.post(&product("a1"), &[]).await.0, 200);
    s.fake.revoke_tokens();
    assert_eq!(s.server.post(&product("a2"), &[]).await, (200, success(EVENT)));
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
    assert_eq!(s.publisher.ims().fetches(), 2);

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
    assert_eq!(s.fake.token_request_count(), 3, "exactly one more refresh");
}

#[tokio::test]
async fn an_unreachable_ingress_is_503() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = Url::parse(&format!("http://{}", closed.local_addr().expect("addr"))).expect("url");
    drop(closed);
    let s = setup_with(Transport::Dedicated, Duration::from_secs(1), Some(url)).await;
    let (status, body) = s.server.post(&product("u1"), &[]).await;
    assert_eq!(status, 503);
    let message = body["error"].as_str().expect("message");
    assert!(
        message.starts_with("Adobe I/O Events is unreachable within the 1 s retry budget: ")
            && message.contains("Connection refused"),
        "{message}"
    );
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
async fn ingress_connections_are_pooled_and_reused() {
    let s = setup(Transport::Dedicated).await;
    for i in 0..5 {
        assert_eq!(s.server.post(&product(&format!("k{i}")), &[]).await.0, 200);
    }
    // A body too long to arrive with the headers: it is drained for reuse.
    s.fake
        .push_ingress_response(FakeResponse::status(503).body(&"try again later. ".repeat(2000)));
    assert_eq!(s.server.post(&product("k5"), &[]).await.0, 200);
    assert_eq!(s.fake.ingress_request_count(), 7);
    assert_eq!(
        s.fake.connection_count(),
        2,
        "one connection for the token request (general client), one pooled for every publish, retries included"
    );
}

#[tokio::test]
async fn a_token_that_cannot_be_a_header_is_never_sent_nor_shown() {
    for transport in BOTH {
        let fake_token = "fake-ims-token\u{1}secret";
        let s = setup_with(transport, Duration::from_secs(1), None).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_publishes_share_one_token_and_a_bounded_pool() {
    let s = setup(Transport::Dedicated).await;
    s.fake.set_ims_delay(Duration::from_millis(200));
    let server = Arc::new(s.server);
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let server = server.clone();
            tokio::spawn(async move { server.post(&product(&format!("c{i}")), &[]).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("join"), (200, success(EVENT)));
    }
    assert_eq!(s.fake.token_request_count(), 1, "single-flight token fetch");
    assert_eq!(s.fake.ingress_request_count(), 40);
    assert!(
        s.fake.connection_count() <= 41,
        "at most one connection per concurrent publish: {}",
        s.fake.connection_count()
    );
}
