//! The shared parts going away (issue 19): the example server (the real binary) with its sessions
//! in a Redis the test starts itself on another port, and its accounts and tokens in PostgreSQL
//! behind a TCP cable the test can unplug. While either is away, sign-in and API calls are
//! answered `503` (a page, or JSON for an API client) within the store timeout, never hang;
//! when it is back, the same requests succeed without a restart.
//!
//! Needs `redis-server` on the `PATH` and a PostgreSQL `DATABASE_URL` (as `.ci/run` has them);
//! skipped with a message without them. The example binary must be built (`cargo test` builds
//! it; alone: `cargo build --all-features --example server`).
#![cfg(feature = "accounts")]

mod common;

use std::{
    net::{SocketAddr, TcpStream, ToSocketAddrs as _},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use actix_oauth_dev::{DevProvider, DevUser};
use common::{
    example::{free_port, idp_config, wait_healthy, Cable, Instance, TOKEN_KEY},
    Browser,
};

/// A Redis server of the test's own, without persistence: stopped, paused and restarted at will.
struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    fn start(port: u16) -> Option<Self> {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Self {
            port,
            child: Some(child),
        })
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A paused server must be woken to die promptly.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.stop();
    }
}

/// Signs `user` in; `Ok` with the browser, or `Err` with the status and page of the step that
/// failed.
async fn sign_in(app: &str, user: &str) -> Result<Browser, (u16, String)> {
    let browser = Browser::new();
    sign_in_with(&browser, app, user).await.map(|()| browser)
}

async fn sign_in_with(browser: &Browser, app: &str, user: &str) -> Result<(), (u16, String)> {
    let start = browser.get(&format!("{app}/auth/idp")).await;
    if start.status != 302 {
        return Err((start.status, start.text()));
    }
    let authorize = url::Url::parse(start.location.as_deref().expect("to the provider")).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), user.into()));
    let mut post = authorize.clone();
    post.set_query(None);
    let back = browser.post_form(post.as_str(), &form).await;
    let callback = back.location.expect("back to the app");
    let done = browser.get(&callback).await;
    if done.status != 303 {
        return Err((done.status, done.text()));
    }
    Ok(())
}

/// One API call as an API client makes it (JSON wanted), with a client that gives up after
/// 10 s: the status and the JSON body. A hang fails the test.
async fn call(app: &str, browser: &Browser) -> (u16, serde_json::Value) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();
    let mut response = client
        .get(format!("{app}/api/idp/me"))
        .insert_header(("cookie", browser.cookies()))
        .insert_header(("accept", "application/json"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("the API call did not answer: {e}"));
    let body = response.body().await.expect("body");
    let json = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    (response.status().as_u16(), json)
}

