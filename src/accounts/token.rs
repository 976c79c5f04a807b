//! Tokens at rest: [`TokenKey`] and the stored format of a [`TokenResponse`].
//!
//! A stored token is one format byte, then either the token as JSON (`0`, no key configured) or
//! a 96-bit random nonce and the AES-256-GCM encryption of that JSON (`1`), bound to its identity
//! by the associated data `provider NUL subject`, so a ciphertext copied to another row does not
//! open. A store with a key reads only the encrypted format.

use std::fmt;

use crate::{token_store::StoredToken, OAuthError, TokenResponse};
use aes_gcm::{
    aead::{Aead, Payload},
    Aes256Gcm, KeyInit, Nonce,
};
use base64::Engine as _;
use rand::RngCore as _;

const PLAIN: u8 = 0;
const AES_256_GCM: u8 = 1;
const NONCE_LEN: usize = 12;

/// The app's key for encrypting stored tokens at rest (AES-256-GCM), set with
/// [`SqlStore::token_key`](super::SqlStore::token_key).
///
/// # Security
/// Keep it out of the database (an environment variable or a secret store): with the key beside
/// the ciphertext, encryption protects nothing. Losing it makes stored tokens unreadable (users
/// sign in again). `Debug` prints `TokenKey([redacted])`.
#[derive(Clone)]
pub struct TokenKey(Aes256Gcm);

impl TokenKey {
    /// A key from 32 secret bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(Aes256Gcm::new(&bytes.into()))
    }

    /// A key from 32 secret bytes in standard or URL-safe base64 (padded or not), as kept in an
    /// environment variable; generate one with `openssl rand -base64 32`.
    ///
    /// # Errors
    /// [`OAuthError::Configuration`] unless the text decodes to exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<Self, OAuthError> {
        use base64::engine::general_purpose::{
            STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD,
        };
        let text = text.trim();
        let bytes = [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(text).ok())
            .ok_or_else(|| OAuthError::config("the token key is not valid base64."))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            OAuthError::config("the token key must be 32 bytes (44 characters of base64).")
        })?;
        Ok(Self::new(bytes))
    }

    /// A fresh random key (e.g. for tests; a real app needs the same key on every start).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self::new(bytes)
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenKey([redacted])")
    }
}

fn associated_data(provider: &str, subject: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(provider.len() + subject.len() + 1);
    aad.extend_from_slice(provider.as_bytes());
    aad.push(0);
    aad.extend_from_slice(subject.as_bytes());
    aad
}

/// The stored form of `token` for the identity (`provider`, `subject`), encrypted with `key` if
/// one is given.
pub(crate) fn seal(
    key: Option<&TokenKey>,
    provider: &str,
    subject: &str,
    token: &TokenResponse,
) -> Result<Vec<u8>, OAuthError> {
    let json = StoredToken::encode(token)
        .map_err(|e| OAuthError::Storage(format!("a token could not be serialized: {e}")))?;
    let Some(TokenKey(cipher)) = key else {
        let mut out = Vec::with_capacity(json.len() + 1);
        out.push(PLAIN);
        out.extend_from_slice(&json);
        return Ok(out);
    };
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let aad = associated_data(provider, subject);
    let ciphertext = cipher
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &json,
                aad: &aad,
            },
        )
        .map_err(|_| OAuthError::Storage("a token could not be encrypted.".into()))?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
    out.push(AES_256_GCM);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ciphertext);
    Ok(out)
}

/// Reads a stored token of the identity (`provider`, `subject`).
///
/// Without a key only plain tokens read; with one only tokens encrypted with it. A plain token
/// under a key is refused ([`OAuthError::Storage`]), never read as a fallback: it was stored
/// before the key was set, or written by someone who can write the table but lacks the key (a
/// planted token would make the user's API calls act on another account).
pub(crate) fn open(
    key: Option<&TokenKey>,
    provider: &str,
    subject: &str,
    stored: &[u8],
) -> Result<TokenResponse, OAuthError> {
    let json = match stored.split_first() {
        Some((&PLAIN, _)) if key.is_some() => {
            return Err(OAuthError::Storage(
                "a stored token is not encrypted although a token key is configured; it is refused (store it again, e.g. by signing in).".into(),
            ))
        }
        Some((&PLAIN, json)) => json.to_vec(),
        Some((&AES_256_GCM, rest)) if rest.len() > NONCE_LEN => {
            let Some(TokenKey(cipher)) = key else {
                return Err(OAuthError::config(
                    "stored tokens are encrypted but no token key is configured.",
                ));
            };
            let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
            let aad = associated_data(provider, subject);
            cipher
                .decrypt(
                    Nonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: &aad,
                    },
                )
                .map_err(|_| {
                    OAuthError::config(
                        "a stored token could not be decrypted: the token key is not the one it was stored with, or the row was altered.",
                    )
                })?
        }
        _ => {
            return Err(OAuthError::Storage(
                "a stored token has an unknown format.".into(),
            ))
        }
    };
    StoredToken::decode(&json)
        .map_err(|e| OAuthError::Storage(format!("a stored token could not be read: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccessToken, RefreshToken};

    fn token() -> TokenResponse {
        TokenResponse::new(AccessToken::new("access-123".into()))
            .with_expiry(Some(1_900_000_000))
            .with_refresh_token(Some(RefreshToken::new("refresh-456".into())))
            .with_token_secret(Some("secret-789".into()))
            .with_scope(Some("read".into()))
    }

    fn same(a: &TokenResponse, b: &TokenResponse) {
        assert_eq!(a.access_token().secret(), b.access_token().secret());
        assert_eq!(a.token_type(), b.token_type());
        assert_eq!(a.expires_at(), b.expires_at());
        assert_eq!(
            a.refresh_token().map(|r| r.secret()),
            b.refresh_token().map(|r| r.secret())
        );
        assert_eq!(a.scope(), b.scope());
        assert_eq!(a.token_secret(), b.token_secret());
        assert_eq!(a.extra(), b.extra());
    }

    #[test]
    fn sealed_tokens_hide_secrets_and_open_only_for_their_identity() {
        let key = TokenKey::generate();
        let sealed = seal(Some(&key), "github", "42", &token()).unwrap();
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains("access-123") && !text.contains("refresh-456"));
        same(
            &open(Some(&key), "github", "42", &sealed).unwrap(),
            &token(),
        );
        assert!(open(Some(&key), "github", "43", &sealed).is_err());
        assert!(open(Some(&TokenKey::generate()), "github", "42", &sealed).is_err());
        assert!(open(None, "github", "42", &sealed).is_err());
    }

    #[test]
    fn plain_tokens_round_trip_without_a_key_only() {
        let sealed = seal(None, "github", "42", &token()).unwrap();
        same(&open(None, "github", "42", &sealed).unwrap(), &token());
        let refused = open(Some(&TokenKey::generate()), "github", "42", &sealed);
        assert_eq!(
            refused.map(|_| ()).unwrap_err().kind(),
            crate::ErrorKind::Storage
        );
        assert!(open(None, "github", "42", &[9, 1, 2]).is_err());
        assert!(open(None, "github", "42", &[]).is_err());
    }

    #[test]
    fn keys_parse_from_base64_and_never_print() {
        let text = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let key = TokenKey::from_base64(&text).unwrap();
        assert_eq!(format!("{key:?}"), "TokenKey([redacted])");
        assert!(TokenKey::from_base64("c2hvcnQ=").is_err());
        assert!(TokenKey::from_base64("not base64!").is_err());
    }
}
