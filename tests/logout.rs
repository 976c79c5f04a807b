//! Ending a sign-in for real, over HTTP on loopback against the development provider: sign-out
//! revokes the provider's tokens (RFC 7009), RP-initiated logout returns with a checked single-use
//! `state`, and back-channel logout ends the app session — with cookie or Redis sessions, with the
//! memory, Redis or SQL token store, and on another instance than the one the user talks to.
//! Bad logout tokens are refused, each for its own reason.

mod common;
#[path = "common/logout_app.rs"]
mod logout_app;

use std::{sync::Arc, time::Duration};

use actix_oauth::{
    accounts::SqlStore, token_store::RedisTokenStore, OAuth, OAuthExtension, RemoteApp, TokenStore,
};
use actix_oauth_dev::{DevAlgorithm, DevProvider};
use actix_session::storage::{CookieSessionStore, RedisSessionStore};
use actix_web::cookie::Key;
use common::{listener, say_skipped, Browser, Running};
use logout_app::serve_app;
use serde_json::{json, Value};
use url::Url;

/// A provider with a client for `apps` (their callbacks), back-channel logout to the first.
fn provider(apps: &[&Url]) -> DevProvider {
    let callbacks: Vec<String> = apps
        .iter()
        .map(|u| format!("{u}auth/dev/callback"))
        .collect();
    DevProvider::builder()
        .client("app", "app-secret", callbacks)
        .backchannel_logout_uri("app", format!("{}auth/dev/backchannel-logout", apps[0]))
        .id_token_algorithm(DevAlgorithm::Es256)
        .start()
        .expect("dev provider")
}

fn extension(dev: &DevProvider, public_url: &Url, store: impl TokenStore) -> OAuthExtension {
    OAuth::new()
        .remote_app(
            RemoteApp::builder("dev")
                .issuer(dev.issuer())
                .consumer_key("app")
                .consumer_secret("app-secret")
                .scope(["openid", "profile"]),
        )
        .public_url(public_url.as_str())
        .token_store(store)
        .build()
        .expect("config")
}

/// Signs `browser` in at `app` through the provider's consent page, as alice.
async fn sign_in(browser: &Browser, app: &Running) {
    let start = browser.get(&app.url("/auth/dev")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let authorize = Url::parse(&start.location.expect("to the provider")).expect("URL");
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), "alice".into()));
    let mut post = authorize.clone();
    post.set_query(None);
    let back = browser.post_form(post.as_str(), &form).await;
    assert_eq!(back.status, 302, "{}", back.text());
    let done = browser.get(&back.location.expect("back to the app")).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert!(signed_in(browser, app).await);
}

async fn signed_in(browser: &Browser, app: &Running) -> bool {
    let me = browser.get(&app.url("/me")).await;
    match me.status {
        200 => true,
        401 => false,
        other => panic!("/me answered {other}: {}", me.text()),
    }
}

fn http() -> awc::Client {
    awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish()
}

/// Whether the provider still honours `access_token` (its user info endpoint).
async fn access_token_works(dev: &DevProvider, access_token: &str) -> bool {
    let response = http()
        .get(dev.userinfo_url().as_str())
        .bearer_auth(access_token)
        .send()
        .await
        .expect("userinfo");
    response.status().is_success()
}

/// Whether the provider still honours `refresh_token`.
async fn refresh_token_works(dev: &DevProvider, refresh_token: &str) -> bool {
    let response = http()
        .post(dev.token_url().as_str())
        .basic_auth("app", "app-secret")
        .send_form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ])
        .await
        .expect("token endpoint");
    response.status().is_success()
}

