//! Calling a provider's API on the user's behalf: Flask-OAuth's `request/get/post/put/delete`
//! and `tokengetter`, with OAuth 2 refresh.

use std::{fmt, sync::Arc, time::Duration};

use ::oauth2::http::{self, header};
use actix_web::HttpRequest;
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use url::Url;

use crate::{
    dpop::{self, DpopKey},
    error::OAuthError,
    extension::OAuthExtension,
    remote_app::RemoteApp,
    response::OAuthResponse,
    token::TokenResponse,
    token_cache::RefreshFailure,
    token_store::{same_access_token, RefreshClaim},
    wire::now_unix,
};

/// The token name that asks the default token getter for an app token (OAuth 2 client
/// credentials) instead of the signed-in user's.
pub const APP_TOKEN: &str = "app";

/// How early before its expiry an access token is refreshed.
const REFRESH_LEEWAY: Duration = Duration::from_secs(30);

/// How much longer than the outbound timeout a refresh lease lasts (the holder's store writes).
const LEASE_MARGIN: Duration = Duration::from_secs(2);
/// How often an instance waiting on another's refresh asks the store for its result.
const LEASE_POLL: Duration = Duration::from_millis(25);
/// How long a refresh's result stays in the store for instances that still hold the old token.
const REFRESH_RESULT_KEPT: Duration = Duration::from_secs(60);

/// What a request sends as its body.
#[derive(Clone)]
enum Body {
    None,
    Form(Vec<(String, String)>),
    Json(Vec<u8>),
    Raw(String, Vec<u8>),
}

/// A call to a provider's API, built by [`OAuthExtension::request`] and its `get`/`post`/`put`/
/// `delete` shortcuts, sent with [`send`](Self::send).
///
/// ```no_run
/// # async fn run(oauth: actix_oauth::OAuthExtension, req: actix_web::HttpRequest) -> Result<(), actix_oauth::OAuthError> {
/// let resp = oauth
///     .post(&req, "twitter", "statuses/update.json")
///     .form(&[("status", "The text we want to tweet")])
///     .send()
///     .await?;
/// if resp.status() == 403 {
///     println!("Your tweet was too long.");
/// }
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until `send` is awaited"]
pub struct RemoteRequest<'a> {
    oauth: &'a OAuthExtension,
    /// The request whose user the call is made for: the token getter reads its token, and a
    /// refreshed token is kept for its session. `None` for a call with a given token.
    req: Option<HttpRequest>,
    provider: String,
    method: http::Method,
    url: String,
    /// A provider endpoint the app was configured with or discovered (user info, email list),
    /// called as it is instead of `url`.
    endpoint: Option<Url>,
    /// The token to call with, instead of the token getter's.
    given: Option<TokenResponse>,
    query: Vec<(String, String)>,
    body: Body,
    headers: Vec<(String, String)>,
    token: Option<String>,
    error: Option<OAuthError>,
}

