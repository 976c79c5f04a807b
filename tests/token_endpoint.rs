//! The token exchange against fake token endpoints that answer as real providers do, and fail as
//! real providers fail. Each test drives the app over real HTTP on loopback.

mod common;

use std::{io::Write as _, time::Duration};

use actix_oauth::{ClientAuth, OAuth, RemoteApp, RemoteAppBuilder, TokenMethod};
use common::{listener, start_app, Answer, Browser, FakeProvider, Page, Running};

struct Run {
    browser: Browser,
    app: Running,
    callback: Page,
}

fn fake_app(token_url: &str) -> RemoteAppBuilder {
    RemoteApp::builder("fake")
        .authorize_url("http://127.0.0.1:9/authorize")
        .access_token_url(token_url)
        .consumer_key("client id")
        .consumer_secret("s3cr:t+/")
}

/// Starts the app, begins a sign-in, and calls back with a code as the provider would.
async fn sign_in(app: RemoteAppBuilder, timeout: Duration) -> Run {
    let (l, url) = listener();
    let oauth = OAuth::new()
        .remote_app(app)
        .public_url(url.as_str())
        .timeout(timeout)
        .build()
        .expect("config");
    let app = start_app(oauth, l);
    let browser = Browser::new();
    let start = browser.get(&app.url("/auth/fake?next=/after")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let state = start.location_query()["state"].clone();
    let callback = browser
        .get(&app.url(&format!("/auth/fake/callback?code=the-code&state={state}")))
        .await;
    Run {
        browser,
        app,
        callback,
    }
}

async fn sign_in_against(answer: Answer) -> (Run, FakeProvider) {
    let fake = FakeProvider::answering(answer);
    let run = sign_in(fake_app(&fake.url("token")), Duration::from_secs(5)).await;
    (run, fake)
}

fn assert_failed(page: &Page, status: u16, kind: &str) {
    assert_eq!(page.status, status, "{}", page.text());
    assert!(
        page.content_type.starts_with("text/html"),
        "{}",
        page.content_type
    );
    assert!(
        page.text().contains(&format!("<code>{kind}</code>")),
        "{}",
        page.text()
    );
}

async fn assert_not_signed_in(run: &Run) {
    let token = run.browser.get(&run.app.url("/token/fake")).await;
    assert_eq!(token.status, 401, "{}", token.text());
}

#[actix_rt::test]
async fn json_answer_basic_auth_pkce_and_user_agent() {
    let (run, fake) = sign_in_against(Answer::json(
        r#"{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1","scope":"read"}"#,
    ))
    .await;
    let body = run.callback.json();
    assert_eq!(run.callback.status, 200, "{body}");
    assert_eq!(body["next"], "/after");
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["has_refresh_token"], true);
    assert!(body["expires_in"].as_u64().unwrap() > 3500);

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let req = &requests[0];
    assert_eq!(req.method, "POST");
    assert!(req.headers["user-agent"].starts_with("actix-oauth/"));
    assert_eq!(req.headers["accept"], "application/json");
    // RFC 6749 §2.3.1: form-urlencoded id and secret, then Basic.
    assert_eq!(
        req.headers["authorization"],
        format!("Basic {}", base64_encode("client+id:s3cr%3At%2B%2F"))
    );
    let form = req.form();
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], "the-code");
    assert_eq!(form["redirect_uri"], run.app.url("/auth/fake/callback"));
    assert_eq!(form["code_verifier"].len(), 43);
    assert!(!form.contains_key("client_secret"));

    let token = run.browser.get(&run.app.url("/token/fake")).await;
    assert_eq!(token.status, 200, "{}", token.text());
}

fn base64_encode(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[actix_rt::test]
async fn urlencoded_answer_like_github_without_accept() {
    let (run, _fake) = sign_in_against(Answer::new(
        200,
        "application/x-www-form-urlencoded; charset=utf-8",
        "access_token=gho_abc&scope=read%3Auser&token_type=bearer",
    ))
    .await;
    let body = run.callback.json();
    assert_eq!(body["scope"], "read:user", "{body}");
}

#[actix_rt::test]
async fn error_in_a_200_answer_like_github() {
    let (run, _fake) = sign_in_against(Answer::json(
        r#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired.","error_uri":"https://docs.github.com/"}"#,
    ))
    .await;
    assert_failed(&run.callback, 502, "provider");
    assert!(run.callback.text().contains("bad_verification_code"));
    assert_not_signed_in(&run).await;
}

#[actix_rt::test]
async fn expires_in_as_a_string_like_azure() {
    let (run, _fake) = sign_in_against(Answer::json(
        r#"{"access_token":"a","token_type":"Bearer","expires_in":"3599","ext_expires_in":"3599"}"#,
    ))
    .await;
    let body = run.callback.json();
    assert!(body["expires_in"].as_u64().unwrap() > 3500, "{body}");
    assert_eq!(body["extra"]["ext_expires_in"], "3599");
}

#[actix_rt::test]
async fn no_token_type_like_linkedin_and_slack() {
    let (run, _fake) = sign_in_against(Answer::json(
        r#"{"ok":true,"access_token":"xoxp-1","scope":"identify","team":{"id":"T1"}}"#,
    ))
    .await;
    let body = run.callback.json();
    assert_eq!(body["token_type"], "bearer", "{body}");
    assert_eq!(body["extra"]["team"]["id"], "T1");
}

#[actix_rt::test]
async fn status_201() {
    let (run, _fake) = sign_in_against(Answer::new(
        201,
        "application/json",
        r#"{"access_token":"a"}"#,
    ))
    .await;
    assert_eq!(run.callback.status, 200, "{}", run.callback.text());
}

#[actix_rt::test]
async fn get_token_method_keeps_the_secret_out_of_the_url() {
    let fake = FakeProvider::answering(Answer::json(
        r#"{"access_token":"fb","token_type":"bearer","expires_in":5183944}"#,
    ));
    let app = fake_app(&fake.url("token"))
        .access_token_method(TokenMethod::Get)
        .access_token_param("extra", "1");
    let run = sign_in(app, Duration::from_secs(5)).await;
    assert_eq!(run.callback.status, 200, "{}", run.callback.text());
    let req = &fake.requests()[0];
    assert_eq!(req.method, "GET");
    assert!(req.headers["authorization"].starts_with("Basic "));
    let query: std::collections::BTreeMap<String, String> =
        serde_urlencoded::from_str(&req.query).unwrap();
    assert!(!query.contains_key("client_secret"), "{query:?}");
    assert_eq!(query["extra"], "1");
    assert_eq!(query["code"], "the-code");

    // The client secret in a URL is refused when the app is built.
    let err = OAuth::new()
        .remote_app(
            fake_app(&fake.url("token"))
                .access_token_method(TokenMethod::Get)
                .client_auth(ClientAuth::RequestBody),
        )
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("`access_token_method`"), "{err}");
}

