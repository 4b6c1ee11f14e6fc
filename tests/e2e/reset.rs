//! Reset, for the next group: the admin action (API and page) and `lab reset` on a stopped lab's
//! data dir. Each test first changes every piece of state the reset promises to reset, then
//! checks each one: switches, clock, trace, audit log, the fixture policy, each resource's ID-JAG
//! re-use policy, and registrations kept or removed.

use std::process::Command;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use xaa_lab::observe::trace::TraceFilter;

use crate::admin::{admin_browser_session, admin_json, client_ids, register, text};
use crate::binary::{lab_binary, temp_dir};
use crate::harness::*;

const ALICE: &str = "alice@acme.example";

/// Changes everything a reset puts back; returns the registered requestor.
async fn mess_up(lab: &TestLab) -> Value {
    let reg = register(lab, "Room App").await;
    // Traffic: the trace and the audit log fill.
    let login = lab.login(ALICE).await;
    let _ = lab.id_jag(&login.id_token).await;
    let narrow_mine = json!({ "client_id": text(&reg, "client_id"), "scopes": ["todos.read"] });
    assert_eq!(admin_json(lab, Method::PUT, "/api/admin/connections", Some(narrow_mine)).await.0, StatusCode::OK);
    let narrow = json!({ "client_id": CLIENT, "scopes": ["todos.read"] });
    assert_eq!(admin_json(lab, Method::PUT, "/api/admin/connections", Some(narrow)).await.0, StatusCode::OK);
    let revoke = format!("/api/admin/connections?client_id={NOTES_CLIENT}");
    assert_eq!(lab.admin(Method::DELETE, &revoke).send().await.unwrap().status(), StatusCode::OK);
    for (name, body) in [("id-jag-expired", json!({})), ("todo-api-slow", json!({ "delay_ms": 10 }))] {
        let resp = lab.admin(Method::PUT, &format!("/api/admin/switches/{name}")).json(&body).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let clock = lab.admin(Method::POST, "/api/admin/clock").json(&json!({ "advance": 7200 })).send().await.unwrap();
    assert_eq!(clock.status(), StatusCode::OK);
    let reuse = json!({ "resource": lab.api(), "policy": "reuse_until_exp" });
    assert_eq!(admin_json(lab, Method::PUT, "/api/admin/id-jag-reuse", Some(reuse)).await.0, StatusCode::OK);
    assert!(!lab.lab.trace_events(&TraceFilter::default()).is_empty());
    assert!(!audit(lab).await.is_empty());
    assert_ne!(fixture_policy(lab), lab.lab.fixtures().connections);
    reg
}

async fn audit(lab: &TestLab) -> Vec<Value> {
    let (status, body) = admin_json(lab, Method::GET, "/api/admin/audit", None).await;
    assert_eq!(status, StatusCode::OK);
    body["entries"].as_array().unwrap().clone()
}

/// The fixture clients' connections, in policy order.
fn fixture_policy(lab: &TestLab) -> Vec<xaa_lab::idp::Connection> {
    let fixture_ids: Vec<&str> = lab.lab.fixtures().connections.iter().map(|c| c.client_id.as_str()).collect();
    lab.lab.connections().into_iter().filter(|c| fixture_ids.contains(&c.client_id.as_str())).collect()
}

/// The registered requestor's connections.
fn connections_of(lab: &TestLab, reg: &Value) -> Vec<xaa_lab::idp::Connection> {
    lab.lab.connections().into_iter().filter(|c| c.client_id == text(reg, "client_id")).collect()
}

/// Switches off, clock on the wall clock, trace and audit log empty, fixture policy as written.
async fn assert_room_is_reset(lab: &TestLab) {
    assert!(lab.lab.switches().is_empty(), "every switch is off");
    let (_, switches) = admin_json(lab, Method::GET, "/api/admin/switches", None).await;
    assert!(switches.to_string().contains("id-jag-expired"), "{switches}");
    assert!(!switches.to_string().contains("\"on\":true"), "{switches}");
    let (_, clock) = admin_json(lab, Method::GET, "/api/admin/clock", None).await;
    assert!(clock["offset_seconds"].as_i64().unwrap().abs() <= 2, "back on the wall clock: {clock}");
    assert!(lab.lab.trace_events(&TraceFilter::default()).is_empty(), "the trace is empty");
    assert_eq!(audit(lab).await, Vec::<Value>::new(), "the audit log is empty");
    assert_eq!(fixture_policy(lab), lab.lab.fixtures().connections, "the fixture policy is reseeded");
    let (_, reuse) = admin_json(lab, Method::GET, "/api/admin/id-jag-reuse", None).await;
    let policies: Vec<&Value> = reuse["resources"].as_array().unwrap().iter().map(|r| &r["policy"]).collect();
    assert_eq!(policies, [&json!("single_use"), &json!("single_use")], "every resource single use again");
}

#[tokio::test]
async fn the_reset_action_resets_everything_and_keeps_or_removes_registrations() {
    let lab = TestLab::start().await;
    let reg = mess_up(&lab).await;
    let id = text(&reg, "client_id").to_owned();
    let resource_id = text(&reg, "resource_client_id").to_owned();
    let kept_policy = connections_of(&lab, &reg);

    let (status, report) =
        admin_json(&lab, Method::POST, "/api/admin/reset", Some(json!({ "keep_registrations": true }))).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["switches_turned_off"], json!(["id-jag-expired", "todo-api-slow"]));
    assert!(report["clock_moved_by"].as_i64().unwrap() <= -7198, "{report}");
    assert_room_is_reset(&lab).await;
    assert!(client_ids(&lab).await.contains(&id), "the registration is kept");
    assert!(lab.lab.resource_client(&resource_id).is_some(), "and its AS client");
    assert_eq!(connections_of(&lab, &reg), kept_policy, "its connection as IT left it");
    let login = lab.login_as(&id, text(&reg, "client_secret"), REDIRECT, ALICE).await;
    let params = with(&lab.exchange_params(&login.id_token), "client_id", Some(&id));
    let params = with(&params, "client_secret", Some(text(&reg, "client_secret")));
    let params = with(&params, "scope", Some("todos.read"));
    assert_eq!(lab.idp_token(&params).await.status(), StatusCode::OK, "the kept app still exchanges");
    // The bring-your-own client has its full scopes again, and no switch interferes.
    assert_eq!(lab.todo_json("/api/todos", &lab.full_chain(ALICE).await).await["success"], true);

    let _ = mess_up(&lab).await;
    let (status, report) = admin_json(&lab, Method::POST, "/api/admin/reset", Some(json!({}))).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_room_is_reset(&lab).await;
    let removed = report["removed_clients"].as_array().unwrap();
    assert_eq!(removed.len(), 2, "both registrations: {report}");
    assert_eq!(report["removed_resource_clients"].as_array().unwrap().len(), 2, "{report}");
    assert!(!client_ids(&lab).await.contains(&id), "the registration is gone");
    assert!(lab.lab.resource_client(&resource_id).is_none(), "and its AS client");
    assert_eq!(lab.lab.connections(), lab.lab.fixtures().connections, "only the fixture policy is left");

    // Mistakes: JSON errors, never a 500.
    let resp = lab.admin(Method::POST, "/api/admin/reset").body("nope").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let bad = json!({ "keep_registrations": "yes" });
    assert_eq!(admin_json(&lab, Method::POST, "/api/admin/reset", Some(bad)).await.0, StatusCode::BAD_REQUEST);
}

