//! Token revocation at the provider (RFC 7009, and GitHub's grant deletion): how a remote app
//! revokes, and [`OAuthExtension::revoke_token`].

use crate::{error::OAuthError, extension::OAuthExtension, token::TokenResponse};

/// How a remote app's tokens are revoked at its provider when a user signs out, unlinks an
/// identity or is deleted. Set with
/// [`RemoteAppBuilder::revocation`](crate::RemoteAppBuilder::revocation) or
/// [`revocation_url`](crate::RemoteAppBuilder::revocation_url); presets say what their provider
/// offers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Revocation {
    /// The `revocation_endpoint` of the provider's discovery document (OpenID Connect), if it
    /// has one; for a remote app without discovery, none. The default.
    #[default]
    Discovered,
    /// An RFC 7009 revocation endpoint (absolute, or relative to `base_url`): the refresh token
    /// is revoked (`token_type_hint=refresh_token`), then the access token, each a form `POST`
    /// with the client authentication of the token endpoint.
    Endpoint(String),
    /// GitHub's grant deletion API: `DELETE {base_url}applications/{client_id}/grant` with HTTP
    /// Basic client authentication and the access token in a JSON body. It deletes the whole
    /// grant: every token the user gave this app, and the app's authorization.
    GitHubGrant,
    /// The provider offers no revocation: signing out forgets its tokens (server-side) and
    /// nothing more.
    None,
}

impl OAuthExtension {
    /// Revokes `token` at remote app `provider`'s revocation endpoint: its refresh token, then
    /// its access token ([RFC 7009]), or the whole grant for [`Revocation::GitHubGrant`].
    ///
    /// `Ok(false)` when the provider offers no revocation ([`Revocation::None`], no endpoint
    /// discovered, or OAuth 1.0a); `Ok(true)` when the provider confirmed it. An access token the
    /// provider refuses to revoke after its refresh token was revoked (some revoke both at once
    /// and then answer `invalid_token`) is not an error.
    ///
    /// [`sign_out`](Self::sign_out) calls this for every token of the session; the accounts'
    /// `unlink` and `delete_user` for the identity's stored tokens.
    ///
    /// # Errors
    /// [`OAuthError::Provider`] with the provider's error, [`OAuthError::UnexpectedStatus`],
    /// transport errors and timeouts as for the token endpoint.
    ///
    /// [RFC 7009]: https://www.rfc-editor.org/rfc/rfc7009#section-2
    pub async fn revoke_token(
        &self,
        provider: &str,
        token: &TokenResponse,
    ) -> Result<bool, OAuthError> {
        let app = self.remote_app(provider)?;
        app.protocol
            .revoke(self.http_for(app), &app.credentials, &app.base_url, token)
            .await
    }

    /// Revokes `token`, logging a failure by its kind only: what sign-out and account removal
    /// do, which must not be held up by a provider that cannot be reached.
    pub(crate) async fn revoke_quietly(&self, provider: &str, token: &TokenResponse) {
        match self.revoke_token(provider, token).await {
            Ok(true) => log::debug!("actix-oauth: revoked the tokens of `{provider}`"),
            Ok(false) => {}
            Err(e) => log::warn!(
                "actix-oauth: revoking the tokens of `{provider}` failed ({}); they are forgotten here all the same",
                e.kind()
            ),
        }
    }
}
