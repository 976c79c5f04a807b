//! OAuth 1.0a against a provider built on Python's `oauthlib` (its RFC 5849 server endpoints with
//! the request validator's defaults), not our own development provider: the three-legged
//! sign-in, then signed GET and form POST calls with characters that need encoding, each
//! verified by oauthlib over real HTTP on loopback. Skipped with a note when `oauthlib` is not
//! installed; `.ci/run` installs it and makes that a failure.

mod common;

use actix_oauth::{oauth1::SignatureMethod, OAuth, RemoteApp};
use common::{listener, python::PyProvider, start_app, Browser, Running};
use serde_json::json;

// oauthlib's validator wants client keys of 20 to 30 safe characters.
const KEY: &str = "actixoauthconsumer0001";
const SECRET: &str = "consumer-secret-for-oauthlib";

struct Setup {
    _provider: PyProvider,
    app: Running,
}

fn setup(method: SignatureMethod, secret: &str) -> Option<Setup> {
    let (l, url) = listener();
    let provider = PyProvider::oauthlib(&json!({
        "clients": { KEY: { "secret": SECRET, "callback": format!("{url}auth/ol/callback") } },
        "user": "alice",
    }))?;
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("ol")
                .request_token_url(provider.url("/request_token").as_str())
                .authorize_url(provider.url("/authorize").as_str())
                .access_token_url(provider.url("/access_token").as_str())
                .base_url(provider.url("/api/").as_str())
                .userinfo_url(provider.url("/api/me").as_str())
                .consumer_key(KEY)
                .consumer_secret(secret)
                .signature_method(method),
        )
        .public_url(url.as_str())
        .build()
        .expect("config");
    Some(Setup {
        _provider: provider,
        app: start_app(oauth, l),
    })
}

async fn sign_in_and_call(method: SignatureMethod) {
    let Some(Setup { app, _provider }) = setup(method, SECRET) else {
        return;
    };
    let browser = Browser::new();
    let start = browser.get(&app.url("/auth/ol?next=/done")).await;
    assert_eq!(start.status, 302, "{} {}", method.name(), start.text());
    // oauthlib approves at once and sends the browser back with the verifier.
    let approve = browser
        .get(start.location.as_deref().expect("a Location"))
        .await;
    assert_eq!(approve.status, 302, "{}", approve.text());
    let back = approve.location.expect("the callback");
    let done = browser.get(&back).await;
    assert_eq!(done.status, 200, "{} {}", method.name(), done.text());
    let body = done.json();
    assert_eq!(body["token_type"], "oauth1");
    assert_eq!(body["next"], "/done");
    assert_eq!(body["extra"]["screen_name"], "alice", "{body}");

    // The profile call and a GET with a query that needs encoding, both verified by oauthlib.
    let me = browser.get(&app.url("/userinfo/ol")).await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["screen_name"], "alice");
    let get = browser
        .get(&app.url("/call/ol/search?q=caf%C3%A9+%26+cr%C3%A8me&tilde=~a.b_c-d&star=*"))
        .await
        .json();
    assert_eq!(get["status"], 200, "{get}");
    assert_eq!(
        get["data"]["query"],
        json!([["q", "café & crème"], ["tilde", "~a.b_c-d"], ["star", "*"]])
    );

    // A form POST: its body parameters are part of the signature oauthlib recomputes.
    let status = "Hello Ladies + Gentlemen, a signed OAuth request! 100% ☃";
    let post = browser
        .post_form(
            &app.url("/call/ol/statuses/update?include_entities=true"),
            &[("status".into(), status.into())],
        )
        .await
        .json();
    assert_eq!(post["status"], 200, "{post}");
    assert_eq!(post["data"]["method"], "POST");
    assert_eq!(post["data"]["form"], json!([["status", status]]));
    assert_eq!(post["data"]["user"], "alice");
}

#[actix_rt::test]
async fn sign_in_and_call_with_hmac_sha1() {
    sign_in_and_call(SignatureMethod::HmacSha1).await;
}

#[actix_rt::test]
async fn sign_in_and_call_with_plaintext() {
    // oauthlib refuses PLAINTEXT over plain HTTP unless TLS is not enforced, as here.
    sign_in_and_call(SignatureMethod::Plaintext).await;
}

#[actix_rt::test]
async fn a_wrong_consumer_secret_is_refused_by_oauthlib() {
    let Some(Setup { app, _provider }) = setup(SignatureMethod::HmacSha1, "not-the-secret") else {
        return;
    };
    let page = Browser::new().get(&app.url("/auth/ol")).await;
    assert_eq!(page.status, 502, "{}", page.text());
    assert!(!page.text().contains("not-the-secret"));
}
