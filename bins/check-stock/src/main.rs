//! `check-stock`: the check-stock synchronous Commerce webhook on its own
//! (`POST /webhook/check-stock`, `GET /health`). `--help` lists every setting.

use clap::Parser;
use commerce_kit_cli::check_stock::CheckStockArgs;
use commerce_kit_cli::config::{self, ServerArgs};
use commerce_kit_cli::openapi::{self, Flow};
use commerce_kit_cli::prometheus;
use commerce_kit_core::server;
use commerce_kit_model::catalog::Catalog;

/// mimalloc, as `commerce-kit serve`: fewer instructions per request than glibc
/// malloc for hyper's many small allocations (see bench/).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Adobe Commerce check-stock webhook: validates the call, checks stock, answers in Commerce's format.
#[derive(Debug, Parser)]
#[command(name = "check-stock", version, about)]
struct Args {
    #[command(flatten)]
    server: ServerArgs,
    #[command(flatten)]
    check_stock: CheckStockArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Args = config::parse();
    let _logs = config::init_logging(args.server.log_format).unwrap_or_else(|e| config::exit_config_error(&e));
    let metrics = prometheus::install().unwrap_or_else(|e| config::exit_config_error(&e));
    let service = args
        .check_stock
        .build(&args.server)
        .unwrap_or_else(|e| config::exit_config_error(&e));
    service.reload_on_sighup()?;
    let options = args
        .server
        .serve_options()
        .unwrap_or_else(|e| config::exit_config_error(&e));
    let listener = server::bind(args.server.listen).await?;
    let document = openapi::document(&[Flow::CheckStock], &Catalog::builtin());
    let others = config::readiness(None)
        .router()
        .merge(openapi::router(document))
        .merge(prometheus::router(metrics));
    let app = commerce_kit_webhook::direct_app(service, others);
    server::serve_with(listener, app, server::shutdown_signal(), options).await?;
    Ok(())
}
