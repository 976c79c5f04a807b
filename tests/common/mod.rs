//! Test helpers: an app under test on a real loopback port, a cookie-keeping browser, and the
//! scriptable fake provider (`fake/`).
#![allow(dead_code)]

use std::{
    collections::BTreeMap,
    net::TcpListener,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_oauth::{
    AuthorizedResponse, CallbackProvider, OAuthExtension, OAuthMiddleware, Provider,
};
use actix_session::{
    config::CookieContentSecurity, storage::CookieSessionStore, SessionMiddleware,
};
use actix_web::{
    body::MessageBody,
    cookie::Key,
    dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse},
    web::{self, Bytes},
    App, HttpRequest, HttpResponse, HttpServer,
};
use serde_json::{json, Value};
use url::Url;

/// A provider named `fake`, pointed at fake endpoints by each test.
pub struct Fake;
impl Provider for Fake {
    const NAME: &'static str = "fake";
}

/// A bound loopback listener and its base URL, so URLs are known before the server starts.
pub fn listener() -> (TcpListener, Url) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let port = listener.local_addr().expect("local addr").port();
    (
        listener,
        Url::parse(&format!("http://127.0.0.1:{port}/")).expect("url"),
    )
}

/// A server started by a test; stopped when dropped.
pub struct Running {
    pub url: Url,
    pub handle: ServerHandle,
}

impl Running {
    pub fn url(&self, path: &str) -> String {
        self.url
            .join(path.trim_start_matches('/'))
            .expect("join")
            .to_string()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// How [`serve_with`] runs an app: worker threads, and TLS.
pub struct Serve {
    /// Worker threads (1 unless a test needs more).
    pub workers: usize,
    /// TLS with this configuration (the URL then is `https://`); plain HTTP without.
    #[cfg(feature = "rustls")]
    pub tls: Option<rustls::ServerConfig>,
}

impl Default for Serve {
    fn default() -> Self {
        Self {
            workers: 1,
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }
}

/// Serves the app that `factory` builds (one per worker) on `listener`, over plain HTTP with
/// one worker, until the returned [`Running`] is dropped. Call it inside an actix runtime.
pub fn serve<F, T, B>(listener: TcpListener, factory: F) -> Running
where
    F: Fn() -> App<T> + Send + Clone + 'static,
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    serve_with(Serve::default(), listener, factory)
}

/// As [`serve`], with these workers and TLS.
pub fn serve_with<F, T, B>(how: Serve, listener: TcpListener, factory: F) -> Running
where
    F: Fn() -> App<T> + Send + Clone + 'static,
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = actix_web::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    let port = listener.local_addr().expect("addr").port();
    let server = HttpServer::new(factory)
        .workers(how.workers)
        .disable_signals()
        .shutdown_timeout(1);
    #[cfg(feature = "rustls")]
    let (scheme, server) = match how.tls {
        Some(config) => (
            "https",
            server
                .listen_rustls_0_23(listener, config)
                .expect("listen with TLS"),
        ),
        None => ("http", server.listen(listener).expect("listen")),
    };
    #[cfg(not(feature = "rustls"))]
    let (scheme, server) = ("http", server.listen(listener).expect("listen"));
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    Running {
        url: Url::parse(&format!("{scheme}://127.0.0.1:{port}/")).expect("url"),
        handle,
    }
}

async fn login(
    req: HttpRequest,
    oauth: OAuthExtension,
    path: web::Path<String>,
) -> Result<HttpResponse, actix_oauth::OAuthError> {
    let next = web::Query::<BTreeMap<String, String>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.get("next").cloned());
    oauth.authorize(&req, &path, next.as_deref()).await
}

/// The plain extractor, as the crate advises without the middleware: a declined sign-in is
/// `{"denied": true}`, any other failure its own error page (an `Option` would turn it into
/// "declined").
async fn callback<P: CallbackProvider>(
    resp: Result<AuthorizedResponse<P>, actix_oauth::OAuthError>,
) -> HttpResponse {
    match resp {
        Err(actix_oauth::OAuthError::Denied) => HttpResponse::Ok().json(json!({ "denied": true })),
        Err(err) => actix_web::ResponseError::error_response(&err),
        Ok(resp) => HttpResponse::Ok().json(json!({
            "provider": resp.provider(),
            "next": resp.next(),
            "token_type": resp.token().token_type(),
            "scope": resp.token().scope(),
            "expires_in": resp.token().expires_in().map(|d| d.as_secs()),
            "has_refresh_token": resp.token().refresh_token().is_some(),
            "has_token_secret": resp.token().token_secret().is_some(),
            "extra": resp.token().extra(),
        })),
    }
}

