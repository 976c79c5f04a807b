//! The presets that came with issue 16, each against a fake of its provider over loopback
//! (`tests/common/fake/documented*.rs`: the provider as data, answering as its documentation
//! says): a full sign-in through the public API, the normalized [`Profile`], the quirk the preset
//! exists for, a provider error, and for the identity services that have no shared host, that
//! every URL is on the configured one. `tests/presets.rs` does the same for the first ten.
#![cfg(feature = "oidc")]

mod common;

use std::collections::BTreeMap;

use actix_oauth::{
    providers::{
        self, Amazon, Atlassian, Auth0, Authentik, Bitbucket, BoxCom, Cognito, Dropbox, Keycloak,
        Notion, Okta, Patreon, Reddit, Salesforce, Spotify, Strava, Yahoo, Zitadel, Zoom, X,
    },
    ErrorKind, Provider, RemoteApp, RemoteAppBuilder,
};
use common::{
    fake::{
        documented::{Doc, DocFake},
        documented_providers as doc,
    },
    preset_app::{app_with, rebase},
    Browser, Page, Running as Server,
};
use serde_json::{json, Value};
use url::Url;

/// Whether a preset needs the opt-in because its provider binds nothing to the browser.
fn binds_nothing(name: &str) -> bool {
    [
        "atlassian",
        "bitbucket",
        "box",
        "notion",
        "patreon",
        "reddit",
        "strava",
    ]
    .contains(&name)
}

/// Preset `P` with the fake's credentials, every URL it configures moved to the fake (the opt-in
/// given where the provider binds nothing to the browser).
fn preset<P: Provider>(fake: &DocFake) -> RemoteAppBuilder {
    let d = fake.personality().doc;
    let opt_in = binds_nothing(P::NAME);
    let configured = RemoteApp::from_provider::<P>(d.client_id, d.client_secret)
        .insecure_allow_code_injection(opt_in)
        .build()
        .expect("the preset builds");
    let o = fake.origin();
    let mut app = RemoteApp::from_provider::<P>(d.client_id, d.client_secret)
        .insecure_allow_code_injection(opt_in);
    if let Some(issuer) = configured.issuer() {
        app = app.issuer(rebase(issuer, o));
    }
    if let Some(url) = configured.authorize_url() {
        app = app.authorize_url(rebase(url.as_str(), o));
    }
    if let Some(url) = configured.access_token_url() {
        app = app.access_token_url(rebase(url.as_str(), o));
    }
    if let Some(url) = configured.userinfo_url() {
        app = app.userinfo_url(rebase(url.as_str(), o));
    }
    if let Some(url) = configured.emails_url() {
        app = app.emails_url(rebase(url.as_str(), o));
    }
    app.base_url(rebase(configured.base_url().as_str(), o))
}

/// The hosted form of preset `name` at `setting`, with the fake's credentials.
fn hosted(name: &str, d: &Doc, setting: &str) -> RemoteAppBuilder {
    let hosted = providers::hosted_by_name(name).expect("a hosted form");
    hosted(RemoteApp::builder(name), setting)
        .client_id(d.client_id)
        .client_secret(d.client_secret)
}

struct SignIn {
    authorize: Url,
    page: Page,
}

impl SignIn {
    fn query(&self) -> BTreeMap<String, String> {
        self.authorize.query_pairs().into_owned().collect()
    }

    fn profile(&self) -> Value {
        assert_eq!(self.page.status, 200, "{}", self.page.text());
        self.page.json()["profile"].clone()
    }
}

async fn sign_in(browser: &Browser, app: &Server, provider: &str) -> SignIn {
    let start = browser.get(&app.url(&format!("/auth/{provider}"))).await;
    assert_eq!(start.status, 302, "{}", start.text());
    let authorize = start.location.expect("redirect to the provider");
    let consent = browser.get(&authorize).await;
    assert_eq!(consent.status, 302, "the fake refused: {}", consent.text());
    let back = consent.location.expect("redirect back");
    assert!(
        back.starts_with(&app.url(&format!("/auth/{provider}/callback?"))),
        "{back}"
    );
    let page = browser.get(&back).await;
    SignIn {
        authorize: Url::parse(&authorize).expect("authorize URL"),
        page,
    }
}

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

