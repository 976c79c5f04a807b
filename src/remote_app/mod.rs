//! [`RemoteApp`]: one provider's endpoints, credentials and quirks, validated when the app is built.

mod builder;

use std::fmt;

use ::oauth2::ClientId;
use url::Url;

pub use self::builder::RemoteAppBuilder;
use crate::{
    credentials::Credentials, profile::ProfileMap, protocol::Protocol, transport::AwcHttpClient,
    urls::is_under,
};

/// Where the provider sends the browser back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Callback {
    /// A path on this app, joined to the public URL (or the request's own origin).
    Path(String),
    /// An absolute URL, used exactly.
    Absolute(Url),
}

impl Callback {
    /// The path the callback arrives on.
    pub(crate) fn path(&self) -> &str {
        match self {
            Self::Path(path) => path,
            Self::Absolute(url) => url.path(),
        }
    }
}

/// One remote application (provider) the app signs users in with: the counterpart of
/// Flask-OAuth's `OAuthRemoteApp`.
///
/// A remote app with a `request_token_url` speaks OAuth 1.0a; without one it speaks OAuth 2.
/// Build it with [`RemoteApp::builder`] (any provider) or [`RemoteApp::from_provider`] (a preset),
/// and register it on the [`OAuth`](crate::OAuth) builder. Every URL is parsed and checked once,
/// when [`OAuth::build`](crate::OAuth::build) runs, so a bad configuration stops the app at start.
///
/// ```
/// use actix_oauth::{ClientAuth, RemoteApp};
///
/// let github = RemoteApp::builder("github")
///     .authorize_url("https://github.com/login/oauth/authorize")
///     .access_token_url("https://github.com/login/oauth/access_token")
///     .base_url("https://api.github.com/")
///     .consumer_key("my-client-id")
///     .consumer_secret("my-client-secret")
///     .scope(["read:user", "user:email"])
///     .client_auth(ClientAuth::RequestBody);
/// ```
pub struct RemoteApp {
    pub(crate) name: String,
    /// Where relative API paths are joined, and the origin (and path) a token may travel to:
    /// the configured `base_url`, or the origin of the issuer, user-info or token endpoint.
    pub(crate) base_url: Url,
    /// Further origins (`scheme://host:port`) API calls may carry the token to.
    pub(crate) api_origins: Vec<url::Origin>,
    /// The configured user info endpoint (an OpenID Connect app may discover one instead).
    pub(crate) userinfo_url: Option<Url>,
    /// Where GitHub-style providers list the user's addresses with `primary` and `verified`.
    pub(crate) emails_url: Option<Url>,
    pub(crate) profile_map: ProfileMap,
    /// API calls carry the client id in this header (Twitch's Helix `Client-Id`).
    pub(crate) client_id_header: Option<String>,
    /// How the user info endpoint is asked (Dropbox: `POST`).
    pub(crate) userinfo_method: crate::credentials::UserinfoMethod,
    /// Headers every API call carries (Notion's `Notion-Version`).
    pub(crate) api_headers: Vec<(String, String)>,
    /// Whether the token answer's extra fields are a (lowest-priority) profile source.
    pub(crate) profile_from_token_answer: bool,
    pub(crate) credentials: Credentials,
    pub(crate) callback: Callback,
    /// Where the provider's logout page returns to (`post_logout_redirect_uri`).
    pub(crate) post_logout: Callback,
    /// The protocol spoken, with its own settings.
    pub(crate) protocol: Protocol,
    /// Certificate authorities (DER) this app trusts beyond the extension's.
    pub(crate) root_certificates: Vec<Vec<u8>>,
    /// The client of this app when it trusts more than the extension's client (set by
    /// [`OAuth::build`](crate::OAuth::build)).
    pub(crate) http: Option<AwcHttpClient>,
}

impl fmt::Debug for RemoteApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteApp")
            .field("name", &self.name)
            .field("protocol", &self.protocol.name())
            .field("authorize_url", &self.authorize_url().map(Url::as_str))
            .field(
                "access_token_url",
                &self.access_token_url().map(Url::as_str),
            )
            .field("base_url", &self.base_url.as_str())
            .field("consumer_key", &self.credentials.id.as_str())
            .field("consumer_secret", &"[redacted]")
            .field("scope", &self.protocol.oauth2().map(|o| &o.scope))
            .finish_non_exhaustive()
    }
}

impl RemoteApp {
    /// The name the app was registered under.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this remote app speaks OAuth 1.0a (it has a request token URL).
    pub fn is_oauth1(&self) -> bool {
        self.protocol.is_oauth1()
    }

    /// The base URL relative API paths are joined to, and under which absolute API URLs must lie:
    /// the configured [`base_url`](RemoteAppBuilder::base_url), or else the origin of the
    /// issuer, the user-info endpoint or the token endpoint (in that order).
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// Whether an API call may carry this remote app's token to `url`: under the
    /// [`base_url`](Self::base_url) (same origin, path below the base path), or on one of the
    /// extra [`api_origin`](RemoteAppBuilder::api_origin)s.
    pub fn allows_api_url(&self, url: &Url) -> bool {
        is_under(&self.base_url, url) || self.api_origins.contains(&url.origin())
    }

    /// The configured authorization endpoint (`None` for an OpenID Connect app that takes it
    /// from discovery).
    pub fn authorize_url(&self) -> Option<&Url> {
        self.protocol.authorize_url()
    }

    /// The configured token endpoint (`None` for an OpenID Connect app that takes it from
    /// discovery).
    pub fn access_token_url(&self) -> Option<&Url> {
        self.protocol.access_token_url()
    }

    /// The configured user info endpoint, if any.
    pub fn userinfo_url(&self) -> Option<&Url> {
        self.userinfo_url.as_ref()
    }

    /// The OAuth 1.0a request token URL (`None` for OAuth 2 apps).
    pub fn request_token_url(&self) -> Option<&Url> {
        self.protocol.request_token_url()
    }

    /// Where the user's email addresses are listed (GitHub's `/user/emails`), if anywhere.
    pub fn emails_url(&self) -> Option<&Url> {
        self.emails_url.as_ref()
    }

    /// The OpenID Connect issuer, for apps configured with one.
    pub fn issuer(&self) -> Option<&str> {
        #[cfg(feature = "oidc")]
        return self.protocol.oidc().map(|o| o.issuer.as_str());
        #[cfg(not(feature = "oidc"))]
        None
    }

    /// Whether this is an OpenID Connect app (it has an issuer).
    pub fn is_oidc(&self) -> bool {
        self.issuer().is_some()
    }

    /// How this app's user descriptions become a [`Profile`](crate::Profile).
    pub fn profile_map(&self) -> &ProfileMap {
        &self.profile_map
    }

    /// The client id (OAuth 2) or consumer key (OAuth 1.0a).
    pub fn consumer_key(&self) -> &ClientId {
        &self.credentials.id
    }

    /// The path on this app the provider redirects back to.
    pub fn callback_path(&self) -> &str {
        self.callback.path()
    }
}
