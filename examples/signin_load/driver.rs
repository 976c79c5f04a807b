//! The load driver shared by the `signin_load` example and `tests/load.rs`: simulated browsers,
//! each with its own cookie jar, signing in through the app and the development provider and
//! checking that `/me` names exactly the user they approved as.

use std::{
    collections::BTreeMap,
    fmt,
    time::{Duration, Instant},
};

use awc::http::StatusCode;
use futures_util::{stream, StreamExt as _};
use url::Url;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The app's base URL, such as `http://127.0.0.1:8090/`.
    pub target: Url,
    /// How many sign-ins (or handshakes).
    pub count: usize,
    /// How many run at once.
    pub concurrency: usize,
    /// How many development users there are (`user0…`); sign-in `i` approves as user `i % users`.
    pub users: usize,
    /// Only start handshakes (`GET /auth/dev`, keeping the cookie) and never complete them.
    pub handshakes_only: bool,
    /// The remote app's name in the app's routes (`/auth/NAME`): `dev` by default.
    pub provider: String,
}

/// Why one sign-in failed.
#[derive(Debug)]
pub enum Failure {
    /// A step answered something unexpected.
    Error(String),
    /// `/me` named another user: a session leaked between browsers.
    Leak(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Error(e) => write!(f, "error: {e}"),
            Self::Leak(e) => write!(f, "LEAK: {e}"),
        }
    }
}

/// What a run measured.
#[derive(Debug, Default)]
pub struct Report {
    /// Sign-ins (or handshakes) that completed as expected.
    pub completed: usize,
    /// Those that failed with an error.
    pub errors: usize,
    /// Those where `/me` named another user.
    pub leaks: usize,
    /// The first few failures, for the log.
    pub first_failures: Vec<String>,
    /// Wall time of the whole run.
    pub elapsed: Duration,
    /// The completed ones' latencies, sorted.
    pub latencies: Vec<Duration>,
}

impl Report {
    /// Completions per second.
    pub fn rate(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency at quantile `q` (0 to 1) of the completed ones.
    pub fn quantile(&self, q: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[index.min(self.latencies.len() - 1)]
    }

    /// Whether everything completed, without an error or a leak.
    pub fn is_clean(&self) -> bool {
        self.errors == 0 && self.leaks == 0
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} completed in {:.2} s = {:.1}/s; errors {}, leaks {}; latency p50 {:.1} ms, p99 {:.1} ms",
            self.completed,
            self.elapsed.as_secs_f64(),
            self.rate(),
            self.errors,
            self.leaks,
            self.quantile(0.5).as_secs_f64() * 1e3,
            self.quantile(0.99).as_secs_f64() * 1e3,
        )?;
        for failure in &self.first_failures {
            write!(f, "\n  {failure}")?;
        }
        Ok(())
    }
}

/// Runs `options.count` sign-ins (or handshakes), `options.concurrency` at a time.
pub async fn run(options: &Options) -> Report {
    let client = awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(60))
        .connector(awc::Connector::new().limit(options.concurrency * 2 + 8))
        .finish();
    let start = Instant::now();
    let outcomes: Vec<Result<Duration, Failure>> = stream::iter(0..options.count)
        .map(|i| {
            let browser = Browser::new(&client);
            let user = username(i % options.users.max(1));
            async move {
                let began = Instant::now();
                let outcome = if options.handshakes_only {
                    browser
                        .start_handshake(&options.target, &options.provider)
                        .await
                } else {
                    browser
                        .sign_in(&options.target, &options.provider, &user)
                        .await
                };
                outcome.map(|()| began.elapsed())
            }
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    let mut report = Report {
        elapsed: start.elapsed(),
        ..Report::default()
    };
    for outcome in outcomes {
        match outcome {
            Ok(latency) => {
                report.completed += 1;
                report.latencies.push(latency);
            }
            Err(failure) => {
                match failure {
                    Failure::Error(_) => report.errors += 1,
                    Failure::Leak(_) => report.leaks += 1,
                }
                if report.first_failures.len() < 5 {
                    report.first_failures.push(failure.to_string());
                }
            }
        }
    }
    report.latencies.sort();
    report
}

/// The username of the `i`-th development user, as the bench server configures them.
fn username(i: usize) -> String {
    format!("user{i}")
}

/// One simulated browser: a cookie jar (keyed by name, as one host's cookies) over a shared
/// HTTP client that never follows redirects.
struct Browser<'c> {
    client: &'c awc::Client,
    jar: BTreeMap<String, String>,
}

/// What a request answered.
struct Page {
    status: StatusCode,
    location: Option<String>,
    body: Vec<u8>,
}

fn error(text: impl Into<String>) -> Failure {
    Failure::Error(text.into())
}

