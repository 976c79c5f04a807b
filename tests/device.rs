//! The device authorization grant (RFC 8628) against the development provider over loopback, as
//! a command-line tool runs it: no actix-web request anywhere, the user approving or denying in
//! the provider's page (driven here over HTTP). Polling is checked by counting the requests the
//! provider received and the waits asked for, never by timing.

mod common;

use std::{cell::RefCell, rc::Rc, time::Duration};

use actix_oauth::{DevicePoll, ErrorKind, OAuth, OAuthExtension, RemoteApp};
use actix_oauth_dev::{DevAlgorithm, DevProvider, DevUser};
use common::{html_form, Browser};
use url::Url;

const ID: &str = "cli";
const SECRET: &str = "cli-secret";

fn provider(lifetime: Duration) -> DevProvider {
    DevProvider::builder()
        .client(ID, SECRET, ["http://127.0.0.1:1/unused"])
        .user(DevUser::new("alice").name("Alice Example"))
        .id_token_algorithm(DevAlgorithm::Es256)
        .device_interval(Duration::from_secs(1))
        .device_code_lifetime(lifetime)
        .start()
        .expect("the provider starts")
}

/// Remote app `oidc` (discovery names the device endpoint, `id_token`s validated) and `plain`
/// (OAuth 2 with the endpoint configured).
fn oauth(dev: &DevProvider) -> OAuthExtension {
    OAuth::new()
        .remote_app(
            RemoteApp::builder("oidc")
                .issuer(dev.issuer())
                .client_id(ID)
                .client_secret(SECRET)
                .scope(["openid", "profile"]),
        )
        .remote_app(
            RemoteApp::builder("plain")
                .authorize_url(dev.authorize_url().as_str())
                .access_token_url(dev.token_url().as_str())
                .device_authorization_url(dev.device_authorization_url().as_str())
                .client_id(ID)
                .client_secret(SECRET)
                .scope(["profile"]),
        )
        .remote_app(
            RemoteApp::builder("nodevice")
                .authorize_url(dev.authorize_url().as_str())
                .access_token_url(dev.token_url().as_str())
                .client_id(ID)
                .client_secret(SECRET),
        )
        .remote_app(
            RemoteApp::builder("oauth1")
                .request_token_url(dev.oauth1_request_token_url().as_str())
                .authorize_url(dev.oauth1_authorize_url().as_str())
                .access_token_url(dev.oauth1_access_token_url().as_str())
                .consumer_key(ID)
                .consumer_secret(SECRET),
        )
        .build()
        .expect("config")
}

/// The user at the provider's page: opens `verification_uri_complete`, then approves (as
/// alice) or denies.
async fn decide(complete: &Url, decision: &str) {
    let browser = Browser::new();
    let page = browser.get(complete.as_str()).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let (action, mut form) = html_form(&page.text());
    form.push(("user".to_owned(), "alice".to_owned()));
    form.push(("decision".to_owned(), decision.to_owned()));
    let target = complete.join(&action).expect("form action");
    let answer = browser.post_form(target.as_str(), &form).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
}

/// A sleep that records each wait asked for and then really waits it (the provider checks the
/// interval against its own clock).
fn recording_sleep() -> (
    Rc<RefCell<Vec<Duration>>>,
    impl FnMut(Duration) -> actix_rt::time::Sleep,
) {
    let waits = Rc::new(RefCell::new(Vec::new()));
    let seen = waits.clone();
    (waits, move |wait| {
        seen.borrow_mut().push(wait);
        actix_rt::time::sleep(wait)
    })
}

#[actix_rt::test]
async fn approved_in_the_page_yields_a_validated_sign_in() {
    let dev = provider(Duration::from_secs(600));
    let oauth = oauth(&dev);

    let mut authorization = oauth.device_authorization("oidc").await.expect("started");
    assert_eq!(authorization.provider(), "oidc");
    assert_eq!(authorization.interval(), Duration::from_secs(1));
    assert_eq!(
        authorization.verification_uri(),
        &dev.device_verification_url()
    );
    assert!(authorization.user_code().len() >= 8);
    let debug = format!("{authorization:?}");
    assert!(
        !debug.contains(authorization.device_code().secret().as_str()),
        "{debug}"
    );

    // Nobody has approved yet.
    let poll = oauth
        .poll_device_token("oidc", &mut authorization)
        .await
        .expect("a poll");
    assert!(matches!(poll, DevicePoll::Pending), "{poll:?}");
    assert_eq!(dev.token_requests(), 1);

    let complete = authorization
        .verification_uri_complete()
        .expect("a complete URI")
        .clone();
    decide(&complete, "approve").await;

    let (waits, sleep) = recording_sleep();
    let token = oauth
        .device_token_with("oidc", &authorization, sleep)
        .await
        .expect("the token");
    let claims = token.id_token_claims().expect("a validated id_token");
    assert_eq!(claims["sub"], "dev-alice");
    assert_eq!(claims["name"], "Alice Example");
    assert!(claims.get("nonce").is_none());
    assert!(token.refresh_token().is_some());
    // One wait of one interval, then one more poll.
    assert_eq!(*waits.borrow(), [Duration::from_secs(1)]);
    assert_eq!(dev.token_requests(), 2);

    // The token works at the provider, outside any request of ours.
    let profile = awc::Client::new()
        .get(dev.userinfo_url().as_str())
        .bearer_auth(token.access_token().secret())
        .send()
        .await
        .expect("userinfo")
        .json::<serde_json::Value>()
        .await
        .expect("JSON");
    assert_eq!(profile["sub"], "dev-alice");
}

