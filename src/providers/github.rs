//! The [`GitHub`] preset.

use crate::{
    oauth2::ClientAuth, profile::ProfileMap, provider::Provider, remote_app::RemoteAppBuilder,
    revocation::Revocation,
};

use super::instance_root;

/// GitHub (OAuth 2). Its token endpoint answers form-encoded unless asked for JSON
/// (`Accept: application/json` is sent), writes `token_type` as lowercase `bearer`, and reports
/// errors with status 200; all handled. `/user` shows only the *public* email and never says
/// whether it is verified, so the profile takes the primary verified address from
/// `/user/emails` (scope `user:email`). Both are written relative to the API base, so a
/// [`base_url`](RemoteAppBuilder::base_url) override moves them; [`GitHub::enterprise`] moves
/// every URL to a GitHub Enterprise Server.
#[derive(Debug)]
pub struct GitHub;

impl GitHub {
    /// The preset for GitHub Enterprise Server at `host` (`"https://github.corp.example"`; a bare
    /// host name means https, and the API URL `https://HOST/api/v3/` is accepted too): sign-in at
    /// `https://HOST/login/oauth/…`, the API, the user and the email list at
    /// `https://HOST/api/v3/`. Nothing goes to github.com.
    pub fn enterprise(builder: RemoteAppBuilder, host: &str) -> RemoteAppBuilder {
        let root = instance_root(host, "/api/v3");
        Self::preset(builder)
            .authorize_url(format!("{root}/login/oauth/authorize"))
            .access_token_url(format!("{root}/login/oauth/access_token"))
            .base_url(format!("{root}/api/v3/"))
    }
}

impl Provider for GitHub {
    const NAME: &'static str = "github";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://github.com/login/oauth/authorize")
            .access_token_url("https://github.com/login/oauth/access_token")
            .base_url("https://api.github.com/")
            .userinfo_url("user")
            .emails_url("user/emails")
            .scope(["read:user", "user:email"])
            .client_auth(ClientAuth::RequestBody)
            .token_request_header("Accept", "application/json")
            // No RFC 7009 endpoint; deleting the grant revokes every token the user gave the app.
            .revocation(Revocation::GitHubGrant)
            .profile_map(
                ProfileMap::standard()
                    .subject(["/id"])
                    .username(["/login"])
                    .picture(["/avatar_url"]),
            )
    }
}
