//! The accounts module against real databases: every scenario on SQLite (a temporary file), and
//! on PostgreSQL when `DATABASE_URL` is a `postgres://` URL, each test in its own schema so tests
//! run in parallel.
#![cfg(feature = "accounts")]

use std::{path::PathBuf, str::FromStr};

use actix_oauth::{
    accounts::{
        self,
        sqlx::{
            self,
            postgres::{PgConnectOptions, PgPool, PgPoolOptions},
            sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions},
            Connection as _,
        },
        AccountStore, Backend, Outcome, SqlStore, TokenKey, UserId,
    },
    AccessToken, ErrorKind, OAuthError, Profile, RefreshToken, TokenResponse,
};
use rand::Rng as _;

const SKIP: &str = "DATABASE_URL unset: skipping PostgreSQL accounts tests";

/// A fresh database for one test: removed (file) or dropped (schema) when the test ends, even by
/// a panic.
struct Db {
    store: SqlStore,
    raw: Raw,
    cleanup: Cleanup,
}

/// Direct access to the tables, to check what is stored.
enum Raw {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

enum Cleanup {
    File(PathBuf),
    Schema { url: String, schema: String },
}

fn unique_name() -> String {
    format!(
        "{}_{:016x}",
        std::process::id(),
        rand::thread_rng().gen::<u64>()
    )
}

impl Db {
    /// A new SQLite file in the temporary directory, migrated, with a pool of several
    /// connections (so concurrent sign-ins really are concurrent).
    async fn sqlite() -> Self {
        let db = Self::sqlite_unmigrated().await;
        db.store.migrate().await.expect("SQLite migrates");
        db
    }

    /// [`Db::sqlite`] without the migrations.
    async fn sqlite_unmigrated() -> Self {
        let path = std::env::temp_dir().join(format!("actix-oauth-accounts-{}.db", unique_name()));
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("SQLite opens a temporary file");
        let store = SqlStore::from_sqlite(pool.clone());
        Self {
            store,
            raw: Raw::Sqlite(pool),
            cleanup: Cleanup::File(path),
        }
    }

    /// A new schema in the database at `DATABASE_URL`, migrated; `None` (after saying so) when
    /// `DATABASE_URL` is not a PostgreSQL URL.
    async fn postgres() -> Option<Self> {
        let db = Self::postgres_unmigrated().await?;
        db.store.migrate().await.expect("PostgreSQL migrates");
        Some(db)
    }

    /// [`Db::postgres`] without the migrations.
    async fn postgres_unmigrated() -> Option<Self> {
        let url = match std::env::var("DATABASE_URL") {
            Ok(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => url,
            _ => {
                {
                    use std::io::Write as _;
                    let _ = writeln!(std::io::stderr(), "note: {SKIP}");
                };
                return None;
            }
        };
        let schema = format!("t_accounts_{}", unique_name());
        let mut admin = sqlx::PgConnection::connect(&url)
            .await
            .expect("PostgreSQL at DATABASE_URL accepts connections");
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut admin)
            .await
            .expect("a test schema can be created");
        admin.close().await.ok();
        let options = PgConnectOptions::from_str(&url)
            .expect("DATABASE_URL parses")
            .options([("search_path", schema.as_str())]);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .expect("PostgreSQL pool connects");
        Some(Self {
            store: SqlStore::from_postgres(pool.clone()),
            raw: Raw::Postgres(pool),
            cleanup: Cleanup::Schema { url, schema },
        })
    }

    /// Applies only the first migration (the schema as released before emails were compared
    /// with ASCII case folding only), read from the crate's migrations directory.
    async fn migrate_first_only(&self) {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(match self.raw {
            Raw::Sqlite(_) => "migrations/sqlite",
            Raw::Postgres(_) => "migrations/postgres",
        });
        let mut migrator = sqlx::migrate::Migrator::new(dir.as_path())
            .await
            .expect("the migrations read");
        migrator.migrations = migrator.migrations[..1].to_vec().into();
        match &self.raw {
            Raw::Sqlite(pool) => migrator.run(pool).await,
            Raw::Postgres(pool) => migrator.run(pool).await,
        }
        .expect("the first migration applies");
    }

    /// Inserts a user with one verified identity as an earlier release stored them, with the
    /// normalized columns given as they were then; returns the user's id.
    async fn insert_as_before(&self, email: &str, normalized: &str, subject: &str) -> i64 {
        let user = "INSERT INTO accounts_users (name, email, email_normalized, created_at) \
                    VALUES ('old', $1, $2, 1700000000) RETURNING id";
        let identity = "INSERT INTO accounts_identities (user_id, provider, subject, email, \
                        email_verified, verified_email_normalized, created_at, last_sign_in_at) \
                        VALUES ($1, 'github', $2, $3, TRUE, $4, 1700000000, 1700000000)";
        macro_rules! insert {
            ($pool:expr) => {{
                let id: i64 = sqlx::query_scalar(user)
                    .bind(email)
                    .bind(normalized)
                    .fetch_one($pool)
                    .await
                    .unwrap();
                sqlx::query(identity)
                    .bind(id)
                    .bind(subject)
                    .bind(email)
                    .bind(normalized)
                    .execute($pool)
                    .await
                    .unwrap();
                id
            }};
        }
        match &self.raw {
            Raw::Sqlite(pool) => insert!(pool),
            Raw::Postgres(pool) => insert!(pool),
        }
    }

