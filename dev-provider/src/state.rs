//! What the development provider knows: its configuration (clients, users, lifetimes), its
//! `id_token` signing keys, and the grants it has issued (authorization codes, access tokens,
//! refresh tokens; OAuth 1.0a credentials live in [`oauth1::Store`](super::oauth1::Store)).

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use actix_web::http::header::HeaderValue;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;
use url::Url;

use super::keys::{DevAlgorithm, KeyRing};
use super::oauth1;
use super::oidc::{has_scope, Authentication, IdTokenFault};
use super::DevUser;
use actix_oauth::oauth1::SignatureMethod;

/// The JWKS answer's `Cache-Control` until a test sets another.
pub(super) const DEFAULT_JWKS_CACHE_CONTROL: &str = "public, max-age=300";

/// The scope granted when a client asks for none.
pub(super) const DEFAULT_SCOPE: &str = "profile email";

/// A registered confidential client; for OAuth 1.0a, a consumer (id = consumer key, secret =
/// consumer secret, redirect URIs = allowed callbacks).
pub(super) struct Client {
    pub(super) id: String,
    secret: String,
    pub(super) redirect_uris: Vec<String>,
    /// Where back-channel logout tokens are POSTed, if the client registered it.
    pub(super) backchannel_logout_uri: Option<String>,
    /// How the client authenticates at the token and revocation endpoints.
    pub(super) auth: crate::DevClientAuth,
}

impl Client {
    pub(super) fn new(id: String, secret: String, redirect_uris: Vec<String>) -> Self {
        Self {
            id,
            secret,
            redirect_uris,
            backchannel_logout_uri: None,
            auth: crate::DevClientAuth::ClientSecret,
        }
    }

    /// The secret, as the key of `client_secret_jwt` assertions.
    pub(super) fn secret(&self) -> &str {
        &self.secret
    }

    /// Whether `uri` may be a `post_logout_redirect_uri` of this client: it has the origin of
    /// one of its redirect URIs (the development provider's registration rule).
    pub(super) fn allows_post_logout_redirect(&self, uri: &url::Url) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| url::Url::parse(registered).is_ok_and(|r| r.origin() == uri.origin()))
    }

    /// Whether `candidate` is this client's secret, compared in constant time.
    pub(super) fn secret_matches(&self, candidate: &str) -> bool {
        constant_time_eq(&self.secret, candidate)
    }

    /// Whether `signature` is this consumer's OAuth 1.0a signature of `base_string` with
    /// `token_secret` ([RFC 5849 §3.4]), compared in constant time. RSA-SHA1 never verifies.
    ///
    /// [RFC 5849 §3.4]: https://www.rfc-editor.org/rfc/rfc5849#section-3.4
    pub(super) fn verifies_oauth1(
        &self,
        method: SignatureMethod,
        base_string: &str,
        token_secret: &str,
        signature: &str,
    ) -> bool {
        // `sign` refuses only RSA-SHA1 (no key here), which therefore never verifies.
        actix_oauth::oauth1::sign(method, base_string, &self.secret, token_secret)
            .is_ok_and(|expected| constant_time_eq(&expected, signature))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .field("redirect_uris", &self.redirect_uris)
            .field("backchannel_logout_uri", &self.backchannel_logout_uri)
            .finish()
    }
}

/// Compares two strings in constant time. Both sides are hashed first so that not even their
/// lengths leak.
pub(super) fn constant_time_eq(a: &str, b: &str) -> bool {
    let a = Sha256::digest(a.as_bytes());
    let b = Sha256::digest(b.as_bytes());
    a.as_slice().ct_eq(b.as_slice()).into()
}

