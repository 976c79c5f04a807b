//! `id_token` validation, OpenID Connect Core §3.1.3.7: signature by a key the provider
//! publishes, `iss`, `aud`, `azp`, `exp`, `iat` (with a small clock skew) and `nonce`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{
    jwk::{AlgorithmParameters, Jwk, JwkSet},
    Algorithm,
};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::{
    jws::{self, JwsError},
    Oidc, ProviderMetadata,
};
use crate::{
    error::{IdTokenError, OAuthError},
    transport::AwcHttpClient,
    wire::now_unix,
};

/// The algorithms accepted by default: every asymmetric one [`jws::verify`] verifies. Never
/// `none`, never HMAC (which would make the client secret a signing key).
pub(crate) const DEFAULT_ALGORITHMS: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// What an `id_token` is checked against.
pub(crate) struct Expectations<'a> {
    pub(crate) client_id: &'a str,
    pub(crate) nonce: Option<&'a str>,
    /// Whether a missing `nonce` claim is refused (a wrong one always is).
    pub(crate) nonce_required: bool,
    pub(crate) algorithms: &'a [Algorithm],
}

/// The parts of a JOSE header this crate reads.
pub(crate) struct Header {
    pub(crate) alg: String,
    pub(crate) kid: Option<String>,
}

pub(crate) fn header(token: &str) -> Result<Header, IdTokenError> {
    let malformed = |why: &str| IdTokenError::Malformed(why.to_owned());
    let mut parts = token.split('.');
    let (Some(head), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("it does not have three dot-separated parts"));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(head.trim_end_matches('='))
        .map_err(|_| malformed("its header is not base64url"))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|_| malformed("its header is not JSON"))?;
    let alg = match value.get("alg") {
        Some(Value::String(alg)) => alg.chars().take(32).collect(),
        _ => return Err(malformed("its header has no `alg`")),
    };
    let kid = match value.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(kid)) => Some(kid.clone()),
        Some(_) => return Err(malformed("its `kid` is not a string")),
    };
    Ok(Header { alg, kid })
}

/// The key a token names: by `kid`, or — when the token names none — the only key of the
/// algorithm's type.
fn find_key<'k>(keys: &'k JwkSet, kid: Option<&str>, alg: Algorithm) -> Option<&'k Jwk> {
    match kid {
        Some(kid) => keys.find(kid),
        None => {
            let mut fitting = keys.keys.iter().filter(|key| fits(key, alg));
            match (fitting.next(), fitting.next()) {
                (Some(key), None) => Some(key),
                _ => None,
            }
        }
    }
}

fn fits(key: &Jwk, alg: Algorithm) -> bool {
    let family_fits = match &key.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(_) => matches!(alg, Algorithm::ES256 | Algorithm::ES384),
        AlgorithmParameters::OctetKeyPair(_) => alg == Algorithm::EdDSA,
        AlgorithmParameters::OctetKey(_) => false,
    };
    let alg_fits = key
        .common
        .key_algorithm
        .and_then(|a| a.to_string().parse::<Algorithm>().ok())
        .is_none_or(|a| a == alg);
    family_fits && alg_fits
}

/// Validates `token` and returns its claims.
pub(crate) async fn validate(
    oidc: &Oidc,
    http: &AwcHttpClient,
    metadata: &ProviderMetadata,
    token: &str,
    expect: &Expectations<'_>,
) -> Result<Map<String, Value>, OAuthError> {
    let claims = verified_claims(oidc, http, metadata, token, expect.algorithms).await?;
    check_registered_claims(oidc, &claims, expect)?;
    check_claims(oidc, metadata, &claims, expect)?;
    Ok(claims)
}

