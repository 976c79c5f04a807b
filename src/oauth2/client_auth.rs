//! How the client proves who it is to the token endpoint, and to the endpoints that
//! authenticate it the same way (revocation, RFC 7009 §2.1): a client secret in HTTP Basic or
//! the body (RFC 6749 §2.3.1), or a signed JWT assertion (RFC 7523 §2.2, OpenID Connect Core
//! §9) made with the client secret (`client_secret_jwt`) or a private key
//! (`private_key_jwt`). Apple's client secret, a JWT the app mints and renews itself, is a
//! [`MintedSecret`].

use ::oauth2::http::{self, header};
use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use hmac::{Hmac, Mac as _};
use serde_json::{json, Value};
use url::{form_urlencoded, Url};

#[cfg(feature = "private-key-jwt")]
use crate::client_key::ClientKey;
use crate::{
    credentials::Credentials,
    error::OAuthError,
    wire::{now_unix, random_token},
};

/// How the client authenticates at the token endpoint (and at the revocation endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ClientAuth {
    /// `client_secret_basic`: HTTP Basic with the form-urlencoded client id and secret. The
    /// RFC's default, and ours.
    #[default]
    Basic,
    /// `client_secret_post`: `client_id` and `client_secret` in the request body, for providers
    /// that only accept that.
    RequestBody,
    /// `client_secret_jwt`: a JWT assertion signed with HS256 under the client secret
    /// (RFC 7523 §2.2); the secret itself never travels.
    ClientSecretJwt,
    /// `private_key_jwt`: a JWT assertion signed with the app's private key
    /// ([`RemoteAppBuilder::client_key`](crate::RemoteAppBuilder::client_key); feature
    /// `private-key-jwt`), whose public key the provider holds. No client secret at all.
    PrivateKeyJwt,
    /// `none`: a public client (RFC 6749 §2.1), such as a command-line tool or an app on a
    /// device, which cannot keep a secret: only `client_id` is sent. Its sign-ins need PKCE
    /// (RFC 9700 §2.1.1), which stays on; no client secret may be configured.
    None,
}

impl ClientAuth {
    /// The method's name as OpenID Connect Discovery and client registration write it
    /// (`client_secret_basic`, `client_secret_post`, `client_secret_jwt`, `private_key_jwt`,
    /// `none`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Basic => "client_secret_basic",
            Self::RequestBody => "client_secret_post",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }

    /// The method named as [`as_str`](Self::as_str) writes it.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "client_secret_basic" => Self::Basic,
            "client_secret_post" => Self::RequestBody,
            "client_secret_jwt" => Self::ClientSecretJwt,
            "private_key_jwt" => Self::PrivateKeyJwt,
            "none" => Self::None,
            _ => return None,
        })
    }
}

/// The `aud` of the client assertions of [`ClientAuth::ClientSecretJwt`] and
/// [`ClientAuth::PrivateKeyJwt`].
///
/// An assertion whose audience is the token endpoint but which is sent to another endpoint
/// (pushed authorization requests, revocation, device authorization) can be replayed at that
/// token endpoint by whoever runs the other one: a provider whose metadata names another
/// provider's token endpoint as its own obtains an assertion that signs in to that provider as
/// this client (the "audience injection" attack, draft-ietf-oauth-rfc7523bis). Hence the default
/// names the endpoint the assertion is sent to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AssertionAudience {
    /// The URL of the endpoint the assertion is sent to: the token endpoint at the token
    /// endpoint (OpenID Connect Core §9), the pushed authorization request endpoint there
    /// (RFC 9126 §2, which every provider must accept), and so on.
    #[default]
    Endpoint,
    /// The provider's issuer identifier, whichever endpoint: what draft-ietf-oauth-rfc7523bis
    /// asks of clients, for providers that accept it (needs an
    /// [`issuer`](crate::RemoteAppBuilder::issuer)).
    Issuer,
    /// The token endpoint's URL, whichever endpoint the assertion is sent to: only for a
    /// provider that accepts nothing else, as it is open to audience injection if another
    /// provider's metadata can name that token endpoint.
    TokenEndpoint,
}

