//! JWT client authentication (RFC 7523 §2.2, OpenID Connect Core §9) against panva's
//! `oidc-provider` (OpenID Certified), not our own development provider: `private_key_jwt` with
//! ES256, RS256 and PS256 keys whose public JWKs the provider holds (converted from PEM by
//! Node.js, not by us) and `client_secret_jwt` (HS256), on every call that authenticates the
//! client — the code exchange, the refresh, revocation at sign-out, and client credentials. The
//! provider's own introspection, asked by another client, says what happened to the tokens. A
//! key the provider does not hold is its `invalid_client`, reported as such. Skipped with a note
//! when Node.js or the provider's packages are missing; `.ci/run` installs them and makes that a
//! failure.
#![cfg(all(feature = "oidc", feature = "private-key-jwt"))]

mod common;

use actix_oauth::{
    ClientAuth, ClientKey, MemoryTokenStore, OAuth, OAuthExtension, RemoteApp, RemoteAppBuilder,
    SigningAlgorithm, APP_TOKEN,
};
use actix_web::{web, App, HttpRequest, HttpResponse, ResponseError as _};
use common::{
    listener,
    oidc_provider::{inspector_client, OidcProvider},
    serve, Browser, Page, Running,
};
use serde_json::{json, Value};
use url::Url;

const ES256_KEY: &str = include_str!("data/es256-client-key.pem");
const ES256_PUBLIC: &str = include_str!("data/es256-client-key.pub.pem");
const RSA_KEY: &str = include_str!("data/rsa-client-key.pem");
const RSA_PUBLIC: &str = include_str!("data/rsa-client-key.pub.pem");

/// A client secret long enough for HS256 at oidc-provider.
const HS256_SECRET: &str = "an HS256 client secret for oidc-provider, well over thirty-two bytes";

/// Access tokens live 25 seconds, less than the 30 seconds the crate refreshes ahead of an
/// expiry: the first API call after sign-in refreshes, no waiting. (Only a refresh token, which
/// lives a day, going inactive proves a revocation: an access token may also have expired.)
const ACCESS_TOKEN_TTL: u64 = 25;

struct Interop {
    op: OidcProvider,
    app: Running,
}

/// The provider with client `app` authenticating as `auth` says (client metadata merged into
/// the client's: `token_endpoint_auth_method`, `public_keys_pem`, `client_secret`, …) and the
/// app, signing in as remote app `op` configured by `configure`. `None` when the provider cannot
/// run here (see [`OidcProvider::start`]).
fn start(
    auth: Value,
    configure: impl FnOnce(RemoteAppBuilder) -> RemoteAppBuilder,
) -> Option<Interop> {
    let (l, url) = listener();
    let mut client = json!({
        "client_id": "app",
        "redirect_uris": [format!("{url}auth/op/callback")],
        "grant_types": ["authorization_code", "refresh_token", "client_credentials"],
        "response_types": ["code"],
    });
    for (name, value) in auth.as_object().expect("client metadata") {
        client[name] = value.clone();
    }
    let op = OidcProvider::start(&json!({
        "clients": [client, inspector_client()],
        "features": { "clientCredentials": { "enabled": true } },
        "ttl": { "AccessToken": ACCESS_TOKEN_TTL },
    }))?;
    let remote = RemoteApp::builder("op")
        .issuer(op.issuer())
        .client_id("app")
        // `offline_access` with `prompt=consent`: oidc-provider issues a refresh token.
        .scope(["openid", "email", "profile", "offline_access"])
        .authorize_param("prompt", "consent");
    let oauth = OAuth::new()
        .remote_app(configure(remote))
        .public_url(url.as_str())
        .token_store(MemoryTokenStore::new())
        .build()
        .expect("config");
    let app = serve(l, move || {
        App::new()
            .app_data(oauth.clone())
            .wrap(actix_oauth::OAuthMiddleware::new())
            .wrap(
                actix_session::SessionMiddleware::builder(
                    actix_session::storage::CookieSessionStore::default(),
                    actix_web::cookie::Key::from(&[7; 64]),
                )
                .cookie_secure(false)
                .build(),
            )
            .route("/auth/{provider}", web::get().to(login))
            .route("/auth/{provider}/callback", web::get().to(callback))
            .route("/token/{provider}", web::get().to(token))
            .route("/app-token/{provider}", web::get().to(app_token))
            .route("/call/{provider}/{tail:.*}", web::get().to(call))
            .route("/sign-out", web::post().to(sign_out))
    });
    Some(Interop { op, app })
}

