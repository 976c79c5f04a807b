//! The security suite: one test per attack of RFC 9700 (OAuth 2.0 Security Best Current
//! Practice) and RFC 6819 (OAuth 2.0 Threat Model and Security Considerations), each driving
//! the public API over real HTTP on loopback — against the development provider, the real
//! example server binary, or small fakes — and judging what a user would see: the status, the
//! error kind on the page, the cookies.
//!
//! The browser here keeps cookies per host name, as a real one does, so that a sign-in begun on
//! `localhost` and returning to `127.0.0.1` loses its cookie just as it would in the wild.
//!
//! README's "Security" section maps each requirement to the tests here.

mod common;

use std::{
    collections::BTreeMap,
    net::TcpListener,
    sync::{Arc, Mutex, Once},
    time::Duration,
};

use actix_oauth::{
    providers::{Any, Dev},
    AuthorizedResponse, CallbackProvider, ErrorKind, OAuth, OAuthError, OAuthExtension,
    OAuthMiddleware, RemoteApp, RemoteAppBuilder,
};
use actix_oauth_dev::{DevAlgorithm, DevProvider};
use actix_session::{
    config::CookieContentSecurity,
    storage::{CookieSessionStore, SessionStore},
    SessionMiddleware,
};
use actix_web::{
    cookie::Key,
    web::{self, Bytes},
    App, HttpRequest, HttpResponse, ResponseError as _,
};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use common::{listener, serve, Running};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use url::Url;

const CLIENT_ID: &str = "security-app";
/// Distinctive, so that finding it anywhere is unambiguous.
const CLIENT_SECRET: &str = "client-secret-4c1d9e7f0b2a";
/// The name of actix-session's cookie.
const SESSION_COOKIE: &str = "id";

// ---------------------------------------------------------------------------------------------
// A browser that keeps cookies per host name.

/// What a request answered.
#[derive(Debug)]
struct Reply {
    status: u16,
    location: Option<String>,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The redirect target, parsed.
    fn location_url(&self) -> Url {
        Url::parse(self.location.as_deref().expect("a redirect")).expect("absolute location")
    }
}

/// A cookie-keeping client that never follows redirects. Cookies are kept per host name (not
/// per port, as browsers do), so `localhost` and `127.0.0.1` have separate jars.
#[derive(Clone)]
struct Visitor {
    client: awc::Client,
    /// (host, cookie name) → value.
    jar: Arc<Mutex<BTreeMap<(String, String), String>>>,
    /// Every cookie value any server set for this visitor, in order.
    seen: Arc<Mutex<Vec<String>>>,
}

impl Visitor {
    fn new() -> Self {
        Self {
            client: awc::Client::builder()
                .disable_redirects()
                .timeout(Duration::from_secs(20))
                .finish(),
            jar: Arc::default(),
            seen: Arc::default(),
        }
    }

    fn host_of(url: &str) -> String {
        Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_default()
    }

    fn cookie_header(&self, host: &str) -> String {
        self.jar
            .lock()
            .unwrap()
            .iter()
            .filter(|((h, _), _)| h == host)
            .map(|((_, name), value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn finish(
        &self,
        host: &str,
        mut res: awc::ClientResponse<
            impl futures_util::Stream<Item = Result<Bytes, awc::error::PayloadError>> + Unpin,
        >,
    ) -> Reply {
        for value in res.headers().get_all("set-cookie") {
            let text = value.to_str().expect("ascii cookie");
            let pair = text.split(';').next().unwrap_or("");
            if let Some((name, val)) = pair.split_once('=') {
                let key = (host.to_owned(), name.trim().to_owned());
                let expired = text.to_ascii_lowercase().contains("max-age=0");
                let mut jar = self.jar.lock().unwrap();
                if val.is_empty() || expired {
                    jar.remove(&key);
                } else {
                    jar.insert(key, val.trim().to_owned());
                    self.seen.lock().unwrap().push(val.trim().to_owned());
                }
            }
        }
        let body = res.body().limit(8 * 1024 * 1024).await.expect("body");
        Reply {
            status: res.status().as_u16(),
            location: res
                .headers()
                .get("location")
                .map(|v| v.to_str().expect("ascii").to_owned()),
            headers: res
                .headers()
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                .collect(),
            body,
        }
    }

    async fn get(&self, url: &str) -> Reply {
        let host = Self::host_of(url);
        let res = self
            .client
            .get(url)
            .insert_header(("cookie", self.cookie_header(&host)))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        self.finish(&host, res).await
    }

    /// A GET with one extra request header (`Host`, forwarding headers).
    async fn get_with(&self, url: &str, header: (&str, &str)) -> Reply {
        let host = Self::host_of(url);
        let res = self
            .client
            .get(url)
            .insert_header(("cookie", self.cookie_header(&host)))
            .insert_header(header)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {url}: {e}"));
        self.finish(&host, res).await
    }

    async fn post_form(&self, url: &str, form: &[(&str, &str)]) -> Reply {
        let host = Self::host_of(url);
        let res = self
            .client
            .post(url)
            .insert_header(("cookie", self.cookie_header(&host)))
            .send_form(&form)
            .await
            .unwrap_or_else(|e| panic!("POST {url}: {e}"));
        self.finish(&host, res).await
    }

    /// Another browser holding a copy of this one's cookies (a stolen, stale or fixed jar).
    fn fork(&self) -> Self {
        Self {
            client: self.client.clone(),
            jar: Arc::new(Mutex::new(self.jar.lock().unwrap().clone())),
            seen: Arc::default(),
        }
    }

    fn cookie(&self, host: &str, name: &str) -> Option<String> {
        self.jar
            .lock()
            .unwrap()
            .get(&(host.to_owned(), name.to_owned()))
            .cloned()
    }

    fn seen_cookies(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

// ---------------------------------------------------------------------------------------------
// The app under test, a recording proxy in front of the provider, and the set-up.

/// A server a test started ([`common::serve`]); stopped when dropped.
struct Server {
    url: Url,
    _running: Running,
}

impl Server {
    /// `path` appended verbatim (no normalization, so percent-encodings stay as written).
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.url.as_str().trim_end_matches('/'))
    }
}

impl From<Running> for Server {
    fn from(running: Running) -> Self {
        Self {
            url: running.url.clone(),
            _running: running,
        }
    }
}

/// What the app under test printed with `{:?}` (and the text of its errors), to search for
/// secrets.
#[derive(Clone, Default)]
struct Dumps(Arc<Mutex<Vec<String>>>);

impl Dumps {
    fn push(&self, text: String) {
        self.0.lock().unwrap().push(text);
    }

    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

async fn login(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    let next = web::Query::<Vec<(String, String)>>::from_query(req.query_string())
        .ok()
        .and_then(|q| q.iter().find(|(k, _)| k == "next").map(|(_, v)| v.clone()));
    oauth.authorize(&req, &provider, next.as_deref()).await
}

fn completed<P: CallbackProvider>(
    resp: Option<AuthorizedResponse<P>>,
    dumps: &Dumps,
) -> HttpResponse {
    dumps.push(format!("{resp:?}"));
    match resp {
        Some(resp) => resp.redirect_next(),
        None => HttpResponse::Ok()
            .content_type("text/html")
            .body("<p id=\"declined\">You declined the sign-in.</p>"),
    }
}

async fn dev_callback(
    resp: Option<AuthorizedResponse<Dev>>,
    dumps: web::Data<Dumps>,
) -> HttpResponse {
    completed(resp, &dumps)
}

async fn any_callback(
    resp: Option<AuthorizedResponse<Any>>,
    dumps: web::Data<Dumps>,
) -> HttpResponse {
    completed(resp, &dumps)
}

/// Completes a `dev` handshake on a path that is not its callback path (so the middleware stays
/// out of it), handing the handler the error itself.
async fn capture_callback(
    resp: Result<AuthorizedResponse<Dev>, OAuthError>,
    dumps: web::Data<Dumps>,
) -> HttpResponse {
    dumps.push(format!("{resp:?}"));
    match resp {
        Ok(_) => HttpResponse::Ok().json(json!({ "kind": null })),
        Err(err) => {
            dumps.push(err.to_string());
            HttpResponse::Ok().json(json!({ "kind": err.kind().as_str() }))
        }
    }
}

async fn whoami(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    let token = oauth.session_token(&req, &provider).await?;
    Ok(HttpResponse::Ok().json(json!({ "token_type": token.token_type() })))
}

async fn call(
    req: HttpRequest,
    oauth: OAuthExtension,
    path: web::Path<(String, String)>,
    dumps: web::Data<Dumps>,
) -> HttpResponse {
    let (provider, tail) = path.into_inner();
    let result = oauth.get(&req, &provider, &tail).send().await;
    dumps.push(format!("{result:?}"));
    match result {
        Ok(resp) => HttpResponse::Ok().json(json!({
            "status": resp.status(),
            "data": resp.data().to_json(),
        })),
        Err(err) => {
            dumps.push(err.to_string());
            HttpResponse::build(err.status_code())
                .json(json!({ "error": err.kind().as_str(), "message": err.to_string() }))
        }
    }
}

/// Prints the extension, each remote app and each session token with `{:?}`.
async fn debug(req: HttpRequest, oauth: OAuthExtension, dumps: web::Data<Dumps>) -> HttpResponse {
    dumps.push(format!("{oauth:?}"));
    for name in oauth.remote_app_names() {
        dumps.push(format!("{:?}", oauth.remote_app(name)));
        dumps.push(format!("{:?}", oauth.session_token(&req, name).await));
    }
    HttpResponse::NoContent().finish()
}

async fn csrf(req: HttpRequest, oauth: OAuthExtension) -> Result<HttpResponse, OAuthError> {
    Ok(HttpResponse::Ok().body(oauth.csrf_token(&req)?))
}

/// Linking an identity, as an app should do it: a POST carrying the session's CSRF token.
async fn link(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, OAuthError> {
    let submitted = form
        .iter()
        .find(|(k, _)| k == "csrf")
        .map_or("", |(_, v)| v.as_str());
    oauth.verify_csrf(&req, submitted)?;
    oauth.authorize(&req, &provider, None).await
}

/// Starts the app under test with the session store `store`: the middleware inside the session
/// middleware, `/auth/{provider}` (with `next`), the callbacks (answering `303` to `next`),
/// `/whoami/{provider}`, `/call/{provider}/{path}`, `/debug`, `/csrf` and `POST /link/{provider}`.
fn start_app_with<S: SessionStore + 'static>(
    oauth: OAuthExtension,
    listener: TcpListener,
    store: impl Fn() -> S + Send + Clone + 'static,
    dumps: Dumps,
) -> Server {
    let key = Key::generate();
    serve(listener, move || {
        App::new()
            .app_data(oauth.clone())
            .app_data(web::Data::new(dumps.clone()))
            .wrap(OAuthMiddleware::new())
            .wrap(
                SessionMiddleware::builder(store(), key.clone())
                    .cookie_secure(false)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .build(),
            )
            .route("/auth/{provider}", web::get().to(login))
            .route("/auth/dev/callback", web::get().to(dev_callback))
            .route("/auth/{provider}/callback", web::get().to(any_callback))
            .route("/capture/dev/callback", web::get().to(capture_callback))
            .route("/whoami/{provider}", web::get().to(whoami))
            .route("/call/{provider}/{tail:.*}", web::get().to(call))
            .route("/debug", web::get().to(debug))
            .route("/csrf", web::get().to(csrf))
            .route("/link/{provider}", web::post().to(link))
    })
    .into()
}

/// One request the proxy passed on, and the answer.
#[derive(Clone, Debug)]
struct Exchange {
    method: String,
    path: String,
    query: String,
    authorization: Option<String>,
    request: String,
    status: u16,
    response: String,
}

impl Exchange {
    fn form(&self) -> BTreeMap<String, String> {
        serde_urlencoded::from_str(&self.request).expect("form body")
    }

    fn answer(&self) -> Value {
        serde_json::from_str(&self.response).unwrap_or(Value::Null)
    }
}

/// A recording reverse proxy in front of the development provider's back channel (token
/// endpoint, user info, API): what went over the wire, secrets included, for tests to check.
struct Proxy {
    server: Server,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
}

impl Proxy {
    fn start(target: &Url) -> Self {
        let exchanges: Arc<Mutex<Vec<Exchange>>> = Arc::default();
        let seen = Arc::clone(&exchanges);
        let target = target.as_str().trim_end_matches('/').to_owned();
        let (l, _) = listener();
        let server = serve(l, move || {
            let seen = Arc::clone(&seen);
            let target = target.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: Bytes| {
                let seen = Arc::clone(&seen);
                let target = target.clone();
                async move { forward(&target, &seen, req, body).await }
            }))
        });
        Self {
            server: server.into(),
            exchanges,
        }
    }

    fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges.lock().unwrap().clone()
    }

    /// The token requests, in order.
    fn token_requests(&self) -> Vec<Exchange> {
        self.exchanges()
            .into_iter()
            .filter(|e| e.path == "/oauth2/token")
            .collect()
    }
}

async fn forward(
    target: &str,
    seen: &Mutex<Vec<Exchange>>,
    req: HttpRequest,
    body: Bytes,
) -> HttpResponse {
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let client = awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(10))
        .finish();
    let mut out = client.request(req.method().clone(), format!("{target}{path_and_query}"));
    for name in ["authorization", "content-type", "accept"] {
        if let Some(value) = req.headers().get(name) {
            out = out.insert_header((name, value.clone()));
        }
    }
    let (status, headers, answer) = match out.send_body(body.clone()).await {
        Ok(mut res) => {
            let answer = res.body().limit(1 << 20).await.unwrap_or_default();
            (res.status(), res.headers().clone(), answer)
        }
        Err(e) => return HttpResponse::BadGateway().body(e.to_string()),
    };
    seen.lock().unwrap().push(Exchange {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query: req.query_string().to_owned(),
        authorization: req
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        request: String::from_utf8_lossy(&body).into_owned(),
        status: status.as_u16(),
        response: String::from_utf8_lossy(&answer).into_owned(),
    });
    let mut reply = HttpResponse::build(status);
    for name in ["content-type", "www-authenticate", "cache-control"] {
        if let Some(value) = headers.get(name) {
            reply.insert_header((name, value.clone()));
        }
    }
    reply.body(answer)
}

