//! The registry users put in app data: the [`OAuth`] builder and the [`OAuthExtension`] it builds.

use std::{collections::HashMap, fmt, future::Ready, net::IpAddr, sync::Arc, time::Duration};

use ::oauth2::http::{self, header};
use actix_session::SessionExt as _;
use actix_web::{
    dev::ServiceRequest,
    http::header::{HeaderValue, CACHE_CONTROL, HOST, LOCATION},
    FromRequest, HttpMessage as _, HttpRequest, HttpResponse,
};
use serde_json::Value;
use url::Url;

use crate::{
    client::{TokenCache, TokenGetterFn, TokenUpdateFn},
    error::OAuthError,
    oauth2::token::now_unix,
    oauth2::{self as oauth2_flow, TokenResponse},
    profile::Profile,
    provider::Provider,
    remote_app::{Callback, RemoteApp, RemoteAppBuilder},
    session::{self, Pending},
    token_store::{MemoryTokenStore, TokenStore},
    transport::AwcHttpClient,
};

/// Default number of handshakes one browser may have pending at once.
pub const DEFAULT_MAX_PENDING: usize = 5;
/// Default limit on the session cookie's size (`name=value`, in bytes): what every browser keeps.
pub const DEFAULT_MAX_SESSION_BYTES: usize = 4096;
/// The longest OAuth 1.0a temporary token or secret kept in the session.
const MAX_TEMPORARY_CREDENTIAL_BYTES: usize = 256;
/// Default time a begun handshake stays valid.
pub const DEFAULT_HANDSHAKE_LIFETIME: Duration = Duration::from_secs(600);

/// The registry of remote apps: Flask-OAuth's `OAuth()`, as a builder.
///
/// ```
/// use actix_oauth::{providers::GitHub, OAuth, RemoteApp};
///
/// let oauth = OAuth::new()
///     .remote_app(RemoteApp::from_provider::<GitHub>("client-id", "client-secret"))
///     .public_url("https://app.example")
///     .build()
///     .expect("valid OAuth configuration");
/// assert!(oauth.remote_app("github").is_ok());
/// ```
#[must_use]
pub struct OAuth {
    apps: Vec<RemoteAppBuilder>,
    public_url: Option<String>,
    trusted_proxies: Vec<IpAddr>,
    http: AwcHttpClient,
    max_pending: usize,
    handshake_lifetime: Duration,
    token_getter: Option<TokenGetterFn>,
    token_update: Option<TokenUpdateFn>,
    token_store: Arc<dyn TokenStore>,
    max_session_bytes: Option<usize>,
    tls: TlsSettings,
}

/// Which certificate authorities outbound HTTPS trusts, as configured.
struct TlsSettings {
    webpki_roots: bool,
    native_roots: bool,
    pems: Vec<String>,
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("apps", &self.apps)
            .field("public_url", &self.public_url)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("http", &self.http)
            .field("max_pending", &self.max_pending)
            .field("custom_token_getter", &self.token_getter.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for OAuth {
    fn default() -> Self {
        Self::new()
    }
}

impl OAuth {
    /// An empty registry with default settings.
    pub fn new() -> Self {
        Self {
            apps: Vec::new(),
            public_url: None,
            trusted_proxies: Vec::new(),
            http: AwcHttpClient::default(),
            max_pending: DEFAULT_MAX_PENDING,
            handshake_lifetime: DEFAULT_HANDSHAKE_LIFETIME,
            token_getter: None,
            token_update: None,
            token_store: Arc::new(MemoryTokenStore::new()),
            max_session_bytes: Some(DEFAULT_MAX_SESSION_BYTES),
            tls: TlsSettings {
                webpki_roots: true,
                native_roots: false,
                pems: Vec::new(),
            },
        }
    }

    /// Sets where completed sign-ins keep the provider's tokens, server-side: the session holds
    /// only a random handle to them. Default: a [`MemoryTokenStore`] (one process; use
    /// [`RedisTokenStore`](crate::token_store::RedisTokenStore) or the accounts database when
    /// several instances serve one user).
    pub fn token_store(mut self, store: impl TokenStore) -> Self {
        self.token_store = Arc::new(store);
        self
    }

    /// Sets the most bytes the session cookie (`name=value`) may grow to, or `None` for no limit
    /// (server-side sessions such as Redis, whose cookie holds only a key). Beyond it the oldest
    /// handshakes in progress are dropped, and a request that would still outgrow it is answered
    /// with an [`OAuthError::SessionTooLarge`] page (and its session ended) instead of a cookie
    /// that browsers silently drop. Default: 4096, what every browser keeps.
    pub fn max_session_bytes(mut self, limit: Option<usize>) -> Self {
        self.max_session_bytes = limit;
        self
    }

    /// Registers the async token getter API calls use (Flask-OAuth's `tokengetter`). It receives
    /// the request, the remote app's name and the token name the call asked for (`None` for the
    /// user's token) and returns the token, or `None` when there is none.
    ///
    /// Default: the token sign-in kept in the [`token_store`](Self::token_store) for this session,
    /// and for the name `"app"` an app token
    /// from the client credentials grant. With a getter registered, refreshed tokens are only
    /// handed to [`on_token_update`](Self::on_token_update): persist them there.
    pub fn token_getter<F, Fut>(mut self, getter: F) -> Self
    where
        F: Fn(HttpRequest, String, Option<String>) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<Option<TokenResponse>, OAuthError>> + 'static,
    {
        self.token_getter = Some(crate::client::token_getter(getter));
        self
    }

    /// Registers a hook called once per OAuth 2 refresh with the new token, to persist it.
    /// Default: none (with the default token getter, the token store is updated anyway).
    pub fn on_token_update<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(HttpRequest, String, TokenResponse) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), OAuthError>> + 'static,
    {
        self.token_update = Some(crate::client::token_update(hook));
        self
    }

    /// Registers a remote app (Flask-OAuth's `remote_app`). Names must be unique.
    pub fn remote_app(mut self, app: RemoteAppBuilder) -> Self {
        self.apps.push(app);
        self
    }

    /// The public origin of this app (e.g. `https://app.example`), which callback paths are
    /// joined to. Default: none — the origin comes from the request, and only where it cannot
    /// be forged (see [`OAuthExtension::redirect_uri`]): from a
    /// [trusted proxy](Self::trusted_proxies)'s forwarding headers, or from a loopback `Host`
    /// on a connection from loopback (development); any other request cannot start a sign-in.
    ///
    /// # Security
    /// Set it in production: redirect URIs then never depend on the request's `Host` or
    /// forwarding headers.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into());
        self
    }

