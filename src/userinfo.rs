//! The signed-in user as the provider describes them: the user-info endpoint, and the
//! normalized [`Profile`] (claims, user info and an email list, through the remote app's
//! `ProfileMap`).

use ::oauth2::http::header;
use serde_json::Value;
use url::Url;

use crate::{
    client::RemoteRequest, credentials::UserinfoMethod, error::OAuthError,
    extension::OAuthExtension, profile::Profile, remote_app::RemoteApp, token::TokenResponse,
};

impl OAuthExtension {
    /// Fetches the remote app's user info endpoint with the token (signed for OAuth 1.0a, as a
    /// bearer token for OAuth 2) and returns its JSON.
    pub async fn userinfo(
        &self,
        provider: &str,
        token: &TokenResponse,
    ) -> Result<Value, OAuthError> {
        let app = self.remote_app(provider)?;
        let url = app
            .protocol
            .userinfo_url(app.userinfo_url.as_ref(), self.http_for(app))
            .await?
            .ok_or_else(|| {
                OAuthError::config(format!("remote app `{provider}` has no `userinfo_url`."))
            })?;
        self.get_json(app, token, &url, USER_INFO).await
    }

    /// The signed-in user's [`Profile`], normalized by the remote app's [`ProfileMap`]: the
    /// claims of the validated `id_token` (OpenID Connect), merged with the user info endpoint's
    /// answer when there is one, and — for providers with an
    /// [`emails_url`](crate::RemoteAppBuilder::emails_url) such as GitHub — the primary verified
    /// address.
    ///
    /// # Errors
    /// [`IdTokenError::Subject`](crate::IdTokenError::Subject) when the user info describes
    /// another subject than the `id_token`; [`OAuthError::Malformed`] when no subject is found;
    /// any transport or provider error of the calls.
    ///
    /// [`ProfileMap`]: crate::ProfileMap
    pub async fn profile(
        &self,
        provider: &str,
        token: &TokenResponse,
    ) -> Result<Profile, OAuthError> {
        let app = self.remote_app(provider)?;
        let userinfo_url = app
            .protocol
            .userinfo_url(app.userinfo_url.as_ref(), self.http_for(app))
            .await?;
        // Lowest priority first: the token answer's own fields (when the app reads them) and the
        // JSON the browser brought (Apple's `user`, under its own name), then the validated
        // `id_token`'s claims over them, then the user info over all.
        let mut data = if app.profile_from_token_answer {
            token.extra().clone()
        } else {
            serde_json::Map::new()
        };
        if let Some(name) = app.protocol.callback_json_param() {
            if let Some(value) = token.extra().get(name) {
                data.insert(name.to_owned(), value.clone());
            }
        }
        if let Some(claims) = token.id_token_claims() {
            data.extend(claims.clone());
        }
        if let Some(url) = &userinfo_url {
            let info = self.get_json(app, token, url, USER_INFO).await?;
            // OpenID Connect Core §5.3.2: the user info must describe the same user. Any other
            // `sub` (a number, null) would replace the validated one below, so only an equal one
            // passes.
            let validated = token.id_token_claims().and_then(|claims| claims.get("sub"));
            if let (Some(sub), Some(info_sub)) = (validated, info.get("sub")) {
                if sub != info_sub {
                    return Err(crate::error::IdTokenError::Subject.into());
                }
            }
            if let Value::Object(info) = info {
                data.extend(info);
            }
        }
        if let Some(url) = &app.emails_url {
            // Without the scope for it (GitHub's `user:email`) the list is refused: the profile
            // then has no verified address, which is safe, rather than no profile at all.
            match self.get_json_any(app, token, url, "email list").await {
                Ok(list) => {
                    if let Some((email, verified)) = primary_email(&list) {
                        data.insert("email".to_owned(), Value::String(email));
                        data.insert("email_verified".to_owned(), Value::Bool(verified));
                    }
                }
                Err(err) => log::debug!(
                    "actix-oauth: the email list of `{provider}` could not be read ({})",
                    err.kind()
                ),
            }
        }
        app.profile_map
            .apply(provider, Value::Object(data))
            .ok_or_else(|| OAuthError::malformed("user info", "it names no subject (user id)."))
    }

