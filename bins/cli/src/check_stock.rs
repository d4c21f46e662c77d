//! Configuration of the check-stock flow: flags with environment variables,
//! validated into a [`CheckStockService`].
//!
//! | flag | env | default |
//! |---|---|---|
//! | `--inventory PATH` | `INVENTORY_FILE` | built-in demo inventory (logged as a warning) |
//! | `--stock-checker-url URL` | `STOCK_CHECKER_URL` | none (use the inventory) |
//! | `--stock-checker-token TOKEN` | `STOCK_CHECKER_TOKEN` | none |
//! | `--stock-checker-connect-timeout-ms MS` | `STOCK_CHECKER_CONNECT_TIMEOUT_MS` | 1000 |
//! | `--stock-checker-request-timeout-ms MS` | `STOCK_CHECKER_REQUEST_TIMEOUT_MS` | 2500 |
//! | `--stock-check-timeout-ms MS` | `STOCK_CHECK_TIMEOUT_MS` | 3000 |
//! | `--commerce-webhook-public-key PEM` | `COMMERCE_WEBHOOK_PUBLIC_KEY` | none (signatures not checked) |
//! | `--commerce-webhook-public-key-file PATH` | `COMMERCE_WEBHOOK_PUBLIC_KEY_FILE` | none |
//!
//! `COMMERCE_WEBHOOKS_PUBLIC_KEY`, the name Adobe's documentation uses, is read
//! as well (flag `--commerce-webhooks-public-key`, hidden from `--help`); setting
//! it beside one of the above is an error rather than a silent choice. Without
//! any key, check-stock accepts unsigned calls and warns about it at startup.
//!
//! `--no-express-scanner` (hidden from `--help`, no environment variable) is
//! for benchmarks: bodies skip the express byte scanner and go straight to the
//! typed fast path ([`CheckStockService::with_express`]); answers are the same.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{ConfigError, ServerArgs, secret_from_value_or_file};
use secrecy::{ExposeSecret, SecretString};

use commerce_kit_webhook::http_checker::ClientTimeouts;
use commerce_kit_webhook::inventory::DEMO_INVENTORY;
use commerce_kit_webhook::{
    CHECK_STOCK_PATH, CheckStockService, CommerceSignatureVerifier, HttpStockChecker, InventoryChecker, StockChecker,
};

/// Settings of the check-stock webhook (`POST /webhook/check-stock`).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Check-stock webhook")]
pub struct CheckStockArgs {
    /// Inventory file: a JSON object mapping SKU to available quantity, e.g. {"24-MB01": 10}.
    /// Re-read on SIGHUP. Without it (and without --stock-checker-url) a small built-in demo
    /// inventory is used.
    #[arg(long = "inventory", env = "INVENTORY_FILE", value_name = "PATH")]
    pub inventory: Option<PathBuf>,

    /// Back-office URL to POST each stock check to (instead of an inventory file); it answers
    /// {"success": true|false, "message": "…"}.
    #[arg(long, env = "STOCK_CHECKER_URL", value_name = "URL")]
    pub stock_checker_url: Option<String>,

    /// Bearer token sent to the back office.
    #[arg(long, env = "STOCK_CHECKER_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub stock_checker_token: Option<SecretString>,

