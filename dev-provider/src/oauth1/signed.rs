//! Signed requests ([RFC 5849 §3]): collecting the protocol parameters, checking the
//! signature, the timestamp and the nonce, and the problems answered when they fail
//! ([OAuth Problem Reporting]).
//!
//! [RFC 5849 §3]: https://www.rfc-editor.org/rfc/rfc5849#section-3
//! [OAuth Problem Reporting]: https://wiki.oauth.net/w/page/12238543/ProblemReporting

use std::collections::HashSet;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use url::Url;

use super::store::{NonceKey, TokenSecret, TIMESTAMP_WINDOW};
use crate::state::{Client, Shared};
use actix_oauth::oauth1::{percent_encode, signature_base_string_url, SignatureMethod};

/// A refused OAuth 1.0a request: an `oauth_problem` with advice, answered form-encoded with an
/// `OAuth` challenge.
#[derive(Debug)]
pub(super) struct Problem {
    status: StatusCode,
    problem: &'static str,
    advice: String,
    /// More fields of the problem reporting extension, such as `oauth_parameters_absent`.
    fields: Vec<(&'static str, String)>,
}

impl Problem {
    /// A `401 Unauthorized` problem: bad credentials, signature, timestamp or nonce.
    pub(super) fn unauthorized(problem: &'static str, advice: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            problem,
            advice: advice.into(),
            fields: Vec::new(),
        }
    }

    /// A `400 Bad Request` problem: a missing, repeated or unsupported parameter ([RFC 5849
    /// §3.2]).
    ///
    /// [RFC 5849 §3.2]: https://www.rfc-editor.org/rfc/rfc5849#section-3.2
    pub(super) fn bad_request(problem: &'static str, advice: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            ..Self::unauthorized(problem, advice)
        }
    }

    /// `parameter_absent`, naming the missing parameters.
    pub(super) fn absent(names: &[&str]) -> Self {
        Self::bad_request(
            "parameter_absent",
            format!("Required parameters are missing: {}.", names.join(", ")),
        )
        .field("oauth_parameters_absent", percent_encoded_list(names))
    }

    /// `parameter_rejected`, naming the rejected parameter.
    pub(super) fn rejected(status: StatusCode, name: &str, advice: impl Into<String>) -> Self {
        Self {
            status,
            ..Self::unauthorized("parameter_rejected", advice)
        }
        .field("oauth_parameters_rejected", percent_encode(name))
    }

    /// `token_rejected`.
    pub(super) fn token_rejected() -> Self {
        Self::unauthorized(
            "token_rejected",
            "The oauth_token is unknown, expired, already used or issued to another consumer.",
        )
    }

    fn field(mut self, name: &'static str, value: String) -> Self {
        self.fields.push((name, value));
        self
    }
}

/// The parameter list of the problem reporting extension: names percent-encoded, joined by `&`.
fn percent_encoded_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| percent_encode(name))
        .collect::<Vec<_>>()
        .join("&")
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.problem, self.advice)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut fields = vec![
            ("oauth_problem", self.problem),
            ("oauth_problem_advice", self.advice.as_str()),
        ];
        fields.extend(
            self.fields
                .iter()
                .map(|(name, value)| (*name, value.as_str())),
        );
        HttpResponse::build(self.status)
            .insert_header((header::WWW_AUTHENTICATE, "OAuth realm=\"dev\""))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .content_type("application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(fields).unwrap_or_default())
    }
}

/// The longest `oauth_nonce` accepted, in bytes, so that the nonce store stays small.
const MAX_NONCE_LEN: usize = 256;

/// Which token a signed request must carry.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum TokenUse {
    /// None: signed with the consumer secret alone (temporary credential requests).
    None,
    /// Temporary credentials (token credential requests).
    Temporary,
    /// Token credentials (protected resources).
    Access,
}

/// A request whose signature, timestamp and nonce checked out.
pub(super) struct SignedRequest<'a> {
    pub(super) consumer: &'a Client,
    /// The `oauth_token`, present unless [`TokenUse::None`].
    pub(super) token: Option<String>,
    /// The `oauth_*` parameters, from wherever they were sent, each once.
    protocol: Vec<(String, String)>,
    /// The query parameters, decoded.
    pub(super) query: Vec<(String, String)>,
    /// The form-encoded body parameters, decoded; empty unless the body is
    /// `application/x-www-form-urlencoded`.
    pub(super) form: Vec<(String, String)>,
}

