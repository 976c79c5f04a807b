//! How a remote app's tokens are revoked at its provider (RFC 7009, GitHub's grant deletion):
//! [`Revocation`]. The requests are in `oauth2/revocation.rs`;
//! [`OAuthExtension::revoke_token`](crate::OAuthExtension::revoke_token) in `logout.rs`.

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