    /// The reverse proxies in front of this app whose forwarding headers (`Forwarded`,
    /// `X-Forwarded-Host`, `X-Forwarded-Proto`) give the origin redirect URIs are built on,
    /// when no [`public_url`](Self::public_url) is set. Default: none.
    ///
    /// # Security
    /// The headers are honoured only on connections whose peer address is one of these: any
    /// client can send them, and would otherwise move the redirect URI (and the code) to its
    /// own host. A [`public_url`](Self::public_url) is simpler and wins over them.
    pub fn trusted_proxies<I>(mut self, proxies: I) -> Self
    where
        I: IntoIterator<Item = IpAddr>,
    {
        self.trusted_proxies = proxies.into_iter().map(|ip| ip.to_canonical()).collect();
        self
    }

    /// Deadline for each outbound request, from connect to the last body byte. Default: 10 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.http = self.http.timeout(timeout);
        self
    }

    /// Largest provider answer accepted, in bytes. Default: 1 MiB.
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.http = self.http.max_response_bytes(limit);
        self
    }

    /// The `User-Agent` of outbound requests. Default: `actix-oauth/VERSION`.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.http = self.http.user_agent(user_agent);
        self
    }

    /// Trusts the operating system's certificate store for outbound HTTPS too, beside the
    /// Mozilla roots: for providers behind a company's own certificate authority installed on
    /// the machine. Like OpenSSL, it reads `SSL_CERT_FILE` and `SSL_CERT_DIR` instead of the
    /// system's store when they are set. Read once, at build time; the build fails when it
    /// yields no certificate. Default: `false`. Needs the `rustls` feature.
    pub fn native_roots(mut self, enabled: bool) -> Self {
        self.tls.native_roots = enabled;
        self
    }

    /// Whether outbound HTTPS trusts the Mozilla root store bundled with the crate (the roots
    /// browsers trust). Default: `true`. Turn it off to trust only your own authorities
    /// ([`root_certificate_pem`](Self::root_certificate_pem), [`native_roots`](Self::native_roots)).
    pub fn webpki_roots(mut self, enabled: bool) -> Self {
        self.tls.webpki_roots = enabled;
        self
    }

    /// Trusts the certificate authorities of this PEM text (one or more `BEGIN CERTIFICATE`
    /// blocks) for every remote app's HTTPS calls: for providers behind a company's own
    /// authority (on-premises Keycloak, ADFS, an internal proxy). May be called more than once;
    /// a single app's authority goes on its builder instead
    /// ([`RemoteAppBuilder::root_certificate_pem`]). Default: none. Needs the `rustls` feature;
    /// checked at build time.
    pub fn root_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.tls.pems.push(pem.into());
        self
    }

    /// How many handshakes one browser may have pending at once (sign-ins begun in several tabs);
    /// beyond it the oldest is forgotten. Default: 5. Bounds the session's size.
    pub fn max_pending_handshakes(mut self, max: usize) -> Self {
        self.max_pending = max;
        self
    }

    /// How long a begun handshake stays valid. Default: 10 minutes.
    pub fn handshake_lifetime(mut self, lifetime: Duration) -> Self {
        self.handshake_lifetime = lifetime;
        self
    }

    /// Checks the whole configuration and builds the extension. Every error names the remote app
    /// and field at fault.
    pub fn build(self) -> Result<OAuthExtension, OAuthError> {
        let public_url = self
            .public_url
            .map(|url| {
                let parsed = Url::parse(&url).map_err(|e| {
                    OAuthError::config(format!(
                        "`public_url` `{url}` is not an absolute URL ({e})."
                    ))
                })?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
                    return Err(OAuthError::config(
                        "`public_url` must be an http(s) origin.",
                    ));
                }
                Ok(parsed.as_str().trim_end_matches('/').to_owned())
            })
            .transpose()?;
        if self.max_pending == 0 {
            return Err(OAuthError::config(
                "`max_pending_handshakes` must be at least 1.",
            ));
        }
        let mut extra_roots = Vec::new();
        for pem in &self.tls.pems {
            let parsed = crate::transport::parse_pem_certificates(pem)
                .map_err(|why| OAuthError::config(format!("`root_certificate_pem` {why}.")))?;
            extra_roots.extend(parsed);
        }
        let trust = crate::transport::TrustBase::new(
            self.tls.webpki_roots,
            self.tls.native_roots,
            extra_roots,
        )?;
        let http = self.http.with_trust(trust.trust(&[])?);
        let mut apps = HashMap::new();
        let mut callbacks = HashMap::new();
        for builder in self.apps {
            let mut app = builder.build()?;
            if !app.root_certificates.is_empty() {
                app.http = Some(
                    http.clone()
                        .with_trust(trust.trust(&app.root_certificates)?),
                );
            }
            if let Some(previous) =
                callbacks.insert(app.callback_path().to_owned(), app.name.clone())
            {
                return Err(OAuthError::config(format!(
                    "remote apps `{previous}` and `{}` share the callback path `{}`.",
                    app.name,
                    app.callback_path()
                )));
            }
            if apps.contains_key(&app.name) {
                return Err(OAuthError::config(format!(
                    "remote app `{}` is registered twice.",
                    app.name
                )));
            }
            apps.insert(app.name.clone(), app);
        }
        // Redirect URIs that do not depend on the request, checked and form-encoded once.
        let mut fixed_redirects = HashMap::new();
        for app in apps.values() {
            let uri = match (&app.callback, &public_url) {
                (Callback::Absolute(url), _) => url.to_string(),
                (Callback::Path(path), Some(origin)) => format!("{origin}{path}"),
                (Callback::Path(_), None) => continue,
            };
            Url::parse(&uri).map_err(|e| {
                OAuthError::config(format!(
                    "remote app `{}`: the redirect URI `{uri}` is invalid: {e}",
                    app.name
                ))
            })?;
            let mut encoded = String::with_capacity(uri.len() * 3 / 2);
            oauth2_flow::push_form_encoded(&mut encoded, &uri);
            fixed_redirects.insert(app.name.clone(), (uri, encoded));
        }
        Ok(OAuthExtension {
            inner: Arc::new(Inner {
                apps,
                callbacks,
                fixed_redirects,
                public_url,
                trusted_proxies: self.trusted_proxies,
                http,
                max_pending: self.max_pending,
                handshake_lifetime: self.handshake_lifetime.as_secs(),
                token_getter: self.token_getter,
                token_update: self.token_update,
                token_store: self.token_store,
                max_session_bytes: self.max_session_bytes,
                cache: TokenCache::default(),
                used_states: std::sync::Mutex::default(),
            }),
        })
    }
}

