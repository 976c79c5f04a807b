//! DPoP (RFC 9449): tokens bound to a key the app holds, so that a leaked access or refresh token
//! is worth nothing without it. [`DpopKey`] is the key of one sign-in (ES256, generated at the
//! code exchange and kept with the tokens); every token request and every API call with a
//! DPoP-bound token carries a fresh proof signed with it (RFC 9449 §4), with the server's
//! latest `DPoP-Nonce` ([`Nonces`], §8 and §9).
//!
//! Signing is `ring`'s (the crate that already verifies ID tokens): the feature `dpop` adds no
//! crate to the default build. Without it, [`DpopKey`] is an empty stand-in that no value has,
//! and `RemoteAppBuilder::dpop(true)` fails to build.

use std::{collections::HashMap, sync::Mutex};

use url::Url;

/// The most servers (origins) whose last `DPoP-Nonce` a remote app remembers: its token
/// endpoint and its API origins.
const MAX_NONCE_ORIGINS: usize = 32;
/// The longest `DPoP-Nonce` kept (RFC 9449 §8.1: a few dozen characters in practice).
const MAX_NONCE_LEN: usize = 512;

/// Which server a nonce is for: nonces are each server's own (RFC 9449 §8), and an
/// authorization server and a resource server often share an origin (a provider's token endpoint
/// and its APIs), so they are kept apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum NonceServer {
    /// The authorization server, at its token endpoint (RFC 9449 §8).
    Authorization,
    /// A resource server: its origin (RFC 9449 §9).
    Resource,
}

/// The last `DPoP-Nonce` each server gave (RFC 9449 §8.2, §9), by role and origin; bounded.
#[derive(Default)]
pub(crate) struct Nonces(Mutex<HashMap<(NonceServer, String), String>>);

impl Nonces {
    /// The nonce to put in the next proof for `url`'s server, if it gave one.
    pub(crate) fn get(&self, server: NonceServer, url: &Url) -> Option<String> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(server, url.origin().ascii_serialization()))
            .cloned()
    }

    /// Remembers the `DPoP-Nonce` header of a response from `url`'s server; `true` when it
    /// carried a usable one.
    pub(crate) fn remember(
        &self,
        server: NonceServer,
        url: &Url,
        headers: &::oauth2::http::HeaderMap,
    ) -> bool {
        let Some(nonce) = headers
            .get("dpop-nonce")
            .and_then(|v| v.to_str().ok())
            .filter(|n| is_nonce(n))
        else {
            return false;
        };
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let key = (server, url.origin().ascii_serialization());
        if map.len() >= MAX_NONCE_ORIGINS && !map.contains_key(&key) {
            // Servers are few (a token endpoint, a few APIs); one more evicts an arbitrary one,
            // which at worst costs that server a nonce round trip.
            if let Some(any) = map.keys().next().cloned() {
                map.remove(&any);
            }
        }
        map.insert(key, nonce.to_owned());
        true
    }
}

/// RFC 9449 §8.1: `nonce = 1*NQCHAR` (printable ASCII but `"` and `\`), bounded here.
fn is_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce.len() <= MAX_NONCE_LEN
        && nonce
            .bytes()
            .all(|b| (0x21..=0x7e).contains(&b) && b != b'"' && b != b'\\')
}

/// Whether a resource server's `401` asks for a (new) nonce: `WWW-Authenticate: DPoP
/// error="use_dpop_nonce"` (RFC 9449 §9).
pub(crate) fn asks_for_nonce(status: u16, headers: &::oauth2::http::HeaderMap) -> bool {
    status == 401
        && headers
            .get_all(::oauth2::http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("use_dpop_nonce"))
}

/// `htu` (RFC 9449 §4.2): the request URL without its query and fragment.
#[cfg_attr(not(feature = "dpop"), allow(dead_code))]
pub(crate) fn htu(url: &Url) -> String {
    url[..url::Position::AfterPath].to_owned()
}

#[cfg(feature = "dpop")]
pub use self::key::DpopKey;

