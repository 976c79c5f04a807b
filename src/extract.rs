//! [`AuthorizedResponse`]: the extractor that hands a handler a completed handshake.

use std::{fmt, marker::PhantomData};

use actix_web::{dev::Payload, http::header::LOCATION, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use serde_json::Value;

use crate::{
    error::OAuthError,
    extension::OAuthExt as _,
    handshake::{Authorized, CallbackInput},
    provider::CallbackProvider,
    token::TokenResponse,
};

/// The answer of a completed sign-in with provider `P`: Flask-OAuth's `@authorized_handler`
/// argument.
///
/// A handler that takes it runs only once the handshake is complete: `state` checked, the code
/// exchanged for tokens, the tokens kept in the token store and the session id renewed. When the user
/// declined, extraction fails with [`OAuthError::Denied`]; take `Option<AuthorizedResponse<P>>`
/// to get `None` instead.
///
/// ```no_run
/// use actix_oauth::{providers::GitHub, AuthorizedResponse};
/// use actix_web::{get, HttpResponse};
///
/// #[get("/auth/github/callback")]
/// async fn github_callback(resp: Option<AuthorizedResponse<GitHub>>) -> HttpResponse {
///     match resp {
///         None => HttpResponse::SeeOther()
///             .insert_header(("location", "/?message=denied"))
///             .finish(),
///         Some(resp) => resp.redirect_next(),
///     }
/// }
/// ```
///
/// # Errors and `Option`
/// actix-web turns *any* extractor error into `None` for an `Option<_>` argument. With
/// [`OAuthMiddleware`](crate::OAuthMiddleware) wrapping the app, the handshake on the remote app's
/// callback path is completed before routing, and a failed one is answered with its error page,
/// so `None` means exactly "declined". Without the middleware, prefer the plain extractor.
///
/// # `form_post` callbacks
/// A callback the provider's page POSTs ([`ResponseMode::FormPost`](crate::ResponseMode)) is
/// completed like a `GET` one when the session cookie came with it. A cross-site POST arrives
/// without the `SameSite=Lax` cookie: only [`OAuthMiddleware`](crate::OAuthMiddleware) answers
/// it, with a same-origin page that posts the fields again with the cookie. Without the
/// middleware the extractor refuses it ([`OAuthError::StateMissing`], naming the middleware),
/// so wrap `form_post` apps in it.
pub struct AuthorizedResponse<P: CallbackProvider> {
    inner: Authorized,
    _provider: PhantomData<fn() -> P>,
}

impl<P: CallbackProvider> fmt::Debug for AuthorizedResponse<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizedResponse")
            .field("provider", &self.inner.provider)
            .field("token", &self.inner.token)
            .field("next", &self.inner.next)
            .finish()
    }
}

impl<P: CallbackProvider> AuthorizedResponse<P> {
    /// The name of the remote app that signed the user in.
    pub fn provider(&self) -> &str {
        &self.inner.provider
    }

    /// The tokens the provider issued.
    pub fn token(&self) -> &TokenResponse {
        &self.inner.token
    }

    /// Takes the tokens, e.g. to store them with the user.
    pub fn into_token(self) -> TokenResponse {
        self.inner.token
    }

    /// A field of the token answer besides the tokens (Flask-OAuth's `resp['screen_name']`).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.inner.token.extra().get(key)
    }

    /// The same-site path given to `authorize` as `next`, if any.
    pub fn next(&self) -> Option<&str> {
        self.inner.next.as_deref()
    }

    /// A `303 See Other` to [`next`](Self::next), or to `/`.
    pub fn redirect_next(&self) -> HttpResponse {
        HttpResponse::SeeOther()
            .insert_header((LOCATION, self.next().unwrap_or("/")))
            .finish()
    }
}

impl<P: CallbackProvider> FromRequest for AuthorizedResponse<P> {
    type Error = OAuthError;
    type Future = LocalBoxFuture<'static, Result<Self, OAuthError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut payload = payload.take();
        Box::pin(async move {
            let oauth = req.oauth()?;
            let name = match P::REMOTE_APP {
                Some(name) => name.to_owned(),
                // `providers::Any`: whichever remote app this callback path belongs to.
                None => oauth
                    .callback_for(req.match_info().as_str())
                    .ok_or_else(|| {
                        OAuthError::config(format!(
                            "no remote app has the callback path `{}`.",
                            req.path()
                        ))
                    })?
                    .to_owned(),
            };
            let outcome =
                match oauth.completed(&req, &name) {
                    Some(done) => done?,
                    None => match oauth.read_callback(&req, &mut payload, &name).await? {
                        CallbackInput::Params(query) => {
                            oauth.complete_cached(&req, &name, &query).await?
                        }
                        // Only the middleware can answer with the relay page.
                        CallbackInput::Relay(_) => return Err(OAuthError::StateMissing(
                            "this POSTed callback came without its session cookie; wrap the app \
                             in OAuthMiddleware, which relays it so that the cookie comes along.",
                        )),
                    },
                };
            match outcome {
                Some(inner) => Ok(Self {
                    inner,
                    _provider: PhantomData,
                }),
                None => Err(OAuthError::Denied),
            }
        })
    }
}
