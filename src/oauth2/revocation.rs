//! Token revocation requests: RFC 7009 and GitHub's grant deletion.

use ::oauth2::http::{self, header};
use url::Url;

use super::{client_auth::Destination, Settings};
use crate::{
    credentials::Credentials, error::OAuthError, revocation::Revocation, token::TokenResponse,
    transport::AwcHttpClient,
};

/// Where a remote app's tokens are revoked, resolved.
pub(crate) enum Revoker {
    /// An RFC 7009 endpoint.
    Rfc7009(Url),
    /// GitHub's `DELETE …/applications/{client_id}/grant`.
    GitHubGrant(Url),
}

/// Revokes `token` as the app's [`Revocation`] says; `Ok(false)` when there is nothing to call.
pub(crate) async fn revoke(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    base_url: &Url,
    token: &TokenResponse,
) -> Result<bool, OAuthError> {
    let Some(revoker) = resolve(http, credentials, settings, base_url).await? else {
        return Ok(false);
    };
    match revoker {
        Revoker::Rfc7009(url) => {
            let first = match token.refresh_token() {
                Some(refresh) => {
                    rfc7009(
                        http,
                        credentials,
                        settings,
                        &url,
                        refresh.secret(),
                        "refresh_token",
                    )
                    .await?;
                    true
                }
                None => false,
            };
            let access = rfc7009(
                http,
                credentials,
                settings,
                &url,
                token.access_token().secret(),
                "access_token",
            )
            .await;
            match access {
                Ok(()) => {}
                // Revoking the refresh token commonly revokes its access tokens too (RFC 7009
                // §2.1); a provider may then call the access token invalid, or not revoke access
                // tokens at all (`unsupported_token_type`).
                Err(e) if first => log::debug!(
                    "actix-oauth: the access token was not revoked after its refresh token ({})",
                    e.kind()
                ),
                Err(e) => return Err(e),
            }
            Ok(true)
        }
        Revoker::GitHubGrant(url) => {
            github_grant(http, credentials, &url, token.access_token().secret()).await?;
            Ok(true)
        }
    }
}

async fn resolve(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    base_url: &Url,
) -> Result<Option<Revoker>, OAuthError> {
    Ok(match &settings.revocation {
        Revocation::None => None,
        Revocation::Endpoint(_) => settings.revocation_url.clone().map(Revoker::Rfc7009),
        Revocation::GitHubGrant => {
            let mut url = base_url.clone();
            url.path_segments_mut()
                .map_err(|()| OAuthError::config("the base URL cannot have a path."))?
                .pop_if_empty()
                .extend(["applications", credentials.id.as_str(), "grant"]);
            Some(Revoker::GitHubGrant(url))
        }
        Revocation::Discovered => {
            #[cfg(feature = "oidc")]
            if settings.is_oidc() {
                let endpoints = settings.endpoints(http).await?;
                return Ok(endpoints
                    .metadata
                    .as_ref()
                    .and_then(|m| m.revocation_endpoint.clone())
                    .map(Revoker::Rfc7009));
            }
            let _ = http;
            None
        }
    })
}

/// One RFC 7009 §2.1 request: `token` and its type hint, with the client authentication of the
/// token endpoint; 200 is success (§2.2), an error body is the provider's error (§2.2.1).
async fn rfc7009(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    url: &Url,
    token: &str,
    hint: &str,
) -> Result<(), OAuthError> {
    let token_url = &settings.endpoints(http).await?.token_url;
    let proof = settings.auth.prove(
        credentials,
        Destination {
            endpoint: url,
            token_url,
        },
    )?;
    let mut params = vec![("token", token), ("token_type_hint", hint)];
    params.extend(proof.form.iter().map(|(k, v)| (*k, v.as_str())));
    let builder = proof.header(http::Request::builder());
    let form = serde_urlencoded::to_string(&params).map_err(|e| {
        OAuthError::config(format!("a revocation parameter cannot be encoded: {e}"))
    })?;
    let request = builder
        .method(http::Method::POST)
        .uri(url.as_str())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(form.into_bytes())
        .map_err(|e| OAuthError::config(format!("the revocation request cannot be built: {e}")))?;
    let response = http.send(request).await?;
    answer(response.status().as_u16(), response.body())
}

/// GitHub's grant deletion (`DELETE /applications/{client_id}/grant`): 204 is success.
async fn github_grant(
    http: &AwcHttpClient,
    credentials: &Credentials,
    url: &Url,
    access_token: &str,
) -> Result<(), OAuthError> {
    // GitHub's REST API takes the client id and secret as HTTP Basic, whatever the token
    // endpoint takes.
    let builder = http::Request::builder().header(
        header::AUTHORIZATION,
        super::client_auth::basic(credentials.id.as_str(), credentials.secret.secret()),
    );
    let body = serde_json::to_vec(&serde_json::json!({ "access_token": access_token }))
        .map_err(|e| OAuthError::config(format!("the revocation body cannot be encoded: {e}")))?;
    let request = builder
        .method(http::Method::DELETE)
        .uri(url.as_str())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/vnd.github+json")
        .body(body)
        .map_err(|e| OAuthError::config(format!("the revocation request cannot be built: {e}")))?;
    let response = http.send(request).await?;
    answer(response.status().as_u16(), response.body())
}

/// A revocation answer: any 2xx is success; an OAuth error body is the provider's error, any
/// other answer an unexpected status.
fn answer(status: u16, body: &[u8]) -> Result<(), OAuthError> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(body) {
        if let Some(error) = fields.get("error").and_then(|e| e.as_str()) {
            let text = |name: &str| {
                fields
                    .get(name)
                    .and_then(|v| v.as_str())
                    .map(|v| v.chars().take(256).collect())
            };
            return Err(OAuthError::Provider {
                error: error.chars().take(256).collect(),
                description: text("error_description"),
                uri: text("error_uri"),
                status: Some(status),
            });
        }
    }
    Err(OAuthError::unexpected_status(status, body))
}

#[cfg(test)]
mod tests {
    use super::answer;
    use crate::ErrorKind;

    #[test]
    fn answers_are_read_as_rfc7009_says() {
        assert!(answer(200, b"").is_ok());
        assert!(answer(204, b"").is_ok());
        let err = answer(400, br#"{"error":"unsupported_token_type"}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Provider);
        assert!(err.to_string().contains("unsupported_token_type"), "{err}");
        assert_eq!(
            answer(503, b"<html>down</html>").unwrap_err().kind(),
            ErrorKind::UnexpectedStatus
        );
        assert_eq!(
            answer(302, b"").unwrap_err().kind(),
            ErrorKind::UnexpectedStatus
        );
    }
}
