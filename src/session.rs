//! What the crate keeps in the actix-session: the handshakes in progress, the CSRF token, and the
//! handle of the session's tokens in the server-side [`TokenStore`](crate::token_store::TokenStore)
//! (never the tokens themselves). Everything here is bounded, so that with cookie sessions the
//! cookie stays under what browsers keep.

use actix_session::Session;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::{error::OAuthError, protocol::PendingHandshake, wire::now_unix};

/// Session key of the list of handshakes in progress.
pub(crate) const PENDING_KEY: &str = "actix_oauth.pending";
/// Session key of the handle under which the token store keeps this session's tokens.
pub(crate) const TOKEN_HANDLE_KEY: &str = "actix_oauth.tokens";
/// The longest `next` kept with a handshake; a longer one is dropped (the user lands on `/`).
pub(crate) const MAX_NEXT_BYTES: usize = 512;

/// One handshake begun in this browser and not yet completed.
///
/// Kept per `state` (or temporary token) so that sign-ins begun in two tabs both complete.
/// Stored as a JSON array rather than an object: the session value is JSON inside the
/// session's own JSON, where every quote is escaped, so field names would cost a cookie's bytes
/// and the escaping on every sign-in. The row is `[protocol, provider, created, next, link, …]`
/// followed by the protocol's own values: `2, state, verifier, nonce[, requirements]` for OAuth 2
/// (the step-up requirements only when a sign-in has some) and
/// `1, request_token, token_secret` for OAuth 1.0a (the leading number is the protocol). A row
/// of 0.1 (`[provider, state, …]`, a string first) is no handshake: its callback fails as a
/// lost or foreign one.
#[derive(Debug)]
pub(crate) struct Pending {
    /// Remote app name.
    pub(crate) provider: String,
    /// A safe, same-site path to go to afterwards.
    pub(crate) next: Option<String>,
    /// When it began, in seconds since the Unix epoch.
    pub(crate) created: u64,
    /// Whether the sign-in links another identity (it was started after the CSRF check): its
    /// completion keeps the tokens of this session's earlier sign-ins.
    pub(crate) link: bool,
    /// What the protocol keeps, secrets in redacted types.
    pub(crate) handshake: PendingHandshake,
}

/// The row's leading number for each protocol.
const OAUTH1_ROW: u8 = 1;
const OAUTH2_ROW: u8 = 2;

impl Serialize for Pending {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple as _;
        // OAuth 2 rows end with the step-up requirements only when there are some.
        let len = match &self.handshake {
            PendingHandshake::OAuth1(_) => 7,
            PendingHandshake::OAuth2(p) => 8 + usize::from(p.requirements.is_some()),
        };
        let mut row = serializer.serialize_tuple(len)?;
        match &self.handshake {
            PendingHandshake::OAuth1(_) => row.serialize_element(&OAUTH1_ROW)?,
            PendingHandshake::OAuth2(_) => row.serialize_element(&OAUTH2_ROW)?,
        }
        row.serialize_element(&self.provider)?;
        row.serialize_element(&self.created)?;
        row.serialize_element(&self.next)?;
        row.serialize_element(&self.link)?;
        match &self.handshake {
            PendingHandshake::OAuth1(pending) => {
                row.serialize_element(&pending.request_token)?;
                row.serialize_element(pending.token_secret.secret())?;
            }
            PendingHandshake::OAuth2(pending) => {
                row.serialize_element(pending.state.secret())?;
                row.serialize_element(&pending.verifier.as_ref().map(|v| v.secret()))?;
                row.serialize_element(&pending.nonce)?;
                if let Some(requirements) = &pending.requirements {
                    row.serialize_element(requirements)?;
                }
            }
        }
        row.end()
    }
}

impl<'de> Deserialize<'de> for Pending {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Row;

