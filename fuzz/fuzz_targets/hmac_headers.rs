//! The ingestion webhook's HMAC authentication with hostile headers: the
//! input is split into a timestamp header, a signature header and a body; no
//! panic, and only a correct signature is accepted. "Correct" is computed here
//! with the hmac crate directly (not with the code under test): the MAC of
//! `<timestamp text>.<body>`, given as `sha256=<hex>` (hex in either case,
//! blanks around the header value ignored, as HTTP header values are).
#![no_main]

use std::sync::OnceLock;

use commerce_kit_ingestion::{Authenticator, HmacAuth};
use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "fuzz-secret";
const NOW: i64 = 1_700_000_000;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("runtime"))
}

fuzz_target!(|bytes: &[u8]| {
    let mut parts = bytes.splitn(3, |b| *b == b'\n');
    let (Some(timestamp), Some(signature), Some(body)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let auth = HmacAuth::new(SECRET.to_owned().into()).with_clock(|| NOW);
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(timestamp) {
        headers.insert("x-commerce-kit-timestamp", v);
    }
    if let Ok(v) = HeaderValue::from_bytes(signature) {
        headers.insert("x-commerce-kit-signature", v);
    }
    let verdict = runtime().block_on(auth.authenticate(&headers, body));
    if verdict.is_ok() {
        let ts = std::str::from_utf8(timestamp).expect("an accepted timestamp is text").trim();
        let sig = std::str::from_utf8(signature).expect("an accepted signature is text").trim();
        let hex_sig = sig.strip_prefix("sha256=").expect("an accepted signature has the sha256= prefix");
        let given = hex::decode(hex_sig).expect("an accepted signature is hex");
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
        mac.update(ts.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.verify_slice(&given).expect("only the MAC of <timestamp>.<body> is accepted");
    }
});
