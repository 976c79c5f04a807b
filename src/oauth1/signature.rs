//! RFC 5849 §3.4 signatures: the signature base string and the HMAC-SHA1, HMAC-SHA256,
//! RSA-SHA1 and PLAINTEXT methods, plus the `Authorization: OAuth …` header (§3.5.1).

use std::fmt::Write as _;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use subtle::ConstantTimeEq;
use url::Url;

use crate::error::OAuthError;

/// An OAuth 1.0a signature method (RFC 5849 §3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SignatureMethod {
    /// HMAC-SHA1 (§3.4.2). The default, and what Twitter and most providers use.
    #[default]
    HmacSha1,
    /// HMAC-SHA256, the common extension of §3.4.2 with SHA-256.
    HmacSha256,
    /// RSA-SHA1 (§3.4.3): PKCS#1 v1.5 with the consumer's RSA private key.
    /// Needs the `rsa-sha1` feature.
    RsaSha1,
    /// PLAINTEXT (§3.4.4): the secrets themselves. Only over TLS.
    Plaintext,
}

impl SignatureMethod {
    /// The method's name as sent in `oauth_signature_method`, e.g. `"HMAC-SHA1"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::HmacSha1 => "HMAC-SHA1",
            Self::HmacSha256 => "HMAC-SHA256",
            Self::RsaSha1 => "RSA-SHA1",
            Self::Plaintext => "PLAINTEXT",
        }
    }

    /// The method named `name` (as in `oauth_signature_method`), if it is one of ours.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::HmacSha1,
            Self::HmacSha256,
            Self::RsaSha1,
            Self::Plaintext,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }
}

/// Percent-encodes `text` as RFC 5849 §3.6 requires: every byte but the RFC 3986 unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`), with upper-case hex digits.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    encode_into(&mut out, text);
    out
}

fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = text.as_bytes();
    let mut run = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            continue;
        }
        // `run..i` holds only unreserved ASCII, so both ends are character boundaries.
        if run < i {
            out.push_str(&text[run..i]);
        }
        out.push('%');
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 15)] as char);
        run = i + 1;
    }
    if run < bytes.len() {
        out.push_str(&text[run..]);
    }
}

/// The base string URI of §3.4.1.2: lower-case scheme and host, the port only when it is not
/// the scheme's default, the path, and no query or fragment.
pub(crate) fn base_string_uri(url: &Url) -> String {
    let mut out = String::with_capacity(url.as_str().len());
    out.push_str(url.scheme());
    out.push_str("://");
    out.push_str(&url.host_str().unwrap_or_default().to_ascii_lowercase());
    if let Some(port) = url.port() {
        let _ = write!(out, ":{port}");
    }
    out.push_str(url.path());
    out
}

/// Builds the signature base string of §3.4.1 for a request to `url` (its query parameters are
/// read from it) with `params`: the `oauth_*` protocol parameters and any form-encoded body
/// parameters, all decoded. `oauth_signature` is left out wherever it appears; the
/// Authorization header's `realm` must not be passed in.
///
/// ```
/// # use actix_oauth::oauth1::signature_base_string;
/// let base = signature_base_string("get", "HTTP://Example.com:80/p?b=2&a=1", &[]).unwrap();
/// assert_eq!(base, "GET&http%3A%2F%2Fexample.com%2Fp&a%3D1%26b%3D2");
/// ```
pub fn signature_base_string(
    method: &str,
    url: &str,
    params: &[(String, String)],
) -> Result<String, OAuthError> {
    let url = Url::parse(url).map_err(|e| OAuthError::malformed("request URL", e.to_string()))?;
    Ok(base_string(
        method,
        &url,
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    ))
}

