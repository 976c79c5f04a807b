//! RFC 5849 §3.4 signatures: the signature base string and the HMAC-SHA1, HMAC-SHA256,
//! RSA-SHA1 and PLAINTEXT methods, plus the `Authorization: OAuth …` header (§3.5.1).

use std::{borrow::Cow, cmp::Ordering};

use base64::Engine as _;
use hmac::{Hmac, Mac};
use url::{Position, Url};

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

/// Whether each byte is an RFC 3986 unreserved character (`A-Z a-z 0-9 - . _ ~`), the only
/// bytes §3.6 leaves as they are.
static UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        table[i] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        i += 1;
    }
    table
};

/// Where each byte's encoding sorts (§3.4.1.3.2 sorts *encoded* names and values): an escape
/// `%XY` sorts below every unreserved character (`%` is 0x25, below `-`, `.`, digits and
/// letters), and two escapes sort by their byte, since the hex digits are upper case.
static ENCODED_RANK: [u16; 256] = {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = if UNRESERVED[i] {
            256 + i as u16
        } else {
            i as u16
        };
        i += 1;
    }
    table
};

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Percent-encodes `text` as RFC 5849 §3.6 requires: every byte but the RFC 3986 unreserved
/// characters (`A-Z a-z 0-9 - . _ ~`), with upper-case hex digits.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    encode_into(&mut out, text);
    out
}

/// [`percent_encode`] appending to a `String`.
fn encode_into(out: &mut String, text: &str) {
    let bytes = text.as_bytes();
    let mut run = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if UNRESERVED[usize::from(byte)] {
            continue;
        }
        // A non-empty `run..i` holds only unreserved ASCII, so both ends are character
        // boundaries (an empty one may sit inside a multi-byte character).
        if run < i {
            out.push_str(&text[run..i]);
        }
        out.push('%');
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 15)]));
        run = i + 1;
    }
    if run < bytes.len() {
        out.push_str(&text[run..]);
    }
}

/// A byte's encoding as one little-endian word: the encoded bytes (one, or an escape of three
/// or five) in the low bytes and their count in the top byte, so that encoding is one table
/// load, one unaligned store and one add per byte, without a branch to mispredict.
type EncodedByte = u64;

/// Builds a table of [`EncodedByte`]s, escaping reserved bytes as `escape` + two hex digits.
const fn encoding_table(escape: &[u8]) -> [EncodedByte; 256] {
    let mut table = [0; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = if UNRESERVED[i] {
            i as u64 | 1 << 56
        } else {
            let mut word = 0u64;
            let mut k = 0;
            while k < escape.len() {
                word |= (escape[k] as u64) << (8 * k);
                k += 1;
            }
            word |= (HEX[i >> 4] as u64) << (8 * k);
            word |= (HEX[i & 15] as u64) << (8 * (k + 1));
            word | ((k as u64 + 2) << 56)
        };
        i += 1;
    }
    table
}

/// Percent-encoding once (§3.6): `%XY`.
static ENCODE_ONCE: [EncodedByte; 256] = encoding_table(b"%");

/// Percent-encoding twice, as a normalized parameter appears in the base string (§3.4.1.3.2
/// encodes each name and value, and §3.4.1.1 encodes the joined result again): an unreserved
/// byte stays, any other becomes `%25XY`, since the first encoding's `%` is the only byte the
/// second one changes.
static ENCODE_TWICE: [EncodedByte; 256] = encoding_table(b"%25");

/// Whether `b` is unreserved, computed rather than looked up so that a block's test compiles
/// to vector compares.
#[inline(always)]
fn is_unreserved(b: u8) -> bool {
    ((b | 0x20).wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b.wrapping_sub(b'-') < 2)
        | (b == b'_')
        | (b == b'~')
}

/// Whether all of a block of 16 bytes are unreserved (one vector test).
#[inline(always)]
fn all_unreserved(block: &[u8; 16]) -> bool {
    block.iter().fold(true, |all, &b| all & is_unreserved(b))
}

