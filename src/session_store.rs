//! Sessions in a shared store (Redis) that may go away: [`BoundedSessionStore`] ends every call
//! within a deadline, and [`StoreFaults`] answers the request a `503` page (or JSON) where
//! actix-session would answer an empty `500`, or a request would hang.

use std::{cell::Cell, collections::HashMap, fmt, future::Future, rc::Rc, time::Duration};

use actix_session::storage::{LoadError, SaveError, SessionKey, SessionStore, UpdateError};
use actix_web::{
    cookie::time,
    dev::{forward_ready, Service, ServiceRequest, ServiceResponse, Transform},
    error::InternalError,
    Error, HttpResponse,
};
use futures_util::future::LocalBoxFuture;

use crate::{defaults, error::wants_json, OAuthError};

tokio::task_local! {
    /// Set by [`BoundedSessionStore`] when its store failed, within a request [`StoreFaults`]
    /// watches: the session middleware's error is then the store's absence.
    static STORE_FAILED: Cell<bool>;
}

/// Marks the current request's session store as failed (when [`StoreFaults`] watches it).
fn mark_failed() {
    // Outside a watched request there is nothing to mark: actix-session answers its own 500.
    let _ = STORE_FAILED.try_with(|failed| failed.set(true));
}

/// The error a failed or silent store call becomes: its cause is logged, never shown.
#[derive(Debug)]
struct Unreachable;

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the session store cannot be reached")
    }
}

impl std::error::Error for Unreachable {}

/// A [`SessionStore`] whose every call ends within a deadline: a store that does not answer in
/// time, or fails to (its server down or unreachable), fails the call at once, and under
/// [`StoreFaults`] the request is answered `503 Service Unavailable` with `Retry-After`. Each
/// request tries the store again, so the app recovers on its own when the store is back.
///
/// actix-session's `RedisSessionStore` waits for Redis without a limit (its connection manager
/// has no timeouts): wrap it. Build it over a connection pool (actix-session's `redis-pool`
/// feature, a `deadpool_redis` pool): with one managed connection (`RedisSessionStore::new`),
/// sessions were seen to stay unavailable after Redis restarted, until the app restarted
/// (README, "When Redis or the database goes away").
///
/// ```no_run
/// use actix_oauth::{BoundedSessionStore, OAuthMiddleware, StoreFaults};
/// use actix_session::{storage::RedisSessionStore, SessionMiddleware};
/// use actix_web::{cookie::Key, App};
///
/// # async fn demo(
/// #     oauth: actix_oauth::OAuthExtension,
/// #     key: Key,
/// #     pool: deadpool_redis::Pool,
/// # ) -> anyhow::Result<()> {
/// let redis = RedisSessionStore::new_pooled(pool).await?;
/// let app = App::new()
///     .app_data(oauth.clone())
///     .wrap(OAuthMiddleware::new())
///     .wrap(SessionMiddleware::new(BoundedSessionStore::new(redis), key))
///     // Outside the session middleware: it turns the store's absence into a 503 page.
///     .wrap(StoreFaults::new());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct BoundedSessionStore<S> {
    inner: S,
    limit: Duration,
}

impl<S> BoundedSessionStore<S> {
    /// Wraps `inner` with the default deadline,
    /// [`STORE_TIMEOUT`](crate::defaults::STORE_TIMEOUT) (3 seconds) per call.
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            limit: defaults::STORE_TIMEOUT,
        }
    }

    /// Sets the longest one call to the store may take.
    #[must_use]
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.limit = limit;
        self
    }

    /// Runs one call to the store within the deadline; `Err(Unreachable)` when it took too
    /// long (logged, and the request marked).
    async fn bounded<T, E: fmt::Display>(
        &self,
        call: impl Future<Output = Result<T, E>>,
    ) -> Result<Result<T, E>, Unreachable> {
        match actix_rt::time::timeout(self.limit, call).await {
            Ok(result) => Ok(result),
            Err(_) => {
                log::warn!(
                    "actix-oauth: the session store did not answer within {:?}",
                    self.limit
                );
                mark_failed();
                Err(Unreachable)
            }
        }
    }
}

/// Logs a store failure by its cause (never the session's content: stores do not put it in
/// their errors) and marks the request's store as failed.
fn unreachable(cause: &anyhow::Error) -> anyhow::Error {
    log::warn!("actix-oauth: the session store failed: {cause}");
    mark_failed();
    anyhow::Error::new(Unreachable)
}