async fn login(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> HttpResponse {
    oauth
        .authorize(&req, &provider, None)
        .await
        .unwrap_or_else(|e| e.error_response())
}

async fn callback(
    resp: Option<actix_oauth::AuthorizedResponse<actix_oauth::providers::Any>>,
) -> HttpResponse {
    match resp {
        None => HttpResponse::Ok().json(json!({ "denied": true })),
        Some(resp) => HttpResponse::Ok().json(json!({
            "sub": resp.token().id_token_claims().and_then(|c| c.get("sub")),
            "has_refresh_token": resp.token().refresh_token().is_some(),
        })),
    }
}

async fn token(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> HttpResponse {
    match oauth.session_token(&req, &provider).await {
        Ok(token) => HttpResponse::Ok().json(json!({
            "access_token": token.access_token().secret(),
            "refresh_token": token.refresh_token().map(|r| r.secret().clone()),
        })),
        Err(e) => e.error_response(),
    }
}

async fn app_token(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> HttpResponse {
    match oauth.get_token(&req, &provider, Some(APP_TOKEN)).await {
        Ok(token) => HttpResponse::Ok().json(json!({
            "access_token": token.access_token().secret(),
        })),
        Err(e) => e.error_response(),
    }
}

async fn call(
    req: HttpRequest,
    oauth: OAuthExtension,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (provider, tail) = path.into_inner();
    match oauth.get(&req, &provider, &tail).send().await {
        Ok(resp) => HttpResponse::Ok().json(json!({
            "status": resp.status(),
            "data": resp.data().to_json(),
        })),
        Err(e) => e.error_response(),
    }
}

async fn sign_out(req: HttpRequest, oauth: OAuthExtension) -> HttpResponse {
    match oauth.sign_out(&req).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(e) => e.error_response(),
    }
}

/// Signs in: follows the redirects through the provider (its interaction completes by itself)
/// back to the app's callback, and answers the callback page.
async fn sign_in(browser: &Browser, app: &Running) -> Page {
    let mut at = Url::parse(&app.url("/auth/op")).expect("a URL");
    let mut page = browser.get(at.as_str()).await;
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
            return browser.get(next.as_str()).await;
        }
        page = browser.get(next.as_str()).await;
        at = next;
    }
    panic!("no way back to the app after 10 redirects");
}

async fn tokens(browser: &Browser, app: &Running) -> (String, String) {
    let page = browser.get(&app.url("/token/op")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let json = page.json();
    let get = |name: &str| {
        json[name]
            .as_str()
            .unwrap_or_else(|| panic!("a {name}: {json}"))
            .to_owned()
    };
    (get("access_token"), get("refresh_token"))
}

/// Signs in (the code exchange authenticated), calls the user-info endpoint with an access
/// token about to expire (a refresh, authenticated), and signs out (revocation, authenticated):
/// the provider's introspection confirms each step.
async fn signs_in_refreshes_and_revokes(s: &Interop) {
    let browser = Browser::new();
    let done = sign_in(&browser, &s.app).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["sub"], "alice");
    assert_eq!(done.json()["has_refresh_token"], true, "{}", done.text());
    let (access, _) = tokens(&browser, &s.app).await;
    let seen = s.op.introspect(&access).await;
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["client_id"], "app", "{seen}");

    // The access token expires within the refresh margin: the call refreshes first.
    let call = browser.get(&s.app.url("/call/op/me")).await;
    assert_eq!(call.status, 200, "{}", call.text());
    assert_eq!(call.json()["status"], 200, "{}", call.text());
    assert_eq!(call.json()["data"]["sub"], "alice", "{}", call.text());
    let (fresh, fresh_refresh) = tokens(&browser, &s.app).await;
    assert_ne!(fresh, access, "the call refreshed the access token");
    assert_eq!(s.op.introspect(&fresh).await["active"], true);

    // Sign-out revokes, authenticated the same way.
    let out = browser.post_form(&s.app.url("/sign-out"), &[]).await;
    assert_eq!(out.status, 204, "{}", out.text());
    for (name, token) in [("access", &fresh), ("refresh", &fresh_refresh)] {
        let seen = s.op.introspect(token).await;
        assert_eq!(
            seen["active"], false,
            "the {name} token after sign-out: {seen}"
        );
    }
}

