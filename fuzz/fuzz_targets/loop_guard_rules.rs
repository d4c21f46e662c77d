//! `LOOP_GUARD_RULES_FILE` contents and the fingerprints they compute: the
//! rules parse or fail, and fingerprinting sample events (Commerce and
//! back-office products and customers, odd payloads) never panics.
#![no_main]

use commerce_kit_events::loop_guard::{LoopGuardRule, fingerprint};
use commerce_kit_model::CloudEvent;
use libfuzzer_sys::fuzz_target;
use serde_json::json;

fuzz_target!(|bytes: &[u8]| {
    let Ok(rules) = serde_json::from_slice::<Vec<LoopGuardRule>>(bytes) else {
        return;
    };
    let events = [
        CloudEvent::new("1", "s", "com.adobe.commerce.observer.catalog_product_save_commit_after",
            json!({"value": {"sku": "A", "name": "n", "description": "d"}})),
        CloudEvent::new("2", "s", "be-observer.catalog_product_update", json!({"sku": "A", "name": "n"})),
        CloudEvent::new("3", "s", "be-observer.customer_update", json!([1, {"email": null}])),
        CloudEvent::new("4", "s", "x", serde_json::Value::Null),
    ];
    for event in &events {
        let _ = fingerprint(&rules, event);
    }
});
