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
    oauth2::token::now_unix,
    transport::AwcHttpClient,
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
    let header = header(token)?;
    let alg: Algorithm = header
        .alg
        .parse()
        .ok()
        .filter(|alg| expect.algorithms.contains(alg))
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
    check_registered_claims(oidc, &claims, expect)?;
    check_claims(oidc, metadata, &claims, expect)?;
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
fn numeric_date(value: &Value) -> Option<u64> {
    value.as_u64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.is_finite() && *f >= 0.0 && *f < u64::MAX as f64)
            .map(|f| f.round() as u64)
    })
}

/// A string, or an array of strings (RFC 7519 §4.1.3 for `aud`).
fn strings(value: &Value) -> Option<Vec<&str>> {
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
}
