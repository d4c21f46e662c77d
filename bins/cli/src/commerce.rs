//! Configuration of the reference sync handlers (`commerce-kit-sync`): the
//! Commerce connection that back-office events are written through, and the
//! back office that Commerce events are POSTed to.
//!
//! | flag | env | default |
//! |---|---|---|
//! | `--commerce-base-url URL` | `COMMERCE_BASE_URL` | none: back-office events go to the fallback handler |
//! | `--commerce-store-code CODE` | `COMMERCE_STORE_CODE` | `all` (or the code in `COMMERCE_BASE_URL`'s `/rest/<code>`) |
//! | `--commerce-consumer-key KEY` | `COMMERCE_CONSUMER_KEY` | none (OAuth 1.0a integration) |
//! | `--commerce-consumer-secret SECRET` | `COMMERCE_CONSUMER_SECRET` | none |
//! | `--commerce-access-token TOKEN` | `COMMERCE_ACCESS_TOKEN` | none |
//! | `--commerce-access-token-secret SECRET` | `COMMERCE_ACCESS_TOKEN_SECRET` | none |
//! | `--commerce-ims-client-id ID` | `COMMERCE_IMS_CLIENT_ID` | `OAUTH_CLIENT_ID` |
//! | `--commerce-ims-client-secret SECRET` | `COMMERCE_IMS_CLIENT_SECRET` | `OAUTH_CLIENT_SECRET` |
//! | `--commerce-ims-scopes LIST` | `COMMERCE_IMS_SCOPES` | `openid,additional_info.projectedProductContext` (+ `commerce.accs` on SaaS) |
//! | `--commerce-ims-base-url URL` | `IMS_BASE_URL` | `https://ims-na1.adobelogin.com` |
//! | `--commerce-connect-timeout-ms MS` | `COMMERCE_CONNECT_TIMEOUT_MS` | 2000 |
//! | `--commerce-timeout-ms MS` | `COMMERCE_TIMEOUT_MS` | 5000 (under `EVENTS_HANDLER_TIMEOUT_MS`) |
//! | `--backoffice-base-url URL` | `BACKOFFICE_BASE_URL` | none: Commerce events go to the fallback handler |
//! | `--backoffice-token TOKEN` | `BACKOFFICE_TOKEN` | none (no `Authorization` header) |
//! | `--backoffice-connect-timeout-ms MS` | `BACKOFFICE_CONNECT_TIMEOUT_MS` | 2000 |
//! | `--backoffice-timeout-ms MS` | `BACKOFFICE_TIMEOUT_MS` | 5000 (under `EVENTS_HANDLER_TIMEOUT_MS`) |
//!
//! **Commerce.** Unset `COMMERCE_BASE_URL` leaves the 13 back-office routes to
//! the fallback handler (and any other `COMMERCE_*` connection setting is then
//! an error naming `COMMERCE_BASE_URL`). With it, the credentials decide the
//! auth:
//! - any of the four integration settings (`COMMERCE_CONSUMER_KEY`, …) →
//!   OAuth 1.0a, and all four are required (PaaS only);
//! - otherwise IMS: `COMMERCE_IMS_CLIENT_ID` / `COMMERCE_IMS_CLIENT_SECRET`,
//!   which default to the Adobe project's `OAUTH_CLIENT_ID` /
//!   `OAUTH_CLIENT_SECRET` (the starter kit uses one credential for I/O Events
//!   and Commerce). The Commerce-specific names exist for a Commerce credential
//!   of its own, and for IMS while ingestion stays on the local bus
//!   (`OAUTH_CLIENT_SECRET` without `IO_EVENTS_PROVIDER_ID` is an ingestion
//!   error). The Commerce token is requested with `COMMERCE_IMS_SCOPES`, not
//!   I/O Events' `OAUTH_SCOPES`, from `IMS_BASE_URL`, once and cached.
//!
//! **Back office.** `BACKOFFICE_BASE_URL` turns on the back-office handler
//! for the 11 Commerce routes; `BACKOFFICE_TOKEN` without it is an error.
//!
//! Both request timeouts must be under `EVENTS_HANDLER_TIMEOUT_MS`, so a slow
//! peer is answered as the client's retryable timeout rather than cut by the
//! consumer's deadline.

