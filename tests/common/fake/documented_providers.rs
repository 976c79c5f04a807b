//! The providers of `documented.rs`, each as its documentation describes it. Samples are the
//! documentation's own examples (trimmed), named beside each; paths are those of the real
//! provider, so a preset pointed at the fake keeps its own.

use super::documented::{ClientAuth, Doc};

const JSON: &str = "application/json";

// ---------------------------------------------------------------------------------------------
// Identity services (OpenID Connect, self-hosted or rented).

/// Auth0: "Authentication API" (`/authorize`, `/oauth/token`, `/userinfo`), "ID Token
/// Structure" and "User profile structure" for the claims; a bad code is a 403 `invalid_grant`.
pub static AUTH0: Doc = Doc {
    name: "auth0",
    client_id: "kbyuFDidLLm280LIwVFiazOqjO3ty8KH",
    client_secret: "60Op4HFM0I8ajz0WdiStAbziZ-VFQttXuxixHHs2R7r7-CW8GR79l-mmLqMhc-Sa",
    issuer: Some("/"),
    authorize: "/authorize",
    token: "/oauth/token",
    user: ("GET", "/userinfo"),
    jwks: "/.well-known/jwks.json",
    client_auth: ClientAuth::Either,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "eyJ",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "refresh_token": "$refresh_token", "id_token": "$id_token", "token_type": "Bearer", "expires_in": 86400, "scope": "$scope"}"#,
    token_error: (
        403,
        r#"{"error": "invalid_grant", "error_description": "Invalid authorization code"}"#,
    ),
    user_json: r#"{"sub": "auth0|507f1f77bcf86cd799439020", "given_name": "Jane", "family_name": "Doe", "nickname": "janedoe", "name": "Jane Doe", "picture": "https://s.gravatar.com/avatar/b58996c504c5638798eb6b511e6f49af?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2Fjd.png", "updated_at": "2024-01-15T08:00:00.000Z", "email": "janedoe@exampleco.com", "email_verified": true}"#,
    unauthorized: (401, "Unauthorized"),
    api: &[],
};

/// Okta, a custom authorization server `default`: "OpenID Connect & OAuth 2.0 API"
/// (`/oauth2/default/v1/…`), its `/userinfo` response example.
pub static OKTA: Doc = Doc {
    name: "okta",
    client_id: "0oabucvyc38HLL1ef0h7",
    client_secret: "jCXBW5vhR6x8LbV0LfLx8X2DwdUqQgDcWA2Zd8vN",
    issuer: Some("/oauth2/default"),
    authorize: "/oauth2/default/v1/authorize",
    token: "/oauth2/default/v1/token",
    user: ("GET", "/oauth2/default/v1/userinfo"),
    jwks: "/oauth2/default/v1/keys",
    client_auth: ClientAuth::Either,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "eyJraWQ",
    token_content_type: JSON,
    token_answer: r#"{"token_type": "Bearer", "expires_in": 3600, "access_token": "$access_token", "scope": "$scope", "id_token": "$id_token"}"#,
    token_error: (
        400,
        r#"{"error": "invalid_grant", "error_description": "The authorization code is invalid or has expired."}"#,
    ),
    user_json: r#"{"sub": "00uid4BxXw6I6TV4m0g3", "name": "John Doe", "nickname": "Jimmy", "given_name": "John", "middle_name": "James", "family_name": "Doe", "profile": "https://example.com/john.doe", "zoneinfo": "America/Los_Angeles", "locale": "en-US", "updated_at": 1311280970, "email": "john.doe@example.com", "email_verified": true, "preferred_username": "john.doe@example.com"}"#,
    unauthorized: (
        401,
        r#"{"error": "invalid_token", "error_description": "The access token is invalid."}"#,
    ),
    api: &[],
};

