//! The personalities of the OAuth 2 / OpenID Connect providers the crate has presets for
//! ([`Preset`], served by a [`FakeProvider`]). Each answers the way its provider documents: the
//! same paths, the same client authentication rules, the same token answer (format, status,
//! field types), the same user descriptions, and the same error bodies. Sources are named beside
//! each provider's data.
//!
//! A fake keeps the codes and tokens it issued, checks `redirect_uri`, PKCE (where the provider
//! supports it) and the client credentials, signs `id_token`s with RS256 and publishes the key
//! (`jwt.rs`), and records every request it receives. What a test changes about a provider —
//! its user, its paths, its quirks, a refusal — is [`Settings`]; a fault at any of its endpoints
//! is scripted on the [`FakeProvider`].

use std::{collections::HashMap, sync::Mutex};

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};
use url::{form_urlencoded, Url};

use super::{
    jwt::{at_hash, jwk, sign},
    now, random, Answer, FakeProvider, Personality, Recorded,
};

/// The providers faked here (Twitter's OAuth 1.0a fake is in `twitter.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    GitHub,
    Google,
    Facebook,
    Microsoft,
    GitLab,
    Discord,
    LinkedIn,
    Slack,
    Twitch,
}

impl Kind {
    pub fn is_oidc(self) -> bool {
        matches!(
            self,
            Kind::Google
                | Kind::Microsoft
                | Kind::GitLab
                | Kind::LinkedIn
                | Kind::Slack
                | Kind::Twitch
        )
    }

    /// Client ids in each provider's own format (from their documentation's examples).
    pub fn client_id(self) -> &'static str {
        match self {
            Kind::GitHub => "Iv1.8a61f9b3a7aba766",
            Kind::Google => "1234987819200.apps.googleusercontent.com",
            Kind::Facebook => "1234567890123456",
            Kind::Microsoft => "6731de76-14a6-49ae-97bc-6eba6914391e",
            Kind::GitLab => "5d9a8f7e6c4b3a21f0e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7",
            Kind::Discord => "157730590492196864",
            Kind::LinkedIn => "86i3ebgd0ui4xm",
            Kind::Slack => "2141029472.691202649728",
            Kind::Twitch => "hof5gwx0su6owfnys0yan9c87zr6t",
        }
    }

    pub fn client_secret(self) -> &'static str {
        match self {
            // A secret with characters that Basic authentication must form-encode.
            Kind::Google | Kind::Microsoft | Kind::Discord | Kind::GitLab => "s3cr3t:+/=%&",
            _ => "e1b9e11dfcd19c1982d5de12921e17e8c",
        }
    }

    /// The path the issuer has on the fake (OpenID Connect providers).
    pub fn issuer_path(self) -> &'static str {
        match self {
            Kind::LinkedIn => "/oauth",
            Kind::Twitch => "/oauth2",
            Kind::Microsoft => "/common/v2.0",
            _ => "",
        }
    }
}

/// How a fake behaves beyond its provider's defaults, set by tests.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The user the provider describes, in the provider's own JSON.
    pub user: Value,
    /// GitHub's `/user/emails` list.
    pub emails: Value,
    /// Where the provider serves its endpoints.
    pub paths: Paths,
    /// The token endpoint refuses the code (the provider's own error body).
    pub token_error: bool,
    /// The user info endpoint answers an error (Slack: `{"ok": false}` with status 200).
    pub userinfo_error: bool,
    /// The `iss` the `id_token` carries instead of the issuer.
    pub id_token_issuer: Option<String>,
    /// The `sub` the user info endpoint answers instead of the user's.
    pub userinfo_sub: Option<Value>,
    /// Google's legacy answers: `email_verified` as the string `"true"`.
    pub string_booleans: bool,
    /// Whether `id_token`s carry the authorization request's `nonce` (LinkedIn's do not).
    pub echo_nonce: bool,
    /// The token endpoint refuses a `code_verifier` (LinkedIn web apps: PKCE is for native
    /// apps LinkedIn enabled it for).
    pub refuse_code_verifier: bool,
    /// The token endpoint checks the `code_verifier` against the code's challenge (Slack,
    /// Twitch and LinkedIn without PKCE enabled ignore it).
    pub checks_pkce: bool,
    /// Where the REST API lives on the host (GitHub Enterprise Server: `/api/v3`).
    pub api_prefix: &'static str,
}

/// An authorization the fake granted: what the authorization request asked for.
#[derive(Clone, Debug)]
struct Grant {
    client_id: String,
    redirect_uri: String,
    scope: Vec<String>,
    nonce: Option<String>,
    challenge: Option<String>,
    claims: Option<Value>,
}

impl Grant {
    fn has_scope(&self, scope: &str) -> bool {
        self.scope.iter().any(|s| s == scope)
    }

    /// Twitch: whether a claim was asked for in the `claims` parameter's `member` object.
    fn asked(&self, member: &str, claim: &str) -> bool {
        self.claims
            .as_ref()
            .and_then(|c| c.get(member))
            .and_then(Value::as_object)
            .is_some_and(|m| m.contains_key(claim))
    }
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, Grant>,
    /// Content types of the token endpoint's answers, in order.
    token_answers: Vec<String>,
}

/// The personality of one of the providers faked here: its [`Kind`], the [`Settings`] a test
/// gave it, and what it issued.
pub struct Preset {
    kind: Kind,
    settings: Mutex<Settings>,
    inner: Mutex<Inner>,
}

impl Preset {
    /// `kind` as it documents itself, changed by `tweak`.
    pub fn new(kind: Kind, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings {
            user: default_user(kind),
            emails: json!([
                {"email": "octocat@github.com", "verified": true, "primary": true, "visibility": "public"},
                {"email": "octocat@users.noreply.github.com", "verified": true, "primary": false, "visibility": null}
            ]),
            paths: kind.paths(),
            token_error: false,
            userinfo_error: false,
            id_token_issuer: None,
            userinfo_sub: None,
            string_booleans: false,
            echo_nonce: kind != Kind::LinkedIn,
            refuse_code_verifier: kind == Kind::LinkedIn,
            checks_pkce: !matches!(kind, Kind::Slack | Kind::Twitch | Kind::LinkedIn),
            api_prefix: "",
        };
        tweak(&mut settings);
        Self {
            kind,
            settings: Mutex::new(settings),
            inner: Mutex::default(),
        }
    }
}

