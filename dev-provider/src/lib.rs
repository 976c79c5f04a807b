//! # actix-oauth-dev
//!
//! A development OAuth 2 / OpenID Connect authorization server and OAuth 1.0a provider, for
//! tests and offline development: the development provider of [actix-oauth], in a crate of its
//! own so that apps build none of it. The crate's binary serves it to apps in any language
//! (`actix-oauth-dev --bind 127.0.0.1:PORT --client ID:SECRET:REDIRECT_URI`, see the README).
//!
//! [`DevProvider`] is a real, strict OAuth 2 authorization server ([RFC 6749], with PKCE,
//! [RFC 7636]), OpenID provider ([OpenID Connect Core 1.0], [Discovery]) and OAuth 1.0a
//! provider ([RFC 5849]) served by actix-web on a loopback port. It runs in its own thread with
//! its own actix `System`, so it can be started from a plain `main`, a `#[test]` or an
//! `#[actix_rt::test]`, and it stops when the handle is dropped.
//!
//! | Endpoint | |
//! |---|---|
//! | `GET /.well-known/openid-configuration` | discovery document; `issuer` is [`DevProvider::issuer`] |
//! | `GET /jwks` | JWK Set: the current signing key and, after a rotation, the previous one |
//! | `GET /oauth2/authorize` | consent page: pick a configured user, approve or deny; the redirect carries `iss` ([RFC 9207]) |
//! | `POST /oauth2/token` | `authorization_code`, `refresh_token` (rotating), `client_credentials`, `urn:ietf:params:oauth:grant-type:device_code`; an `id_token` when the scope has `openid` |
//! | `POST /oauth2/device_authorization` | device authorization ([RFC 8628]): device code, user code, verification URIs, `interval` ([`DevProviderBuilder::device_interval`]) |
//! | `GET`/`POST /device` | device verification page: enter the user code, pick a user, approve or deny; polls sooner than the interval are answered `slow_down` |
//! | `GET /oauth2/userinfo` | the token's user: `sub`, `name`, `preferred_username`, `email`, `email_verified` (and `picture` when set) |
//! | `GET /api/me` | the same, as a protected API under [`DevProvider::api_url`] |
//! | DPoP ([RFC 9449]) | at the token endpoint (nonce required: `use_dpop_nonce` first) and the resources: `typ`, ES256 signature by the embedded `jwk`, `htm`, `htu`, `iat`, single-use `jti`, `ath`, the token's key binding; tokens issued as `DPoP` |
//! | `POST /oauth1/request_token` | OAuth 1.0a temporary credentials; `oauth_callback` must be registered |
//! | `GET /oauth1/authorize` | consent page for an `oauth_token`: approve (`oauth_verifier`) or deny (`denied=`) |
//! | `POST /oauth1/access_token` | token credentials for the temporary ones and `oauth_verifier`, with `user_id` and `screen_name` |
//! | `GET`/`POST /oauth1/api/me` | the token's user, JSON: `id`, `screen_name`, `name`, `email`, `email_verified` |
//! | `POST /oauth1/api/echo` | the method, query and form body received, and the user, as JSON |
//!
//! It is strict where real providers are: redirect URIs are compared exactly, codes are single
//! use (a replay revokes the tokens issued from it), refresh tokens rotate and a used one
//! presented again revokes its grant ([RFC 9700 §4.14.2]; [`DevProvider::refreshes`] and
//! [`DevProvider::refresh_reuses`] count them), a `code_verifier` without a prior challenge
//! is refused, and errors follow [RFC 6749 §5.2].
//!
//! # OpenID Connect
//! When the authorization request's `scope` contains `openid`, the token response carries an
//! `id_token`: a JWT signed with the current key ([`DevAlgorithm::Rs256`] by default, see
//! [`DevProviderBuilder::id_token_algorithm`]), its header naming `alg` and `kid`, with the
//! claims `iss`, `sub` (the userinfo `sub`), `aud` and `azp` (the client id), `exp` (now plus
//! the token lifetime), `iat`, `auth_time`, `at_hash`, the request's `nonce` if it sent one,
//! `name`, `preferred_username` and `picture` for the scope `profile`, and `email` and
//! `email_verified` for the scope `email`. A refresh whose scope keeps `openid` returns a new
//! `id_token` with the original `auth_time` and no `nonce`.
//!
//! Tests steer it through the running handle: [`DevProvider::rotate_signing_key`] and
//! [`DevProvider::drop_old_keys`] change what the JWKS publishes,
//! [`DevProvider::set_jwks_cache_control`] and [`DevProvider::set_jwks_unavailable`] how it is
//! served, [`DevProvider::set_id_token_fault`] breaks the next `id_token`s in one chosen way
//! ([`IdTokenFault`]), and [`DevProvider::jwks_requests`] counts JWKS fetches.
//!
//! OAuth 1.0a consumers are the registered clients: consumer key = client id, consumer secret =
//! client secret, allowed callbacks = redirect URIs. Every OAuth 1.0a request is verified as
//! [RFC 5849 §3.2] requires — HMAC-SHA1, HMAC-SHA256 or PLAINTEXT over the provider's own
//! base URL, timestamps within 300 seconds, nonces single use — and refusals are form-encoded
//! `oauth_problem`s ([Problem Reporting]). Temporary credentials live 10 minutes and are single
//! use; token credentials do not expire.
//!
//! ```no_run
//! # fn main() -> std::io::Result<()> {
//! use actix_oauth_dev::{DevAlgorithm, DevProvider, DevUser, IdTokenFault};
//!
//! let provider = DevProvider::builder()
//!     .client("my-app", "my-secret", ["http://127.0.0.1:8080/auth/dev/callback"])
//!     .user(DevUser::new("bob").name("Bob Example"))
//!     .require_pkce(true)
//!     .id_token_algorithm(DevAlgorithm::Es256)
//!     .start()?;
//! println!("authorize at {}", provider.authorize_url());
//! println!("OpenID Connect issuer {}", provider.issuer());
//!
//! // Later, in a test: a new signing key, then id_tokens for the wrong audience.
//! let kid = provider.rotate_signing_key()?;
//! provider.set_id_token_fault(Some(IdTokenFault::WrongAudience));
//! # let _ = kid;
//! # Ok(())
//! # }
//! ```
//!
//! # Security
//! Anyone who can reach the port can sign in as any configured user: the consent page asks for
//! no password. Keep it on loopback.
//!
//! [RFC 6749]: https://www.rfc-editor.org/rfc/rfc6749
//! [RFC 9207]: https://www.rfc-editor.org/rfc/rfc9207
//! [RFC 8628]: https://www.rfc-editor.org/rfc/rfc8628
//! [RFC 9449]: https://www.rfc-editor.org/rfc/rfc9449
//! [RFC 9700 §4.14.2]: https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2
//! [OpenID Connect Core 1.0]: https://openid.net/specs/openid-connect-core-1_0.html
//! [Discovery]: https://openid.net/specs/openid-connect-discovery-1_0.html
//! [RFC 7636]: https://www.rfc-editor.org/rfc/rfc7636
//! [RFC 6749 §5.2]: https://www.rfc-editor.org/rfc/rfc6749#section-5.2
//! [RFC 5849]: https://www.rfc-editor.org/rfc/rfc5849
//! [RFC 5849 §3.2]: https://www.rfc-editor.org/rfc/rfc5849#section-3.2
//! [Problem Reporting]: https://wiki.oauth.net/w/page/12238543/ProblemReporting
//! [actix-oauth]: https://docs.rs/actix-oauth

#![forbid(unsafe_code)]
#![warn(missing_docs)]

/// The README's examples, compiled as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod api;
mod authorize;
mod client_auth;
mod device;
mod dpop;
mod keys;
mod logout;
mod oauth1;
mod oidc;
mod pages;
mod par;
mod params;
mod state;
mod token;

pub use self::client_auth::{client_key_pair, DevClientAuth};

/// The authentication context classes the provider offers (`acr_values_supported`): a request's
/// `acr_values` get the first of them it names, else the first of these.
pub const ACR_VALUES: &[&str] = &["urn:actix-oauth-dev:pwd", "urn:actix-oauth-dev:mfa"];
pub use self::keys::DevAlgorithm;
pub use self::oidc::IdTokenFault;

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use url::Url;

use self::keys::{KeyRing, SigningKey};
use self::state::{Client, Config, Shared};

/// A user the development provider can sign in as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevUser {
    username: String,
    name: String,
    email: String,
    email_verified: bool,
    picture: Option<String>,
}

impl DevUser {
    /// A user called `username`, named `username`, with the verified email
    /// `{username}@example.test`.
    pub fn new(username: impl Into<String>) -> Self {
        let username = username.into();
        Self {
            name: username.clone(),
            email: format!("{username}@example.test"),
            email_verified: true,
            picture: None,
            username,
        }
    }

    /// Sets the display name (`name` claim). Default: the username.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the email address. Default: `{username}@example.test`.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }

    /// Sets whether the email address is verified (`email_verified` claim). Default: `true`.
    #[must_use]
    pub fn email_verified(mut self, verified: bool) -> Self {
        self.email_verified = verified;
        self
    }

    /// Sets the profile picture URL (`picture` claim, in userinfo and in `id_token`s for the
    /// scope `profile`). Default: none, and the claim is left out.
    #[must_use]
    pub fn picture(mut self, url: impl Into<String>) -> Self {
        self.picture = Some(url.into());
        self
    }