/// Bytes a [`Writer`] keeps past its cursor for whole-block stores.
const SLACK: usize = 16;

/// An output buffer sized in advance, written through a cursor; a block or word store may run
/// up to [`SLACK`] bytes past the cursor, into room that [`Writer::finish`] cuts off.
struct Writer {
    buf: Vec<u8>,
    pos: usize,
}

impl Writer {
    /// Room for `len` bytes (the buffer grows should that be short).
    fn with_len(len: usize) -> Self {
        Self {
            buf: vec![0; len + SLACK],
            pos: 0,
        }
    }

    /// Makes sure `n` more bytes and the slack fit.
    #[inline(always)]
    fn room(&mut self, n: usize) {
        if self.pos + n + SLACK > self.buf.len() {
            self.grow(n);
        }
    }

    #[cold]
    fn grow(&mut self, n: usize) {
        let len = (self.pos + n + SLACK).max(self.buf.len() * 2);
        self.buf.resize(len, 0);
    }

    fn put(&mut self, bytes: &[u8]) {
        self.room(bytes.len());
        self.buf[self.pos..self.pos + bytes.len()].copy_from_slice(bytes);
        self.pos += bytes.len();
    }

    /// Appends `bytes` encoded with `table`: blocks of 16 unreserved bytes are copied whole,
    /// the others and the tail are encoded byte by byte.
    #[inline(always)]
    fn encode(&mut self, bytes: &[u8], table: &[EncodedByte; 256]) {
        let mut blocks = bytes.chunks_exact(16);
        for block in &mut blocks {
            match <&[u8; 16]>::try_from(block) {
                Ok(whole) if all_unreserved(whole) => self.put(whole),
                _ => self.encode_bytes(block, table),
            }
        }
        // A tail of 8 to 15 bytes: its first 8 as one block too.
        let tail = blocks.remainder();
        let (half, rest) = tail.split_at(if tail.len() >= 8 { 8 } else { 0 });
        match <&[u8; 8]>::try_from(half) {
            Ok(half) if half.iter().fold(true, |all, &b| all & is_unreserved(b)) => self.put(half),
            _ => self.encode_bytes(half, table),
        }
        self.encode_bytes(rest, table);
    }

    /// Appends `bytes` encoded with `table`, byte by byte.
    #[inline(always)]
    fn encode_bytes(&mut self, mut bytes: &[u8], table: &[EncodedByte; 256]) {
        loop {
            // The cursor lives in a register while the loop runs.
            let mut pos = self.pos;
            let buf = self.buf.as_mut_slice();
            let mut done = 0;
            for &byte in bytes {
                let Some(slot) = buf.get_mut(pos..pos + 8) else {
                    break;
                };
                let word = table[usize::from(byte)];
                slot.copy_from_slice(&word.to_le_bytes());
                pos += (word >> 56) as usize;
                done += 1;
            }
            self.pos = pos;
            bytes = &bytes[done..];
            if bytes.is_empty() {
                return;
            }
            self.grow(bytes.len() * 5);
        }
    }

    fn finish(mut self) -> Vec<u8> {
        self.buf.truncate(self.pos);
        self.buf
    }
}

/// Orders two decoded strings as their percent-encodings order byte-wise, without encoding
/// them: up to the first differing byte both encodings agree, and there [`ENCODED_RANK`]
/// decides.
fn cmp_encoded(a: &[u8], b: &[u8]) -> Ordering {
    match a.iter().zip(b).position(|(x, y)| x != y) {
        Some(i) => ENCODED_RANK[usize::from(a[i])].cmp(&ENCODED_RANK[usize::from(b[i])]),
        None => a.len().cmp(&b.len()),
    }
}