impl<S: SessionStore> SessionStore for BoundedSessionStore<S> {
    async fn load(
        &self,
        session_key: &SessionKey,
    ) -> Result<Option<HashMap<String, String>>, LoadError> {
        match self.bounded(self.inner.load(session_key)).await {
            Ok(Ok(state)) => Ok(state),
            // A session that does not parse is actix-session's to handle (a new session).
            Ok(Err(LoadError::Deserialization(e))) => Err(LoadError::Deserialization(e)),
            Ok(Err(LoadError::Other(e))) => Err(LoadError::Other(unreachable(&e))),
            Err(e) => Err(LoadError::Other(e.into())),
        }
    }

    async fn save(
        &self,
        session_state: HashMap<String, String>,
        ttl: &time::Duration,
    ) -> Result<SessionKey, SaveError> {
        match self.bounded(self.inner.save(session_state, ttl)).await {
            Ok(Ok(key)) => Ok(key),
            Ok(Err(SaveError::Serialization(e))) => Err(SaveError::Serialization(e)),
            Ok(Err(SaveError::Other(e))) => Err(SaveError::Other(unreachable(&e))),
            Err(e) => Err(SaveError::Other(e.into())),
        }
    }

    async fn update(
        &self,
        session_key: SessionKey,
        session_state: HashMap<String, String>,
        ttl: &time::Duration,
    ) -> Result<SessionKey, UpdateError> {
        match self
            .bounded(self.inner.update(session_key, session_state, ttl))
            .await
        {
            Ok(Ok(key)) => Ok(key),
            Ok(Err(UpdateError::Serialization(e))) => Err(UpdateError::Serialization(e)),
            Ok(Err(UpdateError::Other(e))) => Err(UpdateError::Other(unreachable(&e))),
            Err(e) => Err(UpdateError::Other(e.into())),
        }
    }

    async fn update_ttl(
        &self,
        session_key: &SessionKey,
        ttl: &time::Duration,
    ) -> Result<(), anyhow::Error> {
        match self.bounded(self.inner.update_ttl(session_key, ttl)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(unreachable(&e)),
            Err(e) => Err(e.into()),
        }
    }

    async fn delete(&self, session_key: &SessionKey) -> Result<(), anyhow::Error> {
        match self.bounded(self.inner.delete(session_key)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(unreachable(&e)),
            Err(e) => Err(e.into()),
        }
    }
}

/// Middleware that answers `503 Service Unavailable` (with `Retry-After`, `no-store`) when a
/// [`BoundedSessionStore`] could not be used during the request, where actix-session answers an
/// empty `500`: an HTML page, or JSON (`{"error": "unavailable", "message": …}`) for a request
/// that accepts `application/json` and not `text/html`. Register it *outside* (after) the
/// `SessionMiddleware`; other errors pass through unchanged.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct StoreFaults;

impl StoreFaults {
    /// The middleware.
    pub fn new() -> Self {
        Self
    }
}

impl<S, B> Transform<S, ServiceRequest> for StoreFaults
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = StoreFaultsService<S>;
    type InitError = ();
    type Future = std::future::Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        std::future::ready(Ok(StoreFaultsService {
            service: Rc::new(service),
        }))
    }
}

/// The service [`StoreFaults`] wraps around the app.
#[derive(Debug)]
pub struct StoreFaultsService<S> {
    service: Rc<S>,
}

impl<S, B> Service<ServiceRequest> for StoreFaultsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        let json = wants_json(req.headers());
        Box::pin(STORE_FAILED.scope(Cell::new(false), async move {
            match service.call(req).await {
                Err(err) if STORE_FAILED.with(Cell::get) => {
                    log::debug!("actix-oauth: answering 503, the session store failed ({err})");
                    let cause = OAuthError::Unavailable("session store");
                    Err(InternalError::from_response(cause, unavailable_response(json)).into())
                }
                result => result,
            }
        }))
    }
}

