//! OAuth 1.0a (RFC 5849): temporary credentials with `oauth_callback`, the authorization
//! redirect, token credentials with `oauth_verifier`, and signed requests.
//!
//! The signing is ours, checked against the RFC's examples and against vectors computed by
//! Python's `oauthlib` (`tests/data/oauth1_vectors.json`). One implementation both signs our
//! requests and verifies them in the development provider.

mod signature;

use ::oauth2::{
    http::{self, header},
    AccessToken,
};
use rand::{distributions::Alphanumeric, Rng as _};
use url::Url;

#[cfg(feature = "rsa-sha1")]
pub use self::signature::RsaSigningKey;
pub use self::signature::{
    percent_encode, sign, signature_base_string, signature_base_string_url, SignatureMethod,
};
use crate::{
    error::OAuthError,
    oauth2::token::{decode_fields, form_fields, now_unix, provider_error},
    oauth2::TokenResponse,
    remote_app::{RemoteApp, TokenMethod},
    transport::AwcHttpClient,
};

/// A fresh `oauth_nonce`: 32 alphanumeric characters (about 190 bits).
pub(crate) fn nonce() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// Signs a request and returns its `Authorization: OAuth …` header value.
///
/// `form` holds the form-encoded body parameters (the query is read from `url`); `token` is the
/// token and its secret, if any; `extra` adds protocol parameters such as `oauth_callback`.
pub(crate) fn authorization(
    app: &RemoteApp,
    method: &str,
    url: &Url,
    form: &[(String, String)],
    token: Option<(&str, &str)>,
    extra: &[(&str, &str)],
) -> Result<String, OAuthError> {
    let nonce = nonce();
    let timestamp = now_unix().to_string();
    let method_name = app.signature_method.name();
    let mut oauth: Vec<(&str, &str)> = vec![
        ("oauth_consumer_key", app.consumer_key.as_str()),
        ("oauth_nonce", &nonce),
        ("oauth_signature_method", method_name),
        ("oauth_timestamp", &timestamp),
        ("oauth_version", "1.0"),
    ];
    if let Some((token, _)) = token {
        oauth.push(("oauth_token", token));
    }
    oauth.extend_from_slice(extra);
    let base = signature::base_string_bytes(
        method,
        url,
        oauth
            .iter()
            .copied()
            .chain(form.iter().map(|(k, v)| (k.as_str(), v.as_str()))),
    );
    let token_secret = token.map(|(_, secret)| secret).unwrap_or("");
    let signature = match app.signature_method {
        #[cfg(feature = "rsa-sha1")]
        SignatureMethod::RsaSha1 => app
            .rsa_key
            .as_ref()
            .ok_or_else(|| OAuthError::config("RSA-SHA1 needs `rsa_private_key_pem`."))?
            .sign_bytes(&base),
        method => signature::sign_bytes(method, &base, app.consumer_secret.secret(), token_secret)?,
    };
    oauth.push(("oauth_signature", &signature));
    Ok(signature::authorization_header(oauth))
}

