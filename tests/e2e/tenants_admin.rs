//! IdP tenants on the admin side: the admin API and pages govern one tenant's connections at a
//! time (the default tenant when none is named; an unknown one refused), registrations and joins
//! connect in a tenant, the audit log records and filters by tenant, and the reset reseeds every
//! tenant's fixture policy.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin::{admin_json, assert_admin_error, audit_ids};
use crate::harness::*;
use crate::tenants::{ACME_ALICE, GLOBEX_ALICE};

const UNKNOWN_TENANT: &str = "no tenant \"customer9\" at the IdP (tenants: customer1, customer2, customer3)";

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
    // Each connection to the REST API has its MCP twin, which adds mcp.access.
    let mut policy = Vec::new();
    for (c, s) in rows {
        let mut mcp = s.as_array().unwrap().clone();
        mcp.push(json!("mcp.access"));
        policy.push((c.to_owned(), s.clone()));
        policy.push((c.to_owned(), Value::Array(mcp)));
    }
    policy
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

    // Revoke it in customer2 (without `resource`: both its REST and MCP connections): customer2's
    // users are refused, customer1's still get ID-JAGs.
    let revoke = format!("/api/admin/connections?client_id={CLIENT}&tenant=customer2");
    assert_eq!(admin_json(&lab, Method::DELETE, &revoke, None).await, (StatusCode::OK, json!({ "revoked": 2 })));
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
    assert_eq!(resp.unwrap().status(), StatusCode::SEE_OTHER, "to the page with the credentials");
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
    let signed_in = browser.get(format!("{console}/admin?token={}", lab.lab.admin_token())).send().await.unwrap();
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
