//! The todo API with DPoP-bound access tokens (RFC 9449 §7.1), through its router in process: the
//! `DPoP` scheme with a proof of the request made with the token's key passes; everything else is
//! refused with the exact status, challenge and body. Key thumbprints change every run, so the
//! snapshots show them as `[jkt]` (the token's key) and `[other jkt]`.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use xaa_core::dpop::{DpopKey, ProofBuilder};

use crate::test_support::{
    NOW, TODO_API, TODO_MCP, access_token, bound_access_token, dpop_key, proof, send, send_checked, todo_router,
};
use crate::{SCOPE_MCP, SCOPE_READ};

/// `POST /mcp` with the JSON-RPC `body`, `Authorization: {scheme} {token}` and a `DPoP` header
/// per proof.
fn post_mcp(scheme: &str, token: &str, proofs: &[&str], body: &str) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header(header::HOST, "todo.test")
        .header(header::AUTHORIZATION, format!("{scheme} {token}"))
        .header(header::ACCEPT, "application/json, text/event-stream")
        .header(header::CONTENT_TYPE, "application/json");
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    req.body(Body::from(body.to_owned())).unwrap()
}

const TOOLS_LIST: &str = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#;
const CREATE_TODO: &str =
    r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"create_todo","arguments":{"title":"x"}}}"#;

/// A token for the MCP server with `todos.read mcp.access`, bound to `key`.
fn bound_mcp(key: &DpopKey) -> String {
    bound_access_token(TODO_MCP, &format!("{SCOPE_READ} {SCOPE_MCP}"), key.thumbprint())
}

const TODOS: &str = "http://todo.test/api/todos";

/// `GET /api/todos` with `Authorization: {scheme} {token}` and a `DPoP` header per proof.
fn get_todos(scheme: &str, token: &str, proofs: &[&str]) -> Request<Body> {
    let mut req = Request::builder().method(Method::GET).uri("/api/todos");
    req = req.header(header::AUTHORIZATION, format!("{scheme} {token}"));
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    req.body(Body::empty()).unwrap()
}

/// A read token bound to `key`.
fn bound(key: &DpopKey) -> String {
    bound_access_token(TODO_API, SCOPE_READ, key.thumbprint())
}

/// `text` with the thumbprints of `key` and `other` replaced by `[jkt]` and `[other jkt]`.
fn redact(text: &str, key: &DpopKey, other: Option<&DpopKey>) -> String {
    let text = text.replace(key.thumbprint(), "[jkt]");
    other.map_or(text.clone(), |o| text.replace(o.thumbprint(), "[other jkt]"))
}

/// The access token's checks, then those of a valid proof with an access token.
const TOKEN_CHECKS: &str = "format alg typ iss signature aud exp iat";
const PROOF_CHECKS: &str =
    "dpop-format dpop-typ dpop-alg dpop-jwk dpop-signature dpop-htm dpop-htu dpop-iat dpop-ath dpop-jti";

#[tokio::test]
async fn a_bound_token_with_the_dpop_scheme_and_a_proof_of_its_key_passes() {
    let key = dpop_key();
    let token = bound(&key);
    let proof = proof(&key, "GET", TODOS, "p-1", Some(&token));
    let (resp, checks) = send_checked(todo_router(), get_todos("DPoP", &token, &[&proof])).await;
    assert!(resp.starts_with("200 OK"), "{resp}");
    assert_eq!(checks, format!("{TOKEN_CHECKS} {PROOF_CHECKS} cnf scope"));
}