/// A signed, form-encoded token request (temporary or token credentials), read as §2.1 / §2.3
/// describe: `oauth_token` and `oauth_token_secret`, form-encoded.
async fn credentials_request(
    http: &AwcHttpClient,
    app: &RemoteApp,
    url: &Url,
    method: TokenMethod,
    params: &[(String, String)],
    token: Option<(&str, &str)>,
    extra: &[(&str, &str)],
) -> Result<TokenResponse, OAuthError> {
    let (verb, target, body) = match method {
        TokenMethod::Post => ("POST", url.clone(), serde_urlencoded::to_string(params)),
        TokenMethod::Get => {
            let mut target = url.clone();
            if !params.is_empty() {
                target.query_pairs_mut().extend_pairs(params);
            }
            ("GET", target, Ok(String::new()))
        }
    };
    let body =
        body.map_err(|e| OAuthError::config(format!("a parameter cannot be encoded: {e}")))?;
    let form: &[(String, String)] = if verb == "POST" { params } else { &[] };
    let auth = authorization(app, verb, &target, form, token, extra)?;
    let mut request = http::Request::builder()
        .method(verb)
        .uri(target.as_str())
        .header(header::AUTHORIZATION, auth);
    if verb == "POST" {
        request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let request = request
        .body(body.into_bytes())
        .map_err(|e| OAuthError::config(format!("the request cannot be built: {e}")))?;
    let response = http.send(request).await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    parse_credentials(status, content_type, response.body())
}

/// Reads a credentials answer: `oauth_token`, `oauth_token_secret`, and any other fields
/// (Twitter's `user_id` and `screen_name`) kept as extra.
pub(crate) fn parse_credentials(
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<TokenResponse, OAuthError> {
    let fields = oauth1_fields(content_type, body);
    if !(200..300).contains(&status) {
        let problem = fields.as_ref().and_then(|f| {
            f.get("oauth_problem")
                .or_else(|| f.get("error"))
                .and_then(|v| v.as_str())
                .map(|p| p.chars().take(256).collect::<String>())
        });
        return Err(match problem {
            Some(error) => OAuthError::Provider {
                description: fields
                    .as_ref()
                    .and_then(|f| {
                        f.get("oauth_problem_advice")
                            .or_else(|| f.get("error_description"))
                    })
                    .and_then(|v| v.as_str())
                    .map(|d| d.chars().take(256).collect()),
                error,
                uri: None,
                status: Some(status),
            },
            // Twitter's `{"errors": [{"code": 32, "message": …}]}` and the other JSON shapes.
            None => fields
                .as_ref()
                .and_then(|f| provider_error(f, Some(status)))
                .unwrap_or_else(|| OAuthError::unexpected_status(status, body)),
        });
    }
    let mut fields = fields.ok_or_else(|| {
        OAuthError::malformed(
            "credentials response",
            "the body is not form-encoded fields",
        )
    })?;
    let mut take = |key: &str| match fields.remove(key) {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Ok(s),
        _ => Err(OAuthError::malformed(
            "credentials response",
            format!("it has no `{key}`"),
        )),
    };
    let token = take("oauth_token")?;
    let secret = take("oauth_token_secret")?;
    Ok(TokenResponse::new(AccessToken::new(token))
        .with_token_type("oauth1".to_owned())
        .with_token_secret(Some(secret))
        .with_extra(fields))
}

fn oauth1_fields(
    content_type: Option<&str>,
    body: &[u8],
) -> Option<serde_json::Map<String, serde_json::Value>> {
    if let Some(fields) = decode_fields(content_type, body) {
        return Some(fields);
    }
    // OAuth 1.0a answers are form-encoded whatever the content type says (`text/html` is common).
    let map = form_fields(body)?;
    map.keys().any(|k| k.starts_with("oauth_")).then_some(map)
}

/// Obtains temporary credentials (RFC 5849 §2.1), sending `oauth_callback` and the app's
/// `request_token_params`. The provider must confirm the callback (OAuth 1.0a).
pub(crate) async fn request_token(
    http: &AwcHttpClient,
    app: &RemoteApp,
    callback: &str,
) -> Result<TokenResponse, OAuthError> {
    let url = app
        .request_token_url
        .as_ref()
        .ok_or_else(|| OAuthError::config("an OAuth 1.0a remote app needs `request_token_url`."))?;
    let token = credentials_request(
        http,
        app,
        url,
        TokenMethod::Post,
        &app.request_token_params,
        None,
        &[("oauth_callback", callback)],
    )
    .await?;
    match token.extra().get("oauth_callback_confirmed").and_then(|v| v.as_str()) {
        Some("true") => Ok(token),
        _ => Err(OAuthError::malformed(
            "credentials response",
            "the provider did not confirm the callback (`oauth_callback_confirmed=true`); it does not speak OAuth 1.0a",
        )),
    }
}

/// Exchanges the authorized temporary credentials and verifier for token credentials (§2.3).
pub(crate) async fn access_token(
    http: &AwcHttpClient,
    app: &RemoteApp,
    token: &str,
    token_secret: &str,
    verifier: &str,
) -> Result<TokenResponse, OAuthError> {
    let endpoints = app.endpoints(http).await?;
    credentials_request(
        http,
        app,
        &endpoints.token_url,
        app.access_token_method,
        &app.access_token_params,
        Some((token, token_secret)),
        &[("oauth_verifier", verifier)],
    )
    .await
}
