//! The [`Yahoo`] preset.

use crate::{profile::ProfileMap, provider::Provider, remote_app::RemoteAppBuilder};

/// Yahoo (OpenID Connect). Endpoints and keys by discovery from
/// `https://api.login.yahoo.com`; the email counts as verified by Yahoo's `email_verified`
/// claim; the handle is `nickname`.
#[derive(Debug)]
pub struct Yahoo;

impl Provider for Yahoo {
    const NAME: &'static str = "yahoo";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .issuer("https://api.login.yahoo.com")
            // Revocation: none in the discovery document.
            .scope(["openid", "profile", "email"])
            .profile_map(ProfileMap::standard().username(["/preferred_username", "/nickname"]))
    }
}
