//! `POST /events` bodies through the delivery endpoint in-process (unsigned
//! mode, so the body parser, single events and batches are reached): no
//! panic, and every answer is a status with a body. Inputs naming a
//! `validationUrl` are skipped: that path fetches a URL, and a fuzzer must
//! not reach the network.
#![no_main]

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use commerce_kit_events::delivery::ValidationPolicy;
use commerce_kit_events::{Consumer, Delivery, DeliveryOptions, HandlerResult, MemoryStore, handler_fn};
use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

struct Setup {
    runtime: tokio::runtime::Runtime,
    delivery: Delivery,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let consumer = Consumer::builder(Arc::new(MemoryStore::new()))
            .fallback(handler_fn(|_event, _ctx| async { Ok(HandlerResult::success("ok")) }))
            .build()
            .expect("consumer");
        let options = DeliveryOptions::unsigned().with_validation(ValidationPolicy::default());
        Setup { runtime, delivery: Delivery::new(consumer, options) }
    })
}

fn names_validation_url(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.contains_key("validationUrl") || map.values().any(names_validation_url),
        Value::Array(items) => items.iter().any(names_validation_url),
        _ => false,
    }
}

fuzz_target!(|bytes: &[u8]| {
    if serde_json::from_slice::<Value>(bytes).is_ok_and(|v| names_validation_url(&v)) {
        return;
    }
    let setup = setup();
    let response = setup
        .runtime
        .block_on(setup.delivery.post(&HeaderMap::new(), Bytes::copy_from_slice(bytes)));
    assert!(response.status.as_u16() >= 200 && response.status.as_u16() < 600);
});
