//! Tenants in headless Chromium: the IdP's code page and the flow explorer name the user's
//! tenant; the admin page's tenant selector shows and governs one tenant's connections; the
//! registration form and the audit page take a tenant.

use fantoccini::{Client, Locator};
use reqwest::Method;
use serde_json::Value;

use crate::browser::Browser;
use crate::harness::*;

/// The text of element `id` once it contains `expected` (a click navigates: the previous page's
/// element may still be found for a moment).
async fn text_when(b: &Client, id: &str, expected: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Ok(e) = b.find(Locator::Id(id)).await
            && let Ok(text) = e.text().await
            && text.contains(expected)
        {
            return text;
        }
        assert!(std::time::Instant::now() < deadline, "#{id} never contained {expected:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The client ids of one tenant's connections, from the admin API.
async fn connected(lab: &TestLab, tenant: &str) -> Vec<String> {
    let resp = lab.admin(Method::GET, &format!("/api/admin/connections?tenant={tenant}")).send().await.unwrap();
    let body: Value = resp.json().await.unwrap();
    let rest = |c: &&Value| !c["resource"].as_str().unwrap().ends_with("/mcp");
    body["connections"]
        .as_array()
        .unwrap()
        .iter()
        .filter(rest)
        .map(|c| c["client_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_login_page_and_the_explorer_name_the_users_tenant_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    // The console home lists the tenants and each named user's.
    b.goto(lab.console()).await.unwrap();
    let tenants = b.find(Locator::Id("tenants")).await.unwrap().text().await.unwrap();
    assert!(
        tenants.starts_with(
            "The IdP has tenants, as xaa.dev does: customer1 (Acme Corp, @acme.example), the default; customer2 (Globex, @globex.example); customer3 (Initech, @initech.example)."
        ),
        "{tenants}"
    );
    assert!(browser.text().await.contains("alice@globex.example (Alice Garcia, customer2 (Globex))"));
    b.goto(&format!("{}/explorer", lab.console())).await.unwrap();
    b.find(Locator::Id("email")).await.unwrap().send_keys("alice@globex.example").await.unwrap();
    b.find(Locator::Id("run-1")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Css("form[action='/login/email']")).await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    // The code page: the email is known, so is the tenant.
    assert_eq!(text_when(b, "tenant", "Globex").await, "Globex (customer2)");
    browser.screenshot("idp-code-page-tenant").await;
    b.find(Locator::Id("code")).await.unwrap().send_keys("123456").await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("status-1")).await.unwrap();
    assert_eq!(b.find(Locator::Id("tenant")).await.unwrap().text().await.unwrap(), "customer2 (Globex)");
    for n in 2..=4 {
        b.find(Locator::Id(&format!("run-{n}"))).await.unwrap().click().await.unwrap();
        assert_eq!(text_when(b, &format!("status-{n}"), "200").await, "200 OK", "step {n}");
    }
    let response = b.find(Locator::Id("response-4")).await.unwrap().text().await.unwrap();
    assert!(response.contains("\"sub\": \"customer2:alice@globex.example\""), "{response}");
    // The decoded tokens explain the tenant claims (steps 2 and 3 are folded once step 4 ran).
    b.execute("document.querySelectorAll('#step-2 details, #step-3 details').forEach(d => d.open = true)", vec![])
        .await
        .unwrap();
    let id_jag = b.find(Locator::Id("claims-2-access_token")).await.unwrap().text().await.unwrap();
    assert!(id_jag.contains("The IdP tenant the user belongs to"), "{id_jag}");
    let access_token = b.find(Locator::Id("claims-3-access_token")).await.unwrap().text().await.unwrap();
    assert!(access_token.contains("sub is {app_org}:{user}"), "{access_token}");
    browser.screenshot("explorer-tenant").await;
    browser.close().await;
}

#[tokio::test]
async fn the_admin_pages_govern_one_tenant_at_a_time_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    let console = lab.console().to_owned();
    b.goto(&format!("{console}/admin?token={}", lab.lab.admin_token())).await.unwrap();
    b.wait().for_element(Locator::Id("connections")).await.unwrap();
    assert!(browser.text().await.contains("Connections of tenant customer1 (Acme Corp)"));

    // Pick customer2: its policy, where my-requestor may only read.
    let select = b.find(Locator::Id("tenant-select")).await.unwrap();
    select.select_by_value("customer2").await.unwrap();
    b.find(Locator::Id("tenant-show")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Css("#tenant-select option[value=customer2][selected]")).await.unwrap();
    assert!(browser.text().await.contains("Connections of tenant customer2 (Globex)"));
    let rest_row = "tr[data-client='my-requestor']:not([data-resource$='/mcp'])";
    let write = format!("{rest_row} input[value='todos.write']");
    assert_eq!(b.find(Locator::Css(&write)).await.unwrap().prop("checked").await.unwrap().as_deref(), Some("false"));
    // The MCP connection's row offers the MCP server's own scopes, mcp.access among them.
    let mcp_access = "tr[data-client='my-requestor'][data-resource$='/mcp'] input[value='mcp.access']";
    assert_eq!(b.find(Locator::Css(mcp_access)).await.unwrap().prop("checked").await.unwrap().as_deref(), Some("true"));
    browser.screenshot("admin-tenant-customer2").await;

    // Revoke it there: the page stays on customer2; customer1's connection is untouched.
    b.find(Locator::Css(&format!("{rest_row} button[name=revoke]"))).await.unwrap().click().await.unwrap();
    text_when(b, "message", "invalid_target").await;
    assert!(b.current_url().await.unwrap().query().unwrap_or_default().contains("tenant=customer2"));
    assert!(b.find_all(Locator::Css(rest_row)).await.unwrap().is_empty());
    assert_eq!(connected(&lab, "customer2").await, ["lab-notes", "lab-explorer"]);
    assert_eq!(connected(&lab, "customer1").await, ["lab-notes", "my-requestor", "lab-explorer"]);

    // Register an app in customer3 with the registration form's tenant select.
    b.goto(&format!("{console}/admin/register")).await.unwrap();
    b.wait().for_element(Locator::Id("register")).await.unwrap();
    b.find(Locator::Id("name")).await.unwrap().send_keys("Initech Tool").await.unwrap();
    b.find(Locator::Id("tenant")).await.unwrap().select_by_value("customer3").await.unwrap();
    b.find(Locator::Id("submit")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("registered")).await.unwrap();
    let client_id = b.find(Locator::Id("client-id")).await.unwrap().text().await.unwrap();
    assert_eq!(b.find(Locator::Id("connection-tenant")).await.unwrap().text().await.unwrap(), "customer3");
    assert!(connected(&lab, "customer3").await.contains(&client_id));
    assert!(!connected(&lab, "customer1").await.contains(&client_id));

    // The audit page filters by tenant.
    let globex = lab.login("alice@globex.example").await;
    assert_eq!(lab.idp_token(&lab.exchange_params(&globex.id_token)).await.status(), 400);
    let acme = lab.login("alice@acme.example").await;
    assert_eq!(lab.idp_token(&lab.exchange_params(&acme.id_token)).await.status(), 200);
    b.goto(&format!("{console}/admin/audit")).await.unwrap();
    b.find(Locator::Css("select[name=tenant]")).await.unwrap().select_by_value("customer2").await.unwrap();
    b.find(Locator::Css("form.card button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Css("select[name=tenant] option[value=customer2][selected]")).await.unwrap();
    let tenants = b.find_all(Locator::Css("#audit td.tenant")).await.unwrap();
    let mut seen = Vec::new();
    for t in tenants {
        seen.push(t.text().await.unwrap());
    }
    assert_eq!(seen, ["customer2"]);
    let audit = b.find(Locator::Id("audit")).await.unwrap().text().await.unwrap();
    assert!(audit.contains("alice@globex.example") && !audit.contains("alice@acme.example"), "{audit}");
    browser.screenshot("admin-audit-tenant").await;
    browser.close().await;
}
