//! [`OAuthResponse`]: what a provider's API answered, decoded by media type (Flask-OAuth's
//! `OAuthResponse`).

use std::fmt;

use ::oauth2::http::{header, HeaderMap};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::OAuthError;

/// A provider's answer to an API call: status, headers, the raw body, and the body decoded by
/// its media type.
///
/// A non-2xx status is still a response, as in Flask-OAuth, so the app can look at it;
/// [`OAuthResponse::error_for_status`] turns it into an [`OAuthError`] carrying the provider's
/// error body.
#[derive(Clone)]
pub struct OAuthResponse {
    status: u16,
    headers: HeaderMap,
    raw: Vec<u8>,
    data: ResponseData,
}

impl fmt::Debug for OAuthResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthResponse")
            .field("status", &self.status)
            .field("content_type", &self.content_type())
            .field("bytes", &self.raw.len())
            .finish_non_exhaustive()
    }
}

/// A response body decoded by its media type.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum ResponseData {
    /// `application/json` or `+json`: decoded JSON.
    Json(Value),
    /// `application/x-www-form-urlencoded`: name/value pairs, in order.
    Form(Vec<(String, String)>),
    /// `application/xml`, `text/xml` or `+xml`: the document's root element.
    Xml(XmlElement),
    /// Anything else that is UTF-8 text (or a body that did not decode as its type said).
    Text(String),
    /// No body, or bytes that are not text.
    Empty,
}

/// An XML element with its attributes, text and child elements, owned.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct XmlElement {
    /// The element's local name.
    pub name: String,
    /// Its attributes as (local name, value).
    pub attributes: Vec<(String, String)>,
    /// Its own text, concatenated and trimmed.
    pub text: String,
    /// Its child elements.
    pub children: Vec<XmlElement>,
}

impl XmlElement {
    /// The first child element named `name`.
    pub fn child(&self, name: &str) -> Option<&XmlElement> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The value of attribute `name`.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The element, or `None` when elements nest deeper than [`MAX_XML_DEPTH`] below it.
    fn from_node(node: roxmltree::Node<'_, '_>, depth: usize) -> Option<Self> {
        if depth > MAX_XML_DEPTH {
            return None;
        }
        let mut text = String::new();
        let mut children = Vec::new();
        for child in node.children() {
            if child.is_element() {
                children.push(Self::from_node(child, depth + 1)?);
            } else if let Some(t) = child.text() {
                text.push_str(t);
            }
        }
        Some(Self {
            name: node.tag_name().name().to_owned(),
            attributes: node
                .attributes()
                .map(|a| (a.name().to_owned(), a.value().to_owned()))
                .collect(),
            text: text.trim().to_owned(),
            children,
        })
    }
}

/// The deepest element nesting decoded as XML (serde_json's limit for JSON). Converting and
/// dropping an element tree recurses once per level: a 1 MiB answer of nested elements would
/// overflow a worker's stack and abort the process. Deeper documents are kept as text.
const MAX_XML_DEPTH: usize = 128;

impl ResponseData {
    /// Decodes a body as its `Content-Type` says. Never fails: a body that does not decode as its
    /// type said, or XML nesting elements more than 128 deep, is kept as text (or
    /// [`ResponseData::Empty`] if it is not UTF-8).
    pub fn decode(content_type: Option<&str>, body: &[u8]) -> Self {
        if body.is_empty() {
            return Self::Empty;
        }
        let media = crate::wire::media_type(content_type);
        let decoded = if media == "application/json"
            || media.ends_with("+json")
            || media == "text/javascript"
        {
            serde_json::from_slice(body).ok().map(Self::Json)
        } else if media == "application/x-www-form-urlencoded" {
            std::str::from_utf8(body)
                .ok()
                .and_then(|text| serde_urlencoded::from_str(text).ok())
                .map(Self::Form)
        } else if media == "application/xml" || media == "text/xml" || media.ends_with("+xml") {
            std::str::from_utf8(body)
                .ok()
                .and_then(|text| roxmltree::Document::parse(text).ok())
                .and_then(|doc| XmlElement::from_node(doc.root_element(), 1))
                .map(Self::Xml)
        } else {
            None
        };
        decoded.unwrap_or_else(|| match std::str::from_utf8(body) {
            Ok(text) => Self::Text(text.to_owned()),
            Err(_) => Self::Empty,
        })
    }

    /// The data as JSON: JSON as is, form fields as an object of strings, XML as
    /// `{"name", "attributes", "text", "children"}`, text as a string, empty as `null`.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Json(value) => value.clone(),
            Self::Form(pairs) => {
                let mut map = Map::new();
                for (k, v) in pairs {
                    map.entry(k.clone())
                        .or_insert_with(|| Value::String(v.clone()));
                }
                Value::Object(map)
            }
            Self::Xml(element) => xml_to_json(element),
            Self::Text(text) => Value::String(text.clone()),
            Self::Empty => Value::Null,
        }
    }
}