/// The built registry: cheap to clone, registered with `App::app_data`, and extractable in
/// handlers (`oauth: OAuthExtension`).
///
/// It starts handshakes ([`authorize`](Self::authorize)), completes them (done for you by
/// [`OAuthMiddleware`](crate::OAuthMiddleware) and the
/// [`AuthorizedResponse`](crate::AuthorizedResponse) extractor), and reads the tokens sign-in left.
#[derive(Clone)]
pub struct OAuthExtension {
    inner: Arc<Inner>,
}

struct Inner {
    apps: HashMap<String, RemoteApp>,
    callbacks: HashMap<String, String>,
    /// Per app, its redirect URI and that URI form-encoded, when it does not depend on the
    /// request (an absolute callback, or a `public_url`).
    fixed_redirects: HashMap<String, (String, String)>,
    public_url: Option<String>,
    /// Peers whose forwarding headers are believed (canonical addresses).
    trusted_proxies: Vec<IpAddr>,
    http: AwcHttpClient,
    max_pending: usize,
    handshake_lifetime: u64,
    token_getter: Option<TokenGetterFn>,
    token_update: Option<TokenUpdateFn>,
    token_store: Arc<dyn TokenStore>,
    max_session_bytes: Option<usize>,
    cache: TokenCache,
    /// Digests of the `state`s completed within their lifetime, with when each may be forgotten.
    used_states: std::sync::Mutex<UsedStates>,
}

/// The most used `state`s remembered; beyond it (after forgetting expired ones) replays are
/// stopped by the session and the provider's single-use codes alone.
const MAX_REMEMBERED_STATES: usize = 100_000;

/// The `state`s completed in this process (SHA-256 digests, with when they expire).
#[derive(Default)]
struct UsedStates {
    expiry: HashMap<[u8; 32], u64>,
    /// Sweeping a full map is not tried again before this second: a flood of callbacks cannot
    /// make every sign-in walk 100 000 entries under the lock.
    next_sweep: u64,
}

impl fmt::Debug for OAuthExtension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthExtension")
            .field("apps", &self.inner.apps.values().collect::<Vec<_>>())
            .field("public_url", &self.inner.public_url)
            .finish_non_exhaustive()
    }
}

/// The result of a completed handshake, passed from the middleware to the extractor.
#[derive(Clone, Debug)]
pub(crate) struct Authorized {
    pub(crate) provider: String,
    pub(crate) token: TokenResponse,
    pub(crate) next: Option<String>,
}

/// Marks a request whose CSRF token [`OAuthExtension::verify_csrf`] accepted.
#[derive(Clone, Copy, Debug)]
struct CsrfVerified;

/// What a callback came to, kept in the request's extensions.
#[derive(Clone, Debug)]
pub(crate) struct HandshakeOutcome {
    pub(crate) provider: String,
    /// `None`: the user declined.
    pub(crate) authorized: Option<Authorized>,
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
    /// [`root_certificate_pem`](RemoteAppBuilder::root_certificate_pem) uses a copy that trusts
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

    pub(crate) fn token_cache(&self) -> &TokenCache {
        &self.inner.cache
    }

    /// The remote app whose callback path is `path`, if any.
    pub(crate) fn callback_for(&self, path: &str) -> Option<&str> {
        self.inner.callbacks.get(path).map(String::as_str)
    }

