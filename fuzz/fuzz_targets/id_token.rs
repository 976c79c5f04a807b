//! A whole `id_token` through validation (OpenID Connect Core §3.1.3.7), against a fixed JWKS.
//!
//! Input: the nonce the sign-in sent (an empty line: none), then the token.
#![no_main]

use actix_oauth_fuzz::{check_claims, check_id_token_error, nonce_and_rest, with_validator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((nonce, token)) = nonce_and_rest(data) else {
        return;
    };
    with_validator(|validator| match validator.validate(token, nonce) {
        Ok(claims) => {
            assert!(claims.contains_key("aud"), "accepted without `aud`");
            check_claims(&claims, nonce, true)
        }
        Err(err) => check_id_token_error(&err),
    });
});