        impl<'de> serde::de::Visitor<'de> for Row {
            type Value = Pending;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a pending handshake row")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Pending, A::Error> {
                use serde::de::Error as _;
                let mut index = 0;
                let mut next = || {
                    index += 1;
                    index
                };
                macro_rules! element {
                    () => {{
                        let at = next();
                        seq.next_element()?
                            .ok_or_else(|| A::Error::invalid_length(at - 1, &self))?
                    }};
                }
                let protocol: u8 = element!();
                let provider: String = element!();
                let created: u64 = element!();
                let next_path: Option<String> = element!();
                let link: bool = element!();
                let handshake = match protocol {
                    OAUTH1_ROW => PendingHandshake::OAuth1(crate::oauth1::Pending {
                        request_token: element!(),
                        token_secret: crate::oauth1::TokenSecret::new(element!()),
                    }),
                    OAUTH2_ROW => {
                        let state: String = element!();
                        let verifier: Option<String> = element!();
                        let nonce: Option<String> = element!();
                        PendingHandshake::OAuth2(crate::oauth2::Pending {
                            state: ::oauth2::CsrfToken::new(state),
                            verifier: verifier.map(::oauth2::PkceCodeVerifier::new),
                            nonce,
                            requirements: seq.next_element()?,
                        })
                    }
                    other => {
                        return Err(A::Error::custom(format_args!(
                            "unknown protocol {other} in a pending handshake"
                        )))
                    }
                };
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::custom("a pending handshake row is too long"));
                }
                Ok(Pending {
                    provider,
                    next: next_path,
                    created,
                    link,
                    handshake,
                })
            }
        }

        deserializer.deserialize_seq(Row)
    }
}

/// Reads the pending handshakes, dropping those older than `lifetime_secs`.
pub(crate) fn load_pending(
    session: &Session,
    lifetime_secs: u64,
) -> Result<Vec<Pending>, OAuthError> {
    let mut pending: Vec<Pending> = match session.get(PENDING_KEY) {
        Ok(list) => list.unwrap_or_default(),
        // A value we cannot read (an older version's, or tampered) is no handshake.
        Err(_) => Vec::new(),
    };
    let now = now_unix();
    pending.retain(|p| now.saturating_sub(p.created) <= lifetime_secs);
    Ok(pending)
}

/// Writes the pending handshakes back (removing the key when none is left).
pub(crate) fn store_pending(session: &Session, pending: &[Pending]) -> Result<(), OAuthError> {
    if pending.is_empty() {
        session.remove(PENDING_KEY);
        return Ok(());
    }
    session
        .insert(PENDING_KEY, pending)
        .map_err(|e| OAuthError::Session(e.to_string()))
}

/// Adds a handshake, evicting the oldest ones beyond `max`, and then as many more of the oldest
/// as the session's size limit asks.
///
/// # Errors
/// [`OAuthError::SessionTooLarge`] when even this one handshake alone would not fit: the
/// session is left as it was.
pub(crate) fn push_pending(
    session: &Session,
    entry: Pending,
    max: usize,
    lifetime_secs: u64,
    size_limit: Option<usize>,
) -> Result<(), OAuthError> {
    let mut pending = load_pending(session, lifetime_secs)?;
    pending.push(entry);
    if pending.len() > max {
        let excess = pending.len() - max;
        pending.drain(..excess);
    }
    if let Some(limit) = size_limit {
        loop {
            let value =
                serde_json::to_string(&pending).map_err(|e| OAuthError::Session(e.to_string()))?;
            let bytes = estimated_cookie_bytes_with(session, Some((PENDING_KEY, &value)));
            if bytes <= limit {
                break;
            }
            if pending.len() == 1 {
                return Err(OAuthError::SessionTooLarge { bytes, limit });
            }
            pending.remove(0);
        }
    }
    store_pending(session, &pending)
}