#[derive(Default)]
struct Options {
    /// An OpenID Connect app: `issuer` set, endpoints and keys discovered.
    oidc: bool,
    /// The provider refuses authorization requests without a PKCE challenge.
    require_pkce: bool,
    token_lifetime: Option<Duration>,
    /// The app turns PKCE off.
    no_pkce: bool,
    /// The app accepts codes nothing binds to the browser (`insecure_allow_code_injection`).
    allow_code_injection: bool,
}

/// The development provider, a recording proxy for its back channel, and the app under test
/// with one remote app `dev` (PKCE on, the default).
struct Setup {
    provider: DevProvider,
    proxy: Proxy,
    app: Server,
    dumps: Dumps,
}

fn remote_app(provider: &DevProvider, proxy: &Proxy, oidc: bool) -> RemoteAppBuilder {
    // The browser goes to the provider itself; the app's back-channel calls go through the proxy.
    let app = RemoteApp::builder("dev")
        .authorize_url(provider.authorize_url().as_str())
        .access_token_url(proxy.url("/oauth2/token"))
        .userinfo_url(proxy.url("/oauth2/userinfo"))
        .base_url(proxy.url("/api/"))
        .consumer_key(CLIENT_ID)
        .consumer_secret(CLIENT_SECRET);
    if oidc {
        app.issuer(provider.issuer()).scope(["profile"])
    } else {
        app.scope(["openid", "profile"])
    }
}

fn setup(options: Options) -> Setup {
    let (l, url) = listener();
    let mut builder = DevProvider::builder()
        .client(
            CLIENT_ID,
            CLIENT_SECRET,
            [format!("{url}auth/dev/callback")],
        )
        .require_pkce(options.require_pkce)
        // Quick to generate in debug builds.
        .id_token_algorithm(DevAlgorithm::Es256);
    if let Some(lifetime) = options.token_lifetime {
        builder = builder.token_lifetime(lifetime);
    }
    let provider = builder.start().expect("dev provider");
    let proxy = Proxy::start(provider.url());
    let oauth = OAuth::new()
        .remote_app(
            remote_app(&provider, &proxy, options.oidc)
                .pkce(!options.no_pkce)
                .insecure_allow_code_injection(options.allow_code_injection),
        )
        .public_url(url.as_str())
        .build()
        .expect("config");
    let dumps = Dumps::default();
    let app = start_app_with(oauth, l, CookieSessionStore::default, dumps.clone());
    Setup {
        provider,
        proxy,
        app,
        dumps,
    }
}

// ---------------------------------------------------------------------------------------------
// Steps of a sign-in.

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// Begins a sign-in with `dev`; returns the authorization URL the app sent the browser to.
async fn begin(visitor: &Visitor, app: &Server, next: Option<&str>) -> Url {
    let path = match next {
        Some(next) => format!("/auth/dev?next={}", encode(next)),
        None => "/auth/dev".to_owned(),
    };
    let start = visitor.get(&app.url(&path)).await;
    assert_eq!(start.status, 302, "{}", start.text());
    start.location_url()
}

/// Submits the provider's consent form for `authorize` (approving as alice); returns the
/// provider's redirect back to the app.
async fn approve(visitor: &Visitor, authorize: &Url) -> Url {
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "approve".into()));
    form.push(("user".into(), "alice".into()));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut post = authorize.clone();
    post.set_query(None);
    let back = visitor.post_form(post.as_str(), &form).await;
    assert_eq!(back.status, 302, "{}", back.text());
    back.location_url()
}

