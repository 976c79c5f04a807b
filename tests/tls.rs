//! HTTPS to providers behind a private certificate authority: a test CA made at run time with
//! `rcgen` signs a certificate for `127.0.0.1`; a fake provider serves it over HTTP/2 (actix-web
//! with rustls, ALPN `h2`) and another over HTTP/1.1 only (Python's `http.server` with OpenSSL,
//! ALPN `http/1.1`). Complete sign-ins, user info and API calls go through the public API with
//! the CA trusted per remote app and globally; without it, or with a certificate for another
//! name, the user gets a clear `tls` error page. The example server trusts `SSL_CERT_FILE`.
#![cfg(feature = "rustls")]

mod common;

use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use actix_oauth::{OAuth, OAuthExtension, RemoteApp, RemoteAppBuilder};
use actix_web::{web, App, HttpRequest, HttpResponse};
use common::{listener, python::PyProvider, serve_with, start_app, Browser, Page, Running, Serve};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use serde_json::{json, Value};

/// A certificate authority made for one test.
struct TestCa {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "actix-oauth test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        Self {
            pem: cert.pem(),
            issuer: Issuer::new(params, key),
        }
    }

    /// A server certificate for `names` (IP addresses or DNS names), signed by this CA.
    fn leaf(&self, names: &[&str]) -> Leaf {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, names[0]);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let key = KeyPair::generate().expect("leaf key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        Leaf {
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            key_der: key.serialize_der(),
            key_pem: key.serialize_pem(),
        }
    }
}

struct Leaf {
    cert_der: Vec<u8>,
    cert_pem: String,
    key_der: Vec<u8>,
    key_pem: String,
}

/// A directory for one test's files, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("actix-oauth-tls-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    fn write(&self, file: &str, contents: &str) -> String {
        let path = self.0.join(file);
        std::fs::write(&path, contents).expect("write");
        path.to_str().expect("utf-8 path").to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fake provider over HTTPS served by actix-web with rustls, offering `h2` and `http/1.1`
/// (ALPN); it records the HTTP version of each request.
struct H2Provider {
    server: Running,
    seen: Arc<Mutex<Vec<(String, String)>>>,
}

impl H2Provider {
    fn start(leaf: &Leaf) -> Self {
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.cert_der.clone().into()],
            rustls::pki_types::PrivatePkcs8KeyDer::from(leaf.key_der.clone()).into(),
        )
        .expect("server certificate");
        let seen: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
        let record = Arc::clone(&seen);
        let (l, _) = listener();
        let how = Serve {
            tls: Some(config),
            ..Serve::default()
        };
        let server = serve_with(how, l, move || {
            let record = Arc::clone(&record);
            App::new().default_service(web::to(move |req: HttpRequest| {
                let record = Arc::clone(&record);
                async move {
                    let version = format!("{:?}", req.version());
                    record
                        .lock()
                        .unwrap()
                        .push((req.path().to_owned(), version.clone()));
                    let issuer = format!("https://{}", req.connection_info().host());
                    let body = match req.path() {
                        "/.well-known/openid-configuration" => json!({
                            "issuer": issuer,
                            "authorization_endpoint": format!("{issuer}/authorize"),
                            "token_endpoint": format!("{issuer}/token"),
                            "userinfo_endpoint": format!("{issuer}/userinfo"),
                            "jwks_uri": format!("{issuer}/jwks"),
                        }),
                        "/token" => json!({
                            "access_token": "tls-token",
                            "token_type": "bearer",
                            "expires_in": 3600,
                        }),
                        "/userinfo" => json!({
                            "sub": "tls-user",
                            "name": "TLS User",
                            "email": "tls@example.test",
                            "http_version": version,
                        }),
                        _ => json!({ "ok": true, "http_version": version }),
                    };
                    HttpResponse::Ok().json(body)
                }
            }))
        });
        Self { server, seen }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// The HTTP versions the provider saw, by path.
    fn versions(&self) -> Vec<(String, String)> {
        self.seen.lock().unwrap().clone()
    }
}