/// Appends the base string URI of §3.4.1.2, encoded once: lower-case scheme and host, the port
/// only when it is not the scheme's default, the path, and no query or fragment.
fn push_base_string_uri(out: &mut Writer, url: &Url) {
    out.encode(url.scheme().as_bytes(), &ENCODE_ONCE);
    out.put(b"%3A%2F%2F");
    // The parsed URL is serialized as `scheme://[userinfo@]host[:port]/path?query#fragment`,
    // with the default port already left out: host, port and path are one slice of it.
    let rest = &url[Position::BeforeHost..Position::AfterPath];
    match url.host_str() {
        // Special schemes' hosts are lower case already; others' may not be.
        Some(host) if host.bytes().any(|b| b.is_ascii_uppercase()) => {
            out.encode(host.to_ascii_lowercase().as_bytes(), &ENCODE_ONCE);
            out.encode(&rest.as_bytes()[host.len()..], &ENCODE_ONCE);
        }
        Some(_) => out.encode(rest.as_bytes(), &ENCODE_ONCE),
        None => out.encode(url.path().as_bytes(), &ENCODE_ONCE),
    }
}

/// How many parameters a base string sorts without allocating.
const STACK_PAIRS: usize = 16;

/// The decoded parameters of a base string, by reference: the first [`STACK_PAIRS`] on the
/// stack, all of them on the heap beyond. `oauth_signature` is left out (§3.4.1.3.1).
struct Pairs<'a> {
    stack: [(&'a [u8], &'a [u8]); STACK_PAIRS],
    len: usize,
    heap: Vec<(&'a [u8], &'a [u8])>,
}

impl<'a> Pairs<'a> {
    fn new() -> Self {
        Self {
            stack: [(&[], &[]); STACK_PAIRS],
            len: 0,
            heap: Vec::new(),
        }
    }

    fn push(&mut self, name: &'a str, value: &'a str) {
        if name == "oauth_signature" {
            return;
        }
        let pair = (name.as_bytes(), value.as_bytes());
        if self.len < STACK_PAIRS {
            self.stack[self.len] = pair;
            self.len += 1;
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.stack);
            }
            self.heap.push(pair);
        }
    }

    fn as_mut_slice(&mut self) -> &mut [(&'a [u8], &'a [u8])] {
        if self.heap.is_empty() {
            &mut self.stack[..self.len]
        } else {
            &mut self.heap
        }
    }
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

/// [`signature_base_string`] for a parsed URL and borrowed parameters: the request URL is not
/// parsed again and no parameter is copied. This is how the crate signs its own requests.
///
/// ```
/// # use actix_oauth::oauth1::signature_base_string_url;
/// let url = url::Url::parse("HTTP://Example.com:80/p?b=2&a=1").unwrap();
/// let base = signature_base_string_url("get", &url, &[("c", "3 4")]);
/// assert_eq!(base, "GET&http%3A%2F%2Fexample.com%2Fp&a%3D1%26b%3D2%26c%3D3%25204");
/// ```
pub fn signature_base_string_url(method: &str, url: &Url, params: &[(&str, &str)]) -> String {
    base_string(method, url, params.iter().copied())
}

