//! What every protocol shares about this client at its provider: the credentials the provider
//! issued, and the HTTP method of its token requests.

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
