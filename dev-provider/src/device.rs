//! The device authorization grant ([RFC 8628]): the device authorization endpoint (§3.1, §3.2),
//! the verification page where the user enters the code and approves or denies (§3.3), and the
//! token endpoint's device code grant (§3.4, §3.5) with `authorization_pending`, `slow_down`,
//! `expired_token` and `access_denied`.
//!
//! [RFC 8628]: https://www.rfc-editor.org/rfc/rfc8628

use std::collections::HashMap;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use rand::Rng as _;
use serde::Serialize;

use super::oidc::unix_now;
use super::pages::{self, Consent};
use super::params::Params;
use super::state::{random_token, Issued, Refused, Shared, DEFAULT_SCOPE};
use super::token::{authenticate, no_store, requested_scope, TokenError};

/// The device code grant type ([RFC 8628 §3.4]).
///
/// [RFC 8628 §3.4]: https://www.rfc-editor.org/rfc/rfc8628#section-3.4
pub(super) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What `slow_down` adds to a device code's interval ([RFC 8628 §3.5]).
///
/// [RFC 8628 §3.5]: https://www.rfc-editor.org/rfc/rfc8628#section-3.5
const SLOW_DOWN: Duration = Duration::from_secs(5);

/// The user code alphabet: [RFC 8628 §6.1]'s base-20 consonants (no vowels, no look-alikes).
///
/// [RFC 8628 §6.1]: https://www.rfc-editor.org/rfc/rfc8628#section-6.1
const USER_CODE_CHARSET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// A user code's length without its dash: 20^8 ≈ 2^34.6 values.
const USER_CODE_LENGTH: usize = 8;

/// What the user decided.
enum Decision {
    Pending,
    Approved {
        username: String,
        auth_time: u64,
    },
    Denied,
    /// Approved, and its tokens handed out: the device code is spent.
    Redeemed,
}

/// One device authorization.
struct Grant {
    client_id: String,
    scope: String,
    /// Normalized (no dash).
    user_code: String,
    expires_at: Instant,
    /// The current polling interval: the configured one plus 5 s per `slow_down`.
    interval: Duration,
    last_poll: Option<Instant>,
    decision: Decision,
}

/// Device authorizations by device code, and the device code of each user code. Codes are the
/// map keys; nothing here is `Debug`.
#[derive(Default)]
pub(super) struct Store {
    grants: HashMap<String, Grant>,
    by_user_code: HashMap<String, String>,
}

impl Store {
    /// Forgets authorizations expired for longer than their lifetime (until then a poll still
    /// hears `expired_token`).
    fn prune(&mut self, now: Instant, lifetime: Duration) {
        let by_user_code = &mut self.by_user_code;
        self.grants.retain(|_, grant| {
            let keep = grant.expires_at + lifetime > now;
            if !keep {
                by_user_code.remove(&grant.user_code);
            }
            keep
        });
    }

    /// The pending, unexpired authorization whose user code `entered` is (as typed: any case,
    /// dashes and spaces ignored).
    fn pending(&mut self, entered: &str) -> Option<&mut Grant> {
        let device_code = self.by_user_code.get(&normalize(entered))?;
        let grant = self.grants.get_mut(device_code)?;
        (matches!(grant.decision, Decision::Pending) && grant.expires_at > Instant::now())
            .then_some(grant)
    }
}

/// A fresh user code, normalized (`BCDFGHJK`).
fn new_user_code() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..USER_CODE_LENGTH)
        .map(|_| char::from(USER_CODE_CHARSET[rng.gen_range(0..USER_CODE_CHARSET.len())]))
        .collect()
}

/// A user code as typed, normalized: upper case, only the alphabet's letters kept ([RFC 8628
/// §6.1]: "ignore … punctuation like dashes").
///
/// [RFC 8628 §6.1]: https://www.rfc-editor.org/rfc/rfc8628#section-6.1
fn normalize(entered: &str) -> String {
    entered
        .chars()
        .map(|c| c.to_ascii_uppercase())
        .filter(|c| c.is_ascii() && USER_CODE_CHARSET.contains(&(*c as u8)))
        .collect()
}

