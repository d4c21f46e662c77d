//! Configuration of the events consumer: flags with environment variables,
//! validated into a [`ConsumerService`].
//!
//! | flag | env | default |
//! |---|---|---|
//! | `--redis-url URL` | `REDIS_URL` | none: in-memory state (one process) |
//! | `--events-client-id ID` | `OAUTH_CLIENT_ID` | none |
//! | `--events-verify-signatures BOOL` | `EVENTS_VERIFY_SIGNATURES` | `true` when `OAUTH_CLIENT_ID` is set, else `false` |
//! | `--io-events-key-base-url URL` | `IO_EVENTS_KEY_BASE_URL` | `https://static.adobeioevents.com` |
//! | `--io-events-key-cache-secs SECS` | `IO_EVENTS_KEY_CACHE_SECS` | 86400 (the maximum) |
//! | `--events-dedupe-ttl-secs SECS` | `EVENTS_DEDUPE_TTL_SECS` | 86400 |
//! | `--loop-guard-ttl-secs SECS` | `LOOP_GUARD_TTL_SECS` | 60 |
//! | `--loop-guard-rules PATH` | `LOOP_GUARD_RULES_FILE` | built-in product + customer rules |
//! | `--events-handler-timeout-ms MS` | `EVENTS_HANDLER_TIMEOUT_MS` | 8000 |
//! | `--events-forward-url URL` | `EVENTS_FORWARD_URL` | none: events are logged |
//! | `--events-forward-token TOKEN` | `EVENTS_FORWARD_TOKEN` | none |
//! | `--events-forward-timeout-ms MS` | `EVENTS_FORWARD_TIMEOUT_MS` | 5000 |
//! | `--events-body-limit BYTES` | `EVENTS_BODY_LIMIT_BYTES` | 2621440 |
//! | `--events-batch-limit N` | `EVENTS_BATCH_LIMIT` | 20 (Adobe's largest batch) |
//! | `--events-validation-allow-loopback BOOL` | `EVENTS_VALIDATION_ALLOW_LOOPBACK` | false (tests only) |
//! | `--events-consumer-name NAME` | `EVENTS_CONSUMER_NAME` | `events-consumer` |
//! | `--events-local-max-attempts N` | `EVENTS_LOCAL_MAX_ATTEMPTS` | 10 |
//! | `--events-local-retry-initial-ms MS` | `EVENTS_LOCAL_RETRY_INITIAL_MS` | 500 |
//! | `--events-local-retry-max-ms MS` | `EVENTS_LOCAL_RETRY_MAX_MS` | 60000 |
//! | `--bus-retention-hours HOURS` | `BUS_RETENTION_HOURS` | 168 (7 days; 0 keeps every event) |
//! | `--events-concurrency N` | `EVENTS_CONCURRENCY` | 32 |
//! | `--events-window N` | `EVENTS_WINDOW` | 10000 |
//! | `--events-order-keys RULES` | `EVENTS_ORDER_KEYS` | the starter kit's entity keys only |
//! | `--admin-token TOKEN` | `ADMIN_TOKEN` | none: no dead-letter admin API |
//!
//! The reference sync handlers' settings (`COMMERCE_*`, `BACKOFFICE_*`) are
//! flattened in from [`crate::commerce`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::ConfigError;
use clap::builder::BoolishValueParser;
use commerce_kit_core::http::ClientTimeouts;
use commerce_kit_core::state::{MemoryStore, StateStore};
use secrecy::SecretString;