/// Keycloak, realm `acme`: "Securing applications: OpenID Connect endpoints"
/// (`/realms/{realm}/protocol/openid-connect/…`); a user whose address the realm has not
/// verified.
pub static KEYCLOAK: Doc = Doc {
    name: "keycloak",
    client_id: "actix-app",
    client_secret: "Qm8kz3hVbU2sC5cJ7x0pR1yT4nW6eA9d",
    issuer: Some("/realms/acme"),
    authorize: "/realms/acme/protocol/openid-connect/auth",
    token: "/realms/acme/protocol/openid-connect/token",
    user: ("GET", "/realms/acme/protocol/openid-connect/userinfo"),
    jwks: "/realms/acme/protocol/openid-connect/certs",
    client_auth: ClientAuth::Either,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "eyJhbGciOiJSUzI1NiJ9.",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "expires_in": 300, "refresh_expires_in": 1800, "refresh_token": "$refresh_token", "token_type": "Bearer", "id_token": "$id_token", "not-before-policy": 0, "session_state": "5f3d2c1b-0a9e-4d8c-b7a6-1e2f3a4b5c6d", "scope": "$scope"}"#,
    token_error: (
        400,
        r#"{"error": "invalid_grant", "error_description": "Code not valid"}"#,
    ),
    user_json: r#"{"sub": "f8d2c0a4-3b5e-4d6f-9a1b-2c3d4e5f6a7b", "email_verified": false, "name": "Alice Liddell", "preferred_username": "alice", "given_name": "Alice", "family_name": "Liddell", "email": "alice@keycloak.org"}"#,
    unauthorized: (
        401,
        r#"{"error": "invalid_token", "error_description": "Token verification failed"}"#,
    ),
    api: &[],
};

/// Amazon Cognito, pool `us-east-1_Example`: "User pool endpoints reference" (the managed login
/// domain's `/oauth2/authorize`, `/oauth2/token`, `/oauth2/userInfo`; the issuer's
/// `/.well-known/jwks.json`), the userInfo response example (`email_verified` as a string) and
/// the ID token's `cognito:username`.
pub static COGNITO: Doc = Doc {
    name: "cognito",
    client_id: "1example23456789",
    client_secret: "1exampleSecret23456789abcdefghijklmnopqrstuvwx",
    issuer: Some("/us-east-1_Example"),
    authorize: "/oauth2/authorize",
    token: "/oauth2/token",
    user: ("GET", "/oauth2/userInfo"),
    jwks: "/us-east-1_Example/.well-known/jwks.json",
    client_auth: ClientAuth::Either,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "eyJra",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "id_token": "$id_token", "refresh_token": "$refresh_token", "token_type": "Bearer", "expires_in": 3600}"#,
    token_error: (400, r#"{"error": "invalid_grant"}"#),
    user_json: r#"{"sub": "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111", "cognito:username": "bob", "username": "bob", "email_verified": "true", "custom:mycustom1": "CustomValue", "phone_number_verified": "true", "phone_number": "+12065551212", "email": "bob@example.com"}"#,
    unauthorized: (
        401,
        r#"{"error": "invalid_token", "error_description": "Access token is missing"}"#,
    ),
    api: &[],
};

/// ZITADEL: "OpenID Connect endpoints" (`/oauth/v2/authorize`, `/oauth/v2/token`,
/// `/oidc/v1/userinfo`, `/oauth/v2/keys`) and its userinfo example.
pub static ZITADEL: Doc = Doc {
    name: "zitadel",
    client_id: "170086824411201793@acme",
    client_secret: "UaT1yLr4VQ0yxbU7TNHwI4nCuI6CEuD4xSvnTLfCOWIm2UcqEHt0obXdYAz6VlDq",
    issuer: Some(""),
    authorize: "/oauth/v2/authorize",
    token: "/oauth/v2/token",
    user: ("GET", "/oidc/v1/userinfo"),
    jwks: "/oauth/v2/keys",
    client_auth: ClientAuth::Either,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "token_type": "Bearer", "refresh_token": "$refresh_token", "expires_in": 43199, "id_token": "$id_token"}"#,
    token_error: (
        400,
        r#"{"error": "invalid_grant", "error_description": "invalid code"}"#,
    ),
    user_json: r#"{"sub": "164849814020473089", "name": "Road Runner", "given_name": "Road", "family_name": "Runner", "locale": "en", "updated_at": 1658329554, "preferred_username": "road.runner@acme.zitadel.cloud", "email": "road.runner@acme.ch", "email_verified": true}"#,
    unauthorized: (401, r#"{"error": "invalid_token"}"#),
    api: &[],
};

