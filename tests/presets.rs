//! Each preset against a fake of its provider over loopback (`tests/common/fake/`): a full sign-in
//! through the public API — `GET /auth/{name}` on the app, the provider's authorization endpoint,
//! back to the callback, and a handler that answers `OAuthExtension::profile` — then the
//! normalized [`Profile`] and the quirk the preset exists for.
//!
//! The fakes answer as the providers document (token answers, user JSON, error bodies, client
//! authentication, discovery, RS256 `id_token`s carrying the request's nonce); the preset is
//! pointed at a fake by moving each of its own URLs (path and query kept) to the fake's origin.
#![cfg(feature = "oidc")]

mod common;

use std::collections::BTreeMap;

use actix_oauth::{
    providers::{
        self, Discord, Facebook, GitHub, GitLab, Google, LinkedIn, Microsoft, Slack, Twitch,
        Twitter,
    },
    ClientAuth, ErrorKind, OAuth, Provider, RemoteApp, RemoteAppBuilder,
};
use common::{
    fake::{
        oauth1::{self as twitter, TwitterFake},
        oauth2::{Fake, Kind},
        Answer, Fault,
    },
    preset_app::{app_with, rebase},
    Browser, Page, Running as Server,
};
use serde_json::{json, Value};
use url::Url;

/// Preset `P` with the fake's credentials, every URL it configures moved to `origin`.
fn preset<P: Provider>(kind: Kind, origin: &str) -> RemoteAppBuilder {
    preset_with::<P>(kind.client_id(), kind.client_secret(), origin)
}

fn preset_with<P: Provider>(id: &str, secret: &str, origin: &str) -> RemoteAppBuilder {
    // Built only to read its URLs (LinkedIn's preset needs the opt-in to build at all).
    let configured = RemoteApp::from_provider::<P>(id, secret)
        .insecure_allow_code_injection(true)
        .build()
        .expect("the preset builds");
    let mut app = RemoteApp::from_provider::<P>(id, secret);
    if let Some(issuer) = configured.issuer() {
        app = app.issuer(rebase(issuer, origin));
    }
    if let Some(url) = configured.authorize_url() {
        app = app.authorize_url(rebase(url.as_str(), origin));
    }
    if let Some(url) = configured.access_token_url() {
        app = app.access_token_url(rebase(url.as_str(), origin));
    }
    if let Some(url) = configured.userinfo_url() {
        app = app.userinfo_url(rebase(url.as_str(), origin));
    }
    if let Some(url) = configured.request_token_url() {
        app = app.request_token_url(rebase(url.as_str(), origin));
    }
    app.base_url(rebase(configured.base_url().as_str(), origin))
}

/// One sign-in as a browser makes it.
struct SignIn {
    /// Where the app sent the browser.
    authorize: Url,
    /// Where the provider sent it back, as the provider wrote it.
    redirect: String,
    /// The callback's answer.
    page: Page,
}

impl SignIn {
    fn authorize_query(&self) -> BTreeMap<String, String> {
        self.authorize.query_pairs().into_owned().collect()
    }

    fn redirect_query(&self) -> BTreeMap<String, String> {
        Url::parse(&self.redirect)
            .expect("redirect URL")
            .query_pairs()
            .into_owned()
            .collect()
    }

    /// The normalized profile (the callback answered 200).
    fn profile(&self) -> Value {
        assert_eq!(self.page.status, 200, "{}", self.page.text());
        self.page.json()["profile"].clone()
    }

    fn token(&self) -> Value {
        assert_eq!(self.page.status, 200, "{}", self.page.text());
        self.page.json()["token"].clone()
    }
}

async fn sign_in(browser: &Browser, app: &Server, provider: &str) -> SignIn {
    let start = browser.get(&app.url(&format!("/auth/{provider}"))).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let authorize = start.location.expect("redirect to the provider");
    let consent = browser.get(&authorize).await;
    assert_eq!(consent.status, 302, "the fake refused: {}", consent.text());
    let redirect = consent.location.expect("redirect back");
    // A browser never sends the fragment (Facebook appends `#_=_`).
    let back = redirect.split('#').next().unwrap_or_default().to_owned();
    assert!(
        back.starts_with(&app.url(&format!("/auth/{provider}/callback?"))),
        "{back}"
    );
    let page = browser.get(&back).await;
    SignIn {
        authorize: Url::parse(&authorize).expect("authorize URL"),
        redirect,
        page,
    }
}

/// The error kind of a failed page: the handler's JSON, or the crate's HTML error page.
fn error_kind(page: &Page) -> String {
    assert!(page.status >= 400, "expected a failure: {}", page.text());
    if let Ok(value) = serde_json::from_slice::<Value>(&page.body) {
        return value["error"].as_str().unwrap_or_default().to_owned();
    }
    let text = page.text();
    let start = text.find("<code>").expect("an error kind") + "<code>".len();
    let end = text[start..].find("</code>").expect("end of kind") + start;
    text[start..end].to_owned()
}

fn form(body: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect()
}

/// The first ten presets by name are their types' presets (`tests/presets_more.rs` checks that
/// `NAMES` lists all thirty).
#[test]
fn by_name_knows_the_first_ten_presets() {
    let types = [
        Discord::NAME,
        Facebook::NAME,
        GitHub::NAME,
        GitLab::NAME,
        Google::NAME,
        LinkedIn::NAME,
        Microsoft::NAME,
        Slack::NAME,
        Twitch::NAME,
        Twitter::NAME,
    ];
    assert_eq!(providers::NAMES.len(), 31);
    for name in types {
        assert!(providers::NAMES.contains(&name), "{name}");
    }
    // LinkedIn's preset builds only with PKCE or the opt-in (`linkedin_preset_needs_…`).
    let opt_in = |name: &str, app: RemoteAppBuilder| {
        app.insecure_allow_code_injection(name == LinkedIn::NAME)
    };
    fn typed<P: Provider>() -> RemoteApp {
        RemoteApp::from_provider::<P>("id", "secret")
            .insecure_allow_code_injection(P::NAME == LinkedIn::NAME)
            .build()
            .expect(P::NAME)
    }
    let by_type = [
        typed::<Discord>(),
        typed::<Facebook>(),
        typed::<GitHub>(),
        typed::<GitLab>(),
        typed::<Google>(),
        typed::<LinkedIn>(),
        typed::<Microsoft>(),
        typed::<Slack>(),
        typed::<Twitch>(),
        typed::<Twitter>(),
    ];
    for (name, typed) in types.iter().zip(&by_type) {
        let preset = providers::by_name(name).unwrap_or_else(|| panic!("no preset `{name}`"));
        let app = opt_in(name, preset(RemoteApp::builder(*name)))
            .consumer_key("id")
            .consumer_secret("secret")
            .build()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(app.name(), *name);
        assert_eq!(format!("{app:?}"), format!("{typed:?}"), "{name}");
        assert_eq!(app.is_oauth1(), *name == "twitter", "{name}");
        let oidc = [
            "google",
            "microsoft",
            "gitlab",
            "linkedin",
            "slack",
            "twitch",
        ];
        assert_eq!(app.is_oidc(), oidc.contains(name), "{name}");
    }
    for unknown in ["", "dev", "GitHub", "X", "twitter "] {
        assert!(providers::by_name(unknown).is_none(), "{unknown}");
    }
}

