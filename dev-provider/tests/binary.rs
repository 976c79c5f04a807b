//! The `actix-oauth-dev` binary, driven as an app in another language would: started with
//! `--bind` and `--client`, its issuer read from standard output, then a whole OpenID Connect
//! authorization-code sign-in over real HTTP on loopback (discovery, the consent page, the code,
//! the token endpoint with the registered secret, userinfo), the refusals of an unknown client
//! and of an unregistered redirect URI, bad arguments, and SIGTERM.

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use url::Url;

const BIN: &str = env!("CARGO_BIN_EXE_actix-oauth-dev");
const ID: &str = "any-language-app";
const SECRET: &str = "its-secret";
/// A redirect URI with a port and a query: everything after the second colon of `--client`.
const REDIRECT: &str = "http://127.0.0.1:8080/auth/dev/callback?from=binary";

/// The running binary; killed (and reaped) if a test ends before stopping it.
struct Running {
    child: Child,
    /// Kept open so that the binary never writes to a closed pipe.
    stdout: BufReader<ChildStdout>,
    issuer: Url,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary with `args` and reads its `issuer: URL` line.
fn start(args: &[&str]) -> Running {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the binary starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("a line on stdout");
    let issuer = line
        .trim_end()
        .strip_prefix("issuer: ")
        .unwrap_or_else(|| panic!("an issuer line, not {line:?}"));
    let issuer = Url::parse(issuer).expect("the issuer is a URL");
    Running {
        child,
        stdout,
        issuer,
    }
}

fn http() -> awc::Client {
    awc::Client::builder()
        .disable_redirects()
        .timeout(Duration::from_secs(10))
        .finish()
}

/// Sends `request` and answers the status, the `Location` (if any) and the body.
async fn send(
    request: awc::ClientRequest,
    form: Option<&[(&str, &str)]>,
) -> (StatusCode, Option<Url>, Vec<u8>) {
    let mut response = match form {
        Some(form) => request.send_form(&form).await,
        None => request.send().await,
    }
    .expect("the provider answers");
    let location = response.headers().get(header::LOCATION).map(|value| {
        Url::parse(value.to_str().expect("an ASCII Location")).expect("an absolute Location")
    });
    let body = response.body().limit(1 << 20).await.expect("a body");
    (response.status(), location, body.to_vec())
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("a JSON body")
}

fn param(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// Undoes the consent page's HTML escaping.
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The value of attribute `name` in one HTML tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(unescape(&tag[start..end]))
}

/// What a browser submits when the user presses "Approve" on the consent page: the form's
/// action, its hidden fields, the checked user and `decision=approve`.
fn approve_form(page: &str) -> (String, Vec<(String, String)>) {
    let form = page.find("<form").expect("a form on the consent page");
    let form_tag = &page[form..form + page[form..].find('>').expect("a whole tag")];
    let action = attribute(form_tag, "action").expect("a form action");
    let mut fields = Vec::new();
    for tag in page[form..]
        .split('<')
        .filter(|tag| tag.starts_with("input "))
    {
        let kind = attribute(tag, "type").unwrap_or_default();
        let checked = tag.contains(" checked");
        if kind == "hidden" || (kind == "radio" && checked) {
            fields.push((
                attribute(tag, "name").expect("a name"),
                attribute(tag, "value").expect("a value"),
            ));
        }
    }
    fields.push(("decision".to_owned(), "approve".to_owned()));
    (action, fields)
}

#[actix_rt::test]
async fn an_app_signs_in_against_the_binary_over_http() {
    let client = format!("{ID}:{SECRET}:{REDIRECT}");
    let dev = start(&["--bind", "127.0.0.1:0", "--client", &client]);
    assert_eq!(dev.issuer.host_str(), Some("127.0.0.1"));
    assert_ne!(
        dev.issuer.port(),
        Some(0),
        "the port actually bound is printed"
    );

    // Discovery, as any OpenID Connect library starts.
    let discovery = format!(
        "{}/.well-known/openid-configuration",
        dev.issuer.as_str().trim_end_matches('/')
    );
    let (status, _, body) = send(http().get(discovery), None).await;
    assert_eq!(status, StatusCode::OK);
    let metadata = json(&body);
    assert_eq!(
        metadata["issuer"].as_str(),
        Some(dev.issuer.as_str().trim_end_matches('/'))
    );
    let endpoint = |name: &str| {
        Url::parse(metadata[name].as_str().expect("an endpoint")).expect("an endpoint URL")
    };
    let (authorize, token, userinfo) = (
        endpoint("authorization_endpoint"),
        endpoint("token_endpoint"),
        endpoint("userinfo_endpoint"),
    );

    // The authorization request with PKCE S256, then the consent page a browser would show.
    let verifier = "a-fresh-verifier-of-enough-length-for-rfc-7636-0123456789";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier));
    let mut request = authorize.clone();
    request.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", ID),
        ("redirect_uri", REDIRECT),
        ("scope", "openid profile email"),
        ("state", "st4te"),
        ("nonce", "n0nce"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let (status, _, page) = send(http().get(request.as_str()), None).await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8(page).expect("an HTML page");
    let (action, fields) = approve_form(&page);
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let action = authorize.join(&action).expect("a form action URL");
    let (status, to, _) = send(http().post(action.as_str()), Some(&fields)).await;
    assert_eq!(status, StatusCode::FOUND);
    let to = to.expect("a redirect back to the app");
    assert!(
        to.as_str().starts_with(REDIRECT),
        "back to the registered URI: {to}"
    );
    assert_eq!(param(&to, "from").as_deref(), Some("binary"));
    assert_eq!(param(&to, "state").as_deref(), Some("st4te"));
    assert_eq!(
        param(&to, "iss").as_deref(),
        Some(dev.issuer.as_str().trim_end_matches('/'))
    );
    let code = param(&to, "code").expect("an authorization code");

    // The code exchange with the registered secret (HTTP Basic, the default of most libraries).
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("code_verifier", verifier),
    ];
    let (status, _, body) = send(
        http().post(token.as_str()).basic_auth(ID, SECRET),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let tokens = json(&body);
    assert!(tokens["token_type"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case("bearer")));
    assert!(tokens["id_token"]
        .as_str()
        .is_some_and(|t| t.split('.').count() == 3));
    let access = tokens["access_token"].as_str().expect("an access token");
    // The id_token's claims (its signature is the OpenID Connect library's job, tested in
    // actix-oauth): this client, this issuer, this request's nonce.
    let id_token = tokens["id_token"].as_str().unwrap_or_default();
    let payload = id_token.split('.').nth(1).expect("a JWT payload");
    let claims = json(&URL_SAFE_NO_PAD.decode(payload).expect("base64url claims"));
    assert_eq!(claims["aud"], ID);
    assert_eq!(claims["iss"], dev.issuer.as_str().trim_end_matches('/'));
    assert_eq!(claims["nonce"], "n0nce");
    assert_eq!(claims["sub"], "dev-alice");

    let (status, _, body) = send(http().get(userinfo.as_str()).bearer_auth(access), None).await;
    assert_eq!(status, StatusCode::OK);
    let user = json(&body);
    assert_eq!(user["preferred_username"], "alice");
    assert_eq!(user["email"], "alice@example.test");
    assert_eq!(user["email_verified"], true);

    // The same code again is refused, and revokes what it gave (RFC 6749 §4.1.2).
    let (status, _, body) = send(
        http().post(token.as_str()).basic_auth(ID, SECRET),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&body)["error"], "invalid_grant");

    let (status, _, _) = send(http().get(userinfo.as_str()).bearer_auth(access), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[actix_rt::test]
async fn unknown_clients_wrong_redirects_and_wrong_secrets_are_refused() {
    let client = format!("{ID}:{SECRET}:{REDIRECT}");
    let dev = start(&["--client", &client]);
    let authorize = dev.issuer.join("oauth2/authorize").expect("a URL");
    for (client_id, redirect_uri) in [
        ("someone-else", REDIRECT),
        (ID, "http://127.0.0.1:8080/auth/dev/callback"),
        (ID, "http://127.0.0.1:8081/auth/dev/callback?from=binary"),
    ] {
        let mut request = authorize.clone();
        request.query_pairs_mut().extend_pairs([
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect_uri),
            ("state", "s"),
        ]);
        let (status, to, body) = send(http().get(request.as_str()), None).await;
        // Never redirected to an unverified URI (RFC 6749 §4.1.2.1): an error page instead.
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "{client_id} {redirect_uri}"
        );
        assert!(to.is_none(), "{client_id} {redirect_uri}");
        assert!(!String::from_utf8_lossy(&body).contains("<form"));
    }

    let token = dev.issuer.join("oauth2/token").expect("a URL");
    let form = [("grant_type", "client_credentials"), ("scope", "profile")];
    let (status, _, body) = send(
        http().post(token.as_str()).basic_auth(ID, "not-the-secret"),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json(&body)["error"], "invalid_client");
    let (status, _, body) = send(
        http().post(token.as_str()).basic_auth(ID, SECRET),
        Some(&form),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
}

