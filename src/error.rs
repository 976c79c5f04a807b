//! The one error type of the crate, [`OAuthError`], and its stable [`ErrorKind`].

use std::fmt;

use actix_web::{http::StatusCode, HttpResponse, ResponseError};

/// The most bytes of a provider's error body an [`OAuthError`] keeps.
const MAX_KEPT_BODY: usize = 1024;

/// The `Retry-After` of a `503` for [`OAuthError::Unavailable`], in seconds.
pub(crate) const RETRY_AFTER_SECS: u32 = 5;

/// Everything that can go wrong while signing a user in or calling a provider.
///
/// Each variant has a stable [`ErrorKind`] (see [`OAuthError::kind`]) that is safe to match on,
/// log, or send to a client. In an actix handler the error renders as a short HTML page with a
/// deliberate status code (see [`ResponseError`]); nothing in it ever contains a secret or token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The extension or a remote app is misconfigured; found when the app is built, or when a
    /// handler asks for a provider that was never registered.
    #[error("The OAuth configuration is invalid: {0}")]
    Configuration(String),

    /// The user declined the authorization request at the provider (RFC 6749 §4.1.2.1
    /// `access_denied`, or OAuth 1.0a's `denied`).
    #[error("The sign-in was declined at the provider.")]
    Denied,

    /// The callback carries no `state`, or this browser session has no sign-in in progress.
    #[error("The sign-in could not be completed: {0}")]
    StateMissing(&'static str),

    /// The callback's `state` matches no sign-in this browser session started (forged, replayed
    /// or expired).
    #[error("The sign-in could not be completed: the callback does not belong to a sign-in started in this browser, or it was already used.")]
    StateMismatch,

    /// The provider answered with an OAuth error (RFC 6749 §5.2 or §4.1.2.1).
    #[error("The provider refused the request: {error}{}", .description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Provider {
        /// The provider's `error` code, e.g. `invalid_grant`.
        error: String,
        /// The provider's `error_description`, if any.
        description: Option<String>,
        /// The provider's `error_uri`, if any.
        uri: Option<String>,
        /// The HTTP status of the provider's answer; `None` for errors delivered in a callback.
        status: Option<u16>,
    },

    /// The provider answered with an HTTP status that is neither success nor an OAuth error body.
    #[error("The provider answered with HTTP status {status}.")]
    UnexpectedStatus {
        /// The HTTP status code.
        status: u16,
        /// The start of the body (at most 1 KiB), as text.
        body: String,
    },

    /// The provider could not be reached or the connection broke.
    #[error("The provider could not be reached: {0}")]
    Transport(String),

    /// The secure connection to the provider failed: above all, its certificate is not signed
    /// by a certificate authority this app trusts (see
    /// [`OAuth::root_certificate_pem`](crate::OAuth::root_certificate_pem) and
    /// [`OAuth::native_roots`](crate::OAuth::native_roots)), is expired, or names another host.
    #[error("The secure connection to the provider failed: {0}")]
    Tls(String),

    /// The provider did not answer within the configured timeout.
    #[error("The provider did not answer within {0:?}.")]
    Timeout(std::time::Duration),

    /// The provider's answer was larger than the configured limit.
    #[error("The provider's answer was larger than {limit} bytes.")]
    ResponseTooLarge {
        /// The limit in bytes.
        limit: usize,
    },

    /// The provider's answer, or a callback, could not be understood.
    #[error("The {what} could not be understood: {reason}")]
    Malformed {
        /// What was being read, e.g. "token response" or "callback".
        what: &'static str,
        /// Why it was rejected.
        reason: String,
    },

    /// An API call asked for a URL its token must not travel to: neither under the remote app's
    /// `base_url` nor on one of its `api_origin`s (or not a URL at all). Nothing was sent.
    #[error("The request was refused before it was sent: {0}")]
    UrlRefused(String),

    /// No token is available for the call, e.g. the user is not signed in with that provider.
    #[error("No {0} token is available; sign the user in first.")]
    TokenMissing(String),

    /// The session could not be read or written.
    #[error("The session could not be used: {0}")]
    Session(String),

    /// The server-side token store could not be used (see
    /// [`TokenStore`](crate::token_store::TokenStore)).
    #[error("The token store could not be used: {0}")]
    TokenStore(String),

    /// The session would outgrow what a browser keeps in a cookie: the sign-in is refused with
    /// this page instead of a cookie the browser would silently drop (see
    /// [`OAuth::max_session_bytes`](crate::OAuth::max_session_bytes)).
    #[error("The session is too large to keep ({bytes} bytes, at most {limit}); sign out and try again.")]
    SessionTooLarge {
        /// The estimated size of the session cookie, in bytes.
        bytes: usize,
        /// The configured limit.
        limit: usize,
    },

    /// The user's token expired and could not be refreshed: sign the user in again.
    #[error("The sign-in with {provider} has expired; please sign in again ({reason}).")]
    ReauthenticationRequired {
        /// The remote app's name.
        provider: String,
        /// Why the token could not be renewed.
        reason: String,
    },

    /// The accounts database could not be used (feature `accounts`).
    #[error("The accounts database could not be used: {0}")]
    Storage(String),

    /// A shared part the app depends on (the session store, the token store, the accounts
    /// database) cannot be reached or did not answer in time: the request is answered `503
    /// Service Unavailable` with `Retry-After`, and the same request succeeds once the part is
    /// back.
    #[error("The {0} cannot be reached right now; please try again in a moment.")]
    Unavailable(&'static str),

    /// The request contradicts stored accounts: the identity already belongs to another user, or
    /// it is the user's last one (feature `accounts`).
    #[error("The accounts could not be changed: {0}")]
    Conflict(String),

    /// A form that changes the signed-in user's account (such as linking a new identity) came
    /// without this session's CSRF token (see
    /// [`OAuthExtension::csrf_token`](crate::OAuthExtension::csrf_token)).
    #[error("The request did not come from this site's own form (CSRF token missing or wrong).")]
    CsrfMismatch,

    /// The OpenID Connect discovery document could not be fetched or is not acceptable (wrong
    /// `issuer`, missing endpoints, plain-http endpoints off loopback).
    #[error("The provider's OpenID Connect configuration could not be used: {0}")]
    Discovery(String),

    /// The callback's `iss` parameter names another authorization server than the one this
    /// sign-in was started with, or the provider advertises `iss` and the callback lacks it
    /// (RFC 9207: the mix-up attack defence).
    #[error("The sign-in response came from another authorization server than expected (mix-up defence, RFC 9207).")]
    IssuerMismatch {
        /// The issuer this sign-in was started with.
        expected: String,
        /// The `iss` the callback carried, if any (at most 256 characters).
        found: Option<String>,
    },

    /// A back-channel logout token was refused for a rule of OpenID Connect Back-Channel Logout
    /// 1.0 §2.6 that ID tokens do not have: no back-channel logout event, neither `sid` nor
    /// `sub`, a `nonce`, no `jti` or one already used, or issued too long ago. (Its signature,
    /// `iss` and `aud` are refused with the ID token kinds.)
    #[error("The logout token was refused: {0}")]
    LogoutToken(&'static str),

    /// The sign-in is not fresh or strong enough for what was asked: the ID token's
    /// `auth_time` is older than the `max_age` asked for, its `acr` is not one of the
    /// `acr_values` asked for, or a sign-in meant to re-authenticate the session's user signed
    /// in someone else (see [`SignInOptions`](crate::SignInOptions) and
    /// [`RequireFreshSignIn`](crate::RequireFreshSignIn)).
    #[error("The sign-in is not recent or strong enough: {0}")]
    InsufficientAuthentication(String),
    /// A device authorization (RFC 8628) ran out before the user approved it: the provider
    /// answered `expired_token` (§3.5), or its `expires_in` passed while polling. Start again
    /// with [`OAuthExtension::device_authorization`](crate::OAuthExtension::device_authorization).
    #[error("The device sign-in expired before it was approved; start it again.")]
    DeviceExpired,

    /// The OpenID Connect `id_token` is missing or failed validation; [`IdTokenError`] says
    /// which check, and each has its own [`ErrorKind`].
    #[error("The provider's ID token was refused: {0}")]
    IdToken(#[from] IdTokenError),
}

/// Why an OpenID Connect `id_token` was refused (OpenID Connect Core §3.1.3.7). Each variant has
/// its own [`ErrorKind`], named in its documentation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdTokenError {
    /// The token response carries no `id_token` although `openid` was requested
    /// (`id_token_missing`).
    #[error("the token response carries no id_token.")]
    Missing,
    /// Not a well-formed compact JWS, or its claims are not the JSON OpenID Connect requires
    /// (`id_token_malformed`).
    #[error("it is not a well-formed JWT ({0}).")]
    Malformed(String),
    /// Signed with an algorithm this remote app does not accept, such as `none` or an HMAC
    /// algorithm (`id_token_algorithm`).
    #[error("its algorithm `{0}` is not accepted.")]
    Algorithm(String),
    /// Signed by a key the provider does not publish in its JWKS, even after refetching it
    /// (`id_token_unknown_key`).
    #[error("it is signed with a key the provider does not publish.")]
    UnknownKey,
    /// The signature does not verify (`id_token_signature`).
    #[error("its signature does not verify.")]
    Signature,
    /// `iss` is not the provider's issuer (`id_token_issuer`).
    #[error("it was issued by another issuer.")]
    Issuer,
    /// `aud` does not contain this app's client id, or `azp` names another client
    /// (`id_token_audience`).
    #[error("it was issued to another client.")]
    Audience,
    /// `exp` has passed (beyond the allowed clock skew) (`id_token_expired`).
    #[error("it has expired.")]
    Expired,
    /// `iat` is in the future beyond the allowed clock skew (`id_token_issued_at`).
    #[error("it claims to be issued in the future.")]
    IssuedAt,
    /// `nonce` is missing or differs from the one this browser's sign-in sent: a replayed or
    /// injected token (`id_token_nonce`).
    #[error("its nonce does not match this sign-in.")]
    Nonce,
    /// The user info endpoint describes another `sub` than the `id_token`
    /// (`id_token_subject`).
    #[error("the user info describes another subject.")]
    Subject,
}

impl IdTokenError {
    /// The stable kind of this failure.
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::Missing => ErrorKind::IdTokenMissing,
            Self::Malformed(_) => ErrorKind::IdTokenMalformed,
            Self::Algorithm(_) => ErrorKind::IdTokenAlgorithm,
            Self::UnknownKey => ErrorKind::IdTokenUnknownKey,
            Self::Signature => ErrorKind::IdTokenSignature,
            Self::Issuer => ErrorKind::IdTokenIssuer,
            Self::Audience => ErrorKind::IdTokenAudience,
            Self::Expired => ErrorKind::IdTokenExpired,
            Self::IssuedAt => ErrorKind::IdTokenIssuedAt,
            Self::Nonce => ErrorKind::IdTokenNonce,
            Self::Subject => ErrorKind::IdTokenSubject,
        }
    }
}

