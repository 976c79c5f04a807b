//! Ending sign-ins: RP-initiated logout at `end_session_endpoint` ([OpenID Connect RP-Initiated
//! Logout 1.0]) and back-channel logout tokens POSTed to the clients that registered a
//! `backchannel_logout_uri` ([OpenID Connect Back-Channel Logout 1.0]). Revocation (RFC 7009)
//! is beside the token endpoint, in `token.rs`.
//!
//! [OpenID Connect RP-Initiated Logout 1.0]: https://openid.net/specs/openid-connect-rpinitiated-1_0.html
//! [OpenID Connect Back-Channel Logout 1.0]: https://openid.net/specs/openid-connect-backchannel-1_0.html

use actix_web::{
    http::{header, StatusCode},
    web, HttpRequest, HttpResponse,
};
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{json, Map, Value};
use url::Url;

use super::{
    oidc::unix_now,
    pages,
    params::Params,
    state::{random_token, ProviderSession, Shared},
};

/// The `events` member that makes a JWT a back-channel logout token.
pub(super) const BACKCHANNEL_LOGOUT_EVENT: &str =
    "http://schemas.openid.net/event/backchannel-logout";

/// How long a logout token is valid (`exp` − `iat`).
const LOGOUT_TOKEN_LIFETIME: u64 = 120;

/// `GET|POST /oauth2/logout`: ends the provider session the `id_token_hint` names (every token
/// issued in it is revoked and the clients are told by back-channel logout), then sends the
/// browser to the `post_logout_redirect_uri` with the `state`, or shows a page.
///
/// A real provider asks the user to confirm; the development provider signs out at once. A
/// `post_logout_redirect_uri` must have the origin of one of the client's redirect URIs and
/// needs the `id_token_hint` or `client_id` naming that client.
pub(super) async fn end_session(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> HttpResponse {
    let input: &[u8] = if req.method() == actix_web::http::Method::POST {
        &body
    } else {
        req.query_string().as_bytes()
    };
    let Some(params) = Params::parse(input) else {
        return refuse("The logout request is not form-urlencoded.");
    };
    let single = |name| params.get(name).ok().flatten();
    if params.get("state").is_err() || params.get("post_logout_redirect_uri").is_err() {
        return refuse("A parameter is repeated.");
    }
    let hint = match single("id_token_hint") {
        Some(hint) => match verify_hint(&shared, hint) {
            Some(claims) => Some(claims),
            None => return refuse("The id_token_hint is not an ID token this provider issued."),
        },
        None => None,
    };
    let hinted_client = hint
        .as_ref()
        .and_then(|c| c.get("aud"))
        .and_then(Value::as_str);
    let client_id = match (single("client_id"), hinted_client) {
        (Some(id), Some(hinted)) if id != hinted => {
            return refuse("The client_id differs from the id_token_hint's audience.")
        }
        (Some(id), _) => Some(id),
        (None, hinted) => hinted,
    };
    let redirect = match single("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let client = client_id.and_then(|id| shared.config.client(id));
            match (Url::parse(uri), client) {
                (Ok(url), Some(client)) if client.allows_post_logout_redirect(&url) => Some(url),
                _ => {
                    return refuse("The post_logout_redirect_uri is not registered for the client.")
                }
            }
        }
    };
    if let Some(sid) = hint
        .as_ref()
        .and_then(|c| c.get("sid"))
        .and_then(Value::as_str)
    {
        let ended = shared.store().end_sessions(|s| s.sid == sid);
        notify(&shared, &ended).await;
    }
    match redirect {
        Some(mut url) => {
            if let Some(state) = single("state") {
                url.query_pairs_mut().append_pair("state", state);
            }
            HttpResponse::Found()
                .insert_header((header::LOCATION, url.as_str()))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .finish()
        }
        None => pages::message(
            StatusCode::OK,
            "Signed out",
            "You are signed out of the development provider.",
        ),
    }
}

fn refuse(why: &str) -> HttpResponse {
    pages::message(StatusCode::BAD_REQUEST, "Logout refused", why)
}

