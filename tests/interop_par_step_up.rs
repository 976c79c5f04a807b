//! Pushed authorization requests (RFC 9126) and step-up (`max_age`, `acr_values`) against
//! panva's `oidc-provider` (OpenID Certified), not our development provider: its PAR endpoint
//! takes the pushed request and its authorization endpoint the `request_uri`, also when it
//! requires pushed requests and the app did not ask; it authenticates again under `max_age`, its
//! `auth_time` and `acr` are checked, and an `auth_time` older than `max_age` or an `acr` other
//! than the one asked for is refused by the crate.
#![cfg(feature = "oidc")]

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix_oauth::{ErrorKind, OAuth, RemoteApp, RemoteAppBuilder};
use common::{listener, oidc_provider::OidcProvider, start_app, Browser, Page, Running};
use serde_json::{json, Value};
use url::Url;

const SECRET: &str = "app-secret-for-oidc-provider-par-tests";

/// How long a test waits for an event of the provider.
const EVENT_WAIT: Duration = Duration::from_secs(10);

/// The provider (with `extra` config) and the app signing in with it as `op`, configured by
/// `app`; `None` when the provider cannot run here.
fn start(
    extra: Value,
    app: impl FnOnce(RemoteAppBuilder) -> RemoteAppBuilder,
) -> Option<(OidcProvider, Running)> {
    let (l, url) = listener();
    let mut config = json!({
        "clients": [{
            "client_id": "app",
            "client_secret": SECRET,
            "redirect_uris": [format!("{url}auth/op/callback")],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
        }],
        "accounts": { "alice": { "email": "alice@example.test", "name": "Alice Example" } },
        "acrValues": ["urn:example:loa:1", "urn:example:loa:2"],
    });
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        config.extend(extra);
    }
    let op = OidcProvider::start(&config)?;
    let remote = RemoteApp::builder("op")
        .issuer(op.issuer())
        .client_id("app")
        .client_secret(SECRET)
        .scope(["openid", "email", "profile"]);
    let oauth = OAuth::new()
        .remote_app(app(remote))
        .public_url(url.as_str())
        .build()
        .expect("config");
    Some((op, start_app(oauth, l)))
}