use commerce_kit_events::consumer::{Consumer, ConsumerBuilder};
use commerce_kit_events::delivery::signature::{DEFAULT_KEY_BASE_URL, MAX_KEY_CACHE_TTL};
use commerce_kit_events::delivery::{
    DEFAULT_EVENTS_BATCH_LIMIT, DEFAULT_EVENTS_BODY_LIMIT, Delivery, DeliveryOptions, SignatureVerifier,
    ValidationPolicy,
};
use commerce_kit_events::handler::EventHandler;
use commerce_kit_events::handlers::{ForwardingHandler, ForwardingOptions, LoggingHandler};
use commerce_kit_events::local::{DEFAULT_CONSUMER_NAME, LocalOptions};
use commerce_kit_events::loop_guard::LoopGuardRule;
use commerce_kit_events::ordering::{OrderingKeys, parse_rules};
use commerce_kit_events::service::ConsumerService;
use commerce_kit_model::bus::LocalBus;

/// Settings of the events consumer (`GET|POST /events` and the local-bus loop).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Events consumer")]
pub struct ConsumerArgs {
    /// Redis for dedupe marks and loop-guard fingerprints, shared by replicas
    /// (e.g. redis://127.0.0.1:6379). Unset: in-memory state for this process only.
    #[arg(long, env = "REDIS_URL", hide_env_values = true, value_name = "URL")]
    pub redis_url: Option<SecretString>,

    /// The I/O Events client id of this integration: every delivered event's
    /// recipientclientid must equal it. Setting it turns signature verification on.
    #[arg(long = "events-client-id", env = "OAUTH_CLIENT_ID", value_name = "ID")]
    pub events_client_id: Option<String>,

    /// Require valid I/O Events digital signatures on POST /events (default: true when
    /// OAUTH_CLIENT_ID is set, else false).
    #[arg(long, env = "EVENTS_VERIFY_SIGNATURES", value_name = "BOOL", value_parser = BoolishValueParser::new())]
    pub events_verify_signatures: Option<bool>,

    /// Where I/O Events public keys are fetched from; only paths on this origin are accepted.
    #[arg(long, env = "IO_EVENTS_KEY_BASE_URL", default_value = DEFAULT_KEY_BASE_URL, value_name = "URL")]
    pub io_events_key_base_url: String,

