//! `event-consumer`: the events consumer on its own (`GET|POST /events` for
//! Adobe I/O Events webhook deliveries, `GET /health`), and
//! `event-consumer dead-letters` to list the local bus's parked events.
//! `--help` lists every setting.

use clap::{Parser, Subcommand};
use commerce_kit_cli::config::{self, ServerArgs};
use commerce_kit_cli::consumer::ConsumerArgs;
use commerce_kit_cli::dead_letters::DeadLettersArgs;
use commerce_kit_cli::ims::ImsArgs;
use commerce_kit_cli::journal::JournalArgs;
use commerce_kit_cli::openapi::{self, Flow};
use commerce_kit_cli::prometheus;
use commerce_kit_core::server;
use commerce_kit_model::catalog::Catalog;

/// mimalloc: glibc malloc took ~16% of this binary's CPU under load, much of it
/// contended arena locks (perf, bench/consumer.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Adobe I/O Events consumer: verifies deliveries, routes each event to its handler, answers the status Adobe retries on.
#[derive(Debug, Parser)]
#[command(name = "event-consumer", version, about, args_conflicts_with_subcommands = true)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    consumer: ConsumerArgs,
    #[command(flatten)]
    journal: JournalArgs,
    #[command(flatten)]
    ims: ImsArgs,
    /// Directory of the local bus that stages the journal's events (with IO_EVENTS_JOURNAL_URL).
    #[arg(long, env = "DATA_DIR", default_value = "./data", value_name = "DIR")]
    data_dir: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List, show, replay or discard the local bus's dead letters: through a running server's
    /// admin API (--url, ADMIN_TOKEN), or on the journal while no server runs.
    DeadLetters(DeadLettersArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Args = config::parse();
    if let Some(Command::DeadLetters(dead_letters)) = &args.command {
        match dead_letters.run().await {
            Ok(outcome) => {
                print!("{}", outcome.report);
                std::process::exit(outcome.status)
            }
            Err(err) => config::exit_config_error(&err),
        }
    }
    let _logs = config::init_logging(args.server.log_format).unwrap_or_else(|e| config::exit_config_error(&e));
    let metrics = prometheus::install().unwrap_or_else(|e| config::exit_config_error(&e));
    let store = args
        .consumer
        .state_store()
        .await
        .unwrap_or_else(|e| config::exit_config_error(&e));
    let journal = args
        .journal
        .build(&args.ims)
        .unwrap_or_else(|e| config::exit_config_error(&e));
    // The journal's events are staged in a local bus and handled by its loop.
    let bus = journal.as_ref().map(|_| {
        commerce_kit_model::bus::LocalBus::open(&args.data_dir).unwrap_or_else(|e| config::exit_startup_error(&e))
    });
    let events = args
        .consumer
        .build(store, bus.clone())
        .unwrap_or_else(|e| config::exit_config_error(&e));
    let local = events.spawn_local();
    let journal = journal.zip(bus.clone()).map(|(journal, bus)| journal.spawn(bus));
    let options = args
        .server
        .serve_options()
        .unwrap_or_else(|e| config::exit_config_error(&e));
    let listener = server::bind(args.server.listen).await?;
    let served = server::serve_with(
        listener,
        server::app(
            events
                .router()
                .merge(config::readiness(bus).router())
                .merge(openapi::router(openapi::document(&[Flow::Events], &Catalog::builtin())))
                .merge(prometheus::router(metrics)),
        ),
        server::shutdown_signal(),
        options,
    )
    .await;
    if let Some(journal) = journal {
        journal.shutdown().await;
    }
    if let Some(local) = local {
        local.shutdown().await;
    }
    served?;
    Ok(())
}
