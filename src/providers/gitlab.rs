//! The [`GitLab`] preset.

use crate::{profile::ProfileMap, provider::Provider, remote_app::RemoteAppBuilder};

use super::instance_root;

/// GitLab.com (OpenID Connect); [`GitLab::self_managed`] for a self-managed instance. The
/// handle is the `nickname` claim.
#[derive(Debug)]
pub struct GitLab;

impl GitLab {
    /// The preset for a self-managed GitLab at `url` (`"https://gitlab.example.com"`, with the
    /// relative URL root it may be installed under; a bare host name means https): that URL is
    /// the issuer the endpoints and keys are discovered from, and API calls go to its
    /// `/api/v4/`. Nothing goes to gitlab.com.
    pub fn self_managed(builder: RemoteAppBuilder, url: &str) -> RemoteAppBuilder {
        Self::at(builder, &instance_root(url, "/api/v4"))
    }

    fn at(builder: RemoteAppBuilder, root: &str) -> RemoteAppBuilder {
        builder
            .issuer(root)
            // Revocation: the discovery document's `{root}/oauth/revoke`.
            .base_url(format!("{root}/api/v4/"))
            .scope(["openid", "profile", "email"])
            .profile_map(
                ProfileMap::standard()
                    .username(["/nickname", "/preferred_username"])
                    .picture(["/picture", "/avatar_url"]),
            )
    }
}

impl Provider for GitLab {
    const NAME: &'static str = "gitlab";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        Self::at(builder, "https://gitlab.com")
    }
}
