//! Where the provider's tokens live between requests: server-side, never in the session.
//!
//! Completing a sign-in keeps the token in the app's [`TokenStore`] under a random *handle*; the
//! session holds only that handle (43 characters), whatever the size of the provider's tokens.
//! A new handle is drawn at every sign-in (a handle planted in a browser before sign-in reaches
//! nothing afterwards), and [`OAuthExtension::sign_out`](crate::OAuthExtension::sign_out)
//! deletes the handle's tokens, so a copied session cookie is worth nothing after sign-out.
//!
//! Stores: [`MemoryTokenStore`] (the default; one process), [`RedisTokenStore`] (feature
//! `redis`; several instances), and the accounts database
//! ([`SqlStore`](crate::accounts::SqlStore), feature `accounts`). Implement [`TokenStore`] for
//! any other.
//!
//! Only a *linking* sign-in (started after
//! [`OAuthExtension::verify_csrf`](crate::OAuthExtension::verify_csrf)) keeps the tokens of the
//! session's earlier sign-ins; any other sign-in starts afresh, so a session planted in a
//! browser cannot hand its tokens to the user who signs in there.

#[cfg(all(feature = "dpop", any(feature = "redis", feature = "accounts")))]
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use std::time::Duration;

use futures_util::future::LocalBoxFuture;
#[cfg(any(feature = "redis", feature = "accounts"))]
use serde::{Deserialize, Serialize};

use crate::{error::OAuthError, token::TokenResponse};

mod deadline;
mod memory;
#[cfg(feature = "redis")]
mod redis;

pub(crate) use self::deadline::Deadline;
pub use self::memory::MemoryTokenStore;
#[cfg(feature = "redis")]
pub use self::redis::RedisTokenStore;

/// The future a [`TokenStore`] method returns.
pub type StoreFuture<'a, T> = LocalBoxFuture<'a, Result<T, OAuthError>>;

/// What [`TokenStore::claim_refresh`] found: whether this instance refreshes a token, waits for
/// another one's refresh, or takes its result.
#[derive(Debug)]
#[non_exhaustive]
pub enum RefreshClaim {
    /// The lease is this caller's: it asks the provider, then calls
    /// [`finish_refresh`](TokenStore::finish_refresh).
    Leased,
    /// Another instance holds the lease and is refreshing: ask again shortly.
    Busy,
    /// Another instance refreshed this token already: its result.
    Refreshed(TokenResponse),
}

