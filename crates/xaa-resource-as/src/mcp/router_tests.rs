//! The MCP endpoint's refusals, through the todo API's router in process: the order of the gate
//! (body size, bearer token, `Accept`), each refusal a JSON-RPC error with the RFC 6750 challenge.

use axum::body::Body;
use axum::http::{Method, Request, header};

use crate::test_support::{TODO_API, TODO_MCP, access_token, send, todo_router};
use crate::{SCOPE_MCP, SCOPE_READ};

const BOTH: &str = "application/json, text/event-stream";

fn post(bearer: Option<&str>, accept: &str, body: impl Into<Body>) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, accept);
    if let Some(t) = bearer {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    req.body(body.into()).unwrap()
}

fn call(tool: &str) -> String {
    serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": {}}})
        .to_string()
}

fn mcp_token() -> String {
    access_token(TODO_MCP, &format!("{SCOPE_READ} {SCOPE_MCP}"))
}

#[tokio::test]
async fn no_token_is_401_unauthorized() {
    insta::assert_snapshot!(send(todo_router(), post(None, BOTH, call("list_todos"))).await, @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: Bearer realm="todo-mcp", resource_metadata="http://todo.test/.well-known/oauth-protected-resource/mcp"
    x-content-type-options: nosniff

    {"jsonrpc":"2.0","error":{"code":-32000,"message":"Unauthorized: No access token provided"},"id":null}
    "#);
}

#[tokio::test]
async fn an_oversized_body_is_413_before_the_token_is_looked_at() {
    let body = vec![b' '; 256 * 1024 + 1];
    insta::assert_snapshot!(send(todo_router(), post(None, BOTH, body)).await, @r#"
    413 Payload Too Large
    content-type: application/json
    x-content-type-options: nosniff

    {"jsonrpc":"2.0","error":{"code":-32000,"message":"Payload Too Large: a JSON-RPC message may have at most 262144 bytes"},"id":null}
    "#);
}

#[tokio::test]
async fn a_token_for_the_rest_api_is_invalid_here() {
    let token = access_token(TODO_API, &format!("{SCOPE_READ} {SCOPE_MCP}"));
    insta::assert_snapshot!(send(todo_router(), post(Some(&token), BOTH, call("list_todos"))).await, @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: Bearer realm="todo-mcp", resource_metadata="http://todo.test/.well-known/oauth-protected-resource/mcp", error="invalid_token", error_description="the access token aud is 'http://todo.test'; it must be 'http://todo.test/mcp' (a string, or an array of exactly that one value) (RFC 9068 Section 4)"
    x-content-type-options: nosniff

    {"jsonrpc":"2.0","error":{"code":-32000,"message":"Invalid or expired access token","data":{"error":"invalid_token","error_description":"the access token aud is \"http://todo.test\"; it must be \"http://todo.test/mcp\" (a string, or an array of exactly that one value) (RFC 9068 §4)"}},"id":null}
    "#);
}

#[tokio::test]
async fn a_token_without_mcp_access_is_insufficient_scope() {
    let token = access_token(TODO_MCP, SCOPE_READ);
    insta::assert_snapshot!(send(todo_router(), post(Some(&token), BOTH, call("list_todos"))).await, @r#"
    403 Forbidden
    content-type: application/json
    www-authenticate: Bearer realm="todo-mcp", resource_metadata="http://todo.test/.well-known/oauth-protected-resource/mcp", error="insufficient_scope", error_description="this request needs scope 'todos.read mcp.access'; the access token has 'todos.read' (RFC 6750 Section 3.1)", scope="todos.read mcp.access"
    x-content-type-options: nosniff

    {"jsonrpc":"2.0","error":{"code":-32000,"message":"Forbidden: insufficient scope: this request needs scope \"todos.read mcp.access\"; the access token has \"todos.read\" (RFC 6750 §3.1)","data":{"error":"insufficient_scope","error_description":"this request needs scope \"todos.read mcp.access\"; the access token has \"todos.read\" (RFC 6750 §3.1)"}},"id":null}
    "#);
}

#[tokio::test]
async fn calling_a_writing_tool_needs_todos_write_as_well() {
    insta::assert_snapshot!(send(todo_router(), post(Some(&mcp_token()), BOTH, call("create_todo"))).await, @r#"
    403 Forbidden
    content-type: application/json
    www-authenticate: Bearer realm="todo-mcp", resource_metadata="http://todo.test/.well-known/oauth-protected-resource/mcp", error="insufficient_scope", error_description="this request needs scope 'todos.read mcp.access todos.write'; the access token has 'todos.read mcp.access' (RFC 6750 Section 3.1)", scope="todos.read mcp.access todos.write"
    x-content-type-options: nosniff

    {"jsonrpc":"2.0","error":{"code":-32000,"message":"Forbidden: insufficient scope: this request needs scope \"todos.read mcp.access todos.write\"; the access token has \"todos.read mcp.access\" (RFC 6750 §3.1)","data":{"error":"insufficient_scope","error_description":"this request needs scope \"todos.read mcp.access todos.write\"; the access token has \"todos.read mcp.access\" (RFC 6750 §3.1)"}},"id":null}
    "#);
}

#[tokio::test]
async fn two_tokens_are_a_bad_request() {
    let mut req = post(Some(&mcp_token()), BOTH, call("list_todos"));
    let again = req.headers()[header::AUTHORIZATION].clone();
    req.headers_mut().append(header::AUTHORIZATION, again);
    insta::assert_snapshot!(send(todo_router(), req).await, @r#"
    400 Bad Request
    content-type: application/json
    www-authenticate: Bearer realm="todo-mcp", resource_metadata="http://todo.test/.well-known/oauth-protected-resource/mcp", error="invalid_request", error_description="more than one access token was sent; use exactly one method (RFC 6750 Section 2)"
    x-content-type-options: nosniff

    {"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: more than one access token was sent; use exactly one method (RFC 6750 §2)","data":{"error":"invalid_request","error_description":"more than one access token was sent; use exactly one method (RFC 6750 §2)"}},"id":null}
    "#);
}

#[tokio::test]
async fn accepting_only_json_is_406_after_a_valid_token() {
    let req = post(Some(&mcp_token()), "application/json", call("list_todos"));
    insta::assert_snapshot!(send(todo_router(), req).await, @r#"
    406 Not Acceptable
    content-type: application/json
    x-content-type-options: nosniff

    {"jsonrpc":"2.0","error":{"code":-32000,"message":"Not Acceptable: Client must accept both application/json and text/event-stream"},"id":null}
    "#);
}
