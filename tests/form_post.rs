//! `response_mode=form_post` against the development provider, over loopback: the provider's
//! page POSTs the answer to the callback from another site, so the browser withholds the
//! `SameSite=Lax` session cookie; the app answers its relay page (touching no cookie), whose
//! same-site POST brings the cookie, and the handshake completes as a `GET` one does — state,
//! PKCE, nonce, `iss`, replay and denial alike.

mod common;

use actix_oauth::{OAuth, RemoteApp, ResponseMode};
use actix_oauth_dev::DevProvider;
use common::{html_form, listener, start_app, start_app_with, Browser, Page, Running};

struct Setup {
    provider: DevProvider,
    app: Running,
}

fn setup_with(middleware: bool) -> Setup {
    let (l, url) = listener();
    let provider = DevProvider::builder()
        .client("app", "app-secret", [format!("{url}auth/dev/callback")])
        .start()
        .expect("dev provider");
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("dev")
                .issuer(provider.issuer())
                .consumer_key("app")
                .consumer_secret("app-secret")
                .scope(["openid", "profile", "email"])
                .response_mode(ResponseMode::FormPost),
        )
        .public_url(url.as_str())
        .build()
        .expect("config");
    let app = start_app_with(oauth, l, middleware);
    Setup { provider, app }
}

fn setup() -> Setup {
    setup_with(true)
}

/// Starts a sign-in and answers the consent page; returns the provider's `form_post` page.
async fn consent(browser: &Browser, app: &Running, decision: &str) -> Page {
    let start = browser.get(&app.url("/auth/dev?next=/after")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let authorize = url::Url::parse(start.location.as_deref().unwrap()).unwrap();
    let query: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    assert!(
        query.contains(&("response_mode".into(), "form_post".into())),
        "{authorize}"
    );
    let page = browser.get(authorize.as_str()).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let mut form = query;
    form.push(("decision".into(), decision.into()));
    form.push(("user".into(), "alice".into()));
    let mut post = authorize.clone();
    post.set_query(None);
    let answer = browser.post_form(post.as_str(), &form).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(
        answer.text().contains("<form method=\"post\""),
        "{}",
        answer.text()
    );
    answer
}

/// The provider's page submitting its form to the app, cross-site: the relay page comes back,
/// and it sets no cookie (one would replace the session the browser kept back).
async fn cross_site_post(browser: &Browser, app: &Running, answer: &Page) -> Vec<(String, String)> {
    let (action, fields) = html_form(&answer.text());
    assert_eq!(action, app.url("/auth/dev/callback"));
    let relay = browser.post_form_cross_site(&action, &fields).await;
    assert_eq!(relay.status, 200, "{}", relay.text());
    assert!(
        relay.content_type.starts_with("text/html"),
        "{}",
        relay.content_type
    );
    let (relay_action, relay_fields) = html_form(&relay.text());
    assert_eq!(relay_action, "/auth/dev/callback");
    for field in &fields {
        assert!(relay_fields.contains(field), "{field:?} relayed");
    }
    assert!(relay_fields.contains(&("actix_oauth_relayed".into(), "1".into())));
    relay_fields
}

#[actix_rt::test]
async fn a_cross_site_form_post_is_relayed_once_and_signs_in() {
    let s = setup();
    let browser = Browser::new();
    let answer = consent(&browser, &s.app, "approve").await;
    let (_, fields) = html_form(&answer.text());
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["code", "state", "iss"], "the provider's answer");
    let cookies_before = browser.fork();
    let relayed = cross_site_post(&browser, &s.app, &answer).await;
    assert_eq!(
        browser.largest_cookie(),
        cookies_before.largest_cookie(),
        "the relay page set no cookie"
    );
    // The relay page's own POST is same-site: the session comes along.
    let done = browser
        .post_form(&s.app.url("/auth/dev/callback"), &relayed)
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    let json = done.json();
    assert_eq!(json["provider"], "dev");
    assert_eq!(json["next"], "/after");
    assert_eq!(
        browser.get(&s.app.url("/token/dev")).await.status,
        200,
        "signed in"
    );
    // The same form again is a replay.
    let replay = browser
        .post_form(&s.app.url("/auth/dev/callback"), &relayed)
        .await;
    assert_eq!(replay.status, 400, "{}", replay.text());
    assert!(
        replay.text().contains("state_mismatch"),
        "{}",
        replay.text()
    );
    assert_eq!(s.provider.token_requests(), 1);
}

#[actix_rt::test]
async fn a_same_site_form_post_completes_at_once() {
    let s = setup();
    let browser = Browser::new();
    let answer = consent(&browser, &s.app, "approve").await;
    let (action, fields) = html_form(&answer.text());
    let done = browser.post_form(&action, &fields).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["provider"], "dev");
}

