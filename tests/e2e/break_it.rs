//! The break-it switches, the lab clock and key rotation, through the admin API: each switch
//! shows the exact error a requestor then receives.

use reqwest::Method;
use serde_json::{Value, json};
use xaa_lab::faults::WRONG_RESOURCE;

use crate::harness::*;

async fn switch_on(lab: &TestLab, name: &str, body: Value) -> Value {
    let resp = lab.admin(Method::PUT, &format!("/api/admin/switches/{name}")).json(&body).send().await.unwrap();
    assert_eq!(resp.status(), 200, "switch {name} on");
    resp.json().await.unwrap()
}

async fn switch_off(lab: &TestLab, name: &str) {
    let resp = lab.admin(Method::DELETE, &format!("/api/admin/switches/{name}")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

/// Signs alice in, exchanges her ID token and presents the ID-JAG at the AS.
async fn present_new_id_jag(lab: &TestLab) -> reqwest::Response {
    let login = lab.login("alice@acme.example").await;
    let jag = lab.id_jag(&login.id_token).await;
    lab.as_token(&lab.bearer_params(&jag)).await
}

/// Each IdP switch breaks the ID-JAG in one way; the AS names the failed check.
#[tokio::test]
async fn idp_switches_make_the_as_refuse_with_the_failed_check() {
    let lab = TestLab::start().await;
    for (name, expect) in [
        ("id-jag-expired", "expired"),
        ("id-jag-wrong-typ", "typ is 'JWT'"),
        ("id-jag-wrong-aud", "aud"),
        ("id-jag-foreign-client-id", "client_id"),
        ("id-jag-untrusted-key", "untrusted-demo"),
    ] {
        let on = switch_on(&lab, name, json!({})).await;
        assert_eq!(on["name"], name);
        assert_eq!(on["clients"], json!([]));
        let d = assert_oauth_error(present_new_id_jag(&lab).await, 400, "invalid_grant").await;
        assert!(d.contains(expect), "{name}: {d}");
        switch_off(&lab, name).await;
        let resp = present_new_id_jag(&lab).await;
        assert_eq!(resp.status(), 200, "{name} off: the flow works again");
    }
    // The audit log says which ID-JAGs were broken on purpose.
    let audit: Value =
        lab.admin(Method::GET, "/api/admin/audit?outcome=issued").send().await.unwrap().json().await.unwrap();
    let reasons: Vec<&str> = audit["entries"].as_array().unwrap().iter().filter_map(|e| e["reason"].as_str()).collect();
    assert!(reasons.iter().any(|r| r.contains("id-jag-untrusted-key")), "{reasons:?}");
}

#[tokio::test]
async fn the_as_refuses_the_next_grant_once() {
    let lab = TestLab::start().await;
    switch_on(&lab, "refuse-next-grant", json!({})).await;
    let d = assert_oauth_error(present_new_id_jag(&lab).await, 400, "invalid_grant").await;
    assert!(d.contains("refuse-next-grant"), "{d}");
    let list: Value = lab.admin(Method::GET, "/api/admin/switches").send().await.unwrap().json().await.unwrap();
    let refuse = list["switches"].as_array().unwrap().iter().find(|s| s["name"] == "refuse-next-grant").unwrap();
    assert_eq!(refuse["on"], false, "a one-shot switch turns itself off");
    assert_eq!(present_new_id_jag(&lab).await.status(), 200);
}

/// The wrong-resource switches change only the `resource` member of a token response (the token
/// itself is sound), to show why a requestor compares it with what it asked for.
#[tokio::test]
async fn wrong_resource_switches_change_only_the_response_member() {
    let lab = TestLab::start().await;
    let login = lab.login("alice@acme.example").await;
    let on = switch_on(&lab, "exchange-wrong-resource", json!({})).await;
    assert_eq!(on["component"], "IdP");
    let te: Value = lab.idp_token(&lab.exchange_params(&login.id_token)).await.json().await.unwrap();
    assert_eq!(te["resource"], WRONG_RESOURCE);
    let jag = te["access_token"].as_str().unwrap().to_owned();
    assert_eq!(decode(&jag).1["resource"], lab.api(), "the ID-JAG is unchanged");
    switch_off(&lab, "exchange-wrong-resource").await;

    let on = switch_on(&lab, "grant-wrong-resource", json!({ "client_id": CLIENT })).await;
    assert_eq!(on["component"], "resource AS");
    let at: Value = lab.as_token(&lab.bearer_params(&jag)).await.json().await.unwrap();
    assert_eq!(at["resource"], WRONG_RESOURCE);
    assert_eq!(decode(at["access_token"].as_str().unwrap()).1["aud"], lab.api(), "the access token is unchanged");
    switch_off(&lab, "grant-wrong-resource").await;
    let te: Value = lab.idp_token(&lab.exchange_params(&login.id_token)).await.json().await.unwrap();
    let at: Value = lab.as_token(&lab.bearer_params(te["access_token"].as_str().unwrap())).await.json().await.unwrap();
    assert_eq!((&te["resource"], &at["resource"]), (&json!(lab.api()), &json!(lab.api())), "both off: the truth");

    let audit: Value =
        lab.admin(Method::GET, "/api/admin/audit?outcome=issued").send().await.unwrap().json().await.unwrap();
    let reasons: Vec<&str> = audit["entries"].as_array().unwrap().iter().filter_map(|e| e["reason"].as_str()).collect();
    assert!(reasons.contains(&"issued broken on purpose by break-it switch exchange-wrong-resource"), "{reasons:?}");
}

#[tokio::test]
async fn the_todo_api_goes_down_or_slows_down_for_one_client() {
    let lab = TestLab::start().await;
    let mine = lab.full_chain("alice@acme.example").await;
    let notes = lab.0.sign_in(NOTES_CLIENT, "alice@acme.example").await.unwrap();
    let jag = lab.0.exchange(NOTES_CLIENT, &notes.id_token, "todos.read").await.unwrap();
    let notes_at = lab.0.jwt_bearer(NOTES_CLIENT, &jag).await.unwrap();

    let on = switch_on(&lab, "todo-api-unavailable", json!({ "client_id": CLIENT })).await;
    assert_eq!(on["clients"], json!([CLIENT, RESOURCE_CLIENT]), "scoped by both of the requestor's ids");
    let resp = lab.todo(Method::GET, "/api/todos", &mine).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "30");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["error"], "temporarily_unavailable");
    let other = lab.todo(Method::GET, "/api/todos", &notes_at).send().await.unwrap();
    assert_eq!(other.status(), 200, "another requestor is not affected");
    switch_off(&lab, "todo-api-unavailable").await;

    switch_on(&lab, "todo-api-slow", json!({ "delay_ms": 400 })).await;
    let started = std::time::Instant::now();
    let resp = lab.todo(Method::GET, "/api/todos", &mine).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(started.elapsed() >= std::time::Duration::from_millis(400), "answered after the delay");
}

