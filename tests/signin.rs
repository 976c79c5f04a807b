//! Full OAuth 2 sign-ins against the crate's development provider, over real HTTP on loopback,
//! with a cookie-keeping browser: success, denial, forged / missing / replayed state, two tabs,
//! the pending-handshake bound, and a wrong client secret.

mod common;

use std::collections::BTreeMap;

use actix_oauth::{OAuth, RemoteApp};
use actix_oauth_dev::DevProvider;
use common::{listener, start_app_with, Browser, Page, Running};

struct Setup {
    provider: DevProvider,
    app: Running,
}

fn setup_with(secret_used_by_app: &str, middleware: bool) -> Setup {
    let (l, url) = listener();
    let callback = format!("{url}auth/dev/callback");
    let provider = DevProvider::builder()
        .client("app", "app-secret", [callback])
        .start()
        .expect("dev provider");
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("dev")
                .authorize_url(provider.authorize_url().as_str())
                .access_token_url(provider.token_url().as_str())
                .userinfo_url(provider.userinfo_url().as_str())
                .consumer_key("app")
                .consumer_secret(secret_used_by_app)
                .scope(["openid", "profile"]),
        )
        .public_url(url.as_str())
        .build()
        .expect("config");
    let app = start_app_with(oauth, l, middleware);
    Setup { provider, app }
}

fn setup() -> Setup {
    setup_with("app-secret", true)
}

/// Begins a sign-in and returns the provider's authorization URL.
async fn begin(browser: &Browser, app: &Running, next: &str) -> String {
    let start = browser
        .get(&app.url(&format!("/auth/dev?next={next}")))
        .await;
    assert_eq!(start.status, 302, "{}", start.text());
    start.location.expect("location")
}

/// Shows the consent page and answers it; returns the provider's redirect back to the app.
async fn decide(browser: &Browser, authorize_url: &str, decision: &str) -> String {
    let consent = browser.get(authorize_url).await;
    assert_eq!(consent.status, 200, "{}", consent.text());
    assert!(consent.text().contains("Approve"));
    let url = url::Url::parse(authorize_url).unwrap();
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.push(("decision".into(), decision.into()));
    form.push(("user".into(), "alice".into()));
    let post_url = format!(
        "{}://{}{}",
        url.scheme(),
        url.host_str().unwrap(),
        url.port().map(|p| format!(":{p}")).unwrap_or_default()
    ) + url.path();
    let back = browser.post_form(&post_url, &form).await;
    assert_eq!(back.status, 302, "{}", back.text());
    back.location.expect("redirect back")
}

async fn signed_in(browser: &Browser, app: &Running) -> bool {
    let page = browser.get(&app.url("/token/dev")).await;
    match page.status {
        200 => true,
        401 => false,
        other => panic!("unexpected {other}: {}", page.text()),
    }
}

fn query(url: &str) -> BTreeMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

#[actix_rt::test]
async fn full_sign_in() {
    let Setup { app, provider: _p } = setup();
    let browser = Browser::new();
    let authorize = begin(&browser, &app, "/after?x=1").await;
    let params = query(&authorize);
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["client_id"], "app");
    assert_eq!(params["redirect_uri"], app.url("/auth/dev/callback"));
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["scope"], "openid profile");
    assert!(params["state"].len() >= 43, "state has at least 256 bits");
    assert!(!authorize.contains("app-secret"));

    let back = decide(&browser, &authorize, "approve").await;
    assert!(back.starts_with(&app.url("/auth/dev/callback")), "{back}");
    let done = browser.get(&back).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let body = done.json();
    assert_eq!(body["provider"], "dev");
    assert_eq!(body["next"], "/after?x=1");
    assert_eq!(body["has_refresh_token"], true);

    assert!(signed_in(&browser, &app).await);
    let me = browser.get(&app.url("/userinfo/dev")).await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["preferred_username"], "alice");

    // Replaying the same callback in the same browser: the state was single use.
    let replay = browser.get(&back).await;
    assert_eq!(replay.status, 400, "{}", replay.text());
    // And from another browser that never started a sign-in.
    let thief = Browser::new();
    let stolen = thief.get(&back).await;
    assert_eq!(stolen.status, 400, "{}", stolen.text());
    // The state was used: "already used", even for a browser that has no sign-in pending.
    assert!(
        stolen.text().contains("state_mismatch"),
        "{}",
        stolen.text()
    );
    assert!(!signed_in(&thief, &app).await);
}

#[actix_rt::test]
async fn unsafe_next_is_dropped() {
    let Setup { app, provider: _p } = setup();
    let browser = Browser::new();
    let authorize = begin(&browser, &app, "//evil.example/").await;
    let back = decide(&browser, &authorize, "approve").await;
    let done = browser.get(&back).await;
    assert_eq!(done.json()["next"], serde_json::Value::Null);
}

