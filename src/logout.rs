//! Ending a sign-in: [`OAuthExtension::revoke_token`] (RFC 7009), [`OAuthExtension::sign_out`]
//! (tokens revoked at the provider and deleted here), RP-initiated logout ([`OAuthExtension::end_session`], OpenID Connect RP-Initiated
//! Logout 1.0) and the check of the browser's return from it ([`OAuthExtension::logged_out`]).

use actix_session::{Session, SessionExt as _};
use actix_web::{
    http::header::{HeaderValue, CACHE_CONTROL, LOCATION},
    HttpRequest, HttpResponse,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;

use crate::{
    callback_query::CallbackQuery,
    error::OAuthError,
    extension::OAuthExtension,
    remote_app::{Callback, RemoteApp},
    session,
    token::TokenResponse,
    wire::{now_unix, random_token},
};

/// The session key of an RP-initiated logout in progress.
pub(crate) const LOGOUT_KEY: &str = "actix_oauth.logout";

/// An RP-initiated logout in progress: which provider, the `state` sent, and when.
#[derive(Serialize, Deserialize)]
struct PendingLogout {
    provider: String,
    state: String,
    created: u64,
}

impl OAuthExtension {
    /// Signs this browser out: revokes every token kept for its session at its provider
    /// ([`revoke_token`](Self::revoke_token): RFC 7009 where the provider has a revocation
    /// endpoint), deletes them from the token store (server-side, so a copy of the session
    /// cookie reaches none of them afterwards) and ends the session (`Session::purge`).
    ///
    /// A revocation that fails (the provider down, an error answer) is logged by its kind and
    /// does not keep anyone signed in. Revocations of several providers run concurrently, each
    /// bounded by the outbound timeout.
    ///
    /// # Errors
    /// [`OAuthError::TokenStore`] when the store fails; the session is ended all the same.
    pub async fn sign_out(&self, req: &HttpRequest) -> Result<(), OAuthError> {
        let session = req.get_session();
        let handle = session::token_handle(&session);
        session.purge();
        self.end_handle(handle).await
    }

    /// Revokes and deletes the tokens kept under `handle`.
    async fn end_handle(&self, handle: Option<String>) -> Result<(), OAuthError> {
        let Some(handle) = handle else {
            return Ok(());
        };
        let store = &self.inner.token_store;
        let handle = handle.as_str();
        let revocations = self.inner.apps.keys().map(|name| async move {
            match store.load(handle, name).await {
                Ok(Some(token)) => self.revoke_quietly(name, &token).await,
                Ok(None) => {}
                Err(e) => log::warn!(
                    "actix-oauth: the tokens of `{name}` could not be read to revoke them ({})",
                    e.kind()
                ),
            }
        });
        futures_util::future::join_all(revocations).await;
        store.remove_all(handle).await
    }

    /// Signs this browser out as [`sign_out`](Self::sign_out) does, then, when remote app
    /// `provider` has an `end_session_endpoint` (discovered, or
    /// [configured](crate::RemoteAppBuilder::end_session_url)), answers the redirect there
    /// ([OpenID Connect RP-Initiated Logout 1.0 §2]) so that the user is signed out at the
    /// provider too, with `id_token_hint` (the sign-in's ID token), `client_id`,
    /// `post_logout_redirect_uri` ([`RemoteAppBuilder::post_logout_redirect_uri`], default
    /// `/auth/{name}/logged-out` under the public URL) and a fresh `state`. Check the browser's
    /// return there with [`logged_out`](Self::logged_out).
    ///
    /// Without such an endpoint (or when discovery fails) the answer is the redirect to
    /// `fallback`, a same-site path (anything else becomes `/`). Redirects are `303 See Other`,
    /// for a sign-out form's `POST`.
    ///
    /// # Security
    /// The local sign-in ends first, whatever the provider does next. The `state` carries 256
    /// random bits, is kept in the new session and is single use, like a sign-in's.
    ///
    /// [OpenID Connect RP-Initiated Logout 1.0 §2]: https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RPLogout
    /// [`RemoteAppBuilder::post_logout_redirect_uri`]: crate::RemoteAppBuilder::post_logout_redirect_uri
    pub async fn end_session(
        &self,
        req: &HttpRequest,
        provider: &str,
        fallback: &str,
    ) -> Result<HttpResponse, OAuthError> {
        let app = self.remote_app(provider)?;
        let session = req.get_session();
        let handle = session::token_handle(&session);
        let id_token = match &handle {
            Some(handle) => match self.inner.token_store.load(handle, &app.name).await {
                Ok(token) => token.and_then(|t| t.id_token().map(str::to_owned)),
                Err(e) => {
                    log::warn!(
                        "actix-oauth: the ID token for `id_token_hint` could not be read ({})",
                        e.kind()
                    );
                    None
                }
            },
            None => None,
        };
        // A new, empty session: it keeps only the logout's `state`.
        session.clear();
        session.renew();
        if let Err(e) = self.end_handle(handle).await {
            log::warn!(
                "actix-oauth: signing out, the token store failed ({}); the session is ended all the same",
                e.kind()
            );
        }
        let endpoint = match app.protocol.end_session_url(self.http_for(app)).await {
            Ok(endpoint) => endpoint,
            Err(e) => {
                log::warn!(
                    "actix-oauth: the logout endpoint of `{}` is unknown ({}); signed out here only",
                    app.name,
                    e.kind()
                );
                None
            }
        };
        let Some(mut endpoint) = endpoint else {
            let fallback = session::safe_next(fallback).unwrap_or_else(|| "/".to_owned());
            return see_other(&fallback);
        };
        let state = random_token();
        let post_logout_redirect_uri = self.post_logout_redirect_uri(req, app)?;
        session
            .insert(
                LOGOUT_KEY,
                PendingLogout {
                    provider: app.name.clone(),
                    state: state.clone(),
                    created: now_unix(),
                },
            )
            .map_err(|e| OAuthError::Session(e.to_string()))?;
        {
            let mut query = endpoint.query_pairs_mut();
            if let Some(id_token) = &id_token {
                query.append_pair("id_token_hint", id_token);
            }
            query
                .append_pair("client_id", app.credentials.id.as_str())
                .append_pair("post_logout_redirect_uri", &post_logout_redirect_uri)
                .append_pair("state", &state);
        }
        see_other(endpoint.as_str())
    }

    /// Checks the browser's return from the provider's logout page (the
    /// `post_logout_redirect_uri` of [`end_session`](Self::end_session)): its `state` must be
    /// the one this browser's logout sent to remote app `provider`, within the handshake
    /// lifetime, and is then used up.
    ///
    /// # Errors
    /// [`OAuthError::StateMissing`] without a `state`; [`OAuthError::StateMismatch`] for
    /// another, an old or a replayed one (400); [`OAuthError::TokenStore`] or
    /// [`OAuthError::Storage`] when the token store cannot say whether it was used.
    pub async fn logged_out(&self, req: &HttpRequest, provider: &str) -> Result<(), OAuthError> {
        let app = self.remote_app(provider)?;
        let query = CallbackQuery::parse(req.query_string())?;
        let state = query.get("state").ok_or(OAuthError::StateMissing(
            "the return from the provider's logout carries no `state` parameter.",
        ))?;
        let session = req.get_session();
        let pending = take_pending_logout(&session).ok_or(OAuthError::StateMismatch)?;
        let lifetime = self.inner.handshake_lifetime;
        let fresh = now_unix().saturating_sub(pending.created) <= lifetime;
        let same = bool::from(pending.state.as_bytes().ct_eq(state.as_bytes()));
        if pending.provider != app.name || !same || !fresh {
            return Err(OAuthError::StateMismatch);
        }
        // An old copy of the cookie replayed later redeems nothing.
        if !self
            .use_once(&self.inner.used_states, "state", state, lifetime)
            .await?
        {
            return Err(OAuthError::StateMismatch);
        }
        Ok(())
    }

    /// The `post_logout_redirect_uri` of `app` for this request, built like its redirect URI.
    fn post_logout_redirect_uri(
        &self,
        req: &HttpRequest,
        app: &RemoteApp,
    ) -> Result<String, OAuthError> {
        match &app.post_logout {
            Callback::Absolute(url) => Ok(url.to_string()),
            Callback::Path(path) => match &self.inner.public_url {
                Some(origin) => Ok(format!("{origin}{path}")),
                None => Ok(format!("{}{path}", self.request_origin(req)?)),
            },
        }
    }
}

/// Removes the logout in progress from the session (single use), if it holds one.
fn take_pending_logout(session: &Session) -> Option<PendingLogout> {
    session.remove_as::<PendingLogout>(LOGOUT_KEY)?.ok()
}

fn see_other(location: &str) -> Result<HttpResponse, OAuthError> {
    let location = HeaderValue::from_str(location)
        .map_err(|_| OAuthError::config("the logout URL is not a valid header value."))?;
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .insert_header((CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .finish())
}

impl OAuthExtension {
    /// Revokes `token` at remote app `provider`'s revocation endpoint: its refresh token, then
    /// its access token ([RFC 7009]), or the whole grant for [`Revocation::GitHubGrant`](crate::Revocation::GitHubGrant).
    ///
    /// `Ok(false)` when the provider offers no revocation ([`Revocation::None`](crate::Revocation::None), no endpoint
    /// discovered, or OAuth 1.0a); `Ok(true)` when the provider confirmed it. An access token the
    /// provider refuses to revoke after its refresh token was revoked (some revoke both at once
    /// and then answer `invalid_token`) is not an error.
    ///
    /// [`sign_out`](Self::sign_out) calls this for every token of the session; the accounts'
    /// `unlink` and `delete_user` for the identity's stored tokens.
    ///
    /// # Errors
    /// [`OAuthError::Provider`] with the provider's error, [`OAuthError::UnexpectedStatus`],
    /// transport errors and timeouts as for the token endpoint.
    ///
    /// [RFC 7009]: https://www.rfc-editor.org/rfc/rfc7009#section-2
    pub async fn revoke_token(
        &self,
        provider: &str,
        token: &TokenResponse,
    ) -> Result<bool, OAuthError> {
        let app = self.remote_app(provider)?;
        app.protocol
            .revoke(self.http_for(app), &app.credentials, &app.base_url, token)
            .await
    }

    /// Revokes `token`, logging a failure by its kind only: what sign-out and account removal
    /// do, which must not be held up by a provider that cannot be reached.
    pub(crate) async fn revoke_quietly(&self, provider: &str, token: &TokenResponse) {
        match self.revoke_token(provider, token).await {
            Ok(true) => log::debug!("actix-oauth: revoked the tokens of `{provider}`"),
            Ok(false) => {}
            Err(e) => log::warn!(
                "actix-oauth: revoking the tokens of `{provider}` failed ({}); they are forgotten here all the same",
                e.kind()
            ),
        }
    }
}
