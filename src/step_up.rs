//! How fresh and how strong a sign-in must be: `max_age`, `acr_values` and `prompt` on the
//! authorization request (OpenID Connect Core §3.1.2.1), the ID token's `auth_time` and `acr`
//! checked against them when the sign-in completes, and [`RequireFreshSignIn`], the middleware
//! that sends a user whose sign-in is too old to sign in again (step-up, RFC 9470's idea).

use std::{fmt, future::Ready, rc::Rc, time::Duration};

use actix_session::SessionExt as _;
use actix_web::{
    body::EitherBody,
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::Method,
    Error, ResponseError as _,
};
use futures_util::future::LocalBoxFuture;
use serde_json::{Map, Value};

use crate::{error::OAuthError, extension::OAuthExt as _, wire::now_unix};

/// What one sign-in asks of the provider beyond the remote app's settings: how recently the
/// user must have authenticated, with which authentication context, and whether to prompt.
/// Given to [`OAuthExtension::authorize_with`](crate::OAuthExtension::authorize_with); each
/// value set here replaces the remote app's default
/// ([`RemoteAppBuilder::max_age`](crate::RemoteAppBuilder::max_age) …).
///
/// ```
/// use std::time::Duration;
/// use actix_oauth::SignInOptions;
///
/// let step_up = SignInOptions::new()
///     .max_age(Duration::from_secs(300))
///     .acr_values(["urn:example:loa:2"]);
/// # let _ = step_up;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct SignInOptions {
    pub(crate) max_age: Option<Duration>,
    pub(crate) acr_values: Option<Vec<String>>,
    pub(crate) prompt: Option<String>,
    /// The same user signs in again: the session's other sign-ins are kept, and another user
    /// is refused.
    pub(crate) reauthenticate: bool,
}

impl SignInOptions {
    /// No requirement beyond the remote app's.
    pub fn new() -> Self {
        Self::default()
    }

    /// `max_age`: the user must have authenticated at the provider at most this long ago; the
    /// ID token's `auth_time` is checked (with the app's clock skew). OpenID Connect only.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// `acr_values`: the authentication context classes acceptable, in order of preference;
    /// the ID token's `acr` must be one of them. OpenID Connect only.
    pub fn acr_values<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.acr_values = Some(values.into_iter().map(Into::into).collect());
        self
    }

    /// `prompt`: `login` to make the provider authenticate the user again, `consent`,
    /// `select_account`, or `none`.
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = Some(prompt.into());
        self
    }

    /// These options where set, else `defaults`'.
    pub(crate) fn or(&self, defaults: &SignInOptions) -> SignInOptions {
        SignInOptions {
            max_age: self.max_age.or(defaults.max_age),
            acr_values: self
                .acr_values
                .clone()
                .or_else(|| defaults.acr_values.clone()),
            prompt: self.prompt.clone().or_else(|| defaults.prompt.clone()),
            reauthenticate: self.reauthenticate,
        }
    }

    /// What the completed sign-in must prove, if anything.
    pub(crate) fn requirements(&self) -> Option<Requirements> {
        let requirements = Requirements {
            max_age: self.max_age.map(|d| d.as_secs()),
            acr_values: self.acr_values.as_ref().map(|v| v.join(" ")),
            reauthenticate: self.reauthenticate,
        };
        (requirements != Requirements::default()).then_some(requirements)
    }
}

/// What a sign-in in progress must prove when it completes; kept with its pending handshake.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Requirements {
    /// Seconds.
    pub(crate) max_age: Option<u64>,
    /// Space-separated, as sent.
    pub(crate) acr_values: Option<String>,
    pub(crate) reauthenticate: bool,
}

