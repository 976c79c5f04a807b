//! The [`Notion`] preset.

use crate::{
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
    revocation::Revocation,
};

/// The API version the Notion preset sends in `Notion-Version`, which every Notion API call must
/// carry; override it with `.api_header("Notion-Version", …)`.
pub const NOTION_VERSION: &str = "2022-06-28";

/// Notion (OAuth 2, public integrations). The authorization request carries `owner=user`; the
/// token endpoint takes HTTP Basic; the token answer describes the user who installed the
/// integration (`owner.user`: `id`, `name`, `avatar_url`, `person.email`), so the profile is
/// read from it ([`profile_from_token_answer`](RemoteAppBuilder::profile_from_token_answer)),
/// with the workspace (`workspace_id`, `workspace_name`) in [`Profile::raw`](crate::Profile::raw).
/// Every API call carries `Notion-Version` ([`NOTION_VERSION`]). Notion does not say whether
/// the address is verified, so it never counts as verified.
///
/// # Security
/// Notion documents no PKCE and has no OpenID Connect `nonce`, so nothing binds the code to the
/// browser: the preset **does not build** without
/// [`insecure_allow_code_injection`](RemoteAppBuilder::insecure_allow_code_injection)
/// (RFC 9700 §4.5).
#[derive(Debug)]
pub struct Notion;

impl Provider for Notion {
    const NAME: &'static str = "notion";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .base_url("https://api.notion.com/v1/")
            .authorize_url("oauth/authorize")
            .access_token_url("oauth/token")
            .authorize_param("owner", "user")
            .api_header("Notion-Version", NOTION_VERSION)
            .pkce(false)
            .profile_from_token_answer(true)
            // Notion documents no revocation endpoint.
            .revocation(Revocation::None)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/owner/user/id"])
                    .name(["/owner/user/name"])
                    .username(Vec::<String>::new())
                    .picture(["/owner/user/avatar_url"])
                    .email(["/owner/user/person/email"])
                    .email_verified(EmailVerified::Never),
            )
    }
}
