//! Callbacks that arrive as a POSTed form (`response_mode=form_post`): reading the form, and
//! the page that submits it again from this app's own origin so that the `SameSite=Lax`
//! session cookie comes along (see [`ResponseMode::FormPost`](crate::oauth2::ResponseMode)).

use actix_web::{
    dev::Payload,
    http::header::{self, HeaderValue},
    web::BytesMut,
    HttpMessage as _, HttpRequest, HttpResponse,
};
use futures_util::StreamExt as _;

use crate::{
    callback_query::{CallbackQuery, MAX_CALLBACK_BYTES},
    error::{escape_html, OAuthError},
};

/// The field the relayed form carries, so that it is relayed once only.
pub(crate) const RELAYED: &str = "actix_oauth_relayed";

/// Reads a POSTed callback's form body: `application/x-www-form-urlencoded`, at most
/// [`MAX_CALLBACK_BYTES`], as the query of a `GET` callback is.
pub(crate) async fn read_form(
    req: &HttpRequest,
    payload: &mut Payload,
) -> Result<String, OAuthError> {
    if req.content_type() != "application/x-www-form-urlencoded" {
        return Err(OAuthError::malformed(
            "callback",
            "a POSTed callback must be an application/x-www-form-urlencoded form.",
        ));
    }
    let too_long = || OAuthError::malformed("callback", "its form is too long.");
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_CALLBACK_BYTES) {
        return Err(too_long());
    }
    let mut body = BytesMut::with_capacity(declared.unwrap_or(1024).min(MAX_CALLBACK_BYTES));
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|_| OAuthError::malformed("callback", "its form could not be read."))?;
        if body.len() + chunk.len() > MAX_CALLBACK_BYTES {
            return Err(too_long());
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body.to_vec())
        .map_err(|_| OAuthError::malformed("callback", "its form is not UTF-8."))
}

/// The script of the relay page: submits its one form. Constant, so that the page's
/// `Content-Security-Policy` allows exactly it by hash.
const SCRIPT: &str = "document.forms[0].submit();";

/// The relay page: the callback's parameters as hidden fields of a form POSTed to the same
/// callback, submitted at once by a script (a button when scripts are off). Served from this
/// app's origin, its POST is same-site, so the browser sends the session cookie with it.
///
/// # Security
/// It carries the code the provider just sent to this browser, back to where it was going;
/// `no-store`, no `Referer`, and a policy that allows this script only, no frames, and no form
/// target but this origin.
pub(crate) fn relay_page(req: &HttpRequest, params: &CallbackQuery) -> HttpResponse {
    use std::sync::LazyLock;
    static CSP: LazyLock<String> = LazyLock::new(|| {
        use base64::Engine as _;
        use sha2::Digest as _;
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(SCRIPT));
        format!(
            "default-src 'none'; script-src 'sha256-{hash}'; form-action 'self'; \
             base-uri 'none'; frame-ancestors 'none'"
        )
    });
    let mut fields = String::new();
    for (name, value) in params.0.iter().filter(|(name, _)| name != RELAYED) {
        fields.push_str("<input type=\"hidden\" name=\"");
        fields.push_str(&escape_html(name));
        fields.push_str("\" value=\"");
        fields.push_str(&escape_html(value));
        fields.push_str("\">");
    }
    let action = escape_html(req.uri().path_and_query().map_or("", |p| p.as_str()));
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Signing in…</title></head>\
         <body><form method=\"post\" action=\"{action}\">{fields}\
         <input type=\"hidden\" name=\"{RELAYED}\" value=\"1\">\
         <noscript><p>Your sign-in is nearly done.</p><button type=\"submit\">Continue</button></noscript>\
         </form><script>{SCRIPT}</script></body></html>\n"
    );
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .insert_header(("content-security-policy", CSP.as_str()))
        .content_type("text/html; charset=utf-8")
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_rt::test]
    async fn the_relay_page_reposts_every_field_escaped_once() {
        let req = actix_web::test::TestRequest::post()
            .uri("/auth/apple/callback")
            .to_http_request();
        let params = CallbackQuery::parse(
            "code=c%22%3E%3Cscript%3E&state=s&user=%7B%22name%22%3A1%7D&actix_oauth_relayed=1",
        )
        .unwrap();
        let page = relay_page(&req, &params);
        assert_eq!(
            page.headers().get(header::CACHE_CONTROL).unwrap(),
            "no-store"
        );
        let csp = page
            .headers()
            .get("content-security-policy")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("script-src 'sha256-"), "{csp}");
        let body = actix_web::body::to_bytes(page.into_body()).await.unwrap();
        let body = std::str::from_utf8(&body).unwrap();
        assert!(
            body.contains("name=\"code\" value=\"c&quot;&gt;&lt;script&gt;\""),
            "{body}"
        );
        assert!(
            body.contains("name=\"user\" value=\"{&quot;name&quot;:1}\""),
            "{body}"
        );
        assert_eq!(body.matches(RELAYED).count(), 1, "{body}");
        assert!(body.contains("action=\"/auth/apple/callback\""), "{body}");
        assert!(body.contains(&format!("<script>{SCRIPT}</script>")));
    }
}
