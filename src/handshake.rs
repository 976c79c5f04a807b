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
    error::OAuthError,
    extension::OAuthExtension,
    oauth2::token::now_unix,
    oauth2::{self as oauth2_flow, TokenResponse},
    remote_app::RemoteApp,
    session::{self, Pending},
};

/// The longest OAuth 1.0a temporary token or secret kept in the session.
const MAX_TEMPORARY_CREDENTIAL_BYTES: usize = 256;

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
    fn request_origin(&self, req: &HttpRequest) -> Result<String, OAuthError> {
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
                peer.is_some_and(|ip| ip.is_loopback()) && crate::remote_app::is_loopback(url)
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
        let app = self.remote_app(provider)?;
        let redirect_uri = self.redirect_uri(req, app)?;
        let endpoints = app.endpoints(self.http_for(app)).await?;
        let mut nonce = None;
        let (location, state, verifier) = if app.is_oauth1() {
            // RFC 5849 §2.1–2.2: temporary credentials first, then the browser goes to the
            // authorization page with the temporary token.
            let temporary =
                crate::oauth1::request_token(self.http_for(app), app, &redirect_uri).await?;
            let mut url = endpoints.authorize_url.clone();
            url.query_pairs_mut()
                .append_pair("oauth_token", temporary.access_token().secret())
                .extend_pairs(&app.authorize_params);
            let secret = temporary.token_secret().map(str::to_owned);
            if temporary.access_token().secret().len() > MAX_TEMPORARY_CREDENTIAL_BYTES
                || secret
                    .as_ref()
                    .is_some_and(|s| s.len() > MAX_TEMPORARY_CREDENTIAL_BYTES)
            {
                return Err(OAuthError::malformed(
                    "temporary credentials",
                    "the request token or its secret is longer than 256 bytes.",
                ));
            }
            (
                String::from(url),
                temporary.access_token().secret().clone(),
                secret,
            )
        } else {
            let encoded = self
                .inner
                .fixed_redirects
                .get(&app.name)
                .map(|(_, encoded)| encoded.as_str());
            let start =
                oauth2_flow::authorization_request(app, &endpoints, &redirect_uri, encoded)?;
            nonce = start.nonce;
            (
                start.url,
                start.state.into_secret(),
                start.verifier.map(|v| v.into_secret()),
            )
        };
        let entry = Pending {
            provider: app.name.clone(),
            state,
            verifier,
            next: next.and_then(session::safe_next),
            created: now_unix(),
            nonce,
            link: req.extensions().contains::<CsrfVerified>(),
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
    ) -> Result<Option<Authorized>, OAuthError> {
        let app = self.remote_app(provider)?;
        let query = CallbackQuery::parse(req.query_string())?;
        if app.is_oauth1() {
            return self.complete_oauth1(req, app, &query).await;
        }
        let state = query.get("state").ok_or(OAuthError::StateMissing(
            "the callback carries no `state` parameter.",
        ))?;
        let session = req.get_session();
        if self.state_was_used(state) {
            // Said before looking at the session, which may hold nothing any more: "already
            // used", not "cookie lost".
            return Err(OAuthError::StateMismatch);
        }
        let pending =
            session::take_pending(&session, &app.name, state, self.inner.handshake_lifetime)?;
        if !self.consume_state(state) {
            return Err(OAuthError::StateMismatch);
        }
        let endpoints = app.endpoints(self.http_for(app)).await?;
        check_callback_issuer(&endpoints, query.get("iss"))?;
        if let Some(error) = query.get("error") {
            if error == "access_denied" {
                return Ok(None);
            }
            return Err(OAuthError::Provider {
                error: error.chars().take(256).collect(),
                description: query
                    .get("error_description")
                    .map(|d| d.chars().take(256).collect()),
                uri: query
                    .get("error_uri")
                    .map(|d| d.chars().take(256).collect()),
                status: None,
            });
        }
        let code = query.get("code").filter(|c| !c.is_empty()).ok_or_else(|| {
            OAuthError::malformed("callback", "it carries neither `code` nor `error`.")
        })?;
        // The callback arrived at the redirect URI, so the URI computed for it now is the one the
        // authorization request carried (the provider checks that they match).
        let redirect_uri = self.redirect_uri(req, app)?;
        #[allow(unused_mut)]
        let mut token = oauth2_flow::exchange_code(
            self.http_for(app),
            app,
            code,
            &redirect_uri,
            pending.verifier.as_deref(),
        )
        .await?;
        #[cfg(feature = "oidc")]
        if let (Some(oidc), Some(metadata)) = (&app.oidc, &endpoints.metadata) {
            let id_token = token
                .id_token()
                .ok_or(crate::error::IdTokenError::Missing)?;
            let expect = crate::oidc::Expectations {
                client_id: app.consumer_key.as_str(),
                nonce: pending.nonce.as_deref(),
                nonce_required: oidc.nonce_required,
                algorithms: &app.id_token_algorithms,
            };
            let claims =
                crate::oidc::validate(oidc, self.http_for(app), metadata, id_token, &expect)
                    .await?;
            token.set_id_token_claims(claims);
        }
        self.keep_token(&session, &app.name, &token, pending.link)
            .await?;
        Ok(Some(Authorized {
            provider: app.name.clone(),
            token,
            next: pending.next,
        }))
    }

    /// Completes an OAuth 1.0a callback (RFC 5849 §2.2–2.3): `oauth_token` must be the temporary
    /// token this browser's handshake began with; `denied` (Twitter) means the user declined.
    async fn complete_oauth1(
        &self,
        req: &HttpRequest,
        app: &RemoteApp,
        query: &CallbackQuery,
    ) -> Result<Option<Authorized>, OAuthError> {
        let session = req.get_session();
        if let Some(denied) = query.get("denied") {
            session::take_pending(&session, &app.name, denied, self.inner.handshake_lifetime)?;
            return Ok(None);
        }
        let token = query.get("oauth_token").ok_or(OAuthError::StateMissing(
            "the callback carries no `oauth_token` parameter.",
        ))?;
        let pending =
            session::take_pending(&session, &app.name, token, self.inner.handshake_lifetime)?;
        let verifier = query
            .get("oauth_verifier")
            .filter(|v| !v.is_empty())
            .ok_or_else(|| OAuthError::malformed("callback", "it carries no `oauth_verifier`."))?;
        let secret = pending.verifier.as_deref().unwrap_or("");
        let credentials =
            crate::oauth1::access_token(self.http_for(app), app, &pending.state, secret, verifier)
                .await?;
        self.keep_token(&session, &app.name, &credentials, pending.link)
            .await?;
        Ok(Some(Authorized {
            provider: app.name.clone(),
            token: credentials,
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
        let handle = crate::oauth2::random_token();
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
        session::replace_token_handle(session, &handle)?;
        session.renew();
        // A new CSRF token with the new session.
        session::rotate_csrf(session);
        Ok(())
    }

    /// Completes the handshake once per request, caching the outcome in its extensions.
    pub(crate) async fn complete_cached(
        &self,
        req: &HttpRequest,
        provider: &str,
    ) -> Result<Option<Authorized>, OAuthError> {
        if let Some(outcome) = req.extensions().get::<HandshakeOutcome>() {
            if outcome.provider == provider {
                return Ok(outcome.authorized.clone());
            }
            return Err(OAuthError::config(format!(
                "this callback belongs to `{}`, but the handler expects `{provider}`.",
                outcome.provider
            )));
        }
        let authorized = self.complete(req, provider).await?;
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

/// RFC 9207: an authorization response's `iss` must name the issuer this sign-in began with,
/// and must be present when the provider advertises it.
#[cfg_attr(not(feature = "oidc"), allow(unused_variables))]
fn check_callback_issuer(
    endpoints: &crate::remote_app::Endpoints,
    iss: Option<&str>,
) -> Result<(), OAuthError> {
    #[cfg(feature = "oidc")]
    if let Some(metadata) = &endpoints.metadata {
        let expected = &metadata.issuer;
        let matches = match iss {
            // Microsoft's multi-tenant template: any tenant's issuer of the same shape.
            Some(iss) if expected.contains("{tenantid}") => expected
                .split_once("{tenantid}")
                .is_some_and(|(head, tail)| {
                    iss.len() > head.len() + tail.len()
                        && iss.starts_with(head)
                        && iss.ends_with(tail)
                        && crate::oidc::is_tenant_id(&iss[head.len()..iss.len() - tail.len()])
                }),
            Some(iss) => iss == expected,
            None => !metadata.authorization_response_iss_parameter_supported,
        };
        if !matches {
            return Err(OAuthError::IssuerMismatch {
                expected: expected.clone(),
                found: iss.map(|i| i.chars().take(256).collect()),
            });
        }
        return Ok(());
    }
    if iss.is_some() {
        // A plain OAuth 2 app knows no issuer to compare with; RFC 9207 §2.4 lets it ignore `iss`.
        log::debug!("actix-oauth: callback `iss` ignored: the remote app has no issuer");
    }
    Ok(())
}

/// The callback parameters RFC 6749, RFC 5849 and RFC 9207 allow once: a callback repeating
/// one is refused.
pub(crate) const SINGLE_VALUED: &[&str] = &[
    "state",
    "code",
    "error",
    "oauth_token",
    "oauth_verifier",
    "denied",
    "iss",
];

/// A callback's query, with the parameters RFC 6749 allows once refused when repeated.
pub(crate) struct CallbackQuery(pub(crate) Vec<(String, String)>);

impl CallbackQuery {
    pub(crate) fn parse(query: &str) -> Result<Self, OAuthError> {
        if query.len() > 8 * 1024 {
            return Err(OAuthError::malformed("callback", "its query is too long."));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| OAuthError::malformed("callback", "its query is not form-encoded."))?;
        for &key in SINGLE_VALUED {
            if pairs.iter().filter(|(k, _)| k == key).count() > 1 {
                return Err(OAuthError::malformed(
                    "callback",
                    format!("`{key}` appears more than once."),
                ));
            }
        }
        Ok(Self(pairs))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_parameters_allowed_once_are_refused_when_repeated() {
        for &key in SINGLE_VALUED {
            let once = format!("{key}=a&other=b");
            assert!(CallbackQuery::parse(&once).is_ok(), "{once}");
            let twice = format!("{key}=a&other=b&{key}=a");
            let err = CallbackQuery::parse(&twice).err().expect(&twice);
            assert_eq!(err.kind(), crate::ErrorKind::Malformed, "{twice}");
        }
        let q = CallbackQuery::parse("state=s&x=1&x=2").expect("other keys may repeat");
        assert_eq!(q.get("state"), Some("s"));
        assert_eq!(q.get("x"), Some("1"));
        let long = format!("state=s&pad={}", "a".repeat(8 * 1024));
        assert!(CallbackQuery::parse(&long).is_err(), "over 8 KiB");
        let fits = format!("state=s&pad={}", "a".repeat(8 * 1024 - 12));
        assert_eq!(fits.len(), 8 * 1024);
        assert!(CallbackQuery::parse(&fits).is_ok(), "8 KiB exactly");
    }
}
