//! OAuth 2 (RFC 6749), with OpenID Connect when the app has an issuer: the app's settings, the
//! authorization request with `state` and PKCE, the callback and code exchange, and the token
//! requests (refresh, client credentials).
//!
//! The authorization URL carries the `oauth2` crate's client id, endpoint, `CsrfToken` and PKCE
//! pair, written in the order its builder writes them (one string, set at once). The token
//! request is ours, because real token endpoints stray from the RFC in ways `oauth2`'s strict
//! reader refuses (form-encoded answers, status 201, errors with status 200, `expires_in` as a
//! string, a `GET` token endpoint); see [`TokenResponse`].

#[cfg(feature = "oidc")]
use std::sync::Mutex;
use std::{cell::RefCell, fmt, sync::Arc};

use ::oauth2::{
    http::{self, header},
    ClientId, CsrfToken, PkceCodeChallenge, PkceCodeVerifier, RefreshToken,
};
use url::Url;

mod client_auth;
mod device;
mod par;
mod revocation;

#[cfg(feature = "private-key-jwt")]
pub use self::client_auth::MintedSecret;
pub use self::client_auth::{AssertionAudience, ClientAuth};
pub use self::device::{DeviceAuthorization, DevicePoll};
pub(crate) use self::{
    client_auth::{AuthConfig, Authentication, Destination},
    device::{device_authorization, poll_device_token},
    revocation::revoke,
};

use crate::{
    callback_query::CallbackQuery,
    credentials::{Credentials, TokenMethod},
    dpop::{DpopKey, NonceServer, Nonces},
    error::OAuthError,
    revocation::Revocation,
    token::TokenResponse,
    transport::AwcHttpClient,
    wire::random_token,
};

/// How the provider returns the authorization response to the callback (OAuth 2.0 Multiple
/// Response Type Encoding Practices §2.1, OAuth 2.0 Form Post Response Mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ResponseMode {
    /// In the query of a `GET` to the callback. The default, and what RFC 6749 specifies.
    #[default]
    Query,
    /// As an HTML form the provider's page POSTs to the callback (`response_mode=form_post`):
    /// the code never appears in a URL, a history entry or a `Referer`. Apple requires it when
    /// asked for the name or email.
    ///
    /// The POST is cross-site, so a session cookie with `SameSite=Lax` (actix-session's
    /// default, and the right one) does not come along with it. The callback then answers a
    /// small page of this app's own origin that submits the same form again to the same
    /// callback (a script, with a button when scripts are off): that second POST is same-site,
    /// the cookie comes along, and the handshake completes as a `GET` callback would. No cookie
    /// is ever made `SameSite=None`; a session that arrives with the first POST (a same-site
    /// provider) completes at once. [`OAuthMiddleware`](crate::OAuthMiddleware) and
    /// [`AuthorizedResponse`](crate::AuthorizedResponse) do all of it; route the callback path
    /// for `POST` (e.g. `web::route()`), or let the middleware answer it.
    FormPost,
}

/// A remote app's endpoints, configured or discovered.
pub(crate) struct Endpoints {
    pub(crate) authorize_url: Url,
    pub(crate) token_url: Url,
    pub(crate) userinfo_url: Option<Url>,
    /// The pushed authorization request endpoint (RFC 9126), configured or discovered.
    pub(crate) par_url: Option<Url>,
    /// Whether the provider accepts pushed authorization requests only (its discovery says
    /// `require_pushed_authorization_requests`).
    pub(crate) par_required: bool,
    /// The discovery document they came from (OpenID Connect).
    #[cfg(feature = "oidc")]
    pub(crate) metadata: Option<Arc<crate::oidc::ProviderMetadata>>,
}

impl Endpoints {
    fn new(authorize_url: Url, token_url: Url, userinfo_url: Option<Url>) -> Self {
        Self {
            authorize_url,
            token_url,
            userinfo_url,
            par_url: None,
            par_required: false,
            #[cfg(feature = "oidc")]
            metadata: None,
        }
    }
}

