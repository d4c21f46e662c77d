//! Extending and replacing the catalog from an `events.json` file, and the
//! start-up error for every way such a file can be wrong.

use std::path::{Path, PathBuf};

use commerce_kit_model::catalog::{Catalog, CatalogMode};
use serde_json::{Value, json};

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        Dir(tempfile::tempdir().expect("tmp"))
    }
    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.path().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, content).expect("write");
        path
    }
    fn json(&self, name: &str, content: &Value) -> PathBuf {
        self.write(name, &serde_json::to_string_pretty(content).expect("json"))
    }
}

fn err(path: &Path, mode: CatalogMode) -> String {
    Catalog::load(Some(path), mode).expect_err("must fail").to_string()
}

#[test]
fn extend_adds_events_with_schema_files_relative_to_the_catalog() {
    let dir = Dir::new();
    dir.json(
        "schemas/promo.json",
        &json!({"type": "object", "required": ["code"], "properties": {"code": {"type": "string"}}}),
    );
    let file = dir.json(
        "events.json",
        &json!({"promotion": {"backoffice": {
            "be-observer.promotion_create": {"sampleEventTemplate": {"code": "SUMMER"}, "schema": "schemas/promo.json"},
            "be-observer.promotion_ping": {"sampleEventTemplate": {"anything": true}}
        }}}),
    );
    let catalog = Catalog::load(Some(&file), CatalogMode::Extend).expect("load");
    assert_eq!(catalog.len(), 15, "13 built-in + 2");
    assert!(
        catalog.get("be-observer.catalog_product_create").is_some(),
        "built-ins kept"
    );
    let promo = catalog.get("be-observer.promotion_create").expect("added");
    assert_eq!((promo.entity(), promo.provider()), ("promotion", "backoffice"));
    assert!(
        catalog
            .validate("be-observer.promotion_create", &json!({"code": "X"}))
            .is_ok()
    );
    assert_eq!(
        catalog
            .validate("be-observer.promotion_create", &json!({"code": 5}))
            .expect_err("invalid")
            .to_string(),
        r#"invalid value for event 'be-observer.promotion_create' at '/code': 5 is not of type "string""#
    );
    // No schema: any value is accepted.
    assert!(catalog.validate("be-observer.promotion_ping", &json!([1, "x"])).is_ok());
    assert!(
        catalog
            .get("be-observer.promotion_ping")
            .expect("added")
            .schema()
            .is_none()
    );
    assert_eq!(catalog.source(), Some(file.as_path()));
}

#[test]
fn redefining_a_builtin_event_without_schema_keeps_the_builtin_schema() {
    let dir = Dir::new();
    let file = dir.json(
        "events.json",
        &json!({"product": {"backoffice": {
            "be-observer.catalog_product_delete": {"sampleEventTemplate": {"sku": "OTHER"}}
        }}}),
    );
    let catalog = Catalog::load(Some(&file), CatalogMode::Extend).expect("load");
    assert_eq!(catalog.len(), 13);
    let event = catalog.get("be-observer.catalog_product_delete").expect("kept");
    assert_eq!(event.sample(), &json!({"sku": "OTHER"}));
    assert!(
        catalog.validate(event.code(), &json!({"sku": "A", "x": 1})).is_err(),
        "built-in schema still applies"
    );
    let order: Vec<_> = catalog.events().iter().map(|e| e.code()).collect();
    assert_eq!(order[2], "be-observer.catalog_product_delete", "replaced in place");
}

#[test]
fn replace_keeps_only_the_files_events_with_inline_schemas() {
    let dir = Dir::new();
    let file = dir.json(
        "events.json",
        &json!({"thing": {"erp": {
            "erp.thing_changed": {
                "sampleEventTemplate": {"id": 1},
                "schema": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}
            }
        }}}),
    );
    let catalog = Catalog::load(Some(&file), CatalogMode::Replace).expect("load");
    assert_eq!(
        catalog.events().iter().map(|e| e.code()).collect::<Vec<_>>(),
        ["erp.thing_changed"]
    );
    assert_eq!(
        catalog
            .validate("be-observer.catalog_product_create", &json!({}))
            .expect_err("gone")
            .to_string(),
        "unknown event 'be-observer.catalog_product_create'"
    );
    assert_eq!(catalog.get("erp.thing_changed").expect("there").provider(), "erp");
}

#[test]
fn the_starter_kits_own_events_json_layout_loads() {
    // Trimmed from the starter kit's onboarding/config/events.json: commerce and
    // backoffice providers side by side, customer groups under "customer".
    let dir = Dir::new();
    let file = dir.write(
        "events.json",
        r#"{
  "product": {
    "commerce": {
      "com.adobe.commerce.observer.catalog_product_save_commit_after": {
        "sampleEventTemplate": {"id": "12345", "sku": "SKU", "name": "Duffel bag", "created_at": "created_at",
                                "updated_at": "updated_at", "description": "Comfortable sporty duffel bag"}
      }
    },
    "backoffice": {
      "be-observer.catalog_product_create": {
        "sampleEventTemplate": {"sku": "POSTBUSTER_TEST", "name": "PostBusterTest", "price": 0.0, "description": "Post Buster Test"}
      }
    }
  },
  "customer": {
    "backoffice": {
      "be-observer.customer_group_create": {"sampleEventTemplate": {"name": "PostBuster", "taxClassId": 3}}
    }
  }
}"#,
    );
    let catalog = Catalog::load(Some(&file), CatalogMode::Extend).expect("load");
    assert_eq!(catalog.len(), 14);
    let commerce = catalog
        .get("com.adobe.commerce.observer.catalog_product_save_commit_after")
        .expect("commerce event");
    assert_eq!(commerce.provider(), "commerce");
    assert_eq!(
        catalog
            .get("be-observer.customer_group_create")
            .expect("group")
            .entity(),
        "customer"
    );
}

