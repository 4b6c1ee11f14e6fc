//! Token exchange at the IdP (RFC 8693; draft-ietf-oauth-identity-assertion-authz-grant-04 §4.3):
//! one test per rejection reason, each pinning status, `error` and `Cache-Control: no-store`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::StatusCode;
use serde_json::Value;
use xaa_core::urn;
use xaa_lab::idp::Connection;

use crate::harness::*;

/// A lab with alice logged in, and her standard exchange parameters.
async fn ready() -> (TestLab, Vec<(String, String)>) {
    let lab = TestLab::start().await;
    let login = lab.login("alice@acme.example").await;
    let params = lab.exchange_params(&login.id_token);
    (lab, params)
}

async fn refused(lab: &TestLab, params: &[(String, String)], status: u16, error: &str) -> String {
    assert_oauth_error(lab.idp_token(params).await, status, error).await
}

#[tokio::test]
async fn scope_defaults_to_the_connection_and_basic_auth_works() {
    let (lab, params) = ready().await;
    let params = with(&with(&with(&params, "scope", None), "client_id", None), "client_secret", None);
    let resp = lab
        .http
        .post(format!("{}/token", lab.idp()))
        .basic_auth(CLIENT, Some(SECRET))
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["scope"], "todos.read todos.write");
    assert_eq!(body["resource"], lab.api());
}

#[tokio::test]
async fn narrower_scope_is_granted_as_asked() {
    let (lab, params) = ready().await;
    let body: Value = lab.idp_token(&with(&params, "scope", Some("todos.read"))).await.json().await.unwrap();
    assert_eq!(body["scope"], "todos.read");
    assert_eq!(decode(body["access_token"].as_str().unwrap()).1["scope"], "todos.read");
}

#[tokio::test]
async fn no_client_credentials_is_invalid_client() {
    let (lab, params) = ready().await;
    let params = with(&with(&params, "client_id", None), "client_secret", None);
    let resp = lab.idp_token(&params).await;
    assert!(resp.headers().get("www-authenticate").is_none());
    let d = assert_oauth_error(resp, 401, "invalid_client").await;
    assert!(d.contains("no client credentials"), "{d}");
}

#[tokio::test]
async fn wrong_secret_with_basic_is_invalid_client_with_challenge() {
    let (lab, params) = ready().await;
    let params = with(&with(&params, "client_id", None), "client_secret", None);
    let resp = lab
        .http
        .post(format!("{}/token", lab.idp()))
        .basic_auth(CLIENT, Some("wrong"))
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["www-authenticate"], "Basic realm=\"token\"");
    let d = assert_oauth_error(resp, 401, "invalid_client").await;
    assert!(d.contains("wrong client_secret"), "{d}");
}

#[tokio::test]
async fn both_basic_and_post_is_invalid_request() {
    let (lab, params) = ready().await;
    let resp = lab
        .http
        .post(format!("{}/token", lab.idp()))
        .header("authorization", format!("Basic {}", STANDARD.encode(format!("{CLIENT}:{SECRET}"))))
        .form(&params)
        .send()
        .await
        .unwrap();
    let d = assert_oauth_error(resp, 400, "invalid_request").await;
    assert!(d.contains("exactly one"), "{d}");
}

#[tokio::test]
async fn unknown_grant_type_is_unsupported() {
    let (lab, params) = ready().await;
    let typo = "urn:ietf:params:oauth:grant-type:token_exchange";
    let d = refused(&lab, &with(&params, "grant_type", Some(typo)), 400, "unsupported_grant_type").await;
    assert!(d.contains(typo), "{d}");
}

#[tokio::test]
async fn missing_grant_type_is_invalid_request() {
    let (lab, params) = ready().await;
    let d = refused(&lab, &with(&params, "grant_type", None), 400, "invalid_request").await;
    assert!(d.contains("grant_type"), "{d}");
}

#[tokio::test]
async fn missing_requested_token_type_is_invalid_request() {
    let (lab, params) = ready().await;
    let d = refused(&lab, &with(&params, "requested_token_type", None), 400, "invalid_request").await;
    assert!(d.contains("requested_token_type"), "{d}");
}

#[tokio::test]
async fn access_token_as_requested_type_is_invalid_request() {
    let (lab, params) = ready().await;
    let p = with(&params, "requested_token_type", Some("urn:ietf:params:oauth:token-type:access_token"));
    let d = refused(&lab, &p, 400, "invalid_request").await;
    assert!(d.contains("not supported"), "{d}");
}

#[tokio::test]
async fn missing_subject_token_is_invalid_request() {
    let (lab, params) = ready().await;
    let d = refused(&lab, &with(&params, "subject_token", None), 400, "invalid_request").await;
    assert!(d.contains("subject_token"), "{d}");
}

