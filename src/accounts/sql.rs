//! [`SqlStore`]: the [`AccountStore`] over SQLite and PostgreSQL, through sqlx.
//!
//! The SQL is written once, in the dialect both databases accept (`$n` parameters, `RETURNING`,
//! `UNION`), and every method body is written once and compiled for each pool by the
//! [`on_pool!`] macro. The only differences are the migrations, how a write transaction starts
//! (`BEGIN IMMEDIATE` on SQLite, so a writer waits for the lock instead of failing on a stale
//! snapshot) and a row lock PostgreSQL needs when unlinking.

use std::{
    str::FromStr,
    sync::Arc,
    time::{Duration, SystemTime},
};

use sqlx::{
    migrate::Migrator,
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
    ColumnIndex, Decode, Row, Type,
};

use super::{
    model::{from_unix, to_unix, verified_email},
    normalize_email, token, AccountStore, Identity, Insert, TokenKey, User, UserId,
};
use crate::{OAuthError, Profile, TokenResponse};

/// The database behind a [`SqlStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite (bundled): a file, or in memory.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The [`AccountStore`] over SQLite or PostgreSQL: a cheap `Clone` around a sqlx connection pool.
///
/// ```no_run
/// # async fn demo() -> Result<(), actix_oauth::OAuthError> {
/// use actix_oauth::accounts::{SqlStore, TokenKey};
///
/// let store = SqlStore::connect("sqlite://accounts.db?mode=rwc")
///     .await?
///     .token_key(TokenKey::from_base64(&std::env::var("TOKEN_KEY").unwrap_or_default())?);
/// store.migrate().await?;
/// # Ok(()) }
/// ```
///
/// The tables are `accounts_users` and `accounts_identities`. [`migrate`](Self::migrate) keeps
/// its version in sqlx's `_sqlx_migrations` table: an app that runs its own sqlx migrations on
/// the same database must let them ignore versions it does not know
/// (`Migrator::set_ignore_missing`), or give the accounts their own database or schema.
#[derive(Clone)]
pub struct SqlStore {
    pool: Pool,
    token_key: Option<Arc<TokenKey>>,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend())
            .field("token_key", &self.token_key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Runs `$body` with `$pool` bound to the concrete sqlx pool: the body is written once and
/// compiled for each database.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => $body,
            Pool::Postgres($pool) => $body,
        }
    };
}

/// Like [`on_pool!`] with `$tx` bound to a write transaction begun on the pool.
macro_rules! in_write_tx {
    ($store:expr, $tx:ident => $body:expr) => {
        match &$store.pool {
            Pool::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(storage)?;
                $body
            }
            Pool::Postgres(pool) => {
                let mut $tx = pool.begin().await.map_err(storage)?;
                $body
            }
        }
    };
}

