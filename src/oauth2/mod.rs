//! OAuth 2 (RFC 6749): the authorization request with `state` and PKCE, and the token request.
//!
//! The authorization URL is built by the `oauth2` crate's client. The token request is ours,
//! because real token endpoints stray from the RFC in ways `oauth2`'s strict reader refuses
//! (form-encoded answers, status 201, errors with status 200, `expires_in` as a string, a `GET`
//! token endpoint); see [`TokenResponse`].

pub(crate) mod token;

use std::borrow::Cow;

use ::oauth2::{
    http::{self, header},
    CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
};
use base64::Engine as _;
use url::{form_urlencoded, Url};

pub use self::token::TokenResponse;
use crate::{
    error::OAuthError,
    remote_app::{ClientAuth, RemoteApp, TokenMethod},
    transport::AwcHttpClient,
};

/// Bytes of randomness in a `state` value: 256 bits, twice RFC 9700's floor.
const STATE_BYTES: u32 = 32;

/// What an authorization request started: where to send the browser, and what to remember.
pub(crate) struct AuthorizationStart {
    pub(crate) url: Url,
    pub(crate) state: CsrfToken,
    pub(crate) verifier: Option<PkceCodeVerifier>,
}

/// Builds the authorization URL (RFC 6749 §4.1.1) with a fresh `state` and, unless turned off,
/// a PKCE S256 challenge (RFC 7636 §4.3).
pub(crate) fn authorization_request(
    app: &RemoteApp,
    redirect_uri: &str,
) -> Result<AuthorizationStart, OAuthError> {
    let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| {
        OAuthError::config(format!("the redirect URI `{redirect_uri}` is invalid: {e}"))
    })?;
    let mut request = app
        .authorize_client
        .authorize_url(|| CsrfToken::new_random_len(STATE_BYTES))
        .set_redirect_uri(Cow::Owned(redirect))
        .add_scopes(app.scope.iter().cloned().map(Scope::new));
    let verifier = if app.pkce {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        request = request.set_pkce_challenge(challenge);
        Some(verifier)
    } else {
        None
    };
    for (key, value) in app.request_token_params.iter().chain(&app.authorize_params) {
        request = request.add_extra_param(key.as_str(), value.as_str());
    }
    let (url, state) = request.url();
    Ok(AuthorizationStart {
        url,
        state,
        verifier,
    })
}

/// Parameter names the authorization request sets itself; extra parameters may not override them.
pub(crate) const RESERVED_AUTHORIZE_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// Exchanges an authorization code for tokens (RFC 6749 §4.1.3).
pub(crate) async fn exchange_code(
    http: &AwcHttpClient,
    app: &RemoteApp,
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    if let Some(verifier) = verifier {
        params.push(("code_verifier", verifier));
    }
    token_request(http, app, params).await
}

/// Sends a token request with the app's client authentication, extra parameters and headers,
/// and reads the answer.
pub(crate) async fn token_request(
    http: &AwcHttpClient,
    app: &RemoteApp,
    mut params: Vec<(&str, &str)>,
) -> Result<TokenResponse, OAuthError> {
    params.extend(
        app.access_token_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let mut builder = http::Request::builder();
    match app.client_auth {
        ClientAuth::Basic => {
            // RFC 6749 §2.3.1: both parts form-urlencoded before Basic encoding.
            let id: String = form_urlencoded::byte_serialize(app.consumer_key.as_bytes()).collect();
            let secret: String =
                form_urlencoded::byte_serialize(app.consumer_secret.secret().as_bytes()).collect();
            let credentials =
                base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
            builder = builder.header(header::AUTHORIZATION, format!("Basic {credentials}"));
        }
        ClientAuth::RequestBody => {
            params.push(("client_id", app.consumer_key.as_str()));
            params.push(("client_secret", app.consumer_secret.secret()));
        }
    }
    if !app
        .token_request_headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("accept"))
    {
        builder = builder.header(header::ACCEPT, "application/json");
    }
    for (name, value) in &app.token_request_headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let form = serde_urlencoded::to_string(&params).map_err(|e| {
        OAuthError::config(format!("a token request parameter cannot be encoded: {e}"))
    })?;
    let request = match app.access_token_method {
        TokenMethod::Post => builder
            .method(http::Method::POST)
            .uri(app.access_token_url.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.into_bytes()),
        TokenMethod::Get => {
            let mut url = app.access_token_url.clone();
            url.query_pairs_mut().extend_pairs(&params);
            builder
                .method(http::Method::GET)
                .uri(url.as_str())
                .body(Vec::new())
        }
    }
    .map_err(|e| OAuthError::config(format!("the token request cannot be built: {e}")))?;
    let response = http.send(request).await?;
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    TokenResponse::from_response(response.status().as_u16(), content_type, response.body())
}

#[cfg(test)]
mod tests {
    use ::oauth2::PkceCodeChallenge;

    /// RFC 7636 Appendix B: the verifier and S256 challenge.
    #[test]
    fn pkce_rfc7636_appendix_b() {
        let verifier = ::oauth2::PkceCodeVerifier::new(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned(),
        );
        let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
        assert_eq!(
            challenge.as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(challenge.method().as_str(), "S256");
    }
}
