//! The claim checks an `id_token` meets once its signature verified: `iss`, `aud`/`azp`, `iat`,
//! `sub` and `nonce`. The fuzzer cannot sign, so this reaches them directly.
//!
//! Input: the nonce the sign-in sent (an empty line: none), then the claims as JSON.
#![no_main]

use actix_oauth_fuzz::{check_claims, check_id_token_error, nonce_and_rest, with_validator};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((nonce, claims)) = nonce_and_rest(data) else {
        return;
    };
    with_validator(
        |validator| match validator.check_claims(claims.as_bytes(), nonce) {
            Ok(()) => {
                let claims: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(claims).expect("accepted claims are a JSON object");
                check_claims(&claims, nonce, false);
            }
            Err(err) => check_id_token_error(&err),
        },
    );
});
