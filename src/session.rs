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
    use actix_session::{Session, SessionExt as _, SessionStatus};
    use actix_web::{
        cookie::{Cookie, CookieJar, Key},
        test::TestRequest,
        HttpRequest,
    };

    use super::{
        csrf_token, enforce_size_limit, estimated_cookie_bytes, estimated_cookie_bytes_with,
        load_pending, push_pending, remove_legacy_tokens, replace_token_handle, rotate_csrf,
        safe_next, store_pending, take_pending, token_handle, verify_csrf, Pending,
        PendingHandshake, CSRF_KEY, PENDING_KEY, TOKEN_HANDLE_KEY,
    };
    use crate::{error::OAuthError, wire::now_unix};

    /// A request with an empty session (as actix-session's middleware would attach it).
    fn request() -> HttpRequest {
        TestRequest::default().to_http_request()
    }

    /// An OAuth 2 handshake begun now, for `provider`, with `state`.
    fn begun(provider: &str, state: &str) -> Pending {
        let mut pending = oauth2(state, Some("v"), None);
        pending.provider = provider.to_owned();
        pending.created = now_unix();
        pending
    }

    /// The `state`s of the handshakes the session holds, oldest first.
    fn states(session: &Session) -> Vec<String> {
        load_pending(session, 600)
            .unwrap()
            .iter()
            .map(|p| p.handshake.key().to_owned())
            .collect()
    }

    /// The session's cookie (`name=value`, percent-encoded) as actix-session writes it, for a
    /// private and a signed cookie named `id` (its default name).
    fn real_cookie_bytes(session: &Session) -> [usize; 2] {
        let state = serde_json::to_string(&*session.entries()).unwrap();
        let key = Key::from(&[7; 64]);
        let mut private = CookieJar::new();
        private
            .private_mut(&key)
            .add(Cookie::new("id", state.clone()));
        let mut signed = CookieJar::new();
        signed.signed_mut(&key).add(Cookie::new("id", state));
        [private, signed].map(|jar| {
            let cookie = jar.delta().next().unwrap().clone();
            cookie.stripped().encoded().to_string().len()
        })
    }

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
            // White space that is no control character, and a control that is no white space.
            "/a b",
            "/a\u{a0}b",
            "/a\u{0}b",
            "/a\u{7f}",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_row_of_another_shape_is_named_in_the_error() {
        let err = serde_json::from_str::<Pending>(r#"{"provider":"dev"}"#).unwrap_err();
        assert!(err.to_string().contains("a pending handshake row"), "{err}");
    }

    #[test]
    fn pending_handshakes_expire_and_unreadable_ones_are_none() {
        let req = request();
        let session = req.get_session();
        let mut old = begun("dev", "old");
        old.created = 0;
        store_pending(&session, &[old, begun("dev", "new")]).unwrap();
        assert_eq!(states(&session), ["new"]);
        // Stored as written (the expired one is dropped when read, not when written).
        assert_eq!(
            serde_json::from_str::<Vec<Pending>>(&session.entries()[PENDING_KEY])
                .unwrap()
                .len(),
            2
        );

        store_pending(&session, &[]).unwrap();
        assert!(
            !session.contains_key(PENDING_KEY),
            "none left: the key goes"
        );

        session.insert(PENDING_KEY, "not a list").unwrap();
        assert!(load_pending(&session, 600).unwrap().is_empty());
    }

    #[test]
    fn push_pending_keeps_the_newest_max() {
        let req = request();
        let session = req.get_session();
        for state in ["s1", "s2", "s3", "s4"] {
            push_pending(&session, begun("dev", state), 10, 600, None).unwrap();
        }
        assert_eq!(states(&session), ["s1", "s2", "s3", "s4"]);
        // Five with room for two: the three oldest go.
        push_pending(&session, begun("dev", "s5"), 2, 600, None).unwrap();
        assert_eq!(states(&session), ["s4", "s5"]);
        push_pending(&session, begun("dev", "s6"), 1, 600, None).unwrap();
        assert_eq!(states(&session), ["s6"]);
    }

    #[test]
    fn push_pending_evicts_the_oldest_to_fit_and_refuses_one_alone_too_large() {
        let req = request();
        let session = req.get_session();
        for state in ["s1", "s2", "s3"] {
            push_pending(&session, begun("dev", state), 10, 600, None).unwrap();
        }
        // A limit that two handshakes meet exactly: of four, the two oldest go.
        let two = serde_json::to_string(&[begun("dev", "s3"), begun("dev", "s4")]).unwrap();
        let limit = estimated_cookie_bytes_with(&session, Some((PENDING_KEY, &two)));
        push_pending(&session, begun("dev", "s4"), 10, 600, Some(limit)).unwrap();
        assert_eq!(states(&session), ["s3", "s4"]);
        assert!(estimated_cookie_bytes(&session) <= limit);

        // One that does not fit even alone is refused, and the session is left as it was.
        let before = session.entries().clone();
        let alone = serde_json::to_string(&[begun("dev", "s5")]).unwrap();
        let needed = estimated_cookie_bytes_with(&session, Some((PENDING_KEY, &alone)));
        let err =
            push_pending(&session, begun("dev", "s5"), 10, 600, Some(needed - 1)).unwrap_err();
        assert!(
            matches!(err, OAuthError::SessionTooLarge { bytes, limit } if bytes == needed && limit == needed - 1),
            "{err:?}"
        );
        assert_eq!(*session.entries(), before);
    }

    #[test]
    fn the_estimate_bounds_both_cookie_kinds() {
        let sessions: Vec<(&str, HttpRequest)> = {
            let mut sessions = vec![("empty", request())];
            // What the crate keeps: handshakes, a token handle, a CSRF token.
            for n in [1, 3, 8] {
                let req = request();
                let session = req.get_session();
                for i in 0..n {
                    let state = crate::wire::random_token();
                    let mut pending = begun("github", &state);
                    pending.next = Some(format!("/page/{i}?a=b"));
                    push_pending(&session, pending, 10, 600, None).unwrap();
                }
                replace_token_handle(&session, &crate::wire::random_token()).unwrap();
                csrf_token(&session).unwrap();
                sessions.push(("handshakes", req));
            }
            // Letters and digits (the private cookie is the larger) and quotes (every one
            // doubly escaped and percent-encoded: the signed cookie is the larger).
            for n in [10, 100, 1000, 3000] {
                for (what, c) in [("letters", 'a'), ("quotes", '"')] {
                    let req = request();
                    req.get_session()
                        .insert("k", c.to_string().repeat(n))
                        .unwrap();
                    sessions.push((what, req));
                }
            }
            sessions
        };
        for (what, req) in &sessions {
            let session = req.get_session();
            let estimate = estimated_cookie_bytes(&session);
            let [private, signed] = real_cookie_bytes(&session);
            assert!(
                private <= estimate && signed <= estimate,
                "{what}: estimated {estimate}, private {private}, signed {signed}"
            );
            // An upper bound, not a wild one: what it adds is the `/` and `=` of base64 and a
            // cookie name of up to 15 bytes.
            let larger = private.max(signed);
            assert!(
                estimate <= larger + larger / 4 + 32,
                "{what}: estimated {estimate}, private {private}, signed {signed}"
            );
        }
    }

    #[test]
    fn the_estimate_for_two_sessions() {
        // Empty: the state is `{}`. Private: 2 + 28 bytes of nonce and tag, 40 in base64,
        // + 10 for `/`/`=` + 6 = 56. Signed: 44 (HMAC) + 10 + `{}` percent-encoded (6) = 60. With
        // the name's 16: 76.
        let req = request();
        assert_eq!(estimated_cookie_bytes(&req.get_session()), 76);
        // `{"k":"\"a…a\""}` with 290 `a`: 302 bytes. Private: 330 bytes, 440 in base64, + 110
        // + 6 = 556. Signed: 54 + 290 + `k` + 11 other bytes at 3 = 378. With the name: 572.
        let req = request();
        let session = req.get_session();
        session.insert("k", "a".repeat(290)).unwrap();
        assert_eq!(estimated_cookie_bytes(&session), 572);
        // The same with one value replaced: the replacement counts, not the value it replaces.
        assert_eq!(
            estimated_cookie_bytes_with(&session, Some(("k", "0"))),
            estimated_cookie_bytes_with(&request().get_session(), Some(("k", "0")))
        );
    }

    #[test]
    fn the_size_limit_drops_handshakes_then_the_session() {
        let handle = crate::wire::random_token();
        let filled = || {
            let req = request();
            let session = req.get_session();
            replace_token_handle(&session, &handle).unwrap();
            for state in ["s1", "s2", "s3"] {
                push_pending(&session, begun("dev", state), 10, 600, None).unwrap();
            }
            req
        };
        let without_pending = {
            let req = request();
            replace_token_handle(&req.get_session(), &handle).unwrap();
            estimated_cookie_bytes(&req.get_session())
        };

        // Within the limit (exactly at it): nothing happens.
        let req = filled();
        let limit = estimated_cookie_bytes(&req.get_session());
        assert!(enforce_size_limit(&req, limit).is_none());
        assert_eq!(states(&req.get_session()).len(), 3);

        // Over it, and the handshakes are enough: they go, the session stays.
        let req = filled();
        let bytes = estimated_cookie_bytes(&req.get_session());
        let err = enforce_size_limit(&req, without_pending).unwrap();
        assert!(
            matches!(err, OAuthError::SessionTooLarge { bytes: b, limit } if b == bytes && limit == without_pending),
            "{err:?}"
        );
        let session = req.get_session();
        assert!(!session.contains_key(PENDING_KEY));
        assert_eq!(token_handle(&session).as_deref(), Some(handle.as_str()));
        assert_ne!(session.status(), SessionStatus::Purged);

        // Over it even without them: the session ends.
        let req = filled();
        assert!(enforce_size_limit(&req, without_pending - 1).is_some());
        assert_eq!(req.get_session().status(), SessionStatus::Purged);

        // A session the handler left unchanged is not judged (it was judged when written).
        let req = request();
        assert!(enforce_size_limit(&req, 0).is_none());
    }

    #[test]
    fn legacy_tokens_are_removed() {
        let req = request();
        let session = req.get_session();
        session
            .insert("actix_oauth.token.github", "secret")
            .unwrap();
        session.insert("actix_oauth.token.x", "secret").unwrap();
        session.insert("app.token", "theirs").unwrap();
        remove_legacy_tokens(&session);
        let keys: Vec<String> = session.entries().keys().cloned().collect();
        assert_eq!(keys, ["app.token"]);
    }

    #[test]
    fn take_pending_takes_only_its_own_provider_and_state() {
        let req = request();
        let session = req.get_session();
        let err = take_pending(&session, "dev", "s1", 600).unwrap_err();
        assert!(matches!(err, OAuthError::StateMissing(_)), "{err:?}");
        for (provider, state) in [("dev", "s1"), ("other", "s2"), ("dev", "s3")] {
            push_pending(&session, begun(provider, state), 10, 600, None).unwrap();
        }
        // The right state for another provider, or another state: refused, nothing taken.
        for (provider, state) in [("dev", "s2"), ("other", "s1"), ("dev", "s4"), ("dev", "")] {
            let err = take_pending(&session, provider, state, 600).unwrap_err();
            assert!(
                matches!(err, OAuthError::StateMismatch),
                "{provider} {state}: {err:?}"
            );
        }
        assert_eq!(states(&session), ["s1", "s2", "s3"]);
        let taken = take_pending(&session, "other", "s2", 600).unwrap();
        assert_eq!(
            (taken.provider.as_str(), taken.handshake.key()),
            ("other", "s2")
        );
        assert_eq!(states(&session), ["s1", "s3"]);
        // Single use.
        let err = take_pending(&session, "other", "s2", 600).unwrap_err();
        assert!(matches!(err, OAuthError::StateMismatch), "{err:?}");
    }

    #[test]
    fn csrf_token_is_kept_rotated_and_checked() {
        let req = request();
        let session = req.get_session();
        let token = csrf_token(&session).unwrap();
        assert_eq!(token.len(), 43, "256 bits in base64url: {token}");
        assert_eq!(csrf_token(&session).unwrap(), token, "kept for the session");
        assert_eq!(
            session.get::<String>(CSRF_KEY).unwrap().as_deref(),
            Some(token.as_str())
        );
        verify_csrf(&session, &token).unwrap();
        for wrong in ["", "xyzzy", &token[..42], &format!("{token}x")] {
            let err = verify_csrf(&session, wrong).unwrap_err();
            assert!(matches!(err, OAuthError::CsrfMismatch), "{wrong}: {err:?}");
        }

        rotate_csrf(&session);
        assert!(matches!(
            verify_csrf(&session, &token),
            Err(OAuthError::CsrfMismatch)
        ));
        let new = csrf_token(&session).unwrap();
        assert_ne!(new, token);
        verify_csrf(&session, &new).unwrap();

        // A short value (planted, or of another version) is replaced, not used.
        session.insert(CSRF_KEY, "short").unwrap();
        let replaced = csrf_token(&session).unwrap();
        assert_eq!(replaced.len(), 43, "{replaced}");
        // Without a token, nothing matches (not even an empty submission).
        let req = request();
        assert!(matches!(
            verify_csrf(&req.get_session(), ""),
            Err(OAuthError::CsrfMismatch)
        ));
    }

    #[test]
    fn token_handle_is_replaced_and_a_short_one_is_none() {
        let req = request();
        let session = req.get_session();
        assert_eq!(token_handle(&session), None);
        let first = crate::wire::random_token();
        assert_eq!(replace_token_handle(&session, &first).unwrap(), None);
        assert_eq!(
            session.get::<String>(TOKEN_HANDLE_KEY).unwrap().as_deref(),
            Some(first.as_str())
        );
        assert_eq!(token_handle(&session).as_deref(), Some(first.as_str()));
        let second = crate::wire::random_token();
        assert_eq!(
            replace_token_handle(&session, &second).unwrap().as_deref(),
            Some(first.as_str())
        );
        assert_eq!(token_handle(&session).as_deref(), Some(second.as_str()));
        // A handle shorter than one we draw (planted) is no handle.
        session.insert(TOKEN_HANDLE_KEY, "short").unwrap();
        assert_eq!(token_handle(&session), None);
        session.insert(TOKEN_HANDLE_KEY, "a".repeat(43)).unwrap();
        assert_eq!(
            token_handle(&session).as_deref(),
            Some("a".repeat(43).as_str())
        );
    }
}
