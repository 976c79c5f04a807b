//! The accounts database as the server-side [`TokenStore`] of signed-in sessions: one row per
//! session handle and remote app in `accounts_session_tokens`, kept like identity tokens: with
//! the store's [`TokenKey`](crate::accounts::TokenKey) sealed with AES-256-GCM and bound to the
//! handle and the remote app, without one as JSON. Rows not written for 14 days are not read
//! and are deleted at the next sign-in; a row that does not open is skipped when a sign-in moves
//! the session's tokens.

use super::{storage, Pool, SqlStore};
use crate::{
    accounts::token,
    token_store::{StoreFuture, TokenStore},
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

/// What the sealed token is bound to: its handle, so a row copied under another handle does not
/// open.
fn bound_to(handle: &str) -> String {
    format!("session:{handle}")
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
            // Sign-ins are when the table is swept of abandoned sessions' tokens.
            on_pool!(self, pool => {
                sqlx::query(PURGE)
                    .bind(cutoff())
                    .execute(pool)
                    .await
                    .map_err(storage)?;
            });
            Ok(())
        })
    }
}