/// What the remote app builder hands over for an OAuth 2 app (URLs already parsed).
pub(crate) struct Config {
    pub(crate) authorize_url: Option<Url>,
    pub(crate) access_token_url: Option<Url>,
    pub(crate) userinfo_url: Option<Url>,
    /// Whether an OpenID Connect issuer is configured.
    pub(crate) has_issuer: bool,
    /// Its settings (feature `oidc`).
    #[cfg(feature = "oidc")]
    pub(crate) oidc: Option<crate::oidc::Config>,
    pub(crate) nonce_required: bool,
    pub(crate) pkce: bool,
    pub(crate) allow_code_injection: bool,
    pub(crate) client_auth: AuthConfig,
    /// Whether a client secret was configured.
    pub(crate) has_secret: bool,
    pub(crate) response_mode: ResponseMode,
    pub(crate) callback_json_param: Option<String>,
    pub(crate) denial_errors: Vec<String>,
    /// Push every authorization request (RFC 9126).
    pub(crate) par: bool,
    /// The configured pushed authorization request endpoint (else the discovered one).
    pub(crate) par_url: Option<Url>,
    /// `max_age`, `acr_values` and `prompt` on every sign-in, unless one asks otherwise.
    pub(crate) sign_in: crate::SignInOptions,
    pub(crate) access_token_method: TokenMethod,
    /// Whether tokens are DPoP-bound (RFC 9449).
    pub(crate) dpop: bool,
    pub(crate) scope: Vec<String>,
    pub(crate) request_token_params: Vec<(String, String)>,
    pub(crate) authorize_params: Vec<(String, String)>,
    pub(crate) access_token_params: Vec<(String, String)>,
    pub(crate) token_request_headers: Vec<(String, String)>,
    /// How tokens are revoked, and the RFC 7009 endpoint when one is configured.
    pub(crate) revocation: Revocation,
    pub(crate) revocation_url: Option<Url>,
    /// The configured RP-initiated logout endpoint (else the discovered one).
    pub(crate) end_session_url: Option<Url>,
    /// The configured device authorization endpoint (else the discovered one).
    pub(crate) device_authorization_url: Option<Url>,
}

/// An OAuth 2 remote app's own settings, checked when the app is built.
pub(crate) struct Settings {
    pub(crate) authorize_url: Option<Url>,
    pub(crate) token_url: Option<Url>,
    /// The configured user info endpoint, which wins over a discovered one.
    #[cfg(feature = "oidc")]
    userinfo_url: Option<Url>,
    /// The endpoints, when they are all configured (plain OAuth 2).
    static_endpoints: Option<Arc<Endpoints>>,
    pub(crate) scope: Vec<String>,
    pkce: bool,
    pub(crate) auth: Authentication,
    pub(crate) response_mode: ResponseMode,
    /// A callback parameter of JSON kept with the token (Apple's `user`).
    pub(crate) callback_json_param: Option<String>,
    /// Callback `error` codes that mean the user declined, besides `access_denied`.
    denial_errors: Vec<String>,
    /// Push every authorization request (else only where discovery requires it).
    par: bool,
    /// The configured endpoint, preferred to the discovered one (plain OAuth 2 apps have theirs
    /// in `static_endpoints`).
    #[cfg(feature = "oidc")]
    par_url: Option<Url>,
    /// `max_age`, `acr_values` and `prompt` on every sign-in, unless one asks otherwise.
    sign_in: crate::SignInOptions,
    access_token_params: Vec<(String, String)>,
    token_request_headers: Vec<(String, String)>,
    access_token_method: TokenMethod,
    /// Whether each sign-in gets a DPoP key its tokens are bound to (RFC 9449).
    pub(crate) dpop: bool,
    /// The last `DPoP-Nonce` of each of the provider's servers.
    pub(crate) dpop_nonces: Nonces,
    pub(crate) revocation: Revocation,
    pub(crate) revocation_url: Option<Url>,
    pub(crate) end_session_url: Option<Url>,
    /// The configured device authorization endpoint (RFC 8628 §3.1).
    pub(crate) device_authorization_url: Option<Url>,
    /// The client id, form-encoded once for authorization URLs.
    encoded_client_id: String,
    /// `&scope=…` and the extra authorization parameters, form-encoded once.
    authorize_query_tail: String,
    /// OpenID Connect settings and caches, when the app has an issuer.
    #[cfg(feature = "oidc")]
    pub(crate) oidc: Option<crate::oidc::Oidc>,
    /// The endpoints last built from a discovery document.
    #[cfg(feature = "oidc")]
    discovered: Mutex<Option<(Arc<crate::oidc::ProviderMetadata>, Arc<Endpoints>)>>,
}