    /// The exact redirect URI of a remote app for this request: its absolute callback, or the
    /// [`public_url`](OAuth::public_url) joined with its callback path.
    ///
    /// Without a public URL the origin comes from the request, only where it cannot be forged:
    /// on a connection from a [trusted proxy](OAuth::trusted_proxies), from its forwarding
    /// headers; on a connection from loopback whose `Host` is loopback too (`127.0.0.1`, `[::1]`,
    /// `localhost`: development on this machine), from the `Host`.
    ///
    /// # Errors
    /// [`OAuthError::Configuration`] for any other request without a public URL: set
    /// [`OAuth::public_url`]. A `Host` or `X-Forwarded-Host` header anyone can send never
    /// becomes the redirect URI.
    pub fn redirect_uri(&self, req: &HttpRequest, app: &RemoteApp) -> Result<String, OAuthError> {
        if let Some((uri, _)) = self.inner.fixed_redirects.get(&app.name) {
            return Ok(uri.clone());
        }
        match &app.callback {
            Callback::Absolute(url) => Ok(url.to_string()),
            Callback::Path(path) => match &self.inner.public_url {
                Some(origin) => Ok(format!("{origin}{path}")),
                None => Ok(format!("{}{path}", self.request_origin(req)?)),
            },
        }
    }

