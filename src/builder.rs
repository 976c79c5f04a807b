//! The [`OAuth`] builder: the registry's settings, checked once by [`OAuth::build`].

use std::{collections::HashMap, fmt, net::IpAddr, sync::Arc, time::Duration};

use actix_web::HttpRequest;
use url::Url;

use crate::{
    defaults,
    error::OAuthError,
    extension::{Inner, OAuthExtension},
    oauth2 as oauth2_flow,
    remote_app::{Callback, RemoteAppBuilder},
    token::TokenResponse,
    token_cache::{TokenCache, TokenGetterFn, TokenUpdateFn},
    token_store::{Deadline, MemoryTokenStore, TokenStore},
    transport::AwcHttpClient,
};

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
    /// Whether `token_store` is the app's own (then bounded by `store_timeout`).
    own_store: bool,
    store_timeout: Duration,
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
            max_pending: defaults::MAX_PENDING,
            handshake_lifetime: defaults::HANDSHAKE_LIFETIME,
            token_getter: None,
            token_update: None,
            token_store: Arc::new(MemoryTokenStore::new()),
            own_store: false,
            store_timeout: defaults::STORE_TIMEOUT,
            max_session_bytes: Some(defaults::MAX_SESSION_BYTES),
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
    ///
    /// Every call to it must answer within [`store_timeout`](Self::store_timeout), or the request
    /// is answered `503` ([`OAuthError::Unavailable`]).
    pub fn token_store(mut self, store: impl TokenStore) -> Self {
        self.token_store = Arc::new(store);
        self.own_store = true;
        self
    }

    /// Sets the longest one call to the [`token_store`](Self::token_store) may take: a store
    /// that does not answer in time (its server down or unreachable) makes the request a `503`
    /// page ([`OAuthError::Unavailable`], with `Retry-After`), never a request that hangs; the
    /// next request tries the store again. Default: 3 seconds
    /// ([`STORE_TIMEOUT`](crate::defaults::STORE_TIMEOUT)). The in-memory default store is not
    /// bounded (it cannot stall).
    pub fn store_timeout(mut self, limit: Duration) -> Self {
        self.store_timeout = limit;
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
        self.token_getter = Some(crate::token_cache::token_getter(getter));
        self
    }

    /// Registers a hook called once per OAuth 2 refresh with the new token, to persist it.
    /// Default: none (with the default token getter, the token store is updated anyway).
    pub fn on_token_update<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(HttpRequest, String, TokenResponse) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), OAuthError>> + 'static,
    {
        self.token_update = Some(crate::token_cache::token_update(hook));
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
            // Needed only here: the app's client below keeps them.
            let roots = std::mem::take(&mut app.root_certificates);
            if !roots.is_empty() {
                app.http = Some(http.clone().with_trust(trust.trust(&roots)?));
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
        // Back-channel logout can end sessions only of OpenID Connect apps: only then does the
        // middleware ask the token store whether a request's session was ended.
        let has_oidc = apps.values().any(|app| app.protocol.is_oidc());
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
                token_store: if self.own_store {
                    Arc::new(Deadline::new(self.token_store, self.store_timeout))
                } else {
                    self.token_store
                },
                max_session_bytes: self.max_session_bytes,
                cache: TokenCache::default(),
                used_states: crate::replay::UsedStates::default(),
                #[cfg(feature = "oidc")]
                used_logout_tokens: crate::replay::UsedStates::default(),
                watch_ended_sessions: has_oidc,
            }),
        })
    }
}
