//! The steps of a sign-in that do not wait on the network, each against its floor: `state` and
//! PKCE generation against the raw randomness, hashing and base64 they need; the callback
//! query, token responses and API response decoding against the bare parser of their format.
//!
//! Run with `cargo bench --features internals --bench handshake` (the `internals` feature exposes
//! the parsers; it is for benchmarks and fuzzing only). Results are in BENCHMARKS.md.

use std::hint::black_box;

use actix_oauth::internals::{
    decode_response, parse_callback_query, parse_oauth1_credentials, parse_token_response,
    state_and_pkce, verify_jws, IdTokenValidator,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

/// `state` and a PKCE S256 pair: 256 random bits each, base64url, and the challenge's SHA-256.
fn state_and_pkce_bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("state_and_pkce");
    group.throughput(Throughput::Elements(1));
    group.bench_function("floor: 2×32 random bytes, 3×base64url, SHA-256", |b| {
        b.iter(|| {
            let mut bytes = [0u8; 64];
            rand::thread_rng().fill_bytes(&mut bytes);
            let state = URL_SAFE_NO_PAD.encode(&bytes[..32]);
            let verifier = URL_SAFE_NO_PAD.encode(&bytes[32..]);
            let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            black_box((state, verifier, challenge))
        })
    });
    group.bench_function("state + PKCE S256", |b| b.iter(state_and_pkce));
    group.finish();
}

/// A callback's query as a provider sends it back.
const CALLBACK_QUERY: &str = "code=SplxlOBeZQQYbYS6WxSbIA-8a0f1c2d3e4f5a6b7c8d9e0f1a2b3c4d\
    &state=Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8&scope=openid%20profile%20email\
    &iss=https%3A%2F%2Fprovider.example";

fn callback_bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("callback_query");
    group.throughput(Throughput::Elements(1));
    group.bench_function("floor: serde_urlencoded into pairs", |b| {
        b.iter(|| {
            serde_urlencoded::from_str::<Vec<(String, String)>>(black_box(CALLBACK_QUERY)).unwrap()
        })
    });
    group.bench_function("parse_callback_query", |b| {
        b.iter(|| parse_callback_query(black_box(CALLBACK_QUERY)).unwrap())
    });
    group.finish();
}

/// A token endpoint's JSON answer, as Google sends it (with a refresh token and an id_token).
const TOKEN_JSON: &[u8] = br#"{"access_token":"ya29.a0AfB_byC-1234567890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ","expires_in":3599,"refresh_token":"1//0gdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789","scope":"openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/userinfo.profile","token_type":"Bearer","id_token":"eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJpc3MiOiJodHRwczovL2FjY291bnRzLmdvb2dsZS5jb20iLCJzdWIiOiIxMTAxNjk0ODQ0NzQzODYyNzYzMzQiLCJhdWQiOiJjbGllbnQiLCJleHAiOjE3MDAwMDAwMDAsImlhdCI6MTcwMDAwMDAwMH0.c2lnbmF0dXJl"}"#;

/// The same kind of answer form-encoded, as GitHub sends it by default.
const TOKEN_FORM: &[u8] =
    b"access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist&token_type=bearer";

/// OAuth 1.0a token credentials, as Twitter sends them.
const OAUTH1_CREDENTIALS: &[u8] = b"oauth_token=6253282-eWudHldSbIaelX7swmsiHImEL4KinwaGloHANdrY\
    &oauth_token_secret=2EEfA6BG5ly3sR3XjE0IBSnlQu4ZrUzPiYTmrkVU&user_id=6253282&screen_name=twitterapi";

fn token_bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("token_response");
    group.throughput(Throughput::Elements(1));
    group.bench_function("floor: serde_json::Value of the JSON answer", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(TOKEN_JSON)).unwrap())
    });
    group.bench_function("parse_token_response JSON", |b| {
        b.iter(|| {
            parse_token_response(200, Some("application/json"), black_box(TOKEN_JSON)).unwrap()
        })
    });
    group.bench_function("floor: serde_urlencoded pairs of the form answer", |b| {
        b.iter(|| {
            serde_urlencoded::from_bytes::<Vec<(String, String)>>(black_box(TOKEN_FORM)).unwrap()
        })
    });
    group.bench_function("parse_token_response form", |b| {
        b.iter(|| {
            parse_token_response(
                200,
                Some("application/x-www-form-urlencoded; charset=utf-8"),
                black_box(TOKEN_FORM),
            )
            .unwrap()
        })
    });
    group.bench_function(
        "floor: serde_urlencoded pairs of OAuth 1.0a credentials",
        |b| {
            b.iter(|| {
                serde_urlencoded::from_bytes::<Vec<(String, String)>>(black_box(OAUTH1_CREDENTIALS))
                    .unwrap()
            })
        },
    );
    group.bench_function(
        "parse_oauth1_credentials (text/html, as Twitter labels it)",
        |b| {
            b.iter(|| {
                parse_oauth1_credentials(200, Some("text/html"), black_box(OAUTH1_CREDENTIALS))
                    .unwrap()
            })
        },
    );
    group.finish();
}

/// An API answer of about 1 KiB in each format.
fn api_bodies() -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let mut json = String::from("{\"statuses\":[");
    let mut form = String::new();
    let mut xml =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?><statuses type=\"array\">");
    for i in 0..8 {
        if i > 0 {
            json.push(',');
            form.push('&');
        }
        json.push_str(&format!(
            "{{\"id\":1234567890{i},\"text\":\"Status number {i} with some text & an emoji 🎉\",\"user\":{{\"screen_name\":\"user{i}\",\"followers\":42{i}}},\"truncated\":false}}"
        ));
        form.push_str(&format!(
            "id{i}={i}1234567890&text{i}=Status+number+{i}+with+some+text+%26+an+emoji+%F0%9F%8E%89"
        ));
        xml.push_str(&format!(
            "<status><id>{i}1234567890</id><text>Status number {i} with some text &amp; an emoji 🎉</text><user><screen_name>user{i}</screen_name><followers>{i}42</followers></user><truncated>false</truncated></status>"
        ));
    }
    json.push_str("]}");
    xml.push_str("</statuses>");
    (json.into_bytes(), form.into_bytes(), xml.into_bytes())
}

