//! The development provider as an OpenID provider, over real HTTP on loopback: discovery, JWKS,
//! an authorization-code flow by hand (consent form, PKCE, nonce), `id_token`s verified with
//! `jsonwebtoken` against the published keys, key rotation, and every `id_token` fault refused
//! by the check it targets.

use std::time::Duration;

use actix_oauth_dev::{DevAlgorithm, DevProvider, IdTokenFault};
use actix_web::http::{header, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use url::Url;

const CLIENT_ID: &str = "oidc-app";
const CLIENT_SECRET: &str = "oidc-secret";
const REDIRECT: &str = "http://app.test/auth/dev/callback";
/// RFC 7636 Appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
/// The clock skew the checks allow.
const LEEWAY: u64 = 60;

fn start(algorithm: DevAlgorithm) -> DevProvider {
    DevProvider::builder()
        .client(CLIENT_ID, CLIENT_SECRET, [REDIRECT])
        .require_pkce(true)
        .id_token_algorithm(algorithm)
        .start()
        .expect("the provider starts")
}

fn http() -> awc::Client {
    awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(10))
        .finish()
}

async fn get_json(url: &str) -> Value {
    let mut response = http().get(url).send().await.expect("GET");
    assert_eq!(response.status(), StatusCode::OK, "{url}");
    let body = response.body().await.expect("a body");
    serde_json::from_slice(&body).expect("JSON")
}

async fn jwks(dev: &DevProvider) -> JwkSet {
    let jwks = get_json(dev.jwks_url().as_str()).await;
    serde_json::from_value(jwks).expect("a JWK Set")
}