/// The stable, machine-readable kind of an [`OAuthError`].
///
/// [`ErrorKind::as_str`] gives a `snake_case` name that never changes between versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// See [`OAuthError::Configuration`].
    Configuration,
    /// See [`OAuthError::Denied`].
    Denied,
    /// See [`OAuthError::StateMissing`].
    StateMissing,
    /// See [`OAuthError::StateMismatch`].
    StateMismatch,
    /// See [`OAuthError::Provider`].
    Provider,
    /// See [`OAuthError::UnexpectedStatus`].
    UnexpectedStatus,
    /// See [`OAuthError::Transport`].
    Transport,
    /// See [`OAuthError::Tls`].
    Tls,
    /// See [`OAuthError::Timeout`].
    Timeout,
    /// See [`OAuthError::ResponseTooLarge`].
    ResponseTooLarge,
    /// See [`OAuthError::Malformed`].
    Malformed,
    /// See [`OAuthError::UrlRefused`].
    UrlRefused,
    /// See [`OAuthError::TokenMissing`].
    TokenMissing,
    /// See [`OAuthError::Session`].
    Session,
    /// See [`OAuthError::TokenStore`].
    TokenStore,
    /// See [`OAuthError::SessionTooLarge`].
    SessionTooLarge,
    /// See [`OAuthError::ReauthenticationRequired`].
    ReauthenticationRequired,
    /// See [`OAuthError::Storage`].
    Storage,
    /// See [`OAuthError::Unavailable`].
    Unavailable,
    /// See [`OAuthError::Conflict`].
    Conflict,
    /// See [`OAuthError::CsrfMismatch`].
    CsrfMismatch,
    /// See [`OAuthError::Discovery`].
    Discovery,
    /// See [`OAuthError::IssuerMismatch`].
    IssuerMismatch,
    /// See [`OAuthError::LogoutToken`].
    LogoutToken,
    /// See [`OAuthError::InsufficientAuthentication`].
    InsufficientAuthentication,
    /// See [`OAuthError::DeviceExpired`].
    DeviceExpired,
    /// See [`IdTokenError::Missing`].
    IdTokenMissing,
    /// See [`IdTokenError::Malformed`].
    IdTokenMalformed,
    /// See [`IdTokenError::Algorithm`].
    IdTokenAlgorithm,
    /// See [`IdTokenError::UnknownKey`].
    IdTokenUnknownKey,
    /// See [`IdTokenError::Signature`].
    IdTokenSignature,
    /// See [`IdTokenError::Issuer`].
    IdTokenIssuer,
    /// See [`IdTokenError::Audience`].
    IdTokenAudience,
    /// See [`IdTokenError::Expired`].
    IdTokenExpired,
    /// See [`IdTokenError::IssuedAt`].
    IdTokenIssuedAt,
    /// See [`IdTokenError::Nonce`].
    IdTokenNonce,
    /// See [`IdTokenError::Subject`].
    IdTokenSubject,
}

