//! The awc adapter: every outbound request of the crate goes through [`AwcHttpClient`].
//!
//! # Connections
//! Safe requests (`GET`, `HEAD`, `OPTIONS`: user info, discovery, JWKS, API reads) go over
//! pooled keep-alive connections. A pooled connection may be one the provider is closing as the
//! request goes out; when a safe request gets no byte of an answer (the connection was closed or
//! reset first), it is sent once more, on a new connection. Any other request (token requests,
//! API writes) gets a connection of its own, closed after the answer, and is never sent twice:
//! the provider may have processed it (RFC 9110 §9.2.2).
//!
//! An answer after which the provider closes the connection — HTTP/1.0 without `keep-alive`, or
//! `Connection: close` — never leaves its connection in the pool.
//!
//! # Trust
//! Outbound HTTPS trusts the Mozilla root store by default; the [`OAuth`](crate::OAuth) builder
//! adds the operating system's store and extra certificate authorities, globally or per remote
//! app. Each trust configuration has its own awc clients in each worker thread.

use std::{
    cell::RefCell, collections::HashMap, fmt, future::Future, pin::Pin, sync::Arc, time::Duration,
};

use ::oauth2::http;
use futures_util::{future::LocalBoxFuture, StreamExt as _};

use crate::{defaults, error::OAuthError};

thread_local! {
    /// The awc clients of each trust configuration, per worker thread: awc clients are `!Send`,
    /// and one per thread keeps connections pooled and reused across requests. Bounded by the
    /// distinct trust configurations the app was built with.
    static CLIENTS: RefCell<HashMap<[u8; 32], Clients>> = RefCell::new(HashMap::new());
}

/// The two awc clients of one trust configuration in one thread.
#[derive(Clone)]
struct Clients {
    /// Keeps connections alive for reuse: safe requests.
    pooled: awc::Client,
    /// A new connection for each request, closed after the answer: requests that are not safe
    /// to send twice, and the second try of a safe one.
    fresh: awc::Client,
}

fn clients(trust: &Trust) -> Clients {
    CLIENTS.with(|map| {
        map.borrow_mut()
            .entry(trust.key)
            .or_insert_with(|| Clients {
                pooled: new_client(trust, false),
                fresh: new_client(trust, true),
            })
            .clone()
    })
}

fn new_client(trust: &Trust, fresh: bool) -> awc::Client {
    let mut connector = awc::Connector::new();
    #[cfg(feature = "rustls")]
    {
        connector = connector.rustls_0_23(Arc::clone(&trust.config));
    }
    #[cfg(not(feature = "rustls"))]
    let _ = trust;
    if fresh {
        // A connection given back to this pool is never handed out again.
        connector = connector
            .conn_keep_alive(Duration::ZERO)
            .conn_lifetime(Duration::ZERO);
    }
    awc::Client::builder()
        .connector(connector)
        // Redirects are never followed: a token endpoint that redirects is misconfigured or
        // hijacked, and following would resend credentials.
        .disable_redirects()
        // Per-request deadlines are set by `AwcHttpClient`; this only bounds connects.
        .timeout(Duration::from_secs(3600))
        .finish()
}

/// The certificate authorities outbound HTTPS trusts, ready to use: built once, shared by every
/// thread (each keeps its own awc clients for it, found by `key`).
pub(crate) struct Trust {
    /// A digest of the trusted roots: equal configurations share their clients.
    key: [u8; 32],
    /// How many roots are trusted (for `Debug`).
    roots: usize,
    #[cfg(feature = "rustls")]
    config: Arc<rustls::ClientConfig>,
}

impl fmt::Debug for Trust {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trust")
            .field("roots", &self.roots)
            .finish_non_exhaustive()
    }
}

/// The roots every remote app of one [`OAuth`](crate::OAuth) build trusts: the Mozilla store, the
/// operating system's, extra authorities. Read once per build; [`Self::trust`] adds a remote
/// app's own authorities.
pub(crate) struct TrustBase {
    webpki_roots: bool,
    /// DER certificates: the operating system's, then the extra ones.
    certificates: Vec<Vec<u8>>,
}

