//! [`MemoryTokenStore`]: tokens in this process's memory, bounded in count and age.

use std::{
    collections::{HashMap, HashSet},
    fmt,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use super::{index_key, same_access_token, RefreshClaim, StoreFuture, TokenStore};
use crate::{replay::UsedStates, token::TokenResponse, wire::now_unix};

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
    /// Used single-use values (bounded), shared by the store's clones.
    used: Arc<UsedStates>,
    max_sessions: usize,
    ttl: Duration,
}

#[derive(Default)]
struct Inner {
    /// Per handle: the tokens by remote app, and when they were last written.
    sessions: HashMap<String, (HashMap<String, TokenResponse>, u64)>,
    /// Not before this second does a full store look for expired sessions again.
    next_sweep: u64,
    /// Per remote app and provider session (`sid:…`) or user (`sub:…`): the handles of its
    /// sign-ins.
    index: HashMap<(String, String), HashSet<String>>,
    /// Per handle: the index entries naming it, so that they go with its tokens.
    indexed: HashMap<String, Vec<(String, String)>>,
    /// Handles that back-channel logout ended, with when they were ended.
    ended: HashMap<String, u64>,
    /// Refresh leases by key: until when (Unix milliseconds), and the refreshed token once there
    /// is one.
    leases: HashMap<String, (u128, Option<TokenResponse>)>,
}

/// Leases kept before expired ones are swept.
const LEASES_BEFORE_SWEEP: usize = 1024;

fn now_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

