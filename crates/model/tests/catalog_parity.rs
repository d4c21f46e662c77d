//! Parity of the built-in catalog with the starter kit's legacy contract: the
//! kit's own sample of every back-office event is accepted, our schemas
//! require what the kit's `schema.json` files require (at every level), with
//! the same types and the same rule for unlisted fields, and leaving out any
//! required field is refused with a message naming it and where it was.
//!
//! The kit's facts are in `tests/fixtures/starter_kit` (see its README for the
//! repository, paths and commit they come from).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use commerce_kit_model::catalog::payload::*;
use commerce_kit_model::catalog::{Catalog, ValueError};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One event's facts from the kit.
struct KitEvent {
    code: String,
    sample: Value,
    /// The kit's `schema.json` path, for failure messages.
    kit_schema: String,
    levels: Vec<Level>,
}

/// One object (or array) the kit's schema describes.
struct Level {
    /// Where in the value: `""` the value itself, `/comment` a field, `/items/*` each entry.
    at: String,
    /// `object` or `array`.
    kind: String,
    required: Vec<String>,
    types: BTreeMap<String, String>,
    /// `Some(true)` when the kit refuses fields it does not list.
    refuses_extra: Option<bool>,
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/starter_kit")
}

fn read_json(name: &str) -> Value {
    let path = fixtures_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The event codes the fixtures cover, from the `*.sample.json` file names.
fn kit_codes() -> BTreeSet<String> {
    let entries = std::fs::read_dir(fixtures_dir()).expect("fixtures dir");
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".sample.json"))
                .map(str::to_owned)
        })
        .collect()
}

fn kit_event(code: &str) -> KitEvent {
    let sample = read_json(&format!("{code}.sample.json"));
    let contract = read_json(&format!("{code}.contract.json"));
    assert_eq!(contract["event"], code, "{code}.contract.json names another event");
    let levels = contract["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .map(|l| Level {
            at: l["at"].as_str().expect("at").to_owned(),
            kind: l["type"].as_str().expect("type").to_owned(),
            required: strings(&l["required"]),
            types: l["types"]
                .as_object()
                .map(|t| {
                    t.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().expect("type name").to_owned()))
                        .collect()
                })
                .unwrap_or_default(),
            refuses_extra: l["extra_fields"].as_str().map(|r| r == "refused"),
        })
        .collect();
    KitEvent {
        code: code.to_owned(),
        sample,
        kit_schema: contract["kit_schema"].as_str().expect("kit_schema").to_owned(),
        levels,
    }
}

/// Every kit event, in the built-in catalog's order.
fn kit_events() -> Vec<KitEvent> {
    Catalog::builtin()
        .events()
        .iter()
        .map(|e| kit_event(e.code()))
        .collect()
}

/// Follows `$ref`s (local, `#/…`) from `node` within `root`.
fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    while let Some(target) = node.get("$ref").and_then(Value::as_str) {
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("non-local $ref {target}"));
        node = root
            .pointer(pointer)
            .unwrap_or_else(|| panic!("dangling $ref {target}"));
    }
    node
}

/// Our schema of the level at `at` (`*` steps into array entries).
fn our_level<'a>(schema: &'a Value, at: &str) -> &'a Value {
    let mut node = resolve(schema, schema);
    for step in at.split('/').filter(|s| !s.is_empty()) {
        let next = if step == "*" {
            &node["items"]
        } else {
            &node["properties"][step]
        };
        assert!(!next.is_null(), "our schema has no '{step}' on the way to '{at}'");
        node = resolve(schema, next);
    }
    node
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The object at `at` in `value` (`*` is the first entry) and its concrete pointer.
fn object_at<'a>(value: &'a mut Value, at: &str) -> (&'a mut serde_json::Map<String, Value>, String) {
    let mut node = value;
    let mut pointer = String::new();
    for step in at.split('/').filter(|s| !s.is_empty()) {
        node = if step == "*" {
            pointer.push_str("/0");
            node.get_mut(0)
        } else {
            pointer.push('/');
            pointer.push_str(step);
            node.get_mut(step)
        }
        .unwrap_or_else(|| panic!("the kit's sample has nothing at '{at}'"));
    }
    if pointer.is_empty() {
        pointer.push('/');
    }
    (node.as_object_mut().expect("an object"), pointer)
}

#[test]
fn builtin_event_codes_are_exactly_the_kits_thirteen() {
    let ours: BTreeSet<String> = Catalog::builtin()
        .events()
        .iter()
        .map(|e| e.code().to_owned())
        .collect();
    let kit = kit_codes();
    assert_eq!(kit.len(), 13, "{kit:?}");
    assert_eq!(ours, kit);
}

#[test]
fn the_kits_sample_of_every_event_is_accepted_as_ingestion_validates_it() {
    // The ingestion webhook calls `Catalog::validate(event, value)` on the
    // catalog it was given; the built-in one when no file is configured.
    let catalog = Catalog::builtin();
    for kit in kit_events() {
        assert_eq!(
            catalog.validate(&kit.code, &kit.sample).map(|e| e.code()),
            Ok(kit.code.as_str()),
            "the kit's sample of {} ({})",
            kit.code,
            kit.sample
        );
    }
}

