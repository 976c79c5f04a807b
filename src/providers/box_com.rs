//! The [`BoxCom`] preset.

use crate::{
    oauth2::ClientAuth,
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
};

/// Box (OAuth 2), registered as `"box"` (the type is not called `Box`, which would shadow
/// Rust's). The client credentials go in the body; the profile is `/2.0/users/me` (`id`,
/// `name`, `avatar_url`, and the address as `login`), which Box does not say is verified, so it
/// never counts as verified.
///
/// # Security
/// Box documents no PKCE and has no OpenID Connect `nonce`, so nothing binds the code to the
/// browser: the preset **does not build** without
/// [`insecure_allow_code_injection`](RemoteAppBuilder::insecure_allow_code_injection)
/// (RFC 9700 §4.5).
#[derive(Debug)]
pub struct BoxCom;

impl Provider for BoxCom {
    const NAME: &'static str = "box";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://account.box.com/api/oauth2/authorize")
            .access_token_url("https://api.box.com/oauth2/token")
            .revocation_url("https://api.box.com/oauth2/revoke")
            .base_url("https://api.box.com/2.0/")
            .userinfo_url("users/me")
            .client_auth(ClientAuth::RequestBody)
            .pkce(false)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/id"])
                    .username(Vec::<String>::new())
                    .email(["/login"])
                    .email_verified(EmailVerified::Never),
            )
    }
}
