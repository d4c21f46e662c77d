//! The onboarding file: what should exist in Adobe I/O Events and in Commerce.
//!
//! JSON (the workspace has no YAML or TOML crate, and the starter kit's own
//! onboarding configuration — `events.json`, `providers.json` — is JSON too).
//! Unknown keys are refused, so a typo is an error naming it rather than a
//! setting silently ignored. [`OnboardFile::load`] reads and checks a file;
//! [`OnboardFile::resolve`] turns it, with the event catalog, into the
//! [`Desired`] state the converge engine works from.
//!
//! ```
//! use commerce_kit_model::catalog::Catalog;
//! use commerce_kit_onboard::spec::OnboardFile;
//!
//! let file: OnboardFile = serde_json::from_str(r#"{
//!   "providers": [{"key": "backoffice", "label": "Backoffice Provider"}],
//!   "registrations": [{"name": "ERP", "delivery_type": "journal", "events": [{"provider": "backoffice"}]}]
//! }"#).unwrap();
//! let desired = file.resolve(&Catalog::builtin(), None).unwrap();
//! // the provider's events default to the catalog's (the 13 be-observer events, with their samples)
//! assert_eq!(desired.providers[0].events.len(), 13);
//! assert!(desired.providers[0].events.iter().all(|e| e.sample.is_some()));
//! assert_eq!(desired.registrations[0].interests.len(), 13);
//! ```

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use commerce_kit_model::catalog::Catalog;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The prefix Commerce gives its events in I/O Events: a subscription named
/// `observer.X` (or `<prefix>.observer.X`) is delivered as `com.adobe.commerce.<name>`.
pub const COMMERCE_EVENT_CODE_PREFIX: &str = "com.adobe.commerce.";

/// `provider_metadata` of a Commerce events provider.
pub const COMMERCE_PROVIDER_METADATA: &str = "dx_commerce_events";

/// The file as written.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OnboardFile {
    /// Event providers in I/O Events.
    #[serde(default)]
    pub providers: Vec<ProviderSpec>,
    /// Event registrations (how events reach the consumer).
    #[serde(default)]
    pub registrations: Vec<RegistrationSpec>,
    /// Commerce's side: eventing configuration, subscriptions, the check-stock hook.
    #[serde(default)]
    pub commerce: Option<CommerceSpec>,
}

/// One event provider.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSpec {
    /// The name the rest of the file refers to it by (`backoffice`, `commerce`).
    pub key: String,
    /// Its label in I/O Events: how an existing provider is recognised.
    pub label: String,
    /// Its description.
    #[serde(default)]
    pub description: Option<String>,
    /// Its documentation URL.
    #[serde(default)]
    pub docs_url: Option<String>,
    /// Set for the provider Commerce publishes through (`dx_commerce_events`):
    /// Commerce's instance id (letters, digits, `_` and `-`). Commerce creates
    /// that provider's event metadata itself when it subscribes.
    #[serde(default)]
    pub instance_id: Option<String>,
    /// The provider's events (custom providers only). Absent: every catalog
    /// event of this provider key, with its sample.
    #[serde(default)]
    pub events: Option<Vec<EventSpec>>,
}

/// An event of a custom provider: its code alone, or with details.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum EventSpec {
    /// The code; label and description are the code, the sample the catalog's.
    Code(String),
    /// The code with details.
    Detailed(EventDetails),
}

/// An event with details.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventDetails {
    /// The event code.
    pub code: String,
    /// Its label (default: the code).
    #[serde(default)]
    pub label: Option<String>,
    /// Its description (default: the code).
    #[serde(default)]
    pub description: Option<String>,
    /// Its sample payload (default: the catalog's sample for the code, if any).
    #[serde(default)]
    pub sample: Option<Value>,
}

/// How I/O Events delivers a registration's events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryType {
    /// One HTTPS POST per event to `webhook_url`.
    Webhook,
    /// Batches (a JSON array) to `webhook_url`.
    WebhookBatch,
    /// A journal the consumer pulls from (no public endpoint needed).
    Journal,
}

