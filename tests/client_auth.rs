//! JWT client authentication (RFC 7523 §2.2, OpenID Connect Core §9) against the development
//! provider, which verifies assertions with `jsonwebtoken` (not the crate's signing code):
//! `client_secret_jwt` and `private_key_jwt` with ES256, RS256 and PS256 keys, on every call to
//! the token endpoint — the code exchange, the refresh, client credentials — and on revocation
//! at sign-out. A key the provider does not hold, a secret where an assertion is registered, and
//! a replayed assertion are refused.
#![cfg(feature = "private-key-jwt")]

mod common;

use std::time::Duration;

use actix_oauth::{
    AssertionAudience, ClientAuth, ClientKey, ErrorKind, OAuth, RemoteApp, RemoteAppBuilder,
    SigningAlgorithm,
};
use actix_oauth_dev::{DevClientAuth, DevProvider};
use common::{listener, start_app, Browser, Running};

const ES256_KEY: &str = include_str!("data/es256-client-key.pem");
const ES256_PUBLIC: &str = include_str!("data/es256-client-key.pub.pem");
const RSA_KEY: &str = include_str!("data/rsa-client-key.pem");
const RSA_PUBLIC: &str = include_str!("data/rsa-client-key.pub.pem");

struct Setup {
    provider: DevProvider,
    app: Running,
}

/// A provider whose client `app` authenticates as `registered`, and an app configured by
/// `configure`. Access tokens live one second, so that an API call refreshes.
fn setup(
    registered: DevClientAuth,
    configure: impl FnOnce(RemoteAppBuilder) -> RemoteAppBuilder,
) -> Setup {
    setup_at(DevProvider::builder(), registered, configure)
}

/// [`setup`] with a provider configured by `provider`.
fn setup_at(
    provider: actix_oauth_dev::DevProviderBuilder,
    registered: DevClientAuth,
    configure: impl FnOnce(RemoteAppBuilder) -> RemoteAppBuilder,
) -> Setup {
    let (l, url) = listener();
    let provider = provider
        .client(
            "app",
            "a client secret of at least thirty-two bytes",
            [format!("{url}auth/dev/callback")],
        )
        .client_auth("app", registered)
        .token_lifetime(Duration::from_secs(1))
        .start()
        .expect("dev provider");
    let app = RemoteApp::builder("dev")
        .issuer(provider.issuer())
        .consumer_key("app")
        .scope(["openid", "profile", "email"]);
    let oauth = OAuth::new()
        .remote_app(configure(app))
        .public_url(url.as_str())
        .build()
        .expect("config");
    Setup {
        app: start_app(oauth, l),
        provider,
    }
}

/// Signs in through the consent page; returns the callback page's status and body.
async fn sign_in(browser: &Browser, app: &Running) -> (u16, String) {
    let start = browser.get(&app.url("/auth/dev")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let authorize = url::Url::parse(start.location.as_deref().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), "alice".into()));
    let mut post = authorize.clone();
    post.set_query(None);
    let back = browser.post_form(post.as_str(), &form).await;
    assert_eq!(back.status, 302, "{}", back.text());
    let done = browser.get(back.location.as_deref().unwrap()).await;
    (done.status, done.text())
}