/// A server-side home for the tokens of signed-in sessions, keyed by a session's random handle
/// and the remote app's name.
///
/// Methods return boxed futures so that the store can live behind `dyn` in the extension; write
/// them as `Box::pin(async move { … })`. Failures are [`OAuthError::TokenStore`] (the accounts
/// database's, [`OAuthError::Storage`]); a server that cannot be reached is
/// [`OAuthError::Unavailable`] (a `503`), and a call that outlives
/// [`OAuth::store_timeout`](crate::OAuth::store_timeout) becomes one.
pub trait TokenStore: Send + Sync + 'static {
    /// The token kept under `handle` for remote app `provider`, if any.
    fn load<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
    ) -> StoreFuture<'a, Option<TokenResponse>>;

    /// Keeps `token` under `handle` for `provider`, replacing any earlier one.
    fn save<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        token: &'a TokenResponse,
    ) -> StoreFuture<'a, ()>;

    /// Forgets the token kept under `handle` for `provider`.
    fn remove<'a>(&'a self, handle: &'a str, provider: &'a str) -> StoreFuture<'a, ()>;

    /// Forgets every token kept under `handle` (sign-out).
    fn remove_all<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, ()>;

    /// Moves every token kept under `from` to `to` (a new handle at sign-in).
    fn rename<'a>(&'a self, from: &'a str, to: &'a str) -> StoreFuture<'a, ()>;

    /// Records that the sign-in kept under `handle` for `provider` belongs to the provider's
    /// user `sub` and, when the provider names one, its session `sid` (the ID token's claims):
    /// the index that [back-channel logout](crate::OAuthExtension::backchannel_logout) reads.
    /// Entries live as long as the handle's tokens.
    ///
    /// The default keeps no index (and [`end_sessions`](Self::end_sessions) then fails): the
    /// crate's stores implement all three methods.
    fn index_session<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        sub: &'a str,
        sid: Option<&'a str>,
    ) -> StoreFuture<'a, ()> {
        let _ = (handle, provider, sub, sid);
        Box::pin(std::future::ready(Ok(())))
    }

    /// Ends the app sessions of `provider`'s session `sid` or, without a `sid`, of every session
    /// of its user `sub` (OpenID Connect Back-Channel Logout 1.0 §2.6): deletes their tokens and
    /// marks their handles ended, so that [`is_ended`](Self::is_ended) says so on every instance
    /// sharing the store. Returns how many handles were ended.
    fn end_sessions<'a>(
        &'a self,
        provider: &'a str,
        sub: Option<&'a str>,
        sid: Option<&'a str>,
    ) -> StoreFuture<'a, usize> {
        let _ = (provider, sub, sid);
        Box::pin(std::future::ready(Err(OAuthError::TokenStore(
            "this token store keeps no index of provider sessions, so back-channel logout cannot \
             end sessions."
                .to_owned(),
        ))))
    }

    /// Whether [`end_sessions`](Self::end_sessions) ended `handle`: the session holding it is
    /// signed out ([`OAuthMiddleware`](crate::OAuthMiddleware) purges it on its next request).
    fn is_ended<'a>(&'a self, handle: &'a str) -> StoreFuture<'a, bool> {
        let _ = handle;
        Box::pin(std::future::ready(Ok(false)))
    }

    /// Replaces the token kept under `handle` for `provider` with `new` only while it is still
    /// `old` (the same access token): a refresh that finished after a sign-out or a new sign-in
    /// does not undo it, and of several instances writing one refresh's result, one writes.
    /// Returns whether it replaced.
    ///
    /// The default loads, compares and saves (not atomic); the crate's stores compare and swap.
    fn replace<'a>(
        &'a self,
        handle: &'a str,
        provider: &'a str,
        old: &'a TokenResponse,
        new: &'a TokenResponse,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            match self.load(handle, provider).await? {
                Some(current) if same_access_token(&current, old) => {
                    self.save(handle, provider, new).await?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
    }

    /// Claims the right to refresh the token whose refresh token digests to `key` (hex; the
    /// refresh token itself never reaches the store) for remote app `provider`, for `lease`:
    /// one instance of the app asks the provider, the others wait for its result, so that a
    /// provider that rotates refresh tokens never sees one used twice. A lease whose holder
    /// died ends after `lease`.
    ///
    /// The default always grants it (one process: [`OAuthExtension`](crate::OAuthExtension)
    /// already refreshes once per token); the crate's stores share leases between instances.
    fn claim_refresh<'a>(
        &'a self,
        provider: &'a str,
        key: &'a str,
        lease: Duration,
    ) -> StoreFuture<'a, RefreshClaim> {
        let _ = (provider, key, lease);
        Box::pin(std::future::ready(Ok(RefreshClaim::Leased)))
    }

    /// Ends the lease [`claim_refresh`](Self::claim_refresh) granted: with the refreshed token,
    /// which [`RefreshClaim::Refreshed`] hands to the instances that ask within `keep`; with
    /// `None` (the refresh failed), so that another may try.
    fn finish_refresh<'a>(
        &'a self,
        provider: &'a str,
        key: &'a str,
        fresh: Option<&'a TokenResponse>,
        keep: Duration,
    ) -> StoreFuture<'a, ()> {
        let _ = (provider, key, fresh, keep);
        Box::pin(std::future::ready(Ok(())))
    }

    /// Records the single-use value `key` (a digest: a used `state`, a logout token's `jti`) as
    /// used for `ttl`; `false` when it was used before, on any instance sharing the store.
    ///
    /// The default remembers nothing (returns `true`): the extension keeps a bounded memory of
    /// its own in each process; the crate's stores share theirs.
    fn use_once<'a>(&'a self, key: &'a str, ttl: Duration) -> StoreFuture<'a, bool> {
        let _ = (key, ttl);
        Box::pin(std::future::ready(Ok(true)))
    }
}

/// Whether two tokens carry the same access token (compared in constant time).
pub(crate) fn same_access_token(a: &TokenResponse, b: &TokenResponse) -> bool {
    use subtle::ConstantTimeEq as _;
    bool::from(
        a.access_token()
            .secret()
            .as_bytes()
            .ct_eq(b.access_token().secret().as_bytes()),
    )
}

/// The index key of a provider session (`sid`) or user (`sub`), for the crate's stores.
pub(crate) fn index_key(sub: Option<&str>, sid: Option<&str>) -> Option<String> {
    match (sid, sub) {
        (Some(sid), _) => Some(format!("sid:{sid}")),
        (None, Some(sub)) => Some(format!("sub:{sub}")),
        (None, None) => None,
    }
}

/// What the crate's stores keep of a [`TokenResponse`], as JSON: the accounts database's format
/// since 0.1 (its rows stay readable), plus the raw ID token (for `id_token_hint`); validated
/// ID token claims are not kept.
#[cfg(any(feature = "redis", feature = "accounts"))]
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredToken {
    access_token: String,
    #[serde(default = "bearer")]
    token_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token_secret: Option<String>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    extra: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    /// The DPoP key (PKCS#8 DER, base64url) the tokens are bound to; absent in rows written
    /// before 0.3 and for tokens without one. A build without the `dpop` feature ignores it.
    #[cfg(feature = "dpop")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    dpop_key: Option<String>,
}

