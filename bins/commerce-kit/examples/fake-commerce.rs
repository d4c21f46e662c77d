//! A loopback fake Commerce (commerce-api's `testing::FakeCommerce`, which
//! verifies every OAuth 1.0a signature or IMS bearer) with a fixed latency, and
//! for IMS a fake Adobe IMS beside it: the Commerce end of
//! `bench/commerce-sync.sh`, and for manual tries.
//!
//! Usage: `cargo run --release -p commerce-kit --example fake-commerce -- [LATENCY_MS] [oauth1|ims]`
//! (default `0 oauth1`). Prints `listening on http://IP:PORT` (Commerce: use it as
//! `COMMERCE_BASE_URL`) and, for `ims`, `ims on http://IP:PORT` (use it as
//! `IMS_BASE_URL`; its `GET /stats` counts token requests). Credentials:
//! OAuth 1.0a `COMMERCE_CONSUMER_KEY=bench-ck`, `COMMERCE_CONSUMER_SECRET=bench-cs`,
//! `COMMERCE_ACCESS_TOKEN=bench-at`, `COMMERCE_ACCESS_TOKEN_SECRET=bench-ats`;
//! IMS `COMMERCE_IMS_CLIENT_ID=fake-client-id`, `COMMERCE_IMS_CLIENT_SECRET=fake-client-secret`.
//! On SIGTERM/Ctrl-C it prints `calls=N valid=M refused=R token_requests=T`.

use std::time::Duration;

use commerce_kit_commerce_api::testing::{FakeAuth, FakeCommerce, FakeReply};
use commerce_kit_ingestion::testing::{FAKE_CLIENT_ID, FakeAdobe};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Scripted answers kept queued ahead of the calls (the fake answers a call
/// without one at once, so the latency needs a queued answer per call).
const AHEAD: usize = 20_000;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let latency_ms: u64 = match args.next() {
        None => 0,
        Some(raw) => raw
            .parse()
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("bad LATENCY_MS {raw:?}")))?,
    };
    let mode = args.next().unwrap_or_else(|| "oauth1".to_owned());
    let (auth, ims) = match mode.as_str() {
        "oauth1" => (FakeAuth::oauth1("bench-ck", "bench-cs", "bench-at", "bench-ats"), None),
        "ims" => {
            let ims = FakeAdobe::start_with(([127, 0, 0, 1], 0).into(), false).await?;
            let auth = FakeAuth::ims(FAKE_CLIENT_ID, |token| token.starts_with("fake-ims-token-"));
            (auth, Some(ims))
        }
        other => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("auth must be oauth1 or ims, not {other:?}"),
            ));
        }
    };
    let fake = FakeCommerce::start(auth).await?;
    if let Some(ims) = &ims {
        println!("ims on http://{}", ims.addr());
    }
    println!(
        "listening on http://{} latency_ms={latency_ms} auth={mode}",
        fake.addr()
    );

    let delay = Duration::from_millis(latency_ms);
    let mut queued = 0usize;
    let refill = async {
        loop {
            if !delay.is_zero() {
                while queued < fake.call_count() + AHEAD {
                    fake.push_reply(FakeReply::json(200, serde_json::json!({"id": 1})).with_delay(delay));
                    queued += 1;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::select! {
        () = refill => {}
        () = commerce_kit_core::server::shutdown_signal() => {}
    }
    let calls = fake.calls();
    let valid = calls.iter().filter(|c| c.auth.is_valid()).count();
    let refused = calls.iter().filter(|c| c.answered.is_some_and(|s| s >= 400)).count();
    println!(
        "calls={} valid={valid} refused={refused} token_requests={}",
        calls.len(),
        ims.as_ref().map_or(0, FakeAdobe::token_request_count)
    );
    Ok(())
}