#[actix_rt::test]
async fn sign_out_revokes_the_tokens_at_the_provider() {
    let (l, url) = listener();
    let dev = provider(&[&url]);
    let app = serve_app(
        extension(&dev, &url, actix_oauth::MemoryTokenStore::new()),
        CookieSessionStore::default,
        Key::generate(),
        l,
    );
    let browser = Browser::new();
    sign_in(&browser, &app).await;
    let tokens = browser.get(&app.url("/token/dev")).await.json();
    let access = tokens["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    assert!(access_token_works(&dev, &access).await);

    let out = browser.post_form(&app.url("/signout"), &[]).await;
    assert_eq!(out.status, 303);
    assert!(!signed_in(&browser, &app).await);
    assert_eq!(browser.get(&app.url("/token/dev")).await.status, 401);
    // At the provider: the refresh token's grant is revoked, its access token with it.
    assert!(dev.revocations() >= 1);
    assert!(
        !access_token_works(&dev, &access).await,
        "the access token still works"
    );
    assert!(
        !refresh_token_works(&dev, &refresh).await,
        "the refresh token still works"
    );
}

#[actix_rt::test]
async fn a_provider_that_cannot_revoke_does_not_keep_anyone_signed_in() {
    let (l, url) = listener();
    let dev = provider(&[&url]);
    // The revocation endpoint points at a closed port.
    let (closed, closed_url) = listener();
    drop(closed);
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("dev")
                .issuer(dev.issuer())
                .consumer_key("app")
                .consumer_secret("app-secret")
                .revocation_url(format!("{closed_url}revoke"))
                .scope(["openid"]),
        )
        .public_url(url.as_str())
        .build()
        .expect("config");
    let app = serve_app(oauth, CookieSessionStore::default, Key::generate(), l);
    let browser = Browser::new();
    sign_in(&browser, &app).await;
    let stale = browser.fork();
    assert_eq!(
        browser.post_form(&app.url("/signout"), &[]).await.status,
        303
    );
    assert!(!signed_in(&browser, &app).await);
    // The tokens are gone server-side, so even an old copy of the cookie reaches none.
    assert_eq!(stale.get(&app.url("/token/dev")).await.status, 401);
    assert_eq!(dev.revocations(), 0);
}

