//! The provider's `id_token` signing keys: generated at start, rotated on demand, published as a
//! JWK Set ([RFC 7517]) with RFC 7638 thumbprints as key ids.
//!
//! [RFC 7517]: https://www.rfc-editor.org/rfc/rfc7517

use std::fmt;
use std::io;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse, RSAKeyParameters, RSAKeyType,
    ThumbprintHash,
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

/// The size of generated RSA keys, in bits.
const RSA_BITS: usize = 2048;

/// How the development provider signs its `id_token`s ([RFC 7518 §3.1]).
///
/// [RFC 7518 §3.1]: https://www.rfc-editor.org/rfc/rfc7518#section-3.1
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum DevAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256 and a 2048-bit RSA key, what most real providers use.
    /// The default.
    #[default]
    Rs256,
    /// ECDSA with P-256 and SHA-256.
    Es256,
}

impl DevAlgorithm {
    /// The JOSE name: `"RS256"` or `"ES256"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Es256 => "ES256",
        }
    }

    pub(super) fn jose(self) -> Algorithm {
        match self {
            Self::Rs256 => Algorithm::RS256,
            Self::Es256 => Algorithm::ES256,
        }
    }
}

impl fmt::Display for DevAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A private signing key with its public JWK. Nothing private is `Debug`.
pub(super) struct SigningKey {
    algorithm: DevAlgorithm,
    private: EncodingKey,
    /// The public key, with `kid`, `alg` and `use: "sig"`.
    public: Jwk,
}

impl SigningKey {
    /// Generates a fresh key from the operating system's random numbers.
    ///
    /// # Errors
    /// When the key cannot be generated or encoded (which does not happen with a working
    /// random number generator).
    pub(super) fn generate(algorithm: DevAlgorithm) -> io::Result<Self> {
        let mut rng = rand::rngs::OsRng;
        let (private, parameters) = match algorithm {
            DevAlgorithm::Es256 => {
                use p256::elliptic_curve::sec1::ToEncodedPoint as _;
                use p256::pkcs8::EncodePrivateKey as _;

                let secret = p256::SecretKey::random(&mut rng);
                let der = secret.to_pkcs8_der().map_err(io::Error::other)?;
                let point = secret.public_key().to_encoded_point(false);
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err(io::Error::other("The P-256 public key has no coordinates."));
                };
                let parameters = AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                    key_type: EllipticCurveKeyType::EC,
                    curve: EllipticCurve::P256,
                    x: URL_SAFE_NO_PAD.encode(x),
                    y: URL_SAFE_NO_PAD.encode(y),
                });
                (EncodingKey::from_ec_der(der.as_bytes()), parameters)
            }
            DevAlgorithm::Rs256 => {
                use rsa::pkcs1::EncodeRsaPrivateKey as _;
                use rsa::traits::PublicKeyParts as _;

                let secret =
                    rsa::RsaPrivateKey::new(&mut rng, RSA_BITS).map_err(io::Error::other)?;
                let der = secret.to_pkcs1_der().map_err(io::Error::other)?;
                let parameters = AlgorithmParameters::RSA(RSAKeyParameters {
                    key_type: RSAKeyType::RSA,
                    n: URL_SAFE_NO_PAD.encode(secret.n().to_bytes_be()),
                    e: URL_SAFE_NO_PAD.encode(secret.e().to_bytes_be()),
                });
                (EncodingKey::from_rsa_der(der.as_bytes()), parameters)
            }
        };
        let mut public = Jwk {
            common: CommonParameters::default(),
            algorithm: parameters,
        };
        // RFC 7638: the thumbprint covers only the required members, so it is computed before
        // `kid`, `alg` and `use` are added (they would not change it anyway).
        let kid = public.thumbprint(ThumbprintHash::SHA256);
        public.common = CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(match algorithm {
                DevAlgorithm::Rs256 => KeyAlgorithm::RS256,
                DevAlgorithm::Es256 => KeyAlgorithm::ES256,
            }),
            key_id: Some(kid),
            ..CommonParameters::default()
        };
        Ok(Self {
            algorithm,
            private,
            public,
        })
    }

    /// The key id: the RFC 7638 SHA-256 thumbprint of the public key.
    pub(super) fn kid(&self) -> &str {
        self.public.common.key_id.as_deref().unwrap_or_default()
    }

    /// A compact JWS of `claims`, its header naming `alg`, `typ: JWT` and this key's `kid`.
    pub(super) fn sign(&self, claims: &impl Serialize) -> jsonwebtoken::errors::Result<String> {
        self.sign_typed(claims, "JWT")
    }

    /// A compact JWS of `claims` whose header's `typ` is `typ` (`logout+jwt` for logout tokens).
    pub(super) fn sign_typed(
        &self,
        claims: &impl Serialize,
        typ: &str,
    ) -> jsonwebtoken::errors::Result<String> {
        let mut header = Header::new(self.algorithm.jose());
        header.typ = Some(typ.to_owned());
        header.kid = Some(self.kid().to_owned());
        jsonwebtoken::encode(&header, claims, &self.private)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid())
            .field("algorithm", &self.algorithm)
            .field("private", &"[redacted]")
            .finish()
    }
}