impl Settings {
    /// Checks an OAuth 2 app's settings; `err(field, why)` names the field at fault.
    pub(crate) fn build(
        config: Config,
        client_id: &ClientId,
        err: &dyn Fn(&str, &str) -> OAuthError,
    ) -> Result<Self, OAuthError> {
        #[cfg(not(feature = "oidc"))]
        if config.has_issuer {
            return Err(err("issuer", "needs the `oidc` feature"));
        }
        // RFC 9700 §2.1.1 and §4.5: something must bind the code to this browser's sign-in.
        let binds_code = config.pkce || (config.has_issuer && config.nonce_required);
        if config.client_auth.method == ClientAuth::None && !config.pkce {
            return Err(err(
                "pkce",
                "is off, but a public client (`ClientAuth::None`) has nothing else to prove that \
                 the code is its own (RFC 9700 §2.1.1): turn PKCE on",
            ));
        }
        if !binds_code && !config.allow_code_injection {
            return Err(err(
                "pkce",
                "is off and no `id_token` nonce is required: nothing binds the authorization code \
                 to the browser that started the sign-in, so an injected code would sign the \
                 victim in to the attacker's account (RFC 9700 §4.5). Turn PKCE on, or require the \
                 nonce where the provider echoes it; for a provider that supports neither, accept \
                 the risk with `insecure_allow_code_injection(true)`",
            ));
        }
        if !config.has_issuer {
            if config.authorize_url.is_none() {
                return Err(err("authorize_url", "is required"));
            }
            if config.access_token_url.is_none() {
                return Err(err("access_token_url", "is required"));
            }
            // Without discovery nothing else can name the endpoint.
            if config.par && config.par_url.is_none() {
                return Err(err(
                    "par",
                    "needs the provider's `par_url` (no issuer: nothing to discover it from)",
                ));
            }
        }
        if config.dpop && !cfg!(feature = "dpop") {
            return Err(err("dpop", "needs the `dpop` feature"));
        }
        #[cfg(feature = "oidc")]
        let issuer = config.oidc.as_ref().map(|oidc| oidc.issuer.as_str());
        #[cfg(not(feature = "oidc"))]
        let issuer = None;
        let auth = Authentication::build(config.client_auth, config.has_secret, issuer, err)?;
        if config.access_token_method == TokenMethod::Get && auth.puts_secret_in_form() {
            return Err(err(
                "access_token_method",
                "`Get` with a client authentication other than `ClientAuth::Basic` would put the client secret or assertion in a URL; use `ClientAuth::Basic` or `Post`",
            ));
        }
        for (header, value) in &config.token_request_headers {
            if http::HeaderName::from_bytes(header.as_bytes()).is_err()
                || http::HeaderValue::from_str(value).is_err()
            {
                return Err(err(
                    "token_request_header",
                    "has an invalid header name or value",
                ));
            }
        }
        let mut scope = config.scope;
        let mut request_token_params = config.request_token_params;
        // Flask-OAuth's Facebook recipe passes `scope` in `request_token_params`.
        request_token_params.retain(|(key, value)| {
            if key == "scope" {
                scope.extend(
                    value
                        .split([' ', ','])
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                );
                false
            } else {
                true
            }
        });
        if !config.has_issuer
            && (config.sign_in.max_age.is_some() || config.sign_in.acr_values.is_some())
        {
            return Err(err(
                "max_age",
                "and `acr_values` need an OpenID Connect app (an `issuer`): only an ID token \
                 attests when and how the user authenticated",
            ));
        }
        let mut sign_in = config.sign_in;
        let mut authorize_params = config.authorize_params;
        // A `prompt` given as a plain parameter is the app's default prompt: a sign-in's own
        // (`SignInOptions::prompt`, a step-up) replaces it instead of sending a second one.
        for params in [&mut request_token_params, &mut authorize_params] {
            let mut failed = None;
            params.retain(|(key, value)| {
                if key != "prompt" {
                    return true;
                }
                if sign_in.prompt.is_some() {
                    failed = Some("`prompt` is set twice: keep `RemoteAppBuilder::prompt`");
                }
                sign_in.prompt = Some(value.clone());
                false
            });
            if let Some(failed) = failed {
                return Err(err("authorize_param", failed));
            }
        }
        for (key, _) in request_token_params.iter().chain(&authorize_params) {
            if let Some((_, method)) = STEP_UP_AND_PAR_PARAMS
                .iter()
                .find(|(name, _)| *name == key.as_str())
            {
                return Err(err(
                    "authorize_param",
                    &format!("may not set `{key}`: use {method}"),
                ));
            }
            if RESERVED_AUTHORIZE_PARAMS.contains(&key.as_str()) || key == "scope" {
                return Err(err(
                    "authorize_param",
                    &format!("may not set `{key}`, which the handshake sets itself"),
                ));
            }
        }
        #[cfg(feature = "oidc")]
        let oidc = config
            .oidc
            .map(|oidc| crate::oidc::Oidc::build(oidc, err))
            .transpose()?;
        #[cfg(feature = "oidc")]
        if oidc.is_some() && !scope.iter().any(|s| s == "openid") {
            scope.insert(0, "openid".to_owned());
        }
        let static_endpoints = match (&config.authorize_url, &config.access_token_url) {
            (Some(authorize), Some(token)) if !config.has_issuer => {
                let mut endpoints = Endpoints::new(
                    authorize.clone(),
                    token.clone(),
                    config.userinfo_url.clone(),
                );
                endpoints.par_url = config.par_url.clone();
                Some(Arc::new(endpoints))
            }
            _ => None,
        };
        let mut encoded_client_id = String::new();
        push_form_encoded(&mut encoded_client_id, client_id.as_str());
        let response_mode = match config.response_mode {
            ResponseMode::Query => None,
            ResponseMode::FormPost => Some(("response_mode".to_owned(), "form_post".to_owned())),
        };
        let authorize_query_tail = authorize_query_tail(
            &scope,
            request_token_params
                .into_iter()
                .chain(authorize_params)
                .chain(response_mode),
        );
        Ok(Self {
            authorize_url: config.authorize_url,
            token_url: config.access_token_url,
            #[cfg(feature = "oidc")]
            userinfo_url: config.userinfo_url,
            static_endpoints,
            scope,
            pkce: config.pkce,
            auth,
            response_mode: config.response_mode,
            callback_json_param: config.callback_json_param,
            denial_errors: config.denial_errors,
            par: config.par,
            #[cfg(feature = "oidc")]
            par_url: config.par_url.clone(),
            sign_in,
            access_token_params: config.access_token_params,
            token_request_headers: config.token_request_headers,
            access_token_method: config.access_token_method,
            dpop: config.dpop,
            dpop_nonces: Nonces::default(),
            revocation: config.revocation,
            revocation_url: config.revocation_url,
            end_session_url: config.end_session_url,
            device_authorization_url: config.device_authorization_url,
            encoded_client_id,
            authorize_query_tail,
            #[cfg(feature = "oidc")]
            oidc,
            #[cfg(feature = "oidc")]
            discovered: Mutex::new(None),
        })
    }