    /// Back office: TCP/TLS connect timeout.
    #[arg(
        long,
        env = "STOCK_CHECKER_CONNECT_TIMEOUT_MS",
        default_value_t = 1000,
        value_name = "MS"
    )]
    pub stock_checker_connect_timeout_ms: u64,

    /// Back office: whole-request timeout.
    #[arg(
        long,
        env = "STOCK_CHECKER_REQUEST_TIMEOUT_MS",
        default_value_t = 2500,
        value_name = "MS"
    )]
    pub stock_checker_request_timeout_ms: u64,

    /// Deadline of a stock check; past it Commerce gets an exception op (keep it under the
    /// hook's timeout in Commerce, 5000 ms in the starter kit).
    #[arg(long, env = "STOCK_CHECK_TIMEOUT_MS", default_value_t = 3000, value_name = "MS")]
    pub stock_check_timeout_ms: u64,

    /// Commerce's webhook public key (PEM, from Admin > Stores > Configuration > Adobe Services >
    /// Webhooks). When set, calls without a valid x-adobe-commerce-webhook-signature get 401.
    #[arg(
        long,
        env = "COMMERCE_WEBHOOK_PUBLIC_KEY",
        hide_env_values = true,
        value_name = "PEM"
    )]
    pub commerce_webhook_public_key: Option<SecretString>,

    /// File holding Commerce's webhook public key (PEM); alternative to --commerce-webhook-public-key.
    #[arg(long, env = "COMMERCE_WEBHOOK_PUBLIC_KEY_FILE", value_name = "PATH")]
    pub commerce_webhook_public_key_file: Option<PathBuf>,

    /// The same key under the name Adobe's documentation gives it
    /// (`COMMERCE_WEBHOOKS_PUBLIC_KEY`), so a configuration written from it is
    /// not silently ignored.
    #[arg(
        long,
        env = "COMMERCE_WEBHOOKS_PUBLIC_KEY",
        hide = true,
        hide_env_values = true,
        value_name = "PEM"
    )]
    pub commerce_webhooks_public_key: Option<SecretString>,

    /// Benchmarks only: validate check-stock bodies without the express byte scanner (the typed
    /// fast path and the precise path still run; answers are the same, only the speed differs).
    #[arg(long, hide = true)]
    pub no_express_scanner: bool,
}

const KEY: (&str, &str) = ("--commerce-webhook-public-key", "COMMERCE_WEBHOOK_PUBLIC_KEY");
const KEY_FILE: (&str, &str) = ("--commerce-webhook-public-key-file", "COMMERCE_WEBHOOK_PUBLIC_KEY_FILE");
const ADOBE_KEY: (&str, &str) = ("--commerce-webhooks-public-key", "COMMERCE_WEBHOOKS_PUBLIC_KEY");

/// `--flag (ENV)`, the way configuration errors name a setting.
fn named((flag, env): (&str, &str)) -> String {
    format!("{flag} ({env})")
}

fn positive_ms(value: u64, flag: &str, env: &str) -> Result<Duration, ConfigError> {
    if value == 0 {
        Err(ConfigError::setting(flag, env, "must be greater than 0"))
    } else {
        Ok(Duration::from_millis(value))
    }
}

impl CheckStockArgs {
    /// Validates the settings and builds the service (body limit from `server`).
    /// Logs which checker is used; warns when it is the built-in demo inventory.
    pub fn build(&self, server: &ServerArgs) -> Result<CheckStockService, ConfigError> {
        let deadline = positive_ms(
            self.stock_check_timeout_ms,
            "--stock-check-timeout-ms",
            "STOCK_CHECK_TIMEOUT_MS",
        )?;
        let checker = self.checker()?;
        let mut service = CheckStockService::new(checker)
            .with_deadline(deadline)
            .with_body_limit(server.body_limit)
            .with_express(!self.no_express_scanner);
        if let Some(verifier) = self.verifier()? {
            service = service.with_signature_verifier(verifier);
        }
        let signed = service.signature_verification();
        if !signed {
            tracing::warn!(
                "check-stock signatures are NOT verified: anyone who can reach POST {} can ask for stock checks \
                 (set COMMERCE_WEBHOOK_PUBLIC_KEY or COMMERCE_WEBHOOK_PUBLIC_KEY_FILE to Commerce's webhook public key)",
                CHECK_STOCK_PATH
            );
        }
        if !service.express() {
            tracing::warn!(
                "check-stock validates bodies without the express scanner (--no-express-scanner, for benchmarks)"
            );
        }
        tracing::info!(
            checker = service.checker().name(),
            deadline_ms = self.stock_check_timeout_ms,
            signature_verification = signed,
            "check-stock ready on POST {}",
            CHECK_STOCK_PATH
        );
        Ok(service)
    }

