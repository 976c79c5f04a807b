//! OpenID Connect Back-Channel Logout 1.0: the provider POSTs a logout token, and every app
//! session of that provider session (`sid`) or user (`sub`) ends — on every instance that shares
//! the token store, with cookie or Redis sessions alike.
//!
//! Sign-in indexes each session's handle under the ID token's `sub` and `sid` in the
//! [`TokenStore`](crate::TokenStore); a logout token deletes those handles' tokens and marks
//! them ended; [`OAuthMiddleware`](crate::OAuthMiddleware) purges a session whose handle was
//! ended on its next request, before the handler runs.

use actix_web::{
    http::header::{HeaderValue, CACHE_CONTROL},
    HttpResponse,
};

use crate::{
    callback_query::CallbackQuery, defaults::LOGOUT_TOKEN_MAX_AGE, error::OAuthError,
    extension::OAuthExtension, oidc::logout_token,
};

/// The most bytes of a back-channel logout request's body read.
const MAX_BODY: usize = 64 * 1024;

impl OAuthExtension {
    /// Answers a back-channel logout request for remote app `provider` ([OpenID Connect
    /// Back-Channel Logout 1.0 §2.5, §2.8]): `body` is the request's form-encoded body with its
    /// `logout_token`. `200 OK` when the token was valid and its sessions ended; `400 Bad
    /// Request` with a JSON error otherwise; always `Cache-Control: no-store`.
    ///
    /// ```no_run
    /// use actix_oauth::OAuthExtension;
    /// use actix_web::{post, web, HttpResponse};
    ///
    /// #[post("/auth/{provider}/backchannel-logout")]
    /// async fn backchannel(oauth: OAuthExtension, provider: web::Path<String>, body: web::Bytes) -> HttpResponse {
    ///     oauth.backchannel_logout(&provider, &body).await
    /// }
    /// ```
    ///
    /// Register `https://your.app/auth/{provider}/backchannel-logout` as the client's
    /// `backchannel_logout_uri` at the provider. The route must not need a session or a CSRF
    /// token: the provider calls it directly.
    ///
    /// [OpenID Connect Back-Channel Logout 1.0 §2.5, §2.8]: https://openid.net/specs/openid-connect-backchannel-1_0.html#BCRequest
    pub async fn backchannel_logout(&self, provider: &str, body: &[u8]) -> HttpResponse {
        let result = match form_token(body) {
            Ok(token) => self.end_sessions_by_logout_token(provider, &token).await,
            Err(e) => Err(e),
        };
        let no_store = (CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match result {
            Ok(ended) => {
                log::info!(
                    "actix-oauth: back-channel logout from `{provider}` ended {ended} session(s)"
                );
                HttpResponse::Ok().insert_header(no_store).finish()
            }
            Err(e) => {
                log::info!(
                    "actix-oauth: a back-channel logout for `{provider}` was refused ({})",
                    e.kind()
                );
                HttpResponse::BadRequest()
                    .insert_header(no_store)
                    .json(serde_json::json!({
                        "error": "invalid_request",
                        "error_description": e.to_string(),
                    }))
            }
        }
    }

    /// Validates `logout_token` from remote app `provider` (signature against its JWKS, `iss`,
    /// `aud`, `iat` at most [`LOGOUT_TOKEN_MAX_AGE`] old, `exp`, the back-channel logout event,
    /// `sid` and/or `sub`, no `nonce`, a `jti` not seen before) and ends the app sessions it
    /// names: those of its `sid`, or without one every session of its `sub`. Returns how many
    /// ended.
    ///
    /// # Errors
    /// The ID token kinds for the signature, `iss`, `aud`, `iat` and `exp`;
    /// [`OAuthError::LogoutToken`] for the logout token's own rules; [`OAuthError::TokenStore`]
    /// when the store fails; [`OAuthError::Configuration`] when `provider` is not an OpenID
    /// Connect app.
    ///
    /// # Security
    /// A `jti` is remembered for [`LOGOUT_TOKEN_MAX_AGE`], in the token store (every instance
    /// sharing it refuses a replay) and in this process.
    pub async fn end_sessions_by_logout_token(
        &self,
        provider: &str,
        logout_token: &str,
    ) -> Result<usize, OAuthError> {
        let app = self.remote_app(provider)?;
        let not_oidc = || {
            OAuthError::config(format!(
                "remote app `{provider}` is not an OpenID Connect app: it has no back-channel logout."
            ))
        };
        let oidc = app.protocol.oidc().ok_or_else(not_oidc)?;
        let settings = app.protocol.oauth2().ok_or_else(not_oidc)?;
        let http = self.http_for(app);
        let endpoints = settings.endpoints(http).await?;
        let metadata = endpoints.metadata.as_ref().ok_or_else(not_oidc)?;
        let claims = logout_token::validate(
            oidc,
            http,
            metadata,
            logout_token,
            app.credentials.id.as_str(),
            LOGOUT_TOKEN_MAX_AGE,
        )
        .await?;
        let remembered = LOGOUT_TOKEN_MAX_AGE.as_secs() + 2 * oidc.clock_skew.as_secs();
        let key = format!("{}\n{}\n{}", app.name, claims.iss, claims.jti);
        if !self
            .use_once(&self.inner.used_logout_tokens, "jti", &key, remembered)
            .await?
        {
            return Err(OAuthError::LogoutToken("its `jti` was already used."));
        }
        self.inner
            .token_store
            .end_sessions(&app.name, claims.sub.as_deref(), claims.sid.as_deref())
            .await
    }
}

/// The `logout_token` of a form-encoded body, present once.
fn form_token(body: &[u8]) -> Result<String, OAuthError> {
    let refused = |why: &'static str| OAuthError::LogoutToken(why);
    if body.len() > MAX_BODY {
        return Err(refused("the request body is too large."));
    }
    let body = std::str::from_utf8(body).map_err(|_| refused("the request body is not UTF-8."))?;
    let form =
        CallbackQuery::parse(body).map_err(|_| refused("the request body is not a form."))?;
    let mut tokens = form.0.iter().filter(|(k, _)| k == "logout_token");
    match (tokens.next(), tokens.next()) {
        (Some((_, token)), None) if !token.is_empty() => Ok(token.clone()),
        (Some(_), Some(_)) => Err(refused(
            "the request carries `logout_token` more than once.",
        )),
        _ => Err(refused("the request carries no `logout_token`.")),
    }
}

#[cfg(test)]
mod tests {
    use super::form_token;

    #[test]
    fn the_form_carries_one_logout_token() {
        assert_eq!(form_token(b"logout_token=a.b.c").unwrap(), "a.b.c");
        for bad in [
            &b""[..],
            b"logout_token=",
            b"other=x",
            b"logout_token=a&logout_token=b",
            b"\xff",
        ] {
            assert!(form_token(bad).is_err(), "{bad:?}");
        }
        assert!(form_token(&vec![b'a'; 70 * 1024]).is_err());
    }
}
