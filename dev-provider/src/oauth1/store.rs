//! What the OAuth 1.0a endpoints remember: temporary credentials on their way through
//! authorization ([RFC 5849 §2.1]–[§2.3]), token credentials, and the nonces seen within the
//! timestamp window ([RFC 5849 §3.3]).
//!
//! [RFC 5849 §2.1]: https://www.rfc-editor.org/rfc/rfc5849#section-2.1
//! [§2.3]: https://www.rfc-editor.org/rfc/rfc5849#section-2.3
//! [RFC 5849 §3.3]: https://www.rfc-editor.org/rfc/rfc5849#section-3.3

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use super::super::state::{constant_time_eq, random_token};

/// How long temporary credentials can be authorized and exchanged: 10 minutes.
pub(super) const TEMPORARY_LIFETIME: Duration = Duration::from_secs(600);

/// How far `oauth_timestamp` may be from the provider's clock, either way, in seconds.
pub(super) const TIMESTAMP_WINDOW: u64 = 300;

/// A token secret (`oauth_token_secret`), of temporary or token credentials.
#[derive(Clone)]
pub(super) struct TokenSecret(String);

impl TokenSecret {
    fn random() -> Self {
        Self(random_token())
    }

    /// The secret itself.
    pub(super) fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret([redacted])")
    }
}

/// An `oauth_verifier`: proof that the user authorized the temporary credentials ([RFC 5849
/// §2.2]).
///
/// [RFC 5849 §2.2]: https://www.rfc-editor.org/rfc/rfc5849#section-2.2
pub(super) struct Verifier(String);

impl Verifier {
    /// The verifier itself.
    pub(super) fn secret(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is this verifier, compared in constant time.
    fn matches(&self, candidate: &str) -> bool {
        constant_time_eq(&self.0, candidate)
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Verifier([redacted])")
    }
}

/// A token and its secret, as handed to a consumer.
pub(super) struct Credentials {
    pub(super) token: String,
    pub(super) secret: TokenSecret,
}

impl Credentials {
    fn random() -> Self {
        Self {
            token: random_token(),
            secret: TokenSecret::random(),
        }
    }
}

/// Temporary credentials awaiting the user's decision, as the consent page shows them.
pub(super) struct Pending {
    pub(super) consumer_key: String,
    pub(super) callback: String,
}

/// Why token credentials are refused ([RFC 5849 §2.3]).
///
/// [RFC 5849 §2.3]: https://www.rfc-editor.org/rfc/rfc5849#section-2.3
pub(super) enum RedeemError {
    /// The temporary credentials are unknown, expired, used or another consumer's.
    TokenRejected,
    /// The verifier is missing, wrong, or the user has not approved yet.
    VerifierInvalid,
}

struct Temporary {
    consumer_key: String,
    secret: TokenSecret,
    callback: String,
    expires_at: Instant,
    /// Set once the user approved.
    approval: Option<Approval>,
}

struct Approval {
    username: String,
    verifier: Verifier,
}

struct Token {
    consumer_key: String,
    secret: TokenSecret,
    username: String,
}

/// A request's `oauth_nonce` and what makes it unique ([RFC 5849 §3.3]).
///
/// [RFC 5849 §3.3]: https://www.rfc-editor.org/rfc/rfc5849#section-3.3
#[derive(PartialEq, Eq, Hash)]
pub(super) struct NonceKey {
    pub(super) consumer_key: String,
    /// Empty when the request carries no token.
    pub(super) token: String,
    pub(super) timestamp: u64,
    pub(super) nonce: String,
}

/// Issued OAuth 1.0a credentials and recent nonces. Tokens are the map keys; nothing here is
/// `Debug`.
#[derive(Default)]
pub(crate) struct Store {
    temporary: HashMap<String, Temporary>,
    tokens: HashMap<String, Token>,
    nonces: HashSet<NonceKey>,
}

impl Store {
    /// Issues temporary credentials for `consumer_key`, to be sent back to `callback`
    /// ([RFC 5849 §2.1]). Expired ones are dropped first, so the map stays bounded.
    ///
    /// [RFC 5849 §2.1]: https://www.rfc-editor.org/rfc/rfc5849#section-2.1
    pub(super) fn issue_temporary(&mut self, consumer_key: &str, callback: &str) -> Credentials {
        let now = Instant::now();
        self.temporary
            .retain(|_, temporary| temporary.expires_at > now);
        let credentials = Credentials::random();
        self.temporary.insert(
            credentials.token.clone(),
            Temporary {
                consumer_key: consumer_key.to_owned(),
                secret: credentials.secret.clone(),
                callback: callback.to_owned(),
                expires_at: now + TEMPORARY_LIFETIME,
                approval: None,
            },
        );
        credentials
    }

    fn live_temporary(&self, token: &str) -> Option<&Temporary> {
        self.temporary
            .get(token)
            .filter(|temporary| temporary.expires_at > Instant::now())
    }

    /// The secret of live temporary credentials issued to `consumer_key`.
    pub(super) fn temporary_secret(&self, token: &str, consumer_key: &str) -> Option<TokenSecret> {
        self.live_temporary(token)
            .filter(|temporary| temporary.consumer_key == consumer_key)
            .map(|temporary| temporary.secret.clone())
    }

