//! The example server: sign in with the built-in development provider, offline.
//!
//! ```text
//! cargo run --example server        # http://127.0.0.1:8080
//! BIND=127.0.0.1:3000 PUBLIC_URL=http://127.0.0.1:3000 cargo run --example server
//! ```
//!
//! Routes: `GET /`, `GET /auth/{provider}?next=/path`, `GET /auth/{provider}/callback`,
//! `GET /me`, `GET|POST /api/{provider}/{path…}`, `POST /unlink`, `POST /logout`,
//! `GET /auth/{provider}/logged-out`, `POST /auth/{provider}/backchannel-logout`, `GET /healthz`.
//! Its pages come from askama templates in `examples/server/templates/`, which escape every value
//! they show.
//!
//! The development provider (`dev`, `dev-oauth1`: sign in as anyone, no password) runs only when
//! no provider is configured, or when asked for with `--dev-provider`,
//! `ACTIX_OAUTH_DEV_PROVIDER=1` or `dev_provider = true` in the TOML file.
//!
//! Accounts live in `DATABASE_URL`, by default the SQLite file `accounts.sqlite3` in the data
//! directory (`--data-dir` / `ACTIX_OAUTH_DATA_DIR`, else `$XDG_DATA_HOME/actix-oauth-example`,
//! else `~/.local/share/actix-oauth-example`), created `0700` with files `0600`. Stored tokens are
//! always encrypted: with `TOKEN_KEY` (32 bytes in base64), else with a key generated once and
//! kept beside the SQLite file (`accounts.sqlite3.key`, `0600`).

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    str::FromStr as _,
};

use actix_oauth::{
    accounts::{
        self, sqlx::sqlite::SqliteConnectOptions, AccountStore as _, SqlStore, TokenKey, UserId,
    },
    providers::Any,
    AuthorizedResponse, BoundedSessionStore, ClientAuth, ClientKey, OAuth, OAuthError,
    OAuthExtension, OAuthMiddleware, RemoteApp, RemoteAppBuilder, ResponseMode, StoreFaults,
};
use actix_oauth_dev::{client_key_pair, DevClientAuth, DevProvider, DevUser};
use actix_session::{
    storage::{CookieSessionStore, RedisSessionStore, SessionStore},
    Session, SessionMiddleware,
};
use actix_web::{
    cookie::Key,
    http::header::{ContentType, LOCATION},
    web, App, HttpRequest, HttpResponse, HttpResponseBuilder, HttpServer,
};
use askama::Template;
use serde::Deserialize;
use serde_json::json;

/// The session key of the signed-in user's id.
const USER_ID: &str = "user_id";
/// The session key of the remote app the user last signed in with (where `POST /logout` ends
/// the provider's session too).
const SIGNED_IN_WITH: &str = "signed_in_with";

fn signed_in(session: &Session) -> Option<UserId> {
    session.get(USER_ID).ok().flatten()
}

/// An HTML response with `page`, rendered from its template (`examples/server/templates/`), which
/// escapes every value it shows. A page that cannot be rendered is a 500 saying so.
fn html(mut response: HttpResponseBuilder, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(body) => response.content_type(ContentType::html()).body(body),
        Err(e) => {
            log::error!("a page could not be rendered: {e}");
            HttpResponse::InternalServerError()
                .content_type(ContentType::plaintext())
                .body("This page could not be rendered.")
        }
    }
}

/// The home page: a message, who is signed in and their identities, and a button per provider
/// to sign in with (signed out) or to link (signed in).
#[derive(Template)]
#[template(path = "home.html", config = "examples/server/askama.toml")]
struct HomePage<'a> {
    /// The `message` the page was sent to show, if any.
    message: Option<&'a str>,
    /// This session's CSRF token, for the forms that change the account.
    csrf: &'a str,
    /// The signed-in user; `None` when signed out.
    user: Option<SignedIn<'a>>,
    /// The names of the providers.
    providers: Vec<&'a str>,
}

/// The signed-in user as the home page shows them.
struct SignedIn<'a> {
    /// The name, else the email, else "you".
    name: &'a str,
    identities: Vec<IdentityRow<'a>>,
}

/// One identity in the home page's list, with the form that unlinks it.
struct IdentityRow<'a> {
    provider: &'a str,
    subject: &'a str,
    /// The handle at the provider, else the subject.
    label: &'a str,
}

/// The page that asks a signed-in user to confirm linking `provider` (a POST, with the CSRF token).
#[derive(Template)]
#[template(path = "link.html", config = "examples/server/askama.toml")]
struct LinkPage<'a> {
    provider: &'a str,
    csrf: &'a str,
}

/// The 404 page for a provider name nothing is configured under.
#[derive(Template)]
#[template(path = "not_found.html", config = "examples/server/askama.toml")]
struct NotFoundPage<'a> {
    provider: &'a str,
}