impl Personality for Preset {
    fn answer(&self, req: &Recorded, origin: &str) -> Answer {
        handle(
            &State {
                kind: self.kind,
                origin,
                settings: &self.settings,
                inner: &self.inner,
            },
            req,
        )
    }
}

/// A preset's provider, running.
pub type Fake = FakeProvider<Preset>;

impl FakeProvider<Preset> {
    pub fn start(kind: Kind) -> Self {
        Self::start_with(kind, |_| {})
    }

    pub fn start_with(kind: Kind, tweak: impl FnOnce(&mut Settings)) -> Self {
        Self::serve(Preset::new(kind, tweak))
    }

    pub fn kind(&self) -> Kind {
        self.personality().kind
    }

    /// The issuer the fake's `id_token`s and discovery document name.
    pub fn issuer(&self) -> String {
        format!("{}{}", self.origin(), self.kind().issuer_path())
    }

    /// The content types of the token endpoint's answers.
    pub fn token_answers(&self) -> Vec<String> {
        self.personality()
            .inner
            .lock()
            .unwrap()
            .token_answers
            .clone()
    }

    pub fn set(&self, tweak: impl FnOnce(&mut Settings)) {
        tweak(&mut self.personality().settings.lock().unwrap());
    }
}

/// A preset answering one request: what it is, where it runs.
struct State<'a> {
    kind: Kind,
    /// `http://127.0.0.1:PORT`.
    origin: &'a str,
    settings: &'a Mutex<Settings>,
    inner: &'a Mutex<Inner>,
}

fn settings(state: &State) -> Settings {
    state.settings.lock().unwrap().clone()
}

/// The documented sample users.
fn default_user(kind: Kind) -> Value {
    match kind {
        // GitHub REST "Get the authenticated user" example; the public `email` is hidden, as
        // it is for most users: the address comes from `/user/emails`.
        Kind::GitHub => json!({
            "login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=",
            "avatar_url": "https://github.com/images/error/octocat_happy.gif", "gravatar_id": "",
            "url": "https://api.github.com/users/octocat", "html_url": "https://github.com/octocat",
            "type": "User", "site_admin": false, "name": "monalisa octocat", "company": "GitHub",
            "blog": "https://github.com/blog", "location": "San Francisco", "email": null,
            "hireable": false, "bio": "There once was...", "twitter_username": "monatheoctocat",
            "public_repos": 2, "public_gists": 1, "followers": 20, "following": 0,
            "created_at": "2008-01-14T04:33:35Z", "updated_at": "2008-01-14T04:33:35Z"
        }),
        // Google "OpenID Connect" guide, "An ID token's payload" and the userinfo claims.
        Kind::Google => json!({
            "sub": "10769150350006150715113082367", "email": "jsmith@example.com",
            "email_verified": true, "hd": "example.com", "name": "Jane Smith",
            "given_name": "Jane", "family_name": "Smith",
            "picture": "https://lh3.googleusercontent.com/a/ACg8ocJexample=s96-c", "locale": "en"
        }),
        // Graph API `/me?fields=id,name,email,picture` (User reference, ProfilePictureSource).
        Kind::Facebook => json!({
            "id": "10158280837212345", "name": "Alex Example", "email": "alex@example.com",
            "picture": {"data": {"height": 50, "is_silhouette": false, "width": 50,
                "url": "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=10158280837212345&height=50&width=50&ext=1700000000&hash=AeQexample"}}
        }),
        // Microsoft identity platform ID token reference (v2.0 sample): a personal account in
        // the consumer tenant, with an `email` that Microsoft does not verify.
        Kind::Microsoft => json!({
            "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
            "oid": "00000000-0000-0000-66f3-3332eca7ea81",
            "tid": "9188040d-6c67-4c5b-b112-36a304b66dad", "name": "Abe Lincoln",
            "given_name": "Abe", "family_name": "Lincoln",
            "preferred_username": "AbeLi@microsoft.com", "email": "abeli@microsoft.com"
        }),
        // GitLab "GitLab as an OpenID Connect identity provider": shared claims.
        Kind::GitLab => json!({
            "sub": "1", "sub_legacy": "2f3ee25a1a8f6cf3e1c8f5b2f3a4d5e6c7b8a9d0e1f2a3b4c5d6e7f8a9b0c1d2",
            "name": "Administrator", "nickname": "root", "preferred_username": "root",
            "email": "admin@example.com", "email_verified": true, "website": "",
            "profile": "https://gitlab.example.com/root",
            "picture": "https://www.gravatar.com/avatar/258d8dc916db8cea2cafb6c3cd0cb0246efe061421dbd83ec3a350428cabda4f?s=80&d=identicon",
            "groups": ["gitlab-org"], "groups_direct": ["gitlab-org"]
        }),
        // Discord "User Object" example (after the username migration: discriminator "0").
        Kind::Discord => json!({
            "id": "80351110224678912", "username": "nelly", "discriminator": "0",
            "global_name": null, "avatar": "8342729096ea3675442027381ff50dfe", "verified": true,
            "email": "nelly@discord.com", "flags": 64,
            "banner": "06c16474723fe537c283b8efa61a30c8", "accent_color": 16711680,
            "premium_type": 1, "public_flags": 64, "mfa_enabled": false, "locale": "en-US"
        }),
        // "Sign In with LinkedIn using OpenID Connect", response body schema of /v2/userinfo.
        Kind::LinkedIn => json!({
            "sub": "782bbtaQ", "name": "John Doe", "given_name": "John", "family_name": "Doe",
            "picture": "https://media.licdn-ei.com/dms/image/C5F03AQHqK8v7tB1HCQ/profile-displayphoto-shrink_100_100/0/",
            "locale": "en-US", "email": "doe@email.com", "email_verified": true
        }),
        // Slack `openid.connect.userInfo` and "Sign in with Slack" ID token examples.
        Kind::Slack => json!({
            "sub": "U0R7MFMJM", "https://slack.com/user_id": "U0R7MFMJM",
            "https://slack.com/team_id": "T0R7GR", "email": "krane@slack-corp.com",
            "email_verified": true, "date_email_verified": 1_622_128_723, "name": "krane",
            "picture": "https://secure.gravatar.com/avatar/bc.png", "given_name": "Bront",
            "family_name": "Labradoodle", "locale": "en-US",
            "https://slack.com/team_name": "kraneflannel",
            "https://slack.com/team_domain": "kraneflannel",
            "https://slack.com/user_image_24": "https://secure.gravatar.com/avatar/bc_24.png",
            "https://slack.com/team_image_230": "https://secure.gravatar.com/avatar/team_230.png",
            "https://slack.com/team_image_default": true
        }),
        // Twitch "Getting OAuth Access Tokens using OIDC" claims, and Helix "Get Users" example.
        Kind::Twitch => json!({
            "sub": "141981764", "preferred_username": "TwitchDev", "login": "twitchdev",
            "email": "not-real@email.com", "email_verified": true,
            "picture": "https://static-cdn.jtvnw.net/jtv_user_pictures/8a6381c7-d0c0-4576-b179-38bd5ce1d6af-profile_image-300x300.png",
            "updated_at": "2016-12-14T20:32:28Z"
        }),
    }
}

