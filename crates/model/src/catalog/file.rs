//! Loading an `events.json` in the starter kit's layout:
//!
//! ```json
//! {
//!   "product": {
//!     "backoffice": {
//!       "be-observer.catalog_product_create": {
//!         "sampleEventTemplate": {"sku": "A", "name": "n", "price": 1, "description": "d"},
//!         "schema": "schemas/product-create.json"
//!       }
//!     }
//!   }
//! }
//! ```
//!
//! `schema` is ours (optional): a path relative to the `events.json` file, or an
//! inline JSON Schema. An event of the built-in catalog redefined without a
//! schema keeps the built-in schema; a new event without one accepts any value.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Catalog, CatalogError, CatalogEvent, CatalogMode};

const SAMPLE: &str = "sampleEventTemplate";
const SCHEMA: &str = "schema";

pub(super) fn load(path: &Path, mode: CatalogMode) -> Result<Catalog, CatalogError> {
    let fail = |problem: String| CatalogError {
        file: path.to_owned(),
        problem,
    };
    let text = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    let root = parse(&text).map_err(fail)?;
    let Value::Object(entities) = root else {
        return Err(fail(format!(
            "expected an object of entities like {{\"product\": {{\"backoffice\": {{…}}}}}}, found {}",
            kind(&root)
        )));
    };
    let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let builtin = Catalog::builtin();
    let mut catalog = match mode {
        CatalogMode::Extend => Catalog {
            source: Some(path.to_owned()),
            ..builtin.clone()
        },
        CatalogMode::Replace => Catalog::empty(Some(path.to_owned())),
    };
    // code → (entity, provider) of its definition in this file, to refuse duplicates.
    let mut seen: std::collections::HashMap<String, (String, String)> = std::collections::HashMap::new();
    for (entity, providers) in &entities {
        let Value::Object(providers) = providers else {
            return Err(fail(format!(
                "entity '{entity}' must be an object of providers (e.g. \"backoffice\"), found {}",
                kind(providers)
            )));
        };
        for (provider, events) in providers {
            let Value::Object(events) = events else {
                return Err(fail(format!(
                    "entity '{entity}', provider '{provider}' must be an object of event codes, found {}",
                    kind(events)
                )));
            };
            for (code, entry) in events {
                if code.trim().is_empty() {
                    return Err(fail(format!(
                        "entity '{entity}', provider '{provider}': an event code is empty"
                    )));
                }
                if let Some((e, p)) = seen.insert(code.clone(), (entity.clone(), provider.clone())) {
                    return Err(fail(format!(
                        "event '{code}' is defined twice (in '{e}/{p}' and '{entity}/{provider}')"
                    )));
                }
                let event = entry_to_event(entity, provider, code, entry, &base_dir, &builtin)
                    .map_err(|problem| fail(format!("event '{code}': {problem}")))?;
                catalog.insert(event);
            }
        }
    }
    if catalog.is_empty() {
        return Err(fail(
            "defines no events (with EVENTS_CATALOG_MODE=replace the catalog would be empty)".into(),
        ));
    }
    Ok(catalog)
}

fn entry_to_event(
    entity: &str,
    provider: &str,
    code: &str,
    entry: &Value,
    base_dir: &Path,
    builtin: &Catalog,
) -> Result<CatalogEvent, String> {
    let Value::Object(entry) = entry else {
        return Err(format!(
            "expected an object with '{SAMPLE}' (and optionally '{SCHEMA}'), found {}",
            kind(entry)
        ));
    };
    if let Some(unknown) = entry.keys().find(|k| *k != SAMPLE && *k != SCHEMA) {
        return Err(format!(
            "unknown key '{unknown}' (expected '{SAMPLE}' and optionally '{SCHEMA}')"
        ));
    }
    let sample = entry
        .get(SAMPLE)
        .cloned()
        .ok_or_else(|| format!("'{SAMPLE}' is missing"))?;
    let schema = match entry.get(SCHEMA) {
        Some(spec) => Some(schema_from(spec, base_dir)?),
        None => builtin.get(code).and_then(|e| e.schema().cloned()),
    };
    CatalogEvent::new(entity, provider, code, sample, schema)
}

/// A schema given inline (object or boolean) or as a path relative to the catalog file.
fn schema_from(spec: &Value, base_dir: &Path) -> Result<Value, String> {
    match spec {
        Value::Object(_) | Value::Bool(_) => Ok(spec.clone()),
        Value::String(rel) => {
            let path: PathBuf = base_dir.join(rel);
            let text = std::fs::read(&path).map_err(|e| format!("schema file {}: cannot read: {e}", path.display()))?;
            parse(&text).map_err(|e| format!("schema file {}: {e}", path.display()))
        }
        other => Err(format!(
            "'{SCHEMA}' must be a file path (relative to the catalog file) or an inline JSON Schema, found {}",
            kind(other)
        )),
    }
}

/// Parses JSON, with line and column on failure.
fn parse(bytes: &[u8]) -> Result<Value, String> {
    use commerce_kit_core::body::{BodyError, parse_json};
    parse_json(bytes).map_err(|e| match e {
        BodyError::Empty => "the file is empty".to_owned(),
        other => other.to_string(),
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