/// Runs the binary to its end with `args`: exit code, stdout, stderr.
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn bad_arguments_exit_with_2_and_say_why() {
    for (args, says) in [
        (&[][..], "At least one --client"),
        (
            &["--client", "app-only"][..],
            "is not ID:SECRET:REDIRECT_URI",
        ),
        (
            &["--client", "app:secret:not a url"][..],
            "not an absolute URL",
        ),
        (
            &["--bind", "nowhere", "--client", "a:b:http://127.0.0.1/cb"][..],
            "is not an address and port",
        ),
        (
            &["--bind", "0.0.0.0:0", "--client", "a:b:http://127.0.0.1/cb"][..],
            "loopback addresses only",
        ),
        (&["--frobnicate"][..], "Unknown argument"),
    ] {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(
            stdout.is_empty(),
            "{args:?}: nothing on stdout, got {stdout:?}"
        );
    }
}

#[test]
fn help_explains_the_flags() {
    let (code, stdout, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    assert!(stdout.starts_with("Usage: actix-oauth-dev"));
    assert!(stdout.contains("--client ID:SECRET:REDIRECT_URI"));
    assert!(stdout.contains("--bind"));
}

#[cfg(unix)]
#[test]
fn sigterm_stops_it_cleanly() {
    let mut dev = start(&["--client", &format!("{ID}:{SECRET}:{REDIRECT}")]);
    let killed = Command::new("kill")
        .args(["-TERM", &dev.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = dev.child.wait().expect("the binary is reaped");
    assert_eq!(status.code(), Some(0), "a clean exit on SIGTERM");
    // Nothing more was printed after the issuer line.
    let mut rest = String::new();
    dev.stdout.read_to_string(&mut rest).expect("stdout closes");
    assert_eq!(rest, "");
}
