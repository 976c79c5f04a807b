//! DPoP (RFC 9449) against the development provider over loopback: a sign-in whose tokens are
//! bound to the sign-in's key (after the token endpoint's nonce challenge, retried once), API
//! calls with proofs (and a resource server's nonce), a refresh that keeps the binding, and the
//! provider refusing the token without a proof, with another key's proof, with a replayed proof
//! and with a proof for another URL.
#![cfg(feature = "dpop")]

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_oauth::{
    token_store::StoreFuture, DpopKey, MemoryTokenStore, OAuth, RemoteApp, RemoteAppBuilder,
    TokenResponse, TokenStore,
};
use actix_oauth_dev::{DevAlgorithm, DevProvider};
use common::{listener, start_app, Browser, Running};
use serde_json::Value;
use url::Url;

/// The memory store, remembering every token saved: the test's view of what the app keeps.
#[derive(Clone, Default)]
struct Recording {
    inner: MemoryTokenStore,
    saved: Arc<Mutex<Vec<TokenResponse>>>,
}

impl Recording {
    fn last(&self) -> TokenResponse {
        let saved = self.saved.lock().unwrap();
        saved.last().cloned().expect("a token was saved")
    }
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
        self.saved.lock().unwrap().push(token.clone());
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

struct Setup {
    provider: DevProvider,
    app: Running,
    store: Recording,
}

fn dev_app(provider: &DevProvider) -> RemoteAppBuilder {
    RemoteApp::builder("dev")
        .authorize_url(provider.authorize_url().as_str())
        .access_token_url(provider.token_url().as_str())
        .userinfo_url(provider.userinfo_url().as_str())
        // Used when a test turns pushed authorization requests on.
        .par_url(provider.par_url().as_str())
        .base_url(provider.api_url().as_str())
        .consumer_key("app")
        .consumer_secret("app-secret")
}

fn setup(token_lifetime: Duration, dpop: bool) -> Setup {
    setup_with(token_lifetime, |app| app.dpop(dpop))
}

fn setup_with(
    token_lifetime: Duration,
    configure: impl FnOnce(RemoteAppBuilder) -> RemoteAppBuilder,
) -> Setup {
    let (l, url) = listener();
    let provider = DevProvider::builder()
        .client("app", "app-secret", [format!("{url}auth/dev/callback")])
        .token_lifetime(token_lifetime)
        .id_token_algorithm(DevAlgorithm::Es256)
        .start()
        .expect("dev provider");
    let store = Recording::default();
    let oauth = OAuth::new()
        .remote_app(configure(dev_app(&provider)))
        .public_url(url.as_str())
        .token_store(store.clone())
        .build()
        .expect("config");
    let app = start_app(oauth, l);
    Setup {
        provider,
        app,
        store,
    }
}

/// Signs `browser` in with the development provider.
async fn sign_in(browser: &Browser, app: &Running) -> Value {
    let start = browser.get(&app.url("/auth/dev")).await;
    let authorize = Url::parse(start.location.as_deref().expect("redirect")).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), "alice".into()));
    let mut post = authorize.clone();
    post.set_query(None);
    let back = browser.post_form(post.as_str(), &form).await;
    let done = browser
        .get(back.location.as_deref().expect("redirect back"))
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    done.json()
}

/// A call straight to the provider's API with `authorization` and an optional `DPoP` proof:
/// the status and the `WWW-Authenticate` header.
async fn raw_call(url: &Url, authorization: &str, proof: Option<&str>) -> (u16, String) {
    let client = awc::Client::default();
    let mut request = client
        .get(url.as_str())
        .insert_header(("Authorization", authorization));
    if let Some(proof) = proof {
        request = request.insert_header(("DPoP", proof));
    }
    let response = request.send().await.expect("the provider answers");
    let challenge = response
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (response.status().as_u16(), challenge)
}

