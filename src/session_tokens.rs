//! The session's tokens in the app's token store: read, replaced after a refresh, forgotten,
//! and deleted at sign-out.

use actix_session::SessionExt as _;
use actix_web::HttpRequest;

use crate::{error::OAuthError, extension::OAuthExtension, session, token::TokenResponse};

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
        let store = &self.inner.token_store;
        match store.load(&handle, provider).await? {
            Some(current) if current.access_token().secret() == old.access_token().secret() => {
                store.save(&handle, provider, token).await
            }
            _ => Ok(()),
        }
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

    /// Signs this browser out: deletes every token kept for its session from the token store
    /// (server-side, so a copy of the session cookie reaches none of them afterwards) and ends
    /// the session (`Session::purge`).
    ///
    /// # Errors
    /// [`OAuthError::TokenStore`] when the store fails; the session is ended all the same.
    pub async fn sign_out(&self, req: &HttpRequest) -> Result<(), OAuthError> {
        let session = req.get_session();
        let handle = session::token_handle(&session);
        session.purge();
        match handle {
            Some(handle) => self.inner.token_store.remove_all(&handle).await,
            None => Ok(()),
        }
    }
}
