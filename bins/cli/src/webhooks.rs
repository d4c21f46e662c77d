//! `commerce-kit webhooks`: the Commerce registration of the check-stock hook,
//! as a `webhooks.xml` snippet (PaaS) and as the body of `POST
//! /V1/webhooks/subscribe` (SaaS, and PaaS with the Webhooks module 1.13 or
//! later), with exactly the `fields` whose projection of Commerce's
//! `observer.checkout_cart_product_add_before` event check-stock parses.
//!
//! Facts (Adobe's Commerce webhooks documentation: `xml-schema.md`, `api.md`,
//! `tutorial/best-practices.md`): a hook's `field` has a `name` (its path in
//! the payload sent) and a `source` (its path in the default payload; the name
//! when absent); `timeout` and `softTimeout` are milliseconds, `required`
//! defaults to true; `developerConsoleOauth` holds `clientId`, `clientSecret`
//! and `orgId` elements, whose values may be `{env:NAME}`; the REST body nests
//! the same under `webhook`, with `developer_console_oauth` `{client_id,
//! client_secret, org_id}`; batch and hook names are `[A-Za-z0-9_]`.

use serde_json::{Value, json};

use crate::config::ConfigError;

/// The Commerce method (`<type>.<event>`) check-stock serves.
pub const WEBHOOK_METHOD: &str = "observer.checkout_cart_product_add_before";

/// What the hook sends, `(name, source)`: the product's sku and the buy
/// request's quantity, under the names check-stock reads (`product.sku`,
/// `info.qty`).
pub const FIELDS: [(&str, &str); 2] = [("product.sku", "data.product.sku"), ("info.qty", "data.info.qty")];

/// How Commerce authenticates its calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum HookAuth {
    /// The Admin's digital signature (`x-adobe-commerce-webhook-signature`);
    /// check-stock verifies it with `COMMERCE_WEBHOOK_PUBLIC_KEY`.
    #[default]
    Signature,
    /// An IMS bearer token minted from Developer Console OAuth credentials
    /// (`developerConsoleOauth`).
    Ims,
}

/// Which registration(s) to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum RegistrationFormat {
    /// Both, each under a comment line saying where it goes.
    #[default]
    Both,
    /// The `webhooks.xml` `<method>` element only.
    Xml,
    /// The `POST /V1/webhooks/subscribe` body only (JSON).
    Json,
}

/// `commerce-kit webhooks` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct WebhooksArgs {
    /// The check-stock URL Commerce calls, e.g. https://integration.example.com/webhook/check-stock.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// Hard timeout of the hook (ms): above check-stock's deadline (`STOCK_CHECK_TIMEOUT_MS`, 3000 by default).
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub timeout_ms: u64,
    /// Soft timeout (ms): Commerce only logs a notice past it.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub soft_timeout_ms: u64,
    /// Whether a failed hook aborts the add-to-cart (`true`) or is only logged.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub required: bool,
    /// Message Commerce shows the shopper when the hook fails.
    #[arg(long, default_value = "The product stock validation failed", value_name = "TEXT")]
    pub fallback_message: String,
    /// Batch name (letters, digits, `_`).
    #[arg(long, default_value = "validate_stock", value_name = "NAME")]
    pub batch_name: String,
    /// Hook name (letters, digits, `_`).
    #[arg(long, default_value = "check_stock", value_name = "NAME")]
    pub hook_name: String,
    /// How Commerce authenticates its calls.
    #[arg(long, value_enum, default_value_t = HookAuth::Signature)]
    pub auth: HookAuth,
    /// Developer Console OAuth client id (with `--auth ims`).
    #[arg(long, env = "COMMERCE_WEBHOOK_IMS_CLIENT_ID", value_name = "ID")]
    pub ims_client_id: Option<String>,
    /// Developer Console organization id, `…@AdobeOrg` (with `--auth ims`).
    #[arg(long, env = "COMMERCE_WEBHOOK_IMS_ORG_ID", value_name = "ID")]
    pub ims_org_id: Option<String>,
    /// Environment variable holding the client secret on the Commerce side:
    /// the secret itself is never printed (`{env:NAME}` in the XML, `$NAME`
    /// in the JSON, for `envsubst`).
    #[arg(long, default_value = "COMMERCE_WEBHOOK_IMS_CLIENT_SECRET", value_name = "NAME")]
    pub ims_client_secret_env: String,
    /// What to print.
    #[arg(long, value_enum, default_value_t = RegistrationFormat::Both)]
    pub format: RegistrationFormat,
}