/// Signs in, lets the access token expire, calls the API (a refresh), and checks that the
/// provider took each token request.
async fn signs_in_refreshes_and_revokes_with(s: &Setup) {
    let browser = Browser::new();
    let (status, body) = sign_in(&browser, &s.app).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(s.provider.token_requests(), 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let call = browser.get(&s.app.url("/call/dev/api/me")).await;
    assert_eq!(call.status, 200, "{}", call.text());
    assert_eq!(call.json()["data"]["preferred_username"], "alice");
    assert_eq!(s.provider.token_requests(), 2, "the refresh authenticated");
    // Sign-out revokes at the provider, authenticated the same way.
    let out = browser.post_form(&s.app.url("/sign-out"), &[]).await;
    assert_eq!(out.status, 204, "{}", out.text());
    assert!(s.provider.revocations() >= 1, "revoked");
}

#[actix_rt::test]
async fn client_secret_jwt_signs_in_and_refreshes() {
    let s = setup(DevClientAuth::ClientSecretJwt, |app| {
        app.consumer_secret("a client secret of at least thirty-two bytes")
            .client_auth(ClientAuth::ClientSecretJwt)
    });
    signs_in_refreshes_and_revokes_with(&s).await;
}

#[actix_rt::test]
async fn private_key_jwt_with_es256_rs256_and_ps256_keys() {
    let keys = [
        (ES256_KEY, ES256_PUBLIC, None),
        (RSA_KEY, RSA_PUBLIC, None),
        (RSA_KEY, RSA_PUBLIC, Some(SigningAlgorithm::Ps256)),
    ];
    for (private, public, algorithm) in keys {
        let mut key = ClientKey::from_pem(private).unwrap().key_id("k1");
        if let Some(algorithm) = algorithm {
            key = key.algorithm(algorithm).unwrap();
        }
        // No client secret at all.
        let s = setup(
            DevClientAuth::PrivateKeyJwt {
                public_key_pem: public.to_owned(),
            },
            |app| app.client_auth(ClientAuth::PrivateKeyJwt).client_key(key),
        );
        signs_in_refreshes_and_revokes_with(&s).await;
    }
}

#[actix_rt::test]
async fn private_key_jwt_serves_client_credentials() {
    let key = ClientKey::from_pem(ES256_KEY).unwrap();
    let s = setup(
        DevClientAuth::PrivateKeyJwt {
            public_key_pem: ES256_PUBLIC.to_owned(),
        },
        |app| app.client_auth(ClientAuth::PrivateKeyJwt).client_key(key),
    );
    // `/call/dev/...?token=app` uses the app token of the client credentials grant.
    let browser = Browser::new();
    let page = browser.get(&s.app.url("/call/dev/api/me?token=app")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(s.provider.token_requests(), 1);
}

#[actix_rt::test]
async fn a_key_the_provider_does_not_hold_is_refused() {
    // The provider holds the P-256 public key; the app signs with its RSA key.
    let key = ClientKey::from_pem(RSA_KEY).unwrap();
    let s = setup(
        DevClientAuth::PrivateKeyJwt {
            public_key_pem: ES256_PUBLIC.to_owned(),
        },
        |app| app.client_auth(ClientAuth::PrivateKeyJwt).client_key(key),
    );
    let (status, body) = sign_in(&Browser::new(), &s.app).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("invalid_client"), "{body}");
}

#[actix_rt::test]
async fn the_secret_is_refused_where_an_assertion_is_registered() {
    let s = setup(DevClientAuth::ClientSecretJwt, |app| {
        app.consumer_secret("a client secret of at least thirty-two bytes")
    });
    let (status, body) = sign_in(&Browser::new(), &s.app).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("invalid_client"), "{body}");
}

#[test]
fn private_key_jwt_needs_a_key_and_no_secret() {
    let app = || {
        RemoteApp::builder("idp")
            .authorize_url("https://idp.example/authorize")
            .access_token_url("https://idp.example/token")
            .consumer_key("id")
    };
    let err = app()
        .client_auth(ClientAuth::PrivateKeyJwt)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("client_key"), "{err}");
    let key = ClientKey::from_pem(ES256_KEY).unwrap();
    assert!(app()
        .client_auth(ClientAuth::PrivateKeyJwt)
        .client_key(key)
        .build()
        .is_ok());
    let err = app().build().unwrap_err();
    assert!(err.to_string().contains("client secret"), "{err}");
    // An assertion never goes in a URL.
    let err = app()
        .consumer_secret("s")
        .client_auth(ClientAuth::ClientSecretJwt)
        .access_token_method(actix_oauth::TokenMethod::Get)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("URL"), "{err}");
}

