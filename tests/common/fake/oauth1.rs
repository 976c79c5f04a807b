//! The personality of Twitter's OAuth 1.0a API ([`TwitterApi`], served by a [`FakeProvider`]):
//! the "3-legged OAuth flow" (`POST oauth/request_token`, `GET oauth/authenticate`, `POST
//! oauth/access_token`) and `GET 1.1/account/verify_credentials.json`.
//!
//! Every request's HMAC-SHA1 signature is verified here with an implementation independent of
//! the crate's (RFC 5849 §3.4, written from the RFC on the `hmac` and `sha1` crates), together
//! with the consumer key, the timestamp window and single-use nonces, as Twitter does: a request
//! that fails any of them is answered `401 {"errors":[{"code":32,…}]}`.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
};

use base64::{engine::general_purpose::STANDARD, Engine as _};
use hmac::{Hmac, Mac as _};
use serde_json::json;
use url::form_urlencoded;

use super::{now, random, Answer, FakeProvider, Personality, Recorded};

pub const CONSUMER_KEY: &str = "xvz1evFS4wEEPTGEFPHBog";
pub const CONSUMER_SECRET: &str = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw";

#[derive(Default)]
struct Inner {
    nonces: HashSet<String>,
    /// Temporary credentials: token → (secret, callback, verifier).
    temporary: HashMap<String, (String, String, String)>,
    /// Token credentials: token → secret.
    tokens: HashMap<String, String>,
    /// Signature failures, with why.
    refused: Vec<String>,
}

/// Twitter, as its OAuth 1.0a endpoints answer.
#[derive(Default)]
pub struct TwitterApi {
    inner: Mutex<Inner>,
}

impl Personality for TwitterApi {
    fn answer(&self, req: &Recorded, origin: &str) -> Answer {
        handle(
            &State {
                origin,
                inner: &self.inner,
            },
            req,
        )
    }
}

/// Twitter's API, running.
pub type TwitterFake = FakeProvider<TwitterApi>;

impl FakeProvider<TwitterApi> {
    pub fn start() -> Self {
        Self::serve(TwitterApi::default())
    }

    /// Why requests were refused (empty when every signature verified).
    pub fn refused(&self) -> Vec<String> {
        self.personality().inner.lock().unwrap().refused.clone()
    }
}

/// The API answering one request.
struct State<'a> {
    /// `http://127.0.0.1:PORT`.
    origin: &'a str,
    inner: &'a Mutex<Inner>,
}

