//! The rules every URL this crate sends a secret to must pass: `https` (plain `http` only to
//! loopback), and staying under a base URL.

use url::Url;

/// `relative` (`user/emails`, a leading `/` ignored) joined under `base`, as API paths are; it
/// must stay under the base (same origin, path below the base path).
pub(crate) fn resolve_under(base: Option<&Url>, relative: &str) -> Result<Url, &'static str> {
    let base = base.ok_or("is relative, but there is no `base_url` to resolve it against")?;
    let url = base
        .join(relative.trim_start_matches('/'))
        .map_err(|_| "cannot be joined to the `base_url`")?;
    if !is_under(base, &url) {
        return Err("is relative but leads out of the `base_url`");
    }
    Ok(url)
}

/// Whether `url` lies under `base`: the same origin, and a path below the base path.
pub(crate) fn is_under(base: &Url, url: &Url) -> bool {
    url.origin() == base.origin() && url.path().starts_with(base.path())
}

/// `https` everywhere; plain `http` only to this machine (development providers and tests).
pub(crate) fn check_scheme(url: &Url) -> Result<(), &'static str> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err("must use https (plain http is accepted only for loopback hosts)"),
        _ => Err("must be an http(s) URL"),
    }
}

/// `scheme://host[:port]/` of `url`.
pub(crate) fn origin_root(url: &Url) -> Option<Url> {
    let origin = url.origin();
    if !origin.is_tuple() {
        return None;
    }
    Url::parse(&format!("{}/", origin.ascii_serialization())).ok()
}

/// Whether a URL's host is `localhost` or a loopback address (an IPv4-mapped one too).
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => std::net::IpAddr::V6(ip).to_canonical().is_loopback(),
        None => false,
    }
}