#[actix_rt::test]
async fn slow_down_is_honoured() {
    let dev = provider(Duration::from_secs(600));
    let oauth = oauth(&dev);
    let mut authorization = oauth.device_authorization("plain").await.expect("started");

    // Two polls back to back: the second is too soon, and the interval grows by 5 s.
    let first = oauth.poll_device_token("plain", &mut authorization).await;
    assert!(matches!(first, Ok(DevicePoll::Pending)), "{first:?}");
    let second = oauth.poll_device_token("plain", &mut authorization).await;
    assert!(matches!(second, Ok(DevicePoll::SlowDown)), "{second:?}");
    assert_eq!(authorization.interval(), Duration::from_secs(6));
    assert_eq!(dev.token_requests(), 2);

    let complete = authorization
        .verification_uri_complete()
        .expect("a complete URI")
        .clone();
    decide(&complete, "approve").await;

    // The provider now wants 6 s between polls: a client still polling every second would hear
    // `slow_down` again (and poll more). One wait of 6 s, one poll, the token.
    let (waits, sleep) = recording_sleep();
    let token = oauth
        .device_token_with("plain", &authorization, sleep)
        .await
        .expect("the token");
    assert!(!token.access_token().secret().is_empty());
    assert!(token.id_token_claims().is_none());
    assert_eq!(*waits.borrow(), [Duration::from_secs(6)]);
    assert_eq!(dev.token_requests(), 3);
}

#[actix_rt::test]
async fn denied_in_the_page_is_denied() {
    let dev = provider(Duration::from_secs(600));
    let oauth = oauth(&dev);
    let authorization = oauth.device_authorization("plain").await.expect("started");
    let complete = authorization
        .verification_uri_complete()
        .expect("a complete URI")
        .clone();
    decide(&complete, "deny").await;

    let (waits, sleep) = recording_sleep();
    let err = oauth
        .device_token_with("plain", &authorization, sleep)
        .await
        .expect_err("denied");
    assert_eq!(err.kind(), ErrorKind::Denied, "{err}");
    assert_eq!(waits.borrow().len(), 1);
    assert_eq!(dev.token_requests(), 1);
}

#[actix_rt::test]
async fn expiry_ends_the_wait() {
    let dev = provider(Duration::from_secs(1));
    let oauth = oauth(&dev);

    // Polling gives up at `expires_in`, without asking once more.
    let authorization = oauth.device_authorization("plain").await.expect("started");
    assert_eq!(authorization.expires_in(), Duration::from_secs(1));
    let (waits, sleep) = recording_sleep();
    let err = oauth
        .device_token_with("plain", &authorization, sleep)
        .await
        .expect_err("expired");
    assert_eq!(err.kind(), ErrorKind::DeviceExpired, "{err}");
    assert!(authorization.is_expired());
    assert!(waits.borrow().iter().all(|w| *w <= Duration::from_secs(1)));
    assert!(dev.token_requests() <= 1);

    // An app polling by itself after expiry hears the provider's `expired_token`.
    let before = dev.token_requests();
    let mut late = oauth.device_authorization("plain").await.expect("started");
    actix_rt::time::sleep(Duration::from_millis(1100)).await;
    let err = oauth
        .poll_device_token("plain", &mut late)
        .await
        .expect_err("expired");
    assert_eq!(err.kind(), ErrorKind::DeviceExpired, "{err}");
    assert_eq!(dev.token_requests(), before + 1);
}

