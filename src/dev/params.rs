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
    crate::response::media_type(content_type) == "application/x-www-form-urlencoded"
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
}
