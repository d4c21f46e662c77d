//! `GET /metrics` of a real `commerce-kit serve`, and the Grafana dashboard
//! under docs/: every series a dashboard query names is one the server
//! really exports (checked against live scrapes after traffic through every
//! flow, with Redis as the state store, and of a server publishing to I/O
//! Events).

use std::collections::BTreeSet;

use commerce_kit_tests::Server;
use serde_json::{Value, json};

const EXE: &str = env!("CARGO_BIN_EXE_commerce-kit");

async fn scrape(server: &Server) -> String {
    let resp = reqwest::get(server.url("/metrics")).await.expect("GET /metrics");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    resp.text().await.expect("body")
}

/// The series names of a Prometheus text exposition (the `name` of `name{…} value`).
fn series(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.split(['{', ' ']).next().unwrap_or_default().to_owned())
        .collect()
}

/// The value of the sample `name{labels}` (labels exactly as rendered), if present.
fn sample(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name_and_labels)?.trim().parse().ok())
}

async fn post_json(server: &Server, path: &str, body: &Value) -> u16 {
    reqwest::Client::new()
        .post(server.url(path))
        .json(body)
        .send()
        .await
        .expect("POST")
        .status()
        .as_u16()
}

/// Every `commerce_kit_…` name in the dashboard's queries.
fn dashboard_series() -> BTreeSet<String> {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/grafana-dashboard.json"
    ))
    .expect("docs/grafana-dashboard.json");
    let dashboard: Value = serde_json::from_str(&text).expect("JSON");
    let mut names = BTreeSet::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            let mut rest = expr;
            while let Some(at) = rest.find("commerce_kit_") {
                let tail = &rest[at..];
                let end = tail
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(tail.len());
                names.insert(tail[..end].to_owned());
                rest = &tail[end..];
            }
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_names_a_series_the_server_exports() {
    let redis = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let mut local = Server::start(
        EXE,
        &["serve", "--listen", "127.0.0.1:0"],
        &[("REDIS_URL", redis.as_str())],
    );
    // Traffic through every flow (ids unique per run: Redis outlives it).
    let run = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let cart = json!({"data": {"cart_id": "1", "items": [{"sku": "24-MB01", "qty": 1}]}});
    assert_eq!(post_json(&local, "/webhook/check-stock", &cart).await, 200);
    let short = json!({"product": {"sku": "24-UG06"}, "info": {"qty": 1}});
    assert_eq!(post_json(&local, "/webhook/check-stock", &short).await, 200);
    let event = json!({"data": {"uid": format!("m-1-{run}"), "event": "be-observer.customer_group_delete", "value": {"id": 3}}});
    assert_eq!(post_json(&local, "/ingestion/webhook", &event).await, 200);
    assert_eq!(post_json(&local, "/ingestion/webhook", &json!({"data": {}})).await, 400);
    let delivery = json!({"specversion": "1.0", "id": format!("m-2-{run}"), "source": "urn:uuid:be",
                          "type": "be-observer.catalog_product_update", "data": {"sku": "A"}});
    assert_eq!(post_json(&local, "/events", &delivery).await, 200);
    local.wait_for("local bus event");
    // The consumer's acknowledgement is written after its read batch.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let text = scrape(&local).await;

    // A few exact samples: the route, status and outcome labels as documented.
    assert_eq!(
        sample(
            &text,
            r#"commerce_kit_http_requests_total{route="/ingestion/webhook",status="200"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"commerce_kit_ingestion_requests_total{outcome="stored",status="200"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sample(&text, "commerce_kit_bus_head"), Some(1.0), "{text}");
    assert_eq!(
        sample(&text, r#"commerce_kit_bus_acked_offset{consumer="events-consumer"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"commerce_kit_bus_lag{consumer="events-consumer"}"#),
        Some(0.0),
        "{text}"
    );

    // A server publishing to I/O Events (its endpoints unreachable: only the
    // series it registers at start are looked at).
    let io = Server::start(
        EXE,
        &["serve", "--listen", "127.0.0.1:0"],
        &[
            ("OAUTH_CLIENT_ID", "metrics-client"),
            ("OAUTH_CLIENT_SECRET", "metrics-secret"),
            ("OAUTH_ORG_ID", "ORG@AdobeOrg"),
            ("IO_EVENTS_PROVIDER_ID", "5c3d9a0e-1b2f-4c6d-8e9f-0a1b2c3d4e5f"),
            ("IMS_BASE_URL", "http://127.0.0.1:9"),
            ("IO_EVENTS_INGRESS_URL", "http://127.0.0.1:9/"),
        ],
    );
    let io_text = scrape(&io).await;
    assert!(!io_text.contains("metrics-secret"), "{io_text}");

    let exported: BTreeSet<String> = series(&text).union(&series(&io_text)).cloned().collect();
    let wanted = dashboard_series();
    assert!(wanted.len() >= 15, "{wanted:?}");
    let missing: Vec<&String> = wanted.iter().filter(|name| !exported.contains(*name)).collect();
    assert!(
        missing.is_empty(),
        "dashboard series not exported: {missing:?}\nexported: {exported:?}"
    );
}
