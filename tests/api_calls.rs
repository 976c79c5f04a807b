//! Calling the provider's API on the user's behalf, against the development provider over
//! loopback: response formats, form bodies, app tokens, refresh (including 20 concurrent calls
//! racing on one expired token), a refused refresh, and the token getter.

mod common;

use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::Duration,
};

use actix_oauth::{AccessToken, OAuth, RefreshToken, RemoteApp, RemoteAppBuilder, TokenResponse};
use actix_oauth_dev::DevProvider;
use common::{listener, start_app, Browser, Running};

struct Setup {
    provider: DevProvider,
    app: Running,
    updates: Arc<AtomicUsize>,
}

fn dev_app(provider: &DevProvider) -> RemoteAppBuilder {
    RemoteApp::builder("dev")
        .authorize_url(provider.authorize_url().as_str())
        .access_token_url(provider.token_url().as_str())
        .userinfo_url(provider.userinfo_url().as_str())
        .base_url(provider.api_url().as_str())
        .consumer_key("app")
        .consumer_secret("app-secret")
}

fn setup(token_lifetime: Duration, configure: impl FnOnce(OAuth) -> OAuth) -> Setup {
    let (l, url) = listener();
    let provider = DevProvider::builder()
        .client("app", "app-secret", [format!("{url}auth/dev/callback")])
        .token_lifetime(token_lifetime)
        .start()
        .expect("dev provider");
    let updates = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&updates);
    let oauth = configure(
        OAuth::new()
            .remote_app(dev_app(&provider))
            .public_url(url.as_str())
            .on_token_update(move |_req, provider, token| {
                let seen = Arc::clone(&seen);
                async move {
                    assert_eq!(provider, "dev");
                    assert!(token.refresh_token().is_some());
                    seen.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }
            }),
    )
    .build()
    .expect("config");
    let app = start_app(oauth, l);
    Setup {
        provider,
        app,
        updates,
    }
}

/// Signs `browser` in with the development provider.
async fn sign_in(browser: &Browser, app: &Running) {
    let start = browser.get(&app.url("/auth/dev")).await;
    let authorize = url::Url::parse(start.location.as_deref().expect("redirect")).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), "alice".into()));
    let mut post = authorize.clone();
    post.set_query(None);
    let back = browser.post_form(post.as_str(), &form).await;
    let done = browser
        .get(back.location.as_deref().expect("redirect back"))
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
}

#[actix_rt::test]
async fn formats_json_form_xml_and_post() {
    let Setup {
        app, provider: _p, ..
    } = setup(Duration::from_secs(3600), |o| o);
    let browser = Browser::new();

    let page = browser.get(&app.url("/call/dev/me")).await;
    assert_eq!(page.status, 401, "not signed in yet: {}", page.text());
    assert_eq!(page.json()["error"], "token_missing");

    sign_in(&browser, &app).await;
    let json = browser.get(&app.url("/call/dev/me")).await.json();
    assert_eq!(json["status"], 200, "{json}");
    assert_eq!(json["data"]["preferred_username"], "alice");

    let form = browser.get(&app.url("/call/dev/form?x=1")).await.json();
    assert_eq!(
        form["content_type"], "application/x-www-form-urlencoded",
        "{form}"
    );
    assert_eq!(form["data"]["user"], "alice");

    let xml = browser.get(&app.url("/call/dev/xml")).await.json();
    assert!(
        xml["content_type"].as_str().unwrap().contains("xml"),
        "{xml}"
    );
    assert_eq!(xml["data"]["name"], "user");
    assert_eq!(xml["data"]["attributes"]["id"], "dev-alice");

    let echo = browser
        .post_form(
            &app.url("/call/dev/echo?q=1"),
            &[("status".into(), "Hello & good bye".into())],
        )
        .await
        .json();
    assert_eq!(echo["status"], 200, "{echo}");
    assert_eq!(echo["data"]["method"], "POST");
    assert_eq!(echo["data"]["form"]["status"], "Hello & good bye");
    assert_eq!(echo["data"]["query"]["q"], "1");
    assert_eq!(echo["data"]["user"], "alice");

    // A non-2xx answer is a response the app can look at.
    let missing = browser
        .get(&app.url("/call/dev/no-such-endpoint"))
        .await
        .json();
    assert_eq!(missing["status"], 404, "{missing}");
}