impl fmt::Debug for RemoteRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteRequest")
            .field("provider", &self.provider)
            .field("method", &self.method)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl<'a> RemoteRequest<'a> {
    pub(crate) fn new(
        oauth: &'a OAuthExtension,
        req: &HttpRequest,
        provider: &str,
        method: http::Method,
        url: &str,
    ) -> Self {
        Self {
            oauth,
            req: Some(req.clone()),
            provider: provider.to_owned(),
            method,
            url: url.to_owned(),
            endpoint: None,
            given: None,
            query: Vec::new(),
            body: Body::None,
            headers: Vec::new(),
            token: None,
            error: None,
        }
    }

    /// A `GET` of one of the remote app's own endpoints (user info, email list) with a given
    /// token: signed or bearer like every API call, without a refresh (there is no session to
    /// keep a refreshed token in).
    pub(crate) fn endpoint(
        oauth: &'a OAuthExtension,
        provider: &str,
        url: &Url,
        token: &TokenResponse,
    ) -> Self {
        Self {
            oauth,
            req: None,
            provider: provider.to_owned(),
            method: http::Method::GET,
            url: url.as_str().to_owned(),
            query: Vec::new(),
            body: Body::None,
            headers: Vec::new(),
            endpoint: Some(url.clone()),
            given: Some(token.clone()),
            token: None,
            error: None,
        }
    }

    /// The same request with another method (a user info endpoint that wants `POST`).
    pub(crate) fn with_method(mut self, method: http::Method) -> Self {
        self.method = method;
        self
    }

    fn pairs(data: &impl Serialize) -> Result<Vec<(String, String)>, OAuthError> {
        let encoded = serde_urlencoded::to_string(data).map_err(|e| {
            OAuthError::config(format!("the request data cannot be form-encoded: {e}"))
        })?;
        serde_urlencoded::from_str(&encoded).map_err(|e| OAuthError::config(e.to_string()))
    }

    /// Adds query parameters.
    pub fn query(mut self, data: &impl Serialize) -> Self {
        match Self::pairs(data) {
            Ok(pairs) => self.query.extend(pairs),
            Err(e) => self.error = Some(e),
        }
        self
    }

    /// Sends `data` form-encoded (the default format): in the query for `GET` and `DELETE`, as
    /// the body otherwise. For OAuth 1.0a, these parameters are part of the signature.
    pub fn form(mut self, data: &impl Serialize) -> Self {
        match Self::pairs(data) {
            Ok(pairs)
                if self.method == http::Method::GET || self.method == http::Method::DELETE =>
            {
                self.query.extend(pairs)
            }
            Ok(pairs) => self.body = Body::Form(pairs),
            Err(e) => self.error = Some(e),
        }
        self
    }

    /// Sends `data` as a JSON body.
    pub fn json(mut self, data: &impl Serialize) -> Self {
        match serde_json::to_vec(data) {
            Ok(bytes) => self.body = Body::Json(bytes),
            Err(e) => {
                self.error = Some(OAuthError::config(format!(
                    "the request data cannot be JSON-encoded: {e}"
                )))
            }
        }
        self
    }

    /// Sends a body already encoded for `content_type`.
    pub fn body(mut self, content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Raw(content_type.into(), body.into());
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Uses the token named `name` (e.g. [`APP_TOKEN`]) from the token getter instead of the
    /// user's. Default: the user's token.
    pub fn token(mut self, name: impl Into<String>) -> Self {
        self.token = Some(name.into());
        self
    }

    /// Sends the request with the token attached (signed for OAuth 1.0a, as a bearer token for
    /// OAuth 2), refreshing an expired OAuth 2 token once, and returns the decoded answer.
    ///
    /// Any HTTP status is a response; errors are failures to get one, or to get a token
    /// ([`OAuthError::TokenMissing`], [`OAuthError::ReauthenticationRequired`]).
    pub async fn send(self) -> Result<OAuthResponse, OAuthError> {
        if let Some(err) = self.error {
            return Err(err);
        }
        let app = self.oauth.remote_app(&self.provider)?;
        let url = match &self.endpoint {
            Some(url) => url.clone(),
            None => self.target(app)?,
        };
        let (mut token, req) = match (&self.given, &self.req) {
            (Some(token), _) => (token.clone(), None),
            (None, Some(req)) => {
                let token = self
                    .oauth
                    .get_token(req, &self.provider, self.token.as_deref())
                    .await?;
                (token, Some(req))
            }
            (None, None) => return Err(OAuthError::TokenMissing(self.provider.clone())),
        };
        // Refreshed where the fresh token can be kept: for a request's session (and the
        // `on_token_update` hook).
        let refresh_for = req.filter(|_| app.protocol.refreshes());
        let mut refreshed = false;
        if let Some(req) = refresh_for {
            if token.is_expired(REFRESH_LEEWAY) && token.refresh_token().is_some() {
                token = self
                    .oauth
                    .refresh(req, &self.provider, &token, self.token.as_deref())
                    .await?;
                refreshed = true;
            }
        }
        let response = self.send_with(app, &url, &token).await?;
        if let Some(req) = refresh_for.filter(|_| !refreshed) {
            if is_invalid_token(&response) && token.refresh_token().is_some() {
                let token = self
                    .oauth
                    .refresh(req, &self.provider, &token, self.token.as_deref())
                    .await?;
                return self.send_with(app, &url, &token).await;
            }
        }
        Ok(response)
    }

    /// The URL the call goes to: relative to the remote app's
    /// [`base_url`](RemoteApp::base_url), or absolute and under it or on one of its
    /// [`api_origin`](crate::RemoteAppBuilder::api_origin)s.
    ///
    /// # Security
    /// The token goes with the request, so a URL a browser could steer elsewhere (`https://evil`,
    /// `\\evil`, a tab before `//evil`) is refused before any request is sent, for OAuth 2
    /// bearer and OAuth 1.0a signed calls alike.
    fn target(&self, app: &RemoteApp) -> Result<Url, OAuthError> {
        let refuse = |why: &str| {
            OAuthError::UrlRefused(format!(
                "`{}` is refused for remote app `{}`: {why}.",
                self.url.chars().take(256).collect::<String>(),
                app.name
            ))
        };
        let mut url = match Url::parse(&self.url) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => app
                .base_url
                .join(self.url.trim_start_matches('/'))
                .map_err(|e| refuse(&format!("it cannot be joined to the base URL ({e})")))?,
            Err(e) => return Err(refuse(&format!("it is not a URL ({e})"))),
        };
        if !app.allows_api_url(&url) {
            return Err(refuse(
                "the token travels only to the provider's own origins, and it is neither under the \
                 remote app's `base_url` nor on one of its `api_origin`s",
            ));
        }
        crate::urls::check_scheme(&url).map_err(refuse)?;
        if !self.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&self.query);
        }
        Ok(url)
    }

    /// Sends the call with `token`; a DPoP-bound token (RFC 9449 §7) with a proof by its key
    /// and the server's last `DPoP-Nonce`, once more when the server asks for a new nonce (§9).
    async fn send_with(
        &self,
        app: &RemoteApp,
        url: &Url,
        token: &TokenResponse,
    ) -> Result<OAuthResponse, OAuthError> {
        let dpop = match (token.is_dpop(), token.dpop(), app.protocol.dpop_nonces()) {
            (false, _, _) => None,
            (true, Some(key), Some(nonces)) => Some((key, nonces)),
            (true, _, _) => {
                return Err(OAuthError::ReauthenticationRequired {
                    provider: app.name.clone(),
                    reason: "the access token is DPoP-bound but its DPoP key was not kept with it"
                        .to_owned(),
                })
            }
        };
        let mut retried = false;
        loop {
            let proof = dpop
                .map(|(key, nonces)| {
                    let nonce = nonces.get(dpop::NonceServer::Resource, url);
                    key.proof(
                        self.method.as_str(),
                        url,
                        Some(token.access_token().secret()),
                        nonce.as_deref(),
                    )
                })
                .transpose()?;
            let response = self.send_once(app, url, token, proof).await?;
            let Some((_, nonces)) = dpop else {
                return Ok(response);
            };
            let fresh_nonce = nonces.remember(dpop::NonceServer::Resource, url, response.headers());
            if retried
                || !fresh_nonce
                || !dpop::asks_for_nonce(response.status(), response.headers())
            {
                return Ok(response);
            }
            retried = true;
        }
    }

    async fn send_once(
        &self,
        app: &RemoteApp,
        url: &Url,
        token: &TokenResponse,
        dpop_proof: Option<String>,
    ) -> Result<OAuthResponse, OAuthError> {
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(url.as_str());
        let form: &[(String, String)] = match &self.body {
            Body::Form(pairs) => pairs,
            _ => &[],
        };
        let authorization = app.protocol.authorization(
            &app.name,
            &app.credentials,
            self.method.as_str(),
            url,
            form,
            token,
        )?;
        builder = builder.header(header::AUTHORIZATION, authorization);
        if let Some(proof) = dpop_proof {
            builder = builder.header("DPoP", proof);
        }
        let body = match &self.body {
            Body::None => Vec::new(),
            Body::Form(pairs) => {
                builder = builder.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                serde_urlencoded::to_string(pairs)
                    .map_err(|e| OAuthError::config(e.to_string()))?
                    .into_bytes()
            }
            Body::Json(bytes) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                bytes.clone()
            }
            Body::Raw(content_type, bytes) => {
                builder = builder.header(header::CONTENT_TYPE, content_type.as_str());
                bytes.clone()
            }
        };
        if let Some(name) = &app.client_id_header {
            builder = builder.header(name.as_str(), app.credentials.id.as_str());
        }
        for (name, value) in &app.api_headers {
            if !self
                .headers
                .iter()
                .any(|(n, _)| n.eq_ignore_ascii_case(name))
            {
                builder = builder.header(name.as_str(), value.as_str());
            }
        }
        for (name, value) in &self.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .body(body)
            .map_err(|e| OAuthError::config(format!("the request cannot be built: {e}")))?;
        let response = self.oauth.http_for(app).send(request).await?;
        let (parts, body) = response.into_parts();
        Ok(OAuthResponse::new(
            parts.status.as_u16(),
            parts.headers,
            body,
        ))
    }
}