/// Where one client proof goes: the endpoint it is sent to and the provider's token endpoint.
#[derive(Clone, Copy)]
pub(crate) struct Destination<'a> {
    /// The URL the request is sent to.
    pub(crate) endpoint: &'a Url,
    /// The provider's token endpoint.
    pub(crate) token_url: &'a Url,
}

impl<'a> Destination<'a> {
    /// A request to the token endpoint itself.
    pub(crate) fn token_endpoint(token_url: &'a Url) -> Self {
        Self {
            endpoint: token_url,
            token_url,
        }
    }
}

/// How long a client assertion is valid: it is made for one request.
const ASSERTION_LIFETIME_SECS: u64 = 60;

/// A client secret the app mints itself: a JWT signed with its
/// [`ClientKey`](crate::ClientKey) and sent as `client_secret` — what Sign in with Apple
/// requires (`iss` the team id, `sub` the client id, `aud` `https://appleid.apple.com`, at most
/// six months long). It is minted once, cached, and minted again before it expires.
#[cfg(feature = "private-key-jwt")]
#[derive(Debug, Clone)]
pub struct MintedSecret {
    issuer: String,
    audience: String,
    lifetime: std::time::Duration,
    /// The only algorithm the provider accepts, checked against the key when the app is built.
    algorithm: Option<crate::SigningAlgorithm>,
}

#[cfg(feature = "private-key-jwt")]
impl MintedSecret {
    /// The longest lifetime Apple accepts: 15 777 000 seconds (six months).
    pub const MAX_LIFETIME: std::time::Duration = std::time::Duration::from_secs(15_777_000);

    /// A secret with `iss` = `issuer` (Apple: the team id) and `aud` = `audience`.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            audience: audience.into(),
            lifetime: std::time::Duration::from_secs(24 * 60 * 60),
            algorithm: None,
        }
    }

    /// Only `algorithm` is accepted (Apple: ES256): a key of another kind fails the build.
    pub(crate) fn only(mut self, algorithm: crate::SigningAlgorithm) -> Self {
        self.algorithm = Some(algorithm);
        self
    }

    /// How long each minted secret is valid; a new one is minted when less than a tenth of it
    /// (at most an hour) is left. Default: 24 hours; at most [`MAX_LIFETIME`](Self::MAX_LIFETIME),
    /// checked when the app is built.
    #[must_use]
    pub fn lifetime(mut self, lifetime: std::time::Duration) -> Self {
        self.lifetime = lifetime;
        self
    }
}

/// A minted secret with its key, and the last one minted with its expiry.
#[cfg(feature = "private-key-jwt")]
struct Minter {
    spec: MintedSecret,
    key: ClientKey,
    current: std::sync::Mutex<Option<(::oauth2::ClientSecret, u64)>>,
}

#[cfg(feature = "private-key-jwt")]
impl Minter {
    /// The cached secret, or a new one when the cached one is near its expiry.
    fn secret(&self, client_id: &str) -> Result<::oauth2::ClientSecret, OAuthError> {
        self.secret_at(client_id, now_unix())
    }

    /// [`secret`](Self::secret) at time `now` (Unix seconds).
    fn secret_at(&self, client_id: &str, now: u64) -> Result<::oauth2::ClientSecret, OAuthError> {
        let lifetime = self.spec.lifetime.as_secs();
        let margin = (lifetime / 10).min(3600);
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((secret, exp)) = &*current {
            if now + margin < *exp {
                return Ok(secret.clone());
            }
        }
        let exp = now + lifetime;
        let claims = json!({
            "iss": self.spec.issuer,
            "iat": now,
            "exp": exp,
            "aud": self.spec.audience,
            "sub": client_id,
        });
        let jwt = signed_with_key(&self.key, &claims)?;
        let secret = ::oauth2::ClientSecret::new(jwt);
        *current = Some((secret.clone(), exp));
        Ok(secret)
    }
}

