//! Cost of parsing + validating check-stock bodies of 1, 100 and 1,000 items:
//! `validate_body` (what the service runs: the express byte scanner, then the
//! typed fast path for well-formed bodies), the same without the express
//! scanner (`validate_body_with(_, false)`), the precise path (`parse_json` + `validate`, taken when a body has a
//! problem to explain), and `validate` alone on an already-parsed tree.
//! Run: `cargo bench -p commerce-kit-webhook --bench validate`.

use std::hint::black_box;

use commerce_kit_core::body::parse_json;
use commerce_kit_webhook::validate::{validate, validate_body, validate_body_with};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn body(items: usize) -> Vec<u8> {
    let lines: Vec<String> = (0..items)
        .map(|i| format!(r#"{{"item_id":{i},"sku":"24-MB{:02}","qty":"2.0000"}}"#, i % 100))
        .collect();
    format!(r#"{{"data":{{"cart_id":"42","items":[{}]}}}}"#, lines.join(",")).into_bytes()
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("check_stock_validation");
    for items in [1usize, 100, 1000] {
        let raw = body(items);
        group.throughput(Throughput::Elements(items as u64));
        group.bench_with_input(BenchmarkId::new("validate_body", items), &raw, |b, raw| {
            b.iter(|| validate_body(black_box(raw)).expect("valid"))
        });
        group.bench_with_input(
            BenchmarkId::new("validate_body_without_express", items),
            &raw,
            |b, raw| b.iter(|| validate_body_with(black_box(raw), false).expect("valid")),
        );
        group.bench_with_input(BenchmarkId::new("parse_json+validate", items), &raw, |b, raw| {
            b.iter(|| validate(parse_json(black_box(raw)).expect("json")).expect("valid"))
        });
        let parsed = parse_json(&raw).expect("json");
        group.bench_with_input(BenchmarkId::new("validate", items), &parsed, |b, parsed| {
            b.iter_batched(
                || parsed.clone(),
                |value| validate(black_box(value)).expect("valid"),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