async fn home(
    req: HttpRequest,
    session: Session,
    oauth: OAuthExtension,
    store: web::Data<SqlStore>,
    query: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuthError> {
    let message = query
        .iter()
        .find(|(k, _)| k == "message")
        .map(|(_, v)| v.as_str());
    let user = match signed_in(&session) {
        Some(id) => store.user(id).await?,
        None => None,
    };
    let identities = match &user {
        Some(user) => store.identities(user.id).await?,
        None => Vec::new(),
    };
    let csrf = oauth.csrf_token(&req)?;
    let user = user.as_ref().map(|user| SignedIn {
        name: user
            .name
            .as_deref()
            .or(user.email.as_deref())
            .unwrap_or("you"),
        identities: identities
            .iter()
            .map(|i| IdentityRow {
                provider: &i.provider,
                subject: &i.subject,
                label: i.username.as_deref().unwrap_or(&i.subject),
            })
            .collect(),
    });
    let page = HomePage {
        message,
        csrf: &csrf,
        user,
        providers: oauth.remote_app_names(),
    };
    Ok(html(HttpResponse::Ok(), &page))
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

fn no_such_provider(provider: &str) -> HttpResponse {
    html(HttpResponse::NotFound(), &NotFoundPage { provider })
}

/// `GET /auth/{provider}`: signs in. For a signed-in user it would *link* a new identity, which
/// a GET must not do (another site could start it): it shows a confirmation form instead.
async fn login(
    req: HttpRequest,
    session: Session,
    oauth: OAuthExtension,
    provider: web::Path<String>,
    query: web::Query<Next>,
) -> Result<HttpResponse, OAuthError> {
    if oauth.remote_app(&provider).is_err() {
        return Ok(no_such_provider(&provider));
    }
    if signed_in(&session).is_some() {
        let csrf = oauth.csrf_token(&req)?;
        let mut response = HttpResponse::Ok();
        response.insert_header(("cache-control", "no-store"));
        return Ok(html(
            response,
            &LinkPage {
                provider: &provider,
                csrf: &csrf,
            },
        ));
    }
    oauth
        .authorize(&req, &provider, query.next.as_deref())
        .await
}

#[derive(Deserialize)]
struct LinkForm {
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

/// `POST /auth/{provider}`: starts linking (or signing in) after checking the CSRF token.
async fn link(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, OAuthError> {
    if oauth.remote_app(&provider).is_err() {
        return Ok(no_such_provider(&provider));
    }
    oauth.verify_csrf(&req, &form.csrf)?;
    oauth.authorize(&req, &provider, form.next.as_deref()).await
}

async fn callback(
    resp: Option<AuthorizedResponse<Any>>,
    oauth: OAuthExtension,
    store: web::Data<SqlStore>,
    session: Session,
) -> Result<HttpResponse, OAuthError> {
    let Some(resp) = resp else {
        return Ok(HttpResponse::SeeOther()
            .insert_header((LOCATION, "/?message=You+declined+the+sign-in."))
            .finish());
    };
    let provider = resp.provider().to_owned();
    let profile = oauth.profile(&provider, resp.token()).await?;
    // The sign-in decision and the identity's tokens in as few writes as the linking rules
    // allow (one for a returning identity).
    let result =
        accounts::sign_in_with_token(store.get_ref(), &profile, signed_in(&session), resp.token())
            .await?;
    session.renew();
    session
        .insert(USER_ID, result.user.id)
        .map_err(|e| OAuthError::Session(e.to_string()))?;
    session
        .insert(SIGNED_IN_WITH, &provider)
        .map_err(|e| OAuthError::Session(e.to_string()))?;
    Ok(resp.redirect_next())
}

async fn me(session: Session, store: web::Data<SqlStore>) -> Result<HttpResponse, OAuthError> {
    // The user and their identities in one query.
    let account = match signed_in(&session) {
        Some(id) => store.user_with_identities(id).await?,
        None => None,
    };
    let Some((user, ids)) = account else {
        return Ok(HttpResponse::Unauthorized().json(json!({ "error": "not_signed_in" })));
    };
    Ok(HttpResponse::Ok().json(json!({
        "user_id": user.id,
        "name": user.name,
        "email": user.email,
        "identities": ids.iter().map(|i| json!({
            "provider": i.provider, "subject": i.subject, "username": i.username,
        })).collect::<Vec<_>>(),
    })))
}

/// `GET|POST /api/{provider}/{path…}`: calls the provider's API at `base_url` + path on the user's
/// behalf (signed for OAuth 1.0a, bearer for OAuth 2, refreshed when expired).
async fn api(
    req: HttpRequest,
    oauth: OAuthExtension,
    path: web::Path<(String, String)>,
    query: web::Query<Vec<(String, String)>>,
    form: Option<web::Form<Vec<(String, String)>>>,
) -> HttpResponse {
    let (provider, tail) = path.into_inner();
    let call = oauth
        .request(
            &req,
            &provider,
            req.method().as_str().parse().unwrap_or_default(),
            &tail,
        )
        .query(&query.into_inner());
    let call = match form {
        Some(form) => call.form(&form.into_inner()),
        None => call,
    };
    match call.send().await {
        Ok(resp) => HttpResponse::Ok().json(json!({
            "status": resp.status(),
            "content_type": resp.content_type(),
            "data": resp.data().to_json(),
        })),
        Err(err) => {
            let status = actix_web::ResponseError::status_code(&err);
            HttpResponse::build(status)
                .json(json!({ "error": err.kind().as_str(), "message": err.to_string() }))
        }
    }
}

#[derive(Deserialize)]
struct Unlink {
    #[serde(default)]
    csrf: String,
    provider: String,
    subject: String,
}

/// `POST /unlink`: removes one identity of the signed-in user (never the last one).
async fn unlink(
    req: HttpRequest,
    oauth: OAuthExtension,
    session: Session,
    store: web::Data<SqlStore>,
    form: web::Form<Unlink>,
) -> Result<HttpResponse, OAuthError> {
    let Some(user) = signed_in(&session) else {
        return Ok(HttpResponse::Unauthorized().json(json!({ "error": "not_signed_in" })));
    };
    oauth.verify_csrf(&req, &form.csrf)?;
    // The identity's tokens are revoked at its provider first.
    let message = match accounts::unlink(
        &oauth,
        store.get_ref(),
        user,
        &form.provider,
        &form.subject,
    )
    .await
    {
        Ok(true) => format!("Unlinked {}.", form.provider),
        Ok(false) => "There was no such identity.".to_owned(),
        Err(OAuthError::Conflict(_)) => "You cannot unlink your only identity.".to_owned(),
        Err(other) => return Err(other),
    };
    let query = serde_urlencoded::to_string([("message", message)]).unwrap_or_default();
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, format!("/?{query}")))
        .finish())
}

/// `POST /logout`: revokes this session's tokens at their providers, deletes them from the
/// server-side token store and ends the session; for an OpenID Connect provider with an
/// `end_session_endpoint`, answers the redirect there (RP-initiated logout), whose return is
/// `/auth/{provider}/logged-out`; else back to `/`.
async fn logout(req: HttpRequest, oauth: OAuthExtension, session: Session) -> HttpResponse {
    let provider = session.get::<String>(SIGNED_IN_WITH).ok().flatten();
    if let Some(provider) = provider.filter(|p| oauth.remote_app(p).is_ok()) {
        match oauth.end_session(&req, &provider, "/").await {
            Ok(response) => return response,
            // Signed out here all the same; the kind says what failed.
            Err(e) => log::warn!("sign-out: the provider's logout failed ({})", e.kind()),
        }
    } else if let Err(e) = oauth.sign_out(&req).await {
        // Signed out all the same: the session is gone; the kind says what failed.
        log::warn!("sign-out: the token store failed ({})", e.kind());
    }
    HttpResponse::SeeOther()
        .insert_header((LOCATION, "/"))
        .finish()
}

/// `GET /auth/{provider}/logged-out`: the return from the provider's logout page; its `state`
/// must be the one this browser's logout sent (single use). Then to `/`.
async fn logged_out(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    oauth.logged_out(&req, &provider).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/?message=You+are+signed+out."))
        .finish())
}

