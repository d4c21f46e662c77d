//! IngestionArgs: flags (and their env vars) validated into a service, with
//! one-line errors naming the settings.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use commerce_kit_cli::ingestion::{IngestionArgs, PublisherKind};
use commerce_kit_core::server;
use commerce_kit_ingestion::testing::{FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeAdobe};
use commerce_kit_ingestion::{IngestionService, router};
use commerce_kit_model::bus::LocalBus;
use serde_json::{Value, json};

/// The built service behind the real server scaffolding on 127.0.0.1:0.
struct Server {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    async fn start(service: IngestionService) -> Server {
        let listener = server::bind("127.0.0.1:0".parse().expect("addr")).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = server::app(router(service));
        let task = tokio::spawn(server::serve(
            listener,
            app,
            std::future::pending::<()>(),
            Duration::from_secs(1),
        ));
        Server { addr, task }
    }

    /// POSTs `body` with extra headers; returns (status, JSON body).
    async fn post(&self, body: &Value, headers: &[(&str, &str)]) -> (u16, Value) {
        let mut req = reqwest::Client::new()
            .post(format!("http://{}/ingestion/webhook", self.addr))
            .json(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.expect("send");
        (resp.status().as_u16(), resp.json().await.expect("JSON body"))
    }
}

fn product(uid: &str) -> Value {
    json!({"data": {"uid": uid, "event": "be-observer.catalog_product_create",
        "value": {"sku": "PRODUCT_SKU", "name": "Product SKU", "price": 1, "description": "Product SKU description"}}})
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    ingestion: IngestionArgs,
}

fn args(extra: &[&str]) -> IngestionArgs {
    let mut argv = vec!["test"];
    argv.extend_from_slice(extra);
    Cli::try_parse_from(argv).expect("parse").ingestion
}

fn build_err(extra: &[&str], dir: &std::path::Path) -> String {
    let mut all = vec!["--data-dir", dir.to_str().expect("utf8")];
    all.extend_from_slice(extra);
    args(&all).build(1024).expect_err("must fail").to_string()
}

const PROVIDER: &str = "3b1b7d8c-5f2e-4b8a-9c1d-2e3f4a5b6c7d";

#[test]
fn defaults_select_the_local_bus_without_auth() {
    let a = args(&[]);
    assert_eq!(a.publisher_kind().expect("kind"), PublisherKind::LocalBus);
    assert_eq!(a.data_dir, std::path::PathBuf::from("./data"));
    assert_eq!(a.io_events.ims.oauth_scopes, "adobeio_api");
    assert_eq!(a.io_events.ims.ims_base_url, "https://ims-na1.adobelogin.com");
    assert_eq!(a.io_events.io_events_ingress_url, "https://eventsingress.adobe.io");
    assert_eq!(a.auth.ingestion_hmac_window_secs, 300);
    assert_eq!(a.ingestion_idempotency_ttl_secs, 86_400);
}

#[test]
fn the_client_id_alone_is_the_consumers_and_keeps_the_local_bus() {
    let a = args(&["--oauth-client-id", "client-1"]);
    assert_eq!(a.publisher_kind().expect("kind"), PublisherKind::LocalBus);
    let both = args(&[
        "--oauth-client-id",
        "client-1",
        "--oauth-client-secret",
        "s3cret",
        "--io-events-provider-id",
        PROVIDER,
    ]);
    assert_eq!(both.publisher_kind().expect("kind"), PublisherKind::IoEvents);
}

#[test]
fn configuration_errors_name_the_settings() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let cases: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["--oauth-client-secret", "s3cret"],
            "invalid configuration: Adobe I/O Events publishing is partly configured: missing OAUTH_CLIENT_ID \
             (--oauth-client-id), IO_EVENTS_PROVIDER_ID (--io-events-provider-id); set OAUTH_CLIENT_ID, \
             OAUTH_CLIENT_SECRET and IO_EVENTS_PROVIDER_ID to publish to I/O Events, or leave OAUTH_CLIENT_SECRET \
             and IO_EVENTS_PROVIDER_ID unset to use the local bus"
                .into(),
        ),
        (
            vec!["--oauth-client-id", "abc", "--io-events-provider-id", PROVIDER],
            "invalid configuration: Adobe I/O Events publishing is partly configured: missing OAUTH_CLIENT_SECRET \
             (--oauth-client-secret); set OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET and IO_EVENTS_PROVIDER_ID to publish \
             to I/O Events, or leave OAUTH_CLIENT_SECRET and IO_EVENTS_PROVIDER_ID unset to use the local bus"
                .into(),
        ),
        (
            vec!["--oauth-client-secret", "s3cret", "--io-events-provider-id", PROVIDER],
            "invalid configuration: Adobe I/O Events publishing is partly configured: missing OAUTH_CLIENT_ID \
             (--oauth-client-id); set OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET and IO_EVENTS_PROVIDER_ID to publish to \
             I/O Events, or leave OAUTH_CLIENT_SECRET and IO_EVENTS_PROVIDER_ID unset to use the local bus"
                .into(),
        ),
        (
            vec!["--oauth-client-id", "abc", "--oauth-client-secret", "s3cret", "--io-events-provider-id", "backoffice"],
            "invalid configuration: --io-events-provider-id (IO_EVENTS_PROVIDER_ID): expected the provider's UUID, got \"backoffice\""
                .into(),
        ),
        (
            vec![
                "--oauth-client-id", "abc", "--oauth-client-secret", "s3cret", "--io-events-provider-id", PROVIDER,
                "--ims-base-url", "ims.example.com",
            ],
            "invalid configuration: --ims-base-url (IMS_BASE_URL): invalid URL \"ims.example.com\": relative URL without a base"
                .into(),
        ),
        (
            vec![
                "--oauth-client-id", "abc", "--oauth-client-secret", "s3cret", "--io-events-provider-id", PROVIDER,
                "--io-events-ingress-url", "ftp://x",
            ],
            "invalid configuration: --io-events-ingress-url (IO_EVENTS_INGRESS_URL): expected an http(s) URL, got \"ftp://x\"".into(),
        ),
        (
            vec!["--ingestion-auth", "api-key"],
            "invalid configuration: --ingestion-api-keys (INGESTION_API_KEYS): required when INGESTION_AUTH=api-key (one or more comma-separated keys)"
                .into(),
        ),
        (
            vec!["--ingestion-auth", "api-key", "--ingestion-api-keys", " , "],
            "invalid configuration: --ingestion-api-keys (INGESTION_API_KEYS): required when INGESTION_AUTH=api-key (one or more comma-separated keys)"
                .into(),
        ),
        (
            vec!["--ingestion-auth", "hmac"],
            "invalid configuration: --ingestion-hmac-secret (INGESTION_HMAC_SECRET): required when INGESTION_AUTH=hmac".into(),
        ),
        (
            vec!["--ingestion-api-keys", "k1"],
            "invalid configuration: --ingestion-api-keys (INGESTION_API_KEYS): is set but INGESTION_AUTH=none; set INGESTION_AUTH to use it or unset it"
                .into(),
        ),
        (
            vec!["--ingestion-hmac-previous-secret", "s3cret"],
            "invalid configuration: --ingestion-hmac-previous-secret (INGESTION_HMAC_PREVIOUS_SECRET): is set but \
             INGESTION_AUTH=none; set INGESTION_AUTH to use it or unset it"
                .into(),
        ),
        (
            vec!["--ingestion-auth", "hmac", "--ingestion-hmac-previous-secret", "s3cret"],
            "invalid configuration: --ingestion-hmac-secret (INGESTION_HMAC_SECRET): required when INGESTION_AUTH=hmac".into(),
        ),
        (
            vec!["--ingestion-auth", "api-key", "--ingestion-api-keys", "k1", "--ingestion-hmac-secret", "x"],
            // An unused HMAC secret next to api-key mode is harmless: no error.
            String::new(),
        ),
    ];
    for (flags, expected) in cases {
        if expected.is_empty() {
            let mut all = vec!["--data-dir", d.to_str().expect("utf8")];
            all.extend_from_slice(&flags);
            assert!(args(&all).build(1024).is_ok(), "{flags:?}");
            continue;
        }
        let got = build_err(&flags, d);
        assert_eq!(got, expected, "{flags:?}");
        assert!(!got.contains("s3cret"), "secrets never appear in errors");
    }
}

