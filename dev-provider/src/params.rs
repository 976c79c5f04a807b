//! Lenient parsing of query strings, form bodies and `Authorization` headers.

/// The parameters of a query string or `application/x-www-form-urlencoded` body.
///
/// Parameters sent without a value are treated as omitted ([RFC 6749 §3.1]).
///
/// [RFC 6749 §3.1]: https://www.rfc-editor.org/rfc/rfc6749#section-3.1
pub(super) struct Params(Vec<(String, String)>);

/// A parameter that must appear at most once appeared several times ([RFC 6749 §3.1]).
///
/// [RFC 6749 §3.1]: https://www.rfc-editor.org/rfc/rfc6749#section-3.1
pub(super) struct Repeated;

impl Params {
    /// Parses `input`; `None` when it is not form-urlencoded.
    pub(super) fn parse(input: &[u8]) -> Option<Self> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(input).ok()?;
        Some(Self(
            pairs
                .into_iter()
                .filter(|(_, value)| !value.is_empty())
                .collect(),
        ))
    }

    /// Parameters already parsed (a pushed request's); empty values count as omitted.
    pub(super) fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(pairs.into_iter().filter(|(_, v)| !v.is_empty()).collect())
    }

    /// The value of `name`: `Ok(None)` when absent, `Err(Repeated)` when given more than once.
    pub(super) fn get(&self, name: &str) -> Result<Option<&str>, Repeated> {
        let mut values = self.0.iter().filter(|(n, _)| n == name);
        let first = values.next();
        if values.next().is_some() {
            return Err(Repeated);
        }
        Ok(first.map(|(_, value)| value.as_str()))
    }

    /// Every parameter, in order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }
}

/// Splits an `Authorization` header value into its scheme, when it is `scheme` (compared
/// without regard to case), and its credentials.
pub(super) fn credentials<'a>(header: &'a str, scheme: &str) -> Option<&'a str> {
    let (given, rest) = header.trim().split_once(' ')?;
    given
        .eq_ignore_ascii_case(scheme)
        .then(|| rest.trim())
        .filter(|credentials| !credentials.is_empty())
}

/// Decodes one `application/x-www-form-urlencoded` component: `+` is a space and `%XX` a byte.
/// `None` for a truncated escape or a result that is not UTF-8.
pub(super) fn form_urldecode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let high = hex_value(bytes.next()?)?;
                let low = hex_value(bytes.next()?)?;
                out.push(high << 4 | low);
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).ok()
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Whether the request's body is `application/x-www-form-urlencoded`.
pub(super) fn is_form(req: &actix_web::HttpRequest) -> bool {
    let content_type = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    content_type
        .and_then(|value| value.split(';').next())
        .is_some_and(|media_type| {
            media_type
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// Reads the parameters of an `Authorization: OAuth …` header ([RFC 5849 §3.5.1]), decoded,
/// without `realm` (which is not signed, §3.4.1.3.1). `None` when it is not an OAuth header or
/// is malformed: a parameter without `=`, a value not in double quotes, a bad `%XX` escape.
///
/// [RFC 5849 §3.5.1]: https://www.rfc-editor.org/rfc/rfc5849#section-3.5.1
pub(super) fn oauth_header(value: &str) -> Option<Vec<(String, String)>> {
    let rest = value.trim_start();
    let (scheme, rest) = rest.split_at(rest.find(' ').unwrap_or(rest.len()));
    if !scheme.eq_ignore_ascii_case("OAuth") {
        return None;
    }
    let mut out = Vec::new();
    for part in rest
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let (name, value) = part.split_once('=')?;
        let value = value.trim().strip_prefix('"')?.strip_suffix('"')?;
        let name = percent_decode(name.trim())?;
        if name != "realm" {
            out.push((name, percent_decode(value)?));
        }
    }
    Some(out)
}

/// Decodes `%XX` escapes (RFC 3986, `+` stays `+`). `None` for a bad escape or a result that is
/// not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(byte) = bytes.next() {
        if byte == b'%' {
            let high = hex_value(bytes.next()?)?;
            let low = hex_value(bytes.next()?)?;
            out.push(high << 4 | low);
        } else {
            out.push(byte);
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_urldecode_handles_plus_and_escapes() {
        assert_eq!(
            form_urldecode("a%3Ab%2Bc%25+d").as_deref(),
            Some("a:b+c% d")
        );
        assert_eq!(form_urldecode("%e2%9c%93").as_deref(), Some("\u{2713}"));
        assert_eq!(form_urldecode("bad%4"), None);
        assert_eq!(form_urldecode("bad%zz"), None);
        assert_eq!(form_urldecode("%ff"), None);
    }

    #[test]
    fn empty_values_are_omitted_and_repeats_detected() {
        let params = Params::parse(b"a=1&b=&c=2&c=3").expect("form-urlencoded");
        assert_eq!(params.get("a").ok().flatten(), Some("1"));
        assert_eq!(params.get("b").ok().flatten(), None);
        assert!(params.get("c").is_err());
    }

    #[test]
    fn credentials_match_the_scheme_without_case() {
        assert_eq!(credentials("bearer abc", "Bearer"), Some("abc"));
        assert_eq!(credentials("Basic abc", "Bearer"), None);
        assert_eq!(credentials("Bearer ", "Bearer"), None);
    }

    #[test]
    fn oauth_headers_decode_and_drop_realm() {
        // The header our consumer sends (the library's `authorization_header` output).
        let parsed =
            oauth_header("OAuth oauth_consumer_key=\"k%20y\", oauth_signature=\"a%2Bb%2Fc%3D\"")
                .expect("an OAuth header");
        assert_eq!(
            parsed,
            [
                ("oauth_consumer_key".to_owned(), "k y".to_owned()),
                ("oauth_signature".to_owned(), "a+b/c=".to_owned()),
            ]
        );
        let with_realm = oauth_header("OAuth realm=\"Photos\", oauth_token=\"t\"").expect("parsed");
        assert_eq!(with_realm, [("oauth_token".to_owned(), "t".to_owned())]);
        assert!(oauth_header("Bearer x").is_none());
        assert!(oauth_header("OAuth a=\"%zz\"").is_none());
        assert!(oauth_header("OAuth a=unquoted").is_none());
        assert!(oauth_header("OAuth a").is_none());
    }

    #[test]
    fn form_media_type_ignores_case_and_parameters() {
        let form = |value: &str| {
            let req = actix_web::test::TestRequest::default()
                .insert_header((actix_web::http::header::CONTENT_TYPE, value))
                .to_http_request();
            is_form(&req)
        };
        assert!(form("application/x-www-form-urlencoded"));
        assert!(form("Application/X-WWW-Form-URLencoded ; charset=utf-8"));
        assert!(!form("application/json"));
        assert!(!form("application/x-www-form-urlencodedx"));
        let bare = actix_web::test::TestRequest::default().to_http_request();
        assert!(!is_form(&bare));
    }
}
