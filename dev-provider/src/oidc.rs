//! OpenID Connect: the discovery document ([OpenID Connect Discovery 1.0 §3]), the JWK Set and
//! signed `id_token`s ([OpenID Connect Core 1.0 §2]), with switches that break them on purpose.
//!
//! [OpenID Connect Discovery 1.0 §3]: https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata
//! [OpenID Connect Core 1.0 §2]: https://openid.net/specs/openid-connect-core-1_0.html#IDToken

use std::io;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::keys::SigningKey;
use super::state::{random_token, Shared};

/// A deliberate defect in the `id_token`s the development provider issues, so that a consumer's
/// validation ([OpenID Connect Core 1.0 §3.1.3.7]) can be tested end to end. Each fault breaks
/// one thing and leaves the rest of the token valid. Set it with
/// [`DevProvider::set_id_token_fault`](super::DevProvider::set_id_token_fault).
///
/// [OpenID Connect Core 1.0 §3.1.3.7]: https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdTokenFault {
    /// `aud` and `azp` name another client, `dev-other-client`.
    WrongAudience,
    /// `exp` lies two hours in the past (`iat` one token lifetime before it).
    Expired,
    /// The signature is the right one with bytes flipped: it does not verify.
    BadSignature,
    /// `nonce` is a fresh random value, not the one the authorization request sent (present
    /// even when none was sent).
    WrongNonce,
    /// `nonce` is left out although the authorization request sent one.
    MissingNonce,
    /// `iss` is the issuer with a trailing slash: a lookalike that an exact comparison refuses.
    WrongIssuer,
    /// Signed with a key the JWKS does not publish, under a `kid` the JWKS does not contain
    /// (the key's own thumbprint), with the configured algorithm.
    UnknownKid,
    /// An unsecured JWS ([RFC 7519 §6]): header `alg: none` with the current `kid`, and an empty
    /// signature.
    ///
    /// [RFC 7519 §6]: https://www.rfc-editor.org/rfc/rfc7519#section-6
    AlgNone,
    /// `iat` lies an hour in the future (and `exp` one token lifetime after it).
    IssuedInFuture,
    /// Signed with the key most recently taken out of the JWKS (by
    /// [`DevProvider::drop_old_keys`](super::DevProvider::drop_old_keys) or a second
    /// [rotation](super::DevProvider::rotate_signing_key)), under its own `kid`: what a thief of
    /// a withdrawn key could forge. Until a key has been withdrawn, the token endpoint answers
    /// `server_error`.
    WithdrawnKey,
}

/// The client id that [`IdTokenFault::WrongAudience`] tokens are issued to.
const OTHER_CLIENT: &str = "dev-other-client";

/// What an `id_token` attests: a user's authentication for a client.
pub(super) struct Authentication {
    pub(super) client_id: String,
    pub(super) username: String,
    /// The scope the token is issued for; decides which claims the token carries.
    pub(super) scope: String,
    /// The authorization request's `nonce`; `None` for a refresh ([OpenID Connect Core 1.0 §12.2]).
    ///
    /// [OpenID Connect Core 1.0 §12.2]: https://openid.net/specs/openid-connect-core-1_0.html#RefreshTokenResponse
    pub(super) nonce: Option<String>,
    /// When the user approved, in seconds since the Unix epoch.
    pub(super) auth_time: u64,
    /// The authentication context class met (`acr`), when one was asked for.
    pub(super) acr: Option<String>,
    /// The provider session ([OpenID Connect Back-Channel Logout 1.0 §2.1]: `sid`).
    ///
    /// [OpenID Connect Back-Channel Logout 1.0 §2.1]: https://openid.net/specs/openid-connect-backchannel-1_0.html#Indicating
    pub(super) sid: String,
}

/// Whether `scope` contains `token`.
pub(super) fn has_scope(scope: &str, token: &str) -> bool {
    scope.split(' ').any(|t| t == token)
}

/// The current time in seconds since the Unix epoch (0 if the clock is before it).
pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The claims the provider puts in an `id_token` ([OpenID Connect Core 1.0 §2, §5.1]).
#[derive(Serialize)]
struct Claims<'a> {
    iss: String,
    sub: String,
    aud: &'a str,
    azp: &'a str,
    exp: u64,
    iat: u64,
    auth_time: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'a str>,
    sid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    /// [OpenID Connect Core 1.0 §3.1.3.6]: left half of the access token's SHA-256, base64url.
    ///
    /// [OpenID Connect Core 1.0 §3.1.3.6]: https://openid.net/specs/openid-connect-core-1_0.html#CodeIDToken
    at_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    preferred_username: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    picture: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_verified: Option<bool>,
}

