//! OAuth 2 (RFC 6749): the authorization request with `state` and PKCE, and the token request.
//!
//! The authorization URL carries the `oauth2` crate's client id, endpoint, `CsrfToken` and PKCE
//! pair, written in the order its builder writes them (one string, set at once). The token
//! request is ours,
//! because real token endpoints stray from the RFC in ways `oauth2`'s strict reader refuses
//! (form-encoded answers, status 201, errors with status 200, `expires_in` as a string, a `GET`
//! token endpoint); see [`TokenResponse`].

/// The paths the development provider (`src/dev`, moving to its own crate) still names.
#[cfg(feature = "dev-provider")]
pub(crate) mod token {
    pub(crate) use crate::wire::now_unix;
}

use std::cell::RefCell;

use ::oauth2::{
    http::{self, header},
    CsrfToken, PkceCodeChallenge, PkceCodeVerifier,
};
use base64::Engine as _;
use url::{form_urlencoded, Url};

use crate::{
    error::OAuthError,
    remote_app::{ClientAuth, Endpoints, RemoteApp, TokenMethod},
    token::TokenResponse,
    transport::AwcHttpClient,
    wire::random_token,
};

/// What an authorization request started: where to send the browser, and what to remember.
pub(crate) struct AuthorizationStart {
    /// The authorization URL, as the `Location` header will carry it.
    pub(crate) url: String,
    pub(crate) state: CsrfToken,
    pub(crate) verifier: Option<PkceCodeVerifier>,
    /// The OpenID Connect `nonce`, for apps with an issuer.
    pub(crate) nonce: Option<String>,
}

/// Builds the authorization URL (RFC 6749 §4.1.1) with a fresh `state` and, unless turned off,
/// a PKCE S256 challenge (RFC 7636 §4.3).
pub(crate) fn authorization_request(
    app: &RemoteApp,
    endpoints: &Endpoints,
    redirect_uri: &str,
    encoded_redirect_uri: Option<&str>,
) -> Result<AuthorizationStart, OAuthError> {
    if encoded_redirect_uri.is_none() {
        check_redirect_uri(redirect_uri)?;
    }
    let state = CsrfToken::new(random_token());
    let pkce = app.pkce.then(|| {
        let verifier = PkceCodeVerifier::new(random_token());
        (
            PkceCodeChallenge::from_code_verifier_sha256(&verifier),
            verifier,
        )
    });
    // OpenID Connect Core §3.1.2.1: a nonce binds the ID token to this browser's sign-in.
    let nonce = app.is_oidc().then(random_token);
    // The parameters, form-encoded after any query the endpoint has, in the order `oauth2`'s
    // `AuthorizationRequest::url` writes them. Written here as one string and set as the query
    // at once: that builder re-parses the redirect URI and appends pair by pair, which cost
    // more than the rest of `/auth/{provider}` together (BENCHMARKS.md).
    let base = &endpoints.authorize_url;
    let mut query = String::with_capacity(
        base.as_str().len() + 256 + 3 * redirect_uri.len() + app.authorize_query_tail.len(),
    );
    query.push_str(&base[..url::Position::AfterQuery]);
    match base.query() {
        Some("") => {} // `…/authorize?`: the `?` is already there.
        Some(_) => query.push('&'),
        None => query.push('?'),
    }
    // Names, `state`, the challenge and the nonce (base64url) are written as they are: form
    // encoding leaves `A-Z a-z 0-9 - _` unchanged. The client id, scope and extra parameters
    // were encoded once, when the app was built.
    query.push_str("response_type=code&client_id=");
    query.push_str(&app.encoded_client_id);
    query.push_str("&state=");
    query.push_str(state.secret());
    if let Some((challenge, _)) = &pkce {
        query.push_str("&code_challenge=");
        query.push_str(challenge.as_str());
        query.push_str("&code_challenge_method=");
        query.push_str(challenge.method().as_str());
    }
    query.push_str("&redirect_uri=");
    match encoded_redirect_uri {
        // Checked and encoded when the extension was built.
        Some(encoded) => query.push_str(encoded),
        None => push_form_encoded(&mut query, redirect_uri),
    }
    query.push_str(&app.authorize_query_tail);
    if let Some(nonce) = &nonce {
        query.push_str("&nonce=");
        query.push_str(nonce);
    }
    Ok(AuthorizationStart {
        url: query,
        state,
        verifier: pkce.map(|(_, verifier)| verifier),
        nonce,
    })
}

/// Appends `text` form-encoded as `form_urlencoded::byte_serialize` does (`A-Z a-z 0-9 * - . _`
/// unchanged, space as `+`, any other byte `%XX`), copying unchanged runs whole: that iterator
/// yields a piece per escape and cost half a microsecond per authorization URL.
pub(crate) fn push_form_encoded(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = text.as_bytes();
    let mut run = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'*' | b'-' | b'.' | b'_') {
            continue;
        }
        // A non-empty `run..i` holds only ASCII, so both ends are character boundaries.
        if run < i {
            out.push_str(&text[run..i]);
        }
        if byte == b' ' {
            out.push('+');
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
        run = i + 1;
    }
    if run < bytes.len() {
        out.push_str(&text[run..]);
    }
}

