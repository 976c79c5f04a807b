//! JWS signature verification ([RFC 7515 §5.2]) with `ring`, for the asymmetric algorithms of
//! [RFC 7518 §3] and EdDSA ([RFC 8037]): the key comes from a provider's JWK.
//!
//! Only public keys and verification: nothing here signs, and nothing is installed as a
//! process-wide `jsonwebtoken` crypto provider (an application signing its own JWTs with
//! `jsonwebtoken` keeps whatever backend it chose).
//!
//! [RFC 7515 §5.2]: https://www.rfc-editor.org/rfc/rfc7515#section-5.2
//! [RFC 7518 §3]: https://www.rfc-editor.org/rfc/rfc7518#section-3
//! [RFC 8037]: https://www.rfc-editor.org/rfc/rfc8037

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{
    jwk::{AlgorithmParameters, EllipticCurve, Jwk},
    Algorithm,
};
use ring::signature::{self, RsaParameters, RsaPublicKeyComponents, UnparsedPublicKey};

/// Why a signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JwsError {
    /// A member of the key (`n`, `e`, `x`, `y`) is not base64url: the JWKS is broken.
    UnreadableKey,
    /// The signature does not verify with this key under this algorithm, or the key cannot
    /// serve the algorithm (another family or curve, an RSA modulus outside 2048–8192 bits, a
    /// point not on the curve).
    Invalid,
}

