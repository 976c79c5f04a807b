//! [`RedisTokenStore`]: tokens in Redis, shared by every instance of the app (feature `redis`).

use std::{fmt, time::Duration};

use redis::{
    aio::{ConnectionManager, ConnectionManagerConfig},
    AsyncCommands as _,
};

use super::{index_key, RefreshClaim, StoreFuture, StoredToken, TokenStore};
use crate::{error::OAuthError, token::TokenResponse};

/// The default time a session's tokens are kept after they were last written.
const DEFAULT_TTL: Duration = Duration::from_secs(14 * 24 * 3600);

/// Moves a hash to a new key only when it exists (`RENAME` fails on a missing key).
const RENAME_IF_EXISTS: &str = r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
  return 1
end
return 0";

/// Ends the sessions an index set names: each handle's tokens deleted, the handle marked ended
/// (ARGV: the key prefix, the ended mark's lifetime in seconds); returns how many.
const END_SESSIONS: &str = r"
local handles = redis.call('SMEMBERS', KEYS[1])
for _, handle in ipairs(handles) do
  redis.call('DEL', ARGV[1] .. handle)
  redis.call('SET', ARGV[1] .. 'ended:' .. handle, '1', 'EX', ARGV[2])
end
redis.call('DEL', KEYS[1])
return #handles";

/// Claims a refresh lease (KEYS[1]; ARGV[1]: its lifetime in milliseconds): `{0}` taken,
/// `{1, token}` the holder's published result, `{2}` held by another.
const CLAIM_REFRESH: &str = r"
local held = redis.call('GET', KEYS[1])
if held == false then
  redis.call('SET', KEYS[1], '', 'NX', 'PX', ARGV[1])
  return {0, ''}
end
if held == '' then
  return {2, ''}
end
return {1, held}";

/// Releases a lease that holds no result (a failed refresh), so that another instance may try.
const RELEASE_REFRESH: &str = r"
if redis.call('GET', KEYS[1]) == '' then
  redis.call('DEL', KEYS[1])
end
return 0";

/// Replaces one remote app's token in a handle's hash (ARGV: the app, the access token expected
/// there now, the new token's JSON, the hash's lifetime in seconds) only while the stored one
/// carries that access token: compare and swap.
const REPLACE: &str = r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current == false then
  return 0
end
local ok, stored = pcall(cjson.decode, current)
if not ok or type(stored) ~= 'table' or stored['access_token'] ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1";

/// Tokens in Redis: one hash per session handle (`actix_oauth:tokens:HANDLE`, a field per remote
/// app), expiring [`ttl`](Self::ttl) after its last write. Use it when several instances of the
/// app serve one user, e.g. beside actix-session's `RedisSessionStore`.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use actix_oauth::{token_store::RedisTokenStore, OAuth};
///
/// let store = RedisTokenStore::connect("redis://127.0.0.1:6379").await?;
/// let oauth = OAuth::new().token_store(store);
/// # Ok(()) }
/// ```
///
/// # Security
/// Tokens are kept as the provider issued them: protect the Redis server as you protect the
/// sessions in it (a password, TLS with `rediss://`, no exposure beyond the app's network).
#[derive(Clone)]
pub struct RedisTokenStore {
    connection: ConnectionManager,
    prefix: String,
    ttl: Duration,
}

impl fmt::Debug for RedisTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisTokenStore")
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

fn failed(e: redis::RedisError) -> OAuthError {
    // A server that cannot be reached or does not answer is the app's 503; any other failure
    // (a refused command) its 500. The error's text may name the server, never a token: tokens
    // travel only as arguments.
    if e.is_timeout() || e.is_connection_refusal() || e.is_connection_dropped() || e.is_io_error() {
        OAuthError::Unavailable("token store")
    } else {
        OAuthError::TokenStore(format!("Redis failed ({:?})", e.kind()))
    }
}

