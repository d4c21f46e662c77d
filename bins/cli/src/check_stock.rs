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
//! | `--commerce-webhook-ims-client-id ID` | `COMMERCE_WEBHOOK_IMS_CLIENT_ID` | none (IMS tokens not accepted) |
//! | `--commerce-webhook-ims-org-id ORG` | `COMMERCE_WEBHOOK_IMS_ORG_ID` | none |
//! | `--commerce-webhook-ims-base-url URL` | `IMS_BASE_URL` | `https://ims-na1.adobelogin.com` |
//! | `--commerce-webhook-ims-keys-timeout-ms MS` | `COMMERCE_WEBHOOK_IMS_KEYS_TIMEOUT_MS` | 1000 |
//! | `--commerce-webhook-ims-keys-cache-secs SECS` | `COMMERCE_WEBHOOK_IMS_KEYS_CACHE_SECS` | 3600 |
//!
//! `COMMERCE_WEBHOOKS_PUBLIC_KEY`, the name Adobe's documentation uses, is read
//! as well (flag `--commerce-webhooks-public-key`, hidden from `--help`); setting
//! it beside one of the above is an error rather than a silent choice.
//!
//! The IMS client and org ids (set both or neither) are those of the Developer
//! Console credential in the hooks' `developerConsoleOauth`: with them, calls
//! carrying that credential's IMS access token are accepted (see
//! [`commerce_kit_webhook::ims_auth`]). `IMS_BASE_URL` is the variable the
//! ingestion's IMS client reads too; the key set is `<url>/ims/keys`. The key
//! fetch timeout must stay under `--stock-check-timeout-ms`, and the key cache
//! is 1 to 86400 s. With a public key and IMS ids both set, either credential
//! is accepted. With neither, check-stock accepts unauthenticated calls and
//! warns about it at startup.
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
use commerce_kit_webhook::ims_auth::{DEFAULT_IMS_BASE_URL, ImsConfigError, MAX_KEY_TTL};
use commerce_kit_webhook::inventory::DEMO_INVENTORY;
use commerce_kit_webhook::service::Authentication;
use commerce_kit_webhook::{
    CHECK_STOCK_PATH, CheckStockService, CommerceSignatureVerifier, HttpStockChecker, ImsTokenVerifier,
    InventoryChecker, StockChecker,
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

    /// Client id of the Developer Console OAuth server-to-server credential in the hooks'
    /// developerConsoleOauth. With --commerce-webhook-ims-org-id, calls carrying an IMS access
    /// token issued to it (Authorization: Bearer) are accepted.
    #[arg(long, env = "COMMERCE_WEBHOOK_IMS_CLIENT_ID", value_name = "ID")]
    pub commerce_webhook_ims_client_id: Option<String>,

    /// Organization id of that credential (e.g. 12345@AdobeOrg); calls must send it in
    /// x-gw-ims-org-id.
    #[arg(long, env = "COMMERCE_WEBHOOK_IMS_ORG_ID", value_name = "ORG")]
    pub commerce_webhook_ims_org_id: Option<String>,

    /// Adobe IMS base URL; IMS's public keys are read from <url>/ims/keys (the same variable as
    /// the ingestion's IMS client).
    #[arg(
        long,
        env = "IMS_BASE_URL",
        default_value = DEFAULT_IMS_BASE_URL,
        value_name = "URL"
    )]
    pub commerce_webhook_ims_base_url: String,

    /// Time one fetch of IMS's public keys may take; keep it under --stock-check-timeout-ms.
    #[arg(
        long,
        env = "COMMERCE_WEBHOOK_IMS_KEYS_TIMEOUT_MS",
        default_value_t = 1000,
        value_name = "MS"
    )]
    pub commerce_webhook_ims_keys_timeout_ms: u64,

    /// How long IMS's public keys are kept before they are fetched again (1 to 86400).
    #[arg(
        long,
        env = "COMMERCE_WEBHOOK_IMS_KEYS_CACHE_SECS",
        default_value_t = 3600,
        value_name = "SECS"
    )]
    pub commerce_webhook_ims_keys_cache_secs: u64,

    /// Benchmarks only: validate check-stock bodies without the express byte scanner (the typed
    /// fast path and the precise path still run; answers are the same, only the speed differs).
    #[arg(long, hide = true)]
    pub no_express_scanner: bool,
}

