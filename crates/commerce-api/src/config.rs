//! How to reach Commerce: where (PaaS or SaaS, store) and with which credentials.
//!
//! The binaries read the environment (`COMMERCE_BASE_URL`,
//! `COMMERCE_CONSUMER_KEY`, …); this module turns those values into a
//! validated [`CommerceConfig`], and every error names the setting it is about.
//!
//! ## PaaS or SaaS: decided by `COMMERCE_BASE_URL`'s host
//!
//! - A host that is `api.commerce.adobe.com` or ends in `.api.commerce.adobe.com`
//!   (e.g. `na1.api.commerce.adobe.com`) is **SaaS** (Adobe Commerce as a Cloud
//!   Service). The URL's path must be exactly the tenant id:
//!   `https://na1.api.commerce.adobe.com/<tenant>` → calls go to
//!   `https://na1.api.commerce.adobe.com/<tenant>/V1/…` with a `Store: <store>`
//!   header. SaaS takes IMS credentials only.
//! - Any other host is **PaaS** (Commerce on your own or Adobe's cloud
//!   infrastructure): calls go to `<base>/rest/<store>/V1/…`. The base is
//!   the site root (`https://shop.example.com/`); a base that already ends in
//!   `/rest` (the starter kit's `…/rest/` form) or `/rest/<store>` is accepted
//!   too, as is a trailing `/V1`.
//!
//! The store code defaults to `all` (every store view; what the SDK defaults to).
//!
//! ```
//! use commerce_kit_commerce_api::{CommerceAuth, CommerceConfig, Endpoint};
//!
//! let auth = CommerceAuth::oauth1_from_parts("ck", "cs", "at", "ats").unwrap();
//! let config = CommerceConfig::from_parts("https://shop.example.com/", None, auth).unwrap();
//! assert_eq!(config.endpoint.api_base().as_str(), "https://shop.example.com/rest/all/V1/");
//!
//! let err = CommerceConfig::from_parts(
//!     "shop.example.com",
//!     None,
//!     CommerceAuth::oauth1_from_parts("ck", "cs", "at", "ats").unwrap(),
//! )
//! .unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "COMMERCE_BASE_URL: 'shop.example.com' is not an absolute URL (relative URL without a base)"
//! );
//! ```

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use commerce_kit_core::http::ClientTimeouts;
use commerce_kit_core::ims::ImsTokenProvider;
use reqwest::Url;
use secrecy::SecretString;

/// The base URL setting.
pub const ENV_BASE_URL: &str = "COMMERCE_BASE_URL";
/// The store code setting (PaaS path segment, SaaS `Store` header).
pub const ENV_STORE_CODE: &str = "COMMERCE_STORE_CODE";
/// The integration's consumer key (the starter kit's name).
pub const ENV_CONSUMER_KEY: &str = "COMMERCE_CONSUMER_KEY";
/// The integration's consumer secret.
pub const ENV_CONSUMER_SECRET: &str = "COMMERCE_CONSUMER_SECRET";
/// The integration's access token.
pub const ENV_ACCESS_TOKEN: &str = "COMMERCE_ACCESS_TOKEN";
/// The integration's access token secret.
pub const ENV_ACCESS_TOKEN_SECRET: &str = "COMMERCE_ACCESS_TOKEN_SECRET";

/// The store code used when none is configured.
pub const DEFAULT_STORE: &str = "all";
/// Hosts that are Commerce SaaS: this one and its subdomains.
pub const SAAS_HOST: &str = "api.commerce.adobe.com";
/// How long the client itself waits on a 429's `Retry-After` before trying once more.
pub const DEFAULT_MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// A setting is missing or invalid. `Display` names the setting and, for
/// non-secret settings, the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    /// The setting (environment variable name).
    pub setting: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    fn new(setting: &'static str, problem: impl Into<String>) -> Self {
        Self {
            setting,
            problem: problem.into(),
        }
    }
}