    /// The OpenID Connect discovery document of remote app `provider` (fetched once, then
    /// cached): call it at start-up to fail early on a misconfigured issuer.
    #[cfg(feature = "oidc")]
    pub async fn discover(
        &self,
        provider: &str,
    ) -> Result<std::sync::Arc<crate::oidc::ProviderMetadata>, OAuthError> {
        let app = self.remote_app(provider)?;
        let oidc = app.protocol.oidc().ok_or_else(|| {
            OAuthError::config(format!(
                "remote app `{provider}` has no OpenID Connect issuer."
            ))
        })?;
        oidc.metadata(self.http_for(app)).await
    }

    /// GETs `url` with the token and returns its JSON object.
    async fn get_json(
        &self,
        app: &RemoteApp,
        token: &TokenResponse,
        url: &Url,
        what: &'static str,
    ) -> Result<Value, OAuthError> {
        match self.get_json_any(app, token, url, what).await? {
            value @ Value::Object(_) => Ok(value),
            _ => Err(OAuthError::malformed(what, "it is not a JSON object.")),
        }
    }

    /// GETs `url` with the token the way every API call goes ([`RemoteRequest`]: signed for
    /// OAuth 1.0a, bearer for OAuth 2) and returns its JSON.
    async fn get_json_any(
        &self,
        app: &RemoteApp,
        token: &TokenResponse,
        url: &Url,
        what: &'static str,
    ) -> Result<Value, OAuthError> {
        let method = match (what, app.userinfo_method) {
            (USER_INFO, UserinfoMethod::Post) => ::oauth2::http::Method::POST,
            _ => ::oauth2::http::Method::GET,
        };
        let response = RemoteRequest::endpoint(self, &app.name, url, token)
            .with_method(method)
            .header(header::ACCEPT.as_str(), "application/json")
            .send()
            .await?
            .error_for_status()?;
        let status = response.status();
        let value = serde_json::from_slice::<Value>(response.raw_data())
            .map_err(|_| OAuthError::malformed(what, "it is not JSON."))?;
        // Errors with status 200 (Slack's `{"ok": false, "error": "invalid_auth"}`).
        if let Some(err) = value
            .as_object()
            .and_then(|fields| crate::wire::provider_error(fields, Some(status)))
        {
            return Err(err);
        }
        Ok(value)
    }
}

/// What [`OAuthExtension::get_json_any`] fetches when it fetches the user info.
const USER_INFO: &str = "user info";

/// The primary address of an email list and whether it is verified: GitHub's
/// `[{email, primary, verified}]`, or Bitbucket's page `{values: [{email, is_primary,
/// is_confirmed}]}`; `None` when the list marks no primary address.
fn primary_email(list: &Value) -> Option<(String, bool)> {
    let entries = match list.get("values") {
        Some(values) => values.as_array()?,
        None => list.as_array()?,
    };
    let flag = |entry: &Value, github: &str, bitbucket: &str| {
        entry
            .get(github)
            .or_else(|| entry.get(bitbucket))
            .and_then(Value::as_bool)
            == Some(true)
    };
    entries.iter().find_map(|entry| {
        let primary = flag(entry, "primary", "is_primary");
        let email = entry
            .get("email")
            .and_then(Value::as_str)
            .filter(|e| !e.is_empty());
        match (primary, email) {
            (true, Some(email)) => {
                Some((email.to_owned(), flag(entry, "verified", "is_confirmed")))
            }
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_email_of_github_and_bitbucket_lists() {
        let github = serde_json::json!([
            {"email": "a@example.com", "primary": false, "verified": true},
            {"email": "b@example.com", "primary": true, "verified": false}
        ]);
        assert_eq!(
            primary_email(&github),
            Some(("b@example.com".to_owned(), false))
        );
        let bitbucket = serde_json::json!({"pagelen": 10, "values": [
            {"email": "c@example.com", "is_primary": true, "is_confirmed": true}
        ]});
        assert_eq!(
            primary_email(&bitbucket),
            Some(("c@example.com".to_owned(), true))
        );
        assert_eq!(primary_email(&serde_json::json!({"values": "x"})), None);
        assert_eq!(primary_email(&serde_json::json!({})), None);
    }
}
