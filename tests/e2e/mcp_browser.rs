//! The todo API over MCP in headless Chromium: Lab Notes' "View via MCP" page (both exchanges for
//! the MCP resource, then JSON-RPC to `{todo_api}/mcp`), its refusal when IT connected the app to
//! the REST API only, the flow explorer's MCP target and step-4 MCP calls, and the live trace
//! showing the JSON-RPC calls.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};

use crate::browser::{Browser, assert_code_repeats_request, explorer_sign_in, explorer_step, request_and_curl};
use crate::harness::*;
use crate::notes_browser::sign_in;

async fn text_of(b: &Client, css: &str) -> String {
    b.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}")).text().await.unwrap()
}

async fn open_via_mcp(b: &Client) {
    b.find(Locator::Id("via-mcp")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Css("#mcp-todos, #mcp-problem")).await.unwrap();
}

#[tokio::test]
async fn lab_notes_lists_todos_through_the_mcp_server_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    let email = "judy@acme.example";
    sign_in(&lab, &browser, email, false).await;
    // A todo written over REST by the same user shows up through MCP: one store, one user key.
    let rest = lab.full_chain(email).await;
    assert_eq!(lab.create_todo(&rest, "Written over REST").await.status().as_u16(), 201);
    let titles: Vec<String> = lab.todo_json("/api/todos", &rest).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect();

    open_via_mcp(b).await;
    assert_eq!(b.title().await.unwrap(), "Todos via MCP · Lab Notes");
    let listed = text_of(b, "#mcp-todos").await;
    let shown: Vec<&str> = listed.lines().map(|l| l.trim_end_matches(" (done)")).collect();
    assert_eq!(shown, titles.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(text_of(b, "#mcp-scope").await, "mcp.access todos.read todos.write");
    assert_eq!(text_of(b, "#mcp-server").await, format!("{}/mcp", lab.api()));
    assert!(text_of(b, "#mcp-session").await.contains("todo0-mcp"));
    browser.screenshot("notes-todos-via-mcp").await;

    // The live trace shows the JSON-RPC calls: method and params, and the MCP server's answer.
    b.goto(&format!("{}/trace", lab.lab.urls().console)).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let open = "document.querySelectorAll('details.event').forEach(function (d) { if (d.textContent.includes('resources/read')) d.open = true; })";
        b.execute(open, vec![]).await.unwrap();
        let text = browser.text().await;
        if text.contains("MCP resources/read · lab-notes-at-todo0 → Todo API")
            && text.contains("MCP initialize ·")
            && text.contains("todo0://todos")
            && text.contains("✓ scope")
        {
            break;
        }
        assert!(Instant::now() < deadline, "the MCP calls never showed in the trace: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let show = "Array.from(document.querySelectorAll('details.event[open]')).pop().scrollIntoView({ block: 'start' })";
    b.execute(show, vec![]).await.unwrap();
    browser.screenshot("console-trace-mcp").await;
    browser.close().await;
}

#[tokio::test]
async fn lab_notes_explains_a_missing_mcp_connection_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    sign_in(&lab, &browser, "ken@acme.example", false).await;
    // IT connected Lab Notes to the REST API only.
    let mcp = format!("{}/mcp", lab.api());
    let keep =
        lab.lab.connections().into_iter().filter(|c| !(c.client_id == NOTES_CLIENT && c.resource == mcp)).collect();
    lab.lab.set_connections(keep).await.unwrap();
    open_via_mcp(b).await;
    assert_eq!(text_of(b, "#problem-error").await, "invalid_target");
    assert_eq!(text_of(b, "#problem-step").await, "Token exchange at the IdP");
    let said = text_of(b, "#problem-description").await;
    assert!(said.contains(&format!("has not connected client 'lab-notes' to resource '{mcp}'")), "{said}");
    browser.screenshot("notes-mcp-not-connected").await;
    // The REST todos still show.
    b.find(Locator::LinkText("← Back to your notes")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("todos")).await.unwrap();
    browser.close().await;
}

#[tokio::test]
async fn the_flow_explorer_calls_the_mcp_server_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    let mcp = format!("{}/mcp", lab.api());
    explorer_sign_in(&lab, &browser, "heidi@acme.example").await;
    b.find(Locator::Id("target")).await.unwrap().select_by_value("mcp").await.unwrap();
    assert_eq!(explorer_step(b, 2).await, "200 OK");
    let request = text_of(b, "#request-2").await;
    assert!(
        request.contains(&format!("resource={mcp}")) && request.contains("scope=todos.read todos.write mcp.access")
    );
    // The code repeats the request that ran: the MCP resource and its scope, not the REST API's.
    let (request, curl) = request_and_curl(b, 2).await;
    assert_code_repeats_request(&request, &curl);
    assert_eq!(explorer_step(b, 3).await, "200 OK");
    let (request, curl) = request_and_curl(b, 3).await;
    assert_code_repeats_request(&request, &curl);
    let own = text_of(b, "#client-checks-3").await;
    assert!(own.starts_with("✓ resource") && own.contains(&mcp), "{own}");
    // Step 4 offers the MCP calls, the first one selected.
    let selected = b.find(Locator::Css("#endpoint option:checked")).await.unwrap().text().await.unwrap();
    assert_eq!(selected, "MCP: list resources");
    // The REST endpoints are still offered, but said to refuse this token (its aud is the MCP server).
    let refused = b.find(Locator::Css("#endpoint optgroup[label^='Refused']")).await.unwrap();
    assert!(refused.html(true).await.unwrap().contains("GET /api/todos"));
    assert!(text_of(b, "#refused-note").await.contains("the REST endpoints will refuse it"));
    b.find(Locator::Id("endpoint")).await.unwrap().select_by_label("MCP: call list_todos").await.unwrap();
    assert_eq!(explorer_step(b, 4).await, "200 OK");
    let request = text_of(b, "#request-4").await;
    for part in [
        "\"method\": \"initialize\"",
        "notifications/initialized",
        "\"method\": \"tools/call\"",
        "MCP-Protocol-Version: ",
    ] {
        assert!(request.contains(part), "{part} in {request}");
    }
    let response = text_of(b, "#response-4").await;
    assert!(response.contains("todo0-mcp") && response.contains("HTTP/1.1 202 Accepted"), "{response}");
    assert!(response.contains("\\\"count\\\""), "the tool's JSON answer: {response}");
    let checks = text_of(b, "#checks-4").await;
    assert!(
        checks.contains("✓ aud") && checks.contains("✓ scope: the token carries 'todos.read mcp.access'"),
        "{checks}"
    );
    browser.screenshot("console-flow-explorer-mcp").await;

    // The console's home links the MCP server's metadata.
    b.goto(&lab.lab.urls().console).await.unwrap();
    b.find(Locator::LinkText("MCP server metadata")).await.unwrap().click().await.unwrap();
    assert!(browser.text().await.contains(&format!("\"resource\":\"{mcp}\"")), "{}", browser.text().await);
    b.back().await.unwrap();
    b.goto(&format!("{}/explorer", lab.lab.urls().console)).await.unwrap();

    // The REST endpoint refuses the MCP token: it is for another audience.
    b.find(Locator::Id("endpoint")).await.unwrap().select_by_label("GET /api/todos").await.unwrap();
    assert_eq!(explorer_step(b, 4).await, "401 invalid_token");
    b.find(Locator::Id("endpoint")).await.unwrap().select_by_label("MCP: read todo0://todos").await.unwrap();
    assert_eq!(explorer_step(b, 4).await, "200 OK");
    assert!(text_of(b, "#response-4").await.contains("todo0://todos"));
    browser.close().await;
}