/// The claims of a JWS signed by one of the provider's keys (from its JWKS, refetched once for
/// an unknown key id) with one of `algorithms`: the signature is checked before anything of the
/// payload is read. Shared by ID tokens and logout tokens.
pub(crate) async fn verified_claims(
    oidc: &Oidc,
    http: &AwcHttpClient,
    metadata: &ProviderMetadata,
    token: &str,
    algorithms: &[Algorithm],
) -> Result<Map<String, Value>, OAuthError> {
    let header = header(token)?;
    let alg: Algorithm = header
        .alg
        .parse()
        .ok()
        .filter(|alg| algorithms.contains(alg))
        .filter(|_| {
            let advertised = &metadata.id_token_signing_alg_values_supported;
            advertised.is_empty() || advertised.iter().any(|a| a == &header.alg)
        })
        .ok_or_else(|| IdTokenError::Algorithm(header.alg.clone()))?;

    let mut keys = oidc.jwks(http, metadata, false).await?;
    let mut key = keys
        .as_ref()
        .and_then(|k| find_key(k, header.kid.as_deref(), alg).cloned());
    if key.is_none() {
        // An unknown key id: the provider may have rotated its keys since we fetched them.
        keys = oidc.jwks(http, metadata, true).await?;
        key = keys
            .as_ref()
            .and_then(|k| find_key(k, header.kid.as_deref(), alg).cloned());
    }
    let key = key.ok_or(IdTokenError::UnknownKey)?;
    if !fits(&key, alg) {
        return Err(IdTokenError::Algorithm(header.alg).into());
    }
    // Signature before claims: nothing of the payload is read before it verified.
    let (signed, signature) = token
        .rsplit_once('.')
        .ok_or_else(|| malformed("it does not have three dot-separated parts"))?;
    let (head, payload) = signed
        .split_once('.')
        .ok_or_else(|| malformed("it does not have three dot-separated parts"))?;
    if head.ends_with('=') {
        return Err(malformed("its header is not base64url without padding").into());
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| malformed("its signature is not base64url without padding"))?;
    jws::verify(alg, &key, signed.as_bytes(), &signature).map_err(|e| match e {
        JwsError::UnreadableKey => {
            OAuthError::Discovery("a key in the provider's JWKS could not be read.".to_owned())
        }
        JwsError::Invalid => IdTokenError::Signature.into(),
    })?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| malformed("its payload is not base64url without padding"))?;
    let claims = serde_json::from_slice::<Claims>(&payload)
        .map_err(|_| malformed("its claims are not a JSON object with unique names"))?
        .0;
    Ok(claims)
}

fn malformed(why: &str) -> IdTokenError {
    IdTokenError::Malformed(why.to_owned())
}

/// A JSON object whose member names are unique: RFC 7519 §4 lets a parser take the last of
/// duplicate claims or refuse the token, and two readers of one token must never see different
/// `exp`, `aud` or `nonce` values, so it is refused.
struct Claims(Map<String, Value>);

impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UniqueMembers;
        impl<'de> Visitor<'de> for UniqueMembers {
            type Value = Claims;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object with unique member names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Claims, A::Error> {
                let mut claims = Map::new();
                while let Some((name, value)) = members.next_entry::<String, Value>()? {
                    if claims.contains_key(&name) {
                        return Err(serde::de::Error::custom("a duplicate claim"));
                    }
                    claims.insert(name, value);
                }
                Ok(Claims(claims))
            }
        }
        deserializer.deserialize_map(UniqueMembers)
    }
}

/// A NumericDate ([RFC 7519 §2]): whole or fractional seconds since the epoch, not negative.
///
/// [RFC 7519 §2]: https://www.rfc-editor.org/rfc/rfc7519#section-2
pub(crate) fn numeric_date(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f.round() as u64)
    })
}

