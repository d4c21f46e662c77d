//! Cost of signing one Commerce request with OAuth 1.0a (HMAC-SHA256): the
//! base string, the HMAC and the header, with the nonce and clock fixed.
#![allow(missing_docs)]

use std::hint::black_box;

use commerce_kit_commerce_api::oauth1::{OAuth1Credentials, OAuth1Signer};
use commerce_kit_commerce_api::{Condition, SearchCriteria};
use criterion::{Criterion, criterion_group, criterion_main};
use http::Method;
use reqwest::Url;

fn signing(c: &mut Criterion) {
    let signer = OAuth1Signer::new(OAuth1Credentials::new(
        "lr7qpx9hvbl0j4m3f9n5kzc2w8t6yd1a",
        "3q9b5m0v7x2c8n4z6l1k0j9h8g7f6d5s",
        "p0o9i8u7y6t5r4e3w2q1a2s3d4f5g6h7",
        "z1x2c3v4b5n6m7l8k9j0h1g2f3d4s5a6",
    ))
    .with_nonce(|| "Xk2pQ9rT4vW7yZ1bC5dF8gH3jK6mN0sL".to_owned())
    .with_clock(|| 1_767_225_600);

    let put = Url::parse("https://shop.example.com/rest/all/V1/products/24-MB01").expect("url");
    c.bench_function("oauth1 sign PUT /V1/products/{sku}", |b| {
        b.iter(|| black_box(signer.authorization(&Method::PUT, black_box(&put))))
    });

    let mut search = Url::parse("https://shop.example.com/rest/all/V1/products").expect("url");
    let query: Vec<String> = SearchCriteria::new()
        .filter("sku", "24-MB%", Condition::Like)
        .or_filter("name", "%Bag%", Condition::Like)
        .filter("status", "1", Condition::Eq)
        .sort("updated_at", false)
        .page_size(50)
        .current_page(2)
        .to_query()
        .into_iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                commerce_kit_commerce_api::oauth1::percent_encode(&k),
                commerce_kit_commerce_api::oauth1::percent_encode(&v)
            )
        })
        .collect();
    search.set_query(Some(&query.join("&")));
    c.bench_function("oauth1 sign GET /V1/products?searchCriteria (13 params)", |b| {
        b.iter(|| black_box(signer.authorization(&Method::GET, black_box(&search))))
    });
}

criterion_group!(benches, signing);
criterion_main!(benches);
