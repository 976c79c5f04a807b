//! The app every preset test signs in with (`tests/presets.rs`, `tests/presets_more.rs`):
//! `/auth/{provider}`, a callback answering the normalized profile and the token's shape, and
//! `/call/{provider}/…` for API calls, with cookie sessions; and `rebase`, which moves a
//! preset's URL to a fake provider.
#![allow(dead_code)]

use std::time::Duration;

use actix_oauth::{
    providers::Any, AuthorizedResponse, OAuth, OAuthError, OAuthExtension, OAuthMiddleware,
    RemoteAppBuilder,
};
use actix_session::{
    config::CookieContentSecurity, storage::CookieSessionStore, SessionMiddleware,
};
use actix_web::{cookie::Key, web, App, HttpRequest, HttpResponse, ResponseError as _};
use serde_json::json;
use url::Url;

use super::{listener, serve, Running as Server};

async fn login(
    req: HttpRequest,
    oauth: OAuthExtension,
    provider: web::Path<String>,
) -> Result<HttpResponse, OAuthError> {
    oauth.authorize(&req, &provider, None).await
}

pub fn error_json(err: &OAuthError) -> HttpResponse {
    HttpResponse::build(err.status_code())
        .json(json!({ "error": err.kind().as_str(), "message": err.to_string() }))
}

/// The handshake is complete here; the page is the user's normalized profile.
async fn callback(resp: Option<AuthorizedResponse<Any>>, oauth: OAuthExtension) -> HttpResponse {
    let Some(resp) = resp else {
        return HttpResponse::Ok().json(json!({ "denied": true }));
    };
    let token = resp.token();
    match oauth.profile(resp.provider(), token).await {
        Ok(profile) => HttpResponse::Ok().json(json!({
            "profile": profile,
            "token": {
                "token_type": token.token_type(),
                "scope": token.scope(),
                "expires_in": token.expires_in().map(|d| d.as_secs()),
                "has_refresh_token": token.refresh_token().is_some(),
                "extra": token.extra(),
            },
        })),
        Err(err) => error_json(&err),
    }
}

/// An API call on the signed-in user's behalf.
async fn call(
    req: HttpRequest,
    oauth: OAuthExtension,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let (provider, tail) = path.into_inner();
    match oauth.get(&req, &provider, &tail).send().await {
        Ok(resp) => HttpResponse::Ok().json(json!({
            "status": resp.status(),
            "data": resp.data().to_json(),
        })),
        Err(err) => error_json(&err),
    }
}

/// Starts an app with these remote apps on a loopback port.
pub fn app_with(apps: Vec<RemoteAppBuilder>) -> Server {
    let (listener, url) = listener();
    let mut oauth = OAuth::new()
        .public_url(url.as_str())
        .timeout(Duration::from_secs(5));
    for app in apps {
        oauth = oauth.remote_app(app);
    }
    let oauth = oauth.build().expect("valid configuration");
    let key = Key::generate();
    serve(listener, move || {
        App::new()
            .app_data(oauth.clone())
            .wrap(OAuthMiddleware::new())
            .wrap(
                SessionMiddleware::builder(CookieSessionStore::default(), key.clone())
                    .cookie_secure(false)
                    .cookie_content_security(CookieContentSecurity::Private)
                    .build(),
            )
            .route("/auth/{provider}", web::get().to(login))
            .route("/auth/{provider}/callback", web::get().to(callback))
            .route("/call/{provider}/{tail:.*}", web::get().to(call))
    })
}

/// `url` moved to `origin`, its path and query kept (`https://github.com/login/oauth/authorize`
/// → `http://127.0.0.1:PORT/login/oauth/authorize`).
pub fn rebase(url: &str, origin: &str) -> String {
    let parsed = Url::parse(url).expect("preset URL");
    let host = format!("{}://{}", parsed.scheme(), parsed.host_str().expect("host"));
    let rest = url.strip_prefix(&host).expect("URL starts with its origin");
    format!("{origin}{rest}")
}