/// A string, or an array of strings (RFC 7519 §4.1.3 for `aud`).
pub(crate) fn strings(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(one) => Some(vec![one.as_str()]),
        Value::Array(many) => many.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

/// The registered claims every `id_token` carries (OpenID Connect Core §2): `exp`, `iss`,
/// `aud` and `sub` present and well-typed, not expired and not before its `nbf` (both with the
/// configured clock skew), and addressed to this client.
fn check_registered_claims(
    oidc: &Oidc,
    claims: &Map<String, Value>,
    expect: &Expectations<'_>,
) -> Result<(), IdTokenError> {
    let exp = match claims.get("exp") {
        None => return Err(malformed("it has no `exp` claim")),
        Some(exp) => {
            numeric_date(exp).ok_or_else(|| malformed("its `exp` is not a NumericDate"))?
        }
    };
    if claims.get("iss").and_then(strings).is_none() {
        return Err(IdTokenError::Issuer);
    }
    let audiences = claims
        .get("aud")
        .and_then(strings)
        .ok_or(IdTokenError::Audience)?;
    if !claims.get("sub").is_some_and(Value::is_string) {
        return Err(malformed("it has no `sub` claim"));
    }
    let now = now_unix();
    let skew = oidc.clock_skew.as_secs();
    if exp < now.saturating_sub(skew) {
        return Err(IdTokenError::Expired);
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = numeric_date(nbf).ok_or_else(|| malformed("its `nbf` is not a NumericDate"))?;
        if nbf > now.saturating_add(skew) {
            return Err(IdTokenError::IssuedAt);
        }
    }
    if !audiences.contains(&expect.client_id) {
        return Err(IdTokenError::Audience);
    }
    Ok(())
}

/// The checks after the registered claims: `iss` (with alternates and tenant templates), `azp`,
/// `iat`, `sub` and `nonce`.
pub(crate) fn check_claims(
    oidc: &Oidc,
    metadata: &ProviderMetadata,
    claims: &Map<String, Value>,
    expect: &Expectations<'_>,
) -> Result<(), IdTokenError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let issuers = oidc.expected_issuers(metadata, text("tid"));
    match text("iss") {
        Some(iss) if issuers.iter().any(|i| i == iss) => {}
        _ => return Err(IdTokenError::Issuer),
    }
    let audiences = match claims.get("aud") {
        Some(Value::Array(list)) => list.len(),
        _ => 1,
    };
    match text("azp") {
        Some(azp) if azp != expect.client_id => return Err(IdTokenError::Audience),
        None if audiences > 1 => return Err(IdTokenError::Audience),
        _ => {}
    }
    match claims.get("iat").and_then(Value::as_f64) {
        Some(iat) if iat > (now_unix() + oidc.clock_skew.as_secs()) as f64 => {
            return Err(IdTokenError::IssuedAt)
        }
        Some(_) => {}
        None => return Err(IdTokenError::Malformed("it has no `iat` claim".to_owned())),
    }
    if text("sub").is_none_or(str::is_empty) {
        return Err(IdTokenError::Malformed(
            "its `sub` is not a string".to_owned(),
        ));
    }
    if let Some(expected) = expect.nonce {
        let ok = match text("nonce") {
            Some(nonce) => bool::from(nonce.as_bytes().ct_eq(expected.as_bytes())),
            None => !expect.nonce_required,
        };
        if !ok {
            return Err(IdTokenError::Nonce);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token's issuer, audience and ES256 key, with the JWKS preloaded: `validate` without
    /// network. Tokens are signed by `jsonwebtoken`'s pure-Rust backend (a dev-dependency).
    struct Signer {
        oidc: Oidc,
        metadata: ProviderMetadata,
        key: jsonwebtoken::EncodingKey,
    }

    const ISSUER: &str = "https://issuer.example";
    const CLIENT: &str = "client-1";

    impl Signer {
        fn new() -> Self {
            use ring::signature::{EcdsaKeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING};
            let rng = ring::rand::SystemRandom::new();
            let alg = &ECDSA_P256_SHA256_FIXED_SIGNING;
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).expect("a P-256 key");
            let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).expect("PKCS#8");
            let point = pair.public_key().as_ref();
            let jwks = serde_json::json!({"keys": [{
                "kty": "EC", "crv": "P-256", "kid": "k1",
                "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&point[33..]),
            }]});
            Self::with_jwks(
                &jwks,
                jsonwebtoken::EncodingKey::from_ec_der(pkcs8.as_ref()),
            )
        }

        fn with_jwks(jwks: &Value, key: jsonwebtoken::EncodingKey) -> Self {
            let url = url::Url::parse(&format!("{ISSUER}/.well-known/openid-configuration"))
                .expect("a URL");
            let oidc = Oidc::new(ISSUER.to_owned(), url.clone());
            oidc.preload_jwks(jwks.to_string().as_bytes())
                .expect("a JWKS");
            let metadata = serde_json::from_value(serde_json::json!({
                "issuer": ISSUER, "authorization_endpoint": url.as_str(), "jwks_uri": url.as_str(),
            }))
            .expect("metadata");
            Self {
                oidc,
                metadata,
                key,
            }
        }

        /// A compact JWS of `payload` exactly as given (duplicate names and all).
        fn sign(&self, payload: &str) -> String {
            let head = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256","kid":"k1"}"#);
            let signed = format!("{head}.{}", URL_SAFE_NO_PAD.encode(payload));
            let signature =
                jsonwebtoken::crypto::sign(signed.as_bytes(), &self.key, Algorithm::ES256)
                    .expect("signed");
            format!("{signed}.{signature}")
        }

        /// Claims that pass, with `changes` applied (`null` removes a claim).
        fn claims(changes: Value) -> String {
            let now = now_unix();
            let mut claims = serde_json::json!({
                "iss": ISSUER, "aud": CLIENT, "sub": "alice", "exp": now + 600, "iat": now,
            });
            for (name, value) in changes.as_object().expect("an object") {
                match value {
                    Value::Null => claims.as_object_mut().map(|c| c.remove(name)),
                    value => claims
                        .as_object_mut()
                        .map(|c| c.insert(name.clone(), value.clone())),
                };
            }
            claims.to_string()
        }

        fn validate(&self, token: &str) -> Result<Map<String, Value>, OAuthError> {
            let expect = Expectations {
                client_id: CLIENT,
                nonce: None,
                nonce_required: false,
                algorithms: DEFAULT_ALGORITHMS,
            };
            let http = AwcHttpClient::default();
            let validation = validate(&self.oidc, &http, &self.metadata, token, &expect);
            futures_util::FutureExt::now_or_never(validation).expect("no network")
        }

        fn refusal(&self, token: &str) -> IdTokenError {
            match self.validate(token) {
                Err(OAuthError::IdToken(error)) => error,
                other => panic!("not an id_token refusal: {other:?}"),
            }
        }
    }

    #[test]
    fn registered_claims_are_required_typed_and_checked() {
        let signer = Signer::new();
        let now = now_unix();
        let claims = signer
            .validate(&signer.sign(&Signer::claims(serde_json::json!({}))))
            .expect("a valid token");
        assert_eq!(claims.get("sub"), Some(&Value::from("alice")));
        let accepted = [
            serde_json::json!({"exp": now - 30}),
            serde_json::json!({"exp": now as f64 + 600.5}),
            serde_json::json!({"nbf": now + 30}),
            serde_json::json!({"nbf": now}),
            serde_json::json!({"aud": ["other", CLIENT], "azp": CLIENT}),
        ];
        for changes in accepted {
            let token = signer.sign(&Signer::claims(changes.clone()));
            assert!(signer.validate(&token).is_ok(), "{changes}");
        }
        let malformed = |e: &IdTokenError| matches!(e, IdTokenError::Malformed(_));
        type Kind = fn(&IdTokenError) -> bool;
        let refused: [(Value, Kind); 14] = [
            (serde_json::json!({"exp": null}), malformed),
            (serde_json::json!({"exp": "soon"}), malformed),
            (serde_json::json!({"exp": -1}), malformed),
            (serde_json::json!({"exp": now - 120}), |e| {
                matches!(e, IdTokenError::Expired)
            }),
            (serde_json::json!({"nbf": now + 120}), |e| {
                matches!(e, IdTokenError::IssuedAt)
            }),
            (serde_json::json!({"nbf": "now"}), malformed),
            (serde_json::json!({"iss": null}), |e| {
                matches!(e, IdTokenError::Issuer)
            }),
            (serde_json::json!({"iss": 7}), |e| {
                matches!(e, IdTokenError::Issuer)
            }),
            (serde_json::json!({"aud": null}), |e| {
                matches!(e, IdTokenError::Audience)
            }),
            (serde_json::json!({"aud": 7}), |e| {
                matches!(e, IdTokenError::Audience)
            }),
            (serde_json::json!({"aud": "other"}), |e| {
                matches!(e, IdTokenError::Audience)
            }),
            (serde_json::json!({"aud": []}), |e| {
                matches!(e, IdTokenError::Audience)
            }),
            (serde_json::json!({"sub": null}), malformed),
            (serde_json::json!({"sub": 7}), malformed),
        ];
        for (changes, expected) in refused {
            let error = signer.refusal(&signer.sign(&Signer::claims(changes.clone())));
            assert!(expected(&error), "{changes}: {error:?}");
        }
    }

    #[test]
    fn payloads_that_are_no_unique_json_object_are_malformed() {
        let signer = Signer::new();
        let now = now_unix();
        let duplicate = format!(
            r#"{{"iss":"{ISSUER}","aud":"{CLIENT}","sub":"alice","iat":{now},"exp":{},"exp":{}}}"#,
            now + 600,
            now - 600
        );
        for payload in [duplicate.as_str(), "[]", "\"null\"", "{"] {
            let error = signer.refusal(&signer.sign(payload));
            assert!(
                matches!(error, IdTokenError::Malformed(_)),
                "{payload}: {error:?}"
            );
        }
    }

    #[test]
    fn the_signature_is_checked_first_and_parts_are_base64url_without_padding() {
        let signer = Signer::new();
        let expired = signer.sign(&Signer::claims(serde_json::json!({"exp": 1})));
        assert!(matches!(signer.refusal(&expired), IdTokenError::Expired));
        // Another signature over the same header and payload: refused for it, not for `exp`.
        let (signed, signature) = expired.rsplit_once('.').expect("three parts");
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
        bytes[10] ^= 0x40;
        let forged = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(&bytes));
        assert!(matches!(signer.refusal(&forged), IdTokenError::Signature));

        let valid = signer.sign(&Signer::claims(serde_json::json!({})));
        let (head, rest) = valid.split_once('.').expect("three parts");
        for token in [
            format!("{valid}="),
            format!("{head}=.{rest}"),
            format!("{valid}!"),
        ] {
            assert!(
                matches!(signer.refusal(&token), IdTokenError::Malformed(_)),
                "{token}"
            );
        }
    }

    #[test]
    fn an_unreadable_key_is_a_broken_jwks() {
        let good = Signer::new();
        let jwks = serde_json::json!({"keys": [{
            "kty": "EC", "crv": "P-256", "kid": "k1", "x": "not base64url!", "y": "AAAA",
        }]});
        let broken = Signer::with_jwks(&jwks, good.key.clone());
        let token = broken.sign(&Signer::claims(serde_json::json!({})));
        assert!(matches!(
            broken.validate(&token),
            Err(OAuthError::Discovery(_))
        ));
    }

    #[test]
    fn headers_are_read_strictly() {
        let enc = |v: &str| URL_SAFE_NO_PAD.encode(v);
        let token = format!("{}.e30.sig", enc(r#"{"alg":"RS256","kid":"k1"}"#));
        let h = header(&token).unwrap();
        assert_eq!((h.alg.as_str(), h.kid.as_deref()), ("RS256", Some("k1")));
        let none = format!("{}.e30.", enc(r#"{"alg":"none"}"#));
        assert_eq!(header(&none).unwrap().alg, "none");
        assert!(
            "none".parse::<Algorithm>().is_err(),
            "`none` never parses as an algorithm"
        );
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            "!!!.e30.x",
            &format!("{}.e30.x", enc("[]")),
        ] {
            assert!(
                matches!(header(bad), Err(IdTokenError::Malformed(_))),
                "{bad}"
            );
        }
        let numeric_kid = format!("{}.e30.x", enc(r#"{"alg":"RS256","kid":7}"#));
        assert!(header(&numeric_kid).is_err());
    }

    fn metadata(issuer: &str) -> ProviderMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": "https://op.example.test/authorize",
            "jwks_uri": "https://op.example.test/jwks",
        }))
        .expect("metadata")
    }

    fn oidc() -> Oidc {
        Oidc::new(
            "https://op.example.test".to_owned(),
            url::Url::parse("https://op.example.test/.well-known/openid-configuration")
                .expect("url"),
        )
    }

    /// Claims that pass every check for client `app` and nonce `n-1`, with `changes` applied
    /// (a `null` value removes the claim).
    fn claims(changes: Value) -> Map<String, Value> {
        let mut claims = serde_json::json!({
            "iss": "https://op.example.test",
            "aud": "app",
            "sub": "alice",
            "iat": now_unix(),
            "exp": now_unix() + 300,
            "nonce": "n-1",
        });
        for (name, value) in changes.as_object().expect("object") {
            if value.is_null() {
                claims.as_object_mut().expect("object").remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        match claims {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    fn check(changes: Value) -> Result<(), IdTokenError> {
        check_with(&oidc(), true, changes)
    }

    fn check_with(oidc: &Oidc, nonce_required: bool, changes: Value) -> Result<(), IdTokenError> {
        let expect = Expectations {
            client_id: "app",
            nonce: Some("n-1"),
            nonce_required,
            algorithms: DEFAULT_ALGORITHMS,
        };
        check_claims(
            oidc,
            &metadata("https://op.example.test"),
            &claims(changes),
            &expect,
        )
    }

    #[test]
    fn azp_must_name_this_client() {
        use serde_json::json;
        assert!(check(json!({})).is_ok(), "the baseline passes");
        assert!(check(json!({ "azp": "app" })).is_ok());
        assert!(
            matches!(
                check(json!({ "azp": "other-app" })),
                Err(IdTokenError::Audience)
            ),
            "a token authorized for another client is refused, even with `aud` naming us"
        );
        assert!(
            matches!(
                check(json!({ "aud": ["app", "other-app"], "azp": "other-app" })),
                Err(IdTokenError::Audience)
            ),
            "several audiences with `azp` another client"
        );
        assert!(check(json!({ "aud": ["app", "other-app"], "azp": "app" })).is_ok());
    }

    #[test]
    fn several_audiences_need_azp() {
        use serde_json::json;
        assert!(
            matches!(
                check(json!({ "aud": ["app", "other-app"] })),
                Err(IdTokenError::Audience)
            ),
            "several audiences without `azp` are refused"
        );
        assert!(
            check(json!({ "aud": ["app"] })).is_ok(),
            "a one-element audience list needs no `azp`"
        );
    }

    #[test]
    fn iss_iat_sub_and_nonce_are_checked() {
        use serde_json::json;
        let skew = super::super::DEFAULT_CLOCK_SKEW.as_secs();
        assert!(matches!(
            check(json!({ "iss": "https://evil.example.test" })),
            Err(IdTokenError::Issuer)
        ));
        assert!(matches!(
            check(json!({ "iss": null })),
            Err(IdTokenError::Issuer)
        ));
        // `iat` up to the clock skew ahead is accepted; well beyond it is refused.
        assert!(check(json!({ "iat": now_unix() + skew / 2 })).is_ok());
        // At the limit exactly is still accepted (the clock only moves on, so never refused).
        assert!(check(json!({ "iat": now_unix() + skew })).is_ok());
        assert!(check(json!({ "iat": now_unix() - 3600 })).is_ok());
        assert!(matches!(
            check(json!({ "iat": now_unix() + skew * 10 })),
            Err(IdTokenError::IssuedAt)
        ));
        assert!(matches!(
            check(json!({ "iat": null })),
            Err(IdTokenError::Malformed(_))
        ));
        for sub in [json!(null), json!(""), json!(7)] {
            assert!(
                matches!(
                    check(json!({ "sub": sub })),
                    Err(IdTokenError::Malformed(_))
                ),
                "{sub}"
            );
        }
        assert!(matches!(
            check(json!({ "nonce": "n-2" })),
            Err(IdTokenError::Nonce)
        ));
        assert!(matches!(
            check(json!({ "nonce": "n-1x" })),
            Err(IdTokenError::Nonce)
        ));
        assert!(matches!(
            check(json!({ "nonce": null })),
            Err(IdTokenError::Nonce)
        ));
        // Not required (LinkedIn): a missing nonce passes, a wrong one still does not.
        assert!(check_with(&oidc(), false, json!({ "nonce": null })).is_ok());
        assert!(matches!(
            check_with(&oidc(), false, json!({ "nonce": "n-2" })),
            Err(IdTokenError::Nonce)
        ));
    }

    #[test]
    fn alternate_issuers_and_tenant_templates() {
        use serde_json::json;
        let mut google = oidc();
        google.alternate_issuers = vec!["accounts.op.example.test".to_owned()];
        assert!(check_with(&google, true, json!({ "iss": "accounts.op.example.test" })).is_ok());
        assert!(check_with(&google, true, json!({})).is_ok());

        let tid = "9188040d-6c67-4c5b-b112-36a304b66dad";
        let template = metadata("https://login.example.test/{tenantid}/v2.0");
        let expect = Expectations {
            client_id: "app",
            nonce: None,
            nonce_required: true,
            algorithms: DEFAULT_ALGORITHMS,
        };
        let issuer = format!("https://login.example.test/{tid}/v2.0");
        let ok = claims(json!({ "iss": issuer, "tid": tid }));
        assert!(check_claims(&oidc(), &template, &ok, &expect).is_ok());
        let other = claims(json!({ "iss": issuer, "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47" }));
        assert!(matches!(
            check_claims(&oidc(), &template, &other, &expect),
            Err(IdTokenError::Issuer)
        ));
        let template_itself = claims(json!({ "iss": template.issuer, "tid": "{tenantid}" }));
        assert!(matches!(
            check_claims(&oidc(), &template, &template_itself, &expect),
            Err(IdTokenError::Issuer)
        ));
    }

    fn jwk(value: Value) -> Jwk {
        serde_json::from_value(value).expect("jwk")
    }

    fn rsa(kid: &str) -> Jwk {
        jwk(serde_json::json!({ "kty": "RSA", "kid": kid, "n": "sXch", "e": "AQAB" }))
    }

    fn ec(kid: &str, crv: &str) -> Jwk {
        jwk(serde_json::json!({ "kty": "EC", "kid": kid, "crv": crv, "x": "f83O", "y": "x_FE" }))
    }

    fn okp(kid: &str) -> Jwk {
        jwk(serde_json::json!({ "kty": "OKP", "kid": kid, "crv": "Ed25519", "x": "11qY" }))
    }

    fn oct(kid: &str) -> Jwk {
        jwk(serde_json::json!({ "kty": "oct", "kid": kid, "k": "c2VjcmV0" }))
    }

    #[test]
    fn a_key_fits_only_its_family_and_its_own_alg() {
        use Algorithm::*;
        let rsa_algs = [RS256, RS384, RS512, PS256, PS384, PS512];
        for alg in rsa_algs {
            assert!(fits(&rsa("r"), alg), "{alg:?}");
            assert!(!fits(&ec("e", "P-256"), alg), "an EC key for {alg:?}");
            assert!(!fits(&okp("o"), alg), "an OKP key for {alg:?}");
        }
        for alg in [ES256, ES384] {
            assert!(fits(&ec("e", "P-256"), alg), "{alg:?}");
            assert!(!fits(&rsa("r"), alg), "an RSA key for {alg:?}");
            assert!(!fits(&okp("o"), alg), "an OKP key for {alg:?}");
        }
        assert!(fits(&okp("o"), EdDSA));
        assert!(!fits(&rsa("r"), EdDSA));
        assert!(!fits(&ec("e", "P-256"), EdDSA));
        for alg in DEFAULT_ALGORITHMS.iter().copied().chain([HS256]) {
            assert!(
                !fits(&oct("s"), alg),
                "a symmetric key is never used: {alg:?}"
            );
        }
        // A key that names its algorithm fits that one only.
        let mut rs384 = rsa("r");
        rs384.common.key_algorithm = Some(jsonwebtoken::jwk::KeyAlgorithm::RS384);
        assert!(fits(&rs384, RS384));
        assert!(!fits(&rs384, RS256));
        assert!(!fits(&rs384, PS384));
    }

    #[test]
    fn without_kid_the_only_key_of_the_family_is_used() {
        let set = |keys: Vec<Jwk>| JwkSet { keys };
        let keys = set(vec![rsa("r"), ec("e", "P-256"), okp("o")]);
        let kid = |key: Option<&Jwk>| key.and_then(|k| k.common.key_id.clone());
        assert_eq!(
            kid(find_key(&keys, None, Algorithm::ES256)).as_deref(),
            Some("e")
        );
        assert_eq!(
            kid(find_key(&keys, None, Algorithm::RS256)).as_deref(),
            Some("r")
        );
        assert_eq!(
            kid(find_key(&keys, None, Algorithm::EdDSA)).as_deref(),
            Some("o")
        );
        // A key of the wrong family is not used.
        let only_rsa = set(vec![rsa("r")]);
        assert!(find_key(&only_rsa, None, Algorithm::ES256).is_none());
        // Two that fit: ambiguous, so none.
        let two = set(vec![ec("e1", "P-256"), ec("e2", "P-256"), rsa("r")]);
        assert!(find_key(&two, None, Algorithm::ES256).is_none());
        assert_eq!(
            kid(find_key(&two, None, Algorithm::RS256)).as_deref(),
            Some("r")
        );
        // A named key is looked up by its id.
        assert_eq!(
            kid(find_key(&two, Some("e2"), Algorithm::ES256)).as_deref(),
            Some("e2")
        );
        assert!(find_key(&two, Some("e3"), Algorithm::ES256).is_none());
    }
}
