//! An OAuth 2 token endpoint's answer (RFC 6749 §5): any status, any content type, any body.
#![no_main]

use actix_oauth::internals::parse_token_response;
use actix_oauth_fuzz::{check_answer_error, check_token, Answer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let answer = Answer::parse(data);
    match parse_token_response(answer.status, answer.content_type, answer.body) {
        Ok(token) => {
            check_token(&token, answer.status);
            assert!(token.token_secret().is_none());
            // RFC 6749 §5.1's fields are read, not left among the others. The spec's list, on
            // purpose: the crate reads these fields by name (no list to drift from), and this
            // is the oracle that a field forgotten there would be caught by.
            for key in [
                "access_token",
                "token_type",
                "expires_in",
                "refresh_token",
                "id_token",
                "scope",
            ] {
                assert!(!token.extra().contains_key(key), "`{key}` left in extra");
            }
            if let Some(id_token) = token.id_token() {
                assert!(!id_token.is_empty());
            }
        }
        Err(err) => check_answer_error(&err, answer.status),
    }
});