/// A validated registration.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    url: String,
    timeout_ms: u64,
    soft_timeout_ms: u64,
    required: bool,
    fallback_message: String,
    batch_name: String,
    hook_name: String,
    oauth: Option<Oauth>,
}

#[derive(Debug, Clone, PartialEq)]
struct Oauth {
    client_id: String,
    org_id: String,
    secret_env: String,
}

impl WebhooksArgs {
    /// Validates the arguments; a bad one is a one-line error naming it.
    pub fn registration(&self) -> Result<Registration, ConfigError> {
        let url = reqwest::Url::parse(self.url.trim())
            .map_err(|e| ConfigError(format!("--url: invalid URL {:?}: {e}", self.url)))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(ConfigError(format!(
                "--url: {:?} must be an http:// or https:// URL with a host",
                self.url
            )));
        }
        for (flag, name) in [("--batch-name", &self.batch_name), ("--hook-name", &self.hook_name)] {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(ConfigError(format!(
                    "{flag}: {name:?} must be letters, digits and underscores only (Commerce refuses others)"
                )));
            }
        }
        if self.timeout_ms == 0 {
            return Err(ConfigError(
                "--timeout-ms: 0 means no limit to Commerce, so a stalled call would block the shopper; give a \
                 limit above STOCK_CHECK_TIMEOUT_MS"
                    .to_owned(),
            ));
        }
        let env_ok = !self.ims_client_secret_env.is_empty()
            && self
                .ims_client_secret_env
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        let oauth = match self.auth {
            HookAuth::Signature => None,
            HookAuth::Ims => {
                let client_id = present(&self.ims_client_id).ok_or_else(|| {
                    ConfigError("--ims-client-id (COMMERCE_WEBHOOK_IMS_CLIENT_ID): required with --auth ims".to_owned())
                })?;
                let org_id = present(&self.ims_org_id).ok_or_else(|| {
                    ConfigError("--ims-org-id (COMMERCE_WEBHOOK_IMS_ORG_ID): required with --auth ims".to_owned())
                })?;
                if !env_ok {
                    return Err(ConfigError(format!(
                        "--ims-client-secret-env: {:?} is not an environment variable name",
                        self.ims_client_secret_env
                    )));
                }
                Some(Oauth {
                    client_id,
                    org_id,
                    secret_env: self.ims_client_secret_env.clone(),
                })
            }
        };
        Ok(Registration {
            url: url.to_string(),
            timeout_ms: self.timeout_ms,
            soft_timeout_ms: self.soft_timeout_ms,
            required: self.required,
            fallback_message: self.fallback_message.clone(),
            batch_name: self.batch_name.clone(),
            hook_name: self.hook_name.clone(),
            oauth,
        })
    }

    /// What `commerce-kit webhooks` prints.
    pub fn render(&self) -> Result<String, ConfigError> {
        let registration = self.registration()?;
        let json = serde_json::to_string_pretty(&registration.subscribe_body()).unwrap_or_default();
        Ok(match self.format {
            RegistrationFormat::Xml => registration.xml(),
            RegistrationFormat::Json => format!("{json}\n"),
            RegistrationFormat::Both => format!(
                "<!-- app/etc/webhooks.xml (PaaS), inside <config> -->\n{}\n\
                 # POST /V1/webhooks/subscribe body (SaaS, and PaaS with the Webhooks module 1.13+)\n{json}\n",
                registration.xml()
            ),
        })
    }
}