    /// The stored token column of one identity, as bytes.
    async fn raw_token(&self, provider: &str, subject: &str) -> Vec<u8> {
        let sql = "SELECT token FROM accounts_identities WHERE provider = $1 AND subject = $2";
        match &self.raw {
            Raw::Sqlite(pool) => sqlx::query_scalar(sql)
                .bind(provider)
                .bind(subject)
                .fetch_one(pool)
                .await
                .unwrap(),
            Raw::Postgres(pool) => sqlx::query_scalar(sql)
                .bind(provider)
                .bind(subject)
                .fetch_one(pool)
                .await
                .unwrap(),
        }
    }

    /// How many rows a table has.
    async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        match &self.raw {
            Raw::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap(),
            Raw::Postgres(pool) => sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap(),
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let mut file = path.clone().into_os_string();
                    file.push(suffix);
                    let _ = std::fs::remove_file(file);
                }
            }
            Cleanup::Schema { url, schema } => {
                // Drop is synchronous: drop the schema from a thread with its own runtime.
                let (url, schema) = (url.clone(), schema.clone());
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime for cleanup");
                    runtime.block_on(async move {
                        let mut conn = sqlx::PgConnection::connect(&url).await?;
                        sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                            .execute(&mut conn)
                            .await?;
                        conn.close().await
                    })
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("could not drop test schema {}", self.cleanup_name());
                }
            }
        }
    }
}

impl Db {
    fn cleanup_name(&self) -> &str {
        match &self.cleanup {
            Cleanup::Schema { schema, .. } => schema,
            Cleanup::File(_) => "",
        }
    }
}

/// Runs each named scenario (an `async fn(&Db)`) as two tests, `NAME::sqlite` and
/// `NAME::postgres`.
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_rt::test]
            async fn sqlite() {
                let db = super::Db::sqlite().await;
                assert_eq!(db.store.backend(), super::Backend::Sqlite);
                super::$name(&db).await;
            }

            #[actix_rt::test]
            async fn postgres() {
                if let Some(db) = super::Db::postgres().await {
                    assert_eq!(db.store.backend(), super::Backend::Postgres);
                    super::$name(&db).await;
                }
            }
        }
    )*};
}

on_both_databases!(
    created_then_returning,
    linked_while_signed_in,
    linked_by_verified_email,
    unverified_email_never_links,
    email_of_two_users_does_not_link,
    identity_of_another_user_is_a_conflict,
    stale_signed_in_user_counts_as_nobody,
    unlink_refuses_the_last_identity,
    delete_user_removes_its_identities,
    tokens_round_trip_in_plain_text,
    tokens_are_encrypted_at_rest,
    concurrent_first_sign_ins_make_one_user,
    concurrent_sign_ins_of_one_identity_make_one_user,
    lookalike_emails_never_link,
    plaintext_tokens_are_refused_by_a_keyed_store,
    session_tokens_are_kept_per_handle,
    sign_in_with_token_keeps_the_token_on_every_path,
    user_with_identities_is_user_and_identities,
);

/// The accounts database as the app's server-side token store (issue 13.2): tokens by session
/// handle and remote app, moved to a new handle at sign-in, deleted at sign-out.
async fn session_tokens_are_kept_per_handle(db: &Db) {
    use actix_oauth::TokenStore as _;
    let plain = db.store.clone();
    let keyed = db.store.clone().token_key(TokenKey::generate());
    for store in [&plain, &keyed] {
        let token = TokenResponse::new(AccessToken::new("a".repeat(3000)))
            .with_refresh_token(Some(RefreshToken::new("r".repeat(1500))))
            .with_expiry(Some(4_000_000_000));
        store.save("h1", "github", &token).await.unwrap();
        store.save("h1", "google", &token).await.unwrap();
        let back = store.load("h1", "github").await.unwrap().expect("kept");
        assert_eq!(back.access_token().secret().len(), 3000);
        assert_eq!(back.refresh_token().unwrap().secret().len(), 1500);
        assert!(store.load("h1", "gitlab").await.unwrap().is_none());
        // Saved again: replaced, not duplicated.
        store.save("h1", "github", &token).await.unwrap();
        store.rename("h1", "h2").await.unwrap();
        assert!(store.load("h1", "github").await.unwrap().is_none());
        assert!(store.load("h2", "google").await.unwrap().is_some());
        store.remove("h2", "google").await.unwrap();
        assert!(store.load("h2", "google").await.unwrap().is_none());
        store.remove_all("h2").await.unwrap();
        assert!(store.load("h2", "github").await.unwrap().is_none());
    }
    // A token sealed under one key does not open with another.
    keyed
        .save(
            "h3",
            "github",
            &TokenResponse::new(AccessToken::new("t".into())),
        )
        .await
        .unwrap();
    let other = db.store.clone().token_key(TokenKey::generate());
    assert!(other.load("h3", "github").await.is_err());
}