impl DeliveryType {
    /// The API's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryType::Webhook => "webhook",
            DeliveryType::WebhookBatch => "webhook_batch",
            DeliveryType::Journal => "journal",
        }
    }
}

impl fmt::Display for DeliveryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One registration.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationSpec {
    /// Its name: how an existing registration is recognised.
    pub name: String,
    /// Its description (default: the name).
    #[serde(default)]
    pub description: Option<String>,
    /// `webhook`, `webhook_batch` or `journal`.
    pub delivery_type: DeliveryType,
    /// Where events are POSTed (webhook delivery types only).
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// The events of interest, per provider.
    pub events: Vec<InterestSpec>,
}

/// Events of one provider a registration wants.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InterestSpec {
    /// The provider's key.
    pub provider: String,
    /// The codes; absent: all of the provider's events (for the Commerce
    /// provider: every subscription of the `commerce` section).
    #[serde(default)]
    pub event_codes: Option<Vec<String>>,
}

/// Commerce's side.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CommerceSpec {
    /// The key of the provider Commerce publishes through (one with an `instance_id`).
    pub provider: String,
    /// The merchant id of the eventing configuration (letters, digits, `_`).
    pub merchant_id: String,
    /// The environment id of the eventing configuration (letters, digits, `_`).
    pub environment_id: String,
    /// The Developer Console workspace file (`<project>-<workspace>.json`),
    /// relative to the onboarding file; needed to configure eventing and to
    /// add the provider to Commerce. It holds credentials: never printed.
    #[serde(default)]
    pub workspace_configuration_file: Option<PathBuf>,
    /// The Commerce events to subscribe; absent: the starter kit's eight.
    #[serde(default)]
    pub subscriptions: Option<Vec<SubscriptionSpec>>,
    /// The check-stock hook.
    #[serde(default)]
    pub check_stock_hook: Option<HookSpec>,
}

/// One Commerce event subscription.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSpec {
    /// The subscription's name: `observer.X`, or `<prefix>.observer.X` with `parent`.
    pub name: String,
    /// The event it derives from, for a prefixed name.
    #[serde(default)]
    pub parent: Option<String>,
    /// The fields sent.
    pub fields: Vec<FieldSpec>,
}

/// A subscribed field: its name, or its name and source.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum FieldSpec {
    /// The field's name (its path in the event).
    Name(String),
    /// A field with a source path.
    Sourced {
        /// The name sent.
        name: String,
        /// Where it comes from.
        #[serde(default)]
        source: Option<String>,
    },
}

/// Where the check-stock hook is registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HookRegister {
    /// `POST /V1/webhooks/subscribe` on SaaS; the `webhooks.xml` snippet on PaaS.
    #[default]
    Auto,
    /// `POST /V1/webhooks/subscribe` (SaaS, or PaaS with the Webhooks module 1.13+).
    Rest,
    /// Print the `webhooks.xml` snippet only.
    Xml,
}

/// The check-stock hook: the options of `commerce-kit webhooks`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HookSpec {
    /// The check-stock URL Commerce calls.
    pub url: String,
    /// Hard timeout (ms), default 5000.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Soft timeout (ms), default 1000.
    #[serde(default)]
    pub soft_timeout_ms: Option<u64>,
    /// Whether a failure aborts the add-to-cart, default true.
    #[serde(default)]
    pub required: Option<bool>,
    /// What the shopper sees when the hook fails.
    #[serde(default)]
    pub fallback_message: Option<String>,
    /// Batch name, default `validate_stock`.
    #[serde(default)]
    pub batch_name: Option<String>,
    /// Hook name, default `check_stock`.
    #[serde(default)]
    pub hook_name: Option<String>,
    /// Where it is registered.
    #[serde(default)]
    pub register: HookRegister,
}

/// The file could not be read or is inconsistent. `Display` names the place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SpecError(pub String);