    /// Live temporary credentials the user has not decided on yet.
    pub(super) fn pending(&self, token: &str) -> Option<Pending> {
        self.live_temporary(token)
            .filter(|temporary| temporary.approval.is_none())
            .map(|temporary| Pending {
                consumer_key: temporary.consumer_key.clone(),
                callback: temporary.callback.clone(),
            })
    }

    /// Records the user's approval of pending temporary credentials; answers the callback and
    /// a fresh verifier ([RFC 5849 §2.2]). `None` when the credentials are not pending.
    ///
    /// [RFC 5849 §2.2]: https://www.rfc-editor.org/rfc/rfc5849#section-2.2
    pub(super) fn approve(&mut self, token: &str, username: &str) -> Option<(String, Verifier)> {
        self.pending(token)?;
        let temporary = self.temporary.get_mut(token)?;
        let verifier = random_token();
        temporary.approval = Some(Approval {
            username: username.to_owned(),
            verifier: Verifier(verifier.clone()),
        });
        Some((temporary.callback.clone(), Verifier(verifier)))
    }

    /// Forgets pending temporary credentials the user denied; answers their callback.
    pub(super) fn deny(&mut self, token: &str) -> Option<String> {
        self.pending(token)?;
        self.temporary
            .remove(token)
            .map(|temporary| temporary.callback)
    }

    /// Exchanges approved temporary credentials and their verifier for token credentials
    /// ([RFC 5849 §2.3]); answers them and the username they speak for.
    ///
    /// # Security
    /// The temporary credentials are used up on success only: a wrong verifier leaves them in
    /// place (guessing a 256-bit verifier is hopeless). The verifier is compared in constant
    /// time.
    ///
    /// [RFC 5849 §2.3]: https://www.rfc-editor.org/rfc/rfc5849#section-2.3
    pub(super) fn redeem(
        &mut self,
        token: &str,
        consumer_key: &str,
        verifier: Option<&str>,
    ) -> Result<(Credentials, String), RedeemError> {
        let temporary = self
            .live_temporary(token)
            .filter(|temporary| temporary.consumer_key == consumer_key)
            .ok_or(RedeemError::TokenRejected)?;
        let approved = match (&temporary.approval, verifier) {
            (Some(approval), Some(verifier)) => approval.verifier.matches(verifier),
            _ => false,
        };
        if !approved {
            return Err(RedeemError::VerifierInvalid);
        }
        let username = self
            .temporary
            .remove(token)
            .and_then(|temporary| temporary.approval)
            .map(|approval| approval.username)
            .ok_or(RedeemError::TokenRejected)?;
        let credentials = Credentials::random();
        self.tokens.insert(
            credentials.token.clone(),
            Token {
                consumer_key: consumer_key.to_owned(),
                secret: credentials.secret.clone(),
                username: username.clone(),
            },
        );
        Ok((credentials, username))
    }

    fn token(&self, token: &str, consumer_key: &str) -> Option<&Token> {
        self.tokens
            .get(token)
            .filter(|credentials| credentials.consumer_key == consumer_key)
    }

    /// The secret of token credentials issued to `consumer_key`.
    pub(super) fn token_secret(&self, token: &str, consumer_key: &str) -> Option<TokenSecret> {
        self.token(token, consumer_key)
            .map(|credentials| credentials.secret.clone())
    }

    /// The username token credentials issued to `consumer_key` speak for.
    pub(super) fn token_user(&self, token: &str, consumer_key: &str) -> Option<String> {
        self.token(token, consumer_key)
            .map(|credentials| credentials.username.clone())
    }

    /// Records a nonce; `false` when it was seen before ([RFC 5849 §3.3]). Nonces whose
    /// timestamp has left the window are dropped first: requests carrying them are refused
    /// for their timestamp anyway, so the set holds at most the window's worth of requests.
    ///
    /// [RFC 5849 §3.3]: https://www.rfc-editor.org/rfc/rfc5849#section-3.3
    pub(super) fn use_nonce(&mut self, key: NonceKey, now_unix: u64) -> bool {
        self.nonces
            .retain(|seen| seen.timestamp.saturating_add(TIMESTAMP_WINDOW) >= now_unix);
        self.nonces.insert(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(timestamp: u64, nonce: &str) -> NonceKey {
        NonceKey {
            consumer_key: "c".to_owned(),
            token: String::new(),
            timestamp,
            nonce: nonce.to_owned(),
        }
    }

    #[test]
    fn nonces_are_single_use_and_forgotten_outside_the_window() {
        let mut store = Store::default();
        assert!(store.use_nonce(key(1_000, "a"), 1_000));
        assert!(!store.use_nonce(key(1_000, "a"), 1_000));
        assert!(store.use_nonce(key(1_001, "a"), 1_000));
        assert_eq!(store.nonces.len(), 2);
        assert!(store.use_nonce(key(1_400, "b"), 1_400));
        assert_eq!(store.nonces.len(), 1, "the old ones are dropped");
    }

    #[test]
    fn secrets_are_redacted() {
        let credentials = Credentials::random();
        let debug = format!(
            "{:?} {:?}",
            credentials.secret,
            Verifier("v-123".to_owned())
        );
        assert!(!debug.contains(credentials.secret.secret()) && !debug.contains("v-123"));
        assert!(debug.contains("[redacted]"));
    }
}
