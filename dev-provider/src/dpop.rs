//! DPoP ([RFC 9449]): proofs checked at the token endpoint and at the protected resources, with
//! nonces. A proof's signature is verified with `jsonwebtoken` under the key its header embeds
//! — not the consumer crate's signing code.
//!
//! The token endpoint always requires a nonce (§8): a proof without the current one is answered
//! `400 use_dpop_nonce` with a `DPoP-Nonce` header, which a client must retry with. The
//! resources require one when [`DevProvider::set_api_dpop_nonce`](crate::DevProvider::set_api_dpop_nonce)
//! says so (§9). The current and the previous nonce are accepted.
//!
//! [RFC 9449]: https://www.rfc-editor.org/rfc/rfc9449

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use actix_web::http::header::HeaderName;
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use url::Url;

use super::oidc::unix_now;
use super::state::random_token;

/// How far a proof's `iat` may be from now (seconds).
const IAT_WINDOW: u64 = 60;

/// The `DPoP` request header and the `DPoP-Nonce` response header.
pub(super) const DPOP: HeaderName = HeaderName::from_static("dpop");
pub(super) const DPOP_NONCE: HeaderName = HeaderName::from_static("dpop-nonce");

/// The provider's DPoP state.
pub(super) struct DpopState {
    /// The current nonce and the previous one.
    nonces: Mutex<(String, String)>,
    /// The `jti`s of proofs seen, with their `iat`: each is accepted once.
    jtis: Mutex<HashMap<String, u64>>,
    /// Whether the resources require a nonce too.
    pub(super) api_nonce: AtomicBool,
    /// How many requests were answered `use_dpop_nonce`.
    pub(super) nonce_challenges: AtomicUsize,
    /// How many proofs were refused as invalid (or replayed).
    pub(super) refused: AtomicUsize,
}

impl Default for DpopState {
    fn default() -> Self {
        Self {
            nonces: Mutex::new((random_token(), random_token())),
            jtis: Mutex::new(HashMap::new()),
            api_nonce: AtomicBool::new(false),
            nonce_challenges: AtomicUsize::new(0),
            refused: AtomicUsize::new(0),
        }
    }
}

/// Why a proof is not accepted.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ProofError {
    /// `invalid_dpop_proof`, with its description.
    Invalid(&'static str),
    /// `use_dpop_nonce`: send the proof again with the nonce of the `DPoP-Nonce` header.
    UseNonce,
}

impl DpopState {
    /// The nonce clients must put in their next proofs.
    pub(super) fn nonce(&self) -> String {
        self.nonces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }

    /// A new current nonce; the current one stays accepted as the previous.
    pub(super) fn rotate(&self) {
        let mut nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        let current = std::mem::replace(&mut nonces.0, random_token());
        nonces.1 = current;
    }

    fn accepts_nonce(&self, nonce: &str) -> bool {
        let nonces = self.nonces.lock().unwrap_or_else(|e| e.into_inner());
        super::state::constant_time_eq(&nonces.0, nonce)
            || super::state::constant_time_eq(&nonces.1, nonce)
    }

    /// Counts a refusal.
    pub(super) fn count(&self, error: &ProofError) {
        match error {
            ProofError::UseNonce => &self.nonce_challenges,
            ProofError::Invalid(_) => &self.refused,
        }
        .fetch_add(1, Ordering::SeqCst);
    }

