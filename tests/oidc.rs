//! OpenID Connect end to end against the development provider's OIDC side, over real HTTP on
//! loopback: discovery and JWKS caching, `id_token` validation with each failure as its own
//! error kind, key rotation followed by one bounded JWKS refetch, keys trusted only as long as
//! the JWKS's caching headers and the maximum age allow (a withdrawn key is refused once they
//! expired), the RFC 9207 `iss` check, and the normalized profile.
#![cfg(feature = "oidc")]

mod common;

use std::time::{Duration, Instant};

use actix_oauth::{
    providers::Any, AuthorizedResponse, OAuth, OAuthError, OAuthExtension, OAuthMiddleware,
    RemoteApp, RemoteAppBuilder,
};
use actix_oauth_dev::{DevAlgorithm, DevProvider, DevUser, IdTokenFault};
use actix_session::{storage::CookieSessionStore, SessionMiddleware};
use actix_web::{cookie::Key, web, App, HttpRequest, HttpResponse};
use common::{listener, serve, Answer, Browser, FakeProvider, Page, Running};
use serde_json::{json, Value};

async fn login(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    oauth.authorize(&req, &provider, None).await
}

/// The callback answers the validated claims and the normalized profile as JSON.
async fn callback(
    oauth: OAuthExtension,
    resp: Option<AuthorizedResponse<Any>>,
) -> Result<HttpResponse, OAuthError> {
    let Some(resp) = resp else {
        return Ok(HttpResponse::Forbidden().json(json!({ "declined": true })));
    };
    let profile = oauth.profile(resp.provider(), resp.token()).await?;
    Ok(HttpResponse::Ok().json(json!({
        "claims": resp.token().id_token_claims(),
        "profile": profile,
    })))
}

struct Setup {
    provider: DevProvider,
    app: Running,
}

fn setup(algorithm: DevAlgorithm, refetch: Duration) -> Setup {
    setup_with(algorithm, |app| app.jwks_refetch_interval(refetch))
}

/// The development provider and the app, the remote app `dev` configured further by `configure`.
fn setup_with(
    algorithm: DevAlgorithm,
    configure: impl FnOnce(RemoteAppBuilder) -> RemoteAppBuilder,
) -> Setup {
    let (l, url) = listener();
    let provider = DevProvider::builder()
        .client("app", "app-secret", [format!("{url}auth/dev/callback")])
        .user(
            DevUser::new("alice")
                .name("Alice Example")
                .email("alice@example.test")
                .picture("https://example.test/alice.png"),
        )
        .id_token_algorithm(algorithm)
        .start()
        .expect("dev provider");
    let oauth = OAuth::new()
        .remote_app(configure(
            RemoteApp::builder("dev")
                .issuer(provider.issuer())
                .client_id("app")
                .client_secret("app-secret")
                .scope(["openid", "email", "profile"]),
        ))
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
                    .build(),
            )
            .route("/auth/{provider}", web::get().to(login))
            .route("/auth/{provider}/callback", web::get().to(callback))
    });
    Setup { provider, app }
}

/// Starts a sign-in, approves it as alice, and returns the provider's redirect back.
async fn approve(browser: &Browser, app: &Running) -> String {
    let start = browser.get(&app.url("/auth/dev")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let authorize = start.location.expect("location");
    let url = url::Url::parse(&authorize).expect("authorize url");
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(
        query.iter().any(|(k, v)| k == "nonce" && v.len() >= 43),
        "a nonce of 256 bits is sent: {authorize}"
    );
    let mut form = query;
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), "alice".into()));
    let mut post = url.clone();
    post.set_query(None);
    let back = browser.post_form(post.as_str(), &form).await;
    assert_eq!(back.status, 302, "{}", back.text());
    back.location.expect("redirect back")
}

async fn sign_in(app: &Running) -> Page {
    let browser = Browser::new();
    let back = approve(&browser, app).await;
    browser.get(&back).await
}

fn kind_of(page: &Page) -> String {
    let text = page.text();
    let start = text.find("<code>").map(|i| i + 6).unwrap_or(0);
    let end = text[start..]
        .find("</code>")
        .map(|i| i + start)
        .unwrap_or(start);
    text[start..end].to_owned()
}