#[actix_rt::test]
async fn app_token_from_client_credentials() {
    let Setup { app, provider, .. } = setup(Duration::from_secs(3600), |o| o);
    let browser = Browser::new();
    let before = provider.token_requests();
    for _ in 0..3 {
        let json = browser.get(&app.url("/call/dev/me?token=app")).await.json();
        assert_eq!(json["data"]["sub"], "client:app", "{json}");
    }
    assert_eq!(
        provider.token_requests() - before,
        1,
        "the app token is fetched once and reused"
    );
}

#[actix_rt::test]
async fn expired_token_is_refreshed_once_for_twenty_concurrent_calls() {
    // A 2 s token is within the refresh leeway: every call finds it expired.
    let Setup {
        app,
        provider,
        updates,
    } = setup(Duration::from_secs(2), |o| o);
    let browser = Browser::new();
    sign_in(&browser, &app).await;
    // The token signed in with is due; the refreshed one lives an hour (calls that start after
    // the refresh read it from the token store and need no refresh of their own).
    provider.set_token_lifetime(Duration::from_secs(3600));
    let before = provider.token_requests();
    let calls = (0..20).map(|_| {
        let browser = browser.clone();
        let url = app.url("/call/dev/me");
        async move { browser.get(&url).await.json() }
    });
    let results = futures_util::future::join_all(calls).await;
    for json in &results {
        assert_eq!(json["status"], 200, "{json}");
        assert_eq!(json["data"]["preferred_username"], "alice");
    }
    assert_eq!(provider.token_requests() - before, 1, "exactly one refresh");
    assert_eq!(
        updates.load(Ordering::SeqCst),
        1,
        "the hook saw the one new token"
    );
}

#[actix_rt::test]
async fn invalid_token_answer_triggers_one_refresh_and_a_retry() {
    // The token getter hands out an access token the provider does not know, with a real
    // refresh token obtained by a first sign-in through a normal session.
    let (l, url) = listener();
    let provider = DevProvider::builder()
        .client("app", "app-secret", [format!("{url}auth/dev/callback")])
        .start()
        .unwrap();
    let stale = TokenResponse::new(AccessToken::new("not-a-token".into()))
        .with_refresh_token(Some(RefreshToken::new("not-a-refresh-token".into())));
    let oauth = OAuth::new()
        .remote_app(dev_app(&provider))
        .public_url(url.as_str())
        .token_getter(move |_req, _provider, _name| {
            let stale = stale.clone();
            async move { Ok(Some(stale)) }
        })
        .build()
        .unwrap();
    let app = start_app(oauth, l);
    let before = provider.token_requests();
    let page = Browser::new().get(&app.url("/call/dev/me")).await;
    // The provider refuses the unknown refresh token: the user must sign in again.
    assert_eq!(page.status, 401, "{}", page.text());
    assert_eq!(page.json()["error"], "reauthentication_required");
    assert_eq!(
        provider.token_requests() - before,
        1,
        "one refresh attempt, no loop"
    );
}

#[actix_rt::test]
async fn without_base_url_relative_urls_join_the_providers_origin() {
    let (l, url) = listener();
    let provider = DevProvider::builder()
        .client("app", "app-secret", [format!("{url}auth/dev/callback")])
        .start()
        .unwrap();
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("dev")
                .authorize_url(provider.authorize_url().as_str())
                .access_token_url(provider.token_url().as_str())
                .consumer_key("app")
                .consumer_secret("app-secret"),
        )
        .public_url(url.as_str())
        .build()
        .unwrap();
    let app = start_app(oauth, l);
    let browser = Browser::new();
    sign_in(&browser, &app).await;
    // No `base_url`: the token endpoint's origin is the base.
    let page = browser.get(&app.url("/call/dev/api/me")).await.json();
    assert_eq!(page["status"], 200, "{page}");
    assert_eq!(page["data"]["preferred_username"], "alice", "{page}");
    let page = browser.get(&app.url("/call/dev/api/me?token=other")).await;
    assert_eq!(page.json()["error"], "configuration", "{}", page.text());
}