#[actix_rt::test]
async fn rp_initiated_logout_returns_with_a_checked_single_use_state() {
    let (l, url) = listener();
    let dev = provider(&[&url]);
    let app = serve_app(
        extension(&dev, &url, actix_oauth::MemoryTokenStore::new()),
        CookieSessionStore::default,
        Key::generate(),
        l,
    );
    let browser = Browser::new();
    sign_in(&browser, &app).await;
    let access = browser.get(&app.url("/token/dev")).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let out = browser.post_form(&app.url("/logout/dev"), &[]).await;
    assert_eq!(out.status, 303, "{}", out.text());
    let location = Url::parse(out.location.as_deref().unwrap()).unwrap();
    assert!(
        location
            .as_str()
            .starts_with(dev.end_session_url().as_str()),
        "{location}"
    );
    let query = out.location_query();
    assert_eq!(query["client_id"], "app");
    assert_eq!(
        query["post_logout_redirect_uri"],
        app.url("/auth/dev/logged-out")
    );
    assert!(query["state"].len() >= 43);
    assert_eq!(query["id_token_hint"].split('.').count(), 3);
    // Signed out here before the provider is even asked.
    assert!(!signed_in(&browser, &app).await);
    assert!(!access_token_works(&dev, &access).await);

    let stale = browser.fork();
    let back = browser.get(location.as_str()).await;
    assert_eq!(back.status, 302, "{}", back.text());
    let return_url = back.location.unwrap();
    assert!(
        return_url.starts_with(&app.url("/auth/dev/logged-out?")),
        "{return_url}"
    );
    let done = browser.get(&return_url).await;
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(done.location.as_deref(), Some("/"));
    // Single use: the same return again, or with an old copy of the cookie, is refused.
    assert_eq!(browser.get(&return_url).await.status, 400);
    assert_eq!(stale.get(&return_url).await.status, 400);
    // A forged or missing state is refused.
    let other = Browser::new();
    sign_in(&other, &app).await;
    let out = other.post_form(&app.url("/logout/dev"), &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(
        other
            .get(&app.url("/auth/dev/logged-out?state=forged"))
            .await
            .status,
        400
    );
    assert_eq!(
        other.get(&app.url("/auth/dev/logged-out")).await.status,
        400
    );
}

/// Signs alice in on `user_app` and has the provider end her session by back-channel logout
/// (to `backchannel_app`, the first app its client names); she is signed out on `user_app`.
async fn backchannel_ends(dev: &DevProvider, user_app: &Running) {
    let browser = Browser::new();
    sign_in(&browser, user_app).await;
    let delivered = dev.backchannel_logout("alice").await;
    assert_eq!(delivered, vec![200], "the app accepted the logout token");
    assert!(!signed_in(&browser, user_app).await, "still signed in");
    assert_eq!(browser.get(&user_app.url("/token/dev")).await.status, 401);
}

#[actix_rt::test]
async fn backchannel_logout_ends_cookie_sessions_with_the_memory_store() {
    let (l, url) = listener();
    let dev = provider(&[&url]);
    let app = serve_app(
        extension(&dev, &url, actix_oauth::MemoryTokenStore::new()),
        CookieSessionStore::default,
        Key::generate(),
        l,
    );
    backchannel_ends(&dev, &app).await;
    // Another user's session is not touched.
    let browser = Browser::new();
    sign_in(&browser, &app).await;
    assert_eq!(dev.backchannel_logout("bob").await, Vec::<u16>::new());
    assert!(signed_in(&browser, &app).await);
}

#[actix_rt::test]
async fn backchannel_logout_ends_sessions_with_the_sql_store() {
    let (l, url) = listener();
    let dev = provider(&[&url]);
    let store = SqlStore::connect("sqlite::memory:").await.expect("sqlite");
    store.migrate().await.expect("migrations");
    let pg = serve_app(
        extension(&dev, &url, store),
        CookieSessionStore::default,
        Key::generate(),
        l,
    );
    backchannel_ends(&dev, &pg).await;
    let Ok(database) = std::env::var("DATABASE_URL") else {
        say_skipped("back-channel logout with PostgreSQL: DATABASE_URL is not set");
        return;
    };
    let (l, url) = listener();
    let dev = provider(&[&url]);
    let store = SqlStore::connect(&database).await.expect("postgres");
    store.migrate().await.expect("migrations");
    let app = serve_app(
        extension(&dev, &url, store),
        CookieSessionStore::default,
        Key::generate(),
        l,
    );
    backchannel_ends(&dev, &app).await;
}

/// Two instances behind one public URL, sharing Redis (sessions and tokens) and the session key:
/// the provider's logout reaches instance A, the user is on instance B.
#[actix_rt::test]
async fn backchannel_logout_ends_redis_sessions_on_every_instance() {
    let Ok(redis) = std::env::var("REDIS_URL") else {
        say_skipped("back-channel logout with Redis: REDIS_URL is not set");
        return;
    };
    let (la, url_a) = listener();
    let (lb, url_b) = listener();
    let dev = provider(&[&url_a, &url_b]);
    let key = Key::generate();
    let prefix = format!("actix_oauth:test:{}:", rand_suffix());
    let tokens = RedisTokenStore::connect(&redis)
        .await
        .expect("redis")
        .prefix(prefix);
    let sessions = RedisSessionStore::new(redis.as_str())
        .await
        .expect("redis sessions");
    let _a = serve_app(
        extension(&dev, &url_a, tokens.clone()),
        {
            let s = sessions.clone();
            move || s.clone()
        },
        key.clone(),
        la,
    );
    let b = serve_app(
        extension(&dev, &url_b, tokens),
        move || sessions.clone(),
        key,
        lb,
    );
    backchannel_ends(&dev, &b).await;
}

fn rand_suffix() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// POSTs `logout_token` to the app's back-channel route; the status and the JSON body.
async fn post_logout_token(app: &Running, logout_token: &str) -> (u16, Option<Value>, String) {
    let mut response = http()
        .post(app.url("/auth/dev/backchannel-logout"))
        .send_form(&[("logout_token", logout_token)])
        .await
        .expect("POST");
    let cache = response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(cache, "no-store");
    let body = response.body().await.expect("body");
    (
        response.status().as_u16(),
        serde_json::from_slice(&body).ok(),
        cache,
    )
}

#[actix_rt::test]
async fn bad_logout_tokens_are_refused_each_for_its_reason() {
    let (l, url) = listener();
    let dev = provider(&[&url]);
    let app = Arc::new(serve_app(
        extension(&dev, &url, actix_oauth::MemoryTokenStore::new()),
        CookieSessionStore::default,
        Key::generate(),
        l,
    ));
    let browser = Browser::new();
    sign_in(&browser, &app).await;
    let valid = dev.logout_token_claims("alice").expect("a live session");
    let with = |changes: Value| {
        let mut claims = valid.clone();
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        claims["jti"] = json!(rand_suffix());
        dev.sign_logout_token(&claims).expect("signed")
    };
    let now = valid["iat"].as_u64().unwrap();
    let flipped = {
        let token = with(json!({}));
        let (head, sig) = token.rsplit_once('.').unwrap();
        let mut sig = sig.to_owned();
        let last = if sig.ends_with('A') { 'B' } else { 'A' };
        sig.replace_range(0..1, &last.to_string());
        format!("{head}.{sig}")
    };
    let cases = [
        ("a wrong signature", flipped, "signature"),
        (
            "another audience",
            with(json!({"aud": "someone-else"})),
            "another client",
        ),
        (
            "another issuer",
            with(json!({"iss": "http://127.0.0.1:1"})),
            "another issuer",
        ),
        ("a nonce", with(json!({"nonce": "n"})), "nonce"),
        ("no events", with(json!({"events": null})), "event"),
        (
            "another event",
            with(json!({"events": {"http://schemas.openid.net/event/other": {}}})),
            "event",
        ),
        (
            "too old",
            with(json!({"iat": now - 3600, "exp": now + 60})),
            "too long ago",
        ),
        (
            "issued in the future",
            with(json!({"iat": now + 3600, "exp": now + 3700})),
            "future",
        ),
        (
            "no sid nor sub",
            with(json!({"sid": null, "sub": null})),
            "neither",
        ),
        (
            "no jti",
            {
                let mut claims = valid.clone();
                claims.as_object_mut().unwrap().remove("jti");
                dev.sign_logout_token(&claims).unwrap()
            },
            "jti",
        ),
        ("no form", "not-a-jwt".to_owned(), "well-formed"),
    ];
    for (what, token, says) in cases {
        let (status, body, _) = post_logout_token(&app, &token).await;
        assert_eq!(status, 400, "{what}: accepted");
        let body = body.unwrap_or_else(|| panic!("{what}: no JSON error"));
        assert_eq!(body["error"], "invalid_request", "{what}");
        let description = body["error_description"].as_str().unwrap_or_default();
        assert!(description.contains(says), "{what}: {description}");
        assert!(signed_in(&browser, &app).await, "{what}: the session ended");
    }
    // The valid one ends the session; replayed, the same token is refused.
    let token = dev.sign_logout_token(&valid).unwrap();
    assert_eq!(post_logout_token(&app, &token).await.0, 200);
    assert!(!signed_in(&browser, &app).await);
    let (status, body, _) = post_logout_token(&app, &token).await;
    assert_eq!(status, 400);
    assert!(body.unwrap()["error_description"]
        .as_str()
        .unwrap()
        .contains("already used"));
    // Not a form at all.
    let response = http()
        .post(app.url("/auth/dev/backchannel-logout"))
        .send_body("logout_token")
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 400);
}

