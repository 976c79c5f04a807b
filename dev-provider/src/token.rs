//! The token endpoint ([RFC 6749 §3.2]): client authentication and the three grants, with an
//! `id_token` when the scope contains `openid` ([OpenID Connect Core 1.0 §3.1.3.3]).
//!
//! [RFC 6749 §3.2]: https://www.rfc-editor.org/rfc/rfc6749#section-3.2
//! [OpenID Connect Core 1.0 §3.1.3.3]: https://openid.net/specs/openid-connect-core-1_0.html#TokenResponse

use std::sync::atomic::Ordering;

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Serialize;

use super::client_auth::{verify_assertion, JWT_BEARER};
use super::dpop::{self, ProofError, DPOP_NONCE};
use super::oidc;
use super::params::{credentials, form_urldecode, Params};
use super::state::{is_valid_scope, Client, Config, Issued, Refused, Shared, DEFAULT_SCOPE};
use super::DevClientAuth;

/// An [RFC 6749 §5.2] error response.
///
/// [RFC 6749 §5.2]: https://www.rfc-editor.org/rfc/rfc6749#section-5.2
pub(super) struct TokenError {
    status: StatusCode,
    error: &'static str,
    description: &'static str,
    /// The client tried HTTP Basic: answer with a matching challenge.
    basic_challenge: bool,
    /// The nonce to send in `DPoP-Nonce` (a `use_dpop_nonce` answer).
    dpop_nonce: Option<String>,
}

impl TokenError {
    pub(super) fn invalid_request(description: &'static str) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description,
            basic_challenge: false,
            dpop_nonce: None,
        }
    }

    /// A refused DPoP proof ([RFC 9449 §5]): `invalid_dpop_proof`, or `use_dpop_nonce` with
    /// the nonce to use.
    ///
    /// [RFC 9449 §5]: https://www.rfc-editor.org/rfc/rfc9449#section-5
    fn dpop(error: ProofError, shared: &Shared) -> Self {
        shared.dpop.count(&error);
        match error {
            ProofError::Invalid(description) => Self {
                error: "invalid_dpop_proof",
                ..Self::invalid_request(description)
            },
            ProofError::UseNonce => Self {
                error: "use_dpop_nonce",
                dpop_nonce: Some(shared.dpop.nonce()),
                ..Self::invalid_request(
                    "The DPoP proof must carry the nonce of the DPoP-Nonce header.",
                )
            },
        }
    }

    fn invalid_client(description: &'static str, basic_challenge: bool) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            error: "invalid_client",
            description,
            basic_challenge,
            dpop_nonce: None,
        }
    }

    pub(super) fn into_response(self) -> HttpResponse {
        #[derive(Serialize)]
        struct Body {
            error: &'static str,
            error_description: &'static str,
        }
        let mut response = no_store(HttpResponse::build(self.status));
        if self.basic_challenge {
            response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"dev\""));
        }
        if let Some(nonce) = self.dpop_nonce {
            response.insert_header((DPOP_NONCE, nonce));
        }
        response.json(Body {
            error: self.error,
            error_description: self.description,
        })
    }
}

impl From<Refused> for TokenError {
    fn from(refused: Refused) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error: refused.error,
            description: refused.description,
            basic_challenge: false,
            dpop_nonce: None,
        }
    }
}

/// Every token endpoint response forbids caching ([RFC 6749 §5.1]).
///
/// [RFC 6749 §5.1]: https://www.rfc-editor.org/rfc/rfc6749#section-5.1
pub(super) fn no_store(
    mut builder: actix_web::HttpResponseBuilder,
) -> actix_web::HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"));
    builder
}

#[derive(Serialize)]
struct TokenResponse<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<&'a str>,
    scope: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<&'a str>,
}

/// `POST /oauth2/token`. Every request is counted, whatever its method or outcome.
pub(super) async fn token(
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    shared.token_requests.fetch_add(1, Ordering::SeqCst);
    let issued = match handle(&req, body, &shared) {
        Ok(issued) => issued,
        Err(error) => return error.into_response(),
    };
    let id_token = match &issued.authentication {
        Some(authentication) => {
            match oidc::id_token(&shared, authentication, &issued.access_token) {
                Ok(id_token) => Some(id_token),
                Err(oidc::SigningFailed) => {
                    return TokenError {
                        status: StatusCode::INTERNAL_SERVER_ERROR,
                        error: "server_error",
                        ..TokenError::invalid_request("The id_token could not be signed.")
                    }
                    .into_response()
                }
            }
        }
        None => None,
    };
    no_store(HttpResponse::Ok()).json(TokenResponse {
        access_token: &issued.access_token,
        // RFC 9449 §5: a token bound to the proof's key.
        token_type: if issued.dpop { "DPoP" } else { "Bearer" },
        expires_in: issued.expires_in,
        refresh_token: issued.refresh_token.as_deref(),
        scope: &issued.scope,
        id_token: id_token.as_deref(),
    })
}

