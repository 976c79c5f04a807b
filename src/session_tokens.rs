//! The session's tokens in the app's token store: read, replaced after a refresh, forgotten,
//! and deleted at sign-out.

use actix_session::SessionExt as _;
use actix_web::HttpRequest;

use crate::{
    error::OAuthError,
    extension::OAuthExtension,
    replay::{self, UsedStates},
    session,
    token::TokenResponse,
};

impl OAuthExtension {
    /// The token sign-in kept for this browser's session and remote app `provider`, read from
    /// the [`token_store`](crate::OAuth::token_store).
    ///
    /// # Errors
    /// [`OAuthError::TokenMissing`] when this session holds none for `provider`;
    /// [`OAuthError::TokenStore`] when the store fails.
    pub async fn session_token(
        &self,
        req: &HttpRequest,
        provider: &str,
    ) -> Result<TokenResponse, OAuthError> {
        self.remote_app(provider)?;
        self.stored_token(req, provider)
            .await?
            .ok_or_else(|| OAuthError::TokenMissing(provider.to_owned()))
    }

    /// The token kept for `session` and `provider`, if any (read as kept: not refreshed).
    pub(crate) async fn session_sign_in(
        &self,
        session: &actix_session::Session,
        provider: &str,
    ) -> Result<Option<TokenResponse>, OAuthError> {
        self.remote_app(provider)?;
        match session::token_handle(session) {
            Some(handle) => self.inner.token_store.load(&handle, provider).await,
            None => Ok(None),
        }
    }

    /// The token kept for this session and `provider`, if any.
    pub(crate) async fn stored_token(
        &self,
        req: &HttpRequest,
        provider: &str,
    ) -> Result<Option<TokenResponse>, OAuthError> {
        match session::token_handle(&req.get_session()) {
            Some(handle) => self.inner.token_store.load(&handle, provider).await,
            None => Ok(None),
        }
    }

    /// Replaces the token kept for this session and `provider` after a refresh of `old`, only
    /// while the store still holds `old` there: a sign-out or a new sign-in meanwhile is not
    /// undone by a refresh that finished after it.
    pub(crate) async fn update_stored_token(
        &self,
        req: &HttpRequest,
        provider: &str,
        old: &TokenResponse,
        token: &TokenResponse,
    ) -> Result<(), OAuthError> {
        let Some(handle) = session::token_handle(&req.get_session()) else {
            return Ok(());
        };
        // Compare and swap: of the instances that waited on one refresh, one writes its result.
        self.inner
            .token_store
            .replace(&handle, provider, old, token)
            .await
            .map(drop)
    }

    /// Uses up the single-use `value` (of kind `namespace`: `state`, `jti`) for `lifetime_secs`:
    /// `false` when this process saw it used (its bounded memory `local`), or any instance
    /// sharing the token store did (the store's [`use_once`](crate::TokenStore::use_once)).
    pub(crate) async fn use_once(
        &self,
        local: &UsedStates,
        namespace: &str,
        value: &str,
        lifetime_secs: u64,
    ) -> Result<bool, OAuthError> {
        if !local.consume(value, lifetime_secs) {
            return Ok(false);
        }
        self.inner
            .token_store
            .use_once(
                &replay::store_key(namespace, value),
                std::time::Duration::from_secs(lifetime_secs),
            )
            .await
    }

    /// Forgets the token kept for this browser's session and remote app `provider`, in the
    /// token store (server-side).
    ///
    /// # Errors
    /// [`OAuthError::TokenStore`] when the store fails.
    pub async fn forget_token(&self, req: &HttpRequest, provider: &str) -> Result<(), OAuthError> {
        match session::token_handle(&req.get_session()) {
            Some(handle) => self.inner.token_store.remove(&handle, provider).await,
            None => Ok(()),
        }
    }

    /// Purges this request's session when back-channel logout ended it (its token handle is
    /// marked ended in the token store), so that the handler sees nobody signed in. A store that
    /// cannot answer leaves the session as it is (its tokens cannot be read either).
    pub(crate) async fn purge_if_ended(&self, req: &HttpRequest) -> Result<(), OAuthError> {
        let session = req.get_session();
        let Some(handle) = session::token_handle(&session) else {
            return Ok(());
        };
        match self.inner.token_store.is_ended(&handle).await {
            Ok(true) => {
                log::debug!("actix-oauth: a session ended by back-channel logout is purged");
                session.purge();
            }
            Ok(false) => {}
            // A store that cannot say whether the session was ended cannot serve it either: the
            // request is a 503, not a session that back-channel logout may have ended.
            Err(e @ OAuthError::Unavailable(_)) => return Err(e),
            Err(e) => log::warn!(
                "actix-oauth: whether a session was ended could not be read ({})",
                e.kind()
            ),
        }
        Ok(())
    }

    /// Whether the middleware checks sessions for back-channel logout.
    pub(crate) fn watches_ended_sessions(&self) -> bool {
        self.inner.watch_ended_sessions
    }

    /// Indexes the sign-in kept under `handle` for `provider` by its ID token's `sub` and `sid`
    /// (claims validated at sign-in), for back-channel logout; a failure is logged.
    pub(crate) async fn index_sign_in(&self, handle: &str, provider: &str, token: &TokenResponse) {
        let claims = match token.id_token_claims() {
            Some(claims) => Some((
                claims
                    .get("sub")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
                claims
                    .get("sid")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
            )),
            // A token carried over from an earlier sign-in keeps its raw ID token only, which
            // was validated when that sign-in completed.
            None => token.id_token().and_then(unverified_sub_and_sid),
        };
        let Some((Some(sub), sid)) = claims else {
            return;
        };
        if let Err(e) = self
            .inner
            .token_store
            .index_session(handle, provider, &sub, sid.as_deref())
            .await
        {
            log::warn!(
                "actix-oauth: the sign-in could not be indexed for back-channel logout ({})",
                e.kind()
            );
        }
    }
}

/// `sub` and `sid` of a JWT's payload, read without checking its signature: only for an ID
/// token this app validated when it was issued.
fn unverified_sub_and_sid(jwt: &str) -> Option<(Option<String>, Option<String>)> {
    let claims = unverified_claims(jwt)?;
    let text = |name: &str| claims.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    Some((text("sub"), text("sid")))
}

/// A JWT's payload, read without checking its signature: only for an ID token this app
/// validated when it was issued (a stored token keeps the raw ID token, not its claims).
pub(crate) fn unverified_claims(jwt: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}
