//! [`RemoteAppBuilder`]: every setting of a remote app, checked and parsed by
//! [`build`](RemoteAppBuilder::build) (the protocol's own settings by its module).

use std::{fmt, time::Duration};

use ::oauth2::{ClientId, ClientSecret};
use url::Url;

use super::{Callback, RemoteApp};
use crate::{
    credentials::UserinfoMethod,
    credentials::{Credentials, TokenMethod},
    error::OAuthError,
    oauth1::{self, SignatureMethod},
    oauth2::{self, AssertionAudience, ClientAuth, ResponseMode},
    profile::ProfileMap,
    protocol::{self, Protocol},
    revocation::Revocation,
    urls::{check_scheme, origin_root, resolve_under},
};

impl RemoteApp {
    /// Starts a remote app named `name`; the name is how handlers and routes refer to it.
    pub fn builder(name: impl Into<String>) -> RemoteAppBuilder {
        let name = name.into();
        RemoteAppBuilder {
            callback: format!("/auth/{name}/callback"),
            name,
            base_url: None,
            api_origins: Vec::new(),
            request_token_url: None,
            access_token_url: None,
            authorize_url: None,
            userinfo_url: None,
            emails_url: None,
            issuer: None,
            alternate_issuers: Vec::new(),
            id_token_algorithms: None,
            clock_skew: None,
            jwks_refetch_interval: None,
            jwks_max_age: None,
            nonce_required: true,
            issuer_from_discovery: false,
            profile_map: ProfileMap::standard(),
            client_id_header: None,
            consumer_key: None,
            consumer_secret: None,
            request_token_params: Vec::new(),
            access_token_params: Vec::new(),
            authorize_params: Vec::new(),
            token_request_headers: Vec::new(),
            access_token_method: TokenMethod::default(),
            scope: Vec::new(),
            pkce: true,
            dpop: false,
            allow_code_injection: false,
            client_auth: oauth2::AuthConfig::default(),
            response_mode: ResponseMode::default(),
            callback_json_param: None,
            denial_errors: Vec::new(),
            par: false,
            par_url: None,
            sign_in: crate::SignInOptions::default(),
            signature_method: SignatureMethod::default(),
            rsa_private_key_pem: None,
            root_certificates_pem: Vec::new(),
            revocation: Revocation::default(),
            end_session_url: None,
            device_authorization_url: None,
            post_logout_redirect: None,
            scope_separator: None,
            userinfo_method: UserinfoMethod::default(),
            api_headers: Vec::new(),
            profile_from_token_answer: false,
            host_setting: None,
        }
    }
}

/// Builder for [`RemoteApp`]; every setter documents its default. Nothing is checked until
/// [`RemoteAppBuilder::build`] (called for you by [`OAuth::build`](crate::OAuth::build)).
#[derive(Clone)]
#[must_use]
pub struct RemoteAppBuilder {
    name: String,
    base_url: Option<String>,
    api_origins: Vec<String>,
    request_token_url: Option<String>,
    access_token_url: Option<String>,
    authorize_url: Option<String>,
    userinfo_url: Option<String>,
    emails_url: Option<String>,
    issuer: Option<String>,
    alternate_issuers: Vec<String>,
    id_token_algorithms: Option<Vec<String>>,
    clock_skew: Option<Duration>,
    jwks_refetch_interval: Option<Duration>,
    jwks_max_age: Option<Duration>,
    nonce_required: bool,
    issuer_from_discovery: bool,
    profile_map: ProfileMap,
    client_id_header: Option<String>,
    consumer_key: Option<String>,
    consumer_secret: Option<String>,
    request_token_params: Vec<(String, String)>,
    access_token_params: Vec<(String, String)>,
    authorize_params: Vec<(String, String)>,
    token_request_headers: Vec<(String, String)>,
    access_token_method: TokenMethod,
    scope: Vec<String>,
    pkce: bool,
    dpop: bool,
    allow_code_injection: bool,
    client_auth: oauth2::AuthConfig,
    response_mode: ResponseMode,
    callback_json_param: Option<String>,
    denial_errors: Vec<String>,
    par: bool,
    par_url: Option<String>,
    sign_in: crate::SignInOptions,
    callback: String,
    signature_method: SignatureMethod,
    rsa_private_key_pem: Option<String>,
    root_certificates_pem: Vec<String>,
    revocation: Revocation,
    end_session_url: Option<String>,
    device_authorization_url: Option<String>,
    post_logout_redirect: Option<String>,
    scope_separator: Option<String>,
    userinfo_method: UserinfoMethod,
    api_headers: Vec<(String, String)>,
    profile_from_token_answer: bool,
    /// The preset's hosted form, for presets without a shared host (Auth0, Okta, …).
    host_setting: Option<&'static str>,
}

impl fmt::Debug for RemoteAppBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteAppBuilder")
            .field("name", &self.name)
            .field("authorize_url", &self.authorize_url)
            .field("consumer_key", &self.consumer_key)
            .field(
                "consumer_secret",
                &self.consumer_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

macro_rules! url_setter {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub fn $name(mut self, url: impl Into<String>) -> Self {
            self.$name = Some(url.into());
            self
        }
    };
}

