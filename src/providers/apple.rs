//! Sign in with Apple.

use crate::{
    oauth2::{ClientAuth, ResponseMode},
    profile::ProfileMap,
    provider::Provider,
    remote_app::RemoteAppBuilder,
};

/// Sign in with Apple (OpenID Connect, discovered from `https://appleid.apple.com`).
///
/// What Apple does that others do not, and what the preset does about it:
///
/// - **The answer is a cross-site POST** (`response_mode=form_post`, required when asking for
///   the name or email): the preset sets [`ResponseMode::FormPost`], which completes it without
///   any `SameSite=None` cookie (see there).
/// - **The client secret is a JWT** the app signs with its Sign in with Apple private key (ES256,
///   `iss` the team id, `sub` the Services ID, `aud` `https://appleid.apple.com`, at most six
///   months long): [`Apple::signed_with`] mints it, caches it and mints a new one before it
///   expires (feature `private-key-jwt`). It is sent in the body (`client_secret_post`).
/// - **The name arrives once**, as the `user` JSON of the very first sign-in's callback, never
///   in the ID token: it is kept with the token ([`callback_json_param`]), and the profile's name
///   is read from it. Store it at that first sign-in; the accounts layer does.
/// - **`email_verified` and `is_private_email` may be strings** (`"true"`) or booleans: both
///   are read. A "Hide My Email" relay address is marked
///   [`Profile::private_email`](crate::Profile::private_email).
/// - **No PKCE**: Apple documents none, so the preset sends none and relies on the ID token's
///   `nonce` (required, as for every OpenID Connect app) to bind the code to the browser.
/// - **No user info endpoint**: the profile comes from the ID token (and `user`).
/// - **A declined sign-in is `user_cancelled_authorize`**, not `access_denied`: read as declined.
///
/// [`callback_json_param`]: RemoteAppBuilder::callback_json_param
///
/// ```no_run
/// # #[cfg(feature = "private-key-jwt")]
/// # fn main() -> Result<(), actix_oauth::OAuthError> {
/// use actix_oauth::{providers::Apple, ClientKey, OAuth, RemoteApp};
///
/// let key = ClientKey::from_pem(&std::fs::read_to_string("AuthKey_ABC123DEFG.p8").unwrap())?
///     .key_id("ABC123DEFG");
/// let oauth = OAuth::new()
///     .remote_app(Apple::signed_with(
///         RemoteApp::from_provider::<Apple>("com.example.web", ""),
///         "TEAMID1234",
///         key,
///     ))
///     .public_url("https://app.example")
///     .build()?;
/// # let _ = oauth; Ok(()) }
/// # #[cfg(not(feature = "private-key-jwt"))] fn main() {}
/// ```
#[derive(Debug)]
pub struct Apple;

/// Apple's issuer, and the audience of its client secrets.
const APPLE_ISSUER: &str = "https://appleid.apple.com";

impl Apple {
    /// The preset signing its client secrets with `key` (Apple's `.p8` key, with its Key ID)
    /// for team `team_id`: each secret lives 24 hours (change it with
    /// [`MintedSecret::lifetime`](crate::MintedSecret::lifetime) through
    /// [`minted_client_secret`](RemoteAppBuilder::minted_client_secret)), and no fixed client
    /// secret is needed.
    #[cfg(feature = "private-key-jwt")]
    pub fn signed_with(
        builder: RemoteAppBuilder,
        team_id: &str,
        key: crate::ClientKey,
    ) -> RemoteAppBuilder {
        builder.client_key(key).minted_client_secret(
            crate::MintedSecret::new(team_id, APPLE_ISSUER).only(crate::SigningAlgorithm::Es256),
        )
    }
}

impl Provider for Apple {
    const NAME: &'static str = "apple";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .issuer(APPLE_ISSUER)
            // Revocation: the discovery document's `https://appleid.apple.com/auth/revoke`.
            .scope(["openid", "name", "email"])
            .response_mode(ResponseMode::FormPost)
            .client_auth(ClientAuth::RequestBody)
            .pkce(false)
            .callback_json_param("user")
            // "The user canceled the authorization attempt" (Apple's error for a declined
            // sign-in, where RFC 6749 says `access_denied`).
            .denial_error("user_cancelled_authorize")
            .profile_map(
                ProfileMap::standard()
                    .subject(["/sub"])
                    .name([
                        "{/user/name/firstName} {/user/name/lastName}",
                        "/user/name/firstName",
                        "/user/name/lastName",
                    ])
                    .username(Vec::<String>::new())
                    .picture(Vec::<String>::new())
                    .private_email(["/is_private_email"]),
            )
    }
}