fn github(subject: &str) -> Profile {
    Profile::new("github", subject)
}

fn google(subject: &str) -> Profile {
    Profile::new("google", subject)
}

fn kind(result: Result<impl std::fmt::Debug, OAuthError>) -> ErrorKind {
    result.expect_err("an error").kind()
}

async fn created_then_returning(db: &Db) {
    let store = &db.store;
    let profile = github("1")
        .name("Ann")
        .username("ann")
        .email("Ann@Example.com", true);
    let first = accounts::sign_in(store, &profile, None).await.unwrap();
    assert_eq!(first.outcome, Outcome::Created);
    assert_eq!(first.user.name.as_deref(), Some("Ann"));
    assert_eq!(first.user.email.as_deref(), Some("Ann@Example.com"));
    assert_eq!(first.identity.user_id, first.user.id);
    assert_eq!(first.identity.username.as_deref(), Some("ann"));

    // Returning: same user, the identity's fields follow the provider.
    let renamed = github("1").name("Ann B").username("annb");
    let again = accounts::sign_in(store, &renamed, None).await.unwrap();
    assert_eq!(again.outcome, Outcome::Returning);
    assert_eq!(again.user, first.user);
    assert_eq!(again.identity.username.as_deref(), Some("annb"));
    assert_eq!(again.identity.email, None);
    assert_eq!(again.identity.created_at, first.identity.created_at);

    // Returning while signed in as its own user is still returning.
    let own = accounts::sign_in(store, &renamed, Some(first.user.id))
        .await
        .unwrap();
    assert_eq!(own.outcome, Outcome::Returning);

    assert_eq!(
        store.user(first.user.id).await.unwrap(),
        Some(first.user.clone())
    );
    assert_eq!(
        store.user(UserId(first.user.id.0 + 1000)).await.unwrap(),
        None
    );
    assert_eq!(db.count("accounts_users").await, 1);
    assert_eq!(db.count("accounts_identities").await, 1);
}

async fn linked_while_signed_in(db: &Db) {
    let store = &db.store;
    let ann = accounts::sign_in(store, &github("1"), None).await.unwrap();
    // Another email, even verified, does not matter: the signed-in user gets the identity.
    let profile = google("g1").email("other@example.com", true);
    let linked = accounts::sign_in(store, &profile, Some(ann.user.id))
        .await
        .unwrap();
    assert_eq!(linked.outcome, Outcome::Linked);
    assert_eq!(linked.user.id, ann.user.id);
    // The user had no primary email: the verified one of the new identity fills it.
    assert_eq!(linked.user.email.as_deref(), Some("other@example.com"));

    let identities = store.identities(ann.user.id).await.unwrap();
    let names: Vec<_> = identities
        .iter()
        .map(|i| (i.provider.as_str(), i.subject.as_str()))
        .collect();
    assert_eq!(names, [("github", "1"), ("google", "g1")]);

    // Both identities now sign in the same user, signed in or not.
    let back = accounts::sign_in(store, &google("g1"), None).await.unwrap();
    assert_eq!(
        (back.outcome, back.user.id),
        (Outcome::Returning, ann.user.id)
    );
    assert_eq!(db.count("accounts_users").await, 1);
}

async fn linked_by_verified_email(db: &Db) {
    let store = &db.store;
    let ann = accounts::sign_in(store, &github("1").email("ann@example.com", true), None)
        .await
        .unwrap();
    // Case and surrounding space do not matter.
    let profile = google("g1").email("  ANN@example.COM", true);
    let linked = accounts::sign_in(store, &profile, None).await.unwrap();
    assert_eq!(linked.outcome, Outcome::LinkedByEmail);
    assert_eq!(linked.user.id, ann.user.id);
    assert_eq!(store.identities(ann.user.id).await.unwrap().len(), 2);

    // A verified email of an identity counts too, not only the user's primary email.
    let bob = accounts::sign_in(store, &github("2"), None).await.unwrap();
    assert_eq!(bob.user.email, None);
    accounts::sign_in(
        store,
        &Profile::new("gitlab", "b").email("bob@example.com", true),
        Some(bob.user.id),
    )
    .await
    .unwrap();
    let by_identity = accounts::sign_in(store, &google("g2").email("Bob@Example.com", true), None)
        .await
        .unwrap();
    assert_eq!(
        (by_identity.outcome, by_identity.user.id),
        (Outcome::LinkedByEmail, bob.user.id)
    );
    assert_eq!(db.count("accounts_users").await, 2);
}

