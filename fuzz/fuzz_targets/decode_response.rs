//! An API answer's body, decoded by its content type (JSON, form, XML, text).
//!
//! Input: the content type line (empty: no header), then the body.
#![no_main]

use actix_oauth::{internals::decode_response, ResponseData};
use actix_oauth_fuzz::{content_type, line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (ct, body) = line(data);
    let ct = content_type(ct);
    let media = ct
        .and_then(|ct| ct.split(';').next())
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let decoded = decode_response(ct, body);
    match &decoded {
        ResponseData::Empty => {
            assert!(body.is_empty() || std::str::from_utf8(body).is_err());
        }
        ResponseData::Text(text) => assert_eq!(text.as_bytes(), body),
        ResponseData::Json(_) => assert!(
            media == "application/json" || media.ends_with("+json") || media == "text/javascript",
            "JSON from {media:?}"
        ),
        ResponseData::Form(_) => assert_eq!(media, "application/x-www-form-urlencoded"),
        ResponseData::Xml(root) => {
            assert!(
                media == "application/xml" || media == "text/xml" || media.ends_with("+xml"),
                "XML from {media:?}"
            );
            assert!(!root.name.is_empty());
        }
        _ => {}
    }
    // What an app does with the answer next.
    let json = decoded.to_json();
    if let ResponseData::Json(value) = &decoded {
        assert_eq!(&json, value);
    }
    let _ = serde_json::to_vec(&json).expect("decoded data serializes");
});
