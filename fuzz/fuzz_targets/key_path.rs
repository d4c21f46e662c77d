//! The I/O Events public-key path headers (`x-adobe-public-key1-path`): any
//! path either resolves to a URL on the configured key origin or is refused;
//! never a URL elsewhere.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use commerce_kit_events::SignatureVerifier;
use libfuzzer_sys::fuzz_target;

const BASE: &str = "https://static.adobeioevents.com";

fn verifier() -> &'static SignatureVerifier {
    static V: OnceLock<SignatureVerifier> = OnceLock::new();
    V.get_or_init(|| SignatureVerifier::new(BASE, Duration::from_secs(60)).expect("base"))
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(path) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Ok(url) = verifier().key_url(path) {
        assert_eq!(url.origin().ascii_serialization(), BASE, "{path:?} -> {url}");
        assert!(url.username().is_empty() && url.password().is_none(), "{path:?} -> {url}");
    }
});
