//! Removing identities and users, their provider tokens revoked first: [`unlink`] and
//! [`delete_user`].

use super::{AccountStore, UserId};
use crate::{OAuthError, OAuthExtension};

/// Removes one of `user`'s identities as [`AccountStore::unlink`] does, after revoking its
/// stored tokens at the provider ([`OAuthExtension::revoke_token`]): an identity the user
/// removed keeps no grant at its provider. A revocation that fails is logged by its kind and
/// does not stop the unlinking. `Ok(false)` if `user` has no such identity.
///
/// # Errors
/// [`OAuthError::Conflict`] when it is the user's last identity (then nothing is revoked);
/// [`OAuthError::Storage`] when the store fails.
pub async fn unlink<S: AccountStore>(
    oauth: &OAuthExtension,
    store: &S,
    user: UserId,
    provider: &str,
    subject: &str,
) -> Result<bool, OAuthError> {
    let identities = store.identities(user).await?;
    if !identities
        .iter()
        .any(|i| i.provider == provider && i.subject == subject)
    {
        return Ok(false);
    }
    if identities.len() == 1 {
        return Err(OAuthError::Conflict(
            "this is the user's last sign-in identity; it cannot be unlinked.".into(),
        ));
    }
    revoke_identity(oauth, store, provider, subject).await;
    store.unlink(user, provider, subject).await
}

/// Deletes `user` with all its identities and tokens as [`AccountStore::delete_user`] does,
/// after revoking each identity's stored tokens at its provider (failures logged by kind).
/// `Ok(false)` if the user did not exist.
///
/// # Errors
/// [`OAuthError::Storage`] when the store fails.
pub async fn delete_user<S: AccountStore>(
    oauth: &OAuthExtension,
    store: &S,
    user: UserId,
) -> Result<bool, OAuthError> {
    for identity in store.identities(user).await? {
        revoke_identity(oauth, store, &identity.provider, &identity.subject).await;
    }
    store.delete_user(user).await
}

async fn revoke_identity<S: AccountStore>(
    oauth: &OAuthExtension,
    store: &S,
    provider: &str,
    subject: &str,
) {
    // A provider no longer configured cannot be called; its tokens go with the rows.
    if oauth.remote_app(provider).is_err() {
        return;
    }
    match store.load_token(provider, subject).await {
        Ok(Some(token)) => oauth.revoke_quietly(provider, &token).await,
        Ok(None) => {}
        Err(e) => log::warn!(
            "actix-oauth: the tokens of an identity could not be read to revoke them ({})",
            e.kind()
        ),
    }
}
