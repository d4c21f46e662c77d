//! The project's Adobe IMS OAuth server-to-server credentials, shared by the
//! settings that call Adobe APIs with them: ingestion's I/O Events publisher
//! and the consumer's Journaling API puller.

use commerce_kit_core::http::{ClientTimeouts, client};
use commerce_kit_core::ims::{ImsCredentials, ImsTokenProvider};
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};

use crate::config::{ConfigError, comma_list};

/// The project's OAuth server-to-server credentials (Developer Console).
#[derive(Debug, Clone, clap::Args)]
pub struct ImsArgs {
    /// OAuth server-to-server client id (also the x-api-key sent to Adobe's APIs).
    #[arg(long, env = "OAUTH_CLIENT_ID", value_name = "ID")]
    pub oauth_client_id: Option<String>,

    /// OAuth server-to-server client secret.
    #[arg(long, env = "OAUTH_CLIENT_SECRET", hide_env_values = true, value_name = "SECRET")]
    pub oauth_client_secret: Option<SecretString>,

    /// IMS organization id, sent as x-ims-org-id when set.
    #[arg(long, env = "OAUTH_ORG_ID", value_name = "ORG")]
    pub oauth_org_id: Option<String>,

    /// IMS scopes, comma-separated.
    #[arg(long, env = "OAUTH_SCOPES", default_value = "adobeio_api", value_name = "LIST")]
    pub oauth_scopes: String,

    /// Adobe IMS base URL (tokens are requested from `<url>/ims/token/v3`).
    #[arg(
        long,
        env = "IMS_BASE_URL",
        default_value = "https://ims-na1.adobelogin.com",
        value_name = "URL"
    )]
    pub ims_base_url: String,
}

/// An http(s) URL with a host, or an error naming the setting.
pub(crate) fn http_url(flag: &str, env: &str, raw: &str) -> Result<Url, ConfigError> {
    let parsed =
        Url::parse(raw.trim()).map_err(|e| ConfigError::setting(flag, env, format!("invalid URL {raw:?}: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(ConfigError::setting(
            flag,
            env,
            format!("expected an http(s) URL, got {raw:?}"),
        ));
    }
    Ok(parsed)
}

impl ImsArgs {
    /// True when both the client id and the secret are set (non-blank).
    pub fn is_set(&self) -> bool {
        let id = self.oauth_client_id.as_deref().is_some_and(|v| !v.trim().is_empty());
        let secret = self
            .oauth_client_secret
            .as_ref()
            .is_some_and(|s| !s.expose_secret().trim().is_empty());
        id && secret
    }

    /// The organization id, when set.
    pub fn org_id(&self) -> Option<String> {
        self.oauth_org_id
            .as_deref()
            .map(str::trim)
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
    }

    /// A token provider over a pooled client, with its IMS URL; `needed_by`
    /// names what needs it in the error when the credentials are missing.
    pub fn provider(&self, needed_by: &str) -> Result<(ImsTokenProvider, Url), ConfigError> {
        if !self.is_set() {
            return Err(ConfigError::setting(
                "--oauth-client-id",
                "OAUTH_CLIENT_ID",
                format!("{needed_by} needs OAUTH_CLIENT_ID and OAUTH_CLIENT_SECRET"),
            ));
        }
        let ims_url = http_url("--ims-base-url", "IMS_BASE_URL", &self.ims_base_url)?;
        if comma_list(&self.oauth_scopes).is_empty() {
            return Err(ConfigError::setting(
                "--oauth-scopes",
                "OAUTH_SCOPES",
                "must not be empty",
            ));
        }
        let http = client(ClientTimeouts::default()).map_err(|e| ConfigError(e.to_string()))?;
        let credentials = ImsCredentials {
            client_id: self.oauth_client_id.clone().unwrap_or_default().trim().to_owned(),
            client_secret: self
                .oauth_client_secret
                .clone()
                .unwrap_or_else(|| SecretString::from(String::new())),
            scopes: comma_list(&self.oauth_scopes).join(","),
        };
        Ok((ImsTokenProvider::new(http, &ims_url, credentials), ims_url))
    }
}