#[tokio::test]
async fn short_lifetimes_and_the_lab_clock_show_expiry_without_waiting() {
    let lab = TestLab::start().await;
    switch_on(&lab, "short-lifetimes", json!({})).await;
    let login = lab.login("alice@acme.example").await;
    let (_, id_token) = decode(&login.id_token);
    assert_eq!(id_token["exp"].as_i64().unwrap() - id_token["iat"].as_i64().unwrap(), 30);
    let resp = lab.idp_token(&lab.exchange_params(&login.id_token)).await;
    let te: Value = resp.json().await.unwrap();
    assert_eq!(te["expires_in"], 30);
    let resp = lab.as_token(&lab.bearer_params(te["access_token"].as_str().unwrap())).await;
    let at: Value = resp.json().await.unwrap();
    assert_eq!(at["expires_in"], 30);
    let access_token = at["access_token"].as_str().unwrap().to_owned();
    assert_eq!(lab.todo(Method::GET, "/api/todos", &access_token).send().await.unwrap().status(), 200);

    // Move the lab clock past expiry and the leeway: the same token is now refused.
    let before = lab.now();
    let resp = lab.admin(Method::POST, "/api/admin/clock").json(&json!({ "advance": 91 })).send().await.unwrap();
    let clock: Value = resp.json().await.unwrap();
    assert_eq!(clock["now"].as_i64().unwrap(), before + 91);
    assert_eq!(lab.now(), before + 91, "every component reads the same clock");
    let resp = lab.todo(Method::GET, "/api/todos", &access_token).send().await.unwrap();
    assert_eq!(resp.status(), 401);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "invalid_token");
    let d = assert_oauth_error(lab.idp_token(&lab.exchange_params(&login.id_token)).await, 400, "invalid_grant").await;
    assert!(d.contains("expired"), "{d}");

    let bad = lab.admin(Method::POST, "/api/admin/clock").json(&json!({ "advance": "soon" })).send().await.unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn unknown_switch_and_client_are_refused() {
    let lab = TestLab::start().await;
    let resp = lab.admin(Method::PUT, "/api/admin/switches/break-everything").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "not_found");
    assert!(body["error_description"].as_str().unwrap().contains("id-jag-expired"), "lists the switches");
    let resp = lab
        .admin(Method::PUT, "/api/admin/switches/id-jag-expired")
        .json(&json!({ "client_id": "nobody" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let list: Value = lab.admin(Method::GET, "/api/admin/switches").send().await.unwrap().json().await.unwrap();
    assert!(list["switches"].as_array().unwrap().iter().all(|s| s["on"] == false), "nothing was turned on");
}

/// Rotation: a new kid signs, the old key stays published, the AS picks the new key up by
/// refetching the JWKS on an unknown kid, and tokens signed before still work.
#[tokio::test]
async fn key_rotation_keeps_old_tokens_valid_and_the_as_follows() {
    // No refetch rate limit: the AS fetched the JWKS a moment before the rotation.
    let lab = TestLab::start_configured(|c| c.jwks_refetch_interval = std::time::Duration::ZERO).await;
    let before = lab.login("alice@acme.example").await;
    let old_jag = lab.id_jag(&before.id_token).await;
    // The AS has cached the old JWKS by now.
    assert_eq!(lab.as_token(&lab.bearer_params(&old_jag)).await.status(), 200);

    let resp = lab.admin(Method::POST, "/api/admin/keys/rotate").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let r: Value = resp.json().await.unwrap();
    assert_eq!(r["previous_kid"], "idp-2026-01");
    let new_kid = r["kid"].as_str().unwrap().to_owned();
    assert!(r["previous_published_until"].as_i64().unwrap() >= lab.now() + 600);
    let jwks: Value = lab.http.get(format!("{}/jwks", lab.idp())).send().await.unwrap().json().await.unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().filter_map(|k| k["kid"].as_str()).collect();
    assert_eq!(kids, [new_kid.as_str(), "idp-2026-01"]);

    // The ID token from before the rotation still exchanges; the new ID-JAG has the new kid.
    let jag = lab.id_jag(&before.id_token).await;
    let (header, _) = decode(&jag);
    assert_eq!(header["kid"], new_kid.as_str());
    assert_eq!(lab.as_token(&lab.bearer_params(&jag)).await.status(), 200, "the AS refetched the JWKS");

    // Once every old token has expired, the old key leaves the JWKS.
    lab.clock.advance(600 + 61);
    let jwks: Value = lab.http.get(format!("{}/jwks", lab.idp())).send().await.unwrap().json().await.unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().filter_map(|k| k["kid"].as_str()).collect();
    assert_eq!(kids, [new_kid.as_str()]);
}

/// The page promises the old key stays until its tokens expire: moving the clock forward 2 h and
/// back to the wall clock must not lose it, and a token it signed before still redeems.
#[tokio::test]
async fn a_rotated_out_key_survives_the_clock_moving_forward_and_back() {
    let lab = TestLab::start_configured(|c| c.jwks_refetch_interval = std::time::Duration::ZERO).await;
    let kids = || async {
        let jwks: Value = lab.http.get(format!("{}/jwks", lab.idp())).send().await.unwrap().json().await.unwrap();
        jwks["keys"].as_array().unwrap().iter().filter_map(|k| k["kid"].as_str().map(str::to_owned)).collect::<Vec<_>>()
    };
    let before = lab.login("alice@acme.example").await;
    let old_jag = lab.id_jag(&before.id_token).await;
    let rotated: Value = lab.admin(Method::POST, "/api/admin/keys/rotate").send().await.unwrap().json().await.unwrap();
    let new_kid = rotated["kid"].as_str().unwrap().to_owned();
    let clock = |advance: i64| lab.admin(Method::POST, "/api/admin/clock").json(&json!({ "advance": advance })).send();
    assert_eq!(clock(7200).await.unwrap().status(), 200);
    assert_eq!(kids().await, vec![new_kid.clone()], "two hours on, its tokens have expired");
    assert_eq!(clock(-7200).await.unwrap().status(), 200, "back to the wall clock");
    assert_eq!(kids().await, [new_kid, "idp-2026-01".to_owned()], "the old key is published again");
    assert_eq!(lab.as_token(&lab.bearer_params(&old_jag)).await.status(), 200, "its ID-JAG still redeems");
}
