//! The device authorization grant ([RFC 8628]) for command-line tools and devices without a
//! browser: the device authorization request (§3.1) with the app's client authentication and
//! scope, its answer (§3.2), and one poll of the token endpoint (§3.4) read as §3.5 says.
//!
//! [RFC 8628]: https://www.rfc-editor.org/rfc/rfc8628

use std::{
    fmt,
    time::{Duration, Instant},
};

use ::oauth2::{
    http::{self, header},
    DeviceCode,
};
use serde_json::{Map, Value};
use url::Url;

use super::{client_auth::Destination, token_request, Settings};
use crate::{
    credentials::Credentials,
    error::OAuthError,
    token::TokenResponse,
    transport::AwcHttpClient,
    wire::{decode_fields, form_fields, media_type, provider_error},
};

/// The grant type of the device access token request ([RFC 8628 §3.4]).
///
/// [RFC 8628 §3.4]: https://www.rfc-editor.org/rfc/rfc8628#section-3.4
pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The polling interval when the provider names none ([RFC 8628 §3.2]: 5 seconds).
///
/// [RFC 8628 §3.2]: https://www.rfc-editor.org/rfc/rfc8628#section-3.2
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);

/// What `slow_down` adds to the interval, for this and every later poll ([RFC 8628 §3.5]).
///
/// [RFC 8628 §3.5]: https://www.rfc-editor.org/rfc/rfc8628#section-3.5
pub(crate) const SLOW_DOWN: Duration = Duration::from_secs(5);

/// The shortest interval polled at, whatever the provider says (an `interval` of 0 would spin).
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// A device authorization in progress ([RFC 8628 §3.2]): show the user the
/// [`user_code`](Self::user_code) and where to enter it, then poll for the token with
/// [`OAuthExtension::device_token`](crate::OAuthExtension::device_token) (or
/// [`poll_device_token`](crate::OAuthExtension::poll_device_token) in a loop of your own).
///
/// # Security
/// The [`device_code`](Self::device_code) is a credential: whoever holds it receives the tokens
/// once the user approves. `Debug` never shows it, and it is only ever sent to the token
/// endpoint of the remote app that issued it. The user code and the verification URIs are meant
/// to be shown.
///
/// [RFC 8628 §3.2]: https://www.rfc-editor.org/rfc/rfc8628#section-3.2
#[derive(Clone)]
pub struct DeviceAuthorization {
    /// The remote app that issued it.
    pub(crate) provider: String,
    device_code: DeviceCode,
    user_code: String,
    verification_uri: Url,
    verification_uri_complete: Option<Url>,
    expires_in: Duration,
    pub(crate) expires_at: Instant,
    pub(crate) interval: Duration,
    extra: Map<String, Value>,
}

