//! `POST /token` with DPoP (RFC 9449 §5), through the authorization server's router in process:
//! the proof is checked before the ID-JAG, the four `cnf` cases of draft-04 §9.8.1.2, the
//! DPoP-bound access token and its introspection. Key thumbprints change every run, so the
//! snapshots show them as `[jkt]` (the proof's key) and `[other jkt]`.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};
use xaa_core::dpop::{DpopKey, ProofBuilder};
use xaa_core::jose::UnverifiedJwt;

use crate::test_support::{AS_ISSUER, NOW, TODO_API, as_state, dpop_key, id_jag_with, proof, send, send_checked};

/// The authorization server, trusting the test IdP's ID-JAGs.
fn as_router() -> Router {
    crate::authz_router(as_state(None).0)
}

/// An ID-JAG for the todo API with `todos.read`, with the claims of `extra` added.
fn id_jag(jti: &str, extra: Value) -> String {
    id_jag_with(jti, TODO_API, "todos.read", extra)
}

/// `app-at-todo0:s3cret`, the test client's Basic credentials.
const BASIC: &str = "Basic YXBwLWF0LXRvZG8wOnMzY3JldA==";
const JWT_BEARER: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";

fn token_url() -> String {
    format!("{AS_ISSUER}/token")
}

/// A jwt-bearer request presenting `assertion`, with a `DPoP` header field per proof.
fn jwt_bearer(assertion: &str, proofs: &[&str]) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::AUTHORIZATION, BASIC);
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    req.body(Body::from(format!("grant_type={JWT_BEARER}&assertion={assertion}"))).unwrap()
}

/// A valid proof of `POST {AS}/token` made with `key`.
fn token_proof(key: &DpopKey, jti: &str) -> String {
    proof(key, "POST", &token_url(), jti, None)
}

/// `text` with the thumbprints of `key` and `other` replaced by `[jkt]` and `[other jkt]`.
fn redact(text: &str, key: &DpopKey, other: Option<&DpopKey>) -> String {
    let text = text.replace(key.thumbprint(), "[jkt]");
    other.map_or(text.clone(), |o| text.replace(o.thumbprint(), "[other jkt]"))
}

/// The granted response: `token_type` and the access token's `cnf`, after asserting a 200.
fn granted(rendered: &str) -> (Value, Value) {
    assert!(rendered.starts_with("200 OK"), "{rendered}");
    let body: Value = serde_json::from_str(rendered.split("\n\n").nth(1).unwrap()).unwrap();
    let at = body["access_token"].as_str().unwrap();
    let claims = UnverifiedJwt::parse(at).unwrap().unverified_claims().clone();
    (body["token_type"].clone(), claims.get("cnf").cloned().unwrap_or(Value::Null))
}

/// The checks every accepted proof passes, in order.
const PROOF_CHECKS: &str = "dpop-format dpop-typ dpop-alg dpop-jwk dpop-signature dpop-htm dpop-htu dpop-iat dpop-jti";
/// The ID-JAG's checks up to `sub`.
const ID_JAG_CHECKS: &str = "format alg typ iss kid signature aud client_id exp iat jti sub";

// ---- the four cases of draft-04 §9.8.1.2 ----

#[tokio::test]
async fn case_1_cnf_and_a_proof_of_its_key_get_a_dpop_bound_token() {
    let key = dpop_key();
    let jag = id_jag("jag-1", json!({ "cnf": { "jkt": key.thumbprint() } }));
    let (resp, checks) = send_checked(as_router(), jwt_bearer(&jag, &[&token_proof(&key, "p-1")])).await;
    let (token_type, cnf) = granted(&resp);
    assert_eq!((token_type, cnf), (json!("DPoP"), json!({ "jkt": key.thumbprint() })));
    assert_eq!(checks, format!("client {PROOF_CHECKS} {ID_JAG_CHECKS} cnf tenant resource scope jti"));
}