impl RedisTokenStore {
    /// Connects to the Redis server at `url` (`redis://` or `rediss://`) with a connection
    /// manager that reconnects on its own: a connection attempt or a command that takes more than
    /// [`STORE_TIMEOUT`](crate::defaults::STORE_TIMEOUT) fails (the request that needed it is a
    /// `503`), and the next command reconnects.
    ///
    /// # Errors
    /// [`OAuthError::Configuration`] when the URL is invalid, [`OAuthError::Unavailable`] when
    /// the server cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, OAuthError> {
        let client = redis::Client::open(url).map_err(|e| {
            OAuthError::config(format!("the Redis URL is invalid ({:?})", e.kind()))
        })?;
        let limit = crate::defaults::STORE_TIMEOUT;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(limit)
            .set_response_timeout(limit)
            // Reconnect attempts while a request waits: 100 ms, then 200 ms (the deadline of each
            // call bounds the wait anyway).
            .set_number_of_retries(2);
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(failed)?;
        Ok(Self::new(connection))
    }

    /// A store over an existing connection manager.
    pub fn new(connection: ConnectionManager) -> Self {
        Self {
            connection,
            prefix: "actix_oauth:tokens:".to_owned(),
            ttl: DEFAULT_TTL,
        }
    }

    /// Sets the prefix of the store's keys. Default: `actix_oauth:tokens:`.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Sets how long a session's tokens are kept after they were last written. Default: 14 days.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    fn key(&self, handle: &str) -> String {
        format!("{}{handle}", self.prefix)
    }

    /// The set of handles of a provider session or user (`PREFIXidx:PROVIDER:sid:…`); handles
    /// never hold `:`, so these keys never meet a handle's.
    fn index_key(&self, provider: &str, key: &str) -> String {
        format!("{}idx:{provider}:{key}", self.prefix)
    }

    /// A refresh lease (`PREFIXrefresh:PROVIDER:KEY`): empty while held, then the refreshed
    /// token's JSON.
    fn lease_key(&self, provider: &str, key: &str) -> String {
        format!("{}refresh:{provider}:{key}", self.prefix)
    }

    fn ttl_secs(&self) -> i64 {
        i64::try_from(self.ttl.as_secs().max(1)).unwrap_or(i64::MAX)
    }
}