/// A 401 whose `WWW-Authenticate` says the bearer token is invalid (RFC 6750 §3.1).
fn is_invalid_token(response: &OAuthResponse) -> bool {
    response.status() == 401
        && response
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("invalid_token"))
}

fn digest(provider: &str, secret: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(provider.as_bytes());
    hasher.update([0]);
    hasher.update(secret.as_bytes());
    hasher.finalize().into()
}

impl OAuthExtension {
    /// Starts an API call to remote app `provider` on behalf of the user of `req`. `url` is
    /// relative to the remote app's [`base_url`](RemoteApp::base_url), or absolute and under it
    /// (or on one of its [`api_origin`](crate::RemoteAppBuilder::api_origin)s): the token never
    /// travels anywhere else.
    pub fn request<'a>(
        &'a self,
        req: &HttpRequest,
        provider: &str,
        method: http::Method,
        url: &str,
    ) -> RemoteRequest<'a> {
        RemoteRequest::new(self, req, provider, method, url)
    }

    /// A `GET` API call; see [`request`](Self::request).
    pub fn get<'a>(&'a self, req: &HttpRequest, provider: &str, url: &str) -> RemoteRequest<'a> {
        self.request(req, provider, http::Method::GET, url)
    }

    /// A `POST` API call; see [`request`](Self::request).
    pub fn post<'a>(&'a self, req: &HttpRequest, provider: &str, url: &str) -> RemoteRequest<'a> {
        self.request(req, provider, http::Method::POST, url)
    }

    /// A `PUT` API call; see [`request`](Self::request).
    pub fn put<'a>(&'a self, req: &HttpRequest, provider: &str, url: &str) -> RemoteRequest<'a> {
        self.request(req, provider, http::Method::PUT, url)
    }

    /// A `DELETE` API call; see [`request`](Self::request).
    pub fn delete<'a>(&'a self, req: &HttpRequest, provider: &str, url: &str) -> RemoteRequest<'a> {
        self.request(req, provider, http::Method::DELETE, url)
    }

    /// The token for a call: the app's token getter if one is registered, else the default one
    /// (the token store for the user's token, client credentials for [`APP_TOKEN`]).
    pub async fn get_token(
        &self,
        req: &HttpRequest,
        provider: &str,
        name: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        let app = self.remote_app(provider)?;
        let token = match self.token_getter_fn() {
            Some(getter) => getter(req.clone(), provider.to_owned(), name.map(str::to_owned)).await?,
            None => match name {
                Some(APP_TOKEN) => Some(self.app_token(app).await?),
                None | Some("user") => self.stored_token(req, provider).await?,
                Some(other) => {
                    return Err(OAuthError::config(format!(
                        "the default token getter knows no token named `{other}`; register a token getter."
                    )))
                }
            },
        };
        token.ok_or_else(|| OAuthError::TokenMissing(provider.to_owned()))
    }

    /// A fresh token for `token`'s refresh token (RFC 6749 §6), outside any request: for a
    /// token an app keeps itself, such as a command-line tool's from
    /// [`device_token`](Self::device_token). The refresh authenticates as the app does at its
    /// token endpoint and, for a DPoP-bound token, proves the same key; the refresh token is
    /// kept when the provider sends no new one. Nothing is stored: keep what it returns.
    ///
    /// Tokens of a browser's session are refreshed by the API calls themselves, once across
    /// instances; this is not needed for them.
    ///
    /// # Errors
    /// [`OAuthError::ReauthenticationRequired`] when `token` has no refresh token or the
    /// provider refuses it; transport and configuration errors as for any token request.
    pub async fn refresh_token(
        &self,
        provider: &str,
        token: &TokenResponse,
    ) -> Result<TokenResponse, OAuthError> {
        let app = self.remote_app(provider)?;
        let Some(refresh_token) = token.refresh_token() else {
            return Err(OAuthError::ReauthenticationRequired {
                provider: provider.to_owned(),
                reason: "the token has no refresh token".to_owned(),
            });
        };
        let fresh = app
            .protocol
            .refresh(
                provider,
                self.http_for(app),
                &app.credentials,
                refresh_token,
                token.dpop(),
            )
            .await
            .map_err(|err| match err {
                OAuthError::Provider { .. } | OAuthError::UnexpectedStatus { .. } => {
                    OAuthError::ReauthenticationRequired {
                        provider: provider.to_owned(),
                        reason: format!("the refresh was refused: {err}"),
                    }
                }
                other => other,
            })?;
        // RFC 6749 §6: without a new refresh token, the old one stays valid.
        Ok(if fresh.refresh_token().is_none() {
            fresh.with_refresh_token(Some(refresh_token.clone()))
        } else {
            fresh
        })
    }

    /// An app token from the client credentials grant (RFC 6749 §4.4), fetched once and reused
    /// until it expires.
    pub async fn app_token(&self, app: &RemoteApp) -> Result<TokenResponse, OAuthError> {
        let slot = {
            let cache = self.token_cache();
            let mut slots = cache.app_tokens.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(slots.entry(app.name.clone()).or_default())
        };
        let mut cached = slot.lock().await;
        if let Some(token) = &*cached {
            if !token.is_expired(REFRESH_LEEWAY) {
                return Ok(token.clone());
            }
        }
        let token = app
            .protocol
            .client_credentials(&app.name, self.http_for(app), &app.credentials)
            .await?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Refreshes an OAuth 2 token (RFC 6749 §6), once for all concurrent callers holding the same
    /// refresh token; persists it (token store, and the `on_token_update` hook).
    pub(crate) async fn refresh(
        &self,
        req: &HttpRequest,
        provider: &str,
        token: &TokenResponse,
        name: Option<&str>,
    ) -> Result<TokenResponse, OAuthError> {
        self.remote_app(provider)?;
        let Some(refresh_token) = token.refresh_token() else {
            return Err(OAuthError::ReauthenticationRequired {
                provider: provider.to_owned(),
                reason: "the access token expired and there is no refresh token".to_owned(),
            });
        };
        let key = digest(provider, refresh_token.secret());
        let slot = {
            let cache = self.token_cache();
            let mut map = cache.refreshes.lock().unwrap_or_else(|e| e.into_inner());
            let now = now_unix();
            // Results are kept briefly for callers that raced the refresh, then forgotten.
            map.retain(|_, (created, _)| now.saturating_sub(*created) < 30);
            Arc::clone(&map.entry(key).or_insert_with(|| (now, Arc::default())).1)
        };
        let mut result = Arc::clone(&slot).lock_owned().await;
        let fresh = match &*result {
            Some(Ok(fresh)) => fresh.clone(),
            // The refresh these callers waited on failed; they share its outcome instead of
            // each asking the provider again.
            Some(Err(failure)) => return Err(failure.clone().into_error(provider)),
            None => {
                // The refresh runs in its own task: if this request is cancelled (the browser
                // went away), it still completes and the `on_token_update` hook still sees a
                // rotated refresh token, which would otherwise be lost.
                let oauth = self.clone();
                let task_req = req.clone();
                let provider_name = provider.to_owned();
                let refresh_token = refresh_token.clone();
                let dpop = token.dpop().cloned();
                let by_default_getter = self.token_getter_fn().is_none() && name.is_none();
                let current = token.clone();
                let task = actix_rt::spawn(async move {
                    let outcome = refresh_shared(
                        &oauth,
                        &task_req,
                        &provider_name,
                        &current,
                        &refresh_token,
                        dpop.as_ref(),
                        by_default_getter,
                    )
                    .await;
                    *result = Some(match &outcome {
                        Ok((fresh, _)) => Ok(fresh.clone()),
                        Err(err) => Err(RefreshFailure::of(err)),
                    });
                    drop(result);
                    if outcome.is_err() {
                        // Later callers try again rather than inherit a failure.
                        let cache = oauth.token_cache();
                        let mut map = cache.refreshes.lock().unwrap_or_else(|e| e.into_inner());
                        map.remove(&key);
                    }
                    let (fresh, refreshed_here) = outcome?;
                    // The hook hears of a refresh once, from the instance that made it.
                    if let (true, Some(hook)) = (refreshed_here, oauth.token_update_fn()) {
                        hook(task_req, provider_name, fresh.clone()).await?;
                    }
                    Ok::<_, OAuthError>(fresh)
                });
                let fresh = task.await.map_err(|_| {
                    OAuthError::Transport("the token refresh task was cancelled".to_owned())
                })??;
                if by_default_getter {
                    self.update_stored_token(req, provider, token, &fresh)
                        .await?;
                }
                return Ok(fresh);
            }
        };
        drop(result);
        if self.token_getter_fn().is_none() && name.is_none() {
            self.update_stored_token(req, provider, token, &fresh)
                .await?;
        }
        Ok(fresh)
    }
}

