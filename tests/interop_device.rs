//! The device authorization grant (RFC 8628) against panva's `oidc-provider` (OpenID
//! Certified), not our own development provider: its `device_authorization_endpoint` found by
//! discovery, the user code entered and confirmed in the provider's own device pages (their
//! forms driven over HTTP, as a browser would submit them, with its `xsrf` token and cookies),
//! its login and consent interaction as `server.mjs` completes them, then the token polled for
//! and its `id_token` validated with the provider's keys. Skipped with a note when Node.js or
//! the provider's packages are missing; `.ci/run` installs them and makes that a failure.
#![cfg(feature = "oidc")]

mod common;

use std::{cell::RefCell, rc::Rc, time::Duration};

use actix_oauth::{DeviceAuthorization, ErrorKind, OAuth, OAuthExtension, RemoteApp};
use common::{html_form, oidc_provider::OidcProvider, Browser, Page};
use serde_json::json;
use url::Url;

const SECRET: &str = "device-secret-for-oidc-provider-tests";

/// The provider with the device flow on and one confidential client allowed the device grant.
fn provider() -> Option<OidcProvider> {
    OidcProvider::start(&json!({
        "clients": [{
            "client_id": "tv",
            "client_secret": SECRET,
            "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
            "response_types": [],
            "redirect_uris": [],
            "token_endpoint_auth_method": "client_secret_basic",
        }, {
            // A public client, as command-line tools are: no secret at all.
            "client_id": "cli",
            "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "refresh_token"],
            "response_types": [],
            "redirect_uris": [],
            "token_endpoint_auth_method": "none",
        }],
        "accounts": {
            "alice": { "email": "alice@example.test", "name": "Alice Example" },
        },
        "features": { "deviceFlow": { "enabled": true } },
    }))
}

fn oauth(op: &OidcProvider) -> OAuthExtension {
    OAuth::new()
        .remote_app(
            RemoteApp::builder("op")
                .issuer(op.issuer())
                .client_id("tv")
                .client_secret(SECRET)
                .scope(["openid", "email", "profile"]),
        )
        .remote_app(
            RemoteApp::builder("public")
                .issuer(op.issuer())
                .client_id("cli")
                .client_auth(actix_oauth::ClientAuth::None)
                .scope(["openid", "offline_access"]),
        )
        .build()
        .expect("config")
}

/// Submits the first form of `page` (answered at `at`) with its hidden fields and `extra`.
async fn submit(browser: &Browser, at: &Url, page: &Page, extra: &[(&str, &str)]) -> (Url, Page) {
    assert_eq!(page.status, 200, "{at}: {}", page.text());
    let (action, mut form) = html_form(&page.text());
    form.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let target = at.join(&action).expect("form action");
    let answer = browser.post_form(target.as_str(), &form).await;
    (target, answer)
}

/// Follows redirects from `page` (answered at `at`) to the page that is not one.
async fn follow(browser: &Browser, mut at: Url, mut page: Page) -> (Url, Page) {
    for _ in 0..10 {
        let Some(location) = page
            .location
            .clone()
            .filter(|_| (300..400).contains(&page.status))
        else {
            return (at, page);
        };
        at = at.join(&location).expect("a URL");
        page = browser.get(at.as_str()).await;
    }
    panic!("more than 10 redirects");
}

/// The user at the provider's device pages, on another device: opens the
/// `verification_uri_complete` (oidc-provider answers a self-submitting form carrying its
/// `xsrf` token and the code), submits it, and on the confirmation page confirms (or aborts);
/// answers the last page.
async fn user_decides(authorization: &DeviceAuthorization, confirm: bool) -> Page {
    let browser = Browser::new();
    let complete = authorization
        .verification_uri_complete()
        .expect("oidc-provider sends verification_uri_complete")
        .clone();
    let page = browser.get(complete.as_str()).await;
    let (at, confirmation) = submit(&browser, &complete, &page, &[]).await;
    assert!(
        confirmation.text().contains("Confirm Device"),
        "{}",
        confirmation.text()
    );
    // The confirmation form carries `confirm=yes`; its abort button adds `abort=yes`, which
    // oidc-provider reads first.
    let abort: &[(&str, &str)] = if confirm { &[] } else { &[("abort", "yes")] };
    let (at, answer) = submit(&browser, &at, &confirmation, abort).await;
    follow(&browser, at, answer).await.1
}