/// GitHub: the token answer is JSON only when asked for, `bearer` in lower case, the scope
/// comma-separated; `/user` hides the address, `/user/emails` gives the primary one and whether
/// it is verified.
#[actix_rt::test]
async fn github() {
    let fake = Fake::start(Kind::GitHub);
    // The preset's `emails_url` is relative to its base, so it moved with it.
    let app = app_with(vec![preset::<GitHub>(Kind::GitHub, fake.origin())]);
    let run = sign_in(&Browser::new(), &app, "github").await;
    assert_eq!(run.authorize.path(), "/login/oauth/authorize");
    assert_eq!(run.authorize_query()["scope"], "read:user user:email");

    let profile = run.profile();
    assert_eq!(profile["provider"], "github");
    assert_eq!(profile["subject"], "1");
    assert_eq!(profile["name"], "monalisa octocat");
    assert_eq!(profile["username"], "octocat");
    assert_eq!(profile["email"], "octocat@github.com");
    assert_eq!(profile["email_verified"], true);
    assert_eq!(
        profile["picture"],
        "https://github.com/images/error/octocat_happy.gif"
    );
    assert_eq!(profile["raw"]["node_id"], "MDQ6VXNlcjE=");
    let token = run.token();
    assert_eq!(token["token_type"], "bearer");
    assert_eq!(token["scope"], "read:user,user:email");

    // The quirks that mattered: JSON was asked for (the fake answers form-encoded otherwise),
    // the credentials went in the body, `/user/emails` was read with a User-Agent.
    let exchange = &fake.requests_to("/login/oauth/access_token")[0];
    assert_eq!(exchange.headers["accept"], "application/json");
    assert!(!exchange.headers.contains_key("authorization"));
    let sent = form(&exchange.body);
    assert_eq!(sent["client_id"], Kind::GitHub.client_id());
    assert_eq!(sent["client_secret"], Kind::GitHub.client_secret());
    assert_eq!(fake.token_answers(), ["application/json; charset=utf-8"]);
    let emails = fake.requests_to("/user/emails");
    assert_eq!(emails.len(), 1);
    assert!(emails[0].headers["user-agent"].starts_with("actix-oauth/"));
    assert!(emails[0].headers["authorization"].starts_with("Bearer gho_"));
}

#[actix_rt::test]
async fn github_unverified_primary_email_is_not_verified() {
    let fake = Fake::start_with(Kind::GitHub, |s| {
        s.emails = json!([
            {"email": "mona@example.com", "verified": true, "primary": false, "visibility": null},
            {"email": "octocat@github.com", "verified": false, "primary": true, "visibility": "public"}
        ]);
        s.user["email"] = json!("octocat@github.com");
    });
    let app = app_with(vec![preset::<GitHub>(Kind::GitHub, fake.origin())]);
    let profile = sign_in(&Browser::new(), &app, "github").await.profile();
    assert_eq!(profile["email"], "octocat@github.com");
    assert_eq!(
        profile["email_verified"], false,
        "the primary address is unverified; another verified one does not count"
    );
}

/// GitHub reports token errors with status 200 and an `error` field.
#[actix_rt::test]
async fn github_error_with_status_200_is_a_provider_error() {
    let fake = Fake::start_with(Kind::GitHub, |s| s.token_error = true);
    let app = app_with(vec![preset::<GitHub>(Kind::GitHub, fake.origin())]);
    let run = sign_in(&Browser::new(), &app, "github").await;
    assert_eq!(error_kind(&run.page), "provider");
    assert_eq!(run.page.status, 502, "{}", run.page.text());
    assert!(
        run.page.text().contains("bad_verification_code"),
        "{}",
        run.page.text()
    );
}

/// Google: discovery, RS256 `id_token` with the nonce, RFC 9207 `iss` in the callback (the
/// discovery document advertises it), HTTP Basic with a secret that needs form-encoding.
#[actix_rt::test]
async fn google() {
    let fake = Fake::start(Kind::Google);
    let app = app_with(vec![preset::<Google>(Kind::Google, fake.origin())]);
    let browser = Browser::new();
    let run = sign_in(&browser, &app, "google").await;
    assert_eq!(run.authorize.path(), "/o/oauth2/v2/auth");
    let asked = run.authorize_query();
    assert_eq!(asked["scope"], "openid email profile");
    assert_eq!(asked["code_challenge_method"], "S256");
    assert!(asked["nonce"].len() >= 43);
    assert_eq!(run.redirect_query()["iss"], fake.issuer());

    let profile = run.profile();
    assert_eq!(profile["subject"], "10769150350006150715113082367");
    assert_eq!(profile["name"], "Jane Smith");
    assert_eq!(profile["username"], Value::Null);
    assert_eq!(profile["email"], "jsmith@example.com");
    assert_eq!(profile["email_verified"], true);
    assert_eq!(
        profile["picture"],
        "https://lh3.googleusercontent.com/a/ACg8ocJexample=s96-c"
    );
    assert_eq!(profile["raw"]["hd"], "example.com");
    assert_eq!(profile["raw"]["nonce"], asked["nonce"].as_str());
    assert_eq!(profile["raw"]["aud"], Kind::Google.client_id());
    let exchange = &fake.requests_to("/token")[0];
    assert!(exchange.headers["authorization"].starts_with("Basic "));
    assert!(!form(&exchange.body).contains_key("client_secret"));
    assert!(form(&exchange.body).contains_key("code_verifier"));

    // RFC 9207 mattered: a callback whose `iss` names another server, or has none, is refused
    // before any code is exchanged.
    for tamper in [Some("https://evil.example"), None] {
        let start = browser.get(&app.url("/auth/google")).await;
        let consent = browser.get(start.location.as_deref().unwrap()).await;
        let mut back = Url::parse(consent.location.as_deref().unwrap()).unwrap();
        let kept: Vec<(String, String)> = back
            .query_pairs()
            .into_owned()
            .filter(|(k, _)| k != "iss")
            .collect();
        back.query_pairs_mut().clear().extend_pairs(&kept);
        if let Some(iss) = tamper {
            back.query_pairs_mut().append_pair("iss", iss);
        }
        let exchanges = fake.requests_to("/token").len();
        let page = browser.get(back.as_str()).await;
        assert_eq!(error_kind(&page), "issuer_mismatch", "iss {tamper:?}");
        assert_eq!(fake.requests_to("/token").len(), exchanges);
    }
}

