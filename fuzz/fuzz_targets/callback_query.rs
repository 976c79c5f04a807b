//! A callback's query string, as any browser (or attacker) can send it.
#![no_main]

use actix_oauth::{
    internals::{parse_callback_query, CALLBACK_SINGLE_VALUED},
    ErrorKind,
};
use actix_web::ResponseError as _;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // actix hands handlers the query as text; a URI is never anything else.
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    // The crate's own list, not a copy that can drift; it must at least hold what RFC 6749
    // §4.1.2 and RFC 5849 §2.2 send once, or this target checks nothing.
    for key in ["state", "code", "error", "oauth_token", "oauth_verifier"] {
        assert!(
            CALLBACK_SINGLE_VALUED.contains(&key),
            "`{key}` not in the list"
        );
    }
    match parse_callback_query(query) {
        Ok(pairs) => {
            assert!(query.len() <= 8 * 1024, "an over-long query was accepted");
            for key in CALLBACK_SINGLE_VALUED {
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