/// Verifies `signature` (the decoded third part of a compact JWS) over `message` (the ASCII
/// `header.payload`) with `key` under `alg`.
///
/// RS256/384/512 are RSASSA-PKCS1-v1_5 and PS256/384/512 RSASSA-PSS (salt as long as the
/// hash, RFC 7518 §3.5), both with a 2048- to 8192-bit modulus; ES256 and ES384 take the fixed
/// `r || s` form of RFC 7518 §3.4 and a key on P-256 or P-384 respectively; EdDSA takes an
/// Ed25519 key (RFC 8037 §3.1). Any other algorithm, or a key of another type or curve, is
/// [`JwsError::Invalid`].
pub(crate) fn verify(
    alg: Algorithm,
    key: &Jwk,
    message: &[u8],
    signature: &[u8],
) -> Result<(), JwsError> {
    let verified = match &key.algorithm {
        AlgorithmParameters::RSA(rsa) => {
            let parameters = rsa_parameters(alg).ok_or(JwsError::Invalid)?;
            let n = decode(&rsa.n)?;
            let e = decode(&rsa.e)?;
            // ring takes unsigned big-endian integers without leading zeros; some JWKS encode
            // the modulus with the sign octet DER would carry.
            let components = RsaPublicKeyComponents {
                n: without_leading_zeros(&n),
                e: without_leading_zeros(&e),
            };
            components.verify(parameters, message, signature)
        }
        AlgorithmParameters::EllipticCurve(ec) => {
            let (algorithm, size): (&'static signature::EcdsaVerificationAlgorithm, usize) =
                match (alg, &ec.curve) {
                    (Algorithm::ES256, EllipticCurve::P256) => {
                        (&signature::ECDSA_P256_SHA256_FIXED, 32)
                    }
                    (Algorithm::ES384, EllipticCurve::P384) => {
                        (&signature::ECDSA_P384_SHA384_FIXED, 48)
                    }
                    _ => return Err(JwsError::Invalid),
                };
            let x = decode(&ec.x)?;
            let y = decode(&ec.y)?;
            if x.len() != size || y.len() != size {
                return Err(JwsError::Invalid);
            }
            // The uncompressed SEC 1 point: 0x04 || x || y.
            let mut point = Vec::with_capacity(1 + 2 * size);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            UnparsedPublicKey::new(algorithm, point).verify(message, signature)
        }
        AlgorithmParameters::OctetKeyPair(okp)
            if alg == Algorithm::EdDSA && okp.curve == EllipticCurve::Ed25519 =>
        {
            let x = decode(&okp.x)?;
            UnparsedPublicKey::new(&signature::ED25519, x).verify(message, signature)
        }
        AlgorithmParameters::OctetKeyPair(_) | AlgorithmParameters::OctetKey(_) => {
            return Err(JwsError::Invalid)
        }
    };
    verified.map_err(|_| JwsError::Invalid)
}

/// The RSA scheme and hash `alg` names, if it names one.
fn rsa_parameters(alg: Algorithm) -> Option<&'static RsaParameters> {
    Some(match alg {
        Algorithm::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Algorithm::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Algorithm::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Algorithm::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Algorithm::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Algorithm::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

fn decode(member: &str) -> Result<Vec<u8>, JwsError> {
    URL_SAFE_NO_PAD
        .decode(member)
        .map_err(|_| JwsError::UnreadableKey)
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

#[cfg(test)]
mod tests {
    //! Tokens are signed by an independent implementation (`jsonwebtoken` with its pure-Rust
    //! backend, a dev-dependency) and verified here with `ring`.

    use jsonwebtoken::{
        jwk::{
            CommonParameters, EllipticCurveKeyParameters, EllipticCurveKeyType,
            OctetKeyPairParameters, OctetKeyPairType, RSAKeyParameters, RSAKeyType,
        },
        EncodingKey,
    };
    use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair as _};

    use super::*;

    const MESSAGE: &[u8] = b"eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9";

    struct TestKey {
        private: EncodingKey,
        public: Jwk,
    }

    fn jwk(algorithm: AlgorithmParameters) -> Jwk {
        Jwk {
            common: CommonParameters::default(),
            algorithm,
        }
    }

    fn rsa_key(bits: usize) -> TestKey {
        use rsa::{pkcs1::EncodeRsaPrivateKey as _, traits::PublicKeyParts as _};
        let secret = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, bits).expect("an RSA key");
        let der = secret.to_pkcs1_der().expect("PKCS#1");
        TestKey {
            private: EncodingKey::from_rsa_der(der.as_bytes()),
            public: jwk(AlgorithmParameters::RSA(RSAKeyParameters {
                key_type: RSAKeyType::RSA,
                n: URL_SAFE_NO_PAD.encode(secret.n().to_bytes_be()),
                e: URL_SAFE_NO_PAD.encode(secret.e().to_bytes_be()),
            })),
        }
    }

    fn ec_key(alg: Algorithm) -> TestKey {
        let rng = ring::rand::SystemRandom::new();
        let (signing, curve, size) = match alg {
            Algorithm::ES256 => (
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                EllipticCurve::P256,
                32,
            ),
            _ => (
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                EllipticCurve::P384,
                48,
            ),
        };
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng).expect("an EC key");
        let pair = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng).expect("PKCS#8");
        let point = pair.public_key().as_ref();
        assert_eq!(point.len(), 1 + 2 * size);
        TestKey {
            private: EncodingKey::from_ec_der(pkcs8.as_ref()),
            public: jwk(AlgorithmParameters::EllipticCurve(
                EllipticCurveKeyParameters {
                    key_type: EllipticCurveKeyType::EC,
                    curve,
                    x: URL_SAFE_NO_PAD.encode(&point[1..=size]),
                    y: URL_SAFE_NO_PAD.encode(&point[1 + size..]),
                },
            )),
        }
    }

    fn ed25519_key() -> TestKey {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("an Ed25519 key");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("PKCS#8");
        TestKey {
            private: EncodingKey::from_ed_der(pkcs8.as_ref()),
            public: jwk(AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                key_type: OctetKeyPairType::OctetKeyPair,
                curve: EllipticCurve::Ed25519,
                x: URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            })),
        }
    }

    /// `jsonwebtoken`'s signature of [`MESSAGE`], decoded.
    fn sign(key: &TestKey, alg: Algorithm) -> Vec<u8> {
        let signature = jsonwebtoken::crypto::sign(MESSAGE, &key.private, alg).expect("signed");
        URL_SAFE_NO_PAD.decode(signature).expect("base64url")
    }

    /// Every algorithm verifies its own signature, and refuses it once one bit is flipped, over
    /// another message, or under another key of the same kind.
    #[test]
    fn every_algorithm_verifies_and_refuses_a_flipped_bit_or_another_key() {
        let rsa = [rsa_key(2048), rsa_key(2048)];
        let es256 = [ec_key(Algorithm::ES256), ec_key(Algorithm::ES256)];
        let es384 = [ec_key(Algorithm::ES384), ec_key(Algorithm::ES384)];
        let ed25519 = [ed25519_key(), ed25519_key()];
        let cases: [(Algorithm, &[TestKey; 2]); 9] = [
            (Algorithm::RS256, &rsa),
            (Algorithm::RS384, &rsa),
            (Algorithm::RS512, &rsa),
            (Algorithm::PS256, &rsa),
            (Algorithm::PS384, &rsa),
            (Algorithm::PS512, &rsa),
            (Algorithm::ES256, &es256),
            (Algorithm::ES384, &es384),
            (Algorithm::EdDSA, &ed25519),
        ];
        for (alg, [key, other]) in cases {
            let signature = sign(key, alg);
            assert_eq!(
                verify(alg, &key.public, MESSAGE, &signature),
                Ok(()),
                "{alg:?}"
            );
            for bit in [0, 8 * signature.len() / 2 + 3, 8 * signature.len() - 1] {
                let mut flipped = signature.clone();
                flipped[bit / 8] ^= 1 << (bit % 8);
                assert_eq!(
                    verify(alg, &key.public, MESSAGE, &flipped),
                    Err(JwsError::Invalid),
                    "{alg:?}, bit {bit}"
                );
            }
            let mut message = MESSAGE.to_vec();
            message[0] ^= 1;
            assert_eq!(
                verify(alg, &key.public, &message, &signature),
                Err(JwsError::Invalid),
                "{alg:?}, another message"
            );
            assert_eq!(
                verify(alg, &other.public, MESSAGE, &signature),
                Err(JwsError::Invalid),
                "{alg:?}, another key"
            );
            assert_eq!(
                verify(alg, &key.public, MESSAGE, &signature[..signature.len() - 1]),
                Err(JwsError::Invalid),
                "{alg:?}, a short signature"
            );
        }
    }

    /// A signature of one RSA scheme or hash does not pass as another.
    #[test]
    fn rsa_schemes_and_hashes_are_not_interchangeable() {
        let key = rsa_key(2048);
        let rsa_algs = [
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ];
        for signed in rsa_algs {
            let signature = sign(&key, signed);
            for claimed in rsa_algs.into_iter().filter(|&a| a != signed) {
                assert_eq!(
                    verify(claimed, &key.public, MESSAGE, &signature),
                    Err(JwsError::Invalid),
                    "signed {signed:?}, claimed {claimed:?}"
                );
            }
        }
    }

    /// A 1024-bit RSA key signs a valid signature that the pure-Rust backend would accept; it
    /// is refused for its size.
    #[test]
    fn rsa_keys_under_2048_bits_are_refused() {
        let key = rsa_key(1024);
        let signature = sign(&key, Algorithm::RS256);
        assert_eq!(rsa_modulus(&key.public).len(), 128, "a 1024-bit modulus");
        let pure_rust = jsonwebtoken::DecodingKey::from_jwk(&key.public).expect("a key");
        let encoded = URL_SAFE_NO_PAD.encode(&signature);
        assert_eq!(
            jsonwebtoken::crypto::verify(&encoded, MESSAGE, &pure_rust, Algorithm::RS256).ok(),
            Some(true),
            "the signature itself is valid"
        );
        assert_eq!(
            verify(Algorithm::RS256, &key.public, MESSAGE, &signature),
            Err(JwsError::Invalid)
        );
    }

    fn rsa_modulus(key: &Jwk) -> Vec<u8> {
        match &key.algorithm {
            AlgorithmParameters::RSA(rsa) => URL_SAFE_NO_PAD.decode(&rsa.n).expect("n"),
            _ => panic!("not an RSA key"),
        }
    }

    /// A modulus published with a leading zero octet is the same number.
    #[test]
    fn a_leading_zero_in_the_modulus_is_the_same_key() {
        let mut key = rsa_key(2048);
        let signature = sign(&key, Algorithm::RS256);
        let n = rsa_modulus(&key.public);
        if let AlgorithmParameters::RSA(rsa) = &mut key.public.algorithm {
            rsa.n = URL_SAFE_NO_PAD.encode([&[0u8][..], &n].concat());
        }
        assert_eq!(
            verify(Algorithm::RS256, &key.public, MESSAGE, &signature),
            Ok(())
        );
    }

    /// The curve of an EC key must be the algorithm's; an Ed25519 or RSA key serves no ECDSA
    /// algorithm and an EC key no EdDSA or RSA one.
    #[test]
    fn keys_of_another_curve_or_type_are_refused() {
        let p256 = ec_key(Algorithm::ES256);
        let p384 = ec_key(Algorithm::ES384);
        let ed25519 = ed25519_key();
        let rsa = rsa_key(2048);

        let es256 = sign(&p256, Algorithm::ES256);
        assert_eq!(
            verify(Algorithm::ES384, &p256.public, MESSAGE, &es256),
            Err(JwsError::Invalid),
            "a P-256 key used with ES384"
        );
        let es384 = sign(&p384, Algorithm::ES384);
        assert_eq!(
            verify(Algorithm::ES256, &p384.public, MESSAGE, &es384),
            Err(JwsError::Invalid),
            "a P-384 key used with ES256"
        );
        let eddsa = sign(&ed25519, Algorithm::EdDSA);
        for alg in [Algorithm::ES256, Algorithm::RS256] {
            assert_eq!(
                verify(alg, &ed25519.public, MESSAGE, &eddsa),
                Err(JwsError::Invalid),
                "an Ed25519 key used with {alg:?}"
            );
        }
        assert_eq!(
            verify(Algorithm::EdDSA, &p256.public, MESSAGE, &es256),
            Err(JwsError::Invalid),
            "a P-256 key used with EdDSA"
        );
        let rs256 = sign(&rsa, Algorithm::RS256);
        assert_eq!(
            verify(Algorithm::ES256, &rsa.public, MESSAGE, &rs256),
            Err(JwsError::Invalid),
            "an RSA key used with ES256"
        );
        // An octet key pair must be on Ed25519 to serve EdDSA.
        let mut elsewhere = ed25519.public.clone();
        if let AlgorithmParameters::OctetKeyPair(okp) = &mut elsewhere.algorithm {
            okp.curve = EllipticCurve::P256;
        }
        assert_eq!(
            verify(Algorithm::EdDSA, &elsewhere, MESSAGE, &eddsa),
            Err(JwsError::Invalid)
        );
        // HMAC keys and algorithms never verify here.
        let secret = jwk(AlgorithmParameters::OctetKey(
            jsonwebtoken::jwk::OctetKeyParameters {
                key_type: jsonwebtoken::jwk::OctetKeyType::Octet,
                value: URL_SAFE_NO_PAD.encode(b"secret"),
            },
        ));
        assert_eq!(
            verify(Algorithm::HS256, &secret, MESSAGE, b"x"),
            Err(JwsError::Invalid)
        );
        assert_eq!(
            verify(Algorithm::HS256, &rsa.public, MESSAGE, &rs256),
            Err(JwsError::Invalid)
        );
    }

    /// A key member that is not base64url is a broken JWKS, told apart from a bad signature;
    /// coordinates of the wrong length are a bad key.
    #[test]
    fn unreadable_and_misshapen_keys() {
        let p256 = ec_key(Algorithm::ES256);
        let signature = sign(&p256, Algorithm::ES256);
        let mut broken = p256.public.clone();
        let mut short = p256.public.clone();
        if let (AlgorithmParameters::EllipticCurve(b), AlgorithmParameters::EllipticCurve(s)) =
            (&mut broken.algorithm, &mut short.algorithm)
        {
            b.x = "not base64url!".to_owned();
            s.y = URL_SAFE_NO_PAD.encode([7u8; 31]);
        }
        assert_eq!(
            verify(Algorithm::ES256, &broken, MESSAGE, &signature),
            Err(JwsError::UnreadableKey)
        );
        assert_eq!(
            verify(Algorithm::ES256, &short, MESSAGE, &signature),
            Err(JwsError::Invalid)
        );
        let mut padded = rsa_key(2048).public;
        if let AlgorithmParameters::RSA(rsa) = &mut padded.algorithm {
            rsa.e = "AQAB=".to_owned();
        }
        assert_eq!(
            verify(Algorithm::RS256, &padded, MESSAGE, b"x"),
            Err(JwsError::UnreadableKey)
        );
    }
}
