//! [`sign_in`]: which user a provider's profile signs in, linking identities without duplicates.

use super::{model::verified_email, AccountStore, Identity, Insert, Outcome, SignIn, UserId};
use crate::{OAuthError, Profile, TokenResponse};

/// How often a decision is retried after losing a race to a concurrent sign-in. Each retry reads
/// what the winner wrote, so two suffice for any pair; the rest is headroom.
const MAX_ATTEMPTS: usize = 8;

/// Decides which user `profile` signs in, given the user already signed in (`signed_in`), and
/// records it:
///
/// 1. a known identity signs in its own user ([`Outcome::Returning`]);
/// 2. a new identity while someone is signed in is linked to them ([`Outcome::Linked`]);
/// 3. a new identity whose email the provider verified, and which belongs to exactly one user
///    (their primary email or a verified email of one of their identities, compared in
///    [`normalize_email`](super::normalize_email) form: ASCII letters case-insensitively, every
///    other character exactly), is linked to that user ([`Outcome::LinkedByEmail`]);
/// 4. otherwise a new user is created ([`Outcome::Created`]); its primary email is the verified
///    email unless another user already has it.
///
/// A `signed_in` id whose user no longer exists (deleted, stale session) counts as nobody. The
/// identity's name, username, email and picture are updated from `profile` on every sign-in.
///
/// Concurrent sign-ins are safe: the store's unique constraints (one identity per provider and
/// subject, one user per primary email) make the loser of a race retry and find the winner's
/// rows, so two first sign-ins with one verified email end in one user.
///
/// # Security
/// An unverified email never links: linking on it would hand the account to whoever typed that
/// address at some provider. Nor do addresses that only Unicode case mapping or normalization
/// would make equal (`\u{212A}ate@…` and `kate@…`): they may be two mailboxes. Store only
/// profiles from a completed, validated handshake.
///
/// # Errors
/// [`OAuthError::Conflict`] when `signed_in` is a user and the identity belongs to another user:
/// identities are never moved silently (unlink it there first). [`OAuthError::Storage`] when the
/// store fails.
pub async fn sign_in<S>(
    store: &S,
    profile: &Profile,
    signed_in: Option<UserId>,
) -> Result<SignIn, OAuthError>
where
    S: AccountStore,
{
    Ok(decide(store, profile, signed_in, None).await?.sign_in)
}

/// [`sign_in`], and the sign-in's tokens kept with the identity
/// ([`AccountStore::store_token`]) in the same write where the linking rules allow: a returning
/// identity with nobody signed in — the usual sign-in — is one statement with
/// [`SqlStore`](super::SqlStore) (its profile, last sign-in time and tokens), where
/// [`sign_in`] then [`store_token`](AccountStore::store_token) are two writes. Other outcomes
/// store the tokens right after the identity is written.
///
/// # Errors
/// As [`sign_in`]; [`OAuthError::Storage`] when the tokens cannot be stored.
pub async fn sign_in_with_token<S>(
    store: &S,
    profile: &Profile,
    signed_in: Option<UserId>,
    token: &TokenResponse,
) -> Result<SignIn, OAuthError>
where
    S: AccountStore,
{
    let result = decide(store, profile, signed_in, Some(token)).await?;
    if result.token_pending {
        store
            .store_token(&profile.provider, &profile.subject, token)
            .await?;
    }
    Ok(result.sign_in)
}

/// What [`decide`] came to, and whether the tokens are still to be stored.
struct Decided {
    sign_in: SignIn,
    token_pending: bool,
}

impl From<SignIn> for Decided {
    fn from(sign_in: SignIn) -> Self {
        Self {
            sign_in,
            token_pending: true,
        }
    }
}

/// The linking rules of [`sign_in`]; with `token`, a returning identity with nobody signed in
/// stores it in the same write.
async fn decide<S>(
    store: &S,
    profile: &Profile,
    signed_in: Option<UserId>,
    token: Option<&TokenResponse>,
) -> Result<Decided, OAuthError>
where
    S: AccountStore,
{
    let mut current = match signed_in {
        Some(id) => store.user(id).await?,
        None => None,
    };
    let email = verified_email(profile);
    for _ in 0..MAX_ATTEMPTS {
        // 1. A returning identity. With nobody signed in, recording the sign-in says whether
        // the identity exists: one statement instead of a read and a write.
        if current.is_none() {
            let refreshed = match token {
                Some(token) => store.refresh_identity_with_token(profile, token).await?,
                None => store.refresh_identity(profile).await?,
            };
            if let Some(identity) = refreshed {
                if let Some(signed_in) = finish(store, identity, Outcome::Returning).await? {
                    return Ok(Decided {
                        sign_in: signed_in,
                        token_pending: false,
                    });
                }
                continue;
            }
        } else if let Some(existing) = store.identity(&profile.provider, &profile.subject).await? {
            if let Some(current) = &current {
                if existing.user_id != current.id {
                    return Err(OAuthError::Conflict(format!(
                        "this {} account is already linked to another user.",
                        profile.provider
                    )));
                }
            }
            let Some(identity) = store.refresh_identity(profile).await? else {
                continue; // Unlinked meanwhile: decide anew.
            };
            if let Some(signed_in) = finish(store, identity, Outcome::Returning).await? {
                return Ok(signed_in.into());
            }
            continue;
        }

        // 2. A new identity for the signed-in user.
        if let Some(user_id) = current.as_ref().map(|user| user.id) {
            match store.link_identity(user_id, profile).await? {
                Insert::Done(identity) => {
                    if let Some(signed_in) = finish(store, identity, Outcome::Linked).await? {
                        return Ok(signed_in.into());
                    }
                }
                // The identity appeared meanwhile, or the user was deleted: read both again.
                Insert::Raced => current = store.user(user_id).await?,
            }
            continue;
        }

        // 3. A new identity whose verified email names exactly one user.
        let owners = match &email {
            Some(email) => store.users_with_verified_email(email).await?,
            None => Vec::new(),
        };
        if let [owner] = owners[..] {
            match store.link_identity(owner, profile).await? {
                Insert::Done(identity) => {
                    if let Some(signed_in) = finish(store, identity, Outcome::LinkedByEmail).await?
                    {
                        return Ok(signed_in.into());
                    }
                }
                Insert::Raced => {}
            }
            continue;
        }

        // 4. A new user. With no owner the verified email becomes the primary email, and its
        // unique constraint makes a concurrent first sign-in with that email lose and retry.
        let primary = if owners.is_empty() && email.is_some() {
            profile.email.as_deref()
        } else {
            None
        };
        match store.create_user(profile, primary).await? {
            Insert::Done((user, identity)) => {
                return Ok(SignIn {
                    user,
                    identity,
                    outcome: Outcome::Created,
                }
                .into())
            }
            Insert::Raced => continue,
        }
    }
    Err(OAuthError::Storage(format!(
        "the sign-in kept racing with concurrent changes and was abandoned after {MAX_ATTEMPTS} attempts."
    )))
}

/// The [`SignIn`] for `identity`, or `None` when its user vanished meanwhile (retry).
async fn finish<S>(
    store: &S,
    identity: Identity,
    outcome: Outcome,
) -> Result<Option<SignIn>, OAuthError>
where
    S: AccountStore,
{
    Ok(store.user(identity.user_id).await?.map(|user| SignIn {
        user,
        identity,
        outcome,
    }))
}
