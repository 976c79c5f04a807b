//! Checks `actix_oauth::oauth1` against independent OAuth 1.0a (RFC 5849) test vectors.
//!
//! `tests/data/oauth1_vectors.json` is produced by `scripts/oauth1_vectors.py` with Python's
//! `oauthlib` (the RFC 5849 examples in it are asserted there to match the RFC's printed
//! values). Each vector gives the request method, the URL (whose query the signer must read
//! itself), the decoded protocol and form-body parameters, the secrets, and the expected
//! signature base string and signature.
//!
//! The signature is computed over the *expected* base string, so a base-string mismatch and a
//! signing mismatch are reported separately. All mismatches are collected and reported
//! together. RSA-SHA1 vectors are checked only with the `rsa-sha1` feature.

use actix_oauth::oauth1::{sign, signature_base_string, SignatureMethod};
use serde::Deserialize;

const VECTORS_JSON: &str = include_str!("data/oauth1_vectors.json");

#[derive(Debug, Deserialize)]
struct VectorFile {
    generator: String,
    #[cfg_attr(not(feature = "rsa-sha1"), allow(dead_code))]
    rsa_private_key_pem: String,
    vectors: Vec<Vector>,
}

#[derive(Debug, Deserialize)]
struct Vector {
    name: String,
    source: String,
    method: String,
    url: String,
    params: Vec<(String, String)>,
    signature_method: String,
    consumer_secret: String,
    token_secret: String,
    base_string: String,
    signature: String,
    #[serde(default)]
    note: Option<String>,
}

fn load() -> VectorFile {
    serde_json::from_str(VECTORS_JSON).expect("tests/data/oauth1_vectors.json is valid")
}

fn describe(v: &Vector) -> String {
    let mut out = format!(
        "[{}] ({}, {}) {} {}",
        v.name, v.source, v.signature_method, v.method, v.url
    );
    if let Some(note) = &v.note {
        out.push_str(&format!("\n    note: {note}"));
    }
    out
}

#[cfg(feature = "rsa-sha1")]
fn rsa_signer(pem: &str) -> impl Fn(&str) -> Result<String, String> {
    let key = actix_oauth::oauth1::RsaSigningKey::from_pem(pem)
        .map_err(|e| format!("RsaSigningKey::from_pem failed: {e}"));
    move |base: &str| match &key {
        Ok(key) => Ok(key.sign(base)),
        Err(e) => Err(e.clone()),
    }
}

#[test]
fn oauth1_signatures_match_independent_vectors() {
    let file = load();
    #[cfg(feature = "rsa-sha1")]
    let rsa = rsa_signer(&file.rsa_private_key_pem);

    let mut checked = 0usize;
    let mut skipped = Vec::new();
    let mut failures = Vec::new();

    for v in &file.vectors {
        let Some(method) = SignatureMethod::from_name(&v.signature_method) else {
            failures.push(format!(
                "{}\n    SignatureMethod::from_name({:?}) returned None",
                describe(v),
                v.signature_method
            ));
            continue;
        };
        if method == SignatureMethod::RsaSha1 && !cfg!(feature = "rsa-sha1") {
            skipped.push(v.name.as_str());
            continue;
        }
        checked += 1;

        match signature_base_string(&v.method, &v.url, &v.params) {
            Ok(base) if base == v.base_string => {}
            Ok(base) => failures.push(format!(
                "{}\n    base string expected: {}\n    base string actual:   {}",
                describe(v),
                v.base_string,
                base
            )),
            Err(e) => failures.push(format!(
                "{}\n    signature_base_string failed: {e}\n    base string expected: {}",
                describe(v),
                v.base_string
            )),
        }

        let signature: Result<String, String> = match method {
            #[cfg(feature = "rsa-sha1")]
            SignatureMethod::RsaSha1 => rsa(&v.base_string),
            _ => sign(method, &v.base_string, &v.consumer_secret, &v.token_secret)
                .map_err(|e| format!("sign failed: {e}")),
        };
        match signature {
            Ok(sig) if sig == v.signature => {}
            Ok(sig) => failures.push(format!(
                "{}\n    signature expected: {}\n    signature actual:   {}",
                describe(v),
                v.signature,
                sig
            )),
            Err(e) => failures.push(format!(
                "{}\n    {e}\n    signature expected: {}",
                describe(v),
                v.signature
            )),
        }
    }

    println!(
        "oauth1 vectors ({}): checked {checked} of {}, skipped {} (RSA-SHA1 without the \
         `rsa-sha1` feature): {:?}",
        file.generator,
        file.vectors.len(),
        skipped.len(),
        skipped
    );
    assert!(
        checked >= 30,
        "only {checked} vectors were checked; expected at least 30"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} vectors failed ({} mismatches):\n\n{}\n",
        failures
            .iter()
            .map(|f| f.lines().next().unwrap_or_default())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        failures.len(),
        failures.join("\n\n")
    );
}

/// The vector file keeps the coverage it was written for.
#[test]
fn oauth1_vector_file_covers_every_method() {
    let file = load();
    let count = |name: &str| {
        file.vectors
            .iter()
            .filter(|v| v.signature_method == name)
            .count()
    };
    assert!(file.vectors.len() >= 40, "{} vectors", file.vectors.len());
    assert!(count("HMAC-SHA1") >= 1);
    assert!(count("HMAC-SHA256") >= 5);
    assert!(count("RSA-SHA1") >= 3);
    assert!(count("PLAINTEXT") >= 3);
    let rfc = file
        .vectors
        .iter()
        .filter(|v| v.source == "RFC 5849")
        .count();
    assert!(rfc >= 4, "{rfc} RFC 5849 vectors");
    let mut names: Vec<&str> = file.vectors.iter().map(|v| v.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), file.vectors.len(), "vector names are unique");
}