/// A page as a browser asks for it: the status, `Retry-After` and the text.
async fn page(url: &str, browser: &Browser) -> (u16, Option<String>, String) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .disable_redirects()
        .finish();
    let mut response = client
        .get(url)
        .insert_header(("cookie", browser.cookies()))
        .insert_header(("accept", "text/html"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{url} did not answer: {e}"));
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    let body = response.body().await.expect("body");
    (
        response.status().as_u16(),
        retry,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// Whether an API call answered 200 with the provider's 200.
fn ok(outcome: &(u16, serde_json::Value)) -> bool {
    outcome.0 == 200 && outcome.1["status"] == 200
}

/// Whether an API call answered the JSON 503 of a store that is away.
fn unavailable(outcome: &(u16, serde_json::Value)) -> bool {
    outcome.0 == 503 && outcome.1["error"] == "unavailable"
}

#[actix_rt::test]
async fn redis_and_postgres_going_away_are_503s_and_the_app_recovers() {
    let Ok(database) = std::env::var("DATABASE_URL") else {
        common::say_skipped("DATABASE_URL unset: skipping the store-faults test");
        return;
    };
    if !database.starts_with("postgres") {
        common::say_skipped("DATABASE_URL is not PostgreSQL: skipping the store-faults test");
        return;
    }
    let redis_port = free_port();
    let Some(mut redis) = Redis::start(redis_port) else {
        common::say_skipped("redis-server not found: skipping the store-faults test");
        return;
    };
    // PostgreSQL through a cable the test can unplug.
    let mut db_url = url::Url::parse(&database).expect("DATABASE_URL");
    let db_addr: SocketAddr = (
        db_url.host_str().unwrap_or("127.0.0.1"),
        db_url.port().unwrap_or(5432),
    )
        .to_socket_addrs()
        .expect("database address")
        .next()
        .expect("database address");
    let cable = Cable::to(db_addr);
    db_url.set_host(Some("127.0.0.1")).unwrap();
    db_url.set_port(Some(cable.port())).unwrap();

    let port = free_port();
    let app = format!("http://127.0.0.1:{port}");
    let provider = DevProvider::builder()
        .client(
            "faults",
            "faults-secret",
            [format!("{app}/auth/idp/callback")],
        )
        .user(DevUser::new("ann").email("ann@example.test"))
        .user(DevUser::new("bea").email("bea@example.test"))
        .user(DevUser::new("cid").email("cid@example.test"))
        .start()
        .expect("dev provider");
    let (dir, config) = idp_config(
        "faults",
        provider.issuer(),
        provider.api_url().as_str(),
        "faults",
    );
    let env = [
        ("REDIS_URL", redis.url()),
        ("DATABASE_URL", db_url.to_string()),
        ("SESSION_KEY", "f".repeat(64)),
        ("TOKEN_KEY", TOKEN_KEY.to_owned()),
        ("ACTIX_OAUTH_DATA_DIR", dir.display().to_string()),
    ];
    let _server = Instance::start_on(port, &env, &["--config", config.to_str().unwrap()]);
    wait_healthy(&app).await;

    let ann = sign_in(&app, "ann").await.expect("ann signs in");
    assert!(ok(&call(&app, &ann).await));

    // PostgreSQL away: the API call (its token is there) and a sign-in's callback (the account
    // is written there) are 503s; the session in Redis is untouched.
    cable.unplug();
    let phase = Instant::now();
    let outcome = call(&app, &ann).await;
    eprintln!(
        "PostgreSQL away: the API call answered {} in {:?}",
        outcome.0,
        phase.elapsed()
    );
    assert!(
        unavailable(&outcome),
        "PostgreSQL away, API call: {outcome:?}"
    );
    let (status, retry, text) = page(&format!("{app}/"), &ann).await;
    assert_eq!(status, 503, "PostgreSQL away, home page: {text}");
    assert_eq!(retry.as_deref(), Some("5"));
    assert!(text.contains("cannot be reached"), "{text}");
    let bea = Browser::new();
    let failed = sign_in_with(&bea, &app, "bea")
        .await
        .expect_err("no account without the database");
    assert_eq!(failed.0, 503, "PostgreSQL away, sign-in: {}", failed.1);
    // Back: the same session calls again, and the sign-in goes through.
    cable.plug();
    let outcome = call(&app, &ann).await;
    assert!(ok(&outcome), "PostgreSQL back: {outcome:?}");
    sign_in_with(&bea, &app, "bea")
        .await
        .expect("bea signs in once PostgreSQL is back");
    assert!(ok(&call(&app, &bea).await));

    // Redis paused (it accepts connections and never answers): 503 within the store timeout.
    redis.signal("-STOP");
    let phase = Instant::now();
    let outcome = call(&app, &ann).await;
    eprintln!(
        "Redis silent: the API call answered {} in {:?}",
        outcome.0,
        phase.elapsed()
    );
    assert!(unavailable(&outcome), "Redis silent, API call: {outcome:?}");
    let (status, _, text) = page(&format!("{app}/auth/idp"), &Browser::new()).await;
    assert_eq!(status, 503, "Redis silent, starting a sign-in: {text}");
    redis.signal("-CONT");
    let outcome = call(&app, &ann).await;
    assert!(
        ok(&outcome),
        "Redis answering again, same session: {outcome:?}"
    );

    // Redis stopped (connections refused): 503 page and JSON, then a new Redis on the same
    // port. Its sessions are gone (it kept nothing), so ann is signed out; a new sign-in works.
    redis.stop();
    let phase = Instant::now();
    let outcome = call(&app, &ann).await;
    eprintln!(
        "Redis stopped: the API call answered {} in {:?}",
        outcome.0,
        phase.elapsed()
    );
    assert!(
        unavailable(&outcome),
        "Redis stopped, API call: {outcome:?}"
    );
    let (status, retry, text) = page(&format!("{app}/"), &ann).await;
    assert_eq!(status, 503, "Redis stopped, home page: {text}");
    assert_eq!(retry.as_deref(), Some("5"));
    assert!(text.contains("session store"), "{text}");
    let cid = Browser::new();
    let failed = sign_in_with(&cid, &app, "cid")
        .await
        .expect_err("no session without Redis");
    assert_eq!(failed.0, 503, "Redis stopped, sign-in: {}", failed.1);
    let _redis = Redis::start(redis_port).expect("redis-server again");
    // The app finds it again on its own (a client retrying after `Retry-After` would): the
    // session store's connection manager reconnects at the request after the one that failed.
    let back = Instant::now();
    let outcome = loop {
        let outcome = call(&app, &ann).await;
        if outcome.0 != 503 || back.elapsed() > Duration::from_secs(15) {
            break outcome;
        }
        actix_rt::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!(
        "Redis back: the app answered again after {:?}",
        back.elapsed()
    );
    assert_eq!(
        outcome.0, 401,
        "Redis back empty: ann's session is gone: {outcome:?}"
    );
    sign_in_with(&cid, &app, "cid")
        .await
        .expect("cid signs in once Redis is back");
    assert!(ok(&call(&app, &cid).await));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The library's own Redis token store (what an app shares between instances): paused, stopped
/// and restarted under it, each call ends on its own and the store recovers.
#[cfg(feature = "redis")]
#[actix_rt::test]
async fn the_redis_token_store_fails_fast_and_recovers() {
    use actix_oauth::{token_store::RedisTokenStore, ErrorKind, OAuthError, TokenStore as _};

    let port = free_port();
    let Some(mut redis) = Redis::start(port) else {
        common::say_skipped("redis-server not found: skipping the Redis token store faults test");
        return;
    };
    let store = RedisTokenStore::connect(&redis.url())
        .await
        .expect("connect");
    // Each call must end on its own (the store's timeouts); a hang fails the test after 10 s.
    let use_once = |key: &'static str| {
        let store = &store;
        async move {
            actix_rt::time::timeout(
                Duration::from_secs(10),
                store.use_once(key, Duration::from_secs(60)),
            )
            .await
            .unwrap_or_else(|_| panic!("use_once({key}) hung"))
        }
    };
    let unavailable = |result: Result<bool, OAuthError>| matches!(result, Err(e) if e.kind() == ErrorKind::Unavailable);
    assert!(use_once("a").await.unwrap());

    // Paused: a call fails with `Unavailable` after the timeout, then works once resumed.
    redis.signal("-STOP");
    assert!(unavailable(use_once("b").await));
    redis.signal("-CONT");
    let back = Instant::now();
    while use_once("c").await.is_err() {
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "the store did not come back after a pause"
        );
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }

    // Stopped: `Unavailable`; restarted empty on the same port: the store works again.
    redis.stop();
    assert!(unavailable(use_once("d").await));
    let _redis = Redis::start(port).expect("redis-server again");
    let back = Instant::now();
    loop {
        match use_once("e").await {
            Ok(fresh) => {
                assert!(fresh);
                break;
            }
            Err(e) => {
                assert_eq!(e.kind(), ErrorKind::Unavailable);
                assert!(
                    back.elapsed() < Duration::from_secs(15),
                    "the store did not come back after a restart"
                );
                actix_rt::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    eprintln!(
        "the Redis token store answered again {:?} after the restart",
        back.elapsed()
    );
}