/// `POST /auth/{provider}/backchannel-logout`: OpenID Connect back-channel logout; every session
/// of the provider session (or user) the logout token names ends, on every instance sharing the
/// accounts database.
async fn backchannel_logout(
    oauth: OAuthExtension,
    provider: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    oauth.backchannel_logout(&provider, &body).await
}

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
        if let Some(v) = a.strip_prefix(&format!("{name}=")) {
            return Some(v.to_owned());
        }
    }
    None
}

/// Whether the boolean flag `name` is on the command line.
fn flag(name: &str) -> bool {
    std::env::args().skip(1).any(|a| a == name)
}

/// The TOML configuration: `[providers.NAME]` tables.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Whether to start the built-in development provider. Default: only when no provider is
    /// configured.
    #[serde(default)]
    dev_provider: Option<bool>,
    #[serde(default)]
    providers: std::collections::BTreeMap<String, ProviderConfig>,
}

/// Whether the development provider runs: `--dev-provider`, else `ACTIX_OAUTH_DEV_PROVIDER`
/// (`1`/`true` or `0`/`false`), else the TOML `dev_provider`, else only when no provider is
/// configured. Anyone who reaches it signs in as any of its users, without a password.
fn dev_provider_wanted(config: &Config) -> Result<bool, String> {
    if flag("--dev-provider") {
        return Ok(true);
    }
    match std::env::var("ACTIX_OAUTH_DEV_PROVIDER").as_deref() {
        Ok("1" | "true") => return Ok(true),
        Ok("0" | "false") => return Ok(false),
        Ok(other) => {
            return Err(format!(
                "ACTIX_OAUTH_DEV_PROVIDER: {other:?} is neither 1/true nor 0/false"
            ))
        }
        Err(_) => {}
    }
    Ok(config.dev_provider.unwrap_or(config.providers.is_empty()))
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Oauth1,
    Oauth2,
    Oidc,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Scope {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderConfig {
    kind: Kind,
    preset: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    authorize_url: Option<String>,
    access_token_url: Option<String>,
    request_token_url: Option<String>,
    base_url: Option<String>,
    issuer: Option<String>,
    scope: Option<Scope>,
    userinfo_url: Option<String>,
    emails_url: Option<String>,
    /// An RFC 7009 revocation endpoint (else the preset's or the discovered one).
    revocation_url: Option<String>,
    /// An RP-initiated logout endpoint (else the discovered `end_session_endpoint`).
    end_session_url: Option<String>,
    /// The instance or tenant of a preset that has one (GitHub Enterprise Server, self-managed
    /// GitLab, a Microsoft tenant): every preset URL derives from it.
    #[serde(alias = "tenant")]
    host: Option<String>,
    pkce: Option<bool>,
    /// Sender-constrained tokens (DPoP, RFC 9449), for providers that support it.
    dpop: Option<bool>,
    insecure_allow_code_injection: Option<bool>,
    /// `"query"` (the default) or `"form_post"`.
    response_mode: Option<String>,
    /// `client_secret_basic` (the default), `client_secret_post`, `client_secret_jwt` or
    /// `private_key_jwt`.
    client_auth: Option<String>,
    /// The PEM private key of `private_key_jwt`, and Apple's `.p8` key.
    private_key_file: Option<PathBuf>,
    /// The key's id (`kid`), as registered at the provider (Apple's Key ID).
    key_id: Option<String>,
    /// Apple's team id: the client secret is minted with the private key (preset `apple`).
    team_id: Option<String>,
    /// Push authorization requests first (RFC 9126).
    par: Option<bool>,
    /// `max_age` on every sign-in, in seconds (OpenID Connect).
    max_age: Option<u64>,
    /// `acr_values` on every sign-in, space-separated (OpenID Connect).
    acr_values: Option<String>,
}

fn remote_app(name: &str, c: ProviderConfig) -> Result<RemoteAppBuilder, String> {
    let at = |field: &str| format!("providers.{name}.{field}");
    let mut b = RemoteApp::builder(name);
    if let Some(preset) = &c.preset {
        let apply = actix_oauth::providers::by_name(preset)
            .ok_or_else(|| format!("{}: no preset named `{preset}`", at("preset")))?;
        b = match &c.host {
            Some(host) => actix_oauth::providers::hosted_by_name(preset).ok_or_else(|| {
                format!(
                    "{}: preset `{preset}` has no self-hosted or tenant form",
                    at("host")
                )
            })?(b, host),
            None => apply(b),
        };
    } else if c.host.is_some() {
        return Err(format!("{}: needs a `preset`", at("host")));
    }
    if c.kind == Kind::Oidc && c.issuer.is_none() && c.preset.is_none() {
        return Err(format!("{}: required for kind = \"oidc\"", at("issuer")));
    }
    if c.kind != Kind::Oidc && c.issuer.is_some() {
        return Err(format!("{}: `issuer` needs kind = \"oidc\"", at("issuer")));
    }
    if c.kind == Kind::Oauth1 && c.request_token_url.is_none() && c.preset.is_none() {
        return Err(format!(
            "{}: required for kind = \"oauth1\"",
            at("request_token_url")
        ));
    }
    if c.kind == Kind::Oauth2 && c.request_token_url.is_some() {
        return Err(format!(
            "{}: only for kind = \"oauth1\"",
            at("request_token_url")
        ));
    }
    let set = |b: RemoteAppBuilder,
               v: Option<String>,
               f: fn(RemoteAppBuilder, String) -> RemoteAppBuilder| match v {
        Some(v) => f(b, v),
        None => b,
    };
    b = set(b, c.client_id, |b, v| b.client_id(v));
    b = set(b, c.client_secret, |b, v| b.client_secret(v));
    b = set(b, c.authorize_url, |b, v| b.authorize_url(v));
    b = set(b, c.access_token_url, |b, v| b.access_token_url(v));
    b = set(b, c.request_token_url, |b, v| b.request_token_url(v));
    b = set(b, c.base_url, |b, v| b.base_url(v));
    b = set(b, c.userinfo_url, |b, v| b.userinfo_url(v));
    b = set(b, c.emails_url, |b, v| b.emails_url(v));
    b = set(b, c.revocation_url, |b, v| b.revocation_url(v));
    b = set(b, c.end_session_url, |b, v| b.end_session_url(v));
    if let Some(pkce) = c.pkce {
        b = b.pkce(pkce);
    }
    if let Some(dpop) = c.dpop {
        b = b.dpop(dpop);
    }
    if let Some(allow) = c.insecure_allow_code_injection {
        b = b.insecure_allow_code_injection(allow);
    }
    if let Some(par) = c.par {
        b = b.par(par);
    }
    if let Some(max_age) = c.max_age {
        b = b.max_age(std::time::Duration::from_secs(max_age));
    }
    if let Some(values) = &c.acr_values {
        b = b.acr_values(
            values
                .split_whitespace()
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        );
    }
    b = set(b, c.issuer, |b, v| b.issuer(v));
    b = match c.response_mode.as_deref() {
        None | Some("query") => b,
        Some("form_post") => b.response_mode(ResponseMode::FormPost),
        Some(other) => {
            return Err(format!(
                "{}: {other:?} is neither \"query\" nor \"form_post\"",
                at("response_mode")
            ))
        }
    };
    if let Some(method) = &c.client_auth {
        let method = ClientAuth::from_name(method).ok_or_else(|| {
            format!(
                "{}: {method:?} is none of client_secret_basic, client_secret_post, \
                 client_secret_jwt, private_key_jwt, none",
                at("client_auth")
            )
        })?;
        b = b.client_auth(method);
    }
    let key = match &c.private_key_file {
        Some(path) => {
            let pem = std::fs::read_to_string(path)
                .map_err(|e| format!("{}: {}: {e}", at("private_key_file"), path.display()))?;
            let key = ClientKey::from_pem(&pem)
                .map_err(|e| format!("{}: {e}", at("private_key_file")))?;
            Some(match &c.key_id {
                Some(id) => key.key_id(id),
                None => key,
            })
        }
        None if c.key_id.is_some() => {
            return Err(format!("{}: needs `private_key_file`", at("key_id")))
        }
        None => None,
    };
    match (&c.team_id, key) {
        (Some(team), Some(key)) if c.preset.as_deref() == Some("apple") => {
            b = actix_oauth::providers::Apple::signed_with(b, team, key);
        }
        (Some(_), _) => {
            return Err(format!(
                "{}: needs `preset = \"apple\"` and `private_key_file`",
                at("team_id")
            ))
        }
        (None, Some(key)) => b = b.client_key(key),
        (None, None) => {}
    }
    b = match c.scope {
        Some(Scope::One(s)) => b.scope(s.split_whitespace().map(str::to_owned).collect::<Vec<_>>()),
        Some(Scope::Many(list)) => b.scope(list),
        None => b,
    };
    Ok(b)
}

fn load_config() -> Result<Config, String> {
    let Some(path) = arg("--config").or_else(|| std::env::var("ACTIX_OAUTH_CONFIG").ok()) else {
        return Ok(Config::default());
    };
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    toml::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

/// Stops the server at start with a message naming what is wrong.
fn fail(message: String) -> std::io::Error {
    eprintln!("configuration error: {message}");
    std::process::exit(2)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    // Every failure is logged by its kind (never a token or what a browser sent) on stderr;
    // `RUST_LOG` changes the level.
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let bind: SocketAddr = arg("--bind")
        .or_else(|| std::env::var("BIND").ok())
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|e| fail(format!("BIND: not an address ({e})")))?;
    let public_url = std::env::var("PUBLIC_URL")
        .unwrap_or_else(|_| format!("http://{bind}"))
        .trim_end_matches('/')
        .to_owned();
    let config = load_config().map_err(fail)?;

    let dev_provider = dev_provider_wanted(&config).map_err(fail)?;
    if !dev_provider && config.providers.is_empty() {
        return Err(fail(
            "no providers: configure one under [providers.NAME], or turn on the development provider (dev_provider = true)".to_owned(),
        ));
    }
    if dev_provider && !config.providers.is_empty() {
        eprintln!(
            "warning: the development provider (dev, dev-form-post, dev-oauth1) is on alongside real providers: \
             anyone who can use this server signs in as its users without a password. \
             Turn it off outside development (--dev-provider, ACTIX_OAUTH_DEV_PROVIDER, dev_provider)."
        );
    }

    let mut oauth = OAuth::new().public_url(&public_url);
    if std::env::var_os("REDIS_URL").is_some() {
        // The session lives in Redis; its cookie holds only a key, so no cookie size limit.
        oauth = oauth.max_session_bytes(None);
    }
    // A company's certificate authority, given as OpenSSL-based tools take it: the operating
    // system's trust store, which reads these variables.
    if std::env::var_os("SSL_CERT_FILE").is_some() || std::env::var_os("SSL_CERT_DIR").is_some() {
        oauth = oauth.native_roots(true);
    }
    let mut _dev = None;
    if dev_provider {
        // A second client of the development provider shows the newer protocol: its answer comes
        // by `form_post` and it authenticates with `private_key_jwt` (a key made at start).
        let (jwt_private, jwt_public) = client_key_pair()?;
        let dev = DevProvider::builder()
            .client(
                "example-jwt",
                // Never accepted: this client authenticates with its key.
                "unused-secret",
                [format!("{public_url}/auth/dev-form-post/callback")],
            )
            .client_auth(
                "example-jwt",
                DevClientAuth::PrivateKeyJwt {
                    public_key_pem: jwt_public,
                },
            )
            .client(
                "example",
                "example-secret",
                [
                    format!("{public_url}/auth/dev/callback"),
                    format!("{public_url}/auth/dev-oauth1/callback"),
                ],
            )
            .backchannel_logout_uri(
                "example",
                format!("{public_url}/auth/dev/backchannel-logout"),
            )
            .user(
                DevUser::new("alice")
                    .name("Alice Example")
                    .email("alice@example.test"),
            )
            .user(
                DevUser::new("bob")
                    .name("Bob Example")
                    .email("bob@example.test"),
            )
            .start()?;
        oauth = oauth.remote_app(
            RemoteApp::builder("dev-oauth1")
                .request_token_url(dev.oauth1_request_token_url().as_str())
                .authorize_url(dev.oauth1_authorize_url().as_str())
                .access_token_url(dev.oauth1_access_token_url().as_str())
                .base_url(dev.oauth1_api_url().as_str())
                .userinfo_url(
                    dev.oauth1_api_url()
                        .join("me")
                        .map_err(|e| fail(e.to_string()))?
                        .as_str(),
                )
                .consumer_key("example")
                .consumer_secret("example-secret"),
        );
        oauth = oauth.remote_app(
            // OpenID Connect: endpoints, keys and RFC 9207 `iss` from the provider's discovery
            // document; `id_token`s validated with a nonce.
            RemoteApp::builder("dev")
                .issuer(dev.issuer())
                .base_url(dev.api_url().as_str())
                .consumer_key("example")
                .consumer_secret("example-secret")
                .scope(["openid", "profile", "email"]),
        );
        oauth = oauth.remote_app(
            RemoteApp::builder("dev-form-post")
                .issuer(dev.issuer())
                .base_url(dev.api_url().as_str())
                .consumer_key("example-jwt")
                .client_auth(ClientAuth::PrivateKeyJwt)
                .client_key(
                    ClientKey::from_pem(&jwt_private)
                        .map_err(|e| fail(e.to_string()))?
                        .key_id("example-jwt"),
                )
                .response_mode(ResponseMode::FormPost)
                .scope(["openid", "profile", "email"]),
        );
        _dev = Some(dev);
    }
    for (name, provider) in config.providers {
        oauth = oauth.remote_app(remote_app(&name, provider).map_err(fail)?);
    }
    let (database, sqlite_file) = accounts_database().map_err(fail)?;
    let (token_key, key_source) = token_key(&database, sqlite_file.as_deref()).map_err(fail)?;
    let store = SqlStore::connect(&database)
        .await
        .map_err(|e| fail(format!("DATABASE_URL: {e}")))?
        .token_key(token_key);
    store
        .migrate()
        .await
        .map_err(|e| fail(format!("DATABASE_URL: {e}")))?;
    if let Some(file) = &sqlite_file {
        // The write-ahead log and shared-memory files SQLite made beside it.
        for suffix in ["", "-wal", "-shm"] {
            let mut path = file.clone().into_os_string();
            path.push(suffix);
            let path = PathBuf::from(path);
            if path.exists() {
                private_file(&path).map_err(fail)?;
            }
        }
    }
    // Sign-ins keep the provider's tokens in the accounts database, under this session's handle
    // (every instance sharing the database reads them); API calls and refreshes use them there,
    // and signing out deletes them.
    let oauth = oauth
        .token_store(store.clone())
        .build()
        .map_err(|e| fail(e.to_string()))?;

    let key = match std::env::var("SESSION_KEY") {
        Ok(secret) if secret.len() >= 64 => Key::from(secret.as_bytes()),
        Ok(_) => return Err(fail("SESSION_KEY: must be at least 64 bytes".to_owned())),
        // Instances behind one Redis must share the key, or a handshake begun on one cannot be
        // read on another.
        Err(_) if std::env::var_os("REDIS_URL").is_some() => {
            return Err(fail(
                "SESSION_KEY: required (64+ bytes, the same on every instance) with REDIS_URL"
                    .to_owned(),
            ))
        }
        Err(_) => Key::generate(),
    };
    let secure = public_url.starts_with("https://");
    let sessions = if std::env::var_os("REDIS_URL").is_some() {
        "redis"
    } else {
        "cookie"
    };
    let db = if database.starts_with("postgres") {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    println!(
        "actix-oauth example listening on http://{bind} (public URL {public_url}, {sessions} sessions, {db} accounts); providers: {}",
        oauth.remote_app_names().join(", ")
    );
    // On stderr: the line above is the one stdout line (scripts read it and may close the pipe).
    match &sqlite_file {
        Some(file) => eprintln!(
            "accounts in {}, tokens encrypted with {key_source}",
            file.display()
        ),
        None => eprintln!("tokens encrypted with {key_source}"),
    }
    let accounts = web::Data::new(store);
    match std::env::var("REDIS_URL") {
        Ok(url) => {
            // Every call to Redis ends within 3 s: while Redis is away, requests are answered
            // 503 (the `StoreFaults` middleware) instead of hanging, and recover on their own.
            let store = BoundedSessionStore::new(redis_sessions(url).await.map_err(fail)?);
            serve(bind, oauth, accounts, move || store.clone(), key, secure).await
        }
        Err(_) => {
            serve(
                bind,
                oauth,
                accounts,
                CookieSessionStore::default,
                key,
                secure,
            )
            .await
        }
    }
}

/// Sessions in Redis through a pool that checks each connection before use (`PING`) and opens
/// a new one for a dead one, every wait bounded: after Redis restarts, sessions work again on
/// their own (a single managed connection can stay stuck on the lost server).
async fn redis_sessions(url: String) -> Result<RedisSessionStore, String> {
    let limit = Some(actix_oauth::defaults::STORE_TIMEOUT);
    let mut config = deadpool_redis::Config::from_url(url);
    config.pool = Some(deadpool_redis::PoolConfig {
        timeouts: deadpool_redis::Timeouts {
            wait: limit,
            create: limit,
            recycle: limit,
        },
        ..deadpool_redis::PoolConfig::default()
    });
    let pool = config
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .map_err(|e| format!("REDIS_URL: {e}"))?;
    RedisSessionStore::new_pooled(pool)
        .await
        .map_err(|e| format!("REDIS_URL: {e}"))
}

/// The session cookie's name: over https with the `__Host-` prefix (RFC 6265bis §4.1.3.2), which
/// browsers accept only from a secure origin with `Secure`, `Path=/` and no `Domain` — so no
/// sibling subdomain or plain-http page can plant or overwrite it.
fn session_cookie_name(secure: bool) -> String {
    if secure { "__Host-id" } else { "id" }.to_owned()
}

/// The accounts database URL and, for a SQLite file, its path: `DATABASE_URL`, else
/// `accounts.sqlite3` in the data directory (created `0700`). A SQLite file the example creates is
/// created `0600`, so the files SQLite adds beside it are too.
fn accounts_database() -> Result<(String, Option<PathBuf>), String> {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        if !url.starts_with("sqlite:") || url.contains(":memory:") || url.contains("mode=memory") {
            return Ok((url, None));
        }
        let options =
            SqliteConnectOptions::from_str(&url).map_err(|e| format!("DATABASE_URL: {e}"))?;
        let file = options.get_filename().to_owned();
        if url.contains("mode=rwc") {
            create_private_file(&file)?;
        }
        return Ok((url, Some(file)));
    }
    let dir = data_dir()?;
    create_private_dir(&dir)?;
    let file = dir.join("accounts.sqlite3");
    create_private_file(&file)?;
    let path = file
        .to_str()
        .ok_or_else(|| format!("{}: the data directory must be UTF-8", dir.display()))?;
    // sqlx percent-decodes the path: keep `%`, `?` and `#` in it literal.
    let path = path
        .replace('%', "%25")
        .replace('?', "%3F")
        .replace('#', "%23");
    Ok((format!("sqlite://{path}?mode=rwc"), Some(file)))
}

/// The per-user directory of the default database: `--data-dir` / `ACTIX_OAUTH_DATA_DIR`, else
/// `$XDG_DATA_HOME/actix-oauth-example`, else `$HOME/.local/share/actix-oauth-example`.
fn data_dir() -> Result<PathBuf, String> {
    if let Some(dir) = arg("--data-dir").or_else(|| std::env::var("ACTIX_OAUTH_DATA_DIR").ok()) {
        return Ok(PathBuf::from(dir));
    }
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(base) = absolute("XDG_DATA_HOME") {
        return Ok(base.join("actix-oauth-example"));
    }
    if let Some(home) = absolute("HOME") {
        return Ok(home.join(".local/share/actix-oauth-example"));
    }
    if let Some(base) = absolute("LOCALAPPDATA") {
        return Ok(base.join("actix-oauth-example"));
    }
    Err(
        "ACTIX_OAUTH_DATA_DIR: no home directory to keep the accounts in; set it, or DATABASE_URL"
            .to_owned(),
    )
}

/// Creates `dir` (and missing parents) readable by this user only; an existing one is kept as it
/// is.
fn create_private_dir(dir: &Path) -> Result<(), String> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))
}

