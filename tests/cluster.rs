//! A real cluster (issue 19): three instances of the example server (the real binary) behind a
//! round-robin TCP balancer started by the test, sessions in Redis, accounts and tokens in
//! PostgreSQL, and the development provider (strict: refresh tokens rotate, a reused one revokes
//! the grant) with short-lived access tokens. Twenty users each fire fifty concurrent API calls
//! spread over the instances after their token expired: exactly one refresh per user, every call
//! answered, nobody signed out. Then one instance is killed in the middle of such a burst.
//!
//! Needs `REDIS_URL` and a PostgreSQL `DATABASE_URL` (as `.ci/run` sets them); skipped with a
//! message without them. The example binary must be built (`cargo test` builds it; alone:
//! `cargo build --all-features --example server`).
#![cfg(feature = "accounts")]

mod common;

use std::{
    net::SocketAddr,
    rc::Rc,
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use actix_oauth_dev::{DevProvider, DevUser};
use common::{
    example::{idp_config, wait_healthy, Instance, TOKEN_KEY},
    Browser,
};
use futures_util::future::join_all;

const USERS: usize = 20;
const CALLS: usize = 50;

/// A round-robin TCP balancer: each connection goes to the next backend that accepts it.
struct Balancer {
    backends: Vec<SocketAddr>,
    next: AtomicUsize,
    /// Connections each backend took.
    served: Vec<AtomicUsize>,
}

impl Balancer {
    fn start(listener: std::net::TcpListener, backends: Vec<SocketAddr>) -> Arc<Self> {
        let balancer = Arc::new(Self {
            served: backends.iter().map(|_| AtomicUsize::new(0)).collect(),
            backends,
            next: AtomicUsize::new(0),
        });
        listener.set_nonblocking(true).expect("nonblocking");
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
        let this = Arc::clone(&balancer);
        actix_rt::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let this = Arc::clone(&this);
                actix_rt::spawn(async move {
                    let first = this.next.fetch_add(1, Ordering::SeqCst);
                    for i in 0..this.backends.len() {
                        let which = (first + i) % this.backends.len();
                        if let Ok(mut server) =
                            tokio::net::TcpStream::connect(this.backends[which]).await
                        {
                            this.served[which].fetch_add(1, Ordering::SeqCst);
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                            return;
                        }
                    }
                });
            }
        });
        balancer
    }
}

/// Signs `user` in through the balancer; the browser holding the session.
async fn sign_in(balancer: &str, user: &str) -> Browser {
    let browser = Browser::new();
    let start = browser.get(&format!("{balancer}/auth/idp")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let authorize = url::Url::parse(start.location.as_deref().expect("to the provider")).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), user.into()));
    let mut post = authorize.clone();
    post.set_query(None);
    let back = browser.post_form(post.as_str(), &form).await;
    let callback = back.location.expect("back to the app");
    let done = browser.get(&callback).await;
    assert_eq!(done.status, 303, "{}", done.text());
    browser
}

/// What one API call came to: the app's status and the provider's, or a transport failure.
#[derive(Debug, PartialEq)]
enum Outcome {
    Answered(u16, serde_json::Value),
    Failed(String),
}

