//! DPoP (RFC 9449) against panva's `oidc-provider` (OpenID Certified), not our own provider:
//! a sign-in whose token endpoint requires its DPoP nonces, a DPoP-bound token used on its
//! userinfo endpoint and on a protected resource that checks the proof (`GET /api/me` in
//! `server.mjs`, with nonces of its own), and proofs replayed or made for another URL refused
//! by the provider while the crate's own calls go on; a refresh with a proof by the same key
//! (the new access token bound to it, as the provider's introspection says) and sign-out's
//! revocation of the grant; a pushed request naming the key (`dpop_jkt`), the provider binding
//! the code to it. Skipped with a note when Node.js or the provider's packages are missing;
//! `.ci/run` makes that a failure.
#![cfg(all(feature = "oidc", feature = "dpop"))]

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_oauth::{
    token_store::StoreFuture, MemoryTokenStore, OAuth, RemoteApp, RemoteAppBuilder, TokenResponse,
    TokenStore,
};
use common::{
    listener,
    oidc_provider::{inspector_client, OidcProvider},
    start_app, Browser, Page, Running,
};
use serde_json::{json, Value};
use url::Url;

const SECRET: &str = "app-secret-for-oidc-provider-dpop-tests";

/// Access tokens living 25 seconds, less than the 30 seconds ahead of an expiry at which the
/// crate refreshes: to the crate they are expired at once, so the first API call after sign-in
/// refreshes, no waiting.
const EXPIRING_TTL: u64 = 25;

/// How long a test waits for an event of the provider.
const EVENT_WAIT: Duration = Duration::from_secs(10);

/// The memory store, remembering the last token saved.
#[derive(Clone, Default)]
struct Recording {
    inner: MemoryTokenStore,
    last: Arc<Mutex<Option<TokenResponse>>>,
}

impl TokenStore for Recording {
    fn load<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
    ) -> StoreFuture<'a, Option<TokenResponse>> {
        self.inner.load(handle, provider)
    }

    fn save<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        token: &'a TokenResponse,
    ) -> StoreFuture<'a, ()> {
        *self.last.lock().unwrap() = Some(token.clone());
        self.inner.save(handle, provider, token)
    }

    fn remove<'a>(&'a self, handle: &'a str, provider: &'a str) -> StoreFuture<'a, ()> {
        self.inner.remove(handle, provider)
    }

    fn remove_all<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, ()> {
        self.inner.remove_all(handle)
    }

    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> StoreFuture<'a, ()> {
        self.inner.rename(from, to)
    }
}

/// The provider (DPoP nonces required at its endpoints and at `/api/me`) and the app signing in
/// with it as remote app `op` with DPoP on.
fn start() -> Option<(OidcProvider, Running, Recording)> {
    start_with(json!({}), |app| app)
}

/// As [`start`], with `extra` over the provider's config (`server.mjs`) and the remote app
/// configured further by `configure`. The provider also knows the client `inspector`.
fn start_with(
    extra: Value,
    configure: impl FnOnce(RemoteAppBuilder) -> RemoteAppBuilder,
) -> Option<(OidcProvider, Running, Recording)> {
    let (l, url) = listener();
    let mut config = json!({
        "clients": [{
            "client_id": "app",
            "client_secret": SECRET,
            "redirect_uris": [format!("{url}auth/op/callback")],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            // RFC 9449 §5.2: the provider issues this client DPoP-bound tokens only.
            "dpop_bound_access_tokens": true,
        }, inspector_client()],
        "dpop": { "requireNonce": true, "resourceNonce": true },
    });
    if let (Value::Object(config), Value::Object(extra)) = (&mut config, extra) {
        config.extend(extra);
    }
    let op = OidcProvider::start(&config)?;
    let store = Recording::default();
    let oauth = OAuth::new()
        .remote_app(configure(
            RemoteApp::builder("op")
                .issuer(op.issuer())
                .client_id("app")
                .client_secret(SECRET)
                .scope(["openid", "email", "profile"])
                .dpop(true),
        ))
        .public_url(url.as_str())
        .token_store(store.clone())
        .build()
        .expect("config");
    Some((op, start_app(oauth, l), store))
}

