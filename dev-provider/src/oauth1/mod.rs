//! OAuth 1.0a ([RFC 5849]) endpoints under `/oauth1/`: temporary credentials, the consent
//! page, token credentials, and a signed JSON API.
//!
//! Consumers are the provider's registered clients. Every endpoint but the consent page takes
//! signed requests, verified in [`signed`]; the credentials and nonces live in [`store`].
//!
//! [RFC 5849]: https://www.rfc-editor.org/rfc/rfc5849

mod signed;
mod store;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Map, Value};
use url::Url;

use self::signed::{verify, Problem, SignedRequest, TokenUse};
use self::store::RedeemError;
pub(super) use self::store::Store;
use super::authorize::redirect;
use super::pages::{self, Consent};
use super::params::Params;
use super::state::Shared;
use super::DevUser;

/// The routes under `/oauth1`.
pub(super) fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/request_token").route(web::post().to(request_token)))
        .service(
            web::resource("/authorize")
                .route(web::get().to(show))
                .route(web::post().to(decide)),
        )
        .service(web::resource("/access_token").route(web::post().to(access_token)))
        .service(
            web::resource("/api/me")
                .route(web::get().to(me))
                .route(web::post().to(me)),
        )
        .service(web::resource("/api/echo").route(web::post().to(echo)));
}

/// A `200 OK` with form-encoded `fields`, as credential responses are ([RFC 5849 §2.1]).
///
/// [RFC 5849 §2.1]: https://www.rfc-editor.org/rfc/rfc5849#section-2.1
fn credentials_response(fields: &[(&str, &str)]) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap_or_default())
}

