//! The server `scripts/load-bench.sh` loads: `/auth/dev` (the crate's authorization redirect)
//! next to `/floor` (one session value and a redirect) under the same session middleware and
//! worker count, and complete sign-ins with the development provider. See `app.rs` for the
//! routes and BENCHMARKS.md for the figures.
//!
//! ```text
//! # the app, with a development provider in the same process:
//! cargo run --release --example bench_server -- --bind 127.0.0.1:8090
//! # or the provider in a process of its own, so that the app's CPU time is the app's alone:
//! cargo run --release --example bench_server -- --provider-only --bind 127.0.0.1:8091 \
//!     --callback http://127.0.0.1:8090/auth/dev/callback
//! cargo run --release --example bench_server -- --bind 127.0.0.1:8090 --provider http://127.0.0.1:8091/
//! ```
//!
//! Options: `--oidc` (sign in with OpenID Connect: discovery, RS256 ID tokens; the minimal app
//! BENCHMARKS.md compares with the hand-written peer), `--bind ADDR` (default `127.0.0.1:8090`),
//! `--workers N` (default 1), `--users N`
//! development users `user0…` (default 64). `REDIS_URL` keeps sessions in Redis (keys prefixed
//! `actix-oauth-bench:`, living 15 minutes), with `SESSION_KEY` (64+ bytes) as the cookie key.

mod app;

use std::net::SocketAddr;

use actix_oauth::OAuthMiddleware;
use actix_session::storage::{CookieSessionStore, RedisSessionStore, SessionStore};
use actix_web::{cookie::Key, App, HttpServer};
use url::Url;

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
    }
    None
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn fail(message: String) -> std::io::Error {
    eprintln!("bench_server: {message}");
    std::process::exit(2)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let bind: SocketAddr = arg("--bind")
        .unwrap_or_else(|| "127.0.0.1:8090".to_owned())
        .parse()
        .map_err(|e| fail(format!("--bind: {e}")))?;
    let users: usize = arg("--users")
        .map(|n| n.parse().map_err(|e| fail(format!("--users: {e}"))))
        .transpose()?
        .unwrap_or(64);

    if flag("--provider-only") {
        let callback = arg("--callback")
            .ok_or_else(|| fail("--provider-only needs --callback URL".to_owned()))?;
        let provider = app::dev_provider(bind, &callback, users)?;
        println!(
            "development provider on {} (issuer {})",
            provider.url(),
            provider.issuer()
        );
        // The provider serves from its own thread until the process is stopped.
        loop {
            actix_rt::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    }

    let workers: usize = arg("--workers")
        .map(|n| n.parse().map_err(|e| fail(format!("--workers: {e}"))))
        .transpose()?
        .unwrap_or(1);
    let public_url = format!("http://{bind}");
    let mut _in_process = None;
    let provider = match arg("--provider") {
        Some(url) => Url::parse(&url).map_err(|e| fail(format!("--provider: {e}")))?,
        None => {
            let callback = format!("{public_url}/auth/dev/callback");
            let provider = app::dev_provider(([127, 0, 0, 1], 0).into(), &callback, users)?;
            let url = provider.url().clone();
            _in_process = Some(provider);
            url
        }
    };
    // `--oidc`: an OpenID Connect client of the provider's issuer (its base URL).
    let oauth = if flag("--oidc") {
        app::oauth_oidc(provider.as_str().trim_end_matches('/'), &public_url)
    } else {
        app::oauth(&provider, &public_url)
    }
    .map_err(|e| fail(e.to_string()))?;
    let key = match std::env::var("SESSION_KEY") {
        Ok(secret) if secret.len() >= 64 => Key::from(secret.as_bytes()),
        Ok(_) => return Err(fail("SESSION_KEY: must be at least 64 bytes".to_owned())),
        Err(_) => Key::generate(),
    };
    let sessions = if std::env::var_os("REDIS_URL").is_some() {
        "redis"
    } else {
        "cookie"
    };
    println!(
        "bench_server on {public_url} ({workers} worker(s), {sessions} sessions), provider {provider}"
    );
    match std::env::var("REDIS_URL") {
        Ok(url) => {
            let store = RedisSessionStore::builder(url)
                .cache_keygen(|key| format!("actix-oauth-bench:{key}"))
                .build()
                .await
                .map_err(|e| fail(format!("REDIS_URL: {e}")))?;
            serve(bind, workers, oauth, move || store.clone(), key).await
        }
        Err(_) => serve(bind, workers, oauth, CookieSessionStore::default, key).await,
    }
}

async fn serve<S: SessionStore + 'static>(
    bind: SocketAddr,
    workers: usize,
    oauth: actix_oauth::OAuthExtension,
    store: impl Fn() -> S + Send + Clone + 'static,
    key: Key,
) -> std::io::Result<()> {
    HttpServer::new(move || {
        App::new()
            .app_data(oauth.clone())
            .wrap(OAuthMiddleware::new())
            .wrap(app::session_middleware(store(), key.clone()))
            .configure(app::routes)
    })
    .workers(workers)
    .backlog(4096)
    .bind(bind)?
    .run()
    .await
}
