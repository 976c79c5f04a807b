//! Connections a provider closes: 100 complete sign-ins in a row (token exchange, user info, an
//! API `GET` and an API `POST`) against a provider in Python's `http.server` that answers in
//! HTTP/1.0 and closes after each answer, one that says `Connection: close` on HTTP/1.1, and one
//! that closes idle keep-alive connections after a second; then a provider whose pooled
//! connections go stale, where a `GET` is sent once more on a new connection and a `POST` never
//! is.

mod common;

use std::{sync::Mutex, time::Duration};

use actix_oauth::{
    providers::Any, AuthorizedResponse, OAuth, OAuthError, OAuthExtension, OAuthMiddleware,
    RemoteApp,
};
use actix_session::{storage::CookieSessionStore, SessionMiddleware};
use actix_web::{cookie::Key, web, App, HttpRequest, HttpResponse};
use common::{listener, python::PyProvider, serve, Browser, Running};
use serde_json::{json, Value};

/// Sign-ins each test drives in a row.
const SIGN_INS: usize = 100;

/// The crate's debug lines saying a request got no answer and is sent once more: each one is a
/// connection the crate used although the provider had closed it.
static RETRIES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct RetryLog;

impl log::Log for RetryLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target().starts_with("actix_oauth")
    }

    fn log(&self, record: &log::Record<'_>) {
        let line = record.args().to_string();
        if self.enabled(record.metadata()) && line.contains("once more") {
            RETRIES.lock().unwrap().push(line);
        }
    }

    fn flush(&self) {}
}

/// How many requests to `provider` were sent a second time.
/// Starts recording the crate's resend lines (before the traffic a test counts).
fn record_retries() {
    static LOGGER: RetryLog = RetryLog;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
}

fn retries_to(provider: &PyProvider) -> usize {
    record_retries();
    let authority = format!("127.0.0.1:{} ", provider.port);
    RETRIES
        .lock()
        .unwrap()
        .iter()
        .filter(|line| line.contains(&authority))
        .count()
}

/// The app under test: sessions, the middleware, `/auth/py` to begin; the callback does what
/// apps do on sign-in, back to back: the token exchange, the profile (user info), an API `GET`
/// and an API `POST`. `/api/{path}` calls the API (`GET` or `POST`) on its own.
fn app_for(provider: &PyProvider) -> Running {
    let (l, url) = listener();
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("py")
                .authorize_url(provider.url("/authorize"))
                .access_token_url(provider.url("/token"))
                .userinfo_url(provider.url("/userinfo"))
                .base_url(provider.url("/api/"))
                .consumer_key("client")
                .consumer_secret("secret"),
        )
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
                    .build(),
            )
            .route("/auth/py", web::get().to(login))
            .route("/auth/py/callback", web::get().to(callback))
            .route("/api/{tail:.*}", web::get().to(api))
            .route("/api/{tail:.*}", web::post().to(api))
    })
}

async fn login(req: HttpRequest, oauth: OAuthExtension) -> Result<HttpResponse, OAuthError> {
    oauth.authorize(&req, "py", None).await
}

async fn callback(
    req: HttpRequest,
    oauth: OAuthExtension,
    done: AuthorizedResponse<Any>,
) -> Result<HttpResponse, OAuthError> {
    let profile = oauth.profile("py", done.token()).await?;
    let me = oauth.get(&req, "py", "me").send().await?;
    let posted = oauth
        .post(&req, "py", "items")
        .form(&[("a", "b")])
        .send()
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "subject": profile.subject,
        "me": [me.status(), me.data().to_json()],
        "posted": [posted.status(), posted.data().to_json()],
    })))
}

async fn api(req: HttpRequest, oauth: OAuthExtension, tail: web::Path<String>) -> HttpResponse {
    let call = if req.method() == actix_web::http::Method::POST {
        oauth.post(&req, "py", &tail).form(&[("a", "b")])
    } else {
        oauth.get(&req, "py", &tail)
    };
    match call.send().await {
        Ok(resp) => HttpResponse::Ok().json(json!({
            "status": resp.status(),
            "data": resp.data().to_json(),
        })),
        Err(err) => HttpResponse::build(actix_web::ResponseError::status_code(&err))
            .json(json!({ "error": err.kind().as_str(), "message": err.to_string() })),
    }
}

/// One complete sign-in and an API call after it; `Err` says which step failed and how.
async fn sign_in(app: &Running, n: usize) -> Result<(), String> {
    let browser = Browser::new();
    let start = browser.get(&app.url("/auth/py")).await;
    if start.status != 302 {
        return Err(format!("authorize: {} {}", start.status, start.text()));
    }
    let query = start.location_query();
    // The provider's authorization page is played by the test: it sends the browser back.
    let callback = format!(
        "{}?code=code-{n}&state={}",
        query["redirect_uri"], query["state"]
    );
    let done = browser.get(&callback).await;
    if done.status != 200 {
        return Err(format!("callback: {} {}", done.status, done.text()));
    }
    let body = done.json();
    if body["subject"] != "py-user"
        || body["me"][0] != 200
        || body["me"][1]["ok"] != true
        || body["posted"][0] != 200
        || body["posted"][1]["posted"] != true
    {
        return Err(format!("callback: {body}"));
    }
    let again = browser.get(&app.url("/api/me")).await;
    if again.status != 200 || again.json()["data"]["ok"] != true {
        return Err(format!("API GET: {} {}", again.status, again.text()));
    }
    Ok(())
}