/// Google documents `iss` as `accounts.google.com` for legacy implementations, and has sent
/// `email_verified` as the string `"true"` (ID token example in its OpenID Connect guide;
/// nov/openid_connect#12 for userinfo).
#[actix_rt::test]
async fn google_legacy_issuer_and_string_email_verified() {
    let fake = Fake::start_with(Kind::Google, |s| {
        s.id_token_issuer = Some("accounts.google.com".to_owned());
        s.string_booleans = true;
    });
    let app = app_with(vec![
        preset::<Google>(Kind::Google, fake.origin()),
        // The same provider without the preset's alternate issuer.
        RemoteApp::builder("google-strict")
            .issuer(fake.issuer())
            .scope(["openid", "email", "profile"])
            .client_id(Kind::Google.client_id())
            .client_secret(Kind::Google.client_secret()),
    ]);
    let profile = sign_in(&Browser::new(), &app, "google").await.profile();
    assert_eq!(profile["raw"]["iss"], "accounts.google.com");
    assert_eq!(profile["raw"]["email_verified"], "true");
    assert_eq!(profile["email_verified"], true);
    assert_eq!(profile["subject"], "10769150350006150715113082367");

    let strict = sign_in(&Browser::new(), &app, "google-strict").await;
    assert_eq!(error_kind(&strict.page), "id_token_issuer");
}

/// OpenID Connect Core §5.3.2: user info describing another subject than the validated
/// `id_token` is refused — also when its `sub` is a number or null, which would otherwise
/// replace the validated one in the profile.
#[actix_rt::test]
async fn userinfo_for_another_subject_is_refused() {
    for other in [
        json!("someone-else"),
        json!(10769150350006150715113082367_f64),
        Value::Null,
    ] {
        let fake = Fake::start_with(Kind::Google, |s| s.userinfo_sub = Some(other.clone()));
        let app = app_with(vec![preset::<Google>(Kind::Google, fake.origin())]);
        let run = sign_in(&Browser::new(), &app, "google").await;
        assert_eq!(error_kind(&run.page), "id_token_subject", "{other}");
    }
}

/// A fault at one endpoint of a provider that otherwise answers as documented: Google's keys
/// answering a 500, or hanging up mid-answer, sign no one in (the `id_token` cannot be
/// verified); mended, the same fake signs in again (an app of its own: a failed key fetch is
/// remembered for a while).
#[actix_rt::test]
async fn google_keys_endpoint_down_signs_no_one_in() {
    let fake = Fake::start(Kind::Google);
    let keys = Kind::Google.paths().jwks;
    let down = Answer::new(500, "text/html", "<h1>down</h1>");
    let cut = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"keys\":";
    // A keys answer that is an error is a discovery failure; a broken connection stays one.
    for (fault, kind) in [
        (Fault::Answer(down), "discovery"),
        (Fault::Raw(cut.to_vec()), "transport"),
    ] {
        fake.fail_at(keys, fault);
        let app = app_with(vec![preset::<Google>(Kind::Google, fake.origin())]);
        let run = sign_in(&Browser::new(), &app, "google").await;
        assert_eq!(run.page.status, 502, "{kind}: {}", run.page.text());
        assert_eq!(error_kind(&run.page), kind, "{}", run.page.text());
        assert_eq!(fake.requests_to(keys).len(), 1, "{kind}");
        fake.mend();
        let app = app_with(vec![preset::<Google>(Kind::Google, fake.origin())]);
        let profile = sign_in(&Browser::new(), &app, "google").await.profile();
        assert_eq!(profile["subject"], "10769150350006150715113082367");
        fake.clear_requests();
    }
}

/// Facebook: Graph API `/me` answers only `id` and `name` unless `fields` asks for more; the
/// picture is nested; the address is never taken as verified; redirects end in `#_=_`.
#[actix_rt::test]
async fn facebook() {
    let fake = Fake::start(Kind::Facebook);
    let app = app_with(vec![preset::<Facebook>(Kind::Facebook, fake.origin())]);
    let run = sign_in(&Browser::new(), &app, "facebook").await;
    assert_eq!(run.authorize.path(), "/v19.0/dialog/oauth");
    assert_eq!(run.authorize_query()["scope"], "email public_profile");
    assert!(run.redirect.ends_with("#_=_"), "{}", run.redirect);

    let profile = run.profile();
    assert_eq!(profile["subject"], "10158280837212345");
    assert_eq!(profile["name"], "Alex Example");
    assert_eq!(profile["username"], Value::Null);
    assert_eq!(profile["email"], "alex@example.com");
    assert_eq!(profile["email_verified"], false);
    assert!(profile["picture"].as_str().unwrap().starts_with(
        "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=10158280837212345"
    ));
    assert_eq!(profile["raw"]["picture"]["data"]["is_silhouette"], false);
    assert_eq!(run.token()["token_type"], "bearer");

    let me = &fake.requests_to("/v19.0/me")[0];
    assert_eq!(form(&me.query)["fields"], "id,name,email,picture");
    let exchange = &fake.requests_to("/v19.0/oauth/access_token")[0];
    assert_eq!(exchange.method, "POST");
    assert_eq!(
        form(&exchange.body)["client_secret"],
        Kind::Facebook.client_secret()
    );
    assert!(!exchange.query.contains("client_secret"));
}