    fn checker(&self) -> Result<Arc<dyn StockChecker>, ConfigError> {
        match (&self.inventory, &self.stock_checker_url) {
            (Some(_), Some(_)) => Err(ConfigError(
                "set either --inventory (INVENTORY_FILE) or --stock-checker-url (STOCK_CHECKER_URL), not both".into(),
            )),
            (_, None) if self.stock_checker_token.is_some() => Err(ConfigError::setting(
                "--stock-checker-token",
                "STOCK_CHECKER_TOKEN",
                "is set but --stock-checker-url (STOCK_CHECKER_URL) is not",
            )),
            (None, Some(url)) => {
                let timeouts = ClientTimeouts {
                    connect: positive_ms(
                        self.stock_checker_connect_timeout_ms,
                        "--stock-checker-connect-timeout-ms",
                        "STOCK_CHECKER_CONNECT_TIMEOUT_MS",
                    )?,
                    request: positive_ms(
                        self.stock_checker_request_timeout_ms,
                        "--stock-checker-request-timeout-ms",
                        "STOCK_CHECKER_REQUEST_TIMEOUT_MS",
                    )?,
                };
                let checker = HttpStockChecker::new(url, self.stock_checker_token.clone(), timeouts)
                    .map_err(|e| ConfigError::setting("--stock-checker-url", "STOCK_CHECKER_URL", e))?;
                tracing::info!("stock checks go to the back office at {}", checker.shown_url());
                Ok(Arc::new(checker))
            }
            (Some(path), None) => {
                let checker = InventoryChecker::from_file(path)
                    .map_err(|e| ConfigError::setting("--inventory", "INVENTORY_FILE", e))?;
                tracing::info!(
                    "inventory loaded from {}: {} SKUs (send SIGHUP to reload)",
                    path.display(),
                    checker.snapshot().len()
                );
                Ok(Arc::new(checker))
            }
            (None, None) => {
                tracing::warn!(
                    "no inventory configured (--inventory / INVENTORY_FILE, or --stock-checker-url / \
                     STOCK_CHECKER_URL): using the built-in demo inventory {DEMO_INVENTORY}; not for production"
                );
                Ok(Arc::new(InventoryChecker::demo()))
            }
        }
    }

    fn verifier(&self) -> Result<Option<CommerceSignatureVerifier>, ConfigError> {
        // Adobe's spelling stands in for ours; beside any of ours it is a conflict.
        let (value, value_name) = match (&self.commerce_webhook_public_key, &self.commerce_webhooks_public_key) {
            (Some(_), Some(_)) => {
                return Err(ConfigError(format!(
                    "set either {} or {}, not both",
                    named(KEY),
                    named(ADOBE_KEY)
                )));
            }
            (None, Some(adobe)) => (Some(adobe), ADOBE_KEY),
            (ours, None) => (ours.as_ref(), KEY),
        };
        let pem = secret_from_value_or_file(
            value,
            self.commerce_webhook_public_key_file.as_deref(),
            (&named(value_name), &named(KEY_FILE)),
        )?;
        let Some(pem) = pem else {
            return Ok(None);
        };
        let (flag, env) = if value.is_some() { value_name } else { KEY_FILE };
        CommerceSignatureVerifier::from_pem(pem.expose_secret())
            .map(Some)
            .map_err(|e| ConfigError::setting(flag, env, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        check_stock: CheckStockArgs,
    }

    fn service(args: &[&str]) -> CheckStockService {
        let cli = Cli::try_parse_from(std::iter::once("check-stock").chain(args.iter().copied())).expect("valid flags");
        cli.check_stock.build(&cli.server).expect("service")
    }

    #[test]
    fn the_express_scanner_is_on_unless_turned_off_for_a_benchmark() {
        assert!(service(&[]).express());
        assert!(!service(&["--no-express-scanner"]).express());
    }
}
