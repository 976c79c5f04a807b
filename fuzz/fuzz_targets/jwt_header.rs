//! A JWT's JOSE header, read before anything else of an `id_token` (RFC 7515 §4).
#![no_main]

use actix_oauth::{internals::parse_jwt_header, ErrorKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    match parse_jwt_header(token) {
        Ok((alg, _kid)) => {
            assert_eq!(token.split('.').count(), 3, "a header read from {token:?}");
            assert!(alg.chars().count() <= 32, "`alg` is not clipped");
        }
        Err(err) => assert_eq!(err.kind(), ErrorKind::IdTokenMalformed, "{err:?}"),
    }
});
