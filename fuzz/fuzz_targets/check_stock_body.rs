//! check-stock request bodies: the express scanner, the typed fast path and
//! the precise path (serde_json tree, then the checks of the starter kit's
//! shape or Commerce's native one) must give one verdict for every input, and
//! none may panic.
#![no_main]

use commerce_kit_core::body::parse_json;
use commerce_kit_webhook::validate::{validate, validate_body_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let with_express = validate_body_with(bytes, true).ok();
    let without_express = validate_body_with(bytes, false).ok();
    let precise = parse_json(bytes).ok().and_then(|value| validate(value).ok());
    assert_eq!(with_express, without_express, "express vs fast on {:?}", String::from_utf8_lossy(bytes));
    assert_eq!(without_express, precise, "fast vs precise on {:?}", String::from_utf8_lossy(bytes));
});
