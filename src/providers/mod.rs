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

mod apple;

pub use self::apple::Apple;
use crate::{
    oauth2::ClientAuth,
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
    revocation::Revocation,
};

/// GitHub (OAuth 2). Its token endpoint answers form-encoded unless asked for JSON
/// (`Accept: application/json` is sent), writes `token_type` as lowercase `bearer`, and reports
/// errors with status 200; all handled. `/user` shows only the *public* email and never says
/// whether it is verified, so the profile takes the primary verified address from
/// `/user/emails` (scope `user:email`). Both are written relative to the API base, so a
/// [`base_url`](RemoteAppBuilder::base_url) override moves them; [`GitHub::enterprise`] moves
/// every URL to a GitHub Enterprise Server.
#[derive(Debug)]
pub struct GitHub;

impl GitHub {
    /// The preset for GitHub Enterprise Server at `host` (`"https://github.corp.example"`; a bare
    /// host name means https, and the API URL `https://HOST/api/v3/` is accepted too): sign-in at
    /// `https://HOST/login/oauth/…`, the API, the user and the email list at
    /// `https://HOST/api/v3/`. Nothing goes to github.com.
    pub fn enterprise(builder: RemoteAppBuilder, host: &str) -> RemoteAppBuilder {
        let root = instance_root(host, "/api/v3");
        Self::preset(builder)
            .authorize_url(format!("{root}/login/oauth/authorize"))
            .access_token_url(format!("{root}/login/oauth/access_token"))
            .base_url(format!("{root}/api/v3/"))
    }
}

impl Provider for GitHub {
    const NAME: &'static str = "github";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://github.com/login/oauth/authorize")
            .access_token_url("https://github.com/login/oauth/access_token")
            .base_url("https://api.github.com/")
            .userinfo_url("user")
            .emails_url("user/emails")
            .scope(["read:user", "user:email"])
            .client_auth(ClientAuth::RequestBody)
            .token_request_header("Accept", "application/json")
            // No RFC 7009 endpoint; deleting the grant revokes every token the user gave the app.
            .revocation(Revocation::GitHubGrant)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/id"])
                    .username(["/login"])
                    .picture(["/avatar_url"]),
            )
    }
}

/// Twitter / X (OAuth 1.0a, HMAC-SHA1): the seed's first example. Its callback carries
/// `denied=…` when the user declines. The profile comes from `verify_credentials`
/// (`id_str`, `screen_name`, `profile_image_url_https`); Twitter does not say whether the email
/// it may send is verified, so it is never treated as verified.
#[derive(Debug)]
pub struct Twitter;

impl Provider for Twitter {
    const NAME: &'static str = "twitter";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .request_token_url("https://api.twitter.com/oauth/request_token")
            .authorize_url("https://api.twitter.com/oauth/authenticate")
            .access_token_url("https://api.twitter.com/oauth/access_token")
            .base_url("https://api.twitter.com/1.1/")
            .userinfo_url("account/verify_credentials.json?include_email=true")
            .profile_map(
                ProfileMap::standard()
                    .subject(["/id_str", "/id"])
                    .username(["/screen_name"])
                    .picture(["/profile_image_url_https"])
                    .email_verified(EmailVerified::Never),
            )
    }
}

/// Google (OpenID Connect). Endpoints and keys by discovery from `https://accounts.google.com`;
/// Google documents that `iss` may also read `accounts.google.com`, which is accepted.
#[derive(Debug)]
pub struct Google;

impl Provider for Google {
    const NAME: &'static str = "google";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .issuer("https://accounts.google.com")
            .alternate_issuer("accounts.google.com")
            // Revocation: the discovery document's `https://oauth2.googleapis.com/revoke`.
            .base_url("https://www.googleapis.com/")
            .scope(["openid", "email", "profile"])
    }
}

/// Facebook (OAuth 2, Graph API). The profile is `/me?fields=id,name,email,picture` with the
/// picture nested at `picture.data.url`. Facebook does not say whether the address it sends was
/// verified, so it is never treated as verified. Its token endpoint also answers a `GET`, but
/// the preset `POST`s so the client secret never travels in a URL.
#[derive(Debug)]
pub struct Facebook;