impl SqlStore {
    /// Connects to `url`: `sqlite::memory:` (one private database, kept while the store lives),
    /// `sqlite://PATH` (`?mode=rwc` creates the file) or `postgres://…`. SQLite files use
    /// write-ahead logging with `synchronous = NORMAL` (see the README's "Durability": a power
    /// loss may roll back the last commits; an app crash loses none). Does not migrate: call [`migrate`](Self::migrate).
    ///
    /// # Errors
    /// [`OAuthError::Configuration`] for a URL of another scheme or that does not parse,
    /// [`OAuthError::Unavailable`] when the database cannot be reached.
    pub async fn connect(url: &str) -> Result<Self, OAuthError> {
        let invalid = |e: sqlx::Error| {
            OAuthError::config(format!("the accounts database URL is invalid: {e}"))
        };
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let options = PgConnectOptions::from_str(url).map_err(invalid)?;
            // A request waits at most this long for a connection: a database that went away
            // makes it a 503 within the timeout, not after sqlx's default 30 seconds.
            //
            // A connection is checked (a round trip) only when it sat idle for a second or more:
            // under load every statement would otherwise cost two round trips; after a quiet
            // spell, when the server may have restarted, the check still replaces a dead one.
            let pool = PgPoolOptions::new()
                .acquire_timeout(crate::defaults::STORE_TIMEOUT)
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= Duration::from_secs(1) {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .connect_with(options)
                .await
                .map_err(storage)?;
            Ok(Self::from_postgres(pool))
        } else if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url).map_err(invalid)?;
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            let pool = if in_memory {
                // Every connection to `:memory:` shares one database that lives as long as a
                // connection does: keep exactly one, forever.
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .connect_with(options)
                    .await
            } else {
                // Write-ahead logging with `synchronous = NORMAL` (what SQLite recommends for
                // WAL): a commit is not fsynced, the log is at each checkpoint. An app crash
                // loses nothing committed; a power loss or OS crash may roll back the last
                // commits before the checkpoint (README, "Durability"), never corrupt the file.
                //
                // One connection: SQLite lets one writer in at a time anyway, and with several
                // connections concurrent writers wait in SQLite's busy handler (sleeping and
                // retrying) while each connection's worker thread is woken for every statement.
                // One connection queues the statements instead: 15-20 % less CPU per sign-in in
                // the example server and half the p99 (BENCHMARKS.md, issue 18). No check of the
                // connection before each use: it is a local file, and the check is one more
                // round trip to its worker thread per statement.
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .test_before_acquire(false)
                    .connect_with(
                        options
                            .journal_mode(SqliteJournalMode::Wal)
                            .synchronous(SqliteSynchronous::Normal),
                    )
                    .await
            }
            .map_err(storage)?;
            Ok(Self::from_sqlite(pool))
        } else {
            Err(OAuthError::config(
                "the accounts database URL must start with sqlite: or postgres://.",
            ))
        }
    }

    /// A store over an existing SQLite pool (foreign keys on, as sqlx sets by default).
    pub fn from_sqlite(pool: SqlitePool) -> Self {
        Self {
            pool: Pool::Sqlite(pool),
            token_key: None,
        }
    }

    /// A store over an existing PostgreSQL pool; the tables live in its `search_path`.
    pub fn from_postgres(pool: PgPool) -> Self {
        Self {
            pool: Pool::Postgres(pool),
            token_key: None,
        }
    }

    /// Encrypts tokens stored from now on with `key` (AES-256-GCM), and reads only tokens
    /// encrypted with it. Default: none, tokens are stored as plain JSON.
    ///
    /// # Security
    /// With a key, a token stored in plain text (before the key was set, or planted by someone
    /// who can write the table) is refused with [`OAuthError::Storage`], not read: store it again
    /// (the user signs in), or clear such rows once when adopting a key.
    #[must_use]
    pub fn token_key(mut self, key: TokenKey) -> Self {
        self.token_key = Some(Arc::new(key));
        self
    }

    /// The database this store uses.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Creates or updates the tables; safe to run on every start, and from several instances at
    /// once (PostgreSQL takes an advisory lock).
    ///
    /// # Errors
    /// [`OAuthError::Storage`] when a migration fails.
    pub async fn migrate(&self) -> Result<(), OAuthError> {
        // Versions applied by the app's own sqlx migrations are not ours: ignore them.
        let mut migrator: Migrator = match self.pool {
            Pool::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
            Pool::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        };
        migrator.set_ignore_missing(true);
        on_pool!(self, pool => migrator.run(pool).await)
            .map_err(|e| OAuthError::Storage(format!("the accounts migration failed: {e}")))
    }

    /// Closes the pool: waits for connections in use to come back, then closes them all.
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }

    fn key(&self) -> Option<&TokenKey> {
        self.token_key.as_deref()
    }
}

const USER_COLUMNS: &str = "id, name, email, created_at";
const IDENTITY_COLUMNS: &str =
    "user_id, provider, subject, name, username, email, email_verified, \
     picture, created_at, last_sign_in_at";

fn select_user() -> String {
    format!("SELECT {USER_COLUMNS} FROM accounts_users WHERE id = $1")
}

