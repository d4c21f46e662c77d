//! A loopback fake of Adobe IMS + the I/O Events ingress, for benchmarks and
//! manual tries. Usage: `cargo run -p commerce-kit-ingestion --features test-util
//! --example fake-adobe [ADDR]` (default `127.0.0.1:0`). Prints
//! `listening on http://IP:PORT`; point both `IMS_BASE_URL` and
//! `IO_EVENTS_INGRESS_URL` at it with `OAUTH_CLIENT_ID=fake-client-id`,
//! `OAUTH_CLIENT_SECRET=fake-client-secret`. `GET /stats` returns the request
//! counts; they are printed again on SIGTERM/Ctrl-C. Requests are counted, not recorded.

use commerce_kit_ingestion::testing::FakeAdobe;

/// mimalloc, as the servers it stands beside in benchmarks: less CPU per request
/// than glibc malloc (bench/ingestion.sh runs it on the same cores as the server).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One thread: a loopback stand-in should take as little CPU from the server
/// under test as it can, and one core serves far more than the bench sends
/// (no cross-thread wake-ups either).
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let addr = addr
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("bad address {addr:?}: {e}")))?;
    let fake = FakeAdobe::start_with(addr, false).await?;
    println!("listening on http://{}", fake.addr());
    commerce_kit_core::server::shutdown_signal().await;
    println!(
        "token_requests={} ingress_requests={}",
        fake.token_request_count(),
        fake.ingress_request_count()
    );
    Ok(())
}