    /// Whether this is an OpenID Connect app (it has an issuer).
    pub(crate) fn is_oidc(&self) -> bool {
        #[cfg(feature = "oidc")]
        return self.oidc.is_some();
        #[cfg(not(feature = "oidc"))]
        false
    }

    /// The endpoints: configured ones, or those of the (cached) discovery document.
    pub(crate) async fn endpoints(
        &self,
        http: &AwcHttpClient,
    ) -> Result<Arc<Endpoints>, OAuthError> {
        if let Some(endpoints) = &self.static_endpoints {
            return Ok(endpoints.clone());
        }
        #[cfg(feature = "oidc")]
        if let Some(oidc) = &self.oidc {
            let metadata = oidc.metadata(http).await?;
            let mut discovered = self.discovered.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((seen, endpoints)) = &*discovered {
                if Arc::ptr_eq(seen, &metadata) {
                    return Ok(endpoints.clone());
                }
            }
            let token_url = self
                .token_url
                .clone()
                .or_else(|| metadata.token_endpoint.clone())
                .ok_or_else(|| {
                    OAuthError::Discovery(format!(
                        "the discovery document of `{}` has no `token_endpoint`.",
                        oidc.issuer
                    ))
                })?;
            let mut endpoints = Endpoints::new(
                self.authorize_url
                    .clone()
                    .unwrap_or_else(|| metadata.authorization_endpoint.clone()),
                token_url,
                self.userinfo_url
                    .clone()
                    .or_else(|| metadata.userinfo_endpoint.clone()),
            );
            endpoints.par_url = self
                .par_url
                .clone()
                .or_else(|| metadata.pushed_authorization_request_endpoint.clone());
            endpoints.par_required = metadata.require_pushed_authorization_requests;
            endpoints.metadata = Some(metadata.clone());
            let endpoints = Arc::new(endpoints);
            *discovered = Some((metadata, endpoints.clone()));
            return Ok(endpoints);
        }
        let _ = http;
        Err(OAuthError::config(
            "an OAuth 2 remote app needs `authorize_url` and `access_token_url`, or an `issuer`.",
        ))
    }
}