/// [`signature_base_string`] over a parsed URL and borrowed parameters.
pub(crate) fn base_string<'a>(
    method: &str,
    url: &Url,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let bytes = base_string_bytes(method, url, params);
    // Only ASCII is ever written, apart from the method's own (upper-cased ASCII) bytes.
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// The base string's bytes: see [`signature_base_string`].
pub(crate) fn base_string_bytes<'a>(
    method: &str,
    url: &Url,
    params: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Vec<u8> {
    // §3.4.1.3.2: every name and value encoded, sorted by name then value as bytes, joined.
    // `oauth_signature` is left out wherever it was sent (§3.4.1.3.1); `realm` only where the
    // Authorization header carried it, which `parse_authorization_header` drops.
    // The decoded pairs are sorted by reference in the order of their encodings
    // (`cmp_encoded`), then each is encoded exactly once, straight into the output, already in
    // the doubly encoded form the base string carries.
    // A query without `%` or `+` decodes to itself: its pairs are slices of it. Otherwise
    // `query_pairs` decodes (as `application/x-www-form-urlencoded`, `+` being a space).
    let query = url.query().unwrap_or_default();
    let plain = !query.bytes().any(|b| b == b'%' || b == b'+');
    let decoded: Vec<(Cow<'_, str>, Cow<'_, str>)> = if plain {
        Vec::new()
    } else {
        url.query_pairs().collect()
    };
    let mut pairs = Pairs::new();
    if plain {
        for part in query.split('&').filter(|part| !part.is_empty()) {
            let (k, v) = part.split_once('=').unwrap_or((part, ""));
            pairs.push(k, v);
        }
    } else {
        for (k, v) in &decoded {
            pairs.push(k, v);
        }
    }
    for (k, v) in params {
        pairs.push(k, v);
    }
    let pairs = pairs.as_mut_slice();
    pairs.sort_unstable_by(|a, b| cmp_encoded(a.0, b.0).then_with(|| cmp_encoded(a.1, b.1)));
    // Room for the usual share of escapes, so that the output is allocated once; more
    // escapes grow it.
    let raw: usize = pairs.iter().map(|(k, v)| k.len() + v.len() + 6).sum();
    let mut out = Writer::with_len(method.len() + 3 * url.as_str().len() + 2 + raw + raw / 2);
    for b in method.bytes() {
        out.put(&[b.to_ascii_uppercase()]);
    }
    out.put(b"&");
    push_base_string_uri(&mut out, url);
    out.put(b"&");
    // The normalized parameters, encoded once more: `=` is `%3D` and `&` is `%26`.
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.put(b"%26");
        }
        out.encode(k, &ENCODE_TWICE);
        out.put(b"%3D");
        out.encode(v, &ENCODE_TWICE);
    }
    out.finish()
}

/// The HMAC and PLAINTEXT key of §3.4.2: both secrets encoded and joined by `&`.
fn signing_key(consumer_secret: &str, token_secret: &str) -> String {
    let mut key = String::with_capacity(consumer_secret.len() + token_secret.len() + 16);
    encode_into(&mut key, consumer_secret);
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
    sign_bytes(
        method,
        base_string.as_bytes(),
        consumer_secret,
        token_secret,
    )
}