    /// The origin a request came to, where it can be believed (see [`redirect_uri`](Self::redirect_uri)).
    fn request_origin(&self, req: &HttpRequest) -> Result<String, OAuthError> {
        let peer = req.peer_addr().map(|addr| addr.ip().to_canonical());
        if peer.is_some_and(|ip| self.inner.trusted_proxies.contains(&ip)) {
            let info = req.connection_info();
            return origin(info.scheme(), info.host())
                .map(|(origin, _)| origin)
                .ok_or_else(|| {
                    OAuthError::malformed(
                        "forwarding headers",
                        "the trusted proxy's forwarded host or scheme is not an origin.",
                    )
                });
        }
        let host = req
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()));
        let scheme = if req.app_config().secure() {
            "https"
        } else {
            "http"
        };
        let local = host
            .and_then(|host| origin(scheme, host))
            .filter(|(_, url)| peer.is_some_and(|ip| ip.is_loopback()) && is_loopback_host(url));
        match local {
            Some((origin, _)) => Ok(origin),
            None => Err(OAuthError::config(
                "no `public_url` is set, so redirect URIs come from the request, which is only \
                 believed from loopback to a loopback host (development) or from a trusted \
                 proxy: set `OAuth::public_url` (or `OAuth::trusted_proxies`).",
            )),
        }
    }

    /// Starts signing in with remote app `provider`: Flask-OAuth's `authorize(callback)`.
    ///
    /// Returns the redirect to the provider's authorization page. The handshake's secrets
    /// (`state`, the PKCE verifier) stay in the session, bound to this browser. `next` is kept if
    /// it is a same-site relative path (`/account?tab=1`) and silently dropped otherwise.
    ///
    /// # Security
    /// `state` carries 256 random bits and is single use (RFC 6749 §10.12, RFC 9700 §4.7);
    /// PKCE S256 is on by default (RFC 7636).
    pub async fn authorize(
        &self,
        req: &HttpRequest,
        provider: &str,
        next: Option<&str>,
    ) -> Result<HttpResponse, OAuthError> {
        let app = self.remote_app(provider)?;
        let redirect_uri = self.redirect_uri(req, app)?;
        let endpoints = app.endpoints(self.http_for(app)).await?;
        let mut nonce = None;
        let (location, state, verifier) = if app.is_oauth1() {
            // RFC 5849 §2.1–2.2: temporary credentials first, then the browser goes to the
            // authorization page with the temporary token.
            let temporary =
                crate::oauth1::request_token(self.http_for(app), app, &redirect_uri).await?;
            let mut url = endpoints.authorize_url.clone();
            url.query_pairs_mut()
                .append_pair("oauth_token", temporary.access_token().secret())
                .extend_pairs(&app.authorize_params);
            let secret = temporary.token_secret().map(str::to_owned);
            if temporary.access_token().secret().len() > MAX_TEMPORARY_CREDENTIAL_BYTES
                || secret
                    .as_ref()
                    .is_some_and(|s| s.len() > MAX_TEMPORARY_CREDENTIAL_BYTES)
            {
                return Err(OAuthError::malformed(
                    "temporary credentials",
                    "the request token or its secret is longer than 256 bytes.",
                ));
            }
            (
                String::from(url),
                temporary.access_token().secret().clone(),
                secret,
            )
        } else {
            let encoded = self
                .inner
                .fixed_redirects
                .get(&app.name)
                .map(|(_, encoded)| encoded.as_str());
            let start =
                oauth2_flow::authorization_request(app, &endpoints, &redirect_uri, encoded)?;
            nonce = start.nonce;
            (
                start.url,
                start.state.into_secret(),
                start.verifier.map(|v| v.into_secret()),
            )
        };
        let entry = Pending {
            provider: app.name.clone(),
            state,
            verifier,
            next: next.and_then(session::safe_next),
            created: now_unix(),
            nonce,
            link: req.extensions().contains::<CsrfVerified>(),
        };
        session::push_pending(
            &req.get_session(),
            entry,
            self.inner.max_pending,
            self.inner.handshake_lifetime,
            self.inner.max_session_bytes,
        )?;
        // The URL's bytes become the header value as they are (checked, not copied).
        let location = HeaderValue::from_maybe_shared(actix_web::web::Bytes::from(location))
            .map_err(|_| {
                OAuthError::config("the authorization URL is not a valid header value.")
            })?;
        Ok(HttpResponse::Found()
            .insert_header((LOCATION, location))
            .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .finish())
    }

    /// Completes the handshake a callback request carries; `Ok(None)` when the user declined.
    ///
    /// You rarely call this yourself: [`OAuthMiddleware`](crate::OAuthMiddleware) does it on
    /// callback paths, and [`AuthorizedResponse`](crate::AuthorizedResponse) does it elsewhere.
    /// On success the token is kept in the token store, the session id is renewed and the CSRF
    /// token rotated.
    pub(crate) async fn complete(
        &self,
        req: &HttpRequest,
        provider: &str,
    ) -> Result<Option<Authorized>, OAuthError> {
        let app = self.remote_app(provider)?;
        let query = CallbackQuery::parse(req.query_string())?;
        if app.is_oauth1() {
            return self.complete_oauth1(req, app, &query).await;
        }
        let state = query.get("state").ok_or(OAuthError::StateMissing(
            "the callback carries no `state` parameter.",
        ))?;
        let session = req.get_session();
        if self.state_was_used(state) {
            // Said before looking at the session, which may hold nothing any more: "already
            // used", not "cookie lost".
            return Err(OAuthError::StateMismatch);
        }
        let pending =
            session::take_pending(&session, &app.name, state, self.inner.handshake_lifetime)?;
        if !self.consume_state(state) {
            return Err(OAuthError::StateMismatch);
        }
        let endpoints = app.endpoints(self.http_for(app)).await?;
        check_callback_issuer(&endpoints, query.get("iss"))?;
        if let Some(error) = query.get("error") {
            if error == "access_denied" {
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
        let redirect_uri = self.redirect_uri(req, app)?;
        #[allow(unused_mut)]
        let mut token = oauth2_flow::exchange_code(
            self.http_for(app),
            app,
            code,
            &redirect_uri,
            pending.verifier.as_deref(),
        )
        .await?;
        #[cfg(feature = "oidc")]
        if let (Some(oidc), Some(metadata)) = (&app.oidc, &endpoints.metadata) {
            let id_token = token
                .id_token()
                .ok_or(crate::error::IdTokenError::Missing)?;
            let expect = crate::oidc::Expectations {
                client_id: app.consumer_key.as_str(),
                nonce: pending.nonce.as_deref(),
                nonce_required: oidc.nonce_required,
                algorithms: &app.id_token_algorithms,
            };
            let claims =
                crate::oidc::validate(oidc, self.http_for(app), metadata, id_token, &expect)
                    .await?;
            token.set_id_token_claims(claims);
        }
        self.keep_token(&session, &app.name, &token, pending.link)
            .await?;
        Ok(Some(Authorized {
            provider: app.name.clone(),
            token,
            next: pending.next,
        }))
    }

    /// Completes an OAuth 1.0a callback (RFC 5849 §2.2–2.3): `oauth_token` must be the temporary
    /// token this browser's handshake began with; `denied` (Twitter) means the user declined.
    async fn complete_oauth1(
        &self,
        req: &HttpRequest,
        app: &RemoteApp,
        query: &CallbackQuery,
    ) -> Result<Option<Authorized>, OAuthError> {
        let session = req.get_session();
        if let Some(denied) = query.get("denied") {
            session::take_pending(&session, &app.name, denied, self.inner.handshake_lifetime)?;
            return Ok(None);
        }
        let token = query.get("oauth_token").ok_or(OAuthError::StateMissing(
            "the callback carries no `oauth_token` parameter.",
        ))?;
        let pending =
            session::take_pending(&session, &app.name, token, self.inner.handshake_lifetime)?;
        let verifier = query
            .get("oauth_verifier")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| OAuthError::malformed("callback", "it carries no `oauth_verifier`."))?;
        let secret = pending.verifier.as_deref().unwrap_or("");
        let credentials =
            crate::oauth1::access_token(self.http_for(app), app, &pending.state, secret, verifier)
                .await?;
        self.keep_token(&session, &app.name, &credentials, pending.link)
            .await?;
        Ok(Some(Authorized {
            provider: app.name.clone(),
            token: credentials,
            next: pending.next,
        }))
    }

    /// Keeps a sign-in's token in the token store under a new handle for this session (moving
    /// the tokens of earlier sign-ins in this session along), and renews the session id.
    ///
    /// # Security
    /// A new handle and a new session id at every sign-in defeat session fixation (RFC 6819
    /// §4.4.1.13 spirit): a session planted in the browser before sign-in reaches neither the
    /// tokens nor the signed-in session afterwards. Only a *linking* sign-in (`link`: started
    /// after [`verify_csrf`](Self::verify_csrf)) carries the earlier sign-ins' tokens over;
    /// any other drops them, so a planted session's tokens never become the user's.
    async fn keep_token(
        &self,
        session: &actix_session::Session,
        provider: &str,
        token: &TokenResponse,
        link: bool,
    ) -> Result<(), OAuthError> {
        let handle = crate::oauth2::random_token();
        let store = &self.inner.token_store;
        if let Some(old) = session::token_handle(session) {
            let moved = if link {
                store.rename(&old, &handle).await
            } else {
                store.remove_all(&old).await
            };
            if let Err(e) = moved {
                // The earlier sign-ins' tokens are lost; this sign-in still completes.
                log::warn!(
                    "actix-oauth: the tokens of earlier sign-ins could not be {} ({})",
                    if link { "carried over" } else { "deleted" },
                    e.kind()
                );
            }
        }
        session::remove_legacy_tokens(session);
        store.save(&handle, provider, token).await?;
        session::replace_token_handle(session, &handle)?;
        session.renew();
        // A new CSRF token with the new session.
        session::rotate_csrf(session);
        Ok(())
    }

    /// The configured limit on the session cookie's size, if any.
    pub(crate) fn max_session_bytes(&self) -> Option<usize> {
        self.inner.max_session_bytes
    }

    /// Completes the handshake once per request, caching the outcome in its extensions.
    pub(crate) async fn complete_cached(
        &self,
        req: &HttpRequest,
        provider: &str,
    ) -> Result<Option<Authorized>, OAuthError> {
        if let Some(outcome) = req.extensions().get::<HandshakeOutcome>() {
            if outcome.provider == provider {
                return Ok(outcome.authorized.clone());
            }
            return Err(OAuthError::config(format!(
                "this callback belongs to `{}`, but the handler expects `{provider}`.",
                outcome.provider
            )));
        }
        let authorized = self.complete(req, provider).await?;
        req.extensions_mut().insert(HandshakeOutcome {
            provider: provider.to_owned(),
            authorized: authorized.clone(),
        });
        Ok(authorized)
    }

    /// This session's CSRF token, for forms whose POST changes the signed-in user's account —
    /// above all the one that starts linking a new identity. Linking started by a plain `GET`
    /// lets another site link *its* provider account to your user's account (login CSRF, the
    /// lesson of OmniAuth's CVE-2015-9284); put this token in a hidden field and check it with
    /// [`verify_csrf`](Self::verify_csrf) before calling [`authorize`](Self::authorize).
    ///
    /// The token changes at sign-in (when the session is renewed): one read before it is
    /// refused after it, so render forms with the current one.
    pub fn csrf_token(&self, req: &HttpRequest) -> Result<String, OAuthError> {
        session::csrf_token(&req.get_session())
    }

    /// Checks a submitted CSRF token against this session's, in constant time.
    ///
    /// # Errors
    /// [`OAuthError::CsrfMismatch`] (403) when it is missing or wrong.
    ///
    /// A sign-in started with [`authorize`](Self::authorize) in a request whose CSRF token was
    /// verified is a *linking* sign-in: it keeps the tokens of this session's earlier sign-ins.
    /// Any other sign-in starts the session's tokens afresh, so a session planted in the browser
    /// before sign-in cannot hand its tokens (another person's account) to the user.
    pub fn verify_csrf(&self, req: &HttpRequest, submitted: &str) -> Result<(), OAuthError> {
        session::verify_csrf(&req.get_session(), submitted)?;
        req.extensions_mut().insert(CsrfVerified);
        Ok(())
    }

    /// Whether this process saw `state` completed within its lifetime.
    fn state_was_used(&self, state: &str) -> bool {
        let used = self
            .inner
            .used_states
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        used.expiry
            .get(&state_key(state))
            .is_some_and(|expires| *expires > now_unix())
    }

    /// Records a `state` as used; `false` if this process saw it used before (a callback
    /// replayed with an old copy of the session cookie). Only for OAuth 2, whose `state` we draw
    /// (256 random bits, so a repeat is a replay); an OAuth 1.0a request token is the provider's,
    /// and the provider makes it single use.
    fn consume_state(&self, state: &str) -> bool {
        let key = state_key(state);
        let now = now_unix();
        let mut used = self
            .inner
            .used_states
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if used.expiry.len() >= MAX_REMEMBERED_STATES && now >= used.next_sweep {
            used.expiry.retain(|_, expires| *expires > now);
            used.next_sweep = now + 1;
        }
        if used.expiry.contains_key(&key) {
            return false;
        }
        if used.expiry.len() < MAX_REMEMBERED_STATES {
            used.expiry.insert(key, now + self.inner.handshake_lifetime);
        }
        true
    }

    /// The token sign-in kept for this browser's session and remote app `provider`, read from
    /// the [`token_store`](OAuth::token_store).
    ///
    /// # Errors
    /// [`OAuthError::TokenMissing`] when this session holds none for `provider`;
    /// [`OAuthError::TokenStore`] when the store fails.
    pub async fn session_token(
        &self,
        req: &HttpRequest,
        provider: &str,
    ) -> Result<TokenResponse, OAuthError> {
        self.remote_app(provider)?;
        self.stored_token(req, provider)
            .await?
            .ok_or_else(|| OAuthError::TokenMissing(provider.to_owned()))
    }

    /// The token kept for this session and `provider`, if any.
    pub(crate) async fn stored_token(
        &self,
        req: &HttpRequest,
        provider: &str,
    ) -> Result<Option<TokenResponse>, OAuthError> {
        match session::token_handle(&req.get_session()) {
            Some(handle) => self.inner.token_store.load(&handle, provider).await,
            None => Ok(None),
        }
    }

    /// Replaces the token kept for this session and `provider` after a refresh of `old`, only
    /// while the store still holds `old` there: a sign-out or a new sign-in meanwhile is not
    /// undone by a refresh that finished after it.
    pub(crate) async fn update_stored_token(
        &self,
        req: &HttpRequest,
        provider: &str,
        old: &TokenResponse,
        token: &TokenResponse,
    ) -> Result<(), OAuthError> {
        let Some(handle) = session::token_handle(&req.get_session()) else {
            return Ok(());
        };
        let store = &self.inner.token_store;
        match store.load(&handle, provider).await? {
            Some(current) if current.access_token().secret() == old.access_token().secret() => {
                store.save(&handle, provider, token).await
            }
            _ => Ok(()),
        }
    }

    /// Forgets the token kept for this browser's session and remote app `provider`, in the
    /// token store (server-side).
    ///
    /// # Errors
    /// [`OAuthError::TokenStore`] when the store fails.
    pub async fn forget_token(&self, req: &HttpRequest, provider: &str) -> Result<(), OAuthError> {
        match session::token_handle(&req.get_session()) {
            Some(handle) => self.inner.token_store.remove(&handle, provider).await,
            None => Ok(()),
        }
    }

    /// Signs this browser out: deletes every token kept for its session from the token store
    /// (server-side, so a copy of the session cookie reaches none of them afterwards) and ends
    /// the session (`Session::purge`).
    ///
    /// # Errors
    /// [`OAuthError::TokenStore`] when the store fails; the session is ended all the same.
    pub async fn sign_out(&self, req: &HttpRequest) -> Result<(), OAuthError> {
        let session = req.get_session();
        let handle = session::token_handle(&session);
        session.purge();
        match handle {
            Some(handle) => self.inner.token_store.remove_all(&handle).await,
            None => Ok(()),
        }
    }

    /// Fetches the remote app's user info endpoint with the token (signed for OAuth 1.0a, as a
    /// bearer token for OAuth 2) and returns its JSON.
    pub async fn userinfo(
        &self,
        provider: &str,
        token: &TokenResponse,
    ) -> Result<Value, OAuthError> {
        let app = self.remote_app(provider)?;
        let endpoints = app.endpoints(self.http_for(app)).await?;
        let url = endpoints.userinfo_url.as_ref().ok_or_else(|| {
            OAuthError::config(format!("remote app `{provider}` has no `userinfo_url`."))
        })?;
        self.get_json(app, token, url, "user info").await
    }

    /// The signed-in user's [`Profile`], normalized by the remote app's [`ProfileMap`]: the
    /// claims of the validated `id_token` (OpenID Connect), merged with the user info endpoint's
    /// answer when there is one, and — for providers with an
    /// [`emails_url`](crate::RemoteAppBuilder::emails_url) such as GitHub — the primary verified
    /// address.
    ///
    /// # Errors
    /// [`IdTokenError::Subject`](crate::IdTokenError::Subject) when the user info describes
    /// another subject than the `id_token`; [`OAuthError::Malformed`] when no subject is found;
    /// any transport or provider error of the calls.
    ///
    /// [`ProfileMap`]: crate::ProfileMap
    pub async fn profile(
        &self,
        provider: &str,
        token: &TokenResponse,
    ) -> Result<Profile, OAuthError> {
        let app = self.remote_app(provider)?;
        let endpoints = app.endpoints(self.http_for(app)).await?;
        let mut data = token.id_token_claims().cloned().unwrap_or_default();
        if let Some(url) = &endpoints.userinfo_url {
            let info = self.get_json(app, token, url, "user info").await?;
            // OpenID Connect Core §5.3.2: the user info must describe the same user. Any other
            // `sub` (a number, null) would replace the validated one below, so only an equal one
            // passes.
            if let (Some(sub), Some(info_sub)) = (data.get("sub"), info.get("sub")) {
                if sub != info_sub {
                    return Err(crate::error::IdTokenError::Subject.into());
                }
            }
            if let Value::Object(info) = info {
                data.extend(info);
            }
        }
        if let Some(url) = &app.emails_url {
            // Without the scope for it (GitHub's `user:email`) the list is refused: the profile
            // then has no verified address, which is safe, rather than no profile at all.
            match self.get_json_any(app, token, url, "email list").await {
                Ok(list) => {
                    if let Some((email, verified)) = primary_email(&list) {
                        data.insert("email".to_owned(), Value::String(email));
                        data.insert("email_verified".to_owned(), Value::Bool(verified));
                    }
                }
                Err(err) => log::debug!(
                    "actix-oauth: the email list of `{provider}` could not be read ({})",
                    err.kind()
                ),
            }
        }
        app.profile_map
            .apply(provider, Value::Object(data))
            .ok_or_else(|| OAuthError::malformed("user info", "it names no subject (user id)."))
    }

    /// The OpenID Connect discovery document of remote app `provider` (fetched once, then
    /// cached): call it at start-up to fail early on a misconfigured issuer.
    #[cfg(feature = "oidc")]
    pub async fn discover(
        &self,
        provider: &str,
    ) -> Result<std::sync::Arc<crate::oidc::ProviderMetadata>, OAuthError> {
        let app = self.remote_app(provider)?;
        let oidc = app.oidc.as_ref().ok_or_else(|| {
            OAuthError::config(format!(
                "remote app `{provider}` has no OpenID Connect issuer."
            ))
        })?;
        oidc.metadata(self.http_for(app)).await
    }

    /// GETs `url` with the token and returns its JSON object.
    async fn get_json(
        &self,
        app: &RemoteApp,
        token: &TokenResponse,
        url: &Url,
        what: &'static str,
    ) -> Result<Value, OAuthError> {
        match self.get_json_any(app, token, url, what).await? {
            value @ Value::Object(_) => Ok(value),
            _ => Err(OAuthError::malformed(what, "it is not a JSON object.")),
        }
    }

    /// GETs `url` with the token (signed for OAuth 1.0a, bearer for OAuth 2) and returns its
    /// JSON.
    async fn get_json_any(
        &self,
        app: &RemoteApp,
        token: &TokenResponse,
        url: &Url,
        what: &'static str,
    ) -> Result<Value, OAuthError> {
        let provider = app.name.as_str();
        let authorization = if app.is_oauth1() {
            let secret = token
                .token_secret()
                .ok_or_else(|| OAuthError::TokenMissing(format!("{provider} token secret")))?;
            let pair = (token.access_token().secret().as_str(), secret);
            crate::oauth1::authorization(app, "GET", url, &[], Some(pair), &[])?
        } else {
            format!("Bearer {}", token.access_token().secret())
        };
        let request = http::Request::get(url.as_str())
            .header(header::AUTHORIZATION, authorization)
            .header(header::ACCEPT, "application/json")
            .body(Vec::new())
            .map_err(|e| OAuthError::config(e.to_string()))?;
        let response = self.http_for(app).send(request).await?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok());
            return Err(
                crate::oauth2::token::decode_fields(content_type, response.body())
                    .and_then(|f| crate::oauth2::token::provider_error(&f, Some(status)))
                    .unwrap_or_else(|| OAuthError::unexpected_status(status, response.body())),
            );
        }
        let value = serde_json::from_slice::<Value>(response.body())
            .map_err(|_| OAuthError::malformed(what, "it is not JSON."))?;
        // Errors with status 200 (Slack's `{"ok": false, "error": "invalid_auth"}`).
        if let Some(err) = value
            .as_object()
            .and_then(|fields| crate::oauth2::token::provider_error(fields, Some(status)))
        {
            return Err(err);
        }
        Ok(value)
    }
}