fn select_identity() -> String {
    format!(
        "SELECT {IDENTITY_COLUMNS} FROM accounts_identities WHERE provider = $1 AND subject = $2"
    )
}

/// A user and their identities, one row per identity (none for a user without identities):
/// the query, written once.
static SELECT_USER_WITH_IDENTITIES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let identity_columns: Vec<String> = IDENTITY_COLUMNS
        .split(',')
        .map(|c| format!("i.{}", c.trim()))
        .collect();
    format!(
        "SELECT u.id AS u_id, u.name AS u_name, u.email AS u_email, u.created_at AS u_created_at, \
         {} FROM accounts_users u JOIN accounts_identities i ON i.user_id = u.id \
         WHERE u.id = $1 ORDER BY i.created_at, i.id",
        identity_columns.join(", ")
    )
});

fn select_identities() -> String {
    format!(
        "SELECT {IDENTITY_COLUMNS} FROM accounts_identities WHERE user_id = $1 \
         ORDER BY created_at, id"
    )
}

const USERS_WITH_EMAIL: &str = "SELECT id FROM accounts_users WHERE email_normalized = $1 \
     UNION SELECT user_id FROM accounts_identities WHERE verified_email_normalized = $1 \
     ORDER BY 1 LIMIT 2";

fn insert_user() -> String {
    format!(
        "INSERT INTO accounts_users (name, email, email_normalized, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING {USER_COLUMNS}"
    )
}

fn insert_identity() -> String {
    format!(
        "INSERT INTO accounts_identities (user_id, provider, subject, name, username, email, \
         email_verified, verified_email_normalized, picture, created_at, last_sign_in_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING {IDENTITY_COLUMNS}"
    )
}

/// Records a returning identity's sign-in; `with_token`: its sealed tokens too (`$10`).
fn refresh_identity(with_token: bool) -> String {
    format!(
        "UPDATE accounts_identities SET name = $3, username = $4, email = $5, \
         email_verified = $6, verified_email_normalized = $7, picture = $8, last_sign_in_at = $9{} \
         WHERE provider = $1 AND subject = $2 RETURNING {IDENTITY_COLUMNS}",
        if with_token { ", token = $10" } else { "" }
    )
}

/// Gives a user without a primary email the verified email of a newly linked identity, unless
/// another user has it.
const FILL_PRIMARY_EMAIL: &str = "UPDATE accounts_users SET email = $2, email_normalized = $3 \
     WHERE id = $1 AND email_normalized IS NULL \
     AND NOT EXISTS (SELECT 1 FROM accounts_users WHERE email_normalized = $3)";

/// PostgreSQL only: serializes unlinks of one user, so two at once cannot remove the last two.
/// (SQLite's `BEGIN IMMEDIATE` already serializes all writers.)
const LOCK_USER: &str = "SELECT id FROM accounts_users WHERE id = $1 FOR UPDATE";

const UNLINK: &str = "DELETE FROM accounts_identities \
     WHERE user_id = $1 AND provider = $2 AND subject = $3 \
     AND (SELECT COUNT(*) FROM accounts_identities WHERE user_id = $1) > 1";

const HAS_IDENTITY: &str = "SELECT COUNT(*) FROM accounts_identities \
     WHERE user_id = $1 AND provider = $2 AND subject = $3";

const DELETE_IDENTITIES: &str = "DELETE FROM accounts_identities WHERE user_id = $1";
const DELETE_USER: &str = "DELETE FROM accounts_users WHERE id = $1";

const STORE_TOKEN: &str =
    "UPDATE accounts_identities SET token = $3 WHERE provider = $1 AND subject = $2";
const LOAD_TOKEN: &str =
    "SELECT token FROM accounts_identities WHERE provider = $1 AND subject = $2";
const USER_TOKEN: &str = "SELECT subject, token FROM accounts_identities \
     WHERE user_id = $1 AND provider = $2 AND token IS NOT NULL \
     ORDER BY last_sign_in_at DESC, id DESC LIMIT 1";

