//! The [`Keycloak`] preset.

use super::instance_root;
use crate::{provider::Provider, remote_app::RemoteAppBuilder};

/// Keycloak (OpenID Connect), one realm: [`Keycloak::realm`] names it. Endpoints and keys by
/// discovery; `email_verified` (the realm's own record of it) and `preferred_username` are
/// standard claims. An on-premises server behind a company authority also needs
/// [`root_certificate_pem`](RemoteAppBuilder::root_certificate_pem).
///
/// Keycloak has no shared host: the preset alone does not build, the realm's URL is required.
#[derive(Debug)]
pub struct Keycloak;

impl Keycloak {
    /// The preset for the realm at `realm_url`: the server's URL and the realm, as Keycloak
    /// writes its issuer (`"https://sso.example.com/realms/acme"`; before Keycloak 17
    /// `"https://sso.example.com/auth/realms/acme"`; a bare host name means https). That URL is
    /// the issuer; every endpoint comes from its discovery document.
    pub fn realm(builder: RemoteAppBuilder, realm_url: &str) -> RemoteAppBuilder {
        Self::preset(builder).issuer(instance_root(realm_url, ""))
    }
}

impl Provider for Keycloak {
    const NAME: &'static str = "keycloak";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .requires_host("Keycloak::realm")
            // Revocation: the discovery document's `…/protocol/openid-connect/revoke`.
            .scope(["openid", "profile", "email"])
    }
}
