//! OAuth 1.0a signing against its floor: raw HMAC of the same, already built, base string.
//!
//! Run with `cargo bench --bench oauth1_signing` (add `--features rsa-sha1` for RSA-SHA1);
//! results and their reading are in BENCHMARKS.md.

use std::hint::black_box;

use actix_oauth::oauth1::{
    sign, signature_base_string, signature_base_string_url, SignatureMethod,
};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hmac::{Hmac, Mac};

/// The request URL of a typical signed API call.
const URL: &str = "https://api.twitter.com/1.1/statuses/update.json?include_entities=true";

/// A typical signed API call: a status update with a query and a form parameter and the
/// protocol parameters, as in Twitter's documentation.
fn params() -> Vec<(String, String)> {
    [
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
    .collect()
}

const CONSUMER_SECRET: &str = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";
const TOKEN_SECRET: &str = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE";

fn signing(c: &mut Criterion) {
    let params = params();
    let base = signature_base_string("POST", URL, &params).unwrap();
    let key = format!("{CONSUMER_SECRET}&{TOKEN_SECRET}");

    let mut group = c.benchmark_group("oauth1_signing");
    group.throughput(Throughput::Elements(1));

    // The floors: an HMAC of a base string someone else built, with a ready key.
    group.bench_function("floor: raw HMAC-SHA1 of the base string", |b| {
        b.iter(|| {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(black_box(key.as_bytes())).unwrap();
            mac.update(black_box(base.as_bytes()));
            black_box(mac.finalize().into_bytes())
        })
    });
    group.bench_function("floor: raw HMAC-SHA256 of the base string", |b| {
        b.iter(|| {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(black_box(key.as_bytes())).unwrap();
            mac.update(black_box(base.as_bytes()));
            black_box(mac.finalize().into_bytes())
        })
    });

    // Signing a prepared base string: key encoding, the signature, base64.
    for method in [
        SignatureMethod::HmacSha1,
        SignatureMethod::HmacSha256,
        SignatureMethod::Plaintext,
    ] {
        group.bench_function(format!("sign {}", method.name()), |b| {
            b.iter(|| sign(method, black_box(&base), CONSUMER_SECRET, TOKEN_SECRET).unwrap())
        });
    }
    #[cfg(feature = "rsa-sha1")]
    {
        let key = rsa_key();
        group.bench_function("sign RSA-SHA1 (2048-bit key)", |b| {
            b.iter(|| key.sign(black_box(&base)))
        });
    }

    // The parts of building a base string.
    let parsed = url::Url::parse(URL).unwrap();
    let borrowed: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    group.bench_function("part: parse the request URL", |b| {
        b.iter(|| url::Url::parse(black_box(URL)).unwrap())
    });
    group.bench_function("part: base string from a parsed URL (sort, encode)", |b| {
        b.iter(|| signature_base_string_url("POST", black_box(&parsed), black_box(&borrowed)))
    });
    group.bench_function(
        "part: base string from a URL string (parse, sort, encode)",
        |b| b.iter(|| signature_base_string("POST", black_box(URL), black_box(&params)).unwrap()),
    );

    // What a signed request costs: the base string, then the signature — the target is
    // within 2× of the matching floor. The crate signs its own requests from a parsed URL (as
    // `signature_base_string_url` does); `signature_base_string` parses a URL string first.
    for method in [SignatureMethod::HmacSha1, SignatureMethod::HmacSha256] {
        group.bench_function(
            format!("base string from a parsed URL + sign {}", method.name()),
            |b| {
                b.iter(|| {
                    let base =
                        signature_base_string_url("POST", black_box(&parsed), black_box(&borrowed));
                    sign(method, &base, CONSUMER_SECRET, TOKEN_SECRET).unwrap()
                })
            },
        );
        group.bench_function(
            format!("base string from a URL string + sign {}", method.name()),
            |b| {
                b.iter(|| {
                    let base =
                        signature_base_string("POST", black_box(URL), black_box(&params)).unwrap();
                    sign(method, &base, CONSUMER_SECRET, TOKEN_SECRET).unwrap()
                })
            },
        );
    }
    group.finish();
}

/// The 2048-bit RSA key of the test vectors (`tests/data/oauth1_vectors.json`).
#[cfg(feature = "rsa-sha1")]
fn rsa_key() -> actix_oauth::oauth1::RsaSigningKey {
    let file: serde_json::Value =
        serde_json::from_str(include_str!("../tests/data/oauth1_vectors.json")).unwrap();
    let pem = file["rsa_private_key_pem"].as_str().unwrap();
    actix_oauth::oauth1::RsaSigningKey::from_pem(pem).unwrap()
}

criterion_group!(benches, signing);
criterion_main!(benches);