async fn token(
    req: HttpRequest,
    oauth: OAuthExtension,
    path: web::Path<String>,
) -> Result<HttpResponse, actix_oauth::OAuthError> {
    let token = oauth.session_token(&req, &path).await?;
    Ok(HttpResponse::Ok().json(json!({ "token_type": token.token_type() })))
}

async fn userinfo(
    req: HttpRequest,
    oauth: OAuthExtension,
    path: web::Path<String>,
) -> Result<HttpResponse, actix_oauth::OAuthError> {
    let token = oauth.session_token(&req, &path).await?;
    Ok(HttpResponse::Ok().json(oauth.userinfo(&path, &token).await?))
}

async fn call(
    req: HttpRequest,
    oauth: OAuthExtension,
    path: web::Path<(String, String)>,
    query: web::Query<Vec<(String, String)>>,
    body: Bytes,
) -> HttpResponse {
    let (provider, tail) = path.into_inner();
    let mut query = query.into_inner();
    let token = query
        .iter()
        .position(|(k, _)| k == "token")
        .map(|i| query.remove(i).1);
    let method = match req.method().as_str() {
        "POST" => actix_web::http::Method::POST,
        _ => actix_web::http::Method::GET,
    };
    let mut call = oauth
        .request(&req, &provider, method.as_str().parse().unwrap(), &tail)
        .query(&query);
    if !body.is_empty() {
        let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
        call = call.form(&form);
    }
    if let Some(token) = token {
        call = call.token(token);
    }
    match call.send().await {
        Ok(resp) => HttpResponse::Ok().json(json!({
            "status": resp.status(),
            "content_type": resp.content_type(),
            "data": resp.data().to_json(),
        })),
        Err(err) => HttpResponse::build(actix_web::ResponseError::status_code(&err))
            .json(json!({ "error": err.kind().as_str(), "message": err.to_string() })),
    }
}

async fn sign_out(req: HttpRequest, oauth: OAuthExtension) -> HttpResponse {
    match oauth.sign_out(&req).await {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(err) => actix_web::ResponseError::error_response(&err),
    }
}

/// Starts the app under test: cookie sessions, the middleware, `/auth/{provider}`, the callbacks
/// of `dev` and `fake`, `/token/{provider}` and `/userinfo/{provider}`.
pub fn start_app(oauth: OAuthExtension, listener: TcpListener) -> Running {
    start_app_with(oauth, listener, true)
}

/// As [`start_app`], optionally without [`OAuthMiddleware`].
pub fn start_app_with(oauth: OAuthExtension, listener: TcpListener, middleware: bool) -> Running {
    let key = Key::generate();
    serve(listener, move || {
        App::new()
            .app_data(oauth.clone())
            .wrap(actix_web::middleware::Condition::new(
                middleware,
                OAuthMiddleware::new(),
            ))
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    .cookie_secure(false)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .build(),
            )
            .route("/auth/{provider}", web::get().to(login))
            // Any method: a `form_post` provider's answer is a POST.
            .route(
                "/auth/dev/callback",
                web::route().to(callback::<actix_oauth::providers::Dev>),
            )
            .route("/auth/fake/callback", web::route().to(callback::<Fake>))
            .route(
                "/auth/{provider}/callback",
                web::route().to(callback::<actix_oauth::providers::Any>),
            )
            .route("/token/{provider}", web::get().to(token))
            .route("/sign-out", web::post().to(sign_out))
            .route("/userinfo/{provider}", web::get().to(userinfo))
            .route("/call/{provider}/{tail:.*}", web::get().to(call))
            .route("/call/{provider}/{tail:.*}", web::post().to(call))
    })
}

/// The first form of an HTML page: its `action` and its hidden fields, unescaped (the
/// development provider's `form_post` answer, the app's relay page).
pub fn html_form(html: &str) -> (String, Vec<(String, String)>) {
    fn unescape(text: &str) -> String {
        text.replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    }
    fn attribute(tag: &str, name: &str) -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let end = tag[start..].find('"')? + start;
        Some(unescape(&tag[start..end]))
    }
    let form = html.find("<form").expect("a form");
    let tag_end = html[form..].find('>').expect("form tag") + form;
    let action = attribute(&html[form..tag_end], "action").expect("form action");
    let mut fields = Vec::new();
    let mut rest = &html[tag_end..];
    while let Some(at) = rest.find("<input") {
        let end = rest[at..].find('>').expect("input tag") + at;
        let tag = &rest[at..end];
        if attribute(tag, "type").as_deref() == Some("hidden") {
            fields.push((
                attribute(tag, "name").expect("name"),
                attribute(tag, "value").unwrap_or_default(),
            ));
        }
        rest = &rest[end..];
    }
    (action, fields)
}

