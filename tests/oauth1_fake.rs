//! OAuth 1.0a sign-in against fake endpoints: what we send (signed as RFC 5849 says, checked
//! with the crate's public signing functions on the recorded request) and how provider faults end.

mod common;

use std::{collections::BTreeMap, time::Duration};

use actix_oauth::{
    oauth1::{sign, signature_base_string, SignatureMethod},
    OAuth, RemoteApp,
};
use common::{listener, start_app, Answer, Browser, FakeProvider, Page, Recorded, Running};

const CREDENTIALS: &str = "oauth_token=tmp-token&oauth_token_secret=tmp%2Bsecret&oauth_callback_confirmed=true&user_id=42&screen_name=jack";

struct Run {
    browser: Browser,
    app: Running,
    start: Page,
}

async fn begin(token_endpoint: &str) -> Run {
    let (l, url) = listener();
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("fake")
                .request_token_url(format!("{token_endpoint}request_token"))
                .authorize_url("http://127.0.0.1:9/authorize")
                .access_token_url(format!("{token_endpoint}access_token"))
                .request_token_param("x_auth_access_type", "read")
                .consumer_key("consumer key")
                .consumer_secret("consumer&secret"),
        )
        .public_url(url.as_str())
        .timeout(Duration::from_secs(5))
        .build()
        .expect("config");
    let app = start_app(oauth, l);
    let browser = Browser::new();
    let start = browser.get(&app.url("/auth/fake?next=/home")).await;
    Run {
        browser,
        app,
        start,
    }
}