fn private_key_jwt(public: &str, kid: Option<&str>) -> Value {
    json!({
        "token_endpoint_auth_method": "private_key_jwt",
        "public_keys_pem": [{ "pem": public, "kid": kid }],
    })
}

#[actix_rt::test]
async fn private_key_jwt_with_an_es256_key() {
    let key = ClientKey::from_pem(ES256_KEY).unwrap().key_id("es-1");
    let Some(s) = start(private_key_jwt(ES256_PUBLIC, Some("es-1")), |app| {
        app.client_auth(ClientAuth::PrivateKeyJwt).client_key(key)
    }) else {
        return;
    };
    signs_in_refreshes_and_revokes(&s).await;
}

#[actix_rt::test]
async fn private_key_jwt_with_an_rs256_key_and_no_key_id() {
    let key = ClientKey::from_pem(RSA_KEY).unwrap();
    let Some(s) = start(private_key_jwt(RSA_PUBLIC, None), |app| {
        app.client_auth(ClientAuth::PrivateKeyJwt).client_key(key)
    }) else {
        return;
    };
    signs_in_refreshes_and_revokes(&s).await;
}

#[actix_rt::test]
async fn private_key_jwt_with_a_ps256_key_the_client_is_pinned_to() {
    let key = ClientKey::from_pem(RSA_KEY)
        .unwrap()
        .key_id("rsa-1")
        .algorithm(SigningAlgorithm::Ps256)
        .unwrap();
    let mut auth = private_key_jwt(RSA_PUBLIC, Some("rsa-1"));
    // The provider then takes PS256 assertions only.
    auth["token_endpoint_auth_signing_alg"] = json!("PS256");
    let Some(s) = start(auth, |app| {
        app.client_auth(ClientAuth::PrivateKeyJwt).client_key(key)
    }) else {
        return;
    };
    signs_in_refreshes_and_revokes(&s).await;
}

#[actix_rt::test]
async fn client_secret_jwt_with_hs256() {
    let auth = json!({
        "token_endpoint_auth_method": "client_secret_jwt",
        "token_endpoint_auth_signing_alg": "HS256",
        "client_secret": HS256_SECRET,
    });
    let Some(s) = start(auth, |app| {
        app.client_secret(HS256_SECRET)
            .client_auth(ClientAuth::ClientSecretJwt)
    }) else {
        return;
    };
    signs_in_refreshes_and_revokes(&s).await;
}

#[actix_rt::test]
async fn private_key_jwt_serves_client_credentials() {
    let key = ClientKey::from_pem(ES256_KEY).unwrap().key_id("es-1");
    let Some(s) = start(private_key_jwt(ES256_PUBLIC, Some("es-1")), |app| {
        app.client_auth(ClientAuth::PrivateKeyJwt).client_key(key)
    }) else {
        return;
    };
    let page = Browser::new().get(&s.app.url("/app-token/op")).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let token = page.json()["access_token"]
        .as_str()
        .expect("an app token")
        .to_owned();
    let seen = s.op.introspect(&token).await;
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["client_id"], "app", "{seen}");
    assert!(seen.get("sub").is_none(), "an app token, no user: {seen}");
}

#[actix_rt::test]
async fn a_key_the_provider_does_not_hold_is_its_invalid_client() {
    // The provider holds the P-256 public key; the app signs with its RSA key (same `kid`).
    let key = ClientKey::from_pem(RSA_KEY).unwrap().key_id("k1");
    let Some(s) = start(private_key_jwt(ES256_PUBLIC, Some("k1")), |app| {
        app.client_auth(ClientAuth::PrivateKeyJwt).client_key(key)
    }) else {
        return;
    };
    let browser = Browser::new();
    let done = sign_in(&browser, &s.app).await;
    assert_eq!(done.status, 502, "{}", done.text());
    assert!(done.text().contains("invalid_client"), "{}", done.text());
    assert_eq!(browser.get(&s.app.url("/token/op")).await.status, 401);
    // Client credentials alike.
    let page = browser.get(&s.app.url("/app-token/op")).await;
    assert_eq!(page.status, 502, "{}", page.text());
    assert!(page.text().contains("invalid_client"), "{}", page.text());
}
