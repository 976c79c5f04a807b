//! The [`Dropbox`] preset.

use crate::{
    credentials::UserinfoMethod,
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
    revocation::Revocation,
};

/// Dropbox (OAuth 2). The profile is the RPC endpoint `users/get_current_account`, which wants a
/// `POST` with no body ([`UserinfoMethod::Post`]): `account_id`, `name.display_name`,
/// `profile_photo_url`, `email` and `email_verified`, which the verification follows.
#[derive(Debug)]
pub struct Dropbox;

impl Provider for Dropbox {
    const NAME: &'static str = "dropbox";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://www.dropbox.com/oauth2/authorize")
            .base_url("https://api.dropboxapi.com/2/")
            .access_token_url("https://api.dropboxapi.com/oauth2/token")
            .userinfo_url("users/get_current_account")
            .userinfo_method(UserinfoMethod::Post)
            .scope(["account_info.read"])
            // Only the RPC `auth/token/revoke`, not RFC 7009.
            .revocation(Revocation::None)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/account_id"])
                    .name(["/name/display_name"])
                    .username(Vec::<String>::new())
                    .picture(["/profile_photo_url"])
                    .email_verified(EmailVerified::Claim(vec!["/email_verified".into()])),
            )
    }
}