/// RFC 5849 §3.6: percent-encode everything but the unreserved characters, upper-case hex.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-decoding (no `+` for space: RFC 5849 §3.5.1 header values).
fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The protocol parameters of an `Authorization: OAuth …` header (RFC 5849 §3.5.1).
pub fn header_params(req: &Recorded) -> Option<Vec<(String, String)>> {
    let header = req.headers.get("authorization")?.strip_prefix("OAuth ")?;
    header
        .split(',')
        .map(|part| {
            let (k, v) = part.trim().split_once('=')?;
            let v = v.strip_prefix('"')?.strip_suffix('"')?;
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Checks a request's signature; returns its protocol parameters.
fn verify(
    state: &State,
    req: &Recorded,
    token_secret: &str,
) -> Result<HashMap<String, String>, String> {
    let oauth = header_params(req).ok_or("no OAuth Authorization header")?;
    let find = |k: &str| {
        oauth
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
    };
    if find("oauth_consumer_key").as_deref() != Some(CONSUMER_KEY) {
        return Err("wrong consumer key".into());
    }
    if find("oauth_signature_method").as_deref() != Some("HMAC-SHA1") {
        return Err("not HMAC-SHA1".into());
    }
    if find("oauth_version").is_some_and(|v| v != "1.0") {
        return Err("oauth_version is not 1.0".into());
    }
    let timestamp: u64 = find("oauth_timestamp")
        .and_then(|t| t.parse().ok())
        .ok_or("no timestamp")?;
    if timestamp.abs_diff(now()) > 300 {
        return Err("timestamp out of window".into());
    }
    let nonce = find("oauth_nonce").ok_or("no nonce")?;
    if !state.inner.lock().unwrap().nonces.insert(nonce) {
        return Err("nonce used twice".into());
    }
    let signature = find("oauth_signature").ok_or("no signature")?;
    // §3.4.1.3: header parameters (less the signature and realm), query, form body.
    let mut params: Vec<(String, String)> = oauth
        .iter()
        .filter(|(k, _)| k != "oauth_signature" && k != "realm")
        .cloned()
        .collect();
    params.extend(form_urlencoded::parse(req.query.as_bytes()).into_owned());
    let form_body = req
        .headers
        .get("content-type")
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if form_body {
        params.extend(form_urlencoded::parse(req.body.as_bytes()).into_owned());
    }
    let mut encoded: Vec<(String, String)> =
        params.iter().map(|(k, v)| (encode(k), encode(v))).collect();
    encoded.sort();
    let normalized = encoded
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let base_uri = format!("{}{}", state.origin, req.path);
    let base = format!(
        "{}&{}&{}",
        req.method,
        encode(&base_uri),
        encode(&normalized)
    );
    let key = format!("{}&{}", encode(CONSUMER_SECRET), encode(token_secret));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(key.as_bytes()).expect("HMAC key");
    mac.update(base.as_bytes());
    let expected = STANDARD.encode(mac.finalize().into_bytes());
    if signature != expected {
        return Err(format!("bad signature over `{base}`"));
    }
    Ok(oauth.into_iter().collect())
}

fn unauthorized(state: &State, why: String) -> Answer {
    state.inner.lock().unwrap().refused.push(why);
    Answer::value(
        401,
        "application/json; charset=utf-8",
        &json!({"errors": [{"code": 32, "message": "Could not authenticate you."}]}),
    )
}

/// Twitter answers its OAuth endpoints form-encoded, labelled `text/html`.
fn credentials(body: String) -> Answer {
    Answer::new(200, "text/html; charset=utf-8", body)
}

fn handle(state: &State, recorded: &Recorded) -> Answer {
    match (recorded.method.as_str(), recorded.path.as_str()) {
        ("POST", "/oauth/request_token") => {
            let oauth = match verify(state, recorded, "") {
                Ok(oauth) => oauth,
                Err(why) => return unauthorized(state, why),
            };
            let Some(callback) = oauth.get("oauth_callback").cloned() else {
                return unauthorized(state, "no oauth_callback".into());
            };
            let (token, secret) = (random(42), random(40));
            state
                .inner
                .lock()
                .unwrap()
                .temporary
                .insert(token.clone(), (secret.clone(), callback, random(32)));
            credentials(
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("oauth_token", &token)
                    .append_pair("oauth_token_secret", &secret)
                    .append_pair("oauth_callback_confirmed", "true")
                    .finish(),
            )
        }
        ("GET", "/oauth/authenticate") => {
            let token = form_urlencoded::parse(recorded.query.as_bytes())
                .find(|(k, _)| k == "oauth_token")
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default();
            let known = state.inner.lock().unwrap().temporary.get(&token).cloned();
            let Some((_, callback, verifier)) = known else {
                return Answer::new(400, "", "This page is no longer valid.");
            };
            let mut back = url::Url::parse(&callback).expect("callback URL");
            back.query_pairs_mut()
                .append_pair("oauth_token", &token)
                .append_pair("oauth_verifier", &verifier);
            Answer::redirect(back.to_string())
        }
        ("POST", "/oauth/access_token") => {
            let token = header_params(recorded)
                .and_then(|p| p.into_iter().find(|(k, _)| k == "oauth_token"))
                .map(|(_, v)| v)
                .unwrap_or_default();
            let temporary = state.inner.lock().unwrap().temporary.remove(&token);
            let Some((secret, _, verifier)) = temporary else {
                return unauthorized(state, "unknown temporary token".into());
            };
            let oauth = match verify(state, recorded, &secret) {
                Ok(oauth) => oauth,
                Err(why) => return unauthorized(state, why),
            };
            let sent = oauth.get("oauth_verifier").cloned().or_else(|| {
                form_urlencoded::parse(recorded.body.as_bytes())
                    .find(|(k, _)| k == "oauth_verifier")
                    .map(|(_, v)| v.into_owned())
            });
            if sent.as_deref() != Some(verifier.as_str()) {
                return unauthorized(state, "wrong oauth_verifier".into());
            }
            let (access, access_secret) = (format!("6253282-{}", random(40)), random(40));
            state
                .inner
                .lock()
                .unwrap()
                .tokens
                .insert(access.clone(), access_secret.clone());
            credentials(
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("oauth_token", &access)
                    .append_pair("oauth_token_secret", &access_secret)
                    .append_pair("user_id", "1234567890123456789")
                    .append_pair("screen_name", "theSeanCook")
                    .finish(),
            )
        }
        ("GET", "/1.1/account/verify_credentials.json") => {
            let token = header_params(recorded)
                .and_then(|p| p.into_iter().find(|(k, _)| k == "oauth_token"))
                .map(|(_, v)| v)
                .unwrap_or_default();
            let secret = state.inner.lock().unwrap().tokens.get(&token).cloned();
            let Some(secret) = secret else {
                return unauthorized(state, "unknown access token".into());
            };
            if let Err(why) = verify(state, recorded, &secret) {
                return unauthorized(state, why);
            }
            let include_email = form_urlencoded::parse(recorded.query.as_bytes())
                .any(|(k, v)| k == "include_email" && v == "true");
            // "GET account/verify_credentials" example. `verified` is the blue check, not the
            // email; the id passes 2^53, so `id_str` is the one to read.
            let mut user = json!({
                "id": 1_234_567_890_123_456_789_u64, "id_str": "1234567890123456789",
                "name": "Sean Cook", "screen_name": "theSeanCook", "location": "San Francisco",
                "description": "Born 330 Live 310", "url": null, "protected": false,
                "followers_count": 1000, "friends_count": 500, "verified": true,
                "created_at": "Wed May 13 03:59:37 +0000 2009",
                "profile_image_url": "http://a0.twimg.com/profile_images/1751506047/dead_sexy_normal.JPG",
                "profile_image_url_https": "https://si0.twimg.com/profile_images/1751506047/dead_sexy_normal.JPG"
            });
            if include_email {
                user["email"] = json!("sean@example.com");
            }
            Answer::value(200, "application/json;charset=utf-8", &user)
        }
        _ => Answer::value(
            404,
            "application/json; charset=utf-8",
            &json!({"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}),
        ),
    }
}
