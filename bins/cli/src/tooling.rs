//! Developer tooling of `commerce-kit`: seeing an endpoint as Commerce sees
//! it (`simulate check-stock`), posting a back-office event with the
//! configured authentication (`send`), and the JSON Schemas of every payload
//! the kit accepts (`schemas`).
//!
//! Exit codes: 0 the server accepted, 1 the server refused (or could not be
//! reached), 2 usage.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use commerce_kit_core::signature::RsaSigner;
use commerce_kit_model::catalog::Catalog;
use commerce_kit_webhook::signature::{SIGNATURE_HEADER, sign_body};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use crate::catalog::CatalogArgs;
use crate::config::ConfigError;
use crate::ingestion::AuthMode;
use crate::webhooks::FIELDS;

/// Exit status: the server accepted.
pub const EXIT_OK: i32 = 0;
/// Exit status: the server refused, or could not be reached.
pub const EXIT_REFUSED: i32 = 1;
/// Exit status: bad usage (arguments, files).
pub const EXIT_USAGE: i32 = 2;

/// What a tool prints and how it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Printed to stdout.
    pub report: String,
    /// The exit status ([`EXIT_OK`] or [`EXIT_REFUSED`]).
    pub status: i32,
}

/// Which body `simulate check-stock` sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SimulatedPayload {
    /// What a hook registered by `commerce-kit webhooks` sends: the `fields`
    /// projection, `{"product":{"sku"},"info":{"qty"}}`.
    #[default]
    Fields,
    /// Commerce's whole default payload (a hook without `fields`).
    Default,
}

/// `commerce-kit simulate check-stock` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateCheckStockArgs {
    /// The check-stock URL, e.g. http://127.0.0.1:8080/webhook/check-stock.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The SKU being added to the cart.
    #[arg(long, value_name = "SKU")]
    pub sku: String,
    /// The quantity requested (sent as Commerce sends it: a string).
    #[arg(long, default_value = "1", value_name = "QTY")]
    pub qty: String,
    /// Which body to send.
    #[arg(long, value_enum, default_value_t = SimulatedPayload::Fields)]
    pub payload: SimulatedPayload,
    /// PEM private key to sign with, as Commerce's Admin key pair would; created
    /// (and its public key printed) when the file does not exist.
    #[arg(long, value_name = "FILE", conflicts_with = "unsigned")]
    pub private_key: Option<PathBuf>,
    /// Send without `x-adobe-commerce-webhook-signature`.
    #[arg(long)]
    pub unsigned: bool,
    /// How long to wait, as the hook's `timeout` (ms).
    #[arg(long, default_value_t = 5000, value_name = "MS")]
    pub timeout_ms: u64,
}

/// The body Commerce sends for a shopper adding `qty` of `sku`.
pub fn simulated_body(payload: SimulatedPayload, sku: &str, qty: &str) -> Value {
    match payload {
        SimulatedPayload::Fields => {
            let mut body = json!({});
            let default = default_payload(sku, qty);
            for (name, source) in FIELDS {
                if let Some(value) = at_path(&default, source) {
                    set_path(&mut body, name, value.clone());
                }
            }
            body
        }
        SimulatedPayload::Default => default_payload(sku, qty),
    }
}

/// Commerce's default `observer.checkout_cart_product_add_before` payload
/// (the observer's arguments: the buy request and the product, values as
/// strings as Commerce sends them; a representative subset of the product).
fn default_payload(sku: &str, qty: &str) -> Value {
    json!({
        "subject": [],
        "eventName": "checkout_cart_product_add_before",
        "data": {
            "info": {"product": "1", "selected_configurable_option": "", "related_product": "", "item": "1", "qty": qty},
            "product": {"store_id": "1", "entity_id": "1", "attribute_set_id": "4", "type_id": "simple", "sku": sku,
                        "has_options": "0", "required_options": "0", "name": sku}
        }
    })
}

/// The value at a dotted path.
fn at_path<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(value, |at, key| at.get(key))
}

/// Sets the value at a dotted path, creating objects on the way.
fn set_path(target: &mut Value, path: &str, value: Value) {
    let mut at = target;
    let mut keys = path.split('.').peekable();
    while let Some(key) = keys.next() {
        if !at.is_object() {
            *at = json!({});
        }
        let Some(object) = at.as_object_mut() else { return };
        if keys.peek().is_none() {
            object.insert(key.to_owned(), value);
            return;
        }
        at = object.entry(key.to_owned()).or_insert_with(|| json!({}));
    }
}

