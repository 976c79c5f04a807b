//! Tokens live server-side (issue 13.2): the session cookie holds a handle, so Microsoft-sized
//! tokens sign in, the worst case of pending handshakes and two providers' 8 KB tokens stays
//! under what browsers keep, an overflow is a clear page, and sign-out makes a copied cookie
//! worthless. Against fake providers that issue such tokens, with cookie sessions, and with Redis.

mod common;

use std::{collections::BTreeMap, net::TcpListener, time::Duration};

use actix_oauth::{
    providers::Any, AuthorizedResponse, OAuth, OAuthError, OAuthExtension, OAuthMiddleware,
    RemoteApp, TokenStore,
};
use actix_session::{
    config::CookieContentSecurity, storage::CookieSessionStore, Session, SessionMiddleware,
};
use actix_web::{cookie::Key, web, App, HttpRequest, HttpResponse};
use common::{listener, say_skipped, Answer, Browser, FakeProvider, Running};
use serde_json::json;

/// A token endpoint issuing an access and a refresh token of the given sizes.
fn token_endpoint(access_bytes: usize, refresh_bytes: usize) -> FakeProvider {
    // A JWT-shaped access token (base64url characters and dots), as Microsoft issues them.
    let access = format!("eyJ0eXAiOiJKV1QifQ.{}.sig", "A".repeat(access_bytes - 23));
    let refresh = "R".repeat(refresh_bytes);
    FakeProvider::answering(Answer::json(
        &json!({
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": 3600,
        })
        .to_string(),
    ))
}

fn remote(name: &str, tokens: &FakeProvider, api: &FakeProvider) -> actix_oauth::RemoteAppBuilder {
    RemoteApp::builder(name)
        .authorize_url(tokens.url("authorize"))
        .access_token_url(tokens.url("token"))
        .base_url(api.url(""))
        .consumer_key("client")
        .consumer_secret("secret")
}

async fn login(
    req: HttpRequest,
    oauth: OAuthExtension,
    path: web::Path<String>,
    query: web::Query<BTreeMap<String, String>>,
) -> Result<HttpResponse, OAuthError> {
    oauth
        .authorize(&req, &path, query.get("next").map(String::as_str))
        .await
}

/// Linking another identity: a POST carrying the session's CSRF token.
async fn link(
    req: HttpRequest,
    oauth: OAuthExtension,
    path: web::Path<String>,
    form: web::Form<BTreeMap<String, String>>,
) -> Result<HttpResponse, OAuthError> {
    oauth.verify_csrf(&req, form.get("csrf").map_or("", String::as_str))?;
    oauth
        .authorize(&req, &path, form.get("next").map(String::as_str))
        .await
}

async fn csrf(req: HttpRequest, oauth: OAuthExtension) -> Result<HttpResponse, OAuthError> {
    Ok(HttpResponse::Ok().body(oauth.csrf_token(&req)?))
}

async fn callback(resp: Option<AuthorizedResponse<Any>>) -> HttpResponse {
    match resp {
        Some(resp) => HttpResponse::Ok().json(json!({ "next": resp.next() })),
        None => HttpResponse::Forbidden().finish(),
    }
}

async fn call(
    req: HttpRequest,
    oauth: OAuthExtension,
    path: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    let resp = oauth.get(&req, &path, "me").send().await?;
    Ok(HttpResponse::Ok().json(json!({ "status": resp.status() })))
}