/// authentik, application `my-app`: "OAuth2 provider" endpoints (`/application/o/authorize/`,
/// `/application/o/token/`, `/application/o/userinfo/`, `/application/o/{slug}/jwks/`), and a
/// pre-2025.10 default `email` mapping that says `email_verified: true` for every address.
pub static AUTHENTIK: Doc = Doc {
    name: "authentik",
    client_id: "xQ1TYy0dVmYvT7dKD7H2nZ3cWmJ1mF8b",
    client_secret: "pX9yN3kQ2vW8zR5tU7aB1cD4eF6gH0jK2lM4nP6qS8tV0wX2yZ4aB6cD8eF0gH2j",
    issuer: Some("/application/o/my-app/"),
    authorize: "/application/o/authorize/",
    token: "/application/o/token/",
    user: ("GET", "/application/o/userinfo/"),
    jwks: "/application/o/my-app/jwks/",
    client_auth: ClientAuth::Either,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "token_type": "Bearer", "scope": "$scope", "expires_in": 3600, "id_token": "$id_token", "refresh_token": "$refresh_token"}"#,
    token_error: (
        400,
        r#"{"error": "invalid_grant", "error_description": "The provided authorization grant or refresh token is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client"}"#,
    ),
    user_json: r#"{"sub": "7f9a4c0b5e2d8a1f3c6b9e0d4a7f2c5b8e1d3a6f9c2b5e8d1a4f7c0b3e6d9a2f", "email": "akadmin@example.com", "email_verified": true, "name": "authentik Default Admin", "given_name": "authentik Default Admin", "preferred_username": "akadmin", "nickname": "akadmin", "groups": ["authentik Admins"]}"#,
    unauthorized: (401, r#"{"error": "invalid_token"}"#),
    api: &[],
};

/// Yahoo: "OpenID Connect" guide (`/oauth2/request_auth`, `/oauth2/get_token`,
/// `/openid/v1/userinfo`), its token answer with `xoauth_yahoo_guid` and its claims.
pub static YAHOO: Doc = Doc {
    name: "yahoo",
    client_id: "dj0yJmk9SlVWTGdPRHhFcVhaJmQ9WVdrOVdHRnRVMUZvTkhFbWNHbzlNQT09JnM9Y29uc3VtZXJzZWNyZXQmeD1kZg--",
    client_secret: "8b7dd0a8e7d7b5a3f0d1c8a6b5e4d3c2b1a09f8e",
    issuer: Some(""),
    authorize: "/oauth2/request_auth",
    token: "/oauth2/get_token",
    user: ("GET", "/openid/v1/userinfo"),
    jwks: "/openid/v1/certs",
    client_auth: ClientAuth::Either,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "refresh_token": "$refresh_token", "expires_in": 3600, "token_type": "bearer", "xoauth_yahoo_guid": "JT4FACLQZI2OCE", "id_token": "$id_token"}"#,
    token_error: (400, r#"{"error": "invalid_grant", "error_description": "Invalid authorization code"}"#),
    user_json: r#"{"sub": "FSVIDUW3D7FSVIDUW3D72F2F", "name": "Jasmine Smith", "given_name": "Jasmine", "family_name": "Smith", "nickname": "jasmine", "locale": "en-US", "email": "yqa_test_acct_1@yahoo.com", "email_verified": true, "birthdate": "1972", "picture": "https://s.yimg.com/ag/images/4528/35811862367_85c64b_192sq.jpg"}"#,
    unauthorized: (401, r#"{"error": "invalid_token"}"#),
    api: &[],
};

/// Salesforce, a My Domain: "OpenID Connect Token Endpoint" and "UserInfo Endpoint" (the token
/// answer's `instance_url`, `id`, `signature`, `issued_at`; the user's `user_id`,
/// `organization_id`); client credentials in the body.
pub static SALESFORCE: Doc = Doc {
    name: "salesforce",
    client_id: "3MVG9lKcPoNINVBIPJjdw1J9LLM82HnFVVX19KY1uA5mu0QqEWhqKpoW3svG3X4i0ddd",
    client_secret: "6E2D2B9A2F8C1E4B7D0A3C6F9E2B5D8A1C4F7E0B3D6A9C2F5E8B1D4A7C0F3E6B9",
    issuer: Some(""),
    authorize: "/services/oauth2/authorize",
    token: "/services/oauth2/token",
    user: ("GET", "/services/oauth2/userinfo"),
    jwks: "/id/keys",
    client_auth: ClientAuth::Body,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "00Dx0000000BV7z!",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "signature": "CMJ4l+CCaPQiKjoOEwEig9H4wqhpuLSk4J2urAe+fVg=", "scope": "$scope", "id_token": "$id_token", "instance_url": "https://acme.my.salesforce.com", "id": "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P", "token_type": "Bearer", "issued_at": "1278448101416"}"#,
    token_error: (
        400,
        r#"{"error": "invalid_grant", "error_description": "expired authorization code"}"#,
    ),
    user_json: r#"{"sub": "https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P", "user_id": "005x00000012Q9P", "organization_id": "00Dx0000000BV7z", "preferred_username": "admin@acme.com", "nickname": "admin", "name": "Admin User", "email": "admin@acme.com", "email_verified": true, "given_name": "Admin", "family_name": "User", "zoneinfo": "America/Los_Angeles", "picture": "https://acme--c.documentforce.com/profilephoto/005/F", "user_type": "STANDARD", "locale": "en_US"}"#,
    unauthorized: (
        401,
        r#"[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]"#,
    ),
    api: &[],
};

