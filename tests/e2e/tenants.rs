//! IdP tenants (`customer1`, `customer2`, `customer3`, from `fixtures/tenants.json`): the tenant
//! claims of the three tokens (and of UserInfo), a user's tenant, each tenant's own connection
//! policy, todo isolation between tenants and the AS's account mapping. The admin side is in
//! `tenants_admin`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::*;

pub const ACME_ALICE: &str = "alice@acme.example";
pub const GLOBEX_ALICE: &str = "alice@globex.example";
const INITECH_ERIN: &str = "erin@initech.example";
const RW: &str = "todos.read todos.write";
const SPEC: &str =
    "(lab decision A14, draft-ietf-oauth-identity-assertion-authz-grant-04 Section 4.3.3, RFC 6749 Section 5.2)";

/// Lab Notes' ID token, ID-JAG and access token for `email` (Lab Notes is connected in every tenant).
async fn notes_chain(lab: &TestLab, email: &str) -> (String, String, String) {
    let signed_in = lab.0.sign_in(NOTES_CLIENT, email).await.unwrap();
    let id_jag = lab.0.exchange(NOTES_CLIENT, &signed_in.id_token, RW).await.unwrap();
    let access_token = lab.0.jwt_bearer(NOTES_CLIENT, &id_jag).await.unwrap();
    (signed_in.id_token, id_jag, access_token)
}

#[tokio::test]
async fn the_id_token_the_id_jag_and_the_access_token_name_the_tenant() {
    let lab = TestLab::start().await;
    let users = [
        (ACME_ALICE, "Alice Adams", "customer1"),
        (GLOBEX_ALICE, "Alice Garcia", "customer2"),
        (INITECH_ERIN, "Erin Evans", "customer3"),
    ];
    for (email, name, tenant) in users {
        let (id_token, id_jag, access_token) = notes_chain(&lab, email).await;
        let (_, c) = decode(&id_token);
        let expected_id_token = json!({
            "iss": lab.idp(), "sub": email, "aud": NOTES_CLIENT, "exp": c["exp"], "iat": c["iat"],
            "auth_time": c["auth_time"], "email": email, "email_verified": true, "name": name, "tenant": tenant,
        });
        assert_eq!(c, expected_id_token);
        assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 600);

        let (_, j) = decode(&id_jag);
        let expected_id_jag = json!({
            "iss": lab.idp(), "sub": email, "aud": lab.authz(), "client_id": NOTES_RESOURCE_CLIENT,
            "jti": j["jti"], "exp": j["exp"], "iat": j["iat"], "resource": lab.api(), "scope": RW,
            "auth_time": c["auth_time"], "email": email, "tenant": tenant,
        });
        assert_eq!(j, expected_id_jag);

        let (_, a) = decode(&access_token);
        let expected_access_token = json!({
            "iss": lab.authz(), "sub": format!("{tenant}:{email}"), "aud": lab.api(),
            "client_id": NOTES_RESOURCE_CLIENT, "scope": RW, "jti": a["jti"], "iat": a["iat"], "exp": a["exp"],
            "auth_time": c["auth_time"], "email": email, "app_org": tenant,
        });
        assert_eq!(a, expected_access_token);

        // Introspection shows the same account.
        let form = [("token", access_token.as_str())];
        let resp = reqwest::Client::new()
            .post(format!("{}/token/introspection", lab.authz()))
            .basic_auth(NOTES_RESOURCE_CLIENT, Some("lab-notes-at-todo0-secret-not-for-production"))
            .form(&form)
            .send()
            .await
            .unwrap();
        let active: Value = resp.json().await.unwrap();
        assert_eq!((&active["sub"], &active["app_org"]), (&a["sub"], &json!(tenant)), "{active}");
    }
}

#[tokio::test]
async fn a_refresh_token_subject_carries_the_users_tenant() {
    let lab = TestLab::start().await;
    assert!(lab.idp_discovery().await["claims_supported"].as_array().unwrap().contains(&json!("tenant")));
    let url = lab
        .authorize_url(CLIENT, REDIRECT, &[])
        .replace("scope=openid+profile+email", "scope=openid+profile+email+offline_access");
    let code = query_param(&lab.login_redirect(&lab.browser(), &url, GLOBEX_ALICE).await, "code").unwrap();
    let tokens: Value = lab.idp_token(&code_grant(&code, REDIRECT, CLIENT, SECRET)).await.json().await.unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();

    // The refresh grant's new ID token names the tenant.
    let refresh = refresh_grant(&refresh_token, CLIENT, SECRET);
    let refreshed: Value = lab.idp_token(&refresh).await.json().await.unwrap();
    assert_eq!(decode(refreshed["id_token"].as_str().unwrap()).1["tenant"], "customer2");

    // A refresh token as the subject: customer2's policy applies, and the ID-JAG names customer2.
    let rotated = refreshed["refresh_token"].as_str().unwrap();
    let exchange = with(
        &with(&lab.exchange_params(rotated), "subject_token_type", Some(xaa_core::urn::TOKEN_TYPE_REFRESH_TOKEN)),
        "scope",
        Some("todos.read"),
    );
    let body: Value = lab.idp_token(&exchange).await.json().await.unwrap();
    let (_, id_jag) = decode(body["access_token"].as_str().expect("an ID-JAG"));
    assert_eq!((&id_jag["sub"], &id_jag["tenant"]), (&json!(GLOBEX_ALICE), &json!("customer2")));
    let wider = with(&exchange, "scope", Some(RW));
    let d = assert_oauth_error(lab.idp_token(&wider).await, 400, "invalid_scope").await;
    assert!(d.contains("in tenant 'customer2'"), "{d}");
}