#[actix_rt::test]
async fn a_denial_by_form_post_reaches_the_handler_as_declined() {
    let s = setup();
    let browser = Browser::new();
    let answer = consent(&browser, &s.app, "deny").await;
    let (_, fields) = html_form(&answer.text());
    assert!(fields.contains(&("error".into(), "access_denied".into())));
    let relayed = cross_site_post(&browser, &s.app, &answer).await;
    let done = browser
        .post_form(&s.app.url("/auth/dev/callback"), &relayed)
        .await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["denied"], true);
    assert_eq!(browser.get(&s.app.url("/token/dev")).await.status, 401);
}

#[actix_rt::test]
async fn forged_or_misdirected_form_posts_are_refused() {
    let s = setup();
    let browser = Browser::new();
    let answer = consent(&browser, &s.app, "approve").await;
    let (action, mut fields) = html_form(&answer.text());
    // The answer by GET, for an app whose provider answers by POST.
    let query = serde_urlencoded::to_string(&fields).unwrap();
    let get = browser.get(&format!("{action}?{query}")).await;
    assert_eq!(get.status, 400, "{}", get.text());
    assert!(get.text().contains("POST"), "{}", get.text());
    // Relayed already, yet without a session: no relay loop, a clear refusal.
    let mut relayed = fields.clone();
    relayed.push(("actix_oauth_relayed".into(), "1".into()));
    let stranger = Browser::new();
    let page = stranger.post_form(&action, &relayed).await;
    assert_eq!(page.status, 400, "{}", page.text());
    assert!(page.text().contains("state_missing"), "{}", page.text());
    // Another state.
    for (name, value) in &mut fields {
        if name == "state" {
            value.push('x');
        }
    }
    let forged = browser.post_form(&action, &fields).await;
    assert_eq!(forged.status, 400, "{}", forged.text());
    assert!(
        forged.text().contains("state_mismatch"),
        "{}",
        forged.text()
    );
    // A body that is not a form, and one over the callback limit.
    let json = awc::Client::new()
        .post(action.as_str())
        .insert_header(("content-type", "application/json"))
        .send_body("{}")
        .await
        .unwrap();
    assert_eq!(json.status(), 400);
    let long = vec![("pad".to_owned(), "a".repeat(9 * 1024))];
    let page = browser.post_form(&action, &long).await;
    assert_eq!(page.status, 400, "{}", page.text());
    assert_eq!(browser.get(&s.app.url("/token/dev")).await.status, 401);
    assert_eq!(s.provider.token_requests(), 0, "no code was exchanged");
}

#[actix_rt::test]
async fn without_the_middleware_the_extractor_completes_a_form_post_with_its_session() {
    let s = setup_with(false);
    let browser = Browser::new();
    let answer = consent(&browser, &s.app, "approve").await;
    let (action, fields) = html_form(&answer.text());
    let done = browser.post_form(&action, &fields).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["provider"], "dev");
    assert_eq!(browser.get(&s.app.url("/token/dev")).await.status, 200);
}

/// Only the middleware can answer the relay page: the extractor alone refuses a cross-site POST
/// (no session cookie came with it) and says what to add, and nothing is exchanged.
#[actix_rt::test]
async fn without_the_middleware_a_cross_site_form_post_is_refused_and_says_why() {
    let s = setup_with(false);
    let browser = Browser::new();
    let answer = consent(&browser, &s.app, "approve").await;
    let (action, fields) = html_form(&answer.text());
    let refused = browser.post_form_cross_site(&action, &fields).await;
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(
        refused.text().contains("OAuthMiddleware"),
        "{}",
        refused.text()
    );
    assert_eq!(s.provider.token_requests(), 0, "no code was exchanged");
}

#[actix_rt::test]
async fn a_query_app_still_refuses_a_posted_callback() {
    let (l, url) = listener();
    let provider = DevProvider::builder()
        .client("app", "app-secret", [format!("{url}auth/dev/callback")])
        .start()
        .unwrap();
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("dev")
                .issuer(provider.issuer())
                .consumer_key("app")
                .consumer_secret("app-secret"),
        )
        .public_url(url.as_str())
        .build()
        .unwrap();
    let app = start_app(oauth, l);
    let browser = Browser::new();
    browser.get(&app.url("/auth/dev")).await;
    let page = browser
        .post_form(
            &app.url("/auth/dev/callback"),
            &[("code".into(), "c".into()), ("state".into(), "s".into())],
        )
        .await;
    assert_eq!(page.status, 400, "{}", page.text());
    assert!(page.text().contains("GET"), "{}", page.text());
    assert_eq!(browser.get(&app.url("/token/dev")).await.status, 401);
    assert_eq!(provider.token_requests(), 0);
}
