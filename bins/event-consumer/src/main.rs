//! `event-consumer`: the events consumer on its own (`GET|POST /events` for
//! Adobe I/O Events webhook deliveries, `GET /health`), and
//! `event-consumer dead-letters` to list the local bus's parked events.
//! `--help` lists every setting.

use clap::{Parser, Subcommand};
use commerce_kit_cli::config::{self, ServerArgs};
use commerce_kit_cli::consumer::ConsumerArgs;
use commerce_kit_cli::dead_letters::DeadLettersArgs;
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
    let events = args
        .consumer
        .build(store, None)
        .unwrap_or_else(|e| config::exit_config_error(&e));
    let options = args
        .server
        .serve_options()
        .unwrap_or_else(|e| config::exit_config_error(&e));
    let listener = server::bind(args.server.listen).await?;
    server::serve_with(
        listener,
        server::app(
            events
                .router()
                .merge(config::readiness(None).router())
                .merge(openapi::router(openapi::document(&[Flow::Events], &Catalog::builtin())))
                .merge(prometheus::router(metrics)),
        ),
        server::shutdown_signal(),
        options,
    )
    .await?;
    Ok(())
}
