//! The [`Microsoft`] preset.

use crate::{
    profile::{EmailVerified, ProfileMap},
    provider::Provider,
    remote_app::RemoteAppBuilder,
    revocation::Revocation,
};

/// Microsoft identity platform (OpenID Connect, v2.0 endpoints), tenant `common` (work, school
/// and personal accounts); [`Microsoft::tenant`] picks another. The `common` discovery document
/// names a template issuer (`…/{tenantid}/v2.0`): each `id_token`'s `iss` is checked against the
/// template filled with its own `tid`. Microsoft's `email` claim is not verified by Microsoft
/// (the "nOAuth" account-takeover class), so only the `xms_edov` ("email domain owner
/// verified") optional claim makes it verified.
#[derive(Debug)]
pub struct Microsoft;

impl Microsoft {
    /// The preset for one tenant: `"common"`, `"organizations"`, `"consumers"`, a tenant id or a
    /// domain such as `"contoso.onmicrosoft.com"`. The issuer is
    /// `https://login.microsoftonline.com/{tenant}/v2.0`, and the endpoints come from its
    /// discovery document, all within the tenant.
    pub fn tenant(builder: RemoteAppBuilder, tenant: &str) -> RemoteAppBuilder {
        // A path segment, whatever it holds (RFC 3986 percent-encoding).
        let tenant = crate::oauth1::percent_encode(tenant.trim());
        builder
            .issuer(format!("https://login.microsoftonline.com/{tenant}/v2.0"))
            .issuer_from_discovery(true)
            // The Microsoft identity platform has no revocation endpoint for clients.
            .revocation(Revocation::None)
            .base_url("https://graph.microsoft.com/v1.0/")
            .scope(["openid", "email", "profile"])
            .profile_map(
                ProfileMap::standard()
                    .username(["/preferred_username"])
                    .email_verified(EmailVerified::Claim(vec!["/xms_edov".into()])),
            )
    }
}

impl Provider for Microsoft {
    const NAME: &'static str = "microsoft";

    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        Self::tenant(builder, "common")
    }
}
