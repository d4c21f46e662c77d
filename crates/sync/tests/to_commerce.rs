//! Back office → Commerce: each of the kit's 13 sample payloads maps to the
//! exact Commerce call, and payloads that pass the catalog's schema but cannot
//! make a valid call are refused naming the field.

mod common;

use common::{expected, kit_sample};

use commerce_kit_model::catalog::Catalog;
use commerce_kit_sync::PayloadError;
use commerce_kit_sync::transform::{BackOfficeEvent, transform};
use serde_json::{Value, json};

#[test]
fn every_kit_sample_maps_to_the_kits_call() {
    let catalog = Catalog::builtin();
    for event in BackOfficeEvent::ALL {
        let sample = kit_sample(event);
        // the sample is what the ingestion webhook accepts for this event
        catalog
            .validate(event.code(), &sample)
            .unwrap_or_else(|e| panic!("{}: {e}", event.code()));
        let got = transform(event, &sample).unwrap_or_else(|e| panic!("{}: {e}", event.code()));
        assert_eq!(got, expected(event), "{}", event.code());
    }
}

/// The built-in catalog's samples (the kit's values of an earlier commit, see
/// the model crate's fixtures README) map too, to a call of the same shape.
#[test]
fn the_catalogs_own_samples_map_to_the_same_calls() {
    let catalog = Catalog::builtin();
    for event in BackOfficeEvent::ALL {
        let sample = catalog
            .get(event.code())
            .map(|e| e.sample().clone())
            .expect("in the catalog");
        let got = transform(event, &sample).unwrap_or_else(|e| panic!("{}: {e}", event.code()));
        let want = expected(event);
        assert_eq!(got.method, want.method, "{}", event.code());
        assert_eq!(got.body.is_null(), want.body.is_null(), "{}", event.code());
        let keys = |v: &Value| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>());
        assert_eq!(keys(&got.body), keys(&want.body), "{}", event.code());
    }
}

