//! Accounts: one user, many sign-in identities (feature `accounts`).
//!
//! A [`User`] has one or more [`Identity`]s, each one account at one provider, unique on
//! (provider, subject). After a handshake, [`sign_in`] turns the provider's [`Profile`] into the
//! user it signs in, linking a new identity to an existing user only when that is safe:
//!
//! | the identity is… | result |
//! |---|---|
//! | known | its user ([`Outcome::Returning`]); someone else signed in: [`OAuthError::Conflict`] |
//! | new, someone is signed in | linked to them ([`Outcome::Linked`]) |
//! | new, its provider-verified email belongs to exactly one user | linked to that user ([`Outcome::LinkedByEmail`]) |
//! | new, anything else (no email, unverified, or several owners) | a new user ([`Outcome::Created`]) |
//!
//! Emails are compared in [`normalize_email`] form: surrounding ASCII whitespace removed and
//! `A`–`Z` folded to `a`–`z`, every other character kept exactly. No Unicode case folding or
//! normalization: those merge distinct mailboxes (the Kelvin sign `K`, U+212A, lower-cases to
//! `k`), so an address with non-ASCII characters links only to the same code points.
//!
//! Users and identities live behind the [`AccountStore`] trait; [`SqlStore`] implements it over
//! SQLite (the embedded default: a file, or in memory) and PostgreSQL, with migrations. Unique
//! constraints and a retry make concurrent first sign-ins with one verified email end in one
//! user. Tokens can be stored per identity, encrypted at rest with a [`TokenKey`], so the token
//! getter can read them from the database instead of the session.
//!
//! ```no_run
//! use actix_oauth::accounts::{self, AccountStore, SqlStore, UserId};
//! use actix_oauth::{OAuth, OAuthError, Profile, TokenResponse};
//! use actix_session::SessionExt as _;
//!
//! # async fn demo(profile: Profile, token: TokenResponse, session: actix_session::Session) -> Result<(), OAuthError> {
//! let store = SqlStore::connect("sqlite://accounts.db?mode=rwc").await?;
//! store.migrate().await?;
//!
//! // In the callback handler, once the handshake is complete:
//! let signed_in: Option<UserId> = session.get("user_id").ok().flatten();
//! let result = accounts::sign_in(&store, &profile, signed_in).await?;
//! store.store_token(&profile.provider, &profile.subject, &token).await?;
//! session.renew();
//! session.insert("user_id", result.user.id).map_err(|e| OAuthError::Session(e.to_string()))?;
//!
//! // API calls then read the user's token from the database:
//! let tokens = store.clone();
//! let oauth = OAuth::new().token_getter(move |req, provider, _name| {
//!     let tokens = tokens.clone();
//!     async move {
//!         let user: Option<UserId> = req.get_session().get("user_id").ok().flatten();
//!         match user {
//!             Some(user) => tokens.user_token(user, &provider).await,
//!             None => Ok(None),
//!         }
//!     }
//! });
//! # let _ = oauth; Ok(()) }
//! ```
//!
//! [`Profile`]: crate::Profile
//! [`OAuthError::Conflict`]: crate::OAuthError::Conflict

mod model;
mod remove;
mod sign_in;
mod sql;
mod store;
mod token;

pub use self::{
    model::{normalize_email, Identity, Outcome, SignIn, User, UserId},
    remove::{delete_user, unlink},
    sign_in::{sign_in, sign_in_with_token},
    sql::{Backend, SqlStore},
    store::{AccountStore, Insert},
    token::TokenKey,
};
/// The sqlx version this module is built on, for [`SqlStore::from_sqlite`] and
/// [`SqlStore::from_postgres`].
pub use sqlx;