fn microsoft_org_user() -> Value {
    // The user info endpoint's documented example, in a work tenant whose admin configured
    // the `xms_edov` optional claim.
    json!({
        "sub": "OLu859SGc2Sr9ZsqbkG-QbeLgJlb41KcdiPoLYNpSFA",
        "oid": "6e1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
        "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47",
        "name": "Mikah Ollenburg", "given_name": "Mikah", "family_name": "Ollenburg",
        "preferred_username": "mikoll@contoso.com", "email": "mikoll@contoso.com",
        "xms_edov": true
    })
}

/// Microsoft (`common`): the discovery document names `…/{tenantid}/v2.0`; each `id_token`'s
/// `iss` is that template filled with its own `tid`. The email counts as verified only with
/// `xms_edov`.
#[actix_rt::test]
async fn microsoft() {
    let fake = Fake::start(Kind::Microsoft);
    let app = app_with(vec![preset::<Microsoft>(Kind::Microsoft, fake.origin())]);
    let run = sign_in(&Browser::new(), &app, "microsoft").await;
    assert_eq!(run.authorize.path(), "/common/oauth2/v2.0/authorize");
    assert_eq!(run.authorize_query()["scope"], "openid email profile");

    let profile = run.profile();
    assert_eq!(
        profile["subject"],
        "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"
    );
    assert_eq!(profile["name"], "Abe Lincoln");
    assert_eq!(profile["username"], "AbeLi@microsoft.com");
    assert_eq!(profile["email"], "abeli@microsoft.com");
    assert_eq!(
        profile["email_verified"], false,
        "Microsoft does not verify `email` (nOAuth); no `xms_edov`"
    );
    assert_eq!(
        profile["picture"],
        "https://graph.microsoft.com/v1.0/me/photo/$value"
    );
    assert_eq!(
        profile["raw"]["iss"],
        format!(
            "{}/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
            fake.origin()
        )
    );
    assert!(
        fake.requests_to("/common/oauth2/v2.0/token")[0].headers["authorization"]
            .starts_with("Basic ")
    );

    // Another tenant, with `xms_edov`: verified, and its own issuer accepted.
    fake.set(|s| s.user = microsoft_org_user());
    let profile = sign_in(&Browser::new(), &app, "microsoft").await.profile();
    assert_eq!(
        profile["subject"],
        "OLu859SGc2Sr9ZsqbkG-QbeLgJlb41KcdiPoLYNpSFA"
    );
    assert_eq!(profile["username"], "mikoll@contoso.com");
    assert_eq!(profile["email_verified"], true);
    assert_eq!(
        profile["raw"]["iss"],
        format!(
            "{}/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
            fake.origin()
        )
    );

    // A token whose `iss` names another tenant than its `tid` is refused.
    fake.set(|s| {
        s.id_token_issuer = Some(format!(
            "{}/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
            fake.origin()
        ));
    });
    let run = sign_in(&Browser::new(), &app, "microsoft").await;
    assert_eq!(error_kind(&run.page), "id_token_issuer");
}

/// `Microsoft::tenant(…, "consumers")` (and a tenant named by domain): Microsoft's discovery
/// document for these names the tenant's own issuer (`…/9188040d-…/v2.0` for consumers), not
/// the configured one (openiddict/openiddict-core#1764, MicrosoftDocs/azure-docs#95994).
#[actix_rt::test]
async fn microsoft_consumers_tenant() {
    let fake = Fake::start(Kind::Microsoft);
    let kind = Kind::Microsoft;
    let app = app_with(vec![Microsoft::tenant(
        RemoteApp::builder("microsoft"),
        "consumers",
    )
    .issuer(fake.url("/consumers/v2.0"))
    .client_id(kind.client_id())
    .client_secret(kind.client_secret())]);
    let profile = sign_in(&Browser::new(), &app, "microsoft").await.profile();
    assert_eq!(
        profile["subject"],
        "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ"
    );
}

/// GitLab: Doorkeeper's token answer with `created_at`; the handle is `nickname`.
#[actix_rt::test]
async fn gitlab() {
    let fake = Fake::start(Kind::GitLab);
    let app = app_with(vec![preset::<GitLab>(Kind::GitLab, fake.origin())]);
    let run = sign_in(&Browser::new(), &app, "gitlab").await;
    assert_eq!(run.authorize.path(), "/oauth/authorize");
    assert_eq!(run.authorize_query()["scope"], "openid profile email");

    let profile = run.profile();
    assert_eq!(profile["subject"], "1");
    assert_eq!(profile["name"], "Administrator");
    assert_eq!(profile["username"], "root");
    assert_eq!(profile["email"], "admin@example.com");
    assert_eq!(profile["email_verified"], true);
    assert!(profile["picture"]
        .as_str()
        .unwrap()
        .starts_with("https://www.gravatar.com/avatar/"));
    assert_eq!(profile["raw"]["groups"], json!(["gitlab-org"]));
    let token = run.token();
    assert!(token["extra"]["created_at"].is_u64());
    assert_eq!(token["has_refresh_token"], true);
}

/// Discord: `/users/@me`, `global_name` may be `null`, and the picture is built from the avatar
/// hash.
#[actix_rt::test]
async fn discord() {
    let fake = Fake::start(Kind::Discord);
    let app = app_with(vec![preset::<Discord>(Kind::Discord, fake.origin())]);
    let run = sign_in(&Browser::new(), &app, "discord").await;
    assert_eq!(run.authorize.path(), "/oauth2/authorize");
    assert_eq!(run.authorize_query()["scope"], "identify email");

    let profile = run.profile();
    assert_eq!(profile["subject"], "80351110224678912");
    assert_eq!(profile["name"], "nelly", "no global_name: the username");
    assert_eq!(profile["username"], "nelly");
    assert_eq!(profile["email"], "nelly@discord.com");
    assert_eq!(profile["email_verified"], true);
    assert_eq!(
        profile["picture"],
        "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png"
    );
    assert_eq!(fake.requests_to("/api/users/@me").len(), 1);
    assert_eq!(run.token()["scope"], "identify email");

    // A display name, no avatar, an unverified address.
    fake.set(|s| {
        s.user["global_name"] = json!("Nelly N.");
        s.user["avatar"] = Value::Null;
        s.user["verified"] = json!(false);
    });
    let profile = sign_in(&Browser::new(), &app, "discord").await.profile();
    assert_eq!(profile["name"], "Nelly N.");
    assert_eq!(profile["picture"], Value::Null);
    assert_eq!(profile["email_verified"], false);
}