/// A full sign-in; returns the authorization URL and the callback URL it completed with.
async fn sign_in(visitor: &Visitor, app: &Server, next: Option<&str>) -> (Url, Url, Reply) {
    let authorize = begin(visitor, app, next).await;
    let back = approve(visitor, &authorize).await;
    let done = visitor.get(back.as_str()).await;
    assert_eq!(done.status, 303, "{}", done.text());
    (authorize, back, done)
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `url` with its query edited.
fn with_query(url: &Url, edit: impl FnOnce(&mut Vec<(String, String)>)) -> Url {
    let mut pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    edit(&mut pairs);
    let mut out = url.clone();
    out.set_query(None);
    if !pairs.is_empty() {
        out.query_pairs_mut().extend_pairs(&pairs);
    }
    out
}

fn set(pairs: &mut Vec<(String, String)>, name: &str, value: &str) {
    pairs.retain(|(k, _)| k != name);
    pairs.push((name.to_owned(), value.to_owned()));
}

fn remove(pairs: &mut Vec<(String, String)>, name: &str) {
    pairs.retain(|(k, _)| k != name);
}

/// The error kind an error page names.
fn kind_on(page: &Reply) -> Option<String> {
    let text = page.text();
    let start = text.find("<code>")? + "<code>".len();
    let end = text[start..].find("</code>")? + start;
    Some(text[start..end].to_owned())
}

#[track_caller]
fn assert_refused(page: &Reply, status: u16, kind: ErrorKind) {
    assert_eq!(page.status, status, "{}", page.text());
    assert_eq!(
        kind_on(page).as_deref(),
        Some(kind.as_str()),
        "{}",
        page.text()
    );
    assert!(page.location.is_none(), "an error page, not a redirect");
}

async fn signed_in(visitor: &Visitor, app: &Server) -> bool {
    let page = visitor.get(&app.url("/whoami/dev")).await;
    match page.status {
        200 => true,
        401 => false,
        other => panic!("unexpected {other}: {}", page.text()),
    }
}

fn random_state() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

// ---------------------------------------------------------------------------------------------
// CSRF through the callback.

/// CSRF against the redirect URI (RFC 6749 §10.12, RFC 9700 §4.7, RFC 6819 §4.4.1.8): a
/// callback without `state` is refused before any code is exchanged.
#[actix_rt::test]
async fn csrf_callback_without_state_is_refused() {
    let s = setup(Options::default());
    let visitor = Visitor::new();
    let authorize = begin(&visitor, &s.app, None).await;
    let back = approve(&visitor, &authorize).await;
    let before = s.provider.token_requests();
    let stripped = with_query(&back, |q| remove(q, "state"));
    let page = visitor.get(stripped.as_str()).await;
    assert_refused(&page, 400, ErrorKind::StateMissing);
    let empty = with_query(&back, |q| set(q, "state", ""));
    assert_eq!(visitor.get(empty.as_str()).await.status, 400);
    assert_eq!(s.provider.token_requests(), before, "no code was exchanged");
    assert!(!signed_in(&visitor, &s.app).await);
}

/// CSRF with a forged `state` (RFC 6749 §10.12, RFC 9700 §4.7): a `state` this browser was
/// never given — random, or one character off the real one — is refused, exchanges no code and
/// does not spend the genuine handshake. Each `state` carries at least 128 bits (here 256) and
/// is fresh per sign-in.
#[actix_rt::test]
async fn csrf_forged_state_is_refused() {
    let s = setup(Options::default());
    let visitor = Visitor::new();
    let authorize = begin(&visitor, &s.app, None).await;
    let state = param(&authorize, "state").expect("a state");
    assert!(
        state.len() >= 43
            && state
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "state of at least 256 bits, base64url: {state}"
    );
    let other = begin(&Visitor::new(), &s.app, None).await;
    assert_ne!(param(&other, "state").as_deref(), Some(state.as_str()));

    let back = approve(&visitor, &authorize).await;
    let before = s.provider.token_requests();
    let mut one_off = state.clone();
    one_off.replace_range(0..1, if state.starts_with('A') { "B" } else { "A" });
    for forged in [
        random_state(),
        one_off,
        format!("{state}x"),
        state[..42].to_owned(),
    ] {
        let page = visitor
            .get(with_query(&back, |q| set(q, "state", &forged)).as_str())
            .await;
        assert_refused(&page, 400, ErrorKind::StateMismatch);
    }
    assert_eq!(s.provider.token_requests(), before, "no code was exchanged");
    assert!(!signed_in(&visitor, &s.app).await);
    // The genuine callback still completes.
    assert_eq!(visitor.get(back.as_str()).await.status, 303);
    assert!(signed_in(&visitor, &s.app).await);
}

/// Code injection by CSRF (RFC 9700 §4.5 and §4.7, RFC 6819 §4.4.1.8): an attacker signs in
/// at the provider with *their* account and makes the victim's browser open the callback (a
/// link, an image): the victim's browser never began that sign-in, so it is refused — whether
/// the victim has no sign-in in progress or one of their own — and the victim is not signed in
/// to the attacker's account.
#[actix_rt::test]
async fn code_injection_of_another_browsers_callback_is_refused() {
    let s = setup(Options::default());
    let attacker = Visitor::new();
    let attackers_callback = approve(&attacker, &begin(&attacker, &s.app, None).await).await;
    let before = s.provider.token_requests();

    let victim = Visitor::new();
    let page = victim.get(attackers_callback.as_str()).await;
    assert_refused(&page, 400, ErrorKind::StateMissing);
    assert!(!signed_in(&victim, &s.app).await);

    let _victims_own = begin(&victim, &s.app, None).await;
    let page = victim.get(attackers_callback.as_str()).await;
    assert_refused(&page, 400, ErrorKind::StateMismatch);
    assert!(!signed_in(&victim, &s.app).await);
    assert_eq!(s.provider.token_requests(), before, "no code was exchanged");
}

/// Code injection with the victim's own `state` (RFC 9700 §4.5, §2.1.1; RFC 7636 §1): should
/// an attacker learn the victim's `state`, their stolen or own code still cannot be redeemed in
/// the victim's session — PKCE binds the code to the verifier of the browser that asked for it,
/// so the provider refuses the exchange.
#[actix_rt::test]
async fn code_injection_with_the_victims_state_is_stopped_by_pkce() {
    let s = setup(Options::default());
    let attacker = Visitor::new();
    let attackers_callback = approve(&attacker, &begin(&attacker, &s.app, None).await).await;
    let attackers_code = param(&attackers_callback, "code").expect("a code");

    let victim = Visitor::new();
    let victims_authorize = begin(&victim, &s.app, None).await;
    let victims_state = param(&victims_authorize, "state").expect("a state");
    let injected = with_query(&attackers_callback, |q| {
        set(q, "code", &attackers_code);
        set(q, "state", &victims_state);
    });
    let page = victim.get(injected.as_str()).await;
    assert_refused(&page, 400, ErrorKind::Provider);
    assert!(page.text().contains("invalid_grant"), "{}", page.text());
    assert!(!signed_in(&victim, &s.app).await);
    let exchange = s.proxy.token_requests().pop().expect("a token request");
    assert_eq!(exchange.form()["code"], attackers_code);
    assert!(exchange.response.contains("code_verifier does not match"));
}

/// The same attack on an OpenID Connect app without PKCE (RFC 9700 §2.1.1 accepts the nonce
/// instead): the provider redeems the attacker's code, but its `id_token` carries the nonce of
/// the attacker's sign-in, not the one in the victim's session, so the sign-in is refused.
#[actix_rt::test]
async fn code_injection_with_the_victims_state_is_stopped_by_the_nonce() {
    let s = setup(Options {
        oidc: true,
        no_pkce: true,
        ..Options::default()
    });
    let attacker = Visitor::new();
    let attackers_authorize = begin(&attacker, &s.app, None).await;
    assert!(param(&attackers_authorize, "code_challenge").is_none());
    let attackers_callback = approve(&attacker, &attackers_authorize).await;
    let attackers_code = param(&attackers_callback, "code").expect("a code");

    let victim = Visitor::new();
    let victims_state = param(&begin(&victim, &s.app, None).await, "state").expect("a state");
    let injected = with_query(&attackers_callback, |q| {
        set(q, "code", &attackers_code);
        set(q, "state", &victims_state);
    });
    let page = victim.get(injected.as_str()).await;
    assert_refused(&page, 400, ErrorKind::IdTokenNonce);
    assert!(!signed_in(&victim, &s.app).await);
    let exchange = s.proxy.token_requests().pop().expect("a token request");
    assert_eq!(exchange.form()["code"], attackers_code);
    assert_eq!(
        exchange.status, 200,
        "the provider redeemed it: only the nonce stopped it"
    );
}

/// With neither PKCE nor a required nonce nothing stops the attack, so such an app does not
/// build unless it says `insecure_allow_code_injection(true)`; with it, the victim's browser is
/// signed in with the attacker's code — the risk the name states.
#[actix_rt::test]
async fn code_injection_without_pkce_or_nonce_needs_the_loud_opt_in() {
    let s = setup(Options::default());
    let e = OAuth::new()
        .remote_app(remote_app(&s.provider, &s.proxy, false).pkce(false))
        .build()
        .expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Configuration);
    assert!(
        e.to_string().contains("insecure_allow_code_injection"),
        "{e}"
    );

    let s = setup(Options {
        no_pkce: true,
        allow_code_injection: true,
        ..Options::default()
    });
    let attacker = Visitor::new();
    let attackers_callback = approve(&attacker, &begin(&attacker, &s.app, None).await).await;
    let victim = Visitor::new();
    let victims_state = param(&begin(&victim, &s.app, None).await, "state").expect("a state");
    let injected = with_query(&attackers_callback, |q| set(q, "state", &victims_state));
    let page = victim.get(injected.as_str()).await;
    assert_eq!(page.status, 303, "{}", page.text());
    assert!(signed_in(&victim, &s.app).await, "the attack works here");
}

// ---------------------------------------------------------------------------------------------
// PKCE.