/// A remote app named `name` with its endpoints at `base` (`https://127.0.0.1:PORT/`).
fn remote(name: &str, base: &str) -> RemoteAppBuilder {
    RemoteApp::builder(name)
        .authorize_url(format!("{base}authorize"))
        .access_token_url(format!("{base}token"))
        .userinfo_url(format!("{base}userinfo"))
        .base_url(format!("{base}api/"))
        .consumer_key("client")
        .consumer_secret("secret")
}

fn start(oauth: OAuth) -> Running {
    let (l, url) = listener();
    let oauth: OAuthExtension = oauth.public_url(url.as_str()).build().expect("config");
    start_app(oauth, l)
}

/// Begins a sign-in with `name` on the app at `site` (`http://127.0.0.1:PORT/`) and comes back
/// with a code, as the provider would send the browser; the page the callback answers.
async fn callback(browser: &Browser, site: &str, name: &str) -> Page {
    let start = browser.get(&format!("{site}auth/{name}")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let query = start.location_query();
    // Codes are single use at the Python provider.
    static CODES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let code = CODES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    browser
        .get(&format!(
            "{}?code=tls-{code}&state={}",
            query["redirect_uri"], query["state"]
        ))
        .await
}

/// A complete sign-in with `name`, then its user info and an API call; their JSON.
async fn sign_in_and_call(app: &Running, name: &str) -> (Value, Value) {
    let browser = Browser::new();
    let done = callback(&browser, &app.url("/"), name).await;
    assert_eq!(done.status, 200, "{}", done.text());
    assert_eq!(done.json()["provider"], name);
    let me = browser.get(&app.url(&format!("/userinfo/{name}"))).await;
    assert_eq!(me.status, 200, "{}", me.text());
    let call = browser.get(&app.url(&format!("/call/{name}/me"))).await;
    assert_eq!(call.status, 200, "{}", call.text());
    assert_eq!(call.json()["status"], 200, "{}", call.text());
    (me.json(), call.json()["data"].clone())
}

/// The error page of a failed callback shows the `tls` kind and says why.
fn assert_tls_page(page: &Page, why: &str) {
    assert_eq!(page.status, 502, "{}", page.text());
    let text = page.text();
    assert!(text.contains("<code>tls</code>"), "{text}");
    assert!(
        text.contains("The secure connection to the provider failed"),
        "{text}"
    );
    assert!(text.contains(why), "{text}");
}

#[actix_rt::test]
async fn http2_sign_in_and_api_call_with_the_ca_trusted_per_app() {
    let ca = TestCa::new();
    let provider = H2Provider::start(&ca.leaf(&["127.0.0.1", "localhost"]));
    let base = provider.url("/");
    let app = start(
        OAuth::new()
            .remote_app(remote("corp", &base).root_certificate_pem(&ca.pem))
            // The same provider, but this app does not trust the CA: trust is per app.
            .remote_app(remote("other", &base)),
    );

    let (me, data) = sign_in_and_call(&app, "corp").await;
    assert_eq!(me["sub"], "tls-user");
    assert_eq!(me["http_version"], "HTTP/2.0");
    assert_eq!(data["http_version"], "HTTP/2.0");
    let versions = provider.versions();
    for path in ["/token", "/userinfo", "/api/me"] {
        assert!(
            versions.iter().any(|(p, v)| p == path && v == "HTTP/2.0"),
            "{path} over HTTP/2: {versions:?}"
        );
    }
    assert!(
        versions.iter().all(|(_, v)| v == "HTTP/2.0"),
        "{versions:?}"
    );

    let other = callback(&Browser::new(), &app.url("/"), "other").await;
    assert_tls_page(&other, "is not trusted");
    assert_eq!(provider.versions().len(), versions.len());
}

#[actix_rt::test]
async fn http2_sign_in_and_api_call_with_the_ca_trusted_globally() {
    let ca = TestCa::new();
    let provider = H2Provider::start(&ca.leaf(&["127.0.0.1"]));
    let base = provider.url("/");
    let app = start(
        OAuth::new()
            .root_certificate_pem(&ca.pem)
            .remote_app(remote("corp", &base))
            .remote_app(remote("corp2", &base)),
    );
    for name in ["corp", "corp2"] {
        let (me, data) = sign_in_and_call(&app, name).await;
        assert_eq!(me["http_version"], "HTTP/2.0");
        assert_eq!(data["ok"], true);
    }
}

#[actix_rt::test]
async fn http1_only_provider_sign_in_and_api_call_per_app_and_globally() {
    let ca = TestCa::new();
    let leaf = ca.leaf(&["127.0.0.1"]);
    let dir = TempDir::new("http1");
    let cert = dir.write("cert.pem", &leaf.cert_pem);
    let key = dir.write("key.pem", &leaf.key_pem);
    // Python's http.server with OpenSSL, ALPN `http/1.1` only.
    let provider = PyProvider::start(&[
        "--mode", "idle", "--idle", "30", "--cert", &cert, "--key", &key,
    ]);
    let base = provider.url("/");

    let per_app =
        start(OAuth::new().remote_app(remote("corp", &base).root_certificate_pem(&ca.pem)));
    let global = start(
        OAuth::new()
            .root_certificate_pem(&ca.pem)
            .remote_app(remote("corp", &base)),
    );
    for app in [&per_app, &global] {
        let (me, data) = sign_in_and_call(app, "corp").await;
        assert_eq!(me["sub"], "py-user");
        for answer in [&me, &data] {
            assert_eq!(answer["alpn"], "http/1.1", "{answer}");
            assert_eq!(answer["answered_in"], "HTTP/1.1", "{answer}");
        }
    }
}

#[cfg(feature = "oidc")]
#[actix_rt::test]
async fn openid_connect_discovery_uses_the_apps_trust() {
    let ca = TestCa::new();
    let provider = H2Provider::start(&ca.leaf(&["127.0.0.1"]));
    let issuer = provider.url("/").trim_end_matches('/').to_owned();
    let oidc = |name: &str| {
        RemoteApp::builder(name)
            .issuer(&issuer)
            .consumer_key("client")
            .consumer_secret("secret")
    };
    let oauth = OAuth::new()
        .remote_app(oidc("corp").root_certificate_pem(&ca.pem))
        .remote_app(oidc("other"))
        .build()
        .expect("config");
    let metadata = oauth.discover("corp").await.expect("discovery over HTTPS");
    assert_eq!(metadata.issuer, issuer);
    assert_eq!(
        provider.versions(),
        vec![(
            "/.well-known/openid-configuration".to_owned(),
            "HTTP/2.0".to_owned()
        )]
    );
    let err = oauth.discover("other").await.unwrap_err();
    assert_eq!(err.kind().as_str(), "tls", "{err}");
    assert!(err.to_string().contains("is not trusted"), "{err}");
}

#[actix_rt::test]
async fn an_untrusted_certificate_is_a_clear_tls_error() {
    let ca = TestCa::new();
    let provider = H2Provider::start(&ca.leaf(&["127.0.0.1"]));
    // No CA configured: the Mozilla roots do not know the test CA.
    let app = start(OAuth::new().remote_app(remote("corp", &provider.url("/"))));
    let browser = Browser::new();
    let page = callback(&browser, &app.url("/"), "corp").await;
    assert_tls_page(&page, "certificate of `127.0.0.1` is not trusted");
    assert!(
        page.text().contains("root_certificate_pem"),
        "{}",
        page.text()
    );
    assert!(provider.versions().is_empty(), "no request got through");

    // A certificate from a trusted CA, but for another name.
    let wrong = H2Provider::start(&ca.leaf(&["other.example"]));
    let app = start(
        OAuth::new().remote_app(remote("corp", &wrong.url("/")).root_certificate_pem(&ca.pem)),
    );
    let page = callback(&Browser::new(), &app.url("/"), "corp").await;
    assert_tls_page(&page, "not valid for that name");
}

#[test]
fn bad_pem_is_refused_at_build_naming_the_field() {
    let err = OAuth::new()
        .root_certificate_pem("not a certificate")
        .build()
        .unwrap_err();
    assert_eq!(err.kind().as_str(), "configuration");
    assert!(err.to_string().contains("`root_certificate_pem`"), "{err}");

    let err =
        OAuth::new()
            .remote_app(remote("corp", "https://127.0.0.1:9/").root_certificate_pem(
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            ))
            .build()
            .unwrap_err();
    assert!(
        err.to_string()
            .contains("remote app `corp`: `root_certificate_pem`"),
        "{err}"
    );

    let err = OAuth::new().webpki_roots(false).build().unwrap_err();
    assert!(
        err.to_string().contains("no certificate authority"),
        "{err}"
    );
}

/// The example server binary, started with a TOML config, an accounts database and `envs`.
#[cfg(feature = "accounts")]
mod example {
    use std::{
        io::{BufRead as _, BufReader},
        process::{Child, Command, Stdio},
    };

    pub struct Instance {
        child: Child,
        pub port: u16,
    }

    impl Instance {
        pub fn start(config: &str, database: &str, envs: &[(&str, &str)]) -> Self {
            let exe = std::env::current_exe().expect("test path");
            let bin = exe
                .parent()
                .and_then(|deps| deps.parent())
                .expect("target dir")
                .join("examples")
                .join("server");
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .expect("free port");
            let mut cmd = Command::new(&bin);
            cmd.args(["--config", config])
                .env("BIND", format!("127.0.0.1:{port}"))
                .env("DATABASE_URL", database)
                .env_remove("REDIS_URL")
                .env_remove("ACTIX_OAUTH_CONFIG")
                .env_remove("SSL_CERT_FILE")
                .env_remove("SSL_CERT_DIR")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            for (k, v) in envs {
                cmd.env(k, v);
            }
            let mut child = cmd.spawn().unwrap_or_else(|e| {
                panic!(
                    "{} ({e}); build it first: cargo build --example server",
                    bin.display()
                )
            });
            let mut line = String::new();
            let stdout = child.stdout.take().expect("stdout");
            let _ = BufReader::new(stdout).read_line(&mut line);
            if !line.contains("listening on") {
                let output = child.wait_with_output().expect("output");
                panic!(
                    "the example server did not start: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            Self { child, port }
        }

        pub fn url(&self, path: &str) -> String {
            format!("http://127.0.0.1:{}{path}", self.port)
        }

        /// Waits (a bounded time) until the server answers `/healthz`.
        pub async fn healthy(self) -> Self {
            let started = std::time::Instant::now();
            loop {
                let ok = awc::Client::default()
                    .get(self.url("/healthz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if ok {
                    return self;
                }
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(20),
                    "the example server did not come up"
                );
                actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }

    impl Drop for Instance {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(feature = "accounts")]
#[actix_rt::test]
async fn the_example_server_trusts_ssl_cert_file() {
    let ca = TestCa::new();
    let provider = H2Provider::start(&ca.leaf(&["127.0.0.1"]));
    let base = provider.url("/");
    let dir = TempDir::new("example");
    let ca_file = dir.write("ca.pem", &ca.pem);
    let config = dir.write(
        "providers.toml",
        &format!(
            "[providers.corp]\nkind = \"oauth2\"\nclient_id = \"client\"\nclient_secret = \"secret\"\n\
             authorize_url = \"{base}authorize\"\naccess_token_url = \"{base}token\"\n\
             userinfo_url = \"{base}userinfo\"\nbase_url = \"{base}api/\"\n"
        ),
    );
    let database = format!(
        "sqlite://{}?mode=rwc",
        dir.0.join("accounts.sqlite3").display()
    );

    // Without SSL_CERT_FILE the provider's certificate is not trusted: a clear error page.
    let untrusting = example::Instance::start(&config, &database, &[])
        .healthy()
        .await;
    let page = callback(&Browser::new(), &untrusting.url("/"), "corp").await;
    assert_tls_page(&page, "is not trusted");
    drop(untrusting);

    let server = example::Instance::start(&config, &database, &[("SSL_CERT_FILE", &ca_file)])
        .healthy()
        .await;
    let browser = Browser::new();
    let done = callback(&browser, &server.url("/"), "corp").await;
    assert!(
        matches!(done.status, 302 | 303),
        "{} {}",
        done.status,
        done.text()
    );
    let me = browser.get(&server.url("/me")).await;
    assert_eq!(me.status, 200, "{}", me.text());
    assert_eq!(
        me.json()["identities"][0]["provider"],
        "corp",
        "{}",
        me.text()
    );
    let call = browser.get(&server.url("/api/corp/me")).await;
    assert_eq!(call.status, 200, "{}", call.text());
    assert_eq!(
        call.json()["data"]["http_version"],
        "HTTP/2.0",
        "{}",
        call.text()
    );
}