/// How requests are authenticated.
#[derive(Clone)]
pub enum CommerceAuth {
    /// OAuth 1.0a with HMAC-SHA256: a Commerce integration (PaaS only).
    OAuth1 {
        /// `COMMERCE_CONSUMER_KEY`.
        consumer_key: String,
        /// `COMMERCE_CONSUMER_SECRET`.
        consumer_secret: SecretString,
        /// `COMMERCE_ACCESS_TOKEN`.
        access_token: SecretString,
        /// `COMMERCE_ACCESS_TOKEN_SECRET`.
        access_token_secret: SecretString,
    },
    /// An IMS server-to-server token as `Authorization: Bearer`, with `x-api-key` (PaaS with IMS, SaaS).
    Ims {
        /// The shared token provider (cached tokens, single-flight refresh).
        provider: Arc<ImsTokenProvider>,
        /// Sent as `x-api-key`: the IMS client id.
        api_key: String,
    },
}

impl CommerceAuth {
    /// OAuth 1.0a from the four integration credentials; each must be
    /// non-empty and free of control characters (the error names the setting,
    /// never the value).
    pub fn oauth1_from_parts(
        consumer_key: &str,
        consumer_secret: &str,
        access_token: &str,
        access_token_secret: &str,
    ) -> Result<Self, ConfigError> {
        for (setting, value) in [
            (ENV_CONSUMER_KEY, consumer_key),
            (ENV_CONSUMER_SECRET, consumer_secret),
            (ENV_ACCESS_TOKEN, access_token),
            (ENV_ACCESS_TOKEN_SECRET, access_token_secret),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::new(setting, "required for OAuth 1.0a, but empty"));
            }
            if value.chars().any(char::is_control) {
                return Err(ConfigError::new(setting, "contains a control character"));
            }
            if value.trim() != value {
                return Err(ConfigError::new(setting, "has leading or trailing whitespace"));
            }
        }
        Ok(CommerceAuth::OAuth1 {
            consumer_key: consumer_key.to_owned(),
            consumer_secret: SecretString::from(consumer_secret.to_owned()),
            access_token: SecretString::from(access_token.to_owned()),
            access_token_secret: SecretString::from(access_token_secret.to_owned()),
        })
    }

    /// IMS with `provider`; `x-api-key` is the provider's client id.
    pub fn ims(provider: Arc<ImsTokenProvider>) -> Self {
        let api_key = provider.client_id().to_owned();
        CommerceAuth::Ims { provider, api_key }
    }

    /// `oauth1` or `ims` (for logs).
    pub fn kind(&self) -> &'static str {
        match self {
            CommerceAuth::OAuth1 { .. } => "oauth1",
            CommerceAuth::Ims { .. } => "ims",
        }
    }
}

impl fmt::Debug for CommerceAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommerceAuth::OAuth1 { consumer_key, .. } => f
                .debug_struct("OAuth1")
                .field("consumer_key", consumer_key)
                .field("consumer_secret", &"<hidden>")
                .field("access_token", &"<hidden>")
                .field("access_token_secret", &"<hidden>")
                .finish(),
            CommerceAuth::Ims { provider, api_key } => f
                .debug_struct("Ims")
                .field("provider", provider)
                .field("api_key", api_key)
                .finish(),
        }
    }
}

/// Where the API is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// Commerce PaaS: `<site>/rest/<store>/V1/`.
    Paas {
        /// `…/rest/<store>/V1/`.
        api_base: Url,
        /// The store code in the path.
        store: String,
    },
    /// Commerce SaaS: `https://<region>.api.commerce.adobe.com/<tenant>/V1/`, `Store` header.
    Saas {
        /// `https://…/<tenant>/V1/`.
        api_base: Url,
        /// The tenant id (the base URL's path).
        tenant: String,
        /// The `Store` header.
        store: String,
    },
}

