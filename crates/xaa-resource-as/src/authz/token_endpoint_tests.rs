//! `POST /token`'s refusals of malformed requests, through the authorization server's router in
//! process: content type, client authentication, then the grant's parameters.

use axum::body::Body;
use axum::http::{Method, Request, header};

use crate::test_support::{as_router, send};

/// `app-at-todo0:s3cret`, the test client's Basic credentials.
const BASIC: &str = "Basic YXBwLWF0LXRvZG8wOnMzY3JldA==";
const JWT_BEARER: &str = "urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer";

async fn token(authorization: Option<&str>, form: &str) -> String {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/token")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(a) = authorization {
        req = req.header(header::AUTHORIZATION, a);
    }
    send(as_router(), req.body(Body::from(form.to_owned())).unwrap()).await
}

#[tokio::test]
async fn a_json_body_is_invalid_request() {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/token")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, BASIC)
        .body(Body::from("{\"grant_type\":\"client_credentials\"}"))
        .unwrap();
    insta::assert_snapshot!(send(as_router(), req).await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 156

    {"error":"invalid_request","error_description":"the token request must be application/x-www-form-urlencoded (RFC 6749 Section 3.2), not 'application/json'"}
    "#);
}

#[tokio::test]
async fn no_client_authentication_is_invalid_client() {
    insta::assert_snapshot!(token(None, &format!("grant_type={JWT_BEARER}&assertion=x")).await, @r#"
    401 Unauthorized
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 172

    {"error":"invalid_client","error_description":"client authentication failed: no client credentials (use client_secret_basic or client_secret_post, RFC 6749 Section 2.3.1)"}
    "#);
}

#[tokio::test]
async fn a_wrong_client_secret_is_invalid_client_with_a_basic_challenge() {
    let wrong = "Basic YXBwLWF0LXRvZG8wOndyb25n";
    insta::assert_snapshot!(token(Some(wrong), &format!("grant_type={JWT_BEARER}&assertion=x")).await, @r#"
    401 Unauthorized
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    www-authenticate: Basic realm="token"
    x-content-type-options: nosniff
    content-length: 146

    {"error":"invalid_client","error_description":"client authentication failed: wrong client_secret for client 'app-at-todo0' (client_secret_basic)"}
    "#);
}

#[tokio::test]
async fn two_client_authentication_methods_are_invalid_request() {
    let form = format!("grant_type={JWT_BEARER}&assertion=x&client_secret=s3cret");
    insta::assert_snapshot!(token(Some(BASIC), &form).await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 153

    {"error":"invalid_request","error_description":"the client used both client_secret_basic and client_secret_post; use exactly one (RFC 6749 Section 2.3)"}
    "#);
}

#[tokio::test]
async fn a_missing_grant_type_is_invalid_request() {
    insta::assert_snapshot!(token(Some(BASIC), "assertion=x").await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 89

    {"error":"invalid_request","error_description":"missing required parameter `grant_type`"}
    "#);
}

#[tokio::test]
async fn another_grant_type_is_unsupported_grant_type() {
    insta::assert_snapshot!(token(Some(BASIC), "grant_type=authorization_code&code=x").await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 184

    {"error":"unsupported_grant_type","error_description":"grant_type 'authorization_code' is not supported here; use 'urn:ietf:params:oauth:grant-type:jwt-bearer' (RFC 7523 Section 2.1)"}
    "#);
}

#[tokio::test]
async fn a_repeated_grant_type_is_invalid_request() {
    let form = format!("grant_type={JWT_BEARER}&grant_type={JWT_BEARER}&assertion=x");
    insta::assert_snapshot!(token(Some(BASIC), &form).await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 163

    {"error":"invalid_request","error_description":"parameter `grant_type` is repeated; request parameters must not be included more than once (RFC 6749 Section 3.2)"}
    "#);
}

#[tokio::test]
async fn a_missing_assertion_is_invalid_request() {
    insta::assert_snapshot!(token(Some(BASIC), &format!("grant_type={JWT_BEARER}")).await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 88

    {"error":"invalid_request","error_description":"missing required parameter `assertion`"}
    "#);
}

#[tokio::test]
async fn an_assertion_that_is_not_a_jwt_is_invalid_grant() {
    insta::assert_snapshot!(token(Some(BASIC), &format!("grant_type={JWT_BEARER}&assertion=not-a-jwt")).await, @r#"
    400 Bad Request
    content-type: application/json
    cache-control: no-store
    pragma: no-cache
    x-content-type-options: nosniff
    content-length: 153

    {"error":"invalid_grant","error_description":"the ID-JAG is not a valid JWT: a compact JWS has 3 dot-separated parts, this has 1 (RFC 7515 Section 7.1)"}
    "#);
}
