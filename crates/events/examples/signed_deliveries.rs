//! Writes N distinct I/O Events deliveries signed with the test key A, one per
//! line as `<base64 signature>\t<body>`, for load tests (`bench/consumer.sh`).
//!
//! `cargo run --release -p commerce-kit-events --example signed_deliveries -- N OUT CLIENT_ID`

use std::io::Write;

use commerce_kit_core::signature::RsaSigner;
use serde_json::json;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: signed_deliveries N OUT CLIENT_ID";
    let n: usize = args.next().ok_or(usage)?.parse()?;
    let out = args.next().ok_or(usage)?;
    let client_id = args.next().ok_or(usage)?;
    let threads = std::thread::available_parallelism().map_or(2, |p| p.get());
    let chunks: Vec<Vec<String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let client_id = client_id.clone();
                scope.spawn(move || {
                    let signer = RsaSigner::test_key_a();
                    (t..n)
                        .step_by(threads)
                        .map(|i| {
                            let body = json!({
                                "specversion": "1.0", "id": format!("bench-{i}"), "source": "urn:uuid:bench",
                                "type": "com.adobe.commerce.observer.customer_delete_commit_after",
                                "datacontenttype": "application/json", "time": "2025-07-17T15:48:42.436Z",
                                "eventid": format!("bench-{i}"), "recipientclientid": client_id,
                                "data": {"key": "k", "value": {"id": i, "email": format!("c{i}@example.com"),
                                    "firstname": "Ada", "lastname": "Lovelace"}}
                            })
                            .to_string();
                            format!("{}\t{body}", signer.sign_base64(body.as_bytes()))
                        })
                        .collect()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_default()).collect()
    });
    let mut file = std::io::BufWriter::new(std::fs::File::create(&out)?);
    for line in chunks.iter().flatten() {
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    eprintln!(
        "wrote {} signed deliveries to {out}",
        chunks.iter().map(Vec::len).sum::<usize>()
    );
    Ok(())
}
