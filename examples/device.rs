//! Sign in from a command line with the device authorization grant (RFC 8628): the tool shows a
//! code and a web address, the user approves on a phone or computer, the tool polls for the
//! token and says who signed in. No actix-web server, no browser on this machine.
//!
//! ```text
//! cargo run --example device                      # offline: its own development provider
//! cargo run --example device -- --approve-as alice  # …and approves by itself (a demo, CI)
//! cargo run --example device -- --issuer https://accounts.example.com \
//!     --client-id ID [--client-secret SECRET] [--scope "openid profile email"]
//! ```
//!
//! Every flag may be given by the environment instead: `DEVICE_ISSUER`, `DEVICE_CLIENT_ID`,
//! `DEVICE_CLIENT_SECRET`, `DEVICE_SCOPE`. A real provider must advertise a
//! `device_authorization_endpoint` in its discovery document and allow the client the grant
//! `urn:ietf:params:oauth:grant-type:device_code`. Without `--client-secret` the tool is a
//! public client (`token_endpoint_auth_method` `none`), as tools handed to users should be.

use std::{process::ExitCode, time::Duration};

use actix_oauth::{ClientAuth, OAuth, OAuthError, RemoteApp};
use actix_oauth_dev::{DevAlgorithm, DevClientAuth, DevProvider, DevUser};

/// The value of `--name VALUE` (or `--name=VALUE`), else of the environment variable `env`.
fn setting(name: &str, env: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == name {
            return args.next();
        }
        if let Some(value) = arg.strip_prefix(&format!("{name}=")) {
            return Some(value.to_owned());
        }
    }
    std::env::var(env).ok().filter(|v| !v.is_empty())
}

/// Approves the device authorization whose `verification_uri_complete` is `complete` in the
/// development provider's page, as user `username` would: what a person does on their phone.
async fn approve(complete: &url::Url, username: &str) -> Result<(), String> {
    let client = awc::Client::new();
    let mut page = client
        .get(complete.as_str())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !page.status().is_success() {
        return Err(format!("the device page answered {}", page.status()));
    }
    // The development provider's consent form carries the user code as its one hidden field.
    let html = page.body().await.map_err(|e| e.to_string())?;
    let html = String::from_utf8_lossy(&html);
    let user_code = complete
        .query_pairs()
        .find(|(name, _)| name == "user_code")
        .map(|(_, value)| value.into_owned())
        .ok_or("the complete URI has no user_code")?;
    if !html.contains("value=\"approve\"") {
        return Err("the device page offers no approval".to_owned());
    }
    let answer = client
        .post(complete.as_str())
        .send_form(&[
            ("user_code", user_code.as_str()),
            ("user", username),
            ("decision", "approve"),
        ])
        .await
        .map_err(|e| e.to_string())?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("the approval answered {}", answer.status()))
    }
}

async fn run() -> Result<(), String> {
    let approve_as = setting("--approve-as", "DEVICE_APPROVE_AS");
    // Without an issuer: a development provider of our own, so the example runs offline.
    let mut _dev = None;
    let (issuer, client_id, client_secret) = match setting("--issuer", "DEVICE_ISSUER") {
        Some(issuer) => (
            issuer,
            setting("--client-id", "DEVICE_CLIENT_ID").ok_or("--client-id is required")?,
            // Without a secret: a public client, as command-line tools usually are.
            setting("--client-secret", "DEVICE_CLIENT_SECRET"),
        ),
        None => {
            // A public client: a tool handed to users cannot keep a secret.
            let dev = DevProvider::builder()
                .client("device-example", "", ["http://127.0.0.1/"])
                .client_auth("device-example", DevClientAuth::None)
                .user(DevUser::new("alice").name("Alice Example"))
                .id_token_algorithm(DevAlgorithm::Es256)
                .device_interval(Duration::from_secs(1))
                .start()
                .map_err(|e| format!("the development provider did not start: {e}"))?;
            let issuer = dev.issuer().to_owned();
            _dev = Some(dev);
            (issuer, "device-example".to_owned(), None)
        }
    };
    let scope = setting("--scope", "DEVICE_SCOPE").unwrap_or_else(|| "openid profile email".into());
    let app = RemoteApp::builder("cli")
        .issuer(issuer)
        .client_id(client_id)
        .scope(scope.split_whitespace());
    let app = match client_secret {
        Some(secret) => app.client_secret(secret),
        None => app.client_auth(ClientAuth::None),
    };
    let oauth = OAuth::new()
        .remote_app(app)
        .build()
        .map_err(|e| e.to_string())?;

    let authorization = oauth
        .device_authorization("cli")
        .await
        .map_err(|e| e.to_string())?;
    println!(
        "To sign in, open {} and enter the code {}",
        authorization.verification_uri(),
        authorization.user_code()
    );
    if let Some(complete) = authorization.verification_uri_complete() {
        println!("(or open {complete})");
    }
    println!(
        "Waiting for approval (the code expires in {} s)…",
        authorization.expires_in().as_secs()
    );
    if let (Some(username), Some(complete)) =
        (&approve_as, authorization.verification_uri_complete())
    {
        approve(complete, username).await?;
        println!("(approved as {username} by --approve-as)");
    }

    let token = match oauth.device_token("cli", &authorization).await {
        Ok(token) => token,
        Err(OAuthError::Denied) => return Err("The sign-in was denied.".to_owned()),
        Err(OAuthError::DeviceExpired) => {
            return Err("The code expired before it was approved; run again.".to_owned())
        }
        Err(e) => return Err(e.to_string()),
    };
    match token.id_token_claims() {
        Some(claims) => {
            let text = |name: &str| claims.get(name).and_then(|v| v.as_str());
            let who = text("name")
                .or_else(|| text("preferred_username"))
                .or_else(|| text("sub"))
                .unwrap_or("an unnamed user");
            match text("email") {
                Some(email) => println!("Signed in as {who} <{email}>"),
                None => println!("Signed in as {who}"),
            }
        }
        None => println!("Signed in (the provider sent no ID token)."),
    }
    Ok(())
}

#[actix_web::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}