#[tokio::test]
async fn an_id_token_typed_as_saml2_is_invalid_grant() {
    let (lab, params) = ready().await;
    let d =
        refused(&lab, &with(&params, "subject_token_type", Some(urn::TOKEN_TYPE_SAML2)), 400, "invalid_grant").await;
    assert_eq!(d, "the subject_token is not a base64url-encoded SAML assertion (RFC 8693 Section 3)");
}

#[tokio::test]
async fn actor_token_is_invalid_request() {
    let (lab, mut params) = ready().await;
    params.push(("actor_token".into(), "x".into()));
    params.push(("actor_token_type".into(), urn::TOKEN_TYPE_ID_TOKEN.into()));
    let d = refused(&lab, &params, 400, "invalid_request").await;
    assert!(d.contains("actor_token"), "{d}");
}

#[tokio::test]
async fn repeated_parameter_is_invalid_request() {
    let (lab, mut params) = ready().await;
    params.push(("scope".into(), "todos.read".into()));
    let d = refused(&lab, &params, 400, "invalid_request").await;
    assert!(d.contains("`scope` is repeated"), "{d}");
}

#[tokio::test]
async fn json_body_is_invalid_request() {
    let lab = TestLab::start().await;
    let resp = lab
        .http
        .post(format!("{}/token", lab.idp()))
        .json(&serde_json::json!({ "grant_type": urn::GRANT_TOKEN_EXCHANGE }))
        .send()
        .await
        .unwrap();
    let d = assert_oauth_error(resp, 400, "invalid_request").await;
    assert!(d.contains("application/x-www-form-urlencoded"), "{d}");
}

#[tokio::test]
async fn oversized_body_is_refused_with_an_oauth_error() {
    let (lab, params) = ready().await;
    let huge = "a".repeat(200 * 1024);
    let resp = lab.idp_token(&with(&params, "subject_token", Some(&huge))).await;
    let d = assert_oauth_error(resp, 413, "invalid_request").await;
    assert!(d.contains("larger than 64 KiB"), "{d}");
}

#[tokio::test]
async fn missing_audience_is_invalid_request() {
    let (lab, params) = ready().await;
    let d = refused(&lab, &with(&params, "audience", None), 400, "invalid_request").await;
    assert!(d.contains("audience"), "{d}");
}

#[tokio::test]
async fn unknown_audience_is_invalid_target() {
    let (lab, params) = ready().await;
    let d = refused(&lab, &with(&params, "audience", Some("https://elsewhere.example")), 400, "invalid_target").await;
    assert!(d.contains("https://elsewhere.example"), "{d}");
}

#[tokio::test]
async fn audience_with_trailing_slash_is_invalid_target() {
    let (lab, params) = ready().await;
    let slash = format!("{}/", lab.authz());
    let d = refused(&lab, &with(&params, "audience", Some(&slash)), 400, "invalid_target").await;
    assert!(d.contains("exact issuer identifier"), "{d}");
}

#[tokio::test]
async fn two_audiences_is_invalid_target() {
    let (lab, mut params) = ready().await;
    params.push(("audience".into(), lab.authz().to_owned()));
    refused(&lab, &params, 400, "invalid_target").await;
}

#[tokio::test]
async fn resource_not_governed_by_the_audience_is_invalid_target() {
    let (lab, params) = ready().await;
    let d = refused(&lab, &with(&params, "resource", Some(lab.idp())), 400, "invalid_target").await;
    assert!(d.contains("not governed"), "{d}");
}