#[actix_rt::test]
async fn sign_in_validates_the_id_token_and_caches_discovery_and_keys() {
    for algorithm in [DevAlgorithm::Rs256, DevAlgorithm::Es256] {
        let Setup { provider, app } = setup(algorithm, Duration::from_secs(60));
        let done = sign_in(&app).await;
        assert_eq!(done.status, 200, "{algorithm:?}: {}", done.text());
        let body: Value = done.json();
        let claims = &body["claims"];
        assert_eq!(claims["iss"], provider.issuer());
        assert_eq!(claims["aud"], "app");
        assert!(claims["nonce"].as_str().is_some_and(|n| n.len() >= 43));
        let profile = &body["profile"];
        assert_eq!(profile["provider"], "dev");
        assert_eq!(profile["subject"], claims["sub"]);
        assert_eq!(profile["name"], "Alice Example");
        assert_eq!(profile["username"], "alice");
        assert_eq!(profile["email"], "alice@example.test");
        assert_eq!(profile["email_verified"], true);
        assert_eq!(profile["picture"], "https://example.test/alice.png");

        let again = sign_in(&app).await;
        assert_eq!(again.status, 200, "{}", again.text());
        assert_eq!(provider.discovery_requests(), 1, "discovery is cached");
        assert_eq!(provider.jwks_requests(), 1, "the JWKS is cached");
    }
}

#[actix_rt::test]
async fn each_id_token_failure_is_its_own_error_kind() {
    let Setup { provider, app } = setup(DevAlgorithm::Es256, Duration::from_secs(60));
    let cases = [
        (IdTokenFault::WrongAudience, "id_token_audience", 502),
        (IdTokenFault::Expired, "id_token_expired", 502),
        (IdTokenFault::BadSignature, "id_token_signature", 502),
        (IdTokenFault::WrongNonce, "id_token_nonce", 400),
        (IdTokenFault::MissingNonce, "id_token_nonce", 400),
        (IdTokenFault::WrongIssuer, "id_token_issuer", 502),
        (IdTokenFault::AlgNone, "id_token_algorithm", 502),
        (IdTokenFault::IssuedInFuture, "id_token_issued_at", 502),
        (IdTokenFault::UnknownKid, "id_token_unknown_key", 502),
    ];
    for (fault, kind, status) in cases {
        provider.set_id_token_fault(Some(fault));
        let page = sign_in(&app).await;
        assert_eq!(page.status, status, "{fault:?}: {}", page.text());
        assert_eq!(kind_of(&page), kind, "{fault:?}: {}", page.text());
    }
    // The keys were fetched for the first token; unknown key ids within the refetch interval
    // after that cause no further fetch (forged kids cannot make us hammer the provider).
    // `key_rotation_is_followed_by_one_refetch` shows the refetch once the interval passed.
    assert_eq!(
        provider.jwks_requests(),
        1,
        "no refetch within the interval"
    );
    let page = sign_in(&app).await;
    assert_eq!(kind_of(&page), "id_token_unknown_key");
    assert_eq!(provider.jwks_requests(), 1, "still none");

    provider.set_id_token_fault(None);
    let page = sign_in(&app).await;
    assert_eq!(
        page.status,
        200,
        "the next sign-in succeeds: {}",
        page.text()
    );
}

#[actix_rt::test]
async fn key_rotation_is_followed_by_one_refetch() {
    let Setup { provider, app } = setup(DevAlgorithm::Rs256, Duration::from_millis(300));
    let first = sign_in(&app).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(provider.jwks_requests(), 1);
    let old = provider.signing_key_id();
    let new = provider.rotate_signing_key().expect("rotate");
    assert_ne!(old, new);
    actix_rt::time::sleep(Duration::from_millis(400)).await;
    let rotated = sign_in(&app).await;
    assert_eq!(rotated.status, 200, "{}", rotated.text());
    assert_eq!(provider.jwks_requests(), 2, "one refetch found the new key");
    let again = sign_in(&app).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(provider.jwks_requests(), 2, "then the cache serves it");
}

/// Sleeps until `at`.
async fn sleep_until(at: Instant) {
    actix_rt::time::sleep(at.saturating_duration_since(Instant::now())).await;
}

