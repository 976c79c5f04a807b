//! `id_token` signature verification: ours (`ring`, src/oidc/jws.rs) beside `jsonwebtoken`'s
//! pure-Rust backend (`rsa`, `p256`, `ed25519-dalek`; what the `oidc` feature used before), on
//! the same RS256, ES256 and EdDSA tokens and keys.
//!
//! Each side pays what `id_token` validation pays per token once the JWKS is cached: the key
//! read from its JWK, the signature decoded and verified. Run with
//! `cargo bench --bench id_token --features internals`; results in BENCHMARKS.md.

use std::hint::black_box;

use actix_oauth::internals::verify_jws;
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use jsonwebtoken::{
    jwk::{
        AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
        EllipticCurveKeyType, Jwk, OctetKeyPairParameters, OctetKeyPairType, RSAKeyParameters,
        RSAKeyType,
    },
    Algorithm, DecodingKey, EncodingKey, Header,
};
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};

/// A private key (for `jsonwebtoken` to sign with) and its public JWK.
fn key(alg: Algorithm) -> (EncodingKey, AlgorithmParameters) {
    let rng = ring::rand::SystemRandom::new();
    match alg {
        Algorithm::RS256 => {
            use rsa::{pkcs1::EncodeRsaPrivateKey as _, traits::PublicKeyParts as _};
            let secret = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).unwrap();
            let der = secret.to_pkcs1_der().unwrap();
            let public = AlgorithmParameters::RSA(RSAKeyParameters {
                key_type: RSAKeyType::RSA,
                n: URL_SAFE_NO_PAD.encode(secret.n().to_bytes_be()),
                e: URL_SAFE_NO_PAD.encode(secret.e().to_bytes_be()),
            });
            (EncodingKey::from_rsa_der(der.as_bytes()), public)
        }
        Algorithm::ES256 => {
            let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
            let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
            let point = pair.public_key().as_ref();
            let public = AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x: URL_SAFE_NO_PAD.encode(&point[1..33]),
                y: URL_SAFE_NO_PAD.encode(&point[33..]),
            });
            (EncodingKey::from_ec_der(pkcs8.as_ref()), public)
        }
        _ => {
            let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
            let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
            let public = AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            });
            (EncodingKey::from_ed_der(pkcs8.as_ref()), public)
        }
    }
}

fn verify_bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("id_token signature");
    group.throughput(Throughput::Elements(1));
    let claims = serde_json::json!({
        "iss": "https://accounts.example", "sub": "110169484474386276334", "aud": "client",
        "exp": 4_102_444_800u64, "iat": 1_700_000_000u64, "nonce": "n-0S6_WzA2Mj",
        "email": "alice@example.test", "email_verified": true, "name": "Alice Example",
    });
    for (alg, name) in [
        (Algorithm::RS256, "RS256"),
        (Algorithm::ES256, "ES256"),
        (Algorithm::EdDSA, "EdDSA"),
    ] {
        let (private, public) = key(alg);
        let jwk = Jwk {
            common: CommonParameters {
                key_id: Some("k1".to_owned()),
                ..CommonParameters::default()
            },
            algorithm: public,
        };
        let mut header = Header::new(alg);
        header.kid = Some("k1".to_owned());
        let token = jsonwebtoken::encode(&header, &claims, &private).unwrap();
        let (message, signature) = token.rsplit_once('.').unwrap();
        let pure_rust = |jwk: &Jwk| {
            let key = DecodingKey::from_jwk(jwk).unwrap();
            jsonwebtoken::crypto::verify(signature, message.as_bytes(), &key, alg).unwrap()
        };
        assert!(verify_jws(alg, &jwk, &token), "{name}: ring");
        assert!(pure_rust(&jwk), "{name}: rust_crypto");

        group.bench_function(format!("{name} ring (ours)"), |b| {
            b.iter(|| verify_jws(alg, black_box(&jwk), black_box(&token)))
        });
        group.bench_function(format!("{name} jsonwebtoken rust_crypto"), |b| {
            b.iter(|| pure_rust(black_box(&jwk)))
        });
    }
    group.finish();
}

criterion_group!(benches, verify_bench);
criterion_main!(benches);
