//! The [`Provider`] marker trait: how a handler names the provider it expects.

use crate::remote_app::{RemoteApp, RemoteAppBuilder};

/// A provider marker type: names a registered remote app at the type level, and carries its
/// preset (endpoints and quirks).
///
/// The crate ships presets in [`providers`](crate::providers); declaring your own takes two lines:
///
/// ```
/// use actix_oauth::Provider;
///
/// /// Our company's identity provider.
/// pub struct Corp;
/// impl Provider for Corp {
///     const NAME: &'static str = "corp";
/// }
/// ```
///
/// A handler then takes `AuthorizedResponse<Corp>`, and the remote app registered as `"corp"`
/// completes the handshake.
pub trait Provider: 'static {
    /// The name of the remote app this marker stands for.
    const NAME: &'static str;

    /// Fills in the provider's endpoints and quirks. Default: nothing (configure every field).
    fn preset(builder: RemoteAppBuilder) -> RemoteAppBuilder {
        builder
    }
}

impl RemoteApp {
    /// Starts a remote app from a provider's preset (its name, endpoints and quirks), with the
    /// credentials the provider issued to this app. Any preset value can still be overridden.
    pub fn from_provider<P: Provider>(
        consumer_key: impl Into<String>,
        consumer_secret: impl Into<String>,
    ) -> RemoteAppBuilder {
        P::preset(Self::builder(P::NAME))
            .consumer_key(consumer_key)
            .consumer_secret(consumer_secret)
    }
}

/// What an [`AuthorizedResponse`](crate::AuthorizedResponse) completes: the remote app of one
/// [`Provider`] marker (every `Provider` is one), or, with
/// [`providers::Any`](crate::providers::Any), whichever remote app owns the callback path the
/// request arrived on. Sealed: implemented for those only.
pub trait CallbackProvider: sealed::Sealed + 'static {
    /// The remote app's name; `None` for "the one whose callback path this is".
    #[doc(hidden)]
    const REMOTE_APP: Option<&'static str>;
}

impl<P: Provider> CallbackProvider for P {
    const REMOTE_APP: Option<&'static str> = Some(P::NAME);
}

pub(crate) mod sealed {
    /// Keeps [`CallbackProvider`](super::CallbackProvider) to the crate's two kinds: every
    /// [`Provider`](super::Provider), and [`providers::Any`](crate::providers::Any) (whose impl
    /// lives beside it).
    pub trait Sealed {}
    impl<P: super::Provider> Sealed for P {}
}
