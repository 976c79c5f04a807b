//! The [`Okta`] preset.

use super::instance_root;
use crate::{provider::Provider, remote_app::RemoteAppBuilder};

/// Okta (OpenID Connect), one org: [`Okta::org`] names it, with its org authorization server or
/// a custom one. Endpoints and keys by discovery; `email_verified` and `preferred_username` (the
/// Okta login) are standard claims.
///
/// Okta has no shared host: the preset alone does not build, the org's URL is required.
#[derive(Debug)]
pub struct Okta;

impl Okta {
    /// The preset for the authorization server at `url`: the org itself
    /// (`"https://dev-123456.okta.com"`, a bare host name means https) or one of its custom
    /// authorization servers (`"https://dev-123456.okta.com/oauth2/default"`,
    /// `…/oauth2/{authorizationServerId}`). That URL is the issuer; every endpoint comes from its
    /// discovery document.
    pub fn org(builder: RemoteAppBuilder, url: &str) -> RemoteAppBuilder {
        Self::preset(builder).issuer(instance_root(url, ""))
    }
}

impl Provider for Okta {
    const NAME: &'static str = "okta";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .requires_host("Okta::org")
            // Revocation: the discovery document's `…/v1/revoke`.
            .scope(["openid", "profile", "email"])
    }
}
