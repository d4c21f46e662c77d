//! Configuration of the ingestion webhook: flags with environment variables,
//! validated into an [`IngestionService`].
//!
//! | flag | env | default |
//! |---|---|---|
//! | `--oauth-client-id ID` | `OAUTH_CLIENT_ID` | none |
//! | `--oauth-client-secret SECRET` | `OAUTH_CLIENT_SECRET` | none |
//! | `--oauth-org-id ORG` | `OAUTH_ORG_ID` | none (sent as `x-ims-org-id` when set) |
//! | `--oauth-scopes LIST` | `OAUTH_SCOPES` | `adobeio_api` |
//! | `--io-events-provider-id UUID` | `IO_EVENTS_PROVIDER_ID` | none |
//! | `--ims-base-url URL` | `IMS_BASE_URL` | `https://ims-na1.adobelogin.com` |
//! | `--io-events-ingress-url URL` | `IO_EVENTS_INGRESS_URL` | `https://eventsingress.adobe.io` |
//! | `--io-events-retry-budget-secs SECS` | `IO_EVENTS_RETRY_BUDGET_SECS` | 15 |
//! | `--ingestion-auth MODE` | `INGESTION_AUTH` | `none` (`api-key`, `hmac`) |
//! | `--ingestion-api-keys K1,K2` | `INGESTION_API_KEYS` | none |
//! | `--ingestion-hmac-secret SECRET` | `INGESTION_HMAC_SECRET` | none |
//! | `--ingestion-hmac-previous-secret SECRET` | `INGESTION_HMAC_PREVIOUS_SECRET` | none (also accepted, for rotation) |
//! | `--ingestion-hmac-window-secs SECS` | `INGESTION_HMAC_WINDOW_SECS` | 300 |
//! | `--ingestion-idempotency-ttl-secs SECS` | `INGESTION_IDEMPOTENCY_TTL_SECS` | 86400 |
//! | `--data-dir DIR` | `DATA_DIR` | `./data` |
//! | `--events-catalog-file FILE` | `EVENTS_CATALOG_FILE` | none (built-in catalog) |
//! | `--events-catalog-mode MODE` | `EVENTS_CATALOG_MODE` | `extend` (`replace`) |
//!
//! Adobe I/O Events is used when `OAUTH_CLIENT_SECRET` and
//! `IO_EVENTS_PROVIDER_ID` are set (with `OAUTH_CLIENT_ID`); with neither,
//! events go to the embedded durable bus in `DATA_DIR`; one without the other
//! is a start-up error. `OAUTH_CLIENT_ID` alone selects nothing: it is the
//! Adobe project's client id, which the consumer of `commerce-kit serve` reads
//! too (as the expected recipient of deliveries).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::catalog::CatalogArgs;
use crate::config::{ConfigError, comma_list};
use crate::ims::http_url as url;
use commerce_kit_core::http::ClientTimeouts;
use commerce_kit_core::state::StateStore;
use commerce_kit_model::bus::{BusError, LocalBus};
use secrecy::{ExposeSecret, SecretString};

use commerce_kit_ingestion::auth::{ApiKeyAuth, Authenticator, HmacAuth, NoAuth};
use commerce_kit_ingestion::publisher::ingress_client::IngressClientError;
use commerce_kit_ingestion::publisher::{
    EventPublisher, IngressClient, IoEventsOptions, IoEventsPublisher, LocalBusPublisher,
};
use commerce_kit_ingestion::{IngestionService, LOCAL_SOURCE};

/// How back offices authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuthMode {
    /// No authentication (a warning is logged at start-up).
    #[default]
    None,
    /// `Authorization: Bearer <key>` or `x-api-key: <key>`.
    ApiKey,
    /// HMAC-SHA256 over the timestamp and raw body (headers `x-commerce-kit-timestamp`, `x-commerce-kit-signature`).
    Hmac,
}

