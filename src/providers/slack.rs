//! The [`Slack`] preset.

use crate::{
    oauth2::ClientAuth, provider::Provider, remote_app::RemoteAppBuilder, revocation::Revocation,
};

/// Slack ("Sign in with Slack", OpenID Connect). Slack's Web API answers errors with status 200
/// and `{"ok": false, "error": "…"}`, read as provider errors; the team is in the
/// `https://slack.com/team_id` claim of [`Profile::raw`](crate::Profile::raw).
#[derive(Debug)]
pub struct Slack;

impl Provider for Slack {
    const NAME: &'static str = "slack";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .issuer("https://slack.com")
            // Only the Web API's own `auth.revoke`, not RFC 7009.
            .revocation(Revocation::None)
            .base_url("https://slack.com/api/")
            .scope(["openid", "profile", "email"])
            .client_auth(ClientAuth::RequestBody)
    }
}
