//! The accounts database as the server-side [`TokenStore`] of signed-in sessions: one row per
//! session handle and remote app in `accounts_session_tokens`, kept like identity tokens: with
//! the store's [`TokenKey`](crate::accounts::TokenKey) sealed with AES-256-GCM and bound to the
//! handle and the remote app, without one as JSON. Rows not written for 14 days are not read
//! and are deleted at the next sign-in; a row that does not open is skipped when a sign-in moves
//! the session's tokens.

use super::{storage, Pool, SqlStore};
use crate::{
    accounts::token,
    token_store::{index_key, same_access_token, RefreshClaim, StoreFuture, TokenStore},
    wire::now_unix,
    TokenResponse,
};

/// How long a session's token is kept after it was last written.
const TTL_SECS: u64 = 14 * 24 * 3600;

const LOAD: &str = "SELECT token FROM accounts_session_tokens \
     WHERE handle = $1 AND provider = $2 AND updated_at >= $3";
const PURGE: &str = "DELETE FROM accounts_session_tokens WHERE updated_at < $1";
const SAVE: &str = "INSERT INTO accounts_session_tokens (handle, provider, token, updated_at) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (handle, provider) DO UPDATE SET token = excluded.token, updated_at = excluded.updated_at";
const REMOVE: &str = "DELETE FROM accounts_session_tokens WHERE handle = $1 AND provider = $2";
const REMOVE_ALL: &str = "DELETE FROM accounts_session_tokens WHERE handle = $1";
const LIST: &str = "SELECT provider, token FROM accounts_session_tokens WHERE handle = $1";
const INDEX: &str =
    "INSERT INTO accounts_session_index (provider, session_key, handle, updated_at) \
     VALUES ($1, $2, $3, $4) \
     ON CONFLICT (provider, session_key, handle) DO UPDATE SET updated_at = excluded.updated_at";
/// [`INDEX`] for a sign-in with both a `sub` and a `sid`: both rows in one statement.
const INDEX_BOTH: &str =
    "INSERT INTO accounts_session_index (provider, session_key, handle, updated_at) \
     VALUES ($1, $2, $3, $4), ($1, $5, $3, $4) \
     ON CONFLICT (provider, session_key, handle) DO UPDATE SET updated_at = excluded.updated_at";
const INDEXED: &str = "SELECT handle FROM accounts_session_index \
     WHERE provider = $1 AND session_key = $2 AND updated_at >= $3";
const UNINDEX: &str = "DELETE FROM accounts_session_index WHERE provider = $1 AND session_key = $2";
const END: &str = "INSERT INTO accounts_ended_sessions (handle, ended_at) VALUES ($1, $2) \
     ON CONFLICT (handle) DO UPDATE SET ended_at = excluded.ended_at";
const IS_ENDED: &str =
    "SELECT COUNT(*) FROM accounts_ended_sessions WHERE handle = $1 AND ended_at >= $2";
const PURGE_INDEX: &str = "DELETE FROM accounts_session_index WHERE updated_at < $1";
const PURGE_ENDED: &str = "DELETE FROM accounts_ended_sessions WHERE ended_at < $1";
const REPLACE: &str = "UPDATE accounts_session_tokens SET token = $3, updated_at = $4 \
     WHERE handle = $1 AND provider = $2 AND token = $5";
const LEASE: &str = "SELECT until_ms, token FROM accounts_refresh_leases WHERE lease_key = $1";
const TAKE_LEASE: &str = "INSERT INTO accounts_refresh_leases (lease_key, until_ms, token) \
     VALUES ($1, $2, NULL) \
     ON CONFLICT (lease_key) DO UPDATE SET until_ms = excluded.until_ms, token = NULL \
     WHERE accounts_refresh_leases.until_ms <= $3";
const PUBLISH_LEASE: &str =
    "UPDATE accounts_refresh_leases SET token = $2, until_ms = $3 WHERE lease_key = $1";
const RELEASE_LEASE: &str =
    "DELETE FROM accounts_refresh_leases WHERE lease_key = $1 AND token IS NULL";
const PURGE_LEASES: &str = "DELETE FROM accounts_refresh_leases WHERE until_ms < $1";
const USE_ONCE: &str = "INSERT INTO accounts_used_values (value_key, expires_at) VALUES ($1, $2) \
     ON CONFLICT (value_key) DO UPDATE SET expires_at = excluded.expires_at \
     WHERE accounts_used_values.expires_at <= $3";
const PURGE_USED: &str = "DELETE FROM accounts_used_values WHERE expires_at < $1";

/// What the sealed token is bound to: its handle, so a row copied under another handle does not
/// open.
fn bound_to(handle: &str) -> String {
    format!("session:{handle}")
}

