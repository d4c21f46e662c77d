//! The built-in catalog: the starter kit's back-office events, their samples
//! and schemas, and the exact validation messages.

use commerce_kit_model::catalog::payload::*;
use commerce_kit_model::catalog::{BACKOFFICE, Catalog, CatalogMode, ValueError};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

const PRODUCT_CREATE: &str = "be-observer.catalog_product_create";

#[test]
fn builtin_lists_the_starter_kit_backoffice_events_by_entity() {
    let catalog = Catalog::builtin();
    let listed: Vec<(&str, &str)> = catalog.events().iter().map(|e| (e.entity(), e.code())).collect();
    assert_eq!(
        listed,
        vec![
            ("product", "be-observer.catalog_product_create"),
            ("product", "be-observer.catalog_product_update"),
            ("product", "be-observer.catalog_product_delete"),
            ("customer", "be-observer.customer_create"),
            ("customer", "be-observer.customer_update"),
            ("customer", "be-observer.customer_delete"),
            ("customer-group", "be-observer.customer_group_create"),
            ("customer-group", "be-observer.customer_group_update"),
            ("customer-group", "be-observer.customer_group_delete"),
            ("order", "be-observer.sales_order_status_update"),
            ("order", "be-observer.sales_order_shipment_create"),
            ("order", "be-observer.sales_order_shipment_update"),
            ("stock", "be-observer.catalog_stock_update"),
        ]
    );
    assert!(catalog.events().iter().all(|e| e.provider() == BACKOFFICE));
    assert!(catalog.source().is_none());
    assert_eq!(catalog.len(), 13);
}

fn roundtrip<T: DeserializeOwned + serde::Serialize>(sample: &Value) {
    let typed: T = serde_json::from_value(sample.clone()).unwrap_or_else(|e| panic!("{sample}: {e}"));
    let back = serde_json::to_value(&typed).expect("serialize");
    // Numbers may widen (1 → 1.0); compare through f64-insensitive equality.
    assert_eq!(normalize(&back), normalize(sample), "round trip of {sample}");
}

fn normalize(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.as_f64()),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), normalize(v))).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_sample_satisfies_its_schema_and_its_rust_type() {
    let catalog = Catalog::builtin();
    for event in catalog.events() {
        assert!(event.schema().is_some(), "{}", event.code());
        assert_eq!(
            catalog.validate(event.code(), event.sample()).map(|e| e.code()),
            Ok(event.code())
        );
        let s = event.sample();
        match event.code() {
            "be-observer.catalog_product_create" => roundtrip::<ProductCreate>(s),
            "be-observer.catalog_product_update" => roundtrip::<ProductUpdate>(s),
            "be-observer.catalog_product_delete" => roundtrip::<ProductDelete>(s),
            "be-observer.customer_create" => roundtrip::<CustomerCreate>(s),
            "be-observer.customer_update" => roundtrip::<CustomerUpdate>(s),
            "be-observer.customer_delete" | "be-observer.customer_group_delete" => roundtrip::<DeleteById>(s),
            "be-observer.customer_group_create" => roundtrip::<CustomerGroupCreate>(s),
            "be-observer.customer_group_update" => roundtrip::<CustomerGroupUpdate>(s),
            "be-observer.sales_order_status_update" => roundtrip::<OrderStatusUpdate>(s),
            "be-observer.sales_order_shipment_create" => roundtrip::<ShipmentCreate>(s),
            "be-observer.sales_order_shipment_update" => roundtrip::<ShipmentUpdate>(s),
            "be-observer.catalog_stock_update" => roundtrip::<Vec<StockUpdateItem>>(s),
            other => panic!("no type for {other}"),
        }
    }
}

#[test]
fn product_create_schema_matches_the_starter_kit() {
    let catalog = Catalog::builtin();
    let schema = catalog.get(PRODUCT_CREATE).and_then(|e| e.schema()).expect("schema");
    assert_eq!(schema["type"], "object");
    assert_eq!(schema["required"], json!(["sku", "name", "description"]));
    for (field, ty) in [
        ("sku", "string"),
        ("name", "string"),
        ("price", "number"),
        ("description", "string"),
    ] {
        assert_eq!(schema["properties"][field]["type"], ty, "{field}");
    }
    let stock = catalog
        .get("be-observer.catalog_stock_update")
        .and_then(|e| e.schema())
        .expect("schema");
    assert_eq!(stock["type"], "array", "stock update's value is an array");
}

