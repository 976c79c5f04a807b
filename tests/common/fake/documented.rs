//! The personalities of the providers whose presets came with issue 16, as *data*: one [`Doc`]
//! per provider (its paths, client authentication, PKCE, scope separator, required parameters
//! and headers, token answer, user description and error bodies, each from the provider's
//! documentation, named beside it in `documented_providers.rs`), played by one [`Documented`]
//! personality. OpenID Connect providers reuse the RS256 keys and signing of `jwt.rs`, with a
//! discovery document built from the same data.
//!
//! A token answer or a user description is a JSON *template*: the strings `"$access_token"`,
//! `"$refresh_token"`, `"$id_token"`, `"$scope"` (the granted scopes, joined as the provider joins
//! them), `"$user"` (the user description) and `"$now"` are replaced by their values.

use std::{collections::HashMap, sync::Mutex};

use base64::{
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
    Engine as _,
};
use serde_json::{json, Map, Value};
use sha2::{Digest as _, Sha256};
use url::{form_urlencoded, Url};

use super::{
    jwt::{jwk, sign},
    now, random, Answer, FakeProvider, Personality, Recorded,
};

/// How the token endpoint takes the client's credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// HTTP Basic only (RFC 6749 §2.3.1).
    Basic,
    /// `client_id` and `client_secret` in the form body only.
    Body,
    /// Either, never both.
    Either,
}

/// One provider as its documentation describes it.
#[derive(Debug)]
pub struct Doc {
    pub name: &'static str,
    pub client_id: &'static str,
    pub client_secret: &'static str,
    /// OpenID Connect: the issuer's path on the fake (`""` for the origin itself, `"/"` for the
    /// origin with a final slash). `None` for plain OAuth 2.
    pub issuer: Option<&'static str>,
    pub authorize: &'static str,
    pub token: &'static str,
    /// The user endpoint: method and path (the OpenID Connect user info endpoint).
    pub user: (&'static str, &'static str),
    pub jwks: &'static str,
    pub client_auth: ClientAuth,
    /// Whether the token endpoint checks the `code_verifier` (else it ignores PKCE).
    pub pkce: bool,
    /// What the provider splits the `scope` parameter on.
    pub scope_separator: &'static str,
    /// Authorization parameters the provider requires, with their values.
    pub authorize_requires: &'static [(&'static str, &'static str)],
    /// Headers every API call must carry (name, value prefix), and the answer without them.
    pub api_requires: &'static [(&'static str, &'static str)],
    pub missing_header: (u16, &'static str),
    /// A prefix of the access tokens it issues.
    pub token_prefix: &'static str,
    /// The token answer's content type and template.
    pub token_content_type: &'static str,
    pub token_answer: &'static str,
    /// The answer to a refused code.
    pub token_error: (u16, &'static str),
    /// The documented sample user: the user endpoint's JSON (the `id_token` claims too, for
    /// OpenID Connect, with `sub`).
    pub user_json: &'static str,
    /// The answer to an API call without a valid token.
    pub unauthorized: (u16, &'static str),
    /// Further API endpoints: path and JSON template.
    pub api: &'static [(&'static str, &'static str)],
}

/// What a test changes about a documented provider.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The user description (replacing the documented one).
    pub user: Value,
    /// The token endpoint refuses the code with the provider's error body.
    pub token_error: bool,
}

#[derive(Clone, Debug)]
struct Grant {
    redirect_uri: String,
    scope: Vec<String>,
    nonce: Option<String>,
    challenge: Option<String>,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, Grant>,
    tokens: HashMap<String, Grant>,
}

/// A [`Doc`] played on a [`FakeProvider`].
pub struct Documented {
    pub doc: &'static Doc,
    settings: Mutex<Settings>,
    inner: Mutex<Inner>,
}

/// A documented provider, running.
pub type DocFake = FakeProvider<Documented>;

impl FakeProvider<Documented> {
    pub fn doc(doc: &'static Doc) -> Self {
        Self::doc_with(doc, |_| {})
    }

    pub fn doc_with(doc: &'static Doc, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = Settings {
            user: serde_json::from_str(doc.user_json).expect("documented user"),
            token_error: false,
        };
        tweak(&mut settings);
        Self::serve(Documented {
            doc,
            settings: Mutex::new(settings),
            inner: Mutex::default(),
        })
    }

    /// The issuer its `id_token`s name (OpenID Connect providers).
    pub fn issuer(&self) -> String {
        format!(
            "{}{}",
            self.origin(),
            self.personality()
                .doc
                .issuer
                .expect("an OpenID Connect provider")
        )
    }
}

impl Personality for Documented {
    fn answer(&self, req: &Recorded, origin: &str) -> Answer {
        let doc = self.doc;
        let path = req.path.as_str();
        if path == doc.authorize {
            return self.authorize(req);
        }
        if path == doc.token {
            return self.token(req, origin);
        }
        if let Some(issuer) = doc.issuer {
            let discovery = format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            );
            if path == discovery {
                return Answer::value(200, "application/json", &self.discovery(origin));
            }
            if path == doc.jwks {
                let keys = json!({"keys": [jwk(json!({"alg": "RS256", "use": "sig"}))]});
                return Answer::value(200, "application/json", &keys);
            }
        }
        self.api(req)
    }
}

