//! The [`Discord`] preset.

use crate::{
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
};

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