/// A key the provider withdrew (the JWKS served with `Cache-Control: max-age=3`) keeps
/// verifying only while the cached JWKS is fresh: a token it signs is accepted before the age
/// passed and refused (`id_token_unknown_key`) after, when the next sign-in fetched the JWKS
/// without it.
#[actix_rt::test]
async fn a_withdrawn_key_is_refused_once_the_jwks_max_age_passed() {
    let Setup { provider, app } = setup_with(DevAlgorithm::Es256, |app| {
        app.jwks_refetch_interval(Duration::from_millis(200))
    });
    let max_age = Duration::from_secs(3);
    provider
        .set_jwks_cache_control(&format!("public, max-age={}", max_age.as_secs()))
        .expect("a header value");
    let old = provider.signing_key_id();
    provider.rotate_signing_key().expect("rotate");
    // The JWKS now publishes the new key and the old one; the first sign-in fetches both.
    let fetched_before = Instant::now();
    let first = sign_in(&app).await;
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(provider.jwks_requests(), 1);

    // The provider withdraws the old key; a token is signed with it all the same.
    provider.drop_old_keys();
    provider.set_id_token_fault(Some(IdTokenFault::WithdrawnKey));
    let before = sign_in(&app).await;
    assert!(
        fetched_before.elapsed() < max_age,
        "the machine is too slow for this test: two sign-ins took {:?}",
        fetched_before.elapsed()
    );
    assert_eq!(
        before.status,
        200,
        "accepted while the cached JWKS (with {old}) is fresh: {}",
        before.text()
    );
    assert_eq!(provider.jwks_requests(), 1, "the fresh JWKS is not fetched");

    sleep_until(Instant::now() + max_age + Duration::from_millis(300)).await;
    let after = sign_in(&app).await;
    assert_eq!(after.status, 502, "{}", after.text());
    assert_eq!(kind_of(&after), "id_token_unknown_key", "{}", after.text());
    assert_eq!(provider.jwks_requests(), 2, "the expired JWKS was fetched");

    provider.set_id_token_fault(None);
    let current = sign_in(&app).await;
    assert_eq!(current.status, 200, "{}", current.text());
    assert_eq!(provider.jwks_requests(), 2, "the new JWKS is fresh");
}

/// `jwks_max_age` caps what the provider's caching headers allow: with a maximum of 1 s, a JWKS
/// served with `max-age` of a day is fetched again after 1 s, and a withdrawn key is refused.
/// The refetch interval (60 s by default) does not hold the keys longer than the maximum.
#[actix_rt::test]
async fn jwks_max_age_caps_the_providers_cache_headers() {
    let max_age = Duration::from_secs(1);
    let Setup { provider, app } = setup_with(DevAlgorithm::Es256, |app| app.jwks_max_age(max_age));
    provider
        .set_jwks_cache_control("public, max-age=86400")
        .expect("a header value");
    provider.rotate_signing_key().expect("rotate");
    let first = sign_in(&app).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let fetched = Instant::now();
    provider.drop_old_keys();
    provider.set_id_token_fault(Some(IdTokenFault::WithdrawnKey));

    sleep_until(fetched + max_age + Duration::from_millis(300)).await;
    let after = sign_in(&app).await;
    assert_eq!(after.status, 502, "{}", after.text());
    assert_eq!(kind_of(&after), "id_token_unknown_key", "{}", after.text());
    assert_eq!(
        provider.jwks_requests(),
        2,
        "fetched again after 1 s, not a day"
    );
}

/// Keys that expired while the provider's JWKS is down are used for a bounded grace (the
/// maximum age, at most an hour) after their expiry, so an outage does not stop sign-in; past
/// it, sign-in fails with `discovery` until the JWKS answers again.
#[actix_rt::test]
async fn expired_keys_are_used_for_a_bounded_grace_while_the_jwks_is_down() {
    let max_age = Duration::from_secs(2);
    let interval = Duration::from_millis(200);
    let Setup { provider, app } = setup_with(DevAlgorithm::Es256, |app| {
        app.jwks_max_age(max_age).jwks_refetch_interval(interval)
    });
    let started = Instant::now();
    let first = sign_in(&app).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let fetched = Instant::now();
    provider.set_jwks_unavailable(true);

    // Expired, within the grace: the old keys still verify.
    sleep_until(fetched + max_age + Duration::from_millis(300)).await;
    let stale = sign_in(&app).await;
    assert!(
        started.elapsed() < 2 * max_age,
        "the machine is too slow for this test: {:?}",
        started.elapsed()
    );
    assert_eq!(stale.status, 200, "{}", stale.text());
    assert_eq!(
        provider.jwks_requests(),
        2,
        "the expired keys were asked for"
    );

    // Past the grace: refused until the JWKS can be fetched.
    sleep_until(fetched + 2 * max_age + Duration::from_millis(300)).await;
    let refused = sign_in(&app).await;
    assert_eq!(refused.status, 502, "{}", refused.text());
    assert_eq!(kind_of(&refused), "discovery", "{}", refused.text());

    provider.set_jwks_unavailable(false);
    sleep_until(Instant::now() + interval + Duration::from_millis(100)).await;
    let back = sign_in(&app).await;
    assert_eq!(back.status, 200, "{}", back.text());
}