async fn unverified_email_never_links(db: &Db) {
    let store = &db.store;
    let ann = accounts::sign_in(store, &github("1").email("ann@example.com", true), None)
        .await
        .unwrap();
    let typed = google("g1").email("ann@example.com", false);
    let other = accounts::sign_in(store, &typed, None).await.unwrap();
    assert_eq!(other.outcome, Outcome::Created);
    assert_ne!(other.user.id, ann.user.id);
    // Users keep verified emails only.
    assert_eq!(other.user.email, None);
    assert_eq!(other.identity.email.as_deref(), Some("ann@example.com"));
    assert!(!other.identity.email_verified);

    // An unverified identity email is no owner either: a third verified sign-in links to Ann.
    let third = accounts::sign_in(
        store,
        &Profile::new("gitlab", "x").email("ann@example.com", true),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (third.outcome, third.user.id),
        (Outcome::LinkedByEmail, ann.user.id)
    );

    // And an unverified identity never gives a user its first primary email.
    let nobody = accounts::sign_in(store, &github("2"), None).await.unwrap();
    let linked = accounts::sign_in(
        store,
        &google("g2").email("new@example.com", false),
        Some(nobody.user.id),
    )
    .await
    .unwrap();
    assert_eq!(linked.outcome, Outcome::Linked);
    assert_eq!(linked.user.email, None);
}

async fn email_of_two_users_does_not_link(db: &Db) {
    let store = &db.store;
    let ann = accounts::sign_in(store, &github("1").email("shared@example.com", true), None)
        .await
        .unwrap();
    // Bob, signed in, links an identity with the same verified email: two users have it now.
    let bob = accounts::sign_in(store, &github("2"), None).await.unwrap();
    accounts::sign_in(
        store,
        &google("g2").email("shared@example.com", true),
        Some(bob.user.id),
    )
    .await
    .unwrap();
    assert_eq!(
        store.user(bob.user.id).await.unwrap().unwrap().email,
        None,
        "Ann keeps the primary email"
    );

    let third = accounts::sign_in(
        store,
        &Profile::new("gitlab", "3").email("Shared@example.com", true),
        None,
    )
    .await
    .unwrap();
    assert_eq!(third.outcome, Outcome::Created);
    assert_ne!(third.user.id, ann.user.id);
    assert_ne!(third.user.id, bob.user.id);
    assert_eq!(third.user.email, None);
    assert_eq!(db.count("accounts_users").await, 3);
}

async fn identity_of_another_user_is_a_conflict(db: &Db) {
    let store = &db.store;
    let ann = accounts::sign_in(store, &github("1"), None).await.unwrap();
    let bob = accounts::sign_in(store, &github("2"), None).await.unwrap();
    let err = accounts::sign_in(store, &github("1"), Some(bob.user.id))
        .await
        .expect_err("an identity is never moved silently");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    assert_eq!(
        actix_web::ResponseError::status_code(&err),
        actix_web::http::StatusCode::CONFLICT
    );
    // Nothing moved.
    assert_eq!(store.identities(ann.user.id).await.unwrap().len(), 1);
    assert_eq!(store.identities(bob.user.id).await.unwrap().len(), 1);
}

async fn stale_signed_in_user_counts_as_nobody(db: &Db) {
    let store = &db.store;
    let gone = accounts::sign_in(store, &github("1"), None).await.unwrap();
    assert!(store.delete_user(gone.user.id).await.unwrap());
    let next = accounts::sign_in(store, &google("g1"), Some(gone.user.id))
        .await
        .unwrap();
    assert_eq!(next.outcome, Outcome::Created);
    assert_ne!(next.user.id, gone.user.id, "ids are never reused");
}

async fn unlink_refuses_the_last_identity(db: &Db) {
    let store = &db.store;
    let ann = accounts::sign_in(store, &github("1"), None).await.unwrap();
    let bob = accounts::sign_in(store, &github("2"), None).await.unwrap();
    accounts::sign_in(store, &google("g1"), Some(ann.user.id))
        .await
        .unwrap();

    // Not Ann's identity, or no such identity: nothing to unlink.
    assert!(!store.unlink(ann.user.id, "github", "2").await.unwrap());
    assert!(!store.unlink(ann.user.id, "github", "404").await.unwrap());

    assert!(store.unlink(ann.user.id, "github", "1").await.unwrap());
    let left = store.identities(ann.user.id).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].provider, "google");
    assert_eq!(
        kind(store.unlink(ann.user.id, "google", "g1").await),
        ErrorKind::Conflict
    );
    assert_eq!(
        kind(store.unlink(bob.user.id, "github", "2").await),
        ErrorKind::Conflict
    );
    assert_eq!(store.identities(ann.user.id).await.unwrap().len(), 1);

    // The unlinked identity is new again: it makes a new user.
    let again = accounts::sign_in(store, &github("1"), None).await.unwrap();
    assert_eq!(again.outcome, Outcome::Created);
}

async fn delete_user_removes_its_identities(db: &Db) {
    let store = &db.store;
    let ann = accounts::sign_in(store, &github("1"), None).await.unwrap();
    accounts::sign_in(store, &google("g1"), Some(ann.user.id))
        .await
        .unwrap();
    let bob = accounts::sign_in(store, &github("2"), None).await.unwrap();
    let token = TokenResponse::new(AccessToken::new("t".into()));
    assert!(store.store_token("github", "1", &token).await.unwrap());

    assert!(store.delete_user(ann.user.id).await.unwrap());
    assert!(!store.delete_user(ann.user.id).await.unwrap());
    assert_eq!(store.user(ann.user.id).await.unwrap(), None);
    assert!(store.identities(ann.user.id).await.unwrap().is_empty());
    assert_eq!(store.identity("google", "g1").await.unwrap(), None);
    assert!(store.load_token("github", "1").await.unwrap().is_none());
    assert_eq!(db.count("accounts_identities").await, 1);
    assert!(store.user(bob.user.id).await.unwrap().is_some());
}

