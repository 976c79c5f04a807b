//! The [`Strava`] preset.

use crate::{
    oauth2::ClientAuth,
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
    revocation::Revocation,
};

/// Strava (OAuth 2). Scopes are comma-separated; the client credentials go in the body; the
/// token answer describes the user (`athlete`: `id`, `username`, `firstname`, `lastname`,
/// `profile`), so the profile is read from it
/// ([`profile_from_token_answer`](RemoteAppBuilder::profile_from_token_answer)) with no further
/// call. Strava shares no email.
///
/// # Security
/// Strava documents no PKCE and has no OpenID Connect `nonce`, so nothing binds the code to the
/// browser: the preset **does not build** without
/// [`insecure_allow_code_injection`](RemoteAppBuilder::insecure_allow_code_injection)
/// (RFC 9700 §4.5).
#[derive(Debug)]
pub struct Strava;

impl Provider for Strava {
    const NAME: &'static str = "strava";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://www.strava.com/oauth/authorize")
            .access_token_url("https://www.strava.com/oauth/token")
            .base_url("https://www.strava.com/api/v3/")
            .scope(["read"])
            .scope_separator(",")
            .authorize_param("approval_prompt", "auto")
            .client_auth(ClientAuth::RequestBody)
            .pkce(false)
            .profile_from_token_answer(true)
            // Only `oauth/deauthorize`, not RFC 7009.
            .revocation(Revocation::None)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/athlete/id"])
                    .username(["/athlete/username"])
                    .name(["{/athlete/firstname} {/athlete/lastname}"])
                    .picture(["/athlete/profile"])
                    .email_verified(EmailVerified::Never),
            )
    }
}
