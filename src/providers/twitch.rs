//! The [`Twitch`] preset.

use crate::{oauth2::ClientAuth, provider::Provider, remote_app::RemoteAppBuilder};

/// Twitch (OpenID Connect). The token endpoint wants the client credentials in the body and
/// answers `scope` as a JSON array; the email, its verification and the picture come only when
/// asked for through the `claims` parameter, which the preset sends; Helix API calls carry the
/// `Client-Id` header.
#[derive(Debug)]
pub struct Twitch;

impl Provider for Twitch {
    const NAME: &'static str = "twitch";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .issuer("https://id.twitch.tv/oauth2")
            .revocation_url("https://id.twitch.tv/oauth2/revoke")
            .base_url("https://api.twitch.tv/helix/")
            .scope(["openid", "user:read:email"])
            .client_auth(ClientAuth::RequestBody)
            .client_id_header("Client-Id")
            .authorize_param("claims", TWITCH_CLAIMS)
    }
}

/// The claims Twitch must be asked for to include them (OpenID Connect Core §5.5).
const TWITCH_CLAIMS: &str = r#"{"id_token":{"email":null,"email_verified":null,"preferred_username":null,"picture":null},"userinfo":{"email":null,"email_verified":null,"preferred_username":null,"picture":null}}"#;