/// A fresh random value of 256 bits, base64url without padding.
pub(super) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The provider's fixed configuration.
#[derive(Debug)]
pub(super) struct Config {
    /// The URL the provider serves, such as `http://127.0.0.1:41234/`. OAuth 1.0a signatures
    /// are checked against it.
    pub(super) base_url: Url,
    /// The OpenID Connect issuer: the base URL without its trailing slash, such as
    /// `http://127.0.0.1:41234`.
    pub(super) issuer: String,
    /// How `id_token`s are signed.
    pub(super) algorithm: DevAlgorithm,
    pub(super) clients: Vec<Client>,
    pub(super) users: Vec<DevUser>,
    pub(super) code_lifetime: Duration,
    /// Access token lifetime in milliseconds; tests may change it while the provider runs.
    pub(super) token_lifetime_ms: std::sync::atomic::AtomicU64,
    pub(super) require_pkce: bool,
    /// Whether authorization requests must be pushed first (RFC 9126).
    pub(super) require_par: bool,
    /// Whether client assertions must name the issuer as their audience.
    pub(super) assertion_audience_issuer_only: bool,
    /// The polling interval device authorizations start with ([RFC 8628 §3.2]).
    ///
    /// [RFC 8628 §3.2]: https://www.rfc-editor.org/rfc/rfc8628#section-3.2
    pub(super) device_interval: Duration,
    /// How long a device code and its user code can be used.
    pub(super) device_code_lifetime: Duration,
}

impl Config {
    /// How long the access tokens issued now live.
    pub(super) fn token_lifetime(&self) -> Duration {
        Duration::from_millis(
            self.token_lifetime_ms
                .load(std::sync::atomic::Ordering::Relaxed),
        )
    }

    pub(super) fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|client| client.id == id)
    }

    pub(super) fn user(&self, username: &str) -> Option<&DevUser> {
        self.users.iter().find(|user| user.username == username)
    }
}

/// Everything the server threads share.
pub(super) struct Shared {
    pub(super) config: Config,
    store: Mutex<Store>,
    oauth1: Mutex<oauth1::Store>,
    keys: Mutex<KeyRing>,
    device: Mutex<super::device::Store>,
    id_token_fault: Mutex<Option<IdTokenFault>>,
    pub(super) token_requests: AtomicUsize,
    pub(super) jwks_requests: AtomicUsize,
    pub(super) discovery_requests: AtomicUsize,
    /// The JWKS answer's `Cache-Control`.
    jwks_cache_control: Mutex<HeaderValue>,
    /// Whether the JWKS answers `503`.
    pub(super) jwks_unavailable: AtomicBool,
    /// The `jti`s of client assertions seen, with their `exp`: each is accepted once.
    pub(super) assertion_jtis: Mutex<HashMap<String, u64>>,
    /// DPoP nonces, proofs seen and counters.
    pub(super) dpop: super::dpop::DpopState,
    /// Pushed authorization requests by `request_uri`.
    pushed: Mutex<HashMap<String, crate::par::Pushed>>,
    /// When each user last authenticated here (the provider's single sign-on session): a
    /// sign-in within a request's `max_age`, without `prompt=login`, reuses it.
    pub(super) user_sessions: Mutex<HashMap<String, u64>>,
    /// Test hook: answer a stale `auth_time` even where `max_age` asked for a fresher one.
    pub(super) ignore_max_age: AtomicBool,
}

impl Shared {
    pub(super) fn new(config: Config, keys: KeyRing) -> Self {
        Self {
            config,
            store: Mutex::new(Store::default()),
            oauth1: Mutex::new(oauth1::Store::default()),
            keys: Mutex::new(keys),
            device: Mutex::new(super::device::Store::default()),
            id_token_fault: Mutex::new(None),
            token_requests: AtomicUsize::new(0),
            jwks_requests: AtomicUsize::new(0),
            discovery_requests: AtomicUsize::new(0),
            jwks_cache_control: Mutex::new(HeaderValue::from_static(DEFAULT_JWKS_CACHE_CONTROL)),
            jwks_unavailable: AtomicBool::new(false),
            assertion_jtis: Mutex::new(HashMap::new()),
            dpop: super::dpop::DpopState::default(),
            pushed: Mutex::new(HashMap::new()),
            user_sessions: Mutex::new(HashMap::new()),
            ignore_max_age: AtomicBool::new(false),
        }
    }

