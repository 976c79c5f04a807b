//! Sign in with Apple, as Apple documents it ("Sign in with Apple REST API", "Generate and
//! validate tokens", "Incorporating Sign in with Apple into other platforms", its discovery
//! document at `https://appleid.apple.com/.well-known/openid-configuration`):
//!
//! - `GET /auth/authorize` answers with a page that POSTs the answer to the redirect URI
//!   (`response_mode=form_post`, required when asking for `name` or `email`): `code`, `state`,
//!   and on the user's very first authorization of this app only, `user` — JSON with the name
//!   the user typed and the email;
//! - `POST /auth/token` takes `client_id` and `client_secret` in the body; the secret must be an
//!   ES256 JWT with the registered `kid`, `iss` the team id, `sub` the client id, `aud`
//!   `https://appleid.apple.com`, `iat` and an `exp` at most 15 777 000 seconds later — checked
//!   here with `jsonwebtoken` and the key's public half; errors are `{"error": "invalid_client"}`
//!   or `{"error": "invalid_grant"}` with status 400;
//! - the `id_token` (RS256, keys at `/auth/keys`) carries `email_verified` and
//!   `is_private_email` as strings (`"true"`) or booleans, `nonce` and `nonce_supported`; there
//!   is no user info endpoint; `POST /auth/revoke` revokes with the same client secret.
//!
//! The issuer is the fake's origin (the preset's is moved there); the client secret's audience
//! stays Apple's, as Apple checks it.

use std::{
    collections::{HashMap, HashSet},
    sync::Mutex,
};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use super::{
    jwt::{at_hash, jwk, sign},
    now, random, Answer, Personality, Recorded,
};

/// How the fake Apple is set up by a test.
#[derive(Clone, Debug)]
pub struct AppleSettings {
    /// The Services ID (`client_id`).
    pub client_id: String,
    pub team_id: String,
    pub key_id: String,
    /// The public half of the app's Sign in with Apple key (PEM).
    pub public_key_pem: String,
    /// The user's `sub`.
    pub subject: String,
    pub email: String,
    /// `email_verified` and `is_private_email` as strings (`"true"`), as Apple often sends them.
    pub string_booleans: bool,
    pub private_email: bool,
    /// What the user typed as their name at the first authorization.
    pub first_name: String,
    pub last_name: String,
    /// The user presses "Cancel": `error=user_cancelled_authorize`.
    pub cancel: bool,
}

struct Grant {
    redirect_uri: String,
    nonce: Option<String>,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, Grant>,
    /// Whether the user already authorized this app (then `user` is not sent again).
    authorized_before: bool,
    /// Every `client_secret` presented at the token and revocation endpoints, in order.
    secrets: Vec<String>,
    revoked: HashSet<String>,
}

/// The fake Apple.
pub struct Apple {
    pub settings: Mutex<AppleSettings>,
    inner: Mutex<Inner>,
}

impl Apple {
    pub fn new(settings: AppleSettings) -> Self {
        Self {
            settings: Mutex::new(settings),
            inner: Mutex::default(),
        }
    }

    /// The client secrets presented so far.
    pub fn secrets(&self) -> Vec<String> {
        self.inner.lock().unwrap().secrets.clone()
    }

    /// How many tokens were revoked.
    pub fn revoked(&self) -> usize {
        self.inner.lock().unwrap().revoked.len()
    }
}

