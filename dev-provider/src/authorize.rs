//! The authorization endpoint ([RFC 6749 §3.1], [§4.1.1]): the consent page and the decision.
//! Every response redirected to the client carries `iss` ([RFC 9207 §2]); an OpenID Connect
//! `nonce` is kept with the code for the `id_token`.
//!
//! [RFC 6749 §3.1]: https://www.rfc-editor.org/rfc/rfc6749#section-3.1
//! [§4.1.1]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
//! [RFC 9207 §2]: https://www.rfc-editor.org/rfc/rfc9207#section-2

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use url::Url;

use super::pages::{self, Consent};
use super::params::Params;
use super::state::{
    is_pkce_string, is_valid_scope, Challenge, ChallengeMethod, Client, CodeRequest, Config,
    Shared, DEFAULT_SCOPE,
};

/// Parameters the consent form adds; never carried over from the query.
const FORM_FIELDS: [&str; 2] = ["decision", "user"];

/// A validated authorization request.
struct AuthorizeRequest<'a> {
    client: &'a Client,
    redirect_uri: &'a str,
    redirect: Url,
    state: Option<&'a str>,
    scope: Option<&'a str>,
    challenge: Option<Challenge>,
    nonce: Option<&'a str>,
    /// `dpop_jkt` (RFC 9449 §10): the code is redeemed only with a proof by that key.
    dpop_jkt: Option<&'a str>,
    /// `response_mode=form_post`: answer with a form the browser POSTs to the redirect URI.
    form_post: bool,
    /// `max_age` in seconds (OpenID Connect Core §3.1.2.1).
    max_age: Option<u64>,
    /// `prompt` contains `login`: authenticate the user again.
    login: bool,
    /// The `acr` the sign-in meets: the first of the request's `acr_values` the provider
    /// supports, else its first class; `None` when none was asked for.
    acr: Option<&'static str>,
}

/// Why an authorization request is refused.
enum Refusal<'a> {
    /// The client or redirect URI cannot be trusted: show a page, never redirect
    /// ([RFC 6749 §4.1.2.1]).
    ///
    /// [RFC 6749 §4.1.2.1]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1
    Page(&'static str),
    /// Tell the client, at its redirect URI.
    Redirect {
        /// A registered redirect URI, which is known to parse.
        to: &'a str,
        state: Option<&'a str>,
        error: &'static str,
        description: &'static str,
        form_post: bool,
    },
}

impl Refusal<'_> {
    /// The page, or the redirect with the error, `state` and the `issuer` as `iss`.
    fn into_response(self, issuer: &str) -> HttpResponse {
        match self {
            Self::Page(message) => pages::bad_request(message),
            Self::Redirect {
                to,
                state,
                error,
                description,
                form_post,
            } => match Url::parse(to) {
                Ok(to) => respond(
                    to,
                    form_post,
                    &[
                        ("error", Some(error)),
                        ("error_description", Some(description)),
                        ("state", state),
                        ("iss", Some(issuer)),
                    ],
                ),
                Err(_) => pages::bad_request("The registered redirect_uri is not a URL."),
            },
        }
    }
}

/// The authorization response: a redirect with `params` in the query, or (`form_post`) a form
/// of them the browser POSTs to `to`.
fn respond(to: Url, form_post: bool, params: &[(&str, Option<&str>)]) -> HttpResponse {
    if form_post {
        let fields: Vec<(&str, &str)> = params
            .iter()
            .filter_map(|(name, value)| value.map(|value| (*name, value)))
            .collect();
        return pages::form_post(to.as_str(), &fields);
    }
    redirect(to, params)
}