// ---------------------------------------------------------------------------------------------
// Consumer providers (OAuth 2).

/// Login with Amazon: "Authorization Code Grant" (`/ap/oa`, `/auth/o2/token`, credentials in
/// the body) and "Obtain Customer Profile Information" (`/user/profile`).
pub static AMAZON: Doc = Doc {
    name: "amazon",
    client_id: "amzn1.application-oa2-client.b91a4d2fd2f641f2a15ea469example",
    client_secret: "6c1c4b8e58f0f6f1e2ab3ee7f4b7d2c9a1e5b0d8c3f6a9e2b5d8c1f4a7e0b3d6",
    issuer: None,
    authorize: "/ap/oa",
    token: "/auth/o2/token",
    user: ("GET", "/user/profile"),
    jwks: "/-",
    client_auth: ClientAuth::Body,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "Atza|",
    token_content_type: "application/json;charset=UTF-8",
    token_answer: r#"{"access_token": "$access_token", "token_type": "bearer", "expires_in": 3600, "refresh_token": "Atzr|$refresh_token"}"#,
    token_error: (
        400,
        r#"{"error_description": "The authorization code is invalid", "error": "invalid_grant"}"#,
    ),
    user_json: r#"{"user_id": "amzn1.account.K2LI23KL2LK2", "email": "mhashimoto-04@plaxo.com", "name": "Mork Hashimoto", "postal_code": "98052"}"#,
    unauthorized: (
        401,
        r#"{"error": "invalid_token", "error_description": "The request has an invalid parameter : access_token"}"#,
    ),
    api: &[],
};

/// Reddit: the OAuth2 wiki (comma-separated `scope`, HTTP Basic at `/api/v1/access_token`, the
/// API at oauth.reddit.com, `invalid_grant` for a used code) and the API rules (a descriptive
/// `User-Agent`, generic ones throttled); `/api/v1/me` trimmed.
pub static REDDIT: Doc = Doc {
    name: "reddit",
    client_id: "p-jcoLKBynTLew",
    client_secret: "gko_LXELoV07ZBNUXrvWZfzE3aI",
    issuer: None,
    authorize: "/api/v1/authorize",
    token: "/api/v1/access_token",
    user: ("GET", "/api/v1/me"),
    jwks: "/-",
    client_auth: ClientAuth::Basic,
    pkce: false,
    scope_separator: ",",
    authorize_requires: &[],
    api_requires: &[("user-agent", "web:")],
    missing_header: (429, "<!doctype html><title>Too Many Requests</title>"),
    token_prefix: "eyJhbGciOiJSUzI1NiIsImtpZCI6IlNIQTI1NjpzS3dsMnlsV0VtMjVmcXhwTU40cWY4MXE2OWFFdWFyMnpLMUdhVGxjdWNZIiwidHlwIjoiSldUIn0.",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "token_type": "bearer", "expires_in": 86400, "scope": "$scope"}"#,
    token_error: (200, r#"{"error": "invalid_grant"}"#),
    user_json: r#"{"id": "1w72", "name": "spez", "icon_img": "https://styles.redditmedia.com/t5_3k30p/styles/profileIcon_snoo.png", "created_utc": 1118030400.0, "verified": true, "has_verified_email": true, "subreddit": {"title": "spez", "display_name_prefixed": "u/spez"}}"#,
    unauthorized: (401, r#"{"message": "Unauthorized", "error": 401}"#),
    api: &[],
};

/// Spotify: "Authorization Code Flow" (`/authorize`, `/api/token` with HTTP Basic) and "Get
/// Current User's Profile" (`/v1/me`; "This email address is unverified").
pub static SPOTIFY: Doc = Doc {
    name: "spotify",
    client_id: "5fe01282e44241328a84e7c5cc169165",
    client_secret: "b0c3f62c7e7c4b0cb5e0e2b0a1c9d8e7",
    issuer: None,
    authorize: "/authorize",
    token: "/api/token",
    user: ("GET", "/v1/me"),
    jwks: "/-",
    client_auth: ClientAuth::Basic,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "BQ",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "token_type": "Bearer", "scope": "$scope", "expires_in": 3600, "refresh_token": "$refresh_token"}"#,
    token_error: (
        400,
        r#"{"error": "invalid_grant", "error_description": "Invalid authorization code"}"#,
    ),
    user_json: r#"{"country": "SE", "display_name": "JM Wizzler", "email": "email@example.com", "explicit_content": {"filter_enabled": false, "filter_locked": false}, "external_urls": {"spotify": "https://open.spotify.com/user/wizzler"}, "followers": {"href": null, "total": 3829}, "href": "https://api.spotify.com/v1/users/wizzler", "id": "wizzler", "images": [{"height": null, "url": "https://fbcdn-profile-a.akamaihd.net/hprofile-ak-frc3/t1.0-1/1970403_10152215092574354_1798272330_n.jpg", "width": null}], "product": "premium", "type": "user", "uri": "spotify:user:wizzler"}"#,
    unauthorized: (
        401,
        r#"{"error": {"status": 401, "message": "No token provided"}}"#,
    ),
    api: &[],
};