use std::sync::Arc;
use std::time::Duration;

use crate::config::{ConfigError, comma_list};
use commerce_kit_commerce_api::config as commerce_config;
use commerce_kit_commerce_api::{
    ClientTimeouts, CommerceAuth, CommerceClient, CommerceConfig, ImsCredentials, ImsTokenProvider,
};
use commerce_kit_events::consumer::ConsumerBuilder;
use commerce_kit_sync::CommerceHandler;
use commerce_kit_sync::backoffice::{BackOfficeClient, BackOfficeHandler, BackOfficeOptions};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

/// Default IMS base URL (also the ingestion's and check-stock's default).
const DEFAULT_IMS_BASE_URL: &str = "https://ims-na1.adobelogin.com";
/// Scopes Adobe's SDK requests for Commerce (plus `commerce.accs` on SaaS).
const DEFAULT_COMMERCE_SCOPES: &str = "openid,additional_info.projectedProductContext";
/// The SaaS (Adobe Commerce as a Cloud Service) scope.
const SAAS_SCOPE: &str = "commerce.accs";

/// Settings of the reference sync handlers (Commerce connection, back office).
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Sync with Commerce (reference handlers)")]
pub struct SyncArgs {
    /// Commerce's base URL: a PaaS site root (`https://shop.example.com/`, calls go to
    /// `<base>/rest/<store>/V1/…`) or a SaaS tenant (`https://<region>.api.commerce.adobe.com/<tenant>`).
    /// Set: the 13 back-office events are written to Commerce.
    #[arg(long, env = "COMMERCE_BASE_URL", value_name = "URL")]
    pub commerce_base_url: Option<String>,

    /// Store view code (PaaS path segment, SaaS `Store` header); default `all`.
    #[arg(long, env = "COMMERCE_STORE_CODE", value_name = "CODE")]
    pub commerce_store_code: Option<String>,

    /// OAuth 1.0a: the Commerce integration's consumer key (Admin > System > Integrations).
    #[arg(long, env = "COMMERCE_CONSUMER_KEY", hide_env_values = true, value_name = "KEY")]
    pub commerce_consumer_key: Option<SecretString>,

    /// OAuth 1.0a: the integration's consumer secret.
    #[arg(
        long,
        env = "COMMERCE_CONSUMER_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub commerce_consumer_secret: Option<SecretString>,

    /// OAuth 1.0a: the integration's access token.
    #[arg(long, env = "COMMERCE_ACCESS_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub commerce_access_token: Option<SecretString>,

    /// OAuth 1.0a: the integration's access token secret.
    #[arg(
        long,
        env = "COMMERCE_ACCESS_TOKEN_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub commerce_access_token_secret: Option<SecretString>,

    /// IMS: OAuth server-to-server client id for Commerce (also sent as x-api-key); default OAUTH_CLIENT_ID.
    #[arg(long, env = "COMMERCE_IMS_CLIENT_ID", value_name = "ID")]
    pub commerce_ims_client_id: Option<String>,

    /// IMS: the client secret for Commerce; default OAUTH_CLIENT_SECRET.
    #[arg(
        long,
        env = "COMMERCE_IMS_CLIENT_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub commerce_ims_client_secret: Option<SecretString>,

    /// The Adobe project's client id (`OAUTH_CLIENT_ID`), Commerce's IMS client id by default.
    #[arg(long = "commerce-project-client-id", env = "OAUTH_CLIENT_ID", hide = true)]
    pub project_client_id: Option<String>,

