//! The converge engine: reads what exists, creates what is missing, updates
//! what differs, keeps the rest; never creates a second copy of an object.
//!
//! Objects are recognised by their natural key: a provider by its label, event
//! metadata by its code within its provider, a registration by its name, a
//! Commerce subscription by its name, the check-stock hook by (method, type,
//! batch, hook name), Commerce's eventing configuration by the default
//! provider Commerce reports, the Commerce-side provider by its provider id.
//!
//! Order: I/O providers and their event metadata, then Commerce (eventing
//! configuration, provider, subscriptions, the hook), then the registrations
//! (whose Commerce events exist once Commerce has subscribed).
//!
//! With [`Mode::DryRun`] only reads are sent. With [`Mode::Apply`] the first
//! failure stops the run: the [`Report`] names the object, the call and
//! Adobe's or Commerce's own message; what was done before it stays done, and
//! a rerun continues from there (it reads the state again).

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::future::Future;

use base64::Engine as _;
use commerce_kit_commerce_api::{CommerceClient, encode_segment};
use http::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::io::IoManagement;
use crate::spec::{COMMERCE_PROVIDER_METADATA, Desired, DesiredProvider, HookRegister};

/// Dry run or real run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Read only; the report is the plan.
    DryRun,
    /// Read and write.
    Apply,
}

/// The check-stock hook's Commerce registration, as `commerce-kit webhooks` generates it.
#[derive(Clone)]
pub struct HookRegistration {
    /// The `webhooks.xml` `<method>` element (PaaS).
    pub xml: String,
    /// The `POST /V1/webhooks/subscribe` body: `{"webhook": {...}}`.
    pub subscribe_body: Value,
    /// A placeholder in `subscribe_body` (e.g. `$COMMERCE_WEBHOOK_IMS_CLIENT_SECRET`)
    /// and the secret sent in its place; never shown.
    pub secret: Option<(String, SecretString)>,
}

impl std::fmt::Debug for HookRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookRegistration")
            .field("xml", &self.xml)
            .field("subscribe_body", &self.subscribe_body)
            .field("secret", &self.secret.as_ref().map(|(p, _)| (p, "<hidden>")))
            .finish()
    }
}

/// Where to converge.
#[derive(Debug, Clone, Copy)]
pub struct Targets<'a> {
    /// The I/O Management API.
    pub io: &'a IoManagement,
    /// Commerce (required when the file has a `commerce` section).
    pub commerce: Option<&'a CommerceClient>,
    /// The check-stock hook's registration (when the file has one).
    pub hook: Option<&'a HookRegistration>,
}

/// Which system an object lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum System {
    /// Adobe I/O Events (I/O Management API).
    AdobeIo,
    /// Adobe Commerce (REST API).
    Commerce,
}

/// What happens to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// It is missing: created.
    Create,
    /// It differs: updated.
    Update,
    /// It matches: left alone.
    Keep,
}

/// One object of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// Where it lives.
    pub system: System,
    /// What it is, e.g. `provider "Backoffice Provider"`.
    pub object: String,
    /// Create, update or keep.
    pub action: Action,
    /// The write call (`METHOD /path`), none for keep.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    /// For an update, the fields that differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// True once the write succeeded (false in a dry run, and for keep).
    pub done: bool,
}

impl Step {
    /// A write not yet done: `action` on `object` through `call` (`METHOD /path`).
    fn write(system: System, object: String, action: Action, call: String, changes: Vec<String>) -> Self {
        Self {
            system,
            object,
            action,
            call: Some(call),
            changes,
            done: false,
        }
    }

    /// A create through `call`.
    fn create(system: System, object: String, call: String) -> Self {
        Self::write(system, object, Action::Create, call, Vec::new())
    }

    /// An update of the fields in `changes` through `call`.
    fn update(system: System, object: String, call: String, changes: Vec<String>) -> Self {
        Self::write(system, object, Action::Update, call, changes)
    }
}

