//! `commerce-kit`: every flow on one port (`serve`), plus tooling subcommands.

use clap::{Parser, Subcommand};
use commerce_kit_cli::catalog::CatalogArgs;
use commerce_kit_cli::config;
use commerce_kit_cli::dead_letters::DeadLettersArgs;
use commerce_kit_cli::onboard::OnboardArgs;
use commerce_kit_cli::openapi::{self, Flow};
use commerce_kit_cli::tooling::{Outcome, SchemasArgs, SendArgs, SimulateCheckStockArgs};
use commerce_kit_cli::webhooks::WebhooksArgs;

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
    /// List, show, replay or discard the local bus's dead letters: through a
    /// running server's admin API (--url, ADMIN_TOKEN), or on the journal
    /// while no server runs.
    DeadLetters(DeadLettersArgs),
    /// Print the Commerce registration of the check-stock hook: the
    /// webhooks.xml snippet (PaaS) and the POST /V1/webhooks/subscribe body.
    Webhooks(WebhooksArgs),
    /// Converge Adobe I/O Events (providers, event metadata, registrations) and
    /// Commerce (eventing, subscriptions, the check-stock hook) to an onboarding
    /// file; --dry-run prints the plan. Exit 0 done, 1 a call failed, 2 usage.
    Onboard(Box<OnboardArgs>),
    /// Call an endpoint as Commerce would, and say what Commerce would do with the answer.
    #[command(subcommand)]
    Simulate(Simulate),
    /// Post a back-office event to the ingestion webhook (the catalog's sample
    /// by default), authenticated as INGESTION_AUTH says. Exit 0 accepted, 1 refused, 2 usage.
    Send(Box<SendArgs>),
    /// Print (or write with --out) the JSON Schema of every payload the kit accepts.
    Schemas(SchemasArgs),
    /// Print the OpenAPI 3.1 document of `serve`'s routes (what it serves at GET /openapi.json).
    Openapi {
        #[command(flatten)]
        catalog: CatalogArgs,
    },
}

#[derive(Debug, Subcommand)]
enum Simulate {
    /// Send Commerce's add-to-cart call (signed like Commerce's Admin key pair
    /// signs it) to check-stock. Exit 0 the product would be added, 1 refused
    /// or the hook failed, 2 usage.
    CheckStock(SimulateCheckStockArgs),
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
        Command::DeadLetters(args) => finish(args.run().await),
        Command::Webhooks(args) => {
            let text = args.render().unwrap_or_else(|e| config::exit_config_error(&e));
            print!("{text}");
            Ok(())
        }
        Command::Onboard(args) => finish(args.run().await),
        Command::Simulate(Simulate::CheckStock(args)) => finish(args.run().await),
        Command::Send(args) => finish(args.run().await),
        Command::Openapi { catalog } => {
            let catalog = catalog
                .load()
                .unwrap_or_else(|e| config::exit_config_error(&config::ConfigError(e.to_string())));
            let document = openapi::document(&[Flow::CheckStock, Flow::Ingestion, Flow::Events], &catalog);
            println!("{}", serde_json::to_string_pretty(&document)?);
            Ok(())
        }
        Command::Schemas(args) => {
            let text = args.run().unwrap_or_else(|e| config::exit_config_error(&e));
            print!("{text}");
            Ok(())
        }
    }
}

/// Prints a tool's report and exits with its status (2 for a usage error).
fn finish(outcome: Result<Outcome, config::ConfigError>) -> anyhow::Result<()> {
    match outcome {
        Ok(outcome) => {
            print!("{}", outcome.report);
            std::process::exit(outcome.status)
        }
        Err(err) => config::exit_config_error(&err),
    }
}