/// Creates the empty file `path` readable and writable by this user only, unless it exists;
/// then makes sure it is so.
fn create_private_file(path: &Path) -> Result<(), String> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => private_file(path),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Takes away any access to `path` by the group and others (mode `0600` at most).
fn private_file(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let at = |e: std::io::Error| format!("{}: {e}", path.display());
        let mode = std::fs::metadata(path).map_err(at)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o600))
                .map_err(at)?;
        }
    }
    let _ = path;
    Ok(())
}

/// The key stored tokens are encrypted with, and where it came from: `TOKEN_KEY` (32 bytes in
/// base64), else the key file beside the SQLite file (`PATH.key`, generated once, `0600`). A
/// PostgreSQL database needs `TOKEN_KEY` (the same on every instance); an in-memory one gets a
/// key for this run.
fn token_key(database: &str, sqlite_file: Option<&Path>) -> Result<(TokenKey, String), String> {
    if let Ok(text) = std::env::var("TOKEN_KEY") {
        let key = TokenKey::from_base64(&text).map_err(|e| format!("TOKEN_KEY: {e}"))?;
        return Ok((key, "TOKEN_KEY".to_owned()));
    }
    let Some(file) = sqlite_file else {
        if database.starts_with("sqlite:") {
            return Ok((TokenKey::generate(), "a key for this run".to_owned()));
        }
        return Err(
            "TOKEN_KEY: required with a PostgreSQL DATABASE_URL (32 bytes in base64, the same on every instance: `openssl rand -base64 32`)"
                .to_owned(),
        );
    };
    let mut path = file.to_owned().into_os_string();
    path.push(".key");
    let path = PathBuf::from(path);
    let key = read_or_create_key(&path)?;
    Ok((key, path.display().to_string()))
}

