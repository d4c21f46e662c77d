//! Benchmark baselines, with no validation, no logging and no middleware.
//!
//! - `bench-bare-server [ADDR]`: answers every POST and GET with a constant
//!   JSON body.
//! - `bench-bare-server ADDR --io-events URL`: the least any ingestion webhook
//!   publishing to I/O Events must do, for a two-hop baseline: one IMS token
//!   fetched at start from `URL/ims/token/v3` (the fake's client id and
//!   secret), then for every request, read the body, POST one constant
//!   CloudEvent to `URL/` with the token (pooled connections), and answer a
//!   constant body once the ingress said 2xx (502 otherwise).
//!
//! - `bench-bare-server ADDR --back-office LATENCY_MS RECORD_FILE`: a back
//!   office for the end-to-end benchmark: answers every POST after
//!   `LATENCY_MS`, and appends `<sku> <event id>` of the CloudEvent received
//!   to `RECORD_FILE` when the call starts (the order calls reach it);
//!   prints `max in flight N` each time the concurrency it sees grows.
//!
//! `ADDR` defaults to `127.0.0.1:0`; prints `listening on http://IP:PORT`.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

const ANSWER: &str = r#"{"op":"success"}"#;
const CLOUD_EVENT: &str = r#"{"specversion":"1.0","id":"bare-1","source":"urn:uuid:3b1b7d8c-5f2e-4b8a-9c1d-2e3f4a5b6c7d","type":"be-observer.catalog_product_create","datacontenttype":"application/json","time":"2026-01-01T00:00:00.000Z","data":{"sku":"S1","name":"Product","description":"d","price":1}}"#;
const CLIENT_ID: &str = "fake-client-id";
const CLIENT_SECRET: &str = "fake-client-secret";

type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// The back office of `--back-office`.
struct Office {
    latency: std::time::Duration,
    record: std::sync::Mutex<std::fs::File>,
    in_flight: AtomicUsize,
    max: AtomicUsize,
}

/// Counts a call in flight until dropped.
struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The value of the first `"<name>":"…"` in a JSON text (enough for the CloudEvents the consumer forwards).
fn string_field<'a>(json: &'a str, name: &str) -> &'a str {
    json.split(&format!("\"{name}\":\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("-")
}

async fn receive(office: Arc<Office>, body: Bytes) -> Response {
    let now = office.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlight(&office.in_flight);
    if office.max.fetch_max(now, Ordering::SeqCst) < now {
        println!("max in flight {now}");
    }
    let text = String::from_utf8_lossy(&body);
    let line = format!("{} {}\n", string_field(&text, "sku"), string_field(&text, "id"));
    if let Ok(mut file) = office.record.lock() {
        let _ = file.write_all(line.as_bytes());
    }
    // a zero sleep still waits for the timer wheel's next tick (about 1 ms)
    if !office.latency.is_zero() {
        tokio::time::sleep(office.latency).await;
    }
    ([(header::CONTENT_TYPE, "application/json")], ANSWER).into_response()
}

struct Forward {
    client: HttpClient,
    ingress: axum::http::Uri,
    bearer: HeaderValue,
}

#[tokio::main]
async fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args.first().cloned().unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let back_office = args.iter().position(|a| a == "--back-office");
    let app = match (args.iter().position(|a| a == "--io-events"), back_office) {
        (None, Some(at)) => {
            let latency: u64 = args
                .get(at + 1)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| io::Error::other("--back-office needs LATENCY_MS RECORD_FILE"))?;
            let file = args
                .get(at + 2)
                .ok_or_else(|| io::Error::other("--back-office needs LATENCY_MS RECORD_FILE"))?;
            let office = Arc::new(Office {
                latency: std::time::Duration::from_millis(latency),
                record: std::sync::Mutex::new(std::fs::File::create(file)?),
                in_flight: AtomicUsize::new(0),
                max: AtomicUsize::new(0),
            });
            Router::new().fallback(any(move |body: Bytes| receive(Arc::clone(&office), body)))
        }
        (Some(at), _) => {
            let base = args
                .get(at + 1)
                .ok_or_else(|| io::Error::other("--io-events needs a URL"))?;
            let forward = Arc::new(connect(base.trim_end_matches('/')).await?);
            Router::new().fallback(any(move |request: Request| publish(Arc::clone(&forward), request)))
        }
        (None, None) => {
            Router::new().fallback(any(|| async { ([(header::CONTENT_TYPE, "application/json")], ANSWER) }))
        }
    };
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}

/// A pooled client and one IMS token from the fake at `base`.
async fn connect(base: &str) -> io::Result<Forward> {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: HttpClient = Client::builder(TokioExecutor::new()).build(connector);
    let form =
        format!("grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&scope=adobeio_api");
    let request = axum::http::Request::post(format!("{base}/ims/token/v3"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)))
        .map_err(io::Error::other)?;
    let response = client.request(request).await.map_err(io::Error::other)?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(io::Error::other)?
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    let token = text
        .split("\"access_token\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .filter(|_| status.is_success())
        .ok_or_else(|| io::Error::other(format!("IMS answered {status}: {text}")))?;
    Ok(Forward {
        client,
        ingress: format!("{base}/").parse().map_err(io::Error::other)?,
        bearer: HeaderValue::from_str(&format!("Bearer {token}")).map_err(io::Error::other)?,
    })
}

async fn publish(forward: Arc<Forward>, request: Request) -> Response {
    if request.into_body().collect().await.is_err() {
        return StatusCode::BAD_REQUEST.into_response();
    }
    let mut outbound = axum::http::Request::new(Full::new(Bytes::from_static(CLOUD_EVENT.as_bytes())));
    *outbound.method_mut() = axum::http::Method::POST;
    *outbound.uri_mut() = forward.ingress.clone();
    let headers = outbound.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/cloudevents+json"),
    );
    headers.insert("x-api-key", HeaderValue::from_static(CLIENT_ID));
    headers.insert(header::AUTHORIZATION, forward.bearer.clone());
    match forward.client.request(outbound).await {
        Ok(response) => {
            let ok = response.status().is_success();
            // Drain the answer so the connection goes back to the pool.
            let _ = response.into_body().collect().await;
            if ok {
                ([(header::CONTENT_TYPE, "application/json")], ANSWER).into_response()
            } else {
                (StatusCode::BAD_GATEWAY, Body::empty()).into_response()
            }
        }
        Err(_) => (StatusCode::BAD_GATEWAY, Body::empty()).into_response(),
    }
}