/// The published keys and the unpublished one that signs "unknown `kid`" tokens.
#[derive(Debug)]
pub(super) struct KeyRing {
    /// Signs new `id_token`s.
    pub(super) current: Arc<SigningKey>,
    /// The key before the last rotation, still published so that tokens it signed verify.
    pub(super) previous: Option<Arc<SigningKey>>,
    /// Never published; generated when a test first asks for an unknown-key fault.
    pub(super) unpublished: Option<Arc<SigningKey>>,
    /// The key most recently taken out of the JWKS, which signs withdrawn-key tokens.
    pub(super) withdrawn: Option<Arc<SigningKey>>,
}

impl KeyRing {
    pub(super) fn new(current: SigningKey) -> Self {
        Self {
            current: Arc::new(current),
            previous: None,
            unpublished: None,
            withdrawn: None,
        }
    }

    /// Makes `next` the current key; the current one becomes the previous one, and the one
    /// before that is no longer published.
    pub(super) fn rotate(&mut self, next: SigningKey) {
        let next = Arc::new(next);
        let replaced = std::mem::replace(&mut self.current, next);
        if let Some(withdrawn) = self.previous.replace(replaced) {
            self.withdrawn = Some(withdrawn);
        }
    }

    /// Stops publishing every key but the current one.
    pub(super) fn drop_old(&mut self) {
        if let Some(withdrawn) = self.previous.take() {
            self.withdrawn = Some(withdrawn);
        }
    }

    /// The JWK Set to publish: the current key first, then the previous one.
    pub(super) fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: std::iter::once(&self.current)
                .chain(&self.previous)
                .map(|key| key.public.clone())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{decode, DecodingKey, Validation};
    use serde_json::{json, Value};

    use super::*;

    fn roundtrip(algorithm: DevAlgorithm) {
        let key = SigningKey::generate(algorithm).expect("a key");
        let token = key
            .sign(&json!({ "sub": "x", "exp": u64::MAX / 2 }))
            .expect("signed");
        let header = jsonwebtoken::decode_header(&token).expect("a header");
        assert_eq!(header.kid.as_deref(), Some(key.kid()));
        assert_eq!(header.alg, algorithm.jose());

        let ring = KeyRing::new(key);
        let jwks = serde_json::to_value(ring.jwks()).expect("JSON");
        let jwk = &jwks["keys"][0];
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["alg"], algorithm.as_str());
        assert_eq!(jwk["kid"], ring.current.kid());
        assert_eq!(ring.current.kid().len(), 43, "a SHA-256 thumbprint");
        match algorithm {
            DevAlgorithm::Es256 => {
                assert_eq!(
                    (jwk["kty"].as_str(), jwk["crv"].as_str()),
                    (Some("EC"), Some("P-256"))
                );
                assert_eq!(jwk["x"].as_str().map(str::len), Some(43));
                assert_eq!(jwk["y"].as_str().map(str::len), Some(43));
            }
            DevAlgorithm::Rs256 => {
                assert_eq!(jwk["kty"], "RSA");
                assert_eq!(jwk["e"], "AQAB");
                assert_eq!(jwk["n"].as_str().map(str::len), Some(342), "2048 bits");
            }
        }
        let jwk: Jwk = serde_json::from_value(jwk.clone()).expect("a JWK");
        let decoding = DecodingKey::from_jwk(&jwk).expect("a decoding key");
        let claims = decode::<Value>(&token, &decoding, &Validation::new(algorithm.jose()))
            .expect("verifies with the published key")
            .claims;
        assert_eq!(claims["sub"], "x");
    }

    #[test]
    fn es256_keys_sign_what_their_jwk_verifies() {
        roundtrip(DevAlgorithm::Es256);
    }

    #[test]
    fn rs256_keys_sign_what_their_jwk_verifies() {
        roundtrip(DevAlgorithm::Rs256);
    }

    #[test]
    fn rotation_keeps_one_previous_key() {
        let key = || SigningKey::generate(DevAlgorithm::Es256).expect("a key");
        let mut ring = KeyRing::new(key());
        let first = ring.current.kid().to_owned();
        ring.rotate(key());
        let second = ring.current.kid().to_owned();
        assert_ne!(first, second);
        let kids = |ring: &KeyRing| -> Vec<String> {
            ring.jwks()
                .keys
                .into_iter()
                .filter_map(|k| k.common.key_id)
                .collect()
        };
        assert_eq!(kids(&ring), [second.clone(), first.clone()]);
        assert!(ring.withdrawn.is_none());
        ring.rotate(key());
        let third = ring.current.kid().to_owned();
        assert_eq!(kids(&ring), [third.clone(), second.clone()]);
        let withdrawn = |ring: &KeyRing| ring.withdrawn.as_ref().map(|k| k.kid().to_owned());
        assert_eq!(
            withdrawn(&ring),
            Some(first),
            "the key the rotation retired"
        );
        ring.drop_old();
        assert_eq!(kids(&ring), [third]);
        assert_eq!(withdrawn(&ring), Some(second.clone()), "the key dropped");
        ring.drop_old();
        assert_eq!(withdrawn(&ring), Some(second), "nothing more was dropped");
    }

    #[test]
    fn private_keys_are_redacted() {
        let key = SigningKey::generate(DevAlgorithm::Es256).expect("a key");
        let debug = format!("{:?}", KeyRing::new(key));
        assert!(debug.contains("[redacted]"), "{debug}");
        assert!(!debug.contains("content"), "{debug}");
    }
}