/// The provider's side, with an assertion made by an independent JWT library: accepted once,
/// refused when replayed, refused for another audience.
#[actix_rt::test]
async fn the_provider_refuses_a_replayed_assertion() {
    let provider = DevProvider::builder()
        .client("app", "unused", ["http://127.0.0.1:9/cb"])
        .client_auth(
            "app",
            DevClientAuth::PrivateKeyJwt {
                public_key_pem: ES256_PUBLIC.to_owned(),
            },
        )
        .start()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let assertion = |aud: &str, jti: &str| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
            &serde_json::json!({
                "iss": "app", "sub": "app", "aud": aud, "jti": jti,
                "iat": now, "exp": now + 60,
            }),
            &jsonwebtoken::EncodingKey::from_ec_pem(ES256_KEY.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let token_url = provider.token_url().to_string();
    let post = |jwt: String| {
        let url = token_url.clone();
        async move {
            awc::Client::new()
                .post(url)
                .send_form(&[
                    ("grant_type", "client_credentials"),
                    (
                        "client_assertion_type",
                        "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    ),
                    ("client_assertion", jwt.as_str()),
                ])
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let first = assertion(&token_url, "jti-1");
    assert_eq!(post(first.clone()).await, 200);
    assert_eq!(post(first).await, 401, "replayed");
    assert_eq!(
        post(assertion("https://elsewhere.example/token", "jti-2")).await,
        401
    );
}

/// A provider that takes only its issuer as an assertion's audience (draft-ietf-oauth-rfc7523bis)
/// refuses the default, the token endpoint's URL, and signs in, refreshes and revokes with
/// `AssertionAudience::Issuer`.
#[actix_rt::test]
async fn the_issuer_as_audience_where_the_provider_takes_nothing_else() {
    let issuer_only = || DevProvider::builder().assertion_audience_issuer_only(true);
    let key = || ClientKey::from_pem(ES256_KEY).unwrap().key_id("k1");
    let registered = || DevClientAuth::PrivateKeyJwt {
        public_key_pem: ES256_PUBLIC.to_owned(),
    };
    let s = setup_at(issuer_only(), registered(), |app| {
        app.client_auth(ClientAuth::PrivateKeyJwt).client_key(key())
    });
    let (status, body) = sign_in(&Browser::new(), &s.app).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("invalid_client"), "{body}");
    let s = setup_at(issuer_only(), registered(), |app| {
        app.client_auth(ClientAuth::PrivateKeyJwt)
            .client_key(key())
            .assertion_audience(AssertionAudience::Issuer)
    });
    signs_in_refreshes_and_revokes_with(&s).await;
}

#[test]
fn the_issuer_as_audience_needs_an_issuer() {
    let err = RemoteApp::builder("plain")
        .authorize_url("https://idp.example/authorize")
        .access_token_url("https://idp.example/token")
        .consumer_key("id")
        .consumer_secret("a client secret of at least thirty-two bytes")
        .client_auth(ClientAuth::ClientSecretJwt)
        .assertion_audience(AssertionAudience::Issuer)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Configuration);
    assert!(err.to_string().contains("issuer"), "{err}");
}

/// A public client (`none`): its `client_id` alone at the code exchange, the refresh and the
/// revocation, and PKCE binding the code to the browser (the provider requires it of public
/// clients).
#[actix_rt::test]
async fn a_public_client_signs_in_refreshes_and_revokes_with_its_client_id_alone() {
    let s = setup(DevClientAuth::None, |app| app.client_auth(ClientAuth::None));
    signs_in_refreshes_and_revokes_with(&s).await;
    // A client secret is refused for it.
    let s = setup(DevClientAuth::None, |app| {
        app.consumer_secret("a client secret of at least thirty-two bytes")
    });
    let (status, body) = sign_in(&Browser::new(), &s.app).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("invalid_client"), "{body}");
}