    /// How long a fetched public key is cached (at most 86400, Adobe's recommendation).
    #[arg(
        long,
        env = "IO_EVENTS_KEY_CACHE_SECS",
        default_value_t = 86_400,
        value_name = "SECS"
    )]
    pub io_events_key_cache_secs: u64,

    /// How long a successfully handled event id is remembered (redeliveries within it are not handled again).
    #[arg(long, env = "EVENTS_DEDUPE_TTL_SECS", default_value_t = 86_400, value_name = "SECS")]
    pub events_dedupe_ttl_secs: u64,

    /// How long an infinite-loop fingerprint lives after a successful handling.
    #[arg(long, env = "LOOP_GUARD_TTL_SECS", default_value_t = 60, value_name = "SECS")]
    pub loop_guard_ttl_secs: u64,

    /// JSON file of loop-guard rules replacing the built-in ones: [{"entity":"product",
    /// "event_types":[…],"identity":["sku","id"],"fields":["sku","name","description"]}]; [] disables the guard.
    #[arg(long = "loop-guard-rules", env = "LOOP_GUARD_RULES_FILE", value_name = "PATH")]
    pub loop_guard_rules: Option<PathBuf>,

    /// Deadline of one handler call; past it the event is answered 503 and retried.
    /// Keep it under Adobe's 10 s webhook timeout.
    #[arg(long, env = "EVENTS_HANDLER_TIMEOUT_MS", default_value_t = 8000, value_name = "MS")]
    pub events_handler_timeout_ms: u64,

    /// POST every routed event (CloudEvent JSON) to this URL. Unset: events are logged.
    #[arg(long, env = "EVENTS_FORWARD_URL", value_name = "URL")]
    pub events_forward_url: Option<String>,

    /// Bearer token sent with forwarded events.
    #[arg(long, env = "EVENTS_FORWARD_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub events_forward_token: Option<SecretString>,

    /// Whole-request timeout of a forwarded event.
    #[arg(long, env = "EVENTS_FORWARD_TIMEOUT_MS", default_value_t = 5000, value_name = "MS")]
    pub events_forward_timeout_ms: u64,

    /// Largest accepted POST /events body (Adobe batches are up to 2 MB).
    #[arg(long, env = "EVENTS_BODY_LIMIT_BYTES", default_value_t = DEFAULT_EVENTS_BODY_LIMIT, value_name = "BYTES")]
    pub events_body_limit: usize,

    /// Most events in one POST /events batch (Adobe sends at most 20); a longer batch is answered 413.
    #[arg(long, env = "EVENTS_BATCH_LIMIT", default_value_t = DEFAULT_EVENTS_BATCH_LIMIT, value_name = "N")]
    pub events_batch_limit: usize,

    /// Also fetch validationUrls on http://127.0.0.1 / localhost (tests only; never in production).
    #[arg(long, env = "EVENTS_VALIDATION_ALLOW_LOOPBACK", default_value_t = false, value_name = "BOOL",
        action = clap::ArgAction::Set, value_parser = BoolishValueParser::new())]
    pub events_validation_allow_loopback: bool,

    /// Name under which the local-bus loop acknowledges and dead-letters events.
    #[arg(long, env = "EVENTS_CONSUMER_NAME", default_value = DEFAULT_CONSUMER_NAME, value_name = "NAME")]
    pub events_consumer_name: String,

    /// Local bus: attempts per event for retryable failures before it is dead-lettered.
    #[arg(long, env = "EVENTS_LOCAL_MAX_ATTEMPTS", default_value_t = 10, value_name = "N")]
    pub events_local_max_attempts: u32,

    /// Local bus: wait before the first retry (doubles each retry).
    #[arg(
        long,
        env = "EVENTS_LOCAL_RETRY_INITIAL_MS",
        default_value_t = 500,
        value_name = "MS"
    )]
    pub events_local_retry_initial_ms: u64,

    /// Local bus: longest wait between retries.
    #[arg(long, env = "EVENTS_LOCAL_RETRY_MAX_MS", default_value_t = 60_000, value_name = "MS")]
    pub events_local_retry_max_ms: u64,

    /// Local bus: hours an event every consumer has acknowledged is kept before it is removed
    /// from the journal (checked hourly); 0 keeps every event forever.
    #[arg(long, env = "BUS_RETENTION_HOURS", default_value_t = 168, value_name = "HOURS")]
    pub bus_retention_hours: u64,

    /// Local bus: events handled at the same time at most (events sharing an ordering key are
    /// always handled one at a time, in journal order).
    #[arg(long, env = "EVENTS_CONCURRENCY", default_value_t = commerce_kit_events::local::DEFAULT_CONCURRENCY, value_name = "N")]
    pub events_concurrency: usize,

    /// Local bus: how many events past its acknowledgement the loop reads; the most a crash
    /// hands over again, and how far other keys go on past an event that keeps failing.
    #[arg(long, env = "EVENTS_WINDOW", default_value_t = commerce_kit_events::local::DEFAULT_WINDOW, value_name = "N")]
    pub events_window: usize,

    /// Local bus: ordering keys of custom events, `<event type>=<entity>:<field>[|<field>…]`
    /// separated by ';' (they take precedence over the built-in keys of the starter kit's events).
    #[arg(long, env = "EVENTS_ORDER_KEYS", value_name = "RULES")]
    pub events_order_keys: Option<String>,

    /// Token of the dead-letter admin API (`/admin/dead-letters`, local bus only; at least 16
    /// characters); without it the API is not served.
    #[arg(long, env = "ADMIN_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub admin_token: Option<SecretString>,

    /// The reference sync handlers (Commerce connection, back office): see [`crate::commerce`].
    #[command(flatten)]
    pub sync: crate::commerce::SyncArgs,
}

fn positive(value: u64, flag: &str, env: &str) -> Result<u64, ConfigError> {
    if value == 0 {
        Err(ConfigError::setting(flag, env, "must be greater than 0"))
    } else {
        Ok(value)
    }
}

