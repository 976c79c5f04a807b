//! OpenID Connect: discovery ([OpenID Connect Discovery 1.0]), the provider's JWKS, and
//! `id_token` validation ([OpenID Connect Core 1.0 §3.1.3.7]): signatures verified with `ring`,
//! JWKs read with the maintained [`jsonwebtoken`] crate's types.
//!
//! A remote app becomes an OpenID Connect client with
//! [`RemoteAppBuilder::issuer`](crate::RemoteAppBuilder::issuer). Its discovery document is
//! fetched on first use and cached; its JWKS is fetched on the first `id_token` and fetched
//! again when a token names a key id the cached set lacks (the provider rotated its keys), at
//! most once per [`DEFAULT_JWKS_MIN_REFETCH`].
//!
//! # How long keys are trusted
//! Both answers are kept as long as their caching headers say ([RFC 9111 §4.2]: `max-age` less
//! `Age`, else `Expires` less `Date`; `no-store` and `no-cache` mean "ask again next time"),
//! but never longer than a maximum age — [`DEFAULT_JWKS_MAX_AGE`] for keys
//! ([`RemoteAppBuilder::jwks_max_age`](crate::RemoteAppBuilder::jwks_max_age)),
//! [`DEFAULT_METADATA_LIFETIME`] for the discovery document — and, so that a provider sending
//! `no-store` is not fetched on every sign-in, not shorter than the refetch interval (or the
//! maximum age, if that is shorter). Without caching headers the maximum age applies. The first
//! `id_token` after the keys expired fetches them again, so a key the provider withdrew stops
//! verifying at the latest one maximum age after it was withdrawn.
//!
//! When that fetch fails (the provider is down), the expired keys are still used for a grace
//! period of the maximum age, at most [`MAX_JWKS_STALE_GRACE`], after their expiry, and the
//! fetch is tried again once per refetch interval; past the grace, `id_token`s are refused
//! (error kind `discovery`) until the keys can be fetched again. A provider outage shorter than
//! the grace does not stop sign-in; a withdrawn key is trusted at most one maximum age plus the
//! grace, however long the outage.
//!
//! [RFC 9111 §4.2]: https://www.rfc-editor.org/rfc/rfc9111#section-4.2
//!
//! [OpenID Connect Discovery 1.0]: https://openid.net/specs/openid-connect-discovery-1_0.html
//! [OpenID Connect Core 1.0 §3.1.3.7]: https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation

mod id_token;
pub(crate) mod jws;
pub(crate) mod logout_token;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime},
};

use ::oauth2::http::{self, header};
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use url::Url;

#[cfg(feature = "internals")]
pub(crate) use self::id_token::{check_claims, header};
pub(crate) use self::id_token::{validate, Expectations, DEFAULT_ALGORITHMS};
use crate::{
    error::{IdTokenError, OAuthError},
    token::TokenResponse,
    transport::AwcHttpClient,
    urls::check_scheme,
};

/// The longest a discovery document is used before it is fetched again: 24 hours (less when
/// its caching headers say so).
pub const DEFAULT_METADATA_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// The longest a fetched JWKS is trusted before it is fetched again, whatever its caching
/// headers say: 24 hours.
pub const DEFAULT_JWKS_MAX_AGE: Duration = Duration::from_secs(24 * 60 * 60);
/// The most time expired keys are still used after their expiry while the provider's JWKS
/// cannot be fetched: 1 hour (the grace is the maximum age when that is shorter).
pub const MAX_JWKS_STALE_GRACE: Duration = Duration::from_secs(60 * 60);
/// The shortest time between two JWKS fetches caused by unknown key ids: 60 seconds. Bounds what
/// a stream of forged tokens with random `kid`s can make us fetch.
pub const DEFAULT_JWKS_MIN_REFETCH: Duration = Duration::from_secs(60);
/// The clock skew allowed when checking `exp` and `iat`: 60 seconds.
pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(60);