/// The page's button needs its confirmation box; with it, the room is reset.
#[tokio::test]
async fn the_reset_button_asks_for_confirmation() {
    let lab = TestLab::start().await;
    let reg = mess_up(&lab).await;
    let browser = lab.browser();
    let csrf = admin_browser_session(&lab, &browser).await;
    let page = browser.get(format!("{}/admin", lab.console())).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("id=\"reset-room\""), "the admin page has the button");
    let url = format!("{}/admin/reset", lab.console());
    let post =
        |form: Vec<(&'static str, String)>| browser.post(&url).header("origin", lab.console()).form(&form).send();
    let unconfirmed = post(vec![("csrf", csrf.clone())]).await.unwrap();
    assert_eq!(unconfirmed.status(), StatusCode::SEE_OTHER);
    assert!(location(&unconfirmed).contains("ok=0"), "{}", location(&unconfirmed));
    assert!(!lab.lab.switches().is_empty(), "nothing was reset");
    let other = browser.post(&url).header("origin", "http://localhost:3000").form(&[("csrf", &csrf)]).send().await;
    assert_ne!(other.unwrap().status(), StatusCode::SEE_OTHER, "another origin is refused");
    let done = post(vec![("csrf", csrf.clone()), ("confirm", "yes".into()), ("keep_registrations", "yes".into())])
        .await
        .unwrap();
    assert!(location(&done).contains("ok=1"), "{}", location(&done));
    assert_room_is_reset(&lab).await;
    assert!(client_ids(&lab).await.contains(&text(&reg, "client_id").to_owned()));
}