/// Why no `id_token` could be made.
#[derive(Debug)]
pub(super) struct SigningFailed;

/// A signed `id_token` for `authentication`, accompanying `access_token`, with the fault set on
/// the provider (if any) applied.
pub(super) fn id_token(
    shared: &Shared,
    authentication: &Authentication,
    access_token: &str,
) -> Result<String, SigningFailed> {
    let config = &shared.config;
    let user = config.user(&authentication.username).ok_or(SigningFailed)?;
    let fault = shared.id_token_fault();
    let key = shared.keys().current.clone();
    let now = unix_now();
    let lifetime = config.token_lifetime().as_secs();
    let profile = has_scope(&authentication.scope, "profile");
    let email = has_scope(&authentication.scope, "email");
    let digest = Sha256::digest(access_token.as_bytes());
    let mut claims = Claims {
        iss: config.issuer.clone(),
        sub: user.subject(),
        aud: &authentication.client_id,
        azp: &authentication.client_id,
        exp: now.saturating_add(lifetime),
        iat: now,
        auth_time: authentication.auth_time.min(now),
        acr: authentication.acr.as_deref(),
        sid: &authentication.sid,
        nonce: authentication.nonce.clone(),
        at_hash: URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2]),
        name: profile.then_some(user.name.as_str()),
        preferred_username: profile.then_some(user.username.as_str()),
        picture: user.picture.as_deref().filter(|_| profile),
        email: email.then_some(user.email.as_str()),
        email_verified: email.then_some(user.email_verified),
    };
    match fault {
        Some(IdTokenFault::WrongAudience) => {
            claims.aud = OTHER_CLIENT;
            claims.azp = OTHER_CLIENT;
        }
        Some(IdTokenFault::Expired) => {
            claims.exp = now.saturating_sub(2 * 3600);
            claims.iat = claims.exp.saturating_sub(lifetime);
            claims.auth_time = claims.auth_time.min(claims.iat);
        }
        Some(IdTokenFault::IssuedInFuture) => {
            claims.iat = now.saturating_add(3600);
            claims.exp = claims.iat.saturating_add(lifetime);
        }
        Some(IdTokenFault::WrongNonce) => claims.nonce = Some(random_token()),
        Some(IdTokenFault::MissingNonce) => claims.nonce = None,
        Some(IdTokenFault::WrongIssuer) => claims.iss.push('/'),
        Some(
            IdTokenFault::BadSignature
            | IdTokenFault::UnknownKid
            | IdTokenFault::AlgNone
            | IdTokenFault::WithdrawnKey,
        )
        | None => {}
    }
    let signed = match fault {
        Some(IdTokenFault::AlgNone) => return unsecured(key.kid(), &claims),
        Some(IdTokenFault::UnknownKid) => match unpublished_key(shared) {
            Ok(unpublished) => unpublished.sign(&claims),
            Err(error) => {
                log::error!("The development provider could not generate a key: {error}");
                return Err(SigningFailed);
            }
        },
        Some(IdTokenFault::WithdrawnKey) => {
            let withdrawn = shared.keys().withdrawn.clone();
            let Some(withdrawn) = withdrawn else {
                log::error!("The development provider has withdrawn no key to sign with yet");
                return Err(SigningFailed);
            };
            withdrawn.sign(&claims)
        }
        _ => key.sign(&claims),
    };
    let token = signed.map_err(|error| {
        log::error!("The development provider could not sign an id_token: {error}");
        SigningFailed
    })?;
    Ok(match fault {
        Some(IdTokenFault::BadSignature) => flip_signature(&token).ok_or(SigningFailed)?,
        _ => token,
    })
}

/// The key that signs [`IdTokenFault::UnknownKid`] tokens, generated on first use with the
/// configured algorithm; it is never published.
pub(super) fn unpublished_key(shared: &Shared) -> io::Result<Arc<SigningKey>> {
    if let Some(key) = &shared.keys().unpublished {
        return Ok(key.clone());
    }
    // Generated without the lock: an RSA key takes a while.
    let key = Arc::new(SigningKey::generate(shared.config.algorithm)?);
    Ok(shared.keys().unpublished.get_or_insert(key).clone())
}