#[test]
fn our_required_fields_match_the_kits_at_every_level() {
    let catalog = Catalog::builtin();
    let mut levels_checked = 0;
    for kit in kit_events() {
        let schema = catalog.get(&kit.code).and_then(|e| e.schema()).expect("schema");
        for level in &kit.levels {
            let ours = our_level(schema, &level.at);
            assert_eq!(
                ours["type"], level.kind,
                "{} at '{}' (kit: {})",
                kit.code, level.at, kit.kit_schema
            );
            if level.kind != "object" {
                continue;
            }
            assert_eq!(
                sorted(strings(&ours["required"])),
                sorted(level.required.clone()),
                "required of {} at '{}' (kit: {})",
                kit.code,
                level.at,
                kit.kit_schema
            );
            levels_checked += 1;
        }
    }
    // 12 top-level objects (stock update's value is an array), 3 nested
    // objects in each shipment event, stock update's entries.
    assert_eq!(levels_checked, 12 + 3 + 3 + 1);
}

#[test]
fn our_field_types_and_unlisted_field_rules_match_the_kits() {
    let catalog = Catalog::builtin();
    for kit in kit_events() {
        let schema = catalog.get(&kit.code).and_then(|e| e.schema()).expect("schema");
        for level in kit.levels.iter().filter(|l| l.kind == "object") {
            let ours = our_level(schema, &level.at);
            let listed: BTreeSet<&String> = ours["properties"]
                .as_object()
                .map(|p| p.keys().collect())
                .unwrap_or_default();
            assert_eq!(
                listed,
                level.types.keys().collect(),
                "fields of {} at '{}'",
                kit.code,
                level.at
            );
            for (field, ty) in &level.types {
                let prop = resolve(schema, &ours["properties"][field]);
                assert_eq!(prop["type"], *ty, "type of {} at '{}/{field}'", kit.code, level.at);
            }
            let refuses = ours.get("additionalProperties") == Some(&Value::Bool(false));
            assert_eq!(
                Some(refuses),
                level.refuses_extra,
                "unlisted fields of {} at '{}'",
                kit.code,
                level.at
            );
        }
    }
}

#[test]
fn leaving_out_any_field_the_kit_requires_is_refused_naming_it() {
    let catalog = Catalog::builtin();
    let mut refusals = 0;
    for kit in kit_events() {
        for level in &kit.levels {
            for field in &level.required {
                let mut value = kit.sample.clone();
                let (object, pointer) = object_at(&mut value, &level.at);
                assert!(
                    object.remove(field).is_some(),
                    "the kit's sample of {} has {field}",
                    kit.code
                );
                let err = catalog.validate(&kit.code, &value).expect_err(field);
                assert_eq!(
                    err.to_string(),
                    format!(
                        r#"invalid value for event '{}' at '{pointer}': "{field}" is a required property"#,
                        kit.code
                    )
                );
                assert_eq!(
                    err,
                    ValueError::Invalid {
                        event: kit.code.clone(),
                        pointer,
                        reason: format!(r#""{field}" is a required property"#),
                        more: 0,
                    }
                );
                refusals += 1;
            }
        }
    }
    // product 3+4+1, customer 3+4+1, group 2+3+1, order status 2,
    // shipment create 5+2+3+2, shipment update 6+3+4+4, stock 4.
    assert_eq!(refusals, 8 + 8 + 6 + 2 + 12 + 17 + 4);
}

fn deserializes<T: DeserializeOwned>(kit: &KitEvent) {
    if let Err(e) = serde_json::from_value::<T>(kit.sample.clone()) {
        panic!("the kit's sample of {} does not fit our type: {e}", kit.code);
    }
}

#[test]
fn the_kits_samples_deserialize_into_our_payload_types() {
    for kit in kit_events() {
        match kit.code.as_str() {
            "be-observer.catalog_product_create" => deserializes::<ProductCreate>(&kit),
            "be-observer.catalog_product_update" => deserializes::<ProductUpdate>(&kit),
            "be-observer.catalog_product_delete" => deserializes::<ProductDelete>(&kit),
            "be-observer.customer_create" => deserializes::<CustomerCreate>(&kit),
            "be-observer.customer_update" => deserializes::<CustomerUpdate>(&kit),
            "be-observer.customer_delete" | "be-observer.customer_group_delete" => deserializes::<DeleteById>(&kit),
            "be-observer.customer_group_create" => deserializes::<CustomerGroupCreate>(&kit),
            "be-observer.customer_group_update" => deserializes::<CustomerGroupUpdate>(&kit),
            "be-observer.sales_order_status_update" => deserializes::<OrderStatusUpdate>(&kit),
            "be-observer.sales_order_shipment_create" => deserializes::<ShipmentCreate>(&kit),
            "be-observer.sales_order_shipment_update" => deserializes::<ShipmentUpdate>(&kit),
            "be-observer.catalog_stock_update" => deserializes::<Vec<StockUpdateItem>>(&kit),
            other => panic!("no type for {other}"),
        }
    }
}
