//! The awc adapter: every outbound request of the crate goes through [`AwcHttpClient`].

use std::{cell::OnceCell, future::Future, pin::Pin, time::Duration};

use ::oauth2::http;
use futures_util::future::LocalBoxFuture;

use crate::error::OAuthError;

/// Default timeout for one outbound request, from connect to the last body byte.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default cap on the size of a provider's answer.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// The `User-Agent` the crate sends unless told otherwise.
pub const DEFAULT_USER_AGENT: &str = concat!("actix-oauth/", env!("CARGO_PKG_VERSION"));

thread_local! {
    /// One awc client per worker thread: awc clients are `!Send`, and one client per thread
    /// keeps connections pooled and reused across requests.
    static CLIENT: OnceCell<awc::Client> = const { OnceCell::new() };
}

fn with_client<R>(f: impl FnOnce(&awc::Client) -> R) -> R {
    CLIENT.with(|cell| {
        f(cell.get_or_init(|| {
            awc::Client::builder()
                // Redirects are never followed: a token endpoint that redirects is misconfigured
                // or hijacked, and following would resend credentials.
                .disable_redirects()
                // Per-request deadlines are set by `AwcHttpClient`; this only bounds connects.
                .timeout(Duration::from_secs(3600))
                .finish()
        }))
    })
}

/// An HTTP client over awc with a deadline, a response size cap, an explicit `User-Agent`, and
/// redirects never followed.
///
/// It implements [`oauth2::AsyncHttpClient`], so the `oauth2` crate's own flows can run over awc
/// too (awc speaks `http` 0.2, `oauth2` speaks `http` 1.x; this type converts). The underlying awc
/// client is shared per worker thread, so connections are reused.
///
/// ```no_run
/// # async fn run() -> Result<(), actix_oauth::OAuthError> {
/// use actix_oauth::AwcHttpClient;
/// use oauth2::http;
///
/// let client = AwcHttpClient::default();
/// let request = http::Request::get("https://example.com/").body(Vec::new()).unwrap();
/// let response = client.send(request).await?;
/// println!("{}", response.status());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AwcHttpClient {
    timeout: Duration,
    max_response_bytes: usize,
    user_agent: String,
}

impl Default for AwcHttpClient {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
        }
    }
}

impl AwcHttpClient {
    /// Sets the deadline for a whole request, from connect to the last body byte. Default: 10 s.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets the largest answer accepted, in bytes. Default: 1 MiB.
    #[must_use]
    pub fn max_response_bytes(mut self, limit: usize) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Sets the `User-Agent` header sent when the request has none. Default: `actix-oauth/VERSION`.
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The configured deadline.
    pub fn configured_timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends a request and reads the whole answer, within the deadline and the size cap.
    ///
    /// Every status is returned as a response; only failures to get one are errors:
    /// [`OAuthError::Timeout`], [`OAuthError::Transport`], [`OAuthError::ResponseTooLarge`] or
    /// [`OAuthError::Malformed`] (the peer did not speak HTTP).
    pub async fn send(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, OAuthError> {
        let deadline = self.timeout;
        match actix_rt::time::timeout(deadline, self.send_inner(request)).await {
            Ok(result) => result,
            Err(_) => Err(OAuthError::Timeout(deadline)),
        }
    }

    async fn send_inner(
        &self,
        request: http::Request<Vec<u8>>,
    ) -> Result<http::Response<Vec<u8>>, OAuthError> {
        let (parts, body) = request.into_parts();
        let head = parts.method == http::Method::HEAD;
        let method = awc::http::Method::from_bytes(parts.method.as_str().as_bytes())
            .map_err(|_| OAuthError::config("an outbound request has an invalid method"))?;
        let mut outbound = with_client(|client| client.request(method, parts.uri.to_string()))
            .timeout(self.timeout);
        for (name, value) in &parts.headers {
            outbound = outbound.append_header((name.as_str(), value.as_bytes()));
        }
        if !parts.headers.contains_key(http::header::USER_AGENT) {
            outbound = outbound.insert_header(("user-agent", self.user_agent.as_str()));
        }
        let mut response = outbound
            .send_body(body)
            .await
            .map_err(|e| self.send_error(e))?;
        let status = response.status().as_u16();
        let mut builder = http::Response::builder().status(status);
        for (name, value) in response.headers() {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        let body = response
            .body()
            .limit(self.max_response_bytes)
            .await
            .map_err(|e| self.payload_error(e))?;
        // awc takes a connection closed early for the end of the body; a body shorter than its
        // Content-Length is a broken answer, not a complete one.
        // A body awc decompressed (when another crate in the build enables its compression
        // features) is longer than the Content-Length of what was sent.
        let encoded = response
            .headers()
            .get(awc::http::header::CONTENT_ENCODING)
            .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
        let unchecked =
            encoded || head || status == 204 || status == 304 || (100..200).contains(&status);
        let declared = response
            .headers()
            .get(awc::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok());
        if let Some(declared) = declared.filter(|&d| !unchecked && d != body.len()) {
            return Err(OAuthError::Transport(format!(
                "the connection closed after {} of the {declared} bytes the answer announced",
                body.len()
            )));
        }
        builder
            .body(body.to_vec())
            .map_err(|e| OAuthError::malformed("response", e.to_string()))
    }

    fn send_error(&self, err: awc::error::SendRequestError) -> OAuthError {
        use awc::error::SendRequestError as E;
        match err {
            E::Timeout => OAuthError::Timeout(self.timeout),
            E::Response(e) => OAuthError::malformed("response", e.to_string()),
            E::Url(e) => OAuthError::config(format!("an outbound URL is invalid: {e}")),
            other => OAuthError::Transport(other.to_string()),
        }
    }

    fn payload_error(&self, err: awc::error::PayloadError) -> OAuthError {
        use awc::error::PayloadError as E;
        match err {
            E::Overflow => OAuthError::ResponseTooLarge {
                limit: self.max_response_bytes,
            },
            other => OAuthError::Transport(other.to_string()),
        }
    }
}

impl<'c> ::oauth2::AsyncHttpClient<'c> for AwcHttpClient {
    type Error = OAuthError;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<Vec<u8>>, OAuthError>> + 'c>>;

    fn call(&'c self, request: http::Request<Vec<u8>>) -> Self::Future {
        let future: LocalBoxFuture<'c, _> = Box::pin(self.send(request));
        future
    }
}
