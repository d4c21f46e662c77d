//! `event-consumer`: the events consumer on its own (`GET|POST /events` for
//! Adobe I/O Events webhook deliveries, `GET /health`), and
//! `event-consumer dead-letters` to list the local bus's parked events.
//! `--help` lists every setting.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use commerce_kit_core::config::{self, ServerArgs};
use commerce_kit_core::server;
use commerce_kit_events::cli::ConsumerArgs;

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
    /// Print the local bus's dead letters as JSON lines, oldest first (the journal is locked
    /// while `commerce-kit serve` runs: stop it first).
    DeadLetters {
        /// Directory of the local bus journal (bus.redb).
        #[arg(long, env = "DATA_DIR", default_value = "./data", value_name = "DIR")]
        data_dir: PathBuf,
        /// Consumer name whose dead letters to list.
        #[arg(long, env = "EVENTS_CONSUMER_NAME", default_value = commerce_kit_events::local::DEFAULT_CONSUMER_NAME)]
        consumer: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Args = config::parse();
    if let Some(Command::DeadLetters { data_dir, consumer }) = &args.command {
        let bus = commerce_kit_events::bus::LocalBus::open(data_dir)?;
        for letter in commerce_kit_events::local::dead_letters_json(&bus, consumer).await? {
            println!("{letter}");
        }
        return Ok(());
    }
    let _logs = config::init_logging(args.server.log_format).unwrap_or_else(|e| config::exit_config_error(&e));
    let store = args
        .consumer
        .state_store()
        .await
        .unwrap_or_else(|e| config::exit_config_error(&e));
    let events = args
        .consumer
        .build(store, None)
        .unwrap_or_else(|e| config::exit_config_error(&e));
    let listener = server::bind(args.server.listen).await?;
    server::serve(
        listener,
        server::app(events.router()),
        server::shutdown_signal(),
        args.server.shutdown_grace(),
    )
    .await?;
    Ok(())
}