fn err(message: impl Into<String>) -> SpecError {
    SpecError(message.into())
}

/// A provider as it should be.
#[derive(Debug, Clone)]
pub struct DesiredProvider {
    /// Key in the file.
    pub key: String,
    /// Label.
    pub label: String,
    /// Description.
    pub description: Option<String>,
    /// Docs URL.
    pub docs_url: Option<String>,
    /// Commerce instance id (a Commerce provider).
    pub instance_id: Option<String>,
    /// Event metadata (custom providers).
    pub events: Vec<DesiredEvent>,
}

impl DesiredProvider {
    /// True for the provider Commerce publishes through.
    pub fn is_commerce(&self) -> bool {
        self.instance_id.is_some()
    }
}

/// Event metadata as it should be.
#[derive(Debug, Clone)]
pub struct DesiredEvent {
    /// Code.
    pub code: String,
    /// Label.
    pub label: String,
    /// Description.
    pub description: String,
    /// Sample payload (sent base64-encoded as `sample_event_template`).
    pub sample: Option<Value>,
}

/// A registration as it should be.
#[derive(Debug, Clone)]
pub struct DesiredRegistration {
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Delivery type.
    pub delivery_type: DeliveryType,
    /// Webhook URL (webhook types).
    pub webhook_url: Option<String>,
    /// `(provider key, event code)`, in file order, without repeats.
    pub interests: Vec<(String, String)>,
}

/// A Commerce subscription as it should be.
#[derive(Debug, Clone)]
pub struct DesiredSubscription {
    /// Name.
    pub name: String,
    /// Parent.
    pub parent: Option<String>,
    /// `(name, source)`.
    pub fields: Vec<(String, Option<String>)>,
}

impl DesiredSubscription {
    /// Its event code in I/O Events.
    pub fn event_code(&self) -> String {
        format!("{COMMERCE_EVENT_CODE_PREFIX}{}", self.name)
    }
}

/// Commerce's side as it should be.
#[derive(Clone)]
pub struct DesiredCommerce {
    /// Key of the Commerce provider.
    pub provider: String,
    /// Merchant id.
    pub merchant_id: String,
    /// Environment id.
    pub environment_id: String,
    /// The workspace file's text (credentials inside).
    pub workspace_configuration: Option<SecretString>,
    /// Where it came from (for messages).
    pub workspace_configuration_file: Option<PathBuf>,
    /// Subscriptions.
    pub subscriptions: Vec<DesiredSubscription>,
    /// The check-stock hook's options.
    pub hook: Option<HookSpec>,
}

impl fmt::Debug for DesiredCommerce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DesiredCommerce")
            .field("provider", &self.provider)
            .field("merchant_id", &self.merchant_id)
            .field("environment_id", &self.environment_id)
            .field(
                "workspace_configuration",
                &self.workspace_configuration.as_ref().map(|_| "<hidden>"),
            )
            .field("subscriptions", &self.subscriptions)
            .field("hook", &self.hook)
            .finish()
    }
}

/// Everything the file asks for, checked and with its defaults filled in.
#[derive(Debug, Clone)]
pub struct Desired {
    /// Providers.
    pub providers: Vec<DesiredProvider>,
    /// Registrations.
    pub registrations: Vec<DesiredRegistration>,
    /// Commerce.
    pub commerce: Option<DesiredCommerce>,
}

impl Desired {
    /// The provider with `key`.
    pub fn provider(&self, key: &str) -> Option<&DesiredProvider> {
        self.providers.iter().find(|p| p.key == key)
    }
}