/// Dropbox: "OAuth Guide" and `/oauth2/token` (its answer's `account_id`, `uid`), and
/// `users/get_current_account`, an RPC endpoint: `POST`, no body.
pub static DROPBOX: Doc = Doc {
    name: "dropbox",
    client_id: "a1b2c3d4e5f6g7h",
    client_secret: "h7g6f5e4d3c2b1a",
    issuer: None,
    authorize: "/oauth2/authorize",
    token: "/oauth2/token",
    user: ("POST", "/2/users/get_current_account"),
    jwks: "/-",
    client_auth: ClientAuth::Either,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "sl.",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "expires_in": 14400, "token_type": "bearer", "scope": "$scope", "account_id": "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc", "uid": "12345"}"#,
    token_error: (
        400,
        r#"{"error": "invalid_grant", "error_description": "code doesn't exist or has expired"}"#,
    ),
    user_json: r#"{"account_id": "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc", "name": {"given_name": "Franz", "surname": "Ferdinand", "familiar_name": "Franz", "display_name": "Franz Ferdinand (Personal)", "abbreviated_name": "FF"}, "email": "franz@dropbox.com", "email_verified": true, "disabled": false, "locale": "en", "referral_link": "https://db.tt/ZITNuhtI", "is_paired": false, "account_type": {".tag": "basic"}, "profile_photo_url": "https://dl-web.dropbox.com/account_photo/get/dbaphid%3AAAHWGmIXV3sUuOmBfTz0wPsiqHUpBWvv3ZA?vers=1556069330102&size=128x128", "country": "US"}"#,
    unauthorized: (
        401,
        r#"{"error_summary": "invalid_access_token/..", "error": {".tag": "invalid_access_token"}}"#,
    ),
    api: &[],
};

/// Bitbucket Cloud: "OAuth 2.0" (`/site/oauth2/…`, HTTP Basic, the answer's `scopes` and
/// `state`), `GET /2.0/user`, and `GET /2.0/user/emails` (a page of `{email, is_primary,
/// is_confirmed}`).
pub static BITBUCKET: Doc = Doc {
    name: "bitbucket",
    client_id: "XH3x8PEd2qVbGqXmpX",
    client_secret: "mUjqAm3WAbDLjfp9nBxm8AxS5nL8y5a4",
    issuer: None,
    authorize: "/site/oauth2/authorize",
    token: "/site/oauth2/access_token",
    user: ("GET", "/2.0/user"),
    jwks: "/-",
    client_auth: ClientAuth::Either,
    pkce: false,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "scopes": "$scope", "token_type": "bearer", "expires_in": 7200, "state": "authorization_code", "refresh_token": "$refresh_token"}"#,
    token_error: (
        400,
        r#"{"error_description": "The specified code is not valid.", "error": "invalid_grant"}"#,
    ),
    user_json: r#"{"display_name": "Erik van Zijst", "links": {"avatar": {"href": "https://secure.gravatar.com/avatar/7b6a0ce4b1ac3e4fe5ec8d1b6e4ad5dd?d=https%3A%2F%2Favatar-management--avatars.us-west-2.prod.public.atl-paas.net%2Finitials%2FEZ-0.png"}}, "created_on": "2010-10-08T20:21:52+00:00", "type": "user", "uuid": "{a288a0ab-e13b-43f0-a689-c4ef0a249875}", "username": "evzijst", "account_id": "557058:c0b72ad0-1cb5-4018-9cdc-0cde8492c443", "nickname": "evzijst"}"#,
    unauthorized: (
        401,
        r#"{"type": "error", "error": {"message": "Access token expired."}}"#,
    ),
    api: &[(
        "/2.0/user/emails",
        r#"{"pagelen": 10, "values": [{"is_primary": false, "is_confirmed": true, "type": "email", "email": "evzijst@example.org"}, {"is_primary": true, "is_confirmed": true, "type": "email", "email": "erik@example.com"}], "page": 1, "size": 2}"#,
    )],
};

