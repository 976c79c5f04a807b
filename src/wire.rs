//! Wire-level helpers every protocol shares: the clock, fresh random values, and reading a
//! provider's bodies (media type, JSON or form-encoded fields, RFC 6749 §5.2 errors).

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use rand::RngCore as _;
use serde_json::{Map, Value};

use crate::error::OAuthError;

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A fresh random value: 32 bytes (256 bits, twice RFC 9700's floor for `state`) from the thread's CSPRNG, base64url without
/// padding — what `oauth2`'s `CsrfToken::new_random_len` and `PkceCodeChallenge::new_random_sha256`
/// make, from one `fill_bytes` where they ask `thread_rng()` once per byte.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Media type of a `Content-Type` value, lower-cased, without parameters.
pub(crate) fn media_type(content_type: Option<&str>) -> String {
    content_type
        .and_then(|ct| ct.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Decodes a provider's body into fields: JSON when it says so or looks like it, else form-encoded.
/// `None` when it is neither.
pub(crate) fn decode_fields(content_type: Option<&str>, body: &[u8]) -> Option<Map<String, Value>> {
    let media = media_type(content_type);
    let trimmed = body.trim_ascii_start();
    if media.ends_with("json") || media.ends_with("+json") || trimmed.starts_with(b"{") {
        return match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Some(map),
            _ => None,
        };
    }
    if media.is_empty() || media == "application/x-www-form-urlencoded" || media == "text/plain" {
        let map = form_fields(body)?;
        // Arbitrary text parses as one key with an empty value; only a body that carries a
        // token or an error is a form-encoded token answer.
        if !map.contains_key("access_token") && !map.contains_key("error") {
            return None;
        }
        return Some(map);
    }
    None
}

/// A form-encoded body's fields as strings; `None` when it is not UTF-8 or names a field twice.
pub(crate) fn form_fields(body: &[u8]) -> Option<Map<String, Value>> {
    let text = std::str::from_utf8(body).ok()?;
    let mut map = Map::new();
    for (key, value) in url::form_urlencoded::parse(text.trim().as_bytes()) {
        let value = Value::String(value.into_owned());
        if map.insert(key.into_owned(), value).is_some() {
            return None;
        }
    }
    Some(map)
}

/// An RFC 6749 §5.2 error in decoded fields, if there is one.
pub(crate) fn provider_error(
    fields: &Map<String, Value>,
    status: Option<u16>,
) -> Option<OAuthError> {
    let text = |map: &Map<String, Value>, key: &str| match map.get(key) {
        Some(Value::String(s)) => Some(clip(s, 256)),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let provider = |error: String, description: Option<String>, uri: Option<String>| {
        Some(OAuthError::Provider {
            error,
            description,
            uri,
            status,
        })
    };
    // RFC 6749 §5.2 (and Slack's `{"ok": false, "error": …}`, Twitch's `message`).
    if let Some(error) = text(fields, "error") {
        let description = text(fields, "error_description").or_else(|| text(fields, "message"));
        return provider(error, description, text(fields, "error_uri"));
    }
    // Facebook's Graph API: `{"error": {"message", "type", "code"}}`.
    if let Some(Value::Object(inner)) = fields.get("error") {
        let error = text(inner, "type")
            .or_else(|| text(inner, "code"))
            .unwrap_or_else(|| "error".to_owned());
        return provider(error, text(inner, "message"), None);
    }
    // The rest only on a failure status: success bodies may carry such fields innocently.
    if status.is_some_and(|s| (200..300).contains(&s)) {
        return None;
    }
    // Twitter's v1.1 API: `{"errors": [{"code", "message"}]}`.
    if let Some(Value::Array(list)) = fields.get("errors") {
        if let Some(Value::Object(first)) = list.first() {
            let error = text(first, "code").unwrap_or_else(|| "error".to_owned());
            return provider(error, text(first, "message"), None);
        }
    }
    // Twitch: `{"status": 400, "message": "…"}`.
    if let (Some(_), Some(message)) = (fields.get("status"), text(fields, "message")) {
        return provider(message, None, None);
    }
    None
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_standard_error_bodies_are_provider_errors() {
        let kind = |status: u16, body: &str| match provider_error(
            &serde_json::from_str(body).unwrap(),
            Some(status),
        ) {
            Some(OAuthError::Provider {
                error, description, ..
            }) => Some((error, description)),
            _ => None,
        };
        let facebook = r#"{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}"#;
        assert_eq!(
            kind(400, facebook),
            Some((
                "OAuthException".into(),
                Some("Invalid OAuth access token.".into())
            ))
        );
        let twitter = r#"{"errors":[{"code":32,"message":"Could not authenticate you."}]}"#;
        assert_eq!(
            kind(401, twitter),
            Some(("32".into(), Some("Could not authenticate you.".into())))
        );
        assert_eq!(kind(200, twitter), None, "only on a failure status");
        let twitch = r#"{"status":400,"message":"missing client id"}"#;
        assert_eq!(kind(400, twitch), Some(("missing client id".into(), None)));
        assert_eq!(kind(200, r#"{"status":"active","message":"hi"}"#), None);
        let slack = r#"{"ok":false,"error":"invalid_auth"}"#;
        assert_eq!(kind(200, slack), Some(("invalid_auth".into(), None)));
    }
}
