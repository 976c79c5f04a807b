//! The device authorization grant ([RFC 8628]) on [`OAuthExtension`]: plain async functions,
//! usable outside actix-web's request cycle (a command-line tool, a background task).
//!
//! [RFC 8628]: https://www.rfc-editor.org/rfc/rfc8628

use std::{
    future::Future,
    time::{Duration, Instant},
};

use crate::{
    error::{ErrorKind, OAuthError},
    extension::OAuthExtension,
    oauth2::{DeviceAuthorization, DevicePoll},
    remote_app::RemoteApp,
    token::TokenResponse,
};

/// The longest wait between polls after connection failures (RFC 8628 §3.5's backoff).
const MAX_BACKOFF: Duration = Duration::from_secs(60);

impl OAuthExtension {
    /// Starts a device authorization at remote app `provider` ([RFC 8628 §3.1]): the app's
    /// scope, with its client authentication, to the
    /// [`device_authorization_url`](crate::RemoteAppBuilder::device_authorization_url) or the
    /// discovered `device_authorization_endpoint`. Show the user the answer's
    /// [`user_code`](DeviceAuthorization::user_code) and
    /// [`verification_uri`](DeviceAuthorization::verification_uri), then call
    /// [`device_token`](Self::device_token).
    ///
    /// For devices and command-line tools that cannot receive a browser redirect: the user
    /// approves on another device. An OAuth 1.0a app, or one without such an endpoint, is a
    /// [`OAuthError::Configuration`] error.
    ///
    /// ```no_run
    /// # async fn run(oauth: actix_oauth::OAuthExtension) -> Result<(), actix_oauth::OAuthError> {
    /// let authorization = oauth.device_authorization("dev").await?;
    /// println!(
    ///     "Open {} and enter the code {}",
    ///     authorization.verification_uri(),
    ///     authorization.user_code()
    /// );
    /// let token = oauth.device_token("dev", &authorization).await?;
    /// # let _ = token;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// [RFC 8628 §3.1]: https://www.rfc-editor.org/rfc/rfc8628#section-3.1
    pub async fn device_authorization(
        &self,
        provider: &str,
    ) -> Result<DeviceAuthorization, OAuthError> {
        let app = self.remote_app(provider)?;
        app.protocol
            .device_authorization(&app.name, self.http_for(app), &app.credentials)
            .await
    }

    /// Polls the token endpoint once for `authorization` ([RFC 8628 §3.4]), for apps that
    /// drive their own loop: wait [`interval`](DeviceAuthorization::interval) between calls
    /// (it grows by 5 seconds on [`DevicePoll::SlowDown`]) and stop once the authorization
    /// [`is_expired`](DeviceAuthorization::is_expired).
    ///
    /// `expired_token` is [`OAuthError::DeviceExpired`], `access_denied` (the user declined)
    /// [`OAuthError::Denied`]; any other failure is the token endpoint's error. For an OpenID
    /// Connect app the `id_token` is validated as at the end of a browser sign-in.
    ///
    /// # Security
    /// The device code is only sent to the remote app that issued it: an `authorization`
    /// from another remote app is a [`OAuthError::Configuration`] error, and nothing is sent.
    ///
    /// [RFC 8628 §3.4]: https://www.rfc-editor.org/rfc/rfc8628#section-3.4
    pub async fn poll_device_token(
        &self,
        provider: &str,
        authorization: &mut DeviceAuthorization,
    ) -> Result<DevicePoll, OAuthError> {
        let app = self.device_app(provider, authorization)?;
        let poll = app
            .protocol
            .poll_device_token(
                &app.name,
                self.http_for(app),
                &app.credentials,
                authorization,
            )
            .await?;
        if matches!(poll, DevicePoll::SlowDown) {
            authorization.slow_down();
        }
        Ok(poll)
    }

    /// Waits for the user to approve `authorization` and answers its tokens ([RFC 8628 §3.4,
    /// §3.5]): polls every [`interval`](DeviceAuthorization::interval), first after one
    /// interval, 5 seconds slower after each `slow_down`, doubling the wait after a connection
    /// failure or timeout, and gives up with [`OAuthError::DeviceExpired`] when `expires_in`
    /// has passed. The user declining is [`OAuthError::Denied`].
    ///
    /// Waits with the actix (Tokio) timer; drop the future to cancel. See
    /// [`device_token_with`](Self::device_token_with) to wait otherwise.
    ///
    /// [RFC 8628 §3.4, §3.5]: https://www.rfc-editor.org/rfc/rfc8628#section-3.4
    pub async fn device_token(
        &self,
        provider: &str,
        authorization: &DeviceAuthorization,
    ) -> Result<TokenResponse, OAuthError> {
        self.device_token_with(provider, authorization, actix_rt::time::sleep)
            .await
    }

    /// [`device_token`](Self::device_token) with the waiting done by `sleep`, which is called
    /// with each wait before a poll: another runtime's timer, a progress display, or a test's
    /// fake clock.
    pub async fn device_token_with<S, F>(
        &self,
        provider: &str,
        authorization: &DeviceAuthorization,
        mut sleep: S,
    ) -> Result<TokenResponse, OAuthError>
    where
        S: FnMut(Duration) -> F,
        F: Future<Output = ()>,
    {
        self.device_app(provider, authorization)?;
        let mut authorization = authorization.clone();
        loop {
            let remaining = authorization
                .expires_at
                .saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Err(OAuthError::DeviceExpired);
            }
            sleep(authorization.interval.min(remaining)).await;
            if authorization.is_expired() {
                return Err(OAuthError::DeviceExpired);
            }
            match self.poll_device_token(provider, &mut authorization).await {
                Ok(DevicePoll::Complete(token)) => return Ok(*token),
                Ok(DevicePoll::Pending | DevicePoll::SlowDown) => {}
                // RFC 8628 §3.5: back off exponentially when the connection fails.
                Err(err) if matches!(err.kind(), ErrorKind::Transport | ErrorKind::Timeout) => {
                    log::debug!(
                        "actix-oauth: polling `{provider}` for the device token failed ({}); backing off",
                        err.kind()
                    );
                    authorization.interval = authorization
                        .interval
                        .saturating_mul(2)
                        .min(MAX_BACKOFF)
                        .max(authorization.interval);
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// The remote app `provider`, which must be the one that issued `authorization`.
    fn device_app(
        &self,
        provider: &str,
        authorization: &DeviceAuthorization,
    ) -> Result<&RemoteApp, OAuthError> {
        let app = self.remote_app(provider)?;
        if authorization.provider != app.name {
            return Err(OAuthError::config(format!(
                "the device authorization was issued by remote app `{}`, not `{provider}`; its \
                 device code is only sent to its own provider.",
                authorization.provider
            )));
        }
        Ok(app)
    }
}