fn xml_to_json(element: &XmlElement) -> Value {
    serde_json::json!({
        "name": element.name,
        "attributes": element.attributes.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect::<Map<_, _>>(),
        "text": element.text,
        "children": element.children.iter().map(xml_to_json).collect::<Vec<_>>(),
    })
}

impl OAuthResponse {
    pub(crate) fn new(status: u16, headers: HeaderMap, raw: Vec<u8>) -> Self {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let data = ResponseData::decode(content_type, &raw);
        Self {
            status,
            headers,
            raw,
            data,
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `Content-Type` header, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
    }

    /// The body as received.
    pub fn raw_data(&self) -> &[u8] {
        &self.raw
    }

    /// The body decoded by media type.
    pub fn data(&self) -> &ResponseData {
        &self.data
    }

    /// Deserializes a JSON body into `T`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, OAuthError> {
        serde_json::from_slice(&self.raw)
            .map_err(|e| OAuthError::malformed("API response", e.to_string()))
    }

    /// `Ok(self)` for a 2xx status; otherwise an [`OAuthError::Provider`] when the body carries an
    /// OAuth-style `error`, or [`OAuthError::UnexpectedStatus`] with the start of the body.
    pub fn error_for_status(self) -> Result<Self, OAuthError> {
        if self.is_success() {
            return Ok(self);
        }
        let fields = crate::wire::decode_fields(self.content_type(), &self.raw);
        Err(fields
            .and_then(|f| crate::wire::provider_error(&f, Some(self.status)))
            .unwrap_or_else(|| OAuthError::unexpected_status(self.status, &self.raw)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_for_status_keeps_the_provider_error() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, "application/json".parse().unwrap());
        let ok = OAuthResponse::new(201, headers.clone(), b"{}".to_vec());
        assert!(ok.error_for_status().is_ok());
        let refused = OAuthResponse::new(
            403,
            headers,
            br#"{"error":"insufficient_scope","error_description":"no"}"#.to_vec(),
        );
        match refused.error_for_status() {
            Err(OAuthError::Provider {
                error,
                description,
                status,
                ..
            }) => {
                assert_eq!(error, "insufficient_scope");
                assert_eq!(description.as_deref(), Some("no"));
                assert_eq!(status, Some(403));
            }
            other => panic!("{other:?}"),
        }
        let html = OAuthResponse::new(500, HeaderMap::new(), b"<h1>oops</h1>".to_vec());
        assert_eq!(
            html.error_for_status().unwrap_err().kind(),
            crate::ErrorKind::UnexpectedStatus
        );
    }

    #[test]
    fn decodes_by_media_type() {
        assert_eq!(
            ResponseData::decode(Some("application/json; charset=utf-8"), br#"{"a":1}"#).to_json(),
            serde_json::json!({"a": 1})
        );
        assert_eq!(
            ResponseData::decode(Some("application/x-www-form-urlencoded"), b"a=1&b=x+y"),
            ResponseData::Form(vec![("a".into(), "1".into()), ("b".into(), "x y".into())])
        );
        let ResponseData::Xml(xml) =
            ResponseData::decode(Some("text/xml"), b"<r a=\"1\"><c>hi</c><c/></r>")
        else {
            panic!("not xml")
        };
        assert_eq!(xml.attribute("a"), Some("1"));
        assert_eq!(xml.child("c").unwrap().text, "hi");
        assert_eq!(xml.children.len(), 2);
        assert_eq!(
            ResponseData::decode(Some("text/plain"), b"hello"),
            ResponseData::Text("hello".into())
        );
        assert_eq!(
            ResponseData::decode(Some("application/json"), b"{broken"),
            ResponseData::Text("{broken".into())
        );
        assert_eq!(
            ResponseData::decode(None, &[0xff, 0xfe]),
            ResponseData::Empty
        );
        // Entity expansion bombs are refused by the parser; the body stays text.
        let bomb = b"<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\"><!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\"><!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">]><r>&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;</r>";
        assert!(matches!(
            ResponseData::decode(Some("application/xml"), bomb),
            ResponseData::Text(_) | ResponseData::Xml(_)
        ));
    }

    /// Found by the `decode_response` fuzz target: nested elements overflowed the stack.
    #[test]
    fn deeply_nested_xml_stays_text() {
        let nested = |depth: usize| format!("{}{}", "<a>".repeat(depth), "</a>".repeat(depth));
        let deep = nested(50_000);
        assert_eq!(
            ResponseData::decode(Some("text/xml"), deep.as_bytes()),
            ResponseData::Text(deep)
        );
        let ResponseData::Xml(mut element) =
            ResponseData::decode(Some("text/xml"), nested(MAX_XML_DEPTH).as_bytes())
        else {
            panic!("not xml")
        };
        let mut depth = 1;
        while let Some(child) = element.children.pop() {
            element = child;
            depth += 1;
        }
        assert_eq!(depth, MAX_XML_DEPTH);
        assert!(matches!(
            ResponseData::decode(Some("text/xml"), nested(MAX_XML_DEPTH + 1).as_bytes()),
            ResponseData::Text(_)
        ));
    }
}