/// LinkedIn as documented: its `id_token`s carry no `nonce` (python-social-auth/social-core#833,
/// authlib/authlib#763) and its token endpoint refuses a `code_verifier` from web apps, for
/// which PKCE is not enabled (nextauthjs/next-auth#8831, LinkedIn "Native PKCE" flow). Only the
/// opt-in builds such an app (`linkedin_preset_needs_pkce_or_the_loud_opt_in`).
#[actix_rt::test]
async fn linkedin() {
    let fake = Fake::start(Kind::LinkedIn);
    let app = app_with(vec![
        preset::<LinkedIn>(Kind::LinkedIn, fake.origin()).insecure_allow_code_injection(true)
    ]);
    let profile = sign_in(&Browser::new(), &app, "linkedin").await.profile();
    assert_eq!(profile["subject"], "782bbtaQ");
    assert_eq!(profile["email_verified"], true);
}

/// The rest of LinkedIn's behaviour, for an app LinkedIn enabled PKCE for: credentials only in
/// the body, a token answer without `token_type`.
#[actix_rt::test]
async fn linkedin_token_and_profile() {
    let fake = Fake::start_with(Kind::LinkedIn, |s| {
        s.refuse_code_verifier = false;
        s.checks_pkce = true;
    });
    let app = app_with(vec![
        preset::<LinkedIn>(Kind::LinkedIn, fake.origin()).pkce(true)
    ]);
    let run = sign_in(&Browser::new(), &app, "linkedin").await;
    assert_eq!(run.authorize.path(), "/oauth/v2/authorization");
    assert_eq!(run.authorize_query()["scope"], "openid profile email");

    let profile = run.profile();
    assert_eq!(profile["subject"], "782bbtaQ");
    assert_eq!(profile["name"], "John Doe");
    assert_eq!(profile["username"], Value::Null);
    assert_eq!(profile["email"], "doe@email.com");
    assert_eq!(profile["email_verified"], true);
    assert!(profile["picture"]
        .as_str()
        .unwrap()
        .starts_with("https://media.licdn-ei.com/dms/image/"));
    let token = run.token();
    assert_eq!(token["token_type"], "bearer", "none sent: bearer");
    assert!(token["expires_in"].as_u64().unwrap() > 5_183_000);
    assert_eq!(token["scope"], "openid,profile,email");
    let exchange = &fake.requests_to("/oauth/v2/accessToken")[0];
    assert!(!exchange.headers.contains_key("authorization"));
    assert_eq!(
        form(&exchange.body)["client_id"],
        Kind::LinkedIn.client_id()
    );
    assert!(form(&exchange.body).contains_key("code_verifier"));
}

/// Slack: `openid.connect.token` and `openid.connect.userInfo` are Web API methods (`ok`); the
/// team is a namespaced claim.
#[actix_rt::test]
async fn slack() {
    let fake = Fake::start(Kind::Slack);
    let app = app_with(vec![preset::<Slack>(Kind::Slack, fake.origin())]);
    let run = sign_in(&Browser::new(), &app, "slack").await;
    assert_eq!(run.authorize.path(), "/openid/connect/authorize");
    assert_eq!(run.authorize_query()["scope"], "openid profile email");

    let profile = run.profile();
    assert_eq!(profile["subject"], "U0R7MFMJM");
    assert_eq!(profile["name"], "krane");
    assert_eq!(profile["username"], Value::Null);
    assert_eq!(profile["email"], "krane@slack-corp.com");
    assert_eq!(profile["email_verified"], true);
    assert_eq!(
        profile["picture"],
        "https://secure.gravatar.com/avatar/bc.png"
    );
    assert_eq!(profile["raw"]["https://slack.com/team_id"], "T0R7GR");
    assert_eq!(run.token()["extra"]["ok"], true);
    let exchange = &fake.requests_to("/api/openid.connect.token")[0];
    assert_eq!(
        form(&exchange.body)["client_secret"],
        Kind::Slack.client_secret()
    );
}

/// Slack answers a refused code with status 200 and `{"ok": false, "error": "invalid_code"}`.
#[actix_rt::test]
async fn slack_ok_false_is_a_provider_error() {
    let fake = Fake::start_with(Kind::Slack, |s| s.token_error = true);
    let app = app_with(vec![preset::<Slack>(Kind::Slack, fake.origin())]);
    let run = sign_in(&Browser::new(), &app, "slack").await;
    assert_eq!(error_kind(&run.page), "provider");
    assert!(
        run.page.text().contains("invalid_code"),
        "{}",
        run.page.text()
    );
}

/// The same for the user info method: `{"ok": false, "error": "invalid_auth"}` with status 200
/// must not become a profile.
#[actix_rt::test]
async fn slack_userinfo_ok_false_is_a_provider_error() {
    let fake = Fake::start_with(Kind::Slack, |s| s.userinfo_error = true);
    let app = app_with(vec![preset::<Slack>(Kind::Slack, fake.origin())]);
    let run = sign_in(&Browser::new(), &app, "slack").await;
    assert_eq!(error_kind(&run.page), "provider", "{}", run.page.text());
}

