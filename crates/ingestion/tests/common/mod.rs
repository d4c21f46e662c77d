//! Shared helpers: serve an IngestionService on 127.0.0.1:0 behind the real
//! server scaffolding and talk to it with reqwest.
#![allow(dead_code)]

pub mod adobe;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use commerce_kit_core::server;
use commerce_kit_ingestion::publisher::LocalBusPublisher;
use commerce_kit_ingestion::{IngestionService, IngestionServiceBuilder, router};
use commerce_kit_model::bus::LocalBus;
use serde_json::{Value, json};

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    pub async fn start(service: IngestionService) -> Server {
        let listener = server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = server::app(router(service));
        let task = tokio::spawn(server::serve(
            listener,
            app,
            std::future::pending::<()>(),
            Duration::from_secs(1),
        ));
        Server {
            addr,
            client: reqwest::Client::new(),
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/ingestion/webhook", self.addr)
    }

    /// POSTs raw bytes with extra headers; returns (status, JSON body).
    pub async fn post_raw(&self, body: impl Into<reqwest::Body>, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url())
            .header("content-type", "application/json")
            .body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, json)
    }

    pub async fn post(&self, body: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
        self.post_raw(serde_json::to_vec(body).expect("json"), headers).await
    }
}

/// A local-bus service in a temp dir.
pub struct LocalSetup {
    pub bus: LocalBus,
    pub dir: tempfile::TempDir,
}

impl LocalSetup {
    pub fn new() -> LocalSetup {
        let dir = tempfile::tempdir().expect("tmp");
        let bus = LocalBus::open(dir.path()).expect("bus");
        LocalSetup { bus, dir }
    }

    pub fn builder(&self) -> IngestionServiceBuilder {
        IngestionService::builder(Arc::new(LocalBusPublisher::new(self.bus.clone())))
    }
}

pub fn success(event: &str) -> Value {
    json!({"type": event, "response": {"success": true, "message": "Event published successfully"}})
}

pub fn error(message: &str) -> Value {
    json!({"error": message})
}

pub fn request(uid: &str, event: &str, value: Value) -> Value {
    json!({"data": {"uid": uid, "event": event, "value": value}})
}

pub fn product(uid: &str) -> Value {
    request(
        uid,
        "be-observer.catalog_product_create",
        json!({"sku": "PRODUCT_SKU", "name": "Product SKU", "price": 1, "description": "Product SKU description"}),
    )
}
