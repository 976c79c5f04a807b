//! Sign in with Apple through the `Apple` preset, against a loopback fake that behaves as Apple
//! documents (`tests/common/fake/apple.rs`): the cross-site `form_post` answer, the ES256
//! client-secret JWT checked on every call (minted once and cached), the `user` JSON of the
//! first sign-in only, `email_verified` / `is_private_email` as strings or booleans, Apple's
//! word for a cancelled sign-in, and revocation at sign-out.
#![cfg(all(feature = "oidc", feature = "private-key-jwt"))]

mod common;

use std::time::Duration;

use actix_oauth::{
    providers::{Any, Apple},
    AuthorizedResponse, ClientKey, OAuth, OAuthError, OAuthExtension, OAuthMiddleware, Provider,
    RemoteApp,
};
use actix_session::{
    config::CookieContentSecurity, storage::CookieSessionStore, SessionMiddleware,
};
use actix_web::{cookie::Key, web, App, HttpRequest, HttpResponse, ResponseError as _};
use common::{
    fake::{
        apple::{Apple as AppleFake, AppleSettings},
        FakeProvider,
    },
    html_form, listener, serve, Browser, Running,
};
use serde_json::{json, Value};

const KEY: &str = include_str!("data/es256-client-key.pem");
const PUBLIC: &str = include_str!("data/es256-client-key.pub.pem");
const RSA_KEY: &str = include_str!("data/rsa-client-key.pem");

fn settings() -> AppleSettings {
    AppleSettings {
        client_id: "com.example.web".into(),
        team_id: "TEAMID1234".into(),
        key_id: "ABC123DEFG".into(),
        public_key_pem: PUBLIC.into(),
        subject: "001234.0a1b2c3d4e5f60718293a4b5c6d7e8f9.1234".into(),
        email: "dq7rxh2kfz@privaterelay.appleid.com".into(),
        string_booleans: true,
        private_email: true,
        first_name: "John".into(),
        last_name: "Appleseed".into(),
        cancel: false,
    }
}

async fn login(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    oauth.authorize(&req, &provider, None).await
}

async fn callback(resp: Option<AuthorizedResponse<Any>>, oauth: OAuthExtension) -> HttpResponse {
    let Some(resp) = resp else {
        return HttpResponse::Ok().json(json!({ "denied": true }));
    };
    match oauth.profile(resp.provider(), resp.token()).await {
        Ok(profile) => HttpResponse::Ok().json(json!({ "profile": profile })),
        Err(err) => {
            HttpResponse::build(err.status_code()).json(json!({ "error": err.kind().as_str() }))
        }
    }
}

async fn sign_out(req: HttpRequest, oauth: OAuthExtension) -> HttpResponse {
    match oauth.sign_out(&req).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(err) => err.error_response(),
    }
}

fn app(fake: &FakeProvider<AppleFake>, key_pem: &str) -> Running {
    let (l, url) = listener();
    let key = ClientKey::from_pem(key_pem).unwrap().key_id("ABC123DEFG");
    let apple = Apple::signed_with(
        RemoteApp::from_provider::<Apple>("com.example.web", ""),
        "TEAMID1234",
        key,
    )
    // The preset's issuer moved to the fake; nothing else changes.
    .issuer(fake.origin());
    let oauth = OAuth::new()
        .remote_app(apple)
        .public_url(url.as_str())
        .timeout(Duration::from_secs(5))
        .build()
        .expect("config");
    let key = Key::generate();
    serve(l, move || {
        App::new()
            .app_data(oauth.clone())
            .wrap(OAuthMiddleware::new())
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    .cookie_secure(false)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .build(),
            )
            .route("/auth/{provider}", web::get().to(login))
            .route("/auth/{provider}/callback", web::post().to(callback))
            .route("/sign-out", web::post().to(sign_out))
    })
}

/// One sign-in the way a browser goes: to Apple, Apple's page POSTing back cross-site, the
/// relay page, its same-site POST. Returns the callback's JSON and status.
async fn sign_in(browser: &Browser, app: &Running, fake: &FakeProvider<AppleFake>) -> (u16, Value) {
    let start = browser.get(&app.url("/auth/apple")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let location = start.location.clone().unwrap();
    assert!(
        location.starts_with(&fake.url("/auth/authorize")),
        "{location}"
    );
    let query = start.location_query();
    assert_eq!(query["response_mode"], "form_post");
    assert_eq!(query["scope"], "openid name email");
    assert!(query.contains_key("nonce"), "{query:?}");
    assert!(
        !query.contains_key("code_challenge"),
        "Apple documents no PKCE"
    );
    let page = browser.get(&location).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let (action, fields) = html_form(&page.text());
    assert_eq!(action, app.url("/auth/apple/callback"));
    let relay = browser.post_form_cross_site(&action, &fields).await;
    assert_eq!(relay.status, 200, "{}", relay.text());
    let (_, relayed) = html_form(&relay.text());
    let done = browser.post_form(&action, &relayed).await;
    (
        done.status,
        serde_json::from_slice(&done.body).unwrap_or(Value::Null),
    )
}

#[actix_rt::test]
async fn signs_in_with_the_name_of_the_first_sign_in_and_a_minted_secret() {
    let fake = FakeProvider::serve(AppleFake::new(settings()));
    let app = app(&fake, KEY);
    let (status, json) = sign_in(&Browser::new(), &app, &fake).await;
    assert_eq!(status, 200, "{json}");
    let profile = &json["profile"];
    assert_eq!(profile["provider"], "apple");
    assert_eq!(profile["subject"], settings().subject);
    assert_eq!(
        profile["name"], "John Appleseed",
        "from the first sign-in's `user`"
    );
    assert_eq!(profile["email"], "dq7rxh2kfz@privaterelay.appleid.com");
    assert_eq!(profile["email_verified"], true, "`\"true\"` as a string");
    assert_eq!(profile["private_email"], true);
    // The name comes once: the second sign-in has none (keep it at the first).
    let (status, json) = sign_in(&Browser::new(), &app, &fake).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["profile"]["name"], Value::Null);
    assert_eq!(json["profile"]["subject"], settings().subject);
    // Both token requests presented the same minted secret: it is cached.
    let secrets = fake.personality().secrets();
    assert_eq!(secrets.len(), 2);
    assert_eq!(secrets[0], secrets[1]);
    assert!(!fake
        .requests_to("/auth/token")
        .iter()
        .any(|r| r.form().contains_key("code_verifier")));
}