impl TrustBase {
    /// Reads the roots. `extra` are DER certificates already checked by
    /// [`parse_pem_certificates`].
    ///
    /// # Errors
    /// [`OAuthError::Configuration`] naming the setting: the operating system's store yielded
    /// no certificate, or no root at all would be trusted.
    pub(crate) fn new(
        webpki_roots: bool,
        native_roots: bool,
        extra: Vec<Vec<u8>>,
    ) -> Result<Self, OAuthError> {
        let mut certificates = Vec::new();
        if native_roots {
            #[cfg(feature = "rustls")]
            {
                let found = rustls_native_certs::load_native_certs();
                if found.certs.is_empty() {
                    let why = found
                        .errors
                        .first()
                        .map_or_else(|| "it is empty".to_owned(), ToString::to_string);
                    return Err(OAuthError::config(format!(
                        "`native_roots`: the operating system's trust store yielded no certificate ({why})."
                    )));
                }
                certificates.extend(found.certs.into_iter().map(|c| c.to_vec()));
            }
            #[cfg(not(feature = "rustls"))]
            return Err(OAuthError::config(
                "`native_roots` needs the `rustls` feature.",
            ));
        }
        certificates.extend(extra);
        Ok(Self {
            webpki_roots,
            certificates,
        })
    }

    /// The trust of a remote app that adds `more` (DER, checked) to these roots.
    pub(crate) fn trust(&self, more: &[Vec<u8>]) -> Result<Arc<Trust>, OAuthError> {
        use sha2::Digest as _;
        let mut all: Vec<&[u8]> = self
            .certificates
            .iter()
            .chain(more)
            .map(Vec::as_slice)
            .collect();
        all.sort_unstable();
        all.dedup();
        let mut digest = sha2::Sha256::new();
        digest.update([u8::from(self.webpki_roots)]);
        for der in &all {
            digest.update((der.len() as u64).to_be_bytes());
            digest.update(der);
        }
        let key: [u8; 32] = digest.finalize().into();
        #[cfg(feature = "rustls")]
        {
            let mut roots = rustls::RootCertStore::empty();
            if self.webpki_roots {
                roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            }
            // The operating system's store may hold certificates rustls cannot use; they are
            // skipped, as OpenSSL skips them. Extra ones were checked when parsed.
            roots.add_parsable_certificates(
                all.iter()
                    .map(|der| rustls::pki_types::CertificateDer::from(der.to_vec())),
            );
            if roots.is_empty() {
                return Err(OAuthError::config(
                    "no certificate authority is trusted: with `webpki_roots(false)`, set `native_roots` or `root_certificate_pem`.",
                ));
            }
            let count = roots.len();
            let provider = rustls::crypto::CryptoProvider::get_default()
                .cloned()
                .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| OAuthError::config(format!("TLS cannot be set up: {e}")))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            // HTTP/2 when the provider offers it (ALPN), HTTP/1.1 otherwise.
            config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
            Ok(Arc::new(Trust {
                key,
                roots: count,
                config: Arc::new(config),
            }))
        }
        #[cfg(not(feature = "rustls"))]
        Ok(Arc::new(Trust {
            key,
            roots: all.len(),
        }))
    }
}

/// The certificates of a PEM text (one or more `BEGIN CERTIFICATE` blocks; other blocks are
/// ignored), as DER, each checked to be usable as a trust anchor. The error says why, for a
/// configuration message that names the field.
pub(crate) fn parse_pem_certificates(pem: &str) -> Result<Vec<Vec<u8>>, String> {
    #[cfg(feature = "rustls")]
    {
        use rustls::pki_types::{pem::PemObject as _, CertificateDer};
        let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("is not valid PEM ({e})"))?;
        if certificates.is_empty() {
            return Err("holds no PEM `CERTIFICATE` block".to_owned());
        }
        let mut check = rustls::RootCertStore::empty();
        for certificate in &certificates {
            check.add(certificate.clone()).map_err(|e| {
                format!("holds a certificate that cannot be trusted as an authority ({e})")
            })?;
        }
        Ok(certificates.into_iter().map(|c| c.to_vec()).collect())
    }
    #[cfg(not(feature = "rustls"))]
    {
        let _ = pem;
        Err("needs the `rustls` feature".to_owned())
    }
}

