//! Provider faults over loopback: every way a provider fails, at each endpoint the crate calls.
//!
//! One test per fault. Each runs the fault against the OAuth 2 token endpoint (the callback's code
//! exchange), an API call (`/call/…`, the app's `oauth.request(…)`) and the OAuth 1.0a
//! request-token endpoint (the start of an OAuth 1.0a sign-in), with a 1 s timeout configured.
//! Every cell checks that the request ended (a bounded wait, ten times the timeout; no timing is
//! asserted) with the outcome below, that the worker answered another request meanwhile and
//! afterwards, and that the next sign-in, API call and OAuth 1.0a sign-in against the mended
//! provider succeed.
//!
//! | fault (test)               | token endpoint              | API call                    | OAuth 1.0a request token  |
//! |----------------------------|-----------------------------|-----------------------------|---------------------------|
//! | `refused_connection`       | 502 `transport`             | 502 `transport`             | 502 `transport`           |
//! | `accept_then_silence`      | 504 `timeout`               | 504 `timeout`               | 504 `timeout`             |
//! | `slow_drip`                | 504 `timeout`               | 504 `timeout`               | 504 `timeout`             |
//! | `hang_up_mid_answer` (short of its `Content-Length`) | 502 `transport` | 502 `transport` | 502 `transport` |
//! | `hang_up_mid_chunk` (ignored: awc takes the EOF for the end) | 502 `transport` | 502 `transport` | 502 `transport` |
//! | `status_500_with_html`     | 502 `unexpected_status`     | the app gets the 500        | 502 `unexpected_status`   |
//! | `status_200_with_garbage`  | 502 `malformed`             | the app gets the 200        | 502 `malformed`           |
//! | `body_of_50_mib`           | 502 `response_too_large`    | 502 `response_too_large`    | 502 `response_too_large`  |
//! | `wrong_content_type`       | 502 `malformed` (a form under a JSON type); JSON under `text/html` accepted | the app gets the body as text | accepted (OAuth 1.0a answers are forms whatever their type) |
//! | `redirect_loop`            | 502 `unexpected_status`, one request | the app gets the 302, one request | 502 `unexpected_status`, one request |
//!
//! The provider is the scriptable fake of `tests/common/fake/` with its healthy personality,
//! each fault scripted for every request it gets (`FakeProvider::fail_everywhere`);
//! `a_fault_at_one_endpoint_leaves_the_others_working` scripts one at a single path.
//!
//! `tests/token_endpoint.rs` and `tests/oauth1_fake.rs` hold the answers real providers give
//! (quirks and OAuth errors), and a peer that speaks no HTTP at all; `tests/api_calls.rs` keeps
//! API calls inside the remote app's `base_url`.

mod common;

use std::{
    future::Future,
    sync::{Mutex, PoisonError},
    time::Duration,
};

use actix_oauth::{OAuth, RemoteApp};
use common::{
    fake::{FakeProvider, Fault, Healthy, Recorded, Streamed},
    listener, reset_peak_rss, rss_kib, start_app, Browser, Page, Running,
};
use url::Url;

/// The timeout configured for outbound calls.
const TIMEOUT: Duration = Duration::from_secs(1);
/// How long a faulty call may take before the test calls it a hang: generous, not a measure.
const CEILING: Duration = Duration::from_secs(10);

/// The faults run one at a time: each holds sockets open for a while, and the 50 MiB test
/// measures the memory of the whole test process.
static SERIAL: Mutex<()> = Mutex::new(());

fn run(test: impl Future<Output = ()>) {
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    actix_rt::System::new().block_on(test);
}

/// Where a fault is met.
#[derive(Clone, Copy, Debug)]
enum Endpoint {
    /// The OAuth 2 code exchange, on the callback.
    Token,
    /// An API call on the signed-in user's behalf.
    Api,
    /// The OAuth 1.0a temporary credentials request, when a sign-in starts.
    RequestToken,
}