    /// The Adobe project's client secret (`OAUTH_CLIENT_SECRET`), Commerce's IMS secret by default.
    #[arg(
        long = "commerce-project-client-secret",
        env = "OAUTH_CLIENT_SECRET",
        hide = true,
        hide_env_values = true
    )]
    pub project_client_secret: Option<SecretString>,

    /// IMS scopes of the Commerce token, comma-separated (default: openid,
    /// additional_info.projectedProductContext, plus commerce.accs on SaaS).
    #[arg(long, env = "COMMERCE_IMS_SCOPES", value_name = "LIST")]
    pub commerce_ims_scopes: Option<String>,

    /// Adobe IMS base URL of the Commerce token (`<url>/ims/token/v3`).
    #[arg(long, env = "IMS_BASE_URL", default_value = DEFAULT_IMS_BASE_URL, value_name = "URL")]
    pub commerce_ims_base_url: String,

    /// Connection set-up limit of a Commerce call.
    #[arg(long, env = "COMMERCE_CONNECT_TIMEOUT_MS", default_value_t = 2000, value_name = "MS")]
    pub commerce_connect_timeout_ms: u64,

    /// Whole-request limit of a Commerce call (less than EVENTS_HANDLER_TIMEOUT_MS).
    #[arg(long, env = "COMMERCE_TIMEOUT_MS", default_value_t = 5000, value_name = "MS")]
    pub commerce_timeout_ms: u64,

    /// The back office's base URL: each of the 11 Commerce routes is POSTed to
    /// `<url>/<entity>/<action>` (JSON contract in the README). Unset: Commerce events go to the fallback.
    #[arg(long, env = "BACKOFFICE_BASE_URL", value_name = "URL")]
    pub backoffice_base_url: Option<String>,

    /// Sent to the back office as `Authorization: Bearer <token>`.
    #[arg(long, env = "BACKOFFICE_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub backoffice_token: Option<SecretString>,

    /// Connection set-up limit of a back-office call.
    #[arg(
        long,
        env = "BACKOFFICE_CONNECT_TIMEOUT_MS",
        default_value_t = 2000,
        value_name = "MS"
    )]
    pub backoffice_connect_timeout_ms: u64,

    /// Whole-request limit of a back-office call (less than EVENTS_HANDLER_TIMEOUT_MS).
    #[arg(long, env = "BACKOFFICE_TIMEOUT_MS", default_value_t = 5000, value_name = "MS")]
    pub backoffice_timeout_ms: u64,
}

fn set(value: Option<&str>) -> bool {
    value.is_some_and(|v| !v.trim().is_empty())
}

fn secret_set(value: Option<&SecretString>) -> bool {
    set(value.map(ExposeSecret::expose_secret))
}

/// The flag of a commerce-api setting, for messages.
fn flag_of(env: &str) -> String {
    format!("--{}", env.to_ascii_lowercase().replace('_', "-"))
}

fn commerce_setting(err: commerce_config::ConfigError) -> ConfigError {
    ConfigError::setting(&flag_of(err.setting), err.setting, err.problem)
}

/// Connect and request timeouts, both positive, the request one under the handler deadline.
fn timeouts(
    connect_ms: u64,
    request_ms: u64,
    names: (&str, &str),
    handler_timeout: Duration,
) -> Result<ClientTimeouts, ConfigError> {
    let (connect_env, request_env) = names;
    if connect_ms == 0 {
        return Err(ConfigError::setting(
            &flag_of(connect_env),
            connect_env,
            "must be greater than 0",
        ));
    }
    if request_ms == 0 {
        return Err(ConfigError::setting(
            &flag_of(request_env),
            request_env,
            "must be greater than 0",
        ));
    }
    if u128::from(request_ms) >= handler_timeout.as_millis() {
        return Err(ConfigError::setting(
            &flag_of(request_env),
            request_env,
            format!(
                "must be less than --events-handler-timeout-ms (EVENTS_HANDLER_TIMEOUT_MS, {} ms): past that deadline the call is cut anyway",
                handler_timeout.as_millis()
            ),
        ));
    }
    Ok(ClientTimeouts {
        connect: Duration::from_millis(connect_ms),
        request: Duration::from_millis(request_ms),
    })
}

