//! The one error type of the crate, [`OAuthError`], and its stable [`ErrorKind`].

use std::fmt;

use actix_web::{http::StatusCode, HttpResponse, ResponseError};

/// The most bytes of a provider's error body an [`OAuthError`] keeps.
const MAX_KEPT_BODY: usize = 1024;

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

    /// No token is available for the call, e.g. the user is not signed in with that provider.
    #[error("No {0} token is available; sign the user in first.")]
    TokenMissing(String),

    /// The session could not be read or written.
    #[error("The session could not be used: {0}")]
    Session(String),

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

    /// The request contradicts stored accounts: the identity already belongs to another user, or
    /// it is the user's last one (feature `accounts`).
    #[error("The accounts could not be changed: {0}")]
    Conflict(String),
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
    /// See [`OAuthError::Timeout`].
    Timeout,
    /// See [`OAuthError::ResponseTooLarge`].
    ResponseTooLarge,
    /// See [`OAuthError::Malformed`].
    Malformed,
    /// See [`OAuthError::TokenMissing`].
    TokenMissing,
    /// See [`OAuthError::Session`].
    Session,
    /// See [`OAuthError::ReauthenticationRequired`].
    ReauthenticationRequired,
    /// See [`OAuthError::Storage`].
    Storage,
    /// See [`OAuthError::Conflict`].
    Conflict,
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
            Self::Timeout => "timeout",
            Self::ResponseTooLarge => "response_too_large",
            Self::Malformed => "malformed",
            Self::TokenMissing => "token_missing",
            Self::Session => "session",
            Self::ReauthenticationRequired => "reauthentication_required",
            Self::Storage => "storage",
            Self::Conflict => "conflict",
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
            Self::Timeout(_) => ErrorKind::Timeout,
            Self::ResponseTooLarge { .. } => ErrorKind::ResponseTooLarge,
            Self::Malformed { .. } => ErrorKind::Malformed,
            Self::TokenMissing(_) => ErrorKind::TokenMissing,
            Self::Session(_) => ErrorKind::Session,
            Self::ReauthenticationRequired { .. } => ErrorKind::ReauthenticationRequired,
            Self::Storage(_) => ErrorKind::Storage,
            Self::Conflict(_) => ErrorKind::Conflict,
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
            Self::Configuration(_) | Self::Session(_) | Self::Storage(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::Denied => StatusCode::FORBIDDEN,
            Self::StateMissing(_)
            | Self::StateMismatch
            | Self::Malformed {
                what: "callback", ..
            } => StatusCode::BAD_REQUEST,
            Self::TokenMissing(_) | Self::ReauthenticationRequired { .. } => {
                StatusCode::UNAUTHORIZED
            }
            // A grant the user can retry (an expired or already used code) is the browser's
            // request gone stale, not the provider failing.
            Self::Provider { error, .. } if error == "invalid_grant" => StatusCode::BAD_REQUEST,
            Self::Provider { status: None, .. } => StatusCode::BAD_REQUEST,
            Self::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::Provider { .. }
            | Self::UnexpectedStatus { .. }
            | Self::Transport(_)
            | Self::ResponseTooLarge { .. }
            | Self::Malformed { .. } => StatusCode::BAD_GATEWAY,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        log::debug!("actix-oauth: {} ({})", self, self.kind());
        HttpResponse::build(status)
            .insert_header(("cache-control", "no-store"))
            .content_type("text/html; charset=utf-8")
            .body(format!(
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
