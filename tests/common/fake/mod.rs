//! One scriptable fake provider for every test: a loopback server ([`FakeProvider`]) that plays
//! a *personality* — which paths it serves, how it answers them — and can be broken at any
//! endpoint by a scripted [`Fault`].
//!
//! - The server is a raw TCP acceptor that reads HTTP/1.1 requests itself (`server.rs`), one
//!   thread per connection, so faults below HTTP are real: silence on an accepted connection,
//!   a drip of bytes, a hang-up mid-answer or mid-chunk, an endless body.
//! - A personality is a [`Personality`]: a healthy generic provider ([`Healthy`]), the nine OAuth
//!   2 / OpenID Connect presets' providers as they document themselves ([`oauth2::Preset`], their
//!   quirks in [`oauth2::Settings`]), the later presets' providers as data
//!   ([`documented::Documented`] playing a [`documented::Doc`] of `documented_providers.rs`),
//!   Twitter's OAuth 1.0a API ([`oauth1::TwitterApi`]).
//! - A fault is data: per path ([`FakeProvider::fail_at`]) or for the whole provider
//!   ([`FakeProvider::fail_everywhere`]), a raw misbehaviour or a fixed [`Answer`]; a fixed
//!   answer everywhere is a fixed-answer endpoint ([`FakeProvider::answering`]).
//!
//! Every request is recorded ([`Recorded`]), answered by the personality or by a fault. The
//! development provider (`actix-oauth-dev`) is the other provider tests sign in with: a real
//! server, where this one is a stand-in that tests script.

pub mod apple;
pub mod documented;
pub mod documented_providers;
mod faults;
pub mod jwt;
pub mod oauth1;
pub mod oauth2;
mod server;

use std::{
    collections::BTreeMap,
    net::TcpListener,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    thread::JoinHandle,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use rand::{distributions::Alphanumeric, Rng as _};
use url::Url;

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The path as sent (not percent-decoded), without the query.
    pub path: String,
    /// The query as sent, without the `?`.
    pub query: String,
    /// Header names in lower case; of a repeated header, the last.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Recorded {
    pub fn form(&self) -> BTreeMap<String, String> {
        serde_urlencoded::from_str(&self.body).expect("form body")
    }

    /// The request line without the HTTP version: `GET /path?query`.
    pub fn line(&self) -> String {
        if self.query.is_empty() {
            format!("{} {}", self.method, self.path)
        } else {
            format!("{} {}?{}", self.method, self.path, self.query)
        }
    }

    /// The request's target: `/path?query`.
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }
}

/// An HTTP answer: what a personality gives back, and a fault's fixed answer. Written with a
/// `Content-Length`, on a connection kept alive.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    /// No `Content-Type` header when empty.
    pub content_type: String,
    pub body: Vec<u8>,
    /// How long to wait before answering (the connection stays open meanwhile).
    pub delay: Duration,
    pub headers: Vec<(&'static str, String)>,
}

impl Answer {
    pub fn new(status: u16, content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type: content_type.into(),
            body: body.into(),
            delay: Duration::ZERO,
            headers: Vec::new(),
        }
    }

    /// `200` with a JSON body.
    pub fn json(body: &str) -> Self {
        Self::new(200, "application/json", body)
    }

    /// A JSON value with this status and content type.
    pub fn value(status: u16, content_type: &str, body: &serde_json::Value) -> Self {
        Self::new(status, content_type, body.to_string())
    }

    /// `302` to `location`, no body.
    pub fn redirect(location: impl Into<String>) -> Self {
        Self::new(302, "", "").with_header("location", location)
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

/// How an endpoint misbehaves instead of answering as its personality would: failing the way
/// real providers fail, below HTTP or in it, or with a fixed answer.
#[derive(Clone, Debug)]
pub enum Fault {
    /// This answer, whatever the request.
    Answer(Answer),
    /// Neither answers nor hangs up. Scripted everywhere, it does not even read the request (the
    /// connection is accepted, then nothing); at a path, it reads the request first.
    Silent,
    /// Sends `prefix` at once, then `rest` `chunk` bytes at a time, a `pause` before each, then
    /// hangs up.
    Drip {
        prefix: Vec<u8>,
        rest: Vec<u8>,
        chunk: usize,
        pause: Duration,
    },
    /// Sends these bytes, and hangs up.
    Raw(Vec<u8>),
    /// Answers `302` with the request's own URL as `Location`.
    RedirectToSelf,
    /// Streams `len` bytes of a JSON-looking body, chunked or with a `Content-Length`, from one
    /// 64 KiB buffer; [`FakeProvider::streams`] tells how far each stream got.
    Huge { len: usize, chunked: bool },
}

/// How far one [`Fault::Huge`] stream got before it ended.
#[derive(Clone, Debug)]
pub struct Streamed {
    /// Body bytes the kernel accepted.
    pub written: usize,
    /// Whether the whole body was written.
    pub complete: bool,
    /// Why writing stopped early: the client hung up, or stopped reading.
    pub ended_by: Option<String>,
}

/// What a fake provider is: how it answers each request when no fault is scripted there.
pub trait Personality: Send + Sync + 'static {
    /// The answer to `req`; `origin` is the fake's `http://127.0.0.1:PORT`.
    fn answer(&self, req: &Recorded, origin: &str) -> Answer;
}