/// The size of the session's cookie (`name=value`) as actix-session would write it, with
/// `replace` standing for one entry's new value, for the larger of its two cookie kinds:
///
/// - private: the state's JSON encrypted (96-bit nonce, 128-bit tag), base64, then
///   percent-encoded by the cookie crate (`/`, `+` and `=` take three bytes each);
/// - signed: a base64 HMAC, then the state's JSON itself, percent-encoded (every quote and
///   backslash of the doubly escaped values takes three bytes).
fn estimated_cookie_bytes_with(session: &Session, replace: Option<(&str, &str)>) -> usize {
    const NAME: usize = 16;
    let entries = session.entries();
    let mut state: std::collections::BTreeMap<&str, &str> = entries
        .iter()
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    if let Some((key, value)) = replace {
        state.insert(key, value);
    }
    let json = serde_json::to_string(&state).unwrap_or_default();
    let percent_encoded: usize = json
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                1
            } else {
                3
            }
        })
        .sum();
    // Base64 of random bytes is about a 32nd `/` or `+`, besides `=` padding; counting an
    // eighth of it at three bytes bounds that.
    let base64 = (json.len() + 28).div_ceil(3) * 4;
    let private = base64 + base64 / 8 * 2 + 6;
    let signed = 44 + 10 + percent_encoded;
    NAME + private.max(signed)
}

/// The estimated size of this session's cookie if the session is kept in a cookie.
pub(crate) fn estimated_cookie_bytes(session: &Session) -> usize {
    estimated_cookie_bytes_with(session, None)
}

/// Removes the tokens 0.1 kept in the session (`actix_oauth.token.NAME`): they belong in the
/// token store now, and a cookie must not carry them on.
pub(crate) fn remove_legacy_tokens(session: &Session) {
    let legacy: Vec<String> = session
        .entries()
        .keys()
        .filter(|key| key.starts_with("actix_oauth.token."))
        .cloned()
        .collect();
    for key in legacy {
        session.remove(&key);
    }
}

/// After a handler ran: when the session it changed would outgrow `limit` as a cookie, drops
/// the handshakes in progress, and if that is not enough ends the session, returning the error
/// to answer with. A cookie browsers would silently drop (or that actix-session would refuse to
/// write, answering a blank 500) becomes a clear page instead.
pub(crate) fn enforce_size_limit(req: &actix_web::HttpRequest, limit: usize) -> Option<OAuthError> {
    use actix_session::{SessionExt as _, SessionStatus};
    let session = req.get_session();
    if matches!(
        session.status(),
        SessionStatus::Unchanged | SessionStatus::Purged
    ) {
        return None;
    }
    let bytes = estimated_cookie_bytes(&session);
    if bytes <= limit {
        return None;
    }
    session.remove(PENDING_KEY);
    if estimated_cookie_bytes(&session) > limit {
        session.purge();
    }
    Some(OAuthError::SessionTooLarge { bytes, limit })
}

/// Whether the session holds a sign-in in progress with remote app `provider` (read only: the
/// session is not changed).
pub(crate) fn has_pending(session: &Session, provider: &str, lifetime_secs: u64) -> bool {
    load_pending(session, lifetime_secs)
        .is_ok_and(|pending| pending.iter().any(|p| p.provider == provider))
}

/// Takes the handshake this callback belongs to out of the session (single use), comparing the
/// `state` in constant time.
pub(crate) fn take_pending(
    session: &Session,
    provider: &str,
    state: &str,
    lifetime_secs: u64,
) -> Result<Pending, OAuthError> {
    let mut pending = load_pending(session, lifetime_secs)?;
    if pending.is_empty() {
        return Err(OAuthError::StateMissing(
            "this browser has no sign-in in progress. Its session cookie may have been lost: was the \
             sign-in started on another host name (such as localhost instead of 127.0.0.1), or did it expire?",
        ));
    }
    let mut found = None;
    for (index, entry) in pending.iter().enumerate() {
        let same = entry.handshake.key().as_bytes().ct_eq(state.as_bytes());
        if bool::from(same) && entry.provider == provider {
            found = Some(index);
        }
    }
    let index = found.ok_or(OAuthError::StateMismatch)?;
    let entry = pending.remove(index);
    store_pending(session, &pending)?;
    Ok(entry)
}

/// Session key of the CSRF token for forms that change the signed-in account.
pub(crate) const CSRF_KEY: &str = "actix_oauth.csrf";

