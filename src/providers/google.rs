//! The [`Google`] preset.

use crate::{provider::Provider, remote_app::RemoteAppBuilder};

/// Google (OpenID Connect). Endpoints and keys by discovery from `https://accounts.google.com`;
/// Google documents that `iss` may also read `accounts.google.com`, which is accepted.
#[derive(Debug)]
pub struct Google;

impl Provider for Google {
    const NAME: &'static str = "google";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .issuer("https://accounts.google.com")
            .alternate_issuer("accounts.google.com")
            // Revocation: the discovery document's `https://oauth2.googleapis.com/revoke`.
            .base_url("https://www.googleapis.com/")
            .scope(["openid", "email", "profile"])
    }
}