/// Undoes the consent page's HTML escaping.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The value of `attribute="…"` in `tag`.
fn attribute(tag: &str, attribute: &str) -> Option<String> {
    let start = tag.find(&format!(" {attribute}=\""))? + attribute.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

/// The consent form's action and hidden inputs, as a browser would read them.
fn consent_form(page: &str) -> (String, Vec<(String, String)>) {
    let form = page.find("<form ").expect("a form");
    let form_tag = &page[form..form + page[form..].find('>').expect("a tag")];
    let action = attribute(form_tag, "action").expect("an action");
    assert_eq!(attribute(form_tag, "method").as_deref(), Some("post"));
    let hidden = page
        .match_indices("<input type=\"hidden\"")
        .map(|(at, _)| {
            let tag = &page[at..at + page[at..].find('>').expect("a tag")];
            (
                attribute(tag, "name").expect("a name"),
                attribute(tag, "value").expect("a value"),
            )
        })
        .collect();
    (action, hidden)
}

fn query_param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// The authorization response for a request with `scope`, `nonce`, PKCE and `state`, after the
/// user `decision` on the consent page.
async fn authorize(dev: &DevProvider, scope: &str, nonce: &str, decision: &str) -> Url {
    let discovery = get_json(dev.discovery_url().as_str()).await;
    let mut authorize =
        Url::parse(discovery["authorization_endpoint"].as_str().expect("a URL")).expect("a URL");
    authorize.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", CLIENT_ID),
        ("redirect_uri", REDIRECT),
        ("scope", scope),
        ("state", "st<&>"),
        ("nonce", nonce),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let mut consent = http().get(authorize.as_str()).send().await.expect("GET");
    assert_eq!(consent.status(), StatusCode::OK);
    let page = String::from_utf8(consent.body().await.expect("a page").to_vec()).expect("UTF-8");
    let (action, mut form) = consent_form(&page);
    assert!(form.contains(&("nonce".to_owned(), nonce.to_owned())));
    form.push(("user".into(), "alice".into()));
    form.push(("decision".into(), decision.into()));
    let action = authorize.join(&action).expect("a URL");
    let response = http()
        .post(action.as_str())
        .send_form(&form)
        .await
        .expect("POST");
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response
        .headers()
        .get(header::LOCATION)
        .expect("a Location")
        .to_str()
        .expect("ASCII");
    let back = Url::parse(location).expect("a URL");
    assert!(back.as_str().starts_with(REDIRECT), "{back}");
    assert_eq!(query_param(&back, "state").as_deref(), Some("st<&>"));
    back
}

/// Runs a whole sign-in and answers the token response.
async fn sign_in(dev: &DevProvider, scope: &str, nonce: &str) -> Value {
    let back = authorize(dev, scope, nonce, "approve").await;
    // RFC 9207: the authorization response names the issuer.
    assert_eq!(query_param(&back, "iss").as_deref(), Some(dev.issuer()));
    let code = query_param(&back, "code").expect("a code");
    let mut response = http()
        .post(dev.token_url().as_str())
        .basic_auth(CLIENT_ID, CLIENT_SECRET)
        .send_form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .await
        .expect("POST");
    let body: Value =
        serde_json::from_slice(&response.body().await.expect("a body")).expect("JSON");
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    body
}

fn id_token(response: &Value) -> &str {
    response["id_token"].as_str().expect("an id_token")
}

/// What a relying party checks ([OpenID Connect Core 1.0 §3.1.3.7]): the key by `kid` from the
/// JWKS, its algorithm (from the key, never from the token), the signature, `iss`, `aud`, `exp`,
/// then `iat` and `nonce`, which `jsonwebtoken` leaves to the caller.
///
/// [OpenID Connect Core 1.0 §3.1.3.7]: https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
#[derive(Debug, PartialEq)]
enum Refused {
    /// The header does not parse: `alg` is none of the signing algorithms.
    Header,
    UnknownKid,
    Signature,
    Issuer,
    Audience,
    Expired,
    IssuedInFuture,
    Nonce,
    Other(String),
}

impl From<jsonwebtoken::errors::Error> for Refused {
    fn from(error: jsonwebtoken::errors::Error) -> Self {
        match error.into_kind() {
            ErrorKind::InvalidSignature => Self::Signature,
            ErrorKind::InvalidIssuer => Self::Issuer,
            ErrorKind::InvalidAudience => Self::Audience,
            ErrorKind::ExpiredSignature => Self::Expired,
            other => Self::Other(format!("{other:?}")),
        }
    }
}

fn validate(token: &str, keys: &JwkSet, issuer: &str, nonce: &str) -> Result<Value, Refused> {
    let header = decode_header(token).map_err(|_| Refused::Header)?;
    let kid = header.kid.as_deref().ok_or(Refused::UnknownKid)?;
    let jwk = keys.find(kid).ok_or(Refused::UnknownKid)?;
    let algorithm: Algorithm = jwk
        .common
        .key_algorithm
        .expect("the JWK names its alg")
        .to_string()
        .parse()
        .expect("a signing algorithm");
    let key = DecodingKey::from_jwk(jwk).expect("a usable JWK");
    let mut validation = Validation::new(algorithm);
    validation.set_audience(&[CLIENT_ID]);
    validation.set_issuer(&[issuer]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    validation.leeway = LEEWAY;
    let claims = decode::<Value>(token, &key, &validation)?.claims;
    let now = jsonwebtoken::get_current_timestamp();
    if claims["iat"].as_u64().is_none_or(|iat| iat > now + LEEWAY) {
        return Err(Refused::IssuedInFuture);
    }
    if claims["nonce"].as_str() != Some(nonce) {
        return Err(Refused::Nonce);
    }
    Ok(claims)
}

async fn verified_sign_in(algorithm: DevAlgorithm) {
    let dev = start(algorithm);
    let discovery = get_json(dev.discovery_url().as_str()).await;
    assert_eq!(discovery["issuer"], dev.issuer());
    assert_eq!(discovery["jwks_uri"], dev.jwks_url().as_str());
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"][0],
        algorithm.as_str()
    );
    assert_eq!(
        discovery["authorization_response_iss_parameter_supported"],
        true
    );

    let response = sign_in(&dev, "openid email profile", "nonce-123").await;
    let token = id_token(&response);
    let header = decode_header(token).expect("a header");
    assert_eq!(Ok(header.alg), algorithm.as_str().parse());
    assert_eq!(header.kid.as_deref(), Some(dev.signing_key_id().as_str()));

    let keys = jwks(&dev).await;
    let claims = validate(token, &keys, dev.issuer(), "nonce-123").expect("a valid id_token");
    assert_eq!(claims["sub"], "dev-alice");
    assert_eq!(claims["azp"], CLIENT_ID);
    assert_eq!(claims["email"], "alice@example.test");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["name"], "Alice Example");
    assert_eq!(claims["preferred_username"], "alice");
    let digest = Sha256::digest(response["access_token"].as_str().expect("a token"));
    assert_eq!(claims["at_hash"], URL_SAFE_NO_PAD.encode(&digest[..16]));
    // Another nonce, another client, another issuer: refused.
    assert_eq!(
        validate(token, &keys, dev.issuer(), "nonce-456"),
        Err(Refused::Nonce)
    );
    assert_eq!(
        validate(token, &keys, "http://127.0.0.1:1", "nonce-123"),
        Err(Refused::Issuer)
    );

    // The userinfo endpoint describes the same subject.
    let mut info = http()
        .get(discovery["userinfo_endpoint"].as_str().expect("a URL"))
        .bearer_auth(response["access_token"].as_str().expect("a token"))
        .send()
        .await
        .expect("GET");
    assert_eq!(info.status(), StatusCode::OK);
    let info: Value = info.json().await.expect("JSON");
    assert_eq!(info["sub"], claims["sub"]);
}