impl<'c> Browser<'c> {
    fn new(client: &'c awc::Client) -> Self {
        Self {
            client,
            jar: BTreeMap::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.jar
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(
        &mut self,
        request: awc::ClientRequest,
        form: Option<&[(String, String)]>,
    ) -> Result<Page, Failure> {
        let request = if self.jar.is_empty() {
            request
        } else {
            request.insert_header(("cookie", self.cookie_header()))
        };
        let what = format!("{} {}", request.get_method(), request.get_uri());
        let sent = match form {
            Some(form) => request.send_form(&form).await,
            None => request.send().await,
        };
        let mut res = sent.map_err(|e| error(format!("{what}: {e}")))?;
        for value in res.headers().get_all("set-cookie") {
            let Ok(text) = value.to_str() else { continue };
            let pair = text.split(';').next().unwrap_or_default();
            if let Some((name, val)) = pair.split_once('=') {
                let expired = text.to_ascii_lowercase().contains("max-age=0");
                if val.is_empty() || expired {
                    self.jar.remove(name.trim());
                } else {
                    self.jar
                        .insert(name.trim().to_owned(), val.trim().to_owned());
                }
            }
        }
        let body = res
            .body()
            .limit(1024 * 1024)
            .await
            .map_err(|e| error(format!("{what}: body: {e}")))?;
        Ok(Page {
            status: res.status(),
            location: res
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            body: body.to_vec(),
        })
    }

    async fn get(&mut self, url: &Url) -> Result<Page, Failure> {
        let request = self.client.get(url.as_str());
        self.send(request, None).await
    }

    /// `GET /auth/NAME`: the redirect to the provider, with the handshake in the session.
    async fn start_handshake(mut self, target: &Url, provider: &str) -> Result<(), Failure> {
        self.authorize(target, provider).await.map(drop)
    }

    /// `GET /auth/NAME?next=/me` (apps that take no `next` go to their own page after the
    /// callback, which the driver follows too).
    async fn authorize(&mut self, target: &Url, provider: &str) -> Result<Url, Failure> {
        let start = target
            .join(&format!("auth/{provider}?next=%2Fme"))
            .map_err(|e| error(e.to_string()))?;
        let page = self.get(&start).await?;
        if !page.status.is_redirection() || self.jar.is_empty() {
            return Err(error(format!(
                "GET /auth/{provider}: status {} (cookie: {})",
                page.status,
                !self.jar.is_empty()
            )));
        }
        let location = page
            .location
            .ok_or_else(|| error(format!("GET /auth/{provider}: no Location")))?;
        Url::parse(&location)
            .map_err(|e| error(format!("GET /auth/{provider}: Location {location:?}: {e}")))
    }

    /// The whole sign-in: the app's redirect, the consent page, approval as `user`, the
    /// callback, and `/me`.
    async fn sign_in(mut self, target: &Url, provider: &str, user: &str) -> Result<(), Failure> {
        let authorize = self.authorize(target, provider).await?;

        let consent = self.get(&authorize).await?;
        let wanted = format!("value=\"{user}\"");
        if consent.status != StatusCode::OK
            || !String::from_utf8_lossy(&consent.body).contains(&wanted)
        {
            return Err(error(format!(
                "GET the consent page: status {}, user {user} offered: {}",
                consent.status,
                String::from_utf8_lossy(&consent.body).contains(&wanted)
            )));
        }

        // The consent form carries the authorization request's parameters as hidden inputs.
        let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
        form.push(("decision".to_owned(), "approve".to_owned()));
        form.push(("user".to_owned(), user.to_owned()));
        let mut action = authorize.clone();
        action.set_query(None);
        let request = self.client.post(action.as_str());
        let approved = self.send(request, Some(&form)).await?;
        let callback = match (approved.status, approved.location) {
            (StatusCode::FOUND, Some(location)) => Url::parse(&location)
                .map_err(|e| error(format!("approval: Location {location:?}: {e}")))?,
            (status, _) => {
                return Err(error(format!(
                    "POST the consent form: status {status}: {}",
                    String::from_utf8_lossy(&approved.body)
                )))
            }
        };

        let done = self.get(&callback).await?;
        let next = match (done.status, done.location) {
            (status, Some(location)) if status.is_redirection() => target
                .join(&location)
                .map_err(|e| error(format!("callback: Location {location:?}: {e}")))?,
            (status, _) => {
                return Err(error(format!(
                    "GET the callback: status {status}: {}",
                    String::from_utf8_lossy(&done.body)
                )))
            }
        };

        let me = self.get(&next).await?;
        if me.status != StatusCode::OK {
            return Err(error(format!("GET {next}: status {}", me.status)));
        }
        let who: serde_json::Value = serde_json::from_slice(&me.body)
            .map_err(|e| error(format!("GET {next}: not JSON: {e}")))?;
        // `{"user": …}` (the bench server), or an account whose identities name the user (the
        // example server, the hand-written peer).
        let seen = who.get("user").and_then(|u| u.as_str()).or_else(|| {
            who.get("identities")?
                .as_array()?
                .iter()
                .find_map(|i| i.get("username")?.as_str())
        });
        match seen {
            Some(seen) if seen == user => Ok(()),
            Some(seen) => Err(Failure::Leak(format!(
                "signed in as {user}, /me shows {seen}"
            ))),
            None => Err(error(format!("GET {next}: no user in {who}"))),
        }
    }
}

/// CPU time (user + system) the process `pid` has used, from `/proc/PID/stat`.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: state is
    // the first, utime the 12th and stime the 13th.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Linux reports clock ticks of USER_HZ, which is 100 on every architecture it runs on.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Resident memory of the process `pid` in bytes (`VmRSS` in `/proc/PID/status`).
pub fn vm_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