impl SyncArgs {
    /// The Commerce client the settings describe, `None` when `COMMERCE_BASE_URL`
    /// is unset. Every error names its setting and never shows a secret.
    pub fn commerce_client(&self, handler_timeout: Duration) -> Result<Option<CommerceClient>, ConfigError> {
        let oauth1 = [
            ("COMMERCE_CONSUMER_KEY", &self.commerce_consumer_key),
            ("COMMERCE_CONSUMER_SECRET", &self.commerce_consumer_secret),
            ("COMMERCE_ACCESS_TOKEN", &self.commerce_access_token),
            ("COMMERCE_ACCESS_TOKEN_SECRET", &self.commerce_access_token_secret),
        ];
        let oauth1_set: Vec<&str> = oauth1
            .iter()
            .filter(|(_, v)| secret_set(v.as_ref()))
            .map(|(env, _)| *env)
            .collect();
        let ims_own: Vec<&str> = [
            ("COMMERCE_IMS_CLIENT_ID", set(self.commerce_ims_client_id.as_deref())),
            (
                "COMMERCE_IMS_CLIENT_SECRET",
                secret_set(self.commerce_ims_client_secret.as_ref()),
            ),
            ("COMMERCE_IMS_SCOPES", set(self.commerce_ims_scopes.as_deref())),
            ("COMMERCE_STORE_CODE", set(self.commerce_store_code.as_deref())),
        ]
        .into_iter()
        .filter(|(_, on)| *on)
        .map(|(env, _)| env)
        .collect();

        let Some(base_url) = self.commerce_base_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            let stray: Vec<&str> = oauth1_set.iter().chain(ims_own.iter()).copied().collect();
            if stray.is_empty() {
                return Ok(None);
            }
            return Err(ConfigError::setting(
                "--commerce-base-url",
                "COMMERCE_BASE_URL",
                format!(
                    "required when {} {} set (the Commerce connection of the reference handlers)",
                    stray.join(", "),
                    if stray.len() == 1 { "is" } else { "are" }
                ),
            ));
        };
        let timeouts = timeouts(
            self.commerce_connect_timeout_ms,
            self.commerce_timeout_ms,
            ("COMMERCE_CONNECT_TIMEOUT_MS", "COMMERCE_TIMEOUT_MS"),
            handler_timeout,
        )?;
        // Where first: a malformed URL is the first thing to fix, and IMS scopes depend on SaaS.
        let endpoint = commerce_config::Endpoint::parse(base_url, self.commerce_store_code.as_deref())
            .map_err(commerce_setting)?;

