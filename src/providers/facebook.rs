//! The [`Facebook`] preset.

use crate::{
    oauth2::ClientAuth,
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
    revocation::Revocation,
};

/// Facebook (OAuth 2, Graph API). The profile is `/me?fields=id,name,email,picture` with the
/// picture nested at `picture.data.url`. Facebook does not say whether the address it sends was
/// verified, so it is never treated as verified. Its token endpoint also answers a `GET`, but
/// the preset `POST`s so the client secret never travels in a URL.
#[derive(Debug)]
pub struct Facebook;

impl Provider for Facebook {
    const NAME: &'static str = "facebook";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://www.facebook.com/v19.0/dialog/oauth")
            .base_url("https://graph.facebook.com/v19.0/")
            .access_token_url("oauth/access_token")
            .userinfo_url("me?fields=id,name,email,picture")
            .scope(["email", "public_profile"])
            // Only the Graph API's own `DELETE /me/permissions`, not RFC 7009.
            .revocation(Revocation::None)
            .client_auth(ClientAuth::RequestBody)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/id"])
                    .picture(["/picture/data/url"])
                    .email_verified(EmailVerified::Never),
            )
    }
}
