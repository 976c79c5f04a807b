//! The provider's HTML: the home page, the consent page and error pages.

use std::fmt::Write as _;

use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;

use super::DevUser;

/// Escapes `text` for HTML element content and double- or single-quoted attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML page; `body` must already be escaped.
fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>\n\
         body {{ font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; \
         padding: 0 1rem; color: #222; }}\n\
         h1 {{ font-size: 1.4rem; }}\n\
         fieldset {{ border: 1px solid #ccc; border-radius: 6px; margin: 1rem 0; }}\n\
         label {{ display: block; margin: .4rem 0; }}\n\
         button {{ font-size: 1rem; padding: .4rem 1.2rem; margin-right: .5rem; }}\n\
         code {{ background: #f4f4f4; padding: 0 .2rem; }}\n\
         .error {{ color: #a00; }}\n\
         </style>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        title = escape(title),
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
        ))
        .body(html)
}

/// The authorization response as a form the browser POSTs to the client's redirect URI at once
/// (OAuth 2.0 Form Post Response Mode §2): `params` as hidden fields, submitted by a script
/// allowed by its hash alone, with a button for browsers without scripts.
pub(super) fn form_post(to: &str, params: &[(&str, &str)]) -> HttpResponse {
    use base64::Engine as _;
    use sha2::Digest as _;
    const SCRIPT: &str = "document.forms[0].submit();";
    let mut fields = String::new();
    for (name, value) in params {
        let _ = write!(
            fields,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        );
    }
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Submit this form</title></head>\n\
         <body><form method=\"post\" action=\"{action}\">{fields}\
         <noscript><button type=\"submit\">Continue</button></noscript></form>\n\
         <script>{SCRIPT}</script></body></html>\n",
        action = escape(to),
    );
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(SCRIPT));
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            format!("default-src 'none'; script-src 'sha256-{hash}'; frame-ancestors 'none'"),
        ))
        .body(html)
}

/// A `400 Bad Request` page. Used where redirecting back to the client would be unsafe
/// ([RFC 6749 §4.1.2.1]).
///
/// [RFC 6749 §4.1.2.1]: https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1
pub(super) fn bad_request(message: &str) -> HttpResponse {
    page(
        StatusCode::BAD_REQUEST,
        "Bad authorization request",
        &format!(
            "<h1>Bad authorization request</h1>\n<p class=\"error\">{}</p>",
            escape(message)
        ),
    )
}

/// A page with a heading and one sentence, with `status`.
pub(super) fn message(status: StatusCode, title: &str, text: &str) -> HttpResponse {
    page(
        status,
        title,
        &format!("<h1>{}</h1>\n<p>{}</p>", escape(title), escape(text)),
    )
}

/// What the consent page shows.
pub(super) struct Consent<'a> {
    /// Where the form is posted, such as `/oauth2/authorize`.
    pub(super) action: &'a str,
    pub(super) client_id: &'a str,
    /// Where the user is sent back; `None` for a device authorization (nowhere to go back).
    pub(super) redirect_uri: Option<&'a str>,
    /// `None` where the protocol has no scopes (OAuth 1.0a).
    pub(super) scope: Option<&'a str>,
    pub(super) users: &'a [DevUser],
    /// Carried to the `POST` as hidden inputs.
    pub(super) hidden: Vec<(&'a str, &'a str)>,
}