async fn user_with_identities_is_user_and_identities(db: &Db) {
    let store = &db.store;
    let ann = accounts::sign_in(store, &github("1").name("Ann"), None)
        .await
        .unwrap();
    accounts::sign_in(store, &google("g1"), Some(ann.user.id))
        .await
        .unwrap();
    accounts::sign_in(store, &github("2"), None).await.unwrap();
    let (user, identities) = store
        .user_with_identities(ann.user.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user, store.user(ann.user.id).await.unwrap().unwrap());
    assert_eq!(identities, store.identities(ann.user.id).await.unwrap());
    let subjects: Vec<&str> = identities.iter().map(|i| i.subject.as_str()).collect();
    assert_eq!(subjects, ["1", "g1"]);
    assert_eq!(identities[0].name.as_deref(), Some("Ann"));
    assert_eq!(
        store
            .user_with_identities(UserId(ann.user.id.0 + 1000))
            .await
            .unwrap(),
        None
    );
}

/// A token whose access token says which sign-in it came from.
fn token_named(name: &str) -> TokenResponse {
    TokenResponse::new(AccessToken::new(name.to_owned()))
}

async fn stored_access_token(store: &SqlStore, provider: &str, subject: &str) -> Option<String> {
    store
        .load_token(provider, subject)
        .await
        .unwrap()
        .map(|t| t.access_token().secret().clone())
}

async fn sign_in_with_token_keeps_the_token_on_every_path(db: &Db) {
    let store = &db.store;
    // Created: the new identity holds the token.
    let ann = accounts::sign_in_with_token(store, &github("1"), None, &token_named("created"))
        .await
        .unwrap();
    assert_eq!(ann.outcome, Outcome::Created);
    assert_eq!(
        stored_access_token(store, "github", "1").await.as_deref(),
        Some("created")
    );
    // Returning with nobody signed in (the one-statement path): profile and token replaced.
    let renamed = github("1").name("Ann B");
    let again = accounts::sign_in_with_token(store, &renamed, None, &token_named("returning"))
        .await
        .unwrap();
    assert_eq!(again.outcome, Outcome::Returning);
    assert_eq!(again.user, ann.user);
    assert_eq!(again.identity.name.as_deref(), Some("Ann B"));
    assert_eq!(
        stored_access_token(store, "github", "1").await.as_deref(),
        Some("returning")
    );
    // Returning while signed in as its own user.
    let own = accounts::sign_in_with_token(store, &renamed, Some(ann.user.id), &token_named("own"))
        .await
        .unwrap();
    assert_eq!(own.outcome, Outcome::Returning);
    assert_eq!(
        stored_access_token(store, "github", "1").await.as_deref(),
        Some("own")
    );
    // Linked while signed in: the new identity holds its own token, the first keeps its.
    let linked = accounts::sign_in_with_token(
        store,
        &google("g1"),
        Some(ann.user.id),
        &token_named("linked"),
    )
    .await
    .unwrap();
    assert_eq!(linked.outcome, Outcome::Linked);
    assert_eq!(
        stored_access_token(store, "google", "g1").await.as_deref(),
        Some("linked")
    );
    assert_eq!(
        stored_access_token(store, "github", "1").await.as_deref(),
        Some("own")
    );
    // A conflict stores nothing.
    let bob = accounts::sign_in(store, &github("2"), None).await.unwrap();
    let refused = accounts::sign_in_with_token(
        store,
        &github("1"),
        Some(bob.user.id),
        &token_named("stolen"),
    )
    .await;
    assert_eq!(kind(refused), ErrorKind::Conflict);
    assert_eq!(
        stored_access_token(store, "github", "1").await.as_deref(),
        Some("own")
    );
    assert_eq!(stored_access_token(store, "github", "2").await, None);
}

fn full_token() -> TokenResponse {
    let mut extra = serde_json::Map::new();
    extra.insert("team".into(), serde_json::json!({ "id": 7 }));
    TokenResponse::new(AccessToken::new("access-SECRET-123".into()))
        .with_token_type("Bearer".into())
        .with_expiry(Some(1_900_000_000))
        .with_refresh_token(Some(RefreshToken::new("refresh-SECRET-456".into())))
        .with_scope(Some("read write".into()))
        .with_token_secret(Some("oauth1-SECRET-789".into()))
        .with_extra(extra)
}

fn assert_same_token(a: &TokenResponse, b: &TokenResponse) {
    assert_eq!(a.access_token().secret(), b.access_token().secret());
    assert_eq!(a.token_type(), b.token_type());
    assert_eq!(a.expires_at(), b.expires_at());
    assert_eq!(
        a.refresh_token().map(|t| t.secret()),
        b.refresh_token().map(|t| t.secret())
    );
    assert_eq!(a.scope(), b.scope());
    assert_eq!(a.token_secret(), b.token_secret());
    assert_eq!(a.extra(), b.extra());
}

