//! Presets for well-known providers. Each is a marker type usable as
//! `AuthorizedResponse<GitHub>` and a preset for [`RemoteApp::from_provider`].
//!
//! A preset with a self-hosted or tenant form derives every URL from one setting:
//! [`GitHub::enterprise`], [`GitLab::self_managed`], [`Microsoft::tenant`],
//! [`Salesforce::my_domain`], and for the identity services that have no shared host
//! ([`HOSTED_ONLY`]) [`Auth0::domain`], [`Okta::org`], [`Keycloak::realm`],
//! [`Cognito::user_pool`], [`Zitadel::instance`] and [`Authentik::application`] (or
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

mod amazon;
mod apple;
mod atlassian;
mod auth0;
mod authentik;
mod bitbucket;
mod box_com;
mod cognito;
mod discord;
mod dropbox;
mod facebook;
mod github;
mod gitlab;
mod google;
mod keycloak;
mod linkedin;
mod microsoft;
mod notion;
mod okta;
mod patreon;
mod reddit;
mod salesforce;
mod slack;
mod spotify;
mod strava;
mod twitch;
mod twitter;
mod x;
mod yahoo;
mod zitadel;
mod zoom;

pub use self::{
    amazon::Amazon,
    apple::Apple,
    atlassian::Atlassian,
    auth0::Auth0,
    authentik::Authentik,
    bitbucket::Bitbucket,
    box_com::BoxCom,
    cognito::Cognito,
    discord::Discord,
    dropbox::Dropbox,
    facebook::Facebook,
    github::GitHub,
    gitlab::GitLab,
    google::Google,
    keycloak::Keycloak,
    linkedin::LinkedIn,
    microsoft::Microsoft,
    notion::{Notion, NOTION_VERSION},
    okta::Okta,
    patreon::Patreon,
    reddit::Reddit,
    salesforce::Salesforce,
    slack::Slack,
    spotify::Spotify,
    strava::Strava,
    twitch::Twitch,
    twitter::Twitter,
    x::X,
    yahoo::Yahoo,
    zitadel::Zitadel,
    zoom::Zoom,
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
    "amazon",
    "apple",
    "atlassian",
    "auth0",
    "authentik",
    "bitbucket",
    "box",
    "cognito",
    "discord",
    "dropbox",
    "facebook",
    "github",
    "gitlab",
    "google",
    "keycloak",
    "linkedin",
    "microsoft",
    "notion",
    "okta",
    "patreon",
    "reddit",
    "salesforce",
    "slack",
    "spotify",
    "strava",
    "twitch",
    "twitter",
    "x",
    "yahoo",
    "zitadel",
    "zoom",
];

/// A preset for one self-hosted instance or tenant of a provider: the builder and the instance's
/// URL (or the tenant's name) in, every URL of the preset derived from it.
pub type HostedPreset = fn(RemoteAppBuilder, &str) -> RemoteAppBuilder;

/// The self-hosted or tenant form of the preset named `name`, for providers chosen at run time:
/// `"auth0"` ([`Auth0::domain`], the tenant's domain), `"authentik"`
/// ([`Authentik::application`], the application's issuer), `"cognito"` ([`Cognito::user_pool`],
/// the pool id), `"github"` ([`GitHub::enterprise`], the server's URL), `"gitlab"`
/// ([`GitLab::self_managed`], the instance's URL), `"keycloak"` ([`Keycloak::realm`], the realm's
/// URL), `"microsoft"` ([`Microsoft::tenant`], the tenant), `"okta"` ([`Okta::org`], the org or
/// authorization server URL), `"salesforce"` ([`Salesforce::my_domain`], the My Domain or
/// sandbox host) and `"zitadel"` ([`Zitadel::instance`], the instance's URL). `None` for presets
/// without one.
pub fn hosted_by_name(name: &str) -> Option<HostedPreset> {
    Some(match name {
        "auth0" => Auth0::domain,
        "authentik" => Authentik::application,
        "cognito" => Cognito::user_pool,
        "github" => GitHub::enterprise,
        "gitlab" => GitLab::self_managed,
        "keycloak" => Keycloak::realm,
        "microsoft" => Microsoft::tenant,
        "okta" => Okta::org,
        "salesforce" => Salesforce::my_domain,
        "zitadel" => Zitadel::instance,
        _ => return None,
    })
}

/// The presets that have no shared host and build only in their hosted form
/// ([`hosted_by_name`]): a configuration naming one of them needs its `host`.
pub const HOSTED_ONLY: &[&str] = &[
    "auth0",
    "authentik",
    "cognito",
    "keycloak",
    "okta",
    "zitadel",
];

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
        "amazon" => Amazon::preset,
        "apple" => Apple::preset,
        "atlassian" => Atlassian::preset,
        "auth0" => Auth0::preset,
        "authentik" => Authentik::preset,
        "bitbucket" => Bitbucket::preset,
        "box" => BoxCom::preset,
        "cognito" => Cognito::preset,
        "discord" => Discord::preset,
        "dropbox" => Dropbox::preset,
        "facebook" => Facebook::preset,
        "github" => GitHub::preset,
        "gitlab" => GitLab::preset,
        "google" => Google::preset,
        "keycloak" => Keycloak::preset,
        "linkedin" => LinkedIn::preset,
        "microsoft" => Microsoft::preset,
        "notion" => Notion::preset,
        "okta" => Okta::preset,
        "patreon" => Patreon::preset,
        "reddit" => Reddit::preset,
        "salesforce" => Salesforce::preset,
        "slack" => Slack::preset,
        "spotify" => Spotify::preset,
        "strava" => Strava::preset,
        "twitch" => Twitch::preset,
        "twitter" => Twitter::preset,
        "x" => X::preset,
        "yahoo" => Yahoo::preset,
        "zitadel" => Zitadel::preset,
        "zoom" => Zoom::preset,
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