fn handle(
    req: &HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    shared: &Shared,
) -> Result<Issued, TokenError> {
    if req.method() != Method::POST {
        return Err(TokenError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            ..TokenError::invalid_request("The token endpoint only accepts POST.")
        });
    }
    let params = form_request(req, body)?;
    let single = |name| {
        params
            .get(name)
            .map_err(|_| TokenError::invalid_request("A parameter is repeated."))
    };
    let required =
        |name, description| single(name)?.ok_or(TokenError::invalid_request(description));

    let config = &shared.config;
    // The proof first: a nonce round trip must not spend the code or the client assertion.
    let token_url = dpop::request_url(&config.base_url, req)
        .ok_or_else(|| TokenError::invalid_request("The request URL is malformed."))?;
    let jkt = shared
        .dpop
        .verify(req, &token_url, None, true)
        .map_err(|e| TokenError::dpop(e, shared))?;
    let jkt = jkt.as_deref();
    let client = authenticate(req, &params, config, shared)?;
    let grant_type = required("grant_type", "The grant_type parameter is missing.")?;
    match grant_type {
        "authorization_code" => {
            let code = required("code", "The code parameter is missing.")?;
            let redirect_uri = single("redirect_uri")?;
            let verifier = single("code_verifier")?;
            Ok(shared.store().redeem_code(
                code,
                &client.id,
                redirect_uri,
                verifier,
                config.token_lifetime(),
                jkt,
            )?)
        }
        "refresh_token" => {
            let refresh_token =
                required("refresh_token", "The refresh_token parameter is missing.")?;
            let scope = requested_scope(single("scope")?)?;
            Ok(shared.store().refresh(
                refresh_token,
                &client.id,
                scope,
                config.token_lifetime(),
                jkt,
            )?)
        }
        "client_credentials" => {
            let scope = requested_scope(single("scope")?)?.unwrap_or(DEFAULT_SCOPE);
            Ok(shared.store().issue_app_token(
                &client.id,
                scope.to_owned(),
                config.token_lifetime(),
                jkt,
            ))
        }
        super::device::DEVICE_CODE_GRANT => {
            let device_code = required("device_code", "The device_code parameter is missing.")?;
            Ok(super::device::redeem(shared, device_code, &client.id, jkt)?)
        }
        _ => Err(TokenError {
            error: "unsupported_grant_type",
            ..TokenError::invalid_request(
                "Supported grant types: authorization_code, refresh_token, client_credentials, \
                 urn:ietf:params:oauth:grant-type:device_code.",
            )
        }),
    }
}

/// `POST /oauth2/revoke` ([RFC 7009 §2]): the client authenticates as at the token endpoint and
/// names a token; `200` whether or not the provider knew it (§2.2).
///
/// [RFC 7009 §2]: https://www.rfc-editor.org/rfc/rfc7009#section-2
pub(super) async fn revoke(
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    match revoke_request(&req, body, &shared) {
        Ok(()) => no_store(HttpResponse::Ok()).finish(),
        Err(error) => error.into_response(),
    }
}

fn revoke_request(
    req: &HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    shared: &Shared,
) -> Result<(), TokenError> {
    if req.method() != Method::POST {
        return Err(TokenError {
            status: StatusCode::METHOD_NOT_ALLOWED,
            ..TokenError::invalid_request("The revocation endpoint only accepts POST.")
        });
    }
    let params = form_request(req, body)?;
    let client = authenticate(req, &params, &shared.config, shared)?;
    let repeated = |_| TokenError::invalid_request("A parameter is repeated.");
    let token = params
        .get("token")
        .map_err(repeated)?
        .ok_or(TokenError::invalid_request(
            "The token parameter is missing.",
        ))?;
    match params.get("token_type_hint").map_err(repeated)? {
        None | Some("access_token" | "refresh_token") => {}
        Some(_) => {
            return Err(TokenError {
                error: "unsupported_token_type",
                ..TokenError::invalid_request("Supported token types: access_token, refresh_token.")
            })
        }
    }
    Ok(shared.store().revoke(token, &client.id)?)
}

/// The parameters of a form body, as the token, revocation and pushed authorization request
/// endpoints take them: `application/x-www-form-urlencoded`, readable.
pub(super) fn form_request(
    req: &HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
) -> Result<Params, TokenError> {
    if !super::params::is_form(req) {
        return Err(TokenError::invalid_request(
            "The body must be application/x-www-form-urlencoded.",
        ));
    }
    let body = body.map_err(|_| TokenError::invalid_request("The body could not be read."))?;
    Params::parse(&body)
        .ok_or_else(|| TokenError::invalid_request("The body is not form-urlencoded."))
}

pub(super) fn requested_scope(scope: Option<&str>) -> Result<Option<&str>, TokenError> {
    match scope {
        Some(scope) if !is_valid_scope(scope) => Err(TokenError {
            error: "invalid_scope",
            ..TokenError::invalid_request("The scope parameter is malformed.")
        }),
        scope => Ok(scope),
    }
}