/// A healthy provider of no particular brand: a token at `/token`, OAuth 1.0a credentials at
/// `/request_token` and `/access_token`, `{"ok":true}` anywhere else, whatever is asked.
pub struct Healthy;

impl Personality for Healthy {
    fn answer(&self, req: &Recorded, _origin: &str) -> Answer {
        let form = "application/x-www-form-urlencoded";
        let path = req.path.as_str();
        if path.starts_with("/token") {
            Answer::json(
                r#"{"access_token":"healthy-token","token_type":"bearer","expires_in":3600}"#,
            )
        } else if path.starts_with("/request_token") {
            Answer::new(
                200,
                form,
                "oauth_token=tmp-token&oauth_token_secret=tmp-secret&oauth_callback_confirmed=true",
            )
        } else if path.starts_with("/access_token") {
            Answer::new(
                200,
                form,
                "oauth_token=healthy-token&oauth_token_secret=healthy-secret&user_id=1",
            )
        } else {
            Answer::json(r#"{"ok":true}"#)
        }
    }
}

/// The faults scripted on a provider.
#[derive(Default)]
struct Script {
    /// For every path (checked first for [`Fault::Silent`], before a request is read).
    everywhere: Option<Fault>,
    /// For one path each (exact, without the query); before `everywhere`.
    at: Vec<(String, Fault)>,
}

impl Script {
    fn fault_for(&self, path: &str) -> Option<Fault> {
        self.at
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, f)| f.clone())
            .or_else(|| self.everywhere.clone())
    }
}

#[derive(Default)]
struct Log {
    requests: Vec<Recorded>,
    streams: Vec<Streamed>,
}

/// The longest any thread of a [`FakeProvider`] lives, whatever a test does.
const THREAD_LIMIT: Duration = Duration::from_secs(300);

/// What a provider's threads share.
struct Shared<P> {
    personality: P,
    /// `http://127.0.0.1:PORT`.
    origin: String,
    script: Mutex<Script>,
    log: Mutex<Log>,
    stop: AtomicBool,
    started: Instant,
}

impl<P> Shared<P> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst) || self.started.elapsed() > THREAD_LIMIT
    }

    /// Sleeps `d`, or less if the provider stops.
    fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until && !self.stopped() {
            std::thread::sleep(Duration::from_millis(10).min(until - Instant::now()));
        }
    }
}

/// A fake provider on a loopback port: a [`Personality`] and the faults scripted on it. Faults
/// are read at each request, so a test can break it and mend it while the app under test keeps
/// pooled connections. Every thread it starts stops when it is dropped (or after 300 s at the
/// latest).
pub struct FakeProvider<P: Personality = Healthy> {
    pub url: Url,
    shared: Arc<Shared<P>>,
    acceptor: Option<JoinHandle<()>>,
}

impl<P: Personality> FakeProvider<P> {
    /// Serves `personality` on a fresh loopback port.
    pub fn serve(personality: P) -> Self {
        Self::serve_on(crate::common::listener().0, personality)
    }

    /// Serves `personality` on `listener` (e.g. bound again to a port a test first left closed).
    pub fn serve_on(listener: TcpListener, personality: P) -> Self {
        let port = listener.local_addr().expect("addr").port();
        let origin = format!("http://127.0.0.1:{port}");
        let shared = Arc::new(Shared {
            personality,
            origin: origin.clone(),
            script: Mutex::default(),
            log: Mutex::default(),
            stop: AtomicBool::new(false),
            started: Instant::now(),
        });
        let acceptor = server::start(listener, shared.clone());
        Self {
            url: Url::parse(&format!("{origin}/")).expect("url"),
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// `path` (with its query) on the fake: `url("token")` and `url("/token")` alike.
    pub fn url(&self, path: &str) -> String {
        self.url
            .join(path.trim_start_matches('/'))
            .expect("join")
            .to_string()
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn origin(&self) -> &str {
        &self.shared.origin
    }

    pub fn personality(&self) -> &P {
        &self.shared.personality
    }

    /// From now on, requests to `path` (exact, without the query) meet `fault`.
    pub fn fail_at(&self, path: &str, fault: Fault) {
        let mut script = self.shared.script.lock().unwrap();
        script.at.retain(|(p, _)| p != path);
        script.at.push((path.to_owned(), fault));
    }

    /// From now on, every request meets `fault` (except at paths with a fault of their own).
    pub fn fail_everywhere(&self, fault: Fault) {
        self.shared.script.lock().unwrap().everywhere = Some(fault);
    }

    /// Forgets every scripted fault: the personality answers again.
    pub fn mend(&self) {
        *self.shared.script.lock().unwrap() = Script::default();
    }

    /// The requests received so far, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.log.lock().unwrap().requests.clone()
    }

    /// The requests to `path`.
    pub fn requests_to(&self, path: &str) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }

    /// Forgets the requests received so far.
    pub fn clear_requests(&self) {
        self.shared.log.lock().unwrap().requests.clear();
    }

    /// The [`Fault::Huge`] streams that have ended, in order.
    pub fn streams(&self) -> Vec<Streamed> {
        self.shared.log.lock().unwrap().streams.clone()
    }
}

impl FakeProvider<Healthy> {
    /// An endpoint answering every request with `answer` (and recording it).
    pub fn answering(answer: Answer) -> Self {
        let fake = Self::serve(Healthy);
        fake.fail_everywhere(Fault::Answer(answer));
        fake
    }
}

impl<P: Personality> Drop for FakeProvider<P> {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

pub fn random(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}