/// What an OpenID provider's discovery document says (the fields this crate uses).
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// The issuer identifier; must equal the configured issuer.
    pub issuer: String,
    /// The authorization endpoint.
    pub authorization_endpoint: Url,
    /// The token endpoint.
    #[serde(default)]
    pub token_endpoint: Option<Url>,
    /// The user info endpoint.
    #[serde(default)]
    pub userinfo_endpoint: Option<Url>,
    /// Where the provider publishes its signing keys.
    pub jwks_uri: Url,
    /// The `id_token` signing algorithms the provider uses.
    #[serde(default)]
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// Whether authorization responses carry `iss` (RFC 9207); then a callback without it, or
    /// with another value, is refused.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// The token revocation endpoint (RFC 7009, advertised as RFC 8414 §2 says).
    #[serde(default)]
    pub revocation_endpoint: Option<Url>,
    /// The RP-initiated logout endpoint (OpenID Connect RP-Initiated Logout 1.0 §2.1).
    #[serde(default)]
    pub end_session_endpoint: Option<Url>,
    /// The device authorization endpoint (RFC 8628 §4).
    #[serde(default)]
    pub device_authorization_endpoint: Option<Url>,
    /// Whether the provider sends back-channel logout tokens (Back-Channel Logout 1.0 §2.1).
    #[serde(default)]
    pub backchannel_logout_supported: bool,
    /// Whether those logout tokens carry the `sid` of the provider's session.
    #[serde(default)]
    pub backchannel_logout_session_supported: bool,
    /// The pushed authorization request endpoint (RFC 9126 §5).
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<Url>,
    /// Whether the provider accepts pushed authorization requests only (RFC 9126 §5): then
    /// every sign-in pushes its request, whatever the app's `par` setting.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
}

/// A remote app's OpenID Connect settings and caches.
pub(crate) struct Oidc {
    /// The configured issuer, exactly as `iss` must read.
    pub(crate) issuer: String,
    /// Other spellings of the issuer some providers put in `iss` (Google's `accounts.google.com`).
    pub(crate) alternate_issuers: Vec<String>,
    pub(crate) discovery_url: Url,
    pub(crate) clock_skew: Duration,
    pub(crate) jwks_min_refetch: Duration,
    /// The longest a fetched JWKS is trusted, whatever its caching headers say.
    pub(crate) jwks_max_age: Duration,
    pub(crate) metadata_lifetime: Duration,
    /// Whether an `id_token` must carry the `nonce` sent (LinkedIn's never do). A `nonce` that
    /// is present must match either way.
    pub(crate) nonce_required: bool,
    /// Whether the discovery document may name another issuer than the configured one (the
    /// issuer is then the document's): Microsoft's `consumers`, `organizations` and domain
    /// tenants, whose documents name the tenant id's issuer or a `{tenantid}` template.
    pub(crate) issuer_from_discovery: bool,
    /// The `id_token` signing algorithms accepted.
    pub(crate) algorithms: Vec<jsonwebtoken::Algorithm>,
    cache: Mutex<Cache>,
    /// Held while fetching, so that concurrent sign-ins fetch once.
    fetching: futures_util::lock::Mutex<()>,
}

#[derive(Default)]
struct Cache {
    /// The discovery document and when it expires.
    metadata: Option<(Arc<ProviderMetadata>, Instant)>,
    /// When fetching the discovery document last failed, if it did since the last success.
    metadata_failed: Option<Instant>,
    /// The last JWK Set fetched and when it expires.
    jwks: Option<(Arc<JwkSet>, Instant)>,
    /// When the JWKS was last fetched or tried.
    jwks_fetched: Option<Instant>,
    /// When fetching the JWKS last failed, if it did since the last success.
    jwks_failed: Option<Instant>,
}

/// What the JWKS cache answers without fetching, or that a fetch is needed.
enum Lookup {
    Use(Result<Option<Arc<JwkSet>>, OAuthError>),
    /// Fetch; carries the last fetch's time, to notice another request fetching meanwhile.
    Fetch(Option<Instant>),
}

/// What the remote app builder hands over for an OpenID Connect app.
pub(crate) struct Config {
    /// The issuer, already checked to be an https URL.
    pub(crate) issuer: String,
    pub(crate) alternate_issuers: Vec<String>,
    pub(crate) algorithms: Option<Vec<String>>,
    pub(crate) clock_skew: Option<Duration>,
    pub(crate) jwks_refetch_interval: Option<Duration>,
    pub(crate) jwks_max_age: Option<Duration>,
    pub(crate) nonce_required: bool,
    pub(crate) issuer_from_discovery: bool,
}

