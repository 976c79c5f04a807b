//! [`Profile`]: who the provider says the user is, normalized across providers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The signed-in user as a provider describes them, normalized: the input the accounts layer
/// links identities on.
///
/// # Security
/// Link accounts by email only when [`email_verified`](Self::email_verified) is `true`: an
/// unverified address may have been typed by anyone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Profile {
    /// The remote app's name (e.g. `"github"`).
    pub provider: String,
    /// The provider's stable, unique id for the user (OpenID Connect `sub`, GitHub's numeric
    /// `id`, Twitter's `user_id`), as a string.
    pub subject: String,
    /// The user's display name.
    pub name: Option<String>,
    /// The user's handle at the provider (`login`, `screen_name`, `preferred_username`).
    pub username: Option<String>,
    /// The user's email address, if shared.
    pub email: Option<String>,
    /// Whether the provider verified that the user controls [`email`](Self::email).
    pub email_verified: bool,
    /// A picture URL.
    pub picture: Option<String>,
    /// The provider's answer as received.
    pub raw: Value,
}

impl Profile {
    /// A profile with only a provider and a subject; fill the rest with the setters.
    pub fn new(provider: impl Into<String>, subject: impl Into<String>) -> Self {
        Self {
            provider: provider.into(),
            subject: subject.into(),
            name: None,
            username: None,
            email: None,
            email_verified: false,
            picture: None,
            raw: Value::Null,
        }
    }

    /// Reads a provider's user description by the common names: OpenID Connect standard claims
    /// (`sub`, `name`, `preferred_username`, `email`, `email_verified`, `picture`) and the usual
    /// alternatives (`id`/`user_id`, `login`/`screen_name`/`username`, `avatar_url`,
    /// `profile_image_url_https`). `email_verified` counts only as the boolean `true` or the string
    /// `"true"`. `None` when no subject can be found.
    pub fn from_claims(provider: impl Into<String>, raw: Value) -> Option<Self> {
        let text = |keys: &[&str]| {
            keys.iter().find_map(|k| match raw.get(*k) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            })
        };
        let subject = text(&["sub", "id_str", "id", "user_id"])?;
        let email_verified = match raw
            .get("email_verified")
            .or_else(|| raw.get("verified_email"))
        {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        };
        Some(Self {
            provider: provider.into(),
            subject,
            name: text(&["name"]),
            username: text(&["preferred_username", "login", "screen_name", "username"]),
            email: text(&["email"]),
            email_verified,
            picture: text(&["picture", "avatar_url", "profile_image_url_https"]),
            raw,
        })
    }

    /// Sets the display name.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the handle.
    #[must_use]
    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    /// Sets the email and whether the provider verified it.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>, verified: bool) -> Self {
        self.email = Some(email.into());
        self.email_verified = verified;
        self
    }

    /// Sets the picture URL.
    #[must_use]
    pub fn picture(mut self, url: impl Into<String>) -> Self {
        self.picture = Some(url.into());
        self
    }

    /// Sets the raw answer.
    #[must_use]
    pub fn raw(mut self, raw: Value) -> Self {
        self.raw = raw;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_by_common_names() {
        let p = Profile::from_claims(
            "gh",
            serde_json::json!({"id": 583231, "login": "octocat", "name": "The Octocat", "email": "o@example.test", "avatar_url": "https://a/x.png"}),
        )
        .unwrap();
        assert_eq!(p.subject, "583231");
        assert_eq!(p.username.as_deref(), Some("octocat"));
        assert!(
            !p.email_verified,
            "GitHub's /user does not say the email is verified"
        );
        let p = Profile::from_claims(
            "g",
            serde_json::json!({"sub": "1", "email": "a@b", "email_verified": "true"}),
        )
        .unwrap();
        assert!(p.email_verified);
        let p = Profile::from_claims(
            "g",
            serde_json::json!({"sub": "1", "email_verified": "yes"}),
        )
        .unwrap();
        assert!(!p.email_verified);
        assert!(Profile::from_claims("x", serde_json::json!({"name": "no id"})).is_none());
    }
}