    /// When `username` authenticates for a request with `max_age` and `prompt`: the time of its
    /// single sign-on session when that is recent enough and no new login is asked for, else
    /// now (and the session starts again).
    pub(super) fn authenticate(&self, username: &str, max_age: Option<u64>, login: bool) -> u64 {
        let now = super::oidc::unix_now();
        let mut sessions = self.user_sessions.lock().unwrap_or_else(|e| e.into_inner());
        let ignore = self
            .ignore_max_age
            .load(std::sync::atomic::Ordering::SeqCst);
        match sessions.get(username) {
            Some(&at)
                if ignore
                    || (!login && max_age.is_none_or(|max| now.saturating_sub(at) <= max)) =>
            {
                at
            }
            _ => {
                sessions.insert(username.to_owned(), now);
                now
            }
        }
    }

    /// The pushed authorization requests; a poisoned lock is taken over.
    pub(super) fn pushed(&self) -> MutexGuard<'_, HashMap<String, crate::par::Pushed>> {
        self.pushed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The JWKS answer's `Cache-Control`.
    pub(super) fn jwks_cache_control(&self) -> HeaderValue {
        self.jwks_cache_control
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(super) fn set_jwks_cache_control(&self, value: HeaderValue) {
        *self
            .jwks_cache_control
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = value;
    }

    /// The signing keys; a poisoned lock is taken over, as for [`store`](Self::store). Hold it
    /// briefly: clone the key out before signing.
    pub(super) fn keys(&self) -> MutexGuard<'_, KeyRing> {
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The defect to put in the next `id_token`s, if any.
    pub(super) fn id_token_fault(&self) -> Option<IdTokenFault> {
        *self
            .id_token_fault
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn set_id_token_fault(&self, fault: Option<IdTokenFault>) {
        *self
            .id_token_fault
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = fault;
    }

    /// The grant store. A poisoned lock is taken over: every store operation leaves the maps
    /// consistent, so a panic elsewhere cannot have left them half-written.
    pub(super) fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The device authorizations ([RFC 8628]); a poisoned lock is taken over, as for
    /// [`store`](Self::store).
    ///
    /// [RFC 8628]: https://www.rfc-editor.org/rfc/rfc8628
    pub(super) fn device(&self) -> MutexGuard<'_, super::device::Store> {
        self.device.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The OAuth 1.0a credential and nonce store; a poisoned lock is taken over, as for
    /// [`store`](Self::store).
    pub(super) fn oauth1(&self) -> MutexGuard<'_, oauth1::Store> {
        self.oauth1.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How a PKCE code challenge was derived from its verifier ([RFC 7636 §4.2]).
///
/// [RFC 7636 §4.2]: https://www.rfc-editor.org/rfc/rfc7636#section-4.2
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ChallengeMethod {
    S256,
    Plain,
}

/// A PKCE code challenge from an authorization request.
#[derive(Clone)]
pub(super) struct Challenge {
    pub(super) value: String,
    pub(super) method: ChallengeMethod,
}

impl Challenge {
    /// Whether `verifier` is well formed ([RFC 7636 §4.1]) and matches this challenge.
    ///
    /// [RFC 7636 §4.1]: https://www.rfc-editor.org/rfc/rfc7636#section-4.1
    pub(super) fn verify(&self, verifier: &str) -> bool {
        if !is_pkce_string(verifier) {
            return false;
        }
        match self.method {
            ChallengeMethod::S256 => {
                let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                constant_time_eq(&computed, &self.value)
            }
            ChallengeMethod::Plain => constant_time_eq(verifier, &self.value),
        }
    }
}

/// Whether `s` has the syntax of a code verifier or challenge: 43 to 128 unreserved characters.
pub(super) fn is_pkce_string(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// What an authorization code stands for.
pub(super) struct CodeRequest {
    pub(super) client_id: String,
    pub(super) redirect_uri: String,
    pub(super) username: String,
    pub(super) scope: String,
    pub(super) challenge: Option<Challenge>,
    /// The OpenID Connect `nonce`, returned in the `id_token`.
    pub(super) nonce: Option<String>,
    /// The DPoP key thumbprint the request named (`dpop_jkt`, RFC 9449 §10).
    pub(super) dpop_jkt: Option<String>,
    /// When the user approved, in seconds since the Unix epoch (`auth_time`).
    pub(super) auth_time: u64,
    /// The authentication context class the sign-in met (`acr`), when one was asked for.
    pub(super) acr: Option<String>,
}

struct CodeGrant {
    request: CodeRequest,
    /// The provider session this sign-in starts (`sid` in its ID tokens).
    sid: String,
    expires_at: Instant,
    used: bool,
    /// Kept until then (past expiry once used) so that a replay can still be detected.
    keep_until: Instant,
    family: u64,
}

/// Who an access token speaks for.
#[derive(Clone)]
pub(super) enum Subject {
    /// A user, by username.
    User(String),
    /// The client itself (client credentials grant), by client id.
    Client(String),
}

struct AccessGrant {
    subject: Subject,
    /// The thumbprint of the DPoP key the token is bound to (RFC 9449 §6), if any.
    jkt: Option<String>,
    expires_at: Instant,
    revoked: bool,
    /// The authorization code the token descends from, if any.
    family: Option<u64>,
}

struct RefreshGrant {
    client_id: String,
    username: String,
    scope: String,
    family: u64,
    auth_time: u64,
    acr: Option<String>,
    sid: String,
    /// The DPoP key the refresh token is bound to: a refresh needs a proof by it.
    jkt: Option<String>,
}

/// Where user tokens come from: the authorization code they descend from, and the user's
/// sign-in that their `id_token`s attest.
struct Origin {
    family: u64,
    auth_time: u64,
    acr: Option<String>,
    nonce: Option<String>,
    sid: String,
    /// The DPoP key the tokens are bound to.
    jkt: Option<String>,
}

/// A provider session: one user's sign-in at one client, from its authorization code on.
#[derive(Clone)]
pub(super) struct ProviderSession {
    pub(super) sid: String,
    pub(super) client_id: String,
    pub(super) username: String,
    family: u64,
}

/// Tokens handed to a client by the token endpoint.
pub(super) struct Issued {
    pub(super) access_token: String,
    pub(super) refresh_token: Option<String>,
    pub(super) expires_in: u64,
    pub(super) scope: String,
    /// Set when the scope contains `openid`: what the `id_token` must attest.
    pub(super) authentication: Option<Authentication>,
    /// Whether the access token is DPoP-bound (`token_type` `DPoP`).
    pub(super) dpop: bool,
}

/// A token request the store refuses: an [RFC 6749 §5.2] error code and description.
///
/// [RFC 6749 §5.2]: https://www.rfc-editor.org/rfc/rfc6749#section-5.2
pub(super) struct Refused {
    pub(super) error: &'static str,
    pub(super) description: &'static str,
}

fn invalid_grant(description: &'static str) -> Refused {
    Refused {
        error: "invalid_grant",
        description,
    }
}

/// Issued codes and tokens. Tokens are the map keys; nothing here is `Debug`.
#[derive(Default)]
pub(super) struct Store {
    codes: HashMap<String, CodeGrant>,
    access_tokens: HashMap<String, AccessGrant>,
    refresh_tokens: HashMap<String, RefreshGrant>,
    next_family: u64,
    /// Live provider sessions by `sid`.
    sessions: HashMap<String, ProviderSession>,
    /// How many tokens the revocation endpoint revoked.
    pub(super) revocations: usize,
    /// Refresh tokens already exchanged, with the grant (authorization code family) and client
    /// they belong to: presented again, they revoke that grant.
    spent_refresh_tokens: HashMap<String, (u64, String)>,
    /// How many refreshes succeeded.
    pub(super) refreshes: usize,
    /// How many spent refresh tokens were presented again.
    pub(super) refresh_reuses: usize,
}

/// The most spent refresh tokens remembered; beyond it the memory starts afresh.
const MAX_SPENT_REFRESH_TOKENS: usize = 100_000;

impl Store {
    /// Drops expired codes and access tokens so the maps stay bounded.
    fn prune(&mut self, now: Instant) {
        self.codes.retain(|_, code| code.keep_until > now);
        self.access_tokens
            .retain(|_, token| token.expires_at > now && !token.revoked);
    }

    /// Issues a single-use authorization code ([RFC 6749 §4.1.2]).
    ///
    /// [RFC 6749 §4.1.2]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
    pub(super) fn issue_code(&mut self, request: CodeRequest, lifetime: Duration) -> String {
        let now = Instant::now();
        self.prune(now);
        let code = random_token();
        let expires_at = now + lifetime;
        let family = self.next_family;
        self.next_family += 1;
        self.codes.insert(
            code.clone(),
            CodeGrant {
                request,
                sid: random_token(),
                expires_at,
                used: false,
                keep_until: expires_at,
                family,
            },
        );
        code
    }

    /// Exchanges an authorization code for tokens ([RFC 6749 §4.1.3], [RFC 7636 §4.6]).
    ///
    /// # Security
    /// A code presented a second time revokes every token issued from it ([RFC 6749 §4.1.2]);
    /// a `code_verifier` sent for a code requested without a challenge is refused, which stops a
    /// PKCE downgrade ([RFC 9700 §2.1.1]).
    ///
    /// [RFC 6749 §4.1.2]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
    /// [RFC 6749 §4.1.3]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
    /// [RFC 7636 §4.6]: https://www.rfc-editor.org/rfc/rfc7636#section-4.6
    /// [RFC 9700 §2.1.1]: https://www.rfc-editor.org/rfc/rfc9700#section-2.1.1
    pub(super) fn redeem_code(
        &mut self,
        code: &str,
        client_id: &str,
        redirect_uri: Option<&str>,
        verifier: Option<&str>,
        token_lifetime: Duration,
        jkt: Option<&str>,
    ) -> Result<Issued, Refused> {
        let now = Instant::now();
        let Some(grant) = self.codes.get_mut(code) else {
            return Err(invalid_grant("The authorization code is unknown."));
        };
        if grant.used {
            let family = grant.family;
            self.revoke_family(family);
            return Err(invalid_grant(
                "The authorization code was already used; the tokens issued from it are revoked.",
            ));
        }
        if grant.expires_at <= now {
            return Err(invalid_grant("The authorization code has expired."));
        }
        let request = &grant.request;
        if request.client_id != client_id {
            return Err(invalid_grant(
                "The authorization code was issued to another client.",
            ));
        }
        match redirect_uri {
            None => return Err(invalid_grant("The redirect_uri parameter is missing.")),
            Some(uri) if uri != request.redirect_uri => {
                return Err(invalid_grant(
                    "The redirect_uri differs from the one in the authorization request.",
                ))
            }
            Some(_) => {}
        }
        match (&request.challenge, verifier) {
            (Some(challenge), Some(verifier)) => {
                if !challenge.verify(verifier) {
                    return Err(invalid_grant(
                        "The code_verifier does not match the code_challenge.",
                    ));
                }
            }
            (Some(_), None) => {
                return Err(invalid_grant("The code_verifier parameter is missing."))
            }
            (None, Some(_)) => {
                return Err(invalid_grant(
                    "A code_verifier was sent but the authorization request had no code_challenge.",
                ))
            }
            (None, None) => {}
        }
        // RFC 9449 §10: a code requested with `dpop_jkt` needs a proof by that key.
        if let Some(expected) = &request.dpop_jkt {
            if jkt != Some(expected.as_str()) {
                return Err(Refused {
                    error: "invalid_dpop_proof",
                    description: "The authorization request named a DPoP key (dpop_jkt); the token request carries no proof by it.",
                });
            }
        }
        grant.used = true;
        grant.keep_until = grant.keep_until.max(now + token_lifetime);
        let username = request.username.clone();
        let scope = request.scope.clone();
        let origin = Origin {
            family: grant.family,
            auth_time: request.auth_time,
            acr: request.acr.clone(),
            nonce: request.nonce.clone(),
            sid: grant.sid.clone(),
            jkt: jkt.map(str::to_owned),
        };
        self.sessions.insert(
            grant.sid.clone(),
            ProviderSession {
                sid: grant.sid.clone(),
                client_id: client_id.to_owned(),
                username: request.username.clone(),
                family: grant.family,
            },
        );
        Ok(self.issue_user_tokens(
            client_id,
            username,
            scope.clone(),
            scope,
            origin,
            token_lifetime,
        ))
    }

    /// Issues the tokens of an approved device authorization ([RFC 8628 §3.5]): a sign-in of
    /// its own, as an authorization code's is (a provider session, a refresh token, an
    /// `id_token` for the scope `openid`, without a `nonce`).
    ///
    /// [RFC 8628 §3.5]: https://www.rfc-editor.org/rfc/rfc8628#section-3.5
    pub(super) fn issue_device_tokens(
        &mut self,
        client_id: &str,
        username: String,
        scope: String,
        auth_time: u64,
        jkt: Option<&str>,
        token_lifetime: Duration,
    ) -> Issued {
        let family = self.next_family;
        self.next_family += 1;
        let sid = random_token();
        self.sessions.insert(
            sid.clone(),
            ProviderSession {
                sid: sid.clone(),
                client_id: client_id.to_owned(),
                username: username.clone(),
                family,
            },
        );
        let origin = Origin {
            family,
            auth_time,
            acr: None,
            nonce: None,
            sid,
            jkt: jkt.map(str::to_owned),
        };
        self.issue_user_tokens(
            client_id,
            username,
            scope.clone(),
            scope,
            origin,
            token_lifetime,
        )
    }

    /// Exchanges a refresh token for a new access token and a new refresh token; the old one
    /// stops working ([RFC 6749 §6], [RFC 9700 §4.14.2]).
    ///
    /// [RFC 6749 §6]: https://www.rfc-editor.org/rfc/rfc6749#section-6
    /// [RFC 9700 §4.14.2]: https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2
    pub(super) fn refresh(
        &mut self,
        refresh_token: &str,
        client_id: &str,
        scope: Option<&str>,
        token_lifetime: Duration,
        jkt: Option<&str>,
    ) -> Result<Issued, Refused> {
        let Some(grant) = self.refresh_tokens.get(refresh_token) else {
            // RFC 9700 §4.14.2: a rotated refresh token presented again means it leaked (or a
            // client raced itself); the whole grant is revoked, as strict providers do.
            if let Some((family, owner)) = self.spent_refresh_tokens.get(refresh_token) {
                if owner == client_id {
                    let family = *family;
                    self.refresh_reuses += 1;
                    self.revoke_family(family);
                    return Err(invalid_grant(
                        "The refresh token was already used; every token of its grant is revoked.",
                    ));
                }
            }
            return Err(invalid_grant(
                "The refresh token is unknown, revoked or already used.",
            ));
        };
        // RFC 9449 §5: a bound refresh token is refreshed only with a proof by its key.
        if grant.jkt.is_some() && grant.jkt.as_deref() != jkt {
            return Err(Refused {
                error: "invalid_dpop_proof",
                description:
                    "The refresh token is bound to a DPoP key; the request carries no proof by it.",
            });
        }
        if grant.client_id != client_id {
            return Err(invalid_grant(
                "The refresh token was issued to another client.",
            ));
        }
        let access_scope = match scope {
            None => grant.scope.clone(),
            Some(scope) if is_subset(scope, &grant.scope) => scope.to_owned(),
            Some(_) => {
                return Err(Refused {
                    error: "invalid_scope",
                    description: "The requested scope exceeds the scope originally granted.",
                })
            }
        };
        let Some(grant) = self.refresh_tokens.remove(refresh_token) else {
            return Err(invalid_grant("The refresh token is unknown."));
        };
        if self.spent_refresh_tokens.len() >= MAX_SPENT_REFRESH_TOKENS {
            self.spent_refresh_tokens.clear();
        }
        self.spent_refresh_tokens.insert(
            refresh_token.to_owned(),
            (grant.family, grant.client_id.clone()),
        );
        self.refreshes += 1;
        // OpenID Connect Core §12.2: a refreshed id_token keeps `auth_time` and has no nonce.
        let origin = Origin {
            family: grant.family,
            auth_time: grant.auth_time,
            acr: grant.acr,
            nonce: None,
            sid: grant.sid,
            jkt: grant.jkt.or_else(|| jkt.map(str::to_owned)),
        };
        Ok(self.issue_user_tokens(
            client_id,
            grant.username,
            access_scope,
            grant.scope,
            origin,
            token_lifetime,
        ))
    }

    /// Issues an application token for the client itself ([RFC 6749 §4.4]): no refresh token.
    ///
    /// [RFC 6749 §4.4]: https://www.rfc-editor.org/rfc/rfc6749#section-4.4
    pub(super) fn issue_app_token(
        &mut self,
        client_id: &str,
        scope: String,
        token_lifetime: Duration,
        jkt: Option<&str>,
    ) -> Issued {
        let now = Instant::now();
        self.prune(now);
        let access_token = random_token();
        self.access_tokens.insert(
            access_token.clone(),
            AccessGrant {
                subject: Subject::Client(client_id.to_owned()),
                jkt: jkt.map(str::to_owned),
                expires_at: now + token_lifetime,
                revoked: false,
                family: None,
            },
        );
        Issued {
            access_token,
            refresh_token: None,
            expires_in: token_lifetime.as_secs(),
            scope,
            authentication: None,
            dpop: jkt.is_some(),
        }
    }

    fn issue_user_tokens(
        &mut self,
        client_id: &str,
        username: String,
        access_scope: String,
        refresh_scope: String,
        origin: Origin,
        token_lifetime: Duration,
    ) -> Issued {
        let family = origin.family;
        let now = Instant::now();
        self.prune(now);
        let access_token = random_token();
        let refresh_token = random_token();
        self.access_tokens.insert(
            access_token.clone(),
            AccessGrant {
                subject: Subject::User(username.clone()),
                jkt: origin.jkt.clone(),
                expires_at: now + token_lifetime,
                revoked: false,
                family: Some(family),
            },
        );
        let authentication = has_scope(&access_scope, "openid").then(|| Authentication {
            client_id: client_id.to_owned(),
            username: username.clone(),
            scope: access_scope.clone(),
            nonce: origin.nonce,
            auth_time: origin.auth_time,
            acr: origin.acr.clone(),
            sid: origin.sid.clone(),
        });
        self.refresh_tokens.insert(
            refresh_token.clone(),
            RefreshGrant {
                client_id: client_id.to_owned(),
                username,
                scope: refresh_scope,
                family,
                auth_time: origin.auth_time,
                acr: origin.acr,
                sid: origin.sid,
                jkt: origin.jkt.clone(),
            },
        );
        Issued {
            access_token,
            refresh_token: Some(refresh_token),
            expires_in: token_lifetime.as_secs(),
            scope: access_scope,
            authentication,
            dpop: origin.jkt.is_some(),
        }
    }

    /// Revokes every access and refresh token descending from one authorization code.
    fn revoke_family(&mut self, family: u64) {
        for token in self.access_tokens.values_mut() {
            if token.family == Some(family) {
                token.revoked = true;
            }
        }
        self.refresh_tokens
            .retain(|_, token| token.family != family);
        self.spent_refresh_tokens
            .retain(|_, (spent, _)| *spent != family);
    }

    /// Revokes `token` for `client_id` ([RFC 7009 §2.1]): a refresh token takes its whole grant
    /// with it (every token of its authorization code), an access token only itself. A token
    /// this provider does not know, or knows as revoked, is no error (§2.2). `Err` when the
    /// token was issued to another client.
    ///
    /// [RFC 7009 §2.1]: https://www.rfc-editor.org/rfc/rfc7009#section-2.1
    pub(super) fn revoke(&mut self, token: &str, client_id: &str) -> Result<(), Refused> {
        if let Some(grant) = self.refresh_tokens.get(token) {
            if grant.client_id != client_id {
                return Err(invalid_grant("The token was issued to another client."));
            }
            let family = grant.family;
            self.revoke_family(family);
            self.sessions.retain(|_, session| session.family != family);
            self.revocations += 1;
            return Ok(());
        }
        let owner = self.family_client(token);
        if let Some(grant) = self.access_tokens.get_mut(token) {
            let mine = match &grant.subject {
                Subject::Client(id) => id == client_id,
                Subject::User(_) => owner.as_deref() == Some(client_id),
            };
            if !mine {
                return Err(invalid_grant("The token was issued to another client."));
            }
            if !grant.revoked {
                grant.revoked = true;
                self.revocations += 1;
            }
        }
        Ok(())
    }

    /// The client a user access token was issued to, through its provider session.
    fn family_client(&self, access_token: &str) -> Option<String> {
        let family = self.access_tokens.get(access_token)?.family?;
        self.sessions
            .values()
            .find(|session| session.family == family)
            .map(|session| session.client_id.clone())
            .or_else(|| {
                self.refresh_tokens
                    .values()
                    .find(|grant| grant.family == family)
                    .map(|grant| grant.client_id.clone())
            })
    }

    /// Ends the provider sessions `which` selects, revoking every token issued in them; returns
    /// them (for back-channel logout).
    pub(super) fn end_sessions(
        &mut self,
        which: impl Fn(&ProviderSession) -> bool,
    ) -> Vec<ProviderSession> {
        let ended: Vec<ProviderSession> = self
            .sessions
            .values()
            .filter(|s| which(s))
            .cloned()
            .collect();
        for session in &ended {
            self.sessions.remove(&session.sid);
            self.revoke_family(session.family);
        }
        ended
    }

    /// User `username`'s most recently started live provider session, if any.
    pub(super) fn latest_session(&self, username: &str) -> Option<ProviderSession> {
        self.sessions
            .values()
            .filter(|s| s.username == username)
            .max_by_key(|s| s.family)
            .cloned()
    }

    /// Who a live access token speaks for, and the thumbprint of the DPoP key it is bound to;
    /// `None` when it is unknown, expired or revoked.
    pub(super) fn access_subject(&self, access_token: &str) -> Option<(Subject, Option<String>)> {
        let grant = self.access_tokens.get(access_token)?;
        (!grant.revoked && grant.expires_at > Instant::now())
            .then(|| (grant.subject.clone(), grant.jkt.clone()))
    }
}

/// Whether `scope` is a well-formed scope ([RFC 6749 §3.3]): space-separated tokens of
/// printable ASCII other than `"` and `\`.
///
/// [RFC 6749 §3.3]: https://www.rfc-editor.org/rfc/rfc6749#section-3.3
pub(super) fn is_valid_scope(scope: &str) -> bool {
    scope.split(' ').all(|token| {
        !token.is_empty()
            && token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
    })
}

/// Whether every token of `requested` is in `granted`.
fn is_subset(requested: &str, granted: &str) -> bool {
    requested
        .split(' ')
        .all(|token| granted.split(' ').any(|g| g == token))
}