#[actix_rt::test]
async fn tokens_are_bound_to_the_sign_in_key_and_api_calls_prove_it() {
    let Setup {
        provider,
        app,
        store,
    } = setup(Duration::from_secs(3600), true);
    let browser = Browser::new();

    let callback = sign_in(&browser, &app).await;
    assert_eq!(callback["token_type"], "dpop", "{callback}");
    // The token endpoint required a nonce: one challenge, retried once.
    assert_eq!(provider.dpop_nonce_challenges(), 1);
    assert_eq!(provider.token_requests(), 2);
    let token = store.last();
    let key = token
        .dpop_key()
        .expect("the key is kept with the token")
        .clone();
    assert_eq!(token.token_type(), "dpop");
    let shown = format!("{token:?}");
    assert!(shown.contains("[redacted]"), "{shown}");
    // The session cookie holds a handle, never the key or the token.
    assert!(
        browser.largest_cookie() < 600,
        "{}",
        browser.largest_cookie()
    );

    // API calls carry `Authorization: DPoP` and a proof with `ath`.
    let me = browser.get(&app.url("/call/dev/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
    assert_eq!(me["data"]["preferred_username"], "alice");
    let echo = browser
        .post_form(
            &app.url("/call/dev/echo?q=1"),
            &[("status".into(), "hi".into())],
        )
        .await
        .json();
    assert_eq!(echo["status"], 200, "{echo}");
    assert_eq!(echo["data"]["form"]["status"], "hi");
    assert_eq!(provider.dpop_proofs_refused(), 0);

    // The same token is worth nothing without the key.
    let access = token.access_token().secret().as_str();
    let me_url = provider.api_url().join("me").unwrap();
    let (status, challenge) = raw_call(&me_url, &format!("Bearer {access}"), None).await;
    assert_eq!(status, 401, "a bound token is no bearer token");
    assert!(challenge.contains("invalid_token"), "{challenge}");
    let (status, challenge) = raw_call(&me_url, &format!("DPoP {access}"), None).await;
    assert_eq!(status, 401, "no proof");
    assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
    let other = DpopKey::generate().unwrap();
    let proof = other.proof("GET", &me_url, Some(access), None).unwrap();
    let (status, challenge) = raw_call(&me_url, &format!("DPoP {access}"), Some(&proof)).await;
    assert_eq!(status, 401, "another key's proof");
    assert!(challenge.contains("invalid_token"), "{challenge}");

    // The right key's proof works once; replayed, or for another URL, it is refused.
    let proof = key.proof("GET", &me_url, Some(access), None).unwrap();
    let (status, _) = raw_call(&me_url, &format!("DPoP {access}"), Some(&proof)).await;
    assert_eq!(status, 200);
    let (status, challenge) = raw_call(&me_url, &format!("DPoP {access}"), Some(&proof)).await;
    assert_eq!(status, 401, "a replayed proof");
    assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
    let form_url = provider.api_url().join("form").unwrap();
    let proof = key.proof("GET", &form_url, Some(access), None).unwrap();
    let (status, challenge) = raw_call(&me_url, &format!("DPoP {access}"), Some(&proof)).await;
    assert_eq!(status, 401, "a proof for another URL");
    assert!(challenge.contains("invalid_dpop_proof"), "{challenge}");
    let proof = key
        .proof("GET", &me_url, Some("another token"), None)
        .unwrap();
    let (status, _) = raw_call(&me_url, &format!("DPoP {access}"), Some(&proof)).await;
    assert_eq!(status, 401, "a proof for another token (ath)");

    // The crate's own calls are unaffected.
    let me = browser.get(&app.url("/call/dev/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
}

#[actix_rt::test]
async fn a_resource_servers_nonce_is_used_after_one_retry() {
    let Setup { provider, app, .. } = setup(Duration::from_secs(3600), true);
    let browser = Browser::new();
    sign_in(&browser, &app).await;
    provider.set_api_dpop_nonce(true);
    // The app remembers the token endpoint's nonce for that origin, which the API (the same
    // server here) would accept: two rotations make it stale.
    provider.rotate_dpop_nonce();
    provider.rotate_dpop_nonce();
    let before = provider.dpop_nonce_challenges();

    let me = browser.get(&app.url("/call/dev/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
    assert_eq!(provider.dpop_nonce_challenges(), before + 1, "one retry");
    // The nonce is remembered for the next calls to that server.
    let me = browser.get(&app.url("/call/dev/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
    assert_eq!(
        provider.dpop_nonce_challenges(),
        before + 1,
        "no more retries"
    );
    // A nonce the server no longer accepts: one more retry with its new one.
    provider.rotate_dpop_nonce();
    provider.rotate_dpop_nonce();
    let me = browser.get(&app.url("/call/dev/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
    assert_eq!(provider.dpop_nonce_challenges(), before + 2);
    assert_eq!(provider.dpop_proofs_refused(), 0);
}

#[actix_rt::test]
async fn a_refresh_keeps_the_binding_and_needs_the_key() {
    // Tokens expiring within the refresh leeway are refreshed before each call.
    let Setup {
        provider,
        app,
        store,
    } = setup(Duration::from_secs(5), true);
    let browser = Browser::new();
    sign_in(&browser, &app).await;
    let first = store.last();
    let jkt = first.dpop_key().unwrap().thumbprint().to_owned();
    let requests = provider.token_requests();

    let me = browser.get(&app.url("/call/dev/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
    // The token endpoint's nonce is remembered: the refresh needed no retry.
    assert_eq!(provider.token_requests(), requests + 1, "one refresh");
    let refreshed = store.last();
    assert_ne!(
        refreshed.access_token().secret(),
        first.access_token().secret()
    );
    assert_eq!(refreshed.token_type(), "dpop");
    assert_eq!(refreshed.dpop_key().unwrap().thumbprint(), jkt);

    // The bound refresh token is refused without a proof by its key.
    let refresh = refreshed.refresh_token().unwrap().secret().clone();
    let token_url = provider.token_url();
    let client = awc::Client::default();
    let refresh_with = |proof: Option<String>| {
        let mut request = client
            .post(token_url.as_str())
            .basic_auth("app", "app-secret");
        if let Some(proof) = proof {
            request = request.insert_header(("DPoP", proof));
        }
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ];
        async move {
            let mut response = request.send_form(&form).await.expect("an answer");
            let nonce = response
                .headers()
                .get("dpop-nonce")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body: Value = response.json().await.expect("JSON");
            (response.status().as_u16(), body, nonce)
        }
    };
    let (status, body, _) = refresh_with(None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_dpop_proof", "{body}");
    let other = DpopKey::generate().unwrap();
    let (status, body, nonce) =
        refresh_with(Some(other.proof("POST", &token_url, None, None).unwrap())).await;
    assert_eq!(body["error"], "use_dpop_nonce", "{body}");
    assert_eq!(status, 400);
    let proof = other
        .proof("POST", &token_url, None, nonce.as_deref())
        .unwrap();
    let (status, body, _) = refresh_with(Some(proof)).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_dpop_proof", "another key: {body}");
    // The app's own refreshes still work.
    let me = browser.get(&app.url("/call/dev/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
}

#[actix_rt::test]
async fn a_pushed_request_names_the_key_with_dpop_jkt() {
    let Setup {
        provider: _p,
        app,
        store,
    } = setup_with(Duration::from_secs(3600), |app| app.dpop(true).par(true));
    let browser = Browser::new();
    let callback = sign_in(&browser, &app).await;
    assert_eq!(callback["token_type"], "dpop", "{callback}");
    // The key was made when the request was pushed (its thumbprint went as `dpop_jkt`, which
    // the provider checks at the code exchange), parked server-side, and then bound the tokens.
    let saved = store.saved.lock().unwrap().clone();
    assert_eq!(saved.len(), 2, "the parked key, then the tokens");
    let parked = saved[0].dpop_key().expect("the parked key").thumbprint();
    assert!(saved[0].access_token().secret().is_empty());
    assert_eq!(saved[1].dpop_key().unwrap().thumbprint(), parked);
    let me = browser.get(&app.url("/call/dev/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
}

#[actix_rt::test]
async fn without_the_setting_tokens_stay_bearer_tokens() {
    let Setup {
        provider,
        app,
        store,
    } = setup(Duration::from_secs(3600), false);
    let browser = Browser::new();
    let callback = sign_in(&browser, &app).await;
    assert_eq!(callback["token_type"], "bearer", "{callback}");
    assert!(store.last().dpop_key().is_none());
    assert_eq!(provider.dpop_nonce_challenges(), 0);
    let me = browser.get(&app.url("/call/dev/me")).await.json();
    assert_eq!(me["status"], 200, "{me}");
}

#[actix_rt::test]
async fn a_dpop_token_without_its_key_asks_for_a_new_sign_in() {
    let Setup { provider, .. } = setup(Duration::from_secs(3600), true);
    let oauth = OAuth::new()
        .remote_app(dev_app(&provider).dpop(true))
        .public_url("http://127.0.0.1:9/")
        .build()
        .unwrap();
    // A token a custom store kept without its key.
    let token = TokenResponse::new(actix_oauth::AccessToken::new("t".into()))
        .with_token_type("DPoP".into());
    let err = oauth
        .userinfo("dev", &token)
        .await
        .expect_err("no key, no call");
    assert_eq!(
        err.kind(),
        actix_oauth::ErrorKind::ReauthenticationRequired,
        "{err}"
    );
    assert!(err.to_string().contains("DPoP"), "{err}");
}

#[test]
fn the_setting_is_for_oauth2_apps() {
    let err = RemoteApp::builder("tw")
        .request_token_url("https://api.example/oauth/request_token")
        .authorize_url("https://api.example/oauth/authorize")
        .access_token_url("https://api.example/oauth/access_token")
        .consumer_key("k")
        .consumer_secret("s")
        .dpop(true)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("`dpop`"), "{err}");
}

/// The claims of a DPoP proof (its JWT's middle part), unverified: the test reads what was sent.
fn proof_claims(proof: &str) -> Value {
    use base64::Engine as _;
    let part = proof.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Servers that keep answering `use_dpop_nonce` get one retry each, with the nonce they gave,
/// then their answer: no loop. The authorization server's nonce is not offered to a resource
/// server on the same origin (nonces are each server's own, RFC 9449 §8).
#[actix_rt::test]
async fn a_server_that_keeps_asking_for_a_nonce_gets_one_retry() {
    use common::fake::{Answer, FakeProvider, Fault, Healthy};

    let fake = FakeProvider::serve(Healthy);
    let (l, url) = listener();
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("fake")
                .authorize_url("http://127.0.0.1:9/authorize")
                .access_token_url(fake.url("/token"))
                .base_url(fake.url("/api/"))
                .consumer_key("client")
                .consumer_secret("secret")
                .dpop(true),
        )
        .public_url(url.as_str())
        .build()
        .expect("config");
    let app = start_app(oauth, l);
    let browser = Browser::new();
    let begin = || async {
        let start = browser.get(&app.url("/auth/fake")).await;
        assert_eq!(start.status, 302, "{}", start.text());
        let state = start.location_query()["state"].clone();
        app.url(&format!("/auth/fake/callback?code=the-code&state={state}"))
    };
    let nonce_please = |nonce: &str| {
        Answer::value(
            400,
            "application/json",
            &serde_json::json!({ "error": "use_dpop_nonce" }),
        )
        .with_header("DPoP-Nonce", nonce)
    };

    // The token endpoint: the first proof has no nonce, the retry has the one given, and the
    // second refusal ends the sign-in with the provider's error.
    fake.fail_at("/token", Fault::Answer(nonce_please("as-nonce")));
    let callback = begin().await;
    let refused = browser.get(&callback).await;
    assert_eq!(refused.status, 502, "{}", refused.text());
    assert!(
        refused.text().contains("use_dpop_nonce"),
        "{}",
        refused.text()
    );
    let tries = fake.requests_to("/token");
    assert_eq!(tries.len(), 2, "one retry");
    assert!(proof_claims(&tries[0].headers["dpop"])
        .get("nonce")
        .is_none());
    assert_eq!(proof_claims(&tries[1].headers["dpop"])["nonce"], "as-nonce");

    // A DPoP token, then an API that keeps asking: one retry with its own nonce.
    fake.fail_at(
        "/token",
        Fault::Answer(Answer::json(
            r#"{"access_token":"bound","token_type":"DPoP","expires_in":3600}"#,
        )),
    );
    fake.fail_at(
        "/api/thing",
        Fault::Answer(
            Answer::new(401, "", "")
                .with_header("WWW-Authenticate", r#"DPoP error="use_dpop_nonce""#)
                .with_header("DPoP-Nonce", "rs-nonce"),
        ),
    );
    let callback = begin().await;
    let done = browser.get(&callback).await;
    assert_eq!(done.status, 200, "{}", done.text());
    let call = browser.get(&app.url("/call/fake/thing")).await;
    assert_eq!(call.json()["status"], 401, "{}", call.text());
    let tries = fake.requests_to("/api/thing");
    assert_eq!(tries.len(), 2, "one retry");
    let first = proof_claims(&tries[0].headers["dpop"]);
    assert!(
        first.get("nonce").is_none(),
        "the token endpoint's nonce is not the API's: {first}"
    );
    assert!(first.get("ath").is_some());
    assert_eq!(proof_claims(&tries[1].headers["dpop"])["nonce"], "rs-nonce");
}
