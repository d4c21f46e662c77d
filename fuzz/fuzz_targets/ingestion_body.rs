//! Ingestion webhook bodies: the one-pass fast parse, when it accepts, must
//! return what the full path (serde_json tree, then the required-parameter
//! checks) returns; neither may panic.
#![no_main]

use commerce_kit_core::body::parse_json;
use commerce_kit_ingestion::payload::IngestionEvent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let full = parse_json(bytes).ok().map(IngestionEvent::from_json);
    if let Some(fast) = IngestionEvent::from_body_fast(bytes) {
        match full {
            Some(Ok(full)) => assert_eq!(fast, full, "{:?}", String::from_utf8_lossy(bytes)),
            other => panic!("fast path accepted what the full path answers {other:?}: {:?}", String::from_utf8_lossy(bytes)),
        }
    }
});
