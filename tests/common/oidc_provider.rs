//! panva's `oidc-provider` (OpenID Certified, `tests/servers/oidc-provider/`), started as a Node.js
//! subprocess on a free loopback port: an OpenID Connect provider that is not ours, so a test
//! passing against it does not merely share our own reading of the specifications.

use std::{
    io::{BufRead as _, BufReader},
    path::Path,
    process::{Child, ChildStdout, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use serde_json::Value;
use url::Url;

use super::say_skipped;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/servers/oidc-provider");

/// A running `oidc-provider`; killed when dropped. It also exits by itself when this process goes
/// away (its standard input closes).
/// The secret of the client [`OidcProvider::introspect`] asks as.
const INSPECTOR_SECRET: &str = "the inspector's secret, not the app's";

/// A client of the provider's config that may introspect tokens (not the app under test).
#[allow(dead_code)]
pub fn inspector_client() -> Value {
    serde_json::json!({
        "client_id": "inspector",
        "client_secret": INSPECTOR_SECRET,
        "redirect_uris": ["http://127.0.0.1:9/unused"],
    })
}

pub struct OidcProvider {
    child: Child,
    pub issuer: Url,
    events: mpsc::Receiver<Value>,
}

impl OidcProvider {
    /// Starts the provider with `config` (`{"clients": [...], "accounts": {...}}`, see
    /// `server.mjs`). `None`, with a note on the terminal, when Node.js or the provider's
    /// packages are missing (`npm ci` in its folder), unless `ACTIX_OAUTH_REQUIRE_INTEROP` is set
    /// (as `.ci/run` does): then that is a failure.
    pub fn start(config: &Value) -> Option<Self> {
        let installed = Path::new(DIR).join("node_modules/oidc-provider").is_dir();
        let node = Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !(installed && node) {
            let why = "oidc-provider interop skipped: needs Node.js and \
                       `npm ci` in tests/servers/oidc-provider";
            assert!(
                std::env::var_os("ACTIX_OAUTH_REQUIRE_INTEROP").is_none(),
                "{why}"
            );
            say_skipped(why);
            return None;
        }
        let mut child = Command::new("node")
            .arg("server.mjs")
            .arg(config.to_string())
            .current_dir(DIR)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn node");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("the provider's first line");
        let Some(issuer) = line.strip_prefix("ISSUER ") else {
            let _ = child.kill();
            let mut err = String::new();
            if let Some(stderr) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut err);
            }
            panic!("oidc-provider did not start: {line:?}\n{err}");
        };
        let issuer = Url::parse(issuer.trim()).expect("issuer URL");
        // Its warnings (an unsupported Node.js, development keys) go to our stderr, unread
        // lines never block it.
        if let Some(stderr) = child.stderr.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if !line.contains("WARNING") {
                        eprintln!("{line}");
                    }
                }
            });
        }
        let events = read_events(stdout);
        Some(Self {
            child,
            issuer,
            events,
        })
    }

    /// The issuer as configured in a remote app (no trailing slash, as the provider says it).
    pub fn issuer(&self) -> String {
        self.issuer.as_str().trim_end_matches('/').to_owned()
    }

    /// The provider's introspection of `token` (RFC 7662), asked by the client that
    /// [`inspector_client`] registers.
    #[allow(dead_code)]
    pub async fn introspect(&self, token: &str) -> Value {
        let mut response = awc::Client::builder()
            .timeout(Duration::from_secs(10))
            .finish()
            .post(format!("{}/token/introspection", self.issuer()))
            .basic_auth("inspector", INSPECTOR_SECRET)
            .send_form(&[("token", token)])
            .await
            .expect("introspection");
        assert!(response.status().is_success(), "{}", response.status());
        serde_json::from_slice(&response.body().await.expect("a body")).expect("JSON")
    }

    /// The next event the provider reported (e.g. `backchannel.success`), waiting at most
    /// `timeout`.
    pub fn next_event(&self, timeout: Duration) -> Option<Value> {
        self.events.recv_timeout(timeout).ok()
    }

    /// The next event named one of `names` (`server.mjs` lists them), skipping others, waiting
    /// at most `timeout` in all.
    pub fn next_event_named(&self, names: &[&str], timeout: Duration) -> Option<Value> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let event = self.events.recv_timeout(left).ok()?;
            if names.iter().any(|name| event["event"] == *name) {
                return Some(event);
            }
        }
    }
}

fn read_events(stdout: BufReader<ChildStdout>) -> mpsc::Receiver<Value> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if let Ok(event) = serde_json::from_str(&line) {
                if tx.send(event).is_err() {
                    break;
                }
            }
        }
    });
    rx
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
