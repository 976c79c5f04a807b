//! [`AccountStore`]: the storage trait the sign-in decision runs on.

use std::future::Future;

use super::{Identity, User, UserId};
use crate::{OAuthError, Profile, TokenResponse};

/// The result of a write that a unique constraint guards.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Insert<T> {
    /// The rows were written.
    Done(T),
    /// Nothing was written because a concurrent writer got there first: the identity or the
    /// primary email already exists, or the user was deleted meanwhile. The caller reads again
    /// and decides anew ([`sign_in`](super::sign_in) does).
    Raced,
}

/// Where users and identities are kept: the operations [`sign_in`](super::sign_in) and an app
/// need, each atomic on its own.
///
/// [`SqlStore`](super::SqlStore) implements it for SQLite and PostgreSQL. Another backend
/// implements the same contract; the linking rules stay in [`sign_in`](super::sign_in).
///
/// Emails passed in and compared are in [`normalize_email`](super::normalize_email) form where
/// the docs say so. Times have second precision.
pub trait AccountStore: Send + Sync {
    /// The user with this id, if it exists.
    fn user(&self, id: UserId) -> impl Future<Output = Result<Option<User>, OAuthError>> + Send;

    /// The identity with this provider and subject, if it exists.
    fn identity(
        &self,
        provider: &str,
        subject: &str,
    ) -> impl Future<Output = Result<Option<Identity>, OAuthError>> + Send;

    /// The user's identities, oldest first (empty when the user does not exist).
    fn identities(
        &self,
        user: UserId,
    ) -> impl Future<Output = Result<Vec<Identity>, OAuthError>> + Send;

    /// The user with this id and their identities, oldest first: [`user`](Self::user) and
    /// [`identities`](Self::identities) in one read where the store can (a page that shows
    /// the account). `None` if the user does not exist.
    ///
    /// The default makes the two calls; [`SqlStore`](super::SqlStore) reads both with one query.
    fn user_with_identities(
        &self,
        id: UserId,
    ) -> impl Future<Output = Result<Option<(User, Vec<Identity>)>, OAuthError>> + Send {
        async move {
            let Some(user) = self.user(id).await? else {
                return Ok(None);
            };
            let identities = self.identities(id).await?;
            Ok(Some((user, identities)))
        }
    }

    /// The distinct users a normalized, verified `email` belongs to: those whose primary email it
    /// is, and those with an identity whose provider verified it. An implementation may stop
    /// after two, since only "exactly one" links.
    fn users_with_verified_email(
        &self,
        email: &str,
    ) -> impl Future<Output = Result<Vec<UserId>, OAuthError>> + Send;

    /// Atomically creates a user with `profile`'s identity. The user's name comes from the
    /// profile; its primary email is `email` (a provider-verified address, or `None`).
    ///
    /// [`Insert::Raced`] when the identity exists or another user has `email` as their primary
    /// email; then nothing is written.
    fn create_user(
        &self,
        profile: &Profile,
        email: Option<&str>,
    ) -> impl Future<Output = Result<Insert<(User, Identity)>, OAuthError>> + Send;

    /// Links `profile`'s new identity to `user`. If the identity's email is verified and `user`
    /// has no primary email, it becomes the primary email unless another user has it.
    ///
    /// [`Insert::Raced`] when the identity exists or the user does not; then nothing is written.
    fn link_identity(
        &self,
        user: UserId,
        profile: &Profile,
    ) -> impl Future<Output = Result<Insert<Identity>, OAuthError>> + Send;

    /// Records a sign-in of an existing identity: its name, username, email, verification and
    /// picture become `profile`'s and its last sign-in time now. `None` if it does not exist.
    fn refresh_identity(
        &self,
        profile: &Profile,
    ) -> impl Future<Output = Result<Option<Identity>, OAuthError>> + Send;

    /// [`refresh_identity`](Self::refresh_identity) and [`store_token`](Self::store_token) as
    /// one write: a returning identity's new profile and its new tokens. `None` (and nothing
    /// stored) if the identity does not exist.
    ///
    /// The default makes the two calls; [`SqlStore`](super::SqlStore) writes both with one
    /// statement.
    fn refresh_identity_with_token(
        &self,
        profile: &Profile,
        token: &TokenResponse,
    ) -> impl Future<Output = Result<Option<Identity>, OAuthError>> + Send {
        async move {
            let Some(identity) = self.refresh_identity(profile).await? else {
                return Ok(None);
            };
            self.store_token(&profile.provider, &profile.subject, token)
                .await?;
            Ok(Some(identity))
        }
    }

    /// Removes one of `user`'s identities (and its tokens). `Ok(false)` if `user` has no such
    /// identity.
    ///
    /// # Errors
    /// [`OAuthError::Conflict`] when it is the user's last identity: a user must keep a way to
    /// sign in (delete the user instead).
    fn unlink(
        &self,
        user: UserId,
        provider: &str,
        subject: &str,
    ) -> impl Future<Output = Result<bool, OAuthError>> + Send;

    /// Deletes the user with all its identities and tokens. `Ok(false)` if it did not exist.
    fn delete_user(&self, user: UserId) -> impl Future<Output = Result<bool, OAuthError>> + Send;

    /// Stores the identity's tokens, replacing any before. `Ok(false)` if the identity does not
    /// exist. The ID token is not kept.
    fn store_token(
        &self,
        provider: &str,
        subject: &str,
        token: &TokenResponse,
    ) -> impl Future<Output = Result<bool, OAuthError>> + Send;

    /// The identity's stored tokens, if any.
    fn load_token(
        &self,
        provider: &str,
        subject: &str,
    ) -> impl Future<Output = Result<Option<TokenResponse>, OAuthError>> + Send;

    /// The tokens of `user`'s most recently signed-in identity at `provider` that has tokens:
    /// what a token getter answers for a signed-in user.
    fn user_token(
        &self,
        user: UserId,
        provider: &str,
    ) -> impl Future<Output = Result<Option<TokenResponse>, OAuthError>> + Send {
        async move {
            let mut identities: Vec<Identity> = self
                .identities(user)
                .await?
                .into_iter()
                .filter(|i| i.provider == provider)
                .collect();
            identities.sort_by_key(|i| std::cmp::Reverse(i.last_sign_in_at));
            for identity in identities {
                if let Some(token) = self.load_token(provider, &identity.subject).await? {
                    return Ok(Some(token));
                }
            }
            Ok(None)
        }
    }
}
