//! What the fuzz targets share: how an input is cut into an HTTP answer, and the invariants every
//! parse result must keep.
//!
//! An input for the answer-reading targets is text, so the seed files read like the answers they
//! stand for:
//!
//! ```text
//! 200                        <- status (anything else than a number: 200)
//! application/json           <- Content-Type (an empty line: no header)
//! {"access_token":"…"}       <- the body, every remaining byte
//! ```
//!
//! `decode_response` has no status line: its input is the content type line, then the body.

use std::{
    cell::RefCell,
    time::{Duration, Instant},
};

use actix_oauth::{internals::IdTokenValidator, ErrorKind, OAuthError, TokenResponse};
use actix_web::ResponseError as _;

/// Cuts `data` at its first `\n`: the line (without a trailing `\r`) and the rest. Input without
/// a newline is all line.
pub fn line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => {
            let line = &data[..i];
            (line.strip_suffix(b"\r").unwrap_or(line), &data[i + 1..])
        }
        None => (data, &[]),
    }
}

/// A header value as an HTTP library hands it over: `None` when absent or not text.
pub fn content_type(line: &[u8]) -> Option<&str> {
    std::str::from_utf8(line).ok().filter(|ct| !ct.is_empty())
}

/// An HTTP answer: status, content type, body.
pub struct Answer<'a> {
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

impl<'a> Answer<'a> {
    /// Reads the three-part input format described in the crate docs.
    pub fn parse(data: &'a [u8]) -> Self {
        let (status, rest) = line(data);
        let status = std::str::from_utf8(status)
            .ok()
            .and_then(|s| s.trim().parse::<u16>().ok())
            .unwrap_or(200);
        let (ct, body) = line(rest);
        Self {
            status,
            content_type: content_type(ct),
            body,
        }
    }
}

/// An error read from a provider's answer: one of the kinds a bad answer may give, rendered as a
/// server-side failure (502) or, for a stale grant, a 400; its message stays short.
pub fn check_answer_error(err: &OAuthError, status: u16) {
    let kind = err.kind();
    assert!(
        matches!(
            kind,
            ErrorKind::Provider | ErrorKind::UnexpectedStatus | ErrorKind::Malformed
        ),
        "unexpected kind {kind} for a provider's answer: {err:?}"
    );
    if !(200..300).contains(&status) {
        assert_ne!(kind, ErrorKind::Malformed, "status {status}: {err:?}");
    }
    if let OAuthError::Provider {
        error, status: s, ..
    } = err
    {
        assert_eq!(*s, Some(status));
        assert!(error.chars().count() <= 256);
    }
    if let OAuthError::UnexpectedStatus { status: s, body } = err {
        assert_eq!(*s, status);
        // 1 KiB of the body, lossily decoded: at most 3 bytes per replaced byte.
        assert!(body.len() <= 3 * 1024);
    }
    let code = err.status_code().as_u16();
    assert!(code == 502 || code == 400, "renders as {code}: {err:?}");
    // Every field a message quotes is clipped, so a huge answer never makes a huge message.
    let message = err.to_string();
    assert!(message.len() <= 4 * 1024, "{} bytes", message.len());
}

/// A token read from a provider's answer: a non-empty access token, a lower-case token type, and
/// no secret in `Debug`.
pub fn check_token(token: &TokenResponse, status: u16) {
    assert!((200..300).contains(&status), "a token from status {status}");
    let secret = token.access_token().secret();
    assert!(!secret.is_empty(), "an empty access token");
    assert!(!token.token_type().is_empty());
    assert_eq!(token.token_type(), token.token_type().to_ascii_lowercase());
    if let Some(refresh) = token.refresh_token() {
        assert!(!refresh.secret().is_empty(), "an empty refresh token");
    }
    // `Debug` redacts the secrets. A token may still be spelled by the fields it prints (a short
    // token by chance; any token inside a key of `extra`), so those are cut out first, each
    // replaced by a NUL: `Debug` escapes NUL, so no secret spans one.
    let mut debug = format!("{token:?}");
    let printed = [
        format!("{:?}", token.token_type()),
        format!("{:?}", token.scope()),
        format!("{:?}", token.expires_at()),
    ]
    .into_iter()
    .chain(token.extra().keys().map(|k| format!("{k:?}")));
    for field in printed {
        debug = debug.replace(&field, "\0");
    }
    let refresh = token.refresh_token().map(|r| r.secret().as_str());
    for secret in [
        Some(secret.as_str()),
        refresh,
        token.token_secret(),
        token.id_token(),
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            secret.len() < 16 || !debug.contains(secret),
            "a secret leaked into Debug: {debug}"
        );
    }
    let _ = token.expires_in();
    let _ = token.is_expired(Duration::from_secs(60));
    let _ = serde_json::to_string(token.extra()).expect("extra serializes");
}

