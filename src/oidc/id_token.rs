//! `id_token` validation, OpenID Connect Core §3.1.3.7: signature by a key the provider
//! publishes, `iss`, `aud`, `azp`, `exp`, `iat` (with a small clock skew) and `nonce`.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{
    errors::ErrorKind as JwtError,
    jwk::{AlgorithmParameters, Jwk, JwkSet},
    Algorithm, DecodingKey, Validation,
};
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;

use super::{Oidc, ProviderMetadata};
use crate::{
    error::{IdTokenError, OAuthError},
    oauth2::token::now_unix,
    transport::AwcHttpClient,
};

/// The algorithms accepted by default: every asymmetric one `jsonwebtoken` verifies. Never
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
    let key = DecodingKey::from_jwk(&key).map_err(|_| {
        OAuthError::Discovery("a key in the provider's JWKS could not be read.".to_owned())
    })?;

    let mut validation = Validation::new(alg);
    validation.leeway = oidc.clock_skew.as_secs();
    validation.validate_exp = true;
    validation.validate_nbf = true;
    validation.set_audience(&[expect.client_id]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
        .map_err(|e| match e.kind() {
            JwtError::InvalidSignature
            | JwtError::InvalidEcdsaKey
            | JwtError::InvalidEddsaKey
            | JwtError::InvalidRsaKey(_)
            | JwtError::InvalidKeyFormat => IdTokenError::Signature,
            JwtError::ExpiredSignature => IdTokenError::Expired,
            JwtError::ImmatureSignature => IdTokenError::IssuedAt,
            JwtError::InvalidAudience => IdTokenError::Audience,
            JwtError::InvalidIssuer => IdTokenError::Issuer,
            JwtError::InvalidAlgorithm | JwtError::MissingAlgorithm => {
                IdTokenError::Algorithm(alg_name(alg))
            }
            JwtError::MissingRequiredClaim(claim) if claim == "aud" => IdTokenError::Audience,
            JwtError::MissingRequiredClaim(claim) if claim == "iss" => IdTokenError::Issuer,
            JwtError::MissingRequiredClaim(claim) => {
                IdTokenError::Malformed(format!("it has no `{claim}` claim"))
            }
            _ => IdTokenError::Malformed("its claims are not a JSON object".to_owned()),
        })?
        .claims;
    check_claims(oidc, metadata, &claims, expect)?;
    Ok(claims)
}

fn alg_name(alg: Algorithm) -> String {
    format!("{alg:?}")
}

/// The checks `jsonwebtoken` leaves to us: `iss` (with alternates and tenant templates), `azp`,
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