async fn token_round_trip(db: &Db, store: &SqlStore) {
    let ann = accounts::sign_in(store, &github("1"), None).await.unwrap();
    assert!(store.load_token("github", "1").await.unwrap().is_none());
    assert!(store
        .user_token(ann.user.id, "github")
        .await
        .unwrap()
        .is_none());
    assert!(!store
        .store_token("github", "404", &full_token())
        .await
        .unwrap());

    assert!(store
        .store_token("github", "1", &full_token())
        .await
        .unwrap());
    let loaded = store.load_token("github", "1").await.unwrap().unwrap();
    assert_same_token(&loaded, &full_token());
    let for_user = store
        .user_token(ann.user.id, "github")
        .await
        .unwrap()
        .unwrap();
    assert_same_token(&for_user, &full_token());
    assert!(store
        .user_token(ann.user.id, "google")
        .await
        .unwrap()
        .is_none());

    // Storing again replaces.
    let newer = TokenResponse::new(AccessToken::new("access-2".into()));
    assert!(store.store_token("github", "1", &newer).await.unwrap());
    let loaded = store.load_token("github", "1").await.unwrap().unwrap();
    assert_eq!(loaded.access_token().secret(), "access-2");
    assert!(loaded.refresh_token().is_none());

    assert!(store
        .store_token("github", "1", &full_token())
        .await
        .unwrap());
    let _ = db;
}

async fn tokens_round_trip_in_plain_text(db: &Db) {
    token_round_trip(db, &db.store).await;
    let raw = db.raw_token("github", "1").await;
    assert!(String::from_utf8_lossy(&raw).contains("access-SECRET-123"));
}

async fn tokens_are_encrypted_at_rest(db: &Db) {
    let key = TokenKey::generate();
    let store = db.store.clone().token_key(key.clone());
    token_round_trip(db, &store).await;
    let raw = db.raw_token("github", "1").await;
    let text = String::from_utf8_lossy(&raw);
    for secret in [
        "access-SECRET-123",
        "refresh-SECRET-456",
        "oauth1-SECRET-789",
    ] {
        assert!(!text.contains(secret), "{secret} is stored in plain text");
    }
    // Without the key, or with another, the token does not open.
    assert_eq!(
        kind(db.store.load_token("github", "1").await),
        ErrorKind::Configuration
    );
    let wrong = db.store.clone().token_key(TokenKey::generate());
    assert_eq!(
        kind(wrong.load_token("github", "1").await),
        ErrorKind::Configuration
    );
    // The key's owner still reads it.
    let again = db.store.clone().token_key(key);
    assert_same_token(
        &again.load_token("github", "1").await.unwrap().unwrap(),
        &full_token(),
    );
}

async fn plaintext_tokens_are_refused_by_a_keyed_store(db: &Db) {
    let ann = accounts::sign_in(&db.store, &github("1"), None)
        .await
        .unwrap();
    // Stored without a key (before one was configured, or planted by someone who can write the
    // table but has no key).
    assert!(db
        .store
        .store_token("github", "1", &full_token())
        .await
        .unwrap());
    assert_eq!(db.raw_token("github", "1").await[0], 0, "the plain format");

    let keyed = db.store.clone().token_key(TokenKey::generate());
    let refused = keyed.load_token("github", "1").await;
    assert_eq!(kind(refused), ErrorKind::Storage);
    let refused = keyed.user_token(ann.user.id, "github").await;
    let err = refused.expect_err("no plain-text fallback");
    assert_eq!(err.kind(), ErrorKind::Storage);
    assert!(err.to_string().contains("not encrypted"), "{err}");
    assert!(!err.to_string().contains("SECRET"), "{err}");

    // Stored again (the user signs in), it is encrypted and reads.
    assert!(keyed
        .store_token("github", "1", &full_token())
        .await
        .unwrap());
    assert_eq!(
        db.raw_token("github", "1").await[0],
        1,
        "the encrypted format"
    );
    assert_same_token(
        &keyed.load_token("github", "1").await.unwrap().unwrap(),
        &full_token(),
    );
}

/// Pairs of addresses that are different mailboxes, though Unicode case mapping (`to_lowercase`,
/// `to_uppercase`, case folding) or compatibility normalization (NFKC) make them equal: the
/// confusions behind GitHub's 2019 dotless-i password reset and Django's CVE-2019-19844.
const LOOKALIKES: &[(&str, &str)] = &[
    ("kate", "\u{212A}ate"),            // KELVIN SIGN: lower-cases to k
    ("\u{FF4B}ate", "\u{FF2B}ate"),     // fullwidth k and K: one lower-cases to the other
    ("kate", "\u{FF2B}ate"),            // fullwidth K: NFKC makes it K
    ("i\u{0307}da", "\u{0130}da"),      // I WITH DOT ABOVE lower-cases to i + COMBINING DOT ABOVE
    ("ida", "\u{0130}da"),              // ... and folds to i in Turkish-unaware code
    ("Ida", "\u{0131}da"),              // DOTLESS I upper-cases to I
    ("ida", "\u{0131}da"),              // ... and is an i to the eye
    ("sam", "\u{017F}am"),              // LONG S upper-cases to S, case-folds to s
    ("strasse", "stra\u{00DF}e"),       // SHARP S upper-cases and case-folds to ss
    ("stra\u{00DF}e", "stra\u{1E9E}e"), // CAPITAL SHARP S lower-cases to sharp s
    ("ff", "\u{FB00}"),                 // LIGATURE FF: NFKC and case folding make it ff
    ("e\u{0301}", "\u{00E9}"),          // NFD and NFC é: not normalized, so not one address
];