/// `resource` may repeat (RFC 8707 §2), but one resource asked for twice, also when spelt with
/// another scheme case (RFC 3986 §6.2.2.1), is granted once, in its first spelling: in the
/// ID-JAG's `resource` claim and the response's `resource` member alike.
#[tokio::test]
async fn a_repeated_resource_is_granted_once() {
    let (lab, params) = ready().await;
    let api = lab.api();
    let shouted = format!("HTTP{}", api.strip_prefix("http").expect("a plain-HTTP lab"));
    for repeat in [api, shouted.as_str()] {
        let mut twice = params.clone();
        twice.push(("resource".into(), repeat.to_owned()));
        let resp = lab.idp_token(&twice).await;
        assert_eq!(resp.status(), StatusCode::OK, "{repeat}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["resource"], api, "the response names it once, as a string");
        let jag = body["access_token"].as_str().unwrap();
        assert_eq!(decode(jag).1["resource"], api, "the ID-JAG names it once, as a string");
        // The AS issues the access token for that one resource.
        let at: Value = lab.as_token(&lab.bearer_params(jag)).await.json().await.unwrap();
        assert_eq!(at["resource"], api);
        assert_eq!(decode(at["access_token"].as_str().unwrap()).1["aud"], api);
    }
}

#[tokio::test]
async fn revoked_connection_is_invalid_target_at_once() {
    let (lab, params) = ready().await;
    let keep: Vec<Connection> = lab.lab.connections().into_iter().filter(|c| c.client_id != CLIENT).collect();
    lab.lab.set_connections(keep).await.unwrap();
    let d = refused(&lab, &params, 400, "invalid_target").await;
    assert!(d.contains("has not connected client 'my-requestor'"), "{d}");
}

#[tokio::test]
async fn narrowed_connection_makes_write_scope_invalid() {
    let (lab, params) = ready().await;
    let narrowed: Vec<Connection> = lab
        .lab
        .connections()
        .into_iter()
        .map(|mut c| {
            if c.client_id == CLIENT {
                c.scopes = vec!["todos.read".into()];
            }
            c
        })
        .collect();
    lab.lab.set_connections(narrowed).await.unwrap();
    let d = refused(&lab, &params, 400, "invalid_scope").await;
    assert!(d.contains("todos.write"), "{d}");
}

#[tokio::test]
async fn unknown_scope_is_invalid_scope() {
    let (lab, params) = ready().await;
    let d = refused(&lab, &with(&params, "scope", Some("todos.read todos.admin")), 400, "invalid_scope").await;
    assert!(d.contains("todos.admin"), "{d}");
}

#[tokio::test]
async fn id_token_of_another_client_is_invalid_grant() {
    let lab = TestLab::start().await;
    let notes = lab
        .login_as(NOTES_CLIENT, NOTES_SECRET, &format!("{}/auth/callback", lab.lab.urls().notes), "alice@acme.example")
        .await;
    let d = refused(&lab, &lab.exchange_params(&notes.id_token), 400, "invalid_grant").await;
    assert!(d.contains("Audience validation failed"), "{d}");
}

#[tokio::test]
async fn expired_id_token_is_invalid_grant() {
    let (lab, params) = ready().await;
    lab.clock.advance(600 + 61);
    let d = refused(&lab, &params, 400, "invalid_grant").await;
    assert!(d.contains("expired"), "{d}");
}

#[tokio::test]
async fn id_jag_as_subject_token_is_invalid_grant() {
    let (lab, params) = ready().await;
    let jag = lab.id_jag(&params.iter().find(|(k, _)| k == "subject_token").unwrap().1).await;
    let d = refused(&lab, &with(&params, "subject_token", Some(&jag)), 400, "invalid_grant").await;
    assert!(d.contains("an ID-JAG"), "{d}");
}

#[tokio::test]
async fn garbage_subject_token_is_invalid_grant() {
    let (lab, params) = ready().await;
    let d = refused(&lab, &with(&params, "subject_token", Some("not-a-jwt")), 400, "invalid_grant").await;
    assert!(d.contains("not a valid JWT"), "{d}");
}

#[tokio::test]
async fn id_token_signed_by_another_key_is_invalid_grant() {
    let (lab, params) = ready().await;
    let (_, claims) = decode(&params.iter().find(|(k, _)| k == "subject_token").unwrap().1);
    let forged = sign(&untrusted_key("idp-2026-01"), "JWT", claims.as_object().unwrap());
    let d = refused(&lab, &with(&params, "subject_token", Some(&forged)), 400, "invalid_grant").await;
    assert!(d.contains("signature"), "{d}");
}

#[tokio::test]
async fn id_token_of_another_issuer_is_invalid_grant() {
    let (lab, params) = ready().await;
    let (_, claims) = decode(&params.iter().find(|(k, _)| k == "subject_token").unwrap().1);
    let mut claims = claims.as_object().unwrap().clone();
    claims.insert("iss".into(), "https://evil.example".into());
    let forged = sign(&lab_keys().idp, "JWT", &claims);
    let d = refused(&lab, &with(&params, "subject_token", Some(&forged)), 400, "invalid_grant").await;
    assert!(d.contains("not by this IdP"), "{d}");
}

#[tokio::test]
async fn user_not_assigned_to_the_connection_is_invalid_grant() {
    let (lab, params) = ready().await;
    let only_bob: Vec<Connection> = lab
        .lab
        .connections()
        .into_iter()
        .map(|mut c| {
            c.users = vec!["bob@acme.example".into()];
            c
        })
        .collect();
    lab.lab.set_connections(only_bob).await.unwrap();
    let d = refused(&lab, &params, 400, "invalid_grant").await;
    assert!(d.contains("user 'alice@acme.example' is not assigned"), "{d}");
    let bob = lab.login("bob@acme.example").await;
    assert_eq!(lab.idp_token(&lab.exchange_params(&bob.id_token)).await.status(), StatusCode::OK);
}