fn lab_reset(dir: &std::path::Path, extra: &[&str]) -> (bool, String, String) {
    let out = Command::new(lab_binary()).arg("reset").arg("--data-dir").arg(dir).args(extra).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `lab reset` on a stopped lab's data dir: refused while a lab runs on it; afterwards the next
/// start has every piece of state reset, registrations kept or removed.
#[tokio::test]
async fn lab_reset_resets_a_stopped_labs_data_dir() {
    let dir = temp_dir("reset-data");
    let storage = xaa_lab::Storage::Dir(dir.clone());
    let start = || TestLab::start_configured(|c| c.storage = storage.clone());
    let lab = start().await;
    let reg = mess_up(&lab).await;
    let id = text(&reg, "client_id").to_owned();
    let resource_id = text(&reg, "resource_client_id").to_owned();
    let kept_policy = connections_of(&lab, &reg);

    let (ok, _, stderr) = lab_reset(&dir, &[]);
    assert!(!ok, "refused while the lab runs");
    assert!(stderr.contains("a lab is running on") && stderr.contains("stop it first"), "{stderr}");
    lab.0.lab.shutdown(std::time::Duration::from_secs(1)).await;

    let (ok, stdout, stderr) = lab_reset(&dir, &["--keep-registrations"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("registered requestors kept"), "{stdout}");
    let lab = start().await;
    assert_room_is_reset(&lab).await;
    assert!(client_ids(&lab).await.contains(&id), "the registration is kept");
    assert!(lab.lab.resource_client(&resource_id).is_some());
    let kept = connections_of(&lab, &reg);
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        (&kept[0].scopes, &kept[0].resource_client_id),
        (&kept_policy[0].scopes, &kept_policy[0].resource_client_id)
    );
    assert_eq!((kept[0].authorization_server.as_str(), kept[0].resource.as_str()), (lab.authz(), lab.api()));
    let _ = mess_up(&lab).await;
    lab.0.lab.shutdown(std::time::Duration::from_secs(1)).await;

    let (ok, stdout, stderr) = lab_reset(&dir, &[]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("2 registered client(s) deleted at the IdP"), "{stdout}");
    let lab = start().await;
    assert_room_is_reset(&lab).await;
    assert!(!client_ids(&lab).await.contains(&id), "the registration is gone");
    assert!(lab.lab.resource_client(&resource_id).is_none(), "and its AS client");
    assert_eq!(lab.lab.connections(), lab.lab.fixtures().connections);
    lab.0.lab.shutdown(std::time::Duration::from_secs(1)).await;

    let empty = temp_dir("reset-empty");
    let (ok, _, stderr) = lab_reset(&empty, &[]);
    assert!(!ok && stderr.contains("holds no lab data"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&empty);
}
