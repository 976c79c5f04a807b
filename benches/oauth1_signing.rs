//! OAuth 1.0a signing throughput against its floor: raw HMAC-SHA1 of the same base string.
//!
//! Run with `cargo bench --bench oauth1_signing`; results and their reading are in BENCHMARKS.md.

use std::hint::black_box;

use actix_oauth::oauth1::{sign, signature_base_string, SignatureMethod};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hmac::{Hmac, Mac};

/// A typical signed API call: a status update with query and form parameters.
fn request() -> (String, Vec<(String, String)>) {
    let url = "https://api.twitter.com/1.1/statuses/update.json?include_entities=true".to_owned();
    let params = [
        (
            "status",
            "Hello Ladies + Gentlemen, a signed OAuth request!",
        ),
        ("oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"),
        ("oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "1318622958"),
        (
            "oauth_token",
            "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        ),
        ("oauth_version", "1.0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    (url, params)
}

const CONSUMER_SECRET: &str = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
const TOKEN_SECRET: &str = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";

fn signing(c: &mut Criterion) {
    let (url, params) = request();
    let base = signature_base_string("POST", &url, &params).unwrap();
    let key = format!("{CONSUMER_SECRET}&{TOKEN_SECRET}");

    let mut group = c.benchmark_group("oauth1_signing");
    group.throughput(Throughput::Elements(1));
    group.bench_function("floor: raw HMAC-SHA1 of the base string", |b| {
        b.iter(|| {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(black_box(key.as_bytes())).unwrap();
            mac.update(black_box(base.as_bytes()));
            black_box(mac.finalize().into_bytes())
        })
    });
    for method in [
        SignatureMethod::HmacSha1,
        SignatureMethod::HmacSha256,
        SignatureMethod::Plaintext,
    ] {
        group.bench_function(format!("sign {}", method.name()), |b| {
            b.iter(|| sign(method, black_box(&base), CONSUMER_SECRET, TOKEN_SECRET).unwrap())
        });
    }
    group.bench_function("part: parse the request URL", |b| {
        b.iter(|| url::Url::parse(black_box(&url)).unwrap())
    });
    group.bench_function("part: base string (parse, encode, sort)", |b| {
        b.iter(|| signature_base_string("POST", black_box(&url), black_box(&params)).unwrap())
    });
    group.bench_function("base string + sign HMAC-SHA1", |b| {
        b.iter(|| {
            let base = signature_base_string("POST", black_box(&url), black_box(&params)).unwrap();
            sign(
                SignatureMethod::HmacSha1,
                &base,
                CONSUMER_SECRET,
                TOKEN_SECRET,
            )
            .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, signing);
criterion_main!(benches);