/// What a sign-in's profile must say: subject, name, username, email, verified, picture.
type Expected = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    bool,
    Option<&'static str>,
);

#[track_caller]
fn assert_profile(name: &str, profile: &Value, expected: Expected) {
    let (subject, full, username, email, verified, picture) = expected;
    let text = |v: Option<&str>| v.map_or(Value::Null, |v| json!(v));
    assert_eq!(profile["provider"], name, "{name}");
    assert_eq!(profile["subject"], subject, "{name}");
    assert_eq!(profile["name"], text(full), "{name}: name");
    assert_eq!(profile["username"], text(username), "{name}: username");
    assert_eq!(profile["email"], text(email), "{name}: email");
    assert_eq!(
        profile["email_verified"], verified,
        "{name}: email_verified"
    );
    assert_eq!(profile["picture"], text(picture), "{name}: picture");
}

type Build = fn(&DocFake) -> RemoteAppBuilder;

/// The presets with a shared host, each signed in against its fake.
fn shared() -> Vec<(&'static Doc, Build, Expected)> {
    vec![
        (&doc::AMAZON, preset::<Amazon>, ("amzn1.account.K2LI23KL2LK2", Some("Mork Hashimoto"), None, Some("mhashimoto-04@plaxo.com"), false, None)),
        (&doc::REDDIT, preset::<Reddit>, ("1w72", Some("spez"), Some("spez"), None, false, Some("https://styles.redditmedia.com/t5_3k30p/styles/profileIcon_snoo.png"))),
        (&doc::SPOTIFY, preset::<Spotify>, ("wizzler", Some("JM Wizzler"), Some("wizzler"), Some("email@example.com"), false, Some("https://fbcdn-profile-a.akamaihd.net/hprofile-ak-frc3/t1.0-1/1970403_10152215092574354_1798272330_n.jpg"))),
        (&doc::DROPBOX, preset::<Dropbox>, ("dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc", Some("Franz Ferdinand (Personal)"), None, Some("franz@dropbox.com"), true, Some("https://dl-web.dropbox.com/account_photo/get/dbaphid%3AAAHWGmIXV3sUuOmBfTz0wPsiqHUpBWvv3ZA?vers=1556069330102&size=128x128"))),
        (&doc::BITBUCKET, preset::<Bitbucket>, ("{a288a0ab-e13b-43f0-a689-c4ef0a249875}", Some("Erik van Zijst"), Some("evzijst"), Some("erik@example.com"), true, Some("https://secure.gravatar.com/avatar/7b6a0ce4b1ac3e4fe5ec8d1b6e4ad5dd?d=https%3A%2F%2Favatar-management--avatars.us-west-2.prod.public.atl-paas.net%2Finitials%2FEZ-0.png"))),
        (&doc::ATLASSIAN, preset::<Atlassian>, ("112233aa-bb11-cc22-33dd-eeff44556677", Some("Mia Krystof"), Some("mkrystof"), Some("mia@example.com"), false, Some("https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/112233aa-bb11-cc22-33dd-eeff44556677/1234abcd-9876-54aa-33aa-1234dddd0000/128"))),
        (&doc::ZOOM, preset::<Zoom>, ("KDcuGIm1QgePTO8WbOqwIQ", Some("Jill Chill"), None, Some("jchill@example.com"), true, Some("https://example.com/picture.jpg"))),
        (&doc::STRAVA, preset::<Strava>, ("134815", Some("Marianne Teutenberg"), Some("marianne_t"), None, false, Some("https://xxxxx.cloudfront.net/pictures/athletes/123456789/123456789/2/large.jpg"))),
        (&doc::PATREON, preset::<Patreon>, ("123", Some("Platform Team"), Some("platformteam"), Some("corgi@example.com"), true, Some("https://c8.patreon.com/2/200/123"))),
        (&doc::BOX, preset::<BoxCom>, ("11446498", Some("Aaron Levie"), None, Some("ceo@example.com"), false, Some("https://www.box.com/api/avatar/large/181216415"))),
        (&doc::NOTION, preset::<Notion>, ("c2f20311-9e54-4d11-8c79-7398424ae41e", Some("Ada Lovelace"), None, Some("ada@example.com"), false, Some("https://s3-us-west-2.amazonaws.com/public.notion-static.com/ada.png"))),
        (&doc::X, preset::<X>, ("2244994945", Some("X Dev"), Some("XDevelopers"), None, false, Some("https://pbs.twimg.com/profile_images/1445764922474827784/W2zEPN7U_normal.jpg"))),
        (&doc::YAHOO, preset::<Yahoo>, ("FSVIDUW3D7FSVIDUW3D72F2F", Some("Jasmine Smith"), Some("jasmine"), Some("yqa_test_acct_1@yahoo.com"), true, Some("https://s.yimg.com/ag/images/4528/35811862367_85c64b_192sq.jpg"))),
        (&doc::SALESFORCE, preset::<Salesforce>, ("005x00000012Q9P", Some("Admin User"), Some("admin@acme.com"), Some("admin@acme.com"), true, Some("https://acme--c.documentforce.com/profilephoto/005/F"))),
    ]
}