#[actix_rt::test]
async fn a_device_sign_in_approved_in_the_providers_pages() {
    let Some(op) = provider() else { return };
    let oauth = oauth(&op);

    let authorization = oauth.device_authorization("op").await.expect("started");
    assert!(authorization
        .verification_uri()
        .as_str()
        .starts_with(&op.issuer()));
    // oidc-provider names no interval: RFC 8628's 5 seconds.
    assert_eq!(authorization.interval(), Duration::from_secs(5));

    let done = user_decides(&authorization, true).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert!(done.text().contains("Sign-in Success"), "{}", done.text());

    // The wait is the test's own (oidc-provider does not answer slow_down): the interval asked
    // for is recorded, a tenth of a second is waited.
    let waits = Rc::new(RefCell::new(Vec::new()));
    let seen = waits.clone();
    let token = oauth
        .device_token_with("op", &authorization, move |wait| {
            seen.borrow_mut().push(wait);
            actix_rt::time::sleep(Duration::from_millis(100))
        })
        .await
        .expect("the token");
    assert_eq!(*waits.borrow(), [Duration::from_secs(5)]);
    let claims = token.id_token_claims().expect("a validated id_token");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["aud"], "tv");

    // The token is the provider's: its userinfo endpoint answers for alice.
    let profile = awc::Client::new()
        .get(format!("{}/me", op.issuer()))
        .bearer_auth(token.access_token().secret())
        .send()
        .await
        .expect("userinfo")
        .json::<serde_json::Value>()
        .await
        .expect("JSON");
    assert_eq!(profile["sub"], "alice", "{profile}");
    assert_eq!(profile["email"], "alice@example.test", "{profile}");
}

#[actix_rt::test]
async fn a_device_sign_in_aborted_in_the_providers_page_is_denied() {
    let Some(op) = provider() else { return };
    let oauth = oauth(&op);

    let mut authorization = oauth.device_authorization("op").await.expect("started");
    let pending = oauth.poll_device_token("op", &mut authorization).await;
    assert!(
        matches!(pending, Ok(actix_oauth::DevicePoll::Pending)),
        "{pending:?}"
    );
    user_decides(&authorization, false).await;
    let err = oauth
        .device_token_with("op", &authorization, |_| {
            actix_rt::time::sleep(Duration::from_millis(100))
        })
        .await
        .expect_err("denied");
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
}

/// A public client (`token_endpoint_auth_method` `none`), as a command-line tool is: its
/// `client_id` alone at the device endpoint and at each poll, and the refresh token it gets
/// (`offline_access`) renews the access token the same way.
#[actix_rt::test]
async fn a_public_client_signs_in_with_the_device_grant_and_refreshes() {
    let Some(op) = provider() else { return };
    let oauth = oauth(&op);
    let authorization = oauth.device_authorization("public").await.expect("started");
    let done = user_decides(&authorization, true).await;
    assert!(done.text().contains("Sign-in Success"), "{}", done.text());
    let token = oauth
        .device_token_with("public", &authorization, |_| {
            actix_rt::time::sleep(Duration::from_millis(100))
        })
        .await
        .expect("the token");
    let claims = token.id_token_claims().expect("a validated id_token");
    assert_eq!(claims["aud"], "cli");
    assert!(
        token.refresh_token().is_some(),
        "offline_access: a refresh token"
    );
    let renewed = oauth
        .refresh_token("public", &token)
        .await
        .expect("refreshed by the client id alone");
    assert_ne!(
        renewed.access_token().secret(),
        token.access_token().secret()
    );
}
