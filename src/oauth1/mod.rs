//! OAuth 1.0a (RFC 5849): temporary credentials with `oauth_callback`, the authorization
//! redirect, token credentials with `oauth_verifier`, and signed requests.
//!
//! The signing is ours, checked against the RFC's examples and against vectors computed by
//! Python's `oauthlib` (`tests/data/oauth1_vectors.json`). One implementation both signs our
//! requests and verifies them in the development provider.

mod signature;
mod types;

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
pub(crate) use self::types::{TokenSecret, Verifier};
use crate::{
    callback_query::CallbackQuery,
    credentials::{Credentials, TokenMethod},
    error::OAuthError,
    token::TokenResponse,
    transport::AwcHttpClient,
    wire::{decode_fields, form_fields, now_unix, provider_error},
};

/// The longest OAuth 1.0a temporary token or secret kept in the session.
const MAX_TEMPORARY_CREDENTIAL_BYTES: usize = 256;

/// An OAuth 1.0a remote app's own settings, checked when the app is built.
pub(crate) struct Settings {
    pub(crate) request_token_url: Url,
    pub(crate) authorize_url: Url,
    pub(crate) access_token_url: Url,
    request_token_params: Vec<(String, String)>,
    access_token_params: Vec<(String, String)>,
    authorize_params: Vec<(String, String)>,
    access_token_method: TokenMethod,
    signature_method: SignatureMethod,
    #[cfg(feature = "rsa-sha1")]
    rsa_key: Option<RsaSigningKey>,
}

/// What the remote app builder hands over for an OAuth 1.0a app (URLs already parsed).
pub(crate) struct Config {
    /// Whether a consumer secret was configured (required).
    pub(crate) has_secret: bool,
    pub(crate) request_token_url: Url,
    pub(crate) authorize_url: Option<Url>,
    pub(crate) access_token_url: Option<Url>,
    /// Whether an OpenID Connect issuer was configured too (refused).
    pub(crate) has_issuer: bool,
    pub(crate) request_token_params: Vec<(String, String)>,
    pub(crate) access_token_params: Vec<(String, String)>,
    pub(crate) authorize_params: Vec<(String, String)>,
    pub(crate) access_token_method: TokenMethod,
    pub(crate) signature_method: SignatureMethod,
    /// Read with the `rsa-sha1` feature only; without it, RSA-SHA1 is refused.
    #[cfg_attr(not(feature = "rsa-sha1"), allow(dead_code))]
    pub(crate) rsa_private_key_pem: Option<String>,
}

impl Settings {
    /// Checks an OAuth 1.0a app's settings; `err(field, why)` names the field at fault.
    pub(crate) fn build(
        config: Config,
        err: &dyn Fn(&str, &str) -> OAuthError,
    ) -> Result<Self, OAuthError> {
        if !config.has_secret {
            return Err(err("consumer_secret", "(the client secret) is required"));
        }
        if config.has_issuer {
            return Err(err("issuer", "is for OpenID Connect, not OAuth 1.0a"));
        }
        let authorize_url = config
            .authorize_url
            .ok_or_else(|| err("authorize_url", "is required"))?;
        let access_token_url = config
            .access_token_url
            .ok_or_else(|| err("access_token_url", "is required"))?;
        #[cfg(feature = "rsa-sha1")]
        let rsa_key = config
            .rsa_private_key_pem
            .as_deref()
            .map(RsaSigningKey::from_pem)
            .transpose()
            .map_err(|_| {
                err(
                    "rsa_private_key_pem",
                    "is not a PKCS#8 or PKCS#1 PEM RSA private key",
                )
            })?;
        #[cfg(feature = "rsa-sha1")]
        let has_rsa_key = rsa_key.is_some();
        #[cfg(not(feature = "rsa-sha1"))]
        let has_rsa_key = false;
        if config.signature_method == SignatureMethod::RsaSha1 && !has_rsa_key {
            return Err(err(
                "rsa_private_key_pem",
                "is required for RSA-SHA1 (and needs the `rsa-sha1` feature)",
            ));
        }
        Ok(Self {
            request_token_url: config.request_token_url,
            authorize_url,
            access_token_url,
            request_token_params: config.request_token_params,
            access_token_params: config.access_token_params,
            authorize_params: config.authorize_params,
            access_token_method: config.access_token_method,
            signature_method: config.signature_method,
            #[cfg(feature = "rsa-sha1")]
            rsa_key,
        })
    }
}

/// An OAuth 1.0a handshake in progress: the temporary credentials (RFC 5849 §2.1) the user is
/// authorizing.
#[derive(Clone)]
pub(crate) struct Pending {
    /// The temporary token: the callback names its handshake by it.
    pub(crate) request_token: String,
    pub(crate) token_secret: TokenSecret,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("request_token", &"[redacted]")
            .field("token_secret", &self.token_secret)
            .finish()
    }
}

