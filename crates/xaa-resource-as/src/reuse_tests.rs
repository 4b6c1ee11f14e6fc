//! Lab decision A2 where it lives: each resource's ID-JAG re-use policy, set, refused and stored,
//! and the jwt-bearer grant obeying it, through the authorization server's router in process.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::Value;
use tower::ServiceExt;
use xaa_core::validation::CheckLog;

use crate::reuse::{ReuseError, ReusePolicy};
use crate::state::AsState;
use crate::test_support::{TODO_API, TODO_MCP, as_state, id_jag, send};

/// `app-at-todo0:s3cret`, the test client's Basic credentials.
const BASIC: &str = "Basic YXBwLWF0LXRvZG8wOnMzY3JldA==";
const JWT_BEARER: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";

fn token_request(assertion: &str, extra: &str) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::AUTHORIZATION, BASIC)
        .body(Body::from(format!("grant_type={JWT_BEARER}&assertion={assertion}{extra}")))
        .unwrap()
}

/// A granted access token response (its JSON) and the detail of its passed `jti` check.
async fn granted(st: &Arc<AsState>, assertion: &str, extra: &str) -> (Value, String) {
    let resp = crate::authz_router(st.clone()).oneshot(token_request(assertion, extra)).await.unwrap();
    assert_eq!(resp.status(), 200);
    let jti = resp.extensions().get::<CheckLog>().unwrap().checks().iter().rfind(|c| c.name == "jti").cloned().unwrap();
    assert!(jti.passed, "{jti:?}");
    let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    (serde_json::from_slice(&body).unwrap(), format!("{} ({})", jti.detail, jti.spec))
}

/// The whole answer to a token request that is refused.
async fn refused(st: &Arc<AsState>, assertion: &str) -> String {
    send(crate::authz_router(st.clone()), token_request(assertion, "")).await
}

