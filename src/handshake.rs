//! The handshake: [`OAuthExtension::authorize`] starts it, the callback completes it (the
//! code or verifier exchanged, the token kept, the session renewed); the redirect URI and the
//! CSRF token of forms that start a linking sign-in.

use actix_session::SessionExt as _;
use actix_web::{
    http::header::{HeaderValue, CACHE_CONTROL, HOST, LOCATION},
    HttpMessage as _, HttpRequest, HttpResponse,
};
use url::Url;

use crate::{
    callback_query::CallbackQuery,
    error::OAuthError,
    extension::OAuthExtension,
    remote_app::RemoteApp,
    session::{self, Pending},
    step_up::SignInOptions,
    token::TokenResponse,
    wire::now_unix,
};

/// The result of a completed handshake, passed from the middleware to the extractor.
#[derive(Clone, Debug)]
pub(crate) struct Authorized {
    pub(crate) provider: String,
    pub(crate) token: TokenResponse,
    pub(crate) next: Option<String>,
}

/// Marks a request whose CSRF token [`OAuthExtension::verify_csrf`] accepted.
#[derive(Clone, Copy, Debug)]
struct CsrfVerified;

/// What a callback request brought: its parameters, or — a POSTed callback that came without
/// its session — the page that submits it again from this app's origin.
pub(crate) enum CallbackInput {
    Params(CallbackQuery),
    Relay(HttpResponse),
}

/// What a callback came to, kept in the request's extensions.
#[derive(Clone, Debug)]
pub(crate) struct HandshakeOutcome {
    pub(crate) provider: String,
    /// `None`: the user declined.
    pub(crate) authorized: Option<Authorized>,
}

impl OAuthExtension {
    /// The exact redirect URI of a remote app for this request: its absolute callback, or the
    /// [`public_url`](crate::OAuth::public_url) joined with its callback path.
    ///
    /// Without a public URL the origin comes from the request, only where it cannot be forged:
    /// on a connection from a [trusted proxy](crate::OAuth::trusted_proxies), from its forwarding
    /// headers; on a connection from loopback whose `Host` is loopback too (`127.0.0.1`, `[::1]`,
    /// `localhost`: development on this machine), from the `Host`.
    ///
    /// # Errors
    /// [`OAuthError::Configuration`] for any other request without a public URL: set
    /// [`OAuth::public_url`](crate::OAuth::public_url). A `Host` or `X-Forwarded-Host` header anyone can send never
    /// becomes the redirect URI.
    pub fn redirect_uri(&self, req: &HttpRequest, app: &RemoteApp) -> Result<String, OAuthError> {
        if let Some((uri, _)) = self.inner.fixed_redirects.get(&app.name) {
            return Ok(uri.clone());
        }
        // Built with the app: an absolute callback, or `public_url` + the callback path. Only a
        // callback path without `public_url` depends on the request.
        Ok(format!(
            "{}{}",
            self.request_origin(req)?,
            app.callback_path()
        ))
    }