/// `redis://user:pass@host` → `redis://user:***@host`, for messages.
fn without_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "<unparsable URL>".to_owned(),
    }
}

impl ConsumerArgs {
    /// Whether signatures are verified: the explicit setting, else "a client id is set".
    pub fn verify_signatures(&self) -> bool {
        self.events_verify_signatures.unwrap_or(self.events_client_id.is_some())
    }

    /// The state store: Redis when `REDIS_URL` is set (connected now, so a wrong URL
    /// fails at start-up), else a process-local in-memory store (at most 100,000
    /// entries: the most recent event ids are remembered, older ones evicted first).
    /// Without Redis, [`consumer_builder`](Self::consumer_builder) keeps loop-guard
    /// fingerprints in a second in-memory store of their own.
    pub async fn state_store(&self) -> Result<Arc<dyn StateStore>, ConfigError> {
        use secrecy::ExposeSecret;
        let Some(url) = &self.redis_url else {
            tracing::info!("events state (dedupe, loop guard) in memory: set REDIS_URL to share it between replicas");
            return Ok(Arc::new(MemoryStore::new()));
        };
        let url = url.expose_secret();
        match commerce_kit_core::state::RedisStore::connect(url).await {
            Ok(store) => {
                tracing::info!(redis = %without_password(url), "events state in Redis");
                Ok(Arc::new(store))
            }
            Err(e) => Err(ConfigError::setting(
                "--redis-url",
                "REDIS_URL",
                format!(
                    "cannot connect to {}: {} (is redis-server running?)",
                    without_password(url),
                    e.reason
                ),
            )),
        }
    }

    /// A consumer builder with the configured TTLs, loop-guard rules, deadline and
    /// the default fallback handler (forwarding when `EVENTS_FORWARD_URL` is set,
    /// else logging), plus the reference sync handlers that are configured
    /// ([`crate::commerce`]). Register your own handlers on it before `build()`.
    pub fn consumer_builder(&self, store: Arc<dyn StateStore>) -> Result<ConsumerBuilder, ConfigError> {
        let dedupe = positive(
            self.events_dedupe_ttl_secs,
            "--events-dedupe-ttl-secs",
            "EVENTS_DEDUPE_TTL_SECS",
        )?;
        let loop_ttl = positive(self.loop_guard_ttl_secs, "--loop-guard-ttl-secs", "LOOP_GUARD_TTL_SECS")?;
        let timeout = positive(
            self.events_handler_timeout_ms,
            "--events-handler-timeout-ms",
            "EVENTS_HANDLER_TIMEOUT_MS",
        )?;
        if timeout >= 10_000 {
            tracing::warn!(
                timeout_ms = timeout,
                "EVENTS_HANDLER_TIMEOUT_MS is not under Adobe's 10 s webhook timeout: slow handlers will be retried by Adobe while still running"
            );
        }
        let mut builder = Consumer::builder(store);
        if self.redis_url.is_none() {
            // In memory, fingerprints get a store of their own: a full shared store
            // would evict these 60 s entries before any 24 h dedupe mark.
            builder = builder.loop_guard_store(Arc::new(MemoryStore::new()));
        }
        let builder = builder
            .dedupe_ttl(Duration::from_secs(dedupe))
            .loop_guard_ttl(Duration::from_secs(loop_ttl))
            .loop_guard_rules(self.loop_guard_rules()?)
            .handler_timeout(Duration::from_millis(timeout))
            .fallback(self.fallback_handler()?);
        // the reference sync handlers, on their routes, when configured
        let fallback = if self.events_forward_url.is_some() {
            "forwarding"
        } else {
            "logging"
        };
        self.sync.register(builder, Duration::from_millis(timeout), fallback)
    }