/// The claims of an ID token this provider signed with a key it publishes (expired ones too:
/// RP-Initiated Logout 1.0 §2 allows them as hints).
fn verify_hint(shared: &Shared, token: &str) -> Option<Map<String, Value>> {
    let keys = shared.keys().jwks();
    let mut validation = Validation::new(shared.config.algorithm.jose());
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_issuer(&[shared.config.issuer.as_str()]);
    validation.set_required_spec_claims(&["iss", "sub", "aud"]);
    keys.keys.iter().find_map(|jwk| {
        let key = DecodingKey::from_jwk(jwk).ok()?;
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .ok()
            .map(|data| data.claims)
    })
}

/// A logout token for `session` ([Back-Channel Logout 1.0 §2.4]): `iss`, `aud`, `iat`, `exp`,
/// `jti`, `sub`, `sid` and the event, `typ: logout+jwt`.
///
/// [Back-Channel Logout 1.0 §2.4]: https://openid.net/specs/openid-connect-backchannel-1_0.html#LogoutToken
pub(super) fn logout_token_claims(shared: &Shared, session: &ProviderSession) -> Value {
    let now = unix_now();
    let sub = shared
        .config
        .user(&session.username)
        .map(super::DevUser::subject)
        .unwrap_or_default();
    json!({
        "iss": shared.config.issuer,
        "aud": session.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_LIFETIME,
        "jti": random_token(),
        "sub": sub,
        "sid": session.sid,
        "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
    })
}

/// Signs `claims` with the current key as a logout token (`typ: logout+jwt`).
pub(super) fn sign(shared: &Shared, claims: &Value) -> std::io::Result<String> {
    let key = shared.keys().current.clone();
    key.sign_typed(claims, "logout+jwt")
        .map_err(std::io::Error::other)
}

/// POSTs a logout token for each ended session to its client's `backchannel_logout_uri`;
/// returns each answer's status (0 when it could not be delivered).
pub(super) async fn notify(shared: &Shared, ended: &[ProviderSession]) -> Vec<u16> {
    let mut statuses = Vec::new();
    for session in ended {
        let Some(uri) = shared
            .config
            .client(&session.client_id)
            .and_then(|c| c.backchannel_logout_uri.clone())
        else {
            continue;
        };
        let status = match sign(shared, &logout_token_claims(shared, session)) {
            Ok(token) => deliver(&uri, &token).await,
            Err(error) => {
                log::error!("The development provider could not sign a logout token: {error}");
                0
            }
        };
        statuses.push(status);
    }
    statuses
}

/// POSTs `logout_token` to `uri` (Back-Channel Logout 1.0 §2.5); the answer's status, or 0.
pub(super) async fn deliver(uri: &str, logout_token: &str) -> u16 {
    let client = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .finish();
    match client
        .post(uri)
        .send_form(&[("logout_token", logout_token)])
        .await
    {
        Ok(response) => response.status().as_u16(),
        Err(error) => {
            log::warn!("The development provider's back-channel logout to {uri} failed: {error}");
            0
        }
    }
}

/// `POST /dev/backchannel-logout` with `username=…` (every session of that user) or `sid=…`:
/// ends those provider sessions and sends the back-channel logouts, answering how many were
/// sent and their statuses. For tests and apps in any language; the development provider has
/// no administrator.
pub(super) async fn trigger(body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let Some(params) = Params::parse(&body) else {
        return HttpResponse::BadRequest().body("The body is not form-urlencoded.");
    };
    let username = params.get("username").ok().flatten().map(str::to_owned);
    let sid = params.get("sid").ok().flatten().map(str::to_owned);
    if username.is_none() && sid.is_none() {
        return HttpResponse::BadRequest().body("Name a `username` or a `sid`.");
    }
    let ended = shared.store().end_sessions(|s| {
        username.as_deref().is_some_and(|u| s.username == u)
            || sid.as_deref().is_some_and(|sid| s.sid == sid)
    });
    let statuses = notify(&shared, &ended).await;
    HttpResponse::Ok().json(json!({ "ended": ended.len(), "delivered": statuses }))
}