/// A `302 Found` to `to` with `params` appended to whatever query it already has.
pub(super) fn redirect(mut to: Url, params: &[(&str, Option<&str>)]) -> HttpResponse {
    {
        let mut query = to.query_pairs_mut();
        for (name, value) in params {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
    }
    HttpResponse::Found()
        .insert_header((header::LOCATION, to.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn refuse<'a>(
    to: &'a str,
    state: Option<&'a str>,
    form_post: bool,
    error: &'static str,
    description: &'static str,
) -> Refusal<'a> {
    Refusal::Redirect {
        to,
        state,
        error,
        description,
        form_post,
    }
}

/// Validates an authorization request, from the query (`GET`) or the consent form (`POST`).
fn validate<'a>(
    config: &'a Config,
    params: &'a Params,
) -> Result<AuthorizeRequest<'a>, Refusal<'a>> {
    let client_id = params
        .get("client_id")
        .map_err(|_| Refusal::Page("The client_id parameter is repeated."))?
        .ok_or(Refusal::Page("The client_id parameter is missing."))?;
    let client = config
        .client(client_id)
        .ok_or(Refusal::Page("The client_id names no registered client."))?;
    let redirect_uri = params
        .get("redirect_uri")
        .map_err(|_| Refusal::Page("The redirect_uri parameter is repeated."))?
        .ok_or(Refusal::Page("The redirect_uri parameter is missing."))?;
    if !client.redirect_uris.iter().any(|uri| uri == redirect_uri) {
        return Err(Refusal::Page(
            "The redirect_uri is not registered for this client.",
        ));
    }
    let redirect = Url::parse(redirect_uri)
        .map_err(|_| Refusal::Page("The registered redirect_uri is not a URL."))?;

    // From here on the redirect URI is trusted: errors go back to the client.
    // How to answer comes first: every error from here on is answered that way.
    let form_post = match params.get("response_mode") {
        Ok(None | Some("query")) => false,
        Ok(Some("form_post")) => true,
        _ => {
            return Err(refuse(
                redirect_uri,
                None,
                false,
                "invalid_request",
                "Supported response modes: query, form_post.",
            ))
        }
    };
    let Ok(state) = params.get("state") else {
        return Err(refuse(
            redirect_uri,
            None,
            form_post,
            "invalid_request",
            "The state parameter is repeated.",
        ));
    };
    let fail = |error, description| refuse(redirect_uri, state, form_post, error, description);
    let single = |name| {
        params
            .get(name)
            .map_err(|_| fail("invalid_request", "A parameter is repeated."))
    };
    let response_type = single("response_type")?;
    let scope = single("scope")?;
    let code_challenge = single("code_challenge")?;
    let code_challenge_method = single("code_challenge_method")?;
    let nonce = single("nonce")?;
    let max_age = match single("max_age")? {
        None => None,
        Some(value) => Some(
            value
                .parse::<u64>()
                .map_err(|_| fail("invalid_request", "The max_age parameter is not a number."))?,
        ),
    };
    let login = single("prompt")?.is_some_and(|p| p.split(' ').any(|p| p == "login"));
    let acr = single("acr_values")?.map(|asked| {
        asked
            .split(' ')
            .find_map(|value| {
                crate::ACR_VALUES
                    .iter()
                    .copied()
                    .find(|&known| known == value)
            })
            .unwrap_or(crate::ACR_VALUES[0])
    });
    let dpop_jkt = single("dpop_jkt")?;

    match response_type {
        None => {
            return Err(fail(
                "invalid_request",
                "The response_type parameter is missing.",
            ))
        }
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "Only the response_type code is supported.",
            ))
        }
    }
    if scope.is_some_and(|scope| !is_valid_scope(scope)) {
        return Err(fail("invalid_scope", "The scope parameter is malformed."));
    }
    let challenge = match (code_challenge, code_challenge_method) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(fail(
                "invalid_request",
                "A code_challenge_method was sent without a code_challenge.",
            ))
        }
        (Some(_), None) => {
            return Err(fail(
                "invalid_request",
                "The code_challenge_method parameter is missing; use S256.",
            ))
        }
        (Some(value), Some(method)) => {
            let method = match method {
                "S256" => ChallengeMethod::S256,
                "plain" => ChallengeMethod::Plain,
                _ => {
                    return Err(fail(
                        "invalid_request",
                        "The code_challenge_method is not supported; use S256.",
                    ))
                }
            };
            if !is_pkce_string(value) {
                return Err(fail("invalid_request", "The code_challenge is malformed."));
            }
            Some(Challenge {
                value: value.to_owned(),
                method,
            })
        }
    };
    if client.auth == crate::DevClientAuth::None && challenge.is_none() {
        return Err(fail(
            "invalid_request",
            "A public client must send a code_challenge with code_challenge_method S256.",
        ));
    }
    if config.require_pkce && challenge.is_none() {
        return Err(fail(
            "invalid_request",
            "This provider requires PKCE: send a code_challenge with code_challenge_method S256.",
        ));
    }
    Ok(AuthorizeRequest {
        client,
        redirect_uri,
        redirect,
        state,
        scope,
        challenge,
        nonce,
        dpop_jkt,
        form_post,
        max_age,
        login,
        acr,
    })
}