/// [`signature_base_string`] over a parsed URL and borrowed parameters.
pub(crate) fn base_string<'a>(
    method: &str,
    url: &Url,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    // §3.4.1.3.2: every name and value encoded, sorted by name then value as bytes, joined.
    // `oauth_signature` is left out wherever it was sent (§3.4.1.3.1); `realm` only where the
    // Authorization header carried it, which `parse_authorization_header` drops.
    // All pairs are encoded into one buffer and sorted as spans of it: no allocation per pair.
    let mut encoded = String::with_capacity(256);
    let mut spans: Vec<(usize, usize, usize)> = Vec::with_capacity(16);
    let mut push = |k: &str, v: &str| {
        if k == "oauth_signature" {
            return;
        }
        let start = encoded.len();
        encode_into(&mut encoded, k);
        let mid = encoded.len();
        encode_into(&mut encoded, v);
        spans.push((start, mid, encoded.len()));
    };
    for (k, v) in url.query_pairs() {
        push(&k, &v);
    }
    for (k, v) in params {
        push(k, v);
    }
    let pair =
        |&(start, mid, end): &(usize, usize, usize)| (&encoded[start..mid], &encoded[mid..end]);
    spans.sort_unstable_by(|a, b| pair(a).cmp(&pair(b)));
    let uri = base_string_uri(url);
    let mut out =
        String::with_capacity(method.len() + uri.len() * 2 + encoded.len() * 2 + spans.len() * 6);
    for c in method.chars() {
        out.push(c.to_ascii_uppercase());
    }
    out.push('&');
    encode_into(&mut out, &uri);
    out.push('&');
    // The normalized parameters, encoded once more: `=` is `%3D` and `&` is `%26`.
    for (i, span) in spans.iter().enumerate() {
        if i > 0 {
            out.push_str("%26");
        }
        let (k, v) = pair(span);
        encode_into(&mut out, k);
        out.push_str("%3D");
        encode_into(&mut out, v);
    }
    out
}

/// The HMAC and PLAINTEXT key of §3.4.2: both secrets encoded and joined by `&`.
fn signing_key(consumer_secret: &str, token_secret: &str) -> String {
    let mut key = percent_encode(consumer_secret);
    key.push('&');
    encode_into(&mut key, token_secret);
    key
}

/// Signs a base string with HMAC-SHA1, HMAC-SHA256 or PLAINTEXT and returns the
/// `oauth_signature` value (base64 for the HMACs). RSA-SHA1 needs a key: use [`RsaSigningKey`].
pub fn sign(
    method: SignatureMethod,
    base_string: &str,
    consumer_secret: &str,
    token_secret: &str,
) -> Result<String, OAuthError> {
    let key = signing_key(consumer_secret, token_secret);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    match method {
        SignatureMethod::HmacSha1 => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes())
                .map_err(|e| OAuthError::config(e.to_string()))?;
            mac.update(base_string.as_bytes());
            Ok(b64(&mac.finalize().into_bytes()))
        }
        SignatureMethod::HmacSha256 => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
                .map_err(|e| OAuthError::config(e.to_string()))?;
            mac.update(base_string.as_bytes());
            Ok(b64(&mac.finalize().into_bytes()))
        }
        SignatureMethod::Plaintext => Ok(key),
        SignatureMethod::RsaSha1 => Err(OAuthError::config(
            "RSA-SHA1 signs with the consumer's private key; configure `rsa_private_key_pem`.",
        )),
    }
}

#[cfg_attr(not(feature = "dev-provider"), allow(dead_code))]
/// Checks an HMAC or PLAINTEXT signature in constant time (used by the development provider).
pub(crate) fn verify(
    method: SignatureMethod,
    base_string: &str,
    consumer_secret: &str,
    token_secret: &str,
    signature: &str,
) -> bool {
    sign(method, base_string, consumer_secret, token_secret)
        .map(|expected| bool::from(expected.as_bytes().ct_eq(signature.as_bytes())))
        .unwrap_or(false)
}

/// An RSA private key for RSA-SHA1 signatures (§3.4.3), parsed once from PEM.
#[cfg(feature = "rsa-sha1")]
#[derive(Clone)]
pub struct RsaSigningKey(rsa::pkcs1v15::SigningKey<sha1::Sha1>);

#[cfg(feature = "rsa-sha1")]
impl std::fmt::Debug for RsaSigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaSigningKey([redacted])")
    }
}

#[cfg(feature = "rsa-sha1")]
impl RsaSigningKey {
    /// Parses a PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`) PEM key.
    pub fn from_pem(pem: &str) -> Result<Self, OAuthError> {
        use rsa::pkcs1::DecodeRsaPrivateKey as _;
        use rsa::pkcs8::DecodePrivateKey as _;
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| {
                OAuthError::config("the RSA private key is not a PKCS#8 or PKCS#1 PEM key.")
            })?;
        Ok(Self(rsa::pkcs1v15::SigningKey::new(key)))
    }

    /// Signs a base string; returns the base64 `oauth_signature`.
    pub fn sign(&self, base_string: &str) -> String {
        use rsa::signature::{SignatureEncoding as _, Signer as _};
        let signature = self.0.sign(base_string.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(signature.to_bytes())
    }
}