impl Inner {
    /// Forgets a handle's tokens and its index entries.
    fn forget(&mut self, handle: &str) {
        self.sessions.remove(handle);
        for key in self.indexed.remove(handle).unwrap_or_default() {
            if let Some(handles) = self.index.get_mut(&key) {
                handles.remove(handle);
                if handles.is_empty() {
                    self.index.remove(&key);
                }
            }
        }
    }
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
            used: Arc::default(),
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
            let ttl = self.ttl.as_secs();
            let expired: Vec<String> = inner
                .sessions
                .iter()
                .filter(|(_, (_, written))| now.saturating_sub(*written) > ttl)
                .map(|(handle, _)| handle.clone())
                .collect();
            for handle in expired {
                inner.forget(&handle);
            }
            inner.ended.retain(|_, at| now.saturating_sub(*at) <= ttl);
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
                inner.forget(&handle);
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
                inner.forget(handle);
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
                inner.forget(handle);
            }
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn remove_all<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, ()> {
        self.lock().forget(handle);
        Box::pin(std::future::ready(Ok(())))
    }

    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> StoreFuture<'a, ()> {
        let mut inner = self.lock();
        if let Some(entry) = inner.sessions.remove(from) {
            inner.sessions.insert(to.to_owned(), entry);
        }
        // The index follows the tokens.
        if let Some(keys) = inner.indexed.remove(from) {
            for key in &keys {
                if let Some(handles) = inner.index.get_mut(key) {
                    handles.remove(from);
                    handles.insert(to.to_owned());
                }
            }
            inner.indexed.insert(to.to_owned(), keys);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn index_session<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        sub: &'a str,
        sid: Option<&'a str>,
    ) -> StoreFuture<'a, ()> {
        let mut inner = self.lock();
        if inner.sessions.contains_key(handle) {
            let keys: Vec<(String, String)> = [index_key(Some(sub), None), index_key(None, sid)]
                .into_iter()
                .flatten()
                .map(|key| (provider.to_owned(), key))
                .collect();
            for key in &keys {
                inner
                    .index
                    .entry(key.clone())
                    .or_default()
                    .insert(handle.to_owned());
            }
            inner
                .indexed
                .entry(handle.to_owned())
                .or_default()
                .extend(keys);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn end_sessions<'a>(
        &'a self,
        provider: &'a str,
        sub: Option<&'a str>,
        sid: Option<&'a str>,
    ) -> StoreFuture<'a, usize> {
        let now = now_unix();
        let mut inner = self.lock();
        let handles: Vec<String> = index_key(sub, sid)
            .and_then(|key| inner.index.get(&(provider.to_owned(), key)))
            .map(|handles| handles.iter().cloned().collect())
            .unwrap_or_default();
        for handle in &handles {
            inner.forget(handle);
            inner.ended.insert(handle.clone(), now);
        }
        Box::pin(std::future::ready(Ok(handles.len())))
    }

    fn is_ended<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, bool> {
        let ended = self.lock().ended.contains_key(handle);
        Box::pin(std::future::ready(Ok(ended)))
    }

    fn replace<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        old: &'a TokenResponse,
        new: &'a TokenResponse,
    ) -> StoreFuture<'a, bool> {
        let now = now_unix();
        let mut inner = self.lock();
        let replaced = match inner.sessions.get_mut(handle) {
            Some((tokens, written)) => match tokens.get_mut(provider) {
                Some(current) if same_access_token(current, old) => {
                    *current = new.clone();
                    *written = now;
                    true
                }
                _ => false,
            },
            None => false,
        };
        Box::pin(std::future::ready(Ok(replaced)))
    }

    fn claim_refresh<'a>(
        &'a self,
        provider: &'a str,
        key: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, RefreshClaim> {
        let now = now_millis();
        let mut inner = self.lock();
        if inner.leases.len() >= LEASES_BEFORE_SWEEP {
            inner.leases.retain(|_, (until, _)| *until > now);
        }
        let key = format!("{provider}\n{key}");
        let claim = match inner.leases.get(&key) {
            Some((until, Some(fresh))) if *until > now => RefreshClaim::Refreshed(fresh.clone()),
            Some((until, None)) if *until > now => RefreshClaim::Busy,
            _ => {
                inner.leases.insert(key, (now + lease.as_millis(), None));
                RefreshClaim::Leased
            }
        };
        Box::pin(std::future::ready(Ok(claim)))
    }

    fn finish_refresh<'a>(
        &'a self,
        provider: &'a str,
        key: &'a str,
        fresh: Option<&'a TokenResponse>,
        keep: Duration,
    ) -> StoreFuture<'a, ()> {
        let key = format!("{provider}\n{key}");
        let mut inner = self.lock();
        match fresh {
            Some(fresh) => {
                inner
                    .leases
                    .insert(key, (now_millis() + keep.as_millis(), Some(fresh.clone())));
            }
            None => {
                inner.leases.remove(&key);
            }
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn use_once<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        let fresh = self.used.consume(key, ttl.as_secs());
        Box::pin(std::future::ready(Ok(fresh)))
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
    fn back_channel_logout_ends_the_indexed_handles_only() {
        let store = MemoryTokenStore::new();
        now(store.save("h1", "op", &token("one")));
        now(store.index_session("h1", "op", "alice", Some("s1")));
        now(store.save("h2", "op", &token("two")));
        now(store.index_session("h2", "op", "alice", Some("s2")));
        now(store.save("h3", "other", &token("three")));
        now(store.index_session("h3", "other", "alice", Some("s1")));
        // A `sid` ends that provider session only; another provider's same `sid` is another.
        assert_eq!(now(store.end_sessions("op", Some("alice"), Some("s1"))), 1);
        assert!(now(store.is_ended("h1")));
        assert!(now(store.load("h1", "op")).is_none());
        assert!(!now(store.is_ended("h2")));
        assert!(!now(store.is_ended("h3")));
        // The index follows a renamed handle; `sub` alone ends every session of the user.
        now(store.rename("h2", "h2b"));
        assert_eq!(now(store.end_sessions("op", Some("alice"), None)), 1);
        assert!(now(store.is_ended("h2b")));
        assert!(!now(store.is_ended("h2")));
        assert_eq!(now(store.end_sessions("op", Some("nobody"), None)), 0);
        // Signing out removes the index entries with the tokens.
        now(store.remove_all("h3"));
        assert_eq!(now(store.end_sessions("other", None, Some("s1"))), 0);
        assert!(store.lock().index.is_empty() && store.lock().indexed.is_empty());
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
