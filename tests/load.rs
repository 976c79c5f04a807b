//! Sign-in under load (issue 8): 10 000 complete sign-ins at concurrency 64 through the
//! `bench_server` example's app and the development provider, each simulated browser with its
//! own cookie jar, none failing and none seeing another browser's user; then 10 000 handshakes
//! started and never completed, with the process's resident memory bounded.
//!
//! The app and the driver are the ones `scripts/load-bench.sh` measures
//! (`examples/bench_server/app.rs`, `examples/signin_load/driver.rs`). Nothing here asserts a
//! time: the memory bound is a resource bound, generous for any machine.

mod common;

#[allow(dead_code)]
#[path = "../examples/bench_server/app.rs"]
mod app;
#[allow(dead_code)]
#[path = "../examples/signin_load/driver.rs"]
mod driver;

use std::net::TcpListener;

use actix_oauth::OAuthMiddleware;
use actix_session::storage::CookieSessionStore;
use actix_web::{cookie::Key, App};
use common::{serve_with, Serve};
use url::Url;

/// Complete sign-ins, and handshakes left in flight.
const COUNT: usize = 10_000;
/// Browsers at once.
const CONCURRENCY: usize = 64;
/// Development users: more than the browsers at once, so that browsers signing in together
/// approve as different users and a session handed to the wrong browser shows.
const USERS: usize = 128;
/// The resident memory the whole test process (app, provider and 10 000 browsers' cookie jars)
/// must stay under.
const MAX_RSS: u64 = 512 * 1024 * 1024;

#[actix_rt::test]
async fn ten_thousand_sign_ins_without_a_leak_and_handshakes_in_bounded_memory() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("local addr").port();
    let public_url = format!("http://127.0.0.1:{port}");
    let provider = app::dev_provider(
        ([127, 0, 0, 1], 0).into(),
        &format!("{public_url}/auth/dev/callback"),
        USERS,
    )
    .expect("development provider");
    let oauth = app::oauth(provider.url(), &public_url).expect("OAuth configuration");
    let key = Key::generate();
    let server = serve_with(
        Serve {
            workers: 2,
            ..Serve::default()
        },
        listener,
        move || {
            App::new()
                .app_data(oauth.clone())
                .wrap(OAuthMiddleware::new())
                .wrap(app::session_middleware(
                    CookieSessionStore::default(),
                    key.clone(),
                ))
                .configure(app::routes)
        },
    );

    let mut options = driver::Options {
        target: Url::parse(&format!("{public_url}/")).expect("URL"),
        count: COUNT,
        concurrency: CONCURRENCY,
        users: USERS,
        handshakes_only: false,
        provider: "dev".to_owned(),
    };
    let report = driver::run(&options).await;
    println!("sign-ins: {report}");
    assert!(
        report.is_clean() && report.completed == COUNT,
        "sign-ins: {report}"
    );

    options.handshakes_only = true;
    let report = driver::run(&options).await;
    let rss = driver::vm_rss(std::process::id()).expect("VmRSS of this process");
    println!(
        "handshakes in flight: {report}; VmRSS {:.1} MiB",
        rss as f64 / 1048576.0
    );
    assert!(
        report.is_clean() && report.completed == COUNT,
        "handshakes: {report}"
    );
    assert!(
        rss < MAX_RSS,
        "VmRSS {rss} bytes with {COUNT} handshakes in flight"
    );
    server.handle.stop(false).await;
}