/// Checks that a redirect URI is an absolute URL, as `oauth2`'s `RedirectUrl` does, parsing each
/// value once per thread: an app's redirect URI rarely changes, and parsing it cost a tenth of
/// `/auth/{provider}`.
fn check_redirect_uri(redirect_uri: &str) -> Result<(), OAuthError> {
    thread_local! {
        static LAST_VALID: RefCell<String> = const { RefCell::new(String::new()) };
    }
    if LAST_VALID.with_borrow(|last| !last.is_empty() && last == redirect_uri) {
        return Ok(());
    }
    Url::parse(redirect_uri).map_err(|e| {
        OAuthError::config(format!("the redirect URI `{redirect_uri}` is invalid: {e}"))
    })?;
    LAST_VALID.with_borrow_mut(|last| {
        last.clear();
        last.push_str(redirect_uri);
    });
    Ok(())
}

/// The authorization query's parts fixed per app, form-encoded once: `&scope=…` and the extra
/// parameters, in the order the authorization URL carries them.
pub(crate) fn authorize_query_tail(
    scope: &[String],
    params: impl IntoIterator<Item = (String, String)>,
) -> String {
    let mut tail = String::new();
    if !scope.is_empty() {
        tail.push_str("&scope=");
        for (i, scope) in scope.iter().enumerate() {
            if i > 0 {
                tail.push('+');
            }
            push_form_encoded(&mut tail, scope);
        }
    }
    for (key, value) in params {
        tail.push('&');
        push_form_encoded(&mut tail, &key);
        tail.push('=');
        push_form_encoded(&mut tail, &value);
    }
    tail
}

/// Parameter names the authorization request sets itself; extra parameters may not override them.
pub(crate) const RESERVED_AUTHORIZE_PARAMS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
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
    let token_url = &app.endpoints(http).await?.token_url;
    let form = serde_urlencoded::to_string(&params).map_err(|e| {
        OAuthError::config(format!("a token request parameter cannot be encoded: {e}"))
    })?;
    let request = match app.access_token_method {
        TokenMethod::Post => builder
            .method(http::Method::POST)
            .uri(token_url.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.into_bytes()),
        TokenMethod::Get => {
            let mut url = token_url.clone();
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

    #[test]
    fn form_encoding_as_form_urlencoded() {
        let text: String = (0u8..128)
            .map(char::from)
            .chain("é日本 +*~".chars())
            .collect();
        let mut ours = String::from("x");
        super::push_form_encoded(&mut ours, &text);
        let theirs: String = url::form_urlencoded::byte_serialize(text.as_bytes()).collect();
        assert_eq!(ours, format!("x{theirs}"));
    }

    /// The authorization URL is the one `oauth2`'s builder writes for the same state and PKCE
    /// pair, byte for byte, including an endpoint query, several scopes and extra parameters.
    #[actix_rt::test]
    async fn authorization_url_as_oauth2_writes_it() {
        use std::borrow::Cow;

        use ::oauth2::{CsrfToken, RedirectUrl, Scope};

        let app = crate::RemoteApp::builder("corp")
            .authorize_url("https://id.example/authorize?tenant=a%20b")
            .access_token_url("https://id.example/token")
            .consumer_key("client id/1")
            .consumer_secret("secret")
            .scope(["openid", "profile email+x"])
            .authorize_param("prompt", "select_account consent")
            .build()
            .unwrap();
        let endpoints = app
            .endpoints(&crate::AwcHttpClient::default())
            .await
            .unwrap();
        let redirect = "https://app.example/auth/corp/callback?x=1&y=é";
        let start = super::authorization_request(&app, &endpoints, redirect, None).unwrap();
        let verifier = start.verifier.unwrap();
        // 256 bits each, base64url: 43 characters.
        for secret in [start.state.secret(), verifier.secret()] {
            assert_eq!(secret.len(), 43);
            assert!(secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
        assert_ne!(start.state.secret(), verifier.secret());
        let client = ::oauth2::basic::BasicClient::new(app.consumer_key.clone())
            .set_auth_uri(::oauth2::AuthUrl::from_url(endpoints.authorize_url.clone()));
        let mut expected = client
            .authorize_url(|| CsrfToken::new(start.state.secret().clone()))
            .set_redirect_uri(Cow::Owned(RedirectUrl::new(redirect.to_owned()).unwrap()))
            .add_scopes(app.scope.iter().cloned().map(Scope::new))
            .set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier));
        for (key, value) in app.request_token_params.iter().chain(&app.authorize_params) {
            expected = expected.add_extra_param(key.as_str(), value.as_str());
        }
        if let Some(nonce) = &start.nonce {
            expected = expected.add_extra_param("nonce", nonce.as_str());
        }
        assert_eq!(start.url.as_str(), expected.url().0.as_str());
        assert!(super::authorization_request(&app, &endpoints, "not a URL", None).is_err());
        assert!(super::authorization_request(&app, &endpoints, redirect, None).is_ok());
    }
}