/// Twitch: the email, its verification and the picture come only when asked for through
/// `claims`; the token endpoint takes the credentials only in the body and answers `scope` as a
/// JSON array; Helix calls need `Client-Id`.
#[actix_rt::test]
async fn twitch() {
    let fake = Fake::start(Kind::Twitch);
    let app = app_with(vec![preset::<Twitch>(Kind::Twitch, fake.origin())]);
    let browser = Browser::new();
    let run = sign_in(&browser, &app, "twitch").await;
    assert_eq!(run.authorize.path(), "/oauth2/authorize");
    let asked = run.authorize_query();
    assert_eq!(asked["scope"], "openid user:read:email");
    let claims: Value = serde_json::from_str(&asked["claims"]).expect("claims JSON");
    assert!(claims["id_token"]
        .as_object()
        .unwrap()
        .contains_key("email_verified"));

    let profile = run.profile();
    assert_eq!(profile["subject"], "141981764");
    assert_eq!(profile["username"], "TwitchDev");
    assert_eq!(profile["email"], "not-real@email.com");
    assert_eq!(profile["email_verified"], true);
    assert!(profile["picture"]
        .as_str()
        .unwrap()
        .ends_with("-profile_image-300x300.png"));
    let token = run.token();
    assert_eq!(token["scope"], "openid user:read:email");
    assert_eq!(token["token_type"], "bearer");
    let exchange = &fake.requests_to("/oauth2/token")[0];
    assert!(!exchange.headers.contains_key("authorization"));
    assert_eq!(
        form(&exchange.body)["client_secret"],
        Kind::Twitch.client_secret()
    );

    // A Helix call carries the client id.
    let users = browser.get(&app.url("/call/twitch/users")).await;
    assert_eq!(users.status, 200, "{}", users.text());
    let users = users.json();
    assert_eq!(users["status"], 200, "{users}");
    assert_eq!(users["data"]["data"][0]["login"], "twitchdev");
    let helix = &fake.requests_to("/helix/users")[0];
    assert_eq!(helix.headers["client-id"], Kind::Twitch.client_id());

    // The body credentials mattered: with HTTP Basic, Twitch refuses the exchange.
    let basic = app_with(vec![
        preset::<Twitch>(Kind::Twitch, fake.origin()).client_auth(ClientAuth::Basic)
    ]);
    let run = sign_in(&Browser::new(), &basic, "twitch").await;
    // Twitch's `{"status": 400, "message": "missing client id"}` is read as the provider's error.
    assert_eq!(error_kind(&run.page), "provider");
    assert!(
        run.page.text().contains("missing client id"),
        "{}",
        run.page.text()
    );
    assert!(run.page.status >= 500, "{}", run.page.text());
}

/// Twitter: OAuth 1.0a with every request's HMAC-SHA1 signature verified by the fake; the
/// profile from `verify_credentials` with `include_email=true`; its `verified` (the blue check)
/// says nothing about the email.
#[actix_rt::test]
async fn twitter() {
    let fake = TwitterFake::start();
    let origin = fake.origin().to_owned();
    let twitter_app = |secret: &str| preset_with::<Twitter>(twitter::CONSUMER_KEY, secret, &origin);
    let app = app_with(vec![twitter_app(twitter::CONSUMER_SECRET)]);
    let browser = Browser::new();
    let run = sign_in(&browser, &app, "twitter").await;
    assert_eq!(run.authorize.path(), "/oauth/authenticate");
    assert!(fake.refused().is_empty(), "{:?}", fake.refused());

    let profile = run.profile();
    assert_eq!(profile["subject"], "1234567890123456789");
    assert_eq!(profile["name"], "Sean Cook");
    assert_eq!(profile["username"], "theSeanCook");
    assert_eq!(profile["email"], "sean@example.com");
    assert_eq!(profile["email_verified"], false);
    assert_eq!(
        profile["picture"],
        "https://si0.twimg.com/profile_images/1751506047/dead_sexy_normal.JPG"
    );
    assert_eq!(profile["raw"]["verified"], true);
    assert_eq!(run.token()["token_type"], "oauth1");

    let paths: Vec<String> = fake.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/oauth/request_token",
            "/oauth/authenticate",
            "/oauth/access_token",
            "/1.1/account/verify_credentials.json"
        ]
    );
    let verify = &fake.requests()[3];
    assert_eq!(verify.query, "include_email=true");
    let oauth = twitter::header_params(verify).expect("signed");
    assert!(oauth
        .iter()
        .any(|(k, v)| k == "oauth_token" && v.starts_with("6253282-")));

    // A signed API call joined to the base URL.
    let call = browser
        .get(&app.url("/call/twitter/account/verify_credentials.json"))
        .await;
    assert_eq!(call.status, 200, "{}", call.text());
    assert_eq!(call.json()["status"], 200, "{}", call.text());
    assert_eq!(call.json()["data"]["screen_name"], "theSeanCook");
    assert!(fake.refused().is_empty(), "{:?}", fake.refused());

    // The fake really checks: a wrong consumer secret is refused at the request token.
    let wrong = app_with(vec![twitter_app("not-the-secret")]);
    let start = Browser::new().get(&wrong.url("/auth/twitter")).await;
    // Twitter's `{"errors":[{"code":32,…}]}` is read as the provider's error, message and all.
    assert_eq!(error_kind(&start), "provider");
    assert_eq!(start.status, 502, "{}", start.text());
    assert!(
        start.text().contains("Could not authenticate you."),
        "{}",
        start.text()
    );
    assert!(fake
        .refused()
        .iter()
        .any(|why| why.starts_with("bad signature")));
}

// ---------------------------------------------------------------------------------------------
// Self-hosted instances and tenants: one setting moves every URL.

/// Every URL a built app names, through its public getters.
fn urls_of(app: &RemoteApp) -> Vec<String> {
    let mut urls: Vec<String> = [
        app.authorize_url(),
        app.access_token_url(),
        app.request_token_url(),
        app.userinfo_url(),
        app.emails_url(),
        Some(app.base_url()),
    ]
    .into_iter()
    .flatten()
    .map(|url| url.to_string())
    .collect();
    urls.extend(app.issuer().map(str::to_owned));
    urls
}

#[track_caller]
fn assert_all_at(urls: &[String], origin: &str, not: &str) {
    assert!(!urls.is_empty());
    for url in urls {
        assert!(url.starts_with(origin), "{url} is not on {origin}");
        assert!(!url.contains(not), "{url} names {not}");
    }
}