/// `scheme://host` when `host` is a bare `host[:port]` (no path, query, userinfo or space),
/// with it parsed.
fn origin(scheme: &str, host: &str) -> Option<(String, Url)> {
    let bare = !host.is_empty()
        && !host
            .bytes()
            .any(|b| matches!(b, b'/' | b'?' | b'#' | b'@' | b'\\') || !b.is_ascii_graphic());
    if !bare || !matches!(scheme, "http" | "https") {
        return None;
    }
    let origin = format!("{scheme}://{host}");
    let url = Url::parse(&origin).ok()?;
    Some((origin, url))
}

/// Whether a URL's host is `localhost` or a loopback address.
fn is_loopback_host(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The used-state memory's key: a digest, so the memory holds no `state` values.
fn state_key(state: &str) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(state.as_bytes()).into()
}

/// The primary address of a GitHub-style email list (`[{email, primary, verified}]`) and
/// whether it is verified; `None` when the list marks no primary address.
fn primary_email(list: &Value) -> Option<(String, bool)> {
    list.as_array()?.iter().find_map(|entry| {
        let primary = entry.get("primary").and_then(Value::as_bool) == Some(true);
        let email = entry
            .get("email")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty());
        match (primary, email) {
            (true, Some(email)) => Some((
                email.to_owned(),
                entry.get("verified").and_then(Value::as_bool) == Some(true),
            )),
            _ => None,
        }
    })
}