/// This client's authentication, checked when the app is built.
pub(crate) struct Authentication {
    pub(crate) method: ClientAuth,
    audience: AssertionAudience,
    /// The configured issuer, for [`AssertionAudience::Issuer`].
    issuer: Option<String>,
    #[cfg(feature = "private-key-jwt")]
    key: Option<ClientKey>,
    #[cfg(feature = "private-key-jwt")]
    minter: Option<Minter>,
}

/// What the remote app builder hands over about client authentication.
#[derive(Clone, Default)]
pub(crate) struct AuthConfig {
    pub(crate) method: ClientAuth,
    pub(crate) audience: AssertionAudience,
    #[cfg(feature = "private-key-jwt")]
    pub(crate) key: Option<ClientKey>,
    #[cfg(feature = "private-key-jwt")]
    pub(crate) minted: Option<MintedSecret>,
}

/// The proof a request carries: an `Authorization` header and/or form parameters.
pub(crate) struct ClientProof {
    pub(crate) authorization: Option<String>,
    pub(crate) form: Vec<(&'static str, String)>,
}

impl ClientProof {
    /// Adds the header to a request being built.
    pub(crate) fn header(&self, builder: http::request::Builder) -> http::request::Builder {
        match &self.authorization {
            Some(value) => builder.header(header::AUTHORIZATION, value.as_str()),
            None => builder,
        }
    }
}

impl Authentication {
    /// Checks the configuration; `has_secret` says whether a client secret was configured.
    pub(crate) fn build(
        config: AuthConfig,
        has_secret: bool,
        issuer: Option<&str>,
        err: &dyn Fn(&str, &str) -> OAuthError,
    ) -> Result<Self, OAuthError> {
        if config.audience == AssertionAudience::Issuer && issuer.is_none() {
            return Err(err(
                "assertion_audience",
                "`Issuer` needs the provider's `issuer`",
            ));
        }

        #[cfg(feature = "private-key-jwt")]
        let minter = match config.minted {
            Some(spec) => {
                let key = config.key.clone().ok_or_else(|| {
                    err(
                        "minted_client_secret",
                        "needs the `client_key` to sign with",
                    )
                })?;
                if spec.lifetime > MintedSecret::MAX_LIFETIME || spec.lifetime.as_secs() < 60 {
                    return Err(err(
                        "minted_client_secret",
                        "lifetime must be between a minute and six months",
                    ));
                }
                if let Some(only) = spec.algorithm.filter(|a| *a != key.signing_algorithm()) {
                    return Err(err(
                        "client_key",
                        &format!(
                            "must sign with {}, the only algorithm the provider accepts for its \
                             client secret (Apple: the P-256 key it issued, a `.p8` file)",
                            only.as_str()
                        ),
                    ));
                }
                Some(Minter {
                    spec,
                    key,
                    current: std::sync::Mutex::new(None),
                })
            }
            None => None,
        };
        #[cfg(not(feature = "private-key-jwt"))]
        let minter: Option<()> = None;
        #[cfg(feature = "private-key-jwt")]
        let has_key = config.key.is_some();
        #[cfg(not(feature = "private-key-jwt"))]
        let has_key = false;
        match config.method {
            ClientAuth::PrivateKeyJwt if !has_key => {
                return Err(err(
                    "client_auth",
                    if cfg!(feature = "private-key-jwt") {
                        "`private_key_jwt` needs the `client_key` to sign with"
                    } else {
                        "`private_key_jwt` needs the `private-key-jwt` feature"
                    },
                ));
            }
            ClientAuth::PrivateKeyJwt => {}
            ClientAuth::None if has_secret || minter.is_some() => {
                return Err(err(
                    "client_auth",
                    "`none` is for public clients, which have no client secret: remove it, or \
                     choose a method that uses it",
                ));
            }
            ClientAuth::None => {}
            _ if !has_secret && minter.is_none() => {
                return Err(err("consumer_secret", "(the client secret) is required"));
            }
            _ => {}
        }
        Ok(Self {
            method: config.method,
            audience: config.audience,
            issuer: issuer.map(str::to_owned),
            #[cfg(feature = "private-key-jwt")]
            key: config.key,
            #[cfg(feature = "private-key-jwt")]
            minter,
        })
    }