impl RemoteAppBuilder {
    /// The name this builder will register under.
    pub fn name(&self) -> &str {
        &self.name
    }

    url_setter!(
        /// The URL relative API paths are joined to, and the endpoints written relative to it
        /// (presets write theirs so where they can: overriding a preset's base moves them too).
        /// API calls carry the user's token only to URLs under it (or on an
        /// [`api_origin`](Self::api_origin)). Default: the origin of the [`issuer`](Self::issuer),
        /// else of the [`userinfo_url`](Self::userinfo_url), else of the
        /// [`access_token_url`](Self::access_token_url).
        base_url
    );

    /// Adds an origin (`https://host[:port]`, nothing after it) that API calls may carry the
    /// token to besides the [`base_url`](Self::base_url)'s, for the few providers whose API
    /// spans hosts (such as GitHub's `https://uploads.github.com`). Repeatable. Default: none.
    ///
    /// # Security
    /// The user's token travels to every origin listed here: list only the provider's own.
    pub fn api_origin(mut self, origin: impl Into<String>) -> Self {
        self.api_origins.push(origin.into());
        self
    }
    url_setter!(
        /// The OAuth 1.0a temporary-credentials (request token) URL. Setting it makes the remote
        /// app speak OAuth 1.0a. Absolute, or relative to the [`base_url`](Self::base_url) like
        /// every endpoint. Default: none (OAuth 2).
        request_token_url
    );
    url_setter!(
        /// The token endpoint (OAuth 2) or token-credentials URL (OAuth 1.0a). Required, except
        /// for OpenID Connect apps, which discover it from their [`issuer`](Self::issuer).
        ///
        /// Every endpoint URL is absolute, or a path relative to the [`base_url`](Self::base_url)
        /// without a scheme (`oauth2/token`; a leading `/` is ignored), resolved when the app is
        /// built and required to stay under the base.
        access_token_url
    );
    url_setter!(
        /// The authorization endpoint the browser is sent to. Required, except for OpenID Connect
        /// apps, which discover it from their [`issuer`](Self::issuer). Absolute, or relative to
        /// the [`base_url`](Self::base_url) like every endpoint.
        authorize_url
    );
    url_setter!(
        /// The endpoint that describes the signed-in user (OpenID Connect userinfo or the
        /// provider's own): absolute, or relative to the [`base_url`](Self::base_url) (`user`).
        /// Default: none, or the discovered one for OpenID Connect apps.
        userinfo_url
    );
    url_setter!(
        /// Where the provider lists the user's email addresses with `primary` and `verified`
        /// flags (GitHub's `/user/emails`); [`OAuthExtension::profile`] then takes the primary
        /// verified one. Absolute, or relative to the [`base_url`](Self::base_url)
        /// (`user/emails`). Default: none.
        ///
        /// [`OAuthExtension::profile`]: crate::OAuthExtension::profile
        emails_url
    );