#[test]
fn malformed_files_are_startup_errors_naming_the_file_and_the_problem() {
    let dir = Dir::new();
    let p = |name: &str| dir.0.path().join(name).display().to_string();
    dir.json("schemas/bad.json", &json!({"type": 5}));
    dir.write("schemas/notjson.json", "{ nope");
    let cases: Vec<(&str, String, String)> = vec![
        ("invalid-json.json", "{\"product\": ".into(), "invalid JSON at line 1 column 12: EOF while parsing a value".into()),
        ("empty.json", " \n".into(), "the file is empty".into()),
        (
            "array.json",
            "[]".into(),
            "expected an object of entities like {\"product\": {\"backoffice\": {…}}}, found an array".into(),
        ),
        (
            "entity.json",
            r#"{"product": ["x"]}"#.into(),
            "entity 'product' must be an object of providers (e.g. \"backoffice\"), found an array".into(),
        ),
        (
            "provider.json",
            r#"{"product": {"backoffice": "x"}}"#.into(),
            "entity 'product', provider 'backoffice' must be an object of event codes, found a string".into(),
        ),
        (
            "entry.json",
            r#"{"product": {"backoffice": {"e.x": 5}}}"#.into(),
            "event 'e.x': expected an object with 'sampleEventTemplate' (and optionally 'schema'), found a number".into(),
        ),
        (
            "nosample.json",
            r#"{"product": {"backoffice": {"e.x": {}}}}"#.into(),
            "event 'e.x': 'sampleEventTemplate' is missing".into(),
        ),
        (
            "typo.json",
            r#"{"product": {"backoffice": {"e.x": {"sampleEventTemplate": {}, "shema": "a.json"}}}}"#.into(),
            "event 'e.x': unknown key 'shema' (expected 'sampleEventTemplate' and optionally 'schema')".into(),
        ),
        (
            "schematype.json",
            r#"{"product": {"backoffice": {"e.x": {"sampleEventTemplate": {}, "schema": 3}}}}"#.into(),
            "event 'e.x': 'schema' must be a file path (relative to the catalog file) or an inline JSON Schema, found a number"
                .into(),
        ),
        (
            "missing-schema.json",
            r#"{"product": {"backoffice": {"e.x": {"sampleEventTemplate": {}, "schema": "schemas/none.json"}}}}"#.into(),
            format!(
                "event 'e.x': schema file {}: cannot read: No such file or directory (os error 2)",
                p("schemas/none.json")
            ),
        ),
        (
            "notjson-schema.json",
            r#"{"product": {"backoffice": {"e.x": {"sampleEventTemplate": {}, "schema": "schemas/notjson.json"}}}}"#.into(),
            format!(
                "event 'e.x': schema file {}: invalid JSON at line 1 column 3: key must be a string",
                p("schemas/notjson.json")
            ),
        ),
        (
            "bad-schema.json",
            r#"{"product": {"backoffice": {"e.x": {"sampleEventTemplate": {}, "schema": "schemas/bad.json"}}}}"#.into(),
            "event 'e.x': invalid JSON Schema: 5 is not valid under any of the schemas listed in the 'anyOf' keyword (at '/type' in the schema)"
                .into(),
        ),
        (
            "sample.json",
            r#"{"product": {"backoffice": {"be-observer.catalog_product_create": {"sampleEventTemplate": {"sku": "A"}}}}}"#
                .into(),
            "event 'be-observer.catalog_product_create': sampleEventTemplate does not match the schema: invalid value for event 'be-observer.catalog_product_create' at '/': \"name\" is a required property (and 1 more error)"
                .into(),
        ),
        (
            "dup.json",
            r#"{"a": {"backoffice": {"e.x": {"sampleEventTemplate": 1}}}, "b": {"backoffice": {"e.x": {"sampleEventTemplate": 1}}}}"#
                .into(),
            "event 'e.x' is defined twice (in 'a/backoffice' and 'b/backoffice')".into(),
        ),
        (
            "emptycode.json",
            r#"{"a": {"backoffice": {" ": {"sampleEventTemplate": 1}}}}"#.into(),
            "entity 'a', provider 'backoffice': an event code is empty".into(),
        ),
    ];
    for (name, content, problem) in cases {
        let file = dir.write(name, &content);
        assert_eq!(
            err(&file, CatalogMode::Extend),
            format!("events catalog {}: {problem}", file.display()),
            "{name}"
        );
    }
    let nothing = dir.write("nothing.json", "{}");
    assert_eq!(
        err(&nothing, CatalogMode::Replace),
        format!(
            "events catalog {}: defines no events (with EVENTS_CATALOG_MODE=replace the catalog would be empty)",
            nothing.display()
        )
    );
    assert_eq!(
        Catalog::load(Some(&nothing), CatalogMode::Extend)
            .expect("extend with nothing")
            .len(),
        13
    );
    let absent = dir.0.path().join("absent.json");
    assert_eq!(
        err(&absent, CatalogMode::Extend),
        format!(
            "events catalog {}: cannot read: No such file or directory (os error 2)",
            absent.display()
        )
    );
}