/// An app whose `fake` API lives at `api` and whose token getter always has a valid token.
fn fake_api_app(api: &str, timeout: Duration) -> Running {
    fake_app_with(
        RemoteApp::builder("fake")
            .authorize_url("http://127.0.0.1:9/authorize")
            .access_token_url("http://127.0.0.1:9/token")
            .base_url(api)
            .consumer_key("k")
            .consumer_secret("s"),
        timeout,
    )
}

fn fake_app_with(remote: RemoteAppBuilder, timeout: Duration) -> Running {
    let (l, url) = listener();
    let oauth = OAuth::new()
        .remote_app(remote)
        .public_url(url.as_str())
        .timeout(timeout)
        .token_getter(|_req, _provider, _name| async {
            Ok(Some(
                TokenResponse::new(AccessToken::new("valid-token".into()))
                    .with_token_secret(Some("token-secret".into())),
            ))
        })
        .build()
        .unwrap();
    start_app(oauth, l)
}

#[actix_rt::test]
async fn api_faults_garbage_slow_and_errors() {
    use common::{Answer, FakeProvider};

    // Garbage with a JSON content type is still a response: its bytes are kept as text.
    let garbage = FakeProvider::answering(Answer::new(200, "application/json", "{not json"));
    let app = fake_api_app(&garbage.url("v1/"), Duration::from_secs(5));
    let json = Browser::new()
        .get(&app.url("/call/fake/thing?a=b"))
        .await
        .json();
    assert_eq!(json["status"], 200, "{json}");
    assert_eq!(json["data"], "{not json");
    let sent = &garbage.requests()[0];
    assert_eq!(sent.path, "/v1/thing");
    assert_eq!(sent.query, "a=b");
    assert_eq!(sent.headers["authorization"], "Bearer valid-token");

    // An error status with an OAuth error body is a response too.
    let refused = FakeProvider::answering(Answer::new(
        403,
        "application/json",
        r#"{"error":"insufficient_scope"}"#,
    ));
    let app = fake_api_app(&refused.url(""), Duration::from_secs(5));
    let json = Browser::new().get(&app.url("/call/fake/x")).await.json();
    assert_eq!(json["status"], 403, "{json}");
    assert_eq!(json["data"]["error"], "insufficient_scope");

    let mut slow = Answer::json("{}");
    slow.delay = Duration::from_secs(30);
    let slow = FakeProvider::answering(slow);
    let app = fake_api_app(&slow.url(""), Duration::from_millis(300));
    let page = Browser::new().get(&app.url("/call/fake/x")).await;
    assert_eq!(page.status, 504, "{}", page.text());
    assert_eq!(page.json()["error"], "timeout");
}

