//! DPoP (RFC 9449) against panva's `oidc-provider` (OpenID Certified), not our own provider:
//! a sign-in whose token endpoint requires its DPoP nonces, a DPoP-bound token used on its
//! userinfo endpoint and on a protected resource that checks the proof (`GET /api/me` in
//! `server.mjs`, with nonces of its own), and proofs replayed or made for another URL refused
//! by the provider while the crate's own calls go on. Skipped with a note when Node.js or the
//! provider's packages are missing; `.ci/run` makes that a failure.
#![cfg(all(feature = "oidc", feature = "dpop"))]

mod common;

use std::sync::{Arc, Mutex};

use actix_oauth::{
    token_store::StoreFuture, MemoryTokenStore, OAuth, RemoteApp, TokenResponse, TokenStore,
};
use common::{listener, oidc_provider::OidcProvider, start_app, Browser, Page, Running};
use serde_json::{json, Value};
use url::Url;

const SECRET: &str = "app-secret-for-oidc-provider-dpop-tests";

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
    let (l, url) = listener();
    let op = OidcProvider::start(&json!({
        "clients": [{
            "client_id": "app",
            "client_secret": SECRET,
            "redirect_uris": [format!("{url}auth/op/callback")],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            // RFC 9449 §5.2: the provider issues this client DPoP-bound tokens only.
            "dpop_bound_access_tokens": true,
        }],
        "dpop": { "requireNonce": true, "resourceNonce": true },
    }))?;
    let store = Recording::default();
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("op")
                .issuer(op.issuer())
                .client_id("app")
                .client_secret(SECRET)
                .scope(["openid", "email", "profile"])
                .dpop(true),
        )
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