/// The failure that stopped a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// The object.
    pub object: String,
    /// The call (`METHOD /path`).
    pub call: String,
    /// Adobe's or Commerce's message.
    pub message: String,
}

/// Something to do by hand (the PaaS `webhooks.xml` snippet).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manual {
    /// The object.
    pub object: String,
    /// What to do.
    pub instructions: String,
    /// The text to paste.
    pub snippet: String,
}

/// What a run found and did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// Whether it was a dry run.
    pub dry_run: bool,
    /// Every object looked at, in order.
    pub steps: Vec<Step>,
    /// What to do by hand.
    pub manual: Vec<Manual>,
    /// The failure that stopped the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Failure>,
}

/// Counts of a report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Objects to create (dry run) or created.
    pub create: usize,
    /// Objects to update or updated.
    pub update: usize,
    /// Objects that match.
    pub keep: usize,
    /// Writes done.
    pub done: usize,
}

impl Report {
    /// The counts.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for step in &self.steps {
            match step.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Keep => s.keep += 1,
            }
            if step.done {
                s.done += 1;
            }
        }
        s
    }

    /// True when everything already matched (and nothing failed).
    pub fn nothing_to_do(&self) -> bool {
        self.failure.is_none() && self.steps.iter().all(|s| s.action == Action::Keep)
    }

    /// The report as JSON (for `--output json`).
    pub fn to_json(&self) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(map) = value.as_object_mut() {
            map.insert(
                "summary".into(),
                serde_json::to_value(self.summary()).unwrap_or(Value::Null),
            );
            map.insert("nothing_to_do".into(), Value::Bool(self.nothing_to_do()));
        }
        value
    }

    /// The report for a person.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let mut system = None;
        for step in &self.steps {
            if system != Some(step.system) {
                system = Some(step.system);
                out.push_str(match step.system {
                    System::AdobeIo => "Adobe I/O Events\n",
                    System::Commerce => "Commerce\n",
                });
            }
            let verb = match (step.action, self.dry_run, step.done) {
                (Action::Keep, _, _) => "keep   ",
                (Action::Create, _, true) => "created",
                (Action::Update, _, true) => "updated",
                (Action::Create, _, false) => "create ",
                (Action::Update, _, false) => "update ",
            };
            let _ = write!(out, "  {verb} {}", step.object);
            if !step.changes.is_empty() {
                let _ = write!(out, " ({})", step.changes.join(", "));
            }
            if let Some(call) = &step.call {
                let _ = write!(out, "  [{call}]");
            }
            out.push('\n');
        }
        for manual in &self.manual {
            let _ = writeln!(out, "By hand: {}: {}", manual.object, manual.instructions);
            out.push_str(&manual.snippet);
            if !manual.snippet.ends_with('\n') {
                out.push('\n');
            }
        }
        let s = self.summary();
        if let Some(failure) = &self.failure {
            let _ = writeln!(
                out,
                "FAILED: {}: {} failed: {}",
                failure.object, failure.call, failure.message
            );
            let _ = writeln!(
                out,
                "{} change(s) made before it stay done; run again to continue from there",
                s.done
            );
        } else if self.nothing_to_do() {
            let _ = writeln!(out, "nothing to do: {} object(s) already match the file", s.keep);
        } else if self.dry_run {
            let _ = writeln!(
                out,
                "dry run: {} to create, {} to update, {} unchanged; nothing was changed",
                s.create, s.update, s.keep
            );
        } else {
            let _ = writeln!(
                out,
                "done: {} created, {} updated, {} unchanged",
                s.create, s.update, s.keep
            );
        }
        out
    }
}

/// The run stopped (the report holds why).
struct Stop;

struct Engine<'a> {
    desired: &'a Desired,
    targets: Targets<'a>,
    mode: Mode,
    report: Report,
    /// Provider key → I/O provider id (absent: to be created, in a dry run).
    provider_ids: HashMap<String, String>,
}

/// A placeholder for the id of a provider a dry run would create.
const NEW_ID: &str = "<new>";

