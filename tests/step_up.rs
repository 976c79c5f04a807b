//! Step-up and freshness against the development provider, over loopback: `max_age`,
//! `acr_values` and `prompt` on the authorization request, the ID token's `auth_time` and `acr`
//! checked against them, and `RequireFreshSignIn` sending a user whose sign-in is too old to
//! sign in again — as the same user only, keeping the session.
#![cfg(feature = "oidc")]

mod common;

use std::time::Duration;

use actix_oauth::{
    providers::Any, AuthorizedResponse, ErrorKind, OAuth, OAuthError, OAuthExtension,
    OAuthMiddleware, RemoteApp, RemoteAppBuilder, RequireFreshSignIn, SignInOptions,
};
use actix_oauth_dev::{DevProvider, DevUser};
use actix_session::{
    config::CookieContentSecurity, storage::CookieSessionStore, SessionMiddleware,
};
use actix_web::{cookie::Key, web, App, HttpRequest, HttpResponse};
use common::{listener, serve, Browser, Page, Running};

struct Setup {
    provider: DevProvider,
    app: Running,
}

async fn login(
    req: HttpRequest,
    oauth: OAuthExtension,
    p: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    oauth.authorize(&req, &p, Some("/signed-in")).await
}

/// A sign-in that must be at most a minute old, with the strongest class.
async fn step_up(req: HttpRequest, oauth: OAuthExtension) -> Result<HttpResponse, OAuthError> {
    let options = SignInOptions::new()
        .max_age(Duration::from_secs(60))
        .acr_values(["urn:actix-oauth-dev:mfa"]);
    oauth
        .authorize_with(&req, "dev", Some("/signed-in"), &options)
        .await
}

async fn callback(resp: AuthorizedResponse<Any>) -> HttpResponse {
    resp.redirect_next()
}

async fn who(req: HttpRequest, oauth: OAuthExtension) -> Result<HttpResponse, OAuthError> {
    let token = oauth.session_token(&req, "dev").await?;
    let info = oauth.userinfo("dev", &token).await?;
    Ok(HttpResponse::Ok().json(info))
}

fn setup(app: impl FnOnce(RemoteAppBuilder) -> RemoteAppBuilder) -> Setup {
    let (l, url) = listener();
    let provider = DevProvider::builder()
        .client("app", "app-secret", [format!("{url}auth/dev/callback")])
        .user(DevUser::new("alice"))
        .user(DevUser::new("bob"))
        .start()
        .expect("dev provider");
    let remote = RemoteApp::builder("dev")
        .issuer(provider.issuer())
        .consumer_key("app")
        .consumer_secret("app-secret")
        .scope(["openid", "profile"]);
    let oauth = OAuth::new()
        .remote_app(app(remote))
        .public_url(url.as_str())
        .build()
        .expect("config");
    let key = Key::generate();
    let app = serve(l, move || {
        App::new()
            .app_data(oauth.clone())
            .wrap(OAuthMiddleware::new())
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    .cookie_secure(false)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .build(),
            )
            .route("/auth/{provider}", web::get().to(login))
            .route("/step-up", web::get().to(step_up))
            .route("/auth/{provider}/callback", web::get().to(callback))
            .route("/signed-in", web::get().to(who))
            .service(
                web::resource("/fresh")
                    .wrap(RequireFreshSignIn::new("dev", Duration::from_secs(300)))
                    .route(web::get().to(|| async { HttpResponse::Ok().body("fresh enough") })),
            )
    });
    Setup { provider, app }
}

/// Follows a redirect to the provider, approves as `user`, and returns the app's answer to the
/// callback.
async fn approve(browser: &Browser, to_provider: &Page, user: &str) -> Page {
    assert_eq!(to_provider.status, 302, "{}", to_provider.text());
    let authorize = url::Url::parse(to_provider.location.as_deref().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), user.into()));
    let mut post = authorize.clone();
    post.set_query(None);
    let back = browser.post_form(post.as_str(), &form).await;
    assert_eq!(back.status, 302, "{}", back.text());
    browser.get(back.location.as_deref().unwrap()).await
}

fn query(page: &Page) -> std::collections::BTreeMap<String, String> {
    page.location_query()
}

/// Signs in as `user` whose provider session is `age` old (its `auth_time`).
async fn sign_in_aged(s: &Setup, browser: &Browser, user: &str, age: Duration) {
    s.provider.age_sign_in(user, age);
    let start = browser.get(&s.app.url("/auth/dev")).await;
    let done = approve(browser, &start, user).await;
    assert_eq!(done.status, 303, "{}", done.text());
}

#[actix_rt::test]
async fn a_stale_sign_in_is_sent_to_sign_in_again_and_comes_back() {
    let s = setup(|a| a);
    let browser = Browser::new();
    sign_in_aged(&s, &browser, "alice", Duration::from_secs(600)).await;
    // Ten minutes old: the guard sends alice to the provider, asking for five.
    let guarded = browser.get(&s.app.url("/fresh")).await;
    assert_eq!(guarded.status, 302, "{}", guarded.text());
    let asked = query(&guarded);
    assert_eq!(asked["max_age"], "300");
    assert_eq!(asked["prompt"], "login");
    let back = approve(&browser, &guarded, "alice").await;
    assert_eq!(back.status, 303, "{}", back.text());
    assert_eq!(back.location.as_deref(), Some("/fresh"));
    let page = browser.get(&s.app.url("/fresh")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.text(), "fresh enough");
}