/// `POST /oauth1/request_token`: temporary credentials ([RFC 5849 §2.1]), for a request signed
/// with the consumer's credentials alone whose `oauth_callback` is one of its registered
/// callbacks, compared exactly.
///
/// [RFC 5849 §2.1]: https://www.rfc-editor.org/rfc/rfc5849#section-2.1
async fn request_token(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> Result<HttpResponse, Problem> {
    let signed = verify(&req, &body, &shared, TokenUse::None)?;
    let callback = signed
        .param("oauth_callback")
        .ok_or_else(|| Problem::absent(&["oauth_callback"]))?;
    if !signed
        .consumer
        .redirect_uris
        .iter()
        .any(|uri| uri == callback)
    {
        return Err(Problem::rejected(
            StatusCode::UNAUTHORIZED,
            "oauth_callback",
            "The oauth_callback is not registered for this consumer (callbacks are compared exactly).",
        ));
    }
    let credentials = shared
        .oauth1()
        .issue_temporary(&signed.consumer.id, callback);
    Ok(credentials_response(&[
        ("oauth_token", &credentials.token),
        ("oauth_token_secret", credentials.secret.secret()),
        ("oauth_callback_confirmed", "true"),
    ]))
}

/// `GET /oauth1/authorize?oauth_token=…`: the consent page for pending temporary credentials
/// ([RFC 5849 §2.2]). Unknown, expired or already decided credentials get an error page,
/// never a redirect.
///
/// [RFC 5849 §2.2]: https://www.rfc-editor.org/rfc/rfc5849#section-2.2
async fn show(req: HttpRequest, shared: web::Data<Shared>) -> HttpResponse {
    let Some(params) = Params::parse(req.query_string().as_bytes()) else {
        return pages::bad_request("The query string is malformed.");
    };
    let Ok(Some(token)) = params.get("oauth_token") else {
        return pages::bad_request("The oauth_token parameter is missing or repeated.");
    };
    let Some(pending) = shared.oauth1().pending(token) else {
        return pages::bad_request(
            "The oauth_token is unknown, expired, or was already approved or denied.",
        );
    };
    pages::consent(&Consent {
        action: "/oauth1/authorize",
        client_id: &pending.consumer_key,
        redirect_uri: Some(&pending.callback),
        scope: None,
        users: &shared.config.users,
        hidden: vec![("oauth_token", token)],
    })
}

/// `POST /oauth1/authorize`: the user's decision. Approval redirects to the callback with
/// `oauth_token` and a fresh `oauth_verifier` ([RFC 5849 §2.2]); denial redirects with
/// `denied=<oauth_token>` (as Twitter does) and forgets the temporary credentials.
///
/// [RFC 5849 §2.2]: https://www.rfc-editor.org/rfc/rfc5849#section-2.2
async fn decide(body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let Some(params) = Params::parse(&body) else {
        return pages::bad_request("The form is malformed.");
    };
    let (Ok(Some(token)), Ok(decision), Ok(user)) = (
        params.get("oauth_token"),
        params.get("decision"),
        params.get("user"),
    ) else {
        return pages::bad_request("The oauth_token is missing, or a field is repeated.");
    };
    let not_pending = "The oauth_token is unknown, expired, or was already approved or denied.";
    let (callback, added) = match decision {
        Some("approve") => {
            let Some(user) = user.and_then(|username| shared.config.user(username)) else {
                return pages::bad_request("No such user.");
            };
            let Some((callback, verifier)) = shared.oauth1().approve(token, &user.username) else {
                return pages::bad_request(not_pending);
            };
            let verifier = verifier.secret().to_owned();
            (
                callback,
                vec![
                    ("oauth_token", token.to_owned()),
                    ("oauth_verifier", verifier),
                ],
            )
        }
        Some("deny") => {
            let Some(callback) = shared.oauth1().deny(token) else {
                return pages::bad_request(not_pending);
            };
            (callback, vec![("denied", token.to_owned())])
        }
        _ => return pages::bad_request("The decision must be approve or deny."),
    };
    let Ok(callback) = Url::parse(&callback) else {
        return pages::bad_request("The registered callback is not a URL.");
    };
    let params: Vec<(&str, Option<&str>)> = added
        .iter()
        .map(|(name, value)| (*name, Some(value.as_str())))
        .collect();
    redirect(callback, &params)
}

/// `POST /oauth1/access_token`: token credentials for approved temporary credentials and
/// their `oauth_verifier` ([RFC 5849 §2.3]), with Twitter's `user_id` and `screen_name`. The
/// temporary credentials are used up.
///
/// [RFC 5849 §2.3]: https://www.rfc-editor.org/rfc/rfc5849#section-2.3
async fn access_token(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> Result<HttpResponse, Problem> {
    let signed = verify(&req, &body, &shared, TokenUse::Temporary)?;
    let token = signed.token.as_deref().unwrap_or_default();
    let redeemed =
        shared
            .oauth1()
            .redeem(token, &signed.consumer.id, signed.param("oauth_verifier"));
    let (credentials, username) = redeemed.map_err(|error| match error {
        RedeemError::TokenRejected => Problem::token_rejected(),
        RedeemError::VerifierInvalid => Problem::unauthorized(
            "verifier_invalid",
            "The oauth_verifier is missing or wrong, or the user has not approved yet.",
        ),
    })?;
    let user = shared
        .config
        .user(&username)
        .ok_or_else(Problem::token_rejected)?;
    Ok(credentials_response(&[
        ("oauth_token", &credentials.token),
        ("oauth_token_secret", credentials.secret.secret()),
        ("user_id", &user.subject()),
        ("screen_name", &user.username),
    ]))
}

/// Verifies a request signed with token credentials; answers it and the user they speak for.
fn signed_user<'a>(
    req: &HttpRequest,
    body: &[u8],
    shared: &'a Shared,
) -> Result<(SignedRequest<'a>, &'a DevUser), Problem> {
    let signed = verify(req, body, shared, TokenUse::Access)?;
    let token = signed.token.as_deref().unwrap_or_default();
    let username = shared
        .oauth1()
        .token_user(token, &signed.consumer.id)
        .ok_or_else(Problem::token_rejected)?;
    let user = shared
        .config
        .user(&username)
        .ok_or_else(Problem::token_rejected)?;
    Ok((signed, user))
}

/// `GET|POST /oauth1/api/me`: who the token credentials speak for.
async fn me(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> Result<HttpResponse, Problem> {
    let (_, user) = signed_user(&req, &body, &shared)?;
    Ok(HttpResponse::Ok().json(json!({
        "id": user.subject(),
        "screen_name": user.username,
        "name": user.name,
        "email": user.email,
        "email_verified": user.email_verified,
    })))
}

/// `POST /oauth1/api/echo`: the method, query and form body as received (decoded; a repeated
/// name keeps its last value), and who sent them.
async fn echo(
    req: HttpRequest,
    body: web::Bytes,
    shared: web::Data<Shared>,
) -> Result<HttpResponse, Problem> {
    let (signed, user) = signed_user(&req, &body, &shared)?;
    let object = |pairs: &[(String, String)]| -> Map<String, Value> {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), Value::String(value.clone())))
            .collect()
    };
    Ok(HttpResponse::Ok().json(json!({
        "method": req.method().as_str(),
        "query": object(&signed.query),
        "form": object(&signed.form),
        "user": user.username,
    })))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use actix_web::http::{header, Method, StatusCode};
    use serde_json::{json, Value};
    use url::Url;

    use crate::{DevProvider, DevUser};
    use actix_oauth::oauth1::{percent_encode, sign, signature_base_string_url, SignatureMethod};

    const ID: &str = "consumer";
    const SECRET: &str = "consumer-secret";
    /// Has a query of its own, which the provider must keep.
    const CALLBACK: &str = "http://app.test/oauth1/callback?from=dev";

    fn start() -> DevProvider {
        DevProvider::builder()
            .client(ID, SECRET, [CALLBACK])
            .client("other", "other-secret", ["http://other.test/cb"])
            .user(DevUser::new("alice").name("Alice Example"))
            .user(DevUser::new("bob"))
            .start()
            .expect("the provider starts")
    }

    fn http() -> awc::Client {
        awc::Client::builder()
            .disable_redirects()
            .timeout(Duration::from_secs(5))
            .finish()
    }

    fn now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            .as_secs()
    }

    /// Signs requests by hand, with the crate's RFC 5849 functions; every protocol parameter
    /// can be set, so tests can replay nonces and skew timestamps.
    #[derive(Clone)]
    struct Signer {
        consumer_key: String,
        consumer_secret: String,
        token: Option<(String, String)>,
        method: SignatureMethod,
        timestamp: Option<u64>,
        nonce: Option<String>,
        /// More protocol parameters, such as `oauth_callback` or `oauth_verifier`.
        extra: Vec<(String, String)>,
    }

    impl Signer {
        fn new() -> Self {
            Self {
                consumer_key: ID.to_owned(),
                consumer_secret: SECRET.to_owned(),
                token: None,
                method: SignatureMethod::HmacSha1,
                timestamp: Some(now()),
                nonce: Some(crate::state::random_token()),
                extra: Vec::new(),
            }
        }

        fn token(mut self, token: &str, secret: &str) -> Self {
            self.token = Some((token.to_owned(), secret.to_owned()));
            self
        }

        fn method(mut self, method: SignatureMethod) -> Self {
            self.method = method;
            self
        }

        fn with(mut self, name: &str, value: &str) -> Self {
            self.extra.push((name.to_owned(), value.to_owned()));
            self
        }

        /// The protocol parameters, `oauth_signature` last, for a request to `url` (whose
        /// query is signed) with the form-encoded body `form`.
        fn params(&self, method: &str, url: &Url, form: &[(&str, &str)]) -> Vec<(String, String)> {
            let mut oauth = vec![
                ("oauth_consumer_key".to_owned(), self.consumer_key.clone()),
                (
                    "oauth_signature_method".to_owned(),
                    self.method.name().to_owned(),
                ),
                ("oauth_version".to_owned(), "1.0".to_owned()),
            ];
            if let Some(timestamp) = self.timestamp {
                oauth.push(("oauth_timestamp".to_owned(), timestamp.to_string()));
            }
            if let Some(nonce) = &self.nonce {
                oauth.push(("oauth_nonce".to_owned(), nonce.clone()));
            }
            if let Some((token, _)) = &self.token {
                oauth.push(("oauth_token".to_owned(), token.clone()));
            }
            oauth.extend(self.extra.iter().cloned());
            let params: Vec<(&str, &str)> = oauth
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .chain(form.iter().copied())
                .collect();
            let base = signature_base_string_url(method, url, &params);
            let token_secret = self.token.as_ref().map_or("", |(_, secret)| secret);
            let signature = sign(self.method, &base, &self.consumer_secret, token_secret)
                .expect("an HMAC or PLAINTEXT signature");
            oauth.push(("oauth_signature".to_owned(), signature));
            oauth
        }

        /// The `Authorization: OAuth …` header value (RFC 5849 §3.5.1), with a `realm`.
        fn header(&self, method: &str, url: &Url, form: &[(&str, &str)]) -> String {
            let params: Vec<String> = self
                .params(method, url, form)
                .iter()
                .map(|(k, v)| format!("{}=\"{}\"", percent_encode(k), percent_encode(v)))
                .collect();
            format!("OAuth realm=\"dev\", {}", params.join(", "))
        }
    }

    /// A response, read whole.
    struct Reply {
        status: StatusCode,
        headers: awc::http::header::HeaderMap,
        body: Vec<u8>,
    }

    impl Reply {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }

        /// The form-encoded fields of a credentials or problem answer.
        fn fields(&self) -> HashMap<String, String> {
            let content_type = self.headers.get(header::CONTENT_TYPE).unwrap();
            assert_eq!(content_type, "application/x-www-form-urlencoded");
            url::form_urlencoded::parse(&self.body)
                .into_owned()
                .collect()
        }

        fn field(&self, name: &str) -> String {
            self.fields()
                .remove(name)
                .unwrap_or_else(|| panic!("no {name} in {}", self.text()))
        }

        fn json(&self) -> Value {
            serde_json::from_slice(&self.body)
                .unwrap_or_else(|_| panic!("not JSON: {}", self.text()))
        }

        fn location(&self) -> Url {
            let value = self.headers.get(header::LOCATION).expect("a Location");
            Url::parse(value.to_str().unwrap()).expect("an absolute Location")
        }

        /// Asserts an OAuth problem with `status` and `problem`, answered as RFC 5849 and
        /// Problem Reporting say.
        #[track_caller]
        fn assert_problem(&self, status: StatusCode, problem: &str) {
            assert_eq!(self.status, status, "{}", self.text());
            assert_eq!(
                self.headers.get(header::WWW_AUTHENTICATE).unwrap(),
                "OAuth realm=\"dev\""
            );
            let fields = self.fields();
            assert_eq!(fields["oauth_problem"], problem, "{}", self.text());
            assert!(!fields["oauth_problem_advice"].is_empty());
        }
    }

    async fn send(
        method: Method,
        url: &Url,
        authorization: Option<&str>,
        form: Option<&[(&str, &str)]>,
    ) -> Reply {
        let mut request = http().request(method, url.as_str());
        if let Some(authorization) = authorization {
            request = request.insert_header((header::AUTHORIZATION, authorization));
        }
        let mut response = match form {
            Some(form) => request.send_form(&form).await,
            None => request.send().await,
        }
        .expect("a response");
        let body = response.body().await.expect("a body").to_vec();
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            body,
        }
    }

    /// A signed `POST` with the form `form`.
    async fn post(url: &Url, signer: &Signer, form: &[(&str, &str)]) -> Reply {
        let header = signer.header("POST", url, form);
        send(Method::POST, url, Some(&header), Some(form)).await
    }

    /// A signed `GET`.
    async fn get(url: &Url, signer: &Signer) -> Reply {
        let header = signer.header("GET", url, &[]);
        send(Method::GET, url, Some(&header), None).await
    }

    fn me(dev: &DevProvider) -> Url {
        dev.oauth1_api_url().join("me").unwrap()
    }

    fn param(url: &Url, name: &str) -> Option<String> {
        url.query_pairs()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.into_owned())
    }

    /// Temporary credentials, signed with `signer` plus the callback.
    async fn temporary(dev: &DevProvider, signer: Signer) -> (String, String) {
        let signer = signer.with("oauth_callback", CALLBACK);
        let reply = post(&dev.oauth1_request_token_url(), &signer, &[]).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(
            reply.headers.get(header::CACHE_CONTROL).unwrap(),
            "no-store"
        );
        let fields = reply.fields();
        assert_eq!(fields["oauth_callback_confirmed"], "true");
        (
            fields["oauth_token"].clone(),
            fields["oauth_token_secret"].clone(),
        )
    }

    /// Posts the consent form; answers the redirect to the callback.
    async fn decide(dev: &DevProvider, token: &str, decision: &str) -> Url {
        let form = [
            ("oauth_token", token),
            ("user", "alice"),
            ("decision", decision),
        ];
        let reply = send(Method::POST, &dev.oauth1_authorize_url(), None, Some(&form)).await;
        assert_eq!(reply.status, StatusCode::FOUND, "{}", reply.text());
        reply.location()
    }

    /// Temporary credentials approved by alice: token, secret, verifier.
    async fn approved(dev: &DevProvider) -> (String, String, String) {
        let (token, secret) = temporary(dev, Signer::new()).await;
        let back = decide(dev, &token, "approve").await;
        let verifier = param(&back, "oauth_verifier").expect("a verifier");
        (token, secret, verifier)
    }

    async fn exchange(dev: &DevProvider, signer: &Signer) -> Reply {
        post(&dev.oauth1_access_token_url(), signer, &[]).await
    }

    /// Token credentials for alice: token and secret.
    async fn token_credentials(dev: &DevProvider) -> (String, String) {
        let (token, secret, verifier) = approved(dev).await;
        let signer = Signer::new()
            .token(&token, &secret)
            .with("oauth_verifier", &verifier);
        let reply = exchange(dev, &signer).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        (
            reply.field("oauth_token"),
            reply.field("oauth_token_secret"),
        )
    }

    fn alice() -> Value {
        json!({
            "id": "dev-alice",
            "screen_name": "alice",
            "name": "Alice Example",
            "email": "alice@example.test",
            "email_verified": true,
        })
    }

    #[actix_rt::test]
    async fn three_legged_flow_with_hmac_sha1() {
        let dev = start();
        let (token, secret) = temporary(&dev, Signer::new()).await;
        assert!(token.len() >= 22 && secret.len() >= 22, "at least 128 bits");

        let mut consent = dev.oauth1_authorize_url();
        consent.query_pairs_mut().append_pair("oauth_token", &token);
        let page = send(Method::GET, &consent, None, None).await;
        assert_eq!(page.status, StatusCode::OK);
        let page = page.text();
        assert!(page.contains(r#"type="radio" name="user" id="user-0" value="alice" checked"#));
        assert!(page.contains(r#"value="bob""#));
        assert!(page.contains(r#"id="approve""#) && page.contains(r#"id="deny""#));
        assert!(page.contains(r#"<form method="post" action="/oauth1/authorize">"#));
        assert!(page.contains(&format!(
            r#"<input type="hidden" name="oauth_token" value="{token}">"#
        )));
        assert!(page.contains("<code>consumer</code>"));

        let back = decide(&dev, &token, "approve").await;
        assert!(back
            .as_str()
            .starts_with("http://app.test/oauth1/callback?from=dev&oauth_token="));
        assert_eq!(param(&back, "oauth_token").as_deref(), Some(token.as_str()));
        let verifier = param(&back, "oauth_verifier").expect("a verifier");
        assert!(verifier.len() >= 22);
        // Decided: the consent page is gone.
        assert_eq!(
            send(Method::GET, &consent, None, None).await.status,
            StatusCode::BAD_REQUEST
        );

        let signer = Signer::new()
            .token(&token, &secret)
            .with("oauth_verifier", &verifier);
        let reply = exchange(&dev, &signer).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let fields = reply.fields();
        assert_eq!(fields["user_id"], "dev-alice");
        assert_eq!(fields["screen_name"], "alice");
        let (access, access_secret) = (&fields["oauth_token"], &fields["oauth_token_secret"]);
        assert_ne!(access, &token);

        let signer = Signer::new().token(access, access_secret);
        let reply = get(&me(&dev), &signer).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(reply.json(), alice());
        let reply = post(
            &me(&dev),
            &Signer {
                nonce: Some("n2".into()),
                ..signer
            },
            &[],
        )
        .await;
        assert_eq!(reply.json(), alice());
    }

    #[actix_rt::test]
    async fn hmac_sha256_and_plaintext_are_accepted() {
        let dev = start();
        let (token, secret) =
            temporary(&dev, Signer::new().method(SignatureMethod::HmacSha256)).await;
        let back = decide(&dev, &token, "approve").await;
        let verifier = param(&back, "oauth_verifier").unwrap();

        // PLAINTEXT may omit the timestamp and nonce (RFC 5849 §3.1), but not just one.
        let signer = Signer {
            timestamp: None,
            ..Signer::new()
                .method(SignatureMethod::Plaintext)
                .token(&token, &secret)
                .with("oauth_verifier", &verifier)
        };
        let reply = exchange(&dev, &signer).await;
        reply.assert_problem(StatusCode::BAD_REQUEST, "parameter_absent");
        assert_eq!(reply.field("oauth_parameters_absent"), "oauth_timestamp");
        let signer = Signer {
            nonce: None,
            ..signer
        };
        let reply = exchange(&dev, &signer).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let (access, access_secret) = (
            reply.field("oauth_token"),
            reply.field("oauth_token_secret"),
        );

        for method in [SignatureMethod::HmacSha256, SignatureMethod::Plaintext] {
            let reply = get(
                &me(&dev),
                &Signer::new().method(method).token(&access, &access_secret),
            )
            .await;
            assert_eq!((reply.status, reply.json()), (StatusCode::OK, alice()));
        }
        let wrong = Signer::new()
            .method(SignatureMethod::Plaintext)
            .token(&access, "not-the-secret");
        get(&me(&dev), &wrong)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "signature_invalid");
    }

    #[actix_rt::test]
    async fn denial_redirects_with_denied() {
        let dev = start();
        let (token, secret) = temporary(&dev, Signer::new()).await;
        let back = decide(&dev, &token, "deny").await;
        assert_eq!(param(&back, "denied").as_deref(), Some(token.as_str()));
        assert_eq!(param(&back, "from").as_deref(), Some("dev"));
        assert_eq!(param(&back, "oauth_verifier"), None);

        // The temporary credentials are forgotten.
        let mut consent = dev.oauth1_authorize_url();
        consent.query_pairs_mut().append_pair("oauth_token", &token);
        let page = send(Method::GET, &consent, None, None).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        assert!(page.headers.get(header::LOCATION).is_none());
        let signer = Signer::new()
            .token(&token, &secret)
            .with("oauth_verifier", "anything");
        exchange(&dev, &signer)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "token_rejected");
    }

    #[actix_rt::test]
    async fn a_wrong_consumer_secret_is_signature_invalid() {
        let dev = start();
        let wrong = Signer {
            consumer_secret: "not-the-secret".into(),
            ..Signer::new().with("oauth_callback", CALLBACK)
        };
        let reply = post(&dev.oauth1_request_token_url(), &wrong, &[]).await;
        reply.assert_problem(StatusCode::UNAUTHORIZED, "signature_invalid");
        // The base string the provider computed helps debugging; no secret is in it.
        let base = reply.field("oauth_signature_base_string");
        assert!(base.starts_with("POST&http%3A%2F%2F127.0.0.1%3A"), "{base}");
        assert!(!reply.text().contains("secret"), "{}", reply.text());

        // Another consumer's secret is just as wrong.
        let (access, access_secret) = token_credentials(&dev).await;
        let other = Signer {
            consumer_secret: "other-secret".into(),
            ..Signer::new().token(&access, &access_secret)
        };
        get(&me(&dev), &other)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "signature_invalid");
        // And another consumer cannot use alice's token credentials at all.
        let other = Signer {
            consumer_key: "other".into(),
            consumer_secret: "other-secret".into(),
            ..Signer::new().token(&access, &access_secret)
        };
        get(&me(&dev), &other)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "token_rejected");
    }

    #[actix_rt::test]
    async fn a_reused_nonce_is_refused() {
        let dev = start();
        let (access, access_secret) = token_credentials(&dev).await;
        let signer = Signer::new().token(&access, &access_secret);
        let url = me(&dev);
        let header = signer.header("GET", &url, &[]);
        let first = send(Method::GET, &url, Some(&header), None).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text());
        send(Method::GET, &url, Some(&header), None)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "nonce_used");

        // The same nonce with another timestamp is another request.
        let later = Signer {
            timestamp: signer.timestamp.map(|t| t + 1),
            ..signer.clone()
        };
        assert_eq!(get(&url, &later).await.status, StatusCode::OK);

        // A nonce is only spent by a request whose signature checked out.
        let forged = Signer {
            consumer_secret: "guess".into(),
            nonce: Some("fresh".into()),
            ..signer.clone()
        };
        get(&url, &forged)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "signature_invalid");
        let genuine = Signer {
            nonce: Some("fresh".into()),
            ..signer
        };
        assert_eq!(get(&url, &genuine).await.status, StatusCode::OK);
    }

    #[actix_rt::test]
    async fn a_stale_or_future_timestamp_is_refused() {
        let dev = start();
        let now = now();
        // Well past the 300-second window: the provider reads its clock a moment after ours.
        for timestamp in [now - 3600, now - 330, now + 330, 0] {
            let signer = Signer {
                timestamp: Some(timestamp),
                ..Signer::new().with("oauth_callback", CALLBACK)
            };
            let reply = post(&dev.oauth1_request_token_url(), &signer, &[]).await;
            reply.assert_problem(StatusCode::UNAUTHORIZED, "timestamp_refused");
            let window = reply.field("oauth_acceptable_timestamps");
            let (from, to) = window.split_once('-').expect("a range");
            let (from, to): (u64, u64) = (from.parse().unwrap(), to.parse().unwrap());
            assert_eq!(to - from, 600, "{window}");
            assert!(from <= now && now <= to, "{window}");
        }
        for timestamp in [now - 250, now + 250] {
            let signer = Signer {
                timestamp: Some(timestamp),
                ..Signer::new()
            };
            temporary(&dev, signer).await;
        }
    }

    #[actix_rt::test]
    async fn a_wrong_or_missing_verifier_is_refused() {
        let dev = start();
        // Not approved yet: no verifier can be right.
        let (token, secret) = temporary(&dev, Signer::new()).await;
        let signer = Signer::new()
            .token(&token, &secret)
            .with("oauth_verifier", "guess");
        exchange(&dev, &signer)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "verifier_invalid");

        let back = decide(&dev, &token, "approve").await;
        let verifier = param(&back, "oauth_verifier").unwrap();
        for signer in [
            Signer::new().token(&token, &secret),
            Signer::new()
                .token(&token, &secret)
                .with("oauth_verifier", &format!("{verifier}x")),
        ] {
            exchange(&dev, &signer)
                .await
                .assert_problem(StatusCode::UNAUTHORIZED, "verifier_invalid");
        }
        // A wrong verifier does not use the temporary credentials up; the verifier may also
        // come in the form body.
        let signer = Signer::new().token(&token, &secret);
        let form = [("oauth_verifier", verifier.as_str())];
        let reply = post(&dev.oauth1_access_token_url(), &signer, &form).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    }

    #[actix_rt::test]
    async fn temporary_credentials_are_single_use() {
        let dev = start();
        let (token, secret, verifier) = approved(&dev).await;
        let signer = Signer::new()
            .token(&token, &secret)
            .with("oauth_verifier", &verifier);
        let reply = exchange(&dev, &signer).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        let (access, access_secret) = (
            reply.field("oauth_token"),
            reply.field("oauth_token_secret"),
        );

        let again = Signer {
            nonce: Some("another".into()),
            ..signer
        };
        exchange(&dev, &again)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "token_rejected");

        // Each kind of credentials is only good where it belongs.
        let (pending, pending_secret) = temporary(&dev, Signer::new()).await;
        get(&me(&dev), &Signer::new().token(&pending, &pending_secret))
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "token_rejected");
        let signer = Signer::new()
            .token(&access, &access_secret)
            .with("oauth_verifier", &verifier);
        exchange(&dev, &signer)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "token_rejected");
        get(&me(&dev), &Signer::new().token("unknown", ""))
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "token_rejected");
    }

    #[actix_rt::test]
    async fn signed_form_bodies_and_queries_reach_the_api() {
        let dev = start();
        let (access, access_secret) = token_credentials(&dev).await;
        // A fresh nonce for each request.
        let signer = || Signer::new().token(&access, &access_secret);
        let mut url = dev.oauth1_api_url().join("echo?page=2&q=a+b").unwrap();
        url.query_pairs_mut().append_pair("sym", "~!*'()&=");
        let status = "Hello Ladies + Gentlemen, a signed OAuth request!";
        let form = [
            ("status", status),
            ("include_entities", "true"),
            ("empty", ""),
        ];
        let reply = post(&url, &signer(), &form).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
        assert_eq!(
            reply.json(),
            json!({
                "method": "POST",
                "query": { "page": "2", "q": "a b", "sym": "~!*'()&=" },
                "form": { "status": status, "include_entities": "true", "empty": "" },
                "user": "alice",
            })
        );

        // The body is signed: another body is refused.
        let header = signer().header("POST", &url, &form);
        let tampered = [
            ("status", "Goodbye"),
            ("include_entities", "true"),
            ("empty", ""),
        ];
        send(Method::POST, &url, Some(&header), Some(&tampered))
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "signature_invalid");
        // So is the query.
        let mut me = me(&dev);
        me.set_query(Some("include_email=true&x=%2F+"));
        let header = signer().header("GET", &me, &[]);
        let mut other = me.clone();
        other.set_query(Some("include_email=false&x=%2F+"));
        send(Method::GET, &other, Some(&header), None)
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "signature_invalid");
        let reply = send(Method::GET, &me, Some(&header), None).await;
        assert_eq!((reply.status, reply.json()), (StatusCode::OK, alice()));
        // A body that is not form-encoded is not signed.
        let header = signer().header("POST", &url, &[]);
        let mut response = http()
            .post(url.as_str())
            .insert_header((header::AUTHORIZATION, header))
            .content_type("text/plain")
            .send_body("status=unsigned")
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["form"], json!({}));
    }

    #[actix_rt::test]
    async fn protocol_parameters_may_come_from_the_body_or_query_once() {
        let dev = start();
        let signer = Signer::new().with("oauth_callback", CALLBACK);
        let url = dev.oauth1_request_token_url();
        let params = signer.params("POST", &url, &[]);
        let form: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let reply = send(Method::POST, &url, None, Some(&form)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

        let (access, access_secret) = token_credentials(&dev).await;
        let signer = Signer::new().token(&access, &access_secret);
        let mut url = me(&dev);
        url.query_pairs_mut()
            .extend_pairs(signer.params("GET", &me(&dev), &[]));
        let reply = send(Method::GET, &url, None, None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());

        // The same parameter in the header and the query.
        let signer = Signer {
            nonce: Some("dup".into()),
            ..signer
        };
        let mut url = me(&dev);
        url.query_pairs_mut().append_pair("oauth_nonce", "dup");
        let header = signer.header("GET", &me(&dev), &[]);
        let reply = send(Method::GET, &url, Some(&header), None).await;
        reply.assert_problem(StatusCode::BAD_REQUEST, "parameter_rejected");
        assert_eq!(reply.field("oauth_parameters_rejected"), "oauth_nonce");
    }

    #[actix_rt::test]
    async fn malformed_requests_are_refused() {
        let dev = start();
        let url = dev.oauth1_request_token_url();
        let with_callback = || Signer::new().with("oauth_callback", CALLBACK);
        let cases = [
            (
                Signer {
                    consumer_key: "nobody".into(),
                    ..with_callback()
                },
                StatusCode::UNAUTHORIZED,
                "consumer_key_unknown",
            ),
            (
                with_callback().method(SignatureMethod::RsaSha1),
                StatusCode::BAD_REQUEST,
                "signature_method_rejected",
            ),
            (
                Signer {
                    nonce: None,
                    ..with_callback()
                },
                StatusCode::BAD_REQUEST,
                "parameter_absent",
            ),
            (Signer::new(), StatusCode::BAD_REQUEST, "parameter_absent"),
            (
                Signer {
                    nonce: Some("n".repeat(257)),
                    ..with_callback()
                },
                StatusCode::BAD_REQUEST,
                "parameter_rejected",
            ),
            (
                Signer::new().with("oauth_callback", "http://app.test/oauth1/callback"),
                StatusCode::UNAUTHORIZED,
                "parameter_rejected",
            ),
            (
                with_callback().token("t", "s"),
                StatusCode::BAD_REQUEST,
                "parameter_rejected",
            ),
            (
                with_callback().with("oauth_version", "2.0"),
                StatusCode::BAD_REQUEST,
                "parameter_rejected",
            ),
        ];
        for (signer, status, problem) in cases {
            let header = match signer.method {
                // We cannot sign RSA-SHA1 here; the provider refuses it before any signature.
                SignatureMethod::RsaSha1 => {
                    "OAuth oauth_consumer_key=\"consumer\", oauth_signature_method=\"RSA-SHA1\", \
                     oauth_signature=\"x\", oauth_timestamp=\"1\", oauth_nonce=\"n\""
                        .to_owned()
                }
                _ => signer.header("POST", &url, &[]),
            };
            send(Method::POST, &url, Some(&header), Some(&[]))
                .await
                .assert_problem(status, problem);
        }

        let version = Signer::new()
            .with("oauth_callback", CALLBACK)
            .with("oauth_version", "2.0");
        let header = version
            .header("POST", &url, &[])
            .replace("oauth_version=\"1.0\", ", "");
        let reply = send(Method::POST, &url, Some(&header), Some(&[])).await;
        reply.assert_problem(StatusCode::BAD_REQUEST, "version_rejected");

        let reply = send(Method::POST, &url, None, Some(&[])).await;
        reply.assert_problem(StatusCode::BAD_REQUEST, "parameter_absent");
        assert_eq!(
            reply.field("oauth_parameters_absent"),
            "oauth_consumer_key&oauth_signature_method&oauth_signature&oauth_timestamp&oauth_nonce"
        );
        for header in [
            "OAuth garbage",
            "OAuth oauth_nonce=\"%zz\"",
            "OAuth oauth_consumer_key=\"consumer\", status=\"x\"",
        ] {
            send(Method::POST, &url, Some(header), Some(&[]))
                .await
                .assert_problem(StatusCode::BAD_REQUEST, "parameter_rejected");
        }
        let timestamp = Signer {
            timestamp: None,
            ..with_callback().with("oauth_timestamp", "+17")
        };
        send(
            Method::POST,
            &url,
            Some(&timestamp.header("POST", &url, &[])),
            Some(&[]),
        )
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "parameter_rejected");

        let reply = send(Method::GET, &url, None, None).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);

        for query in ["", "oauth_token=unknown", "oauth_token=a&oauth_token=b"] {
            let mut consent = dev.oauth1_authorize_url();
            consent.set_query(Some(query));
            let page = send(Method::GET, &consent, None, None).await;
            assert_eq!(page.status, StatusCode::BAD_REQUEST, "{query}");
            assert!(page.headers.get(header::LOCATION).is_none());
            assert!(page.text().contains("Bad authorization request"));
        }
        let (token, _) = temporary(&dev, Signer::new()).await;
        for form in [
            vec![
                ("oauth_token", "unknown"),
                ("decision", "approve"),
                ("user", "alice"),
            ],
            vec![
                ("oauth_token", &token),
                ("decision", "maybe"),
                ("user", "alice"),
            ],
            vec![
                ("oauth_token", &token),
                ("decision", "approve"),
                ("user", "mallory"),
            ],
        ] {
            let reply = send(Method::POST, &dev.oauth1_authorize_url(), None, Some(&form)).await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{form:?}");
            assert!(reply.headers.get(header::LOCATION).is_none());
        }
    }

    #[test]
    fn endpoint_urls() {
        let dev = DevProvider::builder().start().expect("the provider starts");
        let base = dev.url().as_str();
        assert_eq!(
            dev.oauth1_request_token_url().as_str(),
            format!("{base}oauth1/request_token")
        );
        assert_eq!(
            dev.oauth1_authorize_url().as_str(),
            format!("{base}oauth1/authorize")
        );
        assert_eq!(
            dev.oauth1_access_token_url().as_str(),
            format!("{base}oauth1/access_token")
        );
        assert_eq!(dev.oauth1_api_url().as_str(), format!("{base}oauth1/api/"));
    }
}