/// Adobe I/O Events publishing settings.
#[derive(Debug, Clone, clap::Args)]
pub struct IoEventsArgs {
    /// The project's IMS credentials.
    #[command(flatten)]
    pub ims: crate::ims::ImsArgs,

    /// The back-office events provider's UUID in I/O Events (CloudEvent source `urn:uuid:<id>`).
    #[arg(long, env = "IO_EVENTS_PROVIDER_ID", value_name = "UUID")]
    pub io_events_provider_id: Option<String>,

    /// Adobe I/O Events ingress URL.
    #[arg(
        long,
        env = "IO_EVENTS_INGRESS_URL",
        default_value = "https://eventsingress.adobe.io",
        value_name = "URL"
    )]
    pub io_events_ingress_url: String,

    /// Total time spent publishing one event to I/O Events, retries included.
    #[arg(long, env = "IO_EVENTS_RETRY_BUDGET_SECS", default_value_t = 15, value_name = "SECS")]
    pub io_events_retry_budget_secs: u64,
}

/// Back-office authentication settings.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthArgs {
    /// How back offices authenticate: none, api-key or hmac.
    #[arg(long, env = "INGESTION_AUTH", value_enum, default_value_t = AuthMode::None, value_name = "MODE")]
    pub ingestion_auth: AuthMode,

    /// Accepted API keys, comma-separated (several allow rotation); for INGESTION_AUTH=api-key.
    #[arg(long, env = "INGESTION_API_KEYS", hide_env_values = true, value_name = "K1,K2")]
    pub ingestion_api_keys: Option<SecretString>,

    /// Shared HMAC secret; for INGESTION_AUTH=hmac.
    #[arg(long, env = "INGESTION_HMAC_SECRET", hide_env_values = true, value_name = "SECRET")]
    pub ingestion_hmac_secret: Option<SecretString>,

    /// The previous HMAC secret, still accepted while back offices move to the current one
    /// (rotation; each request signed with it is logged); for INGESTION_AUTH=hmac.
    #[arg(
        long,
        env = "INGESTION_HMAC_PREVIOUS_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub ingestion_hmac_previous_secret: Option<SecretString>,

    /// Accepted distance between a signed request's timestamp and the server clock.
    #[arg(long, env = "INGESTION_HMAC_WINDOW_SECS", default_value_t = 300, value_name = "SECS")]
    pub ingestion_hmac_window_secs: u64,
}

/// Settings of the ingestion webhook (`POST /ingestion/webhook`).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Ingestion webhook")]
pub struct IngestionArgs {
    /// Adobe I/O Events.
    #[command(flatten)]
    pub io_events: IoEventsArgs,

    /// Authentication.
    #[command(flatten)]
    pub auth: AuthArgs,

    /// Event catalog.
    #[command(flatten)]
    pub catalog: CatalogArgs,

    /// Directory of the embedded durable bus (used when I/O Events is not configured).
    #[arg(long, env = "DATA_DIR", default_value = "./data", value_name = "DIR")]
    pub data_dir: PathBuf,

    /// How long a published uid is remembered, so a repeat is acknowledged without publishing twice.
    #[arg(
        long,
        env = "INGESTION_IDEMPOTENCY_TTL_SECS",
        default_value_t = 86_400,
        value_name = "SECS"
    )]
    pub ingestion_idempotency_ttl_secs: u64,
}

/// Which publisher the settings select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublisherKind {
    /// Adobe I/O Events (client id, client secret and provider id set).
    IoEvents,
    /// The embedded durable bus (neither client secret nor provider id set).
    LocalBus,
}

/// Warns that nothing in this process consumes the journal `bus`.
pub fn warn_unconsumed(bus: &LocalBus) {
    tracing::warn!(
        path = %bus.path().display(),
        "no events consumer runs in this process: accepted events are kept in the journal until \
         `commerce-kit serve` is started on this data dir (or set the I/O Events settings)"
    );
}