impl ErrorKind {
    /// The kind's stable `snake_case` name, e.g. `"state_mismatch"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Configuration => "configuration",
            Self::Denied => "denied",
            Self::StateMissing => "state_missing",
            Self::StateMismatch => "state_mismatch",
            Self::Provider => "provider",
            Self::UnexpectedStatus => "unexpected_status",
            Self::Transport => "transport",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::ResponseTooLarge => "response_too_large",
            Self::Malformed => "malformed",
            Self::UrlRefused => "url_refused",
            Self::TokenMissing => "token_missing",
            Self::Session => "session",
            Self::TokenStore => "token_store",
            Self::SessionTooLarge => "session_too_large",
            Self::ReauthenticationRequired => "reauthentication_required",
            Self::Storage => "storage",
            Self::Unavailable => "unavailable",
            Self::Conflict => "conflict",
            Self::CsrfMismatch => "csrf_mismatch",
            Self::Discovery => "discovery",
            Self::IssuerMismatch => "issuer_mismatch",
            Self::LogoutToken => "logout_token",
            Self::InsufficientAuthentication => "insufficient_authentication",
            Self::DeviceExpired => "device_expired",
            Self::IdTokenMissing => "id_token_missing",
            Self::IdTokenMalformed => "id_token_malformed",
            Self::IdTokenAlgorithm => "id_token_algorithm",
            Self::IdTokenUnknownKey => "id_token_unknown_key",
            Self::IdTokenSignature => "id_token_signature",
            Self::IdTokenIssuer => "id_token_issuer",
            Self::IdTokenAudience => "id_token_audience",
            Self::IdTokenExpired => "id_token_expired",
            Self::IdTokenIssuedAt => "id_token_issued_at",
            Self::IdTokenNonce => "id_token_nonce",
            Self::IdTokenSubject => "id_token_subject",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl OAuthError {
    /// The stable kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Configuration(_) => ErrorKind::Configuration,
            Self::Denied => ErrorKind::Denied,
            Self::StateMissing(_) => ErrorKind::StateMissing,
            Self::StateMismatch => ErrorKind::StateMismatch,
            Self::Provider { .. } => ErrorKind::Provider,
            Self::UnexpectedStatus { .. } => ErrorKind::UnexpectedStatus,
            Self::Transport(_) => ErrorKind::Transport,
            Self::Tls(_) => ErrorKind::Tls,
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::ResponseTooLarge { .. } => ErrorKind::ResponseTooLarge,
            Self::Malformed { .. } => ErrorKind::Malformed,
            Self::UrlRefused(_) => ErrorKind::UrlRefused,
            Self::TokenMissing(_) => ErrorKind::TokenMissing,
            Self::Session(_) => ErrorKind::Session,
            Self::TokenStore(_) => ErrorKind::TokenStore,
            Self::SessionTooLarge { .. } => ErrorKind::SessionTooLarge,
            Self::ReauthenticationRequired { .. } => ErrorKind::ReauthenticationRequired,
            Self::Storage(_) => ErrorKind::Storage,
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Conflict(_) => ErrorKind::Conflict,
            Self::CsrfMismatch => ErrorKind::CsrfMismatch,
            Self::Discovery(_) => ErrorKind::Discovery,
            Self::IssuerMismatch { .. } => ErrorKind::IssuerMismatch,
            Self::LogoutToken(_) => ErrorKind::LogoutToken,
            Self::InsufficientAuthentication(_) => ErrorKind::InsufficientAuthentication,
            Self::DeviceExpired => ErrorKind::DeviceExpired,
            Self::IdToken(problem) => problem.kind(),
        }
    }

    pub(crate) fn config(msg: impl Into<String>) -> Self {
        Self::Configuration(msg.into())
    }

    pub(crate) fn malformed(what: &'static str, reason: impl Into<String>) -> Self {
        Self::Malformed {
            what,
            reason: reason.into(),
        }
    }

    pub(crate) fn unexpected_status(status: u16, body: &[u8]) -> Self {
        let end = body.len().min(MAX_KEPT_BODY);
        Self::UnexpectedStatus {
            status,
            body: String::from_utf8_lossy(&body[..end]).into_owned(),
        }
    }
}

