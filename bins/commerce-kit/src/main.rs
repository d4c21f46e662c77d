//! `commerce-kit`: every flow on one port (`serve`), plus tooling subcommands.

use clap::{Parser, Subcommand};
use commerce_kit_cli::catalog::CatalogArgs;
use commerce_kit_cli::config;
use commerce_kit_cli::consumer::DeadLettersArgs;

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
    DeadLetters(DeadLettersArgs),
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
        Command::DeadLetters(args) => Ok(args.print().await?),
    }
}