    /// Makes this an OpenID Connect app: its endpoints and keys come from
    /// `{issuer}/.well-known/openid-configuration` (fetched on first use and cached; configured
    /// endpoints win over discovered ones), `openid` is requested, a `nonce` is bound to each
    /// sign-in, and the `id_token` is validated (signature, `iss`, `aud`, `azp`, `exp`, `iat`,
    /// `nonce`). The issuer must be written exactly as the provider's `iss` claims read it.
    /// Needs the `oidc` feature (on by default).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Another spelling of the issuer the provider puts in `iss` (Google documents both
    /// `https://accounts.google.com` and `accounts.google.com`). Default: none.
    pub fn alternate_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.alternate_issuers.push(issuer.into());
        self
    }

    /// The `id_token` signing algorithms accepted, by JOSE name (`"RS256"`, `"ES256"`, …).
    /// Default: every asymmetric algorithm (RS*, PS*, ES256, ES384, EdDSA) that the discovery
    /// document also lists. `none` and the HMAC algorithms are refused.
    pub fn id_token_algorithms<I, S>(mut self, algorithms: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.id_token_algorithms = Some(algorithms.into_iter().map(Into::into).collect());
        self
    }

    /// The clock skew allowed when checking an `id_token`'s `exp` and `iat`. Default: 60 s.
    pub fn clock_skew(mut self, skew: Duration) -> Self {
        self.clock_skew = Some(skew);
        self
    }

    /// The shortest time between two JWKS fetches caused by a token with an unknown key id
    /// (key rotation), and between a failed discovery or JWKS fetch and the next try (in
    /// between, a stale document is used, or the sign-in fails at once). Default: 60 s.
    pub fn jwks_refetch_interval(mut self, interval: Duration) -> Self {
        self.jwks_refetch_interval = Some(interval);
        self
    }

    /// The longest the provider's JWKS is trusted before it is fetched again: its caching
    /// headers (`Cache-Control: max-age`, `Expires`) are honoured up to this age, and without
    /// them this age applies. A key the provider withdraws stops verifying `id_token`s at the
    /// latest this long after. Default: 24 hours.
    ///
    /// When the keys expired and cannot be fetched again (the provider is down), they are still
    /// used for a grace period of this age, at most 1 hour; after it `id_token`s are refused
    /// until the JWKS can be fetched. See [the `oidc` module](crate::oidc).
    pub fn jwks_max_age(mut self, max_age: Duration) -> Self {
        self.jwks_max_age = Some(max_age);
        self
    }

    /// Sends the client id in header `name` on every API call (Twitch's Helix API wants
    /// `Client-Id` beside the bearer token). Default: none.
    pub fn client_id_header(mut self, name: impl Into<String>) -> Self {
        self.client_id_header = Some(name.into());
        self
    }

    /// Whether the `id_token` must carry the `nonce` this sign-in sent. Default: `true`. Turn it
    /// off only for providers that never echo it (LinkedIn); a `nonce` that is present must
    /// still match, and `state` and PKCE still bind the sign-in to the browser. Without PKCE
    /// either, [`build`](Self::build) refuses the app unless
    /// [`insecure_allow_code_injection`](Self::insecure_allow_code_injection) is set.
    pub fn require_nonce(mut self, required: bool) -> Self {
        self.nonce_required = required;
        self
    }

    /// Takes the issuer from the discovery document instead of requiring it to equal the
    /// configured one. Default: `false`. For aliases whose document names the real issuer
    /// (Microsoft's `consumers`, `organizations` and domain tenants name the tenant id's issuer,
    /// `common` names a `{tenantid}` template). The document still comes over TLS from the
    /// configured issuer's URL, and `iss` must then equal the document's issuer.
    pub fn issuer_from_discovery(mut self, enabled: bool) -> Self {
        self.issuer_from_discovery = enabled;
        self
    }

    /// How the provider's user description maps to a [`Profile`](crate::Profile). Default:
    /// [`ProfileMap::standard`].
    pub fn profile_map(mut self, map: ProfileMap) -> Self {
        self.profile_map = map;
        self
    }

    /// The client id (OAuth 2) or consumer key (OAuth 1.0a) the provider issued. Required.
    pub fn consumer_key(mut self, key: impl Into<String>) -> Self {
        self.consumer_key = Some(key.into());
        self
    }

    /// The client secret (OAuth 2) or consumer secret (OAuth 1.0a) the provider issued. Required.
    ///
    /// # Security
    /// Kept in a type that never prints it (`Debug` shows `[redacted]`).
    pub fn consumer_secret(mut self, secret: impl Into<String>) -> Self {
        self.consumer_secret = Some(secret.into());
        self
    }

    /// Another name for [`consumer_key`](Self::consumer_key), in OAuth 2's words.
    pub fn client_id(self, id: impl Into<String>) -> Self {
        self.consumer_key(id)
    }

    /// Another name for [`consumer_secret`](Self::consumer_secret), in OAuth 2's words.
    pub fn client_secret(self, secret: impl Into<String>) -> Self {
        self.consumer_secret(secret)
    }

    /// Adds a parameter for the request token URL (OAuth 1.0a) or, as in Flask-OAuth, for the
    /// authorization URL (OAuth 2). Default: none.
    pub fn request_token_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.request_token_params.push((key.into(), value.into()));
        self
    }

    /// Adds a parameter sent to the access token URL. Default: none.
    pub fn access_token_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.access_token_params.push((key.into(), value.into()));
        self
    }

    /// Adds a parameter to the authorization URL the browser is sent to (e.g. `prompt`,
    /// `access_type`). Default: none.
    pub fn authorize_param(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.authorize_params.push((key.into(), value.into()));
        self
    }

    /// Adds a header to every token endpoint request, for providers that negotiate (GitHub
    /// answers JSON only with `Accept: application/json`). Default: `Accept: application/json`
    /// is always sent.
    pub fn token_request_header(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Self {
        self.token_request_headers.push((name.into(), value.into()));
        self
    }

    /// The HTTP method of the access token request. Default: [`TokenMethod::Post`].
    ///
    /// # Security
    /// With [`TokenMethod::Get`] the parameters travel in the URL, so it needs
    /// [`ClientAuth::Basic`]: the build refuses to put the client secret in a URL.
    pub fn access_token_method(mut self, method: TokenMethod) -> Self {
        self.access_token_method = method;
        self
    }

    /// The OAuth 2 scopes to request, sent space-separated. Default: none.
    pub fn scope<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scope = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Whether to use PKCE with S256 (RFC 7636) on OAuth 2. Default: `true`.
    ///
    /// # Security
    /// PKCE binds the authorization code to this browser's handshake; RFC 9700 §2.1.1 requires
    /// it. Turn it off only for a provider that rejects the parameters. An OAuth 2 app without
    /// PKCE must be an OpenID Connect app that [requires the nonce](Self::require_nonce), or
    /// [`build`](Self::build) refuses it unless
    /// [`insecure_allow_code_injection`](Self::insecure_allow_code_injection) is set.
    pub fn pkce(mut self, enabled: bool) -> Self {
        self.pkce = enabled;
        self
    }

    /// Whether the provider's tokens are bound to a key of the sign-in (DPoP, RFC 9449; OAuth 2
    /// only, feature `dpop`, in the default build). Default: `false`.
    ///
    /// Each sign-in gets its own ES256 [`DpopKey`](crate::DpopKey), kept server-side with the
    /// tokens (never in the session cookie). Token requests carry a DPoP proof; a token the
    /// provider issues as `DPoP` is sent as `Authorization: DPoP` with a proof naming the
    /// method, URL and token (`ath`) on every API call, and refreshed with proofs by the same
    /// key. A `DPoP-Nonce` from the token endpoint or an API is used in the next proofs, and a
    /// request refused with `use_dpop_nonce` is sent once more with it.
    ///
    /// # Security
    /// A token bound to the key is worth nothing to whoever steals it (from a log, a proxy, the
    /// provider's side) without the key. Turn it on where the provider supports DPoP (its
    /// discovery document lists `dpop_signing_alg_values_supported`); a provider that does not
    /// ignores the proofs and issues bearer tokens, which are then used as such.
    pub fn dpop(mut self, enabled: bool) -> Self {
        self.dpop = enabled;
        self
    }

    /// Accepts an OAuth 2 app whose authorization codes nothing binds to the browser that asked
    /// for them: neither PKCE nor a required `id_token` `nonce`. Default: `false`, and such an
    /// app fails to build with a [`Configuration`](crate::ErrorKind::Configuration) error.
    ///
    /// # Security
    /// Without either, an attacker who obtains a code for *their own* account and plants it,
    /// with the victim's `state`, in the victim's callback signs the victim in as the attacker
    /// (authorization code injection, RFC 9700 §4.5): everything the victim then enters goes to
    /// the attacker's account. `state` alone does not stop it once the attacker learns the
    /// victim's `state` (RFC 9700 §2.1.1). Set this only for a provider that supports neither
    /// (LinkedIn web apps without PKCE enabled by LinkedIn) and after weighing that risk.
    pub fn insecure_allow_code_injection(mut self, allow: bool) -> Self {
        self.allow_code_injection = allow;
        self
    }

    /// How the client authenticates at the token endpoint, and at the revocation endpoint.
    /// Default: [`ClientAuth::Basic`]. [`ClientAuth::PrivateKeyJwt`] needs a
    /// [`client_key`](Self::client_key) and no client secret.
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth.method = auth;
        self
    }

    /// The `aud` of the client assertions of [`ClientAuth::ClientSecretJwt`] and
    /// [`ClientAuth::PrivateKeyJwt`]. Default: [`AssertionAudience::Endpoint`], the URL each
    /// assertion is sent to, which no other endpoint can replay it at.
    pub fn assertion_audience(mut self, audience: AssertionAudience) -> Self {
        self.client_auth.audience = audience;
        self
    }

    /// The private key of [`ClientAuth::PrivateKeyJwt`] and of a
    /// [`minted_client_secret`](Self::minted_client_secret) (feature `private-key-jwt`).
    /// Default: none.
    #[cfg(feature = "private-key-jwt")]
    pub fn client_key(mut self, key: crate::ClientKey) -> Self {
        self.client_auth.key = Some(key);
        self
    }

    /// Mints the client secret as a JWT signed with the [`client_key`](Self::client_key),
    /// cached and renewed before it expires, instead of a fixed
    /// [`client_secret`](Self::client_secret): what Sign in with Apple requires (its preset
    /// sets it up: [`Apple::signed_with`](crate::providers::Apple::signed_with)). Feature
    /// `private-key-jwt`. Default: none.
    #[cfg(feature = "private-key-jwt")]
    pub fn minted_client_secret(mut self, minted: crate::MintedSecret) -> Self {
        self.client_auth.minted = Some(minted);
        self
    }

    /// How the provider returns the authorization response (OAuth 2): in the callback URL's
    /// query ([`ResponseMode::Query`], the default) or as a form the browser POSTs to the
    /// callback ([`ResponseMode::FormPost`], which Apple requires when asking for the name or
    /// email, and which keeps the code out of URLs and logs). See [`ResponseMode::FormPost`]
    /// for how the session survives that cross-site POST.
    pub fn response_mode(mut self, mode: ResponseMode) -> Self {
        self.response_mode = mode;
        self
    }

    /// Pushes every authorization request to the provider first (PAR, RFC 9126): the browser
    /// then carries only `client_id` and a `request_uri`, so nothing of the request (scope,
    /// redirect URI, PKCE challenge, `nonce`) can be read or changed on its way. Needs the
    /// provider's `pushed_authorization_request_endpoint` (discovered, or
    /// [`par_url`](Self::par_url)). Default: off — but on for every sign-in when discovery says
    /// `require_pushed_authorization_requests`.
    pub fn par(mut self, enabled: bool) -> Self {
        self.par = enabled;
        self
    }

    /// The pushed authorization request endpoint (absolute, or relative to `base_url`), for a
    /// provider without discovery. Default: the discovery document's.
    pub fn par_url(mut self, url: impl Into<String>) -> Self {
        self.par_url = Some(url.into());
        self
    }

    /// `max_age` on every sign-in (OpenID Connect): the user must have authenticated at the
    /// provider at most this long ago, as the ID token's `auth_time` must show; a sign-in that
    /// does not is [`OAuthError::InsufficientAuthentication`]. One sign-in can ask otherwise
    /// ([`SignInOptions`](crate::SignInOptions)). Default: none.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.sign_in = self.sign_in.max_age(max_age);
        self
    }

    /// `acr_values` on every sign-in (OpenID Connect): the ID token's `acr` must be one of
    /// them, else [`OAuthError::InsufficientAuthentication`]. Default: none.
    pub fn acr_values<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.sign_in = self.sign_in.acr_values(values);
        self
    }

    /// `prompt` on every sign-in (`login`, `consent`, `select_account`, `none`). Default: none.
    pub fn prompt(mut self, prompt: impl Into<String>) -> Self {
        self.sign_in = self.sign_in.prompt(prompt);
        self
    }

    /// A callback `error` code that means the user declined, as `access_denied` does (RFC 6749
    /// §4.1.2.1): `Option<AuthorizedResponse<_>>` is then `None` rather than a provider error —
    /// Apple's `user_cancelled_authorize`. May be called more than once. Default: none.
    pub fn denial_error(mut self, code: impl Into<String>) -> Self {
        self.denial_errors.push(code.into());
        self
    }

    /// A callback parameter holding JSON the provider sends along with the browser — Apple's
    /// `user` (the name, on the first sign-in only): kept with the token under the same name
    /// (see [`TokenResponse::extra`](crate::TokenResponse::extra)), where
    /// [`OAuthExtension::profile`](crate::OAuthExtension::profile) reads it as its lowest
    /// source. Default: none.
    ///
    /// # Security
    /// It comes through the browser, unsigned: map from it only what does not decide who the
    /// user is (a display name), never the subject or an email to link accounts on.
    pub fn callback_json_param(mut self, name: impl Into<String>) -> Self {
        self.callback_json_param = Some(name.into());
        self
    }

    /// The OAuth 1.0a signature method. Default: [`SignatureMethod::HmacSha1`].
    pub fn signature_method(mut self, method: SignatureMethod) -> Self {
        self.signature_method = method;
        self
    }

    /// The consumer's RSA private key (PKCS#8 or PKCS#1 PEM) for [`SignatureMethod::RsaSha1`].
    /// Default: none. Needs the `rsa-sha1` feature to be used.
    ///
    /// # Security
    /// Parsed once at build time and never printed.
    pub fn rsa_private_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.rsa_private_key_pem = Some(pem.into());
        self
    }

    /// Trusts the certificate authorities of this PEM text (one or more `BEGIN CERTIFICATE`
    /// blocks) for this remote app's HTTPS calls — token, user info, discovery, JWKS and API —
    /// beside those every app trusts (see [`OAuth::root_certificate_pem`] and
    /// [`OAuth::native_roots`]): for a provider behind a company's own authority (on-premises
    /// Keycloak, ADFS). May be called more than once. Default: none. Needs the `rustls`
    /// feature; checked at build time.
    ///
    /// [`OAuth::root_certificate_pem`]: crate::OAuth::root_certificate_pem
    /// [`OAuth::native_roots`]: crate::OAuth::native_roots
    pub fn root_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.root_certificates_pem.push(pem.into());
        self
    }

    /// How this app's tokens are revoked at sign-out, unlink and user deletion. Default:
    /// [`Revocation::Discovered`] (the discovery document's `revocation_endpoint`, else none);
    /// presets set what their provider offers.
    pub fn revocation(mut self, revocation: Revocation) -> Self {
        self.revocation = revocation;
        self
    }

    /// An RFC 7009 revocation endpoint (absolute, or relative to `base_url`): shorthand for
    /// [`revocation`](Self::revocation)`(Revocation::Endpoint(url))`. Default: none.
    pub fn revocation_url(self, url: impl Into<String>) -> Self {
        self.revocation(Revocation::Endpoint(url.into()))
    }

    /// The provider's RP-initiated logout endpoint (OpenID Connect RP-Initiated Logout 1.0),
    /// for [`OAuthExtension::end_session`](crate::OAuthExtension::end_session). Default: the
    /// discovery document's `end_session_endpoint`, if any.
    pub fn end_session_url(mut self, url: impl Into<String>) -> Self {
        self.end_session_url = Some(url.into());
        self
    }

    /// The provider's device authorization endpoint ([RFC 8628 §3.1]; absolute, or relative to
    /// `base_url`), for
    /// [`OAuthExtension::device_authorization`](crate::OAuthExtension::device_authorization).
    /// Default: the discovery document's `device_authorization_endpoint`, if any.
    ///
    /// [RFC 8628 §3.1]: https://www.rfc-editor.org/rfc/rfc8628#section-3.1
    pub fn device_authorization_url(mut self, url: impl Into<String>) -> Self {
        self.device_authorization_url = Some(url.into());
        self
    }

    /// Where the provider's logout page sends the browser back (`post_logout_redirect_uri`): a
    /// path on this app, joined like the [`callback`](Self::callback), or an absolute URL;
    /// register it at the provider exactly as sent. Default: `/auth/{name}/logged-out`.
    pub fn post_logout_redirect_uri(mut self, path_or_url: impl Into<String>) -> Self {
        self.post_logout_redirect = Some(path_or_url.into());
        self
    }

    /// Where the provider sends the browser back: a path on this app (joined to the public URL
    /// set with [`OAuth::public_url`](crate::OAuth::public_url), or to the request's origin where
    /// it can be believed: see [`OAuthExtension::redirect_uri`](crate::OAuthExtension::redirect_uri)) or
    /// an absolute URL. It must be registered at the provider exactly as it is sent.
    /// Default: `/auth/{name}/callback`.
    pub fn callback(mut self, path_or_url: impl Into<String>) -> Self {
        self.callback = path_or_url.into();
        self
    }

    /// Checks and parses everything. Errors name the remote app and the field.
    pub fn build(self) -> Result<RemoteApp, OAuthError> {
        let name = self.name;
        let err = |field: &str, why: &str| {
            OAuthError::config(format!("remote app `{name}`: `{field}` {why}."))
        };
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(OAuthError::config(format!(
                "remote app name `{name}` must be 1 to 64 ASCII letters, digits, `-`, `_` or `.`."
            )));
        }
        if let Some(setting) = self.host_setting {
            if self.issuer.is_none() && self.authorize_url.is_none() {
                return Err(OAuthError::config(format!(
                    "remote app `{name}`: the preset has no shared host; name the instance with \
                     `{setting}` (`host` in a configuration file)."
                )));
            }
        }
        let parse = |field: &str, value: Option<String>| -> Result<Option<Url>, OAuthError> {
            value
                .map(|v| {
                    let url = Url::parse(&v)
                        .map_err(|e| err(field, &format!("is not a valid absolute URL ({e})")))?;
                    check_scheme(&url).map_err(|why| err(field, why))?;
                    Ok(url)
                })
                .transpose()
        };
        let base_url = parse("base_url", self.base_url)?.map(|mut url| {
            // Relative paths are joined under the base, never beside its last segment.
            if !url.path().ends_with('/') {
                let path = format!("{}/", url.path());
                url.set_path(&path);
            }
            url
        });
        // Endpoints may be written relative to the base (presets do), so they move with it.
        let endpoint = |field: &str, value: Option<String>| -> Result<Option<Url>, OAuthError> {
            match value {
                Some(v)
                    if matches!(Url::parse(&v), Err(url::ParseError::RelativeUrlWithoutBase)) =>
                {
                    resolve_under(base_url.as_ref(), &v)
                        .map(Some)
                        .map_err(|why| err(field, &format!("(`{v}`) {why}")))
                }
                other => parse(field, other),
            }
        };
        let authorize_url = endpoint("authorize_url", self.authorize_url)?;
        let access_token_url = endpoint("access_token_url", self.access_token_url)?;
        let request_token_url = endpoint("request_token_url", self.request_token_url)?;
        let userinfo_url = endpoint("userinfo_url", self.userinfo_url)?;
        let emails_url = endpoint("emails_url", self.emails_url)?;
        let revocation_url = match &self.revocation {
            Revocation::Endpoint(url) => endpoint("revocation_url", Some(url.clone()))?,
            _ => None,
        };
        let end_session_url = endpoint("end_session_url", self.end_session_url)?;
        let par_url = endpoint("par_url", self.par_url)?;
        let device_authorization_url =
            endpoint("device_authorization_url", self.device_authorization_url)?;
        let issuer_url = parse("issuer", self.issuer.clone())?;
        let credentials = Credentials {
            id: match self.consumer_key {
                Some(key) if !key.is_empty() => ClientId::new(key),
                _ => return Err(err("consumer_key", "(the client id) is required")),
            },
            // Checked by the protocol: OAuth 1.0a always needs it, OAuth 2 unless the client
            // signs with a private key.
            secret: ClientSecret::new(self.consumer_secret.unwrap_or_default()),
        };
        let has_secret = !credentials.secret.secret().is_empty();
        // A token must only ever travel to its provider's own origin: without a configured
        // base, the provider's origin is the one that already receives its secrets.
        let derived_base = issuer_url
            .as_ref()
            .or(userinfo_url.as_ref())
            .or(access_token_url.as_ref())
            .cloned();
        // A separator other than the space: the scopes travel as one joined value.
        let scope = match &self.scope_separator {
            Some(sep) if sep != " " && self.scope.len() > 1 => vec![self.scope.join(sep)],
            _ => self.scope,
        };
        for (header, value) in &self.api_headers {
            if awc::http::header::HeaderName::from_bytes(header.as_bytes()).is_err()
                || awc::http::header::HeaderValue::from_str(value).is_err()
            {
                return Err(err("api_header", "has an invalid header name or value"));
            }
        }
        if self.dpop && request_token_url.is_some() {
            return Err(err("dpop", "is for OAuth 2 apps, not OAuth 1.0a"));
        }
        let config = match request_token_url {
            Some(request_token_url) => protocol::Config::OAuth1(oauth1::Config {
                has_secret,
                request_token_url,
                authorize_url,
                access_token_url,
                has_issuer: issuer_url.is_some(),
                request_token_params: self.request_token_params,
                access_token_params: self.access_token_params,
                authorize_params: self.authorize_params,
                access_token_method: self.access_token_method,
                signature_method: self.signature_method,
                rsa_private_key_pem: self.rsa_private_key_pem,
            }),
            None => protocol::Config::OAuth2(oauth2::Config {
                authorize_url,
                access_token_url,
                userinfo_url: userinfo_url.clone(),
                has_issuer: issuer_url.is_some(),
                #[cfg(feature = "oidc")]
                oidc: self.issuer.map(|issuer| crate::oidc::Config {
                    issuer,
                    alternate_issuers: self.alternate_issuers,
                    algorithms: self.id_token_algorithms,
                    clock_skew: self.clock_skew,
                    jwks_refetch_interval: self.jwks_refetch_interval,
                    jwks_max_age: self.jwks_max_age,
                    nonce_required: self.nonce_required,
                    issuer_from_discovery: self.issuer_from_discovery,
                }),
                nonce_required: self.nonce_required,
                pkce: self.pkce,
                allow_code_injection: self.allow_code_injection,
                client_auth: self.client_auth,
                has_secret,
                response_mode: self.response_mode,
                callback_json_param: self.callback_json_param,
                denial_errors: self.denial_errors,
                par: self.par,
                par_url,
                sign_in: self.sign_in,
                access_token_method: self.access_token_method,
                dpop: self.dpop,
                scope,
                request_token_params: self.request_token_params,
                authorize_params: self.authorize_params,
                access_token_params: self.access_token_params,
                token_request_headers: self.token_request_headers,
                revocation: self.revocation,
                revocation_url,
                end_session_url,
                device_authorization_url,
            }),
        };
        let protocol = Protocol::build(config, &credentials, &err)?;
        let base_url = match base_url {
            Some(url) => url,
            None => {
                let from = derived_base.ok_or_else(|| {
                    err("base_url", "is required when no endpoint gives an origin")
                })?;
                origin_root(&from).ok_or_else(|| err("base_url", "cannot be derived"))?
            }
        };
        let mut api_origins = Vec::with_capacity(self.api_origins.len());
        for origin in self.api_origins {
            let url =
                parse("api_origin", Some(origin))?.ok_or_else(|| err("api_origin", "is empty"))?;
            if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
                return Err(err(
                    "api_origin",
                    "must be an origin only (`https://host[:port]`), without a path",
                ));
            }
            if !url.username().is_empty() || url.password().is_some() {
                return Err(err("api_origin", "must not carry credentials"));
            }
            api_origins.push(url.origin());
        }
        let return_to = |field: &str, value: String| -> Result<Callback, OAuthError> {
            if value.starts_with('/') && !value.starts_with("//") {
                return Ok(Callback::Path(value));
            }
            let url = Url::parse(&value).map_err(|_| {
                err(
                    field,
                    "must be an absolute path like `/auth/x/callback` or an absolute URL",
                )
            })?;
            check_scheme(&url).map_err(|why| err(field, why))?;
            Ok(Callback::Absolute(url))
        };
        let callback = return_to("callback", self.callback)?;
        let post_logout = return_to(
            "post_logout_redirect_uri",
            self.post_logout_redirect
                .unwrap_or_else(|| format!("/auth/{name}/logged-out")),
        )?;
        if let Some(name) = &self.client_id_header {
            if awc::http::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(err("client_id_header", "is not a valid header name"));
            }
        }
        let mut root_certificates = Vec::new();
        for pem in &self.root_certificates_pem {
            let parsed = crate::transport::parse_pem_certificates(pem)
                .map_err(|why| err("root_certificate_pem", &why))?;
            root_certificates.extend(parsed);
        }
        Ok(RemoteApp {
            name,
            base_url,
            api_origins,
            userinfo_url,
            emails_url,
            profile_map: self.profile_map,
            client_id_header: self.client_id_header,
            userinfo_method: self.userinfo_method,
            api_headers: self.api_headers,
            profile_from_token_answer: self.profile_from_token_answer,
            credentials,
            callback,
            post_logout,
            protocol,
            root_certificates,
            http: None,
        })
    }
}

