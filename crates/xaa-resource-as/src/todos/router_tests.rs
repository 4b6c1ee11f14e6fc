//! The todo API's refusals of malformed requests, through its router in process: the exact
//! status, headers (the RFC 6750 challenge) and body.

use axum::body::Body;
use axum::http::{Method, Request, header};

use crate::test_support::{TODO_API, TODO_MCP, access_token, send, todo_router};
use crate::{SCOPE_READ, SCOPE_WRITE};

fn request(method: Method, uri: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri)
}

/// A request to the REST API with a valid access token of `scope`.
fn with_token(method: Method, uri: &str, scope: &str) -> axum::http::request::Builder {
    request(method, uri).header(header::AUTHORIZATION, format!("Bearer {}", access_token(TODO_API, scope)))
}

async fn get_todos(authorization: &[&str]) -> String {
    let mut req = request(Method::GET, "/api/todos");
    for a in authorization {
        req = req.header(header::AUTHORIZATION, *a);
    }
    send(todo_router(), req.body(Body::empty()).unwrap()).await
}

#[tokio::test]
async fn no_authorization_header_is_401_with_a_bare_challenge() {
    insta::assert_snapshot!(get_todos(&[]).await, @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: Bearer realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource"
    x-content-type-options: nosniff
    content-length: 133

    {"success":false,"error":"unauthorized","error_description":"an access token is required: send Authorization: Bearer <access token>"}
    "#);
}

#[tokio::test]
async fn a_scheme_other_than_bearer_counts_as_no_token() {
    insta::assert_snapshot!(get_todos(&["Basic YWxpY2U6c2VjcmV0"]).await, @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: Bearer realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource"
    x-content-type-options: nosniff
    content-length: 133

    {"success":false,"error":"unauthorized","error_description":"an access token is required: send Authorization: Bearer <access token>"}
    "#);
}

#[tokio::test]
async fn a_malformed_token_is_invalid_token() {
    insta::assert_snapshot!(get_todos(&["Bearer not-a-jwt"]).await, @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: Bearer realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="invalid_token", error_description="the access token is not a valid JWT: a compact JWS has 3 dot-separated parts, this has 1 (RFC 7515 Section 7.1)"
    x-content-type-options: nosniff
    content-length: 169

    {"success":false,"error":"invalid_token","error_description":"the access token is not a valid JWT: a compact JWS has 3 dot-separated parts, this has 1 (RFC 7515 §7.1)"}
    "#);
}

#[tokio::test]
async fn two_bearer_headers_are_invalid_request() {
    let token = access_token(TODO_API, SCOPE_READ);
    let one = format!("Bearer {token}");
    insta::assert_snapshot!(get_todos(&[&one, &one]).await, @r#"
    400 Bad Request
    content-type: application/json
    www-authenticate: Bearer realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="invalid_request", error_description="more than one access token was sent; use exactly one method (RFC 6750 Section 2)"
    x-content-type-options: nosniff
    content-length: 140

    {"success":false,"error":"invalid_request","error_description":"more than one access token was sent; use exactly one method (RFC 6750 §2)"}
    "#);
}

#[tokio::test]
async fn a_token_in_the_query_is_refused() {
    let req = request(Method::GET, "/api/todos?access_token=abc").body(Body::empty()).unwrap();
    insta::assert_snapshot!(send(todo_router(), req).await, @r#"
    400 Bad Request
    content-type: application/json
    www-authenticate: Bearer realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="invalid_request", error_description="send the access token in the Authorization header; the access_token query parameter is not supported (RFC 6750 Section 2.3)"
    x-content-type-options: nosniff
    content-length: 183

    {"success":false,"error":"invalid_request","error_description":"send the access token in the Authorization header; the access_token query parameter is not supported (RFC 6750 §2.3)"}
    "#);
}

#[tokio::test]
async fn a_token_for_the_mcp_server_is_not_one_for_the_rest_api() {
    let bearer = format!("Bearer {}", access_token(TODO_MCP, SCOPE_READ));
    insta::assert_snapshot!(get_todos(&[&bearer]).await, @r#"
    401 Unauthorized
    content-type: application/json
    www-authenticate: Bearer realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="invalid_token", error_description="the access token aud is 'http://todo.test/mcp'; it must be 'http://todo.test' (a string, or an array of exactly that one value) (RFC 9068 Section 4)"
    x-content-type-options: nosniff
    content-length: 210

    {"success":false,"error":"invalid_token","error_description":"the access token aud is \"http://todo.test/mcp\"; it must be \"http://todo.test\" (a string, or an array of exactly that one value) (RFC 9068 §4)"}
    "#);
}

#[tokio::test]
async fn writing_with_a_read_token_is_insufficient_scope() {
    let req = with_token(Method::DELETE, "/api/todos/1", SCOPE_READ).body(Body::empty()).unwrap();
    insta::assert_snapshot!(send(todo_router(), req).await, @r#"
    403 Forbidden
    content-type: application/json
    www-authenticate: Bearer realm="todo-api", resource_metadata="http://todo.test/.well-known/oauth-protected-resource", error="insufficient_scope", error_description="this request needs scope 'todos.write'; the access token has 'todos.read' (RFC 6750 Section 3.1)", scope="todos.write"
    x-content-type-options: nosniff
    content-length: 163

    {"success":false,"error":"insufficient_scope","error_description":"this request needs scope \"todos.write\"; the access token has \"todos.read\" (RFC 6750 §3.1)"}
    "#);
}

#[tokio::test]
async fn an_unsupported_method_is_405() {
    let req = request(Method::PUT, "/api/todos").body(Body::empty()).unwrap();
    insta::assert_snapshot!(send(todo_router(), req).await, @r#"
    405 Method Not Allowed
    x-content-type-options: nosniff
    allow: GET,HEAD,POST
    content-length: 0
    "#);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_invalid_request() {
    let req = with_token(Method::POST, "/api/todos", SCOPE_WRITE)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"title\":"))
        .unwrap();
    insta::assert_snapshot!(send(todo_router(), req).await, @r#"
    400 Bad Request
    content-type: application/json
    x-content-type-options: nosniff
    content-length: 208

    {"success":false,"error":"invalid_request","error_description":"the body must be JSON like {\"title\": \"...\"}: Failed to parse the request body as JSON: title: EOF while parsing a value at line 1 column 9"}
    "#);
}

#[tokio::test]
async fn a_body_without_json_content_type_is_invalid_request() {
    let req = with_token(Method::POST, "/api/todos", SCOPE_WRITE).body(Body::from("{\"title\":\"milk\"}")).unwrap();
    insta::assert_snapshot!(send(todo_router(), req).await, @r#"
    400 Bad Request
    content-type: application/json
    x-content-type-options: nosniff
    content-length: 169

    {"success":false,"error":"invalid_request","error_description":"the body must be JSON like {\"title\": \"...\"}: Expected request with `Content-Type: application/json`"}
    "#);
}

#[tokio::test]
async fn an_id_that_is_not_a_number_is_invalid_request() {
    let req = with_token(Method::GET, "/api/todos/abc", SCOPE_READ).body(Body::empty()).unwrap();
    insta::assert_snapshot!(send(todo_router(), req).await, @r#"
    400 Bad Request
    content-type: application/json
    x-content-type-options: nosniff
    content-length: 100

    {"success":false,"error":"invalid_request","error_description":"the todo id must be a whole number"}
    "#);
}

#[tokio::test]
async fn a_valid_token_reaches_the_handler_with_its_claims() {
    let req = with_token(Method::GET, "/api/todos/stats", SCOPE_READ).body(Body::empty()).unwrap();
    insta::assert_snapshot!(send(todo_router(), req).await, @r#"
    200 OK
    content-type: application/json
    x-content-type-options: nosniff
    content-length: 121

    {"success":true,"user":{"sub":"acme:alice","email":"alice@example.test"},"data":{"total":0,"completed":0,"incomplete":0}}
    "#);
}