/// A refresh shared by every instance of the app through the token store: the instance that
/// claims the lease on this refresh token asks the provider and publishes the result, the others
/// wait for it (at most the lease: a crashed holder's lease expires, and a waiter takes over).
/// With the result `true` when this process asked the provider.
///
/// # Security
/// A provider that rotates refresh tokens and revokes a grant whose refresh token is used twice
/// (RFC 9700 §4.14.2) signs the user out everywhere if two instances refresh at once.
async fn refresh_shared(
    oauth: &OAuthExtension,
    req: &HttpRequest,
    provider: &str,
    current: &TokenResponse,
    refresh_token: &::oauth2::RefreshToken,
    dpop: Option<&DpopKey>,
    by_default_getter: bool,
) -> Result<(TokenResponse, bool), OAuthError> {
    let app = oauth.remote_app(provider)?;
    let store = &oauth.inner.token_store;
    let key = hex(&digest(provider, refresh_token.secret()));
    let lease = oauth.http_for(app).configured_timeout() + LEASE_MARGIN;
    let started = std::time::Instant::now();
    loop {
        match store.claim_refresh(&app.name, &key, lease).await? {
            RefreshClaim::Refreshed(fresh) => return Ok((fresh, false)),
            RefreshClaim::Busy => {
                if started.elapsed() > lease + Duration::from_secs(1) {
                    return Err(OAuthError::Timeout(lease));
                }
                actix_rt::time::sleep(LEASE_POLL).await;
            }
            RefreshClaim::Leased => {
                // Rotated already by an instance whose published result is gone: the session's
                // token in the store is the one to use, and this refresh token is spent.
                if by_default_getter {
                    if let Some(stored) = oauth.stored_token(req, provider).await? {
                        if !same_access_token(&stored, current)
                            && !stored.is_expired(REFRESH_LEEWAY)
                        {
                            store
                                .finish_refresh(&app.name, &key, Some(&stored), REFRESH_RESULT_KEPT)
                                .await?;
                            return Ok((stored, false));
                        }
                    }
                }
                let outcome =
                    refresh_once(oauth, req, provider, refresh_token, dpop, by_default_getter)
                        .await;
                let published = store
                    .finish_refresh(&app.name, &key, outcome.as_ref().ok(), REFRESH_RESULT_KEPT)
                    .await;
                if let Err(e) = published {
                    log::warn!(
                        "actix-oauth: a refresh's result could not be shared ({})",
                        e.kind()
                    );
                }
                return outcome.map(|fresh| (fresh, true));
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut text, b| {
        let _ = write!(text, "{b:02x}");
        text
    })
}

/// One refresh token request; a refusal becomes [`OAuthError::ReauthenticationRequired`] (and
/// forgets the session's token when the default getter supplied it).
async fn refresh_once(
    oauth: &OAuthExtension,
    req: &HttpRequest,
    provider: &str,
    refresh_token: &::oauth2::RefreshToken,
    dpop: Option<&DpopKey>,
    by_default_getter: bool,
) -> Result<TokenResponse, OAuthError> {
    let app = oauth.remote_app(provider)?;
    let refreshed = app
        .protocol
        .refresh(
            provider,
            oauth.http_for(app),
            &app.credentials,
            refresh_token,
            dpop,
        )
        .await;
    let fresh = match refreshed {
        Ok(fresh) => fresh,
        Err(err @ (OAuthError::Provider { .. } | OAuthError::UnexpectedStatus { .. })) => {
            if by_default_getter {
                if let Err(e) = oauth.forget_token(req, provider).await {
                    log::warn!(
                        "actix-oauth: a refused token could not be forgotten ({})",
                        e.kind()
                    );
                }
            }
            return Err(OAuthError::ReauthenticationRequired {
                provider: provider.to_owned(),
                reason: format!("the refresh was refused: {err}"),
            });
        }
        Err(other) => return Err(other),
    };
    // RFC 6749 §6: without a new refresh token, the old one stays valid.
    Ok(if fresh.refresh_token().is_none() {
        fresh.with_refresh_token(Some(refresh_token.clone()))
    } else {
        fresh
    })
}
