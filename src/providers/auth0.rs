//! The [`Auth0`] preset.

use super::instance_root;
use crate::{profile::ProfileMap, provider::Provider, remote_app::RemoteAppBuilder};

/// Auth0 (OpenID Connect), one tenant: [`Auth0::domain`] names it. Endpoints and keys by
/// discovery from `https://DOMAIN/` (the issuer ends with `/`, as Auth0 writes `iss`); the email
/// counts as verified by Auth0's `email_verified` claim (false for a database connection until
/// the user follows the verification link); the handle is `nickname`.
///
/// Auth0 has no shared host: the preset alone does not build, the tenant's domain is required.
#[derive(Debug)]
pub struct Auth0;

impl Auth0 {
    /// The preset for the tenant at `domain`: `"dev-abc123.us.auth0.com"` or a custom domain
    /// (`"login.example.com"`; a bare host name means https). The issuer is `https://DOMAIN/`,
    /// and every endpoint comes from its discovery document.
    pub fn domain(builder: RemoteAppBuilder, domain: &str) -> RemoteAppBuilder {
        let root = instance_root(domain, "");
        Self::preset(builder).issuer(format!("{root}/"))
    }
}

impl Provider for Auth0 {
    const NAME: &'static str = "auth0";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .requires_host("Auth0::domain")
            // Revocation: the discovery document's `/oauth/revoke`.
            .scope(["openid", "profile", "email"])
            .profile_map(ProfileMap::standard().username(["/preferred_username", "/nickname"]))
    }
}