/// This session's CSRF token, created on first use (256 random bits, base64url).
pub(crate) fn csrf_token(session: &Session) -> Result<String, OAuthError> {
    if let Ok(Some(token)) = session.get::<String>(CSRF_KEY) {
        if token.len() >= 43 {
            return Ok(token);
        }
    }
    let token = crate::wire::random_token();
    session
        .insert(CSRF_KEY, &token)
        .map_err(|e| OAuthError::Session(e.to_string()))?;
    Ok(token)
}

/// Forgets this session's CSRF token when the session is renewed (sign-in): a token read
/// before — by whoever saw the page — is refused afterwards, and the next
/// [`csrf_token`] draws a new one.
pub(crate) fn rotate_csrf(session: &Session) {
    session.remove(CSRF_KEY);
}

/// Whether `submitted` is this session's CSRF token, compared in constant time.
pub(crate) fn verify_csrf(session: &Session, submitted: &str) -> Result<(), OAuthError> {
    match session.get::<String>(CSRF_KEY) {
        Ok(Some(token)) if bool::from(token.as_bytes().ct_eq(submitted.as_bytes())) => Ok(()),
        _ => Err(OAuthError::CsrfMismatch),
    }
}

/// The handle of this session's tokens in the token store, if it has one.
pub(crate) fn token_handle(session: &Session) -> Option<String> {
    session
        .get::<String>(TOKEN_HANDLE_KEY)
        .ok()
        .flatten()
        .filter(|handle| handle.len() >= 43)
}

/// Gives this session a new handle for its tokens, returning the one it had.
pub(crate) fn replace_token_handle(
    session: &Session,
    handle: &str,
) -> Result<Option<String>, OAuthError> {
    let old = token_handle(session);
    session
        .insert(TOKEN_HANDLE_KEY, handle)
        .map_err(|e| OAuthError::Session(e.to_string()))?;
    Ok(old)
}

/// Whether the path part of `next` has `.`/`..` segments (also as `%2e`) or an empty segment
/// (`//`), which a later normalization could turn into `//host` (`/.//evil.test`).
fn has_dot_segment_or_empty_segment(path: &str) -> bool {
    let segments = path.get(1..).unwrap_or("");
    let count = segments.split('/').count();
    segments.split('/').enumerate().any(|(i, segment)| {
        (segment.is_empty() && i + 1 < count) || is_dot_segment(segment.as_bytes())
    })
}

/// `.` or `..`, each dot possibly written `%2e` / `%2E`.
fn is_dot_segment(mut segment: &[u8]) -> bool {
    let mut dots = 0;
    while !segment.is_empty() {
        if segment[0] == b'.' {
            segment = &segment[1..];
        } else if segment.len() >= 3 && segment[..3].eq_ignore_ascii_case(b"%2e") {
            segment = &segment[3..];
        } else {
            return false;
        }
        dots += 1;
    }
    (1..=2).contains(&dots)
}