impl ResponseError for OAuthError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Configuration(_)
            | Self::Session(_)
            | Self::Storage(_)
            | Self::TokenStore(_)
            | Self::SessionTooLarge { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Denied | Self::CsrfMismatch => StatusCode::FORBIDDEN,
            Self::StateMissing(_)
            | Self::LogoutToken(_)
            | Self::UrlRefused(_)
            | Self::StateMismatch
            | Self::DeviceExpired
            | Self::IssuerMismatch { .. }
            | Self::IdToken(IdTokenError::Nonce)
            | Self::Malformed {
                what: "callback", ..
            } => StatusCode::BAD_REQUEST,
            Self::TokenMissing(_)
            | Self::ReauthenticationRequired { .. }
            | Self::InsufficientAuthentication(_) => StatusCode::UNAUTHORIZED,
            // A grant the user can retry (an expired or already used code) is the browser's
            // request gone stale, not the provider failing.
            Self::Provider { error, .. } if error == "invalid_grant" => StatusCode::BAD_REQUEST,
            Self::Provider { status: None, .. } => StatusCode::BAD_REQUEST,
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Provider { .. }
            | Self::UnexpectedStatus { .. }
            | Self::Transport(_)
            | Self::Tls(_)
            | Self::ResponseTooLarge { .. }
            | Self::Discovery(_)
            | Self::IdToken(_)
            | Self::Malformed { .. } => StatusCode::BAD_GATEWAY,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.response_as(false)
    }
}

