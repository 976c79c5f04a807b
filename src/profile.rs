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
    /// Whether [`email`](Self::email) is a private relay address the provider forwards to the
    /// user's real one (Apple's "Hide My Email", `…@privaterelay.appleid.com`): it reaches the
    /// user, but it is this app's alone, so it never matches an account made with the user's
    /// real address.
    #[serde(default)]
    pub private_email: bool,
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
            private_email: false,
            picture: None,
            raw: Value::Null,
        }
    }

    /// Reads a provider's user description by the common names ([`ProfileMap::standard`]):
    /// OpenID Connect standard claims (`sub`, `name`, `preferred_username`, `email`,
    /// `email_verified`, `picture`) and the usual alternatives (`id`/`user_id`,
    /// `login`/`screen_name`/`username`, `avatar_url`, `profile_image_url_https`).
    /// `email_verified` counts only as the boolean `true` or the string `"true"`. `None` when no
    /// subject can be found.
    pub fn from_claims(provider: impl Into<String>, raw: Value) -> Option<Self> {
        static STANDARD: std::sync::LazyLock<ProfileMap> =
            std::sync::LazyLock::new(ProfileMap::standard);
        STANDARD.apply(provider, raw)
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

/// Where each [`Profile`] field is found in a provider's user description: provider quirks as
/// data.
///
/// Each field has a list of *sources* tried in order; the first that yields a non-empty value
/// wins. A source is either a [JSON pointer](https://www.rfc-editor.org/rfc/rfc6901)
/// (`"/picture/data/url"`), or a template whose `{/pointer}` parts are filled in and which fails
/// if any part is missing (`"https://cdn.discordapp.com/avatars/{/id}/{/avatar}.png"`). Strings
/// and numbers are taken; numbers become their decimal text.
///
/// ```
/// use actix_oauth::{EmailVerified, ProfileMap};
///
/// let discord = ProfileMap::standard()
///     .username(["/username"])
///     .name(["/global_name", "/username"])
///     .email_verified(EmailVerified::Claim(vec!["/verified".into()]))
///     .picture(["https://cdn.discordapp.com/avatars/{/id}/{/avatar}.png"]);
/// let profile = discord
///     .apply("discord", serde_json::json!({"id": "80351110224678912", "username": "nelly",
///         "global_name": null, "avatar": "8342729096ea3675442027381ff50dfe",
///         "verified": true, "email": "nelly@discord.com"}))
///     .unwrap();
/// assert_eq!(profile.name.as_deref(), Some("nelly"));
/// assert!(profile.email_verified);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileMap {
    subject: Vec<String>,
    name: Vec<String>,
    username: Vec<String>,
    email: Vec<String>,
    email_verified: EmailVerified,
    private_email: Vec<String>,
    picture: Vec<String>,
}

/// Whether the provider verified the email address it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EmailVerified {
    /// Read from the first of these JSON pointers present: verified only for the boolean `true`
    /// or the string `"true"` (any case).
    Claim(Vec<String>),
    /// The provider only ever sends verified addresses, as it documents.
    Always,
    /// The provider does not say; never verified (accounts never link on it).
    Never,
    /// Verified only when the value at this JSON pointer equals this value exactly, for
    /// providers that say it otherwise than with `true` (Zoom's `"verified": 1`).
    Equals(String, Value),
}

fn owned<I, S>(sources: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    sources.into_iter().map(Into::into).collect()
}

impl ProfileMap {
    /// The common names: OpenID Connect standard claims first, then the usual alternatives.
    pub fn standard() -> Self {
        Self {
            subject: owned(["/sub", "/id_str", "/id", "/user_id"]),
            name: owned(["/name"]),
            username: owned(["/preferred_username", "/login", "/screen_name", "/username"]),
            email: owned(["/email"]),
            email_verified: EmailVerified::Claim(owned(["/email_verified", "/verified_email"])),
            private_email: Vec::new(),
            picture: owned(["/picture", "/avatar_url", "/profile_image_url_https"]),
        }
    }

    /// Sets the sources of [`Profile::subject`].
    #[must_use]
    pub fn subject<I: IntoIterator<Item = S>, S: Into<String>>(mut self, sources: I) -> Self {
        self.subject = owned(sources);
        self
    }

    /// Sets the sources of [`Profile::name`].
    #[must_use]
    pub fn name<I: IntoIterator<Item = S>, S: Into<String>>(mut self, sources: I) -> Self {
        self.name = owned(sources);
        self
    }

    /// Sets the sources of [`Profile::username`].
    #[must_use]
    pub fn username<I: IntoIterator<Item = S>, S: Into<String>>(mut self, sources: I) -> Self {
        self.username = owned(sources);
        self
    }

