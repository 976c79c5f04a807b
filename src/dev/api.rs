//! Protected resources: the userinfo endpoint and the API under `/api/`, reached with a bearer
//! token ([RFC 6750]).
//!
//! [RFC 6750]: https://www.rfc-editor.org/rfc/rfc6750

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::params::credentials;
use super::state::{Shared, Subject};

/// The API under `/api/`; add new endpoints here.
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/me", web::get().to(userinfo));
}

/// `GET /oauth2/userinfo` and `GET /api/me`: who the bearer token speaks for.
pub(super) async fn userinfo(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    match subject(&req, &shared) {
        Some(Subject::User(username)) => match shared.config.user(&username) {
            Some(user) => HttpResponse::Ok().json(json!({
                "sub": user.subject(),
                "name": user.name,
                "preferred_username": user.username,
                "email": user.email,
                "email_verified": user.email_verified,
            })),
            None => invalid_token(),
        },
        Some(Subject::Client(client_id)) => HttpResponse::Ok().json(json!({
            "sub": format!("client:{client_id}"),
            "client_id": client_id,
        })),
        None => invalid_token(),
    }
}

/// Who the request's bearer token speaks for; `None` when it is missing, unknown, expired or
/// revoked.
fn subject(req: &HttpRequest, shared: &Shared) -> Option<Subject> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let token = credentials(value, "Bearer")?;
    shared.store().access_subject(token)
}

/// `401` with an [RFC 6750 §3] challenge.
///
/// [RFC 6750 §3]: https://www.rfc-editor.org/rfc/rfc6750#section-3
fn invalid_token() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header((header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\""))
        .json(json!({
            "error": "invalid_token",
            "error_description": "The access token is missing, unknown, expired or revoked.",
        }))
}
