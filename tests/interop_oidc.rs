//! OpenID Connect against panva's `oidc-provider` (OpenID Certified), not our own development
//! provider: discovery, the authorization code flow with PKCE and the RFC 9207 `iss` parameter,
//! `id_token` validation with the provider's own keys, and the user-info call, over real HTTP
//! on loopback. Skipped with a note when Node.js or the provider's packages are missing;
//! `.ci/run` installs them and makes that a failure.
#![cfg(feature = "oidc")]

mod common;

use actix_oauth::{OAuth, RemoteApp, RemoteAppBuilder};
use common::{listener, oidc_provider::OidcProvider, start_app, Browser, Page, Running};
use serde_json::{json, Value};
use url::Url;

const SECRET: &str = "app-secret-for-oidc-provider-tests";

/// The provider with one confidential client whose redirect URI is the app's callback at `app`.
fn provider(app: &Url) -> Option<OidcProvider> {
    OidcProvider::start(&json!({
        "clients": [{
            "client_id": "app",
            "client_secret": SECRET,
            "redirect_uris": [format!("{app}auth/op/callback")],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        }],
        "accounts": {
            "alice": { "email": "alice@example.test", "name": "Alice Example" },
            "bob": { "email": "bob@example.test", "name": "Bob", "email_verified": false },
        },
    }))
}

/// The provider and the app under test, signing in with it as remote app `op`; `None` when the
/// provider cannot run here (see [`OidcProvider::start`]).
fn start() -> Option<(OidcProvider, Running)> {
    let (l, url) = listener();
    let op = provider(&url)?;
    let oauth = OAuth::new()
        .remote_app(remote_app(&op))
        .public_url(url.as_str())
        .build()
        .expect("config");
    Some((op, start_app(oauth, l)))
}

fn remote_app(op: &OidcProvider) -> RemoteAppBuilder {
    RemoteApp::builder("op")
        .issuer(op.issuer())
        .client_id("app")
        .client_secret(SECRET)
        .scope(["openid", "email", "profile"])
}

/// Follows redirects from `page` (answered at `at`) while they stay off the app: the provider's
/// login and consent interactions complete by themselves. Answers the URL the provider finally
/// sends the browser back to, at the app.
async fn back_to_app(browser: &Browser, app: &Running, mut at: Url, mut page: Page) -> Url {
    for _ in 0..10 {
        assert!(
            (300..400).contains(&page.status),
            "{at}: {} {}",
            page.status,
            page.text()
        );
        let next = at
            .join(page.location.as_deref().expect("a Location"))
            .expect("a URL");
        if next.origin() == app.url.origin() {
            return next;
        }
        page = browser.get(next.as_str()).await;
        at = next;
    }
    panic!("no way back to the app after 10 redirects");
}

/// Starts a sign-in at `start` and follows it through the provider; answers the app's callback
/// page.
async fn sign_in(browser: &Browser, app: &Running, start: &str) -> Page {
    let at = Url::parse(&app.url(start)).expect("a URL");
    let page = browser.get(at.as_str()).await;
    let callback = back_to_app(browser, app, at, page).await;
    browser.get(callback.as_str()).await
}

#[actix_rt::test]
async fn signs_in_against_a_certified_provider_and_reads_its_userinfo() {
    let Some((_op, app)) = start() else { return };
    let browser = Browser::new();

    let callback = sign_in(&browser, &app, "/auth/op").await;
    assert_eq!(callback.status, 200, "{}", callback.text());
    let answer = callback.json();
    assert_eq!(answer["provider"], "op");
    assert!(
        answer["token_type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer")),
        "{answer}"
    );

    // The user-info call goes to the endpoint discovery named, with the session's token.
    let info: Value = browser.get(&app.url("/userinfo/op")).await.json();
    assert_eq!(info["sub"], "alice", "{info}");
    assert_eq!(info["email"], "alice@example.test", "{info}");
}

#[actix_rt::test]
async fn a_callback_replayed_against_a_certified_provider_is_refused() {
    let Some((op, app)) = start() else { return };
    let browser = Browser::new();

    let at = Url::parse(&app.url("/auth/op")).expect("a URL");
    let page = browser.get(at.as_str()).await;
    let callback = back_to_app(&browser, &app, at, page).await;
    let query: Vec<(String, String)> = callback.query_pairs().into_owned().collect();
    assert!(
        query.iter().any(|(k, v)| k == "iss" && *v == op.issuer()),
        "RFC 9207 iss in {callback}"
    );
    let first = browser.get(callback.as_str()).await;
    assert_eq!(first.status, 200, "{}", first.text());
    // The same code and state again: the handshake is over, the state spent.
    let again = browser.get(callback.as_str()).await;
    assert_eq!(again.status, 400, "{}", again.text());
}
