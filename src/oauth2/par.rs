//! Pushed authorization requests ([RFC 9126]): the authorization request's parameters go
//! to the provider's `pushed_authorization_request_endpoint` with the client's authentication,
//! and the browser carries only `client_id` and the `request_uri` the provider answered.
//!
//! Nothing of the request can then be read or changed in the browser (scope, redirect URI,
//! PKCE challenge, `nonce`), the provider knows the client before the user sees anything, and
//! the authorization URL stays short whatever the request holds.
//!
//! [RFC 9126]: https://www.rfc-editor.org/rfc/rfc9126

use ::oauth2::http::{self, header};
use serde_json::Value;
use url::Url;

use super::{client_auth::Destination, push_form_encoded, Settings};
use crate::{
    credentials::Credentials,
    error::OAuthError,
    transport::AwcHttpClient,
    wire::{decode_fields, provider_error},
};

/// Pushes the form-encoded authorization `params` (RFC 9126 §2.1) and answers the URL to send
/// the browser to: `authorize_url` with `client_id` and the `request_uri` (§4).
///
/// # Errors
/// The provider's refusal as [`OAuthError::Provider`] (§2.3, read like a token endpoint's
/// error), any other answer as [`OAuthError::UnexpectedStatus`] or
/// [`OAuthError::Malformed`], and transport failures.
pub(crate) async fn push(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    par_url: &Url,
    token_url: &Url,
    authorize_url: &Url,
    params: &str,
) -> Result<String, OAuthError> {
    let proof = settings.auth.prove(
        credentials,
        Destination {
            endpoint: par_url,
            token_url,
        },
    )?;
    let mut body = String::with_capacity(params.len() + 256);
    body.push_str(params);
    for (key, value) in &proof.form {
        // `client_id` is in the parameters already.
        if *key == "client_id" {
            continue;
        }
        body.push('&');
        body.push_str(key);
        body.push('=');
        push_form_encoded(&mut body, value);
    }
    let request = proof
        .header(http::Request::builder())
        .method(http::Method::POST)
        .uri(par_url.as_str())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT, "application/json")
        .body(body.into_bytes())
        .map_err(|e| OAuthError::config(format!("the pushed request cannot be built: {e}")))?;
    let response = http.send(request).await?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let fields = decode_fields(content_type, response.body());
    if let Some(err) = fields
        .as_ref()
        .and_then(|f| provider_error(f, Some(status)))
    {
        return Err(err);
    }
    if !(200..300).contains(&status) {
        return Err(OAuthError::unexpected_status(status, response.body()));
    }
    let request_uri = fields
        .as_ref()
        .and_then(|f| f.get("request_uri"))
        .and_then(Value::as_str)
        .filter(|uri| !uri.is_empty() && uri.len() <= 2048)
        .ok_or_else(|| {
            OAuthError::malformed(
                "pushed authorization response",
                "it carries no `request_uri`.",
            )
        })?;
    let mut url = String::with_capacity(authorize_url.as_str().len() + request_uri.len() + 96);
    url.push_str(&authorize_url[..url::Position::AfterQuery]);
    match authorize_url.query() {
        Some("") => {}
        Some(_) => url.push('&'),
        None => url.push('?'),
    }
    url.push_str("client_id=");
    url.push_str(&settings.encoded_client_id);
    url.push_str("&request_uri=");
    push_form_encoded(&mut url, request_uri);
    Ok(url)
}
