//! The values the crate uses unless told otherwise; each has a setter on
//! [`OAuth`](crate::OAuth) or [`RemoteAppBuilder`](crate::RemoteAppBuilder) that names it.

use std::time::Duration;

/// How many handshakes one browser may have pending at once: 5.
pub const MAX_PENDING: usize = 5;
/// The limit on the session cookie's size (`name=value`, in bytes): 4096, what every browser
/// keeps.
pub const MAX_SESSION_BYTES: usize = 4096;
/// How long a begun handshake stays valid: 10 minutes.
pub const HANDSHAKE_LIFETIME: Duration = Duration::from_secs(600);
/// The timeout of one outbound request, from connect to the last body byte: 10 seconds.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The cap on the size of a provider's answer: 1 MiB.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// The `User-Agent` the crate sends: `actix-oauth/` and its version.
pub const USER_AGENT: &str = concat!("actix-oauth/", env!("CARGO_PKG_VERSION"));
/// The oldest a back-channel logout token may be (its `iat`, beyond the clock skew): 5 minutes.
/// Its `jti` is remembered as long, so a replay within it is refused.
pub const LOGOUT_TOKEN_MAX_AGE: Duration = Duration::from_secs(300);
/// The longest one call to a shared store (the token store, the session store) may take before
/// the request is answered `503` ([`OAuthError::Unavailable`](crate::OAuthError::Unavailable)):
/// 3 seconds.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(3);