#[actix_rt::test]
async fn callback_iss_must_name_the_issuer() {
    let Setup { provider, app } = setup(DevAlgorithm::Es256, Duration::from_secs(60));
    for (tamper, expect) in [
        (Some("https://attacker.example"), 400),
        (None, 400),
        (Some(provider.issuer()), 200),
    ] {
        let browser = Browser::new();
        let back = approve(&browser, &app).await;
        let mut url = url::Url::parse(&back).expect("callback url");
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != "iss")
            .collect();
        assert!(
            back.contains("iss="),
            "the provider advertises RFC 9207 and sends iss: {back}"
        );
        url.query_pairs_mut().clear().extend_pairs(&pairs);
        if let Some(iss) = tamper {
            url.query_pairs_mut().append_pair("iss", iss);
        }
        let page = browser.get(url.as_str()).await;
        assert_eq!(page.status, expect, "{tamper:?}: {}", page.text());
        if expect == 400 {
            assert_eq!(kind_of(&page), "issuer_mismatch");
        }
    }
}

#[actix_rt::test]
async fn a_discovery_document_for_another_issuer_is_refused() {
    let Setup {
        provider,
        app: _app,
    } = setup(DevAlgorithm::Es256, Duration::from_secs(60));
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("lookalike")
                .issuer(format!("{}/", provider.issuer()))
                .client_id("app")
                .client_secret("app-secret"),
        )
        .build()
        .expect("config");
    let err = oauth
        .discover("lookalike")
        .await
        .expect_err("issuer differs");
    assert_eq!(err.kind().as_str(), "discovery", "{err}");
    let ok = OAuth::new()
        .remote_app(
            RemoteApp::builder("dev")
                .issuer(provider.issuer())
                .client_id("app")
                .client_secret("app-secret"),
        )
        .build()
        .expect("config");
    let metadata = ok.discover("dev").await.expect("discovery");
    assert_eq!(metadata.issuer, provider.issuer());
    assert!(metadata.authorization_response_iss_parameter_supported);
}

#[actix_rt::test]
async fn a_repeated_iss_is_refused() {
    let Setup { provider, app } = setup(DevAlgorithm::Es256, Duration::from_secs(60));
    let browser = Browser::new();
    let back = approve(&browser, &app).await;
    let mut url = url::Url::parse(&back).expect("callback url");
    // The right issuer first, an attacker's second: which one a reader takes must not matter.
    url.query_pairs_mut()
        .append_pair("iss", "https://attacker.example");
    let page = browser.get(url.as_str()).await;
    assert_eq!(page.status, 400, "{}", page.text());
    assert_eq!(kind_of(&page), "malformed", "{}", page.text());
    assert!(back.contains(&format!(
        "iss={}",
        url::form_urlencoded::byte_serialize(provider.issuer().as_bytes()).collect::<String>()
    )));
}

#[actix_rt::test]
async fn a_provider_that_is_down_is_not_asked_again_on_every_sign_in() {
    let down = FakeProvider::answering(Answer::new(500, "text/html", "<h1>down</h1>"));
    let interval = Duration::from_millis(400);
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("down")
                .issuer(down.url("").trim_end_matches('/'))
                .client_id("app")
                .client_secret("app-secret")
                .jwks_refetch_interval(interval),
        )
        .build()
        .expect("config");
    let first = oauth
        .discover("down")
        .await
        .expect_err("the provider is down");
    assert_ne!(first.kind().as_str(), "configuration", "{first}");
    for _ in 0..5 {
        let again = oauth.discover("down").await.expect_err("still down");
        assert_eq!(again.kind().as_str(), "discovery", "{again}");
        assert!(again.to_string().contains("failed less than"), "{again}");
    }
    assert_eq!(down.requests().len(), 1, "one fetch within the interval");
    actix_rt::time::sleep(interval + Duration::from_millis(100)).await;
    oauth.discover("down").await.expect_err("still down");
    assert_eq!(down.requests().len(), 2, "asked again after the interval");
}