impl SimulateCheckStockArgs {
    /// Sends the call and says what Commerce would do with the answer.
    pub async fn run(&self) -> Result<Outcome, ConfigError> {
        let url = reqwest::Url::parse(&self.url).map_err(|e| ConfigError(format!("--url: invalid URL: {e}")))?;
        if self.sku.is_empty() {
            return Err(ConfigError("--sku: must not be empty".to_owned()));
        }
        let body = serde_json::to_vec(&simulated_body(self.payload, &self.sku, &self.qty)).unwrap_or_default();
        let mut report = String::new();
        let mut request = client(self.timeout_ms)?
            .post(url)
            .header("content-type", "application/json")
            .header("x-adobe-commerce-request-id", uuid::Uuid::new_v4().to_string());
        match (&self.private_key, self.unsigned) {
            (_, true) => report.push_str("Sending unsigned.\n"),
            (Some(file), false) => {
                let (signer, created) = load_or_create_key(file)?;
                if let Some(public) = created {
                    report.push_str(&format!(
                        "Created the key pair {}; configure check-stock with its public key \
                         (COMMERCE_WEBHOOK_PUBLIC_KEY):\n{public}",
                        file.display()
                    ));
                }
                request = request.header(SIGNATURE_HEADER, sign_body(&signer, &body));
            }
            (None, false) => {
                let (signer, public) =
                    RsaSigner::generate().map_err(|e| ConfigError(format!("cannot generate a key: {e}")))?;
                report.push_str(&format!(
                    "Signed with a new key pair (pass --private-key FILE to keep one); its public key:\n{public}"
                ));
                request = request.header(SIGNATURE_HEADER, sign_body(&signer, &body));
            }
        }
        report.push_str(&format!(
            "POST {} ({} payload)\n{}\n",
            self.url,
            match self.payload {
                SimulatedPayload::Fields => "the registered fields'",
                SimulatedPayload::Default => "Commerce's default",
            },
            String::from_utf8_lossy(&body)
        ));
        let verdict = match request.body(body).send().await {
            Err(e) => Verdict::Failed(format!("no answer: {}", e.without_url())),
            Ok(resp) => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                report.push_str(&format!("HTTP {}\n{text}\n", status.as_u16()));
                Verdict::read(status.as_u16(), &text)
            }
        };
        report.push_str(&verdict.explain());
        report.push('\n');
        Ok(Outcome {
            report,
            status: if matches!(verdict, Verdict::Success) {
                EXIT_OK
            } else {
                EXIT_REFUSED
            },
        })
    }
}

/// What Commerce makes of a hook's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    /// `{"op":"success"}` (or only successes).
    Success,
    /// An exception operation, with its message.
    Exception(Option<String>),
    /// Not an answer Commerce accepts (status, body, transport).
    Failed(String),
}

impl Verdict {
    fn read(status: u16, text: &str) -> Verdict {
        if status != 200 {
            return Verdict::Failed(format!("HTTP {status}; Commerce expects 200"));
        }
        let ops = match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(ops)) => ops,
            Ok(op @ Value::Object(_)) => vec![op],
            _ => return Verdict::Failed("the body is not a JSON operation or array of operations".to_owned()),
        };
        for op in &ops {
            match op.get("op").and_then(Value::as_str) {
                Some("exception") => {
                    return Verdict::Exception(op.get("message").and_then(Value::as_str).map(str::to_owned));
                }
                Some("success" | "add" | "replace" | "remove") => {}
                _ => return Verdict::Failed(format!("unknown operation {op}")),
            }
        }
        Verdict::Success
    }

    fn explain(&self) -> String {
        match self {
            Verdict::Success => "Commerce would add the product to the cart.".to_owned(),
            Verdict::Exception(Some(message)) => {
                format!("Commerce would refuse the add-to-cart and show the shopper: {message}")
            }
            Verdict::Exception(None) => {
                "Commerce would refuse the add-to-cart and show the hook's fallback message.".to_owned()
            }
            Verdict::Failed(why) => format!(
                "The hook failed ({why}): with required=true Commerce refuses the add-to-cart and shows the \
                 fallback message; with required=false it adds the product and logs the failure."
            ),
        }
    }
}

fn client(timeout_ms: u64) -> Result<reqwest::Client, ConfigError> {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(timeout_ms.max(1)))
        .build()
        .map_err(|e| ConfigError(format!("cannot build an HTTP client: {e}")))
}

