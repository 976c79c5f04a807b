//! The [`LinkedIn`] preset.

use crate::{oauth2::ClientAuth, provider::Provider, remote_app::RemoteAppBuilder};

/// LinkedIn ("Sign In with LinkedIn using OpenID Connect"). The token endpoint wants the client
/// credentials in the body and answers without `token_type`.
///
/// # Security
/// LinkedIn binds nothing to the browser by default: its `id_token`s carry no `nonce` (a present
/// one must still match), and it refuses a PKCE `code_verifier` unless it enabled PKCE for the
/// app on request (its "native PKCE" flow). So the preset turns both off and **does not build**
/// as it stands: turn [`pkce`](RemoteAppBuilder::pkce) on for an app LinkedIn enabled PKCE
/// for, or accept authorization code injection (RFC 9700 §4.5) with
/// [`insecure_allow_code_injection`](RemoteAppBuilder::insecure_allow_code_injection).
#[derive(Debug)]
pub struct LinkedIn;

impl Provider for LinkedIn {
    const NAME: &'static str = "linkedin";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .issuer("https://www.linkedin.com/oauth")
            .revocation_url("https://www.linkedin.com/oauth/v2/revoke")
            .base_url("https://api.linkedin.com/v2/")
            .scope(["openid", "profile", "email"])
            .client_auth(ClientAuth::RequestBody)
            .pkce(false)
            .require_nonce(false)
    }
}