fn present(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl Registration {
    /// The `webhooks.xml` `<method>` element.
    pub fn xml(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!("<method name=\"{WEBHOOK_METHOD}\" type=\"before\">\n"));
        out.push_str("    <hooks>\n");
        out.push_str(&format!("        <batch name=\"{}\">\n", self.batch_name));
        out.push_str(&format!(
            "            <hook name=\"{}\" url=\"{}\" method=\"POST\" timeout=\"{}\" softTimeout=\"{}\" required=\"{}\" fallbackErrorMessage=\"{}\">\n",
            self.hook_name,
            escape(&self.url),
            self.timeout_ms,
            self.soft_timeout_ms,
            self.required,
            escape(&self.fallback_message)
        ));
        if let Some(oauth) = &self.oauth {
            out.push_str("                <developerConsoleOauth>\n");
            out.push_str(&format!(
                "                    <clientId>{}</clientId>\n",
                escape(&oauth.client_id)
            ));
            out.push_str(&format!(
                "                    <clientSecret>{{env:{}}}</clientSecret>\n",
                oauth.secret_env
            ));
            out.push_str(&format!(
                "                    <orgId>{}</orgId>\n",
                escape(&oauth.org_id)
            ));
            out.push_str("                </developerConsoleOauth>\n");
        }
        out.push_str("                <fields>\n");
        for (name, source) in FIELDS {
            out.push_str(&format!(
                "                    <field name=\"{name}\" source=\"{source}\"/>\n"
            ));
        }
        out.push_str("                </fields>\n");
        out.push_str("            </hook>\n        </batch>\n    </hooks>\n</method>\n");
        out
    }

    /// The body of `POST /V1/webhooks/subscribe`.
    pub fn subscribe_body(&self) -> Value {
        let mut webhook = json!({
            "webhook_method": WEBHOOK_METHOD,
            "webhook_type": "before",
            "batch_name": self.batch_name,
            "hook_name": self.hook_name,
            "url": self.url,
            "method": "POST",
            "required": self.required,
            "timeout": self.timeout_ms,
            "soft_timeout": self.soft_timeout_ms,
            "fallback_error_message": self.fallback_message,
            "fields": FIELDS.iter().map(|(name, source)| json!({"name": name, "source": source})).collect::<Vec<_>>(),
        });
        if let Some(oauth) = &self.oauth {
            webhook["developer_console_oauth"] = json!({
                "client_id": oauth.client_id,
                "client_secret": format!("${}", oauth.secret_env),
                "org_id": oauth.org_id,
            });
        }
        json!({"webhook": webhook})
    }
}

/// Escapes text for an XML attribute or element.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        webhooks: WebhooksArgs,
    }

    fn args(list: &[&str]) -> WebhooksArgs {
        let mut all = vec!["test"];
        all.extend_from_slice(list);
        Cli::try_parse_from(all).expect("parse").webhooks
    }

    #[test]
    fn bad_arguments_are_refused_naming_the_flag() {
        let cases: [(&[&str], &str); 5] = [
            (
                &["--url", "not a url"],
                "invalid configuration: --url: invalid URL \"not a url\": relative URL without a base",
            ),
            (
                &["--url", "ftp://x/y"],
                "invalid configuration: --url: \"ftp://x/y\" must be an http:// or https:// URL with a host",
            ),
            (
                &["--url", "https://x/y", "--hook-name", "check-stock"],
                "invalid configuration: --hook-name: \"check-stock\" must be letters, digits and underscores only (Commerce refuses others)",
            ),
            (
                &["--url", "https://x/y", "--timeout-ms", "0"],
                "invalid configuration: --timeout-ms: 0 means no limit to Commerce, so a stalled call would block the shopper; give a limit above STOCK_CHECK_TIMEOUT_MS",
            ),
            (
                &["--url", "https://x/y", "--auth", "ims", "--ims-org-id", "O@AdobeOrg"],
                "invalid configuration: --ims-client-id (COMMERCE_WEBHOOK_IMS_CLIENT_ID): required with --auth ims",
            ),
        ];
        for (list, expected) in cases {
            let mut parsed = args(list);
            // The environment of the test process must not fill the IMS settings in.
            if !list.contains(&"--ims-client-id") {
                parsed.ims_client_id = None;
            }
            assert_eq!(parsed.render().expect_err("refused").to_string(), expected, "{list:?}");
        }
    }

    #[test]
    fn xml_is_escaped_and_names_the_secret_by_its_variable() {
        let mut parsed = args(&[
            "--url",
            "https://x.example/webhook/check-stock?a=1&b=2",
            "--fallback-message",
            "Stock \"check\" <failed>",
            "--auth",
            "ims",
            "--ims-client-id",
            "cid",
            "--ims-org-id",
            "O@AdobeOrg",
            "--format",
            "xml",
        ]);
        parsed.ims_client_secret_env = "MY_SECRET".to_owned();
        let xml = parsed.render().expect("render");
        assert!(
            xml.contains("url=\"https://x.example/webhook/check-stock?a=1&amp;b=2\""),
            "{xml}"
        );
        assert!(
            xml.contains("fallbackErrorMessage=\"Stock &quot;check&quot; &lt;failed&gt;\""),
            "{xml}"
        );
        assert!(xml.contains("<clientSecret>{env:MY_SECRET}</clientSecret>"), "{xml}");
        assert!(xml.contains("<orgId>O@AdobeOrg</orgId>"), "{xml}");
    }
}