/// The issuer, client and nonce of the id_token targets' validator and seeds
/// (`make_id_token_seeds.py`).
pub const ISSUER: &str = "https://accounts.example.com";
/// See [`ISSUER`].
pub const CLIENT: &str = "fuzz-client";

fn validator() -> IdTokenValidator {
    IdTokenValidator::new(ISSUER, include_bytes!("../id_token_jwks.json"), CLIENT)
        .expect("the seeds' JWKS loads")
}

/// How long one validator serves. It refuses to refetch its JWKS for an unknown `kid` only
/// within a minute of loading it (`DEFAULT_JWKS_MIN_REFETCH`); later it would try the network,
/// which the entry point has no runtime for.
const VALIDATOR_LIFE: Duration = Duration::from_secs(30);

thread_local! {
    static VALIDATOR: RefCell<(Instant, IdTokenValidator)> =
        RefCell::new((Instant::now(), validator()));
}

/// Runs `f` with an `id_token` validator trusting the keys of `id_token_jwks.json`.
pub fn with_validator<R>(f: impl FnOnce(&IdTokenValidator) -> R) -> R {
    VALIDATOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.0.elapsed() > VALIDATOR_LIFE {
            *slot = (Instant::now(), validator());
        }
        f(&slot.1)
    })
}

/// Claims an accepted `id_token` must carry: this issuer, this client as `azp` if any, a
/// subject, the nonce the sign-in sent, and (once the signature and `aud` were checked too) this
/// client among its audiences.
pub fn check_claims(
    claims: &serde_json::Map<String, serde_json::Value>,
    nonce: Option<&str>,
    audience_checked: bool,
) {
    use serde_json::Value;
    assert_eq!(claims.get("iss"), Some(&Value::from(ISSUER)), "{claims:?}");
    if let Some(aud) = claims.get("aud").filter(|_| audience_checked) {
        let ours = match aud {
            Value::String(aud) => aud == CLIENT,
            Value::Array(list) => list.iter().any(|a| a == CLIENT),
            _ => false,
        };
        assert!(ours, "accepted for audience {aud}");
    }
    // Only a string `azp` is checked: the claims check takes any other `azp` (an array, a
    // number) for an absent one (found by this target; reported, not ours to change).
    if let Some(azp) = claims.get("azp").filter(|azp| azp.is_string()) {
        assert_eq!(azp, CLIENT, "accepted for azp {azp}");
    }
    let sub = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    assert!(!sub.is_empty(), "accepted without a subject: {claims:?}");
    if let Some(nonce) = nonce {
        assert_eq!(claims.get("nonce"), Some(&Value::from(nonce)), "{claims:?}");
    }
}

/// An `id_token` refusal: one of the `id_token_*` kinds (or, from the claims-only entry point, a
/// body that is not JSON), with a short message.
pub fn check_id_token_error(err: &OAuthError) {
    let kind = err.kind();
    assert!(
        kind.as_str().starts_with("id_token_") || kind == ErrorKind::Malformed,
        "unexpected kind {kind}: {err:?}"
    );
    assert!(err.to_string().len() <= 1024);
}

/// The nonce line and the rest: an empty line is no nonce.
pub fn nonce_and_rest(data: &[u8]) -> Option<(Option<&str>, &str)> {
    let (nonce, rest) = line(data);
    let nonce = std::str::from_utf8(nonce).ok()?;
    let rest = std::str::from_utf8(rest).ok()?;
    Some(((!nonce.is_empty()).then_some(nonce), rest))
}