impl Provider for Facebook {
    const NAME: &'static str = "facebook";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://www.facebook.com/v19.0/dialog/oauth")
            .base_url("https://graph.facebook.com/v19.0/")
            .access_token_url("oauth/access_token")
            .userinfo_url("me?fields=id,name,email,picture")
            .scope(["email", "public_profile"])
            // Only the Graph API's own `DELETE /me/permissions`, not RFC 7009.
            .revocation(Revocation::None)
            .client_auth(ClientAuth::RequestBody)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/id"])
                    .picture(["/picture/data/url"])
                    .email_verified(EmailVerified::Never),
            )
    }
}

/// Microsoft identity platform (OpenID Connect, v2.0 endpoints), tenant `common` (work, school
/// and personal accounts); [`Microsoft::tenant`] picks another. The `common` discovery document
/// names a template issuer (`…/{tenantid}/v2.0`): each `id_token`'s `iss` is checked against the
/// template filled with its own `tid`. Microsoft's `email` claim is not verified by Microsoft
/// (the "nOAuth" account-takeover class), so only the `xms_edov` ("email domain owner
/// verified") optional claim makes it verified.
#[derive(Debug)]
pub struct Microsoft;

impl Microsoft {
    /// The preset for one tenant: `"common"`, `"organizations"`, `"consumers"`, a tenant id or a
    /// domain such as `"contoso.onmicrosoft.com"`. The issuer is
    /// `https://login.microsoftonline.com/{tenant}/v2.0`, and the endpoints come from its
    /// discovery document, all within the tenant.
    pub fn tenant(builder: RemoteAppBuilder, tenant: &str) -> RemoteAppBuilder {
        // A path segment, whatever it holds (RFC 3986 percent-encoding).
        let tenant = crate::oauth1::percent_encode(tenant.trim());
        builder
            .issuer(format!("https://login.microsoftonline.com/{tenant}/v2.0"))
            .issuer_from_discovery(true)
            // The Microsoft identity platform has no revocation endpoint for clients.
            .revocation(Revocation::None)
            .base_url("https://graph.microsoft.com/v1.0/")
            .scope(["openid", "email", "profile"])
            .profile_map(
                ProfileMap::standard()
                    .username(["/preferred_username"])
                    .email_verified(EmailVerified::Claim(vec!["/xms_edov".into()])),
            )
    }
}

impl Provider for Microsoft {
    const NAME: &'static str = "microsoft";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        Self::tenant(builder, "common")
    }
}

/// GitLab.com (OpenID Connect); [`GitLab::self_managed`] for a self-managed instance. The
/// handle is the `nickname` claim.
#[derive(Debug)]
pub struct GitLab;

impl GitLab {
    /// The preset for a self-managed GitLab at `url` (`"https://gitlab.example.com"`, with the
    /// relative URL root it may be installed under; a bare host name means https): that URL is
    /// the issuer the endpoints and keys are discovered from, and API calls go to its
    /// `/api/v4/`. Nothing goes to gitlab.com.
    pub fn self_managed(builder: RemoteAppBuilder, url: &str) -> RemoteAppBuilder {
        Self::at(builder, &instance_root(url, "/api/v4"))
    }

    fn at(builder: RemoteAppBuilder, root: &str) -> RemoteAppBuilder {
        builder
            .issuer(root)
            // Revocation: the discovery document's `{root}/oauth/revoke`.
            .base_url(format!("{root}/api/v4/"))
            .scope(["openid", "profile", "email"])
            .profile_map(
                ProfileMap::standard()
                    .username(["/nickname", "/preferred_username"])
                    .picture(["/picture", "/avatar_url"]),
            )
    }
}

impl Provider for GitLab {
    const NAME: &'static str = "gitlab";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        Self::at(builder, "https://gitlab.com")
    }
}

