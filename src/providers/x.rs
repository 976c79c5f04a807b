//! The [`X`] preset.

use crate::{
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
};

/// X, formerly Twitter, through OAuth 2.0 with PKCE (which X requires), registered as `"x"`;
/// [`Twitter`](super::Twitter) is the OAuth 1.0a API. The token endpoint takes HTTP Basic
/// (confidential clients). The profile is `/2/users/me` with `user.fields=profile_image_url`
/// (`data.id`, `data.name`, `data.username`, `data.profile_image_url`; scopes
/// `users.read tweet.read`); no email is asked for, and none would count as verified.
#[derive(Debug)]
pub struct X;

impl Provider for X {
    const NAME: &'static str = "x";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://x.com/i/oauth2/authorize")
            .base_url("https://api.x.com/2/")
            .access_token_url("oauth2/token")
            .revocation_url("oauth2/revoke")
            .userinfo_url("users/me?user.fields=profile_image_url")
            .scope(["users.read", "tweet.read"])
            .profile_map(
                ProfileMap::standard()
                    .subject(["/data/id"])
                    .name(["/data/name"])
                    .username(["/data/username"])
                    .picture(["/data/profile_image_url"])
                    .email_verified(EmailVerified::Never),
            )
    }
}