/// Why [`IngestionArgs::open_bus`] failed: a setting, or the journal itself.
#[derive(Debug, thiserror::Error)]
pub enum OpenBusError {
    /// The publisher settings are inconsistent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The journal cannot be opened (damaged, locked, not writable).
    #[error(transparent)]
    Bus(#[from] BusError),
}

impl OpenBusError {
    /// Prints the error on one line and exits with status 2.
    pub fn exit(&self) -> ! {
        match self {
            OpenBusError::Config(err) => crate::config::exit_config_error(err),
            OpenBusError::Bus(err) => crate::config::exit_startup_error(err),
        }
    }
}

fn present(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.trim().is_empty())
}

impl IngestionArgs {
    /// I/O Events when the publisher's own settings (`OAUTH_CLIENT_SECRET` and
    /// `IO_EVENTS_PROVIDER_ID`) are set, with `OAUTH_CLIENT_ID`; the local bus
    /// when neither is; one without the other (or without a client id) is an
    /// error naming what is missing.
    ///
    /// `OAUTH_CLIENT_ID` alone selects nothing: it is the Adobe project's
    /// client id, which `commerce-kit serve`'s consumer also reads (the
    /// expected `recipientclientid` of deliveries), so setting it for the
    /// consumer leaves ingestion on the local bus.
    pub fn publisher_kind(&self) -> Result<PublisherKind, ConfigError> {
        let io = &self.io_events;
        let secret = present(io.ims.oauth_client_secret.as_ref().map(|s| s.expose_secret()));
        let provider = present(io.io_events_provider_id.as_deref());
        if !secret && !provider {
            return Ok(PublisherKind::LocalBus);
        }
        let settings = [
            (
                "OAUTH_CLIENT_ID",
                "--oauth-client-id",
                present(io.ims.oauth_client_id.as_deref()),
            ),
            ("OAUTH_CLIENT_SECRET", "--oauth-client-secret", secret),
            ("IO_EVENTS_PROVIDER_ID", "--io-events-provider-id", provider),
        ];
        let missing: Vec<String> = settings
            .iter()
            .filter(|(_, _, set)| !set)
            .map(|(env, flag, _)| format!("{env} ({flag})"))
            .collect();
        if missing.is_empty() {
            return Ok(PublisherKind::IoEvents);
        }
        Err(ConfigError(format!(
            "Adobe I/O Events publishing is partly configured: missing {}; set OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET \
             and IO_EVENTS_PROVIDER_ID to publish to I/O Events, or leave OAUTH_CLIENT_SECRET and \
             IO_EVENTS_PROVIDER_ID unset to use the local bus",
            missing.join(", ")
        )))
    }

    /// Opens the local bus in `DATA_DIR` when the settings select it as the
    /// publisher (`None` when events go to I/O Events). A damaged or locked
    /// journal is an error whose message says what to do.
    pub fn open_bus(&self) -> Result<Option<LocalBus>, OpenBusError> {
        match self.publisher_kind()? {
            PublisherKind::LocalBus => Ok(Some(LocalBus::open(&self.data_dir)?)),
            PublisherKind::IoEvents => Ok(None),
        }
    }

    /// Validates the settings and builds the service, opening the local bus in
    /// `DATA_DIR` when it is the publisher.
    pub fn build(&self, body_limit: usize) -> Result<IngestionService, ConfigError> {
        self.build_inner(body_limit, None, None)
    }

    /// Like [`build`](Self::build), but publishes to an already-open `bus`
    /// (so `commerce-kit serve` shares one bus between ingestion and the consumer)
    /// when the local bus is the publisher.
    pub fn build_with_bus(&self, body_limit: usize, bus: &LocalBus) -> Result<IngestionService, ConfigError> {
        self.build_inner(body_limit, Some(bus), None)
    }