/// Discord (OAuth 2). `/users/@me` gives `id`, `username`, `global_name` (the display name,
/// may be `null`), `email` with `verified`, and an avatar *hash* from which the CDN URL is built.
#[derive(Debug)]
pub struct Discord;

impl Provider for Discord {
    const NAME: &'static str = "discord";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://discord.com/oauth2/authorize")
            .base_url("https://discord.com/api/")
            .access_token_url("oauth2/token")
            .userinfo_url("users/@me")
            .scope(["identify", "email"])
            .revocation_url("oauth2/token/revoke")
            .profile_map(
                ProfileMap::standard()
                    .subject(["/id"])
                    .username(["/username"])
                    .name(["/global_name", "/username"])
                    .email_verified(EmailVerified::Claim(vec!["/verified".into()]))
                    .picture(["https://cdn.discordapp.com/avatars/{/id}/{/avatar}.png"]),
            )
    }
}

/// LinkedIn ("Sign In with LinkedIn using OpenID Connect"). The token endpoint wants the client
/// credentials in the body and answers without `token_type`.
///
/// # Security
/// LinkedIn binds nothing to the browser by default: its `id_token`s carry no `nonce` (a present
/// one must still match), and it refuses a PKCE `code_verifier` unless it enabled PKCE for the
/// app on request (its "native PKCE" flow). So the preset turns both off and **does not build**
/// as it stands: turn [`pkce`](RemoteAppBuilder::pkce) on for an app LinkedIn enabled PKCE
/// for, or accept authorization code injection (RFC 9700 §4.5) with
/// [`insecure_allow_code_injection`](RemoteAppBuilder::insecure_allow_code_injection).
#[derive(Debug)]
pub struct LinkedIn;

impl Provider for LinkedIn {
    const NAME: &'static str = "linkedin";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .issuer("https://www.linkedin.com/oauth")
            .revocation_url("https://www.linkedin.com/oauth/v2/revoke")
            .base_url("https://api.linkedin.com/v2/")
            .scope(["openid", "profile", "email"])
            .client_auth(ClientAuth::RequestBody)
            .pkce(false)
            .require_nonce(false)
    }
}

/// Slack ("Sign in with Slack", OpenID Connect). Slack's Web API answers errors with status 200
/// and `{"ok": false, "error": "…"}`, read as provider errors; the team is in the
/// `https://slack.com/team_id` claim of [`Profile::raw`](crate::Profile::raw).
#[derive(Debug)]
pub struct Slack;

impl Provider for Slack {
    const NAME: &'static str = "slack";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .issuer("https://slack.com")
            // Only the Web API's own `auth.revoke`, not RFC 7009.
            .revocation(Revocation::None)
            .base_url("https://slack.com/api/")
            .scope(["openid", "profile", "email"])
            .client_auth(ClientAuth::RequestBody)
    }
}

/// Twitch (OpenID Connect). The token endpoint wants the client credentials in the body and
/// answers `scope` as a JSON array; the email, its verification and the picture come only when
/// asked for through the `claims` parameter, which the preset sends; Helix API calls carry the
/// `Client-Id` header.
#[derive(Debug)]
pub struct Twitch;

impl Provider for Twitch {
    const NAME: &'static str = "twitch";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .issuer("https://id.twitch.tv/oauth2")
            .revocation_url("https://id.twitch.tv/oauth2/revoke")
            .base_url("https://api.twitch.tv/helix/")
            .scope(["openid", "user:read:email"])
            .client_auth(ClientAuth::RequestBody)
            .client_id_header("Client-Id")
            .authorize_param("claims", TWITCH_CLAIMS)
    }
}

/// The claims Twitch must be asked for to include them (OpenID Connect Core §5.5).
const TWITCH_CLAIMS: &str = r#"{"id_token":{"email":null,"email_verified":null,"preferred_username":null,"picture":null},"userinfo":{"email":null,"email_verified":null,"preferred_username":null,"picture":null}}"#;

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
    "apple",
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
fn instance_root(url: &str, api: &str) -> String {
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
        "apple" => Apple::preset,
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
