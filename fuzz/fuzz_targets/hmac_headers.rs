//! The ingestion webhook's HMAC authentication with hostile headers: the
//! input is split into a timestamp header, a signature header and a body; no
//! panic, and only a correct signature is accepted.
#![no_main]

use std::sync::OnceLock;

use commerce_kit_ingestion::{Authenticator, HmacAuth, sign_request};
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
        // Accepted: then the signature must be the one the secret gives.
        let ts: i64 = std::str::from_utf8(timestamp).expect("accepted timestamp").trim().parse().expect("number");
        let expected = sign_request(SECRET.as_bytes(), ts, body);
        assert_eq!(signature, expected[1].1.as_bytes());
    }
});
