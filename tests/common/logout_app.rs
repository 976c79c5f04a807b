//! The app of the logout tests (`tests/logout.rs`, `tests/interop_oidc.rs`): sign-in, `/me` (who
//! the session says is signed in), the token, sign-out, RP-initiated logout and its return, and
//! the back-channel logout route.
#![allow(dead_code)]

use actix_oauth::OAuthExtension;
use actix_session::{storage::SessionStore, Session, SessionMiddleware};
use actix_web::{cookie::Key, web, App, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::common::{serve, Running};

/// The app under test: sign-in, `/me` (who the session says is signed in), the token, sign-out,
/// RP-initiated logout and its return, and the back-channel logout route; its sessions in the
/// store `sessions` makes.
pub fn serve_app<S: SessionStore + 'static>(
    oauth: OAuthExtension,
    sessions: impl Fn() -> S + Send + Clone + 'static,
    key: Key,
    listener: std::net::TcpListener,
) -> Running {
    serve(listener, move || {
        App::new()
            .app_data(oauth.clone())
            .wrap(actix_oauth::OAuthMiddleware::new())
            .wrap(
                SessionMiddleware::builder(sessions(), key.clone())
                    .cookie_secure(false)
                    .build(),
            )
            .configure(routes)
    })
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/{provider}", web::get().to(login))
        .route("/auth/{provider}/callback", web::get().to(callback))
        .route("/auth/{provider}/logged-out", web::get().to(logged_out))
        .route(
            "/auth/{provider}/backchannel-logout",
            web::post().to(backchannel),
        )
        .route("/me", web::get().to(me))
        .route("/token/{provider}", web::get().to(token))
        .route("/signout", web::post().to(signout))
        .route("/logout/{provider}", web::post().to(logout));
}

async fn login(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> HttpResponse {
    oauth
        .authorize(&req, &provider, None)
        .await
        .unwrap_or_else(|e| actix_web::ResponseError::error_response(&e))
}

async fn callback(
    resp: Option<actix_oauth::AuthorizedResponse<actix_oauth::providers::Any>>,
    session: Session,
) -> HttpResponse {
    let Some(resp) = resp else {
        return HttpResponse::Forbidden().finish();
    };
    let sub = resp
        .token()
        .id_token_claims()
        .and_then(|c| c.get("sub"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    session.insert("user", &sub).expect("session");
    HttpResponse::Ok().json(json!({ "user": sub }))
}

async fn me(session: Session) -> HttpResponse {
    match session.get::<String>("user").ok().flatten() {
        Some(user) => HttpResponse::Ok().json(json!({ "user": user })),
        None => HttpResponse::Unauthorized().json(json!({ "error": "not_signed_in" })),
    }
}

async fn token(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> HttpResponse {
    match oauth.session_token(&req, &provider).await {
        Ok(token) => HttpResponse::Ok().json(json!({
            "access_token": token.access_token().secret(),
            "refresh_token": token.refresh_token().map(|r| r.secret().clone()),
        })),
        Err(e) => actix_web::ResponseError::error_response(&e),
    }
}

async fn signout(req: HttpRequest, oauth: OAuthExtension) -> HttpResponse {
    oauth.sign_out(&req).await.expect("the token store");
    HttpResponse::SeeOther()
        .insert_header(("location", "/"))
        .finish()
}

async fn logout(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> HttpResponse {
    oauth
        .end_session(&req, &provider, "/bye")
        .await
        .unwrap_or_else(|e| actix_web::ResponseError::error_response(&e))
}

async fn logged_out(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> HttpResponse {
    match oauth.logged_out(&req, &provider).await {
        Ok(()) => HttpResponse::SeeOther()
            .insert_header(("location", "/"))
            .finish(),
        Err(e) => actix_web::ResponseError::error_response(&e),
    }
}

async fn backchannel(
    oauth: OAuthExtension,
    provider: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    oauth.backchannel_logout(&provider, &body).await
}