/// What the provider does.
#[derive(Clone, Debug)]
enum Breakage {
    /// Nothing listens on its port.
    Refused,
    /// It listens, and every request meets this fault.
    Acts(Fault),
}

/// How the app's request must end.
#[derive(Clone, Copy, Debug)]
enum Outcome {
    /// An [`actix_oauth::OAuthError`] rendered with this status and kind.
    Error(u16, &'static str),
    /// The API call returns the provider's answer with this status to the app.
    Answered(u16),
    /// The sign-in goes on as if nothing were wrong.
    Accepted,
}

/// The app under test, with an OAuth 2 remote app `fake` and an OAuth 1.0a remote app `fake1`,
/// both pointed at one provider port.
struct Harness {
    app: Running,
    port: u16,
    provider: std::cell::RefCell<Option<FakeProvider<Healthy>>>,
}

impl Harness {
    fn start() -> Self {
        let provider = FakeProvider::serve(Healthy);
        let port = provider.url.port().expect("port");
        let base = provider.url.clone();
        let (l, url) = listener();
        let oauth = OAuth::new()
            .remote_app(
                RemoteApp::builder("fake")
                    .authorize_url("http://127.0.0.1:9/authorize")
                    .access_token_url(join(&base, "token"))
                    .base_url(join(&base, "api/"))
                    .consumer_key("client")
                    .consumer_secret("secret"),
            )
            .remote_app(
                RemoteApp::builder("fake1")
                    .request_token_url(join(&base, "request_token"))
                    .authorize_url("http://127.0.0.1:9/authorize")
                    .access_token_url(join(&base, "access_token"))
                    .consumer_key("consumer")
                    .consumer_secret("consumer-secret"),
            )
            .public_url(url.as_str())
            .timeout(TIMEOUT)
            .build()
            .expect("config");
        Self {
            app: start_app(oauth, l),
            port,
            provider: std::cell::RefCell::new(Some(provider)),
        }
    }

    fn url(&self, path: &str) -> String {
        self.app.url(path)
    }

    /// The provider, started again on its port if it was down.
    fn provider(&self) -> std::cell::Ref<'_, FakeProvider<Healthy>> {
        if self.provider.borrow().is_none() {
            let listener = std::net::TcpListener::bind(("127.0.0.1", self.port))
                .expect("the provider's port is free again");
            *self.provider.borrow_mut() = Some(FakeProvider::serve_on(listener, Healthy));
        }
        std::cell::Ref::map(self.provider.borrow(), |p| p.as_ref().expect("running"))
    }

    /// Every request from now on meets `fault`.
    fn set(&self, fault: Fault) {
        self.provider().fail_everywhere(fault);
    }

    /// The provider answers as a healthy one again (up, no fault).
    fn mend(&self) {
        self.provider().mend();
    }

    fn break_with(&self, breakage: &Breakage) {
        match breakage {
            // Dropping the provider closes its port and every connection.
            Breakage::Refused => drop(self.provider.borrow_mut().take()),
            Breakage::Acts(fault) => self.set(fault.clone()),
        }
    }

    /// The request lines the provider received (`POST /token`).
    fn requests(&self) -> Vec<String> {
        self.provider
            .borrow()
            .as_ref()
            .map(|p| p.requests().iter().map(Recorded::line).collect())
            .unwrap_or_default()
    }

    fn clear_requests(&self) {
        if let Some(provider) = self.provider.borrow().as_ref() {
            provider.clear_requests();
        }
    }