#[actix_rt::test]
async fn client_secret_in_the_body_like_facebook() {
    let fake = FakeProvider::answering(Answer::json(
        r#"{"access_token":"fb","token_type":"bearer"}"#,
    ));
    let app = fake_app(&fake.url("token")).client_auth(ClientAuth::RequestBody);
    let run = sign_in(app, Duration::from_secs(5)).await;
    assert_eq!(run.callback.status, 200, "{}", run.callback.text());
    let req = &fake.requests()[0];
    assert!(!req.headers.contains_key("authorization"));
    let form = req.form();
    assert_eq!(form["client_id"], "client id");
    assert_eq!(form["client_secret"], "s3cr:t+/");
    assert!(req.query.is_empty());
}

#[actix_rt::test]
async fn provider_error_status_keeps_error_and_description() {
    let (run, _fake) = sign_in_against(Answer::new(
        401,
        "application/json",
        r#"{"error":"invalid_client","error_description":"Client authentication failed."}"#,
    ))
    .await;
    assert_failed(&run.callback, 502, "provider");
    assert!(run.callback.text().contains("invalid_client"));
    assert!(run
        .callback
        .text()
        .contains("Client authentication failed."));
}

#[actix_rt::test]
async fn provider_answering_500_html() {
    let (run, _fake) = sign_in_against(Answer::new(
        500,
        "text/html",
        "<html><body>Internal error</body></html>",
    ))
    .await;
    assert_failed(&run.callback, 502, "unexpected_status");
    assert_not_signed_in(&run).await;
}

#[actix_rt::test]
async fn provider_answering_garbage() {
    let (run, _fake) = sign_in_against(Answer::new(
        200,
        "text/html",
        "<html>totally not a token</html>",
    ))
    .await;
    assert_failed(&run.callback, 502, "malformed");
    let (run, _fake) =
        sign_in_against(Answer::new(200, "application/json", "{\"access_token\": ")).await;
    assert_failed(&run.callback, 502, "malformed");
}

#[actix_rt::test]
async fn provider_speaking_no_http() {
    let raw = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = raw.local_addr().unwrap().port();
    let garbage = std::thread::spawn(move || {
        if let Ok((mut stream, _)) = raw.accept() {
            let _ = stream.write_all(b"\x00\x01garbage garbage\r\n\r\n");
        }
    });
    let run = sign_in(
        fake_app(&format!("http://127.0.0.1:{port}/token")),
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(run.callback.status / 100, 5, "{}", run.callback.text());
    assert!(
        run.callback.text().contains("<code>malformed</code>")
            || run.callback.text().contains("<code>transport</code>"),
        "{}",
        run.callback.text()
    );
    garbage.join().unwrap();
}

#[actix_rt::test]
async fn provider_down() {
    // A port that was free a moment ago: nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let run = sign_in(
        fake_app(&format!("http://127.0.0.1:{port}/token")),
        Duration::from_secs(5),
    )
    .await;
    assert_failed(&run.callback, 502, "transport");
    assert_not_signed_in(&run).await;
}

#[actix_rt::test]
async fn provider_too_slow_times_out_promptly() {
    let mut answer = Answer::json(r#"{"access_token":"late"}"#);
    answer.delay = Duration::from_secs(30);
    let fake = FakeProvider::answering(answer);
    let started = std::time::Instant::now();
    let run = sign_in(fake_app(&fake.url("token")), Duration::from_millis(300)).await;
    assert_failed(&run.callback, 504, "timeout");
    // Not a performance assertion: proof that the configured deadline, not the provider, ended it.
    assert!(started.elapsed() < Duration::from_secs(20));
    assert_not_signed_in(&run).await;
}

#[actix_rt::test]
async fn answer_over_the_size_cap() {
    let big = format!(
        "{{\"access_token\":\"a\",\"pad\":\"{}\"}}",
        "x".repeat(2 * 1024 * 1024)
    );
    let (run, _fake) = sign_in_against(Answer::json(&big)).await;
    assert_failed(&run.callback, 502, "response_too_large");
}

#[actix_rt::test]
async fn redirects_on_the_token_endpoint_are_not_followed() {
    let target = FakeProvider::answering(Answer::json(r#"{"access_token":"stolen"}"#));
    let mut answer = Answer::new(302, "text/plain", "");
    answer.headers.push(("location", target.url("token")));
    let (run, _fake) = sign_in_against(answer).await;
    assert_failed(&run.callback, 502, "unexpected_status");
    assert!(target.requests().is_empty(), "the redirect was followed");
}
