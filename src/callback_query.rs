//! A callback's query: what the provider sends back with the browser, read once and strictly.

use crate::error::OAuthError;

/// A callback's query, with the parameters RFC 6749 allows once refused when repeated.
pub(crate) struct CallbackQuery(pub(crate) Vec<(String, String)>);

impl CallbackQuery {
    /// Parses a callback's query string: at most 8 KiB, form-encoded, without repeated
    /// protocol parameters.
    pub(crate) fn parse(query: &str) -> Result<Self, OAuthError> {
        if query.len() > 8 * 1024 {
            return Err(OAuthError::malformed("callback", "its query is too long."));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| OAuthError::malformed("callback", "its query is not form-encoded."))?;
        for key in [
            "state",
            "code",
            "error",
            "oauth_token",
            "oauth_verifier",
            "denied",
            "iss",
        ] {
            if pairs.iter().filter(|(k, _)| k == key).count() > 1 {
                return Err(OAuthError::malformed(
                    "callback",
                    format!("`{key}` appears more than once."),
                ));
            }
        }
        Ok(Self(pairs))
    }

    /// The value of parameter `key`, if the callback carries it.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}
