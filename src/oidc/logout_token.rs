//! Back-channel logout tokens ([OpenID Connect Back-Channel Logout 1.0 §2.4, §2.6]): validated
//! like an ID token where that applies (signature against the provider's JWKS, `iss`, `aud`,
//! `azp`, `iat`, `exp`), and as logout tokens must be (the back-channel logout event, `sid`
//! and/or `sub`, no `nonce`, a `jti`).
//!
//! [OpenID Connect Back-Channel Logout 1.0 §2.4, §2.6]: https://openid.net/specs/openid-connect-backchannel-1_0.html#Validation

use std::time::Duration;

use serde_json::{Map, Value};

use super::{
    id_token::{numeric_date, strings, verified_claims},
    Oidc, ProviderMetadata,
};
use crate::{
    error::{IdTokenError, OAuthError},
    transport::AwcHttpClient,
    wire::now_unix,
};

/// The member of `events` that makes a JWT a back-channel logout token (§2.4).
pub(crate) const BACKCHANNEL_LOGOUT_EVENT: &str =
    "http://schemas.openid.net/event/backchannel-logout";

/// What a valid logout token says: whose sessions end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogoutClaims {
    pub(crate) iss: String,
    pub(crate) sub: Option<String>,
    pub(crate) sid: Option<String>,
    pub(crate) jti: String,
}

/// Validates a logout token sent to this client (`client_id`), at most `max_age` old.
pub(crate) async fn validate(
    oidc: &Oidc,
    http: &AwcHttpClient,
    metadata: &ProviderMetadata,
    token: &str,
    client_id: &str,
    max_age: Duration,
) -> Result<LogoutClaims, OAuthError> {
    let claims = verified_claims(oidc, http, metadata, token, &oidc.algorithms).await?;
    check(oidc, metadata, &claims, client_id, max_age, now_unix())
}

