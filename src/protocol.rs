//! The one place that tells the protocols apart: a remote app speaks OAuth 1.0a or OAuth 2
//! (with OpenID Connect when it has an issuer), and each step of a sign-in or an API call is
//! handed to that protocol's module here.

use ::oauth2::RefreshToken;
use url::Url;

use crate::{
    callback_query::CallbackQuery,
    credentials::Credentials,
    dpop::{DpopKey, Nonces},
    error::OAuthError,
    oauth1,
    oauth2::{self, DeviceAuthorization, DevicePoll},
    token::TokenResponse,
    transport::AwcHttpClient,
};

/// What the remote app builder hands over: the protocol's settings, not yet checked. Made once
/// per remote app at start, so the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Config {
    /// A request token URL was configured.
    OAuth1(oauth1::Config),
    /// No request token URL.
    OAuth2(oauth2::Config),
}

/// The protocol a remote app speaks, with its own settings.
// One per remote app, built once at start-up and only borrowed afterwards: boxing the larger
// variant would save a few hundred bytes per app at the cost of an indirection on every call.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Protocol {
    /// OAuth 1.0a (RFC 5849).
    OAuth1(oauth1::Settings),
    /// OAuth 2 (RFC 6749), and OpenID Connect when the settings have an issuer.
    OAuth2(oauth2::Settings),
}

/// A handshake in progress, as the protocol that began it keeps it.
#[derive(Debug)]
pub(crate) enum PendingHandshake {
    /// The temporary credentials being authorized.
    OAuth1(oauth1::Pending),
    /// The `state`, PKCE verifier and `nonce` sent.
    OAuth2(oauth2::Pending),
}

impl PendingHandshake {
    /// The value the callback names this handshake by: the `state` (OAuth 2) or the temporary
    /// token (OAuth 1.0a).
    pub(crate) fn key(&self) -> &str {
        match self {
            Self::OAuth1(pending) => &pending.request_token,
            Self::OAuth2(pending) => pending.state.secret(),
        }
    }
}

impl Protocol {
    /// Checks the settings of the protocol `config` chose.
    pub(crate) fn build(
        config: Config,
        credentials: &Credentials,
        err: &dyn Fn(&str, &str) -> OAuthError,
    ) -> Result<Self, OAuthError> {
        Ok(match config {
            Config::OAuth1(config) => Self::OAuth1(oauth1::Settings::build(config, err)?),
            Config::OAuth2(config) => {
                Self::OAuth2(oauth2::Settings::build(config, &credentials.id, err)?)
            }
        })
    }

