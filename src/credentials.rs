//! What every protocol shares about this client at its provider: the credentials the provider
//! issued, and the HTTP methods of its token and user info requests.

use ::oauth2::{ClientId, ClientSecret};

/// The client id and secret (OAuth 2), or consumer key and secret (OAuth 1.0a).
///
/// # Security
/// The secret is `oauth2`'s [`ClientSecret`]: its `Debug` prints `[redacted]`.
#[derive(Debug)]
pub(crate) struct Credentials {
    pub(crate) id: ClientId,
    pub(crate) secret: ClientSecret,
}

/// The HTTP method used on the access token URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenMethod {
    /// A form-encoded `POST`, as RFC 6749 §4.1.3 requires. Default.
    #[default]
    Post,
    /// Parameters in the query of a `GET`, as older Facebook Graph API versions accepted.
    Get,
}

/// How the user info endpoint is asked ([`RemoteAppBuilder::userinfo_method`]).
///
/// [`RemoteAppBuilder::userinfo_method`]: crate::RemoteAppBuilder::userinfo_method
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserinfoMethod {
    /// `GET` (OpenID Connect Core §5.3.1 and most providers).
    #[default]
    Get,
    /// `POST` with an empty body and no content type (Dropbox's RPC-style
    /// `users/get_current_account`).
    Post,
}

#[cfg(test)]
mod tests {
    use super::Credentials;

    #[test]
    fn debug_shows_no_secret() {
        let credentials = Credentials {
            id: ::oauth2::ClientId::new("the-id".to_owned()),
            secret: ::oauth2::ClientSecret::new("the-sekrit".to_owned()),
        };
        let shown = format!("{credentials:?}");
        assert!(shown.contains("the-id"), "{shown}");
        assert!(!shown.contains("sekrit"), "{shown}");
    }
}
