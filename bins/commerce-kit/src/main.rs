//! `commerce-kit`: every flow on one port (`serve`), plus tooling subcommands.

use clap::{Parser, Subcommand};
use commerce_kit_core::config;

mod serve;

/// Adobe Commerce integration toolkit.
#[derive(Debug, Parser)]
#[command(name = "commerce-kit", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every flow on one port: today POST /webhook/check-stock (and GET /health).
    Serve(Box<serve::ServeArgs>),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli: Cli = config::parse();
    match cli.command {
        Command::Serve(args) => serve::run(*args).await,
    }
}