        let auth = if oauth1_set.is_empty() {
            self.ims_auth(endpoint.is_saas(), &timeouts)?
        } else {
            if let Some(ims) = ims_own
                .iter()
                .find(|env| matches!(**env, "COMMERCE_IMS_CLIENT_ID" | "COMMERCE_IMS_CLIENT_SECRET"))
            {
                return Err(ConfigError::setting(
                    &flag_of(ims),
                    ims,
                    "is set together with the OAuth 1.0a integration credentials (COMMERCE_CONSUMER_KEY, …): choose one way to authenticate to Commerce",
                ));
            }
            let value = |v: &Option<SecretString>| v.as_ref().map(|s| s.expose_secret().to_owned()).unwrap_or_default();
            CommerceAuth::oauth1_from_parts(
                &value(&self.commerce_consumer_key),
                &value(&self.commerce_consumer_secret),
                &value(&self.commerce_access_token),
                &value(&self.commerce_access_token_secret),
            )
            .map_err(commerce_setting)?
        };
        let config = CommerceConfig::from_parts(base_url, self.commerce_store_code.as_deref(), auth)
            .map_err(commerce_setting)?
            .with_timeouts(timeouts);
        let client = CommerceClient::new(config).map_err(|e| ConfigError(format!("Commerce HTTP client: {e}")))?;
        Ok(Some(client))
    }

    fn ims_auth(&self, saas: bool, timeouts: &ClientTimeouts) -> Result<CommerceAuth, ConfigError> {
        let own_id = self.commerce_ims_client_id.clone().filter(|v| !v.trim().is_empty());
        let own_secret = self
            .commerce_ims_client_secret
            .clone()
            .filter(|v| !v.expose_secret().trim().is_empty());
        let (id, secret) = match (own_id, own_secret) {
            (Some(id), Some(secret)) => (id, secret),
            (Some(_), None) => {
                return Err(ConfigError::setting(
                    "--commerce-ims-client-secret",
                    "COMMERCE_IMS_CLIENT_SECRET",
                    "required when COMMERCE_IMS_CLIENT_ID is set",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::setting(
                    "--commerce-ims-client-id",
                    "COMMERCE_IMS_CLIENT_ID",
                    "required when COMMERCE_IMS_CLIENT_SECRET is set",
                ));
            }
            (None, None) => {
                let id = self.project_client_id.clone().filter(|v| !v.trim().is_empty());
                let secret = self
                    .project_client_secret
                    .clone()
                    .filter(|v| !v.expose_secret().trim().is_empty());
                match (id, secret) {
                    (Some(id), Some(secret)) => (id, secret),
                    _ => {
                        return Err(ConfigError::setting(
                            "--commerce-base-url",
                            "COMMERCE_BASE_URL",
                            format!(
                                "is set but Commerce has no credentials: set COMMERCE_CONSUMER_KEY, \
                                 COMMERCE_CONSUMER_SECRET, COMMERCE_ACCESS_TOKEN and COMMERCE_ACCESS_TOKEN_SECRET \
                                 (OAuth 1.0a integration{}), or COMMERCE_IMS_CLIENT_ID and COMMERCE_IMS_CLIENT_SECRET \
                                 (IMS; default OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET)",
                                if saas { ", PaaS only" } else { "" }
                            ),
                        ));
                    }
                }
            }
        };
        let id = id.trim().to_owned();
        if id.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(ConfigError::setting(
                "--commerce-ims-client-id",
                "COMMERCE_IMS_CLIENT_ID",
                "must not contain whitespace or control characters",
            ));
        }
        let scopes = match self.commerce_ims_scopes.as_deref() {
            Some(raw) => {
                let scopes = comma_list(raw);
                if scopes.is_empty() {
                    return Err(ConfigError::setting(
                        "--commerce-ims-scopes",
                        "COMMERCE_IMS_SCOPES",
                        "must not be empty",
                    ));
                }
                scopes.join(",")
            }
            None if saas => format!("{DEFAULT_COMMERCE_SCOPES},{SAAS_SCOPE}"),
            None => DEFAULT_COMMERCE_SCOPES.to_owned(),
        };
        let ims_url = Url::parse(self.commerce_ims_base_url.trim())
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                ConfigError::setting(
                    "--commerce-ims-base-url",
                    "IMS_BASE_URL",
                    format!("expected an http(s) URL, got {:?}", self.commerce_ims_base_url),
                )
            })?;
        let http = commerce_kit_core::http::client(ClientTimeouts {
            connect: timeouts.connect,
            request: timeouts.request,
        })
        .map_err(|e| ConfigError(format!("IMS HTTP client: {e}")))?;
        let provider = ImsTokenProvider::new(
            http,
            &ims_url,
            ImsCredentials {
                client_id: id,
                client_secret: secret,
                scopes,
            },
        );
        Ok(CommerceAuth::ims(Arc::new(provider)))
    }

    /// The back-office handler the settings describe, `None` when
    /// `BACKOFFICE_BASE_URL` is unset.
    pub fn back_office_handler(&self, handler_timeout: Duration) -> Result<Option<BackOfficeHandler>, ConfigError> {
        let Some(base_url) = self.backoffice_base_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            if secret_set(self.backoffice_token.as_ref()) {
                return Err(ConfigError::setting(
                    "--backoffice-token",
                    "BACKOFFICE_TOKEN",
                    "is set but --backoffice-base-url (BACKOFFICE_BASE_URL) is not",
                ));
            }
            return Ok(None);
        };
        let timeouts = timeouts(
            self.backoffice_connect_timeout_ms,
            self.backoffice_timeout_ms,
            ("BACKOFFICE_CONNECT_TIMEOUT_MS", "BACKOFFICE_TIMEOUT_MS"),
            handler_timeout,
        )?;
        let mut options = BackOfficeOptions::parse(base_url.trim())
            .map_err(|e| ConfigError::setting("--backoffice-base-url", "BACKOFFICE_BASE_URL", e))?
            .with_timeouts(timeouts);
        if let Some(token) = self
            .backoffice_token
            .as_ref()
            .filter(|t| !t.expose_secret().trim().is_empty())
        {
            let token = token.expose_secret().trim();
            if token.chars().any(char::is_control) {
                return Err(ConfigError::setting(
                    "--backoffice-token",
                    "BACKOFFICE_TOKEN",
                    "contains a control character",
                ));
            }
            options = options.with_token(token);
        }
        let client = BackOfficeClient::new(options)
            .map_err(|e| ConfigError::setting("--backoffice-base-url", "BACKOFFICE_BASE_URL", e))?;
        Ok(Some(BackOfficeHandler::new(client)))
    }

    /// Registers the reference handlers that are configured on `builder` (each
    /// on its routes) and logs which handler serves which routes; the routes of
    /// a handler that is not configured stay with the builder's fallback
    /// (`fallback` names it in the log).
    pub fn register(
        &self,
        mut builder: ConsumerBuilder,
        handler_timeout: Duration,
        fallback: &str,
    ) -> Result<ConsumerBuilder, ConfigError> {
        let commerce_routes = CommerceHandler::routes().collect::<Vec<_>>().join(",");
        match self.commerce_client(handler_timeout)? {
            Some(client) => {
                let endpoint = client.endpoint().clone();
                let auth = client.auth_kind();
                let handler = CommerceHandler::new(client);
                for route in CommerceHandler::routes() {
                    builder = builder.on(route, handler.clone());
                }
                tracing::info!(
                    handler = "commerce",
                    routes = %commerce_routes,
                    commerce = %endpoint.api_base(),
                    platform = if endpoint.is_saas() { "saas" } else { "paas" },
                    store = endpoint.store(),
                    auth,
                    "back-office events are written to Commerce"
                );
            }
            None => tracing::info!(
                handler = fallback,
                routes = %commerce_routes,
                "back-office events go to the fallback handler (set COMMERCE_BASE_URL and Commerce credentials to write them to Commerce)"
            ),
        }
        let back_office_routes = BackOfficeHandler::routes().collect::<Vec<_>>().join(",");
        match self.back_office_handler(handler_timeout)? {
            Some(handler) => {
                for route in BackOfficeHandler::routes() {
                    builder = builder.on(route, handler.clone());
                }
                tracing::info!(
                    handler = "back-office",
                    routes = %back_office_routes,
                    back_office = %self.backoffice_base_url.as_deref().unwrap_or_default().trim(),
                    token = secret_set(self.backoffice_token.as_ref()),
                    "Commerce events are POSTed to the back office"
                );
            }
            None => tracing::info!(
                handler = fallback,
                routes = %back_office_routes,
                "Commerce events go to the fallback handler (set BACKOFFICE_BASE_URL to POST them to the back office)"
            ),
        }
        Ok(builder)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        sync: SyncArgs,
    }

    const DEADLINE: Duration = Duration::from_secs(8);

    fn parse(args: &[&str]) -> SyncArgs {
        let mut all = vec!["test"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("parse").sync
    }

    const OAUTH1: [&str; 8] = [
        "--commerce-consumer-key",
        "ck",
        "--commerce-consumer-secret",
        "cs-s3cret",
        "--commerce-access-token",
        "at-s3cret",
        "--commerce-access-token-secret",
        "ats-s3cret",
    ];

    fn with(base: &[impl AsRef<str>], more: &[&str]) -> Vec<String> {
        base.iter()
            .map(|s| s.as_ref().to_owned())
            .chain(more.iter().map(|s| (*s).to_owned()))
            .collect()
    }

    fn commerce_err(args: &[String]) -> String {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        match parse(&refs).commerce_client(DEADLINE) {
            Ok(c) => panic!("expected an error for {args:?}, got {:?}", c.map(|c| c.auth_kind())),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn nothing_set_is_no_handler() {
        let args = parse(&[]);
        assert!(args.commerce_client(DEADLINE).expect("ok").is_none());
        assert!(args.back_office_handler(DEADLINE).expect("ok").is_none());
        // the project's IMS credential alone is the ingestion's business
        let args = parse(&[
            "--commerce-project-client-id",
            "id",
            "--commerce-project-client-secret",
            "s",
        ]);
        assert!(args.commerce_client(DEADLINE).expect("ok").is_none());
    }

    #[test]
    fn oauth1_and_ims_are_chosen_by_the_credentials() {
        let oauth1 = with(&["--commerce-base-url", "https://shop.example.com/"], &OAUTH1);
        let refs: Vec<&str> = oauth1.iter().map(String::as_str).collect();
        let client = parse(&refs).commerce_client(DEADLINE).expect("ok").expect("client");
        assert_eq!(client.auth_kind(), "oauth1");
        assert_eq!(
            client.endpoint().api_base().as_str(),
            "https://shop.example.com/rest/all/V1/"
        );

        let ims = parse(&[
            "--commerce-base-url",
            "https://na1.api.commerce.adobe.com/Tenant1",
            "--commerce-store-code",
            "de",
            "--commerce-project-client-id",
            "project-id",
            "--commerce-project-client-secret",
            "project-s3cret",
        ]);
        let client = ims.commerce_client(DEADLINE).expect("ok").expect("client");
        assert_eq!(client.auth_kind(), "ims");
        assert!(client.endpoint().is_saas());
        assert_eq!(client.endpoint().store(), "de");

        let own = parse(&[
            "--commerce-base-url",
            "https://shop.example.com/",
            "--commerce-ims-client-id",
            "commerce-id",
            "--commerce-ims-client-secret",
            "commerce-s3cret",
        ]);
        assert_eq!(
            own.commerce_client(DEADLINE).expect("ok").expect("client").auth_kind(),
            "ims"
        );
    }

    #[test]
    fn bad_commerce_settings_name_the_setting_and_no_secret() {
        let base = ["--commerce-base-url", "https://shop.example.com/"];
        let cases: Vec<(Vec<String>, &str)> = vec![
            (
                with(&["--commerce-base-url", "shop.example.com"], &OAUTH1),
                "invalid configuration: --commerce-base-url (COMMERCE_BASE_URL): 'shop.example.com' is not an absolute URL (relative URL without a base)",
            ),
            (
                with(&OAUTH1, &[]),
                "invalid configuration: --commerce-base-url (COMMERCE_BASE_URL): required when COMMERCE_CONSUMER_KEY, COMMERCE_CONSUMER_SECRET, COMMERCE_ACCESS_TOKEN, COMMERCE_ACCESS_TOKEN_SECRET are set (the Commerce connection of the reference handlers)",
            ),
            (
                with(&["--commerce-store-code", "de"], &[]),
                "invalid configuration: --commerce-base-url (COMMERCE_BASE_URL): required when COMMERCE_STORE_CODE is set (the Commerce connection of the reference handlers)",
            ),
            (
                with(&base, &OAUTH1[..6]),
                "invalid configuration: --commerce-access-token-secret (COMMERCE_ACCESS_TOKEN_SECRET): required for OAuth 1.0a, but empty",
            ),
            (
                with(&base, &[]),
                "invalid configuration: --commerce-base-url (COMMERCE_BASE_URL): is set but Commerce has no credentials: set COMMERCE_CONSUMER_KEY, COMMERCE_CONSUMER_SECRET, COMMERCE_ACCESS_TOKEN and COMMERCE_ACCESS_TOKEN_SECRET (OAuth 1.0a integration), or COMMERCE_IMS_CLIENT_ID and COMMERCE_IMS_CLIENT_SECRET (IMS; default OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET)",
            ),
            (
                with(&base, &["--commerce-ims-client-id", "id"]),
                "invalid configuration: --commerce-ims-client-secret (COMMERCE_IMS_CLIENT_SECRET): required when COMMERCE_IMS_CLIENT_ID is set",
            ),
            (
                with(&with(&base, &OAUTH1), &["--commerce-ims-client-secret", "ims-s3cret"]),
                "invalid configuration: --commerce-ims-client-secret (COMMERCE_IMS_CLIENT_SECRET): is set together with the OAuth 1.0a integration credentials (COMMERCE_CONSUMER_KEY, …): choose one way to authenticate to Commerce",
            ),
            (
                with(
                    &["--commerce-base-url", "https://na1.api.commerce.adobe.com/t1"],
                    &OAUTH1,
                ),
                "invalid configuration: --commerce-consumer-key (COMMERCE_CONSUMER_KEY): Commerce SaaS (COMMERCE_BASE_URL is on api.commerce.adobe.com) takes IMS credentials only; unset the OAuth 1.0a integration credentials and configure IMS",
            ),
            (
                with(&with(&base, &OAUTH1), &["--commerce-store-code", "de/fr"]),
                "invalid configuration: --commerce-store-code (COMMERCE_STORE_CODE): 'de/fr' is not a store code (letters, digits, '_' and '-')",
            ),
            (
                with(&with(&base, &OAUTH1), &["--commerce-timeout-ms", "8000"]),
                "invalid configuration: --commerce-timeout-ms (COMMERCE_TIMEOUT_MS): must be less than --events-handler-timeout-ms (EVENTS_HANDLER_TIMEOUT_MS, 8000 ms): past that deadline the call is cut anyway",
            ),
            (
                with(&with(&base, &OAUTH1), &["--commerce-connect-timeout-ms", "0"]),
                "invalid configuration: --commerce-connect-timeout-ms (COMMERCE_CONNECT_TIMEOUT_MS): must be greater than 0",
            ),
            (
                with(
                    &base,
                    &[
                        "--commerce-ims-client-id",
                        "id",
                        "--commerce-ims-client-secret",
                        "ims-s3cret",
                        "--commerce-ims-scopes",
                        " , ",
                    ],
                ),
                "invalid configuration: --commerce-ims-scopes (COMMERCE_IMS_SCOPES): must not be empty",
            ),
            (
                with(
                    &base,
                    &[
                        "--commerce-ims-client-id",
                        "id",
                        "--commerce-ims-client-secret",
                        "ims-s3cret",
                        "--commerce-ims-base-url",
                        "ims",
                    ],
                ),
                "invalid configuration: --commerce-ims-base-url (IMS_BASE_URL): expected an http(s) URL, got \"ims\"",
            ),
        ];
        for (args, expected) in cases {
            let err = commerce_err(&args);
            assert_eq!(err, expected, "{args:?}");
            assert!(!err.contains("s3cret"), "{err}");
        }
    }

    #[test]
    fn back_office_settings() {
        let handler = parse(&[
            "--backoffice-base-url",
            "https://erp.example/commerce",
            "--backoffice-token",
            "t",
        ])
        .back_office_handler(DEADLINE)
        .expect("ok");
        assert!(handler.is_some());
        let cases: Vec<(Vec<&str>, &str)> = vec![
            (
                vec!["--backoffice-token", "s3cret"],
                "invalid configuration: --backoffice-token (BACKOFFICE_TOKEN): is set but --backoffice-base-url (BACKOFFICE_BASE_URL) is not",
            ),
            (
                vec!["--backoffice-base-url", "ftp://erp.example"],
                "invalid configuration: --backoffice-base-url (BACKOFFICE_BASE_URL): invalid back-office base URL 'ftp://erp.example': expected http or https",
            ),
            (
                vec![
                    "--backoffice-base-url",
                    "https://erp.example",
                    "--backoffice-timeout-ms",
                    "9000",
                ],
                "invalid configuration: --backoffice-timeout-ms (BACKOFFICE_TIMEOUT_MS): must be less than --events-handler-timeout-ms (EVENTS_HANDLER_TIMEOUT_MS, 8000 ms): past that deadline the call is cut anyway",
            ),
        ];
        for (args, expected) in cases {
            let err = parse(&args)
                .back_office_handler(DEADLINE)
                .expect_err(expected)
                .to_string();
            assert_eq!(err, expected, "{args:?}");
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let args = with(
            &[
                "--commerce-base-url",
                "https://shop.example.com/",
                "--backoffice-token",
                "bo-s3cret",
            ],
            &OAUTH1,
        );
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let shown = format!("{:?}", parse(&refs));
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