/// An OAuth 2 handshake in progress: what binds the callback to this browser.
pub(crate) struct Pending {
    /// The `state` sent (RFC 6749 §10.12): the callback names its handshake by it.
    pub(crate) state: CsrfToken,
    /// The PKCE verifier (RFC 7636), unless PKCE is off.
    pub(crate) verifier: Option<PkceCodeVerifier>,
    /// The OpenID Connect `nonce` sent, which the `id_token` must carry.
    pub(crate) nonce: Option<String>,
    /// What the ID token must show (`max_age`, `acr_values`), and whether the session's user
    /// must be the one who signs in.
    pub(crate) requirements: Option<crate::step_up::Requirements>,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending")
            .field("state", &self.state)
            .field("verifier", &self.verifier)
            .field("nonce", &self.nonce.as_ref().map(|_| "[redacted]"))
            .field("requirements", &self.requirements)
            .finish()
    }
}

/// Begins a sign-in: the authorization URL (RFC 6749 §4.1.1) to send the browser to, and what
/// the session keeps. `encoded_redirect_uri` is the redirect URI already checked and
/// form-encoded, when it does not depend on the request. With DPoP and PAR, the sign-in's DPoP
/// key is made here and its thumbprint pushed as `dpop_jkt` (RFC 9449 §10), binding the code
/// to it: the key is returned, for the caller to keep server-side until the code exchange.
pub(crate) async fn begin(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    redirect_uri: &str,
    encoded_redirect_uri: Option<&str>,
    options: &crate::SignInOptions,
) -> Result<(String, Pending, Option<DpopKey>), OAuthError> {
    let options = options.or(&settings.sign_in);
    if !settings.is_oidc() && (options.max_age.is_some() || options.acr_values.is_some()) {
        return Err(OAuthError::config(
            "`max_age` and `acr_values` need an OpenID Connect app: only an ID token attests \
             when and how the user authenticated.",
        ));
    }
    let endpoints = settings.endpoints(http).await?;
    let mut start =
        authorization_request(settings, &endpoints, redirect_uri, encoded_redirect_uri)?;
    push_sign_in_options(&mut start.url, &options);
    let mut dpop_key = None;
    let url = if settings.par || endpoints.par_required {
        let par_url = endpoints.par_url.as_ref().ok_or_else(|| {
            OAuthError::config(
                "pushed authorization requests are on, but the provider has no \
                 `pushed_authorization_request_endpoint` (set `par_url`).",
            )
        })?;
        let mut params = std::borrow::Cow::Borrowed(&start.url[start.params_at..]);
        if settings.dpop {
            let key = DpopKey::generate()?;
            // A thumbprint is base64url: nothing to encode.
            params = std::borrow::Cow::Owned(format!("{params}&dpop_jkt={}", key.thumbprint()));
            dpop_key = Some(key);
        }
        par::push(
            http,
            credentials,
            settings,
            par_url,
            &endpoints.token_url,
            &endpoints.authorize_url,
            &params,
        )
        .await?
    } else {
        start.url
    };
    let pending = Pending {
        state: start.state,
        verifier: start.verifier,
        nonce: start.nonce,
        requirements: options.requirements(),
    };
    Ok((url, pending, dpop_key))
}

/// Appends `max_age`, `acr_values` and `prompt` (OpenID Connect Core §3.1.2.1) to an
/// authorization request's parameters.
fn push_sign_in_options(query: &mut String, options: &crate::SignInOptions) {
    if let Some(max_age) = options.max_age {
        query.push_str("&max_age=");
        query.push_str(&max_age.as_secs().to_string());
    }
    if let Some(values) = &options.acr_values {
        query.push_str("&acr_values=");
        push_form_encoded(query, &values.join(" "));
    }
    if let Some(prompt) = &options.prompt {
        query.push_str("&prompt=");
        push_form_encoded(query, prompt);
    }
}

/// The value a callback names its handshake by: its `state`.
pub(crate) fn handshake_key(query: &CallbackQuery) -> Result<&str, OAuthError> {
    query.get("state").ok_or(OAuthError::StateMissing(
        "the callback carries no `state` parameter.",
    ))
}