/// The starter kit's Commerce subscriptions, with the fields its handlers read.
pub fn default_subscriptions() -> Vec<DesiredSubscription> {
    let product = ["id", "sku", "name", "created_at", "updated_at", "description"];
    let entries: [(&str, &[&str]); 8] = [
        ("observer.catalog_product_save_commit_after", &product),
        ("observer.catalog_product_delete_commit_after", &product),
        (
            "observer.customer_save_commit_after",
            &["id", "email", "firstname", "lastname", "created_at", "updated_at"],
        ),
        (
            "observer.customer_delete_commit_after",
            &["id", "email", "firstname", "lastname"],
        ),
        (
            "observer.customer_group_save_commit_after",
            &[
                "customer_group_code",
                "tax_class_id",
                "extension_attributes",
                "customer_group_id",
            ],
        ),
        (
            "observer.customer_group_delete_commit_after",
            &["customer_group_code", "customer_group_id", "tax_class_id"],
        ),
        (
            "observer.sales_order_save_commit_after",
            &["id", "increment_id", "created_at", "updated_at"],
        ),
        (
            "observer.cataloginventory_stock_item_save_commit_after",
            &["item_id", "product_id", "stock_id", "qty", "is_in_stock"],
        ),
    ];
    entries
        .iter()
        .map(|(name, fields)| DesiredSubscription {
            name: (*name).to_owned(),
            parent: None,
            fields: fields.iter().map(|f| ((*f).to_owned(), None)).collect(),
        })
        .collect()
}

fn non_empty(value: &str, what: &str) -> Result<String, SpecError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(err(format!("{what}: must not be empty")));
    }
    Ok(trimmed.to_owned())
}

fn word(value: &str, what: &str, extra: &[u8]) -> Result<String, SpecError> {
    let value = non_empty(value, what)?;
    if !value.bytes().all(|b| b.is_ascii_alphanumeric() || extra.contains(&b)) {
        let allowed = if extra.contains(&b'-') {
            "letters, digits, '_' and '-'"
        } else {
            "letters, digits and '_'"
        };
        return Err(err(format!("{what}: {value:?} may hold {allowed} only")));
    }
    Ok(value)
}