async fn lookalike_emails_never_link(db: &Db) {
    let store = &db.store;
    for (i, (a, b)) in LOOKALIKES.iter().enumerate() {
        // Each way round: either address may be the one already known.
        for (first, second, way) in [(a, b, "ab"), (b, a, "ba")] {
            let domain = format!("c{i}{way}.example");
            let first_email = format!("{first}@{domain}");
            let second_email = format!("{second}@{domain}");
            let owner = accounts::sign_in(
                store,
                &github(&format!("{i}{way}")).email(&first_email, true),
                None,
            )
            .await
            .unwrap();
            assert_eq!(owner.outcome, Outcome::Created);
            let other = accounts::sign_in(
                store,
                &google(&format!("{i}{way}")).email(&second_email, true),
                None,
            )
            .await
            .unwrap();
            assert_eq!(
                other.outcome,
                Outcome::Created,
                "{second_email:?} must not link to {first_email:?}"
            );
            assert_ne!(other.user.id, owner.user.id);
            // Each is its user's primary email: the unique index keeps them apart too.
            assert_eq!(other.user.email.as_deref(), Some(second_email.as_str()));
        }
    }

    // ASCII case still does not matter, in the local part or the domain.
    let kate = accounts::sign_in(
        store,
        &github("kate").email("kate@example.test", true),
        None,
    )
    .await
    .unwrap();
    let upper = accounts::sign_in(
        store,
        &google("kate").email("Kate@Example.TEST", true),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (upper.outcome, upper.user.id),
        (Outcome::LinkedByEmail, kate.user.id)
    );
    // And the same non-ASCII address links.
    let kelvin = accounts::sign_in(
        store,
        &github("kelvin").email("\u{212A}elvin@example.test", true),
        None,
    )
    .await
    .unwrap();
    let again = accounts::sign_in(
        store,
        &google("kelvin").email("\u{212A}elvin@EXAMPLE.test", true),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (again.outcome, again.user.id),
        (Outcome::LinkedByEmail, kelvin.user.id)
    );
}

/// Rows an earlier release wrote, with Unicode-lower-cased normalized emails, are recomputed by
/// the migration: the Kelvin-sign user no longer owns `kate@…`, and ordinary rows still link.
async fn earlier_rows_are_renormalized(db: &Db) {
    db.migrate_first_only().await;
    let kelvin = db
        .insert_as_before(
            "\u{212A}ate@example.test",
            "kate@example.test",
            "old-kelvin",
        )
        .await;
    let ann = db
        .insert_as_before("Ann@Example.com", "ann@example.com", "old-ann")
        .await;
    db.store
        .migrate()
        .await
        .expect("the later migrations apply");

    let store = &db.store;
    let kate = accounts::sign_in(
        store,
        &google("kate").email("kate@example.test", true),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        kate.outcome,
        Outcome::Created,
        "kate is not the Kelvin user"
    );
    assert_ne!(kate.user.id.0, kelvin);
    let same = accounts::sign_in(
        store,
        &google("kelvin").email("\u{212A}ate@example.test", true),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        (same.outcome, same.user.id.0),
        (Outcome::LinkedByEmail, kelvin)
    );
    let ann_again = accounts::sign_in(store, &google("ann").email("ANN@example.COM", true), None)
        .await
        .unwrap();
    assert_eq!(
        (ann_again.outcome, ann_again.user.id.0),
        (Outcome::LinkedByEmail, ann)
    );
}

mod earlier_rows_are_renormalized {
    #[actix_rt::test]
    async fn sqlite() {
        let db = super::Db::sqlite_unmigrated().await;
        super::earlier_rows_are_renormalized(&db).await;
    }

    #[actix_rt::test]
    async fn postgres() {
        if let Some(db) = super::Db::postgres_unmigrated().await {
            super::earlier_rows_are_renormalized(&db).await;
        }
    }
}

const ROUNDS: usize = 20;