    /// Sets the sources of [`Profile::email`].
    #[must_use]
    pub fn email<I: IntoIterator<Item = S>, S: Into<String>>(mut self, sources: I) -> Self {
        self.email = owned(sources);
        self
    }

    /// Sets how [`Profile::email_verified`] is decided.
    #[must_use]
    pub fn email_verified(mut self, verified: EmailVerified) -> Self {
        self.email_verified = verified;
        self
    }

    /// Sets the claims that say [`Profile::private_email`] (JSON pointers; `true` or `"true"`
    /// counts). Default: none (never private).
    #[must_use]
    pub fn private_email<I: IntoIterator<Item = S>, S: Into<String>>(mut self, sources: I) -> Self {
        self.private_email = owned(sources);
        self
    }

    /// Sets the sources of [`Profile::picture`].
    #[must_use]
    pub fn picture<I: IntoIterator<Item = S>, S: Into<String>>(mut self, sources: I) -> Self {
        self.picture = owned(sources);
        self
    }

    /// Builds the profile of a user description; `None` when no subject source yields a value.
    pub fn apply(&self, provider: impl Into<String>, raw: Value) -> Option<Profile> {
        let first = |sources: &[String]| sources.iter().find_map(|s| source(&raw, s));
        let subject = first(&self.subject)?;
        let email = first(&self.email);
        let email_verified = email.is_some()
            && match &self.email_verified {
                EmailVerified::Always => true,
                EmailVerified::Never => false,
                EmailVerified::Equals(pointer, value) => raw.pointer(pointer) == Some(value),
                EmailVerified::Claim(pointers) => flag(&raw, pointers),
            };
        let private_email = email.is_some() && flag(&raw, &self.private_email);
        Some(Profile {
            provider: provider.into(),
            subject,
            name: first(&self.name),
            username: first(&self.username),
            email,
            email_verified,
            private_email,
            picture: first(&self.picture),
            raw,
        })
    }
}

/// A yes/no claim: the first of `pointers` present, `true` for the boolean `true` or the string
/// `"true"` (any case; Apple and Google's older answers send strings).
fn flag(raw: &Value, pointers: &[String]) -> bool {
    match pointers.iter().find_map(|p| raw.pointer(p)) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A value as profile text: non-empty strings, and numbers as decimal text.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One source: a JSON pointer, or a template with `{/pointer}` parts.
fn source(raw: &Value, source: &str) -> Option<String> {
    if source.starts_with('/') {
        return raw.pointer(source).and_then(text);
    }
    let mut out = String::with_capacity(source.len() + 32);
    let mut rest = source;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}')? + open;
        out.push_str(&raw.pointer(&rest[open + 1..close]).and_then(text)?);
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    Some(out)
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
        let p = Profile::from_claims("g", serde_json::json!({"sub": "1", "email_verified": true}))
            .unwrap();
        assert!(!p.email_verified, "no address, nothing verified");
    }

    #[test]
    fn email_verified_by_an_exact_value() {
        let zoom = ProfileMap::standard().email_verified(EmailVerified::Equals(
            "/verified".into(),
            serde_json::json!(1),
        ));
        let user = |verified: Value| serde_json::json!({"id": "KDcuGIm1QgePTO8WbOqwIQ", "email": "jchill@example.com", "verified": verified});
        assert!(
            zoom.apply("zoom", user(serde_json::json!(1)))
                .unwrap()
                .email_verified
        );
        for not in [
            serde_json::json!(0),
            serde_json::json!("1"),
            serde_json::json!(true),
            Value::Null,
        ] {
            assert!(
                !zoom
                    .apply("zoom", user(not.clone()))
                    .unwrap()
                    .email_verified,
                "{not}"
            );
        }
    }

    #[test]
    fn sources_are_pointers_or_templates() {
        let raw = serde_json::json!({"id": 7, "picture": {"data": {"url": "https://p/x"}}, "avatar": "ab", "empty": ""});
        assert_eq!(
            source(&raw, "/picture/data/url").as_deref(),
            Some("https://p/x")
        );
        assert_eq!(source(&raw, "/id").as_deref(), Some("7"));
        assert_eq!(
            source(&raw, "https://cdn/{/id}/{/avatar}.png").as_deref(),
            Some("https://cdn/7/ab.png")
        );
        assert_eq!(source(&raw, "https://cdn/{/id}/{/missing}.png"), None);
        assert_eq!(source(&raw, "https://cdn/{/id"), None);
        assert_eq!(source(&raw, "/empty"), None);
        assert_eq!(source(&raw, "/picture"), None, "objects are not text");
    }
}
