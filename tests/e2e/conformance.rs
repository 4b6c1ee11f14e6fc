//! `lab check` end to end: against the lab's own authorization server, todo API and MCP server
//! every check passes; against a deliberately lax authorization server and resource (they accept
//! everything) every check of a MUST fails, with its reason, and the `lab` binary exits with 1;
//! the JUnit XML is parsed back. The console's button runs the same checks in Chromium.

use std::process::Command;

use axum::routing::{any, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fantoccini::Locator;
use quick_xml::events::Event;
use serde_json::{Value, json};
use xaa_lab::conformance::as_server::{AsTarget, ClientAuth};
use xaa_lab::conformance::resource::ResourceTarget;
use xaa_lab::conformance::{LabParty, Report, Verdict, as_server, resource};
use xaa_lab::{LabKeys, Urls};

use crate::binary::{lab_binary, temp_dir};
use crate::harness::*;

/// Serves `router` on an ephemeral loopback port; returns `http://127.0.0.1:<port>`.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

/// An authorization server that accepts every token request, granting what the assertion asks.
async fn lax_as() -> String {
    let token = |form: axum::extract::Form<Vec<(String, String)>>| async move {
        let assertion = form.0.iter().find(|(k, _)| k == "assertion").map(|(_, v)| v.clone()).unwrap_or_default();
        let claims: Value = assertion
            .split('.')
            .nth(1)
            .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let body =
            json!({ "access_token": "lax", "token_type": "Bearer", "expires_in": 3600, "scope": claims["scope"] });
        ([("cache-control", "no-store")], Json(body))
    };
    serve(Router::new().route("/token", post(token))).await
}

/// A resource that answers every request with 200 and an empty JSON object.
async fn lax_resource() -> String {
    serve(Router::new().fallback(any(|| async { Json(json!({})) }))).await
}

/// The lab's keys and clock, as the party its servers trust.
fn party<'a>(lab: &'a TestLab, keys: &'a LabKeys, entropy: &'a xaa_core::secret::OsEntropy) -> LabParty<'a> {
    LabParty { urls: lab.lab.urls(), fixtures: lab.lab.fixtures(), keys: keys.into(), now: lab.now(), entropy }
}

fn as_target(lab: &TestLab) -> AsTarget {
    AsTarget {
        token_endpoint: format!("{}/token", lab.authz()),
        audience: lab.authz().to_owned(),
        client_id: RESOURCE_CLIENT.into(),
        client_secret: Some(RESOURCE_SECRET.into()),
        auth: ClientAuth::Basic,
        resource: Some(lab.api().to_owned()),
        scope: Some("todos.read".into()),
        mcp: true,
    }
}

fn rest_target(lab: &TestLab) -> ResourceTarget {
    ResourceTarget {
        resource: lab.api().to_owned(),
        endpoint: format!("{}/api/todos", lab.api()),
        mcp: false,
        scope: "todos.read".into(),
        sibling: Some(format!("{}/mcp", lab.api())),
        with_tokens: true,
    }
}

fn mcp_target(lab: &TestLab) -> ResourceTarget {
    let mcp = format!("{}/mcp", lab.api());
    ResourceTarget {
        resource: mcp.clone(),
        endpoint: mcp,
        mcp: true,
        scope: "todos.read mcp.access".into(),
        sibling: Some(lab.api().to_owned()),
        with_tokens: true,
    }
}

fn assert_all_pass(report: &Report) {
    let not_passed: Vec<&str> = report.cases.iter().filter(|c| c.verdict != Verdict::Pass).map(|c| c.id).collect();
    assert!(not_passed.is_empty(), "{not_passed:?}\n{}", report.table());
    assert!(report.passed() && report.notes.is_empty(), "{}", report.table());
}