/// Writes the `Authorization: OAuth …` header value of §3.5.1 from protocol parameters.
pub(crate) fn authorization_header<'a>(
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut out = String::from("OAuth ");
    for (i, (k, v)) in params.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        encode_into(&mut out, k);
        out.push_str("=\"");
        encode_into(&mut out, v);
        out.push('"');
    }
    out
}

#[cfg_attr(not(feature = "dev-provider"), allow(dead_code))]
/// Reads the parameters of an `Authorization: OAuth …` header (§3.5.1), decoded.
/// `None` when it is not an OAuth header or is malformed.
pub(crate) fn parse_authorization_header(value: &str) -> Option<Vec<(String, String)>> {
    let rest = value.trim_start();
    let (scheme, rest) = rest.split_at(rest.find(' ').unwrap_or(rest.len()));
    if !scheme.eq_ignore_ascii_case("OAuth") {
        return None;
    }
    let decode = |s: &str| percent_encoding_decode(s);
    let mut out = Vec::new();
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) = part.split_once('=')?;
        let v = v.trim().strip_prefix('"')?.strip_suffix('"')?;
        let key = decode(k.trim())?;
        // §3.4.1.3.1: the header's `realm` is not signed.
        if key != "realm" {
            out.push((key, decode(v)?));
        }
    }
    Some(out)
}

#[cfg_attr(not(feature = "dev-provider"), allow(dead_code))]
/// Decodes `%XX` escapes (not `+`), failing on invalid escapes or UTF-8.
fn percent_encoding_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// RFC 5849 §3.4.1.1's worked example; the signature is Erratum 2550's, which independent
    /// suites pin (the one printed in §3.4.2 cannot be reproduced from its inputs).
    #[test]
    fn rfc5849_worked_example() {
        let params = pairs(&[
            ("oauth_consumer_key", "9djdj82h48djs9d2"),
            ("oauth_token", "kkk9d7dh3k39sjv7"),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", "137131201"),
            ("oauth_nonce", "7d8f3e4a"),
            ("c2", ""),
            ("a3", "2 q"),
        ]);
        let base = signature_base_string(
            "POST",
            "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b",
            &params,
        )
        .unwrap();
        assert_eq!(
            base,
            "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q\
             %26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_\
             key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m\
             ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk\
             9d7dh3k39sjv7"
        );
        let sig = sign(
            SignatureMethod::HmacSha1,
            &base,
            "j49sk3j29djd",
            "dh893hdasih9",
        )
        .unwrap();
        assert_eq!(sig, "r6/TJjbCOr97/+UU0NsvSne7s5g=");
        assert!(verify(
            SignatureMethod::HmacSha1,
            &base,
            "j49sk3j29djd",
            "dh893hdasih9",
            &sig
        ));
        assert!(!verify(
            SignatureMethod::HmacSha1,
            &base,
            "j49sk3j29djd",
            "other",
            &sig
        ));
    }

    #[test]
    fn plaintext_and_encoding() {
        assert_eq!(
            sign(SignatureMethod::Plaintext, "", "a b", "c&d").unwrap(),
            "a%20b&c%26d"
        );
        assert_eq!(percent_encode("é~-._ +*"), "%C3%A9~-._%20%2B%2A");
    }

    #[test]
    fn header_round_trip() {
        let header =
            authorization_header([("oauth_consumer_key", "k y"), ("oauth_signature", "a+b/c=")]);
        assert_eq!(
            header,
            "OAuth oauth_consumer_key=\"k%20y\", oauth_signature=\"a%2Bb%2Fc%3D\""
        );
        let parsed = parse_authorization_header(&header).unwrap();
        assert_eq!(
            parsed,
            pairs(&[("oauth_consumer_key", "k y"), ("oauth_signature", "a+b/c=")])
        );
        let with_realm =
            parse_authorization_header("OAuth realm=\"Photos\", oauth_token=\"t\"").unwrap();
        assert_eq!(with_realm, pairs(&[("oauth_token", "t")]));
        assert!(parse_authorization_header("Bearer x").is_none());
        assert!(parse_authorization_header("OAuth a=\"%zz\"").is_none());
        assert!(parse_authorization_header("OAuth a=unquoted").is_none());
    }
}
