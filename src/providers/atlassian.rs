//! The [`Atlassian`] preset.

use crate::{
    oauth2::ClientAuth, profile::ProfileMap, provider::Provider, remote_app::RemoteAppBuilder,
    revocation::Revocation,
};

/// Atlassian accounts (OAuth 2.0 "3LO" apps: Jira, Confluence). The authorization request carries
/// `audience=api.atlassian.com` and `prompt=consent`; the client credentials go in the body; the
/// profile is `https://api.atlassian.com/me` (`account_id`, `name`, `nickname`, `picture`,
/// `email`; scope `read:me`). The email counts as verified only if an `email_verified: true`
/// comes with it, which Atlassian does not document.
///
/// # Security
/// Atlassian documents no PKCE for 3LO apps and has no OpenID Connect `nonce`, so nothing binds
/// the code to the browser: the preset **does not build** without
/// [`insecure_allow_code_injection`](RemoteAppBuilder::insecure_allow_code_injection)
/// (RFC 9700 §4.5).
#[derive(Debug)]
pub struct Atlassian;

impl Provider for Atlassian {
    const NAME: &'static str = "atlassian";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://auth.atlassian.com/authorize")
            .access_token_url("https://auth.atlassian.com/oauth/token")
            .base_url("https://api.atlassian.com/")
            .userinfo_url("me")
            .scope(["read:me"])
            .authorize_param("audience", "api.atlassian.com")
            .authorize_param("prompt", "consent")
            .client_auth(ClientAuth::RequestBody)
            .pkce(false)
            // Atlassian documents no revocation endpoint for 3LO apps.
            .revocation(Revocation::None)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/account_id"])
                    .username(["/nickname"]),
            )
    }
}