/// Completes a sign-in whose `state` the callback named: the RFC 9207 `iss` check, then the
/// code exchanged with the PKCE verifier (RFC 6749 §4.1.3) and, for OpenID Connect, the
/// `id_token` validated. `Ok(None)`: the user declined (`access_denied`). `redirect_uri` gives
/// the redirect URI the authorization request carried.
pub(crate) async fn complete(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    pending: &Pending,
    query: &CallbackQuery,
    redirect_uri: impl FnOnce() -> Result<String, OAuthError>,
    dpop_key: Option<DpopKey>,
) -> Result<Option<TokenResponse>, OAuthError> {
    let endpoints = settings.endpoints(http).await?;
    check_callback_issuer(&endpoints, query.get("iss"))?;
    if let Some(error) = query.get("error") {
        if error == "access_denied" || settings.denial_errors.iter().any(|e| e == error) {
            return Ok(None);
        }
        return Err(OAuthError::Provider {
            error: error.chars().take(256).collect(),
            description: query
                .get("error_description")
                .map(|d| d.chars().take(256).collect()),
            uri: query
                .get("error_uri")
                .map(|d| d.chars().take(256).collect()),
            status: None,
        });
    }
    let code = query.get("code").filter(|c| !c.is_empty()).ok_or_else(|| {
        OAuthError::malformed("callback", "it carries neither `code` nor `error`.")
    })?;
    // The callback arrived at the redirect URI, so the URI computed for it now is the one the
    // authorization request carried (the provider checks that they match).
    let redirect_uri = redirect_uri()?;
    let mut params = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri.as_str()),
    ];
    if let Some(verifier) = &pending.verifier {
        params.push(("code_verifier", verifier.secret().as_str()));
    }
    // RFC 9449 §5: a key of this sign-in's own, for the tokens it brings: the one its pushed
    // request named (`dpop_jkt`), else a new one.
    let key = match dpop_key {
        Some(key) => Some(key),
        None => settings.dpop.then(DpopKey::generate).transpose()?,
    };
    let mut token = token_request(http, credentials, settings, params, key.as_ref()).await?;
    if let Some(name) = &settings.callback_json_param {
        // Apple's `user`: JSON from the browser, unsigned; kept as it came, for the profile.
        if let Some(value) = query
            .get(name)
            .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw).ok())
            .filter(serde_json::Value::is_object)
        {
            token.insert_extra(name.clone(), value);
        }
    }
    #[cfg(feature = "oidc")]
    if let (Some(oidc), Some(metadata)) = (&settings.oidc, &endpoints.metadata) {
        oidc.verify_sign_in(
            http,
            metadata,
            &mut token,
            credentials.id.as_str(),
            pending.nonce.as_deref(),
        )
        .await?;
        if let Some(requirements) = &pending.requirements {
            requirements.check(token.id_token_claims(), oidc.clock_skew.as_secs())?;
        }
    }
    Ok(Some(token))
}

/// RFC 9207: an authorization response's `iss` must name the issuer this sign-in began with,
/// and must be present when the provider advertises it.
#[cfg_attr(not(feature = "oidc"), allow(unused_variables))]
fn check_callback_issuer(endpoints: &Endpoints, iss: Option<&str>) -> Result<(), OAuthError> {
    #[cfg(feature = "oidc")]
    if let Some(metadata) = &endpoints.metadata {
        return crate::oidc::check_callback_issuer(metadata, iss);
    }
    if iss.is_some() {
        // A plain OAuth 2 app knows no issuer to compare with; RFC 9207 §2.4 lets it ignore `iss`.
        log::debug!("actix-oauth: callback `iss` ignored: the remote app has no issuer");
    }
    Ok(())
}

/// The `Authorization` header of an API call: the access token as a bearer token (RFC 6750
/// §2.1), or as a DPoP-bound one (RFC 9449 §7.1) when the provider issued it so.
pub(crate) fn authorization(token: &TokenResponse) -> String {
    let scheme = if token.is_dpop() { "DPoP" } else { "Bearer" };
    format!("{scheme} {}", token.access_token().secret())
}

/// An app token from the client credentials grant (RFC 6749 §4.4), with the app's scopes.
pub(crate) async fn client_credentials(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
) -> Result<TokenResponse, OAuthError> {
    let mut params = vec![("grant_type", "client_credentials")];
    let scope = settings.scope.join(" ");
    if !scope.is_empty() {
        params.push(("scope", &scope));
    }
    let key = settings.dpop.then(DpopKey::generate).transpose()?;
    token_request(http, credentials, settings, params, key.as_ref()).await
}