#[cfg(any(feature = "redis", feature = "accounts"))]
fn bearer() -> String {
    "bearer".to_owned()
}

#[cfg(any(feature = "redis", feature = "accounts"))]
impl StoredToken {
    /// The JSON a store keeps for `token`.
    pub(crate) fn encode(token: &TokenResponse) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&Self {
            access_token: token.access_token().secret().clone(),
            token_type: token.token_type().to_owned(),
            expires_at: token.expires_at(),
            refresh_token: token.refresh_token().map(|r| r.secret().clone()),
            scope: token.scope().map(str::to_owned),
            token_secret: token.token_secret().map(str::to_owned),
            extra: token.extra().clone(),
            id_token: token.id_token().map(str::to_owned),
            #[cfg(feature = "dpop")]
            dpop_key: token
                .dpop_key()
                .map(|key| URL_SAFE_NO_PAD.encode(key.pkcs8_der())),
        })
    }

    /// The token a store kept as `json`.
    pub(crate) fn decode(json: &[u8]) -> Result<TokenResponse, serde_json::Error> {
        let stored: Self = serde_json::from_slice(json)?;
        #[cfg(feature = "dpop")]
        let dpop_key = stored
            .dpop_key
            .map(|text| {
                URL_SAFE_NO_PAD
                    .decode(text)
                    .ok()
                    .and_then(|der| crate::DpopKey::from_pkcs8_der(&der).ok())
                    .ok_or_else(|| {
                        <serde_json::Error as serde::de::Error>::custom(
                            "the stored DPoP key is not a PKCS#8 P-256 key",
                        )
                    })
            })
            .transpose()?;
        let token = TokenResponse::new(::oauth2::AccessToken::new(stored.access_token))
            .with_token_type(stored.token_type)
            .with_expiry(stored.expires_at)
            .with_refresh_token(stored.refresh_token.map(::oauth2::RefreshToken::new))
            .with_scope(stored.scope)
            .with_token_secret(stored.token_secret)
            .with_extra(stored.extra)
            .with_id_token(stored.id_token);
        #[cfg(feature = "dpop")]
        let token = token.with_dpop_key(dpop_key);
        Ok(token)
    }
}

#[cfg(all(test, any(feature = "redis", feature = "accounts")))]
mod tests {
    use super::StoredToken;
    use crate::{AccessToken, RefreshToken, TokenResponse};

    #[test]
    fn stored_tokens_round_trip() {
        let token = TokenResponse::new(AccessToken::new("a".repeat(3000)))
            .with_expiry(Some(42))
            .with_refresh_token(Some(RefreshToken::new("r".into())))
            .with_scope(Some("openid".into()))
            .with_id_token(Some("h.p.s".into()));
        let bytes = StoredToken::encode(&token).unwrap();
        let back = StoredToken::decode(&bytes).unwrap();
        assert_eq!(back.access_token().secret(), token.access_token().secret());
        assert_eq!(back.token_type(), "bearer");
        assert_eq!(back.expires_at(), Some(42));
        assert_eq!(back.refresh_token().unwrap().secret(), "r");
        assert_eq!(back.scope(), Some("openid"));
        assert_eq!(back.id_token(), Some("h.p.s"));
        assert!(StoredToken::decode(b"{\"x\":1}").is_err());
        // A row the accounts database wrote in 0.1 (no ID token) reads.
        #[cfg(feature = "dpop")]
        {
            let key = crate::DpopKey::generate().unwrap();
            let bound = token
                .clone()
                .with_token_type("DPoP".into())
                .with_dpop_key(Some(key.clone()));
            let bytes = StoredToken::encode(&bound).unwrap();
            let back = StoredToken::decode(&bytes).unwrap();
            assert_eq!(back.token_type(), "dpop");
            assert_eq!(back.dpop_key().unwrap().thumbprint(), key.thumbprint());
            let broken = String::from_utf8(bytes)
                .unwrap()
                .replace("\"dpop_key\":\"", "\"dpop_key\":\"x");
            assert!(StoredToken::decode(broken.as_bytes()).is_err());
            assert!(StoredToken::decode(&StoredToken::encode(&token).unwrap())
                .unwrap()
                .dpop_key()
                .is_none());
        }
        let old = br#"{"access_token":"a","token_type":"bearer","refresh_token":"r"}"#;
        assert_eq!(
            StoredToken::decode(old)
                .unwrap()
                .refresh_token()
                .unwrap()
                .secret(),
            "r"
        );
    }
}