/// A normalized user code as shown: `BCDF-GHJK`.
fn display(user_code: &str) -> String {
    let (first, second) = user_code.split_at(user_code.len().min(USER_CODE_LENGTH / 2));
    format!("{first}-{second}")
}

#[derive(Serialize)]
struct DeviceAuthorizationResponse {
    device_code: String,
    user_code: String,
    verification_uri: String,
    verification_uri_complete: String,
    expires_in: u64,
    interval: u64,
}

/// `POST /oauth2/device_authorization` ([RFC 8628 §3.1, §3.2]): the client authenticates as at
/// the token endpoint and may name a scope; the answer carries the codes, where to enter the
/// user code, and the polling interval.
///
/// [RFC 8628 §3.1, §3.2]: https://www.rfc-editor.org/rfc/rfc8628#section-3.1
pub(super) async fn authorization(
    req: HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    shared: web::Data<Shared>,
) -> HttpResponse {
    match start(&req, body, &shared) {
        Ok(answer) => no_store(HttpResponse::Ok()).json(answer),
        Err(error) => error.into_response(),
    }
}

fn start(
    req: &HttpRequest,
    body: Result<web::Bytes, actix_web::Error>,
    shared: &Shared,
) -> Result<DeviceAuthorizationResponse, TokenError> {
    if !super::params::is_form(req) {
        return Err(TokenError::invalid_request(
            "The body must be application/x-www-form-urlencoded.",
        ));
    }
    let body = body.map_err(|_| TokenError::invalid_request("The body could not be read."))?;
    let params = Params::parse(&body)
        .ok_or_else(|| TokenError::invalid_request("The body is not form-urlencoded."))?;
    let config = &shared.config;
    let client = authenticate(req, &params, config, shared)?;
    let scope = params
        .get("scope")
        .map_err(|_| TokenError::invalid_request("A parameter is repeated."))?;
    let scope = requested_scope(scope)?.unwrap_or(DEFAULT_SCOPE).to_owned();

    let now = Instant::now();
    let lifetime = config.device_code_lifetime;
    let mut store = shared.device();
    store.prune(now, lifetime);
    let device_code = random_token();
    let mut user_code = new_user_code();
    while store.by_user_code.contains_key(&user_code) {
        user_code = new_user_code();
    }
    store
        .by_user_code
        .insert(user_code.clone(), device_code.clone());
    store.grants.insert(
        device_code.clone(),
        Grant {
            client_id: client.id.clone(),
            scope,
            user_code: user_code.clone(),
            expires_at: now + lifetime,
            interval: config.device_interval,
            last_poll: None,
            decision: Decision::Pending,
        },
    );
    let shown = display(&user_code);
    let mut verification_uri = config.base_url.clone();
    verification_uri.set_path("/device");
    let mut complete = verification_uri.clone();
    complete.query_pairs_mut().append_pair("user_code", &shown);
    Ok(DeviceAuthorizationResponse {
        device_code,
        user_code: shown,
        verification_uri: verification_uri.into(),
        verification_uri_complete: complete.into(),
        expires_in: lifetime.as_secs(),
        interval: config.device_interval.as_secs(),
    })
}

fn refused(error: &'static str, description: &'static str) -> Refused {
    Refused { error, description }
}