#[actix_rt::test]
async fn denial_gives_none() {
    let Setup { app, provider: _p } = setup();
    let browser = Browser::new();
    let authorize = begin(&browser, &app, "/").await;
    let back = decide(&browser, &authorize, "deny").await;
    assert_eq!(query(&back)["error"], "access_denied");
    let done = browser.get(&back).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["denied"], true);
    assert!(!signed_in(&browser, &app).await);
}

async fn assert_refused(page: &Page, kind: &str) {
    assert_eq!(page.status, 400, "{}", page.text());
    assert!(
        page.text().contains(&format!("<code>{kind}</code>")),
        "{}",
        page.text()
    );
}

#[actix_rt::test]
async fn tampered_and_missing_state_are_refused() {
    let Setup { app, provider } = setup();
    let browser = Browser::new();
    let authorize = begin(&browser, &app, "/").await;
    let back = decide(&browser, &authorize, "approve").await;
    let params = query(&back);
    let code = &params["code"];
    let mut forged = params["state"].clone();
    forged.replace_range(0..1, if forged.starts_with('A') { "B" } else { "A" });

    let tokens_before = provider.token_requests();
    let page = browser
        .get(&app.url(&format!("/auth/dev/callback?code={code}&state={forged}")))
        .await;
    assert_refused(&page, "state_mismatch").await;
    let page = browser
        .get(&app.url(&format!("/auth/dev/callback?code={code}")))
        .await;
    assert_refused(&page, "state_missing").await;
    let page = browser
        .get(&app.url(&format!(
            "/auth/dev/callback?code={code}&state={forged}&state={forged}"
        )))
        .await;
    assert_refused(&page, "malformed").await;
    assert_eq!(
        provider.token_requests(),
        tokens_before,
        "no code was exchanged"
    );
    assert!(!signed_in(&browser, &app).await);

    // The genuine callback still completes: a forged one did not consume the handshake.
    let done = browser.get(&back).await;
    assert_eq!(done.status, 200, "{}", done.text());
}

#[actix_rt::test]
async fn two_tabs_both_complete() {
    let Setup { app, provider: _p } = setup();
    let browser = Browser::new();
    let first = begin(&browser, &app, "/one").await;
    let second = begin(&browser, &app, "/two").await;
    let back_second = decide(&browser, &second, "approve").await;
    let back_first = decide(&browser, &first, "approve").await;
    let done = browser.get(&back_second).await;
    assert_eq!(done.json()["next"], "/two", "{}", done.text());
    let done = browser.get(&back_first).await;
    assert_eq!(done.json()["next"], "/one", "{}", done.text());
}

#[actix_rt::test]
async fn pending_handshakes_are_bounded() {
    let Setup { app, provider: _p } = setup();
    let browser = Browser::new();
    let oldest = begin(&browser, &app, "/oldest").await;
    for _ in 0..actix_oauth::defaults::MAX_PENDING {
        begin(&browser, &app, "/").await;
    }
    let back = decide(&browser, &oldest, "approve").await;
    let page = browser.get(&back).await;
    assert_refused(&page, "state_mismatch").await;
}

#[actix_rt::test]
async fn wrong_client_secret_is_a_provider_error() {
    let Setup { app, provider: _p } = setup_with("not-the-secret", true);
    let browser = Browser::new();
    let authorize = begin(&browser, &app, "/").await;
    let back = decide(&browser, &authorize, "approve").await;
    let page = browser.get(&back).await;
    assert_eq!(page.status, 502, "{}", page.text());
    assert!(page.text().contains("invalid_client"), "{}", page.text());
    assert!(!page.text().contains("not-the-secret"));
    assert!(!signed_in(&browser, &app).await);
}

#[actix_rt::test]
async fn extractor_alone_completes_the_handshake_without_middleware() {
    let Setup { app, provider: _p } = setup_with("app-secret", false);
    let browser = Browser::new();
    let authorize = begin(&browser, &app, "/x").await;
    let back = decide(&browser, &authorize, "approve").await;
    let done = browser.get(&back).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["next"], "/x");
    assert!(signed_in(&browser, &app).await);
}

#[actix_rt::test]
async fn unknown_provider_and_bad_configuration() {
    let Setup { app, provider: _p } = setup();
    let browser = Browser::new();
    let page = browser.get(&app.url("/auth/nope")).await;
    assert_eq!(page.status, 500, "{}", page.text());
    assert!(page.text().contains("<code>configuration</code>"));

    let err = OAuth::new()
        .remote_app(
            RemoteApp::builder("x")
                .authorize_url("https://x.example/a")
                .consumer_key("k")
                .consumer_secret("s"),
        )
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), actix_oauth::ErrorKind::Configuration);
    assert!(
        err.to_string().contains("`access_token_url` is required"),
        "{err}"
    );
}