#[actix_rt::test]
async fn booleans_as_booleans_and_a_real_address() {
    let fake = FakeProvider::serve(AppleFake::new(AppleSettings {
        string_booleans: false,
        private_email: false,
        email: "john@example.test".into(),
        ..settings()
    }));
    let app = app(&fake, KEY);
    let (status, json) = sign_in(&Browser::new(), &app, &fake).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["profile"]["email_verified"], true);
    assert_eq!(json["profile"]["private_email"], false);
}

#[actix_rt::test]
async fn a_secret_signed_with_another_key_is_refused_by_apple() {
    let fake = FakeProvider::serve(AppleFake::new(settings()));
    // A P-256 key, but not the one Apple holds.
    let (other_key, _) = actix_oauth_dev::client_key_pair().unwrap();
    let app = app(&fake, &other_key);
    let (status, json) = sign_in(&Browser::new(), &app, &fake).await;
    assert_eq!(status, 502, "{json}");
}

#[actix_rt::test]
async fn cancelling_at_apple_is_a_declined_sign_in() {
    let fake = FakeProvider::serve(AppleFake::new(AppleSettings {
        cancel: true,
        ..settings()
    }));
    let app = app(&fake, KEY);
    let (status, json) = sign_in(&Browser::new(), &app, &fake).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["denied"], true);
    assert!(fake.requests_to("/auth/token").is_empty());
}

#[actix_rt::test]
async fn sign_out_revokes_at_apple_with_the_minted_secret() {
    let fake = FakeProvider::serve(AppleFake::new(settings()));
    let app = app(&fake, KEY);
    let browser = Browser::new();
    let (status, json) = sign_in(&browser, &app, &fake).await;
    assert_eq!(status, 200, "{json}");
    let out = browser.post_form(&app.url("/sign-out"), &[]).await;
    assert_eq!(out.status, 204, "{}", out.text());
    assert!(fake.personality().revoked() >= 1);
}

#[test]
fn the_preset_by_name_and_its_settings() {
    assert!(actix_oauth::providers::NAMES.contains(&"apple"));
    assert_eq!(Apple::NAME, "apple");
    // Without a key to mint the secret with, and no fixed secret, it does not build.
    let err = RemoteApp::from_provider::<Apple>("com.example.web", "")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("client secret"), "{err}");
}

/// Apple takes only ES256 client secrets: an RSA key is refused when the app is built, not by
/// Apple at the first sign-in.
#[test]
fn an_rsa_key_is_refused_when_the_app_is_built() {
    let key = ClientKey::from_pem(RSA_KEY).unwrap().key_id("ABC123DEFG");
    let err = OAuth::new()
        .remote_app(Apple::signed_with(
            RemoteApp::from_provider::<Apple>("com.example.web", ""),
            "TEAMID1234",
            key,
        ))
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), actix_oauth::ErrorKind::Configuration);
    assert!(err.to_string().contains("ES256"), "{err}");
}

/// Apple documents no PKCE: the ID token's `nonce` alone binds a code to the browser that asked
/// for it. An attacker's own code planted in a victim's callback, with the victim's `state`, is
/// refused (RFC 9700 §4.5), and the victim is not signed in as the attacker.
#[actix_rt::test]
async fn an_injected_code_is_refused_by_its_nonce() {
    let fake = FakeProvider::serve(AppleFake::new(settings()));
    let app = app(&fake, KEY);
    // Apple's form POST for a sign-in begun in `browser`: the callback URL and its fields.
    let apple_answers = |browser: Browser| {
        let app = &app;
        async move {
            let start = browser.get(&app.url("/auth/apple")).await;
            assert_eq!(start.status, 302, "{}", start.text());
            let page = browser.get(start.location.as_deref().unwrap()).await;
            assert_eq!(page.status, 200, "{}", page.text());
            let (action, fields) = html_form(&page.text());
            (browser, action, fields)
        }
    };
    let (_, _, attackers) = apple_answers(Browser::new()).await;
    let (victim, action, victims) = apple_answers(Browser::new()).await;
    let field = |fields: &[(String, String)], name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let planted: Vec<(String, String)> = victims
        .iter()
        .map(|(k, v)| match k.as_str() {
            "code" => (k.clone(), field(&attackers, "code")),
            _ => (k.clone(), v.clone()),
        })
        .collect();
    assert_ne!(field(&planted, "code"), field(&victims, "code"));
    // Same-site, with the victim's session cookie: completed at once, so the nonce decides.
    let done = victim.post_form(&action, &planted).await;
    assert!(
        done.status >= 400,
        "{}: {}",
        done.status,
        String::from_utf8_lossy(&done.body)
    );
    assert!(
        String::from_utf8_lossy(&done.body).contains("nonce"),
        "{}",
        String::from_utf8_lossy(&done.body)
    );
}