/// `next` if it is a same-site relative path that stays one after any normalization: it starts
/// with a single `/`, and has no backslash, control or white-space character, encoded slash or
/// backslash at its start, `%2f%2f`, dot segment or empty segment.
pub(crate) fn safe_next(next: &str) -> Option<String> {
    let bytes = next.as_bytes();
    let starts_with_ci = |prefix: &[u8]| {
        bytes.len() >= prefix.len() && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
    };
    let contains_ci = |needle: &[u8]| {
        bytes
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    };
    let path = next.split(['?', '#']).next().unwrap_or("");
    let ok = next.len() <= MAX_NEXT_BYTES
        && next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && !starts_with_ci(b"/%2f")
        && !starts_with_ci(b"/%5c")
        && !contains_ci(b"%2f%2f")
        && !has_dot_segment_or_empty_segment(path);
    ok.then(|| next.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{safe_next, Pending, PendingHandshake};

    fn oauth2(state: &str, verifier: Option<&str>, nonce: Option<&str>) -> Pending {
        Pending {
            provider: "dev".to_owned(),
            next: None,
            created: 7,
            link: true,
            handshake: PendingHandshake::OAuth2(crate::oauth2::Pending {
                state: ::oauth2::CsrfToken::new(state.to_owned()),
                verifier: verifier.map(|v| ::oauth2::PkceCodeVerifier::new(v.to_owned())),
                nonce: nonce.map(str::to_owned),
                requirements: None,
            }),
        }
    }

    fn oauth1(token: &str, secret: &str) -> Pending {
        Pending {
            provider: "twitter".to_owned(),
            next: Some("/me".to_owned()),
            created: 9,
            link: false,
            handshake: PendingHandshake::OAuth1(crate::oauth1::Pending {
                request_token: token.to_owned(),
                token_secret: crate::oauth1::TokenSecret::new(secret.to_owned()),
            }),
        }
    }

    #[test]
    fn pending_round_trips_as_a_row() {
        let pending = oauth2("s\"t", Some("v"), Some("n"));
        let json = serde_json::to_string(&pending).unwrap();
        assert_eq!(json, r#"[2,"dev",7,null,true,"s\"t","v","n"]"#);
        let back: Pending = serde_json::from_str(&json).unwrap();
        assert_eq!((back.provider.as_str(), back.created), ("dev", 7));
        assert_eq!((back.next, back.link), (None, true));
        let PendingHandshake::OAuth2(back) = back.handshake else {
            panic!("an OAuth 2 row read back as another protocol");
        };
        assert_eq!(back.state.secret(), "s\"t");
        assert_eq!(back.verifier.unwrap().secret(), "v");
        assert_eq!(back.nonce.as_deref(), Some("n"));

        let pending = oauth1("rt", "rs");
        let json = serde_json::to_string(&pending).unwrap();
        assert_eq!(json, r#"[1,"twitter",9,"/me",false,"rt","rs"]"#);
        let back: Pending = serde_json::from_str(&json).unwrap();
        assert_eq!(back.handshake.key(), "rt");
        let PendingHandshake::OAuth1(back) = back.handshake else {
            panic!("an OAuth 1.0a row read back as another protocol");
        };
        assert_eq!(back.token_secret.secret(), "rs");

        // An object, or 0.1's row (`[provider, state, verifier, next, created, nonce, link]`), is
        // not a handshake; nor is a row of an unknown protocol or of the wrong length.
        for old in [
            r#"{"provider":"dev"}"#,
            r#"["dev","s","v",null,7,"n",true]"#,
            r#"[3,"dev",7,null,true,"s"]"#,
            r#"[2,"dev",7,null,true,"s","v"]"#,
            r#"[1,"dev",7,null,true,"t","s","x"]"#,
        ] {
            assert!(serde_json::from_str::<Pending>(old).is_err(), "{old}");
        }
    }

    #[test]
    fn debug_shows_no_secret() {
        let shown = format!(
            "{:?} {:?}",
            oauth2(
                "state-sekrit",
                Some("verifier-sekrit"),
                Some("nonce-sekrit")
            ),
            oauth1("token-sekrit", "secret-sekrit")
        );
        assert!(!shown.contains("sekrit"), "{shown}");
        assert!(
            shown.contains("dev") && shown.contains("twitter"),
            "{shown}"
        );
    }

    #[test]
    fn next_only_same_site_paths() {
        for good in [
            "/",
            "/me",
            "/a/b?c=d#e",
            "/caf%C3%A9",
            "/a/",
            "/?back=//x",
            "/a.b/.c",
        ] {
            assert_eq!(safe_next(good).as_deref(), Some(good), "{good}");
        }
        for bad in [
            "",
            "me",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example/",
            "javascript:alert(1)",
            "/%2F%2Fevil.example",
            "/%5cevil.example",
            "/\tevil",
            "/ok\r\nSet-Cookie: x=y",
            " /lead",
            "/.//evil.example",
            "/a//b",
            "/a/../..//evil",
            "/%2e%2e/x",
            "/./x",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}