fn show_new(call: String) -> String {
    call.replace(&encode_segment(NEW_ID), NEW_ID)
}

fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn as_list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(list) => list,
        _ => Vec::new(),
    }
}

fn sample_base64(sample: &Value) -> String {
    base64::engine::general_purpose::STANDARD.encode(serde_json::to_vec(sample).unwrap_or_default())
}

fn decode_sample(encoded: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Converges Adobe I/O Events and Commerce to `desired` and reports what it found and did.
pub async fn converge(desired: &Desired, targets: Targets<'_>, mode: Mode) -> Report {
    let mut engine = Engine {
        desired,
        targets,
        mode,
        report: Report {
            dry_run: mode == Mode::DryRun,
            ..Report::default()
        },
        provider_ids: HashMap::new(),
    };
    let _ = engine.run().await;
    engine.report
}

impl Engine<'_> {
    async fn run(&mut self) -> Result<(), Stop> {
        self.providers().await?;
        self.commerce().await?;
        self.registrations().await?;
        Ok(())
    }

    fn fail(&mut self, object: &str, call: &str, message: impl Into<String>) -> Stop {
        self.report.failure = Some(Failure {
            object: object.to_owned(),
            call: call.to_owned(),
            message: message.into(),
        });
        Stop
    }

    fn keep(&mut self, system: System, object: String) {
        self.report.steps.push(Step {
            system,
            object,
            action: Action::Keep,
            call: None,
            changes: Vec::new(),
            done: false,
        });
    }

    /// Records a write; in a real run sends it (`send` is not polled in a dry run).
    async fn write<E: std::fmt::Display>(
        &mut self,
        mut step: Step,
        send: impl Future<Output = Result<Value, E>>,
    ) -> Result<Option<Value>, Stop> {
        step.call = step.call.map(show_new);
        if self.mode == Mode::DryRun {
            self.report.steps.push(step);
            return Ok(None);
        }
        match send.await {
            Ok(value) => {
                step.done = true;
                self.report.steps.push(step);
                Ok(Some(value))
            }
            Err(err) => {
                let call = step.call.clone().unwrap_or_default();
                Err(self.fail(&step.object, &call, err.to_string()))
            }
        }
    }

    fn read<T, E: std::fmt::Display>(&mut self, object: &str, call: &str, result: Result<T, E>) -> Result<T, Stop> {
        result.map_err(|err| self.fail(object, call, err.to_string()))
    }

    // ---- Adobe I/O: providers and event metadata ----

    async fn providers(&mut self) -> Result<(), Stop> {
        if self.desired.providers.is_empty() {
            return Ok(());
        }
        let io = self.targets.io;
        let list_call = io.list_providers_call();
        let existing = io.providers().await;
        let existing = self.read("providers", &list_call, existing)?;
        for provider in &self.desired.providers {
            let object = format!("provider \"{}\"", provider.label);
            let matches: Vec<&Value> = existing
                .iter()
                .filter(|p| text(p, "label").as_deref() == Some(provider.label.as_str()))
                .collect();
            let found = match matches.as_slice() {
                [] => None,
                [one] => Some(*one),
                _ => {
                    let ids: Vec<String> = matches.iter().filter_map(|p| text(p, "id")).collect();
                    return Err(self.fail(
                        &object,
                        &list_call,
                        format!(
                            "{} providers carry this label ({}): remove the extra ones in the Developer Console, onboarding will not guess",
                            matches.len(),
                            ids.join(", ")
                        ),
                    ));
                }
            };
            match found {
                None => {
                    let mut body = Map::new();
                    body.insert("label".into(), json!(provider.label));
                    if let Some(d) = &provider.description {
                        body.insert("description".into(), json!(d));
                    }
                    if let Some(d) = &provider.docs_url {
                        body.insert("docs_url".into(), json!(d));
                    }
                    if let Some(instance) = &provider.instance_id {
                        body.insert("provider_metadata".into(), json!(COMMERCE_PROVIDER_METADATA));
                        body.insert("instance_id".into(), json!(instance));
                    }
                    let body = Value::Object(body);
                    let step = Step::create(System::AdobeIo, object.clone(), io.create_provider_call());
                    if let Some(created) = self.write(step, io.create_provider(&body)).await?
                        && let Some(id) = text(&created, "id")
                    {
                        self.provider_ids.insert(provider.key.clone(), id);
                    }
                }
                Some(current) => {
                    let id = text(current, "id").unwrap_or_default();
                    self.provider_ids.insert(provider.key.clone(), id.clone());
                    if let Some(instance) = &provider.instance_id {
                        let theirs = text(current, "instance_id");
                        if theirs.as_deref().is_some_and(|t| t != instance) {
                            return Err(self.fail(
                                &object,
                                &list_call,
                                format!(
                                    "it exists (id {id}) with instance_id {:?}, the file says {instance:?}; an instance id cannot be changed: fix the file or give the provider another label",
                                    theirs.unwrap_or_default()
                                ),
                            ));
                        }
                    }
                    let mut changes = Vec::new();
                    if let Some(d) = &provider.description
                        && text(current, "description").as_deref() != Some(d.as_str())
                    {
                        changes.push("description".to_owned());
                    }
                    if let Some(d) = &provider.docs_url
                        && text(current, "docs_url").as_deref() != Some(d.as_str())
                    {
                        changes.push("docs_url".to_owned());
                    }
                    if changes.is_empty() {
                        self.keep(System::AdobeIo, object);
                    } else {
                        let mut body = Map::new();
                        body.insert("label".into(), json!(provider.label));
                        if let Some(d) = &provider.description {
                            body.insert("description".into(), json!(d));
                        }
                        if let Some(d) = &provider.docs_url {
                            body.insert("docs_url".into(), json!(d));
                        }
                        let body = Value::Object(body);
                        let step = Step::update(System::AdobeIo, object, io.update_provider_call(&id), changes);
                        self.write(step, io.update_provider(&id, &body)).await?;
                    }
                }
            }
            if !provider.is_commerce() {
                self.metadata(provider).await?;
            }
        }
        Ok(())
    }

    async fn metadata(&mut self, provider: &DesiredProvider) -> Result<(), Stop> {
        let io = self.targets.io;
        let id = self.provider_ids.get(&provider.key).cloned();
        let existing = match &id {
            Some(id) => {
                let call = io.list_metadata_call(id);
                let object = format!("event metadata of provider \"{}\"", provider.label);
                let list = io.event_metadata(id).await;
                self.read(&object, &call, list)?
            }
            None => Vec::new(),
        };
        let provider_id = id.unwrap_or_else(|| NEW_ID.to_owned());
        for event in &provider.events {
            let object = format!("event {} of provider \"{}\"", event.code, provider.label);
            let current = existing
                .iter()
                .find(|m| text(m, "event_code").as_deref() == Some(event.code.as_str()));
            let mut body = Map::new();
            body.insert("event_code".into(), json!(event.code));
            body.insert("label".into(), json!(event.label));
            body.insert("description".into(), json!(event.description));
            if let Some(sample) = &event.sample {
                body.insert("sample_event_template".into(), json!(sample_base64(sample)));
            }
            let body = Value::Object(body);
            let Some(current) = current else {
                let step = Step::create(System::AdobeIo, object, io.create_metadata_call(&provider_id));
                self.write(step, io.create_event_metadata(&provider_id, &body)).await?;
                continue;
            };
            let mut changes = Vec::new();
            if text(current, "label").as_deref() != Some(event.label.as_str()) {
                changes.push("label".to_owned());
            }
            if text(current, "description").as_deref() != Some(event.description.as_str()) {
                changes.push("description".to_owned());
            }
            if let Some(sample) = &event.sample {
                let theirs = self.current_sample(current, &object).await?;
                if theirs.as_ref() != Some(sample) {
                    changes.push("sample_event_template".to_owned());
                }
            }
            if changes.is_empty() {
                self.keep(System::AdobeIo, object);
                continue;
            }
            let step = Step::update(
                System::AdobeIo,
                object,
                io.update_metadata_call(&provider_id, &event.code),
                changes,
            );
            self.write(step, io.update_event_metadata(&provider_id, &event.code, &body))
                .await?;
        }
        Ok(())
    }

    /// The sample template of existing metadata: embedded, or behind its `rel:sample_event` link.
    async fn current_sample(&mut self, metadata: &Value, object: &str) -> Result<Option<Value>, Stop> {
        if let Some(encoded) = metadata
            .pointer("/_embedded/sample_event/sample_payload")
            .and_then(Value::as_str)
        {
            return Ok(decode_sample(encoded));
        }
        if let Some(encoded) = metadata.get("sample_event_template").and_then(Value::as_str) {
            return Ok(decode_sample(encoded));
        }
        let Some(href) = metadata
            .pointer("/_links/rel:sample_event/href")
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            return Ok(None);
        };
        match self.targets.io.follow(&href).await {
            Ok(sample) => Ok(sample
                .get("sample_payload")
                .and_then(Value::as_str)
                .and_then(decode_sample)),
            // No sample yet: the template is missing, so it differs.
            Err(err) if err.status() == Some(404) => Ok(None),
            Err(err) => Err(self.fail(object, &format!("GET {href}"), err.to_string())),
        }
    }

    // ---- Adobe I/O: registrations ----

    async fn registrations(&mut self) -> Result<(), Stop> {
        if self.desired.registrations.is_empty() {
            return Ok(());
        }
        let io = self.targets.io;
        let list_call = io.list_registrations_call();
        let existing = io.registrations().await;
        let existing = self.read("registrations", &list_call, existing)?;
        for registration in &self.desired.registrations {
            let object = format!("registration \"{}\"", registration.name);
            let interests: Vec<(String, String)> = registration
                .interests
                .iter()
                .map(|(key, code)| {
                    let id = self.provider_ids.get(key).cloned().unwrap_or_else(|| NEW_ID.to_owned());
                    (id, code.clone())
                })
                .collect();
            let events: Vec<Value> = interests
                .iter()
                .map(|(id, code)| json!({"provider_id": id, "event_code": code}))
                .collect();
            let mut body = Map::new();
            body.insert("name".into(), json!(registration.name));
            body.insert("description".into(), json!(registration.description));
            body.insert("delivery_type".into(), json!(registration.delivery_type.as_str()));
            if let Some(url) = &registration.webhook_url {
                body.insert("webhook_url".into(), json!(url));
            }
            body.insert("events_of_interest".into(), Value::Array(events));
            let current = existing
                .iter()
                .find(|r| text(r, "name").as_deref() == Some(registration.name.as_str()));
            let Some(current) = current else {
                body.insert("client_id".into(), json!(io.client_id()));
                let body = Value::Object(body);
                let step = Step::create(System::AdobeIo, object, io.create_registration_call());
                self.write(step, io.create_registration(&body)).await?;
                continue;
            };
            let mut changes = Vec::new();
            if text(current, "description").as_deref() != Some(registration.description.as_str()) {
                changes.push("description".to_owned());
            }
            if text(current, "delivery_type").as_deref() != Some(registration.delivery_type.as_str()) {
                changes.push("delivery_type".to_owned());
            }
            if registration.webhook_url.is_some() && text(current, "webhook_url") != registration.webhook_url {
                changes.push("webhook_url".to_owned());
            }
            let theirs: BTreeSet<(String, String)> = current
                .get("events_of_interest")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|e| Some((text(e, "provider_id")?, text(e, "event_code")?)))
                        .collect()
                })
                .unwrap_or_default();
            let ours: BTreeSet<(String, String)> = interests.into_iter().collect();
            if theirs != ours {
                changes.push("events_of_interest".to_owned());
            }
            if changes.is_empty() {
                self.keep(System::AdobeIo, object);
                continue;
            }
            let Some(registration_id) = text(current, "registration_id").or_else(|| text(current, "id")) else {
                return Err(self.fail(&object, &list_call, "the listed registration has no registration_id"));
            };
            let body = Value::Object(body);
            let step = Step::update(
                System::AdobeIo,
                object,
                io.update_registration_call(&registration_id),
                changes,
            );
            self.write(step, io.update_registration(&registration_id, &body))
                .await?;
        }
        Ok(())
    }

    // ---- Commerce ----

    async fn commerce(&mut self) -> Result<(), Stop> {
        let Some(spec) = &self.desired.commerce else {
            return Ok(());
        };
        let Some(client) = self.targets.commerce else {
            return Err(self.fail(
                "Commerce",
                "-",
                "the file has a commerce section but no Commerce connection is configured (COMMERCE_BASE_URL and its credentials)",
            ));
        };
        let Some(provider) = self.desired.provider(&spec.provider) else {
            return Ok(());
        };
        let provider_id = self.provider_ids.get(&provider.key).cloned();
        let shown_id = provider_id.clone().unwrap_or_else(|| NEW_ID.to_owned());

        // Eventing configuration, and the provider as Commerce knows it.
        let list_call = "GET /V1/eventing/eventProvider";
        let listed = client
            .request(Method::GET, "/V1/eventing/eventProvider", &[], None)
            .await;
        let known = as_list(self.read("Commerce event providers", list_call, listed)?);
        let configured = known.iter().any(|p| {
            text(p, "id").is_none_or(|id| id.is_empty())
                && text(p, "workspace_configuration").is_some_and(|w| !w.is_empty())
        });
        let object = "Commerce eventing configuration".to_owned();
        if configured {
            self.keep(System::Commerce, object);
        } else {
            let call = "PUT /V1/eventing/updateConfiguration";
            let Some(workspace) = &spec.workspace_configuration else {
                return Err(self.fail(
                    &object,
                    call,
                    "Commerce has no workspace configuration yet: set commerce.workspace_configuration_file (the Developer Console workspace JSON)",
                ));
            };
            let step = Step::create(System::Commerce, object, call.to_owned());
            let body = json!({"config": {
                "enabled": true,
                "merchant_id": spec.merchant_id,
                "environment_id": spec.environment_id,
                "workspace_configuration": workspace.expose_secret(),
            }});
            self.write(
                step,
                client.request(Method::PUT, "/V1/eventing/updateConfiguration", &[], Some(&body)),
            )
            .await?;
        }

        let object = format!("Commerce event provider \"{}\"", provider.label);
        let present = provider_id
            .as_deref()
            .is_some_and(|id| known.iter().any(|p| text(p, "provider_id").as_deref() == Some(id)));
        if present {
            self.keep(System::Commerce, object);
        } else {
            let mut event_provider = Map::new();
            event_provider.insert("provider_id".into(), json!(shown_id));
            event_provider.insert("instance_id".into(), json!(provider.instance_id));
            event_provider.insert("label".into(), json!(provider.label));
            if let Some(d) = &provider.description {
                event_provider.insert("description".into(), json!(d));
            }
            if let Some(workspace) = &spec.workspace_configuration {
                event_provider.insert("workspace_configuration".into(), json!(workspace.expose_secret()));
            }
            let body = json!({"eventProvider": Value::Object(event_provider)});
            let step = Step::create(System::Commerce, object, "POST /V1/eventing/eventProvider".to_owned());
            self.write(
                step,
                client.request(Method::POST, "/V1/eventing/eventProvider", &[], Some(&body)),
            )
            .await?;
        }

        // Event subscriptions.
        let list_call = "GET /V1/eventing/getEventSubscriptions";
        let listed = client
            .request(Method::GET, "/V1/eventing/getEventSubscriptions", &[], None)
            .await;
        let subscribed = as_list(self.read("Commerce event subscriptions", list_call, listed)?);
        for subscription in &spec.subscriptions {
            let object = format!("Commerce subscription {}", subscription.name);
            let fields: Vec<Value> = subscription
                .fields
                .iter()
                .map(|(name, source)| match source {
                    Some(source) => json!({"name": name, "source": source}),
                    None => json!({"name": name}),
                })
                .collect();
            let mut event = Map::new();
            event.insert("name".into(), json!(subscription.name));
            if let Some(parent) = &subscription.parent {
                event.insert("parent".into(), json!(parent));
            }
            event.insert("provider_id".into(), json!(shown_id));
            event.insert("fields".into(), Value::Array(fields));
            let current = subscribed
                .iter()
                .find(|s| text(s, "name").as_deref() == Some(subscription.name.as_str()));
            let Some(current) = current else {
                let body = json!({"event": Value::Object(event)});
                let step = Step::create(System::Commerce, object, "POST /V1/eventing/eventSubscribe".to_owned());
                self.write(
                    step,
                    client.request(Method::POST, "/V1/eventing/eventSubscribe", &[], Some(&body)),
                )
                .await?;
                continue;
            };
            let theirs: Vec<(String, Option<String>)> = current
                .get("fields")
                .and_then(Value::as_array)
                .map(|list| {
                    list.iter()
                        .filter_map(|f| Some((text(f, "name")?, text(f, "source").filter(|s| !s.is_empty()))))
                        .collect()
                })
                .unwrap_or_default();
            let mut changes = Vec::new();
            let missing = subscription.fields.iter().any(|(name, source)| {
                !theirs
                    .iter()
                    .any(|(n, s)| n == name && (source.is_none() || s == source))
            });
            if missing {
                changes.push("fields".to_owned());
            }
            if provider_id.is_none() || text(current, "provider_id") != provider_id {
                changes.push("provider_id".to_owned());
            }
            if subscription.parent.is_some() && text(current, "parent") != subscription.parent {
                changes.push("parent".to_owned());
            }
            if changes.is_empty() {
                self.keep(System::Commerce, object);
                continue;
            }
            event.remove("name");
            let body = json!({"event": Value::Object(event)});
            let path = format!("/V1/eventing/eventSubscribe/{}", encode_segment(&subscription.name));
            let step = Step::update(System::Commerce, object, format!("PUT {path}"), changes);
            self.write(step, client.request(Method::PUT, &path, &[], Some(&body)))
                .await?;
        }

        // The check-stock hook.
        if let (Some(hook_spec), Some(hook)) = (&spec.hook, self.targets.hook) {
            let rest = match hook_spec.register {
                HookRegister::Rest => true,
                HookRegister::Xml => false,
                HookRegister::Auto => client.endpoint().is_saas(),
            };
            if rest {
                self.hook(client, hook).await?;
            } else {
                self.report.manual.push(Manual {
                    object: "check-stock hook".to_owned(),
                    instructions: "PaaS: add this to app/etc/webhooks.xml inside <config> (or set \"register\": \"rest\" with the Webhooks module 1.13+)".to_owned(),
                    snippet: hook.xml.clone(),
                });
            }
        }
        Ok(())
    }

    async fn hook(&mut self, client: &CommerceClient, hook: &HookRegistration) -> Result<(), Stop> {
        let wanted = hook.subscribe_body.get("webhook").cloned().unwrap_or(Value::Null);
        let key = |v: &Value| {
            (
                text(v, "webhook_method"),
                text(v, "webhook_type"),
                text(v, "batch_name"),
                text(v, "hook_name"),
            )
        };
        let object = format!(
            "check-stock hook {}/{}",
            text(&wanted, "batch_name").unwrap_or_default(),
            text(&wanted, "hook_name").unwrap_or_default()
        );
        let list_call = "GET /V1/webhooks/list";
        let listed = client.request(Method::GET, "/V1/webhooks/list", &[], None).await;
        let hooks = as_list(self.read(&object, list_call, listed)?);
        let current = hooks.iter().find(|h| key(h) == key(&wanted));
        let action = match current {
            None => Action::Create,
            Some(current) => {
                let mut changes = Vec::new();
                for field in ["url", "fallback_error_message"] {
                    if text(current, field) != text(&wanted, field) {
                        changes.push(field.to_owned());
                    }
                }
                for field in ["timeout", "soft_timeout"] {
                    let number = |v: &Value| match v.get(field) {
                        Some(Value::Number(n)) => n.as_u64(),
                        Some(Value::String(s)) => s.parse().ok(),
                        _ => None,
                    };
                    if number(current) != number(&wanted) {
                        changes.push(field.to_owned());
                    }
                }
                let flag = |v: &Value| match v.get("required") {
                    Some(Value::Bool(b)) => Some(*b),
                    Some(Value::Number(n)) => Some(n.as_u64() != Some(0)),
                    Some(Value::String(s)) => Some(matches!(s.as_str(), "1" | "true")),
                    _ => None,
                };
                if flag(current) != flag(&wanted) {
                    changes.push("required".to_owned());
                }
                let fields = |v: &Value| -> BTreeSet<(String, String)> {
                    v.get("fields")
                        .and_then(Value::as_array)
                        .map(|list| {
                            list.iter()
                                .filter_map(|f| {
                                    let name = text(f, "name")?;
                                    let source = text(f, "source").unwrap_or_else(|| name.clone());
                                    Some((name, source))
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                };
                if fields(current) != fields(&wanted) {
                    changes.push("fields".to_owned());
                }
                if changes.is_empty() {
                    self.keep(System::Commerce, object);
                    return Ok(());
                }
                let step = Step::update(
                    System::Commerce,
                    object.clone(),
                    "POST /V1/webhooks/subscribe".to_owned(),
                    changes,
                );
                let body = with_secret(&hook.subscribe_body, hook.secret.as_ref());
                self.write(
                    step,
                    client.request(Method::POST, "/V1/webhooks/subscribe", &[], Some(&body)),
                )
                .await?;
                return Ok(());
            }
        };
        let step = Step::write(
            System::Commerce,
            object,
            action,
            "POST /V1/webhooks/subscribe".to_owned(),
            Vec::new(),
        );
        let body = with_secret(&hook.subscribe_body, hook.secret.as_ref());
        self.write(
            step,
            client.request(Method::POST, "/V1/webhooks/subscribe", &[], Some(&body)),
        )
        .await?;
        Ok(())
    }
}

/// The body with the secret's placeholder replaced by the secret (what is sent, never shown).
fn with_secret(body: &Value, secret: Option<&(String, SecretString)>) -> Value {
    let Some((placeholder, secret)) = secret else {
        return body.clone();
    };
    fn walk(value: &mut Value, placeholder: &str, secret: &str) {
        match value {
            Value::String(s) if s == placeholder => *s = secret.to_owned(),
            Value::Array(list) => list.iter_mut().for_each(|v| walk(v, placeholder, secret)),
            Value::Object(map) => map.values_mut().for_each(|v| walk(v, placeholder, secret)),
            _ => {}
        }
    }
    let mut body = body.clone();
    walk(&mut body, placeholder, secret.expose_secret());
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_replaces_its_placeholder_only_in_what_is_sent() {
        let body = json!({"webhook": {"developer_console_oauth": {"client_secret": "$S", "client_id": "id"}}});
        let secret = ("$S".to_owned(), SecretString::from("p8e-secret".to_owned()));
        let sent = with_secret(&body, Some(&secret));
        assert_eq!(
            sent["webhook"]["developer_console_oauth"]["client_secret"],
            "p8e-secret"
        );
        assert_eq!(body["webhook"]["developer_console_oauth"]["client_secret"], "$S");
    }

    #[test]
    fn samples_compare_by_meaning_not_by_bytes() {
        let ours = json!({"a": 1, "b": [1, 2]});
        let theirs = base64::engine::general_purpose::STANDARD.encode(br#"{ "b": [1,2], "a": 1 }"#);
        assert_eq!(decode_sample(&theirs), Some(ours));
        assert_eq!(decode_sample("not base64!"), None);
    }
}