#[actix_rt::test]
async fn a_fresh_sign_in_passes_and_nobody_is_sent_to_sign_in() {
    let s = setup(|a| a);
    let browser = Browser::new();
    let anonymous = browser.get(&s.app.url("/fresh")).await;
    assert_eq!(anonymous.status, 302, "not signed in: sent to sign in");
    let to = anonymous.location.as_deref().unwrap();
    assert!(to.starts_with(s.provider.authorize_url().as_str()), "{to}");
    sign_in_aged(&s, &browser, "alice", Duration::ZERO).await;
    let page = browser.get(&s.app.url("/fresh")).await;
    assert_eq!(page.status, 200, "{}", page.text());
}

#[actix_rt::test]
async fn a_provider_that_ignores_max_age_is_refused() {
    let s = setup(|a| a);
    let browser = Browser::new();
    sign_in_aged(&s, &browser, "alice", Duration::from_secs(600)).await;
    s.provider.set_ignore_max_age(true);
    let guarded = browser.get(&s.app.url("/fresh")).await;
    let back = approve(&browser, &guarded, "alice").await;
    assert_eq!(back.status, 401, "{}", back.text());
    assert!(
        back.text()
            .contains(ErrorKind::InsufficientAuthentication.as_str()),
        "{}",
        back.text()
    );
    // Still signed in as before, and still stale.
    assert_eq!(browser.get(&s.app.url("/signed-in")).await.status, 200);
    assert_eq!(browser.get(&s.app.url("/fresh")).await.status, 302);
}

#[actix_rt::test]
async fn stepping_up_as_someone_else_is_refused() {
    let s = setup(|a| a);
    let browser = Browser::new();
    sign_in_aged(&s, &browser, "alice", Duration::from_secs(600)).await;
    let guarded = browser.get(&s.app.url("/fresh")).await;
    let back = approve(&browser, &guarded, "bob").await;
    assert_eq!(back.status, 401, "{}", back.text());
    assert!(back.text().contains("another"), "{}", back.text());
    let me = browser.get(&s.app.url("/signed-in")).await;
    assert_eq!(
        me.json()["preferred_username"],
        "alice",
        "the session is alice's still"
    );
}

#[actix_rt::test]
async fn a_step_up_request_asks_for_max_age_and_acr_and_checks_them() {
    let s = setup(|a| a);
    let browser = Browser::new();
    s.provider.age_sign_in("alice", Duration::from_secs(600));
    let start = browser.get(&s.app.url("/step-up")).await;
    let asked = query(&start);
    assert_eq!(asked["max_age"], "60");
    assert_eq!(asked["acr_values"], "urn:actix-oauth-dev:mfa");
    let done = approve(&browser, &start, "alice").await;
    assert_eq!(
        done.status,
        303,
        "the provider re-authenticated: {}",
        done.text()
    );
}

#[actix_rt::test]
async fn an_acr_that_was_not_asked_for_is_refused() {
    // The provider has no such class: it answers its own.
    let s = setup(|a| a.acr_values(["urn:example:gold"]));
    let browser = Browser::new();
    let start = browser.get(&s.app.url("/auth/dev")).await;
    let done = approve(&browser, &start, "alice").await;
    assert_eq!(done.status, 401, "{}", done.text());
    assert!(done.text().contains("acr"), "{}", done.text());
    assert_eq!(browser.get(&s.app.url("/signed-in")).await.status, 401);
    // A class it has is met.
    let s = setup(|a| a.acr_values(["urn:example:gold", "urn:actix-oauth-dev:mfa"]));
    let browser = Browser::new();
    let start = browser.get(&s.app.url("/auth/dev")).await;
    assert_eq!(approve(&browser, &start, "alice").await.status, 303);
}

#[test]
fn max_age_needs_openid_connect() {
    let err = RemoteApp::builder("plain")
        .authorize_url("https://idp.example/authorize")
        .access_token_url("https://idp.example/token")
        .consumer_key("id")
        .consumer_secret("secret")
        .max_age(Duration::from_secs(60))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("OpenID Connect"), "{err}");
}

#[actix_rt::test]
async fn a_configured_prompt_is_the_default_and_a_step_up_replaces_it() {
    let s = setup(|a| a.authorize_param("prompt", "consent"));
    let browser = Browser::new();
    let start = browser.get(&s.app.url("/auth/dev")).await;
    let to = start.location.clone().unwrap();
    assert_eq!(to.matches("prompt=").count(), 1, "{to}");
    assert_eq!(query(&start)["prompt"], "consent");
    s.provider.age_sign_in("alice", Duration::from_secs(600));
    assert_eq!(approve(&browser, &start, "alice").await.status, 303);
    // The guard's `prompt=login` is sent instead of the default, not beside it.
    let guarded = browser.get(&s.app.url("/fresh")).await;
    let to = guarded.location.clone().unwrap();
    assert_eq!(to.matches("prompt=").count(), 1, "{to}");
    assert_eq!(query(&guarded)["prompt"], "login");
    assert_eq!(approve(&browser, &guarded, "alice").await.status, 303);
}

#[test]
fn parameters_with_settings_of_their_own_are_refused_as_plain_ones() {
    for (name, method) in [
        ("max_age", "max_age"),
        ("acr_values", "acr_values"),
        ("dpop_jkt", "dpop"),
        ("request_uri", "par"),
    ] {
        let err = RemoteApp::builder("dev")
            .issuer("https://idp.example")
            .consumer_key("id")
            .consumer_secret("secret")
            .authorize_param(name, "1")
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration);
        assert!(err.to_string().contains(method), "{err}");
    }
    let twice = RemoteApp::builder("dev")
        .issuer("https://idp.example")
        .consumer_key("id")
        .consumer_secret("secret")
        .prompt("login")
        .authorize_param("prompt", "consent")
        .build()
        .unwrap_err();
    assert!(twice.to_string().contains("twice"), "{twice}");
}