const KEY: (&str, &str) = ("--commerce-webhook-public-key", "COMMERCE_WEBHOOK_PUBLIC_KEY");
const KEY_FILE: (&str, &str) = ("--commerce-webhook-public-key-file", "COMMERCE_WEBHOOK_PUBLIC_KEY_FILE");
const ADOBE_KEY: (&str, &str) = ("--commerce-webhooks-public-key", "COMMERCE_WEBHOOKS_PUBLIC_KEY");
const IMS_CLIENT_ID: (&str, &str) = ("--commerce-webhook-ims-client-id", "COMMERCE_WEBHOOK_IMS_CLIENT_ID");
const IMS_ORG_ID: (&str, &str) = ("--commerce-webhook-ims-org-id", "COMMERCE_WEBHOOK_IMS_ORG_ID");
const IMS_BASE_URL: (&str, &str) = ("--commerce-webhook-ims-base-url", "IMS_BASE_URL");
const IMS_KEYS_TIMEOUT: (&str, &str) = (
    "--commerce-webhook-ims-keys-timeout-ms",
    "COMMERCE_WEBHOOK_IMS_KEYS_TIMEOUT_MS",
);
const IMS_KEYS_CACHE: (&str, &str) = (
    "--commerce-webhook-ims-keys-cache-secs",
    "COMMERCE_WEBHOOK_IMS_KEYS_CACHE_SECS",
);

/// `--flag (ENV)`, the way configuration errors name a setting.
fn named((flag, env): (&str, &str)) -> String {
    format!("{flag} ({env})")
}