/// [`sign`] over the base string's bytes.
pub(crate) fn sign_bytes(
    method: SignatureMethod,
    base_string: &[u8],
    consumer_secret: &str,
    token_secret: &str,
) -> Result<String, OAuthError> {
    let key = signing_key(consumer_secret, token_secret);
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    match method {
        SignatureMethod::HmacSha1 => {
            let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes())
                .map_err(|e| OAuthError::config(e.to_string()))?;
            mac.update(base_string);
            Ok(b64(&mac.finalize().into_bytes()))
        }
        SignatureMethod::HmacSha256 => {
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
                .map_err(|e| OAuthError::config(e.to_string()))?;
            mac.update(base_string);
            Ok(b64(&mac.finalize().into_bytes()))
        }
        SignatureMethod::Plaintext => Ok(key),
        SignatureMethod::RsaSha1 => Err(OAuthError::config(
            "RSA-SHA1 signs with the consumer's private key; configure `rsa_private_key_pem`.",
        )),
    }
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
        self.sign_bytes(base_string.as_bytes())
    }

    /// [`sign`](Self::sign) over the base string's bytes. The private-key operation is blinded
    /// with fresh randomness (the signature itself is deterministic, as PKCS#1 v1.5 is), which
    /// narrows the timing side channel of RUSTSEC-2023-0071 without closing it.
    pub(crate) fn sign_bytes(&self, base_string: &[u8]) -> String {
        use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _};
        let signature = self.0.sign_with_rng(&mut rand::thread_rng(), base_string);
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
        let other = sign(SignatureMethod::HmacSha1, &base, "j49sk3j29djd", "other").unwrap();
        assert_ne!(other, sig);
    }

    #[test]
    fn plaintext_and_encoding() {
        assert_eq!(
            sign(SignatureMethod::Plaintext, "", "a b", "c&d").unwrap(),
            "a%20b&c%26d"
        );
        assert_eq!(percent_encode("é~-._ +*"), "%C3%A9~-._%20%2B%2A");
    }

    /// The fast paths against the plain definition: encode every name and value, sort the
    /// encoded pairs as bytes, join, encode again.
    fn reference_base_string(method: &str, url: &Url, params: &[(String, String)]) -> String {
        let mut pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (percent_encode(&k), percent_encode(&v)))
            .chain(
                params
                    .iter()
                    .map(|(k, v)| (percent_encode(k), percent_encode(v))),
            )
            .filter(|(k, _)| k != "oauth_signature")
            .collect();
        pairs.sort();
        let normalized: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut uri = format!(
            "{}://{}",
            url.scheme(),
            url.host_str().unwrap_or_default().to_ascii_lowercase()
        );
        if let Some(port) = url.port() {
            uri.push_str(&format!(":{port}"));
        }
        uri.push_str(url.path());
        format!(
            "{}&{}&{}",
            method.to_ascii_uppercase(),
            percent_encode(&uri),
            percent_encode(&normalized.join("&"))
        )
    }

    #[test]
    fn fast_paths_match_the_definition() {
        // Every byte value next to unreserved ones, in names and values, so that the sort
        // meets escapes against unreserved bytes at every position.
        let tricky = [
            "", "a", "A", "z", "~", "-", ".", "_", "0", "9", " ", "!", "%", "+", "=", "&", "/",
            "é", "日本", "\u{7f}", "a b", "a%20b", "a~", "a-", "a.", "a_", "a!", "zz", "oauth_",
        ];
        let mut params = Vec::new();
        for (i, name) in tricky.iter().enumerate() {
            params.push((name.to_string(), tricky[(i * 7) % tricky.len()].to_string()));
            params.push((
                name.to_string(),
                tricky[(i * 3 + 1) % tricky.len()].repeat(i),
            ));
        }
        // More than the sixteen pairs sorted on the stack, and values longer than the first
        // allocation, so that the output grows.
        params.push(("long".into(), "é /".repeat(300)));
        params.push(("oauth_signature".into(), "left out".into()));
        for url in [
            "https://api.example.com/1.1/statuses/update.json?include_entities=true",
            "http://example.com:8080/a%20b/c?b5=%3D%253D&a3=a&c%40=&a2=r%20b&x=1+2&&y",
            "HTTP://Example.COM:80/p?b=2&a=1",
            "foo://UPPER.example:80/Path?q=é",
            "http://[::1]:9/",
            "file:///etc/passwd?x",
            // `+` (a space) without any `%`, and nothing but `+`.
            "http://example.com/?q=a+b&c+d",
            "http://example.com/p?++",
        ] {
            let parsed = Url::parse(url).unwrap();
            for n in [0, 3, 16, 17, params.len()] {
                let base = signature_base_string("post", url, &params[..n]).unwrap();
                assert_eq!(
                    base,
                    reference_base_string("post", &parsed, &params[..n]),
                    "{url} with {n} parameters"
                );
                let borrowed: Vec<(&str, &str)> = params[..n]
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                assert_eq!(
                    signature_base_string_url("post", &parsed, &borrowed),
                    base,
                    "{url} with {n} parameters, borrowed"
                );
            }
        }
    }

    #[test]
    fn encoded_order_without_encoding() {
        let bytes: Vec<u8> = (0..=255).collect();
        for &a in &bytes {
            for &b in &bytes {
                let (x, y) = ([b'k', a, b'x'], [b'k', b]);
                let encoded = |s: &[u8]| {
                    let mut out = Writer::with_len(0);
                    out.encode(s, &ENCODE_ONCE);
                    out.finish()
                };
                assert_eq!(
                    cmp_encoded(&x, &y),
                    encoded(&x).cmp(&encoded(&y)),
                    "{x:?} {y:?}"
                );
            }
        }
        let mut twice = Writer::with_len(0);
        twice.encode("a b~é%".as_bytes(), &ENCODE_TWICE);
        assert_eq!(
            twice.finish(),
            percent_encode(&percent_encode("a b~é%")).as_bytes()
        );
    }

    #[test]
    fn authorization_header_quotes_and_encodes() {
        let header =
            authorization_header([("oauth_consumer_key", "k y"), ("oauth_signature", "a+b/c=")]);
        assert_eq!(
            header,
            "OAuth oauth_consumer_key=\"k%20y\", oauth_signature=\"a%2Bb%2Fc%3D\""
        );
        // Its parsing, on the provider's side, is tested in actix-oauth-dev (`params.rs`).
    }

    #[test]
    fn method_names_round_trip() {
        for (method, name) in [
            (SignatureMethod::HmacSha1, "HMAC-SHA1"),
            (SignatureMethod::HmacSha256, "HMAC-SHA256"),
            (SignatureMethod::RsaSha1, "RSA-SHA1"),
            (SignatureMethod::Plaintext, "PLAINTEXT"),
        ] {
            assert_eq!(method.name(), name);
            assert_eq!(SignatureMethod::from_name(name), Some(method), "{name}");
        }
        for unknown in ["", "hmac-sha1", "HMAC-SHA512", "RSA-SHA256"] {
            assert_eq!(SignatureMethod::from_name(unknown), None, "{unknown}");
        }
    }

    #[test]
    fn the_computed_unreserved_test_is_the_table() {
        for b in 0..=255u8 {
            assert_eq!(is_unreserved(b), UNRESERVED[usize::from(b)], "{b:#04x}");
            // A block of that byte alone, and one of it among unreserved bytes.
            let mut block = [b; 16];
            assert_eq!(
                all_unreserved(&block),
                UNRESERVED[usize::from(b)],
                "{b:#04x}"
            );
            block[..15].copy_from_slice(b"aZ09-._~azAZ-._");
            assert_eq!(
                all_unreserved(&block),
                UNRESERVED[usize::from(b)],
                "{b:#04x}"
            );
        }
    }

    #[test]
    fn a_writer_grows_from_nothing() {
        // Stores of every length, into a writer sized for none of them: what comes out is what
        // went in, encoded as the plain definition says.
        let mut out = Writer::with_len(0);
        let mut expected = Vec::new();
        for n in 0..40 {
            let bytes: Vec<u8> = (0..n).map(|i| b"a~%/ -.\x00Z9"[(i * 7 + n) % 10]).collect();
            out.put(&bytes);
            expected.extend_from_slice(&bytes);
            let text = String::from_utf8(bytes.clone()).unwrap();
            out.encode(text.as_bytes(), &ENCODE_ONCE);
            expected.extend_from_slice(percent_encode(&text).as_bytes());
            out.encode(text.as_bytes(), &ENCODE_TWICE);
            expected.extend_from_slice(percent_encode(&percent_encode(&text)).as_bytes());
        }
        assert_eq!(out.finish(), expected);
        // One store larger than the room and the slack together.
        let mut out = Writer::with_len(0);
        out.put(&[b'x'; 100]);
        out.put(&[b'y'; 300]);
        assert_eq!(
            out.finish(),
            [[b'x'; 100].as_slice(), &[b'y'; 300]].concat()
        );
    }

    /// RSA-SHA1 against a vector of `tests/data/oauth1_vectors.json` (signed by Python's
    /// `cryptography`: PKCS#1 v1.5 signatures are deterministic).
    #[cfg(feature = "rsa-sha1")]
    #[test]
    fn rsa_sha1_matches_an_independent_signature() {
        let file: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/oauth1_vectors.json")).unwrap();
        let vector = file["vectors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "rsa_sha1_get")
            .unwrap();
        let base = vector["base_string"].as_str().unwrap();
        let key = RsaSigningKey::from_pem(file["rsa_private_key_pem"].as_str().unwrap()).unwrap();
        assert_eq!(key.sign(base), vector["signature"].as_str().unwrap());
        assert_eq!(key.sign_bytes(base.as_bytes()), key.sign(base));
        assert_eq!(format!("{key:?}"), "RsaSigningKey([redacted])");
        assert!(RsaSigningKey::from_pem("not a key").is_err());
    }
}
