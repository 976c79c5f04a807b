//! The tokens a provider issued, whichever the protocol (OAuth 2 token endpoint answers, RFC 6749
//! §5, read the way real providers send them; OAuth 1.0a token credentials keep their secret).

use std::{fmt, time::Duration};

use ::oauth2::{AccessToken, RefreshToken};
use serde_json::{Map, Value};

use crate::{
    dpop::DpopKey,
    error::OAuthError,
    wire::{decode_fields, now_unix, provider_error},
};

/// The tokens a provider issued, read leniently from a token endpoint answer.
///
/// Accepted as real providers send them: a JSON or form-encoded body, status 200 or 201,
/// `expires_in` as a number or a string (Azure), no `token_type` (LinkedIn, Slack: taken as
/// `bearer`). An `error` field in a 200 answer (GitHub) is an [`OAuthError::Provider`].
///
/// # Security
/// `Debug` never shows the access, refresh or ID token.
#[derive(Clone)]
pub struct TokenResponse {
    access_token: AccessToken,
    token_type: String,
    expires_at: Option<u64>,
    refresh_token: Option<RefreshToken>,
    scope: Option<String>,
    id_token: Option<String>,
    id_token_claims: Option<std::sync::Arc<Map<String, Value>>>,
    token_secret: Option<String>,
    extra: Map<String, Value>,
    /// The DPoP key the tokens are bound to (RFC 9449), kept with them.
    dpop_key: Option<DpopKey>,
}

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token)
            .field("scope", &self.scope)
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .field(
                "token_secret",
                &self.token_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .field("dpop_key", &self.dpop_key)
            .finish()
    }
}

impl TokenResponse {
    /// Assembles a token from stored parts (as kept in the session or a database).
    pub fn new(access_token: AccessToken) -> Self {
        Self {
            access_token,
            token_type: "bearer".to_owned(),
            expires_at: None,
            refresh_token: None,
            scope: None,
            id_token: None,
            id_token_claims: None,
            token_secret: None,
            extra: Map::new(),
            dpop_key: None,
        }
    }

    /// The access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// The token type, lower-cased (`"bearer"` when the provider sent none).
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    /// When the access token expires, as seconds since the Unix epoch, if the provider said.
    pub fn expires_at(&self) -> Option<u64> {
        self.expires_at
    }

    /// How long the access token has left, if the provider said when it expires.
    pub fn expires_in(&self) -> Option<Duration> {
        self.expires_at
            .map(|at| Duration::from_secs(at.saturating_sub(now_unix())))
    }

    /// Whether the access token has expired (or will within `leeway`).
    pub fn is_expired(&self, leeway: Duration) -> bool {
        self.expires_at
            .is_some_and(|at| at <= now_unix().saturating_add(leeway.as_secs()))
    }

    /// The refresh token, if one was issued.
    pub fn refresh_token(&self) -> Option<&RefreshToken> {
        self.refresh_token.as_ref()
    }

    /// The granted scope as the provider wrote it, if it did.
    pub fn scope(&self) -> Option<&str> {
        self.scope.as_deref()
    }

    /// The OpenID Connect ID token, unvalidated, if one was issued.
    pub fn id_token(&self) -> Option<&str> {
        self.id_token.as_deref()
    }

    /// The claims of the OpenID Connect ID token, once this crate has validated it at sign-in
    /// (signature, issuer, audience, expiry, nonce). `None` for tokens that carried no ID token,
    /// tokens read back from storage, and refreshed tokens.
    pub fn id_token_claims(&self) -> Option<&Map<String, Value>> {
        self.id_token_claims.as_deref()
    }

    #[cfg(feature = "oidc")]
    pub(crate) fn set_id_token_claims(&mut self, claims: Map<String, Value>) {
        self.id_token_claims = Some(std::sync::Arc::new(claims));
    }

    /// Sets the raw OpenID Connect ID token (as a store kept it; its claims are not restored).
    #[must_use]
    pub fn with_id_token(mut self, id_token: Option<String>) -> Self {
        self.id_token = id_token;
        self.id_token_claims = None;
        self
    }

    /// The OAuth 1.0a token secret (`oauth_token_secret`), for OAuth 1.0a tokens.
    pub fn token_secret(&self) -> Option<&str> {
        self.token_secret.as_deref()
    }