/// The identity services without a shared host: the setting, as a function of the fake's
/// origin, and the profile.
type Setting = fn(&str) -> String;

fn hosted_only() -> Vec<(&'static Doc, Setting, Expected)> {
    vec![
        (&doc::AUTH0, |o| o.to_owned(), ("auth0|507f1f77bcf86cd799439020", Some("Jane Doe"), Some("janedoe"), Some("janedoe@exampleco.com"), true, Some("https://s.gravatar.com/avatar/b58996c504c5638798eb6b511e6f49af?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fjd.png"))),
        (&doc::OKTA, |o| format!("{o}/oauth2/default"), ("00uid4BxXw6I6TV4m0g3", Some("John Doe"), Some("john.doe@example.com"), Some("john.doe@example.com"), true, None)),
        // The realm says the address is not verified.
        (&doc::KEYCLOAK, |o| format!("{o}/realms/acme/"), ("f8d2c0a4-3b5e-4d6f-9a1b-2c3d4e5f6a7b", Some("Alice Liddell"), Some("alice"), Some("alice@keycloak.org"), false, None)),
        // `email_verified` as the string "true".
        (&doc::COGNITO, |o| format!("{o}/us-east-1_Example"), ("a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", None, Some("bob"), Some("bob@example.com"), true, None)),
        (&doc::ZITADEL, |o| o.to_owned(), ("164849814020473089", Some("Road Runner"), Some("road.runner@acme.zitadel.cloud"), Some("road.runner@acme.ch"), true, None)),
        // authentik said `email_verified: true` of every address: never believed.
        (&doc::AUTHENTIK, |o| format!("{o}/application/o/my-app"), ("7f9a4c0b5e2d8a1f3c6b9e0d4a7f2c5b8e1d3a6f9c2b5e8d1a4f7c0b3e6d9a2f", Some("authentik Default Admin"), Some("akadmin"), Some("akadmin@example.com"), false, None)),
    ]
}

