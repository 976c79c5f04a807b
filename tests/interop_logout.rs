//! Ending a sign-in against panva's `oidc-provider` (OpenID Certified), not our own development
//! provider: after sign-out the provider's introspection says the token is inactive (RFC 7009
//! revocation worked); RP-initiated logout goes through the provider's own logout page and comes
//! back with the `state` checked; a back-channel logout the provider sends when the user signs
//! out there ends the app session. Skipped with a note when Node.js or the provider's packages
//! are missing; `.ci/run` installs them and makes that a failure.
#![cfg(feature = "oidc")]

mod common;
#[path = "common/logout_app.rs"]
mod logout_app;

use std::time::Duration;

use actix_oauth::{MemoryTokenStore, OAuth, RemoteApp};
use actix_session::storage::CookieSessionStore;
use actix_web::cookie::Key;
use common::{listener, oidc_provider::OidcProvider, Browser, Page, Running};
use logout_app::serve_app;
use serde_json::{json, Value};
use url::Url;

const SECRET: &str = "app-secret-for-oidc-provider-logout-tests";

/// The provider (a client registered with the app's logout URIs) and the app, signing in with
/// it as remote app `op`.
fn start() -> Option<(OidcProvider, Running)> {
    let (l, url) = listener();
    let op = OidcProvider::start(&json!({
        "clients": [{
            "client_id": "app",
            "client_secret": SECRET,
            "redirect_uris": [format!("{url}auth/op/callback")],
            "post_logout_redirect_uris": [format!("{url}auth/op/logged-out")],
            "backchannel_logout_uri": format!("{url}auth/op/backchannel-logout"),
            "backchannel_logout_session_required": true,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        }],
    }))?;
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("op")
                .issuer(op.issuer())
                .client_id("app")
                .client_secret(SECRET)
                .scope(["openid", "email", "profile"]),
        )
        .public_url(url.as_str())
        .token_store(MemoryTokenStore::new())
        .build()
        .expect("config");
    let app = serve_app(oauth, CookieSessionStore::default, Key::generate(), l);
    Some((op, app))
}

/// Follows redirects from `page` (answered at `at`) while they stay off the app; answers where
/// the provider sends the browser back to the app, or the provider page that is no redirect.
async fn follow(browser: &Browser, app: &Running, mut at: Url, mut page: Page) -> (Url, Page) {
    for _ in 0..10 {
        if !(300..400).contains(&page.status) {
            return (at, page);
        }
        let next = at
            .join(page.location.as_deref().expect("a Location"))
            .expect("a URL");
        if next.origin() == app.url.origin() {
            return (next, page);
        }
        page = browser.get(next.as_str()).await;
        at = next;
    }
    panic!("no end to the redirects after 10");
}

async fn sign_in(browser: &Browser, app: &Running) {
    let at = Url::parse(&app.url("/auth/op")).unwrap();
    let page = browser.get(at.as_str()).await;
    let (callback, _) = follow(browser, app, at, page).await;
    let done = browser.get(callback.as_str()).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(browser.get(&app.url("/me")).await.status, 200);
}

/// Confirms the provider's logout page (its form's `xsrf`, `logout=yes`), as the user would.
async fn confirm_logout(browser: &Browser, at: &Url, page: &Page) -> (Url, Page) {
    let html = page.text();
    let value_of = |name: &str| {
        let marker = format!("name=\"{name}\" value=\"");
        let start = html.find(&marker).map(|i| i + marker.len())?;
        Some(html[start..start + html[start..].find('"')?].to_owned())
    };
    let xsrf = value_of("xsrf").unwrap_or_else(|| panic!("a logout form: {html}"));
    let action = {
        let marker = "action=\"";
        let start = html.find(marker).expect("a form action") + marker.len();
        html[start..start + html[start..].find('"').unwrap()].to_owned()
    };
    let target = at.join(&action).expect("a URL");
    let form = vec![
        ("xsrf".to_owned(), xsrf),
        ("logout".to_owned(), "yes".to_owned()),
    ];
    let answer = browser.post_form(target.as_str(), &form).await;
    (target, answer)
}

/// The provider's introspection of `token` (RFC 7662), as the client.
async fn introspect(op: &OidcProvider, token: &str) -> Value {
    let mut response = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish()
        .post(format!("{}/token/introspection", op.issuer()))
        .basic_auth("app", SECRET)
        .send_form(&[("token", token)])
        .await
        .expect("introspection");
    assert!(response.status().is_success(), "{}", response.status());
    serde_json::from_slice(&response.body().await.unwrap()).expect("JSON")
}

#[actix_rt::test]
async fn sign_out_revokes_at_a_certified_provider() {
    let Some((op, app)) = start() else { return };
    let browser = Browser::new();
    sign_in(&browser, &app).await;
    let access = browser.get(&app.url("/token/op")).await.json()["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    assert_eq!(introspect(&op, &access).await["active"], true);
    assert_eq!(
        browser.post_form(&app.url("/signout"), &[]).await.status,
        303
    );
    assert_eq!(browser.get(&app.url("/me")).await.status, 401);
    assert_eq!(
        introspect(&op, &access).await["active"],
        false,
        "still active after sign-out"
    );
}

#[actix_rt::test]
async fn rp_initiated_logout_through_a_certified_providers_page() {
    let Some((op, app)) = start() else { return };
    let browser = Browser::new();
    sign_in(&browser, &app).await;
    let access = browser.get(&app.url("/token/op")).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = browser.post_form(&app.url("/logout/op"), &[]).await;
    assert_eq!(out.status, 303, "{}", out.text());
    let to = Url::parse(out.location.as_deref().unwrap()).unwrap();
    assert_eq!(to.origin(), op.issuer.origin(), "{to}");
    assert_eq!(browser.get(&app.url("/me")).await.status, 401);
    assert_eq!(introspect(&op, &access).await["active"], false);

    // The provider's logout page: confirm, and it returns to the app with the state.
    let page = browser.get(to.as_str()).await;
    let (at, page) = follow(&browser, &app, to, page).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let (target, answer) = confirm_logout(&browser, &at, &page).await;
    let (back, _) = follow(&browser, &app, target, answer).await;
    assert!(
        back.as_str().starts_with(&app.url("/auth/op/logged-out")),
        "{back}"
    );
    let done = browser.get(back.as_str()).await;
    assert_eq!(done.status, 303, "{}", done.text());
    // The state is spent.
    assert_eq!(browser.get(back.as_str()).await.status, 400);
}

#[actix_rt::test]
async fn a_certified_providers_backchannel_logout_ends_the_app_session() {
    let Some((op, app)) = start() else { return };
    let browser = Browser::new();
    sign_in(&browser, &app).await;
    // The user signs out at the provider itself (not through the app): the provider POSTs a
    // logout token to the app's back-channel route.
    let at = Url::parse(&format!("{}/session/end", op.issuer())).unwrap();
    let page = browser.get(at.as_str()).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let (_, answer) = confirm_logout(&browser, &at, &page).await;
    assert!(answer.status < 500, "{}", answer.text());
    let event = op
        .next_event_named(
            &["backchannel.success", "backchannel.error"],
            Duration::from_secs(10),
        )
        .expect("the provider reports its back-channel logout");
    assert_eq!(event["event"], "backchannel.success", "{event}");
    assert_eq!(
        browser.get(&app.url("/me")).await.status,
        401,
        "still signed in"
    );
    assert_eq!(browser.get(&app.url("/token/op")).await.status, 401);
}