    /// Every other field of the answer (e.g. GitHub's nothing, Slack's `team`), by name.
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// Adds a field to [`extra`](Self::extra) (a callback's JSON parameter).
    pub(crate) fn insert_extra(&mut self, key: String, value: Value) {
        self.extra.insert(key, value);
    }

    /// Sets when the access token expires, in seconds since the Unix epoch (`None`: unknown).
    #[must_use]
    pub fn with_expiry(mut self, expires_at: Option<u64>) -> Self {
        self.expires_at = expires_at;
        self
    }

    /// Sets the refresh token.
    #[must_use]
    pub fn with_refresh_token(mut self, refresh: Option<RefreshToken>) -> Self {
        self.refresh_token = refresh;
        self
    }

    /// Sets the token type (stored lower-cased).
    #[must_use]
    pub fn with_token_type(mut self, token_type: String) -> Self {
        self.token_type = token_type.to_ascii_lowercase();
        self
    }

    /// Sets the OAuth 1.0a token secret.
    #[must_use]
    pub fn with_token_secret(mut self, secret: Option<String>) -> Self {
        self.token_secret = secret;
        self
    }

    /// Sets the other fields of the answer.
    #[must_use]
    pub fn with_extra(mut self, extra: Map<String, Value>) -> Self {
        self.extra = extra;
        self
    }

    /// Sets the granted scope.
    #[must_use]
    pub fn with_scope(mut self, scope: Option<String>) -> Self {
        self.scope = scope;
        self
    }

    /// The DPoP key the tokens are bound to (RFC 9449), for the sign-ins of a remote app with
    /// [`dpop(true)`](crate::RemoteAppBuilder::dpop). A token whose
    /// [`token_type`](Self::token_type) is `dpop` is sent as `Authorization: DPoP` with a proof
    /// signed by it, and refreshed with proofs by it.
    #[cfg(feature = "dpop")]
    pub fn dpop_key(&self) -> Option<&DpopKey> {
        self.dpop_key.as_ref()
    }

    /// Sets the DPoP key (as a store kept it beside the tokens).
    #[cfg(feature = "dpop")]
    #[must_use]
    pub fn with_dpop_key(mut self, key: Option<DpopKey>) -> Self {
        self.dpop_key = key;
        self
    }

    /// The DPoP key, whichever the features (`None` without `dpop`).
    pub(crate) fn dpop(&self) -> Option<&DpopKey> {
        self.dpop_key.as_ref()
    }

    /// Binds the tokens to `key` (the crate's own token requests).
    pub(crate) fn set_dpop(&mut self, key: Option<DpopKey>) {
        self.dpop_key = key;
    }

    /// The same with `key`, whichever the features.
    pub(crate) fn with_dpop(mut self, key: Option<DpopKey>) -> Self {
        self.dpop_key = key;
        self
    }

    /// Whether the provider issued a DPoP-bound token (`token_type` `DPoP`, RFC 9449 §5).
    pub(crate) fn is_dpop(&self) -> bool {
        self.token_type == "dpop"
    }