/// Follows the provider's redirects until it sends the browser back to the app, then opens that
/// callback.
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

/// A `GET` straight to the provider: status, `WWW-Authenticate`, `DPoP-Nonce`.
async fn raw_get(url: &Url, authorization: &str, proof: Option<&str>) -> (u16, String, String) {
    let mut request = awc::Client::default()
        .get(url.as_str())
        .insert_header(("Authorization", authorization));
    if let Some(proof) = proof {
        request = request.insert_header(("DPoP", proof));
    }
    let response = request.send().await.expect("the provider answers");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    (
        response.status().as_u16(),
        header("www-authenticate"),
        header("dpop-nonce"),
    )
}

/// The last token the app saved, and its DPoP key's thumbprint.
fn last_token(store: &Recording) -> (TokenResponse, String) {
    let token = store.last.lock().unwrap().clone().expect("a token");
    let jkt = token
        .dpop_key()
        .expect("a DPoP key")
        .thumbprint()
        .to_owned();
    (token, jkt)
}

async fn stats(op: &OidcProvider) -> Value {
    let url = op.issuer.join("api/stats").unwrap();
    awc::Client::default()
        .get(url.as_str())
        .send()
        .await
        .expect("stats")
        .json()
        .await
        .expect("JSON")
}

#[actix_rt::test]
async fn a_dpop_bound_token_from_a_certified_provider_works_on_apis_that_check_the_proof() {
    let Some((op, app, store)) = start() else {
        return;
    };
    let browser = Browser::new();

    // The token endpoint wants its nonce: the crate retries once with it.
    let callback = sign_in(&browser, &app).await;
    assert_eq!(callback.status, 200, "{}", callback.text());
    assert_eq!(callback.json()["token_type"], "dpop", "{}", callback.text());
    let token = store.last.lock().unwrap().clone().expect("a token");
    let key = token.dpop_key().expect("the sign-in's key").clone();

    // The provider's userinfo checks the proof (and its nonce, ath, binding).
    let info: Value = browser.get(&app.url("/userinfo/op")).await.json();
    assert_eq!(info["sub"], "alice", "{info}");

    // A resource that checks the proof, with a nonce of its own: one retry, then 200.
    let me = browser.get(&app.url("/call/op/api/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
    assert_eq!(me["data"]["sub"], "alice", "{me}");
    assert_eq!(me["data"]["jkt"], key.thumbprint(), "{me}");
    let counted = stats(&op).await;
    assert_eq!(counted["nonceChallenges"], 1, "{counted}");
    assert_eq!(counted["refused"], 0, "{counted}");
    let me = browser.get(&app.url("/call/op/api/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
    assert_eq!(
        stats(&op).await["nonceChallenges"],
        1,
        "the nonce is remembered"
    );

    // Negative: proofs made with the right key, but replayed or for another URL.
    let access = token.access_token().secret().as_str();
    let userinfo = op.issuer.join("me").unwrap();
    let authorization = format!("DPoP {access}");
    let (status, challenge, nonce) = raw_get(&userinfo, &authorization, None).await;
    assert!(
        matches!(status, 400 | 401),
        "no proof: {status} {challenge}"
    );
    // The provider's nonce, from a proof-less call.
    let probe = key.proof("GET", &userinfo, Some(access), None).unwrap();
    let (status, challenge, fresh) = raw_get(&userinfo, &authorization, Some(&probe)).await;
    assert_eq!(status, 401, "{challenge}");
    assert!(challenge.contains("use_dpop_nonce"), "{challenge}");
    let nonce = if fresh.is_empty() { nonce } else { fresh };
    assert!(!nonce.is_empty(), "a DPoP-Nonce");
    let proof = key
        .proof("GET", &userinfo, Some(access), Some(&nonce))
        .unwrap();
    let (status, challenge, _) = raw_get(&userinfo, &authorization, Some(&proof)).await;
    assert_eq!(status, 200, "{challenge}");
    let (status, challenge, _) = raw_get(&userinfo, &authorization, Some(&proof)).await;
    assert_eq!(status, 401, "a replayed proof is refused: {challenge}");
    let token_url = op.issuer.join("token").unwrap();
    let wrong = key
        .proof("GET", &token_url, Some(access), Some(&nonce))
        .unwrap();
    let (status, challenge, _) = raw_get(&userinfo, &authorization, Some(&wrong)).await;
    assert_eq!(
        status, 401,
        "a proof for another URL is refused: {challenge}"
    );
    assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
    let (status, _, _) = raw_get(&userinfo, &format!("Bearer {access}"), None).await;
    assert_eq!(status, 401, "a bound token is no bearer token");

    // The same at the resource of `server.mjs`.
    let api = op.issuer.join("api/me").unwrap();
    let probe = key.proof("GET", &api, Some(access), None).unwrap();
    let (status, challenge, resource_nonce) = raw_get(&api, &authorization, Some(&probe)).await;
    assert_eq!(status, 401, "{challenge}");
    assert!(challenge.contains("use_dpop_nonce"), "{challenge}");
    let proof = key
        .proof("GET", &api, Some(access), Some(&resource_nonce))
        .unwrap();
    assert_eq!(raw_get(&api, &authorization, Some(&proof)).await.0, 200);
    let (status, challenge, _) = raw_get(&api, &authorization, Some(&proof)).await;
    assert_eq!(status, 401, "replayed: {challenge}");
    let wrong = key
        .proof("GET", &userinfo, Some(access), Some(&resource_nonce))
        .unwrap();
    let (status, challenge, _) = raw_get(&api, &authorization, Some(&wrong)).await;
    assert_eq!(status, 401, "another URL: {challenge}");
    assert!(challenge.contains("htu"), "{challenge}");

    // The crate recovers: its next calls carry fresh proofs, and a rotated nonce costs one retry.
    awc::Client::default()
        .post(op.issuer.join("api/rotate-nonce").unwrap().as_str())
        .send()
        .await
        .expect("rotate");
    let before = stats(&op).await["nonceChallenges"].as_u64().unwrap();
    let me = browser.get(&app.url("/call/op/api/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
    assert_eq!(stats(&op).await["nonceChallenges"], before + 1);
    let info: Value = browser.get(&app.url("/userinfo/op")).await.json();
    assert_eq!(info["sub"], "alice", "{info}");
}

#[actix_rt::test]
async fn a_dpop_bound_sign_in_refreshes_and_signs_out_at_a_certified_provider() {
    let Some((op, app, store)) =
        start_with(json!({ "ttl": { "AccessToken": EXPIRING_TTL } }), |a| {
            // `offline_access` with `prompt=consent`: oidc-provider issues a refresh token.
            a.scope(["openid", "email", "profile", "offline_access"])
                .authorize_param("prompt", "consent")
        })
    else {
        return;
    };
    let browser = Browser::new();
    let callback = sign_in(&browser, &app).await;
    assert_eq!(callback.status, 200, "{}", callback.text());
    assert_eq!(callback.json()["token_type"], "dpop", "{}", callback.text());
    assert_eq!(
        callback.json()["has_refresh_token"],
        true,
        "{}",
        callback.text()
    );
    let (signed_in, jkt) = last_token(&store);
    let access = signed_in.access_token().secret().clone();
    let code = op
        .next_event_named(&["grant"], EVENT_WAIT)
        .expect("the code exchange");
    assert_eq!(code["grant_type"], "authorization_code", "{code}");
    assert_eq!(code["jkt"], jkt.as_str(), "{code}");

    // To the crate the access token has expired: the call refreshes first, with a proof by the
    // same key (the token endpoint's nonce costs a retry), then proves the new token's key.
    let me = browser.get(&app.url("/call/op/api/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
    assert_eq!(me["data"]["sub"], "alice", "{me}");
    assert_eq!(me["data"]["jkt"], jkt.as_str(), "{me}");
    let refresh = op
        .next_event_named(&["grant"], EVENT_WAIT)
        .expect("the provider saw a refresh");
    assert_eq!(refresh["grant_type"], "refresh_token", "{refresh}");
    assert_eq!(refresh["client"], "app", "{refresh}");
    assert_eq!(
        refresh["jkt"],
        jkt.as_str(),
        "the new access token is bound to the key: {refresh}"
    );
    let (fresh, fresh_jkt) = last_token(&store);
    assert_eq!(fresh_jkt, jkt, "the sign-in's key is kept");
    let fresh_access = fresh.access_token().secret().clone();
    assert_ne!(fresh_access, access, "the call refreshed the access token");
    let fresh_refresh = fresh
        .refresh_token()
        .expect("a refresh token after the refresh")
        .secret()
        .clone();
    let seen = op.introspect(&fresh_access).await;
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["token_type"], "DPoP", "{seen}");
    assert_eq!(seen["cnf"]["jkt"], jkt.as_str(), "{seen}");
    let api = op.issuer.join("api/me").unwrap();
    let (status, challenge, _) = raw_get(&api, &format!("Bearer {fresh_access}"), None).await;
    assert_eq!(status, 401, "a bound token is no bearer token: {challenge}");
    assert!(challenge.contains("no bearer token"), "{challenge}");
    assert_eq!(stats(&op).await["refused"], 1);

    // Sign-out revokes (no proof needed); the provider revokes the whole grant.
    let out = browser.post_form(&app.url("/sign-out"), &[]).await;
    assert_eq!(out.status, 204, "{}", out.text());
    let revoked = op
        .next_event_named(&["revoked"], EVENT_WAIT)
        .expect("the provider revoked the grant");
    assert_eq!(revoked["client"], "app", "{revoked}");
    for (name, token) in [("access", &fresh_access), ("refresh", &fresh_refresh)] {
        let seen = op.introspect(token).await;
        assert_eq!(
            seen["active"], false,
            "the {name} token after sign-out: {seen}"
        );
    }
    let key = fresh.dpop_key().unwrap();
    let proof = key.proof("GET", &api, Some(&fresh_access), None).unwrap();
    let (status, challenge, _) = raw_get(&api, &format!("DPoP {fresh_access}"), Some(&proof)).await;
    assert_eq!(status, 401, "{challenge}");
    assert!(challenge.contains("unknown token"), "{challenge}");
    assert_eq!(browser.get(&app.url("/token/op")).await.status, 401);
}

#[actix_rt::test]
async fn a_pushed_request_binds_the_code_to_the_dpop_key() {
    let Some((op, app, store)) = start_with(json!({}), |a| a.par(true)) else {
        return;
    };
    let browser = Browser::new();
    let callback = sign_in(&browser, &app).await;
    assert_eq!(callback.status, 200, "{}", callback.text());
    assert_eq!(callback.json()["token_type"], "dpop", "{}", callback.text());
    let (_, jkt) = last_token(&store);

    // The pushed request named the key, the provider bound the code to it, and the code
    // exchange's proof was made by it (oidc-provider refuses a code bound to another key).
    let pushed = op
        .next_event_named(&["par"], EVENT_WAIT)
        .expect("a pushed request");
    assert_eq!(pushed["client"], "app", "{pushed}");
    assert_eq!(pushed["dpop_jkt"], jkt.as_str(), "{pushed}");
    let code = op
        .next_event_named(&["code"], EVENT_WAIT)
        .expect("an authorization code");
    assert_eq!(code["dpop_jkt"], jkt.as_str(), "the code is bound: {code}");
    let exchange = op
        .next_event_named(&["grant"], EVENT_WAIT)
        .expect("the code exchange");
    assert_eq!(exchange["grant_type"], "authorization_code", "{exchange}");
    assert_eq!(exchange["jkt"], jkt.as_str(), "{exchange}");

    let me = browser.get(&app.url("/call/op/api/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
    assert_eq!(me["data"]["jkt"], jkt.as_str(), "{me}");
    let info: Value = browser.get(&app.url("/userinfo/op")).await.json();
    assert_eq!(info["sub"], "alice", "{info}");
}