#[tokio::test]
async fn every_resource_starts_single_use_and_a_second_presentation_is_refused() {
    let (st, _) = as_state(None);
    let labels: Vec<_> = st.reuse_policies().iter().map(|r| format!("{} {}", r.resource, r.label())).collect();
    assert_eq!(labels, ["http://todo.test single use", "http://todo.test/mcp single use (MCP profile)"]);
    let jag = id_jag("j-1", TODO_API, "todos.read");
    let (_, jti) = granted(&st, &jag, "").await;
    insta::assert_snapshot!(jti, @"jti not seen before; recorded until exp + leeway (lab decision A2, MCP enterprise-managed authorization, RFC 7523 §3 item 7)");
    insta::assert_snapshot!(refused(&st, &jag).await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 225

    {"error":"invalid_grant","error_description":"the ID-JAG with jti 'j-1' was already used; this authorization server accepts each ID-JAG once (lab decision A2, MCP enterprise-managed authorization, RFC 7523 Section 3 item 7)"}
    "#);
}

#[tokio::test]
async fn re_use_until_exp_gives_the_same_client_a_fresh_access_token_each_time() {
    let (st, clock) = as_state(None);
    let set = st.set_reuse_policy(TODO_API, ReusePolicy::ReusableUntilExp).await.unwrap();
    assert_eq!((set.policy, set.label()), (ReusePolicy::ReusableUntilExp, "re-usable until exp"));
    let jag = id_jag("j-2", TODO_API, "todos.read todos.write");
    let (first, jti) = granted(&st, &jag, "").await;
    insta::assert_snapshot!(jti, @"jti not seen before; recorded until exp + leeway, and this resource's policy lets the same client re-submit it until then (lab decision A2, draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.3)");
    let (second, jti) = granted(&st, &jag, "").await;
    insta::assert_snapshot!(jti, @r#"re-submission of the ID-JAG with jti "j-2", allowed by this resource's policy (re-usable until exp) (lab decision A2, draft-ietf-oauth-identity-assertion-authz-grant-04 §4.4.3)"#);
    assert_ne!(first["access_token"], second["access_token"], "a fresh access token");
    // A re-submission may narrow the grant differently: it is computed from the ID-JAG each time.
    let (narrowed, _) = granted(&st, &jag, "&scope=todos.read").await;
    assert_eq!(
        (narrowed["scope"].as_str(), second["scope"].as_str()),
        (Some("todos.read"), Some("todos.read todos.write"))
    );
    // Until exp (+ leeway): then the exp check refuses it first.
    clock.advance(300 + xaa_core::JWT_LEEWAY + 1);
    let expired = refused(&st, &jag).await;
    assert!(expired.contains("\"error\":\"invalid_grant\"") && expired.contains("expired"), "{expired}");
}

#[tokio::test]
async fn an_id_jag_used_under_single_use_stays_used_when_re_use_is_allowed_later() {
    let (st, _) = as_state(None);
    let jag = id_jag("j-3", TODO_API, "todos.read");
    granted(&st, &jag, "").await;
    st.set_reuse_policy(TODO_API, ReusePolicy::ReusableUntilExp).await.unwrap();
    insta::assert_snapshot!(refused(&st, &jag).await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 264

    {"error":"invalid_grant","error_description":"the ID-JAG with jti 'j-3' was already used while single use applied to it; only an ID-JAG first used for a resource that allows re-use may be re-submitted: get a fresh one (lab decision A2, RFC 7523 Section 3 item 7)"}
    "#);
    // And back to single use: an ID-JAG first used under re-use is refused again, as single use refuses.
    let jag = id_jag("j-4", TODO_API, "todos.read");
    granted(&st, &jag, "").await;
    st.set_reuse_policy(TODO_API, ReusePolicy::SingleUse).await.unwrap();
    assert!(refused(&st, &jag).await.contains("accepts each ID-JAG once"));
}

#[tokio::test]
async fn the_mcp_server_stays_single_use() {
    let (st, _) = as_state(None);
    let refusal = st.set_reuse_policy(TODO_MCP, ReusePolicy::ReusableUntilExp).await.unwrap_err();
    insta::assert_snapshot!(refusal, @"http://todo.test/mcp is an MCP server: the MCP profile requires refusing a replayed ID-JAG, so it stays single use");
    let kept = st.set_reuse_policy(TODO_MCP, ReusePolicy::SingleUse).await.unwrap();
    assert_eq!((kept.policy, kept.label()), (ReusePolicy::SingleUse, "single use (MCP profile)"));
    // Re-use of the todo API does not reach the MCP server.
    st.set_reuse_policy(TODO_API, ReusePolicy::ReusableUntilExp).await.unwrap();
    let jag = id_jag("j-5", TODO_MCP, "todos.read mcp.access");
    granted(&st, &jag, "").await;
    assert!(
        refused(&st, &jag)
            .await
            .contains("the ID-JAG with jti 'j-5' was already used; this authorization server accepts each ID-JAG once")
    );
}

#[tokio::test]
async fn bad_input_is_refused_with_an_exact_message() {
    let (st, _) = as_state(None);
    let unknown = st.set_reuse_policy("http://other.test", ReusePolicy::ReusableUntilExp).await.unwrap_err();
    insta::assert_snapshot!(unknown, @r#""http://other.test" is not a resource of this authorization server (its resources: http://todo.test http://todo.test/mcp)"#);
    insta::assert_snapshot!(ReusePolicy::parse("forever").unwrap_err(), @r#"policy "forever" is unknown: use single_use or reuse_until_exp"#);
    assert_eq!(ReusePolicy::parse("reuse_until_exp").unwrap(), ReusePolicy::ReusableUntilExp);
    assert!(st.reuse_policies().iter().all(|r| r.policy == ReusePolicy::SingleUse), "nothing changed");
}

#[tokio::test]
async fn the_policy_survives_a_restart_and_a_failed_write_changes_nothing() {
    let path = std::env::temp_dir().join(format!("xaa-reuse-{}.sqlite", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let (st, _) = as_state(Some(&path));
    st.set_reuse_policy(TODO_API, ReusePolicy::ReusableUntilExp).await.unwrap();
    drop(st);
    let (again, _) = as_state(Some(&path));
    assert_eq!(again.reuse_policy(TODO_API).unwrap().policy, ReusePolicy::ReusableUntilExp, "read back");

    rusqlite::Connection::open(&path).unwrap().execute_batch("DROP TABLE reuse_policies").unwrap();
    let failed = again.set_reuse_policy(TODO_API, ReusePolicy::SingleUse).await.unwrap_err();
    assert!(matches!(failed, ReuseError::Storage(_)), "{failed}");
    assert_eq!(again.reuse_policy(TODO_API).unwrap().policy, ReusePolicy::ReusableUntilExp, "memory unchanged");
    let _ = std::fs::remove_file(&path);
}

#[tokio::test]
async fn a_reset_makes_every_resource_single_use_again() {
    let (st, _) = as_state(None);
    st.set_reuse_policy(TODO_API, ReusePolicy::ReusableUntilExp).await.unwrap();
    let was = st.reset_reuse_policies().await.unwrap();
    assert_eq!(was.iter().map(|r| r.as_str()).collect::<Vec<_>>(), [TODO_API]);
    assert!(st.reuse_policies().iter().all(|r| r.policy == ReusePolicy::SingleUse));
}

/// The metadata publishes each resource's policy in the lab's own member, as it is when asked.
#[tokio::test]
async fn the_metadata_publishes_each_resources_policy_in_the_labs_own_member() {
    let (st, _) = as_state(None);
    let member = |st: &Arc<AsState>| {
        let st = st.clone();
        async move {
            let get = Request::builder().uri("/.well-known/oauth-authorization-server").body(Body::empty()).unwrap();
            let resp = crate::authz_router(st).oneshot(get).await.unwrap();
            assert_eq!(resp.status(), 200);
            let body = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
            serde_json::from_slice::<Value>(&body).unwrap()["xaa_lab_id_jag_reuse"].to_string()
        }
    };
    insta::assert_snapshot!(member(&st).await, @r#"{"http://todo.test":"single_use","http://todo.test/mcp":"single_use"}"#);
    st.set_reuse_policy(TODO_API, ReusePolicy::ReusableUntilExp).await.unwrap();
    insta::assert_snapshot!(member(&st).await, @r#"{"http://todo.test":"reuse_until_exp","http://todo.test/mcp":"single_use"}"#);
}