/// Drives [`SIGN_INS`] sign-ins against a provider started with `args`, waiting `pause` before
/// every tenth; all must succeed, and every code must reach the token endpoint exactly once.
/// With `reuse_closed` false, no request may have met a connection the provider had said it
/// would close.
async fn hundred_sign_ins(args: &[&str], pause: Option<Duration>, reuse_closed: bool) {
    let provider = PyProvider::start(args);
    assert_eq!(retries_to(&provider), 0);
    let app = app_for(&provider);
    let mut failures = Vec::new();
    for n in 0..SIGN_INS {
        if let Some(pause) = pause.filter(|_| n % 10 == 9) {
            // Around the provider's idle limit: the pooled connection is closing, or closed.
            actix_rt::time::sleep(pause + Duration::from_millis(5 * (n as u64 / 10))).await;
        }
        if let Err(why) = sign_in(&app, n).await {
            failures.push(format!("sign-in {n}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{args:?}: {} of {SIGN_INS} sign-ins failed; the first: {:#?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let stats = provider.stats();
    assert_eq!(stats["token_requests"], SIGN_INS, "{stats}");
    assert_eq!(stats["redeemed_twice"], 0, "{stats}");
    assert_eq!(stats["api_post"], SIGN_INS, "{stats}");
    if !reuse_closed {
        assert_eq!(
            retries_to(&provider),
            0,
            "{args:?}: requests went out on connections the provider had closed"
        );
    }
}

#[actix_rt::test]
async fn hundred_sign_ins_against_an_http_1_0_provider() {
    hundred_sign_ins(&["--mode", "http10"], None, false).await;
}

#[actix_rt::test]
async fn hundred_sign_ins_against_a_provider_that_closes_every_connection() {
    hundred_sign_ins(&["--mode", "close"], None, false).await;
}

#[actix_rt::test]
async fn hundred_sign_ins_against_a_provider_closing_idle_connections_after_a_second() {
    hundred_sign_ins(
        &["--mode", "idle", "--idle", "1"],
        Some(Duration::from_millis(980)),
        // The provider may close a connection as a request goes out on it: that one is retried.
        true,
    )
    .await;
}

/// Calls the app's `/api/{path}` route; the route's JSON.
async fn call(browser: &Browser, app: &Running, method: &str, path: &str) -> (u16, Value) {
    let url = app.url(&format!("/api/{path}"));
    let page = match method {
        "POST" => browser.post_form(&url, &[("a".into(), "b".into())]).await,
        _ => browser.get(&url).await,
    };
    (page.status, page.json())
}

#[actix_rt::test]
async fn a_stale_pooled_connection_is_retried_for_get_and_never_for_post() {
    // The provider drops the second request of every connection without an answer: what a
    // client meets when the provider closed a pooled connection as the request went out.
    record_retries();
    let provider = PyProvider::start(&["--mode", "stale"]);
    let app = app_for(&provider);
    let browser = Browser::new();
    let start = browser.get(&app.url("/auth/py")).await;
    let query = start.location_query();
    // The callback: token, user info, then an API GET on the connection the user info left
    // pooled (dropped, so sent again on a new one), then an API POST.
    let done = browser
        .get(&format!(
            "{}?code=stale&state={}",
            query["redirect_uri"], query["state"]
        ))
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["me"][1]["ok"], true, "{}", done.text());

    // Each GET meets a pooled connection the provider is dropping, or a new one.
    for n in 0..5 {
        let (status, body) = call(&browser, &app, "GET", "me").await;
        assert_eq!(status, 200, "GET {n}: {body}");
        assert_eq!(body["data"]["ok"], true, "GET {n}: {body}");
    }
    let stats = provider.stats();
    assert!(
        stats["dropped"].as_u64() >= Some(1),
        "no GET met a stale connection, so nothing was tested: {stats}"
    );
    assert_eq!(stats["api_get"], 6, "{stats}");
    assert_eq!(
        retries_to(&provider) as u64,
        stats["dropped"].as_u64().unwrap_or(0),
        "each dropped GET was sent once more"
    );
    assert_eq!(stats["api_post"], 1, "{stats}");
    // The token endpoint never gets a pooled connection, so the provider never dropped it.
    assert_eq!(stats["token_requests"], 1, "{stats}");

    // A POST the provider reads and then hangs up on is not sent again: it may have been
    // processed. The error is the app's to see.
    let before = stats["dropped"].as_u64().unwrap_or(0);
    let (status, body) = call(&browser, &app, "POST", "drop").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "transport", "{body}");
    let after = provider.stats()["dropped"].as_u64().unwrap_or(0);
    assert_eq!(after - before, 1, "the POST was sent more than once");

    // A GET the provider always hangs up on is sent twice, not more.
    let (status, body) = call(&browser, &app, "GET", "drop").await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"], "transport", "{body}");
    let last = provider.stats()["dropped"].as_u64().unwrap_or(0);
    assert_eq!(last - after, 2, "a failed GET is sent once more, not more");
}
