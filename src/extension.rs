//! The registry users put in app data: [`OAuthExtension`], built by the [`OAuth`](crate::OAuth)
//! builder, and [`OAuthExt`] to reach it from any request.

use std::{collections::HashMap, fmt, future::Ready, net::IpAddr, sync::Arc};

use actix_web::{dev::ServiceRequest, FromRequest, HttpRequest};

use crate::{
    error::OAuthError,
    provider::Provider,
    remote_app::RemoteApp,
    replay::UsedStates,
    token_cache::{TokenCache, TokenGetterFn, TokenUpdateFn},
    token_store::TokenStore,
    transport::AwcHttpClient,
};

/// The built registry: cheap to clone, registered with `App::app_data`, and extractable in
/// handlers (`oauth: OAuthExtension`).
///
/// It starts handshakes ([`authorize`](Self::authorize)), completes them (done for you by
/// [`OAuthMiddleware`](crate::OAuthMiddleware) and the
/// [`AuthorizedResponse`](crate::AuthorizedResponse) extractor), and reads the tokens sign-in left.
#[derive(Clone)]
pub struct OAuthExtension {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) apps: HashMap<String, RemoteApp>,
    pub(crate) callbacks: HashMap<String, String>,
    /// Per app, its redirect URI and that URI form-encoded, when it does not depend on the
    /// request (an absolute callback, or a `public_url`).
    pub(crate) fixed_redirects: HashMap<String, (String, String)>,
    pub(crate) public_url: Option<String>,
    /// Peers whose forwarding headers are believed (canonical addresses).
    pub(crate) trusted_proxies: Vec<IpAddr>,
    pub(crate) http: AwcHttpClient,
    pub(crate) max_pending: usize,
    pub(crate) handshake_lifetime: u64,
    pub(crate) token_getter: Option<TokenGetterFn>,
    pub(crate) token_update: Option<TokenUpdateFn>,
    pub(crate) token_store: Arc<dyn TokenStore>,
    pub(crate) max_session_bytes: Option<usize>,
    pub(crate) cache: TokenCache,
    /// Digests of the `state`s completed within their lifetime, with when each may be forgotten.
    pub(crate) used_states: UsedStates,
    /// Digests of the back-channel logout tokens' `jti`s seen within their lifetime.
    #[cfg(feature = "oidc")]
    pub(crate) used_logout_tokens: UsedStates,
    /// Whether requests' sessions are checked for having been ended by back-channel logout
    /// (any remote app speaks OpenID Connect).
    pub(crate) watch_ended_sessions: bool,
}

impl fmt::Debug for OAuthExtension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthExtension")
            .field("apps", &self.inner.apps.values().collect::<Vec<_>>())
            .field("public_url", &self.inner.public_url)
            .finish_non_exhaustive()
    }
}

impl OAuthExtension {
    /// The remote app registered as `name`.
    pub fn remote_app(&self, name: &str) -> Result<&RemoteApp, OAuthError> {
        self.inner
            .apps
            .get(name)
            .ok_or_else(|| OAuthError::config(format!("no remote app is registered as `{name}`.")))
    }

    /// The remote app a provider marker stands for.
    pub fn remote<P: Provider>(&self) -> Result<&RemoteApp, OAuthError> {
        self.remote_app(P::NAME)
    }

    /// The names of all registered remote apps, sorted.
    pub fn remote_app_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.inner.apps.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// The HTTP client outbound calls go through (a remote app with its own
    /// [`root_certificate_pem`](crate::RemoteAppBuilder::root_certificate_pem) uses a copy that trusts
    /// it too).
    pub fn http_client(&self) -> &AwcHttpClient {
        &self.inner.http
    }

    /// The HTTP client of remote app `app`'s calls: the extension's, trusting the app's own
    /// certificate authorities when it has some.
    pub(crate) fn http_for<'a>(&'a self, app: &'a RemoteApp) -> &'a AwcHttpClient {
        app.http.as_ref().unwrap_or(&self.inner.http)
    }

    pub(crate) fn token_getter_fn(&self) -> Option<&TokenGetterFn> {
        self.inner.token_getter.as_ref()
    }

    pub(crate) fn token_update_fn(&self) -> Option<&TokenUpdateFn> {
        self.inner.token_update.as_ref()
    }

    /// The configured limit on the session cookie's size, if any.
    pub(crate) fn max_session_bytes(&self) -> Option<usize> {
        self.inner.max_session_bytes
    }

    pub(crate) fn token_cache(&self) -> &TokenCache {
        &self.inner.cache
    }

    /// The remote app whose callback path is `path`, if any.
    pub(crate) fn callback_for(&self, path: &str) -> Option<&str> {
        self.inner.callbacks.get(path).map(String::as_str)
    }
}

/// Access to the [`OAuthExtension`] from requests outside a handler's arguments (middleware,
/// guards), like actix-session's `SessionExt`.
pub trait OAuthExt {
    /// The registered extension, or a configuration error naming the fix.
    fn oauth(&self) -> Result<OAuthExtension, OAuthError>;
}

fn missing() -> OAuthError {
    OAuthError::config(
        "no OAuthExtension is registered; add `.app_data(oauth.clone())` to the App.",
    )
}

impl OAuthExt for HttpRequest {
    fn oauth(&self) -> Result<OAuthExtension, OAuthError> {
        self.app_data::<OAuthExtension>()
            .cloned()
            .ok_or_else(missing)
    }
}

impl OAuthExt for ServiceRequest {
    fn oauth(&self) -> Result<OAuthExtension, OAuthError> {
        self.app_data::<OAuthExtension>()
            .cloned()
            .ok_or_else(missing)
    }
}

impl FromRequest for OAuthExtension {
    type Error = OAuthError;
    type Future = Ready<Result<Self, OAuthError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(req.oauth())
    }
}