#[tokio::test]
async fn the_labs_own_servers_pass_every_check() {
    let lab = TestLab::start().await;
    let keys = LabKeys::load(None).unwrap();
    let entropy = xaa_core::secret::OsEntropy;
    let as_report = as_server::run(&lab.http, party(&lab, &keys, &entropy), &as_target(&lab)).await.unwrap();
    assert_all_pass(&as_report);
    assert_eq!(as_report.summary().total, 29);
    // Each refusal is the lab AS's own, naming the check that failed.
    let observed = |id: &str| as_report.cases.iter().find(|c| c.id == id).unwrap().observed.clone();
    assert!(
        observed("typ-jwt").starts_with("400 invalid_grant: [typ]")
            || observed("typ-jwt").starts_with("400 invalid_grant")
    );
    assert!(observed("replay").contains("already used"), "{}", observed("replay"));
    assert!(observed("cnf-without-proof").contains("cnf.jkt"), "{}", observed("cnf-without-proof"));
    assert!(observed("oversized").starts_with("413 invalid_request"), "{}", observed("oversized"));
    assert_eq!(observed("client-secret-wrong").split(':').next(), Some("401 invalid_client"));
    for target in [rest_target(&lab), mcp_target(&lab)] {
        let report = resource::run(&lab.http, party(&lab, &keys, &entropy), &target).await.unwrap();
        assert_all_pass(&report);
        assert_eq!(report.summary().total, 14);
    }
}

#[tokio::test]
async fn a_lax_authorization_server_fails_every_must_with_its_reason() {
    let lab = TestLab::start().await;
    let keys = LabKeys::load(None).unwrap();
    let entropy = xaa_core::secret::OsEntropy;
    let url = lax_as().await;
    let target = AsTarget { token_endpoint: format!("{url}/token"), audience: url.clone(), ..as_target(&lab) };
    let report = as_server::run(&lab.http, party(&lab, &keys, &entropy), &target).await.unwrap();
    assert!(!report.passed());
    for case in &report.cases {
        match case.id {
            "valid" | "error-description" => assert_eq!(case.verdict, Verdict::Pass, "{}", case.observed),
            // Not MUSTs: warnings.
            "iat-future" | "oversized" | "scope-not-governed" => {
                assert_eq!(case.verdict, Verdict::Warning, "{}: {}", case.id, case.observed)
            }
            _ => {
                assert_eq!(case.verdict, Verdict::Fail, "{}: {}", case.id, case.observed);
                assert!(case.observed.ends_with("— accepted"), "{}: {}", case.id, case.observed);
            }
        }
    }
    let scope = report.cases.iter().find(|c| c.id == "scope-not-governed").unwrap();
    assert!(scope.observed.ends_with("the scope it does not govern was granted"), "{}", scope.observed);
    let s = report.summary();
    assert_eq!((s.total, s.passed, s.failed, s.warnings, s.skipped), (29, 2, 24, 3, 0));
    assert!(report.table().ends_with("29 checks: 2 passed, 24 failed (MUST), 3 warnings (SHOULD), 0 skipped\n"));
    assert_junit(&Report::junit(std::slice::from_ref(&report)), &report);
}

#[tokio::test]
async fn a_lax_resource_fails_every_must_with_its_reason() {
    let lab = TestLab::start().await;
    let keys = LabKeys::load(None).unwrap();
    let entropy = xaa_core::secret::OsEntropy;
    let url = lax_resource().await;
    for mcp in [false, true] {
        let target = ResourceTarget {
            resource: url.clone(),
            endpoint: format!("{url}/api"),
            mcp,
            scope: "items.read".into(),
            sibling: None,
            with_tokens: true,
        };
        let report = resource::run(&lab.http, party(&lab, &keys, &entropy), &target).await.unwrap();
        for case in &report.cases {
            let why = &case.observed;
            match case.id {
                "token-valid" | "metadata" => assert_eq!(case.verdict, Verdict::Pass, "{}: {why}", case.id),
                "challenge-metadata" if !mcp => assert_eq!(case.verdict, Verdict::Warning, "{why}"),
                "challenge-metadata" => assert_eq!(case.verdict, Verdict::Fail, "{why}"),
                "metadata-resource" => {
                    assert_eq!(
                        (case.verdict, why.as_str()),
                        (Verdict::Fail, format!("resource null, not \"{url}\"").as_str())
                    )
                }
                _ => {
                    assert_eq!(case.verdict, Verdict::Fail, "{}: {why}", case.id);
                    assert!(why.ends_with("— accepted"), "{}: {why}", case.id);
                }
            }
        }
        assert_eq!(report.summary().failed, if mcp { 12 } else { 11 }, "{}", report.table());
    }
    // Without tokens, only the tokenless checks run; the others say why they did not.
    let target = ResourceTarget { resource: url.clone(), endpoint: url, with_tokens: false, ..Default::default() };
    let report = resource::run(&lab.http, party(&lab, &keys, &entropy), &target).await.unwrap();
    let s = report.summary();
    assert_eq!((s.total, s.failed, s.skipped), (14, 2, 10), "{}", report.table());
}

