//! Entry points into the parsers that read what outsiders send, for the fuzz targets and the
//! benchmarks only. Behind the `internals` feature, hidden from the docs, and not covered by
//! semantic versioning: do not use them in applications.

use crate::{error::OAuthError, response::ResponseData, token::TokenResponse};

/// Parses a callback query string the way a callback handler does (size cap, duplicate
/// parameters refused) and returns the pairs.
pub fn parse_callback_query(query: &str) -> Result<Vec<(String, String)>, OAuthError> {
    crate::callback_query::CallbackQuery::parse(query).map(|q| q.0)
}

/// The callback parameters that may appear only once ([`parse_callback_query`] refuses a query
/// repeating one): the list the callback handler itself uses.
pub const CALLBACK_SINGLE_VALUED: &[&str] = crate::callback_query::SINGLE_VALUED;

/// Reads an OAuth 2 token endpoint answer.
pub fn parse_token_response(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<TokenResponse, OAuthError> {
    TokenResponse::from_response(status, content_type, body)
}

/// Reads an OAuth 1.0a temporary or token credentials answer.
pub fn parse_oauth1_credentials(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<TokenResponse, OAuthError> {
    crate::oauth1::parse_credentials(status, content_type, body)
}

/// Decodes an API response body by its content type (JSON, form, XML, text).
pub fn decode_response(content_type: Option<&str>, body: &[u8]) -> ResponseData {
    ResponseData::decode(content_type, body)
}

/// A fresh `state` value and PKCE S256 pair, as an authorization request makes them:
/// `(state, verifier, challenge)`.
pub fn state_and_pkce() -> (String, String, String) {
    let state = crate::wire::random_token();
    let verifier = ::oauth2::PkceCodeVerifier::new(crate::wire::random_token());
    let challenge = ::oauth2::PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    (
        state,
        verifier.secret().clone(),
        challenge.as_str().to_owned(),
    )
}

/// Reads a JWT's JOSE header the way `id_token` validation does: `(alg, kid)`.
#[cfg(feature = "oidc")]
pub fn parse_jwt_header(token: &str) -> Result<(String, Option<String>), crate::IdTokenError> {
    crate::oidc::header(token).map(|h| (h.alg, h.kid))
}

/// An `id_token` validator with a preloaded JWKS and no network: the signature, `iss`, `aud`,
/// `azp`, `exp`, `iat` and `nonce` checks of a sign-in.
#[cfg(feature = "oidc")]
pub struct IdTokenValidator {
    oidc: crate::oidc::Oidc,
    metadata: crate::oidc::ProviderMetadata,
    http: crate::AwcHttpClient,
    client_id: String,
}

#[cfg(feature = "oidc")]
impl IdTokenValidator {
    /// A validator for tokens of `issuer` to `client_id`, signed by a key of `jwks` (a JWK Set
    /// as JSON).
    pub fn new(issuer: &str, jwks: &[u8], client_id: &str) -> Result<Self, OAuthError> {
        let url = url::Url::parse(&format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        ))
        .map_err(|e| OAuthError::config(e.to_string()))?;
        let oidc = crate::oidc::Oidc::new(issuer.to_owned(), url.clone());
        oidc.preload_jwks(jwks)?;
        let metadata = serde_json::from_value(serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": url.as_str(),
            "jwks_uri": url.as_str(),
        }))
        .map_err(|e| OAuthError::config(e.to_string()))?;
        Ok(Self {
            oidc,
            metadata,
            http: crate::AwcHttpClient::default(),
            client_id: client_id.to_owned(),
        })
    }

    /// Validates `token`, expecting `nonce`, and returns its claims. Never touches the network:
    /// a token naming an unknown key is refused as such.
    pub fn validate(
        &self,
        token: &str,
        nonce: Option<&str>,
    ) -> Result<serde_json::Map<String, serde_json::Value>, OAuthError> {
        let expect = crate::oidc::Expectations {
            client_id: &self.client_id,
            nonce,
            nonce_required: true,
            algorithms: crate::oidc::DEFAULT_ALGORITHMS,
        };
        let validation =
            crate::oidc::validate(&self.oidc, &self.http, &self.metadata, token, &expect);
        futures_util::FutureExt::now_or_never(validation).unwrap_or_else(|| {
            Err(OAuthError::config(
                "the validation wanted to fetch the JWKS",
            ))
        })
    }

    /// Runs only the claim checks (`iss`, `azp`, `iat`, `sub`, `nonce`) on a JSON object, as
    /// they run after the signature verified.
    pub fn check_claims(&self, claims: &[u8], nonce: Option<&str>) -> Result<(), OAuthError> {
        let claims: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(claims)
            .map_err(|_| OAuthError::malformed("claims", "not a JSON object"))?;
        let expect = crate::oidc::Expectations {
            client_id: &self.client_id,
            nonce,
            nonce_required: true,
            algorithms: crate::oidc::DEFAULT_ALGORITHMS,
        };
        crate::oidc::check_claims(&self.oidc, &self.metadata, &claims, &expect).map_err(Into::into)
    }
}

/// Verifies the signature of a compact JWS with `key` under `alg`, the way `id_token`
/// validation does (the signature decoded, then checked with `ring`): whether it verified.
#[cfg(feature = "oidc")]
pub fn verify_jws(alg: jsonwebtoken::Algorithm, key: &jsonwebtoken::jwk::Jwk, token: &str) -> bool {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
    let Some((signed, signature)) = token.rsplit_once('.') else {
        return false;
    };
    URL_SAFE_NO_PAD.decode(signature).is_ok_and(|signature| {
        crate::oidc::jws::verify(alg, key, signed.as_bytes(), &signature).is_ok()
    })
}
