//! The [`Bitbucket`] preset.

use crate::{
    profile::ProfileMap, provider::Provider, remote_app::RemoteAppBuilder, revocation::Revocation,
};

/// Bitbucket Cloud (OAuth 2). The profile is `/2.0/user` (`uuid`, `username`, `display_name`,
/// `links.avatar.href`); like GitHub's, the address comes from the email list `/2.0/user/emails`
/// (scope `email`): its primary entry, verified when `is_confirmed`. The token endpoint takes
/// HTTP Basic.
///
/// # Security
/// Bitbucket Cloud documents no PKCE and has no OpenID Connect `nonce`, so nothing binds the code
/// to the browser: the preset **does not build** without
/// [`insecure_allow_code_injection`](RemoteAppBuilder::insecure_allow_code_injection)
/// (RFC 9700 §4.5).
#[derive(Debug)]
pub struct Bitbucket;

impl Provider for Bitbucket {
    const NAME: &'static str = "bitbucket";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://bitbucket.org/site/oauth2/authorize")
            .access_token_url("https://bitbucket.org/site/oauth2/access_token")
            .base_url("https://api.bitbucket.org/2.0/")
            .userinfo_url("user")
            .emails_url("user/emails")
            .scope(["account", "email"])
            .pkce(false)
            // Bitbucket Cloud documents no revocation endpoint.
            .revocation(Revocation::None)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/uuid"])
                    .username(["/username"])
                    .name(["/display_name"])
                    .picture(["/links/avatar/href"]),
            )
    }
}