#[tokio::test]
async fn case_1_cnf_and_a_proof_of_another_key_is_invalid_grant() {
    let (key, other) = (dpop_key(), dpop_key());
    let jag = id_jag("jag-1", json!({ "cnf": { "jkt": key.thumbprint() } }));
    let (resp, checks) = send_checked(as_router(), jwt_bearer(&jag, &[&token_proof(&other, "p-1")])).await;
    assert_eq!(checks, format!("client {PROOF_CHECKS} {ID_JAG_CHECKS} ✗ cnf"));
    insta::assert_snapshot!(redact(&resp, &key, Some(&other)), @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 426

    {"error":"invalid_grant","error_description":"the ID-JAG is bound to the DPoP key with thumbprint cnf.jkt '[jkt]' but the DPoP proof is signed with the key with thumbprint '[other jkt]'; a DPoP-bound ID-JAG must be presented with a proof of the key it is bound to (draft-ietf-oauth-identity-assertion-authz-grant-04 Section 9.8.1.2.1, RFC 9449 Section 6)"}
    "#);
}

#[tokio::test]
async fn case_2_cnf_without_a_proof_is_invalid_grant() {
    let key = dpop_key();
    let jag = id_jag("jag-1", json!({ "cnf": { "jkt": key.thumbprint() } }));
    let (resp, checks) = send_checked(as_router(), jwt_bearer(&jag, &[])).await;
    assert_eq!(checks, format!("client {ID_JAG_CHECKS} ✗ cnf"));
    insta::assert_snapshot!(redact(&resp, &key, None), @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 348

    {"error":"invalid_grant","error_description":"the ID-JAG is bound to the DPoP key with thumbprint cnf.jkt '[jkt]' but the request carries no DPoP proof; a DPoP-bound ID-JAG must be presented with a proof of that key (draft-ietf-oauth-identity-assertion-authz-grant-04 Section 9.8.1.2.2, RFC 9449 Section 4.3)"}
    "#);
}

#[tokio::test]
async fn case_3_a_proof_without_cnf_is_validated_and_gets_a_dpop_bound_token() {
    let key = dpop_key();
    let (resp, checks) =
        send_checked(as_router(), jwt_bearer(&id_jag("jag-1", json!({})), &[&token_proof(&key, "p-1")])).await;
    let (token_type, cnf) = granted(&resp);
    assert_eq!((token_type, cnf), (json!("DPoP"), json!({ "jkt": key.thumbprint() })));
    assert_eq!(checks, format!("client {PROOF_CHECKS} {ID_JAG_CHECKS} cnf tenant resource scope jti"));
}

#[tokio::test]
async fn case_4_neither_gets_a_bearer_token() {
    let (resp, checks) = send_checked(as_router(), jwt_bearer(&id_jag("jag-1", json!({})), &[])).await;
    assert_eq!(granted(&resp), (json!("Bearer"), Value::Null));
    assert_eq!(checks, format!("client {ID_JAG_CHECKS} cnf tenant resource scope jti"));
}

// ---- refused proofs: 400 invalid_dpop_proof, before the ID-JAG is looked at ----

#[tokio::test]
async fn a_proof_for_another_url_is_invalid_dpop_proof() {
    let key = dpop_key();
    let wrong = proof(&key, "POST", "http://as.test/token/introspection", "p-1", None);
    let (resp, checks) = send_checked(as_router(), jwt_bearer(&id_jag("jag-1", json!({})), &[&wrong])).await;
    assert_eq!(checks, "client dpop-format dpop-typ dpop-alg dpop-jwk dpop-signature dpop-htm ✗ dpop-htu");
    insta::assert_snapshot!(resp, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 268

    {"error":"invalid_dpop_proof","error_description":"the DPoP proof's htu is 'http://as.test/token/introspection', not 'http://as.test/token' (compared without query and fragment, scheme and host case-insensitively, default ports omitted) (RFC 9449 Section 4.3 item 9)"}
    "#);
}

#[tokio::test]
async fn a_proof_too_old_for_the_servers_clock_is_invalid_dpop_proof() {
    let key = dpop_key();
    let old = ProofBuilder::new("POST", &token_url(), NOW - 301, "p-1").sign(&key).unwrap();
    insta::assert_snapshot!(send(as_router(), jwt_bearer(&id_jag("jag-1", json!({})), &[&old])).await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 205

    {"error":"invalid_dpop_proof","error_description":"the DPoP proof was created 301 s ago (iat 1699999699, now 1700000000); this server accepts proofs for 300 s (RFC 9449 Section 4.3 item 11, Section 11.1)"}
    "#);
}

#[tokio::test]
async fn two_proofs_are_invalid_dpop_proof() {
    let key = dpop_key();
    let (a, b) = (token_proof(&key, "p-1"), token_proof(&key, "p-2"));
    insta::assert_snapshot!(send(as_router(), jwt_bearer(&id_jag("jag-1", json!({})), &[&a, &b])).await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 147

    {"error":"invalid_dpop_proof","error_description":"the request carries 2 DPoP proofs; a request carries exactly one (RFC 9449 Section 4.3 item 1)"}
    "#);
}

#[tokio::test]
async fn a_proof_that_is_not_a_jwt_is_invalid_dpop_proof() {
    insta::assert_snapshot!(send(as_router(), jwt_bearer(&id_jag("jag-1", json!({})), &["not-a-proof"])).await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 169

    {"error":"invalid_dpop_proof","error_description":"the DPoP proof is not a valid JWT: a compact JWS has 3 dot-separated parts, this has 1 (RFC 9449 Section 4.3 item 2)"}
    "#);
}

#[tokio::test]
async fn a_replayed_proof_is_invalid_dpop_proof_and_burns_no_id_jag() {
    let router: Router = as_router();
    let key = dpop_key();
    let used = token_proof(&key, "p-1");
    granted(&send(router.clone(), jwt_bearer(&id_jag("jag-1", json!({})), &[&used])).await);
    let jag = id_jag("jag-2", json!({}));
    insta::assert_snapshot!(send(router.clone(), jwt_bearer(&jag, &[&used])).await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 151

    {"error":"invalid_dpop_proof","error_description":"the DPoP proof's jti 'p-1' was already used: a proof is accepted only once (RFC 9449 Section 11.1)"}
    "#);
    // The refused request never reached the ID-JAG: it is still good with a fresh proof.
    let (token_type, _) = granted(&send(router, jwt_bearer(&jag, &[&token_proof(&key, "p-2")])).await);
    assert_eq!(token_type, "DPoP");
}

// ---- the bound token, introspected; the metadata ----

#[tokio::test]
async fn introspection_reports_a_dpop_bound_token_with_its_cnf() {
    let router = as_router();
    let key = dpop_key();
    let resp = send(router.clone(), jwt_bearer(&id_jag("jag-1", json!({})), &[&token_proof(&key, "p-1")])).await;
    let body: Value = serde_json::from_str(resp.split("\n\n").nth(1).unwrap()).unwrap();
    let form = format!("token={}", body["access_token"].as_str().unwrap());
    let req = Request::builder()
        .method(Method::POST)
        .uri("/token/introspection")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::AUTHORIZATION, BASIC)
        .body(Body::from(form))
        .unwrap();
    let resp = send(router, req).await;
    let body: Value = serde_json::from_str(resp.split("\n\n").nth(1).unwrap()).unwrap();
    assert_eq!((&body["active"], &body["token_type"]), (&json!(true), &json!("DPoP")));
    assert_eq!(body["cnf"], json!({ "jkt": key.thumbprint() }));
}

#[tokio::test]
async fn the_metadata_names_the_proof_algorithms() {
    let req = Request::builder().uri("/.well-known/oauth-authorization-server").body(Body::empty()).unwrap();
    let resp = send(as_router(), req).await;
    let body: Value = serde_json::from_str(resp.split("\n\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["dpop_signing_alg_values_supported"], json!(["ES256", "PS256", "RS256", "EdDSA"]));
    assert_eq!(body["token_endpoint"], token_url());
}