/// Starts a sign-in; returns where the app sent the browser and the callback's answer, having
/// followed the provider's own redirects (its login and consent complete by themselves).
async fn sign_in(browser: &Browser, app: &Running) -> (Url, Page) {
    let start = browser.get(&app.url("/auth/op")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let authorize = Url::parse(start.location.as_deref().unwrap()).unwrap();
    let mut at = authorize.clone();
    let mut page = browser.get(at.as_str()).await;
    for _ in 0..10 {
        assert!(
            (300..400).contains(&page.status),
            "{at}: {} {}",
            page.status,
            page.text()
        );
        let next = at.join(page.location.as_deref().unwrap()).unwrap();
        if next.origin() == app.url.origin() {
            return (authorize, browser.get(next.as_str()).await);
        }
        page = browser.get(next.as_str()).await;
        at = next;
    }
    panic!("no way back to the app");
}

fn names(url: &Url) -> Vec<String> {
    url.query_pairs().map(|(k, _)| k.into_owned()).collect()
}

#[actix_rt::test]
async fn a_pushed_request_signs_in_at_a_certified_provider() {
    let Some((_op, app)) = start(json!({}), |a| a.par(true)) else {
        return;
    };
    let browser = Browser::new();
    let (authorize, callback) = sign_in(&browser, &app).await;
    assert_eq!(
        names(&authorize),
        ["client_id", "request_uri"],
        "{authorize}"
    );
    assert_eq!(callback.status, 200, "{}", callback.text());
    let info: Value = browser.get(&app.url("/userinfo/op")).await.json();
    assert_eq!(info["sub"], "alice", "{info}");
}

#[actix_rt::test]
async fn a_provider_requiring_pushed_requests_gets_them_unasked() {
    let features = json!({
        "features": { "pushedAuthorizationRequests": { "enabled": true, "requirePushedAuthorizationRequests": true } }
    });
    let Some((_op, app)) = start(features, |a| a) else {
        return;
    };
    let browser = Browser::new();
    let (authorize, callback) = sign_in(&browser, &app).await;
    assert_eq!(
        names(&authorize),
        ["client_id", "request_uri"],
        "{authorize}"
    );
    assert_eq!(callback.status, 200, "{}", callback.text());
}

#[actix_rt::test]
async fn max_age_and_acr_are_honoured_and_checked() {
    // `max_age` of 1 s, so that the provider's session is soon older. The crate's own check
    // gets 30 s of clock skew: `auth_time` is in whole seconds and a loaded machine may take
    // more than a second to finish a sign-in. That a stale `auth_time` is refused is
    // `a_stale_auth_time_is_refused_by_the_crate`'s to prove.
    let Some((op, app)) = start(json!({}), |a| {
        a.max_age(Duration::from_secs(1))
            .acr_values(["urn:example:loa:2"])
            .clock_skew(Duration::from_secs(30))
    }) else {
        return;
    };
    let browser = Browser::new();
    let (authorize, callback) = sign_in(&browser, &app).await;
    assert_eq!(callback.status, 200, "{}", callback.text());
    let asked: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    assert!(
        asked.contains(&("max_age".into(), "1".into())),
        "{authorize}"
    );
    let first = op
        .next_event_named(&["login"], EVENT_WAIT)
        .expect("the provider authenticated the user");
    // Later than `max_age`: the provider's session is too old, so it authenticates again, with
    // a later login time (the ID token's `auth_time`, which the crate checks), though the
    // provider still has the user's session.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (_, again) = sign_in(&browser, &app).await;
    assert_eq!(again.status, 200, "{}", again.text());
    let second = op
        .next_event_named(&["login"], EVENT_WAIT)
        .expect("the provider authenticated the user again");
    assert!(
        second["ts"].as_u64().unwrap() >= first["ts"].as_u64().unwrap() + 2,
        "{first} then {second}"
    );
}

#[actix_rt::test]
async fn a_stale_auth_time_is_refused_by_the_crate() {
    // The provider reports a login an hour ago (as for a user who authenticated then), though
    // the app asked for one within a minute.
    let Some((op, app)) = start(json!({ "staleLogin": { "app": 3600 } }), |a| {
        a.max_age(Duration::from_secs(60))
    }) else {
        return;
    };
    let browser = Browser::new();
    let (authorize, callback) = sign_in(&browser, &app).await;
    let asked: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    assert!(
        asked.contains(&("max_age".into(), "60".into())),
        "{authorize}"
    );
    let login = op
        .next_event_named(&["login"], EVENT_WAIT)
        .expect("the provider authenticated the user");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(
        login["ts"].as_u64().unwrap() + 3000 < now,
        "a login backdated: {login}"
    );
    assert_eq!(callback.status, 401, "{}", callback.text());
    let kind = ErrorKind::InsufficientAuthentication.as_str();
    assert!(callback.text().contains(kind), "{}", callback.text());
    assert!(
        callback.text().contains("longer ago than the 60 s"),
        "{}",
        callback.text()
    );
    assert_eq!(
        browser.get(&app.url("/token/op")).await.status,
        401,
        "not signed in"
    );
}

#[actix_rt::test]
async fn an_acr_other_than_asked_for_is_refused() {
    // The provider offers no such class: its login meets none, and says so by its `acr`.
    let Some((_op, app)) = start(json!({}), |a| a.acr_values(["urn:example:gold"])) else {
        return;
    };
    let browser = Browser::new();
    let (_, callback) = sign_in(&browser, &app).await;
    assert_eq!(callback.status, 401, "{}", callback.text());
    assert!(
        callback.text().contains("insufficient_authentication"),
        "{}",
        callback.text()
    );
    assert_eq!(browser.get(&app.url("/token/op")).await.status, 401);
}
