//! OAuth 1.0a's secret protocol values, each in a type that never prints it, like `oauth2`'s
//! `ClientSecret` and `PkceCodeVerifier`: `Debug` shows `[redacted]`, there is no `Display`,
//! and no `PartialEq` (compare secrets in constant time, deliberately).

use std::fmt;

macro_rules! secret_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub(crate) struct $name(String);

        impl $name {
            /// Wraps a secret value.
            pub(crate) fn new(secret: String) -> Self {
                Self(secret)
            }

            /// The secret itself, for the one place that must send or sign with it.
            pub(crate) fn secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_type!(
    /// A token secret (RFC 5849 §2.1 and §2.3): of the temporary credentials while the user
    /// authorizes, of the token credentials afterwards. Half of every signature's key.
    TokenSecret
);

secret_type!(
    /// The `oauth_verifier` the provider sends back with the browser (RFC 5849 §2.2): with the
    /// temporary credentials, it buys the token credentials.
    Verifier
);

#[cfg(test)]
mod tests {
    use super::{TokenSecret, Verifier};

    #[test]
    fn debug_shows_no_secret() {
        let shown = format!(
            "{:?} {:?}",
            TokenSecret::new("ts-sekrit".to_owned()),
            Verifier::new("v-sekrit".to_owned())
        );
        assert_eq!(shown, "TokenSecret([redacted]) Verifier([redacted])");
    }
}
