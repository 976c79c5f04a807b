//! A callback's query: what the provider sends back with the browser, read once and strictly.

use crate::error::OAuthError;

/// The callback parameters RFC 6749, RFC 5849 and RFC 9207 allow once: a callback repeating
/// one is refused.
pub(crate) const SINGLE_VALUED: &[&str] = &[
    "state",
    "code",
    "error",
    "oauth_token",
    "oauth_verifier",
    "denied",
    "iss",
];

/// The most bytes a callback's query (or POSTed form) may have.
pub(crate) const MAX_CALLBACK_BYTES: usize = 8 * 1024;

/// A callback's query, with the parameters RFC 6749 allows once refused when repeated.
pub(crate) struct CallbackQuery(pub(crate) Vec<(String, String)>);

impl CallbackQuery {
    /// Parses a callback's query string: at most 8 KiB, form-encoded, without repeated
    /// protocol parameters.
    pub(crate) fn parse(query: &str) -> Result<Self, OAuthError> {
        if query.len() > MAX_CALLBACK_BYTES {
            return Err(OAuthError::malformed("callback", "its query is too long."));
        }
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| OAuthError::malformed("callback", "its query is not form-encoded."))?;
        for &key in SINGLE_VALUED {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_parameters_allowed_once_are_refused_when_repeated() {
        for &key in SINGLE_VALUED {
            let once = format!("{key}=a&other=b");
            assert!(CallbackQuery::parse(&once).is_ok(), "{once}");
            let twice = format!("{key}=a&other=b&{key}=a");
            let err = CallbackQuery::parse(&twice).err().expect(&twice);
            assert_eq!(err.kind(), crate::ErrorKind::Malformed, "{twice}");
        }
        let q = CallbackQuery::parse("state=s&x=1&x=2").expect("other keys may repeat");
        assert_eq!(q.get("state"), Some("s"));
        assert_eq!(q.get("x"), Some("1"));
        let long = format!("state=s&pad={}", "a".repeat(8 * 1024));
        assert!(CallbackQuery::parse(&long).is_err(), "over 8 KiB");
        let fits = format!("state=s&pad={}", "a".repeat(8 * 1024 - 12));
        assert_eq!(fits.len(), 8 * 1024);
        assert!(CallbackQuery::parse(&fits).is_ok(), "8 KiB exactly");
    }
}