/// GitHub Enterprise Server (`GitHub::enterprise`, or `hosted_by_name("github")` as a
/// configuration file names it): one setting moves sign-in, token, API, user and email list to
/// the server. The email list is read there, with the token, and its verified address reaches
/// the profile (so accounts can link on it); nothing names github.com, so no sign-in sends the
/// token there or waits on its DNS.
#[actix_rt::test]
async fn github_enterprise_server_signs_in_on_its_host_only() {
    let fake = Fake::start_with(Kind::GitHub, |s| s.api_prefix = "/api/v3");
    let o = fake.origin().to_owned();
    let ghe = |host: &str| {
        GitHub::enterprise(RemoteApp::builder("github"), host)
            .client_id(Kind::GitHub.client_id())
            .client_secret(Kind::GitHub.client_secret())
    };
    let built = ghe(&o).build().expect("builds");
    let urls = urls_of(&built);
    assert_eq!(urls.len(), 5, "{urls:?}");
    assert_all_at(&urls, &o, "github.com");
    assert_eq!(
        built.emails_url().map(Url::as_str),
        Some(format!("{o}/api/v3/user/emails").as_str())
    );
    assert_eq!(
        Some(built.base_url().as_str()),
        Some(format!("{o}/api/v3/").as_str())
    );
    // The server's API URL is accepted as the setting too, and the lookup by name is the same.
    let via_api = ghe(&format!("{o}/api/v3/")).build().expect("builds");
    assert_eq!(urls_of(&via_api), urls);
    let hosted = providers::hosted_by_name("github").expect("GitHub has a hosted form");
    let by_name = hosted(RemoteApp::builder("github"), &o)
        .client_id(Kind::GitHub.client_id())
        .client_secret(Kind::GitHub.client_secret())
        .build()
        .expect("builds");
    assert_eq!(urls_of(&by_name), urls);

    let app = app_with(vec![ghe(&o)]);
    let run = sign_in(&Browser::new(), &app, "github").await;
    assert!(run.authorize.as_str().starts_with(&o), "{}", run.authorize);
    assert_eq!(run.authorize.path(), "/login/oauth/authorize");
    let profile = run.profile();
    assert_eq!(profile["username"], "octocat");
    assert_eq!(profile["email"], "octocat@github.com");
    assert_eq!(profile["email_verified"], true);
    let emails = fake.requests_to("/api/v3/user/emails");
    assert_eq!(emails.len(), 1);
    assert!(emails[0].headers["authorization"].starts_with("Bearer gho_"));
    assert_eq!(fake.requests_to("/api/v3/user").len(), 1);
}

/// The configuration of the report: the GitHub preset with its endpoints and `base_url` pointed
/// at an Enterprise Server, `userinfo_url` and `emails_url` left alone. Both hang off the base,
/// so they move with it: the token goes to the server's email list, not to api.github.com, and
/// the verified address is read.
#[actix_rt::test]
async fn github_base_url_override_moves_the_urls_under_it() {
    let fake = Fake::start_with(Kind::GitHub, |s| s.api_prefix = "/api/v3");
    let o = fake.origin().to_owned();
    let github =
        RemoteApp::from_provider::<GitHub>(Kind::GitHub.client_id(), Kind::GitHub.client_secret())
            .authorize_url(format!("{o}/login/oauth/authorize"))
            .access_token_url(format!("{o}/login/oauth/access_token"))
            .base_url(format!("{o}/api/v3"));
    let built = github.clone().build().expect("builds");
    assert_all_at(&urls_of(&built), &o, "github.com");
    assert_eq!(
        built.userinfo_url().map(Url::as_str),
        Some(format!("{o}/api/v3/user").as_str())
    );

    let app = app_with(vec![github]);
    let profile = sign_in(&Browser::new(), &app, "github").await.profile();
    assert_eq!(profile["email"], "octocat@github.com");
    assert_eq!(profile["email_verified"], true);
    let emails = fake.requests_to("/api/v3/user/emails");
    assert_eq!(emails.len(), 1);
    assert!(emails[0].headers["authorization"].starts_with("Bearer gho_"));
}

/// GitLab self-managed (`GitLab::self_managed`): the instance URL is the issuer (endpoints and
/// keys discovered from it) and API calls go to its `/api/v4/`; nothing names gitlab.com.
#[actix_rt::test]
async fn gitlab_self_managed_derives_issuer_and_api() {
    let fake = Fake::start(Kind::GitLab);
    let o = fake.origin().to_owned();
    let gitlab = || {
        GitLab::self_managed(RemoteApp::builder("gitlab"), &format!("{o}/"))
            .client_id(Kind::GitLab.client_id())
            .client_secret(Kind::GitLab.client_secret())
    };
    let built = gitlab().build().expect("builds");
    assert_all_at(&urls_of(&built), &o, "gitlab.com");
    assert_eq!(built.issuer(), Some(o.as_str()));
    assert_eq!(
        Some(built.base_url().as_str()),
        Some(format!("{o}/api/v4/").as_str())
    );
    let by_name = providers::hosted_by_name("gitlab").expect("GitLab has a hosted form");
    let by_name = by_name(RemoteApp::builder("gitlab"), &o)
        .client_id("id")
        .client_secret("secret")
        .build()
        .expect("builds");
    assert_eq!(urls_of(&by_name), urls_of(&built));

    let app = app_with(vec![gitlab()]);
    let browser = Browser::new();
    let run = sign_in(&browser, &app, "gitlab").await;
    assert!(run.authorize.as_str().starts_with(&o), "{}", run.authorize);
    assert_eq!(run.profile()["username"], "root");
    let call = browser.get(&app.url("/call/gitlab/user")).await;
    assert_eq!(call.status, 200, "{}", call.text());
    assert_eq!(call.json()["status"], 200, "{}", call.text());
    assert_eq!(call.json()["data"]["username"], "root");
    assert_eq!(fake.requests_to("/api/v4/user").len(), 1);
}