/// A cookie-keeping HTTP client that never follows redirects, like a browser driven step by step.
#[derive(Clone)]
pub struct Browser {
    client: awc::Client,
    jar: Arc<Mutex<BTreeMap<String, String>>>,
}

/// What a request answered.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub content_type: String,
    pub body: Bytes,
}

impl Page {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The query parameters of the redirect target.
    pub fn location_query(&self) -> BTreeMap<String, String> {
        let location = self.location.as_deref().expect("a redirect");
        Url::parse(location)
            .expect("absolute location")
            .query_pairs()
            .into_owned()
            .collect()
    }
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self {
            client: awc::Client::builder()
                .disable_redirects()
                .timeout(Duration::from_secs(20))
                .finish(),
            jar: Arc::default(),
        }
    }

    /// The `Cookie` header this browser sends (for requests made with another client).
    pub fn cookies(&self) -> String {
        self.cookie_header()
    }

    fn cookie_header(&self) -> String {
        let jar = self.jar.lock().unwrap();
        jar.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(
        &self,
        mut res: awc::ClientResponse<
            impl futures_util::Stream<Item = Result<Bytes, awc::error::PayloadError>> + Unpin,
        >,
    ) -> Page {
        for value in res.headers().get_all("set-cookie") {
            let text = value.to_str().expect("ascii cookie");
            let pair = text.split(';').next().unwrap_or("");
            if let Some((name, val)) = pair.split_once('=') {
                let mut jar = self.jar.lock().unwrap();
                let expired = text.to_ascii_lowercase().contains("max-age=0");
                if val.is_empty() || expired {
                    jar.remove(name.trim());
                } else {
                    jar.insert(name.trim().to_owned(), val.trim().to_owned());
                }
            }
        }
        let body = res.body().limit(8 * 1024 * 1024).await.expect("body");
        Page {
            status: res.status().as_u16(),
            location: res
                .headers()
                .get("location")
                .map(|v| v.to_str().expect("ascii").to_owned()),
            content_type: res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap_or("").to_owned())
                .unwrap_or_default(),
            body,
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        let res = self
            .client
            .get(url)
            .insert_header(("cookie", self.cookie_header()))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        self.finish(res).await
    }

    /// As [`get`](Self::get), but a connection failure is `None` instead of a panic.
    pub async fn try_get(&self, url: &str) -> Option<Page> {
        let res = self
            .client
            .get(url)
            .insert_header(("cookie", self.cookie_header()))
            .send()
            .await
            .ok()?;
        Some(self.finish(res).await)
    }

    pub async fn post_form(&self, url: &str, form: &[(String, String)]) -> Page {
        let res = self
            .client
            .post(url)
            .insert_header(("cookie", self.cookie_header()))
            .send_form(&form)
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        self.finish(res).await
    }

    /// A form POSTed from another site's page: a browser sends no `SameSite=Lax` cookie with it
    /// (and none here is `SameSite=None`), but keeps what the answer sets.
    pub async fn post_form_cross_site(&self, url: &str, form: &[(String, String)]) -> Page {
        let res = self
            .client
            .post(url)
            .send_form(&form)
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        self.finish(res).await
    }

    /// Another browser holding a copy of this one's cookies (a stolen or stale cookie jar).
    pub fn fork(&self) -> Browser {
        Browser {
            client: self.client.clone(),
            jar: Arc::new(Mutex::new(self.jar.lock().unwrap().clone())),
        }
    }

    /// The size of the largest cookie held (`name=value`, as a browser counts it).
    pub fn largest_cookie(&self) -> usize {
        let jar = self.jar.lock().unwrap();
        jar.iter()
            .map(|(k, v)| k.len() + 1 + v.len())
            .max()
            .unwrap_or(0)
    }

    pub fn has_cookies(&self) -> bool {
        !self.jar.lock().unwrap().is_empty()
    }
}

/// Says that a test skipped its work, on the terminal itself: the test harness captures
/// `eprintln!`, so a plain print would hide why a test passed without running.
pub fn say_skipped(why: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "note: {why}");
}

/// This process's resident memory and its peak since the last [`reset_peak_rss`], in KiB, from
/// `/proc/self/status` (`None` where there is no procfs).
pub fn rss_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// Resets the peak resident memory to the current one (Linux `clear_refs` 5); `false` if it
/// could not.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// The scriptable fake provider: personalities, faults, recorded requests.
pub mod fake;
// Not every test binary names all three.
#[allow(unused_imports)]
pub use fake::{Answer, FakeProvider, Recorded};

/// The example server as a child process; a cable to unplug a service.
pub mod example;
/// Providers in Python's standard library, run as subprocesses.
pub mod oidc_provider;
pub mod preset_app;
pub mod python;