fn error(status: u16, code: &str) -> Answer {
    Answer::value(status, "application/json", &json!({ "error": code }))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Apple {
    fn discovery(&self, origin: &str) -> Answer {
        Answer::value(
            200,
            "application/json",
            &json!({
                "issuer": origin,
                "authorization_endpoint": format!("{origin}/auth/authorize"),
                "token_endpoint": format!("{origin}/auth/token"),
                "revocation_endpoint": format!("{origin}/auth/revoke"),
                "jwks_uri": format!("{origin}/auth/keys"),
                "response_types_supported": ["code", "code id_token"],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "name"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "claims_supported": ["aud", "email", "email_verified", "exp", "iat",
                    "is_private_email", "iss", "nonce", "nonce_supported", "real_user_status",
                    "sub", "transfer_sub"],
            }),
        )
    }

    /// The authorization page, the user having signed in and pressed "Continue" (or "Cancel").
    fn authorize(&self, req: &Recorded) -> Answer {
        let query: HashMap<String, String> =
            serde_urlencoded::from_str(&req.query).unwrap_or_default();
        let settings = self.settings.lock().unwrap().clone();
        let (Some(redirect_uri), Some(state)) = (query.get("redirect_uri"), query.get("state"))
        else {
            return Answer::new(400, "text/html", "invalid_request");
        };
        if query.get("client_id") != Some(&settings.client_id)
            || query.get("response_type").map(String::as_str) != Some("code")
        {
            return Answer::new(400, "text/html", "invalid_client");
        }
        let scope = query.get("scope").cloned().unwrap_or_default();
        let asks_for_user_data = scope.split(' ').any(|s| s == "name" || s == "email");
        if asks_for_user_data && query.get("response_mode").map(String::as_str) != Some("form_post")
        {
            // "response_mode must be form_post when name or email scope is requested."
            return Answer::new(
                400,
                "text/html",
                "invalid_request: response_mode must be form_post",
            );
        }
        let mut fields: Vec<(String, String)> = Vec::new();
        if settings.cancel {
            fields.push(("error".into(), "user_cancelled_authorize".into()));
            fields.push(("state".into(), state.clone()));
        } else {
            let code = format!("c{}", random(40));
            let mut inner = self.inner.lock().unwrap();
            inner.codes.insert(
                code.clone(),
                Grant {
                    redirect_uri: redirect_uri.clone(),
                    nonce: query.get("nonce").cloned(),
                },
            );
            fields.push(("state".into(), state.clone()));
            fields.push(("code".into(), code));
            if !inner.authorized_before && asks_for_user_data {
                fields.push((
                    "user".into(),
                    json!({
                        "name": {"firstName": settings.first_name, "lastName": settings.last_name},
                        "email": settings.email,
                    })
                    .to_string(),
                ));
            }
            inner.authorized_before = true;
        }
        let inputs: String = fields
            .iter()
            .map(|(n, v)| {
                format!(
                    "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                    escape(n),
                    escape(v)
                )
            })
            .collect();
        Answer::new(
            200,
            "text/html; charset=utf-8",
            format!(
                "<!doctype html><html><body><form method=\"post\" action=\"{}\">{inputs}</form>\
                 <script>document.forms[0].submit();</script></body></html>",
                escape(redirect_uri)
            ),
        )
    }

    /// Checks the `client_secret` JWT as Apple does.
    fn check_secret(&self, form: &HashMap<String, String>) -> Result<(), Answer> {
        let settings = self.settings.lock().unwrap().clone();
        if form.get("client_id") != Some(&settings.client_id) {
            return Err(error(400, "invalid_client"));
        }
        let secret = form
            .get("client_secret")
            .ok_or_else(|| error(400, "invalid_client"))?;
        self.inner.lock().unwrap().secrets.push(secret.clone());
        let header =
            jsonwebtoken::decode_header(secret).map_err(|_| error(400, "invalid_client"))?;
        if header.alg != Algorithm::ES256 || header.kid.as_deref() != Some(&settings.key_id) {
            return Err(error(400, "invalid_client"));
        }
        let key = DecodingKey::from_ec_pem(settings.public_key_pem.as_bytes()).expect("public key");
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&["https://appleid.apple.com"]);
        validation.set_issuer(&[settings.team_id.as_str()]);
        validation.sub = Some(settings.client_id.clone());
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub", "aud"]);
        let claims = jsonwebtoken::decode::<Value>(secret, &key, &validation)
            .map_err(|_| error(400, "invalid_client"))?
            .claims;
        let (iat, exp) = (claims["iat"].as_u64(), claims["exp"].as_u64());
        match (iat, exp) {
            (Some(iat), Some(exp)) if exp > iat && exp - iat <= 15_777_000 && iat <= now() + 60 => {
                Ok(())
            }
            _ => Err(error(400, "invalid_client")),
        }
    }

    fn token(&self, req: &Recorded, origin: &str) -> Answer {
        if req.method != "POST"
            || req.headers.get("content-type").map(String::as_str)
                != Some("application/x-www-form-urlencoded")
        {
            return error(400, "invalid_request");
        }
        let form: HashMap<String, String> =
            serde_urlencoded::from_str(&req.body).unwrap_or_default();
        if req.headers.contains_key("authorization") {
            // Apple takes the client secret in the body only.
            return error(400, "invalid_client");
        }
        if let Err(answer) = self.check_secret(&form) {
            return answer;
        }
        let settings = self.settings.lock().unwrap().clone();
        match form.get("grant_type").map(String::as_str) {
            Some("authorization_code") => {}
            Some("refresh_token") => {
                let access_token = format!("a{}", random(40));
                return Answer::value(
                    200,
                    "application/json",
                    &json!({
                        "access_token": access_token, "token_type": "Bearer", "expires_in": 3600,
                        "id_token": self.id_token(&settings, origin, None, &access_token),
                    }),
                );
            }
            _ => return error(400, "unsupported_grant_type"),
        }
        let grant = form
            .get("code")
            .and_then(|code| self.inner.lock().unwrap().codes.remove(code));
        let Some(grant) = grant else {
            return error(400, "invalid_grant");
        };
        if form.get("redirect_uri") != Some(&grant.redirect_uri) {
            return error(400, "invalid_grant");
        }
        let access_token = format!("a{}", random(40));
        Answer::value(
            200,
            "application/json",
            &json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": 3600,
                "refresh_token": format!("r{}", random(40)),
                "id_token": self.id_token(&settings, origin, grant.nonce, &access_token),
            }),
        )
    }

    fn id_token(
        &self,
        settings: &AppleSettings,
        origin: &str,
        nonce: Option<String>,
        access_token: &str,
    ) -> String {
        let flag = |b: bool| {
            if settings.string_booleans {
                json!(b.to_string())
            } else {
                json!(b)
            }
        };
        let now = now();
        let mut claims = json!({
            "iss": origin,
            "aud": settings.client_id,
            "exp": now + 600,
            "iat": now,
            "sub": settings.subject,
            "at_hash": at_hash(access_token),
            "email": settings.email,
            "email_verified": flag(true),
            "is_private_email": flag(settings.private_email),
            "auth_time": now,
            "nonce_supported": true,
            "real_user_status": 2,
        });
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        sign(&claims)
    }

    fn revoke(&self, req: &Recorded) -> Answer {
        let form: HashMap<String, String> =
            serde_urlencoded::from_str(&req.body).unwrap_or_default();
        if let Err(answer) = self.check_secret(&form) {
            return answer;
        }
        match form.get("token") {
            Some(token) => {
                self.inner.lock().unwrap().revoked.insert(token.clone());
                Answer::new(200, "", "")
            }
            None => error(400, "invalid_request"),
        }
    }
}

impl Personality for Apple {
    fn answer(&self, req: &Recorded, origin: &str) -> Answer {
        match req.path.as_str() {
            "/.well-known/openid-configuration" => self.discovery(origin),
            "/auth/authorize" => self.authorize(req),
            "/auth/token" => self.token(req, origin),
            "/auth/keys" => Answer::value(
                200,
                "application/json",
                &json!({ "keys": [jwk(json!({"alg": "RS256", "use": "sig"}))] }),
            ),
            "/auth/revoke" => self.revoke(req),
            _ => Answer::new(404, "text/plain", "not found"),
        }
    }
}