/// Parses `xml` back and holds it to `report`: one testcase per case, a failure per ✗ with its
/// observed text as the message, the suite's counts.
fn assert_junit(xml: &str, report: &Report) {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut cases, mut failures, mut suites) = (Vec::new(), Vec::new(), Vec::new());
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &str| {
        e.try_get_attribute(name)
            .unwrap()
            .map(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).unwrap().into_owned())
            .unwrap_or_default()
    };
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testsuite" => suites.push((attr(&e, "tests"), attr(&e, "failures"), attr(&e, "skipped"))),
                b"testcase" => cases.push(attr(&e, "name")),
                b"failure" => failures.push((cases.last().cloned().unwrap_or_default(), attr(&e, "message"))),
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
    }
    let s = report.summary();
    assert_eq!(suites, [(s.total.to_string(), s.failed.to_string(), s.skipped.to_string())]);
    assert_eq!(cases, report.cases.iter().map(|c| c.id).collect::<Vec<_>>());
    let expected: Vec<(String, String)> = report
        .cases
        .iter()
        .filter(|c| c.verdict == Verdict::Fail)
        .map(|c| (c.id.to_owned(), c.observed.chars().take(300).collect()))
        .collect();
    assert_eq!(failures, expected);
}

/// Runs `lab check …` with `args`; returns (exit code, stdout).
fn lab_check(args: &[&str]) -> (i32, String) {
    let out = Command::new(lab_binary()).arg("check").args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).into_owned())
}

