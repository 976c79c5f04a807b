//! An OAuth 1.0a temporary or token credentials answer (RFC 5849 §2.1, §2.3).
#![no_main]

use actix_oauth::internals::parse_oauth1_credentials;
use actix_oauth_fuzz::{check_answer_error, check_token, Answer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let answer = Answer::parse(data);
    match parse_oauth1_credentials(answer.status, answer.content_type, answer.body) {
        Ok(token) => {
            check_token(&token, answer.status);
            assert_eq!(token.token_type(), "oauth1");
            let secret = token.token_secret().expect("a token secret");
            assert!(!secret.is_empty(), "an empty token secret");
            for key in ["oauth_token", "oauth_token_secret"] {
                assert!(!token.extra().contains_key(key), "`{key}` left in extra");
            }
        }
        Err(err) => check_answer_error(&err, answer.status),
    }
});
