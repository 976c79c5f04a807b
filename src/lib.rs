//! # actix-oauth
//!
//! "Sign in with GitHub / Google / any OAuth 2 provider" for actix-web 4, and calling that
//! provider's API on the user's behalf: the Rust counterpart of Flask-OAuth, safe by default.
//!
//! - An [`OAuth`] builder holds named [`RemoteApp`]s and builds an [`OAuthExtension`] that you
//!   register with `App::app_data`.
//! - [`OAuthExtension::authorize`] answers the redirect to the provider; `state` (256 bits, single
//!   use, bound to the session) and the PKCE S256 verifier stay in the actix-session.
//! - [`OAuthMiddleware`] completes the handshake on the callback path before your handler runs;
//!   the handler takes [`AuthorizedResponse<P>`](AuthorizedResponse) for a [`Provider`] marker
//!   type (`Option<…>` is `None` when the user declined).
//! - OpenID Connect (feature `oidc`, on by default): [`RemoteAppBuilder::issuer`] turns on
//!   discovery, the JWKS cache, `id_token` validation with `nonce`, and the RFC 9207 `iss` check
//!   (see [`oidc`]).
//! - The rest of the modern profile, each one setting: `form_post` callbacks without weakening
//!   the session cookie ([`ResponseMode::FormPost`]), JWT client authentication
//!   ([`ClientAuth::PrivateKeyJwt`], [`ClientAuth::ClientSecretJwt`]), pushed authorization
//!   requests ([`RemoteAppBuilder::par`]), and step-up ([`SignInOptions`], [`RequireFreshSignIn`]).
//! - DPoP (RFC 9449, feature `dpop`, on by default): [`RemoteAppBuilder::dpop`] binds each
//!   sign-in's tokens to a key kept server-side with them (`DpopKey`), with proofs on every
//!   token request and API call.
//! - [`OAuthExtension::profile`] normalizes any provider's user into a [`Profile`] through the
//!   remote app's [`ProfileMap`]; [`providers`] has thirty-one presets with their quirks as data.
//! - Command-line tools and devices without a browser sign in with the device authorization
//!   grant (RFC 8628): [`OAuthExtension::device_authorization`], then
//!   [`OAuthExtension::device_token`], plain async functions outside any request.
//! - Every failure is an [`OAuthError`] with a stable [`ErrorKind`], rendered as a short page.
//! - The [`actix-oauth-dev`] crate (a separate dev-dependency) runs a strict local OAuth 2 /
//!   OpenID Connect / OAuth 1.0a provider for development and tests, no network, no accounts;
//!   its binary lets apps in any language sign in offline.
//!
//! [`actix-oauth-dev`]: https://docs.rs/actix-oauth-dev
//!
//! ## Getting started
//!
//! ```no_run
//! use actix_oauth::{providers::GitHub, AuthorizedResponse, OAuth, OAuthExtension, OAuthMiddleware, RemoteApp};
//! use actix_session::{storage::CookieSessionStore, SessionMiddleware};
//! use actix_web::{cookie::Key, get, web, App, HttpRequest, HttpResponse, HttpServer};
//!
//! #[get("/auth/github")]
//! async fn login(req: HttpRequest, oauth: OAuthExtension) -> Result<HttpResponse, actix_oauth::OAuthError> {
//!     oauth.authorize(&req, "github", Some("/")).await
//! }
//!
//! #[get("/auth/github/callback")]
//! async fn callback(resp: Option<AuthorizedResponse<GitHub>>) -> HttpResponse {
//!     match resp {
//!         Some(resp) => resp.redirect_next(),
//!         None => HttpResponse::Forbidden().body("You declined the sign-in."),
//!     }
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let oauth = OAuth::new()
//!         .remote_app(RemoteApp::from_provider::<GitHub>("client-id", "client-secret"))
//!         .public_url("http://127.0.0.1:8080")
//!         .build()
//!         .expect("valid OAuth configuration");
//!     let key = Key::generate();
//!     HttpServer::new(move || {
//!         App::new()
//!             .app_data(oauth.clone())
//!             .wrap(OAuthMiddleware::new())
//!             .wrap(SessionMiddleware::new(CookieSessionStore::default(), key.clone()))
//!             .service(login)
//!             .service(callback)
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! The session middleware needs actix-session's `cookie-session` feature (or another store).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

#[cfg(feature = "oidc")]
mod backchannel;
mod builder;
mod callback_query;
mod client;
#[cfg(feature = "private-key-jwt")]
mod client_key;
mod credentials;
pub mod defaults;
mod device;
mod dpop;
mod error;
mod extension;
mod extract;
mod form_post;
mod handshake;
mod logout;
pub mod middleware;
pub mod oauth1;
mod oauth2;
#[cfg(feature = "oidc")]
pub mod oidc;
mod profile;
mod protocol;
mod provider;
pub mod providers;
mod remote_app;
mod replay;
mod response;
mod revocation;
mod session;
pub mod session_store;
mod session_tokens;
mod step_up;
mod token;
mod token_cache;
pub mod token_store;
mod transport;
mod urls;
mod userinfo;
mod wire;

#[cfg(feature = "accounts")]
pub mod accounts;

#[cfg(feature = "internals")]
#[doc(hidden)]
pub mod internals;

#[cfg(feature = "dpop")]
pub use self::dpop::DpopKey;
pub use self::{
    builder::OAuth,
    client::{RemoteRequest, APP_TOKEN},
    credentials::TokenMethod,
    credentials::UserinfoMethod,
    error::{ErrorKind, IdTokenError, OAuthError},
    extension::{OAuthExt, OAuthExtension},
    extract::AuthorizedResponse,
    middleware::OAuthMiddleware,
    oauth2::{AssertionAudience, ClientAuth, DeviceAuthorization, DevicePoll, ResponseMode},
    profile::{EmailVerified, Profile, ProfileMap},
    provider::{CallbackProvider, Provider},
    remote_app::{RemoteApp, RemoteAppBuilder},
    response::{OAuthResponse, ResponseData, XmlElement},
    revocation::Revocation,
    session_store::{BoundedSessionStore, StoreFaults},
    step_up::{RequireFreshSignIn, SignInOptions},
    token::TokenResponse,
    token_store::{MemoryTokenStore, RefreshClaim, TokenStore},
    transport::AwcHttpClient,
};
#[cfg(feature = "private-key-jwt")]
pub use self::{
    client_key::{ClientKey, SigningAlgorithm},
    oauth2::MintedSecret,
};
/// The `http` crate (1.x) whose types this crate's API takes, e.g. the
/// [`Method`](http::Method) of [`OAuthExtension::request`]: not the older `http` that
/// actix-web 4 re-exports as `actix_web::http`.
pub use ::oauth2::http;
/// Re-exports of the `oauth2` crate's token types used in this crate's API.
pub use ::oauth2::{AccessToken, ClientId, DeviceCode, RefreshToken};

/// The README's examples, compiled as doctests so the quick start stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