/// The `503` for a session store that is away.
fn unavailable_response(json: bool) -> HttpResponse {
    let err = OAuthError::Unavailable("session store");
    log::warn!("actix-oauth: {err} ({})", err.kind());
    err.response_as(json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_session::{storage::CookieSessionStore, Session, SessionMiddleware};
    use actix_web::{cookie::Key, test, web, App};

    /// A store whose every call fails at once, or never ends.
    struct Broken {
        silent: bool,
    }

    impl Broken {
        async fn fail<T>(&self) -> Result<T, anyhow::Error> {
            if self.silent {
                std::future::pending::<()>().await;
            }
            Err(anyhow::anyhow!("connection refused"))
        }
    }

    impl SessionStore for Broken {
        async fn load(&self, _: &SessionKey) -> Result<Option<HashMap<String, String>>, LoadError> {
            self.fail().await.map_err(LoadError::Other)
        }
        async fn save(
            &self,
            _: HashMap<String, String>,
            _: &time::Duration,
        ) -> Result<SessionKey, SaveError> {
            self.fail().await.map_err(SaveError::Other)
        }
        async fn update(
            &self,
            _: SessionKey,
            _: HashMap<String, String>,
            _: &time::Duration,
        ) -> Result<SessionKey, UpdateError> {
            self.fail().await.map_err(UpdateError::Other)
        }
        async fn update_ttl(&self, _: &SessionKey, _: &time::Duration) -> anyhow::Result<()> {
            self.fail().await
        }
        async fn delete(&self, _: &SessionKey) -> anyhow::Result<()> {
            self.fail().await
        }
    }

    async fn write(session: Session) -> HttpResponse {
        session.insert("k", "v").ok();
        HttpResponse::Ok().body("written")
    }

    #[actix_web::test]
    async fn a_failing_or_silent_store_is_a_503_page_or_json() {
        for silent in [false, true] {
            let store =
                BoundedSessionStore::new(Broken { silent }).timeout(Duration::from_millis(50));
            let app = test::init_service(
                App::new()
                    .wrap(SessionMiddleware::new(store, Key::generate()))
                    .wrap(StoreFaults::new())
                    .route("/", web::get().to(write)),
            )
            .await;
            // As the server renders the request's error.
            let answer = |req| async {
                let err = test::try_call_service(&app, req).await.expect_err("a 503");
                let res = err.error_response();
                let retry = res.headers().get("retry-after").cloned();
                let status = res.status();
                let body = actix_web::body::to_bytes(res.into_body()).await.unwrap();
                (status, retry, String::from_utf8(body.to_vec()).unwrap())
            };
            let (status, retry, body) =
                answer(test::TestRequest::get().uri("/").to_request()).await;
            assert_eq!(status, 503, "silent: {silent}");
            assert_eq!(retry.unwrap(), "5");
            assert!(body.contains("session store"), "{body}");
            assert!(body.starts_with("<!doctype html>"), "{body}");

            let req = test::TestRequest::get()
                .uri("/")
                .insert_header(("accept", "application/json"))
                .to_request();
            let (status, _, body) = answer(req).await;
            assert_eq!(status, 503);
            let body: serde_json::Value = serde_json::from_str(&body).unwrap();
            assert_eq!(body["error"], "unavailable");
        }
    }

    #[actix_web::test]
    async fn a_working_store_and_other_errors_pass_through() {
        let store = BoundedSessionStore::new(CookieSessionStore::default());
        let app = test::init_service(
            App::new()
                .wrap(SessionMiddleware::new(store, Key::generate()))
                .wrap(StoreFaults::new())
                .route("/", web::get().to(write))
                .route(
                    "/fails",
                    web::get()
                        .to(|| async { Err::<HttpResponse, _>(OAuthError::Storage("x".into())) }),
                ),
        )
        .await;
        let res = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers().get("set-cookie").is_some());
        let res =
            test::call_service(&app, test::TestRequest::get().uri("/fails").to_request()).await;
        assert_eq!(res.status(), 500);
    }

    #[actix_web::test]
    async fn a_middlewares_own_error_passes_through() {
        let app = test::init_service(
            App::new()
                .wrap_fn(|req, srv| {
                    let refused = req.path() == "/refused";
                    let call = srv.call(req);
                    async move {
                        if refused {
                            return Err(actix_web::error::ErrorBadRequest("refused"));
                        }
                        call.await
                    }
                })
                .wrap(SessionMiddleware::new(
                    BoundedSessionStore::new(CookieSessionStore::default()),
                    Key::generate(),
                ))
                .wrap(StoreFaults::new())
                .route("/refused", web::get().to(write)),
        )
        .await;
        let err =
            test::try_call_service(&app, test::TestRequest::get().uri("/refused").to_request())
                .await
                .expect_err("the inner middleware's error");
        assert_eq!(err.as_response_error().status_code(), 400);
    }

    #[actix_web::test]
    async fn without_the_middleware_a_failing_store_is_still_an_error() {
        // No StoreFaults: nothing to mark, actix-session answers its own 500.
        let store = BoundedSessionStore::new(Broken { silent: false });
        let app = test::init_service(
            App::new()
                .wrap(SessionMiddleware::new(store, Key::generate()))
                .route("/", web::get().to(write)),
        )
        .await;
        let err = test::try_call_service(&app, test::TestRequest::get().uri("/").to_request())
            .await
            .expect_err("actix-session fails the request");
        assert_eq!(err.as_response_error().status_code(), 500);
    }
}