#[tokio::test]
async fn the_binary_exits_with_the_verdict_and_writes_json_and_junit() {
    let lab = TestLab::start().await;
    let dir = temp_dir("conformance-cli");
    let ready = dir.join("ready.json");
    std::fs::write(&ready, serde_json::to_vec(&lab.lab.ready_json()).unwrap()).unwrap();
    let ready = ready.to_str().unwrap().to_owned();
    let (junit, api) = (dir.join("as.xml"), lab.api().to_owned());
    let secret = format!("--client-secret={RESOURCE_SECRET}");
    let (authz, endpoint) = (lab.authz().to_owned(), format!("{}/api/todos", lab.api()));
    let own = tokio::task::spawn_blocking({
        let (ready, junit, secret, authz, api) =
            (ready.clone(), junit.clone(), secret.clone(), authz.clone(), api.clone());
        move || {
            let args = [
                "as",
                "--issuer",
                &authz,
                "--client-id",
                RESOURCE_CLIENT,
                &secret,
                "--resource",
                &api,
                "--scope",
                "todos.read",
                "--mcp",
                "--ready-file",
                &ready,
                "--junit",
                junit.to_str().unwrap(),
            ];
            lab_check(&args)
        }
    })
    .await
    .unwrap();
    assert_eq!(own.0, 0, "{}", own.1);
    assert!(
        own.1.contains("✓ typ-jwt")
            && own.1.ends_with("29 checks: 29 passed, 0 failed (MUST), 0 warnings (SHOULD), 0 skipped\n"),
        "{}",
        own.1
    );
    let issuer = own.1.lines().find(|l| l.trim_start().starts_with("trusted ID-JAG issuer (the lab IdP)"));
    assert!(issuer.is_some_and(|l| l.ends_with(&format!("  {}", lab.idp()))), "{}", own.1);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>") && xml.contains("failures=\"0\""), "{xml}");

    let rest = tokio::task::spawn_blocking({
        let (ready, api) = (ready.clone(), api.clone());
        move || {
            lab_check(&[
                "resource",
                "--resource",
                &api,
                "--endpoint",
                &endpoint,
                "--scope",
                "todos.read",
                "--ready-file",
                &ready,
                "--json",
            ])
        }
    })
    .await
    .unwrap();
    assert_eq!(rest.0, 0, "{}", rest.1);
    let json: Value = serde_json::from_str(&rest.1).unwrap();
    assert_eq!(json["summary"], json!({ "total": 14, "passed": 14, "failed": 0, "warnings": 0, "skipped": 0 }));
    assert_eq!(json["cases"][0]["id"], "no-token");
    assert_eq!(json["cases"][0]["spec"], "RFC 6750 §3");
    assert_eq!(json["cases"][0]["level"], "must");

    let lax = lax_as().await;
    let (junit, json_out) = (dir.join("lax.xml"), dir.join("lax.json"));
    let failed = tokio::task::spawn_blocking({
        let (ready, junit) = (ready.clone(), junit.clone());
        move || {
            let token = format!("{lax}/token");
            let args = [
                "as",
                "--token-endpoint",
                &token,
                "--audience",
                &lax,
                "--client-id",
                "c",
                "--client-secret",
                "s",
                "--ready-file",
                &ready,
                "--junit",
                junit.to_str().unwrap(),
                "--json",
            ];
            lab_check(&args)
        }
    })
    .await
    .unwrap();
    std::fs::write(&json_out, &failed.1).unwrap();
    assert_eq!(failed.0, 1, "a MUST failed: exit 1\n{}", failed.1);
    let json: Value = serde_json::from_str(&failed.1).unwrap();
    assert_eq!(
        json["summary"]["failed"], 22,
        "the replay and the ungoverned resource (MCP profile) warn without --mcp"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<failure ").count(), 22);
    assert!(xml.contains("<testcase classname=\"lab.check.as\" name=\"alg-none\""), "{xml}");

    // A bad URL is not a verdict: exit 2.
    let (code, _) = lab_check(&["resource", "--resource", "not-a-url", "--without-tokens"]);
    assert_eq!(code, 2);
}