    /// Like [`build`](Self::build), with an optional already-open `bus` and an
    /// optional shared idempotency store (e.g. the consumer's Redis store, so
    /// replicas recognise each other's `uid`s); `None` keeps the defaults (open
    /// the bus from `DATA_DIR` when needed; a per-process store).
    pub fn build_with(
        &self,
        body_limit: usize,
        bus: Option<&LocalBus>,
        idempotency: Option<Arc<dyn StateStore>>,
    ) -> Result<IngestionService, ConfigError> {
        self.build_inner(body_limit, bus, idempotency)
    }

    /// The authenticator the settings select.
    pub fn authenticator(&self) -> Result<Arc<dyn Authenticator>, ConfigError> {
        let a = &self.auth;
        let keys_set = present(a.ingestion_api_keys.as_ref().map(|s| s.expose_secret()));
        let secret_set = present(a.ingestion_hmac_secret.as_ref().map(|s| s.expose_secret()));
        let previous_set = present(a.ingestion_hmac_previous_secret.as_ref().map(|s| s.expose_secret()));
        let unused = |flag: &str, env: &str| {
            ConfigError::setting(
                flag,
                env,
                format!(
                    "is set but INGESTION_AUTH={}; set INGESTION_AUTH to use it or unset it",
                    mode_name(a.ingestion_auth)
                ),
            )
        };
        match a.ingestion_auth {
            AuthMode::None => {
                // A credential without a mode means authentication was meant but
                // is off: refused. Next to another mode it is merely unused.
                if keys_set {
                    return Err(unused("--ingestion-api-keys", "INGESTION_API_KEYS"));
                }
                if secret_set {
                    return Err(unused("--ingestion-hmac-secret", "INGESTION_HMAC_SECRET"));
                }
                if previous_set {
                    return Err(unused(
                        "--ingestion-hmac-previous-secret",
                        "INGESTION_HMAC_PREVIOUS_SECRET",
                    ));
                }
                tracing::warn!(
                    "INGESTION_AUTH=none: POST /ingestion/webhook accepts events from anyone; \
                     set INGESTION_AUTH=api-key or hmac in production"
                );
                Ok(Arc::new(NoAuth))
            }
            AuthMode::ApiKey => {
                let keys = a
                    .ingestion_api_keys
                    .as_ref()
                    .map(|s| comma_list(s.expose_secret()))
                    .unwrap_or_default();
                if keys.is_empty() {
                    return Err(ConfigError::setting(
                        "--ingestion-api-keys",
                        "INGESTION_API_KEYS",
                        "required when INGESTION_AUTH=api-key (one or more comma-separated keys)",
                    ));
                }
                Ok(Arc::new(ApiKeyAuth::new(keys.into_iter().map(SecretString::from))))
            }
            AuthMode::Hmac => match &a.ingestion_hmac_secret {
                Some(secret) if secret_set => {
                    let mut auth =
                        HmacAuth::new(secret.clone()).with_window(Duration::from_secs(a.ingestion_hmac_window_secs));
                    if let Some(previous) = a.ingestion_hmac_previous_secret.as_ref().filter(|_| previous_set) {
                        auth = auth.with_previous_secret(previous.clone());
                    }
                    Ok(Arc::new(auth))
                }
                _ => Err(ConfigError::setting(
                    "--ingestion-hmac-secret",
                    "INGESTION_HMAC_SECRET",
                    "required when INGESTION_AUTH=hmac",
                )),
            },
        }
    }