    /// Whether the secret travels in the request (Basic or the body): a `GET` token request
    /// would then carry it, or the assertion, in a URL.
    pub(crate) fn puts_secret_in_form(&self) -> bool {
        !matches!(self.method, ClientAuth::Basic | ClientAuth::None)
    }

    /// The client's proof for one request to `to`.
    pub(crate) fn prove(
        &self,
        credentials: &Credentials,
        to: Destination<'_>,
    ) -> Result<ClientProof, OAuthError> {
        let id = credentials.id.as_str();
        let audience = match (self.audience, &self.issuer) {
            (AssertionAudience::Issuer, Some(issuer)) => issuer.as_str(),
            (AssertionAudience::TokenEndpoint, _) => to.token_url.as_str(),
            _ => to.endpoint.as_str(),
        };
        #[cfg(feature = "private-key-jwt")]
        let minted = self
            .minter
            .as_ref()
            .map(|minter| minter.secret(id))
            .transpose()?;
        #[cfg(feature = "private-key-jwt")]
        let secret = minted.as_ref().unwrap_or(&credentials.secret);
        #[cfg(not(feature = "private-key-jwt"))]
        let secret = &credentials.secret;
        Ok(match self.method {
            ClientAuth::Basic => ClientProof {
                authorization: Some(basic(id, secret.secret())),
                form: Vec::new(),
            },
            ClientAuth::None => ClientProof {
                authorization: None,
                form: vec![("client_id", id.to_owned())],
            },
            ClientAuth::RequestBody => ClientProof {
                authorization: None,
                form: vec![
                    ("client_id", id.to_owned()),
                    ("client_secret", secret.secret().clone()),
                ],
            },
            ClientAuth::ClientSecretJwt => {
                let claims = assertion_claims(id, audience);
                let jwt = compact("HS256", None, &claims, |input| {
                    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.secret().as_bytes())
                        .map_err(|_| OAuthError::config("the client secret cannot key HMAC."))?;
                    mac.update(input);
                    Ok(mac.finalize().into_bytes().to_vec())
                })?;
                assertion(id, jwt)
            }
            ClientAuth::PrivateKeyJwt => {
                #[cfg(feature = "private-key-jwt")]
                {
                    let key = self.key.as_ref().ok_or_else(|| {
                        OAuthError::config("`private_key_jwt` has no client key.")
                    })?;
                    let jwt = signed_with_key(key, &assertion_claims(id, audience))?;
                    assertion(id, jwt)
                }
                #[cfg(not(feature = "private-key-jwt"))]
                return Err(OAuthError::config(
                    "`private_key_jwt` needs the `private-key-jwt` feature.",
                ));
            }
        })
    }
}

