//! OAuth 1.0a sign-in and signed API calls against the development provider, whose strict
//! verifier checks every signature, nonce and timestamp: proof that our signatures are accepted,
//! and that wrong ones are refused.

mod common;

use actix_oauth::{oauth1::SignatureMethod, OAuth, RemoteApp};
use actix_oauth_dev::DevProvider;
use common::{listener, start_app, Browser, Running};

struct Setup {
    _provider: DevProvider,
    app: Running,
}

fn setup(method: SignatureMethod, secret: &str) -> Setup {
    let (l, url) = listener();
    let provider = DevProvider::builder()
        .client(
            "consumer",
            "consumer-secret",
            [format!("{url}auth/dev1/callback")],
        )
        .start()
        .expect("dev provider");
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("dev1")
                .request_token_url(provider.oauth1_request_token_url().as_str())
                .authorize_url(provider.oauth1_authorize_url().as_str())
                .access_token_url(provider.oauth1_access_token_url().as_str())
                .base_url(provider.oauth1_api_url().as_str())
                .userinfo_url(provider.oauth1_api_url().join("me").unwrap().as_str())
                .consumer_key("consumer")
                .consumer_secret(secret)
                .signature_method(method),
        )
        .public_url(url.as_str())
        .build()
        .expect("config");
    let app = start_app(oauth, l);
    Setup {
        _provider: provider,
        app,
    }
}

/// Begins the handshake and answers the provider's consent page; returns the redirect back.
async fn authorize(browser: &Browser, app: &Running, decision: &str) -> String {
    let start = browser.get(&app.url("/auth/dev1?next=/done")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let location = start.location.clone().unwrap();
    let consent = browser.get(&location).await;
    assert_eq!(consent.status, 200, "{}", consent.text());
    let mut post = url::Url::parse(&location).unwrap();
    let token = start.location_query()["oauth_token"].clone();
    post.set_query(None);
    let back = browser
        .post_form(
            post.as_str(),
            &[
                ("oauth_token".into(), token),
                ("decision".into(), decision.into()),
                ("user".into(), "alice".into()),
            ],
        )
        .await;
    assert_eq!(back.status, 302, "{}", back.text());
    back.location.unwrap()
}

async fn full_sign_in(method: SignatureMethod) {
    let Setup { app, _provider } = setup(method, "consumer-secret");
    let browser = Browser::new();
    let back = authorize(&browser, &app, "approve").await;
    let done = browser.get(&back).await;
    assert_eq!(done.status, 200, "{} {}", method.name(), done.text());
    let body = done.json();
    assert_eq!(body["token_type"], "oauth1");
    assert_eq!(body["next"], "/done");
    assert_eq!(body["extra"]["screen_name"], "alice");

    // A signed GET with a query, and a signed form POST, both accepted by the strict verifier.
    let me = browser.get(&app.url("/userinfo/dev1")).await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(me.json()["screen_name"], "alice");
    let echo = browser
        .post_form(
            &app.url("/call/dev1/echo?page=2&q=a+b"),
            &[(
                "status".into(),
                "Hello Ladies + Gentlemen, a signed OAuth request!".into(),
            )],
        )
        .await
        .json();
    assert_eq!(echo["status"], 200, "{echo}");
    assert_eq!(
        echo["data"]["form"]["status"],
        "Hello Ladies + Gentlemen, a signed OAuth request!"
    );
    assert_eq!(echo["data"]["query"]["q"], "a b");
    assert_eq!(echo["data"]["user"], "alice");
}

#[actix_rt::test]
async fn sign_in_and_call_with_hmac_sha1() {
    full_sign_in(SignatureMethod::HmacSha1).await;
}

#[actix_rt::test]
async fn sign_in_and_call_with_hmac_sha256() {
    full_sign_in(SignatureMethod::HmacSha256).await;
}

#[actix_rt::test]
async fn sign_in_and_call_with_plaintext() {
    full_sign_in(SignatureMethod::Plaintext).await;
}

#[actix_rt::test]
async fn denial_gives_none() {
    let Setup { app, _provider } = setup(SignatureMethod::HmacSha1, "consumer-secret");
    let browser = Browser::new();
    let back = authorize(&browser, &app, "deny").await;
    assert!(back.contains("denied="), "{back}");
    let done = browser.get(&back).await;
    assert_eq!(done.json()["denied"], true, "{}", done.text());
}

#[actix_rt::test]
async fn a_wrong_signature_is_refused() {
    // The consumer secret we sign with is not the provider's: every signature is wrong.
    let Setup { app, _provider } = setup(SignatureMethod::HmacSha1, "not-the-secret");
    let page = Browser::new().get(&app.url("/auth/dev1")).await;
    assert_eq!(page.status, 502, "{}", page.text());
    assert!(page.text().contains("signature_invalid"), "{}", page.text());
    assert!(!page.text().contains("not-the-secret"));
}

#[actix_rt::test]
async fn a_callback_with_a_forged_token_is_refused() {
    let Setup { app, _provider } = setup(SignatureMethod::HmacSha1, "consumer-secret");
    let browser = Browser::new();
    let back = authorize(&browser, &app, "approve").await;
    let mut url = url::Url::parse(&back).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .map(|(k, v)| {
            if k == "oauth_token" {
                (k, format!("{v}x"))
            } else {
                (k, v)
            }
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(&pairs);
    let page = browser.get(url.as_str()).await;
    assert_eq!(page.status, 400, "{}", page.text());
    assert!(page.text().contains("state_mismatch"));
    // The genuine callback still completes.
    assert_eq!(browser.get(&back).await.status, 200);
}
