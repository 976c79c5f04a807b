//! The [`Salesforce`] preset.

use super::instance_root;
use crate::{
    oauth2::ClientAuth, profile::ProfileMap, provider::Provider, remote_app::RemoteAppBuilder,
};

/// Salesforce (OpenID Connect), production orgs through `https://login.salesforce.com`;
/// [`Salesforce::my_domain`] for an org's My Domain or a sandbox (`test.salesforce.com`).
/// Endpoints and keys by discovery; the client credentials go in the body. The subject is the
/// user id (`user_id` of the user info; the `id_token`'s `sub` is the identity URL); the email
/// counts as verified by the `email_verified` claim; the handle is `preferred_username` (the
/// Salesforce username).
///
/// API calls go to the org's instance, which only [`Salesforce::my_domain`] names; with the
/// plain preset, the token answer's `instance_url` is in
/// [`TokenResponse::extra`](crate::TokenResponse::extra).
#[derive(Debug)]
pub struct Salesforce;

impl Salesforce {
    /// The preset for the host `host`: an org's My Domain (`"acme.my.salesforce.com"`), a
    /// sandbox's (`"acme--dev.sandbox.my.salesforce.com"`), or `"test.salesforce.com"` for any
    /// sandbox (a bare host name means https). That URL is the issuer and the API base.
    pub fn my_domain(builder: RemoteAppBuilder, host: &str) -> RemoteAppBuilder {
        let root = instance_root(host, "");
        Self::preset(builder)
            .issuer(root.clone())
            .base_url(format!("{root}/"))
    }
}

impl Provider for Salesforce {
    const NAME: &'static str = "salesforce";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .issuer("https://login.salesforce.com")
            // Revocation: the discovery document's `/services/oauth2/revoke`.
            .scope(["openid", "profile", "email"])
            .client_auth(ClientAuth::RequestBody)
            .profile_map(ProfileMap::standard().subject(["/user_id", "/sub"]))
    }
}