impl Endpoint {
    /// Resolves `COMMERCE_BASE_URL` (and the store code, default `all`) as the
    /// [module docs](self) describe.
    pub fn parse(base_url: &str, store: Option<&str>) -> Result<Endpoint, ConfigError> {
        let trimmed = base_url.trim();
        if trimmed.is_empty() {
            return Err(ConfigError::new(ENV_BASE_URL, "required, but empty"));
        }
        let url = Url::parse(trimmed)
            .map_err(|e| ConfigError::new(ENV_BASE_URL, format!("'{trimmed}' is not an absolute URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::new(
                ENV_BASE_URL,
                format!("'{trimmed}' is not an http(s) URL"),
            ));
        }
        let Some(host) = url.host_str().map(str::to_ascii_lowercase) else {
            return Err(ConfigError::new(ENV_BASE_URL, format!("'{trimmed}' has no host")));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(ConfigError::new(
                ENV_BASE_URL,
                "must not carry credentials (user:password@); configure them separately",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(ConfigError::new(
                ENV_BASE_URL,
                format!("'{trimmed}' must not have a query or a fragment"),
            ));
        }
        let store = match store.map(str::trim) {
            None | Some("") => None,
            Some(code) => Some(valid_store(code)?),
        };
        let segments: Vec<&str> = url.path().split('/').filter(|segment| !segment.is_empty()).collect();
        let is_saas = host == SAAS_HOST || host.ends_with(&format!(".{SAAS_HOST}"));
        if is_saas {
            let mut segments = segments;
            if segments.last().is_some_and(|s| s.eq_ignore_ascii_case("V1")) {
                segments.pop();
            }
            let [tenant] = segments.as_slice() else {
                return Err(ConfigError::new(
                    ENV_BASE_URL,
                    format!(
                        "'{trimmed}' is a Commerce SaaS host, so its path must be the tenant id alone (https://<region>.{SAAS_HOST}/<tenant>)"
                    ),
                ));
            };
            if !tenant
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            {
                return Err(ConfigError::new(
                    ENV_BASE_URL,
                    format!("'{trimmed}': the tenant id '{tenant}' may hold letters, digits, '-' and '_' only"),
                ));
            }
            let api_base = with_path(&url, &format!("/{tenant}/V1/"))?;
            return Ok(Endpoint::Saas {
                api_base,
                tenant: (*tenant).to_owned(),
                store: store.unwrap_or(DEFAULT_STORE).to_owned(),
            });
        }
        let mut segments = segments;
        if segments.last().is_some_and(|s| *s == "V1") {
            segments.pop();
        }
        let (site, url_store) = match segments.as_slice() {
            [site @ .., "rest"] => (site, None),
            [site @ .., "rest", code] => (site, Some(valid_store(code)?)),
            all => (all, None),
        };
        let store = match (url_store, store) {
            (Some(in_url), Some(configured)) if in_url != configured => {
                return Err(ConfigError::new(
                    ENV_STORE_CODE,
                    format!("'{configured}' contradicts the store code '{in_url}' in {ENV_BASE_URL}"),
                ));
            }
            (Some(code), _) | (None, Some(code)) => code,
            (None, None) => DEFAULT_STORE,
        };
        let mut path = String::from("/");
        for segment in site {
            path.push_str(segment);
            path.push('/');
        }
        path.push_str("rest/");
        path.push_str(store);
        path.push_str("/V1/");
        Ok(Endpoint::Paas {
            api_base: with_path(&url, &path)?,
            store: store.to_owned(),
        })
    }

    /// The URL every API path is relative to (ends in `/V1/`).
    pub fn api_base(&self) -> &Url {
        match self {
            Endpoint::Paas { api_base, .. } | Endpoint::Saas { api_base, .. } => api_base,
        }
    }

    /// The store code.
    pub fn store(&self) -> &str {
        match self {
            Endpoint::Paas { store, .. } | Endpoint::Saas { store, .. } => store,
        }
    }

    /// True for Commerce SaaS.
    pub fn is_saas(&self) -> bool {
        matches!(self, Endpoint::Saas { .. })
    }
}

fn valid_store(code: &str) -> Result<&str, ConfigError> {
    if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(ConfigError::new(
            ENV_STORE_CODE,
            format!("'{code}' is not a store code (letters, digits, '_' and '-')"),
        ));
    }
    Ok(code)
}

fn with_path(url: &Url, path: &str) -> Result<Url, ConfigError> {
    let mut out = url.clone();
    out.set_path(path);
    if out.cannot_be_a_base() {
        return Err(ConfigError::new(ENV_BASE_URL, format!("'{url}' cannot be a base URL")));
    }
    Ok(out)
}

/// Everything the client needs. Build it with [`CommerceConfig::from_parts`].
#[derive(Debug, Clone)]
pub struct CommerceConfig {
    /// Where the API is.
    pub endpoint: Endpoint,
    /// How requests are authenticated.
    pub auth: CommerceAuth,
    /// Connect and whole-request timeouts (default 2 s and 10 s).
    pub timeouts: ClientTimeouts,
    /// The longest `Retry-After` of a 429 the client waits out itself before
    /// trying once more (default 5 s); a longer one is returned to the caller
    /// as a retryable error carrying the wait.
    pub max_retry_after: Duration,
}

impl CommerceConfig {
    /// Validates the base URL and store code against the auth (SaaS needs IMS).
    pub fn from_parts(base_url: &str, store: Option<&str>, auth: CommerceAuth) -> Result<Self, ConfigError> {
        let endpoint = Endpoint::parse(base_url, store)?;
        if endpoint.is_saas() && matches!(auth, CommerceAuth::OAuth1 { .. }) {
            return Err(ConfigError::new(
                ENV_CONSUMER_KEY,
                format!(
                    "Commerce SaaS ({ENV_BASE_URL} is on {SAAS_HOST}) takes IMS credentials only; unset the OAuth 1.0a integration credentials and configure IMS"
                ),
            ));
        }
        Ok(Self {
            endpoint,
            auth,
            timeouts: ClientTimeouts::default(),
            max_retry_after: DEFAULT_MAX_RETRY_AFTER,
        })
    }

