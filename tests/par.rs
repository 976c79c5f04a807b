//! Pushed authorization requests (RFC 9126) against the development provider, over loopback:
//! the request goes to `/oauth2/par` with the client's authentication, the browser carries only
//! `client_id` and the `request_uri`; a provider that requires pushed requests gets them without
//! the app's setting; the `request_uri` is single use and the client's own; the push's errors
//! are `OAuthError`s like the token endpoint's.
#![cfg(feature = "private-key-jwt")]

mod common;

use actix_oauth::{ClientAuth, OAuth, RemoteApp, RemoteAppBuilder, ResponseMode};
use actix_oauth_dev::{DevClientAuth, DevProvider, DevProviderBuilder};
use common::{html_form, listener, start_app, Browser, Running};

struct Setup {
    provider: DevProvider,
    app: Running,
}

fn setup(
    provider: impl FnOnce(DevProviderBuilder) -> DevProviderBuilder,
    app: impl FnOnce(RemoteAppBuilder) -> RemoteAppBuilder,
) -> Setup {
    let (l, url) = listener();
    let provider = provider(DevProvider::builder().client(
        "app",
        "a client secret of at least thirty-two bytes",
        [format!("{url}auth/dev/callback")],
    ))
    .start()
    .expect("dev provider");
    let remote = RemoteApp::builder("dev")
        .issuer(provider.issuer())
        .consumer_key("app")
        .consumer_secret("a client secret of at least thirty-two bytes")
        .scope(["openid", "profile"]);
    let oauth = OAuth::new()
        .remote_app(app(remote))
        .public_url(url.as_str())
        .build()
        .expect("config");
    Setup {
        app: start_app(oauth, l),
        provider,
    }
}

/// Starts a sign-in; answers the URL the browser is sent to.
async fn start(browser: &Browser, app: &Running) -> url::Url {
    let start = browser.get(&app.url("/auth/dev")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    url::Url::parse(start.location.as_deref().unwrap()).unwrap()
}

/// Approves the consent page of `authorize`: the provider's answer (a redirect back).
async fn approve(browser: &Browser, authorize: &url::Url) -> common::Page {
    let consent = browser.get(authorize.as_str()).await;
    assert_eq!(consent.status, 200, "{}", consent.text());
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), "alice".into()));
    let mut post = authorize.clone();
    post.set_query(None);
    browser.post_form(post.as_str(), &form).await
}

fn names(url: &url::Url) -> Vec<String> {
    url.query_pairs().map(|(k, _)| k.into_owned()).collect()
}

#[actix_rt::test]
async fn a_pushed_request_leaves_only_its_uri_to_the_browser() {
    let s = setup(|p| p, |a| a.par(true));
    let browser = Browser::new();
    let authorize = start(&browser, &s.app).await;
    assert_eq!(
        names(&authorize),
        ["client_id", "request_uri"],
        "{authorize}"
    );
    assert!(authorize
        .query_pairs()
        .any(|(k, v)| k == "request_uri" && v.starts_with("urn:ietf:params:oauth:request_uri:")));
    let back = approve(&browser, &authorize).await;
    assert_eq!(back.status, 302, "{}", back.text());
    let done = browser.get(back.location.as_deref().unwrap()).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(browser.get(&s.app.url("/token/dev")).await.status, 200);
    // The request_uri was used up by the decision.
    let again = browser.get(authorize.as_str()).await;
    assert_eq!(again.status, 400, "{}", again.text());
    assert!(again.text().contains("request_uri"), "{}", again.text());
}

#[actix_rt::test]
async fn a_provider_that_requires_pushed_requests_gets_them_unasked() {
    let s = setup(|p| p.require_par(true), |a| a);
    let browser = Browser::new();
    let authorize = start(&browser, &s.app).await;
    assert_eq!(
        names(&authorize),
        ["client_id", "request_uri"],
        "{authorize}"
    );
    let back = approve(&browser, &authorize).await;
    assert_eq!(back.status, 302, "{}", back.text());
    let done = browser.get(back.location.as_deref().unwrap()).await;
    assert_eq!(done.status, 200, "{}", done.text());
    // The same provider refuses a request that was not pushed.
    let mut plain = s.provider.authorize_url();
    plain
        .query_pairs_mut()
        .append_pair("client_id", "app")
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", &s.app.url("/auth/dev/callback"))
        .append_pair("state", "s");
    let refused = browser.get(plain.as_str()).await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.text().contains("pushed"), "{}", refused.text());
}

#[actix_rt::test]
async fn a_request_uri_is_its_clients_only() {
    let s = setup(|p| p, |a| a.par(true));
    let browser = Browser::new();
    let authorize = start(&browser, &s.app).await;
    let mut other = authorize.clone();
    let uri = authorize
        .query_pairs()
        .find(|(k, _)| k == "request_uri")
        .unwrap()
        .1
        .into_owned();
    other
        .query_pairs_mut()
        .clear()
        .append_pair("client_id", "someone-else")
        .append_pair("request_uri", &uri);
    let page = browser.get(other.as_str()).await;
    assert_eq!(page.status, 400, "{}", page.text());
}

#[actix_rt::test]
async fn the_push_is_refused_like_a_token_request() {
    let s = setup(|p| p, |a| a.par(true).consumer_secret("not the secret"));
    let browser = Browser::new();
    let page = browser.get(&s.app.url("/auth/dev")).await;
    assert_eq!(page.status, 502, "{}", page.text());
    assert!(page.text().contains("invalid_client"), "{}", page.text());
    assert_eq!(browser.get(&s.app.url("/token/dev")).await.status, 401);
}

#[actix_rt::test]
async fn pushed_with_a_key_and_answered_by_form_post() {
    let public = include_str!("data/es256-client-key.pub.pem");
    let s = setup(
        |p| {
            p.client_auth(
                "app",
                DevClientAuth::PrivateKeyJwt {
                    public_key_pem: public.to_owned(),
                },
            )
        },
        |a| {
            a.par(true)
                .client_auth(ClientAuth::PrivateKeyJwt)
                .client_key(
                    actix_oauth::ClientKey::from_pem(include_str!("data/es256-client-key.pem"))
                        .unwrap(),
                )
                .response_mode(ResponseMode::FormPost)
        },
    );
    let browser = Browser::new();
    let authorize = start(&browser, &s.app).await;
    assert_eq!(names(&authorize), ["client_id", "request_uri"]);
    let answer = approve(&browser, &authorize).await;
    assert_eq!(answer.status, 200, "the form_post page: {}", answer.text());
    let (action, fields) = html_form(&answer.text());
    let done = browser.post_form(&action, &fields).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(browser.get(&s.app.url("/token/dev")).await.status, 200);
}

/// Without an issuer, nothing can discover the push endpoint: the app fails to build, not the
/// first sign-in.
#[test]
fn pushed_requests_without_an_issuer_need_the_endpoint() {
    let err = actix_oauth::RemoteApp::builder("plain")
        .authorize_url("https://idp.example/authorize")
        .access_token_url("https://idp.example/token")
        .client_id("id")
        .client_secret("secret")
        .par(true)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), actix_oauth::ErrorKind::Configuration);
    assert!(err.to_string().contains("par_url"), "{err}");
}