#[tokio::test]
async fn a_bound_token_sent_as_bearer_is_invalid_token_with_a_dpop_challenge() {
    let key = dpop_key();
    let (resp, checks) = send_checked(todo_router(), get_todos("Bearer", &bound(&key), &[])).await;
    assert_eq!(checks, format!("{TOKEN_CHECKS} ✗ cnf"));
    insta::assert_snapshot!(redact(&resp, &key, None), @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: DPoP realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="invalid_token", error_description="the access token is bound to the DPoP key with thumbprint cnf.jkt '[jkt]': send it as Authorization: DPoP <access token> with a DPoP proof of that key, not as a Bearer token (RFC 9449 Section 7.1)", algs="ES256 PS256 RS256 EdDSA"
    x-content-type-options: nosniff
    content-length: 294

    {"success":false,"error":"invalid_token","error_description":"the access token is bound to the DPoP key with thumbprint cnf.jkt \"[jkt]\": send it as Authorization: DPoP <access token> with a DPoP proof of that key, not as a Bearer token (RFC 9449 §7.1)"}
    "#);
}

#[tokio::test]
async fn a_bound_token_without_a_proof_is_invalid_dpop_proof() {
    let key = dpop_key();
    insta::assert_snapshot!(redact(&send(todo_router(), get_todos("DPoP", &bound(&key), &[])).await, &key, None), @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: DPoP realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="invalid_dpop_proof", error_description="the request carries no DPoP proof: a DPoP-bound access token is sent with a DPoP header holding a proof of the key it is bound to (RFC 9449 Section 7.1)", algs="ES256 PS256 RS256 EdDSA"
    x-content-type-options: nosniff
    content-length: 215

    {"success":false,"error":"invalid_dpop_proof","error_description":"the request carries no DPoP proof: a DPoP-bound access token is sent with a DPoP header holding a proof of the key it is bound to (RFC 9449 §7.1)"}
    "#);
}

#[tokio::test]
async fn a_proof_of_another_key_is_invalid_token() {
    let (key, other) = (dpop_key(), dpop_key());
    let token = bound(&key);
    let proof = proof(&other, "GET", TODOS, "p-1", Some(&token));
    let (resp, checks) = send_checked(todo_router(), get_todos("DPoP", &token, &[&proof])).await;
    assert_eq!(checks, format!("{TOKEN_CHECKS} {PROOF_CHECKS} ✗ cnf"));
    insta::assert_snapshot!(redact(&resp, &key, Some(&other)), @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: DPoP realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="invalid_token", error_description="the access token is bound to the DPoP key with thumbprint cnf.jkt '[jkt]' but the DPoP proof is signed with the key with thumbprint '[other jkt]'; a DPoP-bound token is presented with a proof of the key it is bound to (RFC 9449 Section 4.3 item 12, Section 6)", algs="ES256 PS256 RS256 EdDSA"
    x-content-type-options: nosniff
    content-length: 385

    {"success":false,"error":"invalid_token","error_description":"the access token is bound to the DPoP key with thumbprint cnf.jkt \"[jkt]\" but the DPoP proof is signed with the key with thumbprint \"[other jkt]\"; a DPoP-bound token is presented with a proof of the key it is bound to (RFC 9449 §4.3 item 12, §6)"}
    "#);
}

#[tokio::test]
async fn a_proof_of_another_request_is_invalid_dpop_proof() {
    let key = dpop_key();
    let token = bound(&key);
    let proof = proof(&key, "GET", "http://todo.test/api/todos/stats", "p-1", Some(&token));
    insta::assert_snapshot!(redact(&send(todo_router(), get_todos("DPoP", &token, &[&proof])).await, &key, None), @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: DPoP realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="invalid_dpop_proof", error_description="the DPoP proof's htu is 'http://todo.test/api/todos/stats', not 'http://todo.test/api/todos' (compared without query and fragment, scheme and host case-insensitively, default ports omitted) (RFC 9449 Section 4.3 item 9)", algs="ES256 PS256 RS256 EdDSA"
    x-content-type-options: nosniff
    content-length: 286

    {"success":false,"error":"invalid_dpop_proof","error_description":"the DPoP proof's htu is \"http://todo.test/api/todos/stats\", not \"http://todo.test/api/todos\" (compared without query and fragment, scheme and host case-insensitively, default ports omitted) (RFC 9449 §4.3 item 9)"}
    "#);
}

#[tokio::test]
async fn a_proof_without_the_tokens_hash_is_invalid_dpop_proof() {
    let key = dpop_key();
    let token = bound(&key);
    let proof = ProofBuilder::new("GET", TODOS, NOW, "p-1").sign(&key).unwrap();
    insta::assert_snapshot!(redact(&send(todo_router(), get_todos("DPoP", &token, &[&proof])).await, &key, None), @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: DPoP realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="invalid_dpop_proof", error_description="the DPoP proof has no ath claim, but it comes with an access token: a proof sent with an access token carries the token's hash (RFC 9449 Section 4.3 item 12, Section 4.2)", algs="ES256 PS256 RS256 EdDSA"
    x-content-type-options: nosniff
    content-length: 227

    {"success":false,"error":"invalid_dpop_proof","error_description":"the DPoP proof has no ath claim, but it comes with an access token: a proof sent with an access token carries the token's hash (RFC 9449 §4.3 item 12, §4.2)"}
    "#);
}

#[tokio::test]
async fn a_replayed_proof_is_invalid_dpop_proof() {
    let router: Router = todo_router();
    let key = dpop_key();
    let token = bound(&key);
    let proof = proof(&key, "GET", TODOS, "p-1", Some(&token));
    let first = send(router.clone(), get_todos("DPoP", &token, &[&proof])).await;
    assert!(first.starts_with("200 OK"), "{first}");
    insta::assert_snapshot!(redact(&send(router, get_todos("DPoP", &token, &[&proof])).await, &key, None), @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: DPoP realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="invalid_dpop_proof", error_description="the DPoP proof's jti 'p-1' was already used: a proof is accepted only once (RFC 9449 Section 11.1)", algs="ES256 PS256 RS256 EdDSA"
    x-content-type-options: nosniff
    content-length: 163

    {"success":false,"error":"invalid_dpop_proof","error_description":"the DPoP proof's jti \"p-1\" was already used: a proof is accepted only once (RFC 9449 §11.1)"}
    "#);
}

#[tokio::test]
async fn an_unbound_token_with_the_dpop_scheme_is_invalid_token() {
    let key = dpop_key();
    let token = access_token(TODO_API, SCOPE_READ);
    let proof = proof(&key, "GET", TODOS, "p-1", Some(&token));
    insta::assert_snapshot!(send(todo_router(), get_todos("DPoP", &token, &[&proof])).await, @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: Bearer realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="invalid_token", error_description="the access token is bound to no DPoP key (it has no cnf claim): send it as Authorization: Bearer <access token> (RFC 9449 Section 7.1)"
    x-content-type-options: nosniff
    content-length: 192

    {"success":false,"error":"invalid_token","error_description":"the access token is bound to no DPoP key (it has no cnf claim): send it as Authorization: Bearer <access token> (RFC 9449 §7.1)"}
    "#);
}

#[tokio::test]
async fn an_unbound_bearer_token_needs_no_proof() {
    let (resp, checks) =
        send_checked(todo_router(), get_todos("Bearer", &access_token(TODO_API, SCOPE_READ), &[])).await;
    assert!(resp.starts_with("200 OK"), "{resp}");
    assert_eq!(checks, format!("{TOKEN_CHECKS} scope"));
}

#[tokio::test]
async fn a_bound_token_lacking_scope_gets_a_dpop_challenge() {
    let key = dpop_key();
    let token = bound(&key);
    let req = Request::builder()
        .method(Method::DELETE)
        .uri("/api/todos/1")
        .header(header::AUTHORIZATION, format!("DPoP {token}"))
        .header("DPoP", proof(&key, "DELETE", "http://todo.test/api/todos/1", "p-1", Some(&token)))
        .body(Body::empty())
        .unwrap();
    insta::assert_snapshot!(redact(&send(todo_router(), req).await, &key, None), @r#"
    403 Forbidden
    content-type: application/json
    www-authenticate: DPoP realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="insufficient_scope", error_description="this request needs scope 'todos.write'; the access token has 'todos.read' (RFC 6750 Section 3.1)", scope="todos.write", algs="ES256 PS256 RS256 EdDSA"
    x-content-type-options: nosniff
    content-length: 163

    {"success":false,"error":"insufficient_scope","error_description":"this request needs scope \"todos.write\"; the access token has \"todos.read\" (RFC 6750 §3.1)"}
    "#);
}

#[tokio::test]
async fn the_mcp_server_refuses_a_bound_token_sent_as_bearer() {
    let key = dpop_key();
    let req = post_mcp("Bearer", &bound_mcp(&key), &[], TOOLS_LIST);
    insta::assert_snapshot!(redact(&send(todo_router(), req).await, &key, None), @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: DPoP realm="todo-mcp", resource_metadata="http://todo.test/.well-known/oauth-protected-resource/mcp", error="invalid_token", error_description="the access token is bound to the DPoP key with thumbprint cnf.jkt '[jkt]': send it as Authorization: DPoP <access token> with a DPoP proof of that key, not as a Bearer token (RFC 9449 Section 7.1)", algs="ES256 PS256 RS256 EdDSA"
    x-content-type-options: nosniff

    {"jsonrpc":"2.0","error":{"code":-32000,"message":"Invalid or expired access token","data":{"error":"invalid_token","error_description":"the access token is bound to the DPoP key with thumbprint cnf.jkt \"[jkt]\": send it as Authorization: DPoP <access token> with a DPoP proof of that key, not as a Bearer token (RFC 9449 §7.1)"}},"id":null}
    "#);
}

// ---- the MCP server: the same gate, JSON-RPC refusals ----

#[tokio::test]
async fn the_mcp_server_takes_a_bound_token_with_a_proof_of_its_key() {
    let key = dpop_key();
    let token = bound_mcp(&key);
    let proof = proof(&key, "POST", TODO_MCP, "p-1", Some(&token));
    let (resp, checks) = send_checked(todo_router(), post_mcp("DPoP", &token, &[&proof], TOOLS_LIST)).await;
    assert!(resp.starts_with("200 OK"), "{resp}");
    assert!(resp.contains(r#""name":"list_todos""#), "{resp}");
    assert_eq!(checks, format!("{TOKEN_CHECKS} {PROOF_CHECKS} cnf scope"));
}

#[tokio::test]
async fn the_mcp_server_refuses_a_replayed_proof_as_invalid_dpop_proof() {
    let router = todo_router();
    let key = dpop_key();
    let token = bound_mcp(&key);
    let proof = proof(&key, "POST", TODO_MCP, "p-1", Some(&token));
    let first = send(router.clone(), post_mcp("DPoP", &token, &[&proof], TOOLS_LIST)).await;
    assert!(first.starts_with("200 OK"), "{first}");
    insta::assert_snapshot!(redact(&send(router, post_mcp("DPoP", &token, &[&proof], TOOLS_LIST)).await, &key, None), @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: DPoP realm="todo-mcp", resource_metadata="http://todo.test/.well-known/oauth-protected-resource/mcp", error="invalid_dpop_proof", error_description="the DPoP proof's jti 'p-1' was already used: a proof is accepted only once (RFC 9449 Section 11.1)", algs="ES256 PS256 RS256 EdDSA"
    x-content-type-options: nosniff

    {"jsonrpc":"2.0","error":{"code":-32000,"message":"Invalid DPoP proof","data":{"error":"invalid_dpop_proof","error_description":"the DPoP proof's jti \"p-1\" was already used: a proof is accepted only once (RFC 9449 §11.1)"}},"id":null}
    "#);
}

#[tokio::test]
async fn the_mcp_server_challenges_a_bound_token_lacking_todos_write_with_dpop() {
    let key = dpop_key();
    let token = bound_mcp(&key);
    let proof = proof(&key, "POST", TODO_MCP, "p-1", Some(&token));
    insta::assert_snapshot!(redact(&send(todo_router(), post_mcp("DPoP", &token, &[&proof], CREATE_TODO)).await, &key, None), @r#"
    403 Forbidden
    content-type: application/json
    www-authenticate: DPoP realm="todo-mcp", resource_metadata="http://todo.test/.well-known/oauth-protected-resource/mcp", error="insufficient_scope", error_description="this request needs scope 'todos.read mcp.access todos.write'; the access token has 'todos.read mcp.access' (RFC 6750 Section 3.1)", scope="todos.read mcp.access todos.write", algs="ES256 PS256 RS256 EdDSA"
    x-content-type-options: nosniff

    {"jsonrpc":"2.0","error":{"code":-32000,"message":"Forbidden: insufficient scope: this request needs scope \"todos.read mcp.access todos.write\"; the access token has \"todos.read mcp.access\" (RFC 6750 §3.1)","data":{"error":"insufficient_scope","error_description":"this request needs scope \"todos.read mcp.access todos.write\"; the access token has \"todos.read mcp.access\" (RFC 6750 §3.1)"}},"id":null}
    "#);
}