/// Provider quirks of the user info endpoint, the API calls and the token answer (presets such as
/// Dropbox, Reddit, Notion and Strava set them).
impl RemoteAppBuilder {
    /// The text written between scopes in the `scope` parameter. Default: a space (RFC 6749
    /// §3.3). For providers that want another (Strava and Reddit: `","`).
    pub fn scope_separator(mut self, separator: impl Into<String>) -> Self {
        self.scope_separator = Some(separator.into());
        self
    }

    /// The HTTP method of the user info request. Default: [`UserinfoMethod::Get`]; Dropbox's
    /// `users/get_current_account` wants [`UserinfoMethod::Post`] (an empty body).
    pub fn userinfo_method(mut self, method: UserinfoMethod) -> Self {
        self.userinfo_method = method;
        self
    }

    /// Sends header `name: value` on every API call, the user info and email list requests
    /// included (Notion's `Notion-Version`, Reddit's descriptive `User-Agent`); setting a name
    /// again replaces its value (names compare case-insensitively), and a header given on one
    /// call wins over it. Checked at build time. Default: none.
    ///
    /// # Security
    /// These headers travel with the token, to the provider's origins only; put no secret here.
    pub fn api_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.api_headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
        self.api_headers.push((name, value.into()));
        self
    }

    /// Whether the token answer's own fields (beside `access_token`, `refresh_token`,
    /// `id_token`, `token_type`, `expires_in` and `scope`, which never are) describe the user too:
    /// Strava's `athlete`, Notion's `owner.user`. They are the lowest-priority source of the
    /// [`Profile`](crate::Profile): the `id_token`'s claims and the user info answer override
    /// them field by field. Default: `false`.
    pub fn profile_from_token_answer(mut self, enabled: bool) -> Self {
        self.profile_from_token_answer = enabled;
        self
    }

    /// Marks a preset that has no shared host: without an issuer or an authorization endpoint,
    /// [`build`](Self::build) says that `setting` (`"Auth0::domain"`) is needed.
    pub(crate) fn requires_host(mut self, setting: &'static str) -> Self {
        self.host_setting = Some(setting);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal() -> RemoteAppBuilder {
        RemoteApp::builder("idp")
            .authorize_url("https://idp.example/authorize")
            .access_token_url("https://idp.example/token")
            .consumer_key("id")
            .consumer_secret("secret")
    }

    #[test]
    fn builds_and_redacts() {
        let app = minimal()
            .base_url("https://api.example/v1")
            .build()
            .unwrap();
        assert!(!app.is_oauth1());
        assert_eq!(app.base_url().as_str(), "https://api.example/v1/");
        assert_eq!(app.callback_path(), "/auth/idp/callback");
        let debug = format!("{app:?}");
        assert!(!debug.contains("secret\""), "{debug}");
        assert!(debug.contains("[redacted]"));
    }

    #[test]
    fn errors_name_the_field() {
        let e = minimal().authorize_url("not a url").build().unwrap_err();
        assert!(e.to_string().contains("`authorize_url`"), "{e}");
        let e = minimal().consumer_secret("").build().unwrap_err();
        assert!(
            e.to_string()
                .contains("`consumer_secret` (the client secret) is required"),
            "{e}"
        );
        let e = minimal()
            .access_token_url("http://idp.example/token")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("https"), "{e}");
        assert!(minimal()
            .access_token_url("http://127.0.0.1:9/token")
            .build()
            .is_ok());
        assert!(minimal().callback("//evil.example/cb").build().is_err());
    }

    #[test]
    fn relative_endpoints_follow_the_base() {
        let app = minimal()
            .base_url("https://api.example/v3")
            .userinfo_url("user")
            .emails_url("/user/emails")
            .build()
            .unwrap();
        assert_eq!(
            app.userinfo_url().unwrap().as_str(),
            "https://api.example/v3/user"
        );
        assert_eq!(
            app.emails_url().unwrap().as_str(),
            "https://api.example/v3/user/emails"
        );
        let e = minimal().emails_url("user/emails").build().unwrap_err();
        assert!(
            e.to_string()
                .contains("`emails_url` (`user/emails`) is relative, but there is no `base_url`"),
            "{e}"
        );
        let e = minimal()
            .base_url("https://api.example/v3/")
            .userinfo_url("../other")
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("leads out of the `base_url`"), "{e}");
        for escape in ["%2e%2e/x", "//evil.example/x/../../y", "a/../../x"] {
            let built = minimal()
                .base_url("https://api.example/v3/")
                .userinfo_url(escape)
                .build();
            if let Ok(app) = built {
                let url = app.userinfo_url().unwrap();
                assert!(
                    url.as_str().starts_with("https://api.example/v3/"),
                    "{escape}: {url}"
                );
            }
        }
    }

    #[test]
    fn quirk_settings_are_checked_and_applied() {
        let app = minimal()
            .scope(["read", "activity:read"])
            .scope_separator(",")
            .build()
            .unwrap();
        assert_eq!(
            app.protocol.oauth2().map(|o| o.scope.clone()),
            Some(vec!["read,activity:read".to_owned()])
        );
        let app = minimal()
            .api_header("Notion-Version", "2021-05-13")
            .api_header("notion-version", "2022-06-28")
            .build()
            .unwrap();
        assert_eq!(
            app.api_headers,
            [("notion-version".to_owned(), "2022-06-28".to_owned())]
        );
        let e = minimal().api_header("Bad Name", "x").build().unwrap_err();
        assert!(e.to_string().contains("`api_header`"), "{e}");
        let hosted = RemoteApp::builder("auth0")
            .consumer_key("id")
            .consumer_secret("secret")
            .requires_host("Auth0::domain");
        let e = hosted.build().unwrap_err();
        assert!(e.to_string().contains("`Auth0::domain`"), "{e}");
    }

    #[test]
    fn nothing_binding_the_code_needs_the_opt_in() {
        let e = minimal().pkce(false).build().unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Configuration);
        assert!(e.to_string().contains("`pkce` is off"), "{e}");
        assert!(
            e.to_string().contains("insecure_allow_code_injection"),
            "{e}"
        );
        assert!(minimal()
            .pkce(false)
            .insecure_allow_code_injection(true)
            .build()
            .is_ok());
        // OAuth 1.0a binds the request token to the session.
        assert!(minimal()
            .request_token_url("https://idp.example/request")
            .pkce(false)
            .build()
            .is_ok());
        #[cfg(feature = "oidc")]
        {
            let oidc = || {
                RemoteApp::builder("idp")
                    .issuer("https://idp.example")
                    .consumer_key("id")
                    .consumer_secret("secret")
                    .pkce(false)
            };
            assert!(oidc().build().is_ok(), "the nonce binds it");
            assert!(oidc().require_nonce(false).build().is_err());
            assert!(oidc().require_nonce(false).pkce(true).build().is_ok());
        }
    }
}