/// An unsecured JWS ([RFC 7519 §6.1]): `alg: none`, an empty signature.
///
/// [RFC 7519 §6.1]: https://www.rfc-editor.org/rfc/rfc7519#section-6.1
fn unsecured(kid: &str, claims: &Claims<'_>) -> Result<String, SigningFailed> {
    let header = json!({ "typ": "JWT", "alg": "none", "kid": kid });
    let header = serde_json::to_vec(&header).map_err(|_| SigningFailed)?;
    let claims = serde_json::to_vec(claims).map_err(|_| SigningFailed)?;
    Ok(format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims)
    ))
}

/// `token` with the first and last bytes of its signature inverted.
fn flip_signature(token: &str) -> Option<String> {
    let (message, signature) = token.rsplit_once('.')?;
    let mut signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
    let last = signature.len().checked_sub(1)?;
    signature[0] ^= 0xff;
    signature[last] ^= 0xff;
    Some(format!("{message}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

/// `GET /.well-known/openid-configuration`: the provider metadata
/// ([OpenID Connect Discovery 1.0 §4]), with `authorization_response_iss_parameter_supported`
/// ([RFC 9207 §3]).
///
/// [OpenID Connect Discovery 1.0 §4]: https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
/// [RFC 9207 §3]: https://www.rfc-editor.org/rfc/rfc9207#section-3
pub(super) async fn discovery(shared: web::Data<Shared>) -> HttpResponse {
    shared.discovery_requests.fetch_add(1, Ordering::SeqCst);
    let config = &shared.config;
    let endpoint = |path: &str| format!("{}{path}", config.issuer);
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .json(json!({
            "issuer": config.issuer,
            "authorization_endpoint": endpoint("/oauth2/authorize"),
            "token_endpoint": endpoint("/oauth2/token"),
            "userinfo_endpoint": endpoint("/oauth2/userinfo"),
            "jwks_uri": endpoint("/jwks"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "form_post"],
            "grant_types_supported": [
                "authorization_code", "refresh_token", "client_credentials",
                "urn:ietf:params:oauth:grant-type:device_code",
            ],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [config.algorithm.as_str()],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"],
            "token_endpoint_auth_signing_alg_values_supported": ["HS256", "RS256", "PS256", "ES256"],
            "code_challenge_methods_supported": ["S256"],
            "dpop_signing_alg_values_supported": ["ES256"],
            "claims_supported": [
                "iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "acr", "sid", "nonce", "at_hash",
                "name", "preferred_username", "picture", "email", "email_verified",
            ],
            "request_parameter_supported": false,
            "request_uri_parameter_supported": false,
            "authorization_response_iss_parameter_supported": true,
            "revocation_endpoint": endpoint("/oauth2/revoke"),
            "pushed_authorization_request_endpoint": endpoint("/oauth2/par"),
            "acr_values_supported": crate::ACR_VALUES,
            "claims_parameter_supported": false,
            "require_pushed_authorization_requests": config.require_par,
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"],
            "end_session_endpoint": endpoint("/oauth2/logout"),
            "device_authorization_endpoint": endpoint("/oauth2/device_authorization"),
            "backchannel_logout_supported": true,
            "backchannel_logout_session_supported": true,
            "frontchannel_logout_supported": false,
        }))
}

/// `GET /jwks`: the JWK Set ([RFC 7517 §5]) with the current signing key and, after a rotation,
/// the previous one, with the `Cache-Control` set on the provider (`public, max-age=300` by
/// default); `503` while the JWKS is switched off. Every request is counted.
///
/// [RFC 7517 §5]: https://www.rfc-editor.org/rfc/rfc7517#section-5
pub(super) async fn jwks(shared: web::Data<Shared>) -> HttpResponse {
    shared.jwks_requests.fetch_add(1, Ordering::SeqCst);
    if shared.jwks_unavailable.load(Ordering::SeqCst) {
        return HttpResponse::ServiceUnavailable()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body("The JWKS is switched off.");
    }
    let jwks = shared.keys().jwks();
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, shared.jwks_cache_control()))
        .json(jwks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flipping_changes_only_the_signature() {
        let token = format!("a.b.{}", URL_SAFE_NO_PAD.encode([1u8, 2, 3]));
        let flipped = flip_signature(&token).expect("flipped");
        assert_eq!(
            flipped,
            format!("a.b.{}", URL_SAFE_NO_PAD.encode([0xfe, 2, 0xfc]))
        );
        assert_eq!(flip_signature("a.b."), None);
        assert_eq!(flip_signature("a.b.%"), None);
    }

    #[test]
    fn scopes_are_matched_by_token() {
        assert!(has_scope("openid email", "openid"));
        assert!(has_scope("email openid", "openid"));
        assert!(!has_scope("openidx email", "openid"));
        assert!(!has_scope("", "openid"));
    }
}
