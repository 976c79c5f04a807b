//! The [`Authentik`] preset.

use super::instance_root;
use crate::{
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
};

/// authentik (OpenID Connect), one application of an instance: [`Authentik::application`] names
/// it. Endpoints and keys by discovery from the application's issuer
/// (`https://HOST/application/o/SLUG/`, with its final `/`).
///
/// # Security
/// authentik keeps no record of whether an address was verified: before 2025.10 its default
/// `email` scope mapping said `email_verified: true` for every address, since 2025.10 `false`
/// (authentik docs, "Scope mappings"; goauthentik/authentik#16205). So the email never counts
/// as verified. If your instance verifies addresses and maps the claim accordingly, read it
/// with `.profile_map(ProfileMap::standard())`.
///
/// authentik has no shared host: the preset alone does not build, the application's issuer is
/// required.
#[derive(Debug)]
pub struct Authentik;

impl Authentik {
    /// The preset for the application whose issuer is `url`, as authentik's provider page shows
    /// it: `"https://authentik.example.com/application/o/my-app/"` (the final `/` may be left
    /// out; a bare host name means https). Every endpoint comes from its discovery document.
    pub fn application(builder: RemoteAppBuilder, url: &str) -> RemoteAppBuilder {
        let root = instance_root(url, "");
        Self::preset(builder).issuer(format!("{root}/"))
    }
}

impl Provider for Authentik {
    const NAME: &'static str = "authentik";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .requires_host("Authentik::application")
            // Revocation: the discovery document's `/application/o/revoke/`.
            .scope(["openid", "profile", "email"])
            .profile_map(ProfileMap::standard().email_verified(EmailVerified::Never))
    }
}
