//! The app under load, shared by the `bench_server` example and `tests/load.rs`: the crate's
//! sign-in with the development provider, and the floor it is measured against.
//!
//! | route | what |
//! |---|---|
//! | `GET /floor` | the floor: inserts one session value (the size of a pending handshake) and redirects |
//! | `GET /auth/{provider}` | [`OAuthExtension::authorize`]: state, PKCE, the session, the redirect |
//! | `GET /auth/dev/callback` | the handshake completed by [`OAuthMiddleware`], then the user info call |
//! | `GET /me` | `{"user": "<username>"}` of the signed-in user, or `401` |
//!
//! Build the app as `App::new().app_data(oauth).wrap(OAuthMiddleware::new())
//! .wrap(session_middleware(store, key)).configure(routes)`.

use std::{io, net::SocketAddr, sync::LazyLock};

use actix_oauth::{
    providers::Dev, AuthorizedResponse, OAuth, OAuthError, OAuthExtension, RemoteApp,
};
use actix_oauth_dev::{DevProvider, DevUser};
use actix_session::{
    config::{BrowserSession, CookieContentSecurity},
    storage::SessionStore,
    Session, SessionMiddleware,
};
use actix_web::{
    cookie::{time, Key},
    http::header::{CACHE_CONTROL, LOCATION},
    web, HttpRequest, HttpResponse,
};
use serde_json::{json, Value};
use url::Url;

/// The client the app is registered as at the development provider.
pub const CLIENT_ID: &str = "bench";
/// Its secret.
pub const CLIENT_SECRET: &str = "bench-secret";
/// Where the callback sends the browser after sign-in.
pub const NEXT: &str = "/me";
/// The session key of the signed-in user.
const USER: &str = "user";

/// The username of the `i`-th development user (`user0`, `user1`, …).
pub fn username(i: usize) -> String {
    format!("user{i}")
}

/// Starts the development provider on `bind` with `users` users and the app's `callback`.
pub fn dev_provider(bind: SocketAddr, callback: &str, users: usize) -> io::Result<DevProvider> {
    let mut builder =
        DevProvider::builder()
            .bind(bind)
            .client(CLIENT_ID, CLIENT_SECRET, [callback.to_owned()]);
    for i in 0..users.max(1) {
        builder = builder.user(DevUser::new(username(i)));
    }
    builder.start()
}

/// The OAuth registry: one remote app, `dev`, at the development provider served at `provider`
/// (its base URL), for an app served at `public_url`.
pub fn oauth(provider: &Url, public_url: &str) -> Result<OAuthExtension, OAuthError> {
    let endpoint = |path: &str| {
        provider
            .join(path)
            .map(String::from)
            .map_err(|e| OAuthError::Configuration(format!("provider URL: {e}")))
    };
    OAuth::new()
        .public_url(public_url)
        .remote_app(
            RemoteApp::builder("dev")
                .authorize_url(endpoint("oauth2/authorize")?)
                .access_token_url(endpoint("oauth2/token")?)
                .userinfo_url(endpoint("oauth2/userinfo")?)
                .base_url(endpoint("api/")?)
                .consumer_key(CLIENT_ID)
                .consumer_secret(CLIENT_SECRET)
                .scope(["profile", "email"]),
        )
        .build()
}

/// The same remote app as an OpenID Connect client of the provider's issuer: discovery, the
/// JWKS, and each sign-in's RS256 ID token validated (what the hand-written peer does).
pub fn oauth_oidc(issuer: &str, public_url: &str) -> Result<OAuthExtension, OAuthError> {
    OAuth::new()
        .public_url(public_url)
        .remote_app(
            RemoteApp::builder("dev")
                .issuer(issuer)
                .consumer_key(CLIENT_ID)
                .consumer_secret(CLIENT_SECRET)
                .scope(["openid", "profile", "email"]),
        )
        .build()
}

/// The session middleware both the floor and the sign-in run under: signed and encrypted
/// cookies, and a state that lives 15 minutes (so that a load run leaves nothing behind in
/// Redis for long).
pub fn session_middleware<S: SessionStore>(store: S, key: Key) -> SessionMiddleware<S> {
    SessionMiddleware::builder(store, key)
        .cookie_secure(false)
        .cookie_content_security(CookieContentSecurity::Private)
        .session_lifecycle(BrowserSession::default().state_ttl(time::Duration::minutes(15)))
        .build()
}

/// The routes; see the module documentation.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // actix tries routes in the order they are registered: the sign-in comes right after the
    // floor, so that it pays for one failed static match at most, and the same-route floor
    // last (it pays for the sign-in's failed pattern match too, and reads as a lower bound).
    cfg.route("/floor", web::get().to(floor))
        .route("/auth/{provider}", web::get().to(login))
        .route("/floor/{provider}", web::get().to(floor_routed))
        .route("/auth/dev/callback", web::get().to(callback))
        .route("/me", web::get().to(me));
}

/// What the floor keeps: a value as long as the pending handshake the sign-in keeps (a list
/// of one `{provider, state, verifier, redirect URI, next, time}`), so that both write session
/// cookies of about the same size.
static FLOOR_VALUE: LazyLock<String> =
    LazyLock::new(|| "0123456789abcdef".repeat(11) + "0123456789ab");

/// Where the floor redirects: an authorization URL of the usual length.
const FLOOR_LOCATION: &str = "http://127.0.0.1:1/oauth2/authorize?response_type=code\
    &client_id=bench&state=Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8\
    &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256\
    &redirect_uri=http%3A%2F%2F127.0.0.1%3A8090%2Fauth%2Fdev%2Fcallback&scope=profile+email";

/// `GET /floor`: one session value and a redirect, nothing else.
async fn floor(session: Session) -> actix_web::Result<HttpResponse> {
    session
        .insert("floor", FLOOR_VALUE.as_str())
        .map_err(actix_web::error::ErrorInternalServerError)?;
    Ok(HttpResponse::Found()
        .insert_header((LOCATION, FLOOR_LOCATION))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish())
}

/// `GET /floor/{provider}`: the floor on the sign-in's route shape — the same path parameter
/// extracted — so that the difference left is the crate's work alone.
async fn floor_routed(
    session: Session,
    provider: web::Path<String>,
) -> actix_web::Result<HttpResponse> {
    std::hint::black_box(provider.as_str());
    floor(session).await
}

/// `GET /auth/{provider}`: the crate's authorization redirect.
async fn login(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    oauth.authorize(&req, &provider, Some(NEXT)).await
}

/// `GET /auth/dev/callback`: the handshake is complete; the user info names the user.
async fn callback(
    resp: Option<AuthorizedResponse<Dev>>,
    oauth: OAuthExtension,
    session: Session,
) -> Result<HttpResponse, OAuthError> {
    let Some(resp) = resp else {
        return Ok(HttpResponse::Forbidden().body("You declined the sign-in."));
    };
    let info = oauth.userinfo("dev", resp.token()).await?;
    let user = info
        .get("preferred_username")
        .and_then(Value::as_str)
        .ok_or_else(|| OAuthError::TokenMissing("preferred_username".to_owned()))?;
    session
        .insert(USER, user)
        .map_err(|e| OAuthError::Session(e.to_string()))?;
    Ok(resp.redirect_next())
}

/// `GET /me`: who this session signed in as.
async fn me(session: Session) -> HttpResponse {
    match session.get::<String>(USER) {
        Ok(Some(user)) => HttpResponse::Ok().json(json!({ "user": user })),
        _ => HttpResponse::Unauthorized().json(json!({ "error": "not_signed_in" })),
    }
}