#[test]
fn by_name_knows_every_preset() {
    let types = [
        Amazon::NAME,
        "apple",
        Atlassian::NAME,
        Auth0::NAME,
        Authentik::NAME,
        Bitbucket::NAME,
        BoxCom::NAME,
        Cognito::NAME,
        "discord",
        Dropbox::NAME,
        "facebook",
        "github",
        "gitlab",
        "google",
        Keycloak::NAME,
        "linkedin",
        "microsoft",
        Notion::NAME,
        Okta::NAME,
        Patreon::NAME,
        Reddit::NAME,
        Salesforce::NAME,
        "slack",
        Spotify::NAME,
        Strava::NAME,
        "twitch",
        "twitter",
        X::NAME,
        Yahoo::NAME,
        Zitadel::NAME,
        Zoom::NAME,
    ];
    assert_eq!(providers::NAMES, types);
    assert!(providers::NAMES.len() >= 25);
    for name in providers::NAMES {
        let preset = providers::by_name(name).unwrap_or_else(|| panic!("no preset `{name}`"));
        let app = || {
            preset(RemoteApp::builder(*name))
                .consumer_key("id")
                .consumer_secret("secret")
                .insecure_allow_code_injection(*name == "linkedin" || binds_nothing(name))
        };
        if providers::HOSTED_ONLY.contains(name) {
            let e = app().build().expect_err("a host is needed");
            assert!(e.to_string().contains("no shared host"), "{name}: {e}");
            let hosted = providers::hosted_by_name(name).expect("a hosted form");
            let app = hosted(app(), "https://idp.example").build();
            assert!(app.expect(name).is_oidc(), "{name}");
            continue;
        }
        let app = app().build().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(app.name(), *name);
        if binds_nothing(name) {
            let bare = preset(RemoteApp::builder(*name))
                .consumer_key("id")
                .consumer_secret("secret")
                .build();
            let e = bare.expect_err("nothing binds the code");
            assert_eq!(e.kind(), ErrorKind::Configuration, "{name}");
            assert!(e.to_string().contains("insecure_allow_code_injection"));
        }
    }
    for name in ["salesforce", "okta", "keycloak"] {
        assert!(providers::hosted_by_name(name).is_some(), "{name}");
    }
    for name in ["amazon", "x", "strava", "yahoo"] {
        assert!(providers::hosted_by_name(name).is_none(), "{name}");
    }
}

/// Every preset with a shared host signs in against its provider's fake, and the profile reads
/// as the README's table says.
#[actix_rt::test]
async fn every_new_preset_signs_in_and_normalizes_the_profile() {
    for (d, build, expected) in shared() {
        let fake = DocFake::doc(d);
        let app = app_with(vec![build(&fake)]);
        let run = sign_in(&Browser::new(), &app, d.name).await;
        assert_eq!(run.authorize.path(), d.authorize, "{}", d.name);
        assert_profile(d.name, &run.profile(), expected);
        assert_eq!(fake.requests_to(d.token).len(), 1, "{}", d.name);
    }
}

