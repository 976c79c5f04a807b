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