    fn build_inner(
        &self,
        body_limit: usize,
        bus: Option<&LocalBus>,
        idempotency: Option<Arc<dyn StateStore>>,
    ) -> Result<IngestionService, ConfigError> {
        let kind = self.publisher_kind()?;
        let authenticator = self.authenticator()?;
        let catalog = self.catalog.load().map_err(|e| ConfigError(e.to_string()))?;
        let (publisher, source): (Arc<dyn EventPublisher>, String) = match kind {
            PublisherKind::IoEvents => {
                let (publisher, source) = self.io_events_publisher()?;
                (Arc::new(publisher), source)
            }
            PublisherKind::LocalBus => {
                let bus = match bus {
                    Some(bus) => bus.clone(),
                    None => {
                        let bus = LocalBus::open(&self.data_dir)
                            .map_err(|e| ConfigError::setting("--data-dir", "DATA_DIR", e))?;
                        warn_unconsumed(&bus);
                        bus
                    }
                };
                tracing::info!(path = %bus.path().display(), head = bus.head(), "ingestion publishes to the local durable bus");
                (Arc::new(LocalBusPublisher::new(bus)), LOCAL_SOURCE.to_owned())
            }
        };
        tracing::info!(
            auth = authenticator.name(),
            events = catalog.len(),
            catalog = %catalog.source().map_or("built-in".to_owned(), |p| p.display().to_string()),
            "ingestion webhook ready"
        );
        let mut builder = IngestionService::builder(publisher);
        if let Some(store) = idempotency {
            builder = builder.idempotency_store(store);
        }
        Ok(builder
            .authenticator(authenticator)
            .catalog(Arc::new(catalog))
            .idempotency_ttl(Duration::from_secs(self.ingestion_idempotency_ttl_secs))
            .pending_ttl(Duration::from_secs(self.io_events.io_events_retry_budget_secs + 30))
            .source(source)
            .body_limit(body_limit)
            .build())
    }

    fn io_events_publisher(&self) -> Result<(IoEventsPublisher, String), ConfigError> {
        let io = &self.io_events;
        let provider = io.io_events_provider_id.as_deref().unwrap_or_default().trim();
        let provider = uuid::Uuid::parse_str(provider).map_err(|_| {
            ConfigError::setting(
                "--io-events-provider-id",
                "IO_EVENTS_PROVIDER_ID",
                format!("expected the provider's UUID, got {provider:?}"),
            )
        })?;
        let ingress_url = url(
            "--io-events-ingress-url",
            "IO_EVENTS_INGRESS_URL",
            &io.io_events_ingress_url,
        )?;
        if io.io_events_retry_budget_secs == 0 {
            return Err(ConfigError::setting(
                "--io-events-retry-budget-secs",
                "IO_EVENTS_RETRY_BUDGET_SECS",
                "must be at least 1",
            ));
        }
        let (ims, ims_url) = io.ims.provider("publishing to Adobe I/O Events")?;
        let mut options = IoEventsOptions::new(ingress_url.clone());
        options.org_id = io.ims.org_id();
        options.retry_budget = Duration::from_secs(io.io_events_retry_budget_secs);
        tracing::info!(
            ingress = %ingress_url,
            ims = %ims_url,
            provider = %provider,
            "ingestion publishes to Adobe I/O Events"
        );
        // The ingress gets the dedicated client (one POST per event); IMS, one
        // request per token lifetime, keeps the general-purpose one.
        let ingress = IngressClient::new(ClientTimeouts::default().connect).map_err(|e| ConfigError(e.to_string()))?;
        let publisher = IoEventsPublisher::with_ingress_client(ingress, ims, options).map_err(|e| match e {
            IngressClientError::Url(_) => ConfigError::setting("--io-events-ingress-url", "IO_EVENTS_INGRESS_URL", e),
            IngressClientError::Header("x-ims-org-id") => ConfigError::setting("--oauth-org-id", "OAUTH_ORG_ID", e),
            IngressClientError::Header(_) => ConfigError::setting("--oauth-client-id", "OAUTH_CLIENT_ID", e),
            IngressClientError::Tls(_) => ConfigError(e.to_string()),
        })?;
        Ok((publisher, format!("urn:uuid:{provider}")))
    }
}

fn mode_name(mode: AuthMode) -> &'static str {
    match mode {
        AuthMode::None => "none",
        AuthMode::ApiKey => "api-key",
        AuthMode::Hmac => "hmac",
    }
}