#[test]
fn numbers_keep_their_value_and_whole_numbers_lose_their_fraction() {
    // 0.0 and 66.0 are written 0 and 66 (as JSON.stringify does); the bytes show it
    let call = transform(
        BackOfficeEvent::ProductCreate,
        &kit_sample(BackOfficeEvent::ProductCreate),
    )
    .expect("maps");
    assert!(call.body.to_string().contains(r#""price":0"#), "{}", call.body);
    assert!(!call.body.to_string().contains("0.0"), "{}", call.body);
    let stock = transform(
        BackOfficeEvent::StockUpdate,
        &json!([
            {"sku": "A", "source": "eu", "quantity": 2.5, "outOfStock": true},
            {"sku": "B", "source": "us", "quantity": 66.0, "outOfStock": false, "note": "extra fields are allowed"},
        ]),
    )
    .expect("maps");
    // json!(66) is an integer: a float 66.0 would not be equal to it
    assert_eq!(
        stock.body,
        json!({"sourceItems": [
            {"sku": "A", "source_code": "eu", "quantity": 2.5, "status": 0},
            {"sku": "B", "source_code": "us", "quantity": 66, "status": 1},
        ]})
    );
    assert_ne!(json!(66), json!(66.0));
}

#[test]
fn optional_fields_follow_the_kit() {
    // product create without price: the kit's JSON leaves `price` out
    let call = transform(
        BackOfficeEvent::ProductCreate,
        &json!({"sku": "A", "name": "N", "description": "D"}),
    )
    .expect("maps");
    assert_eq!(call.body["product"].get("price"), None);
    assert_eq!(call.body["product"]["sku"], "A");
    // order status without notifyCustomer: not notified
    let call = transform(
        BackOfficeEvent::OrderStatusUpdate,
        &json!({"id": 7, "status": "complete"}),
    )
    .expect("maps");
    assert_eq!(call.path, "/V1/orders/7/comments");
    assert_eq!(call.body["statusHistory"]["is_customer_notified"], 0);
    let call = transform(
        BackOfficeEvent::OrderStatusUpdate,
        &json!({"id": 7, "status": "complete", "notifyCustomer": true}),
    )
    .expect("maps");
    assert_eq!(call.body["statusHistory"]["is_customer_notified"], 1);
    assert_eq!(
        call.body["statusHistory"]["comment"],
        "Order status changed to complete"
    );
}

#[test]
fn skus_stay_one_path_segment() {
    for (sku, path) in [
        ("24-MB01/blue", "/V1/products/24-MB01%2Fblue"),
        ("a b?c#d", "/V1/products/a%20b%3Fc%23d"),
        ("100%", "/V1/products/100%25"),
        ("..", "/V1/products/%2E%2E"),
        ("Ünï", "/V1/products/%C3%9Cn%C3%AF"),
    ] {
        let call = transform(BackOfficeEvent::ProductDelete, &json!({"sku": sku})).expect("maps");
        assert_eq!(call.path, path, "{sku}");
        let update = transform(
            BackOfficeEvent::ProductUpdate,
            &json!({"sku": sku, "name": "n", "price": 1, "description": "d"}),
        )
        .expect("maps");
        assert_eq!(update.path, path, "{sku}");
        // the body keeps the SKU as it is
        assert_eq!(update.body["product"]["sku"], sku);
    }
}

/// Payloads the catalog's schema accepts but no valid Commerce call can be
/// made of: refused before any call, naming the field.
#[test]
fn schema_valid_but_semantically_refused_payloads() {
    use BackOfficeEvent as E;
    let catalog = Catalog::builtin();
    let cases: Vec<(E, Value, &str)> = vec![
        (
            E::CustomerDelete,
            json!({"id": 15.5}),
            "invalid parameter 'data.id': expected a positive whole number, got 15.5",
        ),
        (
            E::CustomerDelete,
            json!({"id": 0}),
            "invalid parameter 'data.id': expected a positive whole number, got 0",
        ),
        (
            E::CustomerGroupDelete,
            json!({"id": -19}),
            "invalid parameter 'data.id': expected a positive whole number, got -19",
        ),
        (
            E::CustomerUpdate,
            json!({"id": 1e20, "name": "J", "lastname": "D", "email": "j@d"}),
            "invalid parameter 'data.id': expected a positive whole number, got 100000000000000000000",
        ),
        (
            E::CustomerGroupCreate,
            json!({"name": "G", "taxClassId": 2.5}),
            "invalid parameter 'data.taxClassId': expected a positive whole number, got 2.5",
        ),
        (E::ProductDelete, json!({"sku": ""}), "missing parameter(s) 'data.sku'"),
        (
            E::ProductUpdate,
            json!({"sku": "", "name": "n", "price": 1, "description": "d"}),
            "missing parameter(s) 'data.sku'",
        ),
        (
            E::OrderStatusUpdate,
            json!({"id": 0, "status": "shipped"}),
            "invalid parameter 'data.id': expected a positive whole number, got 0",
        ),
        (
            E::OrderStatusUpdate,
            json!({"id": 3, "status": ""}),
            "missing parameter(s) 'data.status'",
        ),
        (
            E::ShipmentCreate,
            json!({
                "orderId": 8,
                "items": [{"orderItemId": 8, "qty": 1}, {"orderItemId": 9, "qty": 0}],
                "tracks": [],
                "comment": {"comment": "c", "visibleOnFront": false},
                "stockSourceCode": "default"
            }),
            "invalid parameter 'data.items[1].qty': expected a number above 0, got 0",
        ),
        (
            E::ShipmentUpdate,
            json!({
                "id": 33, "orderId": 8,
                "items": [{"entityId": 19, "orderItemId": 8, "qty": 1}],
                "tracks": [{"entityId": 1.5, "trackNumber": "t", "title": "T", "carrierCode": "c"}],
                "comments": [],
                "stockSourceCode": "default"
            }),
            "invalid parameter 'data.tracks[0].entityId': expected a positive whole number, got 1.5",
        ),
        (
            E::StockUpdate,
            json!([]),
            "invalid parameter 'data': expected at least one stock item, got []",
        ),
        (
            E::StockUpdate,
            json!([{"sku": "A", "source": "", "quantity": 1, "outOfStock": false}]),
            "missing parameter(s) 'data[0].source'",
        ),
    ];
    for (event, payload, message) in cases {
        assert!(
            catalog.validate(event.code(), &payload).is_ok(),
            "{}: the schema should accept {payload}",
            event.code()
        );
        let err = transform(event, &payload).expect_err(event.code());
        assert_eq!(err.to_string(), message, "{}", event.code());
    }
}

#[test]
fn payloads_of_another_shape_name_the_field() {
    use BackOfficeEvent as E;
    let cases: Vec<(E, Value, PayloadError)> = vec![
        (
            E::ProductCreate,
            json!({"name": "n", "description": "d"}),
            PayloadError::missing(["data.sku"]),
        ),
        (
            E::ProductUpdate,
            json!({"sku": "A", "name": "n", "price": "9.99", "description": "d"}),
            PayloadError::invalid("data.price", "invalid type: string \"9.99\", expected f64"),
        ),
        (
            E::ProductDelete,
            json!({"sku": "A", "name": "x"}),
            PayloadError::invalid("data.name", "unknown field `name`, expected `sku`"),
        ),
        (
            E::StockUpdate,
            json!({"sku": "A"}),
            PayloadError::invalid("data", "invalid type: map, expected a sequence"),
        ),
        (
            E::ShipmentCreate,
            json!({"orderId": 8, "items": [{"qty": 1}], "tracks": [], "comment": {"comment": "c", "visibleOnFront": true}, "stockSourceCode": "s"}),
            PayloadError::missing(["data.items[0].orderItemId"]),
        ),
    ];
    for (event, payload, expected) in cases {
        assert_eq!(
            transform(event, &payload).expect_err(event.code()),
            expected,
            "{}",
            event.code()
        );
    }
}