#[tokio::test]
async fn userinfo_names_the_tenant() {
    let lab = TestLab::start().await;
    let token = lab.login(GLOBEX_ALICE).await.access_token;
    let resp = lab.http.get(format!("{}/userinfo", lab.idp())).bearer_auth(token).send().await.unwrap();
    let body: Value = resp.json().await.unwrap();
    let expected = json!({
        "sub": GLOBEX_ALICE, "email": GLOBEX_ALICE, "email_verified": true, "name": "Alice Garcia", "tenant": "customer2",
    });
    assert_eq!(body, expected);
}

#[tokio::test]
async fn an_unknown_email_belongs_to_the_tenant_of_its_domain_else_the_default() {
    let lab = TestLab::start().await;
    for (email, tenant) in
        [("zed@globex.example", "customer2"), ("zed@initech.example", "customer3"), ("zed@else.example", "customer1")]
    {
        let (_, claims) = decode(&lab.0.sign_in(NOTES_CLIENT, email).await.unwrap().id_token);
        assert_eq!(claims["tenant"], tenant, "{email}");
    }
}

#[tokio::test]
async fn each_tenants_policy_decides_its_users_exchanges() {
    let lab = TestLab::start().await;
    // customer1: my-requestor reads and writes, as before tenants.
    let acme = lab.login(ACME_ALICE).await;
    assert_eq!(lab.idp_token(&lab.exchange_params(&acme.id_token)).await.status(), StatusCode::OK);

    // customer2 grants my-requestor todos.read only.
    let globex = lab.login(GLOBEX_ALICE).await;
    let d = assert_oauth_error(lab.idp_token(&lab.exchange_params(&globex.id_token)).await, 400, "invalid_scope").await;
    assert_eq!(
        d,
        format!(
            "scope 'todos.write' is not allowed for client 'my-requestor' at '{}' in tenant 'customer2' (allowed: 'todos.read') {SPEC}",
            lab.authz()
        )
    );
    let read = with(&lab.exchange_params(&globex.id_token), "scope", None);
    let body: Value = lab.idp_token(&read).await.json().await.unwrap();
    assert_eq!(body["scope"], "todos.read");
    assert_eq!(decode(body["access_token"].as_str().unwrap()).1["tenant"], "customer2");

    // customer3 has no connection for my-requestor.
    let initech = lab.login(INITECH_ERIN).await;
    let d =
        assert_oauth_error(lab.idp_token(&lab.exchange_params(&initech.id_token)).await, 400, "invalid_target").await;
    assert_eq!(
        d,
        format!(
            "the administrator has not connected client 'my-requestor' to resource '{}' at '{}' in tenant 'customer3' (RFC 8693 Section 2.2.2, draft-ietf-oauth-identity-assertion-authz-grant-04 Section 4.3.3)",
            lab.api(),
            lab.authz()
        )
    );
}

#[tokio::test]
async fn tenants_never_see_each_others_todos() {
    let lab = TestLab::start().await;
    let (_, _, acme) = notes_chain(&lab, ACME_ALICE).await;
    let (_, _, globex) = notes_chain(&lab, GLOBEX_ALICE).await;
    let created: Value = lab.create_todo(&acme, "Acme's secret plan").await.json().await.unwrap();
    let id = created["data"]["id"].as_i64().unwrap();

    let globex_list = lab.todo_json("/api/todos", &globex).await;
    assert_eq!(globex_list["user"], json!({ "sub": "customer2:alice@globex.example", "email": GLOBEX_ALICE }));
    assert_eq!(globex_list["count"], 4, "the seed todos only: {globex_list}");
    assert!(globex_list["data"].as_array().unwrap().iter().all(|t| t["title"] != "Acme's secret plan"));
    let other = lab.todo(Method::GET, &format!("/api/todos/{id}"), &globex).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let acme_list = lab.todo_json("/api/todos", &acme).await;
    assert_eq!(acme_list["count"], 5);
    assert_eq!(acme_list["user"]["sub"], "customer1:alice@acme.example");
}

/// An ID-JAG for the bring-your-own client with `tenant` set (or left out).
fn id_jag_with_tenant(lab: &TestLab, tenant: Option<&str>) -> String {
    let mut claims = lab.id_jag_claims();
    if let Some(t) = tenant {
        claims.insert("tenant".into(), json!(t));
    }
    sign(&lab_keys().idp, "oauth-id-jag+jwt", &claims)
}

#[tokio::test]
async fn the_as_maps_the_tenant_and_takes_an_id_jag_without_one_as_the_default_tenants() {
    let lab = TestLab::start().await;
    for (tenant, account, org) in [
        (None, "customer1:alice@acme.example", "customer1"),
        (Some("customer3"), "customer3:alice@acme.example", "customer3"),
    ] {
        let access_token = lab.access_token(&id_jag_with_tenant(&lab, tenant)).await;
        let (_, claims) = decode(&access_token);
        assert_eq!((&claims["sub"], &claims["app_org"]), (&json!(account), &json!(org)), "{tenant:?}");
    }
    for bad in ["", "customer1:x"] {
        let resp = lab.as_token(&lab.bearer_params(&id_jag_with_tenant(&lab, Some(bad)))).await;
        let d = assert_oauth_error(resp, 400, "invalid_grant").await;
        assert_eq!(
            d,
            format!(
                "tenant '{bad}' must be a non-empty tenant id without ':' (draft-ietf-oauth-identity-assertion-authz-grant-04 Section 3.1, Section 6.3)"
            )
        );
    }
}