#[tokio::test]
async fn print_trust_says_what_to_configure_without_checking() {
    let dir = temp_dir("conformance-trust");
    let urls = Urls::new(
        false,
        "localhost",
        xaa_lab::Ports { idp: 5501, authorization_server: 5502, ..xaa_lab::Ports::DEFAULT },
    );
    let ready = dir.join("ready.json");
    std::fs::write(&ready, serde_json::to_vec(&json!(urls)).unwrap()).unwrap();
    let (code, out) = lab_check(&[
        "resource",
        "--resource",
        "http://localhost:9100",
        "--scope",
        "todos.read",
        "--print-trust",
        "--ready-file",
        ready.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}");
    let keys = LabKeys::load(None).unwrap();
    let expected = format!(
        "trusted authorization server (the lab's)     http://localhost:5502\n\
         its JWKS                                     http://localhost:5502/jwks\n\
         its metadata                                 http://localhost:5502/.well-known/oauth-authorization-server\n\
         its signing key                              kid {}, RS256, typ at+jwt\n\
         access token aud (your resource identifier)  http://localhost:9100\n\
         scope of the valid token                     todos.read\n",
        keys.resource_as.kid()
    );
    assert_eq!(out, expected);
}

#[tokio::test]
async fn the_console_runs_the_checks_of_a_resource_app_and_the_room_shows_them() {
    let lab = TestLab::start().await;
    let authz = lab.authz().to_owned();
    let rs = crate::byor_server::ResourceServer::start(lab.clock.clone(), |url| crate::byor_server::MiddlewareConfig {
        issuer: authz,
        audience: url.to_owned(),
        demand_typ_jwt: false,
    })
    .await;
    let browser = crate::browser::Browser::start().await;
    let b = &browser.client;
    b.goto(&format!("{}/resources", lab.console())).await.unwrap();
    for (id, text) in [
        ("name", "Checked API"),
        ("base_url", rs.url.as_str()),
        ("scopes", "items.read"),
        ("endpoints", "GET /api/items"),
        ("join_code", lab.lab.join_code()),
    ] {
        let field = b.find(Locator::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }
    b.find(Locator::Id("register")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("registered")).await.unwrap();
    b.find(Locator::Id("run-checks")).await.unwrap().click().await.unwrap();
    b.wait().for_element(Locator::Id("check-summary")).await.unwrap();
    // The checks ran, and the browser came back to the app's page, at its results.
    let page = b.current_url().await.unwrap();
    assert_eq!(page.fragment(), Some("conformance"));
    let summary = b.find(Locator::Id("check-summary")).await.unwrap().text().await.unwrap();
    assert!(summary.contains("passed") && summary.contains("failed"), "{summary}");
    let verdict = |id: &'static str| async move {
        let row = b.find(Locator::Css(&format!("tr[data-check='{id}']"))).await.unwrap();
        row.attr("data-verdict").await.unwrap().unwrap_or_default()
    };
    assert_eq!(verdict("no-token").await, "pass");
    assert_eq!(verdict("token-valid").await, "pass");
    assert_eq!(verdict("aud-other").await, "pass");
    browser.screenshot("console-resource-app-conformance").await;

    // The same results as JSON, and on the room dashboard.
    let id = page.path().rsplit('/').next().unwrap().to_owned();
    let json: Value = lab
        .http
        .get(format!("{}/resources/{id}/conformance.json", lab.console()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cases = json["reports"][0]["cases"].as_array().unwrap();
    let rows = b.find_all(Locator::Css("table.checks tbody tr")).await.unwrap();
    assert_eq!(rows.len(), cases.len());
    for (row, case) in rows.iter().zip(cases) {
        assert_eq!(row.attr("data-check").await.unwrap().as_deref(), case["id"].as_str());
        assert_eq!(row.attr("data-verdict").await.unwrap().as_deref(), case["verdict"].as_str());
    }
    let failed = cases.iter().filter(|c| c["verdict"] == "fail").count();
    b.goto(&format!("{}/admin?token={}", lab.console(), lab.lab.admin_token())).await.unwrap();
    b.goto(&format!("{}/admin/room", lab.console())).await.unwrap();
    // Waited for, not found at once: on a loaded machine (four test threads on two cores) the room
    // was once read before it showed.
    let cell =
        b.wait().for_element(Locator::Css(&format!("#room-checks tr[data-app='{id}'] td:nth-child(4)"))).await.unwrap();
    assert_eq!(cell.text().await.unwrap(), failed.to_string());
    browser.close().await;
}

#[tokio::test]
async fn the_console_says_when_there_is_nothing_to_check_or_show() {
    let lab = TestLab::start().await;
    let get = |path: &str| lab.http.get(format!("{}{path}", lab.console())).send();
    let json = get("/resources/nope/conformance.json").await.unwrap();
    assert_eq!(json.status(), 404);
    assert_eq!(
        json.json::<Value>().await.unwrap(),
        json!({ "error": "not_found", "error_description": "no conformance run of this resource app yet: press Run the conformance checks on its page" })
    );
    let xml = get("/resources/nope/conformance.xml").await.unwrap();
    assert_eq!(xml.status(), 404);
    assert_eq!(
        xml.text().await.unwrap(),
        "no conformance run of this resource app yet: press Run the conformance checks on its page"
    );
    let run = lab
        .browser()
        .post(format!("{}/resources/nope/check", lab.console()))
        .header("accept", "text/html")
        .form(&[("csrf", "stale")])
        .send()
        .await
        .unwrap();
    assert_eq!(run.status(), 404);
    let page = run.text().await.unwrap();
    assert!(page.contains("There is no resource app &#34;nope&#34; (deleted, or never registered)"), "{page}");
}
