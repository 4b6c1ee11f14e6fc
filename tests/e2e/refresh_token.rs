//! IdP refresh tokens (`offline_access`, OIDC Core §11): issued by the code grant, rotated by the
//! `refresh_token` grant (RFC 6749 §6; reuse revokes the sign-in's tokens, OAuth 2.0 Security BCP
//! §4.14.2), and accepted as a token-exchange subject token (draft-ietf-oauth-identity-assertion-authz-grant
//! §4.3.3), with every refusal's exact body. Expiry moves the lab clock; nothing sleeps.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use xaa_core::urn;

use crate::admin::admin_json;
use crate::harness::*;

const ALICE: &str = "alice@acme.example";

/// Signs `email` in to `client` through the real pages, asking for `offline_access` when `offline`;
/// returns the authorization code.
async fn code(lab: &TestLab, client: &str, redirect: &str, email: &str, offline: bool) -> String {
    let mut url = lab.authorize_url(client, redirect, &[]);
    if offline {
        url = url.replace("scope=openid+profile+email", "scope=openid+profile+email+offline_access");
    }
    let loc = lab.login_redirect(&lab.browser(), &url, email).await;
    query_param(&loc, "code").expect("code in the redirect")
}

fn code_params(code: &str, client: &str, secret: &str, redirect: &str) -> Vec<(String, String)> {
    code_grant(code, redirect, client, secret)
}