/// Atlassian: "OAuth 2.0 (3LO) apps" (`audience=api.atlassian.com` and `prompt=consent`
/// required, `/oauth/token` with the credentials in the body) and `GET /me`'s example.
pub static ATLASSIAN: Doc = Doc {
    name: "atlassian",
    client_id: "Qc8Y1pT2eX5nZ7wB4vK9mL3hJ6dF0sA1",
    client_secret: "ATOAx9pQ8wE7rT6yU5iO4pA3sD2fG1hJ0kL9zX8cV7bN6mQ5wE4rT3yU2iO1pA0",
    issuer: None,
    authorize: "/authorize",
    token: "/oauth/token",
    user: ("GET", "/me"),
    jwks: "/-",
    client_auth: ClientAuth::Body,
    pkce: false,
    scope_separator: " ",
    authorize_requires: &[("audience", "api.atlassian.com"), ("prompt", "consent")],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "eyJ",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "expires_in": 3600, "scope": "$scope", "token_type": "Bearer"}"#,
    token_error: (
        403,
        r#"{"error": "invalid_grant", "error_description": "Invalid authorization code"}"#,
    ),
    user_json: r#"{"account_type": "atlassian", "account_id": "112233aa-bb11-cc22-33dd-eeff44556677", "email": "mia@example.com", "name": "Mia Krystof", "picture": "https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/112233aa-bb11-cc22-33dd-eeff44556677/1234abcd-9876-54aa-33aa-1234dddd0000/128", "account_status": "active", "nickname": "mkrystof", "zoneinfo": "Australia/Sydney", "locale": "en-US", "extended_profile": {"job_title": "Designer", "organization": "mia@example.com", "department": "Design team", "location": "Sydney"}}"#,
    unauthorized: (401, r#"{"code": 401, "message": "Unauthorized"}"#),
    api: &[],
};

/// Zoom: "Using OAuth 2.0" (`/oauth/authorize`, `/oauth/token` with HTTP Basic, errors with a
/// `reason`) and "Get a user" (`/v2/users/me`, `"verified": 1`).
pub static ZOOM: Doc = Doc {
    name: "zoom",
    client_id: "8LMAqBeTSt2jTzTH8WbT4g",
    client_secret: "j4LAk7kOVnHKIiEJD3xJgEJ1RnbLn5DL",
    issuer: None,
    authorize: "/oauth/authorize",
    token: "/oauth/token",
    user: ("GET", "/v2/users/me"),
    jwks: "/-",
    client_auth: ClientAuth::Basic,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "eyJzdiI6IjAwMDAwMSIsImFsZyI6IkhTNTEyIiwidiI6IjIuMCIsImtpZCI6I",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "token_type": "bearer", "refresh_token": "$refresh_token", "expires_in": 3599, "scope": "user:read:user"}"#,
    token_error: (
        400,
        r#"{"reason": "Invalid authorization code", "error": "invalid_request"}"#,
    ),
    user_json: r#"{"id": "KDcuGIm1QgePTO8WbOqwIQ", "first_name": "Jill", "last_name": "Chill", "display_name": "Jill Chill", "email": "jchill@example.com", "type": 1, "role_name": "Owner", "pmi": 3542471135, "use_pmi": false, "timezone": "Asia/Shanghai", "verified": 1, "dept": "", "created_at": "2019-06-01T07:58:03Z", "last_login_time": "2019-06-01T07:58:03Z", "pic_url": "https://example.com/picture.jpg", "language": "en-US", "status": "active", "role_id": "0", "account_id": "q6gBJVO5TzexKYTb_I2rpg", "account_number": 10009239}"#,
    unauthorized: (401, r#"{"code": 124, "message": "Invalid access token."}"#),
    api: &[],
};