impl Oidc {
    /// Checks an OpenID Connect app's settings; `err(field, why)` names the field at fault.
    pub(crate) fn build(
        config: Config,
        err: &dyn Fn(&str, &str) -> OAuthError,
    ) -> Result<Self, OAuthError> {
        let algorithms = match &config.algorithms {
            None => DEFAULT_ALGORITHMS.to_vec(),
            Some(names) => names
                .iter()
                .map(|name| {
                    name.parse::<jsonwebtoken::Algorithm>()
                        .ok()
                        .filter(|alg| DEFAULT_ALGORITHMS.contains(alg))
                        .ok_or_else(|| {
                            err(
                                "id_token_algorithms",
                                &format!("names `{name}`, which is not an accepted asymmetric JOSE algorithm"),
                            )
                        })
                })
                .collect::<Result<_, _>>()?,
        };
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            config.issuer.trim_end_matches('/')
        );
        let discovery = Url::parse(&discovery)
            .map_err(|e| err("issuer", &format!("gives no discovery URL ({e})")))?;
        let mut oidc = Self::new(config.issuer, discovery);
        oidc.alternate_issuers = config.alternate_issuers;
        if let Some(skew) = config.clock_skew {
            oidc.clock_skew = skew;
        }
        if let Some(interval) = config.jwks_refetch_interval {
            oidc.jwks_min_refetch = interval;
        }
        if let Some(max_age) = config.jwks_max_age {
            oidc.jwks_max_age = max_age;
        }
        oidc.nonce_required = config.nonce_required;
        oidc.issuer_from_discovery = config.issuer_from_discovery;
        oidc.algorithms = algorithms;
        Ok(oidc)
    }

    /// Validates a sign-in's `id_token` (signature, `iss`, `aud`, `azp`, `exp`, `iat`, and the
    /// `nonce` this sign-in sent) and keeps its claims in `token`.
    pub(crate) async fn verify_sign_in(
        &self,
        http: &AwcHttpClient,
        metadata: &ProviderMetadata,
        token: &mut TokenResponse,
        client_id: &str,
        nonce: Option<&str>,
    ) -> Result<(), OAuthError> {
        let id_token = token.id_token().ok_or(IdTokenError::Missing)?;
        let expect = Expectations {
            client_id,
            nonce,
            nonce_required: self.nonce_required,
            algorithms: &self.algorithms,
        };
        let claims = validate(self, http, metadata, id_token, &expect).await?;
        token.set_id_token_claims(claims);
        Ok(())
    }

    pub(crate) fn new(issuer: String, discovery_url: Url) -> Self {
        Self {
            issuer,
            alternate_issuers: Vec::new(),
            discovery_url,
            clock_skew: DEFAULT_CLOCK_SKEW,
            jwks_min_refetch: DEFAULT_JWKS_MIN_REFETCH,
            jwks_max_age: DEFAULT_JWKS_MAX_AGE,
            metadata_lifetime: DEFAULT_METADATA_LIFETIME,
            nonce_required: true,
            issuer_from_discovery: false,
            algorithms: DEFAULT_ALGORITHMS.to_vec(),
            cache: Mutex::new(Cache::default()),
            fetching: futures_util::lock::Mutex::new(()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How long an answer fetched now is used: what its caching headers say (`freshness`),
    /// raised to the refetch interval and capped at `max`; `max` without caching headers.
    fn lifetime(&self, freshness: Option<Duration>, max: Duration) -> Duration {
        let floor = self.jwks_min_refetch.min(max);
        freshness.map_or(max, |fresh| fresh.clamp(floor, max))
    }

    /// The cached document while it is fresh, or while a failed fetch is too recent to try
    /// again (then the stale document, or an error when there is none). `None`: fetch.
    fn cached_metadata(&self) -> Option<Result<Arc<ProviderMetadata>, OAuthError>> {
        let cache = self.cache();
        let cached = cache.metadata.as_ref();
        if let Some((metadata, _)) = cached.filter(|(_, expires)| Instant::now() < *expires) {
            return Some(Ok(metadata.clone()));
        }
        let failed_recently = cache
            .metadata_failed
            .is_some_and(|at| at.elapsed() < self.jwks_min_refetch);
        if !failed_recently {
            return None;
        }
        Some(cached.map(|(m, _)| m.clone()).ok_or_else(|| {
            OAuthError::Discovery(format!(
                "fetching the discovery document at {} failed less than {} s ago.",
                self.discovery_url,
                self.jwks_min_refetch.as_secs_f32()
            ))
        }))
    }

    /// The discovery document, from the cache or fetched. A failed refetch keeps using a stale
    /// document rather than stopping every sign-in, and a failed fetch is not tried again before
    /// the refetch interval has passed: every sign-in does not wait on a provider that is down.
    pub(crate) async fn metadata(
        &self,
        http: &AwcHttpClient,
    ) -> Result<Arc<ProviderMetadata>, OAuthError> {
        if let Some(cached) = self.cached_metadata() {
            return cached;
        }
        let _fetching = self.fetching.lock().await;
        if let Some(cached) = self.cached_metadata() {
            return cached;
        }
        let fetched = Instant::now();
        match self.fetch_metadata(http).await {
            Ok((metadata, freshness)) => {
                let metadata = Arc::new(metadata);
                let expires = later(fetched, self.lifetime(freshness, self.metadata_lifetime));
                let mut cache = self.cache();
                cache.metadata = Some((metadata.clone(), expires));
                cache.metadata_failed = None;
                Ok(metadata)
            }
            Err(err) => {
                let stale = {
                    let mut cache = self.cache();
                    cache.metadata_failed = Some(Instant::now());
                    cache.metadata.as_ref().map(|(m, _)| m.clone())
                };
                match stale {
                    Some(metadata) => {
                        log::warn!(
                            "actix-oauth: refreshing the discovery document of {} failed ({}); using the cached one",
                            self.issuer,
                            err.kind()
                        );
                        Ok(metadata)
                    }
                    None => Err(err),
                }
            }
        }
    }

    /// Fetches and checks the discovery document; also returns how long its caching headers
    /// let it be used.
    async fn fetch_metadata(
        &self,
        http: &AwcHttpClient,
    ) -> Result<(ProviderMetadata, Option<Duration>), OAuthError> {
        let (body, freshness) = get_json(http, &self.discovery_url, "discovery document").await?;
        let metadata: ProviderMetadata = serde_json::from_slice(&body).map_err(|e| {
            OAuthError::Discovery(format!(
                "the discovery document at {} is not valid: {e}",
                self.discovery_url
            ))
        })?;
        // Discovery §4.3: the document's issuer must be the one we asked — unless the app
        // takes it from the document (Microsoft's tenant aliases). A `{tenantid}` template
        // (`…/{tenantid}/v2.0`) then has `iss` checked against it filled with the token's `tid`.
        if metadata.issuer != self.issuer && !self.issuer_from_discovery {
            return Err(OAuthError::Discovery(format!(
                "the discovery document names issuer `{}`, not `{}`.",
                metadata.issuer.chars().take(256).collect::<String>(),
                self.issuer
            )));
        }
        for (field, url) in [
            (
                "authorization_endpoint",
                Some(&metadata.authorization_endpoint),
            ),
            ("token_endpoint", metadata.token_endpoint.as_ref()),
            ("userinfo_endpoint", metadata.userinfo_endpoint.as_ref()),
            ("jwks_uri", Some(&metadata.jwks_uri)),
            (
                "device_authorization_endpoint",
                metadata.device_authorization_endpoint.as_ref(),
            ),
        ] {
            if let Some(url) = url {
                check_scheme(url).map_err(|why| {
                    OAuthError::Discovery(format!("the discovery document's `{field}` {why}."))
                })?;
            }
        }
        Ok((metadata, freshness))
    }

    /// The issuer `iss` must equal: the discovered one, with a `{tenantid}` template filled from
    /// the token's `tid` claim.
    pub(crate) fn expected_issuers(
        &self,
        metadata: &ProviderMetadata,
        tenant: Option<&str>,
    ) -> Vec<String> {
        let mut issuers = Vec::with_capacity(1 + self.alternate_issuers.len());
        if metadata.issuer.contains("{tenantid}") {
            if let Some(tid) = tenant.filter(|t| is_tenant_id(t)) {
                issuers.push(metadata.issuer.replace("{tenantid}", tid));
            }
        } else {
            issuers.push(metadata.issuer.clone());
        }
        issuers.extend(self.alternate_issuers.iter().cloned());
        issuers
    }

    /// Puts a JWK Set in the cache as if just fetched (benchmarks, fuzzing and unit tests).
    #[cfg(any(test, feature = "internals"))]
    pub(crate) fn preload_jwks(&self, body: &[u8]) -> Result<(), OAuthError> {
        let keys = parse_jwks(body, &self.discovery_url)?;
        let now = Instant::now();
        let mut cache = self.cache();
        cache.jwks = Some((Arc::new(keys), later(now, self.jwks_max_age)));
        cache.jwks_fetched = Some(now);
        Ok(())
    }

    /// The keys while they are fresh; a fetch when there are none, when they expired, or when
    /// `refetch` is asked and the last fetch is older than the refetch interval. `Ok(None)`
    /// when a refetch was refused because the last one is too recent (the caller then treats
    /// the key as unknown).
    pub(crate) async fn jwks(
        &self,
        http: &AwcHttpClient,
        metadata: &ProviderMetadata,
        refetch: bool,
    ) -> Result<Option<Arc<JwkSet>>, OAuthError> {
        let url = &metadata.jwks_uri;
        let seen = match self.cached_jwks(refetch, url) {
            Lookup::Use(answer) => return answer,
            Lookup::Fetch(seen) => seen,
        };
        let _fetching = self.fetching.lock().await;
        if self.cache().jwks_fetched != seen {
            // Another request fetched (or tried) while we waited: its keys, as they stand now.
            if let Lookup::Use(answer) = self.cached_jwks(false, url) {
                return answer;
            }
        }
        let fetched = Instant::now();
        let result = get_json(http, url, "JWKS")
            .await
            .and_then(|(body, freshness)| Ok((parse_jwks(&body, url)?, freshness)));
        let mut cache = self.cache();
        // A failed fetch counts too: a provider that is down is not asked again at once.
        cache.jwks_fetched = Some(fetched);
        match result {
            Ok((keys, freshness)) => {
                let keys = Arc::new(keys);
                let expires = later(fetched, self.lifetime(freshness, self.jwks_max_age));
                cache.jwks = Some((keys.clone(), expires));
                cache.jwks_failed = None;
                Ok(Some(keys))
            }
            Err(err) => {
                cache.jwks_failed = Some(fetched);
                match &cache.jwks {
                    // Keys that expired: used a while longer rather than stopping every sign-in.
                    Some((keys, expires)) if !refetch && fetched >= *expires => {
                        let stale = self.stale_keys(keys, *expires, url);
                        if stale.is_ok() {
                            log::warn!(
                                "actix-oauth: refreshing the JWKS of {} failed ({}); using the expired keys a while longer",
                                self.issuer,
                                err.kind()
                            );
                        }
                        stale
                    }
                    _ => Err(err),
                }
            }
        }
    }

    /// What the cache answers for a lookup of the keys, or that they must be fetched.
    fn cached_jwks(&self, refetch: bool, url: &Url) -> Lookup {
        let cache = self.cache();
        let now = Instant::now();
        let recent = |at: Option<Instant>| {
            at.is_some_and(|at| now.saturating_duration_since(at) < self.jwks_min_refetch)
        };
        let tried_recently = recent(cache.jwks_fetched);
        let failed_recently = recent(cache.jwks_failed);
        match &cache.jwks {
            // The last fetch failed, a moment ago: not asked again on every sign-in.
            None if failed_recently => Lookup::Use(Err(OAuthError::Discovery(format!(
                "fetching the JWKS at {url} failed less than {} s ago.",
                self.jwks_min_refetch.as_secs_f32()
            )))),
            None => Lookup::Fetch(cache.jwks_fetched),
            Some((keys, expires)) if now < *expires => match refetch {
                false => Lookup::Use(Ok(Some(keys.clone()))),
                true if tried_recently => Lookup::Use(Ok(None)),
                true => Lookup::Fetch(cache.jwks_fetched),
            },
            // Expired, and refreshing them failed a moment ago.
            Some(_) if failed_recently && refetch => Lookup::Use(Ok(None)),
            Some((keys, expires)) if failed_recently => {
                Lookup::Use(self.stale_keys(keys, *expires, url))
            }
            Some(_) => Lookup::Fetch(cache.jwks_fetched),
        }
    }

    /// Expired keys while within their grace period after `expires`, else an error.
    fn stale_keys(
        &self,
        keys: &Arc<JwkSet>,
        expires: Instant,
        url: &Url,
    ) -> Result<Option<Arc<JwkSet>>, OAuthError> {
        let grace = self.jwks_max_age.min(MAX_JWKS_STALE_GRACE);
        if Instant::now().saturating_duration_since(expires) < grace {
            return Ok(Some(keys.clone()));
        }
        Err(OAuthError::Discovery(format!(
            "the cached keys expired more than {} s ago and the JWKS at {url} cannot be fetched.",
            grace.as_secs_f32()
        )))
    }
}

/// `at + lifetime`, or far in the future when that cannot be represented.
fn later(at: Instant, lifetime: Duration) -> Instant {
    at.checked_add(lifetime)
        .or_else(|| at.checked_add(Duration::from_secs(10 * 365 * 24 * 60 * 60)))
        .unwrap_or(at)
}

/// How long an answer may be used, by its caching headers ([RFC 9111 §4.2.1]): zero for
/// `no-store` or `no-cache`; else the smallest `max-age` less the answer's `Age`; else
/// `Expires` less `Date` (an `Expires` that is not a date means already expired). `None` when
/// no header says.
///
/// [RFC 9111 §4.2.1]: https://www.rfc-editor.org/rfc/rfc9111#section-4.2.1
fn freshness(headers: &http::HeaderMap) -> Option<Duration> {
    let mut max_age: Option<u64> = None;
    for value in headers.get_all(header::CACHE_CONTROL) {
        // A header we cannot read promises nothing: treated as `no-cache`.
        let Ok(value) = value.to_str() else {
            return Some(Duration::ZERO);
        };
        for directive in value.split(',') {
            let (name, argument) = match directive.split_once('=') {
                Some((name, argument)) => (name.trim(), Some(argument.trim().trim_matches('"'))),
                None => (directive.trim(), None),
            };
            if name.eq_ignore_ascii_case("no-store") || name.eq_ignore_ascii_case("no-cache") {
                return Some(Duration::ZERO);
            }
            if name.eq_ignore_ascii_case("max-age") {
                // RFC 9111 §1.2.2: a number too large to hold means "very long"; anything that
                // is not a number means stale.
                let seconds = match argument {
                    Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                        n.parse().unwrap_or(u64::MAX)
                    }
                    _ => 0,
                };
                max_age = Some(max_age.map_or(seconds, |m| m.min(seconds)));
            }
        }
    }
    let age = headers
        .get(header::AGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    if let Some(seconds) = max_age {
        return Some(Duration::from_secs(seconds.saturating_sub(age)));
    }
    let date = |name: header::HeaderName| -> Option<SystemTime> {
        let value = headers.get(name)?.to_str().ok()?;
        value
            .parse::<actix_web::http::header::HttpDate>()
            .ok()
            .map(SystemTime::from)
    };
    headers.get(header::EXPIRES)?;
    let Some(expires) = date(header::EXPIRES) else {
        return Some(Duration::ZERO);
    };
    let now = date(header::DATE).unwrap_or_else(SystemTime::now);
    let fresh = expires.duration_since(now).unwrap_or(Duration::ZERO);
    Some(fresh.saturating_sub(Duration::from_secs(age)))
}

/// RFC 9207: an authorization response's `iss` must name the issuer this sign-in began with,
/// and must be present when the provider advertises it.
pub(crate) fn check_callback_issuer(
    metadata: &ProviderMetadata,
    iss: Option<&str>,
) -> Result<(), OAuthError> {
    let expected = &metadata.issuer;
    let matches = match iss {
        // Microsoft's multi-tenant template: any tenant's issuer of the same shape.
        Some(iss) if expected.contains("{tenantid}") => expected
            .split_once("{tenantid}")
            .is_some_and(|(head, tail)| {
                iss.len() > head.len() + tail.len()
                    && iss.starts_with(head)
                    && iss.ends_with(tail)
                    && is_tenant_id(&iss[head.len()..iss.len() - tail.len()])
            }),
        Some(iss) => iss == expected,
        None => !metadata.authorization_response_iss_parameter_supported,
    };
    if !matches {
        return Err(OAuthError::IssuerMismatch {
            expected: expected.clone(),
            found: iss.map(|i| i.chars().take(256).collect()),
        });
    }
    Ok(())
}

/// Whether `text` can stand for `{tenantid}` in an issuer template: a non-empty run of ASCII
/// letters, digits, `-` and `.` (a GUID or a domain), so no path or query can be smuggled in.
pub(crate) fn is_tenant_id(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// Reads a JWK Set, skipping keys of types or algorithms `jsonwebtoken` cannot use (a provider
/// publishing one exotic key must not stop every sign-in).
fn parse_jwks(body: &[u8], url: &Url) -> Result<JwkSet, OAuthError> {
    #[derive(Deserialize)]
    struct RawSet {
        keys: Vec<serde_json::Value>,
    }
    let raw: RawSet = serde_json::from_slice(body)
        .map_err(|e| OAuthError::Discovery(format!("the JWKS at {url} is not valid: {e}")))?;
    let keys = raw
        .keys
        .into_iter()
        .filter_map(|key| serde_json::from_value(key).ok())
        .collect();
    Ok(JwkSet { keys })
}

/// GETs a JSON document (discovery, JWKS) and returns its body on a 2xx answer, with how long
/// its caching headers let it be used.
async fn get_json(
    http: &AwcHttpClient,
    url: &Url,
    what: &str,
) -> Result<(Vec<u8>, Option<Duration>), OAuthError> {
    let request = http::Request::get(url.as_str())
        .header(header::ACCEPT, "application/json")
        .body(Vec::new())
        .map_err(|e| OAuthError::config(e.to_string()))?;
    let response = http.send(request).await?;
    let status = response.status().as_u16();
    if !(200..300).contains(&status) {
        return Err(OAuthError::Discovery(format!(
            "fetching the {what} at {url} answered HTTP {status}."
        )));
    }
    let freshness = freshness(response.headers());
    Ok((response.into_body(), freshness))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).expect("name"),
                http::HeaderValue::from_str(value).expect("value"),
            );
        }
        map
    }

    fn fresh(pairs: &[(&str, &str)]) -> Option<u64> {
        freshness(&headers(pairs)).map(|d| d.as_secs())
    }

    #[test]
    fn caching_headers_give_the_freshness() {
        assert_eq!(fresh(&[]), None);
        assert_eq!(
            fresh(&[("cache-control", "public, max-age=300")]),
            Some(300)
        );
        assert_eq!(fresh(&[("cache-control", "Max-Age=\"60\"")]), Some(60));
        assert_eq!(
            fresh(&[("cache-control", "max-age=300"), ("age", "100")]),
            Some(200)
        );
        assert_eq!(
            fresh(&[("cache-control", "max-age=30"), ("age", "100")]),
            Some(0)
        );
        // The smallest of several, across header lines.
        assert_eq!(
            fresh(&[
                ("cache-control", "max-age=300"),
                ("cache-control", "max-age=20")
            ]),
            Some(20)
        );
        assert_eq!(fresh(&[("cache-control", "no-store")]), Some(0));
        assert_eq!(
            fresh(&[("cache-control", "max-age=300, no-cache")]),
            Some(0)
        );
        assert_eq!(fresh(&[("cache-control", "max-age=soon")]), Some(0));
        assert_eq!(
            fresh(&[("cache-control", "max-age=99999999999999999999999")]),
            Some(u64::MAX)
        );
        // `public` alone says nothing about how long.
        assert_eq!(fresh(&[("cache-control", "public")]), None);
        assert_eq!(
            fresh(&[
                ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
                ("expires", "Sun, 06 Nov 1994 09:49:37 GMT"),
            ]),
            Some(3600)
        );
        // `max-age` wins over `Expires`; an `Expires` that is no date is already expired.
        assert_eq!(
            fresh(&[
                ("cache-control", "max-age=5"),
                ("date", "Sun, 06 Nov 1994 08:49:37 GMT"),
                ("expires", "Sun, 06 Nov 1994 09:49:37 GMT"),
            ]),
            Some(5)
        );
        assert_eq!(fresh(&[("expires", "0")]), Some(0));
        assert_eq!(
            fresh(&[
                ("date", "Sun, 06 Nov 1994 09:49:37 GMT"),
                ("expires", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ]),
            Some(0)
        );
    }

    #[test]
    fn lifetimes_are_bounded_by_the_refetch_interval_and_the_maximum() {
        let mut oidc = Oidc::new(
            "https://issuer.example".into(),
            Url::parse("https://issuer.example/.well-known/openid-configuration").expect("url"),
        );
        let day = Duration::from_secs(86_400);
        let secs = Duration::from_secs;
        assert_eq!(oidc.lifetime(None, day), day);
        assert_eq!(oidc.lifetime(Some(secs(300)), day), secs(300));
        assert_eq!(oidc.lifetime(Some(secs(0)), day), DEFAULT_JWKS_MIN_REFETCH);
        assert_eq!(oidc.lifetime(Some(secs(7 * 86_400)), day), day);
        // A maximum below the refetch interval wins over it.
        assert_eq!(oidc.lifetime(Some(day), secs(1)), secs(1));
        assert_eq!(oidc.lifetime(Some(secs(0)), secs(1)), secs(1));
        oidc.jwks_min_refetch = Duration::from_millis(200);
        assert_eq!(
            oidc.lifetime(Some(secs(0)), day),
            Duration::from_millis(200)
        );
    }

    fn metadata(issuer: &str, iss_supported: bool) -> ProviderMetadata {
        serde_json::from_value(serde_json::json!({
            "issuer": issuer,
            "authorization_endpoint": "https://issuer.example/authorize",
            "jwks_uri": "https://issuer.example/jwks",
            "authorization_response_iss_parameter_supported": iss_supported,
        }))
        .expect("metadata")
    }

    fn issuer_ok(metadata: &ProviderMetadata, iss: Option<&str>) -> bool {
        match check_callback_issuer(metadata, iss) {
            Ok(()) => true,
            Err(e) => {
                assert_eq!(e.kind(), crate::ErrorKind::IssuerMismatch, "{iss:?}");
                false
            }
        }
    }

    /// RFC 9207: the callback's `iss` is the issuer exactly, and required only when advertised.
    #[test]
    fn the_callback_issuer_must_be_the_issuer() {
        for supported in [false, true] {
            let m = metadata("https://issuer.example", supported);
            assert!(issuer_ok(&m, Some("https://issuer.example")));
            assert!(!issuer_ok(&m, Some("https://issuer.example/")));
            assert!(!issuer_ok(&m, Some("https://evil.example")));
            assert!(!issuer_ok(&m, Some("")));
            assert_eq!(
                issuer_ok(&m, None),
                !supported,
                "absent, advertised: {supported}"
            );
        }
    }

    /// Microsoft's `{tenantid}` template: any tenant's issuer of its shape, and nothing else.
    #[test]
    fn a_tenant_template_takes_only_a_tenant_id() {
        let head = "https://login.microsoftonline.com/";
        let tail = "/v2.0";
        let m = metadata(&format!("{head}{{tenantid}}{tail}"), true);
        for tenant in [
            "9188040d-6c67-4c5b-b112-36a304b66dad",
            "contoso.onmicrosoft.com",
            "t",
        ] {
            assert!(
                issuer_ok(&m, Some(&format!("{head}{tenant}{tail}"))),
                "{tenant}"
            );
        }
        let pad = |n: usize| "x".repeat(n);
        for iss in [
            format!("{head}{tail}"),               // no tenant
            format!("{head}v2.0"),                 // head and tail overlap: shorter than both
            format!("{}t{tail}", pad(head.len())), // another head
            format!("{head}t{}", pad(tail.len())), // another tail
            format!("{head}ten/ant{tail}"),        // no tenant id
            format!("{head}t?x={tail}"),
            "https://login.microsoftonline.com/{tenantid}/v2.0".to_owned(),
        ] {
            assert!(!issuer_ok(&m, Some(&iss)), "{iss}");
        }
        assert!(!issuer_ok(&m, None));
        assert!(issuer_ok(
            &metadata(&format!("{head}{{tenantid}}{tail}"), false),
            None
        ));
    }
}