impl fmt::Debug for DeviceAuthorization {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceAuthorization")
            .field("provider", &self.provider)
            .field("device_code", &self.device_code)
            .field("user_code", &self.user_code)
            .field("verification_uri", &self.verification_uri.as_str())
            .field(
                "verification_uri_complete",
                &self.verification_uri_complete.as_ref().map(Url::as_str),
            )
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl DeviceAuthorization {
    /// The name of the remote app that issued it.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The device verification code (`device_code`): the secret the token endpoint is polled
    /// with.
    pub fn device_code(&self) -> &DeviceCode {
        &self.device_code
    }

    /// The code the user enters at the [`verification_uri`](Self::verification_uri)
    /// (`user_code`), as the provider wrote it: show it as it is.
    pub fn user_code(&self) -> &str {
        &self.user_code
    }

    /// Where the user goes, on a phone or computer, to enter the user code
    /// (`verification_uri`; Google's `verification_url`).
    pub fn verification_uri(&self) -> &Url {
        &self.verification_uri
    }

    /// The verification URI with the user code in it (`verification_uri_complete`, RFC 8628
    /// §3.3.1), if the provider gave one: fit for a QR code or a link, the user only confirms.
    pub fn verification_uri_complete(&self) -> Option<&Url> {
        self.verification_uri_complete.as_ref()
    }

    /// How long the codes were valid when they were issued (`expires_in`).
    pub fn expires_in(&self) -> Duration {
        self.expires_in
    }

    /// Whether the codes have expired: polling is then pointless.
    pub fn is_expired(&self) -> bool {
        Instant::now() >= self.expires_at
    }

    /// How long to wait between polls (`interval`, 5 seconds when the provider gave none),
    /// raised by 5 seconds on each `slow_down` that
    /// [`poll_device_token`](crate::OAuthExtension::poll_device_token) received (RFC 8628 §3.5).
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Every other field of the answer by name (e.g. Microsoft's `message`).
    pub fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }

    /// Applies a `slow_down` answer: 5 seconds more between polls, from now on.
    pub(crate) fn slow_down(&mut self) {
        self.interval = self.interval.saturating_add(SLOW_DOWN);
    }

    /// Reads a device authorization endpoint answer ([RFC 8628 §3.2], errors as §3.3 and
    /// RFC 6749 §5.2).
    ///
    /// [RFC 8628 §3.2]: https://www.rfc-editor.org/rfc/rfc8628#section-3.2
    pub(crate) fn from_response(
        provider: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Self, OAuthError> {
        const WHAT: &str = "device authorization response";
        // A form-encoded answer (GitHub's, unless asked for JSON) carries no token or error,
        // which is how `decode_fields` tells form bodies from text.
        let fields = decode_fields(content_type, body).or_else(|| {
            (media_type(content_type) == "application/x-www-form-urlencoded")
                .then(|| form_fields(body))
                .flatten()
                .filter(|fields| fields.contains_key("device_code"))
        });
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
        let mut fields = fields.ok_or_else(|| {
            OAuthError::malformed(
                WHAT,
                "the body is neither a JSON object nor form-encoded fields",
            )
        })?;
        if let Some(err) = provider_error(&fields, Some(status)) {
            return Err(err);
        }
        let malformed = |reason: &str| OAuthError::malformed(WHAT, reason);
        let mut text = |name: &str| match fields.remove(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
            None | Some(Value::Null) => Ok(None),
            Some(_) => Err(malformed(&format!("`{name}` is not a non-empty string"))),
        };
        let device_code =
            text("device_code")?.ok_or_else(|| malformed("it has no `device_code`"))?;
        let user_code = text("user_code")?.ok_or_else(|| malformed("it has no `user_code`"))?;
        // Google writes `verification_url`, as drafts of RFC 8628 did.
        let verification_uri = match text("verification_uri")? {
            Some(uri) => Some(uri),
            None => text("verification_url")?,
        }
        .ok_or_else(|| malformed("it has no `verification_uri`"))?;
        let verification_uri = Url::parse(&verification_uri)
            .map_err(|_| malformed("`verification_uri` is not an absolute URL"))?;
        let verification_uri_complete = match text("verification_uri_complete")? {
            Some(uri) => Some(
                Url::parse(&uri)
                    .map_err(|_| malformed("`verification_uri_complete` is not an absolute URL"))?,
            ),
            None => None,
        };
        let expires_in = match fields.remove("expires_in") {
            Some(value) => seconds(&value)
                .filter(|secs| *secs > 0)
                .ok_or_else(|| malformed("`expires_in` is not a positive number of seconds"))?,
            None => return Err(malformed("it has no `expires_in`")),
        };
        let interval = match fields.remove("interval") {
            None | Some(Value::Null) => DEFAULT_INTERVAL,
            Some(value) => Duration::from_secs(
                seconds(&value)
                    .ok_or_else(|| malformed("`interval` is not a number of seconds"))?,
            ),
        }
        .max(MIN_INTERVAL);
        let expires_in = Duration::from_secs(expires_in);
        let expires_at = Instant::now()
            .checked_add(expires_in)
            .ok_or_else(|| malformed("`expires_in` is out of range"))?;
        Ok(Self {
            provider: provider.to_owned(),
            device_code: DeviceCode::new(device_code),
            user_code,
            verification_uri,
            verification_uri_complete,
            expires_in,
            expires_at,
            interval,
            extra: fields,
        })
    }
}

/// A whole number of seconds, written as a JSON number or a string (form-encoded answers).
fn seconds(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What one poll of the token endpoint answered ([RFC 8628 §3.5]), when it is neither a token
/// error nor a refusal (`expired_token` is [`OAuthError::DeviceExpired`], `access_denied`
/// [`OAuthError::Denied`]).
///
/// [RFC 8628 §3.5]: https://www.rfc-editor.org/rfc/rfc8628#section-3.5
#[derive(Debug)]
#[non_exhaustive]
pub enum DevicePoll {
    /// `authorization_pending`: the user has not decided yet; poll again after
    /// [`DeviceAuthorization::interval`].
    Pending,
    /// `slow_down`: the user has not decided yet, and the provider asks for fewer polls; the
    /// authorization's [`interval`](DeviceAuthorization::interval) has been raised by 5 seconds.
    SlowDown,
    /// The user approved: the tokens, with the `id_token` validated for an OpenID Connect app.
    Complete(Box<TokenResponse>),
}

/// The device authorization endpoint: the configured one, else (OpenID Connect) the discovered
/// `device_authorization_endpoint`.
async fn endpoint(
    provider: &str,
    http: &AwcHttpClient,
    settings: &Settings,
) -> Result<Url, OAuthError> {
    if let Some(url) = &settings.device_authorization_url {
        return Ok(url.clone());
    }
    #[cfg(feature = "oidc")]
    if settings.is_oidc() {
        let endpoints = settings.endpoints(http).await?;
        if let Some(url) = endpoints
            .metadata
            .as_ref()
            .and_then(|m| m.device_authorization_endpoint.clone())
        {
            return Ok(url);
        }
    }
    let _ = http;
    Err(OAuthError::config(format!(
        "remote app `{provider}` has no device authorization endpoint: set \
         `device_authorization_url`, or use an issuer whose discovery document names a \
         `device_authorization_endpoint`."
    )))
}

/// The device authorization request ([RFC 8628 §3.1]): the app's scope, with the client
/// authentication of the token endpoint (§3.1: "as described in Section 3.2.1 of RFC 6749").
///
/// [RFC 8628 §3.1]: https://www.rfc-editor.org/rfc/rfc8628#section-3.1
pub(crate) async fn device_authorization(
    provider: &str,
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
) -> Result<DeviceAuthorization, OAuthError> {
    let url = endpoint(provider, http, settings).await?;
    let token_url = &settings.endpoints(http).await?.token_url;
    let proof = settings.auth.prove(
        credentials,
        Destination {
            endpoint: &url,
            token_url,
        },
    )?;
    let scope = settings.scope.join(" ");
    let mut params: Vec<(&str, &str)> = Vec::new();
    if !scope.is_empty() {
        params.push(("scope", &scope));
    }
    params.extend(proof.form.iter().map(|(k, v)| (*k, v.as_str())));
    let mut builder = proof.header(http::Request::builder());
    if !settings
        .token_request_headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("accept"))
    {
        builder = builder.header(header::ACCEPT, "application/json");
    }
    for (name, value) in &settings.token_request_headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    let form = serde_urlencoded::to_string(&params).map_err(|e| {
        OAuthError::config(format!(
            "a device authorization parameter cannot be encoded: {e}"
        ))
    })?;
    let request = builder
        .method(http::Method::POST)
        .uri(url.as_str())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form.into_bytes())
        .map_err(|e| {
            OAuthError::config(format!(
                "the device authorization request cannot be built: {e}"
            ))
        })?;
    let response = http.send(request).await?;
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    DeviceAuthorization::from_response(
        provider,
        response.status().as_u16(),
        content_type,
        response.body(),
    )
}

/// One device access token request ([RFC 8628 §3.4]) and its answer read as §3.5 says; for an
/// OpenID Connect app the `id_token` is validated as at the end of the code flow, without a
/// `nonce` (the device flow sends none).
///
/// [RFC 8628 §3.4]: https://www.rfc-editor.org/rfc/rfc8628#section-3.4
pub(crate) async fn poll_device_token(
    http: &AwcHttpClient,
    credentials: &Credentials,
    settings: &Settings,
    authorization: &DeviceAuthorization,
) -> Result<DevicePoll, OAuthError> {
    let params = vec![
        ("grant_type", DEVICE_CODE_GRANT),
        ("device_code", authorization.device_code.secret().as_str()),
    ];
    // With DPoP, the poll that is answered binds the tokens to its key (kept with them).
    let key = settings
        .dpop
        .then(crate::dpop::DpopKey::generate)
        .transpose()?;
    #[cfg_attr(not(feature = "oidc"), allow(unused_mut))]
    let mut token = match token_request(http, credentials, settings, params, key.as_ref()).await {
        Ok(token) => token,
        Err(OAuthError::Provider { error, .. }) if error == "authorization_pending" => {
            return Ok(DevicePoll::Pending)
        }
        Err(OAuthError::Provider { error, .. }) if error == "slow_down" => {
            return Ok(DevicePoll::SlowDown)
        }
        Err(OAuthError::Provider { error, .. }) if error == "expired_token" => {
            return Err(OAuthError::DeviceExpired)
        }
        Err(OAuthError::Provider { error, .. }) if error == "access_denied" => {
            return Err(OAuthError::Denied)
        }
        Err(err) => return Err(err),
    };
    #[cfg(feature = "oidc")]
    if let Some(oidc) = &settings.oidc {
        let endpoints = settings.endpoints(http).await?;
        if let Some(metadata) = &endpoints.metadata {
            oidc.verify_sign_in(http, metadata, &mut token, credentials.id.as_str(), None)
                .await?;
        }
    }
    Ok(DevicePoll::Complete(Box::new(token)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::DeviceAuthorization;
    use crate::ErrorKind;

    fn parse(status: u16, ct: &str, body: &str) -> Result<DeviceAuthorization, crate::OAuthError> {
        DeviceAuthorization::from_response("dev", status, Some(ct), body.as_bytes())
    }

    /// RFC 8628 §3.2's example answer.
    #[test]
    fn reads_the_rfc_example() {
        let auth = parse(
            200,
            "application/json",
            r#"{
              "device_code": "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
              "user_code": "WDJB-MJHT",
              "verification_uri": "https://example.com/device",
              "verification_uri_complete": "https://example.com/device?user_code=WDJB-MJHT",
              "expires_in": 1800,
              "interval": 5
            }"#,
        )
        .unwrap();
        assert_eq!(
            auth.device_code().secret(),
            "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS"
        );
        assert_eq!(auth.user_code(), "WDJB-MJHT");
        assert_eq!(
            auth.verification_uri().as_str(),
            "https://example.com/device"
        );
        assert_eq!(
            auth.verification_uri_complete().map(url::Url::as_str),
            Some("https://example.com/device?user_code=WDJB-MJHT")
        );
        assert_eq!(auth.expires_in(), Duration::from_secs(1800));
        assert_eq!(auth.interval(), Duration::from_secs(5));
        assert!(!auth.is_expired());
        let debug = format!("{auth:?}");
        assert!(!debug.contains("GmRhmhcxhw"), "{debug}");
        assert!(debug.contains("WDJB-MJHT"), "{debug}");
    }

    #[test]
    fn quirks_and_defaults() {
        // Google: `verification_url`, no `interval`; strings where numbers belong (form-encoded).
        let mut auth = parse(
            200,
            "application/x-www-form-urlencoded",
            "device_code=d&user_code=U&verification_url=https%3A%2F%2Fwww.google.com%2Fdevice&expires_in=1800&message=hi",
        )
        .unwrap();
        assert_eq!(
            auth.verification_uri().as_str(),
            "https://www.google.com/device"
        );
        assert_eq!(auth.interval(), super::DEFAULT_INTERVAL);
        assert_eq!(auth.extra()["message"], "hi");
        auth.slow_down();
        assert_eq!(auth.interval(), Duration::from_secs(10));
        // An interval of 0 would spin.
        let auth = parse(
            200,
            "application/json",
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://x.test/d","expires_in":"60","interval":0}"#,
        )
        .unwrap();
        assert_eq!(auth.interval(), Duration::from_secs(1));
    }

    #[test]
    fn refusals_and_garbage() {
        let err = parse(400, "application/json", r#"{"error":"invalid_client"}"#).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Provider);
        let err = parse(500, "text/html", "<h1>down</h1>").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnexpectedStatus);
        for body in [
            r#"{"user_code":"u","verification_uri":"https://x.test/d","expires_in":60}"#,
            r#"{"device_code":"d","verification_uri":"https://x.test/d","expires_in":60}"#,
            r#"{"device_code":"d","user_code":"u","expires_in":60}"#,
            r#"{"device_code":"d","user_code":"u","verification_uri":"/d","expires_in":60}"#,
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://x.test/d"}"#,
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://x.test/d","expires_in":-1}"#,
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://x.test/d","expires_in":0}"#,
            r#"{"device_code":5,"user_code":"u","verification_uri":"https://x.test/d","expires_in":60}"#,
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://x.test/d","expires_in":60,"interval":"soon"}"#,
            r#"{"device_code":"d","user_code":"u","verification_uri":"https://x.test/d","expires_in":18446744073709551615}"#,
            "[1]",
        ] {
            let err = parse(200, "application/json", body).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Malformed, "{body}: {err}");
        }
    }
}
