//! The [`Twitter`] preset.

use crate::{
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
};

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
