//! The fake's `id_token` signatures: RS256 with `jsonwebtoken`'s pure-Rust backend (its
//! `rust_crypto` feature), independent of the crate's ring-based verifier.

use std::sync::OnceLock;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};

/// The RS256 key every fake signs with: generated once per test process.
pub struct SigningKey {
    private: EncodingKey,
    pub kid: String,
    /// The modulus, base64url.
    pub n: String,
    /// The exponent, base64url.
    pub e: String,
}

pub fn signing_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        use rsa::{pkcs1::EncodeRsaPrivateKey as _, traits::PublicKeyParts as _};
        let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("RSA key");
        let der = key.to_pkcs1_der().expect("DER");
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let kid = hex(&Sha256::digest(n.as_bytes())[..10]);
        SigningKey {
            private: EncodingKey::from_rsa_der(der.as_bytes()),
            kid,
            n,
            e: URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
        }
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A compact JWS of `claims`, RS256, naming the key by its `kid`.
pub fn sign(claims: &Value) -> String {
    let key = signing_key();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.private).expect("sign id_token")
}

/// The public key as a JWK: `kty`, `n`, `e`, `kid` and these `members` (`alg`, `use`, …).
pub fn jwk(members: Value) -> Value {
    let key = signing_key();
    let mut jwk = Map::new();
    jwk.insert("kty".into(), json!("RSA"));
    jwk.insert("kid".into(), json!(key.kid));
    jwk.insert("n".into(), json!(key.n));
    jwk.insert("e".into(), json!(key.e));
    if let Value::Object(members) = members {
        jwk.extend(members);
    }
    Value::Object(jwk)
}

/// OpenID Connect Core §3.1.3.6: the left half of the SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}