    /// Checks the request's DPoP proof (RFC 9449 §4.3) for a request to `url` (its query and
    /// fragment ignored), with `access_token` for a resource (`ath`), requiring a nonce when
    /// `nonce_required`. `Ok(None)`: no proof; `Ok(Some(jkt))`: a valid proof by the key with
    /// that thumbprint.
    pub(super) fn verify(
        &self,
        req: &HttpRequest,
        url: &Url,
        access_token: Option<&str>,
        nonce_required: bool,
    ) -> Result<Option<String>, ProofError> {
        let mut headers = req.headers().get_all(DPOP);
        let Some(proof) = headers.next() else {
            return Ok(None);
        };
        if headers.next().is_some() {
            return Err(ProofError::Invalid("A request carries one DPoP proof."));
        }
        let proof = proof
            .to_str()
            .map_err(|_| ProofError::Invalid("The DPoP proof is not a JWT."))?;
        let header = proof
            .split('.')
            .next()
            .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .ok_or(ProofError::Invalid("The DPoP proof is not a JWT."))?;
        if header["typ"] != "dpop+jwt" {
            return Err(ProofError::Invalid("The DPoP proof's typ is not dpop+jwt."));
        }
        if header["alg"] != "ES256" {
            return Err(ProofError::Invalid(
                "The DPoP proof's alg is not ES256, the one supported.",
            ));
        }
        let jwk = &header["jwk"];
        let (Some(x), Some(y)) = (jwk["x"].as_str(), jwk["y"].as_str()) else {
            return Err(ProofError::Invalid(
                "The DPoP proof's jwk is not a P-256 key.",
            ));
        };
        if jwk["kty"] != "EC" || jwk["crv"] != "P-256" || jwk.get("d").is_some() {
            return Err(ProofError::Invalid(
                "The DPoP proof's jwk is not a public P-256 key.",
            ));
        }
        let key = DecodingKey::from_ec_components(x, y)
            .map_err(|_| ProofError::Invalid("The DPoP proof's jwk is not a P-256 key."))?;
        let mut validation = Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_aud = false;
        let claims = decode::<Value>(proof, &key, &validation)
            .map_err(|_| ProofError::Invalid("The DPoP proof's signature does not verify."))?
            .claims;
        if claims["htm"].as_str() != Some(req.method().as_str()) {
            return Err(ProofError::Invalid(
                "The DPoP proof's htm is not the method.",
            ));
        }
        let htu = claims["htu"]
            .as_str()
            .and_then(|htu| Url::parse(htu).ok())
            .ok_or(ProofError::Invalid("The DPoP proof has no htu URL."))?;
        if without_query(&htu) != without_query(url) {
            return Err(ProofError::Invalid("The DPoP proof's htu is not this URL."));
        }
        let now = unix_now();
        let iat = claims["iat"]
            .as_u64()
            .ok_or(ProofError::Invalid("The DPoP proof has no iat."))?;
        if iat + IAT_WINDOW < now || iat > now + IAT_WINDOW {
            return Err(ProofError::Invalid("The DPoP proof's iat is not recent."));
        }
        if let Some(token) = access_token {
            let ath = URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()));
            if claims["ath"].as_str() != Some(ath.as_str()) {
                return Err(ProofError::Invalid(
                    "The DPoP proof's ath is not the access token's hash.",
                ));
            }
        }
        match claims["nonce"].as_str() {
            Some(nonce) if !self.accepts_nonce(nonce) => return Err(ProofError::UseNonce),
            None if nonce_required => return Err(ProofError::UseNonce),
            _ => {}
        }
        let jti = claims["jti"]
            .as_str()
            .filter(|jti| !jti.is_empty() && jti.len() <= 256)
            .ok_or(ProofError::Invalid("The DPoP proof has no jti."))?;
        {
            let mut seen = self.jtis.lock().unwrap_or_else(|e| e.into_inner());
            seen.retain(|_, iat| *iat + 2 * IAT_WINDOW >= now);
            if seen.insert(jti.to_owned(), iat).is_some() {
                return Err(ProofError::Invalid("The DPoP proof was already used."));
            }
        }
        Ok(Some(thumbprint(x, y)))
    }
}

/// `url` without its query and fragment, as `htu` is compared (RFC 9449 §4.3).
fn without_query(url: &Url) -> &str {
    &url[..url::Position::AfterPath]
}

/// The JWK SHA-256 thumbprint of a P-256 public key ([RFC 7638 §3]).
///
/// [RFC 7638 §3]: https://www.rfc-editor.org/rfc/rfc7638#section-3
pub(super) fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// The URL a request was sent to, as the provider serves it: its base URL and the path.
pub(super) fn request_url(base: &Url, req: &HttpRequest) -> Option<Url> {
    base.join(req.path().trim_start_matches('/')).ok()
}