fn pairs(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn json_answer(status: u16, content_type: &str, body: &Value) -> Answer {
    Answer::value(status, content_type, body)
}

const JSON: &str = "application/json; charset=utf-8";

fn handle(state: &State, recorded: &Recorded) -> Answer {
    let kind = state.kind;
    let paths = settings(state).paths;
    let path = recorded.path.as_str();
    if path == paths.authorize
        || (kind == Kind::Microsoft && path.ends_with("/oauth2/v2.0/authorize"))
    {
        return authorize(state, recorded);
    }
    if path == paths.token || (kind == Kind::Microsoft && path.ends_with("/oauth2/v2.0/token")) {
        let answer = token(state, recorded);
        let content_type = answer.content_type.clone();
        state.inner.lock().unwrap().token_answers.push(content_type);
        return answer;
    }
    if kind.is_oidc() && path.ends_with("/.well-known/openid-configuration") {
        return match discovery(state, path) {
            Some(doc) => json_answer(200, JSON, &doc),
            None => Answer::new(404, "", ""),
        };
    }
    if kind.is_oidc() && path == paths.jwks {
        return json_answer(200, JSON, &jwks(state));
    }
    api(state, recorded)
}

/// Where a provider serves its endpoints (`-` where it has none).
#[derive(Clone, Debug)]
pub struct Paths {
    pub authorize: &'static str,
    pub token: &'static str,
    pub jwks: &'static str,
    pub userinfo: &'static str,
}

impl Kind {
    /// The provider's own paths.
    pub fn paths(self) -> Paths {
        let (authorize, token, jwks, userinfo) = match self {
            Kind::GitHub => (
                "/login/oauth/authorize",
                "/login/oauth/access_token",
                "/-",
                "/-",
            ),
            Kind::Google => (
                "/o/oauth2/v2/auth",
                "/token",
                "/oauth2/v3/certs",
                "/v1/userinfo",
            ),
            Kind::Facebook => (
                "/v19.0/dialog/oauth",
                "/v19.0/oauth/access_token",
                "/-",
                "/-",
            ),
            Kind::Microsoft => (
                "/common/oauth2/v2.0/authorize",
                "/common/oauth2/v2.0/token",
                "/common/discovery/v2.0/keys",
                "/oidc/userinfo",
            ),
            Kind::GitLab => (
                "/oauth/authorize",
                "/oauth/token",
                "/oauth/discovery/keys",
                "/oauth/userinfo",
            ),
            Kind::Discord => ("/oauth2/authorize", "/api/oauth2/token", "/-", "/-"),
            Kind::LinkedIn => (
                "/oauth/v2/authorization",
                "/oauth/v2/accessToken",
                "/oauth/openid/jwks",
                "/v2/userinfo",
            ),
            Kind::Slack => (
                "/openid/connect/authorize",
                "/api/openid.connect.token",
                "/openid/connect/keys",
                "/api/openid.connect.userInfo",
            ),
            Kind::Twitch => (
                "/oauth2/authorize",
                "/oauth2/token",
                "/oauth2/keys",
                "/oauth2/userinfo",
            ),
        };
        Paths {
            authorize,
            token,
            jwks,
            userinfo,
        }
    }
}

/// The discovery documents, as each provider publishes them (trimmed to what matters).
fn discovery(state: &State, path: &str) -> Option<Value> {
    let o = state.origin;
    Some(match state.kind {
        // https://accounts.google.com/.well-known/openid-configuration
        Kind::Google if path == "/.well-known/openid-configuration" => json!({
            "issuer": o,
            "authorization_endpoint": format!("{o}/o/oauth2/v2/auth"),
            "device_authorization_endpoint": format!("{o}/device/code"),
            "token_endpoint": format!("{o}/token"),
            "userinfo_endpoint": format!("{o}/v1/userinfo"),
            "revocation_endpoint": format!("{o}/revoke"),
            "jwks_uri": format!("{o}/oauth2/v3/certs"),
            "response_types_supported": ["code", "token", "id_token", "code token", "code id_token", "token id_token", "code token id_token", "none"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "authorization_response_iss_parameter_supported": true,
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "email", "email_verified", "exp", "family_name", "given_name", "iat", "iss", "name", "picture", "sub"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "grant_types_supported": ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code", "urn:ietf:params:oauth:grant-type:jwt-bearer"]
        }),
        // https://login.microsoftonline.com/{common,organizations,consumers}/v2.0/.well-known/…:
        // `common` and `organizations` name a template issuer; `consumers` names the consumer
        // tenant's own issuer (openiddict/openiddict-core#1764).
        Kind::Microsoft => {
            let tenant = path
                .strip_prefix('/')?
                .strip_suffix("/v2.0/.well-known/openid-configuration")?;
            let issuer = match tenant {
                "common" | "organizations" => format!("{o}/{{tenantid}}/v2.0"),
                "consumers" => format!("{o}/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"),
                // A tenant named by its domain: the document names its tenant id's issuer.
                "contoso.onmicrosoft.com" => {
                    format!("{o}/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0")
                }
                _ => return None,
            };
            json!({
                "token_endpoint": format!("{o}/{tenant}/oauth2/v2.0/token"),
                "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
                "jwks_uri": format!("{o}/common/discovery/v2.0/keys"),
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": issuer,
                "request_uri_parameter_supported": false,
                "userinfo_endpoint": format!("{o}/oidc/userinfo"),
                "authorization_endpoint": format!("{o}/{tenant}/oauth2/v2.0/authorize"),
                "device_authorization_endpoint": format!("{o}/{tenant}/oauth2/v2.0/devicecode"),
                "http_logout_supported": true,
                "frontchannel_logout_supported": true,
                "end_session_endpoint": format!("{o}/{tenant}/oauth2/v2.0/logout"),
                "claims_supported": ["sub", "iss", "cloud_instance_name", "cloud_instance_host_name", "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
                "kerberos_endpoint": format!("{o}/{tenant}/kerberos"),
                "tenant_region_scope": null,
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net"
            })
        }
        // https://gitlab.com/.well-known/openid-configuration (Doorkeeper OpenID Connect).
        Kind::GitLab if path == "/.well-known/openid-configuration" => json!({
            "issuer": o,
            "authorization_endpoint": format!("{o}/oauth/authorize"),
            "token_endpoint": format!("{o}/oauth/token"),
            "revocation_endpoint": format!("{o}/oauth/revoke"),
            "introspection_endpoint": format!("{o}/oauth/introspect"),
            "userinfo_endpoint": format!("{o}/oauth/userinfo"),
            "jwks_uri": format!("{o}/oauth/discovery/keys"),
            "scopes_supported": ["api", "read_api", "read_user", "read_repository", "write_repository", "openid", "profile", "email"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query", "fragment", "form_post"],
            "grant_types_supported": ["authorization_code", "password", "client_credentials", "device_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claim_types_supported": ["normal"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "sub_legacy", "name", "nickname", "preferred_username", "email", "email_verified", "website", "profile", "picture", "groups", "groups_direct"],
            "code_challenge_methods_supported": ["plain", "S256"]
        }),
        // https://www.linkedin.com/oauth/.well-known/openid-configuration: no
        // `token_endpoint_auth_methods_supported` (only client_secret_post works).
        Kind::LinkedIn if path == "/oauth/.well-known/openid-configuration" => json!({
            "issuer": format!("{o}/oauth"),
            "authorization_endpoint": format!("{o}/oauth/v2/authorization"),
            "token_endpoint": format!("{o}/oauth/v2/accessToken"),
            "userinfo_endpoint": format!("{o}/v2/userinfo"),
            "jwks_uri": format!("{o}/oauth/openid/jwks"),
            "response_types_supported": ["code"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "claims_supported": ["iss", "aud", "iat", "exp", "sub", "name", "given_name", "family_name", "picture", "email", "email_verified", "locale"]
        }),
        // https://slack.com/.well-known/openid-configuration
        Kind::Slack if path == "/.well-known/openid-configuration" => json!({
            "issuer": o,
            "authorization_endpoint": format!("{o}/openid/connect/authorize"),
            "token_endpoint": format!("{o}/api/openid.connect.token"),
            "userinfo_endpoint": format!("{o}/api/openid.connect.userInfo"),
            "jwks_uri": format!("{o}/openid/connect/keys"),
            "scopes_supported": ["openid", "profile", "email"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["form_post"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "auth_time", "iss"],
            "claims_parameter_supported": false,
            "request_parameter_supported": false,
            "request_uri_parameter_supported": true,
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"]
        }),
        // https://id.twitch.tv/oauth2/.well-known/openid-configuration
        Kind::Twitch if path == "/oauth2/.well-known/openid-configuration" => json!({
            "authorization_endpoint": format!("{o}/oauth2/authorize"),
            "claims_parameter_supported": true,
            "claims_supported": ["email", "email_verified", "picture", "preferred_username", "exp", "iss", "sub", "azp", "aud", "iat", "updated_at"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "issuer": format!("{o}/oauth2"),
            "jwks_uri": format!("{o}/oauth2/keys"),
            "response_types_supported": ["id_token", "code", "token", "code id_token", "token id_token"],
            "scopes_supported": ["openid"],
            "subject_types_supported": ["public"],
            "token_endpoint": format!("{o}/oauth2/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "userinfo_endpoint": format!("{o}/oauth2/userinfo")
        }),
        _ => return None,
    })
}

fn jwks(state: &State) -> Value {
    let kid = super::jwt::signing_key().kid.clone();
    match state.kind {
        // Microsoft's keys carry `x5t` and an `issuer` member (and no `alg`).
        Kind::Microsoft => json!({"keys": [jwk(json!({
            "use": "sig", "x5t": kid,
            "issuer": format!("{}/{{tenantid}}/v2.0", state.origin)
        }))]}),
        _ => json!({"keys": [jwk(json!({"alg": "RS256", "use": "sig"}))]}),
    }
}

/// The authorization endpoint: checks the request, then (the user consenting at once) sends the
/// browser back with a code, as each provider words it.
fn authorize(state: &State, req: &Recorded) -> Answer {
    let kind = state.kind;
    let q = pairs(&req.query);
    let refuse = |why: &str| Answer::new(400, "", format!("fake {kind:?} authorize: {why}"));
    if get(&q, "response_type") != Some("code") {
        return refuse("response_type must be `code`");
    }
    if get(&q, "client_id") != Some(kind.client_id()) {
        return refuse("unknown client_id");
    }
    let Some(redirect_uri) = get(&q, "redirect_uri") else {
        return refuse("no redirect_uri");
    };
    let Some(state_param) = get(&q, "state") else {
        return refuse("no state");
    };
    let scope: Vec<String> = get(&q, "scope")
        .unwrap_or("")
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    if kind.is_oidc() && !scope.iter().any(|s| s == "openid") {
        return refuse("an OpenID Connect request needs the `openid` scope");
    }
    let nonce = get(&q, "nonce").map(str::to_owned);
    if kind == Kind::Microsoft && nonce.is_none() {
        return refuse("Microsoft requires a nonce");
    }
    let challenge = match (get(&q, "code_challenge"), get(&q, "code_challenge_method")) {
        (Some(c), Some("S256")) => Some(c.to_owned()),
        (Some(_), _) => return refuse("only S256 PKCE challenges are expected"),
        (None, _) => None,
    };
    let claims = match get(&q, "claims") {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(value) => Some(value),
            Err(_) => return refuse("`claims` is not JSON"),
        },
        None => None,
    };
    let code = random(40);
    state.inner.lock().unwrap().codes.insert(
        code.clone(),
        Grant {
            client_id: kind.client_id().to_owned(),
            redirect_uri: redirect_uri.to_owned(),
            scope: scope.clone(),
            nonce,
            challenge,
            claims,
        },
    );
    let mut back = match Url::parse(redirect_uri) {
        Ok(url) => url,
        Err(_) => return refuse("redirect_uri is not a URL"),
    };
    {
        let mut query = back.query_pairs_mut();
        match kind {
            // Google adds the granted scopes, `authuser` and `prompt`, and `iss` (RFC 9207).
            Kind::Google => {
                query
                    .append_pair("state", state_param)
                    .append_pair("iss", state.origin)
                    .append_pair("code", &code)
                    .append_pair("scope", &google_scopes(&scope).join(" "))
                    .append_pair("authuser", "0")
                    .append_pair("prompt", "consent");
            }
            // Twitch echoes the scope.
            Kind::Twitch => {
                query
                    .append_pair("code", &code)
                    .append_pair("scope", &scope.join(" "))
                    .append_pair("state", state_param);
            }
            // Microsoft adds `session_state`.
            Kind::Microsoft => {
                query
                    .append_pair("code", &code)
                    .append_pair("state", state_param)
                    .append_pair("session_state", "fe1540c3-a69a-469a-9fa3-8a2470936421");
            }
            _ => {
                query
                    .append_pair("code", &code)
                    .append_pair("state", state_param);
            }
        }
    }
    let mut location = back.to_string();
    if kind == Kind::Facebook {
        // Facebook appends this fragment to its redirects; browsers never send it.
        location.push_str("#_=_");
    }
    Answer::redirect(location)
}

/// The scopes Google reports back: `email` and `profile` as their long names.
fn google_scopes(scope: &[String]) -> Vec<String> {
    scope
        .iter()
        .map(|s| match s.as_str() {
            "email" => "https://www.googleapis.com/auth/userinfo.email".to_owned(),
            "profile" => "https://www.googleapis.com/auth/userinfo.profile".to_owned(),
            other => other.to_owned(),
        })
        .collect()
}

/// Client credentials as sent: HTTP Basic (RFC 6749 §2.3.1, both parts form-encoded) and the body.
struct Credentials {
    basic: Option<(String, String)>,
    body: Option<(String, String)>,
}

fn credentials(req: &Recorded, form: &[(String, String)]) -> Credentials {
    let basic = req
        .headers
        .get("authorization")
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|text| {
            let (id, secret) = text.split_once(':')?;
            let decode = |s: &str| {
                form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
            };
            Some((decode(id)?, decode(secret)?))
        });
    let body = match (get(form, "client_id"), get(form, "client_secret")) {
        (Some(id), Some(secret)) => Some((id.to_owned(), secret.to_owned())),
        (Some(id), None) => Some((id.to_owned(), String::new())),
        _ => None,
    };
    Credentials { basic, body }
}

/// The token endpoint.
fn token(state: &State, req: &Recorded) -> Answer {
    let kind = state.kind;
    let s = settings(state);
    let form_ok = req
        .headers
        .get("content-type")
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    // Facebook's Graph API also takes the parameters in the query of a GET.
    let facebook_get = kind == Kind::Facebook && req.method == "GET";
    if !facebook_get && (req.method != "POST" || !form_ok) {
        return error(
            kind,
            ErrorCase::BadRequest,
            "the token request must be a form POST",
        );
    }
    let form = pairs(if facebook_get { &req.query } else { &req.body });
    let creds = credentials(req, &form);
    let expected = (kind.client_id().to_owned(), kind.client_secret().to_owned());
    // Who accepts what (each provider's documentation of its token endpoint).
    let authenticated = match kind {
        // Parameters only (in the body; Facebook's also in a GET's query).
        Kind::GitHub | Kind::Facebook | Kind::LinkedIn | Kind::Twitch | Kind::Slack => {
            creds.body.as_ref() == Some(&expected)
        }
        // RFC 6749 §2.3.1: Basic or the body, never both.
        Kind::Google | Kind::Microsoft | Kind::GitLab | Kind::Discord => {
            match (&creds.basic, &creds.body) {
                (Some(basic), None) => *basic == expected,
                (None, Some(body)) => *body == expected,
                _ => false,
            }
        }
    };
    if !authenticated {
        let case = if creds.body.is_none() {
            ErrorCase::MissingClient
        } else {
            ErrorCase::BadClient
        };
        return error(kind, case, "client authentication failed");
    }
    if get(&form, "grant_type") != Some("authorization_code") {
        return error(kind, ErrorCase::BadRequest, "unsupported grant_type");
    }
    if s.refuse_code_verifier && get(&form, "code_verifier").is_some() {
        return error(
            kind,
            ErrorCase::BadClient,
            "PKCE is not enabled for this app",
        );
    }
    let grant = get(&form, "code").and_then(|code| state.inner.lock().unwrap().codes.remove(code));
    let Some(grant) = grant.filter(|_| !s.token_error) else {
        return error(kind, ErrorCase::BadCode, "unknown, used or refused code");
    };
    if grant.client_id != kind.client_id()
        || get(&form, "redirect_uri") != Some(&grant.redirect_uri)
    {
        return error(kind, ErrorCase::BadCode, "redirect_uri mismatch");
    }
    // PKCE (RFC 7636) where the provider supports it; Slack and Twitch ignore the parameters.
    if s.checks_pkce {
        if let Some(challenge) = &grant.challenge {
            let verified = get(&form, "code_verifier").is_some_and(|v| {
                URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) == *challenge
            });
            if !verified {
                return error(kind, ErrorCase::BadCode, "PKCE verification failed");
            }
        }
    }
    let access_token = match kind {
        Kind::GitHub => format!("gho_{}", random(36)),
        Kind::Google => format!("ya29.{}", random(60)),
        Kind::Facebook => format!("EAAB{}", random(60)),
        Kind::Slack => format!("xoxp-{}", random(40)),
        Kind::LinkedIn => format!("AQU{}", random(60)),
        _ => random(40),
    };
    state
        .inner
        .lock()
        .unwrap()
        .tokens
        .insert(access_token.clone(), grant.clone());
    let id_token = kind
        .is_oidc()
        .then(|| sign(&id_token_claims(state, &s, &grant, &access_token)));
    token_answer(req, kind, &grant, &access_token, id_token)
}

/// The token answer, in each provider's shape.
fn token_answer(
    req: &Recorded,
    kind: Kind,
    grant: &Grant,
    access_token: &str,
    id_token: Option<String>,
) -> Answer {
    let id_token = id_token.unwrap_or_default();
    match kind {
        // "Authorizing OAuth apps": form-encoded by default, JSON only when asked for.
        Kind::GitHub => {
            let scope = grant.scope.join(",");
            let wants_json = req
                .headers
                .get("accept")
                .is_some_and(|a| a.contains("application/json"));
            if wants_json {
                json_answer(
                    200,
                    JSON,
                    &json!({"access_token": access_token, "token_type": "bearer", "scope": scope}),
                )
            } else {
                Answer::new(
                    200,
                    "application/x-www-form-urlencoded; charset=utf-8",
                    form_urlencoded::Serializer::new(String::new())
                        .append_pair("access_token", access_token)
                        .append_pair("scope", &scope)
                        .append_pair("token_type", "bearer")
                        .finish(),
                )
            }
        }
        Kind::Google => json_answer(
            200,
            JSON,
            &json!({
                "access_token": access_token, "expires_in": 3599,
                "scope": google_scopes(&grant.scope).join(" "), "token_type": "Bearer",
                "id_token": id_token
            }),
        ),
        // Graph API "Manually Build a Login Flow": exchanging code for an access token.
        Kind::Facebook => json_answer(
            200,
            "application/json; charset=UTF-8",
            &json!({"access_token": access_token, "token_type": "bearer", "expires_in": 5_183_944}),
        ),
        Kind::Microsoft => json_answer(
            200,
            JSON,
            &json!({
                "token_type": "Bearer", "scope": "openid email profile https://graph.microsoft.com/User.Read",
                "expires_in": 3599, "ext_expires_in": 3599, "access_token": access_token,
                "id_token": id_token
            }),
        ),
        // GitLab "OAuth 2.0 identity provider API": note `created_at`.
        Kind::GitLab => json_answer(
            200,
            JSON,
            &json!({
                "access_token": access_token, "token_type": "Bearer", "expires_in": 7200,
                "refresh_token": random(64), "scope": grant.scope.join(" "),
                "created_at": now(), "id_token": id_token
            }),
        ),
        // Discord "OAuth2": access token response.
        Kind::Discord => json_answer(
            200,
            "application/json",
            &json!({
                "access_token": access_token, "token_type": "Bearer", "expires_in": 604_800,
                "refresh_token": random(30), "scope": grant.scope.join(" ")
            }),
        ),
        // LinkedIn "Authorization Code Flow" step 3: no `token_type`; scope comma-separated.
        Kind::LinkedIn => json_answer(
            200,
            "application/json",
            &json!({
                "access_token": access_token, "expires_in": 5_184_000,
                "scope": grant.scope.join(","), "id_token": id_token
            }),
        ),
        // Slack `openid.connect.token`: a Web API method, `ok` first.
        Kind::Slack => json_answer(
            200,
            JSON,
            &json!({"ok": true, "access_token": access_token, "token_type": "Bearer", "id_token": id_token}),
        ),
        // Twitch "Getting OAuth Access Tokens using OIDC": `scope` is a JSON array.
        Kind::Twitch => json_answer(
            200,
            "application/json",
            &json!({
                "access_token": access_token, "expires_in": 14124, "id_token": id_token,
                "refresh_token": random(48), "scope": grant.scope, "token_type": "bearer"
            }),
        ),
    }
}

#[derive(Clone, Copy)]
enum ErrorCase {
    BadRequest,
    MissingClient,
    BadClient,
    BadCode,
}

/// Token endpoint errors, each provider's way.
fn error(kind: Kind, case: ErrorCase, why: &str) -> Answer {
    use ErrorCase::*;
    match kind {
        // GitHub: status 200, an `error` field ("Troubleshooting OAuth app access token request
        // errors").
        Kind::GitHub => {
            let (code, description) = match case {
                BadCode => (
                    "bad_verification_code",
                    "The code passed is incorrect or expired.",
                ),
                MissingClient | BadClient => (
                    "incorrect_client_credentials",
                    "The client_id and/or client_secret passed are incorrect.",
                ),
                BadRequest => ("unsupported_grant_type", why),
            };
            json_answer(
                200,
                JSON,
                &json!({
                    "error": code, "error_description": description,
                    "error_uri": format!("https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#{}", code.replace('_', "-"))
                }),
            )
        }
        // Graph API errors: an `error` *object*.
        Kind::Facebook => json_answer(
            400,
            "application/json; charset=UTF-8",
            &json!({"error": {
                "message": match case { BadCode => "This authorization code has been used.", _ => "Error validating client secret." },
                "type": "OAuthException", "code": match case { BadCode => 100, _ => 1 },
                "error_subcode": 36009, "fbtrace_id": "AbCdEfGhIjK"
            }}),
        ),
        // Slack Web API: status 200, `ok: false`.
        Kind::Slack => json_answer(
            200,
            JSON,
            &json!({"ok": false, "error": match case {
                BadCode => "invalid_code", MissingClient => "invalid_client_id",
                BadClient => "bad_client_secret", BadRequest => "invalid_grant_type",
            }}),
        ),
        // Twitch: `{"status", "message"}` bodies.
        Kind::Twitch => {
            let (status, message) = match case {
                MissingClient => (400, "missing client id"),
                BadClient => (403, "invalid client secret"),
                BadCode => (400, "Invalid authorization code"),
                BadRequest => (400, "Invalid request"),
            };
            json_answer(
                status,
                "application/json",
                &json!({"status": status, "message": message}),
            )
        }
        // LinkedIn's words for a code that does not match.
        Kind::LinkedIn => match case {
            BadCode | BadRequest => json_answer(
                400,
                "application/json",
                &json!({"error": "invalid_request", "error_description": "Unable to retrieve access token: appid/redirect uri/code verifier does not match authorization code. Or authorization code expired. Or external member binding exists"}),
            ),
            MissingClient | BadClient => json_answer(
                401,
                "application/json",
                &json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
            ),
        },
        // RFC 6749 §5.2 with each provider's descriptions.
        Kind::Google | Kind::Microsoft | Kind::GitLab | Kind::Discord => {
            let (status, code) = match case {
                BadCode => (400, "invalid_grant"),
                MissingClient | BadClient => (401, "invalid_client"),
                BadRequest => (400, "invalid_request"),
            };
            let mut body = json!({"error": code, "error_description": why});
            if kind == Kind::Microsoft {
                body["error_codes"] = json!([70000]);
                body["trace_id"] = json!("0000aaaa-11bb-cccc-dd22-eeeeee333333");
            }
            json_answer(status, JSON, &body)
        }
    }
}

/// The `id_token` claims: the protocol claims, then what each provider puts in its tokens.
fn id_token_claims(state: &State, s: &Settings, grant: &Grant, access_token: &str) -> Value {
    let kind = state.kind;
    let user = &s.user;
    let now = now();
    let issuer = match kind {
        Kind::Microsoft => format!(
            "{}/{}/v2.0",
            state.origin,
            user["tid"].as_str().unwrap_or_default()
        ),
        _ => format!("{}{}", state.origin, kind.issuer_path()),
    };
    let mut claims = json!({
        "iss": s.id_token_issuer.clone().unwrap_or(issuer),
        "sub": user["sub"],
        "aud": grant.client_id,
        "iat": now,
        "exp": now + 3600,
    });
    let c = claims.as_object_mut().expect("object");
    if s.echo_nonce {
        if let Some(nonce) = &grant.nonce {
            c.insert("nonce".into(), json!(nonce));
        }
    }
    let copy = |c: &mut Map<String, Value>, names: &[&str]| {
        for name in names {
            if let Some(v) = user.get(*name).filter(|v| !v.is_null()) {
                c.insert((*name).to_owned(), v.clone());
            }
        }
    };
    match kind {
        Kind::Google => {
            c.insert("azp".into(), json!(grant.client_id));
            c.insert("at_hash".into(), json!(at_hash(access_token)));
            if grant.has_scope("email") {
                copy(c, &["email", "email_verified", "hd"]);
            }
            if grant.has_scope("profile") {
                copy(
                    c,
                    &["name", "picture", "given_name", "family_name", "locale"],
                );
            }
            if s.string_booleans {
                stringify_booleans(c);
            }
        }
        Kind::Microsoft => {
            c.insert("nbf".into(), json!(now));
            c.insert("ver".into(), json!("2.0"));
            c.insert("aio".into(), json!("Df2UVXL1ix!lMCWMSOJBcFatzcGfvFGhjKv8q5g0x732dR5MB5BisvGQO7YWByjd8iQDLq!eGbIDakyp5mnOrcdqHeYSnltepQmRp6AIZ8jY"));
            c.insert("rh".into(), json!("I"));
            c.insert("uti".into(), json!("lQ8JaoJ7yEKdSLu3-GBCAA"));
            copy(c, &["oid", "tid", "preferred_username", "xms_edov"]);
            if grant.has_scope("profile") {
                copy(c, &["name"]);
            }
            if grant.has_scope("email") {
                copy(c, &["email"]);
            }
        }
        Kind::GitLab => {
            c.insert("auth_time".into(), json!(now));
            copy(
                c,
                &[
                    "sub_legacy",
                    "name",
                    "nickname",
                    "preferred_username",
                    "groups_direct",
                ],
            );
            if grant.has_scope("email") {
                copy(c, &["email", "email_verified"]);
            }
        }
        Kind::LinkedIn => {
            if grant.has_scope("profile") {
                copy(
                    c,
                    &["name", "given_name", "family_name", "picture", "locale"],
                );
            }
            if grant.has_scope("email") {
                copy(c, &["email", "email_verified"]);
            }
        }
        Kind::Slack => {
            c.insert("auth_time".into(), json!(now));
            c.insert("at_hash".into(), json!(at_hash(access_token)));
            copy(
                c,
                &[
                    "https://slack.com/team_id",
                    "https://slack.com/user_id",
                    "locale",
                    "https://slack.com/team_image_230",
                    "https://slack.com/team_image_default",
                ],
            );
            if grant.has_scope("email") {
                copy(c, &["email", "email_verified", "date_email_verified"]);
            }
            if grant.has_scope("profile") {
                copy(c, &["name"]);
                // Slack's ID tokens carry empty given and family names.
                c.insert("given_name".into(), json!(""));
                c.insert("family_name".into(), json!(""));
            }
        }
        Kind::Twitch => {
            c.insert("azp".into(), json!(grant.client_id));
            // Only the claims asked for in the `claims` parameter (OIDC Core §5.5).
            for name in [
                "email",
                "email_verified",
                "picture",
                "preferred_username",
                "updated_at",
            ] {
                let allowed = !name.starts_with("email") || grant.has_scope("user:read:email");
                if allowed && grant.asked("id_token", name) {
                    copy(c, &[name]);
                }
            }
        }
        _ => {}
    }
    claims
}

fn stringify_booleans(c: &mut Map<String, Value>) {
    for value in c.values_mut() {
        if let Value::Bool(b) = value {
            *value = json!(b.to_string());
        }
    }
}

/// The bearer token of an API request, and what it was granted.
fn bearer(state: &State, req: &Recorded) -> Option<Grant> {
    let header = req.headers.get("authorization")?;
    let (scheme, token) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    state.inner.lock().unwrap().tokens.get(token).cloned()
}

/// The providers' APIs: user descriptions, and Twitch's Helix.
fn api(state: &State, req: &Recorded) -> Answer {
    let kind = state.kind;
    let s = settings(state);
    let Some(path) = req.path.strip_prefix(s.api_prefix) else {
        return Answer::new(404, "", format!("fake {kind:?}: no {}", req.path));
    };
    let known = match kind {
        Kind::GitHub => ["/user", "/user/emails"].contains(&path),
        Kind::GitLab => path == s.paths.userinfo || path == "/api/v4/user",
        Kind::Facebook => path == "/v19.0/me",
        Kind::Discord => path == "/api/users/@me",
        Kind::Twitch => path == s.paths.userinfo || path == "/helix/users",
        _ => path == s.paths.userinfo,
    };
    if !known {
        return Answer::new(404, "", format!("fake {kind:?}: no {path}"));
    }
    let grant = bearer(state, req);
    let user = &s.user;
    match kind {
        Kind::GitHub => {
            // GitHub's REST API refuses requests without a User-Agent.
            if !req.headers.contains_key("user-agent") {
                return json_answer(
                    403,
                    JSON,
                    &json!({"message": "Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required)."}),
                );
            }
            let Some(grant) = grant else {
                return json_answer(
                    401,
                    JSON,
                    &json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"}),
                );
            };
            if path == "/user" {
                return json_answer(200, JSON, user);
            }
            if !grant.has_scope("user:email") {
                return json_answer(
                    404,
                    JSON,
                    &json!({"message": "Not Found", "documentation_url": "https://docs.github.com/rest/users/emails#list-email-addresses-for-the-authenticated-user", "status": "404"}),
                );
            }
            json_answer(200, JSON, &s.emails)
        }
        Kind::Facebook => {
            let Some(grant) = grant else {
                return json_answer(
                    400,
                    "application/json; charset=UTF-8",
                    &json!({"error": {"message": "An active access token must be used to query information about the current user.", "type": "OAuthException", "code": 2500, "fbtrace_id": "AbCdEfGhIjK"}}),
                );
            };
            // Without `fields`, the Graph API answers only `id` and `name`.
            let q = pairs(&req.query);
            let fields: Vec<&str> = get(&q, "fields")
                .map(|f| f.split(',').collect())
                .unwrap_or_else(|| vec!["id", "name"]);
            let mut out = Map::new();
            for field in fields {
                if field == "email" && !grant.has_scope("email") {
                    continue;
                }
                if let Some(v) = user.get(field) {
                    out.insert(field.to_owned(), v.clone());
                }
            }
            out.insert("id".into(), user["id"].clone());
            json_answer(200, "application/json; charset=UTF-8", &Value::Object(out))
        }
        Kind::Discord => {
            let Some(grant) = grant else {
                return json_answer(
                    401,
                    "application/json",
                    &json!({"message": "401: Unauthorized", "code": 0}),
                );
            };
            let mut out = user.clone();
            if !grant.has_scope("email") {
                let o = out.as_object_mut().expect("object");
                o.remove("email");
                o.remove("verified");
            }
            json_answer(200, "application/json", &out)
        }
        Kind::Slack => {
            let Some(grant) = grant.filter(|_| !s.userinfo_error) else {
                // Slack's Web API: status 200 and `ok: false`, whatever went wrong.
                return json_answer(200, JSON, &json!({"ok": false, "error": "invalid_auth"}));
            };
            let mut out = Map::new();
            out.insert("ok".into(), json!(true));
            for (k, v) in user.as_object().expect("object") {
                let email = k.starts_with("email") || k == "date_email_verified";
                if email && !grant.has_scope("email") {
                    continue;
                }
                out.insert(k.clone(), v.clone());
            }
            json_answer(200, JSON, &Value::Object(out))
        }
        // GitLab REST "Get the current user" (`GET /api/v4/user`), trimmed.
        Kind::GitLab if path == "/api/v4/user" => {
            if grant.is_none() {
                return json_answer(401, JSON, &json!({"message": "401 Unauthorized"}));
            }
            json_answer(
                200,
                JSON,
                &json!({
                    "id": 1, "username": user["nickname"], "name": user["name"],
                    "state": "active", "email": user["email"]
                }),
            )
        }
        Kind::Twitch if path == "/helix/users" => {
            let Some(grant) = grant else {
                return json_answer(
                    401,
                    "application/json",
                    &json!({"error": "Unauthorized", "status": 401, "message": "Invalid OAuth token"}),
                );
            };
            // Helix wants the client id beside the bearer token.
            if req.headers.get("client-id").map(String::as_str) != Some(kind.client_id()) {
                return json_answer(
                    401,
                    "application/json",
                    &json!({"error": "Unauthorized", "status": 401, "message": "Client ID and OAuth token do not match"}),
                );
            }
            let mut helix = json!({
                "id": user["sub"], "login": user["login"], "display_name": user["preferred_username"],
                "type": "", "broadcaster_type": "partner",
                "description": "Supporting third-party developers building Twitch integrations from chatbots to game integrations.",
                "profile_image_url": user["picture"],
                "offline_image_url": "https://static-cdn.jtvnw.net/jtv_user_pictures/3f13ab61-ec78-4fe6-8481-8682cb3b0ac2-channel_offline_image-1920x1080.png",
                "view_count": 5_980_557, "created_at": "2016-12-14T20:32:28Z"
            });
            if grant.has_scope("user:read:email") {
                helix["email"] = user["email"].clone();
            }
            json_answer(200, "application/json", &json!({"data": [helix]}))
        }
        _ => {
            let Some(grant) = grant else {
                return Answer::new(401, "", "")
                    .with_header("www-authenticate", "Bearer error=\"invalid_token\"");
            };
            json_answer(200, JSON, &userinfo(state, &s, &grant))
        }
    }
}

/// OpenID Connect user info answers.
fn userinfo(state: &State, s: &Settings, grant: &Grant) -> Value {
    let kind = state.kind;
    let user = &s.user;
    let mut out = Map::new();
    let sub = s
        .userinfo_sub
        .clone()
        .unwrap_or_else(|| user["sub"].clone());
    out.insert("sub".into(), sub);
    let copy = |out: &mut Map<String, Value>, names: &[&str]| {
        for name in names {
            if let Some(v) = user.get(*name).filter(|v| !v.is_null()) {
                out.insert((*name).to_owned(), v.clone());
            }
        }
    };
    match kind {
        Kind::Google => {
            if grant.has_scope("profile") {
                copy(
                    &mut out,
                    &["name", "given_name", "family_name", "picture", "locale"],
                );
            }
            if grant.has_scope("email") {
                copy(&mut out, &["email", "email_verified", "hd"]);
            }
            if s.string_booleans {
                stringify_booleans(&mut out);
            }
        }
        // Microsoft Graph's `/oidc/userinfo`: names, picture (a Graph URL), email; no
        // verification flag of any kind.
        Kind::Microsoft => {
            if grant.has_scope("profile") {
                copy(&mut out, &["name", "family_name", "given_name"]);
                out.insert(
                    "picture".into(),
                    json!("https://graph.microsoft.com/v1.0/me/photo/$value"),
                );
            }
            if grant.has_scope("email") {
                copy(&mut out, &["email"]);
            }
        }
        Kind::GitLab => copy(
            &mut out,
            &[
                "sub_legacy",
                "name",
                "nickname",
                "preferred_username",
                "email",
                "email_verified",
                "website",
                "profile",
                "picture",
                "groups",
            ],
        ),
        Kind::LinkedIn => {
            if grant.has_scope("profile") {
                copy(
                    &mut out,
                    &["name", "given_name", "family_name", "picture", "locale"],
                );
            }
            if grant.has_scope("email") {
                copy(&mut out, &["email", "email_verified"]);
            }
        }
        Kind::Twitch => {
            let now = now();
            out.insert("aud".into(), json!(grant.client_id));
            out.insert("exp".into(), json!(now + 3600));
            out.insert("iat".into(), json!(now));
            out.insert("iss".into(), json!(format!("{}/oauth2", state.origin)));
            for name in [
                "email",
                "email_verified",
                "picture",
                "preferred_username",
                "updated_at",
            ] {
                let allowed = !name.starts_with("email") || grant.has_scope("user:read:email");
                if allowed && grant.asked("userinfo", name) {
                    copy(&mut out, &[name]);
                }
            }
        }
        _ => {}
    }
    Value::Object(out)
}
