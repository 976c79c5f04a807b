//! The [`Spotify`] preset.

use crate::{
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
    revocation::Revocation,
};

/// Spotify (OAuth 2). The profile is the Web API's `/v1/me` (`id`, `display_name`, `email`,
/// `images[0].url`; scopes `user-read-email user-read-private`). Spotify documents the address
/// as "unverified; there is no proof that it actually belongs to the user", so it never counts
/// as verified.
#[derive(Debug)]
pub struct Spotify;

impl Provider for Spotify {
    const NAME: &'static str = "spotify";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://accounts.spotify.com/authorize")
            .access_token_url("https://accounts.spotify.com/api/token")
            .base_url("https://api.spotify.com/v1/")
            .userinfo_url("me")
            .scope(["user-read-email", "user-read-private"])
            // Spotify has no revocation endpoint (users remove apps in their account).
            .revocation(Revocation::None)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/id"])
                    .name(["/display_name"])
                    .username(["/id"])
                    .picture(["/images/0/url"])
                    .email_verified(EmailVerified::Never),
            )
    }
}
