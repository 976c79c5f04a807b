//! [`ClientKey`]: a private key this client signs JWTs with — `private_key_jwt` client
//! assertions (RFC 7523 §2.2, OpenID Connect Core §9) and Apple's client secret.
//!
//! Signing is `ring`'s (the crate that already verifies ID tokens), so the feature that brings
//! this in, `private-key-jwt`, adds no crate to the build.

use std::{fmt, sync::Arc};

use ring::{
    rand::SystemRandom,
    signature::{self, EcdsaKeyPair, RsaKeyPair},
};
use rustls_pki_types::{pem::PemObject as _, PrivateKeyDer};

use crate::error::OAuthError;

/// The JWS algorithm a [`ClientKey`] signs with (RFC 7518 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningAlgorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256: the default for RSA keys.
    Rs256,
    /// RSASSA-PSS with SHA-256 (FAPI's choice for RSA keys).
    Ps256,
    /// ECDSA on P-256 with SHA-256: the only one for P-256 keys (Apple's `.p8` keys).
    Es256,
}

impl SigningAlgorithm {
    /// The `alg` header value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rs256 => "RS256",
            Self::Ps256 => "PS256",
            Self::Es256 => "ES256",
        }
    }
}

enum Pair {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A private key the client signs with: RSA (RS256 or PS256) or P-256 (ES256), read from PEM.
/// Cheap to clone.
///
/// ```
/// # fn main() -> Result<(), actix_oauth::OAuthError> {
/// # let pem = include_str!("../tests/data/es256-client-key.pem");
/// use actix_oauth::ClientKey;
///
/// let key = ClientKey::from_pem(pem)?.key_id("2024-01");
/// # let _ = key;
/// # Ok(()) }
/// ```
///
/// # Security
/// The key is parsed once and never printed: `Debug` shows the algorithm and key id only.
#[derive(Clone)]
pub struct ClientKey {
    pair: Arc<Pair>,
    algorithm: SigningAlgorithm,
    key_id: Option<String>,
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientKey")
            .field("algorithm", &self.algorithm)
            .field("key_id", &self.key_id)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl ClientKey {
    /// Reads a private key from PEM: PKCS#8 (`BEGIN PRIVATE KEY`, what Apple's `.p8` files and
    /// `openssl genpkey` write) holding an RSA or a P-256 key, or PKCS#1 (`BEGIN RSA PRIVATE
    /// KEY`). RSA keys sign with RS256 unless [`algorithm`](Self::algorithm) says PS256; P-256
    /// keys with ES256. No key id until [`key_id`](Self::key_id).
    ///
    /// # Errors
    /// [`OAuthError::Configuration`] when the text holds no such key. A SEC1 EC key (`BEGIN EC
    /// PRIVATE KEY`) is refused with the command that converts it to PKCS#8.
    pub fn from_pem(pem: &str) -> Result<Self, OAuthError> {
        let der = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| {
            OAuthError::config("the private key is not a PEM `PRIVATE KEY` or `RSA PRIVATE KEY`.")
        })?;
        let rng = SystemRandom::new();
        let (pair, algorithm) = match &der {
            PrivateKeyDer::Pkcs8(pkcs8) => {
                let bytes = pkcs8.secret_pkcs8_der();
                match EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    bytes,
                    &rng,
                ) {
                    Ok(pair) => (Pair::Ec(pair), SigningAlgorithm::Es256),
                    Err(_) => {
                        let pair = RsaKeyPair::from_pkcs8(bytes).map_err(|e| {
                            OAuthError::config(format!(
                                "the private key is neither a P-256 nor a usable RSA key ({e})."
                            ))
                        })?;
                        (Pair::Rsa(pair), SigningAlgorithm::Rs256)
                    }
                }
            }
            PrivateKeyDer::Pkcs1(pkcs1) => {
                let pair = RsaKeyPair::from_der(pkcs1.secret_pkcs1_der()).map_err(|e| {
                    OAuthError::config(format!("the RSA private key is not usable ({e})."))
                })?;
                (Pair::Rsa(pair), SigningAlgorithm::Rs256)
            }
            _ => {
                return Err(OAuthError::config(
                    "the private key is a SEC1 EC key; convert it to PKCS#8 with \
                     `openssl pkcs8 -topk8 -nocrypt -in key.pem -out key.p8`.",
                ))
            }
        };
        Ok(Self {
            pair: Arc::new(pair),
            algorithm,
            key_id: None,
        })
    }