#[cfg(feature = "dpop")]
mod key {
    use std::{fmt, sync::Arc};

    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    use ring::{
        rand::SystemRandom,
        signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING},
    };
    use serde_json::{json, Value};
    use sha2::{Digest as _, Sha256};
    use url::Url;

    use crate::{
        error::OAuthError,
        wire::{now_unix, random_token},
    };

    struct Inner {
        pair: EcdsaKeyPair,
        /// The private key as PKCS#8 DER, as stores keep it.
        pkcs8: Vec<u8>,
        /// The public key as a JWK (`kty`, `crv`, `x`, `y`).
        jwk: Value,
        /// Its RFC 7638 thumbprint (`jkt`).
        thumbprint: String,
    }

    /// The DPoP key of one sign-in (RFC 9449): a P-256 key that signs ES256 proofs, kept with
    /// the tokens it binds ([`TokenResponse::dpop_key`](crate::TokenResponse::dpop_key)) and
    /// stored with them, encrypted where the store encrypts tokens. Cheap to clone.
    ///
    /// The crate makes one at every sign-in of a remote app with
    /// [`dpop(true)`](crate::RemoteAppBuilder::dpop) and uses it for the refreshes and API
    /// calls of that sign-in; an app that keeps tokens itself (a token getter, an
    /// `on_token_update` hook) must keep the key beside them:
    /// [`pkcs8_der`](Self::pkcs8_der) and [`from_pkcs8_der`](Self::from_pkcs8_der).
    ///
    /// # Security
    /// The private key never leaves the server: it is never put in a session cookie, a log or
    /// `Debug`, which shows only the public key's thumbprint.
    #[derive(Clone)]
    pub struct DpopKey(Arc<Inner>);

    impl fmt::Debug for DpopKey {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("DpopKey")
                .field("jkt", &self.0.thumbprint)
                .field("key", &"[redacted]")
                .finish()
        }
    }

    impl DpopKey {
        /// A fresh P-256 key.
        ///
        /// # Errors
        /// [`OAuthError::Configuration`] when the system's random source fails.
        pub fn generate() -> Result<Self, OAuthError> {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| OAuthError::config("a DPoP key could not be generated."))?;
            Self::from_pkcs8_der(pkcs8.as_ref())
        }

        /// The key kept as [`pkcs8_der`](Self::pkcs8_der) wrote it.
        ///
        /// # Errors
        /// [`OAuthError::Configuration`] unless `der` is a PKCS#8 P-256 private key.
        pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, OAuthError> {
            let rng = SystemRandom::new();
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
                .map_err(|_| OAuthError::config("the DPoP key is not a PKCS#8 P-256 key."))?;
            // An uncompressed point: 0x04, then x and y of 32 bytes each.
            let point = pair.public_key().as_ref();
            let (x, y) = match point {
                [4, rest @ ..] if rest.len() == 64 => rest.split_at(32),
                _ => return Err(OAuthError::config("the DPoP public key is malformed.")),
            };
            let (x, y) = (URL_SAFE_NO_PAD.encode(x), URL_SAFE_NO_PAD.encode(y));
            // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
            let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
            let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
            let jwk = json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y });
            Ok(Self(Arc::new(Inner {
                pair,
                pkcs8: der.to_vec(),
                jwk,
                thumbprint,
            })))
        }

        /// The private key as PKCS#8 DER, to store it with the tokens.
        ///
        /// # Security
        /// A secret as the tokens are: store it where they are, encrypted as they are.
        pub fn pkcs8_der(&self) -> &[u8] {
            &self.0.pkcs8
        }

        /// The public key's JWK SHA-256 thumbprint (RFC 7638), base64url: the `jkt` a bound
        /// token's `cnf` claim names and the authorization request's `dpop_jkt` carries.
        pub fn thumbprint(&self) -> &str {
            &self.0.thumbprint
        }

        /// A DPoP proof (RFC 9449 §4.2) for a `method` request to `url`: `typ` `dpop+jwt`,
        /// `alg` ES256 and the public `jwk` in the header; a fresh `jti`, `htm`, `htu` (`url`
        /// without query and fragment) and `iat` in the claims, with `ath` (the access token's
        /// SHA-256) when `access_token` is given, and the server's `nonce` when it gave one.
        /// The crate sends these itself; this is for requests an app makes on its own.
        ///
        /// # Errors
        /// [`OAuthError::Configuration`] when signing fails.
        pub fn proof(
            &self,
            method: &str,
            url: &Url,
            access_token: Option<&str>,
            nonce: Option<&str>,
        ) -> Result<String, OAuthError> {
            let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": self.0.jwk });
            let mut claims = json!({
                "jti": random_token(),
                "htm": method,
                "htu": super::htu(url),
                "iat": now_unix(),
            });
            if let Some(token) = access_token {
                claims["ath"] = Value::String(URL_SAFE_NO_PAD.encode(Sha256::digest(token)));
            }
            if let Some(nonce) = nonce {
                claims["nonce"] = Value::String(nonce.to_owned());
            }
            let mut jws = URL_SAFE_NO_PAD.encode(header.to_string());
            jws.push('.');
            jws.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
            let signature = self
                .0
                .pair
                .sign(&SystemRandom::new(), jws.as_bytes())
                .map_err(|_| OAuthError::config("the DPoP key could not sign."))?;
            jws.push('.');
            jws.push_str(&URL_SAFE_NO_PAD.encode(signature.as_ref()));
            Ok(jws)
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn part(jwt: &str, i: usize) -> Value {
            let text = jwt.split('.').nth(i).unwrap();
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).unwrap()).unwrap()
        }

        #[test]
        fn proofs_carry_the_public_key_and_verify_with_it() {
            let key = DpopKey::generate().unwrap();
            let url = Url::parse("https://rs.example/api/me?x=1#f").unwrap();
            let proof = key.proof("GET", &url, Some("tok"), Some("n1")).unwrap();
            let header = part(&proof, 0);
            assert_eq!(header["typ"], "dpop+jwt");
            assert_eq!(header["alg"], "ES256");
            assert_eq!(header["jwk"]["kty"], "EC");
            assert!(header["jwk"].get("d").is_none(), "public key only");
            let claims = part(&proof, 1);
            assert_eq!(claims["htm"], "GET");
            assert_eq!(claims["htu"], "https://rs.example/api/me");
            assert_eq!(claims["nonce"], "n1");
            // RFC 9449 §4.2: base64url(SHA-256(ASCII(access token))).
            assert_eq!(
                claims["ath"],
                URL_SAFE_NO_PAD.encode(Sha256::digest(b"tok"))
            );
            let (input, sig) = proof.rsplit_once('.').unwrap();
            let public = ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                key.0.pair.public_key().as_ref(),
            );
            public
                .verify(input.as_bytes(), &URL_SAFE_NO_PAD.decode(sig).unwrap())
                .expect("ES256 by the embedded key");
            let again = key.proof("GET", &url, None, None).unwrap();
            assert_ne!(claims["jti"], part(&again, 1)["jti"]);
            assert!(part(&again, 1).get("ath").is_none());
        }

        #[test]
        fn keys_round_trip_and_never_print() {
            let key = DpopKey::generate().unwrap();
            let back = DpopKey::from_pkcs8_der(key.pkcs8_der()).unwrap();
            assert_eq!(back.thumbprint(), key.thumbprint());
            assert_eq!(key.thumbprint().len(), 43);
            let shown = format!("{key:?}");
            assert!(shown.contains("[redacted]") && shown.contains(key.thumbprint()));
            assert!(DpopKey::from_pkcs8_der(b"nope").is_err());
        }

        /// RFC 7638 §3.1's example is RSA; an EC thumbprint checked against the same
        /// construction written out by hand.
        #[test]
        fn thumbprint_is_rfc7638() {
            let key = DpopKey::generate().unwrap();
            let jwk = &key.0.jwk;
            let canonical = serde_json::to_string(&serde_json::json!({
                "crv": jwk["crv"], "kty": jwk["kty"], "x": jwk["x"], "y": jwk["y"],
            }))
            .unwrap();
            assert_eq!(
                key.thumbprint(),
                URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
            );
        }
    }
}