/// The trust of clients built without one: the Mozilla roots, built once per process.
fn default_trust() -> Result<Arc<Trust>, OAuthError> {
    static DEFAULT: std::sync::OnceLock<Result<Arc<Trust>, String>> = std::sync::OnceLock::new();
    DEFAULT
        .get_or_init(|| {
            TrustBase::new(true, false, Vec::new())
                .and_then(|base| base.trust(&[]))
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(OAuthError::Configuration)
}

/// An HTTP client over awc with a deadline, a response size cap, an explicit `User-Agent`, and
/// redirects never followed.
///
/// It implements [`oauth2::AsyncHttpClient`], so the `oauth2` crate's own flows can run over awc
/// too (awc speaks `http` 0.2, `oauth2` speaks `http` 1.x; this type converts). The underlying awc
/// clients are shared per worker thread, so connections are reused: safe requests (`GET`, `HEAD`,
/// `OPTIONS`) over pooled connections, sent once more on a new connection when a pooled one
/// closes before any byte of an answer; every other request over a connection of its own, and
/// never twice. HTTPS speaks HTTP/2 when the provider offers it.
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
    /// `None`: the Mozilla roots.
    trust: Option<Arc<Trust>>,
}

impl Default for AwcHttpClient {
    fn default() -> Self {
        Self {
            timeout: defaults::TIMEOUT,
            max_response_bytes: defaults::MAX_RESPONSE_BYTES,
            user_agent: defaults::USER_AGENT.to_owned(),
            trust: None,
        }
    }
}

/// Why an attempt got no answer.
enum Failure {
    /// No byte of an answer came: the connection was closed or reset first (what a pooled
    /// connection the provider closed looks like). A safe request may be sent again.
    Unanswered(OAuthError),
    /// Anything else.
    Other(OAuthError),
}

impl Failure {
    fn into_error(self) -> OAuthError {
        match self {
            Self::Unanswered(err) | Self::Other(err) => err,
        }
    }
}

impl From<OAuthError> for Failure {
    fn from(err: OAuthError) -> Self {
        Self::Other(err)
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

    /// This client, trusting `trust`'s roots.
    pub(crate) fn with_trust(mut self, trust: Arc<Trust>) -> Self {
        self.trust = Some(trust);
        self
    }

    /// Sends a request and reads the whole answer, within the deadline and the size cap.
    ///
    /// Every status is returned as a response; only failures to get one are errors:
    /// [`OAuthError::Timeout`], [`OAuthError::Transport`], [`OAuthError::Tls`] (the provider's
    /// certificate is not trusted, or the handshake failed), [`OAuthError::ResponseTooLarge`] or
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
        let trust = match &self.trust {
            Some(trust) => Arc::clone(trust),
            None => default_trust()?,
        };
        let clients = clients(&trust);
        let (parts, body) = request.into_parts();
        // RFC 9110 §9.2.1: safe methods change nothing at the provider, so sending one twice
        // is harmless; the others may not be repeated (§9.2.2).
        let safe =
            [http::Method::GET, http::Method::HEAD, http::Method::OPTIONS].contains(&parts.method);
        if !safe {
            return self
                .attempt(&clients.fresh, &parts, body, true)
                .await
                .map_err(Failure::into_error);
        }
        match self
            .attempt(&clients.pooled, &parts, body.clone(), false)
            .await
        {
            Err(Failure::Unanswered(err)) => {
                // Host and port only: the authority could carry `user:password@`.
                log::debug!(
                    "actix-oauth: {} to {}:{} got no answer ({}); sending it once more on a new connection",
                    parts.method,
                    parts.uri.host().unwrap_or(""),
                    parts.uri.port_u16().unwrap_or_default(),
                    err.kind()
                );
                self.attempt(&clients.fresh, &parts, body, true)
                    .await
                    .map_err(Failure::into_error)
            }
            other => other.map_err(Failure::into_error),
        }
    }

    /// One try over `client`; `close` asks the provider to close the connection after it.
    async fn attempt(
        &self,
        client: &awc::Client,
        parts: &http::request::Parts,
        body: Vec<u8>,
        close: bool,
    ) -> Result<http::Response<Vec<u8>>, Failure> {
        let method = awc::http::Method::from_bytes(parts.method.as_str().as_bytes())
            .map_err(|_| OAuthError::config("an outbound request has an invalid method"))?;
        let mut outbound = client
            .request(method, parts.uri.to_string())
            .timeout(self.timeout);
        if close {
            outbound = outbound.force_close();
        }
        for (name, value) in &parts.headers {
            outbound = outbound.append_header((name.as_str(), value.as_bytes()));
        }
        if !parts.headers.contains_key(http::header::USER_AGENT) {
            outbound = outbound.insert_header(("user-agent", self.user_agent.as_str()));
        }
        let mut response = outbound
            .send_body(body)
            .await
            .map_err(|e| self.send_error(e, parts.uri.host().unwrap_or("")))?;
        let status = response.status().as_u16();
        let mut builder = http::Response::builder().status(status);
        for (name, value) in response.headers() {
            builder = builder.header(name.as_str(), value.as_bytes());
        }
        // awc takes a connection closed early for the end of the body; a body shorter than its
        // Content-Length is a broken answer, not a complete one.
        // A body awc decompressed (when another crate in the build enables its compression
        // features) is longer than the Content-Length of what was sent.
        let encoded = response
            .headers()
            .get(awc::http::header::CONTENT_ENCODING)
            .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
        let head = parts.method == http::Method::HEAD;
        let unchecked =
            encoded || head || status == 204 || status == 304 || (100..200).contains(&status);
        let declared = response
            .headers()
            .get(awc::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|_| !unchecked);
        if declared.is_some_and(|d| d > self.max_response_bytes) {
            return Err(OAuthError::ResponseTooLarge {
                limit: self.max_response_bytes,
            }
            .into());
        }
        // awc pools the connection of an HTTP/1.0 answer without `Connection` header once its
        // body has been read to the end, although the provider closes it. Stopping at the
        // announced length, before awc sees the end, drops the connection instead.
        let stop_at = declared.filter(|_| provider_closes(response.version(), response.headers()));
        let mut body = Vec::with_capacity(declared.unwrap_or(0));
        while stop_at.is_none_or(|end| body.len() < end) {
            match response.next().await {
                Some(Ok(chunk)) => {
                    if body.len() + chunk.len() > self.max_response_bytes {
                        return Err(OAuthError::ResponseTooLarge {
                            limit: self.max_response_bytes,
                        }
                        .into());
                    }
                    body.extend_from_slice(&chunk);
                }
                Some(Err(e)) => return Err(self.payload_error(e).into()),
                None => break,
            }
        }
        drop(response);
        if let Some(declared) = declared.filter(|&d| d != body.len()) {
            return Err(OAuthError::Transport(format!(
                "the connection closed after {} of the {declared} bytes the answer announced",
                body.len()
            ))
            .into());
        }
        Ok(builder
            .body(body)
            .map_err(|e| OAuthError::malformed("response", e.to_string()))?)
    }

    fn send_error(&self, err: awc::error::SendRequestError, host: &str) -> Failure {
        use awc::error::{ConnectError, SendRequestError as E};
        if unanswered(&err) {
            return Failure::Unanswered(OAuthError::Transport(err.to_string()));
        }
        Failure::Other(match err {
            E::Timeout => OAuthError::Timeout(self.timeout),
            E::Response(e) => OAuthError::malformed("response", e.to_string()),
            E::Url(e) => OAuthError::config(format!("an outbound URL is invalid: {e}")),
            E::Connect(ConnectError::Io(e)) => match tls_problem(&e, host) {
                Some(tls) => tls,
                None => OAuthError::Transport(ConnectError::Io(e).to_string()),
            },
            E::Connect(ConnectError::SslIsNotSupported) => OAuthError::config(
                "an https endpoint needs the `rustls` feature, which this build lacks.",
            ),
            other => OAuthError::Transport(other.to_string()),
        })
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

/// Whether the provider said it closes the connection after this answer: `Connection: close`,
/// or HTTP/1.0 without `Connection: keep-alive` (RFC 9112 §9.3).
fn provider_closes(version: awc::http::Version, headers: &awc::http::header::HeaderMap) -> bool {
    let mut keep_alive = false;
    for token in headers
        .get_all(awc::http::header::CONNECTION)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
    {
        if token.eq_ignore_ascii_case("close") {
            return true;
        }
        keep_alive |= token.eq_ignore_ascii_case("keep-alive");
    }
    version < awc::http::Version::HTTP_11 && !keep_alive
}

/// Whether a request failed before any byte of an answer came, the connection closed or reset
/// under it (or, over HTTP/2, refused or shut down before the stream was processed).
fn unanswered(err: &awc::error::SendRequestError) -> bool {
    use awc::error::{ConnectError, SendRequestError as E};
    use std::io::ErrorKind as K;
    let gone = |e: &std::io::Error| {
        matches!(
            e.kind(),
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof
        )
    };
    match err {
        // awc's word for "the connection ended before the answer's head".
        E::Connect(ConnectError::Disconnected) => true,
        E::Send(e) => gone(e),
        E::Response(actix_web::error::ParseError::Io(e)) => gone(e),
        // RFC 9113 §8.7: a refused stream, or one above a GOAWAY's last stream, was not
        // processed.
        E::H2(e) => e.is_go_away() || e.is_io() || e.reason().is_some_and(|r| u32::from(r) == 0x7),
        _ => false,
    }
}

/// The TLS failure inside a connect error, said for a person: whose certificate, and why it is
/// not trusted.
#[cfg_attr(not(feature = "rustls"), allow(unused_variables))]
fn tls_problem(err: &std::io::Error, host: &str) -> Option<OAuthError> {
    #[cfg(feature = "rustls")]
    {
        use rustls::{CertificateError as C, Error as R};
        let tls = err.get_ref()?.downcast_ref::<R>()?;
        let why = match tls {
            R::InvalidCertificate(C::UnknownIssuer) => format!(
                "the certificate of `{host}` is not trusted: no certificate authority this app trusts signed it (trust the provider's authority with `root_certificate_pem`, or the operating system's store with `native_roots`)."
            ),
            R::InvalidCertificate(C::NotValidForName | C::NotValidForNameContext { .. }) => {
                format!("the certificate of `{host}` is not trusted: it is not valid for that name.")
            }
            R::InvalidCertificate(C::Expired | C::ExpiredContext { .. }) => {
                format!("the certificate of `{host}` is not trusted: it has expired.")
            }
            R::InvalidCertificate(other) => {
                format!("the certificate of `{host}` is not trusted ({other:?}).")
            }
            other => format!("the TLS handshake with `{host}` failed ({other})."),
        };
        Some(OAuthError::Tls(why))
    }
    #[cfg(not(feature = "rustls"))]
    None
}

impl<'c> ::oauth2::AsyncHttpClient<'c> for AwcHttpClient {
    type Error = OAuthError;
    type Future = Pin<Box<dyn Future<Output = Result<http::Response<Vec<u8>>, OAuthError>> + 'c>>;

    fn call(&'c self, request: http::Request<Vec<u8>>) -> Self::Future {
        let future: LocalBoxFuture<'c, _> = Box::pin(self.send(request));
        future
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_closes_the_connection() {
        use awc::http::{header::HeaderMap, Version};
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                awc::http::header::CONNECTION,
                awc::http::header::HeaderValue::from_str(value).unwrap(),
            );
            headers
        };
        assert!(provider_closes(Version::HTTP_10, &HeaderMap::new()));
        assert!(!provider_closes(Version::HTTP_10, &with("Keep-Alive")));
        assert!(provider_closes(
            Version::HTTP_11,
            &with("keep-alive, close")
        ));
        assert!(!provider_closes(Version::HTTP_11, &HeaderMap::new()));
        assert!(!provider_closes(Version::HTTP_2, &HeaderMap::new()));
    }

    #[cfg(feature = "rustls")]
    #[test]
    fn pem_is_checked() {
        assert!(parse_pem_certificates("no pem here")
            .unwrap_err()
            .contains("no PEM"));
        let bogus = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(parse_pem_certificates(bogus)
            .unwrap_err()
            .contains("cannot be trusted"));
    }
}
