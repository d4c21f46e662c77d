//! `INVENTORY_FILE` contents (`{sku: quantity}`): an error or an inventory,
//! never a panic; every quantity loaded is a finite number.
#![no_main]

use commerce_kit_webhook::inventory::Inventory;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(inventory) = Inventory::from_json(bytes) {
        let _ = inventory.len();
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(bytes) {
            for sku in map.keys() {
                if let Some(qty) = inventory.available(sku) {
                    assert!(qty.is_finite(), "{sku}: {qty}");
                }
            }
        }
    }
});
