//! IdP tenants (`customer1`, `customer2`, `customer3`, from `fixtures/tenants.json`): the tenant
//! claims of the three tokens, each tenant's own connection policy, todo isolation between
//! tenants, the admin API per tenant, the audit log's tenant, and the reset of every tenant.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin::{admin_json, assert_admin_error, audit_ids};
use crate::harness::*;

const ACME_ALICE: &str = "alice@acme.example";
const GLOBEX_ALICE: &str = "alice@globex.example";
const INITECH_ERIN: &str = "erin@initech.example";
const RW: &str = "todos.read todos.write";
const UNKNOWN_TENANT: &str = "no tenant \"customer9\" at the IdP (tenants: customer1, customer2, customer3)";
const SPEC: &str = "(RFC 6749 Section 5.2, draft-ietf-oauth-identity-assertion-authz-grant-04 Section 4.3.3)";

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
    let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    let code_grant = form(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", REDIRECT),
        ("code_verifier", VERIFIER),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
    ]);
    let tokens: Value = lab.idp_token(&code_grant).await.json().await.unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();

    // The refresh grant's new ID token names the tenant.
    let refresh = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &refresh_token),
        ("client_id", CLIENT),
        ("client_secret", SECRET),
    ]);
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

/// `GET /api/admin/connections?tenant=…`: (client, scopes) of each connection, all in that tenant.
async fn policy_of(lab: &TestLab, tenant: &str) -> Vec<(String, Value)> {
    let (status, body) = admin_json(lab, Method::GET, &format!("/api/admin/connections?tenant={tenant}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["tenant"], tenant);
    let list = body["connections"].as_array().unwrap();
    assert!(list.iter().all(|c| c["tenant"] == tenant), "{body}");
    list.iter().map(|c| (c["client_id"].as_str().unwrap().to_owned(), c["scopes"].clone())).collect()
}

fn fixture_policy(tenant: &str) -> Vec<(String, Value)> {
    let (rw, r) = (json!(["todos.read", "todos.write"]), json!(["todos.read"]));
    let rows: Vec<(&str, &Value)> = match tenant {
        "customer1" => vec![("lab-notes", &rw), ("my-requestor", &rw), ("lab-explorer", &rw)],
        "customer2" => vec![("lab-notes", &rw), ("lab-explorer", &rw), ("my-requestor", &r)],
        _ => vec![("lab-notes", &rw), ("lab-explorer", &rw)],
    };
    rows.into_iter().map(|(c, s)| (c.to_owned(), s.clone())).collect()
}

#[tokio::test]
async fn the_admin_api_governs_one_tenant_at_a_time() {
    let lab = TestLab::start().await;
    for t in ["customer1", "customer2", "customer3"] {
        assert_eq!(policy_of(&lab, t).await, fixture_policy(t), "{t}");
    }
    // Without `tenant`: the default tenant, as before tenants.
    let (_, default) = admin_json(&lab, Method::GET, "/api/admin/connections", None).await;
    assert_eq!(default["tenant"], "customer1");

    // Widen my-requestor in customer2: its users may write; customer1 is untouched.
    let widen = json!({ "tenant": "customer2", "client_id": CLIENT, "scopes": ["todos.read", "todos.write"] });
    let (status, granted) = admin_json(&lab, Method::PUT, "/api/admin/connections", Some(widen)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((&granted["tenant"], &granted["scopes"]), (&json!("customer2"), &json!(["todos.read", "todos.write"])));
    let globex = lab.login(GLOBEX_ALICE).await;
    assert_eq!(lab.idp_token(&lab.exchange_params(&globex.id_token)).await.status(), StatusCode::OK);
    assert_eq!(policy_of(&lab, "customer1").await, fixture_policy("customer1"));

    // Revoke it in customer2: customer2's users are refused, customer1's still get ID-JAGs.
    let revoke = format!("/api/admin/connections?client_id={CLIENT}&tenant=customer2");
    assert_eq!(admin_json(&lab, Method::DELETE, &revoke, None).await, (StatusCode::OK, json!({ "revoked": 1 })));
    let d =
        assert_oauth_error(lab.idp_token(&lab.exchange_params(&globex.id_token)).await, 400, "invalid_target").await;
    assert!(d.contains("in tenant 'customer2'"), "{d}");
    let acme = lab.login(ACME_ALICE).await;
    assert_eq!(lab.idp_token(&lab.exchange_params(&acme.id_token)).await.status(), StatusCode::OK);
    assert_eq!(policy_of(&lab, "customer1").await, fixture_policy("customer1"));
    let again = lab.admin(Method::DELETE, &revoke).send().await.unwrap();
    assert_admin_error(again, 404, "not_found", "client \"my-requestor\" has no such connection").await;

    // An unknown tenant is refused by every call that takes one.
    let unknown = [
        lab.admin(Method::GET, "/api/admin/connections?tenant=customer9"),
        lab.admin(Method::PUT, "/api/admin/connections")
            .json(&json!({ "tenant": "customer9", "client_id": CLIENT, "scopes": ["todos.read"] })),
        lab.admin(Method::DELETE, &format!("/api/admin/connections?client_id={CLIENT}&tenant=customer9")),
        lab.admin(Method::GET, "/api/admin/audit?tenant=customer9"),
        lab.admin(Method::POST, "/api/admin/clients")
            .json(&json!({ "name": "Lost", "redirect_uris": [REDIRECT], "tenant": "customer9" })),
    ];
    for req in unknown {
        assert_admin_error(req.send().await.unwrap(), 400, "invalid_request", UNKNOWN_TENANT).await;
    }
    assert_eq!(policy_of(&lab, "customer1").await, fixture_policy("customer1"), "nothing changed");
}

#[tokio::test]
async fn a_registration_connects_in_the_default_tenant_unless_one_is_chosen() {
    let lab = TestLab::start().await;
    for (name, tenant) in [("Default App", None), ("Initech App", Some("customer3"))] {
        let mut body = json!({ "name": name, "redirect_uris": [REDIRECT] });
        if let Some(t) = tenant {
            body["tenant"] = json!(t);
        }
        let (status, reg) = admin_json(&lab, Method::POST, "/api/admin/clients", Some(body)).await;
        assert_eq!(status, StatusCode::CREATED, "{reg}");
        let id = reg["client_id"].as_str().unwrap().to_owned();
        let chosen = tenant.unwrap_or("customer1");
        assert_eq!(reg["tenant"], chosen, "{reg}");
        for t in ["customer1", "customer2", "customer3"] {
            let has = policy_of(&lab, t).await.iter().any(|(c, _)| *c == id);
            assert_eq!(has, t == chosen, "{name} in {t}");
        }
    }
}

#[tokio::test]
async fn the_audit_log_records_the_tenant_and_filters_by_it() {
    let lab = TestLab::start().await;
    let acme = lab.login(ACME_ALICE).await;
    assert_eq!(lab.idp_token(&lab.exchange_params(&acme.id_token)).await.status(), StatusCode::OK);
    let globex = lab.login(GLOBEX_ALICE).await;
    assert_oauth_error(lab.idp_token(&lab.exchange_params(&globex.id_token)).await, 400, "invalid_scope").await;

    let (_, all) = admin_json(&lab, Method::GET, "/api/admin/audit", None).await;
    let entries = all["entries"].as_array().unwrap();
    let tenants: Vec<(&str, &str)> =
        entries.iter().map(|e| (e["user"].as_str().unwrap(), e["tenant"].as_str().unwrap())).collect();
    assert_eq!(tenants, [(GLOBEX_ALICE, "customer2"), (ACME_ALICE, "customer1")]);
    assert_eq!(audit_ids(&lab, "tenant=customer2").await, [entries[0]["id"].clone()]);
    assert_eq!(audit_ids(&lab, "tenant=customer1&outcome=issued").await, [entries[1]["id"].clone()]);
    assert_eq!(audit_ids(&lab, "tenant=customer3").await, Vec::<Value>::new());
    assert_eq!(audit_ids(&lab, "tenant=").await.len(), 2, "an empty filter is no filter");

    let csv = lab.admin(Method::GET, "/api/admin/audit?format=csv&tenant=customer2").send().await.unwrap();
    let csv = csv.text().await.unwrap();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines.len(), 3, "{csv:?}");
    assert!(lines[0].ends_with(",jti,tenant"));
    assert!(lines[1].contains(GLOBEX_ALICE) && lines[1].ends_with(",,customer2"), "{}", lines[1]);
}

#[tokio::test]
async fn the_reset_reseeds_every_tenants_fixture_policy() {
    let lab = TestLab::start().await;
    let revoke = "/api/admin/connections?client_id=lab-notes&tenant=customer3";
    assert_eq!(admin_json(&lab, Method::DELETE, revoke, None).await.0, StatusCode::OK);
    let narrow = json!({ "tenant": "customer2", "client_id": "lab-explorer", "scopes": ["todos.read"] });
    assert_eq!(admin_json(&lab, Method::PUT, "/api/admin/connections", Some(narrow)).await.0, StatusCode::OK);
    assert_ne!(policy_of(&lab, "customer3").await, fixture_policy("customer3"));
    let reset = json!({ "keep_registrations": false });
    assert_eq!(admin_json(&lab, Method::POST, "/api/admin/reset", Some(reset)).await.0, StatusCode::OK);
    for t in ["customer1", "customer2", "customer3"] {
        assert_eq!(policy_of(&lab, t).await, fixture_policy(t), "{t}");
    }
}

/// The client id of the registered requestor named `name`.
async fn client_named(lab: &TestLab, name: &str) -> String {
    let (_, list) = admin_json(lab, Method::GET, "/api/admin/clients", None).await;
    let found = list["clients"].as_array().unwrap().iter().find(|c| c["name"] == name);
    found.and_then(|c| c["client_id"].as_str()).unwrap_or_else(|| panic!("no client {name}: {list}")).to_owned()
}

#[tokio::test]
async fn a_participant_who_joins_is_connected_in_the_default_tenant() {
    let lab = TestLab::start_configured(|c| c.join_code = Some("room-7".into())).await;
    let browser = lab.browser();
    let form = browser.get(format!("{}/join", lab.console())).send().await.unwrap().text().await.unwrap();
    let csrf = hidden(&form, "csrf");
    let fields = [("csrf", csrf.as_str()), ("join_code", "room-7"), ("name", "Joiner"), ("redirect_uris", REDIRECT)];
    let resp =
        browser.post(format!("{}/join", lab.console())).header("origin", lab.console()).form(&fields).send().await;
    assert_eq!(resp.unwrap().status(), StatusCode::OK);
    let id = client_named(&lab, "Joiner").await;
    for t in ["customer1", "customer2", "customer3"] {
        assert_eq!(policy_of(&lab, t).await.iter().any(|(c, _)| *c == id), t == "customer1", "{t}");
    }
}

#[tokio::test]
async fn the_admin_page_shows_the_default_tenant_for_an_unknown_one_and_says_so() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let console = lab.console().to_owned();
    let signed_in = browser.get(format!("{console}/admin?token={}", lab.lab.admin_token)).send().await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let page = browser.get(format!("{console}/admin?tenant=customer9")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Connections of tenant customer1 (Acme Corp)"), "{html}");
    let message = UNKNOWN_TENANT.replace('"', "&#34;");
    assert!(html.contains(&format!("id=\"message\" role=\"status\">{message}</p>")), "{html}");

    // A change posted for an unknown tenant changes nothing and says why.
    let form = [("csrf", hidden(&html, "csrf")), ("tenant", "customer9".into()), ("client_id", CLIENT.into())];
    let resp = browser
        .post(format!("{console}/admin/connections/revoke"))
        .header("origin", console.as_str())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let to = location(&resp);
    assert!(to.starts_with("/admin?tenant=customer9&ok=0&msg="), "{to}");
    assert_eq!(query_param(&to, "msg").as_deref(), Some(UNKNOWN_TENANT));
    assert_eq!(policy_of(&lab, "customer1").await, fixture_policy("customer1"));
}