impl SignedRequest<'_> {
    /// A protocol parameter's value; `None` when absent or empty.
    pub(super) fn param(&self, name: &str) -> Option<&str> {
        protocol_param(&self.protocol, name)
    }
}

fn protocol_param<'p>(protocol: &'p [(String, String)], name: &str) -> Option<&'p str> {
    protocol
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty())
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The parameters of an `Authorization: OAuth …` header, decoded and without `realm`; empty
/// when the request has no such header.
fn header_params(req: &HttpRequest) -> Result<Vec<(String, String)>, Problem> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(Vec::new());
    };
    let malformed = || {
        Problem::bad_request(
            "parameter_rejected",
            "The Authorization header is not a well-formed OAuth header (RFC 5849 section 3.5.1).",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let scheme = value.split_whitespace().next().unwrap_or_default();
    if !scheme.eq_ignore_ascii_case("OAuth") {
        return Ok(Vec::new());
    }
    let params = crate::params::oauth_header(value).ok_or_else(malformed)?;
    if let Some((name, _)) = params.iter().find(|(name, _)| !name.starts_with("oauth_")) {
        return Err(Problem::rejected(
            StatusCode::BAD_REQUEST,
            name,
            "The Authorization header may only carry oauth_ parameters and realm.",
        ));
    }
    Ok(params)
}

/// Verifies a signed request ([RFC 5849 §3.2]) to the provider's own URL.
///
/// Protocol parameters are read from the `Authorization` header, the form-encoded body and
/// the query ([RFC 5849 §3.5]); each may be sent once, in one place. The signature base string
/// is built from the request method, `{base URL}{path}?{query}` with the base URL the provider
/// was started with, the header's parameters and the form-encoded body ([RFC 5849 §3.4.1]).
/// HMAC-SHA1, HMAC-SHA256 and PLAINTEXT are accepted; PLAINTEXT may omit the timestamp and
/// nonce, as [RFC 5849 §3.1] allows.
///
/// # Security
/// Signatures are compared in constant time. A nonce is recorded only once the signature has
/// checked out, so nobody can spend a consumer's nonces for it.
///
/// [RFC 5849 §3.1]: https://www.rfc-editor.org/rfc/rfc5849#section-3.1
/// [RFC 5849 §3.2]: https://www.rfc-editor.org/rfc/rfc5849#section-3.2
/// [RFC 5849 §3.4.1]: https://www.rfc-editor.org/rfc/rfc5849#section-3.4.1
/// [RFC 5849 §3.5]: https://www.rfc-editor.org/rfc/rfc5849#section-3.5
pub(super) fn verify<'a>(
    req: &HttpRequest,
    body: &[u8],
    shared: &'a Shared,
    token_use: TokenUse,
) -> Result<SignedRequest<'a>, Problem> {
    let base = shared.config.base_url.as_str().trim_end_matches('/');
    let target = req
        .uri()
        .path_and_query()
        .map_or("/", |target| target.as_str());
    let url = Url::parse(&format!("{base}{target}")).map_err(|_| {
        Problem::bad_request(
            "parameter_rejected",
            "The request target is not a valid URL.",
        )
    })?;
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let form: Vec<(String, String)> = if crate::params::is_form(req) {
        url::form_urlencoded::parse(body).into_owned().collect()
    } else {
        Vec::new()
    };
    let header = header_params(req)?;

    let mut protocol = header.clone();
    protocol.extend(
        form.iter()
            .chain(&query)
            .filter(|(name, _)| name.starts_with("oauth_"))
            .cloned(),
    );
    let mut seen = HashSet::new();
    if let Some((name, _)) = protocol.iter().find(|(name, _)| !seen.insert(name)) {
        return Err(Problem::rejected(
            StatusCode::BAD_REQUEST,
            name,
            format!("The protocol parameter {name} is sent more than once."),
        ));
    }
    let param = |name| protocol_param(&protocol, name);

    let method = param("oauth_signature_method");
    let plaintext = method == Some(SignatureMethod::Plaintext.name());
    let absent: Vec<&str> = [
        ("oauth_consumer_key", true),
        ("oauth_signature_method", true),
        ("oauth_signature", true),
        // PLAINTEXT may omit both, but not just one.
        (
            "oauth_timestamp",
            !plaintext || param("oauth_nonce").is_some(),
        ),
        (
            "oauth_nonce",
            !plaintext || param("oauth_timestamp").is_some(),
        ),
    ]
    .into_iter()
    .filter(|&(name, required)| required && param(name).is_none())
    .map(|(name, _)| name)
    .collect();
    if !absent.is_empty() {
        return Err(Problem::absent(&absent));
    }
    let (Some(consumer_key), Some(method), Some(signature)) = (
        param("oauth_consumer_key"),
        method,
        param("oauth_signature"),
    ) else {
        return Err(Problem::absent(&["oauth_consumer_key"]));
    };
    if param("oauth_nonce").is_some_and(|nonce| nonce.len() > MAX_NONCE_LEN) {
        return Err(Problem::rejected(
            StatusCode::BAD_REQUEST,
            "oauth_nonce",
            format!("The oauth_nonce may be at most {MAX_NONCE_LEN} bytes long."),
        ));
    }
    if param("oauth_version").is_some_and(|version| version != "1.0") {
        return Err(Problem::bad_request(
            "version_rejected",
            "Only oauth_version 1.0 is supported.",
        )
        .field("oauth_acceptable_versions", "1.0-1.0".to_owned()));
    }
    let method = match SignatureMethod::from_name(method) {
        Some(
            method @ (SignatureMethod::HmacSha1
            | SignatureMethod::HmacSha256
            | SignatureMethod::Plaintext),
        ) => method,
        _ => {
            return Err(Problem::bad_request(
                "signature_method_rejected",
                "Supported signature methods: HMAC-SHA1, HMAC-SHA256, PLAINTEXT.",
            ))
        }
    };
    let timestamp = match param("oauth_timestamp") {
        None => None,
        Some(timestamp) => Some(
            timestamp
                .bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| timestamp.parse::<u64>().ok())
                .flatten()
                .ok_or_else(|| {
                    Problem::rejected(
                        StatusCode::BAD_REQUEST,
                        "oauth_timestamp",
                        "The oauth_timestamp must be a number of seconds since 1970.",
                    )
                })?,
        ),
    };

    let consumer = shared.config.client(consumer_key).ok_or_else(|| {
        Problem::unauthorized(
            "consumer_key_unknown",
            "The oauth_consumer_key names no registered consumer.",
        )
    })?;
    let token = param("oauth_token");
    let token_secret: Option<TokenSecret> = match (token_use, token) {
        (TokenUse::None, None) => None,
        (TokenUse::None, Some(_)) => {
            return Err(Problem::rejected(
                StatusCode::BAD_REQUEST,
                "oauth_token",
                "Temporary credential requests carry no oauth_token.",
            ))
        }
        (_, None) => return Err(Problem::absent(&["oauth_token"])),
        (TokenUse::Temporary, Some(token)) => Some(
            shared
                .oauth1()
                .temporary_secret(token, &consumer.id)
                .ok_or_else(Problem::token_rejected)?,
        ),
        (TokenUse::Access, Some(token)) => Some(
            shared
                .oauth1()
                .token_secret(token, &consumer.id)
                .ok_or_else(Problem::token_rejected)?,
        ),
    };

    let params: Vec<(&str, &str)> = header
        .iter()
        .chain(&form)
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    let base_string = signature_base_string_url(req.method().as_str(), &url, &params);
    let token_secret = token_secret.as_ref().map_or("", TokenSecret::secret);
    if !consumer.verifies_oauth1(method, &base_string, token_secret, signature) {
        return Err(Problem::unauthorized(
            "signature_invalid",
            "The oauth_signature does not match the signature base string.",
        )
        .field("oauth_signature_base_string", base_string));
    }

    let now = now_unix();
    if let Some(timestamp) = timestamp {
        if timestamp.abs_diff(now) > TIMESTAMP_WINDOW {
            return Err(Problem::unauthorized(
                "timestamp_refused",
                format!(
                    "The oauth_timestamp is more than {TIMESTAMP_WINDOW} seconds from the provider's clock."
                ),
            )
            .field(
                "oauth_acceptable_timestamps",
                format!(
                    "{}-{}",
                    now.saturating_sub(TIMESTAMP_WINDOW),
                    now + TIMESTAMP_WINDOW
                ),
            ));
        }
    }
    if let (Some(timestamp), Some(nonce)) = (timestamp, param("oauth_nonce")) {
        let key = NonceKey {
            consumer_key: consumer.id.clone(),
            token: token.unwrap_or_default().to_owned(),
            timestamp,
            nonce: nonce.to_owned(),
        };
        if !shared.oauth1().use_nonce(key, now) {
            return Err(Problem::unauthorized(
                "nonce_used",
                "This oauth_nonce was already used with this timestamp and these credentials.",
            ));
        }
    }

    Ok(SignedRequest {
        consumer,
        token: token.map(str::to_owned),
        protocol,
        query,
        form,
    })
}
