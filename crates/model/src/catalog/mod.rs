//! The event catalog: entities → event codes, each with a sample payload and a
//! JSON Schema of its `value`.
//!
//! [`Catalog::builtin`] is the starter kit's list of back-office events
//! (`be-observer.*`: product, customer, customer-group, order, stock). A
//! starter-kit style `events.json` can extend or replace it (see
//! [`Catalog::load`] and [`CatalogMode`]). Schemas are compiled once, when the
//! catalog is built; [`Catalog::validate`] is then cheap.
//!
//! ```
//! use commerce_kit_model::catalog::Catalog;
//! use serde_json::json;
//!
//! let catalog = Catalog::builtin();
//! assert!(catalog.get("be-observer.catalog_stock_update").is_some());
//! let ok = json!({"sku": "A", "name": "Bag", "price": 10.5, "description": "d"});
//! assert!(catalog.validate("be-observer.catalog_product_create", &ok).is_ok());
//!
//! let bad = json!({"sku": "A", "name": "Bag", "price": "1", "description": "d"});
//! assert_eq!(
//!     catalog.validate("be-observer.catalog_product_create", &bad).unwrap_err().to_string(),
//!     r#"invalid value for event 'be-observer.catalog_product_create' at '/price': "1" is not of type "number""#
//! );
//! assert_eq!(
//!     catalog.validate("be-observer.nope", &ok).unwrap_err().to_string(),
//!     "unknown event 'be-observer.nope'"
//! );
//! ```

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value, json};

mod builtin;
mod error;
mod file;
pub mod payload;

pub use builtin::BACKOFFICE;
pub use error::{CatalogError, ValueError};

/// How an `events.json` combines with the built-in catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CatalogMode {
    /// The file's events are added to the built-in ones; a code defined in both
    /// takes the file's sample (and schema, if the file gives one).
    #[default]
    Extend,
    /// Only the file's events exist.
    Replace,
}

/// Longest event code echoed back in an error message.
const MAX_ECHOED_CODE: usize = 120;

/// Longest validator reason kept in an error message (it may quote the value).
const MAX_REASON: usize = 300;

/// One event of the catalog.
#[derive(Clone)]
pub struct CatalogEvent {
    entity: String,
    provider: String,
    code: String,
    sample: Value,
    schema: Option<Value>,
    validator: Option<Arc<jsonschema::Validator>>,
}

impl std::fmt::Debug for CatalogEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatalogEvent")
            .field("entity", &self.entity)
            .field("provider", &self.provider)
            .field("code", &self.code)
            .field("has_schema", &self.schema.is_some())
            .finish()
    }
}

impl CatalogEvent {
    /// Compiles `schema` (when given) and checks `sample` against it.
    /// The error is the problem only; callers add where it comes from.
    fn new(entity: &str, provider: &str, code: &str, sample: Value, schema: Option<Value>) -> Result<Self, String> {
        let validator = match &schema {
            Some(s) => Some(Arc::new(
                jsonschema::validator_for(s).map_err(|e| format!("invalid JSON Schema: {}", describe(&e)))?,
            )),
            None => None,
        };
        let event = CatalogEvent {
            entity: entity.to_owned(),
            provider: provider.to_owned(),
            code: code.to_owned(),
            sample,
            schema,
            validator,
        };
        event
            .validate(&event.sample)
            .map_err(|e| format!("sampleEventTemplate does not match the schema: {e}"))?;
        Ok(event)
    }

    /// The entity, e.g. `product`.
    pub fn entity(&self) -> &str {
        &self.entity
    }

    /// The provider key, `backoffice` for the built-in events.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The event code, e.g. `be-observer.catalog_product_create`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// A sample `value` (the kit's `sampleEventTemplate`); it satisfies the schema.
    pub fn sample(&self) -> &Value {
        &self.sample
    }

    /// The JSON Schema of `value`, if the event has one (events from a file
    /// without a schema accept any value).
    pub fn schema(&self) -> Option<&Value> {
        self.schema.as_ref()
    }