    /// The stable subject identifier (`sub` claim): `dev-{username}`.
    pub fn subject(&self) -> String {
        format!("dev-{}", self.username)
    }

    /// The username (`preferred_username` claim).
    pub fn username(&self) -> &str {
        &self.username
    }
}

/// Configures and starts a [`DevProvider`].
#[derive(Debug)]
pub struct DevProviderBuilder {
    clients: Vec<Client>,
    users: Vec<DevUser>,
    code_lifetime: Duration,
    token_lifetime: Duration,
    require_pkce: bool,
    require_par: bool,
    assertion_audience_issuer_only: bool,
    bind: SocketAddr,
    id_token_algorithm: DevAlgorithm,
    device_interval: Duration,
    device_code_lifetime: Duration,
}

impl DevProviderBuilder {
    /// Registers a confidential client with its secret and redirect URIs. May be called several
    /// times; registering an id again replaces the earlier client. Default: no clients.
    ///
    /// The client is also an OAuth 1.0a consumer: `id` is its consumer key, `secret` its
    /// consumer secret, and `redirect_uris` the callbacks it may send as `oauth_callback`.
    ///
    /// Redirect URIs are compared exactly (string equality), as [RFC 9700 §2.1] requires; each
    /// must be an absolute URL without a fragment, or [`start`](Self::start) fails.
    ///
    /// [RFC 9700 §2.1]: https://www.rfc-editor.org/rfc/rfc9700#section-2.1
    #[must_use]
    pub fn client(
        mut self,
        id: impl Into<String>,
        secret: impl Into<String>,
        redirect_uris: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let client = Client::new(
            id.into(),
            secret.into(),
            redirect_uris.into_iter().map(Into::into).collect(),
        );
        self.clients.retain(|existing| existing.id != client.id);
        self.clients.push(client);
        self
    }

    /// Registers `uri` as client `client_id`'s `backchannel_logout_uri` ([OpenID Connect
    /// Back-Channel Logout 1.0 §2.2]): when one of its provider sessions ends (its user signs out
    /// at the `end_session_endpoint`, or a test calls
    /// [`DevProvider::backchannel_logout`]), a logout token is POSTed there. Call it after
    /// [`client`](Self::client). Default: none.
    ///
    /// [OpenID Connect Back-Channel Logout 1.0 §2.2]: https://openid.net/specs/openid-connect-backchannel-1_0.html#BCRegistration
    #[must_use]
    pub fn backchannel_logout_uri(mut self, client_id: &str, uri: impl Into<String>) -> Self {
        let uri = uri.into();
        if let Some(client) = self.clients.iter_mut().find(|c| c.id == client_id) {
            client.backchannel_logout_uri = Some(uri);
        }
        self
    }

    /// Sets how client `client_id` authenticates at the token and revocation endpoints: its
    /// secret (the default), a JWT assertion — `client_secret_jwt` under its secret, or
    /// `private_key_jwt` under a registered public key — or nothing but its `client_id`
    /// ([`DevClientAuth::None`], a public client, which must use PKCE). A client registered
    /// for assertions is refused with its secret, and the other way round. Call it after
    /// [`client`](Self::client).
    #[must_use]
    pub fn client_auth(mut self, client_id: &str, auth: DevClientAuth) -> Self {
        if let Some(client) = self.clients.iter_mut().find(|c| c.id == client_id) {
            client.auth = auth;
        }
        self
    }

    /// Adds a user to sign in as; the first one is preselected on the consent page. May be
    /// called several times; adding a username again replaces the earlier user. Default: one
    /// user, `alice` ("Alice Example", `alice@example.test`, verified).
    #[must_use]
    pub fn user(mut self, user: DevUser) -> Self {
        match self
            .users
            .iter_mut()
            .find(|existing| existing.username == user.username)
        {
            Some(existing) => *existing = user,
            None => self.users.push(user),
        }
        self
    }

    /// Sets how long an authorization code can be exchanged. Default: 60 seconds.
    #[must_use]
    pub fn code_lifetime(mut self, lifetime: Duration) -> Self {
        self.code_lifetime = lifetime;
        self
    }

    /// Sets how long an access token is valid (`expires_in`, rounded down to seconds).
    /// Default: 3600 seconds. Refresh tokens do not expire; they are single use.
    #[must_use]
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Sets whether authorization requests without a PKCE `code_challenge` are refused.
    /// Default: `false` (PKCE is optional, but always checked when used).
    #[must_use]
    pub fn require_pkce(mut self, require: bool) -> Self {
        self.require_pkce = require;
        self
    }

    /// Sets whether authorization requests must be pushed first to `/oauth2/par` (RFC 9126),
    /// as discovery then says (`require_pushed_authorization_requests`). Default: `false`
    /// (pushed requests are accepted, plain ones too).
    #[must_use]
    pub fn require_par(mut self, require: bool) -> Self {
        self.require_par = require;
        self
    }

    /// Accepts client assertions (`client_secret_jwt`, `private_key_jwt`) only with the issuer
    /// as their `aud`, as draft-ietf-oauth-rfc7523bis asks of providers. Default: `false`, the
    /// issuer or the URL of the endpoint the assertion is sent to (never the token endpoint's
    /// at another endpoint: that is what audience injection replays).
    #[must_use]
    pub fn assertion_audience_issuer_only(mut self, only: bool) -> Self {
        self.assertion_audience_issuer_only = only;
        self
    }

    /// Sets the polling interval of device authorizations ([RFC 8628 §3.2] `interval`), in
    /// whole seconds, at least 1 (rounded up). A poll sooner than the interval after the
    /// previous one is answered `slow_down`, and the interval of that device code grows by 5
    /// seconds ([RFC 8628 §3.5]). Default: 5 seconds.
    ///
    /// [RFC 8628 §3.2]: https://www.rfc-editor.org/rfc/rfc8628#section-3.2
    /// [RFC 8628 §3.5]: https://www.rfc-editor.org/rfc/rfc8628#section-3.5
    #[must_use]
    pub fn device_interval(mut self, interval: Duration) -> Self {
        self.device_interval = whole_seconds(interval);
        self
    }

    /// Sets how long a device code and its user code can be used (`expires_in`), in whole
    /// seconds, at least 1 (rounded up). Default: 600 seconds.
    #[must_use]
    pub fn device_code_lifetime(mut self, lifetime: Duration) -> Self {
        self.device_code_lifetime = whole_seconds(lifetime);
        self
    }

    /// Sets how `id_token`s are signed. Default: [`DevAlgorithm::Rs256`], what most real
    /// providers use. [`DevAlgorithm::Es256`] keys are much quicker to generate, which counts
    /// in unoptimized builds: [`start`](Self::start) and
    /// [`DevProvider::rotate_signing_key`] generate one.
    #[must_use]
    pub fn id_token_algorithm(mut self, algorithm: DevAlgorithm) -> Self {
        self.id_token_algorithm = algorithm;
        self
    }

    /// Sets the address to listen on. Default: `127.0.0.1:0`, a free loopback port.
    ///
    /// # Security
    /// Only loopback addresses (`127.0.0.0/8`, `::1`, `::ffff:127.x.y.z`) are accepted:
    /// [`start`](Self::start) refuses any other, including `0.0.0.0` and `::`, since whoever
    /// reaches the port can sign in as any configured user without a password.
    #[must_use]
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Generates the `id_token` signing key, binds the listening socket and starts the server in
    /// its own thread. Returns once the socket is listening, so requests may be sent right away.
    ///
    /// # Errors
    /// When the address is not a loopback address ([`io::ErrorKind::InvalidInput`], see
    /// [`bind`](Self::bind)), when a redirect URI is not an absolute URL without a fragment,
    /// when the address cannot be bound, or when no signing key can be generated.
    pub fn start(self) -> io::Result<DevProvider> {
        if !is_loopback(self.bind.ip()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "The development provider listens on loopback addresses only (127.0.0.0/8 or ::1), not {}: \
                     anyone who reaches it can sign in as any of its users without a password.",
                    self.bind.ip()
                ),
            ));
        }
        for client in &self.clients {
            if let Some(uri) = &client.backchannel_logout_uri {
                if Url::parse(uri).is_err() {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "The backchannel_logout_uri {uri:?} of client {:?} is not an absolute URL.",
                            client.id
                        ),
                    ));
                }
            }
            for uri in &client.redirect_uris {
                let valid = Url::parse(uri).is_ok_and(|url| url.fragment().is_none());
                if !valid {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "The redirect URI {uri:?} of client {:?} is not an absolute URL without a fragment.",
                            client.id
                        ),
                    ));
                }
            }
        }
        let users = if self.users.is_empty() {
            vec![DevUser::new("alice")
                .name("Alice Example")
                .email("alice@example.test")]
        } else {
            self.users
        };

        let listener = TcpListener::bind(self.bind)?;
        let addr = listener.local_addr()?;
        let url = Url::parse(&format!("http://{addr}/"))
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        let keys = KeyRing::new(SigningKey::generate(self.id_token_algorithm)?);
        let shared = web::Data::new(Shared::new(
            Config {
                base_url: url.clone(),
                issuer: url.as_str().trim_end_matches('/').to_owned(),
                algorithm: self.id_token_algorithm,
                clients: self.clients,
                users,
                code_lifetime: self.code_lifetime,
                token_lifetime_ms: std::sync::atomic::AtomicU64::new(
                    u64::try_from(self.token_lifetime.as_millis()).unwrap_or(u64::MAX),
                ),
                require_pkce: self.require_pkce,
                require_par: self.require_par,
                assertion_audience_issuer_only: self.assertion_audience_issuer_only,
                device_interval: self.device_interval,
                device_code_lifetime: self.device_code_lifetime,
            },
            keys,
        ));

        let (ready_tx, ready_rx) = mpsc::channel();
        let app_data = shared.clone();
        let thread = std::thread::Builder::new()
            .name("actix-oauth-dev-provider".to_owned())
            .spawn(move || {
                let system = actix_rt::System::new();
                let result = system.block_on(async move {
                    let server = HttpServer::new(move || {
                        App::new().app_data(app_data.clone()).configure(routes)
                    })
                    .workers(1)
                    .disable_signals()
                    .listen(listener);
                    match server {
                        Ok(server) => {
                            let server = server.run();
                            let _ = ready_tx.send(Ok(server.handle()));
                            server.await
                        }
                        Err(error) => {
                            let _ = ready_tx.send(Err(error));
                            Ok(())
                        }
                    }
                });
                if let Err(error) = result {
                    log::error!("The development provider stopped with an error: {error}");
                }
            })?;
        let handle = match ready_rx.recv() {
            Ok(Ok(handle)) => handle,
            Ok(Err(error)) => {
                let _ = thread.join();
                return Err(error);
            }
            Err(_) => {
                let _ = thread.join();
                return Err(io::Error::other(
                    "The development provider's thread ended before it started serving.",
                ));
            }
        };
        log::info!("Development OAuth provider listening on {url}");
        Ok(DevProvider {
            url,
            shared,
            handle,
            thread: Some(thread),
        })
    }
}

