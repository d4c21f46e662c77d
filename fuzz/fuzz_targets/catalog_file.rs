//! `EVENTS_CATALOG_FILE` contents (the starter kit's `events.json` layout,
//! with optional JSON Schemas compiled at load): a bad file is an error,
//! never a panic, in both modes; a loaded catalog validates its own samples
//! without panicking.
#![no_main]

use commerce_kit_model::{Catalog, CatalogMode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("events.json");
    std::fs::write(&path, bytes).expect("write");
    for mode in [CatalogMode::Extend, CatalogMode::Replace] {
        if let Ok(catalog) = Catalog::load(Some(&path), mode) {
            for event in catalog.events() {
                let _ = catalog.validate(event.code(), event.sample());
            }
            let _ = catalog.to_events_json();
        }
    }
});