fn decode_bench(c: &mut Criterion) {
    let (json, form, xml) = api_bodies();
    let mut group = c.benchmark_group("response_decoding");
    group.throughput(Throughput::Elements(1));
    group.bench_function("floor: serde_json::Value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&json)).unwrap())
    });
    group.bench_function("decode_response JSON", |b| {
        b.iter(|| decode_response(Some("application/json"), black_box(&json)))
    });
    group.bench_function("floor: serde_urlencoded pairs", |b| {
        b.iter(|| serde_urlencoded::from_bytes::<Vec<(String, String)>>(black_box(&form)).unwrap())
    });
    group.bench_function("decode_response form", |b| {
        b.iter(|| decode_response(Some("application/x-www-form-urlencoded"), black_box(&form)))
    });
    group.bench_function("floor: roxmltree::Document::parse", |b| {
        b.iter(|| {
            let text = std::str::from_utf8(black_box(&xml)).unwrap();
            roxmltree::Document::parse(text).map(|doc| doc.descendants().count())
        })
    });
    group.bench_function("decode_response XML", |b| {
        b.iter(|| decode_response(Some("application/xml"), black_box(&xml)))
    });
    group.finish();
}

/// A signed `id_token` and the JWK Set that verifies it, for one algorithm.
fn signed_id_token(
    alg: jsonwebtoken::Algorithm,
) -> (String, Vec<u8>, jsonwebtoken::jwk::Jwk, &'static str) {
    use jsonwebtoken::{
        jwk::{
            AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
            EllipticCurveKeyType, Jwk, JwkSet, RSAKeyParameters, RSAKeyType,
        },
        EncodingKey, Header,
    };
    let mut rng = rand::rngs::OsRng;
    let (encoding, parameters, name) = match alg {
        jsonwebtoken::Algorithm::ES256 => {
            use p256::{elliptic_curve::sec1::ToEncodedPoint as _, pkcs8::EncodePrivateKey as _};
            let secret = p256::SecretKey::random(&mut rng);
            let der = secret.to_pkcs8_der().unwrap();
            let point = secret.public_key().to_encoded_point(false);
            let parameters = AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                key_type: EllipticCurveKeyType::EC,
                curve: EllipticCurve::P256,
                x: URL_SAFE_NO_PAD.encode(point.x().unwrap()),
                y: URL_SAFE_NO_PAD.encode(point.y().unwrap()),
            });
            (
                EncodingKey::from_ec_der(der.as_bytes()),
                parameters,
                "ES256",
            )
        }
        _ => {
            use rsa::{pkcs1::EncodeRsaPrivateKey as _, traits::PublicKeyParts as _};
            let secret = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
            let der = secret.to_pkcs1_der().unwrap();
            let parameters = AlgorithmParameters::RSA(RSAKeyParameters {
                key_type: RSAKeyType::RSA,
                n: URL_SAFE_NO_PAD.encode(secret.n().to_bytes_be()),
                e: URL_SAFE_NO_PAD.encode(secret.e().to_bytes_be()),
            });
            (
                EncodingKey::from_rsa_der(der.as_bytes()),
                parameters,
                "RS256",
            )
        }
    };
    let jwk = Jwk {
        common: CommonParameters {
            key_id: Some("k1".to_owned()),
            ..CommonParameters::default()
        },
        algorithm: parameters,
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": "110169484474386276334", "aud": "client", "azp": "client",
        "exp": now + 3600, "iat": now, "nonce": NONCE, "email": "alice@example.test",
        "email_verified": true, "name": "Alice Example",
    });
    let mut header = Header::new(alg);
    header.kid = Some("k1".to_owned());
    let token = jsonwebtoken::encode(&header, &claims, &encoding).unwrap();
    let jwks = serde_json::to_vec(&JwkSet {
        keys: vec![jwk.clone()],
    })
    .unwrap();
    (token, jwks, jwk, name)
}

const ISSUER: &str = "https://accounts.example";
const NONCE: &str = "n-0S6_WzA2Mj";

/// `id_token` validation with a cached JWKS (header, key lookup, signature, claims, nonce)
/// against its floor: the bare signature verification of the same token, as validation does it
/// (`ring`; benches/id_token.rs compares it with `jsonwebtoken`'s pure-Rust backend).
fn id_token_bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("id_token");
    group.throughput(Throughput::Elements(1));
    for alg in [
        jsonwebtoken::Algorithm::ES256,
        jsonwebtoken::Algorithm::RS256,
    ] {
        let (token, jwks, key, name) = signed_id_token(alg);
        let validator = IdTokenValidator::new(ISSUER, &jwks, "client").unwrap();
        validator.validate(&token, Some(NONCE)).unwrap();
        group.bench_function(format!("floor: bare {name} signature verification"), |b| {
            b.iter(|| assert!(verify_jws(alg, black_box(&key), black_box(&token))))
        });
        group.bench_function(format!("validate {name} id_token (cached JWKS)"), |b| {
            b.iter(|| validator.validate(black_box(&token), Some(NONCE)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    state_and_pkce_bench,
    callback_bench,
    token_bench,
    decode_bench,
    id_token_bench
);
criterion_main!(benches);