#[test]
fn schema_failures_name_the_pointer_and_the_reason() {
    let catalog = Catalog::builtin();
    let cases = [
        (
            PRODUCT_CREATE,
            json!({"sku": "A", "name": "n", "description": "d", "price": "1"}),
            r#"invalid value for event 'be-observer.catalog_product_create' at '/price': "1" is not of type "number""#,
        ),
        (
            PRODUCT_CREATE,
            json!({"sku": "A", "name": "n", "description": "d", "price": null}),
            r#"invalid value for event 'be-observer.catalog_product_create' at '/price': null is not of type "number""#,
        ),
        (
            PRODUCT_CREATE,
            json!({"name": "n", "description": "d"}),
            r#"invalid value for event 'be-observer.catalog_product_create' at '/': "sku" is a required property"#,
        ),
        (
            PRODUCT_CREATE,
            json!({"sku": 1}),
            r#"invalid value for event 'be-observer.catalog_product_create' at '/': "name" is a required property (and 2 more errors)"#,
        ),
        (
            PRODUCT_CREATE,
            json!({"sku": 1, "name": "n", "description": "d"}),
            r#"invalid value for event 'be-observer.catalog_product_create' at '/sku': 1 is not of type "string""#,
        ),
        (
            PRODUCT_CREATE,
            json!("text"),
            r#"invalid value for event 'be-observer.catalog_product_create' at '/': "text" is not of type "object""#,
        ),
        (
            "be-observer.catalog_product_update",
            json!({"sku": "A", "name": "n", "description": "d"}),
            r#"invalid value for event 'be-observer.catalog_product_update' at '/': "price" is a required property"#,
        ),
        (
            "be-observer.catalog_product_delete",
            json!({"sku": "A", "name": "extra"}),
            r#"invalid value for event 'be-observer.catalog_product_delete' at '/': Additional properties are not allowed ('name' was unexpected)"#,
        ),
        (
            "be-observer.catalog_stock_update",
            json!({"sku": "A"}),
            r#"invalid value for event 'be-observer.catalog_stock_update' at '/': {"sku":"A"} is not of type "array""#,
        ),
        (
            "be-observer.catalog_stock_update",
            json!([{"sku": "A", "source": "default", "quantity": 1, "outOfStock": false},
                   {"sku": "B", "source": "default", "quantity": "2", "outOfStock": false}]),
            r#"invalid value for event 'be-observer.catalog_stock_update' at '/1/quantity': "2" is not of type "number""#,
        ),
        (
            "be-observer.sales_order_status_update",
            json!({"id": 1.5, "status": "shipped"}),
            r#"invalid value for event 'be-observer.sales_order_status_update' at '/id': 1.5 is not of type "integer""#,
        ),
        (
            "be-observer.sales_order_shipment_create",
            json!({"orderId": 8, "items": [{"orderItemId": 8}], "tracks": [],
                   "comment": {"comment": "c", "visibleOnFront": true}, "stockSourceCode": "default"}),
            r#"invalid value for event 'be-observer.sales_order_shipment_create' at '/items/0': "qty" is a required property"#,
        ),
        // Shipment create carries one `comment` object (the kit's schema and
        // sample since its commits 6deb24b and 06f4b45); the older `comments`
        // array is refused, and so is `notifyCustomer` in the comment.
        (
            "be-observer.sales_order_shipment_create",
            json!({"orderId": 8, "items": [], "tracks": [],
                   "comments": [{"comment": "c", "visibleOnFront": true}], "stockSourceCode": "default"}),
            r#"invalid value for event 'be-observer.sales_order_shipment_create' at '/': "comment" is a required property (and 1 more error)"#,
        ),
        (
            "be-observer.sales_order_shipment_create",
            json!({"orderId": 8, "items": [], "tracks": [],
                   "comment": [{"comment": "c", "visibleOnFront": true}], "stockSourceCode": "default"}),
            r#"invalid value for event 'be-observer.sales_order_shipment_create' at '/comment': [{"comment":"c","visibleOnFront":true}] is not of type "object""#,
        ),
        (
            "be-observer.sales_order_shipment_create",
            json!({"orderId": 8, "items": [], "tracks": [],
                   "comment": {"comment": "c", "visibleOnFront": true, "notifyCustomer": false}, "stockSourceCode": "default"}),
            r#"invalid value for event 'be-observer.sales_order_shipment_create' at '/comment': Additional properties are not allowed ('notifyCustomer' was unexpected)"#,
        ),
        (
            "be-observer.sales_order_shipment_update",
            json!({"id": 33, "orderId": 8, "items": [], "tracks": [],
                   "comment": {"comment": "c", "visibleOnFront": true}, "stockSourceCode": "default"}),
            r#"invalid value for event 'be-observer.sales_order_shipment_update' at '/': "comments" is a required property (and 1 more error)"#,
        ),
    ];
    for (code, value, expected) in cases {
        let err = catalog.validate(code, &value).expect_err(expected);
        assert_eq!(err.to_string(), expected, "{value}");
        assert!(matches!(err, ValueError::Invalid { .. }));
    }
}

#[test]
fn unknown_events_are_named_and_long_codes_cut() {
    let catalog = Catalog::builtin();
    let v = json!({});
    assert_eq!(
        catalog
            .validate("be-observer.catalog_product_rename", &v)
            .expect_err("unknown")
            .to_string(),
        "unknown event 'be-observer.catalog_product_rename'"
    );
    assert_eq!(
        catalog.validate("", &v).expect_err("unknown").to_string(),
        "unknown event ''"
    );
    let long = "x".repeat(500);
    assert_eq!(
        catalog.validate(&long, &v).expect_err("unknown").to_string(),
        format!("unknown event '{}…'", "x".repeat(120))
    );
}

#[test]
fn events_json_output_loads_back_as_the_same_catalog() {
    let catalog = Catalog::builtin();
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("events.json");
    std::fs::write(
        &file,
        serde_json::to_vec_pretty(&catalog.to_events_json()).expect("json"),
    )
    .expect("write");
    let loaded = Catalog::load(Some(&file), CatalogMode::Replace).expect("load");
    let mut want: Vec<_> = catalog
        .events()
        .iter()
        .map(|e| (e.entity(), e.code(), e.sample(), e.schema()))
        .collect();
    let mut got: Vec<_> = loaded
        .events()
        .iter()
        .map(|e| (e.entity(), e.code(), e.sample(), e.schema()))
        .collect();
    want.sort_by_key(|e| e.1);
    got.sort_by_key(|e| e.1);
    assert_eq!(got, want);
    assert_eq!(loaded.source(), Some(file.as_path()));
    assert_eq!(
        catalog.to_events_json()["product"]["backoffice"]["be-observer.catalog_product_delete"]["sampleEventTemplate"],
        json!({"sku": "POSTBUSTER_TEST"})
    );
}