/// Begins a sign-in (RFC 5849 §2.1–2.2): temporary credentials first, then the browser goes to
/// the authorization page with the temporary token. Returns that page's URL and what the
/// session keeps.
pub(crate) async fn begin(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    redirect_uri: &str,
) -> Result<(String, Pending), OAuthError> {
    let temporary = request_token(http, credentials, settings, redirect_uri).await?;
    let token = temporary.access_token().secret();
    let secret = temporary.token_secret().unwrap_or_default();
    if token.len() > MAX_TEMPORARY_CREDENTIAL_BYTES || secret.len() > MAX_TEMPORARY_CREDENTIAL_BYTES
    {
        return Err(OAuthError::malformed(
            "temporary credentials",
            "the request token or its secret is longer than 256 bytes.",
        ));
    }
    let mut url = settings.authorize_url.clone();
    url.query_pairs_mut()
        .append_pair("oauth_token", token)
        .extend_pairs(&settings.authorize_params);
    let pending = Pending {
        request_token: token.clone(),
        token_secret: TokenSecret::new(secret.to_owned()),
    };
    Ok((String::from(url), pending))
}

/// The value a callback names its handshake by: the temporary token, or under `denied`
/// (Twitter) the one the user declined.
pub(crate) fn handshake_key(query: &CallbackQuery) -> Result<&str, OAuthError> {
    if let Some(denied) = query.get("denied") {
        return Ok(denied);
    }
    query.get("oauth_token").ok_or(OAuthError::StateMissing(
        "the callback carries no `oauth_token` parameter.",
    ))
}

/// Completes a sign-in (RFC 5849 §2.2–2.3) whose temporary token the callback named: the
/// verifier and the temporary credentials buy the token credentials. `Ok(None)`: the user
/// declined (`denied`).
pub(crate) async fn complete(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    pending: &Pending,
    query: &CallbackQuery,
) -> Result<Option<TokenResponse>, OAuthError> {
    if query.get("denied").is_some() {
        return Ok(None);
    }
    let verifier = query
        .get("oauth_verifier")
        .filter(|v| !v.is_empty())
        .map(|v| Verifier::new(v.to_owned()))
        .ok_or_else(|| OAuthError::malformed("callback", "it carries no `oauth_verifier`."))?;
    access_token(http, credentials, settings, pending, &verifier)
        .await
        .map(Some)
}

/// The `Authorization` header of an API call made with token credentials `token`.
pub(crate) fn sign_api_call(
    credentials: &Credentials,
    settings: &Settings,
    provider: &str,
    method: &str,
    url: &Url,
    form: &[(String, String)],
    token: &TokenResponse,
) -> Result<String, OAuthError> {
    let secret = token
        .token_secret()
        .ok_or_else(|| OAuthError::TokenMissing(format!("{provider} token secret")))?;
    let pair = (token.access_token().secret().as_str(), secret);
    authorization(credentials, settings, method, url, form, Some(pair), &[])
}

/// The length of our nonces: the most that `oauthlib`'s default validator accepts.
const NONCE_LEN: usize = 30;

/// A fresh `oauth_nonce`: 30 alphanumeric characters (about 178 bits). RFC 5849 sets no length,
/// but providers built on Python's `oauthlib` accept only 20 to 30 safe characters by default.
pub(crate) fn nonce() -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(NONCE_LEN)
        .map(char::from)
        .collect()
}

/// Signs a request and returns its `Authorization: OAuth …` header value.
///
/// `form` holds the form-encoded body parameters (the query is read from `url`); `token` is the
/// token and its secret, if any; `extra` adds protocol parameters such as `oauth_callback`.
fn authorization(
    credentials: &Credentials,
    settings: &Settings,
    method: &str,
    url: &Url,
    form: &[(String, String)],
    token: Option<(&str, &str)>,
    extra: &[(&str, &str)],
) -> Result<String, OAuthError> {
    let nonce = nonce();
    let timestamp = now_unix().to_string();
    let method_name = settings.signature_method.name();
    let mut oauth: Vec<(&str, &str)> = vec![
        ("oauth_consumer_key", credentials.id.as_str()),
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
    let signature = match settings.signature_method {
        #[cfg(feature = "rsa-sha1")]
        SignatureMethod::RsaSha1 => settings
            .rsa_key
            .as_ref()
            .ok_or_else(|| OAuthError::config("RSA-SHA1 needs `rsa_private_key_pem`."))?
            .sign_bytes(&base),
        method => signature::sign_bytes(method, &base, credentials.secret.secret(), token_secret)?,
    };
    oauth.push(("oauth_signature", &signature));
    Ok(signature::authorization_header(oauth))
}

/// A signed, form-encoded token request (temporary or token credentials), read as §2.1 / §2.3
/// describe: `oauth_token` and `oauth_token_secret`, form-encoded.
#[allow(clippy::too_many_arguments)]
async fn credentials_request(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
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
    let auth = authorization(credentials, settings, verb, &target, form, token, extra)?;
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
async fn request_token(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    callback: &str,
) -> Result<TokenResponse, OAuthError> {
    let token = credentials_request(
        http,
        credentials,
        settings,
        &settings.request_token_url,
        TokenMethod::Post,
        &settings.request_token_params,
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
async fn access_token(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    pending: &Pending,
    verifier: &Verifier,
) -> Result<TokenResponse, OAuthError> {
    credentials_request(
        http,
        credentials,
        settings,
        &settings.access_token_url,
        settings.access_token_method,
        &settings.access_token_params,
        Some((&pending.request_token, pending.token_secret.secret())),
        &[("oauth_verifier", verifier.secret())],
    )
    .await
}