/// Strava: "Authentication" (comma-delimited `scope`, credentials in the body, the token
/// exchange's answer with `expires_at` and the summary `athlete`), errors as
/// `{"message", "errors": [{resource, field, code}]}`.
pub static STRAVA: Doc = Doc {
    name: "strava",
    client_id: "12345",
    client_secret: "8d9c4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8e7d",
    issuer: None,
    authorize: "/oauth/authorize",
    token: "/oauth/token",
    user: ("GET", "/api/v3/athlete"),
    jwks: "/-",
    client_auth: ClientAuth::Body,
    pkce: false,
    scope_separator: ",",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "a4b945687g",
    token_content_type: JSON,
    token_answer: r#"{"token_type": "Bearer", "expires_at": 1568775134, "expires_in": 21600, "refresh_token": "$refresh_token", "access_token": "$access_token", "athlete": "$user"}"#,
    token_error: (
        400,
        r#"{"message": "Bad Request", "errors": [{"resource": "AuthorizationCode", "field": "code", "code": "invalid"}]}"#,
    ),
    user_json: r#"{"id": 134815, "username": "marianne_t", "resource_state": 2, "firstname": "Marianne", "lastname": "Teutenberg", "bio": "", "city": "San Francisco", "state": "CA", "country": "US", "sex": "F", "premium": true, "summit": true, "created_at": "2017-11-14T02:30:05Z", "updated_at": "2018-02-06T19:32:20Z", "badge_type_id": 4, "weight": 0, "profile_medium": "https://xxxxxx.cloudfront.net/pictures/athletes/123456789/123456789/2/medium.jpg", "profile": "https://xxxxx.cloudfront.net/pictures/athletes/123456789/123456789/2/large.jpg", "friend": null, "follower": null}"#,
    unauthorized: (
        401,
        r#"{"message": "Authorization Error", "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}]}"#,
    ),
    api: &[],
};

/// Patreon: "OAuth" (`/oauth2/authorize`, `/api/oauth2/token` with the credentials in the body)
/// and API v2 `/identity` with `fields[user]` (a JSON:API document; `is_email_verified`).
pub static PATREON: Doc = Doc {
    name: "patreon",
    client_id: "Pf8jV0xJ3wY6nB9mQ2kT5hL8dR1sA4cE7gI0uO3yW6zX9vN2bM5pK8jH1fD4",
    client_secret: "aS3dF6gH9jK2lZ5xC8vB1nM4qW7eR0tY3uI6oP9aS2dF5gH8jK1lZ4xC7vB0nM3q",
    issuer: None,
    authorize: "/oauth2/authorize",
    token: "/api/oauth2/token",
    user: ("GET", "/api/oauth2/v2/identity"),
    jwks: "/-",
    client_auth: ClientAuth::Body,
    pkce: false,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "refresh_token": "$refresh_token", "expires_in": 2678400, "scope": "$scope", "token_type": "Bearer"}"#,
    token_error: (400, r#"{"error": "invalid_grant"}"#),
    user_json: r#"{"data": {"attributes": {"email": "corgi@example.com", "full_name": "Platform Team", "image_url": "https://c8.patreon.com/2/200/123", "is_email_verified": true, "vanity": "platformteam"}, "id": "123", "type": "user"}, "links": {"self": "https://www.patreon.com/api/oauth2/v2/user/123"}}"#,
    unauthorized: (
        401,
        r#"{"errors": [{"code": 1, "code_name": "Unauthorized", "detail": "The server could not verify that you are authorized to access the URL requested.", "status": "401", "title": "Unauthorized"}]}"#,
    ),
    api: &[],
};

/// Box: "OAuth 2.0" (`/api/oauth2/authorize` on account.box.com, `/oauth2/token` with the
/// credentials in the body, `restricted_to`) and "Get current user" (`/2.0/users/me`).
pub static BOX: Doc = Doc {
    name: "box",
    client_id: "ly1nj6n11vionaie65emwzk575hnnmrk",
    client_secret: "hOzsTeFlT6ko0dme22uGbQal04SBPYc1",
    issuer: None,
    authorize: "/api/oauth2/authorize",
    token: "/oauth2/token",
    user: ("GET", "/2.0/users/me"),
    jwks: "/-",
    client_auth: ClientAuth::Body,
    pkce: false,
    scope_separator: " ",
    authorize_requires: &[],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "expires_in": 3600, "restricted_to": [], "refresh_token": "$refresh_token", "token_type": "bearer"}"#,
    token_error: (
        400,
        r#"{"error": "invalid_grant", "error_description": "Auth code doesn't exist or is invalid for the client"}"#,
    ),
    user_json: r#"{"type": "user", "id": "11446498", "name": "Aaron Levie", "login": "ceo@example.com", "created_at": "2012-12-12T10:53:43-08:00", "modified_at": "2012-12-12T10:53:43-08:00", "language": "en", "timezone": "Africa/Bujumbura", "space_amount": 11345156112, "space_used": 1237009912, "max_upload_size": 2147483648, "status": "active", "job_title": "CEO", "avatar_url": "https://www.box.com/api/avatar/large/181216415", "notification_email": {"email": "notifications@example.com", "is_confirmed": true}}"#,
    unauthorized: (401, ""),
    api: &[],
};

