//! `commerce-kit`: every flow on one port (`serve`), plus tooling subcommands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use commerce_kit_core::config;
use commerce_kit_events::catalog::CatalogArgs;

mod serve;

/// mimalloc: less CPU per request than glibc malloc for hyper's and serde's
/// many small cross-thread allocations (see bench/).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Adobe Commerce integration toolkit: check-stock webhook, ingestion webhook and events consumer.
#[derive(Debug, Parser)]
#[command(name = "commerce-kit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every flow on one port: POST /webhook/check-stock, POST /ingestion/webhook,
    /// GET|POST /events, GET /health.
    Serve(Box<serve::ServeArgs>),
    /// Print the event catalog the ingestion webhook validates against, in the
    /// starter kit's events.json layout.
    Catalog {
        #[command(flatten)]
        catalog: CatalogArgs,
    },
    /// Print the local bus's dead letters as JSON lines, oldest first (stop
    /// `commerce-kit serve` first: it locks the journal).
    DeadLetters {
        /// Directory of the local bus journal (bus.redb).
        #[arg(long, env = "DATA_DIR", default_value = "./data", value_name = "DIR")]
        data_dir: PathBuf,
        /// Consumer whose dead letters to list.
        #[arg(long, env = "EVENTS_CONSUMER_NAME", default_value = commerce_kit_events::local::DEFAULT_CONSUMER_NAME)]
        consumer: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli: Cli = config::parse();
    match cli.command {
        Command::Serve(args) => serve::run(*args).await,
        Command::Catalog { catalog } => {
            let catalog = catalog
                .load()
                .unwrap_or_else(|e| config::exit_config_error(&config::ConfigError(e.to_string())));
            println!("{}", serde_json::to_string_pretty(&catalog.to_events_json())?);
            Ok(())
        }
        Command::DeadLetters { data_dir, consumer } => {
            let bus = commerce_kit_events::bus::LocalBus::open(&data_dir)?;
            for letter in commerce_kit_events::local::dead_letters_json(&bus, &consumer).await? {
                println!("{letter}");
            }
            Ok(())
        }
    }
}
