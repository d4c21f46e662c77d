//! `commerce-kit serve`: every flow's settings flattened into one command, every
//! flow's router merged, then wrapped once with `server::app`.
//!
//! On the embedded default (no I/O Events credentials) ingestion publishes to
//! the local durable bus in `DATA_DIR` and the consumer reads it in-process;
//! with credentials, ingestion publishes to Adobe I/O Events and the consumer
//! receives Adobe's deliveries on `POST /events`.

use commerce_kit_cli::check_stock::CheckStockArgs;
use commerce_kit_cli::config::{self, ConfigError, ServerArgs};
use commerce_kit_cli::consumer::ConsumerArgs;
use commerce_kit_cli::ingestion::IngestionArgs;
use commerce_kit_cli::journal::JournalArgs;
use commerce_kit_cli::openapi::{self, Flow};
use commerce_kit_cli::prometheus;
use commerce_kit_core::server;
use commerce_kit_events::bus::LocalBus;
use commerce_kit_events::journal::JournalHandle;
use commerce_kit_events::local::LocalConsumerHandle;

/// Settings of `commerce-kit serve`: the server's, then each flow's.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub check_stock: CheckStockArgs,
    #[command(flatten)]
    pub ingestion: IngestionArgs,
    #[command(flatten)]
    pub consumer: ConsumerArgs,
    #[command(flatten)]
    pub journal: JournalArgs,
}

/// What runs beside the HTTP server and stops after it.
struct Background {
    /// The I/O Events journal puller (stopped first: nothing more comes in).
    journal: Option<JournalHandle>,
    /// The local-bus loop.
    local: Option<LocalConsumerHandle>,
}

/// Builds every flow and serves them until SIGINT/SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let _logs = config::init_logging(args.server.log_format).unwrap_or_else(|e| config::exit_config_error(&e));
    let metrics = prometheus::install().unwrap_or_else(|e| config::exit_config_error(&e));
    let options = args
        .server
        .serve_options()
        .unwrap_or_else(|e| config::exit_config_error(&e));
    let (routes, background) = flows(&args, metrics)
        .await
        .unwrap_or_else(|e| config::exit_config_error(&e));
    let listener = server::bind(args.server.listen).await?;
    let served = server::serve_with(listener, routes, server::shutdown_signal(), options).await;
    if let Some(journal) = background.journal {
        journal.shutdown().await;
    }
    if let Some(local) = background.local {
        local.shutdown().await;
    }
    served?;
    Ok(())
}

/// Every flow's routes in one app (check-stock served directly, the others
/// through the router), and the local-bus consumer when the bus is used (the
/// embedded default, or the I/O Events journal pulled into it).
async fn flows(
    args: &ServeArgs,
    metrics: metrics_exporter_prometheus::PrometheusHandle,
) -> Result<(impl server::HttpApp, Background), ConfigError> {
    let check_stock = args.check_stock.build(&args.server)?;
    check_stock
        .reload_on_sighup()
        .map_err(|e| ConfigError(format!("cannot listen for SIGHUP (inventory reload): {e}")))?;

    let journal = args.journal.build(&args.ingestion.io_events.ims)?;
    let mut bus = args.ingestion.open_bus().unwrap_or_else(|e| e.exit());
    if journal.is_some() && bus.is_none() {
        // ingestion publishes to Adobe; the journal's events are staged in the local bus
        bus = Some(LocalBus::open(&args.ingestion.data_dir).unwrap_or_else(|e| config::exit_startup_error(&e)));
    }
    let readiness = config::readiness(bus.clone());
    // With REDIS_URL, ingestion's uid idempotency shares the consumer's Redis
    // store so replicas recognise each other's uids; without it each keeps its
    // own bounded in-memory store (the local bus itself refuses repeated uids).
    let store = args.consumer.state_store().await?;
    let shared = args.consumer.redis_url.is_some().then(|| store.clone());
    let ingestion = args
        .ingestion
        .build_with(args.server.body_limit, bus.as_ref(), shared)?;
    let events = args.consumer.build(store, bus.clone())?;
    let local = events.spawn_local();
    let journal = match (journal, bus) {
        (Some(journal), Some(bus)) => Some(journal.spawn(bus)),
        _ => None,
    };

    let catalog = args.ingestion.catalog.load().map_err(|e| ConfigError(e.to_string()))?;
    let document = openapi::document(&[Flow::CheckStock, Flow::Ingestion, Flow::Events], &catalog);
    let others = commerce_kit_ingestion::router(ingestion)
        .merge(events.router())
        .merge(readiness.router())
        .merge(openapi::router(document))
        .merge(prometheus::router(metrics));
    Ok((
        commerce_kit_webhook::direct_app(check_stock, others),
        Background { journal, local },
    ))
}