async fn concurrent_first_sign_ins_make_one_user(db: &Db) {
    let store = &db.store;
    for round in 0..ROUNDS {
        let email = format!("race{round}@example.com");
        let a = github(&format!("a{round}")).email(&email, true);
        let b = google(&format!("b{round}")).email(email.to_uppercase(), true);
        let (a, b) = tokio::join!(
            accounts::sign_in(store, &a, None),
            accounts::sign_in(store, &b, None)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.user.id, b.user.id, "round {round}: one user");
        let mut outcomes = [a.outcome, b.outcome];
        outcomes.sort_by_key(|o| *o != Outcome::Created);
        assert_eq!(outcomes, [Outcome::Created, Outcome::LinkedByEmail]);
        assert_eq!(store.identities(a.user.id).await.unwrap().len(), 2);
    }
    assert_eq!(db.count("accounts_users").await, ROUNDS as i64);
    assert_eq!(db.count("accounts_identities").await, 2 * ROUNDS as i64);
}

async fn concurrent_sign_ins_of_one_identity_make_one_user(db: &Db) {
    let store = &db.store;
    for round in 0..ROUNDS {
        let profile = github(&format!("same{round}"));
        let (a, b) = tokio::join!(
            accounts::sign_in(store, &profile, None),
            accounts::sign_in(store, &profile, None)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.user.id, b.user.id, "round {round}: one user");
        let mut outcomes = [a.outcome, b.outcome];
        outcomes.sort_by_key(|o| *o != Outcome::Created);
        assert_eq!(outcomes, [Outcome::Created, Outcome::Returning]);
    }
    assert_eq!(db.count("accounts_users").await, ROUNDS as i64);
}

/// Filling a user's primary email after a link is best effort against a concurrent claim of
/// the address only: a unique violation there (another user took it meanwhile) leaves the link
/// done and the user without a primary email; any other failure is a storage error. PostgreSQL
/// only, where a trigger can fail the fill with a chosen error code.
#[actix_rt::test]
async fn only_a_raced_primary_email_fill_is_ignored() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let Raw::Postgres(pool) = &db.raw else {
        unreachable!()
    };
    let store = &db.store;
    let fail_fill_with = |code: &'static str| async move {
        let function = format!(
            "CREATE OR REPLACE FUNCTION fail_fill() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'fill refused' USING ERRCODE = '{code}'; END $$ LANGUAGE plpgsql"
        );
        sqlx::query(&function).execute(pool).await.unwrap();
    };
    fail_fill_with("23505").await; // unique_violation
    sqlx::query(
        "CREATE TRIGGER fail_fill BEFORE UPDATE OF email ON accounts_users \
         FOR EACH ROW EXECUTE FUNCTION fail_fill()",
    )
    .execute(pool)
    .await
    .unwrap();

    let bob = accounts::sign_in(store, &github("1"), None).await.unwrap();
    assert_eq!(bob.user.email, None);
    let linked = accounts::sign_in(
        store,
        &google("g1").email("bob@example.com", true),
        Some(bob.user.id),
    )
    .await
    .expect("a raced fill leaves the link done");
    assert_eq!(
        (linked.outcome, linked.user.id, linked.user.email),
        (Outcome::Linked, bob.user.id, None)
    );

    fail_fill_with("P0001").await; // raise_exception: not a race
    let profile = Profile::new("gitlab", "b").email("bob@example.com", true);
    assert_eq!(
        kind(store.link_identity(bob.user.id, &profile).await),
        ErrorKind::Storage
    );
}

#[actix_rt::test]
async fn connect_opens_sqlite_in_memory_and_rejects_other_urls() {
    let store = SqlStore::connect("sqlite::memory:").await.unwrap();
    assert_eq!(store.backend(), Backend::Sqlite);
    store.migrate().await.unwrap();
    // Migrating twice is a no-op.
    store.migrate().await.unwrap();
    let first = accounts::sign_in(&store, &github("1"), None).await.unwrap();
    // The in-memory database survives across calls (one connection, kept).
    let again = accounts::sign_in(&store, &github("1"), None).await.unwrap();
    assert_eq!(
        (first.user.id, again.outcome),
        (again.user.id, Outcome::Returning)
    );
    store.close().await;

    for url in ["mysql://localhost/db", "accounts.db", ""] {
        assert_eq!(
            kind(SqlStore::connect(url).await),
            ErrorKind::Configuration,
            "{url}"
        );
    }
    let missing = std::env::temp_dir().join(format!("actix-oauth-missing-{}.db", unique_name()));
    let url = format!("sqlite://{}", missing.display());
    assert_eq!(kind(SqlStore::connect(&url).await), ErrorKind::Storage);
}

#[actix_rt::test]
async fn connect_opens_a_sqlite_file_and_postgres() {
    let path = std::env::temp_dir().join(format!("actix-oauth-connect-{}.db", unique_name()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let store = SqlStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let first = accounts::sign_in(&store, &github("1"), None).await.unwrap();
    store.close().await;
    // The file keeps the accounts.
    let store = SqlStore::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let again = accounts::sign_in(&store, &github("1"), None).await.unwrap();
    assert_eq!(
        (again.user.id, again.outcome),
        (first.user.id, Outcome::Returning)
    );
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }

    match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            let store = SqlStore::connect(&url).await.unwrap();
            assert_eq!(store.backend(), Backend::Postgres);
            store.close().await;
        }
        _ => {
            use std::io::Write as _;
            let _ = writeln!(std::io::stderr(), "note: {SKIP}");
        }
    }
}
