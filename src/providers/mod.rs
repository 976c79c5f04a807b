//! Presets for well-known providers. Each is a marker type usable as
//! `AuthorizedResponse<GitHub>` and a preset for [`RemoteApp::from_provider`].
//!
//! [`RemoteApp::from_provider`]: crate::RemoteApp::from_provider

use crate::{
    provider::Provider,
    remote_app::{ClientAuth, RemoteAppBuilder},
};

/// GitHub (OAuth 2). Its token endpoint answers form-encoded unless asked for JSON, and reports
/// errors with status 200; both are handled.
#[derive(Debug)]
pub struct GitHub;

impl Provider for GitHub {
    const NAME: &'static str = "github";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://github.com/login/oauth/authorize")
            .access_token_url("https://github.com/login/oauth/access_token")
            .base_url("https://api.github.com/")
            .userinfo_url("https://api.github.com/user")
            .scope(["read:user", "user:email"])
            .client_auth(ClientAuth::RequestBody)
            .token_request_header("Accept", "application/json")
    }
}

/// Twitter / X (OAuth 1.0a, HMAC-SHA1): the seed's first example. Its callback carries
/// `denied=…` when the user declines.
#[derive(Debug)]
pub struct Twitter;

impl Provider for Twitter {
    const NAME: &'static str = "twitter";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .request_token_url("https://api.twitter.com/oauth/request_token")
            .authorize_url("https://api.twitter.com/oauth/authenticate")
            .access_token_url("https://api.twitter.com/oauth/access_token")
            .base_url("https://api.twitter.com/1.1/")
            .userinfo_url(
                "https://api.twitter.com/1.1/account/verify_credentials.json?include_email=true",
            )
    }
}

/// Google (OAuth 2 with OpenID Connect scopes).
#[derive(Debug)]
pub struct Google;

impl Provider for Google {
    const NAME: &'static str = "google";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://accounts.google.com/o/oauth2/v2/auth")
            .access_token_url("https://oauth2.googleapis.com/token")
            .base_url("https://www.googleapis.com/")
            .userinfo_url("https://openidconnect.googleapis.com/v1/userinfo")
            .scope(["openid", "email", "profile"])
    }
}

/// Facebook (OAuth 2, Graph API). Its token endpoint also answers a `GET`, but the preset
/// `POST`s so the client secret never travels in a URL.
#[derive(Debug)]
pub struct Facebook;

impl Provider for Facebook {
    const NAME: &'static str = "facebook";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .authorize_url("https://www.facebook.com/v19.0/dialog/oauth")
            .access_token_url("https://graph.facebook.com/v19.0/oauth/access_token")
            .base_url("https://graph.facebook.com/v19.0/")
            .userinfo_url("https://graph.facebook.com/v19.0/me?fields=id,name,email,picture")
            .scope(["email", "public_profile"])
            .client_auth(ClientAuth::RequestBody)
    }
}

/// The crate's development provider (see [`dev`](crate::dev)), registered as `"dev"`.
/// Its endpoints come from the running [`DevProvider`](crate::dev::DevProvider).
#[derive(Debug)]
pub struct Dev;

impl Provider for Dev {
    const NAME: &'static str = "dev";
}

/// Whichever remote app the callback path belongs to: for apps whose providers are configured at
/// run time (e.g. from a file), `AuthorizedResponse<Any>` on a route such as
/// `/auth/{provider}/callback` completes the handshake of the remote app whose callback path the
/// request arrived on. [`AuthorizedResponse::provider`](crate::AuthorizedResponse::provider)
/// tells which.
#[derive(Debug)]
pub struct Any;

impl Provider for Any {
    const NAME: &'static str = "";
}

/// A preset as a function, for providers chosen at run time (e.g. from a configuration file).
pub type Preset = fn(RemoteAppBuilder) -> RemoteAppBuilder;

/// The preset named `name` (`"twitter"`, `"github"`, `"google"`, `"facebook"`), if the crate
/// has one.
pub fn by_name(name: &str) -> Option<Preset> {
    Some(match name {
        "twitter" => Twitter::preset,
        "github" => GitHub::preset,
        "google" => Google::preset,
        "facebook" => Facebook::preset,
        _ => return None,
    })
}