    /// The origin a request came to, where it can be believed (see [`redirect_uri`](Self::redirect_uri)).
    pub(crate) fn request_origin(&self, req: &HttpRequest) -> Result<String, OAuthError> {
        let peer = req.peer_addr().map(|addr| addr.ip().to_canonical());
        if peer.is_some_and(|ip| self.inner.trusted_proxies.contains(&ip)) {
            let info = req.connection_info();
            return origin(info.scheme(), info.host())
                .map(|(origin, _)| origin)
                .ok_or_else(|| {
                    OAuthError::malformed(
                        "forwarding headers",
                        "the trusted proxy's forwarded host or scheme is not an origin.",
                    )
                });
        }
        let host = req
            .headers()
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()));
        let scheme = if req.app_config().secure() {
            "https"
        } else {
            "http"
        };
        let local = host
            .and_then(|host| origin(scheme, host))
            .filter(|(_, url)| {
                peer.is_some_and(|ip| ip.is_loopback()) && crate::urls::is_loopback(url)
            });
        match local {
            Some((origin, _)) => Ok(origin),
            None => Err(OAuthError::config(
                "no `public_url` is set, so redirect URIs come from the request, which is only \
                 believed from loopback to a loopback host (development) or from a trusted \
                 proxy: set `OAuth::public_url` (or `OAuth::trusted_proxies`).",
            )),
        }
    }

    /// Starts signing in with remote app `provider`: Flask-OAuth's `authorize(callback)`.
    ///
    /// Returns the redirect to the provider's authorization page. The handshake's secrets
    /// (`state`, the PKCE verifier) stay in the session, bound to this browser. `next` is kept if
    /// it is a same-site relative path (`/account?tab=1`) and silently dropped otherwise.
    ///
    /// # Security
    /// `state` carries 256 random bits and is single use (RFC 6749 §10.12, RFC 9700 §4.7);
    /// PKCE S256 is on by default (RFC 7636).
    pub async fn authorize(
        &self,
        req: &HttpRequest,
        provider: &str,
        next: Option<&str>,
    ) -> Result<HttpResponse, OAuthError> {
        self.authorize_with(req, provider, next, &SignInOptions::default())
            .await
    }

    /// [`authorize`](Self::authorize) asking this sign-in for `max_age`, `acr_values` or
    /// `prompt` (OpenID Connect Core §3.1.2.1) instead of the remote app's defaults: for a
    /// step-up before a sensitive action. The completed sign-in's ID token must show them
    /// (`auth_time`, `acr`), else the callback fails with
    /// [`OAuthError::InsufficientAuthentication`]. [`RequireFreshSignIn`](crate::RequireFreshSignIn)
    /// does this for whole routes.
    ///
    /// # Errors
    /// As [`authorize`](Self::authorize); [`OAuthError::Configuration`] for `max_age` or
    /// `acr_values` on an app without OpenID Connect.
    pub async fn authorize_with(
        &self,
        req: &HttpRequest,
        provider: &str,
        next: Option<&str>,
        options: &SignInOptions,
    ) -> Result<HttpResponse, OAuthError> {
        let app = self.remote_app(provider)?;
        let redirect_uri = self.redirect_uri(req, app)?;
        let encoded = self
            .inner
            .fixed_redirects
            .get(&app.name)
            .map(|(_, encoded)| encoded.as_str());
        let (location, handshake, dpop_key) = app
            .protocol
            .begin(
                self.http_for(app),
                &app.credentials,
                &redirect_uri,
                encoded,
                options,
            )
            .await?;
        if let Some(key) = dpop_key {
            // The key the pushed request named (`dpop_jkt`) waits for the code exchange in the
            // token store, server-side like the tokens it will bind, never in the cookie.
            let parked =
                TokenResponse::new(crate::AccessToken::new(String::new())).with_dpop(Some(key));
            self.inner
                .token_store
                .save(&pending_key_handle(handshake.key()), &app.name, &parked)
                .await?;
        }
        let entry = Pending {
            provider: app.name.clone(),
            next: next.and_then(session::safe_next),
            created: now_unix(),
            link: req.extensions().contains::<CsrfVerified>(),
            handshake,
        };
        session::push_pending(
            &req.get_session(),
            entry,
            self.inner.max_pending,
            self.inner.handshake_lifetime,
            self.inner.max_session_bytes,
        )?;
        // The URL's bytes become the header value as they are (checked, not copied).
        let location = HeaderValue::from_maybe_shared(actix_web::web::Bytes::from(location))
            .map_err(|_| {
                OAuthError::config("the authorization URL is not a valid header value.")
            })?;
        Ok(HttpResponse::Found()
            .insert_header((LOCATION, location))
            .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
            .finish())
    }

    /// Completes the handshake a callback request carries; `Ok(None)` when the user declined.
    ///
    /// You rarely call this yourself: [`OAuthMiddleware`](crate::OAuthMiddleware) does it on
    /// callback paths, and [`AuthorizedResponse`](crate::AuthorizedResponse) does it elsewhere.
    /// On success the token is kept in the token store, the session id is renewed and the CSRF
    /// token rotated.
    pub(crate) async fn complete(
        &self,
        req: &HttpRequest,
        provider: &str,
        query: &CallbackQuery,
    ) -> Result<Option<Authorized>, OAuthError> {
        let app = self.remote_app(provider)?;
        let (key, drawn_here) = app.protocol.handshake_key(query)?;
        let session = req.get_session();
        let used = &self.inner.used_states;
        if drawn_here && used.was_used(key) {
            // Said before looking at the session, which may hold nothing any more: "already
            // used", not "cookie lost".
            return Err(OAuthError::StateMismatch);
        }
        let pending =
            session::take_pending(&session, &app.name, key, self.inner.handshake_lifetime)?;
        if drawn_here
            && !self
                .use_once(used, "state", key, self.inner.handshake_lifetime)
                .await?
        {
            return Err(OAuthError::StateMismatch);
        }
        let dpop_key = if app.protocol.dpop() {
            let handle = pending_key_handle(key);
            let store = &self.inner.token_store;
            let parked = store.load(&handle, &app.name).await?;
            if parked.is_some() {
                store.remove(&handle, &app.name).await?;
            }
            parked.and_then(|parked| parked.dpop().cloned())
        } else {
            None
        };
        let token = app
            .protocol
            .complete(
                self.http_for(app),
                &app.credentials,
                &pending.handshake,
                query,
                || self.redirect_uri(req, app),
                dpop_key,
            )
            .await?;
        let Some(token) = token else {
            return Ok(None);
        };
        // A step-up keeps the session's other sign-ins, for the same user only.
        let reauthenticated = crate::protocol::Protocol::reauthenticates(&pending.handshake)
            && self.same_user(&session, &app.name, &token).await?;
        self.keep_token(&session, &app.name, &token, pending.link || reauthenticated)
            .await?;
        Ok(Some(Authorized {
            provider: app.name.clone(),
            token,
            next: pending.next,
        }))
    }

    /// Keeps a sign-in's token in the token store under a new handle for this session (moving
    /// the tokens of earlier sign-ins in this session along), and renews the session id.
    ///
    /// # Security
    /// A new handle and a new session id at every sign-in defeat session fixation (RFC 6819
    /// §4.4.1.13 spirit): a session planted in the browser before sign-in reaches neither the
    /// tokens nor the signed-in session afterwards. Only a *linking* sign-in (`link`: started
    /// after [`verify_csrf`](Self::verify_csrf)) carries the earlier sign-ins' tokens over;
    /// any other drops them, so a planted session's tokens never become the user's.
    async fn keep_token(
        &self,
        session: &actix_session::Session,
        provider: &str,
        token: &TokenResponse,
        link: bool,
    ) -> Result<(), OAuthError> {
        let handle = crate::wire::random_token();
        let store = &self.inner.token_store;
        if let Some(old) = session::token_handle(session) {
            let moved = if link {
                store.rename(&old, &handle).await
            } else {
                store.remove_all(&old).await
            };
            if let Err(e) = moved {
                // The earlier sign-ins' tokens are lost; this sign-in still completes.
                log::warn!(
                    "actix-oauth: the tokens of earlier sign-ins could not be {} ({})",
                    if link { "carried over" } else { "deleted" },
                    e.kind()
                );
            }
        }
        session::remove_legacy_tokens(session);
        store.save(&handle, provider, token).await?;
        self.index_sign_in(&handle, provider, token).await;
        if link {
            // The earlier sign-ins' tokens moved to the new handle: so do their index entries.
            for name in self.inner.apps.keys().filter(|name| *name != provider) {
                if let Ok(Some(earlier)) = store.load(&handle, name).await {
                    self.index_sign_in(&handle, name, &earlier).await;
                }
            }
        }
        session::replace_token_handle(session, &handle)?;
        session.renew();
        // A new CSRF token with the new session.
        session::rotate_csrf(session);
        Ok(())
    }

    /// Reads a callback request by the way remote app `provider` has the provider answer: the
    /// query of a `GET`, or the form of a `POST` ([`ResponseMode::FormPost`]). A POSTed
    /// callback that came without any sign-in in progress in its session, and was not relayed
    /// yet, gets the relay page instead (`form_post.rs`): nothing in the session is touched, so
    /// no cookie is written over the one the browser kept back.
    ///
    /// [`ResponseMode::FormPost`]: crate::oauth2::ResponseMode::FormPost
    pub(crate) async fn read_callback(
        &self,
        req: &HttpRequest,
        payload: &mut actix_web::dev::Payload,
        provider: &str,
    ) -> Result<CallbackInput, OAuthError> {
        let app = self.remote_app(provider)?;
        let form_post = app.protocol.form_post();
        let method = req.method();
        if *method == actix_web::http::Method::GET && !form_post {
            return Ok(CallbackInput::Params(CallbackQuery::parse(
                req.query_string(),
            )?));
        }
        if *method != actix_web::http::Method::POST || !form_post {
            return Err(OAuthError::malformed(
                "callback",
                format!(
                    "it arrived by {method}, but remote app `{provider}` has the provider answer by {}.",
                    if form_post { "POST (form_post)" } else { "GET" }
                ),
            ));
        }
        let form = crate::form_post::read_form(req, payload).await?;
        let params = CallbackQuery::parse(&form)?;
        let relayed = params.get(crate::form_post::RELAYED).is_some();
        if !relayed
            && !session::has_pending(&req.get_session(), &app.name, self.inner.handshake_lifetime)
        {
            return Ok(CallbackInput::Relay(crate::form_post::relay_page(
                req, &params,
            )));
        }
        Ok(CallbackInput::Params(params))
    }

    /// The outcome of this request's callback, if it was completed already.
    pub(crate) fn completed(
        &self,
        req: &HttpRequest,
        provider: &str,
    ) -> Option<Result<Option<Authorized>, OAuthError>> {
        let extensions = req.extensions();
        let outcome = extensions.get::<HandshakeOutcome>()?;
        if outcome.provider == provider {
            return Some(Ok(outcome.authorized.clone()));
        }
        Some(Err(OAuthError::config(format!(
            "this callback belongs to `{}`, but the handler expects `{provider}`.",
            outcome.provider
        ))))
    }

    /// Whether `token` (just validated) names the same user at `provider` as the sign-in this
    /// session holds: a step-up must not switch accounts.
    ///
    /// # Errors
    /// [`OAuthError::InsufficientAuthentication`] when it names another user, or either names
    /// none.
    async fn same_user(
        &self,
        session: &actix_session::Session,
        provider: &str,
        token: &TokenResponse,
    ) -> Result<bool, OAuthError> {
        let subject = |token: &TokenResponse| -> Option<String> {
            let claims = match token.id_token_claims() {
                Some(claims) => Some(claims.clone()),
                None => token
                    .id_token()
                    .and_then(crate::session_tokens::unverified_claims),
            }?;
            claims.get("sub")?.as_str().map(str::to_owned)
        };
        let before = self.session_sign_in(session, provider).await?;
        match (before.as_ref().and_then(subject), subject(token)) {
            (Some(before), Some(now)) if before == now => Ok(true),
            _ => Err(OAuthError::InsufficientAuthentication(
                "the sign-in meant to confirm the signed-in user signed in another one.".into(),
            )),
        }
    }

    /// Completes the handshake once per request, caching the outcome in its extensions.
    pub(crate) async fn complete_cached(
        &self,
        req: &HttpRequest,
        provider: &str,
        query: &CallbackQuery,
    ) -> Result<Option<Authorized>, OAuthError> {
        if let Some(done) = self.completed(req, provider) {
            return done;
        }
        let authorized = self.complete(req, provider, query).await?;
        req.extensions_mut().insert(HandshakeOutcome {
            provider: provider.to_owned(),
            authorized: authorized.clone(),
        });
        Ok(authorized)
    }

    /// This session's CSRF token, for forms whose POST changes the signed-in user's account —
    /// above all the one that starts linking a new identity. Linking started by a plain `GET`
    /// lets another site link *its* provider account to your user's account (login CSRF, the
    /// lesson of OmniAuth's CVE-2015-9284); put this token in a hidden field and check it with
    /// [`verify_csrf`](Self::verify_csrf) before calling [`authorize`](Self::authorize).
    ///
    /// The token changes at sign-in (when the session is renewed): one read before it is
    /// refused after it, so render forms with the current one.
    pub fn csrf_token(&self, req: &HttpRequest) -> Result<String, OAuthError> {
        session::csrf_token(&req.get_session())
    }

    /// Checks a submitted CSRF token against this session's, in constant time.
    ///
    /// # Errors
    /// [`OAuthError::CsrfMismatch`] (403) when it is missing or wrong.
    ///
    /// A sign-in started with [`authorize`](Self::authorize) in a request whose CSRF token was
    /// verified is a *linking* sign-in: it keeps the tokens of this session's earlier sign-ins.
    /// Any other sign-in starts the session's tokens afresh, so a session planted in the browser
    /// before sign-in cannot hand its tokens (another person's account) to the user.
    pub fn verify_csrf(&self, req: &HttpRequest, submitted: &str) -> Result<(), OAuthError> {
        session::verify_csrf(&req.get_session(), submitted)?;
        req.extensions_mut().insert(CsrfVerified);
        Ok(())
    }
}