/// Notion: "Authorization" for public integrations (`owner=user`, `/v1/oauth/token` with HTTP
/// Basic, the answer's `owner.user` and workspace) and "Versioning" (`Notion-Version` on every
/// call; `missing_version` without it); `GET /v1/users/me` answers the integration's bot user.
pub static NOTION: Doc = Doc {
    name: "notion",
    client_id: "463558a3-725e-4f37-b6d3-0889894f68de",
    client_secret: "secret_8f1fCkMp2Y4rLqXhV0ZnB9dWgTjS6eAuK3oR7iP5cN1",
    issuer: None,
    authorize: "/v1/oauth/authorize",
    token: "/v1/oauth/token",
    user: ("GET", "/-"),
    jwks: "/-",
    client_auth: ClientAuth::Basic,
    pkce: false,
    scope_separator: " ",
    authorize_requires: &[("owner", "user")],
    api_requires: &[("notion-version", "2022-06-28")],
    missing_header: (
        400,
        r#"{"object": "error", "status": 400, "code": "missing_version", "message": "Notion-Version header failed validation: Notion-Version header should be defined, instead was `undefined`."}"#,
    ),
    token_prefix: "secret_",
    token_content_type: JSON,
    token_answer: r#"{"access_token": "$access_token", "token_type": "bearer", "bot_id": "b3414d65-1224-4ff7-9ffe-cc9d8773d2a6", "workspace_name": "Ada's Notion Workspace", "workspace_icon": "https://www.notion.so/image/ada.png", "workspace_id": "7a565c4d-3e28-4d61-b564-a09d9a1c36f7", "owner": {"type": "user", "user": "$user"}, "duplicated_template_id": null, "request_id": "f0a7c8a2-3c1f-4b7e-9d1e-2b5a4c6e8f10"}"#,
    token_error: (
        400,
        r#"{"error": "invalid_grant", "error_description": "Invalid code.", "request_id": "2d1f6a0b-7c3e-4f5a-8b9c-0d1e2f3a4b5c"}"#,
    ),
    user_json: r#"{"object": "user", "id": "c2f20311-9e54-4d11-8c79-7398424ae41e", "name": "Ada Lovelace", "avatar_url": "https://s3-us-west-2.amazonaws.com/public.notion-static.com/ada.png", "type": "person", "person": {"email": "ada@example.com"}}"#,
    unauthorized: (
        401,
        r#"{"object": "error", "status": 401, "code": "unauthorized", "message": "API token is invalid."}"#,
    ),
    api: &[(
        "/v1/users/me",
        r#"{"object": "user", "id": "b3414d65-1224-4ff7-9ffe-cc9d8773d2a6", "name": "Actix app", "avatar_url": null, "type": "bot", "bot": {"owner": {"type": "user", "user": "$user"}, "workspace_name": "Ada's Notion Workspace"}}"#,
    )],
};

/// X: "OAuth 2.0 Authorization Code Flow with PKCE" (`/i/oauth2/authorize`, `/2/oauth2/token`
/// with HTTP Basic for confidential clients, PKCE required) and `GET /2/users/me`.
pub static X: Doc = Doc {
    name: "x",
    client_id: "M1M5R3BMVy13QmpScXkzTUt5OE46MTpjaQ",
    client_secret: "5dY3qD2nE8cW7bV6xZ1aS4fG9hJ0kL3mN6pQ8rT1uW4yB7eH0jM3oR6tV9xA2cF5",
    issuer: None,
    authorize: "/i/oauth2/authorize",
    token: "/2/oauth2/token",
    user: ("GET", "/2/users/me"),
    jwks: "/-",
    client_auth: ClientAuth::Basic,
    pkce: true,
    scope_separator: " ",
    authorize_requires: &[("code_challenge_method", "S256")],
    api_requires: &[],
    missing_header: (400, ""),
    token_prefix: "",
    token_content_type: JSON,
    token_answer: r#"{"token_type": "bearer", "expires_in": 7200, "access_token": "$access_token", "scope": "$scope"}"#,
    token_error: (
        400,
        r#"{"error": "invalid_request", "error_description": "Value passed for the authorization code was invalid."}"#,
    ),
    user_json: r#"{"data": {"id": "2244994945", "name": "X Dev", "username": "XDevelopers", "profile_image_url": "https://pbs.twimg.com/profile_images/1445764922474827784/W2zEPN7U_normal.jpg"}}"#,
    unauthorized: (
        401,
        r#"{"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}"#,
    ),
    api: &[],
};