/// The tokens alice's sign-in at `app` left, as the provider issued them.
async fn tokens_of(browser: &Browser, app: &Running) -> actix_oauth::TokenResponse {
    let tokens = browser.get(&app.url("/token/dev")).await.json();
    actix_oauth::TokenResponse::new(actix_oauth::AccessToken::new(
        tokens["access_token"].as_str().unwrap().to_owned(),
    ))
    .with_refresh_token(
        tokens["refresh_token"]
            .as_str()
            .map(|r| actix_oauth::RefreshToken::new(r.to_owned())),
    )
}

#[actix_rt::test]
async fn unlinking_an_identity_and_deleting_a_user_revoke_their_tokens() {
    use actix_oauth::{accounts, accounts::AccountStore as _, Profile};
    let (l, url) = listener();
    let dev = provider(&[&url]);
    let oauth = extension(&dev, &url, actix_oauth::MemoryTokenStore::new());
    let app = serve_app(
        oauth.clone(),
        CookieSessionStore::default,
        Key::generate(),
        l,
    );
    let store = SqlStore::connect("sqlite::memory:").await.expect("sqlite");
    store.migrate().await.expect("migrations");

    // Two sign-ins at the provider, kept as two identities of one user.
    let (first, second) = (Browser::new(), Browser::new());
    sign_in(&first, &app).await;
    sign_in(&second, &app).await;
    let (one, two) = (
        tokens_of(&first, &app).await,
        tokens_of(&second, &app).await,
    );
    let user = accounts::sign_in(&store, &Profile::new("dev", "alice-1"), None)
        .await
        .expect("sign-in")
        .user
        .id;
    accounts::sign_in(&store, &Profile::new("dev", "alice-2"), Some(user))
        .await
        .expect("linked");
    assert!(store.store_token("dev", "alice-1", &one).await.unwrap());
    assert!(store.store_token("dev", "alice-2", &two).await.unwrap());

    // Unlinking one identity revokes its tokens only; the last one cannot be unlinked, and
    // nothing is revoked then.
    assert!(accounts::unlink(&oauth, &store, user, "dev", "alice-1")
        .await
        .unwrap());
    assert!(!access_token_works(&dev, one.access_token().secret()).await);
    assert!(!refresh_token_works(&dev, one.refresh_token().unwrap().secret()).await);
    assert!(access_token_works(&dev, two.access_token().secret()).await);
    let last = accounts::unlink(&oauth, &store, user, "dev", "alice-2").await;
    assert_eq!(last.unwrap_err().kind(), actix_oauth::ErrorKind::Conflict);
    assert!(access_token_works(&dev, two.access_token().secret()).await);

    assert!(accounts::delete_user(&oauth, &store, user).await.unwrap());
    assert!(!access_token_works(&dev, two.access_token().secret()).await);
    assert!(!refresh_token_works(&dev, two.refresh_token().unwrap().secret()).await);
    assert!(store.user(user).await.unwrap().is_none());
}
