//! "Test your resource app" in Chromium: the wizard filled in and sent as a person does, then the
//! explorer's four steps against the developer's resource, the endpoint picker and a failure hint.

use fantoccini::{Client, Locator};

use crate::browser::Browser;
use crate::byor_server::{MiddlewareConfig, ResourceServer};
use crate::harness::*;

async fn fill(b: &Client, id: &str, text: &str) {
    let field = b.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn run(b: &Client, n: usize) -> String {
    crate::browser::explorer_step(b, n).await
}

#[tokio::test]
async fn the_wizard_and_the_explorer_against_your_resource_in_chromium() {
    let lab = TestLab::start().await;
    let authz = lab.authz().to_owned();
    let rs = ResourceServer::start(lab.clock.clone(), |url| MiddlewareConfig {
        issuer: authz,
        audience: url.to_owned(),
        demand_typ_jwt: false,
    })
    .await;
    let browser = Browser::start().await;
    let b = &browser.client;
    b.goto(lab.console()).await.unwrap();
    b.find(Locator::Css("nav a[href='/resources']")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("wizard")).await.unwrap();
    assert_eq!(b.title().await.unwrap(), "Test your resource app · XAA Lab");
    // The join code comes first; the fields of your own AS and of MCP show only when chosen.
    let first = b.execute("return document.querySelector('#wizard input:not([type=hidden])').id", vec![]).await;
    assert_eq!(first.unwrap(), "join_code");
    let shown = |id: &'static str| async move { b.find(Locator::Id(id)).await.unwrap().is_displayed().await.unwrap() };
    assert!(!shown("issuer").await && !shown("target_client_id").await && !shown("mcp_url").await);
    b.find(Locator::Id("as-own")).await.unwrap().click().await.unwrap();
    b.find(Locator::Id("mcp")).await.unwrap().click().await.unwrap();
    assert!(shown("issuer").await && shown("target_client_id").await && shown("mcp_url").await);
    b.find(Locator::Id("as-lab")).await.unwrap().click().await.unwrap();
    b.find(Locator::Id("mcp")).await.unwrap().click().await.unwrap();
    assert!(!shown("issuer").await && !shown("mcp_url").await);
    fill(b, "name", "Browser API").await;
    fill(b, "base_url", &rs.url).await;
    fill(b, "scopes", "items.read").await;
    fill(b, "endpoints", "GET /api/items\nPOST /api/items").await;
    fill(b, "join_code", lab.lab.join_code()).await;
    browser.screenshot("console-resource-app-wizard").await;
    b.find(Locator::Id("register")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("registered")).await.unwrap();
    let health = b.find(Locator::Id("health")).await.unwrap().text().await.unwrap();
    assert_eq!(health, format!("GET {}/health: 200 OK", rs.url));
    let client_id = b.find(Locator::Id("client-id")).await.unwrap().text().await.unwrap();
    assert!(client_id.ends_with("-tester"), "{client_id}");
    let client_secret = b.find(Locator::Id("client-secret")).await.unwrap().text().await.unwrap();
    browser.screenshot("console-resource-app-registered").await;

    b.find(Locator::Id("run-steps")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("email")).await.unwrap();
    assert_eq!(b.title().await.unwrap(), "Flow explorer: Browser API · XAA Lab");
    b.find(Locator::Id("email")).await.unwrap().send_keys("frank@acme.example").await.unwrap();
    b.find(Locator::Id("run-1")).await.unwrap().click().await.unwrap();
    // The IdP's real login pages, the email pre-filled, for the app's test client.
    b.wait().for_element(Locator::Id("email")).await.unwrap();
    assert!(browser.text().await.contains("to continue to Browser API tester"));
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("code")).await.unwrap();
    b.find(Locator::Id("code")).await.unwrap().send_keys("112233").await.unwrap();
    b.find(Locator::Css("button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("status-1")).await.unwrap();
    assert_eq!(b.find(Locator::Id("status-1")).await.unwrap().text().await.unwrap(), "200 OK");
    for n in 2..=4 {
        assert_eq!(run(b, n).await, "200 OK", "step {n}");
    }
    let response = b.find(Locator::Id("response-4")).await.unwrap().text().await.unwrap();
    assert!(response.contains("\"first\""), "{response}");

    // The endpoint picker: POST needs a scope the app was not registered with.
    b.find(Locator::Css("#endpoint option:nth-child(2)")).await.unwrap().click().await.unwrap();
    assert_eq!(run(b, 4).await, "403 insufficient_scope");
    let hints = b.find(Locator::Id("hints")).await.unwrap().text().await.unwrap();
    assert!(hints.starts_with("scope: Missing scope: the endpoint asks for \"items.write\""), "{hints}");
    assert_eq!(b.find(Locator::Id("status-1")).await.unwrap().text().await.unwrap(), "200 OK", "no new sign-in");
    b.execute("document.getElementById('hints').scrollIntoView({ block: 'center' })", vec![]).await.unwrap();
    browser.screenshot("console-resource-app-hints").await;

    // The app's page from the list (this browser saw the secrets for ten minutes), and its deletion.
    lab.clock.advance(10 * 60);
    b.goto(&format!("{}/resources", lab.console())).await.unwrap();
    b.find(Locator::LinkText("Browser API")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("delete")).await.unwrap();
    let credentials = b.find(Locator::Id("credentials")).await.unwrap().text().await.unwrap();
    assert!(credentials.contains("(shown once, at registration)") && !credentials.contains(&client_secret));
    fill(b, "join_code", lab.lab.join_code()).await;
    b.find(Locator::Id("delete")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("wizard")).await.unwrap();
    assert!(b.find_all(Locator::Id("apps")).await.unwrap().is_empty(), "no app listed");
    assert!(lab.lab.idp_client(&client_id).is_none());
    browser.close().await;
}
