//! Pushed authorization requests ([RFC 9126]): `POST /oauth2/par` takes the authorization
//! request's parameters from an authenticated client and answers a one-time `request_uri`; the
//! authorization endpoint then takes `client_id` and that `request_uri` only, and never lets
//! the browser change what was pushed.
//!
//! [RFC 9126]: https://www.rfc-editor.org/rfc/rfc9126

use std::time::{Duration, Instant};

use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::params::Params;
use super::state::Shared;

/// How long a `request_uri` may be used ([RFC 9126 §2.2] suggests 5 to 600 seconds).
///
/// [RFC 9126 §2.2]: https://www.rfc-editor.org/rfc/rfc9126#section-2.2
const LIFETIME: Duration = Duration::from_secs(60);

/// The prefix of the `request_uri`s issued ([RFC 9126 §2.2]).
const URN: &str = "urn:ietf:params:oauth:request_uri:";

/// Client authentication parameters: taken by the endpoint, never part of the request.
const CLIENT_AUTH: [&str; 3] = ["client_secret", "client_assertion", "client_assertion_type"];

/// A pushed request, until it is used or expires.
pub(super) struct Pushed {
    client_id: String,
    params: Vec<(String, String)>,
    expires: Instant,
}

fn error(status: StatusCode, error: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "error": error, "error_description": description }))
}

/// `POST /oauth2/par`: authenticates the client as the token endpoint does, checks the request
/// as the authorization endpoint would, and answers `201` with its `request_uri`.
pub(super) async fn push(
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    if req.method() != Method::POST {
        return error(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request",
            "The pushed authorization request endpoint only accepts POST.",
        );
    }
    let params = match super::token::form_request(&req, body) {
        Ok(params) => params,
        Err(refused) => return refused.into_response(),
    };
    let client = match super::token::authenticate(&req, &params, &shared.config, &shared) {
        Ok(client) => client,
        Err(refused) => return refused.into_response(),
    };
    if params.get("request_uri").ok().flatten().is_some() {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "A pushed request may not itself carry a request_uri.",
        );
    }
    if params.get("client_id").ok().flatten() != Some(client.id.as_str()) {
        return error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "The client_id must be the authenticated client's.",
        );
    }
    let request: Vec<(String, String)> = params
        .iter()
        .filter(|(name, _)| !CLIENT_AUTH.contains(name))
        .map(|(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    if let Err(refused) =
        super::authorize::check(&shared.config, &Params::from_pairs(request.clone()))
    {
        return error(StatusCode::BAD_REQUEST, refused.0, refused.1);
    }
    let request_uri = format!("{URN}{}", super::state::random_token());
    let mut pushed = shared.pushed();
    let now = Instant::now();
    pushed.retain(|_, p| p.expires > now);
    pushed.insert(
        request_uri.clone(),
        Pushed {
            client_id: client.id.clone(),
            params: request,
            expires: now + LIFETIME,
        },
    );
    HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({ "request_uri": request_uri, "expires_in": LIFETIME.as_secs() }))
}

/// The request an authorization request names by `request_uri`, for its `client_id`: `take`
/// uses it up (the decision), else it stays for the decision (the consent page). `Err` is why
/// not, for a page: unknown, expired, or another client's.
pub(super) fn resolve(
    shared: &Shared,
    client_id: Option<&str>,
    request_uri: &str,
    take: bool,
) -> Result<Params, &'static str> {
    let mut pushed = shared.pushed();
    let found = pushed
        .get(request_uri)
        .filter(|p| p.expires > Instant::now())
        .ok_or("The request_uri is unknown, used or expired.")?;
    if client_id != Some(found.client_id.as_str()) {
        return Err("The request_uri belongs to another client.");
    }
    let params = Params::from_pairs(found.params.clone());
    if take {
        pushed.remove(request_uri);
    }
    Ok(params)
}
