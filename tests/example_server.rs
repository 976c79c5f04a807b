//! The example server as users run it: the real binary, configured by a TOML file and the
//! environment. Two instances share one Redis (sessions) and one accounts database, and a
//! handshake begun on one completes on the other, as behind a load balancer.
#![cfg(feature = "accounts")]

mod common;

use std::{
    io::{BufRead as _, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
};

use actix_oauth_dev::DevProvider;
use common::{
    example::{free_port, server_bin, temp_dir},
    Browser,
};

/// A running example server; killed when dropped.
struct Instance {
    child: Child,
    port: u16,
    /// The first line it printed (where it listens, which providers).
    line: String,
    /// The data directory made for it when the test named none (so nothing lands in the real
    /// home directory); removed when dropped.
    own_data_dir: Option<PathBuf>,
}

impl Instance {
    fn start(envs: &[(&str, String)], args: &[&str]) -> Result<Self, String> {
        let port = free_port();
        let own_data_dir = (!envs.iter().any(|(k, _)| *k == "ACTIX_OAUTH_DATA_DIR"))
            .then(|| temp_dir("example-data"));
        let mut cmd = Command::new(server_bin());
        cmd.args(args)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env_remove("REDIS_URL")
            .env_remove("DATABASE_URL")
            .env_remove("ACTIX_OAUTH_CONFIG")
            .env_remove("ACTIX_OAUTH_DEV_PROVIDER")
            .env_remove("TOKEN_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(dir) = &own_data_dir {
            cmd.env("ACTIX_OAUTH_DATA_DIR", dir);
        }
        let mut port = port;
        for (k, v) in envs {
            cmd.env(k, v);
            if *k == "BIND" {
                port = v
                    .rsplit(':')
                    .next()
                    .and_then(|p| p.parse().ok())
                    .expect("BIND port");
            }
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("{}: {e}", server_bin().display()))?;
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        // The server prints one line once it listens; a configuration error exits instead.
        let read = BufReader::new(stdout).read_line(&mut line);
        if read.map(|n| n == 0).unwrap_or(true) {
            let output = child.wait_with_output().map_err(|e| e.to_string())?;
            if let Some(dir) = &own_data_dir {
                let _ = std::fs::remove_dir_all(dir);
            }
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        assert!(line.contains("listening on"), "{line}");
        Ok(Self {
            child,
            port,
            line,
            own_data_dir,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Stops the server; what it wrote to stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut text = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut stderr, &mut text);
        }
        text
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.own_data_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Waits until the instance answers on `/healthz`.
async fn wait_healthy(instance: &Instance) {
    common::example::wait_healthy(&instance.url("")).await;
}

#[actix_rt::test]
async fn a_bad_configuration_stops_the_server_naming_the_field() {
    let dir = std::env::temp_dir().join(format!("actix-oauth-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[providers.github]\nkind = \"oauth2\"\npreset = \"github\"\nclient_id = \"x\"\n",
    )
    .unwrap();
    let err = Instance::start(&[], &["--config", bad.to_str().unwrap()])
        .err()
        .expect("refused");
    assert!(err.contains("consumer_secret"), "{err}");
    std::fs::write(
        &bad,
        "[providers.gh]\nkind = \"oauth2\"\nclient_idd = \"x\"\n",
    )
    .unwrap();
    let err = Instance::start(&[], &["--config", bad.to_str().unwrap()])
        .err()
        .expect("refused");
    assert!(err.contains("client_idd"), "{err}");
    std::fs::write(
        &bad,
        "[providers.gh]\nkind = \"oauth2\"\npreset = \"nope\"\n",
    )
    .unwrap();
    let err = Instance::start(&[], &["--config", bad.to_str().unwrap()])
        .err()
        .expect("refused");
    assert!(err.contains("providers.gh.preset"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_rt::test]
async fn two_instances_share_sessions_through_redis() {
    let Ok(redis) = std::env::var("REDIS_URL") else {
        common::say_skipped("REDIS_URL unset: skipping the two-instance Redis session test");
        return;
    };
    // The origin both instances sit behind; the browser is sent to one or the other.
    let balancer = format!("http://127.0.0.1:{}", free_port());
    let provider = DevProvider::builder()
        .client(
            "shared-app",
            "shared-secret",
            [format!("{balancer}/auth/corp/callback")],
        )
        .start()
        .expect("dev provider");
    let dir = temp_dir("two");
    let config = dir.join("providers.toml");
    std::fs::write(
        &config,
        format!(
            "dev_provider = false\n[providers.corp]\nkind = \"oauth2\"\nclient_id = \"shared-app\"\nclient_secret = \"shared-secret\"\n\
             authorize_url = \"{}\"\naccess_token_url = \"{}\"\nuserinfo_url = \"{}\"\nbase_url = \"{}\"\nscope = \"openid profile email\"\n",
            provider.authorize_url(),
            provider.token_url(),
            provider.userinfo_url(),
            provider.api_url()
        ),
    )
    .unwrap();
    // Accounts in the machine's PostgreSQL when there is one (as deployed), else a SQLite file.
    let database = match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => url,
        _ => format!(
            "sqlite://{}?mode=rwc",
            dir.join("accounts.sqlite3").display()
        ),
    };
    let env = [
        ("REDIS_URL", redis),
        ("DATABASE_URL", database),
        ("PUBLIC_URL", balancer.clone()),
        ("SESSION_KEY", "k".repeat(64)),
        // Both instances read the tokens either stored.
        (
            "TOKEN_KEY",
            "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0=".to_owned(),
        ),
    ];
    let args = ["--config", config.to_str().unwrap()];
    let a = Instance::start(&env, &args).expect("instance a");
    let b = Instance::start(&env, &args).expect("instance b");
    wait_healthy(&a).await;
    wait_healthy(&b).await;

    let browser = Browser::new();
    // Begin on A.
    let start = browser.get(&a.url("/auth/corp?next=/me")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let authorize = url::Url::parse(start.location.as_deref().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), "alice".into()));
    let mut post = authorize.clone();
    post.set_query(None);
    let back = browser.post_form(post.as_str(), &form).await;
    let callback = back.location.expect("redirect to the balancer");
    assert!(callback.starts_with(&balancer), "{callback}");
    // The balancer routes the callback to B, which completes the handshake A began.
    let on_b = callback.replacen(&balancer, &b.url(""), 1);
    let done = browser.get(&on_b).await;
    assert_eq!(done.status, 303, "{}", done.text());
    assert_eq!(done.location.as_deref(), Some("/me"));

    let me_a = browser.get(&a.url("/me")).await;
    assert_eq!(me_a.status, 200, "{}", me_a.text());
    assert_eq!(me_a.json()["identities"][0]["provider"], "corp");
    let me_b = browser.get(&b.url("/me")).await;
    assert_eq!(me_b.json()["user_id"], me_a.json()["user_id"]);

    // Signing out on B signs out on A: even a copy of the old session cookie is dead there.
    let old_cookie = browser.fork();
    let out = browser.post_form(&b.url("/logout"), &[]).await;
    assert_eq!(out.status, 303);
    assert_eq!(browser.get(&a.url("/me")).await.status, 401);
    assert_eq!(old_cookie.get(&a.url("/me")).await.status, 401);
    drop((a, b));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Approves the development provider's consent page the browser was sent to; returns the
/// redirect back to the app.
async fn approve(browser: &Browser, authorize: &str, oauth1: bool) -> String {
    let url = url::Url::parse(authorize).unwrap();
    let mut form: Vec<(String, String)> = url
        .query_pairs()
        .into_owned()
        .filter(|(k, _)| !oauth1 || k == "oauth_token")
        .collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), "bob".into()));
    let mut post = url.clone();
    post.set_query(None);
    let back = browser.post_form(post.as_str(), &form).await;
    assert_eq!(back.status, 302, "{}", back.text());
    back.location.unwrap()
}

#[actix_rt::test]
async fn offline_defaults_sign_in_link_unlink_and_call() {
    let dir = temp_dir("one");
    let database = format!(
        "sqlite://{}?mode=rwc",
        dir.join("accounts.sqlite3").display()
    );
    let server = Instance::start(&[("DATABASE_URL", database)], &[]).expect("server");
    wait_healthy(&server).await;
    let browser = Browser::new();
    assert_eq!(browser.get(&server.url("/me")).await.status, 401);

    for (provider, oauth1) in [("dev", false), ("dev-oauth1", true)] {
        let mut start = browser.get(&server.url(&format!("/auth/{provider}"))).await;
        if provider == "dev-oauth1" {
            // Signed in, a GET only asks for confirmation: linking needs a POST with the
            // session's CSRF token (login CSRF, CVE-2015-9284).
            assert_eq!(start.status, 200, "{}", start.text());
            let csrf = csrf_of(&start.text());
            let url = server.url(&format!("/auth/{provider}"));
            let forged = browser
                .post_form(&url, &[("csrf".to_owned(), "forged".to_owned())])
                .await;
            assert_eq!(forged.status, 403, "{}", forged.text());
            assert!(forged.text().contains("csrf_mismatch"));
            start = browser.post_form(&url, &[("csrf".to_owned(), csrf)]).await;
        }
        assert_eq!(start.status, 302, "{}", start.text());
        let back = approve(&browser, start.location.as_deref().unwrap(), oauth1).await;
        let done = browser.get(&back).await;
        assert_eq!(done.status, 303, "{provider}: {}", done.text());
    }
    let me = browser.get(&server.url("/me")).await.json();
    assert_eq!(me["name"], "Bob Example", "{me}");
    assert_eq!(me["identities"].as_array().unwrap().len(), 2, "{me}");

    let api = browser.get(&server.url("/api/dev-oauth1/me")).await.json();
    assert_eq!(api["status"], 200, "{api}");
    assert_eq!(api["data"]["screen_name"], "bob");
    let api = browser.get(&server.url("/api/dev/me")).await.json();
    assert_eq!(api["data"]["preferred_username"], "bob", "{api}");
    // One link to an absolute URL elsewhere must not carry the user's token there (issue 13.1).
    let evil = common::FakeProvider::answering(common::Answer::json("{}"));
    for provider in ["dev", "dev-oauth1"] {
        let url = server.url(&format!("/api/{provider}/{}", evil.url("steal")));
        let page = browser.get(&url).await;
        assert_eq!(page.status, 400, "{provider}: {}", page.text());
        assert!(page.text().contains("url_refused"), "{}", page.text());
    }
    assert!(evil.requests().is_empty(), "a token went to another host");

    let csrf = csrf_of(&browser.get(&server.url("/")).await.text());
    let unlink = |subject: &str, provider: &str| {
        vec![
            ("csrf".to_owned(), csrf.clone()),
            ("provider".to_owned(), provider.to_owned()),
            ("subject".to_owned(), subject.to_owned()),
        ]
    };
    let forged = browser
        .post_form(
            &server.url("/unlink"),
            &[
                ("provider".to_owned(), "dev-oauth1".to_owned()),
                ("subject".to_owned(), "dev-bob".to_owned()),
                ("csrf".to_owned(), String::new()),
            ],
        )
        .await;
    assert_eq!(forged.status, 403, "unlink without the CSRF token");
    let page = browser
        .post_form(&server.url("/unlink"), &unlink("dev-bob", "dev-oauth1"))
        .await;
    assert_eq!(page.status, 303);
    let me = browser.get(&server.url("/me")).await.json();
    assert_eq!(me["identities"].as_array().unwrap().len(), 1, "{me}");
    let page = browser
        .post_form(&server.url("/unlink"), &unlink("dev-bob", "dev"))
        .await;
    let location = page.location.unwrap();
    assert!(location.contains("only+identity"), "{location}");
    let home = browser.get(&server.url(&location)).await.text();
    assert!(
        home.contains("You cannot unlink your only identity."),
        "{home}"
    );
    // Signing out deletes the session's tokens server-side: a copy of the cookie calls nothing.
    let copied = browser.fork();
    assert_eq!(
        copied.get(&server.url("/api/dev/me")).await.json()["status"],
        200
    );
    let out = browser.post_form(&server.url("/logout"), &[]).await;
    assert_eq!(out.status, 303);
    let page = copied.get(&server.url("/api/dev/me")).await;
    assert_eq!(page.status, 401, "{}", page.text());
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The CSRF token in a page's hidden `csrf` field.
fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a csrf field") + marker.len();
    let end = page[start..].find('"').expect("end of the csrf value") + start;
    page[start..end].to_owned()
}

/// The TOML takes every URL a remote app has (`emails_url` among them), and the one setting of a
/// preset with a self-hosted or tenant form (`host`, or `tenant`), from which every URL of the
/// preset derives; `pkce` and `insecure_allow_code_injection` too. Unknown keys, a host for a
/// preset without one and a LinkedIn that nothing binds still stop the server naming the field.
#[actix_rt::test]
async fn toml_takes_every_url_and_a_presets_host_or_tenant() {
    let dir = temp_dir("hosts");
    let config = dir.join("providers.toml");
    // Nothing listens on the hosts: only where the browser is sent is checked.
    let ghe = format!("http://127.0.0.1:{}", free_port());
    std::fs::write(
        &config,
        format!(
            r#"dev_provider = false

[providers.ghe]
kind = "oauth2"
preset = "github"
host = "{ghe}"
client_id = "ghe-app"
client_secret = "x"

[providers.gitlab]
kind = "oidc"
preset = "gitlab"
host = "https://gitlab.corp.example"
client_id = "x"
client_secret = "x"

[providers.contoso]
kind = "oidc"
preset = "microsoft"
tenant = "contoso.onmicrosoft.com"
client_id = "x"
client_secret = "x"

[providers.sso]
kind = "oidc"
preset = "keycloak"
host = "https://sso.corp.example/realms/acme"
client_id = "x"
client_secret = "x"

[providers.linkedin]
kind = "oidc"
preset = "linkedin"
pkce = true
client_id = "x"
client_secret = "x"

[providers.corp]
kind = "oauth2"
authorize_url = "https://login.corp.example/authorize"
access_token_url = "token"
base_url = "https://login.corp.example/api"
userinfo_url = "me"
emails_url = "me/emails"
dpop = true
client_id = "x"
client_secret = "x"
"#
        ),
    )
    .unwrap();
    let database = format!(
        "sqlite://{}?mode=rwc",
        dir.join("accounts.sqlite3").display()
    );
    let server = Instance::start(
        &[("DATABASE_URL", database)],
        &["--config", config.to_str().unwrap()],
    )
    .expect("the configuration is accepted");
    wait_healthy(&server).await;
    let start = Browser::new().get(&server.url("/auth/ghe")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let location = start.location.expect("to the provider");
    assert!(
        location.starts_with(&format!("{ghe}/login/oauth/authorize?")),
        "{location}"
    );
    assert!(location.contains("client_id=ghe-app"), "{location}");
    drop(server);

    let refused = |table: &str| {
        std::fs::write(&config, format!("dev_provider = false\n{table}")).unwrap();
        Instance::start(&[], &["--config", config.to_str().unwrap()])
            .err()
            .expect("refused")
    };
    let err = refused(
        "[providers.tw]\nkind = \"oauth1\"\npreset = \"twitter\"\nhost = \"https://x.example\"\nclient_id = \"x\"\nclient_secret = \"x\"\n",
    );
    assert!(err.contains("providers.tw.host"), "{err}");
    let err = refused(
        "[providers.x]\nkind = \"oauth2\"\nhost = \"https://x.example\"\nclient_id = \"x\"\nclient_secret = \"x\"\n",
    );
    assert!(err.contains("providers.x.host"), "{err}");
    // A preset with no shared host needs its `host`.
    let err = refused(
        "[providers.okta]\nkind = \"oidc\"\npreset = \"okta\"\nclient_id = \"x\"\nclient_secret = \"x\"\n",
    );
    assert!(err.contains("`Okta::org` (`host`"), "{err}");
    let err = refused(
        "[providers.linkedin]\nkind = \"oidc\"\npreset = \"linkedin\"\nclient_id = \"x\"\nclient_secret = \"x\"\n",
    );
    assert!(err.contains("insecure_allow_code_injection"), "{err}");
    let err = refused(
        "[providers.gh]\nkind = \"oauth2\"\npreset = \"github\"\nemails_uri = \"x\"\nclient_id = \"x\"\nclient_secret = \"x\"\n",
    );
    assert!(err.contains("emails_uri"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A TOML file in `dir` naming one real provider (GitHub's preset; nothing is fetched at start)
/// and `extra` lines at the top.
fn real_provider_config(dir: &std::path::Path, extra: &str) -> PathBuf {
    let path = dir.join(format!("providers-{}.toml", free_port()));
    std::fs::write(
        &path,
        format!(
            "{extra}\n[providers.github]\nkind = \"oauth2\"\npreset = \"github\"\n\
             client_id = \"example-id\"\nclient_secret = \"example-secret\"\n"
        ),
    )
    .unwrap();
    path
}

const DEV_WARNING: &str =
    "warning: the development provider (dev, dev-form-post, dev-oauth1) is on";

#[actix_rt::test]
async fn dev_provider_only_without_providers_or_when_asked() {
    let dir = temp_dir("dev-switch");
    let browser = Browser::new();

    // A configuration naming a real provider: no password-less sign-in next to it.
    let config = real_provider_config(&dir, "");
    let server = Instance::start(&[], &["--config", config.to_str().unwrap()]).expect("server");
    wait_healthy(&server).await;
    assert!(
        server.line.trim_end().ends_with("providers: github"),
        "{}",
        server.line
    );
    let dev = browser.get(&server.url("/auth/dev")).await;
    assert_eq!(dev.status, 404, "{}", dev.text());
    assert_eq!(
        browser.get(&server.url("/auth/dev-oauth1")).await.status,
        404
    );
    let github = browser.get(&server.url("/auth/github")).await;
    assert_eq!(github.status, 302, "{}", github.text());
    assert!(github
        .location
        .as_deref()
        .is_some_and(|l| l.starts_with("https://github.com/login/oauth/authorize")));
    let stderr = server.stop();
    assert!(!stderr.contains("warning"), "{stderr}");

    // Asked for, by flag, TOML switch or environment: there, with a warning at start.
    let switched = real_provider_config(&dir, "dev_provider = true");
    let config = config.to_str().unwrap();
    let by_env = [("ACTIX_OAUTH_DEV_PROVIDER", "1".to_owned())];
    let cases = [
        (&[][..], vec!["--config", config, "--dev-provider"]),
        (&[][..], vec!["--config", switched.to_str().unwrap()]),
        (&by_env[..], vec!["--config", config]),
    ];
    for (envs, args) in cases {
        let server = Instance::start(envs, &args).expect("server");
        wait_healthy(&server).await;
        assert!(
            server
                .line
                .contains("providers: dev, dev-form-post, dev-oauth1, github"),
            "{args:?}: {}",
            server.line
        );
        let dev = browser.get(&server.url("/auth/dev")).await;
        assert_eq!(dev.status, 302, "{args:?}: {}", dev.text());
        assert!(dev
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("http://127.0.0.1:")));
        let stderr = server.stop();
        assert!(stderr.contains(DEV_WARNING), "{args:?}: {stderr}");
    }

    // No configuration: the development provider, as ever, and no warning.
    let server = Instance::start(&[], &[]).expect("server");
    wait_healthy(&server).await;
    assert!(server.line.contains("dev-oauth1"), "{}", server.line);
    assert_eq!(browser.get(&server.url("/auth/dev")).await.status, 302);
    assert!(!server.stop().contains("warning"));

    // Switched off with nothing else: nothing to sign in with, said at start.
    let empty = dir.join("empty.toml");
    std::fs::write(&empty, "dev_provider = false\n").unwrap();
    let err = Instance::start(&[], &["--config", empty.to_str().unwrap()])
        .err()
        .expect("refused");
    assert!(err.contains("no providers"), "{err}");
    let err = Instance::start(&[("ACTIX_OAUTH_DEV_PROVIDER", "maybe".to_owned())], &[])
        .err()
        .expect("refused");
    assert!(err.contains("ACTIX_OAUTH_DEV_PROVIDER"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The permission bits of a file or directory.
#[cfg(unix)]
fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Signs `browser` in at `server` through `provider` (a development provider's consent page,
/// approved as bob) and checks the provider's API answers for bob through the stored token.
async fn sign_in_and_call(browser: &Browser, server: &Instance, provider: &str) {
    let start = browser.get(&server.url(&format!("/auth/{provider}"))).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let back = approve(browser, start.location.as_deref().unwrap(), false).await;
    let done = browser.get(&back).await;
    assert_eq!(done.status, 303, "{}", done.text());
    let api = browser
        .get(&server.url(&format!("/api/{provider}/me")))
        .await;
    assert_eq!(api.status, 200, "{}", api.text());
    assert_eq!(
        api.json()["data"]["preferred_username"],
        "bob",
        "{}",
        api.text()
    );
}

#[cfg(unix)]
#[actix_rt::test]
async fn accounts_data_is_private_encrypted_and_kept_across_runs() {
    use actix_oauth::accounts::{AccountStore as _, SqlStore, TokenKey};
    use actix_oauth::ErrorKind;
    use actix_oauth_dev::DevUser;

    let dir = temp_dir("example-private");
    let data = dir.join("data");
    // One provider outliving both runs, so the second can use a token the first stored.
    let (p1, p2) = (free_port(), free_port());
    let provider = DevProvider::builder()
        .client(
            "app",
            "app-secret",
            [p1, p2].map(|p| format!("http://127.0.0.1:{p}/auth/corp/callback")),
        )
        .user(DevUser::new("bob"))
        .start()
        .expect("dev provider");
    let config = dir.join("providers.toml");
    std::fs::write(
        &config,
        format!(
            "[providers.corp]\nkind = \"oauth2\"\nclient_id = \"app\"\nclient_secret = \"app-secret\"\n\
             authorize_url = \"{}\"\naccess_token_url = \"{}\"\nuserinfo_url = \"{}\"\nbase_url = \"{}\"\n\
             scope = \"openid profile email\"\n",
            provider.authorize_url(),
            provider.token_url(),
            provider.userinfo_url(),
            provider.api_url()
        ),
    )
    .unwrap();
    let run = |port: u16| {
        Instance::start(
            &[
                ("ACTIX_OAUTH_DATA_DIR", data.display().to_string()),
                ("BIND", format!("127.0.0.1:{port}")),
                ("PUBLIC_URL", format!("http://127.0.0.1:{port}")),
                ("SESSION_KEY", "s".repeat(64)),
            ],
            &["--config", config.to_str().unwrap()],
        )
        .expect("server")
    };

    let browser = Browser::new();
    let first = run(p1);
    wait_healthy(&first).await;
    sign_in_and_call(&browser, &first, "corp").await;
    first.stop();

    // Only this user can read the accounts, their write-ahead log and the key.
    let database = data.join("accounts.sqlite3");
    let key_file = data.join("accounts.sqlite3.key");
    assert_eq!(mode(&data), 0o700);
    for file in [
        "accounts.sqlite3",
        "accounts.sqlite3-wal",
        "accounts.sqlite3-shm",
    ] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    assert_eq!(mode(&key_file), 0o600);
    let key_text = std::fs::read_to_string(&key_file).unwrap();

    // The stored token is encrypted: it opens with the key file's key only.
    let url = format!("sqlite://{}", database.display());
    let store = SqlStore::connect(&url).await.unwrap();
    let refused = store.load_token("corp", "dev-bob").await;
    assert_eq!(
        refused.expect_err("encrypted").kind(),
        ErrorKind::Configuration
    );
    let keyed = store.token_key(TokenKey::from_base64(&key_text).expect("a base64 key"));
    assert!(keyed.load_token("corp", "dev-bob").await.unwrap().is_some());
    keyed.close().await;

    // A second run reads the key again, and with it the token the first run stored.
    let second = run(p2);
    wait_healthy(&second).await;
    let me = browser.get(&second.url("/me")).await;
    assert_eq!(me.status, 200, "{}", me.text());
    let api = browser.get(&second.url("/api/corp/me")).await;
    assert_eq!(api.status, 200, "{}", api.text());
    assert_eq!(api.json()["data"]["preferred_username"], "bob");
    second.stop();
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key_text);
    assert_eq!(mode(&key_file), 0o600);
    drop(provider);
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_rt::test]
async fn token_key_from_the_environment() {
    use actix_oauth::accounts::{AccountStore as _, SqlStore, TokenKey};

    // A bad key, or none for a shared PostgreSQL database, stops the server naming TOKEN_KEY.
    let err = Instance::start(&[("TOKEN_KEY", "too-short".to_owned())], &[])
        .err()
        .expect("refused");
    assert!(err.contains("TOKEN_KEY"), "{err}");
    let postgres = ("DATABASE_URL", "postgres://127.0.0.1:1/none".to_owned());
    let err = Instance::start(&[postgres], &[]).err().expect("refused");
    assert!(err.contains("TOKEN_KEY: required"), "{err}");

    // With TOKEN_KEY, no key file: the tokens open with that key.
    let data = temp_dir("example-token-key");
    let key = "Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtb2Yta2V5ISE=";
    let server = Instance::start(
        &[
            ("ACTIX_OAUTH_DATA_DIR", data.display().to_string()),
            ("TOKEN_KEY", key.to_owned()),
        ],
        &[],
    )
    .expect("server");
    wait_healthy(&server).await;
    sign_in_and_call(&Browser::new(), &server, "dev").await;
    server.stop();
    assert!(!data.join("accounts.sqlite3.key").exists());
    let url = format!("sqlite://{}", data.join("accounts.sqlite3").display());
    let store = SqlStore::connect(&url)
        .await
        .unwrap()
        .token_key(TokenKey::from_base64(key).unwrap());
    assert!(store.load_token("dev", "dev-bob").await.unwrap().is_some());
    store.close().await;
    let _ = std::fs::remove_dir_all(&data);
}

/// The text of `html` with its character references decoded (`&lt;`, `&#60;`, `&#x3C;` …), as a
/// browser shows it.
fn unescape_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let decoded = rest.find(';').and_then(|end| {
            let name = &rest[1..end];
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok().and_then(char::from_u32),
                    None => name
                        .strip_prefix('#')
                        .and_then(|dec| dec.parse().ok())
                        .and_then(char::from_u32),
                },
            };
            c.map(|c| (c, end + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The markup between `start` (e.g. `id="who">`) and the next `end` (e.g. `</strong>`) in `page`.
fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in {page}"))
        + start.len();
    let to = page[from..]
        .find(end)
        .unwrap_or_else(|| panic!("no {end:?} after {start:?} in {page}"))
        + from;
    &page[from..to]
}

/// What the pages show from outside — a `message` in the home page's URL, a user's name from
/// the provider, a provider name in a URL (the configuration allows no markup in real ones) —
/// comes out escaped by their templates: the browser shows the text and runs no markup of it.
#[actix_rt::test]
async fn pages_escape_messages_profile_and_provider_names() {
    const MESSAGE: &str = "<script>alert(1)</script>";
    const PROVIDER: &str = "x\"><img src=x onerror=alert(2)>";
    const NAME: &str = "<img src=x onerror=alert(3)> & \"Eve\" 'O'";
    let dir = temp_dir("example-escape");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let provider = DevProvider::builder()
        .client(
            "escape-app",
            "escape-secret",
            [format!("{base}/auth/corp/callback")],
        )
        .user(
            actix_oauth_dev::DevUser::new("eve")
                .name(NAME)
                .email("eve@example.test"),
        )
        .start()
        .expect("dev provider");
    let config = dir.join("providers.toml");
    std::fs::write(
        &config,
        format!(
            "[providers.corp]\nkind = \"oauth2\"\nclient_id = \"escape-app\"\nclient_secret = \"escape-secret\"\n\
             authorize_url = \"{}\"\naccess_token_url = \"{}\"\nuserinfo_url = \"{}\"\nscope = \"openid profile email\"\n",
            provider.authorize_url(),
            provider.token_url(),
            provider.userinfo_url(),
        ),
    )
    .unwrap();
    let server = Instance::start(
        &[("BIND", format!("127.0.0.1:{port}"))],
        &["--config", config.to_str().unwrap()],
    )
    .expect("server");
    wait_healthy(&server).await;
    let browser = Browser::new();

    // Signed out: the message.
    let query = serde_urlencoded::to_string([("message", MESSAGE)]).unwrap();
    let page = browser.get(&server.url(&format!("/?{query}"))).await;
    assert_eq!(page.status, 200, "{}", page.text());
    let page = page.text();
    assert!(!page.contains("<script"), "markup from outside: {page}");
    assert_eq!(
        unescape_html(between(&page, "id=\"message\">", "</p>")),
        MESSAGE,
        "{page}"
    );
    // No provider by that name: the 404 page names it.
    let path: String = PROVIDER.bytes().map(|b| format!("%{b:02X}")).collect();
    let page = browser.get(&server.url(&format!("/auth/{path}"))).await;
    assert_eq!(page.status, 404, "{}", page.text());
    let page = page.text();
    assert!(!page.contains("<img"), "markup from outside: {page}");
    assert_eq!(
        unescape_html(between(&page, "<code>", "</code>")),
        PROVIDER,
        "{page}"
    );

    // Signed in as a user whose name is markup.
    let start = browser.get(&server.url("/auth/corp")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let authorize = url::Url::parse(start.location.as_deref().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), "eve".into()));
    let mut post = authorize.clone();
    post.set_query(None);
    let back = browser.post_form(post.as_str(), &form).await;
    assert_eq!(back.status, 302, "{}", back.text());
    let done = browser.get(&back.location.unwrap()).await;
    assert_eq!(done.status, 303, "{}", done.text());
    let page = browser.get(&server.url("/")).await.text();
    assert!(
        !page.contains("<script") && !page.contains("<img"),
        "markup from outside: {page}"
    );
    assert_eq!(
        unescape_html(between(&page, "id=\"who\">", "</strong>")),
        NAME,
        "{page}"
    );
    assert_eq!(
        unescape_html(between(&page, "name=\"subject\" value=\"", "\"")),
        "dev-eve",
        "{page}"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `dev-form-post`, the development provider's second client: its answer comes by `form_post`
/// (POSTed cross-site, relayed by the app's page) and it authenticates with `private_key_jwt`,
/// offline, with no configuration.
#[actix_rt::test]
async fn offline_form_post_and_private_key_jwt() {
    let dir = temp_dir("form-post");
    let database = format!("sqlite://{}?mode=rwc", dir.join("a.sqlite3").display());
    let server = Instance::start(&[("DATABASE_URL", database)], &[]).expect("server");
    wait_healthy(&server).await;
    let browser = Browser::new();
    let start = browser.get(&server.url("/auth/dev-form-post")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let authorize = start.location.unwrap();
    assert!(authorize.contains("response_mode=form_post"), "{authorize}");
    let url = url::Url::parse(&authorize).unwrap();
    let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), "alice".into()));
    let mut post = url.clone();
    post.set_query(None);
    let answer = browser.post_form(post.as_str(), &form).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let (action, fields) = common::html_form(&answer.text());
    assert_eq!(action, server.url("/auth/dev-form-post/callback"));
    let relay = browser.post_form_cross_site(&action, &fields).await;
    assert_eq!(relay.status, 200, "{}", relay.text());
    let (_, relayed) = common::html_form(&relay.text());
    let done = browser.post_form(&action, &relayed).await;
    assert_eq!(done.status, 303, "{}", done.text());
    let me = browser.get(&server.url("/me")).await.json();
    assert_eq!(me["identities"][0]["provider"], "dev-form-post", "{me}");
    let api = browser
        .get(&server.url("/api/dev-form-post/me"))
        .await
        .json();
    assert_eq!(api["data"]["preferred_username"], "alice", "{api}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The TOML keys of form_post and JWT client authentication (issue 16): accepted and used, and
/// a wrong one stops the server naming it.
#[actix_rt::test]
async fn toml_takes_response_mode_client_auth_and_keys() {
    let dir = temp_dir("jwt-keys");
    let key = dir.join("key.pem");
    std::fs::write(&key, include_str!("data/es256-client-key.pem")).unwrap();
    let config = dir.join("providers.toml");
    let idp = format!("http://127.0.0.1:{}", free_port());
    let write = |extra: &str| {
        std::fs::write(
            &config,
            format!(
                r#"dev_provider = false

[providers.corp]
kind = "oauth2"
authorize_url = "{idp}/authorize"
access_token_url = "{idp}/token"
client_id = "corp-app"
{extra}

[providers.apple]
kind = "oidc"
preset = "apple"
client_id = "com.example.web"
team_id = "TEAMID1234"
key_id = "ABC123DEFG"
private_key_file = "{key}"
"#,
                key = key.display()
            ),
        )
        .unwrap();
    };
    write(&format!(
        "response_mode = \"form_post\"\nclient_auth = \"private_key_jwt\"\nprivate_key_file = \"{}\"\nkey_id = \"k1\"\npar = false",
        key.display()
    ));
    let args = ["--config", config.to_str().unwrap()];
    let server = Instance::start(&[], &args).expect("accepted");
    wait_healthy(&server).await;
    let start = Browser::new().get(&server.url("/auth/corp")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    assert!(start.location.unwrap().contains("response_mode=form_post"));
    drop(server);
    for (extra, field) in [
        (
            "client_auth = \"bogus\"\nclient_secret = \"s\"",
            "providers.corp.client_auth",
        ),
        (
            "response_mode = \"fragment\"\nclient_secret = \"s\"",
            "providers.corp.response_mode",
        ),
        ("client_auth = \"private_key_jwt\"", "client_key"),
        (
            "client_secret = \"s\"\nteam_id = \"T\"",
            "providers.corp.team_id",
        ),
        (
            "client_secret = \"s\"\nkey_id = \"k\"",
            "providers.corp.key_id",
        ),
        (
            "client_auth = \"private_key_jwt\"\nprivate_key_file = \"/nonexistent/key.pem\"",
            "providers.corp.private_key_file",
        ),
    ] {
        write(extra);
        let err = Instance::start(&[], &args).err().expect("refused");
        assert!(err.contains(field), "{extra}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// `par`, `max_age` and `acr_values` from TOML, against a provider of its own (the development
/// provider started by the test, as an outside one): the request is pushed, the browser carries
/// only its `request_uri`, and the sign-in's `auth_time` and `acr` are checked.
#[actix_rt::test]
async fn toml_par_max_age_and_acr_values_against_an_outside_provider() {
    let port = free_port();
    let provider = actix_oauth_dev::DevProvider::builder()
        .client(
            "ex",
            "ex-secret",
            [format!("http://127.0.0.1:{port}/auth/idp/callback")],
        )
        .user(actix_oauth_dev::DevUser::new("bob"))
        .start()
        .expect("provider");
    let (server, dir) = with_outside_providers(
        port,
        "par-toml",
        &format!(
            r#"[providers.idp]
kind = "oidc"
issuer = "{issuer}"
client_id = "ex"
client_secret = "ex-secret"
scope = "openid profile email"
par = true
max_age = 60
acr_values = "urn:actix-oauth-dev:mfa"
"#,
            issuer = provider.issuer()
        ),
    )
    .await;
    let browser = Browser::new();
    let start = browser.get(&server.url("/auth/idp")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let authorize = url::Url::parse(start.location.as_deref().unwrap()).unwrap();
    let names: Vec<_> = authorize
        .query_pairs()
        .map(|(k, _)| k.into_owned())
        .collect();
    assert_eq!(names, ["client_id", "request_uri"], "{authorize}");
    let back = approve(&browser, authorize.as_str(), false).await;
    let done = browser.get(&back).await;
    assert_eq!(done.status, 303, "{}", done.text());
    let me = browser.get(&server.url("/me")).await.json();
    assert_eq!(me["identities"][0]["provider"], "idp", "{me}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// The example server on `port` with `providers` (TOML tables after `dev_provider = false`) and
/// SQLite accounts, in a fresh folder named after `name`; healthy. The folder is returned for the
/// test to remove.
async fn with_outside_providers(port: u16, name: &str, providers: &str) -> (Instance, PathBuf) {
    let dir = temp_dir(name);
    let config = dir.join("providers.toml");
    std::fs::write(&config, format!("dev_provider = false\n\n{providers}")).unwrap();
    let database = format!("sqlite://{}?mode=rwc", dir.join("a.sqlite3").display());
    let server = Instance::start(
        &[
            ("BIND", format!("127.0.0.1:{port}")),
            ("DATABASE_URL", database),
        ],
        &["--config", config.to_str().unwrap()],
    )
    .expect("server");
    wait_healthy(&server).await;
    (server, dir)
}

/// The TOML keys `client_auth = "client_secret_jwt"` and `dpop = true` carry a whole sign-in
/// against a provider outside the server: the provider refuses this client's secret, so the
/// sign-in passes only with assertions, and it answers DPoP proofs without its nonce with a
/// challenge first.
#[actix_rt::test]
async fn toml_client_secret_jwt_and_dpop_sign_in_against_an_outside_provider() {
    const SECRET: &str = "a client secret of at least thirty-two bytes";
    let port = free_port();
    let provider = actix_oauth_dev::DevProvider::builder()
        .client(
            "ex",
            SECRET,
            [format!("http://127.0.0.1:{port}/auth/idp/callback")],
        )
        .client_auth("ex", actix_oauth_dev::DevClientAuth::ClientSecretJwt)
        .user(actix_oauth_dev::DevUser::new("bob"))
        .start()
        .expect("provider");
    let (server, dir) = with_outside_providers(
        port,
        "jwt-dpop-toml",
        &format!(
            r#"[providers.idp]
kind = "oidc"
issuer = "{issuer}"
client_id = "ex"
client_secret = "{SECRET}"
client_auth = "client_secret_jwt"
dpop = true
scope = "openid profile email"
"#,
            issuer = provider.issuer()
        ),
    )
    .await;
    let browser = Browser::new();
    let start = browser.get(&server.url("/auth/idp")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let back = approve(&browser, start.location.as_deref().unwrap(), false).await;
    let done = browser.get(&back).await;
    assert_eq!(done.status, 303, "{}", done.text());
    let me = browser.get(&server.url("/me")).await.json();
    assert_eq!(me["identities"][0]["provider"], "idp", "{me}");
    assert!(provider.token_requests() >= 1);
    assert!(
        provider.dpop_nonce_challenges() >= 1,
        "DPoP proofs were sent"
    );
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