/// Without the `dpop` feature: a key no value has, so that the code paths that carry one
/// compile to nothing.
#[cfg(not(feature = "dpop"))]
#[derive(Clone, Debug)]
pub(crate) enum DpopKey {}

#[cfg(not(feature = "dpop"))]
impl DpopKey {
    pub(crate) fn generate() -> Result<Self, crate::error::OAuthError> {
        Err(crate::error::OAuthError::config(
            "DPoP needs the `dpop` feature.",
        ))
    }

    pub(crate) fn thumbprint(&self) -> &str {
        match *self {}
    }

    pub(crate) fn proof(
        &self,
        _method: &str,
        _url: &Url,
        _access_token: Option<&str>,
        _nonce: Option<&str>,
    ) -> Result<String, crate::error::OAuthError> {
        match *self {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_kept_per_server_and_bounded() {
        use NonceServer::{Authorization, Resource};
        let nonces = Nonces::default();
        let url = Url::parse("https://as.example/token").unwrap();
        let mut headers = ::oauth2::http::HeaderMap::new();
        assert!(!nonces.remember(Resource, &url, &headers));
        headers.insert("DPoP-Nonce", "abc".parse().unwrap());
        assert!(nonces.remember(Resource, &url, &headers));
        let same_origin = Url::parse("https://as.example/other?q").unwrap();
        assert_eq!(nonces.get(Resource, &same_origin).as_deref(), Some("abc"));
        assert_eq!(
            nonces.get(Resource, &Url::parse("https://rs.example/").unwrap()),
            None
        );
        // The authorization server on the same origin has nonces of its own.
        assert_eq!(nonces.get(Authorization, &url), None);
        headers.insert("DPoP-Nonce", "xyz".parse().unwrap());
        assert!(nonces.remember(Authorization, &url, &headers));
        assert_eq!(nonces.get(Authorization, &url).as_deref(), Some("xyz"));
        assert_eq!(nonces.get(Resource, &same_origin).as_deref(), Some("abc"));
        for i in 0..100 {
            let url = Url::parse(&format!("https://h{i}.example/")).unwrap();
            nonces.remember(Resource, &url, &headers);
        }
        assert!(nonces.0.lock().unwrap().len() <= MAX_NONCE_ORIGINS);
        headers.insert("DPoP-Nonce", "a\"b".parse().unwrap());
        assert!(
            !nonces.remember(Resource, &url, &headers),
            "not an NQCHAR nonce"
        );
    }

    #[test]
    fn htu_drops_query_and_fragment() {
        let url = Url::parse("https://rs.example:8443/a/b?c=d#e").unwrap();
        assert_eq!(htu(&url), "https://rs.example:8443/a/b");
    }
}