/// RFC 9207: an authorization response's `iss` must name the issuer this sign-in began with,
/// and must be present when the provider advertises it.
#[cfg_attr(not(feature = "oidc"), allow(unused_variables))]
fn check_callback_issuer(
    endpoints: &crate::remote_app::Endpoints,
    iss: Option<&str>,
) -> Result<(), OAuthError> {
    #[cfg(feature = "oidc")]
    if let Some(metadata) = &endpoints.metadata {
        let expected = &metadata.issuer;
        let matches = match iss {
            // Microsoft's multi-tenant template: any tenant's issuer of the same shape.
            Some(iss) if expected.contains("{tenantid}") => expected
                .split_once("{tenantid}")
                .is_some_and(|(head, tail)| {
                    iss.len() > head.len() + tail.len()
                        && iss.starts_with(head)
                        && iss.ends_with(tail)
                        && crate::oidc::is_tenant_id(&iss[head.len()..iss.len() - tail.len()])
                }),
            Some(iss) => iss == expected,
            None => !metadata.authorization_response_iss_parameter_supported,
        };
        if !matches {
            return Err(OAuthError::IssuerMismatch {
                expected: expected.clone(),
                found: iss.map(|i| i.chars().take(256).collect()),
            });
        }
        return Ok(());
    }
    if iss.is_some() {
        // A plain OAuth 2 app knows no issuer to compare with; RFC 9207 §2.4 lets it ignore `iss`.
        log::debug!("actix-oauth: callback `iss` ignored: the remote app has no issuer");
    }
    Ok(())
}

/// A callback's query, with the parameters RFC 6749 allows once refused when repeated.
pub(crate) struct CallbackQuery(pub(crate) Vec<(String, String)>);

impl CallbackQuery {
    pub(crate) fn parse(query: &str) -> Result<Self, OAuthError> {
        if query.len() > 8 * 1024 {
            return Err(OAuthError::malformed("callback", "its query is too long."));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| OAuthError::malformed("callback", "its query is not form-encoded."))?;
        for key in [
            "state",
            "code",
            "error",
            "oauth_token",
            "oauth_verifier",
            "denied",
            "iss",
        ] {
            if pairs.iter().filter(|(k, _)| k == key).count() > 1 {
                return Err(OAuthError::malformed(
                    "callback",
                    format!("`{key}` appears more than once."),
                ));
            }
        }
        Ok(Self(pairs))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
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
