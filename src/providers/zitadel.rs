//! The [`Zitadel`] preset.

use super::instance_root;
use crate::{provider::Provider, remote_app::RemoteAppBuilder};

/// ZITADEL (OpenID Connect), one instance, in ZITADEL Cloud or self-hosted: [`Zitadel::instance`]
/// names it. Endpoints and keys by discovery; `email_verified` (ZITADEL's record of the
/// verification) and `preferred_username` (the login name) are standard claims.
///
/// ZITADEL has no shared host: the preset alone does not build, the instance's URL is required.
#[derive(Debug)]
pub struct Zitadel;

impl Zitadel {
    /// The preset for the instance at `url` (`"https://acme-abc123.zitadel.cloud"`, or a custom
    /// domain; a bare host name means https). That URL is the issuer; every endpoint comes from
    /// its discovery document.
    pub fn instance(builder: RemoteAppBuilder, url: &str) -> RemoteAppBuilder {
        Self::preset(builder).issuer(instance_root(url, ""))
    }
}

impl Provider for Zitadel {
    const NAME: &'static str = "zitadel";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .requires_host("Zitadel::instance")
            // Revocation: the discovery document's `/oauth/v2/revoke`.
            .scope(["openid", "profile", "email"])
    }
}
