//! `commerce-kit serve`: every flow's settings flattened into one command, every
//! flow's router merged, then wrapped once with `server::app`.
//!
//! To add a flow: flatten its `…Args` into [`ServeArgs`], build it in
//! [`routes`], and `.merge()` its router there.

use axum::Router;
use commerce_kit_core::config::{self, ConfigError, ServerArgs};
use commerce_kit_core::server;
use commerce_kit_webhook::cli::CheckStockArgs;

/// Settings of `commerce-kit serve`: the server's, then each flow's.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub check_stock: CheckStockArgs,
}

/// Builds every flow and serves them until SIGINT/SIGTERM.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let _logs = config::init_logging(args.server.log_format).unwrap_or_else(|e| config::exit_config_error(&e));
    let routes = routes(&args).unwrap_or_else(|e| config::exit_config_error(&e));
    let listener = server::bind(args.server.listen).await?;
    server::serve(
        listener,
        server::app(routes),
        server::shutdown_signal(),
        args.server.shutdown_grace(),
    )
    .await?;
    Ok(())
}

/// Every flow's routes, merged.
fn routes(args: &ServeArgs) -> Result<Router, ConfigError> {
    let check_stock = args.check_stock.build(&args.server)?;
    check_stock
        .reload_on_sighup()
        .map_err(|e| ConfigError(format!("cannot listen for SIGHUP (inventory reload): {e}")))?;
    Ok(Router::new().merge(commerce_kit_webhook::router(check_stock)))
}