    /// Checks `value` against this event's schema.
    pub fn validate(&self, value: &Value) -> Result<(), ValueError> {
        let Some(validator) = &self.validator else {
            return Ok(());
        };
        if validator.is_valid(value) {
            return Ok(());
        }
        let mut errors = validator.iter_errors(value);
        let Some(first) = errors.next() else {
            return Ok(());
        };
        let more = errors.count();
        let pointer = first.instance_path().as_str();
        Err(ValueError::Invalid {
            event: self.code.clone(),
            pointer: if pointer.is_empty() {
                "/".to_owned()
            } else {
                pointer.to_owned()
            },
            reason: truncate(&first.to_string(), MAX_REASON),
            more,
        })
    }
}

/// The set of known events, in a stable order (built-in order, then file order).
#[derive(Debug, Clone)]
pub struct Catalog {
    events: Vec<CatalogEvent>,
    by_code: HashMap<String, usize>,
    source: Option<PathBuf>,
}

impl Catalog {
    /// The built-in catalog (the starter kit's back-office events).
    pub fn builtin() -> Catalog {
        let mut catalog = Catalog::empty(None);
        for (entity, code, sample, schema) in builtin::entries() {
            // The built-in entries are checked by this crate's tests; a failure
            // here is a bug, so it is surfaced loudly but without panicking.
            match CatalogEvent::new(entity, BACKOFFICE, code, sample, Some(schema)) {
                Ok(event) => catalog.insert(event),
                Err(problem) => tracing::error!(event = code, "built-in catalog entry is broken: {problem}"),
            }
        }
        catalog
    }

    /// The built-in catalog, extended or replaced by `file` when given.
    pub fn load(file: Option<&Path>, mode: CatalogMode) -> Result<Catalog, CatalogError> {
        match file {
            None => Ok(Catalog::builtin()),
            Some(path) => file::load(path, mode),
        }
    }

    fn empty(source: Option<PathBuf>) -> Catalog {
        Catalog {
            events: Vec::new(),
            by_code: HashMap::new(),
            source,
        }
    }

    /// Adds `event`, replacing an event with the same code in place.
    fn insert(&mut self, event: CatalogEvent) {
        match self.by_code.get(&event.code) {
            Some(&at) => self.events[at] = event,
            None => {
                self.by_code.insert(event.code.clone(), self.events.len());
                self.events.push(event);
            }
        }
    }

    /// The event with this code.
    pub fn get(&self, code: &str) -> Option<&CatalogEvent> {
        self.by_code.get(code).map(|&at| &self.events[at])
    }

    /// Every event, built-in order first, then the file's.
    pub fn events(&self) -> &[CatalogEvent] {
        &self.events
    }

    /// The `events.json` this catalog was loaded from (`None` for the built-in one).
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// True when there are no events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Checks that `code` is known and `value` satisfies its schema.
    pub fn validate(&self, code: &str, value: &Value) -> Result<&CatalogEvent, ValueError> {
        let event = self
            .get(code)
            .ok_or_else(|| ValueError::UnknownEvent(truncate(code, MAX_ECHOED_CODE)))?;
        event.validate(value)?;
        Ok(event)
    }

    /// The catalog in the starter kit's `events.json` layout
    /// (`{entity: {provider: {code: {sampleEventTemplate, schema}}}}`); loading
    /// this output back gives the same catalog.
    pub fn to_events_json(&self) -> Value {
        let mut root = Map::new();
        for event in &self.events {
            let entity = root
                .entry(event.entity.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Some(entity) = entity.as_object_mut() else { continue };
            let provider = entity
                .entry(event.provider.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            let Some(provider) = provider.as_object_mut() else {
                continue;
            };
            let mut entry = json!({"sampleEventTemplate": event.sample});
            if let (Some(schema), Some(obj)) = (&event.schema, entry.as_object_mut()) {
                obj.insert("schema".into(), schema.clone());
            }
            provider.insert(event.code.clone(), entry);
        }
        Value::Object(root)
    }
}

/// Cuts `s` to at most `max` characters, marking the cut.
fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

/// A schema compilation error with where in the schema it happened.
fn describe(err: &jsonschema::ValidationError<'_>) -> String {
    let at = err.instance_path().as_str();
    if at.is_empty() {
        truncate(&err.to_string(), MAX_REASON)
    } else {
        format!("{} (at '{at}' in the schema)", truncate(&err.to_string(), MAX_REASON))
    }
}