/// A refused code is a `provider` error carrying the provider's own words, whatever shape its
/// error body has (RFC 6749 §5.2, Strava's `errors` list, Zoom's `reason`, Reddit's status 200).
#[actix_rt::test]
async fn every_new_preset_reports_the_providers_error() {
    let mut all: Vec<(&'static Doc, RemoteAppBuilder, DocFake)> = Vec::new();
    for (d, build, _) in shared() {
        let fake = DocFake::doc_with(d, |s| s.token_error = true);
        all.push((d, build(&fake), fake));
    }
    for (d, setting, _) in hosted_only() {
        let fake = DocFake::doc_with(d, |s| s.token_error = true);
        all.push((d, hosted(d.name, d, &setting(fake.origin())), fake));
    }
    for (d, app, _fake) in all {
        let app = app_with(vec![app]);
        let run = sign_in(&Browser::new(), &app, d.name).await;
        assert_eq!(error_kind(&run.page), "provider", "{}", d.name);
        let said = match d.name {
            "strava" => "invalid",
            "x" | "zoom" => "invalid_request",
            _ => "invalid_grant",
        };
        assert!(
            run.page.text().contains(said),
            "{}: {}",
            d.name,
            run.page.text()
        );
    }
}

/// Auth0, Okta, Keycloak, Cognito, ZITADEL and authentik: one setting names the instance, every
/// URL (the issuer, hence the discovered endpoints) is on it, `hosted_by_name` gives the same
/// app, and a sign-in there reads the profile.
#[actix_rt::test]
async fn hosted_identity_services_sign_in_on_their_host_only() {
    for (d, setting, expected) in hosted_only() {
        let fake = DocFake::doc(d);
        let o = fake.origin().to_owned();
        let app = hosted(d.name, d, &setting(&o));
        let built = app.clone().build().expect("builds");
        assert_eq!(built.issuer(), Some(fake.issuer().as_str()), "{}", d.name);
        assert!(built.base_url().as_str().starts_with(&o), "{}", d.name);
        let server = app_with(vec![app]);
        let run = sign_in(&Browser::new(), &server, d.name).await;
        assert!(run.authorize.as_str().starts_with(&o), "{}", run.authorize);
        assert_profile(d.name, &run.profile(), expected);
        let nonce = run.query().get("nonce").cloned();
        assert!(nonce.is_some_and(|n| n.len() >= 43), "{}", d.name);
        assert!(run.query().contains_key("code_challenge"), "{}", d.name);
        // Discovery, keys, token and user info: all asked of the configured host.
        let asked: Vec<String> = fake.requests().iter().map(|r| r.path.clone()).collect();
        for path in [d.token, d.jwks, d.user.1] {
            assert!(
                asked.iter().any(|p| p == path),
                "{}: {path} in {asked:?}",
                d.name
            );
        }
    }
    // Auth0's issuer ends with `/`, as its `iss` does; the Cognito pool id alone names the
    // region's issuer; Okta's org without a server id is the org authorization server.
    let named = |name: &str, setting: &str| {
        hosted(name, &doc::AUTH0, setting)
            .build()
            .expect("builds")
            .issuer()
            .map(str::to_owned)
    };
    assert_eq!(
        named("auth0", "dev-abc123.us.auth0.com").as_deref(),
        Some("https://dev-abc123.us.auth0.com/")
    );
    assert_eq!(
        named("cognito", "eu-west-1_AbCdEf123").as_deref(),
        Some("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123")
    );
    assert_eq!(
        named("okta", "https://dev-123456.okta.com/").as_deref(),
        Some("https://dev-123456.okta.com")
    );
    assert_eq!(
        named("authentik", "https://auth.example.com/application/o/my-app").as_deref(),
        Some("https://auth.example.com/application/o/my-app/")
    );
}

/// Salesforce's My Domain (`Salesforce::my_domain`): issuer and API base on the org's host; the
/// client credentials in the body; the subject is the user id, not the identity URL.
#[actix_rt::test]
async fn salesforce_my_domain_moves_issuer_and_api() {
    let d = &doc::SALESFORCE;
    let fake = DocFake::doc(d);
    let o = fake.origin().to_owned();
    let app = Salesforce::my_domain(RemoteApp::builder("salesforce"), &o)
        .client_id(d.client_id)
        .client_secret(d.client_secret);
    let built = app.clone().build().expect("builds");
    assert_eq!(built.issuer(), Some(o.as_str()));
    assert_eq!(built.base_url().as_str(), format!("{o}/"));
    let by_name = hosted("salesforce", d, &o).build().expect("builds");
    assert_eq!(format!("{by_name:?}"), format!("{built:?}"));
    let server = app_with(vec![app]);
    let profile = sign_in(&Browser::new(), &server, "salesforce")
        .await
        .profile();
    assert_eq!(profile["subject"], "005x00000012Q9P");
    assert_eq!(profile["raw"]["organization_id"], "00Dx0000000BV7z");
    let exchange = &fake.requests_to(d.token)[0];
    assert!(!exchange.headers.contains_key("authorization"));
    assert_eq!(form(&exchange.body)["client_secret"], d.client_secret);
}

/// Strava: the scopes go comma-separated (the fake refuses spaces), and the profile comes from
/// the token answer's `athlete`, with no user info call.
#[actix_rt::test]
async fn strava_scopes_by_comma_and_profile_from_the_token_answer() {
    let fake = DocFake::doc(&doc::STRAVA);
    let app = app_with(vec![
        preset::<Strava>(&fake).scope(["read", "activity:read"])
    ]);
    let run = sign_in(&Browser::new(), &app, "strava").await;
    assert_eq!(run.query()["scope"], "read,activity:read");
    assert!(run
        .authorize
        .query()
        .unwrap_or_default()
        .contains("scope=read%2Cactivity%3Aread"));
    let profile = run.profile();
    assert_eq!(profile["subject"], "134815");
    assert_eq!(profile["raw"]["athlete"]["city"], "San Francisco");
    assert!(
        profile["raw"].get("access_token").is_none(),
        "no token in the profile"
    );
    assert!(
        profile["raw"].get("refresh_token").is_none(),
        "no token in the profile"
    );
    assert_eq!(fake.requests().len(), 2, "authorize and token only");
    // Without the opt-in, the preset refuses to build: nothing binds Strava's codes.
    assert!(RemoteApp::from_provider::<Strava>("12345", "s")
        .build()
        .is_err());
}

/// Notion: `owner=user` is asked for, the profile comes from the token answer's `owner.user`,
/// and every API call carries `Notion-Version` (Notion refuses calls without it).
#[actix_rt::test]
async fn notion_version_on_every_call_and_profile_from_the_token_answer() {
    let fake = DocFake::doc(&doc::NOTION);
    let app = app_with(vec![preset::<Notion>(&fake)]);
    let browser = Browser::new();
    let run = sign_in(&browser, &app, "notion").await;
    assert_eq!(run.query()["owner"], "user");
    let profile = run.profile();
    assert_eq!(profile["raw"]["workspace_name"], "Ada's Notion Workspace");
    let page = browser.get(&app.url("/call/notion/users/me")).await;
    assert_eq!(page.json()["status"], 200, "{}", page.text());
    assert_eq!(page.json()["data"]["type"], "bot");
    let calls = fake.requests_to("/v1/users/me");
    assert_eq!(
        calls[0].headers["notion-version"],
        providers::NOTION_VERSION
    );
    // The token exchange: HTTP Basic, as Notion documents.
    let exchange = &fake.requests_to(doc::NOTION.token)[0];
    assert!(exchange.headers["authorization"].starts_with("Basic "));
}

/// Dropbox: `users/get_current_account` is asked with `POST` and no body (the fake answers a
/// `GET` with Dropbox's error); the address is verified as `email_verified` says.
#[actix_rt::test]
async fn dropbox_user_info_by_post() {
    let fake = DocFake::doc(&doc::DROPBOX);
    let app = app_with(vec![preset::<Dropbox>(&fake)]);
    let profile = sign_in(&Browser::new(), &app, "dropbox").await.profile();
    assert_eq!(profile["email_verified"], true);
    let asked = &fake.requests_to("/2/users/get_current_account")[0];
    assert_eq!(asked.method, "POST");
    assert!(asked.body.is_empty());
    assert!(!asked.headers.contains_key("content-type"));
    assert!(asked.headers["authorization"].starts_with("Bearer sl."));

    let fake = DocFake::doc_with(&doc::DROPBOX, |s| s.user["email_verified"] = json!(false));
    let app = app_with(vec![preset::<Dropbox>(&fake)]);
    let profile = sign_in(&Browser::new(), &app, "dropbox").await.profile();
    assert_eq!(profile["email_verified"], false);
}

/// Reddit: comma-separated scopes, HTTP Basic, and the preset's descriptive `User-Agent` on the
/// token request and on API calls (Reddit throttles generic ones); the app may name its own.
#[actix_rt::test]
async fn reddit_user_agent_and_basic_authentication() {
    let fake = DocFake::doc(&doc::REDDIT);
    let app = app_with(vec![preset::<Reddit>(&fake).scope(["identity", "read"])]);
    let run = sign_in(&Browser::new(), &app, "reddit").await;
    assert_eq!(run.query()["scope"], "identity,read");
    assert!(!run.query().contains_key("code_challenge"));
    run.profile();
    let exchange = &fake.requests_to(doc::REDDIT.token)[0];
    assert!(exchange.headers["authorization"].starts_with("Basic "));
    assert!(exchange.headers["user-agent"].starts_with("web:actix-oauth:v"));
    let me = &fake.requests_to("/api/v1/me")[0];
    assert!(me.headers["user-agent"].starts_with("web:actix-oauth:v"));

    let mine = "web:com.example.app:v1.0 (by /u/example)";
    let app = app_with(vec![preset::<Reddit>(&fake).api_header("User-Agent", mine)]);
    sign_in(&Browser::new(), &app, "reddit").await.profile();
    assert_eq!(
        fake.requests_to("/api/v1/me")[1].headers["user-agent"],
        mine
    );
}

/// Zoom says the address is verified with the number `1`: `0`, `"1"` and `true` do not count.
#[actix_rt::test]
async fn zoom_numeric_verified() {
    for (verified, counts) in [(json!(1), true), (json!(0), false), (json!("1"), false)] {
        let fake = DocFake::doc_with(&doc::ZOOM, |s| s.user["verified"] = verified.clone());
        let app = app_with(vec![preset::<Zoom>(&fake)]);
        let profile = sign_in(&Browser::new(), &app, "zoom").await.profile();
        assert_eq!(profile["email_verified"], counts, "{verified}");
    }
}

/// Bitbucket: the address is the primary entry of the `/2.0/user/emails` page, verified when
/// `is_confirmed`; Atlassian: `audience` and `prompt=consent` are sent (the fake refuses
/// without).
#[actix_rt::test]
async fn bitbucket_email_list_and_atlassian_audience() {
    let fake = DocFake::doc_with(&doc::BITBUCKET, |_| {});
    let app = app_with(vec![preset::<Bitbucket>(&fake)]);
    let profile = sign_in(&Browser::new(), &app, "bitbucket").await.profile();
    assert_eq!(profile["email"], "erik@example.com");
    assert_eq!(fake.requests_to("/2.0/user/emails").len(), 1);

    let fake = DocFake::doc(&doc::ATLASSIAN);
    let app = app_with(vec![preset::<Atlassian>(&fake)]);
    let run = sign_in(&Browser::new(), &app, "atlassian").await;
    assert_eq!(run.query()["audience"], "api.atlassian.com");
    assert_eq!(run.query()["prompt"], "consent");
}

/// Code injection (RFC 9700 §4.5): the attacker's code, planted with the victim's `state`, is
/// refused by every new preset whose provider checks PKCE or echoes the nonce; the presets of
/// providers that bind nothing do not build without the loud opt-in (checked in
/// `by_name_knows_every_preset`), and with it the injection goes through, as documented.
#[actix_rt::test]
async fn code_injection_is_refused_by_every_new_oauth2_preset() {
    let mut cases: Vec<(&'static Doc, RemoteAppBuilder, DocFake)> = Vec::new();
    for (d, build, _) in shared() {
        let fake = DocFake::doc(d);
        cases.push((d, build(&fake), fake));
    }
    for (d, setting, _) in hosted_only() {
        let fake = DocFake::doc(d);
        cases.push((d, hosted(d.name, d, &setting(fake.origin())), fake));
    }
    for (d, app, fake) in cases {
        let app = app_with(vec![app]);
        let (page, code) = inject(&app, d.name).await;
        let tried: Vec<_> = fake
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && form(&r.body).get("code") == Some(&code))
            .collect();
        assert_eq!(
            tried.len(),
            1,
            "{}: the attacker's code was tried once",
            d.name
        );
        if binds_nothing(d.name) {
            assert_eq!(page.status, 200, "{}: the opt-in accepts it", d.name);
        } else {
            assert_eq!(error_kind(&page), "provider", "{}: {}", d.name, page.text());
        }
    }
}

async fn inject(app: &Server, provider: &str) -> (Page, String) {
    let attacker = Browser::new();
    let start = attacker.get(&app.url(&format!("/auth/{provider}"))).await;
    let consent = attacker
        .get(start.location.as_deref().expect("to the provider"))
        .await;
    let mut injected = Url::parse(consent.location.as_deref().expect("back")).expect("callback");
    let pairs: Vec<(String, String)> = injected.query_pairs().into_owned().collect();
    let code = pairs
        .iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.clone())
        .expect("the attacker's code");
    let victim = Browser::new();
    let start = victim.get(&app.url(&format!("/auth/{provider}"))).await;
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
