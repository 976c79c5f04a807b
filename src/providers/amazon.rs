//! The [`Amazon`] preset.

use crate::{
    oauth2::ClientAuth,
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
    revocation::Revocation,
};

/// Login with Amazon (OAuth 2). The profile is `https://api.amazon.com/user/profile`
/// (`user_id`, `name`, `email`; scope `profile`); Amazon does not say whether the address is
/// verified, so it never counts as verified. The client credentials go in the body.
#[derive(Debug)]
pub struct Amazon;

impl Provider for Amazon {
    const NAME: &'static str = "amazon";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://www.amazon.com/ap/oa")
            .base_url("https://api.amazon.com/")
            .access_token_url("auth/o2/token")
            .userinfo_url("user/profile")
            .scope(["profile"])
            .client_auth(ClientAuth::RequestBody)
            // Login with Amazon documents no revocation endpoint.
            .revocation(Revocation::None)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/user_id"])
                    .email_verified(EmailVerified::Never),
            )
    }
}