    /// Reads a token endpoint answer.
    pub(crate) fn from_response(
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Self, OAuthError> {
        let fields = decode_fields(content_type, body);
        if !(200..300).contains(&status) {
            return Err(
                match fields
                    .as_ref()
                    .and_then(|f| provider_error(f, Some(status)))
                {
                    Some(err) => err,
                    None => OAuthError::unexpected_status(status, body),
                },
            );
        }
        let fields = fields.ok_or_else(|| {
            OAuthError::malformed(
                "token response",
                "the body is neither a JSON object nor form-encoded fields",
            )
        })?;
        if let Some(err) = provider_error(&fields, Some(status)) {
            return Err(err);
        }
        Self::from_fields(fields)
    }

    fn from_fields(fields: Map<String, Value>) -> Result<Self, OAuthError> {
        let malformed = |reason: &str| OAuthError::malformed("token response", reason);
        // One pass over the fields, moving each out: cheaper than looking up and removing the
        // RFC 6749 §5.1 fields one by one, and what is left over is the `extra`.
        let [mut access_token, mut token_type, mut expires_in, mut refresh_token, mut id_token, mut scope] =
            [None, None, None, None, None, None];
        let mut extra = Map::new();
        for (key, value) in fields {
            let slot = match key.as_str() {
                "access_token" => &mut access_token,
                "token_type" => &mut token_type,
                "expires_in" => &mut expires_in,
                "refresh_token" => &mut refresh_token,
                "id_token" => &mut id_token,
                "scope" => &mut scope,
                _ => {
                    extra.insert(key, value);
                    continue;
                }
            };
            *slot = Some(value);
        }
        let access_token = match access_token {
            Some(Value::String(token)) if !token.is_empty() => AccessToken::new(token),
            Some(_) => return Err(malformed("`access_token` is not a non-empty string")),
            None => return Err(malformed("it has no `access_token`")),
        };
        let token_type = match token_type {
            Some(Value::String(mut t)) if !t.is_empty() => {
                t.make_ascii_lowercase();
                t
            }
            None | Some(Value::Null) => "bearer".to_owned(),
            Some(Value::String(_)) => "bearer".to_owned(),
            Some(_) => return Err(malformed("`token_type` is not a string")),
        };
        let expires_at = match expires_in {
            None | Some(Value::Null) => None,
            Some(value) => {
                let secs = match &value {
                    Value::Number(n) => n
                        .as_u64()
                        .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
                    Value::String(s) => s.trim().parse::<u64>().ok(),
                    _ => None,
                };
                let secs =
                    secs.ok_or_else(|| malformed("`expires_in` is not a number of seconds"))?;
                Some(now_unix().saturating_add(secs))
            }
        };
        let string = |value: Option<Value>, key: &str| -> Result<Option<String>, OAuthError> {
            match value {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(OAuthError::malformed(
                    "token response",
                    format!("`{key}` is not a string"),
                )),
            }
        };
        let refresh_token = string(refresh_token, "refresh_token")?.map(RefreshToken::new);
        let id_token = string(id_token, "id_token")?;
        let scope = match scope {
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        Ok(Self {
            access_token,
            token_type,
            expires_at,
            refresh_token,
            scope,
            id_token,
            id_token_claims: None,
            token_secret: None,
            extra,
            dpop_key: None,
        })
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::error::ErrorKind;

    fn parse(status: u16, ct: &str, body: &str) -> Result<TokenResponse, OAuthError> {
        TokenResponse::from_response(status, Some(ct), body.as_bytes())
    }

    #[test]
    fn quirks_accepted() {
        let t = parse(
            200,
            "application/json",
            r#"{"access_token":"a","token_type":"Bearer","expires_in":"3600"}"#,
        )
        .unwrap();
        assert_eq!(t.access_token().secret(), "a");
        assert!(t.expires_in().unwrap() > Duration::from_secs(3590));
        let t = parse(
            201,
            "application/x-www-form-urlencoded",
            "access_token=b&scope=repo%2Cuser",
        )
        .unwrap();
        assert_eq!(t.token_type(), "bearer");
        assert_eq!(t.scope(), Some("repo,user"));
        let t = parse(200, "text/plain; charset=utf-8", "access_token=c&expires=5").unwrap();
        assert_eq!(t.extra()["expires"], "5");
    }

    #[test]
    fn errors_recognised() {
        let e = parse(200, "application/json", r#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Provider);
        let e = parse(400, "application/json", r#"{"error":"invalid_grant"}"#).unwrap_err();
        assert!(matches!(
            e,
            OAuthError::Provider {
                status: Some(400),
                ..
            }
        ));
        let e = parse(500, "text/html", "<html>oops</html>").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnexpectedStatus);
        let e = parse(200, "text/html", "<html>hello</html>").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
        let e = parse(200, "application/json", "{\"access_token\": 5}").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
        let e = parse(200, "application/json", "[1,2]").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
        let e = parse(200, "", "hello world").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
        let e = parse(
            200,
            "application/json",
            r#"{"access_token":"a","expires_in":-5}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
    }

    #[test]
    fn debug_redacts() {
        let t = parse(
            200,
            "application/json",
            r#"{"access_token":"sekrit","refresh_token":"rsekrit","id_token":"isekrit"}"#,
        )
        .unwrap();
        let d = format!("{t:?}");
        assert!(!d.contains("sekrit"), "{d}");
    }
}