    /// Sets the connect and request timeouts.
    pub fn with_timeouts(mut self, timeouts: ClientTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// Sets the longest 429 wait the client absorbs itself.
    pub fn with_max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(url: &str, store: Option<&str>) -> Result<String, String> {
        Endpoint::parse(url, store)
            .map(|e| format!("{}{}", if e.is_saas() { "saas " } else { "" }, e.api_base()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn paas_bases() {
        let cases = [
            (
                "https://shop.example.com",
                None,
                "https://shop.example.com/rest/all/V1/",
            ),
            (
                "https://shop.example.com/",
                Some("default"),
                "https://shop.example.com/rest/default/V1/",
            ),
            (
                "https://shop.example.com/rest/",
                None,
                "https://shop.example.com/rest/all/V1/",
            ),
            (
                "https://shop.example.com/rest",
                Some("de"),
                "https://shop.example.com/rest/de/V1/",
            ),
            (
                "https://shop.example.com/rest/default/",
                None,
                "https://shop.example.com/rest/default/V1/",
            ),
            (
                "https://shop.example.com/rest/default/V1/",
                Some("default"),
                "https://shop.example.com/rest/default/V1/",
            ),
            (
                "http://127.0.0.1:8080/magento/",
                None,
                "http://127.0.0.1:8080/magento/rest/all/V1/",
            ),
            (
                "https://SHOP.example.com/",
                None,
                "https://shop.example.com/rest/all/V1/",
            ),
        ];
        for (url, store, expected) in cases {
            assert_eq!(base(url, store).as_deref(), Ok(expected), "{url} {store:?}");
        }
    }

    #[test]
    fn saas_is_decided_by_the_host() {
        assert_eq!(
            base("https://na1.api.commerce.adobe.com/AbC123xyz", None).as_deref(),
            Ok("saas https://na1.api.commerce.adobe.com/AbC123xyz/V1/")
        );
        assert_eq!(
            base("https://api.commerce.adobe.com/t-1/", Some("default")).as_deref(),
            Ok("saas https://api.commerce.adobe.com/t-1/V1/")
        );
        let e = Endpoint::parse("https://na1-sandbox.api.commerce.adobe.com/tenant/V1", Some("de")).expect("saas");
        assert_eq!(e.store(), "de");
        assert!(matches!(e, Endpoint::Saas { ref tenant, .. } if tenant == "tenant"));
        // a look-alike host is PaaS
        assert_eq!(
            base("https://evilapi.commerce.adobe.com.example.org/x", None).as_deref(),
            Ok("https://evilapi.commerce.adobe.com.example.org/x/rest/all/V1/")
        );
    }

    #[test]
    fn precise_errors() {
        let cases = [
            ("", None, "COMMERCE_BASE_URL: required, but empty"),
            (
                "ftp://shop.example.com/",
                None,
                "COMMERCE_BASE_URL: 'ftp://shop.example.com/' is not an http(s) URL",
            ),
            (
                "https://shop.example.com/?a=1",
                None,
                "COMMERCE_BASE_URL: 'https://shop.example.com/?a=1' must not have a query or a fragment",
            ),
            (
                "https://u:p@shop.example.com/",
                None,
                "COMMERCE_BASE_URL: must not carry credentials (user:password@); configure them separately",
            ),
            (
                "https://na1.api.commerce.adobe.com/",
                None,
                "COMMERCE_BASE_URL: 'https://na1.api.commerce.adobe.com/' is a Commerce SaaS host, so its path must be the tenant id alone (https://<region>.api.commerce.adobe.com/<tenant>)",
            ),
            (
                "https://na1.api.commerce.adobe.com/a/b",
                None,
                "COMMERCE_BASE_URL: 'https://na1.api.commerce.adobe.com/a/b' is a Commerce SaaS host, so its path must be the tenant id alone (https://<region>.api.commerce.adobe.com/<tenant>)",
            ),
            (
                "https://shop.example.com/",
                Some("de/fr"),
                "COMMERCE_STORE_CODE: 'de/fr' is not a store code (letters, digits, '_' and '-')",
            ),
            (
                "https://shop.example.com/rest/default",
                Some("de"),
                "COMMERCE_STORE_CODE: 'de' contradicts the store code 'default' in COMMERCE_BASE_URL",
            ),
        ];
        for (url, store, expected) in cases {
            assert_eq!(
                base(url, store).as_ref().map_err(String::as_str),
                Err(expected),
                "{url}"
            );
        }
        let err = base("not a url", None).expect_err("invalid");
        assert!(
            err.starts_with("COMMERCE_BASE_URL: 'not a url' is not an absolute URL"),
            "{err}"
        );
    }

    #[test]
    fn oauth1_credentials_are_checked_without_echoing_them() {
        let err = CommerceAuth::oauth1_from_parts("ck", "", "at", "ats").expect_err("empty");
        assert_eq!(
            err.to_string(),
            "COMMERCE_CONSUMER_SECRET: required for OAuth 1.0a, but empty"
        );
        let err = CommerceAuth::oauth1_from_parts("ck", "cs", "at", "s3cr3t\n").expect_err("newline");
        assert_eq!(
            err.to_string(),
            "COMMERCE_ACCESS_TOKEN_SECRET: contains a control character"
        );
        let err = CommerceAuth::oauth1_from_parts(" ck", "cs", "at", "ats").expect_err("space");
        assert_eq!(
            err.to_string(),
            "COMMERCE_CONSUMER_KEY: has leading or trailing whitespace"
        );
    }

    #[test]
    fn saas_refuses_oauth1() {
        let auth = CommerceAuth::oauth1_from_parts("ck", "cs", "at", "ats").expect("auth");
        let err = CommerceConfig::from_parts("https://na1.api.commerce.adobe.com/t", None, auth).expect_err("saas");
        assert_eq!(err.setting, ENV_CONSUMER_KEY);
        assert!(err.problem.contains("IMS credentials only"), "{err}");
    }
}
