//! Presets for well-known providers. Each is a marker type usable as
//! `AuthorizedResponse<GitHub>` and a preset for [`RemoteApp::from_provider`].
//!
//! A preset with a self-hosted or tenant form derives every URL from one setting:
//! [`GitHub::enterprise`], [`GitLab::self_managed`], [`Microsoft::tenant`] (or
//! [`hosted_by_name`] at run time). Endpoints that hang off a preset's API base are written
//! relative to it, so overriding the [`base_url`](RemoteAppBuilder::base_url) moves them too.
//!
//! ```
//! use actix_oauth::{providers::GitHub, RemoteApp};
//!
//! let ghe = GitHub::enterprise(
//!     RemoteApp::from_provider::<GitHub>("client-id", "client-secret"),
//!     "https://github.corp.example",
//! )
//! .build()?;
//! assert_eq!(
//!     ghe.emails_url().map(|u| u.as_str()),
//!     Some("https://github.corp.example/api/v3/user/emails")
//! );
//! # Ok::<(), actix_oauth::OAuthError>(())
//! ```
//!
//! [`RemoteApp::from_provider`]: crate::RemoteApp::from_provider

mod discord;
mod facebook;
mod github;
mod gitlab;
mod google;
mod linkedin;
mod microsoft;
mod slack;
mod twitch;
mod twitter;

pub use self::{
    discord::Discord, facebook::Facebook, github::GitHub, gitlab::GitLab, google::Google,
    linkedin::LinkedIn, microsoft::Microsoft, slack::Slack, twitch::Twitch, twitter::Twitter,
};
use crate::{provider::Provider, remote_app::RemoteAppBuilder};

/// The development provider, registered as `"dev"`: the [`actix-oauth-dev`] crate's
/// `DevProvider`, a strict local OAuth 2 / OpenID Connect / OAuth 1.0a server. Its endpoints come
/// from the running provider (`DevProvider::issuer`, `authorize_url`, `token_url` …).
///
/// [`actix-oauth-dev`]: https://docs.rs/actix-oauth-dev
#[derive(Debug)]
pub struct Dev;

impl Provider for Dev {
    const NAME: &'static str = "dev";
}

/// Whichever remote app the callback path belongs to: for apps whose providers are configured at
/// run time (e.g. from a file), `AuthorizedResponse<Any>` on a route such as
/// `/auth/{provider}/callback` completes the handshake of the remote app whose callback path the
/// request arrived on. [`AuthorizedResponse::provider`](crate::AuthorizedResponse::provider)
/// tells which.
///
/// `Any` is not a [`Provider`]: it names no remote app and has no preset, so it cannot start one.
///
/// ```compile_fail
/// let app = actix_oauth::RemoteApp::from_provider::<actix_oauth::providers::Any>("id", "secret");
/// ```
#[derive(Debug)]
pub struct Any;

impl crate::provider::sealed::Sealed for Any {}

impl crate::provider::CallbackProvider for Any {
    const REMOTE_APP: Option<&'static str> = None;
}

/// A preset as a function, for providers chosen at run time (e.g. from a configuration file).
pub type Preset = fn(RemoteAppBuilder) -> RemoteAppBuilder;

/// The names of the crate's presets, as [`by_name`] takes them.
pub const NAMES: &[&str] = &[
    "discord",
    "facebook",
    "github",
    "gitlab",
    "google",
    "linkedin",
    "microsoft",
    "slack",
    "twitch",
    "twitter",
];

/// A preset for one self-hosted instance or tenant of a provider: the builder and the instance's
/// URL (or the tenant's name) in, every URL of the preset derived from it.
pub type HostedPreset = fn(RemoteAppBuilder, &str) -> RemoteAppBuilder;

/// The self-hosted or tenant form of the preset named `name`, for providers chosen at run time:
/// `"github"` ([`GitHub::enterprise`], the server's URL), `"gitlab"` ([`GitLab::self_managed`],
/// the instance's URL) and `"microsoft"` ([`Microsoft::tenant`], the tenant). `None` for presets
/// without one.
pub fn hosted_by_name(name: &str) -> Option<HostedPreset> {
    Some(match name {
        "github" => GitHub::enterprise,
        "gitlab" => GitLab::self_managed,
        "microsoft" => Microsoft::tenant,
        _ => return None,
    })
}

/// `https://HOST[/path]` from what a user writes for an instance: a bare host name means https;
/// a trailing `/` and the API path `api` (`/api/v3`) are dropped.
pub(crate) fn instance_root(url: &str, api: &str) -> String {
    let url = url.trim().trim_end_matches('/');
    let url = url.strip_suffix(api).unwrap_or(url);
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("https://{url}")
    }
}

/// The preset named `name` (one of [`NAMES`]), if the crate has one.
pub fn by_name(name: &str) -> Option<Preset> {
    Some(match name {
        "discord" => Discord::preset,
        "facebook" => Facebook::preset,
        "github" => GitHub::preset,
        "gitlab" => GitLab::preset,
        "google" => Google::preset,
        "linkedin" => LinkedIn::preset,
        "microsoft" => Microsoft::preset,
        "slack" => Slack::preset,
        "twitch" => Twitch::preset,
        "twitter" => Twitter::preset,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_roots() {
        for (written, root) in [
            ("github.corp.example", "https://github.corp.example"),
            (
                "https://github.corp.example/",
                "https://github.corp.example",
            ),
            (
                "https://github.corp.example/api/v3/",
                "https://github.corp.example",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ] {
            assert_eq!(instance_root(written, "/api/v3"), root, "{written}");
        }
        assert_eq!(
            instance_root("https://example.com/gitlab/", "/api/v4"),
            "https://example.com/gitlab"
        );
    }
}