/// Whether a request with these headers is an API client's: it accepts `application/json` and
/// not `text/html`.
pub(crate) fn wants_json(headers: &actix_web::http::header::HeaderMap) -> bool {
    let accept = headers
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("application/json") && !accept.contains("text/html")
}

impl OAuthError {
    /// The error's answer to a request with these headers: JSON (`{"error": kind, "message":
    /// …}`, same status and headers) for an API client ([`wants_json`]), else the HTML page of
    /// [`error_response`](ResponseError::error_response).
    pub(crate) fn response_for(
        &self,
        headers: &actix_web::http::header::HeaderMap,
    ) -> HttpResponse {
        self.response_as(wants_json(headers))
    }

    /// The error's answer: its status, `no-store`, no `Referer`, `Retry-After` when the error
    /// is [`OAuthError::Unavailable`], and a JSON body or a short HTML page.
    pub(crate) fn response_as(&self, json: bool) -> HttpResponse {
        log::debug!("actix-oauth: {} ({})", self, self.kind());
        let mut response = HttpResponse::build(self.status_code());
        if let Self::Unavailable(_) = self {
            response.insert_header(("retry-after", RETRY_AFTER_SECS.to_string()));
        }
        response
            .insert_header(("cache-control", "no-store"))
            // A failed callback's URL holds a code and state: never send it on as a Referer.
            .insert_header(("referrer-policy", "no-referrer"));
        if json {
            return response.json(
                serde_json::json!({ "error": self.kind().as_str(), "message": self.to_string() }),
            );
        }
        response.content_type("text/html; charset=utf-8").body(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head>\
             <body><h1>Sign-in failed</h1><p>{}</p><p>Error kind: <code>{}</code></p><p><a href=\"/\">Back</a></p></body></html>\n",
            escape_html(&self.to_string()),
            self.kind()
        ))
    }
}

/// Escapes text for an HTML text node or attribute value.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_stable_and_pages_escape() {
        let err = OAuthError::Provider {
            error: "<script>".into(),
            description: Some("bad & worse".into()),
            uri: None,
            status: Some(400),
        };
        assert_eq!(err.kind().as_str(), "provider");
        assert_eq!(err.status_code(), StatusCode::BAD_GATEWAY);
        let body = err.error_response().into_body();
        let bytes = actix_web::body::to_bytes(body);
        let bytes = futures_util::FutureExt::now_or_never(bytes)
            .unwrap()
            .unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        assert!(text.contains("&lt;script&gt;"));
        assert!(!text.contains("<script>"));
        assert!(text.contains("bad &amp; worse"));
    }

    #[test]
    fn kept_body_is_bounded() {
        let err = OAuthError::unexpected_status(500, &[b'x'; 5000]);
        match err {
            OAuthError::UnexpectedStatus { body, .. } => assert_eq!(body.len(), MAX_KEPT_BODY),
            _ => unreachable!(),
        }
    }
}
