//! The [`Cognito`] preset.

use crate::{profile::ProfileMap, provider::Provider, remote_app::RemoteAppBuilder};

/// Amazon Cognito user pools (OpenID Connect): [`Cognito::user_pool`] names the pool. The issuer
/// is `https://cognito-idp.{region}.amazonaws.com/{pool id}`; its discovery document names the
/// pool's hosted-UI (managed login) domain — a prefix domain
/// `https://PREFIX.auth.{region}.amazoncognito.com` or a custom one — for the authorization,
/// token and user info endpoints, so the domain needs no setting of its own. The handle is
/// `cognito:username`; `email_verified` is a boolean in the `id_token` and the string `"true"`
/// in the user info, both read.
///
/// Cognito has no shared host: the preset alone does not build, the user pool is required.
#[derive(Debug)]
pub struct Cognito;

impl Cognito {
    /// The preset for the user pool `pool`: its id (`"eu-west-1_AbCdEf123"`, whose region is the
    /// part before `_`), or its issuer URL (`"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123"`).
    pub fn user_pool(builder: RemoteAppBuilder, pool: &str) -> RemoteAppBuilder {
        let pool = pool.trim().trim_end_matches('/');
        let issuer = if pool.contains("://") {
            pool.to_owned()
        } else {
            let region = pool.split('_').next().unwrap_or_default();
            // Path and host parts, whatever they hold: a bad pool id fails the build.
            let pool = crate::oauth1::percent_encode(pool);
            format!("https://cognito-idp.{region}.amazonaws.com/{pool}")
        };
        Self::preset(builder).issuer(issuer)
    }
}

impl Provider for Cognito {
    const NAME: &'static str = "cognito";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
            .requires_host("Cognito::user_pool")
            .scope(["openid", "profile", "email"])
            .profile_map(ProfileMap::standard().username([
                "/cognito:username",
                "/username",
                "/preferred_username",
            ]))
    }
}