/// The setting `(flag, env)` with what is wrong with it.
fn invalid((flag, env): (&str, &str), problem: impl std::fmt::Display) -> ConfigError {
    ConfigError::setting(flag, env, problem)
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
        if let Some(verifier) = self.ims_verifier(deadline)? {
            service = service.with_ims_verifier(verifier);
        }
        let signed = service.signature_verification();
        let ims = service.ims_authentication();
        match service.authentication() {
            Authentication::Open => tracing::warn!(
                "check-stock signatures are NOT verified and no IMS token is required: anyone who can reach POST {} \
                 can ask for stock checks (set COMMERCE_WEBHOOK_PUBLIC_KEY or COMMERCE_WEBHOOK_PUBLIC_KEY_FILE to \
                 Commerce's webhook public key, or COMMERCE_WEBHOOK_IMS_CLIENT_ID and COMMERCE_WEBHOOK_IMS_ORG_ID for \
                 hooks with developerConsoleOauth)",
                CHECK_STOCK_PATH
            ),
            Authentication::SignatureOrImsToken => tracing::info!(
                "check-stock accepts a call with either a valid Commerce signature or a valid IMS access token"
            ),
            Authentication::Signature | Authentication::ImsToken => {}
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
            ims_authentication = ims,
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

    /// The IMS verifier when the client and org ids are set (both or neither);
    /// its key fetch must fit in the check-stock `deadline`.
    fn ims_verifier(&self, deadline: Duration) -> Result<Option<ImsTokenVerifier>, ConfigError> {
        let (client_id, org_id) = match (
            self.commerce_webhook_ims_client_id.as_deref().map(str::trim),
            self.commerce_webhook_ims_org_id.as_deref().map(str::trim),
        ) {
            (None, None) => return Ok(None),
            (Some(client_id), Some(org_id)) => (client_id, org_id),
            (Some(_), None) | (None, Some(_)) => {
                return Err(ConfigError(format!(
                    "set both {} and {} (the hooks' developerConsoleOauth credential), or neither",
                    named(IMS_CLIENT_ID),
                    named(IMS_ORG_ID)
                )));
            }
        };
        let timeout = positive_ms(
            self.commerce_webhook_ims_keys_timeout_ms,
            IMS_KEYS_TIMEOUT.0,
            IMS_KEYS_TIMEOUT.1,
        )?;
        if timeout >= deadline {
            return Err(invalid(
                IMS_KEYS_TIMEOUT,
                format!(
                    "must be less than --stock-check-timeout-ms (STOCK_CHECK_TIMEOUT_MS), {} ms",
                    deadline.as_millis()
                ),
            ));
        }
        let ttl = Duration::from_secs(self.commerce_webhook_ims_keys_cache_secs);
        if ttl.is_zero() || ttl > MAX_KEY_TTL {
            return Err(invalid(IMS_KEYS_CACHE, "must be between 1 and 86400"));
        }
        let verifier = ImsTokenVerifier::builder(client_id, org_id)
            .base_url(self.commerce_webhook_ims_base_url.as_str())
            .fetch_timeout(timeout)
            .key_ttl(ttl)
            .build()
            .map_err(|e| match e {
                ImsConfigError::EmptyClientId => invalid(IMS_CLIENT_ID, "must not be empty"),
                ImsConfigError::EmptyOrgId => invalid(IMS_ORG_ID, "must not be empty"),
                ImsConfigError::BadBaseUrl(_) => invalid(IMS_BASE_URL, e),
                other => ConfigError(format!("IMS authentication: {other}")),
            })?;
        tracing::info!(
            keys_url = verifier.keys_url(),
            "check-stock accepts IMS access tokens issued to COMMERCE_WEBHOOK_IMS_CLIENT_ID, sent with \
             x-gw-ims-org-id equal to COMMERCE_WEBHOOK_IMS_ORG_ID"
        );
        Ok(Some(verifier))
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

    fn refused(args: &[&str]) -> String {
        let cli = Cli::try_parse_from(std::iter::once("check-stock").chain(args.iter().copied())).expect("valid flags");
        cli.check_stock.build(&cli.server).expect_err("refused").to_string()
    }

    /// `--commerce-webhook-public-key=` a public key (test material only).
    const PUBLIC_KEY: &str = "--commerce-webhook-public-key=-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqDzqZFRn9QFitNhrqN15
IquGCZBjUzydvS5qMt2wYgYb4Uwrq0Tvn//ucERRXuOvkTmbxnDtoKC+5GiPWNi5
ivMJBHZujfFVaPRZWMsS39/IUZPz9Jv7LJ2fwCZGhJHvHSFjL9MVBX1QGDzvSd9/
V8nDPFUfZILZz/BsCF61j7/2LQC452lrjhiwclxbWSDmLN0Xrq2XDckiGI9IdZUb
3OaELTRGrwi9MPjdZLJ7ukjfpHpUhF/avtTFhxkh1Pj21G9T2jjk1eb7Ke/1EEB3
rNPomskReFFGi9ZQuR2Tnl0S2u1qsnFg9pwkHELheTbeJ5cAR2QkAxukaQWXboXP
LwIDAQAB
-----END PUBLIC KEY-----";

    const IMS: [&str; 4] = [
        "--commerce-webhook-ims-client-id",
        "client-1",
        "--commerce-webhook-ims-org-id",
        "12345@AdobeOrg",
    ];

    #[test]
    fn the_express_scanner_is_on_unless_turned_off_for_a_benchmark() {
        assert!(service(&[]).express());
        assert!(!service(&["--no-express-scanner"]).express());
    }

    #[test]
    fn the_configured_credentials_decide_what_a_call_must_carry() {
        assert_eq!(service(&[]).authentication(), Authentication::Open);
        assert_eq!(service(&[PUBLIC_KEY]).authentication(), Authentication::Signature);
        assert_eq!(service(&IMS).authentication(), Authentication::ImsToken);
        let both: Vec<&str> = IMS.iter().copied().chain([PUBLIC_KEY]).collect();
        assert_eq!(service(&both).authentication(), Authentication::SignatureOrImsToken);
    }

    #[test]
    fn ims_settings_are_checked_with_one_line_errors() {
        assert_eq!(
            refused(&["--commerce-webhook-ims-client-id", "client-1"]),
            "invalid configuration: set both --commerce-webhook-ims-client-id (COMMERCE_WEBHOOK_IMS_CLIENT_ID) and \
             --commerce-webhook-ims-org-id (COMMERCE_WEBHOOK_IMS_ORG_ID) (the hooks' developerConsoleOauth \
             credential), or neither"
        );
        assert_eq!(
            refused(&["--commerce-webhook-ims-org-id", "12345@AdobeOrg"]),
            "invalid configuration: set both --commerce-webhook-ims-client-id (COMMERCE_WEBHOOK_IMS_CLIENT_ID) and \
             --commerce-webhook-ims-org-id (COMMERCE_WEBHOOK_IMS_ORG_ID) (the hooks' developerConsoleOauth \
             credential), or neither"
        );
        let with = |extra: &[&'static str]| -> Vec<&'static str> {
            IMS.iter().copied().chain(extra.iter().copied()).collect()
        };
        assert_eq!(
            refused(&[
                "--commerce-webhook-ims-client-id",
                " ",
                "--commerce-webhook-ims-org-id",
                "o"
            ]),
            "invalid configuration: --commerce-webhook-ims-client-id (COMMERCE_WEBHOOK_IMS_CLIENT_ID): must not be empty"
        );
        assert_eq!(
            refused(&with(&["--commerce-webhook-ims-keys-timeout-ms", "3000"])),
            "invalid configuration: --commerce-webhook-ims-keys-timeout-ms (COMMERCE_WEBHOOK_IMS_KEYS_TIMEOUT_MS): \
             must be less than --stock-check-timeout-ms (STOCK_CHECK_TIMEOUT_MS), 3000 ms"
        );
        assert_eq!(
            refused(&with(&["--commerce-webhook-ims-keys-timeout-ms", "0"])),
            "invalid configuration: --commerce-webhook-ims-keys-timeout-ms (COMMERCE_WEBHOOK_IMS_KEYS_TIMEOUT_MS): \
             must be greater than 0"
        );
        assert_eq!(
            refused(&with(&["--commerce-webhook-ims-keys-cache-secs", "86401"])),
            "invalid configuration: --commerce-webhook-ims-keys-cache-secs (COMMERCE_WEBHOOK_IMS_KEYS_CACHE_SECS): \
             must be between 1 and 86400"
        );
        assert_eq!(
            refused(&with(&["--commerce-webhook-ims-base-url", "ims-na1.adobelogin.com"])),
            "invalid configuration: --commerce-webhook-ims-base-url (IMS_BASE_URL): IMS base URL \
             \"ims-na1.adobelogin.com\" must be an absolute http(s) URL with a host and no query, fragment or \
             credentials"
        );
        // Without IMS ids, IMS_BASE_URL (also the ingestion's) is not this flow's concern.
        assert_eq!(
            service(&["--commerce-webhook-ims-base-url", "not a url"]).authentication(),
            Authentication::Open
        );
        // A shorter stock-check deadline tightens the key fetch bound with it.
        assert_eq!(
            refused(&with(&["--stock-check-timeout-ms", "800"])),
            "invalid configuration: --commerce-webhook-ims-keys-timeout-ms (COMMERCE_WEBHOOK_IMS_KEYS_TIMEOUT_MS): \
             must be less than --stock-check-timeout-ms (STOCK_CHECK_TIMEOUT_MS), 800 ms"
        );
    }
}