/// PKCE with S256, never `plain` (RFC 9700 §2.1.1, RFC 7636 §4.2–4.3): every authorization
/// request carries a fresh `code_challenge` with `code_challenge_method=S256`, the verifier
/// never appears in it, and the token request's `code_verifier` hashes to the challenge.
#[actix_rt::test]
async fn pkce_authorization_request_uses_s256_never_plain() {
    let s = setup(Options::default());
    let visitor = Visitor::new();
    let (authorize, _, _) = sign_in(&visitor, &s.app, None).await;
    assert_eq!(
        param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(!authorize.as_str().contains("plain"), "{authorize}");
    let challenge = param(&authorize, "code_challenge").expect("a code_challenge");
    assert_eq!(challenge.len(), 43, "a base64url SHA-256: {challenge}");

    let exchange = s.proxy.token_requests().pop().expect("a token request");
    let verifier = exchange.form()["code_verifier"].clone();
    assert!(
        (43..=128).contains(&verifier.len()),
        "RFC 7636 §4.1 verifier length"
    );
    assert_eq!(
        URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        challenge,
        "code_challenge = BASE64URL(SHA256(code_verifier))"
    );
    assert!(!authorize.as_str().contains(&verifier));

    let again = begin(&Visitor::new(), &s.app, None).await;
    assert_ne!(
        param(&again, "code_challenge").as_deref(),
        Some(challenge.as_str()),
        "a fresh challenge per sign-in"
    );
}

/// PKCE downgrade (RFC 9700 §4.8 and §2.1.1): an attacker strips the challenge from the
/// authorization request (or turns its method to `plain`) so that a code is issued without
/// one. Our client always sends the verifier when PKCE is on, and the provider refuses a
/// verifier for a code requested without a challenge (or whose `plain` challenge it does not
/// equal), so the sign-in fails with a 400 and nobody is signed in. A provider that requires
/// PKCE refuses the stripped request at once.
#[actix_rt::test]
async fn pkce_downgrade_is_refused() {
    let s = setup(Options::default());
    type Downgrade = fn(&mut Vec<(String, String)>);
    let downgrades: [(&str, Downgrade); 2] = [
        ("challenge stripped", |q| {
            remove(q, "code_challenge");
            remove(q, "code_challenge_method");
        }),
        ("method turned to plain", |q| {
            set(q, "code_challenge_method", "plain")
        }),
    ];
    for (what, downgrade) in downgrades {
        let visitor = Visitor::new();
        let authorize = begin(&visitor, &s.app, None).await;
        let back = approve(&visitor, &with_query(&authorize, downgrade)).await;
        let page = visitor.get(back.as_str()).await;
        assert_refused(&page, 400, ErrorKind::Provider);
        assert!(
            page.text().contains("invalid_grant"),
            "{what}: {}",
            page.text()
        );
        assert!(!signed_in(&visitor, &s.app).await, "{what}");
        let exchange = s.proxy.token_requests().pop().expect("a token request");
        assert!(
            exchange.form().contains_key("code_verifier"),
            "{what}: the client sent its verifier"
        );
        assert_eq!(exchange.status, 400, "{what}: {}", exchange.response);
    }

    let strict = setup(Options {
        require_pkce: true,
        ..Options::default()
    });
    let visitor = Visitor::new();
    let authorize = begin(&visitor, &strict.app, None).await;
    let stripped = with_query(&authorize, |q| {
        remove(q, "code_challenge");
        remove(q, "code_challenge_method");
    });
    let refused = visitor.get(stripped.as_str()).await;
    assert_eq!(refused.status, 302, "{}", refused.text());
    let back = refused.location_url();
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert!(param(&back, "code").is_none());
    let page = visitor.get(back.as_str()).await;
    assert_refused(&page, 400, ErrorKind::Provider);
    assert!(!signed_in(&visitor, &strict.app).await);
}

// ---------------------------------------------------------------------------------------------
// Authorization code replay.

/// Authorization code replay in the same browser (RFC 9700 §4.5, RFC 6819 §4.4.1.1): opening
/// the completed callback again (reload, history, a leaked URL) is refused with a 400 and
/// redeems nothing.
#[actix_rt::test]
async fn code_replay_of_the_same_callback_is_refused() {
    let s = setup(Options::default());
    let visitor = Visitor::new();
    let (_, back, _) = sign_in(&visitor, &s.app, None).await;
    let before = s.provider.token_requests();
    let replay = visitor.get(back.as_str()).await;
    assert_eq!(replay.status, 400, "{}", replay.text());
    let kind = kind_on(&replay);
    assert!(
        matches!(kind.as_deref(), Some("state_mismatch" | "state_missing")),
        "{}",
        replay.text()
    );
    assert_eq!(s.provider.token_requests(), before, "nothing was redeemed");
    // With another sign-in pending in the browser, the replay is a mismatch too.
    let _pending = begin(&visitor, &s.app, None).await;
    assert_refused(
        &visitor.get(back.as_str()).await,
        400,
        ErrorKind::StateMismatch,
    );
    assert_eq!(s.provider.token_requests(), before, "nothing was redeemed");
}

/// Authorization code replay, reported as such (RFC 9700 §4.5): the second visit of a
/// completed callback says `state_mismatch` ("already used"), not `state_missing`, whose
/// message blames a lost cookie or a localhost/127.0.0.1 mix — advice that misleads the user
/// who merely reloaded the page.
#[actix_rt::test]
async fn code_replay_of_the_same_callback_says_already_used() {
    let s = setup(Options::default());
    let visitor = Visitor::new();
    let (_, back, _) = sign_in(&visitor, &s.app, None).await;
    let replay = visitor.get(back.as_str()).await;
    assert_refused(&replay, 400, ErrorKind::StateMismatch);
    assert!(!replay.text().contains("localhost"), "{}", replay.text());
}

/// Authorization code replay with an old copy of the session cookie (RFC 9700 §4.5, RFC 6819
/// §4.4.1.1): a copy of the cookie taken before the callback still lists the handshake, but
/// the crate remembers the `state`s it completed, so the replay is refused and that copy is
/// not signed in.
#[actix_rt::test]
async fn code_replay_with_an_old_session_cookie_is_refused() {
    let s = setup(Options::default());
    let visitor = Visitor::new();
    let authorize = begin(&visitor, &s.app, None).await;
    let back = approve(&visitor, &authorize).await;
    let old_copy = visitor.fork();
    assert_eq!(visitor.get(back.as_str()).await.status, 303);
    let before = s.provider.token_requests();

    let replay = old_copy.get(back.as_str()).await;
    assert_refused(&replay, 400, ErrorKind::StateMismatch);
    assert!(!signed_in(&old_copy, &s.app).await);
    assert_eq!(s.provider.token_requests(), before, "nothing was redeemed");
    assert!(signed_in(&visitor, &s.app).await);
}

/// Authorization code replay at the provider (RFC 6749 §4.1.2, RFC 9700 §4.5, RFC 6819
/// §4.4.1.1): the code is single use — presented again with everything else right, it is
/// refused and the tokens issued from it are revoked, so the signed-in user's next API call
/// asks for a new sign-in (401) rather than acting on revoked tokens.
#[actix_rt::test]
async fn code_replay_at_the_provider_is_refused() {
    let s = setup(Options::default());
    let visitor = Visitor::new();
    sign_in(&visitor, &s.app, None).await;
    let api = visitor.get(&s.app.url("/call/dev/me")).await;
    assert_eq!(api.status, 200, "{}", api.text());

    let first = s.proxy.token_requests().pop().expect("the code exchange");
    let form = first.form();
    let replayed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut res = awc::Client::default()
        .post(s.provider.token_url().as_str())
        .insert_header((
            "authorization",
            first.authorization.clone().expect("HTTP Basic"),
        ))
        .send_form(&replayed)
        .await
        .expect("token endpoint");
    assert_eq!(res.status(), 400);
    let refusal: Value = res.json().await.expect("JSON error");
    assert_eq!(refusal["error"], "invalid_grant", "{refusal}");

    let api = visitor.get(&s.app.url("/call/dev/me")).await;
    assert_eq!(api.status, 401, "{}", api.text());
    assert_eq!(api.json()["error"], "reauthentication_required");
}

// ---------------------------------------------------------------------------------------------
// Mix-up.

/// An OpenID Connect set-up (discovery advertises RFC 9207 `iss`) and a second, honest
/// provider whose issuer an attacker could put in a callback.
fn mix_up_setup() -> (Setup, DevProvider) {
    let other = DevProvider::builder()
        .id_token_algorithm(DevAlgorithm::Es256)
        .start()
        .expect("another provider");
    (
        setup(Options {
            oidc: true,
            ..Options::default()
        }),
        other,
    )
}

async fn assert_iss_advertised(provider: &DevProvider) {
    let mut res = awc::Client::default()
        .get(provider.discovery_url().as_str())
        .send()
        .await
        .expect("discovery");
    let doc: Value = res.json().await.expect("JSON");
    assert_eq!(doc["issuer"], provider.issuer());
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
}

/// Mix-up (RFC 9700 §4.4, RFC 9207 §2.4): a callback whose `iss` names another authorization
/// server — an honest one, or a lookalike of ours — is refused with `issuer_mismatch` before
/// the code goes anywhere.
#[actix_rt::test]
async fn mix_up_callback_from_another_issuer_is_refused() {
    let (s, other) = mix_up_setup();
    assert_iss_advertised(&s.provider).await;
    let issuer = s.provider.issuer().to_owned();
    for iss in [
        other.issuer().to_owned(),
        format!("{issuer}/"),
        issuer.replace("127.0.0.1", "localhost"),
        format!("{issuer}.evil.test"),
    ] {
        let visitor = Visitor::new();
        let back = approve(&visitor, &begin(&visitor, &s.app, None).await).await;
        assert_eq!(param(&back, "iss").as_deref(), Some(issuer.as_str()));
        let before = s.provider.token_requests();
        let page = visitor
            .get(with_query(&back, |q| set(q, "iss", &iss)).as_str())
            .await;
        assert_refused(&page, 400, ErrorKind::IssuerMismatch);
        assert_eq!(
            s.provider.token_requests(),
            before,
            "{iss}: no code exchange"
        );
        assert!(!signed_in(&visitor, &s.app).await);
    }
}

/// Mix-up by omission (RFC 9700 §4.4, RFC 9207 §2.4): the provider advertises
/// `authorization_response_iss_parameter_supported`, so a callback without `iss` is refused
/// with `issuer_mismatch`.
#[actix_rt::test]
async fn mix_up_callback_without_iss_is_refused_when_advertised() {
    let (s, _other) = mix_up_setup();
    assert_iss_advertised(&s.provider).await;
    let visitor = Visitor::new();
    let back = approve(&visitor, &begin(&visitor, &s.app, None).await).await;
    let before = s.provider.token_requests();
    let page = visitor
        .get(with_query(&back, |q| remove(q, "iss")).as_str())
        .await;
    assert_refused(&page, 400, ErrorKind::IssuerMismatch);
    assert_eq!(s.provider.token_requests(), before, "no code exchange");
    assert!(!signed_in(&visitor, &s.app).await);
}

/// Mix-up defence, the honest case (RFC 9207 §2.4): the callback with the right `iss`
/// completes, and its `id_token` is validated.
#[actix_rt::test]
async fn mix_up_callback_with_the_right_iss_completes() {
    let (s, _other) = mix_up_setup();
    let visitor = Visitor::new();
    let (_, back, done) = sign_in(&visitor, &s.app, Some("/after")).await;
    assert_eq!(param(&back, "iss").as_deref(), Some(s.provider.issuer()));
    assert_eq!(done.location.as_deref(), Some("/after"));
    assert!(signed_in(&visitor, &s.app).await);
    let exchange = s.proxy.token_requests().pop().expect("the code exchange");
    assert!(exchange.answer()["id_token"].is_string());
}

// ---------------------------------------------------------------------------------------------
// Open redirect through `next`.

/// The client as an open redirector (RFC 9700 §4.11.1): `next` is kept only as a same-site
/// relative path. Absolute and scheme-relative URLs, backslashes, percent-encoded slashes,
/// `javascript:`/`data:` and tab/newline tricks (which browsers strip, turning `/\t/evil` into
/// `//evil`) all end on `/` after sign-in; `/account?tab=1` is kept.
#[actix_rt::test]
async fn open_redirect_through_next_is_closed() {
    let s = setup(Options::default());
    let evil = [
        "//evil.test",
        "//evil.test/path?x=1",
        "///evil.test",
        "https://evil.test",
        "HTTPS://evil.test/",
        "http:evil.test",
        "/\\evil.test",
        "\\\\evil.test",
        "/\\/evil.test",
        "/%2F%2Fevil.test",
        "/%2f%2fevil.test",
        "/%5Cevil.test",
        "/%5cevil.test",
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "/\t/evil.test",
        "/\n/evil.test",
        "/\r\n/evil.test",
        "\t//evil.test",
        " //evil.test",
        "/\u{0}/evil.test",
        "evil.test",
        "",
    ];
    let app_origin = s.app.url.origin();
    for next in evil {
        let visitor = Visitor::new();
        let (_, _, done) = sign_in(&visitor, &s.app, Some(next)).await;
        let location = done.location.as_deref().expect("a redirect");
        assert_eq!(location, "/", "next = {next:?}");
        // As a browser resolves it.
        let target = s.app.url.join(location).expect("resolvable");
        assert_eq!(target.origin(), app_origin, "next = {next:?}");
    }
    for kept in ["/account?tab=1", "/a/b?c=d#e", "/caf%C3%A9"] {
        let visitor = Visitor::new();
        let (_, _, done) = sign_in(&visitor, &s.app, Some(kept)).await;
        assert_eq!(done.location.as_deref(), Some(kept));
    }
}

// ---------------------------------------------------------------------------------------------
// Session fixation.

/// Session fixation (RFC 6819 §4.4.1.13 in spirit; OWASP session fixation): an attacker plants
/// their own session cookie in the victim's browser before the victim signs in. The cookie
/// changes at sign-in, and the planted copy — which the attacker kept — does not carry the
/// signed-in state.
#[actix_rt::test]
async fn session_fixation_planted_cookie_does_not_carry_the_sign_in() {
    let s = setup(Options::default());
    fixation(&s.app).await;
}

/// Session fixation with server-side sessions (RFC 6819 §4.4.1.13 in spirit): with Redis,
/// the cookie is a session id; it is renewed at sign-in, and the planted id stays signed out.
/// Runs when `REDIS_URL` is set.
#[actix_rt::test]
async fn session_fixation_with_redis_sessions_renews_the_session_id() {
    let Ok(redis) = std::env::var("REDIS_URL") else {
        common::say_skipped("REDIS_URL unset: skipping the Redis session fixation test");
        return;
    };
    let store = actix_session::storage::RedisSessionStore::new(redis)
        .await
        .expect("redis");
    let (l, url) = listener();
    let provider = DevProvider::builder()
        .client(
            CLIENT_ID,
            CLIENT_SECRET,
            [format!("{url}auth/dev/callback")],
        )
        .id_token_algorithm(DevAlgorithm::Es256)
        .start()
        .expect("dev provider");
    let proxy = Proxy::start(provider.url());
    let oauth = OAuth::new()
        .remote_app(remote_app(&provider, &proxy, false))
        .public_url(url.as_str())
        .build()
        .expect("config");
    let app = start_app_with(oauth, l, move || store.clone(), Dumps::default());
    fixation(&app).await;
}

async fn fixation(app: &Server) {
    let host = app.url.host_str().expect("host").to_owned();
    let attacker = Visitor::new();
    // The attacker gets a session cookie from the site (here with a sign-in of their own
    // pending) ...
    let _attackers = begin(&attacker, app, None).await;
    let planted = attacker
        .cookie(&host, SESSION_COOKIE)
        .expect("a session cookie");
    // ... and plants it in the victim's browser, who then signs in.
    let victim = attacker.fork();
    let authorize = begin(&victim, app, None).await;
    let before_callback = victim
        .cookie(&host, SESSION_COOKIE)
        .expect("a session cookie");
    let back = approve(&victim, &authorize).await;
    assert_eq!(victim.get(back.as_str()).await.status, 303);
    let after = victim
        .cookie(&host, SESSION_COOKIE)
        .expect("a session cookie");
    assert_ne!(after, planted, "the session cookie changed at sign-in");
    assert_ne!(
        after, before_callback,
        "the session cookie changed at sign-in"
    );
    assert!(signed_in(&victim, app).await);
    // The attacker's planted copy is not signed in.
    assert!(!signed_in(&attacker, app).await);
    // Nor is any copy of the cookie as it was just before the callback.
    let just_before = Visitor::new();
    just_before
        .jar
        .lock()
        .unwrap()
        .insert((host.clone(), SESSION_COOKIE.to_owned()), before_callback);
    assert!(!signed_in(&just_before, app).await);
}

// ---------------------------------------------------------------------------------------------
// Login CSRF on linking.

/// Login CSRF on linking, through the library (CVE-2015-9284, RFC 9700 §4.7): the form that
/// starts linking carries the session's CSRF token, and `OAuthExtension::verify_csrf` refuses
/// a missing, empty, wrong or other session's token with 403 `csrf_mismatch`; the right one
/// starts the handshake.
#[actix_rt::test]
async fn login_csrf_on_linking_needs_the_sessions_token() {
    let s = setup(Options::default());
    let url = s.app.url("/link/dev");
    // A browser with no session at all.
    let stranger = Visitor::new();
    let page = stranger.post_form(&url, &[("csrf", "")]).await;
    assert_refused(&page, 403, ErrorKind::CsrfMismatch);

    let visitor = Visitor::new();
    sign_in(&visitor, &s.app, None).await;
    let token = visitor.get(&s.app.url("/csrf")).await.text();
    assert!(token.len() >= 43, "256 bits: {token}");
    assert_eq!(
        visitor.get(&s.app.url("/csrf")).await.text(),
        token,
        "stable"
    );
    let attackers = Visitor::new().get(&s.app.url("/csrf")).await.text();
    assert_ne!(attackers, token);
    let mut one_off = token.clone();
    one_off.replace_range(0..1, if token.starts_with('A') { "B" } else { "A" });
    let forms: [(&str, Vec<(&str, &str)>); 5] = [
        ("no field", vec![]),
        ("empty", vec![("csrf", "")]),
        ("wrong", vec![("csrf", "forged")]),
        ("one character off", vec![("csrf", one_off.as_str())]),
        ("another session's", vec![("csrf", attackers.as_str())]),
    ];
    for (what, form) in forms {
        let page = visitor.post_form(&url, &form).await;
        assert_eq!(page.status, 403, "{what}: {}", page.text());
        assert_refused(&page, 403, ErrorKind::CsrfMismatch);
    }
    let ok = visitor.post_form(&url, &[("csrf", token.as_str())]).await;
    assert_eq!(ok.status, 302, "{}", ok.text());
    assert!(ok
        .location
        .as_deref()
        .is_some_and(|l| l.starts_with(s.provider.authorize_url().as_str())));
}

/// CSRF token rotated at sign-in (RFC 9700 §4.7; OWASP: renew anti-CSRF tokens with the
/// session): a token read before sign-in — by whoever saw that page — is refused after it
/// with 403 `csrf_mismatch`; the session's new token starts linking.
#[actix_rt::test]
async fn csrf_token_is_rotated_at_sign_in() {
    let s = setup(Options::default());
    let url = s.app.url("/link/dev");
    let visitor = Visitor::new();
    let before = visitor.get(&s.app.url("/csrf")).await.text();
    assert!(before.len() >= 43, "{before}");
    sign_in(&visitor, &s.app, None).await;
    let page = visitor.post_form(&url, &[("csrf", before.as_str())]).await;
    assert_refused(&page, 403, ErrorKind::CsrfMismatch);
    let after = visitor.get(&s.app.url("/csrf")).await.text();
    assert!(after.len() >= 43, "{after}");
    assert_ne!(after, before);
    let ok = visitor.post_form(&url, &[("csrf", after.as_str())]).await;
    assert_eq!(ok.status, 302, "{}", ok.text());
    // Signing in again (linking) rotates it once more.
    let back = approve(&visitor, &ok.location_url()).await;
    assert_eq!(visitor.get(back.as_str()).await.status, 303);
    let page = visitor.post_form(&url, &[("csrf", after.as_str())]).await;
    assert_refused(&page, 403, ErrorKind::CsrfMismatch);
}

// ---------------------------------------------------------------------------------------------
// The example server binary.

/// The example binary cargo built next to this test (`cargo test` builds examples; with
/// `--test security` alone, run `cargo build --example server` first).
fn server_bin() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    dir.join("examples").join(if cfg!(windows) {
        "server.exe"
    } else {
        "server"
    })
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running example server with its own SQLite file; killed when dropped.
struct Example {
    child: std::process::Child,
    port: u16,
    dir: std::path::PathBuf,
}

impl Example {
    /// Starts the example binary, or says why not and returns `None` when it was not built.
    fn start(envs: &[(&str, String)]) -> Option<Self> {
        use std::io::BufRead as _;
        if !server_bin().exists() {
            common::say_skipped(&format!(
                "{} is not built (run `cargo build --example server`): skipping",
                server_bin().display()
            ));
            return None;
        }
        let port = free_port();
        let dir = std::env::temp_dir().join(format!(
            "actix-oauth-security-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let database = format!(
            "sqlite://{}?mode=rwc",
            dir.join("accounts.sqlite3").display()
        );
        let mut cmd = std::process::Command::new(server_bin());
        cmd.env("BIND", format!("127.0.0.1:{port}"))
            .env("DATABASE_URL", database)
            .env_remove("REDIS_URL")
            .env_remove("ACTIX_OAUTH_CONFIG")
            .env_remove("PUBLIC_URL")
            .env_remove("SESSION_KEY")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn the example server");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let read = std::io::BufReader::new(stdout).read_line(&mut line);
        if read.map(|n| n == 0).unwrap_or(true) {
            let output = child.wait_with_output().expect("exit");
            panic!(
                "the example server did not start: {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        assert!(line.contains("listening on"), "{line}");
        Some(Self { child, port, dir })
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn wait_healthy(&self) {
        for _ in 0..400 {
            let ok = awc::Client::default()
                .get(self.url("/healthz"))
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ok {
                return;
            }
            actix_rt::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the example server did not come up");
    }
}

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The CSRF token in a page's hidden `csrf` field.
fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a csrf field") + marker.len();
    let end = page[start..].find('"').expect("end of the csrf value") + start;
    page[start..end].to_owned()
}

/// Login CSRF on linking, in the example server (CVE-2015-9284, RFC 9700 §4.7): signed in,
/// `GET /auth/{provider}` — which any other site can make the browser send — only shows a
/// confirmation page and never redirects to the provider; `POST /auth/{provider}` without the
/// session's CSRF token, or with a wrong one, is 403 `csrf_mismatch`; with the token from the
/// page it redirects to the provider.
#[cfg(feature = "accounts")]
#[actix_rt::test]
async fn login_csrf_on_linking_in_the_example_server() {
    let Some(server) = Example::start(&[]) else {
        return;
    };
    server.wait_healthy().await;
    let visitor = Visitor::new();
    // Signed out, a GET signs in at once.
    let start = visitor.get(&server.url("/auth/dev")).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let back = approve(&visitor, &start.location_url()).await;
    assert_eq!(visitor.get(back.as_str()).await.status, 303);

    // Signed in, a GET only asks.
    let confirm = visitor.get(&server.url("/auth/dev-oauth1")).await;
    assert_eq!(confirm.status, 200, "{}", confirm.text());
    assert!(confirm.location.is_none());
    assert!(
        confirm.text().contains("method=\"post\""),
        "{}",
        confirm.text()
    );
    let token = csrf_of(&confirm.text());
    // The attacker's own token, from their own signed-in session.
    let attacker = Visitor::new();
    let start = attacker.get(&server.url("/auth/dev")).await;
    let back = approve(&attacker, &start.location_url()).await;
    assert_eq!(attacker.get(back.as_str()).await.status, 303);
    let attackers = csrf_of(&attacker.get(&server.url("/auth/dev-oauth1")).await.text());
    assert_ne!(attackers, token);
    // A form without the field is refused too (its status: see
    // `login_csrf_on_linking_without_the_csrf_field_in_the_example_server`).
    let page = visitor
        .post_form(&server.url("/auth/dev-oauth1"), &[])
        .await;
    assert!((400..500).contains(&page.status), "{}", page.text());
    assert!(page.location.is_none());

    let url = server.url("/auth/dev-oauth1");
    let forms: [(&str, Vec<(&str, &str)>); 3] = [
        ("empty", vec![("csrf", "")]),
        ("wrong", vec![("csrf", "forged")]),
        ("another session's", vec![("csrf", attackers.as_str())]),
    ];
    for (what, form) in forms {
        let page = visitor.post_form(&url, &form).await;
        assert_eq!(page.status, 403, "{what}: {}", page.text());
        assert!(
            page.text().contains("csrf_mismatch"),
            "{what}: {}",
            page.text()
        );
        assert!(page.location.is_none(), "{what}");
    }
    let ok = visitor.post_form(&url, &[("csrf", token.as_str())]).await;
    assert_eq!(ok.status, 302, "{}", ok.text());
    assert!(
        ok.location
            .as_deref()
            .is_some_and(|l| l.contains("/oauth1/authorize?oauth_token=")),
        "{:?}",
        ok.location
    );
}

/// Login CSRF on linking, a form without the `csrf` field at all (CVE-2015-9284): refused like
/// a wrong token, 403 `csrf_mismatch`.
#[cfg(feature = "accounts")]
#[actix_rt::test]
async fn login_csrf_on_linking_without_the_csrf_field_in_the_example_server() {
    let Some(server) = Example::start(&[]) else {
        return;
    };
    server.wait_healthy().await;
    let visitor = Visitor::new();
    let start = visitor.get(&server.url("/auth/dev")).await;
    let back = approve(&visitor, &start.location_url()).await;
    assert_eq!(visitor.get(back.as_str()).await.status, 303);
    let page = visitor
        .post_form(&server.url("/auth/dev-oauth1"), &[])
        .await;
    assert!(page.location.is_none(), "no redirect to the provider");
    assert_eq!(page.status, 403, "{}", page.text());
    assert!(page.text().contains("csrf_mismatch"), "{}", page.text());
}

/// The example server's `Set-Cookie` for the session, fetched from `/`.
async fn session_set_cookie(server: &Example) -> String {
    let res = awc::Client::default()
        .get(server.url("/"))
        .send()
        .await
        .expect("GET /");
    assert_eq!(res.status(), 200);
    res.headers()
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{SESSION_COOKIE}=")) || v.starts_with("__Host-id="))
        .expect("a session cookie")
        .to_owned()
}

fn has_attribute(set_cookie: &str, attribute: &str) -> bool {
    set_cookie
        .split(';')
        .skip(1)
        .any(|a| a.trim().eq_ignore_ascii_case(attribute))
}

/// Cookie flags (RFC 6265 §4.1.2.5–4.1.2.6, RFC 6265bis SameSite; RFC 9700 §4.7): the example
/// server's session cookie is `HttpOnly` (no script can read it), `SameSite=Lax` (not sent on
/// cross-site POSTs), host-only with `Path=/`, and `Secure` with a `__Host-` name when
/// `PUBLIC_URL` is https.
#[cfg(feature = "accounts")]
#[actix_rt::test]
async fn cookie_flags_of_the_example_server() {
    let Some(development) = Example::start(&[]) else {
        return;
    };
    let Some(production) = Example::start(&[("PUBLIC_URL", "https://app.example.test".to_owned())])
    else {
        return;
    };
    development.wait_healthy().await;
    production.wait_healthy().await;
    for (server, secure) in [(&development, false), (&production, true)] {
        let cookie = session_set_cookie(server).await;
        // Over https the name carries the `__Host-` prefix (RFC 6265bis §4.1.3.2): browsers then
        // take it only with `Secure`, `Path=/` and no `Domain`, so no subdomain can plant it.
        let name = if secure { "__Host-id" } else { SESSION_COOKIE };
        assert!(cookie.starts_with(&format!("{name}=")), "{cookie}");
        assert!(has_attribute(&cookie, "HttpOnly"), "{cookie}");
        assert!(has_attribute(&cookie, "SameSite=Lax"), "{cookie}");
        assert!(has_attribute(&cookie, "Path=/"), "{cookie}");
        assert!(
            !cookie.to_ascii_lowercase().contains("domain="),
            "host-only: {cookie}"
        );
        assert_eq!(has_attribute(&cookie, "Secure"), secure, "{cookie}");
    }
}

// ---------------------------------------------------------------------------------------------
// Host names, paths, redirect URIs.

/// State lost between host names (RFC 6749 §10.12: `state` is bound to the browser's session):
/// a sign-in begun on `http://localhost:PORT` returns to `http://127.0.0.1:PORT` (the public
/// URL), where the browser has no session cookie; the 400 page says what happened, naming
/// localhost and 127.0.0.1.
#[actix_rt::test]
async fn state_lost_between_localhost_and_127_0_0_1_is_explained() {
    let s = setup(Options::default());
    let visitor = Visitor::new();
    let on_localhost = s.app.url("/auth/dev").replacen("127.0.0.1", "localhost", 1);
    let start = visitor.get(&on_localhost).await;
    assert_eq!(start.status, 302, "{}", start.text());
    assert!(visitor.cookie("localhost", SESSION_COOKIE).is_some());
    let back = approve(&visitor, &start.location_url()).await;
    assert_eq!(back.host_str(), Some("127.0.0.1"));
    let page = visitor.get(back.as_str()).await;
    assert_refused(&page, 400, ErrorKind::StateMissing);
    let text = page.text();
    assert!(
        text.contains("localhost") && text.contains("127.0.0.1"),
        "{text}"
    );
}

/// A percent-encoded callback path (RFC 3986 §2.3–2.4: `%65` is `e`): `/auth/d%65v/callback`
/// is the callback path to the router, so the middleware handles it too — a forged callback
/// there is an error page, not a silent "declined", and a genuine one completes.
#[actix_rt::test]
async fn percent_encoded_callback_path_is_still_guarded() {
    let s = setup(Options::default());
    let visitor = Visitor::new();
    let back = approve(&visitor, &begin(&visitor, &s.app, None).await).await;
    let query = back.query().expect("a query").to_owned();
    let forged = with_query(&back, |q| set(q, "state", &random_state()));
    let denied = format!("error=access_denied&state={}", random_state());
    for path in ["/auth/d%65v/callback", "/auth/%64%65%76/callback"] {
        let page = visitor
            .get(&s.app.url(&format!("{path}?{}", forged.query().unwrap())))
            .await;
        assert_refused(&page, 400, ErrorKind::StateMismatch);
        let page = visitor.get(&s.app.url(&format!("{path}?{denied}"))).await;
        assert_refused(&page, 400, ErrorKind::StateMismatch);
    }
    let done = visitor
        .get(&s.app.url(&format!("/auth/d%65v/callback?{query}")))
        .await;
    assert_eq!(done.status, 303, "{}", done.text());
    assert!(signed_in(&visitor, &s.app).await);
}

/// Exact redirect URI (RFC 9700 §2.1 and §4.1, RFC 6749 §4.1.3): with a public URL set, the
/// redirect URI never follows the request's `Host` or forwarding headers, and the token
/// request repeats exactly the redirect URI of the authorization request.
#[actix_rt::test]
async fn redirect_uri_is_exact_and_ignores_host_headers() {
    let s = setup(Options::default());
    let expected = s.app.url("/auth/dev/callback");
    for (header, value) in [
        ("host", "evil.test"),
        ("x-forwarded-host", "evil.test"),
        ("forwarded", "host=evil.test;proto=https"),
    ] {
        let res = awc::Client::builder()
            .disable_redirects()
            .finish()
            .get(s.app.url("/auth/dev"))
            .insert_header((header, value))
            .send()
            .await
            .expect("GET /auth/dev");
        assert_eq!(res.status(), 302, "{header}");
        let location = res.headers().get("location").expect("a location");
        let location = Url::parse(location.to_str().unwrap()).unwrap();
        assert_eq!(
            param(&location, "redirect_uri").as_deref(),
            Some(expected.as_str()),
            "{header}: {value}"
        );
    }
    let visitor = Visitor::new();
    let (authorize, _, _) = sign_in(&visitor, &s.app, None).await;
    let exchange = s.proxy.token_requests().pop().expect("the code exchange");
    assert_eq!(
        exchange.form().get("redirect_uri"),
        param(&authorize, "redirect_uri").as_ref()
    );
}

/// The app under test without a public URL, its `OAuth` further configured by `configure`.
fn setup_without_public_url(configure: impl FnOnce(OAuth) -> OAuth) -> Setup {
    let (l, url) = listener();
    let provider = DevProvider::builder()
        .client(
            CLIENT_ID,
            CLIENT_SECRET,
            [format!("{url}auth/dev/callback")],
        )
        .id_token_algorithm(DevAlgorithm::Es256)
        .start()
        .expect("dev provider");
    let proxy = Proxy::start(provider.url());
    let oauth = configure(OAuth::new().remote_app(remote_app(&provider, &proxy, false)))
        .build()
        .expect("config");
    let dumps = Dumps::default();
    let app = start_app_with(oauth, l, CookieSessionStore::default, dumps.clone());
    Setup {
        provider,
        proxy,
        app,
        dumps,
    }
}

/// The `redirect_uri` of the authorization request a sign-in start redirected to.
fn redirect_uri_of(start: &Reply) -> Option<String> {
    assert_eq!(start.status, 302, "{}", start.text());
    let location = Url::parse(start.location.as_deref().expect("a location")).expect("a URL");
    param(&location, "redirect_uri")
}

/// Exact redirect URI without a public URL (RFC 9700 §4.1, RFC 6749 §10.6): forwarding headers
/// any client can send (`X-Forwarded-Host`, `Forwarded`, `X-Forwarded-Proto`) never move the
/// redirect URI off the host the request came to, and a `Host` that is not loopback — not
/// development on this machine — is a configuration error naming `public_url`, never a redirect
/// URI on that host. Development on loopback (`127.0.0.1`, `localhost`) still signs in.
#[actix_rt::test]
async fn redirect_uri_without_public_url_ignores_forged_forwarding_headers() {
    let s = setup_without_public_url(|oauth| oauth);
    let start = s.app.url("/auth/dev");
    let expected = s.app.url("/auth/dev/callback");
    for header in [
        ("x-forwarded-host", "evil.example"),
        ("forwarded", "host=evil.example;proto=https"),
        ("forwarded", "for=192.0.2.60;host=evil.example"),
        ("x-forwarded-proto", "https"),
    ] {
        let page = Visitor::new().get_with(&start, header).await;
        assert_eq!(
            redirect_uri_of(&page).as_deref(),
            Some(expected.as_str()),
            "{header:?}"
        );
    }
    for host in ["evil.example", "evil.example:80", "127.0.0.1.evil.example"] {
        let page = Visitor::new().get_with(&start, ("host", host)).await;
        assert_refused(&page, 500, ErrorKind::Configuration);
        assert!(page.text().contains("public_url"), "{}", page.text());
        assert!(!page.text().contains("evil"), "{}", page.text());
    }
    let port = s.app.url.port().expect("a port");
    let on_localhost = Visitor::new()
        .get_with(&start, ("host", &format!("localhost:{port}")))
        .await;
    assert_eq!(
        redirect_uri_of(&on_localhost),
        Some(format!("http://localhost:{port}/auth/dev/callback"))
    );
    let visitor = Visitor::new();
    sign_in(&visitor, &s.app, None).await;
    assert!(signed_in(&visitor, &s.app).await);
}

/// Forwarding headers from a trusted proxy (`OAuth::trusted_proxies`): believed on connections
/// from that proxy's address — here 127.0.0.1 — and ignored from any other peer.
#[actix_rt::test]
async fn forwarding_headers_are_honoured_only_from_trusted_proxies() {
    let loopback: std::net::IpAddr = "127.0.0.1".parse().expect("an address");
    let trusted = setup_without_public_url(|oauth| oauth.trusted_proxies([loopback]));
    let start = trusted.app.url("/auth/dev");
    for header in [
        ("x-forwarded-host", "app.example"),
        ("forwarded", "for=192.0.2.60;proto=https;host=app.example"),
    ] {
        let page = Visitor::new().get_with(&start, header).await;
        let expected = if header.0 == "forwarded" {
            "https://app.example/auth/dev/callback"
        } else {
            "http://app.example/auth/dev/callback"
        };
        assert_eq!(
            redirect_uri_of(&page).as_deref(),
            Some(expected),
            "{header:?}"
        );
    }
    // A forwarded host that is no host is refused, not joined into a URL.
    let page = Visitor::new()
        .get_with(&start, ("x-forwarded-host", "app.example/evil?"))
        .await;
    assert_refused(&page, 502, ErrorKind::Malformed);

    let elsewhere: std::net::IpAddr = "192.0.2.1".parse().expect("an address");
    let untrusted = setup_without_public_url(|oauth| oauth.trusted_proxies([elsewhere]));
    let page = Visitor::new()
        .get_with(
            &untrusted.app.url("/auth/dev"),
            ("x-forwarded-host", "app.example"),
        )
        .await;
    assert_eq!(
        redirect_uri_of(&page),
        Some(untrusted.app.url("/auth/dev/callback")),
        "the peer is not the trusted proxy"
    );
}

/// Insufficient redirect URI validation (RFC 9700 §4.1, RFC 6819 §4.4.1.7): an authorization
/// request whose `redirect_uri` was tampered with — another host, a path or query appended,
/// dot segments, userinfo, a different case — is refused by the provider with an error page;
/// the browser is never sent there with a code.
#[actix_rt::test]
async fn tampered_redirect_uri_is_refused_by_the_provider() {
    let s = setup(Options::default());
    let visitor = Visitor::new();
    let authorize = begin(&visitor, &s.app, None).await;
    let registered = param(&authorize, "redirect_uri").expect("a redirect_uri");
    let port = s.app.url.port().expect("port");
    for tampered in [
        "http://evil.test/auth/dev/callback".to_owned(),
        format!("{registered}/../../evil"),
        format!("{registered}/"),
        format!("{registered}?next=//evil.test"),
        format!("{registered}#x"),
        registered.replace("callback", "CALLBACK"),
        registered.replace("127.0.0.1", "localhost"),
        format!("http://127.0.0.1:{port}@evil.test/auth/dev/callback"),
        format!("http://127.0.0.1:{port}.evil.test/auth/dev/callback"),
    ] {
        let url = with_query(&authorize, |q| set(q, "redirect_uri", &tampered));
        let consent = visitor.get(url.as_str()).await;
        assert_eq!(consent.status, 400, "{tampered}: {}", consent.text());
        assert!(consent.location.is_none(), "{tampered}");
        let mut form: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        form.push(("decision".into(), "approve".into()));
        form.push(("user".into(), "alice".into()));
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let decided = visitor
            .post_form(s.provider.authorize_url().as_str(), &form)
            .await;
        assert!(
            decided.location.is_none(),
            "{tampered}: {:?}",
            decided.location
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Tokens: URLs, refresh rotation, transport.

/// Token leakage through URLs and the Referer header (RFC 9700 §4.2 and §4.3, RFC 6750 §5.3):
/// the authorization URL carries neither the client secret nor the PKCE verifier; the token
/// request is a POST with HTTP Basic (nothing in its URL); API calls carry the access token in
/// the `Authorization` header, never in the URL; the callback answers with a bare redirect
/// (no page that could leak the code through a Referer), and error pages on the callback hold
/// no third-party resource and are not cached.
#[actix_rt::test]
async fn token_leakage_through_urls_and_referers_is_avoided() {
    let s = setup(Options::default());
    let visitor = Visitor::new();
    let start = visitor.get(&s.app.url("/auth/dev?next=/home")).await;
    assert_eq!(start.header("cache-control"), Some("no-store"));
    let authorize = start.location_url();
    assert!(!authorize.as_str().contains(CLIENT_SECRET));
    let back = approve(&visitor, &authorize).await;
    let done = visitor.get(back.as_str()).await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location.as_deref(), Some("/home"));
    assert!(done.body.is_empty(), "a bare redirect: {}", done.text());
    let api = visitor.get(&s.app.url("/call/dev/me")).await;
    assert_eq!(api.status, 200, "{}", api.text());

    let exchanges = s.proxy.exchanges();
    let token = exchanges
        .iter()
        .find(|e| e.path == "/oauth2/token")
        .expect("the code exchange");
    assert_eq!(token.method, "POST");
    assert!(token.query.is_empty(), "{}", token.query);
    assert!(token
        .authorization
        .as_deref()
        .is_some_and(|a| a.starts_with("Basic ")));
    assert!(!token.request.contains(CLIENT_SECRET));
    let verifier = token.form()["code_verifier"].clone();
    assert!(!authorize.as_str().contains(&verifier));
    let access_token = token.answer()["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned();
    let call = exchanges
        .iter()
        .find(|e| e.path == "/api/me")
        .expect("the API call");
    assert!(!call.query.contains(&access_token) && !call.path.contains(&access_token));
    assert_eq!(
        call.authorization.as_deref(),
        Some(format!("Bearer {access_token}").as_str())
    );

    let replay = visitor.get(back.as_str()).await;
    assert_eq!(replay.status, 400);
    assert_eq!(replay.header("cache-control"), Some("no-store"));
    let page = replay.text();
    let code = param(&back, "code").expect("a code");
    let state = param(&back, "state").expect("a state");
    assert!(!page.contains(&code) && !page.contains(&state), "{page}");
    assert!(
        !page.contains("src=") && !page.contains("http://") && !page.contains("https://"),
        "no third-party resource on a page whose URL holds a code: {page}"
    );
}

/// Refresh token rotation (RFC 9700 §4.14.2, RFC 6819 §5.2.2.3): the provider issues a new
/// refresh token with every refresh and the old one stops working; the client always refreshes
/// with the newest one it was given, keeps it in the session, and never retries the spent one.
#[actix_rt::test]
async fn refresh_token_rotation_uses_the_newest_refresh_token() {
    // Tokens of 20 s are inside the 30 s refresh leeway: every API call refreshes first.
    let s = setup(Options {
        token_lifetime: Some(Duration::from_secs(20)),
        ..Options::default()
    });
    let visitor = Visitor::new();
    sign_in(&visitor, &s.app, None).await;
    for _ in 0..3 {
        let api = visitor.get(&s.app.url("/call/dev/me")).await;
        assert_eq!(api.status, 200, "{}", api.text());
        assert_eq!(api.json()["data"]["preferred_username"], "alice");
    }
    let tokens = s.proxy.token_requests();
    assert_eq!(tokens.len(), 4, "one code exchange, three refreshes");
    for pair in tokens.windows(2) {
        let issued = pair[0].answer()["refresh_token"]
            .as_str()
            .expect("a refresh token")
            .to_owned();
        let used = pair[1].form();
        assert_eq!(used["grant_type"], "refresh_token");
        assert_eq!(used["refresh_token"], issued, "the newest refresh token");
        assert_eq!(pair[1].status, 200, "{}", pair[1].response);
    }
    // The spent refresh tokens are dead at the provider.
    let spent = tokens[0].answer()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut res = awc::Client::default()
        .post(s.provider.token_url().as_str())
        .insert_header((
            "authorization",
            format!(
                "Basic {}",
                STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
            ),
        ))
        .send_form(&[("grant_type", "refresh_token"), ("refresh_token", &spent)])
        .await
        .expect("token endpoint");
    assert_eq!(res.status(), 400);
    let refusal: Value = res.json().await.expect("JSON");
    assert_eq!(refusal["error"], "invalid_grant");
}

/// TLS for every endpoint but loopback (RFC 6749 §3.1–3.2 and §10.9, RFC 6819 §5.1.1, RFC 9700
/// §2.6): plain-http endpoints are refused when the app is built — naming the field — unless
/// the host is loopback; look-alike hosts do not count as loopback; and a discovery document
/// that points at plain-http endpoints off loopback is refused at sign-in.
#[actix_rt::test]
async fn plain_http_endpoints_off_loopback_are_refused() {
    let build = |authorize: &str, token: &str| {
        OAuth::new()
            .remote_app(
                RemoteApp::builder("idp")
                    .authorize_url(authorize)
                    .access_token_url(token)
                    .consumer_key("k")
                    .consumer_secret("s"),
            )
            .build()
    };
    for host in [
        "http://idp.test",
        "http://localhost.evil.test",
        "http://127.0.0.1.nip.io",
        "http://10.0.0.1",
        "ftp://idp.test",
    ] {
        let err = build(&format!("{host}/authorize"), "https://idp.test/token").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration, "{host}");
        assert!(err.to_string().contains("authorize_url"), "{host}: {err}");
        let err = build("https://idp.test/authorize", &format!("{host}/token")).unwrap_err();
        assert!(
            err.to_string().contains("access_token_url"),
            "{host}: {err}"
        );
    }
    for host in [
        "https://idp.test",
        "http://127.0.0.1:9",
        "http://127.1.2.3",
        "http://localhost:9",
        "http://[::1]:9",
    ] {
        assert!(
            build(&format!("{host}/authorize"), &format!("{host}/token")).is_ok(),
            "{host}"
        );
    }
    for (field, builder) in [
        (
            "base_url",
            RemoteApp::builder("idp").base_url("http://api.idp.test/"),
        ),
        (
            "userinfo_url",
            RemoteApp::builder("idp").userinfo_url("http://idp.test/me"),
        ),
        (
            "issuer",
            RemoteApp::builder("idp").issuer("http://idp.test"),
        ),
    ] {
        let err = OAuth::new()
            .remote_app(
                builder
                    .authorize_url("https://idp.test/authorize")
                    .access_token_url("https://idp.test/token")
                    .consumer_key("k")
                    .consumer_secret("s"),
            )
            .build()
            .unwrap_err();
        assert!(err.to_string().contains(field), "{field}: {err}");
    }

    // A discovery document on loopback that sends the token request over plain http elsewhere.
    let (l, idp) = listener();
    let issuer = idp.as_str().trim_end_matches('/').to_owned();
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": "http://idp.test/token",
        "jwks_uri": format!("{issuer}/jwks"),
        "id_token_signing_alg_values_supported": ["ES256"],
    });
    let server = serve(l, move || {
        let doc = doc.clone();
        App::new().route(
            "/.well-known/openid-configuration",
            web::get().to(move || {
                let doc = doc.clone();
                async move { HttpResponse::Ok().json(doc) }
            }),
        )
    });
    let _idp = server;
    let (l, url) = listener();
    let oauth = OAuth::new()
        .remote_app(
            RemoteApp::builder("dev")
                .issuer(issuer.as_str())
                .consumer_key("k")
                .consumer_secret("s"),
        )
        .public_url(url.as_str())
        .build()
        .expect("config");
    let app = start_app_with(oauth, l, CookieSessionStore::default, Dumps::default());
    let page = Visitor::new().get(&app.url("/auth/dev")).await;
    assert_refused(&page, 502, ErrorKind::Discovery);
    assert!(page.text().contains("token_endpoint"), "{}", page.text());
}

// ---------------------------------------------------------------------------------------------
// Secrets in logs and Debug output.

/// Every log record of this test binary, at every level, from every crate.
struct Capture {
    lines: Mutex<Vec<String>>,
}

/// More than any run here writes; reaching it would make the search incomplete.
const MAX_CAPTURED: usize = 2_000_000;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        let mut lines = self.lines.lock().unwrap_or_else(|e| e.into_inner());
        if lines.len() < MAX_CAPTURED {
            lines.push(format!(
                "{} {} {}",
                record.level(),
                record.target(),
                record.args()
            ));
        }
    }

    fn flush(&self) {}
}

static CAPTURE: Capture = Capture {
    lines: Mutex::new(Vec::new()),
};

/// Installs [`CAPTURE`] as the logger, at `Trace`, once for the test binary.
fn capture_logs() -> &'static Capture {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        log::set_logger(&CAPTURE).expect("no other logger in this test binary");
        log::set_max_level(log::LevelFilter::Trace);
    });
    &CAPTURE
}