#[actix_rt::test]
async fn misuse_is_a_configuration_error_and_sends_nothing() {
    let dev = provider(Duration::from_secs(600));
    let oauth = oauth(&dev);

    for app in ["oauth1", "nodevice", "unknown"] {
        let err = oauth
            .device_authorization(app)
            .await
            .expect_err("no device grant");
        assert_eq!(err.kind(), ErrorKind::Configuration, "{app}: {err}");
    }

    // A device code only goes to the provider that issued it.
    let mut authorization = oauth.device_authorization("plain").await.expect("started");
    let err = oauth
        .poll_device_token("oidc", &mut authorization)
        .await
        .expect_err("another app");
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    let err = oauth
        .device_token("nodevice", &authorization)
        .await
        .expect_err("another app");
    assert_eq!(err.kind(), ErrorKind::Configuration, "{err}");
    assert_eq!(dev.token_requests(), 0);
}

/// The example CLI as users run it, offline (its own development provider) and approving by
/// itself: it prints the code and the address, polls, and says who signed in.
#[test]
fn the_example_cli_signs_in_offline() {
    let exe = std::env::current_exe().expect("test path");
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .join("examples")
        .join(if cfg!(windows) {
            "device.exe"
        } else {
            "device"
        });
    if !bin.exists() {
        // `cargo test` builds the examples; `cargo test --test device` alone does not.
        common::say_skipped("examples/device not built: run `cargo build --examples`");
        return;
    }
    let mut child = std::process::Command::new(&bin)
        .arg("--approve-as")
        .arg("alice")
        .env_remove("DEVICE_ISSUER")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the example starts");
    // Never hang: a minute is far more than it needs.
    let mut waited = Duration::ZERO;
    while child.try_wait().expect("wait").is_none() {
        assert!(
            waited < Duration::from_secs(60),
            "the example did not finish"
        );
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    }
    let output = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("enter the code"), "{stdout}");
    assert!(
        stdout.contains("Signed in as Alice Example <alice@example.test>"),
        "{stdout}"
    );
}

/// A command-line tool is a public client (RFC 6749 §2.1): `ClientAuth::None` sends its
/// `client_id` alone, at the device endpoint and at each poll; a provider that registered it so
/// refuses a secret.
#[actix_rt::test]
async fn a_public_client_signs_in_with_its_client_id_alone() {
    let dev = DevProvider::builder()
        .client("tool", "", ["http://127.0.0.1:1/unused"])
        .client_auth("tool", actix_oauth_dev::DevClientAuth::None)
        .user(DevUser::new("alice").name("Alice Example"))
        .device_interval(Duration::from_secs(1))
        .start()
        .expect("the provider starts");
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("tool")
                .issuer(dev.issuer())
                .client_id("tool")
                .client_auth(actix_oauth::ClientAuth::None)
                .scope(["openid", "profile"]),
        )
        .remote_app(
            RemoteApp::builder("with-secret")
                .issuer(dev.issuer())
                .client_id("tool")
                .client_secret("made-up")
                .client_auth(actix_oauth::ClientAuth::RequestBody),
        )
        .build()
        .expect("config");
    let authorization = oauth.device_authorization("tool").await.expect("started");
    decide(
        authorization.verification_uri_complete().expect("complete"),
        "approve",
    )
    .await;
    let (_, sleep) = recording_sleep();
    let token = oauth
        .device_token_with("tool", &authorization, sleep)
        .await
        .expect("the token");
    assert_eq!(
        token.id_token_claims().expect("validated")["sub"],
        "dev-alice"
    );
    // The tool renews its token itself, outside any request, by its client id alone.
    let renewed = oauth.refresh_token("tool", &token).await.expect("renewed");
    assert_ne!(
        renewed.access_token().secret(),
        token.access_token().secret()
    );
    assert_eq!(dev.refreshes(), 1);
    // The rotated refresh token presented again: the provider revokes the grant, and the tool
    // is told to sign in again.
    let reused = oauth.refresh_token("tool", &token).await.unwrap_err();
    assert_eq!(
        reused.kind(),
        ErrorKind::ReauthenticationRequired,
        "{reused}"
    );
    let refused = oauth.device_authorization("with-secret").await.unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Provider, "{refused}");
    assert!(refused.to_string().contains("invalid_client"), "{refused}");
}

#[test]
fn a_public_client_has_no_secret_and_keeps_pkce() {
    let with_secret = RemoteApp::builder("tool")
        .issuer("https://idp.example")
        .client_id("tool")
        .client_secret("secret")
        .client_auth(actix_oauth::ClientAuth::None)
        .build()
        .unwrap_err();
    assert_eq!(with_secret.kind(), ErrorKind::Configuration);
    assert!(with_secret.to_string().contains("public"), "{with_secret}");
    let without_pkce = RemoteApp::builder("tool")
        .issuer("https://idp.example")
        .client_id("tool")
        .client_auth(actix_oauth::ClientAuth::None)
        .pkce(false)
        .build()
        .unwrap_err();
    assert!(without_pkce.to_string().contains("PKCE"), "{without_pkce}");
}