#[actix_rt::test]
async fn the_token_never_leaves_the_base_url() {
    use common::{Answer, FakeProvider};

    let api = FakeProvider::answering(Answer::json("{}"));
    let evil = FakeProvider::answering(Answer::json(r#"{"stolen":true}"#));
    let app = fake_api_app(&api.url("v1/"), Duration::from_secs(5));
    let browser = Browser::new();
    // An absolute URL to another origin, one on the same origin outside the base path, and
    // relative spellings a URL parser turns into another host.
    let other_path = api.url("admin");
    for target in [
        evil.url("steal"),
        other_path,
        "%5C%5C127.0.0.1/x".to_owned(),
        "..%2F..%2Fadmin".to_owned(),
    ] {
        let page = browser.get(&app.url(&format!("/call/fake/{target}"))).await;
        assert_eq!(page.status, 400, "{target}: {}", page.text());
        assert_eq!(page.json()["error"], "url_refused", "{target}");
    }
    assert!(evil.requests().is_empty(), "the token went to another host");
    assert!(
        api.requests().iter().all(|r| r.path.starts_with("/v1/")),
        "{:?}",
        api.requests()
    );
    // Under the base, calls go through.
    let ok = browser.get(&app.url("/call/fake/users/1")).await.json();
    assert_eq!(ok["status"], 200, "{ok}");
}

/// Issue 13.1: a remote app configured without `base_url` (an OpenID Connect issuer, or only a
/// user-info endpoint) still keeps its token at home: absolute URLs elsewhere are refused before
/// any request, for bearer and OAuth 1.0a signed calls alike; `api_origin` adds an origin.
#[actix_rt::test]
async fn without_base_url_the_token_travels_only_to_the_providers_origins() {
    use common::{Answer, FakeProvider};

    let api = FakeProvider::answering(Answer::json(r#"{"ok":true}"#));
    let uploads = FakeProvider::answering(Answer::json(r#"{"uploaded":true}"#));
    let evil = FakeProvider::answering(Answer::json(r#"{"stolen":true}"#));
    let oauth2 = RemoteApp::builder("fake")
        .authorize_url("http://127.0.0.1:9/authorize")
        .access_token_url("http://127.0.0.1:9/token")
        .userinfo_url(api.url("me"))
        .api_origin(uploads.url("").trim_end_matches('/'))
        .consumer_key("k")
        .consumer_secret("s");
    let oauth1 = RemoteApp::builder("fake")
        .request_token_url(api.url("oauth/request_token"))
        .authorize_url(api.url("oauth/authorize"))
        .access_token_url(api.url("oauth/access_token"))
        .consumer_key("k")
        .consumer_secret("s");
    for (protocol, remote) in [("oauth2", oauth2), ("oauth1", oauth1)] {
        let app = fake_app_with(remote, Duration::from_secs(5));
        let browser = Browser::new();
        for target in [evil.url("steal"), evil.url("")] {
            let page = browser.get(&app.url(&format!("/call/fake/{target}"))).await;
            assert_eq!(page.status, 400, "{protocol} {target}: {}", page.text());
            assert_eq!(page.json()["error"], "url_refused", "{protocol} {target}");
        }
        // Relative and absolute URLs on the provider's own origin go through.
        let page = browser.get(&app.url("/call/fake/users/1")).await.json();
        assert_eq!(page["status"], 200, "{protocol}: {page}");
        let page = browser
            .get(&app.url(&format!("/call/fake/{}", api.url("users/2"))))
            .await
            .json();
        assert_eq!(page["status"], 200, "{protocol}: {page}");
    }
    assert!(evil.requests().is_empty(), "the token went to another host");
    let sent = api.requests();
    assert_eq!(sent.len(), 4, "{sent:?}");
    assert_eq!(sent[0].headers["authorization"], "Bearer valid-token");
    assert!(sent[2].headers["authorization"].starts_with("OAuth "));

    // The extra API origin is allowed for the OAuth 2 app that lists it, and only for it.
    let app = fake_app_with(
        RemoteApp::builder("fake")
            .authorize_url("http://127.0.0.1:9/authorize")
            .access_token_url("http://127.0.0.1:9/token")
            .userinfo_url(api.url("me"))
            .api_origin(uploads.url("").trim_end_matches('/'))
            .consumer_key("k")
            .consumer_secret("s"),
        Duration::from_secs(5),
    );
    let page = Browser::new()
        .get(&app.url(&format!("/call/fake/{}", uploads.url("files"))))
        .await
        .json();
    assert_eq!(page["data"]["uploaded"], true, "{page}");
    assert_eq!(uploads.requests().len(), 1);

    // An `api_origin` with a path is a configuration error naming the field.
    let err = OAuth::new()
        .remote_app(
            RemoteApp::builder("fake")
                .authorize_url("http://127.0.0.1:9/authorize")
                .access_token_url("http://127.0.0.1:9/token")
                .api_origin("https://uploads.example/v1")
                .consumer_key("k")
                .consumer_secret("s"),
        )
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("`api_origin`"), "{err}");
}