/// The key in the file at `path`, or a new random one written there (`0600`) if there is none.
/// Instances starting together agree: the file appears whole, and only once.
fn read_or_create_key(path: &Path) -> Result<TokenKey, String> {
    use base64::Engine as _;
    use rand::RngCore as _;
    let at = |e: std::io::Error| format!("{}: {e}", path.display());
    let read = |path: &Path| -> Result<TokenKey, String> {
        private_file(path)?;
        let text = std::fs::read_to_string(path).map_err(at)?;
        TokenKey::from_base64(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    if path.exists() {
        return read(path);
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let text = base64::engine::general_purpose::STANDARD.encode(bytes);
    // Written whole under a name of its own, then linked into place unless another instance won.
    let mut temp = path.to_owned().into_os_string();
    temp.push(format!(".{}.tmp", std::process::id()));
    let temp = PathBuf::from(temp);
    let _ = std::fs::remove_file(&temp);
    create_private_file(&temp)?;
    let written = std::fs::write(&temp, format!("{text}\n")).map_err(at);
    let linked = written.and_then(|()| match std::fs::hard_link(&temp, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(at(e)),
    });
    let _ = std::fs::remove_file(&temp);
    if linked? {
        TokenKey::from_base64(&text).map_err(|e| e.to_string())
    } else {
        read(path)
    }
}

async fn serve<S: SessionStore + 'static>(
    bind: SocketAddr,
    oauth: actix_oauth::OAuthExtension,
    accounts: web::Data<SqlStore>,
    store: impl Fn() -> S + Send + Clone + 'static,
    key: Key,
    secure: bool,
) -> std::io::Result<()> {
    HttpServer::new(move || {
        App::new()
            .app_data(oauth.clone())
            .app_data(accounts.clone())
            .wrap(OAuthMiddleware::new())
            .wrap(
                SessionMiddleware::builder(store(), key.clone())
                    .cookie_secure(secure)
                    .cookie_name(session_cookie_name(secure))
                    .build(),
            )
            // Outside the sessions: a session store that is away is a 503 page (or JSON).
            .wrap(StoreFaults::new())
            .route("/", web::get().to(home))
            .route("/auth/{provider}", web::get().to(login))
            .route("/auth/{provider}", web::post().to(link))
            // A `form_post` provider's answer is a POST (the middleware relays it when the
            // session cookie stayed behind); any other callback is a GET.
            .route("/auth/{provider}/callback", web::get().to(callback))
            .route("/auth/{provider}/callback", web::post().to(callback))
            .route("/me", web::get().to(me))
            .route("/api/{provider}/{tail:.*}", web::get().to(api))
            .route("/api/{provider}/{tail:.*}", web::post().to(api))
            .route("/unlink", web::post().to(unlink))
            .route("/logout", web::post().to(logout))
            .route("/auth/{provider}/logged-out", web::get().to(logged_out))
            .route(
                "/auth/{provider}/backchannel-logout",
                web::post().to(backchannel_logout),
            )
            .route(
                "/healthz",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
    })
    // `WORKERS`: the number of actix workers (default: one per CPU core).
    .workers(
        std::env::var("WORKERS")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from)),
    )
    .bind(bind)?
    .run()
    .await
}
