//! Providers written in Python's standard library (`tests/servers/`), started as subprocesses on
//! a free loopback port: HTTP servers of another kind than the crate's own fakes.

use std::{
    io::{BufRead as _, BufReader, Read as _, Write as _},
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::Value;
use url::Url;

/// A running `tests/servers/http10_provider.py`; killed when dropped. It also exits by itself
/// when this process goes away (its standard input closes) or after its `--lifetime`.
pub struct PyProvider {
    child: Child,
    pub port: u16,
    pub url: Url,
}

impl PyProvider {
    /// Starts the provider with `args` (e.g. `["--mode", "http10"]`); `https` when `--cert` is
    /// among them.
    pub fn start(args: &[&str]) -> Self {
        let mut all = args.to_vec();
        all.extend(["--lifetime", "300"]);
        Self::run("http10_provider.py", &all)
    }

    /// Starts `tests/servers/oauthlib_provider.py`, an OAuth 1.0a provider on Python's
    /// `oauthlib`, with `config` (see the script). `None`, with a note on the terminal, when
    /// `oauthlib` is not installed (`pip install oauthlib`), unless `ACTIX_OAUTH_REQUIRE_INTEROP`
    /// is set (as `.ci/run` does): then that is a failure.
    pub fn oauthlib(config: &Value) -> Option<Self> {
        let installed = Command::new("python3")
            .args(["-c", "import oauthlib"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            let why = "oauthlib interop skipped: needs `pip install oauthlib`";
            assert!(
                std::env::var_os("ACTIX_OAUTH_REQUIRE_INTEROP").is_none(),
                "{why}"
            );
            super::say_skipped(why);
            return None;
        }
        Some(Self::run("oauthlib_provider.py", &[&config.to_string()]))
    }

    fn run(script: &str, args: &[&str]) -> Self {
        let script = format!("{}/tests/servers/{script}", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new("python3")
            .arg(&script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("python3 is needed for this test ({e})"));
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("the provider's first line");
        let port: u16 = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("the Python provider did not start: {line:?}"));
        let scheme = if args.contains(&"--cert") {
            "https"
        } else {
            "http"
        };
        Self {
            child,
            port,
            url: Url::parse(&format!("{scheme}://127.0.0.1:{port}/")).expect("url"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.url
            .join(path.trim_start_matches('/'))
            .expect("join")
            .to_string()
    }

    /// The provider's counters (`GET /stats` over a plain socket, so no client pool is
    /// involved); plain http providers only.
    pub fn stats(&self) -> Value {
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to provider");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        stream
            .write_all(b"GET /stats HTTP/1.0\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        serde_json::from_str(body).unwrap_or_else(|e| panic!("stats ({e}): {answer}"))
    }
}

impl Drop for PyProvider {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
