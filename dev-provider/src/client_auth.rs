//! JWT client authentication ([RFC 7523 §2.2], [OpenID Connect Core 1.0 §9]):
//! `client_secret_jwt` (HS256 under the client secret) and `private_key_jwt` (RS256, PS256 or
//! ES256 under the client's registered public key), verified with `jsonwebtoken` — not the
//! consumer crate's signing code.
//!
//! [RFC 7523 §2.2]: https://www.rfc-editor.org/rfc/rfc7523#section-2.2
//! [OpenID Connect Core 1.0 §9]: https://openid.net/specs/openid-connect-core-1_0.html#ClientAuthentication

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::oidc::unix_now;
use super::state::{Client, Shared};

/// The `client_assertion_type` of a JWT assertion.
pub(super) const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How a client authenticates at the token and revocation endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DevClientAuth {
    /// `client_secret_basic` or `client_secret_post`. The default.
    #[default]
    ClientSecret,
    /// `client_secret_jwt`: an HS256 assertion under the client secret.
    ClientSecretJwt,
    /// `private_key_jwt`: an RS256, PS256 or ES256 assertion under this public key (PEM,
    /// `BEGIN PUBLIC KEY`).
    PrivateKeyJwt {
        /// The client's public key.
        public_key_pem: String,
    },
    /// `none`: a public client (a command-line tool, an app on a device) that sends its
    /// `client_id` alone; its authorization requests must carry a PKCE challenge.
    None,
}

impl DevClientAuth {
    /// The method's registration name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::ClientSecret => "client_secret_basic",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::PrivateKeyJwt { .. } => "private_key_jwt",
            Self::None => "none",
        }
    }
}

/// A fresh P-256 key pair for a `private_key_jwt` client, as PEM: the private key (PKCS#8,
/// `BEGIN PRIVATE KEY`, what `actix_oauth::ClientKey::from_pem` reads) and the public key
/// (`BEGIN PUBLIC KEY`, what [`DevClientAuth::PrivateKeyJwt`] takes). For development setups
/// that have no key of their own.
///
/// # Errors
/// When the key cannot be encoded (never in practice).
pub fn client_key_pair() -> std::io::Result<(String, String)> {
    use p256::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
    let secret = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let private = secret
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(std::io::Error::other)?;
    let public = secret
        .public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(std::io::Error::other)?;
    Ok((private.to_string(), public))
}

/// The longest a client assertion may still be valid when it arrives.
const MAX_ASSERTION_LIFETIME_SECS: u64 = 300;

#[derive(Deserialize)]
struct Claims {
    jti: Option<String>,
    exp: u64,
}

/// Verifies `assertion` as client `client`'s, sent to the endpoint at `path`: its registered
/// method, signature, `iss` = `sub` = the client id, `aud` the issuer or that endpoint's URL,
/// not expired and not valid for longer than five minutes, a `jti` never seen. `Err` is the
/// `error_description`.
pub(super) fn verify_assertion(
    shared: &Shared,
    client: &Client,
    assertion: &str,
    path: &str,
) -> Result<(), &'static str> {
    let header = decode_header(assertion).map_err(|_| "The client_assertion is not a JWT.")?;
    let key = match (&client.auth, header.alg) {
        (DevClientAuth::ClientSecretJwt, Algorithm::HS256) => {
            DecodingKey::from_secret(client.secret().as_bytes())
        }
        (DevClientAuth::PrivateKeyJwt { public_key_pem }, Algorithm::RS256 | Algorithm::PS256) => {
            DecodingKey::from_rsa_pem(public_key_pem.as_bytes())
                .map_err(|_| "The client's registered key is not an RSA key.")?
        }
        (DevClientAuth::PrivateKeyJwt { public_key_pem }, Algorithm::ES256) => {
            DecodingKey::from_ec_pem(public_key_pem.as_bytes())
                .map_err(|_| "The client's registered key is not a P-256 key.")?
        }
        (DevClientAuth::ClientSecret, _) => {
            return Err("This client authenticates with its secret, not an assertion.")
        }
        (DevClientAuth::None, _) => {
            return Err("This public client sends its client_id alone, not an assertion.")
        }
        _ => return Err("The client_assertion's alg is not the client's registered method's."),
    };
    let issuer = shared.config.issuer.as_str();
    let mut validation = Validation::new(header.alg);
    if shared.config.assertion_audience_issuer_only {
        validation.set_audience(&[issuer]);
    } else {
        validation.set_audience(&[format!("{issuer}{path}"), issuer.to_owned()]);
    }
    validation.set_issuer(&[client.id.as_str()]);
    validation.sub = Some(client.id.clone());
    validation.set_required_spec_claims(&["exp", "iss", "sub", "aud"]);
    validation.leeway = 5;
    let claims = decode::<Claims>(assertion, &key, &validation)
        .map_err(|_| "The client_assertion does not verify (signature, iss, sub, aud or exp).")?
        .claims;
    let jti = claims.jti.ok_or("The client_assertion has no jti.")?;
    let now = unix_now();
    if claims.exp > now + MAX_ASSERTION_LIFETIME_SECS {
        return Err("The client_assertion is valid for too long (at most five minutes).");
    }
    let mut seen = shared
        .assertion_jtis
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    seen.retain(|_, exp| *exp + 60 >= now);
    if seen.insert(jti, claims.exp).is_some() {
        return Err("The client_assertion's jti was already used.");
    }
    Ok(())
}
