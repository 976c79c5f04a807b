//! [`OAuthMiddleware`]: completes handshakes on callback paths before routing.

use std::{future::Ready, rc::Rc};

use actix_web::{
    body::EitherBody,
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    http::Method,
    Error, ResponseError,
};
use futures_util::future::LocalBoxFuture;

use crate::{extension::OAuthExt as _, handshake::CallbackInput};

/// Completes the OAuth handshake on each remote app's callback path before the handler runs:
/// the `#[authorized_handler]` of Flask-OAuth, as middleware.
///
/// A failed handshake (forged or replayed `state`, a provider error, a provider that is down) is
/// answered with the error's page and the handler never runs; a declined one reaches the handler
/// as `None` in `Option<AuthorizedResponse<P>>`. Register it inside the session middleware:
///
/// ```no_run
/// use actix_oauth::OAuthMiddleware;
/// use actix_session::{storage::CookieSessionStore, SessionMiddleware};
/// use actix_web::{cookie::Key, App};
///
/// # fn app(oauth: actix_oauth::OAuthExtension, key: Key) {
/// let app = App::new()
///     .app_data(oauth.clone())
///     .wrap(OAuthMiddleware::new())
///     .wrap(SessionMiddleware::new(CookieSessionStore::default(), key));
/// # }
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OAuthMiddleware;

impl OAuthMiddleware {
    /// The middleware; it reads the [`OAuthExtension`](crate::OAuthExtension) from app data.
    pub fn new() -> Self {
        Self
    }
}

impl<S, B> Transform<S, ServiceRequest> for OAuthMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<EitherBody<B>>;
    type Error = Error;
    type Transform = OAuthMiddlewareService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(OAuthMiddlewareService {
            service: Rc::new(service),
        }))
    }
}

/// The service [`OAuthMiddleware`] wraps around the app.
#[derive(Debug)]
pub struct OAuthMiddlewareService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for OAuthMiddlewareService<S>
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
        Box::pin(async move {
            let oauth = req.oauth().ok();
            let callback = match &oauth {
                Some(oauth) if matches!(*req.method(), Method::GET | Method::POST) => oauth
                    // The path as the router matches it (percent-decoded where actix decodes), so
                    // `/auth/d%65v/callback` cannot slip past to a handler that reads errors
                    // as `None`.
                    .callback_for(req.match_info().as_str())
                    .map(str::to_owned),
                _ => None,
            };
            let mut req = req;
            if let Some(oauth) = oauth.as_ref().filter(|o| o.watches_ended_sessions()) {
                // A session that back-channel logout ended is signed out before anything reads it.
                let (http_req, payload) = req.into_parts();
                let ended = oauth.purge_if_ended(&http_req).await;
                req = ServiceRequest::from_parts(http_req, payload);
                if let Err(err) = ended {
                    log_failure("reading whether the session was ended", &err);
                    let page = err.response_for(req.headers()).map_into_right_body();
                    return Ok(req.into_response(page));
                }
            }
            if let (Some(oauth), Some(provider)) = (&oauth, callback) {
                let (http_req, mut payload) = req.into_parts();
                let result = match oauth
                    .read_callback(&http_req, &mut payload, &provider)
                    .await
                {
                    Ok(CallbackInput::Params(query)) => {
                        oauth.complete_cached(&http_req, &provider, &query).await
                    }
                    Ok(CallbackInput::Relay(page)) => {
                        let response = ServiceResponse::new(http_req, page.map_into_right_body());
                        return Ok(response);
                    }
                    Err(err) => Err(err),
                };
                req = ServiceRequest::from_parts(http_req, payload);
                if let Err(err) = result {
                    log_failure(&format!("sign-in with `{provider}`"), &err);
                    let response = err.response_for(req.headers()).map_into_right_body();
                    return Ok(req.into_response(response));
                }
            }
            let response = service.call(req).await?;
            if let Some(limit) = oauth.as_ref().and_then(|o| o.max_session_bytes()) {
                if let Some(err) = crate::session::enforce_size_limit(response.request(), limit) {
                    log_failure("keeping the session", &err);
                    let (http_req, _) = response.into_parts();
                    let page = err.response_for(http_req.headers()).map_into_right_body();
                    return Ok(ServiceResponse::new(http_req, page));
                }
            }
            Ok(response.map_into_left_body())
        })
    }
}

/// Logs a failure by its kind only: messages may carry what a browser or provider sent.
fn log_failure(context: &str, err: &crate::OAuthError) {
    if err.status_code().is_server_error() {
        log::warn!("actix-oauth: {context} failed ({})", err.kind());
    } else {
        log::info!("actix-oauth: {context} failed ({})", err.kind());
    }
}