/// A Microsoft tenant named by its domain (`Microsoft::tenant`): the issuer, and so the
/// discovered endpoints, are the tenant's; its discovery document names the tenant id's issuer,
/// which the `id_token` carries.
#[actix_rt::test]
async fn microsoft_tenant_derives_issuer_and_endpoints() {
    let tenant = "contoso.onmicrosoft.com";
    let microsoft = || {
        Microsoft::tenant(RemoteApp::builder("microsoft"), tenant)
            .client_id(Kind::Microsoft.client_id())
            .client_secret(Kind::Microsoft.client_secret())
    };
    let built = microsoft().build().expect("builds");
    assert_eq!(
        built.issuer(),
        Some("https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0")
    );
    let hosted = providers::hosted_by_name("microsoft").expect("Microsoft has tenants");
    let by_name = hosted(RemoteApp::builder("microsoft"), tenant)
        .client_id(Kind::Microsoft.client_id())
        .client_secret(Kind::Microsoft.client_secret())
        .build()
        .expect("builds");
    assert_eq!(format!("{by_name:?}"), format!("{built:?}"));

    let fake = Fake::start_with(Kind::Microsoft, |s| s.user = microsoft_org_user());
    let o = fake.origin();
    let app = app_with(vec![
        microsoft().issuer(rebase(built.issuer().expect("issuer"), o))
    ]);
    let run = sign_in(&Browser::new(), &app, "microsoft").await;
    assert_eq!(
        run.authorize.path(),
        "/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
    );
    let profile = run.profile();
    assert_eq!(profile["username"], "mikoll@contoso.com");
    assert_eq!(
        profile["raw"]["iss"],
        format!("{o}/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0")
    );
    assert_eq!(
        fake.requests_to("/contoso.onmicrosoft.com/oauth2/v2.0/token")
            .len(),
        1
    );
    assert!(fake.requests_to("/common/oauth2/v2.0/token").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Authorization code injection (RFC 9700 §4.5): every preset binds the code to the browser.

/// The attack: the attacker starts a sign-in in their own browser and gets a code for their
/// account; the victim's browser starts its own sign-in; then the victim's browser is sent to
/// the callback with the attacker's code and the victim's `state`. Returns the victim's page and
/// the attacker's code.
async fn inject(app: &Server, provider: &str) -> (Page, String) {
    let attacker = Browser::new();
    let start = attacker.get(&app.url(&format!("/auth/{provider}"))).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let consent = attacker
        .get(start.location.as_deref().expect("to the provider"))
        .await;
    assert_eq!(consent.status, 302, "{}", consent.text());
    let mut injected = Url::parse(consent.location.as_deref().expect("back")).expect("callback");
    injected.set_fragment(None);
    let pairs: Vec<(String, String)> = injected.query_pairs().into_owned().collect();
    let code = pairs
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.clone())
        .expect("the attacker's code");

    let victim = Browser::new();
    let start = victim.get(&app.url(&format!("/auth/{provider}"))).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let victims_state = Url::parse(start.location.as_deref().expect("to the provider"))
        .expect("authorize URL")
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .expect("a state");
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(k, v)| {
            if k == "state" {
                (k, victims_state.clone())
            } else {
                (k, v)
            }
        })
        .collect();
    injected.query_pairs_mut().clear().extend_pairs(&pairs);
    (victim.get(injected.as_str()).await, code)
}

/// Every OAuth 2 preset, against its provider's fake: the injected code is refused — by the
/// token endpoint when the provider checks PKCE (the victim's verifier does not match the
/// attacker's challenge), by the `id_token` nonce check when it ignores PKCE (Slack, Twitch).
#[actix_rt::test]
async fn code_injection_is_refused_by_every_oauth2_preset() {
    type Build = fn(Kind, &str) -> RemoteAppBuilder;
    let cases: [(Kind, &str, Build, &str); 9] = [
        (Kind::GitHub, "github", preset::<GitHub>, "provider"),
        (Kind::Google, "google", preset::<Google>, "provider"),
        (Kind::Facebook, "facebook", preset::<Facebook>, "provider"),
        (
            Kind::Microsoft,
            "microsoft",
            preset::<Microsoft>,
            "provider",
        ),
        (Kind::GitLab, "gitlab", preset::<GitLab>, "provider"),
        (Kind::Discord, "discord", preset::<Discord>, "provider"),
        (Kind::Slack, "slack", preset::<Slack>, "id_token_nonce"),
        (Kind::Twitch, "twitch", preset::<Twitch>, "id_token_nonce"),
        // An app LinkedIn enabled PKCE for.
        (
            Kind::LinkedIn,
            "linkedin",
            |kind, origin| preset::<LinkedIn>(kind, origin).pkce(true),
            "provider",
        ),
    ];
    for (kind, name, build, refused_by) in cases {
        let fake = Fake::start_with(kind, |s| {
            if kind == Kind::LinkedIn {
                s.refuse_code_verifier = false;
                s.checks_pkce = true;
            }
        });
        let app = app_with(vec![build(kind, fake.origin())]);
        let (page, code) = inject(&app, name).await;
        assert_eq!(error_kind(&page), refused_by, "{name}: {}", page.text());
        let exchanges: Vec<_> = fake
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && form(&r.body).get("code") == Some(&code))
            .collect();
        assert_eq!(
            exchanges.len(),
            1,
            "{name}: the attacker's code was tried once"
        );
    }
}

/// LinkedIn binds nothing by default: its `id_token`s carry no `nonce`, and it refuses a PKCE
/// verifier unless it enabled PKCE for the app. So its preset does not build as it stands; the
/// error says why and names the ways out.
#[test]
fn linkedin_preset_needs_pkce_or_the_loud_opt_in() {
    let linkedin = || RemoteApp::from_provider::<LinkedIn>("id", "secret");
    let e = linkedin().build().expect_err("refused");
    assert_eq!(e.kind(), ErrorKind::Configuration);
    let message = e.to_string();
    for part in [
        "`linkedin`",
        "RFC 9700 §4.5",
        "insecure_allow_code_injection(true)",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
    let e = OAuth::new()
        .remote_app(linkedin())
        .build()
        .expect_err("the registry refuses it too");
    assert_eq!(e.kind(), ErrorKind::Configuration);
    let by_name = providers::by_name("linkedin").expect("preset");
    assert!(by_name(RemoteApp::builder("linkedin"))
        .client_id("id")
        .client_secret("secret")
        .build()
        .is_err());
    assert!(linkedin().pkce(true).build().is_ok());
    assert!(linkedin()
        .insecure_allow_code_injection(true)
        .build()
        .is_ok());
}

/// What the opt-in accepts: with neither PKCE nor a nonce, the victim's browser completes a
/// sign-in with the attacker's code. A LinkedIn that echoed the `nonce` would stop it once
/// `require_nonce(true)` is set.
#[actix_rt::test]
async fn linkedin_code_injection_with_the_opt_in_succeeds_and_the_nonce_stops_it() {
    let fake = Fake::start(Kind::LinkedIn);
    let app = app_with(vec![
        preset::<LinkedIn>(Kind::LinkedIn, fake.origin()).insecure_allow_code_injection(true)
    ]);
    let (page, code) = inject(&app, "linkedin").await;
    assert_eq!(page.status, 200, "{}", page.text());
    assert_eq!(page.json()["profile"]["subject"], "782bbtaQ");
    let exchange = fake
        .requests_to("/oauth/v2/accessToken")
        .pop()
        .expect("an exchange");
    assert_eq!(form(&exchange.body)["code"], code);

    let fake = Fake::start_with(Kind::LinkedIn, |s| s.echo_nonce = true);
    let app = app_with(vec![
        preset::<LinkedIn>(Kind::LinkedIn, fake.origin()).require_nonce(true)
    ]);
    assert!(sign_in(&Browser::new(), &app, "linkedin").await.page.status == 200);
    let (page, _) = inject(&app, "linkedin").await;
    assert_eq!(error_kind(&page), "id_token_nonce", "{}", page.text());
}
