//! [`MemoryTokenStore`]: tokens in this process's memory, bounded in count and age.

use std::{
    collections::HashMap,
    fmt,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use super::{StoreFuture, TokenStore};
use crate::{token::TokenResponse, wire::now_unix};

/// The default most sessions whose tokens are kept.
const DEFAULT_MAX_SESSIONS: usize = 100_000;
/// The default time a session's tokens are kept after they were last written.
const DEFAULT_TTL: Duration = Duration::from_secs(14 * 24 * 3600);

/// Tokens in this process's memory: the default [`TokenStore`].
///
/// Fine for one instance; several instances behind a load balancer need a shared store
/// ([`RedisTokenStore`](super::RedisTokenStore) or the accounts database). A session's tokens
/// are forgotten [`ttl`](Self::ttl) after they were last written (a refresh writes), and when
/// more than [`max_sessions`](Self::max_sessions) sessions hold tokens the least recently
/// written are forgotten first: their users sign in again. Cheap to clone (shared state).
#[derive(Clone)]
pub struct MemoryTokenStore {
    inner: Arc<Mutex<Inner>>,
    max_sessions: usize,
    ttl: Duration,
}

#[derive(Default)]
struct Inner {
    /// Per handle: the tokens by remote app, and when they were last written.
    sessions: HashMap<String, (HashMap<String, TokenResponse>, u64)>,
    /// Not before this second does a full store look for expired sessions again.
    next_sweep: u64,
}

impl Default for MemoryTokenStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MemoryTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokenStore")
            .field("sessions", &self.len())
            .field("max_sessions", &self.max_sessions)
            .field("ttl", &self.ttl)
            .finish()
    }
}

impl MemoryTokenStore {
    /// An empty store: at most 100 000 sessions, each kept 14 days after its last write.
    pub fn new() -> Self {
        Self {
            inner: Arc::default(),
            max_sessions: DEFAULT_MAX_SESSIONS,
            ttl: DEFAULT_TTL,
        }
    }

    /// Sets the most sessions whose tokens are kept. Default: 100 000.
    #[must_use]
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = max.max(1);
        self
    }

    /// Sets how long a session's tokens are kept after they were last written. Default: 14 days.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How many sessions hold tokens now.
    pub fn len(&self) -> usize {
        self.lock().sessions.len()
    }

    /// Whether no session holds tokens.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn expired(&self, written: u64, now: u64) -> bool {
        now.saturating_sub(written) > self.ttl.as_secs()
    }

    /// Makes room for one more session: expired ones first, then the least recently written.
    fn make_room(&self, inner: &mut Inner, now: u64) {
        if inner.sessions.len() < self.max_sessions {
            return;
        }
        if now >= inner.next_sweep {
            inner
                .sessions
                .retain(|_, (_, written)| now.saturating_sub(*written) <= self.ttl.as_secs());
            inner.next_sweep = now + 1;
        }
        if inner.sessions.len() >= self.max_sessions {
            // Still full: forget the least recently written sixteenth in one pass, so that a full
            // store does not scan all its sessions on every sign-in.
            let excess = inner.sessions.len() + 1 - self.max_sessions;
            let count = excess.max(self.max_sessions / 16).min(inner.sessions.len());
            let mut by_age: Vec<(u64, String)> = inner
                .sessions
                .iter()
                .map(|(handle, (_, written))| (*written, handle.clone()))
                .collect();
            if count < by_age.len() {
                by_age.select_nth_unstable(count);
            }
            for (_, handle) in by_age.into_iter().take(count) {
                inner.sessions.remove(&handle);
            }
            log::warn!(
                "actix-oauth: the memory token store is full; the tokens of {count} least recently \
                 active sessions were dropped (raise `max_sessions` or use a shared store)"
            );
        }
    }
}

impl TokenStore for MemoryTokenStore {
    fn load<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
    ) -> StoreFuture<'a, Option<TokenResponse>> {
        let now = now_unix();
        let mut inner = self.lock();
        let found = match inner.sessions.get(handle) {
            Some((_, written)) if self.expired(*written, now) => {
                inner.sessions.remove(handle);
                None
            }
            Some((tokens, _)) => tokens.get(provider).cloned(),
            None => None,
        };
        Box::pin(std::future::ready(Ok(found)))
    }

    fn save<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        token: &'a TokenResponse,
    ) -> StoreFuture<'a, ()> {
        let now = now_unix();
        let mut inner = self.lock();
        if !inner.sessions.contains_key(handle) {
            self.make_room(&mut inner, now);
        }
        let (tokens, written) = inner
            .sessions
            .entry(handle.to_owned())
            .or_insert_with(|| (HashMap::new(), now));
        tokens.insert(provider.to_owned(), token.clone());
        *written = now;
        Box::pin(std::future::ready(Ok(())))
    }

    fn remove<'a>(&'a self, handle: &'a str, provider: &'a str) -> StoreFuture<'a, ()> {
        let mut inner = self.lock();
        if let Some((tokens, _)) = inner.sessions.get_mut(handle) {
            tokens.remove(provider);
            if tokens.is_empty() {
                inner.sessions.remove(handle);
            }
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn remove_all<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, ()> {
        self.lock().sessions.remove(handle);
        Box::pin(std::future::ready(Ok(())))
    }

    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> StoreFuture<'a, ()> {
        let mut inner = self.lock();
        if let Some(entry) = inner.sessions.remove(from) {
            inner.sessions.insert(to.to_owned(), entry);
        }
        Box::pin(std::future::ready(Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AccessToken;

    fn token(value: &str) -> TokenResponse {
        TokenResponse::new(AccessToken::new(value.to_owned()))
    }

    fn now<T>(future: StoreFuture<'_, T>) -> T {
        futures_util::FutureExt::now_or_never(future)
            .expect("ready")
            .expect("ok")
    }

    #[test]
    fn keeps_renames_and_forgets() {
        let store = MemoryTokenStore::new();
        now(store.save("h1", "a", &token("one")));
        now(store.save("h1", "b", &token("two")));
        assert_eq!(
            now(store.load("h1", "a")).unwrap().access_token().secret(),
            "one"
        );
        now(store.rename("h1", "h2"));
        assert!(now(store.load("h1", "a")).is_none());
        assert_eq!(
            now(store.load("h2", "b")).unwrap().access_token().secret(),
            "two"
        );
        now(store.remove("h2", "a"));
        assert!(now(store.load("h2", "a")).is_none());
        now(store.remove_all("h2"));
        assert!(store.is_empty());
    }

    #[test]
    fn bounded_in_count_and_age() {
        let store = MemoryTokenStore::new().max_sessions(2);
        for handle in ["h1", "h2", "h3"] {
            now(store.save(handle, "a", &token(handle)));
        }
        assert_eq!(store.len(), 2);
        let store = MemoryTokenStore::new().ttl(Duration::ZERO);
        now(store.save("h", "a", &token("t")));
        store.lock().sessions.get_mut("h").unwrap().1 -= 5;
        assert!(now(store.load("h", "a")).is_none());
        assert!(store.is_empty());
    }
}