/// Loads the signing key, or creates it (owner-only) and returns its public half.
fn load_or_create_key(file: &Path) -> Result<(RsaSigner, Option<String>), ConfigError> {
    match std::fs::read_to_string(file) {
        Ok(pem) => RsaSigner::from_pem(&pem).map(|signer| (signer, None)).map_err(|e| {
            ConfigError(format!(
                "--private-key: {} is not a PEM RSA private key: {e}",
                file.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let (signer, public) =
                RsaSigner::generate().map_err(|e| ConfigError(format!("cannot generate a key: {e}")))?;
            let private = signer
                .to_pem()
                .map_err(|e| ConfigError(format!("cannot encode the key: {e}")))?;
            write_private(file, private.expose_secret())?;
            Ok((signer, Some(public)))
        }
        Err(e) => Err(ConfigError(format!(
            "--private-key: cannot read {}: {e}",
            file.display()
        ))),
    }
}

fn write_private(file: &Path, pem: &str) -> Result<(), ConfigError> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    options
        .open(file)
        .and_then(|mut f| f.write_all(pem.as_bytes()))
        .map_err(|e| ConfigError(format!("--private-key: cannot write {}: {e}", file.display())))
}

/// `commerce-kit send` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SendArgs {
    /// The event code, e.g. be-observer.catalog_product_update (see `commerce-kit catalog`).
    #[arg(value_name = "EVENT_CODE")]
    pub event: String,
    /// The ingestion webhook URL, e.g. http://127.0.0.1:8080/ingestion/webhook.
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The event's `value` as JSON, from a file or `-` (stdin); default: the catalog's sample.
    #[arg(long, value_name = "FILE|-")]
    pub value: Option<String>,
    /// The event's `uid`; default: a new UUID.
    #[arg(long, value_name = "UID")]
    pub uid: Option<String>,
    /// How to authenticate, as the server is configured.
    #[arg(long = "ingestion-auth", env = "INGESTION_AUTH", value_enum, default_value_t = AuthMode::None)]
    pub auth: AuthMode,
    /// API keys (the first is sent) with `--ingestion-auth api-key`.
    #[arg(
        long = "ingestion-api-keys",
        env = "INGESTION_API_KEYS",
        hide_env_values = true,
        value_name = "KEYS"
    )]
    pub api_keys: Option<SecretString>,
    /// HMAC secret with `--ingestion-auth hmac`.
    #[arg(
        long = "ingestion-hmac-secret",
        env = "INGESTION_HMAC_SECRET",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub hmac_secret: Option<SecretString>,
    /// The catalog the sample comes from.
    #[command(flatten)]
    pub catalog: CatalogArgs,
    /// How long to wait (ms).
    #[arg(long, default_value_t = 10_000, value_name = "MS")]
    pub timeout_ms: u64,
}

impl SendArgs {
    /// Posts the event and reports the answer.
    pub async fn run(&self) -> Result<Outcome, ConfigError> {
        let url = reqwest::Url::parse(&self.url).map_err(|e| ConfigError(format!("--url: invalid URL: {e}")))?;
        let catalog = self.catalog.load().map_err(|e| ConfigError(e.to_string()))?;
        let value = match self.value.as_deref() {
            Some(source) => read_value(source)?,
            None => catalog
                .get(&self.event)
                .map(|event| event.sample().clone())
                .ok_or_else(|| unknown_event(&self.event, &catalog))?,
        };
        let uid = self.uid.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let body =
            serde_json::to_vec(&json!({"data": {"uid": uid, "event": self.event, "value": value}})).unwrap_or_default();
        let mut request = client(self.timeout_ms)?
            .post(url)
            .header("content-type", "application/json");
        match self.auth {
            AuthMode::None => {}
            AuthMode::ApiKey => {
                let key = self
                    .api_keys
                    .as_ref()
                    .and_then(|keys| {
                        keys.expose_secret()
                            .split(',')
                            .map(str::trim)
                            .find(|k| !k.is_empty())
                            .map(str::to_owned)
                    })
                    .ok_or_else(|| {
                        ConfigError(
                            "--ingestion-api-keys (INGESTION_API_KEYS): required with --ingestion-auth api-key"
                                .to_owned(),
                        )
                    })?;
                request = request.header("x-api-key", key);
            }
            AuthMode::Hmac => {
                let secret = self
                    .hmac_secret
                    .as_ref()
                    .filter(|s| !s.expose_secret().is_empty())
                    .ok_or_else(|| {
                        ConfigError(
                            "--ingestion-hmac-secret (INGESTION_HMAC_SECRET): required with --ingestion-auth hmac"
                                .to_owned(),
                        )
                    })?;
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                for (name, value) in
                    commerce_kit_ingestion::auth::sign_request(secret.expose_secret().as_bytes(), now, &body)
                {
                    request = request.header(name, value);
                }
            }
        }
        let mut report = format!("POST {}\n{}\n", self.url, String::from_utf8_lossy(&body));
        let status = match request.body(body).send().await {
            Err(e) => {
                report.push_str(&format!("no answer: {}\n", e.without_url()));
                EXIT_REFUSED
            }
            Ok(resp) => {
                let code = resp.status();
                let text = resp.text().await.unwrap_or_default();
                report.push_str(&format!("HTTP {}\n{text}\n", code.as_u16()));
                if code.is_success() { EXIT_OK } else { EXIT_REFUSED }
            }
        };
        Ok(Outcome { report, status })
    }
}