/// Token leakage through logs and `Debug` (RFC 6819 §4.6.7 "token leakage via log files",
/// §5.1.4.1; RFC 9700 §4.2–4.3's concern for stray copies): with a `Trace` logger capturing
/// every crate, a full
/// OpenID Connect sign-in, an API call with a refresh, a replayed callback and a refused
/// refresh leave none of the client secret (nor its HTTP Basic form), the access and refresh
/// tokens, the authorization code, `state`, the PKCE verifier, the `nonce`, the `id_token` or
/// any session cookie value in a log line, an error page, or the `{:?}` of the
/// `OAuthExtension`, the `RemoteApp`, a `TokenResponse`, an `AuthorizedResponse` or an error.
#[actix_rt::test]
async fn secrets_never_reach_logs_or_debug_output() {
    let logs = capture_logs();
    let s = setup(Options {
        oidc: true,
        // Inside the refresh leeway: the API call refreshes first.
        token_lifetime: Some(Duration::from_secs(20)),
        ..Options::default()
    });
    let host = s.app.url.host_str().unwrap().to_owned();
    let visitor = Visitor::new();
    let mut pages = Vec::new();

    pages.push(visitor.get(&s.app.url("/debug")).await.text());
    let authorize = begin(&visitor, &s.app, Some("/home")).await;
    let back = approve(&visitor, &authorize).await;
    let old_copy = visitor.fork();
    let older_copy = visitor.fork();
    let done = visitor.get(back.as_str()).await;
    assert_eq!(done.status, 303, "{}", done.text());
    let api = visitor.get(&s.app.url("/call/dev/me")).await;
    assert_eq!(api.status, 200, "{}", api.text());
    pages.push(api.text());
    pages.push(visitor.get(&s.app.url("/debug")).await.text());
    // A replayed callback, through the middleware and straight into a handler.
    let replay = old_copy.get(back.as_str()).await;
    assert_eq!(replay.status, 400);
    pages.push(replay.text());
    let captured = older_copy
        .get(
            &s.app
                .url(&format!("/capture/dev/callback?{}", back.query().unwrap())),
        )
        .await;
    assert_eq!(captured.json()["kind"], "state_mismatch");
    pages.push(captured.text());
    // The code replayed at the provider revokes the tokens: the next call's refresh is refused.
    let exchange = s.proxy.token_requests()[0].clone();
    let form = exchange.form();
    let replayed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let res = awc::Client::default()
        .post(s.provider.token_url().as_str())
        .insert_header(("authorization", exchange.authorization.clone().unwrap()))
        .send_form(&replayed)
        .await
        .expect("token endpoint");
    assert_eq!(res.status(), 400);
    let refused = visitor.get(&s.app.url("/call/dev/me")).await;
    assert_eq!(refused.status, 401, "{}", refused.text());
    pages.push(refused.text());

    // Every secret that went over the wire.
    let mut secrets: Vec<(String, String)> = vec![
        ("client secret".into(), CLIENT_SECRET.into()),
        (
            "HTTP Basic credentials".into(),
            STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}")),
        ),
        ("state".into(), param(&authorize, "state").unwrap()),
        ("nonce".into(), param(&authorize, "nonce").expect("a nonce")),
        ("authorization code".into(), param(&back, "code").unwrap()),
    ];
    let tokens = s.proxy.token_requests();
    assert!(tokens.len() >= 3, "code exchange, refresh, refused refresh");
    for (i, exchange) in tokens.iter().enumerate() {
        let form = exchange.form();
        for field in ["code", "code_verifier", "refresh_token"] {
            if let Some(value) = form.get(field) {
                secrets.push((format!("{field} sent in token request {i}"), value.clone()));
            }
        }
        let answer = exchange.answer();
        for field in ["access_token", "refresh_token", "id_token"] {
            if let Some(value) = answer[field].as_str() {
                secrets.push((format!("{field} issued in answer {i}"), value.to_owned()));
            }
        }
    }
    assert!(secrets.iter().any(|(n, _)| n.starts_with("code_verifier")));
    assert!(secrets.iter().any(|(n, _)| n.starts_with("id_token")));
    for cookie in visitor
        .seen_cookies()
        .into_iter()
        .chain(old_copy.seen_cookies())
        .chain(older_copy.seen_cookies())
        .chain(visitor.cookie(&host, SESSION_COOKIE))
    {
        secrets.push(("session cookie".into(), cookie));
    }

    // The builders and the development provider print no secret either.
    s.dumps
        .push(format!("{:?}", remote_app(&s.provider, &s.proxy, true)));
    s.dumps.push(format!(
        "{:?}",
        OAuth::new().remote_app(remote_app(&s.provider, &s.proxy, true))
    ));
    s.dumps.push(format!("{:?}", s.provider));
    let dumps = s.dumps.all();
    assert!(
        dumps.iter().any(|d| d.contains("consumer_secret"))
            && dumps
                .iter()
                .any(|d| d.starts_with("Some(AuthorizedResponse"))
            && dumps.iter().any(|d| d.contains("StateMismatch"))
            && dumps.iter().any(|d| d.contains("ReauthenticationRequired")),
        "the Debug output under test was produced: {dumps:#?}"
    );
    let lines = logs.lines.lock().unwrap().clone();
    assert!(lines.len() < MAX_CAPTURED, "the capture overflowed");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("sign-in with `dev` failed (state_mismatch)")),
        "the capture saw this test's log records"
    );
    let haystacks = lines
        .iter()
        .map(|l| ("log line", l))
        .chain(dumps.iter().map(|d| ("Debug output", d)))
        .chain(pages.iter().map(|p| ("page", p)));
    for (source, text) in haystacks {
        for (name, secret) in &secrets {
            assert!(secret.len() >= 16, "{name} is too short to search for");
            assert!(
                !text.contains(secret.as_str()),
                "the {name} appears in a {source}: {}",
                text.replace(secret.as_str(), "<SECRET>")
            );
        }
    }
}