/// The token endpoint's device code grant ([RFC 8628 §3.4, §3.5]) for an authenticated
/// client: the tokens once the user approved, else why not.
///
/// A poll sooner than the code's interval after the previous one is answered `slow_down`, and
/// the interval grows by 5 seconds for every later poll, before anything else is looked at.
///
/// [RFC 8628 §3.4, §3.5]: https://www.rfc-editor.org/rfc/rfc8628#section-3.4
pub(super) fn redeem(
    shared: &Shared,
    device_code: &str,
    client_id: &str,
    jkt: Option<&str>,
) -> Result<Issued, Refused> {
    let now = Instant::now();
    let (username, auth_time, scope) = {
        let mut store = shared.device();
        let Some(grant) = store.grants.get_mut(device_code) else {
            return Err(refused("invalid_grant", "The device_code is unknown."));
        };
        if grant.client_id != client_id {
            return Err(refused(
                "invalid_grant",
                "The device_code was issued to another client.",
            ));
        }
        if matches!(grant.decision, Decision::Redeemed) {
            return Err(refused(
                "invalid_grant",
                "The device_code was already used.",
            ));
        }
        if grant.expires_at <= now {
            return Err(refused(
                "expired_token",
                "The device_code has expired; start again.",
            ));
        }
        let too_soon = grant
            .last_poll
            .is_some_and(|last| now.duration_since(last) < grant.interval);
        grant.last_poll = Some(now);
        if too_soon {
            grant.interval += SLOW_DOWN;
            return Err(refused(
                "slow_down",
                "Polled sooner than the interval; wait 5 seconds longer from now on.",
            ));
        }
        match std::mem::replace(&mut grant.decision, Decision::Redeemed) {
            Decision::Approved {
                username,
                auth_time,
            } => (username, auth_time, grant.scope.clone()),
            Decision::Pending => {
                grant.decision = Decision::Pending;
                return Err(refused(
                    "authorization_pending",
                    "The user has not approved the device yet.",
                ));
            }
            Decision::Denied => {
                grant.decision = Decision::Denied;
                return Err(refused("access_denied", "The user denied the device."));
            }
            Decision::Redeemed => {
                return Err(refused(
                    "invalid_grant",
                    "The device_code was already used.",
                ))
            }
        }
    };
    Ok(shared.store().issue_device_tokens(
        client_id,
        username,
        scope,
        auth_time,
        jkt,
        shared.config.token_lifetime(),
    ))
}

/// `GET /device` ([RFC 8628 §3.3]): without `user_code`, a form asking for it; with one (typed
/// there, or from `verification_uri_complete`), the consent page of its authorization.
///
/// [RFC 8628 §3.3]: https://www.rfc-editor.org/rfc/rfc8628#section-3.3
pub(super) async fn show(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    let Some(params) = Params::parse(req.query_string().as_bytes()) else {
        return pages::device_code_entry(Some("The query string is malformed."));
    };
    let Ok(entered) = params.get("user_code") else {
        return pages::device_code_entry(Some("The user_code parameter is repeated."));
    };
    let Some(entered) = entered else {
        return pages::device_code_entry(None);
    };
    let mut store = shared.device();
    let Some(grant) = store.pending(entered) else {
        return pages::device_code_entry(Some(
            "That code is unknown, expired or already used. Check the code on your device.",
        ));
    };
    let shown = display(&grant.user_code);
    let (client_id, scope) = (grant.client_id.clone(), grant.scope.clone());
    drop(store);
    pages::consent(&Consent {
        action: "/device",
        client_id: &client_id,
        redirect_uri: None,
        scope: Some(&scope),
        users: &shared.config.users,
        hidden: vec![("user_code", &shown)],
    })
}