fn pairs(text: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn get<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A template with its placeholders filled.
fn fill(template: &Value, values: &Map<String, Value>) -> Value {
    match template {
        Value::String(s) if s.starts_with('$') => values
            .get(&s[1..])
            .cloned()
            .unwrap_or_else(|| template.clone()),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, values)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill(v, values)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn answer(status: u16, body: &str) -> Answer {
    if body.starts_with('{') || body.starts_with('[') {
        Answer::new(status, "application/json", body)
    } else {
        Answer::new(status, "text/plain; charset=utf-8", body)
    }
}

impl Documented {
    fn settings(&self) -> Settings {
        self.settings.lock().unwrap().clone()
    }

    fn discovery(&self, origin: &str) -> Value {
        let doc = self.doc;
        let o = origin;
        let auth = match doc.client_auth {
            ClientAuth::Basic => json!(["client_secret_basic"]),
            ClientAuth::Body => json!(["client_secret_post"]),
            ClientAuth::Either => json!(["client_secret_basic", "client_secret_post"]),
        };
        json!({
            "issuer": format!("{o}{}", doc.issuer.unwrap_or_default()),
            "authorization_endpoint": format!("{o}{}", doc.authorize),
            "token_endpoint": format!("{o}{}", doc.token),
            "userinfo_endpoint": format!("{o}{}", doc.user.1),
            "jwks_uri": format!("{o}{}", doc.jwks),
            "response_types_supported": ["code", "id_token", "code id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile", "email"],
            "token_endpoint_auth_methods_supported": auth,
            "code_challenge_methods_supported": ["S256"],
        })
    }

    /// The authorization endpoint: the request checked, the user consenting at once.
    fn authorize(&self, req: &Recorded) -> Answer {
        let doc = self.doc;
        let q = pairs(&req.query);
        let refuse = |why: &str| {
            Answer::new(
                400,
                "text/plain",
                format!("fake {} authorize: {why}", doc.name),
            )
        };
        if get(&q, "response_type") != Some("code") {
            return refuse("response_type must be `code`");
        }
        if get(&q, "client_id") != Some(doc.client_id) {
            return refuse("unknown client_id");
        }
        let (Some(redirect_uri), Some(state)) = (get(&q, "redirect_uri"), get(&q, "state")) else {
            return refuse("no redirect_uri or state");
        };
        for (key, value) in doc.authorize_requires {
            if get(&q, key) != Some(value) {
                return refuse(&format!("`{key}` must be `{value}`"));
            }
        }
        let raw_scope = get(&q, "scope").unwrap_or_default();
        if doc.scope_separator != " " && raw_scope.contains(' ') {
            return refuse("invalid scope: scopes are separated by commas");
        }
        let scope: Vec<String> = raw_scope
            .split(doc.scope_separator)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect();
        if doc.issuer.is_some() && !scope.iter().any(|s| s == "openid") {
            return refuse("an OpenID Connect request needs the `openid` scope");
        }
        let challenge = match (get(&q, "code_challenge"), get(&q, "code_challenge_method")) {
            (Some(c), Some("S256")) => Some(c.to_owned()),
            (Some(_), _) => return refuse("only S256 PKCE challenges are expected"),
            (None, _) => None,
        };
        let code = random(40);
        self.inner.lock().unwrap().codes.insert(
            code.clone(),
            Grant {
                redirect_uri: redirect_uri.to_owned(),
                scope,
                nonce: get(&q, "nonce").map(str::to_owned),
                challenge,
            },
        );
        let Ok(mut back) = Url::parse(redirect_uri) else {
            return refuse("redirect_uri is not a URL");
        };
        back.query_pairs_mut()
            .append_pair("code", &code)
            .append_pair("state", state);
        Answer::redirect(back.to_string())
    }

    fn token(&self, req: &Recorded, origin: &str) -> Answer {
        let doc = self.doc;
        let s = self.settings();
        let (status, body) = doc.token_error;
        let refused = answer(status, body);
        let form_ok = req
            .headers
            .get("content-type")
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        if req.method != "POST" || !form_ok {
            return refused;
        }
        let form = pairs(&req.body);
        let basic = req
            .headers
            .get("authorization")
            .and_then(|h| h.strip_prefix("Basic "))
            .and_then(|b| STANDARD.decode(b).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|text| {
                let (id, secret) = text.split_once(':')?;
                let decode = |s: &str| {
                    form_urlencoded::parse(format!("x={s}").as_bytes())
                        .next()
                        .map(|(_, v)| v.into_owned())
                };
                Some((decode(id)?, decode(secret)?))
            });
        let body_creds = match (get(&form, "client_id"), get(&form, "client_secret")) {
            (Some(id), Some(secret)) => Some((id.to_owned(), secret.to_owned())),
            _ => None,
        };
        let expected = Some((doc.client_id.to_owned(), doc.client_secret.to_owned()));
        let authenticated = match doc.client_auth {
            ClientAuth::Basic => basic == expected,
            ClientAuth::Body => body_creds == expected && basic.is_none(),
            ClientAuth::Either => match (&basic, &body_creds) {
                (Some(_), None) => basic == expected,
                (None, Some(_)) => body_creds == expected,
                _ => false,
            },
        };
        if !authenticated {
            return Answer::value(401, "application/json", &json!({"error": "invalid_client"}));
        }
        if get(&form, "grant_type") != Some("authorization_code") {
            return refused;
        }
        let grant = get(&form, "code").and_then(|c| self.inner.lock().unwrap().codes.remove(c));
        let Some(grant) = grant.filter(|_| !s.token_error) else {
            return refused;
        };
        if get(&form, "redirect_uri") != Some(&grant.redirect_uri) {
            return refused;
        }
        if doc.pkce {
            if let Some(challenge) = &grant.challenge {
                let verified = get(&form, "code_verifier").is_some_and(|v| {
                    URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())) == *challenge
                });
                if !verified {
                    return refused;
                }
            }
        }
        let access_token = format!("{}{}", doc.token_prefix, random(40));
        self.inner
            .lock()
            .unwrap()
            .tokens
            .insert(access_token.clone(), grant.clone());
        let mut values = Map::new();
        values.insert("access_token".into(), json!(access_token));
        values.insert("refresh_token".into(), json!(random(48)));
        values.insert("scope".into(), json!(grant.scope.join(doc.scope_separator)));
        values.insert("user".into(), s.user.clone());
        values.insert("now".into(), json!(now()));
        if let Some(issuer) = doc.issuer {
            let now = now();
            let mut claims = s.user.clone();
            let c = claims.as_object_mut().expect("the user is an object");
            c.insert("iss".into(), json!(format!("{origin}{issuer}")));
            c.insert("aud".into(), json!(doc.client_id));
            c.insert("iat".into(), json!(now));
            c.insert("exp".into(), json!(now + 3600));
            if let Some(nonce) = &grant.nonce {
                c.insert("nonce".into(), json!(nonce));
            }
            values.insert("id_token".into(), json!(sign(&claims)));
        }
        let template: Value = serde_json::from_str(doc.token_answer).expect("token template");
        Answer::value(200, doc.token_content_type, &fill(&template, &values))
    }

    /// The user endpoint and the further API endpoints.
    fn api(&self, req: &Recorded) -> Answer {
        let doc = self.doc;
        let s = self.settings();
        let path = req.path.as_str();
        let extra = doc.api.iter().find(|(p, _)| *p == path);
        if path != doc.user.1 && extra.is_none() {
            return Answer::new(404, "", format!("fake {}: no {path}", doc.name));
        }
        for (name, prefix) in doc.api_requires {
            if !req
                .headers
                .get(*name)
                .is_some_and(|v| v.starts_with(prefix))
            {
                return answer(doc.missing_header.0, doc.missing_header.1);
            }
        }
        let granted = req
            .headers
            .get("authorization")
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .and_then(|(_, token)| self.inner.lock().unwrap().tokens.get(token).cloned());
        if granted.is_none() {
            return answer(doc.unauthorized.0, doc.unauthorized.1);
        }
        let mut values = Map::new();
        values.insert("user".into(), s.user.clone());
        if let Some((_, template)) = extra {
            let template: Value = serde_json::from_str(template).expect("API template");
            return Answer::value(200, "application/json", &fill(&template, &values));
        }
        if req.method != doc.user.0 {
            return Answer::new(
                400,
                "text/plain; charset=utf-8",
                format!(
                    "Error in call to API function \"{}\": Expected {}, got {}.",
                    doc.user.1, doc.user.0, req.method
                ),
            );
        }
        Answer::value(200, "application/json", &s.user)
    }
}