/// What a refresh lease's sealed token is bound to.
fn lease_bound_to(key: &str) -> String {
    format!("refresh:{key}")
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// The oldest `updated_at` still kept.
fn cutoff() -> i64 {
    i64::try_from(now_unix().saturating_sub(TTL_SECS)).unwrap_or(0)
}

impl SqlStore {
    async fn sealed_rows(&self, handle: &str) -> Result<Vec<(String, Vec<u8>)>, crate::OAuthError> {
        Ok(on_pool!(self, pool => {
            sqlx::query_as(LIST)
                .bind(handle)
                .fetch_all(pool)
                .await
                .map_err(storage)?
        }))
    }

    async fn execute(&self, sql: &str, args: &[&str]) -> Result<(), crate::OAuthError> {
        on_pool!(self, pool => {
            let mut query = sqlx::query(sql);
            for arg in args {
                query = query.bind(*arg);
            }
            query.execute(pool).await.map_err(storage)?;
        });
        Ok(())
    }

    async fn save_sealed(
        &self,
        handle: &str,
        provider: &str,
        sealed: Vec<u8>,
    ) -> Result<(), crate::OAuthError> {
        let now = i64::try_from(now_unix()).unwrap_or(i64::MAX);
        on_pool!(self, pool => {
            sqlx::query(SAVE)
                .bind(handle)
                .bind(provider)
                .bind(sealed)
                .bind(now)
                .execute(pool)
                .await
                .map_err(storage)?;
        });
        Ok(())
    }
}

impl TokenStore for SqlStore {
    fn load<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
    ) -> StoreFuture<'a, Option<TokenResponse>> {
        Box::pin(async move {
            let sealed: Option<Vec<u8>> = on_pool!(self, pool => {
                sqlx::query_scalar(LOAD)
                    .bind(handle)
                    .bind(provider)
                    .bind(cutoff())
                    .fetch_optional(pool)
                    .await
                    .map_err(storage)?
            });
            sealed
                .map(|sealed| token::open(self.key(), provider, &bound_to(handle), &sealed))
                .transpose()
        })
    }

    fn save<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        token: &'a TokenResponse,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let sealed = token::seal(self.key(), provider, &bound_to(handle), token)?;
            self.save_sealed(handle, provider, sealed).await
        })
    }

    fn remove<'a>(&'a self, handle: &'a str, provider: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.execute(REMOVE, &[handle, provider]).await })
    }

    fn remove_all<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move { self.execute(REMOVE_ALL, &[handle]).await })
    }

    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            // Each token is sealed to its handle: opened and sealed again under the new one. One
            // that does not open (stored before a key was set, or under another key) is left
            // behind rather than failing the sign-in.
            for (provider, sealed) in self.sealed_rows(from).await? {
                match token::open(self.key(), &provider, &bound_to(from), &sealed) {
                    Ok(token) => {
                        let resealed = token::seal(self.key(), &provider, &bound_to(to), &token)?;
                        self.save_sealed(to, &provider, resealed).await?;
                    }
                    Err(e) => log::warn!(
                        "actix-oauth: a stored session token could not be opened ({})",
                        e.kind()
                    ),
                }
            }
            self.execute(REMOVE_ALL, &[from]).await?;
            // Sign-ins are when the tables are swept of abandoned sessions' rows.
            let now = i64::try_from(now_unix()).unwrap_or(i64::MAX);
            on_pool!(self, pool => {
                for purge in [PURGE, PURGE_INDEX, PURGE_ENDED] {
                    sqlx::query(purge)
                        .bind(cutoff())
                        .execute(pool)
                        .await
                        .map_err(storage)?;
                }
                // Leases and their results are kept for seconds, used values for their lifetime.
                for (purge, before) in [
                    (PURGE_LEASES, now_millis().saturating_sub(60_000)),
                    (PURGE_USED, now),
                ] {
                    sqlx::query(purge)
                        .bind(before)
                        .execute(pool)
                        .await
                        .map_err(storage)?;
                }
            });
            Ok(())
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
            let now = i64::try_from(now_unix()).unwrap_or(i64::MAX);
            // The user's key, and the provider session's when there is one: one statement.
            let by_sub = index_key(Some(sub), None).unwrap_or_default();
            match index_key(None, sid) {
                Some(by_sid) => on_pool!(self, pool => {
                    sqlx::query(INDEX_BOTH)
                        .bind(provider)
                        .bind(&by_sub)
                        .bind(handle)
                        .bind(now)
                        .bind(&by_sid)
                        .execute(pool)
                        .await
                        .map_err(storage)?;
                }),
                None => on_pool!(self, pool => {
                    sqlx::query(INDEX)
                        .bind(provider)
                        .bind(&by_sub)
                        .bind(handle)
                        .bind(now)
                        .execute(pool)
                        .await
                        .map_err(storage)?;
                }),
            }
            Ok(())
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
            let now = i64::try_from(now_unix()).unwrap_or(i64::MAX);
            // One transaction: every instance sees all of these sessions ended, or none.
            let ended = in_write_tx!(self, tx => {
                let handles: Vec<String> = sqlx::query_scalar(INDEXED)
                    .bind(provider)
                    .bind(&key)
                    .bind(cutoff())
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(storage)?;
                for handle in &handles {
                    sqlx::query(REMOVE_ALL)
                        .bind(handle)
                        .execute(&mut *tx)
                        .await
                        .map_err(storage)?;
                    sqlx::query(END)
                        .bind(handle)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(storage)?;
                }
                sqlx::query(UNINDEX)
                    .bind(provider)
                    .bind(&key)
                    .execute(&mut *tx)
                    .await
                    .map_err(storage)?;
                tx.commit().await.map_err(storage)?;
                handles.len()
            });
            Ok(ended)
        })
    }

    fn is_ended<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let count: i64 = on_pool!(self, pool => {
                sqlx::query_scalar(IS_ENDED)
                    .bind(handle)
                    .bind(cutoff())
                    .fetch_one(pool)
                    .await
                    .map_err(storage)?
            });
            Ok(count > 0)
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
            let sealed: Option<Vec<u8>> = on_pool!(self, pool => {
                sqlx::query_scalar(LOAD)
                    .bind(handle)
                    .bind(provider)
                    .bind(cutoff())
                    .fetch_optional(pool)
                    .await
                    .map_err(storage)?
            });
            let Some(sealed) = sealed else {
                return Ok(false);
            };
            let current = token::open(self.key(), provider, &bound_to(handle), &sealed)?;
            if !same_access_token(&current, old) {
                return Ok(false);
            }
            // The row is replaced only while it holds the very bytes read: compare and swap.
            let resealed = token::seal(self.key(), provider, &bound_to(handle), new)?;
            let now = i64::try_from(now_unix()).unwrap_or(i64::MAX);
            let replaced = on_pool!(self, pool => {
                sqlx::query(REPLACE)
                    .bind(handle)
                    .bind(provider)
                    .bind(resealed)
                    .bind(now)
                    .bind(sealed)
                    .execute(pool)
                    .await
                    .map_err(storage)?
                    .rows_affected()
            });
            Ok(replaced == 1)
        })
    }

    fn claim_refresh<'a>(
        &'a self,
        provider: &'a str,
        key: &'a str,
        lease: std::time::Duration,
    ) -> StoreFuture<'a, RefreshClaim> {
        Box::pin(async move {
            let lease_key = format!("{provider}:{key}");
            let now = now_millis();
            let row: Option<(i64, Option<Vec<u8>>)> = on_pool!(self, pool => {
                sqlx::query_as(LEASE)
                    .bind(&lease_key)
                    .fetch_optional(pool)
                    .await
                    .map_err(storage)?
            });
            match row {
                Some((until, Some(sealed))) if until > now => {
                    let fresh =
                        token::open(self.key(), provider, &lease_bound_to(&lease_key), &sealed)?;
                    return Ok(RefreshClaim::Refreshed(fresh));
                }
                Some((until, None)) if until > now => return Ok(RefreshClaim::Busy),
                _ => {}
            }
            // No lease, or an expired one: taken by whichever instance's insert lands first.
            let taken = on_pool!(self, pool => {
                sqlx::query(TAKE_LEASE)
                    .bind(&lease_key)
                    .bind(now.saturating_add(millis(lease)))
                    .bind(now)
                    .execute(pool)
                    .await
                    .map_err(storage)?
                    .rows_affected()
            });
            Ok(if taken == 1 {
                RefreshClaim::Leased
            } else {
                RefreshClaim::Busy
            })
        })
    }

    fn finish_refresh<'a>(
        &'a self,
        provider: &'a str,
        key: &'a str,
        fresh: Option<&'a TokenResponse>,
        keep: std::time::Duration,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let lease_key = format!("{provider}:{key}");
            match fresh {
                Some(fresh) => {
                    let sealed =
                        token::seal(self.key(), provider, &lease_bound_to(&lease_key), fresh)?;
                    on_pool!(self, pool => {
                        sqlx::query(PUBLISH_LEASE)
                            .bind(&lease_key)
                            .bind(sealed)
                            .bind(now_millis().saturating_add(millis(keep)))
                            .execute(pool)
                            .await
                            .map_err(storage)?;
                    });
                    Ok(())
                }
                None => self.execute(RELEASE_LEASE, &[&lease_key]).await,
            }
        })
    }

    fn use_once<'a>(&'a self, key: &'a str, ttl: std::time::Duration) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let now = i64::try_from(now_unix()).unwrap_or(i64::MAX);
            let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
            let fresh = on_pool!(self, pool => {
                sqlx::query(USE_ONCE)
                    .bind(key)
                    .bind(now.saturating_add(ttl))
                    .bind(now)
                    .execute(pool)
                    .await
                    .map_err(storage)?
                    .rows_affected()
            });
            Ok(fresh == 1)
        })
    }
}