impl Requirements {
    /// Checks the validated ID token's claims: `auth_time` within `max_age` (OpenID Connect
    /// Core §3.1.2.1 makes it required then), `acr` one of `acr_values`.
    ///
    /// # Errors
    /// [`OAuthError::InsufficientAuthentication`] saying which.
    #[cfg_attr(not(feature = "oidc"), allow(dead_code))]
    pub(crate) fn check(
        &self,
        claims: Option<&Map<String, Value>>,
        clock_skew: u64,
    ) -> Result<(), OAuthError> {
        let claim = |name: &str| claims.and_then(|c| c.get(name));
        if let Some(max_age) = self.max_age {
            let auth_time = claim("auth_time").and_then(Value::as_u64).ok_or_else(|| {
                OAuthError::InsufficientAuthentication(
                    "the ID token has no `auth_time`, though `max_age` was asked for.".into(),
                )
            })?;
            if now_unix().saturating_sub(auth_time) > max_age.saturating_add(clock_skew) {
                return Err(OAuthError::InsufficientAuthentication(format!(
                    "the user authenticated longer ago than the {max_age} s asked for."
                )));
            }
        }
        if let Some(acr_values) = &self.acr_values {
            let acr = claim("acr").and_then(Value::as_str);
            if !acr.is_some_and(|acr| acr_values.split(' ').any(|v| v == acr)) {
                return Err(OAuthError::InsufficientAuthentication(
                    "the provider did not authenticate the user with an authentication context \
                     that was asked for (`acr`)."
                        .into(),
                ));
            }
        }
        Ok(())
    }
}

/// When the user behind a sign-in's token authenticated at the provider: the `auth_time` of
/// its ID token (validated at sign-in; a stored token keeps the raw ID token only).
fn auth_time(token: &crate::TokenResponse) -> Option<u64> {
    let from = |claims: &Map<String, Value>| claims.get("auth_time").and_then(Value::as_u64);
    match token.id_token_claims() {
        Some(claims) => from(claims),
        None => token
            .id_token()
            .and_then(crate::session_tokens::unverified_claims)
            .and_then(|claims| from(&claims)),
    }
}

/// Middleware for the routes that need a recent sign-in with one remote app (confirming a
/// payment, changing an email address): a user whose sign-in there is older than `max_age` —
/// by the ID token's `auth_time`, what the provider attests — is sent to sign in again, asking
/// for that `max_age` and `prompt=login`, and comes back to the page. Someone not signed in
/// with it is sent to sign in. The new sign-in must be the same user's: another account at the
/// provider is refused ([`ErrorKind::InsufficientAuthentication`]), and the session's other
/// sign-ins are kept.
///
/// ```no_run
/// use std::time::Duration;
/// use actix_oauth::RequireFreshSignIn;
/// use actix_web::{web, App, HttpResponse};
///
/// # fn app() {
/// let app = App::new().service(
///     web::resource("/settings/email")
///         .wrap(RequireFreshSignIn::new("google", Duration::from_secs(300)))
///         .route(web::get().to(|| async { HttpResponse::Ok().body("recently signed in") })),
/// );
/// # }
/// ```
///
/// OpenID Connect apps only (a plain OAuth 2 provider attests no `auth_time`); register it
/// inside the session middleware, like [`OAuthMiddleware`](crate::OAuthMiddleware).
///
/// [`ErrorKind::InsufficientAuthentication`]: crate::ErrorKind::InsufficientAuthentication
#[derive(Clone)]
pub struct RequireFreshSignIn {
    provider: Rc<str>,
    max_age: Duration,
}

impl fmt::Debug for RequireFreshSignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequireFreshSignIn")
            .field("provider", &self.provider)
            .field("max_age", &self.max_age)
            .finish()
    }
}

impl RequireFreshSignIn {
    /// A sign-in with remote app `provider` at most `max_age` old.
    pub fn new(provider: &str, max_age: Duration) -> Self {
        Self {
            provider: provider.into(),
            max_age,
        }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequireFreshSignIn
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = RequireFreshSignInService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(RequireFreshSignInService {
            service: Rc::new(service),
            config: self.clone(),
        }))
    }
}

/// The service [`RequireFreshSignIn`] wraps around a route.
#[derive(Debug)]
pub struct RequireFreshSignInService<S> {
    service: Rc<S>,
    config: RequireFreshSignIn,
}

