//! The token hooks an app registers (getter, update), and the caches API calls share: refreshes
//! in flight and app tokens.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

use actix_web::HttpRequest;
use futures_util::future::LocalBoxFuture;

use crate::{error::OAuthError, token::TokenResponse};

/// The future a token getter returns.
pub(crate) type TokenFuture = LocalBoxFuture<'static, Result<Option<TokenResponse>, OAuthError>>;
/// The future an `on_token_update` hook returns.
pub(crate) type UpdateFuture = LocalBoxFuture<'static, Result<(), OAuthError>>;

pub(crate) type TokenGetterFn =
    Arc<dyn Fn(HttpRequest, String, Option<String>) -> TokenFuture + Send + Sync>;
pub(crate) type TokenUpdateFn =
    Arc<dyn Fn(HttpRequest, String, TokenResponse) -> UpdateFuture + Send + Sync>;

/// Wraps a user's async token getter.
pub(crate) fn token_getter<F, Fut>(f: F) -> TokenGetterFn
where
    F: Fn(HttpRequest, String, Option<String>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<TokenResponse>, OAuthError>> + 'static,
{
    Arc::new(move |req, provider, name| Box::pin(f(req, provider, name)))
}

/// Wraps a user's async token update hook.
pub(crate) fn token_update<F, Fut>(f: F) -> TokenUpdateFn
where
    F: Fn(HttpRequest, String, TokenResponse) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), OAuthError>> + 'static,
{
    Arc::new(move |req, provider, token| Box::pin(f(req, provider, token)))
}

/// One refresh: the lock its first caller holds while refreshing, then its result.
type RefreshSlot = Arc<futures_util::lock::Mutex<Option<Result<TokenResponse, RefreshFailure>>>>;

/// Why a refresh failed, kept for the callers that waited on it (an [`OAuthError`] is not
/// `Clone`).
#[derive(Clone)]
pub(crate) enum RefreshFailure {
    /// The provider refused the refresh token: the user must sign in again.
    Refused(String),
    /// The provider did not answer in time.
    Timeout(Duration),
    /// Any other failure, as text.
    Other(String),
}

impl RefreshFailure {
    pub(crate) fn of(err: &OAuthError) -> Self {
        match err {
            OAuthError::ReauthenticationRequired { reason, .. } => Self::Refused(reason.clone()),
            OAuthError::Timeout(limit) => Self::Timeout(*limit),
            other => Self::Other(other.to_string()),
        }
    }

    pub(crate) fn into_error(self, provider: &str) -> OAuthError {
        match self {
            Self::Refused(reason) => OAuthError::ReauthenticationRequired {
                provider: provider.to_owned(),
                reason,
            },
            Self::Timeout(limit) => OAuthError::Timeout(limit),
            Self::Other(message) => OAuthError::Transport(message),
        }
    }
}

/// Shared state of refreshes in flight and app tokens, so concurrent calls with one expired
/// token cause one refresh, and app tokens are fetched once per lifetime.
#[derive(Default)]
pub(crate) struct TokenCache {
    /// Per (provider, refresh token digest): the refresh result, behind an async lock the first
    /// caller holds while it refreshes.
    pub(crate) refreshes: Mutex<HashMap<[u8; 32], (u64, RefreshSlot)>>,
    /// App tokens by provider, each behind its own async lock so that a slow provider delays
    /// only its own callers.
    pub(crate) app_tokens:
        Mutex<HashMap<String, Arc<futures_util::lock::Mutex<Option<TokenResponse>>>>>,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenCache")
    }
}