/// `Authorization: Basic` with both parts form-urlencoded first (RFC 6749 §2.3.1).
pub(crate) fn basic(id: &str, secret: &str) -> String {
    let id: String = form_urlencoded::byte_serialize(id.as_bytes()).collect();
    let secret: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

/// The claims of a client assertion (RFC 7523 §3): this client as `iss` and `sub`, `audience`
/// as `aud` (one string), a fresh `jti`, valid for a minute.
fn assertion_claims(client_id: &str, audience: &str) -> Value {
    let now = now_unix();
    json!({
        "iss": client_id,
        "sub": client_id,
        "aud": audience,
        "jti": random_token(),
        "iat": now,
        "exp": now + ASSERTION_LIFETIME_SECS,
    })
}

/// The form parameters of a JWT assertion (RFC 7523 §2.2, RFC 7521 §4.2); `client_id` too, as
/// OpenID Connect and most providers accept and some require.
fn assertion(client_id: &str, jwt: String) -> ClientProof {
    ClientProof {
        authorization: None,
        form: vec![
            ("client_id", client_id.to_owned()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion", jwt),
        ],
    }
}

/// `claims` as a compact JWS signed with `key` (its `alg`, and its `kid` when it has one).
#[cfg(feature = "private-key-jwt")]
fn signed_with_key(key: &ClientKey, claims: &Value) -> Result<String, OAuthError> {
    compact(
        key.signing_algorithm().as_str(),
        key.id(),
        claims,
        |input| key.sign(input),
    )
}

/// A compact JWS (RFC 7515 §7.1): `header.claims.signature`, each base64url.
fn compact(
    alg: &str,
    kid: Option<&str>,
    claims: &Value,
    sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, OAuthError>,
) -> Result<String, OAuthError> {
    let mut header = json!({ "alg": alg, "typ": "JWT" });
    if let Some(kid) = kid {
        header["kid"] = Value::String(kid.to_owned());
    }
    let mut jws = URL_SAFE_NO_PAD.encode(header.to_string());
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(claims.to_string()));
    let signature = sign(jws.as_bytes())?;
    jws.push('.');
    jws.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(jws)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> Credentials {
        Credentials {
            id: ::oauth2::ClientId::new("client:1".to_owned()),
            secret: ::oauth2::ClientSecret::new("a secret of at least thirty-two bytes".to_owned()),
        }
    }

    fn built(method: ClientAuth) -> Authentication {
        let config = AuthConfig {
            method,
            ..AuthConfig::default()
        };
        Authentication::build(config, true, None, &|f, w| {
            OAuthError::config(format!("{f} {w}"))
        })
        .unwrap()
    }

    fn claims_of(jwt: &str) -> Value {
        let part = jwt.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn client_secret_jwt_is_hs256_over_the_secret_for_the_token_endpoint() {
        let token_url = Url::parse("https://id.example/token").unwrap();
        let proof = built(ClientAuth::ClientSecretJwt)
            .prove(&credentials(), Destination::token_endpoint(&token_url))
            .unwrap();
        assert!(proof.authorization.is_none());
        let form: std::collections::HashMap<_, _> = proof.form.into_iter().collect();
        assert_eq!(
            form["client_assertion_type"],
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        );
        assert!(
            !form.values().any(|v| v.contains("thirty-two")),
            "no secret"
        );
        let jwt = &form["client_assertion"];
        let claims = claims_of(jwt);
        assert_eq!(claims["iss"], "client:1");
        assert_eq!(claims["sub"], "client:1");
        assert_eq!(claims["aud"], "https://id.example/token");
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            60
        );
        // The signature is HMAC-SHA256 of `header.claims` under the secret.
        let (input, signature) = jwt.rsplit_once('.').unwrap();
        let mut mac =
            Hmac::<sha2::Sha256>::new_from_slice(b"a secret of at least thirty-two bytes").unwrap();
        mac.update(input.as_bytes());
        mac.verify_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap())
            .expect("HS256 under the client secret");
        // A fresh `jti` each time.
        let again = built(ClientAuth::ClientSecretJwt)
            .prove(&credentials(), Destination::token_endpoint(&token_url))
            .unwrap();
        let again: std::collections::HashMap<_, _> = again.form.into_iter().collect();
        assert_ne!(claims["jti"], claims_of(&again["client_assertion"])["jti"]);
    }

    #[test]
    fn assertions_name_the_endpoint_they_are_sent_to_unless_told_otherwise() {
        let token_url = Url::parse("https://id.example/token").unwrap();
        let par_url = Url::parse("https://id.example/par").unwrap();
        let to_par = Destination {
            endpoint: &par_url,
            token_url: &token_url,
        };
        let audience = |audience, issuer| {
            let config = AuthConfig {
                method: ClientAuth::ClientSecretJwt,
                audience,
                ..AuthConfig::default()
            };
            let auth = Authentication::build(config, true, issuer, &|f, w| {
                OAuthError::config(format!("{f} {w}"))
            })?;
            let proof = auth.prove(&credentials(), to_par)?;
            let form: std::collections::HashMap<_, _> = proof.form.into_iter().collect();
            Ok::<_, OAuthError>(claims_of(&form["client_assertion"])["aud"].clone())
        };
        assert_eq!(
            audience(AssertionAudience::Endpoint, None).unwrap(),
            "https://id.example/par"
        );
        assert_eq!(
            audience(AssertionAudience::TokenEndpoint, None).unwrap(),
            "https://id.example/token"
        );
        assert_eq!(
            audience(AssertionAudience::Issuer, Some("https://id.example")).unwrap(),
            "https://id.example"
        );
        let err = audience(AssertionAudience::Issuer, None).unwrap_err();
        assert!(err.to_string().contains("issuer"), "{err}");
    }

    #[cfg(feature = "private-key-jwt")]
    #[test]
    fn a_minted_secret_is_reused_then_renewed_before_it_expires() {
        let key = ClientKey::from_pem(include_str!("../../tests/data/es256-client-key.pem"))
            .unwrap()
            .key_id("K1");
        let minter = Minter {
            spec: MintedSecret::new("TEAM", "https://appleid.apple.com")
                .lifetime(std::time::Duration::from_secs(1000)),
            key,
            current: std::sync::Mutex::new(None),
        };
        let t0 = 1_800_000_000;
        let first = minter.secret_at("app", t0).unwrap();
        let claims = claims_of(first.secret());
        assert_eq!(claims["iss"], "TEAM");
        assert_eq!(claims["sub"], "app");
        assert_eq!(claims["aud"], "https://appleid.apple.com");
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            1000
        );
        // A tenth of its life is the margin: reused until then, renewed from then on.
        let reused = minter.secret_at("app", t0 + 899).unwrap();
        assert_eq!(reused.secret(), first.secret());
        let renewed = minter.secret_at("app", t0 + 900).unwrap();
        assert_ne!(renewed.secret(), first.secret());
        assert_eq!(claims_of(renewed.secret())["iat"], t0 + 900);
        assert_eq!(
            minter.secret_at("app", t0 + 901).unwrap().secret(),
            renewed.secret()
        );
    }

    #[test]
    fn basic_form_encodes_both_parts() {
        assert_eq!(
            basic("a b", "c:d"),
            format!("Basic {}", STANDARD.encode("a+b:c%3Ad"))
        );
        let proof = built(ClientAuth::RequestBody)
            .prove(
                &credentials(),
                Destination::token_endpoint(&Url::parse("https://id.example/t").unwrap()),
            )
            .unwrap();
        assert_eq!(proof.form[0], ("client_id", "client:1".to_owned()));
    }

    #[test]
    fn method_names_round_trip() {
        for method in [
            ClientAuth::Basic,
            ClientAuth::RequestBody,
            ClientAuth::ClientSecretJwt,
            ClientAuth::PrivateKeyJwt,
            ClientAuth::None,
        ] {
            assert_eq!(ClientAuth::from_name(method.as_str()), Some(method));
        }
        assert_eq!(ClientAuth::from_name("tls_client_auth"), None);
    }

    #[test]
    fn private_key_jwt_needs_a_key() {
        let config = AuthConfig {
            method: ClientAuth::PrivateKeyJwt,
            ..AuthConfig::default()
        };
        assert!(Authentication::build(config, true, None, &|f, w| {
            OAuthError::config(format!("{f} {w}"))
        })
        .is_err());
    }
}
