//! A callback's query string, as any browser (or attacker) can send it.
#![no_main]

use actix_oauth::{internals::parse_callback_query, ErrorKind};
use actix_web::ResponseError as _;
use libfuzzer_sys::fuzz_target;

/// The parameters RFC 6749 and RFC 5849 allow once in a callback.
const SINGLE: [&str; 6] = [
    "state",
    "code",
    "error",
    "oauth_token",
    "oauth_verifier",
    "denied",
];

fuzz_target!(|data: &[u8]| {
    // actix hands handlers the query as text; a URI is never anything else.
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    match parse_callback_query(query) {
        Ok(pairs) => {
            assert!(query.len() <= 8 * 1024, "an over-long query was accepted");
            for key in SINGLE {
                let seen = pairs.iter().filter(|(k, _)| k == key).count();
                assert!(seen <= 1, "`{key}` accepted {seen} times");
            }
            // What was read is what a form encoder writes back.
            let again = serde_urlencoded::to_string(&pairs).expect("pairs re-encode");
            if again.len() <= 8 * 1024 {
                let reread = parse_callback_query(&again).expect("re-encoded query parses");
                assert_eq!(reread, pairs);
            }
        }
        Err(err) => {
            assert_eq!(err.kind(), ErrorKind::Malformed, "{err:?}");
            // A bad callback is the browser's fault: a 400, never a 5xx.
            assert_eq!(err.status_code().as_u16(), 400, "{err:?}");
            let _ = err.to_string();
        }
    }
});