async fn logout(req: HttpRequest, oauth: OAuthExtension) -> Result<HttpResponse, OAuthError> {
    oauth.sign_out(&req).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What an app of its own may keep in the session: here, far too much for a cookie.
async fn stuff(session: Session) -> Result<HttpResponse, actix_web::Error> {
    session.insert("notes", "n".repeat(5000))?;
    Ok(HttpResponse::NoContent().finish())
}

/// The app under test: cookie sessions (private, as recommended), the middleware, sign-in,
/// API calls, sign-out.
fn start(oauth: OAuthExtension, listener: TcpListener, key: Key) -> Running {
    common::serve(listener, move || {
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
            .route("/link/{provider}", web::post().to(link))
            .route("/csrf", web::get().to(csrf))
            .route("/auth/{provider}/callback", web::get().to(callback))
            .route("/call/{provider}", web::get().to(call))
            .route("/logout", web::post().to(logout))
            .route("/stuff", web::post().to(stuff))
    })
}

/// Begins a sign-in with `provider` and returns its `state`.
async fn begin(browser: &Browser, app: &Running, provider: &str, next: &str) -> String {
    let page = browser
        .get(&app.url(&format!("/auth/{provider}?next={next}")))
        .await;
    assert_eq!(page.status, 302, "{}", page.text());
    page.location_query()["state"].clone()
}

/// Begins linking `provider` (a POST with the CSRF token) and returns its `state`.
async fn begin_link(browser: &Browser, app: &Running, provider: &str, next: &str) -> String {
    let csrf = browser.get(&app.url("/csrf")).await.text();
    let form = [
        ("csrf".to_owned(), csrf),
        ("next".to_owned(), next.to_owned()),
    ];
    let page = browser
        .post_form(&app.url(&format!("/link/{provider}")), &form)
        .await;
    assert_eq!(page.status, 302, "{}", page.text());
    page.location_query()["state"].clone()
}

/// Comes back from the provider with a code for `state`.
async fn finish(
    browser: &Browser,
    app: &Running,
    provider: &str,
    state: &str,
) -> serde_json::Value {
    let page = browser
        .get(&app.url(&format!("/auth/{provider}/callback?code=c&state={state}")))
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    page.json()
}

/// The app under test on a free loopback port, with `apps` and whatever `configure` adds.
fn serve(
    apps: Vec<actix_oauth::RemoteAppBuilder>,
    configure: impl FnOnce(OAuth) -> OAuth,
) -> Running {
    let (l, url) = listener();
    let oauth = configure(oauth(apps, &url))
        .build()
        .expect("valid configuration");
    start(oauth, l, Key::generate())
}

fn oauth(apps: Vec<actix_oauth::RemoteAppBuilder>, app_url: &url::Url) -> OAuth {
    apps.into_iter()
        .fold(OAuth::new(), OAuth::remote_app)
        .public_url(app_url.as_str())
}

#[actix_rt::test]
async fn microsoft_sized_tokens_sign_in_and_stay_out_of_the_cookie() {
    let tokens = token_endpoint(3000, 1800);
    let api = FakeProvider::answering(Answer::json(r#"{"ok":true}"#));
    let app = serve(vec![remote("ms", &tokens, &api)], |o| o);
    let browser = Browser::new();
    let state = begin(&browser, &app, "ms", "/home").await;
    assert_eq!(finish(&browser, &app, "ms", &state).await["next"], "/home");
    assert!(
        browser.largest_cookie() < 1024,
        "the cookie holds a handle, not the tokens: {} bytes",
        browser.largest_cookie()
    );
    let page = browser.get(&app.url("/call/ms")).await;
    assert_eq!(page.json()["status"], 200, "{}", page.text());
    let sent = api.requests();
    let bearer = &sent[0].headers["authorization"];
    assert_eq!(
        bearer.len(),
        "Bearer ".len() + 3000,
        "the whole token travels"
    );
}

#[actix_rt::test]
async fn worst_case_session_fits_a_cookie() {
    // Two providers with 8 KB tokens each, and every handshake a browser may hold pending, each
    // with the longest `next` the crate keeps.
    let (first, second) = (token_endpoint(8192, 8192), token_endpoint(8192, 8192));
    let api = FakeProvider::answering(Answer::json(r#"{"ok":true}"#));
    let app = serve(
        vec![
            remote("first-provider-with-a-long-name", &first, &api),
            remote("second-provider-with-a-long-name", &second, &api),
        ],
        |o| o,
    );
    let browser = Browser::new();
    let longest_next = format!("/{}", "n".repeat(511));
    let p1 = "first-provider-with-a-long-name";
    let p2 = "second-provider-with-a-long-name";
    let state = begin(&browser, &app, p1, &longest_next).await;
    finish(&browser, &app, p1, &state).await;
    let mut states = Vec::new();
    for _ in 0..actix_oauth::defaults::MAX_PENDING {
        states.push(begin_link(&browser, &app, p2, &longest_next).await);
        assert!(
            browser.largest_cookie() <= 4096,
            "{} bytes",
            browser.largest_cookie()
        );
    }
    // The newest handshakes all complete (the oldest gave way to the size limit).
    let newest = states.pop().expect("one");
    let done = finish(&browser, &app, p2, &newest).await;
    assert_eq!(done["next"], longest_next.as_str());
    // Another tab's handshake, in the same browser.
    let previous = states.pop().expect("two");
    finish(&browser, &app, p2, &previous).await;
    assert!(browser.largest_cookie() <= 4096);
    for provider in [p1, p2] {
        let page = browser.get(&app.url(&format!("/call/{provider}"))).await;
        assert_eq!(page.json()["status"], 200, "{provider}: {}", page.text());
    }
}

#[actix_rt::test]
async fn an_oversized_session_is_a_clear_page_not_a_blank_500() {
    let tokens = token_endpoint(100, 100);
    let api = FakeProvider::answering(Answer::json("{}"));
    let app = serve(vec![remote("p", &tokens, &api)], |o| o);
    let browser = Browser::new();
    let page = browser.post_form(&app.url("/stuff"), &[]).await;
    assert_eq!(page.status, 500);
    assert!(page.content_type.starts_with("text/html"), "{page:?}");
    let text = page.text();
    assert!(text.contains("session_too_large"), "{text}");
    assert!(text.contains("too large"), "{text}");
    // The browser was not handed a cookie it would drop, and can still sign in.
    assert!(browser.largest_cookie() <= 4096);
    let state = begin(&browser, &app, "p", "/").await;
    finish(&browser, &app, "p", &state).await;
}

#[actix_rt::test]
async fn signing_out_makes_a_copied_cookie_worthless() {
    let tokens = token_endpoint(200, 200);
    let api = FakeProvider::answering(Answer::json("{}"));
    let store = actix_oauth::MemoryTokenStore::new();
    let app = serve(vec![remote("p", &tokens, &api)], |o| {
        o.token_store(store.clone())
    });
    let browser = Browser::new();
    // A session planted before sign-in reaches nothing after it: a new handle at sign-in.
    let planted = browser.fork();
    let state = begin(&browser, &app, "p", "/").await;
    finish(&browser, &app, "p", &state).await;
    assert_eq!(store.len(), 1);
    let stolen = browser.fork();
    assert_eq!(stolen.get(&app.url("/call/p")).await.json()["status"], 200);
    let page = planted.get(&app.url("/call/p")).await;
    assert_eq!(page.status, 401, "{}", page.text());

    let page = browser.post_form(&app.url("/logout"), &[]).await;
    assert_eq!(page.status, 204);
    assert!(store.is_empty(), "the tokens are deleted server-side");
    let page = stolen.get(&app.url("/call/p")).await;
    assert_eq!(page.status, 401, "{}", page.text());
    assert!(page.text().contains("token_missing"), "{}", page.text());
}

#[cfg(feature = "redis")]
#[actix_rt::test]
async fn redis_token_store_serves_every_instance() {
    let Ok(redis_url) = std::env::var("REDIS_URL") else {
        say_skipped("REDIS_URL is not set: skipping the Redis token store test");
        return;
    };
    let tokens = token_endpoint(3000, 1800);
    let api = FakeProvider::answering(Answer::json("{}"));
    let key = Key::generate();
    let prefix = format!("actix_oauth_test:{}:", rand_suffix());
    let mut apps = Vec::new();
    let (la, url_a) = listener();
    let (lb, _) = listener();
    for l in [la, lb] {
        let store = actix_oauth::token_store::RedisTokenStore::connect(&redis_url)
            .await
            .expect("redis")
            .prefix(prefix.clone())
            .ttl(Duration::from_secs(60));
        // Both instances have the same public URL (as behind a load balancer).
        let oauth = oauth(vec![remote("p", &tokens, &api)], &url_a)
            .token_store(store)
            .build()
            .unwrap();
        apps.push(start(oauth, l, key.clone()));
    }
    let (a, b) = (&apps[0], &apps[1]);
    let browser = Browser::new();
    let state = begin(&browser, a, "p", "/").await;
    finish(&browser, a, "p", &state).await;
    // The call lands on the other instance, which finds the token in Redis.
    let page = browser.get(&b.url("/call/p")).await;
    assert_eq!(page.json()["status"], 200, "{}", page.text());
    let stolen = browser.fork();
    let page = browser.post_form(&b.url("/logout"), &[]).await;
    assert_eq!(page.status, 204);
    let page = stolen.get(&a.url("/call/p")).await;
    assert_eq!(page.status, 401, "{}", page.text());

    // The store's own operations, directly.
    let store = actix_oauth::token_store::RedisTokenStore::connect(&redis_url)
        .await
        .unwrap()
        .prefix(prefix.clone());
    let token = actix_oauth::TokenResponse::new(actix_oauth::AccessToken::new("t".into()));
    store.save("h1", "x", &token).await.unwrap();
    store.rename("h1", "h2").await.unwrap();
    store.rename("absent", "h3").await.unwrap();
    assert!(store.load("h1", "x").await.unwrap().is_none());
    assert_eq!(
        store
            .load("h2", "x")
            .await
            .unwrap()
            .unwrap()
            .access_token()
            .secret(),
        "t"
    );
    store.remove("h2", "x").await.unwrap();
    assert!(store.load("h2", "x").await.unwrap().is_none());
}

#[cfg(feature = "redis")]
fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// The accounts database (SQLite here; PostgreSQL in `accounts.rs`) as the app's token store:
/// sign-in keeps the token there, API calls read it, sign-out deletes it.
#[cfg(feature = "accounts")]
#[actix_rt::test]
async fn accounts_database_as_the_token_store() {
    use actix_oauth::accounts::{SqlStore, TokenKey};

    let store = SqlStore::connect("sqlite::memory:")
        .await
        .unwrap()
        .token_key(TokenKey::generate());
    store.migrate().await.unwrap();
    let tokens = token_endpoint(3000, 1800);
    let api = FakeProvider::answering(Answer::json("{}"));
    let app = serve(vec![remote("p", &tokens, &api)], |o| {
        o.token_store(store.clone())
    });
    let browser = Browser::new();
    let state = begin(&browser, &app, "p", "/").await;
    finish(&browser, &app, "p", &state).await;
    let stolen = browser.fork();
    let page = browser.get(&app.url("/call/p")).await;
    assert_eq!(page.json()["status"], 200, "{}", page.text());
    assert_eq!(
        browser.post_form(&app.url("/logout"), &[]).await.status,
        204
    );
    let page = stolen.get(&app.url("/call/p")).await;
    assert_eq!(page.status, 401, "{}", page.text());
}

/// A session planted in the browser before sign-in (an attacker's own, signed in with their
/// account) cannot hand its tokens to the user who signs in there; linking keeps earlier tokens.
#[actix_rt::test]
async fn a_planted_sessions_tokens_never_become_the_users() {
    let (tokens_p, tokens_q) = (token_endpoint(200, 200), token_endpoint(200, 200));
    let api = FakeProvider::answering(Answer::json("{}"));
    let app = serve(
        vec![remote("p", &tokens_p, &api), remote("q", &tokens_q, &api)],
        |o| o,
    );
    let attacker = Browser::new();
    let state = begin(&attacker, &app, "p", "/").await;
    finish(&attacker, &app, "p", &state).await;
    assert_eq!(
        attacker.get(&app.url("/call/p")).await.json()["status"],
        200
    );
    // The attacker's cookie planted in the victim's browser; the victim signs in with `q`.
    let victim = attacker.fork();
    let state = begin(&victim, &app, "q", "/").await;
    finish(&victim, &app, "q", &state).await;
    assert_eq!(victim.get(&app.url("/call/q")).await.json()["status"], 200);
    let page = victim.get(&app.url("/call/p")).await;
    assert_eq!(page.status, 401, "the attacker's token: {}", page.text());

    // Linking (started after the CSRF check) keeps the earlier sign-in's token.
    let user = Browser::new();
    let state = begin(&user, &app, "p", "/").await;
    finish(&user, &app, "p", &state).await;
    let state = begin_link(&user, &app, "q", "/").await;
    finish(&user, &app, "q", &state).await;
    for provider in ["p", "q"] {
        let page = user.get(&app.url(&format!("/call/{provider}"))).await;
        assert_eq!(page.json()["status"], 200, "{provider}: {}", page.text());
    }
}

/// A linking sign-in moves the earlier sign-ins' tokens to a new handle, and their back-channel
/// logout index entries with them: the provider of the earlier sign-in can still end the
/// session. The SQL store's `rename` moves the tokens, not the index (as Redis's), so this
/// relies on `keep_token` indexing the moved sign-ins again under the new handle.
#[cfg(all(feature = "accounts", feature = "oidc"))]
#[actix_rt::test]
async fn a_linking_sign_in_keeps_the_earlier_sign_ins_back_channel_logout() {
    use actix_oauth::accounts::SqlStore;

    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    let (l, url) = listener();
    let dev = actix_oauth_dev::DevProvider::builder()
        .client("app", "app-secret", [format!("{url}auth/dev/callback")])
        .start()
        .expect("dev provider");
    let tokens = token_endpoint(200, 200);
    let api = FakeProvider::answering(Answer::json("{}"));
    let apps = vec![
        RemoteApp::builder("dev")
            .issuer(dev.issuer())
            .consumer_key("app")
            .consumer_secret("app-secret")
            .scope(["openid"]),
        remote("q", &tokens, &api),
    ];
    let oauth = oauth(apps, &url)
        .token_store(store.clone())
        .build()
        .expect("valid configuration");
    let app = start(oauth, l, Key::generate());

    // Signed in with `dev` (an ID token for dev-alice, indexed), then `q` linked.
    let browser = Browser::new();
    let start_page = browser.get(&app.url("/auth/dev?next=/")).await;
    assert_eq!(start_page.status, 302, "{}", start_page.text());
    let authorize = url::Url::parse(start_page.location.as_deref().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), "alice".into()));
    let mut post = authorize.clone();
    post.set_query(None);
    let back = browser.post_form(post.as_str(), &form).await;
    assert_eq!(back.status, 302, "{}", back.text());
    let done = browser.get(back.location.as_deref().unwrap()).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let state = begin_link(&browser, &app, "q", "/").await;
    finish(&browser, &app, "q", &state).await;
    let page = browser.get(&app.url("/call/q")).await;
    assert_eq!(page.json()["status"], 200, "{}", page.text());

    // The provider ends dev-alice's sessions (what a back-channel logout token does): the
    // session, under the handle the linking sign-in gave it, is signed out, `q` included.
    let ended = store
        .end_sessions("dev", Some("dev-alice"), None)
        .await
        .unwrap();
    assert!(ended >= 1, "{ended}");
    let page = browser.get(&app.url("/call/q")).await;
    assert_eq!(page.status, 401, "still signed in: {}", page.text());
}

/// What several instances share through a store (issue 19): refresh leases and their results,
/// single-use values, and compare-and-swap of a session's token. `tag` keeps runs apart in a
/// store that outlives the test.
async fn shares_leases_used_values_and_swaps(store: &dyn TokenStore, tag: &str) {
    use actix_oauth::{AccessToken, RefreshClaim, TokenResponse};

    let token = |value: &str| TokenResponse::new(AccessToken::new(value.to_owned()));
    let lease = Duration::from_secs(10);
    let key = format!("{tag}-lease");
    assert!(matches!(
        store.claim_refresh("p", &key, lease).await.unwrap(),
        RefreshClaim::Leased
    ));
    // Held: every other claim waits, on any instance; another provider's same key is another.
    assert!(matches!(
        store.claim_refresh("p", &key, lease).await.unwrap(),
        RefreshClaim::Busy
    ));
    assert!(matches!(
        store.claim_refresh("q", &key, lease).await.unwrap(),
        RefreshClaim::Leased
    ));
    store
        .finish_refresh("p", &key, Some(&token("fresh")), Duration::from_secs(10))
        .await
        .unwrap();
    match store.claim_refresh("p", &key, lease).await.unwrap() {
        RefreshClaim::Refreshed(fresh) => assert_eq!(fresh.access_token().secret(), "fresh"),
        other => panic!("{other:?}"),
    }
    // A failed refresh releases the lease for another try.
    store
        .finish_refresh("q", &key, None, Duration::from_secs(10))
        .await
        .unwrap();
    assert!(matches!(
        store.claim_refresh("q", &key, lease).await.unwrap(),
        RefreshClaim::Leased
    ));
    // A crashed holder's lease expires.
    let short = format!("{tag}-short");
    let brief = Duration::from_millis(300);
    assert!(matches!(
        store.claim_refresh("p", &short, brief).await.unwrap(),
        RefreshClaim::Leased
    ));
    assert!(matches!(
        store.claim_refresh("p", &short, brief).await.unwrap(),
        RefreshClaim::Busy
    ));
    actix_rt::time::sleep(Duration::from_millis(400)).await;
    assert!(matches!(
        store.claim_refresh("p", &short, brief).await.unwrap(),
        RefreshClaim::Leased
    ));

    // Single-use values.
    let used = format!("state:{tag}");
    assert!(store
        .use_once(&used, Duration::from_secs(60))
        .await
        .unwrap());
    assert!(!store
        .use_once(&used, Duration::from_secs(60))
        .await
        .unwrap());
    assert!(store
        .use_once(&format!("jti:{tag}"), Duration::from_secs(60))
        .await
        .unwrap());

    // Compare and swap: only over the token expected there.
    let handle = format!("{tag}handle");
    store.save(&handle, "p", &token("old")).await.unwrap();
    assert!(!store
        .replace(&handle, "p", &token("other"), &token("new"))
        .await
        .unwrap());
    assert!(store
        .replace(&handle, "p", &token("old"), &token("new"))
        .await
        .unwrap());
    assert!(!store
        .replace(&handle, "p", &token("old"), &token("newer"))
        .await
        .unwrap());
    let kept = store.load(&handle, "p").await.unwrap().unwrap();
    assert_eq!(kept.access_token().secret(), "new");
    assert!(!store
        .replace(&format!("{tag}absent"), "p", &token("old"), &token("new"))
        .await
        .unwrap());
    store.remove_all(&handle).await.unwrap();
}

#[actix_rt::test]
async fn every_store_shares_leases_used_values_and_swaps() {
    let tag = format!(
        "t{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    shares_leases_used_values_and_swaps(&actix_oauth::MemoryTokenStore::new(), &tag).await;
    #[cfg(feature = "accounts")]
    {
        use actix_oauth::accounts::{SqlStore, TokenKey};
        let sqlite = SqlStore::connect("sqlite::memory:")
            .await
            .unwrap()
            .token_key(TokenKey::generate());
        sqlite.migrate().await.unwrap();
        shares_leases_used_values_and_swaps(&sqlite, &tag).await;
        match std::env::var("DATABASE_URL") {
            Ok(url) if url.starts_with("postgres") => {
                let pg = SqlStore::connect(&url)
                    .await
                    .expect("postgres")
                    .token_key(TokenKey::generate());
                pg.migrate().await.unwrap();
                shares_leases_used_values_and_swaps(&pg, &tag).await;
            }
            _ => say_skipped("DATABASE_URL unset: the PostgreSQL token store is not tried"),
        }
    }
    #[cfg(feature = "redis")]
    match std::env::var("REDIS_URL") {
        Ok(url) => {
            let redis = actix_oauth::token_store::RedisTokenStore::connect(&url)
                .await
                .expect("redis")
                .prefix(format!("actix_oauth_test:{tag}:"))
                .ttl(Duration::from_secs(60));
            shares_leases_used_values_and_swaps(&redis, &tag).await;
        }
        Err(_) => say_skipped("REDIS_URL unset: the Redis token store is not tried"),
    }
}