/// The claim checks of §2.6 after the signature, at time `now`.
pub(crate) fn check(
    oidc: &Oidc,
    metadata: &ProviderMetadata,
    claims: &Map<String, Value>,
    client_id: &str,
    max_age: Duration,
    now: u64,
) -> Result<LogoutClaims, OAuthError> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let iss = text("iss").ok_or(IdTokenError::Issuer)?;
    let issuers = oidc.expected_issuers(metadata, text("tid"));
    if !issuers.iter().any(|i| i == iss) {
        return Err(IdTokenError::Issuer.into());
    }
    let audiences = claims
        .get("aud")
        .and_then(strings)
        .ok_or(IdTokenError::Audience)?;
    if !audiences.contains(&client_id) {
        return Err(IdTokenError::Audience.into());
    }
    if text("azp").is_some_and(|azp| azp != client_id) {
        return Err(IdTokenError::Audience.into());
    }
    let skew = oidc.clock_skew.as_secs();
    let iat = claims
        .get("iat")
        .and_then(numeric_date)
        .ok_or(OAuthError::LogoutToken("it has no `iat` NumericDate."))?;
    if iat > now.saturating_add(skew) {
        return Err(IdTokenError::IssuedAt.into());
    }
    if iat.saturating_add(max_age.as_secs()).saturating_add(skew) < now {
        return Err(OAuthError::LogoutToken("it was issued too long ago."));
    }
    if let Some(exp) = claims.get("exp") {
        let exp =
            numeric_date(exp).ok_or(OAuthError::LogoutToken("its `exp` is not a NumericDate."))?;
        if exp.saturating_add(skew) < now {
            return Err(IdTokenError::Expired.into());
        }
    }
    let event = claims
        .get("events")
        .and_then(Value::as_object)
        .and_then(|events| events.get(BACKCHANNEL_LOGOUT_EVENT));
    if !event.is_some_and(Value::is_object) {
        return Err(OAuthError::LogoutToken(
            "its `events` claim has no back-channel logout event.",
        ));
    }
    if claims.contains_key("nonce") {
        // §2.4: prohibited, so that an ID token can never pass as a logout token.
        return Err(OAuthError::LogoutToken("it carries a `nonce`."));
    }
    let sub = text("sub").filter(|s| !s.is_empty()).map(str::to_owned);
    let sid = text("sid").filter(|s| !s.is_empty()).map(str::to_owned);
    if sub.is_none() && sid.is_none() {
        return Err(OAuthError::LogoutToken("it names neither `sid` nor `sub`."));
    }
    if claims.get("sub").is_some_and(|s| !s.is_string())
        || claims.get("sid").is_some_and(|s| !s.is_string())
    {
        return Err(OAuthError::LogoutToken(
            "its `sid` or `sub` is not a string.",
        ));
    }
    let jti = text("jti")
        .filter(|j| !j.is_empty())
        .ok_or(OAuthError::LogoutToken("it has no `jti`."))?;
    Ok(LogoutClaims {
        iss: iss.to_owned(),
        sub,
        sid,
        jti: jti.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ErrorKind;

    const ISSUER: &str = "https://op.example.test";
    const CLIENT: &str = "client-1";
    const NOW: u64 = 1_800_000_000;

    fn oidc() -> Oidc {
        Oidc::new(
            ISSUER.to_owned(),
            url::Url::parse("https://op.example.test/.well-known/openid-configuration").unwrap(),
        )
    }

    fn metadata() -> ProviderMetadata {
        serde_json::from_value(json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://op.example.test/authorize",
            "jwks_uri": "https://op.example.test/jwks",
        }))
        .unwrap()
    }

    /// A valid logout token's claims with `changes` applied (`null` removes a claim).
    fn claims(changes: Value) -> Map<String, Value> {
        let mut claims = json!({
            "iss": ISSUER,
            "aud": CLIENT,
            "iat": NOW,
            "exp": NOW + 120,
            "jti": "j-1",
            "sub": "alice",
            "sid": "s-1",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
        })
        .as_object()
        .unwrap()
        .clone();
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.remove(name);
            } else {
                claims.insert(name.clone(), value.clone());
            }
        }
        claims
    }

    fn kind(changes: Value) -> Result<LogoutClaims, ErrorKind> {
        check(
            &oidc(),
            &metadata(),
            &claims(changes),
            CLIENT,
            Duration::from_secs(300),
            NOW,
        )
        .map_err(|e| e.kind())
    }

    #[test]
    fn a_valid_token_names_whose_sessions_end() {
        let ok = kind(json!({})).unwrap();
        assert_eq!(ok.sub.as_deref(), Some("alice"));
        assert_eq!(ok.sid.as_deref(), Some("s-1"));
        assert_eq!(ok.jti, "j-1");
        // `sid` alone, `sub` alone, `aud` as a list, no `exp`.
        assert!(kind(json!({"sub": null})).is_ok());
        assert!(kind(json!({"sid": null})).is_ok());
        assert!(kind(json!({"aud": ["other", CLIENT], "exp": null})).is_ok());
    }

    #[test]
    fn each_rule_refuses_on_its_own() {
        use ErrorKind::*;
        let cases = [
            (json!({"iss": "https://evil.example"}), IdTokenIssuer),
            (json!({"iss": null}), IdTokenIssuer),
            (json!({"aud": "other"}), IdTokenAudience),
            (json!({"aud": null}), IdTokenAudience),
            (json!({"azp": "other"}), IdTokenAudience),
            (json!({"iat": NOW + 61}), IdTokenIssuedAt),
            (json!({"iat": NOW - 300 - 61}), LogoutToken),
            (json!({"iat": null}), LogoutToken),
            (json!({"exp": NOW - 61}), IdTokenExpired),
            (json!({"events": null}), LogoutToken),
            (json!({"events": {}}), LogoutToken),
            (
                json!({"events": {BACKCHANNEL_LOGOUT_EVENT: "yes"}}),
                LogoutToken,
            ),
            (json!({"events": [BACKCHANNEL_LOGOUT_EVENT]}), LogoutToken),
            (json!({"nonce": "n"}), LogoutToken),
            (json!({"sid": null, "sub": null}), LogoutToken),
            (json!({"sid": null, "sub": ""}), LogoutToken),
            (json!({"sid": 7}), LogoutToken),
            (json!({"jti": null}), LogoutToken),
            (json!({"jti": ""}), LogoutToken),
        ];
        for (changes, expected) in cases {
            assert_eq!(kind(changes.clone()).unwrap_err(), expected, "{changes}");
        }
        // The bounds themselves are accepted.
        assert!(kind(json!({"iat": NOW + 60})).is_ok());
        assert!(kind(json!({"iat": NOW - 300 - 60})).is_ok());
        assert!(kind(json!({"exp": NOW - 60})).is_ok());
    }
}
