//! The [`Reddit`] preset.

use crate::{
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
};

/// The `User-Agent` the Reddit preset sends: Reddit refuses or throttles generic ones and asks for
/// `<platform>:<app ID>:<version> (by /u/<username>)`; override it with your app's
/// (`.api_header("User-Agent", …)` and `.token_request_header("User-Agent", …)`).
const USER_AGENT: &str = concat!("web:actix-oauth:v", env!("CARGO_PKG_VERSION"));

/// Reddit (OAuth 2). Scopes are comma-separated; the token endpoint takes HTTP Basic only; the
/// API is at `https://oauth.reddit.com` and every call, the token request included, carries a
/// descriptive `User-Agent`. The profile is `/api/v1/me` (`id`, `name`, `icon_img`; scope
/// `identity`); Reddit shares no email.
///
/// # Security
/// Reddit does not support PKCE and has no OpenID Connect `nonce`, so nothing binds the code to
/// the browser: like [`LinkedIn`](super::LinkedIn)'s, the preset **does not build** without
/// [`insecure_allow_code_injection`](RemoteAppBuilder::insecure_allow_code_injection)
/// (RFC 9700 §4.5).
#[derive(Debug)]
pub struct Reddit;

impl Provider for Reddit {
    const NAME: &'static str = "reddit";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://www.reddit.com/api/v1/authorize")
            .access_token_url("https://www.reddit.com/api/v1/access_token")
            .revocation_url("https://www.reddit.com/api/v1/revoke_token")
            .base_url("https://oauth.reddit.com/")
            .userinfo_url("api/v1/me")
            .scope(["identity"])
            .scope_separator(",")
            .pkce(false)
            .token_request_header("User-Agent", USER_AGENT)
            .api_header("User-Agent", USER_AGENT)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/id"])
                    .username(["/name"])
                    .name(["/subreddit/title", "/name"])
                    .picture(["/icon_img"])
                    .email_verified(EmailVerified::Never),
            )
    }
}