/// `duration` rounded up to whole seconds, at least one.
fn whole_seconds(duration: Duration) -> Duration {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    Duration::from_secs(secs.max(1))
}

/// Whether `ip` only ever reaches this machine: `127.0.0.0/8`, `::1`, or an IPv4-mapped
/// `::ffff:127.x.y.z`.
fn is_loopback(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// The provider's routes.
fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(pages::home))
        .route(
            "/.well-known/openid-configuration",
            web::get().to(oidc::discovery),
        )
        .route("/jwks", web::get().to(oidc::jwks))
        .service(
            web::resource("/oauth2/authorize")
                .route(web::get().to(authorize::show))
                .route(web::post().to(authorize::decide)),
        )
        .service(web::resource("/oauth2/token").to(token::token))
        .service(
            web::resource("/oauth2/device_authorization")
                .route(web::post().to(device::authorization)),
        )
        .service(
            web::resource("/device")
                .route(web::get().to(device::show))
                .route(web::post().to(device::decide)),
        )
        .service(web::resource("/oauth2/revoke").to(token::revoke))
        .service(web::resource("/oauth2/par").to(par::push))
        .service(
            web::resource("/oauth2/logout")
                .route(web::get().to(logout::end_session))
                .route(web::post().to(logout::end_session)),
        )
        .route("/dev/backchannel-logout", web::post().to(logout::trigger))
        .service(
            web::resource("/oauth2/userinfo")
                .route(web::get().to(api::userinfo))
                .route(web::post().to(api::userinfo)),
        )
        .service(web::scope("/api").configure(api::configure))
        .service(web::scope("/oauth1").configure(oauth1::configure));
}

/// A running development OAuth 2 / OpenID Connect authorization server and OAuth 1.0a provider.
/// Dropping it stops the server.
///
/// Its switches ([`rotate_signing_key`](Self::rotate_signing_key),
/// [`drop_old_keys`](Self::drop_old_keys), [`set_id_token_fault`](Self::set_id_token_fault))
/// take `&self` and act at once on the running server, from any thread.
pub struct DevProvider {
    url: Url,
    shared: web::Data<Shared>,
    handle: ServerHandle,
    thread: Option<JoinHandle<()>>,
}

impl DevProvider {
    /// A builder with the defaults: no clients, the user `alice`, codes valid 60 s, access
    /// tokens 3600 s, PKCE optional, `id_token`s signed with RS256, a free port on 127.0.0.1.
    pub fn builder() -> DevProviderBuilder {
        DevProviderBuilder {
            clients: Vec::new(),
            users: Vec::new(),
            code_lifetime: Duration::from_secs(60),
            token_lifetime: Duration::from_secs(3600),
            require_pkce: false,
            require_par: false,
            assertion_audience_issuer_only: false,
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            id_token_algorithm: DevAlgorithm::default(),
            device_interval: Duration::from_secs(5),
            device_code_lifetime: Duration::from_secs(600),
        }
    }

    /// The base URL, such as `http://127.0.0.1:41234/`.
    pub fn url(&self) -> &Url {
        &self.url
    }

    fn join(&self, path: &str) -> Url {
        let mut url = self.url.clone();
        url.set_path(path);
        url
    }

    /// The authorization endpoint, `{base}oauth2/authorize`.
    pub fn authorize_url(&self) -> Url {
        self.join("/oauth2/authorize")
    }

    /// The token endpoint, `{base}oauth2/token`.
    pub fn token_url(&self) -> Url {
        self.join("/oauth2/token")
    }

    /// The userinfo endpoint, `{base}oauth2/userinfo`.
    pub fn userinfo_url(&self) -> Url {
        self.join("/oauth2/userinfo")
    }

    /// The base URL of the protected API, `{base}api/`; `me` there answers like userinfo.
    pub fn api_url(&self) -> Url {
        self.join("/api/")
    }

    /// The OAuth 1.0a temporary credential request endpoint, `{base}oauth1/request_token`
    /// ([RFC 5849 §2.1]).
    ///
    /// [RFC 5849 §2.1]: https://www.rfc-editor.org/rfc/rfc5849#section-2.1
    pub fn oauth1_request_token_url(&self) -> Url {
        self.join("/oauth1/request_token")
    }

    /// The OAuth 1.0a resource owner authorization endpoint, `{base}oauth1/authorize`
    /// ([RFC 5849 §2.2]).
    ///
    /// [RFC 5849 §2.2]: https://www.rfc-editor.org/rfc/rfc5849#section-2.2
    pub fn oauth1_authorize_url(&self) -> Url {
        self.join("/oauth1/authorize")
    }

    /// The OAuth 1.0a token request endpoint, `{base}oauth1/access_token` ([RFC 5849 §2.3]).
    ///
    /// [RFC 5849 §2.3]: https://www.rfc-editor.org/rfc/rfc5849#section-2.3
    pub fn oauth1_access_token_url(&self) -> Url {
        self.join("/oauth1/access_token")
    }

    /// The base URL of the OAuth 1.0a protected API, `{base}oauth1/api/`: `me` answers who
    /// the token credentials speak for, and `echo` what a signed `POST` carried.
    pub fn oauth1_api_url(&self) -> Url {
        self.join("/oauth1/api/")
    }

    /// The pushed authorization request endpoint ([RFC 9126]), `{base}oauth2/par`.
    ///
    /// [RFC 9126]: https://www.rfc-editor.org/rfc/rfc9126
    pub fn par_url(&self) -> Url {
        self.join("/oauth2/par")
    }

    /// The device authorization endpoint ([RFC 8628 §3.1]), `{base}oauth2/device_authorization`:
    /// the discovery document's `device_authorization_endpoint`.
    ///
    /// [RFC 8628 §3.1]: https://www.rfc-editor.org/rfc/rfc8628#section-3.1
    pub fn device_authorization_url(&self) -> Url {
        self.join("/oauth2/device_authorization")
    }

    /// The device verification page ([RFC 8628 §3.3]), `{base}device`: the user enters the user
    /// code (or arrives with `?user_code=…`), picks a user, and approves or denies.
    ///
    /// [RFC 8628 §3.3]: https://www.rfc-editor.org/rfc/rfc8628#section-3.3
    pub fn device_verification_url(&self) -> Url {
        self.join("/device")
    }

    /// The token revocation endpoint ([RFC 7009]), `{base}oauth2/revoke`: the discovery
    /// document's `revocation_endpoint`. Revoking a refresh token revokes every token of its
    /// grant; an access token, itself.
    ///
    /// [RFC 7009]: https://www.rfc-editor.org/rfc/rfc7009
    pub fn revocation_url(&self) -> Url {
        self.join("/oauth2/revoke")
    }

    /// The RP-initiated logout endpoint, `{base}oauth2/logout`: the discovery document's
    /// `end_session_endpoint`. It ends the provider session its `id_token_hint` names at once
    /// (no confirmation page), sends the back-channel logouts, and returns the browser to a
    /// `post_logout_redirect_uri` with the origin of one of the client's redirect URIs.
    pub fn end_session_url(&self) -> Url {
        self.join("/oauth2/logout")
    }

    /// Makes `username`'s single sign-on session here `age` older (as if they had authenticated
    /// that long ago): a sign-in within a request's `max_age` reuses it, and its `auth_time`.
    /// Starts one when there is none.
    pub fn age_sign_in(&self, username: &str, age: Duration) {
        let now = oidc::unix_now();
        let mut sessions = self
            .shared
            .user_sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let at = sessions.entry(username.to_owned()).or_insert(now);
        *at = at.saturating_sub(age.as_secs());
    }

