//! A checker written as an integrator writes it, with `?` on the errors it
//! meets (reqwest, std::io, serde_json), served over real HTTP on loopback in
//! both forms (`direct_app`, as the binaries serve it, and
//! `server::app(router(…))`): the shopper gets the generic exception op, the
//! log gets the detail, and never the URL's credentials or query.
//! (Its own test binary: it installs the global tracing subscriber.)

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::{IntoResponse, Response};
use commerce_kit_webhook::error::CHECKER_FAILED_MESSAGE;
use commerce_kit_webhook::{
    CHECK_STOCK_PATH, CheckStockRequest, CheckStockService, CheckerError, StockChecker, StockVerdict, async_trait,
    direct_app, router, server,
};
use serde::Deserialize;
use serde_json::{Value, json};

const USER: &str = "erp-user";
const PASSWORD: &str = "erp-PASSW0RD";
const URL_SECRET: &str = "api-key-in-query-Z9";

#[derive(Deserialize)]
struct Stock {
    salable_qty: f64,
}

/// Asks `GET http://user:password@{office}/stock/{sku}?key=…` for each SKU;
/// the SKU `from-file` reads a file instead, `from-json` parses a text.
struct RestChecker {
    client: reqwest::Client,
    office: SocketAddr,
    file: PathBuf,
}

#[async_trait]
impl StockChecker for RestChecker {
    async fn check(&self, request: &CheckStockRequest) -> Result<StockVerdict, CheckerError> {
        for item in &request.items {
            let available = match item.sku.as_str() {
                "from-file" => tokio::fs::read_to_string(&self.file)
                    .await?
                    .trim()
                    .parse()
                    .unwrap_or(0.0),
                "from-json" => serde_json::from_str::<Stock>(r#"{"salable_qty": "three"}"#)?.salable_qty,
                sku => {
                    let url = format!("http://{USER}:{PASSWORD}@{}/stock/{sku}?key={URL_SECRET}", self.office);
                    let stock: Stock = self.client.get(url).send().await?.error_for_status()?.json().await?;
                    stock.salable_qty
                }
            };
            if item.qty.get() > available {
                return Ok(StockVerdict::unavailable(format!("only {available} of {}", item.sku)));
            }
        }
        Ok(StockVerdict::Available)
    }
}

async fn stock(axum::extract::Path(sku): axum::extract::Path<String>) -> Response {
    match sku.as_str() {
        "down" => (http::StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response(),
        "garbage" => "<html>oops</html>".into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            axum::Json(json!({"salable_qty": 1})).into_response()
        }
        _ => axum::Json(json!({"salable_qty": 3})).into_response(),
    }
}

#[tokio::test]
async fn question_mark_in_a_checker_answers_the_generic_exception_and_logs_the_detail() {
    let captured = common::captured_logs("info");

    let office = common::serve_app(Router::new().route("/stock/{sku}", axum::routing::get(stock))).await;
    // Nothing listens on a freshly released port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr");
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("no-such-stock.txt");
    let checker = |office| RestChecker {
        client: reqwest::Client::builder()
            .timeout(Duration::from_millis(300))
            .build()
            .expect("client"),
        office,
        file: missing.clone(),
    };
    let shared: Arc<dyn StockChecker> = Arc::new(checker(office));
    let apps = [
        (
            "direct",
            common::serve_app(direct_app(CheckStockService::new(Arc::clone(&shared)), Router::new())).await,
        ),
        (
            "router",
            common::serve_app(server::app(router(CheckStockService::new(shared)))).await,
        ),
        (
            "direct-closed",
            common::serve_app(direct_app(CheckStockService::new(checker(closed)), Router::new())).await,
        ),
        (
            "router-closed",
            common::serve_app(server::app(router(CheckStockService::new(checker(closed))))).await,
        ),
    ];

    let io_detail = format!(
        "I/O error: {}",
        std::fs::read_to_string(&missing).expect_err("no such file")
    );
    let at = |host: SocketAddr, sku: &str| format!("HTTP request to http://{host}/stock/{sku}");
    // (app, SKU, what the log says: the whole detail or its start)
    let cases: Vec<(&str, &str, String)> = vec![
        (
            "direct",
            "down",
            format!("{} answered 503 Service Unavailable", at(office, "down")),
        ),
        (
            "router",
            "down",
            format!("{} answered 503 Service Unavailable", at(office, "down")),
        ),
        (
            "direct",
            "garbage",
            format!(
                "{} answered a body that could not be decoded: expected value at line 1 column 1",
                at(office, "garbage")
            ),
        ),
        ("router", "slow", format!("{} timed out", at(office, "slow"))),
        (
            "direct-closed",
            "24-MB01",
            format!("{} could not connect: ", at(closed, "24-MB01")),
        ),
        (
            "router-closed",
            "24-MB01",
            format!("{} could not connect: ", at(closed, "24-MB01")),
        ),
        ("direct", "from-file", io_detail.clone()),
        ("router", "from-file", io_detail),
        (
            "direct",
            "from-json",
            "unexpected JSON: invalid type: string \"three\", expected f64 at line 1 column 23".to_owned(),
        ),
    ];

    let client = reqwest::Client::new();
    for (index, (app, sku, _)) in cases.iter().enumerate() {
        let addr = apps.iter().find(|(name, _)| name == app).expect("app").1;
        let resp = client
            .post(format!("http://{addr}{CHECK_STOCK_PATH}"))
            .header("x-request-id", format!("qm-{index}"))
            .body(format!(
                r#"{{"data":{{"cart_id":1,"items":[{{"sku":"{sku}","qty":1}}]}}}}"#
            ))
            .send()
            .await
            .expect("request");
        assert_eq!(resp.status(), 200, "{app} {sku}");
        let body: Value = resp.json().await.expect("JSON");
        assert_eq!(
            body,
            json!({"op": "exception", "message": CHECKER_FAILED_MESSAGE}),
            "{app} {sku}"
        );
    }
    // The checker still answers when the back office does.
    let resp = client
        .post(format!("http://{}{CHECK_STOCK_PATH}", apps[0].1))
        .body(r#"{"data":{"cart_id":1,"items":[{"sku":"24-MB01","qty":4}]}}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(
        resp.json::<Value>().await.expect("JSON"),
        json!({"op": "exception", "message": "only 3 of 24-MB01"})
    );

    let logs = captured.text();
    for secret in [PASSWORD, URL_SECRET, USER] {
        assert!(!logs.contains(secret), "logs leak {secret:?}:\n{logs}");
    }
    for (index, (app, sku, detail)) in cases.iter().enumerate() {
        let id = format!("qm-{index}");
        let failed = logs
            .lines()
            .find(|l| l.contains("stock checker failed") && l.contains(&format!("id={id} ")))
            .unwrap_or_else(|| panic!("no checker error line for {app} {sku}:\n{logs}"));
        assert!(failed.contains(&format!("error={detail}")), "{app} {sku}: {failed}");
        if detail.ends_with("could not connect: ") {
            assert!(failed.contains("refused"), "{failed}");
        }
        let outcome = logs
            .lines()
            .find(|l| {
                l.contains("outcome=")
                    && (l.contains(&format!("id={id} ")) || l.contains(&format!("request_id=\"{id}\"")))
            })
            .unwrap_or_else(|| panic!("no outcome line for {app} {sku}:\n{logs}"));
        assert!(
            outcome.contains("reason=\"checker_error\"") && outcome.contains(CHECKER_FAILED_MESSAGE),
            "{app} {sku}: {outcome}"
        );
    }
}