    /// The loop-guard rules: the file's, or the built-in ones.
    pub fn loop_guard_rules(&self) -> Result<Vec<LoopGuardRule>, ConfigError> {
        let Some(path) = &self.loop_guard_rules else {
            return Ok(LoopGuardRule::starter_kit());
        };
        let bad = |problem: String| ConfigError::setting("--loop-guard-rules", "LOOP_GUARD_RULES_FILE", problem);
        let text = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| bad(format!("{}: {e}", path.display())))
    }

    /// The handler for routed events without a handler of their own.
    pub fn fallback_handler(&self) -> Result<Arc<dyn EventHandler>, ConfigError> {
        let Some(raw) = &self.events_forward_url else {
            if self.events_forward_token.is_some() {
                return Err(ConfigError::setting(
                    "--events-forward-token",
                    "EVENTS_FORWARD_TOKEN",
                    "is set but --events-forward-url (EVENTS_FORWARD_URL) is not",
                ));
            }
            return Ok(Arc::new(LoggingHandler));
        };
        let bad = |problem: &str| ConfigError::setting("--events-forward-url", "EVENTS_FORWARD_URL", problem);
        let url = reqwest::Url::parse(raw).map_err(|_| bad("not an absolute URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad("must be an http:// or https:// URL with a host"));
        }
        let request = positive(
            self.events_forward_timeout_ms,
            "--events-forward-timeout-ms",
            "EVENTS_FORWARD_TIMEOUT_MS",
        )?;
        let mut options = ForwardingOptions::new(url);
        options.token = self.events_forward_token.clone();
        options.timeouts = ClientTimeouts {
            connect: Duration::from_millis(request.min(2000)),
            request: Duration::from_millis(request),
        };
        let handler = ForwardingHandler::new(options).map_err(|e| bad(&e.to_string()))?;
        Ok(Arc::new(handler))
    }

    /// The delivery endpoint's options (signatures, validationUrl policy, body and batch limits).
    pub fn delivery_options(&self) -> Result<DeliveryOptions, ConfigError> {
        let limit = positive(
            self.events_body_limit as u64,
            "--events-body-limit",
            "EVENTS_BODY_LIMIT_BYTES",
        )?;
        let batch_limit = positive(
            self.events_batch_limit as u64,
            "--events-batch-limit",
            "EVENTS_BATCH_LIMIT",
        )?;
        let options = if self.verify_signatures() {
            let secs = self.io_events_key_cache_secs;
            if secs == 0 || secs > MAX_KEY_CACHE_TTL.as_secs() {
                return Err(ConfigError::setting(
                    "--io-events-key-cache-secs",
                    "IO_EVENTS_KEY_CACHE_SECS",
                    "must be between 1 and 86400 (Adobe recommends caching keys at most 24 h)",
                ));
            }
            let verifier = SignatureVerifier::new(&self.io_events_key_base_url, Duration::from_secs(secs))
                .map_err(|e| ConfigError::setting("--io-events-key-base-url", "IO_EVENTS_KEY_BASE_URL", e))?;
            DeliveryOptions::verified(verifier, self.events_client_id.clone())
        } else {
            // The documented opt-out (EVENTS_VERIFY_SIGNATURES=false, or no
            // OAUTH_CLIENT_ID): the Delivery warns at start-up.
            DeliveryOptions::unsigned()
        };
        if self.events_validation_allow_loopback {
            tracing::warn!(
                "EVENTS_VALIDATION_ALLOW_LOOPBACK is on: validationUrls on loopback http are fetched (tests only)"
            );
        }
        Ok(options
            .with_validation(ValidationPolicy {
                allow_loopback_http: self.events_validation_allow_loopback,
                ..ValidationPolicy::default()
            })
            .with_body_limit(limit as usize)
            .with_batch_limit(batch_limit as usize))
    }

    /// The local-bus loop's options.
    pub fn local_options(&self) -> Result<LocalOptions, ConfigError> {
        if self.events_consumer_name.trim().is_empty() {
            return Err(ConfigError::setting(
                "--events-consumer-name",
                "EVENTS_CONSUMER_NAME",
                "must not be empty",
            ));
        }
        let attempts = positive(
            u64::from(self.events_local_max_attempts),
            "--events-local-max-attempts",
            "EVENTS_LOCAL_MAX_ATTEMPTS",
        )?;
        let initial = positive(
            self.events_local_retry_initial_ms,
            "--events-local-retry-initial-ms",
            "EVENTS_LOCAL_RETRY_INITIAL_MS",
        )?;
        let max = positive(
            self.events_local_retry_max_ms,
            "--events-local-retry-max-ms",
            "EVENTS_LOCAL_RETRY_MAX_MS",
        )?;
        if max < initial {
            return Err(ConfigError::setting(
                "--events-local-retry-max-ms",
                "EVENTS_LOCAL_RETRY_MAX_MS",
                "must be at least --events-local-retry-initial-ms (EVENTS_LOCAL_RETRY_INITIAL_MS)",
            ));
        }
        let concurrency = positive(
            self.events_concurrency as u64,
            "--events-concurrency",
            "EVENTS_CONCURRENCY",
        )?;
        let window = positive(self.events_window as u64, "--events-window", "EVENTS_WINDOW")?;
        if window < concurrency {
            return Err(ConfigError::setting(
                "--events-window",
                "EVENTS_WINDOW",
                "must be at least --events-concurrency (EVENTS_CONCURRENCY)",
            ));
        }
        let mut ordering = OrderingKeys::starter_kit();
        if let Some(spec) = &self.events_order_keys {
            let rules = parse_rules(spec)
                .map_err(|e| ConfigError::setting("--events-order-keys", "EVENTS_ORDER_KEYS", e.to_string()))?;
            ordering = ordering.with_rules(rules);
        }
        Ok(LocalOptions {
            concurrency: concurrency as usize,
            window: window as usize,
            ordering,
            consumer_name: self.events_consumer_name.trim().to_owned(),
            max_attempts: attempts as u32,
            initial_backoff: Duration::from_millis(initial),
            max_backoff: Duration::from_millis(max),
            retention: match self.bus_retention_hours {
                0 => None,
                hours => Some(Duration::from_secs(hours.saturating_mul(3600))),
            },
            ..LocalOptions::default()
        })
    }

    /// Validates everything and builds the service with the default handler setup,
    /// over `store` and, when given, an already-open local bus to consume.
    pub fn build(&self, store: Arc<dyn StateStore>, bus: Option<LocalBus>) -> Result<ConsumerService, ConfigError> {
        // Only a fallback is registered: no handler key to refuse.
        let consumer = self
            .consumer_builder(store)?
            .build()
            .map_err(|e| ConfigError(e.to_string()))?;
        self.build_with(consumer, bus)
    }

    /// Like [`build`](Self::build) with your own consumer (e.g. from
    /// [`consumer_builder`](Self::consumer_builder) plus your handlers).
    pub fn build_with(&self, consumer: Consumer, bus: Option<LocalBus>) -> Result<ConsumerService, ConfigError> {
        let delivery = Delivery::new(consumer, self.delivery_options()?);
        let local = self.local_options()?;
        let admin = self.admin_token()?;
        tracing::info!(
            verify_signatures = delivery.options().is_verified(),
            fallback = if self.events_forward_url.is_some() {
                "forwarding"
            } else {
                "logging"
            },
            local_bus = bus.is_some(),
            concurrency = local.concurrency,
            "events consumer ready on GET|POST /events"
        );
        let has_bus = bus.is_some();
        let mut service = ConsumerService::new(delivery, bus, local);
        match admin {
            Some(token) if has_bus => {
                tracing::info!("dead-letter admin API on /admin/dead-letters (Authorization: Bearer <ADMIN_TOKEN>)");
                service = service.with_admin_token(token);
            }
            Some(_) => tracing::warn!("ADMIN_TOKEN is set but there is no local bus: no dead-letter admin API"),
            None => {}
        }
        Ok(service)
    }

    /// The admin token, at least 16 characters when set.
    pub fn admin_token(&self) -> Result<Option<SecretString>, ConfigError> {
        use secrecy::ExposeSecret;
        match &self.admin_token {
            Some(token) if token.expose_secret().trim().chars().count() < 16 => Err(ConfigError::setting(
                "--admin-token",
                "ADMIN_TOKEN",
                "must be at least 16 characters (e.g. `openssl rand -hex 24`)",
            )),
            other => Ok(other.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        consumer: ConsumerArgs,
    }

    fn parse(args: &[&str]) -> ConsumerArgs {
        let mut all = vec!["test"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("parse").consumer
    }

    fn store() -> Arc<dyn StateStore> {
        Arc::new(MemoryStore::new())
    }

    #[test]
    fn signatures_default_on_with_a_client_id() {
        assert!(!parse(&[]).verify_signatures());
        assert!(parse(&["--events-client-id", "abc"]).verify_signatures());
        assert!(!parse(&["--events-client-id", "abc", "--events-verify-signatures", "false"]).verify_signatures());
        assert!(parse(&["--events-verify-signatures", "yes"]).verify_signatures());
        let opts = parse(&["--events-client-id", "abc"]).delivery_options().expect("ok");
        let v = opts.verification().expect("on");
        assert_eq!(v.client_id.as_deref(), Some("abc"));
        assert_eq!(v.verifier.base_url(), "https://static.adobeioevents.com");
        assert_eq!(opts.body_limit, 2_621_440);
        assert_eq!(opts.batch_limit, 20);
        // without a client id, unsigned deliveries are the documented opt-out
        assert!(!parse(&[]).delivery_options().expect("ok").is_verified());
        let no_recipient = parse(&["--events-verify-signatures", "true"])
            .delivery_options()
            .expect("ok");
        assert_eq!(no_recipient.verification().expect("on").client_id, None);
    }

    #[test]
    fn the_batch_limit_is_a_setting_and_must_be_positive() {
        let opts = parse(&["--events-batch-limit", "50"]).delivery_options().expect("ok");
        assert_eq!(opts.batch_limit, 50);
        let err = parse(&["--events-batch-limit", "0"]).delivery_options().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid configuration: --events-batch-limit (EVENTS_BATCH_LIMIT): must be greater than 0"
        );
    }

    #[test]
    fn bus_retention_is_a_week_by_default_and_zero_keeps_everything() {
        let default = parse(&[]).local_options().expect("ok");
        assert_eq!(default.retention, Some(Duration::from_secs(7 * 24 * 3600)));
        assert_eq!(default.prune_every, Duration::from_secs(3600));
        let day = parse(&["--bus-retention-hours", "24"]).local_options().expect("ok");
        assert_eq!(day.retention, Some(Duration::from_secs(24 * 3600)));
        assert_eq!(
            parse(&["--bus-retention-hours", "0"])
                .local_options()
                .expect("ok")
                .retention,
            None
        );
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (
                vec!["--events-dedupe-ttl-secs", "0"],
                "invalid configuration: --events-dedupe-ttl-secs (EVENTS_DEDUPE_TTL_SECS): must be greater than 0",
            ),
            (
                vec!["--loop-guard-ttl-secs", "0"],
                "invalid configuration: --loop-guard-ttl-secs (LOOP_GUARD_TTL_SECS): must be greater than 0",
            ),
            (
                vec!["--events-handler-timeout-ms", "0"],
                "invalid configuration: --events-handler-timeout-ms (EVENTS_HANDLER_TIMEOUT_MS): must be greater than 0",
            ),
            (
                vec!["--events-forward-url", "not a url"],
                "invalid configuration: --events-forward-url (EVENTS_FORWARD_URL): not an absolute URL",
            ),
            (
                vec!["--events-forward-url", "ftp://x/y"],
                "invalid configuration: --events-forward-url (EVENTS_FORWARD_URL): must be an http:// or https:// URL with a host",
            ),
            (
                vec!["--events-forward-token", "t"],
                "invalid configuration: --events-forward-token (EVENTS_FORWARD_TOKEN): is set but --events-forward-url (EVENTS_FORWARD_URL) is not",
            ),
            (
                vec!["--events-client-id", "c", "--io-events-key-cache-secs", "90000"],
                "invalid configuration: --io-events-key-cache-secs (IO_EVENTS_KEY_CACHE_SECS): must be between 1 and 86400 (Adobe recommends caching keys at most 24 h)",
            ),
            (
                vec![
                    "--events-client-id",
                    "c",
                    "--io-events-key-base-url",
                    "https://static.adobeioevents.com/prod",
                ],
                "invalid configuration: --io-events-key-base-url (IO_EVENTS_KEY_BASE_URL): key base URL 'https://static.adobeioevents.com/prod' must be an absolute https:// (or http://) URL with a host and no path, query or credentials",
            ),
            (
                vec![
                    "--events-local-retry-initial-ms",
                    "5000",
                    "--events-local-retry-max-ms",
                    "100",
                ],
                "invalid configuration: --events-local-retry-max-ms (EVENTS_LOCAL_RETRY_MAX_MS): must be at least --events-local-retry-initial-ms (EVENTS_LOCAL_RETRY_INITIAL_MS)",
            ),
            (
                vec!["--events-consumer-name", " "],
                "invalid configuration: --events-consumer-name (EVENTS_CONSUMER_NAME): must not be empty",
            ),
        ];
        for (args, expected) in cases {
            let err = parse(&args).build(store(), None).expect_err(expected);
            assert_eq!(err.to_string(), expected, "{args:?}");
        }
    }

    #[test]
    fn loop_guard_rules_come_from_a_file() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("rules.json");
        std::fs::write(&path, r#"[{"entity":"group","event_types":["be-observer.customer_group_update"],"identity":["code"],"fields":["code"]}]"#)
            .expect("write");
        let rules = parse(&["--loop-guard-rules", path.to_str().expect("utf8")])
            .loop_guard_rules()
            .expect("rules");
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].entity, "group");
        std::fs::write(&path, r#"[{"entity":"x"}]"#).expect("write");
        let err = parse(&["--loop-guard-rules", path.to_str().expect("utf8")])
            .loop_guard_rules()
            .expect_err("must fail");
        assert_eq!(
            err.to_string(),
            format!(
                "invalid configuration: --loop-guard-rules (LOOP_GUARD_RULES_FILE): {}: missing field `event_types` at line 1 column 15",
                path.display()
            )
        );
        let missing = dir.path().join("nope.json");
        let err = parse(&["--loop-guard-rules", missing.to_str().expect("utf8")])
            .loop_guard_rules()
            .expect_err("must fail");
        assert!(
            err.to_string().starts_with(&format!(
                "invalid configuration: --loop-guard-rules (LOOP_GUARD_RULES_FILE): cannot read {}: ",
                missing.display()
            )),
            "{err}"
        );
        assert_eq!(
            parse(&[]).loop_guard_rules().expect("default"),
            LoopGuardRule::starter_kit()
        );
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_a_startup_error_without_the_password() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let url = format!("redis://user:s3cret@127.0.0.1:{port}");
        let err = match parse(&["--redis-url", &url]).state_store().await {
            Ok(_) => panic!("nothing listens on {port}"),
            Err(e) => e.to_string(),
        };
        assert!(
            err.starts_with(&format!(
                "invalid configuration: --redis-url (REDIS_URL): cannot connect to redis://user:***@127.0.0.1:{port}: "
            )),
            "{err}"
        );
        assert!(err.ends_with("(is redis-server running?)"), "{err}");
        assert!(!err.contains("s3cret"));
    }
}