fn storage(e: sqlx::Error) -> OAuthError {
    // A database that cannot be reached, or that ends the connection (SQLSTATE class 08, or 57P
    // for a server shutting down), is the app's 503; anything else its 500.
    let unreachable = match &e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    };
    if unreachable {
        OAuthError::Unavailable("accounts database")
    } else {
        OAuthError::Storage(format!("{e}."))
    }
}

/// Whether `e` is a constraint that a concurrent writer made fail: the caller decides anew.
fn raced(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation() || db.is_foreign_key_violation())
}

fn user_from_row<'r, R>(row: &'r R) -> Result<User, sqlx::Error>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(User::new(
        UserId(row.try_get("id")?),
        row.try_get("name")?,
        row.try_get("email")?,
        from_unix(row.try_get("created_at")?),
    ))
}

fn identity_from_row<'r, R>(row: &'r R) -> Result<Identity, sqlx::Error>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(Identity {
        user_id: UserId(row.try_get("user_id")?),
        provider: row.try_get("provider")?,
        subject: row.try_get("subject")?,
        name: row.try_get("name")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        email_verified: row.try_get("email_verified")?,
        picture: row.try_get("picture")?,
        created_at: from_unix(row.try_get("created_at")?),
        last_sign_in_at: from_unix(row.try_get("last_sign_in_at")?),
    })
}

impl SqlStore {
    /// A returning identity's sign-in: its profile and last sign-in time, and its `sealed`
    /// tokens when given. One statement, atomic on its own: no transaction around it (a `BEGIN`
    /// and a `COMMIT` would be two more round trips to the database).
    async fn record_sign_in(
        &self,
        profile: &Profile,
        sealed: Option<Vec<u8>>,
    ) -> Result<Option<Identity>, OAuthError> {
        let now = to_unix(SystemTime::now());
        let verified = verified_email(profile);
        let sql = refresh_identity(sealed.is_some());
        on_pool!(self, pool => {
            let mut query = sqlx::query(&sql)
                .bind(&profile.provider)
                .bind(&profile.subject)
                .bind(&profile.name)
                .bind(&profile.username)
                .bind(&profile.email)
                .bind(profile.email_verified)
                .bind(&verified)
                .bind(&profile.picture)
                .bind(now);
            if let Some(sealed) = &sealed {
                query = query.bind(sealed);
            }
            let row = query.fetch_optional(pool).await.map_err(storage)?;
            row.as_ref().map(identity_from_row).transpose().map_err(storage)
        })
    }
}

impl AccountStore for SqlStore {
    async fn user(&self, id: UserId) -> Result<Option<User>, OAuthError> {
        on_pool!(self, pool => {
            let row = sqlx::query(&select_user())
                .bind(id.0)
                .fetch_optional(pool)
                .await
                .map_err(storage)?;
            row.as_ref().map(user_from_row).transpose().map_err(storage)
        })
    }

