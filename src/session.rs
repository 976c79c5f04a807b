//! What the handshake keeps in the actix-session between the redirect and the callback, and the
//! tokens sign-in leaves there for the default token getter.

use actix_session::Session;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::{error::OAuthError, oauth2::token::now_unix, oauth2::TokenResponse};

/// Session key of the list of handshakes in progress.
pub(crate) const PENDING_KEY: &str = "actix_oauth.pending";
/// Session key prefix of the tokens sign-in stored, one per remote app.
pub(crate) const TOKEN_KEY_PREFIX: &str = "actix_oauth.token.";

/// One handshake begun in this browser and not yet completed.
///
/// Kept per `state` value so that sign-ins begun in two tabs both complete.
#[derive(Serialize, Deserialize, Clone)]
pub(crate) struct Pending {
    /// Remote app name.
    #[serde(rename = "p")]
    pub(crate) provider: String,
    /// The `state` (OAuth 2) or request token (OAuth 1.0a) this handshake is bound to.
    #[serde(rename = "s")]
    pub(crate) state: String,
    /// PKCE verifier (OAuth 2) or request token secret (OAuth 1.0a).
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub(crate) verifier: Option<String>,
    /// The exact redirect URI sent, to be sent again in the token request.
    #[serde(rename = "r")]
    pub(crate) redirect_uri: String,
    /// A safe, same-site path to go to afterwards.
    #[serde(rename = "n", default, skip_serializing_if = "Option::is_none")]
    pub(crate) next: Option<String>,
    /// When it began, in seconds since the Unix epoch.
    #[serde(rename = "t")]
    pub(crate) created: u64,
}

/// Reads the pending handshakes, dropping those older than `lifetime_secs`.
pub(crate) fn load_pending(
    session: &Session,
    lifetime_secs: u64,
) -> Result<Vec<Pending>, OAuthError> {
    let mut pending: Vec<Pending> = match session.get(PENDING_KEY) {
        Ok(list) => list.unwrap_or_default(),
        // A value we cannot read (an older version's, or tampered) is no handshake.
        Err(_) => Vec::new(),
    };
    let now = now_unix();
    pending.retain(|p| now.saturating_sub(p.created) <= lifetime_secs);
    Ok(pending)
}

/// Writes the pending handshakes back (removing the key when none is left).
pub(crate) fn store_pending(session: &Session, pending: &[Pending]) -> Result<(), OAuthError> {
    if pending.is_empty() {
        session.remove(PENDING_KEY);
        return Ok(());
    }
    session
        .insert(PENDING_KEY, pending)
        .map_err(|e| OAuthError::Session(e.to_string()))
}

/// Adds a handshake, evicting the oldest ones beyond `max`.
pub(crate) fn push_pending(
    session: &Session,
    entry: Pending,
    max: usize,
    lifetime_secs: u64,
) -> Result<(), OAuthError> {
    let mut pending = load_pending(session, lifetime_secs)?;
    pending.push(entry);
    if pending.len() > max {
        let excess = pending.len() - max;
        pending.drain(..excess);
    }
    store_pending(session, &pending)
}

/// Takes the handshake this callback belongs to out of the session (single use), comparing the
/// `state` in constant time.
pub(crate) fn take_pending(
    session: &Session,
    provider: &str,
    state: &str,
    lifetime_secs: u64,
) -> Result<Pending, OAuthError> {
    let mut pending = load_pending(session, lifetime_secs)?;
    if pending.is_empty() {
        return Err(OAuthError::StateMissing(
            "this browser has no sign-in in progress. Its session cookie may have been lost: was the \
             sign-in started on another host name (such as localhost instead of 127.0.0.1), or did it expire?",
        ));
    }
    let mut found = None;
    for (index, entry) in pending.iter().enumerate() {
        let same = entry.state.as_bytes().ct_eq(state.as_bytes());
        if bool::from(same) && entry.provider == provider {
            found = Some(index);
        }
    }
    let index = found.ok_or(OAuthError::StateMismatch)?;
    let entry = pending.remove(index);
    store_pending(session, &pending)?;
    Ok(entry)
}

/// The tokens kept in the session for a remote app.
#[derive(Serialize, Deserialize)]
struct StoredToken {
    #[serde(rename = "a")]
    access_token: ::oauth2::AccessToken,
    #[serde(rename = "y", default, skip_serializing_if = "Option::is_none")]
    token_type: Option<String>,
    #[serde(rename = "e", default, skip_serializing_if = "Option::is_none")]
    expires_at: Option<u64>,
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<::oauth2::RefreshToken>,
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    scope: Option<String>,
    #[serde(rename = "k", default, skip_serializing_if = "Option::is_none")]
    token_secret: Option<String>,
}

/// Stores the token sign-in obtained, for the default token getter.
pub(crate) fn store_token(
    session: &Session,
    provider: &str,
    token: &TokenResponse,
) -> Result<(), OAuthError> {
    let stored = StoredToken {
        access_token: token.access_token().clone(),
        token_type: Some(token.token_type().to_owned()).filter(|t| t != "bearer"),
        expires_at: token.expires_at(),
        refresh_token: token.refresh_token().cloned(),
        scope: token.scope().map(str::to_owned),
        token_secret: token.token_secret().map(str::to_owned),
    };
    session
        .insert(format!("{TOKEN_KEY_PREFIX}{provider}"), stored)
        .map_err(|e| OAuthError::Session(e.to_string()))
}

/// The token stored for a remote app, if any.
pub(crate) fn load_token(session: &Session, provider: &str) -> Option<TokenResponse> {
    let stored: StoredToken = session
        .get(&format!("{TOKEN_KEY_PREFIX}{provider}"))
        .ok()
        .flatten()?;
    Some(
        TokenResponse::new(stored.access_token)
            .with_token_type(stored.token_type.unwrap_or_else(|| "bearer".to_owned()))
            .with_expiry(stored.expires_at)
            .with_refresh_token(stored.refresh_token)
            .with_scope(stored.scope)
            .with_token_secret(stored.token_secret),
    )
}

/// Removes the stored token of a remote app.
pub(crate) fn remove_token(session: &Session, provider: &str) {
    session.remove(&format!("{TOKEN_KEY_PREFIX}{provider}"));
}

/// Accepts `next` only as a same-site relative path: it must start with one `/`, and hold no
/// backslash, control character or scheme-relative start (`//`, `/\`) a browser could read as
/// another site.
pub(crate) fn safe_next(next: &str) -> Option<String> {
    let ok = next.len() <= 2048
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && !next.to_ascii_lowercase().contains("%2f%2f")
        && !next.to_ascii_lowercase().starts_with("/%2f")
        && !next.to_ascii_lowercase().starts_with("/%5c");
    ok.then(|| next.to_owned())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_only_same_site_paths() {
        for good in ["/", "/me", "/a/b?c=d#e", "/caf%C3%A9"] {
            assert_eq!(safe_next(good).as_deref(), Some(good), "{good}");
        }
        for bad in [
            "",
            "me",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/%2F%2Fevil.example",
            "/%5cevil.example",
            "/\tevil",
            "/ok\r\nSet-Cookie: x=y",
            " /lead",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}