    /// Sets the key id (`kid`) the JWTs' header carries, as registered at the provider (Apple's
    /// "Key ID"). Default: none.
    #[must_use]
    pub fn key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = Some(key_id.into());
        self
    }

    /// Sets the algorithm: PS256 instead of RS256 for an RSA key.
    ///
    /// # Errors
    /// [`OAuthError::Configuration`] when the key cannot sign with it (ES256 with an RSA key,
    /// RS256 or PS256 with a P-256 key).
    pub fn algorithm(mut self, algorithm: SigningAlgorithm) -> Result<Self, OAuthError> {
        let fits = matches!(
            (&*self.pair, algorithm),
            (Pair::Ec(_), SigningAlgorithm::Es256)
                | (
                    Pair::Rsa(_),
                    SigningAlgorithm::Rs256 | SigningAlgorithm::Ps256
                )
        );
        if !fits {
            return Err(OAuthError::config(format!(
                "a {} key cannot sign with {}.",
                match *self.pair {
                    Pair::Ec(_) => "P-256",
                    Pair::Rsa(_) => "RSA",
                },
                algorithm.as_str()
            )));
        }
        self.algorithm = algorithm;
        Ok(self)
    }

    /// The algorithm it signs with.
    pub fn signing_algorithm(&self) -> SigningAlgorithm {
        self.algorithm
    }

    /// Its key id, if set.
    pub fn id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// Signs `message` (a JWS signing input), as the algorithm's JWS form (ES256: fixed
    /// `r || s`).
    pub(crate) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, OAuthError> {
        let rng = SystemRandom::new();
        let failed = |_| OAuthError::config("the client key could not sign.");
        match &*self.pair {
            Pair::Ec(pair) => Ok(pair.sign(&rng, message).map_err(failed)?.as_ref().to_vec()),
            Pair::Rsa(pair) => {
                let padding: &'static dyn signature::RsaEncoding = match self.algorithm {
                    SigningAlgorithm::Ps256 => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0; pair.public().modulus_len()];
                pair.sign(padding, &rng, message, &mut out)
                    .map_err(failed)?;
                Ok(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ES256: &str = include_str!("../tests/data/es256-client-key.pem");
    const RSA: &str = include_str!("../tests/data/rsa-client-key.pem");

    #[test]
    fn reads_p256_and_rsa_keys_and_hides_them() {
        let ec = ClientKey::from_pem(ES256).unwrap().key_id("k1");
        assert_eq!(ec.signing_algorithm(), SigningAlgorithm::Es256);
        assert_eq!(ec.id(), Some("k1"));
        assert_eq!(ec.sign(b"x").unwrap().len(), 64);
        let shown = format!("{ec:?}");
        assert!(
            shown.contains("[redacted]") && !shown.contains("MIG"),
            "{shown}"
        );
        let rsa = ClientKey::from_pem(RSA).unwrap();
        assert_eq!(rsa.signing_algorithm(), SigningAlgorithm::Rs256);
        let ps = rsa.algorithm(SigningAlgorithm::Ps256).unwrap();
        assert_eq!(ps.signing_algorithm(), SigningAlgorithm::Ps256);
        assert_eq!(ps.sign(b"x").unwrap().len(), 256);
        assert!(ClientKey::from_pem(ES256)
            .unwrap()
            .algorithm(SigningAlgorithm::Rs256)
            .is_err());
        assert!(ClientKey::from_pem("not a key").is_err());
        let sec1 = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBYr\n-----END EC PRIVATE KEY-----\n";
        let err = ClientKey::from_pem(sec1).unwrap_err();
        assert!(err.to_string().contains("openssl pkcs8"), "{err}");
    }
}
