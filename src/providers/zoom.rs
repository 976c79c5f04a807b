//! The [`Zoom`] preset.

use serde_json::json;

use crate::{
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
};

/// Zoom (OAuth 2, user-managed apps). The profile is `/v2/users/me` (`id`, `display_name`,
/// `first_name`, `last_name`, `pic_url`, `email`); Zoom says the address is verified with the
/// *number* `"verified": 1` ([`EmailVerified::Equals`]). The scopes are those configured for
/// the app in Zoom's Marketplace, so the preset asks for none.
#[derive(Debug)]
pub struct Zoom;

impl Provider for Zoom {
    const NAME: &'static str = "zoom";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://zoom.us/oauth/authorize")
            .access_token_url("https://zoom.us/oauth/token")
            .revocation_url("https://zoom.us/oauth/revoke")
            .base_url("https://api.zoom.us/v2/")
            .userinfo_url("users/me")
            .profile_map(
                ProfileMap::standard()
                    .subject(["/id"])
                    .name(["/display_name", "{/first_name} {/last_name}"])
                    .username(Vec::<String>::new())
                    .picture(["/pic_url"])
                    .email_verified(EmailVerified::Equals("/verified".into(), json!(1))),
            )
    }
}