fn http_url(value: &str, what: &str) -> Result<String, SpecError> {
    let value = non_empty(value, what)?;
    let url = reqwest::Url::parse(&value).map_err(|e| err(format!("{what}: invalid URL {value:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(err(format!("{what}: {value:?} must be an http(s) URL with a host")));
    }
    Ok(value)
}

impl OnboardFile {
    /// Reads `path` (JSON). Errors name the file and, for JSON errors, the line and column.
    pub fn load(path: &Path) -> Result<OnboardFile, SpecError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| err(format!("onboarding file {}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| err(format!("onboarding file {}: {e}", path.display())))
    }

    /// Checks the file and fills in defaults: catalog events and samples,
    /// labels, the kit's subscriptions; reads the workspace file (relative
    /// paths from `base_dir`, the onboarding file's directory).
    pub fn resolve(&self, catalog: &Catalog, base_dir: Option<&Path>) -> Result<Desired, SpecError> {
        let mut providers = Vec::new();
        let mut keys = HashSet::new();
        let mut labels = HashSet::new();
        for (i, p) in self.providers.iter().enumerate() {
            let at = format!("providers[{i}]");
            let key = non_empty(&p.key, &format!("{at}.key"))?;
            if !keys.insert(key.clone()) {
                return Err(err(format!("{at}.key: provider key {key:?} is used twice")));
            }
            let label = non_empty(&p.label, &format!("{at}.label"))?;
            if !labels.insert(label.clone()) {
                return Err(err(format!(
                    "{at}.label: label {label:?} is used twice (providers are recognised by label)"
                )));
            }
            let instance_id = match &p.instance_id {
                Some(id) => Some(word(id, &format!("{at}.instance_id"), b"_-")?),
                None => None,
            };
            let docs_url = match &p.docs_url {
                Some(url) => Some(http_url(url, &format!("{at}.docs_url"))?),
                None => None,
            };
            let events = if instance_id.is_some() {
                if p.events.is_some() {
                    return Err(err(format!(
                        "{at}.events: the Commerce provider ({key}, with an instance_id) gets its event metadata from Commerce's subscriptions; list them under commerce.subscriptions"
                    )));
                }
                Vec::new()
            } else {
                resolve_events(&at, &key, p.events.as_deref(), catalog)?
            };
            providers.push(DesiredProvider {
                key,
                label,
                description: p.description.as_deref().map(str::trim).map(str::to_owned),
                docs_url,
                instance_id,
                events,
            });
        }

        let commerce = match &self.commerce {
            None => None,
            Some(c) => Some(resolve_commerce(c, &providers, base_dir)?),
        };

        let mut registrations = Vec::new();
        let mut names = HashSet::new();
        for (i, r) in self.registrations.iter().enumerate() {
            let at = format!("registrations[{i}]");
            let name = non_empty(&r.name, &format!("{at}.name"))?;
            if !names.insert(name.clone()) {
                return Err(err(format!(
                    "{at}.name: registration {name:?} is named twice (registrations are recognised by name)"
                )));
            }
            let webhook_url = match (r.delivery_type, &r.webhook_url) {
                (DeliveryType::Journal, Some(_)) => {
                    return Err(err(format!(
                        "{at}.webhook_url: a journal registration has no webhook_url (the consumer pulls its events)"
                    )));
                }
                (DeliveryType::Journal, None) => None,
                (kind, None) => {
                    return Err(err(format!("{at}.webhook_url: required with delivery_type {kind}")));
                }
                (_, Some(url)) => Some(http_url(url, &format!("{at}.webhook_url"))?),
            };
            let mut interests: Vec<(String, String)> = Vec::new();
            if r.events.is_empty() {
                return Err(err(format!("{at}.events: lists no events")));
            }
            for (j, interest) in r.events.iter().enumerate() {
                let at = format!("{at}.events[{j}]");
                let Some(provider) = providers.iter().find(|p| p.key == interest.provider) else {
                    return Err(err(format!(
                        "{at}.provider: no provider with key {:?} in providers",
                        interest.provider
                    )));
                };
                let known: Vec<String> = if provider.is_commerce() {
                    commerce
                        .as_ref()
                        .filter(|c| c.provider == provider.key)
                        .map(|c| c.subscriptions.iter().map(DesiredSubscription::event_code).collect())
                        .unwrap_or_default()
                } else {
                    provider.events.iter().map(|e| e.code.clone()).collect()
                };
                let codes = match &interest.event_codes {
                    None => {
                        if known.is_empty() {
                            return Err(err(format!(
                                "{at}: provider {:?} has no events to register for; list event_codes",
                                provider.key
                            )));
                        }
                        known
                    }
                    Some(codes) => {
                        let mut out = Vec::new();
                        for code in codes {
                            let code = non_empty(code, &format!("{at}.event_codes"))?;
                            if !provider.is_commerce() && !known.contains(&code) {
                                return Err(err(format!(
                                    "{at}.event_codes: {code:?} is not an event of provider {:?}",
                                    provider.key
                                )));
                            }
                            out.push(code);
                        }
                        out
                    }
                };
                for code in codes {
                    let pair = (provider.key.clone(), code);
                    if !interests.contains(&pair) {
                        interests.push(pair);
                    }
                }
            }
            registrations.push(DesiredRegistration {
                description: r
                    .description
                    .as_deref()
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .unwrap_or(&name)
                    .to_owned(),
                name,
                delivery_type: r.delivery_type,
                webhook_url,
                interests,
            });
        }
        Ok(Desired {
            providers,
            registrations,
            commerce,
        })
    }
}

fn resolve_events(
    at: &str,
    key: &str,
    events: Option<&[EventSpec]>,
    catalog: &Catalog,
) -> Result<Vec<DesiredEvent>, SpecError> {
    let sample_of = |code: &str| catalog.get(code).map(|e| e.sample().clone());
    let Some(events) = events else {
        let found: Vec<DesiredEvent> = catalog
            .events()
            .iter()
            .filter(|e| e.provider() == key)
            .map(|e| DesiredEvent {
                code: e.code().to_owned(),
                label: e.code().to_owned(),
                description: e.code().to_owned(),
                sample: Some(e.sample().clone()),
            })
            .collect();
        if found.is_empty() {
            return Err(err(format!(
                "{at}.events: the catalog has no events of provider {key:?}; list them"
            )));
        }
        return Ok(found);
    };
    let mut out: Vec<DesiredEvent> = Vec::new();
    let mut seen = BTreeSet::new();
    for (j, event) in events.iter().enumerate() {
        let at = format!("{at}.events[{j}]");
        let (code, label, description, sample) = match event {
            EventSpec::Code(code) => (code.clone(), None, None, None),
            EventSpec::Detailed(d) => (d.code.clone(), d.label.clone(), d.description.clone(), d.sample.clone()),
        };
        let code = non_empty(&code, &format!("{at}.code"))?;
        if !seen.insert(code.clone()) {
            return Err(err(format!("{at}: event {code:?} is listed twice")));
        }
        out.push(DesiredEvent {
            label: label.filter(|l| !l.trim().is_empty()).unwrap_or_else(|| code.clone()),
            description: description
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| code.clone()),
            sample: sample.or_else(|| sample_of(&code)),
            code,
        });
    }
    Ok(out)
}

fn resolve_commerce(
    c: &CommerceSpec,
    providers: &[DesiredProvider],
    base_dir: Option<&Path>,
) -> Result<DesiredCommerce, SpecError> {
    let Some(provider) = providers.iter().find(|p| p.key == c.provider) else {
        return Err(err(format!(
            "commerce.provider: no provider with key {:?} in providers",
            c.provider
        )));
    };
    if !provider.is_commerce() {
        return Err(err(format!(
            "commerce.provider: provider {:?} has no instance_id; the provider Commerce publishes through needs one",
            c.provider
        )));
    }
    let merchant_id = word(&c.merchant_id, "commerce.merchant_id", b"_")?;
    let environment_id = word(&c.environment_id, "commerce.environment_id", b"_")?;
    let (workspace_configuration, workspace_configuration_file) = match &c.workspace_configuration_file {
        None => (None, None),
        Some(path) => {
            let full = match base_dir {
                Some(dir) if path.is_relative() => dir.join(path),
                _ => path.clone(),
            };
            let text = std::fs::read_to_string(&full)
                .map_err(|e| err(format!("commerce.workspace_configuration_file {}: {e}", full.display())))?;
            if !serde_json::from_str::<Value>(&text).is_ok_and(|v| v.is_object()) {
                return Err(err(format!(
                    "commerce.workspace_configuration_file {}: not a JSON object (download it from the Developer Console workspace)",
                    full.display()
                )));
            }
            (Some(SecretString::from(text.trim().to_owned())), Some(full))
        }
    };
    let subscriptions = match &c.subscriptions {
        None => default_subscriptions(),
        Some(list) => {
            let mut out = Vec::new();
            let mut names = HashSet::new();
            for (i, s) in list.iter().enumerate() {
                let at = format!("commerce.subscriptions[{i}]");
                let name = non_empty(&s.name, &format!("{at}.name"))?;
                if !names.insert(name.clone()) {
                    return Err(err(format!("{at}.name: {name:?} is subscribed twice")));
                }
                if !name.starts_with("observer.") && !name.starts_with("plugin.") && s.parent.is_none() {
                    return Err(err(format!(
                        "{at}.name: {name:?} is neither observer.* nor plugin.*; a prefixed name needs its parent"
                    )));
                }
                if s.fields.is_empty() {
                    return Err(err(format!("{at}.fields: lists no fields")));
                }
                let mut fields = Vec::new();
                for field in &s.fields {
                    let (fname, source) = match field {
                        FieldSpec::Name(n) => (n.clone(), None),
                        FieldSpec::Sourced { name, source } => (name.clone(), source.clone()),
                    };
                    fields.push((non_empty(&fname, &format!("{at}.fields"))?, source));
                }
                out.push(DesiredSubscription {
                    name,
                    parent: s.parent.clone(),
                    fields,
                });
            }
            out
        }
    };
    if let Some(hook) = &c.check_stock_hook {
        http_url(&hook.url, "commerce.check_stock_hook.url")?;
    }
    Ok(DesiredCommerce {
        provider: c.provider.clone(),
        merchant_id,
        environment_id,
        workspace_configuration,
        workspace_configuration_file,
        subscriptions,
        hook: c.check_stock_hook.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(json: &str) -> Result<Desired, SpecError> {
        let file: OnboardFile = serde_json::from_str(json).map_err(|e| SpecError(e.to_string()))?;
        file.resolve(&Catalog::builtin(), None)
    }

    #[test]
    fn inconsistent_files_are_refused_naming_the_place() {
        let cases = [
            (
                r#"{"providers":[{"key":"a","label":"A","instance_id":"x"},{"key":"a","label":"B","instance_id":"y"}]}"#,
                "providers[1].key: provider key \"a\" is used twice",
            ),
            (
                r#"{"providers":[{"key":"x","label":"X"}]}"#,
                "providers[0].events: the catalog has no events of provider \"x\"; list them",
            ),
            (
                r#"{"providers":[{"key":"backoffice","label":"B"}],"registrations":[{"name":"r","delivery_type":"webhook","events":[{"provider":"backoffice"}]}]}"#,
                "registrations[0].webhook_url: required with delivery_type webhook",
            ),
            (
                r#"{"providers":[{"key":"backoffice","label":"B"}],"registrations":[{"name":"r","delivery_type":"journal","events":[{"provider":"nope"}]}]}"#,
                "registrations[0].events[0].provider: no provider with key \"nope\" in providers",
            ),
            (
                r#"{"providers":[{"key":"backoffice","label":"B"}],"registrations":[{"name":"r","delivery_type":"journal","events":[{"provider":"backoffice","event_codes":["be-observer.nope"]}]}]}"#,
                "registrations[0].events[0].event_codes: \"be-observer.nope\" is not an event of provider \"backoffice\"",
            ),
            (
                r#"{"providers":[{"key":"c","label":"C","instance_id":"shop 1"}]}"#,
                "providers[0].instance_id: \"shop 1\" may hold letters, digits, '_' and '-' only",
            ),
            (
                r#"{"providers":[{"key":"c","label":"C","instance_id":"shop"}],"commerce":{"provider":"c","merchant_id":"acme-inc","environment_id":"prod"}}"#,
                "commerce.merchant_id: \"acme-inc\" may hold letters, digits and '_' only",
            ),
            (
                r#"{"providers":[{"key":"backoffice","label":"B"}],"commerce":{"provider":"backoffice","merchant_id":"a","environment_id":"b"}}"#,
                "commerce.provider: provider \"backoffice\" has no instance_id; the provider Commerce publishes through needs one",
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(resolve(json).expect_err(json).to_string(), expected);
        }
        let typo = serde_json::from_str::<OnboardFile>(r#"{"provider":[]}"#).expect_err("typo");
        assert!(typo.to_string().contains("unknown field `provider`"), "{typo}");
    }

    #[test]
    fn commerce_events_come_from_the_subscriptions() {
        let desired = resolve(
            r#"{"providers":[{"key":"commerce","label":"Commerce","instance_id":"shop-1"}],
                "registrations":[{"name":"r","delivery_type":"journal","events":[{"provider":"commerce"}]}],
                "commerce":{"provider":"commerce","merchant_id":"acme","environment_id":"prod"}}"#,
        )
        .expect("valid");
        let codes: Vec<&str> = desired.registrations[0]
            .interests
            .iter()
            .map(|(_, c)| c.as_str())
            .collect();
        assert_eq!(codes.len(), 8);
        assert_eq!(
            codes[0],
            "com.adobe.commerce.observer.catalog_product_save_commit_after"
        );
    }
}