/// Checks a request about to be pushed (RFC 9126 §2.1) as the authorization endpoint would:
/// `Err((error, description))`.
pub(super) fn check(config: &Config, params: &Params) -> Result<(), (&'static str, &'static str)> {
    match validate(config, params) {
        Ok(_) => Ok(()),
        Err(Refusal::Page(why)) => Err(("invalid_request", why)),
        Err(Refusal::Redirect {
            error, description, ..
        }) => Err((error, description)),
    }
}

/// The request's parameters: the pushed ones its `request_uri` names (`take`: used up), else
/// its own — refused when the provider requires pushed requests. `Err` is why, for a page.
fn request_params(
    shared: &Shared,
    params: &Params,
    take: bool,
) -> Result<Option<Params>, &'static str> {
    let Ok(request_uri) = params.get("request_uri") else {
        return Err("The request_uri parameter is repeated.");
    };
    match request_uri {
        Some(uri) => {
            let client_id = params.get("client_id").ok().flatten();
            super::par::resolve(shared, client_id, uri, take).map(Some)
        }
        None if shared.config.require_par => Err(
            "This provider requires pushed authorization requests (RFC 9126): push the request \
             to /oauth2/par and send its request_uri.",
        ),
        None => Ok(None),
    }
}

/// `GET /oauth2/authorize`: validate the request and show the consent page.
pub(super) async fn show(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    let Some(query) = Params::parse(req.query_string().as_bytes()) else {
        return pages::bad_request("The query string is malformed.");
    };
    let pushed = match request_params(&shared, &query, false) {
        Ok(pushed) => pushed,
        Err(why) => return pages::bad_request(why),
    };
    let params = pushed.as_ref().unwrap_or(&query);
    let request = match validate(&shared.config, params) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(&shared.config.issuer),
    };
    // A pushed request's parameters stay at the provider: the form carries the query only.
    pages::consent(&Consent {
        action: "/oauth2/authorize",
        client_id: &request.client.id,
        redirect_uri: Some(request.redirect_uri),
        scope: Some(request.scope.unwrap_or(DEFAULT_SCOPE)),
        users: &shared.config.users,
        hidden: query
            .iter()
            .filter(|(name, _)| !FORM_FIELDS.contains(name))
            .collect(),
    })
}

/// `POST /oauth2/authorize`: the user's decision from the consent page. Approval issues a code
/// ([RFC 6749 §4.1.2]) and remembers the request's `nonce` with it; denial answers
/// `access_denied`.
///
/// [RFC 6749 §4.1.2]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
pub(super) async fn decide(body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let Some(form) = Params::parse(&body) else {
        return pages::bad_request("The form is malformed.");
    };
    let pushed = match request_params(&shared, &form, true) {
        Ok(pushed) => pushed,
        Err(why) => return pages::bad_request(why),
    };
    let params = pushed.as_ref().unwrap_or(&form);
    let request = match validate(&shared.config, params) {
        Ok(request) => request,
        Err(refusal) => return refusal.into_response(&shared.config.issuer),
    };
    let (Ok(decision), Ok(user)) = (form.get("decision"), form.get("user")) else {
        return pages::bad_request("The decision or user field is repeated.");
    };
    match decision {
        Some("approve") => {}
        Some("deny") => {
            return refuse(
                request.redirect_uri,
                request.state,
                request.form_post,
                "access_denied",
                "The user denied the request.",
            )
            .into_response(&shared.config.issuer)
        }
        _ => return pages::bad_request("The decision must be approve or deny."),
    }
    let Some(user) = user.and_then(|username| shared.config.user(username)) else {
        return pages::bad_request("No such user.");
    };
    let code = shared.store().issue_code(
        CodeRequest {
            client_id: request.client.id.clone(),
            redirect_uri: request.redirect_uri.to_owned(),
            username: user.username.clone(),
            scope: request.scope.unwrap_or(DEFAULT_SCOPE).to_owned(),
            challenge: request.challenge,
            nonce: request.nonce.map(str::to_owned),
            dpop_jkt: request.dpop_jkt.map(str::to_owned),
            auth_time: shared.authenticate(&user.username, request.max_age, request.login),
            acr: request.acr.map(str::to_owned),
        },
        shared.config.code_lifetime,
    );
    respond(
        request.redirect,
        request.form_post,
        &[
            ("code", Some(&code)),
            ("state", request.state),
            ("iss", Some(&shared.config.issuer)),
        ],
    )
}
