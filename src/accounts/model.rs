//! What the accounts store holds: [`User`]s, their [`Identity`]s, and what a sign-in decided.

use std::{
    fmt,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::{Deserialize, Serialize};

use crate::Profile;

/// A user's id: stable, never reused after the user is deleted.
///
/// Serializes as a bare number, so it can be kept in the session
/// (`session.insert("user_id", id)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// A person, however many providers they sign in with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// The display name, taken from the identity the user was created with.
    pub name: Option<String>,
    /// The primary email: always one that a provider verified, and no other user's primary
    /// email; `None` when no such address is known.
    pub email: Option<String>,
    /// When the user was created (second precision).
    pub created_at: SystemTime,
}

impl User {
    /// A user as a store read it (for [`AccountStore`](super::AccountStore) implementations).
    pub fn new(
        id: UserId,
        name: Option<String>,
        email: Option<String>,
        created_at: SystemTime,
    ) -> Self {
        Self {
            id,
            name,
            email,
            created_at,
        }
    }
}

/// One sign-in account at one provider, linked to exactly one [`User`]; unique on
/// (`provider`, `subject`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Identity {
    /// The user this identity signs in.
    pub user_id: UserId,
    /// The remote app's name (e.g. `"github"`).
    pub provider: String,
    /// The provider's stable id for the account.
    pub subject: String,
    /// The display name at the provider, as of the last sign-in.
    pub name: Option<String>,
    /// The handle at the provider, as of the last sign-in.
    pub username: Option<String>,
    /// The email the provider gave, as of the last sign-in (verified or not).
    pub email: Option<String>,
    /// Whether the provider verified [`email`](Self::email).
    pub email_verified: bool,
    /// A picture URL, as of the last sign-in.
    pub picture: Option<String>,
    /// When the identity was first seen (second precision).
    pub created_at: SystemTime,
    /// When the identity last signed in (second precision).
    pub last_sign_in_at: SystemTime,
}

impl Identity {
    /// The identity `profile` describes, linked to `user_id`, first seen and last signed in at
    /// `at` (for [`AccountStore`](super::AccountStore) implementations).
    pub fn from_profile(user_id: UserId, profile: &Profile, at: SystemTime) -> Self {
        Self {
            user_id,
            provider: profile.provider.clone(),
            subject: profile.subject.clone(),
            name: profile.name.clone(),
            username: profile.username.clone(),
            email: profile.email.clone(),
            email_verified: profile.email_verified,
            picture: profile.picture.clone(),
            created_at: at,
            last_sign_in_at: at,
        }
    }
}

/// How [`sign_in`](super::sign_in) resolved a profile to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The identity was known: its user signs in.
    Returning,
    /// A new identity, linked to the user who was already signed in.
    Linked,
    /// A new identity whose provider-verified email belongs to exactly one user: linked to them.
    LinkedByEmail,
    /// A new identity that matched nobody: a new user was created for it.
    Created,
}

/// The result of [`sign_in`](super::sign_in): who is now signed in, through which identity, and
/// why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignIn {
    /// The signed-in user.
    pub user: User,
    /// The identity used, with the profile's fields as of this sign-in.
    pub identity: Identity,
    /// How the identity was resolved to the user.
    pub outcome: Outcome,
}

/// The form emails are compared in: surrounding ASCII whitespace removed and the ASCII letters
/// `A`–`Z` folded to `a`–`z`; every other character is kept as it is. Linking compares only
/// provider-verified emails, and only in this form.
///
/// So `Kate@Example.TEST` and `kate@example.test` compare equal (providers treat the local part
/// case-insensitively, and domains are), but no other character is case-folded or normalized:
/// the Kelvin sign `K` (U+212A), a fullwidth `Ｋ`, the dotless `ı`, the dotted `İ`, the long `ſ`,
/// `ß` against `ss`, or a ligature `ﬀ` against `ff` never match the ASCII address they resemble
/// or fold into, and an address written with non-ASCII letters matches only when its non-ASCII
/// characters are the same code points (no NFC).
///
/// # Security
/// Unicode case mapping (`to_lowercase`, `casefold`) and compatibility normalization (NFKC) merge
/// distinct mailboxes: two providers vouching for `\u{212A}ate@example.test` and
/// `kate@example.test` would link two different people's accounts. This form can only fail to
/// link two spellings of one mailbox (the user then links them while signed in), never link two
/// mailboxes.
pub fn normalize_email(email: &str) -> String {
    email.trim_ascii().to_ascii_lowercase()
}

/// The profile's email in [`normalize_email`] form if the provider verified it and it is not
/// empty; `None` otherwise.
pub(crate) fn verified_email(profile: &Profile) -> Option<String> {
    profile
        .email
        .as_deref()
        .filter(|_| profile.email_verified)
        .map(normalize_email)
        .filter(|e| !e.is_empty())
}

/// Seconds since the Unix epoch, as stored.
pub(crate) fn to_unix(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The stored seconds since the Unix epoch as a time (negative values read as the epoch).
pub(crate) fn from_unix(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_verified_nonempty_emails_count() {
        let p = Profile::new("p", "1").email("  Ann@Example.COM ", true);
        assert_eq!(verified_email(&p).as_deref(), Some("ann@example.com"));
        let p = Profile::new("p", "1").email("ann@example.com", false);
        assert_eq!(verified_email(&p), None);
        let p = Profile::new("p", "1").email("  ", true);
        assert_eq!(verified_email(&p), None);
        assert_eq!(verified_email(&Profile::new("p", "1")), None);
    }

    #[test]
    fn only_ascii_letters_fold() {
        assert_eq!(normalize_email(" Kate@Example.TEST\t"), "kate@example.test");
        // Characters Unicode case mapping or NFKC would turn into ASCII stay as they are.
        for lookalike in [
            "\u{212A}ate@example.test", // KELVIN SIGN
            "\u{FF2B}ate@example.test", // FULLWIDTH LATIN CAPITAL LETTER K
            "\u{0130}da@example.test",  // LATIN CAPITAL LETTER I WITH DOT ABOVE
            "\u{0131}da@example.test",  // LATIN SMALL LETTER DOTLESS I
            "\u{017F}am@example.test",  // LATIN SMALL LETTER LONG S
            "\u{FB00}@example.test",    // LATIN SMALL LIGATURE FF
            "stra\u{00DF}e@example.test",
        ] {
            assert_eq!(normalize_email(lookalike), lookalike);
        }
        // Only ASCII letters around them fold; surrounding Unicode spaces are not removed.
        assert_eq!(
            normalize_email("J\u{212A}@EXAMPLE.test"),
            "j\u{212A}@example.test"
        );
        assert_eq!(
            normalize_email("\u{00A0}kate@example.test"),
            "\u{00A0}kate@example.test"
        );
    }

    #[test]
    fn unix_times_round_trip() {
        let at = from_unix(1_700_000_000);
        assert_eq!(to_unix(at), 1_700_000_000);
        assert_eq!(from_unix(-5), UNIX_EPOCH);
    }
}