    /// The protocol's name, for `Debug` and messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::OAuth1(_) => "OAuth 1.0a",
            Self::OAuth2(_) => "OAuth 2",
        }
    }

    /// Whether this is OAuth 1.0a.
    pub(crate) fn is_oauth1(&self) -> bool {
        matches!(self, Self::OAuth1(_))
    }

    /// Whether this is an OpenID Connect app (OAuth 2 with an issuer).
    pub(crate) fn is_oidc(&self) -> bool {
        self.oauth2().is_some_and(oauth2::Settings::is_oidc)
    }

    /// The OAuth 2 settings, for an OAuth 2 app.
    pub(crate) fn oauth2(&self) -> Option<&oauth2::Settings> {
        match self {
            Self::OAuth1(_) => None,
            Self::OAuth2(settings) => Some(settings),
        }
    }

    /// The OpenID Connect settings, for an app with an issuer.
    #[cfg(feature = "oidc")]
    pub(crate) fn oidc(&self) -> Option<&crate::oidc::Oidc> {
        self.oauth2().and_then(|settings| settings.oidc.as_ref())
    }

    /// Whether the provider answers the authorization request by a POSTed form
    /// (`response_mode=form_post`, OAuth 2 only).
    pub(crate) fn form_post(&self) -> bool {
        self.oauth2()
            .is_some_and(|s| s.response_mode == oauth2::ResponseMode::FormPost)
    }

    /// The callback parameter whose JSON is kept with the token (Apple's `user`).
    pub(crate) fn callback_json_param(&self) -> Option<&str> {
        self.oauth2().and_then(|s| s.callback_json_param.as_deref())
    }

    /// The configured authorization endpoint.
    pub(crate) fn authorize_url(&self) -> Option<&Url> {
        match self {
            Self::OAuth1(settings) => Some(&settings.authorize_url),
            Self::OAuth2(settings) => settings.authorize_url.as_ref(),
        }
    }

    /// The configured token endpoint (token credentials URL for OAuth 1.0a).
    pub(crate) fn access_token_url(&self) -> Option<&Url> {
        match self {
            Self::OAuth1(settings) => Some(&settings.access_token_url),
            Self::OAuth2(settings) => settings.token_url.as_ref(),
        }
    }

    /// The OAuth 1.0a temporary credentials URL.
    pub(crate) fn request_token_url(&self) -> Option<&Url> {
        match self {
            Self::OAuth1(settings) => Some(&settings.request_token_url),
            Self::OAuth2(_) => None,
        }
    }

    /// The user info endpoint: the configured one, else (OpenID Connect) the discovered one.
    pub(crate) async fn userinfo_url(
        &self,
        configured: Option<&Url>,
        http: &AwcHttpClient,
    ) -> Result<Option<Url>, OAuthError> {
        match self {
            Self::OAuth1(_) => Ok(configured.cloned()),
            Self::OAuth2(settings) => Ok(settings.endpoints(http).await?.userinfo_url.clone()),
        }
    }

    /// Begins a sign-in: the URL to send the browser to, and the handshake to keep.
    pub(crate) async fn begin(
        &self,
        http: &AwcHttpClient,
        credentials: &Credentials,
        redirect_uri: &str,
        encoded_redirect_uri: Option<&str>,
        options: &crate::SignInOptions,
    ) -> Result<(String, PendingHandshake, Option<DpopKey>), OAuthError> {
        Ok(match self {
            Self::OAuth1(_) if *options != crate::SignInOptions::default() => {
                return Err(OAuthError::config(
                    "OAuth 1.0a has no `max_age`, `acr_values`, `prompt` or re-authentication.",
                ))
            }
            Self::OAuth1(settings) => {
                let (url, pending) =
                    oauth1::begin(http, credentials, settings, redirect_uri).await?;
                (url, PendingHandshake::OAuth1(pending), None)
            }
            Self::OAuth2(settings) => {
                let (url, pending, key) = oauth2::begin(
                    http,
                    credentials,
                    settings,
                    redirect_uri,
                    encoded_redirect_uri,
                    options,
                )
                .await?;
                (url, PendingHandshake::OAuth2(pending), key)
            }
        })
    }

    /// Whether the sign-in must be the session's user signing in again (a step-up).
    pub(crate) fn reauthenticates(pending: &PendingHandshake) -> bool {
        match pending {
            PendingHandshake::OAuth1(_) => false,
            PendingHandshake::OAuth2(pending) => pending
                .requirements
                .as_ref()
                .is_some_and(|r| r.reauthenticate),
        }
    }

    /// The value a callback names its handshake by, and whether this process drew it (a
    /// `state`, which may then be remembered as used; a temporary token is the provider's).
    pub(crate) fn handshake_key<'q>(
        &self,
        query: &'q CallbackQuery,
    ) -> Result<(&'q str, bool), OAuthError> {
        match self {
            Self::OAuth1(_) => Ok((oauth1::handshake_key(query)?, false)),
            Self::OAuth2(_) => Ok((oauth2::handshake_key(query)?, true)),
        }
    }

    /// Completes the sign-in `pending` began; `Ok(None)` when the user declined.
    pub(crate) async fn complete(
        &self,
        http: &AwcHttpClient,
        credentials: &Credentials,
        pending: &PendingHandshake,
        query: &CallbackQuery,
        redirect_uri: impl FnOnce() -> Result<String, OAuthError>,
        dpop_key: Option<DpopKey>,
    ) -> Result<Option<TokenResponse>, OAuthError> {
        match (self, pending) {
            (Self::OAuth1(settings), PendingHandshake::OAuth1(pending)) => {
                oauth1::complete(http, credentials, settings, pending, query).await
            }
            (Self::OAuth2(settings), PendingHandshake::OAuth2(pending)) => {
                oauth2::complete(
                    http,
                    credentials,
                    settings,
                    pending,
                    query,
                    redirect_uri,
                    dpop_key,
                )
                .await
            }
            // A handshake another protocol began (the app was reconfigured meanwhile).
            _ => Err(OAuthError::StateMismatch),
        }
    }

    /// The `Authorization` header of an API call with `token`: an OAuth 1.0a signature over
    /// the method, URL and form parameters, or the OAuth 2 bearer token.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn authorization(
        &self,
        provider: &str,
        credentials: &Credentials,
        method: &str,
        url: &Url,
        form: &[(String, String)],
        token: &TokenResponse,
    ) -> Result<String, OAuthError> {
        match self {
            Self::OAuth1(settings) => {
                oauth1::sign_api_call(credentials, settings, provider, method, url, form, token)
            }
            Self::OAuth2(_) => Ok(oauth2::authorization(token)),
        }
    }

    /// Revokes `token` at the provider (OAuth 2: RFC 7009 or GitHub's grant deletion);
    /// `Ok(false)` when the provider offers no revocation (always for OAuth 1.0a).
    pub(crate) async fn revoke(
        &self,
        http: &AwcHttpClient,
        credentials: &Credentials,
        base_url: &Url,
        token: &TokenResponse,
    ) -> Result<bool, OAuthError> {
        match self {
            Self::OAuth1(_) => Ok(false),
            Self::OAuth2(settings) => {
                oauth2::revoke(http, credentials, settings, base_url, token).await
            }
        }
    }

    /// The RP-initiated logout endpoint: the configured one, else (OpenID Connect) the
    /// discovered `end_session_endpoint`; `None` for OAuth 1.0a and providers without one.
    pub(crate) async fn end_session_url(
        &self,
        http: &AwcHttpClient,
    ) -> Result<Option<Url>, OAuthError> {
        let Self::OAuth2(settings) = self else {
            return Ok(None);
        };
        if settings.end_session_url.is_some() {
            return Ok(settings.end_session_url.clone());
        }
        #[cfg(feature = "oidc")]
        if settings.is_oidc() {
            let endpoints = settings.endpoints(http).await?;
            return Ok(endpoints
                .metadata
                .as_ref()
                .and_then(|m| m.end_session_endpoint.clone()));
        }
        let _ = http;
        Ok(None)
    }

    /// The last `DPoP-Nonce` of each of the provider's servers (OAuth 2).
    pub(crate) fn dpop_nonces(&self) -> Option<&Nonces> {
        self.oauth2().map(|settings| &settings.dpop_nonces)
    }

    /// Whether sign-ins get a DPoP key (OAuth 2 with `dpop(true)`).
    pub(crate) fn dpop(&self) -> bool {
        self.oauth2().is_some_and(|settings| settings.dpop)
    }

    /// Whether tokens of this protocol expire and are refreshed (OAuth 2).
    pub(crate) fn refreshes(&self) -> bool {
        matches!(self, Self::OAuth2(_))
    }

    /// A fresh token for `refresh_token` (OAuth 2 only), with proofs by `dpop`, the sign-in's
    /// DPoP key, when it has one.
    pub(crate) async fn refresh(
        &self,
        provider: &str,
        http: &AwcHttpClient,
        credentials: &Credentials,
        refresh_token: &RefreshToken,
        dpop: Option<&DpopKey>,
    ) -> Result<TokenResponse, OAuthError> {
        match self {
            Self::OAuth1(_) => Err(OAuthError::config(format!(
                "remote app `{provider}` speaks OAuth 1.0a, whose tokens are not refreshed."
            ))),
            Self::OAuth2(settings) => {
                oauth2::refresh(http, credentials, settings, refresh_token, dpop).await
            }
        }
    }

    /// An app token from the client credentials grant (OAuth 2 only).
    pub(crate) async fn client_credentials(
        &self,
        provider: &str,
        http: &AwcHttpClient,
        credentials: &Credentials,
    ) -> Result<TokenResponse, OAuthError> {
        match self {
            Self::OAuth1(_) => Err(OAuthError::config(format!(
                "remote app `{provider}` speaks OAuth 1.0a, which has no client credentials grant."
            ))),
            Self::OAuth2(settings) => oauth2::client_credentials(http, credentials, settings).await,
        }
    }

    /// Starts a device authorization (RFC 8628 §3.1; OAuth 2 only).
    pub(crate) async fn device_authorization(
        &self,
        provider: &str,
        http: &AwcHttpClient,
        credentials: &Credentials,
    ) -> Result<DeviceAuthorization, OAuthError> {
        match self {
            Self::OAuth1(_) => Err(OAuthError::config(format!(
                "remote app `{provider}` speaks OAuth 1.0a, which has no device authorization grant."
            ))),
            Self::OAuth2(settings) => {
                oauth2::device_authorization(provider, http, credentials, settings).await
            }
        }
    }

    /// Polls the token endpoint once for a device authorization (RFC 8628 §3.4; OAuth 2 only).
    pub(crate) async fn poll_device_token(
        &self,
        provider: &str,
        http: &AwcHttpClient,
        credentials: &Credentials,
        authorization: &DeviceAuthorization,
    ) -> Result<DevicePoll, OAuthError> {
        match self {
            Self::OAuth1(_) => Err(OAuthError::config(format!(
                "remote app `{provider}` speaks OAuth 1.0a, which has no device authorization grant."
            ))),
            Self::OAuth2(settings) => {
                oauth2::poll_device_token(http, credentials, settings, authorization).await
            }
        }
    }
}
