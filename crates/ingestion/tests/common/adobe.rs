//! Setups against the loopback fake of Adobe IMS and the I/O Events ingress,
//! with either transport of `IoEventsPublisher`.

use std::sync::Arc;
use std::time::Duration;

use commerce_kit_core::http::{ClientTimeouts, client};
use commerce_kit_ingestion::IngestionService;
use commerce_kit_ingestion::publisher::ims::{ImsCredentials, ImsTokenProvider};
use commerce_kit_ingestion::publisher::{IngressClient, IoEventsOptions, IoEventsPublisher};
use commerce_kit_ingestion::testing::{FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, FakeAdobe};
use reqwest::Url;
use secrecy::SecretString;

use super::Server;

pub const PROVIDER: &str = "3b1b7d8c-5f2e-4b8a-9c1d-2e3f4a5b6c7d";
pub const EVENT: &str = "be-observer.catalog_product_create";
pub const ORG: &str = "0123456789ABCDEF@AdobeOrg";

/// How the publisher talks to the ingress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `IoEventsPublisher::with_ingress_client`: what the binaries use.
    Dedicated,
    /// `IoEventsPublisher::new` over a reqwest client.
    Reqwest,
}

pub const BOTH: [Transport; 2] = [Transport::Dedicated, Transport::Reqwest];

pub struct Setup {
    pub fake: FakeAdobe,
    pub publisher: Arc<IoEventsPublisher>,
    pub server: Server,
}

/// An IMS token provider for the fake over `http`, with `secret` as the client secret.
pub fn ims_with(fake: &FakeAdobe, secret: &str, http: reqwest::Client) -> ImsTokenProvider {
    ImsTokenProvider::new(
        http,
        &fake.url(),
        ImsCredentials {
            client_id: FAKE_CLIENT_ID.into(),
            client_secret: SecretString::from(secret),
            scopes: "adobeio_api".into(),
        },
    )
}

pub fn ims(fake: &FakeAdobe) -> ImsTokenProvider {
    ims_with(
        fake,
        FAKE_CLIENT_SECRET,
        client(ClientTimeouts::default()).expect("client"),
    )
}

pub fn publisher(transport: Transport, ims: ImsTokenProvider, options: IoEventsOptions) -> IoEventsPublisher {
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

/// The fake, a publisher over `transport` with `budget` and `secret`, and the
/// ingestion webhook serving it; `ingress` replaces the fake's ingress URL.
pub async fn setup_with(transport: Transport, budget: Duration, secret: &str, ingress: Option<Url>) -> Setup {
    let fake = FakeAdobe::start().await.expect("fake");
    let mut options = IoEventsOptions::new(ingress.unwrap_or_else(|| fake.url()));
    options.retry_budget = budget;
    options.org_id = Some(ORG.into());
    // One reqwest client for IMS and, on that transport, the ingress too.
    let http = client(ClientTimeouts::default()).expect("client");
    let ims = ims_with(&fake, secret, http.clone());
    let publisher = Arc::new(match transport {
        Transport::Reqwest => IoEventsPublisher::new(http, ims, options),
        Transport::Dedicated => publisher(transport, ims, options),
    });
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

pub async fn setup(transport: Transport) -> Setup {
    setup_with(transport, Duration::from_secs(5), FAKE_CLIENT_SECRET, None).await
}
