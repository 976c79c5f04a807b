//! The [`Patreon`] preset.

use crate::{
    oauth2::ClientAuth,
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
    revocation::Revocation,
};

/// Patreon (OAuth 2, API v2). The profile is the JSON:API document of `/identity`, whose fields
/// must be asked for (`fields[user]=…`): `data.id`, and in `data.attributes` `full_name`,
/// `vanity`, `image_url`, `email` and `is_email_verified`, which the verification follows
/// (scopes `identity identity[email]`). The client credentials go in the body.
///
/// # Security
/// Patreon documents no PKCE and has no OpenID Connect `nonce`, so nothing binds the code to the
/// browser: the preset **does not build** without
/// [`insecure_allow_code_injection`](RemoteAppBuilder::insecure_allow_code_injection)
/// (RFC 9700 §4.5).
#[derive(Debug)]
pub struct Patreon;

impl Provider for Patreon {
    const NAME: &'static str = "patreon";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://www.patreon.com/oauth2/authorize")
            .base_url("https://www.patreon.com/api/oauth2/")
            .access_token_url("token")
            .userinfo_url(
                "v2/identity?fields%5Buser%5D=email,full_name,image_url,is_email_verified,vanity",
            )
            .scope(["identity", "identity[email]"])
            .client_auth(ClientAuth::RequestBody)
            .pkce(false)
            // Patreon documents no revocation endpoint.
            .revocation(Revocation::None)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/data/id"])
                    .name(["/data/attributes/full_name"])
                    .username(["/data/attributes/vanity"])
                    .picture(["/data/attributes/image_url"])
                    .email(["/data/attributes/email"])
                    .email_verified(EmailVerified::Claim(vec![
                        "/data/attributes/is_email_verified".into(),
                    ])),
            )
    }
}
