//! OpenID Connect: discovery ([OpenID Connect Discovery 1.0]), the provider's JWKS, and
//! `id_token` validation ([OpenID Connect Core 1.0 §3.1.3.7]) with the maintained
//! [`jsonwebtoken`] crate.
//!
//! A remote app becomes an OpenID Connect client with
//! [`RemoteAppBuilder::issuer`](crate::RemoteAppBuilder::issuer). Its discovery document is
//! fetched on first use and cached ([`DEFAULT_METADATA_LIFETIME`]); its JWKS is fetched on the
//! first `id_token` and fetched again when a token names a key id the cached set lacks (the
//! provider rotated its keys), at most once per [`DEFAULT_JWKS_MIN_REFETCH`].
//!
//! [OpenID Connect Discovery 1.0]: https://openid.net/specs/openid-connect-discovery-1_0.html
//! [OpenID Connect Core 1.0 §3.1.3.7]: https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation

mod id_token;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use ::oauth2::http::{self, header};
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use url::Url;

#[cfg(feature = "internals")]
pub(crate) use self::id_token::{check_claims, header};
pub(crate) use self::id_token::{validate, Expectations, DEFAULT_ALGORITHMS};
use crate::{error::OAuthError, remote_app::check_scheme, transport::AwcHttpClient};

/// How long a discovery document is used before it is fetched again: 24 hours.
pub const DEFAULT_METADATA_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
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
    pub(crate) metadata_lifetime: Duration,
    /// Whether an `id_token` must carry the `nonce` sent (LinkedIn's never do). A `nonce` that
    /// is present must match either way.
    pub(crate) nonce_required: bool,
    /// Whether the discovery document may name another issuer than the configured one (the
    /// issuer is then the document's): Microsoft's `consumers`, `organizations` and domain
    /// tenants, whose documents name the tenant id's issuer or a `{tenantid}` template.
    pub(crate) issuer_from_discovery: bool,
    cache: Mutex<Cache>,
    /// Held while fetching, so that concurrent sign-ins fetch once.
    fetching: futures_util::lock::Mutex<()>,
}

#[derive(Default)]
struct Cache {
    metadata: Option<(Arc<ProviderMetadata>, Instant)>,
    /// When fetching the discovery document last failed, if it did since the last success.
    metadata_failed: Option<Instant>,
    jwks: Option<Arc<JwkSet>>,
    jwks_fetched: Option<Instant>,
}

impl Oidc {
    pub(crate) fn new(issuer: String, discovery_url: Url) -> Self {
        Self {
            issuer,
            alternate_issuers: Vec::new(),
            discovery_url,
            clock_skew: DEFAULT_CLOCK_SKEW,
            jwks_min_refetch: DEFAULT_JWKS_MIN_REFETCH,
            metadata_lifetime: DEFAULT_METADATA_LIFETIME,
            nonce_required: true,
            issuer_from_discovery: false,
            cache: Mutex::new(Cache::default()),
            fetching: futures_util::lock::Mutex::new(()),
        }
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached document while it is fresh, or while a failed fetch is too recent to try
    /// again (then the stale document, or an error when there is none). `None`: fetch.
    fn cached_metadata(&self) -> Option<Result<Arc<ProviderMetadata>, OAuthError>> {
        let cache = self.cache();
        let cached = cache.metadata.as_ref();
        if let Some((metadata, _)) = cached.filter(|(_, at)| at.elapsed() < self.metadata_lifetime)
        {
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
        match self.fetch_metadata(http).await {
            Ok(metadata) => {
                let metadata = Arc::new(metadata);
                let mut cache = self.cache();
                cache.metadata = Some((metadata.clone(), Instant::now()));
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

    async fn fetch_metadata(&self, http: &AwcHttpClient) -> Result<ProviderMetadata, OAuthError> {
        let body = get_json(http, &self.discovery_url, "discovery document").await?;
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
        ] {
            if let Some(url) = url {
                check_scheme(url).map_err(|why| {
                    OAuthError::Discovery(format!("the discovery document's `{field}` {why}."))
                })?;
            }
        }
        Ok(metadata)
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

    /// Puts a JWK Set in the cache as if just fetched (benchmarks and fuzzing).
    #[cfg(feature = "internals")]
    pub(crate) fn preload_jwks(&self, body: &[u8]) -> Result<(), OAuthError> {
        let keys = parse_jwks(body, &self.discovery_url)?;
        let mut cache = self.cache();
        cache.jwks = Some(Arc::new(keys));
        cache.jwks_fetched = Some(Instant::now());
        Ok(())
    }

    /// The JWKS: the cached one, or fetched when there is none or `refetch` is asked and the last
    /// fetch is older than the minimum interval. `Ok(None)` when a refetch was refused because
    /// the last one is too recent (the caller then treats the key as unknown).
    pub(crate) async fn jwks(
        &self,
        http: &AwcHttpClient,
        metadata: &ProviderMetadata,
        refetch: bool,
    ) -> Result<Option<Arc<JwkSet>>, OAuthError> {
        let seen = {
            let cache = self.cache();
            let recent = cache
                .jwks_fetched
                .is_some_and(|at| at.elapsed() < self.jwks_min_refetch);
            match (&cache.jwks, refetch) {
                (Some(keys), false) => return Ok(Some(keys.clone())),
                (Some(_), true) if recent => return Ok(None),
                // The last fetch failed, a moment ago: not asked again on every sign-in.
                (None, _) if recent => {
                    return Err(OAuthError::Discovery(format!(
                        "fetching the JWKS at {} failed less than {} s ago.",
                        metadata.jwks_uri,
                        self.jwks_min_refetch.as_secs_f32()
                    )))
                }
                _ => cache.jwks_fetched,
            }
        };
        let _fetching = self.fetching.lock().await;
        {
            // Another request fetched while we waited.
            let cache = self.cache();
            if cache.jwks_fetched != seen {
                return Ok(cache.jwks.clone());
            }
        }
        let fetched = Instant::now();
        let result = get_json(http, &metadata.jwks_uri, "JWKS")
            .await
            .and_then(|body| parse_jwks(&body, &metadata.jwks_uri));
        let mut cache = self.cache();
        // A failed fetch counts too: a provider that is down is not asked again at once.
        cache.jwks_fetched = Some(fetched);
        match result {
            Ok(keys) => {
                let keys = Arc::new(keys);
                cache.jwks = Some(keys.clone());
                Ok(Some(keys))
            }
            Err(err) => Err(err),
        }
    }
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

/// GETs a JSON document (discovery, JWKS) and returns its body on a 2xx answer.
async fn get_json(http: &AwcHttpClient, url: &Url, what: &str) -> Result<Vec<u8>, OAuthError> {
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
    Ok(response.into_body())
}