#[actix_rt::test]
async fn rs256_sign_in_verifies_against_the_jwks() {
    verified_sign_in(DevAlgorithm::Rs256).await;
}

#[actix_rt::test]
async fn es256_sign_in_verifies_against_the_jwks() {
    verified_sign_in(DevAlgorithm::Es256).await;
}

#[actix_rt::test]
async fn the_denied_callback_names_the_issuer() {
    let dev = start(DevAlgorithm::Es256);
    let back = authorize(&dev, "openid", "n", "deny").await;
    assert_eq!(
        query_param(&back, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(&back, "iss").as_deref(), Some(dev.issuer()));
    assert_eq!(query_param(&back, "code"), None);
}

#[actix_rt::test]
async fn rotation_publishes_the_new_key_beside_the_old_one() {
    let dev = start(DevAlgorithm::default());
    let old_kid = dev.signing_key_id();
    let old = sign_in(&dev, "openid", "n1").await;
    let old_token = id_token(&old);

    let new_kid = dev.rotate_signing_key().expect("a new key");
    assert_ne!(new_kid, old_kid);
    let new = sign_in(&dev, "openid", "n2").await;
    let new_token = id_token(&new);
    assert_eq!(
        decode_header(new_token).expect("a header").kid.as_deref(),
        Some(new_kid.as_str())
    );

    let keys = jwks(&dev).await;
    let kids: Vec<_> = keys
        .keys
        .iter()
        .filter_map(|k| k.common.key_id.clone())
        .collect();
    assert_eq!(kids, [new_kid.clone(), old_kid]);
    validate(new_token, &keys, dev.issuer(), "n2").expect("the new key verifies");
    validate(old_token, &keys, dev.issuer(), "n1").expect("the old key still verifies");

    dev.drop_old_keys();
    let keys = jwks(&dev).await;
    assert_eq!(keys.keys.len(), 1);
    assert_eq!(
        validate(old_token, &keys, dev.issuer(), "n1"),
        Err(Refused::UnknownKid)
    );
    validate(new_token, &keys, dev.issuer(), "n2").expect("the new key verifies");
    assert_eq!(dev.jwks_requests(), 2);
}

#[actix_rt::test]
async fn each_fault_is_refused_by_its_check() {
    let dev = start(DevAlgorithm::default());
    let cases = [
        (IdTokenFault::WrongAudience, Refused::Audience),
        (IdTokenFault::Expired, Refused::Expired),
        (IdTokenFault::BadSignature, Refused::Signature),
        (IdTokenFault::WrongNonce, Refused::Nonce),
        (IdTokenFault::MissingNonce, Refused::Nonce),
        (IdTokenFault::WrongIssuer, Refused::Issuer),
        (IdTokenFault::UnknownKid, Refused::UnknownKid),
        (IdTokenFault::AlgNone, Refused::Header),
        (IdTokenFault::IssuedInFuture, Refused::IssuedInFuture),
    ];
    let keys = jwks(&dev).await;
    for (fault, expected) in cases {
        dev.set_id_token_fault(Some(fault));
        let response = sign_in(&dev, "openid email", "the-nonce").await;
        let token = id_token(&response);
        assert_eq!(
            validate(token, &keys, dev.issuer(), "the-nonce"),
            Err(expected),
            "{fault:?}"
        );
        // The access token is unaffected.
        assert!(response["access_token"].is_string());
    }

    // The unknown key is a real key, merely unpublished: the current key does not verify it.
    dev.set_id_token_fault(Some(IdTokenFault::UnknownKid));
    let token = id_token(&sign_in(&dev, "openid", "the-nonce").await).to_owned();
    let current = keys.find(&dev.signing_key_id()).expect("the current key");
    let forged = decode::<Value>(
        &token,
        &DecodingKey::from_jwk(current).expect("a key"),
        &Validation::new(Algorithm::RS256),
    );
    assert_eq!(
        forged.map_err(Refused::from).err(),
        Some(Refused::Signature)
    );

    // `alg: none` names the current key; a verifier that trusted the token's header would have
    // nothing to check.
    dev.set_id_token_fault(Some(IdTokenFault::AlgNone));
    let token = id_token(&sign_in(&dev, "openid", "the-nonce").await).to_owned();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("a header"))
            .expect("base64url"),
    )
    .expect("JSON");
    assert_eq!(header["alg"], "none");
    assert_eq!(header["kid"], dev.signing_key_id());
    assert!(token.ends_with('.'));

    dev.set_id_token_fault(None);
    let response = sign_in(&dev, "openid", "the-nonce").await;
    validate(id_token(&response), &keys, dev.issuer(), "the-nonce").expect("valid again");
    assert_eq!(dev.jwks_requests(), 1);
}
