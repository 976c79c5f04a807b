//! Every call to an app's own token store answers within a deadline: a store that does not
//! (Redis or a database that stopped answering, a network that drops packets) makes the request
//! a `503` ([`OAuthError::Unavailable`]) instead of a request that hangs.

use std::{future::Future, sync::Arc, time::Duration};

use super::{RefreshClaim, StoreFuture, TokenStore};
use crate::{error::OAuthError, token::TokenResponse};

/// A token store whose every call ends within `limit`.
pub(crate) struct Deadline {
    inner: Arc<dyn TokenStore>,
    limit: Duration,
}

impl Deadline {
    pub(crate) fn new(inner: Arc<dyn TokenStore>, limit: Duration) -> Self {
        Self { inner, limit }
    }

    fn bounded<'a, T: 'a>(
        &self,
        call: impl Future<Output = Result<T, OAuthError>> + 'a,
    ) -> StoreFuture<'a, T> {
        let limit = self.limit;
        Box::pin(async move {
            actix_rt::time::timeout(limit, call)
                .await
                .unwrap_or(Err(OAuthError::Unavailable("token store")))
        })
    }
}

impl TokenStore for Deadline {
    fn load<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
    ) -> StoreFuture<'a, Option<TokenResponse>> {
        self.bounded(self.inner.load(handle, provider))
    }

    fn save<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        token: &'a TokenResponse,
    ) -> StoreFuture<'a, ()> {
        self.bounded(self.inner.save(handle, provider, token))
    }

    fn remove<'a>(&'a self, handle: &'a str, provider: &'a str) -> StoreFuture<'a, ()> {
        self.bounded(self.inner.remove(handle, provider))
    }

    fn remove_all<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, ()> {
        self.bounded(self.inner.remove_all(handle))
    }

    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> StoreFuture<'a, ()> {
        self.bounded(self.inner.rename(from, to))
    }

    fn index_session<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        sub: &'a str,
        sid: Option<&'a str>,
    ) -> StoreFuture<'a, ()> {
        self.bounded(self.inner.index_session(handle, provider, sub, sid))
    }

    fn end_sessions<'a>(
        &'a self,
        provider: &'a str,
        sub: Option<&'a str>,
        sid: Option<&'a str>,
    ) -> StoreFuture<'a, usize> {
        self.bounded(self.inner.end_sessions(provider, sub, sid))
    }

    fn is_ended<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, bool> {
        self.bounded(self.inner.is_ended(handle))
    }

    fn replace<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        old: &'a TokenResponse,
        new: &'a TokenResponse,
    ) -> StoreFuture<'a, bool> {
        self.bounded(self.inner.replace(handle, provider, old, new))
    }

    fn claim_refresh<'a>(
        &'a self,
        provider: &'a str,
        key: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, RefreshClaim> {
        self.bounded(self.inner.claim_refresh(provider, key, lease))
    }

    fn finish_refresh<'a>(
        &'a self,
        provider: &'a str,
        key: &'a str,
        fresh: Option<&'a TokenResponse>,
        keep: Duration,
    ) -> StoreFuture<'a, ()> {
        self.bounded(self.inner.finish_refresh(provider, key, fresh, keep))
    }

    fn use_once<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        self.bounded(self.inner.use_once(key, ttl))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token_store::MemoryTokenStore;

    /// A store whose calls never end.
    struct Silent;

    impl TokenStore for Silent {
        fn load<'a>(&'a self, _: &'a str, _: &'a str) -> StoreFuture<'a, Option<TokenResponse>> {
            Box::pin(std::future::pending())
        }
        fn save<'a>(&'a self, _: &'a str, _: &'a str, _: &'a TokenResponse) -> StoreFuture<'a, ()> {
            Box::pin(std::future::pending())
        }
        fn remove<'a>(&'a self, _: &'a str, _: &'a str) -> StoreFuture<'a, ()> {
            Box::pin(std::future::pending())
        }
        fn remove_all<'a>(&'a self, _: &'a str) -> StoreFuture<'a, ()> {
            Box::pin(std::future::pending())
        }
        fn rename<'a>(&'a self, _: &'a str, _: &'a str) -> StoreFuture<'a, ()> {
            Box::pin(std::future::pending())
        }
        fn use_once<'a>(&'a self, _: &'a str, _: Duration) -> StoreFuture<'a, bool> {
            Box::pin(std::future::pending())
        }
    }

    #[actix_rt::test]
    async fn a_silent_store_is_unavailable_after_the_limit() {
        let store = Deadline::new(Arc::new(Silent), Duration::from_millis(20));
        let err = store.load("handle", "dev").await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Unavailable);
        let err = store
            .use_once("key", Duration::from_secs(1))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Unavailable);
        let err = store.remove_all("handle").await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Unavailable);
    }

    #[actix_rt::test]
    async fn an_answering_store_answers_through_the_deadline() {
        let store = Deadline::new(Arc::new(MemoryTokenStore::new()), Duration::from_secs(5));
        assert!(store.load("handle", "dev").await.unwrap().is_none());
        assert!(store.use_once("key", Duration::from_secs(1)).await.unwrap());
        assert!(!store.use_once("key", Duration::from_secs(1)).await.unwrap());
    }
}