/// A fresh token for a refresh token (RFC 6749 §6), with proofs by the sign-in's DPoP key when
/// it has one (RFC 9449 §5: a refresh token bound to it is refused without them).
pub(crate) async fn refresh(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    refresh_token: &RefreshToken,
    dpop: Option<&DpopKey>,
) -> Result<TokenResponse, OAuthError> {
    let params = vec![
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.secret().as_str()),
    ];
    token_request(http, credentials, settings, params, dpop).await
}

/// What an authorization request started: where to send the browser, and what to remember.
pub(crate) struct AuthorizationStart {
    /// The authorization URL, as the `Location` header will carry it.
    pub(crate) url: String,
    /// Where the request's own parameters begin in [`url`](Self::url) (after the endpoint and
    /// any query it has): what a pushed request sends.
    pub(crate) params_at: usize,
    pub(crate) state: CsrfToken,
    pub(crate) verifier: Option<PkceCodeVerifier>,
    /// The OpenID Connect `nonce`, for apps with an issuer.
    pub(crate) nonce: Option<String>,
}

/// Builds the authorization URL (RFC 6749 §4.1.1) with a fresh `state` and, unless turned off,
/// a PKCE S256 challenge (RFC 7636 §4.3).
pub(crate) fn authorization_request(
    settings: &Settings,
    endpoints: &Endpoints,
    redirect_uri: &str,
    encoded_redirect_uri: Option<&str>,
) -> Result<AuthorizationStart, OAuthError> {
    if encoded_redirect_uri.is_none() {
        check_redirect_uri(redirect_uri)?;
    }
    let state = CsrfToken::new(random_token());
    let pkce = settings.pkce.then(|| {
        let verifier = PkceCodeVerifier::new(random_token());
        (
            PkceCodeChallenge::from_code_verifier_sha256(&verifier),
            verifier,
        )
    });
    // OpenID Connect Core §3.1.2.1: a nonce binds the ID token to this browser's sign-in.
    let nonce = settings.is_oidc().then(random_token);
    // The parameters, form-encoded after any query the endpoint has, in the order `oauth2`'s
    // `AuthorizationRequest::url` writes them. Written here as one string and set as the query
    // at once: that builder re-parses the redirect URI and appends pair by pair, which cost
    // more than the rest of `/auth/{provider}` together (BENCHMARKS.md).
    let base = &endpoints.authorize_url;
    let mut query = String::with_capacity(
        base.as_str().len() + 256 + 3 * redirect_uri.len() + settings.authorize_query_tail.len(),
    );
    query.push_str(&base[..url::Position::AfterQuery]);
    match base.query() {
        Some("") => {} // `…/authorize?`: the `?` is already there.
        Some(_) => query.push('&'),
        None => query.push('?'),
    }
    let params_at = query.len();
    // Names, `state`, the challenge and the nonce (base64url) are written as they are: form
    // encoding leaves `A-Z a-z 0-9 - _` unchanged. The client id, scope and extra parameters
    // were encoded once, when the app was built.
    query.push_str("response_type=code&client_id=");
    query.push_str(&settings.encoded_client_id);
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
    query.push_str(&settings.authorize_query_tail);
    if let Some(nonce) = &nonce {
        query.push_str("&nonce=");
        query.push_str(nonce);
    }
    Ok(AuthorizationStart {
        url: query,
        params_at,
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
    // `RemoteAppBuilder::response_mode`: the callback must know how the answer comes.
    "response_mode",
];

/// Authorization request parameters a sign-in sets from its settings, with the setting to use
/// instead: as plain parameters they would be sent twice, or unchecked.
const STEP_UP_AND_PAR_PARAMS: &[(&str, &str)] = &[
    (
        "max_age",
        "`RemoteAppBuilder::max_age` or `SignInOptions::max_age`",
    ),
    (
        "acr_values",
        "`RemoteAppBuilder::acr_values` or `SignInOptions::acr_values`",
    ),
    ("dpop_jkt", "`RemoteAppBuilder::dpop` with `par`"),
    ("request_uri", "`RemoteAppBuilder::par`"),
    ("request", "`RemoteAppBuilder::par`"),
];

/// Sends a token request with the app's client authentication, extra parameters and headers,
/// and reads the answer. With a DPoP key, the request carries a proof (RFC 9449 §5) with the
/// token endpoint's last `DPoP-Nonce`, and is sent once more when the endpoint answers
/// `use_dpop_nonce` with a new one (§8); the tokens issued are bound to the key.
pub(super) async fn token_request(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    mut params: Vec<(&str, &str)>,
    dpop: Option<&DpopKey>,
) -> Result<TokenResponse, OAuthError> {
    params.extend(
        settings
            .access_token_params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let token_url = &settings.endpoints(http).await?.token_url;
    let mut retried = false;
    loop {
        let request = build_token_request(credentials, settings, &params, token_url, dpop)?;
        let response = http.send(request).await?;
        let fresh_nonce = dpop.is_some()
            && settings.dpop_nonces.remember(
                NonceServer::Authorization,
                token_url,
                response.headers(),
            );
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let answer =
            TokenResponse::from_response(response.status().as_u16(), content_type, response.body());
        match answer {
            Err(OAuthError::Provider { ref error, .. })
                if error == "use_dpop_nonce" && fresh_nonce && !retried =>
            {
                retried = true;
            }
            Ok(mut token) => {
                token.set_dpop(dpop.cloned());
                return Ok(token);
            }
            Err(err) => return Err(err),
        }
    }
}

/// One token request: a fresh client proof (a client assertion is single use) and DPoP proof.
fn build_token_request(
    credentials: &Credentials,
    settings: &Settings,
    params: &[(&str, &str)],
    token_url: &Url,
    dpop: Option<&DpopKey>,
) -> Result<http::Request<Vec<u8>>, OAuthError> {
    let proof = settings
        .auth
        .prove(credentials, Destination::token_endpoint(token_url))?;
    let mut params: Vec<(&str, &str)> = params.to_vec();
    params.extend(proof.form.iter().map(|(k, v)| (*k, v.as_str())));
    let mut builder = proof.header(http::Request::builder());
    if !settings
        .token_request_headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("accept"))
    {
        builder = builder.header(header::ACCEPT, "application/json");
    }
    for (name, value) in &settings.token_request_headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let form = serde_urlencoded::to_string(&params).map_err(|e| {
        OAuthError::config(format!("a token request parameter cannot be encoded: {e}"))
    })?;
    let method = match settings.access_token_method {
        TokenMethod::Post => http::Method::POST,
        TokenMethod::Get => http::Method::GET,
    };
    if let Some(key) = dpop {
        let nonce = settings
            .dpop_nonces
            .get(NonceServer::Authorization, token_url);
        let proof = key.proof(method.as_str(), token_url, None, nonce.as_deref())?;
        builder = builder.header("DPoP", proof);
    }
    match settings.access_token_method {
        TokenMethod::Post => builder
            .method(method)
            .uri(token_url.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.into_bytes()),
        TokenMethod::Get => {
            let mut url = token_url.clone();
            url.query_pairs_mut().extend_pairs(&params);
            builder.method(method).uri(url.as_str()).body(Vec::new())
        }
    }
    .map_err(|e| OAuthError::config(format!("the token request cannot be built: {e}")))
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
            .authorize_param("hd", "select_account consent")
            .build()
            .unwrap();
        let settings = app.protocol.oauth2().expect("an OAuth 2 app");
        let endpoints = settings
            .endpoints(&crate::AwcHttpClient::default())
            .await
            .unwrap();
        let redirect = "https://app.example/auth/corp/callback?x=1&y=é";
        let start = super::authorization_request(settings, &endpoints, redirect, None).unwrap();
        let verifier = start.verifier.unwrap();
        // 256 bits each, base64url: 43 characters.
        for secret in [start.state.secret(), verifier.secret()] {
            assert_eq!(secret.len(), 43);
            assert!(secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
        assert_ne!(start.state.secret(), verifier.secret());
        let client = ::oauth2::basic::BasicClient::new(app.consumer_key().clone())
            .set_auth_uri(::oauth2::AuthUrl::from_url(endpoints.authorize_url.clone()));
        let mut expected = client
            .authorize_url(|| CsrfToken::new(start.state.secret().clone()))
            .set_redirect_uri(Cow::Owned(RedirectUrl::new(redirect.to_owned()).unwrap()))
            .add_scopes(settings.scope.iter().cloned().map(Scope::new))
            .set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier));
        // The one extra parameter configured above.
        expected = expected.add_extra_param("hd", "select_account consent");
        if let Some(nonce) = &start.nonce {
            expected = expected.add_extra_param("nonce", nonce.as_str());
        }
        assert_eq!(start.url.as_str(), expected.url().0.as_str());
        assert!(super::authorization_request(settings, &endpoints, "not a URL", None).is_err());
        assert!(super::authorization_request(settings, &endpoints, redirect, None).is_ok());
    }
}