/// One API call on a connection of its own (so the balancer spreads them).
async fn call(client: &awc::Client, balancer: &str, cookies: &str) -> Outcome {
    let sent = client
        .get(format!("{balancer}/api/idp/me"))
        .insert_header(("cookie", cookies))
        .insert_header(("connection", "close"))
        .send()
        .await;
    match sent {
        Ok(mut response) => {
            let status = response.status().as_u16();
            match response.body().await {
                Ok(body) => Outcome::Answered(
                    status,
                    serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                ),
                Err(e) => Outcome::Failed(e.to_string()),
            }
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// Every user's `CALLS` calls at once; after `on_answers` answers, `midway` runs once.
async fn burst(
    client: &awc::Client,
    balancer: &str,
    cookies: &[String],
    on_answers: usize,
    midway: impl FnMut(usize, &Outcome) -> bool + 'static,
) -> Vec<Vec<Outcome>> {
    let answered = Rc::new(AtomicUsize::new(0));
    // Asked at every answer from the `on_answers`th on, until it says it is done.
    let done = Rc::new(std::cell::Cell::new(false));
    let midway = Rc::new(std::cell::RefCell::new(midway));
    let users = cookies.iter().enumerate().map(|(user, cookies)| {
        let (answered, midway, done) = (&answered, &midway, &done);
        let calls = (0..CALLS).map(move |_| {
            let answered = Rc::clone(answered);
            let midway = Rc::clone(midway);
            let done = Rc::clone(done);
            async move {
                let outcome = call(client, balancer, cookies).await;
                if answered.fetch_add(1, Ordering::SeqCst) + 1 >= on_answers && !done.get() {
                    done.set((midway.borrow_mut())(user, &outcome));
                }
                outcome
            }
        });
        join_all(calls)
    });
    join_all(users).await
}

/// Whether an outcome is a 200 from the app whose provider call was a 200 as well.
fn ok(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Answered(200, body) if body["status"] == 200)
}

#[actix_rt::test]
async fn three_instances_refresh_once_per_user_and_survive_losing_one() {
    let (Ok(redis), Ok(database)) = (std::env::var("REDIS_URL"), std::env::var("DATABASE_URL"))
    else {
        common::say_skipped(
            "REDIS_URL or DATABASE_URL unset: skipping the three-instance cluster test",
        );
        return;
    };
    if !database.starts_with("postgres") {
        common::say_skipped("DATABASE_URL is not PostgreSQL: skipping the cluster test");
        return;
    }
    let started = Instant::now();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("balancer port");
    let balancer = format!("http://{}", listener.local_addr().unwrap());
    let mut builder = DevProvider::builder()
        .client(
            "cluster",
            "cluster-secret",
            [format!("{balancer}/auth/idp/callback")],
        )
        // Expired at once (within the 30 s a token is refreshed before its expiry).
        .token_lifetime(Duration::from_secs(1));
    let users: Vec<String> = (0..USERS).map(|i| format!("user{i:02}")).collect();
    for user in &users {
        builder = builder.user(DevUser::new(user.as_str()).email(format!("{user}@example.test")));
    }
    let provider = Rc::new(builder.start().expect("dev provider"));

    let (dir, config) = idp_config(
        "cluster",
        provider.issuer(),
        provider.api_url().as_str(),
        "cluster",
    );
    let env = [
        ("REDIS_URL", redis),
        ("DATABASE_URL", database),
        ("PUBLIC_URL", balancer.clone()),
        ("SESSION_KEY", "c".repeat(64)),
        ("TOKEN_KEY", TOKEN_KEY.to_owned()),
        ("ACTIX_OAUTH_DATA_DIR", dir.display().to_string()),
    ];
    let args = ["--config", config.to_str().unwrap()];
    let mut instances: Vec<Instance> = (0..3).map(|_| Instance::start(&env, &args)).collect();
    for instance in &instances {
        wait_healthy(&format!("http://{}", instance.addr())).await;
    }
    let lb = Balancer::start(listener, instances.iter().map(Instance::addr).collect());
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .connector(awc::Connector::new().limit(256))
        .finish();

    // Round one: every user's token is due; fifty calls each, all at once, over three instances.
    let browsers = join_all(users.iter().map(|user| sign_in(&balancer, user))).await;
    provider.set_token_lifetime(Duration::from_secs(3600));
    let cookies: Vec<String> = browsers.iter().map(Browser::cookies).collect();
    let (refreshes, reuses) = (provider.refreshes(), provider.refresh_reuses());
    let round = Instant::now();
    let outcomes = burst(&client, &balancer, &cookies, usize::MAX, |_, _| true).await;
    let took = round.elapsed();
    let answered_ok = outcomes.iter().flatten().filter(|o| ok(o)).count();
    let spread: Vec<usize> = lb.served.iter().map(|n| n.load(Ordering::SeqCst)).collect();
    eprintln!(
        "cluster round one: {answered_ok}/{} calls answered 200 in {took:?}; the provider saw {} \
         refreshes and {} reused refresh tokens; connections per instance {spread:?}",
        USERS * CALLS,
        provider.refreshes() - refreshes,
        provider.refresh_reuses() - reuses,
    );
    for (user, outcomes) in users.iter().zip(&outcomes) {
        let bad: Vec<_> = outcomes.iter().filter(|o| !ok(o)).collect();
        assert!(
            bad.is_empty(),
            "{user}: {} failed, e.g. {:?}",
            bad.len(),
            bad[0]
        );
    }
    assert_eq!(
        provider.refresh_reuses() - reuses,
        0,
        "a refresh token was reused"
    );
    assert_eq!(
        provider.refreshes() - refreshes,
        USERS,
        "exactly one refresh per user"
    );
    assert!(spread.iter().all(|n| *n >= CALLS), "{spread:?}");
    // Nobody was signed out: each user is still who they were, and calls on without refreshing.
    for (user, browser) in users.iter().zip(&browsers) {
        let me = browser.get(&format!("{balancer}/me")).await;
        assert_eq!(me.status, 200, "{user}: {}", me.text());
        let again = call(&client, &balancer, &browser.cookies()).await;
        assert!(ok(&again), "{user}: {again:?}");
    }
    assert_eq!(provider.refreshes() - refreshes, USERS);

    // Round two: fresh sign-ins with due tokens, and the third instance is killed once a
    // hundred calls were answered and every user's refresh is done and published (each user
    // answered with the refreshed token). (An instance that dies
    // between the provider's rotation and publishing the new token would leave the old refresh
    // token to be reused: no lease can prevent that, README "Running several instances".)
    provider.set_token_lifetime(Duration::from_secs(1));
    let browsers = join_all(users.iter().map(|user| sign_in(&balancer, user))).await;
    provider.set_token_lifetime(Duration::from_secs(3600));
    let cookies: Vec<String> = browsers.iter().map(Browser::cookies).collect();
    let (refreshes, reuses) = (provider.refreshes(), provider.refresh_reuses());
    let victim = instances.pop().expect("three instances");
    let killed = Rc::new(AtomicBool::new(false));
    let victim = Rc::new(std::cell::RefCell::new(victim));
    let outcomes = {
        let (killed, victim) = (Rc::clone(&killed), Rc::clone(&victim));
        let provider = Rc::clone(&provider);
        // Every user answered 200 at least once: their tokens were due, so that answer used the
        // refreshed token, which came after the refresh was published (the holder publishes
        // before it answers, the others answer with what was published) — no refresh is left
        // unpublished. (Counting answers of anyone after the provider's last rotation instead
        // let the kill fall between one user's rotation and its publication when loaded.)
        let mut answers = 0;
        let mut answered_ok = std::collections::HashSet::new();
        burst(&client, &balancer, &cookies, 0, move |user, outcome| {
            answers += 1;
            if ok(outcome) {
                answered_ok.insert(user);
            }
            if answers < 100
                || answered_ok.len() < USERS
                || provider.refreshes() - refreshes < USERS
            {
                return false;
            }
            victim.borrow_mut().kill();
            killed.store(true, Ordering::SeqCst);
            true
        })
        .await
    };
    assert!(killed.load(Ordering::SeqCst));
    let all: Vec<&Outcome> = outcomes.iter().flatten().collect();
    let answered_ok = all.iter().filter(|o| ok(o)).count();
    let failed: Vec<&&Outcome> = all.iter().filter(|o| !ok(o)).collect();
    eprintln!(
        "cluster round two (one instance killed after 100 answers): {answered_ok}/{} answered \
         200, {} lost with the killed instance; {} refreshes, {} reused refresh tokens",
        all.len(),
        failed.len(),
        provider.refreshes() - refreshes,
        provider.refresh_reuses() - reuses,
    );
    // What the killed instance was answering is lost on the wire; every answer is a 200.
    for outcome in &failed {
        assert!(matches!(outcome, Outcome::Failed(_)), "{outcome:?}");
    }
    assert!(answered_ok >= all.len() / 2, "the others did not carry on");
    assert_eq!(
        provider.refresh_reuses() - reuses,
        0,
        "a refresh token was reused"
    );
    // Every user's next calls succeed on the instances left, without another refresh. A
    // client's pooled connection that the balancer dropped with the dead instance fails once
    // at the connection level, as it would for any client: one call each first, its outcome
    // not counted, as a client's retry.
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(20))
        .finish();
    let _ = join_all(cookies.iter().map(|c| call(&client, &balancer, c))).await;
    for browser in &browsers {
        let _ = browser.try_get(&format!("{balancer}/me")).await;
    }
    let after = burst(&client, &balancer, &cookies, usize::MAX, |_, _| true).await;
    for (user, outcomes) in users.iter().zip(&after) {
        let bad: Vec<_> = outcomes.iter().filter(|o| !ok(o)).collect();
        assert!(
            bad.is_empty(),
            "{user}: {} failed, e.g. {:?}",
            bad.len(),
            bad[0]
        );
    }
    for (user, browser) in users.iter().zip(&browsers) {
        let me = browser.get(&format!("{balancer}/me")).await;
        assert_eq!(me.status, 200, "{user}: {}", me.text());
    }
    assert_eq!(provider.refreshes() - refreshes, USERS);
    eprintln!("cluster test took {:?}", started.elapsed());
    drop(instances);
    let _ = std::fs::remove_dir_all(&dir);
}