impl TokenStore for RedisTokenStore {
    fn load<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
    ) -> StoreFuture<'a, Option<TokenResponse>> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let bytes: Option<Vec<u8>> = connection
                .hget(self.key(handle), provider)
                .await
                .map_err(failed)?;
            bytes
                .map(|b| StoredToken::decode(&b))
                .transpose()
                .map_err(|_| OAuthError::TokenStore("a stored token could not be read.".to_owned()))
        })
    }

    fn save<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        token: &'a TokenResponse,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let bytes = StoredToken::encode(token).map_err(|e| {
                OAuthError::TokenStore(format!("a token could not be encoded ({e})"))
            })?;
            let key = self.key(handle);
            let ttl = i64::try_from(self.ttl.as_secs().max(1)).unwrap_or(i64::MAX);
            let mut connection = self.connection.clone();
            redis::pipe()
                .atomic()
                .hset(&key, provider, bytes)
                .ignore()
                .expire(&key, ttl)
                .ignore()
                .query_async::<()>(&mut connection)
                .await
                .map_err(failed)
        })
    }

    fn remove<'a>(&'a self, handle: &'a str, provider: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            connection
                .hdel::<_, _, ()>(self.key(handle), provider)
                .await
                .map_err(failed)
        })
    }

    fn remove_all<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            connection
                .del::<_, ()>(self.key(handle))
                .await
                .map_err(failed)
        })
    }

    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            redis::Script::new(RENAME_IF_EXISTS)
                .key(self.key(from))
                .key(self.key(to))
                .invoke_async::<i64>(&mut connection)
                .await
                .map(drop)
                .map_err(failed)
        })
    }

    fn index_session<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        sub: &'a str,
        sid: Option<&'a str>,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut pipe = redis::pipe();
            for key in [index_key(Some(sub), None), index_key(None, sid)]
                .into_iter()
                .flatten()
            {
                let key = self.index_key(provider, &key);
                pipe.sadd(&key, handle)
                    .ignore()
                    .expire(&key, self.ttl_secs())
                    .ignore();
            }
            let mut connection = self.connection.clone();
            pipe.query_async::<()>(&mut connection)
                .await
                .map_err(failed)
        })
    }

    fn end_sessions<'a>(
        &'a self,
        provider: &'a str,
        sub: Option<&'a str>,
        sid: Option<&'a str>,
    ) -> StoreFuture<'a, usize> {
        Box::pin(async move {
            let Some(key) = index_key(sub, sid) else {
                return Ok(0);
            };
            let mut connection = self.connection.clone();
            let ended: i64 = redis::Script::new(END_SESSIONS)
                .key(self.index_key(provider, &key))
                .arg(&self.prefix)
                .arg(self.ttl_secs())
                .invoke_async(&mut connection)
                .await
                .map_err(failed)?;
            Ok(usize::try_from(ended).unwrap_or(0))
        })
    }

    fn is_ended<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            connection
                .exists(format!("{}ended:{handle}", self.prefix))
                .await
                .map_err(failed)
        })
    }

    fn replace<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        old: &'a TokenResponse,
        new: &'a TokenResponse,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let bytes = StoredToken::encode(new).map_err(|e| {
                OAuthError::TokenStore(format!("a token could not be encoded ({e})"))
            })?;
            let mut connection = self.connection.clone();
            let replaced: i64 = redis::Script::new(REPLACE)
                .key(self.key(handle))
                .arg(provider)
                .arg(old.access_token().secret().as_str())
                .arg(bytes)
                .arg(self.ttl_secs())
                .invoke_async(&mut connection)
                .await
                .map_err(failed)?;
            Ok(replaced == 1)
        })
    }

    fn claim_refresh<'a>(
        &'a self,
        provider: &'a str,
        key: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, RefreshClaim> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX).max(1);
            let (state, token): (i64, Vec<u8>) = redis::Script::new(CLAIM_REFRESH)
                .key(self.lease_key(provider, key))
                .arg(lease_ms)
                .invoke_async(&mut connection)
                .await
                .map_err(failed)?;
            Ok(match state {
                0 => RefreshClaim::Leased,
                1 => RefreshClaim::Refreshed(StoredToken::decode(&token).map_err(|_| {
                    OAuthError::TokenStore("a refreshed token could not be read.".to_owned())
                })?),
                _ => RefreshClaim::Busy,
            })
        })
    }

    fn finish_refresh<'a>(
        &'a self,
        provider: &'a str,
        key: &'a str,
        fresh: Option<&'a TokenResponse>,
        keep: Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let lease_key = self.lease_key(provider, key);
            match fresh {
                Some(fresh) => {
                    let bytes = StoredToken::encode(fresh).map_err(|e| {
                        OAuthError::TokenStore(format!("a token could not be encoded ({e})"))
                    })?;
                    let keep_ms = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX).max(1);
                    redis::cmd("SET")
                        .arg(&lease_key)
                        .arg(bytes)
                        .arg("PX")
                        .arg(keep_ms)
                        .query_async::<()>(&mut connection)
                        .await
                        .map_err(failed)
                }
                None => redis::Script::new(RELEASE_REFRESH)
                    .key(&lease_key)
                    .invoke_async::<i64>(&mut connection)
                    .await
                    .map(drop)
                    .map_err(failed),
            }
        })
    }

    fn use_once<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut connection = self.connection.clone();
            let set: Option<String> = redis::cmd("SET")
                .arg(format!("{}used:{key}", self.prefix))
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(ttl.as_secs().max(1))
                .query_async(&mut connection)
                .await
                .map_err(failed)?;
            Ok(set.is_some())
        })
    }
}