#[test]
fn a_bad_catalog_file_or_a_locked_data_dir_is_a_startup_error() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("events.json");
    std::fs::write(&file, "[]").expect("write");
    assert_eq!(
        build_err(&["--events-catalog-file", file.to_str().expect("utf8")], dir.path()),
        format!(
            "invalid configuration: events catalog {}: expected an object of entities like {{\"product\": {{\"backoffice\": {{…}}}}}}, found an array",
            file.display()
        )
    );
    let bus_dir = tempfile::tempdir().expect("tmp");
    let _held = LocalBus::open(bus_dir.path()).expect("open");
    assert_eq!(
        build_err(&[], bus_dir.path()),
        format!(
            "invalid configuration: --data-dir (DATA_DIR): local bus {}: already open by another process (file locked); stop that process or use another DATA_DIR",
            bus_dir.path().join("bus.redb").display()
        )
    );
}

#[tokio::test]
async fn build_with_bus_shares_an_open_bus() {
    let dir = tempfile::tempdir().expect("tmp");
    let bus = LocalBus::open(dir.path()).expect("bus");
    let service = args(&["--ingestion-auth", "api-key", "--ingestion-api-keys", "k1,k2"])
        .build_with_bus(1024, &bus)
        .expect("build");
    assert_eq!(
        (service.publisher_name(), service.authenticator_name()),
        ("local-bus", "api-key")
    );
    let server = Server::start(service).await;
    assert_eq!(server.post(&product("b1"), &[("x-api-key", "k2")]).await.0, 200);
    assert_eq!(bus.head(), 1);
}

#[tokio::test]
async fn io_events_settings_build_a_working_publisher() {
    let fake = FakeAdobe::start().await.expect("fake");
    let url = fake.url().to_string();
    let dir = tempfile::tempdir().expect("tmp");
    let service = args(&[
        "--data-dir",
        dir.path().to_str().expect("utf8"),
        "--oauth-client-id",
        FAKE_CLIENT_ID,
        "--oauth-client-secret",
        FAKE_CLIENT_SECRET,
        "--oauth-scopes",
        "adobeio_api, openid",
        "--io-events-provider-id",
        PROVIDER,
        "--ims-base-url",
        &url,
        "--io-events-ingress-url",
        &url,
    ])
    .build(4096)
    .expect("build");
    assert_eq!(service.publisher_name(), "io-events");
    assert!(
        !dir.path().join("bus.redb").exists(),
        "no local bus is opened for I/O Events"
    );
    let server = Server::start(service).await;
    assert_eq!(
        server.post(&product("cli-1"), &[]).await,
        (
            200,
            json!({"type": "be-observer.catalog_product_create", "response": {"success": true, "message": "Event published successfully"}})
        )
    );
    assert_eq!(fake.token_requests()[0].field("scope"), Some("adobeio_api,openid"));
    let sent = &fake.ingress_requests()[0];
    assert_eq!(sent.body["source"], format!("urn:uuid:{PROVIDER}"));
    assert!(sent.headers.get("x-ims-org-id").is_none(), "no org id configured");
}