    async fn identity(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<Identity>, OAuthError> {
        on_pool!(self, pool => {
            let row = sqlx::query(&select_identity())
                .bind(provider)
                .bind(subject)
                .fetch_optional(pool)
                .await
                .map_err(storage)?;
            row.as_ref().map(identity_from_row).transpose().map_err(storage)
        })
    }

    async fn identities(&self, user: UserId) -> Result<Vec<Identity>, OAuthError> {
        on_pool!(self, pool => {
            let rows = sqlx::query(&select_identities())
                .bind(user.0)
                .fetch_all(pool)
                .await
                .map_err(storage)?;
            rows.iter().map(identity_from_row).collect::<Result<_, _>>().map_err(storage)
        })
    }

    async fn user_with_identities(
        &self,
        id: UserId,
    ) -> Result<Option<(User, Vec<Identity>)>, OAuthError> {
        let rows = on_pool!(self, pool => {
            let rows = sqlx::query(SELECT_USER_WITH_IDENTITIES.as_str())
                .bind(id.0)
                .fetch_all(pool)
                .await
                .map_err(storage)?;
            let Some(first) = rows.first() else {
                // No identity (or no user): the user alone, if any.
                return Ok(self.user(id).await?.map(|user| (user, Vec::new())));
            };
            let user = User::new(
                UserId(first.try_get("u_id").map_err(storage)?),
                first.try_get("u_name").map_err(storage)?,
                first.try_get("u_email").map_err(storage)?,
                from_unix(first.try_get("u_created_at").map_err(storage)?),
            );
            let identities = rows
                .iter()
                .map(identity_from_row)
                .collect::<Result<Vec<_>, _>>()
                .map_err(storage)?;
            (user, identities)
        });
        Ok(Some(rows))
    }

    async fn users_with_verified_email(&self, email: &str) -> Result<Vec<UserId>, OAuthError> {
        on_pool!(self, pool => {
            let ids: Vec<i64> = sqlx::query_scalar(USERS_WITH_EMAIL)
                .bind(email)
                .fetch_all(pool)
                .await
                .map_err(storage)?;
            Ok(ids.into_iter().map(UserId).collect())
        })
    }

    async fn create_user(
        &self,
        profile: &Profile,
        email: Option<&str>,
    ) -> Result<Insert<(User, Identity)>, OAuthError> {
        let now = to_unix(SystemTime::now());
        let name = profile.name.as_deref().or(profile.username.as_deref());
        let email = email.map(|e| (e.trim_ascii(), normalize_email(e)));
        let verified = verified_email(profile);
        in_write_tx!(self, tx => {
            let user = sqlx::query(&insert_user())
                .bind(name)
                .bind(email.as_ref().map(|(e, _)| *e))
                .bind(email.as_ref().map(|(_, n)| n.as_str()))
                .bind(now)
                .fetch_one(&mut *tx)
                .await;
            let user = match user {
                Ok(row) => user_from_row(&row).map_err(storage)?,
                Err(e) if raced(&e) => return Ok(Insert::Raced),
                Err(e) => return Err(storage(e)),
            };
            let identity = sqlx::query(&insert_identity())
                .bind(user.id.0)
                .bind(&profile.provider)
                .bind(&profile.subject)
                .bind(&profile.name)
                .bind(&profile.username)
                .bind(&profile.email)
                .bind(profile.email_verified)
                .bind(&verified)
                .bind(&profile.picture)
                .bind(now)
                .fetch_one(&mut *tx)
                .await;
            let identity = match identity {
                Ok(row) => identity_from_row(&row).map_err(storage)?,
                Err(e) if raced(&e) => return Ok(Insert::Raced),
                Err(e) => return Err(storage(e)),
            };
            tx.commit().await.map_err(storage)?;
            Ok(Insert::Done((user, identity)))
        })
    }

    async fn link_identity(
        &self,
        user: UserId,
        profile: &Profile,
    ) -> Result<Insert<Identity>, OAuthError> {
        let now = to_unix(SystemTime::now());
        let verified = verified_email(profile);
        let identity = in_write_tx!(self, tx => {
            let identity = sqlx::query(&insert_identity())
                .bind(user.0)
                .bind(&profile.provider)
                .bind(&profile.subject)
                .bind(&profile.name)
                .bind(&profile.username)
                .bind(&profile.email)
                .bind(profile.email_verified)
                .bind(&verified)
                .bind(&profile.picture)
                .bind(now)
                .fetch_one(&mut *tx)
                .await;
            let identity = match identity {
                Ok(row) => identity_from_row(&row).map_err(storage)?,
                Err(e) if raced(&e) => return Ok(Insert::Raced),
                Err(e) => return Err(storage(e)),
            };
            tx.commit().await.map_err(storage)?;
            identity
        });
        if let Some(normalized) = &verified {
            let email = profile.email.as_deref().map(str::trim_ascii);
            // Best effort, after the link committed: a concurrent claim of the same address
            // wins, and this user keeps no primary email.
            let filled = in_write_tx!(self, tx => {
                let done = sqlx::query(FILL_PRIMARY_EMAIL)
                    .bind(user.0)
                    .bind(email)
                    .bind(normalized)
                    .execute(&mut *tx)
                    .await;
                match done {
                    Ok(_) => tx.commit().await,
                    Err(e) => Err(e),
                }
            });
            match filled {
                Err(e) if !raced(&e) => return Err(storage(e)),
                _ => {}
            }
        }
        Ok(Insert::Done(identity))
    }

    async fn refresh_identity(&self, profile: &Profile) -> Result<Option<Identity>, OAuthError> {
        self.record_sign_in(profile, None).await
    }

    async fn refresh_identity_with_token(
        &self,
        profile: &Profile,
        token: &TokenResponse,
    ) -> Result<Option<Identity>, OAuthError> {
        let sealed = token::seal(self.key(), &profile.provider, &profile.subject, token)?;
        self.record_sign_in(profile, Some(sealed)).await
    }

    async fn unlink(
        &self,
        user: UserId,
        provider: &str,
        subject: &str,
    ) -> Result<bool, OAuthError> {
        let postgres = self.backend() == Backend::Postgres;
        in_write_tx!(self, tx => {
            if postgres {
                sqlx::query(LOCK_USER)
                    .bind(user.0)
                    .execute(&mut *tx)
                    .await
                    .map_err(storage)?;
            }
            let deleted = sqlx::query(UNLINK)
                .bind(user.0)
                .bind(provider)
                .bind(subject)
                .execute(&mut *tx)
                .await
                .map_err(storage)?
                .rows_affected();
            if deleted == 0 {
                let exists: i64 = sqlx::query_scalar(HAS_IDENTITY)
                    .bind(user.0)
                    .bind(provider)
                    .bind(subject)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(storage)?;
                if exists > 0 {
                    return Err(OAuthError::Conflict(
                        "this is the user's last sign-in identity; it cannot be unlinked.".into(),
                    ));
                }
                return Ok(false);
            }
            tx.commit().await.map_err(storage)?;
            Ok(true)
        })
    }

    async fn delete_user(&self, user: UserId) -> Result<bool, OAuthError> {
        in_write_tx!(self, tx => {
            sqlx::query(DELETE_IDENTITIES)
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(storage)?;
            let deleted = sqlx::query(DELETE_USER)
                .bind(user.0)
                .execute(&mut *tx)
                .await
                .map_err(storage)?
                .rows_affected();
            tx.commit().await.map_err(storage)?;
            Ok(deleted > 0)
        })
    }

    async fn store_token(
        &self,
        provider: &str,
        subject: &str,
        token: &TokenResponse,
    ) -> Result<bool, OAuthError> {
        let sealed = token::seal(self.key(), provider, subject, token)?;
        on_pool!(self, pool => {
            let updated = sqlx::query(STORE_TOKEN)
                .bind(provider)
                .bind(subject)
                .bind(&sealed)
                .execute(pool)
                .await
                .map_err(storage)?
                .rows_affected();
            Ok(updated > 0)
        })
    }

    async fn load_token(
        &self,
        provider: &str,
        subject: &str,
    ) -> Result<Option<TokenResponse>, OAuthError> {
        let sealed: Option<Option<Vec<u8>>> = on_pool!(self, pool => {
            sqlx::query_scalar(LOAD_TOKEN)
                .bind(provider)
                .bind(subject)
                .fetch_optional(pool)
                .await
                .map_err(storage)?
        });
        sealed
            .flatten()
            .map(|sealed| token::open(self.key(), provider, subject, &sealed))
            .transpose()
    }

    async fn user_token(
        &self,
        user: UserId,
        provider: &str,
    ) -> Result<Option<TokenResponse>, OAuthError> {
        let row: Option<(String, Vec<u8>)> = on_pool!(self, pool => {
            sqlx::query_as(USER_TOKEN)
                .bind(user.0)
                .bind(provider)
                .fetch_optional(pool)
                .await
                .map_err(storage)?
        });
        row.map(|(subject, sealed)| token::open(self.key(), provider, &subject, &sealed))
            .transpose()
    }
}
mod session_tokens;