    /// The provider's `n`th [`Fault::Huge`] stream, once it has ended (a bounded wait).
    async fn stream(&self, n: usize) -> Option<Streamed> {
        let deadline = std::time::Instant::now() + CEILING;
        loop {
            let streams = self
                .provider
                .borrow()
                .as_ref()
                .map(FakeProvider::streams)
                .unwrap_or_default();
            if let Some(stream) = streams.get(n) {
                return Some(stream.clone());
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            actix_rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A request the worker answers without calling the provider.
    async fn healthz(&self) {
        let page = Browser::new().get(&self.url("/token/fake")).await;
        assert_eq!(page.status, 401, "the worker is unwell: {}", page.text());
    }

    /// A browser with an OAuth 2 sign-in begun: the next step is the callback.
    async fn begin_oauth2(&self) -> (Browser, String) {
        let browser = Browser::new();
        let start = browser.get(&self.url("/auth/fake")).await;
        assert_eq!(start.status, 302, "{}", start.text());
        let state = start.location_query()["state"].clone();
        let callback = self.url(&format!("/auth/fake/callback?code=the-code&state={state}"));
        (browser, callback)
    }

    /// A browser signed in with `fake` against the healthy provider.
    async fn signed_in(&self) -> Browser {
        let (browser, callback) = self.begin_oauth2().await;
        let done = browser.get(&callback).await;
        assert_eq!(done.status, 200, "sign-in failed: {}", done.text());
        assert_eq!(done.json()["provider"], "fake");
        browser
    }

    /// Against the mended provider: an OAuth 2 sign-in, an API call, an OAuth 1.0a sign-in.
    async fn everything_works(&self) {
        let browser = self.signed_in().await;
        let token = browser.get(&self.url("/token/fake")).await;
        assert_eq!(token.status, 200, "{}", token.text());
        let call = browser.get(&self.url("/call/fake/thing")).await;
        assert_eq!(call.status, 200, "{}", call.text());
        assert_eq!(call.json()["data"]["ok"], true, "{}", call.text());

        let browser = Browser::new();
        let start = browser.get(&self.url("/auth/fake1")).await;
        assert_eq!(start.status, 302, "{}", start.text());
        let done = browser
            .get(
                &self.url("/auth/fake1/callback?oauth_token=tmp-token&oauth_verifier=the-verifier"),
            )
            .await;
        assert_eq!(
            done.status,
            200,
            "OAuth 1.0a sign-in failed: {}",
            done.text()
        );
        let token = browser.get(&self.url("/token/fake1")).await;
        assert_eq!(token.status, 200, "{}", token.text());
    }

    /// Meets `fault` at `endpoint`, checks the outcome and the worker's health, mends the
    /// provider and checks that everything works again. Returns the request lines the provider
    /// received during the fault.
    async fn check(&self, endpoint: Endpoint, fault: Breakage, expected: Outcome) -> Vec<String> {
        let cell = format!("{} at {endpoint:?}", describe(&fault));
        let (browser, target) = match endpoint {
            Endpoint::Token => self.begin_oauth2().await,
            Endpoint::Api => (self.signed_in().await, self.url("/call/fake/thing")),
            Endpoint::RequestToken => (Browser::new(), self.url("/auth/fake1")),
        };
        self.clear_requests();
        self.break_with(&fault);
        let faulty = async {
            actix_rt::time::timeout(CEILING, browser.get(&target))
                .await
                .unwrap_or_else(|_| panic!("{cell}: no answer within {CEILING:?}"))
        };
        // The worker keeps answering others while this request waits on the provider.
        let meanwhile = async {
            actix_rt::time::sleep(Duration::from_millis(100)).await;
            self.healthz().await;
        };
        let (page, ()) = futures_util::future::join(faulty, meanwhile).await;
        let seen = self.requests();
        assert_outcome(&cell, &page, endpoint, expected);
        self.healthz().await;

        self.mend();
        self.everything_works().await;
        seen
    }
}

/// A fault in a line: raw answers by their status line.
fn describe(fault: &Breakage) -> String {
    match fault {
        Breakage::Acts(Fault::Raw(bytes)) => {
            let text = String::from_utf8_lossy(bytes);
            format!("Raw({:?})", text.lines().next().unwrap_or(""))
        }
        Breakage::Acts(Fault::Drip { prefix, .. }) => {
            format!("Drip(after {} bytes at once)", prefix.len())
        }
        other => format!("{other:?}"),
    }
}

fn join(base: &Url, path: &str) -> String {
    base.join(path).expect("join").to_string()
}

/// The error kind a page shows: the `/call` route's JSON `error`, or the error page's `<code>`.
fn kind_of(page: &Page) -> Option<String> {
    if page.content_type.starts_with("application/json") {
        return page.json()["error"].as_str().map(str::to_owned);
    }
    let text = page.text();
    let start = text.find("<code>")? + "<code>".len();
    let end = start + text[start..].find("</code>")?;
    Some(text[start..end].to_owned())
}

fn assert_outcome(cell: &str, page: &Page, endpoint: Endpoint, expected: Outcome) {
    match expected {
        Outcome::Error(status, kind) => {
            assert_eq!(page.status, status, "{cell}: {}", page.text());
            assert_eq!(
                kind_of(page).as_deref(),
                Some(kind),
                "{cell}: {}",
                page.text()
            );
        }
        Outcome::Answered(status) => {
            assert_eq!(page.status, 200, "{cell}: {}", page.text());
            assert_eq!(page.json()["status"], status, "{cell}: {}", page.text());
        }
        Outcome::Accepted => match endpoint {
            Endpoint::RequestToken => assert_eq!(page.status, 302, "{cell}: {}", page.text()),
            _ => assert_eq!(page.status, 200, "{cell}: {}", page.text()),
        },
    }
}

/// A whole answer: status line, `content-type`, `content-length`, body; the connection closes.
fn answer(status: &str, content_type: &str, body: &[u8]) -> Fault {
    let mut bytes = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    Fault::Raw(bytes)
}

fn acts(fault: Fault) -> Breakage {
    Breakage::Acts(fault)
}

#[test]
fn refused_connection() {
    run(async {
        let h = Harness::start();
        let refused = Outcome::Error(502, "transport");
        h.check(Endpoint::Token, Breakage::Refused, refused).await;
        h.check(Endpoint::Api, Breakage::Refused, refused).await;
        h.check(Endpoint::RequestToken, Breakage::Refused, refused)
            .await;
    });
}

#[test]
fn accept_then_silence() {
    run(async {
        let h = Harness::start();
        let silent = acts(Fault::Silent);
        let timeout = Outcome::Error(504, "timeout");
        h.check(Endpoint::Token, silent.clone(), timeout).await;
        h.check(Endpoint::Api, silent.clone(), timeout).await;
        h.check(Endpoint::RequestToken, silent, timeout).await;
    });
}

#[test]
fn slow_drip() {
    run(async {
        let h = Harness::start();
        // A valid answer, four bytes every 200 ms: whole, it would take about 25 s.
        let body = format!(
            r#"{{"access_token":"slow","token_type":"bearer","pad":"{}"}}"#,
            "x".repeat(400)
        );
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let drip = |prefix: &str, rest: String| {
            acts(Fault::Drip {
                prefix: prefix.as_bytes().to_vec(),
                rest: rest.into_bytes(),
                chunk: 4,
                pause: Duration::from_millis(200),
            })
        };
        let dripping_head = drip("", format!("{head}{body}"));
        let dripping_body = drip(&head, body);
        let timeout = Outcome::Error(504, "timeout");
        for fault in [dripping_head, dripping_body] {
            h.check(Endpoint::Token, fault.clone(), timeout).await;
            h.check(Endpoint::Api, fault.clone(), timeout).await;
            h.check(Endpoint::RequestToken, fault, timeout).await;
        }
    });
}

/// The answer's head, part of its body, then the connection closes: a `Content-Length` of 100
/// and 16 bytes sent. awc takes the early close for the end of the body; the transport compares
/// the body with the length the answer announced, so this is a broken connection, not a short
/// answer handed to the app as complete.
#[test]
fn hang_up_mid_answer() {
    run(async {
        let h = Harness::start();
        let cut = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"access_token\":";
        let cut = acts(Fault::Raw(cut.as_bytes().to_vec()));
        let broken = Outcome::Error(502, "transport");
        h.check(Endpoint::Token, cut.clone(), broken).await;
        h.check(Endpoint::Api, cut.clone(), broken).await;
        h.check(Endpoint::RequestToken, cut, broken).await;
    });
}

/// Chunked, with a 64-byte chunk cut short. awc ends such a body without an error (its h1
/// payload stream takes an early EOF for the end, and whether the last chunk came is not
/// exposed), so an API call hands the app the truncated body as a complete answer, and the token
/// endpoints fail as `malformed`, an error for the wrong reason. Left until awc reports it.
#[test]
#[ignore = "awc reports no error for a chunked body cut short (its payload stream takes EOF for the end)"]
fn hang_up_mid_chunk() {
    run(async {
        let h = Harness::start();
        let cut = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n40\r\n{\"access_token\":\"cut";
        let cut = acts(Fault::Raw(cut.as_bytes().to_vec()));
        let broken = Outcome::Error(502, "transport");
        h.check(Endpoint::Token, cut.clone(), broken).await;
        h.check(Endpoint::Api, cut.clone(), broken).await;
        h.check(Endpoint::RequestToken, cut, broken).await;
    });
}

#[test]
fn status_500_with_html() {
    run(async {
        let h = Harness::start();
        let html = acts(answer(
            "500 Internal Server Error",
            "text/html; charset=utf-8",
            b"<!doctype html><html><body><h1>Internal Server Error</h1></body></html>",
        ));
        let failed = Outcome::Error(502, "unexpected_status");
        h.check(Endpoint::Token, html.clone(), failed).await;
        h.check(Endpoint::Api, html.clone(), Outcome::Answered(500))
            .await;
        h.check(Endpoint::RequestToken, html, failed).await;
    });
}

#[test]
fn status_200_with_garbage() {
    run(async {
        let h = Harness::start();
        let garbage = acts(answer(
            "200 OK",
            "application/json",
            b"\x00\xff{{garbage\x1b[2J",
        ));
        let malformed = Outcome::Error(502, "malformed");
        h.check(Endpoint::Token, garbage.clone(), malformed).await;
        h.check(Endpoint::Api, garbage.clone(), Outcome::Answered(200))
            .await;
        h.check(Endpoint::RequestToken, garbage, malformed).await;
    });
}

#[test]
fn body_of_50_mib() {
    const LEN: usize = 50 * 1024 * 1024;
    run(async {
        let h = Harness::start();
        // Warm up the app's buffers and pools, so they do not count as growth below.
        h.everything_works().await;
        let peak_reset = reset_peak_rss();
        let (before, _) = rss_kib().unwrap_or_default();
        let too_large = Outcome::Error(502, "response_too_large");
        let mut streams = 0;
        for chunked in [true, false] {
            for endpoint in [Endpoint::Token, Endpoint::Api, Endpoint::RequestToken] {
                let huge = acts(Fault::Huge { len: LEN, chunked });
                h.check(endpoint, huge, too_large).await;
                streams += 1;
                // The provider's side: the client hung up or stopped reading long before 50 MiB.
                let stream = h
                    .stream(streams - 1)
                    .await
                    .unwrap_or_else(|| panic!("{endpoint:?}: the provider's stream did not end"));
                assert!(!stream.complete, "{endpoint:?}: all 50 MiB were read");
                // At most what the kernel's socket buffers held (a few MiB on loopback).
                assert!(stream.written < LEN / 2, "{endpoint:?}: {stream:?}");
                assert!(stream.ended_by.is_some(), "{endpoint:?}: {stream:?}");
            }
        }
        // The client never held the body: the process grew by far less than 50 MiB, even at its
        // peak (a generous bound; the cap is 1 MiB).
        if let Some((after, peak)) = rss_kib() {
            let bound = 24 * 1024;
            assert!(
                after.saturating_sub(before) < bound,
                "resident memory grew from {before} KiB to {after} KiB"
            );
            if peak_reset {
                assert!(
                    peak.saturating_sub(before) < bound,
                    "resident memory peaked at {peak} KiB, from {before} KiB"
                );
            }
        }
    });
}

#[test]
fn wrong_content_type() {
    run(async {
        let h = Harness::start();
        // A form-encoded token that says it is JSON.
        let form_as_json = acts(answer(
            "200 OK",
            "application/json",
            b"access_token=a&token_type=bearer",
        ));
        h.check(
            Endpoint::Token,
            form_as_json.clone(),
            Outcome::Error(502, "malformed"),
        )
        .await;
        // A JSON token that says it is HTML is read as JSON, as providers send it so.
        let json_as_html = acts(answer(
            "200 OK",
            "text/html",
            br#"{"access_token":"a","token_type":"bearer"}"#,
        ));
        h.check(Endpoint::Token, json_as_html, Outcome::Accepted)
            .await;
        // An API answer is decoded by what it says it is; JSON said to be XML stays text.
        let json_as_xml = acts(answer("200 OK", "application/xml", br#"{"ok":true}"#));
        h.check(Endpoint::Api, json_as_xml, Outcome::Answered(200))
            .await;
        // OAuth 1.0a credentials are form-encoded whatever their content type says.
        let credentials_as_json = acts(answer(
            "200 OK",
            "application/json",
            b"oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed=true",
        ));
        h.check(
            Endpoint::RequestToken,
            credentials_as_json,
            Outcome::Accepted,
        )
        .await;
    });
}

#[test]
fn redirect_loop() {
    run(async {
        let h = Harness::start();
        let loop_ = acts(Fault::RedirectToSelf);
        let failed = Outcome::Error(502, "unexpected_status");
        // Redirects are never followed: the provider sees the one request.
        let seen = h.check(Endpoint::Token, loop_.clone(), failed).await;
        assert_eq!(seen, ["POST /token"], "{seen:?}");
        let seen = h
            .check(Endpoint::Api, loop_.clone(), Outcome::Answered(302))
            .await;
        assert_eq!(seen, ["GET /api/thing"], "{seen:?}");
        let seen = h.check(Endpoint::RequestToken, loop_, failed).await;
        assert_eq!(seen, ["POST /request_token"], "{seen:?}");
    });
}

/// A fault scripted at one path breaks that endpoint only: with the token endpoint answering a
/// 500, the code exchange fails, while an API call and an OAuth 1.0a sign-in against the same
/// provider go through; every request is recorded, the faulty one too.
#[test]
fn a_fault_at_one_endpoint_leaves_the_others_working() {
    run(async {
        let h = Harness::start();
        let signed_in = h.signed_in().await;
        h.provider().fail_at(
            "/token",
            answer(
                "500 Internal Server Error",
                "text/html; charset=utf-8",
                b"<!doctype html><h1>Internal Server Error</h1>",
            ),
        );
        h.clear_requests();
        let cell = "500 at /token only";
        let (browser, callback) = h.begin_oauth2().await;
        let page = browser.get(&callback).await;
        assert_outcome(
            cell,
            &page,
            Endpoint::Token,
            Outcome::Error(502, "unexpected_status"),
        );
        let call = signed_in.get(&h.url("/call/fake/thing")).await;
        assert_eq!(call.status, 200, "{cell}: {}", call.text());
        assert_eq!(call.json()["data"]["ok"], true, "{cell}: {}", call.text());
        let oauth1 = Browser::new();
        let start = oauth1.get(&h.url("/auth/fake1")).await;
        assert_eq!(start.status, 302, "{cell}: {}", start.text());
        let done = oauth1
            .get(&h.url("/auth/fake1/callback?oauth_token=tmp-token&oauth_verifier=the-verifier"))
            .await;
        assert_eq!(done.status, 200, "{cell}: {}", done.text());
        assert_eq!(
            h.requests(),
            [
                "POST /token",
                "GET /api/thing",
                "POST /request_token",
                "POST /access_token"
            ],
            "{cell}"
        );
        h.mend();
        h.everything_works().await;
    });
}
