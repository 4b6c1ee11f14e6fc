//! Lab decision A2 across the components: IT sets each resource's ID-JAG re-use policy through the
//! admin API (or page), the resource AS obeys it at its token endpoint and publishes it in its
//! metadata (the lab's own member), the lab clock (moved through the admin API) ends a re-use at
//! `exp`, the MCP server stays single use, the policy survives a restart and a reset makes every
//! resource single use again; Lab Notes names the policy its authorization server published; the
//! exercise promises both behaviours exactly as the servers show them; in Chromium, the admin
//! page's switch and the explorer's step 3 showing it.

use fantoccini::Locator;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin::{admin_browser_session, admin_json, assert_admin_error, card_item, report_card};
use crate::browser::{Browser, explorer_sign_in, explorer_step};
use crate::classroom::{assert_matches, by_id, promised};
use crate::harness::*;

const ALICE: &str = "alice@acme.example";
const REUSE_API: &str = "/api/admin/id-jag-reuse";

/// The MCP server's resource identifier.
fn mcp(lab: &TestLab) -> String {
    format!("{}/mcp", lab.api())
}

/// A fresh ID-JAG for alice and the bring-your-own client, for the todo API.
async fn alice_jag(lab: &TestLab) -> String {
    let login = lab.login(ALICE).await;
    lab.id_jag(&login.id_token).await
}