impl<S, B> Service<ServiceRequest> for RequireFreshSignInService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let config = self.config.clone();
        Box::pin(async move {
            let oauth = match req.request().oauth() {
                Ok(oauth) => oauth,
                Err(err) => {
                    let page = err.error_response().map_into_right_body();
                    return Ok(req.into_response(page));
                }
            };
            let sign_in = oauth
                .session_sign_in(&req.get_session(), &config.provider)
                .await;
            // With the clock skew the callback's check allows: a sign-in it accepted is not
            // sent straight back to the provider.
            #[cfg(feature = "oidc")]
            let skew = oauth
                .remote_app(&config.provider)
                .ok()
                .and_then(|app| app.protocol.oidc())
                .map_or(0, |oidc| oidc.clock_skew.as_secs());
            #[cfg(not(feature = "oidc"))]
            let skew = 0;
            let max_age = config.max_age.as_secs().saturating_add(skew);
            match sign_in {
                Ok(Some(token))
                    if auth_time(&token)
                        .is_some_and(|at| now_unix().saturating_sub(at) <= max_age) =>
                {
                    Ok(service.call(req).await?.map_into_left_body())
                }
                Ok(found) => {
                    // Back to this page afterwards, when it can be asked for again.
                    let next = (req.method() == Method::GET)
                        .then(|| req.uri().path_and_query().map(|p| p.as_str().to_owned()))
                        .flatten();
                    let options = SignInOptions {
                        max_age: Some(config.max_age),
                        prompt: Some("login".to_owned()),
                        // Signed in already: the same user must come back.
                        reauthenticate: found.is_some(),
                        ..SignInOptions::default()
                    };
                    let answer = oauth
                        .authorize_with(req.request(), &config.provider, next.as_deref(), &options)
                        .await
                        .unwrap_or_else(|err| err.error_response());
                    Ok(req.into_response(answer.map_into_right_body()))
                }
                Err(err) => Ok(req.into_response(err.error_response().map_into_right_body())),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!(),
        }
    }

    #[test]
    fn auth_time_and_acr_are_checked_against_what_was_asked() {
        let now = now_unix();
        let fresh = claims(json!({"auth_time": now - 10, "acr": "urn:loa:2"}));
        let stale = claims(json!({"auth_time": now - 400, "acr": "urn:loa:1"}));
        let asked = SignInOptions::new()
            .max_age(Duration::from_secs(300))
            .acr_values(["urn:loa:2", "urn:loa:3"])
            .requirements()
            .unwrap();
        assert!(asked.check(Some(&fresh), 60).is_ok());
        let err = asked.check(Some(&stale), 60).unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::InsufficientAuthentication);
        assert!(err.to_string().contains("300 s"), "{err}");
        // Within the clock skew.
        let edge = claims(json!({"auth_time": now - 350, "acr": "urn:loa:3"}));
        assert!(asked.check(Some(&edge), 60).is_ok());
        let weak = claims(json!({"auth_time": now, "acr": "urn:loa:1"}));
        assert!(asked
            .check(Some(&weak), 60)
            .unwrap_err()
            .to_string()
            .contains("acr"));
        let none = claims(json!({"acr": "urn:loa:2"}));
        assert!(asked
            .check(Some(&none), 60)
            .unwrap_err()
            .to_string()
            .contains("auth_time"));
        assert!(asked.check(None, 60).is_err());
        assert_eq!(SignInOptions::new().requirements(), None);
    }

    #[test]
    fn request_options_replace_the_apps_defaults() {
        let defaults = SignInOptions::new()
            .max_age(Duration::from_secs(3600))
            .prompt("consent");
        let merged = SignInOptions::new()
            .max_age(Duration::from_secs(60))
            .or(&defaults);
        assert_eq!(merged.max_age, Some(Duration::from_secs(60)));
        assert_eq!(merged.prompt.as_deref(), Some("consent"));
        assert_eq!(merged.acr_values, None);
    }
}