/// Signs `email` in to `client` through the real pages and code grant; returns the token response.
async fn sign_in(lab: &TestLab, client: &str, secret: &str, redirect: &str, email: &str, offline: bool) -> Value {
    let code = code(lab, client, redirect, email, offline).await;
    let resp = lab.idp_token(&code_params(&code, client, secret, redirect)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// alice's refresh token at the bring-your-own client.
async fn alice_refresh_token(lab: &TestLab) -> String {
    let body = sign_in(lab, CLIENT, SECRET, REDIRECT, ALICE, true).await;
    body["refresh_token"].as_str().expect("a refresh token").to_owned()
}

fn refresh_params(refresh_token: &str) -> Vec<(String, String)> {
    refresh_grant(refresh_token, CLIENT, SECRET)
}

/// The standard exchange parameters with a refresh token as the subject.
fn refresh_exchange(lab: &TestLab, refresh_token: &str) -> Vec<(String, String)> {
    with(
        &with(&lab.exchange_params(refresh_token), "subject_token_type", Some(urn::TOKEN_TYPE_REFRESH_TOKEN)),
        "subject_token",
        Some(refresh_token),
    )
}

async fn ok_json(resp: reqwest::Response) -> Value {
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    resp.json().await.unwrap()
}

async fn refused_with(resp: reqwest::Response, error: &str, description: &str) {
    assert_eq!(assert_oauth_error(resp, 400, error).await, description);
}

#[tokio::test]
async fn discovery_advertises_offline_access_the_grant_and_the_subject_type() {
    let lab = TestLab::start().await;
    let meta: Value = lab.idp_discovery().await;
    assert!(meta["scopes_supported"].as_array().unwrap().contains(&"offline_access".into()), "{meta}");
    assert!(meta["grant_types_supported"].as_array().unwrap().contains(&"refresh_token".into()), "{meta}");
    assert_eq!(
        meta["token_exchange_subject_token_types_supported"],
        serde_json::json!([urn::TOKEN_TYPE_ID_TOKEN, urn::TOKEN_TYPE_SAML2, urn::TOKEN_TYPE_REFRESH_TOKEN])
    );
}

#[tokio::test]
async fn the_code_grant_returns_a_refresh_token_only_for_offline_access() {
    let lab = TestLab::start().await;
    let with_offline = sign_in(&lab, CLIENT, SECRET, REDIRECT, ALICE, true).await;
    let token = with_offline["refresh_token"].as_str().expect("a refresh token");
    assert!(token.len() >= 43, "opaque and random: {} characters", token.len());
    assert_eq!(with_offline["scope"], "openid profile email offline_access");
    let without = sign_in(&lab, CLIENT, SECRET, REDIRECT, ALICE, false).await;
    assert!(without.get("refresh_token").is_none(), "{without}");
}

#[tokio::test]
async fn the_refresh_grant_rotates_and_returns_a_fresh_id_token() {
    let lab = TestLab::start().await;
    let first = alice_refresh_token(&lab).await;
    lab.clock.advance(60);
    let body = ok_json(lab.idp_token(&refresh_params(&first)).await).await;
    let second = body["refresh_token"].as_str().expect("a rotated refresh token");
    assert_ne!(second, first);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["scope"], "openid profile email offline_access");
    let (_, claims) = decode(body["id_token"].as_str().unwrap());
    assert_eq!((claims["sub"].as_str(), claims["aud"].as_str()), (Some(ALICE), Some(CLIENT)));
    assert_eq!(claims["iat"].as_i64(), Some(lab.now()), "minted now");
    assert!(claims.get("nonce").is_none(), "no nonce on refresh (OIDC Core §12.2): {claims}");
    // The new IdP access token works at /userinfo.
    let info = lab.http.get(format!("{}/userinfo", lab.idp())).bearer_auth(body["access_token"].as_str().unwrap());
    assert_eq!(info.send().await.unwrap().status(), StatusCode::OK);
    // The successor refreshes in turn.
    ok_json(lab.idp_token(&refresh_params(second)).await).await;
}

#[tokio::test]
async fn the_refresh_grant_narrows_scope_but_never_widens_it() {
    let lab = TestLab::start().await;
    let token = alice_refresh_token(&lab).await;
    let wider = with(&refresh_params(&token), "scope", Some("openid todos.read"));
    refused_with(
        lab.idp_token(&wider).await,
        "invalid_scope",
        "scope 'todos.read' was not granted with the refresh token (RFC 6749 Section 6)",
    )
    .await;
    let narrower = with(&refresh_params(&token), "scope", Some("openid"));
    let body = ok_json(lab.idp_token(&narrower).await).await;
    assert_eq!(body["scope"], "openid");
    // The successor keeps the original scope (RFC 6749 §6).
    let again = ok_json(lab.idp_token(&refresh_params(body["refresh_token"].as_str().unwrap())).await).await;
    assert_eq!(again["scope"], "openid profile email offline_access");
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_sign_in() {
    let lab = TestLab::start().await;
    let first = alice_refresh_token(&lab).await;
    let body = ok_json(lab.idp_token(&refresh_params(&first)).await).await;
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    let access = body["access_token"].as_str().unwrap().to_owned();
    refused_with(
        lab.idp_token(&refresh_params(&first)).await,
        "invalid_grant",
        "the refresh token was already rotated; reusing it revoked every token of that sign-in (RFC 9700 Section 4.14.2)",
    )
    .await;
    // The successor and the access tokens of that sign-in are gone too.
    refused_with(
        lab.idp_token(&refresh_params(&second)).await,
        "invalid_grant",
        "the refresh token is unknown or revoked (RFC 6749 Section 6)",
    )
    .await;
    let info = lab.http.get(format!("{}/userinfo", lab.idp())).bearer_auth(&access).send().await.unwrap();
    assert_eq!(info.status(), StatusCode::UNAUTHORIZED);
    // A rotated token is refused as a subject token too.
    refused_with(
        lab.idp_token(&refresh_exchange(&lab, &first)).await,
        "invalid_grant",
        "the refresh token is unknown or revoked (RFC 6749 Section 6)",
    )
    .await;
}

#[tokio::test]
async fn refresh_grant_refusals_have_exact_bodies() {
    let lab = TestLab::start().await;
    let token = alice_refresh_token(&lab).await;
    refused_with(
        lab.idp_token(&refresh_params("not-a-refresh-token")).await,
        "invalid_grant",
        "the refresh token is unknown or revoked (RFC 6749 Section 6)",
    )
    .await;
    let notes = refresh_grant(&token, NOTES_CLIENT, NOTES_SECRET);
    refused_with(
        lab.idp_token(&notes).await,
        "invalid_grant",
        "the refresh token was issued to another client (RFC 6749 Section 10.4)",
    )
    .await;
    refused_with(
        lab.idp_token(&with(&refresh_params(&token), "refresh_token", None)).await,
        "invalid_request",
        "missing required parameter `refresh_token`",
    )
    .await;
    // Another client's attempt did not burn it.
    ok_json(lab.idp_token(&refresh_params(&token)).await).await;
}

#[tokio::test]
async fn a_refresh_token_expires_with_the_lab_clock_and_rotation_does_not_extend_it() {
    let lab = TestLab::start().await;
    let first = alice_refresh_token(&lab).await;
    let lifetime = xaa_lab::idp::Lifetimes::default().refresh_token;
    lab.clock.advance(lifetime - 10);
    let body = ok_json(lab.idp_token(&refresh_params(&first)).await).await;
    let second = body["refresh_token"].as_str().unwrap().to_owned();
    lab.clock.advance(10);
    refused_with(
        lab.idp_token(&refresh_params(&second)).await,
        "invalid_grant",
        "the refresh token has expired (RFC 6749 Section 6)",
    )
    .await;
    refused_with(
        lab.idp_token(&refresh_exchange(&lab, &second)).await,
        "invalid_grant",
        "the refresh token has expired (RFC 6749 Section 6)",
    )
    .await;
}

#[tokio::test]
async fn a_refresh_token_subject_yields_the_id_jag_an_id_token_would() {
    let lab = TestLab::start().await;
    let body = sign_in(&lab, CLIENT, SECRET, REDIRECT, ALICE, true).await;
    let refresh_token = body["refresh_token"].as_str().unwrap();
    let via_id_token = ok_json(lab.idp_token(&lab.exchange_params(body["id_token"].as_str().unwrap())).await).await;
    let via_refresh = ok_json(lab.idp_token(&refresh_exchange(&lab, refresh_token)).await).await;
    for field in ["issued_token_type", "token_type", "expires_in", "scope", "resource"] {
        assert_eq!(via_refresh[field], via_id_token[field], "{field}");
    }
    let (header, claims) = decode(via_refresh["access_token"].as_str().unwrap());
    let (id_header, id_claims) = decode(via_id_token["access_token"].as_str().unwrap());
    assert_eq!(header["typ"], urn::TYP_ID_JAG);
    assert_eq!(header, id_header);
    for claim in ["iss", "sub", "aud", "client_id", "scope", "resource", "email", "auth_time", "exp", "iat"] {
        assert_eq!(claims[claim], id_claims[claim], "{claim}");
    }
    assert_ne!(claims["jti"], id_claims["jti"]);
    assert_eq!(claims["sub"], ALICE);
    // The exchange does not rotate the refresh token: it still refreshes.
    ok_json(lab.idp_token(&refresh_params(refresh_token)).await).await;

    // The AS accepts it: jwt-bearer, then the todo API.
    let access_token = lab.access_token(via_refresh["access_token"].as_str().unwrap()).await;
    let list = lab.todo_json("/api/todos", &access_token).await;
    assert!(list.is_array() || list.is_object(), "{list}");

    // Audited like an ID-token exchange.
    let (status, log) = admin_json(&lab, Method::GET, "/api/admin/audit", None).await;
    assert_eq!(status, StatusCode::OK);
    let newest = &log["entries"][0];
    assert_eq!((newest["outcome"].as_str(), newest["user"].as_str()), (Some("issued"), Some(ALICE)), "{log}");
    assert_eq!(newest["jti"], claims["jti"]);
}

#[tokio::test]
async fn refresh_token_subject_refusals_have_exact_bodies() {
    let lab = TestLab::start().await;
    let body = sign_in(&lab, CLIENT, SECRET, REDIRECT, ALICE, true).await;
    let refresh_token = body["refresh_token"].as_str().unwrap();
    refused_with(
        lab.idp_token(&refresh_exchange(&lab, "not-a-refresh-token")).await,
        "invalid_grant",
        "the refresh token is unknown or revoked (RFC 6749 Section 6)",
    )
    .await;
    // An ID token named as a refresh token is not one.
    refused_with(
        lab.idp_token(&refresh_exchange(&lab, body["id_token"].as_str().unwrap())).await,
        "invalid_grant",
        "the refresh token is unknown or revoked (RFC 6749 Section 6)",
    )
    .await;
    // Another client's refresh token.
    let notes_redirect = format!("{}/auth/callback", lab.notes());
    let notes = sign_in(&lab, NOTES_CLIENT, NOTES_SECRET, &notes_redirect, ALICE, true).await;
    refused_with(
        lab.idp_token(&refresh_exchange(&lab, notes["refresh_token"].as_str().unwrap())).await,
        "invalid_grant",
        "the refresh token was issued to another client (RFC 6749 Section 10.4)",
    )
    .await;
    // The same policy checks as with an ID token.
    let elsewhere = with(&refresh_exchange(&lab, refresh_token), "audience", Some("https://elsewhere.example"));
    let d = assert_oauth_error(lab.idp_token(&elsewhere).await, 400, "invalid_target").await;
    assert!(d.contains("https://elsewhere.example"), "{d}");
    // An unsupported subject token type names the supported ones.
    let jwt = "urn:ietf:params:oauth:token-type:jwt";
    let unsupported = with(&refresh_exchange(&lab, refresh_token), "subject_token_type", Some(jwt));
    refused_with(
        lab.idp_token(&unsupported).await,
        "invalid_request",
        &format!(
            "subject_token_type '{jwt}' is not supported; this IdP accepts '{}', '{}' or '{}' (RFC 8693 Section 2.2.2)",
            urn::TOKEN_TYPE_ID_TOKEN,
            urn::TOKEN_TYPE_SAML2,
            urn::TOKEN_TYPE_REFRESH_TOKEN
        ),
    )
    .await;
}

#[tokio::test]
async fn replaying_the_code_revokes_its_refresh_token() {
    let lab = TestLab::start().await;
    let code = code(&lab, CLIENT, REDIRECT, ALICE, true).await;
    let params = code_params(&code, CLIENT, SECRET, REDIRECT);
    let body = ok_json(lab.idp_token(&params).await).await;
    let refresh_token = body["refresh_token"].as_str().unwrap();
    assert_oauth_error(lab.idp_token(&params).await, 400, "invalid_grant").await;
    refused_with(
        lab.idp_token(&refresh_params(refresh_token)).await,
        "invalid_grant",
        "the refresh token is unknown or revoked (RFC 6749 Section 6)",
    )
    .await;
}

#[tokio::test]
async fn a_client_that_did_not_register_the_refresh_grant_gets_no_refresh_token() {
    let lab = TestLab::start().await;
    let body = serde_json::json!({ "client_name": "No refresh", "redirect_uris": [REDIRECT] });
    let registered: Value =
        lab.http.post(format!("{}/register", lab.idp())).json(&body).send().await.unwrap().json().await.unwrap();
    let (id, secret) = (registered["client_id"].as_str().unwrap(), registered["client_secret"].as_str().unwrap());
    let tokens = sign_in(&lab, id, secret, REDIRECT, ALICE, true).await;
    assert!(tokens.get("refresh_token").is_none(), "offline_access asked, grant not registered: {tokens}");
    // Nor may it use the grant with a refresh token it got hold of.
    let token = alice_refresh_token(&lab).await;
    let params = with(&with(&refresh_params(&token), "client_id", Some(id)), "client_secret", Some(secret));
    let d = assert_oauth_error(lab.idp_token(&params).await, 400, "unauthorized_client").await;
    assert_eq!(
        d,
        format!(
            "client '{id}' registered the grant types authorization_code and may not use 'refresh_token' (RFC 6749 Section 5.2, RFC 7591 Section 2)"
        )
    );
}