/// `POST /device`: the user's decision on the consent page: approve as the chosen user, or
/// deny; the device hears it at its next poll.
pub(super) async fn decide(body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let Some(params) = Params::parse(&body) else {
        return pages::bad_request("The form is malformed.");
    };
    let (Ok(entered), Ok(decision), Ok(user)) = (
        params.get("user_code"),
        params.get("decision"),
        params.get("user"),
    ) else {
        return pages::bad_request("A field is repeated.");
    };
    let mut store = shared.device();
    let Some(grant) = entered.and_then(|entered| store.pending(entered)) else {
        return pages::device_code_entry(Some(
            "That code is unknown, expired or already used. Check the code on your device.",
        ));
    };
    match decision {
        Some("approve") => {
            let Some(user) = user.and_then(|username| shared.config.user(username)) else {
                return pages::bad_request("No such user.");
            };
            grant.decision = Decision::Approved {
                username: user.username.clone(),
                auth_time: unix_now(),
            };
            pages::message(
                StatusCode::OK,
                "Device connected",
                "You may close this page and return to your device.",
            )
        }
        Some("deny") => {
            grant.decision = Decision::Denied;
            pages::message(
                StatusCode::OK,
                "Device refused",
                "The device was not given access. You may close this page.",
            )
        }
        _ => pages::bad_request("The decision must be approve or deny."),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use actix_web::http::StatusCode;
    use serde_json::Value;

    use super::{display, normalize};
    use crate::{DevProvider, DevUser};

    const ID: &str = "tv";
    const SECRET: &str = "tv-secret";

    fn start(lifetime: Duration) -> DevProvider {
        DevProvider::builder()
            .client(ID, SECRET, ["http://app.test/callback"])
            .user(DevUser::new("alice"))
            .user(DevUser::new("bob"))
            .device_interval(Duration::from_secs(1))
            .device_code_lifetime(lifetime)
            .start()
            .expect("the provider starts")
    }

    fn http() -> awc::Client {
        awc::Client::builder()
            .disable_redirects()
            .timeout(Duration::from_secs(5))
            .finish()
    }

    async fn post(url: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let mut form = form.to_vec();
        form.extend([("client_id", ID), ("client_secret", SECRET)]);
        let mut response = http().post(url).send_form(&form).await.expect("request");
        let body = response.body().await.expect("body");
        (
            response.status(),
            serde_json::from_slice(&body).expect("a JSON body"),
        )
    }

    async fn authorize(dev: &DevProvider, scope: &str) -> Value {
        let (status, body) =
            post(dev.device_authorization_url().as_str(), &[("scope", scope)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn poll(dev: &DevProvider, device_code: &str) -> (StatusCode, Value) {
        post(
            dev.token_url().as_str(),
            &[
                ("grant_type", super::DEVICE_CODE_GRANT),
                ("device_code", device_code),
            ],
        )
        .await
    }

    async fn page(url: &str) -> (StatusCode, String) {
        let mut response = http().get(url).send().await.expect("page");
        let body = response.body().await.expect("body");
        (
            response.status(),
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    async fn decide(dev: &DevProvider, user_code: &str, decision: &str) -> (StatusCode, String) {
        let mut response = http()
            .post(dev.device_verification_url().as_str())
            .send_form(&[
                ("user_code", user_code),
                ("user", "bob"),
                ("decision", decision),
            ])
            .await
            .expect("decision");
        let body = response.body().await.expect("body");
        (
            response.status(),
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    fn error(body: &Value) -> &str {
        body["error"].as_str().unwrap_or("")
    }

    #[test]
    fn user_codes_are_normalized() {
        let code = super::new_user_code();
        assert_eq!(code.len(), 8);
        assert_eq!(normalize(&display(&code).to_lowercase()), code);
        assert_eq!(normalize(" wdjb-mjht "), "WDJBMJHT");
        assert_eq!(display("WDJBMJHT"), "WDJB-MJHT");
    }

    #[actix_rt::test]
    async fn approve_on_the_page_then_the_token_with_an_id_token() {
        let dev = start(Duration::from_secs(600));
        let answer = authorize(&dev, "openid profile").await;
        assert_eq!(answer["interval"], 1);
        assert_eq!(answer["expires_in"], 600);
        let user_code = answer["user_code"].as_str().expect("user_code");
        assert_eq!(
            answer["verification_uri"],
            dev.device_verification_url().as_str()
        );
        let complete = answer["verification_uri_complete"]
            .as_str()
            .expect("complete");
        let device_code = answer["device_code"].as_str().expect("device_code");

        let (status, body) = poll(&dev, device_code).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::BAD_REQUEST, "authorization_pending")
        );

        // The entry form, then the consent page for the code (typed in lower case).
        let (status, html) = page(dev.device_verification_url().as_str()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("name=\"user_code\""), "{html}");
        let (status, html) = page(complete).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("value=\"approve\""), "{html}");
        let mut typed = dev.device_verification_url();
        typed
            .query_pairs_mut()
            .append_pair("user_code", &user_code.to_lowercase());
        assert_eq!(page(typed.as_str()).await.0, StatusCode::OK);
        let (status, html) = decide(&dev, user_code, "approve").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("Device connected"), "{html}");
        // Decided: the page no longer offers it.
        assert_eq!(page(complete).await.0, StatusCode::BAD_REQUEST);

        actix_rt::time::sleep(Duration::from_millis(1100)).await;
        let (status, body) = poll(&dev, device_code).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(body["access_token"].is_string(), "{body}");
        assert!(body["refresh_token"].is_string(), "{body}");
        assert!(body["id_token"].is_string(), "{body}");
        let (status, info) = {
            let mut response = http()
                .get(dev.userinfo_url().as_str())
                .bearer_auth(body["access_token"].as_str().unwrap_or_default())
                .send()
                .await
                .expect("userinfo");
            let bytes = response.body().await.expect("body");
            (
                response.status(),
                serde_json::from_slice::<Value>(&bytes).expect("JSON"),
            )
        };
        assert_eq!(status, StatusCode::OK);
        assert_eq!(info["sub"], "dev-bob");
        // Spent.
        actix_rt::time::sleep(Duration::from_millis(1100)).await;
        let (status, body) = poll(&dev, device_code).await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::BAD_REQUEST, "invalid_grant")
        );
    }

    #[actix_rt::test]
    async fn polling_too_fast_slows_down_and_denial_is_access_denied() {
        let dev = start(Duration::from_secs(600));
        let answer = authorize(&dev, "profile").await;
        let device_code = answer["device_code"].as_str().expect("device_code");
        let user_code = answer["user_code"].as_str().expect("user_code");
        assert_eq!(
            error(&poll(&dev, device_code).await.1),
            "authorization_pending"
        );
        assert_eq!(error(&poll(&dev, device_code).await.1), "slow_down");
        // Now 6 seconds: a poll after 1 is still too soon (and slows down again).
        actix_rt::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(error(&poll(&dev, device_code).await.1), "slow_down");

        // Denied on the page: `access_denied` (also for the first code, once it waits enough).
        assert_eq!(decide(&dev, user_code, "deny").await.0, StatusCode::OK);
        let denied = authorize(&dev, "profile").await;
        let denied_code = denied["device_code"].as_str().expect("device_code");
        let denied_user = denied["user_code"].as_str().expect("user_code");
        assert_eq!(decide(&dev, denied_user, "deny").await.0, StatusCode::OK);
        assert_eq!(error(&poll(&dev, denied_code).await.1), "access_denied");
    }

    #[actix_rt::test]
    async fn expiry_wrong_client_and_bad_requests() {
        let dev = start(Duration::from_secs(1));
        let answer = authorize(&dev, "profile").await;
        assert_eq!(answer["expires_in"], 1);
        let device_code = answer["device_code"].as_str().expect("device_code");
        let user_code = answer["user_code"].as_str().expect("user_code");
        // Unknown codes, and a wrong client.
        assert_eq!(error(&poll(&dev, "nope").await.1), "invalid_grant");
        let (status, body) = post(
            dev.device_authorization_url().as_str(),
            &[("scope", "bad\"scope")],
        )
        .await;
        assert_eq!(
            (status, error(&body)),
            (StatusCode::BAD_REQUEST, "invalid_scope")
        );
        let mut response = http()
            .post(dev.device_authorization_url().as_str())
            .send_form(&[("client_id", ID), ("client_secret", "wrong")])
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value =
            serde_json::from_slice(&response.body().await.expect("body")).expect("JSON");
        assert_eq!(error(&body), "invalid_client");

        actix_rt::time::sleep(Duration::from_millis(1100)).await;
        assert_eq!(error(&poll(&dev, device_code).await.1), "expired_token");
        let (status, html) = decide(&dev, user_code, "approve").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{html}");
    }

    #[actix_rt::test]
    async fn discovery_advertises_the_endpoint_and_grant() {
        let dev = start(Duration::from_secs(600));
        let mut response = http()
            .get(dev.discovery_url().as_str())
            .send()
            .await
            .expect("discovery");
        let doc: Value =
            serde_json::from_slice(&response.body().await.expect("body")).expect("JSON");
        assert_eq!(
            doc["device_authorization_endpoint"],
            dev.device_authorization_url().as_str()
        );
        assert!(doc["grant_types_supported"]
            .as_array()
            .is_some_and(|grants| grants.iter().any(|g| g == super::DEVICE_CODE_GRANT)));
    }
}