/// Authenticates the client ([RFC 6749 §2.3.1]): HTTP Basic with form-urlencoded id and
/// secret, or `client_id` and `client_secret` in the body, never both.
///
/// # Security
/// Secrets are compared in constant time.
///
/// [RFC 6749 §2.3.1]: https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1
pub(super) fn authenticate<'a>(
    req: &HttpRequest,
    params: &Params,
    config: &'a Config,
    shared: &Shared,
) -> Result<&'a Client, TokenError> {
    let repeated = |_| TokenError::invalid_request("A parameter is repeated.");
    let body_id = params.get("client_id").map_err(repeated)?;
    let body_secret = params.get("client_secret").map_err(repeated)?;
    if let Some(kind) = params.get("client_assertion_type").map_err(repeated)? {
        return authenticate_assertion(req, params, config, shared, body_id, body_secret, kind);
    }

    let (id, secret, basic) = match req.headers().get(header::AUTHORIZATION) {
        Some(value) => {
            let (id, secret) = basic_credentials(value).ok_or(TokenError::invalid_client(
                "The Authorization header is not valid HTTP Basic credentials.",
                true,
            ))?;
            if body_secret.is_some() {
                return Err(TokenError::invalid_request(
                    "Use one client authentication method: HTTP Basic or the body, not both.",
                ));
            }
            if body_id.is_some_and(|body_id| body_id != id) {
                return Err(TokenError::invalid_request(
                    "The client_id in the body differs from the HTTP Basic user name.",
                ));
            }
            (id, secret, true)
        }
        None => {
            let id = body_id.ok_or(TokenError::invalid_client(
                "Client authentication is missing.",
                false,
            ))?;
            if body_secret.is_none() {
                // A public client (RFC 6749 §2.1) sends its `client_id` alone.
                if let Some(client) = config.client(id) {
                    if client.auth == DevClientAuth::None {
                        return Ok(client);
                    }
                }
            }
            let secret = body_secret.ok_or(TokenError::invalid_client(
                "The client_secret parameter is missing.",
                false,
            ))?;
            (id.to_owned(), secret.to_owned(), false)
        }
    };
    match config.client(&id) {
        Some(client) if client.auth == DevClientAuth::None => Err(TokenError::invalid_client(
            "This public client has no secret: send its client_id alone.",
            basic,
        )),
        Some(client) if client.auth != DevClientAuth::ClientSecret => Err(TokenError::invalid_client(
            "This client authenticates with a JWT assertion (client_assertion), not its secret.",
            basic,
        )),
        Some(client) if client.secret_matches(&secret) => Ok(client),
        _ => Err(TokenError::invalid_client(
            "Client authentication failed.",
            basic,
        )),
    }
}

/// Authenticates a client by a JWT assertion ([RFC 7521 §4.2]): no other credentials beside it,
/// the client named by `client_id` or else by the assertion's `sub`.
///
/// [RFC 7521 §4.2]: https://www.rfc-editor.org/rfc/rfc7521#section-4.2
fn authenticate_assertion<'a>(
    req: &HttpRequest,
    params: &Params,
    config: &'a Config,
    shared: &Shared,
    body_id: Option<&str>,
    body_secret: Option<&str>,
    kind: &str,
) -> Result<&'a Client, TokenError> {
    if kind != JWT_BEARER {
        return Err(TokenError::invalid_client(
            "The client_assertion_type is not supported.",
            false,
        ));
    }
    if req.headers().contains_key(header::AUTHORIZATION) || body_secret.is_some() {
        return Err(TokenError::invalid_request(
            "Use one client authentication method: an assertion and nothing else.",
        ));
    }
    let assertion = params
        .get("client_assertion")
        .map_err(|_| TokenError::invalid_request("A parameter is repeated."))?
        .ok_or(TokenError::invalid_request(
            "The client_assertion is missing.",
        ))?;
    let id = match body_id {
        Some(id) => id.to_owned(),
        None => unverified_subject(assertion).ok_or(TokenError::invalid_client(
            "The client_assertion names no client.",
            false,
        ))?,
    };
    let client = config.client(&id).ok_or(TokenError::invalid_client(
        "Client authentication failed.",
        false,
    ))?;
    verify_assertion(shared, client, assertion, req.path())
        .map_err(|why| TokenError::invalid_client(why, false))?;
    Ok(client)
}

/// The `sub` of a JWT's claims, read without verifying it (to find whose key verifies it).
fn unverified_subject(jwt: &str) -> Option<String> {
    let claims = jwt.split('.').nth(1)?;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(claims)
            .ok()?,
    )
    .ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

/// The client id and secret of an HTTP Basic `Authorization` header, each form-urldecoded.
fn basic_credentials(value: &header::HeaderValue) -> Option<(String, String)> {
    let encoded = credentials(value.to_str().ok()?, "Basic")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_urldecode(id)?, form_urldecode(secret)?))
}