/// `scheme://host` when `host` is a bare `host[:port]` (no path, query, userinfo or space),
/// with it parsed.
fn origin(scheme: &str, host: &str) -> Option<(String, Url)> {
    let bare = !host.is_empty()
        && !host
            .bytes()
            .any(|b| matches!(b, b'/' | b'?' | b'#' | b'@' | b'\\') || !b.is_ascii_graphic());
    if !bare || !matches!(scheme, "http" | "https") {
        return None;
    }
    let origin = format!("{scheme}://{host}");
    let url = Url::parse(&origin).ok()?;
    Some((origin, url))
}

/// The token store handle under which a sign-in's DPoP key waits between a pushed request that
/// named it and the code exchange: derived from the `state`, which only this browser's session
/// holds.
fn pending_key_handle(state: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("actix-oauth dpop_jkt\0{state}").as_bytes());
    format!(
        "dpop-jkt.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
    )
}

#[cfg(test)]
mod tests {
    use super::pending_key_handle;

    /// The handle of a sign-in's parked DPoP key is its `state`'s own: the same for the same
    /// `state` (the code exchange finds the key the pushed request named), another for another
    /// (two sign-ins in progress, in this browser or others, never take each other's key), and
    /// never a session's token handle (those are random tokens, without the prefix).
    #[test]
    fn a_parked_dpop_keys_handle_is_its_states_own() {
        let a = pending_key_handle("state-a");
        assert_eq!(a, pending_key_handle("state-a"));
        assert_ne!(a, pending_key_handle("state-b"));
        assert_ne!(pending_key_handle(""), pending_key_handle("state-a"));
        let digest = a.strip_prefix("dpop-jkt.").expect("the prefix");
        // SHA-256, base64url without padding.
        assert_eq!(digest.len(), 43, "{a}");
        assert!(
            digest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{a}"
        );
    }
}