/// A fresh ID-JAG for alice and the bring-your-own client, for the MCP server.
async fn alice_mcp_jag(lab: &TestLab) -> String {
    let login = lab.login(ALICE).await;
    let params = with(&lab.exchange_params(&login.id_token), "resource", Some(&mcp(lab)));
    let params = with(&params, "scope", Some("todos.read mcp.access"));
    let resp = lab.idp_token(&params).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

/// The ID-JAG's `jti`.
fn jti(jag: &str) -> String {
    decode(jag).1["jti"].as_str().unwrap().to_owned()
}

/// Presents `jag` at the resource AS; the access token it gets.
async fn redeemed(lab: &TestLab, jag: &str) -> String {
    let resp = lab.as_token(&lab.bearer_params(jag)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
}

/// Presents `jag` at the resource AS and asserts the exact refusal.
async fn assert_refused(lab: &TestLab, jag: &str, description: &str) {
    let resp = lab.as_token(&lab.bearer_params(jag)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({ "error": "invalid_grant", "error_description": description }));
}

/// The single-use refusal of `jag`, exactly.
fn single_use_refusal(jag: &str) -> String {
    format!(
        "the ID-JAG with jti '{}' was already used; this authorization server accepts each ID-JAG once (lab decision A2, MCP enterprise-managed authorization, RFC 7523 Section 3 item 7)",
        jti(jag)
    )
}

/// The authorization server's metadata member `xaa_lab_id_jag_reuse` (the lab's own).
async fn published(lab: &TestLab) -> Value {
    let url = format!("{}/.well-known/oauth-authorization-server", lab.authz());
    let meta: Value = lab.http.get(url).send().await.unwrap().json().await.unwrap();
    meta["xaa_lab_id_jag_reuse"].clone()
}

/// What the metadata publishes with the todo API's policy `policy` (the MCP server single use).
fn publishing(lab: &TestLab, policy: &str) -> Value {
    json!({ lab.api(): policy, mcp(lab): "single_use" })
}

/// `PUT /api/admin/id-jag-reuse`.
async fn set_reuse(lab: &TestLab, resource: &str, policy: &str) -> reqwest::Response {
    lab.admin(Method::PUT, REUSE_API).json(&json!({ "resource": resource, "policy": policy })).send().await.unwrap()
}

/// One resource's entry in `GET /api/admin/id-jag-reuse`.
fn entry(resource: &str, policy: &str, label: &str, switchable: bool) -> Value {
    json!({ "resource": resource, "policy": policy, "label": label, "switchable": switchable })
}

/// What `GET /api/admin/id-jag-reuse` lists with the todo API's policy `policy` (`label`).
async fn assert_listed(lab: &TestLab, policy: &str, label: &str) {
    let (status, body) = admin_json(lab, Method::GET, REUSE_API, None).await;
    assert_eq!(status, StatusCode::OK);
    let mcp = entry(&mcp(lab), "single_use", "single use (MCP profile)", false);
    assert_eq!(body, json!({ "resources": [entry(lab.api(), policy, label, true), mcp] }));
}

#[tokio::test]
async fn single_use_is_the_default_and_refuses_the_second_use() {
    let lab = TestLab::start().await;
    assert_listed(&lab, "single_use", "single use").await;
    assert_eq!(published(&lab).await, publishing(&lab, "single_use"));
    let jag = alice_jag(&lab).await;
    redeemed(&lab, &jag).await;
    assert_refused(&lab, &jag, &single_use_refusal(&jag)).await;
}

#[tokio::test]
async fn with_re_use_the_same_id_jag_gets_two_access_tokens_until_it_expires() {
    let lab = TestLab::start().await;
    let set = set_reuse(&lab, lab.api(), "reuse_until_exp").await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(set.json::<Value>().await.unwrap(), entry(lab.api(), "reuse_until_exp", "re-usable until exp", true));
    assert_listed(&lab, "reuse_until_exp", "re-usable until exp").await;
    assert_eq!(published(&lab).await, publishing(&lab, "reuse_until_exp"));

    let jag = alice_jag(&lab).await;
    let first = redeemed(&lab, &jag).await;
    let second = redeemed(&lab, &jag).await;
    assert_ne!(first, second, "a fresh access token each time");
    for token in [&first, &second] {
        assert_eq!(lab.todo_json("/api/todos", token).await["success"], true);
    }
    // The report card: the re-submission is not a fresh ID-JAG, nor a mistake.
    let card = report_card(&lab, CLIENT).await;
    card_item(&card, "single_use", "passed", 1, 0, "a fresh ID-JAG");
    card_item(&card, "handles_n_a", "passed", 2, 0, "sent the ID-JAG as the jwt-bearer assertion");

    // The lab clock, moved by IT, past exp + leeway: the exp check refuses the ID-JAG.
    let exp = decode(&jag).1["exp"].as_i64().unwrap();
    let (status, clock) =
        admin_json(&lab, Method::POST, "/api/admin/clock", Some(json!({ "advance": 300 + 61 }))).await;
    assert_eq!(status, StatusCode::OK);
    let now = clock["now"].as_i64().unwrap();
    let expired = format!(
        "the ID-JAG expired at {exp}, {} s ago (now {now}, leeway 60 s) (RFC 7523 Section 3 item 4, RFC 7519 Section 4.1.4)",
        now - exp
    );
    assert_refused(&lab, &jag, &expired).await;

    // Back to single use: a fresh ID-JAG is accepted once.
    assert_eq!(set_reuse(&lab, lab.api(), "single_use").await.status(), StatusCode::OK);
    let jag = alice_jag(&lab).await;
    redeemed(&lab, &jag).await;
    assert_refused(&lab, &jag, &single_use_refusal(&jag)).await;
}

#[tokio::test]
async fn the_mcp_resource_refuses_to_switch_and_stays_single_use() {
    let lab = TestLab::start().await;
    let mcp = mcp(&lab);
    let description =
        format!("{mcp} is an MCP server: the MCP profile requires refusing a replayed ID-JAG, so it stays single use");
    assert_admin_error(set_reuse(&lab, &mcp, "reuse_until_exp").await, 400, "invalid_request", &description).await;
    // Even with the todo API re-usable, the MCP server's ID-JAG is accepted once.
    assert_eq!(set_reuse(&lab, lab.api(), "reuse_until_exp").await.status(), StatusCode::OK);
    assert_listed(&lab, "reuse_until_exp", "re-usable until exp").await;
    assert_eq!(published(&lab).await, publishing(&lab, "reuse_until_exp"), "the MCP server single use");
    let jag = alice_mcp_jag(&lab).await;
    redeemed(&lab, &jag).await;
    assert_refused(&lab, &jag, &single_use_refusal(&jag)).await;
}

#[tokio::test]
async fn bad_input_to_the_admin_api_gets_an_exact_error_and_changes_nothing() {
    let lab = TestLab::start().await;
    let unknown = set_reuse(&lab, lab.api(), "forever").await;
    assert_admin_error(
        unknown,
        400,
        "invalid_request",
        "policy \"forever\" is unknown: use single_use or reuse_until_exp",
    )
    .await;
    let other = "https://api.other.example";
    let governed = format!("{} {}", lab.api(), mcp(&lab));
    let description = format!("\"{other}\" is not a resource of this authorization server (its resources: {governed})");
    assert_admin_error(set_reuse(&lab, other, "reuse_until_exp").await, 400, "invalid_request", &description).await;
    let missing = lab.admin(Method::PUT, REUSE_API).json(&json!({ "policy": "single_use" })).send().await.unwrap();
    assert_admin_error(
        missing,
        400,
        "invalid_request",
        "Failed to deserialize the JSON body into the target type: missing field `resource` at line 1 column 23",
    )
    .await;
    assert_listed(&lab, "single_use", "single use").await;
}

/// The admin page's form: post-redirect-get with the console's CSRF token; without the token, or
/// for the MCP server, nothing changes and the page says why.
#[tokio::test]
async fn the_admin_page_form_needs_its_csrf_token_and_redirects_back() {
    let lab = TestLab::start().await;
    let browser = lab.browser();
    let csrf = admin_browser_session(&lab, &browser).await;
    let url = format!("{}/admin/id-jag-reuse", lab.console());
    let post =
        |form: Vec<(&'static str, String)>| browser.post(&url).header("origin", lab.console()).form(&form).send();
    // Where the form sends the browser back: the page, `ok` and the message.
    let message = |resp: &reqwest::Response| {
        let to = location(resp);
        let page = to.split('?').next().unwrap_or_default().to_owned();
        (page, query_param(&to, "ok"), query_param(&to, "msg").unwrap_or_default())
    };

    let forged = post(vec![("resource", lab.api().into()), ("policy", "reuse_until_exp".into())]).await.unwrap();
    assert_eq!(forged.status(), StatusCode::SEE_OTHER);
    let expired = "This page was open too long (its form token expired); try again.".to_owned();
    assert_eq!(message(&forged), ("/admin".into(), Some("0".into()), expired));
    assert_listed(&lab, "single_use", "single use").await;

    let mcp_form = vec![("csrf", csrf.clone()), ("resource", mcp(&lab)), ("policy", "reuse_until_exp".into())];
    let refused = post(mcp_form).await.unwrap();
    let description = format!(
        "{} is an MCP server: the MCP profile requires refusing a replayed ID-JAG, so it stays single use",
        mcp(&lab)
    );
    assert_eq!(message(&refused), ("/admin".into(), Some("0".into()), description));

    let form = vec![("csrf", csrf.clone()), ("resource", lab.api().into()), ("policy", "reuse_until_exp".into())];
    let done = post(form).await.unwrap();
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let said = format!(
        "{} is re-usable until exp: the same client may re-submit an ID-JAG for it until the ID-JAG expires.",
        lab.api()
    );
    assert_eq!(message(&done), ("/admin".into(), Some("1".into()), said));
    assert_listed(&lab, "reuse_until_exp", "re-usable until exp").await;
    let page = browser.get(format!("{}/admin", lab.console())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("lab decision A2: One use per ID-JAG, unless the resource allows re-use"), "labelled");
    assert!(page.contains("single use (MCP profile)"), "the MCP server's row");
}

/// The policy lives in the data dir: after a restart (on other ports) the todo API is still
/// re-usable; the room's reset makes it single use again.
#[tokio::test]
async fn the_policy_survives_a_restart_and_the_reset_makes_it_single_use_again() {
    let dir = std::env::temp_dir().join(format!("xaa-e2e-reuse-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let storage = xaa_lab::Storage::Dir(dir.clone());
    let lab = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    assert_eq!(set_reuse(&lab, lab.api(), "reuse_until_exp").await.status(), StatusCode::OK);
    let old_api = lab.api().to_owned();
    lab.0.lab.shutdown(std::time::Duration::from_secs(1)).await;

    let again = TestLab::start_configured(|c| c.storage = storage.clone()).await;
    assert_ne!(again.api(), old_api, "other ports this time");
    assert_listed(&again, "reuse_until_exp", "re-usable until exp").await;
    assert_eq!(published(&again).await, publishing(&again, "reuse_until_exp"), "under the new URLs");
    let jag = alice_jag(&again).await;
    redeemed(&again, &jag).await;
    redeemed(&again, &jag).await;

    let (status, report) = admin_json(&again, Method::POST, "/api/admin/reset", Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["single_use_again"], json!([again.api()]));
    assert_listed(&again, "single_use", "single use").await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Lab Notes names the policy its authorization server published right before each grant: the
/// cached token keeps the one that applied to it until Lab Notes gets a fresh token; its MCP
/// page names the MCP server's, single use whatever the todo API's.
#[tokio::test]
async fn lab_notes_names_the_policy_its_authorization_server_published() {
    let lab = TestLab::start().await;
    let alice = lab.notes_login(ALICE).await;
    let notes_page = |path: &'static str| {
        let (lab, alice) = (&lab, &alice);
        async move {
            let (status, html) = lab.notes_page(alice, path).await;
            assert_eq!(status, StatusCode::OK, "{path}: {html}");
            html
        }
    };
    let html = notes_page("/notes").await;
    assert_eq!(by_id(&html, "reuse-policy"), "single use");
    assert!(html.contains("metadata member <code>xaa_lab_id_jag_reuse</code>, the lab's own: no specification defines one; lab decision A2, RFC 8414 §2)"), "{html}");
    assert!(html.contains("Lab Notes gets a fresh ID-JAG for every access token, so it works under either policy."));

    assert_eq!(set_reuse(&lab, lab.api(), "reuse_until_exp").await.status(), StatusCode::OK);
    let html = notes_page("/notes").await;
    assert_eq!(by_id(&html, "reuse-policy"), "single use", "the cached token was granted under single use");
    let refresh = alice
        .post(format!("{}/todos/refresh", lab.notes()))
        .form(&[("csrf", hidden(&html, "csrf").as_str()), ("note", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), StatusCode::SEE_OTHER);
    assert_eq!(by_id(&notes_page("/notes").await, "reuse-policy"), "re-usable until exp", "a fresh token");

    let mcp_page = notes_page("/todos/mcp").await;
    assert!(mcp_page.contains("id=\"mcp-todos\""), "{mcp_page}");
    assert_eq!(by_id(&mcp_page, "reuse-policy"), "single use", "the MCP server");
    assert!(mcp_page.contains("Re-submitting an ID-JAG at the MCP server"), "{mcp_page}");
}

/// The exercise shows both behaviours and what each rests on, and promises exactly what the
/// servers answer: the single-use refusal, and the `jti` check of a re-submission.
#[tokio::test]
async fn the_exercise_promises_both_behaviours_as_the_servers_show_them() {
    let lab = TestLab::start().await;
    let name = "id-jag-reuse";
    let (status, html) = crate::classroom::page(&lab, &format!("/exercises/{name}?reveal=1")).await;
    assert_eq!(status, 200);
    assert_eq!(by_id(&html, "failed-check"), "jti");
    assert_eq!(by_id(&html, "reuse-state"), "single use");
    assert!(html.contains("href=\"/admin#id-jag-reuse\" id=\"turn-on\""), "the way to change it");
    assert!(html.contains("href=\"/explorer#step-3\" id=\"run-step\""), "the step to run");
    for rests_on in [
        "<li><span class=\"badge\">lab decision</span> lab decision A2 (One use per ID-JAG, unless the resource allows re-use): ",
        "<li><span class=\"badge\">MCP profile</span> MCP enterprise-managed authorization (Enterprise-Managed Authorization): an MCP authorization server MUST refuse a replayed ID-JAG (jti)</li>",
        "<li><span class=\"badge\">MAY</span> draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.3 (Refresh Token): no refresh token; when the access token expires, clients MAY re-submit the original ID-JAG for a new one</li>",
    ] {
        assert!(html.contains(rests_on), "{rests_on}");
    }
    let (_, index) = crate::classroom::page(&lab, "/exercises").await;
    assert!(index.contains("<a href=\"/exercises/id-jag-reuse\">"), "listed");

    // Single use: the promised refusal is the authorization server's.
    let jag = alice_jag(&lab).await;
    redeemed(&lab, &jag).await;
    let actual = assert_oauth_error(lab.as_token(&lab.bearer_params(&jag)).await, 400, "invalid_grant").await;
    assert_eq!(actual, single_use_refusal(&jag));
    assert_matches(name, &promised(&lab, name, "expected-description").await, &actual);

    // Re-usable until exp: the promised check is the one the authorization server ran.
    assert_eq!(set_reuse(&lab, lab.api(), "reuse_until_exp").await.status(), StatusCode::OK);
    let (_, html) = crate::classroom::page(&lab, &format!("/exercises/{name}")).await;
    assert_eq!(by_id(&html, "reuse-state"), "re-usable until exp");
    assert!(html.contains(&format!("</span> at {}; every other resource is single use.", lab.api())), "{html}");
    let jag = alice_jag(&lab).await;
    redeemed(&lab, &jag).await;
    redeemed(&lab, &jag).await;
    let events = lab.lab.trace_events(&xaa_lab::observe::trace::TraceFilter::default());
    let grant = events.iter().rev().find(|e| e.step == "jwt-bearer" && e.service == "resource-as").unwrap();
    let jti = grant.checks.iter().rfind(|c| c.name == "jti").unwrap();
    assert!(jti.passed, "{jti:?}");
    let actual = format!("✓ jti: {} ({})", jti.detail, jti.spec);
    assert_eq!(
        actual,
        format!(
            "✓ jti: re-submission of the ID-JAG with jti \"{}\", allowed by this resource's policy (re-usable until exp) (lab decision A2, draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.3)",
            self::jti(&jag)
        )
    );
    assert_matches(name, &promised(&lab, name, "expected-resubmission").await, &actual);
}

/// In Chromium: the explorer's step 3 names the todo API's policy; run twice with the same
/// ID-JAG it is refused at `jti`. IT allows re-use on the admin page (the MCP server has no
/// switch); the explorer says so, and a fresh ID-JAG is redeemed twice.
#[tokio::test]
async fn the_admin_page_switches_the_policy_and_the_explorer_shows_it_in_chromium() {
    let lab = TestLab::start().await;
    let browser = Browser::start().await;
    let b = &browser.client;
    let console = lab.console().to_owned();

    explorer_sign_in(&lab, &browser, "judy@acme.example").await;
    let policy = b.find(Locator::Id("reuse-policy")).await.unwrap().text().await.unwrap();
    assert!(policy.starts_with(&format!("Re-submitting an ID-JAG (the jti check) at {}: single use · lab decision A2: One use per ID-JAG, unless the resource allows re-use (", lab.api())), "{policy}");
    assert_eq!(explorer_step(b, 2).await, "200 OK");
    assert_eq!(explorer_step(b, 3).await, "200 OK");
    assert_eq!(explorer_step(b, 3).await, "400 invalid_grant");
    // The refusal leads step 3: the failed jti check, in its box.
    let checks = b.find(Locator::Id("failed-3")).await.unwrap().text().await.unwrap();
    assert!(checks.contains("✗ jti: the ID-JAG with jti"), "{checks}");

    b.goto(&format!("{console}/admin?token={}", lab.lab.admin_token())).await.unwrap();
    b.wait().for_element(Locator::Id("reuse")).await.unwrap();
    let mcp_row = format!("#reuse tr[data-resource='{}']", mcp(&lab));
    let mcp_text = b.find(Locator::Css(&mcp_row)).await.unwrap().text().await.unwrap();
    assert!(mcp_text.contains("single use (MCP profile)"), "{mcp_text}");
    assert!(b.find_all(Locator::Css(&format!("{mcp_row} button"))).await.unwrap().is_empty(), "no switch for MCP");
    let api_row = format!("#reuse tr[data-resource='{}']", lab.api());
    b.find(Locator::Css(&format!("{api_row} button"))).await.unwrap().click().await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Ok(m) = b.find(Locator::Id("message")).await
            && m.text().await.is_ok_and(|t| t.contains("is re-usable until exp"))
        {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the admin page never said re-use is on");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let row = b.find(Locator::Css(&api_row)).await.unwrap().text().await.unwrap();
    assert!(row.contains("re-usable until exp") && row.contains("Back to single use"), "{row}");
    assert_listed(&lab, "reuse_until_exp", "re-usable until exp").await;
    b.execute("document.getElementById('id-jag-reuse').scrollIntoView()", vec![]).await.unwrap();
    browser.screenshot("admin-id-jag-reuse").await;

    b.goto(&format!("{console}/explorer")).await.unwrap();
    let label = b.find(Locator::Id("reuse-policy-label")).await.unwrap().text().await.unwrap();
    assert_eq!(label, "re-usable until exp");
    // The ID-JAG used under single use stays used; a fresh one is redeemed twice.
    assert_eq!(explorer_step(b, 2).await, "200 OK");
    assert_eq!(explorer_step(b, 3).await, "200 OK");
    assert_eq!(explorer_step(b, 3).await, "200 OK");
    let checks = b.find(Locator::Id("checks-3")).await.unwrap().text().await.unwrap();
    assert!(checks.contains("✓ jti: re-submission of the ID-JAG with jti"), "{checks}");
    browser.screenshot("explorer-id-jag-reuse").await;
    browser.close().await;
}