fn oauth_params(req: &Recorded) -> BTreeMap<String, String> {
    let header = req
        .headers
        .get("authorization")
        .expect("an Authorization header");
    let rest = header.strip_prefix("OAuth ").expect("OAuth scheme");
    rest.split(", ")
        .map(|part| {
            let (k, v) = part.split_once('=').unwrap();
            let v = v.trim_matches('"');
            (k.to_owned(), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

/// Recomputes the signature of a recorded request with the public signing functions.
fn assert_signed(req: &Recorded, url: &str, token_secret: &str) {
    let oauth = oauth_params(req);
    let mut params: Vec<(String, String)> = oauth.clone().into_iter().collect();
    if !req.body.is_empty() {
        params.extend(req.form());
    }
    let base = signature_base_string(&req.method, url, &params).unwrap();
    let expected = sign(
        SignatureMethod::HmacSha1,
        &base,
        "consumer&secret",
        token_secret,
    )
    .unwrap();
    assert_eq!(oauth["oauth_signature"], expected, "signature of {url}");
    assert_eq!(oauth["oauth_signature_method"], "HMAC-SHA1");
    assert_eq!(oauth["oauth_consumer_key"], "consumer key");
    assert_eq!(oauth["oauth_version"], "1.0");
    // Long enough to be unguessable, short enough for oauthlib's default validator (20 to 30).
    let nonce = &oauth["oauth_nonce"];
    assert!((20..=30).contains(&nonce.len()), "{nonce}");
    assert!(nonce.bytes().all(|b| b.is_ascii_alphanumeric()), "{nonce}");
}

#[actix_rt::test]
async fn three_legged_flow_is_signed() {
    let fake = FakeProvider::answering(Answer::new(200, "text/html", CREDENTIALS));
    let run = begin(&fake.url("")).await;
    assert_eq!(run.start.status, 302, "{}", run.start.text());
    let location = run.start.location_query();
    assert_eq!(location["oauth_token"], "tmp-token");

    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let request_token = &requests[0];
    assert_eq!(request_token.method, "POST");
    assert_eq!(request_token.form()["x_auth_access_type"], "read");
    assert_eq!(
        oauth_params(request_token)["oauth_callback"],
        run.app.url("/auth/fake/callback")
    );
    assert_signed(request_token, &fake.url("request_token"), "");

    let done = run
        .browser
        .get(
            &run.app
                .url("/auth/fake/callback?oauth_token=tmp-token&oauth_verifier=v%20123"),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    let body = done.json();
    assert_eq!(body["token_type"], "oauth1");
    assert_eq!(body["has_token_secret"], true);
    assert_eq!(body["next"], "/home");
    assert_eq!(body["extra"]["screen_name"], "jack");

    let requests = fake.requests();
    let access = &requests[1];
    let params = oauth_params(access);
    assert_eq!(params["oauth_verifier"], "v 123");
    assert_eq!(params["oauth_token"], "tmp-token");
    assert_signed(access, &fake.url("access_token"), "tmp+secret");

    // The temporary credentials are gone from the session: the same callback fails now.
    let again = run
        .browser
        .get(
            &run.app
                .url("/auth/fake/callback?oauth_token=tmp-token&oauth_verifier=v%20123"),
        )
        .await;
    assert_eq!(again.status, 400, "{}", again.text());
}

#[actix_rt::test]
async fn callback_with_another_token_is_refused() {
    let fake = FakeProvider::answering(Answer::new(200, "text/html", CREDENTIALS));
    let run = begin(&fake.url("")).await;
    let page = run
        .browser
        .get(
            &run.app
                .url("/auth/fake/callback?oauth_token=other-token&oauth_verifier=v"),
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.text());
    assert!(
        page.text().contains("<code>state_mismatch</code>"),
        "{}",
        page.text()
    );
    assert_eq!(fake.requests().len(), 1, "no access token request was made");
}

#[actix_rt::test]
async fn twitter_style_denial_gives_none() {
    let fake = FakeProvider::answering(Answer::new(200, "text/html", CREDENTIALS));
    let run = begin(&fake.url("")).await;
    let page = run
        .browser
        .get(&run.app.url("/auth/fake/callback?denied=tmp-token"))
        .await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.json()["denied"], true);
    // A denial for a token this browser never received is refused.
    let page = run
        .browser
        .get(&run.app.url("/auth/fake/callback?denied=tmp-token"))
        .await;
    assert_eq!(page.status, 400, "{}", page.text());
}

async fn assert_start_fails(answer: Answer, status: u16, kind: &str) {
    let fake = FakeProvider::answering(answer);
    let run = begin(&fake.url("")).await;
    assert_eq!(run.start.status, status, "{}", run.start.text());
    assert!(
        run.start.text().contains(&format!("<code>{kind}</code>")),
        "{}",
        run.start.text()
    );
}

#[actix_rt::test]
async fn request_token_faults() {
    assert_start_fails(
        Answer::new(500, "text/html", "<h1>down</h1>"),
        502,
        "unexpected_status",
    )
    .await;
    assert_start_fails(
        Answer::new(
            401,
            "application/x-www-form-urlencoded",
            "oauth_problem=signature_invalid",
        ),
        502,
        "provider",
    )
    .await;
    assert_start_fails(
        Answer::new(200, "text/html", "<html>what</html>"),
        502,
        "malformed",
    )
    .await;
    assert_start_fails(
        Answer::new(200, "text/plain", "oauth_token=a&oauth_token_secret=b"),
        502,
        "malformed",
    )
    .await;
    let mut slow = Answer::new(200, "text/plain", CREDENTIALS);
    slow.delay = Duration::from_secs(30);
    let fake = FakeProvider::answering(slow);
    let (l, url) = listener();
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("fake")
                .request_token_url(fake.url("request_token"))
                .authorize_url("http://127.0.0.1:9/authorize")
                .access_token_url(fake.url("access_token"))
                .consumer_key("k")
                .consumer_secret("s"),
        )
        .public_url(url.as_str())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let app = start_app(oauth, l);
    let page = Browser::new().get(&app.url("/auth/fake")).await;
    assert_eq!(page.status, 504, "{}", page.text());
}

#[actix_rt::test]
async fn request_token_endpoint_down() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let run = begin(&format!("http://127.0.0.1:{port}/")).await;
    assert_eq!(run.start.status, 502, "{}", run.start.text());
    assert!(run.start.text().contains("<code>transport</code>"));
}