/// The consent page: pick a user, then approve or deny.
pub(super) fn consent(consent: &Consent<'_>) -> HttpResponse {
    let mut body = String::new();
    let access = match consent.scope {
        Some(scope) => format!("<code>{}</code>", escape(scope)),
        None => "your account".to_owned(),
    };
    let back = match consent.redirect_uri {
        Some(redirect) => format!(
            "You will be sent back to <code>{}</code>.",
            escape(redirect)
        ),
        None => "Approve only if you started this on your own device.".to_owned(),
    };
    let _ = write!(
        body,
        "<h1>Sign in to the development provider</h1>\n\
         <p>The application <code>{client}</code> asks for access to {access}.\n\
         {back}</p>\n\
         <form method=\"post\" action=\"{action}\">\n\
         <fieldset>\n<legend>Sign in to the development provider as …</legend>\n",
        client = escape(consent.client_id),
        action = escape(consent.action),
    );
    for (index, user) in consent.users.iter().enumerate() {
        let _ = writeln!(
            body,
            "<label><input type=\"radio\" name=\"user\" id=\"user-{index}\" value=\"{value}\"{checked}> \
             {name} <small>({email})</small></label>",
            value = escape(&user.username),
            checked = if index == 0 { " checked" } else { "" },
            name = escape(&user.name),
            email = escape(&user.email),
        );
    }
    body.push_str("</fieldset>\n");
    for (name, value) in &consent.hidden {
        let _ = writeln!(
            body,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        );
    }
    body.push_str(
        "<button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\">Approve</button>\n\
         <button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button>\n\
         </form>",
    );
    page(StatusCode::OK, "Sign in to the development provider", &body)
}

/// The device verification page's first step ([RFC 8628 §3.3]): a form asking for the user
/// code shown on the device, with `error` above it when the last code was refused.
///
/// [RFC 8628 §3.3]: https://www.rfc-editor.org/rfc/rfc8628#section-3.3
pub(super) fn device_code_entry(error: Option<&str>) -> HttpResponse {
    let (status, note) = match error {
        Some(error) => (
            StatusCode::BAD_REQUEST,
            format!("<p class=\"error\">{}</p>\n", escape(error)),
        ),
        None => (StatusCode::OK, String::new()),
    };
    page(
        status,
        "Connect a device",
        &format!(
            "<h1>Connect a device</h1>\n{note}\
             <form method=\"get\" action=\"/device\">\n\
             <label>Enter the code shown on your device: \
             <input type=\"text\" name=\"user_code\" id=\"user_code\" autocomplete=\"off\" \
             autofocus></label>\n\
             <button type=\"submit\">Continue</button>\n</form>"
        ),
    )
}

/// The home page, naming the endpoints.
pub(super) async fn home() -> HttpResponse {
    page(
        StatusCode::OK,
        "Development OAuth provider",
        "<h1>Development OAuth provider</h1>\n\
         <p>A strict OAuth 2 authorization server (RFC 6749, PKCE RFC 7636), OpenID Connect \
         provider and OAuth 1.0a provider (RFC 5849) for development and tests.</p>\n\
         <ul>\n\
         <li><code>GET /.well-known/openid-configuration</code> — OpenID Connect discovery</li>\n\
         <li><code>GET /jwks</code> — the <code>id_token</code> signing keys (JWK Set)</li>\n\
         <li><code>GET /oauth2/authorize</code> — authorization endpoint (consent page)</li>\n\
         <li><code>POST /oauth2/token</code> — token endpoint: <code>authorization_code</code>, \
         <code>refresh_token</code>, <code>client_credentials</code>, \
         <code>urn:ietf:params:oauth:grant-type:device_code</code>; an <code>id_token</code> \
         for the scope <code>openid</code></li>\n\
         <li><code>POST /oauth2/device_authorization</code> — device authorization (RFC 8628)</li>\n\
         <li><code>GET /device</code> — enter a device's user code, approve or deny</li>\n\
         <li><code>GET /oauth2/userinfo</code> — the signed-in user, with a bearer token</li>\n\
         <li><code>GET /api/me</code> — the same, as a protected API</li>\n\
         <li><code>POST /oauth1/request_token</code> — OAuth 1.0a temporary credentials</li>\n\
         <li><code>GET /oauth1/authorize</code> — OAuth 1.0a authorization (consent page)</li>\n\
         <li><code>POST /oauth1/access_token</code> — OAuth 1.0a token credentials</li>\n\
         <li><code>GET /oauth1/api/me</code> — the signed-in user, with a signed request</li>\n\
         <li><code>POST /oauth1/api/echo</code> — what a signed request carried</li>\n\
         </ul>",
    )
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_both_quotes() {
        assert_eq!(
            escape(r#"<a href="x" title='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("plain é"), "plain é");
    }
}