    /// Makes the provider misbehave: it answers the `auth_time` of an old single sign-on
    /// session even where the request's `max_age` asked for a fresher one (the client must
    /// refuse that sign-in). Default: `false`.
    pub fn set_ignore_max_age(&self, ignore: bool) {
        self.shared
            .ignore_max_age
            .store(ignore, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many tokens the revocation endpoint has revoked.
    pub fn revocations(&self) -> usize {
        self.shared.store().revocations
    }

    /// How many refresh token grants succeeded (each rotated its refresh token).
    pub fn refreshes(&self) -> usize {
        self.shared.store().refreshes
    }

    /// How many already used refresh tokens were presented again; each revoked its grant (every
    /// access and refresh token descending from the same authorization code).
    pub fn refresh_reuses(&self) -> usize {
        self.shared.store().refresh_reuses
    }

    /// Ends every provider session of user `username` (each sign-in is one, with its own `sid`
    /// in its ID tokens): every token issued in them is revoked, and a logout token is POSTed
    /// to each client's [`backchannel_logout_uri`](DevProviderBuilder::backchannel_logout_uri).
    /// Returns the HTTP status of each delivery (0 when it failed). The same as `POST
    /// /dev/backchannel-logout` with `username=…`. Needs an actix (or Tokio) runtime.
    pub async fn backchannel_logout(&self, username: &str) -> Vec<u16> {
        let ended = self
            .shared
            .store()
            .end_sessions(|session| session.username == username);
        logout::notify(&self.shared, &ended).await
    }

    /// The claims of a valid logout token for user `username`'s most recent live provider
    /// session (`iss`, `aud`, `iat`, `exp`, `jti`, `sub`, `sid`, `events`), without ending it:
    /// tests change them and sign them with [`sign_logout_token`](Self::sign_logout_token)
    /// to see what a client refuses. `None` when the user has no live session.
    pub fn logout_token_claims(&self, username: &str) -> Option<serde_json::Value> {
        let session = self.shared.store().latest_session(username)?;
        Some(logout::logout_token_claims(&self.shared, &session))
    }

    /// `claims` signed as a logout token (`typ: logout+jwt`) with the current signing key.
    ///
    /// # Errors
    /// When signing fails (it does not with a working key).
    pub fn sign_logout_token(&self, claims: &serde_json::Value) -> io::Result<String> {
        logout::sign(&self.shared, claims)
    }

    /// Makes the protected resources (`/api/…`, userinfo) require a DPoP nonce in proofs
    /// ([RFC 9449 §9]): a proof without the current one is answered `401` with
    /// `WWW-Authenticate: DPoP error="use_dpop_nonce"` and a `DPoP-Nonce` header. Default:
    /// `false` (the token endpoint always requires one).
    ///
    /// [RFC 9449 §9]: https://www.rfc-editor.org/rfc/rfc9449#section-9
    pub fn set_api_dpop_nonce(&self, required: bool) {
        self.shared.dpop.api_nonce.store(required, Ordering::SeqCst);
    }

    /// Draws a new DPoP nonce; the current one stays accepted until the next rotation.
    pub fn rotate_dpop_nonce(&self) {
        self.shared.dpop.rotate();
    }

    /// How many requests were answered `use_dpop_nonce` (token endpoint and resources).
    pub fn dpop_nonce_challenges(&self) -> usize {
        self.shared.dpop.nonce_challenges.load(Ordering::SeqCst)
    }

    /// How many DPoP proofs were refused as invalid: a bad signature, `htm`, `htu`, `iat` or
    /// `ath`, or a replayed `jti`.
    pub fn dpop_proofs_refused(&self) -> usize {
        self.shared.dpop.refused.load(Ordering::SeqCst)
    }

    /// How many requests the token endpoint has received, whatever their outcome.
    pub fn token_requests(&self) -> usize {
        self.shared.token_requests.load(Ordering::SeqCst)
    }

    /// Changes the lifetime of the access tokens issued from now on (tests of expiry and
    /// refresh).
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.config.token_lifetime_ms.store(
            u64::try_from(lifetime.as_millis()).unwrap_or(u64::MAX),
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    /// The OpenID Connect issuer identifier: the base URL without a trailing slash, such as
    /// `http://127.0.0.1:41234`. The discovery document's `issuer`, every `id_token`'s `iss`
    /// and every authorization response's `iss` ([RFC 9207]) are exactly this string.
    ///
    /// [RFC 9207]: https://www.rfc-editor.org/rfc/rfc9207
    pub fn issuer(&self) -> &str {
        &self.shared.config.issuer
    }

    /// The OpenID Connect discovery document, `{issuer}/.well-known/openid-configuration`
    /// ([OpenID Connect Discovery 1.0 §4]).
    ///
    /// [OpenID Connect Discovery 1.0 §4]: https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig
    pub fn discovery_url(&self) -> Url {
        self.join("/.well-known/openid-configuration")
    }

    /// The JWK Set with the `id_token` signing keys, `{base}jwks` (the discovery document's
    /// `jwks_uri`).
    pub fn jwks_url(&self) -> Url {
        self.join("/jwks")
    }

    /// How `id_token`s are signed.
    pub fn id_token_algorithm(&self) -> DevAlgorithm {
        self.shared.config.algorithm
    }

    /// The key id (`kid`) of the key that signs new `id_token`s: the RFC 7638 SHA-256
    /// thumbprint of its public key.
    pub fn signing_key_id(&self) -> String {
        self.shared.keys().current.kid().to_owned()
    }

    /// Generates a new signing key, with the same algorithm and a new `kid`, which signs every
    /// `id_token` from now on. The key it replaces stays in the JWKS, as real providers keep
    /// old keys for a while, until the next rotation or [`drop_old_keys`](Self::drop_old_keys);
    /// the one before it leaves the JWKS now. Returns the new `kid`.
    ///
    /// Runs on the calling thread: an RSA key takes a moment to generate.
    ///
    /// # Errors
    /// When no key can be generated (no operating system randomness).
    pub fn rotate_signing_key(&self) -> io::Result<String> {
        let next = SigningKey::generate(self.shared.config.algorithm)?;
        let kid = next.kid().to_owned();
        self.shared.keys().rotate(next);
        log::info!("Development OAuth provider: signing key rotated, new kid {kid}");
        Ok(kid)
    }

    /// Removes every key but the current one from the JWKS, so that `id_token`s signed before
    /// the last rotation no longer verify.
    pub fn drop_old_keys(&self) {
        self.shared.keys().drop_old();
    }

    /// Sets the defect put in every `id_token` issued from now on, or `None` for valid tokens
    /// again (the default). The switch stays until it is changed.
    ///
    /// Setting [`IdTokenFault::UnknownKid`] the first time generates the unpublished key on the
    /// calling thread.
    pub fn set_id_token_fault(&self, fault: Option<IdTokenFault>) {
        if fault == Some(IdTokenFault::UnknownKid) {
            // Should this fail, the token endpoint tries again and answers `server_error`.
            if let Err(error) = oidc::unpublished_key(&self.shared) {
                log::error!("The development provider could not generate a key: {error}");
            }
        }
        self.shared.set_id_token_fault(fault);
    }

    /// The defect currently put in `id_token`s, if any.
    pub fn id_token_fault(&self) -> Option<IdTokenFault> {
        self.shared.id_token_fault()
    }

    /// Sets the `Cache-Control` header of the JWKS answer from now on (`public, max-age=300`
    /// until set): `max-age=1` lets a consumer's test see its key cache expire, `no-store` asks
    /// it to fetch every time.
    ///
    /// # Errors
    /// When `value` is not a valid header value (a control character); nothing changes then.
    pub fn set_jwks_cache_control(&self, value: &str) -> io::Result<()> {
        let value = actix_web::http::header::HeaderValue::from_str(value)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        self.shared.set_jwks_cache_control(value);
        Ok(())
    }

    /// Switches the JWKS off (`true`: it answers `503 Service Unavailable`) or on again, as a
    /// provider outage would, while every other endpoint keeps working.
    pub fn set_jwks_unavailable(&self, unavailable: bool) {
        self.shared
            .jwks_unavailable
            .store(unavailable, Ordering::SeqCst);
    }

    /// How many requests the JWKS endpoint has received: lets a consumer's test check that it
    /// caches the key set and refetches it at most once per interval.
    pub fn jwks_requests(&self) -> usize {
        self.shared.jwks_requests.load(Ordering::SeqCst)
    }

    /// How many requests the discovery document has received.
    pub fn discovery_requests(&self) -> usize {
        self.shared.discovery_requests.load(Ordering::SeqCst)
    }
}

impl fmt::Debug for DevProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevProvider")
            .field("url", &self.url.as_str())
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Drop for DevProvider {
    fn drop(&mut self) {
        // `stop` sends the command at once; the future it returns only waits for completion,
        // which joining the thread does too.
        drop(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use actix_web::http::{header, StatusCode};
    use serde_json::{json, Value};
    use url::Url;

    use super::{DevAlgorithm, DevProvider, DevProviderBuilder, DevUser, IdTokenFault};

    const ID: &str = "app";
    const SECRET: &str = "app-secret";
    /// Has a query of its own, which the provider must keep.
    const REDIRECT: &str = "http://app.test/callback?from=dev";
    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn start(builder: DevProviderBuilder) -> DevProvider {
        builder
            .client(ID, SECRET, [REDIRECT])
            .start()
            .expect("the provider starts")
    }

    fn http() -> awc::Client {
        awc::Client::builder()
            .disable_redirects()
            .timeout(Duration::from_secs(5))
            .finish()
    }

    fn with_query(mut url: Url, params: &[(&str, &str)]) -> String {
        url.query_pairs_mut().extend_pairs(params);
        url.into()
    }

    fn location<S>(response: &awc::ClientResponse<S>) -> Option<Url> {
        let value = response.headers().get(header::LOCATION)?;
        Some(Url::parse(value.to_str().expect("ASCII Location")).expect("absolute Location"))
    }

    fn param(url: &Url, name: &str) -> Option<String> {
        url.query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Posts the consent form with `decision` and the authorization request plus `extra`;
    /// answers the redirect.
    async fn decide(dev: &DevProvider, decision: &str, extra: &[(&str, &str)]) -> Url {
        let mut form = vec![
            ("response_type", "code"),
            ("client_id", ID),
            ("redirect_uri", REDIRECT),
            ("state", "xyz"),
            ("user", "alice"),
            ("decision", decision),
        ];
        form.extend_from_slice(extra);
        let response = http()
            .post(dev.authorize_url().as_str())
            .send_form(&form)
            .await
            .expect("authorize request");
        assert_eq!(response.status(), StatusCode::FOUND);
        location(&response).expect("a Location")
    }

    async fn code(dev: &DevProvider, extra: &[(&str, &str)]) -> String {
        let to = decide(dev, "approve", extra).await;
        param(&to, "code").expect("a code")
    }

    /// Posts `form` to the token endpoint, with client credentials in the body.
    async fn token(dev: &DevProvider, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut form = form.to_vec();
        form.extend([("client_id", ID), ("client_secret", SECRET)]);
        post_token(http().post(dev.token_url().as_str()), &form).await
    }

    async fn post_token(request: awc::ClientRequest, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut response = request.send_form(&form).await.expect("token request");
        let headers = response.headers();
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert_eq!(headers.get(header::PRAGMA).unwrap(), "no-cache");
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let body = response.body().await.expect("token response body");
        (
            response.status(),
            serde_json::from_slice(&body).expect("a JSON body"),
        )
    }

    async fn exchange(
        dev: &DevProvider,
        code: &str,
        extra: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
        ];
        form.extend_from_slice(extra);
        token(dev, &form).await
    }

    async fn get_json(url: &str, bearer: Option<&str>) -> (StatusCode, Value) {
        let mut request = http().get(url);
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let mut response = request.send().await.expect("request");
        if response.status() == StatusCode::UNAUTHORIZED {
            assert_eq!(
                response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
                "Bearer error=\"invalid_token\""
            );
        }
        let body = response.body().await.expect("body");
        (
            response.status(),
            serde_json::from_slice(&body).expect("a JSON body"),
        )
    }

    async fn userinfo(dev: &DevProvider, bearer: &str) -> (StatusCode, Value) {
        get_json(dev.userinfo_url().as_str(), Some(bearer)).await
    }

    fn error(body: &Value) -> &str {
        body["error"].as_str().expect("an error code")
    }

    fn alice() -> Value {
        json!({
            "sub": "dev-alice",
            "name": "Alice Example",
            "preferred_username": "alice",
            "email": "alice@example.test",
            "email_verified": true,
        })
    }

    #[actix_rt::test]
    async fn code_flow_with_pkce() {
        let dev = start(DevProvider::builder());
        let request = [
            ("response_type", "code"),
            ("client_id", ID),
            ("redirect_uri", REDIRECT),
            ("state", "<x&y>"),
            ("scope", "profile email"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        let mut response = http()
            .get(with_query(dev.authorize_url(), &request))
            .send()
            .await
            .expect("consent page");
        assert_eq!(response.status(), StatusCode::OK);
        let page = String::from_utf8(response.body().await.expect("page").to_vec()).unwrap();
        assert!(page.contains("Sign in to the development provider as"));
        assert!(page.contains(r#"type="radio" name="user" id="user-0" value="alice" checked"#));
        assert!(page.contains(r#"id="approve""#) && page.contains(r#"id="deny""#));
        assert!(page.contains(r#"<form method="post" action="/oauth2/authorize">"#));
        assert!(page.contains(&format!(
            r#"<input type="hidden" name="code_challenge" value="{CHALLENGE}">"#
        )));
        assert!(page.contains(r#"value="&lt;x&amp;y&gt;""#));
        assert!(!page.contains("<x&y>"));

        let form: Vec<_> = request
            .iter()
            .copied()
            .chain([("user", "alice"), ("decision", "approve")])
            .collect();
        let response = http()
            .post(dev.authorize_url().as_str())
            .send_form(&form)
            .await
            .expect("decision");
        assert_eq!(response.status(), StatusCode::FOUND);
        let to = location(&response).expect("a Location");
        assert!(to
            .as_str()
            .starts_with("http://app.test/callback?from=dev&code="));
        assert_eq!(param(&to, "from").as_deref(), Some("dev"));
        assert_eq!(param(&to, "state").as_deref(), Some("<x&y>"));
        assert_eq!(param(&to, "iss").as_deref(), Some(dev.issuer()));
        let code = param(&to, "code").expect("a code");
        assert!(code.len() >= 22, "at least 128 bits");

        let (status, body) = exchange(&dev, &code, &[("code_verifier", VERIFIER)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 3600);
        assert_eq!(body["scope"], "profile email");
        assert!(body["refresh_token"].is_string());
        assert!(body.get("id_token").is_none(), "no id_token without openid");
        let access_token = body["access_token"].as_str().expect("an access token");

        assert_eq!(
            userinfo(&dev, access_token).await,
            (StatusCode::OK, alice())
        );
        let me = dev.api_url().join("me").expect("a URL");
        assert_eq!(
            get_json(me.as_str(), Some(access_token)).await,
            (StatusCode::OK, alice())
        );
        assert_eq!(dev.token_requests(), 1);
    }

    #[actix_rt::test]
    async fn configured_users_and_endpoints() {
        let dev = start(
            DevProvider::builder().user(DevUser::new("bob")).user(
                DevUser::new("carol")
                    .name("Carol")
                    .email("c@x.test")
                    .email_verified(false),
            ),
        );
        assert_eq!(
            dev.authorize_url().as_str(),
            format!("{}oauth2/authorize", dev.url())
        );
        assert_eq!(
            dev.token_url().as_str(),
            format!("{}oauth2/token", dev.url())
        );
        assert_eq!(
            dev.userinfo_url().as_str(),
            format!("{}oauth2/userinfo", dev.url())
        );
        assert_eq!(dev.api_url().as_str(), format!("{}api/", dev.url()));

        // alice is only the default when no user is configured.
        let mut form = vec![
            ("response_type", "code"),
            ("client_id", ID),
            ("redirect_uri", REDIRECT),
            ("decision", "approve"),
            ("user", "alice"),
        ];
        let response = http()
            .post(dev.authorize_url().as_str())
            .send_form(&form)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(location(&response).is_none());

        form.pop();
        form.push(("user", "carol"));
        let response = http()
            .post(dev.authorize_url().as_str())
            .send_form(&form)
            .await
            .unwrap();
        let to = location(&response).expect("a Location");
        assert_eq!(param(&to, "state"), None);
        let code = param(&to, "code").expect("a code");
        let (status, body) = exchange(&dev, &code, &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = userinfo(&dev, body["access_token"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({
                "sub": "dev-carol",
                "name": "Carol",
                "preferred_username": "carol",
                "email": "c@x.test",
                "email_verified": false,
            })
        );

        let mut home = http().get(dev.url().as_str()).send().await.unwrap();
        assert_eq!(home.status(), StatusCode::OK);
        let home = home.body().await.unwrap();
        assert!(String::from_utf8_lossy(&home).contains("/oauth2/token"));
    }

    #[actix_rt::test]
    async fn wrong_client_credentials_are_invalid_client() {
        let dev = start(DevProvider::builder());
        let code = code(&dev, &[]).await;
        let base = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", REDIRECT),
        ];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut form = base.to_vec();
            form.extend_from_slice(extra);
            form
        };
        let attempts: [&[(&str, &str)]; 4] = [
            &[("client_id", ID), ("client_secret", "wrong")],
            &[("client_id", "nobody"), ("client_secret", SECRET)],
            &[("client_id", ID)],
            &[],
        ];
        for attempt in attempts {
            let mut response = http()
                .post(dev.token_url().as_str())
                .send_form(&with(attempt))
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            assert!(response.headers().get(header::WWW_AUTHENTICATE).is_none());
            let body: Value = response.json().await.unwrap();
            assert_eq!(error(&body), "invalid_client");
        }

        let mut response = http()
            .post(dev.token_url().as_str())
            .basic_auth(ID, "wrong")
            .send_form(&base)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            response.headers().get(header::WWW_AUTHENTICATE).unwrap(),
            "Basic realm=\"dev\""
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(error(&body), "invalid_client");

        // The failed attempts did not use the code up.
        let (status, body) = exchange(&dev, &code, &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(dev.token_requests(), 6);
    }

    #[actix_rt::test]
    async fn basic_auth_decodes_reserved_characters() {
        let (id, secret) = ("my app", "a:b+c%");
        let dev = DevProvider::builder()
            .client(id, secret, [REDIRECT])
            .start()
            .unwrap();
        let mut form = vec![
            ("response_type", "code"),
            ("client_id", id),
            ("redirect_uri", REDIRECT),
            ("user", "alice"),
            ("decision", "approve"),
        ];
        let response = http()
            .post(dev.authorize_url().as_str())
            .send_form(&form)
            .await
            .unwrap();
        let code = param(&location(&response).unwrap(), "code").unwrap();
        form = vec![
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ];
        let encode =
            |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let token_url = dev.token_url();
        let basic =
            |user: &str, password: &str| http().post(token_url.as_str()).basic_auth(user, password);

        // Not encoded: the `%` is a broken escape.
        let (status, body) = post_token(basic(id, secret), &form).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::UNAUTHORIZED, "invalid_client")
        );

        // Both Basic and a secret in the body.
        let mut both = form.clone();
        both.push(("client_secret", secret));
        let (status, body) = post_token(basic(&encode(id), &encode(secret)), &both).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::BAD_REQUEST, "invalid_request")
        );

        let (status, body) = post_token(basic(&encode(id), &encode(secret)), &form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    #[actix_rt::test]
    async fn a_reused_code_is_refused_and_revokes_its_tokens() {
        let dev = start(DevProvider::builder());
        let code = code(&dev, &[]).await;
        let (status, first) = exchange(&dev, &code, &[]).await;
        assert_eq!(status, StatusCode::OK, "{first}");
        let access_token = first["access_token"].as_str().unwrap();
        assert_eq!(userinfo(&dev, access_token).await.0, StatusCode::OK);

        let (status, body) = exchange(&dev, &code, &[]).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::BAD_REQUEST, "invalid_grant")
        );

        let (status, body) = userinfo(&dev, access_token).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::UNAUTHORIZED, "invalid_token")
        );
        let refresh = [
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ];
        let (status, body) = token(&dev, &refresh).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::BAD_REQUEST, "invalid_grant")
        );
    }

    #[actix_rt::test]
    async fn the_redirect_uri_must_match_at_the_token_endpoint() {
        let dev = start(DevProvider::builder());
        let code = code(&dev, &[]).await;
        for redirect_uri in [
            "http://app.test/callback",
            "http://app.test/callback?from=dev&",
        ] {
            let form = [
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", redirect_uri),
            ];
            let (status, body) = token(&dev, &form).await;
            assert_eq!(
                (status, error(&body)),
                (StatusCode::BAD_REQUEST, "invalid_grant")
            );
        }
        let form = [("grant_type", "authorization_code"), ("code", &code)];
        let (status, body) = token(&dev, &form).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::BAD_REQUEST, "invalid_grant")
        );
        let (status, body) = exchange(&dev, &code, &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    #[actix_rt::test]
    async fn pkce_is_checked() {
        let dev = start(DevProvider::builder());
        let s256 = [
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ];
        let code = code(&dev, &s256).await;
        let wrong = "x".repeat(43);
        for attempt in [vec![], vec![("code_verifier", wrong.as_str())]] {
            let (status, body) = exchange(&dev, &code, &attempt).await;
            assert_eq!(
                (status, error(&body)),
                (StatusCode::BAD_REQUEST, "invalid_grant")
            );
        }
        let (status, body) = exchange(&dev, &code, &[("code_verifier", VERIFIER)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");

        // Downgrade: a verifier for a code requested without a challenge.
        let code = self::code(&dev, &[]).await;
        let (status, body) = exchange(&dev, &code, &[("code_verifier", VERIFIER)]).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::BAD_REQUEST, "invalid_grant")
        );

        // `plain`, when asked for by name.
        let plain = [
            ("code_challenge", VERIFIER),
            ("code_challenge_method", "plain"),
        ];
        let code = self::code(&dev, &plain).await;
        let (status, body) = exchange(&dev, &code, &[("code_verifier", VERIFIER)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    #[actix_rt::test]
    async fn authorization_request_errors() {
        let dev = start(DevProvider::builder().require_pkce(true));
        let get = |params: Vec<(&str, &str)>| {
            let url = with_query(dev.authorize_url(), &params);
            async move { http().get(url).send().await.expect("authorize request") }
        };
        let base = || {
            vec![
                ("response_type", "code"),
                ("client_id", ID),
                ("redirect_uri", REDIRECT),
                ("state", "s1"),
                ("code_challenge", CHALLENGE),
                ("code_challenge_method", "S256"),
            ]
        };
        let without = |name: &str| {
            let mut params = base();
            params.retain(|(n, _)| *n != name);
            params
        };

        // Untrusted client or redirect URI: a page, never a redirect.
        let mut untrusted = vec![without("client_id"), without("redirect_uri")];
        for (name, value) in [
            ("client_id", "nobody"),
            ("redirect_uri", "http://app.test/callback"),
            ("redirect_uri", "http://APP.test/callback?from=dev"),
            ("redirect_uri", "http://evil.test/"),
        ] {
            let mut params = without(name);
            params.push((name, value));
            untrusted.push(params);
        }
        let mut repeated = base();
        repeated.push(("client_id", ID));
        untrusted.push(repeated);
        for params in untrusted {
            let mut response = get(params.clone()).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{params:?}");
            assert!(location(&response).is_none());
            let page = response.body().await.unwrap();
            assert!(String::from_utf8_lossy(&page).contains("Bad authorization request"));
        }

        // Trusted redirect URI: the error goes back to the client.
        let mut cases = vec![
            (without("response_type"), "invalid_request"),
            (without("code_challenge"), "invalid_request"),
            (without("code_challenge_method"), "invalid_request"),
        ];
        for (name, value, expected) in [
            ("response_type", "token", "unsupported_response_type"),
            ("code_challenge_method", "S512", "invalid_request"),
            ("code_challenge", "short", "invalid_request"),
            ("scope", "bad\"scope", "invalid_scope"),
        ] {
            let mut params = without(name);
            params.push((name, value));
            cases.push((params, expected));
        }
        let mut no_pkce = without("code_challenge");
        no_pkce.retain(|(n, _)| *n != "code_challenge_method");
        cases.push((no_pkce, "invalid_request"));
        for (params, expected) in cases {
            let response = get(params.clone()).await;
            assert_eq!(response.status(), StatusCode::FOUND, "{params:?}");
            let to = location(&response).unwrap();
            assert_eq!(param(&to, "error").as_deref(), Some(expected), "{params:?}");
            assert_eq!(param(&to, "state").as_deref(), Some("s1"));
            assert_eq!(param(&to, "from").as_deref(), Some("dev"));
            assert!(param(&to, "error_description").is_some());
            assert_eq!(param(&to, "iss").as_deref(), Some(dev.issuer()));
            assert!(param(&to, "code").is_none());
        }
    }

    #[actix_rt::test]
    async fn an_expired_code_is_refused() {
        let dev = start(DevProvider::builder().code_lifetime(Duration::from_millis(50)));
        let code = code(&dev, &[]).await;
        actix_rt::time::sleep(Duration::from_millis(120)).await;
        let (status, body) = exchange(&dev, &code, &[]).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::BAD_REQUEST, "invalid_grant")
        );
        assert!(body["error_description"]
            .as_str()
            .unwrap()
            .contains("expired"));
    }

    #[actix_rt::test]
    async fn an_expired_access_token_is_refused() {
        let dev = start(DevProvider::builder().token_lifetime(Duration::from_millis(50)));
        let (status, body) = token(&dev, &[("grant_type", "client_credentials")]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["expires_in"], 0);
        actix_rt::time::sleep(Duration::from_millis(120)).await;
        let (status, body) = userinfo(&dev, body["access_token"].as_str().unwrap()).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::UNAUTHORIZED, "invalid_token")
        );
    }

    #[actix_rt::test]
    async fn deny_redirects_with_access_denied() {
        let dev = start(DevProvider::builder());
        let to = decide(&dev, "deny", &[]).await;
        assert_eq!(param(&to, "error").as_deref(), Some("access_denied"));
        assert_eq!(param(&to, "state").as_deref(), Some("xyz"));
        assert_eq!(param(&to, "from").as_deref(), Some("dev"));
        assert_eq!(param(&to, "iss").as_deref(), Some(dev.issuer()));
        assert_eq!(param(&to, "code"), None);
    }

    #[actix_rt::test]
    async fn refresh_tokens_rotate() {
        let dev = start(DevProvider::builder());
        let code = code(&dev, &[]).await;
        let (_, first) = exchange(&dev, &code, &[]).await;
        let old_refresh = first["refresh_token"].as_str().unwrap();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", old_refresh),
            ("scope", "profile"),
        ];
        let (status, second) = token(&dev, &form).await;
        assert_eq!(status, StatusCode::OK, "{second}");
        assert_eq!(second["scope"], "profile");
        let new_refresh = second["refresh_token"].as_str().unwrap();
        assert_ne!(new_refresh, old_refresh);
        assert_ne!(second["access_token"], first["access_token"]);
        let (status, body) = userinfo(&dev, second["access_token"].as_str().unwrap()).await;
        assert_eq!((status, body), (StatusCode::OK, alice()));

        // The new one keeps the original scope, and cannot widen it.
        let wider = [
            ("grant_type", "refresh_token"),
            ("refresh_token", new_refresh),
            ("scope", "profile admin"),
        ];
        let (status, body) = token(&dev, &wider).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::BAD_REQUEST, "invalid_scope")
        );
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", new_refresh),
        ];
        let (status, third) = token(&dev, &form).await;
        assert_eq!(status, StatusCode::OK, "{third}");
        assert_eq!(third["scope"], "profile email");
        assert_eq!((dev.refreshes(), dev.refresh_reuses()), (2, 0));

        // A spent refresh token presented again revokes the whole grant: the newest tokens too.
        let (status, body) = token(&dev, &form).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::BAD_REQUEST, "invalid_grant")
        );
        assert_eq!((dev.refreshes(), dev.refresh_reuses()), (2, 1));
        let (status, _) = userinfo(&dev, third["access_token"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let newest = [
            ("grant_type", "refresh_token"),
            ("refresh_token", third["refresh_token"].as_str().unwrap()),
        ];
        let (status, body) = token(&dev, &newest).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::BAD_REQUEST, "invalid_grant")
        );
    }

    #[actix_rt::test]
    async fn client_credentials_issue_an_app_token() {
        let dev = start(DevProvider::builder());
        let form = [("grant_type", "client_credentials"), ("scope", "stats")];
        let (status, body) = token(&dev, &form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["scope"], "stats");
        assert!(body.get("refresh_token").is_none());
        let (status, info) = userinfo(&dev, body["access_token"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(info, json!({ "sub": "client:app", "client_id": "app" }));
    }

    #[actix_rt::test]
    async fn malformed_token_requests() {
        let dev = start(DevProvider::builder());
        let cases: [(&[(&str, &str)], &str); 5] = [
            (&[("grant_type", "password")], "unsupported_grant_type"),
            (&[], "invalid_request"),
            (&[("grant_type", "authorization_code")], "invalid_request"),
            (
                &[
                    ("grant_type", "authorization_code"),
                    ("grant_type", "client_credentials"),
                ],
                "invalid_request",
            ),
            (
                &[
                    ("grant_type", "authorization_code"),
                    ("code", "nope"),
                    ("redirect_uri", REDIRECT),
                ],
                "invalid_grant",
            ),
        ];
        for (form, expected) in cases {
            let (status, body) = token(&dev, form).await;
            assert_eq!(
                (status, error(&body)),
                (StatusCode::BAD_REQUEST, expected),
                "{form:?}"
            );
        }

        let mut response = http()
            .post(dev.token_url().as_str())
            .send_json(&json!({ "grant_type": "client_credentials" }))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            error(&response.json::<Value>().await.unwrap()),
            "invalid_request"
        );

        let response = http()
            .post(dev.token_url().as_str())
            .content_type("application/x-www-form-urlencoded")
            .send_body(&b"grant_type=client_credentials&client_id=app&client_secret=%zz\xff"[..])
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

        let response = http().get(dev.token_url().as_str()).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(dev.token_requests(), cases.len() + 3);

        for bearer in [None, Some("nope")] {
            let (status, body) = get_json(dev.userinfo_url().as_str(), bearer).await;
            assert_eq!(
                (status, error(&body)),
                (StatusCode::UNAUTHORIZED, "invalid_token")
            );
        }
    }

    /// The claims of a compact JWS, unverified (the integration tests verify signatures).
    fn claims(jwt: &str) -> Value {
        use base64::Engine as _;
        let payload = jwt.split('.').nth(1).expect("a JWS");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON claims")
    }

    fn header(jwt: &str) -> Value {
        use base64::Engine as _;
        let header = jwt.split('.').next().expect("a JWS");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .expect("base64url");
        serde_json::from_slice(&bytes).expect("JSON header")
    }

    #[actix_rt::test]
    async fn discovery_names_the_issuer_and_endpoints() {
        let dev = start(DevProvider::builder().id_token_algorithm(DevAlgorithm::Es256));
        let issuer = dev.issuer().to_owned();
        assert!(issuer.starts_with("http://127.0.0.1:") && !issuer.ends_with('/'));
        assert_eq!(format!("{issuer}/"), dev.url().as_str());
        assert_eq!(
            dev.discovery_url().as_str(),
            format!("{issuer}/.well-known/openid-configuration")
        );
        let (status, doc) = get_json(dev.discovery_url().as_str(), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(doc["issuer"], issuer);
        assert_eq!(doc["authorization_endpoint"], dev.authorize_url().as_str());
        assert_eq!(doc["token_endpoint"], dev.token_url().as_str());
        assert_eq!(doc["userinfo_endpoint"], dev.userinfo_url().as_str());
        assert_eq!(doc["jwks_uri"], dev.jwks_url().as_str());
        assert_eq!(doc["response_types_supported"], json!(["code"]));
        assert_eq!(doc["subject_types_supported"], json!(["public"]));
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            json!(["ES256"])
        );
        assert_eq!(doc["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(
            doc["token_endpoint_auth_methods_supported"],
            json!([
                "client_secret_basic",
                "client_secret_post",
                "client_secret_jwt",
                "private_key_jwt",
                "none"
            ])
        );
        assert_eq!(
            doc["response_modes_supported"],
            json!(["query", "form_post"])
        );
        assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
        for scope in ["openid", "profile", "email"] {
            assert!(doc["scopes_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(scope)));
        }
        for claim in ["sub", "nonce", "email_verified", "picture"] {
            assert!(doc["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&json!(claim)));
        }
        assert_eq!(dev.discovery_requests(), 1);
    }

    #[actix_rt::test]
    async fn jwks_publishes_current_and_previous_keys() {
        let dev = start(DevProvider::builder());
        assert_eq!(dev.id_token_algorithm(), DevAlgorithm::Rs256);
        let kids = |jwks: &Value| -> Vec<String> {
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_owned())
                .collect()
        };
        let first = dev.signing_key_id();
        let (status, jwks) = get_json(dev.jwks_url().as_str(), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(kids(&jwks), vec![first.clone()]);
        let key = &jwks["keys"][0];
        assert_eq!(
            (&key["kty"], &key["alg"], &key["use"]),
            (&json!("RSA"), &json!("RS256"), &json!("sig"))
        );
        assert!(
            key.get("d").is_none() && key.get("p").is_none(),
            "public only"
        );

        let second = dev.rotate_signing_key().expect("a new key");
        assert_ne!(second, first);
        assert_eq!(dev.signing_key_id(), second);
        let (_, jwks) = get_json(dev.jwks_url().as_str(), None).await;
        assert_eq!(kids(&jwks), [second.clone(), first]);

        dev.drop_old_keys();
        let (_, jwks) = get_json(dev.jwks_url().as_str(), None).await;
        assert_eq!(kids(&jwks), [second]);
        assert_eq!(dev.jwks_requests(), 3);
    }

    #[actix_rt::test]
    async fn openid_scope_brings_an_id_token_with_the_nonce() {
        let dev = start(
            DevProvider::builder()
                .id_token_algorithm(DevAlgorithm::Es256)
                .user(
                    DevUser::new("alice")
                        .name("Alice Example")
                        .picture("http://img.test/alice.png"),
                ),
        );
        let before = super::oidc::unix_now();
        let code = code(
            &dev,
            &[("scope", "openid email"), ("nonce", "n-0S6_WzA2Mj")],
        )
        .await;
        let (status, body) = exchange(&dev, &code, &[]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id_token = body["id_token"].as_str().expect("an id_token");
        let header = header(id_token);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], dev.signing_key_id());
        let claims = claims(id_token);
        assert_eq!(claims["iss"], dev.issuer());
        assert_eq!(claims["sub"], "dev-alice");
        assert_eq!(claims["aud"], ID);
        assert_eq!(claims["azp"], ID);
        assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
        assert_eq!(claims["email"], "alice@example.test");
        assert_eq!(claims["email_verified"], true);
        assert!(claims.get("name").is_none(), "no profile scope");
        assert!(claims.get("picture").is_none(), "no profile scope");
        let iat = claims["iat"].as_u64().unwrap();
        assert!(iat >= before && iat <= super::oidc::unix_now());
        assert_eq!(claims["exp"].as_u64().unwrap(), iat + 3600);
        assert!(claims["auth_time"].as_u64().unwrap() <= iat);

        // at_hash: the left half of the access token's SHA-256 (OpenID Connect Core §3.1.3.6).
        {
            use base64::Engine as _;
            use sha2::Digest as _;
            let digest = sha2::Sha256::digest(body["access_token"].as_str().unwrap());
            let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
            assert_eq!(claims["at_hash"], expected);
        }

        // The userinfo endpoint agrees on `sub`.
        let (status, info) = userinfo(&dev, body["access_token"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(info["sub"], claims["sub"]);
        assert_eq!(info["picture"], "http://img.test/alice.png");

        // A refresh keeps `auth_time`, drops the nonce, and follows the narrowed scope.
        let refresh = [
            ("grant_type", "refresh_token"),
            ("refresh_token", body["refresh_token"].as_str().unwrap()),
        ];
        let (status, refreshed) = token(&dev, &refresh).await;
        assert_eq!(status, StatusCode::OK, "{refreshed}");
        let again = self::claims(refreshed["id_token"].as_str().expect("an id_token"));
        assert_eq!(again["auth_time"], claims["auth_time"]);
        assert_eq!(again["sub"], claims["sub"]);
        assert!(again.get("nonce").is_none());
        let narrowed = [
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                refreshed["refresh_token"].as_str().unwrap(),
            ),
            ("scope", "email"),
        ];
        let (status, narrowed) = token(&dev, &narrowed).await;
        assert_eq!(status, StatusCode::OK, "{narrowed}");
        assert!(narrowed.get("id_token").is_none());

        // Profile claims, and no nonce when none was sent.
        let code = self::code(&dev, &[("scope", "openid profile")]).await;
        let (_, body) = exchange(&dev, &code, &[]).await;
        let claims = self::claims(body["id_token"].as_str().expect("an id_token"));
        assert_eq!(claims["name"], "Alice Example");
        assert_eq!(claims["preferred_username"], "alice");
        assert_eq!(claims["picture"], "http://img.test/alice.png");
        assert!(claims.get("email").is_none() && claims.get("nonce").is_none());

        // Client credentials never carry an id_token: there is no user.
        let (status, body) = token(
            &dev,
            &[("grant_type", "client_credentials"), ("scope", "openid")],
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body.get("id_token").is_none());
    }

    #[actix_rt::test]
    async fn a_repeated_nonce_is_refused() {
        let dev = start(DevProvider::builder());
        let form = [
            ("response_type", "code"),
            ("client_id", ID),
            ("redirect_uri", REDIRECT),
            ("state", "s"),
            ("scope", "openid"),
            ("nonce", "a"),
            ("nonce", "b"),
        ];
        let response = http()
            .get(with_query(dev.authorize_url(), &form))
            .send()
            .await
            .expect("authorize request");
        assert_eq!(response.status(), StatusCode::FOUND);
        let to = location(&response).expect("a Location");
        assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"));
        assert_eq!(param(&to, "iss").as_deref(), Some(dev.issuer()));
    }

    #[actix_rt::test]
    async fn jwks_caching_headers_and_outage_are_switches() {
        let dev = start(DevProvider::builder().id_token_algorithm(DevAlgorithm::Es256));
        let cache_control = || async {
            let response = http().get(dev.jwks_url().as_str()).send().await;
            let response = response.expect("JWKS request");
            let value = response.headers().get(header::CACHE_CONTROL).cloned();
            (response.status(), value.expect("a Cache-Control"))
        };
        assert_eq!(
            cache_control().await,
            (StatusCode::OK, "public, max-age=300".parse().unwrap())
        );
        dev.set_jwks_cache_control("no-store")
            .expect("a header value");
        assert_eq!(cache_control().await.1, "no-store");
        assert!(dev.set_jwks_cache_control("max-age=1\r\nx: y").is_err());
        assert_eq!(cache_control().await.1, "no-store", "unchanged");
        dev.set_jwks_unavailable(true);
        assert_eq!(cache_control().await.0, StatusCode::SERVICE_UNAVAILABLE);
        dev.set_jwks_unavailable(false);
        assert_eq!(cache_control().await.0, StatusCode::OK);
        assert_eq!(dev.jwks_requests(), 5);
    }

    #[actix_rt::test]
    async fn faults_break_one_thing() {
        let dev = start(DevProvider::builder().id_token_algorithm(DevAlgorithm::Es256));
        let id_token = |nonce: &'static str| {
            let dev = &dev;
            async move {
                let code = code(dev, &[("scope", "openid"), ("nonce", nonce)]).await;
                let (status, body) = exchange(dev, &code, &[]).await;
                assert_eq!(status, StatusCode::OK, "{body}");
                body["id_token"].as_str().expect("an id_token").to_owned()
            }
        };
        let good = id_token("n1").await;
        let (good_header, good_claims) = (header(&good), claims(&good));
        let now = super::oidc::unix_now();

        let cases = [
            IdTokenFault::WrongAudience,
            IdTokenFault::Expired,
            IdTokenFault::BadSignature,
            IdTokenFault::WrongNonce,
            IdTokenFault::MissingNonce,
            IdTokenFault::WrongIssuer,
            IdTokenFault::UnknownKid,
            IdTokenFault::AlgNone,
            IdTokenFault::IssuedInFuture,
        ];
        for fault in cases {
            dev.set_id_token_fault(Some(fault));
            assert_eq!(dev.id_token_fault(), Some(fault));
            let token = id_token("n1").await;
            let (header, claims) = (header(&token), claims(&token));
            let signature = token.rsplit('.').next().unwrap();
            match fault {
                IdTokenFault::WrongAudience => {
                    assert_eq!(
                        (&claims["aud"], &claims["azp"]),
                        (&json!("dev-other-client"), &json!("dev-other-client"))
                    );
                }
                IdTokenFault::Expired => {
                    assert!(claims["exp"].as_u64().unwrap() + 3600 < now);
                    assert!(claims["iat"].as_u64().unwrap() < claims["exp"].as_u64().unwrap());
                }
                IdTokenFault::BadSignature => {
                    assert_eq!(header, good_header);
                    assert!(!signature.is_empty());
                }
                IdTokenFault::WrongNonce => {
                    assert!(claims["nonce"].is_string());
                    assert_ne!(claims["nonce"], "n1");
                }
                IdTokenFault::MissingNonce => assert!(claims.get("nonce").is_none()),
                IdTokenFault::WrongIssuer => {
                    assert_eq!(claims["iss"], format!("{}/", dev.issuer()));
                }
                IdTokenFault::UnknownKid => {
                    assert_ne!(header["kid"], good_header["kid"]);
                    assert_eq!(header["alg"], "ES256");
                    let (_, jwks) = get_json(dev.jwks_url().as_str(), None).await;
                    assert!(!jwks.to_string().contains(header["kid"].as_str().unwrap()));
                }
                IdTokenFault::AlgNone => {
                    assert_eq!(header["alg"], "none");
                    assert_eq!(header["kid"], good_header["kid"]);
                    assert!(signature.is_empty());
                }
                IdTokenFault::IssuedInFuture => {
                    assert!(claims["iat"].as_u64().unwrap() >= now + 3600);
                }
                // Needs a withdrawn key: checked below.
                _ => unreachable!("{fault:?} is not among the cases"),
            }
            // Nothing else changed.
            for claim in ["sub", "iss", "aud", "nonce"] {
                let changed = matches!(
                    (fault, claim),
                    (IdTokenFault::WrongAudience, "aud")
                        | (IdTokenFault::WrongIssuer, "iss")
                        | (
                            IdTokenFault::WrongNonce | IdTokenFault::MissingNonce,
                            "nonce"
                        )
                );
                assert_eq!(
                    claims[claim] == good_claims[claim],
                    !changed,
                    "{fault:?} {claim}"
                );
            }
        }
        dev.set_id_token_fault(None);
        let token = id_token("n2").await;
        assert_eq!(header(&token), good_header);
        assert_eq!(claims(&token)["nonce"], "n2");

        // Signed by the key taken out of the JWKS, under its own kid; none withdrawn yet: refused.
        dev.set_id_token_fault(Some(IdTokenFault::WithdrawnKey));
        let code_now = code(&dev, &[("scope", "openid"), ("nonce", "n3")]).await;
        let (status, body) = exchange(&dev, &code_now, &[]).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
        assert_eq!(body["error"], "server_error");
        let old = dev.signing_key_id();
        dev.rotate_signing_key().expect("a new key");
        dev.drop_old_keys();
        let token = id_token("n4").await;
        assert_eq!(header(&token)["kid"], old.as_str());
        assert_eq!(claims(&token)["nonce"], "n4");
        let (_, jwks) = get_json(dev.jwks_url().as_str(), None).await;
        assert!(!jwks.to_string().contains(&old), "withdrawn: {jwks}");
    }

    #[test]
    fn starts_and_stops_from_sync_code_and_redacts_secrets() {
        let builder = DevProvider::builder().client(ID, "hunter2-secret", [REDIRECT]);
        let debug = format!("{builder:?}");
        assert!(
            debug.contains("[redacted]") && !debug.contains("hunter2"),
            "{debug}"
        );
        let dev = builder.start().expect("the provider starts");
        let debug = format!("{dev:?}");
        assert!(
            debug.contains("[redacted]") && !debug.contains("hunter2"),
            "{debug}"
        );

        let addr = dev
            .url()
            .socket_addrs(|| None)
            .expect("an address")
            .remove(0);
        std::net::TcpStream::connect(addr).expect("the provider listens");
        drop(dev);
        assert!(
            std::net::TcpStream::connect(addr).is_err(),
            "stopped on drop"
        );
    }

    #[test]
    fn only_loopback_addresses_are_bound() {
        use std::net::{IpAddr, SocketAddr};
        for ip in ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(super::is_loopback(ip), "{ip}");
        }
        for ip in [
            "0.0.0.0",
            "::",
            "10.0.0.1",
            "192.168.1.2",
            "128.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:0.0.0.0",
            "fe80::1",
            "::2",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(!super::is_loopback(ip), "{ip}");
            let error = DevProvider::builder()
                .client(ID, SECRET, [REDIRECT])
                .bind(SocketAddr::new(ip, 0))
                .start()
                .expect_err("refused");
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput, "{ip}");
            assert!(error.to_string().contains("loopback"), "{error}");
        }
    }

    #[test]
    fn bad_redirect_uris_are_refused_at_start() {
        for uri in ["/relative", "http://app.test/cb#fragment"] {
            let error = DevProvider::builder()
                .client(ID, SECRET, [uri])
                .start()
                .expect_err("refused");
            assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        }
    }
}
