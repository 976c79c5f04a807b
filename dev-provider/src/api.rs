//! Protected resources: the userinfo endpoint and the API under `/api/`, reached with a bearer
//! token ([RFC 6750]) or a DPoP-bound one with its proof ([RFC 9449 §7]).
//!
//! [RFC 6750]: https://www.rfc-editor.org/rfc/rfc6750
//! [RFC 9449 §7]: https://www.rfc-editor.org/rfc/rfc9449#section-7

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use std::sync::atomic::Ordering;

use super::dpop::{request_url, ProofError, DPOP_NONCE};
use super::params::credentials;
use super::state::{Shared, Subject};

/// The API under `/api/`; add new endpoints here.
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/me", web::get().to(userinfo))
        .route("/form", web::get().to(form))
        .route("/xml", web::get().to(xml))
        .route("/echo", web::post().to(echo));
}

/// `GET /oauth2/userinfo` and `GET /api/me`: who the bearer token speaks for; `sub` is the
/// `id_token`'s.
pub(super) async fn userinfo(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    match subject(&req, &shared) {
        Ok(Subject::User(username)) => match shared.config.user(&username) {
            Some(user) => {
                let mut info = json!({
                    "sub": user.subject(),
                    "name": user.name,
                    "preferred_username": user.username,
                    "email": user.email,
                    "email_verified": user.email_verified,
                });
                if let Some(picture) = &user.picture {
                    info["picture"] = json!(picture);
                }
                HttpResponse::Ok().json(info)
            }
            None => Refusal::InvalidToken.response(&shared),
        },
        Ok(Subject::Client(client_id)) => HttpResponse::Ok().json(json!({
            "sub": format!("client:{client_id}"),
            "client_id": client_id,
        })),
        Err(refusal) => refusal.response(&shared),
    }
}

/// Why a protected resource refuses a request.
enum Refusal {
    /// The token is missing, unknown, expired or revoked, or bound to a key the request does
    /// not prove.
    InvalidToken,
    /// The DPoP proof is refused (RFC 9449 §7.1).
    Proof(ProofError),
}

impl Refusal {
    /// `401` with an [RFC 6750 §3] or [RFC 9449 §7.1] challenge.
    ///
    /// [RFC 6750 §3]: https://www.rfc-editor.org/rfc/rfc6750#section-3
    /// [RFC 9449 §7.1]: https://www.rfc-editor.org/rfc/rfc9449#section-7.1
    fn response(self, shared: &Shared) -> HttpResponse {
        let (scheme_error, description) = match &self {
            Refusal::InvalidToken => (
                "invalid_token",
                "The access token is missing, unknown, expired or revoked, or bound to a DPoP key the request does not prove.",
            ),
            Refusal::Proof(ProofError::Invalid(why)) => ("invalid_dpop_proof", *why),
            Refusal::Proof(ProofError::UseNonce) => (
                "use_dpop_nonce",
                "The DPoP proof must carry the nonce of the DPoP-Nonce header.",
            ),
        };
        let mut response = HttpResponse::Unauthorized();
        match &self {
            Refusal::InvalidToken => {
                response
                    .append_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""));
                response.append_header((
                    header::WWW_AUTHENTICATE,
                    "DPoP algs=\"ES256\", error=\"invalid_token\"",
                ));
            }
            Refusal::Proof(error) => {
                shared.dpop.count(error);
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("DPoP algs=\"ES256\", error=\"{scheme_error}\""),
                ));
                if *error == ProofError::UseNonce {
                    response.insert_header((DPOP_NONCE, shared.dpop.nonce()));
                }
            }
        }
        response.json(json!({
            "error": scheme_error,
            "error_description": description,
        }))
    }
}

/// Who the request's token speaks for: a bearer token (`Authorization: Bearer`), or a token
/// sent as `Authorization: DPoP` with a valid proof (RFC 9449 §7). A DPoP-bound token is
/// refused as a bearer token and with a proof by another key.
fn subject(req: &HttpRequest, shared: &Shared) -> Result<Subject, Refusal> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(Refusal::InvalidToken)?;
    if let Some(token) = credentials(value, "DPoP") {
        let (subject, bound) = shared
            .store()
            .access_subject(token)
            .ok_or(Refusal::InvalidToken)?;
        let url = request_url(&shared.config.base_url, req).ok_or(Refusal::InvalidToken)?;
        let nonce_required = shared.dpop.api_nonce.load(Ordering::SeqCst);
        let jkt = shared
            .dpop
            .verify(req, &url, Some(token), nonce_required)
            .map_err(Refusal::Proof)?
            .ok_or(Refusal::Proof(ProofError::Invalid(
                "A DPoP token comes with a DPoP proof.",
            )))?;
        if bound.is_some_and(|bound| bound != jkt) {
            return Err(Refusal::InvalidToken);
        }
        return Ok(subject);
    }
    let token = credentials(value, "Bearer").ok_or(Refusal::InvalidToken)?;
    match shared.store().access_subject(token) {
        Some((subject, None)) => Ok(subject),
        // RFC 9449 §7.2: a bound token is no bearer token.
        _ => Err(Refusal::InvalidToken),
    }
}

/// The username or client a token speaks for, as one string.
fn who(req: &HttpRequest, shared: &Shared) -> Result<String, Refusal> {
    Ok(match subject(req, shared)? {
        Subject::User(username) => username,
        Subject::Client(client_id) => format!("client:{client_id}"),
    })
}

/// `GET /api/form`: who the token speaks for, form-encoded.
async fn form(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    match who(&req, &shared) {
        Ok(user) => HttpResponse::Ok()
            .content_type("application/x-www-form-urlencoded")
            .body(
                serde_urlencoded::to_string([("user", user.as_str()), ("format", "form")])
                    .unwrap_or_default(),
            ),
        Err(refusal) => refusal.response(&shared),
    }
}

/// `GET /api/xml`: who the token speaks for, as XML.
async fn xml(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    let username = match subject(&req, &shared) {
        Ok(Subject::User(username)) => username,
        Ok(Subject::Client(_)) => return Refusal::InvalidToken.response(&shared),
        Err(refusal) => return refusal.response(&shared),
    };
    let Some(user) = shared.config.user(&username) else {
        return Refusal::InvalidToken.response(&shared);
    };
    HttpResponse::Ok()
        .content_type("application/xml; charset=utf-8")
        .body(format!(
            "<?xml version=\"1.0\"?>\n<user id=\"{}\"><name>{}</name><email>{}</email></user>\n",
            super::pages::escape(&user.subject()),
            super::pages::escape(&user.name),
            super::pages::escape(&user.email),
        ))
}

/// `POST /api/echo`: the method, query and form body as received, and who sent them.
async fn echo(req: HttpRequest, shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    let user = match who(&req, &shared) {
        Ok(user) => user,
        Err(refusal) => return refusal.response(&shared),
    };
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let object = |pairs: Vec<(String, String)>| -> serde_json::Map<String, serde_json::Value> {
        pairs
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect()
    };
    HttpResponse::Ok().json(json!({
        "method": req.method().as_str(),
        "query": object(query),
        "form": object(form),
        "user": user,
    }))
}
