//! `response_mode=form_post` against panva's `oidc-provider` (OpenID Certified), not our own
//! development provider: oidc-provider's own auto-submitting page carries the answer; POSTed
//! cross-site (no cookie, as a browser sends it from the provider's page), the app answers its
//! relay page, whose same-site POST brings the session and completes the sign-in with state,
//! PKCE, nonce and the RFC 9207 `iss` checked as for a `GET` callback. A replayed relay POST, a
//! forged `iss` or `state` are refused; a user who declines at the provider reaches the handler
//! as declined. Skipped with a note when Node.js or the provider's packages are missing;
//! `.ci/run` installs them and makes that a failure.
#![cfg(feature = "oidc")]

mod common;

use actix_oauth::{OAuth, RemoteApp, ResponseMode};
use common::{html_form, listener, oidc_provider::OidcProvider, start_app, Browser, Page, Running};
use serde_json::json;
use url::Url;

const SECRET: &str = "app-secret-for-oidc-provider-form-post-tests";

/// The provider with a confidential client `app` (whose user declines when `declines`) and the
/// app, signing in with it as remote app `op` by `form_post`.
fn start(declines: bool) -> Option<(OidcProvider, Running)> {
    let (l, url) = listener();
    let op = OidcProvider::start(&json!({
        "clients": [{
            "client_id": "app",
            "client_secret": SECRET,
            "redirect_uris": [format!("{url}auth/op/callback")],
            "grant_types": ["authorization_code"],
            "response_types": ["code"],
        }],
        "decline": if declines { json!(["app"]) } else { json!([]) },
    }))?;
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("op")
                .issuer(op.issuer())
                .client_id("app")
                .client_secret(SECRET)
                .scope(["openid", "email", "profile"])
                .response_mode(ResponseMode::FormPost),
        )
        .public_url(url.as_str())
        .build()
        .expect("config");
    Some((op, start_app(oauth, l)))
}

/// Starts a sign-in and follows the provider's redirects (its interaction completes by itself)
/// to its `form_post` page; answers that page's form: the callback URL and the fields.
async fn provider_form(browser: &Browser, app: &Running) -> (String, Vec<(String, String)>) {
    let mut at = Url::parse(&app.url("/auth/op")).expect("a URL");
    let mut page: Page = browser.get(at.as_str()).await;
    let authorize = Url::parse(page.location.as_deref().expect("a redirect")).expect("a URL");
    let asked: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    for (name, value) in [
        ("response_mode", "form_post"),
        ("code_challenge_method", "S256"),
    ] {
        assert!(
            asked.contains(&(name.into(), value.into())),
            "{name}={value} in {authorize}"
        );
    }
    assert!(asked.iter().any(|(n, _)| n == "nonce"), "{authorize}");
    for _ in 0..10 {
        if !(300..400).contains(&page.status) {
            break;
        }
        let next = at
            .join(page.location.as_deref().expect("a Location"))
            .expect("a URL");
        assert_ne!(
            next.origin(),
            app.url.origin(),
            "a form_post provider answers by a page, not a redirect: {next}"
        );
        page = browser.get(next.as_str()).await;
        at = next;
    }
    assert!(
        page.status == 200 || page.status == 400,
        "{at}: {}",
        page.status
    );
    let html = page.text();
    assert!(
        html.contains("Submitting Callback"),
        "oidc-provider's page: {html}"
    );
    let (action, fields) = html_form(&html);
    assert_eq!(action, app.url("/auth/op/callback"), "{html}");
    (action, fields)
}

/// The provider's page submits its form cross-site: the app's relay page comes back with the
/// same fields (and its marker), to POST from the app's own origin.
async fn relay(
    browser: &Browser,
    app: &Running,
    action: &str,
    fields: &[(String, String)],
) -> Vec<(String, String)> {
    let relay = browser.post_form_cross_site(action, fields).await;
    assert_eq!(relay.status, 200, "{}", relay.text());
    assert!(
        relay.content_type.starts_with("text/html"),
        "{}",
        relay.content_type
    );
    let (relay_action, relayed) = html_form(&relay.text());
    assert_eq!(app.url(&relay_action), app.url("/auth/op/callback"));
    for field in fields {
        assert!(relayed.contains(field), "{field:?} relayed");
    }
    assert!(relayed.contains(&("actix_oauth_relayed".into(), "1".into())));
    relayed
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

#[actix_rt::test]
async fn a_certified_providers_form_post_is_relayed_and_signs_in_once() {
    let Some((op, app)) = start(false) else {
        return;
    };
    let browser = Browser::new();
    let (action, fields) = provider_form(&browser, &app).await;
    assert!(field(&fields, "code").is_some(), "{fields:?}");
    assert!(field(&fields, "state").is_some(), "{fields:?}");
    assert_eq!(
        field(&fields, "iss"),
        Some(op.issuer().as_str()),
        "RFC 9207"
    );
    let relayed = relay(&browser, &app, &action, &fields).await;
    assert_eq!(
        browser.get(&app.url("/token/op")).await.status,
        401,
        "not yet"
    );

    let done = browser
        .post_form(&app.url("/auth/op/callback"), &relayed)
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["provider"], "op", "{}", done.text());
    // The code was exchanged, the ID token (nonce) validated, the user-info call works.
    let info = browser.get(&app.url("/userinfo/op")).await;
    assert_eq!(info.status, 200, "{}", info.text());
    assert_eq!(info.json()["sub"], "alice", "{}", info.text());

    // The relay POST again: the state is spent.
    let replay = browser
        .post_form(&app.url("/auth/op/callback"), &relayed)
        .await;
    assert_eq!(replay.status, 400, "{}", replay.text());
    assert!(
        replay.text().contains("state_mismatch"),
        "{}",
        replay.text()
    );
}

#[actix_rt::test]
async fn a_forged_issuer_or_state_in_a_certified_providers_form_post_is_refused() {
    let Some((_op, app)) = start(false) else {
        return;
    };
    for (name, forged, kind) in [
        ("iss", "https://elsewhere.example", "issuer_mismatch"),
        ("state", "forged-state", "state_mismatch"),
    ] {
        let browser = Browser::new();
        let (action, mut fields) = provider_form(&browser, &app).await;
        for (n, value) in &mut fields {
            if n == name {
                *value = forged.to_owned();
            }
        }
        let relayed = relay(&browser, &app, &action, &fields).await;
        let page = browser
            .post_form(&app.url("/auth/op/callback"), &relayed)
            .await;
        assert_eq!(page.status, 400, "{name}: {}", page.text());
        assert!(page.text().contains(kind), "{name}: {}", page.text());
        assert_eq!(browser.get(&app.url("/token/op")).await.status, 401);
    }
}

#[actix_rt::test]
async fn a_decline_at_a_certified_provider_reaches_the_handler_as_declined() {
    let Some((_op, app)) = start(true) else {
        return;
    };
    let browser = Browser::new();
    let (action, fields) = provider_form(&browser, &app).await;
    assert_eq!(field(&fields, "error"), Some("access_denied"), "{fields:?}");
    assert!(field(&fields, "code").is_none(), "{fields:?}");
    let relayed = relay(&browser, &app, &action, &fields).await;
    let done = browser
        .post_form(&app.url("/auth/op/callback"), &relayed)
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["denied"], true, "{}", done.text());
    assert_eq!(browser.get(&app.url("/token/op")).await.status, 401);
}
