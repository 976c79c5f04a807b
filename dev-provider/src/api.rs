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
    cfg.route("/me", web::get().to(userinfo))
        .route("/form", web::get().to(form))
        .route("/xml", web::get().to(xml))
        .route("/echo", web::post().to(echo));
}

/// `GET /oauth2/userinfo` and `GET /api/me`: who the bearer token speaks for; `sub` is the
/// `id_token`'s.
pub(super) async fn userinfo(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    match subject(&req, &shared) {
        Some(Subject::User(username)) => match shared.config.user(&username) {
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

/// The username or client a bearer token speaks for, as one string.
fn who(req: &HttpRequest, shared: &Shared) -> Option<String> {
    match subject(req, shared)? {
        Subject::User(username) => Some(username),
        Subject::Client(client_id) => Some(format!("client:{client_id}")),
    }
}

/// `GET /api/form`: who the token speaks for, form-encoded.
async fn form(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    match who(&req, &shared) {
        Some(user) => HttpResponse::Ok()
            .content_type("application/x-www-form-urlencoded")
            .body(
                serde_urlencoded::to_string([("user", user.as_str()), ("format", "form")])
                    .unwrap_or_default(),
            ),
        None => invalid_token(),
    }
}

/// `GET /api/xml`: who the token speaks for, as XML.
async fn xml(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    let Some(Subject::User(username)) = subject(&req, &shared) else {
        return invalid_token();
    };
    let Some(user) = shared.config.user(&username) else {
        return invalid_token();
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
    let Some(user) = who(&req, &shared) else {
        return invalid_token();
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