fn unknown_event(code: &str, catalog: &Catalog) -> ConfigError {
    let known: Vec<&str> = catalog.events().iter().map(|e| e.code()).collect();
    ConfigError(format!(
        "unknown event code {code:?}: not in the catalog (known: {}); pass --value to send it anyway",
        known.join(", ")
    ))
}

fn read_value(source: &str) -> Result<Value, ConfigError> {
    let text = if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| ConfigError(format!("--value: cannot read stdin: {e}")))?;
        text
    } else {
        std::fs::read_to_string(source).map_err(|e| ConfigError(format!("--value: cannot read {source}: {e}")))?
    };
    serde_json::from_str(&text).map_err(|e| ConfigError(format!("--value: {source} is not JSON: {e}")))
}

/// `commerce-kit schemas` arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct SchemasArgs {
    /// Write one `<name>.schema.json` per payload into this directory (created
    /// if needed) instead of printing them all as one JSON object.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The catalog whose event schemas are included.
    #[command(flatten)]
    pub catalog: CatalogArgs,
}

/// Every payload schema the kit accepts, by file name (without `.schema.json`).
pub fn schemas(catalog: &Catalog) -> Vec<(String, Value)> {
    let mut out = vec![
        (
            "check-stock.kit".to_owned(),
            commerce_kit_webhook::request::kit_body_schema(),
        ),
        (
            "check-stock.native".to_owned(),
            commerce_kit_webhook::request::native_body_schema(),
        ),
        (
            "stock-checker.request".to_owned(),
            commerce_kit_webhook::request::json_schema(),
        ),
        (
            "ingestion.request".to_owned(),
            commerce_kit_ingestion::payload::json_schema(catalog),
        ),
    ];
    for event in catalog.events() {
        if let Some(schema) = event.schema() {
            out.push((format!("event.{}", event.code()), schema.clone()));
        }
    }
    out
}

impl SchemasArgs {
    /// Prints or writes the schemas; returns what to print.
    pub fn run(&self) -> Result<String, ConfigError> {
        let catalog = self.catalog.load().map_err(|e| ConfigError(e.to_string()))?;
        let all = schemas(&catalog);
        match &self.out {
            None => {
                let object: serde_json::Map<String, Value> = all.into_iter().collect();
                Ok(format!(
                    "{}\n",
                    serde_json::to_string_pretty(&Value::Object(object)).unwrap_or_default()
                ))
            }
            Some(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| ConfigError(format!("--out: cannot create {}: {e}", dir.display())))?;
                let mut written = String::new();
                for (name, schema) in all {
                    let file = dir.join(format!("{name}.schema.json"));
                    let text = format!("{}\n", serde_json::to_string_pretty(&schema).unwrap_or_default());
                    std::fs::write(&file, text)
                        .map_err(|e| ConfigError(format!("--out: cannot write {}: {e}", file.display())))?;
                    written.push_str(&format!("{}\n", file.display()));
                }
                Ok(written)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_projection_is_what_the_registration_selects() {
        assert_eq!(
            simulated_body(SimulatedPayload::Fields, "24-MB01", "2"),
            json!({"product": {"sku": "24-MB01"}, "info": {"qty": "2"}})
        );
        let default = simulated_body(SimulatedPayload::Default, "24-MB01", "2");
        assert_eq!(default["eventName"], "checkout_cart_product_add_before");
        assert_eq!(default["data"]["product"]["sku"], "24-MB01");
        assert_eq!(default["data"]["info"]["qty"], "2");
    }

    #[test]
    fn commerces_reading_of_answers() {
        assert_eq!(Verdict::read(200, r#"{"op":"success"}"#), Verdict::Success);
        assert_eq!(
            Verdict::read(200, r#"[{"op":"success"},{"op":"exception","message":"no"}]"#),
            Verdict::Exception(Some("no".to_owned()))
        );
        assert_eq!(Verdict::read(200, r#"{"op":"exception"}"#), Verdict::Exception(None));
        assert_eq!(
            Verdict::read(401, "{}"),
            Verdict::Failed("HTTP 401; Commerce expects 200".to_owned())
        );
        assert_eq!(
            Verdict::read(200, "ok"),
            Verdict::Failed("the body is not a JSON operation or array of operations".to_owned())
        );
    }
}
